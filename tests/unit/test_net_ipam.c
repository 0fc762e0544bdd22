/* test_net_ipam.c — address and subnet picking (src/net/ipam.c): pure functions, both
 * families. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "net/network.h"
#include "tap.h"

/* net_ipam_pick with used given as a comma-separated list; returns the address or the error. */
static char result[256];

static const char *pick(const char *subnet, const char *range, const char *gw, const char *used,
                        const char *want)
{
        json_t *u = json_array();
        if (used) {
                char *dup = strdup(used), *save = NULL;
                for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save))
                        json_array_append_new(u, json_string(t));
                free(dup);
        }
        berth_error_t err = NULL;
        char out[INET6_ADDRSTRLEN];
        if (net_ipam_pick(subnet, range, gw, u, want, out, &err) < 0) {
                snprintf(result, sizeof(result), "error %d: %s", err ? err->status : 0,
                         berth_error_msg(err));
                berth_error_release(&err);
        } else {
                snprintf(result, sizeof(result), "%s", out);
        }
        json_decref(u);
        return result;
}

static const char *subnet_pick(const char *taken)
{
        json_t *t = json_array();
        if (taken) {
                char *dup = strdup(taken), *save = NULL;
                for (char *s = strtok_r(dup, ",", &save); s; s = strtok_r(NULL, ",", &save))
                        json_array_append_new(t, json_string(s));
                free(dup);
        }
        berth_error_t err = NULL;
        char out[19];
        if (net_subnet_pick(t, out, &err) < 0) {
                snprintf(result, sizeof(result), "error %d: %s", err ? err->status : 0,
                         berth_error_msg(err));
                berth_error_release(&err);
        } else {
                snprintf(result, sizeof(result), "%s", out);
        }
        json_decref(t);
        return result;
}

static void test_pick_v4(void)
{
        is_str(pick("10.0.0.0/24", NULL, NULL, NULL, NULL), "10.0.0.1", "first host address");
        is_str(pick("10.0.0.0/24", NULL, "10.0.0.1", NULL, NULL), "10.0.0.2",
               "the gateway is skipped");
        is_str(pick("10.0.0.0/24", NULL, "10.0.0.1", "10.0.0.2,10.0.0.3", NULL), "10.0.0.4",
               "used addresses are skipped");
        is_str(pick("10.0.0.0/24", NULL, "10.0.0.1", "10.0.0.2/24,10.0.0.3/24", NULL), "10.0.0.4",
               "used addresses may carry a prefix length");
        is_str(pick("10.0.0.0/24", NULL, "10.0.0.254", "10.0.0.1", NULL), "10.0.0.2",
               "a gateway elsewhere leaves a hole");
        is_str(pick("10.0.0.5/24", NULL, NULL, NULL, NULL), "10.0.0.1",
               "a subnet with host bits counts from its network address");
        is_str(pick("10.0.0.0/24", NULL, "10.0.0.1", "fd00::2", NULL), "10.0.0.2",
               "addresses of the other family don't count");
        /* a /30 has exactly two hosts */
        is_str(pick("10.9.0.0/30", NULL, "10.9.0.1", NULL, NULL), "10.9.0.2", "/30: second host");
        const char *r = pick("10.9.0.0/30", NULL, "10.9.0.1", "10.9.0.2", NULL);
        ok(strstr(r, "error 125: no available IP addresses on network") != NULL,
           "/30 full: network, gateway, one host and broadcast");
        /* exhaustion of a /29: .1 gateway, .2–.6 used, .7 broadcast */
        r = pick("192.168.5.0/29", NULL, "192.168.5.1",
                 "192.168.5.2,192.168.5.3,192.168.5.4,192.168.5.5,192.168.5.6", NULL);
        ok(strstr(r, "no available IP addresses on network") != NULL,
           "exhausted: the broadcast address is never given out");
        is_str(pick("192.168.5.0/29", NULL, "192.168.5.1",
                    "192.168.5.2,192.168.5.3,192.168.5.4,192.168.5.5", NULL),
               "192.168.5.6", "the last host before the broadcast address");
        /* point-to-point and single-host subnets have no network/broadcast addresses */
        is_str(pick("10.1.1.0/31", NULL, NULL, NULL, NULL), "10.1.1.0", "/31: both are hosts");
        is_str(pick("10.1.1.7/32", NULL, NULL, NULL, NULL), "10.1.1.7", "/32: the one address");
}

static void test_pick_range(void)
{
        is_str(pick("172.20.0.0/16", "172.20.5.0/24", "172.20.0.1", NULL, NULL), "172.20.5.0",
               "within the range; its first address is a host of the subnet");
        is_str(pick("172.20.0.0/16", "172.20.5.128/25", "172.20.0.1", NULL, NULL), "172.20.5.128",
               "a range starts at its first address");
        is_str(pick("172.20.0.0/16", "172.20.5.128/25", "172.20.5.128", "172.20.5.129", NULL),
               "172.20.5.130", "gateway and used addresses inside the range are skipped");
        const char *r = pick("10.0.0.0/24", "10.0.0.252/30", "10.0.0.1",
                             "10.0.0.252,10.0.0.253,10.0.0.254", NULL);
        ok(strstr(r, "no available IP addresses on network") != NULL,
           "range exhausted (its last address is the subnet's broadcast)");
        is_str(pick("10.0.0.0/24", "10.0.0.0/30", "10.0.0.1", NULL, NULL), "10.0.0.2",
               "a range at the subnet's start still skips the network address");
        r = pick("10.0.0.0/24", "10.0.1.0/24", NULL, NULL, NULL);
        ok(strstr(r, "no available IP addresses") != NULL, "a range outside the subnet is empty");
}

static void test_pick_want(void)
{
        is_str(pick("10.0.0.0/24", NULL, "10.0.0.1", NULL, "10.0.0.77"), "10.0.0.77",
               "a wanted free address");
        const char *r = pick("10.0.0.0/24", NULL, "10.0.0.1", "10.0.0.77", "10.0.0.77");
        ok(strstr(r, "error 125: Address already in use") != NULL, "wanted but used");
        r = pick("10.0.0.0/24", NULL, "10.0.0.1", NULL, "10.0.0.1");
        ok(strstr(r, "Address already in use") != NULL, "wanted: the gateway");
        r = pick("10.0.0.0/24", NULL, "10.0.0.1", NULL, "10.0.0.255");
        ok(strstr(r, "Address already in use") != NULL, "wanted: the broadcast address");
        r = pick("10.0.0.0/24", NULL, "10.0.0.1", NULL, "10.0.0.0");
        ok(strstr(r, "Address already in use") != NULL, "wanted: the network address");
        r = pick("10.0.0.0/24", NULL, "10.0.0.1", NULL, "10.0.1.5");
        is_str(r, "error 125: no configured subnet or ip-range contain the IP address 10.0.1.5",
               "wanted: outside the subnet");
        r = pick("10.0.0.0/24", NULL, "10.0.0.1", NULL, "fd00::5");
        ok(strstr(r, "no configured subnet or ip-range contain the IP address fd00::5") != NULL,
           "wanted: the other family");
        r = pick("10.0.0.0/24", NULL, "10.0.0.1", NULL, "banana");
        ok(strstr(r, "no configured subnet or ip-range contain the IP address banana") != NULL,
           "wanted: not an address");
        is_str(pick("10.0.0.0/24", "10.0.0.128/25", "10.0.0.1", NULL, "10.0.0.9"), "10.0.0.9",
               "a wanted address may lie outside the range, inside the subnet (Docker's IPAM)");
}

static void test_pick_v6(void)
{
        is_str(pick("fd00:1::/64", NULL, NULL, NULL, NULL), "fd00:1::1", "v6: first host");
        is_str(pick("fd00:1::/64", NULL, "fd00:1::1", "fd00:1::2", NULL), "fd00:1::3",
               "v6: gateway and used skipped");
        is_str(pick("fd00:1::/64", NULL, "fd00:1::1", NULL, "fd00:1::ffff:ffff:ffff:ffff"),
               "fd00:1::ffff:ffff:ffff:ffff", "v6 has no broadcast address");
        is_str(pick("2001:db8::/120", "2001:db8::80/121", "2001:db8::1", NULL, NULL),
               "2001:db8::80", "v6 range");
        const char *r = pick("fd00:1::/126", NULL, "fd00:1::1", "fd00:1::2,fd00:1::3", NULL);
        ok(strstr(r, "no available IP addresses") != NULL, "v6: exhausted /126");
        r = pick("fd00:1::/64", NULL, NULL, NULL, "fd00:2::1");
        ok(strstr(r, "no configured subnet") != NULL, "v6: wanted outside");
        is_str(pick("::/0", NULL, NULL, NULL, NULL), "::1", "the whole v6 space");
}

static void test_pick_bad(void)
{
        ok(strstr(pick("10.0.0.0", NULL, NULL, NULL, NULL), "error 125: invalid subnet") != NULL,
           "a subnet needs a prefix length");
        ok(strstr(pick("10.0.0.0/33", NULL, NULL, NULL, NULL), "invalid subnet") != NULL,
           "prefix length too long");
        ok(strstr(pick("10.0.0/24", NULL, NULL, NULL, NULL), "invalid subnet") != NULL,
           "three octets");
        ok(strstr(pick("10.0.0.0/x", NULL, NULL, NULL, NULL), "invalid subnet") != NULL,
           "prefix not a number");
        ok(strstr(pick(NULL, NULL, NULL, NULL, NULL), "invalid subnet") != NULL, "no subnet");
        ok(strstr(pick("10.0.0.0/24", "fd00::/64", NULL, NULL, NULL), "invalid ip range") != NULL,
           "range of the other family");
}

static void test_overlap(void)
{
        is_int(net_cidr_overlap("10.0.0.0/8", "10.1.0.0/16"), 1, "a contains b");
        is_int(net_cidr_overlap("10.1.0.0/16", "10.0.0.0/8"), 1, "b contains a");
        is_int(net_cidr_overlap("10.1.0.0/16", "10.1.0.0/16"), 1, "equal");
        is_int(net_cidr_overlap("10.1.0.0/16", "10.2.0.0/16"), 0, "disjoint neighbours");
        is_int(net_cidr_overlap("10.1.255.0/24", "10.2.0.0/24"), 0, "adjacent");
        is_int(net_cidr_overlap("10.1.2.3/16", "10.1.200.0/24"), 1, "host bits are ignored");
        is_int(net_cidr_overlap("0.0.0.0/0", "192.168.1.0/24"), 1, "the default route");
        is_int(net_cidr_overlap("192.168.1.7/32", "192.168.1.0/24"), 1, "one address inside");
        is_int(net_cidr_overlap("192.168.2.7/32", "192.168.1.0/24"), 0, "one address outside");
        is_int(net_cidr_overlap("fd00::/8", "fd12:3456::/64"), 1, "v6 contains");
        is_int(net_cidr_overlap("fd00:1::/64", "fd00:2::/64"), 0, "v6 disjoint");
        is_int(net_cidr_overlap("::/0", "2001:db8::/32"), 1, "v6 everything");
        is_int(net_cidr_overlap("10.0.0.0/8", "fd00::/8"), 0, "different families never");
        is_int(net_cidr_overlap("10.0.0.0", "10.0.0.0/8"), -1, "no prefix length: -1");
        is_int(net_cidr_overlap("10.0.0.0/8", "x"), -1, "garbage: -1");
        is_int(net_cidr_overlap(NULL, "10.0.0.0/8"), -1, "NULL: -1");
        is_int(net_cidr_overlap("10.0.0.0/-1", "10.0.0.0/8"), -1, "negative length: -1");
        is_int(net_cidr_overlap("fd00::/129", "fd00::/8"), -1, "v6 length too long: -1");
}

static void test_subnet_pick(void)
{
        is_str(subnet_pick(NULL), "172.17.0.0/16", "nothing taken: Docker's first pool");
        is_str(subnet_pick("172.17.0.0/16"), "172.18.0.0/16", "the next /16");
        is_str(subnet_pick("172.17.5.0/24,172.18.0.1/32"), "172.19.0.0/16",
               "a route inside a pool takes the pool");
        is_str(subnet_pick("172.16.0.0/12"), "192.168.0.0/20",
               "all of 172.16/12 taken: the /20s of 192.168");
        is_str(subnet_pick("172.16.0.0/12,192.168.0.0/24,192.168.17.0/24"), "192.168.32.0/20",
               "the /20s skip the taken ones");
        is_str(subnet_pick("fd00::/8,10.0.0.0/8,bogus"), "172.17.0.0/16",
               "other families, other ranges and garbage don't count");
        const char *r = subnet_pick("172.16.0.0/12,192.168.0.0/16");
        ok(strstr(r, "error 125: could not find an available, non-overlapping IPv4 address pool") !=
                   NULL,
           "every pool taken");
        is_str(subnet_pick("0.0.0.0/1,128.0.0.0/2"), "192.168.0.0/20",
               "wide routes take whole pools");
}

int main(void)
{
        test_pick_v4();
        test_pick_range();
        test_pick_want();
        test_pick_v6();
        test_pick_bad();
        test_overlap();
        test_subnet_pick();
        return tap_done();
}
