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
#include "engine/sysinfo.h"
#include "engine/volume.h"
#include "image/image.h"

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
        struct eng_usage u;
        if (eng_usage_gather(&g->paths, true, &u, NULL, err) < 0)
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
        struct eng_usage u;
        if (eng_usage_gather(&g->paths, false, &u, NULL, err) < 0)
                return -1;
        json_t *info = eng_info_doc(&g->paths, &u);
        const char *layout = json_string_value(json_object_get(info, "CgroupLayout"));
        bool hybrid = strcmp(layout, "hybrid") == 0;
        cleanup_free char *uidmap = NULL, *gidmap = NULL;
        if (g->paths.rootless) {
                berth_error_t ignored = NULL;
                if (berth_read_file("/proc/self/uid_map", &uidmap, NULL, &ignored) < 0 ||
                    berth_read_file("/proc/self/gid_map", &gidmap, NULL, &ignored) < 0)
                        berth_error_release(&ignored);
        }
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
                         (double) json_integer_value(json_object_get(info, "MemTotal")) /
                                 (1024.0 * 1024.0 * 1024.0));
#define S(k) json_string_value(json_object_get(info, k))
                printf("Server:\n"
                       " Containers: %zu\n  Running: %zu\n  Paused: %zu\n  Stopped: %zu\n"
                       " Images: %zu\n Server Version: %s (daemonless)\n"
                       " Storage Driver: %s\n Logging Driver: json-file\n"
                       " Cgroup Driver: cgroupfs\n Cgroup Version: %s%s\n"
                       " Runtimes: berth-oci (in-process)\n Default Runtime: berth-oci\n"
                       " Init Binary: berth-init\n Kernel Version: %s\n Operating System: %s\n"
                       " OSType: linux\n Architecture: %s\n CPUs: %lld\n Total Memory: %s\n"
                       " Name: %s\n Berth Root Dir: %s\n Berth Run Dir: %s\n",
                       u.containers, u.running, u.paused, u.stopped, u.images, BERTH_VERSION,
                       S("Driver"), S("CgroupVersion"),
                       hybrid ? " (hybrid: v1 controllers, a v2 hierarchy beside them)" : "",
                       S("KernelVersion"), S("OperatingSystem"), S("Architecture"),
                       (long long) json_integer_value(json_object_get(info, "NCPU")), mem,
                       S("Name"), g->paths.data_dir, g->paths.run_dir);
#undef S
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
