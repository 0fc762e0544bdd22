/* container_io.c — the Engine API's container I/O routes: start (with the hand-over to the
 * attaches and waits that came first, container_io.h), wait and resize; attach and logs live
 * in container_attach.c and container_logs.c. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/container_io.h"
#include "api/containers.h"
#include "common/log.h"
#include "common/units.h"
#include "common/util.h"
#include "engine/attach.h"
#include "engine/events.h"
#include "engine/lifecycle.h"

static const char hello_none[] = "{\"stdin\":false,\"stdout\":false,\"stderr\":false}\n";

/* -------------------------------------------------------------------- start */

/* wait_attach: connect each waiter, then have the monitor start the container. */
static int start_attached(struct eng_container *c, struct io_waiter **v, size_t n, int sync,
                          berth_error_t *err)
{
        for (size_t i = 0; i < n; i++) {
                berth_error_t werr = NULL;
                v[i]->mon_fd = io_monitor_connect(c->run_dir, v[i]->hello, &werr);
                berth_error_release(&werr);
        }
        cleanup_close int ctl = io_monitor_connect(c->run_dir, hello_none, err);
        if (ctl < 0)
                return berth_wrap(err, "start container %.12s", c->id);
        if (eng_frame_send(ctl, ENG_FRAME_START, NULL, 0) < 0)
                return berth_fail(err, errno, "start container %.12s", c->id);
        return eng_start_result(sync, NULL, err);
}

static void start(struct api_req *r)
{
        /* dockerd ≥ 1.24 takes no HostConfig here */
        if (r->body_len && strspn(r->body, " \t\r\n") != r->body_len &&
            strcmp(r->body, "{}") != 0 && strcmp(r->body, "null") != 0) {
                api_reply_error(r, 400,
                                "starting container with non-empty request body was deprecated "
                                "since API v1.22 and removed in v1.24");
                return;
        }
        struct eng_ctx e;
        struct eng_container *c = api_container(r, &e);
        if (!c)
                return;
        const char *st = eng_container_status(c);
        if (strcmp(st, "paused") == 0) {
                api_reply_error(r, 409, "cannot start a paused container, try unpause instead");
        } else if (eng_status_live(st) && eng_monitor_alive(c)) {
                api_reply_empty(r, 304);
        } else {
                struct eng_start_opts o = {
                        .remove_on_exit = json_is_true(json_object_get(
                                json_object_get(c->doc, "HostConfig"), "AutoRemove"))};
                struct io_waiter **v = NULL;
                size_t n = io_waiters_take(c->id, &v);
                o.wait_attach = n > 0;
                int sync = -1;
                berth_error_t err = NULL;
                int rc = eng_start(&e, c, &o, &sync, &err);
                if (rc == 0 && sync >= 0)
                        rc = start_attached(c, v, n, sync, &err);
                if (sync >= 0)
                        close(sync);
                io_waiters_hand(v, n);
                free(v);
                if (rc < 0) {
                        /* a command that can't run is bad input to dockerd, and the CLI
                         * reads 126/127 from the message */
                        int status = err ? err->status : 0;
                        if (status == 126 || status == 127) {
                                api_reply_error(r, 400, "%s", api_error_text(err));
                                berth_error_release(&err);
                        } else {
                                api_reply_berth_error(r, &err);
                        }
                } else {
                        api_reply_empty(r, 204);
                }
        }
        api_container_done(c, &e);
}

/* --------------------------------------------------------------------- wait */

enum wait_cond { WAIT_NOT_RUNNING, WAIT_NEXT_EXIT, WAIT_REMOVED };

struct waitc {
        struct eng_ctx e;
        char id[ENG_ID_LEN + 1];
        enum wait_cond cond;
        int client_fd;
        char *finished0; /* State.FinishedAt at the call: a later one is an exit since */
        bool exited;     /* an exit since the call */
        bool auto_remove;
        int64_t since_ns;    /* when the wait began: the event log is read from there */
        struct io_waiter iw; /* in the registry while the container is not started */
        bool registered;
        int code;
        bool answered;
        char out[96];
        size_t len, pos;
};

/* Out of the registry; the connection a start handed over, if any (or -1). */
static int wait_unregister(struct waitc *w)
{
        if (!w->registered)
                return -1;
        io_waiter_leave(&w->iw);
        w->registered = false;
        int fd = w->iw.mon_fd;
        w->iw.mon_fd = -1;
        return fd;
}

static void waitc_free(void *arg)
{
        struct waitc *w = arg;
        int fd = wait_unregister(w);
        if (fd >= 0)
                close(fd);
        eng_ctx_free(&w->e);
        free(w->finished0);
        free(w);
}

/* Read the monitor's frames until the exit: 1 with w->code, 0 when the monitor went without
 * one (a failed start, a crash: the record tells), -1 when the client left. */
static int watch_monitor(struct waitc *w, int fd)
{
        char *buf = NULL;
        size_t cap = 0;
        int ret = 0;
        for (;;) {
                struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
                                      {.fd = w->client_fd, .events = POLLRDHUP}};
                int n = poll(p, w->client_fd >= 0 ? 2 : 1, -1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        break;
                if (p[0].revents) {
                        enum eng_frame type;
                        size_t len;
                        if (eng_frame_recv(fd, &type, &buf, &cap, &len) < 0)
                                break;
                        if (type == ENG_FRAME_EXIT && w->cond != WAIT_NEXT_EXIT && len &&
                            strstr(buf, "restarting")) {
                                continue; /* it runs again: not-running is still to come */
                        }
                        if (type == ENG_FRAME_EXIT) {
                                w->code = (int) strtol(buf, NULL, 10);
                                w->exited = true;
                                ret = 1;
                                break;
                        }
                        if (type == ENG_FRAME_ERROR)
                                break;
                        continue;
                }
                if (p[1].revents) {
                        ret = -1;
                        break;
                }
        }
        free(buf);
        return ret;
}

/* Sleep ms, or less when the client leaves: false then. */
static bool nap(struct waitc *w, int ms)
{
        struct pollfd p = {.fd = w->client_fd, .events = POLLRDHUP};
        if (w->client_fd < 0) {
                usleep((useconds_t) ms * 1000);
                return true;
        }
        return poll(&p, 1, ms) <= 0;
}

/* --rm: the monitor removes the container once done, through a `berth rm` of its own; a
 * client waiting for that removal has it done here at once, which spares it that process's
 * start.  Whichever comes second finds nothing left to do. */
static void remove_now(struct waitc *w)
{
        struct eng_container *c = NULL;
        berth_error_t err = NULL;
        if (eng_container_find(&w->e, w->id, &c, &err) == 0 &&
            eng_remove(&w->e, c, false, &err) < 0)
                log_debug("api: wait: remove %.12s: %s", w->id, berth_error_msg(err));
        berth_error_release(&err);
        eng_container_free(c);
}

/* The exit code of a container removed before this wait saw its exit (--rm: the monitor
 * removes it at once, and a fast exit can come and go between two looks): the last "die"
 * the monitor logged for it since the wait began, which it logs before it removes it. */
static void exit_from_events(struct waitc *w)
{
        cleanup_free char *dir = eng_events_dir(&w->e);
        json_t *filters = json_pack("{s:[s],s:[s]}", "container", w->id, "event", "die");
        struct eng_events *r = NULL;
        berth_error_t err = NULL;
        if (eng_events_open(dir, w->since_ns, berth_now_ns() - 1, filters, &r, &err) == 0) {
                json_t *ev = NULL;
                while (eng_events_next(r, 0, &ev, &err) == 1) {
                        const char *code = json_string_value(json_object_get(
                                json_object_get(json_object_get(ev, "Actor"), "Attributes"),
                                "exitCode"));
                        if (code)
                                w->code = atoi(code);
                        json_decref(ev);
                }
                eng_events_close(r);
        }
        if (err)
                log_debug("api: wait: the event log: %s", berth_error_msg(err));
        berth_error_release(&err);
        json_decref(filters);
}

/* Block until the condition holds: 0 with w->code, -1 when the client left. */
static int wait_condition(struct waitc *w)
{
        int64_t exit_seen_ns = 0;
        for (;;) {
                if (api_client_gone(w->client_fd))
                        return -1;
                struct eng_container *c = NULL;
                berth_error_t err = NULL;
                if (eng_container_find(&w->e, w->id, &c, &err) < 0) {
                        berth_error_release(&err);
                        if (!w->exited)
                                exit_from_events(w);
                        return 0; /* removed: every condition is over */
                }
                eng_reconcile(&w->e, c, NULL);
                json_t *st = eng_container_state(c);
                bool is_live = eng_status_live(eng_container_status(c));
                const char *fin = json_string_value(json_object_get(st, "FinishedAt"));
                if (!is_live) {
                        if (fin && strcmp(fin, w->finished0) != 0)
                                w->exited = true;
                        w->code = (int) json_integer_value(json_object_get(st, "ExitCode"));
                }
                bool monitor = eng_monitor_alive(c);
                cleanup_free char *run_dir = berth_xstrdup(c->run_dir);
                eng_container_free(c);
                if (w->cond == WAIT_NOT_RUNNING && !is_live)
                        return 0;
                if (w->cond == WAIT_NEXT_EXIT && w->exited)
                        return 0;
                if (w->exited) { /* removed: --rm's removal follows the exit at once */
                        if (!exit_seen_ns)
                                exit_seen_ns = berth_now_ns();
                        if (!nap(w, berth_now_ns() - exit_seen_ns < 2000000000LL ? 2 : 50))
                                return -1;
                        continue;
                }
                int fd = -1;
                if (monitor) {
                        fd = wait_unregister(w); /* a start may have just handed us one */
                        if (fd < 0)
                                fd = io_monitor_connect(run_dir, hello_none, NULL);
                } else {
                        /* not started yet: a start here hands us its monitor (we stay in the
                         * registry till then); a start from elsewhere is found at a later
                         * look */
                        if (!w->registered) {
                                io_waiter_init(&w->iw, w->id, false, false, false);
                                io_waiter_register(&w->iw);
                                w->registered = true;
                        }
                        if (!io_waiter_wait(&w->iw, 100))
                                continue;
                        fd = wait_unregister(w);
                }
                int rc = 0;
                if (fd >= 0) {
                        rc = watch_monitor(w, fd);
                        close(fd);
                        if (rc < 0)
                                return -1;
                        if (rc == 1 && w->cond == WAIT_REMOVED && w->auto_remove)
                                remove_now(w);
                }
                /* no exit seen: the monitor went or turned us away; look again shortly */
                if (rc == 0 && !nap(w, 10))
                        return -1;
        }
}

/* libmicrohttpd sends the headers together with the first chunk: the start of the answer,
 * the same whatever the exit, goes at once, so the CLI gets its headers before the start. */
static const char wait_head[] = "{\"Error\":null,\"StatusCode\":";

static ssize_t wait_gen(void *ctx, char *buf, size_t max)
{
        struct waitc *w = ctx;
        if (w->len == 0) {
                w->len = sizeof(wait_head) - 1;
                memcpy(w->out, wait_head, w->len);
        } else if (w->pos == w->len && !w->answered) {
                if (wait_condition(w) < 0)
                        return -1;
                w->answered = true;
                w->pos = w->len = 0;
                w->len = (size_t) snprintf(w->out, sizeof(w->out), "%d}\n", w->code);
        }
        size_t k = w->len - w->pos;
        if (k > max)
                k = max;
        memcpy(buf, w->out + w->pos, k);
        w->pos += k;
        return (ssize_t) k;
}

static void wait_(struct api_req *r)
{
        const char *cond = api_query(r, "condition");
        enum wait_cond wc = WAIT_NOT_RUNNING;
        if (cond && strcmp(cond, "next-exit") == 0)
                wc = WAIT_NEXT_EXIT;
        else if (cond && strcmp(cond, "removed") == 0)
                wc = WAIT_REMOVED;
        else if (cond && *cond && strcmp(cond, "not-running") != 0) {
                api_reply_error(r, 400, "invalid condition: \"%s\"", cond);
                return;
        }
        struct eng_ctx e;
        struct eng_container *c = api_container(r, &e);
        if (!c)
                return;
        struct waitc *w = berth_xcalloc(1, sizeof(*w));
        w->e = e;
        w->cond = wc;
        w->client_fd = r->client_fd;
        w->since_ns = berth_now_ns();
        memcpy(w->id, c->id, sizeof(w->id));
        const char *fin = json_string_value(json_object_get(eng_container_state(c), "FinishedAt"));
        w->finished0 = berth_xstrdup(fin ? fin : "");
        w->auto_remove =
                json_is_true(json_object_get(json_object_get(c->doc, "HostConfig"), "AutoRemove"));
        w->code = (int) json_integer_value(json_object_get(eng_container_state(c), "ExitCode"));
        eng_container_free(c);
        /* the headers go out at once (the CLI waits for them before it starts the
         * container); the body when the condition holds */
        api_stream(r, 200, "application/json", wait_gen, w, waitc_free);
}

/* ------------------------------------------------------------------- resize */

static bool parse_dim(struct api_req *r, const char *key, unsigned *out)
{
        const char *s = api_query(r, key);
        char *end;
        long v = s ? strtol(s, &end, 10) : 0;
        if (!s || !*s || *end || v < 0 || v > 65535) {
                api_reply_error(r, 400, "strconv.Atoi: parsing \"%s\": invalid syntax", s ? s : "");
                return false;
        }
        *out = (unsigned) v;
        return true;
}

static void resize(struct api_req *r)
{
        unsigned h, w;
        if (!parse_dim(r, "h", &h) || !parse_dim(r, "w", &w))
                return;
        struct eng_ctx e;
        struct eng_container *c = api_container(r, &e);
        if (!c)
                return;
        const char *st = eng_container_status(c);
        berth_error_t err = NULL;
        int fd = -1;
        if ((strcmp(st, "running") == 0 || strcmp(st, "paused") == 0) &&
            (fd = io_monitor_connect(c->run_dir, hello_none, &err)) >= 0) {
                char dims[32];
                int n = snprintf(dims, sizeof(dims), "%u %u", h, w);
                eng_frame_send(fd, ENG_FRAME_RESIZE, dims, (size_t) n);
                close(fd);
                eng_event_container(
                        &e, c, "resize",
                        json_pack("{s:I, s:I}", "height", (json_int_t) h, "width", (json_int_t) w));
                api_reply_empty(r, 200);
        } else {
                berth_error_release(&err);
                api_reply_error(r, 409, "Container %s is not running", c->id);
        }
        api_container_done(c, &e);
}

const struct api_route api_routes_container_io[] = {
        {"POST", "/containers/{}/start", start, 0},      {"POST", "/containers/{}/wait", wait_, 0},
        {"POST", "/containers/{}/attach", io_attach, 0}, {"GET", "/containers/{}/logs", io_logs, 0},
        {"POST", "/containers/{}/resize", resize, 0},    {0},
};
