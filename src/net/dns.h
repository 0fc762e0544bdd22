/* dns.h — name resolution on user-defined networks: one dnsmasq per network (as libvirt runs
 * one per network), listening on the network's gateway address(es) on its bridge.
 *
 * Records are one hosts file per container in <dir>/hosts.d/<container-id> ("IP name alias…"
 * lines), which dnsmasq watches with inotify (--hostsdir): adding or removing a container is a
 * file write or unlink, no restart and no signal.  Other names are forwarded to the servers in
 * <dir>/resolv.conf (written from the host's /etc/resolv.conf, or from the network's
 * "dns.upstream" option — what tests use to keep lookups inside their own namespaces).
 * dnsmasq's pid is in <dir>/dnsmasq.pid; it runs until the network is removed or the host
 * reboots, and a call that finds it dead starts it again. */
#ifndef BERTH_NET_DNS_H
#define BERTH_NET_DNS_H

#include <jansson.h>

#include "common/error.h"

struct net_dns {
        const char *dir;      /* the network's live directory, e.g. /run/berth/net/<id> */
        const char *bridge;   /* device to listen on */
        const char *listen4;  /* gateway IPv4 address, or NULL */
        const char *listen6;  /* gateway IPv6 address, or NULL */
        const char *upstream; /* comma-separated server addresses, or NULL: the host's */
        const char *domain;   /* search domain answered locally ("dns.podman"-like), or NULL */
};

/* Start dnsmasq unless the one recorded in dir is alive (then 0).  Waits until it listens. */
int net_dns_start(const struct net_dns *d, berth_error_t *err);
/* SIGTERM the network's dnsmasq and wait for it; none running is fine. */
int net_dns_stop(const char *dir, berth_error_t *err);

/* Write <dir>/hosts.d/<cid>: for each address (array of strings) one line with names (array
 * of strings: the container's name, its aliases, its short id, its hostname). */
int net_dns_record_set(const char *dir, const char *cid, json_t *addrs, json_t *names,
                       berth_error_t *err);
int net_dns_record_del(const char *dir, const char *cid, berth_error_t *err);

/* A container's own resolver, for `--dns` on a user network: Docker keeps its embedded
 * resolver at 127.0.0.11 and forwards other names to the container's servers; berth starts a
 * dnsmasq inside the container's network namespace, on 127.0.0.11:53 (lo), that answers the
 * names of the networks given (their hosts.d directories, watched as the networks' resolvers
 * watch them) and forwards the rest to the container's servers only.  Its files are in dir
 * (<run>/net/resolvers/<cid>): dnsmasq.pid, resolv.conf (the servers), dnsmasq.log. */
#define NET_DNS_CONTAINER_ADDR "127.0.0.11"
struct net_dns_container {
        const char *dir;   /* its state directory */
        const char *netns; /* the container's namespace file */
        json_t *hostsdirs; /* array of hosts.d directories (strings) */
        json_t *servers;   /* array of upstream addresses, or NULL: dir's resolv.conf as is */
};
/* (Re)start it: one that runs is replaced (the networks changed). */
int net_dns_container_start(const struct net_dns_container *c, berth_error_t *err);
/* Stop it and remove dir; none is fine. */
int net_dns_container_stop(const char *dir, berth_error_t *err);

#endif
