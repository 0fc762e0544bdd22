/* containers_ops.c — the Engine API's verbs on one container (stop, restart, kill, pause,
 * unpause, rename, remove), prune, top, changes and update: thin over the engine, with
 * dockerd's status codes and messages where they differ from the CLI's. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/containers.h"
#include "common/log.h"
#include "common/units.h"
#include "common/util.h"
#include "engine/lifecycle.h"
#include "engine/rootfs.h"
#include "engine/sweep.h"
#include "engine/top.h"
#include "engine/update.h"
#include "engine/view.h"
#include "oci/oci.h"

static bool is(struct eng_container *c, const char *status)
{
        return strcmp(eng_container_status(c), status) == 0;
}

static bool live(struct eng_container *c)
{
        return eng_status_live(eng_container_status(c));
}

/* Ends a handler: 204, or the error with its status. */
static void finish(struct api_req *r, struct eng_ctx *e, struct eng_container *c, int ret,
                   berth_error_t *err)
{
        if (ret < 0)
                api_reply_berth_error(r, err);
        else
                api_reply_empty(r, 204);
        api_container_done(c, e);
}

/* ?t=: seconds before SIGKILL; absent: the container's StopTimeout, else 10. */
static int stop_timeout(struct api_req *r)
{
        long long t = api_query_int(r, "t", -1);
        return t < -1 ? -1 : t > 1000000 ? 1000000 : (int) t;
}

void api_container_stop(struct api_req *r)
{
        struct eng_ctx e;
        struct eng_container *c = api_container(r, &e);
        if (c == NULL)
                return;
        if (!live(c)) { /* dockerd: 304, nothing done */
                api_reply_empty(r, 304);
                eng_container_free(c);
                eng_ctx_free(&e);
                return;
        }
        berth_error_t err = NULL;
        finish(r, &e, c, eng_stop(&e, c, stop_timeout(r), &err), &err);
}

void api_container_restart(struct api_req *r)
{
        struct eng_ctx e;
        struct eng_container *c = api_container(r, &e);
        if (c == NULL)
                return;
        berth_error_t err = NULL;
        int ret = eng_stop(&e, c, stop_timeout(r), &err);
        if (ret == 0) {
                struct eng_start_opts o = {0};
                int sync = -1;
                ret = eng_start(&e, c, &o, &sync, &err);
        }
        finish(r, &e, c, ret, &err);
}

void api_container_kill(struct api_req *r)
{
        const char *s = api_query(r, "signal");
        int sig = SIGKILL;
        if (s && *s && oci_kill_signal(s, &sig) < 0) {
                api_reply_error(r, 400, "Invalid signal: %s", s);
                return;
        }
        if (sig <= 0 || sig >= NSIG) {
                api_reply_error(r, 400, "Invalid signal: %s", s);
                return;
        }
        struct eng_ctx e;
        struct eng_container *c = api_container(r, &e);
        if (c == NULL)
                return;
        berth_error_t err = NULL;
        finish(r, &e, c, eng_kill(&e, c, sig, &err), &err);
}

static void pause_like(struct api_req *r, bool pause)
{
        struct eng_ctx e;
        struct eng_container *c = api_container(r, &e);
        if (c == NULL)
                return;
        berth_error_t err = NULL;
        int ret;
        if (pause && is(c, "paused"))
                ret = berth_fail(&err, EBUSY, "Container %s is already paused", c->id);
        else
                ret = eng_pause(&e, c, pause, &err);
        finish(r, &e, c, ret, &err);
}

void api_container_pause(struct api_req *r)
{
        pause_like(r, true);
}

void api_container_unpause(struct api_req *r)
{
        pause_like(r, false);
}

void api_container_delete(struct api_req *r)
{
        struct eng_ctx e;
        struct eng_container *c = api_container(r, &e);
        if (c == NULL)
                return;
        berth_error_t err = NULL;
        int ret;
        bool force = api_query_bool(r, "force", false);
        if (!force && is(c, "paused"))
                ret = berth_fail(&err, EBUSY,
                                 "You cannot remove a paused container %s. Unpause and then stop "
                                 "the container before attempting removal or force remove",
                                 c->id);
        else if (!force && live(c))
                ret = berth_fail(&err, EBUSY,
                                 "You cannot remove a running container %s. Stop the container "
                                 "before attempting removal or force remove",
                                 c->id);
        else
                ret = eng_remove_volumes(&e, c, force, api_query_bool(r, "v", false), &err);
        finish(r, &e, c, ret, &err);
}

void api_container_rename(struct api_req *r)
{
        const char *name = api_query(r, "name");
        const char *bare = name && name[0] == '/' ? name + 1 : name;
        if (bare == NULL || *bare == '\0') {
                api_reply_error(r, 400, "Neither old nor new names may be empty");
                return;
        }
        if (!eng_name_valid(bare)) {
                api_reply_error(r, 400,
                                "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                                "allowed",
                                bare);
                return;
        }
        struct eng_ctx e;
        struct eng_container *c = api_container(r, &e);
        if (c == NULL)
                return;
        berth_error_t err = NULL;
        int ret = eng_container_lock(c, &err);
        if (ret == 0)
                ret = eng_container_rename(&e, c, bare, &err);
        if (ret < 0) {
                const char *m = api_error_text(err);
                size_t len = strlen(m);
                if (strncmp(m, "Conflict. ", 10) == 0 && len && m[len - 1] != '.')
                        api_reply_error(r, 409, "%s.", m);
                else if (strncmp(m, "Renaming a container with the same name", 39) == 0)
                        api_reply_error(r, 400, "%s", m);
                else
                        api_reply_error(r, api_status_of(err), "%s", m);
                berth_error_release(&err);
                eng_container_free(c);
                eng_ctx_free(&e);
                return;
        }
        finish(r, &e, c, 0, &err);
}

/* prune's filters: until (a timestamp or a duration back from now), label, label! */
struct prune_filter {
        int64_t until_ns; /* 0: none */
        json_t *labels, *not_labels;
};

static bool label_match(json_t *labels, const char *want)
{
        const char *eq = strchr(want, '=');
        cleanup_free char *key =
                eq ? berth_xasprintf("%.*s", (int) (eq - want), want) : berth_xstrdup(want);
        json_t *v = json_object_get(labels, key);
        return v && (!eq || strcmp(json_string_value(v) ? json_string_value(v) : "", eq + 1) == 0);
}

static bool prune_match(const struct prune_filter *f, struct eng_container *c,
                        const struct timespec *now)
{
        json_t *labels = json_object_get(json_object_get(c->doc, "Config"), "Labels");
        size_t i;
        json_t *v;
        json_array_foreach(f->labels, i, v)
        {
                if (!label_match(labels, json_string_value(v)))
                        return false;
        }
        json_array_foreach(f->not_labels, i, v)
        {
                if (label_match(labels, json_string_value(v)))
                        return false;
        }
        if (f->until_ns) {
                int64_t created = 0;
                const char *t = json_string_value(json_object_get(c->doc, "Created"));
                if (t && berth_parse_timestamp(t, "created", now, &created, NULL) == 0 &&
                    created >= f->until_ns)
                        return false;
        }
        return true;
}

void api_container_prune(struct api_req *r)
{
        json_t *q = api_filters(r);
        if (q == NULL)
                return;
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        struct prune_filter f = {.labels = json_object_get(q, "label"),
                                 .not_labels = json_object_get(q, "label!")};
        const char *k;
        json_t *vals;
        json_object_foreach(q, k, vals)
        {
                if (strcmp(k, "label") != 0 && strcmp(k, "label!") != 0 &&
                    strcmp(k, "until") != 0) {
                        api_reply_error(r, 400, "Invalid filter '%s'", k);
                        json_decref(q);
                        return;
                }
        }
        const char *until = json_string_value(json_array_get(json_object_get(q, "until"), 0));
        berth_error_t err = NULL;
        if (until && berth_parse_timestamp(until, "until", &now, &f.until_ns, &err) < 0) {
                api_reply_error(r, 400, "%s", api_error_text(err));
                berth_error_release(&err);
                json_decref(q);
                return;
        }
        struct eng_ctx e;
        struct eng_container **v = NULL;
        size_t n = 0;
        if (api_containers(r, &e, &v, &n) < 0) {
                json_decref(q);
                return;
        }
        json_t *deleted = json_array();
        uint64_t reclaimed = 0;
        /* what crashed makers and removers left (engine/sweep.h), as `berth container prune` */
        if (eng_sweep(&e, NULL, &err) < 0) {
                log_warn("%s", berth_error_msg(err));
                berth_error_release(&err);
        }
        for (size_t i = 0; i < n; i++) {
                if (!is(v[i], "exited") && !is(v[i], "created") && !is(v[i], "dead"))
                        continue;
                if (!prune_match(&f, v[i], &now))
                        continue;
                uint64_t size = eng_rootfs_size(&e, v[i]);
                berth_error_t rerr = NULL;
                if (eng_remove(&e, v[i], false, &rerr) < 0) {
                        berth_error_release(&rerr); /* dockerd skips what it cannot remove */
                        continue;
                }
                json_array_append_new(deleted, json_string(v[i]->id));
                reclaimed += size;
        }
        eng_container_list_free(v, n);
        eng_ctx_free(&e);
        json_decref(q);
        api_reply_json(r, 200,
                       json_pack("{s:o, s:I}", "ContainersDeleted", api_nil_slice(deleted),
                                 "SpaceReclaimed", (json_int_t) reclaimed));
}

void api_container_top(struct api_req *r)
{
        struct eng_ctx e;
        struct eng_container *c = api_container(r, &e);
        if (c == NULL)
                return;
        berth_error_t err = NULL;
        if (!is(c, "running") && !is(c, "paused")) {
                api_reply_error(r, 409, "Container %s is not running", c->id);
                eng_container_free(c);
                eng_ctx_free(&e);
                return;
        }
        /* ps_args: words split at blanks, each its own argv entry (never a shell) */
        const char *q = api_query(r, "ps_args");
        cleanup_free char *copy = berth_xstrdup(q ? q : "");
        char **args = berth_xcalloc(strlen(copy) / 2 + 2, sizeof(*args));
        size_t n = 0;
        char *save = NULL;
        for (char *t = strtok_r(copy, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
                args[n++] = t;
        cleanup_free char *text = NULL;
        if (eng_top(c, args, n, &text, &err) < 0)
                api_reply_error(r, 500, "%s", api_error_text(err));
        else
                api_reply_json(r, 200, eng_top_json(text));
        berth_error_release(&err);
        free(args);
        api_container_done(c, &e);
}

static void add_change(char kind, const char *path, void *ctx)
{
        /* Docker's archive.ChangeType: 0 modified, 1 added, 2 deleted */
        int k = kind == 'A' ? 1 : kind == 'D' ? 2 : 0;
        json_array_append_new(ctx, json_pack("{s:s, s:i}", "Path", path, "Kind", k));
}

void api_container_changes(struct api_req *r)
{
        struct eng_ctx e;
        struct eng_container *c = api_container(r, &e);
        if (c == NULL)
                return;
        berth_error_t err = NULL;
        json_t *changes = json_array();
        if (eng_rootfs_changes(&e, c, add_change, changes, &err) < 0) {
                json_decref(changes);
                api_reply_berth_error(r, &err);
        } else {
                api_reply_json(r, 200, api_nil_slice(changes));
        }
        api_container_done(c, &e);
}

void api_container_update(struct api_req *r)
{
        json_t *body = api_body_json(r, true);
        if (body == NULL)
                return;
        if (!json_is_object(body)) {
                json_decref(body);
                api_reply_error(r, 400,
                                "json: cannot unmarshal into Go value of type "
                                "container.UpdateConfig");
                return;
        }
        struct eng_ctx e;
        struct eng_container *c = api_container(r, &e);
        if (c == NULL) {
                json_decref(body);
                return;
        }
        berth_error_t err = NULL;
        if (eng_container_update(&e, c, body, &err) < 0)
                api_reply_berth_error(r, &err);
        else
                api_reply_json(r, 200, json_pack("{s:[]}", "Warnings"));
        json_decref(body);
        api_container_done(c, &e);
}
