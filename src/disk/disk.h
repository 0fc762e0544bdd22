/* disk.h — berth's block layer: one driver interface for every disk format.
 *
 * berth-vmm's virtio-blk and `berth disk` see a disk only through this
 * interface; a format (raw.c, qcow2.c) is a table of operations, as
 * kvmtool's disk/ drivers are.  All offsets and lengths are in bytes of the
 * virtual disk; drivers bounds-check them against `size`.
 *
 * Thread-safety: a driver may be called from several threads at once
 * (virtio-blk workers); drivers that keep metadata caches lock internally.
 */
#ifndef BERTH_DISK_DISK_H
#define BERTH_DISK_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

enum disk_format {
        DISK_FORMAT_AUTO = 0, /* probe: qcow2 magic, else raw */
        DISK_FORMAT_RAW,
        DISK_FORMAT_QCOW2,
};

enum disk_open_flags {
        DISK_RDONLY = 1u << 0,
        DISK_DIRECT = 1u << 1, /* O_DIRECT: bypass the host page cache */
};

struct disk;

struct disk_ops {
        const char *name;
        int (*pread)(struct disk *d, void *buf, size_t len, uint64_t off, berth_error_t *err);
        int (*pwrite)(struct disk *d, const void *buf, size_t len, uint64_t off,
                      berth_error_t *err);
        int (*flush)(struct disk *d, berth_error_t *err);
        /* Deallocate; reads of the range return zeroes afterwards. */
        int (*discard)(struct disk *d, uint64_t off, uint64_t len, berth_error_t *err);
        void (*close)(struct disk *d);
};

struct disk {
        const struct disk_ops *ops;
        uint64_t size; /* virtual size in bytes */
        bool readonly;
        char *path;
        void *priv; /* the driver's state */
};

int disk_open(const char *path, enum disk_format fmt, unsigned flags, struct disk **out,
              berth_error_t *err);
void disk_close(struct disk *d);

int disk_pread(struct disk *d, void *buf, size_t len, uint64_t off, berth_error_t *err);
int disk_pwrite(struct disk *d, const void *buf, size_t len, uint64_t off, berth_error_t *err);
int disk_flush(struct disk *d, berth_error_t *err);
int disk_discard(struct disk *d, uint64_t off, uint64_t len, berth_error_t *err);

int disk_parse_format(const char *s, enum disk_format *out, berth_error_t *err);
const char *disk_format_name(enum disk_format f);

#endif
