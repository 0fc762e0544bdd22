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

/* The manifests in the table whose config (image ID) is id. */
static size_t same_id(struct img_store *s, struct img_table *t, const char *id,
                      struct img_entry **out)
{
        size_t n = 0;
        for (size_t i = 0; i < t->n; i++) {
                struct img_image img;
                berth_error_t sub = NULL;
                if (img_image_load(s, t->v[i].manifest, &img, &sub) < 0) {
                        berth_error_release(&sub);
                        continue;
                }
                if (strcmp(img.config.digest, id) == 0)
                        out[n++] = &t->v[i];
                img_image_free(&img);
        }
        return n;
}

/* Remove one image reference; prints what it did.  Returns <0 on failure. */
static int rmi_one(struct img_store *s, const char *what, bool force, char **pins, size_t n_pins,
                   berth_error_t *err)
{
        struct img_table t;
        if (img_table_load(s, &t, err) < 0)
                return -1;
        struct img_entry *e;
        struct img_entry **set = berth_xcalloc(t.n + 1, sizeof(struct img_entry *));
        int ret = -1;
        struct img_image img = {0};
        cleanup_free char *short_id = NULL;
        cleanup_free char *name = NULL;
        if (img_lookup(s, &t, what, &e, err) < 0 || img_image_load(s, e->manifest, &img, err) < 0)
                goto out;
        short_id = cli_short_id(img.config.digest, false);
        berth_error_t sub = NULL;
        bool by_name = img_ref_normalize(what, &name, &sub) == 0 && strchr(name, '@') == NULL;
        berth_error_release(&sub);
        if (by_name) {
                by_name = false;
                for (size_t i = 0; i < e->n_names; i++)
                        by_name |= strcmp(e->names[i], name) == 0;
        }
        /* by name: that name only (and the image with its last name);
         * by ID: every manifest of that config, as Docker keys images by ID */
        size_t n_set = 1, n_names = e->n_names;
        set[0] = e;
        if (!by_name) {
                n_set = same_id(s, &t, img.config.digest, set);
                n_names = 0;
                for (size_t i = 0; i < n_set; i++)
                        n_names += set[i]->n_names;
        }
        if (by_name && e->n_names > 1) {
                if (img_table_untag(s, name, err) < 0)
                        goto out;
                printf("Untagged: %s\n", name);
                ret = 0;
                goto out;
        }
        if (!by_name && n_names > 1 && !force) {
                berth_fail_status(err, 1, EBUSY,
                                  "conflict: unable to delete %s (must be forced) - image is "
                                  "referenced in multiple repositories",
                                  short_id);
                goto out;
        }
        bool in_use = false;
        for (size_t i = 0; i < n_set; i++)
                in_use |= pinned(pins, n_pins, set[i]->manifest);
        if (in_use && !force) {
                berth_fail_status(err, 1, EBUSY,
                                  "conflict: unable to remove image `%s` (must be forced) - a "
                                  "container is using it",
                                  what);
                goto out;
        }
        for (size_t i = 0; i < n_set; i++) {
                for (size_t j = 0; j < set[i]->n_names; j++) {
                        if (img_table_untag(s, set[i]->names[j], err) < 0)
                                goto out;
                        printf("Untagged: %s\n", set[i]->names[j]);
                }
                /* forced while in use: the names go, the image stays for the container */
                if (!pinned(pins, n_pins, set[i]->manifest) &&
                    img_table_remove(s, set[i]->manifest, err) < 0)
                        goto out;
        }
        if (!in_use)
                printf("Deleted: %s\n", img.config.digest);
        ret = 0;
out:
        free(set);
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
