/* attach.c — framing of the monitor's attach stream (see attach.h). */
#include "engine/attach.h"

#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <stdbool.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/util.h"

int eng_frame_send(int fd, enum eng_frame type, const void *buf, size_t len)
{
        unsigned char h[8] = {(unsigned char) type,
                              0,
                              0,
                              0,
                              (unsigned char) (len >> 24),
                              (unsigned char) (len >> 16),
                              (unsigned char) (len >> 8),
                              (unsigned char) len};
        if (berth_write_all(fd, h, sizeof(h)) < 0)
                return -1;
        return len ? berth_write_all(fd, buf, len) : 0;
}

static int read_full(int fd, void *buf, size_t len)
{
        char *p = buf;
        while (len) {
                ssize_t r = read(fd, p, len);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -1;
                if (r == 0) {
                        errno = ECONNRESET;
                        return -1;
                }
                p += r;
                len -= (size_t) r;
        }
        return 0;
}

int eng_frame_recv(int fd, enum eng_frame *type, char **buf, size_t *cap, size_t *len)
{
        unsigned char h[8];
        if (read_full(fd, h, sizeof(h)) < 0)
                return -1;
        size_t n = ((size_t) h[4] << 24) | ((size_t) h[5] << 16) | ((size_t) h[6] << 8) | h[7];
        if (h[0] > ENG_FRAME_ERROR || h[1] || h[2] || h[3] || n > ENG_FRAME_MAX) {
                errno = EPROTO;
                return -1;
        }
        if (n + 1 > *cap) {
                *cap = n + 1;
                *buf = berth_xrealloc(*buf, *cap);
        }
        if (n && read_full(fd, *buf, n) < 0)
                return -1;
        (*buf)[n] = '\0';
        *type = (enum eng_frame) h[0];
        *len = n;
        return 0;
}

static int unix_at(const char *dir, const char *name, bool listen_it, berth_error_t *err)
{
        cleanup_close int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return berth_fail(err, errno, "open `%s`", dir);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s", dfd, name);
        if (n < 0 || (size_t) n >= sizeof(sa.sun_path))
                return berth_fail(err, ENAMETOOLONG, "socket name `%s` is too long", name);
        cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return berth_fail(err, errno, "socket");
        if (listen_it) {
                unlinkat(dfd, name, 0);
                if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 8) < 0)
                        return berth_fail(err, errno, "listen on `%s/%s`", dir, name);
        } else if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                return berth_fail(err, errno, "connect to `%s/%s`", dir, name);
        }
        return berth_steal_fd(&fd);
}

int eng_unix_listen(const char *dir, const char *name, berth_error_t *err)
{
        return unix_at(dir, name, true, err);
}

int eng_unix_connect(const char *dir, const char *name, berth_error_t *err)
{
        return unix_at(dir, name, false, err);
}
