/* firewall.h — berth's one nftables table (`table inet berth`), through libnftables.
 *
 * Everything berth adds to the host's firewall lives in that table, so `nft list table inet
 * berth` shows all of it and `nft delete table inet berth` removes all of it.  Networks and
 * published ports are set and map elements, not rules, so adding and removing one is one
 * element and nothing needs a rule handle:
 *   - masquerade for traffic leaving a non-internal network's subnet through any other device;
 *   - DNAT of published ports, from the outside (prerouting), from the host itself including
 *     127.0.0.1 (output; the bridge gets route_localnet and loopback sources are masqueraded)
 *     and hairpin from containers (DNATed traffic that leaves by a berth bridge it entered by
 *     another, or the same, is masqueraded so replies come back through the host);
 *   - isolation: forwarding between two different berth bridges is dropped unless DNATed;
 *     an --internal network forwards nothing in or out.
 * Calls are idempotent (adding what exists, deleting what doesn't: both fine).
 *
 * What the caller must do besides: route_localnet=1 on each bridge (127.0.0.1 DNAT), and
 * `hairpin on` on each container's bridge port: with br_netfilter loaded (Docker loads it)
 * a container's connection to its own published port is bridged back out of its own port.
 * A foreign `ip`/`ip6 filter` FORWARD chain with policy drop (dockerd's) gets
 * `iifname BR accept` and `oifname BR accept` per berth bridge (net_fw_network_add/del);
 * one made after the network was added is seen at the next net_fw_network_add. */
#ifndef BERTH_NET_FIREWALL_H
#define BERTH_NET_FIREWALL_H

#include <stdbool.h>

#include "common/error.h"

/* Create the table, sets, maps and chains if missing; also sets net.ipv4.ip_forward=1 (and
 * IPv6 forwarding when ipv6 is true), as Docker does. */
int net_fw_init(bool ipv6, berth_error_t *err);

struct net_fw_network {
        const char *bridge;  /* device name, e.g. "berth0" */
        const char *subnet4; /* "172.17.0.0/16" or NULL */
        const char *subnet6; /* "fd00:1::/64" or NULL */
        bool internal;
};
int net_fw_network_add(const struct net_fw_network *n, berth_error_t *err);
int net_fw_network_del(const struct net_fw_network *n, berth_error_t *err);

struct net_fw_port {
        const char *proto;   /* "tcp", "udp" or "sctp" */
        const char *host_ip; /* "" or "0.0.0.0" (any IPv4), "::" (any IPv6), or an address */
        unsigned host_port;
        const char *ctr_ip; /* the container's address on the network (same family) */
        unsigned ctr_port;
};
int net_fw_port_add(const struct net_fw_port *p, berth_error_t *err);
int net_fw_port_del(const struct net_fw_port *p, berth_error_t *err);

/* Remove the whole table (nothing of berth's left in the ruleset). */
int net_fw_flush_all(berth_error_t *err);

#endif
