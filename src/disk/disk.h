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
#include <sys/uio.h>

#include "common/error.h"

enum disk_format {
        DISK_FORMAT_AUTO = 0, /* probe: qcow2 magic, else raw */
        DISK_FORMAT_RAW,
        DISK_FORMAT_QCOW2,
};

enum disk_open_flags {
        DISK_RDONLY = 1u << 0,
        DISK_DIRECT = 1u << 1,     /* O_DIRECT: bypass the host page cache */
        DISK_FORCE = 1u << 2,      /* open read-write even if marked corrupt or dirty (repair) */
        DISK_NO_BACKING = 1u << 3, /* don't open the backing file (metadata-only work) */
        DISK_CHECK = 1u << 4,      /* for `check`: open metadata it reports as corrupt
                                      (unaligned L1 entries) instead of refusing it */
};

struct disk;

/* What a run of the virtual disk is (disk_block_status). */
enum disk_bs_flags {
        DISK_BS_DATA = 1u << 0,      /* reads may return non-zero data */
        DISK_BS_ZERO = 1u << 1,      /* reads return zeroes */
        DISK_BS_ALLOCATED = 1u << 2, /* this layer decides the content (not a backing file) */
        DISK_BS_COMPRESSED = 1u << 3,
};

struct disk_extent {
        uint64_t off, len; /* the run of the virtual disk described */
        unsigned flags;    /* enum disk_bs_flags */
        unsigned depth;    /* 0: this image, 1: its backing file, ... */
        uint64_t host_off; /* offset in the file holding the data, UINT64_MAX if none */
};

struct disk_ops {
        const char *name;
        int (*pread)(struct disk *d, void *buf, size_t len, uint64_t off, berth_error_t *err);
        int (*pwrite)(struct disk *d, const void *buf, size_t len, uint64_t off,
                      berth_error_t *err);
        int (*flush)(struct disk *d, berth_error_t *err);
        /* Deallocate; reads of the range return zeroes afterwards. */
        int (*discard)(struct disk *d, uint64_t off, uint64_t len, berth_error_t *err);
        void (*close)(struct disk *d);
        /* Optional below: the generic layer falls back when NULL. */
        int (*preadv)(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off,
                      berth_error_t *err);
        int (*pwritev)(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off,
                       berth_error_t *err);
        /* Make the range read as zeroes, deallocating if the format can. */
        int (*write_zeroes)(struct disk *d, uint64_t off, uint64_t len, berth_error_t *err);
        /* Describe the run starting at off (at most len bytes long). */
        int (*block_status)(struct disk *d, uint64_t off, uint64_t len, struct disk_extent *ext,
                            berth_error_t *err);
        int (*truncate)(struct disk *d, uint64_t size, berth_error_t *err);
};

struct disk {
        const struct disk_ops *ops;
        uint64_t size; /* virtual size in bytes */
        bool readonly;
        char *path;
        void *priv; /* the driver's state */
        enum disk_format format;
        struct disk *backing; /* owned; reads of unallocated ranges go here */
};

/* Which backing files an image may open (docs/disk.md, "Backing files").
 * A qcow2 names its backing file itself, so an image from elsewhere could
 * name /etc/shadow and hand it to a guest: every file of a chain must lie
 * in the directory of the image naming it, or be allowed here. */
struct disk_open_opts {
        const char *backing_allow; /* ':'-separated files or directories, NULL: none */
        bool backing_any;          /* any regular file (an operator's --allow-backing) */
};

/* Open an image and its backing chain.  Every layer is opened without
 * blocking and must be a regular file (the top one may be a block device):
 * a FIFO or character device is refused before anything reads it.  disk_open
 * is disk_open_ex with the default policy (the image's own directory). */
int disk_open(const char *path, enum disk_format fmt, unsigned flags, struct disk **out,
              berth_error_t *err);
int disk_open_ex(const char *path, enum disk_format fmt, unsigned flags,
                 const struct disk_open_opts *o, struct disk **out, berth_error_t *err);

/* What disk_open (and so every whole-image operation: convert, commit,
 * compare, map, ...) uses instead of the default; o must outlive its use. */
void disk_set_default_opts(const struct disk_open_opts *o);

/* Is `backing` (a path disk_backing_path resolved from `image`'s header)
 * allowed by o (NULL: the default)?  0, or -1 with err saying how to allow it. */
int disk_backing_allowed(const struct disk_open_opts *o, const char *image, const char *backing,
                         berth_error_t *err);
void disk_close(struct disk *d);

int disk_pread(struct disk *d, void *buf, size_t len, uint64_t off, berth_error_t *err);
int disk_pwrite(struct disk *d, const void *buf, size_t len, uint64_t off, berth_error_t *err);
int disk_flush(struct disk *d, berth_error_t *err);
/* Everything written back and the image read-only from now on (it becomes an
 * overlay's backing file while open: a running drive's switch). */
int disk_freeze(struct disk *d, berth_error_t *err);
/* The backing file's name as the image stores it, or NULL. */
const char *disk_backing_name(struct disk *d);
int disk_discard(struct disk *d, uint64_t off, uint64_t len, berth_error_t *err);

/* A raw disk's file descriptor, for callers that do their own I/O on it
 * (virtio-blk's io_uring path), and whether it is O_DIRECT; -1 for any
 * other format.  The disk keeps owning it. */
int disk_raw_fd(struct disk *d, bool *direct);

int disk_preadv(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off,
                berth_error_t *err);
int disk_pwritev(struct disk *d, const struct iovec *iov, int iovcnt, uint64_t off,
                 berth_error_t *err);
int disk_write_zeroes(struct disk *d, uint64_t off, uint64_t len, berth_error_t *err);
/* Fills *ext for the run at off; a format without allocation data reports DATA|ALLOCATED. */
int disk_block_status(struct disk *d, uint64_t off, uint64_t len, struct disk_extent *ext,
                      berth_error_t *err);
/* Grow or shrink the virtual disk (`berth disk resize`). */
int disk_truncate(struct disk *d, uint64_t size, berth_error_t *err);

/* The image this one reads unallocated ranges from, or NULL. */
struct disk *disk_backing(struct disk *d);

/* Resolve a backing file name as stored in `image`: relative to the
 * directory of the image naming it (as qemu does).  Caller frees. */
char *disk_backing_path(const char *image, const char *backing);

/* Probe a file's format (the qcow2 magic, else raw). */
int disk_probe(const char *path, enum disk_format *out, berth_error_t *err);

/* Options of disk_create.  Zero means the default. */
struct disk_create_opts {
        enum disk_format format;
        uint64_t size;                /* virtual size; 0 with a backing file: the backing's */
        unsigned cluster_size;        /* qcow2: 512 B .. 2 MiB, default 64 KiB */
        unsigned version;             /* qcow2: 2 or 3 (default) */
        unsigned refcount_bits;       /* qcow2: 16 (only value written) */
        const char *backing;          /* qcow2: backing file name as stored in the image */
        enum disk_format backing_fmt; /* AUTO: probe it */
        bool preallocate;             /* raw: fallocate the whole size */
        bool zstd;                    /* qcow2 v3: compressed clusters use zstd, not deflate */
};

int disk_create(const char *path, const struct disk_create_opts *o, berth_error_t *err);

int disk_parse_format(const char *s, enum disk_format *out, berth_error_t *err);
const char *disk_format_name(enum disk_format f);

#endif
