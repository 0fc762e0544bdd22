/* create.h — `berth create`: from parsed run flags and an image to a
 * container record with its root filesystem, its /etc files and its OCI
 * bundle, ready for eng_start.  On failure nothing is left behind. */
#ifndef BERTH_ENGINE_CREATE_H
#define BERTH_ENGINE_CREATE_H

#include "common/error.h"
#include "engine/container.h"
#include "engine/runflags.h"

/* Consumes nothing of f (the caller releases it).  *out: the new record. */
int eng_create(struct eng_ctx *e, struct eng_run_flags *f, struct eng_container **out,
               berth_error_t *err);

#endif
