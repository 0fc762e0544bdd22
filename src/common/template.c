/* template.c — a Go text/template subset over JSON values (see template.h).
 *
 * Parsing builds a small tree (text, actions, if/range/with blocks); each
 * action is a pipeline of commands whose operands are fields, variables,
 * literals, sub-pipelines or function names.  Evaluation works on jansson
 * values with explicit references: every eval returns a new reference. */
#include "common/template.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

enum arg_kind { A_DOT, A_FIELD, A_VAR, A_STRING, A_NUMBER, A_BOOL, A_NIL, A_FUNC, A_PIPE };

struct pipe;

struct arg {
        enum arg_kind kind;
        char *name;  /* A_VAR: variable name ("$" is the root); A_FUNC: function name */
        char **path; /* A_FIELD / A_VAR: field chain */
        size_t n_path;
        char *str;  /* A_STRING */
        double num; /* A_NUMBER */
        bool b;     /* A_BOOL */
        struct pipe *sub;
};

struct cmd {
        struct arg *args;
        size_t n;
};

struct pipe {
        struct cmd *cmds;
        size_t n;
        char *decl[2]; /* range $k, $v := ... / $v := ... */
        size_t n_decl;
};

enum node_kind { N_TEXT, N_ACTION, N_IF, N_RANGE, N_WITH };

struct node {
        enum node_kind kind;
        char *text;
        struct pipe *pipe;
        struct node *body, *else_body;
        struct node *next;
};

struct berth_tmpl {
        struct node *root;
};

/* ---------------------------------------------------------------- parser */

struct parser {
        const char *src, *p;
        berth_error_t *err;
        bool trim_next; /* the previous action ended with -}} */
};

static int perr(struct parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(struct parser *ps, const char *fmt, ...)
{
        char buf[256];
        va_list ap;
        va_start(ap, fmt);
        /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is just above */
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        return berth_fail_status(ps->err, 1, EINVAL, "template parsing error at offset %ld: %s",
                                 (long) (ps->p - ps->src), buf);
}

static void skip_space(struct parser *ps)
{
        while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')
                ps->p++;
}

static bool at_close(struct parser *ps)
{
        return strncmp(ps->p, "}}", 2) == 0 || strncmp(ps->p, "-}}", 3) == 0;
}

static bool ident_char(char c)
{
        return isalnum((unsigned char) c) || c == '_';
}

static char *read_ident(struct parser *ps)
{
        const char *s = ps->p;
        while (ident_char(*ps->p))
                ps->p++;
        return strndup(s, (size_t) (ps->p - s));
}

static void free_pipe(struct pipe *pp);

static void free_arg(struct arg *a)
{
        free(a->name);
        for (size_t i = 0; i < a->n_path; i++)
                free(a->path[i]);
        free(a->path);
        free(a->str);
        free_pipe(a->sub);
}

static void free_pipe(struct pipe *pp)
{
        if (pp == NULL)
                return;
        for (size_t i = 0; i < pp->n; i++) {
                for (size_t j = 0; j < pp->cmds[i].n; j++)
                        free_arg(&pp->cmds[i].args[j]);
                free(pp->cmds[i].args);
        }
        free(pp->cmds);
        for (size_t i = 0; i < pp->n_decl; i++)
                free(pp->decl[i]);
        free(pp);
}

static void free_nodes(struct node *n)
{
        while (n) {
                struct node *next = n->next;
                free(n->text);
                free_pipe(n->pipe);
                free_nodes(n->body);
                free_nodes(n->else_body);
                free(n);
                n = next;
        }
}

/* ".A.B" after the leading dot has been seen (or after $var). */
static void read_path(struct parser *ps, struct arg *a)
{
        while (*ps->p == '.' && ident_char(ps->p[1])) {
                ps->p++;
                a->path = berth_xrealloc(a->path, (a->n_path + 1) * sizeof(char *));
                a->path[a->n_path++] = read_ident(ps);
        }
}

static struct pipe *parse_pipe(struct parser *ps, bool in_paren);

static int parse_string(struct parser *ps, struct arg *a)
{
        char quote = *ps->p++;
        size_t cap = 16, n = 0;
        char *s = berth_xmalloc(cap);
        while (*ps->p && *ps->p != quote) {
                char c = *ps->p++;
                if (quote == '"' && c == '\\') {
                        c = *ps->p++;
                        switch (c) {
                        case 'n':
                                c = '\n';
                                break;
                        case 't':
                                c = '\t';
                                break;
                        case '\\':
                        case '"':
                                break;
                        default:
                                free(s);
                                return perr(ps, "unsupported escape \\%c in string", c);
                        }
                }
                if (n + 2 > cap)
                        s = berth_xrealloc(s, cap *= 2);
                s[n++] = c;
        }
        if (*ps->p != quote) {
                free(s);
                return perr(ps, "unterminated string");
        }
        ps->p++;
        s[n] = '\0';
        a->kind = A_STRING;
        a->str = s;
        return 0;
}

static int parse_operand(struct parser *ps, struct arg *a)
{
        memset(a, 0, sizeof(*a));
        char c = *ps->p;
        if (c == '.') {
                if (ident_char(ps->p[1])) {
                        a->kind = A_FIELD;
                        read_path(ps, a);
                } else {
                        a->kind = A_DOT;
                        ps->p++;
                }
                return 0;
        }
        if (c == '$') {
                ps->p++;
                a->kind = A_VAR;
                a->name = ident_char(*ps->p) ? read_ident(ps) : berth_xstrdup("");
                read_path(ps, a);
                return 0;
        }
        if (c == '"' || c == '`')
                return parse_string(ps, a);
        if (isdigit((unsigned char) c) || (c == '-' && isdigit((unsigned char) ps->p[1]))) {
                char *end;
                a->kind = A_NUMBER;
                a->num = strtod(ps->p, &end);
                ps->p = end;
                return 0;
        }
        if (c == '(') {
                ps->p++;
                a->kind = A_PIPE;
                a->sub = parse_pipe(ps, true);
                if (a->sub == NULL)
                        return -1;
                if (*ps->p != ')')
                        return perr(ps, "missing )");
                ps->p++;
                read_path(ps, a);
                return 0;
        }
        if (isalpha((unsigned char) c) || c == '_') {
                char *id = read_ident(ps);
                if (strcmp(id, "true") == 0 || strcmp(id, "false") == 0) {
                        a->kind = A_BOOL;
                        a->b = id[0] == 't';
                        free(id);
                } else if (strcmp(id, "nil") == 0) {
                        a->kind = A_NIL;
                        free(id);
                } else {
                        a->kind = A_FUNC;
                        a->name = id;
                }
                return 0;
        }
        return perr(ps, "unexpected character `%c` in action", c);
}

static struct pipe *parse_pipe(struct parser *ps, bool in_paren)
{
        struct pipe *pp = berth_xcalloc(1, sizeof(*pp));
        skip_space(ps);
        /* declarations: $v := ...  or  $k, $v := ... */
        const char *save = ps->p;
        if (*ps->p == '$' && !in_paren) {
                char *names[2] = {NULL, NULL};
                size_t n = 0;
                while (*ps->p == '$' && n < 2) {
                        ps->p++;
                        names[n++] = read_ident(ps);
                        skip_space(ps);
                        if (*ps->p != ',')
                                break;
                        ps->p++;
                        skip_space(ps);
                }
                if (strncmp(ps->p, ":=", 2) == 0) {
                        ps->p += 2;
                        pp->decl[0] = names[0];
                        pp->decl[1] = names[1];
                        pp->n_decl = n;
                } else {
                        free(names[0]);
                        free(names[1]);
                        ps->p = save;
                }
        }
        for (;;) {
                skip_space(ps);
                struct cmd c = {0};
                while (*ps->p && !at_close(ps) && *ps->p != '|' && *ps->p != ')') {
                        struct arg a;
                        if (parse_operand(ps, &a) < 0) {
                                free_arg(&a);
                                for (size_t i = 0; i < c.n; i++)
                                        free_arg(&c.args[i]);
                                free(c.args);
                                free_pipe(pp);
                                return NULL;
                        }
                        c.args = berth_xrealloc(c.args, (c.n + 1) * sizeof(*c.args));
                        c.args[c.n++] = a;
                        skip_space(ps);
                }
                if (c.n == 0) {
                        free(c.args);
                        perr(ps, "missing value in pipeline");
                        free_pipe(pp);
                        return NULL;
                }
                pp->cmds = berth_xrealloc(pp->cmds, (pp->n + 1) * sizeof(*pp->cmds));
                pp->cmds[pp->n++] = c;
                if (*ps->p != '|')
                        break;
                ps->p++;
        }
        if (*ps->p == '\0') {
                perr(ps, "unclosed action");
                free_pipe(pp);
                return NULL;
        }
        return pp;
}

/* After the pipeline: "}}" or " -}}" (trim the following text's leading space). */
static int close_action(struct parser *ps)
{
        skip_space(ps);
        if (strncmp(ps->p, "-}}", 3) == 0) {
                ps->p += 3;
                ps->trim_next = true;
                return 0;
        }
        if (strncmp(ps->p, "}}", 2) == 0) {
                ps->p += 2;
                return 0;
        }
        return perr(ps, "expected }}");
}

enum stop { STOP_EOF, STOP_END, STOP_ELSE };

static int parse_list(struct parser *ps, struct node **out, enum stop *stop);

static int parse_block(struct parser *ps, enum node_kind kind, struct node *n)
{
        n->kind = kind;
        n->pipe = parse_pipe(ps, false);
        if (n->pipe == NULL || close_action(ps) < 0)
                return -1;
        enum stop st;
        if (parse_list(ps, &n->body, &st) < 0)
                return -1;
        if (st == STOP_ELSE && parse_list(ps, &n->else_body, &st) < 0)
                return -1;
        if (st != STOP_END)
                return perr(ps, "missing {{end}}");
        return 0;
}

static int parse_list(struct parser *ps, struct node **out, enum stop *stop)
{
        struct node **tail = out;
        *out = NULL;
        *stop = STOP_EOF; /* defined on the error paths too */
        for (;;) {
                const char *open = strstr(ps->p, "{{");
                size_t tlen = open ? (size_t) (open - ps->p) : strlen(ps->p);
                const char *text = ps->p;
                if (ps->trim_next) {
                        while (tlen && isspace((unsigned char) *text)) {
                                text++;
                                tlen--;
                        }
                        ps->trim_next = false;
                }
                bool trim_prev = open && open[2] == '-' && open[3] == ' ';
                if (trim_prev)
                        while (tlen && isspace((unsigned char) text[tlen - 1]))
                                tlen--;
                if (tlen) {
                        struct node *n = berth_xcalloc(1, sizeof(*n));
                        n->kind = N_TEXT;
                        n->text = strndup(text, tlen);
                        *tail = n;
                        tail = &n->next;
                }
                if (open == NULL) {
                        *stop = STOP_EOF;
                        return 0;
                }
                ps->p = open + 2 + (trim_prev ? 1 : 0);
                skip_space(ps);
                /* comments */
                if (strncmp(ps->p, "/*", 2) == 0) {
                        const char *e = strstr(ps->p, "*/");
                        if (e == NULL)
                                return perr(ps, "unclosed comment");
                        ps->p = e + 2;
                        if (close_action(ps) < 0)
                                return -1;
                        continue;
                }
                const char *kw = ps->p;
                char *word = isalpha((unsigned char) *kw) ? read_ident(ps) : NULL;
                enum node_kind kind = N_ACTION;
                bool block = false;
                if (word && strcmp(word, "end") == 0) {
                        free(word);
                        *stop = STOP_END;
                        return close_action(ps);
                }
                if (word && strcmp(word, "else") == 0) {
                        free(word);
                        *stop = STOP_ELSE;
                        return close_action(ps);
                }
                if (word && (strcmp(word, "if") == 0 || strcmp(word, "range") == 0 ||
                             strcmp(word, "with") == 0)) {
                        kind = word[0] == 'i' ? N_IF : word[0] == 'r' ? N_RANGE : N_WITH;
                        block = true;
                } else {
                        ps->p = kw; /* a function name: part of the pipeline */
                }
                free(word);
                struct node *n = berth_xcalloc(1, sizeof(*n));
                *tail = n;
                tail = &n->next;
                if (block) {
                        if (parse_block(ps, kind, n) < 0)
                                return -1;
                        continue;
                }
                n->kind = N_ACTION;
                n->pipe = parse_pipe(ps, false);
                if (n->pipe == NULL || close_action(ps) < 0)
                        return -1;
        }
}

/* Docker's CLI turns a literal backslash-t / backslash-n in --format into a
 * tab / newline before parsing. */
static char *unescape_format(const char *src)
{
        char *s = berth_xstrdup(src), *w = s;
        for (const char *r = src; *r; r++) {
                if (r[0] == '\\' && (r[1] == 't' || r[1] == 'n')) {
                        *w++ = r[1] == 't' ? '\t' : '\n';
                        r++;
                } else {
                        *w++ = *r;
                }
        }
        *w = '\0';
        return s;
}

int berth_tmpl_parse(const char *src, struct berth_tmpl **out, berth_error_t *err)
{
        cleanup_free char *text = unescape_format(src);
        struct parser ps = {.src = text, .p = text, .err = err};
        struct berth_tmpl *t = berth_xcalloc(1, sizeof(*t));
        enum stop st;
        if (parse_list(&ps, &t->root, &st) < 0) {
                berth_tmpl_free(t);
                return -1;
        }
        if (st != STOP_EOF) {
                berth_tmpl_free(t);
                perr(&ps, "unexpected {{%s}}", st == STOP_END ? "end" : "else");
                return -1;
        }
        *out = t;
        return 0;
}

void berth_tmpl_free(struct berth_tmpl *t)
{
        if (t == NULL)
                return;
        free_nodes(t->root);
        free(t);
}

/* ------------------------------------------------------------- evaluation */

struct var {
        char *name;
        json_t *value;
};

struct exec {
        json_t *root;
        struct var vars[32];
        size_t n_vars;
        char *out;
        size_t len, cap;
        berth_error_t *err;
};

static int eerr(struct exec *ex, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int eerr(struct exec *ex, const char *fmt, ...)
{
        char buf[256];
        va_list ap;
        va_start(ap, fmt);
        /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is just above */
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        return berth_fail_status(ex->err, 1, EINVAL, "template: %s", buf);
}

static void emit(struct exec *ex, const char *s, size_t n)
{
        if (ex->len + n + 1 > ex->cap) {
                ex->cap = (ex->len + n + 1) * 2;
                ex->out = berth_xrealloc(ex->out, ex->cap);
        }
        memcpy(ex->out + ex->len, s, n);
        ex->len += n;
        ex->out[ex->len] = '\0';
}

static const char *type_name(const json_t *v)
{
        if (v == NULL)
                return "nil";
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "map";
        case JSON_ARRAY:
                return "slice";
        case JSON_STRING:
                return "string";
        case JSON_INTEGER:
                return "int";
        case JSON_REAL:
                return "float64";
        case JSON_TRUE:
        case JSON_FALSE:
                return "bool";
        case JSON_NULL:
                return "nil";
        }
        return "?";
}

static bool truthy(const json_t *v)
{
        if (v == NULL)
                return false;
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return json_object_size(v) > 0;
        case JSON_ARRAY:
                return json_array_size(v) > 0;
        case JSON_STRING:
                return json_string_length(v) > 0;
        case JSON_INTEGER:
                return json_integer_value(v) != 0;
        case JSON_REAL:
                return json_real_value(v) != 0;
        case JSON_TRUE:
                return true;
        default:
                return false;
        }
}

static int cmp_keys(const void *a, const void *b)
{
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

/* Go's map iteration order in templates is sorted by key. */
static const char **sorted_keys(json_t *obj, size_t *n)
{
        *n = json_object_size(obj);
        const char **keys = berth_xcalloc(*n ? *n : 1, sizeof(char *));
        size_t i = 0;
        const char *k;
        json_t *v;
        json_object_foreach(obj, k, v) keys[i++] = k;
        qsort(keys, *n, sizeof(char *), cmp_keys);
        return keys;
}

/* How Go's fmt prints a value with %v. */
static void print_value(struct exec *ex, json_t *v)
{
        char buf[64];
        switch (json_typeof(v)) {
        case JSON_STRING:
                emit(ex, json_string_value(v), json_string_length(v));
                return;
        case JSON_INTEGER:
                snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                break;
        case JSON_REAL:
                snprintf(buf, sizeof(buf), "%g", json_real_value(v));
                break;
        case JSON_TRUE:
                snprintf(buf, sizeof(buf), "true");
                break;
        case JSON_FALSE:
                snprintf(buf, sizeof(buf), "false");
                break;
        case JSON_NULL:
                snprintf(buf, sizeof(buf), "<nil>");
                break;
        case JSON_ARRAY: {
                emit(ex, "[", 1);
                for (size_t i = 0; i < json_array_size(v); i++) {
                        if (i)
                                emit(ex, " ", 1);
                        print_value(ex, json_array_get(v, i));
                }
                emit(ex, "]", 1);
                return;
        }
        case JSON_OBJECT: {
                size_t n;
                const char **keys = sorted_keys(v, &n);
                emit(ex, "map[", 4);
                for (size_t i = 0; i < n; i++) {
                        if (i)
                                emit(ex, " ", 1);
                        emit(ex, keys[i], strlen(keys[i]));
                        emit(ex, ":", 1);
                        print_value(ex, json_object_get(v, keys[i]));
                }
                emit(ex, "]", 1);
                free(keys);
                return;
        }
        }
        emit(ex, buf, strlen(buf));
}

/* Render a value to a new string with %v. */
static char *value_text(json_t *v)
{
        struct exec tmp = {0};
        print_value(&tmp, v);
        return tmp.out ? tmp.out : berth_xstrdup("");
}

static json_t *walk(struct exec *ex, json_t *v, char *const *path, size_t n)
{
        json_incref(v);
        for (size_t i = 0; i < n; i++) {
                if (!json_is_object(v)) {
                        eerr(ex, "can't evaluate field %s in type %s", path[i], type_name(v));
                        json_decref(v);
                        return NULL;
                }
                json_t *next = json_object_get(v, path[i]);
                if (next == NULL) {
                        eerr(ex, "can't evaluate field %s: no such field", path[i]);
                        json_decref(v);
                        return NULL;
                }
                json_incref(next);
                json_decref(v);
                v = next;
        }
        return v;
}

static json_t *eval_pipe(struct exec *ex, const struct pipe *pp, json_t *dot);

static json_t *lookup_var(struct exec *ex, const char *name)
{
        if (*name == '\0')
                return ex->root;
        for (size_t i = ex->n_vars; i-- > 0;)
                if (strcmp(ex->vars[i].name, name) == 0)
                        return ex->vars[i].value;
        return NULL;
}

static json_t *eval_arg(struct exec *ex, const struct arg *a, json_t *dot)
{
        switch (a->kind) {
        case A_DOT:
                return json_incref(dot);
        case A_FIELD:
                return walk(ex, dot, a->path, a->n_path);
        case A_VAR: {
                json_t *v = lookup_var(ex, a->name);
                if (v == NULL) {
                        eerr(ex, "undefined variable $%s", a->name);
                        return NULL;
                }
                return walk(ex, v, a->path, a->n_path);
        }
        case A_STRING:
                return json_string(a->str);
        case A_NUMBER:
                if (a->num == (double) (json_int_t) a->num)
                        return json_integer((json_int_t) a->num);
                return json_real(a->num);
        case A_BOOL:
                return json_boolean(a->b);
        case A_NIL:
                return json_null();
        case A_PIPE: {
                json_t *v = eval_pipe(ex, a->sub, dot);
                if (v == NULL)
                        return NULL;
                json_t *r = walk(ex, v, a->path, a->n_path);
                json_decref(v);
                return r;
        }
        case A_FUNC:
                eerr(ex, "function %s used as a value", a->name);
                return NULL;
        }
        return NULL;
}

static bool json_equal_loose(json_t *a, json_t *b)
{
        if (json_is_number(a) && json_is_number(b))
                return json_number_value(a) == json_number_value(b);
        return json_equal(a, b);
}

static char *title_case(const char *s)
{
        char *r = berth_xstrdup(s);
        bool start = true;
        for (char *p = r; *p; p++) {
                if (start && islower((unsigned char) *p))
                        *p = (char) toupper((unsigned char) *p);
                start = isspace((unsigned char) *p);
        }
        return r;
}

/* printf with Go verbs %s %v %d %q %%, the '-' flag, a width and (for
 * strings) a precision.  The format comes from the user, so it is
 * interpreted here and never handed to the C library's printf. */
static char *go_printf(const char *fmt, json_t **args, size_t n)
{
        struct exec tmp = {0};
        size_t ai = 0;
        for (const char *p = fmt; *p; p++) {
                if (*p != '%') {
                        emit(&tmp, p, 1);
                        continue;
                }
                p++;
                bool left = false;
                while (*p == '-' || *p == '+' || *p == '#' || *p == ' ' || *p == '0') {
                        left |= *p == '-';
                        p++;
                }
                size_t width = 0, prec = (size_t) -1;
                while (isdigit((unsigned char) *p) && width < 1024)
                        width = width * 10 + (size_t) (*p++ - '0');
                if (*p == '.') {
                        prec = 0;
                        for (p++; isdigit((unsigned char) *p) && prec < 1024; p++)
                                prec = prec * 10 + (size_t) (*p - '0');
                }
                while (isdigit((unsigned char) *p))
                        p++;
                if (*p == '\0')
                        break;
                if (*p == '%') {
                        emit(&tmp, "%", 1);
                        continue;
                }
                json_t *v = ai < n ? args[ai++] : NULL;
                char *text;
                if (v == NULL)
                        text = berth_xasprintf("%%!%c(MISSING)", *p);
                else if (*p == 'q')
                        text = json_dumps(v, JSON_ENCODE_ANY);
                else if (*p == 'd' && json_is_number(v))
                        text = berth_xasprintf("%lld", (long long) json_number_value(v));
                else
                        text = value_text(v);
                size_t len = strlen(text);
                if (*p == 's' && prec < len)
                        len = prec;
                size_t pad = width > len ? width - len : 0;
                for (size_t i = 0; !left && i < pad; i++)
                        emit(&tmp, " ", 1);
                emit(&tmp, text, len);
                for (size_t i = 0; left && i < pad; i++)
                        emit(&tmp, " ", 1);
                free(text);
        }
        return tmp.out ? tmp.out : berth_xstrdup("");
}

static json_t *call(struct exec *ex, const char *fn, json_t **a, size_t n)
{
#define NEED(k)                                                                             \
        do {                                                                                \
                if (n != (k)) {                                                             \
                        eerr(ex, "wrong number of args for %s: want %d got %zu", fn, k, n); \
                        return NULL;                                                        \
                }                                                                           \
        } while (0)
        if (strcmp(fn, "json") == 0) {
                NEED(1);
                char *s = json_dumps(a[0], JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
                json_t *r = json_string(s ? s : "null");
                free(s);
                return r;
        }
        if (strcmp(fn, "upper") == 0 || strcmp(fn, "lower") == 0 || strcmp(fn, "title") == 0) {
                NEED(1);
                cleanup_free char *s = value_text(a[0]);
                if (fn[0] == 't') {
                        cleanup_free char *t = title_case(s);
                        return json_string(t);
                }
                for (char *p = s; *p; p++)
                        *p = (char) (fn[0] == 'u' ? toupper((unsigned char) *p)
                                                  : tolower((unsigned char) *p));
                return json_string(s);
        }
        if (strcmp(fn, "join") == 0) {
                NEED(2);
                if (!json_is_array(a[0])) {
                        eerr(ex, "join: first argument is %s, not a slice", type_name(a[0]));
                        return NULL;
                }
                cleanup_free char *sep = value_text(a[1]);
                struct exec tmp = {0};
                for (size_t i = 0; i < json_array_size(a[0]); i++) {
                        if (i)
                                emit(&tmp, sep, strlen(sep));
                        print_value(&tmp, json_array_get(a[0], i));
                }
                json_t *r = json_string(tmp.out ? tmp.out : "");
                free(tmp.out);
                return r;
        }
        if (strcmp(fn, "split") == 0) {
                NEED(2);
                cleanup_free char *s = value_text(a[0]);
                cleanup_free char *sep = value_text(a[1]);
                json_t *r = json_array();
                size_t sl = strlen(sep);
                char *p = s;
                for (char *q; sl && (q = strstr(p, sep)); p = q + sl)
                        json_array_append_new(r, json_stringn(p, (size_t) (q - p)));
                json_array_append_new(r, json_string(p));
                return r;
        }
        if (strcmp(fn, "index") == 0) {
                if (n < 2) {
                        eerr(ex, "index: want at least 2 args");
                        return NULL;
                }
                json_t *v = a[0];
                for (size_t i = 1; i < n; i++) {
                        if (json_is_object(v) && json_is_string(a[i]))
                                v = json_object_get(v, json_string_value(a[i]));
                        else if (json_is_array(v) && json_is_integer(a[i]))
                                v = json_array_get(v, (size_t) json_integer_value(a[i]));
                        else {
                                eerr(ex, "index of %s with %s", type_name(v), type_name(a[i]));
                                return NULL;
                        }
                        if (v == NULL)
                                return json_null(); /* Go: the zero value */
                }
                return json_incref(v);
        }
        if (strcmp(fn, "len") == 0) {
                NEED(1);
                if (json_is_array(a[0]))
                        return json_integer((json_int_t) json_array_size(a[0]));
                if (json_is_object(a[0]))
                        return json_integer((json_int_t) json_object_size(a[0]));
                if (json_is_string(a[0]))
                        return json_integer((json_int_t) json_string_length(a[0]));
                eerr(ex, "len of %s", type_name(a[0]));
                return NULL;
        }
        if (strcmp(fn, "print") == 0 || strcmp(fn, "println") == 0) {
                struct exec tmp = {0};
                for (size_t i = 0; i < n; i++) {
                        bool space = fn[5] == 'l' ? i > 0
                                                  : i > 0 && !json_is_string(a[i]) &&
                                                            !json_is_string(a[i - 1]);
                        if (space)
                                emit(&tmp, " ", 1);
                        print_value(&tmp, a[i]);
                }
                if (fn[5] == 'l')
                        emit(&tmp, "\n", 1);
                json_t *r = json_string(tmp.out ? tmp.out : "");
                free(tmp.out);
                return r;
        }
        if (strcmp(fn, "printf") == 0) {
                if (n < 1 || !json_is_string(a[0])) {
                        eerr(ex, "printf: want a format string");
                        return NULL;
                }
                cleanup_free char *s = go_printf(json_string_value(a[0]), a + 1, n - 1);
                return json_string(s);
        }
        if (strcmp(fn, "truncate") == 0) {
                NEED(2);
                cleanup_free char *s = value_text(a[0]);
                json_int_t l = json_integer_value(a[1]);
                if (l >= 0 && (size_t) l < strlen(s))
                        s[l] = '\0';
                return json_string(s);
        }
        if (strcmp(fn, "pad") == 0) {
                NEED(3);
                cleanup_free char *s = value_text(a[0]);
                json_int_t l = json_integer_value(a[1]), r = json_integer_value(a[2]);
                if (l < 0 || r < 0 || l > 256 || r > 256) {
                        eerr(ex, "pad: widths must be 0..256");
                        return NULL;
                }
                cleanup_free char *p = berth_xasprintf("%*s%s%*s", (int) l, "", s, (int) r, "");
                return json_string(p);
        }
        if (strcmp(fn, "eq") == 0 || strcmp(fn, "ne") == 0) {
                if (n < 2) {
                        eerr(ex, "%s: want at least 2 args", fn);
                        return NULL;
                }
                bool eq = false;
                for (size_t i = 1; i < n; i++)
                        eq |= json_equal_loose(a[0], a[i]);
                return json_boolean(fn[0] == 'e' ? eq : !eq);
        }
        if (strcmp(fn, "not") == 0) {
                NEED(1);
                return json_boolean(!truthy(a[0]));
        }
        if (strcmp(fn, "and") == 0 || strcmp(fn, "or") == 0) {
                if (n < 1) {
                        eerr(ex, "%s: want at least 1 arg", fn);
                        return NULL;
                }
                for (size_t i = 0; i < n - 1; i++)
                        if (truthy(a[i]) == (fn[0] == 'o'))
                                return json_incref(a[i]);
                return json_incref(a[n - 1]);
        }
#undef NEED
        eerr(ex, "function \"%s\" not defined", fn);
        return NULL;
}

/* `.Label "KEY"`: the one method with an argument that Docker's list contexts have (ps,
 * volume ls, network ls): KEY's value in the row's Labels ("k=v,k2=v2"), "" when it has none. */
static json_t *call_method(struct exec *ex, const struct cmd *c, json_t *dot, json_t *piped)
{
        const struct arg *m = &c->args[0];
        const char *name = m->path[m->n_path - 1];
        json_t *recv = walk(ex, dot, m->path, m->n_path - 1);
        if (recv == NULL)
                return NULL;
        json_t *labels = json_object_get(recv, "Labels");
        if (strcmp(name, "Label") != 0 || !json_is_string(labels)) {
                json_decref(recv);
                eerr(ex, "can't give argument to non-function");
                return NULL;
        }
        size_t n = c->n - 1 + (piped ? 1 : 0);
        json_t *key = n == 1 ? (piped ? json_incref(piped) : eval_arg(ex, &c->args[1], dot)) : NULL;
        json_t *r = NULL;
        if (n != 1) {
                eerr(ex, "wrong number of args for Label: want 1 got %zu", n);
        } else if (key && !json_is_string(key)) {
                eerr(ex, "wrong type for value; expected string; got %s", type_name(key));
        } else if (key) {
                const char *k = json_string_value(key), *p = json_string_value(labels);
                size_t kl = strlen(k);
                r = json_string("");
                while (*p) {
                        const char *end = strchr(p, ',');
                        size_t len = end ? (size_t) (end - p) : strlen(p);
                        if (len > kl && strncmp(p, k, kl) == 0 && p[kl] == '=') {
                                json_decref(r);
                                r = json_stringn(p + kl + 1, len - kl - 1);
                                break;
                        }
                        p += len + (end ? 1 : 0);
                }
        }
        json_decref(key);
        json_decref(recv);
        return r;
}

static json_t *eval_cmd(struct exec *ex, const struct cmd *c, json_t *dot, json_t *piped)
{
        if (c->args[0].kind == A_FIELD && c->args[0].n_path > 0 && (c->n > 1 || piped))
                return call_method(ex, c, dot, piped);
        if (c->args[0].kind != A_FUNC) {
                if (c->n > 1 || piped) {
                        eerr(ex, "can't give argument to non-function");
                        return NULL;
                }
                return eval_arg(ex, &c->args[0], dot);
        }
        size_t n = c->n - 1 + (piped ? 1 : 0);
        json_t **args = berth_xcalloc(n ? n : 1, sizeof(json_t *));
        json_t *r = NULL;
        size_t got = 0;
        for (size_t i = 1; i < c->n; i++) {
                args[got] = eval_arg(ex, &c->args[i], dot);
                if (args[got] == NULL)
                        goto out;
                got++;
        }
        if (piped)
                args[got++] = json_incref(piped);
        r = call(ex, c->args[0].name, args, n);
out:
        for (size_t i = 0; i < got; i++)
                json_decref(args[i]);
        free(args);
        return r;
}

static json_t *eval_pipe(struct exec *ex, const struct pipe *pp, json_t *dot)
{
        json_t *v = NULL;
        for (size_t i = 0; i < pp->n; i++) {
                json_t *next = eval_cmd(ex, &pp->cmds[i], dot, v);
                json_decref(v);
                if (next == NULL)
                        return NULL;
                v = next;
        }
        return v;
}

static int exec_list(struct exec *ex, const struct node *n, json_t *dot);

static int set_var(struct exec *ex, const char *name, json_t *v)
{
        if (ex->n_vars == BERTH_ARRAY_SIZE(ex->vars))
                return eerr(ex, "too many variables");
        ex->vars[ex->n_vars].name = berth_xstrdup(name);
        ex->vars[ex->n_vars].value = json_incref(v);
        ex->n_vars++;
        return 0;
}

static void pop_vars(struct exec *ex, size_t to)
{
        while (ex->n_vars > to) {
                ex->n_vars--;
                free(ex->vars[ex->n_vars].name);
                json_decref(ex->vars[ex->n_vars].value);
        }
}

static int range_one(struct exec *ex, const struct node *n, json_t *key, json_t *elem)
{
        size_t mark = ex->n_vars;
        int ret = 0;
        if (n->pipe->n_decl == 1)
                ret = set_var(ex, n->pipe->decl[0], elem);
        else if (n->pipe->n_decl == 2)
                ret = set_var(ex, n->pipe->decl[0], key) < 0 ? -1
                                                             : set_var(ex, n->pipe->decl[1], elem);
        if (ret == 0)
                ret = exec_list(ex, n->body, elem);
        pop_vars(ex, mark);
        return ret;
}

static int exec_node(struct exec *ex, const struct node *n, json_t *dot)
{
        if (n->kind == N_TEXT) {
                emit(ex, n->text, strlen(n->text));
                return 0;
        }
        json_t *v = eval_pipe(ex, n->pipe, dot);
        if (v == NULL)
                return -1;
        int ret = 0;
        switch (n->kind) {
        case N_ACTION:
                if (n->pipe->n_decl)
                        ret = set_var(ex, n->pipe->decl[0], v); /* {{$x := ...}} prints nothing */
                else
                        print_value(ex, v);
                break;
        case N_IF:
                ret = exec_list(ex, truthy(v) ? n->body : n->else_body, dot);
                break;
        case N_WITH:
                ret = truthy(v) ? exec_list(ex, n->body, v) : exec_list(ex, n->else_body, dot);
                break;
        case N_RANGE:
                if (!truthy(v)) {
                        ret = exec_list(ex, n->else_body, dot);
                } else if (json_is_array(v)) {
                        for (size_t i = 0; i < json_array_size(v) && ret == 0; i++) {
                                json_t *k = json_integer((json_int_t) i);
                                ret = range_one(ex, n, k, json_array_get(v, i));
                                json_decref(k);
                        }
                } else if (json_is_object(v)) {
                        size_t cnt;
                        const char **keys = sorted_keys(v, &cnt);
                        for (size_t i = 0; i < cnt && ret == 0; i++) {
                                json_t *k = json_string(keys[i]);
                                ret = range_one(ex, n, k, json_object_get(v, keys[i]));
                                json_decref(k);
                        }
                        free(keys);
                } else {
                        ret = eerr(ex, "range can't iterate over %s", type_name(v));
                }
                break;
        case N_TEXT:
                break;
        }
        json_decref(v);
        return ret;
}

static int exec_list(struct exec *ex, const struct node *n, json_t *dot)
{
        for (; n; n = n->next)
                if (exec_node(ex, n, dot) < 0)
                        return -1;
        return 0;
}

int berth_tmpl_exec(const struct berth_tmpl *t, json_t *data, char **out, berth_error_t *err)
{
        struct exec ex = {.root = data, .err = err};
        int ret = exec_list(&ex, t->root, data);
        pop_vars(&ex, 0);
        if (ret < 0) {
                free(ex.out);
                return -1;
        }
        *out = ex.out ? ex.out : berth_xstrdup("");
        return 0;
}

/* -------------------------------------------------------------- list output */

char *berth_tab_align(const char *text)
{
        /* widths per column over all lines; the last cell of a line is not padded */
        size_t widths[64] = {0};
        for (const char *line = text; *line;) {
                size_t col = 0, w = 0;
                const char *p = line;
                for (; *p && *p != '\n'; p++) {
                        if (*p == '\t') {
                                if (col < 64 && w > widths[col])
                                        widths[col] = w;
                                col++;
                                w = 0;
                        } else if (((unsigned char) *p & 0xC0) != 0x80) {
                                w++; /* count UTF-8 code points, not bytes */
                        }
                }
                line = *p ? p + 1 : p;
        }
        struct exec out = {0};
        for (const char *line = text; *line;) {
                size_t col = 0, w = 0;
                const char *p = line;
                for (; *p && *p != '\n'; p++) {
                        if (*p == '\t') {
                                /* Docker's tabwriter: padding 3, minimum cell width 10 */
                                size_t cell = (col < 64 ? widths[col] : w) + 3;
                                if (cell < 10)
                                        cell = 10;
                                size_t pad = cell - w;
                                for (size_t i = 0; i < pad; i++)
                                        emit(&out, " ", 1);
                                col++;
                                w = 0;
                        } else {
                                emit(&out, p, 1);
                                if (((unsigned char) *p & 0xC0) != 0x80)
                                        w++;
                        }
                }
                emit(&out, "\n", 1);
                line = *p ? p + 1 : p;
        }
        return out.out ? out.out : berth_xstrdup("");
}

/* The header of a table: each {{.Field}} action becomes its column name. */
static const char *header_of(const struct berth_tmpl_header *h, const char *field)
{
        for (; h && h->field; h++)
                if (strcmp(h->field, field) == 0)
                        return h->title;
        return NULL;
}

static char *table_header(const char *body, const struct berth_tmpl_header *headers)
{
        struct exec out = {0};
        cleanup_free char *text = unescape_format(body);
        for (const char *p = text; *p;) {
                const char *open = strstr(p, "{{");
                if (open == NULL) {
                        emit(&out, p, strlen(p));
                        break;
                }
                emit(&out, p, (size_t) (open - p));
                const char *close = strstr(open, "}}");
                if (close == NULL)
                        break;
                const char *f = open + 2;
                while (*f == ' ' || *f == '-')
                        f++;
                if (*f == '.' && ident_char(f[1])) {
                        const char *e = f + 1;
                        while (ident_char(*e) || (*e == '.' && ident_char(e[1])))
                                e++;
                        cleanup_free char *field = strndup(f + 1, (size_t) (e - f - 1));
                        const char *h = header_of(headers, field);
                        if (h) {
                                emit(&out, h, strlen(h));
                        } else {
                                for (char *c = field; *c; c++)
                                        *c = *c == '.' ? ' ' : (char) toupper((unsigned char) *c);
                                emit(&out, field, strlen(field));
                        }
                }
                p = close + 2;
        }
        return out.out ? out.out : berth_xstrdup("");
}

int berth_tmpl_print_rows(const char *format, json_t *rows, const struct berth_tmpl_header *headers,
                          FILE *out, berth_error_t *err)
{
        if (strcmp(format, "json") == 0) {
                size_t i;
                json_t *row;
                json_array_foreach(rows, i, row)
                {
                        char *s = json_dumps(row, JSON_COMPACT | JSON_PRESERVE_ORDER);
                        fprintf(out, "%s\n", s ? s : "{}");
                        free(s);
                }
                return 0;
        }
        bool table = strncmp(format, "table", 5) == 0 && (format[5] == '\0' || format[5] == ' ');
        const char *body = table ? format + 5 + (format[5] == ' ') : format;
        struct berth_tmpl *t = NULL;
        if (berth_tmpl_parse(body, &t, err) < 0)
                return -1;
        struct exec all = {0};
        if (table) {
                cleanup_free char *h = table_header(body, headers);
                emit(&all, h, strlen(h));
                emit(&all, "\n", 1);
        }
        size_t i;
        json_t *row;
        int ret = 0;
        json_array_foreach(rows, i, row)
        {
                char *line = NULL;
                if (berth_tmpl_exec(t, row, &line, err) < 0) {
                        ret = -1;
                        break;
                }
                emit(&all, line, strlen(line));
                emit(&all, "\n", 1);
                free(line);
        }
        berth_tmpl_free(t);
        if (ret == 0 && all.out) {
                if (table) {
                        cleanup_free char *aligned = berth_tab_align(all.out);
                        fputs(aligned, out);
                } else {
                        fputs(all.out, out);
                }
        }
        free(all.out);
        return ret;
}
