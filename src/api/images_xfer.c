/* images_xfer.c — the Engine API's image transfers: pull and push (progress as JSON lines),
 * save (a docker-archive streamed as it is written), load and import (the request body).
 *
 * Pull, push and save run in a worker thread that writes into a pipe; the handler waits for
 * the first bytes.  A failure before any (an unknown image, a registry that does not answer,
 * a missing manifest) gets dockerd's status code; once the 200 is out, a failure can only be
 * one more JSON line ({"errorDetail":…}), as dockerd does. */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/containers.h"
#include "api/images.h"
#include "common/util.h"
#include "engine/commit.h"

struct xfer {
        const struct berth_paths *paths;
        int rfd, wfd;
        pthread_t th;
        int (*work)(struct xfer *x, berth_error_t *err);
        berth_error_t err;
        int ret;
        bool wrote;
        char head[4096]; /* what the handler read to know the stream has begun */
        size_t head_len, head_off;
        /* pull and push */
        struct img_registry_opts o;
        char *ref;      /* what to pull or push, with its tag */
        char *platform; /* pull's, as the query gave it */
        char *user, *password;
        /* save */
        char **names;
        size_t n_names;
};

static void xfer_free(struct xfer *x)
{
        if (x->rfd >= 0)
                close(x->rfd);
        berth_error_release(&x->err);
        free(x->ref);
        free(x->platform);
        if (x->password)
                explicit_bzero(x->password, strlen(x->password));
        free(x->user);
        free(x->password);
        for (size_t i = 0; i < x->n_names; i++)
                free(x->names[i]);
        free(x->names);
        free(x);
}

static void xfer_write(struct xfer *x, json_t *j)
{
        char *s = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        if (!s)
                return;
        size_t n = strlen(s);
        s[n] = '\n'; /* in place of the NUL: one write per line */
        /* a client that left: EPIPE, and the work goes on to its end regardless */
        (void) berth_write_all(x->wfd, s, n + 1);
        x->wrote = true;
        free(s);
}

static int pull_work(struct xfer *x, berth_error_t *err);

static void *xfer_thread(void *arg)
{
        struct xfer *x = arg;
        x->ret = x->work(x, &x->err);
        if (x->ret < 0 && x->wrote) {
                const char *m = api_error_text(x->err);
                /* dockerd's stream has the cause alone, not the CLI's "pull `REF`: " before it */
                const char *cause = x->work == pull_work && berth_str_has_prefix(m, "pull `")
                                            ? strstr(m, "`: ")
                                            : NULL;
                if (cause)
                        m = cause + 3;
                xfer_write(x, json_pack("{s:{s:s}, s:s}", "errorDetail", "message", m, "error", m));
        }
        close(x->wfd);
        x->wfd = -1;
        return NULL;
}

static ssize_t xfer_gen(void *ctx, char *buf, size_t max)
{
        struct xfer *x = ctx;
        if (x->head_off < x->head_len) {
                size_t n = x->head_len - x->head_off;
                n = n < max ? n : max;
                memcpy(buf, x->head + x->head_off, n);
                x->head_off += n;
                return (ssize_t) n;
        }
        return api_stream_read(x->rfd, buf, max);
}

static void xfer_done(void *ctx)
{
        struct xfer *x = ctx;
        /* the worker sees EPIPE if the client left early, and ends */
        close(x->rfd);
        x->rfd = -1;
        pthread_join(x->th, NULL);
        xfer_free(x);
}

/* Start the work and reply; takes x.  Once it has written a byte the reply is the stream (x
 * then belongs to it); a work that ended without one is answered here: fail(r, x) for its
 * error, an empty 200 for none when empty_ok (nothing when no thread could start: that reply
 * is queued). */
static void xfer_reply(struct api_req *r, struct xfer *x, const char *content_type,
                       void (*fail)(struct api_req *r, struct xfer *x), bool empty_ok)
{
        int ret = -1;
        if (api_pipe_thread(r, &x->th, xfer_thread, x, &x->rfd, &x->wfd, "transfer")) {
                ssize_t n = api_stream_read(x->rfd, x->head, sizeof(x->head));
                if (n > 0) {
                        x->head_len = (size_t) n;
                        api_stream(r, 200, content_type, xfer_gen, x, xfer_done);
                        return;
                }
                pthread_join(x->th, NULL);
                ret = x->ret;
        }
        if (ret < 0 && x->err)
                fail(r, x);
        else if (ret == 0 && empty_ok)
                api_reply_empty(r, 200);
        xfer_free(x);
}

/* X-Registry-Auth: base64url of {"username","password","serveraddress"} ("e30=" is {}). */
json_t *api_header_json(struct api_req *r, const char *name)
{
        const char *h = api_header(r, name);
        if (!h || !*h)
                return NULL;
        /* base64url, padded or not */
        size_t n = strlen(h);
        cleanup_free char *b64 = berth_xmalloc(n + 4);
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                b64[k++] = h[i] == '-' ? '+' : h[i] == '_' ? '/' : h[i];
        while (k % 4)
                b64[k++] = '=';
        b64[k] = '\0';
        size_t got = 0;
        cleanup_free char *raw = img_base64_decode(b64, &got);
        json_t *j = raw ? json_loadb(raw, got, 0, NULL) : NULL;
        if (raw)
                explicit_bzero(raw, got);
        return j;
}

static void registry_auth(struct api_req *r, struct xfer *x)
{
        json_t *j = api_header_json(r, "X-Registry-Auth");
        const char *u = json_string_value(json_object_get(j, "username"));
        const char *p = json_string_value(json_object_get(j, "password"));
        if (u && *u && p) {
                x->user = berth_xstrdup(u);
                x->password = berth_xstrdup(p);
        }
        json_decref(j);
}

/* What the service's registry client uses: the request's credentials, else those `berth
 * login` stored (the CLI's file), verification as `berth pull` does by default. */
static struct xfer *xfer_new(struct api_req *r)
{
        struct xfer *x = berth_xcalloc(1, sizeof(*x));
        x->paths = r->paths;
        x->rfd = x->wfd = -1;
        registry_auth(r, x);
        x->o.tls_verify = -1;
        x->o.retries = 3;
        x->o.user = x->user;
        x->o.password = x->password;
        return x;
}

char *api_auth_file(const struct berth_paths *p)
{
        const char *env = getenv("BERTH_AUTH_FILE");
        return env && *env ? berth_xstrdup(env) : berth_path_join(p->data_dir, "auth.json");
}

json_t *api_progress_json(const char *line)
{
        const char *sep = strstr(line, ": ");
        if (!sep || berth_str_has_prefix(line, "Digest: ") ||
            berth_str_has_prefix(line, "Status: ") || berth_str_has_prefix(sep + 2, "digest: "))
                return json_pack("{s:s}", "status", line);
        cleanup_free char *id = berth_xasprintf("%.*s", (int) (sep - line), line);
        /* dockerd's "Pulling from" line is the one with an id but no progressDetail */
        if (berth_str_has_prefix(sep + 2, "Pulling from "))
                return json_pack("{s:s, s:s}", "status", sep + 2, "id", id);
        return json_pack("{s:s, s:{}, s:s}", "status", sep + 2, "progressDetail", "id", id);
}

/* go-units' HumanSize, which dockerd's bars use: 1000s, four significant digits. */
static void human_size(char *buf, size_t len, double v)
{
        static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
        size_t u = 0;
        while (v >= 1000.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
                v /= 1000.0;
                u++;
        }
        snprintf(buf, len, "%.4g%s", v, units[u]);
}

/* dockerd's "progress" (jsonmessage.JSONProgress.String() at its width of 200, no start
 * time): "[====>     ]    1.2MB/3.4MB", a bar of 50 with the counts after it. */
static char *progress_bar(int64_t current, int64_t total)
{
        char cur[32], tot[32];
        human_size(cur, sizeof(cur), (double) current);
        if (total <= 0)
                return berth_xasprintf("%8s", cur);
        human_size(tot, sizeof(tot), (double) total);
        int pct = (int) ((double) current / (double) total * 100) / 2;
        pct = pct > 50 ? 50 : pct < 0 ? 0 : pct;
        char bar[53];
        bar[0] = '[';
        for (int i = 0; i < 50; i++)
                bar[1 + i] = i < pct ? '=' : ' ';
        bar[1 + pct] = '>'; /* after the "=" (the 51st place when full) */
        bar[51] = pct == 50 ? '>' : ' ';
        bar[52] = '\0';
        /* dockerd drops a total the count has passed */
        if (current > total)
                return berth_xasprintf("%s] %8s", bar, cur);
        return berth_xasprintf("%s] %8s/%s", bar, cur, tot);
}

static void pull_bytes(void *ctx, const char *id, const char *status, int64_t current,
                       int64_t total)
{
        struct xfer *x = ctx;
        cleanup_free char *bar = progress_bar(current, total);
        xfer_write(x, json_pack("{s:s, s:{s:I, s:I}, s:s, s:s}", "status", status, "progressDetail",
                                "current", (json_int_t) current, "total", (json_int_t) total,
                                "progress", bar, "id", id));
}

static void pull_progress(void *ctx, const char *line)
{
        xfer_write(ctx, api_progress_json(line));
}

static int pull_work(struct xfer *x, berth_error_t *err)
{
        struct img_store s;
        if (img_store_open(&s, x->paths->data_dir, err) < 0)
                return -1;
        cleanup_free char *af = api_auth_file(x->paths);
        x->o.auth_file = af;
        x->o.progress_fn = pull_progress;
        x->o.bytes_fn = pull_bytes;
        x->o.progress_ctx = x;
        char digest[IMG_DIGEST_MAX];
        int ret = img_pull(&s, x->ref, &x->o, digest, err);
        img_store_close(&s);
        return ret;
}

/* fromImage and tag as one reference: tag "sha256:…" is a digest. */
static char *pull_ref(const char *image, const char *tag)
{
        const char *slash = strrchr(image, '/');
        const char *colon = strrchr(slash ? slash : image, ':');
        if (strchr(image, '@') || colon || !tag || !*tag)
                return colon || strchr(image, '@') ? berth_xstrdup(image)
                                                   : berth_xasprintf("%s:latest", image);
        return berth_xasprintf("%s%s%s", image, strchr(tag, ':') ? "@" : ":", tag);
}

/* A failure before the stream: dockerd's 404 for a manifest the registry does not have,
 * 500 for the rest. */
static void reply_pull_error(struct api_req *r, struct xfer *x)
{
        const char *m = api_error_text(x->err);
        const char *repo = strstr(m, "repository ");
        if (repo && strstr(repo, " not found: ")) /* an all-tags pull of no repository */
                api_reply_error(r, 404, "%s", repo);
        else if (strstr(m, "HTTP 404"))
                api_reply_error(r, 404, "manifest for %s not found: manifest unknown: %s", x->ref,
                                strstr(m, "MANIFEST_UNKNOWN") ? "manifest unknown" : m);
        else
                api_reply_error(r, 500, "%s", m);
}

static void image_import(struct api_req *r, const char *src);

void api_images_create(struct api_req *r)
{
        const char *src = api_query(r, "fromSrc");
        if (src) {
                image_import(r, src);
                return;
        }
        const char *image = api_query(r, "fromImage");
        if (!image || !*image) {
                api_reply_error(r, 400, "fromImage or fromSrc is required");
                return;
        }
        /* a platform that cannot be parsed is refused before any transfer (dockerd's 400) */
        const char *platform = api_query(r, "platform");
        struct img_platform want;
        berth_error_t perr = NULL;
        if (platform && *platform && img_platform_parse(platform, &want, &perr) < 0) {
                api_reply_error(r, 400, "%s", berth_error_msg(perr));
                berth_error_release(&perr);
                return;
        }
        struct xfer *x = xfer_new(r);
        /* no tag, in the name or beside it: every tag (docker pull -a), as dockerd 20.10 */
        const char *tag = api_query(r, "tag");
        const char *slash = strrchr(image, '/');
        x->o.all_tags = (tag == NULL || *tag == '\0') && !strchr(image, '@') &&
                        !strchr(slash ? slash : image, ':');
        x->ref = x->o.all_tags ? berth_xstrdup(image) : pull_ref(image, tag);
        if (platform && *platform) {
                x->platform = berth_xstrdup(platform);
                x->o.platform = x->platform;
        }
        x->work = pull_work;
        xfer_reply(r, x, "application/json", reply_pull_error, true);
}

static void push_progress(void *ctx, const char *line)
{
        struct xfer *x = ctx;
        xfer_write(x, api_progress_json(line));
        /* the last line has an aux twin the clients read the digest from */
        const char *d = strstr(line, ": digest: ");
        char digest[IMG_DIGEST_MAX];
        unsigned long long size = 0;
        if (d && sscanf(d + 10, "%71s size: %llu", digest, &size) == 2)
                xfer_write(x, json_pack("{s:{}, s:{s:s%, s:s, s:I}}", "progressDetail", "aux",
                                        "Tag", line, (size_t) (d - line), "Digest", digest, "Size",
                                        (json_int_t) size));
}

static int push_work(struct xfer *x, berth_error_t *err)
{
        struct img_store s;
        if (img_store_open(&s, x->paths->data_dir, err) < 0)
                return -1;
        cleanup_free char *af = api_auth_file(x->paths);
        x->o.auth_file = af;
        x->o.progress_fn = push_progress;
        x->o.bytes_fn = pull_bytes; /* dockerd's Pushing counts, shaped as a pull's */
        x->o.progress_ctx = x;
        char digest[IMG_DIGEST_MAX];
        int ret = img_push(&s, x->ref, NULL, &x->o, digest, err);
        img_store_close(&s);
        return ret;
}

static void reply_push_error(struct api_req *r, struct xfer *x)
{
        api_reply_error(r, 500, "%s", api_error_text(x->err));
}

void api_images_push(struct api_req *r)
{
        const char *tag = api_query(r, "tag");
        cleanup_free char *ref = pull_ref(r->params[0], tag);
        struct img_store s;
        struct img_table t;
        struct img_entry *e;
        berth_error_t err = NULL;
        if (api_img_open(r, &s, &t) < 0)
                return;
        int found = img_lookup(&s, &t, ref, &e, &err);
        img_table_free(&t);
        img_store_close(&s);
        if (found < 0) {
                berth_error_release(&err);
                api_reply_error(r, 404, "An image does not exist locally with the tag: %s",
                                r->params[0]);
                return;
        }
        struct xfer *x = xfer_new(r);
        x->ref = berth_xstrdup(ref);
        x->work = push_work;
        xfer_reply(r, x, "application/json", reply_push_error, true);
}

static void reply_save_error(struct api_req *r, struct xfer *x)
{
        api_reply_berth_error(r, &x->err);
}

static int save_work(struct xfer *x, berth_error_t *err)
{
        struct img_store s;
        if (img_store_open(&s, x->paths->data_dir, err) < 0)
                return -1;
        /* img_save writes to a path: this thread's end of the pipe */
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", x->wfd);
        x->wrote = true; /* a tarball cut short can carry no error line */
        int ret = img_save(&s, (const char *const *) x->names, x->n_names, IMG_FMT_DOCKER_ARCHIVE,
                           path, err);
        img_store_close(&s);
        return ret;
}

static enum MHD_Result add_name(void *cls, enum MHD_ValueKind kind, const char *key,
                                const char *value)
{
        (void) kind;
        struct xfer *x = cls;
        if (strcmp(key, "names") == 0 && value && *value) {
                x->names = berth_xrealloc(x->names, (x->n_names + 1) * sizeof(char *));
                x->names[x->n_names++] = berth_xstrdup(value);
        }
        return MHD_YES;
}

void api_images_get(struct api_req *r)
{
        struct xfer *x = xfer_new(r);
        if (r->params[0]) {
                x->names = berth_xcalloc(1, sizeof(char *));
                x->names[x->n_names++] = berth_xstrdup(r->params[0]);
        } else {
                MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, add_name, x);
        }
        struct img_store s;
        struct img_table t;
        if (api_img_open(r, &s, &t) < 0) {
                xfer_free(x);
                return;
        }
        /* every name first: a missing image is dockerd's 404, not a broken tarball */
        bool ok = x->n_names > 0;
        for (size_t i = 0; ok && i < x->n_names; i++) {
                struct img_entry *e;
                struct img_image img;
                ok = api_img_find(r, &s, &t, x->names[i], &e, &img) == 0;
                if (ok)
                        img_image_free(&img);
        }
        img_table_free(&t);
        img_store_close(&s);
        if (x->n_names == 0)
                api_reply_error(r, 400, "no images named (names=…)");
        if (!ok) {
                xfer_free(x);
                return;
        }
        x->work = save_work;
        xfer_reply(r, x, "application/x-tar", reply_save_error, false);
}

static void load_report(void *ctx, const char *name, const char *manifest, const char *config)
{
        (void) manifest;
        cleanup_free char *line = name ? berth_xasprintf("Loaded image: %s\n", name)
                                       : berth_xasprintf("Loaded image ID: %s\n", config);
        json_t *j = json_pack("{s:s}", "stream", line);
        char *s = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        json_array_append_new(ctx, json_string(s));
        free(s);
}

/* dockerd answers 200 at once and reports a failure as the stream's last line. */
void api_images_load(struct api_req *r)
{
        struct img_store s;
        if (api_img_open(r, &s, NULL) < 0)
                return;
        json_t *lines = json_array();
        berth_error_t err = NULL;
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", r->body_fd);
        if (r->body_fd < 0)
                berth_fail(&err, EINVAL, "the request has no body (an image archive)");
        else if (img_load(&s, path, load_report, lines, &err) == 0)
                err = NULL;
        img_store_close(&s);
        if (err) {
                /* the path is this process's name for the body: no use to the client */
                cleanup_free char *m = berth_xstrdup(api_error_text(err));
                char q[72];
                snprintf(q, sizeof(q), "`%s`", path);
                for (char *at; (at = strstr(m, q));) {
                        memmove(at + 8, at + strlen(q), strlen(at + strlen(q)) + 1);
                        memcpy(at, "the body", 8);
                }
                json_t *j = json_pack("{s:{s:s}, s:s}", "errorDetail", "message", m, "error", m);
                char *t = json_dumps(j, JSON_COMPACT);
                json_decref(j);
                json_array_append_new(lines, json_string(t));
                free(t);
                berth_error_release(&err);
        }
        size_t len = 0, i;
        json_t *l;
        json_array_foreach(lines, i, l)
        {
                len += strlen(json_string_value(l)) + 1;
        }
        char *body = berth_xmalloc(len + 1), *p = body;
        json_array_foreach(lines, i, l)
        {
                p = stpcpy(p, json_string_value(l));
                *p++ = '\n';
        }
        *p = '\0';
        json_decref(lines);
        api_reply_text(r, 200, "application/json", body);
        free(body);
}

static enum MHD_Result add_change(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
        (void) kind;
        if (strcmp(key, "changes") == 0 && value && *value)
                json_array_append_new(cls, json_string(value));
        return MHD_YES;
}

/* ?changes=…&changes=… → the NULL-terminated lines (kept in *hold) */
static const char **query_changes(struct api_req *r, json_t **hold, size_t *n)
{
        *hold = json_array();
        MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, add_change, *hold);
        *n = json_array_size(*hold);
        const char **v = berth_xcalloc(*n + 1, sizeof(char *));
        for (size_t i = 0; i < *n; i++)
                v[i] = json_string_value(json_array_get(*hold, i));
        return v;
}

/* POST /commit?container=…&repo=…&tag=…&comment=…&author=…&pause=…&changes=…: docker commit.
 * The body (a Config to merge) is what the CLI sends empty; its changes come as `changes`. */
void api_commit(struct api_req *r)
{
        const char *cname = api_query(r, "container");
        if (cname == NULL || *cname == '\0') {
                api_reply_error(r, 404, "No such container: ");
                return;
        }
        struct eng_ctx e;
        struct eng_container *c = api_container_find(r, &e, cname, false);
        if (c == NULL)
                return;
        const char *repo = api_query(r, "repo");
        cleanup_free char *name = repo && *repo ? pull_ref(repo, api_query(r, "tag")) : NULL;
        json_t *hold;
        size_t n;
        cleanup_free const char **v = query_changes(r, &hold, &n);
        const char *comment = api_query(r, "comment");
        const char *author = api_query(r, "author");
        struct img_change change = {.changes = v,
                                    .n = n,
                                    .message = comment && *comment ? comment : NULL,
                                    .author = author && *author ? author : NULL};
        struct eng_commit_opts o = {
                .name = name, .change = &change, .pause = api_query_bool(r, "pause", true)};
        char id[IMG_DIGEST_MAX];
        berth_error_t err = NULL;
        if (eng_commit(&e, c, &o, id, &err) < 0)
                api_reply_berth_error(r, &err);
        else
                api_reply_json(r, 201, json_pack("{s:s}", "Id", id));
        json_decref(hold);
        api_container_done(c, &e);
}

/* POST /images/create?fromSrc=-: the body is a root filesystem tarball (docker import). */
static void image_import(struct api_req *r, const char *src)
{
        if (strcmp(src, "-") != 0) {
                api_reply_error(r, 500, "importing from a URL is not supported: %s", src);
                return;
        }
        if (r->body_fd < 0) {
                api_reply_error(r, 400, "the request has no body (a root filesystem tarball)");
                return;
        }
        const char *repo = api_query(r, "repo");
        const char *tag = api_query(r, "tag");
        cleanup_free char *name = NULL;
        berth_error_t err = NULL;
        if (repo && *repo) {
                cleanup_free char *want = pull_ref(repo, tag);
                if (img_ref_normalize(want, &name, &err) < 0) {
                        api_reply_berth_error(r, &err);
                        return;
                }
        }
        json_t *changes;
        size_t n;
        cleanup_free const char **v = query_changes(r, &changes, &n);
        const char *msg = api_query(r, "message");
        struct img_change change = {.changes = v, .n = n, .message = msg && *msg ? msg : NULL};
        struct img_store s;
        if (api_img_open(r, &s, NULL) < 0) {
                json_decref(changes);
                return;
        }
        char manifest[IMG_DIGEST_MAX];
        struct img_image img;
        if (img_import_rootfs(&s, r->body_fd, name, &change, manifest, &err) < 0 ||
            img_image_load(&s, manifest, &img, &err) < 0) {
                api_reply_berth_error(r, &err);
        } else {
                /* dockerd's one progress line: the new image's ID */
                json_t *j = json_pack("{s:s}", "status", img.config.digest);
                char *t = json_dumps(j, JSON_COMPACT);
                json_decref(j);
                cleanup_free char *line = berth_xasprintf("%s\n", t);
                free(t);
                api_reply_text(r, 200, "application/json", line);
                img_image_free(&img);
        }
        img_store_close(&s);
        json_decref(changes);
}
