/* nl_vlan.c — rtnetlink requests for the macvlan and ipvlan drivers (nl.h): slave links of a
 * parent born in a container's namespace, and the parents berth may make itself (a dummy for a
 * network without one, an 802.1Q sub-interface for a parent named like "eth0.50"). */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include "net/nl.h"
#include "net/nl_internal.h"

/* The kernel's words for a kind it has no driver for are "Unknown device type": say which. */
static int kind_fail(struct net_nl *nl, berth_error_t *err, int e, const char *kind,
                     const char *name)
{
        if (e == EOPNOTSUPP)
                return nl_fail(nl, err, e,
                               "add %s link %s: this kernel has no %s driver (module not "
                               "loaded or not built)",
                               kind, name, kind);
        return nl_fail(nl, err, e, "add %s link %s", kind, name);
}

int net_nl_dummy_add(struct net_nl *nl, const char *name, berth_error_t *err)
{
        char buf[NL_REQ_SIZE];
        if (nl_check_name(name, err) < 0)
                return -1;
        struct nlmsghdr *nlh = nl_req(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        struct ifinfomsg *ifi = nl_put_ifinfo(nlh, 0);
        ifi->ifi_change = IFF_UP;
        ifi->ifi_flags = IFF_UP;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "dummy");
        mnl_attr_nest_end(nlh, info);
        if (nl_talk(nl, nlh, NULL, NULL) < 0)
                return kind_fail(nl, err, errno, "dummy", name);
        return 0;
}

int net_nl_vlan_add(struct net_nl *nl, const char *name, const char *parent, unsigned vid,
                    berth_error_t *err)
{
        char buf[NL_REQ_SIZE];
        if (nl_check_name(name, err) < 0)
                return -1;
        int pidx = net_nl_link_index(nl, parent, err);
        if (pidx < 0)
                return -1;
        if (pidx == 0)
                return berth_fail(err, ENODEV, "add vlan link %s: no parent link %s", name, parent);
        struct nlmsghdr *nlh = nl_req(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        struct ifinfomsg *ifi = nl_put_ifinfo(nlh, 0);
        ifi->ifi_change = IFF_UP;
        ifi->ifi_flags = IFF_UP;
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        mnl_attr_put_u32(nlh, IFLA_LINK, (uint32_t) pidx);
        struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "vlan");
        struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        mnl_attr_put_u16(nlh, IFLA_VLAN_ID, (uint16_t) vid);
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, info);
        if (nl_talk(nl, nlh, NULL, NULL) < 0)
                return kind_fail(nl, err, errno, "vlan", name);
        return 0;
}

int net_nl_slave_add(struct net_nl *nl, const struct net_slave *s, berth_error_t *err)
{
        char buf[NL_REQ_SIZE];
        bool ipvlan = strcmp(s->kind, "ipvlan") == 0;
        if (nl_check_name(s->name, err) < 0)
                return -1;
        int pidx = net_nl_link_index(nl, s->parent, err);
        if (pidx < 0)
                return -1;
        if (pidx == 0)
                return berth_fail(err, ENODEV, "add %s link %s: the parent interface %s is gone",
                                  s->kind, s->name, s->parent);
        struct nlmsghdr *nlh = nl_req(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        nl_put_ifinfo(nlh, 0);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, s->name);
        mnl_attr_put_u32(nlh, IFLA_LINK, (uint32_t) pidx);
        if (s->mac && !ipvlan)
                mnl_attr_put(nlh, IFLA_ADDRESS, 6, s->mac);
        if (s->netns_fd >= 0)
                mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t) s->netns_fd);
        struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, s->kind);
        struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        if (ipvlan) {
                mnl_attr_put_u16(nlh, IFLA_IPVLAN_MODE, (uint16_t) s->mode);
                mnl_attr_put_u16(nlh, IFLA_IPVLAN_FLAGS, (uint16_t) s->flags);
        } else {
                mnl_attr_put_u32(nlh, IFLA_MACVLAN_MODE, s->mode);
        }
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, info);
        if (nl_talk(nl, nlh, NULL, NULL) < 0) {
                if (errno == EOPNOTSUPP)
                        return kind_fail(nl, err, errno, s->kind, s->name);
                return nl_fail(nl, err, errno, "add %s link %s on parent %s%s", s->kind, s->name,
                               s->parent, s->netns_fd >= 0 ? " in the container's namespace" : "");
        }
        return 0;
}

int net_nl_route_default_dev(struct net_nl *nl, const char *ifname, int family, berth_error_t *err)
{
        char buf[NL_REQ_SIZE];
        int index = net_nl_link_index(nl, ifname, err);
        if (index <= 0)
                return index < 0 ? -1
                                 : berth_fail(err, ENODEV, "set the default route on %s", ifname);
        struct nlmsghdr *nlh = nl_req(buf, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
        struct rtmsg *rt = mnl_nlmsg_put_extra_header(nlh, sizeof(*rt));
        rt->rtm_family = (uint8_t) family;
        rt->rtm_table = RT_TABLE_MAIN;
        rt->rtm_protocol = RTPROT_BOOT;
        rt->rtm_scope = RT_SCOPE_LINK;
        rt->rtm_type = RTN_UNICAST;
        mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t) index);
        if (nl_talk(nl, nlh, NULL, NULL) < 0)
                return nl_fail(nl, err, errno, "set the default route on %s (no gateway)", ifname);
        return 0;
}
