/* macvlan.c — the macvlan and ipvlan drivers (macvlan.h): options, the parent a network may
 * need made (dummy, VLAN sub-interface) and its removal, a container's slave link. */
#include "net/macvlan.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <linux/if_link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

#define OPT_PARENT "parent"

struct mode {
        const char *name;
        unsigned value;
};

static const struct mode macvlan_modes[] = {{"bridge", MACVLAN_MODE_BRIDGE},
                                            {"private", MACVLAN_MODE_PRIVATE},
                                            {"vepa", MACVLAN_MODE_VEPA},
                                            {"passthru", MACVLAN_MODE_PASSTHRU},
                                            {NULL, 0}};
static const struct mode ipvlan_modes[] = {
        {"l2", IPVLAN_MODE_L2}, {"l3", IPVLAN_MODE_L3}, {"l3s", IPVLAN_MODE_L3S}, {NULL, 0}};
static const struct mode ipvlan_flags[] = {
        {"bridge", 0}, {"private", IPVLAN_F_PRIVATE}, {"vepa", IPVLAN_F_VEPA}, {NULL, 0}};

static const char *str_of(json_t *o, const char *key)
{
        return json_string_value(json_object_get(o, key));
}

static bool is_ipvlan(const char *driver)
{
        return driver && strcmp(driver, "ipvlan") == 0;
}

bool net_vlan_driver(const char *driver)
{
        return driver && (strcmp(driver, "macvlan") == 0 || strcmp(driver, "ipvlan") == 0);
}

/* -1 when name is not in the table; NULL name: the table's first (the default). */
static long mode_of(const struct mode *t, const char *name)
{
        if (name == NULL)
                return t[0].value;
        for (; t->name; t++)
                if (strcmp(t->name, name) == 0)
                        return t->value;
        return -1;
}

int net_vlan_check(const char *driver, json_t *options, bool rootless, berth_error_t *err)
{
        bool ipv = is_ipvlan(driver);
        if (rootless)
                return berth_fail_status(err, 1, 0,
                                         "%s networks need root: rootless berth can't make links "
                                         "in the host's network namespace",
                                         driver);
        const char *k;
        json_t *v;
        json_object_foreach(options, k, v)
        {
                bool known = strcmp(k, OPT_PARENT) == 0 || strcmp(k, "dns.upstream") == 0 ||
                             (ipv ? strcmp(k, "ipvlan_mode") == 0 || strcmp(k, "ipvlan_flag") == 0
                                  : strcmp(k, "macvlan_mode") == 0);
                if (!known)
                        return berth_fail_status(err, 1, 0,
                                                 "unknown %s driver option \"%s\" (known: parent, "
                                                 "%s, dns.upstream)",
                                                 driver, k,
                                                 ipv ? "ipvlan_mode, ipvlan_flag" : "macvlan_mode");
        }
        const char *m;
        if (ipv) {
                if ((m = str_of(options, "ipvlan_mode")) && mode_of(ipvlan_modes, m) < 0)
                        return berth_fail_status(err, 1, 0,
                                                 "requested ipvlan mode '%s' is not valid, 'l2' "
                                                 "mode is the ipvlan driver default",
                                                 m);
                if ((m = str_of(options, "ipvlan_flag")) && mode_of(ipvlan_flags, m) < 0)
                        return berth_fail_status(err, 1, 0,
                                                 "requested ipvlan flag '%s' is not valid, "
                                                 "'bridge' is the ipvlan driver default",
                                                 m);
        } else if ((m = str_of(options, "macvlan_mode")) && mode_of(macvlan_modes, m) < 0) {
                return berth_fail_status(err, 1, 0,
                                         "requested macvlan mode '%s' is not valid, 'bridge' mode "
                                         "is the macvlan driver default",
                                         m);
        }
        const char *p = str_of(options, OPT_PARENT);
        if (p && strcmp(p, "lo") == 0)
                return berth_fail_status(
                        err, 1, 0, "loopback interface is not a valid %s parent link", driver);
        if (p && (*p == '\0' || strlen(p) >= 16 || strchr(p, '/') || strchr(p, ' ')))
                return berth_fail_status(err, 1, 0, "invalid parent interface name \"%s\"", p);
        return 0;
}

static void dummy_name(const char *driver, const char *id, char out[16])
{
        snprintf(out, 16, "%s-%.12s", is_ipvlan(driver) ? "di" : "dm", id);
}

void net_vlan_info(json_t *doc, struct net_info *out)
{
        const char *driver = str_of(doc, "Driver");
        out->driver = driver;
        out->vlan = net_vlan_driver(driver);
        if (!out->vlan)
                return;
        json_t *opts = json_object_get(doc, "Options");
        /* Docker: --internal, or no parent, is a dummy parent */
        out->parent = str_of(opts, OPT_PARENT);
        if (out->internal || out->parent == NULL || *out->parent == '\0') {
                dummy_name(driver, out->id ? out->id : "", out->dummy);
                out->parent = out->dummy;
        }
        out->vlan_mode = str_of(opts, is_ipvlan(driver) ? "ipvlan_mode" : "macvlan_mode");
        out->vlan_flag = is_ipvlan(driver) ? str_of(opts, "ipvlan_flag") : NULL;
        out->dns = true;
}

bool net_vlan_l3(const struct net_info *ni)
{
        return ni->vlan && is_ipvlan(ni->driver) && ni->vlan_mode &&
               strcmp(ni->vlan_mode, "l2") != 0;
}

/* ---- parents berth makes ---- */

static char *link_file(struct net_ctx *n, const char *id)
{
        cleanup_free char *f = berth_xasprintf("%s.link", id);
        return berth_path_join(n->data_dir, f);
}

/* "eth0.50" → parent "eth0", vid 50, with Docker's messages. */
static int vlan_split(const char *name, char parent[16], unsigned *vid, berth_error_t *err)
{
        const char *dot = strrchr(name, '.');
        if (dot == NULL || dot == name || dot[1] == '\0')
                return berth_fail_status(err, 1, 0,
                                         "invalid subinterface vlan name %s, example formatting "
                                         "is eth0.10",
                                         name);
        for (const char *c = dot + 1; *c; c++)
                if (!isdigit((unsigned char) *c))
                        return berth_fail_status(err, 1, 0,
                                                 "unable to parse vlan id in %s: %s is not a "
                                                 "number",
                                                 name, dot + 1);
        long v = strtol(dot + 1, NULL, 10);
        if (v < 1 || v > 4094)
                return berth_fail_status(err, 1, 0, "vlan id must be between 1-4094, received: %ld",
                                         v);
        snprintf(parent, 16, "%.*s", (int) (dot - name), name);
        *vid = (unsigned) v;
        return 0;
}

/* Make a parent: dummy (vid 0) or VLAN, the .link file first. */
static int make_link(struct net_ctx *n, struct net_nl *nl, const char *id, const char *name,
                     const char *vparent, unsigned vid, berth_error_t *err)
{
        cleanup_free char *file = link_file(n, id);
        if (berth_mkdir_p(n->data_dir, 0700, err) < 0 ||
            berth_write_file_replace(file, name, strlen(name), 0600, err) < 0)
                return -1;
        int r = vid ? net_nl_vlan_add(nl, name, vparent, vid, err)
                    : net_nl_dummy_add(nl, name, err);
        if (r < 0)
                unlink(file);
        return r;
}

int net_vlan_parent_make(struct net_ctx *n, const char *driver, const char *id, json_t *options,
                         bool internal, json_t *recs, berth_error_t *err)
{
        const char *parent = str_of(options, OPT_PARENT);
        const char *mode = str_of(options, "macvlan_mode");
        bool passthru = !is_ipvlan(driver) && mode && strcmp(mode, "passthru") == 0;
        bool dummy = internal || parent == NULL || *parent == '\0';
        size_t i;
        json_t *d;
        json_array_foreach(recs, i, d)
        {
                struct net_info o;
                net_network_info(d, &o);
                if (dummy || !o.vlan || strcmp(o.parent, parent) != 0)
                        continue;
                const char *om = str_of(json_object_get(d, "Options"), "macvlan_mode");
                bool opass = !is_ipvlan(o.driver) && om && strcmp(om, "passthru") == 0;
                if (passthru)
                        return berth_fail_status(err, 1, 0,
                                                 "cannot use mode passthru, macvlan network %s is "
                                                 "already using parent interface %s",
                                                 o.id, parent);
                if (opass)
                        return berth_fail_status(err, 1, 0,
                                                 "macvlan network %s is already using parent "
                                                 "interface %s in mode passthru",
                                                 o.id, parent);
        }
        struct net_nl *nl = NULL;
        if (net_nl_open(&nl, -1, err) < 0)
                return -1;
        int r;
        if (dummy) {
                char name[16];
                dummy_name(driver, id, name);
                r = make_link(n, nl, id, name, NULL, 0, err);
        } else if ((r = net_nl_link_index(nl, parent, err)) > 0) {
                r = 0; /* the user's interface, as it is */
        } else if (r == 0) {
                char vparent[16];
                unsigned vid;
                r = vlan_split(parent, vparent, &vid, err);
                if (r == 0 && (r = net_nl_link_index(nl, vparent, err)) == 0)
                        r = berth_fail_status(err, 1, 0,
                                              "failed to find master interface %s on the host: "
                                              "Link not found",
                                              vparent);
                if (r > 0)
                        r = make_link(n, nl, id, parent, vparent, vid, err);
        }
        net_nl_close(nl);
        return r < 0 ? -1 : 0;
}

/* Delete the link a .link file names and the file. */
static int drop_link(struct net_ctx *n, struct net_nl *nl, const char *id, berth_error_t *err)
{
        cleanup_free char *file = link_file(n, id);
        cleanup_free char *name = NULL;
        if (berth_read_file(file, &name, NULL, NULL) < 0)
                return 0; /* berth made nothing */
        name[strcspn(name, "\n")] = '\0';
        if (net_nl_link_del(nl, name, err) < 0)
                return -1;
        if (unlink(file) < 0 && errno != ENOENT)
                return berth_fail(err, errno, "remove `%s`", file);
        return 0;
}

int net_vlan_parent_remove(struct net_ctx *n, json_t *doc, json_t *recs, berth_error_t *err)
{
        struct net_info ni;
        net_network_info(doc, &ni);
        if (!ni.vlan)
                return 0;
        /* a VLAN sub-interface another network still uses stays (Docker's networks may share
         * a parent), and the file that says berth made it passes to that network */
        size_t i;
        json_t *d;
        json_array_foreach(recs, i, d)
        {
                struct net_info o;
                net_network_info(d, &o);
                if (!o.vlan || strcmp(o.id, ni.id) == 0 || strcmp(o.parent, ni.parent) != 0)
                        continue;
                cleanup_free char *mine = link_file(n, ni.id);
                cleanup_free char *theirs = link_file(n, o.id);
                if (access(mine, F_OK) == 0 && rename(mine, theirs) < 0)
                        return berth_fail(err, errno, "rename `%s`", mine);
                return 0;
        }
        struct net_nl *nl = NULL;
        if (net_nl_open(&nl, -1, err) < 0)
                return -1;
        int r = drop_link(n, nl, ni.id, err);
        net_nl_close(nl);
        return r < 0 ? berth_wrap(err, "remove the parent %s of network %s", ni.parent, ni.name)
                     : 0;
}

void net_vlan_gc(struct net_ctx *n, json_t *recs)
{
        cleanup_dir DIR *dir = opendir(n->data_dir);
        struct dirent *de;
        struct net_nl *nl = NULL;
        while (dir && (de = readdir(dir)) != NULL) {
                size_t l = strlen(de->d_name);
                if (l != 64 + 5 || strcmp(de->d_name + 64, ".link") != 0)
                        continue;
                char id[65];
                snprintf(id, sizeof(id), "%.64s", de->d_name);
                bool known = false;
                size_t i;
                json_t *d;
                json_array_foreach(recs, i, d)
                {
                        known |= str_of(d, "Id") && strcmp(str_of(d, "Id"), id) == 0;
                }
                berth_error_t e = NULL;
                if (known || (nl == NULL && net_nl_open(&nl, -1, &e) < 0)) {
                        berth_error_release(&e);
                        continue;
                }
                log_info("network: removing the parent link a create of %.12s left", id);
                if (drop_link(n, nl, id, &e) < 0) {
                        log_warn("%s", berth_error_msg(e));
                        berth_error_release(&e);
                }
        }
        net_nl_close(nl);
}

/* ---- a container's link ---- */

/* The parent berth made for the network, made again when gone (a reboot took it). */
static int parent_again(struct net_ctx *n, struct net_nl *host, const struct net_info *ni,
                        berth_error_t *err)
{
        cleanup_free char *file = link_file(n, ni->id);
        if (access(file, F_OK) < 0 || net_nl_link_index(host, ni->parent, NULL) != 0)
                return 0;
        char vparent[16];
        unsigned vid = 0;
        if (ni->parent != ni->dummy && vlan_split(ni->parent, vparent, &vid, err) < 0)
                return -1;
        int r = vid ? net_nl_vlan_add(host, ni->parent, vparent, vid, err)
                    : net_nl_dummy_add(host, ni->parent, err);
        if (r < 0 && net_nl_link_index(host, ni->parent, NULL) > 0) { /* a racing start made it */
                berth_error_release(err);
                r = 0;
        }
        return r;
}

int net_vlan_slave_add(struct net_ctx *n, struct net_nl *host, const struct net_info *ni,
                       const char *ifname, int netns_fd, const unsigned char *mac,
                       berth_error_t *err)
{
        bool ipv = is_ipvlan(ni->driver);
        struct net_slave s = {.kind = ipv ? "ipvlan" : "macvlan",
                              .name = ifname,
                              .parent = ni->parent,
                              .netns_fd = netns_fd,
                              .mac = ipv ? NULL : mac};
        long m = mode_of(ipv ? ipvlan_modes : macvlan_modes, ni->vlan_mode);
        long f = ipv ? mode_of(ipvlan_flags, ni->vlan_flag) : 0;
        if (m < 0 || f < 0)
                return berth_fail(err, EINVAL, "network %s: bad %s mode", ni->name, s.kind);
        s.mode = (unsigned) m;
        s.flags = (unsigned) f;
        if (parent_again(n, host, ni, err) < 0 || net_nl_slave_add(host, &s, err) < 0)
                return berth_wrap(err, "network %s", ni->name);
        return 0;
}

/* ---- names ---- */

static void add_servers(json_t *out, const char *list)
{
        cleanup_free char *copy = berth_xstrdup(list);
        char *save = NULL;
        for (char *s = strtok_r(copy, ", ", &save); s; s = strtok_r(NULL, ", ", &save))
                json_array_append_new(out, json_string(s));
}

json_t *net_vlan_dns_servers(const struct net_info *ni, json_t *dns)
{
        if (json_array_size(dns) > 0)
                return json_deep_copy(dns);
        json_t *out = json_array();
        if (ni->dns_upstream && *ni->dns_upstream) {
                add_servers(out, ni->dns_upstream);
                return out;
        }
        cleanup_file FILE *f = fopen("/etc/resolv.conf", "re");
        char line[256];
        while (f && fgets(line, sizeof(line), f)) {
                char addr[INET6_ADDRSTRLEN];
                unsigned char bin[16];
                if (sscanf(line, "nameserver %45s", addr) != 1)
                        continue;
                /* a loopback resolver is the host's, out of the container's reach */
                if (inet_pton(AF_INET, addr, bin) == 1 ? bin[0] == 127 : strcmp(addr, "::1") == 0)
                        continue;
                json_array_append_new(out, json_string(addr));
        }
        return out;
}
