/* bridge.c — a network's host side: its Linux bridge with the gateway address, its firewall
 * entries and, on user networks, its resolver.  Made when the first container attaches (not at
 * `network create`, as Docker makes it lazily too), removed with the network or by prune. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "net/dns.h"
#include "net/firewall.h"
#include "net/nl.h"
#include "net/sandbox.h"
#include "net/slirp.h"

/* "172.18.0.0/16" → 16 (0 when there is no prefix). */
static unsigned prefix_len(const char *cidr)
{
        const char *s = cidr ? strchr(cidr, '/') : NULL;
        return s ? (unsigned) strtoul(s + 1, NULL, 10) : 0;
}

static int add_gateway(struct net_nl *nl, const char *bridge, const char *gw, const char *subnet,
                       berth_error_t *err)
{
        struct net_addr a;
        if (gw == NULL || subnet == NULL)
                return 0;
        if (net_addr_parse(gw, &a) < 0)
                return berth_fail(err, EINVAL, "gateway address %s of %s", gw, bridge);
        return net_nl_addr_add(nl, bridge, &a, prefix_len(subnet), err);
}

static int fw_entry(const struct net_info *ni, struct net_fw_network *fw)
{
        *fw = (struct net_fw_network){.bridge = ni->bridge,
                                      .subnet4 = ni->subnet4,
                                      .subnet6 = ni->ipv6 ? ni->subnet6 : NULL,
                                      .internal = ni->internal};
        return 0;
}

static int dns_of(struct net_ctx *n, const struct net_info *ni, char *dir, struct net_dns *d)
{
        *d = (struct net_dns){.dir = dir,
                              .bridge = ni->bridge,
                              .listen4 = ni->gateway4,
                              .listen6 = ni->ipv6 ? ni->gateway6 : NULL,
                              .upstream = ni->dns_upstream};
        /* rootless: dnsmasq lives in the rootless network namespace, where the host's resolvers
         * (a loopback one above all) are out of reach; slirp4netns's forwarder is not */
        if (n->rootless && (d->upstream == NULL || *d->upstream == '\0'))
                d->upstream = NET_SLIRP_DNS;
        return 0;
}

int net_bridge_up(struct net_ctx *n, json_t *doc, berth_error_t *err)
{
        struct net_info ni;
        net_network_info(doc, &ni);
        if (ni.bridge == NULL)
                return 0; /* host, none */
        cleanup_free char *dir = net_network_run_dir(n, ni.id);
        cleanup_free char *marker = berth_path_join(dir, "up");
        struct net_nl *nl = NULL;
        if (net_nl_open(&nl, -1, err) < 0)
                return -1;
        int idx = net_nl_link_index(nl, ni.bridge, err);
        int r = idx < 0 ? -1 : 0;
        /* the fast path of every container start: made already, and still there */
        if (r == 0 && idx > 0 && access(marker, F_OK) == 0) {
                net_nl_close(nl);
                if (!ni.dns)
                        return 0;
                struct net_dns d;
                dns_of(n, &ni, dir, &d);
                return net_dns_start(&d, err);
        }
        struct net_fw_network fw;
        fw_entry(&ni, &fw);
        struct net_link_set up = {.up = 1};
        cleanup_free char *sysctl = berth_xasprintf("ipv4/conf/%s/route_localnet", ni.bridge);
        if (r == 0)
                r = berth_mkdir_p(dir, 0755, err);
        if (r == 0)
                r = net_fw_init(ni.ipv6, err);
        if (r == 0)
                r = net_nl_bridge_add(nl, ni.bridge, ni.mtu, err) < 0 ? -1 : 0;
        if (r == 0)
                r = add_gateway(nl, ni.bridge, ni.gateway4, ni.subnet4, err);
        if (r == 0 && ni.ipv6)
                r = add_gateway(nl, ni.bridge, ni.gateway6, ni.subnet6, err);
        if (r == 0)
                r = net_nl_link_set(nl, ni.bridge, &up, err);
        /* connections to 127.0.0.1:PORT are DNATed to the container: their loopback source
         * may then leave by the bridge (and is masqueraded there) */
        if (r == 0)
                r = net_sysctl_write(sysctl, "1", err);
        if (r == 0)
                r = net_fw_network_add(&fw, err);
        net_nl_close(nl);
        if (r == 0 && ni.dns) {
                struct net_dns d;
                dns_of(n, &ni, dir, &d);
                r = net_dns_start(&d, err);
        }
        if (r == 0)
                r = berth_write_file_replace(marker, "", 0, 0644, err);
        if (r < 0)
                return berth_wrap(err, "set up network %s (bridge %s)", ni.name, ni.bridge);
        return 0;
}

int net_bridge_down(struct net_ctx *n, json_t *doc, berth_error_t *err)
{
        struct net_info ni;
        net_network_info(doc, &ni);
        if (ni.bridge == NULL || ni.id == NULL)
                return 0;
        cleanup_free char *dir = net_network_run_dir(n, ni.id);
        cleanup_free char *marker = berth_path_join(dir, "up");
        unlink(marker);
        int r = 0;
        berth_error_t e = NULL;
        if (net_dns_stop(dir, &e) < 0) {
                log_warn("%s", berth_error_msg(e));
                berth_error_release(&e);
        }
        struct net_fw_network fw;
        fw_entry(&ni, &fw);
        if (net_fw_network_del(&fw, &e) < 0) {
                log_warn("%s", berth_error_msg(e));
                berth_error_release(&e);
        }
        struct net_nl *nl = NULL;
        if (net_nl_open(&nl, -1, err) < 0)
                return -1;
        r = net_nl_link_del(nl, ni.bridge, err);
        net_nl_close(nl);
        return r;
}
