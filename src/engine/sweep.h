/* sweep.h — what crashed `berth` processes left behind: records a maker or remover killed
 * half-way, names they held, container snapshots without a record.  prune calls it. */
#ifndef BERTH_ENGINE_SWEEP_H
#define BERTH_ENGINE_SWEEP_H

#include <stddef.h>

#include "common/error.h"
#include "engine/container.h"

/* Remove them all; *removed (may be NULL) gets how many half-made containers and lone
 * snapshots went.  Records at work (their lock held) are left alone. */
int eng_sweep(struct eng_ctx *e, size_t *removed, berth_error_t *err);

#endif
