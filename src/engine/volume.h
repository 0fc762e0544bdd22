/* volume.h — named volumes, Docker's `local` driver: a directory per volume
 * that outlives containers.
 *
 *   <data_dir>/volumes/<name>/_data         what containers see
 *   <data_dir>/volumes/<name>/volume.json   Name, Driver, Mountpoint, CreatedAt, Labels, Options
 *
 * A volume mounted for the first time over a path that has content in the
 * image is filled with that content first, as Docker does. */
#ifndef BERTH_ENGINE_VOLUME_H
#define BERTH_ENGINE_VOLUME_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "engine/container.h"

/* Volume names: Docker's rule [a-zA-Z0-9][a-zA-Z0-9_.-]+ (one character is fine too). */
bool eng_volume_name_valid(const char *name);

/* Create (name NULL: an anonymous one with a random 64-hex name).  An
 * existing volume of that name is returned as is, as `docker volume create`
 * does.  *out: the volume.json document (new reference). */
int eng_volume_create(struct eng_ctx *e, const char *name, json_t *labels, json_t *options,
                      json_t **out, berth_error_t *err);

int eng_volume_get(struct eng_ctx *e, const char *name, json_t **out, berth_error_t *err);

/* All volumes, sorted by name. */
int eng_volume_list(struct eng_ctx *e, json_t **out, berth_error_t *err);

/* Containers (ids) whose configuration mounts the volume. */
json_t *eng_volume_users(struct eng_ctx *e, const char *name);

/* Refused while a container uses it, unless force. */
int eng_volume_remove(struct eng_ctx *e, const char *name, bool force, berth_error_t *err);

/* For a container about to start: the volume's host path (created if
 * missing), filled from rootfs/target when the volume is empty and the image
 * has content there. *path is newly allocated. */
int eng_volume_prepare(struct eng_ctx *e, const char *name, const char *rootfs, const char *target,
                       char **path, berth_error_t *err);

#endif
