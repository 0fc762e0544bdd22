/* events.c — container, volume and network events into the event log, Docker's event filters
 * and the docker CLI's ways of printing an event (see events.h; the reader is events_read.c). */
#include "engine/events.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/eventlog.h"
#include "common/util.h"

char *eng_events_dir(const struct eng_ctx *e)
{
        char *dir = berth_xstrdup(e->run_dir);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir)
                *slash = '\0';
        return dir;
}

json_t *eng_event_attrs(struct eng_container *c)
{
        json_t *attrs = json_object();
        json_t *cfg = json_object_get(c->doc, "Config");
        json_object_update(attrs, json_object_get(cfg, "Labels"));
        const char *image = json_string_value(json_object_get(cfg, "Image"));
        if (image && *image)
                json_object_set_new(attrs, "image", json_string(image));
        json_object_set_new(attrs, "name", json_string(eng_container_name(c)));
        return attrs;
}

void eng_event_container_attrs(const char *events_dir, const char *id, const char *action,
                               json_t *attrs, json_t *extra)
{
        json_t *all = json_copy(attrs);
        if (all == NULL)
                all = json_object();
        if (extra)
                json_object_update(all, extra);
        json_decref(extra);
        berth_event_emit(events_dir, "container", action, id, all);
}

char *eng_event_exec_action(const char *verb, char *const *cmd)
{
        size_t len = strlen(verb) + 3;
        for (size_t i = 0; cmd && cmd[i]; i++)
                len += strlen(cmd[i]) + 1;
        char *s = berth_xmalloc(len);
        char *p = s + sprintf(s, "%s:", verb);
        for (size_t i = 0; cmd && cmd[i]; i++)
                p += sprintf(p, " %s", cmd[i]);
        return s;
}

void eng_event_container(const struct eng_ctx *e, struct eng_container *c, const char *action,
                         json_t *extra)
{
        json_t *attrs = eng_event_attrs(c);
        cleanup_free char *dir = eng_events_dir(e);
        eng_event_container_attrs(dir, c->id, action, attrs, extra);
        json_decref(attrs);
}

void eng_event_container_rec(struct eng_container *c, const char *action, json_t *extra)
{
        cleanup_free char *dir = berth_xstrdup(c->run_dir);
        for (int up = 0; up < 2; up++) {
                char *slash = strrchr(dir, '/');
                if (slash && slash != dir)
                        *slash = '\0';
        }
        json_t *attrs = eng_event_attrs(c);
        eng_event_container_attrs(dir, c->id, action, attrs, extra);
        json_decref(attrs);
}

void eng_event_health(const struct eng_ctx *e, struct eng_container *c)
{
        /* one container per monitor: what it last reported, to log only changes */
        static char last_id[ENG_ID_LEN + 1], last[32];
        const char *st = json_string_value(
                json_object_get(json_object_get(eng_container_state(c), "Health"), "Status"));
        if (!st || strcmp(st, "starting") == 0)
                return;
        if (strcmp(last_id, c->id) == 0 && strcmp(last, st) == 0)
                return;
        snprintf(last_id, sizeof(last_id), "%s", c->id);
        snprintf(last, sizeof(last), "%s", st);
        cleanup_free char *action = berth_xasprintf("health_status: %s", st);
        eng_event_container(e, c, action, NULL);
}

void eng_event_volume(const struct eng_ctx *e, const char *action, const char *name)
{
        cleanup_free char *dir = eng_events_dir(e);
        berth_event_emit(dir, "volume", action, name, json_pack("{s:s}", "driver", "local"));
}

void eng_event_network(const struct eng_ctx *e, const char *action, const char *id, json_t *attrs)
{
        cleanup_free char *dir = eng_events_dir(e);
        berth_event_emit(dir, "network", action, id, attrs);
}

void eng_event_endpoint(const struct eng_ctx *e, const char *action, const char *net_id,
                        const char *net_name, const char *container_id)
{
        eng_event_network(e, action, net_id,
                          json_pack("{s:s, s:s, s:s}", "container", container_id, "name", net_name,
                                    "type", "bridge"));
}

/* ---- filters (daemon/events/filter.go) ---- */

static json_t *values(json_t *filters, const char *key)
{
        json_t *v = json_object_get(filters, key);
        return json_is_array(v) && json_array_size(v) ? v : NULL;
}

/* Args.ExactMatch: no values for the key match everything. */
static bool exact(json_t *filters, const char *key, const char *s)
{
        json_t *vals = values(filters, key), *v;
        size_t i;
        if (!vals)
                return true;
        json_array_foreach(vals, i, v)
        {
                if (s && json_is_string(v) && strcmp(json_string_value(v), s) == 0)
                        return true;
        }
        return false;
}

/* Args.FuzzyMatch: exact, or a value is a prefix of s. */
static bool fuzzy(json_t *filters, const char *key, const char *s)
{
        json_t *vals = values(filters, key), *v;
        size_t i;
        if (!vals)
                return true;
        json_array_foreach(vals, i, v)
        {
                const char *p = json_string_value(v);
                if (s && p && strncmp(s, p, strlen(p)) == 0)
                        return true;
        }
        return false;
}

/* reference.FamiliarName: "busybox:latest" → "busybox", "a/b@sha256:…" → "a/b". */
static char *strip_tag(const char *image)
{
        char *s = berth_xstrdup(image);
        char *at = strchr(s, '@');
        if (at)
                *at = '\0';
        char *slash = strrchr(s, '/');
        char *colon = strrchr(slash ? slash : s, ':');
        if (colon)
                *colon = '\0';
        return s;
}

static bool match_image(json_t *filters, const char *type, const char *id, json_t *attrs)
{
        if (!values(filters, "image"))
                return true;
        const char *name = json_string_value(
                json_object_get(attrs, strcmp(type, "image") == 0 ? "name" : "image"));
        cleanup_free char *sid = strip_tag(id);
        cleanup_free char *sname = strip_tag(name ? name : "");
        return exact(filters, "image", id) || exact(filters, "image", name ? name : "") ||
               exact(filters, "image", sid) || exact(filters, "image", sname);
}

/* Args.MatchKVList: every "k" or "k=v" value must be among the attributes. */
static bool match_labels(json_t *filters, json_t *attrs)
{
        json_t *vals = values(filters, "label"), *v;
        size_t i;
        if (!vals)
                return true;
        json_array_foreach(vals, i, v)
        {
                const char *kv = json_string_value(v);
                if (!kv)
                        return false;
                const char *eq = strchr(kv, '=');
                cleanup_free char *k =
                        eq ? berth_xasprintf("%.*s", (int) (eq - kv), kv) : berth_xstrdup(kv);
                const char *have = json_string_value(json_object_get(attrs, k));
                if (!have || (eq && strcmp(have, eq + 1) != 0))
                        return false;
        }
        return true;
}

bool eng_event_match(json_t *filters, json_t *ev)
{
        if (!filters || json_object_size(filters) == 0)
                return true;
        const char *type = json_string_value(json_object_get(ev, "Type"));
        const char *action = json_string_value(json_object_get(ev, "Action"));
        json_t *actor = json_object_get(ev, "Actor");
        const char *id = json_string_value(json_object_get(actor, "ID"));
        json_t *attrs = json_object_get(actor, "Attributes");
        const char *name = json_string_value(json_object_get(attrs, "name"));
        type = type ? type : "";
        action = action ? action : "";
        id = id ? id : "";
        /* "health_status", "exec_create" and "exec_start" match the actions they begin
         * ("health_status: healthy", "exec_create: sh -c …") */
        for (int k = 0; k < 2; k++) {
                const char *key = k ? "action" : "event";
                bool prefixes = false;
                json_t *vals = values(filters, key), *v;
                size_t i;
                json_array_foreach(vals, i, v)
                {
                        const char *s = json_string_value(v);
                        prefixes |= s &&
                                    (strcmp(s, "health_status") == 0 ||
                                     strcmp(s, "exec_create") == 0 || strcmp(s, "exec_start") == 0);
                }
                if (!(prefixes ? fuzzy(filters, key, action) : exact(filters, key, action)))
                        return false;
        }
        if (!exact(filters, "type", type) ||
            !exact(filters, "scope", json_string_value(json_object_get(ev, "scope"))))
                return false;
        /* each of these names an object of that type, by id (prefix) or name (prefix) */
        static const char *const named[] = {"container", "volume",  "network", "daemon", "plugin",
                                            "node",      "service", "secret",  "config"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(named); i++)
                if (!fuzzy(filters, named[i], id) && !fuzzy(filters, named[i], name))
                        return false;
        return match_image(filters, type, id, attrs) && match_labels(filters, attrs);
}

/* ---- printing ---- */

json_t *eng_event_template_data(json_t *ev)
{
        json_t *actor = json_object_get(ev, "Actor");
        json_t *attrs = json_object_get(actor, "Attributes");
        json_t *d = json_object();
        static const char *const map[][2] = {{"status", "Status"}, {"id", "ID"},
                                             {"from", "From"},     {"Type", "Type"},
                                             {"Action", "Action"}, {"scope", "Scope"},
                                             {"time", "Time"},     {"timeNano", "TimeNano"}};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(map); i++) {
                json_t *v = json_object_get(ev, map[i][0]);
                json_object_set_new(d, map[i][1], v ? json_incref(v) : json_string(""));
        }
        json_t *aid = json_object_get(actor, "ID");
        json_object_set_new(d, "Actor",
                            json_pack("{s:o, s:o}", "ID", aid ? json_incref(aid) : json_string(""),
                                      "Attributes", attrs ? json_incref(attrs) : json_object()));
        return d;
}

char *eng_event_line(json_t *ev)
{
        int64_t ns = json_integer_value(json_object_get(ev, "timeNano"));
        if (ns == 0)
                ns = json_integer_value(json_object_get(ev, "time")) * 1000000000LL;
        /* jsonmessage.RFC3339NanoFixed, in local time as Go's time.Unix gives */
        time_t secs = (time_t) (ns / 1000000000LL);
        struct tm tm;
        localtime_r(&secs, &tm);
        char when[80], zone[48] = "Z";
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
        if (tm.tm_gmtoff != 0) {
                long off = tm.tm_gmtoff < 0 ? -tm.tm_gmtoff : tm.tm_gmtoff;
                snprintf(zone, sizeof(zone), "%c%02ld:%02ld", tm.tm_gmtoff < 0 ? '-' : '+',
                         off / 3600, off / 60 % 60);
        }
        json_t *actor = json_object_get(ev, "Actor");
        json_t *attrs = json_object_get(actor, "Attributes");
        char *line = berth_xasprintf("%s.%09lld%s %s %s %s", when, (long long) (ns % 1000000000LL),
                                     zone, json_string_value(json_object_get(ev, "Type")) ?: "",
                                     json_string_value(json_object_get(ev, "Action")) ?: "",
                                     json_string_value(json_object_get(actor, "ID")) ?: "");
        if (json_object_size(attrs)) {
                /* the log writes Attributes with sorted keys (eventlog.c), as the CLI sorts */
                const char *k;
                json_t *v;
                bool first = true;
                json_object_foreach(attrs, k, v)
                {
                        char *more = berth_xasprintf("%s%s%s=%s", line, first ? " (" : ", ", k,
                                                     json_string_value(v) ?: "");
                        free(line);
                        line = more;
                        first = false;
                }
                char *more = berth_xasprintf("%s)", line);
                free(line);
                line = more;
        }
        char *out = berth_xasprintf("%s\n", line);
        free(line);
        return out;
}
