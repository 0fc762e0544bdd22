/* qcow2_check.c — `berth disk check`: recount every reference in the image
 * (header, L1/L2 tables of the active layer and of every snapshot, data and
 * compressed clusters, refcount structures, snapshot table), compare with
 * the stored refcounts and the COPIED flags, and optionally repair.
 *
 * Findings are classified as qemu-img check does: a refcount higher than the
 * references is a leak (wasted space, no harm); lower is a corruption. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "disk/qcow2_int.h"

struct counter {
        struct qcow2 *q;
        uint32_t *ref; /* references found, per host cluster */
        uint64_t n;    /* clusters in the file */
        FILE *out;
        struct qcow2_check_result *res;
};

static void note_line(struct counter *c, const char *line)
{
        if (c->out)
                fprintf(c->out, "%s\n", line);
}

/* A macro rather than a variadic function: the format stays checked at each call. */
#define note(c, ...)                                         \
        do {                                                 \
                char line_[512];                             \
                snprintf(line_, sizeof(line_), __VA_ARGS__); \
                note_line((c), line_);                       \
        } while (0)

/* Count a reference to every cluster touched by [off, off+len). */
static void ref_range(struct counter *c, uint64_t off, uint64_t len, const char *what)
{
        if (len == 0)
                return;
        uint64_t c0 = off >> c->q->cluster_bits, c1 = (off + len - 1) >> c->q->cluster_bits;
        for (uint64_t k = c0; k <= c1; k++) {
                if (k >= c->n) {
                        unsigned long long at = k << c->q->cluster_bits;
                        note(c, "ERROR %s at offset %llu is beyond the end of the image file", what,
                             at);
                        c->res->corruptions++;
                        return;
                }
                if (c->ref[k] < UINT32_MAX)
                        c->ref[k]++;
        }
}

static int walk_l1(struct counter *c, const uint64_t *l1, uint32_t l1_size, bool active,
                   berth_error_t *err)
{
        struct qcow2 *q = c->q;
        cleanup_free uint64_t *t = berth_xmalloc(q->cluster_size);
        for (uint32_t i = 0; i < l1_size; i++) {
                /* The reserved bits are masked off on every lookup, so an entry
                 * with them set still maps its L2 table: an error, as qemu-img
                 * check says, and the table is walked as the lookups see it. */
                if (l1[i] & L1E_RESERVED_MASK) {
                        note(c, "ERROR L1 entry %u has reserved bits set: %llx", i,
                             (unsigned long long) l1[i]);
                        c->res->corruptions++;
                }
                uint64_t l2 = l1[i] & L1E_OFFSET_MASK;
                if (l2 == 0)
                        continue;
                if (l2 % q->cluster_size) {
                        note(c, "ERROR L1 entry %u: L2 table offset %llu is not cluster aligned", i,
                             (unsigned long long) l2);
                        c->res->corruptions++;
                        continue;
                }
                ref_range(c, l2, q->cluster_size, "L2 table");
                if (disk_full_pread(q->fd, t, q->cluster_size, l2) < 0)
                        return berth_fail(err, errno, "read L2 table at %llu",
                                          (unsigned long long) l2);
                for (uint64_t j = 0; j < q->l2_entries; j++) {
                        uint64_t e = be64toh(t[j]);
                        if (e & QCOW_OFLAG_COMPRESSED) {
                                uint64_t host, bytes = qcow2_compressed_span(q, e, &host);
                                ref_range(c, host, bytes, "compressed cluster");
                                if (active)
                                        c->res->allocated_clusters++;
                                continue;
                        }
                        uint64_t host = e & L2E_OFFSET_MASK;
                        if (host == 0) {
                                if (active && (e & QCOW_OFLAG_ZERO) && q->version >= 3)
                                        c->res->allocated_clusters++;
                                continue;
                        }
                        if (host % q->cluster_size) {
                                note(c,
                                     "ERROR L2 entry %llu of table %llu: offset %llu is not "
                                     "cluster aligned",
                                     (unsigned long long) j, (unsigned long long) l2,
                                     (unsigned long long) host);
                                c->res->corruptions++;
                                continue;
                        }
                        ref_range(c, host, q->cluster_size, "data cluster");
                        if (active)
                                c->res->allocated_clusters++;
                }
        }
        return 0;
}

static int check_copied(struct counter *c, uint64_t *bad, berth_error_t *err)
{
        struct qcow2 *q = c->q;
        cleanup_free uint64_t *t = berth_xmalloc(q->cluster_size);
        for (uint32_t i = 0; i < q->l1_size; i++) {
                uint64_t l2 = q->l1[i] & L1E_OFFSET_MASK;
                if (l2 == 0 || l2 % q->cluster_size || (l2 >> q->cluster_bits) >= c->n)
                        continue;
                bool one = c->ref[l2 >> q->cluster_bits] == 1;
                if (one != ((q->l1[i] & QCOW_OFLAG_COPIED) != 0)) {
                        note(c,
                             "ERROR OFLAG_COPIED L2 cluster: l1_index=%u l1_entry=%llx "
                             "refcount=%u",
                             i, (unsigned long long) q->l1[i], c->ref[l2 >> q->cluster_bits]);
                        c->res->corruptions++;
                        (*bad)++;
                }
                if (disk_full_pread(q->fd, t, q->cluster_size, l2) < 0)
                        return berth_fail(err, errno, "read L2 table");
                for (uint64_t j = 0; j < q->l2_entries; j++) {
                        uint64_t e = be64toh(t[j]), host = e & L2E_OFFSET_MASK;
                        if ((e & QCOW_OFLAG_COMPRESSED) || host == 0 || host % q->cluster_size ||
                            (host >> q->cluster_bits) >= c->n)
                                continue;
                        bool d1 = c->ref[host >> q->cluster_bits] == 1;
                        if (d1 != ((e & QCOW_OFLAG_COPIED) != 0)) {
                                note(c,
                                     "ERROR OFLAG_COPIED data cluster: l2_entry=%llx "
                                     "refcount=%u",
                                     (unsigned long long) e, c->ref[host >> q->cluster_bits]);
                                c->res->corruptions++;
                                (*bad)++;
                        }
                }
        }
        return 0;
}

static int check_locked(struct qcow2 *q, enum qcow2_repair repair, struct counter *c,
                        berth_error_t *err)
{
        struct stat st;
        if (fstat(q->fd, &st) < 0)
                return berth_fail(err, errno, "stat the image");
        uint64_t file_clusters = ((uint64_t) st.st_size + q->cluster_size - 1) >> q->cluster_bits;
        c->n = file_clusters;
        /* Frees still pending belong to the past: apply them first. */
        if (!q->readonly && qcow2_sync(q, err) < 0)
                return -1;
        c->ref = berth_xcalloc(c->n ? c->n : 1, sizeof(uint32_t));
        ref_range(c, 0, q->cluster_size, "header");
        /* Clusters this process reserved for its next allocations are ours. */
        ref_range(c, q->pool_start << q->cluster_bits, q->pool_len << q->cluster_bits,
                  "reserved clusters");
        ref_range(c, q->l1_offset, (uint64_t) q->l1_size * 8, "L1 table");
        if (walk_l1(c, q->l1, q->l1_size, true, err) < 0)
                return -1;
        for (uint32_t s = 0; s < q->nb_snapshots; s++) {
                struct qcow2_snapshot *sn = &q->snaps[s];
                ref_range(c, sn->l1_offset, (uint64_t) sn->l1_size * 8, "snapshot L1 table");
                cleanup_free uint64_t *l1 = berth_xcalloc(sn->l1_size ? sn->l1_size : 1, 8);
                if (disk_full_pread(q->fd, l1, (size_t) sn->l1_size * 8, sn->l1_offset) < 0)
                        return berth_fail(err, errno, "read snapshot L1 table");
                for (uint32_t i = 0; i < sn->l1_size; i++)
                        l1[i] = be64toh(l1[i]);
                if (walk_l1(c, l1, sn->l1_size, false, err) < 0)
                        return -1;
        }
        ref_range(c, q->snapshots_offset, q->nb_snapshots ? q->snapshots_bytes : 0,
                  "snapshot table");
        ref_range(c, q->rt_offset, (uint64_t) q->rt_clusters * q->cluster_size, "refcount table");
        for (uint64_t i = 0; i < q->rt_entries; i++)
                if (q->rt[i])
                        ref_range(c, q->rt[i], q->cluster_size, "refcount block");

        uint64_t last = 0;
        uint64_t span = q->rt_entries * q->rb_entries;
        /* Refcounts of clusters past the end of the file are not looked at:
         * allocation skips them (qcow2_refcount.c), so they cannot hurt. */
        uint64_t limit = c->n;
        for (uint64_t k = 0; k < limit; k++) {
                uint64_t stored = 0;
                if (k < span && q->rt[k / q->rb_entries] &&
                    qcow2_get_refcount(q, k, &stored, err) < 0)
                        return -1;
                uint64_t found = k < c->n ? c->ref[k] : 0;
                if (stored)
                        last = k + 1;
                if (stored == found)
                        continue;
                if (k >= span) {
                        note(c, "ERROR cluster %llu refcount=0 reference=%llu (no refcount block)",
                             (unsigned long long) k, (unsigned long long) found);
                        c->res->corruptions++;
                        continue;
                }
                bool leak = stored > found;
                note(c, "%s cluster %llu refcount=%llu reference=%llu", leak ? "Leaked" : "ERROR",
                     (unsigned long long) k, (unsigned long long) stored,
                     (unsigned long long) found);
                if (leak)
                        c->res->leaks++;
                else
                        c->res->corruptions++;
                bool fix = leak ? repair >= QCOW2_REPAIR_LEAKS : repair >= QCOW2_REPAIR_ALL;
                if (!fix || found > q->refcount_max)
                        continue;
                if (qcow2_update_refcount(q, k, 1, (int64_t) found - (int64_t) stored, err) < 0)
                        return -1;
                if (leak)
                        c->res->leaks_fixed++;
                else
                        c->res->corruptions_fixed++;
        }
        uint64_t copied_bad = 0;
        if (check_copied(c, &copied_bad, err) < 0)
                return -1;
        if (copied_bad && repair >= QCOW2_REPAIR_ALL) {
                if (qcow2_fix_copied_flags(q, err) < 0)
                        return -1;
                c->res->corruptions_fixed += copied_bad;
        }
        c->res->image_end_offset = last << q->cluster_bits;
        c->res->total_clusters = (q->size + q->cluster_size - 1) >> q->cluster_bits;
        if (repair != QCOW2_REPAIR_NONE && !q->readonly) {
                if (qcow2_sync(q, err) < 0)
                        return -1;
                uint64_t remaining = (c->res->leaks - c->res->leaks_fixed) +
                                     (c->res->corruptions - c->res->corruptions_fixed);
                if (remaining == 0 &&
                    qcow2_set_incompat(q, QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_DIRTY, false,
                                       err) < 0)
                        return -1;
        }
        return 0;
}

int qcow2_check(struct disk *d, enum qcow2_repair repair, struct qcow2_check_result *res,
                void *report, berth_error_t *err)
{
        if (d->format != DISK_FORMAT_QCOW2)
                return berth_fail(err, EINVAL, "`%s` is not a qcow2 image", d->path);
        if (repair != QCOW2_REPAIR_NONE && d->readonly)
                return berth_fail(err, EROFS, "repairing `%s` needs it open read-write", d->path);
        struct qcow2 *q = d->priv;
        *res = (struct qcow2_check_result){0};
        struct counter c = {.q = q, .out = report, .res = res};
        pthread_mutex_lock(&q->lock);
        int ret = check_locked(q, repair, &c, err);
        pthread_mutex_unlock(&q->lock);
        free(c.ref);
        if (ret < 0)
                return berth_wrap(err, "check `%s`", d->path);
        return 0;
}
