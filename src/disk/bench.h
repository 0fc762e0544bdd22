/* bench.h — timed reads or writes through the block layer the way `qemu-img bench` drives
 * QEMU's (same offset sequence), and the writer and checker of the crash-consistency test
 * (bench.c). */
#ifndef BERTH_DISK_BENCH_H
#define BERTH_DISK_BENCH_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "disk/disk.h"

/* Offsets: start at offset, advance by step, wrap within the image.  stamp fills write i with
 * its index, so that after a crash verify N can prove every write before the last flush
 * survived. */
struct disk_bench_opts {
        enum disk_format format;
        uint64_t count;   /* requests */
        uint64_t bufsize; /* bytes per request, 1 B .. 64 MiB */
        uint64_t step;    /* 0: bufsize */
        uint64_t offset;
        uint64_t flush_every; /* writes between flushes; 0: only at the end */
        uint64_t verify;      /* > 0: read back the first verify stamped writes instead */
        bool write, direct, stamp;
        int pattern; /* the byte written */
        /* called after each periodic flush of stamped writes with the writes done so far */
        void (*flushed)(uint64_t done, void *ctx);
        void *ctx;
};

struct disk_bench_result {
        double seconds;
        uint64_t requests;
        bool lost; /* verify: write lost_index (at lost_offset) did not survive */
        uint64_t lost_index, lost_offset;
};

int disk_bench(const char *path, const struct disk_bench_opts *o, struct disk_bench_result *res,
               berth_error_t *err);

#endif
