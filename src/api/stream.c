/* stream.c — replies that outlive the handler: chunked streams (logs, events, pull progress,
 * wait) and hijacked connections (attach, exec start: a 101 answer, then raw bytes). */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/api_internal.h"
#include "common/log.h"
#include "common/util.h"

void api_std_headers(struct MHD_Response *resp);

struct stream {
        api_stream_gen gen;
        void *ctx;
        void (*done)(void *ctx);
};

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
        (void) pos;
        struct stream *s = cls;
        ssize_t n = s->gen(s->ctx, buf, max);
        if (n == 0)
                return MHD_CONTENT_READER_END_OF_STREAM;
        if (n < 0)
                return MHD_CONTENT_READER_END_WITH_ERROR;
        return n;
}

static void stream_free(void *cls)
{
        struct stream *s = cls;
        if (s->done)
                s->done(s->ctx);
        free(s);
}

void api_stream(struct api_req *r, unsigned status, const char *content_type, api_stream_gen gen,
                void *ctx, void (*done)(void *ctx))
{
        struct stream *s = berth_xcalloc(1, sizeof(*s));
        *s = (struct stream){.gen = gen, .ctx = ctx, .done = done};
        struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024,
                                                                      stream_read, s, stream_free);
        if (content_type)
                MHD_add_response_header(resp, "Content-Type", content_type);
        api_std_headers(resp);
        if (r->resp) {
                MHD_destroy_response(resp);
                return;
        }
        r->resp = resp;
        r->status = status;
}

bool api_client_gone(int client_fd)
{
        if (client_fd < 0)
                return false;
        struct pollfd p = {.fd = client_fd, .events = POLLRDHUP};
        return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

ssize_t api_stream_read(int fd, char *buf, size_t max)
{
        for (;;) {
                ssize_t n = read(fd, buf, max);
                if (n >= 0)
                        return n;
                if (errno != EINTR)
                        return -1;
        }
}

bool api_pipe_thread(struct api_req *r, pthread_t *t, void *(*fn)(void *), void *arg, int *rfd,
                     int *wfd, const char *what)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0) {
                api_reply_error(r, 500, "pipe: %s", strerror(errno));
                *rfd = *wfd = -1;
                return false;
        }
        *rfd = p[0];
        *wfd = p[1];
        if (pthread_create(t, NULL, fn, arg) != 0) {
                api_reply_error(r, 500, "no thread for the %s", what);
                close(p[0]);
                close(p[1]);
                *rfd = *wfd = -1;
                return false;
        }
        return true;
}

bool api_pending_json_line(struct api_pending *p, json_t *j)
{
        char *text = json_dumps(j, JSON_COMPACT);
        if (text == NULL)
                return false;
        p->buf = berth_xasprintf("%s\n", text);
        free(text);
        p->off = 0;
        p->len = strlen(p->buf);
        return true;
}

ssize_t api_pending_take(struct api_pending *p, char *buf, size_t max)
{
        size_t n = p->len - p->off < max ? p->len - p->off : max;
        memcpy(buf, p->buf + p->off, n);
        p->off += n;
        if (p->off == p->len) {
                free(p->buf);
                p->buf = NULL;
        }
        return (ssize_t) n;
}

struct hijack {
        api_hijack_fn fn;
        void *ctx;
        void (*done)(void *ctx);
        int fd;
        char *extra;
        size_t extra_len;
        struct MHD_UpgradeResponseHandle *urh;
        struct api_req *req; /* until the upgrade: the request, which frees us if none comes */
};

static void *hijack_thread(void *arg)
{
        struct hijack *h = arg;
        h->fn(h->ctx, h->fd, h->extra, h->extra_len);
        if (h->done)
                h->done(h->ctx);
        MHD_upgrade_action(h->urh, MHD_UPGRADE_ACTION_CLOSE);
        free(h->extra);
        free(h);
        return NULL;
}

static void on_upgrade(void *cls, struct MHD_Connection *conn, void *con_cls, const char *extra_in,
                       size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
        (void) conn;
        (void) con_cls;
        struct hijack *h = cls;
        /* from here on the hijack thread owns h; the request's completion must not touch it
         * (libmicrohttpd calls this before the request's completion callback) */
        h->req->hijack = NULL;
        h->req = NULL;
        h->fd = sock;
        h->urh = urh;
        if (extra_in_size) {
                h->extra = berth_xmalloc(extra_in_size);
                memcpy(h->extra, extra_in, extra_in_size);
                h->extra_len = extra_in_size;
        }
        pthread_t t;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &a, hijack_thread, h) != 0) {
                log_warn("api: no thread for a hijacked connection");
                if (h->done)
                        h->done(h->ctx);
                MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
                free(h->extra);
                free(h);
        }
        pthread_attr_destroy(&a);
}

void api_hijack(struct api_req *r, api_hijack_fn fn, void *ctx, void (*done)(void *ctx))
{
        struct hijack *h = berth_xcalloc(1, sizeof(*h));
        *h = (struct hijack){.fn = fn, .ctx = ctx, .done = done, .fd = -1, .req = r};
        struct MHD_Response *resp = MHD_create_response_for_upgrade(on_upgrade, h);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_UPGRADE, "tcp");
        MHD_add_response_header(resp, "Content-Type", "application/vnd.docker.raw-stream");
        api_std_headers(resp);
        if (r->resp) {
                MHD_destroy_response(resp);
                api_hijack_abandon(h);
                return;
        }
        r->resp = resp;
        r->status = MHD_HTTP_SWITCHING_PROTOCOLS;
        r->hijack = h;
}

void api_hijack_abandon(struct hijack *h)
{
        /* the 101 never went out (the client left first): no thread ever runs fn, so the
         * context (an attach waiter, an exec marked running) is released here */
        if (h->done)
                h->done(h->ctx);
        free(h);
}
