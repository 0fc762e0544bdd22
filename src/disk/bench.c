/* bench.c — timed requests through the block layer, and the stamped writes of the
 * crash-consistency test (bench.h). */
#include "disk/bench.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"

static uint64_t next_offset(uint64_t off, uint64_t step, uint64_t size, uint64_t buf)
{
        if (size <= buf)
                return 0;
        return (off + step) % (size - buf); /* qemu-img bench's sequence */
}

static void stamp(uint8_t *b, size_t len, uint64_t i)
{
        for (size_t k = 0; k + 8 <= len; k += 8)
                memcpy(b + k, &i, 8);
}

/* The requests themselves: 0, or -1 with err set; a lost write is res->lost, not an error. */
static int run(struct disk *d, const struct disk_bench_opts *o, uint8_t *buf, uint8_t *want,
               struct disk_bench_result *res, berth_error_t *err)
{
        uint64_t bufsize = o->bufsize, step = o->step ? o->step : o->bufsize;
        uint64_t off = d->size > bufsize ? o->offset % (d->size - bufsize) : 0;
        uint64_t n = o->verify ? o->verify : o->count;
        for (uint64_t i = 0; i < n; i++) {
                if (o->verify) {
                        stamp(want, bufsize, i);
                        if (disk_pread(d, buf, bufsize, off, err) < 0)
                                return -1;
                        if (memcmp(buf, want, bufsize) != 0) {
                                res->lost = true;
                                res->lost_index = i;
                                res->lost_offset = off;
                                return 0;
                        }
                } else if (o->write) {
                        if (o->stamp)
                                stamp(buf, bufsize, i);
                        if (disk_pwrite(d, buf, bufsize, off, err) < 0)
                                return -1;
                        if (o->flush_every && (i + 1) % o->flush_every == 0) {
                                if (disk_flush(d, err) < 0)
                                        return -1;
                                if (o->stamp && o->flushed)
                                        o->flushed(i + 1, o->ctx);
                        }
                } else if (disk_pread(d, buf, bufsize, off, err) < 0) {
                        return -1;
                }
                res->requests = i + 1;
                off = next_offset(off, step, d->size, bufsize);
        }
        if (o->write && !o->verify)
                return disk_flush(d, err);
        return 0;
}

int disk_bench(const char *path, const struct disk_bench_opts *o, struct disk_bench_result *res,
               berth_error_t *err)
{
        memset(res, 0, sizeof(*res));
        if (o->bufsize == 0 || o->bufsize > (64u << 20))
                return berth_fail(err, EINVAL, "buffer size 1 B .. 64 MiB");
        unsigned flags = (o->write && !o->verify ? 0 : DISK_RDONLY) | (o->direct ? DISK_DIRECT : 0);
        struct disk *d = NULL;
        if (disk_open(path, o->format, flags, &d, err) < 0)
                return -1;
        void *mem = NULL;
        if (posix_memalign(&mem, 4096, o->bufsize) != 0)
                abort();
        cleanup_free uint8_t *buf = mem;
        cleanup_free uint8_t *want = berth_xmalloc(o->bufsize);
        memset(buf, o->pattern, o->bufsize);
        if (o->bufsize > d->size) {
                disk_close(d);
                return berth_fail(err, EINVAL, "buffer larger than the image");
        }
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int ret = run(d, o, buf, want, res, err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        disk_close(d);
        res->seconds = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
        return ret;
}
