/* build.c — bld_run: a Containerfile executed step by step, each step an image on top of the
 * last (as Docker's classic builder does), with a layer cache keyed by the parent image, the
 * instruction and the content it copies, so that an unchanged rebuild makes nothing new.
 * This file has the Containerfile, the step loop, --target, the front-end's labels and
 * tagging; the steps themselves are in instr.c, run.c and copy.c, commits in cache.c. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/build_internal.h"
#include "common/util.h"

void bld_emit(struct build *b, struct bld_event *ev)
{
        ev->step = b->step;
        ev->total = b->total;
        if (b->o->on_event)
                b->o->on_event(b->o->ctx, ev);
}

int bld_cancelled(struct build *b)
{
        return b->o->cancelled ? b->o->cancelled(b->o->ctx) : 0;
}

char *bld_tmp_name(void)
{
        /* the service runs builds in several threads of one process */
        static atomic_uint seq;
        return berth_xasprintf("build-%d-%u", (int) getpid(), atomic_fetch_add(&seq, 1));
}

char *bld_default_dockerfile(const char *context)
{
        char *path = berth_path_join(context, "Containerfile");
        if (access(path, F_OK) < 0) {
                free(path);
                path = berth_path_join(context, "Dockerfile");
        }
        return path;
}

int bld_resolve_image(struct build *b, const char *what, char out[IMG_DIGEST_MAX], bool *scratch,
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
        /* as Docker's classic builder: an image the store lacks is pulled (with --pull, any);
         * an ID or a digest-less local name that is no reference cannot be */
        if (b->o->pull && (r < 0 || b->o->pull_always)) {
                cleanup_free char *norm = NULL;
                if (img_ref_normalize(what, &norm, &lerr) == 0) {
                        if (img_pull(&b->s, what, b->o->pull, out, err) < 0) {
                                /* the builder stops with the pull's words, a missing manifest
                                 * in dockerd's (the reference as written, :latest added) */
                                if (strstr(berth_error_msg(*err), "HTTP 404")) {
                                        const char *slash = strrchr(what, '/');
                                        bool tagged = strchr(what, '@') ||
                                                      strchr(slash ? slash : what, ':');
                                        berth_error_release(err);
                                        return berth_fail_status(
                                                err, 1, 0,
                                                "manifest for %s%s not found: manifest unknown: "
                                                "manifest unknown",
                                                what, tagged ? "" : ":latest");
                                }
                                if ((*err)->status == 0 || (*err)->status == 125)
                                        (*err)->status = 1;
                                return -1;
                        }
                        return 0;
                }
                berth_error_release(&lerr);
        }
        return r < 0 ? berth_fail_status(err, 125, 0, "%s: image not known", what) : 0;
}

static int step(struct build *b, const struct img_cf_instr *in, berth_error_t *err)
{
        const char *cmd = in->cmd;
        if (strcmp(cmd, "FROM") == 0)
                return bld_step_from(b, in, err);
        if (strcmp(cmd, "ARG") == 0)
                return bld_step_arg(b, in, b->n_stages == 0, err);
        if (strcmp(cmd, "RUN") == 0)
                return bld_step_run(b, in, err);
        if (strcmp(cmd, "COPY") == 0 || strcmp(cmd, "ADD") == 0)
                return bld_step_copy(b, in, cmd[0] == 'A', err);
        char key[IMG_DIGEST_MAX];
        bool hit;
        if (bld_cache_check(b, in->text, NULL, key, &hit, err) < 0)
                return -1;
        if (hit)
                return 0;
        if (bld_step_config(b, in, err) < 0)
                return -1;
        cleanup_free char *by = berth_xasprintf("/bin/sh -c #(nop) %s", in->text);
        if (strcmp(cmd, "WORKDIR") == 0)
                return bld_workdir(b, by, key, err);
        return bld_commit(b, by, NULL, NULL, key, err);
}

static int read_ignore(struct build *b, berth_error_t *err)
{
        cleanup_free char *text = NULL;
        cleanup_free char *path = berth_path_join(b->o->context, ".dockerignore");
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

/* The number of instructions to run: all, or up to the start of the stage after target. */
static int last_step(const struct img_cf *cf, const char *target, size_t *last, berth_error_t *err)
{
        *last = cf->n;
        if (target == NULL)
                return 0;
        bool in_target = false;
        for (size_t i = 0; i < cf->n; i++) {
                if (strcmp(cf->v[i].cmd, "FROM") != 0)
                        continue;
                if (in_target) {
                        *last = i;
                        return 0;
                }
                const char *as = strcasestr(cf->v[i].rest, " as ");
                in_target = as && strcasecmp(as + 4 + strspn(as + 4, " "), target) == 0;
        }
        if (!in_target)
                return berth_fail_status(err, 125, 0, "target stage `%s` not found", target);
        return 0;
}

/* The front-end's labels (docker build --label) as a LABEL instruction after the last step,
 * as dockerd adds them; values quoted so that nothing in them is substituted. */
static struct img_cf_instr *label_instr(json_t *labels)
{
        if (json_object_size(labels) == 0)
                return NULL;
        char *rest = berth_xstrdup("");
        const char *k;
        json_t *v;
        json_object_foreach(labels, k, v)
        {
                const char *parts[2] = {k, json_is_string(v) ? json_string_value(v) : ""};
                char *q[2];
                for (int j = 0; j < 2; j++) {
                        size_t n = strlen(parts[j]), o = 0;
                        q[j] = berth_xmalloc(2 * n + 1);
                        for (size_t i = 0; i < n; i++) {
                                if (strchr("\"\\$", parts[j][i]))
                                        q[j][o++] = '\\';
                                q[j][o++] = parts[j][i];
                        }
                        q[j][o] = '\0';
                }
                char *next =
                        berth_xasprintf("%s%s\"%s\"=\"%s\"", rest, rest[0] ? " " : "", q[0], q[1]);
                free(q[0]);
                free(q[1]);
                free(rest);
                rest = next;
        }
        struct img_cf_instr *in = berth_xcalloc(1, sizeof(*in));
        in->cmd = berth_xstrdup("LABEL");
        in->text = berth_xasprintf("LABEL %s", rest);
        in->rest = rest;
        return in;
}

static void label_instr_free(struct img_cf_instr *in)
{
        if (in == NULL)
                return;
        free(in->cmd);
        free(in->text);
        free(in->rest);
        free(in);
}

/* Name the final image: the same config and layers, committed again with the names. */
static int tag_result(struct build *b, berth_error_t *err)
{
        size_t n = b->o->n_tags;
        if (n == 0)
                return 0;
        struct img_image img = {0};
        char out[IMG_DIGEST_MAX];
        int r = img_image_load(&b->s, b->cur, &img, err);
        if (r == 0)
                r = img_manifest_commit(&b->s, &img.config, img.layers, img.n_layers, b->o->tags, n,
                                        out, err);
        img_image_free(&img);
        for (size_t i = 0; r == 0 && i < n; i++) {
                struct bld_event ev = {.kind = BLD_EV_TAGGED, .text = b->o->tags[i]};
                bld_emit(b, &ev);
        }
        return r;
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
        free(b->listed);
        if (b->context_fd >= 0)
                close(b->context_fd);
}

/* Run the steps; on failure, out names the one that failed. */
static int run_steps(struct build *b, const struct img_cf *cf, size_t last,
                     const struct img_cf_instr *labels, struct bld_result *out, berth_error_t *err)
{
        b->total = last + (labels != NULL);
        for (size_t i = 0; i < b->total; i++) {
                const struct img_cf_instr *in = i < last ? &cf->v[i] : labels;
                int stop = bld_cancelled(b);
                if (stop)
                        return berth_fail_status(err, stop, 0, "interrupted");
                b->step = i + 1;
                struct bld_event ev = {.kind = BLD_EV_STEP, .text = in->text};
                bld_emit(b, &ev);
                if (step(b, in, err) == 0)
                        continue;
                stop = bld_cancelled(b);
                if (stop) {
                        berth_error_release(err);
                        return berth_fail_status(err, stop, 0, "interrupted");
                }
                out->failed_line = in->line;
                snprintf(out->failed_cmd, sizeof(out->failed_cmd), "%s", in->cmd);
                out->run_code = b->run_code;
                return -1;
        }
        int stop = bld_cancelled(b);
        return stop ? berth_fail_status(err, stop, 0, "interrupted") : 0;
}

int bld_run(const struct berth_paths *paths, const struct bld_opts *o, struct bld_result *out,
            berth_error_t *err)
{
        struct build b = {.o = o, .context_fd = -1, .network = o->network ? o->network : "host"};
        memset(out, 0, sizeof(*out));
        b.global_args = json_object();
        b.args = json_object();
        cleanup_free char *file_buf = NULL;
        cleanup_free char *text = NULL;
        struct img_cf cf = {0};
        struct img_cf_instr *labels = NULL;
        bool store_open = false, eng_open = false;
        int r = -1;
        const char *file = o->dockerfile;
        b.context_fd = open(o->context, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (b.context_fd < 0) {
                berth_fail_status(err, 125, errno, "context `%s`", o->context);
                goto out;
        }
        if (o->dockerfile_text == NULL) {
                if (file == NULL) {
                        file_buf = bld_default_dockerfile(o->context);
                        file = file_buf;
                }
                if (berth_read_file(file, &text, NULL, err) < 0) {
                        (*err)->status = 125;
                        goto out;
                }
        }
        if (img_cf_parse(o->dockerfile_text ? o->dockerfile_text : text, &cf, err) < 0) {
                berth_wrap(err, "%s", file ? file : "Dockerfile");
                goto out;
        }
        size_t last;
        if (last_step(&cf, o->target, &last, err) < 0 || read_ignore(&b, err) < 0 ||
            img_store_open(&b.s, paths->data_dir, err) < 0)
                goto out;
        store_open = true;
        /* no garbage collection while we build: our temporary directories, and images
         * between being stored and named, are safe until the store is closed */
        if (img_store_writer_begin(&b.s, err) < 0 || eng_ctx_init(&b.e, paths, err) < 0)
                goto out;
        eng_open = true;
        b.cfg = img_config_new();
        labels = label_instr(o->labels);
        r = run_steps(&b, &cf, last, labels, out, err);
        if (r == 0)
                r = bld_ensure_image(&b, err);
        if (r == 0) {
                const char *id = json_string_value(json_object_get(b.cfg, "_id"));
                snprintf(out->id, sizeof(out->id), "%s", id ? id : "");
                snprintf(out->manifest, sizeof(out->manifest), "%s", b.cur);
                struct bld_event ev = {.kind = BLD_EV_BUILT, .id = out->id};
                bld_emit(&b, &ev);
                r = tag_result(&b, err);
        }
out:
        if (store_open)
                bld_unlist_intermediate(&b, r == 0 ? b.cur : NULL);
        label_instr_free(labels);
        img_cf_free(&cf);
        if (eng_open)
                eng_ctx_free(&b.e);
        if (store_open)
                img_store_close(&b.s);
        build_free(&b);
        return r < 0 ? -1 : 0;
}
