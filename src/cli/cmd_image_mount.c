/* cmd_image_mount.c — `berth image mount IMAGE` / `berth image unmount IMAGE`
 * (Podman's spelling): the image's root filesystem through the snapshotter,
 * its path printed, so its files can be read without running a container. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/image_common.h"
#include "common/util.h"

/* The snapshot of a mounted image is named after its ID. */
static int mount_id(struct img_store *s, const char *what, char **id, berth_error_t *err)
{
        struct img_table t;
        if (img_table_load(s, &t, err) < 0)
                return -1;
        struct img_entry *e;
        struct img_image img;
        int ret = img_lookup(s, &t, what, &e, err);
        if (ret == 0)
                ret = img_image_load(s, e->manifest, &img, err);
        if (ret == 0) {
                *id = berth_xasprintf("image-%s", img_digest_hex(img.config.digest));
                img_image_free(&img);
        }
        img_table_free(&t);
        return ret;
}

static int mount_main(struct cli_global *g, int argc, char **argv, bool unmount, berth_error_t *err)
{
        const char *cmd = unmount ? "image unmount" : "image mount";
        static const struct option opts[] = {
                {"storage-driver", required_argument, NULL, 'd'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        enum img_driver driver = img_driver_default();
        int c;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'd':
                        if (img_driver_parse(optarg, &driver, err) < 0)
                                return cli_usage_error(err, cmd, "invalid --storage-driver");
                        break;
                case 'h':
                        printf("Usage: berth %s [--storage-driver overlay|vfs] IMAGE\n"
                               "\n"
                               "%s an image's root filesystem (its path is printed).\n",
                               cmd, unmount ? "Unmount" : "Mount");
                        return 0;
                default:
                        return cli_usage_error(err, cmd, "invalid option");
                }
        }
        if (argc - optind != 1)
                return cli_args_error(err, cmd, "1 argument");
        struct img_store s;
        if (cli_store_open(g, &s, err) < 0)
                return -1;
        cleanup_free char *id = NULL;
        int ret = mount_id(&s, argv[optind], &id, err);
        if (ret == 0 && unmount) {
                ret = img_rootfs_remove(&s, id, err);
        } else if (ret == 0) {
                char *rootfs = NULL;
                ret = img_rootfs_prepare(&s, argv[optind], id, driver, &rootfs, err);
                if (ret == 0)
                        printf("%s\n", rootfs);
                free(rootfs);
        }
        img_store_close(&s);
        return ret;
}

int cmd_image_mount(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        return mount_main(g, argc, argv, false, err);
}

int cmd_image_unmount(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        return mount_main(g, argc, argv, true, err);
}
