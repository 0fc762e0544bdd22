/* update.c — changing a container's limits after create (see update.h). */
#include "engine/update.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "engine/lifecycle.h"
#include "engine/spec.h"
#include "oci/oci.h"

static json_int_t ival(json_t *o, const char *k)
{
        return json_integer_value(json_object_get(o, k));
}

/* Docker's checks of an update against what the container has (moby's UpdateContainer). */
static int check(json_t *hc, json_t *ch, berth_error_t *err)
{
        static const char *const ints[] = {"Memory",    "MemorySwap", "MemoryReservation",
                                           "CpuShares", "CpuQuota",   "CpuPeriod",
                                           "NanoCpus",  "PidsLimit"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(ints); i++) {
                json_t *v = json_object_get(ch, ints[i]);
                if (v && !json_is_null(v) && !json_is_integer(v))
                        return berth_fail(err, EINVAL,
                                          "json: cannot unmarshal %s into Go struct field "
                                          "UpdateConfig.%s of type int64",
                                          json_is_string(v) ? "string" : "value", ints[i]);
        }
        json_int_t nano = ival(ch, "NanoCpus"), period = ival(ch, "CpuPeriod");
        json_int_t quota = ival(ch, "CpuQuota"), mem = ival(ch, "Memory");
        json_int_t swap = ival(ch, "MemorySwap");
        if (nano > 0 && ival(hc, "CpuPeriod") > 0)
                return berth_fail(err, EINVAL,
                                  "Conflicting options: Nano CPUs cannot be updated as CPU Period "
                                  "has already been set");
        if (nano > 0 && ival(hc, "CpuQuota") > 0)
                return berth_fail(err, EINVAL,
                                  "Conflicting options: Nano CPUs cannot be updated as CPU Quota "
                                  "has already been set");
        if (period > 0 && ival(hc, "NanoCpus") > 0)
                return berth_fail(err, EINVAL,
                                  "Conflicting options: CPU Period cannot be updated as NanoCPUs "
                                  "has already been set");
        if (quota > 0 && ival(hc, "NanoCpus") > 0)
                return berth_fail(err, EINVAL,
                                  "Conflicting options: CPU Quota cannot be updated as NanoCPUs "
                                  "has already been set");
        if (mem != 0 && mem < 6 * 1024 * 1024)
                return berth_fail(err, EINVAL, "Minimum memory limit allowed is 6MB");
        json_int_t old_swap = ival(hc, "MemorySwap");
        if (mem > 0 && swap == 0 && old_swap > 0 && mem > old_swap)
                return berth_fail(err, EBUSY,
                                  "Memory limit should be smaller than already set memoryswap "
                                  "limit, update the memoryswap at the same time");
        json_int_t new_mem = mem ? mem : ival(hc, "Memory");
        if (swap > 0 && new_mem > 0 && swap < new_mem)
                return berth_fail(err, EINVAL,
                                  "Minimum memoryswap limit should be larger than memory limit, "
                                  "see usage");
        if (swap != 0 && new_mem <= 0)
                return berth_fail(err, EINVAL,
                                  "You should always set the Memory limit when using Memoryswap "
                                  "limit, see usage");
        json_t *rp = json_object_get(ch, "RestartPolicy");
        const char *name = json_string_value(json_object_get(rp, "Name"));
        if (name && *name) {
                if (strcmp(name, "no") != 0 && strcmp(name, "always") != 0 &&
                    strcmp(name, "on-failure") != 0 && strcmp(name, "unless-stopped") != 0)
                        return berth_fail(err, EINVAL, "invalid restart policy '%s'", name);
                if (strcmp(name, "no") != 0 && json_is_true(json_object_get(hc, "AutoRemove")))
                        return berth_fail(err, EINVAL,
                                          "Restart policy cannot be updated because AutoRemove "
                                          "is enabled for the container");
        }
        return 0;
}

/* The bundle's linux.resources follow the record, so that the next start has them too. */
static int update_bundle(struct eng_container *c, json_t *res, berth_error_t *err)
{
        cleanup_free char *path = berth_path_join(c->run_dir, "config.json");
        json_error_t je;
        json_t *spec = berth_json_load_file(path, &je);
        if (spec == NULL)
                return 0; /* no bundle (a reboot emptied /run): the next start makes one */
        json_t *lx = json_object_get(spec, "linux");
        int r = 0;
        if (json_is_object(lx)) {
                json_t *old = json_object_get(lx, "resources");
                if (!json_is_object(old))
                        json_object_set_new(lx, "resources", old = json_object());
                const char *k;
                json_t *v;
                json_object_foreach(res, k, v)
                {
                        json_t *o = json_object_get(old, k);
                        if (json_is_object(o) && json_is_object(v))
                                json_object_update(o, v);
                        else
                                json_object_set(old, k, v);
                }
                cleanup_free char *text = json_dumps(spec, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
                r = text ? berth_write_file_replace(path, text, strlen(text), 0600, err)
                         : berth_fail(err, ENOMEM, "serialize config.json");
        }
        json_decref(spec);
        return r;
}

int eng_container_update(struct eng_ctx *e, struct eng_container *c, json_t *changes,
                         berth_error_t *err)
{
        if (eng_reconcile(e, c, err) < 0 || eng_container_lock(c, err) < 0)
                return -1;
        json_t *hc = json_object_get(c->doc, "HostConfig");
        if (!json_is_object(hc))
                json_object_set_new(c->doc, "HostConfig", hc = json_object());
        int r = check(hc, changes, err);
        if (r < 0) {
                eng_container_unlock(c);
                return -1;
        }
        static const char *const nonzero[] = {"Memory",    "MemorySwap", "MemoryReservation",
                                              "CpuShares", "CpuQuota",   "CpuPeriod",
                                              "NanoCpus"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(nonzero); i++)
                if (ival(changes, nonzero[i]) != 0)
                        json_object_set_new(hc, nonzero[i],
                                            json_integer(ival(changes, nonzero[i])));
        static const char *const strs[] = {"CpusetCpus", "CpusetMems"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(strs); i++) {
                const char *s = json_string_value(json_object_get(changes, strs[i]));
                if (s && *s)
                        json_object_set_new(hc, strs[i], json_string(s));
        }
        json_t *pids = json_object_get(changes, "PidsLimit");
        /* 0 and -1 lift the limit; Docker shows none then */
        if (json_is_integer(pids))
                json_object_set_new(hc, "PidsLimit",
                                    json_integer_value(pids) > 0
                                            ? json_integer(json_integer_value(pids))
                                            : json_null());
        json_t *rp = json_object_get(changes, "RestartPolicy");
        const char *name = json_string_value(json_object_get(rp, "Name"));
        if (name && *name)
                json_object_set_new(hc, "RestartPolicy",
                                    json_pack("{s:s, s:I}", "Name", name, "MaximumRetryCount",
                                              ival(rp, "MaximumRetryCount")));
        json_t *res = eng_spec_resources(hc);
        if (json_is_integer(pids) && json_integer_value(pids) <= 0)
                json_object_set_new(res, "pids", json_pack("{s:i}", "limit", -1));
        r = eng_container_save(c, err);
        if (r == 0)
                r = update_bundle(c, res, err);
        const char *st = eng_container_status(c);
        if (r == 0 && (strcmp(st, "running") == 0 || strcmp(st, "paused") == 0)) {
                cleanup_free char *text = json_dumps(res, JSON_COMPACT);
                struct oci_ctx oci = {.root = e->oci_root};
                if (oci_update(&oci, c->id, text, NULL, err) < 0)
                        r = berth_wrap(err, "Cannot update container %s", c->id);
        }
        json_decref(res);
        eng_container_unlock(c);
        return r;
}
