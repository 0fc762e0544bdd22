/* ports.h — published ports (-p, -P): host ports chosen and reserved, DNAT entries made.
 *
 * A reservation is a file, <run_dir>/net/ports/<proto>-<host-ip>-<port>, made with O_EXCL (so
 * two concurrent runs can't take the same port) and holding {Container, Proto, HostIp,
 * HostPort, CtrIp, CtrPort}: everything needed to undo it, also after a kill -9 of whoever made
 * it.  There is no proxy process: traffic reaches the container through the firewall's DNAT,
 * except on the IPv6 loopback address, which only a relay can serve (proxy.h). */
#ifndef BERTH_NET_PORTS_H
#define BERTH_NET_PORTS_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "net/network.h"

/* Publish the container's ports (HostConfig.PortBindings, and with PublishAllPorts every
 * Config.ExposedPorts entry) to ctr_ip, and IPv6 host addresses to ctr_ip6 (NULL or "" when the
 * container has none; a binding without a host address then goes to both, as Docker's).  *ports:
 * NetworkSettings.Ports.  ep_name names the endpoint in Docker's error text.  Undone
 * (net_ports_unpublish) on failure. */
int net_ports_publish(struct net_ctx *n, const char *cid, const char *ep_name, const char *ctr_ip,
                      const char *ctr_ip6, json_t *config, json_t *host_config, json_t **ports,
                      berth_error_t *err);

/* What makes one host port reach the container: take(ctx, f, by_berth, err) returns 1 when
 * done, 0 when the host port is taken (*by_berth: by another container of berth's rather than a
 * host process; the caller tries the next port of a range), -1 on error.  net_ports_publish's
 * is a reservation file and a DNAT entry; rootless berth's a slirp4netns forward (slirp.h). */
struct net_port_fwd {
        const char *proto, *host_ip;
        unsigned host_port;
        const char *ctr_ip;
        unsigned ctr_port;
};
struct net_port_backend {
        int (*take)(void *ctx, const struct net_port_fwd *f, bool *by_berth, berth_error_t *err);
        void *ctx;
};

/* net_ports_publish with another backend: the same parsing, host port choice (ranges, -P's
 * ephemeral ports), NetworkSettings.Ports and Docker's error texts. */
int net_ports_publish_via(struct net_ctx *n, const struct net_port_backend *be, const char *cid,
                          const char *ep_name, const char *ctr_ip, const char *ctr_ip6,
                          json_t *config, json_t *host_config, json_t **ports, berth_error_t *err);

/* net_ports_publish's backend for one port, for backends built on it (rootless.c): a
 * reservation file and a DNAT entry; and the undoing of one such port of container cid. */
int net_ports_take_dnat(struct net_ctx *n, const char *cid, const struct net_port_fwd *f,
                        bool *by_berth, berth_error_t *err);
void net_ports_drop_one(struct net_ctx *n, const char *cid, const char *proto, const char *host_ip,
                        unsigned host_port);

/* Would binding proto ip:port on the host fail with "address already in use"? */
bool net_host_port_busy(const char *proto, const char *ip, unsigned port);

/* Call fn for each record file in dir (its path and parsed content), as ports' reservations and
 * the rootless network's forwards are kept; a torn file (a kill -9 between create and write) is
 * removed.  A missing dir holds none. */
int net_ports_each_record(const char *dir, void (*fn)(const char *path, json_t *j, void *ctx),
                          void *ctx, berth_error_t *err);

/* Every reservation and DNAT entry of container cid; missing ones are fine. */
int net_ports_unpublish(struct net_ctx *n, const char *cid, berth_error_t *err);

/* Ids of containers holding reservations (object used as a set), for garbage collection. */
int net_ports_owners(struct net_ctx *n, json_t *owners, berth_error_t *err);

#endif
