/* raw.c — the raw format driver: the virtual disk is the file (or block
 * device) byte for byte.
 *
 * Thin provisioning comes from the host file system: discard punches holes,
 * block status reads them back with SEEK_DATA/SEEK_HOLE.  With DISK_DIRECT the
 * file is opened O_DIRECT; requests that are not aligned go through an aligned
 * bounce buffer (writes then read-modify-write the edge blocks under a lock). */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "disk/disk_internal.h"

/* O_DIRECT needs buffer, offset and length aligned to the logical block size;
 * 4 KiB satisfies every device and file system we meet. */
#define RAW_DIRECT_ALIGN 4096u

struct raw {
        int fd;
        bool direct;
        bool blockdev;
        pthread_mutex_t rmw_lock; /* serialises unaligned O_DIRECT writes */
};

static struct raw *raw_of(struct disk *d)
{
        return d->priv;
}

static bool aligned(const void *buf, uint64_t len, uint64_t off)
{
        return ((uintptr_t) buf % RAW_DIRECT_ALIGN) == 0 && len % RAW_DIRECT_ALIGN == 0 &&
               off % RAW_DIRECT_ALIGN == 0;
}

static void *aligned_alloc_or_die(size_t len)
{
        void *p = NULL;
        if (posix_memalign(&p, RAW_DIRECT_ALIGN, len) != 0)
                p = berth_xmalloc(0); /* unreachable in practice; xmalloc aborts on OOM */
        return p;
}

/* Read through a bounce buffer covering the aligned blocks around [off, off+len). */
static int raw_bounce_read(struct raw *r, void *buf, size_t len, uint64_t off)
{
        uint64_t start = off & ~(uint64_t) (RAW_DIRECT_ALIGN - 1);
        uint64_t end = (off + len + RAW_DIRECT_ALIGN - 1) & ~(uint64_t) (RAW_DIRECT_ALIGN - 1);
        cleanup_free uint8_t *b = aligned_alloc_or_die(end - start);
        if (disk_full_pread(r->fd, b, end - start, start) < 0)
                return -1;
        memcpy(buf, b + (off - start), len);
        return 0;
}

static int raw_bounce_write(struct raw *r, const void *buf, size_t len, uint64_t off)
{
        uint64_t start = off & ~(uint64_t) (RAW_DIRECT_ALIGN - 1);
        uint64_t end = (off + len + RAW_DIRECT_ALIGN - 1) & ~(uint64_t) (RAW_DIRECT_ALIGN - 1);
        cleanup_free uint8_t *b = aligned_alloc_or_die(end - start);
        pthread_mutex_lock(&r->rmw_lock);
        int ret = 0;
        if (start != off || end != off + len)
                ret = disk_full_pread(r->fd, b, end - start, start);
        if (ret == 0) {
                memcpy(b + (off - start), buf, len);
                ret = disk_full_pwrite(r->fd, b, end - start, start);
        }
        pthread_mutex_unlock(&r->rmw_lock);
        return ret;
}

static int raw_pread(struct disk *d, void *buf, size_t len, uint64_t off, berth_error_t *err)
{
        struct raw *r = raw_of(d);
        int ret;
        if (r->direct && !aligned(buf, len, off))
                ret = raw_bounce_read(r, buf, len, off);
        else
                ret = disk_full_pread(r->fd, buf, len, off);
        if (ret < 0)
                return berth_fail(err, errno, "read %zu bytes at %llu from `%s`", len,
                                  (unsigned long long) off, d->path);
        return 0;
}

static int raw_pwrite(struct disk *d, const void *buf, size_t len, uint64_t off, berth_error_t *err)
{
        struct raw *r = raw_of(d);
        int ret;
        if (r->direct && !aligned(buf, len, off))
                ret = raw_bounce_write(r, buf, len, off);
        else
                ret = disk_full_pwrite(r->fd, buf, len, off);
        if (ret < 0)
                return berth_fail(err, errno, "write %zu bytes at %llu to `%s`", len,
                                  (unsigned long long) off, d->path);
        return 0;
}

static bool iov_aligned(const struct iovec *iov, int iovcnt, uint64_t off)
{
        if (off % RAW_DIRECT_ALIGN)
                return false;
        for (int i = 0; i < iovcnt; i++)
                if (!aligned(iov[i].iov_base, iov[i].iov_len, 0))
                        return false;
        return true;
}

/* One preadv/pwritev system call for the whole request when we can: the
 * virtio-blk fast path.  Short transfers are finished element by element. */
static int raw_rwv(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off, bool write,
                   berth_error_t *err)
{
        struct raw *r = raw_of(d);
        if ((!r->direct || iov_aligned(iov, iovcnt, off)) && iovcnt <= IOV_MAX) {
                uint64_t total = 0;
                for (int i = 0; i < iovcnt; i++)
                        total += iov[i].iov_len;
                ssize_t n;
                do
                        n = write ? pwritev(r->fd, iov, iovcnt, (off_t) off)
                                  : preadv(r->fd, iov, iovcnt, (off_t) off);
                while (n < 0 && errno == EINTR);
                if (n < 0)
                        return berth_fail(err, errno, "%s %llu bytes at %llu in `%s`",
                                          write ? "write" : "read", (unsigned long long) total,
                                          (unsigned long long) off, d->path);
                if ((uint64_t) n == total)
                        return 0;
                /* Short: skip what was done, then finish piecewise. */
                uint64_t done = (uint64_t) n;
                for (int i = 0; i < iovcnt; i++) {
                        uint64_t l = iov[i].iov_len;
                        if (done >= l) {
                                done -= l;
                                off += l;
                                continue;
                        }
                        uint8_t *base = (uint8_t *) iov[i].iov_base + done;
                        uint64_t rest = l - done;
                        int ret = write ? raw_pwrite(d, base, rest, off + done, err)
                                        : raw_pread(d, base, rest, off + done, err);
                        if (ret < 0)
                                return -1;
                        off += l;
                        done = 0;
                }
                return 0;
        }
        for (int i = 0; i < iovcnt; i++) {
                int ret = write ? raw_pwrite(d, iov[i].iov_base, iov[i].iov_len, off, err)
                                : raw_pread(d, iov[i].iov_base, iov[i].iov_len, off, err);
                if (ret < 0)
                        return -1;
                off += iov[i].iov_len;
        }
        return 0;
}

static int raw_preadv(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off,
                      berth_error_t *err)
{
        return raw_rwv(d, iov, iovcnt, off, false, err);
}

static int raw_pwritev(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off,
                       berth_error_t *err)
{
        return raw_rwv(d, iov, iovcnt, off, true, err);
}

static int raw_flush(struct disk *d, berth_error_t *err)
{
        if (fdatasync(raw_of(d)->fd) < 0)
                return berth_fail(err, errno, "flush `%s`", d->path);
        return 0;
}

static int write_zero_buffers(struct disk *d, uint64_t off, uint64_t len, berth_error_t *err)
{
        size_t chunk = 1u << 20;
        cleanup_free void *zero = aligned_alloc_or_die(chunk);
        memset(zero, 0, chunk);
        while (len > 0) {
                size_t n = len < chunk ? (size_t) len : chunk;
                if (raw_pwrite(d, zero, n, off, err) < 0)
                        return -1;
                off += n;
                len -= n;
        }
        return 0;
}

/* Punch a hole (keeps the size); a file system or device that cannot gets
 * zeroes written instead, since callers rely on reads returning zeroes. */
static int raw_discard(struct disk *d, uint64_t off, uint64_t len, berth_error_t *err)
{
        struct raw *r = raw_of(d);
        if (fallocate(r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t) off,
                      (off_t) len) == 0)
                return 0;
        if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL)
                return berth_fail(err, errno, "punch a hole at %llu+%llu in `%s`",
                                  (unsigned long long) off, (unsigned long long) len, d->path);
        if (fallocate(r->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t) off,
                      (off_t) len) == 0)
                return 0;
        return write_zero_buffers(d, off, len, err);
}

static int raw_block_status(struct disk *d, uint64_t off, uint64_t len, struct disk_extent *ext,
                            berth_error_t *err)
{
        struct raw *r = raw_of(d);
        *ext = (struct disk_extent){
                .off = off, .len = len, .flags = DISK_BS_DATA | DISK_BS_ALLOCATED, .host_off = off};
        if (r->blockdev)
                return 0;
        off_t data = lseek(r->fd, (off_t) off, SEEK_DATA);
        if (data < 0) {
                if (errno == ENXIO) { /* nothing but a hole up to the end of the file */
                        ext->flags = DISK_BS_ZERO | DISK_BS_ALLOCATED;
                        ext->host_off = UINT64_MAX;
                        return 0;
                }
                return 0; /* no SEEK_DATA support: report data, which is always correct */
        }
        if ((uint64_t) data > off) {
                ext->flags = DISK_BS_ZERO | DISK_BS_ALLOCATED;
                ext->host_off = UINT64_MAX;
                if ((uint64_t) data - off < len)
                        ext->len = (uint64_t) data - off;
                return 0;
        }
        off_t hole = lseek(r->fd, (off_t) off, SEEK_HOLE);
        if (hole > (off_t) off && (uint64_t) hole - off < len)
                ext->len = (uint64_t) hole - off;
        (void) err;
        return 0;
}

static int raw_truncate(struct disk *d, uint64_t size, berth_error_t *err)
{
        struct raw *r = raw_of(d);
        if (r->blockdev)
                return berth_fail(err, ENOTSUP, "`%s` is a block device; it cannot be resized",
                                  d->path);
        if (ftruncate(r->fd, (off_t) size) < 0)
                return berth_fail(err, errno, "resize `%s`", d->path);
        d->size = size;
        return 0;
}

static void raw_close(struct disk *d)
{
        struct raw *r = raw_of(d);
        if (r == NULL)
                return;
        close(r->fd);
        pthread_mutex_destroy(&r->rmw_lock);
        free(r);
        d->priv = NULL;
}

static const struct disk_ops raw_ops = {
        .name = "raw",
        .pread = raw_pread,
        .pwrite = raw_pwrite,
        .flush = raw_flush,
        .discard = raw_discard,
        .close = raw_close,
        .preadv = raw_preadv,
        .pwritev = raw_pwritev,
        .write_zeroes = raw_discard,
        .block_status = raw_block_status,
        .truncate = raw_truncate,
};

int raw_open(struct disk *d, int fd, unsigned flags, berth_error_t *err)
{
        struct stat st;
        if (fstat(fd, &st) < 0) {
                int e = errno;
                close(fd);
                return berth_fail(err, e, "stat `%s`", d->path);
        }
        uint64_t size;
        if (S_ISBLK(st.st_mode)) {
                if (ioctl(fd, BLKGETSIZE64, &size) < 0) {
                        int e = errno;
                        close(fd);
                        return berth_fail(err, e, "get the size of block device `%s`", d->path);
                }
        } else if (S_ISREG(st.st_mode)) {
                size = (uint64_t) st.st_size;
        } else {
                close(fd);
                return berth_fail(err, EINVAL, "`%s` is neither a file nor a block device",
                                  d->path);
        }
        struct raw *r = berth_xcalloc(1, sizeof(*r));
        r->fd = fd;
        r->direct = (flags & DISK_DIRECT) != 0;
        r->blockdev = S_ISBLK(st.st_mode);
        pthread_mutex_init(&r->rmw_lock, NULL);
        d->priv = r;
        d->ops = &raw_ops;
        d->size = size;
        return 0;
}

int disk_raw_fd(struct disk *d, bool *direct)
{
        if (d->ops != &raw_ops || d->backing)
                return -1;
        if (direct)
                *direct = raw_of(d)->direct;
        return raw_of(d)->fd;
}
