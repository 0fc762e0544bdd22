/* rootless.c — the rootless network namespace and its slirp4netns (rootless.h). */
#include "net/rootless.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/idmap.h"
#include "common/log.h"
#include "common/util.h"
#include "net/dns.h"
#include "net/nl.h"
#include "net/ports.h"
#include "net/proxy.h"
#include "net/slirp.h"

#define RL_SLIRP "slirp"

static char *rl_dir(struct net_ctx *n)
{
        return berth_path_join(n->run_dir, "rootless");
}

static bool is_nsfs(const char *path)
{
        struct statfs st;
        return statfs(path, &st) == 0 && st.f_type == NSFS_MAGIC;
}

/* What lived in an earlier namespace goes: its resolvers (each would keep serving the old
 * namespace, and its pid file would pass for a running one), the networks' "made" markers (the
 * bridges are not in the new one) and its slirp4netns. */
static void rl_reset(struct net_ctx *n, const char *dir)
{
        json_t *ids = net_live_networks(n);
        size_t i;
        json_t *id;
        json_array_foreach(ids, i, id)
        {
                cleanup_free char *ndir = net_network_run_dir(n, json_string_value(id));
                cleanup_free char *up = berth_path_join(ndir, "up");
                berth_error_t e = NULL;
                if (net_dns_stop(ndir, &e) < 0) {
                        log_warn("%s", berth_error_msg(e));
                        berth_error_release(&e);
                }
                unlink(up);
        }
        json_decref(ids);
        net_slirp_kill(dir, RL_SLIRP);
        cleanup_free char *ino = berth_path_join(dir, RL_SLIRP ".netns");
        unlink(ino);
}

/* One add_hostfwd; *id: its id in slirp4netns.  1 done, 0 refused (*desc: why). */
static int hostfwd_add(const char *dir, const char *proto, const char *host_ip, unsigned port,
                       json_int_t *id, char **desc, berth_error_t *err)
{
        json_t *req = json_pack("{s:s, s:{s:s, s:s, s:i, s:s, s:i}}", "execute", "add_hostfwd",
                                "arguments", "proto", proto, "host_addr", host_ip, "host_port",
                                (json_int_t) port, "guest_addr", NET_SLIRP_ADDR, "guest_port",
                                (json_int_t) port);
        json_t *reply = NULL;
        int r = net_slirp_request(dir, RL_SLIRP, req, &reply, err);
        json_decref(req);
        if (r < 0)
                return -1;
        json_t *e = json_object_get(reply, "error");
        if (e) {
                const char *d = json_string_value(json_object_get(e, "desc"));
                *desc = berth_xstrdup(d ? d : "failed");
                r = 0;
        } else {
                *id = json_integer_value(json_object_get(json_object_get(reply, "return"), "id"));
                r = 1;
        }
        json_decref(reply);
        return r;
}

static void hostfwd_remove(const char *dir, json_int_t id)
{
        if (id < 0 || net_slirp_pid(dir, RL_SLIRP) == 0)
                return;
        json_t *req =
                json_pack("{s:s, s:{s:I}}", "execute", "remove_hostfwd", "arguments", "id", id);
        json_t *reply = NULL;
        berth_error_t e = NULL;
        if (net_slirp_request(dir, RL_SLIRP, req, &reply, &e) < 0) {
                log_warn("%s", berth_error_msg(e));
                berth_error_release(&e);
        }
        json_decref(req);
        json_decref(reply);
}

/* Call fn for each forward file (its path and parsed content); what it cannot read, it skips. */
static void each_fwd(const char *dir, void (*fn)(const char *path, json_t *j, void *ctx), void *ctx)
{
        cleanup_free char *fdir = berth_path_join(dir, "fwd");
        (void) net_ports_each_record(fdir, fn, ctx, NULL);
}

/* ctx: the rootless directory (const char **). */
static void replay_cb(const char *path, json_t *j, void *ctx)
{
        const char *dir = *(const char **) ctx;
        const char *proto = json_string_value(json_object_get(j, "Proto"));
        const char *ip = json_string_value(json_object_get(j, "FwdIp"));
        if (ip == NULL)
                ip = json_string_value(json_object_get(j, "HostIp"));
        unsigned port = (unsigned) json_integer_value(json_object_get(j, "HostPort"));
        json_int_t id = -1;
        cleanup_free char *desc = NULL;
        berth_error_t e = NULL;
        int r = proto && ip ? hostfwd_add(dir, proto, ip, port, &id, &desc, &e) : 0;
        if (r < 0) {
                log_warn("%s", berth_error_msg(e));
                berth_error_release(&e);
        } else if (r == 0) {
                log_warn("rootless network: port %s:%u/%s of container %.12s: %s", ip ? ip : "",
                         port, proto ? proto : "",
                         json_string_value(json_object_get(j, "Container")),
                         desc ? desc : "bad record");
        }
        json_object_set_new(j, "Id", json_integer(id));
        cleanup_free char *text = json_dumps(j, JSON_COMPACT);
        if (berth_write_file_replace(path, text, strlen(text), 0600, &e) < 0) {
                log_warn("%s", berth_error_msg(e));
                berth_error_release(&e);
        }
}

/* IPv6 out of the namespace (--ipv6 networks, masqueraded as they leave by tap0): tap0's
 * address and default route on slirp4netns's IPv6 network, set here rather than learnt from
 * router advertisements (slirp.h). */
static int slirp_ipv6(const char *nspath, berth_error_t *err)
{
        cleanup_close int fd = open(nspath, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return berth_fail(err, errno, "open `%s`", nspath);
        struct net_nl *nl = NULL;
        struct net_addr a, gw;
        net_addr_parse(NET_SLIRP_ADDR6, &a);
        net_addr_parse(NET_SLIRP_GATEWAY6, &gw);
        int r = net_nl_open(&nl, fd, err);
        if (r == 0)
                r = net_nl_addr_add(nl, "tap0", &a, 64, err);
        if (r == 0)
                r = net_nl_route_default(nl, "tap0", &gw, err);
        net_nl_close(nl);
        return r < 0 ? berth_wrap(err, "IPv6 of the rootless network namespace") : 0;
}

/* The namespace's slirp4netns: running and serving this namespace, or started (again). */
static int slirp_ensure(const char *dir, const char *nspath, berth_error_t *err)
{
        struct stat st;
        if (stat(nspath, &st) < 0)
                return berth_fail(err, errno, "stat `%s`", nspath);
        cleanup_free char *inopath = berth_path_join(dir, RL_SLIRP ".netns");
        cleanup_free char *text = NULL;
        bool known = berth_read_file(inopath, &text, NULL, NULL) == 0;
        unsigned long long ino = known ? strtoull(text, NULL, 10) : 0;
        pid_t pid = net_slirp_pid(dir, RL_SLIRP);
        if (pid > 0 && ino == (unsigned long long) st.st_ino)
                return 0;
        if (known && pid == 0)
                log_warn("rootless network namespace: its slirp4netns is gone; starting a new one "
                         "and restoring the published ports");
        net_slirp_kill(dir, RL_SLIRP);
        if (net_slirp_spawn(dir, RL_SLIRP, nspath, true, err) < 0 || slirp_ipv6(nspath, err) < 0)
                return berth_wrap(err, "connect the rootless network namespace to the host");
        char buf[32];
        int len = snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long) st.st_ino);
        if (berth_write_file_replace(inopath, buf, (size_t) len, 0600, err) < 0)
                return -1;
        each_fwd(dir, replay_cb, &dir);
        return 0;
}

/* The thread that works inside: a setns(CLONE_NEWNET) has no way back to the host's
 * namespace (owned by the initial user namespace, where we have no capability), so the work
 * runs in a thread of its own, which ends there; the caller's thread never moves. */
struct run_args {
        int nsfd; /* the rootless namespace, or -1: a scratch namespace of the thread's own */
        net_rl_fn fn;
        void *arg;
        berth_error_t *err; /* the caller's: it waits in pthread_join meanwhile */
        int ret;
};

static void *run_thread(void *p)
{
        struct run_args *a = p;
        a->ret = -1;
        if (a->nsfd >= 0 ? setns(a->nsfd, CLONE_NEWNET) < 0 : unshare(CLONE_NEWNET) < 0) {
                berth_fail(a->err, errno, "enter the rootless network namespace");
                return NULL;
        }
        a->ret = a->fn(a->arg, a->err);
        return NULL;
}

void net_rootless_repair(struct net_ctx *n)
{
        if (!n->rootless || !berth_in_userns())
                return;
        cleanup_free char *dir = rl_dir(n);
        cleanup_free char *nspath = berth_path_join(dir, "netns");
        cleanup_free char *lockpath = berth_path_join(dir, "lock");
        if (!is_nsfs(nspath))
                return;
        cleanup_close int lk = open(lockpath, O_RDWR | O_CLOEXEC);
        if (lk < 0 || flock(lk, LOCK_EX) < 0)
                return;
        berth_error_t e = NULL;
        if (is_nsfs(nspath) && slirp_ensure(dir, nspath, &e) < 0) {
                log_warn("%s", berth_error_msg(e));
                berth_error_release(&e);
        }
}

/* Under the lock (exclusive): the namespace made when create asks for it and its slirp4netns
 * checked; *nsfd: the namespace open, or -1 when there is none. */
static int prepare_locked(struct net_ctx *n, const char *dir, const char *nspath, bool create,
                          int *nsfd, berth_error_t *err)
{
        *nsfd = -1;
        bool exists = is_nsfs(nspath);
        if (!exists && create) {
                /* none yet, or the file of a namespace that died with berth's mount namespace
                 * (the pause process killed with nothing running, a reboot) */
                rl_reset(n, dir);
                if (net_netns_create(nspath, err) < 0)
                        return -1;
                log_debug("rootless network namespace made at %s", nspath);
                exists = true;
        }
        /* slirp4netns is started from here, the host's namespace: its sockets are the host's */
        if (exists && slirp_ensure(dir, nspath, err) < 0)
                return -1;
        if (exists && (*nsfd = open(nspath, O_RDONLY | O_CLOEXEC)) < 0)
                return berth_fail(err, errno, "open the rootless network namespace `%s`", nspath);
        return 0;
}

/* Is fd still the namespace at nspath (not removed while the lock was let go)? */
static bool same_ns(int fd, const char *nspath)
{
        struct stat a, b;
        return fstat(fd, &a) == 0 && stat(nspath, &b) == 0 && a.st_ino == b.st_ino &&
               a.st_dev == b.st_dev;
}

int net_rootless_run(struct net_ctx *n, bool create, net_rl_fn fn, void *arg, berth_error_t *err)
{
        if (!n->rootless || !berth_in_userns())
                return fn(arg, err);
        cleanup_free char *dir = rl_dir(n);
        cleanup_free char *nspath = berth_path_join(dir, "netns");
        cleanup_free char *lockpath = berth_path_join(dir, "lock");
        if (berth_mkdir_p(dir, 0700, err) < 0)
                return -1;
        cleanup_close int lk = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (lk < 0)
                return berth_fail(err, errno, "open `%s`", lockpath);
        struct run_args a = {.nsfd = -1, .fn = fn, .arg = arg, .err = err, .ret = -1};
        for (int attempt = 0;; attempt++) {
                int r;
                while ((r = flock(lk, LOCK_EX)) < 0 && errno == EINTR)
                        ;
                if (r < 0)
                        return berth_fail(err, errno, "lock `%s`", lockpath);
                if (prepare_locked(n, dir, nspath, create, &a.nsfd, err) < 0)
                        return -1;
                /* others may work inside too; only removal needs it alone.  flock's change of
                 * mode lets go for a moment: a removal may have come in between */
                while ((r = flock(lk, LOCK_SH)) < 0 && errno == EINTR)
                        ;
                if (r < 0) {
                        if (a.nsfd >= 0)
                                close(a.nsfd);
                        return berth_fail(err, errno, "lock `%s`", lockpath);
                }
                if (a.nsfd < 0 || same_ns(a.nsfd, nspath) || attempt == 3)
                        break;
                close(a.nsfd);
                a.nsfd = -1;
        }
        /* without a namespace (only removals come here): an empty one, where deleting the
         * firewall entries and bridges that are not there is quiet and touches nothing */
        pthread_t th;
        int e = pthread_create(&th, NULL, run_thread, &a);
        if (e != 0)
                berth_fail(err, e, "start a thread for the rootless network namespace");
        else
                pthread_join(th, NULL);
        if (a.nsfd >= 0)
                close(a.nsfd);
        return e != 0 ? -1 : a.ret;
}

/* Would proto ip:port be refused on the host?  Asked from inside the rootless namespace, where
 * a bind would test the wrong namespace: the sockets of the process's main thread's
 * namespace (the host's: only helper threads move) in /proc/PID/net/{tcp,udp}{,6}.  A socket
 * on the same port conflicts when either side is a wildcard or the addresses are equal. */
static bool host_port_busy(const char *proto, const char *ip, unsigned port)
{
        struct in_addr want;
        bool any = inet_pton(AF_INET, ip, &want) != 1 || want.s_addr == htonl(INADDR_ANY);
        bool tcp = strcmp(proto, "tcp") == 0;
        for (int v6 = 0; v6 < 2; v6++) {
                char path[64];
                snprintf(path, sizeof(path), "/proc/%d/net/%s%s", (int) getpid(), proto,
                         v6 ? "6" : "");
                cleanup_file FILE *f = fopen(path, "re");
                char line[512];
                if (f == NULL || fgets(line, sizeof(line), f) == NULL)
                        continue;
                while (fgets(line, sizeof(line), f)) {
                        char addr[64];
                        unsigned p, st;
                        /* "  sl  local_address rem_address   st …", addresses HEX:PORT */
                        if (sscanf(line, " %*s %63[0-9A-Fa-f]:%x %*s %x", addr, &p, &st) != 3 ||
                            p != port || (tcp && st != 0x0A))
                                continue;
                        bool wild = strspn(addr, "0") == strlen(addr);
                        if (any || wild)
                                return true;
                        /* IPv4: one 32-bit word in host order */
                        unsigned long w = strtoul(addr, NULL, 16);
                        if (!v6 && (uint32_t) w == want.s_addr)
                                return true;
                }
        }
        return false;
}

struct take_ctx {
        struct net_ctx *n;
        const char *cid;
};

static char *fwd_path(struct net_ctx *n, const struct net_port_fwd *f)
{
        cleanup_free char *dir = rl_dir(n);
        return berth_xasprintf("%s/fwd/%s-%s-%u", dir, f->proto, f->host_ip, f->host_port);
}

/* The rootless user networks' port backend (ports.h): a reservation and DNAT entry inside the
 * namespace keyed by the host port with any address (slirp4netns delivers to 10.0.2.100), then
 * the forward from the host.  The forward's file is written before the forward is made. */
static int take_rl(void *ctx, const struct net_port_fwd *f, bool *by_berth, berth_error_t *err)
{
        struct take_ctx *c = ctx;
        *by_berth = false;
        if (strcmp(f->proto, "tcp") != 0 && strcmp(f->proto, "udp") != 0)
                return berth_fail_status(err, 125, EPROTONOSUPPORT,
                                         "publishing %u/%s: rootless berth forwards tcp and udp "
                                         "ports only",
                                         f->ctr_port, f->proto);
        /* slirp4netns 1.2's add_hostfwd takes IPv4 host addresses only: an IPv6 one is served
         * by a relay on the host (net_rootless_relays) into a forward on 127.0.0.1 */
        struct in6_addr a6;
        bool v6 = inet_pton(AF_INET6, f->host_ip, &a6) == 1;
        const char *fwd_ip = v6 ? "127.0.0.1" : f->host_ip;
        if (v6 && strcmp(f->proto, "tcp") != 0)
                return berth_fail_status(err, 125, EPROTONOSUPPORT,
                                         "publishing [%s]:%u/%s: rootless berth relays tcp only "
                                         "on IPv6 host addresses",
                                         f->host_ip, f->host_port, f->proto);
        if (host_port_busy(f->proto, f->host_ip, f->host_port) ||
            (v6 && host_port_busy(f->proto, fwd_ip, f->host_port)))
                return 0;
        struct net_port_fwd inner = *f;
        inner.host_ip = "0.0.0.0";
        int r = net_ports_take_dnat(c->n, c->cid, &inner, by_berth, err);
        if (r <= 0)
                return r;
        cleanup_free char *dir = rl_dir(c->n);
        cleanup_free char *fdir = berth_path_join(dir, "fwd");
        cleanup_free char *path = fwd_path(c->n, f);
        json_t *j = json_pack("{s:s, s:s, s:s, s:i, s:i}", "Container", c->cid, "Proto", f->proto,
                              "HostIp", f->host_ip, "HostPort", (json_int_t) f->host_port, "Id",
                              (json_int_t) -1);
        /* an IPv6 address: the forward's own, and the relay's pid once it runs (0: not yet) */
        if (v6) {
                json_object_set_new(j, "FwdIp", json_string(fwd_ip));
                json_object_set_new(j, "Relay", json_integer(0));
        }
        cleanup_free char *text = json_dumps(j, JSON_COMPACT);
        json_int_t id = -1;
        cleanup_free char *desc = NULL;
        r = berth_mkdir_p(fdir, 0700, err) < 0 ||
                            berth_write_file_replace(path, text, strlen(text), 0600, err) < 0
                    ? -1
                    : hostfwd_add(dir, f->proto, fwd_ip, f->host_port, &id, &desc, err);
        if (r == 1) {
                json_object_set_new(j, "Id", json_integer(id));
                free(text);
                text = json_dumps(j, JSON_COMPACT);
                r = berth_write_file_replace(path, text, strlen(text), 0600, err) < 0 ? -1 : 1;
                if (r < 0)
                        hostfwd_remove(dir, id);
        }
        json_decref(j);
        if (r == 1)
                return 1;
        unlink(path);
        net_ports_drop_one(c->n, c->cid, inner.proto, inner.host_ip, inner.host_port);
        if (r < 0)
                return -1;
        /* lost a race for the port with a host process */
        if (host_port_busy(f->proto, f->host_ip, f->host_port))
                return 0;
        return berth_fail_status(err, 125, EIO, "publishing %s:%u/%s: slirp4netns: %s", f->host_ip,
                                 f->host_port, f->proto, desc ? desc : "failed");
}

int net_rootless_publish(struct net_ctx *n, const char *cid, const char *ep_name,
                         const char *ctr_ip, json_t *config, json_t *host_config, json_t **ports,
                         berth_error_t *err)
{
        struct take_ctx c = {.n = n, .cid = cid};
        struct net_port_backend be = {.take = take_rl, .ctx = &c};
        return net_ports_publish_via(n, &be, cid, ep_name, ctr_ip, NULL, config, host_config, ports,
                                     err);
}

struct unpublish_ctx {
        const char *dir, *cid;
};

static void unpublish_cb(const char *path, json_t *j, void *ctx)
{
        const struct unpublish_ctx *u = ctx;
        if (strcmp(json_string_value(json_object_get(j, "Container")) ?: "", u->cid) != 0)
                return;
        net_proxy_stop((pid_t) json_integer_value(json_object_get(j, "Relay")));
        hostfwd_remove(u->dir, json_integer_value(json_object_get(j, "Id")));
        unlink(path);
}

struct relay_ctx {
        const char *cid;
        berth_error_t *err;
        int ret;
};

static void relay_cb(const char *path, json_t *j, void *ctx)
{
        struct relay_ctx *r = ctx;
        const char *ip = json_string_value(json_object_get(j, "HostIp"));
        const char *fwd = json_string_value(json_object_get(j, "FwdIp"));
        unsigned port = (unsigned) json_integer_value(json_object_get(j, "HostPort"));
        if (r->ret < 0 || !ip || !fwd ||
            strcmp(json_string_value(json_object_get(j, "Container")) ?: "", r->cid) != 0 ||
            json_integer_value(json_object_get(j, "Relay")) > 0)
                return;
        pid_t pid = 0;
        bool busy = false;
        if (net_proxy_start(ip, port, fwd, port, &pid, &busy, r->err) < 0) {
                r->ret = -1;
                return;
        }
        if (busy) {
                r->ret = berth_fail_status(r->err, 125, EADDRINUSE,
                                           "Error starting userland proxy: listen tcp6 [%s]:%u: "
                                           "bind: address already in use",
                                           ip, port);
                return;
        }
        json_object_set_new(j, "Relay", json_integer(pid));
        cleanup_free char *text = json_dumps(j, JSON_COMPACT);
        if (berth_write_file_replace(path, text, strlen(text), 0600, r->err) < 0) {
                net_proxy_stop(pid);
                r->ret = -1;
        }
}

int net_rootless_relays(struct net_ctx *n, const char *cid, berth_error_t *err)
{
        if (!n->rootless)
                return 0;
        cleanup_free char *dir = rl_dir(n);
        struct relay_ctx r = {.cid = cid, .err = err, .ret = 0};
        each_fwd(dir, relay_cb, &r);
        return r.ret;
}

void net_rootless_unpublish(struct net_ctx *n, const char *cid)
{
        if (!n->rootless)
                return;
        cleanup_free char *dir = rl_dir(n);
        struct unpublish_ctx u = {.dir = dir, .cid = cid};
        each_fwd(dir, unpublish_cb, &u);
}

static void count_cb(const char *path, json_t *j, void *ctx)
{
        (void) path, (void) j;
        ++*(int *) ctx;
}

void net_rootless_cleanup_if_idle(struct net_ctx *n)
{
        if (!n->rootless || !berth_in_userns())
                return;
        cleanup_free char *dir = rl_dir(n);
        cleanup_free char *nspath = berth_path_join(dir, "netns");
        cleanup_free char *lockpath = berth_path_join(dir, "lock");
        if (access(dir, F_OK) < 0)
                return;
        cleanup_close int lk = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        /* a call working inside: not idle */
        if (lk < 0 || flock(lk, LOCK_EX | LOCK_NB) < 0)
                return;
        int fwds = 0;
        each_fwd(dir, count_cb, &fwds);
        bool busy = fwds > 0;
        json_t *ids = net_live_networks(n);
        size_t i;
        json_t *id;
        json_array_foreach(ids, i, id)
        {
                busy = busy || net_network_in_use(n, json_string_value(id));
        }
        json_decref(ids);
        if (busy)
                return;
        bool had = is_nsfs(nspath) || net_slirp_pid(dir, RL_SLIRP) > 0;
        rl_reset(n, dir);
        berth_error_t e = NULL;
        if (net_netns_remove(nspath, &e) < 0) {
                log_warn("%s", berth_error_msg(e));
                berth_error_release(&e);
        }
        /* netns.c made the directory a shared mount of itself */
        while (umount2(dir, MNT_DETACH) == 0)
                ;
        if (had)
                log_debug("rootless network namespace removed: no container uses it");
}
