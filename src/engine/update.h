/* update.h — `docker update`: a container's resource limits and restart policy changed after
 * create, in its record and its bundle (for its next start) and, while it runs, in its cgroup. */
#ifndef BERTH_ENGINE_UPDATE_H
#define BERTH_ENGINE_UPDATE_H

#include <jansson.h>

#include "common/error.h"
#include "engine/container.h"

/* changes: a HostConfig-shaped object; the fields Docker's update takes (Memory, MemorySwap,
 * MemoryReservation, CpuShares, CpuQuota, CpuPeriod, NanoCpus, CpusetCpus, CpusetMems,
 * PidsLimit, RestartPolicy) change when given and not zero, as Docker's daemon reads them.
 * Refusals carry Docker's messages (EINVAL: bad input, conflicts: "Conflicting options"). */
int eng_container_update(struct eng_ctx *e, struct eng_container *c, json_t *changes,
                         berth_error_t *err);

#endif
