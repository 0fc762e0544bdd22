/* disk.c — the generic block layer: format probe, opening a layer and its
 * backing chain, bounds and read-only checks, then dispatch to the driver.
 *
 * Every request from a caller (virtio-blk, `berth disk`) is checked here once,
 * so drivers can trust off + len <= size and never see writes on a read-only
 * disk. */
#include "disk/disk.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/util.h"
#include "disk/disk_internal.h"
#include "disk/qcow2.h"

static const uint8_t qcow2_magic[4] = {'Q', 'F', 'I', 0xfb};

int disk_full_pread(int fd, void *buf, size_t len, uint64_t off)
{
        uint8_t *p = buf;
        while (len > 0) {
                ssize_t n = pread(fd, p, len, (off_t) off);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                if (n == 0) { /* past the end of the file: a sparse tail reads as zeroes */
                        memset(p, 0, len);
                        return 0;
                }
                p += n;
                len -= (size_t) n;
                off += (uint64_t) n;
        }
        return 0;
}

int disk_full_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
        const uint8_t *p = buf;
        while (len > 0) {
                ssize_t n = pwrite(fd, p, len, (off_t) off);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                if (n == 0) {
                        errno = EIO;
                        return -1;
                }
                p += n;
                len -= (size_t) n;
                off += (uint64_t) n;
        }
        return 0;
}

static int probe_fd(int fd, enum disk_format *out)
{
        uint8_t magic[4];
        ssize_t n;
        do
                n = pread(fd, magic, sizeof(magic), 0);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -1;
        *out = n == 4 && memcmp(magic, qcow2_magic, 4) == 0 ? DISK_FORMAT_QCOW2 : DISK_FORMAT_RAW;
        return 0;
}

int disk_probe(const char *path, enum disk_format *out, berth_error_t *err)
{
        cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return berth_fail(err, errno, "open `%s`", path);
        if (probe_fd(fd, out) < 0)
                return berth_fail(err, errno, "read `%s`", path);
        return 0;
}

char *disk_backing_path(const char *image, const char *backing)
{
        if (backing[0] == '/')
                return berth_xstrdup(backing);
        cleanup_free char *copy = berth_xstrdup(image);
        const char *dir = dirname(copy);
        if (strcmp(dir, ".") == 0)
                return berth_xstrdup(backing);
        return berth_xasprintf("%s/%s", dir, backing);
}

struct disk *disk_alloc(const char *path, enum disk_format fmt, unsigned flags)
{
        struct disk *d = berth_xcalloc(1, sizeof(*d));
        d->path = berth_xstrdup(path);
        d->format = fmt;
        d->readonly = (flags & DISK_RDONLY) != 0;
        return d;
}

/* The files of /proc, /sys and their kin are regular files too: a backing
 * file on one is refused by what the opened descriptor lies on, so that a
 * procfs or sysfs mounted elsewhere than /proc or /sys (a container's root,
 * a bind mount) is refused as backing.c refuses those paths. */
static bool pseudo_fs(int fd)
{
        static const unsigned long magic[] = {
                PROC_SUPER_MAGIC,   SYSFS_MAGIC,        DEBUGFS_MAGIC,       TRACEFS_MAGIC,
                SECURITYFS_MAGIC,   CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC, BPF_FS_MAGIC,
                DEVPTS_SUPER_MAGIC, EFIVARFS_MAGIC,
        };
        struct statfs sf;
        if (fstatfs(fd, &sf) < 0)
                return true; /* unknown: not a backing file */
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(magic); i++)
                if ((unsigned long) sf.f_type == magic[i])
                        return true;
        return false;
}

int disk_open_layer(const char *path, enum disk_format fmt, unsigned flags,
                    struct disk_chain *chain, struct disk **out, berth_error_t *err)
{
        if (chain->depth >= DISK_MAX_CHAIN)
                return berth_fail(err, ELOOP, "backing chain deeper than %d images at `%s`",
                                  DISK_MAX_CHAIN, path);
        /* O_DIRECT comes later (fcntl): the probe reads 4 unaligned bytes. */
        int oflags = O_CLOEXEC | ((flags & DISK_RDONLY) ? O_RDONLY : O_RDWR);
        /* O_NONBLOCK: a FIFO named as an image must not block the open;
         * the type check below then refuses it before any read. */
        int fd = open(path, oflags | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return berth_fail(err, errno, "open disk image `%s`", path);
        struct stat st;
        if (fstat(fd, &st) < 0) {
                int e = errno;
                close(fd);
                return berth_fail(err, e, "stat `%s`", path);
        }
        /* A backing file is always a regular file; the image itself may
         * also be a block device (a raw disk on /dev/sdX). */
        if (!S_ISREG(st.st_mode) && (chain->depth > 0 || !S_ISBLK(st.st_mode))) {
                close(fd);
                return berth_fail(err, EINVAL, "disk image `%s` is not a regular file%s", path,
                                  chain->depth > 0 ? "" : " or block device");
        }
        if (chain->depth > 0 && pseudo_fs(fd)) {
                close(fd);
                return berth_fail(err, EACCES,
                                  "backing file `%s` is on a kernel pseudo-filesystem: never a "
                                  "backing file",
                                  path);
        }
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
                int e = errno;
                close(fd);
                return berth_fail(err, e, "fcntl `%s`", path);
        }
        for (unsigned i = 0; i < chain->depth; i++) {
                if (chain->dev[i] == st.st_dev && chain->ino[i] == st.st_ino) {
                        close(fd);
                        return berth_fail(err, ELOOP,
                                          "backing chain loops: `%s` is already in the chain",
                                          path);
                }
        }
        chain->dev[chain->depth] = st.st_dev;
        chain->ino[chain->depth] = st.st_ino;
        chain->depth++;

        if (fmt == DISK_FORMAT_AUTO && probe_fd(fd, &fmt) < 0) {
                int e = errno;
                close(fd);
                return berth_fail(err, e, "read `%s`", path);
        }
        /* Only raw honours DISK_DIRECT: qcow2 updates metadata in place with
         * small unaligned writes, which O_DIRECT would refuse. */
        if ((flags & DISK_DIRECT) && fmt == DISK_FORMAT_RAW &&
            fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_DIRECT) < 0) {
                int e = errno;
                close(fd);
                return berth_fail(err, e, "direct I/O (O_DIRECT) on `%s`", path);
        }
        struct disk *d = disk_alloc(path, fmt, flags);
        int ret;
        if (fmt == DISK_FORMAT_QCOW2)
                ret = qcow2_open(d, fd, flags, chain, err);
        else
                ret = raw_open(d, fd, flags, err);
        if (ret < 0) {
                free(d->path);
                free(d);
                return berth_wrap(err, "open %s image `%s`", disk_format_name(fmt), path);
        }
        *out = d;
        return 0;
}

int disk_open_ex(const char *path, enum disk_format fmt, unsigned flags,
                 const struct disk_open_opts *o, struct disk **out, berth_error_t *err)
{
        struct disk_chain chain = {.opts = o};
        return disk_open_layer(path, fmt, flags, &chain, out, err);
}

/* The process's policy for disk_open (berth disk's --allow-backing). */
static const struct disk_open_opts *default_opts;

void disk_set_default_opts(const struct disk_open_opts *o)
{
        default_opts = o;
}

int disk_open(const char *path, enum disk_format fmt, unsigned flags, struct disk **out,
              berth_error_t *err)
{
        return disk_open_ex(path, fmt, flags, default_opts, out, err);
}

void disk_close(struct disk *d)
{
        if (d == NULL)
                return;
        if (d->backing)
                disk_close(d->backing);
        if (d->ops && d->ops->close)
                d->ops->close(d);
        free(d->path);
        free(d);
}

struct disk *disk_backing(struct disk *d)
{
        return d->backing;
}

static int check_range(struct disk *d, uint64_t len, uint64_t off, bool write, berth_error_t *err)
{
        if (write && d->readonly)
                return berth_fail(err, EROFS, "disk `%s` is read-only", d->path);
        if (off > d->size || len > d->size - off)
                return berth_fail(err, ERANGE,
                                  "request at %llu+%llu is outside disk `%s` (%llu bytes)",
                                  (unsigned long long) off, (unsigned long long) len, d->path,
                                  (unsigned long long) d->size);
        return 0;
}

static uint64_t iov_length(const struct iovec *iov, int iovcnt)
{
        uint64_t n = 0;
        for (int i = 0; i < iovcnt; i++)
                n += iov[i].iov_len;
        return n;
}

int disk_pread(struct disk *d, void *buf, size_t len, uint64_t off, berth_error_t *err)
{
        if (check_range(d, len, off, false, err) < 0)
                return -1;
        if (len == 0)
                return 0;
        return d->ops->pread(d, buf, len, off, err);
}

int disk_pwrite(struct disk *d, const void *buf, size_t len, uint64_t off, berth_error_t *err)
{
        if (check_range(d, len, off, true, err) < 0)
                return -1;
        if (len == 0)
                return 0;
        return d->ops->pwrite(d, buf, len, off, err);
}

int disk_preadv(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off,
                berth_error_t *err)
{
        if (iovcnt < 0)
                return berth_fail(err, EINVAL, "negative iovec count");
        uint64_t len = iov_length(iov, iovcnt);
        if (check_range(d, len, off, false, err) < 0)
                return -1;
        if (d->ops->preadv)
                return d->ops->preadv(d, iov, iovcnt, off, err);
        for (int i = 0; i < iovcnt; i++) {
                if (iov[i].iov_len &&
                    d->ops->pread(d, iov[i].iov_base, iov[i].iov_len, off, err) < 0)
                        return -1;
                off += iov[i].iov_len;
        }
        return 0;
}

int disk_pwritev(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off,
                 berth_error_t *err)
{
        if (iovcnt < 0)
                return berth_fail(err, EINVAL, "negative iovec count");
        uint64_t len = iov_length(iov, iovcnt);
        if (check_range(d, len, off, true, err) < 0)
                return -1;
        if (d->ops->pwritev)
                return d->ops->pwritev(d, iov, iovcnt, off, err);
        for (int i = 0; i < iovcnt; i++) {
                if (iov[i].iov_len &&
                    d->ops->pwrite(d, iov[i].iov_base, iov[i].iov_len, off, err) < 0)
                        return -1;
                off += iov[i].iov_len;
        }
        return 0;
}

int disk_flush(struct disk *d, berth_error_t *err)
{
        if (d->readonly)
                return 0;
        return d->ops->flush(d, err);
}

int disk_freeze(struct disk *d, berth_error_t *err)
{
        if (d->readonly)
                return 0;
        if (d->format == DISK_FORMAT_QCOW2)
                return qcow2_freeze(d, err);
        if (disk_flush(d, err) < 0)
                return -1;
        d->readonly = true;
        return 0;
}

const char *disk_backing_name(struct disk *d)
{
        struct qcow2_info info;
        berth_error_t err = NULL;
        if (d->format != DISK_FORMAT_QCOW2 || qcow2_get_info(d, &info, &err) < 0) {
                berth_error_release(&err);
                return NULL;
        }
        return info.backing_name;
}

int disk_discard(struct disk *d, uint64_t off, uint64_t len, berth_error_t *err)
{
        if (check_range(d, len, off, true, err) < 0)
                return -1;
        if (len == 0)
                return 0;
        return d->ops->discard(d, off, len, err);
}

int disk_write_zeroes(struct disk *d, uint64_t off, uint64_t len, berth_error_t *err)
{
        if (check_range(d, len, off, true, err) < 0)
                return -1;
        if (len == 0)
                return 0;
        if (d->ops->write_zeroes)
                return d->ops->write_zeroes(d, off, len, err);
        size_t chunk = 1u << 20;
        cleanup_free void *zero = berth_xcalloc(1, chunk);
        while (len > 0) {
                size_t n = len < chunk ? (size_t) len : chunk;
                if (d->ops->pwrite(d, zero, n, off, err) < 0)
                        return -1;
                off += n;
                len -= n;
        }
        return 0;
}

int disk_block_status(struct disk *d, uint64_t off, uint64_t len, struct disk_extent *ext,
                      berth_error_t *err)
{
        if (check_range(d, len, off, false, err) < 0)
                return -1;
        if (len == 0)
                return berth_fail(err, EINVAL, "block status of an empty range");
        if (d->ops->block_status)
                return d->ops->block_status(d, off, len, ext, err);
        *ext = (struct disk_extent){
                .off = off, .len = len, .flags = DISK_BS_DATA | DISK_BS_ALLOCATED, .host_off = off};
        return 0;
}

int disk_truncate(struct disk *d, uint64_t size, berth_error_t *err)
{
        if (d->readonly)
                return berth_fail(err, EROFS, "disk `%s` is read-only", d->path);
        if (d->ops->truncate == NULL)
                return berth_fail(err, ENOTSUP, "%s images cannot be resized", d->ops->name);
        return d->ops->truncate(d, size, err);
}

int disk_create(const char *path, const struct disk_create_opts *o, berth_error_t *err)
{
        if (o->format == DISK_FORMAT_QCOW2)
                return qcow2_create(path, o, err);
        if (o->format != DISK_FORMAT_RAW)
                return berth_fail(err, EINVAL, "create `%s`: give a format (raw or qcow2)", path);
        if (o->backing)
                return berth_fail(err, EINVAL, "create `%s`: raw images have no backing file",
                                  path);
        cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return berth_fail(err, errno, "create `%s`", path);
        if (ftruncate(fd, (off_t) o->size) < 0)
                return berth_fail(err, errno, "set the size of `%s`", path);
        if (o->preallocate && o->size > 0) {
                int r = posix_fallocate(fd, 0, (off_t) o->size);
                if (r != 0)
                        return berth_fail(err, r, "preallocate `%s`", path);
        }
        if (fsync(fd) < 0)
                return berth_fail(err, errno, "fsync `%s`", path);
        return 0;
}

int disk_parse_format(const char *s, enum disk_format *out, berth_error_t *err)
{
        if (strcmp(s, "raw") == 0)
                *out = DISK_FORMAT_RAW;
        else if (strcmp(s, "qcow2") == 0)
                *out = DISK_FORMAT_QCOW2;
        else if (strcmp(s, "auto") == 0)
                *out = DISK_FORMAT_AUTO;
        else
                return berth_fail(err, EINVAL, "unknown disk format `%s` (raw, qcow2 or auto)", s);
        return 0;
}

const char *disk_format_name(enum disk_format f)
{
        switch (f) {
        case DISK_FORMAT_RAW:
                return "raw";
        case DISK_FORMAT_QCOW2:
                return "qcow2";
        default:
                return "auto";
        }
}
