/* containerfile.c — the Containerfile (Dockerfile) parser and word processor: comments,
 * line continuations, flags, exec (JSON) and shell forms; variable substitution with the
 * ${VAR:-default} and ${VAR:+alt} modifiers, quotes and escapes.  Dockerfile's reference is
 * the model; heredocs and the `# escape=` directive are not supported. */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "image/containerfile.h"

static const char *const known[] = {
        "FROM", "RUN",     "CMD",        "LABEL",      "EXPOSE",      "ENV",
        "ADD",  "COPY",    "ENTRYPOINT", "VOLUME",     "USER",        "WORKDIR",
        "ARG",  "ONBUILD", "SHELL",      "STOPSIGNAL", "HEALTHCHECK", "MAINTAINER",
};

/* The flags each instruction takes (others are refused: a silently ignored `RUN --mount`
 * would build something else than the user wrote). */
static const struct {
        const char *cmd;
        const char *flags; /* space separated, each followed by a space */
} allowed_flags[] = {
        {"FROM", "platform "},
        {"COPY", "from chown chmod "},
        {"ADD", "chown chmod "},
        {"HEALTHCHECK", "interval timeout start-period start-interval retries "},
};

static bool flag_allowed(const char *cmd, const char *flag)
{
        size_t n = strcspn(flag, "=");
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(allowed_flags); i++) {
                if (strcmp(allowed_flags[i].cmd, cmd) != 0)
                        continue;
                for (const char *p = allowed_flags[i].flags; *p; p += strcspn(p, " ") + 1)
                        if (strncmp(p, flag, n) == 0 && p[n] == ' ')
                                return true;
        }
        return false;
}

/* A growing string. */
struct sbuf {
        char *s;
        size_t len, cap;
};

static void sb_addn(struct sbuf *b, const char *p, size_t n)
{
        if (n == 0)
                return; /* nothing allocated for nothing: an empty word may be dropped */
        if (b->s == NULL || b->len + n + 1 > b->cap) {
                b->cap = (b->len + n + 1) * 2;
                b->s = berth_xrealloc(b->s, b->cap);
        }
        memcpy(b->s + b->len, p, n);
        b->len += n;
        b->s[b->len] = '\0';
}

static void sb_addc(struct sbuf *b, char c)
{
        sb_addn(b, &c, 1);
}

static char *sb_take(struct sbuf *b)
{
        char *s = b->s ? b->s : berth_xstrdup("");
        b->s = NULL;
        b->len = b->cap = 0;
        return s;
}

static bool blank(const char *p, const char *end)
{
        for (; p < end; p++)
                if (!isspace((unsigned char) *p))
                        return false;
        return true;
}

static void instr_free(struct img_cf_instr *in)
{
        free(in->cmd);
        free(in->text);
        for (size_t i = 0; i < in->n_flags; i++)
                free(in->flags[i]);
        free(in->flags);
        free(in->rest);
        for (size_t i = 0; i < in->argc; i++)
                free(in->argv[i]);
        free(in->argv);
}

void img_cf_free(struct img_cf *cf)
{
        for (size_t i = 0; i < cf->n; i++)
                instr_free(&cf->v[i]);
        free(cf->v);
        cf->v = NULL;
        cf->n = 0;
}

/* One logical instruction (continuations joined) into in. */
static int split_instr(const char *text, int line, struct img_cf_instr *in, berth_error_t *err)
{
        memset(in, 0, sizeof(*in));
        in->line = line;
        in->text = berth_xstrdup(text);
        const char *p = text;
        const char *w = p;
        while (*p && !isspace((unsigned char) *p))
                p++;
        in->cmd = berth_xasprintf("%.*s", (int) (p - w), w);
        for (char *c = in->cmd; *c; c++)
                *c = (char) toupper((unsigned char) *c);
        bool ok = false;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(known); i++)
                ok |= strcmp(in->cmd, known[i]) == 0;
        if (!ok)
                return berth_fail_status(err, 125, 0, "line %d: unknown instruction: %s", line,
                                         in->cmd);
        for (;;) {
                while (isspace((unsigned char) *p))
                        p++;
                if (strncmp(p, "--", 2) != 0 || !isalpha((unsigned char) p[2]))
                        break;
                w = p + 2;
                while (*p && !isspace((unsigned char) *p))
                        p++;
                in->flags = berth_xrealloc(in->flags, (in->n_flags + 1) * sizeof(char *));
                in->flags[in->n_flags++] = berth_xasprintf("%.*s", (int) (p - w), w);
                if (!flag_allowed(in->cmd, in->flags[in->n_flags - 1]))
                        return berth_fail_status(err, 125, 0, "line %d: %s does not support --%.*s",
                                                 line, in->cmd,
                                                 (int) strcspn(in->flags[in->n_flags - 1], "="),
                                                 in->flags[in->n_flags - 1]);
        }
        size_t n = strlen(p);
        while (n && isspace((unsigned char) p[n - 1]))
                n--;
        in->rest = berth_xasprintf("%.*s", (int) n, p);
        if (n == 0)
                return berth_fail_status(err, 125, 0, "line %d: %s requires at least one argument",
                                         line, in->cmd);
        if (in->rest[0] == '[') {
                json_t *j = json_loads(in->rest, JSON_DECODE_ANY, NULL);
                bool strings = json_is_array(j);
                size_t i;
                json_t *v;
                json_array_foreach(j, i, v)
                {
                        strings &= json_is_string(v);
                }
                if (strings) {
                        in->json = true;
                        in->argc = json_array_size(j);
                        in->argv = berth_xcalloc(in->argc + 1, sizeof(char *));
                        json_array_foreach(j, i, v)
                        {
                                in->argv[i] = berth_xstrdup(json_string_value(v));
                        }
                }
                json_decref(j);
        }
        return 0;
}

int img_cf_parse(const char *text, struct img_cf *out, berth_error_t *err)
{
        memset(out, 0, sizeof(*out));
        struct sbuf cur = {0};
        int line = 0, start = 0;
        bool seen_from = false;
        const char *p = text;
        int ret = 0;
        while (*p && ret == 0) {
                const char *eol = strchr(p, '\n');
                const char *end = eol ? eol : p + strlen(p);
                line++;
                const char *q = p;
                while (q < end && isspace((unsigned char) *q))
                        q++;
                p = eol ? eol + 1 : end;
                /* comments are whole lines, also in the middle of a continued instruction;
                 * empty lines inside a continuation are skipped too */
                if (q == end || *q == '#')
                        continue;
                const char *e = end;
                while (e > q && isspace((unsigned char) e[-1]))
                        e--;
                bool cont = e > q && e[-1] == '\\';
                if (cont)
                        e--;
                if (cur.len == 0)
                        start = line;
                sb_addn(&cur, q, (size_t) (e - q));
                if (cont && *p) {
                        if (cur.len > 0) /* a lone `\` line starts nothing to separate */
                                sb_addc(&cur, ' ');
                        continue;
                }
                /* a lone `\` adds nothing: cur.s may still be NULL, and NULL + 0 is
                 * undefined behaviour (UBSan found it fuzzing) */
                if (cur.len == 0 || blank(cur.s, cur.s + cur.len)) {
                        free(sb_take(&cur));
                        continue;
                }
                out->v = berth_xrealloc(out->v, (out->n + 1) * sizeof(*out->v));
                struct img_cf_instr *in = &out->v[out->n++];
                char *t = sb_take(&cur);
                ret = split_instr(t, start, in, err);
                free(t);
                if (ret == 0 && strcmp(in->cmd, "FROM") == 0)
                        seen_from = true;
                else if (ret == 0 && !seen_from && strcmp(in->cmd, "ARG") != 0)
                        ret = berth_fail_status(err, 125, 0,
                                                "line %d: %s before the first FROM (only ARG may "
                                                "come first)",
                                                start, in->cmd);
        }
        free(cur.s);
        if (ret == 0 && !seen_from)
                ret = berth_fail_status(err, 125, 0, "no FROM instruction");
        if (ret < 0)
                img_cf_free(out);
        return ret;
}

const char *img_cf_flag(const struct img_cf_instr *in, const char *name)
{
        size_t n = strlen(name);
        for (size_t i = in->n_flags; i-- > 0;) {
                const char *f = in->flags[i];
                if (strncmp(f, name, n) == 0 && (f[n] == '=' || f[n] == '\0'))
                        return f[n] ? f + n + 1 : f + n;
        }
        return NULL;
}

/* $NAME, ${NAME}, ${NAME:-word}, ${NAME:+word} at *pp (just after the '$'). */
static int expand_var(const char **pp, img_cf_lookup_fn lookup, void *ctx, struct sbuf *b,
                      berth_error_t *err)
{
        const char *p = *pp;
        if (*p != '{') {
                const char *s = p;
                while (isalnum((unsigned char) *p) || *p == '_')
                        p++;
                if (p == s) { /* a lone '$' stays */
                        sb_addc(b, '$');
                        return 0;
                }
                char *name = berth_xasprintf("%.*s", (int) (p - s), s);
                const char *v = lookup(ctx, name);
                free(name);
                if (v)
                        sb_addn(b, v, strlen(v));
                *pp = p;
                return 0;
        }
        const char *s = ++p;
        while (isalnum((unsigned char) *p) || *p == '_')
                p++;
        if (p == s)
                return berth_fail_status(err, 125, 0, "bad substitution: `%s`", s - 2);
        char *name = berth_xasprintf("%.*s", (int) (p - s), s);
        const char *v = lookup(ctx, name);
        free(name);
        char mod = 0;
        const char *word = NULL, *wend = NULL;
        if (p[0] == ':' && (p[1] == '-' || p[1] == '+')) {
                mod = p[1];
                word = p + 2;
                int depth = 1;
                for (wend = word; *wend && depth; wend++) {
                        if (*wend == '{')
                                depth++;
                        else if (*wend == '}')
                                depth--;
                }
                if (depth)
                        return berth_fail_status(err, 125, 0, "missing '}' in `%s`", s - 2);
                p = wend; /* after the '}' */
                wend--;
        } else if (*p == '}') {
                p++;
        } else {
                return berth_fail_status(err, 125, 0, "bad substitution: `%s`", s - 2);
        }
        bool set = v && *v;
        if ((mod == '-' && !set) || (mod == '+' && set)) {
                /* the word may itself hold variables */
                char *w = berth_xasprintf("%.*s", (int) (wend - word), word);
                char **sub = NULL;
                size_t n = 0;
                int r = img_cf_words(w, lookup, ctx, false, &sub, &n, err);
                free(w);
                if (r < 0)
                        return -1;
                if (n)
                        sb_addn(b, sub[0], strlen(sub[0]));
                img_cf_words_free(sub, n);
        } else if (v && (mod == 0 || (mod == '-' && set))) {
                sb_addn(b, v, strlen(v));
        }
        *pp = p;
        return 0;
}

void img_cf_words_free(char **w, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(w[i]);
        free(w);
}

int img_cf_words(const char *in, img_cf_lookup_fn lookup, void *ctx, bool split, char ***out,
                 size_t *n, berth_error_t *err)
{
        char **v = NULL;
        size_t nv = 0;
        struct sbuf b = {0};
        bool have = false; /* a quoted (maybe empty) word started */
        const char *p = in;
        if (split)
                while (isspace((unsigned char) *p))
                        p++;
        while (*p) {
                char c = *p;
                if (split && isspace((unsigned char) c)) {
                        while (isspace((unsigned char) *p))
                                p++;
                        /* an unquoted expansion to nothing is no word, as in the shell */
                        if (have || b.len) {
                                v = berth_xrealloc(v, (nv + 1) * sizeof(char *));
                                v[nv++] = sb_take(&b);
                        }
                        have = false;
                        continue;
                }
                if (c == '\'' || c == '"' || c == '\\')
                        have = true;
                if (c == '\\' && p[1]) {
                        sb_addc(&b, p[1]);
                        p += 2;
                } else if (c == '\'') {
                        const char *e = strchr(p + 1, '\'');
                        if (e == NULL)
                                goto unterminated;
                        sb_addn(&b, p + 1, (size_t) (e - p - 1));
                        p = e + 1;
                } else if (c == '"') {
                        p++;
                        while (*p && *p != '"') {
                                if (*p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == '$')) {
                                        sb_addc(&b, p[1]);
                                        p += 2;
                                } else if (*p == '$' && lookup) {
                                        p++;
                                        if (expand_var(&p, lookup, ctx, &b, err) < 0)
                                                goto fail;
                                } else {
                                        sb_addc(&b, *p++);
                                }
                        }
                        if (*p != '"')
                                goto unterminated;
                        p++;
                } else if (c == '$' && lookup) {
                        p++;
                        if (expand_var(&p, lookup, ctx, &b, err) < 0)
                                goto fail;
                } else {
                        sb_addc(&b, c);
                        p++;
                }
        }
        if (have || b.len || !split) {
                v = berth_xrealloc(v, (nv + 1) * sizeof(char *));
                v[nv++] = sb_take(&b);
        }
        *out = v;
        *n = nv;
        return 0;
unterminated:
        berth_fail_status(err, 125, 0, "unterminated quote in `%s`", in);
fail:
        free(b.s);
        img_cf_words_free(v, nv);
        return -1;
}
