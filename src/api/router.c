/* router.c — from a request line to its handler: the /vX.Y prefix (checked as dockerd checks
 * it), then the first route of the tables whose method and pattern match. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_internal.h"
#include "common/util.h"

static const struct api_route *const tables[] = {
        api_routes_system, api_routes_containers,     api_routes_container_io, api_routes_exec,
        api_routes_images, api_routes_build,          api_routes_networks,     api_routes_volumes,
        api_routes_events, api_routes_container_data,
};

int api_version_parse(const char *s, size_t len)
{
        unsigned major = 0, minor = 0;
        size_t i = 0;
        if (i >= len || s[i] < '0' || s[i] > '9')
                return -1;
        while (i < len && s[i] >= '0' && s[i] <= '9' && major < 1000)
                major = major * 10 + (unsigned) (s[i++] - '0');
        if (i >= len || s[i++] != '.' || i >= len)
                return -1;
        while (i < len && s[i] >= '0' && s[i] <= '9' && minor < 1000)
                minor = minor * 10 + (unsigned) (s[i++] - '0');
        if (i != len || minor > 99)
                return -1;
        return (int) (major * 100 + minor);
}

/* Splits "/v1.41/containers/json" into 141 and "/containers/json"; an unversioned path is
 * served at the current version. */
static const char *strip_version(const char *url, int *version)
{
        *version = api_version_parse(API_VERSION, strlen(API_VERSION));
        if (url[0] == '/' && url[1] == 'v') {
                const char *end = strchr(url + 2, '/');
                size_t len = end ? (size_t) (end - url - 2) : strlen(url + 2);
                int v = api_version_parse(url + 2, len);
                if (v >= 0) {
                        *version = v;
                        return end ? end : "/";
                }
        }
        return url;
}

/* Matches path segments against pattern segments; {} takes one segment, {*} one or more (an
 * image name such as localhost:5000/a/b), tried longest first. */
bool api_route_match(const char *pat, const char *path, char **caps, int *ncap)
{
        for (;;) {
                if (*pat == '\0')
                        return *path == '\0';
                if (*pat != '/' || *path != '/')
                        return false;
                pat++;
                path++;
                const char *pend = strchr(pat, '/');
                size_t plen = pend ? (size_t) (pend - pat) : strlen(pat);
                if (plen == 3 && strncmp(pat, "{*}", 3) == 0) {
                        if (*ncap >= API_MAX_PARAMS || *path == '\0' || *path == '/')
                                return false;
                        /* every possible end of the capture, longest first */
                        size_t total = strlen(path);
                        for (size_t len = total; len > 0; len--) {
                                if (path[len] != '\0' && path[len] != '/')
                                        continue;
                                int save = *ncap;
                                caps[(*ncap)++] = berth_xasprintf("%.*s", (int) len, path);
                                if (api_route_match(pat + plen, path + len, caps, ncap))
                                        return true;
                                while (*ncap > save)
                                        free(caps[--(*ncap)]);
                        }
                        return false;
                }
                const char *send = strchr(path, '/');
                size_t slen = send ? (size_t) (send - path) : strlen(path);
                if (plen == 2 && strncmp(pat, "{}", 2) == 0) {
                        if (slen == 0 || *ncap >= API_MAX_PARAMS)
                                return false;
                        caps[(*ncap)++] = berth_xasprintf("%.*s", (int) slen, path);
                } else if (plen != slen || strncmp(pat, path, plen) != 0) {
                        return false;
                }
                pat += plen;
                path += slen;
        }
}

static bool method_ok(const char *want, const char *got)
{
        return strcmp(want, got) == 0 || (strcmp(got, "HEAD") == 0 && strcmp(want, "GET") == 0);
}

/* Exact method first (HEAD /_ping has its own route), then GET for a HEAD. */
static const struct api_route *find(const char *method, const char *path, char **caps, int *ncap,
                                    bool *path_known)
{
        *path_known = false;
        for (int pass = 0; pass < 2; pass++) {
                for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
                        for (const struct api_route *rt = tables[t]; rt->pattern; rt++) {
                                *ncap = 0;
                                bool m = api_route_match(rt->pattern, path, caps, ncap);
                                bool ok = m && (pass == 0 ? strcmp(rt->method, method) == 0
                                                          : method_ok(rt->method, method));
                                if (ok)
                                        return rt;
                                *path_known |= m;
                                while (*ncap > 0)
                                        free(caps[--(*ncap)]);
                        }
                }
        }
        return NULL;
}

int api_route_flags(const char *method, const char *url)
{
        int v;
        const char *path = strip_version(url, &v);
        char *caps[API_MAX_PARAMS];
        int n = 0;
        bool known;
        const struct api_route *rt = find(method, path, caps, &n, &known);
        while (n > 0)
                free(caps[--n]);
        return rt ? (int) rt->flags : -1;
}

void api_dispatch(struct api_req *r, const char *url)
{
        int v;
        r->path = strip_version(url, &v);
        int max = api_version_parse(API_VERSION, strlen(API_VERSION));
        int min = api_version_parse(API_MIN_VERSION, strlen(API_MIN_VERSION));
        if (v > max) {
                api_reply_error(r, 400,
                                "client version %d.%d is too new. Maximum supported API version "
                                "is %s",
                                v / 100, v % 100, API_VERSION);
                return;
        }
        if (v < min) {
                char msg[160];
                snprintf(msg, sizeof(msg),
                         "client version %d.%d is too old. Minimum supported API version is %s, "
                         "please upgrade your client to a newer version",
                         v / 100, v % 100, API_MIN_VERSION);
                api_reply_text(r, 400, "text/plain; charset=utf-8", msg);
                return;
        }
        r->version = (unsigned) v;
        int n = 0;
        bool known;
        const struct api_route *rt = find(r->method, r->path, r->params, &n, &known);
        if (!rt) {
                if (known)
                        api_reply_error(r, 405, "method %s not allowed on %s", r->method, r->path);
                else
                        api_reply_error(r, 404, "page not found");
                return;
        }
        rt->fn(r);
}
