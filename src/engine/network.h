/* network.h — the engine's side of container networks (src/net does the work): which
 * containers get a sandbox, what their records say about it, and when it is made and undone.
 *
 * A container whose NetworkMode is "default", "bridge" or a network's name gets a sandbox at
 * start (eng_net_up, before its monitor runs it) that lives across the monitor's restarts and
 * goes when the container stops for good (eng_net_down: from `stop`, `rm`, the monitor's last
 * act through `berth network _teardown ID`, or eng_net_gc after a kill -9). */
#ifndef BERTH_ENGINE_NETWORK_H
#define BERTH_ENGINE_NETWORK_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "engine/container.h"
#include "net/network.h"

/* The net library's paths for this engine's state directories. */
void eng_net_ctx(struct eng_ctx *e, struct net_ctx *n);

/* The namespace file a bridged container joins (malloc'ed). */
char *eng_net_sandbox_path(struct eng_ctx *e, const char *cid);

/* Does a container with this HostConfig get a sandbox of berth's? */
bool eng_net_bridged(json_t *host_config);

/* At create: the network named by NetworkMode must exist (Docker's "network X not found",
 * 125); *settings gets the NetworkSettings a created container shows (Networks with the
 * endpoint configuration, no addresses yet); *dns_server the resolver address for
 * resolv.conf (user networks: the gateway, malloc'ed) or NULL; *gateway the default bridge's
 * gateway for --add-host host-gateway (malloc'ed). */
int eng_net_prepare(struct eng_ctx *e, json_t *host_config, json_t *networking, json_t **settings,
                    char **dns_server, char **gateway, berth_error_t *err);

/* At start: the sandbox, the record's NetworkSettings and the container's /etc/hosts entry.
 * Caller holds the container's lock. */
int eng_net_up(struct eng_ctx *e, struct eng_container *c, berth_error_t *err);

/* Undo eng_net_up (idempotent); the record keeps its endpoint configuration, addresses go. */
int eng_net_down(struct eng_ctx *e, struct eng_container *c, berth_error_t *err);
int eng_net_down_id(struct eng_ctx *e, const char *cid, berth_error_t *err);

/* Remove the network state of containers that are not running (kill -9 of anything). */
int eng_net_gc(struct eng_ctx *e, berth_error_t *err);

/* `network connect` / `disconnect`: a running container changes now, a stopped one at its
 * next start. */
int eng_net_connect(struct eng_ctx *e, const char *network, const char *container,
                    json_t *endpoint_config, berth_error_t *err);
int eng_net_disconnect(struct eng_ctx *e, const char *network, const char *container, bool force,
                       berth_error_t *err);

#endif
