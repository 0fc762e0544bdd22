/* ports.c — published ports: host port choice, reservation files and DNAT entries (ports.h). */
#include "net/ports.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "net/firewall.h"
#include "net/proxy.h"

struct binding {
        char proto[8];
        char host_ip[INET6_ADDRSTRLEN];
        unsigned lo, hi; /* host port range; lo == hi == 0: any ephemeral port */
        unsigned ctr_port;
};

static char *ports_dir(struct net_ctx *n)
{
        return berth_path_join(n->run_dir, "ports");
}

static char *reservation_path(struct net_ctx *n, const char *proto, const char *ip, unsigned port)
{
        cleanup_free char *dir = ports_dir(n);
        return berth_xasprintf("%s/%s-%s-%u", dir, proto, ip, port);
}

/* Would a process on the host be refused this port?  (Our DNAT would hide it from the outside
 * but not from the host's own clients: refuse, as Docker's proxy would fail to bind.) */
bool net_host_port_busy(const char *proto, const char *ip, unsigned port)
{
        int type = strcmp(proto, "udp") == 0 ? SOCK_DGRAM : SOCK_STREAM;
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t) port)};
        struct sockaddr_in6 sa6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t) port)};
        bool v6 = inet_pton(AF_INET6, ip, &sa6.sin6_addr) == 1;
        if (!v6 && inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
                return 0;
        int fd = socket(v6 ? AF_INET6 : AF_INET, type | SOCK_CLOEXEC,
                        strcmp(proto, "sctp") == 0 ? IPPROTO_SCTP : 0);
        if (fd < 0)
                return 0; /* can't tell (sctp not built in): let the DNAT decide */
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (v6)
                setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        /* listen too: with SO_REUSEADDR on both sides, bind alone succeeds beside a listener */
        int r = v6 ? bind(fd, (struct sockaddr *) &sa6, sizeof(sa6))
                   : bind(fd, (struct sockaddr *) &sa, sizeof(sa));
        if (r == 0 && type == SOCK_STREAM)
                r = listen(fd, 1);
        int e = errno;
        close(fd);
        return r < 0 && e == EADDRINUSE;
}

/* Is the container holding a reservation still there?  Its namespace file says so. */
static bool owner_alive(struct net_ctx *n, const char *path)
{
        cleanup_free char *text = NULL;
        if (berth_read_file(path, &text, NULL, NULL) < 0)
                return false;
        json_t *j = json_loads(text, 0, NULL);
        const char *cid = json_string_value(json_object_get(j, "Container"));
        bool alive = false;
        if (cid) {
                cleanup_free char *ns = berth_xasprintf("%s/ns/%s", n->run_dir, cid);
                alive = access(ns, F_OK) == 0;
        }
        json_decref(j);
        return alive;
}

/* Take one host port: 1 when taken, 0 when busy (by berth or the host), -1 on error. */
static int reserve(struct net_ctx *n, const char *cid, const struct binding *b, unsigned port,
                   const char *ctr_ip, bool *by_berth, berth_error_t *err)
{
        cleanup_free char *path = reservation_path(n, b->proto, b->host_ip, port);
        for (int attempt = 0; attempt < 2; attempt++) {
                int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
                if (fd >= 0) {
                        json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:s, s:i}", "Container", cid,
                                              "Proto", b->proto, "HostIp", b->host_ip, "HostPort",
                                              (json_int_t) port, "CtrIp", ctr_ip, "CtrPort",
                                              (json_int_t) b->ctr_port);
                        cleanup_free char *text = json_dumps(j, JSON_COMPACT);
                        json_decref(j);
                        int w = berth_write_all(fd, text, strlen(text));
                        close(fd);
                        if (w < 0) {
                                unlink(path);
                                return berth_fail(err, errno, "write %s", path);
                        }
                        if (net_host_port_busy(b->proto, b->host_ip, port)) {
                                unlink(path);
                                *by_berth = false;
                                return 0;
                        }
                        return 1;
                }
                if (errno != EEXIST)
                        return berth_fail(err, errno, "create %s", path);
                /* a reservation left by a container that is gone (kill -9): take it over */
                if (owner_alive(n, path)) {
                        *by_berth = true;
                        return 0;
                }
                unlink(path);
        }
        *by_berth = true;
        return 0;
}

static void ephemeral_range(unsigned *lo, unsigned *hi)
{
        *lo = 49153;
        *hi = 60999;
        cleanup_free char *t = NULL;
        unsigned a, b;
        if (berth_read_file("/proc/sys/net/ipv4/ip_local_port_range", &t, NULL, NULL) == 0 &&
            sscanf(t, "%u %u", &a, &b) == 2 && a > 0 && a <= b && b < 65536) {
                *lo = a;
                *hi = b;
        }
}

/* The rootful backend: a reservation file and a DNAT entry. */
struct dnat_ctx {
        struct net_ctx *n;
        const char *cid;
};

/* [::1]: no DNAT can serve it (proxy.h); a relay, its pid added to the reservation. */
static int take_relay(struct dnat_ctx *d, const struct binding *b, const struct net_port_fwd *f,
                      bool *by_berth, berth_error_t *err)
{
        cleanup_free char *path = reservation_path(d->n, b->proto, b->host_ip, f->host_port);
        pid_t pid = 0;
        bool busy = false;
        if (net_proxy_start(b->host_ip, f->host_port, f->ctr_ip, f->ctr_port, &pid, &busy, err) <
                    0 ||
            busy) {
                unlink(path);
                *by_berth = false;
                return busy ? 0 : -1;
        }
        json_t *j = berth_json_load_file(path, NULL);
        if (j == NULL)
                j = json_object();
        json_object_set_new(j, "ProxyPid", json_integer(pid));
        cleanup_free char *text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        if (text == NULL || berth_write_file_replace(path, text, strlen(text), 0644, err) < 0) {
                net_proxy_stop(pid);
                unlink(path);
                return text ? -1 : berth_fail(err, ENOMEM, "serialize %s", path);
        }
        return 1;
}

static int take_dnat(void *ctx, const struct net_port_fwd *f, bool *by_berth, berth_error_t *err)
{
        struct dnat_ctx *d = ctx;
        struct binding b = {.ctr_port = f->ctr_port};
        snprintf(b.proto, sizeof(b.proto), "%s", f->proto);
        snprintf(b.host_ip, sizeof(b.host_ip), "%s", f->host_ip);
        bool relay = net_proxy_needed(b.host_ip);
        if (relay && strcmp(b.proto, "tcp") != 0)
                return berth_fail_status(err, 125, EAFNOSUPPORT,
                                         "publishing %s on [%s]: the IPv6 loopback address takes "
                                         "tcp ports only",
                                         b.proto, b.host_ip);
        int r = reserve(d->n, d->cid, &b, f->host_port, f->ctr_ip, by_berth, err);
        if (r <= 0)
                return r;
        if (relay)
                return take_relay(d, &b, f, by_berth, err);
        struct net_fw_port fp = {.proto = b.proto,
                                 .host_ip = b.host_ip,
                                 .host_port = f->host_port,
                                 .ctr_ip = f->ctr_ip,
                                 .ctr_port = b.ctr_port};
        if (net_fw_port_add(&fp, err) < 0) {
                cleanup_free char *path = reservation_path(d->n, b.proto, b.host_ip, f->host_port);
                unlink(path);
                return -1;
        }
        return 1;
}

int net_ports_take_dnat(struct net_ctx *n, const char *cid, const struct net_port_fwd *f,
                        bool *by_berth, berth_error_t *err)
{
        cleanup_free char *dir = ports_dir(n);
        if (berth_mkdir_p(dir, 0755, err) < 0)
                return -1;
        struct dnat_ctx d = {.n = n, .cid = cid};
        return take_dnat(&d, f, by_berth, err);
}

static void unpublish_cb(const char *path, json_t *j, void *ctx);

void net_ports_drop_one(struct net_ctx *n, const char *cid, const char *proto, const char *host_ip,
                        unsigned host_port)
{
        cleanup_free char *path = reservation_path(n, proto, host_ip, host_port);
        json_t *j = berth_json_load_file(path, NULL);
        if (j)
                unpublish_cb(path, j, &cid);
        json_decref(j);
}

static int publish_one(const struct net_port_backend *be, const char *cid, const char *ep_name,
                       const char *ctr_ip, const struct binding *b, unsigned *got,
                       berth_error_t *err)
{
        unsigned lo = b->lo, hi = b->hi;
        bool any = lo == 0;
        if (any)
                ephemeral_range(&lo, &hi);
        unsigned span = hi - lo + 1, start = 0;
        if (span > 1) {
                unsigned r = 0;
                if (getrandom(&r, sizeof(r), 0) != (ssize_t) sizeof(r))
                        r = (unsigned) getpid();
                start = r % span;
        }
        bool by_berth = false;
        for (unsigned i = 0; i < span; i++) {
                unsigned port = lo + (start + i) % span;
                struct net_port_fwd f = {.proto = b->proto,
                                         .host_ip = b->host_ip,
                                         .host_port = port,
                                         .ctr_ip = ctr_ip,
                                         .ctr_port = b->ctr_port};
                int r = be->take(be->ctx, &f, &by_berth, err);
                if (r < 0)
                        return -1;
                if (r == 0)
                        continue;
                *got = port;
                return 0;
        }
        /* Docker's words for both cases (exit status 125 for run/start) */
        char what[64];
        if (b->lo == b->hi)
                snprintf(what, sizeof(what), "%s:%u", b->host_ip, b->lo);
        else
                snprintf(what, sizeof(what), "%s:%u-%u", b->host_ip, lo, hi);
        if (by_berth || span > 1)
                return berth_fail_status(err, 125, 0,
                                         "driver failed programming external connectivity on "
                                         "endpoint %s (%.12s): Bind for %s failed: port is "
                                         "already allocated",
                                         ep_name, cid, what);
        /* Go's words for the listener: "tcp6 [::1]:80" */
        bool v6 = strchr(b->host_ip, ':') != NULL;
        char where[64];
        snprintf(where, sizeof(where), "%s%s%s:%u", v6 ? "[" : "", b->host_ip, v6 ? "]" : "",
                 b->lo);
        return berth_fail_status(err, 125, 0,
                                 "driver failed programming external connectivity on endpoint "
                                 "%s (%.12s): Error starting userland proxy: listen %s%c %s: bind: "
                                 "address already in use",
                                 ep_name, cid, b->proto, v6 ? '6' : '4',
                                 b->lo == b->hi ? where : what);
}

/* "80/tcp" → port and protocol. */
static int parse_key(const char *key, struct binding *b)
{
        char proto[8] = "tcp";
        unsigned p;
        if (sscanf(key, "%u/%7s", &p, proto) < 1 || p == 0 || p > 65535)
                return -1;
        b->ctr_port = p;
        snprintf(b->proto, sizeof(b->proto), "%s", proto);
        return 0;
}

static int parse_binding(const char *key, json_t *hb, struct binding *b, berth_error_t *err)
{
        memset(b, 0, sizeof(*b));
        if (parse_key(key, b) < 0)
                return berth_fail_status(err, 125, EINVAL, "invalid port specification: %s", key);
        const char *ip = json_string_value(json_object_get(hb, "HostIp"));
        const char *hp = json_string_value(json_object_get(hb, "HostPort"));
        struct in6_addr a;
        if (ip == NULL || *ip == '\0')
                ip = "0.0.0.0";
        if (inet_pton(AF_INET, ip, &a) != 1 && inet_pton(AF_INET6, ip, &a) != 1)
                return berth_fail_status(err, 125, EINVAL, "invalid IP address: %s", ip);
        snprintf(b->host_ip, sizeof(b->host_ip), "%s", ip);
        if (hp && *hp) {
                unsigned lo, hi;
                int k = sscanf(hp, "%u-%u", &lo, &hi);
                if (k == 1)
                        hi = lo;
                if (k < 1 || lo == 0 || hi < lo || hi > 65535)
                        return berth_fail_status(err, 125, EINVAL, "invalid hostPort: %s", hp);
                b->lo = lo;
                b->hi = hi;
        }
        return 0;
}

/* An IPv6 host address needs the container's IPv6 address (a network made with --ipv6). */
static const char *target_of(const struct binding *b, const char *ctr_ip, const char *ctr_ip6,
                             berth_error_t *err)
{
        if (strchr(b->host_ip, ':') == NULL)
                return ctr_ip;
        /* the relay of [::1] reaches an IPv4-only container too, as Docker's proxy does */
        if (net_proxy_needed(b->host_ip) && (ctr_ip6 == NULL || *ctr_ip6 == '\0'))
                return ctr_ip;
        if (ctr_ip6 == NULL || *ctr_ip6 == '\0')
                berth_fail_status(err, 125, EAFNOSUPPORT,
                                  "publishing on [%s]:%u: the container has no IPv6 address "
                                  "(its network was not created with --ipv6)",
                                  b->host_ip, b->lo);
        return ctr_ip6 && *ctr_ip6 ? ctr_ip6 : NULL;
}

/* Docker's dual stack: a binding without a host address is published on 0.0.0.0 and, when the
 * container has an IPv6 address, on :: with the same port. */
static int publish_binding(const struct net_port_backend *be, const char *cid, const char *ep_name,
                           const char *ctr_ip, const char *ctr_ip6, const char *key, json_t *hb,
                           json_t *list, berth_error_t *err)
{
        struct binding b;
        unsigned got = 0;
        if (parse_binding(key, hb, &b, err) < 0)
                return -1;
        const char *target = target_of(&b, ctr_ip, ctr_ip6, err);
        if (target == NULL || publish_one(be, cid, ep_name, target, &b, &got, err) < 0)
                return -1;
        char hp[8];
        snprintf(hp, sizeof(hp), "%u", got);
        json_array_append_new(list, json_pack("{s:s, s:s}", "HostIp", b.host_ip, "HostPort", hp));
        const char *asked = json_string_value(json_object_get(hb, "HostIp"));
        if ((asked && *asked) || ctr_ip6 == NULL || *ctr_ip6 == '\0')
                return 0;
        snprintf(b.host_ip, sizeof(b.host_ip), "::");
        b.lo = b.hi = got;
        if (publish_one(be, cid, ep_name, ctr_ip6, &b, &got, err) < 0)
                return -1;
        json_array_append_new(list, json_pack("{s:s, s:s}", "HostIp", "::", "HostPort", hp));
        return 0;
}

int net_ports_publish(struct net_ctx *n, const char *cid, const char *ep_name, const char *ctr_ip,
                      const char *ctr_ip6, json_t *config, json_t *host_config, json_t **ports,
                      berth_error_t *err)
{
        cleanup_free char *dir = ports_dir(n);
        if (berth_mkdir_p(dir, 0755, err) < 0)
                return -1;
        struct dnat_ctx d = {.n = n, .cid = cid};
        struct net_port_backend be = {.take = take_dnat, .ctx = &d};
        return net_ports_publish_via(n, &be, cid, ep_name, ctr_ip, ctr_ip6, config, host_config,
                                     ports, err);
}

int net_ports_publish_via(struct net_ctx *n, const struct net_port_backend *be, const char *cid,
                          const char *ep_name, const char *ctr_ip, const char *ctr_ip6,
                          json_t *config, json_t *host_config, json_t **ports, berth_error_t *err)
{
        json_t *out = json_object();
        json_t *bindings = json_object_get(host_config, "PortBindings");
        json_t *exposed = json_object_get(config, "ExposedPorts");
        bool all = json_is_true(json_object_get(host_config, "PublishAllPorts"));
        int r = 0;
        const char *key;
        json_t *v;
        json_object_foreach(exposed, key, v)
        {
                json_object_set_new(out, key, json_null());
        }
        /* the user's bindings, then -P's random ones for exposed ports without any */
        json_t *todo = json_deep_copy(json_is_object(bindings) ? bindings : NULL);
        if (todo == NULL)
                todo = json_object();
        if (all)
                json_object_foreach(exposed, key, v)
                {
                        json_t *l = json_object_get(todo, key);
                        if (json_array_size(l) == 0)
                                json_object_set_new(
                                        todo, key,
                                        json_pack("[{s:s, s:s}]", "HostIp", "", "HostPort", ""));
                }
        json_object_foreach(todo, key, v)
        {
                if (r < 0)
                        break;
                json_t *list = json_array();
                size_t i;
                json_t *hb;
                json_array_foreach(v, i, hb)
                {
                        r = publish_binding(be, cid, ep_name, ctr_ip, ctr_ip6, key, hb, list, err);
                        if (r < 0)
                                break;
                }
                json_object_set_new(out, key, list);
        }
        json_decref(todo);
        if (r < 0) {
                berth_error_t ignored = NULL;
                net_ports_unpublish(n, cid, &ignored);
                berth_error_release(&ignored);
                json_decref(out);
                return -1;
        }
        *ports = out;
        return 0;
}

int net_ports_each_record(const char *dir, void (*fn)(const char *path, json_t *j, void *ctx),
                          void *ctx, berth_error_t *err)
{
        cleanup_dir DIR *d = opendir(dir);
        if (d == NULL)
                return errno == ENOENT ? 0 : berth_fail(err, errno, "open %s", dir);
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
                if (de->d_name[0] == '.')
                        continue;
                cleanup_free char *path = berth_path_join(dir, de->d_name);
                cleanup_free char *text = NULL;
                if (berth_read_file(path, &text, NULL, NULL) < 0)
                        continue;
                json_t *j = json_loads(text, 0, NULL);
                if (j == NULL) {
                        unlink(path); /* torn by a kill -9 between create and write */
                        continue;
                }
                fn(path, j, ctx);
                json_decref(j);
        }
        return 0;
}

static void unpublish_cb(const char *path, json_t *j, void *ctx)
{
        const char *cid = *(const char **) ctx;
        if (strcmp(json_string_value(json_object_get(j, "Container")) ?: "", cid) != 0)
                return;
        struct net_fw_port fp = {
                .proto = json_string_value(json_object_get(j, "Proto")),
                .host_ip = json_string_value(json_object_get(j, "HostIp")),
                .host_port = (unsigned) json_integer_value(json_object_get(j, "HostPort")),
                .ctr_ip = json_string_value(json_object_get(j, "CtrIp")),
                .ctr_port = (unsigned) json_integer_value(json_object_get(j, "CtrPort")),
        };
        berth_error_t e = NULL;
        json_t *relay = json_object_get(j, "ProxyPid");
        if (relay)
                net_proxy_stop((pid_t) json_integer_value(relay));
        else if (fp.proto && fp.host_ip && fp.ctr_ip && net_fw_port_del(&fp, &e) < 0) {
                log_warn("%s", berth_error_msg(e));
                berth_error_release(&e);
        }
        unlink(path);
}

int net_ports_unpublish(struct net_ctx *n, const char *cid, berth_error_t *err)
{
        cleanup_free char *dir = ports_dir(n);
        return net_ports_each_record(dir, unpublish_cb, &cid, err);
}

static void owners_cb(const char *path, json_t *j, void *ctx)
{
        const char *cid = json_string_value(json_object_get(j, "Container"));
        if (cid)
                json_object_set_new(ctx, cid, json_true());
}

int net_ports_owners(struct net_ctx *n, json_t *owners, berth_error_t *err)
{
        cleanup_free char *dir = ports_dir(n);
        return net_ports_each_record(dir, owners_cb, owners, err);
}
