/* linux.c — the container's init between clone() and execve().
 *
 * Runs in the cloned child.  Order matters and follows the runtime spec:
 * wait for the parent (id maps written, cgroup joined), join and create
 * namespaces, build the rootfs (mounts, devices), hooks, pivot_root, masked
 * and read-only paths, terminal; report READY; then block on exec.fifo until
 * `start`, and become the user's process.  Errors before READY travel to the
 * parent over the sync socket, which prints them once.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/idmap.h"
#include "common/log.h"
#include "common/util.h"
#include "oci/internal.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

const struct oci_ns_kind oci_ns_kinds[8] = {
        {CLONE_NEWUSER, "user"}, {CLONE_NEWIPC, "ipc"},       {CLONE_NEWUTS, "uts"},
        {CLONE_NEWNET, "net"},   {CLONE_NEWCGROUP, "cgroup"}, {CLONE_NEWNS, "mnt"},
        {CLONE_NEWPID, "pid"},   {CLONE_NEWTIME, "time"},
};

int oci_sync_send(int fd, int type, const berth_error_t *err)
{
        struct oci_sync_msg m = {.type = type};
        if (err && *err) {
                m.errnum = (*err)->errnum;
                snprintf(m.text, sizeof(m.text), "%s", berth_error_msg(*err));
        }
        size_t len = offsetof(struct oci_sync_msg, text) + strlen(m.text) + 1;
        return send(fd, &m, len, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

int oci_sync_recv(int fd, struct oci_sync_msg *m, berth_error_t *err)
{
        ssize_t n;
        do
                n = recv(fd, m, sizeof(*m), 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return berth_fail(err, errno, "read from the container's init");
        if (n < (ssize_t) offsetof(struct oci_sync_msg, text)) {
                m->type = 0;
                return berth_fail(err, EPIPE, "the container's init exited during setup");
        }
        m->text[sizeof(m->text) - 1] = 0;
        if ((size_t) n <= offsetof(struct oci_sync_msg, text))
                m->text[0] = 0;
        return 0;
}

int oci_sync_error(struct oci_sync_msg *m, berth_error_t *err)
{
        /* the text ends with the errno's message ("...: No such file or directory") */
        const char *es = m->errnum ? strerror(m->errnum) : "";
        size_t tl = strlen(m->text), el = strlen(es);
        if (m->errnum && tl > el + 2 && strcmp(m->text + tl - el, es) == 0 &&
            strncmp(m->text + tl - el - 2, ": ", 2) == 0)
                m->text[tl - el - 2] = '\0';
        else
                m->errnum = 0;
        berth_fail_status(err, 1, m->errnum, "%s", m->text);
        return -1;
}

int oci_seccomp_hand_over(int sync_fd, int notify_fd, berth_error_t *err)
{
        struct oci_sync_msg m = {.type = OCI_SYNC_SECCOMP, .errnum = notify_fd};
        size_t len = offsetof(struct oci_sync_msg, text) + 1;
        ssize_t n;
        /* write and read, not send and recv: the profile may notify those, never write */
        if (write(sync_fd, &m, len) != (ssize_t) len) {
                berth_fail(err, errno, "hand the seccomp notify fd to the runtime");
                goto out;
        }
        do
                n = read(sync_fd, &m, sizeof(m));
        while (n < 0 && errno == EINTR);
        if (n < (ssize_t) offsetof(struct oci_sync_msg, text))
                berth_fail(err, n < 0 ? errno : EPIPE,
                           "wait for the runtime to take the seccomp notify fd");
        else if (m.type != OCI_SYNC_SECCOMP_DONE)
                berth_fail(err, ECANCELED, "the runtime could not pass the seccomp notify fd on");
out:
        close(notify_fd);
        return *err ? -1 : 0;
}

int oci_seccomp_take_over(const struct oci_spec *spec, const struct oci_state *st,
                          enum oci_status status, pid_t pid, int sync_fd,
                          const struct oci_sync_msg *m, berth_error_t *err)
{
        int r = spec->seccomp
                        ? oci_seccomp_send_listener(spec->seccomp, st, status, pid, m->errnum, err)
                        : berth_fail(err, EPROTO, "a seccomp notify fd without seccomp");
        if (oci_sync_send(sync_fd, r < 0 ? OCI_SYNC_ERROR : OCI_SYNC_SECCOMP_DONE, NULL) < 0 &&
            r == 0)
                return berth_fail(err, errno, "answer process %d", (int) pid);
        return r;
}

static int join_namespaces(struct oci_init_args *a, berth_error_t *err)
{
        /* user first: it decides what we may do with the others. */
        for (int i = 0; i < 8; i++) {
                int flag = oci_ns_kinds[i].flag;
                if (a->ns_fds[i] < 0 || flag == CLONE_NEWPID || flag == CLONE_NEWTIME)
                        continue;
                if (setns(a->ns_fds[i], flag) < 0)
                        return berth_fail(err, errno, "join the %s namespace",
                                          oci_ns_kinds[i].proc_name);
                close(a->ns_fds[i]);
                a->ns_fds[i] = -1;
        }
        return 0;
}

/* A new network namespace has lo down; runc and crun bring it up, and programs expect
 * 127.0.0.1 to work.  One RTM_SETLINK on a raw socket: liboci keeps no netlink library. */
static int loopback_up(berth_error_t *err)
{
        struct {
                struct nlmsghdr nh;
                struct ifinfomsg ifi;
        } req = {
                .nh = {.nlmsg_len = sizeof(req),
                       .nlmsg_type = RTM_SETLINK,
                       .nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
                       .nlmsg_seq = 1},
                .ifi = {.ifi_family = AF_UNSPEC,
                        .ifi_index = 1, /* lo is ifindex 1 in every namespace */
                        .ifi_flags = IFF_UP,
                        .ifi_change = IFF_UP},
        };
        struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
        union {
                struct nlmsghdr nh;
                char buf[512];
        } ack;
        ssize_t n;
        cleanup_close int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
        if (fd < 0)
                return berth_fail(err, errno, "bring lo up: open a netlink socket");
        if (sendto(fd, &req, sizeof(req), 0, (struct sockaddr *) &kernel, sizeof(kernel)) < 0)
                return berth_fail(err, errno, "bring lo up");
        do
                n = recv(fd, &ack, sizeof(ack), 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return berth_fail(err, errno, "bring lo up: read the kernel's answer");
        if (n < (ssize_t) NLMSG_LENGTH(sizeof(struct nlmsgerr)) || ack.nh.nlmsg_type != NLMSG_ERROR)
                return berth_fail(err, EPROTO, "bring lo up: unexpected answer from the kernel");
        const struct nlmsgerr *e = NLMSG_DATA(&ack.nh);
        if (e->error != 0)
                return berth_fail(err, -e->error, "bring lo up");
        return 0;
}

/* mountinfo's octal escapes (\040 for a space) undone in place */
static void unescape_mountinfo(char *s)
{
        char *o = s;
        for (char *p = s; *p; p++) {
                if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
                    p[3] >= '0' && p[3] <= '7') {
                        *o++ = (char) ((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
                        p += 3;
                } else {
                        *o++ = *p;
                }
        }
        *o = 0;
}

/* Before a chroot (--no-pivot), as runc: unmount, or else cover with a tmpfs, every whole
 * procfs and sysfs outside the rootfs.  They stay reachable in the mount namespace, and
 * the kernel lets a nested user namespace mount a fresh, unmasked procfs or sysfs while a
 * full one is visible there. */
static int hide_host_proc_sys(const char *rootfs, berth_error_t *err)
{
        cleanup_file FILE *f = fopen("/proc/self/mountinfo", "re");
        char line[4096];
        char **found = NULL;
        size_t n = 0, rl = strlen(rootfs);
        int r = 0;
        if (f == NULL)
                return berth_fail(err, errno, "open /proc/self/mountinfo");
        while (fgets(line, sizeof(line), f)) {
                char root[1024], point[1024], fstype[64];
                const char *sep = strstr(line, " - ");
                if (sep == NULL || sscanf(line, "%*s %*s %*s %1023s %1023s", root, point) != 2 ||
                    sscanf(sep + 3, "%63s", fstype) != 1)
                        continue;
                unescape_mountinfo(root);
                unescape_mountinfo(point);
                if (strcmp(root, "/") != 0 ||
                    (strcmp(fstype, "proc") != 0 && strcmp(fstype, "sysfs") != 0) ||
                    strncmp(point, rootfs, rl) == 0)
                        continue;
                found = berth_xrealloc(found, (n + 1) * sizeof(char *));
                found[n++] = berth_xstrdup(point);
        }
        for (size_t i = 0; i < n; i++) {
                const char *p = found[i];
                if (r < 0)
                        continue;
                if (mount(NULL, p, NULL, MS_SLAVE | MS_REC, NULL) < 0) {
                        if (errno != ENOENT) /* gone with a mount above it */
                                r = berth_fail(err, errno, "make `%s` a slave mount", p);
                        continue;
                }
                if (umount2(p, MNT_DETACH) == 0)
                        continue;
                if ((errno != EINVAL && errno != EPERM) || mount("tmpfs", p, "tmpfs", 0, NULL) < 0)
                        r = berth_fail(err, errno, "hide the host's `%s`", p);
        }
        for (size_t i = 0; i < n; i++)
                free(found[i]);
        free(found);
        return r;
}

static int pivot(const char *rootfs, bool no_pivot, berth_error_t *err)
{
        if (chdir(rootfs) < 0)
                return berth_fail(err, errno, "chdir to the rootfs `%s`", rootfs);
        if (no_pivot) {
                if (hide_host_proc_sys(rootfs, err) < 0)
                        return -1;
                if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0)
                        return berth_fail(err, errno, "move the rootfs to /");
                if (chroot(".") < 0)
                        return berth_fail(err, errno, "chroot to the rootfs");
                return chdir("/") < 0 ? berth_fail(err, errno, "chdir /") : 0;
        }
        /* pivot_root(".", ".") stacks the old root on top of the new one; it is
         * then unmounted lazily, after making sure the unmount cannot propagate
         * back to the host. */
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return berth_fail(err, errno, "pivot_root to `%s`", rootfs);
        if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
                return berth_fail(err, errno, "make the old root a slave");
        if (umount2(".", MNT_DETACH) < 0)
                return berth_fail(err, errno, "unmount the old root");
        return chdir("/") < 0 ? berth_fail(err, errno, "chdir /") : 0;
}

bool oci_in_userns(const struct oci_spec *s)
{
        return oci_spec_namespace(s, CLONE_NEWUSER) != NULL || berth_in_userns();
}

static int set_identity_in_userns(berth_error_t *err)
{
        if (setresgid(0, 0, 0) < 0)
                return berth_fail(err, errno, "become gid 0 in the user namespace");
        if (setresuid(0, 0, 0) < 0)
                return berth_fail(err, errno, "become uid 0 in the user namespace");
        return 0;
}

static char *hook_state; /* the state the parent sent for the container's hooks */

/* Wait until the parent has moved us into our cgroup, then make the cgroup
 * namespace (its root is the cgroup we are in at unshare time). */
static int wait_cgroup(void *arg, berth_error_t *err)
{
        struct oci_init_args *a = arg;
        struct oci_sync_msg m;
        const struct oci_namespace *c = oci_spec_namespace(a->spec, CLONE_NEWCGROUP);
        if (a->in_cgroup)
                return 0;
        if (!a->cgroup_said) {
                if (oci_sync_recv(a->sync_fd, &m, err) < 0)
                        return -1;
                if (m.type != OCI_SYNC_CGROUP)
                        return berth_fail(err, EPROTO, "the runtime did not set up the cgroup");
        }
        a->in_cgroup = true;
        if (c && !c->path && unshare(CLONE_NEWCGROUP) < 0)
                return berth_fail(err, errno, "create the cgroup namespace");
        return 0;
}

/* A bind source the init may not look up (oci_mounts_setup's bind_source): the runtime opens
 * mounts[I]'s source inside our mount namespace and sends the fd (or none).  OCI_SYNC_CGROUP
 * may come first (it is sent unasked): noted for wait_cgroup. */
static int bind_source(void *arg, size_t i, berth_error_t *err)
{
        struct oci_init_args *a = arg;
        struct oci_sync_msg q = {.type = OCI_SYNC_MOUNTS, .errnum = (int) i};
        if (send(a->sync_fd, &q, offsetof(struct oci_sync_msg, text) + 1, MSG_NOSIGNAL) < 0) {
                berth_fail(err, errno, "ask the runtime for a bind mount source");
                return -2;
        }
        for (;;) {
                struct oci_sync_msg m;
                char cbuf[CMSG_SPACE(sizeof(int))];
                struct iovec iov = {&m, sizeof(m)};
                struct msghdr mh = {.msg_iov = &iov,
                                    .msg_iovlen = 1,
                                    .msg_control = cbuf,
                                    .msg_controllen = sizeof(cbuf)};
                ssize_t n;
                do
                        n = recvmsg(a->sync_fd, &mh, MSG_CMSG_CLOEXEC);
                while (n < 0 && errno == EINTR);
                if (n < (ssize_t) offsetof(struct oci_sync_msg, text)) {
                        berth_fail(err, n < 0 ? errno : EPIPE, "receive a bind mount source");
                        return -2;
                }
                int fd = -1;
                struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
                if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                        memcpy(&fd, CMSG_DATA(c), sizeof(int));
                if (m.type == OCI_SYNC_CGROUP && fd < 0 && !a->cgroup_said) {
                        a->cgroup_said = true;
                        continue;
                }
                if (m.type != OCI_SYNC_MOUNTS) {
                        if (fd >= 0)
                                close(fd);
                        berth_fail(err, EPROTO, "unexpected answer for a bind mount source");
                        return -2;
                }
                if (fd < 0)
                        errno = m.errnum ? m.errnum : EACCES; /* why the runtime could not */
                return fd;
        }
}

/* prestart and createRuntime run in the parent (runtime namespaces), then
 * createContainer here in the container's, all before pivot_root. */
static int runtime_hooks(struct oci_init_args *a, berth_error_t *err)
{
        struct oci_sync_msg m;
        if (!a->hooks_runtime)
                return 0;
        if (oci_sync_send(a->sync_fd, OCI_SYNC_HOOKS, NULL) < 0 ||
            oci_sync_recv(a->sync_fd, &m, err) < 0)
                return berth_fail(err, errno, "wait for the createRuntime hooks");
        if (m.type == OCI_SYNC_ERROR)
                return -1; /* the parent reports its own error */
        /* the state follows as one message of its own size (SOCK_SEQPACKET) */
        ssize_t n;
        char probe;
        do
                n = recv(a->sync_fd, &probe, 1, MSG_PEEK | MSG_TRUNC); /* its full size */
        while (n < 0 && errno == EINTR);
        if (n <= 0)
                return berth_fail(err, n < 0 ? errno : EPIPE, "receive the container's state");
        hook_state = berth_xmalloc((size_t) n + 1);
        if (recv(a->sync_fd, hook_state, (size_t) n, 0) != n)
                return berth_fail(err, errno, "receive the container's state");
        hook_state[n] = '\0';
        /* as runc: createContainer hooks start in the container's rootfs (pivot_root, next,
         * changes into it again) */
        if (chdir(a->rootfs) < 0)
                return berth_fail(err, errno, "chdir to the rootfs `%s`", a->rootfs);
        return oci_hooks_run(a->spec, OCI_HOOK_CREATE_CONTAINER, hook_state, err);
}

/* Mounts, devices, hooks, pivot_root and the paths that need the final root. */
static int build_rootfs(struct oci_init_args *a, berth_error_t *err)
{
        const struct oci_spec *s = a->spec;
        bool in_userns = a->in_userns;
        /* Keep our mounts from reaching the host; then give the rootfs a mount
         * of its own, which pivot_root requires. */
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return berth_fail(err, errno, "make / a slave mount");
        if (mount(a->rootfs, a->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
                return berth_fail(err, errno, "bind the rootfs `%s`", a->rootfs);
        cleanup_close int rootfd = open(a->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return berth_fail(err, errno, "open the rootfs `%s`", a->rootfs);
        umask(0);
        const struct oci_namespace *cns = oci_spec_namespace(s, CLONE_NEWCGROUP);
        log_debug("init: mounts and devices under %s", a->rootfs);
        if (oci_mounts_setup(s, a->rootfs, rootfd, in_userns, cns && !cns->path, a->cgroup_path,
                             bind_source, wait_cgroup, a, err) < 0 ||
            oci_devices_setup(s, rootfd, in_userns, err) < 0)
                return -1;
        if (wait_cgroup(a, err) < 0 || runtime_hooks(a, err) < 0)
                return -1;
        log_debug("init: %s into %s", a->no_pivot ? "chroot" : "pivot_root", a->rootfs);
        if (pivot(a->rootfs, a->no_pivot, err) < 0)
                return -1;
        if (oci_rootfs_finish(s, in_userns, err) < 0)
                return -1;
        return 0;
}

static int setup(struct oci_init_args *a, char **exe, berth_error_t *err)
{
        const struct oci_spec *s = a->spec;
        struct oci_sync_msg m;
        const struct oci_namespace *user = oci_spec_namespace(s, CLONE_NEWUSER);
        int unshare_flags = 0;
        /* the cgroup namespace comes later, once we are in our cgroup */
        static const int kinds[] = {CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWNET};

        if (oci_sync_recv(a->sync_fd, &m, err) < 0)
                return -1;
        if (join_namespaces(a, err) < 0)
                return -1;
        if (user && set_identity_in_userns(err) < 0)
                return -1;
        a->in_userns = oci_in_userns(s); /* the host's /proc still, and once */
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(kinds); i++) {
                const struct oci_namespace *n = oci_spec_namespace(s, kinds[i]);
                if (n && n->path == NULL)
                        unshare_flags |= kinds[i];
        }
        if (unshare_flags && unshare(unshare_flags) < 0)
                return berth_fail(err, errno, "create namespaces");
        if ((unshare_flags & CLONE_NEWNET) && loopback_up(err) < 0)
                return -1;
        /* A session keyring of its own, so keys never leak between containers. */
        if (!a->no_new_keyring &&
            syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, a->id) < 0 &&
            errno != ENOSYS && errno != EPERM)
                return berth_fail(err, errno, "join a new session keyring");
        if (s->process && s->process->oom_score_adj != OCI_UNSET) {
                char v[16];
                snprintf(v, sizeof(v), "%d", (int) s->process->oom_score_adj);
                if (berth_write_file("/proc/self/oom_score_adj", v, strlen(v), err) < 0)
                        return -1;
        }
        if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
                return berth_fail(err, errno, "set the hostname");
        if (s->domainname && setdomainname(s->domainname, strlen(s->domainname)) < 0)
                return berth_fail(err, errno, "set the domainname");

        if (oci_spec_namespace(s, CLONE_NEWNS) == NULL) {
                /* The host's mount table is shared: mounting anything would change
                 * the host.  The container gets its root by chroot alone. */
                if (s->n_mounts || s->n_masked || s->n_readonly)
                        log_debug("no mount namespace: mounts, masked and read-only paths "
                                  "are not applied");
                if (wait_cgroup(a, err) < 0 || runtime_hooks(a, err) < 0)
                        return -1;
                if (chroot(a->rootfs) < 0 || chdir("/") < 0)
                        return berth_fail(err, errno, "chroot to `%s`", a->rootfs);
        } else if (build_rootfs(a, err) < 0) {
                return -1;
        }
        if (a->console_fd >= 0) {
                if (oci_terminal_setup(a->console_fd, s->process, err) < 0)
                        return -1;
                close(a->console_fd);
                a->console_fd = -1;
        }
        if (s->personality != OCI_UNSET && personality((unsigned long) s->personality) < 0)
                return berth_fail(err, errno, "set personality");
        if (s->process == NULL)
                return 0;
        if (chdir(s->process->cwd) < 0)
                return berth_fail(err, errno, "chdir to cwd `%s`", s->process->cwd);
        umask(s->process->umask == OCI_UNSET ? 022 : (mode_t) s->process->umask);
        if (oci_process_resolve(s->process, exe, err) < 0)
                return -1;
        return oci_process_prepare(s->process, err);
}

static int cmp_int(const void *x, const void *y)
{
        return *(const int *) x - *(const int *) y;
}

/* Close every inherited fd but the preserved ones and ours: a created
 * container may wait for hours, and must not hold its caller's pipes open. */
static void close_inherited(struct oci_init_args *a)
{
        int keep[16], n = 0, from = 3 + a->preserve_fds;
        keep[n++] = a->sync_fd;
        keep[n++] = a->state_dirfd;
        if (a->console_fd >= 0)
                keep[n++] = a->console_fd;
        for (int i = 0; i < 8; i++)
                if (a->ns_fds[i] >= 0)
                        keep[n++] = a->ns_fds[i];
        qsort(keep, (size_t) n, sizeof(int), cmp_int);
        for (int i = 0; i < n; i++) {
                if (keep[i] > from)
                        syscall(SYS_close_range, from, keep[i] - 1, 0);
                if (keep[i] + 1 > from)
                        from = keep[i] + 1;
        }
        syscall(SYS_close_range, from, ~0U, 0);
}

void oci_init_main(struct oci_init_args *a)
{
        berth_error_t err = NULL;
        cleanup_free char *exe = NULL;
        const struct oci_spec *s = a->spec;
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        close_inherited(a);
        berth_log_use_stderr(); /* the log file, if any, was the runtime's: closed above */
        if (setup(a, &exe, &err) < 0) {
                oci_sync_send(a->sync_fd, OCI_SYNC_ERROR, &err);
                _exit(OCI_EXIT_ERROR);
        }
        /* As runc's: the user, capabilities and seccomp filter are the process's from here,
         * while `create` still waits: startContainer hooks run under them, and a seccomp
         * agent has its fd when `create` returns. */
        struct oci_exec_plan plan = {.proc = s->process,
                                     .seccomp = s->seccomp,
                                     .path = exe,
                                     .preserve_fds = a->preserve_fds,
                                     .in_userns = a->in_userns,
                                     .sync_fd = a->sync_fd};
        int notify_fd = -1;
        if (s->process &&
            (oci_process_finalize(&plan, &notify_fd, &err) < 0 ||
             (notify_fd >= 0 && oci_seccomp_hand_over(a->sync_fd, notify_fd, &err) < 0))) {
                oci_sync_send(a->sync_fd, OCI_SYNC_ERROR, &err);
                _exit(OCI_EXIT_ERROR);
        }
        /* Once created the init must outlive the runtime that made it. */
        prctl(PR_SET_PDEATHSIG, 0);
        if (oci_sync_send(a->sync_fd, OCI_SYNC_READY, NULL) < 0)
                _exit(OCI_EXIT_ERROR);
        close(a->sync_fd);

        /* Wait for `start`: opening the fifo for writing blocks until it reads. */
        int fifo = openat(a->state_dirfd, "exec.fifo", O_WRONLY | O_CLOEXEC);
        if (fifo < 0 || write(fifo, "0", 1) != 1)
                _exit(OCI_EXIT_ERROR);
        /* fifo stays open: execve closes it, which tells `start` that the
         * user's process is now running (poststart hooks come after that). */
        close(a->state_dirfd);
        if (s->process == NULL)
                _exit(0); /* nothing to run: the container stops */
        if (s->n_hooks[OCI_HOOK_START_CONTAINER] &&
            oci_hooks_run(s, OCI_HOOK_START_CONTAINER, hook_state ? hook_state : "", &err) < 0) {
                berth_error_report(&err, OCI_EXIT_ERROR);
                _exit(OCI_EXIT_ERROR);
        }
        oci_process_execve(&plan, &err);
        /* as a shell says it: 127 not found, 126 found but not runnable (or as this user) */
        int status = err && err->errnum == ENOENT ? 127 : 126;
        berth_error_report(&err, OCI_EXIT_ERROR);
        _exit(status);
}
