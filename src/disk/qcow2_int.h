/* qcow2_int.h — the qcow2 driver's internal state and the functions its
 * files (header, refcounts, cluster mapping, snapshots, check) share.
 *
 * On-disk layout (docs/interop/qcow2.txt in QEMU): a header in cluster 0, an
 * L1 table of L2-table offsets, L2 tables of cluster descriptors, a refcount
 * table of refcount-block offsets, and a snapshot table.  All integers on
 * disk are big-endian; in memory the L1 and refcount tables are host-endian,
 * L2 tables and refcount blocks stay in disk byte order. */
#ifndef BERTH_DISK_QCOW2_INT_H
#define BERTH_DISK_QCOW2_INT_H

#include <endian.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "disk/disk_internal.h"
#include "disk/qcow2.h"

#define QCOW2_MAGIC 0x514649fbu

/* Header field offsets we update in place. */
#define QH_SIZE      24
#define QH_L1_SIZE   36 /* l1_size (4) then l1_table_offset (8): one write */
#define QH_REFTABLE  48 /* refcount_table_offset (8) then refcount_table_clusters (4) */
#define QH_SNAPSHOTS 60 /* nb_snapshots (4) then snapshots_offset (8) */
#define QH_INCOMPAT  72

#define QCOW2_INCOMPAT_DIRTY       (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT     (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE   (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2       (1ull << 4)
#define QCOW2_INCOMPAT_KNOWN \
        (QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT | QCOW2_INCOMPAT_COMPRESSION)
#define QCOW2_COMPAT_LAZY_REFCOUNTS   (1ull << 0)
#define QCOW2_AUTOCLEAR_BITMAPS       (1ull << 0)
#define QCOW2_AUTOCLEAR_DATA_FILE_RAW (1ull << 1)

#define QCOW2_EXT_END            0
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE  0x6803f857u
#define QCOW2_EXT_BITMAPS        0x23852875u

#define QCOW_OFLAG_COPIED     (1ull << 63)
#define QCOW_OFLAG_COMPRESSED (1ull << 62)
#define QCOW_OFLAG_ZERO       (1ull << 0)
#define L1E_OFFSET_MASK       0x00fffffffffffe00ull
#define L1E_RESERVED_MASK     0x7f000000000001ffull /* must be zero (qcow2 spec) */
#define L2E_OFFSET_MASK       0x00fffffffffffe00ull
#define REFT_OFFSET_MASK      0xfffffffffffffe00ull

/* Limits that keep a hostile header from making us allocate without bound. */
#define QCOW2_MAX_L1_BYTES       (32u << 20)
#define QCOW2_MAX_REFTABLE_BYTES (8u << 20)
#define QCOW2_MAX_SNAPSHOTS      65536
#define QCOW2_MAX_SIZE           (1ull << 61)

enum qcow2_cluster_type {
        QC_UNALLOCATED, /* read from the backing file, or zeroes */
        QC_ZERO,        /* reads zero (v3 zero flag); host_off may still be allocated */
        QC_NORMAL,
        QC_COMPRESSED,
};

struct qcow2_map {
        enum qcow2_cluster_type type;
        uint64_t host_off; /* NORMAL: host offset of `off`; COMPRESSED: the L2 entry */
        uint64_t len;      /* bytes from off with the same type (and contiguous host) */
        bool copied;       /* NORMAL: refcount 1, writable in place */
};

struct qcow2_ext {
        uint32_t type;
        uint32_t len;
        uint8_t *data;
};

struct qcow2_feature_name {
        uint8_t type, bit;
        char name[47];
};

struct l2_slot {
        uint64_t off;                /* host offset of the table cached here, 0 if empty */
        uint64_t *t;                 /* cluster_size bytes, big-endian entries */
        uint64_t dirty_lo, dirty_hi; /* entries changed in memory, not yet written */
};

struct qcow2_pending_free {
        uint64_t cluster, n;
};

/* 64-bit fields and pointers first, the narrow ones at the end (no padding holes). */
struct qcow2 {
        pthread_mutex_t lock;
        struct disk *d;

        /* header */
        uint64_t cluster_size;
        uint64_t size;
        uint64_t incompat, compat, autoclear;
        char *backing_name;
        char *backing_fmt;
        struct qcow2_ext *exts; /* unknown header extensions, written back verbatim */
        size_t n_exts;
        struct qcow2_feature_name *features;
        size_t n_features;

        /* L1 */
        uint64_t l1_offset;
        uint64_t *l1;
        uint64_t l2_entries; /* entries per L2 table */

        /* refcounts */
        uint64_t rt_offset;
        uint64_t rt_entries;
        uint64_t *rt;
        uint8_t **rb;        /* refcount blocks, loaded on demand, indexed like rt */
        uint64_t rb_entries; /* refcounts per block */
        uint64_t refcount_max;

        /* snapshots */
        uint64_t snapshots_offset;
        uint64_t snapshots_bytes;
        struct qcow2_snapshot *snaps;

        /* L2 cache: direct-mapped by L1 index */
        struct l2_slot *l2c;

        /* allocation */
        uint64_t end_cluster;          /* first cluster index past the file and every allocation */
        uint64_t free_hint;            /* no free cluster below this index */
        uint64_t pool_start, pool_len; /* reserved (refcount 1) but not used yet */
        uint64_t pool_next;            /* clusters to reserve next time (grows) */
        struct qcow2_pending_free *pending;
        size_t n_pending, cap_pending;
        uint64_t cwrite_off; /* where the next compressed cluster goes (0 = new cluster) */

        /* last decompressed cluster */
        uint64_t zc_entry;
        uint8_t *zc;
        uint8_t *zc_in;
        /* decompressors kept for the image's life (reset per cluster, not rebuilt) */
        struct ZSTD_DCtx_s *zstd;
        struct z_stream_s *inflater;

        int fd;
        uint32_t version;
        uint32_t cluster_bits;
        uint32_t header_length;
        uint32_t l1_size;
        uint32_t rt_clusters;
        uint32_t refcount_order;
        uint32_t nb_snapshots;
        unsigned l2c_n;
        uint8_t compression_type; /* 0 zlib, 1 zstd */
        bool readonly;
        bool barrier_needed; /* refcount increments not yet synced */
};

static inline uint64_t q_cluster(const struct qcow2 *q, uint64_t host_off)
{
        return host_off >> q->cluster_bits;
}

/* Metadata may only point inside the file (or at clusters we allocated):
 * a hostile table must never make us read or write far beyond it. */
static inline bool q_in_file(const struct qcow2 *q, uint64_t host_off)
{
        return (host_off >> q->cluster_bits) < q->end_cluster;
}

static inline uint64_t q_offset_in_cluster(const struct qcow2 *q, uint64_t off)
{
        return off & (q->cluster_size - 1);
}

/* qcow2_header.c */
int qcow2_read_header(struct qcow2 *q, berth_error_t *err);
int qcow2_write_header(struct qcow2 *q, berth_error_t *err);
int qcow2_set_incompat(struct qcow2 *q, uint64_t bits, bool on, berth_error_t *err);
const char *qcow2_feature_name(const struct qcow2 *q, uint8_t type, uint8_t bit);
int qcow2_pwrite_be32(struct qcow2 *q, uint64_t off, uint32_t v, berth_error_t *err);
int qcow2_pwrite_be64(struct qcow2 *q, uint64_t off, uint64_t v, berth_error_t *err);

/* qcow2_refcount.c */
int qcow2_refcount_init(struct qcow2 *q, berth_error_t *err);
void qcow2_refcount_free(struct qcow2 *q);
int qcow2_get_refcount(struct qcow2 *q, uint64_t cluster, uint64_t *out, berth_error_t *err);
/* Add delta to n clusters' refcounts and write the blocks. */
int qcow2_update_refcount(struct qcow2 *q, uint64_t cluster, uint64_t n, int64_t delta,
                          berth_error_t *err);
/* n contiguous clusters with refcount 1, durable before anything refers to
 * them (qcow2_barrier).  Returns the host offset. */
int qcow2_alloc_clusters(struct qcow2 *q, uint64_t n, uint64_t *off, berth_error_t *err);
/* fdatasync if refcount increments are pending, so that references written
 * next never reach the disk before the refcounts that cover them. */
int qcow2_barrier(struct qcow2 *q, berth_error_t *err);
/* Drop a reference later, once the metadata no longer pointing at the
 * clusters is durable (a crash in between only leaks). */
void qcow2_defer_free(struct qcow2 *q, uint64_t host_off, uint64_t n);
int qcow2_free_compressed(struct qcow2 *q, uint64_t l2e);
int qcow2_apply_pending_frees(struct qcow2 *q, berth_error_t *err);
int qcow2_release_pool(struct qcow2 *q, berth_error_t *err);
int qcow2_sync(struct qcow2 *q, berth_error_t *err);

/* qcow2_cluster.c */
int qcow2_l2_cache_init(struct qcow2 *q);
void qcow2_l2_cache_free(struct qcow2 *q);
int qcow2_l2_cache_drop(struct qcow2 *q, berth_error_t *err);
/* Write every changed L2 entry (after the refcount barrier). */
int qcow2_l2_writeback(struct qcow2 *q, berth_error_t *err);
int qcow2_load_l2(struct qcow2 *q, uint64_t l2_off, uint64_t l1_index, uint64_t **out,
                  berth_error_t *err);
int qcow2_map(struct qcow2 *q, uint64_t off, uint64_t len, struct qcow2_map *m, berth_error_t *err);
/* The L2 table (host offset) for a write at off, copied or allocated so that
 * the active L1 owns it alone. */
int qcow2_l2_for_write(struct qcow2 *q, uint64_t off, uint64_t *l2_off, uint64_t **table,
                       berth_error_t *err);
/* Change entries of the cached table for l1_index.  They reach the disk at
 * the next flush, when the table leaves the cache, or before anything reads
 * tables from the disk (a crash before that loses unflushed writes and
 * leaks their clusters, nothing worse). */
int qcow2_set_l2_entries(struct qcow2 *q, uint64_t l1_index, uint64_t first,
                         const uint64_t *entries, uint64_t n, berth_error_t *err);
int qcow2_write_l1_entry(struct qcow2 *q, uint64_t index, berth_error_t *err);
int qcow2_grow_l1(struct qcow2 *q, uint64_t min_size, berth_error_t *err);
int qcow2_fix_copied_flags(struct qcow2 *q, berth_error_t *err);
uint64_t qcow2_compressed_span(const struct qcow2 *q, uint64_t l2e, uint64_t *host_off);

/* qcow2_snapshot.c */
int qcow2_read_snapshots(struct qcow2 *q, berth_error_t *err);
void qcow2_free_snapshots(struct qcow2 *q);
/* For every L2 table and data cluster reachable from an L1 table, add delta. */
int qcow2_update_tree_refcounts(struct qcow2 *q, const uint64_t *l1, uint32_t l1_size,
                                int64_t delta, berth_error_t *err);

/* qcow2.c */
int qcow2_read_cluster_data(struct qcow2 *q, uint64_t off, uint8_t *buf, size_t len,
                            berth_error_t *err);
int qcow2_decompress(struct qcow2 *q, uint64_t l2e, uint8_t *out, berth_error_t *err);

#endif
