/* cmd_stop.c — `berth stop`, `berth restart`, `berth kill`, `berth rm`,
 * `berth wait`, `berth pause`, `berth unpause`: the verbs that act on a list
 * of containers. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/containers.h"
#include "engine/lifecycle.h"
#include "oci/oci.h"

static int parse_time(const char *cmd, const char *s, int *out, berth_error_t *err)
{
        char *end;
        long v = strtol(s, &end, 10);
        if (*end || end == s || v < -1 || v > 1000000)
                return cli_usage_error(err, cmd, "invalid value `%s` for --time", s);
        *out = (int) v;
        return 0;
}

static int need_args(const char *cmd, int argc, berth_error_t *err)
{
        if (optind >= argc)
                return cli_args_error(err, cmd, "at least 1 argument");
        return 0;
}

static int do_stop(struct eng_ctx *e, struct eng_container *c, void *arg, berth_error_t *err)
{
        return eng_stop(e, c, *(int *) arg, err);
}

static int do_restart(struct eng_ctx *e, struct eng_container *c, void *arg, berth_error_t *err)
{
        if (eng_stop(e, c, *(int *) arg, err) < 0)
                return -1;
        struct eng_start_opts o = {0};
        int sync = -1;
        return eng_start(e, c, &o, &sync, err);
}

static int stop_like(struct cli_global *g, int argc, char **argv, bool restart, berth_error_t *err)
{
        static const struct option opts[] = {
                {"time", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'}, {0}};
        const char *cmd = restart ? "restart" : "stop";
        int timeout = -1, c;
        while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
                if (c == 't') {
                        if (parse_time(cmd, optarg, &timeout, err) < 0)
                                return -1;
                } else if (c == 'h') {
                        printf("Usage: berth %s [-t SECONDS] CONTAINER [CONTAINER...]\n\n"
                               "%s one or more containers: the stop signal, then SIGKILL after "
                               "the timeout\n(default: the container's --stop-timeout, else 10).\n",
                               cmd, restart ? "Restart" : "Stop");
                        return 0;
                } else {
                        return cli_usage_error(err, cmd, "invalid option");
                }
        }
        if (need_args(cmd, argc, err) < 0)
                return -1;
        return cli_for_each_container(g, argv + optind, argc - optind,
                                      restart ? do_restart : do_stop, &timeout, true, err);
}

int cmd_stop(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        return stop_like(g, argc, argv, false, err);
}

int cmd_restart(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        return stop_like(g, argc, argv, true, err);
}

static int do_kill(struct eng_ctx *e, struct eng_container *c, void *arg, berth_error_t *err)
{
        return eng_kill(e, c, *(int *) arg, err);
}

int cmd_kill(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                {"signal", required_argument, NULL, 's'}, {"help", no_argument, NULL, 'h'}, {0}};
        int sig = SIGKILL, c;
        while ((c = getopt_long(argc, argv, "s:h", opts, NULL)) != -1) {
                if (c == 's') {
                        sig = oci_signal_parse(optarg);
                        if (sig <= 0)
                                /* the daemon's refusal in Docker: status 1 */
                                return berth_fail_status(err, 1, 0, "Invalid signal: %s", optarg);
                } else if (c == 'h') {
                        printf("Usage: berth kill [-s SIGNAL] CONTAINER [CONTAINER...]\n\n"
                               "Send a signal (default KILL) to one or more running containers.\n");
                        return 0;
                } else {
                        return cli_usage_error(err, "kill", "invalid option");
                }
        }
        if (need_args("kill", argc, err) < 0)
                return -1;
        static const struct cli_each_opts each = {.verb = "kill"};
        return cli_for_each_container_opts(g, argv + optind, argc - optind, do_kill, &sig, true,
                                           &each, err);
}

struct rm_opts {
        bool force, volumes;
};

static int do_rm(struct eng_ctx *e, struct eng_container *c, void *arg, berth_error_t *err)
{
        const struct rm_opts *o = arg;
        return eng_remove_volumes(e, c, o->force, o->volumes, err);
}

int cmd_rm(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {{"force", no_argument, NULL, 'f'},
                                             {"volumes", no_argument, NULL, 'v'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
        struct rm_opts o = {0};
        int c;
        while ((c = getopt_long(argc, argv, "fvh", opts, NULL)) != -1) {
                if (c == 'f') {
                        o.force = true;
                } else if (c == 'v') {
                        o.volumes = true;
                } else if (c == 'h') {
                        printf("Usage: berth rm [-f] [-v] CONTAINER [CONTAINER...]\n\n"
                               "Remove one or more containers (-f: stop running ones first; -v: "
                               "their anonymous volumes too).\n");
                        return 0;
                } else {
                        return cli_usage_error(err, "rm", "invalid option");
                }
        }
        if (need_args("rm", argc, err) < 0)
                return -1;
        struct cli_each_opts each = {.missing_ok = o.force};
        return cli_for_each_container_opts(g, argv + optind, argc - optind, do_rm, &o, true, &each,
                                           err);
}

static int do_wait(struct eng_ctx *e, struct eng_container *c, void *arg, berth_error_t *err)
{
        int code;
        if (eng_wait(e, c, &code, err) < 0)
                return -1;
        printf("%d\n", code);
        fflush(stdout);
        return 0;
}

int cmd_wait(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        optind = 1;
        if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
                printf("Usage: berth wait CONTAINER [CONTAINER...]\n\n"
                       "Block until one or more containers stop, then print their exit codes.\n");
                return 0;
        }
        if (need_args("wait", argc, err) < 0)
                return -1;
        return cli_for_each_container(g, argv + 1, argc - 1, do_wait, NULL, false, err);
}

static int do_pause(struct eng_ctx *e, struct eng_container *c, void *arg, berth_error_t *err)
{
        return eng_pause(e, c, *(bool *) arg, err);
}

static int pause_like(struct cli_global *g, int argc, char **argv, bool pause, berth_error_t *err)
{
        optind = 1;
        if (need_args(pause ? "pause" : "unpause", argc, err) < 0)
                return -1;
        return cli_for_each_container(g, argv + 1, argc - 1, do_pause, &pause, true, err);
}

int cmd_pause(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        return pause_like(g, argc, argv, true, err);
}

int cmd_unpause(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        return pause_like(g, argc, argv, false, err);
}
