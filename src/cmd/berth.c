/* berth.c — main() of the `berth` CLI: global options, then one subcommand. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/log.h"
#include "engine/userns.h"

static const struct cli_command commands[] = {
        {"attach", cmd_attach, "Attach to a running container's input and output"},
        {"check", cmd_check, "Report what this host can run (namespaces, cgroups, overlayfs, KVM)"},
        {"commit", cmd_commit, "Create a new image from a container's changes"},
        {"container", cmd_container, "Manage containers"},
        {"cp", cmd_cp, "Copy files/folders between a container and the local filesystem"},
        {"build", cmd_build, "Build an image from a Containerfile"},
        {"builder", cmd_builder, "Manage builds (prune: remove the build cache)"},
        {"create", cmd_create, "Create a new container"},
        {"diff", cmd_diff, "Inspect changes to files or directories on a container's filesystem"},
        {"disk", cmd_disk, "Create, inspect, convert and snapshot disk images (raw, qcow2)"},
        {"events", cmd_events, "Get real time events from the server"},
        {"exec", cmd_exec, "Execute a command in a running container"},
        {"export", cmd_export, "Export a container's filesystem as a tar archive"},
        {"history", cmd_history, "Show the history of an image"},
        {"image", cmd_image, "Manage images (ls, rm, tag, inspect, history, prune, save, load)"},
        {"images", cmd_images, "List images"},
        {"import", cmd_import, "Create an image from a root filesystem tarball"},
        {"info", cmd_info, "Display system-wide information"},
        {"inspect", cmd_inspect, "Return low-level information on containers or images"},
        {"kill", cmd_kill, "Send a signal to one or more running containers"},
        {"load", cmd_load, "Load images from a docker-archive or OCI layout"},
        {"login", cmd_login, "Log in to a registry"},
        {"logout", cmd_logout, "Log out from a registry"},
        {"pull", cmd_pull, "Download an image from a registry"},
        {"push", cmd_push, "Upload an image to a registry"},
        {"logs", cmd_logs, "Fetch the logs of a container"},
        {"network", cmd_network, "Manage networks"},
        {"pause", cmd_pause, "Pause all processes within one or more containers"},
        {"port", cmd_port, "List port mappings of a container"},
        {"ps", cmd_ps, "List containers"},
        {"rename", cmd_rename, "Rename a container"},
        {"restart", cmd_restart, "Restart one or more containers"},
        {"rm", cmd_rm, "Remove one or more containers"},
        {"rmi", cmd_rmi, "Remove one or more images"},
        {"run", cmd_run, "Create and run a new container from an image"},
        {"save", cmd_save, "Save images to a docker-archive or OCI layout"},
        {"start", cmd_start, "Start one or more stopped containers"},
        {"stats", cmd_stats, "Display containers' resource usage statistics"},
        {"stop", cmd_stop, "Stop one or more running containers"},
        {"system", cmd_system, "Manage berth (df, prune, info)"},
        {"tag", cmd_tag, "Create a name that refers to an image"},
        {"top", cmd_top, "Display the running processes of a container"},
        {"unpause", cmd_unpause, "Unpause all processes within one or more containers"},
        {"update", cmd_update, "Update configuration of one or more containers"},
        {"version", cmd_version, "Show the berth version information"},
        {"vm", cmd_vm, "Manage KVM microVMs (create, ls, start, shutdown, destroy, console, ...)"},
        {"volume", cmd_volume, "Manage volumes"},
        {"wait", cmd_wait, "Block until one or more containers stop, then print their exit codes"},
        {NULL, NULL, NULL},
};

static void usage(FILE *out)
{
        fprintf(out, "Usage: berth [GLOBAL OPTIONS] COMMAND [ARG...]\n"
                     "\n"
                     "Containers and KVM microVMs.\n"
                     "\n"
                     "Global options:\n"
                     "  --log PATH            write log lines to PATH instead of stderr\n"
                     "  --log-format FORMAT   text (default) or json\n"
                     "  --log-level LEVEL     error, warning (default), info or debug\n"
                     "  --debug               same as --log-level debug\n"
                     "  -h, --help            show this help\n"
                     "  -v, --version         show the version\n"
                     "\n"
                     "Commands:\n");
        for (size_t i = 0; commands[i].name; i++)
                fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
        fprintf(out, "\nRun `berth COMMAND --help` for a command's options.\n");
}

int main(int argc, char **argv)
{
        cleanup_error berth_error_t err = NULL;
        struct cli_global g = {.prog = "berth", .argv = argv};
        const char *log_path = NULL;
        enum berth_log_format fmt = BERTH_LOG_TEXT;
        enum berth_log_level level = BERTH_LOG_WARN;
        enum { OPT_LOG = 256, OPT_LOG_FORMAT, OPT_LOG_LEVEL, OPT_DEBUG };
        static const struct option opts[] = {
                {"log", required_argument, NULL, OPT_LOG},
                {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
                {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
                {"debug", no_argument, NULL, OPT_DEBUG},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'v'},
                {0},
        };
        int c;
        while ((c = getopt_long(argc, argv, "+hv", opts, NULL)) != -1) {
                switch (c) {
                case OPT_LOG:
                        log_path = optarg;
                        break;
                case OPT_LOG_FORMAT:
                        if (berth_log_parse_format(optarg, &fmt, &err) < 0)
                                return berth_error_report(&err, BERTH_EXIT_ERROR);
                        break;
                case OPT_LOG_LEVEL:
                        if (berth_log_parse_level(optarg, &level, &err) < 0)
                                return berth_error_report(&err, BERTH_EXIT_ERROR);
                        break;
                case OPT_DEBUG:
                        level = BERTH_LOG_DEBUG;
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                case 'v':
                        printf("berth version %s\n", BERTH_VERSION);
                        return 0;
                default:
                        usage(stderr);
                        return BERTH_EXIT_ERROR;
                }
        }
        if (berth_log_init("berth", level, fmt, log_path, &err) < 0)
                return berth_error_report(&err, BERTH_EXIT_ERROR);
        if (optind >= argc) {
                usage(stderr);
                return BERTH_EXIT_ERROR;
        }
        const char *name = argv[optind];
        for (size_t i = 0; commands[i].name; i++) {
                if (strcmp(commands[i].name, name) != 0)
                        continue;
                if (berth_paths_default(&g.paths, &err) < 0)
                        return berth_error_report(&err, BERTH_EXIT_ERROR);
                /* rootless: containers and images live in the user's own user namespace;
                 * `check` probes the host as the user is, `disk` and `login` need no ids */
                static const char *const outside[] = {"check", "disk", "login", "logout",
                                                      "version"};
                bool enter = g.paths.rootless;
                for (size_t k = 0; k < sizeof(outside) / sizeof(outside[0]); k++)
                        enter = enter && strcmp(name, outside[k]) != 0;
                if (enter && eng_userns_enter(g.paths.run_dir, &err) < 0)
                        return berth_error_report(&err, BERTH_EXIT_ERROR);
                int first = optind;
                optind = 0; /* the subcommand runs getopt afresh on its own argv */
                opterr = 0; /* a bad flag is said in Docker's words (cli_usage_error) */
                cli_command_args(argc - first, argv + first);
                int ret = commands[i].run(&g, argc - first, argv + first, &err);
                berth_paths_free(&g.paths);
                if (ret < 0)
                        return berth_error_report(&err, BERTH_EXIT_ERROR);
                return ret;
        }
        /* the docker CLI's words and status */
        log_error("unknown command: berth %s\n\nRun 'berth --help' for more information", name);
        return 1;
}
