/* manifest.c — images as the store holds them: a manifest naming a config and
 * layers.  Looking an image up by what the user typed (name, ID, digest), loading
 * it, and committing a new one. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "image/image.h"

void img_image_free(struct img_image *img)
{
        json_decref(img->manifest);
        json_decref(img->cfg);
        free(img->config.media_type);
        for (size_t i = 0; i < img->n_layers; i++)
                free(img->layers[i].media_type);
        free(img->layers);
        free((void *) img->diff_ids);
        memset(img, 0, sizeof(*img));
}

static int desc_parse(json_t *j, struct img_desc *d, berth_error_t *err)
{
        const char *digest = json_string_value(json_object_get(j, "digest"));
        if (!img_digest_valid(digest))
                return berth_fail(err, EINVAL, "descriptor with an invalid digest `%s`",
                                  digest ? digest : "(none)");
        snprintf(d->digest, sizeof(d->digest), "%s", digest);
        const char *mt = json_string_value(json_object_get(j, "mediaType"));
        d->media_type = berth_xstrdup(mt ? mt : "");
        d->size = json_integer_value(json_object_get(j, "size"));
        return 0;
}

static json_t *blob_json(struct img_store *s, const char *digest, berth_error_t *err)
{
        cleanup_free char *buf = NULL;
        size_t len = 0;
        if (img_blob_read(s, digest, &buf, &len, err) < 0)
                return NULL;
        json_error_t jerr;
        json_t *j = json_loadb(buf, len, 0, &jerr);
        if (j == NULL || !json_is_object(j)) {
                json_decref(j);
                berth_fail(err, EINVAL, "parse blob %s: %s", digest,
                           j ? "not an object" : jerr.text);
                return NULL;
        }
        return j;
}

int img_image_load(struct img_store *s, const char *manifest_digest, struct img_image *img,
                   berth_error_t *err)
{
        memset(img, 0, sizeof(*img));
        snprintf(img->manifest_digest, sizeof(img->manifest_digest), "%s", manifest_digest);
        img->manifest = blob_json(s, manifest_digest, err);
        if (img->manifest == NULL)
                goto fail;
        if (desc_parse(json_object_get(img->manifest, "config"), &img->config, err) < 0)
                goto fail;
        json_t *layers = json_object_get(img->manifest, "layers");
        img->n_layers = json_array_size(layers);
        img->layers = berth_xcalloc(img->n_layers ? img->n_layers : 1, sizeof(*img->layers));
        for (size_t i = 0; i < img->n_layers; i++)
                if (desc_parse(json_array_get(layers, i), &img->layers[i], err) < 0)
                        goto fail;
        img->cfg = blob_json(s, img->config.digest, err);
        if (img->cfg == NULL)
                goto fail;
        json_t *ids = json_object_get(json_object_get(img->cfg, "rootfs"), "diff_ids");
        if (json_array_size(ids) != img->n_layers) {
                berth_fail(err, EINVAL, "config has %zu diff_ids for %zu layers",
                           json_array_size(ids), img->n_layers);
                goto fail;
        }
        img->diff_ids = berth_xcalloc(img->n_layers ? img->n_layers : 1, sizeof(*img->diff_ids));
        for (size_t i = 0; i < img->n_layers; i++) {
                img->diff_ids[i] = json_string_value(json_array_get(ids, i));
                if (!img_digest_valid(img->diff_ids[i])) {
                        berth_fail(err, EINVAL, "config has an invalid diff_id");
                        goto fail;
                }
        }
        return 0;
fail:
        img_image_free(img);
        return berth_wrap(err, "load image %s", manifest_digest);
}

int64_t img_image_size(const struct img_image *img)
{
        int64_t n = img->config.size;
        for (size_t i = 0; i < img->n_layers; i++)
                n += img->layers[i].size;
        return n;
}

static bool is_hex_id(const char *s)
{
        if (berth_str_has_prefix(s, "sha256:"))
                s += 7;
        size_t n = strlen(s);
        if (n == 0 || n > 64)
                return false;
        for (; *s; s++)
                if (!isxdigit((unsigned char) *s) || isupper((unsigned char) *s))
                        return false;
        return true;
}

/* The config digest (the image ID) of a manifest, or "" if it cannot be read. */
static void manifest_config_digest(struct img_store *s, const char *manifest,
                                   char out[IMG_DIGEST_MAX])
{
        out[0] = '\0';
        berth_error_t sub = NULL;
        json_t *m = blob_json(s, manifest, &sub);
        berth_error_release(&sub);
        const char *d = json_string_value(json_object_get(json_object_get(m, "config"), "digest"));
        if (img_digest_valid(d))
                snprintf(out, IMG_DIGEST_MAX, "%s", d);
        json_decref(m);
}

int img_lookup(struct img_store *s, struct img_table *t, const char *what, struct img_entry **out,
               berth_error_t *err)
{
        *out = NULL;
        cleanup_free char *name = NULL;
        berth_error_t sub = NULL;
        if (img_ref_normalize(what, &name, &sub) == 0) {
                char *at = strchr(name, '@');
                for (size_t i = 0; i < t->n; i++) {
                        if (at) {
                                if (strcmp(t->v[i].manifest, at + 1) == 0) {
                                        *out = &t->v[i];
                                        return 0;
                                }
                                continue;
                        }
                        for (size_t j = 0; j < t->v[i].n_names; j++) {
                                if (strcmp(t->v[i].names[j], name) == 0) {
                                        *out = &t->v[i];
                                        return 0;
                                }
                        }
                }
        }
        berth_error_release(&sub);
        if (is_hex_id(what)) {
                const char *hex = berth_str_has_prefix(what, "sha256:") ? what + 7 : what;
                size_t n = strlen(hex);
                /* a whole manifest digest (how build and the engine name images) is one
                 * entry: found without reading every manifest for its config */
                for (size_t i = 0; n == 64 && i < t->n; i++)
                        if (strcmp(t->v[i].manifest + 7, hex) == 0) {
                                *out = &t->v[i];
                                return 0;
                        }
                char first_cfg[IMG_DIGEST_MAX] = "";
                for (size_t i = 0; i < t->n; i++) {
                        char cfg[IMG_DIGEST_MAX];
                        manifest_config_digest(s, t->v[i].manifest, cfg);
                        bool hit = (cfg[0] && strncmp(cfg + 7, hex, n) == 0) ||
                                   (n == 64 && strcmp(t->v[i].manifest + 7, hex) == 0);
                        if (!hit)
                                continue;
                        /* manifests of one config are one image ID: prefer a named one */
                        if (*out) {
                                if (strcmp(cfg, first_cfg) != 0)
                                        return berth_fail(err, EINVAL,
                                                          "image ID `%s` is ambiguous: more than "
                                                          "one image matches",
                                                          what);
                                if ((*out)->n_names > 0 || t->v[i].n_names == 0)
                                        continue;
                        }
                        memcpy(first_cfg, cfg, IMG_DIGEST_MAX);
                        *out = &t->v[i];
                }
                if (*out)
                        return 0;
        }
        /* dockerd names a missing name with its default tag: "x" is "x:latest" */
        const char *slash = strrchr(what, '/');
        bool bare = strchr(slash ? slash : what, ':') == NULL && strchr(what, '@') == NULL;
        return berth_fail_status(err, 1, 0, "No such image: %s%s", what, bare ? ":latest" : "");
}

int img_manifest_commit(struct img_store *s, const struct img_desc *config,
                        const struct img_desc *layers, size_t n_layers, const char *const *names,
                        size_t n_names, char out[IMG_DIGEST_MAX], berth_error_t *err)
{
        json_t *ls = json_array();
        for (size_t i = 0; i < n_layers; i++)
                json_array_append_new(ls,
                                      json_pack("{s:s, s:s, s:I}", "mediaType",
                                                layers[i].media_type, "digest", layers[i].digest,
                                                "size", (json_int_t) layers[i].size));
        json_t *m =
                json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType",
                          IMG_MT_OCI_MANIFEST, "config", "mediaType", IMG_MT_OCI_CONFIG, "digest",
                          config->digest, "size", (json_int_t) config->size, "layers", ls);
        cleanup_free char *m_text = json_dumps(m, JSON_COMPACT);
        json_decref(m);
        char m_digest[IMG_DIGEST_MAX];
        if (img_blob_put(s, m_text, strlen(m_text), NULL, m_digest, err) < 0)
                return berth_wrap(err, "store image manifest");
        if (img_table_add(s, m_digest, IMG_MT_OCI_MANIFEST, (int64_t) strlen(m_text), names,
                          n_names, err) < 0)
                return berth_wrap(err, "add image %s to the table", m_digest);
        if (out)
                memcpy(out, m_digest, IMG_DIGEST_MAX);
        return 0;
}

int img_image_commit(struct img_store *s, json_t *cfg, const struct img_desc *layers,
                     size_t n_layers, const char *const *names, size_t n_names,
                     char out[IMG_DIGEST_MAX], berth_error_t *err)
{
        cleanup_free char *cfg_text = json_dumps(cfg, JSON_COMPACT);
        struct img_desc config = {.size = (int64_t) strlen(cfg_text)};
        if (img_blob_put(s, cfg_text, strlen(cfg_text), NULL, config.digest, err) < 0)
                return berth_wrap(err, "store image config");
        return img_manifest_commit(s, &config, layers, n_layers, names, n_names, out, err);
}
