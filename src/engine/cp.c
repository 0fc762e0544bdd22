/* cp.c — tar streams in and out of a container's filesystem (see cp.h). */
#include "engine/cp.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "engine/lifecycle.h"
#include "engine/rootfs.h"

static int open_in_root(int root_fd, const char *path, int flags, berth_error_t *err)
{
        if (root_fd == AT_FDCWD) { /* the host's side: ordinary resolution */
                int fd = openat(AT_FDCWD, path, flags | O_CLOEXEC);
                if (fd < 0)
                        return berth_fail(err, errno, "open `%s`", path);
                return fd;
        }
        const char *rel = path;
        while (*rel == '/')
                rel++;
        struct open_how how = {.flags = (uint64_t) (flags | O_CLOEXEC),
                               .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
        int fd = (int) syscall(SYS_openat2, root_fd, *rel ? rel : ".", &how, sizeof(how));
        if (fd < 0)
                return berth_fail(err, errno, "open `%s` in the container", path);
        return fd;
}

/* The directory holding path's last component, opened (flags | O_DIRECTORY) inside root_fd, so
 * that the component itself can be looked at without following it: its name in *base ("." for
 * "/" or "dir/."), the directory's path in *parent ("" for the root); both malloc'ed. */
static int open_parent(int root_fd, const char *path, int flags, char **parent, char **base,
                       berth_error_t *err)
{
        cleanup_free char *copy = berth_xstrdup(path);
        size_t l = strlen(copy);
        while (l > 1 && copy[l - 1] == '/')
                copy[--l] = '\0';
        char *slash = strrchr(copy, '/');
        const char *b = slash ? slash + 1 : copy;
        *base = berth_xstrdup(*b ? b : ".");
        if (slash)
                *slash = '\0';
        *parent = berth_xstrdup(slash ? copy : ".");
        return open_in_root(root_fd, **parent ? *parent : "/", flags | O_DIRECTORY, err);
}

struct tar_out {
        struct archive *a;
        berth_error_t *err;
};

static int add_entry(struct tar_out *t, int dirfd, const char *name, const char *tar_name);

static int add_dir_children(struct tar_out *t, int fd, const char *tar_name)
{
        int dup_fd = dup(fd);
        if (dup_fd < 0)
                return berth_fail(t->err, errno, "dup");
        cleanup_dir DIR *d = fdopendir(dup_fd);
        if (d == NULL) {
                close(dup_fd);
                return berth_fail(t->err, errno, "read directory `%s`", tar_name);
        }
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                cleanup_free char *child = berth_xasprintf("%s/%s", tar_name, de->d_name);
                if (add_entry(t, fd, de->d_name, child) < 0)
                        return -1;
        }
        return 0;
}

/* One entry (and, for a directory, what is under it), by fd: nothing here
 * follows a symlink. */
static int add_entry(struct tar_out *t, int dirfd, const char *name, const char *tar_name)
{
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return berth_fail(t->err, errno, "stat `%s`", tar_name);
        if (S_ISSOCK(st.st_mode))
                return 0; /* tar has no sockets (Docker's archive skips them too) */
        struct archive_entry *e = archive_entry_new();
        archive_entry_copy_stat(e, &st);
        archive_entry_set_pathname(e, tar_name);
        int fd = -1, ret = 0;
        if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
                if (n < 0) {
                        ret = berth_fail(t->err, errno, "readlink `%s`", tar_name);
                        goto out;
                }
                target[n] = '\0';
                archive_entry_set_symlink(e, target);
        } else if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
                fd = openat(dirfd, name,
                            O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
                                    (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
                if (fd < 0) {
                        ret = berth_fail(t->err, errno, "open `%s`", tar_name);
                        goto out;
                }
        }
        if (archive_write_header(t->a, e) != ARCHIVE_OK) {
                ret = berth_fail(t->err, archive_errno(t->a), "tar header for `%s`: %s", tar_name,
                                 archive_error_string(t->a));
                goto out;
        }
        if (S_ISREG(st.st_mode)) {
                char buf[65536];
                ssize_t r;
                while ((r = read(fd, buf, sizeof(buf))) > 0) {
                        if (archive_write_data(t->a, buf, (size_t) r) < 0) {
                                ret = berth_fail(t->err, archive_errno(t->a), "write tar: %s",
                                                 archive_error_string(t->a));
                                goto out;
                        }
                }
                if (r < 0)
                        ret = berth_fail(t->err, errno, "read `%s`", tar_name);
        } else if (S_ISDIR(st.st_mode)) {
                ret = add_dir_children(t, fd, tar_name);
        }
out:
        if (fd >= 0)
                close(fd);
        archive_entry_free(e);
        return ret;
}

int eng_cp_tar_from(int root_fd, const char *path, const char *top_name, int out_fd,
                    berth_error_t *err)
{
        /* the parent resolved in the root, the last component looked at without following */
        cleanup_free char *parent = NULL, *base = NULL;
        cleanup_close int pfd = open_parent(root_fd, path, O_RDONLY, &parent, &base, err);
        if (pfd < 0)
                return -1;
        struct tar_out t = {.a = archive_write_new(), .err = err};
        archive_write_set_format_pax_restricted(t.a);
        int ret = 0;
        if (archive_write_open_fd(t.a, out_fd) != ARCHIVE_OK) {
                ret = berth_fail(err, archive_errno(t.a), "write tar: %s",
                                 archive_error_string(t.a));
        } else if (strcmp(base, ".") == 0) {
                /* "dir/." copies what is in dir, not dir itself */
                cleanup_close int dfd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                ret = dfd < 0 ? berth_fail(err, errno, "open `%s`", path)
                              : add_dir_children(&t, dfd, top_name ? top_name : ".");
        } else {
                ret = add_entry(&t, pfd, base, top_name ? top_name : base);
        }
        if (archive_write_close(t.a) != ARCHIVE_OK && ret == 0)
                ret = berth_fail(err, archive_errno(t.a), "write tar: %s",
                                 archive_error_string(t.a));
        archive_write_free(t.a);
        return ret;
}

/* The directory that will hold name, created as needed, each component
 * opened under the last (never following a symlink out of dest). */
static int parent_fd(int dest_fd, const char *name, const char **leaf, berth_error_t *err)
{
        cleanup_free char *copy = berth_xstrdup(name);
        int fd = dup(dest_fd);
        if (fd < 0) {
                berth_fail(err, errno, "dup");
                return -1; /* (not berth_fail's value: the analyzer can't see it is -1) */
        }
        char *save = NULL, *next;
        char *comp = strtok_r(copy, "/", &save);
        while (comp && (next = strtok_r(NULL, "/", &save)) != NULL) {
                if (strcmp(comp, ".") != 0) {
                        mkdirat(fd, comp, 0755);
                        int nfd = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        close(fd);
                        if (nfd < 0) {
                                berth_fail(err, errno, "open directory `%s` of `%s`", comp, name);
                                return -1;
                        }
                        fd = nfd;
                }
                comp = next;
        }
        *leaf = name + (comp ? (size_t) (comp - copy) : strlen(name));
        return fd;
}

static bool name_safe(const char *n)
{
        if (*n == '/')
                return false;
        for (const char *p = n; *p;) {
                size_t l = strcspn(p, "/");
                if (l == 2 && p[0] == '.' && p[1] == '.')
                        return false;
                p += l + (p[l] == '/');
        }
        return *n != '\0';
}

static int tar_read_error(struct archive *a, berth_error_t *err)
{
        return berth_fail(err, archive_errno(a), "read tar: %s", archive_error_string(a));
}

struct archive *eng_cp_tar_reader(int in_fd, berth_error_t *err)
{
        struct archive *a = archive_read_new();
        archive_read_support_format_all(a);
        archive_read_support_filter_all(a);
        if (archive_read_open_fd(a, in_fd, 65536) != ARCHIVE_OK) {
                tar_read_error(a, err);
                archive_read_free(a);
                return NULL;
        }
        return a;
}

int eng_cp_tar_next(struct archive *a, struct archive_entry **e, const char **name,
                    berth_error_t *err)
{
        int r;
        while ((r = archive_read_next_header(a, e)) == ARCHIVE_OK) {
                const char *n = archive_entry_pathname(*e);
                while (n && n[0] == '.' && n[1] == '/')
                        n += 2;
                if (n == NULL || strcmp(n, ".") == 0 || *n == '\0')
                        continue;
                *name = n;
                return 1;
        }
        if (r == ARCHIVE_EOF)
                return 0;
        tar_read_error(a, err);
        return -1;
}

/* Owner and mode of what was just made; an unprivileged caller can't give
 * files away, which only matters when the archive's owners were asked for. */
static int set_meta(int pfd, const char *leaf, uid_t uid, gid_t gid, mode_t mode, bool keep_owner,
                    const char *name, berth_error_t *err)
{
        if (fchownat(pfd, leaf, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 &&
            (keep_owner || errno != EPERM))
                return berth_fail(err, errno, "chown `%s`", name);
        if (!S_ISLNK(mode) && fchmodat(pfd, leaf, mode & 07777, 0) < 0)
                return berth_fail(err, errno, "chmod `%s`", name);
        return 0;
}

/* Onto the host, from a container: what it holds is the container's to choose, so without
 * -a no device node, FIFO or socket is made and no file keeps its setuid or setgid bit (a
 * `brw-rw-rw-` of the host's disk, a setuid-root shell).  Is this entry to be skipped? */
static bool host_unsafe_skip(mode_t mode, const char *name)
{
        if (!S_ISCHR(mode) && !S_ISBLK(mode) && !S_ISFIFO(mode) && !S_ISSOCK(mode))
                return false;
        log_warn("skipping `%s`: a %s from the container is not made on the host without -a", name,
                 S_ISCHR(mode)    ? "character device"
                 : S_ISBLK(mode)  ? "block device"
                 : S_ISFIFO(mode) ? "FIFO"
                                  : "socket");
        return true;
}

int eng_cp_tar_into(int root_fd, const char *dir, int in_fd, bool keep_owner, berth_error_t *err)
{
        bool host_safe = root_fd == AT_FDCWD && !keep_owner;
        size_t skipped = 0;
        cleanup_close int dest = open_in_root(root_fd, dir, O_RDONLY | O_DIRECTORY, err);
        if (dest < 0)
                return berth_wrap(err, "copy into `%s`", dir);
        struct archive *a = eng_cp_tar_reader(in_fd, err);
        if (a == NULL)
                return -1;
        int ret = 0;
        struct archive_entry *e;
        const char *name = NULL;
        int r;
        while ((r = eng_cp_tar_next(a, &e, &name, err)) > 0) {
                if (!name_safe(name)) {
                        ret = berth_fail(err, EPERM,
                                         "refusing tar entry `%s`: outside the destination", name);
                        break;
                }
                const char *leaf = NULL;
                cleanup_close int pfd = parent_fd(dest, name, &leaf, err);
                if (pfd < 0) {
                        ret = -1;
                        break;
                }
                mode_t mode = archive_entry_mode(e);
                if (host_safe && !archive_entry_hardlink(e) && host_unsafe_skip(mode, name)) {
                        skipped++;
                        continue;
                }
                if (host_safe && S_ISREG(mode))
                        mode &= (mode_t) ~(S_ISUID | S_ISGID);
                uid_t uid = keep_owner ? (uid_t) archive_entry_uid(e) : 0;
                gid_t gid = keep_owner ? (gid_t) archive_entry_gid(e) : 0;
                struct stat old;
                bool exists = fstatat(pfd, leaf, &old, AT_SYMLINK_NOFOLLOW) == 0;
                if (exists && !(S_ISDIR(old.st_mode) && S_ISDIR(mode)))
                        unlinkat(pfd, leaf, S_ISDIR(old.st_mode) ? AT_REMOVEDIR : 0);
                const char *hl = archive_entry_hardlink(e);
                if (hl) {
                        if (host_safe && skipped > 0 && name_safe(hl) &&
                            faccessat(dest, hl, F_OK, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) {
                                log_warn("skipping `%s`: a link to `%s`, which was skipped", name,
                                         hl);
                                continue;
                        }
                        if (!name_safe(hl) || linkat(dest, hl, pfd, leaf, 0) < 0) {
                                ret = berth_fail(err, errno ? errno : EPERM, "hard link `%s`",
                                                 name);
                                break;
                        }
                        continue;
                }
                if (S_ISDIR(mode)) {
                        if (mkdirat(pfd, leaf, mode & 07777) < 0 && errno != EEXIST) {
                                ret = berth_fail(err, errno, "mkdir `%s`", name);
                                break;
                        }
                        if (set_meta(pfd, leaf, uid, gid, mode, keep_owner, name, err) < 0) {
                                ret = -1;
                                break;
                        }
                } else if (S_ISLNK(mode)) {
                        if (symlinkat(archive_entry_symlink(e), pfd, leaf) < 0) {
                                ret = berth_fail(err, errno, "symlink `%s`", name);
                                break;
                        }
                        if (set_meta(pfd, leaf, uid, gid, mode, keep_owner, name, err) < 0) {
                                ret = -1;
                                break;
                        }
                } else if (S_ISREG(mode)) {
                        cleanup_close int fd =
                                openat(pfd, leaf,
                                       O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                        if (fd < 0) {
                                ret = berth_fail(err, errno, "create `%s`", name);
                                break;
                        }
                        const void *buf;
                        size_t len;
                        la_int64_t off;
                        int dr;
                        while ((dr = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
                                if (pwrite(fd, buf, len, off) != (ssize_t) len) {
                                        ret = berth_fail(err, errno, "write `%s`", name);
                                        break;
                                }
                        }
                        if (ret == 0 && dr != ARCHIVE_EOF)
                                ret = tar_read_error(a, err);
                        if (ret == 0 && ftruncate(fd, archive_entry_size(e)) < 0)
                                ret = berth_fail(err, errno, "size `%s`", name);
                        if (ret < 0)
                                break;
                        if (set_meta(pfd, leaf, uid, gid, mode, keep_owner, name, err) < 0) {
                                ret = -1;
                                break;
                        }
                        struct timespec ts[2] = {{archive_entry_atime(e), 0},
                                                 {archive_entry_mtime(e), 0}};
                        futimens(fd, ts);
                } else if (S_ISCHR(mode) || S_ISBLK(mode) || S_ISFIFO(mode)) {
                        if (mknodat(pfd, leaf, mode, archive_entry_rdev(e)) < 0) {
                                ret = berth_fail(err, errno, "mknod `%s`", name);
                                break;
                        }
                        if (set_meta(pfd, leaf, uid, gid, mode, keep_owner, name, err) < 0) {
                                ret = -1;
                                break;
                        }
                }
        }
        if (r < 0)
                ret = -1;
        archive_read_free(a);
        return ret;
}

int eng_cp_stat(int root_fd, const char *path, mode_t *mode)
{
        berth_error_t err = NULL;
        cleanup_close int fd = open_in_root(root_fd, path, O_PATH, &err);
        int e = err ? err->errnum : 0;
        berth_error_release(&err);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                errno = fd < 0 ? e : errno;
                return -1;
        }
        *mode = st.st_mode & S_IFMT;
        return 0;
}

int eng_cp_container_root(struct eng_ctx *e, struct eng_container *c, berth_error_t *err)
{
        eng_reconcile(e, c, NULL);
        const char *st = eng_container_status(c);
        if (strcmp(st, "running") == 0 || strcmp(st, "paused") == 0) {
                int pid = (int) json_integer_value(json_object_get(eng_container_state(c), "Pid"));
                char p[64];
                snprintf(p, sizeof(p), "/proc/%d/root", pid);
                int fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (fd >= 0)
                        return fd;
        } else {
                /* a created or stopped container's overlay may not be mounted (after a
                 * reboot): the copy must land in it, not in the empty mount point */
                berth_error_t merr = NULL;
                if (eng_rootfs_mount(e, c, &merr) < 0)
                        berth_error_release(&merr);
        }
        const char *merged = json_string_value(json_object_get(
                json_object_get(json_object_get(c->doc, "GraphDriver"), "Data"), "MergedDir"));
        int fd = merged ? open(merged, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
        if (fd < 0)
                return berth_fail_status(err, 1, errno, "the root filesystem of %.12s is not there",
                                         c->id);
        return fd;
}

int eng_cp_lstat(int root_fd, const char *path, struct stat *st, char **link_target,
                 berth_error_t *err)
{
        *link_target = NULL;
        cleanup_free char *parent = NULL, *base = NULL;
        cleanup_close int pfd = open_parent(root_fd, path, O_PATH, &parent, &base, err);
        if (pfd < 0)
                return -1;
        if (fstatat(pfd, base, st, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) < 0)
                return berth_fail(err, errno, "stat `%s` in the container", path);
        if (S_ISLNK(st->st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(pfd, base, target, sizeof(target) - 1);
                if (n < 0)
                        return berth_fail(err, errno, "readlink `%s` in the container", path);
                target[n] = '\0';
                /* as dockerd gives it: a path in the container */
                *link_target = target[0] == '/'
                                       ? berth_xstrdup(target)
                                       : berth_xasprintf("%s/%s", *parent ? parent : "", target);
        }
        return 0;
}
