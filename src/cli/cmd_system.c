/* cmd_system.c — `berth system df|prune|info` and `berth info`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <limits.h>
#include <poll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "cli/containers.h"
#include "cli/image_common.h"
#include "common/log.h"
#include "common/template.h"
#include "common/units.h"
#include "common/util.h"
#include "engine/network.h"
#include "engine/lifecycle.h"
#include "engine/rootfs.h"
#include "engine/volume.h"
#include "image/image.h"

struct usage {
        size_t images, images_active, containers, containers_active, volumes, volumes_active;
        uint64_t images_size, images_reclaimable, containers_size, containers_reclaimable,
                volumes_size, volumes_reclaimable;
        size_t running, paused, stopped;
};

static bool used_by(struct eng_container **v, size_t n, const char *config_digest)
{
        for (size_t i = 0; i < n; i++) {
                const char *img = json_string_value(json_object_get(v[i]->doc, "Image"));
                if (img && strcmp(img, config_digest) == 0)
                        return true;
        }
        return false;
}

static int gather(struct cli_global *g, struct usage *u, bool sizes, berth_error_t *err)
{
        memset(u, 0, sizeof(*u));
        struct eng_ctx e;
        if (eng_ctx_init(&e, &g->paths, err) < 0)
                return -1;
        struct eng_container **v = NULL;
        size_t n = 0;
        int r = eng_list_reconciled(&e, &v, &n, err);
        for (size_t i = 0; r == 0 && i < n; i++) {
                const char *st = eng_container_status(v[i]);
                bool live = strcmp(st, "running") == 0 || strcmp(st, "paused") == 0 ||
                            strcmp(st, "restarting") == 0;
                u->containers++;
                u->running += strcmp(st, "running") == 0 || strcmp(st, "restarting") == 0;
                u->paused += strcmp(st, "paused") == 0;
                u->stopped += !live;
                u->containers_active += live;
                uint64_t sz = sizes ? eng_rootfs_size(&e, v[i]) : 0;
                u->containers_size += sz;
                if (!live)
                        u->containers_reclaimable += sz;
        }
        struct img_store s;
        if (r == 0 && (r = cli_store_open(g, &s, err)) == 0) {
                struct img_table t;
                if ((r = img_table_load(&s, &t, err)) == 0) {
                        for (size_t i = 0; i < t.n; i++) {
                                struct img_image img = {0};
                                berth_error_t ierr = NULL;
                                if (img_image_load(&s, t.v[i].manifest, &img, &ierr) < 0) {
                                        berth_error_release(&ierr);
                                        continue;
                                }
                                u->images++;
                                bool used = used_by(v, n, img.config.digest);
                                u->images_active += used;
                                uint64_t sz = (uint64_t) img_image_size(&img);
                                u->images_size += sz;
                                if (!used)
                                        u->images_reclaimable += sz;
                                img_image_free(&img);
                        }
                        img_table_free(&t);
                }
                img_store_close(&s);
        }
        json_t *vols = NULL;
        if (r == 0 && (r = eng_volume_list(&e, &vols, err)) == 0) {
                size_t i;
                json_t *vol;
                json_array_foreach(vols, i, vol)
                {
                        const char *name = json_string_value(json_object_get(vol, "Name"));
                        json_t *users = eng_volume_users(&e, name);
                        bool used = json_array_size(users) > 0;
                        json_decref(users);
                        uint64_t sz = sizes ? berth_du(json_string_value(
                                                      json_object_get(vol, "Mountpoint")))
                                            : 0;
                        u->volumes++;
                        u->volumes_active += used;
                        u->volumes_size += sz;
                        if (!used)
                                u->volumes_reclaimable += sz;
                }
                json_decref(vols);
        }
        eng_container_list_free(v, n);
        eng_ctx_free(&e);
        return r;
}

static json_t *df_row(const char *type, size_t total, size_t active, uint64_t size,
                      uint64_t reclaimable)
{
        char s[32], rc[32], rcp[48], t[16], a[16];
        berth_format_size((int64_t) size, s, sizeof(s));
        berth_format_size((int64_t) reclaimable, rc, sizeof(rc));
        snprintf(rcp, sizeof(rcp), "%s (%d%%)", rc, size ? (int) (reclaimable * 100 / size) : 0);
        snprintf(t, sizeof(t), "%zu", total);
        snprintf(a, sizeof(a), "%zu", active);
        return json_pack("{s:s, s:s, s:s, s:s, s:s}", "Type", type, "TotalCount", t, "Active", a,
                         "Size", s, "Reclaimable", rcp);
}

static const struct berth_tmpl_header df_headers[] = {
        {"Type", "TYPE"}, {"TotalCount", "TOTAL"},        {"Active", "ACTIVE"},
        {"Size", "SIZE"}, {"Reclaimable", "RECLAIMABLE"}, {NULL, NULL},
};

static int system_df(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                {"format", required_argument, NULL, 'f'}, {"verbose", no_argument, NULL, 'v'}, {0}};
        const char *format = NULL;
        int c;
        optind = 0;
        while ((c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
                if (c == 'f')
                        format = optarg;
                else if (c != 'v')
                        return cli_usage_error(err, "system df", "invalid option");
        }
        struct usage u;
        if (gather(g, &u, true, err) < 0)
                return -1;
        json_t *rows = json_array();
        json_array_append_new(rows, df_row("Images", u.images, u.images_active, u.images_size,
                                           u.images_reclaimable));
        json_array_append_new(rows, df_row("Containers", u.containers, u.containers_active,
                                           u.containers_size, u.containers_reclaimable));
        json_array_append_new(rows, df_row("Local Volumes", u.volumes, u.volumes_active,
                                           u.volumes_size, u.volumes_reclaimable));
        json_array_append_new(rows, df_row("Build Cache", 0, 0, 0, 0));
        int r = berth_tmpl_print_rows(
                format ? format
                       : "table "
                         "{{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}",
                rows, df_headers, stdout, err);
        json_decref(rows);
        return r;
}

static int system_prune(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {{"all", no_argument, NULL, 'a'},
                                             {"force", no_argument, NULL, 'f'},
                                             {"volumes", no_argument, NULL, 'V'},
                                             {0}};
        bool all = false, force = false, volumes = false;
        int c;
        optind = 0;
        while ((c = getopt_long(argc, argv, "af", opts, NULL)) != -1) {
                if (c == 'a')
                        all = true;
                else if (c == 'f')
                        force = true;
                else if (c == 'V')
                        volumes = true;
                else
                        return cli_usage_error(err, "system prune", "invalid option");
        }
        if (!force) {
                char what[512];
                snprintf(what, sizeof(what),
                         "all stopped containers\n  - all networks not used by at least one "
                         "container%s\n  - %s",
                         volumes ? "\n  - all volumes not used by at least one container" : "",
                         all ? "all images without at least one container associated to them"
                             : "all dangling images");
                if (!cli_confirm(what))
                        return 0;
        }
        char prune[] = "prune", f[] = "-f", a[] = "-a";
        char *cargv[] = {prune, f, NULL};
        optind = 0;
        if (cmd_container_prune(g, 2, cargv, err) < 0)
                return -1;
        char network[] = "network";
        char *nargv[] = {network, prune, f, NULL};
        optind = 0;
        if (cmd_network(g, 3, nargv, err) < 0)
                return -1;
        if (volumes) {
                char volume[] = "volume";
                char *vargv[] = {volume, prune, f, NULL};
                optind = 0;
                if (cmd_volume(g, 3, vargv, err) < 0)
                        return -1;
        }
        char *iargv[] = {prune, f, all ? a : NULL, NULL};
        optind = 0;
        return cmd_image_prune(g, all ? 3 : 2, iargv, err);
}

/* "inside outside count" lines as [{ContainerID, HostID, Size}] */
static json_t *idmap_json(const char *text)
{
        json_t *a = json_array();
        for (const char *p = text; p && *p;) {
                unsigned long in, out, n;
                if (sscanf(p, " %lu %lu %lu", &in, &out, &n) == 3)
                        json_array_append_new(
                                a, json_pack("{s:I, s:I, s:I}", "ContainerID", (json_int_t) in,
                                             "HostID", (json_int_t) out, "Size", (json_int_t) n));
                p = strchr(p, '\n');
                p = p ? p + 1 : NULL;
        }
        return a;
}

static void os_name(char *buf, size_t len)
{
        snprintf(buf, len, "Linux");
        cleanup_free char *text = NULL;
        if (berth_read_file("/etc/os-release", &text, NULL, NULL) < 0)
                return;
        char *p = strstr(text, "PRETTY_NAME=");
        if (p == NULL)
                return;
        p += 12;
        if (*p == '"')
                p++;
        size_t n = strcspn(p, "\"\n");
        snprintf(buf, len, "%.*s", (int) n, p);
}

int cmd_info(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {{"format", required_argument, NULL, 'f'}, {0}};
        const char *format = NULL;
        int c;
        optind = 0;
        while ((c = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
                if (c != 'f')
                        return cli_usage_error(err, "info", "invalid option");
                format = optarg;
        }
        struct usage u;
        if (gather(g, &u, false, err) < 0)
                return -1;
        struct utsname un;
        uname(&un);
        char os[128], host[256] = "";
        os_name(os, sizeof(os));
        gethostname(host, sizeof(host) - 1);
        bool v2_only = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
        bool hybrid = !v2_only && access("/sys/fs/cgroup/unified/cgroup.controllers", F_OK) == 0;
        long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
        struct eng_ctx ectx = {.rootless = g->paths.rootless};
        const char *driver = img_driver_name((enum img_driver) eng_storage_driver(&ectx));
        json_t *info = json_pack(
                "{s:i, s:i, s:i, s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
                "s:i, s:I, s:s, s:s, s:s, s:s}",
                "Containers", (json_int_t) u.containers, "ContainersRunning",
                (json_int_t) u.running, "ContainersPaused", (json_int_t) u.paused,
                "ContainersStopped", (json_int_t) u.stopped, "Images", (json_int_t) u.images,
                "Driver", driver, "LoggingDriver", "json-file", "CgroupDriver", "cgroupfs",
                "CgroupVersion", v2_only ? "2" : "1", "DefaultRuntime", "berth-oci",
                "KernelVersion", un.release, "OperatingSystem", os, "OSType", "linux",
                "Architecture", un.machine, "ServerVersion", BERTH_VERSION, "NCPU",
                (json_int_t) sysconf(_SC_NPROCESSORS_ONLN), "MemTotal", (json_int_t) pages * psize,
                "Name", host, "DockerRootDir", g->paths.data_dir, "BerthRunDir", g->paths.run_dir,
                "CgroupLayout",
                v2_only  ? "unified"
                : hybrid ? "hybrid"
                         : "legacy");
        /* Docker's SecurityOptions; rootless, Podman's idMappings of berth's namespace */
        json_t *secopts = json_pack("[s]", "name=seccomp,profile=builtin");
        cleanup_free char *uidmap = NULL, *gidmap = NULL;
        if (g->paths.rootless) {
                json_array_append_new(secopts, json_string("name=rootless"));
                berth_error_t ignored = NULL;
                if (berth_read_file("/proc/self/uid_map", &uidmap, NULL, &ignored) < 0 ||
                    berth_read_file("/proc/self/gid_map", &gidmap, NULL, &ignored) < 0)
                        berth_error_release(&ignored);
                json_object_set_new(info, "IDMappings",
                                    json_pack("{s:o, s:o}", "UIDMap", idmap_json(uidmap), "GIDMap",
                                              idmap_json(gidmap)));
        }
        json_object_set_new(info, "SecurityOptions", secopts);
        int r = 0;
        if (format) {
                struct berth_tmpl *t;
                char *out = NULL;
                if ((r = berth_tmpl_parse(format, &t, err)) == 0) {
                        if ((r = berth_tmpl_exec(t, info, &out, err)) == 0)
                                printf("%s\n", out);
                        free(out);
                        berth_tmpl_free(t);
                }
        } else {
                char mem[32];
                snprintf(mem, sizeof(mem), "%.2fGiB",
                         (double) pages * (double) psize / (1024.0 * 1024.0 * 1024.0));
                printf("Server:\n"
                       " Containers: %zu\n  Running: %zu\n  Paused: %zu\n  Stopped: %zu\n"
                       " Images: %zu\n Server Version: %s (daemonless)\n"
                       " Storage Driver: %s\n Logging Driver: json-file\n"
                       " Cgroup Driver: cgroupfs\n Cgroup Version: %s%s\n"
                       " Runtimes: berth-oci (in-process)\n Default Runtime: berth-oci\n"
                       " Init Binary: berth-init\n Kernel Version: %s\n Operating System: %s\n"
                       " OSType: linux\n Architecture: %s\n CPUs: %ld\n Total Memory: %s\n"
                       " Name: %s\n Berth Root Dir: %s\n Berth Run Dir: %s\n",
                       u.containers, u.running, u.paused, u.stopped, u.images, BERTH_VERSION,
                       driver, v2_only ? "2" : "1",
                       hybrid ? " (hybrid: v1 controllers, a v2 hierarchy beside them)" : "",
                       un.release, os, un.machine, sysconf(_SC_NPROCESSORS_ONLN), mem, host,
                       g->paths.data_dir, g->paths.run_dir);
                printf(" Security Options:\n  seccomp\n   Profile: builtin\n%s",
                       g->paths.rootless ? "  rootless\n" : "");
                if (g->paths.rootless)
                        printf(" ID Mappings (inside outside count):\n  uid: %s  gid: %s",
                               uidmap ? uidmap : "?\n", gidmap ? gidmap : "?\n");
        }
        json_decref(info);
        return r;
}

static const struct cli_command system_commands[] = {
        {"df", system_df, "Show disk usage"},
        {"info", cmd_info, "Display system-wide information"},
        {"prune", system_prune, "Remove unused data"},
        {"service", cmd_system_service,
         "Serve the Docker Engine API and keep restart policies working"},
        {NULL, NULL, NULL},
};

int cmd_system(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        return cli_run_group(g, "system", system_commands, argc, argv, err);
}
