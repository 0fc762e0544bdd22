/* vfs.c — the vfs graph driver's copy: apply an unpacked layer (overlay-style
 * whiteouts and opaque directories) onto a plain directory, for hosts where
 * overlayfs cannot be used.  Slow and space-hungry by design; the point is that
 * it works everywhere.  Nothing in dst is ever followed: directories are opened
 * with O_NOFOLLOW and every entry is replaced, not written through. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/util.h"
#include "image/image.h"

struct link_seen {
        dev_t dev;
        ino_t ino;
        char *path; /* relative to the destination root */
};

struct vfs_copy {
        int dst_root;
        struct link_seen *links;
        size_t n_links;
};

static int copy_xattrs(int sfd, int dfd, const char *path, berth_error_t *err)
{
        char names[4096];
        ssize_t n = flistxattr(sfd, names, sizeof(names));
        if (n < 0)
                return errno == ENOTSUP ? 0 : berth_fail(err, errno, "list xattrs of `%s`", path);
        for (char *p = names; p < names + n; p += strlen(p) + 1) {
                if (img_is_overlay_xattr(p))
                        continue;
                char val[4096];
                ssize_t v = fgetxattr(sfd, p, val, sizeof(val));
                if (v < 0)
                        continue;
                if (fsetxattr(dfd, p, val, (size_t) v, 0) < 0 && errno != ENOTSUP)
                        return berth_fail(err, errno, "set xattr %s on `%s`", p, path);
        }
        return 0;
}

static int copy_meta(int sfd, int dfd, const struct stat *st, const char *path, bool times,
                     berth_error_t *err)
{
        if (geteuid() == 0 && fchown(dfd, st->st_uid, st->st_gid) < 0)
                return berth_fail(err, errno, "chown `%s`", path);
        if (fchmod(dfd, st->st_mode & 07777) < 0)
                return berth_fail(err, errno, "chmod `%s`", path);
        if (copy_xattrs(sfd, dfd, path, err) < 0)
                return -1;
        if (times) {
                struct timespec ts[2] = {st->st_atim, st->st_mtim};
                (void) futimens(dfd, ts);
        }
        return 0;
}

static int copy_data(int sfd, int dfd, const char *path, berth_error_t *err)
{
        for (;;) {
                ssize_t n = copy_file_range(sfd, NULL, dfd, NULL, 1 << 30, 0);
                if (n == 0)
                        return 0;
                if (n > 0)
                        continue;
                if (errno != EXDEV && errno != ENOSYS && errno != EINVAL)
                        return berth_fail(err, errno, "copy `%s`", path);
                break;
        }
        char buf[1 << 16];
        ssize_t r;
        while ((r = read(sfd, buf, sizeof(buf))) > 0)
                if (berth_write_all(dfd, buf, (size_t) r) < 0)
                        return berth_fail(err, errno, "write `%s`", path);
        return r < 0 ? berth_fail(err, errno, "read `%s`", path) : 0;
}

/* Opaque: the overlay xattr (img_dir_is_opaque), or (layers unpacked without privilege) a
 * ".wh..wh..opq" file inside. */
static bool is_opaque(int fd)
{
        if (img_dir_is_opaque(fd))
                return true;
        return faccessat(fd, ".wh..wh..opq", F_OK, AT_SYMLINK_NOFOLLOW) == 0;
}

static int copy_tree(struct vfs_copy *c, int sdir, int ddir, const char *rel, berth_error_t *err);

static int copy_entry(struct vfs_copy *c, int sdir, int ddir, const char *name, const char *rel,
                      berth_error_t *err)
{
        struct stat st, dst;
        if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return berth_fail(err, errno, "stat `%s`", rel);
        bool have = fstatat(ddir, name, &dst, AT_SYMLINK_NOFOLLOW) == 0;
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
                return img_rm_rf_at(ddir, name, err); /* whiteout */
        /* whiteouts as files, from layers unpacked without privilege */
        if (S_ISREG(st.st_mode) && berth_str_has_prefix(name, ".wh.")) {
                if (berth_str_has_prefix(name, ".wh..wh."))
                        return 0; /* the opaque marker (see is_opaque) or aufs bookkeeping */
                return img_rm_rf_at(ddir, name + 4, err);
        }
        if (S_ISDIR(st.st_mode)) {
                cleanup_close int sfd =
                        openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sfd < 0)
                        return berth_fail(err, errno, "open `%s`", rel);
                if (have && (!S_ISDIR(dst.st_mode) || is_opaque(sfd))) {
                        if (img_rm_rf_at(ddir, name, err) < 0)
                                return -1;
                        have = false;
                }
                if (!have && mkdirat(ddir, name, 0700) < 0)
                        return berth_fail(err, errno, "mkdir `%s`", rel);
                cleanup_close int dfd =
                        openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dfd < 0)
                        return berth_fail(err, errno, "open `%s`", rel);
                if (copy_tree(c, sfd, dfd, rel, err) < 0 ||
                    copy_meta(sfd, dfd, &st, rel, true, err) < 0)
                        return -1;
                return 0;
        }
        if (have && img_rm_rf_at(ddir, name, err) < 0)
                return -1;
        if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
                for (size_t i = 0; i < c->n_links; i++) {
                        if (c->links[i].dev != st.st_dev || c->links[i].ino != st.st_ino)
                                continue;
                        if (linkat(c->dst_root, c->links[i].path, ddir, name, 0) < 0)
                                return berth_fail(err, errno, "hard link `%s`", rel);
                        return 0;
                }
                c->links = berth_xrealloc(c->links, (c->n_links + 1) * sizeof(*c->links));
                c->links[c->n_links++] =
                        (struct link_seen){st.st_dev, st.st_ino, berth_xstrdup(rel)};
        }
        if (S_ISREG(st.st_mode)) {
                cleanup_close int sfd = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                cleanup_close int dfd = openat(
                        ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (sfd < 0 || dfd < 0)
                        return berth_fail(err, errno, "copy `%s`", rel);
                if (copy_data(sfd, dfd, rel, err) < 0)
                        return -1;
                return copy_meta(sfd, dfd, &st, rel, true, err);
        }
        struct timespec ts[2] = {st.st_atim, st.st_mtim};
        if (S_ISLNK(st.st_mode)) {
                char target[4096];
                ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);
                if (n < 0)
                        return berth_fail(err, errno, "readlink `%s`", rel);
                target[n] = '\0';
                if (symlinkat(target, ddir, name) < 0)
                        return berth_fail(err, errno, "symlink `%s`", rel);
        } else {
                if (mknodat(ddir, name, st.st_mode, st.st_rdev) < 0)
                        return berth_fail(err, errno, "mknod `%s`", rel);
                if (fchmodat(ddir, name, st.st_mode & 07777, 0) < 0)
                        return berth_fail(err, errno, "chmod `%s`", rel);
        }
        if (geteuid() == 0 && fchownat(ddir, name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                return berth_fail(err, errno, "chown `%s`", rel);
        (void) utimensat(ddir, name, ts, AT_SYMLINK_NOFOLLOW);
        return 0;
}

static int copy_tree(struct vfs_copy *c, int sdir, int ddir, const char *rel, berth_error_t *err)
{
        int dup_fd = dup(sdir);
        if (dup_fd < 0)
                return berth_fail(err, errno, "dup");
        cleanup_dir DIR *d = fdopendir(dup_fd);
        if (d == NULL) {
                close(dup_fd);
                return berth_fail(err, errno, "opendir `%s`", rel);
        }
        rewinddir(d);
        struct dirent *de;
        /* readdir is thread-safe per DIR in glibc; readdir_r is deprecated */
        /* cppcheck-suppress readdirCalled */
        while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                cleanup_free char *sub = rel[0] ? berth_xasprintf("%s/%s", rel, de->d_name)
                                                : berth_xstrdup(de->d_name);
                if (copy_entry(c, sdir, ddir, de->d_name, sub, err) < 0)
                        return -1;
        }
        return 0;
}

int img_vfs_apply(int srcfd, int dstfd, berth_error_t *err)
{
        struct vfs_copy c = {.dst_root = dstfd};
        int r = copy_tree(&c, srcfd, dstfd, "", err);
        for (size_t i = 0; i < c.n_links; i++)
                free(c.links[i].path);
        free(c.links);
        return r;
}
