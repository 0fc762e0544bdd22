/* remove.c — names and images going away or added: rmi (untag, then delete the image with its
 * last name), prune (dangling or unused images) and tag, reported as they happen so that the
 * CLI can print Docker's lines and the Engine API build dockerd's lists. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "image/image.h"

static bool pinned(char *const *pins, size_t n, const char *manifest)
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

static void report(img_remove_report_fn fn, void *ctx, const char *kind, const char *value)
{
        if (fn)
                fn(ctx, kind, value);
}

int img_remove(struct img_store *s, const char *what, bool force, char *const *pins, size_t n_pins,
               img_remove_report_fn fn, void *ctx, berth_error_t *err)
{
        struct img_table t;
        if (img_table_load(s, &t, err) < 0)
                return -1;
        struct img_entry *e;
        struct img_entry **set = berth_xcalloc(t.n + 1, sizeof(struct img_entry *));
        int ret = -1;
        struct img_image img = {0};
        cleanup_free char *name = NULL;
        cleanup_free char *short_id = NULL;
        cleanup_free char *user = NULL;
        if (img_lookup(s, &t, what, &e, err) < 0 || img_image_load(s, e->manifest, &img, err) < 0)
                goto out;
        short_id = berth_xasprintf("%.12s", img_digest_hex(img.config.digest));
        name = img_named_by(e, what);
        bool by_name = name != NULL;
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
                report(fn, ctx, "Untagged", name);
                img_event(s, e->manifest, "untag", NULL);
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
        /* (declared at the top: the gotos above must not jump past a cleanup) */
        user = in_use && !force && by_name ? img_snapshot_user(s, e->manifest) : NULL;
        if (user) {
                /* dockerd's words for a last name a container's image still needs */
                berth_fail_status(err, 1, EBUSY,
                                  "conflict: unable to remove repository reference \"%s\" (must "
                                  "force) - container %.12s is using its referenced image %s",
                                  what, user, short_id);
                goto out;
        }
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
                        report(fn, ctx, "Untagged", set[i]->names[j]);
                        img_event(s, set[i]->manifest, "untag", NULL);
                }
                /* forced while in use: the names go, the image stays for the container */
                if (!pinned(pins, n_pins, set[i]->manifest) &&
                    img_table_remove(s, set[i]->manifest, err) < 0)
                        goto out;
        }
        if (!in_use)
                report(fn, ctx, "Deleted", img.config.digest);
        if (!in_use)
                img_event(s, e->manifest, "delete", NULL);
        ret = 0;
out:
        free(set);
        img_image_free(&img);
        img_table_free(&t);
        return ret;
}

int img_prune(struct img_store *s, bool all, img_prune_filter_fn keep, void *keep_ctx,
              img_remove_report_fn fn, void *ctx, berth_error_t *err)
{
        struct img_table t;
        char **pins = NULL;
        size_t n_pins = 0;
        int ret = -1;
        if (img_table_load(s, &t, err) < 0)
                return -1;
        if (img_snapshots_images(s, &pins, &n_pins, err) < 0)
                goto out;
        for (size_t i = 0; i < t.n; i++) {
                struct img_entry *e = &t.v[i];
                if (pinned(pins, n_pins, e->manifest) || (!all && e->n_names > 0))
                        continue;
                struct img_image img;
                berth_error_t sub = NULL;
                bool loaded = img_image_load(s, e->manifest, &img, &sub) == 0;
                berth_error_release(&sub);
                if (keep && !keep(keep_ctx, e, loaded ? &img : NULL)) {
                        if (loaded)
                                img_image_free(&img);
                        continue;
                }
                int r = img_table_remove(s, e->manifest, err);
                if (r == 0) {
                        for (size_t j = 0; j < e->n_names; j++)
                                report(fn, ctx, "Untagged", e->names[j]);
                        report(fn, ctx, "Deleted", loaded ? img.config.digest : e->manifest);
                        img_event(s, e->manifest, "delete", NULL);
                }
                if (loaded)
                        img_image_free(&img);
                if (r < 0)
                        goto out;
        }
        ret = 0;
out:
        for (size_t j = 0; j < n_pins; j++)
                free(pins[j]);
        free(pins);
        img_table_free(&t);
        return ret;
}

int img_tag(struct img_store *s, const char *source, const char *target, berth_error_t *err)
{
        struct img_table t;
        struct img_entry *e;
        int ret = img_table_load(s, &t, err);
        if (ret == 0) {
                ret = img_lookup(s, &t, source, &e, err);
                if (ret == 0) {
                        const char *names[] = {target};
                        ret = img_table_add(s, e->manifest, e->manifest_media_type,
                                            e->manifest_size, names, 1, err);
                        if (ret == 0)
                                img_event(s, e->manifest, "tag", target);
                }
                img_table_free(&t);
        }
        return ret;
}
