/* network.c — network records (see network.h): create, find, list, remove, prune.  Nothing
 * here touches the kernel except net_bridge_down on removal; a network's bridge is made when
 * its first container attaches. */
#include "net/network.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/eventlog.h"
#include "common/log.h"
#include "common/units.h"
#include "common/util.h"
#include "net/macvlan.h"
#include "net/rootless.h"
#include "net/sandbox.h"

#define OPT_BRIDGE_NAME "com.docker.network.bridge.name"
#define OPT_DEFAULT     "com.docker.network.bridge.default_bridge"
#define OPT_MTU         "com.docker.network.driver.mtu"

/* Stable ids for the synthetic host and none networks: sha256 of the name. */
#define HOST_ID "4740ae6347b0172c01254ff55bae5aff5199f4446e7f6d643d40185b3f475145"
#define NONE_ID "140bedbf9c3f6d56a9846d2ba7088798683f4da0c248231336e6a05679e4fdfe"

int net_ctx_init(struct net_ctx *n, const struct berth_paths *p, berth_error_t *err)
{
        if (p == NULL || p->data_dir == NULL || p->run_dir == NULL)
                return berth_fail(err, EINVAL, "network state directories are not set");
        n->data_dir = berth_path_join(p->data_dir, "networks");
        n->run_dir = berth_path_join(p->run_dir, "net");
        n->rootless = p->rootless;
        return 0;
}

void net_ctx_free(struct net_ctx *n)
{
        free(n->data_dir);
        free(n->run_dir);
        n->data_dir = n->run_dir = NULL;
}

char *net_network_run_dir(struct net_ctx *n, const char *id)
{
        return berth_path_join(n->run_dir, id);
}

json_t *net_live_networks(struct net_ctx *n)
{
        json_t *ids = json_array();
        cleanup_dir DIR *d = opendir(n->run_dir);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL)
                if (strlen(de->d_name) == 64 && strspn(de->d_name, "0123456789abcdef") == 64)
                        json_array_append_new(ids, json_string(de->d_name));
        return ids;
}

bool net_network_predefined(const char *name)
{
        return name && (strcmp(name, NET_DEFAULT_NAME) == 0 || strcmp(name, "host") == 0 ||
                        strcmp(name, "none") == 0 || strcmp(name, "default") == 0);
}

static const char *str_of(json_t *o, const char *key)
{
        return json_string_value(json_object_get(o, key));
}

/* ---- records on disk ---- */

static bool is_id(const char *s)
{
        return s && strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* Creation and removal, one at a time; returns the fd holding the lock. */
static int lock_networks(struct net_ctx *n, berth_error_t *err)
{
        if (berth_mkdir_p(n->data_dir, 0700, err) < 0)
                return -1;
        cleanup_free char *path = berth_path_join(n->data_dir, "lock");
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return berth_fail(err, errno, "open `%s`", path);
        while (flock(fd, LOCK_EX) < 0) {
                if (errno != EINTR) {
                        int e = errno;
                        close(fd);
                        return berth_fail(err, e, "lock `%s`", path);
                }
        }
        return fd;
}

static const char *name_of(json_t *doc)
{
        const char *s = json_string_value(json_object_get(doc, "Name"));
        return s ? s : "";
}

/* Sorted by name (a handful of networks: insertion is enough); consumes arr. */
static json_t *sorted_by_name(json_t *arr)
{
        json_t *out = json_array();
        size_t i;
        json_t *d;
        json_array_foreach(arr, i, d)
        {
                size_t at = json_array_size(out);
                while (at > 0 && strcmp(name_of(json_array_get(out, at - 1)), name_of(d)) > 0)
                        at--;
                json_array_insert(out, at, d);
        }
        json_decref(arr);
        return out;
}

/* The records of <data_dir>/networks (not host and none); unreadable ones are skipped. */
static json_t *load_records(struct net_ctx *n)
{
        json_t *arr = json_array();
        cleanup_dir DIR *d = opendir(n->data_dir);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
                size_t l = strlen(de->d_name);
                if (l != 64 + 5 || strcmp(de->d_name + 64, ".json") != 0)
                        continue;
                cleanup_free char *path = berth_path_join(n->data_dir, de->d_name);
                json_t *j = berth_json_load_file(path, NULL);
                if (j == NULL || !json_is_object(j) || !is_id(str_of(j, "Id"))) {
                        log_warn("skipping unreadable network record `%s`", path);
                        json_decref(j);
                        continue;
                }
                json_array_append_new(arr, j);
        }
        return arr;
}

static int write_record(struct net_ctx *n, json_t *doc, berth_error_t *err)
{
        if (berth_mkdir_p(n->data_dir, 0700, err) < 0)
                return -1;
        cleanup_free char *file = berth_xasprintf("%s.json", str_of(doc, "Id"));
        cleanup_free char *path = berth_path_join(n->data_dir, file);
        cleanup_free char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text == NULL)
                return berth_fail(err, ENOMEM, "encode network record");
        return berth_write_file_atomic(path, text, strlen(text), 0600, err);
}

static json_t *by_name(json_t *arr, const char *name)
{
        size_t i;
        json_t *d;
        json_array_foreach(arr, i, d)
        {
                const char *nm = str_of(d, "Name");
                if (nm && strcmp(nm, name) == 0)
                        return d;
        }
        return NULL;
}

/* ---- times, ids, host routes ---- */

/* Go's time.Now().Format(RFC3339Nano): local time, trailing zeros of the fraction trimmed. */
static char *now_rfc3339_local(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        struct tm tm;
        localtime_r(&ts.tv_sec, &tm);
        char date[40], frac[16], zone[8];
        strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(frac, sizeof(frac), ".%09ld", ts.tv_nsec);
        size_t l = strlen(frac);
        while (l > 1 && frac[l - 1] == '0')
                frac[--l] = '\0';
        if (l == 1)
                frac[0] = '\0';
        long off = tm.tm_gmtoff;
        if (off == 0)
                snprintf(zone, sizeof(zone), "Z");
        else
                snprintf(zone, sizeof(zone), "%c%02ld:%02ld", off < 0 ? '-' : '+',
                         labs(off) / 3600 % 100, labs(off) / 60 % 60);
        return berth_xasprintf("%s%s%s", date, frac, zone);
}

static int random_hex(char *out, size_t nbytes, berth_error_t *err)
{
        unsigned char b[32];
        if (nbytes > sizeof(b))
                return berth_fail(err, EINVAL, "random id too long");
        if (getrandom(b, nbytes, 0) != (ssize_t) nbytes)
                return berth_fail(err, errno, "getrandom");
        for (size_t i = 0; i < nbytes; i++)
                snprintf(out + 2 * i, 3, "%02x", b[i]);
        return 0;
}

static void routes_v4(json_t *taken, const char *skip_dev)
{
        cleanup_file FILE *f = fopen("/proc/net/route", "re");
        char line[512];
        if (f == NULL || fgets(line, sizeof(line), f) == NULL) /* the header */
                return;
        while (fgets(line, sizeof(line), f)) {
                char dev[64];
                unsigned long dst, gw, flags, ref, use, metric, mask;
                if (sscanf(line, "%63s %lx %lx %lx %lu %lu %lu %lx", dev, &dst, &gw, &flags, &ref,
                           &use, &metric, &mask) != 8)
                        continue;
                if (!(flags & 1) || (skip_dev && strcmp(dev, skip_dev) == 0))
                        continue;
                /* the kernel prints the network-order words as host integers */
                struct in_addr a = {.s_addr = (uint32_t) dst};
                unsigned plen = (unsigned) __builtin_popcount((unsigned) mask);
                char buf[INET_ADDRSTRLEN];
                if (plen == 0 || inet_ntop(AF_INET, &a, buf, sizeof(buf)) == NULL)
                        continue; /* the default route overlaps everything: Docker ignores it */
                json_array_append_new(taken, json_sprintf("%s/%u", buf, plen));
        }
}

static void routes_v6(json_t *taken, const char *skip_dev)
{
        cleanup_file FILE *f = fopen("/proc/net/ipv6_route", "re");
        char line[512];
        while (f && fgets(line, sizeof(line), f)) {
                char hex[33], dev[64];
                unsigned plen;
                if (sscanf(line, "%32s %x %*s %*s %*s %*s %*s %*s %*s %63s", hex, &plen, dev) !=
                            3 ||
                    strlen(hex) != 32)
                        continue;
                if (plen == 0 || strcmp(dev, "lo") == 0 || (skip_dev && strcmp(dev, skip_dev) == 0))
                        continue;
                struct in6_addr a;
                for (int i = 0; i < 16; i++) {
                        char byte[3] = {hex[2 * i], hex[2 * i + 1], '\0'};
                        a.s6_addr[i] = (unsigned char) strtoul(byte, NULL, 16);
                }
                /* link-local and multicast routes are on every link */
                if ((a.s6_addr[0] == 0xfe && (a.s6_addr[1] & 0xc0) == 0x80) || a.s6_addr[0] == 0xff)
                        continue;
                char buf[INET6_ADDRSTRLEN];
                if (inet_ntop(AF_INET6, &a, buf, sizeof(buf)))
                        json_array_append_new(taken, json_sprintf("%s/%u", buf, plen));
        }
}

/* Subnets of the records (both families), plus the host's routes when routes_too. */
static json_t *taken_subnets(json_t *recs, bool routes_too, const char *skip_dev)
{
        json_t *taken = json_array();
        size_t i, k;
        json_t *d, *c;
        json_array_foreach(recs, i, d)
        {
                json_array_foreach(json_object_get(json_object_get(d, "IPAM"), "Config"), k, c)
                {
                        if (str_of(c, "Subnet"))
                                json_array_append(taken, json_object_get(c, "Subnet"));
                }
        }
        if (routes_too) {
                routes_v4(taken, skip_dev);
                routes_v6(taken, skip_dev);
        }
        return taken;
}

static bool overlaps_any(const char *subnet, json_t *taken)
{
        size_t i;
        json_t *t;
        json_array_foreach(taken, i, t)
        {
                if (net_cidr_overlap(subnet, json_string_value(t)) == 1)
                        return true;
        }
        return false;
}

/* The first host address of subnet: the gateway Docker picks. */
static int first_host(const char *subnet, char out[INET6_ADDRSTRLEN], berth_error_t *err)
{
        json_t *none = json_array();
        int r = net_ipam_pick(subnet, NULL, NULL, none, NULL, out, err);
        json_decref(none);
        return r;
}

/* ---- the predefined networks ---- */

static json_t *record_new(const char *name, const char *id, const char *created, const char *driver,
                          bool ipv6, json_t *ipam_opts, json_t *config, bool internal,
                          bool attachable, json_t *options, json_t *labels)
{
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:{s:s, s:o, s:o}, s:b, s:b, s:b, "
                         "s:{s:s}, s:b, s:{}, s:o, s:o}",
                         "Name", name, "Id", id, "Created", created, "Scope", "local", "Driver",
                         driver, "EnableIPv6", ipv6, "IPAM", "Driver", "default", "Options",
                         ipam_opts, "Config", config, "Internal", internal, "Attachable",
                         attachable, "Ingress", false, "ConfigFrom", "Network", "", "ConfigOnly",
                         false, "Containers", "Options", options, "Labels", labels);
}

/* `bridge`, with the first free pool; the caller holds the lock and passes the records. */
static int make_default_locked(struct net_ctx *n, json_t *recs, berth_error_t *err)
{
        if (by_name(recs, NET_DEFAULT_NAME))
                return 0;
        char subnet[32], gw[INET6_ADDRSTRLEN], id[65];
        json_t *taken = taken_subnets(recs, true, NET_DEFAULT_BRIDGE);
        int r = net_subnet_pick(taken, subnet, err);
        json_decref(taken);
        if (r < 0 || first_host(subnet, gw, err) < 0 || random_hex(id, 32, err) < 0)
                return berth_wrap(err, "create the default network");
        json_t *opts = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", OPT_DEFAULT, "true",
                                 "com.docker.network.bridge.enable_icc", "true",
                                 "com.docker.network.bridge.enable_ip_masquerade", "true",
                                 "com.docker.network.bridge.host_binding_ipv4", "0.0.0.0",
                                 OPT_BRIDGE_NAME, NET_DEFAULT_BRIDGE, OPT_MTU, "1500");
        cleanup_free char *now = now_rfc3339_local();
        json_t *doc = record_new(NET_DEFAULT_NAME, id, now, "bridge", false, json_null(),
                                 json_pack("[{s:s, s:s}]", "Subnet", subnet, "Gateway", gw), false,
                                 false, opts, json_object());
        if (write_record(n, doc, err) < 0) {
                json_decref(doc);
                return berth_wrap(err, "create the default network");
        }
        json_array_append_new(recs, doc);
        return 0;
}

/* The records, `bridge` made first when missing. */
static int records(struct net_ctx *n, json_t **out, berth_error_t *err)
{
        json_t *recs = load_records(n);
        if (by_name(recs, NET_DEFAULT_NAME) == NULL) {
                json_decref(recs);
                cleanup_close int lock = lock_networks(n, err);
                if (lock < 0)
                        return -1;
                recs = load_records(n); /* someone may have made it meanwhile */
                if (make_default_locked(n, recs, err) < 0) {
                        json_decref(recs);
                        return -1;
                }
        }
        *out = recs;
        return 0;
}

/* Every network: the records plus host and none, which Docker lists with the daemon's start
 * time; here that of `bridge`. */
static json_t *with_builtins(json_t *recs)
{
        json_t *br = by_name(recs, NET_DEFAULT_NAME);
        const char *created = br ? str_of(br, "Created") : NULL;
        cleanup_free char *now = created ? NULL : now_rfc3339_local();
        const char *when = created ? created : now;
        json_t *all = json_array();
        json_array_extend(all, recs);
        json_array_append_new(all,
                              record_new("host", HOST_ID, when, "host", false, json_null(),
                                         json_array(), false, false, json_object(), json_object()));
        json_array_append_new(all,
                              record_new("none", NONE_ID, when, "null", false, json_null(),
                                         json_array(), false, false, json_object(), json_object()));
        return all;
}

/* Docker's order: full id, then name, then a unique id prefix. */
static int find(json_t *all, const char *term, json_t **doc, berth_error_t *err)
{
        size_t i, nprefix = 0;
        json_t *d, *prefix = NULL;
        if (term == NULL || *term == '\0')
                return berth_fail_status(err, 1, 0, "network %s not found", term ? term : "");
        json_array_foreach(all, i, d)
        {
                if (strcmp(str_of(d, "Id"), term) == 0) {
                        *doc = json_incref(d);
                        return 0;
                }
        }
        if ((d = by_name(all, term)) != NULL) {
                *doc = json_incref(d);
                return 0;
        }
        size_t tl = strlen(term);
        json_array_foreach(all, i, d)
        {
                if (strncmp(str_of(d, "Id"), term, tl) == 0) {
                        prefix = d;
                        nprefix++;
                }
        }
        if (nprefix > 1)
                return berth_fail_status(err, 1, 0,
                                         "network %s is ambiguous (%zu matches found based on ID "
                                         "prefix)",
                                         term, nprefix);
        if (prefix == NULL)
                return berth_fail_status(err, 1, 0, "network %s not found", term);
        *doc = json_incref(prefix);
        return 0;
}

int net_network_get(struct net_ctx *n, const char *name_or_id, json_t **doc, berth_error_t *err)
{
        json_t *recs;
        if (records(n, &recs, err) < 0)
                return -1;
        json_t *all = with_builtins(recs);
        json_decref(recs);
        int r = find(all, name_or_id, doc, err);
        json_decref(all);
        return r;
}

int net_network_list(struct net_ctx *n, json_t **arr, berth_error_t *err)
{
        json_t *recs;
        if (records(n, &recs, err) < 0)
                return -1;
        /* rootless: a killed slirp4netns of the user networks is noticed and replaced here */
        net_rootless_repair(n);
        *arr = sorted_by_name(with_builtins(recs));
        json_decref(recs);
        return 0;
}

/* ---- create ---- */

/* Docker's rule for names: [a-zA-Z0-9][a-zA-Z0-9_.-]* */
static bool name_valid(const char *name)
{
        if (name == NULL || !isalnum((unsigned char) name[0]))
                return false;
        for (const char *p = name + 1; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr("_.-", *p))
                        return false;
        return true;
}

static bool ifname_valid(const char *s)
{
        size_t l = s ? strlen(s) : 0;
        if (l == 0 || l > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
                return false;
        for (const char *p = s; *p; p++)
                if (*p == '/' || *p == ':' || !isgraph((unsigned char) *p))
                        return false;
        return true;
}

static bool is_v4(const char *s)
{
        return s && strchr(s, ':') == NULL;
}

/* The CIDR is valid and is its own network address: "10.1.0.0/16", not "10.1.2.3/16". */
static int check_cidr(const char *s, bool v6, berth_error_t *err)
{
        if (net_cidr_overlap(s, s) != 1 || is_v4(s) == v6)
                return berth_fail_status(err, 1, 0, "Invalid subnet %s : invalid CIDR address: %s",
                                         s, s); /* dockerd's words */
        /* the network address: the prefix with the host part cleared */
        const char *slash = strchr(s, '/');
        unsigned char a[16], b[16];
        int fam = v6 ? AF_INET6 : AF_INET;
        char addr[INET6_ADDRSTRLEN];
        snprintf(addr, sizeof(addr), "%.*s", (int) (slash - s), s);
        inet_pton(fam, addr, a);
        memcpy(b, a, sizeof(b));
        unsigned plen = (unsigned) atoi(slash + 1), bytes = v6 ? 16 : 4;
        for (unsigned i = 0; i < bytes; i++) {
                unsigned keep = plen >= 8 * (i + 1) ? 8 : plen > 8 * i ? plen - 8 * i : 0;
                b[i] &= (unsigned char) (0xff00 >> keep);
        }
        if (memcmp(a, b, bytes) != 0) {
                char canon[INET6_ADDRSTRLEN];
                inet_ntop(fam, b, canon, sizeof(canon));
                return berth_fail_status(err, 1, 0, "invalid subnet %s: it should be %s/%u", s,
                                         canon, plen);
        }
        return 0;
}

/* An address of subnet: "10.1.0.1" (or "10.1.0.1/16") inside "10.1.0.0/16". */
static bool addr_in(const char *addr, const char *subnet)
{
        char buf[64];
        snprintf(buf, sizeof(buf), "%s", addr);
        char *slash = strchr(buf, '/');
        if (slash)
                *slash = '\0';
        cleanup_free char *host = berth_xasprintf("%s/%u", buf, is_v4(buf) ? 32 : 128);
        return net_cidr_overlap(host, subnet) == 1;
}

/* A gateway: the one given (checked) or the subnet's first host address. */
static int gateway_of(const char *subnet, const char *given, char out[INET6_ADDRSTRLEN],
                      berth_error_t *err)
{
        if (given == NULL)
                return first_host(subnet, out, err);
        if (strchr(given, '/') || !addr_in(given, subnet))
                return berth_fail_status(err, 1, 0, "no matching subnet for gateway %s", given);
        snprintf(out, INET6_ADDRSTRLEN, "%s", given);
        return 0;
}

/* A random ULA /64 (fdXX:XXXX:XXXX:YYYY::/64, RFC 4193) no one uses. */
static int pick_ula(json_t *taken, char out[INET6_ADDRSTRLEN + 4], berth_error_t *err)
{
        for (int tries = 0; tries < 16; tries++) {
                unsigned char b[16] = {0xfd};
                if (getrandom(b + 1, 7, 0) != 7)
                        return berth_fail(err, errno, "getrandom");
                char a[INET6_ADDRSTRLEN];
                inet_ntop(AF_INET6, b, a, sizeof(a));
                snprintf(out, INET6_ADDRSTRLEN + 4, "%s/64", a);
                if (!overlaps_any(out, taken))
                        return 0;
        }
        return berth_fail_status(err, 1, 0, "could not find a free IPv6 subnet");
}

static int check_create(const struct net_create_opts *o, berth_error_t *err)
{
        if (!name_valid(o->name))
                return berth_fail_status(err, 1, 0,
                                         "invalid name \"%s\": only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" "
                                         "are allowed",
                                         o->name ? o->name : "");
        if (net_network_predefined(o->name))
                return berth_fail_status(
                        err, 1, 0, "operation is not permitted on predefined %s network", o->name);
        if (o->driver && strcmp(o->driver, "bridge") != 0 && !net_vlan_driver(o->driver)) {
                if (strcmp(o->driver, "host") == 0 || strcmp(o->driver, "null") == 0)
                        return berth_fail_status(err, 1, 0,
                                                 "only one instance of \"%s\" network is allowed",
                                                 o->driver);
                return berth_fail_status(err, 1, 0, "plugin \"%s\" not found", o->driver);
        }
        if ((o->gateway || o->ip_range) && !o->subnet)
                return berth_fail_status(err, 1, 0,
                                         "every ip-range or gateway must have a corresponding "
                                         "subnet");
        if (o->gateway6 && !o->subnet6)
                return berth_fail_status(err, 1, 0,
                                         "every ip-range or gateway must have a corresponding "
                                         "subnet");
        if (o->subnet && check_cidr(o->subnet, false, err) < 0)
                return -1;
        if (o->subnet6 && check_cidr(o->subnet6, true, err) < 0)
                return -1;
        if (o->ip_range) {
                if (net_cidr_overlap(o->ip_range, o->ip_range) != 1 || !is_v4(o->ip_range))
                        return berth_fail_status(err, 1, 0, "invalid CIDR address: %s",
                                                 o->ip_range);
                /* inside the subnet: overlapping it and no wider */
                if (net_cidr_overlap(o->ip_range, o->subnet) != 1 ||
                    atoi(strchr(o->ip_range, '/') + 1) < atoi(strchr(o->subnet, '/') + 1))
                        return berth_fail_status(err, 1, 0, "no matching subnet for range %s",
                                                 o->ip_range);
        }
        const char *mtu = str_of(o->options, OPT_MTU);
        if (mtu == NULL)
                mtu = str_of(o->options, "mtu");
        if (mtu) {
                char *end;
                long v = strtol(mtu, &end, 10);
                if (*mtu == '\0' || *end || v < 68 || v > 65535)
                        return berth_fail_status(err, 1, 0, "invalid MTU number: %s", mtu);
        }
        const char *br = str_of(o->options, OPT_BRIDGE_NAME);
        if (json_object_get(o->options, OPT_BRIDGE_NAME) && !ifname_valid(br))
                return berth_fail_status(err, 1, 0, "invalid bridge name: %s", br ? br : "");
        const char *k;
        json_t *v;
        json_object_foreach(o->labels, k, v)
        {
                if (!json_is_string(v))
                        return berth_fail_status(err, 1, 0, "label %s: not a string", k);
        }
        json_object_foreach(o->options, k, v)
        {
                if (!json_is_string(v))
                        return berth_fail_status(err, 1, 0, "option %s: not a string", k);
        }
        return 0;
}

/* IPAM.Config of a new network; the caller holds the lock. */
static int ipam_config(const struct net_create_opts *o, json_t *recs, const char *bridge,
                       json_t **config, berth_error_t *err)
{
        json_t *nets = taken_subnets(recs, false, NULL);
        char subnet[64], gw[INET6_ADDRSTRLEN];
        int r = -1;
        *config = json_array();
        if (o->subnet) {
                if (overlaps_any(o->subnet, nets)) {
                        berth_fail_status(err, 1, 0,
                                          "Pool overlaps with other one on this address space");
                        goto out;
                }
                snprintf(subnet, sizeof(subnet), "%s", o->subnet);
        } else {
                json_t *taken = taken_subnets(recs, true, bridge);
                int p = net_subnet_pick(taken, subnet, NULL);
                json_decref(taken);
                if (p < 0) {
                        berth_fail_status(err, 1, 0,
                                          "could not find an available, non-overlapping IPv4 "
                                          "address pool among the defaults to assign to the "
                                          "network");
                        goto out;
                }
        }
        if (gateway_of(subnet, o->gateway, gw, err) < 0)
                goto out;
        json_t *c = json_pack("{s:s}", "Subnet", subnet);
        if (o->ip_range)
                json_object_set_new(c, "IPRange", json_string(o->ip_range));
        json_object_set_new(c, "Gateway", json_string(gw));
        json_array_append_new(*config, c);
        if (o->ipv6 || o->subnet6) {
                if (o->subnet6 && overlaps_any(o->subnet6, nets)) {
                        berth_fail_status(err, 1, 0,
                                          "Pool overlaps with other one on this address space");
                        goto out;
                }
                if (o->subnet6) {
                        snprintf(subnet, sizeof(subnet), "%s", o->subnet6);
                } else {
                        json_t *taken = taken_subnets(recs, true, bridge);
                        int p = pick_ula(taken, subnet, err);
                        json_decref(taken);
                        if (p < 0)
                                goto out;
                }
                if (gateway_of(subnet, o->gateway6, gw, err) < 0)
                        goto out;
                json_array_append_new(*config,
                                      json_pack("{s:s, s:s}", "Subnet", subnet, "Gateway", gw));
        }
        r = 0;
out:
        json_decref(nets);
        if (r < 0) {
                json_decref(*config);
                *config = NULL;
        }
        return r;
}

static const char *bridge_of(json_t *doc)
{
        return str_of(json_object_get(doc, "Options"), OPT_BRIDGE_NAME);
}

int net_network_create(struct net_ctx *n, const struct net_create_opts *o, json_t **doc,
                       berth_error_t *err)
{
        bool vlan = net_vlan_driver(o->driver);
        if (check_create(o, err) < 0 ||
            (vlan && net_vlan_check(o->driver, o->options, n->rootless, err) < 0))
                return -1;
        cleanup_close int lock = lock_networks(n, err);
        if (lock < 0)
                return -1;
        json_t *recs = load_records(n);
        json_t *options = NULL, *config = NULL, *d = NULL;
        char *now = NULL;
        int r = -1;
        bool parent_made = false, internal = o->internal;
        /* `bridge` first, so that it gets the first pool as Docker's does */
        if (make_default_locked(n, recs, err) < 0)
                goto out;
        if (by_name(recs, o->name)) {
                berth_fail_status(err, 1, 0, "network with name %s already exists", o->name);
                goto out;
        }
        char id[65];
        if (random_hex(id, 32, err) < 0)
                goto out;
        options = o->options ? json_deep_copy(o->options) : json_object();
        if (vlan) {
                /* no bridge: the slave links' parent (macvlan.h) */
                net_vlan_gc(n, recs);
                const char *parent = str_of(options, "parent");
                internal = internal || parent == NULL || *parent == '\0';
                if (ipam_config(o, recs, NULL, &config, err) < 0 ||
                    net_vlan_parent_make(n, o->driver, id, options, internal, recs, err) < 0)
                        goto out;
                parent_made = true;
                goto record;
        }
        if (str_of(options, OPT_BRIDGE_NAME) == NULL) {
                cleanup_free char *br = berth_xasprintf("br-%.12s", id);
                json_object_set_new(options, OPT_BRIDGE_NAME, json_string(br));
        }
        const char *bridge = str_of(options, OPT_BRIDGE_NAME);
        size_t i;
        json_t *other;
        json_array_foreach(recs, i, other)
        {
                const char *ob = bridge_of(other);
                if (ob && strcmp(ob, bridge) == 0) {
                        berth_fail_status(err, 1, 0,
                                          "conflicts with network %s (%s): networks have same "
                                          "bridge name",
                                          str_of(other, "Id"), str_of(other, "Name"));
                        goto out;
                }
        }
        if (ipam_config(o, recs, bridge, &config, err) < 0)
                goto out;
record:
        now = now_rfc3339_local();
        d = record_new(o->name, id, now, vlan ? o->driver : "bridge", o->ipv6, json_object(),
                       config, internal, o->attachable, options,
                       o->labels ? json_deep_copy(o->labels) : json_object());
        config = options = NULL;
        if (d == NULL) {
                berth_fail(err, ENOMEM, "create network %s", o->name);
                goto out;
        }
        if (write_record(n, d, err) < 0)
                goto out;
        if (doc)
                *doc = json_incref(d);
        berth_event_emit(
                NULL, "network", "create", id,
                json_pack("{s:s, s:s}", "name", o->name, "type", vlan ? o->driver : "bridge"));
        r = 0;
out:
        if (r < 0 && parent_made && d) {
                berth_error_t e = NULL;
                if (net_vlan_parent_remove(n, d, recs, &e) < 0) {
                        log_warn("%s", berth_error_msg(e));
                        berth_error_release(&e);
                }
        }
        free(now);
        json_decref(d);
        json_decref(config);
        json_decref(options);
        json_decref(recs);
        return r;
}

/* ---- remove, prune ---- */

static int rm_tree_at(int parent, const char *name)
{
        if (unlinkat(parent, name, 0) == 0 || errno == ENOENT)
                return 0;
        if (errno != EISDIR && errno != EPERM)
                return -1;
        int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -1;
        DIR *d = fdopendir(fd);
        if (d == NULL) {
                close(fd);
                return -1;
        }
        struct dirent *de;
        int r = 0;
        while ((de = readdir(d)) != NULL)
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0 &&
                    rm_tree_at(dirfd(d), de->d_name) < 0)
                        r = -1;
        closedir(d);
        if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                r = -1;
        return r;
}

bool net_network_in_use(struct net_ctx *n, const char *id)
{
        cleanup_free char *dir = net_network_run_dir(n, id);
        cleanup_free char *eps = berth_path_join(dir, "endpoints");
        cleanup_dir DIR *d = opendir(eps);
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL)
                if (de->d_name[0] != '.')
                        return true;
        return false;
}

/* The caller holds the networks lock; doc is a record. */
static int remove_locked(struct net_ctx *n, json_t *doc, berth_error_t *err)
{
        const char *name = str_of(doc, "Name"), *id = str_of(doc, "Id");
        if (net_network_predefined(name) ||
            json_object_get(json_object_get(doc, "Options"), OPT_DEFAULT))
                return berth_fail_status(err, 1, 0,
                                         "%s is a pre-defined network and cannot be removed", name);
        /* the live directory's lock keeps attaching containers out while we decide */
        cleanup_free char *dir = net_network_run_dir(n, id);
        cleanup_free char *lockpath = berth_path_join(dir, "lock");
        cleanup_close int lfd = open(lockpath, O_RDWR | O_CLOEXEC);
        if (lfd >= 0)
                while (flock(lfd, LOCK_EX) < 0 && errno == EINTR)
                        ;
        if (net_network_in_use(n, id))
                return berth_fail_status(err, 1, 0,
                                         "error while removing network: network %s id %s has "
                                         "active endpoints",
                                         name, id);
        if (net_bridge_down(n, doc, err) < 0)
                return berth_wrap(err, "remove network %s", name);
        json_t *recs = load_records(n);
        int pr = net_vlan_parent_remove(n, doc, recs, err);
        net_vlan_gc(n, recs);
        json_decref(recs);
        if (pr < 0)
                return berth_wrap(err, "remove network %s", name);
        if (rm_tree_at(AT_FDCWD, dir) < 0)
                return berth_fail(err, errno, "remove network %s: remove `%s`", name, dir);
        cleanup_free char *file = berth_xasprintf("%s.json", id);
        cleanup_free char *path = berth_path_join(n->data_dir, file);
        if (unlink(path) < 0 && errno != ENOENT)
                return berth_fail(err, errno, "remove network %s: remove `%s`", name, path);
        const char *type = str_of(doc, "Driver");
        berth_event_emit(NULL, "network", "destroy", id,
                         json_pack("{s:s, s:s}", "name", name, "type", type ? type : "bridge"));
        return 0;
}

/* remove_locked where the network's bridge lives: rootless, in the rootless network namespace
 * (rootless.h) */
struct remove_args {
        struct net_ctx *n;
        json_t *doc;
};

static int remove_fn(void *p, berth_error_t *err)
{
        struct remove_args *a = p;
        return remove_locked(a->n, a->doc, err);
}

static int remove_in_ns(struct net_ctx *n, json_t *doc, berth_error_t *err)
{
        struct remove_args a = {.n = n, .doc = doc};
        return net_rootless_run(n, false, remove_fn, &a, err);
}

int net_network_remove(struct net_ctx *n, const char *name_or_id, berth_error_t *err)
{
        cleanup_close int lock = lock_networks(n, err);
        if (lock < 0)
                return -1;
        if (net_network_predefined(name_or_id) && strcmp(name_or_id, "default") != 0)
                return berth_fail_status(
                        err, 1, 0, "%s is a pre-defined network and cannot be removed", name_or_id);
        json_t *recs = load_records(n), *doc = NULL;
        json_t *all = with_builtins(recs);
        int r = find(all, name_or_id, &doc, err);
        if (r == 0) {
                r = remove_in_ns(n, doc, err);
                net_rootless_cleanup_if_idle(n);
        }
        json_decref(doc);
        json_decref(all);
        json_decref(recs);
        return r;
}

/* Docker's prune filters: label=K, label=K=V, label!=…, until=TIME. */
static int prune_match(json_t *doc, json_t *filters, bool *match, berth_error_t *err)
{
        size_t i;
        json_t *f;
        *match = true;
        json_array_foreach(filters, i, f)
        {
                const char *s = json_string_value(f);
                if (s == NULL)
                        return berth_fail_status(err, 1, 0, "invalid filter");
                if (berth_str_has_prefix(s, "until=")) {
                        struct timespec now;
                        clock_gettime(CLOCK_REALTIME, &now);
                        int64_t until, created;
                        if (berth_parse_timestamp(s + 6, "until", &now, &until, err) < 0)
                                return -1;
                        if (berth_parse_timestamp(str_of(doc, "Created"), "Created", &now, &created,
                                                  NULL) < 0 ||
                            created >= until)
                                *match = false;
                        continue;
                }
                bool neg = berth_str_has_prefix(s, "label!=");
                if (!neg && !berth_str_has_prefix(s, "label="))
                        return berth_fail_status(err, 1, 0, "invalid filter '%s'", s);
                const char *kv = s + (neg ? 7 : 6);
                const char *eq = strchr(kv, '=');
                cleanup_free char *k =
                        eq ? berth_xasprintf("%.*s", (int) (eq - kv), kv) : berth_xstrdup(kv);
                const char *v = str_of(json_object_get(doc, "Labels"), k);
                bool has = v && (eq == NULL || strcmp(v, eq + 1) == 0);
                if (has == neg)
                        *match = false;
        }
        return 0;
}

int net_network_prune(struct net_ctx *n, json_t *filters, json_t **removed, berth_error_t *err)
{
        cleanup_close int lock = lock_networks(n, err);
        if (lock < 0)
                return -1;
        json_t *recs = sorted_by_name(load_records(n));
        json_t *out = json_array();
        size_t i;
        json_t *d;
        int r = 0;
        json_array_foreach(recs, i, d)
        {
                const char *name = str_of(d, "Name");
                bool match;
                if (net_network_predefined(name) ||
                    json_object_get(json_object_get(d, "Options"), OPT_DEFAULT))
                        continue;
                if (prune_match(d, filters, &match, err) < 0) {
                        r = -1;
                        break;
                }
                if (!match || net_network_in_use(n, str_of(d, "Id")))
                        continue;
                berth_error_t rerr = NULL;
                if (remove_in_ns(n, d, &rerr) < 0) {
                        log_warn("%s", berth_error_msg(rerr));
                        berth_error_release(&rerr);
                        continue;
                }
                json_array_append_new(out, json_string(name));
        }
        if (r == 0 && !n->rootless)
                net_vlan_gc(n, recs); /* parents a killed create of a macvlan network left */
        net_rootless_cleanup_if_idle(n);
        json_decref(recs);
        if (r < 0) {
                json_decref(out);
                return -1;
        }
        *removed = out;
        return 0;
}

/* ---- the sandbox's view ---- */

void net_network_info(json_t *doc, struct net_info *out)
{
        memset(out, 0, sizeof(*out));
        json_t *opts = json_object_get(doc, "Options");
        out->id = str_of(doc, "Id");
        out->name = str_of(doc, "Name");
        out->bridge = str_of(opts, OPT_BRIDGE_NAME);
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(json_object_get(doc, "IPAM"), "Config"), i, c)
        {
                const char *s = str_of(c, "Subnet");
                if (s == NULL)
                        continue;
                if (is_v4(s) && out->subnet4 == NULL) {
                        out->subnet4 = s;
                        out->gateway4 = str_of(c, "Gateway");
                        out->range4 = str_of(c, "IPRange");
                } else if (!is_v4(s) && out->subnet6 == NULL) {
                        out->subnet6 = s;
                        out->gateway6 = str_of(c, "Gateway");
                }
        }
        const char *mtu = str_of(opts, OPT_MTU);
        if (mtu == NULL)
                mtu = str_of(opts, "mtu");
        if (mtu)
                out->mtu = (unsigned) strtoul(mtu, NULL, 10);
        out->internal = json_is_true(json_object_get(doc, "Internal"));
        out->ipv6 = json_is_true(json_object_get(doc, "EnableIPv6"));
        const char *driver = str_of(doc, "Driver");
        out->dns = driver && strcmp(driver, "bridge") == 0 && !net_network_predefined(out->name) &&
                   json_object_get(opts, OPT_DEFAULT) == NULL;
        out->dns_upstream = str_of(opts, "dns.upstream");
        net_vlan_info(doc, out);
}
