/* rootless.h — rootless berth's user-defined networks: one network namespace per user, the
 * "rootless network namespace" (what Podman calls its rootless-netns), in which berth's ordinary
 * bridge networks live — bridges, veth peers, dnsmasq per network, table inet berth — with
 * one slirp4netns giving that namespace its way out to the host (docs/network.md, "Rootless").
 *
 * Rootless berth is root in its own user namespace: in a network namespace that namespace owns
 * it may make bridges, veths and nftables rules, but none of them reach the host.  So berth
 * keeps one such namespace per user and runs each network operation on a user network in a
 * thread that joined it (setns): everything in bridge.c, sandbox.c, ports.c and dns.c then runs
 * unchanged there, and what it starts (dnsmasq) lives there.  A container's own namespace is made
 * from inside it (its veth's peer stays there).
 *
 * Files, under <run_dir>/net/rootless/ (a shared mount, as net/ns/):
 *   netns        the namespace: a bind-mounted nsfs file in berth's mount namespace (which the
 *                berth-pause process holds), so no process keeps it; after the pause process
 *                died with nothing running, a plain file: the next call makes a new one
 *   lock         flock: exclusive while the namespace is made, checked or removed, shared by
 *                every call working inside it
 *   slirp.pid/.sock/.log  its slirp4netns (tap0 10.0.2.100/24, default route via 10.0.2.2)
 *   slirp.netns  the inode of the namespace that slirp4netns serves (a restarted namespace
 *                needs a new one)
 *   fwd/<proto>-<host ip>-<port>  one published port: {Container, Proto, HostIp, HostPort,
 *                Id}: an add_hostfwd of slirp4netns from the host's HostIp:HostPort to
 *                10.0.2.100:HostPort, which the namespace's DNAT (ports.c, host address any)
 *                sends to the container; replayed when slirp4netns is started again. */
#ifndef BERTH_NET_ROOTLESS_H
#define BERTH_NET_ROOTLESS_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "net/network.h"

/* Run fn(arg, err) with the rootless network namespace as its network namespace: in a thread
 * of its own that ends there (a thread that joined it could not come back to the host's), the
 * calling thread waiting; rootful berth runs fn directly.  create: make the namespace when there
 * is none; otherwise a call that only removes things runs fn in an empty scratch namespace.
 * A slirp4netns that is gone (kill -9) or serves an older namespace is started again, with every
 * published port.  Refusals (no slirp4netns installed) carry status 125. */
typedef int (*net_rl_fn)(void *arg, berth_error_t *err);
int net_rootless_run(struct net_ctx *n, bool create, net_rl_fn fn, void *arg, berth_error_t *err);

/* The rootless network namespace's slirp4netns started again (with its forwards) when it is
 * gone and the namespace is there; a warning when that fails.  `network ls` calls it. */
void net_rootless_repair(struct net_ctx *n);

/* Published ports of a container on a user network (called inside the namespace): the same
 * parsing and answers as net_ports_publish, each port a reservation and DNAT entry in the
 * namespace plus a slirp4netns forward from the host.  IPv4, tcp and udp. */
int net_rootless_publish(struct net_ctx *n, const char *cid, const char *ep_name,
                         const char *ctr_ip, json_t *config, json_t *host_config, json_t **ports,
                         berth_error_t *err);
/* The relays of the container's ports on IPv6 host addresses (slirp4netns forwards IPv4
 * only: each such port is forwarded from 127.0.0.1 and relayed from its IPv6 address by a
 * berth-proxy, proxy.h), started where the host's network namespace is, after
 * net_rootless_publish: a relay must listen there, not in the rootless namespace. */
int net_rootless_relays(struct net_ctx *n, const char *cid, berth_error_t *err);

/* The container's slirp4netns forwards (and relays); none is fine. */
void net_rootless_unpublish(struct net_ctx *n, const char *cid);

/* When no container is attached to a user network any more: stop the resolvers, slirp4netns
 * and remove the namespace (the bridges and firewall go with it), so nothing of berth's stays
 * behind `rm -f` and `network rm`.  The next container on a user network makes it again. */
void net_rootless_cleanup_if_idle(struct net_ctx *n);

#endif
