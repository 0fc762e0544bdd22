/* summary.c — the summary record's codec (see summary.h); container.c reads and writes it. */
#include "engine/summary.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

void eng_stamp_of(const struct stat *st, struct eng_stamp *out)
{
        out->ino = (uint64_t) st->st_ino;
        out->size = (int64_t) st->st_size;
        out->mtime_ns = (int64_t) st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

bool eng_stamp_eq(const struct eng_stamp *a, const struct eng_stamp *b)
{
        /* a zero stamp is no record's: never equal, so that it forces a read */
        return a->ino != 0 && a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns;
}

/* Copy KEYS of FROM into TO, those present only. */
static void copy_keys(json_t *to, json_t *from, const char *const *keys, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                json_t *v = json_object_get(from, keys[i]);
                if (v)
                        json_object_set(to, keys[i], v);
        }
}

/* {KEYS of FROM} under NAME in TO, when FROM is an object. */
static void copy_sub(json_t *to, const char *name, json_t *from, const char *const *keys, size_t n)
{
        if (!json_is_object(from))
                return;
        json_t *o = json_object();
        copy_keys(o, from, keys, n);
        json_object_set_new(to, name, o);
}

json_t *eng_summary_make(json_t *doc, json_t *state, const struct eng_stamp *doc_st,
                         const struct eng_stamp *state_st)
{
        if (!json_is_object(doc))
                return NULL;
        static const char *const top[] = {"Id",   "Created", "Name",  "Path",
                                          "Args", "Image",   "Mounts"};
        static const char *const config[] = {"Image", "Labels"};
        static const char *const host[] = {"NetworkMode"};
        static const char *const net[] = {"Ports", "Networks"};
        json_t *d = json_object();
        copy_keys(d, doc, top, BERTH_ARRAY_SIZE(top));
        copy_sub(d, "Config", json_object_get(doc, "Config"), config, BERTH_ARRAY_SIZE(config));
        copy_sub(d, "HostConfig", json_object_get(doc, "HostConfig"), host, BERTH_ARRAY_SIZE(host));
        copy_sub(d, "NetworkSettings", json_object_get(doc, "NetworkSettings"), net,
                 BERTH_ARRAY_SIZE(net));
        /* of state.json, what a ps row, its filters and the liveness check read (the lock reads
         * it all again before any change) */
        static const char *const state_top[] = {"RestartCount", "Monitor"};
        static const char *const state_keys[] = {"Status", "ExitCode", "Pid", "StartedAt",
                                                 "FinishedAt"};
        static const char *const health_keys[] = {"Status"};
        json_t *s = json_object();
        json_t *st = json_object_get(state, "State");
        copy_keys(s, state, state_top, BERTH_ARRAY_SIZE(state_top));
        json_t *s2 = json_object();
        copy_keys(s2, st, state_keys, BERTH_ARRAY_SIZE(state_keys));
        copy_sub(s2, "Health", json_object_get(st, "Health"), health_keys,
                 BERTH_ARRAY_SIZE(health_keys));
        json_object_set_new(s, "State", s2);
        return json_pack("{s:i, s:[I,I,I,I,I,I], s:o, s:o}", "Version", ENG_SUMMARY_VERSION,
                         "Stamps", (json_int_t) doc_st->ino, (json_int_t) doc_st->size,
                         (json_int_t) doc_st->mtime_ns, (json_int_t) state_st->ino,
                         (json_int_t) state_st->size, (json_int_t) state_st->mtime_ns, "Doc", d,
                         "State", s);
}

int eng_summary_split(json_t *sum, json_t **doc, json_t **state, struct eng_stamp *doc_st,
                      struct eng_stamp *state_st)
{
        json_t *stamps = json_object_get(sum, "Stamps");
        json_t *d = json_object_get(sum, "Doc");
        json_t *s = json_object_get(sum, "State");
        if (json_integer_value(json_object_get(sum, "Version")) != ENG_SUMMARY_VERSION ||
            json_array_size(stamps) != 6 || !json_is_object(d) || !json_is_object(s) ||
            !json_is_object(json_object_get(s, "State"))) {
                errno = EINVAL;
                return -1;
        }
        json_int_t v[6];
        for (size_t i = 0; i < 6; i++) {
                json_t *x = json_array_get(stamps, i);
                if (!json_is_integer(x)) {
                        errno = EINVAL;
                        return -1;
                }
                v[i] = json_integer_value(x);
        }
        *doc_st = (struct eng_stamp){(uint64_t) v[0], (int64_t) v[1], (int64_t) v[2]};
        *state_st = (struct eng_stamp){(uint64_t) v[3], (int64_t) v[4], (int64_t) v[5]};
        *doc = json_incref(d);
        *state = json_incref(s);
        return 0;
}

/* ------------------------------------------------------------------ parsing
 * jansson's json_loadb spends ~200 instructions a byte (a character stream behind function
 * pointers): 68 % of `ps -a`'s instructions with 100 summaries went to it.  A summary is parsed
 * here instead, in one pass over the buffer, into the same jansson values.  It is strict (RFC
 * 8259, UTF-8 checked, nesting bounded): whatever it refuses, the caller reads the records
 * instead. */

struct jp {
        const char *p, *end;
        int depth;
};

#define JP_MAX_DEPTH 32

static json_t *jp_value(struct jp *j);

static void jp_ws(struct jp *j)
{
        while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r'))
                j->p++;
}

static bool jp_lit(struct jp *j, const char *word)
{
        size_t n = strlen(word);
        if ((size_t) (j->end - j->p) < n || memcmp(j->p, word, n) != 0)
                return false;
        j->p += n;
        return true;
}

static int hexval(char c)
{
        return c >= '0' && c <= '9'   ? c - '0'
               : c >= 'a' && c <= 'f' ? c - 'a' + 10
               : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                      : -1;
}

static bool jp_hex4(struct jp *j, unsigned *out)
{
        if (j->end - j->p < 4)
                return false;
        unsigned v = 0;
        for (int i = 0; i < 4; i++) {
                int h = hexval(j->p[i]);
                if (h < 0)
                        return false;
                v = v << 4 | (unsigned) h;
        }
        j->p += 4;
        *out = v;
        return true;
}

static size_t utf8_put(char *o, unsigned cp)
{
        if (cp < 0x80) {
                o[0] = (char) cp;
                return 1;
        }
        if (cp < 0x800) {
                o[0] = (char) (0xC0 | cp >> 6);
                o[1] = (char) (0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                o[0] = (char) (0xE0 | cp >> 12);
                o[1] = (char) (0x80 | (cp >> 6 & 0x3F));
                o[2] = (char) (0x80 | (cp & 0x3F));
                return 3;
        }
        o[0] = (char) (0xF0 | cp >> 18);
        o[1] = (char) (0x80 | (cp >> 12 & 0x3F));
        o[2] = (char) (0x80 | (cp >> 6 & 0x3F));
        o[3] = (char) (0x80 | (cp & 0x3F));
        return 4;
}

/* Well-formed UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const char *str, size_t n)
{
        const unsigned char *s = (const unsigned char *) str, *end = s + n;
        while (s < end) {
                unsigned c = *s++;
                if (c < 0x80)
                        continue;
                size_t more = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC2 ? 1 : 0;
                if (more == 0 || c > 0xF4 || (size_t) (end - s) < more)
                        return false;
                unsigned cp = c & (0x3F >> more);
                for (size_t i = 0; i < more; i++) {
                        if ((s[i] & 0xC0) != 0x80)
                                return false;
                        cp = cp << 6 | (s[i] & 0x3F);
                }
                s += more;
                if ((more == 2 && cp < 0x800) || (more == 3 && (cp < 0x10000 || cp > 0x10FFFF)) ||
                    (cp >= 0xD800 && cp <= 0xDFFF))
                        return false;
        }
        return true;
}

/* A string after its opening quote: *out points into the input when it has no escapes (*tmp
 * NULL), else into *tmp (the caller frees it).  *ascii: no byte ≥ 0x80 (no UTF-8 check needed). */
static bool jp_string(struct jp *j, const char **out, size_t *len, char **tmp, bool *ascii)
{
        const char *s = j->p;
        bool hi = false;
        while (j->p < j->end && *j->p != '"' && *j->p != '\\') {
                unsigned char c = (unsigned char) *j->p;
                if (c < 0x20)
                        return false;
                hi |= c >= 0x80;
                j->p++;
        }
        if (j->p >= j->end)
                return false;
        *tmp = NULL;
        *ascii = !hi;
        if (*j->p == '"') {
                *out = s;
                *len = (size_t) (j->p - s);
                j->p++;
                return true;
        }
        /* escapes: decode into a copy (never longer than the input) */
        char *buf = berth_xmalloc((size_t) (j->end - s) + 1);
        size_t n = (size_t) (j->p - s);
        memcpy(buf, s, n);
        while (j->p < j->end && *j->p != '"') {
                unsigned char c = (unsigned char) *j->p;
                if (c < 0x20)
                        goto bad;
                if (c != '\\') {
                        hi |= c >= 0x80;
                        buf[n++] = (char) c;
                        j->p++;
                        continue;
                }
                if (++j->p >= j->end)
                        goto bad;
                char e = *j->p++;
                const char *simple = strchr("\"\\/bfnrt", e);
                if (e != '\0' && simple) {
                        static const char to[] = "\"\\/\b\f\n\r\t";
                        buf[n++] = to[simple - "\"\\/bfnrt"];
                        continue;
                }
                unsigned cp, lo;
                if (e != 'u' || !jp_hex4(j, &cp))
                        goto bad;
                if (cp >= 0xD800 && cp <= 0xDBFF) { /* a surrogate pair */
                        if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u')
                                goto bad;
                        j->p += 2;
                        if (!jp_hex4(j, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                                goto bad;
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                        goto bad;
                }
                if (cp == 0)
                        goto bad; /* jansson's strings end at a NUL: refuse one */
                hi |= cp >= 0x80;
                n += utf8_put(buf + n, cp);
        }
        if (j->p >= j->end)
                goto bad;
        j->p++;
        buf[n] = '\0';
        *tmp = buf;
        *out = buf;
        *len = n;
        *ascii = !hi;
        return true;
bad:
        free(buf);
        return false;
}

static json_t *jp_number(struct jp *j)
{
        const char *s = j->p;
        bool real = false;
        if (j->p < j->end && *j->p == '-')
                j->p++;
        if (j->p >= j->end || !(*j->p >= '0' && *j->p <= '9'))
                return NULL;
        if (*j->p == '0')
                j->p++;
        else
                while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
                        j->p++;
        if (j->p < j->end && *j->p == '.') {
                real = true;
                j->p++;
                if (j->p >= j->end || !(*j->p >= '0' && *j->p <= '9'))
                        return NULL;
                while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
                        j->p++;
        }
        if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
                real = true;
                j->p++;
                if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
                        j->p++;
                if (j->p >= j->end || !(*j->p >= '0' && *j->p <= '9'))
                        return NULL;
                while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
                        j->p++;
        }
        char num[64];
        size_t n = (size_t) (j->p - s);
        if (n >= sizeof(num))
                return NULL;
        memcpy(num, s, n);
        num[n] = '\0';
        errno = 0;
        if (real) {
                double d = strtod(num, NULL);
                return errno ? NULL : json_real(d);
        }
        long long v = strtoll(num, NULL, 10);
        return errno ? NULL : json_integer((json_int_t) v);
}

static json_t *jp_container(struct jp *j, bool object)
{
        if (++j->depth > JP_MAX_DEPTH)
                return NULL;
        json_t *c = object ? json_object() : json_array();
        char close = object ? '}' : ']';
        jp_ws(j);
        if (j->p < j->end && *j->p == close) {
                j->p++;
                j->depth--;
                return c;
        }
        for (;;) {
                jp_ws(j);
                const char *key = NULL;
                size_t klen = 0;
                char *ktmp = NULL;
                if (object) {
                        bool ascii;
                        if (j->p >= j->end || *j->p != '"')
                                goto bad;
                        j->p++;
                        if (!jp_string(j, &key, &klen, &ktmp, &ascii))
                                goto bad;
                        if (!ascii && !utf8_valid(key, klen)) {
                                free(ktmp);
                                goto bad;
                        }
                        jp_ws(j);
                        if (j->p >= j->end || *j->p != ':') {
                                free(ktmp);
                                goto bad;
                        }
                        j->p++;
                }
                json_t *v = jp_value(j);
                int r = -1;
                if (v)
                        r = object ? json_object_setn_new_nocheck(c, key, klen, v)
                                   : json_array_append_new(c, v);
                free(ktmp);
                if (r < 0)
                        goto bad;
                jp_ws(j);
                if (j->p < j->end && *j->p == ',') {
                        j->p++;
                        continue;
                }
                if (j->p < j->end && *j->p == close) {
                        j->p++;
                        j->depth--;
                        return c;
                }
                goto bad;
        }
bad:
        json_decref(c);
        return NULL;
}

static json_t *jp_value(struct jp *j)
{
        jp_ws(j);
        if (j->p >= j->end)
                return NULL;
        switch (*j->p) {
        case '{':
        case '[': {
                bool object = *j->p++ == '{';
                return jp_container(j, object);
        }
        case '"': {
                j->p++;
                const char *s;
                size_t n;
                char *tmp;
                bool ascii;
                if (!jp_string(j, &s, &n, &tmp, &ascii))
                        return NULL;
                json_t *v = ascii || utf8_valid(s, n) ? json_stringn_nocheck(s, n) : NULL;
                free(tmp);
                return v;
        }
        case 't':
                return jp_lit(j, "true") ? json_true() : NULL;
        case 'f':
                return jp_lit(j, "false") ? json_false() : NULL;
        case 'n':
                return jp_lit(j, "null") ? json_null() : NULL;
        default:
                return jp_number(j);
        }
}

json_t *eng_summary_parse(const char *text, size_t len)
{
        struct jp j = {.p = text, .end = text + len};
        json_t *v = jp_value(&j);
        jp_ws(&j);
        if (v && j.p != j.end) {
                json_decref(v);
                return NULL;
        }
        return v;
}
