/* cmd_import.c — `berth import`: a root filesystem tarball becomes an image. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/image_common.h"
#include "common/util.h"

static void import_usage(FILE *out)
{
        fprintf(out, "Usage: berth import [OPTIONS] FILE|- [REPOSITORY[:TAG]]\n"
                     "\n"
                     "Create an image from a root filesystem tarball (plain, gzip, xz, bzip2 or\n"
                     "zstd).  Prints the new image's ID.\n"
                     "\n"
                     "Options:\n"
                     "  -c, --change LINE     apply a Dockerfile instruction to the config: CMD,\n"
                     "                        ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER,\n"
                     "                        VOLUME, WORKDIR (repeatable)\n"
                     "  -m, --message TEXT    commit message for the image's history\n"
                     "      --platform P      accepted for compatibility (linux/<host arch>)\n"
                     "  -h, --help            show this help\n");
}

int cmd_import(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        enum { OPT_PLATFORM = 256 };
        static const struct option opts[] = {
                {"change", required_argument, NULL, 'c'},
                {"message", required_argument, NULL, 'm'},
                {"platform", required_argument, NULL, OPT_PLATFORM},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        cleanup_free const char **changes = berth_xcalloc((size_t) argc + 1, sizeof(char *));
        struct img_change change = {.changes = changes};
        int c;
        while ((c = getopt_long(argc, argv, "c:m:h", opts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        changes[change.n++] = optarg;
                        break;
                case 'm':
                        change.message = optarg;
                        break;
                case OPT_PLATFORM:
                        break;
                case 'h':
                        import_usage(stdout);
                        return 0;
                default:
                        return cli_usage_error(err, "import", "invalid option");
                }
        }
        if (optind >= argc)
                return cli_usage_error(err, "import", "requires a tarball (or -)");
        const char *file = argv[optind++];
        cleanup_free char *name = NULL;
        if (optind < argc && img_ref_normalize(argv[optind++], &name, err) < 0)
                return -1;
        if (optind < argc)
                return cli_usage_error(err, "import", "unexpected argument `%s`", argv[optind]);
        if (name && strchr(name, '@'))
                return cli_usage_error(err, "import", "cannot import to a digest reference");
        cleanup_close int fd =
                strcmp(file, "-") == 0 ? dup(STDIN_FILENO) : open(file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return berth_fail(err, errno, "open `%s`", file);
        struct img_store s;
        if (cli_store_open(g, &s, err) < 0)
                return -1;
        char manifest[IMG_DIGEST_MAX];
        int ret = img_import_rootfs(&s, fd, name, &change, manifest, err);
        if (ret == 0) {
                struct img_image img;
                ret = img_image_load(&s, manifest, &img, err);
                if (ret == 0) {
                        printf("%s\n", img.config.digest);
                        img_image_free(&img);
                }
        }
        img_store_close(&s);
        return ret < 0 ? berth_wrap(err, "import `%s`", file) : 0;
}
