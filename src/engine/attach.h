/* attach.h — the stream between a container's monitor and the `berth`
 * calls attached to it, over <run_dir>/containers/<id>/attach.sock.
 *
 * The client first sends one line of JSON, {"stdin":b,"stdout":b,"stderr":b},
 * then both sides exchange frames: an 8-byte header (type, 0, 0, 0, length as
 * big-endian u32) and the payload — the header of Docker's attach stream, so
 * types 1 and 2 are stdout and stderr as there. */
#ifndef BERTH_ENGINE_ATTACH_H
#define BERTH_ENGINE_ATTACH_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

enum eng_frame {
        ENG_FRAME_STDIN = 0,     /* client → monitor */
        ENG_FRAME_STDOUT = 1,    /* monitor → client */
        ENG_FRAME_STDERR = 2,    /* monitor → client */
        ENG_FRAME_EXIT = 3,      /* monitor → client: the exit status, decimal */
        ENG_FRAME_RESIZE = 4,    /* client → monitor: "ROWS COLS" */
        ENG_FRAME_STDIN_EOF = 5, /* client → monitor */
        ENG_FRAME_START = 6,     /* client → monitor: start the container now (attached run) */
        ENG_FRAME_STARTED = 7,   /* monitor → client: running, payload the pid */
        ENG_FRAME_ERROR = 8,     /* monitor → client: a failure message */
};

#define ENG_FRAME_MAX (1u << 20)

/* Listen on / connect to the unix socket dir/name.  sun_path holds 108 bytes
 * and state directories can be deeper, so the path goes through
 * /proc/self/fd/N of the directory. */
int eng_unix_listen(const char *dir, const char *name, berth_error_t *err);
int eng_unix_connect(const char *dir, const char *name, berth_error_t *err);

int eng_frame_send(int fd, enum eng_frame type, const void *buf, size_t len);

/* Read one whole frame; *buf is reused and grown.  Returns 0, or -1 with errno
 * (ECONNRESET at a clean end of stream, EPROTO for a malformed frame). */
int eng_frame_recv(int fd, enum eng_frame *type, char **buf, size_t *cap, size_t *len);

#endif
