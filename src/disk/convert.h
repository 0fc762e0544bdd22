/* convert.h — the block layer's whole-image operations, qemu-img's in spirit: convert, commit,
 * rebase, compare and map (convert.c).  `berth disk` parses their options and prints their
 * results; the work is here so any front-end can do it.
 *
 * They walk images with block status, so holes and zero clusters are skipped rather than read,
 * and all-zero data is not written (targets stay sparse, as with qemu-img). */
#ifndef BERTH_DISK_CONVERT_H
#define BERTH_DISK_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "disk/disk.h"

/* Is buf all zero bytes? */
bool disk_is_zero(const void *buf, size_t len);

struct disk_convert_opts {
        enum disk_format src_format;    /* AUTO: probe */
        struct disk_create_opts create; /* the target's format and options; size: the source's */
        bool compress;                  /* qcow2 compressed clusters (create.format qcow2) */
        bool sync;                      /* flush the target at the end */
};

/* Copy src into a new image dst. */
int disk_convert(const char *src, const char *dst, const struct disk_convert_opts *o,
                 berth_error_t *err);

/* Write an overlay's own data into its backing file (grown to the overlay's size first); then
 * empty the overlay unless keep. */
int disk_commit(const char *path, enum disk_format fmt, bool keep, berth_error_t *err);

/* Point a qcow2 image at another backing file (backing "": none).  Unless unsafe, data that
 * differs between the old and the new backing chain is copied into the image first, so its
 * content does not change. */
int disk_rebase(const char *path, enum disk_format fmt, const char *backing,
                enum disk_format backing_fmt, bool unsafe, berth_error_t *err);

struct disk_compare_result {
        bool size_mismatch;
        bool differ;     /* content differs (or the sizes, with strict) */
        bool at_known;   /* offset is where the content first differs */
        uint64_t offset; /* 512-byte aligned */
};

/* Compare the contents of two images (beyond the smaller one's end, the larger must read as
 * zeroes); with strict, different sizes alone make them differ. */
int disk_compare(const char *a, enum disk_format fa, const char *b, enum disk_format fb,
                 bool strict, struct disk_compare_result *res, berth_error_t *err);

/* One run of an image as `map` shows it: extents of equal status merged. */
struct disk_map_entry {
        struct disk_extent ext; /* flags without DISK_BS_COMPRESSED */
        char *file;             /* the layer's file (depth ext.depth) */
};

int disk_map(const char *path, enum disk_format fmt, struct disk_map_entry **out, size_t *n,
             berth_error_t *err);
void disk_map_free(struct disk_map_entry *v, size_t n);

#endif
