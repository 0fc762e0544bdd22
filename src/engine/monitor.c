/* monitor.c — the per-container monitor process (see monitor.h). */
#include "engine/monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/log.h"
#include "common/units.h"
#include "common/util.h"
#include "engine/attach.h"
#include "engine/container.h"
#include "engine/events.h"
#include "engine/health.h"
#include "engine/logfile.h"
#include "oci/oci.h"

#define MAX_CLIENTS 16
#define SYNC_FD     3

struct client {
        int fd;
        bool hello;
        bool want_stdin, want_stdout, want_stderr;
        char line[512];
        size_t line_len;
};

struct mon {
        struct eng_ctx e;
        struct eng_container *c;
        struct oci_ctx oci;
        char *bundle, *attach_path, *console_path, *console_short, *pid_path;
        int run_dirfd;
        bool tty, open_stdin, wait_attach, remove_on_exit;
        json_int_t start_gen; /* the start that made this monitor (state's BerthStarts) */
        int listen_fd, console_fd, sfd, sync_fd;
        int out_r, err_r, master, in_w;
        char *pending_in; /* stdin waiting for room in the container's pipe */
        size_t pending_len;
        struct eng_logfile *log;
        struct client clients[MAX_CLIENTS];
        size_t n_clients;
        pid_t pid;
        bool start_requested;
        char *frame;
        size_t frame_cap;
        struct eng_health health;
};

static void sync_say(struct mon *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sync_say(struct mon *m, const char *fmt, ...)
{
        if (m->sync_fd < 0)
                return;
        char buf[1024];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
        va_end(ap);
        if (n < 0)
                return;
        if ((size_t) n > sizeof(buf) - 2)
                n = (int) sizeof(buf) - 2;
        buf[n++] = '\n';
        (void) berth_write_all(m->sync_fd, buf, (size_t) n);
}

/* Update state.json under the record's lock.  fn edits the State object. */
static int update_state(struct mon *m, void (*fn)(struct mon *, json_t *st), berth_error_t *err)
{
        if (eng_container_lock(m->c, err) < 0)
                return -1;
        fn(m, eng_container_state(m->c));
        int r = eng_container_save_state(m->c, err);
        eng_container_unlock(m->c);
        return r;
}

static void set_str(json_t *o, const char *k, const char *v)
{
        json_object_set_new(o, k, json_string(v));
}

static void st_running(struct mon *m, json_t *st)
{
        cleanup_free char *now = eng_now_rfc3339();
        set_str(st, "Status", "running");
        json_object_set_new(st, "Running", json_true());
        json_object_set_new(st, "Restarting", json_false());
        json_object_set_new(st, "Paused", json_false());
        json_object_set_new(st, "OOMKilled", json_false());
        json_object_set_new(st, "Pid", json_integer(m->pid));
        json_object_set_new(st, "ExitCode", json_integer(0));
        set_str(st, "Error", "");
        set_str(st, "StartedAt", now);
        json_object_set_new(m->c->state, "Monitor",
                            json_pack("{s:i}", "Pid", (json_int_t) getpid()));
        if (m->health.test)
                json_object_set_new(st, "Health",
                                    json_pack("{s:s, s:i, s:[]}", "Status", "starting",
                                              "FailingStreak", 0, "Log"));
}

/* ---------------------------------------------------------------- clients */

static void client_drop(struct mon *m, size_t i)
{
        close(m->clients[i].fd);
        m->clients[i] = m->clients[--m->n_clients];
}

static void broadcast(struct mon *m, enum eng_frame type, const char *buf, size_t len)
{
        for (size_t i = 0; i < m->n_clients;) {
                struct client *cl = &m->clients[i];
                bool want = type == ENG_FRAME_STDOUT   ? cl->want_stdout
                            : type == ENG_FRAME_STDERR ? cl->want_stderr
                                                       : true;
                if (cl->hello && want && eng_frame_send(cl->fd, type, buf, len) < 0) {
                        client_drop(m, i);
                        continue;
                }
                i++;
        }
}

static void queue_stdin(struct mon *m, const char *buf, size_t len)
{
        int fd = m->tty ? m->master : m->in_w;
        if (fd < 0)
                return;
        /* a container that does not read must not block the monitor: keep
         * what does not fit (up to 1 MiB) and write it when there is room */
        if (m->pending_len == 0) {
                ssize_t w = write(fd, buf, len);
                if (w < 0)
                        w = 0;
                buf += w;
                len -= (size_t) w;
        }
        if (len && m->pending_len + len <= (1u << 20)) {
                m->pending_in = berth_xrealloc(m->pending_in, m->pending_len + len);
                memcpy(m->pending_in + m->pending_len, buf, len);
                m->pending_len += len;
        }
}

static void close_stdin(struct mon *m)
{
        if (m->tty) {
                queue_stdin(m, "\x04", 1); /* EOF at the start of a line on a pty */
                return;
        }
        if (m->in_w >= 0 && m->pending_len == 0)
                berth_closep(&m->in_w);
}

static void client_hello(struct mon *m, struct client *cl)
{
        json_t *h = json_loadb(cl->line, cl->line_len, 0, NULL);
        cl->want_stdin = json_is_true(json_object_get(h, "stdin"));
        cl->want_stdout = !json_is_false(json_object_get(h, "stdout"));
        cl->want_stderr = !json_is_false(json_object_get(h, "stderr"));
        cl->hello = true;
        json_decref(h);
        if (m->pid > 0) {
                char p[32];
                int n = snprintf(p, sizeof(p), "%d", (int) m->pid);
                eng_frame_send(cl->fd, ENG_FRAME_STARTED, p, (size_t) n);
        }
}

/* Returns false when the client must be dropped. */
static bool client_read(struct mon *m, struct client *cl)
{
        if (!cl->hello) {
                /* peek, so that frames sent right behind the hello line stay queued */
                ssize_t r = recv(cl->fd, cl->line, sizeof(cl->line), MSG_PEEK);
                if (r <= 0)
                        return false;
                char *nl = memchr(cl->line, '\n', (size_t) r);
                if (nl == NULL)
                        return (size_t) r < sizeof(cl->line);
                size_t take = (size_t) (nl - cl->line) + 1;
                if (read(cl->fd, cl->line, take) != (ssize_t) take)
                        return false;
                cl->line_len = take - 1;
                client_hello(m, cl);
                return true;
        }
        enum eng_frame type;
        size_t len;
        if (eng_frame_recv(cl->fd, &type, &m->frame, &m->frame_cap, &len) < 0)
                return false;
        switch (type) {
        case ENG_FRAME_STDIN:
                if (cl->want_stdin)
                        queue_stdin(m, m->frame, len);
                break;
        case ENG_FRAME_STDIN_EOF:
                if (cl->want_stdin)
                        close_stdin(m);
                break;
        case ENG_FRAME_RESIZE: {
                unsigned rows = 0, cols = 0;
                if (m->master >= 0 && sscanf(m->frame, "%u %u", &rows, &cols) == 2 && rows &&
                    cols && rows < 10000 && cols < 10000) {
                        struct winsize ws = {.ws_row = (unsigned short) rows,
                                             .ws_col = (unsigned short) cols};
                        ioctl(m->master, TIOCSWINSZ, &ws);
                }
                break;
        }
        case ENG_FRAME_START:
                m->start_requested = true;
                break;
        default:
                break; /* frames a client may not send are ignored */
        }
        return true;
}

static void accept_client(struct mon *m)
{
        int fd = accept4(m->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
                return;
        if (m->n_clients == MAX_CLIENTS) {
                close(fd);
                return;
        }
        m->clients[m->n_clients++] = (struct client){.fd = fd};
}

/* ------------------------------------------------------------------ stdio */

/* The container's stdio: fds 0-2 of this process while oci_create clones the
 * init, which inherits them.  Without a tty: pipes (stdin only with -i);
 * with one: the console socket, and the master arrives after create.  The
 * monitor's own 0-2 are /dev/null otherwise (see stdio_restore). */
static int stdio_prepare(struct mon *m, berth_error_t *err)
{
        if (m->tty) {
                if (m->console_fd < 0) {
                        m->console_fd = eng_unix_listen(m->bundle, "console.sock", err);
                        if (m->console_fd < 0)
                                return -1;
                }
                return 0;
        }
        int p_out[2], p_err[2], p_in[2] = {-1, -1};
        if (pipe2(p_out, O_CLOEXEC) < 0)
                return berth_fail(err, errno, "pipe");
        if (pipe2(p_err, O_CLOEXEC) < 0) {
                int e = errno;
                close(p_out[0]);
                close(p_out[1]);
                return berth_fail(err, e, "pipe");
        }
        if (m->open_stdin && pipe2(p_in, O_CLOEXEC) < 0) {
                int e = errno;
                close(p_out[0]);
                close(p_out[1]);
                close(p_err[0]);
                close(p_err[1]);
                return berth_fail(err, e, "pipe");
        }
        /* dup2 onto 0-2 clears close-on-exec there: the init inherits them */
        if (p_in[0] >= 0)
                dup2(p_in[0], 0);
        dup2(p_out[1], 1);
        dup2(p_err[1], 2);
        close(p_out[1]);
        close(p_err[1]);
        if (p_in[0] >= 0)
                close(p_in[0]);
        m->out_r = p_out[0];
        m->err_r = p_err[0];
        m->in_w = p_in[1];
        if (m->in_w >= 0)
                fcntl(m->in_w, F_SETFL, O_NONBLOCK);
        return 0;
}

/* After create: the monitor keeps only its ends; 0-2 go back to /dev/null. */
static void stdio_restore(void)
{
        int null = open("/dev/null", O_RDWR);
        if (null < 0)
                return;
        for (int i = 0; i < 3; i++)
                dup2(null, i);
        if (null > 2)
                close(null);
}

static void stdio_close(struct mon *m)
{
        berth_closep(&m->out_r);
        berth_closep(&m->err_r);
        berth_closep(&m->in_w);
        berth_closep(&m->master);
        free(m->pending_in);
        m->pending_in = NULL;
        m->pending_len = 0;
}

/* ----------------------------------------------------------- the lifecycle */

static int read_pid(const char *path, pid_t *pid, berth_error_t *err)
{
        cleanup_free char *s = NULL;
        if (berth_read_file(path, &s, NULL, err) < 0)
                return -1;
        long v = strtol(s, NULL, 10);
        if (v <= 0)
                return berth_fail(err, EINVAL, "bad pid in `%s`", path);
        *pid = (pid_t) v;
        return 0;
}

/* OOM kills in the container's cgroup, read before the runtime removes it:
 * v2 memory.events, or v1 memory.oom_control (kernel ≥ 4.13). */
static bool oom_killed(struct mon *m)
{
        cleanup_free char *cfgpath = berth_path_join(m->bundle, "config.json");
        json_t *cfg = berth_json_load_file(cfgpath, NULL);
        const char *cg =
                json_string_value(json_object_get(json_object_get(cfg, "linux"), "cgroupsPath"));
        bool oom = false;
        if (cg) {
                static const struct {
                        const char *dir, *file;
                } files[] = {{"/sys/fs/cgroup/memory", "memory.oom_control"},
                             {"/sys/fs/cgroup", "memory.events"}};
                for (size_t i = 0; i < BERTH_ARRAY_SIZE(files) && !oom; i++) {
                        char path[4096];
                        snprintf(path, sizeof(path), "%s%s/%s", files[i].dir, cg, files[i].file);
                        cleanup_free char *text = NULL;
                        if (berth_read_file(path, &text, NULL, NULL) < 0)
                                continue;
                        const char *k = strstr(text, "oom_kill ");
                        oom = k && strtol(k + 9, NULL, 10) > 0;
                }
        }
        json_decref(cfg);
        return oom;
}

static int create_and_start(struct mon *m, berth_error_t *err)
{
        struct oci_create_opts o = {.bundle = m->bundle,
                                    .pid_file = m->pid_path,
                                    .console_socket = m->tty ? m->console_short : NULL};
        if (stdio_prepare(m, err) < 0)
                return -1;
        /* leftovers of an earlier run of this container (restart, crash) */
        berth_error_t ignored = NULL;
        oci_delete(&m->oci, m->c->id, true, &ignored);
        berth_error_release(&ignored);
        int r = oci_create(&m->oci, m->c->id, &o, err);
        stdio_restore();
        if (r < 0)
                return berth_wrap(err, "create container");
        if (m->tty) {
                cleanup_close int conn = accept4(m->console_fd, NULL, NULL, SOCK_CLOEXEC);
                if (conn < 0)
                        return berth_fail(err, errno, "accept on the console socket");
                m->master = berth_recv_fd(conn, err);
                if (m->master < 0)
                        return -1;
        }
        if (read_pid(m->pid_path, &m->pid, err) < 0)
                return -1;
        if (m->wait_attach) {
                /* `berth run` without -d: start only once its attach is in place,
                 * so it sees all the output */
                sync_say(m, "created");
                int64_t deadline = berth_now_ns() + 30 * 1000000000LL;
                while (!m->start_requested && berth_now_ns() < deadline) {
                        struct pollfd p[MAX_CLIENTS + 1] = {{.fd = m->listen_fd, .events = POLLIN}};
                        for (size_t i = 0; i < m->n_clients; i++)
                                p[i + 1] =
                                        (struct pollfd){.fd = m->clients[i].fd, .events = POLLIN};
                        if (poll(p, m->n_clients + 1, 1000) <= 0)
                                continue;
                        if (p[0].revents)
                                accept_client(m);
                        for (size_t i = m->n_clients; i-- > 0;)
                                if (p[i + 1].revents && !client_read(m, &m->clients[i]))
                                        client_drop(m, i);
                }
                m->wait_attach = false;
        }
        if (oci_start(&m->oci, m->c->id, err) < 0)
                return berth_wrap(err, "start container");
        return update_state(m, st_running, err);
}

static void drain(struct mon *m, int *fd, enum eng_frame type)
{
        char buf[32768];
        ssize_t r = read(*fd, buf, sizeof(buf));
        if (r <= 0) {
                if (r < 0 && (errno == EAGAIN || errno == EINTR))
                        return;
                berth_closep(fd); /* EOF, or EIO on a pty whose last slave closed */
                return;
        }
        if (m->log) {
                berth_error_t lerr = NULL;
                if (eng_logfile_write(m->log,
                                      type == ENG_FRAME_STDERR ? ENG_LOG_STDERR : ENG_LOG_STDOUT,
                                      buf, (size_t) r, berth_now_ns(), &lerr) < 0) {
                        log_warn("%s", berth_error_msg(lerr));
                        berth_error_release(&lerr);
                }
        }
        broadcast(m, type, buf, (size_t) r);
}

/* A health check finished: its result goes into State.Health. */
static void health_done(struct mon *m, pid_t pid, int status)
{
        berth_error_t err = NULL;
        if (eng_container_lock(m->c, &err) < 0) {
                berth_error_release(&err);
                eng_health_reaped(&m->health, pid, status, json_object(), berth_now_ns());
                return;
        }
        eng_health_reaped(&m->health, pid, status, eng_container_state(m->c), berth_now_ns());
        eng_container_save_state(m->c, &err);
        eng_container_unlock(m->c);
        berth_error_release(&err);
        eng_event_health(&m->e, m->c);
}

/* Serve output, input and clients until the init has exited and its output
 * is drained.  Returns the wait status. */
static int serve(struct mon *m)
{
        int status = -1;
        bool exited = false;
        for (;;) {
                int *outs[2] = {m->tty ? &m->master : &m->out_r, &m->err_r};
                bool open_out = *outs[0] >= 0 || *outs[1] >= 0;
                if (exited && !open_out)
                        return status;
                struct pollfd p[7 + MAX_CLIENTS];
                size_t n = 0;
                p[n++] = (struct pollfd){.fd = m->sfd, .events = POLLIN};
                p[n++] = (struct pollfd){.fd = m->listen_fd, .events = POLLIN};
                p[n++] = (struct pollfd){.fd = *outs[0], .events = POLLIN};
                p[n++] = (struct pollfd){.fd = *outs[1], .events = POLLIN};
                int in_fd = m->tty ? m->master : m->in_w;
                p[n++] = (struct pollfd){.fd = m->pending_len ? in_fd : -1, .events = POLLOUT};
                p[n++] = (struct pollfd){.fd = exited ? -1 : m->health.timer_fd, .events = POLLIN};
                p[n++] = (struct pollfd){.fd = m->health.out_fd, .events = POLLIN};
                size_t base = n;
                for (size_t i = 0; i < m->n_clients; i++)
                        p[n++] = (struct pollfd){.fd = m->clients[i].fd, .events = POLLIN};
                /* after the init exits, wait at most a moment for stragglers holding the pipes */
                int r = poll(p, n, exited ? 200 : -1);
                if (r < 0 && errno != EINTR)
                        return status;
                if (r == 0 && exited)
                        return status;
                if (p[0].revents) {
                        struct signalfd_siginfo si;
                        while (read(m->sfd, &si, sizeof(si)) == sizeof(si))
                                ;
                        int ws;
                        pid_t w;
                        while ((w = waitpid(-1, &ws, WNOHANG)) > 0) {
                                if (w == m->pid) {
                                        status = ws;
                                        exited = true;
                                } else if (w == m->health.pid) {
                                        health_done(m, w, ws);
                                }
                        }
                }
                if (p[1].revents)
                        accept_client(m);
                if (p[5].revents)
                        eng_health_tick(&m->health, m->e.oci_root, m->c->id, berth_now_ns());
                if (p[6].revents)
                        eng_health_read(&m->health);
                if (p[2].revents & (POLLIN | POLLHUP | POLLERR))
                        drain(m, outs[0], ENG_FRAME_STDOUT);
                if (p[3].revents & (POLLIN | POLLHUP | POLLERR))
                        drain(m, outs[1], ENG_FRAME_STDERR);
                if (m->pending_len && in_fd >= 0) {
                        ssize_t w = write(in_fd, m->pending_in, m->pending_len);
                        if (w > 0) {
                                memmove(m->pending_in, m->pending_in + w,
                                        m->pending_len - (size_t) w);
                                m->pending_len -= (size_t) w;
                        }
                }
                for (size_t i = m->n_clients; i-- > 0;) {
                        if (base + i < n && p[base + i].revents && !client_read(m, &m->clients[i]))
                                client_drop(m, i);
                }
        }
}

struct exit_info {
        int code;
        bool oom;
};

static struct exit_info exit_info;

static void st_exited(struct mon *m, json_t *st)
{
        cleanup_free char *now = eng_now_rfc3339();
        set_str(st, "Status", "exited");
        json_object_set_new(st, "Running", json_false());
        json_object_set_new(st, "Paused", json_false());
        json_object_set_new(st, "Restarting", json_false());
        json_object_set_new(st, "OOMKilled", json_boolean(exit_info.oom));
        json_object_set_new(st, "Pid", json_integer(0));
        json_object_set_new(st, "ExitCode", json_integer(exit_info.code));
        set_str(st, "FinishedAt", now);
        json_object_del(m->c->state, "Monitor");
}

static void st_restarting(struct mon *m, json_t *st)
{
        st_exited(m, st);
        set_str(st, "Status", "restarting");
        json_object_set_new(st, "Restarting", json_true());
        json_int_t n = json_integer_value(json_object_get(m->c->state, "RestartCount"));
        json_object_set_new(m->c->state, "RestartCount", json_integer(n + 1));
        json_object_set_new(m->c->state, "Monitor",
                            json_pack("{s:i}", "Pid", (json_int_t) getpid()));
}

/* Does the container have a sandbox of berth's (NetworkMode default, bridge or a network)? */
static bool has_own_network(struct eng_container *c)
{
        const char *m = json_string_value(
                json_object_get(json_object_get(c->doc, "HostConfig"), "NetworkMode"));
        return m && strcmp(m, "none") != 0 && strcmp(m, "host") != 0 &&
               strncmp(m, "container:", 10) != 0;
}

/* Docker's restart policies; "no" (or absent) never restarts. */
static bool should_restart(struct mon *m)
{
        json_t *hc = json_object_get(m->c->doc, "HostConfig");
        json_t *rp = json_object_get(hc, "RestartPolicy");
        const char *name = json_string_value(json_object_get(rp, "Name"));
        if (name == NULL || *name == '\0' || strcmp(name, "no") == 0)
                return false;
        berth_error_t err = NULL;
        if (eng_container_lock(m->c, &err) < 0) {
                berth_error_release(&err);
                return false;
        }
        bool stopped = json_is_true(json_object_get(m->c->state, "HasBeenManuallyStopped"));
        json_int_t count = json_integer_value(json_object_get(m->c->state, "RestartCount"));
        eng_container_unlock(m->c);
        if (stopped)
                return false;
        if (strcmp(name, "on-failure") == 0) {
                json_int_t max = json_integer_value(json_object_get(rp, "MaximumRetryCount"));
                return exit_info.code != 0 && (max <= 0 || count < max);
        }
        return strcmp(name, "always") == 0 || strcmp(name, "unless-stopped") == 0;
}

static int open_log(struct mon *m, berth_error_t *err)
{
        json_t *lc = json_object_get(json_object_get(m->c->doc, "HostConfig"), "LogConfig");
        const char *type = json_string_value(json_object_get(lc, "Type"));
        if (type && strcmp(type, "none") == 0)
                return 0;
        json_t *opts = json_object_get(lc, "Config");
        int64_t max_size = 0;
        unsigned max_file = 1;
        const char *ms = json_string_value(json_object_get(opts, "max-size"));
        const char *mf = json_string_value(json_object_get(opts, "max-file"));
        if (ms && berth_parse_bytes(ms, "--log-opt max-size", &max_size, err) < 0)
                return -1;
        if (mf)
                max_file = (unsigned) strtoul(mf, NULL, 10);
        const char *path = json_string_value(json_object_get(m->c->doc, "LogPath"));
        return eng_logfile_open(path, max_size, max_file ? max_file : 1, &m->log, err);
}

static int monitor_setup(struct mon *m, const char *id, berth_error_t *err)
{
        struct berth_paths paths;
        if (berth_paths_default(&paths, err) < 0)
                return -1;
        int r = eng_ctx_init(&m->e, &paths, err);
        berth_paths_free(&paths);
        if (r < 0 || eng_container_find(&m->e, id, &m->c, err) < 0)
                return -1;
        m->start_gen = json_integer_value(json_object_get(m->c->state, "BerthStarts"));
        m->bundle = berth_xstrdup(m->c->run_dir);
        m->attach_path = berth_path_join(m->c->run_dir, "attach.sock");
        m->console_path = berth_path_join(m->c->run_dir, "console.sock");
        /* oci_create connects to the console socket from this process: a short
         * /proc/self/fd path to it stays within sun_path's 108 bytes */
        m->run_dirfd = open(m->bundle, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (m->run_dirfd < 0)
                return berth_fail(err, errno, "open `%s`", m->bundle);
        m->console_short = berth_xasprintf("/proc/self/fd/%d/console.sock", m->run_dirfd);
        m->pid_path = berth_path_join(m->c->run_dir, "init.pid");
        m->oci.root = m->e.oci_root;
        json_t *cfg = json_object_get(m->c->doc, "Config");
        m->tty = json_is_true(json_object_get(cfg, "Tty"));
        m->open_stdin = json_is_true(json_object_get(cfg, "OpenStdin"));
        cleanup_free char *mlog = berth_path_join(m->c->dir, "monitor.log");
        if (berth_log_init("berth-monitor", BERTH_LOG_WARN, BERTH_LOG_TEXT, mlog, err) < 0)
                return -1;
        if (open_log(m, err) < 0)
                return -1;
        if (eng_health_init(&m->health, cfg, m->bundle, err) < 0)
                return -1;
        m->listen_fd = eng_unix_listen(m->bundle, "attach.sock", err);
        if (m->listen_fd < 0)
                return -1;
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGCHLD);
        sigprocmask(SIG_BLOCK, &set, NULL);
        m->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (m->sfd < 0)
                return berth_fail(err, errno, "signalfd");
        return 0;
}

/* Once the container runs, the monitor idles in its poll loop for as long as
 * the container lives.  The code that got it there (spec parsing, mounts,
 * seccomp, cgroups: most of liboci) stays mapped and resident, though it may
 * never run again: drop those code pages from our resident set.
 * They stay in the page cache, shared with every other monitor, and fault
 * back in if a restart needs them. */
static void trim_resident(void)
{
        FILE *f = fopen("/proc/self/maps", "re");
        if (f == NULL)
                return;
        char line[512];
        while (fgets(line, sizeof(line), f)) {
                unsigned long start, end;
                char perms[8];
                unsigned long inode = 0;
                if (sscanf(line, "%lx-%lx %7s %*s %*s %lu", &start, &end, perms, &inode) != 4)
                        continue;
                /* file-backed code only: read-only data may hold pages written
                 * before they were made read-only (relocations), and dropping
                 * those would bring back the file's unrelocated bytes */
                if (inode == 0 || perms[2] != 'x' || perms[1] == 'w')
                        continue;
                /* MADV_RANDOM: no fault-around, so only pages that really run
                 * come back (fault-around would map 64 KiB per fault) */
                /* NOLINTNEXTLINE(performance-no-int-to-ptr): an address read from maps */
                madvise((void *) start, end - start, MADV_RANDOM);
                /* NOLINTNEXTLINE(performance-no-int-to-ptr): an address read from maps */
                madvise((void *) start, end - start, MADV_DONTNEED);
        }
        fclose(f);
        malloc_trim(0);
}

int eng_monitor_main(int argc, char **argv)
{
        struct mon m = {.listen_fd = -1,
                        .console_fd = -1,
                        .sfd = -1,
                        .out_r = -1,
                        .err_r = -1,
                        .master = -1,
                        .in_w = -1};
        const char *id = NULL;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--wait-attach") == 0)
                        m.wait_attach = true;
                else if (strcmp(argv[i], "--remove-on-exit") == 0)
                        m.remove_on_exit = true;
                else
                        id = argv[i];
        }
        m.sync_fd = fcntl(SYNC_FD, F_GETFD) >= 0 ? SYNC_FD : -1;
        if (m.sync_fd >= 0)
                fcntl(m.sync_fd, F_SETFD, FD_CLOEXEC);
        if (id == NULL) {
                fprintf(stderr, "usage: berth-monitor [--wait-attach] [--remove-on-exit] ID\n");
                return 2;
        }
        signal(SIGPIPE, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        prctl(PR_SET_CHILD_SUBREAPER, 1);
        /* CVE-2016-9962 / CVE-2019-5736: what we fork into a container (its init
         * at each (re)start, health checks) is a copy of this binary until it
         * execs; non-dumpable, its /proc/PID/exe can't be opened from inside
         * without CAP_SYS_PTRACE.  execve makes the user's process dumpable again.
         * Rootless, it can't be (we write the child's id maps, which needs it
         * dumpable; and a later berth call must be able to join our namespaces
         * if berth's pause process died, engine/userns.h) and needn't be: the
         * binaries belong to root, and the container's root is only us. */
        const char *rootless = getenv("BERTH_ROOTLESS_UID");
        if (geteuid() == 0 && (rootless == NULL || *rootless == '\0'))
                prctl(PR_SET_DUMPABLE, 0);
        stdio_restore();
        berth_error_t err = NULL;
        if (monitor_setup(&m, id, &err) < 0) {
                sync_say(&m, "error 125 %s", berth_error_msg(err));
                return 1;
        }
        int64_t backoff_ns = 100000000LL; /* 100 ms, doubling, as Docker's */
        for (bool first = true;; first = false) {
                int64_t started = berth_now_ns();
                if (create_and_start(&m, &err) < 0) {
                        /* Docker: 126 when the command can't run, 127 when not found */
                        int code = err && err->errnum == ENOENT   ? 127
                                   : err && err->errnum == EACCES ? 126
                                                                  : 125;
                        const char *msg = berth_error_msg(err);
                        if (first)
                                sync_say(&m, "error %d %s", code, msg);
                        broadcast(&m, ENG_FRAME_ERROR, msg, strlen(msg));
                        exit_info = (struct exit_info){.code = code};
                        berth_error_t e2 = NULL;
                        if (eng_container_lock(m.c, &e2) == 0) {
                                st_exited(&m, eng_container_state(m.c));
                                set_str(eng_container_state(m.c), "Error", msg);
                                eng_container_save_state(m.c, &e2);
                                eng_container_unlock(m.c);
                        }
                        berth_error_release(&e2);
                        berth_error_release(&err);
                        stdio_close(&m);
                        berth_error_t ignored = NULL;
                        oci_delete(&m.oci, m.c->id, true, &ignored);
                        berth_error_release(&ignored);
                        if (!first && should_restart(&m))
                                goto restart;
                        break;
                }
                eng_event_container(&m.e, m.c, "start", NULL);
                if (first) {
                        sync_say(&m, "started %d", (int) m.pid);
                        berth_closep(&m.sync_fd);
                        trim_resident();
                }
                {
                        char p[32];
                        int n = snprintf(p, sizeof(p), "%d", (int) m.pid);
                        broadcast(&m, ENG_FRAME_STARTED, p, (size_t) n);
                }
                eng_health_container_started(&m.health, berth_now_ns());
                int ws = serve(&m);
                eng_health_stop(&m.health);
                exit_info.code = ws < 0            ? 255
                                 : WIFEXITED(ws)   ? WEXITSTATUS(ws)
                                 : WIFSIGNALED(ws) ? 128 + WTERMSIG(ws)
                                                   : 255;
                exit_info.oom = oom_killed(&m);
                if (exit_info.oom)
                        eng_event_container(&m.e, m.c, "oom", NULL);
                if (m.log)
                        eng_logfile_flush(m.log, berth_now_ns(), &err);
                berth_error_release(&err);
                stdio_close(&m);
                oci_delete(&m.oci, m.c->id, true, &err);
                berth_error_release(&err);
                m.pid = 0;
                if (!should_restart(&m)) {
                        update_state(&m, st_exited, &err);
                        berth_error_release(&err);
                        /* after the state: a client told of the exit finds it recorded */
                        eng_event_container(&m.e, m.c, "die",
                                            json_pack("{s:i}", "exitCode", exit_info.code));
                        char code[16];
                        int n = snprintf(code, sizeof(code), "%d", exit_info.code);
                        broadcast(&m, ENG_FRAME_EXIT, code, (size_t) n);
                        break;
                }
                eng_event_container(&m.e, m.c, "die",
                                    json_pack("{s:i}", "exitCode", exit_info.code));
                {
                        /* an attached client's stream ends with the process, as Docker's,
                         * though the container restarts; "restarting" tells a `wait` for
                         * not-running to stay */
                        char code[32];
                        int n = snprintf(code, sizeof(code), "%d restarting", exit_info.code);
                        broadcast(&m, ENG_FRAME_EXIT, code, (size_t) n);
                }
        restart:
                update_state(&m, st_restarting, &err);
                berth_error_release(&err);
                if (berth_now_ns() - started > 10 * 1000000000LL)
                        backoff_ns = 100000000LL; /* it ran a while: start over */
                /* a `berth stop` or `rm -f` during the back-off (up to a minute) wins at
                 * once: it is looked for every 100 ms, not only at the end */
                bool stopped = false;
                for (int64_t slept = 0; slept < backoff_ns && !stopped; slept += 100000000LL) {
                        int64_t step =
                                backoff_ns - slept < 100000000LL ? backoff_ns - slept : 100000000LL;
                        struct timespec d = {.tv_sec = 0, .tv_nsec = step};
                        while (nanosleep(&d, &d) < 0 && errno == EINTR)
                                ;
                        if (eng_container_lock(m.c, &err) < 0)
                                continue;
                        stopped =
                                json_is_true(json_object_get(m.c->state, "HasBeenManuallyStopped"));
                        if (stopped) {
                                st_exited(&m, eng_container_state(m.c));
                                eng_container_save_state(m.c, &err);
                        }
                        eng_container_unlock(m.c);
                }
                berth_error_release(&err);
                if (stopped)
                        break;
                if (backoff_ns < 60 * 1000000000LL)
                        backoff_ns *= 2;
        }
        for (size_t i = m.n_clients; i-- > 0;)
                client_drop(&m, i);
        berth_closep(&m.listen_fd);
        berth_closep(&m.console_fd);
        unlink(m.attach_path);
        unlink(m.console_path);
        eng_logfile_close(m.log);
        if (m.remove_on_exit) {
                /* --rm without an attached client: the record, rootfs and all go */
                cleanup_free char *berth = berth_sibling_binary("berth");
                execl(berth, "berth", "rm", "-f", m.c->id, (char *) NULL);
        }
        bool auto_remove = json_is_true(
                json_object_get(json_object_get(m.c->doc, "HostConfig"), "AutoRemove"));
        if (has_own_network(m.c) && !auto_remove) {
                /* (with --rm the attached client removes the container, network and all) */
                /* the container's network (addresses, published ports, DNS names) goes now,
                 * not at the next berth call; the monitor links no network code, berth does */
                cleanup_free char *berth = berth_sibling_binary("berth");
                char gen[24];
                snprintf(gen, sizeof(gen), "%lld", (long long) m.start_gen);
                execl(berth, "berth", "network", "_teardown", m.c->id, gen, (char *) NULL);
        }
        return 0;
}
