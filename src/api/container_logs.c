/* container_logs.c — GET /containers/{id}/logs: the json-file log (engine/logfile.h) as
 * dockerd sends it: 8-byte framed entries without a tty, raw bytes with one, no Content-Type,
 * and with follow=1 open until the container's monitor is gone or the client leaves.
 *
 * The engine's reader pushes entries; the HTTP stream pulls.  A thread runs the reader into
 * a pipe that the stream's generator drains.  When the stream ends first (the client left),
 * an eventfd in the reader's stop set ends its following, and the closed pipe its writing. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>

#include "api/api_internal.h"
#include "api/container_io.h"
#include "api/containers.h"
#include "common/log.h"
#include "common/util.h"
#include "engine/lifecycle.h"
#include "engine/logfile.h"

struct logs {
        atomic_int refs;
        int rfd, wfd; /* the pipe: the reader thread writes, the stream reads */
        int stop_efd; /* written when the stream is over */
        int epfd;     /* the reader's stop_fd: the monitor's pidfd and stop_efd */
        int pidfd;
        int client_fd;
        bool tty;
        char *path;
        struct eng_log_read_opts o;
};

static void logs_unref(struct logs *l)
{
        if (atomic_fetch_sub(&l->refs, 1) != 1)
                return;
        berth_closep(&l->rfd);
        berth_closep(&l->wfd);
        berth_closep(&l->stop_efd);
        berth_closep(&l->epfd);
        berth_closep(&l->pidfd);
        free(l->path);
        free(l);
}

static int emit_frame(void *ctx, enum eng_log_stream s, const char *buf, size_t len)
{
        struct logs *l = ctx;
        unsigned char h[8] = {s == ENG_LOG_STDERR ? 2 : 1};
        for (int k = 0; k < 4; k++)
                h[4 + k] = (unsigned char) (len >> (24 - 8 * k)); /* big-endian length */
        if (!l->tty && berth_write_all(l->wfd, h, sizeof(h)) < 0)
                return -1;
        return berth_write_all(l->wfd, buf, len);
}

static void *reader_thread(void *arg)
{
        struct logs *l = arg;
        berth_error_t err = NULL;
        if (eng_logfile_read(l->path, &l->o, -1, -1, &err) < 0) {
                if (err && err->errnum != EPIPE)
                        log_debug("api: logs: %s", berth_error_msg(err));
                berth_error_release(&err);
        }
        berth_closep(&l->wfd); /* the end of the stream */
        logs_unref(l);
        return NULL;
}

static ssize_t logs_gen(void *ctx, char *buf, size_t max)
{
        struct logs *l = ctx;
        for (;;) {
                struct pollfd p[2] = {{.fd = l->rfd, .events = POLLIN},
                                      {.fd = l->client_fd, .events = POLLRDHUP}};
                int n = poll(p, l->client_fd >= 0 ? 2 : 1, -1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -1;
                if (p[0].revents) {
                        ssize_t r = read(l->rfd, buf, max);
                        if (r < 0 && errno == EINTR)
                                continue;
                        return r < 0 ? -1 : r; /* 0: the reader is done */
                }
                if (p[1].revents)
                        return -1; /* the client left (a GET has nothing more to send) */
        }
}

static void logs_done(void *ctx)
{
        struct logs *l = ctx;
        uint64_t one = 1;
        if (write(l->stop_efd, &one, sizeof(one)) < 0)
                log_debug("api: logs: stop the reader: %s", strerror(errno));
        berth_closep(&l->rfd); /* a reader still writing gets EPIPE */
        logs_unref(l);
}

bool io_parse_unix_time(const char *s, long long *ns)
{
        *ns = 0;
        if (s == NULL || *s == '\0')
                return true;
        char *end;
        long long sec = strtoll(s, &end, 10);
        if (end == s || sec < 0)
                return false;
        long long frac = 0, scale = 100000000LL;
        if (*end == '.') {
                for (end++; *end >= '0' && *end <= '9'; end++, scale /= 10)
                        if (scale > 0)
                                frac += (*end - '0') * scale;
        }
        if (*end)
                return false;
        *ns = sec * 1000000000LL + frac;
        return true;
}

static bool parse_options(struct api_req *r, struct eng_log_read_opts *o)
{
        *o = (struct eng_log_read_opts){.tail = -1, .stop_fd = -1};
        o->want_stdout = api_query_bool(r, "stdout", false);
        o->want_stderr = api_query_bool(r, "stderr", false);
        if (!o->want_stdout && !o->want_stderr) {
                api_reply_error(r, 400, "Bad parameters: you must choose at least one stream");
                return false;
        }
        o->follow = api_query_bool(r, "follow", false);
        o->timestamps = api_query_bool(r, "timestamps", false);
        const char *tail = api_query(r, "tail");
        if (tail && strcmp(tail, "all") != 0 && *tail) {
                char *end;
                long n = strtol(tail, &end, 10);
                o->tail = *end || n < 0 ? -1 : n; /* dockerd: anything else is all */
        }
        long long since, until;
        const char *qs = api_query(r, "since"), *qu = api_query(r, "until");
        if (!io_parse_unix_time(qs, &since)) {
                api_reply_error(r, 400, "invalid value for \"since\": %s", qs);
                return false;
        }
        if (!io_parse_unix_time(qu, &until)) {
                api_reply_error(r, 400, "invalid value for \"until\": %s", qu);
                return false;
        }
        o->since_ns = since;
        o->until_ns = until;
        return true;
}

static void logs_free_early(struct logs *l)
{
        atomic_store(&l->refs, 1);
        logs_unref(l);
}

void io_logs(struct api_req *r)
{
        struct eng_log_read_opts o;
        if (!parse_options(r, &o))
                return;
        struct eng_ctx e;
        struct eng_container *c = api_container_find(r, &e, r->params[0], false);
        if (c == NULL)
                return;
        berth_error_t err = NULL;
        struct logs *l = berth_xcalloc(1, sizeof(*l));
        *l = (struct logs){.rfd = -1,
                           .wfd = -1,
                           .stop_efd = -1,
                           .epfd = -1,
                           .pidfd = -1,
                           .client_fd = r->client_fd};
        atomic_init(&l->refs, 2);
        l->tty = json_is_true(json_object_get(json_object_get(c->doc, "Config"), "Tty"));
        const char *path = NULL;
        int rc = eng_container_log_source(c, &o, &path, &l->pidfd, &err);
        if (rc == 0)
                l->path = berth_xstrdup(path);
        api_container_done(c, &e);
        if (rc < 0) {
                /* dockerd: a driver that can't be read is "not implemented" */
                api_reply_error(r, 501, "%s", api_error_text(err));
                berth_error_release(&err);
                logs_free_early(l);
                return;
        }
        int p[2];
        l->stop_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        l->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (l->stop_efd < 0 || l->epfd < 0 || pipe2(p, O_CLOEXEC) < 0) {
                api_reply_error(r, 500, "logs: %s", strerror(errno));
                logs_free_early(l);
                return;
        }
        l->rfd = p[0];
        l->wfd = p[1];
        struct epoll_event ev = {.events = EPOLLIN};
        epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->stop_efd, &ev);
        if (l->pidfd >= 0)
                epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->pidfd, &ev);
        o.stop_fd = l->epfd;
        o.emit = emit_frame;
        o.emit_ctx = l;
        l->o = o;
        pthread_t t;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        int pr = pthread_create(&t, &a, reader_thread, l);
        pthread_attr_destroy(&a);
        if (pr != 0) {
                api_reply_error(r, 500, "logs: no thread for the reader");
                logs_free_early(l);
                return;
        }
        api_stream(r, 200, NULL, logs_gen, l, logs_done);
}
