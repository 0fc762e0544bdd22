/* qcow2_snapshot.c — internal snapshots: the snapshot table, and creating,
 * applying and deleting snapshots.
 *
 * A snapshot is a frozen copy of the L1 table.  Its clusters are shared
 * with the active layer by raising refcounts (each L1 table that reaches a
 * cluster counts once), so the active layer copies on write afterwards.
 * Order on disk: refcounts up, then the new tables, then the header; on the
 * way down, the header first, then refcounts — a crash only leaks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "disk/qcow2_int.h"

#define SNAP_TABLE_MAX (64u << 20)

void qcow2_free_snapshots(struct qcow2 *q)
{
        for (uint32_t i = 0; q->snaps && i < q->nb_snapshots; i++) {
                free(q->snaps[i].id);
                free(q->snaps[i].name);
                free(q->snaps[i].extra);
        }
        free(q->snaps);
        q->snaps = NULL;
}

static uint64_t get64(const uint8_t *p)
{
        uint64_t v;
        memcpy(&v, p, 8);
        return be64toh(v);
}

static uint32_t get32(const uint8_t *p)
{
        uint32_t v;
        memcpy(&v, p, 4);
        return be32toh(v);
}

static uint16_t get16(const uint8_t *p)
{
        return (uint16_t) (p[0] << 8 | p[1]);
}

int qcow2_read_snapshots(struct qcow2 *q, berth_error_t *err)
{
        q->snaps = berth_xcalloc(q->nb_snapshots ? q->nb_snapshots : 1, sizeof(*q->snaps));
        uint64_t off = q->snapshots_offset;
        uint32_t n = q->nb_snapshots;
        q->nb_snapshots = 0; /* counts the entries parsed, for the cleanup */
        for (uint32_t i = 0; i < n; i++) {
                uint8_t h[40];
                if (off - q->snapshots_offset > SNAP_TABLE_MAX)
                        return berth_fail(err, EFBIG, "snapshot table is too large");
                if (disk_full_pread(q->fd, h, sizeof(h), off) < 0)
                        return berth_fail(err, errno, "read snapshot table");
                struct qcow2_snapshot *s = &q->snaps[i];
                q->nb_snapshots = i + 1;
                s->l1_offset = get64(h);
                s->l1_size = get32(h + 8);
                uint16_t id_len = get16(h + 12), name_len = get16(h + 14);
                s->date_sec = get32(h + 16);
                s->date_nsec = get32(h + 20);
                s->vm_clock_nsec = get64(h + 24);
                s->vm_state_size = get32(h + 32);
                s->extra_size = get32(h + 36);
                if (s->extra_size > 1024)
                        return berth_fail(err, EFBIG, "snapshot %u has %u bytes of extra data", i,
                                          s->extra_size);
                if (s->l1_offset % q->cluster_size ||
                    (uint64_t) s->l1_size * 8 > QCOW2_MAX_L1_BYTES)
                        return berth_fail(err, EUCLEAN, "snapshot %u has an invalid L1 table", i);
                size_t rest = s->extra_size + id_len + name_len;
                cleanup_free uint8_t *b = berth_xmalloc(rest ? rest : 1);
                if (disk_full_pread(q->fd, b, rest, off + 40) < 0)
                        return berth_fail(err, errno, "read snapshot table");
                s->extra = berth_xmalloc(s->extra_size ? s->extra_size : 1);
                memcpy(s->extra, b, s->extra_size);
                s->id = strndup((const char *) b + s->extra_size, id_len);
                s->name = strndup((const char *) b + s->extra_size + id_len, name_len);
                if (s->id == NULL || s->name == NULL)
                        abort();
                if (s->extra_size >= 8)
                        s->vm_state_size = get64(s->extra);
                s->disk_size = s->extra_size >= 16 ? get64(s->extra + 8) : q->size;
                off += (40 + rest + 7) & ~(size_t) 7;
        }
        q->snapshots_bytes = off - q->snapshots_offset;
        return 0;
}

static void put64(uint8_t *p, uint64_t v)
{
        v = htobe64(v);
        memcpy(p, &v, 8);
}

static void put32(uint8_t *p, uint32_t v)
{
        v = htobe32(v);
        memcpy(p, &v, 4);
}

/* Write the table (q->snaps, n entries) to new clusters and switch the header. */
static int write_table(struct qcow2 *q, struct qcow2_snapshot *snaps, uint32_t n,
                       berth_error_t *err)
{
        size_t bytes = 0;
        for (uint32_t i = 0; i < n; i++)
                bytes += (40 + snaps[i].extra_size + strlen(snaps[i].id) + strlen(snaps[i].name) +
                          7) &
                         ~(size_t) 7;
        uint64_t clusters = (bytes + q->cluster_size - 1) >> q->cluster_bits;
        cleanup_free uint8_t *t = berth_xcalloc(1, clusters ? clusters << q->cluster_bits : 1);
        size_t p = 0;
        for (uint32_t i = 0; i < n; i++) {
                struct qcow2_snapshot *s = &snaps[i];
                size_t il = strlen(s->id), nl = strlen(s->name);
                put64(t + p, s->l1_offset);
                put32(t + p + 8, s->l1_size);
                t[p + 12] = (uint8_t) (il >> 8);
                t[p + 13] = (uint8_t) il;
                t[p + 14] = (uint8_t) (nl >> 8);
                t[p + 15] = (uint8_t) nl;
                put32(t + p + 16, s->date_sec);
                put32(t + p + 20, s->date_nsec);
                put64(t + p + 24, s->vm_clock_nsec);
                put32(t + p + 32, s->vm_state_size > UINT32_MAX ? 0 : (uint32_t) s->vm_state_size);
                put32(t + p + 36, s->extra_size);
                memcpy(t + p + 40, s->extra, s->extra_size);
                memcpy(t + p + 40 + s->extra_size, s->id, il);
                memcpy(t + p + 40 + s->extra_size + il, s->name, nl);
                p += (40 + s->extra_size + il + nl + 7) & ~(size_t) 7;
        }
        uint64_t off = 0;
        if (clusters) {
                if (qcow2_alloc_clusters(q, clusters, &off, err) < 0)
                        return -1;
                if (disk_full_pwrite(q->fd, t, clusters << q->cluster_bits, off) < 0)
                        return berth_fail(err, errno, "write the snapshot table");
        }
        if (fdatasync(q->fd) < 0)
                return berth_fail(err, errno, "flush the snapshot table");
        q->barrier_needed = false;
        uint8_t hdr[12];
        put32(hdr, n);
        put64(hdr + 4, off);
        if (disk_full_pwrite(q->fd, hdr, 12, QH_SNAPSHOTS) < 0 || fdatasync(q->fd) < 0)
                return berth_fail(err, errno, "point the header at the snapshot table");
        uint64_t old_clusters = (q->snapshots_bytes + q->cluster_size - 1) >> q->cluster_bits;
        if (q->snapshots_offset && old_clusters)
                qcow2_defer_free(q, q->snapshots_offset, old_clusters);
        q->snapshots_offset = off;
        q->snapshots_bytes = bytes;
        return 0;
}

int qcow2_update_tree_refcounts(struct qcow2 *q, const uint64_t *l1, uint32_t l1_size,
                                int64_t delta, berth_error_t *err)
{
        if (l1 == NULL)
                return 0;
        cleanup_free uint64_t *t = berth_xmalloc(q->cluster_size);
        for (uint32_t i = 0; i < l1_size; i++) {
                uint64_t l2 = l1[i] & L1E_OFFSET_MASK;
                if (l2 == 0)
                        continue;
                if (disk_full_pread(q->fd, t, q->cluster_size, l2) < 0)
                        return berth_fail(err, errno, "read L2 table at %llu",
                                          (unsigned long long) l2);
                for (uint64_t j = 0; j < q->l2_entries; j++) {
                        uint64_t e = be64toh(t[j]);
                        if (e & QCOW_OFLAG_COMPRESSED) {
                                uint64_t host;
                                uint64_t bytes = qcow2_compressed_span(q, e, &host);
                                uint64_t c0 = host >> q->cluster_bits;
                                uint64_t c1 = (host + bytes - 1) >> q->cluster_bits;
                                if (qcow2_update_refcount(q, c0, c1 - c0 + 1, delta, err) < 0)
                                        return -1;
                        } else if (e & L2E_OFFSET_MASK) {
                                if (qcow2_update_refcount(q, q_cluster(q, e & L2E_OFFSET_MASK), 1,
                                                          delta, err) < 0)
                                        return -1;
                        }
                }
                if (qcow2_update_refcount(q, q_cluster(q, l2), 1, delta, err) < 0)
                        return -1;
        }
        return 0;
}

static int find_snapshot(struct qcow2 *q, const char *key, berth_error_t *err)
{
        for (uint32_t i = 0; i < q->nb_snapshots; i++)
                if (strcmp(q->snaps[i].name, key) == 0)
                        return (int) i;
        for (uint32_t i = 0; i < q->nb_snapshots; i++)
                if (strcmp(q->snaps[i].id, key) == 0)
                        return (int) i;
        return berth_fail(err, ENOENT, "no snapshot named `%s`", key);
}

static int check_writable(struct disk *d, berth_error_t *err)
{
        if (d->format != DISK_FORMAT_QCOW2)
                return berth_fail(err, EINVAL, "`%s` is not a qcow2 image", d->path);
        if (d->readonly)
                return berth_fail(err, EROFS, "`%s` is open read-only", d->path);
        return 0;
}

static int read_l1_table(struct qcow2 *q, uint64_t off, uint32_t n, uint64_t **out,
                         berth_error_t *err)
{
        uint64_t *l1 = berth_xcalloc(n ? n : 1, 8);
        if (n && disk_full_pread(q->fd, l1, (size_t) n * 8, off) < 0) {
                free(l1);
                return berth_fail(err, errno, "read L1 table at %llu", (unsigned long long) off);
        }
        for (uint32_t i = 0; i < n; i++)
                l1[i] = be64toh(l1[i]);
        *out = l1;
        return 0;
}

static uint64_t l1_clusters(const struct qcow2 *q, uint32_t n)
{
        return ((uint64_t) n * 8 + q->cluster_size - 1) >> q->cluster_bits;
}

static int snapshot_create_locked(struct qcow2 *q, const char *name, berth_error_t *err)
{
        if (qcow2_sync(q, err) < 0)
                return -1;
        uint64_t n = l1_clusters(q, q->l1_size);
        uint64_t l1_off = 0;
        if (n) {
                cleanup_free uint64_t *be = berth_xcalloc(n, q->cluster_size);
                for (uint32_t i = 0; i < q->l1_size; i++)
                        be[i] = htobe64(q->l1[i] & ~QCOW_OFLAG_COPIED);
                if (qcow2_alloc_clusters(q, n, &l1_off, err) < 0)
                        return -1;
                if (disk_full_pwrite(q->fd, be, n << q->cluster_bits, l1_off) < 0)
                        return berth_fail(err, errno, "write the snapshot's L1 table");
        }
        if (qcow2_update_tree_refcounts(q, q->l1, q->l1_size, 1, err) < 0)
                return -1;
        unsigned long max_id = 0;
        for (uint32_t i = 0; i < q->nb_snapshots; i++) {
                unsigned long v = strtoul(q->snaps[i].id, NULL, 10);
                if (v > max_id)
                        max_id = v;
        }
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        struct qcow2_snapshot s = {
                .l1_offset = l1_off,
                .l1_size = q->l1_size,
                .id = berth_xasprintf("%lu", max_id + 1),
                .name = berth_xstrdup(name),
                .date_sec = (uint32_t) now.tv_sec,
                .date_nsec = (uint32_t) now.tv_nsec,
                .disk_size = q->size,
                .extra_size = 24,
                .extra = berth_xcalloc(1, 24),
        };
        put64(s.extra + 8, q->size);
        put64(s.extra + 16, UINT64_MAX); /* icount: none */
        struct qcow2_snapshot *ns = berth_xcalloc(q->nb_snapshots + 1, sizeof(*ns));
        memcpy(ns, q->snaps, q->nb_snapshots * sizeof(*ns));
        ns[q->nb_snapshots] = s;
        if (write_table(q, ns, q->nb_snapshots + 1, err) < 0) {
                free(s.id);
                free(s.name);
                free(s.extra);
                free(ns);
                return -1;
        }
        free(q->snaps);
        q->snaps = ns;
        q->nb_snapshots++;
        if (qcow2_fix_copied_flags(q, err) < 0)
                return -1;
        return qcow2_sync(q, err);
}

int qcow2_snapshot_create(struct disk *d, const char *name, berth_error_t *err)
{
        if (check_writable(d, err) < 0)
                return -1;
        struct qcow2 *q = d->priv;
        if (strlen(name) == 0 || strlen(name) > 1024)
                return berth_fail(err, EINVAL, "a snapshot name has 1 to 1024 bytes");
        berth_error_t probe = NULL;
        if (find_snapshot(q, name, &probe) >= 0)
                return berth_fail(err, EEXIST, "snapshot `%s` already exists", name);
        berth_error_release(&probe);
        if (q->nb_snapshots >= QCOW2_MAX_SNAPSHOTS)
                return berth_fail(err, ENOSPC, "too many snapshots");
        pthread_mutex_lock(&q->lock);
        int ret = snapshot_create_locked(q, name, err);
        pthread_mutex_unlock(&q->lock);
        if (ret < 0)
                return berth_wrap(err, "create snapshot `%s` of `%s`", name, d->path);
        return 0;
}

static int snapshot_apply_locked(struct qcow2 *q, struct qcow2_snapshot *s, berth_error_t *err)
{
        if (qcow2_sync(q, err) < 0)
                return -1;
        if (s->l1_size > q->l1_size && qcow2_grow_l1(q, s->l1_size, err) < 0)
                return -1;
        cleanup_free uint64_t *sl1 = NULL;
        if (read_l1_table(q, s->l1_offset, s->l1_size, &sl1, err) < 0)
                return -1;
        if (qcow2_update_tree_refcounts(q, sl1, s->l1_size, 1, err) < 0)
                return -1;
        if (qcow2_barrier(q, err) < 0)
                return -1;
        cleanup_free uint64_t *old = berth_xmalloc((size_t) q->l1_size * 8 + 8);
        memcpy(old, q->l1, (size_t) q->l1_size * 8);
        cleanup_free uint64_t *be = berth_xcalloc(q->l1_size + 1, 8);
        for (uint32_t i = 0; i < q->l1_size; i++) {
                q->l1[i] = i < s->l1_size ? sl1[i] & ~QCOW_OFLAG_COPIED : 0;
                be[i] = htobe64(q->l1[i]);
        }
        if (disk_full_pwrite(q->fd, be, (size_t) q->l1_size * 8, q->l1_offset) < 0 ||
            fdatasync(q->fd) < 0)
                return berth_fail(err, errno, "write the active L1 table");
        if (qcow2_l2_cache_drop(q, err) < 0)
                return -1;
        if (qcow2_update_tree_refcounts(q, old, q->l1_size, -1, err) < 0)
                return -1;
        if (s->disk_size != q->size) {
                if (qcow2_pwrite_be64(q, QH_SIZE, s->disk_size, err) < 0)
                        return -1;
                q->size = q->d->size = s->disk_size;
        }
        if (qcow2_fix_copied_flags(q, err) < 0)
                return -1;
        q->zc_entry = 0;
        return qcow2_sync(q, err);
}

int qcow2_snapshot_apply(struct disk *d, const char *key, berth_error_t *err)
{
        if (check_writable(d, err) < 0)
                return -1;
        struct qcow2 *q = d->priv;
        int i = find_snapshot(q, key, err);
        if (i < 0)
                return berth_wrap(err, "apply snapshot to `%s`", d->path);
        pthread_mutex_lock(&q->lock);
        int ret = snapshot_apply_locked(q, &q->snaps[i], err);
        pthread_mutex_unlock(&q->lock);
        if (ret < 0)
                return berth_wrap(err, "apply snapshot `%s` to `%s`", key, d->path);
        return 0;
}

static int snapshot_delete_locked(struct qcow2 *q, uint32_t idx, berth_error_t *err)
{
        if (qcow2_sync(q, err) < 0)
                return -1;
        struct qcow2_snapshot s = q->snaps[idx];
        struct qcow2_snapshot *ns = berth_xcalloc(q->nb_snapshots, sizeof(*ns));
        uint32_t n = 0;
        for (uint32_t i = 0; i < q->nb_snapshots; i++)
                if (i != idx)
                        ns[n++] = q->snaps[i];
        if (write_table(q, ns, n, err) < 0) {
                free(ns);
                return -1;
        }
        free(q->snaps);
        q->snaps = ns;
        q->nb_snapshots = n;
        cleanup_free uint64_t *sl1 = NULL;
        int ret = read_l1_table(q, s.l1_offset, s.l1_size, &sl1, err);
        if (ret == 0)
                ret = qcow2_update_tree_refcounts(q, sl1, s.l1_size, -1, err);
        if (ret == 0 && s.l1_size)
                ret = qcow2_update_refcount(q, q_cluster(q, s.l1_offset), l1_clusters(q, s.l1_size),
                                            -1, err);
        free(s.id);
        free(s.name);
        free(s.extra);
        if (ret == 0)
                ret = qcow2_fix_copied_flags(q, err);
        if (ret == 0)
                ret = qcow2_sync(q, err);
        return ret;
}

int qcow2_snapshot_delete(struct disk *d, const char *key, berth_error_t *err)
{
        if (check_writable(d, err) < 0)
                return -1;
        struct qcow2 *q = d->priv;
        int i = find_snapshot(q, key, err);
        if (i < 0)
                return berth_wrap(err, "delete snapshot from `%s`", d->path);
        pthread_mutex_lock(&q->lock);
        int ret = snapshot_delete_locked(q, (uint32_t) i, err);
        pthread_mutex_unlock(&q->lock);
        if (ret < 0)
                return berth_wrap(err, "delete snapshot `%s` from `%s`", key, d->path);
        return 0;
}
