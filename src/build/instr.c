/* instr.c — the build instructions that need no container or content: FROM (a new stage on
 * an image, an earlier stage or scratch), ARG (in a stage, or global before the first FROM),
 * and those that only change the image config (ENV, LABEL, CMD, ENTRYPOINT, SHELL,
 * HEALTHCHECK, ONBUILD, VOLUME, EXPOSE, USER, WORKDIR, STOPSIGNAL, MAINTAINER). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build/build_internal.h"
#include "common/units.h"
#include "common/util.h"

const char *bld_lookup(void *ctx, const char *name)
{
        struct build *b = ctx;
        size_t n = strlen(name), i;
        json_t *v;
        json_array_foreach(json_object_get(json_object_get(b->cfg, "config"), "Env"), i, v)
        {
                const char *s = json_string_value(v);
                if (s && strncmp(s, name, n) == 0 && s[n] == '=')
                        return s + n + 1;
        }
        return json_string_value(json_object_get(b->args, name));
}

static const char *global_lookup(void *ctx, const char *name)
{
        struct build *b = ctx;
        return json_string_value(json_object_get(b->global_args, name));
}

static void end_stage(struct build *b)
{
        if (b->n_stages)
                snprintf(b->stages[b->n_stages - 1].manifest, IMG_DIGEST_MAX, "%s", b->cur);
}

int bld_step_from(struct build *b, const struct img_cf_instr *in, berth_error_t *err)
{
        char **w = NULL;
        size_t n = 0;
        if (img_cf_words(in->rest, global_lookup, b, true, &w, &n, err) < 0)
                return -1;
        int r = 0;
        if (n != 1 && !(n == 3 && strcasecmp(w[1], "AS") == 0))
                r = berth_fail_status(err, 125, 0, "FROM takes IMAGE [AS NAME]");
        char manifest[IMG_DIGEST_MAX] = "";
        bool scratch = false;
        if (r == 0)
                r = bld_resolve_image(b, w[0], manifest, &scratch, err);
        if (r == 0) {
                end_stage(b);
                b->stages = berth_xrealloc(b->stages, (b->n_stages + 1) * sizeof(*b->stages));
                struct bld_stage *st = &b->stages[b->n_stages++];
                memset(st, 0, sizeof(*st));
                if (n == 3) {
                        st->name = berth_xstrdup(w[2]);
                        for (char *p = st->name; *p; p++)
                                *p = (char) tolower((unsigned char) *p);
                }
                json_decref(b->args);
                b->args = json_object();
                b->cmd_set = false;
                if (scratch) {
                        json_decref(b->cfg);
                        b->cfg = img_config_new();
                        for (size_t i = 0; i < b->n_layers; i++)
                                free(b->layers[i].media_type);
                        b->n_layers = 0;
                        b->cur[0] = '\0';
                } else {
                        r = bld_set_current(b, manifest, err);
                        if (r == 0)
                                bld_emit_image(b, false);
                }
        }
        img_cf_words_free(w, n);
        return r;
}

/* ARG NAME[=default] ...: in a stage, or globally before the first FROM. */
int bld_step_arg(struct build *b, const struct img_cf_instr *in, bool global, berth_error_t *err)
{
        char **w = NULL;
        size_t n = 0;
        if (img_cf_words(in->rest, global ? global_lookup : bld_lookup, b, true, &w, &n, err) < 0)
                return -1;
        json_t *into = global ? b->global_args : b->args;
        for (size_t i = 0; i < n; i++) {
                char *eq = strchr(w[i], '=');
                if (eq)
                        *eq = '\0';
                json_t *given = json_object_get(b->o->build_args, w[i]);
                json_t *glob = json_object_get(b->global_args, w[i]);
                if (given)
                        json_object_set(into, w[i], given);
                else if (eq)
                        json_object_set_new(into, w[i], json_string(eq + 1));
                else if (!global && json_is_string(glob))
                        json_object_set(into, w[i], glob);
                else
                        json_object_set_new(into, w[i], json_null());
        }
        img_cf_words_free(w, n);
        return 0;
}

static void env_set(json_t *c, const char *key, const char *value)
{
        json_t *env = json_object_get(c, "Env");
        if (!json_is_array(env)) {
                env = json_array();
                json_object_set_new(c, "Env", env);
        }
        char *line = berth_xasprintf("%s=%s", key, value);
        size_t n = strlen(key), i;
        json_t *v;
        json_array_foreach(env, i, v)
        {
                const char *s = json_string_value(v);
                if (s && strncmp(s, key, n) == 0 && s[n] == '=') {
                        json_array_set_new(env, i, json_string(line));
                        free(line);
                        return;
                }
        }
        json_array_append_new(env, json_string(line));
        free(line);
}

/* ENV and LABEL: KEY=VALUE pairs (or the old `KEY VALUE`). */
static int do_pairs(struct build *b, const struct img_cf_instr *in, bool env, json_t *c,
                    berth_error_t *err)
{
        char **w = NULL;
        size_t n = 0;
        if (img_cf_words(in->rest, bld_lookup, b, true, &w, &n, err) < 0)
                return -1;
        int r = 0;
        if (n >= 2 && strchr(w[0], '=') == NULL) {
                /* ENV KEY the rest of the line */
                char **v = NULL;
                size_t nv = 0;
                const char *p = in->rest + strcspn(in->rest, " \t");
                if (img_cf_words(p + strspn(p, " \t"), bld_lookup, b, false, &v, &nv, err) < 0) {
                        img_cf_words_free(w, n);
                        return -1;
                }
                if (env)
                        env_set(c, w[0], v[0]);
                else
                        json_object_set_new(json_object_get(c, "Labels"), w[0], json_string(v[0]));
                img_cf_words_free(v, nv);
                img_cf_words_free(w, n);
                return 0;
        }
        for (size_t i = 0; i < n && r == 0; i++) {
                char *eq = strchr(w[i], '=');
                if (eq == NULL || eq == w[i]) {
                        r = berth_fail_status(err, 125, 0, "%s: `%s` is not KEY=VALUE", in->cmd,
                                              w[i]);
                        break;
                }
                *eq = '\0';
                if (env)
                        env_set(c, w[i], eq + 1);
                else
                        json_object_set_new(json_object_get(c, "Labels"), w[i],
                                            json_string(eq + 1));
        }
        img_cf_words_free(w, n);
        return r;
}

/* CMD/ENTRYPOINT: the exec form as is; the shell form through SHELL. */
static json_t *command_form(struct build *b, const struct img_cf_instr *in)
{
        if (in->json) {
                json_t *a = json_array();
                for (size_t i = 0; i < in->argc; i++)
                        json_array_append_new(a, json_string(in->argv[i]));
                return a;
        }
        json_t *shell = json_object_get(json_object_get(b->cfg, "config"), "Shell");
        json_t *a = json_is_array(shell) && json_array_size(shell)
                            ? json_deep_copy(shell)
                            : json_pack("[s,s]", "/bin/sh", "-c");
        json_array_append_new(a, json_string(in->rest));
        return a;
}

static int do_healthcheck(const struct img_cf_instr *in, json_t *c, berth_error_t *err)
{
        if (strcasecmp(in->rest, "NONE") == 0) {
                json_object_set_new(c, "Healthcheck", json_pack("{s:[s]}", "Test", "NONE"));
                return 0;
        }
        if (strncasecmp(in->rest, "CMD", 3) != 0 || !isspace((unsigned char) in->rest[3]))
                return berth_fail_status(err, 125, 0, "HEALTHCHECK takes CMD ... or NONE");
        struct img_cf_instr sub = *in;
        sub.rest = (char *) in->rest + 4;
        while (isspace((unsigned char) *sub.rest))
                sub.rest++;
        json_t *hc = json_object();
        json_t *test = json_array();
        json_t *j = sub.rest[0] == '[' ? json_loads(sub.rest, 0, NULL) : NULL;
        if (json_is_array(j)) {
                json_array_append_new(test, json_string("CMD"));
                json_array_extend(test, j);
        } else {
                json_array_append_new(test, json_string("CMD-SHELL"));
                json_array_append_new(test, json_string(sub.rest));
        }
        json_decref(j);
        json_object_set_new(hc, "Test", test);
        static const char *const durs[][2] = {{"interval", "Interval"},
                                              {"timeout", "Timeout"},
                                              {"start-period", "StartPeriod"},
                                              {"start-interval", "StartInterval"}};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(durs); i++) {
                const char *v = img_cf_flag(in, durs[i][0]);
                int64_t ns;
                if (v == NULL)
                        continue;
                if (berth_parse_duration(v, durs[i][0], &ns, err) < 0) {
                        json_decref(hc);
                        return -1;
                }
                json_object_set_new(hc, durs[i][1], json_integer(ns));
        }
        const char *retries = img_cf_flag(in, "retries");
        if (retries)
                json_object_set_new(hc, "Retries", json_integer(atoi(retries)));
        json_object_set_new(c, "Healthcheck", hc);
        return 0;
}

/* The instructions that change only the config. */
int bld_step_config(struct build *b, const struct img_cf_instr *in, berth_error_t *err)
{
        json_t *c = json_object_get(b->cfg, "config");
        if (!json_is_object(c)) {
                c = json_object();
                json_object_set_new(b->cfg, "config", c);
        }
        const char *cmd = in->cmd;
        char **w = NULL;
        size_t n = 0;
        int r = 0;
        if (strcmp(cmd, "ENV") == 0)
                return do_pairs(b, in, true, c, err);
        if (strcmp(cmd, "LABEL") == 0) {
                if (!json_is_object(json_object_get(c, "Labels")))
                        json_object_set_new(c, "Labels", json_object());
                return do_pairs(b, in, false, c, err);
        }
        if (strcmp(cmd, "CMD") == 0) {
                json_object_set_new(c, "Cmd", command_form(b, in));
                b->cmd_set = true;
                return 0;
        }
        if (strcmp(cmd, "ENTRYPOINT") == 0) {
                json_object_set_new(c, "Entrypoint", command_form(b, in));
                if (!b->cmd_set) /* Docker: a new ENTRYPOINT drops the base image's CMD */
                        json_object_del(c, "Cmd");
                return 0;
        }
        if (strcmp(cmd, "SHELL") == 0) {
                if (!in->json || in->argc == 0)
                        return berth_fail_status(err, 125, 0,
                                                 "SHELL requires the arguments in JSON form");
                json_t *a = json_array();
                for (size_t i = 0; i < in->argc; i++)
                        json_array_append_new(a, json_string(in->argv[i]));
                json_object_set_new(c, "Shell", a);
                return 0;
        }
        if (strcmp(cmd, "HEALTHCHECK") == 0)
                return do_healthcheck(in, c, err);
        if (strcmp(cmd, "ONBUILD") == 0) {
                /* kept in the config; not triggered by builds FROM this image */
                if (!json_is_array(json_object_get(c, "OnBuild")))
                        json_object_set_new(c, "OnBuild", json_array());
                json_array_append_new(json_object_get(c, "OnBuild"), json_string(in->rest));
                return 0;
        }
        if (strcmp(cmd, "VOLUME") == 0 && in->json) {
                json_t *vols = json_object_get(c, "Volumes");
                if (!json_is_object(vols)) {
                        vols = json_object();
                        json_object_set_new(c, "Volumes", vols);
                }
                for (size_t i = 0; i < in->argc && r == 0; i++) {
                        r = img_cf_words(in->argv[i], bld_lookup, b, false, &w, &n, err);
                        if (r == 0)
                                json_object_set_new(vols, w[0], json_object());
                        img_cf_words_free(w, n);
                        w = NULL;
                        n = 0;
                }
                return r;
        }
        bool split = strcmp(cmd, "EXPOSE") == 0 || strcmp(cmd, "VOLUME") == 0;
        if (img_cf_words(in->rest, bld_lookup, b, split, &w, &n, err) < 0)
                return -1;
        if (strcmp(cmd, "MAINTAINER") == 0) {
                json_object_set_new(b->cfg, "author", json_string(w[0]));
        } else if (strcmp(cmd, "WORKDIR") == 0 && w[0][0] != '/') {
                const char *cwd = json_string_value(json_object_get(c, "WorkingDir"));
                size_t l = cwd ? strlen(cwd) : 0;
                char *abs = berth_xasprintf("%s%s%s", cwd && *cwd ? cwd : "/",
                                            l && cwd[l - 1] != '/' ? "/" : "", w[0]);
                json_object_set_new(c, "WorkingDir", json_string(abs));
                free(abs);
        } else {
                for (size_t i = 0; i < n && r == 0; i++) {
                        char *change = berth_xasprintf("%s %s", cmd, w[i]);
                        r = img_config_apply_change(b->cfg, change, err);
                        free(change);
                }
        }
        img_cf_words_free(w, n);
        return r;
}
