/* test_containerfile.c — the Containerfile parser and its word processing. */
#include <stdlib.h>
#include <string.h>

#include "image/containerfile.h"
#include "tap.h"

static const char *lookup(void *ctx, const char *name)
{
        (void) ctx;
        if (strcmp(name, "A") == 0)
                return "alpha";
        if (strcmp(name, "EMPTY") == 0)
                return "";
        if (strcmp(name, "SP") == 0)
                return "x y";
        return NULL;
}

static void test_parse(void)
{
        berth_error_t err = NULL;
        struct img_cf cf;
        const char *text = "# a comment\n"
                           "ARG BASE=busybox\n"
                           "FROM ${BASE} AS build\n"
                           "\n"
                           "run echo one \\\n"
                           "  # comment inside\n"
                           "    two\n"
                           "COPY --from=build --chown=1:2 a b /dst/\n"
                           "CMD [\"sh\", \"-c\", \"echo hi\"]\n"
                           "ENTRYPOINT [not json\n"
                           "HEALTHCHECK --interval=5s CMD true\n";
        is_int(img_cf_parse(text, &cf, &err), 0, "parses");
        is_int((int) cf.n, 7, "seven instructions");
        is_str(cf.v[0].cmd, "ARG", "ARG first");
        is_int(cf.v[1].line, 3, "FROM on line 3");
        is_str(cf.v[1].rest, "${BASE} AS build", "FROM args kept raw");
        is_str(cf.v[2].cmd, "RUN", "lower case instruction");
        is_int(cf.v[2].line, 5, "RUN starts on line 5");
        is_str(cf.v[2].rest, "echo one  two", "continuation joined, comment dropped");
        is_str(img_cf_flag(&cf.v[3], "from"), "build", "--from");
        is_str(img_cf_flag(&cf.v[3], "chown"), "1:2", "--chown");
        ok(img_cf_flag(&cf.v[3], "chmod") == NULL, "absent flag");
        is_str(cf.v[3].rest, "a b /dst/", "COPY args");
        ok(cf.v[4].json && cf.v[4].argc == 3, "CMD exec form");
        is_str(cf.v[4].argv[2], "echo hi", "exec form element");
        ok(!cf.v[5].json, "bad JSON is shell form");
        is_str(img_cf_flag(&cf.v[6], "interval"), "5s", "HEALTHCHECK flag");
        is_str(cf.v[6].rest, "CMD true", "HEALTHCHECK rest");
        img_cf_free(&cf);
        berth_error_release(&err);

        static const struct {
                const char *text, *msg;
        } bad[] = {
                {"FROM busybox\nFOO bar\n", "line 2: unknown instruction: FOO"},
                {"RUN true\nFROM busybox\n", "line 1: RUN before the first FROM"},
                {"ARG X\n", "no FROM instruction"},
                {"FROM busybox\n\nRUN\n", "line 3: RUN requires at least one argument"},
                {"FROM busybox\nRUN --mount=type=cache true\n",
                 "line 2: RUN does not support --mount"},
                {"FROM busybox\nCOPY --link a b\n", "line 2: COPY does not support --link"},
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                is_int(img_cf_parse(bad[i].text, &cf, &err), -1, bad[i].msg);
                char *t = berth_error_chain_text(err);
                ok(t && strstr(t, bad[i].msg) != NULL, "message names the line");
                if (!(t && strstr(t, bad[i].msg)))
                        printf("# got: %s\n", t ? t : "(null)");
                free(t);
                berth_error_release(&err);
        }
}

static void one(const char *in, bool split, const char *want, size_t want_n)
{
        berth_error_t err = NULL;
        char **w = NULL;
        size_t n = 0;
        if (img_cf_words(in, lookup, NULL, split, &w, &n, &err) < 0) {
                ok(0, in);
                berth_error_release(&err);
                return;
        }
        /* join with '|' to compare */
        char buf[512] = "";
        for (size_t i = 0; i < n; i++) {
                if (i)
                        strcat(buf, "|");
                strcat(buf, w[i]);
        }
        is_str(buf, want, in);
        is_int((int) n, (int) want_n, "word count");
        img_cf_words_free(w, n);
}

static void test_words(void)
{
        one("$A ${A} x${A}y", true, "alpha|alpha|xalphay", 3);
        one("${NOPE:-def} ${A:-def} ${EMPTY:-e} ${A:+set} ${NOPE:+set}", true, "def|alpha|e|set",
            4);
        one("${NOPE:-${A}}", true, "alpha", 1);
        one("'$A' \"$A b\" \\$A", true, "$A|alpha b|$A", 3);
        one("K=\"hello world\" J=x", true, "K=hello world|J=x", 2);
        one("$SP", false, "x y", 1);
        one("a  b", false, "a  b", 1);
        one("\"\"", true, "", 1);
        one("cost $ 5", true, "cost|$|5", 3);
        berth_error_t err = NULL;
        char **w = NULL;
        size_t n = 0;
        is_int(img_cf_words("'open", lookup, NULL, true, &w, &n, &err), -1, "unterminated quote");
        berth_error_release(&err);
        is_int(img_cf_words("${A", lookup, NULL, true, &w, &n, &err), -1, "unterminated ${");
        berth_error_release(&err);
}

/* A line holding only `\` continues into nothing: before the fix the parser added a zero
 * offset to a NULL buffer (UBSan, under meson test's halt_on_error, stops the test there). */
static void test_lone_backslash(void)
{
        static const struct {
                const char *text;
                int ret;
                size_t n;
        } cases[] = {
                {"\\", -1, 0},
                {"\\\n", -1, 0},
                {"FROM busybox\n\\", 0, 1},
                {"FROM busybox\n\\\n", 0, 1},
                {"FROM busybox\n\\\nRUN true\n", 0, 2},
                {"FROM busybox\n  \\  \n\\\n", 0, 1},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                berth_error_t err = NULL;
                struct img_cf cf;
                int r = img_cf_parse(cases[i].text, &cf, &err);
                is_int(r, cases[i].ret, "a lone backslash line parses as nothing");
                if (r == 0) {
                        is_int((int) cf.n, (int) cases[i].n, "instructions around it");
                        img_cf_free(&cf);
                }
                berth_error_release(&err);
        }
}

int main(void)
{
        test_parse();
        test_lone_backslash();
        test_words();
        return tap_done();
}
