/* seccomp.c — linux.seccomp → a libseccomp filter loaded into this process.
 *
 * Syscall names this libseccomp does not know are skipped (as runc does), so
 * that one profile serves many kernels.  Several conditions on the same
 * argument cannot be ANDed by the kernel's filter; like runc, such a rule
 * becomes one rule per condition (OR).
 *
 * The filter is loaded with seccomp(2) ourselves, not seccomp_load(), so that
 * runc's -ENOSYS stub can go in front of libseccomp's program: with a default
 * action that is not "allow", a syscall newer than every syscall the profile
 * names (on an architecture it lists) fails with ENOSYS, as a kernel that
 * predates it would answer, so that libc falls back (clone3 → clone).  The
 * stub's test is runc 1.1's: "newer" is "a larger number on that
 * architecture".
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/log.h"
#include "common/util.h"
#include "oci/internal.h"

#ifndef FLAG_TSYNC_ESRCH
#define FLAG_TSYNC_ESRCH (1U << 4) /* SECCOMP_FILTER_FLAG_TSYNC_ESRCH, Linux 5.7 */
#endif
#define X32_SYSCALL_BIT 0x40000000U

bool oci_seccomp_notifies(const struct oci_seccomp *sc)
{
        if (sc->default_action == SCMP_ACT_NOTIFY)
                return true;
        for (size_t i = 0; i < sc->n_rules; i++)
                if (sc->rules[i].action == SCMP_ACT_NOTIFY)
                        return true;
        return false;
}

static uint32_t action(uint32_t a, int64_t errno_ret)
{
        if (a == SCMP_ACT_ERRNO(0))
                return SCMP_ACT_ERRNO(errno_ret == OCI_UNSET ? EPERM : (uint32_t) errno_ret);
        if (a == SCMP_ACT_TRACE(0))
                return SCMP_ACT_TRACE(errno_ret == OCI_UNSET ? EPERM : (uint32_t) errno_ret);
        return a;
}

/* The seccomp(2) flags of linux.seccomp.flags, and NEW_LISTENER for a filter that notifies. */
static int filter_flags(const struct oci_seccomp *sc, unsigned *flags, berth_error_t *err)
{
        *flags = 0;
        for (size_t i = 0; i < sc->n_flags; i++) {
                const char *f = sc->flags[i];
                if (strcmp(f, "SECCOMP_FILTER_FLAG_TSYNC") == 0)
                        *flags |= SECCOMP_FILTER_FLAG_TSYNC;
                else if (strcmp(f, "SECCOMP_FILTER_FLAG_LOG") == 0)
                        *flags |= SECCOMP_FILTER_FLAG_LOG;
                else if (strcmp(f, "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
                        *flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
                else
                        return berth_fail(err, ENOTSUP, "seccomp flag `%s` is not supported", f);
        }
        if (oci_seccomp_notifies(sc)) {
                *flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
                /* the kernel refuses TSYNC with a listener unless told how to fail */
                if (*flags & SECCOMP_FILTER_FLAG_TSYNC)
                        *flags |= FLAG_TSYNC_ESRCH;
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
        for (size_t i = 0; i < sc->n_rules; i++)
                if (add_rule(ctx, &sc->rules[i], def, err) < 0)
                        goto fail;
        return ctx;
fail:
        seccomp_release(ctx);
        return NULL;
}

/* ------------------------------------------------------------ -ENOSYS stub */

enum { L_FILTER = -1, L_ENOSYS = -2 }; /* jump targets; >= 0: an architecture's section */

struct stub {
        struct sock_filter ins[256];
        int target[256]; /* of each BPF_JA: a label above, or a section; else INT32_MIN */
        size_t n;
};

static void emit(struct stub *b, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
        b->ins[b->n] = (struct sock_filter){code, jt, jf, k};
        b->target[b->n++] = INT32_MIN;
}

static void jump(struct stub *b, int target)
{
        emit(b, BPF_JMP | BPF_JA, 0, 0, 0);
        b->target[b->n - 1] = target;
}

/* "> max: -ENOSYS, else the filter", on the syscall number already loaded */
static void above_max(struct stub *b, uint32_t max)
{
        emit(b, BPF_JMP | BPF_JGT | BPF_K, max, 0, 1);
        jump(b, L_ENOSYS);
        jump(b, L_FILTER);
}

struct arch_max {
        uint32_t audit;       /* the kernel's AUDIT_ARCH_* */
        uint32_t native, x32; /* largest syscall named: x86-64 (or the arch's own), x32 */
        bool s390;
};

/* The largest syscall number the profile names on arch; 0 if it names none there. */
static uint32_t largest(const struct oci_seccomp *sc, uint32_t arch)
{
        uint32_t max = 0;
        for (size_t i = 0; i < sc->n_rules; i++)
                for (size_t n = 0; n < sc->rules[i].n_names; n++) {
                        int nr = seccomp_syscall_resolve_name_arch(arch, sc->rules[i].names[n]);
                        if (nr > 0 && (uint32_t) nr > max)
                                max = (uint32_t) nr;
                }
        return max;
}

/* runc's stub for sc into b; b->n stays 0 where it would change nothing. */
static void enosys_stub(const struct oci_seccomp *sc, uint32_t def, struct stub *b)
{
        struct arch_max m[16];
        size_t nm = 0;
        b->n = 0;
        /* an "allow" default already lets the kernel answer ENOSYS (trace: the tracer) */
        if (def == SCMP_ACT_ALLOW || def == SCMP_ACT_LOG ||
            (def & 0xffff0000U) == SCMP_ACT_TRACE(0))
                return;
        for (size_t i = 0; i < sc->n_archs && nm < BERTH_ARRAY_SIZE(m); i++) {
                uint32_t arch =
                        sc->archs[i] == SCMP_ARCH_NATIVE ? seccomp_arch_native() : sc->archs[i];
                /* x32 is x86-64's AUDIT_ARCH with the syscall number's bit 30 set */
                uint32_t audit = arch == SCMP_ARCH_X32 ? SCMP_ARCH_X86_64 : arch;
                uint32_t max = largest(sc, arch);
                size_t k = 0;
                if (max == 0)
                        continue;
                while (k < nm && m[k].audit != audit)
                        k++;
                if (k == nm)
                        m[nm++] = (struct arch_max){.audit = audit,
                                                    .s390 = arch == SCMP_ARCH_S390 ||
                                                            arch == SCMP_ARCH_S390X};
                if (arch == SCMP_ARCH_X32)
                        m[k].x32 = max;
                else
                        m[k].native = max;
        }
        if (nm == 0)
                return;
        emit(b, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch), 0, 0);
        for (size_t k = 0; k < nm; k++) {
                emit(b, BPF_JMP | BPF_JEQ | BPF_K, m[k].audit, 0, 1);
                jump(b, (int) k);
        }
        jump(b, L_FILTER);
        int section[16];
        for (size_t k = 0; k < nm; k++) {
                section[k] = (int) b->n;
                emit(b, BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr), 0, 0);
                if (m[k].s390) {
                        /* unknown large syscalls arrive as setup(2), number 0 */
                        emit(b, BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1);
                        jump(b, L_ENOSYS);
                }
                if (m[k].audit != AUDIT_ARCH_X86_64) {
                        above_max(b, m[k].native);
                } else if (m[k].native && m[k].x32) {
                        emit(b, BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, 0, 3);
                        above_max(b, m[k].x32);
                        above_max(b, m[k].native);
                } else if (m[k].native) {
                        emit(b, BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, 0, 1);
                        jump(b, L_FILTER); /* x32 calls: the filter decides */
                        above_max(b, m[k].native);
                } else {
                        emit(b, BPF_JMP | BPF_JSET | BPF_K, X32_SYSCALL_BIT, 1, 0);
                        jump(b, L_FILTER);
                        above_max(b, m[k].x32);
                }
        }
        size_t enosys = b->n;
        emit(b, BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS, 0, 0);
        size_t filter = b->n;
        for (size_t i = 0; i < b->n; i++) {
                int t = b->target[i];
                size_t to;
                if (t == INT32_MIN)
                        continue;
                to = t == L_FILTER ? filter : t == L_ENOSYS ? enosys : (size_t) section[t];
                b->ins[i].k = (uint32_t) (to - i - 1);
        }
}

/* sc as a classic BPF program (prog->filter allocated): libseccomp's, after the stub. */
static int compile(const struct oci_seccomp *sc, struct sock_fprog *prog, berth_error_t *err)
{
        struct stub b;
        *prog = (struct sock_fprog){0};
        scmp_filter_ctx ctx = build(sc, err);
        if (ctx == NULL)
                return -1;
        cleanup_close int fd = memfd_create("seccomp", MFD_CLOEXEC);
        int rc = fd < 0 ? -errno : seccomp_export_bpf(ctx, fd);
        seccomp_release(ctx);
        if (rc < 0)
                return berth_fail(err, -rc, "compile the seccomp filter");
        off_t len = lseek(fd, 0, SEEK_END);
        size_t n = len > 0 ? (size_t) len / sizeof(struct sock_filter) : 0;
        if (len <= 0 || (size_t) len % sizeof(struct sock_filter))
                return berth_fail(err, EINVAL, "libseccomp made no seccomp program");
        enosys_stub(sc, action(sc->default_action, sc->default_errno_ret), &b);
        if (b.n + n > BPF_MAXINSNS)
                return berth_fail(err, E2BIG,
                                  "the seccomp filter has %zu instructions, more than the "
                                  "kernel's %d",
                                  b.n + n, BPF_MAXINSNS);
        struct sock_filter *ins = berth_xcalloc(b.n + n, sizeof(*ins));
        memcpy(ins, b.ins, b.n * sizeof(*ins));
        if (pread(fd, ins + b.n, (size_t) len, 0) != len) {
                free(ins);
                return berth_fail(err, errno ? errno : EIO, "read the seccomp program back");
        }
        if (b.n)
                log_debug("seccomp: %zu-instruction -ENOSYS stub in front of the filter", b.n);
        prog->len = (unsigned short) (b.n + n);
        prog->filter = ins;
        return 0;
}

int oci_seccomp_bpf(const struct oci_seccomp *sc, const char *dir, struct sock_fprog *prog,
                    berth_error_t *err)
{
        *prog = (struct sock_fprog){0};
        /* flags and notify change how the filter is loaded, not only what it is */
        if (sc->n_flags || sc->listener_path || oci_seccomp_notifies(sc))
                return 0;
        cleanup_free char *path = berth_xasprintf("%s/seccomp.bpf", dir);
        cleanup_free char *text = NULL;
        size_t len = 0;
        berth_error_t ignored = NULL;
        if (berth_read_file(path, &text, &len, &ignored) < 0) {
                berth_error_release(&ignored);
                struct sock_fprog p;
                if (compile(sc, &p, err) < 0)
                        return -1;
                cleanup_free char *tmp = berth_xasprintf("%s.%d", path, (int) getpid());
                cleanup_close int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                size_t size = p.len * sizeof(struct sock_filter);
                bool ok = fd >= 0 && write(fd, p.filter, size) == (ssize_t) size;
                int e = errno;
                free(p.filter);
                if (!ok || rename(tmp, path) < 0) {
                        e = ok ? errno : e;
                        unlink(tmp);
                        return berth_fail(err, e, "cache the seccomp filter");
                }
                if (berth_read_file(path, &text, &len, err) < 0)
                        return -1;
        }
        size_t n = len / sizeof(struct sock_filter);
        if (len == 0 || len % sizeof(struct sock_filter) || n > BPF_MAXINSNS)
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

int oci_seccomp_load(const struct oci_seccomp *sc, int *notify_fd, berth_error_t *err)
{
        struct sock_fprog prog;
        unsigned flags;
        *notify_fd = -1;
        if (filter_flags(sc, &flags, err) < 0 || compile(sc, &prog, err) < 0)
                return -1;
        long r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &prog);
        int e = errno;
        free(prog.filter);
        if (r < 0)
                return berth_fail(err, e, "load the seccomp filter");
        /* TSYNC without a listener: a positive answer is the thread that kept the filter out */
        if (r > 0 && !(flags & SECCOMP_FILTER_FLAG_NEW_LISTENER))
                return berth_fail(err, ESRCH, "load the seccomp filter: thread %ld not synced", r);
        if (flags & SECCOMP_FILTER_FLAG_NEW_LISTENER)
                *notify_fd = (int) r;
        return 0;
}

/* --------------------------------------------------------- notify listener */

int oci_seccomp_send_listener(const struct oci_seccomp *sc, const struct oci_state *st,
                              enum oci_status status, pid_t pid, int notify_fd, berth_error_t *err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (sc->listener_path == NULL)
                return berth_fail(err, EINVAL, "seccomp notify without a listenerPath");
        if (strlen(sc->listener_path) >= sizeof(sa.sun_path))
                return berth_fail(err, ENAMETOOLONG, "seccomp listenerPath `%s` is too long",
                                  sc->listener_path);
        strcpy(sa.sun_path, sc->listener_path);
        /* the process waits for us: its fd, ours too, without its help */
        cleanup_close int pidfd = (int) syscall(SYS_pidfd_open, pid, 0);
        if (pidfd < 0)
                return berth_fail(err, errno, "pidfd_open of process %d", (int) pid);
        cleanup_close int nfd = (int) syscall(SYS_pidfd_getfd, pidfd, notify_fd, 0);
        if (nfd < 0)
                return berth_fail(err, errno, "take the seccomp notify fd of process %d",
                                  (int) pid);
        cleanup_close int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0 || connect(s, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return berth_fail(err, errno, "connect to the seccomp agent at `%s`",
                                  sc->listener_path);
        /* runc's containerProcessState: the runtime-spec state, and no empty metadata */
        json_t *full = oci_state_json(st, status);
        json_t *state = json_pack("{s:s, s:s, s:s, s:I, s:s}", "ociVersion", OCI_SPEC_VERSION, "id",
                                  st->id, "status", oci_status_name(status), "pid",
                                  (json_int_t) st->pid, "bundle", st->bundle);
        json_t *ann = json_object_get(full, "annotations");
        if (ann)
                json_object_set(state, "annotations", ann);
        json_decref(full);
        json_t *j = json_pack("{s:s, s:[s], s:I}", "ociVersion", OCI_SPEC_VERSION, "fds",
                              "seccompFd", "pid", (json_int_t) pid);
        if (sc->listener_metadata && *sc->listener_metadata)
                json_object_set_new(j, "metadata", json_string(sc->listener_metadata));
        json_object_set_new(j, "state", state);
        cleanup_free char *text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        log_debug("seccomp: sending the notify fd of process %d to `%s`", (int) pid,
                  sc->listener_path);
        if (berth_send_fd(s, nfd, text, strlen(text), err) < 0)
                return berth_wrap(err, "send the seccomp notify fd to `%s`", sc->listener_path);
        return 0;
}
