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

static bool pinned(char **pins, size_t n, const char *manifest)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(pins[i], manifest) == 0)
                        return true;
        return false;
}

/* Remove one image reference; prints what it did.  Returns <0 on failure. */
static int rmi_one(struct img_store *s, const char *what, bool force, char **pins, size_t n_pins,
                   berth_error_t *err)
{
        struct img_table t;
        if (img_table_load(s, &t, err) < 0)
                return -1;
        struct img_entry *e;
        int ret = -1;
        struct img_image img = {0};
        if (img_lookup(s, &t, what, &e, err) < 0 || img_image_load(s, e->manifest, &img, err) < 0)
                goto out;
        cleanup_free char *short_id = cli_short_id(img.config.digest, false);
        cleanup_free char *name = NULL;
        berth_error_t sub = NULL;
        bool by_name = img_ref_normalize(what, &name, &sub) == 0 && strchr(name, '@') == NULL;
        berth_error_release(&sub);
        if (by_name) {
                by_name = false;
                for (size_t i = 0; i < e->n_names; i++)
                        by_name |= strcmp(e->names[i], name) == 0;
        }
        bool in_use = pinned(pins, n_pins, e->manifest);
        if (by_name && e->n_names > 1) {
                if (img_table_untag(s, name, err) < 0)
                        goto out;
                printf("Untagged: %s\n", name);
                ret = 0;
                goto out;
        }
        if (!by_name && e->n_names > 1 && !force) {
                berth_fail_status(err, 1, EBUSY,
                                  "conflict: unable to delete %s (must be forced) - image is "
                                  "referenced in multiple repositories",
                                  short_id);
                goto out;
        }
        if (in_use && !force) {
                berth_fail_status(err, 1, EBUSY,
                                  "conflict: unable to remove image `%s` (must be forced) - a "
                                  "container is using it",
                                  what);
                goto out;
        }
        for (size_t i = 0; i < e->n_names; i++)
                printf("Untagged: %s\n", e->names[i]);
        if (in_use) {
                /* forced: the names go, the image stays for the container */
                for (size_t i = 0; i < e->n_names; i++)
                        if (img_table_untag(s, e->names[i], err) < 0)
                                goto out;
                ret = 0;
                goto out;
        }
        if (img_table_remove(s, e->manifest, err) < 0)
                goto out;
        printf("Deleted: %s\n", img.config.digest);
        ret = 0;
out:
        img_image_free(&img);
        img_table_free(&t);
        return ret;
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
                return cli_usage_error(err, "rmi", "requires at least 1 argument");
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
                if (rmi_one(&s, argv[i], force, pins, n_pins, &one) < 0) {
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
