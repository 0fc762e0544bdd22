/* api_internal.h — what the Engine API's handler files share: the request, the route tables,
 * replies (JSON, errors, streams, hijacked connections) and query parsing.
 *
 * A handler runs in its connection's own thread once the whole request body has arrived and
 * queues exactly one reply with one of the api_reply_* / api_stream / api_hijack calls (a
 * handler that queues none answers 500).  It may block: other connections have their own
 * threads. */
#ifndef BERTH_API_INTERNAL_H
#define BERTH_API_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "api/api.h"
#include "common/error.h"
#include "common/paths.h"

struct MHD_Connection;
struct MHD_Response;

#define API_MAX_PARAMS 4

struct api_req {
        struct MHD_Connection *conn;
        struct api_server *srv;
        const struct berth_paths *paths;
        const char *method;
        const char *path;             /* without the /vX.Y prefix, percent-decoded */
        char *params[API_MAX_PARAMS]; /* the {} and {*} captures of the route, in order */
        unsigned version;             /* the request's API version ×100 (1.41 → 141) */
        char *body;                   /* the body (NUL-terminated) unless API_BODY_FILE */
        size_t body_len;
        int body_fd;   /* API_BODY_FILE: the body in an unlinked file, at 0 */
        int client_fd; /* the connection's socket (to notice a vanished client) */
        /* the reply, set by the api_reply_* calls */
        struct MHD_Response *resp;
        unsigned status;
        struct hijack *hijack; /* api_hijack's, until the upgrade takes it */
};

typedef void (*api_handler)(struct api_req *r);

enum {
        API_BODY_FILE = 1, /* a tarball (build, load, archive): spooled to a file, not memory */
};

struct api_route {
        const char *method;  /* GET also answers HEAD */
        const char *pattern; /* "/containers/{}/json": {} is one segment, {*} one or more */
        api_handler fn;
        unsigned flags;
};

/* One table per handler file, each ending with {0}; router.c lists them. */
extern const struct api_route api_routes_system[];
extern const struct api_route api_routes_containers[];
extern const struct api_route api_routes_container_io[];
extern const struct api_route api_routes_exec[];
extern const struct api_route api_routes_images[];
extern const struct api_route api_routes_build[];
extern const struct api_route api_routes_networks[];
extern const struct api_route api_routes_volumes[];
extern const struct api_route api_routes_events[];
extern const struct api_route api_routes_container_data[];

/* router.c: find the route for method+url and run it (the version prefix checked). */
void api_dispatch(struct api_req *r, const char *url);
/* Matches a path against a route pattern ({} one segment, {*} one or more, longest first),
 * appending the captures (allocated) to caps and counting them in *ncap, also on false (the
 * caller frees them). */
bool api_route_match(const char *pattern, const char *path, char **caps, int *ncap);
/* "1.41" → 141; -1 when s[0..len) is not MAJOR.MINOR. */
int api_version_parse(const char *s, size_t len);
/* The route's flags (for the body), or -1 when none matches (the body is then ignored). */
int api_route_flags(const char *method, const char *url);

/* --- replies (reply.c) --- */
/* Takes the reference to j. */
void api_reply_json(struct api_req *r, unsigned status, json_t *j);
void api_reply_empty(struct api_req *r, unsigned status); /* 204, 304 … */
void api_reply_text(struct api_req *r, unsigned status, const char *content_type, const char *text);
/* {"message": "…"} */
void api_reply_error(struct api_req *r, unsigned status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* A berth error with the status its errno and text call for: 404 for what does not exist,
 * 409 for conflicts, 400 for bad input, 500 otherwise.  Releases *err. */
void api_reply_berth_error(struct api_req *r, berth_error_t *err);
unsigned api_status_of(berth_error_t e);
/* Takes a (an array): itself, or null when empty, as Go encodes a nil slice (prune's lists of
 * what went, changes). */
json_t *api_nil_slice(json_t *a);
/* The message without the leading "berth: " the CLI's logger adds. */
const char *api_error_text(berth_error_t e);

/* Streamed (chunked) replies.  gen fills buf with up to max bytes and returns how many, 0 at
 * the end of the stream, or -1 to abort the connection.  It runs in the connection's thread
 * and may block (use api_client_gone to stop waiting for a client that left); done(ctx) runs
 * once when the reply is over.  content_type NULL: no Content-Type header (as dockerd's logs). */
typedef ssize_t (*api_stream_gen)(void *ctx, char *buf, size_t max);
void api_stream(struct api_req *r, unsigned status, const char *content_type, api_stream_gen gen,
                void *ctx, void (*done)(void *ctx));
bool api_client_gone(int client_fd);
/* A gen's read of fd: the bytes read, 0 at its end, -1 on an error (EINTR is read again). */
ssize_t api_stream_read(int fd, char *buf, size_t max);

/* The stream fed by a thread through a pipe (export, archive, pull, push, save): *rfd and *wfd
 * are set, then fn(arg) runs in thread *t, to write into *wfd while the reply reads *rfd.
 * false with a 500 queued ("no thread for the <what>") and both -1 when either can't be had. */
bool api_pipe_thread(struct api_req *r, pthread_t *t, void *(*fn)(void *), void *arg, int *rfd,
                     int *wfd, const char *what);

/* What a gen has encoded and hands out as the reply asks for it (stats, events). */
struct api_pending {
        char *buf; /* NULL: nothing held */
        size_t off, len;
};
/* Hold j's compact encoding and a newline (j is not released); false when j does not encode. */
bool api_pending_json_line(struct api_pending *p, json_t *j);
/* Copy up to max of what p holds into buf; p holds nothing once all is out. */
ssize_t api_pending_take(struct api_pending *p, char *buf, size_t max);

/* Hijacked connections (attach, exec start): answers 101 with Docker's headers, then fn runs in
 * a thread of its own with the raw socket and the bytes the client sent after the request;
 * the socket is closed when fn returns.  done(ctx) runs then too (or at once if the upgrade
 * never happens). */
typedef void (*api_hijack_fn)(void *ctx, int fd, const char *extra, size_t extra_len);
void api_hijack(struct api_req *r, api_hijack_fn fn, void *ctx, void (*done)(void *ctx));
/* The request ends without the upgrade: run done(ctx) and free the hijack. */
void api_hijack_abandon(struct hijack *h);

/* --- the request (reply.c) --- */
const char *api_query(struct api_req *r, const char *key); /* NULL when absent */
/* 1, true, True, TRUE, yes → true; 0, false, False, "" → false; absent → def. */
bool api_query_bool(struct api_req *r, const char *key, bool def);
long long api_query_int(struct api_req *r, const char *key, long long def);
const char *api_header(struct api_req *r, const char *name);
/* The JSON body; NULL (with a 400 reply queued) when it is not JSON.  An empty body gives an
 * empty object when empty_ok. */
json_t *api_body_json(struct api_req *r, bool empty_ok);
/* The filters query in both of Docker's forms, {"k":{"v":true}} and {"k":["v"]}, as
 * {"k":["v",…]}; NULL (with a 400 reply queued) when malformed; {} when absent. */
json_t *api_filters(struct api_req *r);

#endif
