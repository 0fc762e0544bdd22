/* cmd_disk_bench.c — `berth disk bench`: qemu-img bench's options (same offset sequence), so the
 * two can be timed side by side on one file; with --stamp and --verify, the writer and checker
 * of the crash-consistency test.  The requests are the disk library's (disk/bench.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/disk_cli.h"
#include "disk/bench.h"

/* The crash test reads how far the flushed writes got while the writer runs. */
static void print_flushed(uint64_t done, void *ctx)
{
        (void) ctx;
        printf("flushed %llu\n", (unsigned long long) done);
        fflush(stdout);
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
        static const struct disk_cli_verb verb = {
                .cmd = "disk bench",
                /* -d (queue depth), -n, -U: taken and ignored, our requests are synchronous */
                .optstring = "+c:d:f:o:s:S:t:wqnhU",
                .longopts = opts,
                .usage = "Usage: berth disk bench [-c COUNT] [-f FMT] [-o OFFSET] [-s SIZE] "
                         "[-S STEP] [-t none] [-w]\n"
                         "       [--pattern BYTE] [--flush-interval N] [--stamp] [--verify N] "
                         "FILE\n",
                .operands = 1,
        };
        const char *fmt = NULL;
        struct disk_bench_opts o = {
                .count = 75000, .bufsize = 4096, .pattern = 0xa5, .flushed = print_flushed};
        bool quiet = false;
        int c;
        while ((c = disk_cli_opt(&verb, argc, argv, &fmt, err)) > 0) {
                switch (c) {
                case 'c':
                        o.count = strtoull(optarg, NULL, 10);
                        break;
                case 'o':
                case 's':
                case 'S':
                        if (disk_cli_size(optarg,
                                          c == 'o'   ? &o.offset
                                          : c == 's' ? &o.bufsize
                                                     : &o.step,
                                          err) < 0)
                                return -1;
                        break;
                case 't':
                        o.direct = strcmp(optarg, "none") == 0 || strcmp(optarg, "directsync") == 0;
                        break;
                case 'w':
                        o.write = true;
                        break;
                case 'q':
                        quiet = true;
                        break;
                case OPT_PATTERN:
                        o.pattern = atoi(optarg);
                        break;
                case OPT_FLUSH:
                        o.flush_every = strtoull(optarg, NULL, 10);
                        break;
                case OPT_STAMP:
                        o.stamp = true;
                        break;
                case OPT_VERIFY:
                        o.verify = strtoull(optarg, NULL, 10);
                        break;
                }
        }
        if (c < 0)
                return c == DISK_CLI_HELP ? 0 : -1;
        if (o.bufsize == 0 || o.bufsize > (64u << 20))
                return cli_usage_error(err, verb.cmd, "buffer size 1 B .. 64 MiB");
        struct disk_bench_result res;
        if (disk_cli_format(fmt, &o.format, err) < 0 || disk_bench(argv[optind], &o, &res, err) < 0)
                return -1;
        if (res.lost) {
                printf("write %llu at offset %llu was lost\n", (unsigned long long) res.lost_index,
                       (unsigned long long) res.lost_offset);
                return 1;
        }
        if (o.verify)
                printf("all %llu writes are intact\n", (unsigned long long) o.verify);
        else if (!quiet)
                printf("Run completed in %.3f seconds (%.0f MB/s).\n", res.seconds,
                       res.seconds > 0 ? (double) (res.requests * o.bufsize) / res.seconds / 1e6
                                       : 0.0);
        return 0;
}
