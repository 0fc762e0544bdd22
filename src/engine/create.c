/* create.c — making a container (see create.h). */
#include "engine/create.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cpulist.h"
#include "common/idmap.h"
#include "common/log.h"
#include "common/util.h"
#include "engine/cgparent.h"
#include "engine/events.h"
#include "engine/lifecycle.h"
#include "engine/links.h"
#include "engine/network.h"
#include "engine/rootfs.h"
#include "engine/spec.h"
#include "engine/storage_opt.h"
#include "engine/volume.h"
#include "net/dns.h"
#include "image/image.h"

/* The image as the user named it: its manifest digest, config digest (the
 * image ID) and config object. */
struct resolved_image {
        char manifest[IMG_DIGEST_MAX];
        char id[IMG_DIGEST_MAX];
        json_t *cfg; /* the image config document */
};

/* Find the image; pull it when it isn't here (--pull missing, Docker's
 * default) or always (--pull always), as `docker run` does. */
static int resolve_image(struct eng_ctx *e, const char *name, const char *pull, bool quiet,
                         struct resolved_image *ri, berth_error_t *err)
{
        struct img_store s;
        if (img_store_open(&s, e->data_dir, err) < 0)
                return -1;
        struct img_table t = {0};
        struct img_image img = {0};
        struct img_entry *ent = NULL;
        cleanup_free char *norm = NULL;
        /* the credentials `berth login` stored (BERTH_AUTH_FILE as for pull) */
        const char *auth_env = getenv("BERTH_AUTH_FILE");
        cleanup_free char *auth = auth_env && *auth_env ? berth_xstrdup(auth_env)
                                                        : berth_path_join(e->data_dir, "auth.json");
        struct img_registry_opts ro = {
                .tls_verify = -1, .retries = 3, .auth_file = auth, .quiet = quiet};
        bool always = pull && strcmp(pull, "always") == 0;
        bool never = pull && strcmp(pull, "never") == 0;
        int r = img_ref_normalize(name, &norm, err);
        if (r < 0 && *err)
                (*err)->status = 125;
        if (r == 0 && !always && (r = img_table_load(&s, &t, err)) == 0 &&
            img_lookup(&s, &t, name, &ent, NULL) < 0) {
                ent = NULL;
                img_table_free(&t);
                memset(&t, 0, sizeof(t));
                /* --pull never: the daemon's answer alone, as Docker's CLI tries no pull */
                if (never)
                        r = berth_fail_status(err, 125, 0, "No such image: %s", norm);
                else
                        fprintf(stderr, "Unable to find image '%s' locally\n", norm);
        }
        if (r == 0 && ent == NULL) {
                char digest[IMG_DIGEST_MAX];
                if (img_pull(&s, norm, &ro, digest, err) < 0)
                        r = berth_wrap(err, "pull %s", norm);
                else if ((r = img_table_load(&s, &t, err)) == 0)
                        r = img_lookup(&s, &t, norm, &ent, err);
                if (r < 0 && *err)
                        (*err)->status = 125;
        }
        if (r == 0 && (r = img_image_load(&s, ent->manifest, &img, err)) == 0) {
                snprintf(ri->manifest, sizeof(ri->manifest), "%s", ent->manifest);
                snprintf(ri->id, sizeof(ri->id), "%s", img.config.digest);
                ri->cfg = json_incref(img.cfg);
        }
        img_image_free(&img);
        img_table_free(&t);
        img_store_close(&s);
        return r;
}

static int write_file(const char *dir, const char *name, const char *text, char **path,
                      berth_error_t *err)
{
        *path = berth_path_join(dir, name);
        /* made anew at each create: no need to wait for the disk */
        return berth_write_file_replace(*path, text, strlen(text), 0644, err);
}

/* Append "KEYWORD V1 V2…\n" to *resolv when values has any. */
static void resolv_list(char **resolv, const char *keyword, json_t *values)
{
        if (json_array_size(values) == 0)
                return;
        char *line = berth_xasprintf("%s%s", *resolv, keyword);
        size_t i;
        json_t *v;
        json_array_foreach(values, i, v)
        {
                char *n = berth_xasprintf("%s %s", line, json_string_value(v));
                free(line);
                line = n;
        }
        free(*resolv);
        *resolv = berth_xasprintf("%s\n", line);
        free(line);
}

/* /etc/hostname, /etc/hosts and /etc/resolv.conf of the container, kept in
 * its record directory as Docker keeps them. */
static int etc_files(struct eng_container *c, const char *hostname, json_t *hc,
                     const char *dns_server, const char *host_gateway, char **hostname_p,
                     char **hosts_p, char **resolv_p, berth_error_t *err)
{
        const char *net = json_string_value(json_object_get(hc, "NetworkMode"));
        bool host_net = net && strcmp(net, "host") == 0;
        cleanup_free char *hn = berth_xasprintf("%s\n", hostname);
        if (write_file(c->dir, "hostname", hn, hostname_p, err) < 0)
                return -1;
        cleanup_free char *hosts = NULL;
        if (host_net && berth_read_file("/etc/hosts", &hosts, NULL, NULL) == 0) {
                /* the host's own names */
        } else {
                free(hosts);
                hosts = berth_xstrdup(
                        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost "
                        "ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\n"
                        "ff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n");
        }
        /* --add-host entries */
        size_t i;
        json_t *h;
        json_array_foreach(json_object_get(hc, "ExtraHosts"), i, h)
        {
                const char *s = json_string_value(h);
                const char *colon = s ? strchr(s, ':') : NULL;
                if (colon == NULL)
                        continue;
                const char *ip = colon + 1;
                if (strcmp(ip, "host-gateway") == 0 && host_gateway)
                        ip = host_gateway;
                char *n = berth_xasprintf("%s%s\t%.*s\n", hosts, ip, (int) (colon - s), s);
                free(hosts);
                hosts = n;
        }
        if (write_file(c->dir, "hosts", hosts, hosts_p, err) < 0)
                return -1;
        /* resolv.conf: the host's, without loopback resolvers a separate
         * network namespace can't reach (Docker's rule), or --dns */
        cleanup_free char *resolv = berth_xstrdup("");
        json_t *dns = json_object_get(hc, "Dns");
        if (dns_server &&
            (json_array_size(dns) == 0 || strcmp(dns_server, NET_DNS_CONTAINER_ADDR) == 0)) {
                /* a user network: its resolver on the gateway answers containers' names and
                 * forwards the rest; the host's search domains and options still apply */
                free(resolv);
                resolv = berth_xasprintf("nameserver %s\n", dns_server);
                cleanup_free char *host = NULL;
                if (berth_read_file("/etc/resolv.conf", &host, NULL, NULL) == 0) {
                        char *save = NULL;
                        for (char *l = strtok_r(host, "\n", &save); l;
                             l = strtok_r(NULL, "\n", &save)) {
                                if (strncmp(l, "search", 6) != 0 && strncmp(l, "options", 7) != 0)
                                        continue;
                                if (strncmp(l, "search", 6) == 0 &&
                                    json_array_size(json_object_get(hc, "DnsSearch")) > 0)
                                        continue;
                                char *n = berth_xasprintf("%s%s\n", resolv, l);
                                free(resolv);
                                resolv = n;
                        }
                }
        } else if (json_array_size(dns) > 0) {
                json_array_foreach(dns, i, h)
                {
                        char *n =
                                berth_xasprintf("%snameserver %s\n", resolv, json_string_value(h));
                        free(resolv);
                        resolv = n;
                }
        } else {
                cleanup_free char *host = NULL;
                if (berth_read_file("/etc/resolv.conf", &host, NULL, NULL) == 0) {
                        char *save = NULL;
                        for (char *l = strtok_r(host, "\n", &save); l;
                             l = strtok_r(NULL, "\n", &save)) {
                                if (!host_net && strncmp(l, "nameserver 127.", 15) == 0)
                                        continue;
                                char *n = berth_xasprintf("%s%s\n", resolv, l);
                                free(resolv);
                                resolv = n;
                        }
                }
        }
        /* --dns-search and --dns-option */
        resolv_list(&resolv, "search", json_object_get(hc, "DnsSearch"));
        resolv_list(&resolv, "options", json_object_get(hc, "DnsOptions"));
        return write_file(c->dir, "resolv.conf", resolv, resolv_p, err);
}

struct volume_ctx {
        struct eng_ctx *e;
        const char *rootfs;
        json_t *by_dest;   /* destination → {Name, Source}: what `inspect` shows in Mounts */
        json_t *inherited; /* the Mounts --volumes-from gave, as the new container has them */
};

static int volume_cb(void *ctx, const char *name, const char *dest, bool nocopy, char **host_path,
                     berth_error_t *err)
{
        struct volume_ctx *v = ctx;
        json_t *created = NULL;
        if (name == NULL) {
                if (eng_volume_create(v->e, NULL, NULL, NULL, &created, err) < 0)
                        return -1;
                name = json_string_value(json_object_get(created, "Name"));
        }
        int r = eng_volume_prepare(v->e, name, nocopy ? NULL : v->rootfs, dest, host_path, err);
        if (r == 0)
                json_object_set_new(v->by_dest, dest,
                                    json_pack("{s:s, s:s}", "Name", name, "Source", *host_path));
        json_decref(created);
        return r;
}

/* --volumes-from: the other container's recorded binds and volumes, read-only where it had
 * them so or the mode says ro (Docker copies the mount points the same way). */
static int container_mounts_cb(void *ctx, const char *name, bool ro, json_t **mounts,
                               berth_error_t *err)
{
        struct volume_ctx *v = ctx;
        struct eng_container *other = NULL;
        if (eng_container_find(v->e, name, &other, err) < 0)
                return -1;
        json_t *out = json_array(), *m;
        size_t i;
        json_array_foreach(json_object_get(other->doc, "Mounts"), i, m)
        {
                const char *type = json_string_value(json_object_get(m, "Type"));
                if (type == NULL || (strcmp(type, "bind") != 0 && strcmp(type, "volume") != 0))
                        continue;
                json_t *copy = json_deep_copy(m);
                json_object_set_new(copy, "Mode", json_string(""));
                json_object_set_new(copy, "RW",
                                    json_boolean(!ro && json_is_true(json_object_get(m, "RW"))));
                json_array_append(v->inherited, copy);
                json_array_append_new(out, copy);
        }
        eng_container_free(other);
        *mounts = out;
        return 0;
}

static json_t *volume_mount(json_t *vol, const char *dest, const char *mode, bool rw)
{
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "volume", "Name",
                         json_string_value(json_object_get(vol, "Name")), "Source",
                         json_string_value(json_object_get(vol, "Source")), "Destination", dest,
                         "Driver", "local", "Mode", mode, "RW", rw, "Propagation", "");
}

/* The record's Mounts, shaped as Docker's inspect shows them: binds (-v and --mount), volumes
 * (named with -v get Mode "z", Docker's setBindModeIfNull) and anonymous volumes, tmpfs
 * mounts from --mount.  vols: destination → the volume used there. */
static json_t *mounts_record(json_t *hc, json_t *config, json_t *vols, json_t *inherited)
{
        json_t *out = json_array(), *seen = json_object(), *v;
        size_t i;
        const char *k;
        json_array_foreach(json_object_get(hc, "Binds"), i, v)
        {
                cleanup_free char *copy = berth_xstrdup(json_string_value(v));
                char *dst = strchr(copy, ':');
                if (dst == NULL)
                        continue;
                *dst++ = '\0';
                char *mode = strchr(dst, ':');
                if (mode)
                        *mode++ = '\0';
                const char *prop = "rprivate";
                bool rw = true;
                cleanup_free char *modes = berth_xstrdup(mode ? mode : "");
                char *save = NULL;
                for (char *m = strtok_r(modes, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
                        if (strcmp(m, "ro") == 0)
                                rw = false;
                        else if (strstr(m, "shared") || strstr(m, "slave") || strstr(m, "private"))
                                prop = m;
                }
                json_t *vol = json_object_get(vols, dst);
                if (copy[0] == '/')
                        json_array_append_new(
                                out, json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", "bind",
                                               "Source", copy, "Destination", dst, "Mode",
                                               mode ? mode : "", "RW", rw, "Propagation", prop));
                else if (vol)
                        json_array_append_new(out, volume_mount(vol, dst, mode ? mode : "z", rw));
                json_object_set_new(seen, dst, json_true());
        }
        json_array_foreach(json_object_get(hc, "Mounts"), i, v)
        {
                const char *type = json_string_value(json_object_get(v, "Type"));
                const char *target = json_string_value(json_object_get(v, "Target"));
                const char *source = json_string_value(json_object_get(v, "Source"));
                bool rw = !json_is_true(json_object_get(v, "ReadOnly"));
                if (type == NULL || target == NULL)
                        continue;
                json_object_set_new(seen, target, json_true());
                if (strcmp(type, "volume") == 0) {
                        json_t *vol = json_object_get(vols, target);
                        if (vol)
                                json_array_append_new(out, volume_mount(vol, target, "", rw));
                        continue;
                }
                const char *prop = json_string_value(
                        json_object_get(json_object_get(v, "BindOptions"), "Propagation"));
                bool bind = strcmp(type, "bind") == 0;
                json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s, s:b, s:s}", "Type", type,
                                                     "Source", bind && source ? source : "",
                                                     "Destination", target, "Mode", "", "RW", rw,
                                                     "Propagation",
                                                     bind ? (prop ? prop : "rprivate") : ""));
        }
        json_array_foreach(inherited, i, v)
        {
                const char *dst = json_string_value(json_object_get(v, "Destination"));
                if (dst && json_object_get(seen, dst) == NULL) {
                        json_array_append(out, v);
                        json_object_set_new(seen, dst, json_true());
                }
        }
        json_object_foreach(json_object_get(config, "Volumes"), k, v)
        {
                json_t *vol = json_object_get(vols, k);
                if (vol && json_object_get(seen, k) == NULL)
                        json_array_append_new(out, volume_mount(vol, k, "", true));
        }
        json_decref(seen);
        return out;
}

static int container_pid_cb(void *ctx, const char *what, pid_t *pid, berth_error_t *err)
{
        struct eng_ctx *e = ctx;
        struct eng_container *c = NULL;
        if (eng_container_find(e, what, &c, err) < 0) {
                if (*err)
                        (*err)->status = 125; /* run/create fail with 125 */
                return -1;
        }
        eng_reconcile(e, c, NULL);
        int r = 0;
        if (strcmp(eng_container_status(c), "running") != 0)
                r = berth_fail_status(err, 125, 0, "cannot join container %s: it is not running",
                                      what);
        else
                *pid = (pid_t) json_integer_value(json_object_get(eng_container_state(c), "Pid"));
        eng_container_free(c);
        return r;
}

static int write_bundle(struct eng_container *c, json_t *spec, berth_error_t *err)
{
        if (berth_mkdir_p(c->run_dir, 0700, err) < 0)
                return -1;
        cleanup_free char *path = berth_path_join(c->run_dir, "config.json");
        cleanup_free char *text = json_dumps(spec, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        if (text == NULL)
                return berth_fail(err, ENOMEM, "serialize config.json");
        return berth_write_file_replace(path, text, strlen(text), 0600, err); /* under /run */
}

/* Docker's daemon refuses a cpuset this host does not have at create (the CLI only checks
 * the syntax); a host list berth cannot read or parse checks nothing. */
static int check_cpusets(json_t *hc, berth_error_t *err)
{
        static const struct {
                const char *key, *online, *what;
        } sets[] = {{"CpusetCpus", "/sys/devices/system/cpu/online", "CPUs"},
                    {"CpusetMems", "/sys/devices/system/node/online", "memory nodes"}};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(sets); i++) {
                const char *want = json_string_value(json_object_get(hc, sets[i].key));
                cleanup_free char *online = NULL;
                if (!want || !*want || berth_read_file(sets[i].online, &online, NULL, NULL) < 0)
                        continue;
                online[strcspn(online, "\n")] = 0;
                cpu_set_t w, o, both;
                if (berth_cpulist_parse(online, &o) < 0)
                        continue;
                bool ok = berth_cpulist_parse(want, &w) == 0;
                if (ok) {
                        CPU_AND(&both, &w, &o);
                        ok = CPU_EQUAL(&both, &w);
                }
                if (!ok)
                        return berth_fail(err, 0,
                                          "Requested %s are not available - requested %s, "
                                          "available: %s",
                                          sets[i].what, want, online);
        }
        return 0;
}

int eng_create(struct eng_ctx *e, struct eng_run_flags *f, struct eng_container **out,
               berth_error_t *err)
{
        const char *image = json_string_value(json_object_get(f->config, "Image"));
        struct resolved_image ri = {0};
        if (check_cpusets(f->host_config, err) < 0 ||
            resolve_image(e, image, f->cli.pull, f->cli.quiet, &ri, err) < 0)
                return -1;
        json_t *img_config = json_object_get(ri.cfg, "config");
        /* what `docker inspect` shows: the user's Config with the image's filled in */
        eng_config_merge_image(f->config, img_config);
        json_t *args = NULL;
        if (eng_config_args(f->config, &args, err) < 0) {
                json_decref(ri.cfg);
                return -1;
        }
        /* --storage-opt: refused before anything is made where it can't be honoured */
        int64_t quota = 0;
        if (eng_storage_opts_check(e, f->host_config, &quota, err) < 0) {
                json_decref(args);
                json_decref(ri.cfg);
                return -1;
        }
        struct eng_container *c = NULL;
        char *rootfs = NULL, *hostname_p = NULL, *hosts_p = NULL, *resolv_p = NULL;
        char *cgroups = NULL, *init = NULL, *dns_server = NULL, *host_gateway = NULL;
        char *netns = NULL;
        json_t *spec = NULL, *net_settings = NULL, *vols = json_object(), *inherited = json_array();
        int r = eng_container_new(e, f->cli.name, &c, err);
        if (r < 0)
                goto out;
        r = eng_rootfs_prepare(e, ri.manifest, c->id, &rootfs, err);
        if (r == 0)
                eng_test_crash_point("snapshot-made");
        if (r < 0 || (quota > 0 && (r = eng_storage_quota_apply(e, c->id, quota, err)) < 0))
                goto undo;
        /* Docker makes a missing working directory (root, 0755) at create */
        const char *wd = json_string_value(json_object_get(f->config, "WorkingDir"));
        if (wd && *wd && (r = eng_rootfs_mkdir(rootfs, wd, err)) < 0)
                goto undo;
        const char *hn = json_string_value(json_object_get(f->config, "Hostname"));
        char short_id[13];
        snprintf(short_id, sizeof(short_id), "%.12s", c->id);
        const char *hostname = hn && *hn ? hn : short_id;
        struct volume_ctx vctx = {
                .e = e, .rootfs = rootfs, .by_dest = vols, .inherited = inherited};
        if ((r = eng_links_prepare(e, c->id, eng_container_name(c), f->host_config, err)) < 0)
                goto undo;
        if ((r = eng_net_prepare(e, f->host_config, f->networking, &net_settings, &dns_server,
                                 &host_gateway, err)) < 0)
                goto undo;
        if ((r = etc_files(c, hostname, f->host_config, dns_server, host_gateway, &hostname_p,
                           &hosts_p, &resolv_p, err)) < 0)
                goto undo;
        /* rootless too: berth makes the namespace in its user namespace (engine/network.h) */
        if (eng_net_bridged(f->host_config) && (!e->rootless || berth_in_userns()))
                netns = eng_net_sandbox_path(e, c->id);
        cgroups = eng_cgroup_path("/sys/fs/cgroup", e->rootless, e->uid, geteuid(), c->id);
        init = berth_sibling_binary("berth-init");
        struct eng_spec_input in = {
                .config = f->config,
                .host_config = f->host_config,
                .image_config = img_config,
                .rootfs = rootfs,
                .id = c->id,
                .hostname = hostname,
                .hosts_path = hosts_p,
                .hostname_path = hostname_p,
                .resolv_path = resolv_p,
                .cgroups_path = cgroups,
                .init_path = init,
                .netns_path = netns,
                .volume = volume_cb,
                .volume_ctx = &vctx,
                .container_pid = container_pid_cb,
                .container_ctx = e,
                .container_mounts = container_mounts_cb,
                .mounts_ctx = &vctx,
                .rootless = e->rootless,
                .warnings = f->warnings ? f->warnings : (f->warnings = json_array()),
        };
        if (e->rootless && !berth_in_userns()) {
                /* not in berth's user namespace (engine/userns.h): the container gets
                 * one of its own mapping only our ids, root in it being us outside.
                 * Inside berth's namespace, containers share it (as Podman's do). */
                in.uid_mappings = json_pack("[{s:i, s:i, s:i}]", "containerID", 0, "hostID",
                                            (json_int_t) geteuid(), "size", 1);
                in.gid_mappings = json_pack("[{s:i, s:i, s:i}]", "containerID", 0, "hostID",
                                            (json_int_t) getegid(), "size", 1);
        }
        r = eng_spec_build(&in, &spec, err);
        json_decref(in.uid_mappings);
        json_decref(in.gid_mappings);
        if (r < 0 || (r = write_bundle(c, spec, err)) < 0)
                goto undo;

        /* the record, docker-shaped */
        json_t *d = c->doc;
        json_object_set_new(d, "Path", json_incref(json_array_get(args, 0)));
        json_t *rest = json_array();
        for (size_t i = 1; i < json_array_size(args); i++)
                json_array_append(rest, json_array_get(args, i));
        json_object_set_new(d, "Args", rest);
        json_object_set_new(d, "Image", json_string(ri.id));
        json_object_set_new(d, "ResolvConfPath", json_string(resolv_p));
        json_object_set_new(d, "HostnamePath", json_string(hostname_p));
        json_object_set_new(d, "HostsPath", json_string(hosts_p));
        const char *driver = img_driver_name((enum img_driver) eng_storage_driver(e));
        json_object_set_new(d, "Driver", json_string(driver));
        json_object_set_new(d, "Platform", json_string("linux"));
        json_object_set_new(d, "MountLabel", json_string(""));
        json_object_set_new(d, "ProcessLabel", json_string(""));
        json_object_set_new(d, "AppArmorProfile", json_string(""));
        json_object_set_new(d, "HostConfig", json_incref(f->host_config));
        json_object_set_new(
                d, "GraphDriver",
                json_pack("{s:{s:s}, s:s}", "Data", "MergedDir", rootfs, "Name", driver));
        if (hn == NULL || *hn == '\0') /* Docker records the hostname it gave */
                json_object_set_new(f->config, "Hostname", json_string(hostname));
        json_object_set_new(d, "Config", json_incref(f->config));
        json_object_set_new(d, "Mounts", mounts_record(f->host_config, f->config, vols, inherited));
        json_object_set_new(d, "NetworkSettings", net_settings);
        net_settings = NULL;
        if ((r = eng_container_save(c, err)) < 0)
                goto undo;
        eng_container_unlock(c);
        eng_event_container(e, c, "create", NULL);
        *out = c;
        c = NULL;
        goto out;
undo : {
        berth_error_t ignored = NULL;
        eng_rootfs_remove(e, c, &ignored);
        berth_error_release(&ignored);
        eng_container_remove_record(e, c, &ignored);
        berth_error_release(&ignored);
}
out:
        eng_container_free(c);
        json_decref(vols);
        json_decref(inherited);
        json_decref(spec);
        json_decref(args);
        json_decref(ri.cfg);
        free(rootfs);
        free(hostname_p);
        free(hosts_p);
        free(resolv_p);
        free(cgroups);
        free(init);
        free(dns_server);
        free(host_gateway);
        free(netns);
        json_decref(net_settings);
        return r;
}
