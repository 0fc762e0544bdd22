/* gc.c — garbage collection: every blob and unpacked layer that no image in
 * the table, no container snapshot and no build cache entry references is deleted, and so is
 * whatever a crashed writer left in tmp/.  It runs under gc.lock held
 * exclusively, so no writer is between storing a blob and naming it. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "image/image.h"

struct mark {
        char **hex;
        size_t n;
};

static void mark_add(struct mark *m, const char *digest)
{
        if (!img_digest_valid(digest))
                return;
        m->hex = berth_xrealloc(m->hex, (m->n + 1) * sizeof(char *));
        m->hex[m->n++] = berth_xstrdup(img_digest_hex(digest));
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

static bool marked(const struct mark *m, const char *hex)
{
        return m->n > 0 && bsearch(&hex, m->hex, m->n, sizeof(char *), cmp_str) != NULL;
}

static void mark_image(struct img_store *s, const char *manifest, struct mark *blobs,
                       struct mark *layers)
{
        mark_add(blobs, manifest);
        struct img_image img;
        berth_error_t sub = NULL;
        if (img_image_load(s, manifest, &img, &sub) < 0) {
                /* keep what can be named; a broken image must not take others' blobs */
                log_warn("gc: %s", berth_error_msg(sub));
                berth_error_release(&sub);
                return;
        }
        mark_add(blobs, img.config.digest);
        for (size_t i = 0; i < img.n_layers; i++) {
                mark_add(blobs, img.layers[i].digest);
                mark_add(layers, img.diff_ids[i]);
        }
        img_image_free(&img);
}

/* The images `berth build`'s layer cache names (build-cache/<key> holds a manifest digest)
 * are kept, so that removing an image does not empty the cache; `berth image prune` deletes
 * the cache first.  Entries whose image is gone already are deleted. */
static void mark_build_cache(struct img_store *s, struct mark *blobs, struct mark *layers)
{
        int fd = openat(s->root_fd, "build-cache", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (d == NULL) {
                if (fd >= 0)
                        close(fd);
                return;
        }
        struct dirent *de;
        /* cppcheck-suppress readdirCalled */
        while ((de = readdir(d)) != NULL) {
                if (de->d_name[0] == '.')
                        continue;
                char *text = NULL;
                if (berth_read_file_at(dirfd(d), de->d_name, 256, &text, NULL, NULL) < 0)
                        continue;
                text[strcspn(text, "\n")] = '\0';
                if (img_digest_valid(text) && img_blob_exists(s, text))
                        mark_image(s, text, blobs, layers);
                else
                        unlinkat(dirfd(d), de->d_name, 0);
                free(text);
        }
        closedir(d);
}

int img_build_cache_clear(struct img_store *s, json_t *deleted, berth_error_t *err)
{
        int fd = openat(s->root_fd, "build-cache", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (d == NULL) {
                if (fd >= 0)
                        close(fd);
                return errno == ENOENT ? 0
                                       : berth_fail(err, errno, "open `%s/build-cache`", s->root);
        }
        struct dirent *de;
        /* cppcheck-suppress readdirCalled */
        while ((de = readdir(d)) != NULL) {
                if (de->d_name[0] == '.')
                        continue;
                if (unlinkat(dirfd(d), de->d_name, 0) == 0 && deleted)
                        json_array_append_new(deleted, json_string(de->d_name));
        }
        closedir(d);
        return 0;
}

static int sweep(struct img_store *s, const char *dir, const struct mark *keep, bool dirs,
                 uint64_t *count, uint64_t *bytes, berth_error_t *err)
{
        cleanup_close int fd = openat(s->root_fd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : berth_fail(err, errno, "open `%s/%s`", s->root, dir);
        int dfd = dup(fd);
        cleanup_dir DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (d == NULL)
                return berth_fail(err, errno, "open `%s/%s`", s->root, dir);
        struct dirent *de;
        /* readdir is thread-safe per DIR in glibc; readdir_r is deprecated */
        /* cppcheck-suppress readdirCalled */
        while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (keep && marked(keep, de->d_name))
                        continue;
                struct stat st;
                if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !dirs)
                        *bytes += (uint64_t) st.st_size;
                if (img_rm_rf_at(fd, de->d_name, err) < 0)
                        return -1;
                (*count)++;
        }
        return 0;
}

int img_gc(struct img_store *s, struct img_gc_stats *stats, berth_error_t *err)
{
        struct img_gc_stats local = {0};
        if (stats == NULL)
                stats = &local;
        memset(stats, 0, sizeof(*stats));
        /* our own shared hold (if any) is converted, others' holds are waited for */
        int lock = s->gc_lock_fd;
        s->gc_lock_fd = -1;
        if (lock >= 0) {
                if (flock(lock, LOCK_EX) < 0) {
                        close(lock);
                        return berth_fail(err, errno, "lock `%s/gc.lock`", s->root);
                }
        } else {
                lock = img_store_lock(s, "gc.lock", LOCK_EX, err);
                if (lock < 0)
                        return -1;
        }
        struct img_table t;
        struct mark blobs = {0}, layers = {0};
        char **pinned = NULL;
        size_t n_pinned = 0;
        int ret = -1;
        if (img_table_load(s, &t, err) < 0)
                goto out_lock;
        if (img_snapshots_images(s, &pinned, &n_pinned, err) < 0)
                goto out;
        for (size_t i = 0; i < t.n; i++)
                mark_image(s, t.v[i].manifest, &blobs, &layers);
        for (size_t i = 0; i < n_pinned; i++)
                mark_image(s, pinned[i], &blobs, &layers);
        mark_build_cache(s, &blobs, &layers);
        if (blobs.n)
                qsort(blobs.hex, blobs.n, sizeof(char *), cmp_str);
        if (layers.n)
                qsort(layers.hex, layers.n, sizeof(char *), cmp_str);
        uint64_t tmp_count = 0, tmp_bytes = 0;
        if (sweep(s, "blobs/sha256", &blobs, false, &stats->blobs, &stats->bytes, err) < 0 ||
            sweep(s, "layers", &layers, true, &stats->layers, &stats->bytes, err) < 0 ||
            sweep(s, "tmp", NULL, false, &tmp_count, &tmp_bytes, err) < 0)
                goto out;
        ret = 0;
out:
        img_table_free(&t);
out_lock:
        for (size_t i = 0; i < blobs.n; i++)
                free(blobs.hex[i]);
        for (size_t i = 0; i < layers.n; i++)
                free(layers.hex[i]);
        for (size_t i = 0; i < n_pinned; i++)
                free(pinned[i]);
        free(blobs.hex);
        free(layers.hex);
        free(pinned);
        close(lock);
        if (ret < 0)
                berth_wrap(err, "collect garbage in the image store");
        return ret;
}
