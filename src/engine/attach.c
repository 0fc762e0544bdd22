/* attach.c — framing of the monitor's attach stream (see attach.h). */
#include "engine/attach.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
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
