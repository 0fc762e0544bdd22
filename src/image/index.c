/* index.c — the image table, kept as the store's OCI index.json: one descriptor
 * per name (annotation org.opencontainers.image.ref.name = "repo:tag"), and one
 * without a name for each image that has none (dangling).  Readers read the
 * file as it is (it is replaced atomically); writers serialise on index.lock for
 * the whole read-modify-write. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/paths.h"
#include "common/util.h"
#include "image/image.h"

void img_table_free(struct img_table *t)
{
        for (size_t i = 0; i < t->n; i++) {
                for (size_t j = 0; j < t->v[i].n_names; j++)
                        free(t->v[i].names[j]);
                free(t->v[i].names);
                free(t->v[i].manifest_media_type);
        }
        free(t->v);
        t->v = NULL;
        t->n = 0;
}

struct img_entry *img_table_find_manifest(struct img_table *t, const char *manifest)
{
        for (size_t i = 0; i < t->n; i++)
                if (strcmp(t->v[i].manifest, manifest) == 0)
                        return &t->v[i];
        return NULL;
}

static struct img_entry *table_get(struct img_table *t, const char *manifest,
                                   const char *media_type, int64_t size)
{
        struct img_entry *e = img_table_find_manifest(t, manifest);
        if (e)
                return e;
        t->v = berth_xrealloc(t->v, (t->n + 1) * sizeof(*t->v));
        e = &t->v[t->n++];
        memset(e, 0, sizeof(*e));
        snprintf(e->manifest, sizeof(e->manifest), "%s", manifest);
        e->manifest_media_type = berth_xstrdup(media_type ? media_type : IMG_MT_OCI_MANIFEST);
        e->manifest_size = size;
        return e;
}

static void entry_add_name(struct img_entry *e, const char *name)
{
        for (size_t i = 0; i < e->n_names; i++)
                if (strcmp(e->names[i], name) == 0)
                        return;
        e->names = berth_xrealloc(e->names, (e->n_names + 1) * sizeof(char *));
        e->names[e->n_names++] = berth_xstrdup(name);
}

static bool entry_del_name(struct img_entry *e, const char *name)
{
        for (size_t i = 0; i < e->n_names; i++) {
                if (strcmp(e->names[i], name) != 0)
                        continue;
                free(e->names[i]);
                memmove(&e->names[i], &e->names[i + 1], (e->n_names - i - 1) * sizeof(char *));
                e->n_names--;
                return true;
        }
        return false;
}

int img_table_load(struct img_store *s, struct img_table *t, berth_error_t *err)
{
        memset(t, 0, sizeof(*t));
        cleanup_free char *buf = NULL;
        size_t len = 0;
        berth_error_t sub = NULL;
        if (berth_read_file_at(s->root_fd, "index.json", 0, &buf, &len, &sub) < 0) {
                if (sub->errnum == ENOENT) {
                        berth_error_release(&sub);
                        return 0;
                }
                if (err && *err == NULL) { /* keep the cause: "too large", the errno */
                        *err = sub;
                        return berth_wrap(err, "read `%s/index.json`", s->root);
                }
                berth_error_release(&sub);
                return -1;
        }
        json_error_t jerr;
        json_t *root = json_loadb(buf, len, 0, &jerr);
        if (root == NULL)
                return berth_fail(err, EINVAL, "parse `%s/index.json`: %s", s->root, jerr.text);
        json_t *m = json_object_get(root, "manifests");
        size_t i;
        json_t *d;
        json_array_foreach(m, i, d)
        {
                const char *digest = json_string_value(json_object_get(d, "digest"));
                if (!img_digest_valid(digest))
                        continue;
                struct img_entry *e =
                        table_get(t, digest, json_string_value(json_object_get(d, "mediaType")),
                                  json_integer_value(json_object_get(d, "size")));
                const char *name = json_string_value(
                        json_object_get(json_object_get(d, "annotations"), IMG_ANNOT_REF_NAME));
                if (name)
                        entry_add_name(e, name);
        }
        json_decref(root);
        return 0;
}

static json_t *descriptor(const struct img_entry *e, const char *name)
{
        json_t *d = json_pack("{s:s, s:s, s:I}", "mediaType", e->manifest_media_type, "digest",
                              e->manifest, "size", (json_int_t) e->manifest_size);
        if (name)
                json_object_set_new(d, "annotations", json_pack("{s:s}", IMG_ANNOT_REF_NAME, name));
        return d;
}

static int table_save(struct img_store *s, const struct img_table *t, berth_error_t *err)
{
        json_t *m = json_array();
        for (size_t i = 0; i < t->n; i++) {
                if (t->v[i].n_names == 0)
                        json_array_append_new(m, descriptor(&t->v[i], NULL));
                for (size_t j = 0; j < t->v[i].n_names; j++)
                        json_array_append_new(m, descriptor(&t->v[i], t->v[i].names[j]));
        }
        json_t *root = json_pack("{s:i, s:s, s:o}", "schemaVersion", 2, "mediaType",
                                 IMG_MT_OCI_INDEX, "manifests", m);
        cleanup_free char *text = json_dumps(root, JSON_INDENT(2));
        json_decref(root);
        cleanup_free char *path = berth_path_join(s->root, "index.json");
        return berth_write_file_atomic(path, text, strlen(text), 0644, err);
}

/* Lock the table and load it: the caller edits, saves, frees and closes the lock. */
static int table_begin(struct img_store *s, struct img_table *t, berth_error_t *err)
{
        int lock = img_store_lock(s, "index.lock", LOCK_EX, err);
        if (lock < 0)
                return -1;
        if (img_table_load(s, t, err) < 0) {
                close(lock);
                return -1;
        }
        return lock;
}

int img_table_add(struct img_store *s, const char *manifest, const char *media_type, int64_t size,
                  const char *const *names, size_t n_names, berth_error_t *err)
{
        struct img_table t;
        cleanup_close int lock = table_begin(s, &t, err);
        if (lock < 0)
                return -1;
        for (size_t i = 0; i < n_names; i++)
                for (size_t j = 0; j < t.n; j++)
                        entry_del_name(&t.v[j], names[i]);
        struct img_entry *e = table_get(&t, manifest, media_type, size);
        for (size_t i = 0; i < n_names; i++)
                entry_add_name(e, names[i]);
        int ret = table_save(s, &t, err);
        img_table_free(&t);
        return ret;
}

int img_table_untag(struct img_store *s, const char *name, berth_error_t *err)
{
        struct img_table t;
        cleanup_close int lock = table_begin(s, &t, err);
        if (lock < 0)
                return -1;
        bool found = false;
        for (size_t j = 0; j < t.n; j++)
                found |= entry_del_name(&t.v[j], name);
        int ret = found ? table_save(s, &t, err) : 0;
        img_table_free(&t);
        return ret < 0 ? -1 : found;
}

int img_table_remove(struct img_store *s, const char *manifest, berth_error_t *err)
{
        struct img_table t;
        cleanup_close int lock = table_begin(s, &t, err);
        if (lock < 0)
                return -1;
        struct img_entry *e = img_table_find_manifest(&t, manifest);
        int ret = 0;
        if (e) {
                struct img_entry gone = *e;
                size_t idx = (size_t) (e - t.v);
                memmove(&t.v[idx], &t.v[idx + 1], (t.n - idx - 1) * sizeof(*t.v));
                t.n--;
                ret = table_save(s, &t, err);
                for (size_t j = 0; j < gone.n_names; j++)
                        free(gone.names[j]);
                free(gone.names);
                free(gone.manifest_media_type);
        }
        img_table_free(&t);
        return ret;
}
