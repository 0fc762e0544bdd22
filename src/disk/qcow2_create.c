/* qcow2_create.c — a new, empty qcow2 image.
 *
 * Layout, as qemu-img lays it out: the header in cluster 0, then the
 * refcount table, the refcount blocks covering the metadata, and an L1
 * table of zeroes.  The file is written complete and synced before it is
 * given its final name, so a crash never leaves half an image behind. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "disk/qcow2_int.h"

static int backing_defaults(const char *path, const struct disk_create_opts *o, uint64_t *size,
                            const char **fmt, berth_error_t *err)
{
        cleanup_free char *bpath = disk_backing_path(path, o->backing);
        struct disk *b = NULL;
        if (disk_open(bpath, o->backing_fmt, DISK_RDONLY, &b, err) < 0)
                return berth_wrap(err, "open backing file `%s`", o->backing);
        if (*size == 0)
                *size = b->size;
        *fmt = disk_format_name(b->format);
        disk_close(b);
        return 0;
}

static int write_image(int fd, const char *path, const struct disk_create_opts *o, uint64_t size,
                       const char *bfmt, berth_error_t *err)
{
        uint64_t cs = o->cluster_size ? o->cluster_size : 65536;
        unsigned bits = 0;
        while ((1ull << bits) < cs)
                bits++;
        if ((1ull << bits) != cs || bits < 9 || bits > 21)
                return berth_fail(err, EINVAL,
                                  "cluster size %llu is not a power of two from 512 B to 2 MiB",
                                  (unsigned long long) cs);
        unsigned version = o->version ? o->version : 3;
        if (version != 2 && version != 3)
                return berth_fail(err, EINVAL, "qcow2 version %u: only 2 and 3 exist", version);
        if (o->refcount_bits && o->refcount_bits != 16)
                return berth_fail(err, ENOTSUP, "only 16-bit refcounts are written");
        if (size > QCOW2_MAX_SIZE)
                return berth_fail(err, EFBIG, "size %llu is too large", (unsigned long long) size);
        if (o->zstd && version < 3)
                return berth_fail(err, EINVAL, "zstd compression needs qcow2 version 3");

        uint64_t l2_entries = cs / 8, per_l1 = l2_entries * cs;
        uint64_t l1_size = (size + per_l1 - 1) / per_l1;
        if (l1_size * 8 > QCOW2_MAX_L1_BYTES)
                return berth_fail(err, EFBIG,
                                  "size %llu needs too large an L1 table for %llu-byte "
                                  "clusters",
                                  (unsigned long long) size, (unsigned long long) cs);
        uint64_t l1c = (l1_size * 8 + cs - 1) / cs;
        if (l1c == 0)
                l1c = 1;
        uint64_t per_block = cs * 8 / 16;
        uint64_t rt = 1, rb = 1;
        for (;;) { /* the metadata must describe itself: iterate to a fixed point */
                uint64_t total = 1 + rt + rb + l1c;
                uint64_t nrb = (total + per_block - 1) / per_block;
                uint64_t nrt = (nrb * 8 + cs - 1) / cs;
                if (nrb == rb && nrt == rt)
                        break;
                rb = nrb;
                rt = nrt;
        }
        uint64_t total = 1 + rt + rb + l1c;

        struct qcow2 q = {
                .fd = fd,
                .version = version,
                .cluster_bits = bits,
                .cluster_size = cs,
                .size = size,
                .refcount_order = 4,
                .header_length = version == 3 ? 112 : 72,
                .l1_size = (uint32_t) l1_size,
                .l1_offset = (1 + rt + rb) * cs,
                .rt_offset = cs,
                .rt_clusters = (uint32_t) rt,
                .compression_type = o->zstd ? 1 : 0,
                .incompat = o->zstd ? QCOW2_INCOMPAT_COMPRESSION : 0,
        };
        cleanup_free char *bname = o->backing ? berth_xstrdup(o->backing) : NULL;
        cleanup_free char *bformat = bfmt ? berth_xstrdup(bfmt) : NULL;
        q.backing_name = bname;
        q.backing_fmt = bformat;
        if (ftruncate(fd, (off_t) (total * cs)) < 0)
                return berth_fail(err, errno, "size `%s`", path);
        if (qcow2_write_header(&q, err) < 0)
                return -1;
        cleanup_free uint64_t *t = berth_xcalloc(rt, cs);
        for (uint64_t i = 0; i < rb; i++)
                t[i] = htobe64((1 + rt + i) * cs);
        if (disk_full_pwrite(fd, t, rt * cs, cs) < 0)
                return berth_fail(err, errno, "write the refcount table");
        cleanup_free uint8_t *b = berth_xcalloc(rb, cs);
        for (uint64_t c = 0; c < total; c++)
                b[2 * c + 1] = 1; /* 16-bit big-endian 1 */
        if (disk_full_pwrite(fd, b, rb * cs, (1 + rt) * cs) < 0)
                return berth_fail(err, errno, "write the refcount blocks");
        if (fsync(fd) < 0)
                return berth_fail(err, errno, "fsync `%s`", path);
        return 0;
}

int qcow2_create(const char *path, const struct disk_create_opts *o, berth_error_t *err)
{
        uint64_t size = o->size;
        const char *bfmt = NULL;
        if (o->backing && backing_defaults(path, o, &size, &bfmt, err) < 0)
                return berth_wrap(err, "create `%s`", path);
        cleanup_free char *tmp = berth_xasprintf("%s.tmp.XXXXXX", path);
        cleanup_close int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return berth_fail(err, errno, "create `%s`", tmp);
        if (fchmod(fd, 0644) < 0 || write_image(fd, path, o, size, bfmt, err) < 0 ||
            rename(tmp, path) < 0) {
                int e = errno;
                unlink(tmp);
                if (err && *err)
                        return berth_wrap(err, "create `%s`", path);
                return berth_fail(err, e, "create `%s`", path);
        }
        return 0;
}
