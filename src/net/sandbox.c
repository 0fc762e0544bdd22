/* sandbox.c — a container's network namespace and its endpoints (sandbox.h).
 *
 * Every piece of a sandbox is a file keyed by the container id, written before the kernel
 * object it describes is made, so that net_sandbox_down (and the garbage collection after a
 * kill -9 at any moment) finds everything from the files alone:
 *   <run>/net/ns/<cid>                      the namespace (veths die with it)
 *   <run>/net/<netid>/endpoints/<cid>.json  the address allocation on a network
 *   <run>/net/<netid>/hosts.d/<cid>         the DNS names (user networks)
 *   <run>/net/ports/…                       published ports (ports.c)
 *   <run>/net/resolvers/<cid>/              its own resolver (--dns on a user network) */
#include "net/sandbox.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "net/dns.h"
#include "net/firewall.h"
#include "net/macvlan.h"
#include "net/nl.h"
#include "net/ports.h"
#include "net/rootless.h"
#include "net/slirp.h"

char *net_sandbox_path(struct net_ctx *n, const char *cid)
{
        return berth_xasprintf("%s/ns/%s", n->run_dir, cid);
}

static void random_hex(char *out, size_t nbytes)
{
        unsigned char b[32] = {0};
        if (nbytes > sizeof(b))
                nbytes = sizeof(b);
        /* getrandom does not fail for 32 bytes once the pool is ready; a short read leaves
         * zeros, which only makes a name less random, never wrong */
        if (getrandom(b, nbytes, 0) < 0)
                b[0] = (unsigned char) getpid();
        for (size_t i = 0; i < nbytes; i++)
                sprintf(out + 2 * i, "%02x", b[i]);
}

static unsigned prefix_len(const char *cidr)
{
        const char *s = cidr ? strchr(cidr, '/') : NULL;
        return s ? (unsigned) strtoul(s + 1, NULL, 10) : 0;
}

/* One endpoint being made or read back. */
struct ep {
        json_t *doc; /* the network's record */
        struct net_info ni;
        char ip4[INET6_ADDRSTRLEN], ip6[INET6_ADDRSTRLEN];
        char veth[16], ifname[16], mac[18], epid[65];
        unsigned char macb[6];
        json_t *aliases; /* borrowed */
};

static char *endpoints_dir(struct net_ctx *n, const char *netid)
{
        cleanup_free char *dir = net_network_run_dir(n, netid);
        return berth_path_join(dir, "endpoints");
}

static char *endpoint_path(struct net_ctx *n, const char *netid, const char *cid)
{
        cleanup_free char *dir = endpoints_dir(n, netid);
        return berth_xasprintf("%s/%s.json", dir, cid);
}

/* flock on the network's live lock file: one allocation at a time per network. */
static int net_lock(struct net_ctx *n, const char *netid, berth_error_t *err)
{
        cleanup_free char *dir = net_network_run_dir(n, netid);
        if (berth_mkdir_p(dir, 0755, err) < 0)
                return -1;
        cleanup_free char *path = berth_path_join(dir, "lock");
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return berth_fail(err, errno, "open %s", path);
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR) {
                        int e = errno;
                        close(fd);
                        return berth_fail(err, e, "lock %s", path);
                }
        return fd;
}

/* Addresses in use on a network: every endpoint file's.  *skip: a container whose own stale
 * file is ignored (its allocation is being made again). */
static json_t *used_addresses(struct net_ctx *n, const char *netid, const char *skip_cid,
                              const char *field)
{
        json_t *used = json_array();
        cleanup_free char *dir = endpoints_dir(n, netid);
        cleanup_dir DIR *d = opendir(dir);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
                size_t l = strlen(de->d_name);
                if (de->d_name[0] == '.' || l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
                        continue;
                if (skip_cid && strncmp(de->d_name, skip_cid, l - 5) == 0 &&
                    strlen(skip_cid) == l - 5)
                        continue;
                cleanup_free char *path = berth_path_join(dir, de->d_name);
                cleanup_free char *text = NULL;
                if (berth_read_file(path, &text, NULL, NULL) < 0)
                        continue;
                json_t *j = json_loads(text, 0, NULL);
                const char *a = json_string_value(json_object_get(j, field));
                if (a && *a) {
                        char ip[INET6_ADDRSTRLEN];
                        snprintf(ip, sizeof(ip), "%.*s", (int) strcspn(a, "/"), a);
                        json_array_append_new(used, json_string(ip));
                }
                json_decref(j);
        }
        return used;
}

static json_t *endpoint_doc(const char *cid, const char *name, const struct ep *ep)
{
        cleanup_free char *v4 =
                *ep->ip4 ? berth_xasprintf("%s/%u", ep->ip4, prefix_len(ep->ni.subnet4))
                         : berth_xstrdup("");
        cleanup_free char *v6 =
                *ep->ip6 ? berth_xasprintf("%s/%u", ep->ip6, prefix_len(ep->ni.subnet6))
                         : berth_xstrdup("");
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:O}", "Name", name, "EndpointID",
                         ep->epid, "MacAddress", ep->mac, "IPv4Address", v4, "IPv6Address", v6,
                         "HostIf", ep->veth, "IfName", ep->ifname, "Aliases",
                         ep->aliases ? ep->aliases : json_null());
}

/* Pick the addresses and write the endpoint file, under the network's lock. */
static int endpoint_alloc(struct net_ctx *n, const char *cid, const char *name, json_t *epcfg,
                          struct ep *ep, berth_error_t *err)
{
        json_t *ipam = json_object_get(epcfg, "IPAMConfig");
        const char *want4 = json_string_value(json_object_get(ipam, "IPv4Address"));
        const char *want6 = json_string_value(json_object_get(ipam, "IPv6Address"));
        if (want4 && !*want4)
                want4 = NULL;
        if (want6 && !*want6)
                want6 = NULL;
        if ((want4 || want6) && !ep->ni.dns)
                return berth_fail_status(err, 125, EINVAL,
                                         "user specified IP address is supported on user "
                                         "defined networks only");
        bool ipvlan = ep->ni.vlan && strcmp(ep->ni.driver, "ipvlan") == 0;
        const char *mac_want = json_string_value(json_object_get(epcfg, "MacAddress"));
        if (ipvlan && mac_want && *mac_want)
                return berth_fail_status(err, 125, EINVAL,
                                         "ipvlan interfaces do not support custom mac address "
                                         "assignment");
        int lk = net_lock(n, ep->ni.id, err);
        if (lk < 0)
                return -1;
        int r = 0;
        if (ep->ni.subnet4) {
                json_t *used = used_addresses(n, ep->ni.id, cid, "IPv4Address");
                r = net_ipam_pick(ep->ni.subnet4, ep->ni.range4, ep->ni.gateway4, used, want4,
                                  ep->ip4, err);
                json_decref(used);
        }
        if (r == 0 && ep->ni.ipv6 && ep->ni.subnet6) {
                json_t *used = used_addresses(n, ep->ni.id, cid, "IPv6Address");
                r = net_ipam_pick(ep->ni.subnet6, NULL, ep->ni.gateway6, used, want6, ep->ip6, err);
                json_decref(used);
        }
        if (r == 0) {
                /* Docker's MAC: 02:42 and the IPv4 address */
                struct net_addr a;
                unsigned char mac[6] = {0x02, 0x42, 0, 0, 0, 0};
                const char *want_mac = json_string_value(json_object_get(epcfg, "MacAddress"));
                unsigned m[6];
                if (want_mac && *want_mac &&
                    sscanf(want_mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4],
                           &m[5]) == 6) {
                        for (int i = 0; i < 6; i++)
                                mac[i] = (unsigned char) m[i];
                } else if (*ep->ip4 && net_addr_parse(ep->ip4, &a) == 0) {
                        memcpy(mac + 2, &a.v4, 4);
                } else {
                        random_hex(ep->mac, 2); /* scratch: 4 random bytes below */
                        unsigned x = (unsigned) strtoul(ep->mac, NULL, 16);
                        mac[2] = (unsigned char) (x >> 8);
                        mac[3] = (unsigned char) x;
                }
                memcpy(ep->macb, mac, 6);
                snprintf(ep->mac, sizeof(ep->mac), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
                         mac[2], mac[3], mac[4], mac[5]);
                if (ipvlan) /* its parent's: Docker shows none */
                        ep->mac[0] = '\0';
                cleanup_free char *dir = endpoints_dir(n, ep->ni.id);
                cleanup_free char *path = endpoint_path(n, ep->ni.id, cid);
                json_t *doc = endpoint_doc(cid, name, ep);
                cleanup_free char *text = json_dumps(doc, JSON_COMPACT);
                json_decref(doc);
                r = berth_mkdir_p(dir, 0755, err);
                if (r == 0)
                        r = berth_write_file_replace(path, text, strlen(text), 0644, err);
        }
        close(lk);
        return r;
}

static int endpoint_address(struct net_nl *ns, struct ep *ep, bool gateway, berth_error_t *err);

/* The veth pair, its host end on the bridge, its container end configured. */
static int endpoint_plumb(struct net_ctx *n, struct net_nl *host, struct net_nl *ns, int netns_fd,
                          struct ep *ep, bool gateway, berth_error_t *err)
{
        if (ep->ni.vlan) { /* macvlan/ipvlan: a slave link born in the namespace */
                if (net_vlan_slave_add(n, host, &ep->ni, ep->ifname, netns_fd, ep->macb, err) < 0)
                        return -1;
                return endpoint_address(ns, ep, gateway, err);
        }
        if (net_nl_veth_add(host, ep->veth, ep->ifname, ep->ni.mtu, netns_fd, ep->macb, err) < 0)
                return -1;
        struct net_link_set hs = {.master = ep->ni.bridge, .up = 1};
        if (net_nl_link_set(host, ep->veth, &hs, err) < 0)
                return -1;
        /* a container reaching its own published port through the host: the DNATed packet
         * goes back out the bridge port it came in by (Docker sets this without its proxy) */
        berth_error_t herr = NULL;
        if (net_nl_hairpin(host, ep->veth, &herr) < 0) {
                /* no hairpin to the container itself, everything else works */
                log_warn("%s", berth_error_msg(herr));
                berth_error_release(&herr);
        }
        return endpoint_address(ns, ep, gateway, err);
}

/* The container's end: addresses, up, the default route. */
static int endpoint_address(struct net_nl *ns, struct ep *ep, bool gateway, berth_error_t *err)
{
        struct net_addr a;
        if (*ep->ip4 && (net_addr_parse(ep->ip4, &a) < 0 ||
                         net_nl_addr_add(ns, ep->ifname, &a, prefix_len(ep->ni.subnet4), err) < 0))
                return berth_wrap(err, "address %s", ep->ip4);
        if (*ep->ip6 && (net_addr_parse(ep->ip6, &a) < 0 ||
                         net_nl_addr_add(ns, ep->ifname, &a, prefix_len(ep->ni.subnet6), err) < 0))
                return berth_wrap(err, "address %s", ep->ip6);
        struct net_link_set cs = {.up = 1};
        if (net_nl_link_set(ns, ep->ifname, &cs, err) < 0)
                return -1;
        if (!gateway || ep->ni.internal)
                return 0;
        if (net_vlan_l3(&ep->ni)) { /* ipvlan l3: no gateway, every address on the link */
                if (net_nl_route_default_dev(ns, ep->ifname, AF_INET, err) < 0)
                        return -1;
                if (*ep->ip6 && net_nl_route_default_dev(ns, ep->ifname, AF_INET6, err) < 0)
                        return -1;
                return 0;
        }
        if (ep->ni.gateway4 && net_addr_parse(ep->ni.gateway4, &a) == 0 &&
            net_nl_route_default(ns, ep->ifname, &a, err) < 0)
                return -1;
        if (*ep->ip6 && ep->ni.gateway6 && net_addr_parse(ep->ni.gateway6, &a) == 0 &&
            net_nl_route_default(ns, ep->ifname, &a, err) < 0)
                return -1;
        return 0;
}

static int endpoint_dns(struct net_ctx *n, const char *cid, const char *name, struct ep *ep,
                        berth_error_t *err)
{
        if (!ep->ni.dns)
                return 0;
        json_t *addrs = json_array(), *names = json_array();
        if (*ep->ip4)
                json_array_append_new(addrs, json_string(ep->ip4));
        if (*ep->ip6)
                json_array_append_new(addrs, json_string(ep->ip6));
        json_array_append_new(names, json_string(name));
        size_t i;
        json_t *a;
        json_array_foreach(ep->aliases, i, a)
        {
                json_array_append(names, a);
        }
        char short_id[13];
        snprintf(short_id, sizeof(short_id), "%.12s", cid);
        json_array_append_new(names, json_string(short_id));
        cleanup_free char *dir = net_network_run_dir(n, ep->ni.id);
        int r = net_dns_record_set(dir, cid, addrs, names, err);
        json_decref(addrs);
        json_decref(names);
        return r;
}

/* NetworkSettings.Networks[name] as Docker shows it. */
static json_t *network_settings(const struct ep *ep, json_t *epcfg)
{
        json_t *ipam = json_object_get(epcfg, "IPAMConfig");
        /* `network connect --link`'s (engine/links.c writes their /etc/hosts lines) */
        json_t *links = json_object_get(epcfg, "Links");
        bool gw = !ep->ni.internal;
        return json_pack("{s:O, s:O, s:O, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:s, s:n}",
                         "IPAMConfig", ipam ? ipam : json_null(), "Links",
                         json_array_size(links) ? links : json_null(), "Aliases",
                         ep->aliases ? ep->aliases : json_null(), "NetworkID", ep->ni.id,
                         "EndpointID", ep->epid, "Gateway",
                         gw && ep->ni.gateway4 ? ep->ni.gateway4 : "", "IPAddress", ep->ip4,
                         "IPPrefixLen", (json_int_t) (*ep->ip4 ? prefix_len(ep->ni.subnet4) : 0),
                         "IPv6Gateway", gw && *ep->ip6 && ep->ni.gateway6 ? ep->ni.gateway6 : "",
                         "GlobalIPv6Address", ep->ip6, "GlobalIPv6PrefixLen",
                         (json_int_t) (*ep->ip6 ? prefix_len(ep->ni.subnet6) : 0), "MacAddress",
                         ep->mac, "DriverOpts");
}

/* A container's own resolver (--dns on a user network, dns.h): its directory. */
static char *resolver_dir(struct net_ctx *n, const char *cid)
{
        return berth_xasprintf("%s/resolvers/%s", n->run_dir, cid);
}

/* (Re)start it with the names of every user network the container has a record on now;
 * servers NULL: those it had. */
static int resolver_refresh(struct net_ctx *n, const char *cid, json_t *servers, berth_error_t *err)
{
        cleanup_free char *dir = resolver_dir(n, cid);
        cleanup_free char *ns = net_sandbox_path(n, cid);
        json_t *dirs = json_array();
        json_t *ids = net_live_networks(n);
        size_t i;
        json_t *id;
        json_array_foreach(ids, i, id)
        {
                cleanup_free char *ndir = net_network_run_dir(n, json_string_value(id));
                cleanup_free char *rec = berth_xasprintf("%s/hosts.d/%s", ndir, cid);
                if (access(rec, F_OK) == 0)
                        json_array_append_new(dirs, json_sprintf("%s/hosts.d", ndir));
        }
        json_decref(ids);
        struct net_dns_container c = {
                .dir = dir, .netns = ns, .hostsdirs = dirs, .servers = servers};
        int r = net_dns_container_start(&c, err);
        json_decref(dirs);
        return r;
}

/* After connect or disconnect: a container with its own resolver gets the new names. */
static void resolver_follow(struct net_ctx *n, const char *cid)
{
        cleanup_free char *dir = resolver_dir(n, cid);
        cleanup_free char *resolv = berth_xasprintf("%s/resolv.conf", dir);
        berth_error_t e = NULL;
        if (access(resolv, F_OK) == 0 && resolver_refresh(n, cid, NULL, &e) < 0) {
                log_warn("container %.12s: %s", cid, berth_error_msg(e));
                berth_error_release(&e);
        }
}

bool net_sandbox_has_resolver(struct net_ctx *n, const char *cid)
{
        cleanup_free char *dir = resolver_dir(n, cid);
        cleanup_free char *resolv = berth_xasprintf("%s/resolv.conf", dir);
        return access(resolv, F_OK) == 0;
}

/* Where a container on a user bridge sends what its own resolver does not know: its first
 * network's resolver, on that bridge's gateway (which forwards on as for every member). */
static json_t *bridge_upstream(const struct net_info *ni)
{
        json_t *a = json_array();
        const char *gw = ni->gateway4 && *ni->gateway4 ? ni->gateway4 : ni->gateway6;
        if (gw && *gw)
                json_array_append_new(a, json_string(gw));
        return a;
}

/* The network a NetworkMode names: "default" is the default bridge. */
static const char *mode_network(json_t *hc)
{
        const char *m = json_string_value(json_object_get(hc, "NetworkMode"));
        if (m == NULL || *m == '\0' || strcmp(m, "default") == 0)
                return NET_DEFAULT_NAME;
        return m;
}

static int open_network(struct net_ctx *n, const char *name, struct ep *ep, berth_error_t *err)
{
        memset(ep, 0, sizeof(*ep));
        if (net_network_get(n, name, &ep->doc, err) < 0) {
                if (*err)
                        (*err)->status = 125;
                return -1;
        }
        net_network_info(ep->doc, &ep->ni);
        if (ep->ni.bridge == NULL && !ep->ni.vlan) {
                json_decref(ep->doc);
                ep->doc = NULL;
                return berth_fail_status(err, 125, EINVAL,
                                         "container cannot be connected to network %s: it is "
                                         "not a bridge network",
                                         name);
        }
        return 0;
}

/* The bridge, firewall entries and resolver, made once however many starts race for them. */
static int bridge_up_locked(struct net_ctx *n, struct ep *ep, berth_error_t *err)
{
        int lk = net_lock(n, ep->ni.id, err);
        if (lk < 0)
                return -1;
        int r = net_bridge_up(n, ep->doc, err);
        close(lk);
        return r;
}

/* Attach one network to the namespace behind ns/netns_fd. */
static int attach(struct net_ctx *n, const struct net_sandbox_req *r, struct net_nl *host,
                  struct net_nl *ns, int netns_fd, struct ep *ep, json_t *epcfg, int index,
                  bool gateway, berth_error_t *err)
{
        ep->aliases = json_object_get(epcfg, "Aliases");
        if (json_array_size(ep->aliases) > 0 && !ep->ni.dns)
                return berth_fail_status(err, 125, EINVAL,
                                         "network-scoped alias is supported only for containers "
                                         "in user defined networks");
        random_hex(ep->epid, 32);
        char rnd[8];
        random_hex(rnd, 4);
        /* macvlan/ipvlan: no host end */
        snprintf(ep->veth, sizeof(ep->veth), "%s", "");
        if (!ep->ni.vlan)
                snprintf(ep->veth, sizeof(ep->veth), "veth%.7s", rnd);
        snprintf(ep->ifname, sizeof(ep->ifname), "eth%d", index);
        if ((!ep->ni.vlan && bridge_up_locked(n, ep, err) < 0) ||
            endpoint_alloc(n, r->cid, r->name, epcfg, ep, err) < 0 ||
            endpoint_plumb(n, host, ns, netns_fd, ep, gateway, err) < 0 ||
            endpoint_dns(n, r->cid, r->name, ep, err) < 0)
                return berth_wrap(err, "connect container %.12s to network %s", r->cid,
                                  ep->ni.name);
        return 0;
}

/* The networks a container is attached to, the NetworkMode's first. */
static json_t *network_names(const struct net_sandbox_req *r)
{
        json_t *names = json_array();
        const char *primary = mode_network(r->host_config);
        json_array_append_new(names, json_string(primary));
        const char *k;
        json_t *v;
        json_object_foreach(r->endpoints, k, v)
        {
                if (strcmp(k, primary) != 0)
                        json_array_append_new(names, json_string(k));
        }
        return names;
}

static void top_level(json_t *s, const struct ep *ep)
{
        /* Docker fills the top-level fields from the default bridge network only */
        json_object_set_new(s, "EndpointID", json_string(ep->epid));
        json_object_set_new(s, "Gateway", json_string(ep->ni.gateway4 ? ep->ni.gateway4 : ""));
        json_object_set_new(s, "IPAddress", json_string(ep->ip4));
        json_object_set_new(s, "IPPrefixLen", json_integer(prefix_len(ep->ni.subnet4)));
        json_object_set_new(s, "MacAddress", json_string(ep->mac));
        json_object_set_new(s, "GlobalIPv6Address", json_string(ep->ip6));
        json_object_set_new(s, "GlobalIPv6PrefixLen",
                            json_integer(*ep->ip6 ? prefix_len(ep->ni.subnet6) : 0));
        json_object_set_new(s, "IPv6Gateway",
                            json_string(*ep->ip6 && ep->ni.gateway6 ? ep->ni.gateway6 : ""));
}

static json_t *empty_settings(const char *sandbox_key)
{
        return json_pack("{s:s, s:s, s:b, s:s, s:i, s:{}, s:s, s:n, s:n, s:s, s:s, s:s, s:i, "
                         "s:s, s:i, s:s, s:s, s:{}}",
                         "Bridge", "", "SandboxID", "", "HairpinMode", 0, "LinkLocalIPv6Address",
                         "", "LinkLocalIPv6PrefixLen", 0, "Ports", "SandboxKey", sandbox_key,
                         "SecondaryIPAddresses", "SecondaryIPv6Addresses", "EndpointID", "",
                         "Gateway", "", "GlobalIPv6Address", "", "GlobalIPv6PrefixLen", 0,
                         "IPAddress", "", "IPPrefixLen", 0, "IPv6Gateway", "", "MacAddress", "",
                         "Networks");
}

static int sandbox_down(struct net_ctx *n, const char *cid, bool release_dir, berth_error_t *err);

/* The directory of namespace files is a shared mount (netns.c, as `ip netns` makes
 * /run/netns); it is unmounted again when the last namespace goes, so no mount of berth's
 * outlives its containers.  Creating takes this lock shared, that clean-up exclusive. */
static int ns_dir_lock(struct net_ctx *n, int how, berth_error_t *err)
{
        if (berth_mkdir_p(n->run_dir, 0755, err) < 0)
                return -1;
        cleanup_free char *path = berth_path_join(n->run_dir, "ns.lock");
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return berth_fail(err, errno, "open %s", path);
        while (flock(fd, how) < 0) {
                if (errno != EINTR) {
                        int e = errno;
                        close(fd);
                        return berth_fail(err, e, "lock %s", path);
                }
        }
        return fd;
}

static void ns_dir_release_if_empty(struct net_ctx *n)
{
        berth_error_t e = NULL;
        int lk = ns_dir_lock(n, LOCK_EX | LOCK_NB, &e);
        berth_error_release(&e);
        if (lk < 0)
                return; /* a start is making one: not empty for long */
        cleanup_free char *nsdir = berth_path_join(n->run_dir, "ns");
        DIR *d = opendir(nsdir);
        bool empty = d != NULL;
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL)
                if (de->d_name[0] != '.')
                        empty = false;
        if (d)
                closedir(d);
        if (empty && umount2(nsdir, MNT_DETACH) == 0)
                rmdir(nsdir);
        close(lk);
}

int net_sandbox_ns_make(struct net_ctx *n, const char *cid, berth_error_t *err)
{
        cleanup_free char *path = net_sandbox_path(n, cid);
        /* leftovers of an earlier run (a kill -9, a reboot) go first */
        berth_error_t ignored = NULL;
        sandbox_down(n, cid, false, &ignored);
        berth_error_release(&ignored);
        cleanup_free char *nsdir = berth_path_join(n->run_dir, "ns");
        int lk = ns_dir_lock(n, LOCK_SH, err);
        if (lk < 0)
                return -1;
        int made = berth_mkdir_p(nsdir, 0755, err) < 0 ? -1 : net_netns_create(path, err);
        close(lk);
        if (made < 0)
                return berth_wrap(err, "create the network namespace of %.12s", cid);
        return 0;
}

int net_sandbox_up(struct net_ctx *n, const struct net_sandbox_req *r, json_t **settings,
                   berth_error_t *err)
{
        cleanup_free char *path = net_sandbox_path(n, r->cid);
        berth_error_t ignored = NULL;
        if (net_sandbox_ns_make(n, r->cid, err) < 0)
                return -1;
        cleanup_close int nsfd = open(path, O_RDONLY | O_CLOEXEC);
        struct net_nl *host = NULL, *ns = NULL;
        json_t *names = network_names(r);
        json_t *s = empty_settings(path);
        bool own_resolver = false;
        json_t *servers = NULL;   /* of that resolver: HostConfig.Dns unless macvlan.h says */
        json_t *bridge_up = NULL; /* a first user bridge's resolver, for a later macvlan */
        char sid[65];
        random_hex(sid, 32);
        json_object_set_new(s, "SandboxID", json_string(sid));
        int rc = nsfd < 0 ? berth_fail(err, errno, "open %s", path) : 0;
        if (rc == 0)
                rc = net_nl_open(&host, -1, err);
        if (rc == 0)
                rc = net_nl_open(&ns, nsfd, err);
        size_t i;
        json_t *nm;
        json_array_foreach(names, i, nm)
        {
                if (rc < 0)
                        break;
                const char *name = json_string_value(nm);
                json_t *epcfg = json_object_get(r->endpoints, name);
                struct ep ep;
                if ((rc = open_network(n, name, &ep, err)) < 0)
                        break;
                rc = attach(n, r, host, ns, nsfd, &ep, epcfg, (int) i, i == 0, err);
                if (rc == 0 && i == 0)
                        own_resolver = ep.ni.dns &&
                                       json_array_size(json_object_get(r->host_config, "Dns")) > 0;
                /* macvlan/ipvlan: no host end to hold a network's resolver, so each container
                 * has its own, as Docker's embedded one is in every container */
                if (rc == 0 && i == 0 && ep.ni.vlan) {
                        own_resolver = true;
                        servers = net_vlan_dns_servers(&ep.ni,
                                                       json_object_get(r->host_config, "Dns"));
                }
                if (rc == 0 && i == 0 && ep.ni.dns && !ep.ni.vlan)
                        bridge_up = bridge_upstream(&ep.ni);
                /* first a user bridge, then a macvlan/ipvlan network: no bridge resolver knows
                 * the second's names, so the container gets its own, forwarding to the first */
                if (rc == 0 && i > 0 && ep.ni.vlan && bridge_up && !own_resolver) {
                        own_resolver = true;
                        servers = json_incref(bridge_up);
                }
                if (rc == 0) {
                        json_object_set_new(json_object_get(s, "Networks"), ep.ni.name,
                                            network_settings(&ep, epcfg));
                        if (strcmp(ep.ni.name, NET_DEFAULT_NAME) == 0)
                                top_level(s, &ep);
                        /* macvlan/ipvlan: -p is ignored, as Docker's drivers ignore it */
                        if (i == 0 && !ep.ni.vlan) {
                                json_t *ports = NULL;
                                /* rootless: inside the rootless network namespace (its
                                 * slirp4netns forwards from the host) */
                                rc = n->rootless ? net_rootless_publish(n, r->cid, r->name, ep.ip4,
                                                                        r->config, r->host_config,
                                                                        &ports, err)
                                                 : net_ports_publish(n, r->cid, r->name, ep.ip4,
                                                                     ep.ip6, r->config,
                                                                     r->host_config, &ports, err);
                                if (rc == 0)
                                        json_object_set_new(s, "Ports", ports);
                        }
                }
                json_decref(ep.doc);
        }
        net_nl_close(host);
        net_nl_close(ns);
        json_decref(names);
        /* --dns on a user network: a resolver of its own at 127.0.0.11 (resolv.conf says so) */
        if (rc == 0 && own_resolver)
                rc = resolver_refresh(
                        n, r->cid, servers ? servers : json_object_get(r->host_config, "Dns"), err);
        json_decref(servers);
        json_decref(bridge_up);
        if (rc < 0) {
                net_sandbox_down(n, r->cid, &ignored);
                berth_error_release(&ignored);
                json_decref(s);
                return -1;
        }
        *settings = s;
        return 0;
}

static void drop_endpoint(struct net_ctx *n, const char *netid, const char *cid)
{
        cleanup_free char *path = endpoint_path(n, netid, cid);
        cleanup_free char *dir = net_network_run_dir(n, netid);
        berth_error_t e = NULL;
        if (net_dns_record_del(dir, cid, &e) < 0) {
                log_warn("%s", berth_error_msg(e));
                berth_error_release(&e);
        }
        unlink(path);
}

/* release_dir: unmount the namespaces' directory when this was its last one (not when a start
 * clears leftovers before making a namespace there again: a mount and an unmount saved). */
static int sandbox_down(struct net_ctx *n, const char *cid, bool release_dir, berth_error_t *err)
{
        berth_error_t e = NULL;
        net_rootless_unpublish(n, cid);
        if (net_ports_unpublish(n, cid, &e) < 0) {
                log_warn("%s", berth_error_msg(e));
                berth_error_release(&e);
        }
        json_t *ids = net_live_networks(n);
        size_t i;
        json_t *id;
        json_array_foreach(ids, i, id)
        {
                drop_endpoint(n, json_string_value(id), cid);
        }
        json_decref(ids);
        /* a rootless container's slirp4netns holds its tap (and the namespace): it goes first */
        if (net_slirp_stop(n, cid, &e) < 0) {
                log_warn("%s", berth_error_msg(e));
                berth_error_release(&e);
        }
        /* a resolver of its own lives in the namespace: it goes before it */
        cleanup_free char *rdir = resolver_dir(n, cid);
        if (net_dns_container_stop(rdir, &e) < 0) {
                log_warn("%s", berth_error_msg(e));
                berth_error_release(&e);
        }
        cleanup_free char *path = net_sandbox_path(n, cid);
        int r = net_netns_remove(path, err);
        if (release_dir)
                ns_dir_release_if_empty(n);
        return r;
}

int net_sandbox_down(struct net_ctx *n, const char *cid, berth_error_t *err)
{
        return sandbox_down(n, cid, true, err);
}

/* Read back a container's endpoint on a network. */
static int endpoint_read(struct net_ctx *n, const char *netid, const char *cid, json_t **out)
{
        cleanup_free char *path = endpoint_path(n, netid, cid);
        cleanup_free char *text = NULL;
        if (berth_read_file(path, &text, NULL, NULL) < 0)
                return -1;
        *out = json_loads(text, 0, NULL);
        return *out ? 0 : -1;
}

/* A running container on a user bridge joins a macvlan/ipvlan network: it gets a resolver of
 * its own (net_sandbox_up's rule), forwarding to its first network's; a failure leaves it
 * with the bridge's, which answers all but the new network's names. */
static void resolver_for_vlan(struct net_ctx *n, const struct net_sandbox_req *r)
{
        struct ep first;
        berth_error_t e = NULL;
        if (open_network(n, mode_network(r->host_config), &first, &e) < 0) {
                berth_error_release(&e);
                return;
        }
        if (first.ni.dns && !first.ni.vlan) {
                json_t *up = bridge_upstream(&first.ni);
                if (resolver_refresh(n, r->cid, up, &e) < 0) {
                        log_warn("container %.12s: its own resolver, for the names of a "
                                 "macvlan/ipvlan network: %s",
                                 r->cid, berth_error_msg(e));
                        berth_error_release(&e);
                }
                json_decref(up);
        }
        json_decref(first.doc);
}

int net_sandbox_connect(struct net_ctx *n, const struct net_sandbox_req *r, const char *network,
                        json_t *endpoint_config, json_t **settings, berth_error_t *err)
{
        struct ep ep;
        if (open_network(n, network, &ep, err) < 0)
                return -1;
        json_t *old = NULL;
        if (endpoint_read(n, ep.ni.id, r->cid, &old) == 0) {
                json_decref(old);
                json_decref(ep.doc);
                return berth_fail_status(err, 1, EEXIST,
                                         "endpoint with name %s already exists in network %s",
                                         r->name, ep.ni.name);
        }
        cleanup_free char *path = net_sandbox_path(n, r->cid);
        cleanup_close int nsfd = open(path, O_RDONLY | O_CLOEXEC);
        struct net_nl *host = NULL, *ns = NULL;
        int rc = nsfd < 0 ? berth_fail(err, errno, "open %s", path) : 0;
        if (rc == 0)
                rc = net_nl_open(&host, -1, err);
        if (rc == 0)
                rc = net_nl_open(&ns, nsfd, err);
        int index = 0;
        while (rc == 0 && index < 64) {
                char ifn[16];
                snprintf(ifn, sizeof(ifn), "eth%d", index);
                int x = net_nl_link_index(ns, ifn, err);
                if (x < 0)
                        rc = -1;
                if (x == 0)
                        break;
                index++;
        }
        /* the first network of a container without one gets the default route */
        if (rc == 0)
                rc = attach(n, r, host, ns, nsfd, &ep, endpoint_config, index, index == 0, err);
        if (rc < 0) {
                char ifn[16];
                snprintf(ifn, sizeof(ifn), "eth%d", index);
                berth_error_t ignored = NULL;
                if (ns)
                        net_nl_link_del(ns, ifn, &ignored);
                berth_error_release(&ignored);
                drop_endpoint(n, ep.ni.id, r->cid);
        } else {
                *settings = network_settings(&ep, endpoint_config);
                if (ep.ni.vlan && !net_sandbox_has_resolver(n, r->cid))
                        resolver_for_vlan(n, r);
                else
                        resolver_follow(n, r->cid);
        }
        net_nl_close(host);
        net_nl_close(ns);
        json_decref(ep.doc);
        return rc;
}

int net_sandbox_disconnect(struct net_ctx *n, const char *cid, const char *network,
                           json_t **settings, berth_error_t *err)
{
        struct ep ep;
        if (open_network(n, network, &ep, err) < 0)
                return -1;
        json_t *old = NULL;
        if (endpoint_read(n, ep.ni.id, cid, &old) < 0) {
                json_decref(ep.doc);
                return berth_fail_status(err, 1, ENOENT,
                                         "container %.12s is not connected to network %s", cid,
                                         network);
        }
        const char *ifn = json_string_value(json_object_get(old, "IfName"));
        cleanup_free char *path = net_sandbox_path(n, cid);
        cleanup_close int nsfd = open(path, O_RDONLY | O_CLOEXEC);
        struct net_nl *ns = NULL;
        int rc = 0;
        if (nsfd >= 0 && ifn && net_nl_open(&ns, nsfd, err) == 0) {
                rc = net_nl_link_del(ns, ifn, err);
                net_nl_close(ns);
        }
        drop_endpoint(n, ep.ni.id, cid);
        resolver_follow(n, cid);
        json_decref(old);
        json_decref(ep.doc);
        if (settings)
                *settings = NULL;
        return rc;
}

int net_network_endpoints(struct net_ctx *n, const char *netid, json_t **out, berth_error_t *err)
{
        json_t *o = json_object();
        cleanup_free char *dir = endpoints_dir(n, netid);
        cleanup_dir DIR *d = opendir(dir);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
                size_t l = strlen(de->d_name);
                if (de->d_name[0] == '.' || l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
                        continue;
                char cid[128];
                snprintf(cid, sizeof(cid), "%.*s", (int) (l - 5), de->d_name);
                json_t *j = NULL;
                if (endpoint_read(n, netid, cid, &j) < 0)
                        continue;
                json_object_del(j, "HostIf");
                json_object_del(j, "IfName");
                json_object_del(j, "Aliases");
                json_object_set_new(o, cid, j);
        }
        *out = o;
        return 0;
}

/* The endpoint's address: want4 when the network can lend it (a user network, the address
 * free and in its subnet), else any. */
static int tap_alloc(struct net_ctx *n, const char *owner, const char *name, json_t *epcfg,
                     const char *want4, struct ep *ep, berth_error_t *err)
{
        if (want4 && *want4 && ep->ni.dns) {
                json_object_set_new(epcfg, "IPAMConfig", json_pack("{s:s}", "IPv4Address", want4));
                berth_error_t e = NULL;
                if (endpoint_alloc(n, owner, name, epcfg, ep, &e) == 0)
                        return 0;
                log_info("network %s: %s is not free (%s): another address", ep->ni.name, want4,
                         berth_error_msg(e));
                berth_error_release(&e);
                json_object_del(epcfg, "IPAMConfig");
        }
        return endpoint_alloc(n, owner, name, epcfg, ep, err);
}

int net_tap_attach(struct net_ctx *n, const char *network, const char *name, const char *tap,
                   const unsigned char mac[6], const char *want4, struct net_tap_lease *out,
                   berth_error_t *err)
{
        memset(out, 0, sizeof(*out));
        snprintf(out->owner, sizeof(out->owner), "vm-%d", (int) getpid());
        struct ep ep;
        if (open_network(n, network, &ep, err) < 0)
                return -1;
        if (ep.ni.vlan) {
                json_decref(ep.doc);
                return berth_fail_status(err, 125, EINVAL,
                                         "network %s: a microVM's tap joins bridge networks, not "
                                         "%s ones",
                                         network, ep.ni.driver);
        }
        snprintf(ep.veth, sizeof(ep.veth), "%s", tap);
        snprintf(ep.ifname, sizeof(ep.ifname), "%s", tap);
        json_t *epcfg = json_object();
        char macs[18];
        snprintf(macs, sizeof(macs), "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
                 mac[3], mac[4], mac[5]);
        json_object_set_new(epcfg, "MacAddress", json_string(macs));
        random_hex(ep.epid, 32);
        struct net_nl *nl = NULL;
        struct net_link_set s = {.master = ep.ni.bridge, .up = 1};
        int r = bridge_up_locked(n, &ep, err);
        if (r == 0)
                r = tap_alloc(n, out->owner, name, epcfg, want4, &ep, err);
        if (r == 0)
                r = net_nl_open(&nl, -1, err);
        if (r == 0)
                r = net_nl_link_set(nl, tap, &s, err);
        net_nl_close(nl);
        if (r == 0)
                r = endpoint_dns(n, out->owner, name, &ep, err);
        if (r == 0) {
                snprintf(out->ip4, sizeof(out->ip4), "%s", ep.ip4);
                snprintf(out->gw4, sizeof(out->gw4), "%s", ep.ni.gateway4 ? ep.ni.gateway4 : "");
                out->prefix4 = prefix_len(ep.ni.subnet4);
                uint32_t m = out->prefix4 ? htonl(~0u << (32 - out->prefix4)) : 0;
                inet_ntop(AF_INET, &m, out->mask4, sizeof(out->mask4));
                snprintf(out->mac, sizeof(out->mac), "%s", ep.mac);
        } else {
                drop_endpoint(n, ep.ni.id, out->owner);
                berth_wrap(err, "attach tap %s to network %s", tap, network);
        }
        json_decref(epcfg);
        json_decref(ep.doc);
        return r;
}

char *net_tap_ip_arg(const struct net_tap_lease *l, unsigned index)
{
        if (!*l->ip4)
                return NULL;
        return berth_xasprintf("ip=%s::%s:%s::eth%u:off", l->ip4, l->gw4, l->mask4, index);
}

int net_tap_detach(struct net_ctx *n, const char *network, const struct net_tap_lease *l,
                   berth_error_t *err)
{
        struct ep ep;
        if (open_network(n, network, &ep, err) < 0)
                return -1;
        drop_endpoint(n, ep.ni.id, l->owner);
        json_decref(ep.doc);
        return 0;
}

/* A microVM's endpoint lives as long as its owner: "vm-PID" and /proc/PID/comm, the VMM
 * that joined the network itself (berth-vmm --net network=) or the supervisor of `berth vm`
 * that holds the tap for it (berth-vm-monitor, 15 characters of it in comm). */
static bool vm_alive(const char *owner)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%s/comm", owner + 3);
        cleanup_free char *comm = NULL;
        if (berth_read_file(path, &comm, NULL, NULL) < 0)
                return false;
        return strncmp(comm, "berth-vmm", 9) == 0 || strncmp(comm, "berth-vm-monito", 15) == 0;
}

int net_gc(struct net_ctx *n, net_alive_fn alive, void *ctx, berth_error_t *err)
{
        /* every container id that owns something: namespaces, endpoints, ports */
        json_t *owners = json_object();
        cleanup_free char *nsdir = berth_path_join(n->run_dir, "ns");
        cleanup_dir DIR *d = opendir(nsdir);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL)
                if (de->d_name[0] != '.')
                        json_object_set_new(owners, de->d_name, json_true());
        json_t *ids = net_live_networks(n);
        size_t i;
        json_t *id;
        json_array_foreach(ids, i, id)
        {
                json_t *eps = NULL;
                net_network_endpoints(n, json_string_value(id), &eps, err);
                const char *k;
                json_t *v;
                json_object_foreach(eps, k, v)
                {
                        json_object_set_new(owners, k, json_true());
                }
                json_decref(eps);
        }
        json_decref(ids);
        berth_error_t e = NULL;
        net_ports_owners(n, owners, &e);
        berth_error_release(&e);
        net_slirp_owners(n, owners, &e);
        berth_error_release(&e);
        cleanup_free char *rsdir = berth_path_join(n->run_dir, "resolvers");
        cleanup_dir DIR *rd = opendir(rsdir);
        while (rd && (de = readdir(rd)) != NULL)
                if (de->d_name[0] != '.')
                        json_object_set_new(owners, de->d_name, json_true());
        const char *cid;
        json_t *v;
        int r = 0;
        json_object_foreach(owners, cid, v)
        {
                if (berth_str_has_prefix(cid, "vm-") ? vm_alive(cid) : alive(ctx, cid))
                        continue;
                log_info("network: removing what is left of container %.12s", cid);
                if (net_sandbox_down(n, cid, &e) < 0) {
                        log_warn("%s", berth_error_msg(e));
                        berth_error_release(&e);
                }
        }
        json_decref(owners);
        return r;
}

int net_host_cleanup_if_idle(struct net_ctx *n, berth_error_t *err)
{
        cleanup_free char *nsdir = berth_path_join(n->run_dir, "ns");
        cleanup_dir DIR *d = opendir(nsdir);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL)
                if (de->d_name[0] != '.')
                        return 0;
        json_t *ids = net_live_networks(n);
        size_t i;
        json_t *id;
        bool busy = false;
        json_array_foreach(ids, i, id)
        {
                json_t *eps = NULL;
                net_network_endpoints(n, json_string_value(id), &eps, NULL);
                busy |= json_object_size(eps) > 0;
                json_decref(eps);
        }
        if (!busy) {
                /* their firewall entries go with the table: the next attach makes them again */
                json_array_foreach(ids, i, id)
                {
                        cleanup_free char *dir = net_network_run_dir(n, json_string_value(id));
                        cleanup_free char *up = berth_path_join(dir, "up");
                        unlink(up);
                }
        }
        json_decref(ids);
        if (busy)
                return 0;
        json_t *doc = NULL;
        if (net_network_get(n, NET_DEFAULT_NAME, &doc, NULL) == 0) {
                berth_error_t e = NULL;
                if (net_bridge_down(n, doc, &e) < 0) {
                        log_warn("%s", berth_error_msg(e));
                        berth_error_release(&e);
                }
                json_decref(doc);
        }
        return net_fw_flush_all(err) < 0 ? -1 : 1;
}
