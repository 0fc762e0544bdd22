/* disk_internal.h — what the generic layer (disk.c) and the format drivers
 * share but callers of the block layer do not see. */
#ifndef BERTH_DISK_INTERNAL_H
#define BERTH_DISK_INTERNAL_H

#include <sys/types.h>

#include "disk/disk.h"

/* Longest backing chain we follow; qemu has no fixed limit, but a chain this
 * deep is a mistake or an attack, and every level costs a file descriptor. */
#define DISK_MAX_CHAIN 64

/* The files already open in the chain being built: a backing file that is
 * one of them is a loop. */
struct disk_chain {
        const struct disk_open_opts *opts; /* the backing policy; NULL: the default */
        unsigned depth;
        dev_t dev[DISK_MAX_CHAIN];
        ino_t ino[DISK_MAX_CHAIN];
};

/* Open one layer (and, through the driver, the layers below it). */
int disk_open_layer(const char *path, enum disk_format fmt, unsigned flags,
                    struct disk_chain *chain, struct disk **out, berth_error_t *err);

/* A disk struct with the generic fields filled; the driver sets ops, size, priv. */
struct disk *disk_alloc(const char *path, enum disk_format fmt, unsigned flags);

/* Drivers.  fd is owned by the driver from the call on (closed on failure). */
int raw_open(struct disk *d, int fd, unsigned flags, berth_error_t *err);
int qcow2_open(struct disk *d, int fd, unsigned flags, struct disk_chain *chain,
               berth_error_t *err);
int qcow2_create(const char *path, const struct disk_create_opts *o, berth_error_t *err);

/* Read and write all of a range, retrying short transfers; reads past the end
 * of the file return zeroes. */
int disk_full_pread(int fd, void *buf, size_t len, uint64_t off);
int disk_full_pwrite(int fd, const void *buf, size_t len, uint64_t off);

#endif
