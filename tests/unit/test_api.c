/* test_api.c — the Engine API's request side without a socket: route patterns and their
 * captures (image names with slashes), API versions, and POST /containers/create bodies from
 * the three clients turned into run flags, with malformed ones refused as dockerd refuses
 * them (never a crash: the same code is fuzzed in fuzz/api_create.c). */
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "api/containers.h"
#include "tap.h"

static void route(const char *pat, const char *path, bool want, const char *cap0, const char *cap1)
{
        char *caps[API_MAX_PARAMS] = {0};
        int n = 0;
        char name[200];
        snprintf(name, sizeof(name), "route %s ~ %s: %s", pat, path, want ? "match" : "no match");
        bool m = api_route_match(pat, path, caps, &n);
        ok(m == want && (!m || !cap0 || (n >= 1 && strcmp(caps[0], cap0) == 0)) &&
                   (!m || !cap1 || (n >= 2 && strcmp(caps[1], cap1) == 0)),
           name);
        if (m && cap0 && n >= 1 && strcmp(caps[0], cap0) != 0)
                printf("#   capture 0: %s\n", caps[0]);
        while (n > 0)
                free(caps[--n]);
}

/* The body is parsed and turned into flags; want_err: a substring of the refusal. */
static void create(const char *body, const char *want_err, const char *check_key,
                   const char *check_val)
{
        json_error_t je;
        json_t *b = json_loads(body, 0, &je);
        struct eng_run_flags f;
        memset(&f, 0, sizeof(f));
        berth_error_t err = NULL;
        int r = b ? api_create_flags(b, "n1", &f, &err) : -1;
        char name[200];
        snprintf(name, sizeof(name), "create %.60s: %s", body, want_err ? want_err : "accepted");
        if (want_err) {
                ok(r < 0 && err && strstr(berth_error_msg(err), want_err), name);
                if (r == 0 || !err || !strstr(berth_error_msg(err), want_err))
                        printf("#   got: %s\n", err ? berth_error_msg(err) : "accepted");
        } else {
                bool good = r == 0;
                if (good && check_key) {
                        /* "HostConfig.X" or "Config.X", a string or an integer value */
                        json_t *o = strncmp(check_key, "HostConfig.", 11) == 0 ? f.host_config
                                                                               : f.config;
                        json_t *v = json_object_get(o, strchr(check_key, '.') + 1);
                        char buf[64] = "";
                        if (json_is_string(v))
                                snprintf(buf, sizeof(buf), "%s", json_string_value(v));
                        else if (json_is_integer(v))
                                snprintf(buf, sizeof(buf), "%lld",
                                         (long long) json_integer_value(v));
                        good = strcmp(buf, check_val) == 0;
                        if (!good)
                                printf("#   %s = %s\n", check_key, buf);
                }
                ok(good, name);
                if (r < 0)
                        printf("#   refused: %s\n", berth_error_msg(err));
        }
        berth_error_release(&err);
        eng_runflags_release(&f);
        json_decref(b);
}

int main(void)
{
        route("/containers/{}/json", "/containers/abc/json", true, "abc", NULL);
        route("/containers/{}/json", "/containers/abc/def/json", false, NULL, NULL);
        route("/containers/{}/json", "/containers//json", false, NULL, NULL);
        route("/images/{*}/json", "/images/busybox/json", true, "busybox", NULL);
        route("/images/{*}/json", "/images/127.0.0.1:5000/a/b:1/json", true, "127.0.0.1:5000/a/b:1",
              NULL);
        /* an image named "json" under a repository: the longest capture that leaves a match */
        route("/images/{*}/json", "/images/x/json/json", true, "x/json", NULL);
        route("/images/{*}/tag", "/images/a/b/json", false, NULL, NULL);
        route("/exec/{}/resize", "/exec/e1/resize", true, "e1", NULL);
        route("/_ping", "/_ping", true, NULL, NULL);
        route("/_ping", "/_ping/", false, NULL, NULL);
        route("/networks/{}/connect", "/networks/n/connect", true, "n", NULL);

        is_int(api_version_parse("1.41", 4), 141, "version 1.41");
        is_int(api_version_parse("1.9", 3), 109, "version 1.9");
        is_int(api_version_parse("1.", 2), -1, "version 1. refused");
        is_int(api_version_parse("x.41", 4), -1, "version x.41 refused");
        is_int(api_version_parse("1.41a", 5), -1, "version 1.41a refused");
        is_int(api_version_parse("1.100", 5), -1, "version 1.100 refused");

        /* docker-py's minimal body; the CLI's shape; compose's network and healthcheck */
        create("{\"Image\":\"busybox\",\"Cmd\":[\"true\"]}", NULL, "HostConfig.NetworkMode",
               "default");
        create("{\"Image\":\"busybox\",\"HostConfig\":{\"Memory\":33554432}}", NULL,
               "HostConfig.Memory", "33554432");
        create("{\"Image\":\"b\",\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"],\"Interval\":"
               "1000000000},\"HostConfig\":{\"NetworkMode\":\"p_backend\"},\"NetworkingConfig\":"
               "{\"EndpointsConfig\":{\"p_backend\":{\"Aliases\":[\"db\"]}}}}",
               NULL, "HostConfig.NetworkMode", "p_backend");
        create("{\"Image\":\"b\",\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"always\"}}}", NULL,
               NULL, NULL);
        /* malformed: refused with a message, never a crash */
        create("{\"Image\":\"b\",\"HostConfig\":[]}", "HostConfig", NULL, NULL);
        /* Docker's StrSlice: a string is a one-word command */
        create("{\"Image\":\"b\",\"Cmd\":\"true\"}", NULL, NULL, NULL);
        create("{\"Image\":\"b\",\"Cmd\":[1]}", "Cmd", NULL, NULL);
        create("{\"Image\":\"b\",\"NetworkingConfig\":7}", "NetworkingConfig", NULL, NULL);
        create("{\"Image\":\"b\",\"HostConfig\":{\"Mounts\":[7]}}", "Mounts", NULL, NULL);
        create("{\"Image\":\"b\",\"HostConfig\":{\"Mounts\":{}}}", "Mounts", NULL, NULL);
        create("{\"Image\":\"b\",\"Healthcheck\":{\"Interval\":\"1s\"}}", "Healthcheck", NULL,
               NULL);
        create("{\"Image\":\"b\",\"HostConfig\":{\"Memory\":1024}}", "Minimum memory limit", NULL,
               NULL);
        create("{\"Image\":\"b\",\"NetworkingConfig\":{\"EndpointsConfig\":[1]}}",
               "EndpointsConfig", NULL, NULL);
        create("{\"Image\":\"b\",\"Env\":[1,2]}", "Env", NULL, NULL);
        return tap_done();
}
