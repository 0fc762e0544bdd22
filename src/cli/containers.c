/* containers.c — shared plumbing of the container subcommands. */
#include "cli/containers.h"

#include <stdio.h>

#include "common/log.h"
#include "engine/lifecycle.h"

int cli_for_each_container(struct cli_global *g, char **names, int n, cli_each_fn fn, void *arg,
                           bool print_names, berth_error_t *err)
{
        struct eng_ctx e;
        if (eng_ctx_init(&e, &g->paths, err) < 0)
                return -1;
        int failed = 0;
        for (int i = 0; i < n; i++) {
                struct eng_container *c = NULL;
                berth_error_t cerr = NULL;
                if (eng_container_find(&e, names[i], &c, &cerr) < 0 || fn(&e, c, arg, &cerr) < 0) {
                        log_error("%s", berth_error_msg(cerr));
                        berth_error_release(&cerr);
                        failed++;
                } else if (print_names) {
                        printf("%s\n", names[i]);
                        fflush(stdout);
                }
                eng_container_free(c);
        }
        eng_ctx_free(&e);
        return failed ? 1 : 0;
}
