/* archive_load.c — `berth load`: docker-archive (any `docker save` era, incl.
 * legacy <id>/layer.tar with symlinked duplicates) and OCI image layouts, as a
 * tar (optionally compressed) or a directory.  Every file is streamed into the
 * blob store as it is read; files named blobs/sha256/<hex> must hash to that
 * name or the load fails.  Layers are checked against the config's diffIDs
 * before the image gets a name, so nothing unverified becomes an image. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "image/image.h"

#define META_MAX (16u << 20)

struct loaded {
        json_t *files; /* archive path → blob digest */
        json_t *links; /* archive path → archive path it links to */
        char *manifest_json, *index_json;
};

static bool is_meta(const char *name)
{
        return strcmp(name, "manifest.json") == 0 || strcmp(name, "index.json") == 0 ||
               strcmp(name, "oci-layout") == 0 || strcmp(name, "repositories") == 0;
}

static const char *clean(const char *name)
{
        while (name[0] == '.' && name[1] == '/')
                name += 2;
        while (name[0] == '/')
                name++;
        return name;
}

/* The digest a path promises by its name (blobs/sha256/<hex>), or NULL. */
static const char *promised(const char *name, char buf[IMG_DIGEST_MAX])
{
        if (!berth_str_has_prefix(name, "blobs/sha256/"))
                return NULL;
        snprintf(buf, IMG_DIGEST_MAX, "sha256:%s", name + 13);
        return img_digest_valid(buf) ? buf : NULL;
}

static int take_file(struct img_store *s, struct loaded *l, const char *name, struct archive *a,
                     int fd, berth_error_t *err)
{
        if (is_meta(name)) {
                cleanup_free char *buf = berth_xmalloc(META_MAX + 1);
                size_t n = 0;
                for (;;) {
                        ssize_t r = a ? archive_read_data(a, buf + n, META_MAX - n)
                                      : read(fd, buf + n, META_MAX - n);
                        if (r < 0)
                                return berth_fail(err, EIO, "read `%s`", name);
                        if (r == 0)
                                break;
                        n += (size_t) r;
                        if (n == META_MAX)
                                return berth_fail(err, EFBIG, "`%s` is too large", name);
                }
                buf[n] = '\0';
                if (strcmp(name, "manifest.json") == 0)
                        l->manifest_json = berth_steal_ptr(&buf);
                else if (strcmp(name, "index.json") == 0)
                        l->index_json = berth_steal_ptr(&buf);
                return 0;
        }
        char want[IMG_DIGEST_MAX], got[IMG_DIGEST_MAX];
        struct img_blob_writer w;
        if (img_blob_begin(s, &w, err) < 0)
                return -1;
        cleanup_free char *buf = berth_xmalloc(1 << 17);
        for (;;) {
                ssize_t r = a ? archive_read_data(a, buf, 1 << 17) : read(fd, buf, 1 << 17);
                if (r < 0) {
                        img_blob_abort(&w);
                        return berth_fail(err, EIO, "read `%s`: %s", name,
                                          a ? archive_error_string(a) : strerror(errno));
                }
                if (r == 0)
                        break;
                if (img_blob_write(&w, buf, (size_t) r, err) < 0) {
                        img_blob_abort(&w);
                        return -1;
                }
        }
        if (img_blob_commit(&w, promised(name, want), got, err) < 0)
                return berth_wrap(err, "`%s`", name);
        json_object_set_new(l->files, name, json_string(got));
        return 0;
}

static int read_tar(struct img_store *s, const char *path, struct loaded *l, berth_error_t *err)
{
        struct archive *a = archive_read_new();
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        int r = strcmp(path, "-") == 0 ? archive_read_open_fd(a, STDIN_FILENO, 1 << 17)
                                       : archive_read_open_filename(a, path, 1 << 17);
        int ret = 0;
        if (r != ARCHIVE_OK) {
                ret = berth_fail(err, EINVAL, "open `%s`: %s", path, archive_error_string(a));
                goto out;
        }
        struct archive_entry *e;
        while ((r = archive_read_next_header(a, &e)) != ARCHIVE_EOF) {
                if (r < ARCHIVE_WARN) {
                        ret = berth_fail(err, EINVAL, "read `%s`: %s", path,
                                         archive_error_string(a));
                        goto out;
                }
                const char *name = clean(archive_entry_pathname(e));
                if (archive_entry_hardlink(e)) {
                        json_object_set_new(l->links, name,
                                            json_string(clean(archive_entry_hardlink(e))));
                } else if (archive_entry_filetype(e) == AE_IFLNK) {
                        /* legacy docker save links duplicate layers: ../<id>/layer.tar */
                        cleanup_free char *dir = berth_xstrdup(name);
                        cleanup_free char *joined =
                                berth_xasprintf("%s/%s", dirname(dir), archive_entry_symlink(e));
                        char *p = joined, *q;
                        while ((q = strstr(p, "/../")) != NULL) {
                                char *prev = q;
                                while (prev > joined && prev[-1] != '/')
                                        prev--;
                                memmove(prev, q + 4, strlen(q + 4) + 1);
                                p = joined;
                        }
                        json_object_set_new(l->links, name, json_string(clean(joined)));
                } else if (archive_entry_filetype(e) == AE_IFREG) {
                        if (take_file(s, l, name, a, -1, err) < 0) {
                                ret = -1;
                                goto out;
                        }
                }
        }
out:
        archive_read_free(a);
        return ret;
}

static int read_dir(struct img_store *s, const char *path, struct loaded *l, berth_error_t *err)
{
        static const char *const metas[] = {"index.json", "manifest.json"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(metas); i++) {
                cleanup_free char *p = berth_xasprintf("%s/%s", path, metas[i]);
                cleanup_close int fd = open(p, O_RDONLY | O_CLOEXEC);
                if (fd >= 0 && take_file(s, l, metas[i], NULL, fd, err) < 0)
                        return -1;
        }
        cleanup_free char *bdir = berth_xasprintf("%s/blobs/sha256", path);
        cleanup_dir DIR *d = opendir(bdir);
        if (d == NULL)
                return berth_fail(err, errno, "open `%s`", bdir);
        struct dirent *de;
        /* readdir is thread-safe per DIR in glibc; readdir_r is deprecated */
        /* cppcheck-suppress readdirCalled */
        while ((de = readdir(d)) != NULL) {
                if (de->d_name[0] == '.')
                        continue;
                cleanup_free char *name = berth_xasprintf("blobs/sha256/%s", de->d_name);
                cleanup_close int fd = openat(dirfd(d), de->d_name, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        return berth_fail(err, errno, "open `%s/%s`", bdir, de->d_name);
                if (take_file(s, l, name, NULL, fd, err) < 0)
                        return -1;
        }
        return 0;
}

static const char *file_digest(struct loaded *l, const char *name)
{
        name = clean(name);
        for (int hops = 0; hops < 8; hops++) {
                const char *d = json_string_value(json_object_get(l->files, name));
                if (d)
                        return d;
                const char *to = json_string_value(json_object_get(l->links, name));
                if (to == NULL)
                        return NULL;
                name = to;
        }
        return NULL;
}

static int load_docker(struct img_store *s, struct loaded *l, img_load_report_fn report, void *ctx,
                       berth_error_t *err)
{
        json_error_t jerr;
        json_t *m = json_loads(l->manifest_json, 0, &jerr);
        if (!json_is_array(m)) {
                json_decref(m);
                return berth_fail(err, EINVAL, "parse manifest.json: %s", jerr.text);
        }
        int ret = 0;
        size_t i;
        json_t *item;
        json_array_foreach(m, i, item)
        {
                struct img_desc config = {0};
                const char *cfg_path = json_string_value(json_object_get(item, "Config"));
                const char *cd = cfg_path ? file_digest(l, cfg_path) : NULL;
                if (cd == NULL) {
                        ret = berth_fail(err, EINVAL,
                                         "manifest.json: config `%s` not in the archive",
                                         cfg_path ? cfg_path : "(none)");
                        break;
                }
                snprintf(config.digest, sizeof(config.digest), "%s", cd);
                uint64_t csize = 0;
                cleanup_free char *cfg_text = NULL;
                size_t cfg_len = 0;
                if (img_blob_size(s, cd, &csize, err) < 0 ||
                    img_blob_read(s, cd, &cfg_text, &cfg_len, err) < 0) {
                        ret = -1;
                        break;
                }
                config.size = (int64_t) csize;
                json_t *cfg = json_loadb(cfg_text, cfg_len, 0, NULL);
                json_t *ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
                json_t *layers = json_object_get(item, "Layers");
                size_t n = json_array_size(layers);
                if (cfg == NULL || json_array_size(ids) != n) {
                        json_decref(cfg);
                        ret = berth_fail(err, EINVAL, "config %s does not match its %zu layers", cd,
                                         n);
                        break;
                }
                struct img_desc *ls = berth_xcalloc(n ? n : 1, sizeof(*ls));
                for (size_t j = 0; j < n && ret == 0; j++) {
                        const char *lp = json_string_value(json_array_get(layers, j));
                        const char *ld = lp ? file_digest(l, lp) : NULL;
                        if (ld == NULL) {
                                ret = berth_fail(err, EINVAL, "layer `%s` not in the archive",
                                                 lp ? lp : "(none)");
                                break;
                        }
                        snprintf(ls[j].digest, sizeof(ls[j].digest), "%s", ld);
                        uint64_t sz = 0;
                        ret = img_blob_size(s, ld, &sz, err);
                        ls[j].size = (int64_t) sz;
                        if (ret == 0)
                                ret = img_layer_verify(s, ld,
                                                       json_string_value(json_array_get(ids, j)),
                                                       &ls[j].media_type, err);
                }
                json_decref(cfg);
                json_t *tags = json_object_get(item, "RepoTags");
                size_t nt = json_array_size(tags);
                char **names = berth_xcalloc(nt + 1, sizeof(char *));
                size_t nn = 0;
                for (size_t j = 0; j < nt && ret == 0; j++)
                        ret = img_ref_normalize(json_string_value(json_array_get(tags, j)),
                                                &names[nn++], err);
                char md[IMG_DIGEST_MAX];
                if (ret == 0)
                        ret = img_manifest_commit(s, &config, ls, n, (const char *const *) names,
                                                  nn, md, err);
                if (ret == 0) {
                        for (size_t j = 0; j < nn; j++)
                                report(ctx, names[j], md, config.digest);
                        if (nn == 0)
                                report(ctx, NULL, md, config.digest);
                }
                for (size_t j = 0; j < n; j++)
                        free(ls[j].media_type);
                free(ls);
                for (size_t j = 0; j < nn; j++)
                        free(names[j]);
                free(names);
                if (ret < 0)
                        break;
        }
        json_decref(m);
        return ret;
}

/* An image manifest from a descriptor: an index/list picks this host's platform. */
static int pick_manifest(struct img_store *s, json_t *desc, char out[IMG_DIGEST_MAX],
                         berth_error_t *err)
{
        char d[IMG_DIGEST_MAX];
        const char *first = json_string_value(json_object_get(desc, "digest"));
        snprintf(d, sizeof(d), "%s", first ? first : "");
        for (int depth = 0; depth < 4; depth++) {
                if (!img_blob_exists(s, d))
                        return berth_fail(err, ENOENT, "manifest %s not in the archive",
                                          d[0] ? d : "(none)");
                cleanup_free char *text = NULL;
                size_t len;
                if (img_blob_read(s, d, &text, &len, err) < 0)
                        return -1;
                json_t *m = json_loadb(text, len, 0, NULL);
                if (!json_is_object(m)) {
                        json_decref(m);
                        return berth_fail(err, EINVAL, "parse manifest %s", d);
                }
                json_t *list = json_object_get(m, "manifests");
                if (!json_is_array(list)) {
                        json_decref(m);
                        snprintf(out, IMG_DIGEST_MAX, "%s", d);
                        return 0;
                }
                json_t *pick = json_array_get(list, 0);
                size_t i;
                json_t *x;
                json_array_foreach(list, i, x)
                {
                        json_t *p = json_object_get(x, "platform");
                        const char *os = json_string_value(json_object_get(p, "os"));
                        const char *arch = json_string_value(json_object_get(p, "architecture"));
                        if (os && arch && strcmp(os, "linux") == 0 &&
                            strcmp(arch, img_host_arch()) == 0) {
                                pick = x;
                                break;
                        }
                }
                const char *next = json_string_value(json_object_get(pick, "digest"));
                snprintf(d, sizeof(d), "%s", next ? next : "");
                json_decref(m);
        }
        return berth_fail(err, ELOOP, "image indexes nested too deeply");
}

static int load_oci(struct img_store *s, struct loaded *l, img_load_report_fn report, void *ctx,
                    berth_error_t *err)
{
        json_error_t jerr;
        json_t *idx = json_loads(l->index_json, 0, &jerr);
        if (!json_is_object(idx)) {
                json_decref(idx);
                return berth_fail(err, EINVAL, "parse index.json: %s", jerr.text);
        }
        int ret = 0;
        size_t i;
        json_t *desc;
        json_array_foreach(json_object_get(idx, "manifests"), i, desc)
        {
                char md[IMG_DIGEST_MAX];
                if (pick_manifest(s, desc, md, err) < 0) {
                        ret = -1;
                        break;
                }
                struct img_image img;
                ret = img_image_load(s, md, &img, err);
                if (ret < 0)
                        break;
                for (size_t j = 0; j < img.n_layers && ret == 0; j++) {
                        cleanup_free char *mt = NULL;
                        if (!img_blob_exists(s, img.layers[j].digest))
                                ret = berth_fail(err, ENOENT, "layer %s not in the archive",
                                                 img.layers[j].digest);
                        else
                                ret = img_layer_verify(s, img.layers[j].digest, img.diff_ids[j],
                                                       &mt, err);
                }
                json_t *ann = json_object_get(desc, "annotations");
                const char *full = json_string_value(json_object_get(ann, IMG_ANNOT_FULL_NAME));
                const char *ref = json_string_value(json_object_get(ann, IMG_ANNOT_REF_NAME));
                /* a bare tag ("latest") names no repository: the image loads unnamed */
                const char *want = full ? full : (ref && strpbrk(ref, ":/")) ? ref : NULL;
                cleanup_free char *name = NULL;
                if (ret == 0 && want)
                        ret = img_ref_normalize(want, &name, err);
                const char *mt = json_string_value(json_object_get(img.manifest, "mediaType"));
                uint64_t msize = 0;
                if (ret == 0)
                        ret = img_blob_size(s, md, &msize, err);
                const char *names[] = {name};
                if (ret == 0)
                        ret = img_table_add(s, md, mt ? mt : IMG_MT_OCI_MANIFEST, (int64_t) msize,
                                            names, name ? 1 : 0, err);
                if (ret == 0)
                        report(ctx, name, md, img.config.digest);
                img_image_free(&img);
                if (ret < 0)
                        break;
        }
        json_decref(idx);
        return ret;
}

/* Between the loaders and the caller's report: one "load" event per image, as dockerd logs
 * each image it loads once (Actor.ID and name its ID), however many names it has. */
struct load_events {
        struct img_store *s;
        img_load_report_fn report;
        void *ctx;
        json_t *seen; /* manifest digests already logged */
};

static void load_event(void *ctx, const char *name, const char *manifest, const char *config)
{
        struct load_events *ev = ctx;
        if (json_object_get(ev->seen, manifest) == NULL) {
                json_object_set_new(ev->seen, manifest, json_true());
                img_event(ev->s, manifest, "load", NULL);
        }
        if (ev->report)
                ev->report(ev->ctx, name, manifest, config);
}

int img_load(struct img_store *s, const char *path, img_load_report_fn report, void *ctx,
             berth_error_t *err)
{
        struct load_events ev = {.s = s, .report = report, .ctx = ctx, .seen = json_object()};
        struct loaded l = {.files = json_object(), .links = json_object()};
        struct stat st;
        int ret;
        if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
                ret = read_dir(s, path, &l, err);
        else
                ret = read_tar(s, path, &l, err);
        if (ret == 0) {
                if (l.manifest_json)
                        ret = load_docker(s, &l, load_event, &ev, err);
                else if (l.index_json)
                        ret = load_oci(s, &l, load_event, &ev, err);
                else
                        ret = berth_fail(err, EINVAL,
                                         "neither manifest.json (docker-archive) nor index.json "
                                         "(OCI layout) found");
        }
        json_decref(ev.seen);
        json_decref(l.files);
        json_decref(l.links);
        free(l.manifest_json);
        free(l.index_json);
        if (ret < 0)
                return berth_wrap(err, "load `%s`", path);
        /* blobs the archive carried but no image uses (other platforms) go now */
        return img_gc(s, NULL, err);
}
