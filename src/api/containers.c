/* containers.c — the Engine API's container endpoints: the route table, GET /containers/json
 * (dockerd's list rows) and GET /containers/{id}/json (the document `berth inspect` prints).
 * Create is in containers_create.c, the verbs in containers_ops.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/containers.h"
#include "common/units.h"
#include "common/util.h"
#include "engine/lifecycle.h"
#include "engine/rootfs.h"
#include "engine/view.h"

struct eng_container *api_container_find(struct api_req *r, struct eng_ctx *e, const char *what,
                                         bool reconcile)
{
        berth_error_t err = NULL;
        if (eng_ctx_init(e, r->paths, &err) < 0) {
                api_reply_berth_error(r, &err);
                return NULL;
        }
        struct eng_container *c = NULL;
        if (eng_container_find(e, what, &c, &err) < 0) {
                api_reply_berth_error(r, &err);
                eng_ctx_free(e);
                return NULL;
        }
        if (reconcile)
                eng_reconcile(e, c, NULL);
        return c;
}

struct eng_container *api_container(struct api_req *r, struct eng_ctx *e)
{
        return api_container_find(r, e, r->params[0], true);
}

void api_container_done(struct eng_container *c, struct eng_ctx *e)
{
        eng_container_free(c);
        eng_ctx_free(e);
}

static int containers_list(struct api_req *r, bool brief, struct eng_ctx *e,
                           struct eng_container ***v, size_t *n)
{
        berth_error_t err = NULL;
        if (eng_ctx_init(e, r->paths, &err) < 0) {
                api_reply_berth_error(r, &err);
                return -1;
        }
        if ((brief ? eng_list_reconciled_brief(e, v, n, &err)
                   : eng_list_reconciled(e, v, n, &err)) < 0) {
                eng_ctx_free(e);
                api_reply_berth_error(r, &err);
                return -1;
        }
        return 0;
}

int api_containers(struct api_req *r, struct eng_ctx *e, struct eng_container ***v, size_t *n)
{
        return containers_list(r, false, e, v, n);
}

static const char *sval(json_t *o, const char *k)
{
        const char *s = json_string_value(json_object_get(o, k));
        return s ? s : "";
}

/* NetworkSettings.Ports → [{IP, PrivatePort, PublicPort, Type}], IP and PublicPort left out
 * when unbound (Go's omitempty). */
static json_t *ports(json_t *settings)
{
        json_t *out = json_array();
        const char *key;
        json_t *list;
        json_object_foreach(json_object_get(settings, "Ports"), key, list)
        {
                long priv = strtol(key, NULL, 10);
                const char *slash = strchr(key, '/');
                const char *proto = slash ? slash + 1 : "tcp";
                if (json_array_size(list) == 0) {
                        json_array_append_new(out, json_pack("{s:i, s:s}", "PrivatePort",
                                                             (int) priv, "Type", proto));
                        continue;
                }
                size_t i;
                json_t *b;
                json_array_foreach(list, i, b)
                {
                        json_t *p = json_object();
                        const char *ip = sval(b, "HostIp");
                        long pub = strtol(sval(b, "HostPort"), NULL, 10);
                        if (*ip)
                                json_object_set_new(p, "IP", json_string(ip));
                        json_object_set_new(p, "PrivatePort", json_integer(priv));
                        if (pub > 0)
                                json_object_set_new(p, "PublicPort", json_integer(pub));
                        json_object_set_new(p, "Type", json_string(proto));
                        json_array_append_new(out, p);
                }
        }
        return out;
}

static json_int_t created_sec(json_t *doc, const struct timespec *now)
{
        int64_t ns = 0;
        const char *t = sval(doc, "Created");
        if (!*t || berth_parse_timestamp(t, "created", now, &ns, NULL) < 0)
                return 0;
        return (json_int_t) (ns / 1000000000LL);
}

static void add_sizes(json_t *o, struct eng_ctx *e, struct eng_container *c)
{
        berth_error_t err = NULL;
        if (eng_container_full(c, &err) < 0) /* GraphDriver is not in the summary */
                berth_error_release(&err);
        uint64_t rw = eng_rootfs_size(e, c);
        json_object_set_new(o, "SizeRw", json_integer((json_int_t) rw));
        /* the merged tree: the image's layers as this container sees them, plus its own */
        const char *merged =
                sval(json_object_get(json_object_get(c->doc, "GraphDriver"), "Data"), "MergedDir");
        uint64_t total = *merged ? berth_du(merged) : 0;
        if (total < rw)
                total = rw;
        json_object_set_new(o, "SizeRootFs", json_integer((json_int_t) total));
}

static json_t *list_row(struct eng_ctx *e, struct eng_container *c, bool size,
                        const struct timespec *now)
{
        json_t *doc = c->doc;
        json_t *cfg = json_object_get(doc, "Config");
        json_t *ns = json_object_get(doc, "NetworkSettings");
        json_t *labels = json_object_get(cfg, "Labels");
        json_t *nets = json_object_get(ns, "Networks");
        json_t *mounts = json_object_get(doc, "Mounts");
        const char *image = sval(cfg, "Image");
        char *cmd = eng_command_line(doc);
        char *status = eng_status_text(c, now);
        char *name = berth_xasprintf("/%s", eng_container_name(c));
        json_t *row = json_pack(
                "{s:s, s:[s], s:s, s:s, s:s, s:I, s:o, s:o, s:s, s:s, s:{s:s}, s:{s:o}, s:o}", "Id",
                c->id, "Names", name, "Image", *image ? image : sval(doc, "Image"), "ImageID",
                sval(doc, "Image"), "Command", cmd, "Created", created_sec(doc, now), "Ports",
                ports(ns), "Labels", json_is_object(labels) ? json_incref(labels) : json_object(),
                "State", eng_container_status(c), "Status", status, "HostConfig", "NetworkMode",
                sval(json_object_get(doc, "HostConfig"), "NetworkMode"), "NetworkSettings",
                "Networks", json_is_object(nets) ? json_incref(nets) : json_object(), "Mounts",
                json_is_array(mounts) ? json_incref(mounts) : json_array());
        free(cmd);
        free(status);
        free(name);
        if (row && size)
                add_sizes(row, e, c);
        return row;
}

/* The filters query as `ps --filter` reads them; false with a 400 queued when one is bad. */
static bool list_filters(struct api_req *r, struct eng_ps_filter **f)
{
        json_t *q = api_filters(r);
        if (q == NULL)
                return false;
        const char *k;
        json_t *vals;
        json_object_foreach(q, k, vals)
        {
                size_t i;
                json_t *v;
                json_array_foreach(vals, i, v)
                {
                        cleanup_free char *kv = berth_xasprintf("%s=%s", k, json_string_value(v));
                        berth_error_t err = NULL;
                        if (eng_ps_filter_add(f, kv, &err) < 0) {
                                api_reply_error(r, 400, "%s", api_error_text(err));
                                berth_error_release(&err);
                                json_decref(q);
                                return false;
                        }
                }
        }
        json_decref(q);
        return true;
}

static void list(struct api_req *r)
{
        struct eng_ps_filter *filter = NULL;
        if (!list_filters(r, &filter))
                return;
        bool all = api_query_bool(r, "all", false) || eng_ps_filter_wants_all(filter);
        bool size = api_query_bool(r, "size", false);
        long long limit = api_query_int(r, "limit", -1);
        struct eng_ctx e;
        struct eng_container **v = NULL;
        size_t n = 0;
        if (containers_list(r, true, &e, &v, &n) < 0) { /* from the summaries */
                eng_ps_filter_free(filter);
                return;
        }
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        json_t *rows = json_array();
        for (size_t i = 0; i < n; i++) {
                /* a limit lists the last ones created, whatever their state (`ps -n`) */
                if (!all && limit <= 0 && !eng_status_live(eng_container_status(v[i])))
                        continue;
                if (filter && !eng_ps_filter_match(filter, &e, v[i]))
                        continue;
                if (limit > 0 && (long long) json_array_size(rows) >= limit)
                        break;
                json_array_append_new(rows, list_row(&e, v[i], size, &now));
                eng_container_free(v[i]); /* done with it: its memory serves the next one */
                v[i] = NULL;
        }
        eng_container_list_free(v, n);
        eng_ctx_free(&e);
        eng_ps_filter_free(filter);
        api_reply_json(r, 200, rows);
}

static void inspect(struct api_req *r)
{
        struct eng_ctx e;
        struct eng_container *c = api_container(r, &e);
        if (c == NULL)
                return;
        json_t *doc = eng_inspect_doc(c);
        if (api_query_bool(r, "size", false))
                add_sizes(doc, &e, c);
        api_container_done(c, &e);
        api_reply_json(r, 200, doc);
}

const struct api_route api_routes_containers[] = {
        {"POST", "/containers/create", api_container_create, 0},
        {"GET", "/containers/json", list, 0},
        {"POST", "/containers/prune", api_container_prune, 0},
        {"GET", "/containers/{}/json", inspect, 0},
        {"GET", "/containers/{}/top", api_container_top, 0},
        {"GET", "/containers/{}/changes", api_container_changes, 0},
        {"POST", "/containers/{}/stop", api_container_stop, 0},
        {"POST", "/containers/{}/restart", api_container_restart, 0},
        {"POST", "/containers/{}/kill", api_container_kill, 0},
        {"POST", "/containers/{}/pause", api_container_pause, 0},
        {"POST", "/containers/{}/unpause", api_container_unpause, 0},
        {"POST", "/containers/{}/rename", api_container_rename, 0},
        {"POST", "/containers/{}/update", api_container_update, 0},
        {"DELETE", "/containers/{}", api_container_delete, 0},
        {0},
};
