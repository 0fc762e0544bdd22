/* qcow2.h — what only qcow2 images have, for `berth disk`: format details,
 * internal snapshots, consistency check and repair, compressed writes,
 * backing-file changes.  Every function refuses a disk of another format. */
#ifndef BERTH_DISK_QCOW2_H
#define BERTH_DISK_QCOW2_H

#include <stdbool.h>
#include <stdint.h>

#include "disk/disk.h"

struct qcow2_snapshot {
        uint64_t l1_offset;
        uint32_t l1_size;
        char *id;
        char *name;
        uint32_t date_sec, date_nsec;
        uint64_t vm_clock_nsec;
        uint64_t vm_state_size;
        uint64_t disk_size; /* the virtual size when taken */
        uint32_t extra_size;
        uint8_t *extra; /* extra data, kept verbatim */
};

struct qcow2_info {
        uint32_t version;
        uint64_t cluster_size;
        uint32_t refcount_bits;
        bool lazy_refcounts, corrupt, dirty, extended_l2;
        const char *compression;  /* "zlib" or "zstd" */
        const char *backing_name; /* as stored, or NULL */
        const char *backing_fmt;  /* or NULL */
        uint32_t nb_snapshots;
        const struct qcow2_snapshot *snapshots;
};

int qcow2_get_info(struct disk *d, struct qcow2_info *out, berth_error_t *err);

int qcow2_snapshot_create(struct disk *d, const char *name, berth_error_t *err);
int qcow2_snapshot_apply(struct disk *d, const char *name_or_id, berth_error_t *err);
int qcow2_snapshot_delete(struct disk *d, const char *name_or_id, berth_error_t *err);

struct qcow2_check_result {
        uint64_t leaks, corruptions;             /* found */
        uint64_t leaks_fixed, corruptions_fixed; /* repaired */
        uint64_t allocated_clusters, total_clusters;
        uint64_t image_end_offset;
};

enum qcow2_repair {
        QCOW2_REPAIR_NONE = 0,
        QCOW2_REPAIR_LEAKS = 1,
        QCOW2_REPAIR_ALL = 2,
};

/* Recount every reference (active tables, snapshots, metadata) and compare
 * with the stored refcounts; each finding is printed to `report` (may be NULL). */
int qcow2_check(struct disk *d, enum qcow2_repair repair, struct qcow2_check_result *res,
                void *report /* FILE * */, berth_error_t *err);

/* Write whole clusters compressed (deflate); len a multiple of the cluster
 * size (or up to the end of the disk), off cluster-aligned, target range unallocated. */
int qcow2_write_compressed(struct disk *d, const void *buf, size_t len, uint64_t off,
                           berth_error_t *err);

/* Make every cluster of the active layer unallocated (reads go to the backing file). */
int qcow2_make_empty(struct disk *d, berth_error_t *err);

/* Change the backing file name and format stored in the header (no data copied). */
int qcow2_set_backing(struct disk *d, const char *name, const char *fmt, berth_error_t *err);
/* Written back whole (its pool given back, trimmed, synced) and read-only from now on. */
int qcow2_freeze(struct disk *d, berth_error_t *err);

uint64_t qcow2_cluster_size(struct disk *d);

#endif
