/* describe.c — what the front-ends show of an image: the inspect document, the history steps
 * with the layer each one made, its creation time, and which names a filter or an argument
 * picks.  The CLI formats these for people, the Engine API sends them as dockerd would. */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/units.h"
#include "common/util.h"
#include "image/image.h"

int64_t img_time_sec(const char *rfc3339)
{
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int64_t ns = 0;
        if (rfc3339 == NULL || berth_parse_timestamp(rfc3339, "time", &now, &ns, NULL) < 0)
                return 0;
        return ns / 1000000000LL;
}

int64_t img_created_sec(const struct img_image *img)
{
        return img_time_sec(json_string_value(json_object_get(img->cfg, "created")));
}

static const char *cfg_str(json_t *cfg, const char *key)
{
        const char *v = json_string_value(json_object_get(cfg, key));
        return v ? v : "";
}

json_t *img_repo_digests(const struct img_entry *e, const char *manifest_digest)
{
        json_t *digests = json_array();
        for (size_t i = 0; e && i < e->n_names; i++) {
                char *repo, *tag;
                img_ref_split(e->names[i], &repo, &tag);
                char *rd = berth_xasprintf("%s@%s", repo, manifest_digest);
                bool dup = false;
                size_t j;
                json_t *x;
                json_array_foreach(digests, j, x)
                {
                        dup |= strcmp(json_string_value(x), rd) == 0;
                }
                if (!dup)
                        json_array_append_new(digests, json_string(rd));
                free(rd);
                free(repo);
                free(tag);
        }
        return digests;
}

json_t *img_inspect_json(const struct img_entry *e, const struct img_image *img)
{
        json_t *tags = json_array();
        for (size_t i = 0; e && i < e->n_names; i++)
                json_array_append_new(tags, json_string(e->names[i]));
        json_t *digests = img_repo_digests(e, img->manifest_digest);
        json_t *cfg = img->cfg;
        json_t *layers = json_array();
        for (size_t i = 0; i < img->n_layers; i++)
                json_array_append_new(layers, json_string(img->diff_ids[i]));
        const char *comment = "";
        json_t *hist = json_object_get(cfg, "history");
        if (json_array_size(hist)) {
                const char *c = json_string_value(json_object_get(
                        json_array_get(hist, json_array_size(hist) - 1), "comment"));
                if (c)
                        comment = c;
        }
        json_t *config = json_object_get(cfg, "config");
        return json_pack(
                "{s:s, s:o, s:o, s:s, s:s, s:s, s:s, s:s, s:O, s:s, s:s, s:I, s:{s:s, s:o}, "
                "s:{s:s, s:s, s:I}}",
                "Id", img->config.digest, "RepoTags", tags, "RepoDigests", digests, "Parent", "",
                "Comment", comment, "Created", cfg_str(cfg, "created"), "DockerVersion", "",
                "Author", cfg_str(cfg, "author"), "Config", config ? config : json_null(),
                "Architecture", cfg_str(cfg, "architecture"), "Os", cfg_str(cfg, "os"), "Size",
                (json_int_t) img_image_size(img), "RootFS", "Type", "layers", "Layers", layers,
                "Descriptor", "mediaType", e ? e->manifest_media_type : IMG_MT_OCI_MANIFEST,
                "digest", img->manifest_digest, "size", (json_int_t) (e ? e->manifest_size : 0));
}

json_t *img_history(const struct img_image *img)
{
        json_t *hist = json_object_get(img->cfg, "history");
        json_t *steps = json_array();
        /* each history step that is not an empty layer owns the next layer */
        size_t layer = 0;
        size_t i;
        json_t *h;
        json_array_foreach(hist, i, h)
        {
                int64_t size = 0;
                if (!json_is_true(json_object_get(h, "empty_layer")) && layer < img->n_layers)
                        size = img->layers[layer++].size;
                json_array_append_new(steps,
                                      json_pack("{s:O, s:I}", "h", h, "size", (json_int_t) size));
        }
        /* layers no step accounts for (an image made without history) */
        for (; layer < img->n_layers; layer++)
                json_array_append_new(steps, json_pack("{s:{}, s:I}", "h", "size",
                                                       (json_int_t) img->layers[layer].size));
        json_t *out = json_array();
        for (size_t k = json_array_size(steps); k-- > 0;) {
                json_t *st = json_array_get(steps, k);
                json_t *sh = json_object_get(st, "h");
                const char *created = json_string_value(json_object_get(sh, "created"));
                const char *by = json_string_value(json_object_get(sh, "created_by"));
                const char *comment = json_string_value(json_object_get(sh, "comment"));
                json_t *row =
                        json_pack("{s:s, s:s, s:O, s:s}", "CreatedBy", by ? by : "", "Comment",
                                  comment ? comment : "", "Size", json_object_get(st, "size"),
                                  "CreatedAt", created ? created : "");
                json_array_append_new(out, row);
        }
        json_decref(steps);
        return out;
}

bool img_ref_matches(const char *pattern, const char *name)
{
        if (name == NULL)
                return false;
        char *repo, *tag;
        img_ref_split(name, &repo, &tag);
        bool m = fnmatch(pattern, repo, 0) == 0 || fnmatch(pattern, name, 0) == 0;
        free(repo);
        free(tag);
        return m;
}

char *img_named_by(const struct img_entry *e, const char *what)
{
        char *name = NULL;
        berth_error_t sub = NULL;
        if (img_ref_normalize(what, &name, &sub) < 0 || strchr(name, '@')) {
                berth_error_release(&sub);
                free(name);
                return NULL;
        }
        for (size_t i = 0; i < e->n_names; i++)
                if (strcmp(e->names[i], name) == 0)
                        return name;
        free(name);
        return NULL;
}
