/* spec_internal.h — the parts of eng_spec_build() that live in their own files. */
#ifndef BERTH_ENGINE_SPEC_INTERNAL_H
#define BERTH_ENGINE_SPEC_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "engine/spec.h"

struct spec_ctx {
        const struct eng_spec_input *in;
        json_t *cfg; /* Config merged with the image's */
        json_t *hc;  /* HostConfig */
        bool privileged;
        pid_t ipc_pid; /* --ipc container:X: its init, for sharing its /dev/shm; 0 otherwise */
};

/* The mounts array: Docker's defaults, /etc files, -v, --mount, --tmpfs, image volumes, the
 * init binary; ordered so that a parent is mounted before what lies below it. */
int spec_build_mounts(struct spec_ctx *c, json_t **mounts, berth_error_t *err);

/* Is the host's cgroup hierarchy a unified cgroup v2 one? */
bool spec_cgroup2_unified(void);

/* linux.devices and linux.resources.devices: the defaults, --device, --privileged. */
int spec_build_devices(struct spec_ctx *c, json_t *linux_obj, json_t *resources,
                       berth_error_t *err);

/* What the host's cgroups can do of block IO, as Docker's sysinfo reads it: for cgroup v2
 * (unified) the io controller in cgroot's cgroup.controllers, for v1 the blkio files under
 * cgroot/blkio.  throttle: read bps, write bps, read iops, write iops. */
struct spec_blkio_support {
        bool weight, weight_device, throttle[4];
};
/* Whether HostConfig asks for any block IO setting (the probe is for those that do). */
bool spec_blkio_wanted(json_t *hc);
void spec_blkio_probe(const char *cgroot, bool unified, struct spec_blkio_support *out);

/* resources.blockIO from HostConfig's Blkio* fields; what sup lacks is dropped from hc with
 * Docker's warning.  Device paths are stat'ed for their major:minor. */
int spec_build_blockio(json_t *hc, const struct spec_blkio_support *sup, json_t *resources,
                       json_t *warnings, berth_error_t *err);

#endif
