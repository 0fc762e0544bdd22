/* layer.c — unpacking layer tarballs (tar, gzip, zstd) into a directory the way
 * overlayfs wants them: OCI whiteouts ".wh.NAME" become 0/0 character devices,
 * ".wh..wh..opq" becomes trusted.overlay.opaque=y on the directory.
 *
 * A layer is hostile input.  Every entry is placed relative to the layer's
 * directory fd: absolute names and ".." components are refused, and parent
 * directories are opened with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), so
 * no entry can be written through a symlink (one of this layer's or one planted
 * earlier).  Final components are created with O_EXCL / O_NOFOLLOW after any old
 * entry is removed, so they are never followed either. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/idmap.h"
#include "common/log.h"
#include "common/util.h"
#include "image/image.h"

struct dir_time {
        char *path;
        struct timespec times[2];
};

struct unpacker {
        int root;
        bool privileged;
        bool userns;              /* root in a user namespace: no devices, user.* overlay xattrs */
        const char *opaque_xattr; /* img_opaque_xattr() */
        char *cache_path;         /* the parent directory opened last (tars are mostly sorted) */
        int cache_fd;
        struct dir_time *dirs;
        size_t n_dirs;
        bool warned_xattr;
};

static int openat2_beneath(int dirfd, const char *path, int flags)
{
        struct open_how how = {
                .flags = (uint64_t) flags,
                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
                           RESOLVE_NO_XDEV,
        };
        int fd = (int) syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
        if (fd >= 0 || errno != ENOSYS)
                return fd;
        /* Kernels before 5.6: walk one component at a time without following
         * symlinks; components never contain "..", so this stays beneath too. */
        cleanup_free char *copy = berth_xstrdup(path);
        cleanup_close int cur = dup(dirfd);
        char *save = NULL;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                int next = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0)
                        return errno == ENOTDIR ? (errno = ELOOP, -1) : -1;
                close(cur);
                cur = next;
        }
        return berth_steal_fd(&cur);
}

/* Split an entry name into a clean relative path: "./a//b/" → "a/b".  Refuses
 * absolute names and "..".  Returns NULL for the root itself ("", "."). */
static int clean_name(const char *raw, char **out, berth_error_t *err)
{
        *out = NULL;
        if (raw == NULL || raw[0] == '/')
                return berth_fail(err, EPERM, "layer entry `%s` has an absolute path",
                                  raw ? raw : "");
        cleanup_free char *copy = berth_xstrdup(raw);
        size_t cap = strlen(raw) + 1;
        cleanup_free char *res = berth_xcalloc(1, cap);
        char *save = NULL;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (strcmp(c, ".") == 0)
                        continue;
                if (strcmp(c, "..") == 0)
                        return berth_fail(err, EPERM, "layer entry `%s` escapes the layer (..)",
                                          raw);
                if (res[0])
                        strcat(res, "/");
                strcat(res, c);
        }
        if (res[0])
                *out = berth_steal_ptr(&res);
        return 0;
}

/* The directory holding `path` (opened, created if missing), borrowed from the cache. */
static int parent_dir(struct unpacker *u, const char *parent, berth_error_t *err)
{
        if (parent[0] == '\0')
                return u->root;
        if (u->cache_path && strcmp(u->cache_path, parent) == 0)
                return u->cache_fd;
        int fd = openat2_beneath(u->root, parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
                /* Tars may omit directory entries: make the missing ones, one by one. */
                cleanup_free char *p = berth_xstrdup(parent);
                for (char *s = p;; s++) {
                        if (*s != '/' && *s != '\0')
                                continue;
                        char saved = *s;
                        *s = '\0';
                        if (mkdirat(u->root, p, 0755) < 0 && errno != EEXIST)
                                break;
                        /* check what we walk through is a real directory, not a symlink */
                        int probe = openat2_beneath(u->root, p, O_PATH | O_DIRECTORY | O_CLOEXEC);
                        if (probe < 0)
                                break;
                        close(probe);
                        *s = saved;
                        if (saved == '\0')
                                break;
                }
                fd = openat2_beneath(u->root, parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        }
        if (fd < 0) {
                if (errno == ELOOP || errno == EXDEV)
                        return berth_fail(err, EPERM,
                                          "layer entry under `%s` would be written through a "
                                          "symlink",
                                          parent);
                return berth_fail(err, errno, "open directory `%s` in the layer", parent);
        }
        if (u->cache_fd >= 0)
                close(u->cache_fd);
        free(u->cache_path);
        u->cache_fd = fd;
        u->cache_path = berth_xstrdup(parent);
        return fd;
}

static void split_path(char *path, const char **parent, const char **base)
{
        char *slash = strrchr(path, '/');
        if (slash) {
                *slash = '\0';
                *parent = path;
                *base = slash + 1;
        } else {
                *parent = "";
                *base = path;
        }
}

/* Make room for a new entry: anything there goes, a directory only if the new
 * entry is not one (a directory over a directory merges, as Docker does). */
static int clear_slot(int pfd, const char *name, bool keep_dir, berth_error_t *err)
{
        struct stat st;
        if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : berth_fail(err, errno, "stat `%s`", name);
        if (S_ISDIR(st.st_mode)) {
                if (keep_dir)
                        return 1;
                return img_rm_rf_at(pfd, name, err);
        }
        if (unlinkat(pfd, name, 0) < 0)
                return berth_fail(err, errno, "replace `%s`", name);
        return 0;
}

/* A chown the kernel refused: in a user namespace, EINVAL means the id has no mapping. */
static int chown_failed(const struct unpacker *u, struct archive_entry *e, const char *path,
                        berth_error_t *err)
{
        if (errno == EINVAL && u->userns)
                return berth_fail(err, errno,
                                  "chown `%s` to %lld:%lld: the id is not mapped in berth's user "
                                  "namespace (the user needs more subordinate ids in /etc/subuid "
                                  "and /etc/subgid)",
                                  path, (long long) archive_entry_uid(e),
                                  (long long) archive_entry_gid(e));
        return berth_fail(err, errno, "chown `%s`", path);
}

static int apply_xattrs(struct unpacker *u, int fd, struct archive_entry *e, const char *path,
                        berth_error_t *err)
{
        const char *name;
        const void *value;
        size_t size;
        archive_entry_xattr_reset(e);
        while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
                /* overlay metadata from a tar could forge opaque dirs or redirects */
                if (img_is_overlay_xattr(name))
                        continue;
                if (fsetxattr(fd, name, value, size, 0) == 0)
                        continue;
                if (errno == ENOTSUP || errno == EPERM) {
                        if (!u->warned_xattr)
                                log_warn("layer: cannot set xattr %s on `%s`: %s (ignored)", name,
                                         path, strerror(errno));
                        u->warned_xattr = true;
                        continue;
                }
                return berth_fail(err, errno, "set xattr %s on `%s`", name, path);
        }
        return 0;
}

static int apply_meta_fd(struct unpacker *u, int fd, struct archive_entry *e, const char *path,
                         bool times, berth_error_t *err)
{
        if (u->privileged &&
            fchown(fd, (uid_t) archive_entry_uid(e), (gid_t) archive_entry_gid(e)) < 0)
                return chown_failed(u, e, path, err);
        /* after chown, which clears setuid/setgid */
        if (fchmod(fd, archive_entry_perm(e) & 07777) < 0)
                return berth_fail(err, errno, "chmod `%s`", path);
        if (apply_xattrs(u, fd, e, path, err) < 0)
                return -1;
        if (times) {
                struct timespec ts[2] = {
                        {archive_entry_atime(e), archive_entry_atime_nsec(e)},
                        {archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
                };
                if (!archive_entry_atime_is_set(e))
                        ts[0] = ts[1];
                if (futimens(fd, ts) < 0)
                        return berth_fail(err, errno, "set times of `%s`", path);
        }
        return 0;
}

static int write_data(struct archive *a, int fd, struct archive_entry *e, const char *path,
                      struct img_unpack_stats *stats, berth_error_t *err)
{
        const void *buf;
        size_t size;
        la_int64_t offset;
        off_t pos = 0;
        for (;;) {
                int r = archive_read_data_block(a, &buf, &size, &offset);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return berth_fail(err, EIO, "read `%s` from the layer: %s", path,
                                          archive_error_string(a));
                if (offset != pos && lseek(fd, offset, SEEK_SET) < 0)
                        return berth_fail(err, errno, "seek in `%s`", path);
                if (berth_write_all(fd, buf, size) < 0)
                        return berth_fail(err, errno, "write `%s`", path);
                pos = offset + (off_t) size;
                if (stats)
                        stats->bytes += size;
        }
        /* a sparse file may end in a hole */
        if (archive_entry_size_is_set(e) && archive_entry_size(e) > pos &&
            ftruncate(fd, archive_entry_size(e)) < 0)
                return berth_fail(err, errno, "extend `%s`", path);
        return 0;
}

/* Without privilege (rootless), neither 0/0 devices nor trusted.* xattrs can be made:
 * the whiteout stays an empty ".wh." file, which the vfs driver understands. */
static int whiteout_marker(int pfd, const char *base, const char *parent, berth_error_t *err)
{
        if (clear_slot(pfd, base, false, err) < 0)
                return -1;
        int fd = openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return berth_fail(err, errno, "make whiteout `%s/%s`", parent, base);
        close(fd);
        return 0;
}

static int whiteout(struct unpacker *u, int pfd, const char *parent, const char *base,
                    berth_error_t *err)
{
        if (strcmp(base, ".wh..wh..opq") == 0) {
                static const char y = 'y';
                if (!u->privileged)
                        return whiteout_marker(pfd, base, parent, err);
                if (fsetxattr(pfd, u->opaque_xattr, &y, 1, 0) < 0)
                        return berth_fail(err, errno, "mark `%s` opaque", parent[0] ? parent : "/");
                return 0;
        }
        if (berth_str_has_prefix(base, ".wh..wh."))
                return 0; /* aufs bookkeeping: nothing to do */
        const char *victim = base + 4;
        if (victim[0] == '\0' || strcmp(victim, ".") == 0 || strcmp(victim, "..") == 0)
                return berth_fail(err, EPERM, "invalid whiteout `%s/%s`", parent, base);
        if (!u->privileged)
                return whiteout_marker(pfd, base, parent, err);
        if (clear_slot(pfd, victim, false, err) < 0)
                return -1;
        if (mknodat(pfd, victim, S_IFCHR | 0, makedev(0, 0)) < 0)
                return berth_fail(err, errno, "make whiteout for `%s/%s`", parent, victim);
        return 0;
}

static int unpack_entry(struct unpacker *u, struct archive *a, struct archive_entry *e,
                        struct img_unpack_stats *stats, berth_error_t *err)
{
        cleanup_free char *path = NULL;
        if (clean_name(archive_entry_pathname(e), &path, err) < 0)
                return -1;
        mode_t type = archive_entry_filetype(e);
        const char *hardlink = archive_entry_hardlink(e);
        if (path == NULL)
                return 0; /* the layer root itself: its directory already exists */
        cleanup_free char *full = berth_xstrdup(path);
        const char *parent, *base;
        split_path(path, &parent, &base);
        int pfd = parent_dir(u, parent, err);
        if (pfd < 0)
                return -1;
        if (berth_str_has_prefix(base, ".wh."))
                return whiteout(u, pfd, parent, base, err);

        if (hardlink) {
                cleanup_free char *target = NULL;
                if (clean_name(hardlink, &target, err) < 0)
                        return -1;
                if (target == NULL)
                        return berth_fail(err, EPERM, "hard link `%s` to the layer root", full);
                const char *tparent, *tbase;
                cleanup_free char *tcopy = berth_xstrdup(target);
                split_path(tcopy, &tparent, &tbase);
                cleanup_close int tpfd = tparent[0]
                                                 ? openat2_beneath(u->root, tparent,
                                                                   O_PATH | O_DIRECTORY | O_CLOEXEC)
                                                 : dup(u->root);
                if (tpfd < 0)
                        return berth_fail(err, errno == ELOOP ? EPERM : errno,
                                          "hard link `%s`: target `%s` is not reachable in the "
                                          "layer",
                                          full, target);
                if (clear_slot(pfd, base, false, err) < 0)
                        return -1;
                if (linkat(tpfd, tbase, pfd, base, 0) < 0)
                        return berth_fail(err, errno, "hard link `%s` to `%s`", full, target);
                return 0;
        }

        switch (type) {
        case AE_IFDIR: {
                int r = clear_slot(pfd, base, true, err);
                if (r < 0)
                        return -1;
                if (r == 0 && mkdirat(pfd, base, 0700) < 0)
                        return berth_fail(err, errno, "mkdir `%s`", full);
                cleanup_close int fd =
                        openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return berth_fail(err, errno, "open directory `%s`", full);
                if (apply_meta_fd(u, fd, e, full, false, err) < 0)
                        return -1;
                /* directory times last: creating children would change them */
                u->dirs = berth_xrealloc(u->dirs, (u->n_dirs + 1) * sizeof(*u->dirs));
                struct dir_time *dt = &u->dirs[u->n_dirs++];
                dt->path = berth_steal_ptr(&full);
                dt->times[1] =
                        (struct timespec){archive_entry_mtime(e), archive_entry_mtime_nsec(e)};
                dt->times[0] = dt->times[1];
                return 0;
        }
        case AE_IFREG: {
                if (clear_slot(pfd, base, false, err) < 0)
                        return -1;
                cleanup_close int fd = openat(
                        pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
                if (fd < 0)
                        return berth_fail(err, errno, "create `%s`", full);
                if (write_data(a, fd, e, full, stats, err) < 0)
                        return -1;
                return apply_meta_fd(u, fd, e, full, true, err);
        }
        case AE_IFLNK: {
                const char *target = archive_entry_symlink(e);
                if (clear_slot(pfd, base, false, err) < 0)
                        return -1;
                if (symlinkat(target ? target : "", pfd, base) < 0)
                        return berth_fail(err, errno, "symlink `%s`", full);
                if (u->privileged &&
                    fchownat(pfd, base, (uid_t) archive_entry_uid(e), (gid_t) archive_entry_gid(e),
                             AT_SYMLINK_NOFOLLOW) < 0)
                        return chown_failed(u, e, full, err);
                struct timespec ts[2] = {
                        {archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
                        {archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
                };
                (void) utimensat(pfd, base, ts, AT_SYMLINK_NOFOLLOW);
                return 0;
        }
        case AE_IFCHR:
        case AE_IFBLK:
        case AE_IFIFO: {
                if (clear_slot(pfd, base, false, err) < 0)
                        return -1;
                dev_t dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));
                if (mknodat(pfd, base, type | 0600, type == AE_IFIFO ? 0 : dev) < 0) {
                        if (errno == EPERM && (!u->privileged || u->userns)) {
                                log_warn("layer: cannot create device `%s` %s (skipped)", full,
                                         u->userns ? "in a user namespace" : "without privilege");
                                return 0;
                        }
                        return berth_fail(err, errno, "mknod `%s`", full);
                }
                /* O_PATH: opening a device or FIFO for real could block or have effects */
                cleanup_close int fd = openat(pfd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
                if (fd < 0)
                        return berth_fail(err, errno, "open `%s`", full);
                if (u->privileged && fchownat(fd, "", (uid_t) archive_entry_uid(e),
                                              (gid_t) archive_entry_gid(e), AT_EMPTY_PATH) < 0)
                        return chown_failed(u, e, full, err);
                cleanup_free char *proc = berth_xasprintf("/proc/self/fd/%d", fd);
                if (chmod(proc, archive_entry_perm(e) & 07777) < 0)
                        return berth_fail(err, errno, "chmod `%s`", full);
                return 0;
        }
        default:
                log_debug("layer: skipping `%s` of type %o", full, (unsigned) type);
                return 0;
        }
}

static void unpacker_free(struct unpacker *u)
{
        if (u->cache_fd >= 0)
                close(u->cache_fd);
        free(u->cache_path);
        for (size_t i = 0; i < u->n_dirs; i++)
                free(u->dirs[i].path);
        free(u->dirs);
}

static struct archive *layer_reader(int fd, bool raw, berth_error_t *err)
{
        struct archive *a = archive_read_new();
        archive_read_support_filter_all(a);
        if (raw)
                archive_read_support_format_raw(a);
        else
                archive_read_support_format_tar(a);
        if (archive_read_open_fd(a, fd, 1 << 17) != ARCHIVE_OK) {
                berth_fail(err, EINVAL, "open layer: %s", archive_error_string(a));
                archive_read_free(a);
                return NULL;
        }
        return a;
}

struct decomp_cb {
        struct img_decomp *d;
        berth_error_t err;
        int fd;
        const struct img_unpack_stats *stats; /* its read_fn, if any */
};

static la_ssize_t decomp_read_cb(struct archive *a, void *ctx, const void **buf)
{
        struct decomp_cb *cb = ctx;
        ssize_t n = img_decomp_read(cb->d, buf, &cb->err);
        if (n < 0) {
                archive_set_error(a, EIO, "%s", berth_error_msg(cb->err));
                return -1;
        }
        if (cb->stats && cb->stats->read_fn) {
                /* the blob's offset: how much of the compressed stream went in */
                off_t at = lseek(cb->fd, 0, SEEK_CUR);
                if (at > 0)
                        cb->stats->read_fn(cb->stats->read_ctx, (uint64_t) at);
        }
        return n;
}

int img_layer_unpack(int fd, int dirfd, const char *want_diffid, struct img_unpack_stats *stats,
                     berth_error_t *err)
{
        struct unpacker u = {.root = dirfd,
                             .cache_fd = -1,
                             .privileged = geteuid() == 0,
                             .userns = berth_in_userns(),
                             .opaque_xattr = img_opaque_xattr()};
        struct decomp_cb cb = {.fd = fd, .stats = stats};
        struct archive *a = NULL;
        if (img_decomp_supported(fd)) {
                /* one pass: decompress and hash here, parse the tar in libarchive */
                if (img_decomp_open(fd, &cb.d, err) < 0)
                        return -1;
                a = archive_read_new();
                archive_read_support_format_tar(a);
                if (archive_read_open(a, &cb, NULL, decomp_read_cb, NULL) != ARCHIVE_OK) {
                        berth_fail(err, EINVAL, "open layer: %s", archive_error_string(a));
                        archive_read_free(a);
                        img_decomp_free(cb.d);
                        berth_error_release(&cb.err);
                        return -1;
                }
        } else {
                if (want_diffid) {
                        char got[IMG_DIGEST_MAX];
                        if (img_layer_diffid(fd, got, NULL, err) < 0)
                                return -1;
                        if (strcmp(got, want_diffid) != 0)
                                return berth_fail(err, EBADMSG,
                                                  "layer has diffID %s, but the config says %s",
                                                  got, want_diffid);
                        if (lseek(fd, 0, SEEK_SET) < 0)
                                return berth_fail(err, errno, "rewind layer");
                }
                a = layer_reader(fd, false, err);
                if (a == NULL)
                        return -1;
        }
        int ret = 0;
        struct archive_entry *e;
        for (;;) {
                int r = archive_read_next_header(a, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN) {
                        ret = berth_fail(err, cb.err ? cb.err->errnum : EINVAL, "read layer: %s",
                                         archive_error_string(a));
                        break;
                }
                if (stats)
                        stats->entries++;
                if (unpack_entry(&u, a, e, stats, err) < 0) {
                        ret = -1;
                        break;
                }
        }
        /* the diffID covers the whole stream, padding after the tar's end included */
        if (ret == 0 && cb.d) {
                char got[IMG_DIGEST_MAX];
                if (img_decomp_finish(cb.d, got, NULL, err) < 0)
                        ret = berth_wrap(err, "read layer");
                else if (want_diffid && strcmp(got, want_diffid) != 0)
                        ret = berth_fail(err, EBADMSG,
                                         "layer has diffID %s, but the config says %s", got,
                                         want_diffid);
        }
        /* deepest first is not needed: setting a dir's times does not touch its parent */
        for (size_t i = 0; ret == 0 && i < u.n_dirs; i++) {
                cleanup_close int d =
                        openat2_beneath(dirfd, u.dirs[i].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (d >= 0)
                        (void) futimens(d, u.dirs[i].times);
        }
        archive_read_free(a);
        img_decomp_free(cb.d);
        berth_error_release(&cb.err);
        unpacker_free(&u);
        return ret;
}

int img_layer_diffid(int fd, char out[IMG_DIGEST_MAX], uint64_t *size, berth_error_t *err)
{
        if (img_decomp_supported(fd)) {
                struct img_decomp *d;
                if (img_decomp_open(fd, &d, err) < 0)
                        return -1;
                int r = img_decomp_finish(d, out, size, err);
                img_decomp_free(d);
                return r;
        }
        struct archive *a = layer_reader(fd, true, err);
        if (a == NULL)
                return -1;
        struct img_sha256 *h = img_sha256_new();
        uint64_t n = 0;
        struct archive_entry *e;
        int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_OK || r == ARCHIVE_WARN) {
                const void *buf;
                size_t len;
                la_int64_t off;
                while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
                        img_sha256_update(h, buf, len);
                        n += len;
                }
        }
        if (r != ARCHIVE_EOF) {
                berth_fail(err, EINVAL, "read layer: %s", archive_error_string(a));
                img_sha256_free(h);
                archive_read_free(a);
                return -1;
        }
        archive_read_free(a);
        img_sha256_final(h, out);
        if (size)
                *size = n;
        return 0;
}

const char *img_layer_media_type(int fd)
{
        unsigned char m[4] = {0};
        if (pread(fd, m, sizeof(m), 0) == (ssize_t) sizeof(m)) {
                if (m[0] == 0x1f && m[1] == 0x8b)
                        return IMG_MT_OCI_LAYER_GZIP;
                if (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd)
                        return IMG_MT_OCI_LAYER_ZSTD;
        }
        return IMG_MT_OCI_LAYER;
}

int img_layer_verify(struct img_store *s, const char *blob, const char *want, char **media_type,
                     berth_error_t *err)
{
        cleanup_close int fd = img_blob_open(s, blob, err);
        if (fd < 0)
                return -1;
        const char *mt = img_layer_media_type(fd);
        if (media_type)
                *media_type = berth_xstrdup(mt);
        /* a compressed layer is checked when it is unpacked (one pass, not two) */
        if (strcmp(mt, IMG_MT_OCI_LAYER) != 0)
                return 0;
        if (strcmp(blob, want) != 0)
                return berth_fail(err, EBADMSG, "layer %s has diffID %s, but the config says %s",
                                  blob, blob, want);
        return 0;
}
