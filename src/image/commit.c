/* commit.c — a container's changes become a layer: its overlay upper directory
 * is written as an OCI layer tar (overlay whiteouts turned back into ".wh." files,
 * opaque directories into ".wh..wh..opq"), gzip-compressed, hashed twice on the
 * way (the tar stream → diffID, the gzip stream → blob digest), and stored as a new
 * image on top of the container's own.  Entries are sorted, so the same changes
 * make the same layer. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#define ZLIB_CONST /* next_in is const: the tar writer's buffer is not ours */
#include <zlib.h>

#include "common/log.h"
#include "common/util.h"
#include "image/image.h"

struct diff_out {
        struct img_blob_writer *blob;
        struct img_sha256 *tar_hash;
        z_stream z;
        unsigned char buf[1 << 16];
        berth_error_t *err;
        bool failed;
};

static int deflate_out(struct diff_out *o, const void *data, size_t len, int flush)
{
        o->z.next_in = data;
        o->z.avail_in = (uInt) len;
        do {
                o->z.next_out = o->buf;
                o->z.avail_out = sizeof(o->buf);
                int r = deflate(&o->z, flush);
                if (r == Z_STREAM_ERROR)
                        return berth_fail(o->err, EIO, "gzip the layer");
                size_t n = sizeof(o->buf) - o->z.avail_out;
                if (n && img_blob_write(o->blob, o->buf, n, o->err) < 0)
                        return -1;
        } while (o->z.avail_out == 0);
        return 0;
}

static la_ssize_t on_write(struct archive *a, void *ctx, const void *buf, size_t len)
{
        struct diff_out *o = ctx;
        img_sha256_update(o->tar_hash, buf, len);
        if (deflate_out(o, buf, len, Z_NO_FLUSH) < 0) {
                o->failed = true;
                archive_set_error(a, EIO, "write the layer");
                return -1;
        }
        return (la_ssize_t) len;
}

struct link_seen {
        dev_t dev;
        ino_t ino;
        char *path;
};

struct walker {
        struct archive *a;
        bool layer; /* an overlay upper dir: whiteouts and opaque dirs become OCI's */
        struct link_seen *links;
        size_t n_links;
};

static int add_xattrs(struct archive_entry *e, int fd)
{
        char names[4096];
        ssize_t n = flistxattr(fd, names, sizeof(names));
        for (char *p = names; n > 0 && p < names + n; p += strlen(p) + 1) {
                if (img_is_overlay_xattr(p))
                        continue;
                char val[4096];
                ssize_t v = fgetxattr(fd, p, val, sizeof(val));
                if (v >= 0)
                        archive_entry_xattr_add_entry(e, p, val, (size_t) v);
        }
        return 0;
}

static int write_header(struct walker *w, struct archive_entry *e, const char *path,
                        berth_error_t *err)
{
        if (archive_write_header(w->a, e) != ARCHIVE_OK)
                return berth_fail(err, EIO, "write `%s` into the layer: %s", path,
                                  archive_error_string(w->a));
        return 0;
}

static int add_whiteout(struct walker *w, const char *dir, const char *name, berth_error_t *err)
{
        cleanup_free char *p =
                dir[0] ? berth_xasprintf("%s/.wh.%s", dir, name) : berth_xasprintf(".wh.%s", name);
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, p);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, 0);
        int r = write_header(w, e, p, err);
        archive_entry_free(e);
        return r;
}

static int walk(struct walker *w, int dfd, const char *rel, berth_error_t *err);

static int add_entry(struct walker *w, int dfd, const char *name, const char *rel,
                     berth_error_t *err)
{
        cleanup_free char *path =
                rel[0] ? berth_xasprintf("%s/%s", rel, name) : berth_xstrdup(name);
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return berth_fail(err, errno, "stat `%s`", path);
        if (w->layer && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0))
                return add_whiteout(w, rel, name, err);
        if (S_ISSOCK(st.st_mode))
                return 0; /* sockets are not layer content */
        struct archive_entry *e = archive_entry_new();
        archive_entry_copy_stat(e, &st);
        archive_entry_set_pathname(e, path);
        archive_entry_set_uname(e, "");
        archive_entry_set_gname(e, "");
        /* reading a file changes its atime; ctime is the host's: neither is content */
        archive_entry_unset_atime(e);
        archive_entry_unset_ctime(e);
        archive_entry_unset_birthtime(e);
        int ret = 0;
        cleanup_close int fd = -1;
        if (S_ISLNK(st.st_mode)) {
                char target[4096];
                ssize_t n = readlinkat(dfd, name, target, sizeof(target) - 1);
                if (n < 0) {
                        ret = berth_fail(err, errno, "readlink `%s`", path);
                        goto out;
                }
                target[n] = '\0';
                archive_entry_set_symlink(e, target);
                ret = write_header(w, e, path, err);
                goto out;
        }
        int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0);
        fd = S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) ? openat(dfd, name, flags) : -1;
        if ((S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) && fd < 0) {
                ret = berth_fail(err, errno, "open `%s`", path);
                goto out;
        }
        if (fd >= 0)
                add_xattrs(e, fd);
        if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
                for (size_t i = 0; i < w->n_links; i++) {
                        if (w->links[i].dev == st.st_dev && w->links[i].ino == st.st_ino) {
                                archive_entry_set_hardlink(e, w->links[i].path);
                                archive_entry_set_size(e, 0);
                                ret = write_header(w, e, path, err);
                                goto out;
                        }
                }
                w->links = berth_xrealloc(w->links, (w->n_links + 1) * sizeof(*w->links));
                w->links[w->n_links++] =
                        (struct link_seen){st.st_dev, st.st_ino, berth_xstrdup(path)};
        }
        if (S_ISDIR(st.st_mode)) {
                bool opaque = w->layer && img_dir_is_opaque(fd);
                if (write_header(w, e, path, err) < 0) {
                        ret = -1;
                        goto out;
                }
                if (opaque && add_whiteout(w, path, ".wh..opq", err) < 0) {
                        ret = -1;
                        goto out;
                }
                ret = walk(w, fd, path, err);
                goto out;
        }
        if (!S_ISREG(st.st_mode)) {
                ret = write_header(w, e, path, err);
                goto out;
        }
        if (write_header(w, e, path, err) < 0) {
                ret = -1;
                goto out;
        }
        char buf[1 << 16];
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) > 0)
                if (archive_write_data(w->a, buf, (size_t) n) != n) {
                        ret = berth_fail(err, EIO, "write `%s` into the layer", path);
                        goto out;
                }
        if (n < 0)
                ret = berth_fail(err, errno, "read `%s`", path);
out:
        archive_entry_free(e);
        return ret;
}

static int walk(struct walker *w, int dfd, const char *rel, berth_error_t *err)
{
        char **names;
        size_t n;
        if (img_dir_sorted_names(dfd, rel, &names, &n, err) < 0)
                return -1;
        int ret = 0;
        for (size_t i = 0; i < n && ret == 0; i++)
                ret = add_entry(w, dfd, names[i], rel, err);
        img_names_free(names, n);
        return ret;
}

int img_layer_from_dir(struct img_store *s, int dirfd, struct img_desc *layer,
                       char diffid[IMG_DIGEST_MAX], berth_error_t *err)
{
        struct img_blob_writer bw;
        if (img_blob_begin(s, &bw, err) < 0)
                return -1;
        struct diff_out *o = berth_xcalloc(1, sizeof(*o));
        o->blob = &bw;
        o->err = err;
        o->tar_hash = img_sha256_new();
        /* gzip header with no name and no time: the same changes, the same blob */
        if (deflateInit2(&o->z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
                img_sha256_free(o->tar_hash);
                free(o);
                img_blob_abort(&bw);
                return berth_fail(err, ENOMEM, "initialise gzip");
        }
        struct walker w = {.a = archive_write_new(), .layer = true};
        archive_write_set_format_pax_restricted(w.a);
        archive_write_set_bytes_in_last_block(w.a, 1);
        int ret = 0;
        if (archive_write_open(w.a, o, NULL, on_write, NULL) != ARCHIVE_OK)
                ret = berth_fail(err, EIO, "start the layer: %s", archive_error_string(w.a));
        if (ret == 0)
                ret = walk(&w, dirfd, "", err);
        if (archive_write_close(w.a) != ARCHIVE_OK && ret == 0)
                ret = berth_fail(err, EIO, "finish the layer: %s", archive_error_string(w.a));
        archive_write_free(w.a);
        if (ret == 0 && !o->failed)
                ret = deflate_out(o, NULL, 0, Z_FINISH);
        deflateEnd(&o->z);
        for (size_t i = 0; i < w.n_links; i++)
                free(w.links[i].path);
        free(w.links);
        if (ret < 0 || o->failed) {
                img_sha256_free(o->tar_hash);
                free(o);
                img_blob_abort(&bw);
                return -1;
        }
        img_sha256_final(o->tar_hash, diffid);
        free(o);
        layer->size = (int64_t) bw.size;
        free(layer->media_type);
        layer->media_type = berth_xstrdup(IMG_MT_OCI_LAYER_GZIP);
        return img_blob_commit(&bw, NULL, layer->digest, err);
}

int img_tar_dir(int dirfd, int outfd, berth_error_t *err)
{
        struct walker w = {.a = archive_write_new()};
        archive_write_set_format_pax_restricted(w.a);
        archive_write_set_bytes_in_last_block(w.a, 1);
        int ret = 0;
        if (archive_write_open_fd(w.a, outfd) != ARCHIVE_OK)
                ret = berth_fail(err, EIO, "start the tar stream: %s", archive_error_string(w.a));
        if (ret == 0)
                ret = walk(&w, dirfd, "", err);
        if (archive_write_close(w.a) != ARCHIVE_OK && ret == 0)
                ret = berth_fail(err, EIO, "finish the tar stream: %s", archive_error_string(w.a));
        archive_write_free(w.a);
        for (size_t i = 0; i < w.n_links; i++)
                free(w.links[i].path);
        free(w.links);
        return ret;
}

int img_commit(struct img_store *s, const char *container_id, const char *name,
               const struct img_change *change, char out[IMG_DIGEST_MAX], berth_error_t *err)
{
        cleanup_free char *info_rel = berth_xasprintf("snapshots/%s/info.json", container_id);
        cleanup_free char *text = NULL;
        size_t len = 0;
        if (strchr(container_id, '/') || container_id[0] == '.' ||
            berth_read_file_at(s->root_fd, info_rel, 0, &text, &len, err) < 0)
                return berth_wrap(err, "commit `%s`: no snapshot", container_id);
        json_t *info = json_loadb(text, len, 0, NULL);
        const char *driver = json_string_value(json_object_get(info, "driver"));
        const char *base = json_string_value(json_object_get(info, "image"));
        int ret = -1;
        bool bare = false;
        struct img_image img = {0};
        struct img_desc *layers = NULL;
        struct img_desc top = {0};
        json_t *cfg = NULL;
        cleanup_free char *upper = berth_xasprintf("snapshots/%s/upper", container_id);
        cleanup_free char *now = img_now_rfc3339();
        cleanup_close int ufd = -1;
        if (driver == NULL || strcmp(driver, "overlay") != 0 || !img_digest_valid(base)) {
                berth_fail(err, ENOTSUP, "commit needs an overlay snapshot (driver %s)",
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
        /* the --change instructions before the layer: a bad one costs nothing */
        cfg = json_deep_copy(img.cfg);
        json_object_set_new(cfg, "created", json_string(now));
        if (change && change->author)
                json_object_set_new(cfg, "author", json_string(change->author));
        else
                json_object_del(cfg, "author");
        for (size_t i = 0; change && i < change->n; i++)
                if (img_config_apply_change(cfg, change->changes[i], err) < 0) {
                        bare = true; /* Docker's message alone: it names no container */
                        goto out;
                }
        char diffid[IMG_DIGEST_MAX];
        if (img_layer_from_dir(s, ufd, &top, diffid, err) < 0)
                goto out;
        img_config_add_layer(cfg, diffid);
        json_t *hist = json_object_get(cfg, "history");
        if (!json_is_array(hist)) {
                hist = json_array();
                json_object_set_new(cfg, "history", hist);
        }
        json_t *h = json_pack("{s:s, s:s}", "created", now, "created_by", "berth commit");
        if (change && change->message)
                json_object_set_new(h, "comment", json_string(change->message));
        json_array_append_new(hist, h);
        layers = berth_xcalloc(img.n_layers + 1, sizeof(*layers));
        for (size_t i = 0; i < img.n_layers; i++)
                layers[i] = img.layers[i];
        layers[img.n_layers] = top;
        ret = img_image_commit(s, cfg, layers, img.n_layers + 1, name ? &name : NULL, name ? 1 : 0,
                               out, err);
out:
        free(layers);
        free(top.media_type);
        json_decref(cfg);
        json_decref(info);
        img_image_free(&img);
        if (ret < 0 && !bare)
                berth_wrap(err, "commit `%s`", container_id);
        return ret < 0 ? -1 : 0;
}
