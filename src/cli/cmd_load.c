/* cmd_load.c — `berth load` (`berth image load`): images from a docker-archive
 * or an OCI layout (tar, compressed tar, or directory). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/image_common.h"
#include "common/util.h"

static void load_report(void *ctx, const char *name, const char *manifest, const char *config)
{
        /* docker's -q hides the progress bars only: "Loaded image:" is printed either way */
        (void) ctx;
        (void) manifest;
        if (name)
                printf("Loaded image: %s\n", name);
        else
                printf("Loaded image ID: %s\n", config);
}

int cmd_load(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                {"input", required_argument, NULL, 'i'},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        const char *input = "-";
        int c;
        while ((c = getopt_long(argc, argv, "i:qh", opts, NULL)) != -1) {
                switch (c) {
                case 'i':
                        input = optarg;
                        break;
                case 'q':
                        break; /* berth prints no progress to hide */
                case 'h':
                        printf("Usage: berth load [OPTIONS]\n"
                               "\n"
                               "Load images from a docker-archive or OCI layout (tar, compressed\n"
                               "tar or directory), from stdin by default.\n"
                               "\n"
                               "Options:\n"
                               "  -i, --input PATH   read PATH instead of stdin\n"
                               "  -q, --quiet        no progress (\"Loaded image\" lines stay, as "
                               "Docker's)\n");
                        return 0;
                default:
                        return cli_usage_error(err, "load", "invalid option");
                }
        }
        if (optind < argc)
                return cli_usage_error(err, "load", "unexpected argument `%s`", argv[optind]);
        if (strcmp(input, "-") == 0 && isatty(STDIN_FILENO))
                return cli_usage_error(err, "load",
                                       "requested load from stdin, but stdin is a terminal");
        if (strcmp(input, "-") != 0 && access(input, F_OK) < 0 && errno == ENOENT)
                /* Docker's CLI opens the file itself, and says so in Go's words */
                return berth_fail_status(err, 1, 0, "open %s: no such file or directory", input);
        struct img_store s;
        if (cli_store_open(g, &s, err) < 0)
                return -1;
        int ret = img_load(&s, input, load_report, NULL, err);
        img_store_close(&s);
        return cli_status_1(ret, err);
}
