/* storage_opt.h — `--storage-opt` (HostConfig.StorageOpt): size=N caps what a container may
 * write to its root filesystem, as Docker's overlay2 driver does with an XFS project quota on
 * the container's upper directory.  Anywhere else (another filesystem, XFS mounted without
 * pquota/prjquota, the vfs driver) it is refused with Docker's message.
 *
 *   int64_t size;
 *   if (eng_storage_opts_check(e, hc, &size, err) < 0) ...  // before the rootfs is made
 *   ... eng_rootfs_prepare ...
 *   if (size > 0 && eng_storage_quota_apply(e, id, size, err) < 0) ...
 */
#ifndef BERTH_ENGINE_STORAGE_OPT_H
#define BERTH_ENGINE_STORAGE_OPT_H

#include <jansson.h>
#include <stdint.h>

#include "common/error.h"
#include "engine/container.h"

/* Check HostConfig.StorageOpt against the store's filesystem; *size: the size asked for in
 * bytes, 0 for none.  Errors carry exit status 125. */
int eng_storage_opts_check(struct eng_ctx *e, json_t *hc, int64_t *size, berth_error_t *err);

/* Give the container's upper directory a project of its own with a hard block limit of
 * size bytes. */
int eng_storage_quota_apply(struct eng_ctx *e, const char *id, int64_t size, berth_error_t *err);

/* Does the filesystem holding path have XFS project quotas enforced? (*dev: its st_dev) */
bool eng_storage_has_pquota(const char *path, dev_t *dev);

#endif
