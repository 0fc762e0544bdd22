/* images.c — the Engine API's image endpoints that read or rename what is in the store: list,
 * inspect, history, tag, remove, prune.  Transfers (pull, push, save, load, import) are in
 * images_xfer.c.  Both are thin over src/image, as the CLI's image commands are. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/containers.h"
#include "api/images.h"
#include "common/units.h"
#include "common/util.h"
#include "engine/container.h"

int api_img_open(struct api_req *r, struct img_store *s, struct img_table *t)
{
        berth_error_t err = NULL;
        if (img_store_open(s, r->paths->data_dir, &err) < 0) {
                api_reply_berth_error(r, &err);
                return -1;
        }
        if (t && img_table_load(s, t, &err) < 0) {
                img_store_close(s);
                api_reply_berth_error(r, &err);
                return -1;
        }
        return 0;
}

void api_img_no_such(struct api_req *r, const char *what)
{
        /* dockerd names a missing image as a full reference: "busybox" is busybox:latest */
        char *name = NULL;
        berth_error_t err = NULL;
        if (img_ref_normalize(what, &name, &err) < 0)
                berth_error_release(&err);
        api_reply_error(r, 404, "No such image: %s", name ? name : what);
        free(name);
}

int api_img_find(struct api_req *r, struct img_store *s, struct img_table *t, const char *what,
                 struct img_entry **e, struct img_image *img)
{
        berth_error_t err = NULL;
        if (img_lookup(s, t, what, e, &err) < 0) {
                if (api_status_of(err) == 404) {
                        berth_error_release(&err);
                        api_img_no_such(r, what);
                } else {
                        api_reply_berth_error(r, &err);
                }
                return -1;
        }
        if (img_image_load(s, (*e)->manifest, img, &err) < 0) {
                api_reply_berth_error(r, &err);
                return -1;
        }
        return 0;
}

/* Config.Labels has every label filter: "key" (present) or "key=value". */
static bool labels_match(json_t *labels, json_t *want)
{
        size_t i;
        json_t *v;
        json_array_foreach(want, i, v)
        {
                const char *f = json_string_value(v);
                const char *eq = strchr(f, '=');
                cleanup_free char *key =
                        eq ? berth_xasprintf("%.*s", (int) (eq - f), f) : berth_xstrdup(f);
                json_t *have = json_object_get(labels, key);
                if (!have ||
                    (eq && (!json_is_string(have) || strcmp(json_string_value(have), eq + 1) != 0)))
                        return false;
        }
        return true;
}

static json_t *cfg_labels(const struct img_image *img)
{
        json_t *l = json_object_get(json_object_get(img->cfg, "config"), "Labels");
        return json_is_object(l) ? l : NULL;
}

/* The creation time of the image a before/since filter names; -1 (reply queued) if none. */
static int64_t filter_time(struct api_req *r, struct img_store *s, struct img_table *t,
                           json_t *filters, const char *key, bool *set)
{
        const char *what = json_string_value(json_array_get(json_object_get(filters, key), 0));
        *set = what != NULL;
        if (!what)
                return 0;
        struct img_entry *e;
        struct img_image img;
        if (api_img_find(r, s, t, what, &e, &img) < 0)
                return -1;
        int64_t c = img_created_sec(&img);
        img_image_free(&img);
        return c;
}

static int by_created_desc(const void *a, const void *b)
{
        json_int_t x = json_integer_value(json_object_get(*(json_t *const *) a, "Created"));
        json_int_t y = json_integer_value(json_object_get(*(json_t *const *) b, "Created"));
        return x < y ? 1 : x > y ? -1 : 0;
}

/* The row of GET /images/json for one image, or NULL when the filters leave it out. */
static json_t *list_row(const struct img_entry *e, const struct img_image *img, json_t *filters)
{
        json_t *dangling = json_object_get(filters, "dangling");
        json_t *refs = json_object_get(filters, "reference");
        if (json_array_size(dangling)) {
                bool want = strcmp(json_string_value(json_array_get(dangling, 0)), "true") == 0 ||
                            strcmp(json_string_value(json_array_get(dangling, 0)), "1") == 0;
                if (want != (e->n_names == 0))
                        return NULL;
        }
        if (json_array_size(json_object_get(filters, "label")) &&
            !labels_match(cfg_labels(img), json_object_get(filters, "label")))
                return NULL;
        json_t *tags = json_array();
        for (size_t i = 0; i < e->n_names; i++) {
                bool ok = json_array_size(refs) == 0;
                size_t k;
                json_t *p;
                json_array_foreach(refs, k, p)
                {
                        ok |= img_ref_matches(json_string_value(p), e->names[i]);
                }
                if (ok)
                        json_array_append_new(tags, json_string(e->names[i]));
        }
        if (json_array_size(refs) && json_array_size(tags) == 0) {
                json_decref(tags);
                return NULL;
        }
        json_t *digests = img_repo_digests(e, img->manifest_digest);
        /* API 1.41 names a dangling image <none>, as dockerd 20.10 */
        if (e->n_names == 0) {
                json_array_append_new(tags, json_string("<none>:<none>"));
                json_array_append_new(digests, json_string("<none>@<none>"));
        }
        json_t *labels = cfg_labels(img);
        json_int_t size = (json_int_t) img_image_size(img);
        return json_pack("{s:i, s:I, s:s, s:O, s:s, s:o, s:o, s:i, s:I, s:I}", "Containers", -1,
                         "Created", (json_int_t) img_created_sec(img), "Id", img->config.digest,
                         "Labels", labels ? labels : json_null(), "ParentId", "", "RepoDigests",
                         digests, "RepoTags", tags, "SharedSize", -1, "Size", size, "VirtualSize",
                         size);
}

static void images_list(struct api_req *r)
{
        json_t *filters = api_filters(r);
        if (!filters)
                return;
        struct img_store s;
        struct img_table t;
        if (api_img_open(r, &s, &t) < 0) {
                json_decref(filters);
                return;
        }
        bool has_before, has_since;
        int64_t before = filter_time(r, &s, &t, filters, "before", &has_before);
        int64_t since = before < 0 ? -1 : filter_time(r, &s, &t, filters, "since", &has_since);
        json_t *rows = json_array();
        json_t *seen = json_object();
        for (size_t i = 0; since >= 0 && i < t.n; i++) {
                struct img_image img;
                berth_error_t err = NULL;
                if (img_image_load(&s, t.v[i].manifest, &img, &err) < 0) {
                        berth_error_release(&err);
                        continue;
                }
                int64_t c = img_created_sec(&img);
                /* one row per image ID, as dockerd keys images by their config */
                json_t *row = NULL;
                if (!json_object_get(seen, img.config.digest) && (!has_before || c < before) &&
                    (!has_since || c > since))
                        row = list_row(&t.v[i], &img, filters);
                if (row) {
                        json_object_set_new(seen, img.config.digest, json_true());
                        json_array_append_new(rows, row);
                }
                img_image_free(&img);
        }
        json_decref(seen);
        img_table_free(&t);
        img_store_close(&s);
        json_decref(filters);
        if (since < 0) {
                json_decref(rows);
                return;
        }
        berth_json_array_sort(rows, by_created_desc);
        api_reply_json(r, 200, rows);
}

/* The store open and the image the route's {name} names loaded. */
struct found {
        struct img_store s;
        struct img_table t;
        struct img_entry *e;
        struct img_image img;
};

/* false with the reply queued (and nothing left open) when there is no such image. */
static bool find_param(struct api_req *r, struct found *f)
{
        if (api_img_open(r, &f->s, &f->t) < 0)
                return false;
        if (api_img_find(r, &f->s, &f->t, r->params[0], &f->e, &f->img) == 0)
                return true;
        img_table_free(&f->t);
        img_store_close(&f->s);
        return false;
}

static void found_free(struct found *f)
{
        img_image_free(&f->img);
        img_table_free(&f->t);
        img_store_close(&f->s);
}

static void image_inspect(struct api_req *r)
{
        struct found f;
        if (find_param(r, &f)) {
                json_t *doc = img_inspect_json(f.e, &f.img);
                /* what dockerd 20.10 adds beside the document `berth image inspect` prints */
                json_object_set(doc, "VirtualSize", json_object_get(doc, "Size"));
                json_object_set_new(doc, "Container", json_string(""));
                json_object_set_new(doc, "GraphDriver",
                                    json_pack("{s:n, s:s}", "Data", "Name", "overlay2"));
                json_object_set_new(doc, "Metadata",
                                    json_pack("{s:s}", "LastTagTime", "0001-01-01T00:00:00Z"));
                api_reply_json(r, 200, doc);
                found_free(&f);
        }
}

static void image_history(struct api_req *r)
{
        struct found f;
        if (find_param(r, &f)) {
                json_t *steps = img_history(&f.img);
                json_t *out = json_array();
                size_t i;
                json_t *h;
                json_array_foreach(steps, i, h)
                {
                        json_t *tags = json_null();
                        if (i == 0) {
                                tags = json_array();
                                for (size_t k = 0; k < f.e->n_names; k++)
                                        json_array_append_new(tags, json_string(f.e->names[k]));
                        }
                        json_array_append_new(
                                out,
                                json_pack("{s:s, s:s, s:I, s:O, s:O, s:o}", "Comment",
                                          json_string_value(json_object_get(h, "Comment")), "Id",
                                          i == 0 ? f.img.config.digest : "<missing>", "Created",
                                          (json_int_t) img_time_sec(json_string_value(
                                                  json_object_get(h, "CreatedAt"))),
                                          "CreatedBy", json_object_get(h, "CreatedBy"), "Size",
                                          json_object_get(h, "Size"), "Tags", tags));
                }
                json_decref(steps);
                api_reply_json(r, 200, out);
                found_free(&f);
        }
}

static void image_tag(struct api_req *r)
{
        const char *repo = api_query(r, "repo");
        const char *tag = api_query(r, "tag");
        if (!repo || !*repo) {
                api_reply_error(r, 400, "repository name must have at least one component");
                return;
        }
        cleanup_free char *want =
                berth_xasprintf("%s%s%s", repo, tag && *tag ? ":" : "", tag && *tag ? tag : "");
        cleanup_free char *target = NULL;
        berth_error_t err = NULL;
        if (img_ref_normalize(want, &target, &err) < 0) {
                berth_error_release(&err);
                api_reply_error(r, 400, "invalid reference format");
                return;
        }
        if (strchr(target, '@')) {
                api_reply_error(r, 400, "refusing to create a tag with a digest reference");
                return;
        }
        struct found f;
        if (find_param(r, &f)) {
                if (img_tag(&f.s, r->params[0], target, &err) < 0)
                        api_reply_berth_error(r, &err);
                else
                        api_reply_empty(r, 201);
                found_free(&f);
        }
}

/* The first container made from image id, and whether it runs (NULL: none). */
static char *image_user(struct api_req *r, const char *id, bool *running)
{
        struct eng_ctx ec;
        berth_error_t err = NULL;
        struct eng_container **v = NULL;
        size_t n = 0;
        char *found = NULL;
        if (eng_ctx_init(&ec, r->paths, &err) < 0) {
                berth_error_release(&err);
                return NULL;
        }
        if (eng_container_list(&ec, &v, &n, &err) < 0)
                berth_error_release(&err);
        for (size_t i = 0; i < n && !found; i++) {
                const char *img = json_string_value(json_object_get(v[i]->doc, "Image"));
                if (img && strcmp(img, id) == 0) {
                        found = berth_xstrdup(v[i]->id);
                        const char *st = eng_container_status(v[i]);
                        *running = st && eng_status_live(st);
                }
        }
        eng_container_list_free(v, n);
        eng_ctx_free(&ec);
        return found;
}

/* dockerd's refusals for an image a container uses; true when one was queued. */
static bool in_use_conflict(struct api_req *r, const struct img_entry *e,
                            const struct img_image *img, bool force)
{
        cleanup_free char *name = img_named_by(e, r->params[0]);
        /* a name among several only loses that name: no container minds */
        if (name && e->n_names > 1)
                return false;
        bool running = false;
        cleanup_free char *user = image_user(r, img->config.digest, &running);
        if (!user)
                return false;
        const char *hex = img_digest_hex(img->config.digest);
        if (name && !force) {
                api_reply_error(r, 409,
                                "conflict: unable to remove repository reference \"%s\" (must "
                                "force) - container %.12s is using its referenced image %.12s",
                                r->params[0], user, hex);
                return true;
        }
        if (!name && (!force || running)) {
                api_reply_error(r, 409,
                                "conflict: unable to delete %.12s (%s) - image is being used by "
                                "%s container %.12s",
                                hex, running ? "cannot be forced" : "must be forced",
                                running ? "running" : "stopped", user);
                return true;
        }
        return false;
}

static void add_report(void *ctx, const char *kind, const char *value)
{
        json_array_append_new(ctx, json_pack("{s:s}", kind, value));
}

static void image_delete(struct api_req *r)
{
        bool force = api_query_bool(r, "force", false);
        struct found f;
        if (!find_param(r, &f))
                return;
        bool refused = in_use_conflict(r, f.e, &f.img, force);
        img_image_free(&f.img);
        img_table_free(&f.t);
        if (refused) {
                img_store_close(&f.s);
                return;
        }
        char **pins = NULL;
        size_t n_pins = 0;
        berth_error_t err = NULL;
        json_t *out = json_array();
        if (img_snapshots_images(&f.s, &pins, &n_pins, &err) < 0 ||
            img_remove(&f.s, r->params[0], force, pins, n_pins, add_report, out, &err) < 0) {
                json_decref(out);
                api_reply_berth_error(r, &err);
        } else {
                api_reply_json(r, 200, out);
                struct img_gc_stats st;
                if (img_gc(&f.s, &st, &err) < 0)
                        berth_error_release(&err);
        }
        for (size_t i = 0; i < n_pins; i++)
                free(pins[i]);
        free(pins);
        img_store_close(&f.s);
}

struct prune_filter {
        json_t *labels;
        bool has_until;
        int64_t until;
};

static bool prune_keep(void *ctx, const struct img_entry *e, const struct img_image *img)
{
        (void) e;
        const struct prune_filter *f = ctx;
        if (f->has_until && (!img || img_created_sec(img) >= f->until))
                return false;
        if (json_array_size(f->labels) && (!img || !labels_match(cfg_labels(img), f->labels)))
                return false;
        return true;
}

static void images_prune(struct api_req *r)
{
        json_t *filters = api_filters(r);
        if (!filters)
                return;
        json_t *dangling = json_array_get(json_object_get(filters, "dangling"), 0);
        bool all = dangling && (strcmp(json_string_value(dangling), "false") == 0 ||
                                strcmp(json_string_value(dangling), "0") == 0);
        struct prune_filter f = {.labels = json_object_get(filters, "label")};
        const char *until = json_string_value(json_array_get(json_object_get(filters, "until"), 0));
        berth_error_t err = NULL;
        if (until) {
                struct timespec now;
                clock_gettime(CLOCK_REALTIME, &now);
                int64_t ns;
                if (berth_parse_timestamp(until, "until", &now, &ns, &err) < 0) {
                        berth_error_release(&err);
                        api_reply_error(r, 400, "invalid filter 'until=%s'", until);
                        json_decref(filters);
                        return;
                }
                f.has_until = true;
                f.until = ns / 1000000000LL;
        }
        struct img_store s;
        if (api_img_open(r, &s, NULL) < 0) {
                json_decref(filters);
                return;
        }
        json_t *deleted = json_array();
        struct img_gc_stats st = {0};
        if (img_prune(&s, all, prune_keep, &f, add_report, deleted, &err) < 0 ||
            img_gc(&s, &st, &err) < 0) {
                json_decref(deleted);
                api_reply_berth_error(r, &err);
        } else {
                /* dockerd: null, not [], when nothing went */
                if (json_array_size(deleted) == 0) {
                        json_decref(deleted);
                        deleted = json_null();
                }
                api_reply_json(r, 200,
                               json_pack("{s:o, s:I}", "ImagesDeleted", deleted, "SpaceReclaimed",
                                         (json_int_t) st.bytes));
        }
        img_store_close(&s);
        json_decref(filters);
}

const struct api_route api_routes_images[] = {
        {"GET", "/images/json", images_list, 0},
        {"POST", "/images/prune", images_prune, 0},
        {"POST", "/images/create", api_images_create, API_BODY_FILE},
        {"POST", "/commit", api_commit, 0},
        {"POST", "/images/load", api_images_load, API_BODY_FILE},
        {"GET", "/images/get", api_images_get, 0},
        {"GET", "/images/{*}/get", api_images_get, 0},
        {"GET", "/images/{*}/json", image_inspect, 0},
        {"GET", "/images/{*}/history", image_history, 0},
        {"POST", "/images/{*}/tag", image_tag, 0},
        {"POST", "/images/{*}/push", api_images_push, 0},
        {"DELETE", "/images/{*}", image_delete, 0},
        {0},
};
