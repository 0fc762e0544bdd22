/* network.c — the engine's side of container networks (see network.h). */
#include "engine/network.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/idmap.h"
#include "common/log.h"
#include "common/units.h"
#include "common/util.h"
#include "engine/events.h"
#include "engine/lifecycle.h"
#include "engine/links.h"
#include "net/dns.h"
#include "net/rootless.h"
#include "net/sandbox.h"
#include "net/slirp.h"

void eng_net_ctx(struct eng_ctx *e, struct net_ctx *n)
{
        /* e->run_dir is <run>/containers: the network state sits beside it */
        cleanup_free char *run = berth_xstrdup(e->run_dir);
        n->data_dir = berth_path_join(e->data_dir, "networks");
        n->run_dir = berth_path_join(dirname(run), "net");
        n->rootless = e->rootless;
}

char *eng_net_sandbox_path(struct eng_ctx *e, const char *cid)
{
        struct net_ctx n;
        eng_net_ctx(e, &n);
        char *p = net_sandbox_path(&n, cid);
        net_ctx_free(&n);
        return p;
}

static const char *mode_of(json_t *hc)
{
        const char *m = json_string_value(json_object_get(hc, "NetworkMode"));
        return m && *m ? m : "default";
}

bool eng_net_bridged(json_t *hc)
{
        const char *m = mode_of(hc);
        return strcmp(m, "none") != 0 && strcmp(m, "host") != 0 &&
               !berth_str_has_prefix(m, "container:");
}

static const char *net_name(json_t *hc)
{
        const char *m = mode_of(hc);
        return strcmp(m, "default") == 0 ? NET_DEFAULT_NAME : m;
}

/* NetworkSettings.Networks[name] of a container not (yet) running. */
static json_t *idle_endpoint(json_t *epcfg, const char *netid)
{
        json_t *ipam = json_object_get(epcfg, "IPAMConfig");
        json_t *aliases = json_object_get(epcfg, "Aliases");
        json_t *links = json_object_get(epcfg, "Links");
        const char *mac = json_string_value(json_object_get(epcfg, "MacAddress"));
        /* Links: `network connect --link`'s, kept across stops as Docker keeps them */
        return json_pack("{s:O, s:O, s:O, s:s, s:s, s:s, s:s, s:i, s:s, s:s, s:i, s:s, s:n}",
                         "IPAMConfig", ipam ? ipam : json_null(), "Links",
                         json_array_size(links) ? links : json_null(), "Aliases",
                         aliases ? aliases : json_null(), "NetworkID", netid, "EndpointID", "",
                         "Gateway", "", "IPAddress", "", "IPPrefixLen", 0, "IPv6Gateway", "",
                         "GlobalIPv6Address", "", "GlobalIPv6PrefixLen", 0, "MacAddress",
                         mac ? mac : "", "DriverOpts");
}

static json_t *idle_settings(void)
{
        return json_pack("{s:s, s:s, s:b, s:s, s:i, s:{}, s:s, s:n, s:n, s:s, s:s, s:s, s:i, "
                         "s:s, s:i, s:s, s:s, s:{}}",
                         "Bridge", "", "SandboxID", "", "HairpinMode", 0, "LinkLocalIPv6Address",
                         "", "LinkLocalIPv6PrefixLen", 0, "Ports", "SandboxKey", "",
                         "SecondaryIPAddresses", "SecondaryIPv6Addresses", "EndpointID", "",
                         "Gateway", "", "GlobalIPv6Address", "", "GlobalIPv6PrefixLen", 0,
                         "IPAddress", "", "IPPrefixLen", 0, "IPv6Gateway", "", "MacAddress", "",
                         "Networks");
}

int eng_net_prepare(struct eng_ctx *e, json_t *hc, json_t *networking, json_t **settings,
                    char **dns_server, char **gateway, berth_error_t *err)
{
        struct net_ctx n;
        eng_net_ctx(e, &n);
        *dns_server = *gateway = NULL;
        json_t *s = idle_settings();
        json_t *eps = json_object_get(networking, "EndpointsConfig");
        const char *name = net_name(hc);
        json_t *doc = NULL;
        int r = 0;
        if (berth_str_has_prefix(name, "container:")) {
                /* shares another container's: nothing of its own */
        } else if (e->rootless && eng_net_bridged(hc) && strcmp(name, NET_DEFAULT_NAME) == 0) {
                /* no bridge without root in the host's namespace: the default network is one
                 * slirp4netns per container (net/slirp.h); user networks live in the rootless
                 * network namespace (net/rootless.h), below as rootful berth's */
                json_t *epcfg = json_object_get(eps, NET_DEFAULT_NAME);
                bool ports = json_object_size(json_object_get(hc, "PortBindings")) > 0 ||
                             json_is_true(json_object_get(hc, "PublishAllPorts"));
                bool slirp = net_slirp_available();
                if (json_object_size(json_object_get(epcfg, "IPAMConfig")) > 0)
                        r = berth_fail_status(err, 125, EINVAL,
                                              "user specified IP address is supported on user "
                                              "defined networks only");
                else if (json_array_size(json_object_get(epcfg, "Aliases")) > 0)
                        r = berth_fail_status(err, 125, EINVAL,
                                              "network-scoped alias is supported only for "
                                              "containers in user defined networks");
                else if (ports && !slirp)
                        r = berth_fail_status(err, 125, ENOENT,
                                              "publishing ports: rootless berth needs slirp4netns "
                                              "(Debian's slirp4netns package), not found in PATH");
                else {
                        json_object_set_new(json_object_get(s, "Networks"), NET_DEFAULT_NAME,
                                            idle_endpoint(epcfg, ""));
                        /* slirp4netns's forwarder to the host's resolvers */
                        if (slirp)
                                *dns_server = berth_xstrdup(NET_SLIRP_DNS);
                }
        } else if (net_network_get(&n, name, &doc, err) < 0) {
                if (*err)
                        (*err)->status = 125;
                r = -1;
        } else {
                struct net_info ni;
                net_network_info(doc, &ni);
                json_t *epcfg = json_object_get(eps, name);
                json_t *ipam = json_object_get(epcfg, "IPAMConfig");
                if (e->rootless && ni.bridge && !ni.dns)
                        r = berth_fail_status(err, 125, EINVAL,
                                              "network %s: rootless berth attaches containers to "
                                              "user-defined bridge networks, the default network, "
                                              "none, host or container:NAME",
                                              name);
                else if (ni.bridge && !ni.dns && json_object_size(ipam) > 0)
                        r = berth_fail_status(err, 125, EINVAL,
                                              "user specified IP address is supported on user "
                                              "defined networks only");
                else if (ni.bridge && !ni.dns &&
                         json_array_size(json_object_get(epcfg, "Aliases")) > 0)
                        r = berth_fail_status(err, 125, EINVAL,
                                              "network-scoped alias is supported only for "
                                              "containers in user defined networks");
                else {
                        json_object_set_new(json_object_get(s, "Networks"), ni.name,
                                            idle_endpoint(epcfg, ni.id));
                        /* --dns: the container's own resolver forwards to its servers,
                         * as Docker's embedded one does (net/dns.h); macvlan/ipvlan have
                         * no host side for a network's resolver (net/macvlan.h) */
                        if (ni.dns && (ni.vlan || json_array_size(json_object_get(hc, "Dns")) > 0))
                                *dns_server = berth_xstrdup(NET_DNS_CONTAINER_ADDR);
                        else if (ni.dns && ni.gateway4)
                                *dns_server = berth_xstrdup(ni.gateway4);
                }
        }
        json_decref(doc);
        /* --add-host NAME:host-gateway: the default bridge's gateway, as Docker's */
        if (r == 0) {
                size_t i;
                json_t *h;
                json_array_foreach(json_object_get(hc, "ExtraHosts"), i, h)
                {
                        const char *v = json_string_value(h);
                        if (v && strstr(v, ":host-gateway") && *gateway == NULL && e->rootless) {
                                /* slirp4netns's address for the host */
                                *gateway = berth_xstrdup(NET_SLIRP_GATEWAY);
                        } else if (v && strstr(v, ":host-gateway") && *gateway == NULL) {
                                json_t *bd = NULL;
                                struct net_info bi;
                                if (net_network_get(&n, NET_DEFAULT_NAME, &bd, err) < 0) {
                                        r = -1;
                                        break;
                                }
                                net_network_info(bd, &bi);
                                *gateway = berth_xstrdup(bi.gateway4 ? bi.gateway4 : "");
                                json_decref(bd);
                        }
                }
        }
        net_ctx_free(&n);
        if (r < 0) {
                json_decref(s);
                free(*dns_server);
                free(*gateway);
                *dns_server = *gateway = NULL;
                return -1;
        }
        *settings = s;
        return 0;
}

/* /etc/hosts gets "IP<TAB>hostname" for the container's own address, as Docker writes it;
 * lines of an earlier start (same hostname) are replaced. */
static int hosts_entry(struct eng_container *c, const char *ip, berth_error_t *err)
{
        const char *path = json_string_value(json_object_get(c->doc, "HostsPath"));
        const char *hn =
                json_string_value(json_object_get(json_object_get(c->doc, "Config"), "Hostname"));
        char short_id[13];
        snprintf(short_id, sizeof(short_id), "%.12s", c->id);
        if (hn == NULL || *hn == '\0')
                hn = short_id;
        cleanup_free char *old = NULL;
        if (path == NULL || berth_read_file(path, &old, NULL, NULL) < 0)
                return 0;
        cleanup_free char *tail = berth_xasprintf("\t%s", hn);
        size_t tl = strlen(tail);
        cleanup_free char *text = berth_xstrdup("");
        char *save = NULL;
        for (char *l = strtok_r(old, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                size_t ll = strlen(l);
                if (ll >= tl && strcmp(l + ll - tl, tail) == 0)
                        continue;
                char *t = berth_xasprintf("%s%s\n", text, l);
                free(text);
                text = t;
        }
        if (ip && *ip) {
                char *t = berth_xasprintf("%s%s\t%s\n", text, ip, hn);
                free(text);
                text = t;
        }
        return berth_write_file_replace(path, text, strlen(text), 0644, err);
}

/* A container with a resolver of its own (net_sandbox_has_resolver) since its start or a
 * `network connect`: its resolv.conf names 127.0.0.11, search and options lines kept.
 * Written in place: the file is bind-mounted into a running container, which a rename
 * would not reach. */
static int resolv_own(struct eng_container *c, berth_error_t *err)
{
        const char *path = json_string_value(json_object_get(c->doc, "ResolvConfPath"));
        cleanup_free char *old = NULL;
        if (path == NULL || berth_read_file(path, &old, NULL, NULL) < 0)
                return 0;
        cleanup_free char *text = berth_xasprintf("nameserver %s\n", NET_DNS_CONTAINER_ADDR);
        cleanup_free char *copy = berth_xstrdup(old);
        char *save = NULL;
        for (char *l = strtok_r(copy, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                if (strncmp(l, "nameserver", 10) == 0)
                        continue;
                char *t = berth_xasprintf("%s%s\n", text, l);
                free(text);
                text = t;
        }
        if (strcmp(text, old) == 0)
                return 0;
        cleanup_close int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
        if (fd < 0 || berth_write_all(fd, text, strlen(text)) < 0)
                return berth_fail(err, errno, "write %s", path);
        return 0;
}

static const char *first_ip(json_t *settings)
{
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(settings, "Networks"), k, v)
        {
                const char *ip = json_string_value(json_object_get(v, "IPAddress"));
                if (ip && *ip)
                        return ip;
        }
        return NULL;
}

/* The calls below run where the networks' bridges live: rootless, in the rootless network
 * namespace (net/rootless.h), through a callback. */
struct ns_call {
        struct net_ctx *n;
        const struct net_sandbox_req *req;
        json_t **settings;
        const char *cid, *network;
        json_t *epcfg;
        net_alive_fn alive;
        void *alive_ctx;
};

static int up_fn(void *p, berth_error_t *err)
{
        struct ns_call *c = p;
        return net_sandbox_up(c->n, c->req, c->settings, err);
}

static int down_fn(void *p, berth_error_t *err)
{
        struct ns_call *c = p;
        return net_sandbox_down(c->n, c->cid, err);
}

static int gc_fn(void *p, berth_error_t *err)
{
        struct ns_call *c = p;
        return net_gc(c->n, c->alive, c->alive_ctx, err);
}

static int connect_fn(void *p, berth_error_t *err)
{
        struct ns_call *c = p;
        return net_sandbox_connect(c->n, c->req, c->network, c->epcfg, c->settings, err);
}

static int disconnect_fn(void *p, berth_error_t *err)
{
        struct ns_call *c = p;
        return net_sandbox_disconnect(c->n, c->cid, c->network, NULL, err);
}

int eng_net_up(struct eng_ctx *e, struct eng_container *c, berth_error_t *err)
{
        json_t *hc = json_object_get(c->doc, "HostConfig");
        /* rootless outside berth's user namespace: no namespace of ours to make (create.c) */
        if (!eng_net_bridged(hc) || (e->rootless && !berth_in_userns()))
                return 0;
        struct net_ctx n;
        eng_net_ctx(e, &n);
        json_t *config = json_object_get(c->doc, "Config");
        json_t *old = json_object_get(c->doc, "NetworkSettings");
        struct net_sandbox_req req = {
                .cid = c->id,
                .name = eng_container_name(c),
                .hostname = json_string_value(json_object_get(config, "Hostname")),
                .config = config,
                .host_config = hc,
                .endpoints = json_object_get(old, "Networks"),
        };
        json_t *s = NULL;
        int64_t t0 = berth_now_ns();
        /* rootless: the default network is a slirp4netns of the container's own; user networks
         * are made inside the rootless network namespace */
        bool slirp = e->rootless && strcmp(net_name(hc), NET_DEFAULT_NAME) == 0;
        struct ns_call call = {.n = &n, .req = &req, .settings = &s};
        int r = slirp ? net_slirp_sandbox_up(&n, &req, &s, err)
                      : net_rootless_run(&n, true, up_fn, &call, err);
        int64_t t1 = berth_now_ns();
        if (r == 0) {
                json_object_set_new(c->doc, "NetworkSettings", s);
                /* rootless ports on IPv6 host addresses: their relays listen here, in the
                 * host's namespace (the publishing ran in the rootless one) */
                r = slirp ? 0 : net_rootless_relays(&n, c->id, err);
                if (r == 0)
                        r = hosts_entry(c, first_ip(s), err);
                if (r == 0 && net_sandbox_has_resolver(&n, c->id))
                        r = resolv_own(c, err);
                if (r == 0)
                        r = eng_links_apply(e, c, err);
                if (r == 0)
                        r = eng_container_save_runtime(c, err);
                /* those linking to it see its new address */
                if (r == 0)
                        eng_links_refresh_parents(e, c);
                log_debug("container %.12s: sandbox up in %.2f ms, recorded in %.2f ms", c->id,
                          (double) (t1 - t0) / 1e6, (double) (berth_now_ns() - t1) / 1e6);
                if (r < 0) {
                        berth_error_t ignored = NULL;
                        eng_net_down_id(e, c->id, &ignored);
                        berth_error_release(&ignored);
                }
        } else if (!slirp) {
                net_rootless_cleanup_if_idle(&n);
        }
        net_ctx_free(&n);
        return r;
}

int eng_net_down_id(struct eng_ctx *e, const char *cid, berth_error_t *err)
{
        struct net_ctx n;
        eng_net_ctx(e, &n);
        /* rootless: a container's endpoints on user networks are in the rootless network
         * namespace (when there is one); it goes with the last of them */
        struct ns_call call = {.n = &n, .cid = cid};
        int r = net_rootless_run(&n, false, down_fn, &call, err);
        net_rootless_cleanup_if_idle(&n);
        net_ctx_free(&n);
        return r;
}

/* The record of a stopped container: its endpoint configuration, no addresses. */
static void settings_idle(struct eng_container *c)
{
        json_t *old = json_object_get(c->doc, "NetworkSettings");
        json_t *s = idle_settings();
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(old, "Networks"), k, v)
        {
                const char *id = json_string_value(json_object_get(v, "NetworkID"));
                json_object_set_new(json_object_get(s, "Networks"), k,
                                    idle_endpoint(v, id ? id : ""));
        }
        json_object_set_new(c->doc, "NetworkSettings", s);
}

int eng_net_down(struct eng_ctx *e, struct eng_container *c, berth_error_t *err)
{
        if (!eng_net_bridged(json_object_get(c->doc, "HostConfig")))
                return 0;
        int64_t t0 = berth_now_ns();
        int r = eng_net_down_id(e, c->id, err);
        log_debug("container %.12s: sandbox down in %.2f ms", c->id,
                  (double) (berth_now_ns() - t0) / 1e6);
        json_t *s = json_object_get(c->doc, "NetworkSettings");
        if (json_string_length(json_object_get(s, "SandboxKey")) > 0) {
                settings_idle(c);
                berth_error_t e2 = NULL;
                if (eng_container_save_runtime(c, &e2) < 0) {
                        log_warn("%s", berth_error_msg(e2));
                        berth_error_release(&e2);
                }
        }
        return r;
}

static bool container_alive(void *ctx, const char *cid)
{
        struct eng_ctx *e = ctx;
        struct eng_container *c = NULL;
        berth_error_t err = NULL;
        if (eng_container_find(e, cid, &c, &err) < 0) {
                berth_error_release(&err);
                return false;
        }
        const char *st = eng_container_status(c);
        bool live = eng_status_live(st) && eng_monitor_alive(c);
        if (!live && strcmp(st, "created") == 0) {
                /* a start in progress holds the lock while it makes the sandbox: leave it */
                cleanup_free char *lock = berth_path_join(c->dir, "lock");
                cleanup_close int fd = open(lock, O_RDONLY | O_CLOEXEC);
                if (fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK)
                        live = true;
        }
        eng_container_free(c);
        return live;
}

int eng_net_gc(struct eng_ctx *e, berth_error_t *err)
{
        struct net_ctx n;
        eng_net_ctx(e, &n);
        struct ns_call call = {.n = &n, .alive = container_alive, .alive_ctx = e};
        int r = net_rootless_run(&n, false, gc_fn, &call, err);
        net_rootless_cleanup_if_idle(&n);
        net_ctx_free(&n);
        return r;
}

/* What connect and disconnect share: the container (reconciled, locked), whether it runs, and
 * the network's record. */
struct attach_op {
        struct eng_container *c;
        bool running;
        struct net_ctx n;
        json_t *doc;
        struct net_info ni;
        json_t *nets; /* the record's NetworkSettings.Networks */
};

static void op_close(struct attach_op *op)
{
        if (op->c)
                eng_container_unlock(op->c);
        eng_container_free(op->c);
        json_decref(op->doc);
        net_ctx_free(&op->n);
}

static int op_open(struct eng_ctx *e, const char *container, const char *network,
                   struct attach_op *op, berth_error_t *err)
{
        memset(op, 0, sizeof(*op));
        eng_net_ctx(e, &op->n);
        if (eng_container_find(e, container, &op->c, err) < 0) {
                if (*err)
                        (*err)->status = 1;
                return -1;
        }
        eng_reconcile(e, op->c, NULL);
        const char *st = eng_container_status(op->c);
        op->running = strcmp(st, "running") == 0 || strcmp(st, "paused") == 0;
        if (net_network_get(&op->n, network, &op->doc, err) < 0 ||
            eng_container_lock(op->c, err) < 0)
                return -1;
        net_network_info(op->doc, &op->ni);
        op->nets = json_object_get(json_object_get(op->c->doc, "NetworkSettings"), "Networks");
        return 0;
}

int eng_net_connect(struct eng_ctx *e, const char *network, const char *container, json_t *epcfg,
                    berth_error_t *err)
{
        struct attach_op op;
        int r = op_open(e, container, network, &op, err);
        json_t *hc = r == 0 ? json_object_get(op.c->doc, "HostConfig") : NULL;
        if (r < 0) {
                /* op_open said why */
        } else if (!eng_net_bridged(hc) || (op.ni.bridge == NULL && !op.ni.vlan)) {
                r = berth_fail_status(err, 1, EINVAL,
                                      "container cannot be disconnected from host network or "
                                      "connected to host network");
        } else if (e->rootless && !op.ni.dns) {
                r = berth_fail_status(err, 1, EINVAL,
                                      "network %s: rootless berth connects containers to "
                                      "user-defined networks only",
                                      op.ni.name);
        } else if (json_object_get(op.nets, op.ni.name)) {
                r = berth_fail_status(err, 1, EEXIST,
                                      "endpoint with name %s already exists in network %s",
                                      eng_container_name(op.c), op.ni.name);
        } else if (eng_links_connect(e, op.c, op.ni.dns, json_object_get(epcfg, "Links"), err) <
                   0) {
                r = -1;
        } else if (op.running) {
                struct net_sandbox_req req = {
                        .cid = op.c->id,
                        .name = eng_container_name(op.c),
                        .config = json_object_get(op.c->doc, "Config"),
                        .host_config = hc,
                };
                json_t *s = NULL;
                struct ns_call call = {.n = &op.n,
                                       .req = &req,
                                       .settings = &s,
                                       .network = op.ni.name,
                                       .epcfg = epcfg};
                r = net_rootless_run(&op.n, true, connect_fn, &call, err);
                if (r == 0)
                        json_object_set_new(op.nets, op.ni.name, s);
                /* a macvlan/ipvlan network's names: a resolver of its own now */
                if (r == 0 && op.ni.vlan && net_sandbox_has_resolver(&op.n, op.c->id))
                        r = resolv_own(op.c, err);
        } else {
                /* a stopped container joins at its next start */
                json_object_set_new(op.nets, op.ni.name, idle_endpoint(epcfg, op.ni.id));
        }
        if (r == 0)
                r = eng_container_save(op.c, err);
        /* the lines of its new links, in the running container's /etc/hosts */
        if (r == 0 && op.running && json_array_size(json_object_get(epcfg, "Links")) > 0)
                r = eng_links_update(e, op.c, err);
        if (r == 0)
                eng_event_endpoint(e, "connect", op.ni.id, op.ni.name, op.c->id);
        op_close(&op);
        return r;
}

int eng_net_disconnect(struct eng_ctx *e, const char *network, const char *container, bool force,
                       berth_error_t *err)
{
        struct attach_op op;
        int r = op_open(e, container, network, &op, err);
        if (r == 0 && json_object_get(op.nets, op.ni.name) == NULL)
                r = berth_fail_status(err, 1, 0, "container %s is not connected to network %s",
                                      op.c->id, network);
        if (r == 0 && op.running) {
                struct ns_call call = {.n = &op.n, .cid = op.c->id, .network = op.ni.name};
                int d = net_rootless_run(&op.n, false, disconnect_fn, &call, err);
                if (d < 0 && !force)
                        r = -1;
                else if (d < 0)
                        berth_error_release(err);
        }
        if (r == 0) {
                bool had_links = json_array_size(json_object_get(
                                         json_object_get(op.nets, op.ni.name), "Links")) > 0;
                json_object_del(op.nets, op.ni.name);
                r = eng_container_save(op.c, err);
                /* the lines of that network's links go with it */
                if (r == 0 && op.running && had_links)
                        r = eng_links_update(e, op.c, err);
        }
        if (r == 0)
                eng_event_endpoint(e, "disconnect", op.ni.id, op.ni.name, op.c->id);
        if (r == 0 && op.running)
                net_rootless_cleanup_if_idle(&op.n);
        op_close(&op);
        return r;
}
