/* nl.c — rtnetlink through libmnl: the handle (a socket here or born in another network
 * namespace), one request/ack exchange with the kernel's own words on failure, and the link
 * requests of nl.h.  Addresses, routes and dumps are in nl_route.c. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "common/util.h"
#include "net/nl.h"
#include "net/nl_internal.h"

/* Dumps: the kernel fills up to this much per read (libmnl's MNL_SOCKET_DUMP_SIZE). */
#define NL_RECV_SIZE 32768

static int nl_socket(struct mnl_socket **out, unsigned *portid, berth_error_t *err)
{
        struct mnl_socket *s = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
        if (s == NULL)
                return berth_fail(err, errno, "open a netlink socket");
        int one = 1;
        /* Best effort: the kernel's reason in errors, and acks without our request echoed. */
        (void) mnl_socket_setsockopt(s, NETLINK_EXT_ACK, &one, sizeof(one));
        (void) mnl_socket_setsockopt(s, NETLINK_CAP_ACK, &one, sizeof(one));
        if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
                int e = errno;
                mnl_socket_close(s);
                return berth_fail(err, e, "bind a netlink socket");
        }
        *portid = mnl_socket_get_portid(s);
        *out = s;
        return 0;
}

struct open_in_ns {
        int netns_fd;
        struct mnl_socket *sock;
        unsigned portid;
        berth_error_t *err; /* the caller's: it waits in pthread_join meanwhile */
        int ret;
};

/* A socket belongs to the namespace it was created in, for its whole life: this thread goes
 * there, makes it, and ends, so no thread of the caller ever changes namespace. */
static void *open_in_ns_thread(void *arg)
{
        struct open_in_ns *o = arg;
        if (setns(o->netns_fd, CLONE_NEWNET) < 0)
                o->ret = berth_fail(o->err, errno, "enter the network namespace");
        else
                o->ret = nl_socket(&o->sock, &o->portid, o->err);
        return NULL;
}

int net_nl_open(struct net_nl **out, int netns_fd, berth_error_t *err)
{
        struct mnl_socket *sock = NULL;
        unsigned portid = 0;
        if (netns_fd < 0) {
                if (nl_socket(&sock, &portid, err) < 0)
                        return -1;
        } else {
                struct open_in_ns o = {.netns_fd = netns_fd, .err = err, .ret = -1};
                pthread_t th;
                int e = pthread_create(&th, NULL, open_in_ns_thread, &o);
                if (e != 0)
                        return berth_fail(err, e, "start a thread to open a netlink socket");
                pthread_join(th, NULL);
                if (o.ret < 0)
                        return berth_wrap(err, "open a netlink socket in another namespace");
                sock = o.sock;
                portid = o.portid;
        }
        struct net_nl *nl = berth_xcalloc(1, sizeof(*nl));
        nl->sock = sock;
        nl->portid = portid;
        *out = nl;
        return 0;
}

void net_nl_close(struct net_nl *nl)
{
        if (nl == NULL)
                return;
        mnl_socket_close(nl->sock);
        free(nl);
}

struct talk {
        struct net_nl *nl;
        mnl_cb_t cb;
        void *data;
};

static int talk_data_cb(const struct nlmsghdr *nlh, void *data)
{
        struct talk *t = data;
        return t->cb ? t->cb(nlh, t->data) : MNL_CB_OK;
}

/* NLMSG_ERROR: the ack (error 0) or the failure, with the kernel's text when it sent one. */
static int talk_error_cb(const struct nlmsghdr *nlh, void *data)
{
        struct talk *t = data;
        const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
        if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
                errno = EBADMSG;
                return MNL_CB_ERROR;
        }
        if (e->error == 0)
                return MNL_CB_STOP;
        if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
                size_t off = sizeof(*e);
                if (!(nlh->nlmsg_flags & NLM_F_CAPPED) && e->msg.nlmsg_len >= sizeof(e->msg))
                        off += MNL_ALIGN(e->msg.nlmsg_len - sizeof(e->msg));
                struct nlattr *a; /* not const: libmnl's for-each macro casts it to char * */
                mnl_attr_for_each(a, nlh, off)
                {
                        if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
                            mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
                                snprintf(t->nl->ext, sizeof(t->nl->ext), "%s", mnl_attr_get_str(a));
                }
        }
        errno = e->error < 0 ? -e->error : EPROTO;
        return MNL_CB_ERROR;
}

/* With NETLINK_CAP_ACK an ack carries no copy of the request; with NETLINK_EXT_ACK a failure
 * may carry the kernel's reason (talk_error_cb keeps it for nl_fail). */
int nl_talk(struct net_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
        mnl_cb_t ctl[NLMSG_ERROR + 1] = {[NLMSG_ERROR] = talk_error_cb};
        struct talk t = {.nl = nl, .cb = cb, .data = data};
        cleanup_free char *buf = berth_xmalloc(NL_RECV_SIZE);

        nlh->nlmsg_seq = ++nl->seq;
        nl->ext[0] = '\0';
        if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
                return -1;
        for (;;) {
                ssize_t n = mnl_socket_recvfrom(nl->sock, buf, NL_RECV_SIZE);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                int r = mnl_cb_run2(buf, (size_t) n, nl->seq, nl->portid, talk_data_cb, &t, ctl,
                                    BERTH_ARRAY_SIZE(ctl));
                if (r == MNL_CB_ERROR)
                        return -1;
                if (r == MNL_CB_STOP)
                        return 0;
        }
}

/* The kernel's text goes after the object: "add bridge x (its reason): strerror". */
int nl_fail(struct net_nl *nl, berth_error_t *err, int errnum, const char *fmt, ...)
{
        char what[256];
        va_list ap;
        va_start(ap, fmt);
        /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is just above */
        vsnprintf(what, sizeof(what), fmt, ap);
        va_end(ap);
        if (nl && nl->ext[0])
                return berth_fail(err, errnum, "%s (%s)", what, nl->ext);
        return berth_fail(err, errnum, "%s", what);
}

/* Without an ack a success would be silent.  No bit test for the dump: NLM_F_DUMP shares its
 * bits with NLM_F_EXCL and NLM_F_REPLACE. */
struct nlmsghdr *nl_req(char *buf, uint16_t type, uint16_t flags)
{
        memset(buf, 0, NL_REQ_SIZE);
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags =
                (uint16_t) (NLM_F_REQUEST | flags | (flags == NLM_F_DUMP ? 0 : NLM_F_ACK));
        return nlh;
}

struct ifinfomsg *nl_put_ifinfo(struct nlmsghdr *nlh, int index)
{
        struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
        ifi->ifi_family = AF_UNSPEC;
        ifi->ifi_index = index;
        return ifi;
}

int nl_check_name(const char *name, berth_error_t *err)
{
        size_t len = name ? strlen(name) : 0;
        if (len == 0 || len >= IFNAMSIZ || strchr(name, '/'))
                return berth_fail(err, EINVAL, "invalid link name `%s`", name ? name : "");
        return 0;
}

int nl_link_info_cb(const struct nlmsghdr *nlh, void *data)
{
        struct nl_link_info *li = data;
        const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
        struct nlattr *a; /* not const: libmnl's for-each macro casts it to char * */
        if (nlh->nlmsg_type != RTM_NEWLINK)
                return MNL_CB_OK;
        *li = (struct nl_link_info){.index = ifi->ifi_index};
        mnl_attr_for_each(a, nlh, sizeof(*ifi))
        {
                if (mnl_attr_get_type(a) == IFLA_IFNAME &&
                    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
                        snprintf(li->name, sizeof(li->name), "%s", mnl_attr_get_str(a));
                else if (mnl_attr_get_type(a) == IFLA_MASTER &&
                         mnl_attr_validate(a, MNL_TYPE_U32) == 0)
                        li->master = (int) mnl_attr_get_u32(a);
        }
        return MNL_CB_OK;
}

/* One link by name (or by index when name is NULL); -1 with errno ENODEV when missing. */
static int link_get(struct net_nl *nl, const char *name, int index, struct nl_link_info *li)
{
        char buf[NL_REQ_SIZE];
        struct nlmsghdr *nlh = nl_req(buf, RTM_GETLINK, 0);
        nl_put_ifinfo(nlh, name ? 0 : index);
        if (name)
                mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
        li->index = 0;
        if (nl_talk(nl, nlh, nl_link_info_cb, li) < 0)
                return -1;
        if (li->index <= 0) {
                errno = ENODEV;
                return -1;
        }
        return 0;
}

int net_nl_link_index(struct net_nl *nl, const char *name, berth_error_t *err)
{
        struct nl_link_info li;
        if (nl_check_name(name, err) < 0)
                return -1;
        if (link_get(nl, name, 0, &li) < 0)
                return errno == ENODEV ? 0 : nl_fail(nl, err, errno, "look up link %s", name);
        return li.index;
}

int net_nl_bridge_add(struct net_nl *nl, const char *name, unsigned mtu, berth_error_t *err)
{
        char buf[NL_REQ_SIZE];
        if (nl_check_name(name, err) < 0)
                return -1;
        struct nlmsghdr *nlh = nl_req(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        nl_put_ifinfo(nlh, 0);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        if (mtu)
                mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
        struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
        mnl_attr_nest_end(nlh, info);
        if (nl_talk(nl, nlh, NULL, NULL) < 0)
                return errno == EEXIST ? 1 : nl_fail(nl, err, errno, "add bridge %s", name);
        return 0;
}

int net_nl_veth_add(struct net_nl *nl, const char *name, const char *peer_name, unsigned mtu,
                    int peer_netns_fd, const unsigned char *peer_mac, berth_error_t *err)
{
        char buf[NL_REQ_SIZE];
        if (nl_check_name(name, err) < 0 || nl_check_name(peer_name, err) < 0)
                return -1;
        struct nlmsghdr *nlh = nl_req(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        nl_put_ifinfo(nlh, 0);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        if (mtu)
                mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
        struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
        struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        struct nlattr *peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
        nl_put_ifinfo(nlh, 0); /* the peer's own ifinfomsg, then its attributes */
        mnl_attr_put_strz(nlh, IFLA_IFNAME, peer_name);
        if (mtu)
                mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
        if (peer_mac)
                mnl_attr_put(nlh, IFLA_ADDRESS, 6, peer_mac);
        if (peer_netns_fd >= 0)
                mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t) peer_netns_fd);
        mnl_attr_nest_end(nlh, peer);
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, info);
        if (nl_talk(nl, nlh, NULL, NULL) < 0)
                return nl_fail(nl, err, errno, "add veth %s with peer %s%s", name, peer_name,
                               peer_netns_fd >= 0 ? " in another namespace" : "");
        return 0;
}

int net_nl_link_del(struct net_nl *nl, const char *name, berth_error_t *err)
{
        char buf[NL_REQ_SIZE];
        if (nl_check_name(name, err) < 0)
                return -1;
        struct nlmsghdr *nlh = nl_req(buf, RTM_DELLINK, 0);
        nl_put_ifinfo(nlh, 0);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        if (nl_talk(nl, nlh, NULL, NULL) < 0 && errno != ENODEV)
                return nl_fail(nl, err, errno, "delete link %s", name);
        return 0;
}

int net_nl_hairpin(struct net_nl *nl, const char *name, berth_error_t *err)
{
        char buf[NL_REQ_SIZE];
        int idx = net_nl_link_index(nl, name, err);
        if (idx < 0)
                return -1;
        if (idx == 0)
                return berth_fail(err, ENODEV, "set hairpin mode on %s: no such link", name);
        /* a bridge port's flags: AF_BRIDGE, IFLA_PROTINFO nested (mnl sets NLA_F_NESTED) */
        struct nlmsghdr *nlh = nl_req(buf, RTM_SETLINK, 0);
        struct ifinfomsg *ifi = nl_put_ifinfo(nlh, idx);
        ifi->ifi_family = AF_BRIDGE;
        struct nlattr *nest = mnl_attr_nest_start(nlh, IFLA_PROTINFO);
        mnl_attr_put_u8(nlh, IFLA_BRPORT_MODE, 1);
        mnl_attr_nest_end(nlh, nest);
        if (nl_talk(nl, nlh, NULL, NULL) < 0)
                return nl_fail(nl, err, errno, "set hairpin mode on %s", name);
        return 0;
}

/* RTM_SETLINK on name; master: an ifindex (0 = detach) or -1 to leave. */
static int link_set(struct net_nl *nl, const char *name, const struct net_link_set *s, int master)
{
        char buf[NL_REQ_SIZE];
        struct nlmsghdr *nlh = nl_req(buf, RTM_SETLINK, 0);
        struct ifinfomsg *ifi = nl_put_ifinfo(nlh, 0);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        if (s->mtu)
                mnl_attr_put_u32(nlh, IFLA_MTU, s->mtu);
        if (s->mac)
                mnl_attr_put(nlh, IFLA_ADDRESS, 6, s->mac);
        if (master >= 0)
                mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t) master);
        if (s->up >= 0) {
                ifi->ifi_change = IFF_UP;
                ifi->ifi_flags = s->up ? IFF_UP : 0;
        }
        return nl_talk(nl, nlh, NULL, NULL);
}

int net_nl_link_set(struct net_nl *nl, const char *name, const struct net_link_set *s,
                    berth_error_t *err)
{
        int master = -1;
        if (nl_check_name(name, err) < 0)
                return -1;
        if (s->master && s->master[0]) {
                struct nl_link_info li;
                if (nl_check_name(s->master, err) < 0)
                        return -1;
                if (link_get(nl, s->master, 0, &li) < 0)
                        return nl_fail(nl, err, errno, "attach %s to bridge %s: look up %s", name,
                                       s->master, s->master);
                master = li.index;
        } else if (s->master) {
                master = 0;
        }
        if (link_set(nl, name, s, master) < 0) {
                char what[128] = "";
                size_t n = 0;
                if (s->master)
                        n += (size_t) snprintf(what + n, sizeof(what) - n, ", master \"%s\"",
                                               s->master);
                if (s->mtu && n < sizeof(what))
                        n += (size_t) snprintf(what + n, sizeof(what) - n, ", mtu %u", s->mtu);
                if (s->mac && n < sizeof(what))
                        n += (size_t) snprintf(what + n, sizeof(what) - n, ", mac");
                if (s->up >= 0 && n < sizeof(what))
                        snprintf(what + n, sizeof(what) - n, ", %s", s->up ? "up" : "down");
                return nl_fail(nl, err, errno, "set link %s to %s", name,
                               what[0] ? what + 2 : "nothing");
        }
        return 0;
}

int net_nl_loopback_up(struct net_nl *nl, berth_error_t *err)
{
        const struct net_link_set s = {.up = 1};
        if (link_set(nl, "lo", &s, -1) < 0)
                return nl_fail(nl, err, errno, "bring lo up");
        return 0;
}

int net_nl_link_master(struct net_nl *nl, const char *name, char *buf, berth_error_t *err)
{
        struct nl_link_info li, m;
        buf[0] = '\0';
        if (nl_check_name(name, err) < 0)
                return -1;
        if (link_get(nl, name, 0, &li) < 0)
                return nl_fail(nl, err, errno, "look up link %s", name);
        if (li.master == 0)
                return 0;
        if (link_get(nl, NULL, li.master, &m) < 0)
                return nl_fail(nl, err, errno, "look up the master (ifindex %d) of %s", li.master,
                               name);
        snprintf(buf, IFNAMSIZ, "%s", m.name);
        return 0;
}
