/* events.c — GET /events: the event log (engine/events.h) as dockerd streams it: 200 and
 * chunked headers at once, then one JSON object per line, until `until` passes or the client
 * leaves. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api_internal.h"
#include "common/log.h"
#include "common/units.h"
#include "common/util.h"
#include "engine/events.h"

/* How long the stream waits for an event before it looks whether its client is still there. */
#define EVENTS_CHECK_MS 500

struct ev_stream {
        struct eng_events *r;
        json_t *filters;
        int client_fd;
        struct api_pending line; /* an encoded event not yet (fully) sent */
};

static ssize_t ev_gen(void *ctx, char *buf, size_t max)
{
        struct ev_stream *s = ctx;
        while (!s->line.buf) {
                json_t *ev = NULL;
                berth_error_t err = NULL;
                int r = eng_events_next(s->r, EVENTS_CHECK_MS, &ev, &err);
                if (r < 0) {
                        log_warn("api: events: %s", berth_error_msg(err));
                        berth_error_release(&err);
                        return -1;
                }
                if (r == 0)
                        return 0;
                if (r == 2) {
                        if (api_client_gone(s->client_fd))
                                return -1;
                        continue;
                }
                api_pending_json_line(&s->line, ev);
                json_decref(ev);
        }
        return api_pending_take(&s->line, buf, max);
}

static void ev_done(void *ctx)
{
        struct ev_stream *s = ctx;
        eng_events_close(s->r);
        json_decref(s->filters);
        free(s->line.buf);
        free(s);
}

/* since/until as the CLI sends them ("1700000000.000000000"), or RFC 3339, or a duration;
 * absent or empty: -1.  False (with a 400 queued) when malformed. */
static bool time_param(struct api_req *r, const char *key, const struct timespec *now, int64_t *ns)
{
        const char *v = api_query(r, key);
        *ns = -1;
        if (!v || !*v)
                return true;
        berth_error_t err = NULL;
        if (berth_parse_timestamp(v, key, now, ns, &err) < 0) {
                api_reply_error(r, 400, "%s", api_error_text(err));
                berth_error_release(&err);
                return false;
        }
        return true;
}

static void events(struct api_req *r)
{
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int64_t since, until;
        if (!time_param(r, "since", &now, &since) || !time_param(r, "until", &now, &until))
                return;
        if (until >= 0 && since >= 0 && until < since) {
                api_reply_error(r, 400, "`since` time (%s) cannot be after `until` time (%s)",
                                api_query(r, "since"), api_query(r, "until"));
                return;
        }
        json_t *filters = api_filters(r);
        if (!filters)
                return;
        struct ev_stream *s = berth_xcalloc(1, sizeof(*s));
        s->filters = filters;
        s->client_fd = r->client_fd;
        berth_error_t err = NULL;
        /* opened now, before the headers go: what happens once the client has them is seen
         * (docker run at API 1.24 starts the container as soon as it has them) */
        if (eng_events_open(r->paths->run_dir, since, until, filters, &s->r, &err) < 0) {
                ev_done(s);
                api_reply_berth_error(r, &err);
                return;
        }
        api_stream(r, 200, "application/json", ev_gen, s, ev_done);
}

const struct api_route api_routes_events[] = {
        {"GET", "/events", events, 0},
        {0},
};
