/* network_query.c — filters, inspect documents, create requests and prune for front-ends
 * (network_query.h). */
#include "net/network_query.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "net/sandbox.h"

static const char *str_of(json_t *o, const char *key)
{
        return json_string_value(json_object_get(o, key));
}

static bool is_true(const char *v)
{
        return strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
}

int net_network_filters_check(json_t *filters, berth_error_t *err)
{
        static const char *const keys[] = {"name", "id",       "driver", "label",
                                           "type", "dangling", "scope"};
        const char *k;
        json_t *vals;
        json_object_foreach(filters, k, vals)
        {
                bool known = false;
                for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++)
                        known = known || strcmp(k, keys[i]) == 0;
                if (!known)
                        return berth_fail_status(err, 1, 0, "invalid filter '%s'", k);
                if (!json_is_array(vals))
                        return berth_fail_status(err, 1, 0, "invalid filter '%s'", k);
                size_t i;
                json_t *jv;
                json_array_foreach(vals, i, jv)
                {
                        const char *v = json_string_value(jv);
                        if (v == NULL)
                                return berth_fail_status(err, 1, 0, "invalid filter '%s'", k);
                        if (strcmp(k, "type") == 0 && strcmp(v, "custom") != 0 &&
                            strcmp(v, "builtin") != 0)
                                return berth_fail_status(err, 1, 0, "invalid filter: 'type'='%s'",
                                                         v);
                        if (strcmp(k, "dangling") == 0 && !is_true(v) && strcmp(v, "false") != 0 &&
                            strcmp(v, "0") != 0)
                                return berth_fail_status(err, 1, 0, "invalid filter 'dangling=%s'",
                                                         v);
                }
        }
        return 0;
}

static bool label_match(json_t *labels, const char *want)
{
        const char *eq = strchr(want, '=');
        cleanup_free char *k =
                eq ? berth_xasprintf("%.*s", (int) (eq - want), want) : berth_xstrdup(want);
        const char *v = str_of(labels, k);
        return v && (eq == NULL || strcmp(v, eq + 1) == 0);
}

static bool one_match(struct net_ctx *n, json_t *doc, const char *key, const char *v)
{
        const char *name = str_of(doc, "Name");
        const char *id = str_of(doc, "Id");
        if (name == NULL || id == NULL)
                return false;
        if (strcmp(key, "name") == 0)
                return strstr(name, v) != NULL;
        if (strcmp(key, "id") == 0)
                return strstr(id, v) != NULL;
        if (strcmp(key, "driver") == 0)
                return strcmp(str_of(doc, "Driver") ? str_of(doc, "Driver") : "", v) == 0;
        if (strcmp(key, "scope") == 0)
                return strcmp(str_of(doc, "Scope") ? str_of(doc, "Scope") : "", v) == 0;
        if (strcmp(key, "label") == 0)
                return label_match(json_object_get(doc, "Labels"), v);
        if (strcmp(key, "type") == 0)
                return net_network_predefined(name) == (strcmp(v, "builtin") == 0);
        /* dangling: custom networks no container uses */
        bool dangling = !net_network_predefined(name) && !net_network_in_use(n, id);
        return dangling == is_true(v);
}

bool net_network_filters_match(struct net_ctx *n, json_t *doc, json_t *filters)
{
        const char *key;
        json_t *vals;
        json_object_foreach(filters, key, vals)
        {
                bool any = false;
                size_t i;
                json_t *v;
                json_array_foreach(vals, i, v)
                {
                        const char *s = json_string_value(v);
                        any = any || (s && one_match(n, doc, key, s));
                }
                if (!any)
                        return false;
        }
        return true;
}

int net_network_list_filtered(struct net_ctx *n, json_t *filters, json_t **arr, berth_error_t *err)
{
        json_t *all;
        if (net_network_filters_check(filters, err) < 0 || net_network_list(n, &all, err) < 0)
                return -1;
        json_t *out = json_array();
        size_t i;
        json_t *doc;
        json_array_foreach(all, i, doc)
        {
                if (net_network_filters_match(n, doc, filters))
                        json_array_append(out, doc);
        }
        json_decref(all);
        *arr = out;
        return 0;
}

int net_network_inspect(struct net_ctx *n, const char *name_or_id, json_t **doc, berth_error_t *err)
{
        json_t *d, *eps = NULL;
        if (net_network_get(n, name_or_id, &d, err) < 0)
                return -1;
        berth_error_t eerr = NULL;
        /* a network without live state has no containers: not an error */
        if (net_network_endpoints(n, str_of(d, "Id"), &eps, &eerr) < 0 || !json_is_object(eps)) {
                berth_error_release(&eerr);
                json_decref(eps);
                eps = json_object();
        }
        json_object_set_new(d, "Containers", eps);
        *doc = d;
        return 0;
}

/* An object whose values are all strings (Labels, Options), or absent/null. */
static int string_map(json_t *req, const char *key, json_t **out, berth_error_t *err)
{
        json_t *o = json_object_get(req, key);
        *out = NULL;
        if (o == NULL || json_is_null(o))
                return 0;
        const char *k;
        json_t *v;
        if (!json_is_object(o))
                return berth_fail_status(err, 1, 0, "%s: an object of strings expected", key);
        json_object_foreach(o, k, v)
        {
                if (!json_is_string(v))
                        return berth_fail_status(err, 1, 0, "%s: the value of %s is not a string",
                                                 key, k);
        }
        *out = o;
        return 0;
}

static int opt_string(json_t *obj, const char *key, const char **out, berth_error_t *err)
{
        json_t *v = json_object_get(obj, key);
        *out = NULL;
        if (v == NULL || json_is_null(v))
                return 0;
        if (!json_is_string(v))
                return berth_fail_status(err, 1, 0, "%s: a string expected", key);
        *out = *json_string_value(v) ? json_string_value(v) : NULL;
        return 0;
}

static int opt_bool(json_t *obj, const char *key, bool *out, berth_error_t *err)
{
        json_t *v = json_object_get(obj, key);
        *out = false;
        if (v == NULL || json_is_null(v))
                return 0;
        if (!json_is_boolean(v))
                return berth_fail_status(err, 1, 0, "%s: a boolean expected", key);
        *out = json_is_true(v);
        return 0;
}

/* IPAM.Config: one IPv4 and one IPv6 pool, each with its gateway (and IPv4 range). */
static int ipam_into(json_t *ipam, struct net_create_opts *o, berth_error_t *err)
{
        const char *driver;
        if (ipam == NULL || json_is_null(ipam))
                return 0;
        if (!json_is_object(ipam))
                return berth_fail_status(err, 1, 0, "IPAM: an object expected");
        if (opt_string(ipam, "Driver", &driver, err) < 0)
                return -1;
        if (driver && strcmp(driver, "default") != 0)
                return berth_fail_status(err, 1, 0, "plugin \"%s\" not found", driver);
        json_t *config = json_object_get(ipam, "Config");
        if (config && !json_is_null(config) && !json_is_array(config))
                return berth_fail_status(err, 1, 0, "IPAM.Config: an array expected");
        size_t i;
        json_t *c;
        json_array_foreach(config, i, c)
        {
                const char *subnet, *gateway, *range;
                if (!json_is_object(c) || opt_string(c, "Subnet", &subnet, err) < 0 ||
                    opt_string(c, "Gateway", &gateway, err) < 0 ||
                    opt_string(c, "IPRange", &range, err) < 0)
                        return berth_fail_status(err, 1, 0, "IPAM.Config: bad entry");
                const char *fam = subnet ? subnet : gateway ? gateway : range;
                if (fam == NULL)
                        continue;
                bool v6 = strchr(fam, ':') != NULL;
                if (v6 ? (o->subnet6 || o->gateway6) : (o->subnet || o->gateway || o->ip_range))
                        return berth_fail_status(err, 1, 0,
                                                 "one IPv4 and one IPv6 subnet per network");
                if (v6 && range)
                        return berth_fail_status(err, 1, 0, "an IPv6 ip-range is not supported: %s",
                                                 range);
                if (v6) {
                        o->subnet6 = subnet;
                        o->gateway6 = gateway;
                } else {
                        o->subnet = subnet;
                        o->gateway = gateway;
                        o->ip_range = range;
                }
        }
        return 0;
}

int net_network_create_request(struct net_ctx *n, json_t *req, json_t **doc, berth_error_t *err)
{
        struct net_create_opts o = {0};
        bool ingress, config_only;
        if (!json_is_object(req))
                return berth_fail_status(err, 1, 0, "a JSON object expected");
        if (opt_string(req, "Name", &o.name, err) < 0 ||
            opt_string(req, "Driver", &o.driver, err) < 0 ||
            opt_bool(req, "Internal", &o.internal, err) < 0 ||
            opt_bool(req, "Attachable", &o.attachable, err) < 0 ||
            opt_bool(req, "EnableIPv6", &o.ipv6, err) < 0 ||
            opt_bool(req, "Ingress", &ingress, err) < 0 ||
            opt_bool(req, "ConfigOnly", &config_only, err) < 0 ||
            string_map(req, "Labels", &o.labels, err) < 0 ||
            string_map(req, "Options", &o.options, err) < 0 ||
            ipam_into(json_object_get(req, "IPAM"), &o, err) < 0)
                return -1;
        if (ingress || config_only)
                return berth_fail_status(err, 1, 0,
                                         "ingress and config-only networks are not supported");
        return net_network_create(n, &o, doc, err);
}

int net_network_prune_idle(struct net_ctx *n, json_t *filters, json_t **removed, berth_error_t *err)
{
        if (net_network_prune(n, filters, removed, err) < 0)
                return -1;
        /* rootless: the default network has no bridge or table, and user networks' are inside
         * the rootless network namespace, which net_network_prune removed when idle */
        if (!n->rootless)
                net_host_cleanup_if_idle(n, NULL);
        return 0;
}

json_t *net_filters_as_args(json_t *filters)
{
        json_t *out = json_array();
        const char *k;
        json_t *vals;
        json_object_foreach(filters, k, vals)
        {
                size_t i;
                json_t *v;
                json_array_foreach(vals, i, v)
                {
                        const char *s = json_string_value(v);
                        cleanup_free char *kv = berth_xasprintf("%s=%s", k, s ? s : "");
                        json_array_append_new(out, json_string(kv));
                }
        }
        return out;
}
