/* sandbox.h — a container's network: its namespace (the sandbox), one endpoint (veth pair) per
 * network it is attached to, its addresses, DNS records and published ports.
 *
 * Lifetime: set up by eng_start before the monitor runs the container, kept across the
 * monitor's restarts, torn down when the container stops for good (by whoever sees that first:
 * `berth stop`, the monitor's last act, `rm`, or the garbage collection after a kill -9).  The
 * namespace is a file, <run_dir>/net/ns/<container-id>, so the OCI runtime joins it by path. */
#ifndef BERTH_NET_SANDBOX_H
#define BERTH_NET_SANDBOX_H

#include <jansson.h>
#include <netinet/in.h>
#include <stdbool.h>

#include "common/error.h"
#include "net/network.h"

/* Make the network's bridge, firewall entries and (user networks) resolver exist; idempotent. */
int net_bridge_up(struct net_ctx *n, json_t *doc, berth_error_t *err);
/* Remove them; missing pieces are fine. */
int net_bridge_down(struct net_ctx *n, json_t *doc, berth_error_t *err);

/* The namespace file of a container (malloc'ed). */
char *net_sandbox_path(struct net_ctx *n, const char *cid);

struct net_sandbox_req {
        const char *cid;      /* container id */
        const char *name;     /* container name (without "/") */
        const char *hostname; /* Config.Hostname */
        json_t *config;       /* Docker Config (ExposedPorts) */
        json_t *host_config;  /* Docker HostConfig (NetworkMode, PortBindings, PublishAllPorts) */
        json_t *endpoints;    /* NetworkingConfig.EndpointsConfig: {net: {Aliases, IPAMConfig:
                                 {IPv4Address, IPv6Address}, MacAddress}}; may be NULL */
};

/* Create the namespace and every endpoint; *settings gets Docker's NetworkSettings (Networks
 * with IPAddress, Gateway, MacAddress…, Ports, SandboxKey, and the default network's fields at
 * the top level).  On failure everything made is undone. */
int net_sandbox_up(struct net_ctx *n, const struct net_sandbox_req *r, json_t **settings,
                   berth_error_t *err);

/* The namespace file alone (leftovers of an earlier run removed first), lo up in it: the first
 * step of net_sandbox_up, and rootless berth's (slirp.h) before slirp4netns enters it. */
int net_sandbox_ns_make(struct net_ctx *n, const char *cid, berth_error_t *err);

/* Undo net_sandbox_up: ports, DNS records, endpoints (address allocations), namespace.
 * Idempotent; errors are logged and the rest still removed. */
int net_sandbox_down(struct net_ctx *n, const char *cid, berth_error_t *err);

/* Attach a running container's sandbox to one more network / detach it. */
/* Does the container have a resolver of its own at 127.0.0.11 (with --dns on a user network,
 * on a macvlan/ipvlan network, or a user bridge's member on one of those too)? */
bool net_sandbox_has_resolver(struct net_ctx *n, const char *cid);
int net_sandbox_connect(struct net_ctx *n, const struct net_sandbox_req *r, const char *network,
                        json_t *endpoint_config, json_t **settings, berth_error_t *err);
int net_sandbox_disconnect(struct net_ctx *n, const char *cid, const char *network,
                           json_t **settings, berth_error_t *err);

/* Containers attached to a network: {cid: {Name, EndpointID, MacAddress, IPv4Address,
 * IPv6Address}} as `network inspect` shows them. */
int net_network_endpoints(struct net_ctx *n, const char *netid, json_t **out, berth_error_t *err);

/* A microVM's endpoint: a tap enslaved to the network's bridge, with an address from the same
 * IPAM and (user networks) a DNS name, so containers and VMs share one virtual switch.  The
 * owner id is "vm-<pid of the caller>": the VMM that made the tap (berth-vmm --net network=), or
 * berth vm's supervisor that holds it for its VMMs; net_gc releases it once that process is
 * gone.  want4 (NULL: none): the address to lend when it is free (a VM's previous one, which a
 * restored guest still has).  The address reaches a Linux guest on its command line (ip=…). */
struct net_tap_lease {
        char owner[32];
        char ip4[INET6_ADDRSTRLEN], gw4[INET6_ADDRSTRLEN], mask4[INET6_ADDRSTRLEN];
        unsigned prefix4;
        char mac[18];
};
int net_tap_attach(struct net_ctx *n, const char *network, const char *name, const char *tap,
                   const unsigned char mac[6], const char *want4, struct net_tap_lease *out,
                   berth_error_t *err);
int net_tap_detach(struct net_ctx *n, const char *network, const struct net_tap_lease *l,
                   berth_error_t *err);
/* The lease as Linux's ip= boot parameter for the guest's interface ethINDEX (Linux configures
 * one interface from it); NULL for an IPv6-only lease, which ip= cannot say. */
char *net_tap_ip_arg(const struct net_tap_lease *l, unsigned index);

/* Remove what belongs to containers that are not running: alive(ctx, cid) says which are. */
typedef bool (*net_alive_fn)(void *ctx, const char *cid);
int net_gc(struct net_ctx *n, net_alive_fn alive, void *ctx, berth_error_t *err);

/* When no container or VM is attached to any network: the default bridge's device and berth's
 * nftables table go too (`network prune` leaves nothing of berth's in `ip link` and `nft list
 * ruleset`; both come back at the next container start).  Returns 1 when it cleaned up. */
int net_host_cleanup_if_idle(struct net_ctx *n, berth_error_t *err);

#endif
