/* client.h — the `berth` side of attaching to a container's monitor: copy
 * the container's output to our stdout/stderr, our stdin to it, terminal
 * size changes and (with --sig-proxy) signals, until it exits or we detach. */
#ifndef BERTH_ENGINE_CLIENT_H
#define BERTH_ENGINE_CLIENT_H

#include <stdbool.h>

#include "common/error.h"
#include "engine/container.h"

struct eng_attach_opts {
        bool in, out, err;
        bool tty;                /* the container has a pty: raw mode here, resizes there */
        const char *detach_keys; /* NULL: ctrl-p,ctrl-q */
        bool sig_proxy;          /* forward SIGINT/SIGTERM/… to the container (no tty) */
        int sync_fd;             /* attached run: send START, then read the monitor's word */
};

/* Returns 0 with *exit_code set when the container exited, 1 when detached. */
int eng_attach(struct eng_ctx *e, struct eng_container *c, const struct eng_attach_opts *o,
               int *exit_code, berth_error_t *err);

#endif
