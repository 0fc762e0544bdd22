/* rootfs.c — containers' root filesystems through the image store. */
#include "engine/rootfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/idmap.h"
#include "common/util.h"
#include "image/image.h"

static bool kernel_at_least(int major, int minor)
{
        struct utsname u;
        int ma = 0, mi = 0;
        if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &ma, &mi) != 2)
                return false;
        return ma > major || (ma == major && mi >= minor);
}

int eng_storage_driver(struct eng_ctx *e)
{
        /* Rootless berth mounts overlays in its own user namespace (engine/userns.h), which
         * Linux allows from 5.11; outside one, or on older kernels, it copies (vfs). */
        const char *env = getenv("BERTH_STORAGE_DRIVER");
        if (e->rootless && (env == NULL || *env == '\0') &&
            (!berth_in_userns() || !kernel_at_least(5, 11)))
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

/* Open the store, apply FN to the container's snapshot, close. */
static int on_snapshot(struct eng_ctx *e, struct eng_container *c,
                       int (*fn)(struct img_store *, const char *, berth_error_t *),
                       berth_error_t *err)
{
        struct img_store s;
        if (img_store_open(&s, e->data_dir, err) < 0)
                return -1;
        int r = fn(&s, c->id, err);
        img_store_close(&s);
        return r;
}

int eng_rootfs_mount(struct eng_ctx *e, struct eng_container *c, berth_error_t *err)
{
        return on_snapshot(e, c, img_rootfs_mount, err);
}

int eng_rootfs_remove(struct eng_ctx *e, struct eng_container *c, berth_error_t *err)
{
        return on_snapshot(e, c, img_rootfs_remove, err);
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
