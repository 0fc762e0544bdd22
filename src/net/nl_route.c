/* nl_route.c — addresses, the default route, and the dumps of routes and links (for the subnet
 * pool's overlap check and orphan cleanup); net sysctls and address text. */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "net/nl.h"
#include "net/nl_internal.h"

static size_t addr_len(const struct net_addr *a)
{
        return a->family == AF_INET ? sizeof(a->v4) : a->family == AF_INET6 ? sizeof(a->v6) : 0;
}

int net_nl_addr_add(struct net_nl *nl, const char *ifname, const struct net_addr *a,
                    unsigned prefixlen, berth_error_t *err)
{
        char buf[NL_REQ_SIZE], s[INET6_ADDRSTRLEN];
        size_t len = addr_len(a);
        if (nl_check_name(ifname, err) < 0)
                return -1;
        if (len == 0 || prefixlen > len * 8)
                return berth_fail(err, EINVAL, "add address %s/%u to %s: invalid address",
                                  len ? net_addr_str(a, s) : "?", prefixlen, ifname);
        net_addr_str(a, s);
        int index = net_nl_link_index(nl, ifname, err);
        if (index <= 0)
                return index < 0 ? -1
                                 : berth_fail(err, ENODEV, "add address %s/%u to %s", s, prefixlen,
                                              ifname);
        struct nlmsghdr *nlh = nl_req(buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
        struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
        ifa->ifa_family = (uint8_t) a->family;
        ifa->ifa_prefixlen = (uint8_t) prefixlen;
        ifa->ifa_scope = RT_SCOPE_UNIVERSE;
        ifa->ifa_index = (uint32_t) index;
        mnl_attr_put(nlh, IFA_LOCAL, len, &a->v6);
        mnl_attr_put(nlh, IFA_ADDRESS, len, &a->v6);
        if (a->family == AF_INET && prefixlen < 31) {
                uint32_t host = prefixlen ? 0xffffffffu >> prefixlen : 0xffffffffu;
                struct in_addr brd = {.s_addr = a->v4.s_addr | htonl(host)};
                mnl_attr_put(nlh, IFA_BROADCAST, sizeof(brd), &brd);
        }
        if (a->family == AF_INET6) {
                ifa->ifa_flags = IFA_F_NODAD;
                mnl_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
        }
        if (nl_talk(nl, nlh, NULL, NULL) < 0 && errno != EEXIST)
                return nl_fail(nl, err, errno, "add address %s/%u to %s", s, prefixlen, ifname);
        return 0;
}

int net_nl_route_default(struct net_nl *nl, const char *ifname, const struct net_addr *gw,
                         berth_error_t *err)
{
        char buf[NL_REQ_SIZE], s[INET6_ADDRSTRLEN];
        size_t len = addr_len(gw);
        if (nl_check_name(ifname, err) < 0)
                return -1;
        if (len == 0)
                return berth_fail(err, EINVAL, "set the default route on %s: invalid gateway",
                                  ifname);
        net_addr_str(gw, s);
        int index = net_nl_link_index(nl, ifname, err);
        if (index <= 0)
                return index < 0 ? -1
                                 : berth_fail(err, ENODEV, "set the default route via %s on %s", s,
                                              ifname);
        struct nlmsghdr *nlh = nl_req(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
        struct rtmsg *rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
        rt->rtm_family = (uint8_t) gw->family;
        rt->rtm_table = RT_TABLE_MAIN;
        rt->rtm_protocol = RTPROT_BOOT;
        rt->rtm_scope = RT_SCOPE_UNIVERSE;
        rt->rtm_type = RTN_UNICAST;
        mnl_attr_put(nlh, RTA_GATEWAY, len, &gw->v6);
        mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t) index);
        if (nl_talk(nl, nlh, NULL, NULL) < 0)
                return nl_fail(nl, err, errno, "set the default route via %s on %s", s, ifname);
        return 0;
}

struct strs {
        char **v;
        size_t n;
};

static void strs_add(struct strs *l, char *s)
{
        l->v = berth_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
        l->v[l->n++] = s;
}

static void strs_free(struct strs *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
        *l = (struct strs){0};
}

struct links {
        struct nl_link_info *v;
        size_t n;
};

static int links_cb(const struct nlmsghdr *nlh, void *data)
{
        struct links *l = data;
        struct nl_link_info li = {0};
        nl_link_info_cb(nlh, &li);
        if (nlh->nlmsg_type != RTM_NEWLINK || li.name[0] == '\0')
                return MNL_CB_OK;
        l->v = berth_xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
        l->v[l->n++] = li;
        return MNL_CB_OK;
}

static int links_dump(struct net_nl *nl, struct links *l)
{
        char buf[NL_REQ_SIZE];
        struct nlmsghdr *nlh = nl_req(buf, RTM_GETLINK, NLM_F_DUMP);
        nl_put_ifinfo(nlh, 0);
        mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        *l = (struct links){0};
        if (nl_talk(nl, nlh, links_cb, l) == 0)
                return 0;
        int e = errno;
        free(l->v);
        *l = (struct links){0};
        errno = e;
        return -1;
}

int net_nl_links(struct net_nl *nl, const char *prefix, char ***out, size_t *n, berth_error_t *err)
{
        struct links l;
        struct strs names = {0};
        if (links_dump(nl, &l) < 0)
                return nl_fail(nl, err, errno, "list links");
        for (size_t i = 0; i < l.n; i++)
                if (berth_str_has_prefix(l.v[i].name, prefix ? prefix : ""))
                        strs_add(&names, berth_xstrdup(l.v[i].name));
        free(l.v);
        *out = names.v;
        *n = names.n;
        return 0;
}

struct routes {
        int family;
        const struct links *links;
        struct strs out;
};

static int route_cb(const struct nlmsghdr *nlh, void *data)
{
        struct routes *r = data;
        const struct rtmsg *rt = mnl_nlmsg_get_payload(nlh);
        const void *dst = NULL;
        unsigned table = rt->rtm_table;
        int oif = 0;
        struct nlattr *a; /* not const: libmnl's for-each macro casts it to char * */
        if (nlh->nlmsg_type != RTM_NEWROUTE ||
            (rt->rtm_family != AF_INET && rt->rtm_family != AF_INET6) ||
            (r->family != AF_UNSPEC && rt->rtm_family != r->family) ||
            (rt->rtm_flags & RTM_F_CLONED))
                return MNL_CB_OK;
        size_t alen = rt->rtm_family == AF_INET ? 4 : 16;
        mnl_attr_for_each(a, nlh, sizeof(*rt))
        {
                switch (mnl_attr_get_type(a)) {
                case RTA_DST:
                        if (mnl_attr_get_payload_len(a) == alen)
                                dst = mnl_attr_get_payload(a);
                        break;
                case RTA_TABLE:
                        if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
                                table = mnl_attr_get_u32(a);
                        break;
                case RTA_OIF:
                        if (mnl_attr_validate(a, MNL_TYPE_U32) == 0)
                                oif = (int) mnl_attr_get_u32(a);
                        break;
                case RTA_MULTIPATH: /* the first hop's device */
                        if (oif == 0 && mnl_attr_get_payload_len(a) >= sizeof(struct rtnexthop))
                                oif = ((const struct rtnexthop *) mnl_attr_get_payload(a))
                                              ->rtnh_ifindex;
                        break;
                default:
                        break;
                }
        }
        if (table != RT_TABLE_MAIN)
                return MNL_CB_OK;
        struct net_addr na = {.family = rt->rtm_family};
        char s[INET6_ADDRSTRLEN];
        if (dst)
                memcpy(&na.v6, dst, alen);
        const char *dev = "-";
        for (size_t i = 0; oif && i < r->links->n; i++)
                if (r->links->v[i].index == oif)
                        dev = r->links->v[i].name;
        strs_add(&r->out, berth_xasprintf("%s/%u %s", net_addr_str(&na, s), rt->rtm_dst_len, dev));
        return MNL_CB_OK;
}

int net_nl_routes(struct net_nl *nl, int family, char ***out, size_t *n, berth_error_t *err)
{
        char buf[NL_REQ_SIZE];
        struct links l;
        if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
                return berth_fail(err, EAFNOSUPPORT, "list routes of family %d", family);
        if (links_dump(nl, &l) < 0)
                return nl_fail(nl, err, errno, "list routes: list links");
        struct routes r = {.family = family, .links = &l};
        struct nlmsghdr *nlh = nl_req(buf, RTM_GETROUTE, NLM_F_DUMP);
        struct rtmsg *rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
        rt->rtm_family = (uint8_t) family;
        int ret = nl_talk(nl, nlh, route_cb, &r);
        int e = errno;
        free(l.v);
        if (ret < 0) {
                strs_free(&r.out);
                return nl_fail(nl, err, e, "list routes");
        }
        *out = r.out.v;
        *n = r.out.n;
        return 0;
}

int net_sysctl_write(const char *path, const char *value, berth_error_t *err)
{
        char full[256];
        /* no way out of /proc/sys/net: no absolute path, no ".." component */
        for (const char *p = path; p; p = strchr(p, '/'), p = p ? p + 1 : NULL)
                if (*p == '/' || (p[0] == '.' && p[1] == '.' && (p[2] == '/' || p[2] == '\0')))
                        return berth_fail(err, EINVAL, "sysctl `%s` is not under /proc/sys/net",
                                          path);
        if ((size_t) snprintf(full, sizeof(full), "/proc/sys/net/%s", path) >= sizeof(full))
                return berth_fail(err, ENAMETOOLONG, "sysctl `%s`", path);
        return berth_write_file(full, value, strlen(value), err);
}

int net_addr_parse(const char *s, struct net_addr *a)
{
        *a = (struct net_addr){.family = AF_INET};
        if (inet_pton(AF_INET, s, &a->v4) == 1)
                return 0;
        a->family = AF_INET6;
        if (inet_pton(AF_INET6, s, &a->v6) == 1)
                return 0;
        *a = (struct net_addr){0};
        errno = EINVAL;
        return -1;
}

const char *net_addr_str(const struct net_addr *a, char *buf)
{
        if (addr_len(a) == 0 || !inet_ntop(a->family, &a->v6, buf, INET6_ADDRSTRLEN))
                snprintf(buf, INET6_ADDRSTRLEN, "?");
        return buf;
}
