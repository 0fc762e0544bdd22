/* cmd_build.c — `berth build`: a Containerfile executed step by step, each step an image on
 * top of the last (as Docker's classic builder does), with a layer cache keyed by the parent
 * image, the instruction and the content it copies, so that an unchanged rebuild makes nothing
 * new.  Commits and the cache are in build_cache.c, RUN in build_run.c, COPY/ADD in
 * build_copy.c; this file has the options, the step loop, FROM, ARG and the instructions that
 * only change the image config. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/build.h"
#include "cli/image_common.h"
#include "common/units.h"
#include "common/util.h"

static void build_usage(FILE *out)
{
        fprintf(out, "Usage: berth build [OPTIONS] CONTEXT\n"
                     "\n"
                     "Build an image from a Containerfile (Dockerfile syntax).\n"
                     "\n"
                     "Options:\n"
                     "  -f, --file FILE        the Containerfile (default CONTEXT/Containerfile,\n"
                     "                         else CONTEXT/Dockerfile)\n"
                     "  -t, --tag NAME         name the image (repeatable)\n"
                     "      --build-arg K[=V]  set a build-time variable (V from the environment\n"
                     "                         when absent)\n"
                     "      --target STAGE     build up to this stage\n"
                     "      --iidfile FILE     write the image ID (sha256:...) to FILE\n"
                     "      --no-cache         do not use the layer cache\n"
                     "      --network MODE     network of RUN containers (default host)\n"
                     "  -q, --quiet            print only the image ID\n"
                     "  -h, --help             show this help\n");
}

const char *build_lookup(void *ctx, const char *name)
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

char *build_tmp_name(struct build *b)
{
        return berth_xasprintf("build-%d-%d", (int) getpid(), b->tmp_seq++);
}

int build_resolve_image(struct build *b, const char *what, char out[IMG_DIGEST_MAX], bool *scratch,
                        berth_error_t *err)
{
        *scratch = false;
        for (size_t i = 0; i < b->n_stages; i++) {
                char idx[24];
                snprintf(idx, sizeof(idx), "%zu", i);
                if ((b->stages[i].name && strcasecmp(b->stages[i].name, what) == 0) ||
                    strcmp(idx, what) == 0) {
                        snprintf(out, IMG_DIGEST_MAX, "%s", b->stages[i].manifest);
                        return 0;
                }
        }
        if (strcmp(what, "scratch") == 0) {
                *scratch = true;
                return 0;
        }
        struct img_table t = {0};
        struct img_entry *ent = NULL;
        if (img_table_load(&b->s, &t, err) < 0)
                return -1;
        berth_error_t lerr = NULL;
        int r = img_lookup(&b->s, &t, what, &ent, &lerr);
        if (r == 0)
                snprintf(out, IMG_DIGEST_MAX, "%s", ent->manifest);
        img_table_free(&t);
        berth_error_release(&lerr);
        return r < 0 ? berth_fail_status(err, 125, 0, "%s: image not known", what) : 0;
}

static void end_stage(struct build *b)
{
        if (b->n_stages)
                snprintf(b->stages[b->n_stages - 1].manifest, IMG_DIGEST_MAX, "%s", b->cur);
}

static int do_from(struct build *b, const struct img_cf_instr *in, berth_error_t *err)
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
                r = build_resolve_image(b, w[0], manifest, &scratch, err);
        if (r == 0) {
                end_stage(b);
                b->stages = berth_xrealloc(b->stages, (b->n_stages + 1) * sizeof(*b->stages));
                struct build_stage *st = &b->stages[b->n_stages++];
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
                        r = build_set_current(b, manifest, err);
                        if (r == 0)
                                build_print_id(b, "");
                }
        }
        img_cf_words_free(w, n);
        return r;
}

/* ARG NAME[=default] ...: in a stage, or globally before the first FROM. */
static int do_arg(struct build *b, const struct img_cf_instr *in, bool global, berth_error_t *err)
{
        char **w = NULL;
        size_t n = 0;
        if (img_cf_words(in->rest, global ? global_lookup : build_lookup, b, true, &w, &n, err) < 0)
                return -1;
        json_t *into = global ? b->global_args : b->args;
        for (size_t i = 0; i < n; i++) {
                char *eq = strchr(w[i], '=');
                if (eq)
                        *eq = '\0';
                json_t *given = json_object_get(b->build_args, w[i]);
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
        if (img_cf_words(in->rest, build_lookup, b, true, &w, &n, err) < 0)
                return -1;
        int r = 0;
        if (n >= 2 && strchr(w[0], '=') == NULL) {
                /* ENV KEY the rest of the line */
                char **v = NULL;
                size_t nv = 0;
                const char *p = in->rest + strcspn(in->rest, " \t");
                if (img_cf_words(p + strspn(p, " \t"), build_lookup, b, false, &v, &nv, err) < 0) {
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
static int do_config(struct build *b, const struct img_cf_instr *in, berth_error_t *err)
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
                        r = img_cf_words(in->argv[i], build_lookup, b, false, &w, &n, err);
                        if (r == 0)
                                json_object_set_new(vols, w[0], json_object());
                        img_cf_words_free(w, n);
                        w = NULL;
                        n = 0;
                }
                return r;
        }
        bool split = strcmp(cmd, "EXPOSE") == 0 || strcmp(cmd, "VOLUME") == 0;
        if (img_cf_words(in->rest, build_lookup, b, split, &w, &n, err) < 0)
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

static int step(struct build *b, const struct img_cf_instr *in, berth_error_t *err)
{
        const char *cmd = in->cmd;
        if (strcmp(cmd, "FROM") == 0)
                return do_from(b, in, err);
        if (strcmp(cmd, "ARG") == 0)
                return do_arg(b, in, b->n_stages == 0, err);
        if (strcmp(cmd, "RUN") == 0)
                return build_run(b, in, err);
        if (strcmp(cmd, "COPY") == 0 || strcmp(cmd, "ADD") == 0)
                return build_copy(b, in, cmd[0] == 'A', err);
        char key[IMG_DIGEST_MAX];
        bool hit;
        if (build_cache_check(b, in->text, NULL, key, &hit, err) < 0)
                return -1;
        if (hit)
                return 0;
        if (do_config(b, in, err) < 0)
                return -1;
        cleanup_free char *by = berth_xasprintf("/bin/sh -c #(nop) %s", in->text);
        if (strcmp(cmd, "WORKDIR") == 0)
                return build_workdir(b, by, key, err);
        return build_commit(b, by, NULL, NULL, key, err);
}

static int read_ignore(struct build *b, berth_error_t *err)
{
        cleanup_free char *text = NULL;
        cleanup_free char *path = berth_path_join(b->context, ".dockerignore");
        if (access(path, F_OK) < 0)
                return 0;
        if (berth_read_file(path, &text, NULL, err) < 0)
                return -1;
        char *save = NULL;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                l += strspn(l, " \t");
                size_t n = strcspn(l, "\r");
                while (n && isspace((unsigned char) l[n - 1]))
                        n--;
                l[n] = '\0';
                if (n == 0 || l[0] == '#')
                        continue;
                bool neg = l[0] == '!';
                char *p = l + neg;
                while (p[0] == '/' || (p[0] == '.' && p[1] == '/'))
                        p += p[0] == '/' ? 1 : 2;
                b->ignore = berth_xrealloc(b->ignore, (b->n_ignore + 1) * sizeof(char *));
                b->ignore[b->n_ignore++] = berth_xasprintf("%s%s", neg ? "!" : "", p);
        }
        return 0;
}

static int parse_opts(struct build *b, int argc, char **argv, const char **file, json_t *tags,
                      const char **target, berth_error_t *err)
{
        enum {
                OPT_BUILD_ARG = 256,
                OPT_NO_CACHE,
                OPT_NETWORK,
                OPT_TARGET,
                OPT_IIDFILE,
                OPT_IGNORED
        };
        static const struct option opts[] = {
                {"file", required_argument, NULL, 'f'},
                {"tag", required_argument, NULL, 't'},
                {"quiet", no_argument, NULL, 'q'},
                {"build-arg", required_argument, NULL, OPT_BUILD_ARG},
                {"no-cache", no_argument, NULL, OPT_NO_CACHE},
                {"network", required_argument, NULL, OPT_NETWORK},
                {"target", required_argument, NULL, OPT_TARGET},
                {"iidfile", required_argument, NULL, OPT_IIDFILE},
                {"rm", optional_argument, NULL, OPT_IGNORED},
                {"force-rm", optional_argument, NULL, OPT_IGNORED},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        int c;
        while ((c = getopt_long(argc, argv, "f:t:qh", opts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        *file = optarg;
                        break;
                case 't': {
                        char *norm = NULL;
                        if (img_ref_normalize(optarg, &norm, NULL) < 0)
                                return cli_usage_error(err, "build", "invalid reference format: %s",
                                                       optarg);
                        json_array_append_new(tags, json_string(norm));
                        free(norm);
                        break;
                }
                case 'q':
                        b->quiet = true;
                        break;
                case OPT_BUILD_ARG: {
                        const char *eq = strchr(optarg, '=');
                        cleanup_free char *k =
                                eq ? berth_xasprintf("%.*s", (int) (eq - optarg), optarg)
                                   : berth_xstrdup(optarg);
                        const char *v = eq ? eq + 1 : getenv(k);
                        if (v)
                                json_object_set_new(b->build_args, k, json_string(v));
                        break;
                }
                case OPT_NO_CACHE:
                        b->no_cache = true;
                        break;
                case OPT_NETWORK:
                        b->network = optarg;
                        break;
                case OPT_TARGET:
                        *target = optarg;
                        break;
                case OPT_IIDFILE:
                        b->iidfile = optarg;
                        break;
                case OPT_IGNORED:
                        break;
                case 'h':
                        build_usage(stdout);
                        return 1;
                default:
                        return cli_usage_error(err, "build", "invalid option");
                }
        }
        if (optind != argc - 1)
                return cli_usage_error(err, "build", "requires exactly one argument (CONTEXT)");
        b->context = argv[optind];
        return 0;
}

static void build_free(struct build *b)
{
        for (size_t i = 0; i < b->n_stages; i++)
                free(b->stages[i].name);
        free(b->stages);
        for (size_t i = 0; i < b->n_layers; i++)
                free(b->layers[i].media_type);
        free(b->layers);
        for (size_t i = 0; i < b->n_ignore; i++)
                free(b->ignore[i]);
        free(b->ignore);
        json_decref(b->cfg);
        json_decref(b->args);
        json_decref(b->global_args);
        json_decref(b->build_args);
        free(b->listed);
        if (b->context_fd >= 0)
                close(b->context_fd);
}

/* Name the final image: the same config and layers, committed again with the names. */
static int tag_result(struct build *b, json_t *tags, berth_error_t *err)
{
        size_t n = json_array_size(tags);
        if (n == 0)
                return 0;
        const char **names = berth_xcalloc(n, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                names[i] = json_string_value(json_array_get(tags, i));
        struct img_image img = {0};
        char out[IMG_DIGEST_MAX];
        int r = img_image_load(&b->s, b->cur, &img, err);
        if (r == 0)
                r = img_manifest_commit(&b->s, &img.config, img.layers, img.n_layers, names, n, out,
                                        err);
        img_image_free(&img);
        for (size_t i = 0; r == 0 && !b->quiet && i < n; i++)
                printf("Successfully tagged %s\n", names[i]);
        free(names);
        return r;
}

static int read_stdin(char **out, berth_error_t *err)
{
        size_t len = 0, cap = 4096;
        char *buf = berth_xmalloc(cap);
        ssize_t n;
        while ((n = read(STDIN_FILENO, buf + len, cap - len - 1)) > 0) {
                len += (size_t) n;
                if (cap - len < 2)
                        buf = berth_xrealloc(buf, cap *= 2);
        }
        if (n < 0) {
                free(buf);
                return berth_fail(err, errno, "read the Containerfile from stdin");
        }
        buf[len] = '\0';
        *out = buf;
        return 0;
}

static void on_signal(int sig)
{
        build_interrupted = sig;
        build_kill_run();
}

int cmd_build(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        struct build b = {.g = g, .context_fd = -1, .network = "host"};
        b.build_args = json_object();
        b.global_args = json_object();
        b.args = json_object();
        json_t *tags = json_array();
        const char *file = NULL, *target = NULL;
        cleanup_free char *file_buf = NULL;
        cleanup_free char *text = NULL;
        struct img_cf cf = {0};
        bool store_open = false, eng_open = false;
        int r = parse_opts(&b, argc, argv, &file, tags, &target, err);
        if (r != 0 || b.context == NULL)
                goto out;
        r = -1;
        b.context_fd = open(b.context, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (b.context_fd < 0) {
                berth_fail_status(err, 125, errno, "context `%s`", b.context);
                goto out;
        }
        if (file == NULL) {
                file_buf = berth_path_join(b.context, "Containerfile");
                if (access(file_buf, F_OK) < 0) {
                        free(file_buf);
                        file_buf = berth_path_join(b.context, "Dockerfile");
                }
                file = file_buf;
        }
        if (strcmp(file, "-") == 0 ? read_stdin(&text, err) < 0
                                   : berth_read_file(file, &text, NULL, err) < 0) {
                if (*err)
                        (*err)->status = 125;
                goto out;
        }
        if (img_cf_parse(text, &cf, err) < 0) {
                berth_wrap(err, "%s", file);
                goto out;
        }
        if (read_ignore(&b, err) < 0 || cli_store_open(g, &b.s, err) < 0)
                goto out;
        store_open = true;
        /* no garbage collection while we build: our temporary directories, and images
         * between being stored and named, are safe until the store is closed */
        if (img_store_writer_begin(&b.s, err) < 0)
                goto out;
        if (eng_ctx_init(&b.e, &g->paths, err) < 0)
                goto out;
        eng_open = true;
        b.cfg = img_config_new();
        size_t last = cf.n;
        if (target) {
                /* the instructions up to the start of the stage after target */
                bool in_target = false;
                for (size_t i = 0; i < cf.n; i++) {
                        if (strcmp(cf.v[i].cmd, "FROM") != 0)
                                continue;
                        if (in_target) {
                                last = i;
                                break;
                        }
                        const char *as = strcasestr(cf.v[i].rest, " as ");
                        in_target = as && strcasecmp(as + 4 + strspn(as + 4, " "), target) == 0;
                }
                if (!in_target && last == cf.n) {
                        r = berth_fail_status(err, 125, 0, "target stage `%s` not found", target);
                        goto out;
                }
        }
        /* an interrupted build stops between steps (or kills its RUN) and cleans up */
        struct sigaction sa = {.sa_handler = on_signal};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        r = 0;
        for (size_t i = 0; i < last && r == 0; i++) {
                if (build_interrupted) {
                        r = berth_fail_status(err, 128 + build_interrupted, 0, "interrupted");
                        break;
                }
                if (!b.quiet) {
                        printf("STEP %zu/%zu: %s\n", i + 1, last, cf.v[i].text);
                        fflush(stdout);
                }
                r = step(&b, &cf.v[i], err);
                if (r < 0 && build_interrupted) {
                        berth_error_release(err);
                        berth_fail_status(err, 128 + build_interrupted, 0, "interrupted");
                }
                if (r < 0)
                        berth_wrap(err, "%s:%d: %s", file, cf.v[i].line, cf.v[i].cmd);
        }
        if (r == 0 && build_interrupted)
                r = berth_fail_status(err, 128 + build_interrupted, 0, "interrupted");
        if (r == 0)
                r = build_ensure_image(&b, err);
        if (r == 0 && tags && json_array_size(tags) && !b.quiet)
                printf("COMMIT %s\n", json_string_value(json_array_get(tags, 0)));
        if (r == 0)
                r = tag_result(&b, tags, err);
        if (r == 0) {
                const char *id = json_string_value(json_object_get(b.cfg, "_id"));
                printf("%s\n", id ? img_digest_hex(id) : "");
                if (b.iidfile && id)
                        r = berth_write_file_atomic(b.iidfile, id, strlen(id), 0644, err);
        }
out:
        if (store_open)
                build_unlist_intermediate(&b, r == 0 ? b.cur : NULL);
        img_cf_free(&cf);
        json_decref(tags);
        if (eng_open)
                eng_ctx_free(&b.e);
        if (store_open)
                img_store_close(&b.s);
        build_free(&b);
        return r < 0 ? -1 : 0;
}
