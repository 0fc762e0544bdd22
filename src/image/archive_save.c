/* archive_save.c — `berth save`: images out as a docker-archive (the tar
 * `docker save` writes; like Docker 25 it is also an OCI image layout, so one
 * file serves both kinds of reader), an OCI layout tar, or an OCI layout
 * directory.  Blobs are written byte for byte, so digests and IDs survive. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/paths.h"
#include "common/util.h"
#include "image/image.h"

int img_archive_format_parse(const char *s, enum img_archive_format *out, berth_error_t *err)
{
        if (strcmp(s, "docker-archive") == 0 || strcmp(s, "docker") == 0)
                *out = IMG_FMT_DOCKER_ARCHIVE;
        else if (strcmp(s, "oci-archive") == 0)
                *out = IMG_FMT_OCI_ARCHIVE;
        else if (strcmp(s, "oci-dir") == 0 || strcmp(s, "oci") == 0)
                *out = IMG_FMT_OCI_DIR;
        else
                return berth_fail(err, EINVAL,
                                  "unknown format `%s` (docker-archive, oci-archive or oci-dir)",
                                  s);
        return 0;
}

struct save_item {
        struct img_image img;
        char *name; /* NULL when saved by ID */
        int64_t manifest_size;
        char *manifest_media_type;
};

/* Where the output goes: a tar (libarchive) or a directory. */
struct sink {
        struct archive *a;
        int dirfd;
};

static int sink_bytes(struct sink *k, const char *name, const void *data, size_t len,
                      berth_error_t *err)
{
        if (k->a == NULL) {
                int fd = openat(k->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0)
                        return berth_fail(err, errno, "create `%s`", name);
                int r = berth_write_all(fd, data, len);
                int e = errno;
                close(fd);
                return r < 0 ? berth_fail(err, e, "write `%s`", name) : 0;
        }
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, (la_int64_t) len);
        archive_entry_set_mtime(e, 0, 0);
        int r = archive_write_header(k->a, e);
        archive_entry_free(e);
        if (r != ARCHIVE_OK || (len && archive_write_data(k->a, data, len) != (la_ssize_t) len))
                return berth_fail(err, EIO, "write `%s`: %s", name, archive_error_string(k->a));
        return 0;
}

static int sink_dir(struct sink *k, const char *name, berth_error_t *err)
{
        if (k->a == NULL) {
                if (mkdirat(k->dirfd, name, 0755) < 0 && errno != EEXIST)
                        return berth_fail(err, errno, "mkdir `%s`", name);
                return 0;
        }
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFDIR);
        archive_entry_set_perm(e, 0755);
        archive_entry_set_mtime(e, 0, 0);
        int r = archive_write_header(k->a, e);
        archive_entry_free(e);
        return r == ARCHIVE_OK ? 0 : berth_fail(err, EIO, "write `%s`", name);
}

static int sink_blob(struct img_store *s, struct sink *k, const char *digest, berth_error_t *err)
{
        cleanup_free char *name = berth_xasprintf("blobs/sha256/%s", img_digest_hex(digest));
        cleanup_close int fd = img_blob_open(s, digest, err);
        if (fd < 0)
                return -1;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return berth_fail(err, errno, "stat blob %s", digest);
        if (k->a == NULL) {
                cleanup_close int out =
                        openat(k->dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (out < 0)
                        return berth_fail(err, errno, "create `%s`", name);
                off_t left = st.st_size;
                while (left > 0) {
                        ssize_t n = copy_file_range(fd, NULL, out, NULL, (size_t) left, 0);
                        if (n <= 0)
                                return berth_fail(err, n < 0 ? errno : EIO, "copy `%s`", name);
                        left -= n;
                }
                return 0;
        }
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, AE_IFREG);
        archive_entry_set_perm(e, 0644);
        archive_entry_set_size(e, st.st_size);
        archive_entry_set_mtime(e, 0, 0);
        int r = archive_write_header(k->a, e);
        archive_entry_free(e);
        if (r != ARCHIVE_OK)
                return berth_fail(err, EIO, "write `%s`: %s", name, archive_error_string(k->a));
        cleanup_free char *buf = berth_xmalloc(1 << 17);
        ssize_t n;
        while ((n = read(fd, buf, 1 << 17)) > 0)
                if (archive_write_data(k->a, buf, (size_t) n) != n)
                        return berth_fail(err, EIO, "write `%s`: %s", name,
                                          archive_error_string(k->a));
        return n < 0 ? berth_fail(err, errno, "read blob %s", digest) : 0;
}

static json_t *oci_index(struct save_item *items, size_t n)
{
        json_t *m = json_array();
        for (size_t i = 0; i < n; i++) {
                json_t *d = json_pack("{s:s, s:s, s:I}", "mediaType", items[i].manifest_media_type,
                                      "digest", items[i].img.manifest_digest, "size",
                                      (json_int_t) items[i].manifest_size);
                if (items[i].name) {
                        char *repo, *tag;
                        img_ref_split(items[i].name, &repo, &tag);
                        json_object_set_new(d, "annotations",
                                            json_pack("{s:s, s:s}", IMG_ANNOT_FULL_NAME,
                                                      items[i].name, IMG_ANNOT_REF_NAME, tag));
                        free(repo);
                        free(tag);
                }
                json_array_append_new(m, d);
        }
        return json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType", IMG_MT_OCI_INDEX,
                         "manifests", m);
}

static json_t *docker_manifest(struct save_item *items, size_t n)
{
        json_t *all = json_array();
        for (size_t i = 0; i < n; i++) {
                json_t *layers = json_array();
                for (size_t j = 0; j < items[i].img.n_layers; j++)
                        json_array_append_new(
                                layers,
                                json_sprintf("blobs/sha256/%s",
                                             img_digest_hex(items[i].img.layers[j].digest)));
                json_t *tags = items[i].name ? json_pack("[s]", items[i].name) : json_null();
                json_array_append_new(
                        all, json_pack("{s:o, s:o, s:o}", "Config",
                                       json_sprintf("blobs/sha256/%s",
                                                    img_digest_hex(items[i].img.config.digest)),
                                       "RepoTags", tags, "Layers", layers));
        }
        return all;
}

/* The legacy `repositories` file Docker still writes: repository → tag → the image's top
 * layer (its blob's hex digest, as Docker >= 25 names it), for the named images; NULL when none
 * is. */
static json_t *docker_repositories(struct save_item *items, size_t n)
{
        json_t *repos = json_object();
        for (size_t i = 0; i < n; i++) {
                const struct img_image *img = &items[i].img;
                if (items[i].name == NULL || img->n_layers == 0)
                        continue;
                char *repo, *tag;
                img_ref_split(items[i].name, &repo, &tag);
                json_t *tags = json_object_get(repos, repo);
                if (tags == NULL)
                        json_object_set_new(repos, repo, tags = json_object());
                json_object_set_new(
                        tags, tag,
                        json_string(img_digest_hex(img->layers[img->n_layers - 1].digest)));
                free(repo);
                free(tag);
        }
        if (json_object_size(repos) == 0) {
                json_decref(repos);
                return NULL;
        }
        return repos;
}

static int write_all(struct img_store *s, struct sink *k, struct save_item *items, size_t n,
                     enum img_archive_format fmt, berth_error_t *err)
{
        static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
        if (sink_dir(k, "blobs", err) < 0 || sink_dir(k, "blobs/sha256", err) < 0)
                return -1;
        /* blobs once each, in a stable order */
        json_t *seen = json_object();
        int ret = 0;
        for (size_t i = 0; i < n && ret == 0; i++) {
                const struct img_image *img = &items[i].img;
                cleanup_free const char **ds = berth_xcalloc(2 + img->n_layers, sizeof(char *));
                size_t nd = 0;
                ds[nd++] = img->manifest_digest;
                ds[nd++] = img->config.digest;
                for (size_t j = 0; j < img->n_layers; j++)
                        ds[nd++] = img->layers[j].digest;
                for (size_t j = 0; j < nd && ret == 0; j++) {
                        if (json_object_get(seen, ds[j]))
                                continue;
                        json_object_set_new(seen, ds[j], json_true());
                        ret = sink_blob(s, k, ds[j], err);
                }
        }
        json_decref(seen);
        if (ret < 0)
                return -1;
        json_t *index = oci_index(items, n);
        cleanup_free char *index_text = json_dumps(index, JSON_COMPACT);
        json_decref(index);
        if (sink_bytes(k, "oci-layout", layout, sizeof(layout) - 1, err) < 0 ||
            sink_bytes(k, "index.json", index_text, strlen(index_text), err) < 0)
                return -1;
        if (fmt == IMG_FMT_DOCKER_ARCHIVE) {
                json_t *dm = docker_manifest(items, n);
                cleanup_free char *dm_text = json_dumps(dm, JSON_COMPACT);
                json_decref(dm);
                if (sink_bytes(k, "manifest.json", dm_text, strlen(dm_text), err) < 0)
                        return -1;
                json_t *repos = docker_repositories(items, n);
                cleanup_free char *repos_text =
                        repos ? json_dumps(repos, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
                json_decref(repos);
                if (repos_text &&
                    sink_bytes(k, "repositories", repos_text, strlen(repos_text), err) < 0)
                        return -1;
        }
        return 0;
}

static int resolve_items(struct img_store *s, const char *const *images, size_t n,
                         struct save_item *items, berth_error_t *err)
{
        struct img_table t;
        if (img_table_load(s, &t, err) < 0)
                return -1;
        int ret = 0;
        for (size_t i = 0; i < n && ret == 0; i++) {
                struct img_entry *e;
                ret = img_lookup(s, &t, images[i], &e, err);
                if (ret < 0 && *err && (*err)->status == 1 && (*err)->errnum == 0) {
                        /* dockerd's save names a missing image as given */
                        berth_error_release(err);
                        berth_fail_status(err, 1, 0, "No such image: %s", images[i]);
                }
                if (ret < 0)
                        break;
                ret = img_image_load(s, e->manifest, &items[i].img, err);
                if (ret < 0)
                        break;
                items[i].manifest_size = e->manifest_size;
                items[i].manifest_media_type = berth_xstrdup(e->manifest_media_type);
                cleanup_free char *name = NULL;
                berth_error_t sub = NULL;
                if (img_ref_normalize(images[i], &name, &sub) == 0 && !strchr(name, '@')) {
                        for (size_t j = 0; j < e->n_names && name; j++)
                                if (strcmp(e->names[j], name) == 0)
                                        items[i].name = berth_steal_ptr(&name);
                }
                berth_error_release(&sub);
        }
        img_table_free(&t);
        return ret;
}

int img_save(struct img_store *s, const char *const *images, size_t n, enum img_archive_format fmt,
             const char *path, berth_error_t *err)
{
        struct save_item *items = berth_xcalloc(n ? n : 1, sizeof(*items));
        struct sink k = {.dirfd = -1};
        int ret = resolve_items(s, images, n, items, err);
        bool bare = ret < 0; /* what is not there: dockerd's message alone */
        if (ret < 0)
                goto out;
        if (fmt == IMG_FMT_OCI_DIR) {
                if (mkdir(path, 0755) < 0 && errno != EEXIST) {
                        ret = berth_fail(err, errno, "mkdir `%s`", path);
                        goto out;
                }
                k.dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (k.dirfd < 0) {
                        ret = berth_fail(err, errno, "open `%s`", path);
                        goto out;
                }
                ret = write_all(s, &k, items, n, fmt, err);
                close(k.dirfd);
                goto out;
        }
        k.a = archive_write_new();
        archive_write_set_format_pax_restricted(k.a);
        int r = strcmp(path, "-") == 0 ? archive_write_open_fd(k.a, STDOUT_FILENO)
                                       : archive_write_open_filename(k.a, path);
        if (r != ARCHIVE_OK) {
                ret = berth_fail(err, errno ? errno : EIO, "open `%s`: %s", path,
                                 archive_error_string(k.a));
        } else {
                ret = write_all(s, &k, items, n, fmt, err);
                if (archive_write_close(k.a) != ARCHIVE_OK && ret == 0)
                        ret = berth_fail(err, EIO, "finish `%s`: %s", path,
                                         archive_error_string(k.a));
        }
        archive_write_free(k.a);
        /* a cut-off archive must not look like a saved image (a device or fifo named by -o
         * is left alone) */
        struct stat pst;
        if (ret < 0 && r == ARCHIVE_OK && strcmp(path, "-") != 0 && lstat(path, &pst) == 0 &&
            S_ISREG(pst.st_mode))
                unlink(path);
out:
        /* dockerd logs "save" once per image written, Actor.ID and name its ID */
        for (size_t i = 0; i < n && ret == 0; i++) {
                bool dup = false;
                for (size_t j = 0; j < i && !dup; j++)
                        dup = strcmp(items[j].img.manifest_digest, items[i].img.manifest_digest) ==
                              0;
                if (!dup)
                        img_event(s, items[i].img.manifest_digest, "save", NULL);
        }
        for (size_t i = 0; i < n; i++) {
                img_image_free(&items[i].img);
                free(items[i].name);
                free(items[i].manifest_media_type);
        }
        free(items);
        if (ret < 0 && !bare)
                berth_wrap(err, "save to `%s`", path);
        return ret < 0 ? -1 : 0;
}
