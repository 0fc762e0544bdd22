/* client.c — attaching to a container's monitor (see client.h). */
#include "engine/client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "common/util.h"
#include "engine/attach.h"
#include "engine/detach.h"
#include "engine/events.h"
#include "engine/lifecycle.h"

static void send_size(int sock)
{
        struct winsize ws;
        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0)
                return;
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%u %u", ws.ws_row, ws.ws_col);
        eng_frame_send(sock, ENG_FRAME_RESIZE, buf, (size_t) n);
}

int eng_attach(struct eng_ctx *e, struct eng_container *c, const struct eng_attach_opts *o,
               int *exit_code, berth_error_t *err)
{
        struct eng_detach keys = {0};
        if (o->tty && eng_detach_init(&keys, o->detach_keys, err) < 0)
                return -1;
        cleanup_close int sock = eng_unix_connect(c->run_dir, "attach.sock", err);
        if (sock < 0)
                return berth_wrap(err, "attach to container %.12s", c->id);
        char hello[96];
        int hn = snprintf(hello, sizeof(hello), "{\"stdin\":%s,\"stdout\":%s,\"stderr\":%s}\n",
                          o->in ? "true" : "false", o->out ? "true" : "false",
                          o->err ? "true" : "false");
        if (berth_write_all(sock, hello, (size_t) hn) < 0)
                return berth_fail(err, errno, "attach to container %.12s", c->id);
        /* before the start a run or start -a asks for, as dockerd orders them */
        eng_event_container(e, c, "attach", NULL);
        if (o->tty)
                send_size(sock);
        if (o->sync_fd >= 0) {
                if (eng_frame_send(sock, ENG_FRAME_START, NULL, 0) < 0)
                        return berth_fail(err, errno, "start container %.12s", c->id);
                int r = eng_start_result(o->sync_fd, NULL, err);
                if (r < 0)
                        return -1;
        }

        /* our terminal in raw mode while attached to a pty */
        struct termios saved;
        bool raw = false;
        if (o->tty && o->in && isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0) {
                struct termios t = saved;
                cfmakeraw(&t);
                t.c_oflag |= OPOST; /* keep \n → \r\n for our own messages */
                raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
        }
        sigset_t set, old;
        sigemptyset(&set);
        sigaddset(&set, SIGWINCH);
        if (o->sig_proxy && !o->tty) {
                static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
                for (size_t i = 0; i < BERTH_ARRAY_SIZE(sigs); i++)
                        sigaddset(&set, sigs[i]);
        }
        sigprocmask(SIG_BLOCK, &set, &old);
        cleanup_close int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);

        int ret = 0;
        bool stdin_open = o->in, done = false;
        char *buf = NULL;
        size_t cap = 0;
        *exit_code = -1;
        while (!done) {
                struct pollfd p[3] = {{.fd = sock, .events = POLLIN},
                                      {.fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN},
                                      {.fd = sfd, .events = POLLIN}};
                if (poll(p, 3, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        ret = berth_fail(err, errno, "poll");
                        break;
                }
                if (p[2].revents) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
                                if (si.ssi_signo == SIGWINCH) {
                                        if (o->tty)
                                                send_size(sock);
                                } else {
                                        berth_error_t kerr = NULL;
                                        eng_kill(e, c, (int) si.ssi_signo, &kerr);
                                        berth_error_release(&kerr);
                                }
                        }
                }
                if (p[1].revents) {
                        char in[4096];
                        ssize_t r = read(STDIN_FILENO, in, sizeof(in));
                        if (r <= 0) {
                                stdin_open = false;
                                eng_frame_send(sock, ENG_FRAME_STDIN_EOF, NULL, 0);
                        } else {
                                char out[sizeof(in) + ENG_DETACH_MAX];
                                size_t n_out = 0;
                                done = eng_detach_filter(&keys, in, (size_t) r, out, &n_out);
                                /* what came before the keys is input still */
                                if (n_out && eng_frame_send(sock, ENG_FRAME_STDIN, out, n_out) < 0)
                                        stdin_open = false;
                                if (done) {
                                        eng_event_container(e, c, "detach", NULL);
                                        ret = 1;
                                        break;
                                }
                        }
                }
                if (p[0].revents) {
                        enum eng_frame type;
                        size_t len;
                        if (eng_frame_recv(sock, &type, &buf, &cap, &len) < 0) {
                                break; /* the monitor went away: read the record */
                        }
                        switch (type) {
                        case ENG_FRAME_STDOUT:
                                (void) berth_write_all(STDOUT_FILENO, buf, len);
                                break;
                        case ENG_FRAME_STDERR:
                                (void) berth_write_all(STDERR_FILENO, buf, len);
                                break;
                        case ENG_FRAME_EXIT:
                                *exit_code = (int) strtol(buf, NULL, 10);
                                done = true;
                                break;
                        case ENG_FRAME_ERROR:
                                ret = berth_fail_status(err, 125, 0, "%s", buf);
                                done = true;
                                break;
                        default:
                                break;
                        }
                }
        }
        free(buf);
        if (raw)
                tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        sigprocmask(SIG_SETMASK, &old, NULL);
        if (ret == 0 && *exit_code < 0) {
                /* no exit frame: the monitor died, or a restart policy keeps it going */
                if (eng_wait(e, c, exit_code, err) < 0)
                        return -1;
        }
        return ret;
}
