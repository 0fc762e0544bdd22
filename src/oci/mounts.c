/* mounts.c — the container's filesystem: config mounts, devices, masked and
 * read-only paths.
 *
 * Every mount target inside the rootfs is opened with openat2(RESOLVE_IN_ROOT)
 * and mounted through its /proc/self/fd/N path, so a symlink planted in the
 * image (say /proc → /host/proc) resolves inside the rootfs and can never
 * send a mount onto the host.  After a mount the target is opened again so
 * that follow-up operations (remount, propagation) act on the new mount and
 * not on the directory under it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <linux/mount.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/log.h"
#include "common/util.h"
#include "oci/internal.h"

#define FDPATH(buf, fd) (snprintf(buf, sizeof(buf), "/proc/self/fd/%d", fd), buf)

static int openat2_in_root(int rootfd, const char *path)
{
        struct open_how how = {.flags = O_PATH | O_CLOEXEC,
                               .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
        while (*path == '/')
                path++;
        if (*path == 0)
                path = ".";
        return (int) syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

int oci_open_in_root(int rootfd, const char *path, bool create, bool dir, berth_error_t *err)
{
        int fd = openat2_in_root(rootfd, path);
        if (fd >= 0 || errno != ENOENT || !create) {
                if (fd < 0)
                        return berth_fail(err, errno, "open `%s` in the container's rootfs", path);
                return fd;
        }
        /* Create missing components one at a time, each looked up from the root. */
        cleanup_free char *copy = berth_xstrdup(path);
        size_t len = strlen(copy);
        for (size_t i = 1; i <= len; i++) {
                if (copy[i] != '/' && copy[i] != 0)
                        continue;
                bool last = copy[i] == 0 || copy[i + strspn(copy + i, "/")] == 0;
                char saved = copy[i];
                copy[i] = 0;
                int probe = openat2_in_root(rootfd, copy);
                if (probe >= 0) {
                        close(probe);
                } else if (errno == ENOENT) {
                        char *slash = strrchr(copy, '/');
                        const char *name = slash ? slash + 1 : copy;
                        if (slash)
                                *slash = 0;
                        cleanup_close int parent = openat2_in_root(rootfd, slash ? copy : "/");
                        if (slash)
                                *slash = '/';
                        if (parent < 0)
                                return berth_fail(err, errno, "open parent of `%s`", copy);
                        if (last && !dir) {
                                int f = openat(parent, name,
                                               O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
                                               0644);
                                if (f < 0 && errno != EEXIST)
                                        return berth_fail(err, errno, "create `%s`", copy);
                                if (f >= 0)
                                        close(f);
                        } else if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST) {
                                return berth_fail(err, errno, "mkdir `%s` in the rootfs", copy);
                        }
                } else {
                        return berth_fail(err, errno, "open `%s` in the rootfs", copy);
                }
                copy[i] = saved;
                if (last)
                        break;
        }
        fd = openat2_in_root(rootfd, path);
        if (fd < 0)
                return berth_fail(err, errno, "open `%s` in the container's rootfs", path);
        return fd;
}

/* Flags a less privileged mount namespace may not clear on a remount. */
static unsigned long locked_flags(const char *path)
{
        struct statvfs sv;
        unsigned long f = 0;
        if (statvfs(path, &sv) < 0)
                return 0;
        if (sv.f_flag & ST_NOSUID)
                f |= MS_NOSUID;
        if (sv.f_flag & ST_NODEV)
                f |= MS_NODEV;
        if (sv.f_flag & ST_NOEXEC)
                f |= MS_NOEXEC;
        if (sv.f_flag & ST_NOATIME)
                f |= MS_NOATIME;
        if (sv.f_flag & ST_NODIRATIME)
                f |= MS_NODIRATIME;
        if (sv.f_flag & ST_RELATIME)
                f |= MS_RELATIME;
        return f;
}

#define REMOUNT_FLAGS                                                                              \
        (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME | MS_NODIRATIME | MS_RELATIME | \
         MS_STRICTATIME | MS_SYNCHRONOUS | MS_DIRSYNC | MS_MANDLOCK | MS_LAZYTIME)

static int bind_remount(const char *target, unsigned long flags, bool in_userns, berth_error_t *err)
{
        unsigned long f = flags & REMOUNT_FLAGS;
        if (in_userns)
                f |= locked_flags(target);
        if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | f, NULL) < 0)
                return berth_fail(err, errno, "remount `%s` with its options", target);
        return 0;
}

static int mount_cgroup_tree(const struct oci_mount *m, int rootfd, int tfd, bool new_cgroupns,
                             const char *cgpath, bool in_userns, berth_error_t *err)
{
        char buf[64];
        struct statfs st;
        unsigned long fl = (m->flags & REMOUNT_FLAGS) | MS_NOSUID | MS_NODEV | MS_NOEXEC;
        if (statfs("/sys/fs/cgroup", &st) < 0)
                return berth_fail(err, errno, "statfs /sys/fs/cgroup");
        if (st.f_type == CGROUP2_SUPER_MAGIC) {
                if (new_cgroupns && mount("cgroup2", FDPATH(buf, tfd), "cgroup2", fl, NULL) == 0)
                        return 0;
                cleanup_free char *src = berth_xasprintf("/sys/fs/cgroup%s", cgpath);
                if (mount(src, FDPATH(buf, tfd), NULL, MS_BIND | MS_REC, NULL) < 0)
                        return berth_fail(err, errno, "bind the container's cgroup");
                return 0;
        }
        /* v1/hybrid: a tmpfs holding one mount per hierarchy, as the host has. */
        if (mount("tmpfs", FDPATH(buf, tfd), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                  "mode=755") < 0)
                return berth_fail(err, errno, "mount tmpfs for cgroups at `%s`", m->destination);
        /* look the path up again: tfd still names the directory under the tmpfs */
        cleanup_close int dfd = oci_open_in_root(rootfd, m->destination, false, true, err);
        if (dfd < 0)
                return -1;
        cleanup_dir DIR *d = opendir("/sys/fs/cgroup");
        struct dirent *e;
        if (d == NULL)
                return berth_fail(err, errno, "open /sys/fs/cgroup");
        /* cppcheck-suppress readdirCalled ; one thread, one directory stream */
        while ((e = readdir(d)) != NULL) {
                if (e->d_name[0] == '.')
                        continue;
                if (e->d_type == DT_LNK) {
                        char target[256];
                        cleanup_free char *lp = berth_xasprintf("/sys/fs/cgroup/%s", e->d_name);
                        ssize_t n = readlink(lp, target, sizeof(target) - 1);
                        if (n > 0) {
                                target[n] = 0;
                                if (symlinkat(target, dfd, e->d_name) < 0 && errno != EEXIST)
                                        return berth_fail(err, errno, "symlink cgroup `%s`",
                                                          e->d_name);
                        }
                        continue;
                }
                if (e->d_type != DT_DIR)
                        continue;
                if (mkdirat(dfd, e->d_name, 0755) < 0 && errno != EEXIST)
                        return berth_fail(err, errno, "mkdir cgroup `%s`", e->d_name);
                cleanup_close int sub = openat(dfd, e->d_name, O_PATH | O_CLOEXEC);
                if (sub < 0)
                        return berth_fail(err, errno, "open cgroup dir `%s`", e->d_name);
                bool unified = strcmp(e->d_name, "unified") == 0;
                cleanup_free char *opts = strcmp(e->d_name, "systemd") == 0
                                                  ? berth_xstrdup("none,name=systemd")
                                                  : berth_xstrdup(e->d_name);
                if (new_cgroupns &&
                    mount("cgroup", FDPATH(buf, sub), unified ? "cgroup2" : "cgroup", fl,
                          unified ? NULL : opts) == 0)
                        continue;
                cleanup_free char *src = berth_xasprintf("/sys/fs/cgroup/%s%s", e->d_name, cgpath);
                if (access(src, F_OK) != 0)
                        continue;
                if (mount(src, FDPATH(buf, sub), NULL, MS_BIND | MS_REC, NULL) < 0)
                        return berth_fail(err, errno, "bind cgroup `%s`", src);
                if (m->flags & MS_RDONLY) {
                        char p2[64];
                        cleanup_close int again = openat(dfd, e->d_name, O_PATH | O_CLOEXEC);
                        if (bind_remount(FDPATH(p2, again), fl, in_userns, err) < 0)
                                return -1;
                }
        }
        if (m->flags & MS_RDONLY &&
            mount(NULL, FDPATH(buf, dfd), NULL,
                  MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
                return berth_fail(err, errno, "remount cgroup tmpfs read-only");
        return 0;
}

/* Copy the tree under src into dst (both directory fds): files, directories,
 * symlinks and fifos with their modes, owners and times.  Nothing followed:
 * every name is opened relative to its directory with O_NOFOLLOW. */
static int copy_up(int src, int dst, const char *where, berth_error_t *err)
{
        int dfd = dup(src);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (d == NULL) {
                if (dfd >= 0)
                        close(dfd);
                return berth_fail(err, errno, "read `%s` for tmpcopyup", where);
        }
        int ret = 0;
        struct dirent *e;
        while (ret == 0 && (e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                struct stat st;
                if (fstatat(src, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        if (mkdirat(dst, e->d_name, st.st_mode & 07777) < 0 && errno != EEXIST) {
                                ret = berth_fail(err, errno, "tmpcopyup `%s/%s`", where, e->d_name);
                                break;
                        }
                        cleanup_close int s2 = openat(
                                src, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        cleanup_close int d2 = openat(
                                dst, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (s2 < 0 || d2 < 0) {
                                ret = berth_fail(err, errno, "tmpcopyup `%s/%s`", where, e->d_name);
                                break;
                        }
                        ret = copy_up(s2, d2, where, err);
                } else if (S_ISREG(st.st_mode)) {
                        cleanup_close int in =
                                openat(src, e->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                        cleanup_close int out =
                                openat(dst, e->d_name,
                                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                                       st.st_mode & 07777);
                        if (in < 0 || out < 0) {
                                ret = berth_fail(err, errno, "tmpcopyup `%s/%s`", where, e->d_name);
                                break;
                        }
                        char buf[65536];
                        ssize_t n;
                        while ((n = read(in, buf, sizeof(buf))) > 0)
                                if (berth_write_all(out, buf, (size_t) n) < 0) {
                                        n = -1;
                                        break;
                                }
                        if (n < 0) {
                                ret = berth_fail(err, errno, "tmpcopyup `%s/%s`", where, e->d_name);
                                break;
                        }
                } else if (S_ISLNK(st.st_mode)) {
                        char target[4096];
                        ssize_t n = readlinkat(src, e->d_name, target, sizeof(target) - 1);
                        if (n < 0)
                                continue;
                        target[n] = '\0';
                        if (symlinkat(target, dst, e->d_name) < 0 && errno != EEXIST) {
                                ret = berth_fail(err, errno, "tmpcopyup `%s/%s`", where, e->d_name);
                                break;
                        }
                } else if (S_ISFIFO(st.st_mode)) {
                        mknodat(dst, e->d_name, st.st_mode, 0);
                } else {
                        continue; /* device nodes and sockets are not copied up */
                }
                /* owner and times as they were; a failure here (unmapped ids) is not fatal */
                (void) !fchownat(dst, e->d_name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW);
                struct timespec ts[2] = {st.st_atim, st.st_mtim};
                utimensat(dst, e->d_name, ts, AT_SYMLINK_NOFOLLOW);
        }
        closedir(d);
        return ret;
}

/* A read-only tmpfs, or /dev, is mounted read-write and made read-only at the end (as runc
 * does): /dev still gets its nodes, /dev/pts and the rest, a tmpfs its copied-up files. */
static bool ro_later(const struct oci_mount *m)
{
        size_t n = strlen(m->destination);
        while (n > 1 && m->destination[n - 1] == '/')
                n--;
        return (m->flags & MS_RDONLY) && ((n == 4 && strncmp(m->destination, "/dev", 4) == 0) ||
                                          (!m->bind && m->type && strcmp(m->type, "tmpfs") == 0));
}

static int mount_one(const struct oci_mount *m, int rootfd, bool in_userns, bool new_cgroupns,
                     const char *cgpath,
                     int (*bind_source)(void *arg, size_t i, berth_error_t *err), void *arg,
                     size_t index, berth_error_t *err)
{
        unsigned long flags = m->flags & ~(ro_later(m) ? MS_RDONLY : 0);
        char buf[64], srcbuf[64];
        cleanup_close int tfd = -1, under = -1, src_fd = -1;
        bool is_dir = true;
        const char *bsrc = m->source;
        if (m->bind) {
                struct stat sst;
                int r = stat(bsrc, &sst);
                if (r < 0 && errno == EACCES && bind_source) {
                        /* as runc: the runtime opens what a user namespace may not search (a
                         * source under a root-only directory); /proc/self/fd/N needs no
                         * search permission on the path */
                        src_fd = bind_source(arg, index, err);
                        if (src_fd == -2)
                                return -1;
                        /* -1: errno is why the runtime could not open it either */
                        if (src_fd >= 0 && (r = fstat(src_fd, &sst)) == 0)
                                bsrc = FDPATH(srcbuf, src_fd);
                }
                if (r < 0)
                        return berth_fail(err, errno, "bind mount source `%s`", m->source);
                is_dir = S_ISDIR(sst.st_mode);
        }
        tfd = oci_open_in_root(rootfd, m->destination, true, is_dir, err);
        if (tfd < 0)
                return -1;
        if (m->bind) {
                if (mount(bsrc, FDPATH(buf, tfd), NULL, MS_BIND | (m->flags & MS_REC), NULL) < 0)
                        return berth_fail(err, errno, "bind mount `%s` on `%s`", m->source,
                                          m->destination);
        } else if (m->type == NULL) {
                return berth_fail(err, EINVAL, "mount `%s` has no type", m->destination);
        } else if (strcmp(m->type, "cgroup") == 0 || strcmp(m->type, "cgroup2") == 0) {
                if (mount_cgroup_tree(m, rootfd, tfd, new_cgroupns, cgpath, in_userns, err) < 0)
                        return -1;
        } else {
                const char *src = m->source ? m->source : m->type;
                unsigned long fl = flags & ~(MS_REMOUNT | MS_BIND | MS_REC);
                /* tmpcopyup: keep a handle on what the tmpfs will cover */
                if (m->tmpcopyup && strcmp(m->type, "tmpfs") == 0) {
                        under = openat(tfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (under < 0)
                                return berth_fail(err, errno, "open `%s` for tmpcopyup",
                                                  m->destination);
                }
                int r = mount(src, FDPATH(buf, tfd), m->type, fl, m->data);
                if (r < 0 && errno == EINVAL && strcmp(m->type, "devpts") == 0 && m->data &&
                    strstr(m->data, "gid=")) {
                        /* gid 5 (tty) may be unmapped in a user namespace */
                        cleanup_free char *d = berth_xstrdup(m->data);
                        char *g = strstr(d, "gid="), *end = strchr(g, ',');
                        memmove(g, end ? end + 1 : g + strlen(g), strlen(end ? end + 1 : "") + 1);
                        r = mount(src, FDPATH(buf, tfd), m->type, fl, d);
                }
                if (r < 0 && (errno == EPERM || errno == EBUSY) &&
                    (strcmp(m->type, "sysfs") == 0 || strcmp(m->type, "mqueue") == 0)) {
                        /* not allowed without owning the net ns / ipc ns: bind the host's */
                        const char *host = strcmp(m->type, "sysfs") == 0 ? "/sys" : "/dev/mqueue";
                        r = mount(host, FDPATH(buf, tfd), NULL, MS_BIND | MS_REC, NULL);
                        if (r == 0) {
                                cleanup_close int again = -1;
                                again = oci_open_in_root(rootfd, m->destination, false, true, err);
                                if (again < 0 || bind_remount(FDPATH(buf, again), fl | MS_RDONLY,
                                                              in_userns, err) < 0)
                                        return -1;
                        }
                }
                if (r < 0)
                        return berth_fail(err, errno, "mount %s on `%s`", m->type, m->destination);
        }
        cleanup_close int nfd = oci_open_in_root(rootfd, m->destination, false, is_dir, err);
        if (nfd < 0)
                return -1;
        if (under >= 0) {
                cleanup_close int top = openat(nfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (top < 0 || copy_up(under, top, m->destination, err) < 0)
                        return top < 0 ? berth_fail(err, errno, "open tmpfs `%s`", m->destination)
                                       : -1;
        }
        FDPATH(buf, nfd);
        if (m->bind && (flags & REMOUNT_FLAGS) && bind_remount(buf, flags, in_userns, err) < 0)
                return -1;
        if (m->propagation && mount(NULL, buf, NULL, m->propagation, NULL) < 0)
                return berth_fail(err, errno, "set propagation of `%s`", m->destination);
        if (m->rec_attr_set || m->rec_attr_clr) {
                struct mount_attr attr = {.attr_set = m->rec_attr_set, .attr_clr = m->rec_attr_clr};
                if (syscall(SYS_mount_setattr, nfd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
                            sizeof(attr)) < 0)
                        return berth_fail(err, errno, "set recursive attributes of `%s`",
                                          m->destination);
        }
        return 0;
}

int oci_mounts_setup(const struct oci_spec *s, const char *rootfs, int rootfd, bool in_userns,
                     bool new_cgroupns, const char *cgpath,
                     int (*bind_source)(void *arg, size_t i, berth_error_t *err),
                     int (*before_cgroup)(void *arg, berth_error_t *err), void *arg,
                     berth_error_t *err)
{
        for (size_t i = 0; i < s->n_mounts; i++) {
                const char *t = s->mounts[i].type;
                if (before_cgroup && t && (strcmp(t, "cgroup") == 0 || strcmp(t, "cgroup2") == 0)) {
                        if (before_cgroup(arg, err) < 0)
                                return -1;
                        before_cgroup = NULL;
                }
                if (mount_one(&s->mounts[i], rootfd, in_userns, new_cgroupns, cgpath, bind_source,
                              arg, i, err) < 0)
                        return berth_wrap(err, "mount `%s`", s->mounts[i].destination);
        }
        return 0;
}

int oci_bind_source_send(const struct oci_spec *s, pid_t pid, int sync_fd,
                         const struct oci_sync_msg *m, berth_error_t *err)
{
        struct oci_sync_msg reply = {.type = OCI_SYNC_MOUNTS};
        size_t len = offsetof(struct oci_sync_msg, text) + 1;
        cleanup_close int fd = -1;
        if (m->errnum < 0 || (size_t) m->errnum >= s->n_mounts || !s->mounts[m->errnum].bind)
                return berth_fail(err, EPROTO, "the init asked for a mount that is no bind mount");
        const char *source = s->mounts[m->errnum].source;
        char root[32];
        snprintf(root, sizeof(root), "/proc/%d/root", (int) pid);
        /* The init's root, not ours: the fd must name a mount of the init's mount namespace
         * (runc's parent opens it after entering that namespace).  A relative source is the
         * init's business (its cwd); RESOLVE_IN_ROOT keeps absolute symlinks in that tree. */
        cleanup_close int rfd =
                source[0] == '/' ? open(root, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
        if (rfd >= 0) {
                struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
                fd = (int) syscall(SYS_openat2, rfd, source, &how, sizeof(how));
        }
        if (fd < 0) {
                /* without a fd, errnum says why (a relative source: the init's own EACCES) */
                reply.errnum = source[0] == '/' ? errno : EACCES;
                log_debug("create: bind source `%s` not opened for the init: %s", source,
                          strerror(reply.errnum));
                if (send(sync_fd, &reply, len, MSG_NOSIGNAL) < 0)
                        return berth_fail(err, errno, "answer the init");
                return 0;
        }
        log_debug("create: bind source `%s` opened for the init", source);
        return berth_send_fd(sync_fd, fd, &reply, len, err);
}

/* ----------------------------------------------------------------- devices */

static int make_device(int rootfd, const struct oci_device *d, bool in_userns, berth_error_t *err)
{
        char buf[64];
        cleanup_free char *parent = berth_xstrdup(d->path);
        char *slash = strrchr(parent, '/');
        const char *name = d->path + (slash - parent) + 1;
        *slash = 0;
        cleanup_close int pfd = oci_open_in_root(rootfd, *parent ? parent : "/", true, true, err);
        if (pfd < 0)
                return -1;
        if (in_userns) {
                /* mknod is not allowed in a user namespace: bind the host's node. */
                cleanup_close int tfd = oci_open_in_root(rootfd, d->path, true, false, err);
                if (tfd < 0)
                        return -1;
                if (mount(d->path, FDPATH(buf, tfd), NULL, MS_BIND, NULL) < 0)
                        return berth_fail(err, errno, "bind device `%s`", d->path);
                return 0;
        }
        mode_t type = d->type == 'b' ? S_IFBLK : d->type == 'p' ? S_IFIFO : S_IFCHR;
        mode_t mode = d->mode == OCI_UNSET ? 0666 : (mode_t) d->mode;
        dev_t dev = d->type == 'p' ? 0 : makedev(d->major, d->minor);
        unlinkat(pfd, name, 0);
        if (mknodat(pfd, name, type | mode, dev) < 0)
                return berth_fail(err, errno, "mknod `%s`", d->path);
        cleanup_close int nfd = openat(pfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (nfd < 0)
                return berth_fail(err, errno, "open device `%s`", d->path);
        FDPATH(buf, nfd);
        if (chmod(buf, mode) < 0)
                return berth_fail(err, errno, "chmod device `%s`", d->path);
        if (fchownat(nfd, "", d->uid == OCI_UNSET ? 0 : (uid_t) d->uid,
                     d->gid == OCI_UNSET ? 0 : (gid_t) d->gid, AT_EMPTY_PATH) < 0)
                return berth_fail(err, errno, "chown device `%s`", d->path);
        return 0;
}

int oci_devices_setup(const struct oci_spec *s, int rootfd, bool in_userns, berth_error_t *err)
{
        static const struct {
                const char *path;
                int major, minor;
        } defaults[] = {{"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
                        {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0}};
        static const char *links[][2] = {
                {"/proc/self/fd", "fd"},       {"/proc/self/fd/0", "stdin"},
                {"/proc/self/fd/1", "stdout"}, {"/proc/self/fd/2", "stderr"},
                {"pts/ptmx", "ptmx"},          {"/proc/kcore", "core"}};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(defaults); i++) {
                bool overridden = false;
                for (size_t k = 0; k < s->n_devices; k++)
                        overridden |= strcmp(s->devices[k].path, defaults[i].path) == 0;
                if (overridden)
                        continue;
                char path[32];
                snprintf(path, sizeof(path), "%s", defaults[i].path);
                struct oci_device d = {path, 'c', defaults[i].major, defaults[i].minor, 0666, 0, 0};
                if (make_device(rootfd, &d, in_userns, err) < 0)
                        return -1;
        }
        for (size_t k = 0; k < s->n_devices; k++)
                if (make_device(rootfd, &s->devices[k], in_userns, err) < 0)
                        return -1;
        cleanup_close int dev = oci_open_in_root(rootfd, "/dev", true, true, err);
        if (dev < 0)
                return -1;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(links); i++) {
                /* as runc: /dev/core only where the kernel has /proc/kcore (CONFIG_PROC_KCORE) */
                if (strcmp(links[i][1], "core") == 0 && access("/proc/kcore", F_OK) != 0)
                        continue;
                if (strcmp(links[i][1], "ptmx") == 0) {
                        /* replace a ptmx node with the link to this devpts instance */
                        struct stat st;
                        if (fstatat(dev, "ptmx", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                            !S_ISLNK(st.st_mode))
                                unlinkat(dev, "ptmx", 0);
                }
                if (symlinkat(links[i][0], dev, links[i][1]) < 0 && errno != EEXIST)
                        return berth_fail(err, errno, "symlink /dev/%s", links[i][1]);
        }
        return 0;
}

/* ------------------------------------------------- after pivot_root: paths */

static int mask_path(const char *path, berth_error_t *err)
{
        struct stat st;
        if (stat(path, &st) < 0)
                return errno == ENOENT || errno == ENOTDIR
                               ? 0
                               : berth_fail(err, errno, "stat `%s`", path);
        int r = S_ISDIR(st.st_mode) ? mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0k")
                                    : mount("/dev/null", path, NULL, MS_BIND, NULL);
        if (r < 0)
                return berth_fail(err, errno, "mask `%s`", path);
        return 0;
}

static int readonly_path(const char *path, bool in_userns, berth_error_t *err)
{
        if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0)
                return errno == ENOENT ? 0 : berth_fail(err, errno, "bind `%s`", path);
        return bind_remount(path, MS_RDONLY, in_userns, err);
}

static int write_sysctl(const char *key, const char *value, berth_error_t *err)
{
        cleanup_free char *path = berth_xasprintf("/proc/sys/%s", key);
        for (char *p = path + 10; *p; p++)
                if (*p == '.')
                        *p = '/';
        if (strstr(path, "..") || key[0] == '/')
                return berth_fail(err, EINVAL, "invalid sysctl `%s`", key);
        return berth_write_file(path, value, strlen(value), err) < 0
                       ? berth_wrap(err, "set sysctl `%s`", key)
                       : 0;
}

int oci_rootfs_finish(const struct oci_spec *s, bool in_userns, berth_error_t *err)
{
        for (size_t i = 0; i < s->n_sysctl; i++)
                if (write_sysctl(s->sysctl[i].key, s->sysctl[i].value, err) < 0)
                        return -1;
        for (size_t i = 0; i < s->n_readonly; i++)
                if (readonly_path(s->readonly_paths[i], in_userns, err) < 0)
                        return -1;
        for (size_t i = 0; i < s->n_masked; i++)
                if (mask_path(s->masked_paths[i], err) < 0)
                        return -1;
        for (size_t i = 0; i < s->n_mounts; i++) {
                const struct oci_mount *m = &s->mounts[i];
                if (!ro_later(m))
                        continue;
                int r = m->bind ? bind_remount(m->destination, m->flags, in_userns, err)
                                : mount(NULL, m->destination, NULL,
                                        MS_REMOUNT | (m->flags & ~(MS_BIND | MS_REC)), m->data);
                if (r < 0)
                        return m->bind ? -1
                                       : berth_fail(err, errno, "remount `%s` read-only",
                                                    m->destination);
        }
        if (s->root_readonly && bind_remount("/", MS_RDONLY, in_userns, err) < 0)
                return berth_wrap(err, "make the root filesystem read-only");
        if (s->rootfs_propagation && mount(NULL, "/", NULL, s->rootfs_propagation, NULL) < 0)
                return berth_fail(err, errno, "set rootfsPropagation");
        return 0;
}
