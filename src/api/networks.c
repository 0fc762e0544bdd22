/* networks.c — the Engine API's network endpoints: list, inspect, create, remove, prune,
 * connect and disconnect.  Thin over src/net (network.h, network_query.h) and the engine's
 * attachments (engine/network.h), the calls `berth network …` makes. */
#include <string.h>

#include "api/api_internal.h"
#include "api/netvol_reply.h"
#include "common/log.h"
#include "engine/container.h"
#include "engine/network.h"
#include "net/network.h"
#include "net/network_query.h"

/* dockerd's codes for libnetwork's refusals (its Forbidden errors), then the usual ones. */
static unsigned net_status(berth_error_t e, unsigned fallback)
{
        static const char *const forbidden[] = {
                "Pool overlaps",     "pre-defined network",  "on predefined",
                "only one instance", "has active endpoints", "already exists in network",
        };
        const char *m = api_error_text(e);
        for (size_t i = 0; i < sizeof(forbidden) / sizeof(*forbidden); i++)
                if (strstr(m, forbidden[i]))
                        return 403;
        /* dockerd words it as a plain error */
        if (strstr(m, "is not connected to network"))
                return 500;
        return api_status_or(e, fallback);
}

static void reply_net_error(struct api_req *r, berth_error_t *err, unsigned fallback)
{
        api_reply_refusal(r, net_status(*err, fallback), err);
}

/* What containers killed with -9 left (endpoints, resolvers' records) goes before anything
 * counts a network's users, as `berth network` does. */
static void gc_quietly(const struct berth_paths *paths)
{
        struct eng_ctx e;
        berth_error_t err = NULL;
        if (eng_ctx_init(&e, paths, &err) == 0) {
                eng_net_gc(&e, &err);
                eng_ctx_free(&e);
        }
        if (err)
                log_debug("network garbage collection: %s", berth_error_msg(err));
        berth_error_release(&err);
}

/* A network context for the handler, or false with the error replied; arg (the filters or
 * body the call takes) is released then. */
static bool with_net(struct api_req *r, struct net_ctx *n, json_t *arg)
{
        berth_error_t err = NULL;
        if (net_ctx_init(n, r->paths, &err) == 0)
                return true;
        json_decref(arg);
        reply_net_error(r, &err, 500);
        return false;
}

/* The end of the network call: n and arg released, a failure (rc < 0) replied with err;
 * true when the call succeeded. */
static bool net_done(struct api_req *r, struct net_ctx *n, json_t *arg, int rc, berth_error_t *err,
                     unsigned fallback)
{
        net_ctx_free(n);
        json_decref(arg);
        if (rc >= 0)
                return true;
        reply_net_error(r, err, fallback);
        return false;
}

/* GET /networks: the list form has no containers (API ≥ 1.28), as dockerd's. */
static void list(struct api_req *r)
{
        json_t *filters = api_filters(r);
        if (filters == NULL)
                return;
        struct net_ctx n;
        if (!with_net(r, &n, filters))
                return;
        berth_error_t err = NULL;
        json_t *arr = NULL;
        int rc = net_network_list_filtered(&n, filters, &arr, &err);
        if (!net_done(r, &n, filters, rc, &err, 400))
                return;
        size_t i;
        json_t *doc;
        json_array_foreach(arr, i, doc)
        {
                json_object_set_new(doc, "Containers", json_object());
        }
        api_reply_json(r, 200, arr);
}

static void inspect(struct api_req *r)
{
        const char *scope = api_query(r, "scope");
        struct net_ctx n;
        gc_quietly(r->paths);
        if (!with_net(r, &n, NULL))
                return;
        berth_error_t err = NULL;
        json_t *doc = NULL;
        int rc = net_network_inspect(&n, r->params[0], &doc, &err);
        if (!net_done(r, &n, NULL, rc, &err, 500))
                return;
        /* every network of berth's is local: asked for another scope, dockerd finds none */
        const char *have = json_string_value(json_object_get(doc, "Scope"));
        if (scope && *scope && strcmp(scope, have ? have : "local") != 0) {
                json_decref(doc);
                api_reply_error(r, 404, "network %s not found", r->params[0]);
                return;
        }
        api_reply_json(r, 200, doc);
}

static void create(struct api_req *r)
{
        json_t *req = api_body_json(r, false);
        if (req == NULL)
                return;
        struct net_ctx n;
        if (!with_net(r, &n, req))
                return;
        berth_error_t err = NULL;
        json_t *doc = NULL;
        int rc = net_network_create_request(&n, req, &doc, &err);
        if (!net_done(r, &n, req, rc, &err, 400))
                return;
        api_reply_json(r, 201,
                       json_pack("{s:O, s:s}", "Id", json_object_get(doc, "Id"), "Warning", ""));
        json_decref(doc);
}

static void remove_network(struct api_req *r)
{
        struct net_ctx n;
        gc_quietly(r->paths);
        if (!with_net(r, &n, NULL))
                return;
        berth_error_t err = NULL;
        int rc = net_network_remove(&n, r->params[0], &err);
        if (net_done(r, &n, NULL, rc, &err, 500))
                api_reply_empty(r, 204);
}

static void prune(struct api_req *r)
{
        json_t *filters = api_filters(r);
        if (filters == NULL)
                return;
        json_t *args = net_filters_as_args(filters), *removed = NULL;
        json_decref(filters);
        struct net_ctx n;
        berth_error_t err = NULL;
        gc_quietly(r->paths);
        int rc = net_ctx_init(&n, r->paths, &err);
        if (rc == 0) {
                rc = net_network_prune_idle(&n, args, &removed, &err);
                net_ctx_free(&n);
        }
        json_decref(args);
        if (rc < 0) {
                reply_net_error(r, &err, 400);
                return;
        }
        /* dockerd's list is null when nothing went */
        api_reply_json(r, 200, json_pack("{s:o}", "NetworksDeleted", api_nil_slice(removed)));
}

/* The endpoint configuration the engine takes, from the client's: aliases, links and the
 * addresses asked for, strings only (anything else is ignored, as berth does not use it). */
static json_t *endpoint_config(json_t *in)
{
        json_t *out = json_object();
        json_t *aliases = json_object_get(in, "Aliases");
        size_t i;
        json_t *a;
        if (json_is_array(aliases)) {
                json_t *list = json_array();
                json_array_foreach(aliases, i, a)
                {
                        if (json_is_string(a) && *json_string_value(a))
                                json_array_append(list, a);
                }
                json_object_set_new(out, "Aliases", list);
        }
        /* Links ("NAME[:ALIAS]"): `network connect --link`'s, checked by the engine */
        json_t *links = json_object_get(in, "Links");
        if (json_array_size(links) > 0) {
                json_t *list = json_array();
                json_array_foreach(links, i, a)
                {
                        if (json_is_string(a))
                                json_array_append(list, a);
                }
                json_object_set_new(out, "Links", list);
        }
        json_t *ipam = json_object_get(in, "IPAMConfig");
        json_t *ip4 = json_object_get(ipam, "IPv4Address"),
               *ip6 = json_object_get(ipam, "IPv6Address");
        bool has4 = json_is_string(ip4) && *json_string_value(ip4);
        bool has6 = json_is_string(ip6) && *json_string_value(ip6);
        if (has4 || has6) {
                json_t *o = json_object();
                if (has4)
                        json_object_set(o, "IPv4Address", ip4);
                if (has6)
                        json_object_set(o, "IPv6Address", ip6);
                json_object_set_new(out, "IPAMConfig", o);
        }
        return out;
}

/* POST /networks/{id}/connect and …/disconnect: {"Container": …, "EndpointConfig"|"Force"}. */
static void attach_op(struct api_req *r, bool connect)
{
        json_t *req = api_body_json(r, false);
        if (req == NULL)
                return;
        const char *container = json_string_value(json_object_get(req, "Container"));
        if (container == NULL || *container == '\0') {
                json_decref(req);
                api_reply_error(r, 400, "a container name or ID is required");
                return;
        }
        struct eng_ctx e;
        berth_error_t err = NULL;
        int rc = eng_ctx_init(&e, r->paths, &err);
        if (rc == 0 && connect) {
                json_t *epcfg = endpoint_config(json_object_get(req, "EndpointConfig"));
                rc = eng_net_connect(&e, r->params[0], container, epcfg, &err);
                json_decref(epcfg);
        } else if (rc == 0) {
                bool force = json_is_true(json_object_get(req, "Force"));
                rc = eng_net_disconnect(&e, r->params[0], container, force, &err);
        }
        if (e.data_dir)
                eng_ctx_free(&e);
        json_decref(req);
        if (rc < 0)
                reply_net_error(r, &err, 400);
        else
                api_reply_empty(r, 200);
}

static void connect_container(struct api_req *r)
{
        attach_op(r, true);
}

static void disconnect_container(struct api_req *r)
{
        attach_op(r, false);
}

const struct api_route api_routes_networks[] = {
        {"GET", "/networks", list, 0},
        {"POST", "/networks/create", create, 0},
        {"POST", "/networks/prune", prune, 0},
        {"GET", "/networks/{}", inspect, 0},
        {"DELETE", "/networks/{}", remove_network, 0},
        {"POST", "/networks/{}/connect", connect_container, 0},
        {"POST", "/networks/{}/disconnect", disconnect_container, 0},
        {0},
};
