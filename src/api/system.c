/* system.c — the Engine API's system endpoints: _ping, version, info, system/df and auth
 * (events are in events.c). */
#include <errno.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "engine/sysinfo.h"
#include "engine/version.h"
#include "image/image.h"

/* The docker CLI reads only the Api-Version header of HEAD /_ping; GET answers "OK". */
static void ping(struct api_req *r)
{
        api_reply_text(r, 200, "text/plain; charset=utf-8", "OK");
        MHD_add_response_header(r->resp, "Cache-Control", "no-cache, no-store, must-revalidate");
        MHD_add_response_header(r->resp, "Pragma", "no-cache");
}

static void version(struct api_req *r)
{
        json_t *v = eng_version_info();
        json_t *server = json_incref(json_object_get(v, "Server"));
        json_decref(v);
        api_reply_json(r, 200, server ? server : json_object());
}

static void info(struct api_req *r)
{
        struct eng_usage u;
        berth_error_t err = NULL;
        if (eng_usage_gather(r->paths, false, &u, NULL, &err) < 0) {
                api_reply_berth_error(r, &err);
                return;
        }
        api_reply_json(r, 200, eng_info_docker(r->paths, &u));
}

static void system_df(struct api_req *r)
{
        struct eng_usage u;
        json_t *doc = NULL;
        berth_error_t err = NULL;
        if (eng_usage_gather(r->paths, true, &u, &doc, &err) < 0) {
                api_reply_berth_error(r, &err);
                return;
        }
        api_reply_json(r, 200, doc);
}

/* The registry part of serveraddress: "https://index.docker.io/v1/" → "index.docker.io",
 * "http://localhost:5000/v2/" → "localhost:5000". */
static char *registry_host(const char *addr)
{
        const char *p = strstr(addr, "://");
        p = p ? p + 3 : addr;
        size_t n = strcspn(p, "/");
        char *host = strndup(p, n);
        return host ? host : strdup("");
}

/* Checks the credentials as `berth login` does, storing nothing (the client keeps them). */
static void auth(struct api_req *r)
{
        json_t *body = api_body_json(r, false);
        if (body == NULL)
                return;
        const char *user = json_string_value(json_object_get(body, "username"));
        const char *password = json_string_value(json_object_get(body, "password"));
        const char *addr = json_string_value(json_object_get(body, "serveraddress"));
        if (addr == NULL || *addr == '\0')
                addr = "https://index.docker.io/v1/";
        char *host = registry_host(addr);
        struct img_registry_opts o = {.tls_verify = -1, .retries = 1, .quiet = true};
        berth_error_t err = NULL;
        if (img_login_check(host, user ? user : "", password ? password : "", &o, &err) < 0) {
                if (err && err->errnum == EACCES) {
                        bool local =
                                strncmp(host, "localhost", 9) == 0 || strncmp(host, "127.", 4) == 0;
                        api_reply_error(r, 401,
                                        "login attempt to %s://%s/v2/ failed with status: 401 "
                                        "Unauthorized",
                                        local ? "http" : "https", host);
                        berth_error_release(&err);
                } else {
                        api_reply_error(r, 500, "%s", api_error_text(err));
                        berth_error_release(&err);
                }
        } else {
                api_reply_json(
                        r, 200,
                        json_pack("{s:s, s:s}", "IdentityToken", "", "Status", "Login Succeeded"));
        }
        free(host);
        json_decref(body);
}

const struct api_route api_routes_system[] = {
        {"GET", "/_ping", ping, 0},
        {"HEAD", "/_ping", ping, 0},
        {"GET", "/version", version, 0},
        {"GET", "/info", info, 0},
        {"GET", "/system/df", system_df, 0},
        {"POST", "/auth", auth, 0},
        {0},
};
