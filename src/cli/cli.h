/* cli.h — what the `berth` subcommands share: global options and the
 * command table.  One file per command (cmd_<name>.c); the binary's main()
 * in src/cmd/berth.c only parses global options and dispatches. */
#ifndef BERTH_CLI_CLI_H
#define BERTH_CLI_CLI_H

#include <stdbool.h>

#include "common/error.h"
#include "common/paths.h"

/* Exit statuses of `berth` (docs/exit-codes.md).  Docker's convention:
 * 125 is berth's own failure; a container's status passes through. */
enum {
        BERTH_EXIT_OK = 0,
        BERTH_EXIT_CHECK_MISSING = 1, /* `berth check`: a feature's requirement is missing */
        BERTH_EXIT_ERROR = 125,
};

struct cli_global {
        const char *prog;
        char **argv; /* the whole command line, for re-executing ourselves */
        struct berth_paths paths;
};

typedef int (*cli_cmd_fn)(struct cli_global *g, int argc, char **argv, berth_error_t *err);

struct cli_command {
        const char *name;
        cli_cmd_fn run;
        const char *summary;
};

/* The argument vector the command about to run hands getopt_long (main and cli_run_group
 * note it), so that cli_usage_error(err, cmd, "invalid option") after a '?' from getopt (with
 * opterr off) can say what was wrong in Docker's words: "unknown flag: --x", "unknown
 * shorthand flag: 'x' in -x", "flag needs an argument: --x". */
void cli_command_args(int argc, char **argv);

/* Returns a usage error (exit 125) with the command named, for bad flags. */
int cli_usage_error(berth_error_t *err, const char *cmd, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Docker's words and status (1, not a flag error's 125) for a wrong number of arguments:
 * "'berth CMD' requires NEED", NEED such as "at least 1 argument". */
int cli_args_error(berth_error_t *err, const char *cmd, const char *need);

/* Docker's CLI exits 1 for any failure the daemon reports (125 is for run and create, and
 * flag errors): r, with a failure that carries no status of its own given 1. */
int cli_status_1(int r, berth_error_t *err);

/* Docker's management groups (`berth image ls`, `berth container rm`): run
 * the entry of table named by argv[1], or print the group's usage. */
int cli_run_group(struct cli_global *g, const char *group, const struct cli_command *table,
                  int argc, char **argv, berth_error_t *err);

/* "WARNING! This will remove WHAT.\nAre you sure you want to continue? [y/N]" */
bool cli_confirm(const char *what);

int cmd_check(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_container(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_container_prune(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_system(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_system_service(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_info(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_disk(struct cli_global *g, int argc, char **argv, berth_error_t *err);
/* microVMs (src/vm) */
int cmd_vm(struct cli_global *g, int argc, char **argv, berth_error_t *err);

/* containers (src/engine) */
int cmd_ps(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_start(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_attach(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_stop(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_restart(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_kill(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_rm(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_wait(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_pause(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_unpause(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_logs(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_inspect(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_container_inspect(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_run(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_create(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_exec(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_volume(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_network(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_top(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_update(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_stats(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_port(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_cp(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_commit(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_version(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_export(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_diff(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_rename(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_events(struct cli_global *g, int argc, char **argv, berth_error_t *err);

/* images (src/image) */
int cmd_images(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_image(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_builder(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_image_inspect(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_image_mount(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_image_unmount(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_image_prune(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_import(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_build(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_tag(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_rmi(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_history(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_save(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_load(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_pull(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_push(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_login(struct cli_global *g, int argc, char **argv, berth_error_t *err);
int cmd_logout(struct cli_global *g, int argc, char **argv, berth_error_t *err);

#endif
