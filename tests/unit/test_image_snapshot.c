/* test_image_snapshot.c — a two-layer image (the second deletes a file and
 * makes a directory opaque) seen through the overlay and the vfs drivers,
 * and garbage collection around it. */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "image/image.h"
#include "image_tar.h"
#include "tap.h"

static int add_layer(struct img_store *s, const struct ent *ents, size_t n, struct img_desc *d,
                     json_t *cfg)
{
        berth_error_t err = NULL;
        int fd = make_tar(ents, n, "gzip");
        uint64_t size = 0;
        int r = img_blob_put_fd(s, fd, NULL, d->digest, &size, &err);
        d->size = (int64_t) size;
        d->media_type = berth_xstrdup(IMG_MT_OCI_LAYER_GZIP);
        char diffid[IMG_DIGEST_MAX];
        lseek(fd, 0, SEEK_SET);
        r |= img_layer_diffid(fd, diffid, NULL, &err);
        json_array_append_new(json_object_get(json_object_get(cfg, "rootfs"), "diff_ids"),
                              json_string(diffid));
        close(fd);
        if (err)
                printf("# %s\n", berth_error_msg(err));
        berth_error_release(&err);
        return r;
}

static void check_view(const char *rootfs, const char *driver)
{
        char msg[128];
        cleanup_free char *keep = berth_xasprintf("%s/etc/keep", rootfs);
        cleanup_free char *gone = berth_xasprintf("%s/etc/gone", rootfs);
        cleanup_free char *cache = berth_xasprintf("%s/var/cache", rootfs);
        cleanup_free char *fresh = berth_xasprintf("%s/var/cache/new", rootfs);
        snprintf(msg, sizeof(msg), "%s: file of the lower layer visible", driver);
        ok(access(keep, F_OK) == 0, msg);
        snprintf(msg, sizeof(msg), "%s: whited-out file is gone", driver);
        ok(access(gone, F_OK) < 0, msg);
        snprintf(msg, sizeof(msg), "%s: opaque dir shows only the upper layer", driver);
        ok(count_entries(cache) == 1 && access(fresh, F_OK) == 0, msg);
}

/* The container changes its overlay rootfs; commit makes a layer of the changes. */
static void test_commit(struct img_store *s, const char *rootfs)
{
        berth_error_t err = NULL;
        cleanup_free char *keep = berth_xasprintf("%s/etc/keep", rootfs);
        cleanup_free char *added = berth_xasprintf("%s/etc/added", rootfs);
        cleanup_free char *cache = berth_xasprintf("%s/var/cache", rootfs);
        cleanup_free char *cache2 = berth_xasprintf("%s/var/cache/only", rootfs);
        ok(unlink(keep) == 0, "container deletes a lower file");
        ok(berth_write_file_atomic(added, "new", 3, 0640, &err) == 0, "container adds a file");
        cleanup_free char *rm = berth_xasprintf("rm -rf %s", cache);
        (void) !system(rm);
        ok(mkdir(cache, 0700) == 0 && berth_write_file_atomic(cache2, "o", 1, 0600, &err) == 0,
           "container replaces a directory");
        const char *changes[] = {"CMD [\"/bin/true\"]"};
        struct img_change ch = {.changes = changes, .n = 1, .message = "committed"};
        char m[IMG_DIGEST_MAX];
        is_int(img_commit(s, "c1", "committed:1", &ch, m, &err), 0, "commit");
        if (err)
                printf("# %s\n", berth_error_msg(err));
        berth_error_release(&err);
        struct img_image img;
        is_int(img_image_load(s, m, &img, &err), 0, "committed image loads");
        is_int(img.n_layers, 3, "one layer more");
        json_t *want = json_pack("[s]", "/bin/true");
        ok(json_equal(json_object_get(json_object_get(img.cfg, "config"), "Cmd"), want),
           "change applied");
        json_decref(want);
        char *rootfs2 = NULL;
        is_int(img_rootfs_prepare(s, "committed:1", "c3", IMG_DRIVER_VFS, &rootfs2, &err), 0,
               "committed image gives a rootfs");
        berth_error_release(&err);
        if (rootfs2) {
                cleanup_free char *k2 = berth_xasprintf("%s/etc/keep", rootfs2);
                cleanup_free char *a2 = berth_xasprintf("%s/etc/added", rootfs2);
                cleanup_free char *c2 = berth_xasprintf("%s/var/cache", rootfs2);
                struct stat st;
                ok(access(k2, F_OK) < 0, "deleted file stays deleted (whiteout)");
                ok(stat(a2, &st) == 0 && (st.st_mode & 0777) == 0640, "added file with its mode");
                ok(count_entries(c2) == 1, "replaced directory is opaque");
                img_rootfs_remove(s, "c3", &err);
        }
        free(rootfs2);
        /* the same changes make the same layer */
        cleanup_free char *up = berth_xasprintf("%s/snapshots/c1/upper", s->root);
        int ufd = open(up, O_RDONLY | O_DIRECTORY);
        struct img_desc l1 = {0}, l2 = {0};
        char d1[IMG_DIGEST_MAX], d2[IMG_DIGEST_MAX];
        is_int(img_layer_from_dir(s, ufd, &l1, d1, &err), 0, "layer from the upper dir");
        is_int(img_layer_from_dir(s, ufd, &l2, d2, &err), 0, "and again");
        ok(strcmp(l1.digest, l2.digest) == 0 && strcmp(d1, d2) == 0, "reproducible layer");
        is_str(d1, img.diff_ids[2], "the committed layer's diffID");
        close(ufd);
        free(l1.media_type);
        free(l2.media_type);
        img_image_free(&img);
}

/* More layers than one page of mount options can list (~37 with these paths). */
static void test_many_layers(struct img_store *s)
{
        berth_error_t err = NULL;
        enum { N = 60 };
        json_t *cfg = img_config_new();
        struct img_desc layers[N] = {0};
        int bad = 0;
        for (int i = 0; i < N; i++) {
                char path[32], data[8];
                snprintf(path, sizeof(path), "many/f%02d", i);
                snprintf(data, sizeof(data), "%d", i);
                struct ent e[] = {{path, AE_IFREG, data, 0, 0}};
                bad |= add_layer(s, e, 1, &layers[i], cfg);
        }
        ok(!bad, "60 layers stored");
        const char *names[] = {"many:layers"};
        is_int(img_image_commit(s, cfg, layers, N, names, 1, NULL, &err), 0, "image committed");
        json_decref(cfg);
        char *rootfs = NULL;
        int r = img_rootfs_prepare(s, "many:layers", "many", IMG_DRIVER_OVERLAY, &rootfs, &err);
        is_int(r, 0, "overlay of 60 layers mounted");
        if (err)
                printf("# %s\n", berth_error_msg(err));
        berth_error_release(&err);
        if (r == 0) {
                cleanup_free char *dir = berth_xasprintf("%s/many", rootfs);
                is_int(count_entries(dir), N, "every layer's file visible");
        }
        free(rootfs);
        img_rootfs_remove(s, "many", &err);
        berth_error_release(&err);
        for (int i = 0; i < N; i++)
                free(layers[i].media_type);
}

int main(void)
{
        berth_error_t err = NULL;
        char dir[] = "/tmp/berth-test-snap-XXXXXX";
        ok(mkdtemp(dir) != NULL, "temp dir");
        struct img_store s;
        is_int(img_store_open(&s, dir, &err), 0, "store opens");

        static const struct ent l1[] = {
                {"etc/keep", AE_IFREG, "k", 0, 0},
                {"etc/gone", AE_IFREG, "g", 0, 0},
                {"var/cache/old1", AE_IFREG, "1", 0, 0},
                {"var/cache/old2", AE_IFREG, "2", 0, 0},
        };
        static const struct ent l2[] = {
                {"etc/.wh.gone", AE_IFREG, NULL, 0, 0},
                {"var/cache/.wh..wh..opq", AE_IFREG, NULL, 0, 0},
                {"var/cache/new", AE_IFREG, "n", 0, 0},
        };
        json_t *cfg = img_config_new();
        struct img_desc layers[2] = {0};
        is_int(add_layer(&s, l1, BERTH_ARRAY_SIZE(l1), &layers[0], cfg), 0, "layer 1 stored");
        is_int(add_layer(&s, l2, BERTH_ARRAY_SIZE(l2), &layers[1], cfg), 0, "layer 2 stored");
        const char *names[] = {"two:layers"};
        char manifest[IMG_DIGEST_MAX];
        is_int(img_image_commit(&s, cfg, layers, 2, names, 1, manifest, &err), 0,
               "image committed");
        json_decref(cfg);

        char *rootfs = NULL;
        if (geteuid() == 0 && img_driver_default() == IMG_DRIVER_OVERLAY) {
                int r = img_rootfs_prepare(&s, "two:layers", "c1", IMG_DRIVER_OVERLAY, &rootfs,
                                           &err);
                is_int(r, 0, "overlay rootfs prepared");
                if (err)
                        printf("# %s\n", berth_error_msg(err));
                berth_error_release(&err);
                if (r == 0) {
                        check_view(rootfs, "overlay");
                        test_commit(&s, rootfs);
                }
                test_many_layers(&s);
                free(rootfs);
                rootfs = NULL;
        } else {
                tap_skip("overlay rootfs", "needs root and overlayfs");
        }
        if (geteuid() == 0) {
                is_int(img_rootfs_prepare(&s, "two:layers", "c2", IMG_DRIVER_VFS, &rootfs, &err), 0,
                       "vfs rootfs prepared");
                berth_error_release(&err);
                if (rootfs)
                        check_view(rootfs, "vfs");
                free(rootfs);
        } else {
                tap_skip("vfs rootfs", "needs root for whiteout devices");
        }
        is_int(img_rootfs_prepare(&s, "two:layers", "../x", IMG_DRIVER_VFS, &rootfs, &err), -1,
               "container id with a slash refused");
        berth_error_release(&err);
        cleanup_free char *layers_dir = berth_xasprintf("%s/images/layers", dir);
        int n_layers = count_entries(layers_dir);

        /* the image loses its name; the snapshots still pin its blobs and layers */
        is_int(img_table_remove(&s, manifest, &err), 0, "image removed from the table");
        struct img_gc_stats st;
        is_int(img_gc(&s, &st, &err), 0, "gc with snapshots");
        ok(img_blob_exists(&s, layers[0].digest) && count_entries(layers_dir) == n_layers,
           "pinned blobs and layers kept");
        img_rootfs_remove(&s, "c1", &err);
        img_rootfs_remove(&s, "c2", &err);
        struct img_table t;
        if (img_table_load(&s, &t, &err) == 0) {
                for (size_t i = 0; i < t.n; i++)
                        img_table_remove(&s, t.v[i].manifest, &err);
                img_table_free(&t);
        }
        berth_error_release(&err);
        is_int(img_gc(&s, &st, &err), 0, "gc after the snapshots are gone");
        ok(!img_blob_exists(&s, layers[0].digest) && !img_blob_exists(&s, manifest),
           "unreferenced blobs deleted");
        is_int(count_entries(layers_dir), 0, "unreferenced layers deleted");
        ok(st.blobs >= 4, "gc counted the blobs");
        cleanup_free char *blobs = berth_xasprintf("%s/images/blobs/sha256", dir);
        is_int(count_entries(blobs), 0, "blob dir empty");

        free(layers[0].media_type);
        free(layers[1].media_type);
        img_store_close(&s);
        cleanup_free char *cmd = berth_xasprintf("rm -rf %s", dir);
        (void) !system(cmd);
        return tap_done();
}
