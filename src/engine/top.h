/* top.h — `docker top`: the host's ps, its rows kept for the container's processes; as text
 * (what `berth top` prints) and as the Engine API's {Titles, Processes}. */
#ifndef BERTH_ENGINE_TOP_H
#define BERTH_ENGINE_TOP_H

#include <jansson.h>
#include <stddef.h>

#include "common/error.h"
#include "engine/container.h"

/* Runs ps with args (each its own argv entry, never through a shell; none: "-ef") and keeps
 * the header and the lines whose PID column names a process of the running container c.
 * *out: that text (malloc'ed).  Fails with status 1 as Docker's daemon refuses. */
int eng_top(struct eng_container *c, char *const *args, size_t n_args, char **out,
            berth_error_t *err);

/* ps text as Docker's daemon answers it: {"Titles": [header words], "Processes": [[fields]]},
 * the last column taking the rest of each line (a command with its arguments). */
json_t *eng_top_json(const char *text);

#endif
