/* convert.c — whole-image operations (convert.h): convert, commit, rebase, compare, map. */
#include "disk/convert.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "disk/qcow2.h"

#define CHUNK (2u << 20) /* a multiple of every qcow2 cluster size */

bool disk_is_zero(const void *buf, size_t len)
{
        const uint8_t *p = buf;
        while (len && ((uintptr_t) p & 7)) {
                if (*p++)
                        return false;
                len--;
        }
        const uint64_t *w = (const uint64_t *) (const void *) p;
        for (; len >= 64; len -= 64, w += 8)
                if (w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7])
                        return false;
        p = (const uint8_t *) w;
        while (len--)
                if (*p++)
                        return false;
        return true;
}

/* Write buf to d at off, skipping all-zero blocks of `grain` bytes. */
static int write_sparse(struct disk *d, const uint8_t *buf, uint64_t len, uint64_t off,
                        uint64_t grain, bool compress, berth_error_t *err)
{
        uint64_t p = 0;
        while (p < len) {
                uint64_t n = grain - ((off + p) % grain);
                if (n > len - p)
                        n = len - p;
                if (disk_is_zero(buf + p, n)) {
                        p += n;
                        continue;
                }
                /* Gather the run of non-zero grains into one write. */
                uint64_t q = p + n;
                while (q < len) {
                        uint64_t m = grain < len - q ? grain : len - q;
                        if (disk_is_zero(buf + q, m))
                                break;
                        q += m;
                }
                int r = compress ? qcow2_write_compressed(d, buf + p, q - p, off + p, err)
                                 : disk_pwrite(d, buf + p, q - p, off + p, err);
                if (r < 0)
                        return -1;
                p = q;
        }
        return 0;
}

/* Copy [0, size) of src into dst; with `top_only`, only what src's own layer
 * holds (commit).  dst is assumed to read as zeroes where we skip, unless
 * `write_zeroes` (commit into a base with old data). */
static int copy_data(struct disk *src, struct disk *dst, bool top_only, bool write_zeroes,
                     bool compress, berth_error_t *err)
{
        uint64_t grain = dst->format == DISK_FORMAT_QCOW2 ? qcow2_cluster_size(dst) : 4096;
        cleanup_free uint8_t *buf = berth_xmalloc(CHUNK);
        uint64_t off = 0, size = src->size < dst->size ? src->size : dst->size;
        while (off < size) {
                struct disk_extent e;
                uint64_t want = size - off < CHUNK ? size - off : CHUNK;
                if (disk_block_status(src, off, want, &e, err) < 0)
                        return -1;
                /* Compressed clusters are written whole: keep chunks aligned. */
                uint64_t n = compress ? want : e.len;
                bool zero = (e.flags & DISK_BS_ZERO) && e.len >= n;
                bool skip = top_only && (e.depth > 0 || !(e.flags & DISK_BS_ALLOCATED));
                if (skip || (zero && !write_zeroes)) {
                        /* nothing to do: dst already reads zeroes there */
                } else if (zero) {
                        if (disk_write_zeroes(dst, off, n, err) < 0)
                                return -1;
                } else {
                        if (disk_pread(src, buf, n, off, err) < 0)
                                return -1;
                        if (write_zeroes) {
                                if (disk_pwrite(dst, buf, n, off, err) < 0)
                                        return -1;
                        } else if (write_sparse(dst, buf, n, off, grain, compress, err) < 0) {
                                return -1;
                        }
                }
                off += n;
        }
        return 0;
}

int disk_convert(const char *src_path, const char *dst_path, const struct disk_convert_opts *o,
                 berth_error_t *err)
{
        struct disk_create_opts co = o->create;
        if (co.format == DISK_FORMAT_AUTO)
                co.format = DISK_FORMAT_RAW;
        if (o->compress && co.format != DISK_FORMAT_QCOW2)
                return berth_fail(err, EINVAL, "compression needs a qcow2 target");
        struct disk *src = NULL, *dst = NULL;
        if (disk_open(src_path, o->src_format, DISK_RDONLY, &src, err) < 0)
                return -1;
        co.size = src->size;
        int ret = disk_create(dst_path, &co, err);
        if (ret == 0)
                ret = disk_open(dst_path, co.format, 0, &dst, err);
        if (ret == 0)
                ret = copy_data(src, dst, false, false, o->compress, err);
        if (ret == 0 && o->sync)
                ret = disk_flush(dst, err);
        disk_close(dst);
        disk_close(src);
        if (ret < 0)
                return berth_wrap(err, "convert `%s` to `%s`", src_path, dst_path);
        return 0;
}

int disk_commit(const char *path, enum disk_format fmt, bool keep, berth_error_t *err)
{
        struct disk *top = NULL, *base = NULL;
        if (disk_open(path, fmt, keep ? DISK_RDONLY : 0, &top, err) < 0)
                return -1;
        if (top->backing == NULL) {
                berth_fail(err, EINVAL, "`%s` has no backing file to commit into", top->path);
                disk_close(top);
                return -1;
        }
        int ret = disk_open(top->backing->path, top->backing->format, 0, &base, err);
        if (ret == 0 && base->size < top->size)
                ret = disk_truncate(base, top->size, err);
        if (ret == 0)
                ret = copy_data(top, base, true, true, false, err);
        if (ret == 0)
                ret = disk_flush(base, err);
        disk_close(base);
        if (ret == 0 && !keep && top->format == DISK_FORMAT_QCOW2)
                ret = qcow2_make_empty(top, err);
        disk_close(top);
        if (ret < 0)
                return berth_wrap(err, "commit `%s`", path);
        return 0;
}

/* Where the top layer does not decide, keep what the old chain showed: copy what differs from
 * the new backing file nbd (NULL: none, zeroes) into d. */
static int keep_content(struct disk *d, struct disk *nbd, berth_error_t *err)
{
        uint64_t cs = qcow2_cluster_size(d);
        cleanup_free uint8_t *a = berth_xmalloc(cs), *b = berth_xmalloc(cs);
        int ret = 0;
        for (uint64_t off = 0; off < d->size && ret == 0; off += cs) {
                uint64_t n = d->size - off < cs ? d->size - off : cs;
                struct disk_extent e;
                ret = disk_block_status(d, off, n, &e, err);
                if (ret < 0 || (e.depth == 0 && (e.flags & DISK_BS_ALLOCATED)))
                        continue;
                ret = disk_pread(d, a, n, off, err);
                memset(b, 0, n);
                if (ret == 0 && nbd && off < nbd->size)
                        ret = disk_pread(nbd, b, nbd->size - off < n ? nbd->size - off : n, off,
                                         err);
                if (ret == 0 && memcmp(a, b, n) != 0)
                        ret = disk_pwrite(d, a, n, off, err);
        }
        if (ret == 0)
                ret = disk_flush(d, err);
        return ret;
}

int disk_rebase(const char *path, enum disk_format fmt, const char *backing,
                enum disk_format backing_fmt, bool unsafe, berth_error_t *err)
{
        struct disk *d = NULL, *nbd = NULL;
        if (disk_open(path, fmt, unsafe ? DISK_NO_BACKING : 0, &d, err) < 0)
                return -1;
        enum disk_format bf = backing_fmt;
        int ret = 0;
        if (d->format != DISK_FORMAT_QCOW2)
                ret = berth_fail(err, EINVAL, "`%s` is not a qcow2 image", d->path);
        if (ret == 0 && *backing) {
                cleanup_free char *p = disk_backing_path(d->path, backing);
                ret = disk_open(p, bf, DISK_RDONLY, &nbd, err);
                if (ret == 0)
                        bf = nbd->format;
        }
        if (ret == 0 && !unsafe)
                ret = keep_content(d, nbd, err);
        if (ret == 0)
                ret = qcow2_set_backing(d, backing, *backing ? disk_format_name(bf) : NULL, err);
        disk_close(nbd);
        disk_close(d);
        if (ret < 0)
                return berth_wrap(err, "rebase `%s`", path);
        return 0;
}

/* Compare the runs of a and b from off on (at most *n bytes); *n becomes the length compared. */
static int compare_run(struct disk *a, struct disk *b, uint8_t *x, uint8_t *y, uint64_t off,
                       uint64_t *n, struct disk_compare_result *res, berth_error_t *err)
{
        struct disk_extent ea = {.len = *n, .flags = DISK_BS_ZERO};
        struct disk_extent eb = ea;
        if (off < a->size &&
            disk_block_status(a, off, a->size - off < *n ? a->size - off : *n, &ea, err) < 0)
                return -1;
        if (off < b->size &&
            disk_block_status(b, off, b->size - off < *n ? b->size - off : *n, &eb, err) < 0)
                return -1;
        if (off < a->size && ea.len < *n)
                *n = ea.len;
        if (off < b->size && eb.len < *n)
                *n = eb.len;
        if ((ea.flags & DISK_BS_ZERO) && (eb.flags & DISK_BS_ZERO))
                return 0;
        memset(x, 0, *n);
        memset(y, 0, *n);
        if (off < a->size && disk_pread(a, x, *n, off, err) < 0)
                return -1;
        if (off < b->size && disk_pread(b, y, *n, off, err) < 0)
                return -1;
        if (memcmp(x, y, *n) != 0) {
                uint64_t i = 0;
                while (x[i] == y[i])
                        i++;
                res->differ = true;
                res->at_known = true;
                res->offset = off + (i & ~511ull);
        }
        return 0;
}

int disk_compare(const char *pa, enum disk_format fa, const char *pb, enum disk_format fb,
                 bool strict, struct disk_compare_result *res, berth_error_t *err)
{
        memset(res, 0, sizeof(*res));
        struct disk *a = NULL, *b = NULL;
        if (disk_open(pa, fa, DISK_RDONLY, &a, err) < 0)
                return -1;
        if (disk_open(pb, fb, DISK_RDONLY, &b, err) < 0) {
                disk_close(a);
                return -1;
        }
        res->size_mismatch = a->size != b->size;
        res->differ = strict && res->size_mismatch;
        cleanup_free uint8_t *x = berth_xmalloc(CHUNK), *y = berth_xmalloc(CHUNK);
        uint64_t big = a->size > b->size ? a->size : b->size;
        int ret = 0;
        for (uint64_t off = 0; off < big && ret == 0 && !res->differ;) {
                uint64_t n = big - off < CHUNK ? big - off : CHUNK;
                ret = compare_run(a, b, x, y, off, &n, res, err);
                off += n;
        }
        disk_close(a);
        disk_close(b);
        return ret;
}

static const char *layer_path(struct disk *d, unsigned depth)
{
        while (depth-- && d->backing)
                d = d->backing;
        return d->path;
}

int disk_map(const char *path, enum disk_format fmt, struct disk_map_entry **out, size_t *n,
             berth_error_t *err)
{
        struct disk *d = NULL;
        *out = NULL;
        *n = 0;
        if (disk_open(path, fmt, DISK_RDONLY, &d, err) < 0)
                return -1;
        struct disk_map_entry *v = NULL;
        size_t count = 0;
        struct disk_extent cur = {0};
        bool have = false;
        int ret = 0;
        for (uint64_t off = 0; off <= d->size;) {
                struct disk_extent e = {0};
                bool end = off == d->size;
                if (!end && disk_block_status(d, off, d->size - off, &e, err) < 0) {
                        ret = -1;
                        break;
                }
                e.flags &= ~DISK_BS_COMPRESSED;
                bool merge = have && !end && e.flags == cur.flags && e.depth == cur.depth &&
                             (cur.host_off == UINT64_MAX ? e.host_off == UINT64_MAX
                                                         : e.host_off == cur.host_off + cur.len);
                if (merge) {
                        cur.len += e.len;
                } else {
                        if (have) {
                                v = berth_xrealloc(v, (count + 1) * sizeof(*v));
                                v[count].ext = cur;
                                v[count++].file = berth_xstrdup(layer_path(d, cur.depth));
                        }
                        cur = e;
                        have = true;
                }
                if (end)
                        break;
                off += e.len;
        }
        disk_close(d);
        if (ret < 0) {
                disk_map_free(v, count);
                return -1;
        }
        *out = v;
        *n = count;
        return 0;
}

void disk_map_free(struct disk_map_entry *v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i].file);
        free(v);
}
