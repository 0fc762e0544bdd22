/* rootfs.c — containers' root filesystems through the image store. */
#include "engine/rootfs.h"

#include <stdlib.h>
#include <unistd.h>

#include "common/util.h"
#include "image/image.h"

int eng_storage_driver(struct eng_ctx *e)
{
        /* An unprivileged user can't mount an overlay outside a user namespace,
         * and the rootfs is prepared before the container's namespaces exist:
         * rootless containers get a vfs copy unless the user chose a driver. */
        const char *env = getenv("BERTH_STORAGE_DRIVER");
        if (e->rootless && (env == NULL || *env == '\0'))
                return IMG_DRIVER_VFS;
        return img_driver_default();
}

int eng_rootfs_prepare(struct eng_ctx *e, const char *image, const char *id, char **rootfs,
                       berth_error_t *err)
{
        struct img_store s;
        if (img_store_open(&s, e->data_dir, err) < 0)
                return -1;
        int r = img_rootfs_prepare(&s, image, id, eng_storage_driver(e), rootfs, err);
        img_store_close(&s);
        return r;
}

int eng_rootfs_remove(struct eng_ctx *e, struct eng_container *c, berth_error_t *err)
{
        struct img_store s;
        if (img_store_open(&s, e->data_dir, err) < 0)
                return -1;
        int r = img_rootfs_remove(&s, c->id, err);
        img_store_close(&s);
        return r;
}

uint64_t eng_rootfs_size(struct eng_ctx *e, struct eng_container *c)
{
        cleanup_free char *snap = berth_xasprintf("%s/images/snapshots/%s", e->data_dir, c->id);
        cleanup_free char *upper = berth_path_join(snap, "upper");
        if (access(upper, F_OK) == 0)
                return berth_du(upper);
        cleanup_free char *copy = berth_path_join(snap, "rootfs");
        return berth_du(copy);
}
