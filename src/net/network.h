/* network.h — networks as the user sees them (`berth network …`, `--network`): Docker's
 * network model with its JSON shapes, kept on disk so every `berth` call sees the same truth.
 *
 *   <data_dir>/networks/<id>.json   the record: Docker's NetworkResource without Containers
 *                                   (Name, Id, Created, Scope, Driver, EnableIPv6, IPAM,
 *                                   Internal, Attachable, Ingress, ConfigFrom, ConfigOnly,
 *                                   Options, Labels)
 *   <data_dir>/networks/lock        flock: creation and removal, one at a time (unique names
 *                                   and subnets)
 *   <run_dir>/net/<id>/             live state: lock, endpoints/<container-id>.json (one per
 *                                   attached container: the address allocation itself), the
 *                                   network's dnsmasq files
 *
 * `bridge` (device berth0), `host` and `none` always exist, as Docker lists them; `bridge` is
 * made on first use with the first free subnet of Docker's default pools. */
#ifndef BERTH_NET_NETWORK_H
#define BERTH_NET_NETWORK_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "common/paths.h"

#define NET_DEFAULT_NAME   "bridge"
#define NET_DEFAULT_BRIDGE "berth0"

struct net_ctx {
        char *data_dir; /* <data_dir>/networks */
        char *run_dir;  /* <run_dir>/net */
        bool rootless;
};

int net_ctx_init(struct net_ctx *n, const struct berth_paths *p, berth_error_t *err);
void net_ctx_free(struct net_ctx *n);

struct net_create_opts {
        const char *name;
        const char *driver; /* NULL, "bridge", "macvlan" or "ipvlan" (macvlan.h); anything
                               else: Docker's "plugin not found" */
        const char *subnet, *gateway, *ip_range; /* IPv4; NULL = from the pool */
        const char *subnet6, *gateway6;          /* IPv6 (with ipv6); NULL subnet6 = a ULA /64 */
        bool ipv6, internal, attachable;
        json_t *labels;  /* object or NULL */
        json_t *options; /* object or NULL: com.docker.network.bridge.name, …driver.mtu / mtu,
                            dns.upstream (berth's: where the network's resolver forwards) */
};

/* Create a network; *doc (may be NULL) gets the new record.  Refusals carry exit status 125
 * (Docker's messages): a name in use ("network with name X already exists"), a subnet that
 * overlaps another network's or a host route ("Pool overlaps with other one on this address
 * space"), a gateway or range outside the subnet, an unknown driver. */
int net_network_create(struct net_ctx *n, const struct net_create_opts *o, json_t **doc,
                       berth_error_t *err);

/* Find by full id, name, or unique id prefix (Docker's order).  "bridge" is made when missing.
 * host and none are records too ({"Driver": "host"/"null"}).  Unknown: status 125?  No: the
 * error says "network X not found" with status 1 (docker network inspect) — callers that need
 * 125 (run) set it. */
int net_network_get(struct net_ctx *n, const char *name_or_id, json_t **doc, berth_error_t *err);

/* Every network, sorted by name ("bridge", "host", "none" included). */
int net_network_list(struct net_ctx *n, json_t **arr, berth_error_t *err);

/* Remove a user network: refused for bridge/host/none ("bridge is a pre-defined network and
 * cannot be removed", 1) and while containers are attached ("error while removing network: network
 * NAME id ID has active endpoints", 1).  Takes its bridge, firewall entries, resolver and live
 * directory with it. */
int net_network_remove(struct net_ctx *n, const char *name_or_id, berth_error_t *err);

/* Remove every user network without attached containers (labels filter: "label=K[=V]",
 * "until=…" as Docker's prune filters; filters may be NULL); *removed: array of names. */
int net_network_prune(struct net_ctx *n, json_t *filters, json_t **removed, berth_error_t *err);

/* Live directory of a network: <run_dir>/net/<id> (malloc'ed). */
char *net_network_run_dir(struct net_ctx *n, const char *id);

/* Ids of the networks with a live directory: <run_dir>/net/<64 hex> (a JSON array). */
json_t *net_live_networks(struct net_ctx *n);

/* The values a record holds, for the sandbox: */
struct net_info {
        const char *id, *name, *bridge;
        const char *subnet4, *gateway4, *range4; /* NULL when absent */
        const char *subnet6, *gateway6;
        unsigned mtu;             /* 0 = default (1500) */
        bool internal, ipv6, dns; /* dns: a user network (not the default) */
        const char *dns_upstream;
        /* macvlan/ipvlan (macvlan.h): bridge is NULL; the slave links' parent, its modes */
        bool vlan;
        const char *driver, *parent, *vlan_mode, *vlan_flag;
        char dummy[16]; /* storage for parent when it is the network's dummy */
};
/* Pointers into doc (valid while doc lives). */
void net_network_info(json_t *doc, struct net_info *out);

/* IPAM, pure: the first free address of subnet (within range when given) that is neither the
 * network address, the gateway, the broadcast address (IPv4) nor in used (array of address
 * strings); or want, checked ("no available IP addresses on network" / "Address already in
 * use" / "no configured subnet or ip-range contain the IP address X", 125).  out: 46 bytes. */
int net_ipam_pick(const char *subnet, const char *range, const char *gateway, json_t *used,
                  const char *want, char *out, berth_error_t *err);

/* The first /16 of 172.17–31.0.0 then /20s of 192.168.0.0/16 (Docker's default pools) that
 * overlaps none of taken (array of "A.B.C.D/N" strings).  out: 19 bytes. */
int net_subnet_pick(json_t *taken, char *out, berth_error_t *err);

/* Does CIDR a overlap CIDR b (same family)?  -1 for unparsable input. */
int net_cidr_overlap(const char *a, const char *b);

/* bridge, host, none (and "default", Docker's other reserved name): never created or removed. */
bool net_network_predefined(const char *name);

/* Containers are attached (<run_dir>/net/<id>/endpoints/ has entries). */
bool net_network_in_use(struct net_ctx *n, const char *id);

/* Note: `docker network create`, `rm` and `inspect` exit 1 on the daemon's refusals; create,
 * get, remove and prune use status 1 (the messages above), net_ipam_pick 125 (run). */

#endif
