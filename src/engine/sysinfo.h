/* sysinfo.h — what `berth info` / `berth system df` and the Engine API's GET /info and
 * GET /system/df report: counts and sizes of containers, images and volumes, and the host's
 * description (kernel, cgroups, storage driver, security options). */
#ifndef BERTH_ENGINE_SYSINFO_H
#define BERTH_ENGINE_SYSINFO_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/paths.h"

struct eng_usage {
        size_t images, images_active, containers, containers_active, volumes, volumes_active;
        uint64_t images_size, images_reclaimable, containers_size, containers_reclaimable,
                volumes_size, volumes_reclaimable;
        size_t running, paused, stopped;
};

/* The totals; with sizes, what each container wrote and each volume holds (a walk of their
 * trees, so not for `info`).  df non-NULL: also dockerd's GET /system/df document
 * {LayersSize, Images, Containers, Volumes, BuildCache, BuilderSize}. */
int eng_usage_gather(const struct berth_paths *p, bool sizes, struct eng_usage *u, json_t **df,
                     berth_error_t *err);

/* `berth info --format`'s document: Docker's field names for what berth knows, plus berth's
 * own (BerthRunDir, CgroupLayout, IDMappings when rootless). */
json_t *eng_info_doc(const struct berth_paths *p, const struct eng_usage *u);

/* dockerd's GET /info document: eng_info_doc completed with every field dockerd 20.10 sends
 * (ID, DriverStatus, Plugins, the cgroup capabilities, RegistryConfig, Swarm …). */
json_t *eng_info_docker(const struct berth_paths *p, const struct eng_usage *u);

#endif
