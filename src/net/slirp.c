/* slirp.c — one slirp4netns per rootless container (slirp.h). */
#include "net/slirp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "net/ports.h"

/* Docker's MAC for 10.0.2.100: 02:42 and the address */
#define SLIRP_MAC "02:42:0a:00:02:64"
static char *slirp_dir(struct net_ctx *n)
{
        return berth_path_join(n->run_dir, "slirp");
}
struct fwd_ctx {
        const char *dir, *cid;
};

/* The rootless port backend (ports.h): a host socket of slirp4netns forwarding to the
 * container.  A host port already bound fails as rootful berth's does ("address already in
 * use"); slirp4netns tells no reason for a failed forward, so the bind is tried first. */
static int take_hostfwd(void *ctx, const struct net_port_fwd *f, bool *by_berth, berth_error_t *err)
{
        struct fwd_ctx *c = ctx;
        *by_berth = false;
        if (strcmp(f->proto, "tcp") != 0 && strcmp(f->proto, "udp") != 0)
                return berth_fail_status(err, 125, EPROTONOSUPPORT,
                                         "publishing %u/%s: rootless berth forwards tcp and udp "
                                         "ports only",
                                         f->ctr_port, f->proto);
        if (strchr(f->host_ip, ':')) /* slirp4netns 1.2's add_hostfwd: IPv4 host addresses */
                return berth_fail_status(err, 125, EAFNOSUPPORT,
                                         "publishing [%s]:%u/%s: rootless berth relays IPv6 host "
                                         "addresses on user networks only (`berth network "
                                         "create`); the default network's slirp4netns forwards "
                                         "IPv4",
                                         f->host_ip, f->host_port, f->proto);
        if (net_host_port_busy(f->proto, f->host_ip, f->host_port))
                return 0;
        json_t *req = json_pack("{s:s, s:{s:s, s:s, s:i, s:s, s:i}}", "execute", "add_hostfwd",
                                "arguments", "proto", f->proto, "host_addr", f->host_ip,
                                "host_port", (json_int_t) f->host_port, "guest_addr",
                                NET_SLIRP_ADDR, "guest_port", (json_int_t) f->ctr_port);
        json_t *reply = NULL;
        int r = net_slirp_request(c->dir, c->cid, req, &reply, err);
        json_decref(req);
        if (r < 0)
                return -1;
        json_t *e = json_object_get(reply, "error");
        if (e == NULL) {
                json_decref(reply);
                return 1;
        }
        /* lost a race for the port with a host process */
        if (net_host_port_busy(f->proto, f->host_ip, f->host_port)) {
                json_decref(reply);
                return 0;
        }
        const char *desc = json_string_value(json_object_get(e, "desc"));
        r = berth_fail_status(err, 125, EIO, "publishing %s:%u/%s: slirp4netns: %s", f->host_ip,
                              f->host_port, f->proto, desc ? desc : "failed");
        json_decref(reply);
        return r;
}

static json_t *settings_doc(const char *nspath, json_t *epcfg, bool configured)
{
        const char *ip = configured ? NET_SLIRP_ADDR : "",
                   *gw = configured ? NET_SLIRP_GATEWAY : "";
        const char *mac = configured ? SLIRP_MAC : "";
        json_int_t plen = configured ? NET_SLIRP_PREFIX : 0;
        json_t *ipam = json_object_get(epcfg, "IPAMConfig");
        json_t *ep = json_pack("{s:O, s:n, s:n, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:i, s:s, s:n}",
                               "IPAMConfig", ipam ? ipam : json_null(), "Links", "Aliases",
                               "NetworkID", "", "EndpointID", "", "Gateway", gw, "IPAddress", ip,
                               "IPPrefixLen", plen, "IPv6Gateway", "", "GlobalIPv6Address", "",
                               "GlobalIPv6PrefixLen", 0, "MacAddress", mac, "DriverOpts");
        return json_pack("{s:s, s:s, s:b, s:s, s:i, s:{}, s:s, s:n, s:n, s:s, s:s, s:s, s:i, "
                         "s:s, s:I, s:s, s:s, s:{s:o}}",
                         "Bridge", "", "SandboxID", "", "HairpinMode", 0, "LinkLocalIPv6Address",
                         "", "LinkLocalIPv6PrefixLen", 0, "Ports", "SandboxKey", nspath,
                         "SecondaryIPAddresses", "SecondaryIPv6Addresses", "EndpointID", "",
                         "Gateway", gw, "GlobalIPv6Address", "", "GlobalIPv6PrefixLen", 0,
                         "IPAddress", ip, "IPPrefixLen", plen, "IPv6Gateway", "", "MacAddress", mac,
                         "Networks", NET_DEFAULT_NAME, ep);
}

int net_slirp_sandbox_up(struct net_ctx *n, const struct net_sandbox_req *r, json_t **settings,
                         berth_error_t *err)
{
        json_t *hc = r->host_config;
        bool ports = json_object_size(json_object_get(hc, "PortBindings")) > 0 ||
                     json_is_true(json_object_get(hc, "PublishAllPorts"));
        bool have = net_slirp_available();
        if (!have && ports)
                return berth_fail_status(err, 125, ENOENT,
                                         "publishing ports: rootless berth needs slirp4netns "
                                         "(Debian's slirp4netns package), not found in PATH");
        if (net_sandbox_ns_make(n, r->cid, err) < 0)
                return -1;
        cleanup_free char *nspath = net_sandbox_path(n, r->cid);
        json_t *epcfg = json_object_get(r->endpoints, NET_DEFAULT_NAME);
        if (!have) {
                log_warn("slirp4netns not found in PATH: container %.12s gets loopback only "
                         "(install Debian's slirp4netns package)",
                         r->cid);
                *settings = settings_doc(nspath, epcfg, false);
                return 0;
        }
        cleanup_free char *dir = slirp_dir(n);
        struct fwd_ctx fc = {.dir = dir, .cid = r->cid};
        struct net_port_backend be = {.take = take_hostfwd, .ctx = &fc};
        json_t *p = NULL;
        int rc = net_slirp_spawn(dir, r->cid, nspath, false, err);
        if (rc == 0)
                rc = net_ports_publish_via(n, &be, r->cid, r->name, NET_SLIRP_ADDR, NULL, r->config,
                                           hc, &p, err);
        if (rc < 0) {
                berth_error_t ignored = NULL;
                net_sandbox_down(n, r->cid, &ignored);
                berth_error_release(&ignored);
                return -1;
        }
        json_t *s = settings_doc(nspath, epcfg, true);
        json_object_set_new(s, "Ports", p);
        *settings = s;
        return 0;
}
int net_slirp_stop(struct net_ctx *n, const char *cid, berth_error_t *err)
{
        (void) err;
        cleanup_free char *dir = slirp_dir(n);
        net_slirp_kill(dir, cid);
        return 0;
}

int net_slirp_owners(struct net_ctx *n, json_t *owners, berth_error_t *err)
{
        cleanup_free char *dir = slirp_dir(n);
        cleanup_dir DIR *d = opendir(dir);
        if (d == NULL)
                return errno == ENOENT ? 0 : berth_fail(err, errno, "open %s", dir);
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
                const char *dot = strrchr(de->d_name, '.');
                if (de->d_name[0] == '.' || dot == NULL || dot == de->d_name)
                        continue;
                char cid[128];
                snprintf(cid, sizeof(cid), "%.*s", (int) (dot - de->d_name), de->d_name);
                json_object_set_new(owners, cid, json_true());
        }
        return 0;
}
