/* cmd_rmi.c — `berth rmi` (`berth image rm`): untag and remove images, then
 * collect the blobs and layers nothing references any more. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/image_common.h"
#include "common/log.h"
#include "common/util.h"

static void print_removed(void *ctx, const char *kind, const char *value)
{
        (void) ctx;
        printf("%s: %s\n", kind, value);
}

int cmd_rmi(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        enum { OPT_NO_PRUNE = 256 };
        static const struct option opts[] = {
                {"force", no_argument, NULL, 'f'},
                {"no-prune", no_argument, NULL, OPT_NO_PRUNE},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        bool force = false;
        int c;
        while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        force = true;
                        break;
                case OPT_NO_PRUNE:
                        break;
                case 'h':
                        printf("Usage: berth rmi [OPTIONS] IMAGE [IMAGE...]\n"
                               "\n"
                               "Remove one or more images (by name, ID or digest).\n"
                               "\n"
                               "Options:\n"
                               "  -f, --force      remove an image with several names, or one\n"
                               "                   a container uses (its names only)\n"
                               "      --no-prune   accepted for compatibility\n");
                        return 0;
                default:
                        return cli_usage_error(err, "rmi", "invalid option");
                }
        }
        if (optind >= argc)
                return cli_args_error(err, "rmi", "at least 1 argument");
        struct img_store s;
        if (cli_store_open(g, &s, err) < 0)
                return -1;
        char **pins = NULL;
        size_t n_pins = 0;
        int status = 0;
        if (img_snapshots_images(&s, &pins, &n_pins, err) < 0) {
                img_store_close(&s);
                return -1;
        }
        for (int i = optind; i < argc; i++) {
                berth_error_t one = NULL;
                if (img_remove(&s, argv[i], force, pins, n_pins, print_removed, NULL, &one) < 0) {
                        /* report each failure and go on, as Docker does */
                        status = berth_error_report(&one, 1);
                }
        }
        for (size_t i = 0; i < n_pins; i++)
                free(pins[i]);
        free(pins);
        struct img_gc_stats st;
        if (img_gc(&s, &st, err) < 0) {
                img_store_close(&s);
                return -1;
        }
        img_store_close(&s);
        return status;
}
