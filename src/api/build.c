/* build.c — POST /build, dockerd's classic builder over the build library: the body is the
 * context as a tar (maybe compressed), unpacked safely into a directory under the run dir;
 * the build runs in a thread of its own while the connection's thread streams its events as
 * dockerd's JSON lines ({"stream": …}, {"aux": {"ID": …}}, {"errorDetail": …}).  A client
 * that goes away cancels the build (its RUN container is killed) and everything is removed. */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/api_internal.h"
#include "api/images.h"
#include "build/build.h"
#include "common/util.h"
#include "image/containerfile.h"
#include "image/image.h"

struct build_job {
        struct bld_opts o;
        const struct berth_paths *paths;
        char *ctx_dir;    /* the unpacked context, removed when the reply is over */
        char *dockerfile; /* its text */
        json_t *tags;     /* normalized names */
        const char **names;
        json_t *build_args, *labels;
        char *target, *network;
        bool quiet;
        struct img_registry_opts pull; /* base images the store lacks */
        char *auth_file;
        json_t *auths; /* X-Registry-Config: the client's credentials per registry */
        char *held;    /* with q: the output dockerd keeps back unless the build fails */
        size_t n_held;
        int wfd, rfd; /* the build thread writes JSON lines on wfd; the stream reads rfd */
        pthread_t thread;
        bool started;
        atomic_int cancel;
        int client_fd;
};

static void job_free(struct build_job *j)
{
        if (j->ctx_dir) {
                berth_error_t e = NULL;
                img_rm_rf_at(AT_FDCWD, j->ctx_dir, &e);
                berth_error_release(&e);
        }
        free(j->ctx_dir);
        free(j->dockerfile);
        json_decref(j->tags);
        free(j->names);
        json_decref(j->build_args);
        json_decref(j->labels);
        free(j->target);
        free(j->network);
        free(j->auth_file);
        json_decref(j->auths);
        free(j->held);
        if (j->wfd >= 0)
                close(j->wfd);
        if (j->rfd >= 0)
                close(j->rfd);
        free(j);
}

/* --- the JSON lines --- */

/* A JSON string of bytes a command wrote: invalid UTF-8 becomes U+FFFD, as Go's encoder does. */
static json_t *json_bytes(const char *p, size_t n)
{
        json_t *s = json_stringn(p, n);
        if (s)
                return s;
        char *out = berth_xmalloc(3 * n + 1);
        size_t o = 0;
        for (size_t i = 0; i < n;) {
                unsigned char c = (unsigned char) p[i];
                size_t len = c < 0x80         ? 1
                             : (c >> 5) == 6  ? 2
                             : (c >> 4) == 14 ? 3
                             : (c >> 3) == 30 ? 4
                                              : 0;
                json_t *one = len && i + len <= n ? json_stringn(p + i, len) : NULL;
                if (one) {
                        memcpy(out + o, p + i, len);
                        o += len;
                        i += len;
                        json_decref(one);
                } else {
                        static const char repl[3] = {'\xef', '\xbf', '\xbd'}; /* U+FFFD */
                        memcpy(out + o, repl, sizeof(repl));
                        o += sizeof(repl);
                        i++;
                }
        }
        s = json_stringn(out, o);
        free(out);
        return s ? s : json_string("");
}

/* One message to the client (or held back with q); takes the reference to msg. */
static void job_send(struct build_job *j, json_t *msg, bool hold)
{
        char *line = json_dumps(msg, JSON_COMPACT);
        json_decref(msg);
        if (line == NULL)
                return;
        size_t n = strlen(line);
        if (hold) {
                j->held = berth_xrealloc(j->held, j->n_held + n + 3);
                memcpy(j->held + j->n_held, line, n);
                memcpy(j->held + j->n_held + n, "\r\n", 3);
                j->n_held += n + 2;
        } else {
                /* a client that left: the writes fail (no SIGPIPE), the build is cancelled */
                char *full = berth_xasprintf("%s\r\n", line);
                size_t len = n + 2, off = 0;
                while (off < len) {
                        ssize_t k = send(j->wfd, full + off, len - off, MSG_NOSIGNAL);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k <= 0)
                                break;
                        off += (size_t) k;
                }
                free(full);
        }
        free(line);
}

static void job_stream(struct build_job *j, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

static void job_stream(struct build_job *j, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *text = NULL;
        if (vasprintf(&text, fmt, ap) < 0)
                text = NULL;
        va_end(ap);
        if (text)
                job_send(j, json_pack("{s:s}", "stream", text), j->quiet);
        free(text);
}

static const char *short_id(const char *id)
{
        const char *c = strchr(id, ':');
        return c ? c + 1 : id;
}

/* dockerd's classic builder's words for each event. */
static void on_event(void *ctx, const struct bld_event *ev)
{
        struct build_job *j = ctx;
        switch (ev->kind) {
        case BLD_EV_STEP:
                job_stream(j, "Step %zu/%zu : %s", ev->step, ev->total, ev->text);
                job_stream(j, "\n");
                break;
        case BLD_EV_IMAGE:
                if (ev->cached)
                        job_stream(j, " ---> Using cache\n");
                job_stream(j, " ---> %.12s\n", short_id(ev->id));
                break;
        case BLD_EV_RUNNING:
                job_stream(j, " ---> Running in %.12s\n", short_id(ev->id));
                break;
        case BLD_EV_REMOVED:
                job_stream(j, "Removing intermediate container %.12s\n", short_id(ev->id));
                break;
        case BLD_EV_OUTPUT:
                job_send(j, json_pack("{s:o}", "stream", json_bytes(ev->data, ev->len)), j->quiet);
                break;
        case BLD_EV_BUILT:
                job_send(j, json_pack("{s:{s:s}}", "aux", "ID", ev->id), j->quiet);
                job_stream(j, "Successfully built %.12s\n", short_id(ev->id));
                break;
        case BLD_EV_TAGGED:
                job_stream(j, "Successfully tagged %s\n", ev->text);
                break;
        }
}

/* A base image's pull, told in the build's stream as dockerd's builder tells it. */
static void pull_line(void *ctx, const char *line)
{
        job_send(ctx, api_progress_json(line), false);
}

static int job_cancelled(void *ctx)
{
        struct build_job *j = ctx;
        return atomic_load(&j->cancel) ? 1 : 0;
}

static void *job_thread(void *arg)
{
        struct build_job *j = arg;
        struct bld_result res;
        berth_error_t err = NULL;
        if (bld_run(j->paths, &j->o, &res, &err) == 0) {
                if (j->quiet)
                        job_send(j, json_pack("{s:s+}", "stream", res.id, "\n"), false);
        } else {
                if (j->n_held) {
                        size_t off = 0;
                        while (off < j->n_held) {
                                ssize_t k =
                                        send(j->wfd, j->held + off, j->n_held - off, MSG_NOSIGNAL);
                                if (k <= 0)
                                        break;
                                off += (size_t) k;
                        }
                }
                const char *m = api_error_text(err);
                json_t *detail = json_pack("{s:s}", "message", m);
                /* a RUN's exit code, which the docker CLI exits with */
                if (res.run_code)
                        json_object_set_new(detail, "code", json_integer(res.run_code));
                job_send(j, json_pack("{s:o, s:s}", "errorDetail", detail, "error", m), false);
                berth_error_release(&err);
        }
        close(j->wfd);
        j->wfd = -1;
        return NULL;
}

/* --- the stream --- */

static ssize_t job_gen(void *ctx, char *buf, size_t max)
{
        struct build_job *j = ctx;
        for (;;) {
                struct pollfd p = {.fd = j->rfd, .events = POLLIN};
                int n = poll(&p, 1, 1000);
                if (n < 0 && errno != EINTR)
                        return -1;
                if (n > 0) {
                        ssize_t k = recv(j->rfd, buf, max, 0);
                        if (k < 0 && errno == EINTR)
                                continue;
                        return k < 0 ? -1 : k;
                }
                if (api_client_gone(j->client_fd)) {
                        atomic_store(&j->cancel, 1);
                        return -1;
                }
        }
}

static void job_done(void *ctx)
{
        struct build_job *j = ctx;
        atomic_store(&j->cancel, 1);
        /* the thread's writes fail from now on, so it cannot block on a full socket */
        shutdown(j->rfd, SHUT_RDWR);
        if (j->started)
                pthread_join(j->thread, NULL);
        job_free(j);
}

/* --- the request --- */

struct tag_walk {
        json_t *tags;
        const char *bad; /* the first name that is not a reference */
};

/* Every t=…: MHD_lookup_connection_value gives only the first. */
static enum MHD_Result collect_tag(void *cls, enum MHD_ValueKind kind, const char *key,
                                   const char *value)
{
        (void) kind;
        struct tag_walk *w = cls;
        if (strcmp(key, "t") != 0 || value == NULL || *value == '\0')
                return MHD_YES;
        char *norm = NULL;
        if (img_ref_normalize(value, &norm, NULL) < 0) {
                if (!w->bad)
                        w->bad = value;
                return MHD_YES;
        }
        json_array_append_new(w->tags, json_string(norm));
        free(norm);
        return MHD_YES;
}

/* buildargs / labels: a JSON object of strings (null values are left out). */
static int query_map(struct api_req *r, const char *key, json_t **out)
{
        *out = json_object();
        const char *v = api_query(r, key);
        if (v == NULL || *v == '\0')
                return 0;
        json_t *j = json_loads(v, 0, NULL);
        if (!json_is_object(j)) {
                json_decref(j);
                api_reply_error(r, 400, "failed to parse %s: %s is not a JSON object", key, v);
                return -1;
        }
        const char *k;
        json_t *x;
        json_object_foreach(j, k, x)
        {
                if (json_is_string(x))
                        json_object_set(*out, k, x);
        }
        json_decref(j);
        return 0;
}

/* Options as dockerd reads them; 0, or -1 with a reply queued. */
static int job_options(struct api_req *r, struct build_job *j)
{
        struct tag_walk w = {.tags = j->tags};
        MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect_tag, &w);
        if (w.bad) {
                api_reply_error(r, 400,
                                "invalid reference format: repository name must be "
                                "lowercase");
                return -1;
        }
        const char *remote = api_query(r, "remote");
        if (remote && *remote) {
                api_reply_error(r, 400, "remote build contexts are not supported");
                return -1;
        }
        const char *version = api_query(r, "version");
        if (version && strcmp(version, "2") == 0) {
                api_reply_error(r, 400, "BuildKit is not supported: use the classic builder");
                return -1;
        }
        if (query_map(r, "buildargs", &j->build_args) < 0 || query_map(r, "labels", &j->labels) < 0)
                return -1;
        const char *target = api_query(r, "target");
        if (target && *target)
                j->target = berth_xstrdup(target);
        const char *net = api_query(r, "networkmode");
        if (net && *net && strcmp(net, "default") != 0)
                j->network = berth_xstrdup(net);
        j->quiet = api_query_bool(r, "q", false);
        /* a base image the store lacks is pulled, its progress in the stream as dockerd's
         * classic builder sends it; pull=1 pulls even one it has.  rm, forcerm: RUN
         * containers are always removed */
        j->auth_file = api_auth_file(r->paths);
        /* the docker CLI sends every login of its config file here, per registry */
        j->auths = api_header_json(r, "X-Registry-Config");
        j->pull = (struct img_registry_opts){.tls_verify = -1,
                                             .retries = 3,
                                             .auth_file = j->auth_file,
                                             .auths = j->auths,
                                             .quiet = j->quiet,
                                             .progress_fn = pull_line,
                                             .progress_ctx = j};
        size_t n = json_array_size(j->tags);
        j->names = berth_xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                j->names[i] = json_string_value(json_array_get(j->tags, i));
        j->o = (struct bld_opts){
                .dockerfile = NULL,
                .dockerfile_text = NULL,
                .tags = j->names,
                .n_tags = n,
                .build_args = j->build_args,
                .labels = j->labels,
                .target = j->target,
                .network = j->network,
                .no_cache = api_query_bool(r, "nocache", false),
                .pull = &j->pull,
                .pull_always = api_query_bool(r, "pull", false),
                .on_event = on_event,
                .ctx = j,
                .cancelled = job_cancelled,
        };
        return 0;
}

static void build_post(struct api_req *r)
{
        struct build_job *j = berth_xcalloc(1, sizeof(*j));
        j->wfd = j->rfd = -1;
        j->tags = json_array();
        j->paths = r->paths;
        j->client_fd = r->client_fd;
        berth_error_t err = NULL;
        if (job_options(r, j) < 0) {
                job_free(j);
                return;
        }
        const char *name = api_query(r, "dockerfile");
        if (name == NULL || *name == '\0')
                name = "Dockerfile";
        struct img_cf cf = {0};
        cleanup_free char *base = berth_path_join(r->paths->run_dir, "build");
        if (bld_context_unpack(r->body_fd, base, &j->ctx_dir, &err) < 0) {
                api_reply_error(r, 400, "%s", api_error_text(err));
                goto fail;
        }
        if (bld_context_dockerfile(j->ctx_dir, name, &j->dockerfile, NULL, &err) < 0) {
                api_reply_error(r, 500, "%s", api_error_text(err));
                goto fail;
        }
        /* a Containerfile that does not parse fails before any output, as dockerd's does */
        if (img_cf_parse(j->dockerfile, &cf, &err) < 0) {
                api_reply_error(r, 400, "dockerfile parse error %s", api_error_text(err));
                goto fail;
        }
        img_cf_free(&cf);
        j->o.context = j->ctx_dir;
        j->o.dockerfile = name;
        j->o.dockerfile_text = j->dockerfile;
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                api_reply_error(r, 500, "socketpair: %s", strerror(errno));
                goto fail;
        }
        j->rfd = sv[0];
        j->wfd = sv[1];
        if (pthread_create(&j->thread, NULL, job_thread, j) != 0) {
                api_reply_error(r, 500, "no thread for the build");
                goto fail;
        }
        j->started = true;
        api_stream(r, 200, "application/json", job_gen, j, job_done);
        return;
fail:
        img_cf_free(&cf);
        berth_error_release(&err);
        job_free(j);
}

/* POST /build/prune (docker system prune, docker builder prune): berth's build cache is the
 * store's build-cache entries and the images only they keep; both go. */
static void build_prune(struct api_req *r)
{
        struct img_store s;
        berth_error_t err = NULL;
        if (img_store_open(&s, r->paths->data_dir, &err) < 0) {
                api_reply_berth_error(r, &err);
                return;
        }
        json_t *deleted = json_array();
        struct img_gc_stats st = {0};
        if (img_build_cache_clear(&s, deleted, &err) < 0 || img_gc(&s, &st, &err) < 0) {
                json_decref(deleted);
                img_store_close(&s);
                api_reply_berth_error(r, &err);
                return;
        }
        img_store_close(&s);
        api_reply_json(r, 200,
                       json_pack("{s:o,s:I}", "CachesDeleted", api_nil_slice(deleted),
                                 "SpaceReclaimed", (json_int_t) st.bytes));
}

const struct api_route api_routes_build[] = {
        {"POST", "/build", build_post, API_BODY_FILE},
        {"POST", "/build/prune", build_prune, 0},
        {0},
};
