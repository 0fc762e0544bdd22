/* report.c — the check report: lines, structured facts, text and JSON
 * renderings, and the fork helper every acting probe runs in. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check/check.h"
#include "common/util.h"

void check_paths_host(struct check_paths *p)
{
        *p = (struct check_paths){
                .proc = "/proc",
                .sys = "/sys",
                .dev_kvm = "/dev/kvm",
                .dev_tun = "/dev/net/tun",
                .tmp = "/tmp",
                .act = true,
        };
}

void check_report_add(struct check_report *r, const char *section, const char *name,
                      enum check_state state, const char *disables, const char *fmt, ...)
{
        r->items = berth_xrealloc(r->items, (r->n_items + 1) * sizeof(*r->items));
        struct check_item *it = &r->items[r->n_items++];
        it->section = berth_xstrdup(section);
        it->name = berth_xstrdup(name);
        it->state = state;
        it->disables = disables ? berth_xstrdup(disables) : NULL;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(&it->detail, fmt, ap) < 0)
                it->detail = berth_xstrdup("");
        va_end(ap);
}

json_t *check_report_section(struct check_report *r, const char *section)
{
        if (r->facts == NULL)
                r->facts = json_object();
        json_t *s = json_object_get(r->facts, section);
        if (s == NULL) {
                s = json_object();
                json_object_set_new(r->facts, section, s);
        }
        return s;
}

size_t check_report_missing(const struct check_report *r)
{
        size_t n = 0;
        for (size_t i = 0; i < r->n_items; i++)
                n += r->items[i].state == CHECK_MISSING;
        return n;
}

void check_run_all(struct check_report *r, const struct check_paths *p)
{
        check_probe_kernel(r, p);
        check_probe_namespaces(r, p);
        check_probe_userns(r, p);
        check_probe_cgroups(r, p);
        check_probe_overlay(r, p);
        check_probe_seccomp(r, p);
        check_probe_kvm(r, p);
        check_probe_cpu(r, p);
        check_probe_net(r, p);
}

static const char *state_word(enum check_state s)
{
        switch (s) {
        case CHECK_OK:
                return "ok";
        case CHECK_NOTE:
                return "note";
        case CHECK_MISSING:
                return "MISSING";
        }
        return "?";
}

/* A growing string; the report is small, so simple appends are fine. */
struct sbuf {
        char *s;
        size_t len, cap;
};

static void __attribute__((format(printf, 2, 3))) sb_printf(struct sbuf *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is just above */
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n <= 0)
                return;
        if (b->len + (size_t) n + 1 > b->cap) {
                b->cap = (b->len + (size_t) n + 1) * 2;
                b->s = berth_xrealloc(b->s, b->cap);
        }
        va_start(ap, fmt);
        vsnprintf(b->s + b->len, (size_t) n + 1, fmt, ap);
        va_end(ap);
        b->len += (size_t) n;
}

char *check_report_text(const struct check_report *r)
{
        struct sbuf b = {0};
        const char *section = NULL;
        for (size_t i = 0; i < r->n_items; i++) {
                const struct check_item *it = &r->items[i];
                if (section == NULL || strcmp(section, it->section) != 0) {
                        section = it->section;
                        sb_printf(&b, "%s%s\n", i ? "\n" : "", section);
                }
                sb_printf(&b, "  %-8s %-12s %s\n", state_word(it->state), it->name, it->detail);
        }
        size_t missing = check_report_missing(r);
        if (missing == 0) {
                sb_printf(&b, "\nAll features usable.\n");
        } else {
                sb_printf(&b, "\n%zu missing:\n", missing);
                for (size_t i = 0; i < r->n_items; i++) {
                        const struct check_item *it = &r->items[i];
                        if (it->state == CHECK_MISSING)
                                sb_printf(&b, "  %s %s: %s; this disables %s\n", it->section,
                                          it->name, it->detail, it->disables);
                }
        }
        return b.s ? b.s : berth_xstrdup("");
}

char *check_report_json(const struct check_report *r)
{
        json_t *root = json_object();
        json_t *checks = json_array();
        json_t *missing = json_array();
        for (size_t i = 0; i < r->n_items; i++) {
                const struct check_item *it = &r->items[i];
                json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "section", it->section, "name",
                                      it->name, "status",
                                      it->state == CHECK_MISSING ? "missing"
                                      : it->state == CHECK_NOTE  ? "note"
                                                                 : "ok",
                                      "detail", it->detail);
                if (it->disables)
                        json_object_set_new(o, "disables", json_string(it->disables));
                if (it->state == CHECK_MISSING)
                        json_array_append(missing, o);
                json_array_append_new(checks, o);
        }
        json_object_set_new(root, "ok", json_boolean(check_report_missing(r) == 0));
        if (r->facts)
                json_object_update(root, r->facts);
        json_object_set_new(root, "checks", checks);
        json_object_set_new(root, "missing", missing);
        char *s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(root);
        if (s == NULL)
                return berth_xstrdup("{}");
        /* json_dumps allocates with malloc; hand back our own copy plus a newline. */
        char *out = berth_xasprintf("%s\n", s);
        free(s);
        return out;
}

void check_report_free(struct check_report *r)
{
        for (size_t i = 0; i < r->n_items; i++) {
                free(r->items[i].section);
                free(r->items[i].name);
                free(r->items[i].detail);
                free(r->items[i].disables);
        }
        free(r->items);
        json_decref(r->facts);
        memset(r, 0, sizeof(*r));
}

/* The child reports failure as {errnum, message} on a pipe. */
int check_in_child(int (*fn)(void *arg, berth_error_t *err), void *arg, berth_error_t *err)
{
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return berth_fail(err, errno, "pipe");
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                close(pfd[0]);
                close(pfd[1]);
                return berth_fail(err, e, "fork");
        }
        if (pid == 0) {
                close(pfd[0]);
                berth_error_t cerr = NULL;
                int ret = fn(arg, &cerr);
                if (ret < 0) {
                        char buf[1024];
                        int errnum = cerr ? cerr->errnum : 0;
                        cleanup_free char *msg = berth_error_chain_text(cerr);
                        memcpy(buf, &errnum, sizeof(errnum));
                        size_t l = (size_t) snprintf(buf + sizeof(errnum),
                                                     sizeof(buf) - sizeof(errnum), "%s", msg);
                        if (l > sizeof(buf) - sizeof(errnum) - 1)
                                l = sizeof(buf) - sizeof(errnum) - 1;
                        (void) berth_write_all(pfd[1], buf, sizeof(errnum) + l);
                }
                _exit(ret < 0 ? 1 : 0);
        }
        close(pfd[1]);
        char buf[1025];
        size_t n = 0;
        for (;;) {
                ssize_t r = read(pfd[0], buf + n, sizeof(buf) - 1 - n);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                n += (size_t) r;
                if (n == sizeof(buf) - 1)
                        break;
        }
        close(pfd[0]);
        int status = 0;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
        if (n >= sizeof(int)) {
                int errnum;
                memcpy(&errnum, buf, sizeof(errnum));
                buf[n] = '\0';
                return berth_fail(err, errnum, "%s", buf + sizeof(errnum));
        }
        if (WIFSIGNALED(status))
                return berth_fail(err, 0, "probe killed by signal %d", WTERMSIG(status));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return berth_fail(err, 0, "probe exited with status %d", WEXITSTATUS(status));
        return 0;
}
