/* qcow2.c — the qcow2 format driver: open and close, the read and write
 * paths, discard and zeroes, block status, resize, compressed clusters.
 *
 * One mutex per image guards metadata.  Reads look the mapping up under the
 * lock and do the data I/O outside it; writes that allocate hold it
 * throughout, so allocation order (data, then L2, then L1) is never
 * interleaved between requests. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#define ZLIB_CONST
#include <zlib.h>
#include <zstd.h>

#include "common/log.h"
#include "common/util.h"
#include "disk/qcow2_int.h"

static struct qcow2 *q_of(struct disk *d)
{
        return d->priv;
}

int qcow2_decompress(struct qcow2 *q, uint64_t l2e, uint8_t *out, berth_error_t *err)
{
        uint64_t host;
        uint64_t bytes = qcow2_compressed_span(q, l2e, &host);
        if (bytes > 2 * q->cluster_size)
                return berth_fail(err, EUCLEAN, "compressed cluster of %llu bytes is too large",
                                  (unsigned long long) bytes);
        if (q->zc_in == NULL)
                q->zc_in = berth_xmalloc(2 * q->cluster_size);
        if (disk_full_pread(q->fd, q->zc_in, bytes, host) < 0)
                return berth_fail(err, errno, "read compressed cluster at %llu",
                                  (unsigned long long) host);
        if (q->compression_type == 1) {
                if (q->zstd == NULL && (q->zstd = ZSTD_createDCtx()) == NULL)
                        abort();
                ZSTD_DCtx *z = q->zstd;
                ZSTD_DCtx_reset(z, ZSTD_reset_session_only);
                ZSTD_inBuffer in = {q->zc_in, bytes, 0};
                ZSTD_outBuffer o = {out, q->cluster_size, 0};
                size_t r = 1;
                while (o.pos < o.size && in.pos < in.size && r != 0) {
                        r = ZSTD_decompressStream(z, &o, &in);
                        if (ZSTD_isError(r))
                                break;
                }
                if (ZSTD_isError(r) || o.pos != o.size)
                        return berth_fail(err, EUCLEAN, "bad zstd data in compressed cluster");
                return 0;
        }
        if (q->inflater == NULL) {
                q->inflater = berth_xcalloc(1, sizeof(z_stream));
                if (inflateInit2(q->inflater, -12) != Z_OK) {
                        free(q->inflater);
                        q->inflater = NULL;
                        return berth_fail(err, ENOMEM, "inflateInit2");
                }
        } else if (inflateReset(q->inflater) != Z_OK) {
                return berth_fail(err, EINVAL, "inflateReset");
        }
        z_stream *s = q->inflater;
        s->next_in = q->zc_in;
        s->avail_in = (uInt) bytes;
        s->next_out = out;
        s->avail_out = (uInt) q->cluster_size;
        int r = inflate(s, Z_FINISH);
        /* The stored span is rounded to sectors, so input may be left over. */
        if ((r != Z_STREAM_END && r != Z_BUF_ERROR) || s->avail_out != 0)
                return berth_fail(err, EUCLEAN, "bad deflate data in compressed cluster at %llu",
                                  (unsigned long long) host);
        return 0;
}

static int read_backing(struct qcow2 *q, uint8_t *buf, uint64_t len, uint64_t off,
                        berth_error_t *err)
{
        struct disk *b = q->d->backing;
        if (b == NULL || off >= b->size) {
                memset(buf, 0, len);
                return 0;
        }
        uint64_t n = b->size - off < len ? b->size - off : len;
        if (disk_pread(b, buf, n, off, err) < 0)
                return berth_wrap(err, "read backing file `%s`", b->path);
        memset(buf + n, 0, len - n);
        return 0;
}

/* Read one mapped run (the lock is held for compressed clusters only). */
static int read_run(struct qcow2 *q, const struct qcow2_map *m, uint8_t *buf, uint64_t off,
                    berth_error_t *err)
{
        switch (m->type) {
        case QC_NORMAL:
                if (disk_full_pread(q->fd, buf, m->len, m->host_off) < 0)
                        return berth_fail(err, errno, "read %llu bytes at %llu",
                                          (unsigned long long) m->len,
                                          (unsigned long long) m->host_off);
                return 0;
        case QC_ZERO:
                memset(buf, 0, m->len);
                return 0;
        case QC_UNALLOCATED:
                return read_backing(q, buf, m->len, off, err);
        case QC_COMPRESSED:
                break;
        }
        if (q->zc == NULL)
                q->zc = berth_xmalloc(q->cluster_size);
        if (q->zc_entry != m->host_off) {
                q->zc_entry = 0;
                if (qcow2_decompress(q, m->host_off, q->zc, err) < 0)
                        return -1;
                q->zc_entry = m->host_off;
        }
        memcpy(buf, q->zc + q_offset_in_cluster(q, off), m->len);
        return 0;
}

static int qcow2_pread(struct disk *d, void *vbuf, size_t len, uint64_t off, berth_error_t *err)
{
        struct qcow2 *q = q_of(d);
        uint8_t *buf = vbuf;
        while (len > 0) {
                struct qcow2_map m;
                pthread_mutex_lock(&q->lock);
                int ret = qcow2_map(q, off, len, &m, err);
                if (ret == 0 && m.type == QC_COMPRESSED)
                        ret = read_run(q, &m, buf, off, err);
                pthread_mutex_unlock(&q->lock);
                if (ret == 0 && m.type != QC_COMPRESSED)
                        ret = read_run(q, &m, buf, off, err);
                if (ret < 0)
                        return berth_wrap(err, "read `%s` at %llu", d->path,
                                          (unsigned long long) off);
                buf += m.len;
                off += m.len;
                len -= m.len;
        }
        return 0;
}

int qcow2_read_cluster_data(struct qcow2 *q, uint64_t off, uint8_t *buf, size_t len,
                            berth_error_t *err)
{
        while (len > 0) {
                struct qcow2_map m;
                if (qcow2_map(q, off, len, &m, err) < 0 || read_run(q, &m, buf, off, err) < 0)
                        return -1;
                buf += m.len;
                off += m.len;
                len -= m.len;
        }
        return 0;
}

/* Data of freshly allocated clusters, gathered so that contiguous host
 * clusters go out in one write. */
struct wbatch {
        uint64_t host;
        const uint8_t *src;
        uint64_t len;
};

static int wbatch_flush(struct qcow2 *q, struct wbatch *b, berth_error_t *err)
{
        if (b->len && disk_full_pwrite(q->fd, b->src, b->len, b->host) < 0)
                return berth_fail(err, errno, "write %llu bytes at %llu",
                                  (unsigned long long) b->len, (unsigned long long) b->host);
        b->len = 0;
        return 0;
}

static int wbatch_add(struct qcow2 *q, struct wbatch *b, uint64_t host, const uint8_t *src,
                      uint64_t len, berth_error_t *err)
{
        if (b->len && b->host + b->len == host && b->src + b->len == src) {
                b->len += len;
                return 0;
        }
        if (wbatch_flush(q, b, err) < 0)
                return -1;
        *b = (struct wbatch){host, src, len};
        return 0;
}

static void free_old_entry(struct qcow2 *q, uint64_t e)
{
        if (e & QCOW_OFLAG_COMPRESSED)
                qcow2_free_compressed(q, e);
        else if (e & L2E_OFFSET_MASK)
                qcow2_defer_free(q, e & L2E_OFFSET_MASK, 1);
}

/* Write within one L2 table: clusters we own are written in place, the
 * others get new clusters (copying the untouched part of the old content). */
static int write_in_table(struct qcow2 *q, const uint8_t *buf, uint64_t len, uint64_t off,
                          uint64_t *done, berth_error_t *err)
{
        uint64_t cs = q->cluster_size;
        uint64_t l2_off, *t;
        if (qcow2_l2_for_write(q, off, &l2_off, &t, err) < 0)
                return -1;
        uint64_t i0 = (off >> q->cluster_bits) % q->l2_entries;
        uint64_t in0 = q_offset_in_cluster(q, off);
        uint64_t n = (in0 + len + cs - 1) >> q->cluster_bits;
        if (n > q->l2_entries - i0)
                n = q->l2_entries - i0;
        uint64_t bytes = n * cs - in0 < len ? n * cs - in0 : len;
        cleanup_free uint64_t *ne = berth_xmalloc(n * 8);
        cleanup_free uint64_t *old = berth_xmalloc(n * 8);
        cleanup_free uint8_t *cow = NULL;
        struct wbatch b = {0};
        uint64_t pos = 0;
        for (uint64_t k = 0; k < n; k++) {
                uint64_t e = be64toh(t[i0 + k]);
                uint64_t start = k == 0 ? in0 : 0;
                uint64_t l = cs - start < bytes - pos ? cs - start : bytes - pos;
                old[k] = 0;
                ne[k] = e;
                uint64_t host = e & L2E_OFFSET_MASK;
                if (host && !(e & QCOW_OFLAG_COMPRESSED) &&
                    (host < cs || host % cs || !q_in_file(q, host)))
                        return berth_fail(err, EUCLEAN,
                                          "L2 entry for offset %llu points at the header or "
                                          "outside the file (the image is corrupt)",
                                          (unsigned long long) off);
                bool inplace = (e & QCOW_OFLAG_COPIED) && host && !(e & QCOW_OFLAG_COMPRESSED) &&
                               !((e & QCOW_OFLAG_ZERO) && q->version >= 3);
                if (inplace) {
                        if (wbatch_add(q, &b, host + start, buf + pos, l, err) < 0)
                                return -1;
                        pos += l;
                        continue;
                }
                uint64_t nh;
                if (qcow2_alloc_clusters(q, 1, &nh, err) < 0)
                        return -1;
                if (l == cs) {
                        if (wbatch_add(q, &b, nh, buf + pos, cs, err) < 0)
                                return -1;
                } else {
                        /* Partial cluster: old content around the new bytes. */
                        if (cow == NULL)
                                cow = berth_xmalloc(cs);
                        uint64_t coff = ((off + pos - start) >> q->cluster_bits) << q->cluster_bits;
                        if (wbatch_flush(q, &b, err) < 0 ||
                            qcow2_read_cluster_data(q, coff, cow, cs, err) < 0)
                                return -1;
                        memcpy(cow + start, buf + pos, l);
                        if (disk_full_pwrite(q->fd, cow, cs, nh) < 0)
                                return berth_fail(err, errno, "write cluster at %llu",
                                                  (unsigned long long) nh);
                }
                ne[k] = nh | QCOW_OFLAG_COPIED;
                old[k] = e;
                pos += l;
        }
        if (wbatch_flush(q, &b, err) < 0)
                return -1;
        if (qcow2_set_l2_entries(q, off / (q->l2_entries * cs), i0, ne, n, err) < 0)
                return -1;
        for (uint64_t k = 0; k < n; k++)
                if (old[k])
                        free_old_entry(q, old[k]);
        if (q->zc_entry)
                q->zc_entry = 0;
        *done = bytes;
        return 0;
}

static int qcow2_pwrite(struct disk *d, const void *vbuf, size_t len, uint64_t off,
                        berth_error_t *err)
{
        struct qcow2 *q = q_of(d);
        const uint8_t *buf = vbuf;
        pthread_mutex_lock(&q->lock);
        int ret = 0;
        while (len > 0 && ret == 0) {
                struct qcow2_map m;
                ret = qcow2_map(q, off, len, &m, err);
                if (ret < 0)
                        break;
                uint64_t done = 0;
                if (m.type == QC_NORMAL && m.copied) { /* the fast path: in place */
                        if (disk_full_pwrite(q->fd, buf, m.len, m.host_off) < 0)
                                ret = berth_fail(err, errno, "write at %llu",
                                                 (unsigned long long) m.host_off);
                        done = m.len;
                } else {
                        ret = write_in_table(q, buf, len, off, &done, err);
                }
                buf += done;
                off += done;
                len -= done;
        }
        pthread_mutex_unlock(&q->lock);
        if (ret < 0)
                return berth_wrap(err, "write `%s` at %llu", d->path, (unsigned long long) off);
        return 0;
}

/* Vectored I/O (virtio-blk): when the whole request maps to one contiguous
 * run of clusters we own, one preadv/pwritev does it; otherwise each
 * element goes through the ordinary path. */
static int qcow2_rwv(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off, bool write,
                     berth_error_t *err)
{
        struct qcow2 *q = q_of(d);
        uint64_t total = 0;
        for (int i = 0; i < iovcnt; i++)
                total += iov[i].iov_len;
        if (total == 0)
                return 0;
        struct qcow2_map m;
        pthread_mutex_lock(&q->lock);
        int ret = qcow2_map(q, off, total, &m, err);
        bool direct = ret == 0 && m.type == QC_NORMAL && m.len == total && (!write || m.copied) &&
                      iovcnt <= IOV_MAX;
        ssize_t n = 0;
        if (direct && write) /* under the lock: no allocation may move the cluster */
                n = pwritev(q->fd, iov, iovcnt, (off_t) m.host_off);
        pthread_mutex_unlock(&q->lock);
        if (ret < 0)
                return -1;
        if (direct && !write)
                n = preadv(q->fd, iov, iovcnt, (off_t) m.host_off);
        if (direct && n == (ssize_t) total)
                return 0;
        for (int i = 0; i < iovcnt; i++) { /* slow path; also finishes short transfers */
                int r = write ? qcow2_pwrite(d, iov[i].iov_base, iov[i].iov_len, off, err)
                              : qcow2_pread(d, iov[i].iov_base, iov[i].iov_len, off, err);
                if (r < 0)
                        return -1;
                off += iov[i].iov_len;
        }
        return 0;
}

static int qcow2_preadv(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off,
                        berth_error_t *err)
{
        return qcow2_rwv(d, iov, iovcnt, off, false, err);
}

static int qcow2_pwritev(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off,
                         berth_error_t *err)
{
        return qcow2_rwv(d, iov, iovcnt, off, true, err);
}

enum zero_mode {
        ZM_ZERO,  /* reads return zeroes afterwards */
        ZM_UNMAP, /* unallocated: reads go to the backing file */
};

/* Set whole clusters [off, off+len) to zero or unallocated, freeing what
 * they pointed at.  Partial clusters are the caller's business. */
static int zero_clusters(struct qcow2 *q, uint64_t off, uint64_t len, enum zero_mode mode,
                         berth_error_t *err)
{
        uint64_t cs = q->cluster_size;
        bool flag = mode == ZM_ZERO && q->d->backing;
        if (flag && q->version < 3)
                return 1; /* v2 cannot say "zero": the caller writes zeroes */
        while (len > 0) {
                uint64_t l1_index = off / (q->l2_entries * cs);
                uint64_t i0 = (off >> q->cluster_bits) % q->l2_entries;
                uint64_t n = len >> q->cluster_bits;
                if (n > q->l2_entries - i0)
                        n = q->l2_entries - i0;
                uint64_t want = flag ? QCOW_OFLAG_ZERO : 0;
                if ((q->l1[l1_index] & L1E_OFFSET_MASK) == 0 && !flag) {
                        off += n * cs;
                        len -= n * cs;
                        continue;
                }
                uint64_t *t = NULL;
                uint64_t l2 = q->l1[l1_index] & L1E_OFFSET_MASK;
                bool needed = l2 == 0;
                if (l2 && qcow2_load_l2(q, l2, l1_index, &t, err) < 0)
                        return -1;
                for (uint64_t k = 0; t && k < n && !needed; k++)
                        needed = be64toh(t[i0 + k]) != want;
                if (needed) {
                        uint64_t l2_off;
                        if (qcow2_l2_for_write(q, off, &l2_off, &t, err) < 0)
                                return -1;
                        cleanup_free uint64_t *old = berth_xmalloc(n * 8);
                        cleanup_free uint64_t *ne = berth_xmalloc(n * 8);
                        for (uint64_t k = 0; k < n; k++) {
                                old[k] = be64toh(t[i0 + k]);
                                ne[k] = want;
                        }
                        if (qcow2_set_l2_entries(q, l1_index, i0, ne, n, err) < 0)
                                return -1;
                        for (uint64_t k = 0; k < n; k++)
                                free_old_entry(q, old[k]);
                        q->zc_entry = 0;
                }
                off += n * cs;
                len -= n * cs;
        }
        return 0;
}

static int write_zero_bytes(struct disk *d, uint64_t s, uint64_t e, berth_error_t *err)
{
        cleanup_free uint8_t *zero = NULL;
        while (s < e) {
                uint64_t n = e - s < (1u << 20) ? e - s : (1u << 20);
                if (zero == NULL)
                        zero = berth_xcalloc(1, 1u << 20);
                if (qcow2_pwrite(d, zero, n, s, err) < 0)
                        return -1;
                s += n;
        }
        return 0;
}

/* Whole clusters change their L2 entries; the partial ones at the edges get
 * zeroes written. */
static int zero_range(struct disk *d, uint64_t off, uint64_t len, enum zero_mode mode,
                      berth_error_t *err)
{
        struct qcow2 *q = q_of(d);
        uint64_t cs = q->cluster_size;
        uint64_t end = off + len;
        uint64_t a = (off + cs - 1) & ~(cs - 1);
        uint64_t b = end & ~(cs - 1);
        if (end == d->size)
                b = (end + cs - 1) & ~(cs - 1); /* the last, partial cluster is whole to us */
        if (a >= b)
                return write_zero_bytes(d, off, end, err);
        pthread_mutex_lock(&q->lock);
        int ret = zero_clusters(q, a, b - a, mode, err);
        pthread_mutex_unlock(&q->lock);
        if (ret < 0)
                return -1;
        if (ret > 0) /* v2 with a backing file cannot say "zero" */
                return write_zero_bytes(d, off, end, err);
        if (write_zero_bytes(d, off, a, err) < 0)
                return -1;
        return b < end ? write_zero_bytes(d, b, end, err) : 0;
}

static int qcow2_discard(struct disk *d, uint64_t off, uint64_t len, berth_error_t *err)
{
        return zero_range(d, off, len, ZM_ZERO, err);
}

int qcow2_make_empty(struct disk *d, berth_error_t *err)
{
        if (d->format != DISK_FORMAT_QCOW2)
                return berth_fail(err, EINVAL, "`%s` is not a qcow2 image", d->path);
        struct qcow2 *q = q_of(d);
        uint64_t end = (d->size + q->cluster_size - 1) & ~(q->cluster_size - 1);
        pthread_mutex_lock(&q->lock);
        int ret = zero_clusters(q, 0, end, ZM_UNMAP, err);
        if (ret == 0)
                ret = qcow2_sync(q, err);
        pthread_mutex_unlock(&q->lock);
        return ret;
}

static int qcow2_flush(struct disk *d, berth_error_t *err)
{
        struct qcow2 *q = q_of(d);
        pthread_mutex_lock(&q->lock);
        int ret = qcow2_sync(q, err);
        pthread_mutex_unlock(&q->lock);
        if (ret < 0)
                return berth_wrap(err, "flush `%s`", d->path);
        return 0;
}

static int qcow2_block_status(struct disk *d, uint64_t off, uint64_t len, struct disk_extent *ext,
                              berth_error_t *err)
{
        struct qcow2 *q = q_of(d);
        struct qcow2_map m;
        pthread_mutex_lock(&q->lock);
        int ret = qcow2_map(q, off, len, &m, err);
        pthread_mutex_unlock(&q->lock);
        if (ret < 0)
                return -1;
        *ext = (struct disk_extent){.off = off, .len = m.len, .host_off = UINT64_MAX};
        switch (m.type) {
        case QC_NORMAL:
                ext->flags = DISK_BS_DATA | DISK_BS_ALLOCATED;
                ext->host_off = m.host_off;
                return 0;
        case QC_COMPRESSED:
                ext->flags = DISK_BS_DATA | DISK_BS_ALLOCATED | DISK_BS_COMPRESSED;
                return 0;
        case QC_ZERO:
                ext->flags = DISK_BS_ZERO | DISK_BS_ALLOCATED;
                return 0;
        case QC_UNALLOCATED:
                break;
        }
        struct disk *b = d->backing;
        if (b == NULL || off >= b->size) {
                ext->flags = DISK_BS_ZERO;
                return 0;
        }
        uint64_t n = b->size - off < m.len ? b->size - off : m.len;
        if (disk_block_status(b, off, n, ext, err) < 0)
                return -1;
        ext->depth++;
        return 0;
}

static int qcow2_truncate(struct disk *d, uint64_t size, berth_error_t *err)
{
        struct qcow2 *q = q_of(d);
        if (size > QCOW2_MAX_SIZE)
                return berth_fail(err, EFBIG, "size %llu is too large", (unsigned long long) size);
        if (size < d->size) {
                if (q->nb_snapshots)
                        return berth_fail(err, ENOTSUP,
                                          "cannot shrink `%s`: it has internal snapshots", d->path);
                uint64_t cs = q->cluster_size;
                uint64_t a = (size + cs - 1) & ~(cs - 1);
                uint64_t end = (d->size + cs - 1) & ~(cs - 1);
                pthread_mutex_lock(&q->lock);
                int ret = a < end ? zero_clusters(q, a, end - a, ZM_UNMAP, err) : 0;
                pthread_mutex_unlock(&q->lock);
                if (ret < 0)
                        return -1;
        }
        pthread_mutex_lock(&q->lock);
        uint64_t per_l1 = q->l2_entries * q->cluster_size;
        int ret = qcow2_grow_l1(q, (size + per_l1 - 1) / per_l1, err);
        if (ret == 0)
                ret = qcow2_sync(q, err);
        if (ret == 0)
                ret = qcow2_pwrite_be64(q, QH_SIZE, size, err);
        if (ret == 0 && fdatasync(q->fd) < 0)
                ret = berth_fail(err, errno, "flush the header");
        if (ret == 0)
                q->size = d->size = size;
        pthread_mutex_unlock(&q->lock);
        return ret;
}

/* A writable image made whole in its file: give back the unused pool, cut
 * the file after the last used cluster, then one sync covers L2 entries,
 * frees and both (its close, and a freeze). */
static int write_back(struct qcow2 *q, berth_error_t *err)
{
        int ret = qcow2_release_pool(q, err);
        struct stat st;
        uint64_t end = q->end_cluster << q->cluster_bits;
        if (ret == 0 && fstat(q->fd, &st) == 0 && (uint64_t) st.st_size > end &&
            ftruncate(q->fd, (off_t) end) < 0)
                log_debug("cannot trim `%s`: %s", q->d->path, strerror(errno));
        return ret == 0 ? qcow2_sync(q, err) : ret;
}

static void qcow2_close(struct disk *d)
{
        struct qcow2 *q = q_of(d);
        if (q == NULL)
                return;
        if (!q->readonly) {
                cleanup_error berth_error_t err = NULL;
                if (write_back(q, &err) < 0)
                        berth_error_report(&err, 0);
        }
        close(q->fd);
        qcow2_l2_cache_free(q);
        qcow2_refcount_free(q);
        qcow2_free_snapshots(q);
        for (size_t i = 0; i < q->n_exts; i++)
                free(q->exts[i].data);
        free(q->exts);
        free(q->features);
        free(q->backing_name);
        free(q->backing_fmt);
        free(q->l1);
        free(q->zc);
        free(q->zc_in);
        ZSTD_freeDCtx(q->zstd);
        if (q->inflater) {
                inflateEnd(q->inflater);
                free(q->inflater);
        }
        pthread_mutex_destroy(&q->lock);
        free(q);
        d->priv = NULL;
}

int qcow2_freeze(struct disk *d, berth_error_t *err)
{
        struct qcow2 *q = q_of(d);
        if (q->readonly)
                return 0;
        /* what its close does, now: the file is final from here on */
        int ret = write_back(q, err);
        if (ret == 0)
                q->readonly = d->readonly = true;
        return ret;
}

static const struct disk_ops qcow2_ops = {
        .name = "qcow2",
        .pread = qcow2_pread,
        .pwrite = qcow2_pwrite,
        .flush = qcow2_flush,
        .discard = qcow2_discard,
        .close = qcow2_close,
        .write_zeroes = qcow2_discard,
        .block_status = qcow2_block_status,
        .truncate = qcow2_truncate,
        .preadv = qcow2_preadv,
        .pwritev = qcow2_pwritev,
};

static int read_l1(struct qcow2 *q, unsigned flags, berth_error_t *err)
{
        q->l1 = berth_xcalloc(q->l1_size ? q->l1_size : 1, 8);
        if (q->l1_size == 0)
                return 0;
        if (disk_full_pread(q->fd, q->l1, (size_t) q->l1_size * 8, q->l1_offset) < 0)
                return berth_fail(err, errno, "read the L1 table");
        for (uint32_t i = 0; i < q->l1_size; i++) {
                q->l1[i] = be64toh(q->l1[i]);
                /* `berth disk check` reads on and reports it (qcow2_check.c) */
                if ((q->l1[i] & L1E_OFFSET_MASK) % q->cluster_size && !(flags & DISK_CHECK))
                        return berth_fail(err, EUCLEAN,
                                          "L1 entry %u points at an unaligned L2 table", i);
        }
        return 0;
}

static int open_backing(struct disk *d, struct qcow2 *q, unsigned flags, struct disk_chain *chain,
                        berth_error_t *err)
{
        if (q->backing_name == NULL || (flags & DISK_NO_BACKING))
                return 0;
        enum disk_format fmt = DISK_FORMAT_AUTO;
        if (q->backing_fmt && disk_parse_format(q->backing_fmt, &fmt, err) < 0)
                return berth_wrap(err, "backing file format");
        cleanup_free char *path = disk_backing_path(d->path, q->backing_name);
        if (disk_backing_allowed(chain->opts, d->path, path, err) < 0)
                return berth_wrap(err, "open backing file of `%s`", d->path);
        unsigned bflags = DISK_RDONLY | (flags & DISK_DIRECT);
        if (disk_open_layer(path, fmt, bflags, chain, &d->backing, err) < 0)
                return berth_wrap(err, "open backing file of `%s`", d->path);
        return 0;
}

int qcow2_open(struct disk *d, int fd, unsigned flags, struct disk_chain *chain, berth_error_t *err)
{
        struct qcow2 *q = berth_xcalloc(1, sizeof(*q));
        q->fd = fd;
        q->d = d;
        q->readonly = (flags & DISK_RDONLY) != 0;
        pthread_mutex_init(&q->lock, NULL);
        d->priv = q;
        d->ops = &qcow2_ops;
        int ret = qcow2_read_header(q, err);
        if (ret == 0 && !q->readonly && !(flags & DISK_FORCE)) {
                if (q->incompat & QCOW2_INCOMPAT_CORRUPT)
                        ret = berth_fail(err, EUCLEAN,
                                         "the image is marked corrupt; open it read-only, or "
                                         "repair it with `berth disk check -r all`");
                else if (q->incompat & QCOW2_INCOMPAT_DIRTY)
                        ret = berth_fail(err, EUCLEAN,
                                         "the image is dirty (lazy refcounts were not written "
                                         "back); repair it with `berth disk check -r all`");
        }
        if (ret == 0)
                ret = qcow2_refcount_init(q, err);
        if (ret == 0) {
                uint64_t l1_end = q->l1_offset + (uint64_t) q->l1_size * 8;
                uint64_t rt_end = q->rt_offset + (uint64_t) q->rt_clusters * q->cluster_size;
                if ((q->l1_size && !q_in_file(q, l1_end - 1)) || !q_in_file(q, rt_end - 1) ||
                    (q->nb_snapshots && !q_in_file(q, q->snapshots_offset)))
                        ret = berth_fail(err, EUCLEAN,
                                         "the L1, refcount or snapshot table lies outside the "
                                         "file (the image is corrupt or truncated)");
        }
        if (ret == 0)
                ret = read_l1(q, flags, err);
        if (ret == 0)
                ret = qcow2_l2_cache_init(q);
        if (ret == 0)
                ret = qcow2_read_snapshots(q, err);
        if (ret == 0)
                ret = open_backing(d, q, flags, chain, err);
        if (ret == 0 && !q->readonly && q->autoclear) {
                /* We don't keep bitmaps up to date: clearing the autoclear bits
                 * tells every later reader so (that is what they are for). */
                q->autoclear = 0;
                ret = qcow2_pwrite_be64(q, 88, 0, err);
        }
        if (ret < 0) {
                q->readonly = true; /* no write-back on this close */
                if (d->backing) {
                        disk_close(d->backing);
                        d->backing = NULL;
                }
                qcow2_close(d);
                return -1;
        }
        d->size = q->size;
        return 0;
}

int qcow2_get_info(struct disk *d, struct qcow2_info *out, berth_error_t *err)
{
        if (d->format != DISK_FORMAT_QCOW2)
                return berth_fail(err, EINVAL, "`%s` is not a qcow2 image", d->path);
        struct qcow2 *q = q_of(d);
        *out = (struct qcow2_info){
                .version = q->version,
                .cluster_size = q->cluster_size,
                .refcount_bits = 1u << q->refcount_order,
                .lazy_refcounts = (q->compat & QCOW2_COMPAT_LAZY_REFCOUNTS) != 0,
                .corrupt = (q->incompat & QCOW2_INCOMPAT_CORRUPT) != 0,
                .dirty = (q->incompat & QCOW2_INCOMPAT_DIRTY) != 0,
                .extended_l2 = (q->incompat & QCOW2_INCOMPAT_EXTL2) != 0,
                .compression = q->compression_type == 1 ? "zstd" : "zlib",
                .backing_name = q->backing_name,
                .backing_fmt = q->backing_fmt,
                .nb_snapshots = q->nb_snapshots,
                .snapshots = q->snaps,
        };
        return 0;
}

uint64_t qcow2_cluster_size(struct disk *d)
{
        return d->format == DISK_FORMAT_QCOW2 ? q_of(d)->cluster_size : 0;
}

int qcow2_set_backing(struct disk *d, const char *name, const char *fmt, berth_error_t *err)
{
        if (d->format != DISK_FORMAT_QCOW2)
                return berth_fail(err, EINVAL, "`%s` is not a qcow2 image", d->path);
        struct qcow2 *q = q_of(d);
        pthread_mutex_lock(&q->lock);
        char *old_name = q->backing_name, *old_fmt = q->backing_fmt;
        q->backing_name = name && *name ? berth_xstrdup(name) : NULL;
        q->backing_fmt = q->backing_name && fmt ? berth_xstrdup(fmt) : NULL;
        int ret = qcow2_write_header(q, err);
        if (ret == 0 && fdatasync(q->fd) < 0)
                ret = berth_fail(err, errno, "flush the header");
        if (ret < 0) {
                free(q->backing_name);
                free(q->backing_fmt);
                q->backing_name = old_name;
                q->backing_fmt = old_fmt;
        } else {
                free(old_name);
                free(old_fmt);
        }
        pthread_mutex_unlock(&q->lock);
        return ret;
}

/* Deflate one cluster; 0 when it does not get smaller. */
static size_t deflate_cluster(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
        z_stream s = {0};
        if (deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY) != Z_OK)
                return 0;
        s.next_in = in;
        s.avail_in = (uInt) len;
        s.next_out = out;
        s.avail_out = (uInt) cap;
        int r = deflate(&s, Z_FINISH);
        size_t n = cap - s.avail_out;
        deflateEnd(&s);
        return r == Z_STREAM_END ? n : 0;
}

static int write_one_compressed(struct qcow2 *q, const uint8_t *data, uint64_t off, uint8_t *out,
                                berth_error_t *err)
{
        uint64_t cs = q->cluster_size;
        size_t clen;
        if (q->compression_type == 1) {
                /* One zstd frame, as qemu writes; its reader streams over the
                 * sector padding after the frame. */
                clen = ZSTD_compress(out, cs - 1, data, cs, ZSTD_CLEVEL_DEFAULT);
                if (ZSTD_isError(clen))
                        clen = 0;
        } else {
                clen = deflate_cluster(data, cs, out, cs - 1);
        }
        if (clen == 0)
                return 1; /* store it uncompressed */
        /* Pack into the current host cluster; start a new one when it is full. */
        uint64_t host = q->cwrite_off;
        bool fresh = host == 0 || (host & (cs - 1)) + clen > cs || (host & (cs - 1)) == 0;
        if (fresh && qcow2_alloc_clusters(q, 1, &host, err) < 0)
                return -1;
        if (!fresh && qcow2_update_refcount(q, host >> q->cluster_bits, 1, 1, err) < 0)
                return -1;
        if (disk_full_pwrite(q->fd, out, clen, host) < 0)
                return berth_fail(err, errno, "write a compressed cluster");
        unsigned x = 62 - (q->cluster_bits - 8);
        uint64_t nb = ((host + clen - 1) >> 9) - (host >> 9);
        uint64_t e = QCOW_OFLAG_COMPRESSED | (nb << x) | host;
        q->cwrite_off = host + clen;
        uint64_t l2_off, *t;
        if (qcow2_l2_for_write(q, off, &l2_off, &t, err) < 0)
                return -1;
        uint64_t i = (off >> q->cluster_bits) % q->l2_entries;
        uint64_t old = be64toh(t[i]);
        if (qcow2_set_l2_entries(q, off / (q->l2_entries * q->cluster_size), i, &e, 1, err) < 0)
                return -1;
        free_old_entry(q, old);
        return 0;
}

int qcow2_write_compressed(struct disk *d, const void *vbuf, size_t len, uint64_t off,
                           berth_error_t *err)
{
        if (d->format != DISK_FORMAT_QCOW2)
                return berth_fail(err, EINVAL, "`%s` is not a qcow2 image", d->path);
        struct qcow2 *q = q_of(d);
        uint64_t cs = q->cluster_size;
        if (off % cs || off > d->size || len > d->size - off || (len % cs && off + len != d->size))
                return berth_fail(err, EINVAL, "compressed writes must cover whole clusters");
        const uint8_t *buf = vbuf;
        cleanup_free uint8_t *out = berth_xmalloc(cs);
        cleanup_free uint8_t *last = NULL;
        while (len > 0) {
                const uint8_t *src = buf;
                uint64_t n = len < cs ? len : cs;
                if (n < cs) { /* the tail of the disk: pad the last cluster with zeroes */
                        last = berth_xcalloc(1, cs);
                        memcpy(last, buf, n);
                        src = last;
                }
                pthread_mutex_lock(&q->lock);
                int r = write_one_compressed(q, src, off, out, err);
                pthread_mutex_unlock(&q->lock);
                if (r < 0)
                        return -1;
                if (r > 0 && qcow2_pwrite(d, buf, n, off, err) < 0)
                        return -1;
                buf += n;
                off += n;
                len -= n;
        }
        return 0;
}
