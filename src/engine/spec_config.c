/* spec_config.c — Docker's rules for what a container runs and as whom: merging the container's
 * Config with its image's, the args from Entrypoint + Cmd, and --user resolved in the rootfs's
 * /etc/passwd and /etc/group (see spec.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/util.h"
#include "engine/spec.h"

static bool empty(json_t *v)
{
        return v == NULL || json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0) ||
               (json_is_string(v) && *json_string_value(v) == '\0');
}

static size_t key_len(const char *kv)
{
        const char *eq = strchr(kv, '=');
        return eq ? (size_t) (eq - kv) : strlen(kv);
}

static bool has_key(json_t *env, const char *kv)
{
        size_t i, l = key_len(kv);
        json_t *v;
        json_array_foreach(env, i, v)
        {
                const char *e = json_string_value(v);
                if (e && key_len(e) == l && strncmp(e, kv, l) == 0)
                        return true;
        }
        return false;
}

/* Copy the image's value when the container has none. */
static void inherit(json_t *config, json_t *image, const char *key)
{
        json_t *iv = json_object_get(image, key);
        if (empty(json_object_get(config, key)) && !empty(iv))
                json_object_set_new(config, key, json_deep_copy(iv));
}

/* Object union: the image's keys the container doesn't have. */
static void union_object(json_t *config, json_t *image, const char *key)
{
        json_t *iv = json_object_get(image, key);
        if (!json_is_object(iv) || json_object_size(iv) == 0)
                return;
        json_t *cv = json_object_get(config, key);
        if (!json_is_object(cv)) {
                cv = json_object();
                json_object_set_new(config, key, cv);
        }
        const char *k;
        json_t *v;
        json_object_foreach(iv, k, v) if (json_object_get(cv, k) == NULL) json_object_set(cv, k, v);
}

void eng_config_merge_image(json_t *config, json_t *image)
{
        if (!json_is_object(image))
                return;
        json_t *ienv = json_object_get(image, "Env");
        if (json_is_array(ienv) && json_array_size(ienv)) {
                json_t *env = json_object_get(config, "Env");
                if (!json_is_array(env)) {
                        env = json_array();
                        json_object_set_new(config, "Env", env);
                }
                /* the container's first, then the image's it doesn't override (Docker's order) */
                json_t *add = json_array();
                size_t i;
                json_t *v;
                json_array_foreach(ienv, i,
                                   v) if (json_is_string(v) && !has_key(env, json_string_value(v)))
                        json_array_append(add, v);
                json_array_extend(env, add);
                json_decref(add);
        }
        /* an Entrypoint of the user's (even `--entrypoint ""`) drops the image's Cmd as well */
        if (empty(json_object_get(config, "Entrypoint")) ||
            json_is_null(json_object_get(config, "Entrypoint"))) {
                if (empty(json_object_get(config, "Cmd")))
                        inherit(config, image, "Cmd");
                if (json_object_get(config, "Entrypoint") == NULL ||
                    json_is_null(json_object_get(config, "Entrypoint")))
                        inherit(config, image, "Entrypoint");
        }
        inherit(config, image, "WorkingDir");
        inherit(config, image, "User");
        inherit(config, image, "StopSignal");
        union_object(config, image, "ExposedPorts");
        union_object(config, image, "Volumes");
        union_object(config, image, "Labels");

        json_t *ih = json_object_get(image, "Healthcheck");
        json_t *ch = json_object_get(config, "Healthcheck");
        if (json_is_object(ih)) {
                if (!json_is_object(ch)) {
                        json_object_set_new(config, "Healthcheck", json_deep_copy(ih));
                } else {
                        static const char *const keys[] = {"Test", "Interval", "Timeout",
                                                           "StartPeriod", "Retries"};
                        for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++) {
                                json_t *cv = json_object_get(ch, keys[i]);
                                if ((cv == NULL || empty(cv) ||
                                     (json_is_integer(cv) && json_integer_value(cv) == 0)) &&
                                    json_object_get(ih, keys[i]))
                                        json_object_set(ch, keys[i], json_object_get(ih, keys[i]));
                        }
                }
        }
}

int eng_config_args(json_t *config, json_t **args, berth_error_t *err)
{
        json_t *ep = json_object_get(config, "Entrypoint");
        json_t *cmd = json_object_get(config, "Cmd");
        json_t *a = json_array();
        size_t i;
        json_t *v;
        bool reset = json_array_size(ep) == 1 && empty(json_array_get(ep, 0));
        if (!reset) {
                json_array_foreach(ep, i, v)
                {
                        json_array_append(a, v);
                }
        }
        json_array_foreach(cmd, i, v)
        {
                json_array_append(a, v);
        }
        if (json_array_size(a) == 0 || !json_is_string(json_array_get(a, 0)) ||
            *json_string_value(json_array_get(a, 0)) == '\0') {
                json_decref(a);
                return berth_fail_status(err, 125, 0, "No command specified");
        }
        *args = a;
        return 0;
}

/* Open a file of the rootfs with symlinks resolved inside it, never outside (an image's
 * /etc/passwd may be a symlink to anywhere). */
static FILE *open_in_root(const char *rootfs, const char *path)
{
        cleanup_close int dfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return NULL;
        struct open_how how = {.flags = O_RDONLY | O_CLOEXEC,
                               .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
        int fd = (int) syscall(SYS_openat2, dfd, path, &how, sizeof(how));
        if (fd < 0)
                return NULL;
        FILE *f = fdopen(fd, "re");
        if (f == NULL)
                close(fd);
        return f;
}

static bool numeric(const char *s, unsigned long *out)
{
        char *end;
        if (!isdigit((unsigned char) *s))
                return false;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (*end || errno || v > 0xfffffffeUL)
                return false;
        *out = v;
        return true;
}

/* Split a colon-separated line into at most n fields (in place). */
static int fields(char *line, char **f, int n)
{
        int i = 0;
        line[strcspn(line, "\n")] = '\0';
        for (char *p = line; i < n; i++) {
                f[i] = p;
                char *c = strchr(p, ':');
                if (c == NULL)
                        return i + 1;
                *c = '\0';
                p = c + 1;
        }
        return i;
}

struct pwent {
        bool found;
        char *name, *home;
        unsigned long uid, gid;
};

static void find_passwd(const char *rootfs, const char *user, bool by_uid, unsigned long uid,
                        struct pwent *pw)
{
        cleanup_file FILE *f = open_in_root(rootfs, "/etc/passwd");
        cleanup_free char *line = NULL;
        size_t cap = 0;
        while (f && getline(&line, &cap, f) >= 0) {
                char *fl[7];
                unsigned long u, g;
                if (fields(line, fl, 7) < 7 || !numeric(fl[2], &u) || !numeric(fl[3], &g))
                        continue;
                if (by_uid ? u != uid : strcmp(fl[0], user) != 0)
                        continue;
                pw->found = true;
                pw->name = berth_xstrdup(fl[0]);
                pw->home = berth_xstrdup(fl[5]);
                pw->uid = u;
                pw->gid = g;
                return;
        }
}

/* Call fn for each well-formed line of the rootfs's /etc/group until it returns true. */
static void each_group(const char *rootfs,
                       bool (*fn)(char **fl, int n, unsigned long gid, void *ctx), void *ctx)
{
        cleanup_file FILE *f = open_in_root(rootfs, "/etc/group");
        cleanup_free char *line = NULL;
        size_t cap = 0;
        while (f && getline(&line, &cap, f) >= 0) {
                char *fl[4];
                unsigned long g;
                int n = fields(line, fl, 4);
                if (n >= 3 && numeric(fl[2], &g) && fn(fl, n, g, ctx))
                        return;
        }
}

struct group_query {
        const char *name;
        unsigned long gid;
        bool found;
        struct eng_user *user; /* collect the groups listing name as a member */
};

static void add_gid(struct eng_user *u, unsigned long gid)
{
        u->gids = berth_xrealloc(u->gids, (u->ngids + 1) * sizeof(gid_t));
        u->gids[u->ngids++] = (gid_t) gid;
}

static bool match_group(char **fl, int n, unsigned long gid, void *ctx)
{
        struct group_query *q = ctx;
        if (q->user == NULL) {
                if (strcmp(fl[0], q->name) == 0) {
                        q->gid = gid;
                        q->found = true;
                }
                return q->found;
        }
        char *save = NULL;
        for (char *m = n == 4 ? strtok_r(fl[3], ",", &save) : NULL; m;
             m = strtok_r(NULL, ",", &save)) {
                if (strcmp(m, q->name) != 0)
                        continue;
                add_gid(q->user, gid);
                break;
        }
        return false;
}

static int find_group(const char *rootfs, const char *group, unsigned long *gid)
{
        struct group_query q = {.name = group};
        each_group(rootfs, match_group, &q);
        *gid = q.gid;
        return q.found ? 0 : -1;
}

static void member_groups(const char *rootfs, const char *user, struct eng_user *u)
{
        struct group_query q = {.name = user, .user = u};
        each_group(rootfs, match_group, &q);
}

int eng_user_resolve(const char *rootfs, const char *user, json_t *groups_add, struct eng_user *out,
                     berth_error_t *err)
{
        memset(out, 0, sizeof(*out));
        cleanup_free char *spec = berth_xstrdup(user && *user ? user : "0");
        char *group = strchr(spec, ':');
        if (group)
                *group++ = '\0';
        unsigned long n;
        struct pwent pw = {0};
        bool num = numeric(spec, &n);
        find_passwd(rootfs, spec, num, num ? n : 0, &pw);
        if (!pw.found && !num)
                return berth_fail_status(err, 125, 0,
                                         "unable to find user %s: no matching entries in passwd "
                                         "file",
                                         spec);
        out->uid = (uid_t) (pw.found ? pw.uid : n);
        out->gid = (gid_t) (pw.found ? pw.gid : 0);
        out->home = pw.home ? pw.home : berth_xstrdup("/");
        if (group && *group) {
                if (!numeric(group, &n) && find_group(rootfs, group, &n) < 0) {
                        free(pw.name);
                        eng_user_release(out);
                        return berth_fail_status(err, 125, 0,
                                                 "unable to find group %s: no matching entries "
                                                 "in group file",
                                                 group);
                }
                out->gid = (gid_t) n;
        }
        /* as Docker's daemon: the primary group leads the supplementary ones (`id` shows
         * groups=GID even for a uid not in /etc/passwd), then the groups listing the user as a
         * member where no group was given, then --group-add */
        add_gid(out, out->gid);
        if (!(group && *group) && pw.found)
                member_groups(rootfs, pw.name, out);
        free(pw.name);
        size_t i;
        json_t *v;
        json_array_foreach(groups_add, i, v)
        {
                const char *g = json_string_value(v);
                if (g == NULL || (!numeric(g, &n) && find_group(rootfs, g, &n) < 0)) {
                        eng_user_release(out);
                        return berth_fail_status(err, 125, 0, "Unable to find group %s",
                                                 g ? g : "");
                }
                add_gid(out, n);
        }
        return 0;
}

void eng_user_release(struct eng_user *u)
{
        free(u->gids);
        free(u->home);
        memset(u, 0, sizeof(*u));
}
