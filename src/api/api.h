/* api.h — the Docker Engine API served by `berth system service`.
 *
 * A thin front-end over the same library calls as the CLI: the service keeps no container
 * state of its own (only what an HTTP exchange needs while it lasts: exec instances, an attach
 * waiting for its container's start).  Each listener is one libmicrohttpd daemon with a thread
 * per connection, so a long pull, build or followed log never blocks another client. */
#ifndef BERTH_API_API_H
#define BERTH_API_API_H

#include "common/error.h"
#include "common/paths.h"
#include "engine/version.h"

/* The API version reported and the oldest accepted (dockerd 20.10's). */
#define API_VERSION     ENG_API_VERSION
#define API_MIN_VERSION ENG_MIN_API_VERSION

struct api_server;

/* hosts: Docker's -H forms, "unix:///path", "unix://" alone (the default path), "tcp://HOST:PORT",
 * or "fd://" (systemd socket activation: LISTEN_FDS).  n == 0: the default unix socket,
 * <run_dir>/docker.sock.  TLS on tcp:// listeners when tls_cert and tls_key are set (dockerd's
 * --tlscert/--tlskey); with tls_ca (--tlscacert) clients must present a certificate it signed. */
struct api_listen_opts {
        const char *const *hosts;
        size_t n;
        const char *tls_ca, *tls_cert, *tls_key;
};

int api_server_start(const struct berth_paths *paths, const struct api_listen_opts *o,
                     struct api_server **out, berth_error_t *err);
void api_server_stop(struct api_server *s);

#endif
