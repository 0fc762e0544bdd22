/* exec_io.c — an exec's run and its stream: the process started through engine/exec.h, its
 * stdio on pipes (or its pty's master with Tty), relayed to the hijacked client connection.
 *
 * Without a tty, stdout and stderr go out as Docker's multiplexed frames (an 8-byte header:
 * stream, 0 0 0, big-endian length), with one raw.  The client's stdin goes to the process;
 * its half-close closes the process's stdin but output keeps flowing until the process exits,
 * and then the server closes the connection. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "api/api_internal.h"
#include "api/exec.h"
#include "common/fdpass.h"
#include "common/util.h"
#include "engine/detach.h"
#include "engine/exec.h"

/* How long output may still come once the process exited (from children it left behind
 * holding its stdio), at most, between two reads. */
#define DRAIN_MS 200

struct relay {
        int client;     /* -1: detached, or the client has gone */
        bool client_in; /* the client may still send stdin */
        int in;         /* the process's stdin (pipe or master), -1 when closed */
        int out[2];     /* stdout, stderr pipes; or out[0] the master */
        bool tty;
        char pending[16384]; /* stdin read from the client, not yet taken by the process */
        size_t pending_len, pending_off;
        struct eng_detach keys; /* with a tty: the client's way out (the process runs on) */
};

/* All of buf to the client (blocking on a full socket); false once it is gone. */
static bool client_send(struct relay *rl, const struct iovec *iov_in, int n)
{
        struct iovec iov[2];
        memcpy(iov, iov_in, (size_t) n * sizeof(*iov));
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t) n};
        while (mh.msg_iovlen) {
                ssize_t w = sendmsg(rl->client, &mh, MSG_NOSIGNAL);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) {
                                struct pollfd p = {.fd = rl->client, .events = POLLOUT};
                                poll(&p, 1, -1);
                                continue;
                        }
                        return false;
                }
                while (mh.msg_iovlen && (size_t) w >= mh.msg_iov[0].iov_len) {
                        w -= (ssize_t) mh.msg_iov[0].iov_len;
                        mh.msg_iov++;
                        mh.msg_iovlen--;
                }
                if (mh.msg_iovlen) {
                        mh.msg_iov[0].iov_base = (char *) mh.msg_iov[0].iov_base + w;
                        mh.msg_iov[0].iov_len -= (size_t) w;
                }
        }
        return true;
}

/* One piece of output, framed unless raw; dropped once the client is gone, so that the process
 * never blocks on a full pipe. */
static void emit(struct relay *rl, int stream, const char *buf, size_t len)
{
        if (rl->client < 0)
                return;
        unsigned char h[8] = {(unsigned char) stream,
                              0,
                              0,
                              0,
                              (unsigned char) (len >> 24),
                              (unsigned char) (len >> 16),
                              (unsigned char) (len >> 8),
                              (unsigned char) len};
        /* iovec is not const; buf is only read */
        /* NOLINTNEXTLINE(performance-no-int-to-ptr): drops const past -Wcast-qual, not an int */
        struct iovec iov[2] = {{h, sizeof(h)}, {(void *) (uintptr_t) buf, len}};
        bool ok = rl->tty ? client_send(rl, iov + 1, 1) : client_send(rl, iov, 2);
        if (!ok) {
                rl->client = -1;
                rl->client_in = false;
        }
}

static void close_in(struct relay *rl)
{
        /* a pty has no half-close: its master stays for output */
        if (rl->in >= 0 && !rl->tty)
                close(rl->in);
        rl->in = -1;
        rl->pending_len = rl->pending_off = 0;
}

/* The client typed the detach keys: its stream ends, the process runs on unattached. */
static void detach_client(struct relay *rl)
{
        shutdown(rl->client, SHUT_RDWR);
        rl->client = -1;
        rl->client_in = false;
}

static void from_client(struct relay *rl)
{
        char in[sizeof(rl->pending) - ENG_DETACH_MAX];
        ssize_t n = read(rl->client, in, sizeof(in));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n <= 0) {
                /* a half-close, or the client went: either way no more stdin */
                rl->client_in = false;
                close_in(rl);
                return;
        }
        if (rl->in < 0)
                return; /* no stdin attached: what the client sends is dropped */
        size_t len = (size_t) n;
        bool detach = false;
        if (rl->tty)
                detach = eng_detach_filter(&rl->keys, in, len, rl->pending, &len);
        else
                memcpy(rl->pending, in, len);
        rl->pending_len = len;
        rl->pending_off = 0;
        if (detach)
                detach_client(rl);
}

static void to_process(struct relay *rl)
{
        ssize_t n = write(rl->in, rl->pending + rl->pending_off, rl->pending_len - rl->pending_off);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (n < 0) { /* the process closed its stdin */
                close_in(rl);
                return;
        }
        rl->pending_off += (size_t) n;
        if (rl->pending_off == rl->pending_len)
                rl->pending_len = rl->pending_off = 0;
}

static bool from_process(struct relay *rl, int i)
{
        char buf[32768];
        ssize_t n = read(rl->out[i], buf, sizeof(buf));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
                return true;
        if (n <= 0) { /* EOF, or EIO from a master whose slave is closed */
                if (rl->tty)
                        rl->in = -1; /* the master: exec_io_run closes it */
                else
                        close(rl->out[i]);
                rl->out[i] = -1;
                return false;
        }
        emit(rl, i + 1, buf, (size_t) n);
        return true;
}

/* Relay until the process exited and its output ended (or dried up for DRAIN_MS). */
static void relay(struct relay *rl, struct eng_exec_proc *p)
{
        bool exited = false;
        for (;;) {
                if (exited && rl->out[0] < 0 && rl->out[1] < 0)
                        break;
                struct pollfd pf[5] = {
                        {rl->client_in && !rl->pending_len ? rl->client : -1, POLLIN, 0},
                        {rl->pending_len ? rl->in : -1, POLLOUT, 0},
                        {rl->out[0], POLLIN, 0},
                        {rl->out[1], POLLIN, 0},
                        {exited ? -1 : p->report_fd, POLLIN, 0},
                };
                int n = poll(pf, 5, exited ? DRAIN_MS : -1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                if (pf[0].revents)
                        from_client(rl);
                if (pf[1].revents && rl->in >= 0)
                        to_process(rl);
                for (int i = 0; i < 2; i++)
                        if (pf[2 + i].revents && rl->out[i] >= 0)
                                from_process(rl, i);
                if (pf[4].revents)
                        exited = true;
        }
}

/* dockerd's exit codes for a process that could not start. */
static int start_status(berth_error_t e)
{
        return e && e->errnum == ENOENT ? 127 : 126;
}

void exec_io_run(struct exec_launch *l, int client_fd, const char *extra, size_t extra_len)
{
        struct exec_inst *x = l->x;
        struct relay rl = {.client = client_fd, .in = -1, .out = {-1, -1}, .tty = x->tty};
        if (x->tty) {
                /* checked at create: a bad spec cannot come here */
                berth_error_t kerr = NULL;
                eng_detach_init(&rl.keys, x->detach_keys && *x->detach_keys ? x->detach_keys : NULL,
                                &kerr);
                berth_error_release(&kerr);
        }
        int child[3] = {-1, -1, -1}, console[2] = {-1, -1};
        bool attached = client_fd >= 0;
        berth_error_t err = NULL;
        struct eng_exec_proc p;
        if (l->fail) {
                char *m = berth_xasprintf("%s\r\n", l->fail);
                emit(&rl, 1, m, strlen(m));
                free(m);
                exec_finish(x, l->fail_status);
                return;
        }
        exec_event(x, "exec_start");
        if (attached)
                fcntl(client_fd, F_SETFL, fcntl(client_fd, F_GETFL) | O_NONBLOCK);
        int pf[2];
        if (x->tty) {
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, console) < 0)
                        berth_fail(&err, errno, "socketpair");
        } else {
                bool want[3] = {attached && x->open_stdin, attached && x->open_stdout,
                                attached && x->open_stderr};
                for (int i = 0; i < 3 && !err; i++) {
                        if (!want[i])
                                continue;
                        if (pipe2(pf, O_CLOEXEC) < 0) {
                                berth_fail(&err, errno, "pipe");
                                break;
                        }
                        child[i] = i == 0 ? pf[0] : pf[1];
                        if (i == 0)
                                rl.in = pf[1];
                        else
                                rl.out[i - 1] = pf[0];
                }
        }
        struct eng_exec_spec s = {
                .args = x->cmd,
                .env = l->env,
                .n_env = l->n_env,
                .user = l->uid_gid,
                .gids = l->gids,
                .cwd = x->workdir,
                .tty = x->tty,
                .privileged = x->privileged,
                .stdio = {child[0], child[1], child[2]},
                .console = console[1],
        };
        int ok = err ? -1 : eng_exec_spawn(l->oci_root, x->container_id, &s, &p, &err);
        for (int i = 0; i < 3; i++)
                if (child[i] >= 0)
                        close(child[i]);
        if (console[1] >= 0)
                close(console[1]);
        if (ok == 0)
                ok = eng_exec_started(&p, &err);
        int master = -1;
        if (ok == 0 && x->tty) {
                master = berth_recv_fd(console[0], &err);
                if (master < 0) {
                        kill(p.pid, SIGKILL);
                        eng_exec_wait(&p);
                        ok = -1;
                }
        }
        if (console[0] >= 0)
                close(console[0]);
        if (ok < 0) {
                char *m = berth_xasprintf("OCI runtime exec failed: %s: unknown\r\n",
                                          api_error_text(err));
                emit(&rl, 1, m, strlen(m));
                free(m);
                int st = start_status(err);
                berth_error_release(&err);
                close_in(&rl);
                for (int i = 0; i < 2; i++)
                        if (rl.out[i] >= 0)
                                close(rl.out[i]);
                exec_finish(x, st);
                return;
        }
        if (master >= 0) {
                fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK);
                rl.in = attached && x->open_stdin ? master : -1;
                rl.out[0] = master; /* read even when detached: a full pty would stop it */
        }
        if (rl.in >= 0)
                fcntl(rl.in, F_SETFL, fcntl(rl.in, F_GETFL) | O_NONBLOCK);
        pthread_mutex_lock(&exec_lock);
        x->pid = p.pid;
        x->master = master;
        exec_apply_size_locked(x);
        pthread_mutex_unlock(&exec_lock);
        rl.client_in = attached;
        if (extra_len && rl.in >= 0) {
                /* what the client sent right after its request is stdin already */
                for (size_t off = 0; off < extra_len;) {
                        size_t k = extra_len - off < sizeof(rl.pending) ? extra_len - off
                                                                        : sizeof(rl.pending);
                        memcpy(rl.pending, extra + off, k);
                        rl.pending_len = k;
                        rl.pending_off = 0;
                        while (rl.pending_len && rl.in >= 0) {
                                struct pollfd w = {rl.in, POLLOUT, 0};
                                poll(&w, 1, 1000);
                                to_process(&rl);
                        }
                        off += k;
                }
        }
        relay(&rl, &p);
        int status = eng_exec_wait(&p);
        close_in(&rl);
        for (int i = 0; i < 2; i++)
                if (rl.out[i] >= 0 && rl.out[i] != master)
                        close(rl.out[i]);
        pthread_mutex_lock(&exec_lock);
        x->master = -1;
        pthread_mutex_unlock(&exec_lock);
        if (master >= 0)
                close(master);
        exec_finish(x, status);
}
