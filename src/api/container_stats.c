/* container_stats.c — GET /containers/{id}/stats: dockerd's stats objects, one (after a
 * second reading, as dockerd) or one a second until the client leaves. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/container_data.h"
#include "api/containers.h"
#include "common/util.h"
#include "engine/lifecycle.h"
#include "engine/stats.h"

/* dockerd samples once a second */
#define STATS_INTERVAL_MS 1000

/* A fresh reading: the record again (its state changes under us) and reconciled. */
static json_t *sample(const struct berth_paths *paths, const char *id, berth_error_t *err)
{
        struct eng_ctx e;
        if (eng_ctx_init(&e, paths, err) < 0)
                return NULL;
        struct eng_container *c = NULL;
        json_t *doc = NULL;
        if (eng_container_find(&e, id, &c, err) == 0) {
                eng_reconcile(&e, c, NULL);
                doc = eng_stats_docker(c);
        }
        eng_container_free(c);
        eng_ctx_free(&e);
        return doc;
}

/* Sleeps the interval unless the client leaves first; false when it left. */
static bool wait_interval(int client_fd)
{
        for (int t = 0; t < STATS_INTERVAL_MS; t += 100) {
                if (api_client_gone(client_fd))
                        return false;
                usleep(100 * 1000);
        }
        return !api_client_gone(client_fd);
}

struct stats_stream {
        const struct berth_paths *paths;
        char id[ENG_ID_LEN + 1];
        int client_fd;
        json_t *prev;
        struct api_pending pending; /* an object not yet all sent */
};

static ssize_t stats_gen(void *ctx, char *buf, size_t max)
{
        struct stats_stream *s = ctx;
        if (s->pending.buf == NULL) {
                if (s->prev && !wait_interval(s->client_fd))
                        return 0;
                berth_error_t err = NULL;
                json_t *cur = sample(s->paths, s->id, &err);
                if (cur == NULL) { /* removed meanwhile: the stream ends */
                        berth_error_release(&err);
                        return 0;
                }
                if (s->prev)
                        eng_stats_docker_link(cur, s->prev);
                bool encoded = api_pending_json_line(&s->pending, cur);
                json_decref(s->prev);
                s->prev = cur;
                if (!encoded)
                        return -1;
        }
        return api_pending_take(&s->pending, buf, max);
}

static void stats_done(void *ctx)
{
        struct stats_stream *s = ctx;
        json_decref(s->prev);
        free(s->pending.buf);
        free(s);
}

void api_container_stats(struct api_req *r)
{
        bool stream = api_query_bool(r, "stream", true);
        bool one_shot = api_query_bool(r, "one-shot", false);
        struct eng_ctx e;
        struct eng_container *c = api_container_find(r, &e, r->params[0], false);
        if (c == NULL)
                return;
        char id[ENG_ID_LEN + 1];
        snprintf(id, sizeof(id), "%s", c->id);
        api_container_done(c, &e);
        berth_error_t err = NULL;
        if (stream && !one_shot) {
                struct stats_stream *s = berth_xcalloc(1, sizeof(*s));
                s->paths = r->paths;
                snprintf(s->id, sizeof(s->id), "%s", id);
                s->client_fd = r->client_fd;
                api_stream(r, 200, "application/json", stats_gen, s, stats_done);
                return;
        }
        json_t *first = sample(r->paths, id, &err);
        if (first == NULL) {
                api_reply_berth_error(r, &err);
                return;
        }
        if (one_shot) { /* one reading, its previous one empty */
                api_reply_json(r, 200, first);
                return;
        }
        /* stream=0: the second reading, so that the client can compute CPU % */
        if (!wait_interval(r->client_fd)) {
                json_decref(first);
                api_reply_empty(r, 200);
                return;
        }
        json_t *second = sample(r->paths, id, &err);
        if (second == NULL) {
                json_decref(first);
                api_reply_berth_error(r, &err);
                return;
        }
        eng_stats_docker_link(second, first);
        json_decref(first);
        api_reply_json(r, 200, second);
}
