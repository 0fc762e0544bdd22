/* volumes.c — the Engine API's volume endpoints: list, inspect, create, remove, prune.  Thin
 * over the engine's volumes (engine/volume.h, engine/volume_query.h), the calls
 * `berth volume …` makes. */
#include <string.h>

#include "api/api_internal.h"
#include "api/netvol_reply.h"
#include "engine/container.h"
#include "engine/volume.h"
#include "engine/volume_query.h"

static unsigned vol_status(berth_error_t e, unsigned fallback)
{
        /* the engine's "get NAME: no such volume" */
        if (strstr(api_error_text(e), "no such volume"))
                return 404;
        return api_status_or(e, fallback);
}

static void reply_vol_error(struct api_req *r, berth_error_t *err, unsigned fallback)
{
        api_reply_refusal(r, vol_status(*err, fallback), err);
}

static json_t *null_if_empty(json_t *o)
{
        return json_is_object(o) && json_object_size(o) > 0 ? json_incref(o) : json_null();
}

/* dockerd's Volume: its keys in its order, no labels or options as null. */
static json_t *vol_doc(json_t *v)
{
        json_t *d = json_object();
        json_object_set(d, "CreatedAt", json_object_get(v, "CreatedAt"));
        json_object_set_new(d, "Driver", json_string("local"));
        json_object_set_new(d, "Labels", null_if_empty(json_object_get(v, "Labels")));
        json_object_set(d, "Mountpoint", json_object_get(v, "Mountpoint"));
        json_object_set(d, "Name", json_object_get(v, "Name"));
        json_object_set_new(d, "Options", null_if_empty(json_object_get(v, "Options")));
        json_object_set_new(d, "Scope", json_string("local"));
        return d;
}

/* An engine context for the handler, or false with the error replied.  arg is the request's
 * filters or body the call takes (NULL: it did not parse, its 400 queued), released on failure;
 * none is asked for when want_arg is false. */
static bool with_engine(struct api_req *r, struct eng_ctx *e, json_t *arg, bool want_arg)
{
        if (want_arg && arg == NULL)
                return false;
        berth_error_t err = NULL;
        if (eng_ctx_init(e, r->paths, &err) == 0)
                return true;
        json_decref(arg);
        reply_vol_error(r, &err, 500);
        return false;
}

/* The end of the engine's call: e and arg released, a failure (rc < 0) replied with err;
 * true when the call succeeded. */
static bool engine_done(struct api_req *r, struct eng_ctx *e, json_t *arg, int rc,
                        berth_error_t *err, unsigned fallback)
{
        eng_ctx_free(e);
        json_decref(arg);
        if (rc >= 0)
                return true;
        reply_vol_error(r, err, fallback);
        return false;
}

static void list(struct api_req *r)
{
        json_t *filters = api_filters(r);
        struct eng_ctx e;
        if (!with_engine(r, &e, filters, true))
                return;
        berth_error_t err = NULL;
        json_t *arr = NULL;
        int rc = eng_volume_list_filtered(&e, filters, &arr, &err);
        if (!engine_done(r, &e, filters, rc, &err, 400))
                return;
        json_t *vols = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v)
        {
                json_array_append_new(vols, vol_doc(v));
        }
        json_decref(arr);
        api_reply_json(r, 200, json_pack("{s:o, s:n}", "Volumes", vols, "Warnings"));
}

static void inspect(struct api_req *r)
{
        struct eng_ctx e;
        if (!with_engine(r, &e, NULL, false))
                return;
        berth_error_t err = NULL;
        json_t *v = NULL;
        int rc = eng_volume_get(&e, r->params[0], &v, &err);
        if (!engine_done(r, &e, NULL, rc, &err, 500))
                return;
        api_reply_json(r, 200, vol_doc(v));
        json_decref(v);
}

static void create(struct api_req *r)
{
        json_t *req = api_body_json(r, true);
        struct eng_ctx e;
        if (!with_engine(r, &e, req, true))
                return;
        berth_error_t err = NULL;
        json_t *v = NULL;
        int rc = eng_volume_create_request(&e, req, &v, &err);
        if (!engine_done(r, &e, req, rc, &err, 400))
                return;
        api_reply_json(r, 201, vol_doc(v));
        json_decref(v);
}

static void remove_volume(struct api_req *r)
{
        struct eng_ctx e;
        if (!with_engine(r, &e, NULL, false))
                return;
        berth_error_t err = NULL;
        int rc = eng_volume_remove(&e, r->params[0], api_query_bool(r, "force", false), &err);
        if (engine_done(r, &e, NULL, rc, &err, 500))
                api_reply_empty(r, 204);
}

static void prune(struct api_req *r)
{
        json_t *filters = api_filters(r);
        struct eng_ctx e;
        if (!with_engine(r, &e, filters, true))
                return;
        berth_error_t err = NULL;
        json_t *removed = NULL;
        uint64_t reclaimed = 0;
        /* before API 1.42 dockerd prunes named volumes too; from then on only with all=true */
        int rc = eng_volume_prune(&e, filters, r->version < 142, &removed, &reclaimed, &err);
        if (!engine_done(r, &e, filters, rc, &err, 400))
                return;
        api_reply_json(r, 200,
                       json_pack("{s:o, s:I}", "VolumesDeleted", api_nil_slice(removed),
                                 "SpaceReclaimed", (json_int_t) reclaimed));
}

const struct api_route api_routes_volumes[] = {
        {"GET", "/volumes", list, 0},
        {"POST", "/volumes/create", create, 0},
        {"POST", "/volumes/prune", prune, 0},
        {"GET", "/volumes/{}", inspect, 0},
        {"DELETE", "/volumes/{}", remove_volume, 0},
        {0},
};
