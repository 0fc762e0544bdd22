/* jail.c — berth-vmm --jail (jail.h; docs/vmm.md, "The jail"): a pid
 * namespace, a mount namespace whose root holds only the VM's files, the
 * jail's uid/gid, no capabilities, no_new_privs and per-thread seccomp.
 *
 * Files keep their paths inside the jail: each is bind-mounted at the same
 * absolute path under a tmpfs root, so the code that opens them later, and
 * a qcow2's backing names resolved next to their image, need no rewriting.
 */
#include "vmm/jail.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/paths.h"
#include "common/util.h"
#include "disk/disk.h"
#include "vmm/snapshot_format.h"
#include "vmm/vm.h"

#define JAIL_MAX_ENTRIES 64

/* What the jail's root gets: a file or directory bind-mounted at `path`. */
struct jail_entry {
        char *path;   /* absolute, as the VMM will open it */
        dev_t dev_no; /* what the parent checked: the child binds only the same file */
        ino_t ino;
        bool dir;
        bool ro;
        bool dev; /* a device node: keeps its mount's dev permission */
};

struct jail {
        struct jail_entry e[JAIL_MAX_ENTRIES];
        unsigned n;
        char *root; /* <run>/vmm/jail-<pid>, a tmpfs in the child's namespace */
        bool rootless;
        bool ptmx; /* /dev/ptmx -> pts/ptmx (--console pty) */
};

static bool jailed;
/* Started as pid 1 of a pid namespace its parent made (berth vm's
 * supervisor): no namespace and no fork of its own, and no parent-death
 * signal (the VM outlives a supervisor that is killed, as unjailed). */
static bool own_pidns;
/* ...but the parent-death signal the supervisor gave it, if any (a VMM on
 * taps its supervisor holds, with their leases, dies with it), is set again
 * after the change of ids, which clears it. */
static int own_pdeath_sig;
static int selftest = -1;
static struct vmm_jail_ids ids;
static bool ids_changed;
/* What the jail costs the start (logged at info; docs/performance.md). */
static struct timespec t_begin;
static double ms_setup, ms_ids;

static double ms_since(const struct timespec *t)
{
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        return (double) (now.tv_sec - t->tv_sec) * 1e3 + (double) (now.tv_nsec - t->tv_nsec) / 1e6;
}

bool vmm_jailed(void)
{
        return jailed;
}

static char *absolute(const char *p)
{
        if (p[0] == '/')
                return berth_xstrdup(p);
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof(cwd)))
                return berth_xstrdup(p); /* fails later, with the path named */
        return berth_xasprintf("%s/%s", cwd, p);
}

static int add(struct jail *j, const char *path, bool dir, bool ro, bool dev, berth_error_t *err)
{
        for (unsigned i = 0; i < j->n; i++)
                if (strcmp(j->e[i].path, path) == 0) {
                        j->e[i].ro = j->e[i].ro && ro; /* a disk and a backing file: rw wins */
                        return 0;
                }
        if (j->n >= JAIL_MAX_ENTRIES)
                return berth_fail(err, E2BIG, "jail: too many files");
        struct stat st;
        if (stat(path, &st) < 0)
                return berth_fail(err, errno, "jail: `%s`", path);
        bool ok = dir   ? S_ISDIR(st.st_mode)
                  : dev ? S_ISCHR(st.st_mode)
                        : S_ISREG(st.st_mode) || S_ISBLK(st.st_mode);
        if (!ok)
                return berth_fail(err, EINVAL, "jail: `%s` is not a %s", path,
                                  dir   ? "directory"
                                  : dev ? "character device"
                                        : "regular file");
        j->e[j->n++] = (struct jail_entry){berth_xstrdup(path), st.st_dev, st.st_ino, dir, ro, dev};
        return 0;
}

/* A socket's directory: the socket itself is made inside the jail (bind)
 * or connected to from it (vsock's UDS_PATH_PORT). */
static int add_socket_dir(struct jail *j, const char *sock, berth_error_t *err)
{
        cleanup_free char *copy = berth_xstrdup(sock);
        char *slash = strrchr(copy, '/');
        if (slash == copy)
                return berth_fail(err, EINVAL, "jail: socket `%s` directly under /", sock);
        *slash = 0;
        return add(j, copy, true, false, false, err);
}

/* Every disk and its backing chain, opened with the disk's backing policy
 * (so a chain that names a file the operator did not allow fails here,
 * before anything is mounted). */
static int add_disk(struct jail *j, struct vmm_disk_config *dc, berth_error_t *err)
{
        struct disk *d = NULL;
        struct disk_open_opts o = {.backing_allow = dc->backing};
        if (disk_open_ex(dc->path, (enum disk_format) dc->format, DISK_RDONLY, &o, &d, err) < 0)
                return berth_wrap(err, "jail: disk `%s`", dc->path);
        int r = add(j, dc->path, false, dc->readonly, false, err);
        for (struct disk *b = disk_backing(d); r == 0 && b; b = disk_backing(b))
                r = add(j, b->path, false, true, false, err);
        disk_close(d);
        return r;
}

/* Does an interface of n (the command line's, or a snapshot's) need this
 * process to make its tap (/dev/net/tun), or join a berth network, which the
 * jail cannot?  Not one that --tap-fd hands in open.  *network: the first
 * interface that would join a network itself, or NULL. */
static bool needs_tun(const struct vmm_config *c, const struct vmm_config *n, const char **network)
{
        bool tun = false;
        *network = NULL;
        for (unsigned i = 0; i < n->n_nets; i++) {
                char id[VMM_NET_ID_MAX + 1];
                vmm_net_id(&n->nets[i], i, id);
                if (vmm_tap_fd_find(c, id) >= 0)
                        continue;
                tun = true;
                if (n->nets[i].network && !*network)
                        *network = n->nets[i].network;
        }
        return tun;
}

/* --restore: the devices come from the snapshot's configuration, so its
 * disks, vsock socket and taps are read from the state file now. */
static int add_restored(struct jail *j, const struct vmm_config *c, berth_error_t *err)
{
        cleanup_free char *data = NULL;
        size_t len = 0;
        struct vmm_snap snap = {0};
        if (berth_read_file_at(AT_FDCWD, c->restore, VMM_SNAP_MAX_FILE, &data, &len, err) < 0 ||
            vmm_snap_parse(&snap, (const uint8_t *) data, len, err) < 0)
                return berth_wrap(err, "jail: snapshot `%s`", c->restore);
        const struct vmm_snap_section *sec = vmm_snap_need(&snap, "config", 0, err);
        json_t *root = sec ? json_loadb((const char *) sec->data, sec->len, 0, NULL) : NULL;
        vmm_snap_release(&snap);
        if (!json_is_object(root)) {
                json_decref(root);
                return sec ? berth_fail(err, EINVAL, "jail: snapshot `%s`: bad configuration",
                                        c->restore)
                           : -1;
        }
        struct vmm_config s;
        vmm_config_init(&s);
        int r = vmm_config_apply_json(&s, root, "the snapshot's configuration", err);
        const char *network = NULL;
        bool tun = r == 0 && needs_tun(c, &s, &network);
        if (network)
                r = berth_fail(err, ENOTSUP,
                               "jail: the snapshot joins berth network `%s`: give its tap with "
                               "--tap-fd",
                               network);
        if (r == 0 && s.vsock.cid && s.vsock.uds_path[0] == '/')
                r = add_socket_dir(j, s.vsock.uds_path, err);
        if (r == 0 && tun)
                r = add(j, "/dev/net/tun", false, false, true, err);
        for (unsigned i = 0; r == 0 && i < s.n_disks; i++)
                r = s.disks[i].path[0] == '/'
                            ? add_disk(j, &s.disks[i], err)
                            : berth_fail(err, EINVAL, "jail: snapshot disk `%s` is not absolute",
                                         s.disks[i].path);
        json_decref(root);
        return r;
}

static int collect(struct jail *j, struct vmm_config *c, berth_error_t *err)
{
        /* Relative paths become absolute: the jail keeps no working directory. */
        if (c->kernel)
                c->kernel = absolute(c->kernel);
        if (c->initrd)
                c->initrd = absolute(c->initrd);
        if (c->api_sock)
                c->api_sock = absolute(c->api_sock);
        if (c->console_path)
                c->console_path = absolute(c->console_path);
        if (c->vsock.uds_path)
                c->vsock.uds_path = absolute(c->vsock.uds_path);
        for (unsigned i = 0; i < c->n_disks; i++)
                c->disks[i].path = absolute(c->disks[i].path);
        if (c->jail_rw)
                c->jail_rw = absolute(c->jail_rw);
        if (c->migrate_incoming && berth_str_has_prefix(c->migrate_incoming, "unix:")) {
                cleanup_free char *p = absolute(c->migrate_incoming + 5);
                c->migrate_incoming = berth_xasprintf("unix:%s", p);
        }
        if (c->restore) {
                c->restore = absolute(c->restore);
                c->restore_mem = absolute(c->restore_mem);
                for (unsigned i = 0; i < c->n_restore_diffs; i++)
                        c->restore_diffs[i] = absolute(c->restore_diffs[i]);
        }

        /* Directories first: a file under a bound directory is then skipped
         * (its mount point would be made in the host's directory). */
        if (c->api_sock && add_socket_dir(j, c->api_sock, err) < 0)
                return -1;
        if (c->console == VMM_CONSOLE_UNIX && add_socket_dir(j, c->console_path, err) < 0)
                return -1;
        if (c->vsock.cid && add_socket_dir(j, c->vsock.uds_path, err) < 0)
                return -1;
        /* Where the API's snapshots are written (the jail's ids must be
         * able to write in it: berth vm hands it a directory of its own). */
        if (c->jail_rw && add(j, c->jail_rw, true, false, false, err) < 0)
                return -1;
        /* an incoming migration's unix listener is made inside the jail */
        if (c->migrate_incoming && berth_str_has_prefix(c->migrate_incoming, "unix:") &&
            add_socket_dir(j, c->migrate_incoming + 5, err) < 0)
                return -1;
        /* The host's devpts, so the pty's name means the same outside;
         * /dev/ptmx is made a link to pts/ptmx (a bound /dev/ptmx would look
         * for its devpts next to itself in /dev, and find none). */
        if (c->console == VMM_CONSOLE_PTY) {
                if (add(j, "/dev/pts", true, false, true, err) < 0)
                        return -1;
                j->ptmx = true;
        }
        if (add(j, "/dev/kvm", false, false, true, err) < 0)
                return -1;
        const char *network; /* refused before: vmm_jail_enter */
        if (needs_tun(c, c, &network) && add(j, "/dev/net/tun", false, false, true, err) < 0)
                return -1;
        if (c->kernel && add(j, c->kernel, false, true, false, err) < 0)
                return -1;
        if (c->initrd && add(j, c->initrd, false, true, false, err) < 0)
                return -1;
        for (unsigned i = 0; i < c->n_disks; i++)
                if (add_disk(j, &c->disks[i], err) < 0)
                        return -1;
        if (c->restore &&
            (add(j, c->restore, false, true, false, err) < 0 ||
             add(j, c->restore_mem, false, true, false, err) < 0 || add_restored(j, c, err) < 0))
                return -1;
        for (unsigned i = 0; c->restore && i < c->n_restore_diffs; i++)
                if (add(j, c->restore_diffs[i], false, true, false, err) < 0)
                        return -1;
        return 0;
}

/* Is path inside the directory entry d (or d itself)? */
static bool under(const struct jail_entry *d, const char *path)
{
        size_t n = strlen(d->path);
        return d->dir && strncmp(path, d->path, n) == 0 && (path[n] == '/' || path[n] == 0);
}

static int mkdirs(const char *path)
{
        cleanup_free char *p = berth_xstrdup(path);
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = 0;
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return -1;
                *s = '/';
        }
        return 0;
}

static int bind_entry(const struct jail *j, const struct jail_entry *e, berth_error_t *err)
{
        for (unsigned i = 0; i < j->n; i++)
                if (&j->e[i] != e && under(&j->e[i], e->path))
                        return 0; /* visible through that directory already */
        cleanup_free char *target = berth_xasprintf("%s%s", j->root, e->path);
        if (mkdirs(target) < 0)
                return berth_fail(err, errno, "jail: make `%s`", target);
        if (e->dir) {
                if (mkdir(target, 0755) < 0 && errno != EEXIST)
                        return berth_fail(err, errno, "jail: make `%s`", target);
        } else {
                int fd = open(target, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
                if (fd < 0)
                        return berth_fail(err, errno, "jail: make `%s`", target);
                close(fd);
        }
        /* Opened again in this mount namespace (a bind's source must be
         * in it), and bound through the descriptor: the file checked is the
         * file bound, whatever renames happen meanwhile. */
        cleanup_close int fd = open(e->path, O_PATH | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return berth_fail(err, errno, "jail: `%s`", e->path);
        if (st.st_dev != e->dev_no || st.st_ino != e->ino)
                return berth_fail(err, ESTALE, "jail: `%s` changed while the jail was made",
                                  e->path);
        char src[64];
        snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
        if (mount(src, target, NULL, MS_BIND, NULL) < 0)
                return berth_fail(err, errno, "jail: bind `%s`", e->path);
        unsigned long fl = MS_BIND | MS_REMOUNT | MS_NOSUID | (e->dev ? 0 : MS_NODEV) |
                           (e->dir && !e->dev ? 0 : MS_NOEXEC) | (e->ro ? MS_RDONLY : 0);
        /* A mount point's flags the kernel locked (rootless) may refuse a
         * change; the jail then keeps them as they were. */
        if (mount(NULL, target, NULL, fl, NULL) < 0 && errno != EPERM)
                return berth_fail(err, errno, "jail: remount `%s`", e->path);
        return 0;
}

static int write_file(const char *path, const char *s)
{
        cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        size_t n = strlen(s);
        return write(fd, s, n) == (ssize_t) n ? 0 : -1;
}

static pthread_t detach_thread;
static bool detach_started;
static int detach_errno;

static void *detach_old_root(void *arg)
{
        (void) arg;
        if (umount2("/.old", MNT_DETACH) < 0)
                detach_errno = errno;
        return NULL;
}

/* The old root detached, its directory removed, the root read-only. */
static int finish_root(berth_error_t *err)
{
        if (detach_started)
                pthread_join(detach_thread, NULL);
        detach_started = false;
        if (detach_errno)
                return berth_fail(err, detach_errno, "jail: detach the old root");
        if (rmdir("/.old") < 0)
                return berth_fail(err, errno, "jail: remove /.old");
        if (mount(NULL, "/", NULL,
                  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                return berth_fail(err, errno, "jail: make the root read-only");
        return 0;
}

/* The child: new mount namespace, the tmpfs root filled, pivot_root. */
static int build_root(struct jail *j, berth_error_t *err)
{
        if (unshare(CLONE_NEWNS) < 0)
                return berth_fail(err, errno, "jail: new mount namespace");
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return berth_fail(err, errno, "jail: make mounts private");
        if (mount("tmpfs", j->root, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "mode=0755,size=64k") < 0)
                return berth_fail(err, errno, "jail: tmpfs on `%s`", j->root);
        for (unsigned i = 0; i < j->n; i++)
                if (j->e[i].dir && bind_entry(j, &j->e[i], err) < 0)
                        return -1;
        for (unsigned i = 0; i < j->n; i++)
                if (!j->e[i].dir && bind_entry(j, &j->e[i], err) < 0)
                        return -1;
        if (j->ptmx) {
                cleanup_free char *link = berth_xasprintf("%s/dev/ptmx", j->root);
                if (symlink("pts/ptmx", link) < 0)
                        return berth_fail(err, errno, "jail: make `%s`", link);
        }
        /* The old root goes to /.old and is detached on a thread of its own:
         * a detach waits out an RCU grace period (4-8 ms measured here under
         * load), which then overlaps the VM's build instead of delaying it.
         * The build only opens jail paths; vmm_jail_drop_ids joins the
         * thread, so the host's tree is gone before any guest code runs. */
        cleanup_free char *old = berth_xasprintf("%s/.old", j->root);
        if (mkdir(old, 0700) < 0)
                return berth_fail(err, errno, "jail: make `%s`", old);
        if (chdir(j->root) < 0 || syscall(SYS_pivot_root, ".", ".old") < 0 || chdir("/") < 0)
                return berth_fail(err, errno, "jail: pivot_root into `%s`", j->root);
        int e = pthread_create(&detach_thread, NULL, detach_old_root, NULL);
        if (e != 0)
                detach_old_root(NULL);
        detach_started = e == 0;
        return 0;
}

/* The child, still privileged in the jail: the capability bounding set
 * emptied and no_new_privs set, both inherited by every thread to come. */
static int limit_process(berth_error_t *err)
{
        for (int cap = 0; cap <= 63; cap++)
                if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
                        return berth_fail(err, errno,
                                          "jail: drop capability %d from the bounding set", cap);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return berth_fail(err, errno, "jail: no_new_privs");
        return 0;
}

/* Rootless: a user namespace mapping only the user's own ids, in which the
 * mount namespace may be made; the VMM keeps the user's uid. */
static int rootless_userns(berth_error_t *err)
{
        uid_t uid = geteuid();
        gid_t gid = getegid();
        if (unshare(CLONE_NEWUSER) < 0)
                return berth_fail(err, errno, "jail: new user namespace (rootless)");
        char map[64];
        snprintf(map, sizeof(map), "%u %u 1\n", (unsigned) uid, (unsigned) uid);
        if (write_file("/proc/self/uid_map", map) < 0)
                return berth_fail(err, errno, "jail: uid_map");
        if (write_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
                return berth_fail(err, errno, "jail: setgroups");
        snprintf(map, sizeof(map), "%u %u 1\n", (unsigned) gid, (unsigned) gid);
        if (write_file("/proc/self/gid_map", map) < 0)
                return berth_fail(err, errno, "jail: gid_map");
        return 0;
}

static void cleanup_host(const struct vmm_config *c, const struct jail *j)
{
        /* Sockets the jailed VMM could not unlink as the jail's uid. */
        cleanup_free char *hand = c->api_sock ? berth_xasprintf("%s.fd", c->api_sock) : NULL;
        const char *socks[] = {c->api_sock, hand,
                               c->console == VMM_CONSOLE_UNIX ? c->console_path : NULL,
                               c->vsock.cid ? c->vsock.uds_path : NULL};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(socks); i++) {
                struct stat st;
                if (socks[i] && lstat(socks[i], &st) == 0 && S_ISSOCK(st.st_mode))
                        unlink(socks[i]);
        }
        if (j->root)
                rmdir(j->root);
}

/* The parent: forward the stopping signals, wait, report how it ended. */
static int supervise(pid_t child, const sigset_t *sigs)
{
        for (;;) {
                siginfo_t si;
                int sig = sigwaitinfo(sigs, &si);
                if (sig < 0 && errno == EINTR)
                        continue;
                if (sig != SIGCHLD) {
                        kill(child, sig);
                        continue;
                }
                int st;
                pid_t p = waitpid(child, &st, WNOHANG);
                if (p == 0 || (p < 0 && errno == EINTR))
                        continue;
                if (p < 0)
                        return VMM_EXIT_ERROR;
                if (WIFEXITED(st))
                        return WEXITSTATUS(st);
                if (WIFSIGNALED(st)) {
                        int s = WTERMSIG(st);
                        log_error("the jailed VMM was killed by signal %d (%s)%s", s, strsignal(s),
                                  s == SIGSYS ? ": a system call outside its seccomp allow-list"
                                              : "");
                        return 128 + s;
                }
        }
}

static int jail_dir(struct jail *j, berth_error_t *err)
{
        struct berth_paths p = {0};
        if (berth_paths_default(&p, err) < 0)
                return berth_wrap(err, "jail: the run directory");
        cleanup_free char *base = berth_path_join(p.run_dir, "vmm");
        berth_paths_free(&p);
        if (berth_mkdir_p(base, 0700, err) < 0)
                return berth_wrap(err, "jail: make `%s`", base);
        /* Named by the host's pid: as pid 1 of its own namespace, getpid()
         * says 1, while /proc (still the host's) knows the real one. */
        int pid = (int) getpid();
        char self[32];
        ssize_t n = own_pidns ? readlink("/proc/self", self, sizeof(self) - 1) : -1;
        if (n > 0) {
                self[n] = 0;
                pid = atoi(self);
        }
        j->root = berth_xasprintf("%s/jail-%d", base, pid);
        if (mkdir(j->root, 0700) < 0 && errno != EEXIST)
                return berth_fail(err, errno, "jail: make `%s`", j->root);
        return 0;
}

int vmm_jail_enter(struct vmm_config *c, int *status, berth_error_t *err)
{
        static struct jail j; /* lives as long as the process: paths point in */
        clock_gettime(CLOCK_MONOTONIC, &t_begin);
        selftest = c->jail_selftest;
        own_pidns = getpid() == 1;
        if (own_pidns && prctl(PR_GET_PDEATHSIG, &own_pdeath_sig) < 0)
                own_pdeath_sig = 0;
        j.rootless = geteuid() != 0;
        ids.change = !j.rootless;
        ids.snapshots = c->jail_rw != NULL;
        ids.migrate = c->jail_migrate;
        ids.uid = c->jail_uid >= 0 ? (uid_t) c->jail_uid : VMM_JAIL_DEFAULT_ID;
        ids.gid = c->jail_gid >= 0 ? (gid_t) c->jail_gid : VMM_JAIL_DEFAULT_ID;
        if (j.rootless && (c->jail_uid >= 0 || c->jail_gid >= 0))
                return berth_fail_status(err, VMM_EXIT_USAGE, EPERM,
                                         "--jail-uid/--jail-gid need root: rootless, the VMM "
                                         "keeps the user's ids");
        const char *network = NULL;
        (void) needs_tun(c, c, &network);
        if (network)
                return berth_fail_status(err, VMM_EXIT_USAGE, ENOTSUP,
                                         "--jail with --net network=%s: joining a berth network "
                                         "needs the host's berth state; give the interface's "
                                         "tap, made and joined beforehand, with --tap-fd ID=FD",
                                         network);
        if (collect(&j, c, err) < 0 || jail_dir(&j, err) < 0)
                return -1;
        /* jansson seeds its hash tables from /dev/urandom on first use
         * (the API's first request): seeded now, it needs no file. */
        uint32_t seed = 0;
        if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed) || seed == 0)
                seed = (uint32_t) getpid() ^ 0x9e3779b9u;
        json_object_seed(seed);

        if (own_pidns) {
                /* Already alone in a pid namespace: the rest of the jail here. */
                if ((j.rootless && rootless_userns(err) < 0) || build_root(&j, err) < 0 ||
                    limit_process(err) < 0) {
                        rmdir(j.root);
                        return -1;
                }
                jailed = true;
                ms_setup = ms_since(&t_begin);
                log_debug("jail: pid 1 of its own namespace; root made %.3f ms", ms_setup);
                return 0;
        }
        sigset_t sigs, old;
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGINT);
        sigaddset(&sigs, SIGTERM);
        sigaddset(&sigs, SIGHUP);
        sigaddset(&sigs, SIGCHLD);
        /* Blocked before the fork: none is lost between fork and the child's
         * signalfd (loop_setup), and the parent takes them with sigwaitinfo. */
        sigprocmask(SIG_BLOCK, &sigs, &old);
        /* The child is pid 1 of its namespace: it sees no other process
         * and none of the host's can be signalled or ptraced from it. */
        int r = j.rootless ? rootless_userns(err) : 0;
        if (r == 0 && unshare(CLONE_NEWPID) < 0)
                r = berth_fail(err, errno, "jail: new pid namespace");
        fflush(NULL);
        double ms_fork = ms_since(&t_begin);
        pid_t pid = r == 0 ? fork() : -1;
        if (r == 0 && pid < 0)
                r = berth_fail(err, errno, "jail: fork");
        if (r < 0) {
                rmdir(j.root);
                return -1;
        }
        if (pid == 0) {
                /* The VMM goes with its supervisor (reset by setuid, set again there). */
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                double ms_child = ms_since(&t_begin);
                sigdelset(&sigs, SIGCHLD);
                sigprocmask(SIG_SETMASK, &old, NULL);
                sigprocmask(SIG_BLOCK, &sigs, NULL);
                if (build_root(&j, err) < 0 || limit_process(err) < 0)
                        return -1;
                jailed = true;
                ms_setup = ms_since(&t_begin);
                log_debug("jail: files checked %.3f ms, child running %.3f ms, root made %.3f ms",
                          ms_fork, ms_child, ms_setup);
                return 0;
        }
        *status = supervise(pid, &sigs);
        cleanup_host(c, &j);
        return 1;
}

int vmm_jail_drop_ids(berth_error_t *err)
{
        if (!jailed)
                return 0;
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if (finish_root(err) < 0)
                return -1;
        if (ids.change) {
                uid_t uid = ids.uid;
                gid_t gid = ids.gid;
                /* glibc applies these to every thread of the process: the
                 * disk workers started while the VM was built follow. */
                if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 ||
                    setresuid(uid, uid, uid) < 0)
                        return berth_fail(err, errno, "jail: switch to uid %u gid %u",
                                          (unsigned) uid, (unsigned) gid);
                ids_changed = true;
        }
        /* A credentials change clears the parent-death signal. */
        if (!own_pidns)
                prctl(PR_SET_PDEATHSIG, SIGKILL);
        else if (own_pdeath_sig)
                prctl(PR_SET_PDEATHSIG, own_pdeath_sig);
        ms_ids = ms_since(&t);
        return 0;
}

/* Empty this thread's permitted, effective and inheritable sets (the
 * setuid above already did for root; rootless, the user namespace's
 * capabilities stay until this). */
static int drop_thread_caps(berth_error_t *err)
{
        struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
        struct __user_cap_data_struct d[2];
        memset(d, 0, sizeof(d));
        if (syscall(SYS_capset, &h, d) < 0)
                return berth_fail(err, errno, "jail: drop capabilities");
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
                return berth_fail(err, errno, "jail: clear ambient capabilities");
        return 0;
}

int vmm_jail_thread(enum vmm_thread_kind kind, berth_error_t *err)
{
        if (!jailed)
                return 0;
        /* A thread locked down before the ids change (a disk worker) keeps
         * its capabilities until then: glibc has it repeat the setgroups and
         * setres[ug]id, which need them, and the switch away from uid 0
         * clears them in every thread. */
        bool later = ids.change && !ids_changed;
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((!later && drop_thread_caps(err) < 0) || vmm_seccomp_install(kind, &ids, err) < 0)
                return berth_wrap(err, "lock down the %s thread", vmm_thread_kind_name(kind));
        double ms = ms_since(&t);
        if (kind == VMM_THREAD_MAIN)
                log_info("jail: namespaces, root and pivot %.3f ms; ids %.3f ms; main thread's "
                         "filter %.3f ms",
                         ms_setup, ms_ids, ms);
        else
                log_debug("jail: %s thread's filter %.3f ms", vmm_thread_kind_name(kind), ms);
        if (selftest == (int) kind) {
                /* The test hook: personality() is on no list; the kernel
                 * must end the process here (SIGSYS). */
                log_warn("--jail-selftest: the %s thread calls personality()",
                         vmm_thread_kind_name(kind));
                syscall(SYS_personality, 0xffffffffUL);
                return berth_fail(err, EPERM, "jail: a forbidden system call was allowed");
        }
        return 0;
}
