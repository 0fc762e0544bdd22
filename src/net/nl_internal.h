/* nl_internal.h — what nl.c and nl_route.c share: the handle and the request/ack exchange.
 * Not for use outside src/net/nl*.c; everyone else goes through nl.h. */
#ifndef BERTH_NET_NL_INTERNAL_H
#define BERTH_NET_NL_INTERNAL_H

#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdint.h>

#include "common/error.h"

struct net_nl {
        struct mnl_socket *sock;
        unsigned portid;
        unsigned seq;
        char ext[160]; /* the kernel's extended-ack text of the last failed request */
};

/* A request fits easily: names, a few addresses and integers. */
#define NL_REQ_SIZE 1024

/* Start a request in buf (NL_REQ_SIZE bytes); every one but a dump asks for an ack. */
struct nlmsghdr *nl_req(char *buf, uint16_t type, uint16_t flags);
struct ifinfomsg *nl_put_ifinfo(struct nlmsghdr *nlh, int index);

/* Send one request and read its replies (each to cb, which may be NULL) up to its ack or the
 * end of its dump.  0, or -1 with errno set: the kernel's error for the request. */
int nl_talk(struct net_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

/* berth_fail with the object named and, when the kernel explained itself, its words. */
int nl_fail(struct net_nl *nl, berth_error_t *err, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* A link name the kernel would take (1 to IFNAMSIZ-1 bytes, no '/'), else EINVAL. */
int nl_check_name(const char *name, berth_error_t *err);

struct nl_link_info {
        int index;
        int master;
        char name[IFNAMSIZ];
};
/* An RTM_NEWLINK message into a struct nl_link_info (others are ignored). */
int nl_link_info_cb(const struct nlmsghdr *nlh, void *data);

#endif
