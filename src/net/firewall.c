/* firewall.c — berth's `table inet berth` (the design is in firewall.h), through libnftables.
 *
 * The table is made by one transaction (so it is there whole or not at all) and then only
 * set and map elements change.  The table's comment carries a schema version: net_fw_init's
 * fast path is one netlink GETTABLE that finds it (tens of microseconds, no libnftables cache
 * fill), and a table of another schema is replaced.
 *
 * Deleting an element that is not there is an error in nftables 1.0.6 (`destroy` came in
 * 1.0.8), so deletes are sent as "add X; delete X" in one transaction: idempotent, and still
 * atomic. */
#include "net/firewall.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <nftables/libnftables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

#define FW_SCHEMA "berth schema 1"

/* Everything but `create table`, which net_fw_init puts first.  Forward-chain order matters:
 * same-bridge traffic (seen here when br_netfilter is loaded) before the internal drops, so
 * containers on an internal network still talk to each other. */
static const char fw_schema[] =
        "add set inet berth bridges { type ifname; }\n"
        "add set inet berth internal { type ifname; }\n"
        "add set inet berth samebr { type ifname . ifname; }\n"
        "add set inet berth masq4 { type ipv4_addr; flags interval; }\n"
        "add set inet berth masq6 { type ipv6_addr; flags interval; }\n"
        "add map inet berth ports4 { type inet_proto . inet_service : ipv4_addr . inet_service; }\n"
        "add map inet berth ports4a { type ipv4_addr . inet_proto . inet_service : "
        "ipv4_addr . inet_service; }\n"
        "add map inet berth ports6 { type inet_proto . inet_service : ipv6_addr . inet_service; }\n"
        "add map inet berth ports6a { type ipv6_addr . inet_proto . inet_service : "
        "ipv6_addr . inet_service; }\n"
        "add chain inet berth ports\n"
        "add rule inet berth ports dnat ip to ip daddr . meta l4proto . th dport map @ports4a\n"
        "add rule inet berth ports dnat ip to meta l4proto . th dport map @ports4\n"
        "add rule inet berth ports dnat ip6 to ip6 daddr . meta l4proto . th dport map @ports6a\n"
        "add rule inet berth ports dnat ip6 to meta l4proto . th dport map @ports6\n"
        "add chain inet berth prerouting { type nat hook prerouting priority dstnat; }\n"
        "add rule inet berth prerouting fib daddr type local jump ports\n"
        /* `dstnat` is not accepted for the output hook by nft 1.0.6: its value, -100 */
        "add chain inet berth output { type nat hook output priority -100; }\n"
        "add rule inet berth output fib daddr type local jump ports\n"
        "add chain inet berth postrouting { type nat hook postrouting priority srcnat; }\n"
        "add rule inet berth postrouting ip saddr 127.0.0.0/8 oifname @bridges masquerade\n"
        /* hairpin: a container's connection DNATed to a container.  Matched by the source
         * subnet, not by iifname: when br_netfilter is loaded (Docker loads it), DNAT back
         * into the same bridge is bridged, and bridged packets reach this hook without an
         * input device */
        "add rule inet berth postrouting ct status dnat ip saddr @masq4 masquerade\n"
        "add rule inet berth postrouting ct status dnat ip6 saddr @masq6 masquerade\n"
        "add rule inet berth postrouting ip saddr @masq4 oifname != @bridges masquerade\n"
        "add rule inet berth postrouting ip6 saddr @masq6 oifname != @bridges masquerade\n"
        "add chain inet berth forward { type filter hook forward priority filter; }\n"
        "add rule inet berth forward iifname . oifname @samebr accept\n"
        "add rule inet berth forward iifname @internal drop\n"
        "add rule inet berth forward oifname @internal drop\n"
        "add rule inet berth forward ct status dnat accept\n"
        "add rule inet berth forward ct state established,related accept\n"
        "add rule inet berth forward iifname @bridges oifname @bridges drop\n"
        /* new connections from outside to a container that are not a published port (as
         * Docker 28 does: no direct routing to containers) */
        "add rule inet berth forward oifname @bridges drop\n";

/* Run nft commands as one transaction.  With out, the command's output (listings). */
static int fw_run(const char *cmd, unsigned out_flags, char **out, berth_error_t *err)
{
        struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
        if (nft == NULL)
                return berth_fail(err, ENOMEM, "nft_ctx_new");
        nft_ctx_buffer_error(nft);
        if (out) {
                nft_ctx_output_set_flags(nft, out_flags);
                nft_ctx_buffer_output(nft);
        }
        int r = nft_run_cmd_from_buffer(nft, cmd);
        if (r != 0) {
                const char *e = nft_ctx_get_error_buffer(nft);
                size_t n = e ? strlen(e) : 0;
                while (n > 0 && (e[n - 1] == '\n' || e[n - 1] == ' '))
                        n--;
                berth_fail(err, 0, "nft: %.*s (command: %s)", (int) n, e ? e : "", cmd);
        } else if (out) {
                const char *o = nft_ctx_get_output_buffer(nft);
                *out = berth_xstrdup(o ? o : "");
        }
        nft_ctx_free(nft);
        return r != 0 ? -1 : 0;
}

enum table_state { TABLE_ABSENT, TABLE_OTHER, TABLE_OK };

struct gettable {
        enum table_state state;
};

static int gettable_cb(const struct nlmsghdr *nlh, void *data)
{
        struct gettable *g = data;
        g->state = TABLE_OTHER;
        struct nlattr *a; /* not const: libmnl's for-each macro casts it to char * */
        mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
        {
                /* the comment is a udata TLV: type, length, NUL-terminated text */
                if (mnl_attr_get_type(a) == NFTA_TABLE_USERDATA &&
                    memmem(mnl_attr_get_payload(a), mnl_attr_get_payload_len(a), FW_SCHEMA,
                           sizeof(FW_SCHEMA)) != NULL)
                        g->state = TABLE_OK;
        }
        return MNL_CB_OK;
}

/* Is `table inet berth` there, and of this schema?  One netlink round trip. */
static int fw_table_state(enum table_state *st, berth_error_t *err)
{
        char buf[8192];
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETTABLE;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
        nlh->nlmsg_seq = (unsigned) time(NULL);
        struct nfgenmsg *nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
        nfg->nfgen_family = NFPROTO_INET;
        nfg->version = NFNETLINK_V0;
        nfg->res_id = 0;
        mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, "berth");

        struct mnl_socket *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
        if (nl == NULL)
                return berth_fail(err, errno, "open netfilter netlink socket");
        int r = -1;
        if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 ||
            mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
                berth_fail(err, errno, "netfilter netlink");
                goto cleanup;
        }
        struct gettable g = {TABLE_ABSENT};
        unsigned portid = mnl_socket_get_portid(nl);
        for (;;) {
                ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
                if (n < 0) {
                        berth_fail(err, errno, "netfilter netlink");
                        goto cleanup;
                }
                int cr = mnl_cb_run(buf, (size_t) n, nlh->nlmsg_seq, portid, gettable_cb, &g);
                if (cr < 0 && errno == ENOENT)
                        break;
                if (cr < 0) {
                        berth_fail(err, errno, "get table inet berth");
                        goto cleanup;
                }
                if (cr == MNL_CB_STOP)
                        break;
        }
        *st = g.state;
        r = 0;
cleanup:
        mnl_socket_close(nl);
        return r;
}

/* Write "1" unless it is already (reading is cheaper than writing /proc/sys). */
static int fw_sysctl_on(const char *path, berth_error_t *err)
{
        char v[4] = "";
        int fd = open(path, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return berth_fail(err, errno, "open `%s`", path);
        ssize_t n = read(fd, v, sizeof(v) - 1);
        int r = 0;
        if (n <= 0 || v[0] != '1') {
                if (pwrite(fd, "1\n", 2, 0) != 2)
                        r = berth_fail(err, errno, "write 1 to `%s`", path);
        }
        close(fd);
        return r;
}

int net_fw_init(bool ipv6, berth_error_t *err)
{
        enum table_state st;
        if (fw_table_state(&st, err) < 0)
                return -1;
        if (st != TABLE_OK) {
                cleanup_free char *cmd = berth_xasprintf(
                        "%screate table inet berth { comment \"" FW_SCHEMA "\"; }\n%s",
                        st == TABLE_OTHER ? "delete table inet berth\n" : "", fw_schema);
                berth_error_t e = NULL;
                if (fw_run(cmd, 0, NULL, &e) < 0) {
                        /* another berth made it meanwhile (`create` refuses an existing table) */
                        berth_error_t e2 = NULL;
                        if (fw_table_state(&st, &e2) < 0 || st != TABLE_OK) {
                                berth_error_release(&e2);
                                *err = e;
                                return berth_wrap(err, "create table inet berth");
                        }
                        berth_error_release(&e);
                }
        }
        if (fw_sysctl_on("/proc/sys/net/ipv4/ip_forward", err) < 0)
                return -1;
        if (ipv6 && fw_sysctl_on("/proc/sys/net/ipv6/conf/all/forwarding", err) < 0)
                return -1;
        return 0;
}

/* The parsers below keep anything but a well-formed name or address out of nft's input. */
static int fw_check_ifname(const char *s, berth_error_t *err)
{
        size_t n = s ? strlen(s) : 0;
        if (n == 0 || n > 15 ||
            strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "0123456789_.-") != n)
                return berth_fail(err, EINVAL, "bad bridge name `%s`", s ? s : "");
        return 0;
}

/* "a.b.c.d/n" or "x::/n" → the network in canonical text, host bits cleared. */
static int fw_subnet(const char *s, int af, char out[64], berth_error_t *err)
{
        char a[INET6_ADDRSTRLEN];
        const char *slash = strchr(s, '/');
        unsigned char bin[16];
        int max = af == AF_INET ? 32 : 128;
        char *end;
        long len = slash ? strtol(slash + 1, &end, 10) : -1;
        if (slash == NULL || (size_t) (slash - s) >= sizeof(a) || *end != '\0' || len < 0 ||
            len > max || slash[1] == '\0')
                return berth_fail(err, EINVAL, "bad subnet `%s`", s);
        memcpy(a, s, (size_t) (slash - s));
        a[slash - s] = '\0';
        if (inet_pton(af, a, bin) != 1)
                return berth_fail(err, EINVAL, "bad subnet `%s`", s);
        for (int i = 0; i < max / 8; i++) {
                int keep = (int) len - i * 8;
                bin[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (unsigned char) (0xff << (8 - keep));
        }
        inet_ntop(af, bin, a, sizeof(a));
        snprintf(out, 64, "%s/%ld", a, len);
        return 0;
}

static int fw_network(const struct net_fw_network *n, bool del, berth_error_t *err)
{
        char s4[64] = "", s6[64] = "";
        if (fw_check_ifname(n->bridge, err) < 0)
                return -1;
        if (n->subnet4 && fw_subnet(n->subnet4, AF_INET, s4, err) < 0)
                return -1;
        if (n->subnet6 && fw_subnet(n->subnet6, AF_INET6, s6, err) < 0)
                return -1;
        const char *b = n->bridge;
        char elems[6][160];
        int k = 0;
        snprintf(elems[k++], sizeof(elems[0]), "bridges { \"%s\" }", b);
        snprintf(elems[k++], sizeof(elems[0]), "samebr { \"%s\" . \"%s\" }", b, b);
        /* deleting takes all that may be there, whatever `internal` says now */
        if (n->internal || del)
                snprintf(elems[k++], sizeof(elems[0]), "internal { \"%s\" }", b);
        if (s4[0] && (!n->internal || del))
                snprintf(elems[k++], sizeof(elems[0]), "masq4 { %s }", s4);
        if (s6[0] && (!n->internal || del))
                snprintf(elems[k++], sizeof(elems[0]), "masq6 { %s }", s6);
        char cmd[2048];
        size_t o = 0;
        for (int i = 0; i < k; i++) {
                o += (size_t) snprintf(cmd + o, sizeof(cmd) - o, "add element inet berth %s\n",
                                       elems[i]);
                if (del)
                        o += (size_t) snprintf(cmd + o, sizeof(cmd) - o,
                                               "delete element inet berth %s\n", elems[i]);
        }
        return fw_run(cmd, 0, NULL, err);
}

/* iptables-nft's `ip filter` FORWARD chain with policy drop (dockerd makes it so) drops
 * berth's forwarded traffic too: a packet must be accepted by every base chain on the hook.
 * As netavark does, berth then inserts `iifname BR accept` and `oifname BR accept` there
 * (plain rules that iptables-nft can read back: -i BR -j ACCEPT); berth's own forward chain
 * still does the filtering.  Found by listing the chain; rules are found again by their text
 * and removed by handle. */
static int fw_foreign_forward(const char *family, const char *br, bool del, berth_error_t *err)
{
        cleanup_free char *list = NULL;
        cleanup_free char *lcmd = berth_xasprintf("list chain %s filter FORWARD", family);
        berth_error_t e = NULL;
        if (fw_run(lcmd, NFT_CTX_OUTPUT_HANDLE, &list, &e) < 0) {
                berth_error_release(&e); /* no such table or chain: nothing in the way */
                return 0;
        }
        if (!del && strstr(list, "policy drop;") == NULL)
                return 0;
        char cmd[512];
        size_t o = 0;
        const char *dirs[] = {"iifname", "oifname"};
        for (int i = 0; i < 2; i++) {
                char pat[64];
                snprintf(pat, sizeof(pat), "%s \"%s\" accept # handle ", dirs[i], br);
                const char *at = strstr(list, pat);
                if (del) {
                        for (; at; at = strstr(at + 1, pat))
                                o += (size_t) snprintf(cmd + o, sizeof(cmd) - o,
                                                       "delete rule %s filter FORWARD handle %ld\n",
                                                       family, strtol(at + strlen(pat), NULL, 10));
                } else if (at == NULL) {
                        o += (size_t) snprintf(cmd + o, sizeof(cmd) - o,
                                               "insert rule %s filter FORWARD %s \"%s\" accept\n",
                                               family, dirs[i], br);
                }
        }
        if (o == 0)
                return 0;
        if (fw_run(cmd, 0, NULL, err) < 0)
                return berth_wrap(err, "let %s through %s filter FORWARD (policy drop)", br,
                                  family);
        return 0;
}

int net_fw_network_add(const struct net_fw_network *n, berth_error_t *err)
{
        if (fw_network(n, false, err) < 0)
                return berth_wrap(err, "add network %s to table inet berth", n->bridge);
        if (fw_foreign_forward("ip", n->bridge, false, err) < 0 ||
            (n->subnet6 && fw_foreign_forward("ip6", n->bridge, false, err) < 0))
                return -1;
        return 0;
}

/* Deleting from a table that isn't there (removed by a prune) is done already. */
static bool fw_table_absent(void)
{
        enum table_state st = TABLE_OK;
        berth_error_t e = NULL;
        int r = fw_table_state(&st, &e);
        berth_error_release(&e);
        return r == 0 && st == TABLE_ABSENT;
}

int net_fw_network_del(const struct net_fw_network *n, berth_error_t *err)
{
        if (!fw_table_absent() && fw_network(n, true, err) < 0)
                return berth_wrap(err, "remove network %s from table inet berth", n->bridge);
        if (fw_foreign_forward("ip", n->bridge, true, err) < 0 ||
            fw_foreign_forward("ip6", n->bridge, true, err) < 0)
                return -1;
        return 0;
}

/* The map element for p, e.g. "ports4 { tcp . 8080 : 172.17.0.2 . 80 }". */
static int fw_port_elem(const struct net_fw_port *p, char *out, size_t size, berth_error_t *err)
{
        unsigned char bin[16];
        const char *proto = p->proto;
        if (proto == NULL ||
            (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0 && strcmp(proto, "sctp") != 0))
                return berth_fail(err, EINVAL, "bad protocol `%s`", proto ? proto : "");
        if (p->host_port == 0 || p->host_port > 65535 || p->ctr_port == 0 || p->ctr_port > 65535)
                return berth_fail(err, EINVAL, "bad port %u:%u", p->host_port, p->ctr_port);
        const char *hip = p->host_ip ? p->host_ip : "";
        int af = p->ctr_ip && strchr(p->ctr_ip, ':') ? AF_INET6 : AF_INET;
        if (p->ctr_ip == NULL || inet_pton(af, p->ctr_ip, bin) != 1)
                return berth_fail(err, EINVAL, "bad container address `%s`",
                                  p->ctr_ip ? p->ctr_ip : "");
        const char *v = af == AF_INET ? "4" : "6";
        bool any = hip[0] == '\0' || strcmp(hip, "0.0.0.0") == 0 || strcmp(hip, "::") == 0;
        if (hip[0] && inet_pton(af, hip, bin) != 1)
                return berth_fail(err, EINVAL, "host address `%s` is not of the family of `%s`",
                                  hip, p->ctr_ip);
        if (any)
                snprintf(out, size, "ports%s { %s . %u : %s . %u }", v, proto, p->host_port,
                         p->ctr_ip, p->ctr_port);
        else
                snprintf(out, size, "ports%sa { %s . %s . %u : %s . %u }", v, hip, proto,
                         p->host_port, p->ctr_ip, p->ctr_port);
        return 0;
}

int net_fw_port_add(const struct net_fw_port *p, berth_error_t *err)
{
        char e[256], cmd[320];
        if (fw_port_elem(p, e, sizeof(e), err) < 0)
                return -1;
        snprintf(cmd, sizeof(cmd), "add element inet berth %s", e);
        if (fw_run(cmd, 0, NULL, err) < 0)
                return berth_wrap(err, "publish %s:%u/%s", p->host_ip ? p->host_ip : "",
                                  p->host_port, p->proto);
        return 0;
}

int net_fw_port_del(const struct net_fw_port *p, berth_error_t *err)
{
        char e[256], cmd[600];
        if (fw_port_elem(p, e, sizeof(e), err) < 0)
                return -1;
        if (fw_table_absent())
                return 0;
        snprintf(cmd, sizeof(cmd), "add element inet berth %s\ndelete element inet berth %s\n", e,
                 e);
        if (fw_run(cmd, 0, NULL, err) < 0)
                return berth_wrap(err, "unpublish %s:%u/%s", p->host_ip ? p->host_ip : "",
                                  p->host_port, p->proto);
        return 0;
}

int net_fw_flush_all(berth_error_t *err)
{
        return fw_run("add table inet berth\ndelete table inet berth\n", 0, NULL, err);
}
