/* disk_bench.c — `berth disk bench`: drive the block layer the way
 * `qemu-img bench` drives QEMU's (same options, same offset sequence), so
 * the two can be timed side by side on one file; and, with --stamp and
 * --verify, the writer and checker of the crash-consistency test.
 *
 * Offsets: start at -o, advance by -S (default: the buffer size), wrap
 * within the image.  --stamp fills write i with its index, so that after a
 * crash --verify N can prove every write before the last flush survived. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/disk_cli.h"
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

int disk_cmd_bench(int argc, char **argv, berth_error_t *err)
{
        enum { OPT_PATTERN = 256, OPT_FLUSH, OPT_STAMP, OPT_VERIFY };
        static const struct option opts[] = {
                {"pattern", required_argument, NULL, OPT_PATTERN},
                {"flush-interval", required_argument, NULL, OPT_FLUSH},
                {"stamp", no_argument, NULL, OPT_STAMP},
                {"verify", required_argument, NULL, OPT_VERIFY},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        const char *fmt = NULL;
        uint64_t count = 75000, bufsize = 4096, step = 0, offset = 0, flush_every = 0;
        uint64_t verify = 0;
        bool write = false, direct = false, with_stamp = false, quiet = false;
        int pattern = 0xa5;
        int c;
        while ((c = getopt_long(argc, argv, "+c:d:f:o:s:S:t:wqnhU", opts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        count = strtoull(optarg, NULL, 10);
                        break;
                case 'd':
                case 'n':
                case 'U':
                        break; /* queue depth: our requests are synchronous */
                case 'f':
                        fmt = optarg;
                        break;
                case 'o':
                        if (disk_cli_size(optarg, &offset, err) < 0)
                                return -1;
                        break;
                case 's':
                        if (disk_cli_size(optarg, &bufsize, err) < 0)
                                return -1;
                        break;
                case 'S':
                        if (disk_cli_size(optarg, &step, err) < 0)
                                return -1;
                        break;
                case 't':
                        direct = strcmp(optarg, "none") == 0 || strcmp(optarg, "directsync") == 0;
                        break;
                case 'w':
                        write = true;
                        break;
                case 'q':
                        quiet = true;
                        break;
                case OPT_PATTERN:
                        pattern = atoi(optarg);
                        break;
                case OPT_FLUSH:
                        flush_every = strtoull(optarg, NULL, 10);
                        break;
                case OPT_STAMP:
                        with_stamp = true;
                        break;
                case OPT_VERIFY:
                        verify = strtoull(optarg, NULL, 10);
                        break;
                case 'h':
                        printf("Usage: berth disk bench [-c COUNT] [-f FMT] [-o OFFSET] [-s SIZE] "
                               "[-S STEP] [-t none] [-w]\n"
                               "       [--pattern BYTE] [--flush-interval N] [--stamp] "
                               "[--verify N] FILE\n");
                        return 0;
                default:
                        return cli_usage_error(err, "disk bench", "invalid option");
                }
        }
        if (optind + 1 != argc)
                return cli_usage_error(err, "disk bench", "give one image file");
        if (bufsize == 0 || bufsize > (64u << 20))
                return cli_usage_error(err, "disk bench", "buffer size 1 B .. 64 MiB");
        if (step == 0)
                step = bufsize;
        enum disk_format f;
        if (disk_cli_format(fmt, &f, err) < 0)
                return -1;
        unsigned flags = (write && !verify ? 0 : DISK_RDONLY) | (direct ? DISK_DIRECT : 0);
        struct disk *d = NULL;
        if (disk_open(argv[optind], f, flags, &d, err) < 0)
                return -1;
        void *mem = NULL;
        if (posix_memalign(&mem, 4096, bufsize) != 0)
                abort();
        cleanup_free uint8_t *buf = mem;
        cleanup_free uint8_t *want = berth_xmalloc(bufsize);
        memset(buf, pattern, bufsize);
        if (bufsize > d->size) {
                disk_close(d);
                return berth_fail(err, EINVAL, "buffer larger than the image");
        }
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int ret = 0;
        uint64_t off = d->size > bufsize ? offset % (d->size - bufsize) : 0;
        uint64_t n = verify ? verify : count;
        for (uint64_t i = 0; i < n && ret == 0; i++) {
                if (verify) {
                        stamp(want, bufsize, i);
                        ret = disk_pread(d, buf, bufsize, off, err);
                        if (ret == 0 && memcmp(buf, want, bufsize) != 0) {
                                printf("write %llu at offset %llu was lost\n",
                                       (unsigned long long) i, (unsigned long long) off);
                                ret = 1;
                        }
                } else if (write) {
                        if (with_stamp)
                                stamp(buf, bufsize, i);
                        ret = disk_pwrite(d, buf, bufsize, off, err);
                        if (ret == 0 && flush_every && (i + 1) % flush_every == 0) {
                                ret = disk_flush(d, err);
                                if (ret == 0 && with_stamp) {
                                        printf("flushed %llu\n", (unsigned long long) (i + 1));
                                        fflush(stdout);
                                }
                        }
                } else {
                        ret = disk_pread(d, buf, bufsize, off, err);
                }
                off = next_offset(off, step, d->size, bufsize);
        }
        if (ret == 0 && write && !verify)
                ret = disk_flush(d, err);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        disk_close(d);
        if (ret != 0)
                return ret;
        double secs = (double) (t1.tv_sec - t0.tv_sec) + (double) (t1.tv_nsec - t0.tv_nsec) / 1e9;
        if (verify)
                printf("all %llu writes are intact\n", (unsigned long long) verify);
        else if (!quiet)
                printf("Run completed in %.3f seconds (%.0f MB/s).\n", secs,
                       secs > 0 ? (double) (n * bufsize) / secs / 1e6 : 0.0);
        return 0;
}
