/* macvlan.h — Docker's macvlan and ipvlan drivers: a network whose containers each get a slave
 * link of a host interface (the parent) as their ethN, addressed from the network's IPAM, with
 * a default route via its gateway: no bridge, no NAT, no published ports (as Docker, -p is
 * ignored), names from a resolver of the container's own at 127.0.0.11 (dns.h).
 *
 *   -o parent=IFACE        the parent; none (or --internal): a dummy "dm-<12 hex of the id>"
 *                          ("di-…" for ipvlan), made at create, and the network is internal
 *   -o parent=IFACE.VID    a missing 802.1Q sub-interface is made on IFACE at create
 *   -o macvlan_mode=bridge|private|vepa|passthru
 *   -o ipvlan_mode=l2|l3|l3s, -o ipvlan_flag=bridge|private|vepa
 *
 * A parent berth made is named in <data>/networks/<id>.link, written before the link is made
 * and removed after it is gone, so `network rm` (and the garbage collection of a create killed
 * midway) removes it; a missing one is made again when a container attaches (after a reboot).
 * A container's slave link is born in its namespace: nothing of it is ever in the host's. */
#ifndef BERTH_NET_MACVLAN_H
#define BERTH_NET_MACVLAN_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "net/network.h"
#include "net/nl.h"

/* "macvlan" or "ipvlan". */
bool net_vlan_driver(const char *driver);

/* The options of a new network: known names (parent, the driver's mode and flag,
 * dns.upstream) and values, Docker's messages (status 1). */
int net_vlan_check(const char *driver, json_t *options, bool rootless, berth_error_t *err);

/* Make or check the parent of a new network (the networks lock held; recs: the other
 * records): its dummy when internal, else the parent must exist or be a VLAN sub-interface
 * berth can make.  passthru wants its parent alone. */
int net_vlan_parent_make(struct net_ctx *n, const char *driver, const char *id, json_t *options,
                         bool internal, json_t *recs, berth_error_t *err);

/* Remove the parent berth made for the network doc (when no record of recs other than doc
 * uses it) and its .link file; none is fine. */
int net_vlan_parent_remove(struct net_ctx *n, json_t *doc, json_t *recs, berth_error_t *err);

/* .link files without a record (a create killed midway): their links go. Lock held. */
void net_vlan_gc(struct net_ctx *n, json_t *recs);

/* The driver's fields of a record into out (net_network_info). */
void net_vlan_info(json_t *doc, struct net_info *out);

/* A container's slave link ifname in netns_fd (host: a handle in the host's namespace); the
 * parent is made again first if berth made it and it is gone. */
int net_vlan_slave_add(struct net_ctx *n, struct net_nl *host, const struct net_info *ni,
                       const char *ifname, int netns_fd, const unsigned char *mac,
                       berth_error_t *err);

/* ipvlan l3/l3s: the default route is on-link, with no gateway. */
bool net_vlan_l3(const struct net_info *ni);

/* Where a container's resolver on such a network forwards other names: dns (HostConfig.Dns)
 * when given, else the network's dns.upstream, else the host's non-loopback servers (the
 * resolver runs in the container's namespace).  A new array. */
json_t *net_vlan_dns_servers(const struct net_info *ni, json_t *dns);

#endif
