/* registry_http.h — the HTTP side of the registry client (inside src/image only):
 * one libcurl handle per registry, TLS choice, and the auth handshake (Basic, or
 * Bearer tokens from the realm a 401 names), so that registry.c speaks in terms
 * of the distribution API only. */
#ifndef BERTH_IMAGE_REGISTRY_HTTP_H
#define BERTH_IMAGE_REGISTRY_HTTP_H

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>

#include "image/image.h"

/* Docker's terminal display of a pull or push: a line per layer, each redrawn in place as its
 * status changes (shared by a pull's workers, used under their lock). */
struct reg_board {
        struct reg_board_row {
                char id[13];
                size_t row; /* the line's number, counted from the first printed */
        } * rows;
        size_t n, cap, lines; /* rows; lines printed so far */
        bool bars;            /* the terminal has room for bars (the docker CLI's 110 columns) */
};

struct reg {
        const struct img_registry_opts *o;
        char *host; /* "127.0.0.1:5000" */
        char *repo; /* "library/busybox" */
        char *base; /* "https://127.0.0.1:5000" */
        bool verify;
        char *auth; /* the Authorization header in use, if any */
        char *user, *password;
        CURL *curl;
        struct reg_board *board; /* on a terminal: its display; else NULL */
        const char *xfer_label;  /* a transfer drawn on the board: "<short digest>: Downloading" */
        double xfer_last;        /* when the progress line was last drawn */
        /* o->bytes_fn's layer (its short id), its size from the manifest, bytes last told */
        const char *xfer_id;
        const char *xfer_verb; /* its status: "Downloading" or "Pushing" */
        int64_t xfer_total, xfer_sent;
        int64_t xfer_base; /* a chunked upload: the bytes sent before this request */
        /* a pull's parallel downloads: their clones share its lock on what is told (progress
         * lines, the tty's bar) and its flag that ends every transfer once one has failed */
        pthread_mutex_t *mu;
        const atomic_bool *cancel;
};

struct reg_resp {
        long status;
        char *body; /* when no blob writer: the body, NUL-terminated */
        size_t len, max;
        struct img_blob_writer *blob; /* else: the body streams into a blob */
        char *www_auth, *location, *content_type, *docker_digest;
        bool too_large, write_failed;
        berth_error_t *err;
};

struct reg_req {
        const char *method;
        const char *path; /* "/v2/<repo>/manifests/x", or an absolute URL */
        const char *accept;
        const char *content_type;
        const char *header; /* one more header line ("Content-Range: 0-99"), or NULL */
        const void *body;   /* upload from memory ... */
        size_t body_len;
        int body_fd; /* ... or from an fd (-1: none) */
        uint64_t body_size;
};

static inline void reg_lock(const struct reg *r)
{
        if (r->mu)
                pthread_mutex_lock(r->mu);
}

static inline void reg_unlock(const struct reg *r)
{
        if (r->mu)
                pthread_mutex_unlock(r->mu);
}

/* Start a board when stdout is a terminal and o asks for plain progress (not quiet, no
 * progress_fn); r->board is b then, else NULL. */
void reg_board_start(struct reg *r, struct reg_board *b);
void reg_board_free(struct reg_board *b);
/* A progress line on the terminal, with r's lock held: "<12 hex>: status" replaces that layer's
 * line on the board (a new layer gets a new line), any other line goes below them all. */
void reg_board_line(const struct reg *r, const char *line);

/* Split a reference into registry host, repository and tag-or-digest; docker.io when no host. */
int reg_open(struct reg *r, const char *name, const struct img_registry_opts *o, char **ref,
             berth_error_t *err);
void reg_close(struct reg *r);
/* A second handle on src's registry (its scheme, credentials and token), for another thread. */
int reg_clone(struct reg *dst, const struct reg *src, berth_error_t *err);
/* GET /v2/: find the scheme (https, or http for insecure registries) and prime the auth. */
int reg_ping(struct reg *r, berth_error_t *err);
/* One request, re-sent once with credentials after a 401.  Transport failures return -1;
 * HTTP statuses come back in resp->status. */
int reg_do(struct reg *r, const struct reg_req *q, struct reg_resp *resp, berth_error_t *err);
void reg_resp_free(struct reg_resp *resp);
/* A failure naming the status and the registry's own error message. */
int reg_fail(struct reg *r, const struct reg_resp *resp, const char *what, berth_error_t *err);

#endif
