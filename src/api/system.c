/* system.c — the Engine API's system endpoints: _ping, version (info, df, events and auth are
 * added beside them). */
#include <microhttpd.h>
#include <string.h>

#include "api/api_internal.h"
#include "engine/version.h"

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

const struct api_route api_routes_system[] = {
        {"GET", "/_ping", ping, 0},
        {"HEAD", "/_ping", ping, 0},
        {"GET", "/version", version, 0},
        {0},
};
