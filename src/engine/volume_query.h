/* volume_query.h — what front-ends ask of named volumes beyond one call of volume.h: Docker's
 * list filters, prune, and a volume made from Docker's create request (POST /volumes/create).
 * `berth volume …` and the Engine API both use these, so they answer alike. */
#ifndef BERTH_ENGINE_VOLUME_QUERY_H
#define BERTH_ENGINE_VOLUME_QUERY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "engine/container.h"

/* filters: {"key": ["value", …]} with the keys of `docker volume ls`: name (substring; values
 * OR'ed), driver, label (K or K=V; every one must match), dangling (true|false|1|0: no
 * container uses it).  Unknown keys and bad values: "invalid filter …", status 125. */
int eng_volume_filters_check(json_t *filters, berth_error_t *err);

/* eng_volume_list narrowed by filters (NULL or {}: all), checked first. */
int eng_volume_list_filtered(struct eng_ctx *e, json_t *filters, json_t **out, berth_error_t *err);

/* Remove the volumes no container uses: anonymous ones (64-hex names) only unless all (or the
 * filter all=true, API 1.42's); filters may hold label=K[=V] and label!=K[=V] too.  *removed:
 * array of names; *reclaimed: the bytes their data took. */
int eng_volume_prune(struct eng_ctx *e, json_t *filters, bool all, json_t **removed,
                     uint64_t *reclaimed, berth_error_t *err);

/* Create from Docker's VolumeCreateBody: Name (empty: a generated one), Driver ("" or local;
 * another is Docker's "plugin not found"), DriverOpts, Labels.  An existing volume of that name
 * is returned as it is, as dockerd does. */
int eng_volume_create_request(struct eng_ctx *e, json_t *req, json_t **out, berth_error_t *err);

#endif
