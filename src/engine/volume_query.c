/* volume_query.c — volume filters, prune and create requests (volume_query.h). */
#include "engine/volume_query.h"

#include <string.h>

#include "common/util.h"
#include "engine/volume.h"

static const char *str_of(json_t *o, const char *key)
{
        return json_string_value(json_object_get(o, key));
}

static bool is_true(const char *v)
{
        return strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
}

static bool is_bool(const char *v)
{
        return is_true(v) || strcmp(v, "false") == 0 || strcmp(v, "0") == 0;
}

/* Every value of filters is a string, every key one of keys. */
static int check_keys(json_t *filters, const char *const *keys, size_t nkeys, berth_error_t *err)
{
        const char *k;
        json_t *vals;
        json_object_foreach(filters, k, vals)
        {
                bool known = false;
                for (size_t i = 0; i < nkeys; i++)
                        known = known || strcmp(k, keys[i]) == 0;
                if (!known || !json_is_array(vals))
                        return berth_fail_status(err, 1, 0, "invalid filter '%s'", k);
                size_t i;
                json_t *v;
                json_array_foreach(vals, i, v)
                {
                        const char *s = json_string_value(v);
                        if (s == NULL)
                                return berth_fail_status(err, 1, 0, "invalid filter '%s'", k);
                        if ((strcmp(k, "dangling") == 0 || strcmp(k, "all") == 0) && !is_bool(s))
                                return berth_fail_status(err, 1, 0, "invalid filter '%s=%s'", k, s);
                }
        }
        return 0;
}

int eng_volume_filters_check(json_t *filters, berth_error_t *err)
{
        static const char *const keys[] = {"name", "driver", "label", "dangling"};
        return check_keys(filters, keys, BERTH_ARRAY_SIZE(keys), err);
}

static bool label_has(json_t *labels, const char *want)
{
        const char *eq = strchr(want, '=');
        cleanup_free char *k =
                eq ? berth_xasprintf("%.*s", (int) (eq - want), want) : berth_xstrdup(want);
        const char *v = str_of(labels, k);
        return v && (eq == NULL || strcmp(v, eq + 1) == 0);
}

static bool in_use(struct eng_ctx *e, const char *name)
{
        json_t *users = eng_volume_users(e, name);
        bool used = json_array_size(users) > 0;
        json_decref(users);
        return used;
}

static bool vol_match(struct eng_ctx *e, json_t *v, json_t *filters)
{
        const char *name = str_of(v, "Name");
        const char *driver = str_of(v, "Driver");
        const char *k;
        json_t *vals;
        json_object_foreach(filters, k, vals)
        {
                bool any = false, all = true;
                size_t i;
                json_t *jv;
                json_array_foreach(vals, i, jv)
                {
                        const char *s = json_string_value(jv);
                        bool m;
                        if (strcmp(k, "name") == 0)
                                m = strstr(name, s) != NULL;
                        else if (strcmp(k, "driver") == 0)
                                m = strcmp(driver ? driver : "local", s) == 0;
                        else if (strcmp(k, "label") == 0)
                                m = label_has(json_object_get(v, "Labels"), s);
                        else if (strcmp(k, "label!") == 0)
                                m = !label_has(json_object_get(v, "Labels"), s);
                        else if (strcmp(k, "dangling") == 0)
                                m = in_use(e, name) != is_true(s);
                        else
                                m = true; /* all: prune's, not a property of the volume */
                        any = any || m;
                        all = all && m;
                }
                /* labels all have to be there, as dockerd's; other keys are alternatives */
                if (strncmp(k, "label", 5) == 0 ? !all : !any)
                        return false;
        }
        return true;
}

int eng_volume_list_filtered(struct eng_ctx *e, json_t *filters, json_t **out, berth_error_t *err)
{
        json_t *all;
        if (eng_volume_filters_check(filters, err) < 0 || eng_volume_list(e, &all, err) < 0)
                return -1;
        json_t *arr = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(all, i, v)
        {
                if (str_of(v, "Name") && vol_match(e, v, filters))
                        json_array_append(arr, v);
        }
        json_decref(all);
        *out = arr;
        return 0;
}

int eng_volume_prune(struct eng_ctx *e, json_t *filters, bool all, json_t **removed,
                     uint64_t *reclaimed, berth_error_t *err)
{
        static const char *const keys[] = {"label", "label!", "all"};
        json_t *vols;
        if (check_keys(filters, keys, BERTH_ARRAY_SIZE(keys), err) < 0 ||
            eng_volume_list(e, &vols, err) < 0)
                return -1;
        json_t *all_f = json_array_get(json_object_get(filters, "all"), 0);
        if (all_f)
                all = is_true(json_string_value(all_f));
        *removed = json_array();
        *reclaimed = 0;
        size_t i;
        json_t *v;
        json_array_foreach(vols, i, v)
        {
                const char *name = str_of(v, "Name");
                /* Docker ≥ 23 (API 1.42): without all, only anonymous volumes go */
                bool anonymous =
                        name && strlen(name) == 64 && strspn(name, "0123456789abcdef") == 64;
                if (name == NULL || (!all && !anonymous) || !vol_match(e, v, filters))
                        continue;
                const char *mp = str_of(v, "Mountpoint");
                uint64_t size = mp ? berth_du(mp) : 0;
                berth_error_t rerr = NULL;
                if (eng_volume_remove(e, name, false, &rerr) == 0) {
                        json_array_append_new(*removed, json_string(name));
                        *reclaimed += size;
                }
                berth_error_release(&rerr);
        }
        json_decref(vols);
        return 0;
}

int eng_volume_create_request(struct eng_ctx *e, json_t *req, json_t **out, berth_error_t *err)
{
        if (!json_is_object(req))
                return berth_fail_status(err, 125, 0, "a JSON object expected");
        json_t *jname = json_object_get(req, "Name"), *jdriver = json_object_get(req, "Driver");
        json_t *labels = json_object_get(req, "Labels"), *opts = json_object_get(req, "DriverOpts");
        if ((jname && !json_is_null(jname) && !json_is_string(jname)) ||
            (jdriver && !json_is_null(jdriver) && !json_is_string(jdriver)) ||
            (labels && !json_is_null(labels) && !json_is_object(labels)) ||
            (opts && !json_is_null(opts) && !json_is_object(opts)))
                return berth_fail_status(err, 125, 0, "invalid volume create request");
        const char *k;
        json_t *v;
        json_object_foreach(labels, k, v)
        {
                if (!json_is_string(v))
                        return berth_fail_status(err, 125, 0,
                                                 "invalid volume create request: label %s", k);
        }
        const char *name = json_string_value(jname), *driver = json_string_value(jdriver);
        if (driver && *driver && strcmp(driver, "local") != 0)
                return berth_fail_status(err, 125, 0,
                                         "error looking up volume plugin %s: plugin \"%s\" not "
                                         "found",
                                         driver, driver);
        return eng_volume_create(e, name && *name ? name : NULL,
                                 json_is_object(labels) ? labels : NULL,
                                 json_is_object(opts) ? opts : NULL, out, err);
}
