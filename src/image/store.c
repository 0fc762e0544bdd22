/* store.c — the content-addressable blob store: blobs/sha256/<hex>, written to
 * tmp/, verified against their digest, fsynced and renamed into place, so that a
 * reader never sees a partial or wrong blob and concurrent writers of the same
 * blob both succeed (the second rename replaces identical content). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/paths.h"
#include "common/util.h"
#include "image/image.h"

static const char *const store_dirs[] = {"blobs", "blobs/sha256", "layers", "snapshots", "tmp"};

int img_store_open(struct img_store *s, const char *data_dir, berth_error_t *err)
{
        memset(s, 0, sizeof(*s));
        s->root_fd = s->gc_lock_fd = -1;
        s->root = berth_path_join(data_dir, "images");
        if (berth_mkdir_p(s->root, 0700, err) < 0)
                goto fail;
        s->root_fd = open(s->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->root_fd < 0) {
                berth_fail(err, errno, "open `%s`", s->root);
                goto fail;
        }
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(store_dirs); i++) {
                if (mkdirat(s->root_fd, store_dirs[i], 0700) < 0 && errno != EEXIST) {
                        berth_fail(err, errno, "mkdir `%s/%s`", s->root, store_dirs[i]);
                        goto fail;
                }
        }
        if (faccessat(s->root_fd, "oci-layout", F_OK, 0) < 0) {
                static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
                cleanup_free char *p = berth_path_join(s->root, "oci-layout");
                if (berth_write_file_atomic(p, layout, sizeof(layout) - 1, 0644, err) < 0)
                        goto fail;
        }
        return 0;
fail:
        berth_wrap(err, "open the image store");
        img_store_close(s);
        return -1;
}

void img_store_close(struct img_store *s)
{
        if (s->root_fd >= 0)
                close(s->root_fd);
        if (s->gc_lock_fd >= 0)
                close(s->gc_lock_fd);
        free(s->root);
        s->root = NULL;
        s->root_fd = s->gc_lock_fd = -1;
}

int img_store_lock(struct img_store *s, const char *name, int op, berth_error_t *err)
{
        int fd = openat(s->root_fd, name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return berth_fail(err, errno, "open `%s/%s`", s->root, name);
        if (flock(fd, op) < 0) {
                int e = errno;
                close(fd);
                return berth_fail(err, e, "lock `%s/%s`", s->root, name);
        }
        return fd;
}

int img_store_writer_begin(struct img_store *s, berth_error_t *err)
{
        if (s->gc_lock_fd >= 0)
                return 0;
        s->gc_lock_fd = img_store_lock(s, "gc.lock", LOCK_SH, err);
        return s->gc_lock_fd < 0 ? -1 : 0;
}

void img_store_writer_end(struct img_store *s)
{
        if (s->gc_lock_fd >= 0)
                close(s->gc_lock_fd);
        s->gc_lock_fd = -1;
}

char *img_blob_path(struct img_store *s, const char *digest)
{
        return berth_xasprintf("%s/blobs/sha256/%s", s->root, img_digest_hex(digest));
}

int img_blob_begin(struct img_store *s, struct img_blob_writer *w, berth_error_t *err)
{
        memset(w, 0, sizeof(*w));
        w->fd = -1;
        w->store = s;
        /* held until the store is closed: the blob is not referenced yet */
        if (img_store_writer_begin(s, err) < 0)
                return -1;
        w->tmp_path = berth_xasprintf("%s/tmp/blob-XXXXXX", s->root);
        w->fd = mkostemp(w->tmp_path, O_CLOEXEC);
        if (w->fd < 0) {
                int e = errno;
                free(w->tmp_path);
                w->tmp_path = NULL;
                return berth_fail(err, e, "create a temporary blob in `%s/tmp`", s->root);
        }
        w->hash = img_sha256_new();
        return 0;
}

int img_blob_write(struct img_blob_writer *w, const void *buf, size_t len, berth_error_t *err)
{
        if (berth_write_all(w->fd, buf, len) < 0)
                return berth_fail(err, errno, "write `%s`", w->tmp_path);
        img_sha256_update(w->hash, buf, len);
        w->size += len;
        return 0;
}

void img_blob_abort(struct img_blob_writer *w)
{
        if (w->fd >= 0)
                close(w->fd);
        if (w->tmp_path)
                unlink(w->tmp_path);
        free(w->tmp_path);
        img_sha256_free(w->hash);
        w->fd = -1;
        w->tmp_path = NULL;
        w->hash = NULL;
}

int img_blob_commit(struct img_blob_writer *w, const char *expected, char out[IMG_DIGEST_MAX],
                    berth_error_t *err)
{
        char got[IMG_DIGEST_MAX];
        img_sha256_final(w->hash, got);
        w->hash = NULL;
        if (expected && strcmp(expected, got) != 0) {
                img_blob_abort(w);
                return berth_fail(err, EBADMSG, "blob digest mismatch: expected %s, got %s",
                                  expected, got);
        }
        if (fchmod(w->fd, 0644) < 0 || fsync(w->fd) < 0) {
                int e = errno;
                img_blob_abort(w);
                return berth_fail(err, e, "sync blob %s", got);
        }
        cleanup_free char *dst = img_blob_path(w->store, got);
        if (rename(w->tmp_path, dst) < 0) {
                int e = errno;
                img_blob_abort(w);
                return berth_fail(err, e, "rename blob into `%s`", dst);
        }
        free(w->tmp_path);
        w->tmp_path = NULL;
        close(w->fd);
        w->fd = -1;
        cleanup_close int dfd =
                openat(w->store->root_fd, "blobs/sha256", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                (void) fsync(dfd);
        if (out)
                memcpy(out, got, IMG_DIGEST_MAX);
        return 0;
}

int img_blob_put(struct img_store *s, const void *buf, size_t len, const char *expected,
                 char out[IMG_DIGEST_MAX], berth_error_t *err)
{
        struct img_blob_writer w;
        if (img_blob_begin(s, &w, err) < 0)
                return -1;
        if (img_blob_write(&w, buf, len, err) < 0) {
                img_blob_abort(&w);
                return -1;
        }
        return img_blob_commit(&w, expected, out, err);
}

int img_blob_write_fd(struct img_blob_writer *w, int fd, berth_error_t *err)
{
        cleanup_free char *buf = berth_xmalloc(1 << 17);
        for (;;) {
                ssize_t r = read(fd, buf, 1 << 17);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return berth_fail(err, errno, "read blob data");
                if (r == 0)
                        return 0;
                if (img_blob_write(w, buf, (size_t) r, err) < 0)
                        return -1;
        }
}

int img_blob_put_fd(struct img_store *s, int fd, const char *expected, char out[IMG_DIGEST_MAX],
                    uint64_t *size, berth_error_t *err)
{
        struct img_blob_writer w;
        if (img_blob_begin(s, &w, err) < 0)
                return -1;
        if (img_blob_write_fd(&w, fd, err) < 0) {
                img_blob_abort(&w);
                return -1;
        }
        if (size)
                *size = w.size;
        return img_blob_commit(&w, expected, out, err);
}

bool img_blob_exists(struct img_store *s, const char *digest)
{
        if (!img_digest_valid(digest))
                return false;
        cleanup_free char *rel = berth_xasprintf("blobs/sha256/%s", img_digest_hex(digest));
        return faccessat(s->root_fd, rel, F_OK, 0) == 0;
}

int img_blob_open(struct img_store *s, const char *digest, berth_error_t *err)
{
        if (!img_digest_valid(digest))
                return berth_fail(err, EINVAL, "invalid digest `%s`", digest);
        cleanup_free char *rel = berth_xasprintf("blobs/sha256/%s", img_digest_hex(digest));
        int fd = openat(s->root_fd, rel, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return berth_fail(err, errno, "open blob %s", digest);
        return fd;
}

int img_blob_size(struct img_store *s, const char *digest, uint64_t *size, berth_error_t *err)
{
        cleanup_close int fd = img_blob_open(s, digest, err);
        if (fd < 0)
                return -1;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return berth_fail(err, errno, "stat blob %s", digest);
        *size = (uint64_t) st.st_size;
        return 0;
}

int img_blob_read(struct img_store *s, const char *digest, char **out, size_t *len,
                  berth_error_t *err)
{
        if (!img_digest_valid(digest))
                return berth_fail(err, EINVAL, "invalid digest `%s`", digest);
        cleanup_free char *rel = berth_xasprintf("blobs/sha256/%s", img_digest_hex(digest));
        if (berth_read_file_at(s->root_fd, rel, 0, out, len, err) < 0)
                return berth_wrap(err, "read blob %s", digest);
        return 0;
}
