/* fdpass.h — passing a file descriptor over a unix socket (SCM_RIGHTS): the
 * pty master of a container's terminal, a seccomp notification fd. */
#ifndef BERTH_COMMON_FDPASS_H
#define BERTH_COMMON_FDPASS_H

#include <stddef.h>

#include "common/error.h"

/* Send fd with len bytes of data (at least one byte must go with it). */
int berth_send_fd(int sock, int fd, const void *data, size_t len, berth_error_t *err);

/* Receive one fd (close-on-exec); the data that came with it is dropped. */
int berth_recv_fd(int sock, berth_error_t *err);

#endif
