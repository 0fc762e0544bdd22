/* containerfile.h — reading a Containerfile (Dockerfile syntax) into instructions, and the
 * word processing its instructions need: $VAR / ${VAR} / ${VAR:-default} / ${VAR:+alt}
 * substitution, quotes, backslash escapes, splitting into words.
 *
 *   struct img_cf cf;
 *   if (img_cf_parse(text, &cf, err) < 0)       // "line 3: unknown instruction: FOO"
 *           return -1;
 *   for (size_t i = 0; i < cf.n; i++)  cf.v[i].cmd, .flags, .rest / .argv (JSON form)
 *   img_cf_free(&cf);
 *
 * Substitution is not done by the parser: which variables exist depends on the ARG and ENV
 * instructions executed before, so the builder expands each instruction when it reaches it. */
#ifndef BERTH_IMAGE_CONTAINERFILE_H
#define BERTH_IMAGE_CONTAINERFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

struct img_cf_instr {
        int line;     /* where it starts, 1-based */
        char *cmd;    /* upper case: "RUN" */
        char *text;   /* the whole instruction, continuations joined (messages, cache keys) */
        char **flags; /* "--from=x" as "from=x", "--link" as "link" */
        size_t n_flags;
        char *rest;  /* the arguments after the flags, as written (trimmed) */
        bool json;   /* rest is a JSON array of strings (exec form) */
        char **argv; /* its elements when json */
        size_t argc;
};

struct img_cf {
        struct img_cf_instr *v;
        size_t n;
};

/* Errors carry exit status 125 and the line number.  A Containerfile must have a FROM, and
 * nothing but ARG may come before the first one. */
int img_cf_parse(const char *text, struct img_cf *out, berth_error_t *err);
void img_cf_free(struct img_cf *cf);

/* The value of flag "--name=value" ("" for a bare "--name"), or NULL when absent. */
const char *img_cf_flag(const struct img_cf_instr *in, const char *name);

/* A variable's value, or NULL when it is not set. */
typedef const char *(*img_cf_lookup_fn)(void *ctx, const char *name);

/* Process a string as Dockerfile instructions do: variables substituted (lookup may be NULL:
 * no substitution), quotes removed ('…' literal, "…" with substitution), backslash escapes.
 * With split, unquoted whitespace separates words; without, the result is one word. */
int img_cf_words(const char *in, img_cf_lookup_fn lookup, void *ctx, bool split, char ***out,
                 size_t *n, berth_error_t *err);
void img_cf_words_free(char **w, size_t n);

#endif
