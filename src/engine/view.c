/* view.c — Docker's ps rows, status sentences and filters (see view.h). */
#include "engine/view.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/units.h"
#include "common/util.h"

static int64_t to_sec(const char *rfc3339, const struct timespec *now)
{
        int64_t ns = 0;
        if (rfc3339 == NULL || strcmp(rfc3339, ENG_ZERO_TIME) == 0 ||
            berth_parse_timestamp(rfc3339, "time", now, &ns, NULL) < 0)
                return 0;
        return ns / 1000000000LL;
}

static const char *sfield(json_t *o, const char *k)
{
        const char *s = json_string_value(json_object_get(o, k));
        return s ? s : "";
}

char *eng_status_text(struct eng_container *c, const struct timespec *now)
{
        json_t *st = eng_container_state(c);
        const char *status = sfield(st, "Status");
        char dur[64];
        long long code = json_integer_value(json_object_get(st, "ExitCode"));
        if (strcmp(status, "running") == 0 || strcmp(status, "paused") == 0) {
                berth_format_duration(now->tv_sec - to_sec(sfield(st, "StartedAt"), now), dur,
                                      sizeof(dur));
                const char *health = sfield(json_object_get(st, "Health"), "Status");
                /* Docker: "Up 5 seconds (health: starting)", "Up 2 minutes (healthy)" */
                bool h = *health && strcmp(health, "none") != 0;
                bool starting = h && strcmp(health, "starting") == 0;
                return berth_xasprintf(
                        "Up %s%s%s%s%s", dur, strcmp(status, "paused") == 0 ? " (Paused)" : "",
                        h ? (starting ? " (health: " : " (") : "", h ? health : "", h ? ")" : "");
        }
        if (strcmp(status, "exited") == 0 || strcmp(status, "restarting") == 0) {
                berth_format_duration(now->tv_sec - to_sec(sfield(st, "FinishedAt"), now), dur,
                                      sizeof(dur));
                return berth_xasprintf("%s (%lld) %s ago",
                                       status[0] == 'e' ? "Exited" : "Restarting", code, dur);
        }
        if (strcmp(status, "removing") == 0)
                return berth_xstrdup("Removal In Progress");
        if (strcmp(status, "dead") == 0)
                return berth_xstrdup("Dead");
        return berth_xstrdup("Created");
}

/* Go's strconv.Quote, as Docker's CLI prints COMMAND: "…" with \" \\ and control
 * characters escaped. */
static char *go_quote(const char *s)
{
        size_t cap = strlen(s) * 4 + 3, n = 0;
        char *out = berth_xmalloc(cap);
        out[n++] = '"';
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p == '"' || *p == '\\') {
                        out[n++] = '\\';
                        out[n++] = (char) *p;
                } else if (*p == '\n' || *p == '\t' || *p == '\r') {
                        out[n++] = '\\';
                        out[n++] = *p == '\n' ? 'n' : *p == '\t' ? 't' : 'r';
                } else if (*p < 0x20 || *p == 0x7f) {
                        n += (size_t) snprintf(out + n, cap - n, "\\x%02x", *p);
                } else {
                        out[n++] = (char) *p;
                }
        }
        out[n++] = '"';
        out[n] = '\0';
        return out;
}

char *eng_command_line(json_t *doc)
{
        char *cmd = berth_xstrdup(sfield(doc, "Path"));
        size_t i;
        json_t *a;
        json_array_foreach(json_object_get(doc, "Args"), i, a)
        {
                const char *v = json_string_value(a) ? json_string_value(a) : "";
                char *n = strchr(v, ' ') ? berth_xasprintf("%s '%s'", cmd, v)
                                         : berth_xasprintf("%s %s", cmd, v);
                free(cmd);
                cmd = n;
        }
        return cmd;
}

/* The CLI's form of eng_command_line: cut at 20 characters with "…", and quoted. */
static char *command_text(json_t *doc, bool no_trunc)
{
        cleanup_free char *cmd = eng_command_line(doc);
        /* the docker CLI's Ellipsis(cmd, 20): up to 20 characters stay whole, a longer
         * command keeps 19 and gets "…" (characters, not bytes) */
        size_t chars = 0, cut = 0;
        for (size_t b = 0; cmd[b]; b++) {
                if (((unsigned char) cmd[b] & 0xC0) == 0x80)
                        continue;
                if (++chars == 20)
                        cut = b;
        }
        if (!no_trunc && chars > 20) {
                char *n = berth_xasprintf("%.*s…", (int) cut, cmd);
                free(cmd);
                cmd = n;
        }
        return go_quote(cmd);
}

static char *labels_text(json_t *labels)
{
        cleanup_free char *out = berth_xstrdup("");
        const char *k;
        json_t *v;
        json_object_foreach(labels, k, v)
        {
                char *n = berth_xasprintf("%s%s%s=%s", out, *out ? "," : "", k,
                                          json_string_value(v) ? json_string_value(v) : "");
                free(out);
                out = n;
        }
        return berth_steal_ptr(&out);
}

static int key_cmp(const void *a, const void *b)
{
        const char *x = *(const char *const *) a, *y = *(const char *const *) b;
        long px = strtol(x, NULL, 10), py = strtol(y, NULL, 10);
        return px != py ? (px < py ? -1 : 1) : strcmp(x, y);
}

/* Docker's PORTS column: "0.0.0.0:8080->80/tcp, 443/tcp" in port order. */
static char *ports_text(json_t *ports)
{
        size_t n = json_object_size(ports), k = 0;
        const char **keys = berth_xcalloc(n ? n : 1, sizeof(*keys));
        const char *key;
        json_t *v;
        json_object_foreach(ports, key, v)
        {
                keys[k++] = key;
        }
        qsort(keys, k, sizeof(*keys), key_cmp);
        char *out = berth_xstrdup("");
        for (size_t i = 0; i < k; i++) {
                json_t *list = json_object_get(ports, keys[i]);
                size_t j;
                json_t *b;
                if (json_array_size(list) == 0) {
                        char *t = berth_xasprintf("%s%s%s", out, *out ? ", " : "", keys[i]);
                        free(out);
                        out = t;
                }
                json_array_foreach(list, j, b)
                {
                        char *t = berth_xasprintf(
                                "%s%s%s:%s->%s", out, *out ? ", " : "",
                                json_string_value(json_object_get(b, "HostIp")) ?: "",
                                json_string_value(json_object_get(b, "HostPort")) ?: "", keys[i]);
                        free(out);
                        out = t;
                }
        }
        free(keys);
        return out;
}

static char *networks_text(json_t *nets)
{
        char *out = berth_xstrdup("");
        const char *key;
        json_t *v;
        json_object_foreach(nets, key, v)
        {
                char *t = berth_xasprintf("%s%s%s", out, *out ? "," : "", key);
                free(out);
                out = t;
        }
        return out;
}

json_t *eng_ps_row(struct eng_container *c, bool no_trunc, const struct timespec *now)
{
        json_t *doc = c->doc;
        json_t *cfg = json_object_get(doc, "Config");
        char id[ENG_ID_LEN + 1];
        snprintf(id, sizeof(id), "%.*s", no_trunc ? ENG_ID_LEN : 12, c->id);
        int64_t created = to_sec(sfield(doc, "Created"), now);
        char when[64], ago[80];
        struct tm tm;
        time_t t = (time_t) created;
        gmtime_r(&t, &tm);
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S +0000 UTC", &tm);
        char dur[64];
        berth_format_duration(now->tv_sec - created, dur, sizeof(dur));
        snprintf(ago, sizeof(ago), "%s ago", dur);
        cleanup_free char *command = command_text(doc, no_trunc);
        cleanup_free char *status = eng_status_text(c, now);
        cleanup_free char *labels = labels_text(json_object_get(cfg, "Labels"));
        const char *image = sfield(cfg, "Image");
        json_t *ns = json_object_get(doc, "NetworkSettings");
        cleanup_free char *ports = ports_text(json_object_get(ns, "Ports"));
        cleanup_free char *nets = networks_text(json_object_get(ns, "Networks"));
        json_t *row = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}",
                                "Command", command, "CreatedAt", when, "ID", id, "Image",
                                *image ? image : sfield(doc, "Image"), "Labels", labels,
                                "LocalVolumes", "0", "Mounts", "", "Names", eng_container_name(c),
                                "Networks", nets, "Ports", ports, "RunningFor", ago, "Size", "",
                                "State", eng_container_status(c));
        json_object_set_new(row, "Status", json_string(status));
        return row;
}

json_t *eng_inspect_doc(struct eng_container *c)
{
        json_t *d = c->doc;
        json_t *out = json_object();
        static const char *const before_state[] = {"Id", "Created", "Path", "Args"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(before_state); i++) {
                json_t *v = json_object_get(d, before_state[i]);
                json_object_set(out, before_state[i], v ? v : json_null());
        }
        json_object_set(out, "State", eng_container_state(c));
        const char *k;
        json_t *v;
        json_object_foreach(d, k, v)
        {
                if (!json_object_get(out, k))
                        json_object_set(out, k, v);
        }
        json_t *rc = json_object_get(c->state, "RestartCount");
        json_object_set_new(out, "RestartCount", json_integer(json_integer_value(rc)));
        return out;
}

const struct berth_tmpl_header eng_ps_headers[] = {
        {"ID", "CONTAINER ID"},
        {"Image", "IMAGE"},
        {"Command", "COMMAND"},
        {"CreatedAt", "CREATED AT"},
        {"RunningFor", "CREATED"},
        {"Status", "STATUS"},
        {"Ports", "PORTS"},
        {"Names", "NAMES"},
        {"Size", "SIZE"},
        {"Labels", "LABELS"},
        {"Mounts", "MOUNTS"},
        {"Networks", "NETWORKS"},
        {"State", "STATE"},
        {"LocalVolumes", "LOCAL VOLUMES"},
        {NULL, NULL},
};

struct eng_ps_filter {
        char *key, *value;
        struct eng_ps_filter *next;
};

static const char *const filter_keys[] = {"id",     "name",     "label",  "status",
                                          "exited", "ancestor", "before", "since",
                                          "health", "volume",   "network"};

int eng_ps_filter_add(struct eng_ps_filter **f, const char *kv, berth_error_t *err)
{
        const char *eq = strchr(kv, '=');
        if (eq == NULL || eq == kv)
                /* the docker CLI's flag error, in its words */
                return berth_fail_status(err, 125, 0,
                                         "invalid argument \"%s\" for \"-f, --filter\" flag: bad "
                                         "format of filter (expected name=value)",
                                         kv);
        cleanup_free char *key = strndup(kv, (size_t) (eq - kv));
        bool known = false;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(filter_keys); i++)
                known |= strcmp(key, filter_keys[i]) == 0;
        if (!known)
                /* the daemon's refusal in Docker ("invalid filter"): status 1; a malformed
                 * KEY=VALUE above is the CLI's own flag error, 125 */
                return berth_fail_status(err, 1, 0, "invalid filter '%s'", key);
        if (strcmp(key, "status") == 0) {
                static const char *const ok[] = {"created", "restarting", "running", "removing",
                                                 "paused",  "exited",     "dead"};
                bool valid = false;
                for (size_t i = 0; i < BERTH_ARRAY_SIZE(ok); i++)
                        valid |= strcmp(eq + 1, ok[i]) == 0;
                if (!valid)
                        return berth_fail_status(err, 1, 0, "invalid filter 'status=%s'", eq + 1);
        }
        if (strcmp(key, "health") == 0) {
                static const char *const ok[] = {"starting", "healthy", "unhealthy", "none"};
                bool valid = false;
                for (size_t i = 0; i < BERTH_ARRAY_SIZE(ok); i++)
                        valid |= strcmp(eq + 1, ok[i]) == 0;
                if (!valid) /* EINVAL: the API's 400 */
                        return berth_fail_status(
                                err, 1, EINVAL, "Unrecognised filter value for health: %s", eq + 1);
        }
        if (strcmp(key, "exited") == 0) {
                char *end;
                errno = 0;
                (void) strtol(eq + 1, &end, 10);
                if (errno || *end || end == eq + 1)
                        return berth_fail_status(err, 1, 0, "invalid filter 'exited=%s'", eq + 1);
        }
        struct eng_ps_filter *n = berth_xcalloc(1, sizeof(*n));
        n->key = berth_steal_ptr(&key);
        n->value = berth_xstrdup(eq + 1);
        n->next = *f;
        *f = n;
        return 0;
}

/* REF with ":latest" added when it names no tag (a registry's port is no tag). */
static char *with_latest(const char *ref)
{
        const char *colon = strrchr(ref, ':'), *slash = strrchr(ref, '/');
        bool tagged = colon && (slash == NULL || colon > slash);
        return tagged ? berth_xstrdup(ref) : berth_xasprintf("%s:latest", ref);
}

static bool match_one(const struct eng_ps_filter *f, struct eng_ctx *e, struct eng_container *c)
{
        json_t *st = eng_container_state(c);
        json_t *cfg = json_object_get(c->doc, "Config");
        const char *k = f->key, *v = f->value;
        if (strcmp(k, "id") == 0)
                return strncmp(c->id, v, strlen(v)) == 0;
        if (strcmp(k, "name") == 0) /* Docker: a regexp search; a substring is the common use */
                return strstr(eng_container_name(c), v[0] == '/' ? v + 1 : v) != NULL;
        if (strcmp(k, "status") == 0)
                return strcmp(eng_container_status(c), v) == 0;
        if (strcmp(k, "exited") == 0)
                return strcmp(eng_container_status(c), "exited") == 0 &&
                       json_integer_value(json_object_get(st, "ExitCode")) == strtol(v, NULL, 10);
        if (strcmp(k, "label") == 0) {
                json_t *labels = json_object_get(cfg, "Labels");
                const char *eq = strchr(v, '=');
                cleanup_free char *key =
                        eq ? berth_xasprintf("%.*s", (int) (eq - v), v) : berth_xstrdup(v);
                json_t *lv = json_object_get(labels, key);
                return lv && (!eq || strcmp(json_string_value(lv) ? json_string_value(lv) : "",
                                            eq + 1) == 0);
        }
        if (strcmp(k, "ancestor") == 0) {
                const char *img = sfield(cfg, "Image");
                const char *id = sfield(c->doc, "Image");
                /* "busybox" and "busybox:latest" name the same image, on either side */
                cleanup_free char *with_tag = with_latest(v);
                cleanup_free char *img_tag = with_latest(img);
                return strcmp(img, v) == 0 || strcmp(img_tag, with_tag) == 0 ||
                       (strlen(v) >= 4 && (strstr(id, v) == id + 7 || strcmp(id, v) == 0));
        }
        if (strcmp(k, "health") == 0) {
                const char *h = sfield(json_object_get(st, "Health"), "Status");
                return strcmp(*h ? h : "none", v) == 0;
        }
        if (strcmp(k, "before") == 0 || strcmp(k, "since") == 0) {
                struct eng_container *ref = NULL;
                berth_error_t ferr = NULL;
                if (eng_container_find(e, v, &ref, &ferr) < 0) {
                        berth_error_release(&ferr);
                        return false;
                }
                int cmp = strcmp(sfield(c->doc, "Created"), sfield(ref->doc, "Created"));
                eng_container_free(ref);
                return k[0] == 'b' ? cmp < 0 : cmp > 0;
        }
        return false; /* volume, network: no container has any yet */
}

bool eng_ps_filter_wants_all(const struct eng_ps_filter *f)
{
        for (; f; f = f->next)
                if (strcmp(f->key, "status") == 0)
                        return true;
        return false;
}

bool eng_ps_filter_match(const struct eng_ps_filter *f, struct eng_ctx *e, struct eng_container *c)
{
        /* same key: any may match, except labels, which all must (Docker's MatchKVList:
         * compose asks for project=P and oneoff=False at once); different keys: all must */
        for (const struct eng_ps_filter *a = f; a; a = a->next) {
                if (strcmp(a->key, "label") == 0) {
                        if (!match_one(a, e, c))
                                return false;
                        continue;
                }
                bool seen_before = false;
                for (const struct eng_ps_filter *b = f; b != a; b = b->next)
                        seen_before |= strcmp(a->key, b->key) == 0;
                if (seen_before)
                        continue;
                bool any = false;
                for (const struct eng_ps_filter *b = a; b; b = b->next)
                        if (strcmp(a->key, b->key) == 0 && match_one(b, e, c))
                                any = true;
                if (!any)
                        return false;
        }
        return true;
}

void eng_ps_filter_free(struct eng_ps_filter *f)
{
        while (f) {
                struct eng_ps_filter *n = f->next;
                free(f->key);
                free(f->value);
                free(f);
                f = n;
        }
}
