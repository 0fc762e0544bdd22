/* cmd_container.c — `berth container COMMAND` (Docker's management-command
 * spelling of the container verbs) and `berth container prune`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/containers.h"
#include "common/log.h"
#include "common/units.h"
#include "engine/lifecycle.h"
#include "engine/rootfs.h"
#include "engine/sweep.h"
#include "engine/view.h"

static const struct cli_command container_commands[] = {
        {"attach", cmd_attach, "Attach to a running container"},
        {"commit", cmd_commit, "Create a new image from a container's changes"},
        {"cp", cmd_cp, "Copy files/folders between a container and the local filesystem"},
        {"diff", cmd_diff, "Inspect changes to files or directories on a container's filesystem"},
        {"export", cmd_export, "Export a container's filesystem as a tar archive"},
        {"create", cmd_create, "Create a new container"},
        {"exec", cmd_exec, "Execute a command in a running container"},
        {"inspect", cmd_container_inspect,
         "Display detailed information on one or more containers"},
        {"kill", cmd_kill, "Kill one or more running containers"},
        {"logs", cmd_logs, "Fetch the logs of a container"},
        {"ls", cmd_ps, "List containers"},
        {"list", cmd_ps, NULL},
        {"ps", cmd_ps, NULL},
        {"pause", cmd_pause, "Pause all processes within one or more containers"},
        {"port", cmd_port, "List port mappings of a container"},
        {"prune", cmd_container_prune, "Remove all stopped containers"},
        {"rename", cmd_rename, "Rename a container"},
        {"restart", cmd_restart, "Restart one or more containers"},
        {"rm", cmd_rm, "Remove one or more containers"},
        {"remove", cmd_rm, NULL},
        {"run", cmd_run, "Create and run a new container from an image"},
        {"start", cmd_start, "Start one or more stopped containers"},
        {"stats", cmd_stats, "Display a live stream of container(s) resource usage statistics"},
        {"stop", cmd_stop, "Stop one or more running containers"},
        {"top", cmd_top, "Display the running processes of a container"},
        {"unpause", cmd_unpause, "Unpause all processes within one or more containers"},
        {"update", cmd_update, "Update configuration of one or more containers"},
        {"wait", cmd_wait, "Block until one or more containers stop, then print their exit codes"},
        {NULL, NULL, NULL},
};

int cmd_container(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        return cli_run_group(g, "container", container_commands, argc, argv, err);
}

int cmd_container_prune(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {{"force", no_argument, NULL, 'f'},
                                             {"filter", required_argument, NULL, 'F'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
        bool force = false;
        struct eng_ps_filter *filter = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
                if (c == 'f') {
                        force = true;
                } else if (c == 'F') {
                        if (eng_ps_filter_add(&filter, optarg, err) < 0)
                                return -1;
                } else if (c == 'h') {
                        printf("Usage: berth container prune [-f] [--filter F]\n\n"
                               "Remove all stopped containers\n");
                        eng_ps_filter_free(filter);
                        return 0;
                } else {
                        eng_ps_filter_free(filter);
                        return cli_usage_error(err, "container prune", "invalid option");
                }
        }
        if (!force && !cli_confirm("all stopped containers")) {
                eng_ps_filter_free(filter);
                return 0;
        }
        struct eng_ctx e;
        if (eng_ctx_init(&e, &g->paths, err) < 0) {
                eng_ps_filter_free(filter);
                return -1;
        }
        struct eng_container **v = NULL;
        size_t n = 0;
        /* first what crashed makers and removers left: no `ps` lists it, nothing else frees it */
        size_t swept = 0;
        int r = eng_sweep(&e, &swept, err);
        if (r == 0 && swept > 0)
                log_info("removed %zu half-made container(s) and snapshot(s)", swept);
        if (r == 0)
                r = eng_list_reconciled(&e, &v, &n, err);
        bool any = false;
        uint64_t reclaimed = 0;
        for (size_t i = 0; r == 0 && i < n; i++) {
                const char *st = eng_container_status(v[i]);
                if (strcmp(st, "exited") != 0 && strcmp(st, "created") != 0 &&
                    strcmp(st, "dead") != 0)
                        continue;
                if (filter && !eng_ps_filter_match(filter, &e, v[i]))
                        continue;
                uint64_t size = eng_rootfs_size(&e, v[i]);
                berth_error_t rerr = NULL;
                if (eng_remove(&e, v[i], false, &rerr) < 0) {
                        log_error("%s", berth_error_msg(rerr));
                        berth_error_release(&rerr);
                        continue;
                }
                if (!any)
                        printf("Deleted Containers:\n");
                printf("%s\n", v[i]->id);
                any = true;
                reclaimed += size;
        }
        if (r == 0) {
                char sz[32];
                berth_format_size((int64_t) reclaimed, sz, sizeof(sz));
                printf("%sTotal reclaimed space: %s\n", any ? "\n" : "", sz);
        }
        eng_container_list_free(v, n);
        eng_ctx_free(&e);
        eng_ps_filter_free(filter);
        return r;
}
