/* container_io.h — what the container I/O handlers (start, attach, wait, logs, resize) share:
 * the service's registry of clients waiting for a container to start.
 *
 * The docker CLI attaches (and waits) BEFORE it starts the container, on other connections.
 * So that no early output or quick exit is lost, such a client registers here; the start
 * handler then takes the waiters of its container, has the monitor wait for an attach
 * (eng_start's wait_attach), connects each waiter to the monitor with its hello line, starts
 * the container and hands each waiter its connection.  This is the service's memory of who
 * waits, not container state: a start from elsewhere (`berth start`) is found by the
 * waiters themselves, who look again every so often. */
#ifndef BERTH_API_CONTAINER_IO_H
#define BERTH_API_CONTAINER_IO_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "engine/container.h"

struct io_waiter {
        char id[ENG_ID_LEN + 1];
        char hello[96]; /* the line the monitor reads first: which streams it wants */
        /* under the registry's lock */
        bool registered;
        bool taken;  /* a start is connecting it to the monitor */
        bool handed; /* mon_fd is set: the monitor's connection, or -1 (no monitor to attach) */
        int mon_fd;
        struct io_waiter *next;
};

/* Fill w for container id and the streams a client wants, not registered yet. */
void io_waiter_init(struct io_waiter *w, const char *id, bool in, bool out, bool err);
void io_waiter_register(struct io_waiter *w);
/* Wait up to ms for a start to hand w its connection: true when handed. */
bool io_waiter_wait(struct io_waiter *w, int ms);
/* Leave the registry.  A waiter a start has taken is waited for until handed, so that its
 * connection is not lost: the caller then owns w->mon_fd (or -1). */
void io_waiter_leave(struct io_waiter *w);

/* The start side: take the registered waiters of container id (*v malloc'ed, NULL when
 * none), connect them, then hand them over. */
size_t io_waiters_take(const char *id, struct io_waiter ***v);
void io_waiters_hand(struct io_waiter **v, size_t n);

/* Connect to container c's monitor (its attach socket under run_dir) and say hello.
 * Returns the socket, or -1 with err. */
int io_monitor_connect(const char *run_dir, const char *hello, berth_error_t *err);

/* Is the client of this connection gone for good?  (POLLHUP/POLLERR: a client that only
 * shut down its write side, as the CLI does without stdin, is still there.) */
bool io_peer_closed(int fd);

/* The attach routes' and logs' handlers. */
struct api_req;
void io_attach(struct api_req *r);
void io_logs(struct api_req *r);

/* Docker's time filter value: seconds since the epoch with optional fraction ("1700000000",
 * "1700000000.5"); 0 when empty.  false when malformed. */
bool io_parse_unix_time(const char *s, long long *ns);

#endif
