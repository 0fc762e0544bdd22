/* nl.h — rtnetlink through libmnl: links (bridges, veths, taps' masters), addresses and routes,
 * in the current network namespace or in another one.  No shelling out to ip(8).
 *
 *   struct net_nl *nl;
 *   if (net_nl_open(&nl, -1, err) < 0) ...            // this namespace
 *   net_nl_bridge_add(nl, "berth0", 1500, err);
 *   net_nl_veth_add(nl, "vethab12cd3", "eth0", 1500, netns_fd, err);   // peer born in netns
 *   net_nl_close(nl);
 *
 * A handle opened with a netns fd is a netlink socket created inside that namespace (by a
 * short-lived thread that setns()es there): every request on it acts in that namespace, and
 * the calling thread never changes namespace.  Every call names the object in its error
 * ("add address 10.88.0.2/16 to eth0: File exists"). */
#ifndef BERTH_NET_NL_H
#define BERTH_NET_NL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct net_nl;

/* netns_fd: an open /proc/PID/ns/net or bind-mounted netns file; -1 for the caller's own.
 * A handle is not for two threads at once (one sequence number, one reply stream). */
int net_nl_open(struct net_nl **out, int netns_fd, berth_error_t *err);
void net_nl_close(struct net_nl *nl);

/* An address of either family: family AF_INET or AF_INET6, addr in network order. */
struct net_addr {
        int family;
        union {
                struct in_addr v4;
                struct in6_addr v6;
        };
};

/* ifindex of name, 0 when there is no such link (not an error), -1 on error. */
int net_nl_link_index(struct net_nl *nl, const char *name, berth_error_t *err);

/* Create a bridge; an existing link of that name is fine (returns 1 then, 0 when made).
 * mtu 0 = the kernel's default. */
int net_nl_bridge_add(struct net_nl *nl, const char *name, unsigned mtu, berth_error_t *err);

/* Create a veth pair: name here, peer_name in the namespace peer_netns_fd (-1 = here),
 * both with mtu (0 = default) and down.  peer_mac: 6 bytes or NULL for a random one. */
int net_nl_veth_add(struct net_nl *nl, const char *name, const char *peer_name, unsigned mtu,
                    int peer_netns_fd, const unsigned char *peer_mac, berth_error_t *err);

/* macvlan and ipvlan (macvlan.h): a slave link of parent (in nl's namespace) named name,
 * born in netns_fd (-1 = here), down.  mode: IFLA_MACVLAN_MODE's MACVLAN_MODE_* or
 * IFLA_IPVLAN_MODE's IPVLAN_MODE_*; flags: ipvlan's IPVLAN_F_*; mac: 6 bytes or NULL (ipvlan
 * links have their parent's). */
struct net_slave {
        const char *kind; /* "macvlan" or "ipvlan" */
        const char *name, *parent;
        unsigned mode, flags;
        int netns_fd;
        const unsigned char *mac;
};
int net_nl_slave_add(struct net_nl *nl, const struct net_slave *s, berth_error_t *err);
/* A dummy link, up (the parent of a macvlan/ipvlan network without one). */
int net_nl_dummy_add(struct net_nl *nl, const char *name, berth_error_t *err);
/* An 802.1Q sub-interface name of parent with VLAN id vid, up. */
int net_nl_vlan_add(struct net_nl *nl, const char *name, const char *parent, unsigned vid,
                    berth_error_t *err);

/* A default route out of ifname with no gateway (ipvlan l3/l3s: every address is on-link). */
int net_nl_route_default_dev(struct net_nl *nl, const char *ifname, int family, berth_error_t *err);

/* Delete a link; a missing one is fine. */
int net_nl_link_del(struct net_nl *nl, const char *name, berth_error_t *err);
/* Hairpin mode on a bridge port (a frame may leave by the port it came in by), through
 * netlink rather than /sys, which shows the namespace /sys was mounted in. */
int net_nl_hairpin(struct net_nl *nl, const char *name, berth_error_t *err);

/* Change a link: each field applies when set.  master "" = no master (detach). */
struct net_link_set {
        const char *master;       /* enslave to this bridge */
        unsigned mtu;             /* 0 = leave */
        const unsigned char *mac; /* 6 bytes or NULL */
        int up;                   /* 1 up, 0 down, -1 leave */
};
int net_nl_link_set(struct net_nl *nl, const char *name, const struct net_link_set *s,
                    berth_error_t *err);

/* Add an address with its prefix length; an existing identical address is fine.
 * IPv6 addresses are added with IFA_F_NODAD (a container's address must work at once). */
int net_nl_addr_add(struct net_nl *nl, const char *ifname, const struct net_addr *a,
                    unsigned prefixlen, berth_error_t *err);

/* Default route via gw on ifname (replace semantics: an existing default is replaced). */
int net_nl_route_default(struct net_nl *nl, const char *ifname, const struct net_addr *gw,
                         berth_error_t *err);

/* Every IPv4/IPv6 route prefix in the main table of this namespace, as "A.B.C.D/N" strings with
 * the device name, for the subnet pool's overlap check: out is a malloc'ed array of
 * malloc'ed "PREFIX DEV" strings ("10.88.0.0/16 berth0", "0.0.0.0/0 eth0", "fd00::/64 br0";
 * DEV is "-" for a route with no device, e.g. a blackhole).  family: AF_INET, AF_INET6, or
 * AF_UNSPEC for both.  Default routes are included (as 0.0.0.0/0 and ::/0). */
int net_nl_routes(struct net_nl *nl, int family, char ***out, size_t *n, berth_error_t *err);

/* Names of links whose name starts with prefix ("" = all), e.g. "veth" (which of them are host
 * ends on our bridges is for the caller to decide): for removing orphans.  malloc'ed array of
 * malloc'ed names. */
int net_nl_links(struct net_nl *nl, const char *prefix, char ***out, size_t *n, berth_error_t *err);
/* The master (bridge) ifname of a link into buf (IFNAMSIZ), "" when it has none. */
int net_nl_link_master(struct net_nl *nl, const char *name, char *buf, berth_error_t *err);

/* Bring lo up in the namespace of nl (what runc and crun do for a new network namespace). */
int net_nl_loopback_up(struct net_nl *nl, berth_error_t *err);

/* Write a sysctl under /proc/sys/net (path like "ipv4/conf/berth0/route_localnet"), in the
 * network namespace of the calling thread (that is what /proc/sys/net shows it). */
int net_sysctl_write(const char *path, const char *value, berth_error_t *err);

/* A persistent network namespace in a file (as `ip netns add`): the file is created and the
 * new namespace bind-mounted on it; lo is up in it.  Returns 0 when made, 1 when path already
 * is a namespace file (kept as it is).  The parent directory is made (mkdir -p) and turned into
 * a shared mount point, bound on itself if it is none (as ip(8) does with /run/netns), so that
 * namespace mounts and their unmounts reach every mount namespace with a copy of it. */
int net_netns_create(const char *path, berth_error_t *err);
/* Unmount (MNT_DETACH) and unlink; a missing file is fine. */
int net_netns_remove(const char *path, berth_error_t *err);

/* Parse "10.88.0.2" / "fd00::2" into a. */
int net_addr_parse(const char *s, struct net_addr *a);
/* Format into buf (INET6_ADDRSTRLEN). */
const char *net_addr_str(const struct net_addr *a, char *buf);

#endif
