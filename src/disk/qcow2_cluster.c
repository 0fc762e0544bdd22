/* qcow2_cluster.c — guest offset to host cluster: the L1 table, L2 tables
 * behind a small direct-mapped cache, and the copy-on-write of L2 tables
 * shared with snapshots.
 *
 * L2 updates are written through (the cache is never dirty), after a
 * barrier that makes the refcounts of newly referenced clusters durable. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "disk/qcow2_int.h"

#define L2_CACHE_BYTES (4u << 20)

int qcow2_l2_cache_init(struct qcow2 *q)
{
        unsigned n = (unsigned) (L2_CACHE_BYTES >> q->cluster_bits);
        if (n < 4)
                n = 4;
        q->l2c_n = n;
        q->l2c = berth_xcalloc(n, sizeof(*q->l2c));
        return 0;
}

void qcow2_l2_cache_free(struct qcow2 *q)
{
        if (q->l2c)
                for (unsigned i = 0; i < q->l2c_n; i++)
                        free(q->l2c[i].t);
        free(q->l2c);
        q->l2c = NULL;
}

static int slot_writeback(struct qcow2 *q, struct l2_slot *s, berth_error_t *err)
{
        if (s->dirty_hi <= s->dirty_lo)
                return 0;
        if (qcow2_barrier(q, err) < 0)
                return -1;
        uint64_t lo = s->dirty_lo, hi = s->dirty_hi;
        if (disk_full_pwrite(q->fd, s->t + lo, (hi - lo) * 8, s->off + lo * 8) < 0)
                return berth_fail(err, errno, "write L2 table at %llu",
                                  (unsigned long long) s->off);
        s->dirty_lo = s->dirty_hi = 0;
        return 0;
}

int qcow2_l2_writeback(struct qcow2 *q, berth_error_t *err)
{
        for (unsigned i = 0; q->l2c && i < q->l2c_n; i++)
                if (slot_writeback(q, &q->l2c[i], err) < 0)
                        return -1;
        return 0;
}

int qcow2_l2_cache_drop(struct qcow2 *q, berth_error_t *err)
{
        if (qcow2_l2_writeback(q, err) < 0)
                return -1;
        for (unsigned i = 0; i < q->l2c_n; i++)
                q->l2c[i].off = 0;
        return 0;
}

int qcow2_load_l2(struct qcow2 *q, uint64_t l2_off, uint64_t l1_index, uint64_t **out,
                  berth_error_t *err)
{
        struct l2_slot *s = &q->l2c[l1_index % q->l2c_n];
        if (s->off == l2_off && s->t) {
                *out = s->t;
                return 0;
        }
        if (l2_off % q->cluster_size || !q_in_file(q, l2_off))
                return berth_fail(err, EUCLEAN,
                                  "L2 table offset %llu is not aligned or outside the file (the "
                                  "image is corrupt)",
                                  (unsigned long long) l2_off);
        if (slot_writeback(q, s, err) < 0)
                return -1;
        if (s->t == NULL)
                s->t = berth_xmalloc(q->cluster_size);
        s->off = 0;
        if (disk_full_pread(q->fd, s->t, q->cluster_size, l2_off) < 0)
                return berth_fail(err, errno, "read L2 table at %llu", (unsigned long long) l2_off);
        s->off = l2_off;
        *out = s->t;
        return 0;
}

static enum qcow2_cluster_type entry_type(const struct qcow2 *q, uint64_t e)
{
        if (e & QCOW_OFLAG_COMPRESSED)
                return QC_COMPRESSED;
        if ((e & QCOW_OFLAG_ZERO) && q->version >= 3)
                return QC_ZERO;
        if ((e & L2E_OFFSET_MASK) == 0)
                return QC_UNALLOCATED;
        return QC_NORMAL;
}

int qcow2_map(struct qcow2 *q, uint64_t off, uint64_t len, struct qcow2_map *m, berth_error_t *err)
{
        uint64_t cs = q->cluster_size;
        uint64_t l2_span = q->l2_entries * cs;
        uint64_t l1_index = off / l2_span;
        uint64_t in_l2 = off % l2_span;
        uint64_t max = l2_span - in_l2; /* a run never leaves its L2 table */
        if (len < max)
                max = len;
        m->host_off = 0;
        m->copied = false;
        if (l1_index >= q->l1_size || (q->l1[l1_index] & L1E_OFFSET_MASK) == 0) {
                m->type = QC_UNALLOCATED;
                m->len = max;
                return 0;
        }
        uint64_t *t = NULL;
        if (qcow2_load_l2(q, q->l1[l1_index] & L1E_OFFSET_MASK, l1_index, &t, err) < 0)
                return -1;
        if (t == NULL)
                return berth_fail(err, EIO, "L2 table missing from the cache");
        uint64_t i = in_l2 >> q->cluster_bits;
        uint64_t e = be64toh(t[i]);
        m->type = entry_type(q, e);
        uint64_t first = cs - q_offset_in_cluster(q, off);
        if (m->type == QC_NORMAL) {
                uint64_t host = e & L2E_OFFSET_MASK;
                if (host % cs)
                        return berth_fail(err, EUCLEAN,
                                          "L2 entry for offset %llu points at an unaligned "
                                          "host offset %llu (the image is corrupt)",
                                          (unsigned long long) off, (unsigned long long) host);
                if (host < cs || !q_in_file(q, host))
                        return berth_fail(err, EUCLEAN,
                                          "L2 entry for offset %llu points at the header or "
                                          "outside the file (the image is corrupt)",
                                          (unsigned long long) off);
                m->host_off = host + q_offset_in_cluster(q, off);
        } else if (m->type == QC_COMPRESSED) {
                m->host_off = e;
                m->len = first < max ? first : max;
                return 0;
        }
        uint64_t run = first;
        uint64_t copied = e & QCOW_OFLAG_COPIED;
        for (uint64_t j = i + 1; run < max && j < q->l2_entries; j++) {
                uint64_t f = be64toh(t[j]);
                if (entry_type(q, f) != m->type)
                        break;
                if (m->type == QC_NORMAL &&
                    ((f & L2E_OFFSET_MASK) != (e & L2E_OFFSET_MASK) + (j - i) * cs ||
                     (f & QCOW_OFLAG_COPIED) != copied))
                        break;
                run += cs;
        }
        m->len = run < max ? run : max;
        m->copied = copied != 0;
        return 0;
}

int qcow2_write_l1_entry(struct qcow2 *q, uint64_t index, berth_error_t *err)
{
        return qcow2_pwrite_be64(q, q->l1_offset + index * 8, q->l1[index], err);
}

int qcow2_set_l2_entries(struct qcow2 *q, uint64_t l1_index, uint64_t first,
                         const uint64_t *entries, uint64_t n, berth_error_t *err)
{
        struct l2_slot *s = &q->l2c[l1_index % q->l2c_n];
        if (s->off != (q->l1[l1_index] & L1E_OFFSET_MASK) || s->t == NULL)
                return berth_fail(err, EIO, "L2 table for L1 entry %llu is not in the cache",
                                  (unsigned long long) l1_index);
        for (uint64_t k = 0; k < n; k++)
                s->t[first + k] = htobe64(entries[k]);
        if (s->dirty_hi <= s->dirty_lo) {
                s->dirty_lo = first;
                s->dirty_hi = first + n;
        } else {
                if (first < s->dirty_lo)
                        s->dirty_lo = first;
                if (first + n > s->dirty_hi)
                        s->dirty_hi = first + n;
        }
        return 0;
}

int qcow2_l2_for_write(struct qcow2 *q, uint64_t off, uint64_t *l2_off, uint64_t **table,
                       berth_error_t *err)
{
        uint64_t l1_index = off / (q->l2_entries * q->cluster_size);
        if (l1_index >= q->l1_size)
                return berth_fail(err, EUCLEAN, "offset %llu is beyond the L1 table",
                                  (unsigned long long) off);
        uint64_t l1e = q->l1[l1_index];
        uint64_t old = l1e & L1E_OFFSET_MASK;
        if (old && (l1e & QCOW_OFLAG_COPIED)) {
                *l2_off = old;
                return qcow2_load_l2(q, old, l1_index, table, err);
        }
        /* A new table, or a private copy of one shared with a snapshot. */
        uint64_t *src = NULL;
        if (old && qcow2_load_l2(q, old, l1_index, &src, err) < 0)
                return -1;
        cleanup_free uint64_t *copy = berth_xcalloc(1, q->cluster_size);
        if (src)
                memcpy(copy, src, q->cluster_size);
        struct l2_slot *s = &q->l2c[l1_index % q->l2c_n];
        if (slot_writeback(q, s, err) < 0) /* the slot is about to hold the new table */
                return -1;
        uint64_t nl2;
        if (qcow2_alloc_clusters(q, 1, &nl2, err) < 0)
                return -1;
        if (disk_full_pwrite(q->fd, copy, q->cluster_size, nl2) < 0)
                return berth_fail(err, errno, "write a new L2 table");
        /* The table and its refcount must be on disk before L1 points at it. */
        if (fdatasync(q->fd) < 0)
                return berth_fail(err, errno, "flush a new L2 table");
        q->barrier_needed = false;
        q->l1[l1_index] = nl2 | QCOW_OFLAG_COPIED;
        if (qcow2_write_l1_entry(q, l1_index, err) < 0)
                return -1;
        if (old)
                qcow2_defer_free(q, old, 1);
        if (s->t == NULL)
                s->t = berth_xmalloc(q->cluster_size);
        memcpy(s->t, copy, q->cluster_size);
        s->off = nl2;
        *l2_off = nl2;
        *table = s->t;
        return 0;
}

int qcow2_grow_l1(struct qcow2 *q, uint64_t min_size, berth_error_t *err)
{
        if (min_size <= q->l1_size)
                return 0;
        if (min_size * 8 > QCOW2_MAX_L1_BYTES)
                return berth_fail(err, EFBIG, "the L1 table would exceed %u MiB",
                                  QCOW2_MAX_L1_BYTES >> 20);
        uint64_t bytes = (min_size * 8 + q->cluster_size - 1) & ~(q->cluster_size - 1);
        uint64_t n = bytes >> q->cluster_bits;
        uint64_t off;
        if (qcow2_alloc_clusters(q, n, &off, err) < 0)
                return -1;
        cleanup_free uint64_t *be = berth_xcalloc(1, bytes);
        for (uint64_t i = 0; i < q->l1_size; i++)
                be[i] = htobe64(q->l1[i]);
        if (disk_full_pwrite(q->fd, be, bytes, off) < 0 || fdatasync(q->fd) < 0)
                return berth_fail(err, errno, "write the new L1 table");
        q->barrier_needed = false;
        uint8_t hdr[12];
        uint32_t sz = htobe32((uint32_t) min_size);
        uint64_t o = htobe64(off);
        memcpy(hdr, &sz, 4);
        memcpy(hdr + 4, &o, 8);
        if (disk_full_pwrite(q->fd, hdr, 12, QH_L1_SIZE) < 0 || fdatasync(q->fd) < 0)
                return berth_fail(err, errno, "point the header at the new L1 table");
        uint64_t old = q->l1_offset,
                 old_n = ((uint64_t) q->l1_size * 8 + q->cluster_size - 1) >> q->cluster_bits;
        q->l1 = berth_xrealloc(q->l1, min_size * 8);
        memset(q->l1 + q->l1_size, 0, (min_size - q->l1_size) * 8);
        q->l1_size = (uint32_t) min_size;
        q->l1_offset = off;
        if (old)
                qcow2_defer_free(q, old, old_n);
        return 0;
}

uint64_t qcow2_compressed_span(const struct qcow2 *q, uint64_t l2e, uint64_t *host_off)
{
        unsigned x = 62 - (q->cluster_bits - 8);
        uint64_t off = l2e & ((1ull << x) - 1);
        uint64_t nb = (l2e >> x) & ((1ull << (62 - x)) - 1);
        *host_off = off;
        return (nb + 1) * 512 - (off & 511);
}

/* COPIED (bit 63) must be set exactly on the active table entries whose
 * cluster has refcount 1; snapshot operations change refcounts wholesale,
 * so they recompute the flags afterwards. */
int qcow2_fix_copied_flags(struct qcow2 *q, berth_error_t *err)
{
        cleanup_free uint64_t *t = berth_xmalloc(q->cluster_size);
        for (uint64_t i = 0; i < q->l1_size; i++) {
                uint64_t l2 = q->l1[i] & L1E_OFFSET_MASK;
                if (l2 == 0)
                        continue;
                if (!q_in_file(q, l2) || l2 % q->cluster_size)
                        return berth_fail(err, EUCLEAN, "L1 entry %llu is outside the file",
                                          (unsigned long long) i);
                uint64_t rc;
                if (qcow2_get_refcount(q, q_cluster(q, l2), &rc, err) < 0)
                        return -1;
                /* Entries of a table shared with a snapshot point at clusters with
                 * refcount >= 2, so their flags come out clear, as qemu-img check
                 * expects; the snapshot itself ignores the flags. */
                if (disk_full_pread(q->fd, t, q->cluster_size, l2) < 0)
                        return berth_fail(err, errno, "read L2 table");
                bool changed = false;
                for (uint64_t j = 0; j < q->l2_entries; j++) {
                        uint64_t e = be64toh(t[j]);
                        uint64_t host = e & L2E_OFFSET_MASK;
                        if ((e & QCOW_OFLAG_COMPRESSED) || host == 0)
                                continue;
                        uint64_t drc;
                        if (qcow2_get_refcount(q, q_cluster(q, host), &drc, err) < 0)
                                return -1;
                        uint64_t ne = drc == 1 ? e | QCOW_OFLAG_COPIED : e & ~QCOW_OFLAG_COPIED;
                        if (ne != e) {
                                t[j] = htobe64(ne);
                                changed = true;
                        }
                }
                if (changed && disk_full_pwrite(q->fd, t, q->cluster_size, l2) < 0)
                        return berth_fail(err, errno, "write L2 table");
                uint64_t ne =
                        rc == 1 ? q->l1[i] | QCOW_OFLAG_COPIED : q->l1[i] & ~QCOW_OFLAG_COPIED;
                if (ne != q->l1[i]) {
                        q->l1[i] = ne;
                        if (qcow2_write_l1_entry(q, i, err) < 0)
                                return -1;
                }
        }
        return qcow2_l2_cache_drop(q, err);
}
