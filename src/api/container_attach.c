/* container_attach.c — POST /containers/{id}/attach: a hijacked connection relayed to the
 * container's monitor (engine/attach.h), and the registry of clients waiting for a container
 * to start (container_io.h).
 *
 * The monitor's frames already carry Docker's 8-byte header, so without a tty they go to the
 * client as they are; with one, only their payload (raw bytes).  The client's bytes become
 * STDIN frames; its half-close (the CLI shuts its write side at once when it has no stdin)
 * only ends stdin.  The stream ends when the container exits. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "api/api_internal.h"
#include "api/container_io.h"
#include "api/containers.h"
#include "common/util.h"
#include "engine/attach.h"
#include "engine/detach.h"
#include "engine/events.h"
#include "engine/lifecycle.h"
#include "engine/logfile.h"

/* ------------------------------------------------------------- the registry */

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reg_cond = PTHREAD_COND_INITIALIZER;
static struct io_waiter *reg_head;

void io_waiter_init(struct io_waiter *w, const char *id, bool in, bool out, bool err)
{
        *w = (struct io_waiter){.mon_fd = -1};
        snprintf(w->id, sizeof(w->id), "%s", id);
        snprintf(w->hello, sizeof(w->hello), "{\"stdin\":%s,\"stdout\":%s,\"stderr\":%s}\n",
                 in ? "true" : "false", out ? "true" : "false", err ? "true" : "false");
}

void io_waiter_register(struct io_waiter *w)
{
        pthread_mutex_lock(&reg_lock);
        w->registered = true;
        w->taken = w->handed = false;
        w->mon_fd = -1;
        w->next = reg_head;
        reg_head = w;
        pthread_mutex_unlock(&reg_lock);
}

static void unlink_locked(struct io_waiter *w)
{
        for (struct io_waiter **p = &reg_head; *p; p = &(*p)->next) {
                if (*p == w) {
                        *p = w->next;
                        break;
                }
        }
        w->registered = false;
}

bool io_waiter_wait(struct io_waiter *w, int ms)
{
        struct timespec t;
        clock_gettime(CLOCK_REALTIME, &t);
        t.tv_sec += ms / 1000;
        t.tv_nsec += (long) (ms % 1000) * 1000000L;
        if (t.tv_nsec >= 1000000000L) {
                t.tv_sec++;
                t.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&reg_lock);
        while (!w->handed) {
                if (pthread_cond_timedwait(&reg_cond, &reg_lock, &t) == ETIMEDOUT)
                        break;
        }
        bool handed = w->handed;
        pthread_mutex_unlock(&reg_lock);
        return handed;
}

void io_waiter_leave(struct io_waiter *w)
{
        pthread_mutex_lock(&reg_lock);
        if (w->registered)
                unlink_locked(w);
        while (w->taken && !w->handed)
                pthread_cond_wait(&reg_cond, &reg_lock);
        pthread_mutex_unlock(&reg_lock);
}

size_t io_waiters_take(const char *id, struct io_waiter ***v)
{
        *v = NULL;
        size_t n = 0;
        pthread_mutex_lock(&reg_lock);
        for (struct io_waiter *w = reg_head, *next; w; w = next) {
                next = w->next;
                if (strcmp(w->id, id) != 0)
                        continue;
                unlink_locked(w);
                w->taken = true;
                *v = berth_xrealloc(*v, (n + 1) * sizeof(struct io_waiter *));
                (*v)[n++] = w;
        }
        pthread_mutex_unlock(&reg_lock);
        return n;
}

void io_waiters_hand(struct io_waiter **v, size_t n)
{
        pthread_mutex_lock(&reg_lock);
        for (size_t i = 0; i < n; i++)
                v[i]->handed = true;
        pthread_cond_broadcast(&reg_cond);
        pthread_mutex_unlock(&reg_lock);
}

int io_monitor_connect(const char *run_dir, const char *hello, berth_error_t *err)
{
        int fd = eng_unix_connect(run_dir, "attach.sock", err);
        if (fd < 0)
                return -1;
        if (berth_write_all(fd, hello, strlen(hello)) < 0) {
                int e = errno;
                close(fd);
                return berth_fail(err, e, "talk to the container's monitor");
        }
        return fd;
}

bool io_peer_closed(int fd)
{
        struct pollfd p = {.fd = fd, .events = 0};
        return poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR | POLLNVAL));
}

/* --------------------------------------------------------------- the attach */

struct attach {
        struct io_waiter w;
        char *run_dir;
        char *log_path;
        unsigned max_file;
        bool tty, in, out, err, stream, logs;
        bool waiting;           /* registered before the 101: the container was not running */
        struct eng_detach keys; /* with a tty and stdin: the client's way out */
        char *events_dir, *id;  /* for the detach event */
        json_t *event_attrs;
};

static void attach_free(void *arg)
{
        struct attach *a = arg;
        if (a->waiting) {
                io_waiter_leave(&a->w);
                if (a->w.mon_fd >= 0)
                        close(a->w.mon_fd);
        }
        free(a->run_dir);
        free(a->log_path);
        free(a->events_dir);
        free(a->id);
        json_decref(a->event_attrs);
        free(a);
}

/* One piece of output to the client: a frame as the monitor's (without a tty) or raw. */
static int client_write(int fd, bool tty, int type, const char *buf, size_t len)
{
        unsigned char h[8] = {(unsigned char) type};
        for (int k = 0; k < 4; k++)
                h[4 + k] = (unsigned char) (len >> (24 - 8 * k)); /* big-endian length */
        /* writev's iovec is not const; buf is only read */
        /* NOLINTNEXTLINE(performance-no-int-to-ptr): drops const past -Wcast-qual, not an int */
        struct iovec iov[2] = {{h, 8}, {(void *) (uintptr_t) buf, len}};
        int i = tty ? 1 : 0;
        size_t left = (tty ? 0 : 8) + len;
        while (left > 0) {
                ssize_t n = writev(fd, iov + i, 2 - i);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                left -= (size_t) n;
                while (i < 2 && (size_t) n >= iov[i].iov_len) {
                        n -= (ssize_t) iov[i].iov_len;
                        i++;
                }
                if (i < 2) {
                        iov[i].iov_base = (char *) iov[i].iov_base + n;
                        iov[i].iov_len -= (size_t) n;
                }
        }
        return 0;
}

struct log_emit {
        int fd;
        bool tty;
};

static int emit_to_client(void *ctx, enum eng_log_stream s, const char *buf, size_t len)
{
        struct log_emit *le = ctx;
        return client_write(le->fd, le->tty, s == ENG_LOG_STDERR ? 2 : 1, buf, len);
}

/* logs=1: what the container wrote so far comes first. */
static void replay_logs(struct attach *a, int fd)
{
        if (!a->log_path || (!a->out && !a->err))
                return;
        struct log_emit le = {.fd = fd, .tty = a->tty};
        struct eng_log_read_opts o = {.want_stdout = a->out,
                                      .want_stderr = a->err,
                                      .tail = -1,
                                      .stop_fd = -1,
                                      .max_file = a->max_file,
                                      .emit = emit_to_client,
                                      .emit_ctx = &le};
        berth_error_t err = NULL;
        eng_logfile_read(a->log_path, &o, -1, -1, &err);
        berth_error_release(&err);
}

/* Relay until the container exits, the monitor goes, or the client does. */
static void relay(struct attach *a, int cfd, int mon, const char *extra, size_t extra_len)
{
        if (a->in && extra_len)
                eng_frame_send(mon, ENG_FRAME_STDIN, extra, extra_len);
        bool client_open = true;
        char *buf = NULL;
        size_t cap = 0;
        for (;;) {
                /* after the client's half-close, events 0 still reports its hang-up */
                struct pollfd p[2] = {{.fd = mon, .events = POLLIN},
                                      {.fd = cfd, .events = client_open ? POLLIN : 0}};
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[0].revents) {
                        enum eng_frame type;
                        size_t len;
                        if (eng_frame_recv(mon, &type, &buf, &cap, &len) < 0)
                                break;
                        if (type == ENG_FRAME_EXIT || type == ENG_FRAME_ERROR)
                                break;
                        if ((type == ENG_FRAME_STDOUT || type == ENG_FRAME_STDERR) &&
                            client_write(cfd, a->tty, (int) type, buf, len) < 0)
                                break;
                        continue;
                }
                if (p[1].revents & (POLLHUP | POLLERR | POLLNVAL) && !(p[1].revents & POLLIN))
                        break;
                if (p[1].revents & POLLIN) {
                        char in[16384];
                        ssize_t n = read(cfd, in, sizeof(in));
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n < 0)
                                break;
                        if (n == 0) {
                                client_open = false;
                                if (a->in)
                                        eng_frame_send(mon, ENG_FRAME_STDIN_EOF, NULL, 0);
                                continue;
                        }
                        if (!a->in)
                                continue;
                        /* dockerd's escape proxy: on a tty the detach keys end the attach
                         * (the container runs on) and never reach it */
                        char pass[sizeof(in) + ENG_DETACH_MAX];
                        size_t n_pass = (size_t) n;
                        bool detach = false;
                        if (a->tty)
                                detach = eng_detach_filter(&a->keys, in, (size_t) n, pass, &n_pass);
                        else
                                memcpy(pass, in, n_pass);
                        if (n_pass && eng_frame_send(mon, ENG_FRAME_STDIN, pass, n_pass) < 0)
                                break;
                        if (detach) {
                                eng_event_container_attrs(a->events_dir, a->id, "detach",
                                                          a->event_attrs, NULL);
                                break;
                        }
                }
        }
        free(buf);
}

/* A client that came before its container's start: wait for the start handler to hand it
 * the monitor's connection, or for a start from elsewhere (then connect directly). */
static int await_start(struct attach *a, int cfd)
{
        for (;;) {
                if (io_waiter_wait(&a->w, 200)) {
                        a->waiting = false;
                        io_waiter_leave(&a->w);
                        if (a->w.mon_fd >= 0)
                                return a->w.mon_fd;
                        break; /* no monitor to attach: already running, or a failed start */
                }
                if (io_peer_closed(cfd)) {
                        /* the client left: attach_free leaves the registry */
                        return -1;
                }
                berth_error_t err = NULL;
                int fd = io_monitor_connect(a->run_dir, a->w.hello, &err);
                berth_error_release(&err);
                if (fd >= 0) {
                        a->waiting = false;
                        io_waiter_leave(&a->w);
                        if (a->w.mon_fd >= 0) { /* a start took us meanwhile: use its */
                                close(fd);
                                return a->w.mon_fd;
                        }
                        return fd;
                }
        }
        berth_error_t err = NULL;
        int fd = io_monitor_connect(a->run_dir, a->w.hello, &err);
        berth_error_release(&err);
        return fd;
}

static void attach_run(void *ctx, int cfd, const char *extra, size_t extra_len)
{
        struct attach *a = ctx;
        if (a->logs)
                replay_logs(a, cfd);
        if (!a->stream)
                return;
        int mon;
        if (a->waiting) {
                mon = await_start(a, cfd);
                if (!a->waiting)
                        a->w.mon_fd = -1; /* out of the registry: mon is ours now */
        } else {
                berth_error_t err = NULL;
                mon = io_monitor_connect(a->run_dir, a->w.hello, &err);
                berth_error_release(&err);
        }
        if (mon < 0)
                return;
        relay(a, cfd, mon, extra, extra_len);
        close(mon);
}

void io_attach(struct api_req *r)
{
        struct eng_ctx e;
        struct eng_container *c = api_container_find(r, &e, r->params[0], false);
        if (c == NULL)
                return;
        json_t *cfg = json_object_get(c->doc, "Config");
        struct attach *a = berth_xcalloc(1, sizeof(*a));
        a->tty = json_is_true(json_object_get(cfg, "Tty"));
        /* stdin only reaches a container created with it open (-i) */
        a->in = api_query_bool(r, "stdin", false) &&
                json_is_true(json_object_get(cfg, "OpenStdin"));
        a->out = api_query_bool(r, "stdout", false);
        a->err = api_query_bool(r, "stderr", false);
        a->stream = api_query_bool(r, "stream", false);
        a->logs = api_query_bool(r, "logs", false);
        a->run_dir = berth_xstrdup(c->run_dir);
        const char *lp = json_string_value(json_object_get(c->doc, "LogPath"));
        a->log_path = lp ? berth_xstrdup(lp) : NULL;
        const char *mf = json_string_value(json_object_get(
                json_object_get(json_object_get(json_object_get(c->doc, "HostConfig"), "LogConfig"),
                                "Config"),
                "max-file"));
        a->max_file = mf ? (unsigned) strtoul(mf, NULL, 10) : 1;
        io_waiter_init(&a->w, c->id, a->in, a->out, a->err);
        berth_error_t kerr = NULL;
        const char *dk = api_query(r, "detachKeys");
        if (a->tty && eng_detach_init(&a->keys, dk && *dk ? dk : NULL, &kerr) < 0) {
                api_reply_error(r, 400, "%s", berth_error_msg(kerr));
                berth_error_release(&kerr);
                api_container_done(c, &e);
                attach_free(a);
                return;
        }
        a->events_dir = eng_events_dir(&e);
        a->id = berth_xstrdup(c->id);
        a->event_attrs = eng_event_attrs(c);
        eng_reconcile(&e, c, NULL);
        cleanup_free char *paused =
                strcmp(eng_container_status(c), "paused") == 0 ? berth_xstrdup(r->params[0]) : NULL;
        /* no monitor yet: register now, before the 101, since the CLI sends start as soon
         * as it has the 101 */
        if (a->stream && !eng_monitor_alive(c)) {
                a->waiting = true;
                io_waiter_register(&a->w);
        }
        if (!paused)
                eng_event_container(&e, c, "attach", NULL);
        api_container_done(c, &e);
        if (paused) {
                api_reply_error(r, 409,
                                "container %s is paused, unpause the container before attach.",
                                paused);
                attach_free(a);
                return;
        }
        api_hijack(r, attach_run, a, attach_free);
}
