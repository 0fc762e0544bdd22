/* containers_create.c — POST /containers/create: the body (Docker's Config with HostConfig and
 * NetworkingConfig) read into the run flags `berth create` builds from its argv, then
 * eng_create as the CLI calls it.
 *
 * The docker CLI sends every field, zero values included; docker-py and compose send a few.
 * Both are laid over the defaults of a flagless `berth create` (so the engine sees what it
 * always sees), then the zero values dockerd reads as "the default" are normalised the way its
 * daemon does, and its checks made with its messages. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/containers.h"
#include "common/util.h"
#include "engine/create.h"
#include "engine/runflags.h"
#include "image/image.h"

/* The JSON type of fields whose flagless default is null (others take their default's). */
struct field_type {
        const char *name;
        json_type type;
};

static const struct field_type null_defaults[] = {
        {"Env", JSON_ARRAY},           {"Cmd", JSON_ARRAY},          {"Entrypoint", JSON_ARRAY},
        {"OnBuild", JSON_ARRAY},       {"Shell", JSON_ARRAY},        {"Volumes", JSON_OBJECT},
        {"ExposedPorts", JSON_OBJECT}, {"Healthcheck", JSON_OBJECT}, {"StopSignal", JSON_STRING},
        {"StopTimeout", JSON_INTEGER}, {"MacAddress", JSON_STRING},  {"Binds", JSON_ARRAY},
        {"VolumesFrom", JSON_ARRAY},   {"CapAdd", JSON_ARRAY},       {"CapDrop", JSON_ARRAY},
        {"Dns", JSON_ARRAY},           {"DnsOptions", JSON_ARRAY},   {"DnsSearch", JSON_ARRAY},
        {"ExtraHosts", JSON_ARRAY},    {"GroupAdd", JSON_ARRAY},     {"Links", JSON_ARRAY},
        {"SecurityOpt", JSON_ARRAY},   {"StorageOpt", JSON_OBJECT},  {"Sysctls", JSON_OBJECT},
        {"CgroupParent", JSON_STRING}, {"Devices", JSON_ARRAY},      {"PidsLimit", JSON_INTEGER},
        {"Ulimits", JSON_ARRAY},       {"Tmpfs", JSON_OBJECT},       {"Mounts", JSON_ARRAY},
};

static const char *type_name(json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "object";
        case JSON_ARRAY:
                return "array";
        case JSON_STRING:
                return "string";
        case JSON_INTEGER:
        case JSON_REAL:
                return "number";
        case JSON_TRUE:
        case JSON_FALSE:
                return "bool";
        default:
                return "null";
        }
}

static bool same_type(json_type want, json_t *v)
{
        json_type got = json_typeof(v);
        if (want == JSON_TRUE || want == JSON_FALSE)
                return got == JSON_TRUE || got == JSON_FALSE;
        return want == got;
}

/* Lays src's fields over dst (the defaults), refusing a field of the wrong type as Go's JSON
 * decoder does.  A null keeps the default.  Cmd and Entrypoint may be a string (Docker's
 * StrSlice). */
static int overlay(json_t *dst, json_t *src, const char *where, const char *const *skip,
                   berth_error_t *err)
{
        const char *k;
        json_t *v;
        json_object_foreach(src, k, v)
        {
                bool skipped = false;
                for (size_t i = 0; skip && skip[i]; i++)
                        skipped |= strcmp(skip[i], k) == 0;
                if (skipped || json_is_null(v))
                        continue;
                if ((strcmp(k, "Cmd") == 0 || strcmp(k, "Entrypoint") == 0) && json_is_string(v)) {
                        json_object_set_new(dst, k, json_pack("[O]", v));
                        continue;
                }
                json_t *def = json_object_get(dst, k);
                json_type want = def && !json_is_null(def) ? json_typeof(def) : JSON_NULL;
                for (size_t i = 0; want == JSON_NULL && i < BERTH_ARRAY_SIZE(null_defaults); i++)
                        if (strcmp(null_defaults[i].name, k) == 0)
                                want = null_defaults[i].type;
                if (want != JSON_NULL && !same_type(want, v))
                        return berth_fail(err, 0,
                                          "json: cannot unmarshal %s into Go struct field %s.%s",
                                          type_name(v), where, k);
                json_object_set(dst, k, v);
        }
        return 0;
}

static json_int_t ival(json_t *o, const char *k)
{
        return json_integer_value(json_object_get(o, k));
}

static const char *sval(json_t *o, const char *k)
{
        const char *s = json_string_value(json_object_get(o, k));
        return s ? s : "";
}

/* The nested shapes the engine reads (it trusts what its flag parser builds): each field's JSON
 * type.  's' string, 'i' integer, 'b' bool, 'a' array of strings, 'm' object of strings, 'o' any
 * object; null is always allowed, as Go's decoder allows it. */
struct shape {
        const char *name;
        char type;
};

static const struct shape restart_shape[] = {{"Name", 's'}, {"MaximumRetryCount", 'i'}, {0}};
static const struct shape log_shape[] = {{"Type", 's'}, {"Config", 'm'}, {0}};
static const struct shape binding_shape[] = {{"HostIp", 's'}, {"HostPort", 's'}, {0}};
static const struct shape mount_shape[] = {
        {"Type", 's'},        {"Source", 's'},        {"Target", 's'},       {"ReadOnly", 'b'},
        {"BindOptions", 'o'}, {"VolumeOptions", 'o'}, {"TmpfsOptions", 'o'}, {0}};
static const struct shape bind_opt_shape[] = {{"Propagation", 's'}, {"NonRecursive", 'b'}, {0}};
static const struct shape tmpfs_opt_shape[] = {{"SizeBytes", 'i'}, {"Mode", 'i'}, {0}};
static const struct shape volume_opt_shape[] = {{"NoCopy", 'b'}, {"Labels", 'm'}, {0}};
static const struct shape ulimit_shape[] = {{"Name", 's'}, {"Soft", 'i'}, {"Hard", 'i'}, {0}};
static const struct shape device_shape[] = {
        {"PathOnHost", 's'}, {"PathInContainer", 's'}, {"CgroupPermissions", 's'}, {0}};
static const struct shape health_shape[] = {{"Test", 'a'},    {"Interval", 'i'},
                                            {"Timeout", 'i'}, {"StartPeriod", 'i'},
                                            {"Retries", 'i'}, {0}};
static const struct shape endpoint_shape[] = {
        {"Aliases", 'a'}, {"Links", 'a'}, {"MacAddress", 's'}, {"IPAMConfig", 'o'}, {0}};
static const struct shape ipam_shape[] = {
        {"IPv4Address", 's'}, {"IPv6Address", 's'}, {"LinkLocalIPs", 'a'}, {0}};

static bool of_type(json_t *v, char type)
{
        size_t i;
        const char *k;
        json_t *x;
        if (v == NULL || json_is_null(v))
                return true;
        switch (type) {
        case 's':
                return json_is_string(v);
        case 'i':
                return json_is_integer(v);
        case 'b':
                return json_is_boolean(v);
        case 'o':
                return json_is_object(v);
        case 'a':
                if (!json_is_array(v))
                        return false;
                json_array_foreach(v, i, x) if (!json_is_string(x)) return false;
                return true;
        case 'm':
                if (!json_is_object(v))
                        return false;
                json_object_foreach(v, k, x) if (!json_is_string(x)) return false;
                return true;
        }
        return false;
}

static int bad_field(const char *where, const char *k, berth_error_t *err)
{
        return berth_fail(err, 0,
                          "json: cannot unmarshal into Go struct field %s.%s of the "
                          "wrong type",
                          where, k);
}

static int check_obj(json_t *o, const struct shape *sh, const char *where, berth_error_t *err)
{
        if (o == NULL || json_is_null(o))
                return 0;
        if (!json_is_object(o))
                return berth_fail(err, 0, "json: cannot unmarshal %s into Go struct field %s",
                                  type_name(o), where);
        for (; sh->name; sh++)
                if (!of_type(json_object_get(o, sh->name), sh->type))
                        return bad_field(where, sh->name, err);
        return 0;
}

static int check_list(json_t *a, const struct shape *sh, const char *where, berth_error_t *err)
{
        if (a == NULL || json_is_null(a))
                return 0;
        if (!json_is_array(a))
                return bad_field(where, "", err);
        size_t i;
        json_t *x;
        json_array_foreach(a, i, x)
        {
                if (!json_is_object(x))
                        return bad_field(where, "[]", err);
                if (check_obj(x, sh, where, err) < 0)
                        return -1;
        }
        return 0;
}

/* Docker's daemon checks of --mount objects (moby's validateMountConfig, in part). */
static int check_mounts(json_t *mounts, berth_error_t *err)
{
        size_t i;
        json_t *m;
        json_array_foreach(mounts, i, m)
        {
                const char *type = sval(m, "Type");
                if (check_obj(json_object_get(m, "BindOptions"), bind_opt_shape,
                              "HostConfig.Mounts.BindOptions", err) < 0 ||
                    check_obj(json_object_get(m, "TmpfsOptions"), tmpfs_opt_shape,
                              "HostConfig.Mounts.TmpfsOptions", err) < 0 ||
                    check_obj(json_object_get(m, "VolumeOptions"), volume_opt_shape,
                              "HostConfig.Mounts.VolumeOptions", err) < 0)
                        return -1;
                if (strcmp(type, "bind") != 0 && strcmp(type, "volume") != 0 &&
                    strcmp(type, "tmpfs") != 0)
                        return berth_fail(err, 0,
                                          "invalid mount config for type \"%s\": mount type "
                                          "unknown",
                                          type);
                if (!*sval(m, "Target"))
                        return berth_fail(err, 0,
                                          "invalid mount config for type \"%s\": field Target "
                                          "must not be empty",
                                          type);
                if (strcmp(type, "bind") == 0 && !*sval(m, "Source"))
                        return berth_fail(err, 0,
                                          "invalid mount config for type \"bind\": field Source "
                                          "must not be empty");
                if (strcmp(type, "tmpfs") == 0 && *sval(m, "Source"))
                        return berth_fail(err, 0,
                                          "invalid mount config for type \"tmpfs\": field Source "
                                          "must not be specified");
        }
        return 0;
}

static int check_shapes(json_t *cfg, json_t *hc, json_t *net, berth_error_t *err)
{
        static const char *const cfg_lists[] = {"Cmd", "Entrypoint", "Env", "OnBuild", "Shell"};
        static const char *const hc_lists[] = {
                "Binds",       "VolumesFrom", "CapAdd",       "CapDrop",  "Dns",
                "DnsOptions",  "DnsSearch",   "ExtraHosts",   "GroupAdd", "Links",
                "SecurityOpt", "MaskedPaths", "ReadonlyPaths"};
        static const char *const hc_maps[] = {"Tmpfs", "Sysctls", "StorageOpt"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(cfg_lists); i++)
                if (!of_type(json_object_get(cfg, cfg_lists[i]), 'a'))
                        return bad_field("Config", cfg_lists[i], err);
        if (!of_type(json_object_get(cfg, "Labels"), 'm'))
                return bad_field("Config", "Labels", err);
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(hc_lists); i++)
                if (!of_type(json_object_get(hc, hc_lists[i]), 'a'))
                        return bad_field("HostConfig", hc_lists[i], err);
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(hc_maps); i++)
                if (!of_type(json_object_get(hc, hc_maps[i]), 'm'))
                        return bad_field("HostConfig", hc_maps[i], err);
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(cfg, "ExposedPorts"), k,
                            v) if (!of_type(v, 'o')) return bad_field("Config", "ExposedPorts",
                                                                      err);
        json_object_foreach(json_object_get(cfg, "Volumes"), k,
                            v) if (!of_type(v, 'o')) return bad_field("Config", "Volumes", err);
        json_object_foreach(json_object_get(hc, "PortBindings"), k, v)
        {
                if (check_list(v, binding_shape, "HostConfig.PortBindings", err) < 0)
                        return -1;
        }
        if (!of_type(net, 'o'))
                return bad_field("ContainerConfigWrapper", "NetworkingConfig", err);
        if (!of_type(json_object_get(net, "EndpointsConfig"), 'o'))
                return bad_field("NetworkingConfig", "EndpointsConfig", err);
        json_object_foreach(json_object_get(net, "EndpointsConfig"), k, v)
        {
                if (check_obj(v, endpoint_shape, "NetworkingConfig.EndpointsConfig", err) < 0 ||
                    check_obj(json_object_get(v, "IPAMConfig"), ipam_shape,
                              "NetworkingConfig.EndpointsConfig.IPAMConfig", err) < 0)
                        return -1;
        }
        if (check_obj(json_object_get(hc, "RestartPolicy"), restart_shape,
                      "HostConfig.RestartPolicy", err) < 0 ||
            check_obj(json_object_get(hc, "LogConfig"), log_shape, "HostConfig.LogConfig", err) <
                    0 ||
            check_obj(json_object_get(cfg, "Healthcheck"), health_shape, "Config.Healthcheck",
                      err) < 0 ||
            check_list(json_object_get(hc, "Mounts"), mount_shape, "HostConfig.Mounts", err) < 0 ||
            check_list(json_object_get(hc, "Ulimits"), ulimit_shape, "HostConfig.Ulimits", err) <
                    0 ||
            check_list(json_object_get(hc, "Devices"), device_shape, "HostConfig.Devices", err) < 0)
                return -1;
        if (check_mounts(json_object_get(hc, "Mounts"), err) < 0)
                return -1;
        json_t *d;
        size_t i;
        json_array_foreach(json_object_get(hc, "Devices"), i, d)
        {
                /* the daemon's defaults: the same path inside, every permission */
                if (!*sval(d, "PathOnHost"))
                        return berth_fail(err, 0, "invalid device mapping: PathOnHost is empty");
                if (!*sval(d, "PathInContainer"))
                        json_object_set(d, "PathInContainer", json_object_get(d, "PathOnHost"));
                if (!*sval(d, "CgroupPermissions"))
                        json_object_set_new(d, "CgroupPermissions", json_string("rwm"));
        }
        return 0;
}

/* What dockerd's daemon makes of zero values, and its checks (moby's verifyContainerSettings
 * and verifyPlatformContainerResources), with its messages. */
static int normalise(json_t *cfg, json_t *hc, berth_error_t *err)
{
        if (!*sval(hc, "NetworkMode"))
                json_object_set_new(hc, "NetworkMode", json_string("default"));
        if (!*sval(hc, "IpcMode"))
                json_object_set_new(hc, "IpcMode", json_string("private"));
        if (!*sval(hc, "Runtime"))
                json_object_set_new(hc, "Runtime", json_string("runc"));
        json_t *lc = json_object_get(hc, "LogConfig");
        if (!*sval(lc, "Type"))
                json_object_set_new(lc, "Type", json_string("json-file"));
        if (!json_is_object(json_object_get(lc, "Config")))
                json_object_set_new(lc, "Config", json_object());
        json_t *rp = json_object_get(hc, "RestartPolicy");
        const char *policy = sval(rp, "Name");
        if (!*policy)
                json_object_set_new(rp, "Name", json_string(policy = "no"));
        if (!json_is_integer(json_object_get(rp, "MaximumRetryCount")))
                json_object_set_new(rp, "MaximumRetryCount", json_integer(0));
        if (ival(hc, "ShmSize") <= 0)
                json_object_set_new(hc, "ShmSize", json_integer(67108864));
        if (json_is_integer(json_object_get(hc, "PidsLimit")) && ival(hc, "PidsLimit") <= 0)
                json_object_set_new(hc, "PidsLimit", json_null());
        if (json_object_size(json_object_get(cfg, "Volumes")) == 0)
                json_object_set_new(cfg, "Volumes", json_null());
        if (!json_is_object(json_object_get(cfg, "Labels")))
                json_object_set_new(cfg, "Labels", json_object());

        if (strcmp(policy, "no") != 0 && strcmp(policy, "always") != 0 &&
            strcmp(policy, "on-failure") != 0 && strcmp(policy, "unless-stopped") != 0)
                return berth_fail(err, 0, "invalid restart policy '%s'", policy);
        if (ival(rp, "MaximumRetryCount") != 0 && strcmp(policy, "on-failure") != 0)
                return berth_fail(err, 0,
                                  "maximum retry count cannot be used with restart policy '%s'",
                                  policy);
        if (json_is_true(json_object_get(hc, "AutoRemove")) && strcmp(policy, "no") != 0)
                return berth_fail(err, 0,
                                  "can't create 'AutoRemove' container with restart policy");
        json_int_t mem = ival(hc, "Memory"), swap = ival(hc, "MemorySwap");
        if (mem > 0 && mem < 6 * 1024 * 1024)
                return berth_fail(err, 0, "Minimum memory limit allowed is 6MB");
        if (swap != 0 && swap != -1 && mem == 0)
                return berth_fail(err, 0,
                                  "You should always set the Memory limit when using Memoryswap "
                                  "limit, see usage");
        if (mem > 0 && swap > 0 && swap < mem)
                return berth_fail(err, 0,
                                  "Minimum memoryswap limit should be larger than memory limit, "
                                  "see usage");
        if (mem > 0 && swap == 0) /* the daemon's default: as much swap as memory */
                json_object_set_new(hc, "MemorySwap", json_integer(mem * 2));
        if (ival(hc, "NanoCpus") > 0 && ival(hc, "CpuPeriod") > 0)
                return berth_fail(err, 0,
                                  "Conflicting options: Nano CPUs and CPU Period cannot both be "
                                  "set");
        if (ival(hc, "NanoCpus") > 0 && ival(hc, "CpuQuota") > 0)
                return berth_fail(err, 0,
                                  "Conflicting options: Nano CPUs and CPU Quota cannot both be "
                                  "set");
        const char *wd = sval(cfg, "WorkingDir");
        if (*wd && wd[0] != '/')
                return berth_fail(err, 0,
                                  "the working directory '%s' is invalid, it needs to be an "
                                  "absolute path",
                                  wd);
        if (!*sval(cfg, "Image"))
                return berth_fail(err, 0, "No image was specified");
        return 0;
}

/* NetworkingConfig as the engine reads it: the default network's endpoint under its name
 * ("bridge"), as `berth create --network-alias` writes it; NULL when there is none. */
static json_t *networking(json_t *body, json_t *hc)
{
        json_t *eps = json_object_get(json_object_get(body, "NetworkingConfig"), "EndpointsConfig");
        if (!json_is_object(eps) || json_object_size(eps) == 0)
                return NULL;
        json_t *out = json_object();
        bool dflt = strcmp(sval(hc, "NetworkMode"), "default") == 0;
        const char *k;
        json_t *v;
        json_object_foreach(eps, k, v)
        {
                if (!json_is_object(v))
                        continue;
                json_object_set(out, dflt && strcmp(k, "default") == 0 ? "bridge" : k, v);
        }
        return json_pack("{s:o}", "EndpointsConfig", out);
}

int api_create_flags(json_t *body, const char *name, struct eng_run_flags *f, berth_error_t *err)
{
        /* a flagless `create`: the defaults every container of berth's starts from */
        char *argv[] = {(char[]){"create"}, (char[]){"--"}, (char[]){"scratch"}, NULL};
        if (eng_runflags_parse(3, argv, ENG_RUN_CREATE, f, err) < 0)
                return -1;
        /* what the CLI's flagless create fills in that a body without the key leaves at Go's
         * zero value in dockerd: nothing attached, no throttle lists */
        json_object_set_new(f->config, "AttachStdout", json_false());
        json_object_set_new(f->config, "AttachStderr", json_false());
        static const char *const throttles[] = {"BlkioDeviceReadBps", "BlkioDeviceWriteBps",
                                                "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(throttles); i++)
                json_object_set_new(f->host_config, throttles[i], json_null());
        static const char *const not_config[] = {"HostConfig", "NetworkingConfig", NULL};
        json_t *hc = json_object_get(body, "HostConfig");
        if (hc && !json_is_null(hc) && !json_is_object(hc))
                return berth_fail(err, 0,
                                  "json: cannot unmarshal %s into Go struct field "
                                  "ContainerConfigWrapper.HostConfig",
                                  type_name(hc));
        json_object_set_new(f->config, "Image", json_string(""));
        if (overlay(f->config, body, "ContainerConfigWrapper.Config", not_config, err) < 0 ||
            (json_is_object(hc) &&
             overlay(f->host_config, hc, "ContainerConfigWrapper.HostConfig", NULL, err) < 0) ||
            check_shapes(f->config, f->host_config, json_object_get(body, "NetworkingConfig"),
                         err) < 0 ||
            normalise(f->config, f->host_config, err) < 0)
                return -1;
        f->networking = networking(body, f->host_config);
        f->cli.name = name && *name ? berth_xstrdup(name[0] == '/' ? name + 1 : name) : NULL;
        f->cli.rm = json_is_true(json_object_get(f->host_config, "AutoRemove"));
        /* dockerd never pulls at create: the client pulls on a 404 and asks again */
        free(f->cli.pull);
        f->cli.pull = berth_xstrdup("never");
        f->cli.quiet = true;
        return 0;
}

/* dockerd 20.10's create?platform= (API 1.41 on): a platform that is none is a 400; an image
 * that is here under another platform is not found (404, its words), so that the docker CLI
 * pulls the platform asked for and tries again.  Returns -1 with the reply queued. */
static int platform_check(struct api_req *r, const char *image)
{
        const char *p = api_query(r, "platform");
        if (r->version < 141 || p == NULL || *p == '\0' || image == NULL || *image == '\0')
                return 0;
        struct img_platform want;
        berth_error_t err = NULL;
        if (img_platform_parse(p, &want, &err) < 0) {
                api_reply_error(r, 400, "%s", api_error_text(err));
                berth_error_release(&err);
                return -1;
        }
        struct img_store s;
        struct img_table t;
        struct img_entry *e;
        struct img_image img;
        int ret = 0;
        /* an image that is not here at all is the create's own 404 */
        if (img_store_open(&s, r->paths->data_dir, &err) < 0) {
                berth_error_release(&err);
                return 0;
        }
        if (img_table_load(&s, &t, &err) == 0) {
                if (img_lookup(&s, &t, image, &e, &err) == 0 &&
                    img_image_load(&s, e->manifest, &img, &err) == 0) {
                        const char *os = sval(img.cfg, "os"), *arch = sval(img.cfg, "architecture");
                        const char *var = json_string_value(json_object_get(img.cfg, "variant"));
                        if (!img_platform_match(&want, os, arch, var)) {
                                char w[3 * IMG_PLATFORM_WORD + 2];
                                img_platform_format(&want, w, sizeof(w));
                                api_reply_error(r, 404,
                                                "image with reference %s was found but does not "
                                                "match the specified platform: wanted %s, actual: "
                                                "%s/%s%s%s",
                                                image, w, os, arch, var && *var ? "/" : "",
                                                var && *var ? var : "");
                                ret = -1;
                        }
                        img_image_free(&img);
                }
                img_table_free(&t);
        }
        berth_error_release(&err);
        img_store_close(&s);
        return ret;
}

void api_container_create(struct api_req *r)
{
        const char *name = api_query(r, "name");
        const char *bare = name && name[0] == '/' ? name + 1 : name;
        if (bare && *bare && !eng_name_valid(bare)) {
                api_reply_error(r, 400,
                                "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                                "allowed",
                                bare);
                return;
        }
        json_t *body = api_body_json(r, false);
        if (body == NULL)
                return;
        if (!json_is_object(body)) {
                api_reply_error(r, 400,
                                "json: cannot unmarshal %s into Go value of type "
                                "container.ContainerConfigWrapper",
                                type_name(body));
                json_decref(body);
                return;
        }
        struct eng_run_flags f;
        memset(&f, 0, sizeof(f));
        berth_error_t err = NULL;
        if (api_create_flags(body, bare, &f, &err) < 0) {
                json_decref(body);
                eng_runflags_release(&f);
                api_reply_error(r, 400, "%s", api_error_text(err));
                berth_error_release(&err);
                return;
        }
        json_decref(body);
        if (platform_check(r, sval(f.config, "Image")) < 0) {
                eng_runflags_release(&f);
                return;
        }
        struct eng_ctx e;
        struct eng_container *c = NULL;
        if (eng_ctx_init(&e, r->paths, &err) < 0) {
                eng_runflags_release(&f);
                api_reply_berth_error(r, &err);
                return;
        }
        if (eng_create(&e, &f, &c, &err) < 0) {
                const char *m = api_error_text(err);
                size_t len = strlen(m);
                if (strncmp(m, "Conflict. ", 10) == 0 && len && m[len - 1] != '.')
                        /* dockerd's sentence ends with a full stop; the CLI's log adds none */
                        api_reply_error(r, 409, "%s.", m);
                else if (strncmp(m, "No such image: ", 15) == 0)
                        api_reply_error(r, 404, "%s", m);
                else if (strncmp(m, "No such container: ", 19) == 0)
                        /* --volumes-from's: a 404 would make the client pull the image */
                        api_reply_error(r, 400, "%s", m);
                else
                        api_reply_berth_error(r, &err);
                berth_error_release(&err);
        } else {
                json_t *w = f.warnings ? json_incref(f.warnings) : json_array();
                api_reply_json(r, 201, json_pack("{s:s, s:o}", "Id", c->id, "Warnings", w));
        }
        eng_container_free(c);
        eng_ctx_free(&e);
        eng_runflags_release(&f);
}
