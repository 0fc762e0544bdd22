/* cache.c — how build steps become images: each step's image committed on top of
 * the last, the layer cache that finds a step's image again (keyed by parent, instruction and
 * content), and the image table entries of intermediate images, which last only as long as
 * the build. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build/build_internal.h"
#include "common/util.h"

void bld_emit_image(struct build *b, bool cached)
{
        struct bld_event ev = {.kind = BLD_EV_IMAGE, .cached = cached};
        ev.id = json_string_value(json_object_get(b->cfg, "_id"));
        if (ev.id)
                bld_emit(b, &ev);
}

/* Load image manifest as the current one. */
int bld_set_current(struct build *b, const char *manifest, berth_error_t *err)
{
        struct img_image img = {0};
        if (img_image_load(&b->s, manifest, &img, err) < 0)
                return -1;
        json_decref(b->cfg);
        b->cfg = json_deep_copy(img.cfg);
        json_object_set_new(b->cfg, "_id", json_string(img.config.digest));
        for (size_t i = 0; i < b->n_layers; i++)
                free(b->layers[i].media_type);
        free(b->layers);
        b->n_layers = img.n_layers;
        b->layers = berth_xcalloc(img.n_layers + 1, sizeof(*b->layers));
        for (size_t i = 0; i < img.n_layers; i++) {
                b->layers[i] = img.layers[i];
                b->layers[i].media_type = berth_xstrdup(img.layers[i].media_type);
        }
        snprintf(b->cur, sizeof(b->cur), "%s", manifest);
        img_image_free(&img);
        return 0;
}

static void note_listed(struct build *b, const char *manifest)
{
        b->listed = berth_xrealloc(b->listed, (b->n_listed + 1) * sizeof(*b->listed));
        snprintf(b->listed[b->n_listed++], IMG_DIGEST_MAX, "%s", manifest);
}

/* Are the image's manifest, config and layers all still in the store? */
static bool image_complete(struct build *b, const char *manifest)
{
        struct img_image img = {0};
        berth_error_t e = NULL;
        bool ok = img_image_load(&b->s, manifest, &img, &e) == 0;
        berth_error_release(&e);
        for (size_t i = 0; ok && i < img.n_layers; i++)
                ok = img_blob_exists(&b->s, img.layers[i].digest);
        img_image_free(&img);
        return ok;
}

/* Put an image from the cache back in the table (RUN's containers are made from images
 * found there; the table also keeps its blobs from garbage collection). */
static int list_image(struct build *b, const char *manifest, berth_error_t *err)
{
        struct img_table t = {0};
        if (img_table_load(&b->s, &t, err) < 0)
                return -1;
        bool found = img_table_find_manifest(&t, manifest) != NULL;
        img_table_free(&t);
        if (found)
                return 0;
        uint64_t size = 0;
        if (img_blob_size(&b->s, manifest, &size, err) < 0 ||
            img_table_add(&b->s, manifest, IMG_MT_OCI_MANIFEST, (int64_t) size, NULL, 0, err) < 0)
                return -1;
        note_listed(b, manifest);
        return 0;
}

/* The build is over: the intermediate images it listed leave the table (not the final one,
 * nor any that someone named meanwhile).  Their blobs stay until a garbage collection. */
void bld_unlist_intermediate(struct build *b, const char *final)
{
        struct img_table t = {0};
        berth_error_t e = NULL;
        if (b->n_listed == 0 || img_table_load(&b->s, &t, &e) < 0) {
                berth_error_release(&e);
                return;
        }
        for (size_t i = 0; i < b->n_listed; i++) {
                struct img_entry *ent = img_table_find_manifest(&t, b->listed[i]);
                if ((final && strcmp(b->listed[i], final) == 0) || ent == NULL || ent->n_names)
                        continue;
                if (img_table_remove(&b->s, b->listed[i], &e) < 0)
                        berth_error_release(&e);
        }
        img_table_free(&t);
}

static char *cache_path(struct build *b, const char *key)
{
        return berth_xasprintf("%s/build-cache/%s", b->s.root, img_digest_hex(key));
}

int bld_cache_check(struct build *b, const char *instr, const char *extra, char key[IMG_DIGEST_MAX],
                    bool *hit, berth_error_t *err)
{
        /* the stage's ARG values: instructions are keyed as written, before substitution */
        cleanup_free char *args = json_dumps(b->args, JSON_COMPACT | JSON_SORT_KEYS);
        cleanup_free char *text =
                berth_xasprintf("berth-build-v1\n%s\n%s\n%s\n%s", b->cur[0] ? b->cur : "scratch",
                                instr, extra ? extra : "", args ? args : "");
        img_sha256_digest(text, strlen(text), key);
        *hit = false;
        if (b->o->no_cache)
                return 0;
        cleanup_free char *path = cache_path(b, key);
        cleanup_free char *manifest = NULL;
        if (berth_read_file(path, &manifest, NULL, NULL) < 0)
                return 0;
        manifest[strcspn(manifest, "\n")] = '\0';
        if (!img_digest_valid(manifest) || !image_complete(b, manifest))
                return 0; /* collected since: build it again */
        if (list_image(b, manifest, err) < 0)
                return -1;
        if (bld_set_current(b, manifest, err) < 0)
                return -1;
        *hit = true;
        bld_emit_image(b, true);
        return 0;
}

int bld_commit(struct build *b, const char *created_by, const struct img_desc *layer,
               const char *diffid, const char *key, berth_error_t *err)
{
        json_t *cfg = json_deep_copy(b->cfg);
        json_object_del(cfg, "_id");
        cleanup_free char *now = img_now_rfc3339();
        json_object_set_new(cfg, "created", json_string(now));
        json_t *hist = json_object_get(cfg, "history");
        if (!json_is_array(hist)) {
                hist = json_array();
                json_object_set_new(cfg, "history", hist);
        }
        json_t *h = json_pack("{s:s, s:s}", "created", now, "created_by", created_by);
        if (layer == NULL)
                json_object_set_new(h, "empty_layer", json_true());
        json_array_append_new(hist, h);
        img_config_add_layer(cfg, layer ? diffid : NULL);
        size_t n = b->n_layers;
        struct img_desc *layers = berth_xcalloc(n + 1, sizeof(*layers));
        for (size_t i = 0; i < n; i++)
                layers[i] = b->layers[i];
        if (layer)
                layers[n++] = *layer;
        char manifest[IMG_DIGEST_MAX];
        int r = img_image_commit(&b->s, cfg, layers, n, NULL, 0, manifest, err);
        free(layers);
        json_decref(cfg);
        if (r == 0)
                note_listed(b, manifest);
        if (r < 0 || bld_set_current(b, manifest, err) < 0)
                return -1;
        if (key && !b->o->no_cache) {
                cleanup_free char *dir = berth_xasprintf("%s/build-cache", b->s.root);
                cleanup_free char *path = cache_path(b, key);
                cleanup_free char *text = berth_xasprintf("%s\n", manifest);
                berth_error_t ignored = NULL;
                /* a cache that cannot be written only costs time next build */
                if (berth_mkdir_p(dir, 0700, &ignored) < 0 ||
                    berth_write_file_atomic(path, text, strlen(text), 0600, &ignored) < 0)
                        berth_error_release(&ignored);
        }
        bld_emit_image(b, false);
        return 0;
}

int bld_ensure_image(struct build *b, berth_error_t *err)
{
        if (b->cur[0])
                return 0;
        char key[IMG_DIGEST_MAX];
        bool hit;
        if (bld_cache_check(b, "FROM scratch", NULL, key, &hit, err) < 0)
                return -1;
        return hit ? 0 : bld_commit(b, "/bin/sh -c #(nop) FROM scratch", NULL, NULL, key, err);
}
