/* ipam.c — address management without state: CIDR arithmetic for IPv4 and IPv6, Docker's
 * default pools, and the first free address of a subnet given the addresses in use.  The
 * callers keep the state (endpoint files, network records) and pass it in. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "net/network.h"

typedef unsigned __int128 u128;

/* An address or a prefix, as one integer: IPv4 in the low 32 bits. */
struct cidr {
        int family;
        unsigned bits; /* 32 or 128 */
        unsigned plen;
        u128 addr;
};

static int parse_addr(const char *s, size_t len, struct cidr *out)
{
        char buf[INET6_ADDRSTRLEN];
        if (len == 0 || len >= sizeof(buf))
                return -1;
        memcpy(buf, s, len);
        buf[len] = '\0';
        unsigned char b[16];
        if (strchr(buf, ':')) {
                if (inet_pton(AF_INET6, buf, b) != 1)
                        return -1;
                out->family = AF_INET6;
                out->bits = 128;
        } else {
                if (inet_pton(AF_INET, buf, b) != 1)
                        return -1;
                out->family = AF_INET;
                out->bits = 32;
        }
        out->addr = 0;
        for (unsigned i = 0; i < out->bits / 8; i++)
                out->addr = out->addr << 8 | b[i];
        out->plen = out->bits;
        return 0;
}

/* "A/N" (or a bare address, /32 or /128 then); with addr_ok a "/N" is optional. */
static int parse_cidr(const char *s, bool addr_ok, struct cidr *out)
{
        if (s == NULL)
                return -1;
        const char *slash = strchr(s, '/');
        if (parse_addr(s, slash ? (size_t) (slash - s) : strlen(s), out) < 0)
                return -1;
        if (slash == NULL)
                return addr_ok ? 0 : -1;
        char *end;
        errno = 0;
        unsigned long n = strtoul(slash + 1, &end, 10);
        if (errno || end == slash + 1 || *end || slash[1] == '-' || slash[1] == '+' ||
            n > out->bits)
                return -1;
        out->plen = (unsigned) n;
        return 0;
}

static u128 host_mask(const struct cidr *c)
{
        if (c->plen >= c->bits)
                return 0;
        if (c->bits - c->plen >= 128)
                return ~(u128) 0;
        return ((u128) 1 << (c->bits - c->plen)) - 1;
}

static u128 first(const struct cidr *c)
{
        return c->addr & ~host_mask(c);
}

static u128 last(const struct cidr *c)
{
        u128 all = c->bits == 128 ? ~(u128) 0 : ((u128) 1 << 32) - 1;
        return (c->addr | host_mask(c)) & all;
}

static void format_addr(int family, u128 v, char out[INET6_ADDRSTRLEN])
{
        unsigned char b[16];
        unsigned n = family == AF_INET6 ? 16 : 4;
        for (unsigned i = n; i-- > 0; v >>= 8)
                b[i] = (unsigned char) (v & 0xff);
        inet_ntop(family, b, out, INET6_ADDRSTRLEN);
}

int net_cidr_overlap(const char *a, const char *b)
{
        struct cidr x, y;
        if (parse_cidr(a, false, &x) < 0 || parse_cidr(b, false, &y) < 0)
                return -1;
        if (x.family != y.family)
                return 0;
        return first(&x) <= last(&y) && first(&y) <= last(&x);
}

static bool in_list(json_t *used, int family, u128 v)
{
        size_t i;
        json_t *e;
        json_array_foreach(used, i, e)
        {
                struct cidr u;
                if (parse_cidr(json_string_value(e), true, &u) == 0 && u.family == family &&
                    u.addr == v)
                        return true;
        }
        return false;
}

int net_ipam_pick(const char *subnet, const char *range, const char *gateway, json_t *used,
                  const char *want, char *out, berth_error_t *err)
{
        struct cidr sn, rg, gw = {0}, w;
        if (parse_cidr(subnet, false, &sn) < 0)
                return berth_fail_status(err, 125, 0, "invalid subnet %s", subnet ? subnet : "");
        if (range && (parse_cidr(range, false, &rg) < 0 || rg.family != sn.family))
                return berth_fail_status(err, 125, 0, "invalid ip range %s", range);
        if (gateway && (parse_cidr(gateway, true, &gw) < 0 || gw.family != sn.family))
                return berth_fail_status(err, 125, 0, "invalid gateway %s", gateway);
        /* the network address always, and IPv4's broadcast address, unless the subnet is a
         * point-to-point /31 or a single /32 where every address is a host */
        u128 net = first(&sn), bcast = last(&sn);
        bool v4_edges = sn.family == AF_INET && sn.plen <= 30;
        bool v6_edges = sn.family == AF_INET6 && sn.plen <= 126;
        if (want) {
                if (parse_cidr(want, true, &w) < 0 || w.family != sn.family || w.addr < net ||
                    w.addr > bcast)
                        return berth_fail_status(
                                err, 125, 0,
                                "no configured subnet or ip-range contain the IP address %s", want);
                if (((v4_edges || v6_edges) && w.addr == net) || (v4_edges && w.addr == bcast) ||
                    (gateway && w.addr == gw.addr) || in_list(used, sn.family, w.addr))
                        return berth_fail_status(err, 125, 0, "Address already in use");
                format_addr(sn.family, w.addr, out);
                return 0;
        }
        u128 lo = net, hi = bcast;
        if (range) {
                lo = first(&rg) > lo ? first(&rg) : lo;
                hi = last(&rg) < hi ? last(&rg) : hi;
        }
        /* at most |used| + 3 addresses are skipped before a free one or the end */
        for (u128 v = lo; v >= lo && v <= hi; v++) {
                if ((v4_edges || v6_edges) && v == net)
                        continue;
                if (v4_edges && v == bcast)
                        continue;
                if ((gateway && v == gw.addr) || in_list(used, sn.family, v))
                        continue;
                format_addr(sn.family, v, out);
                return 0;
        }
        return berth_fail_status(err, 125, 0, "no available IP addresses on network");
}

int net_subnet_pick(json_t *taken, char *out, berth_error_t *err)
{
        char cand[32];
        /* 172.17.0.0/16 … 172.31.0.0/16, then 192.168.0.0/20 … 192.168.240.0/20 */
        for (unsigned i = 0; i < 15 + 16; i++) {
                if (i < 15)
                        snprintf(cand, sizeof(cand), "172.%u.0.0/16", 17 + i);
                else
                        snprintf(cand, sizeof(cand), "192.168.%u.0/20", (i - 15) * 16);
                bool free_ = true;
                size_t k;
                json_t *t;
                json_array_foreach(taken, k, t)
                {
                        if (net_cidr_overlap(cand, json_string_value(t)) == 1) {
                                free_ = false;
                                break;
                        }
                }
                if (free_) {
                        memcpy(out, cand, strlen(cand) + 1);
                        return 0;
                }
        }
        return berth_fail_status(err, 125, 0,
                                 "could not find an available, non-overlapping IPv4 address pool "
                                 "among the defaults to assign to the network");
}
