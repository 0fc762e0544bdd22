/* snapshot.c — layers unpacked once per diffID, and containers' root
 * filesystems made from them: an overlay mount (the image's layers as
 * read-only lowers, the container's own upper and work dirs) or, with the vfs
 * driver, a full copy.  The engine calls img_rootfs_prepare/img_rootfs_remove;
 * a snapshot's info.json names its image so that rmi and gc leave it alone. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/idmap.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/util.h"
#include "image/image.h"

const char *img_driver_name(enum img_driver d)
{
        return d == IMG_DRIVER_VFS ? "vfs" : "overlay";
}

int img_driver_parse(const char *s, enum img_driver *out, berth_error_t *err)
{
        if (strcmp(s, "overlay") == 0 || strcmp(s, "overlay2") == 0)
                *out = IMG_DRIVER_OVERLAY;
        else if (strcmp(s, "vfs") == 0)
                *out = IMG_DRIVER_VFS;
        else
                return berth_fail(err, EINVAL, "unknown storage driver `%s` (overlay or vfs)", s);
        return 0;
}

enum img_driver img_driver_default(void)
{
        const char *env = getenv("BERTH_STORAGE_DRIVER");
        enum img_driver d = IMG_DRIVER_OVERLAY;
        berth_error_t err = NULL;
        if (env && *env) {
                if (img_driver_parse(env, &d, &err) == 0)
                        return d;
                log_warn("%s; using the default", berth_error_msg(err));
                berth_error_release(&err);
        }
        cleanup_free char *fs = NULL;
        if (berth_read_file("/proc/filesystems", &fs, NULL, &err) < 0) {
                berth_error_release(&err);
                return IMG_DRIVER_VFS;
        }
        return strstr(fs, "\toverlay\n") ? IMG_DRIVER_OVERLAY : IMG_DRIVER_VFS;
}

static int layer_unpack_once(struct img_store *s, const struct img_desc *blob, const char *diffid,
                             struct img_unpack_stats *st, berth_error_t *err)
{
        cleanup_free char *rel = berth_xasprintf("layers/%s", img_digest_hex(diffid));
        if (faccessat(s->root_fd, rel, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return 0;
        cleanup_free char *tmp = berth_xasprintf("%s/tmp/layer-XXXXXX", s->root);
        if (mkdtemp(tmp) == NULL)
                return berth_fail(err, errno, "create `%s`", tmp);
        cleanup_free char *diff = berth_xasprintf("%s/diff", tmp);
        cleanup_free char *dst = berth_path_join(s->root, rel);
        cleanup_close int dfd = -1;
        cleanup_close int bfd = -1;
        int ret = -1;
        if (mkdir(diff, 0755) < 0) {
                berth_fail(err, errno, "mkdir `%s`", diff);
                goto out;
        }
        dfd = open(diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        bfd = img_blob_open(s, blob->digest, err);
        if (dfd < 0 || bfd < 0) {
                if (dfd < 0)
                        berth_fail(err, errno, "open `%s`", diff);
                goto out;
        }
        if (img_layer_unpack(bfd, dfd, diffid, st, err) < 0) {
                berth_wrap(err, "unpack layer %s", blob->digest);
                goto out;
        }
        /* no syncfs: it would flush every dirty page of the filesystem (other tenants'
         * too) and cost seconds on a busy host; an unpacked layer can be re-made from
         * its blob, which is fsynced */
        if (rename(tmp, dst) < 0 && errno != EEXIST && errno != ENOTEMPTY) {
                berth_fail(err, errno, "rename `%s` to `%s`", tmp, dst);
                goto out;
        }
        log_debug("unpacked layer %s: %llu entries, %llu bytes", diffid,
                  (unsigned long long) st->entries, (unsigned long long) st->bytes);
        ret = 0;
out:
        /* after a lost race (another process renamed first) or a failure */
        if (access(tmp, F_OK) == 0) {
                berth_error_t sub = NULL;
                const char *base = strrchr(tmp, '/') + 1;
                cleanup_close int tdir = openat(s->root_fd, "tmp", O_RDONLY | O_DIRECTORY);
                if (tdir >= 0 && img_rm_rf_at(tdir, base, &sub) < 0)
                        log_warn("%s", berth_error_msg(sub));
                berth_error_release(&sub);
        }
        return ret;
}

int img_layer_ensure(struct img_store *s, const struct img_desc *blob, const char *diffid,
                     void (*read_fn)(void *ctx, uint64_t done), void *read_ctx, berth_error_t *err)
{
        if (img_store_writer_begin(s, err) < 0)
                return -1;
        struct img_unpack_stats st = {.read_fn = read_fn, .read_ctx = read_ctx};
        return layer_unpack_once(s, blob, diffid, &st, err);
}

int img_layers_ensure(struct img_store *s, const struct img_image *img, berth_error_t *err)
{
        if (img_store_writer_begin(s, err) < 0)
                return -1;
        for (size_t i = 0; i < img->n_layers; i++) {
                struct img_unpack_stats st = {0};
                if (layer_unpack_once(s, &img->layers[i], img->diff_ids[i], &st, err) < 0)
                        return -1;
        }
        return 0;
}

static bool id_valid(const char *id)
{
        if (id == NULL || id[0] == '\0' || strlen(id) > 128 || id[0] == '.')
                return false;
        for (const char *p = id; *p; p++)
                if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') &&
                    !(*p >= '0' && *p <= '9') && *p != '-' && *p != '_' && *p != '.')
                        return false;
        return true;
}

static int snapshot_info(struct img_store *s, const char *id, json_t **out, berth_error_t *err)
{
        cleanup_free char *rel = berth_xasprintf("snapshots/%s/info.json", id);
        cleanup_free char *buf = NULL;
        size_t len;
        if (berth_read_file_at(s->root_fd, rel, 0, &buf, &len, err) < 0)
                return -1;
        *out = json_loadb(buf, len, 0, NULL);
        if (*out == NULL)
                return berth_fail(err, EINVAL, "parse `%s`", rel);
        return 0;
}

/* Many layers: the new mount API takes each lower dir on its own ("lowerdir+",
 * Linux 6.8), so no page-sized option string limits the count. */
static int overlay_mount_fsconfig(struct img_store *s, const char *snap,
                                  const struct img_image *img, const char *target,
                                  berth_error_t *err)
{
        cleanup_close int fs = fsopen("overlay", FSOPEN_CLOEXEC);
        if (fs < 0)
                return berth_fail(err, errno, "fsopen overlay");
        for (size_t i = img->n_layers; i-- > 0;) {
                cleanup_free char *l = berth_xasprintf("%s/layers/%s/diff", s->root,
                                                       img_digest_hex(img->diff_ids[i]));
                if (fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", l, 0) < 0)
                        return berth_fail(err, errno,
                                          "overlay lowerdir+ (needs Linux 6.8 for %zu layers; "
                                          "or use the vfs driver)",
                                          img->n_layers);
        }
        cleanup_free char *upper = berth_xasprintf("%s/upper", snap);
        cleanup_free char *work = berth_xasprintf("%s/work", snap);
        if (fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0) < 0 ||
            fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0) < 0 ||
            (berth_in_userns() && fsconfig(fs, FSCONFIG_SET_FLAG, "userxattr", NULL, 0) < 0) ||
            fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return berth_fail(err, errno, "configure overlay for `%s`", target);
        cleanup_close int mnt = fsmount(fs, FSMOUNT_CLOEXEC, 0);
        if (mnt < 0)
                return berth_fail(err, errno, "fsmount overlay");
        if (move_mount(mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0)
                return berth_fail(err, errno, "mount overlay on `%s`", target);
        return 0;
}

static int overlay_mount(struct img_store *s, const char *id, const struct img_image *img,
                         berth_error_t *err)
{
        cleanup_free char *snap = berth_xasprintf("%s/snapshots/%s", s->root, id);
        cleanup_free char *target = berth_xasprintf("%s/rootfs", snap);
        size_t cap = 256 + strlen(snap) * 4;
        for (size_t i = 0; i < img->n_layers; i++)
                cap += strlen(s->root) + 90;
        cleanup_free char *opts = berth_xcalloc(1, cap);
        strcat(opts, "lowerdir=");
        /* overlay lists the top layer first */
        for (size_t i = img->n_layers; i-- > 0;) {
                char part[512];
                snprintf(part, sizeof(part), "%s%s/layers/%s/diff",
                         i == img->n_layers - 1 ? "" : ":", s->root,
                         img_digest_hex(img->diff_ids[i]));
                strcat(opts, part);
        }
        if (img->n_layers == 0)
                strcat(opts, snap), strcat(opts, "/empty");
        size_t n = strlen(opts);
        snprintf(opts + n, cap - n, ",upperdir=%s/upper,workdir=%s/work%s", snap, snap,
                 berth_in_userns() ? ",userxattr" : "");
        /* mount(2) takes one page of options: more layers go through fsconfig */
        if (strlen(opts) >= (size_t) sysconf(_SC_PAGESIZE))
                return overlay_mount_fsconfig(s, snap, img, target, err);
        if (mount("overlay", target, "overlay", 0, opts) < 0)
                return berth_fail(err, errno, "mount overlay on `%s`", target);
        return 0;
}

int img_rootfs_prepare(struct img_store *s, const char *image, const char *container_id,
                       enum img_driver driver, char **rootfs, berth_error_t *err)
{
        if (!id_valid(container_id))
                return berth_fail(err, EINVAL, "invalid container id `%s`", container_id);
        struct img_table t;
        if (img_table_load(s, &t, err) < 0)
                return -1;
        struct img_entry *e;
        struct img_image img = {0};
        int ret = -1;
        cleanup_free char *snap = berth_xasprintf("snapshots/%s", container_id);
        cleanup_free char *abs = berth_path_join(s->root, snap);
        cleanup_free char *text = NULL;
        cleanup_free char *info_path = berth_xasprintf("%s/info.json", abs);
        if (img_lookup(s, &t, image, &e, err) < 0 || img_image_load(s, e->manifest, &img, err) < 0)
                goto out;
        if (img_layers_ensure(s, &img, err) < 0)
                goto out;
        if (mkdirat(s->root_fd, snap, 0700) < 0) {
                berth_fail(err, errno, "create snapshot for container `%s`", container_id);
                goto out;
        }
        static const char *const subdirs[] = {"rootfs", "upper", "work", "empty"};
        for (size_t i = 0; i < (driver == IMG_DRIVER_VFS ? 1 : BERTH_ARRAY_SIZE(subdirs)); i++) {
                cleanup_free char *p = berth_xasprintf("%s/%s", abs, subdirs[i]);
                if (mkdir(p, 0755) < 0) {
                        berth_fail(err, errno, "mkdir `%s`", p);
                        goto undo;
                }
        }
        json_t *info = json_pack("{s:s, s:s, s:s}", "image", img.manifest_digest, "id",
                                 img.config.digest, "driver", img_driver_name(driver));
        text = json_dumps(info, JSON_COMPACT);
        json_decref(info);
        if (berth_write_file_atomic(info_path, text, strlen(text), 0600, err) < 0)
                goto undo;
        if (driver == IMG_DRIVER_OVERLAY) {
                if (overlay_mount(s, container_id, &img, err) < 0)
                        goto undo;
        } else {
                cleanup_free char *r = berth_xasprintf("%s/rootfs", abs);
                cleanup_close int dfd = open(r, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0) {
                        berth_fail(err, errno, "open `%s`", r);
                        goto undo;
                }
                for (size_t i = 0; i < img.n_layers; i++) {
                        cleanup_free char *l = berth_xasprintf("%s/layers/%s/diff", s->root,
                                                               img_digest_hex(img.diff_ids[i]));
                        cleanup_close int lfd = open(l, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (lfd < 0) {
                                berth_fail(err, errno, "open `%s`", l);
                                goto undo;
                        }
                        if (img_vfs_apply(lfd, dfd, err) < 0) {
                                berth_wrap(err, "copy layer %s", img.diff_ids[i]);
                                goto undo;
                        }
                }
        }
        *rootfs = berth_xasprintf("%s/rootfs", abs);
        ret = 0;
        goto out;
undo : {
        berth_error_t sub = NULL;
        if (img_rm_rf_at(s->root_fd, snap, &sub) < 0)
                log_warn("%s", berth_error_msg(sub));
        berth_error_release(&sub);
}
out:
        if (ret < 0)
                berth_wrap(err, "prepare the root filesystem of `%s` from `%s`", container_id,
                           image);
        img_image_free(&img);
        img_table_free(&t);
        return ret;
}

int img_rootfs_mount(struct img_store *s, const char *container_id, berth_error_t *err)
{
        json_t *info = NULL;
        if (!id_valid(container_id))
                return berth_fail(err, EINVAL, "invalid container id `%s`", container_id);
        if (snapshot_info(s, container_id, &info, err) < 0)
                return -1;
        int ret = 0;
        const char *driver = json_string_value(json_object_get(info, "driver"));
        cleanup_free char *target =
                berth_xasprintf("%s/snapshots/%s/rootfs", s->root, container_id);
        struct statx stx;
        bool mounted = statx(AT_FDCWD, target, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) == 0 &&
                       (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
                       (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
        if (driver && strcmp(driver, "overlay") == 0 && !mounted) {
                struct img_image img;
                ret = img_image_load(s, json_string_value(json_object_get(info, "image")), &img,
                                     err);
                if (ret == 0) {
                        ret = overlay_mount(s, container_id, &img, err);
                        img_image_free(&img);
                }
        }
        json_decref(info);
        return ret;
}

int img_rootfs_remove(struct img_store *s, const char *container_id, berth_error_t *err)
{
        if (!id_valid(container_id))
                return berth_fail(err, EINVAL, "invalid container id `%s`", container_id);
        cleanup_free char *snap = berth_xasprintf("snapshots/%s", container_id);
        cleanup_free char *target = berth_xasprintf("%s/%s/rootfs", s->root, snap);
        /* EPERM: an unprivileged caller's vfs copy is no mount point, and it
         * may not even ask; a real mount it can't undo fails the removal below */
        if (umount2(target, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT &&
            !(errno == EPERM && geteuid() != 0))
                return berth_fail(err, errno, "unmount `%s`", target);
        if (img_rm_rf_at(s->root_fd, snap, err) < 0)
                return berth_wrap(err, "remove the root filesystem of `%s`", container_id);
        return 0;
}

int img_snapshots_open(struct img_store *s, DIR **dir, berth_error_t *err)
{
        *dir = NULL;
        cleanup_close int fd = openat(s->root_fd, "snapshots", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : berth_fail(err, errno, "open snapshots");
        *dir = fdopendir(berth_steal_fd(&fd));
        return *dir ? 1 : berth_fail(err, errno, "open snapshots");
}

char *img_snapshot_user(struct img_store *s, const char *manifest)
{
        cleanup_dir DIR *d = NULL;
        berth_error_t sub = NULL;
        if (img_snapshots_open(s, &d, &sub) <= 0 || d == NULL) {
                berth_error_release(&sub);
                return NULL;
        }
        struct dirent *de;
        char *found = NULL;
        /* cppcheck-suppress readdirCalled */
        while (found == NULL && (de = readdir(d)) != NULL) {
                json_t *info = NULL;
                if (de->d_name[0] == '.' || snapshot_info(s, de->d_name, &info, &sub) < 0) {
                        berth_error_release(&sub);
                        continue;
                }
                const char *m = json_string_value(json_object_get(info, "image"));
                /* a container's (its 64-hex id), not `image mount`'s "image-…" */
                if (m && strcmp(m, manifest) == 0 && strlen(de->d_name) == 64 &&
                    strspn(de->d_name, "0123456789abcdef") == 64)
                        found = berth_xstrdup(de->d_name);
                json_decref(info);
        }
        return found;
}

int img_snapshots_images(struct img_store *s, char ***manifests, size_t *n, berth_error_t *err)
{
        *manifests = NULL;
        *n = 0;
        cleanup_dir DIR *d = NULL;
        int r = img_snapshots_open(s, &d, err);
        if (r <= 0 || d == NULL)
                return r < 0 ? r : 0;
        struct dirent *de;
        /* readdir is thread-safe per DIR in glibc; readdir_r is deprecated */
        /* cppcheck-suppress readdirCalled */
        while ((de = readdir(d)) != NULL) {
                if (de->d_name[0] == '.')
                        continue;
                json_t *info = NULL;
                berth_error_t sub = NULL;
                if (snapshot_info(s, de->d_name, &info, &sub) < 0) {
                        berth_error_release(&sub);
                        continue;
                }
                const char *m = json_string_value(json_object_get(info, "image"));
                if (img_digest_valid(m)) {
                        *manifests = berth_xrealloc(*manifests, (*n + 1) * sizeof(char *));
                        (*manifests)[(*n)++] = berth_xstrdup(m);
                }
                json_decref(info);
        }
        return 0;
}
