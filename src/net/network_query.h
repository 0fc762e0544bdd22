/* network_query.h — what front-ends ask of the network records beyond one call of network.h:
 * Docker's list filters, the inspect document with its containers, a network made from
 * Docker's create request (POST /networks/create), and prune with the host cleanup after it.
 * `berth network …` and the Engine API both use these, so they answer alike. */
#ifndef BERTH_NET_NETWORK_QUERY_H
#define BERTH_NET_NETWORK_QUERY_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "net/network.h"

/* filters: {"key": ["value", …]} (the Engine API's form; values of a key OR'ed, keys AND'ed)
 * with the keys of `docker network ls`: name (substring), id (substring), driver, label (K or
 * K=V), type (custom|builtin), dangling (true|false|1|0), scope.  Unknown keys and bad values:
 * Docker's "invalid filter …" messages, status 1. */
int net_network_filters_check(json_t *filters, berth_error_t *err);
bool net_network_filters_match(struct net_ctx *n, json_t *doc, json_t *filters);

/* net_network_list narrowed by filters (NULL or {}: all), checked first. */
int net_network_list_filtered(struct net_ctx *n, json_t *filters, json_t **arr, berth_error_t *err);

/* net_network_get with Containers, the attached containers as `network inspect` shows them
 * ({cid: {Name, EndpointID, MacAddress, IPv4Address, IPv6Address}}). */
int net_network_inspect(struct net_ctx *n, const char *name_or_id, json_t **doc,
                        berth_error_t *err);

/* Create from Docker's NetworkCreateRequest: Name, Driver, Internal, Attachable, EnableIPv6,
 * IPAM{Driver, Config[{Subnet, IPRange, Gateway}]} (one IPv4 and one IPv6 entry at most),
 * Options, Labels.  Refusals (bad input included) carry status 1, as net_network_create's. */
int net_network_create_request(struct net_ctx *n, json_t *req, json_t **doc, berth_error_t *err);

/* net_network_prune (filters: array of "label=…", "label!=…", "until=…"), then, when nothing of
 * berth's is attached any more, the default bridge's device and the firewall table go too
 * (net_host_cleanup_if_idle). */
int net_network_prune_idle(struct net_ctx *n, json_t *filters, json_t **removed,
                           berth_error_t *err);

/* {"k": ["v", …]} → ["k=v", …], the form net_network_prune takes. */
json_t *net_filters_as_args(json_t *filters);

#endif
