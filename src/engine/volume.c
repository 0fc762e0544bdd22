/* volume.c — named volumes (see volume.h). */
#include "engine/volume.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <linux/openat2.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "engine/events.h"
#include "image/image.h"

bool eng_volume_name_valid(const char *name)
{
        if (name == NULL || !isalnum((unsigned char) name[0]) || strlen(name) > 255)
                return false;
        for (const char *p = name + 1; *p; p++)
                if (!isalnum((unsigned char) *p) && *p != '_' && *p != '.' && *p != '-')
                        return false;
        return true;
}

static char *volumes_dir(struct eng_ctx *e)
{
        return berth_path_join(e->data_dir, "volumes");
}

static char *volume_dir(struct eng_ctx *e, const char *name)
{
        cleanup_free char *base = volumes_dir(e);
        return berth_path_join(base, name);
}

int eng_volume_get(struct eng_ctx *e, const char *name, json_t **out, berth_error_t *err)
{
        *out = NULL;
        if (!eng_volume_name_valid(name))
                return berth_fail_status(err, 1, 0, "get %s: no such volume", name);
        cleanup_free char *dir = volume_dir(e, name);
        cleanup_free char *meta = berth_path_join(dir, "volume.json");
        json_t *j = berth_json_load_file(meta, NULL);
        if (j == NULL)
                return berth_fail_status(err, 1, 0, "get %s: no such volume", name);
        *out = j;
        return 0;
}

int eng_volume_create(struct eng_ctx *e, const char *name, json_t *labels, json_t *options,
                      json_t **out, berth_error_t *err)
{
        *out = NULL;
        char gen[65];
        if (name == NULL) {
                unsigned char b[32];
                if (getrandom(b, sizeof(b), 0) != (ssize_t) sizeof(b))
                        return berth_fail(err, errno, "getrandom");
                for (size_t i = 0; i < sizeof(b); i++)
                        snprintf(gen + 2 * i, 3, "%02x", b[i]);
                name = gen;
        }
        if (!eng_volume_name_valid(name))
                return berth_fail_status(
                        err, 1, 0, /* the daemon's refusal in Docker: status 1 */
                        "create %s: \"%s\" includes invalid characters for a local "
                        "volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you "
                        "intended to pass a host directory, use absolute path",
                        name, name);
        if (options && json_object_size(options) > 0)
                return berth_fail_status(
                        err, 125, 0, "create %s: the local driver takes no options yet (-o)", name);
        if (eng_volume_get(e, name, out, NULL) == 0)
                return 0;
        cleanup_free char *base = volumes_dir(e);
        if (berth_mkdir_p(base, 0700, err) < 0)
                return -1;
        cleanup_free char *dir = volume_dir(e, name);
        cleanup_free char *data = berth_path_join(dir, "_data");
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return berth_fail(err, errno, "create volume `%s`", name);
        if (mkdir(data, 0755) < 0 && errno != EEXIST) {
                int e2 = errno;
                rmdir(dir);
                return berth_fail(err, e2, "create volume `%s`", name);
        }
        cleanup_free char *now = eng_now_rfc3339();
        json_t *v = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o, s:s}", "CreatedAt", now, "Driver",
                              "local", "Mountpoint", data, "Name", name, "Labels",
                              labels ? json_incref(labels) : json_object(), "Options",
                              json_object(), "Scope", "local");
        cleanup_free char *meta = berth_path_join(dir, "volume.json");
        cleanup_free char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (berth_write_file_atomic(meta, text, strlen(text), 0600, err) < 0) {
                json_decref(v);
                rmdir(data);
                rmdir(dir);
                return -1;
        }
        eng_event_volume(e, "create", name);
        *out = v;
        return 0;
}

static int cmp_name(const void *a, const void *b)
{
        const char *x = json_string_value(json_object_get(*(json_t *const *) a, "Name"));
        const char *y = json_string_value(json_object_get(*(json_t *const *) b, "Name"));
        return strcmp(x ? x : "", y ? y : "");
}

int eng_volume_list(struct eng_ctx *e, json_t **out, berth_error_t *err)
{
        cleanup_free char *base = volumes_dir(e);
        cleanup_dir DIR *d = opendir(base);
        json_t **v = NULL;
        size_t n = 0;
        struct dirent *de;
        while (d && (de = readdir(d)) != NULL) {
                json_t *j;
                if (de->d_name[0] == '.' || eng_volume_get(e, de->d_name, &j, NULL) < 0)
                        continue;
                v = berth_xrealloc(v, (n + 1) * sizeof(json_t *));
                v[n++] = j;
        }
        if (n)
                qsort(v, n, sizeof(json_t *), cmp_name);
        *out = json_array();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(*out, v[i]);
        free(v);
        return 0;
}

/* The volume a bind/mount entry names, or NULL for a host path. */
static bool entry_uses(json_t *hc, const char *name)
{
        size_t i;
        json_t *b;
        size_t nl = strlen(name);
        json_array_foreach(json_object_get(hc, "Binds"), i, b)
        {
                const char *s = json_string_value(b);
                if (s && strncmp(s, name, nl) == 0 && s[nl] == ':')
                        return true;
        }
        json_array_foreach(json_object_get(hc, "Mounts"), i, b)
        {
                const char *t = json_string_value(json_object_get(b, "Type"));
                const char *src = json_string_value(json_object_get(b, "Source"));
                if (t && strcmp(t, "volume") == 0 && src && strcmp(src, name) == 0)
                        return true;
        }
        return false;
}

/* A volume the record's Mounts shows: what --volumes-from brought in is named only there. */
static bool mounts_use(json_t *mounts, const char *name)
{
        size_t i;
        json_t *m;
        json_array_foreach(mounts, i, m)
        {
                const char *t = json_string_value(json_object_get(m, "Type"));
                const char *n = json_string_value(json_object_get(m, "Name"));
                if (t && strcmp(t, "volume") == 0 && n && strcmp(n, name) == 0)
                        return true;
        }
        return false;
}

json_t *eng_volume_users(struct eng_ctx *e, const char *name)
{
        json_t *ids = json_array();
        struct eng_container **v = NULL;
        size_t n = 0;
        berth_error_t err = NULL;
        if (eng_container_list(e, &v, &n, &err) < 0) {
                berth_error_release(&err);
                return ids;
        }
        for (size_t i = 0; i < n; i++) {
                json_t *hc = json_object_get(v[i]->doc, "HostConfig");
                json_t *vols = json_object_get(v[i]->doc, "Volumes");
                if (entry_uses(hc, name) || json_object_get(vols, name) ||
                    mounts_use(json_object_get(v[i]->doc, "Mounts"), name))
                        json_array_append_new(ids, json_string(v[i]->id));
        }
        eng_container_list_free(v, n);
        return ids;
}

int eng_volume_remove(struct eng_ctx *e, const char *name, bool force, berth_error_t *err)
{
        json_t *v;
        if (eng_volume_get(e, name, &v, NULL) < 0) {
                if (force)
                        return 0;
                return berth_fail_status(err, 1, 0, "get %s: no such volume", name);
        }
        json_decref(v);
        json_t *users = eng_volume_users(e, name);
        if (json_array_size(users) > 0) {
                berth_fail_status(err, 1, 0, "remove %s: volume is in use - [%s]", name,
                                  json_string_value(json_array_get(users, 0)));
                json_decref(users);
                return -1;
        }
        json_decref(users);
        cleanup_free char *base = volumes_dir(e);
        cleanup_close int bfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (bfd < 0)
                return berth_fail(err, errno, "open `%s`", base);
        if (img_rm_rf_at(bfd, name, err) < 0)
                return berth_wrap(err, "remove volume `%s`", name);
        eng_event_volume(e, "destroy", name);
        return 0;
}

static bool dir_empty(int fd)
{
        int dup_fd = dup(fd);
        if (dup_fd < 0)
                return false;
        DIR *d = fdopendir(dup_fd);
        if (d == NULL) {
                close(dup_fd);
                return false;
        }
        bool empty = true;
        struct dirent *de;
        while ((de = readdir(d)) != NULL)
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        empty = false;
        closedir(d);
        return empty;
}

int eng_volume_prepare(struct eng_ctx *e, const char *name, const char *rootfs, const char *target,
                       char **path, berth_error_t *err)
{
        json_t *v;
        if (eng_volume_create(e, name, NULL, NULL, &v, err) < 0)
                return -1;
        *path = berth_xstrdup(json_string_value(json_object_get(v, "Mountpoint")));
        json_decref(v);
        if (rootfs == NULL || target == NULL)
                return 0;
        cleanup_close int dst = open(*path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dst < 0)
                return berth_fail(err, errno, "open volume `%s`", *path);
        if (!dir_empty(dst))
                return 0;
        /* the image's content at the target, resolved inside the rootfs only */
        cleanup_close int root = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return berth_fail(err, errno, "open `%s`", rootfs);
        const char *rel = target;
        while (*rel == '/')
                rel++;
        if (*rel == '\0')
                return 0;
        struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                               .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
        cleanup_close int src = (int) syscall(SYS_openat2, root, rel, &how, sizeof(how));
        if (src < 0)
                return 0; /* nothing there in the image: an empty volume */
        if (img_vfs_apply(src, dst, err) < 0)
                return berth_wrap(err, "copy `%s` from the image into volume `%s`", target, name);
        return 0;
}
