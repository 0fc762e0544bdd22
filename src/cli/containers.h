/* containers.h — what the container subcommands share. */
#ifndef BERTH_CLI_CONTAINERS_H
#define BERTH_CLI_CONTAINERS_H

#include "cli/cli.h"
#include "engine/container.h"

/* For `stop a b c`-style commands: run fn on each named container, print
 * its name as given on success (as Docker does), report each failure, and
 * return 0 or, if any failed, 1 with the errors already printed. */
typedef int (*cli_each_fn)(struct eng_ctx *e, struct eng_container *c, void *arg,
                           berth_error_t *err);
int cli_for_each_container(struct cli_global *g, char **names, int n, cli_each_fn fn, void *arg,
                           bool print_names, berth_error_t *err);

/* Docker's per-verb details of the same loop. */
struct cli_each_opts {
        bool missing_ok;     /* `rm -f`: a container that isn't there is said, but no error */
        const char *verb;    /* "kill": each error reads "Cannot kill container: NAME: …" */
        const char *summary; /* "start": "Error: failed to start containers: a, b" at the end */
};
int cli_for_each_container_opts(struct cli_global *g, char **names, int n, cli_each_fn fn,
                                void *arg, bool print_names, const struct cli_each_opts *o,
                                berth_error_t *err);

#endif
