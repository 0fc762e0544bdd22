/* seccomp.c — linux.seccomp → a libseccomp filter loaded into this process.
 *
 * Syscall names this libseccomp does not know are skipped (as runc does), so
 * that one profile serves many kernels.  Several conditions on the same
 * argument cannot be ANDed by the kernel's filter; like runc, such a rule
 * becomes one rule per condition (OR).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/fdpass.h"
#include "common/util.h"
#include "oci/internal.h"

static uint32_t action(uint32_t a, int64_t errno_ret)
{
        if (a == SCMP_ACT_ERRNO(0))
                return SCMP_ACT_ERRNO(errno_ret == OCI_UNSET ? EPERM : (uint32_t) errno_ret);
        if (a == SCMP_ACT_TRACE(0))
                return SCMP_ACT_TRACE(errno_ret == OCI_UNSET ? EPERM : (uint32_t) errno_ret);
        return a;
}

static int set_flags(scmp_filter_ctx ctx, const struct oci_seccomp *sc, berth_error_t *err)
{
        for (size_t i = 0; i < sc->n_flags; i++) {
                const char *f = sc->flags[i];
                enum scmp_filter_attr attr;
                if (strcmp(f, "SECCOMP_FILTER_FLAG_TSYNC") == 0)
                        attr = SCMP_FLTATR_CTL_TSYNC;
                else if (strcmp(f, "SECCOMP_FILTER_FLAG_LOG") == 0)
                        attr = SCMP_FLTATR_CTL_LOG;
                else if (strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
                        attr = SCMP_FLTATR_CTL_SSB;
                else
                        return berth_fail(err, ENOTSUP, "seccomp flag `%s` is not supported", f);
                int r = seccomp_attr_set(ctx, attr, 1);
                if (r < 0)
                        return berth_fail(err, -r, "set seccomp flag `%s`", f);
        }
        return 0;
}

static int add_rule(scmp_filter_ctx ctx, const struct oci_seccomp_rule *r, uint32_t def,
                    berth_error_t *err)
{
        uint32_t act = action(r->action, r->errno_ret);
        struct scmp_arg_cmp cmp[6];
        bool repeated = false;
        if (act == def)
                return 0; /* libseccomp refuses rules equal to the default */
        for (size_t i = 0; i < r->n_args && i < 6; i++) {
                cmp[i] = (struct scmp_arg_cmp){r->args[i].index, (enum scmp_compare) r->args[i].op,
                                               r->args[i].value, r->args[i].value_two};
                for (size_t k = 0; k < i; k++)
                        repeated |= r->args[k].index == r->args[i].index;
        }
        for (size_t n = 0; n < r->n_names; n++) {
                int nr = seccomp_syscall_resolve_name(r->names[n]);
                int rc = 0;
                if (nr == __NR_SCMP_ERROR) {
                        log_debug("seccomp: unknown syscall `%s` skipped", r->names[n]);
                        continue;
                }
                if (!repeated) {
                        rc = seccomp_rule_add_array(ctx, act, nr, (unsigned) r->n_args, cmp);
                } else {
                        for (size_t i = 0; i < r->n_args && rc == 0; i++)
                                rc = seccomp_rule_add_array(ctx, act, nr, 1, &cmp[i]);
                }
                if (rc < 0)
                        return berth_fail(err, -rc, "add seccomp rule for `%s`", r->names[n]);
        }
        return 0;
}

/* Hand the notify fd to the listener with runc's containerProcessState. */
static int send_listener(const struct oci_seccomp *sc, int nfd, berth_error_t *err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        cleanup_close int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (strlen(sc->listener_path) >= sizeof(sa.sun_path))
                return berth_fail(err, ENAMETOOLONG, "seccomp listenerPath is too long");
        strcpy(sa.sun_path, sc->listener_path);
        if (s < 0 || connect(s, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return berth_fail(err, errno, "connect to seccomp listener `%s`",
                                  sc->listener_path);
        json_t *j = json_pack("{s:s, s:[s], s:I, s:s}", "ociVersion", "1.1.0", "fds", "seccompFd",
                              "pid", (json_int_t) getpid(), "metadata",
                              sc->listener_metadata ? sc->listener_metadata : "");
        cleanup_free char *text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        if (berth_send_fd(s, nfd, text, strlen(text), err) < 0)
                return berth_wrap(err, "send the seccomp fd to `%s`", sc->listener_path);
        return 0;
}

/* The libseccomp filter of sc, not loaded yet. */
static scmp_filter_ctx build(const struct oci_seccomp *sc, berth_error_t *err)
{
        uint32_t def = action(sc->default_action, sc->default_errno_ret);
        scmp_filter_ctx ctx = seccomp_init(def);
        int rc;
        if (ctx == NULL) {
                berth_fail(err, EINVAL, "initialize the seccomp filter");
                return NULL;
        }
        for (size_t i = 0; i < sc->n_archs; i++) {
                rc = seccomp_arch_add(ctx, sc->archs[i]);
                if (rc < 0 && rc != -EEXIST) {
                        berth_fail(err, -rc, "add seccomp architecture");
                        goto fail;
                }
        }
        /* libseccomp sets no_new_privs by default; only process.noNewPrivileges may. */
        rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (rc < 0) {
                berth_fail(err, -rc, "configure the seccomp filter");
                goto fail;
        }
        if (set_flags(ctx, sc, err) < 0)
                goto fail;
        for (size_t i = 0; i < sc->n_rules; i++)
                if (add_rule(ctx, &sc->rules[i], def, err) < 0)
                        goto fail;
        return ctx;
fail:
        seccomp_release(ctx);
        return NULL;
}

int oci_seccomp_bpf(const struct oci_seccomp *sc, const char *dir, struct sock_fprog *prog,
                    berth_error_t *err)
{
        *prog = (struct sock_fprog){0};
        /* flags and notify change how the filter is loaded, not only what it is */
        if (sc->n_flags || sc->listener_path || sc->default_action == SCMP_ACT_NOTIFY)
                return 0;
        for (size_t i = 0; i < sc->n_rules; i++)
                if (sc->rules[i].action == SCMP_ACT_NOTIFY)
                        return 0;
        cleanup_free char *path = berth_xasprintf("%s/seccomp.bpf", dir);
        cleanup_free char *text = NULL;
        size_t len = 0;
        berth_error_t ignored = NULL;
        if (berth_read_file(path, &text, &len, &ignored) < 0) {
                berth_error_release(&ignored);
                scmp_filter_ctx ctx = build(sc, err);
                if (ctx == NULL)
                        return -1;
                cleanup_free char *tmp = berth_xasprintf("%s.%d", path, (int) getpid());
                cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                int rc = fd < 0 ? -errno : seccomp_export_bpf(ctx, fd);
                seccomp_release(ctx);
                if (rc < 0 || rename(tmp, path) < 0) {
                        unlink(tmp);
                        return berth_fail(err, rc < 0 ? -rc : errno, "cache the seccomp filter");
                }
                if (berth_read_file(path, &text, &len, err) < 0)
                        return -1;
        }
        size_t n = len / sizeof(struct sock_filter);
        if (len == 0 || len % sizeof(struct sock_filter) || n > 0xffff)
                return berth_fail(err, EINVAL, "`%s` is not a seccomp filter", path);
        prog->len = (unsigned short) n;
        prog->filter = (struct sock_filter *) (void *) berth_steal_ptr(&text);
        return 0;
}

int oci_seccomp_load_bpf(const struct sock_fprog *prog, berth_error_t *err)
{
        if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, prog) < 0)
                return berth_fail(err, errno, "load the seccomp filter");
        return 0;
}

int oci_seccomp_load(const struct oci_seccomp *sc, berth_error_t *err)
{
        scmp_filter_ctx ctx = build(sc, err);
        int rc;
        if (ctx == NULL)
                return -1;
        rc = seccomp_load(ctx);
        if (rc < 0) {
                berth_fail(err, -rc, "load the seccomp filter");
                goto fail;
        }
        if (sc->listener_path) {
                int nfd = seccomp_notify_fd(ctx);
                if (nfd < 0) {
                        berth_fail(err, -nfd, "get the seccomp notify fd");
                        goto fail;
                }
                rc = send_listener(sc, nfd, err);
                close(nfd);
                if (rc < 0)
                        goto fail;
        }
        seccomp_release(ctx);
        return 0;
fail:
        seccomp_release(ctx);
        return -1;
}
