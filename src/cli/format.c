/* format.c — Docker's --format for list and inspect commands: a small subset
 * of Go templates ({{.Field}}, {{.A.B}}, {{json .X}}, {{.}}, a leading "table"),
 * evaluated over a JSON object per row, and the aligned table writer Docker
 * uses (tabwriter: min width 10, padding 3).  Also the human sizes and
 * durations Docker prints ("4.26MB", "2 hours ago"). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/format.h"
#include "common/util.h"

struct buf {
        char *p;
        size_t n, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
        if (b->n + n + 1 > b->cap) {
                b->cap = (b->n + n + 1) * 2;
                b->p = berth_xrealloc(b->p, b->cap);
        }
        memcpy(b->p + b->n, s, n);
        b->n += n;
        b->p[b->n] = '\0';
}

static void buf_str(struct buf *b, const char *s)
{
        buf_add(b, s, strlen(s));
}

/* Go's %v of a value: strings bare, arrays "[a b]", objects "map[k:v]". */
static void render_value(struct buf *b, json_t *v)
{
        char num[64];
        size_t i;
        json_t *x;
        const char *k;
        switch (json_typeof(v)) {
        case JSON_STRING:
                buf_str(b, json_string_value(v));
                break;
        case JSON_INTEGER:
                snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                buf_str(b, num);
                break;
        case JSON_REAL:
                snprintf(num, sizeof(num), "%g", json_real_value(v));
                buf_str(b, num);
                break;
        case JSON_TRUE:
                buf_str(b, "true");
                break;
        case JSON_FALSE:
                buf_str(b, "false");
                break;
        case JSON_NULL:
                buf_str(b, "<nil>");
                break;
        case JSON_ARRAY:
                buf_str(b, "[");
                json_array_foreach(v, i, x)
                {
                        if (i)
                                buf_str(b, " ");
                        render_value(b, x);
                }
                buf_str(b, "]");
                break;
        case JSON_OBJECT:
                buf_str(b, "map[");
                i = 0;
                json_object_foreach(v, k, x)
                {
                        if (i++)
                                buf_str(b, " ");
                        buf_str(b, k);
                        buf_str(b, ":");
                        render_value(b, x);
                }
                buf_str(b, "]");
                break;
        }
}

static json_t *lookup(json_t *obj, const char *path)
{
        if (strcmp(path, ".") == 0)
                return obj;
        if (path[0] != '.')
                return NULL;
        cleanup_free char *copy = berth_xstrdup(path + 1);
        char *save = NULL;
        json_t *cur = obj;
        for (char *f = strtok_r(copy, ".", &save); f && cur; f = strtok_r(NULL, ".", &save))
                cur = json_object_get(cur, f);
        return cur;
}

static char *trim(char *s)
{
        while (*s == ' ')
                s++;
        size_t n = strlen(s);
        while (n && s[n - 1] == ' ')
                s[--n] = '\0';
        return s;
}

int cli_template_render(const char *tmpl, json_t *obj, char **out, berth_error_t *err)
{
        struct buf b = {0};
        buf_add(&b, "", 0);
        const char *p = tmpl;
        while (*p) {
                if (p[0] == '\\' && (p[1] == 't' || p[1] == 'n')) {
                        buf_str(&b, p[1] == 't' ? "\t" : "\n");
                        p += 2;
                        continue;
                }
                if (strncmp(p, "{{", 2) != 0) {
                        buf_add(&b, p, 1);
                        p++;
                        continue;
                }
                const char *end = strstr(p, "}}");
                if (end == NULL) {
                        free(b.p);
                        return berth_fail(err, 22,
                                          "template parsing error: unclosed action in `%s`", tmpl);
                }
                cleanup_free char *action = berth_xasprintf("%.*s", (int) (end - p - 2), p + 2);
                char *a = trim(action);
                bool as_json = false;
                if (strncmp(a, "json ", 5) == 0) {
                        as_json = true;
                        a = trim(a + 5);
                }
                if (a[0] != '.') {
                        free(b.p);
                        return berth_fail(err, 22,
                                          "template: unsupported action `{{%s}}` (supported: "
                                          "{{.Field}}, {{json .Field}})",
                                          a);
                }
                json_t *v = lookup(obj, a);
                if (as_json) {
                        cleanup_free char *j =
                                v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
                        buf_str(&b, j ? j : "null");
                } else if (v) {
                        render_value(&b, v);
                } else {
                        buf_str(&b, "<no value>");
                }
                p = end + 2;
        }
        *out = b.p;
        return 0;
}

bool cli_format_is_table(const char *fmt, const char **rest)
{
        if (strncmp(fmt, "table", 5) == 0 && (fmt[5] == '\0' || fmt[5] == ' ')) {
                *rest = fmt[5] ? fmt + 6 : "";
                return true;
        }
        *rest = fmt;
        return false;
}

char *cli_template_header(const char *tmpl, const struct cli_header *names)
{
        json_t *h = json_object();
        for (size_t i = 0; names[i].field; i++)
                json_object_set_new(h, names[i].field, json_string(names[i].title));
        char *out = NULL;
        berth_error_t err = NULL;
        if (cli_template_render(tmpl, h, &out, &err) < 0) {
                berth_error_release(&err);
                out = berth_xstrdup("");
        }
        json_decref(h);
        return out;
}

void cli_table_print(FILE *f, char **lines, size_t n)
{
        /* column widths over all lines (tabwriter semantics: cells end at a tab) */
        size_t widths[64] = {0};
        for (size_t i = 0; i < n; i++) {
                size_t col = 0, w = 0;
                for (const char *p = lines[i]; *p; p++) {
                        if (*p == '\t') {
                                if (col < 64 && w > widths[col])
                                        widths[col] = w;
                                col++;
                                w = 0;
                        } else if ((*p & 0xc0) != 0x80) {
                                w++;
                        }
                }
        }
        for (size_t i = 0; i < n; i++) {
                size_t col = 0, w = 0;
                for (const char *p = lines[i]; *p; p++) {
                        if (*p == '\t') {
                                size_t want = col < 64 ? widths[col] + 3 : w + 3;
                                if (want < 10)
                                        want = 10;
                                for (; w < want; w++)
                                        fputc(' ', f);
                                col++;
                                w = 0;
                                continue;
                        }
                        fputc(*p, f);
                        if ((*p & 0xc0) != 0x80)
                                w++;
                }
                fputc('\n', f);
        }
}

char *cli_human_size(int64_t size)
{
        static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
        double v = (double) size;
        size_t u = 0;
        while (v >= 1000.0 && u + 1 < BERTH_ARRAY_SIZE(units)) {
                v /= 1000.0;
                u++;
        }
        return berth_xasprintf("%.3g%s", v, units[u]);
}

char *cli_human_duration(int64_t secs)
{
        if (secs < 1)
                return berth_xstrdup("Less than a second");
        if (secs == 1)
                return berth_xstrdup("1 second");
        if (secs < 60)
                return berth_xasprintf("%lld seconds", (long long) secs);
        int64_t mins = secs / 60;
        if (mins == 1)
                return berth_xstrdup("About a minute");
        if (mins < 60)
                return berth_xasprintf("%lld minutes", (long long) mins);
        int64_t hours = (secs + 1800) / 3600; /* rounded, as Go does */
        if (hours == 1)
                return berth_xstrdup("About an hour");
        if (hours < 48)
                return berth_xasprintf("%lld hours", (long long) hours);
        if (hours < 24 * 7 * 2)
                return berth_xasprintf("%lld days", (long long) (hours / 24));
        if (hours < 24 * 30 * 2)
                return berth_xasprintf("%lld weeks", (long long) (hours / 24 / 7));
        if (hours < 24 * 365 * 2)
                return berth_xasprintf("%lld months", (long long) (hours / 24 / 30));
        return berth_xasprintf("%lld years", (long long) (hours / 24 / 365));
}

int64_t cli_parse_rfc3339(const char *s)
{
        if (s == NULL)
                return 0;
        struct tm tm = {0};
        const char *rest = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (rest == NULL)
                return 0;
        time_t t = timegm(&tm);
        while (*rest == '.' || (*rest >= '0' && *rest <= '9'))
                rest++;
        int hh = 0, mm = 0;
        if ((*rest == '+' || *rest == '-') && sscanf(rest + 1, "%d:%d", &hh, &mm) == 2)
                t -= (*rest == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
        return (int64_t) t;
}
