/* containers.c — shared plumbing of the container subcommands. */
#include "cli/containers.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "common/util.h"
#include "engine/lifecycle.h"

int cli_for_each_container_opts(struct cli_global *g, char **names, int n, cli_each_fn fn,
                                void *arg, bool print_names, const struct cli_each_opts *o,
                                berth_error_t *err)
{
        static const struct cli_each_opts none = {0};
        if (o == NULL)
                o = &none;
        struct eng_ctx e;
        if (eng_ctx_init(&e, &g->paths, err) < 0)
                return -1;
        int failed = 0;
        cleanup_free char *failures = NULL;
        for (int i = 0; i < n; i++) {
                struct eng_container *c = NULL;
                berth_error_t cerr = NULL;
                bool found = eng_container_find(&e, names[i], &c, &cerr) == 0;
                if (!found && o->missing_ok) {
                        /* docker rm -f: said, and no failure */
                        log_error("%s", berth_error_msg(cerr));
                        berth_error_release(&cerr);
                } else if (!found || fn(&e, c, arg, &cerr) < 0) {
                        if (o->verb)
                                log_error("Cannot %s container: %s: %s", o->verb, names[i],
                                          berth_error_msg(cerr));
                        else
                                log_error("%s", berth_error_msg(cerr));
                        berth_error_release(&cerr);
                        failed++;
                        char *more = berth_xasprintf("%s%s%s", failures ? failures : "",
                                                     failures ? ", " : "", names[i]);
                        free(failures);
                        failures = more;
                } else if (print_names) {
                        printf("%s\n", names[i]);
                        fflush(stdout);
                }
                eng_container_free(c);
        }
        eng_ctx_free(&e);
        if (failed && o->summary)
                log_error("%s: %s", o->summary, failures);
        return failed ? 1 : 0;
}

int cli_for_each_container(struct cli_global *g, char **names, int n, cli_each_fn fn, void *arg,
                           bool print_names, berth_error_t *err)
{
        return cli_for_each_container_opts(g, names, n, fn, arg, print_names, NULL, err);
}
