/* exec.c — a command run in a running container from a forked helper (see exec.h).
 *
 * The helper is forked from whatever thread asks; glibc keeps malloc and stdio usable in the
 * child of a multi-threaded fork, and the helper touches nothing else of its parent's before
 * oci_exec.  It stays the process's parent (oci_exec's detach mode returns once the process
 * runs), so it can wait for it and report the status. */
#include "engine/exec.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/units.h"
#include "common/util.h"
#include "oci/oci.h"

void eng_exec_new_id(char id[65])
{
        unsigned char rnd[32];
        if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t) sizeof(rnd))
                /* getrandom does not fail for 32 bytes once the pool is ready; ids need only
                 * be unique, not secret */
                for (size_t i = 0; i < sizeof(rnd); i++)
                        rnd[i] = (unsigned char) ((uint64_t) berth_now_ns() >> (i % 8) ^ getpid());
        for (size_t i = 0; i < sizeof(rnd); i++)
                snprintf(id + 2 * i, 3, "%02x", rnd[i]);
}

/* What the helper writes on its report pipe: one message each, under PIPE_BUF, so atomic. */
struct report {
        int kind;
        int value;  /* STARTED: the pid; EXITED: the status */
        int errnum; /* FAILED */
        char msg[1000];
};
enum { REPORT_STARTED = 1, REPORT_FAILED, REPORT_EXITED };

/* `docker exec --privileged`, as `berth exec` gives it (cli/cmd_exec.c). */
static const char *const privileged_caps[] = {"CAP_SYS_ADMIN",  "CAP_NET_ADMIN", "CAP_SYS_PTRACE",
                                              "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_TIME",
                                              "CAP_MKNOD",      "CAP_NET_RAW",   "CAP_IPC_LOCK"};

static void say(int fd, int kind, int value, int errnum, const char *msg)
{
        struct report r = {.kind = kind, .value = value, .errnum = errnum};
        if (msg)
                snprintf(r.msg, sizeof(r.msg), "%s", msg);
        ssize_t n;
        do
                n = write(fd, &r, sizeof(r));
        while (n < 0 && errno == EINTR);
}

static void close_range_safe(unsigned from, unsigned to)
{
        if (from <= to)
                syscall(SYS_close_range, from, to, 0);
}

/* Every inherited fd but stdio, a and b (b may be -1): the parent's other connections and
 * pipes must not stay open for as long as the exec runs. */
static void close_others(int a, int b)
{
        int lo = a < b ? a : b, hi = a < b ? b : a;
        if (lo < 0) {
                close_range_safe(3, (unsigned) hi - 1);
                close_range_safe((unsigned) hi + 1, ~0U);
                return;
        }
        close_range_safe(3, (unsigned) lo - 1);
        close_range_safe((unsigned) lo + 1, (unsigned) hi - 1);
        close_range_safe((unsigned) hi + 1, ~0U);
}

__attribute__((noreturn)) static void helper_main(const char *oci_root, const char *id,
                                                  const struct eng_exec_spec *s, int report)
{
        /* CVE-2016-9962 / CVE-2019-5736: until the process execs, it is a copy of the
         * service's binary inside the container; non-dumpable, its /proc/PID/exe can't be
         * opened from there.  Rootless, it must stay dumpable (see monitor.c). */
        const char *rootless = getenv("BERTH_ROOTLESS_UID");
        if (geteuid() == 0 && (rootless == NULL || *rootless == '\0'))
                prctl(PR_SET_DUMPABLE, 0);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int i = 0; i < 3; i++) {
                int fd = s->tty || s->stdio[i] < 0 ? null : s->stdio[i];
                if (fd < 0 || dup2(fd, i) < 0) {
                        say(report, REPORT_FAILED, 0, errno, "set up the exec's stdio");
                        _exit(1);
                }
        }
        int console = s->tty ? s->console : -1;
        close_others(report, console);
        char *caps[BERTH_ARRAY_SIZE(privileged_caps)];
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(privileged_caps); i++)
                caps[i] = berth_xstrdup(privileged_caps[i]);
        struct oci_ctx oci = {.root = oci_root};
        pid_t pid = 0;
        int status = 0;
        struct oci_exec_opts o = {
                .args = s->args,
                .tty = s->tty,
                .cwd = s->cwd,
                .env = s->env,
                .n_env = s->n_env,
                .user = s->user,
                .user_gids = s->user ? s->gids : NULL,
                .caps = s->privileged ? caps : NULL,
                .n_caps = s->privileged ? BERTH_ARRAY_SIZE(privileged_caps) : 0,
                .detach = true,
                .console_fd = console,
                .pid_out = &pid,
        };
        berth_error_t err = NULL;
        if (oci_exec(&oci, id, &o, &status, &err) < 0) {
                /* the text without strerror: the parent's error adds it back from errnum */
                say(report, REPORT_FAILED, 0, err ? err->errnum : 0, berth_error_chain_text(err));
                _exit(1);
        }
        /* from now on only the process holds its stdio: its exit is their end */
        null = open("/dev/null", O_RDWR);
        for (int i = 0; i < 3; i++)
                dup2(null, i);
        if (console >= 0)
                close(console);
        say(report, REPORT_STARTED, (int) pid, 0, NULL);
        int ws = 0;
        while (waitpid(pid, &ws, 0) < 0)
                if (errno != EINTR) {
                        say(report, REPORT_EXITED, -1, 0, NULL);
                        _exit(1);
                }
        say(report, REPORT_EXITED, WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws), 0, NULL);
        _exit(0);
}

int eng_exec_spawn(const char *oci_root, const char *id, const struct eng_exec_spec *s,
                   struct eng_exec_proc *p, berth_error_t *err)
{
        int rp[2];
        *p = (struct eng_exec_proc){.helper = -1, .report_fd = -1};
        if (pipe2(rp, O_CLOEXEC) < 0)
                return berth_fail(err, errno, "pipe");
        pid_t h = fork();
        if (h < 0) {
                int e = errno;
                close(rp[0]);
                close(rp[1]);
                return berth_fail(err, e, "fork the exec helper");
        }
        if (h == 0) {
                close(rp[0]);
                helper_main(oci_root, id, s, rp[1]);
        }
        close(rp[1]);
        p->helper = h;
        p->report_fd = rp[0];
        return 0;
}

static int reap(struct eng_exec_proc *p)
{
        if (p->helper > 0)
                while (waitpid(p->helper, NULL, 0) < 0 && errno == EINTR)
                        ;
        p->helper = -1;
        if (p->report_fd >= 0)
                close(p->report_fd);
        p->report_fd = -1;
        return -1;
}

static bool next_report(int fd, struct report *r)
{
        ssize_t n;
        do
                n = read(fd, r, sizeof(*r));
        while (n < 0 && errno == EINTR);
        return n == (ssize_t) sizeof(*r);
}

int eng_exec_started(struct eng_exec_proc *p, berth_error_t *err)
{
        struct report r;
        if (!next_report(p->report_fd, &r)) {
                reap(p);
                return berth_fail(err, EIO, "the exec helper ended before the process started");
        }
        if (r.kind == REPORT_FAILED) {
                reap(p);
                return berth_fail(err, r.errnum, "%s", r.msg);
        }
        p->pid = (pid_t) r.value;
        return 0;
}

int eng_exec_wait(struct eng_exec_proc *p)
{
        struct report r;
        int status = -1;
        while (next_report(p->report_fd, &r))
                if (r.kind == REPORT_EXITED) {
                        status = r.value;
                        break;
                }
        reap(p);
        return status;
}
