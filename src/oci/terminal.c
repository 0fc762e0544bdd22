/* terminal.c — the container's pty, passed to whoever asked for it.
 *
 * As in runc, the pty is made inside the container (its devpts instance) and
 * the master is sent with SCM_RIGHTS over --console-socket; the slave becomes
 * the process's stdio and controlling terminal.  For `run`/`exec -t` in the
 * foreground without a socket, berth-oci receives the master itself and
 * copies between it and its own stdio.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/log.h"
#include "common/util.h"
#include "oci/internal.h"

int oci_console_connect(const char *path, berth_error_t *err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return berth_fail(err, ENAMETOOLONG, "console socket path `%s` is too long", path);
        strcpy(sa.sun_path, path);
        cleanup_close int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0 || connect(s, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return berth_fail(err, errno, "connect to console socket `%s`", path);
        return berth_steal_fd(&s);
}

int oci_terminal_setup(int sock, const struct oci_process *p, berth_error_t *err)
{
        cleanup_close int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        int unlock = 0, n = -1;
        char name[64];
        if (master < 0)
                return berth_fail(err, errno, "open /dev/ptmx in the container");
        if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &n) < 0)
                return berth_fail(err, errno, "unlock the pty");
        cleanup_close int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return berth_fail(err, errno, "open the pty slave");
        snprintf(name, sizeof(name), "/dev/pts/%d", n);
        /* as runc: the terminal belongs to the process's user (its group stays devpts's tty
         * group), or a non-root process could not change its own terminal's settings */
        if (p->uid != 0 && fchown(slave, p->uid, (gid_t) -1) < 0)
                log_debug("chown the pty to uid %u: %s", (unsigned) p->uid, strerror(errno));
        if (p->console_width || p->console_height) {
                struct winsize ws = {.ws_row = (unsigned short) p->console_height,
                                     .ws_col = (unsigned short) p->console_width};
                ioctl(slave, TIOCSWINSZ, &ws);
        }
        /* /dev/console is the container's terminal, as runc makes it. */
        int cfd = open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (cfd >= 0) {
                close(cfd);
                mount(name, "/dev/console", NULL, MS_BIND, NULL);
        }
        if (berth_send_fd(sock, master, "/dev/ptmx", 9, err) < 0)
                return -1;
        if (setsid() < 0)
                return berth_fail(err, errno, "start a session");
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
                return berth_fail(err, errno, "make the pty the controlling terminal");
        for (int fd = 0; fd < 3; fd++)
                if (dup2(slave, fd) < 0)
                        return berth_fail(err, errno, "dup the pty to fd %d", fd);
        return 0;
}

static void copy_once(int from, int to, bool *open)
{
        char buf[8192];
        ssize_t n = read(from, buf, sizeof(buf));
        if (n <= 0) {
                *open = false;
                return;
        }
        if (berth_write_all(to, buf, (size_t) n) < 0)
                *open = false;
}

void oci_terminal_proxy(int master)
{
        struct termios saved, raw;
        bool tty = isatty(0) && tcgetattr(0, &saved) == 0;
        bool in_open = true, out_open = true;
        if (tty) {
                struct winsize ws;
                if (ioctl(0, TIOCGWINSZ, &ws) == 0)
                        ioctl(master, TIOCSWINSZ, &ws);
                raw = saved;
                cfmakeraw(&raw);
                tcsetattr(0, TCSANOW, &raw);
        }
        while (out_open) {
                struct pollfd pf[2] = {{master, POLLIN, 0}, {in_open ? 0 : -1, POLLIN, 0}};
                if (poll(pf, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (pf[0].revents & (POLLIN | POLLHUP | POLLERR))
                        copy_once(master, 1, &out_open);
                if (in_open && pf[1].revents & (POLLIN | POLLHUP | POLLERR))
                        copy_once(0, master, &in_open);
        }
        if (tty)
                tcsetattr(0, TCSANOW, &saved);
}
