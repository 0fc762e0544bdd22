/* slirp.h — rootless containers' network: one slirp4netns per container, the user-mode network
 * stack rootless Podman used before pasta (docs/network.md, "Rootless").
 *
 * Rootless berth is root in its own user namespace but not in the host's network namespace: it
 * can make a container's namespace (a file, as for rootful containers) but no veth or bridge
 * reaching the host.  slirp4netns, started by berth inside its user namespace, enters that
 * namespace, makes tap0 there (10.0.2.100/24, gateway 10.0.2.2, DNS forwarder 10.0.2.3) and
 * carries the container's traffic through ordinary sockets of the host's network stack.
 * Published ports are host sockets of slirp4netns too, added through its API socket.
 *
 * Files, keyed by container id, under <run_dir>/net/slirp/: <cid>.pid (written by the process
 * itself before it becomes slirp4netns, so a kill -9 of berth at any moment leaves it
 * findable), <cid>.sock (the API socket), <cid>.log (its stderr). */
#ifndef BERTH_NET_SLIRP_H
#define BERTH_NET_SLIRP_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "net/network.h"
#include "net/sandbox.h"

#define NET_SLIRP_ADDR    "10.0.2.100"
#define NET_SLIRP_GATEWAY "10.0.2.2"
#define NET_SLIRP_DNS     "10.0.2.3"
#define NET_SLIRP_PREFIX  24

/* With ipv6 (the rootless network namespace's), slirp4netns runs with --enable-ipv6: its
 * network is fd00::/64, the host fd00::2; rootless.c gives tap0 NET_SLIRP_ADDR6 and a default
 * route via NET_SLIRP_GATEWAY6 itself, so the way out does not wait for router
 * advertisements (which a namespace that forwards IPv6 ignores anyway). */
#define NET_SLIRP_ADDR6    "fd00::100"
#define NET_SLIRP_GATEWAY6 "fd00::2"

/* Is slirp4netns installed (found in PATH)? */
bool net_slirp_available(void);

/* A rootless container's sandbox on the default network: the namespace file, its
 * slirp4netns (ready: tap0 configured) and the published ports; *settings gets
 * NetworkSettings as net_sandbox_up's (Networks.bridge with 10.0.2.100, Ports, SandboxKey).
 * Without slirp4netns installed the namespace has loopback only (and ports are refused).
 * On failure everything made is undone (net_sandbox_down). */
int net_slirp_sandbox_up(struct net_ctx *n, const struct net_sandbox_req *r, json_t **settings,
                         berth_error_t *err);

/* Kill the container's slirp4netns (its pid file, checked against /proc/PID/comm) and remove
 * its files; nothing there is fine.  net_sandbox_down calls it. */
int net_slirp_stop(struct net_ctx *n, const char *cid, berth_error_t *err);

/* The same pieces for rootless.c's one slirp4netns of the rootless network namespace, with
 * its files <dir>/<name>.{pid,sock,log}: start it on nspath (ready: tap0 configured, an error
 * with status 125 when slirp4netns is not installed); its pid when it runs (checked against
 * /proc/PID/stat), else 0; kill it (waiting until it is gone) and remove its files; one
 * request on its API socket (*reply: the parsed answer, {"return": …} or {"error": …}). */
int net_slirp_spawn(const char *dir, const char *name, const char *nspath, bool ipv6,
                    berth_error_t *err);
pid_t net_slirp_pid(const char *dir, const char *name);
void net_slirp_kill(const char *dir, const char *name);
int net_slirp_request(const char *dir, const char *name, json_t *req, json_t **reply,
                      berth_error_t *err);

/* Ids of containers with slirp4netns files (object used as a set), for garbage collection. */
int net_slirp_owners(struct net_ctx *n, json_t *owners, berth_error_t *err);

#endif
