/* qcow2_refcount.c — refcount table and blocks, cluster allocation and
 * freeing, in the order that keeps an image consistent across a crash.
 *
 * The rules (they make a crash leave leaked clusters at worst):
 *  - a cluster's refcount is raised, and synced (qcow2_barrier), before any
 *    table that refers to it can reach the disk;
 *  - a refcount is lowered only after the tables that stopped referring to
 *    the cluster are synced (qcow2_defer_free, applied at flush);
 *  - a new refcount block or table is written and synced before the table
 *    or header pointing at it is.
 * Allocation takes clusters from a small pool reserved (refcount 1) ahead of
 * use, so sequential writes pay one sync per pool rather than per cluster.
 * Refcounts of every width (refcount_order 0..6) are read and written. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "disk/qcow2_int.h"

/* The pool starts at 1 MiB and doubles with each refill up to 64 MiB: a
 * sequential writer pays a handful of syncs, a crash leaks at most that. */
#define POOL_MIN_BYTES (1u << 20)
#define POOL_MAX_BYTES (64u << 20)

static uint64_t rb_get(const struct qcow2 *q, const uint8_t *b, uint64_t j)
{
        switch (q->refcount_order) {
        case 0:
        case 1:
        case 2: {
                unsigned bits = 1u << q->refcount_order, per = 8 / bits;
                return (b[j / per] >> (bits * (j % per))) & ((1u << bits) - 1);
        }
        case 3:
                return b[j];
        case 4:
                return (uint64_t) b[2 * j] << 8 | b[2 * j + 1];
        case 5: {
                uint32_t v;
                memcpy(&v, b + 4 * j, 4);
                return be32toh(v);
        }
        default: {
                uint64_t v;
                memcpy(&v, b + 8 * j, 8);
                return be64toh(v);
        }
        }
}

static void rb_set(const struct qcow2 *q, uint8_t *b, uint64_t j, uint64_t v)
{
        switch (q->refcount_order) {
        case 0:
        case 1:
        case 2: {
                unsigned bits = 1u << q->refcount_order, per = 8 / bits;
                unsigned shift = bits * (j % per);
                uint8_t mask = (uint8_t) (((1u << bits) - 1) << shift);
                b[j / per] = (uint8_t) ((b[j / per] & ~mask) | ((v << shift) & mask));
                break;
        }
        case 3:
                b[j] = (uint8_t) v;
                break;
        case 4:
                b[2 * j] = (uint8_t) (v >> 8);
                b[2 * j + 1] = (uint8_t) v;
                break;
        case 5: {
                uint32_t x = htobe32((uint32_t) v);
                memcpy(b + 4 * j, &x, 4);
                break;
        }
        default: {
                uint64_t x = htobe64(v);
                memcpy(b + 8 * j, &x, 8);
                break;
        }
        }
}

/* Byte range [lo, hi) of a block holding entries [j0, j1]. */
static void rb_bytes(const struct qcow2 *q, uint64_t j0, uint64_t j1, uint64_t *lo, uint64_t *hi)
{
        if (q->refcount_order < 3) {
                unsigned per = 8u >> q->refcount_order;
                *lo = j0 / per;
                *hi = j1 / per + 1;
        } else {
                unsigned w = 1u << (q->refcount_order - 3);
                *lo = j0 * w;
                *hi = (j1 + 1) * w;
        }
}

int qcow2_refcount_init(struct qcow2 *q, berth_error_t *err)
{
        q->rb_entries = q->cluster_size * 8 >> q->refcount_order;
        q->refcount_max =
                q->refcount_order == 6 ? UINT64_MAX : (1ull << (1u << q->refcount_order)) - 1;
        q->rt_entries = (uint64_t) q->rt_clusters * q->cluster_size / 8;
        q->rt = berth_xmalloc(q->rt_entries * 8);
        if (disk_full_pread(q->fd, q->rt, q->rt_entries * 8, q->rt_offset) < 0)
                return berth_fail(err, errno, "read the refcount table");
        for (uint64_t i = 0; i < q->rt_entries; i++) {
                q->rt[i] = be64toh(q->rt[i]);
                if (q->rt[i] & ~REFT_OFFSET_MASK || q->rt[i] % q->cluster_size)
                        return berth_fail(err, EINVAL,
                                          "refcount block %llu has an unaligned offset %llu",
                                          (unsigned long long) i, (unsigned long long) q->rt[i]);
        }
        q->rb = berth_xcalloc(q->rt_entries, sizeof(*q->rb));
        struct stat st;
        if (fstat(q->fd, &st) < 0)
                return berth_fail(err, errno, "stat the image");
        q->end_cluster = ((uint64_t) st.st_size + q->cluster_size - 1) >> q->cluster_bits;
        return 0;
}

void qcow2_refcount_free(struct qcow2 *q)
{
        if (q->rb)
                for (uint64_t i = 0; i < q->rt_entries; i++)
                        free(q->rb[i]);
        free(q->rb);
        free(q->rt);
        free(q->pending);
        q->rb = NULL;
        q->rt = NULL;
        q->pending = NULL;
}

/* The cached block i, or NULL when the table has no block there. */
static int load_block(struct qcow2 *q, uint64_t i, uint8_t **out, berth_error_t *err)
{
        *out = NULL;
        if (i >= q->rt_entries || q->rt[i] == 0)
                return 0;
        if (q->rb[i] == NULL) {
                if (!q_in_file(q, q->rt[i]))
                        return berth_fail(err, EUCLEAN,
                                          "refcount block %llu at %llu is outside the file (the "
                                          "image is corrupt)",
                                          (unsigned long long) i, (unsigned long long) q->rt[i]);
                uint8_t *b = berth_xmalloc(q->cluster_size);
                if (disk_full_pread(q->fd, b, q->cluster_size, q->rt[i]) < 0) {
                        free(b);
                        return berth_fail(err, errno, "read refcount block at %llu",
                                          (unsigned long long) q->rt[i]);
                }
                q->rb[i] = b;
        }
        *out = q->rb[i];
        return 0;
}

int qcow2_get_refcount(struct qcow2 *q, uint64_t cluster, uint64_t *out, berth_error_t *err)
{
        uint8_t *b;
        if (load_block(q, cluster / q->rb_entries, &b, err) < 0)
                return -1;
        *out = b ? rb_get(q, b, cluster % q->rb_entries) : 0;
        return 0;
}

int qcow2_barrier(struct qcow2 *q, berth_error_t *err)
{
        if (!q->barrier_needed)
                return 0;
        if (fdatasync(q->fd) < 0)
                return berth_fail(err, errno, "flush refcount updates");
        q->barrier_needed = false;
        return 0;
}

static int write_rt_entry(struct qcow2 *q, uint64_t i, berth_error_t *err)
{
        return qcow2_pwrite_be64(q, q->rt_offset + i * 8, q->rt[i], err);
}

static int ensure_blocks(struct qcow2 *q, uint64_t c, uint64_t n, berth_error_t *err);

/* Change refcounts of clusters whose blocks exist; write each block's
 * changed bytes once. */
static int update_existing(struct qcow2 *q, uint64_t cluster, uint64_t n, int64_t delta,
                           berth_error_t *err)
{
        while (n > 0) {
                uint64_t i = cluster / q->rb_entries, j0 = cluster % q->rb_entries;
                uint64_t cnt = q->rb_entries - j0 < n ? q->rb_entries - j0 : n;
                uint8_t *b;
                if (load_block(q, i, &b, err) < 0)
                        return -1;
                if (b == NULL)
                        return berth_fail(err, EIO, "no refcount block for cluster %llu",
                                          (unsigned long long) cluster);
                for (uint64_t j = j0; j < j0 + cnt; j++) {
                        uint64_t v = rb_get(q, b, j);
                        unsigned long long which = i * q->rb_entries + j;
                        if (delta < 0 && v < (uint64_t) -delta)
                                return berth_fail(err, EUCLEAN,
                                                  "refcount of cluster %llu would drop below "
                                                  "zero (the image is corrupt)",
                                                  which);
                        if (delta > 0 && q->refcount_max - v < (uint64_t) delta)
                                return berth_fail(err, EOVERFLOW,
                                                  "refcount of cluster %llu would overflow "
                                                  "%u bits",
                                                  which, 1u << q->refcount_order);
                }
                for (uint64_t j = j0; j < j0 + cnt; j++)
                        rb_set(q, b, j, rb_get(q, b, j) + (uint64_t) delta);
                uint64_t lo, hi;
                rb_bytes(q, j0, j0 + cnt - 1, &lo, &hi);
                if (disk_full_pwrite(q->fd, b + lo, hi - lo, q->rt[i] + lo) < 0)
                        return berth_fail(err, errno, "write refcount block at %llu",
                                          (unsigned long long) q->rt[i]);
                if (delta < 0) {
                        for (uint64_t j = j0; j < j0 + cnt; j++)
                                if (rb_get(q, b, j) == 0 && i * q->rb_entries + j < q->free_hint)
                                        q->free_hint = i * q->rb_entries + j;
                } else {
                        q->barrier_needed = true;
                }
                cluster += cnt;
                n -= cnt;
        }
        return 0;
}

int qcow2_update_refcount(struct qcow2 *q, uint64_t cluster, uint64_t n, int64_t delta,
                          berth_error_t *err)
{
        if (cluster >= q->end_cluster || n > q->end_cluster - cluster)
                return berth_fail(err, EUCLEAN,
                                  "a table refers to cluster %llu, outside the file (the image "
                                  "is corrupt)",
                                  (unsigned long long) cluster);
        if (delta > 0 && ensure_blocks(q, cluster, n, err) < 0)
                return -1;
        return update_existing(q, cluster, n, delta, err);
}

static bool block_missing(const struct qcow2 *q, uint64_t i)
{
        return i >= q->rt_entries || q->rt[i] == 0;
}

/* Replace the refcount table with a larger one at the end of the file,
 * together with the refcount blocks that describe the new table itself. */
static int grow_table(struct qcow2 *q, uint64_t need_index, berth_error_t *err)
{
        uint64_t cs = q->cluster_size, N = q->rb_entries;
        if ((need_index + 1) * 8 > QCOW2_MAX_REFTABLE_BYTES)
                return berth_fail(err, EFBIG, "the refcount table would exceed %u MiB",
                                  QCOW2_MAX_REFTABLE_BYTES >> 20);
        uint64_t entries = need_index + 1 > q->rt_entries ? need_index + 1 : q->rt_entries;
        entries += entries / 2 + 1;
        uint64_t T, k, m;
        for (;;) {
                k = (entries * 8 + cs - 1) / cs;
                T = q->end_cluster;
                m = 0;
                for (;;) {
                        uint64_t cnt = 0;
                        for (uint64_t i = T / N; i <= (T + k + m - 1) / N; i++)
                                cnt += block_missing(q, i);
                        if (cnt == m)
                                break;
                        m = cnt;
                }
                uint64_t last = (T + k + m - 1) / N;
                if (last < entries)
                        break;
                entries = last + 1 + entries / 2;
        }
        if (k * cs > QCOW2_MAX_REFTABLE_BYTES)
                return berth_fail(err, EFBIG, "the refcount table would exceed %u MiB",
                                  QCOW2_MAX_REFTABLE_BYTES >> 20);
        uint64_t new_entries = k * cs / 8;
        uint64_t *nt = berth_xcalloc(new_entries, 8);
        memcpy(nt, q->rt, q->rt_entries * 8);
        /* New blocks only; the cached existing ones join after the updates
         * below, which may load more of them into q->rb. */
        uint8_t **nrb = berth_xcalloc(new_entries, sizeof(*nrb));
        /* Clusters of the new table and blocks in ranges whose blocks exist
         * get their refcounts there; the rest in the new blocks. */
        uint64_t next = T + k;
        for (uint64_t i = T / N; i <= (T + k + m - 1) / N; i++) {
                if (!block_missing(q, i))
                        continue;
                nt[i] = next * cs;
                nrb[i] = berth_xcalloc(1, cs);
                next++;
        }
        int ret = 0;
        for (uint64_t x = T; x < T + k + m && ret == 0; x++) {
                uint64_t i = x / N;
                if (block_missing(q, i))
                        rb_set(q, nrb[i], x % N, 1);
                else
                        ret = update_existing(q, x, 1, 1, err);
        }
        for (uint64_t i = T / N; i <= (T + k + m - 1) / N && ret == 0; i++) {
                if (block_missing(q, i) && disk_full_pwrite(q->fd, nrb[i], cs, nt[i]) < 0)
                        ret = berth_fail(err, errno, "write a new refcount block");
        }
        cleanup_free uint64_t *be = berth_xmalloc(new_entries * 8);
        for (uint64_t i = 0; i < new_entries; i++)
                be[i] = htobe64(nt[i]);
        if (ret == 0 && disk_full_pwrite(q->fd, be, new_entries * 8, T * cs) < 0)
                ret = berth_fail(err, errno, "write the new refcount table");
        if (ret == 0 && fdatasync(q->fd) < 0)
                ret = berth_fail(err, errno, "flush the new refcount table");
        if (ret == 0) {
                uint8_t hdr[12];
                uint64_t o = htobe64(T * cs);
                uint32_t c = htobe32((uint32_t) k);
                memcpy(hdr, &o, 8);
                memcpy(hdr + 8, &c, 4);
                if (disk_full_pwrite(q->fd, hdr, 12, QH_REFTABLE) < 0 || fdatasync(q->fd) < 0)
                        ret = berth_fail(err, errno, "point the header at the new refcount table");
        }
        if (ret < 0) {
                for (uint64_t i = 0; i < new_entries; i++)
                        free(nrb[i]); /* only new blocks are in nrb yet */
                free(nrb);
                free(nt);
                return -1;
        }
        for (uint64_t i = 0; i < q->rt_entries; i++)
                if (nrb[i] == NULL)
                        nrb[i] = q->rb[i];
        uint64_t old_off = q->rt_offset, old_clusters = q->rt_clusters;
        free(q->rt);
        free(q->rb);
        q->rt = nt;
        q->rb = nrb;
        q->rt_entries = new_entries;
        q->rt_offset = T * cs;
        q->rt_clusters = (uint32_t) k;
        q->end_cluster = T + k + m;
        qcow2_defer_free(q, old_off, old_clusters);
        return 0;
}

/* A new, empty refcount block for index i at the end of the file. */
static int create_block(struct qcow2 *q, uint64_t i, berth_error_t *err)
{
        uint64_t x = q->end_cluster;
        bool self = x / q->rb_entries == i;
        if (!self) {
                if (ensure_blocks(q, x, 1, err) < 0)
                        return -1;
                if (!block_missing(q, i))
                        return 0;
                x = q->end_cluster;
                self = x / q->rb_entries == i;
        }
        q->end_cluster = x + 1;
        if (!self && update_existing(q, x, 1, 1, err) < 0)
                return -1;
        uint8_t *b = berth_xcalloc(1, q->cluster_size);
        if (self)
                rb_set(q, b, x % q->rb_entries, 1);
        if (disk_full_pwrite(q->fd, b, q->cluster_size, x << q->cluster_bits) < 0 ||
            fdatasync(q->fd) < 0) {
                free(b);
                return berth_fail(err, errno, "write a new refcount block");
        }
        q->rt[i] = x << q->cluster_bits;
        q->rb[i] = b;
        if (write_rt_entry(q, i, err) < 0)
                return -1;
        q->barrier_needed = true;
        return 0;
}

static int ensure_blocks(struct qcow2 *q, uint64_t c, uint64_t n, berth_error_t *err)
{
        for (uint64_t i = c / q->rb_entries; i <= (c + n - 1) / q->rb_entries; i++) {
                if (!block_missing(q, i))
                        continue;
                if (i >= q->rt_entries) {
                        if (grow_table(q, i, err) < 0)
                                return -1;
                } else if (create_block(q, i, err) < 0) {
                        return -1;
                }
                i--; /* look at it again: the table may have grown without it */
        }
        return 0;
}

/* n contiguous clusters at the end of the file, refcount 1.  The file is
 * extended to cover them at once, so that after a crash their refcounts
 * describe clusters inside the file (leaks), never stale ones beyond it. */
static int alloc_at_end(struct qcow2 *q, uint64_t n, uint64_t *first, berth_error_t *err)
{
        for (;;) {
                uint64_t e = q->end_cluster;
                if (ensure_blocks(q, e, n, err) < 0)
                        return -1;
                if (q->end_cluster != e)
                        continue;
                /* A foreign image may count clusters past its end: step over them. */
                uint64_t busy = n;
                for (uint64_t k = 0; k < n && busy == n; k++) {
                        uint64_t rc;
                        if (qcow2_get_refcount(q, e + k, &rc, err) < 0)
                                return -1;
                        if (rc)
                                busy = k;
                }
                if (busy == n)
                        break;
                q->end_cluster = e + busy + 1;
        }
        uint64_t e = q->end_cluster;
        struct stat st;
        uint64_t want = (e + n) << q->cluster_bits;
        if (fstat(q->fd, &st) < 0)
                return berth_fail(err, errno, "stat the image");
        if ((uint64_t) st.st_size < want && ftruncate(q->fd, (off_t) want) < 0)
                return berth_fail(err, errno, "extend the image to %llu bytes",
                                  (unsigned long long) want);
        if (update_existing(q, e, n, 1, err) < 0)
                return -1;
        q->end_cluster = e + n;
        *first = e;
        return 0;
}

/* First free run of at least n clusters inside the file (up to max long). */
static int find_free(struct qcow2 *q, uint64_t n, uint64_t max, uint64_t *first, uint64_t *len,
                     berth_error_t *err)
{
        uint64_t run = 0, start = 0;
        for (uint64_t c = q->free_hint; c < q->end_cluster; c++) {
                uint64_t i = c / q->rb_entries;
                uint8_t *b;
                if (load_block(q, i, &b, err) < 0)
                        return -1;
                if (b == NULL) { /* a whole range without a block: use the end instead */
                        run = 0;
                        c = (i + 1) * q->rb_entries - 1;
                        continue;
                }
                if (rb_get(q, b, c % q->rb_entries) != 0) {
                        if (run == 0 && c == q->free_hint)
                                q->free_hint = c + 1;
                        run = 0;
                        continue;
                }
                if (run++ == 0)
                        start = c;
                if (run >= max)
                        break;
        }
        if (run >= n) {
                *first = start;
                *len = run;
                return 1;
        }
        return 0;
}

static int alloc_direct(struct qcow2 *q, uint64_t n, uint64_t max, uint64_t *first, uint64_t *got,
                        berth_error_t *err)
{
        uint64_t len;
        int r = find_free(q, n, max, first, &len, err);
        if (r < 0)
                return -1;
        if (r > 0) {
                *got = len;
                return update_existing(q, *first, len, 1, err);
        }
        *got = max;
        return alloc_at_end(q, max, first, err);
}

int qcow2_release_pool(struct qcow2 *q, berth_error_t *err)
{
        if (q->pool_len == 0)
                return 0;
        if (update_existing(q, q->pool_start, q->pool_len, -1, err) < 0)
                return -1;
        if (q->pool_start + q->pool_len == q->end_cluster)
                q->end_cluster = q->pool_start;
        q->pool_len = 0;
        return 0;
}

int qcow2_alloc_clusters(struct qcow2 *q, uint64_t n, uint64_t *off, berth_error_t *err)
{
        if (q->readonly)
                return berth_fail(err, EROFS, "image is read-only");
        if (n <= q->pool_len) {
                *off = q->pool_start << q->cluster_bits;
                q->pool_start += n;
                q->pool_len -= n;
                return 0;
        }
        if (q->pool_next == 0)
                q->pool_next = POOL_MIN_BYTES >> q->cluster_bits;
        uint64_t pool = q->pool_next < 2 ? 2 : q->pool_next;
        if (n > 1 && n > pool / 4) { /* big tables: exactly what is asked */
                uint64_t first = 0, got = 0;
                if (alloc_direct(q, n, n, &first, &got, err) < 0)
                        return -1;
                *off = first << q->cluster_bits;
                return 0;
        }
        if (qcow2_release_pool(q, err) < 0)
                return -1;
        uint64_t first = 0, got = 0;
        if (alloc_direct(q, n, pool, &first, &got, err) < 0)
                return -1;
        if (pool * 2 <= (POOL_MAX_BYTES >> q->cluster_bits))
                q->pool_next = pool * 2;
        *off = first << q->cluster_bits;
        q->pool_start = first + n;
        q->pool_len = got - n;
        return 0;
}

void qcow2_defer_free(struct qcow2 *q, uint64_t host_off, uint64_t n)
{
        if (n == 0)
                return;
        if (q->n_pending == q->cap_pending) {
                q->cap_pending = q->cap_pending ? q->cap_pending * 2 : 64;
                q->pending = berth_xrealloc(q->pending, q->cap_pending * sizeof(*q->pending));
        }
        q->pending[q->n_pending++] = (struct qcow2_pending_free){host_off >> q->cluster_bits, n};
}

int qcow2_free_compressed(struct qcow2 *q, uint64_t l2e)
{
        uint64_t host;
        uint64_t bytes = qcow2_compressed_span(q, l2e, &host);
        uint64_t c0 = host >> q->cluster_bits, c1 = (host + bytes - 1) >> q->cluster_bits;
        for (uint64_t c = c0; c <= c1; c++)
                qcow2_defer_free(q, c << q->cluster_bits, 1);
        return 0;
}

int qcow2_apply_pending_frees(struct qcow2 *q, berth_error_t *err)
{
        if (q->n_pending == 0)
                return 0;
        if (fdatasync(q->fd) < 0)
                return berth_fail(err, errno, "flush before freeing clusters");
        for (size_t i = 0; i < q->n_pending; i++) {
                if (update_existing(q, q->pending[i].cluster, q->pending[i].n, -1, err) < 0) {
                        q->n_pending = 0;
                        return -1;
                }
        }
        q->n_pending = 0;
        return 0;
}

int qcow2_sync(struct qcow2 *q, berth_error_t *err)
{
        if (qcow2_l2_writeback(q, err) < 0 || qcow2_apply_pending_frees(q, err) < 0)
                return -1;
        if (fdatasync(q->fd) < 0)
                return berth_fail(err, errno, "flush the image");
        q->barrier_needed = false;
        return 0;
}
