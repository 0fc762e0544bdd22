/* rootfs.h — a container's root filesystem, from the image store's
 * snapshotter (overlay or vfs). */
#ifndef BERTH_ENGINE_ROOTFS_H
#define BERTH_ENGINE_ROOTFS_H

#include <stdint.h>

#include "common/error.h"
#include "engine/container.h"
#include "image/image.h"

/* The snapshotter driver for this user (an enum img_driver). */
int eng_storage_driver(struct eng_ctx *e);

/* Mount (or copy) the image's layers for the container; *rootfs gets the path. */
int eng_rootfs_prepare(struct eng_ctx *e, const char *image, const char *id, char **rootfs,
                       berth_error_t *err);

/* Mount it again if it should be and isn't (after a reboot; rootless: in a new namespace). */
int eng_rootfs_mount(struct eng_ctx *e, struct eng_container *c, berth_error_t *err);

/* Unmount and delete it; a container without one is fine. */
int eng_rootfs_remove(struct eng_ctx *e, struct eng_container *c, berth_error_t *err);

/* Make directory path (absolute, in the container) in rootfs with every missing parent, as
 * Docker makes a missing working directory: root-owned, 0755, symlinks resolved inside the
 * rootfs.  An existing non-directory fails with Docker's "Cannot mkdir" (status 125). */
int eng_rootfs_mkdir(const char *rootfs, const char *path, berth_error_t *err);

/* The container's filesystem as Docker exports it: a tar of its root (the overlay mounted
 * again first if need be, volumes not included) written to outfd. */
int eng_rootfs_export(struct eng_ctx *e, struct eng_container *c, int outfd, berth_error_t *err);

/* Its changes against its image, as `docker diff` lists them (image/image.h). */
int eng_rootfs_changes(struct eng_ctx *e, struct eng_container *c, img_change_fn fn, void *ctx,
                       berth_error_t *err);

/* Bytes the container wrote: its overlay upper dir (the whole copy for vfs). */
uint64_t eng_rootfs_size(struct eng_ctx *e, struct eng_container *c);

#endif
