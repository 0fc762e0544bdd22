/* eventlog.c — appending Docker-shaped events to <run_dir>/events.log (see eventlog.h). */
#include "common/eventlog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/paths.h"
#include "common/units.h"
#include "common/util.h"

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Docker's Attributes are a map[string]string, which Go encodes with its keys sorted. */
static json_t *attributes(json_t *attrs)
{
        json_t *out = json_object();
        size_t n = json_object_size(attrs), i = 0;
        if (n == 0)
                return out;
        const char **keys = berth_xcalloc(n, sizeof(*keys));
        const char *k;
        json_t *v;
        json_object_foreach(attrs, k, v)
        {
                keys[i++] = k;
        }
        qsort(keys, n, sizeof(*keys), cmp_str);
        for (i = 0; i < n; i++) {
                v = json_object_get(attrs, keys[i]);
                char num[32] = "";
                const char *s = num;
                if (json_is_string(v))
                        s = json_string_value(v);
                else if (json_is_integer(v))
                        snprintf(num, sizeof(num), "%lld", (long long) json_integer_value(v));
                else if (json_is_real(v))
                        snprintf(num, sizeof(num), "%g", json_real_value(v));
                else if (json_is_boolean(v))
                        s = json_is_true(v) ? "true" : "false";
                else
                        s = NULL;
                if (s)
                        json_object_set_new(out, keys[i], json_string(s));
        }
        free(keys);
        return out;
}

static json_t *message(const char *type, const char *action, const char *id, json_t *attrs,
                       int64_t ns)
{
        json_t *m = json_object();
        json_t *a = attributes(attrs);
        /* dockerd fills the deprecated fields for containers and images only */
        if (strcmp(type, "container") == 0 || strcmp(type, "image") == 0) {
                json_object_set_new(m, "status", json_string(action));
                json_object_set_new(m, "id", json_string(id));
                const char *from = json_string_value(json_object_get(a, "image"));
                if (strcmp(type, "container") == 0 && from && *from)
                        json_object_set_new(m, "from", json_string(from));
        }
        json_object_set_new(m, "Type", json_string(type));
        json_object_set_new(m, "Action", json_string(action));
        json_object_set_new(m, "Actor", json_pack("{s:s, s:o}", "ID", id, "Attributes", a));
        json_object_set_new(m, "scope", json_string("local"));
        json_object_set_new(m, "time", json_integer(ns / 1000000000LL));
        json_object_set_new(m, "timeNano", json_integer(ns));
        return m;
}

static int open_log(const char *path)
{
        return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
}

/* The file is over its bound: it becomes the previous generation.  Under an flock of the full
 * file, and only if the name still points at it, so that two writers rotating at once don't
 * push a fresh file over the previous generation. */
static int rotate(int fd, const struct stat *st, const char *path, const char *prev)
{
        if (flock(fd, LOCK_EX) == 0) {
                struct stat now;
                if (stat(path, &now) == 0 && now.st_ino == st->st_ino && now.st_dev == st->st_dev &&
                    rename(path, prev) < 0)
                        log_warn("event log: rotate %s: %s", path, strerror(errno));
                flock(fd, LOCK_UN);
        }
        close(fd);
        return open_log(path);
}

void berth_event_emit_at(const char *run_dir, const char *type, const char *action, const char *id,
                         json_t *attrs, int64_t time_ns)
{
        json_t *m = message(type, action, id ? id : "", attrs, time_ns);
        json_decref(attrs);
        cleanup_free char *line = json_dumps(m, JSON_COMPACT);
        json_decref(m);
        if (!line)
                return;
        struct berth_paths p = {0};
        if (!run_dir) {
                berth_error_t err = NULL;
                if (berth_paths_default(&p, &err) < 0) {
                        log_warn("event log: %s", berth_error_msg(err));
                        berth_error_release(&err);
                        return;
                }
                run_dir = p.run_dir;
        }
        cleanup_free char *path = berth_path_join(run_dir, BERTH_EVENTS_FILE);
        cleanup_free char *prev = berth_path_join(run_dir, BERTH_EVENTS_PREVIOUS);
        int fd = open_log(path);
        if (fd < 0 && errno == ENOENT && berth_mkdir_p(run_dir, 0711, NULL) == 0)
                fd = open_log(path);
        berth_paths_free(&p);
        size_t len = strlen(line);
        line[len++] = '\n'; /* json_dumps's NUL becomes the newline: one write for the line */
        struct stat st;
        if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size + (off_t) len > BERTH_EVENTS_MAX)
                fd = rotate(fd, &st, path, prev);
        if (fd < 0) {
                log_warn("event log: open %s: %s", path, strerror(errno));
                return;
        }
        ssize_t w;
        while ((w = write(fd, line, len)) < 0 && errno == EINTR)
                ;
        if (w != (ssize_t) len)
                log_warn("event log: write %s: %s", path, w < 0 ? strerror(errno) : "short");
        close(fd);
}

void berth_event_emit(const char *run_dir, const char *type, const char *action, const char *id,
                      json_t *attrs)
{
        berth_event_emit_at(run_dir, type, action, id, attrs, berth_now_ns());
}
