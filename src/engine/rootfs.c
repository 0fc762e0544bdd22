/* rootfs.c — containers' root filesystems through the image store. */
#include "engine/rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/idmap.h"
#include "common/util.h"
#include "engine/events.h"
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

int eng_rootfs_export(struct eng_ctx *e, struct eng_container *c, int outfd, berth_error_t *err)
{
        if (eng_rootfs_mount(e, c, err) < 0)
                return berth_wrap(err, "export `%s`", c->id);
        cleanup_free char *root =
                berth_xasprintf("%s/images/snapshots/%s/rootfs", e->data_dir, c->id);
        cleanup_close int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return berth_fail(err, errno, "open `%s`", root);
        if (img_tar_dir(fd, outfd, err) < 0)
                return berth_wrap(err, "export `%s`", c->id);
        eng_event_container(e, c, "export", NULL);
        return 0;
}

int eng_rootfs_changes(struct eng_ctx *e, struct eng_container *c, img_change_fn fn, void *ctx,
                       berth_error_t *err)
{
        struct img_store s;
        if (img_store_open(&s, e->data_dir, err) < 0)
                return -1;
        int r = img_rootfs_changes(&s, c->id, fn, ctx, err);
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

static int open_dir_in_root(int root, const char *rel)
{
        struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                               .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
        return (int) syscall(SYS_openat2, root, rel, &how, sizeof(how));
}

int eng_rootfs_mkdir(const char *rootfs, const char *path, berth_error_t *err)
{
        cleanup_close int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return berth_fail(err, errno, "open `%s`", rootfs);
        cleanup_free char *copy = berth_xstrdup(path);
        cleanup_free char *prefix = berth_xstrdup(".");
        cleanup_close int parent = open_dir_in_root(root, ".");
        if (parent < 0)
                return berth_fail(err, errno, "open `%s`", rootfs);
        char *save = NULL;
        for (char *comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
                char *next = berth_xasprintf("%s/%s", prefix, comp);
                free(prefix);
                prefix = next;
                int fd = open_dir_in_root(root, prefix);
                if (fd < 0 && errno == ENOENT) {
                        if (mkdirat(parent, comp, 0755) == 0) {
                                if (fchmodat(parent, comp, 0755, 0) < 0) /* whatever the umask */
                                        return berth_fail_status(err, 125, errno,
                                                                 "Cannot mkdir: %s", path);
                        } else if (errno != EEXIST) {
                                return berth_fail_status(err, 125, errno, "Cannot mkdir: %s", path);
                        }
                        fd = open_dir_in_root(root, prefix);
                }
                if (fd < 0 && errno == ENOTDIR)
                        return berth_fail_status(err, 125, 0, "Cannot mkdir: %s is not a directory",
                                                 path);
                if (fd < 0)
                        return berth_fail_status(err, 125, errno, "Cannot mkdir: %s", path);
                close(parent);
                parent = fd;
        }
        return 0;
}
