/* process.c — turning a set-up process into the user's process: rlimits,
 * scheduling, user and groups, capabilities, no_new_privs, seccomp, fds, and
 * execve.  Shared by the container's init and `exec`.
 *
 * Capabilities use the raw capset/prctl interface rather than libcap: the
 * five sets are plain bit masks here already, and one less shared library
 * keeps every container start cheaper.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "oci/internal.h"

static const char *env_get(char **env, const char *name)
{
        size_t n = strlen(name);
        for (size_t i = 0; env && env[i]; i++)
                if (strncmp(env[i], name, n) == 0 && env[i][n] == '=')
                        return env[i] + n + 1;
        return NULL;
}

/* 0 if PATH can be executed, else why not (ENOENT: not there; EACCES: not runnable) */
static int exec_check(const char *path)
{
        struct stat st;
        if (stat(path, &st) < 0)
                return errno;
        if (!S_ISREG(st.st_mode))
                return EACCES;
        return access(path, X_OK) < 0 ? errno : 0;
}

int oci_process_resolve(const struct oci_process *p, char **path, berth_error_t *err)
{
        const char *prog = p->args[0];
        if (strchr(prog, '/')) {
                int e = exec_check(prog);
                if (e)
                        return berth_fail_status(err, 1, e, "exec: `%s`: not an executable file",
                                                 prog);
                *path = berth_xstrdup(prog);
                return 0;
        }
        const char *search = env_get(p->env, "PATH");
        if (search == NULL)
                search = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        cleanup_free char *copy = berth_xstrdup(search);
        char *save = NULL;
        for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
                char *cand = berth_xasprintf("%s/%s", *dir ? dir : ".", prog);
                if (exec_check(cand) == 0) {
                        *path = cand;
                        return 0;
                }
                free(cand);
        }
        return berth_fail_status(err, 1, ENOENT, "exec: `%s`: executable file not found in $PATH",
                                 prog);
}

struct sched_attr_v1 {
        uint32_t size, sched_policy;
        uint64_t sched_flags;
        int32_t sched_nice;
        uint32_t sched_priority;
        uint64_t sched_runtime, sched_deadline, sched_period;
};

int oci_process_prepare(const struct oci_process *p, berth_error_t *err)
{
        if (p->ioprio_class != OCI_UNSET) {
                int v = (int) (p->ioprio_class << 13 | p->ioprio_level);
                if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, v) < 0)
                        return berth_fail(err, errno, "set the I/O priority");
        }
        if (p->sched_policy != OCI_UNSET) {
                struct sched_attr_v1 a = {.size = sizeof(a),
                                          .sched_policy = (uint32_t) p->sched_policy,
                                          .sched_flags = p->sched_flags,
                                          .sched_nice = (int32_t) p->sched_nice,
                                          .sched_priority = (uint32_t) p->sched_priority};
                if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
                        return berth_fail(err, errno, "set the scheduler policy");
        }
        return 0;
}

static int last_cap(void)
{
        static int last = -1;
        if (last < 0) {
                char buf[16] = "";
                int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
                if (fd >= 0) {
                        if (read(fd, buf, sizeof(buf) - 1) < 0)
                                buf[0] = 0;
                        close(fd);
                }
                last = buf[0] ? atoi(buf) : 40;
        }
        return last;
}

static int drop_bounding(const struct oci_process *p, berth_error_t *err)
{
        for (int c = 0; c <= last_cap(); c++)
                if (!(p->caps[OCI_CAP_BOUNDING] & (1ULL << c)) &&
                    prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
                        return berth_fail(err, errno, "drop capability %d from the bounding set",
                                          c);
        return 0;
}

int oci_caps_apply(const struct oci_process *p, berth_error_t *err)
{
        uint64_t mask = last_cap() >= 63 ? ~0ULL : (1ULL << (last_cap() + 1)) - 1;
        struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
        struct __user_cap_data_struct d[2];
        uint64_t e = p->caps[OCI_CAP_EFFECTIVE] & mask, pe = p->caps[OCI_CAP_PERMITTED] & mask;
        uint64_t in = p->caps[OCI_CAP_INHERITABLE] & mask;
        d[0] = (struct __user_cap_data_struct){(uint32_t) e, (uint32_t) pe, (uint32_t) in};
        d[1] = (struct __user_cap_data_struct){(uint32_t) (e >> 32), (uint32_t) (pe >> 32),
                                               (uint32_t) (in >> 32)};
        if (syscall(SYS_capset, &h, d) < 0)
                return berth_fail(err, errno, "set capabilities");
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        for (int c = 0; c <= last_cap(); c++)
                if ((p->caps[OCI_CAP_AMBIENT] & (1ULL << c)) &&
                    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
                        log_debug("cannot raise ambient capability %d: %s", c, strerror(errno));
        return 0;
}

static int set_user(const struct oci_process *p, bool in_userns, berth_error_t *err)
{
        /* in a user namespace whose setgroups is "deny" (one mapping our own ids) the groups
         * we have are all there can be: EPERM is no error there */
        if (setgroups(p->n_gids, p->gids) < 0 && !(in_userns && errno == EPERM))
                return berth_fail(err, errno, "set additional groups");
        /* EINVAL in a user namespace: the id has no mapping there */
        const char *why = in_userns ? " (is it mapped in the user namespace?)" : "";
        if (setresgid(p->gid, p->gid, p->gid) < 0)
                return berth_fail(err, errno, "set gid %u%s", (unsigned) p->gid,
                                  errno == EINVAL ? why : "");
        if (p->has_caps && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                return berth_fail(err, errno, "keep capabilities across setuid");
        if (setresuid(p->uid, p->uid, p->uid) < 0)
                return berth_fail(err, errno, "set uid %u%s", (unsigned) p->uid,
                                  errno == EINVAL ? why : "");
        return 0;
}

static int load_seccomp(const struct oci_exec_plan *plan, int *notify_fd, berth_error_t *err)
{
        if (plan->seccomp_bpf)
                return oci_seccomp_load_bpf(plan->seccomp_bpf, err);
        if (oci_seccomp_load(plan->seccomp, notify_fd, err) < 0)
                return -1;
        if (*notify_fd < 0)
                return 0;
        /* to the agent at once (plan->sync_fd): set_user and capset come next */
        int fd = *notify_fd;
        *notify_fd = -1;
        return oci_seccomp_hand_over(plan->sync_fd, fd, err);
}

/* HOME of uid in the container's /etc/passwd, or "/" (runc's fallback); newly allocated. */
static char *passwd_home(uid_t uid)
{
        cleanup_file FILE *f = fopen("/etc/passwd", "re");
        char line[1024];
        while (f && fgets(line, sizeof(line), f)) {
                char *field[7] = {0}, *cur = line;
                int n = 0;
                /* strsep, not strtok: empty fields (no password, no gecos) count */
                while (n < 7 && (field[n] = strsep(&cur, ":\n")) != NULL)
                        n++;
                if (n >= 6 && field[2] && strtoul(field[2], NULL, 10) == uid && *field[2] &&
                    field[5] && *field[5])
                        return berth_xstrdup(field[5]);
        }
        return berth_xstrdup("/");
}

/* p's environment, with HOME added when it has none, as runc does for every process */
static char **env_with_home(const struct oci_process *p)
{
        if (env_get(p->env, "HOME"))
                return p->env;
        size_t n = 0;
        while (p->env && p->env[n])
                n++;
        char **env = berth_xcalloc(n + 2, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                env[i] = p->env[i];
        cleanup_free char *home = passwd_home(p->uid);
        env[n] = berth_xasprintf("HOME=%s", home);
        return env;
}

static char **final_env; /* the environment oci_process_finalize settled */

int oci_process_finalize(const struct oci_exec_plan *plan, int *notify_fd, berth_error_t *err)
{
        const struct oci_process *p = plan->proc;
        *notify_fd = -1;
        /* Nothing of the runtime's may reach the user's process.  First, before
         * the container's seccomp filter could forbid close_range. */
        for (int fd = 3; fd < 3 + plan->preserve_fds; fd++) {
                int fl = fcntl(fd, F_GETFD);
                if (fl >= 0)
                        fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
        }
        if (syscall(SYS_close_range, 3 + plan->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                return berth_fail(err, errno, "close the runtime's file descriptors");
        /* before the user changes and seccomp applies: /etc/passwd is read as root */
        final_env = env_with_home(p);
        /* As runc's: every process a runtime starts leads a session of its own, so it is
         * no part of its caller's job control (a terminal already made it one).  EPERM only
         * for a group leader, which keeps its session: not an error. */
        if (getsid(0) != getpid())
                (void) setsid();
        for (size_t i = 0; i < p->n_rlimits; i++) {
                struct rlimit rl = {p->rlimits[i].soft, p->rlimits[i].hard};
                if (setrlimit(p->rlimits[i].resource, &rl) < 0)
                        return berth_fail(err, errno, "set rlimit %d", p->rlimits[i].resource);
        }
        /* Without no_new_privs, installing a filter needs CAP_SYS_ADMIN: do it
         * while we still hold it.  With it, as late as possible, so the filter
         * needn't allow what the runtime does between here and execve. */
        if (plan->seccomp && !p->no_new_privileges && load_seccomp(plan, notify_fd, err) < 0)
                return -1;
        if (p->has_caps && drop_bounding(p, err) < 0)
                return -1;
        if (set_user(p, plan->in_userns, err) < 0)
                return -1;
        if (p->has_caps && oci_caps_apply(p, err) < 0)
                return -1;
        if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return berth_fail(err, errno, "set no_new_privs");
        if (plan->seccomp && p->no_new_privileges && load_seccomp(plan, notify_fd, err) < 0)
                return -1;
        return 0;
}

int oci_process_execve(const struct oci_exec_plan *plan, berth_error_t *err)
{
        const struct oci_process *p = plan->proc;
        /* A signal mask survives execve: whatever the runtime's caller blocked
         * (berth's monitor blocks SIGCHLD for its signalfd) must not leak
         * into the container, where a shell would then never reap its jobs.
         * Ignored dispositions survive too; defaults, as a fresh process. */
        for (int sig = 1; sig < NSIG; sig++)
                if (sig != SIGKILL && sig != SIGSTOP)
                        signal(sig, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(plan->path, p->args, final_env);
        return berth_fail_status(err, 1, errno, "exec `%s`", plan->path);
}
