/* rootfs.c — containers' root filesystems through the image store. */
#include "engine/rootfs.h"

#include "image/image.h"

int eng_rootfs_prepare(struct eng_ctx *e, const char *image, const char *id, char **rootfs,
                       berth_error_t *err)
{
        struct img_store s;
        if (img_store_open(&s, e->data_dir, err) < 0)
                return -1;
        int r = img_rootfs_prepare(&s, image, id, img_driver_default(), rootfs, err);
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
