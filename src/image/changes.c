/* changes.c — a container's changes from its overlay upper dir, as dockerd's overlay2 driver
 * reports them for `docker diff` (moby's archive.OverlayChanges): a whiteout, or an opaque
 * directory, is a deletion; anything else is an addition unless a lower layer has the path,
 * then a change — but a directory whose size, mode and mtime match the lower one's is left
 * out (it is only there as the parent of something), and the parent of an addition or
 * deletion is reported changed before it.  Docker's init-layer paths are left out. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/util.h"
#include "image/image.h"

struct changes {
        int *layers; /* the image's layer dirs, top first */
        size_t n_layers;
        img_change_fn fn;
        void *ctx;
};

/* Docker's init layer (daemon/initlayer): mount points and the files it bind-mounts over
 * (berth writes hosts, hostname and resolv.conf into the rootfs instead).  They are below
 * the container's layer in Docker, never changes of the container's: left out. */
static bool init_layer_path(const char *p)
{
        static const char *const paths[] = {
                "/dev/pts",         "/dev/shm",   "/proc",         "/sys",         "/.dockerenv",
                "/etc/resolv.conf", "/etc/hosts", "/etc/hostname", "/dev/console", "/etc/mtab"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(paths); i++)
                if (strcmp(p, paths[i]) == 0)
                        return true;
        return false;
}

/* Go's sameFsTime: tar loses sub-second times, so a zero nanosecond part matches the second. */
static bool same_time(const struct timespec *a, const struct timespec *b)
{
        return a->tv_sec == b->tv_sec &&
               (a->tv_nsec == b->tv_nsec || a->tv_nsec == 0 || b->tv_nsec == 0);
}

/* 'A', 'C', or 0 for a directory that only looks changed (same as the lower one). */
static char add_or_change(const struct changes *c, const char *rel, const struct stat *st)
{
        for (size_t i = 0; i < c->n_layers; i++) {
                struct stat lower;
                if (fstatat(c->layers[i], rel, &lower, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISDIR(st->st_mode) && S_ISDIR(lower.st_mode) &&
                    st->st_size == lower.st_size && st->st_mode == lower.st_mode &&
                    same_time(&st->st_mtim, &lower.st_mtim))
                        return 0;
                return 'C';
        }
        return 'A';
}

/* Walk the directory dfd (path "/..." in the container; "" for the root); *recorded says
 * whether the directory itself has been reported. */
static int walk(const struct changes *c, int dfd, const char *path, bool *recorded,
                berth_error_t *err)
{
        char **names;
        size_t n;
        if (img_dir_sorted_names(dfd, path, &names, &n, err) < 0)
                return -1;
        int ret = 0;
        for (size_t i = 0; i < n && ret == 0; i++) {
                cleanup_free char *p = berth_xasprintf("%s/%s", path, names[i]);
                if (init_layer_path(p))
                        continue;
                struct stat st;
                if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno != ENOENT) /* the container may be changing it now */
                                ret = berth_fail(err, errno, "stat `%s`", p);
                        continue;
                }
                cleanup_close int sub = -1;
                if (S_ISDIR(st.st_mode)) {
                        sub = openat(dfd, names[i],
                                     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub < 0) {
                                ret = berth_fail(err, errno, "open `%s`", p);
                                continue;
                        }
                }
                char kind;
                if ((S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) ||
                    (sub >= 0 && img_dir_is_opaque(sub)))
                        kind = 'D';
                else
                        kind = add_or_change(c, p + 1, &st);
                bool sub_recorded = kind != 0;
                if ((kind == 'A' || kind == 'D') && !*recorded && path[0]) {
                        c->fn('C', path, c->ctx);
                        *recorded = true;
                }
                if (kind)
                        c->fn(kind, p, c->ctx);
                if (sub >= 0)
                        ret = walk(c, sub, p, &sub_recorded, err);
        }
        img_names_free(names, n);
        return ret;
}

int img_rootfs_changes(struct img_store *s, const char *container_id, img_change_fn fn, void *ctx,
                       berth_error_t *err)
{
        cleanup_free char *info_rel = berth_xasprintf("snapshots/%s/info.json", container_id);
        cleanup_free char *text = NULL;
        size_t len = 0;
        if (strchr(container_id, '/') || container_id[0] == '.' ||
            berth_read_file_at(s->root_fd, info_rel, 0, &text, &len, err) < 0)
                return berth_wrap(err, "no snapshot for container `%s`", container_id);
        json_t *info = json_loadb(text, len, 0, NULL);
        const char *driver = json_string_value(json_object_get(info, "driver"));
        const char *base = json_string_value(json_object_get(info, "image"));
        struct img_image img = {0};
        struct changes c = {.fn = fn, .ctx = ctx};
        cleanup_free char *upper = berth_xasprintf("snapshots/%s/upper", container_id);
        cleanup_close int ufd = -1;
        int ret = -1;
        if (driver == NULL || strcmp(driver, "overlay") != 0 || !img_digest_valid(base)) {
                berth_fail_status(err, 1, ENOTSUP,
                                  "diff needs the overlay storage driver: the %s driver keeps no "
                                  "record of a container's changes",
                                  driver ? driver : "unknown");
                goto out;
        }
        if (img_image_load(s, base, &img, err) < 0)
                goto out;
        ufd = openat(s->root_fd, upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (ufd < 0) {
                berth_fail(err, errno, "open `%s/%s`", s->root, upper);
                goto out;
        }
        c.layers = berth_xcalloc(img.n_layers + 1, sizeof(int));
        for (size_t i = img.n_layers; i-- > 0;) {
                cleanup_free char *l =
                        berth_xasprintf("layers/%s/diff", img_digest_hex(img.diff_ids[i]));
                int fd = openat(s->root_fd, l, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0) {
                        berth_fail(err, errno, "open `%s/%s`", s->root, l);
                        goto out;
                }
                c.layers[c.n_layers++] = fd;
        }
        bool root_recorded = true;
        ret = walk(&c, ufd, "", &root_recorded, err);
out:
        for (size_t i = 0; i < c.n_layers; i++)
                close(c.layers[i]);
        free(c.layers);
        img_image_free(&img);
        json_decref(info);
        return ret;
}
