/* cmd_save.c — `berth save` (`berth image save`): images to a tar or directory. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/image_common.h"
#include "common/util.h"

int cmd_save(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        enum { OPT_FORMAT = 256 };
        static const struct option opts[] = {
                {"output", required_argument, NULL, 'o'},
                {"format", required_argument, NULL, OPT_FORMAT},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        const char *output = NULL;
        enum img_archive_format fmt = IMG_FMT_DOCKER_ARCHIVE;
        int c;
        while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
                switch (c) {
                case 'o':
                        output = optarg;
                        break;
                case OPT_FORMAT:
                        if (img_archive_format_parse(optarg, &fmt, err) < 0)
                                return cli_usage_error(err, "save", "invalid --format");
                        break;
                case 'h':
                        printf("Usage: berth save [OPTIONS] IMAGE [IMAGE...]\n"
                               "\n"
                               "Save images to a tar archive (stdout by default).\n"
                               "\n"
                               "Options:\n"
                               "  -o, --output PATH   write to PATH instead of stdout\n"
                               "      --format FMT    docker-archive (default; also an OCI\n"
                               "                      layout), oci-archive, or oci-dir (a\n"
                               "                      directory, needs -o)\n");
                        return 0;
                default:
                        return cli_usage_error(err, "save", "invalid option");
                }
        }
        if (optind >= argc)
                return cli_args_error(err, "save", "at least 1 argument");
        if (output == NULL && fmt == IMG_FMT_OCI_DIR)
                return cli_usage_error(err, "save", "--format oci-dir needs -o DIR");
        if (output == NULL && isatty(STDOUT_FILENO))
                return cli_usage_error(err, "save",
                                       "cowardly refusing to save to a terminal: use -o or "
                                       "redirect");
        struct img_store s;
        if (cli_store_open(g, &s, err) < 0)
                return -1;
        int ret = img_save(&s, (const char *const *) argv + optind, (size_t) (argc - optind), fmt,
                           output ? output : "-", err);
        img_store_close(&s);
        return cli_status_1(ret, err);
}
