/* registry.c — pull and push over the distribution API v2 (OCI distribution 1.1):
 * manifests and image indexes (Docker schema 2 and OCI media types, this host's
 * platform picked from a list), blobs streamed into the store and verified, HEAD
 * checks to skip what the other side has, monolithic uploads, retries on
 * transient failures.  A partial or wrong blob is never visible (the store's
 * blob writer); layers' diffIDs are checked when they are unpacked. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/eventlog.h"
#include "common/log.h"
#include "common/util.h"
#include "image/registry_http.h"

#define ACCEPT_MANIFESTS                                                      \
        IMG_MT_OCI_MANIFEST ", " IMG_MT_OCI_INDEX ", " IMG_MT_DOCKER_MANIFEST \
                            ", " IMG_MT_DOCKER_LIST

static void progress(const struct reg *r, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static void progress(const struct reg *r, const char *fmt, ...)
{
        const struct img_registry_opts *o = r->o;
        if (o->quiet)
                return;
        va_list ap;
        va_start(ap, fmt);
        reg_lock(r);
        if (o->progress_fn || r->board) {
                char *line = NULL;
                if (vasprintf(&line, fmt, ap) >= 0) {
                        if (o->progress_fn)
                                o->progress_fn(o->progress_ctx, line);
                        else
                                reg_board_line(r, line);
                        free(line);
                }
        } else {
                /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is just above */
                vprintf(fmt, ap);
                putchar('\n');
                fflush(stdout);
        }
        reg_unlock(r);
        va_end(ap);
}

/* On a terminal, a transfer draws its bar on its layer's line of the board (Docker's look). */
static void xfer_begin(struct reg *r, const char *digest, const char *verb, char *label, size_t len)
{
        r->xfer_label = NULL;
        if (r->board == NULL || verb == NULL)
                return;
        snprintf(label, len, "%.12s: %s", img_digest_hex(digest), verb);
        r->xfer_label = label;
        r->xfer_last = 0;
}

static void xfer_end(struct reg *r)
{
        r->xfer_label = NULL; /* the layer's next status line takes the bar's place */
}

static const char *short_hex(const char *digest)
{
        static _Thread_local char buf[13]; /* pulls in the API's threads at once */
        snprintf(buf, sizeof(buf), "%.12s", img_digest_hex(digest));
        return buf;
}

static bool transient(long status)
{
        return status == 429 || status >= 500;
}

/* Worth another attempt: the connection broke or timed out (not auth, not TLS trust). */
static bool transport_error(berth_error_t e)
{
        return e && (e->errnum == ECONNRESET || e->errnum == ETIMEDOUT);
}

static void backoff(int attempt)
{
        struct timespec ts = {0, (long) (200000000L << (attempt < 3 ? attempt : 3))};
        nanosleep(&ts, NULL);
}

/* GET a manifest by tag or digest; its digest is computed from the bytes received. */
static int get_manifest(struct reg *r, const char *ref, char **body, size_t *len, char **media_type,
                        char digest[IMG_DIGEST_MAX], berth_error_t *err)
{
        cleanup_free char *path = berth_xasprintf("/v2/%s/manifests/%s", r->repo, ref);
        struct reg_req q = {
                .method = "GET", .path = path, .accept = ACCEPT_MANIFESTS, .body_fd = -1};
        struct reg_resp resp = {0};
        int ret = -1;
        for (int attempt = 0;; attempt++) {
                berth_error_t sub = NULL;
                ret = reg_do(r, &q, &resp, &sub);
                bool again = (ret < 0 ? transport_error(sub) : transient(resp.status)) &&
                             attempt < r->o->retries;
                if (!again) {
                        if (ret < 0) {
                                berth_error_release(err);
                                *err = berth_steal_ptr(&sub);
                        }
                        break;
                }
                log_warn("pull %s: %s; retrying", ref,
                         ret < 0 ? berth_error_msg(sub) : "server error");
                berth_error_release(&sub);
                reg_resp_free(&resp);
                backoff(attempt);
        }
        if (ret < 0)
                goto out;
        if (resp.status != 200) {
                ret = reg_fail(r, &resp, "manifest unknown or inaccessible", err);
                if (resp.status == 404)
                        berth_wrap(err, "pull %s/%s:%s", r->host, r->repo, ref);
                goto out;
        }
        img_sha256_digest(resp.body ? resp.body : "", resp.len, digest);
        if (img_digest_valid(ref) && strcmp(ref, digest) != 0) {
                ret = berth_fail(err, EBADMSG, "manifest digest mismatch: asked for %s, got %s",
                                 ref, digest);
                goto out;
        }
        if (resp.docker_digest && img_digest_valid(resp.docker_digest) &&
            strcmp(resp.docker_digest, digest) != 0) {
                ret = berth_fail(err, EBADMSG,
                                 "manifest digest mismatch: registry says %s, content is %s",
                                 resp.docker_digest, digest);
                goto out;
        }
        *body = berth_steal_ptr(&resp.body);
        *len = resp.len;
        *media_type = resp.content_type ? berth_xstrdup(resp.content_type) : NULL;
        ret = 0;
out:
        reg_resp_free(&resp);
        return ret;
}

/* Fetch a blob into the store unless it is there; retried from scratch on failure.  A layer
 * (size from the manifest) reports as dockerd's do, after img_pull's "Pulling fs layer";
 * the config blob is no layer and says nothing, as with dockerd. */
static int fetch_blob(struct img_store *s, struct reg *r, const char *digest, int64_t size,
                      bool layer, berth_error_t *err)
{
        /* there already, or a layer listed twice and fetched the first time */
        if (img_blob_exists(s, digest))
                return 0;
        char id[13];
        snprintf(id, sizeof(id), "%s", short_hex(digest));
        bool bytes = layer && !r->o->quiet && r->o->bytes_fn;
        cleanup_free char *path = berth_xasprintf("/v2/%s/blobs/%s", r->repo, digest);
        for (int attempt = 0;; attempt++) {
                struct img_blob_writer w;
                if (img_blob_begin(s, &w, err) < 0)
                        return -1;
                struct reg_req q = {.method = "GET", .path = path, .body_fd = -1};
                struct reg_resp resp = {.blob = &w};
                berth_error_t sub = NULL;
                char label[64];
                xfer_begin(r, digest, layer ? "Downloading" : NULL, label, sizeof(label));
                if (bytes) {
                        r->xfer_id = id;
                        r->xfer_verb = "Downloading";
                        r->xfer_total = size;
                        r->xfer_sent = 0;
                        r->xfer_last = 0;
                }
                int ret = reg_do(r, &q, &resp, &sub);
                r->xfer_id = NULL;
                xfer_end(r);
                if (ret == 0 && resp.status == 200) {
                        reg_resp_free(&resp);
                        /* the last count is always told (dockerd's "current == total") */
                        int64_t got = (int64_t) w.size;
                        if (bytes) {
                                reg_lock(r);
                                r->o->bytes_fn(r->o->progress_ctx, id, "Downloading", got,
                                               size > 0 ? size : got);
                                reg_unlock(r);
                        }
                        if (layer)
                                progress(r, "%s: Verifying Checksum", id);
                        ret = img_blob_commit(&w, digest, NULL, &sub);
                        if (ret == 0) {
                                /* "Pull complete" once extracted (img_pull) */
                                if (layer)
                                        progress(r, "%s: Download complete", id);
                                return 0;
                        }
                } else {
                        img_blob_abort(&w);
                        if (ret == 0 && !transient(resp.status)) {
                                reg_fail(r, &resp, "fetch blob", err);
                                reg_resp_free(&resp);
                                berth_error_release(&sub);
                                return berth_wrap(err, "pull %s", digest);
                        }
                        reg_resp_free(&resp);
                }
                bool cancelled = r->cancel && atomic_load(r->cancel);
                if (attempt >= r->o->retries || cancelled || (sub && !transport_error(sub))) {
                        if (sub == NULL)
                                berth_fail(&sub, EIO, "server error");
                        berth_error_release(err);
                        *err = sub;
                        return berth_wrap(err, "pull blob %s (after %d attempts)", digest,
                                          attempt + 1);
                }
                log_warn("pull %s: %s; retrying", short_hex(digest),
                         sub ? berth_error_msg(sub) : "server error");
                berth_error_release(&sub);
                backoff(attempt);
        }
}

/* From an index or manifest list: the entry for the platform asked for (this host's when
 * none was), the first that matches. */
static int pick_platform(json_t *index, const struct img_platform *want, char out[IMG_DIGEST_MAX],
                         berth_error_t *err)
{
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(index, "manifests"), i, d)
        {
                json_t *p = json_object_get(d, "platform");
                const char *digest = json_string_value(json_object_get(d, "digest"));
                if (img_platform_match(want, json_string_value(json_object_get(p, "os")),
                                       json_string_value(json_object_get(p, "architecture")),
                                       json_string_value(json_object_get(p, "variant"))) &&
                    img_digest_valid(digest)) {
                        snprintf(out, IMG_DIGEST_MAX, "%s", digest);
                        return 0;
                }
        }
        char name[3 * IMG_PLATFORM_WORD + 2];
        img_platform_format(want, name, sizeof(name));
        /* dockerd's words */
        return berth_fail_status(err, 1, 0,
                                 "no matching manifest for %s in the manifest list entries", name);
}

/* A pull's or push's blobs moved by several workers at once (dockerd's limits), each on its
 * own registry handle cloned from the transfer's: the jobs are taken in order; the first
 * failure is kept and its flag, which every transfer's progress callback checks, ends the
 * others (whose failures, cut short by it, are dropped). */
struct pool {
        size_t n, next;     /* jobs; the next one a worker takes */
        bool *done;         /* per job: finished well (NULL: nobody waits for one) */
        size_t running;     /* workers not yet gone */
        berth_error_t err;  /* the first failure */
        atomic_bool cancel; /* set by it, or by pool_stop */
        pthread_mutex_t mu; /* next, done, running, err */
        pthread_cond_t cv;  /* a job finished, a worker gone */
        int (*run)(void *ctx, struct reg *r, size_t job, berth_error_t *err);
        void *ctx;
};

#define POOL_INIT                                                               \
        {                                                                       \
                .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER \
        }

struct pool_worker {
        struct pool *p;
        struct reg r;
        pthread_t th;
};

static void *pool_work(void *arg)
{
        struct pool_worker *w = arg;
        struct pool *p = w->p;
        for (;;) {
                pthread_mutex_lock(&p->mu);
                size_t job = p->next < p->n ? p->next++ : SIZE_MAX;
                pthread_mutex_unlock(&p->mu);
                if (job == SIZE_MAX || atomic_load(&p->cancel))
                        break;
                berth_error_t e = NULL;
                bool ok = p->run(p->ctx, &w->r, job, &e) == 0;
                pthread_mutex_lock(&p->mu);
                if (!ok && p->err == NULL && !atomic_load(&p->cancel)) {
                        p->err = e;
                        e = NULL;
                }
                if (!ok)
                        atomic_store(&p->cancel, true);
                else if (p->done)
                        p->done[job] = true;
                pthread_cond_broadcast(&p->cv);
                pthread_mutex_unlock(&p->mu);
                berth_error_release(&e);
                if (!ok)
                        break;
        }
        pthread_mutex_lock(&p->mu);
        p->running--;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        return NULL;
}

/* Up to max workers on handles cloned from r; fewer is no failure.  With none (no thread or
 * handle could be made), the jobs run here, one after the other.  Returns the threads
 * started, for pool_stop. */
static size_t pool_start(struct pool *p, const struct reg *r, struct pool_worker *w, size_t max)
{
        size_t n = 0;
        for (; n < p->n && n < max; n++) {
                berth_error_t sub = NULL;
                w[n].p = p;
                if (reg_clone(&w[n].r, r, &sub) < 0) {
                        log_warn("registry: a transfer worker: %s", berth_error_msg(sub));
                        berth_error_release(&sub);
                        break;
                }
                w[n].r.cancel = &p->cancel;
                pthread_mutex_lock(&p->mu);
                p->running++;
                pthread_mutex_unlock(&p->mu);
                int e = pthread_create(&w[n].th, NULL, pool_work, &w[n]);
                if (e != 0) {
                        pthread_mutex_lock(&p->mu);
                        p->running--;
                        pthread_mutex_unlock(&p->mu);
                        reg_close(&w[n].r);
                        log_warn("registry: start a transfer thread: %s", strerror(e));
                        break;
                }
        }
        if (n == 0 && p->n > 0) {
                /* the caller's own handle (not closed here), told of the flag */
                struct pool_worker self = {.p = p, .r = *r};
                self.r.cancel = &p->cancel;
                p->running++;
                (void) pool_work(&self);
        }
        return n;
}

/* Until job is done; -1 once a job failed (its error moved to *err). */
static int pool_wait(struct pool *p, size_t job, berth_error_t *err)
{
        pthread_mutex_lock(&p->mu);
        while (!p->done[job] && p->err == NULL && p->running > 0)
                pthread_cond_wait(&p->cv, &p->mu);
        int ret = p->done[job] ? 0 : -1;
        if (ret < 0) {
                berth_error_release(err);
                *err = p->err;
                p->err = NULL;
                if (*err == NULL)
                        berth_fail(err, EIO, "transfer %zu did not finish", job);
        }
        pthread_mutex_unlock(&p->mu);
        return ret;
}

/* Once the workers have run out of jobs (or stopped at a failure): joined, their handles
 * closed. */
static void pool_join(struct pool_worker *w, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                pthread_join(w[i].th, NULL);
                reg_close(&w[i].r);
        }
}

/* The transfers still going end now; then as pool_join. */
static void pool_stop(struct pool *p, struct pool_worker *w, size_t n)
{
        atomic_store(&p->cancel, true);
        pool_join(w, n);
}

/* The pool's first failure in place of the caller's own (cut short by the flag); then the
 * pool's state goes. */
static void pool_free(struct pool *p, int ret, berth_error_t *err)
{
        if (ret < 0 && p->err) {
                berth_error_release(err);
                *err = p->err;
                p->err = NULL;
        }
        berth_error_release(&p->err);
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cv);
}

/* dockerd's max-concurrent-downloads: three layers download at once, the rest wait. */
#define PULL_DOWNLOADS 3

/* A pull's layers, as plan_layers finds them: the pool's jobs are the layers to fetch. */
struct downloads {
        struct img_store *s;
        json_t *layers;
        bool *fresh;   /* per layer: not in the store when the pull began */
        size_t *job;   /* per fresh layer: the job that fetches its digest */
        size_t *layer; /* per job: the layer it fetches */
};

static int download_layer(void *ctx, struct reg *r, size_t job, berth_error_t *err)
{
        struct downloads *d = ctx;
        json_t *l = json_array_get(d->layers, d->layer[job]);
        const char *ld = json_string_value(json_object_get(l, "digest"));
        json_int_t size = json_integer_value(json_object_get(l, "size"));
        return fetch_blob(d->s, r, ld, (int64_t) size, true, err);
}

/* dockerd's Extracting count: the compressed bytes read so far, at most one per 512 KiB and
 * 100 ms (its progress reader's pace). */
struct extract_tell {
        const struct reg *r;
        const char *id;
        int64_t total, told;
        double when;
};

static void extract_read(void *ctx, uint64_t done)
{
        struct extract_tell *t = ctx;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double now = (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
        if ((int64_t) done - t->told <= 512 * 1024 || (int64_t) done >= t->total ||
            now - t->when < 0.1)
                return;
        t->told = (int64_t) done;
        t->when = now;
        reg_lock(t->r);
        t->r->o->bytes_fn(t->r->o->progress_ctx, t->id, "Extracting", (int64_t) done, t->total);
        reg_unlock(t->r);
}

/* dockerd extracts each layer it pulled ("Extracting", then "Pull complete") in order, each as
 * soon as it and those below it are downloaded, while the rest download; so does berth.  A
 * layer whose content does not match the config's diffID fails the pull, not a later run, and
 * the first run finds its layers ready.  The layers that were there already were said so
 * ("Already exists"). */
static int extract(struct img_store *s, const struct reg *r, const struct img_image *img,
                   const struct downloads *d, struct pool *p, berth_error_t *err)
{
        for (size_t i = 0; i < img->n_layers && i < json_array_size(d->layers); i++) {
                if (!d->fresh[i])
                        continue;
                if (pool_wait(p, d->job[i], err) < 0)
                        return -1;
                char id[13];
                snprintf(id, sizeof(id), "%s", short_hex(img->layers[i].digest));
                int64_t size = img->layers[i].size;
                bool bytes = !r->o->quiet && r->o->bytes_fn && size > 0;
                struct extract_tell t = {.r = r, .id = id, .total = size};
                if (img_layer_ensure(s, &img->layers[i], img->diff_ids[i],
                                     bytes ? extract_read : NULL, &t, err) < 0)
                        return -1;
                if (bytes) { /* the last count is always told (current == total) */
                        reg_lock(r);
                        r->o->bytes_fn(r->o->progress_ctx, id, "Extracting", size, size);
                        reg_unlock(r);
                }
                progress(r, "%s: Pull complete", id);
        }
        return 0;
}

/* Lists every layer before the first byte, as dockerd does: there already, or to pull (and
 * past the first PULL_DOWNLOADS, "Waiting"); a digest listed twice is told and fetched once.
 * Fills d's tables; returns how many fetches (jobs) there are, or -1 for an invalid digest. */
static ssize_t plan_layers(struct img_store *s, const struct reg *r, const char *digest,
                           struct downloads *d, berth_error_t *err)
{
        size_t i, n = 0;
        json_t *l;
        json_array_foreach(d->layers, i, l)
        {
                const char *ld = json_string_value(json_object_get(l, "digest"));
                if (!img_digest_valid(ld))
                        return berth_fail(err, EPROTO, "manifest %s has an invalid layer digest",
                                          digest);
                size_t j = 0;
                while (j < i && strcmp(ld, json_string_value(json_object_get(
                                                   json_array_get(d->layers, j), "digest"))) != 0)
                        j++;
                if (j < i) {
                        d->fresh[i] = d->fresh[j];
                        d->job[i] = d->job[j];
                        continue;
                }
                if (img_blob_exists(s, ld)) {
                        progress(r, "%s: Already exists", short_hex(ld));
                        continue;
                }
                progress(r, "%s: Pulling fs layer", short_hex(ld));
                if (n >= PULL_DOWNLOADS)
                        progress(r, "%s: Waiting", short_hex(ld));
                d->fresh[i] = true;
                d->job[i] = n;
                d->layer[n++] = i;
        }
        return (ssize_t) n;
}

/* One reference pulled; *changed (if given): whether the name now means another manifest;
 * tell_status: end with dockerd's Status line (not for each tag of an all-tags pull). */
static int pull_one(struct img_store *s, const char *name, const struct img_registry_opts *o,
                    bool tell_status, bool *changed, char out[IMG_DIGEST_MAX], berth_error_t *err)
{
        struct reg r;
        cleanup_free char *ref = NULL;
        cleanup_free char *body = NULL;
        cleanup_free char *mt = NULL;
        struct img_image img = {0};
        json_t *m = NULL;
        size_t len = 0;
        char digest[IMG_DIGEST_MAX];
        pthread_mutex_t tell = PTHREAD_MUTEX_INITIALIZER;
        struct downloads d = {.s = s};
        struct pool p = POOL_INIT;
        struct pool_worker w[PULL_DOWNLOADS];
        size_t n_workers = 0;
        int ret = -1;
        struct img_platform want;
        img_platform_host(&want);
        if (o->platform && img_platform_parse(o->platform, &want, err) < 0)
                return berth_wrap(err, "pull `%s`", name);
        struct reg_board board = {0};
        /* the name as Docker shows it ("busybox:latest"), and the manifest it named before
         * this pull: the last line says whether the pull changed it, in dockerd's words */
        cleanup_free char *shown = NULL;
        char old[IMG_DIGEST_MAX] = "";
        if (img_ref_normalize(name, &shown, NULL) == 0) {
                struct img_table t;
                struct img_entry *e;
                if (img_table_load(s, &t, NULL) == 0) {
                        if (img_lookup(s, &t, shown, &e, NULL) == 0)
                                snprintf(old, sizeof(old), "%s", e->manifest);
                        img_table_free(&t);
                }
        }
        if (reg_open(&r, name, o, &ref, err) < 0 || reg_ping(&r, err) < 0)
                goto out;
        reg_board_start(&r, &board);
        r.mu = &tell;
        r.cancel = &p.cancel;
        if (get_manifest(&r, ref, &body, &len, &mt, digest, err) < 0)
                goto out;
        /* once there is a manifest, as dockerd says it: a missing one is an error of its own
         * (the Engine API's 404), a platform the index lacks comes after this line */
        progress(&r, "%s: Pulling from %s", ref, r.repo);
        m = json_loadb(body, len, 0, NULL);
        if (json_is_array(json_object_get(m, "manifests"))) {
                char pick[IMG_DIGEST_MAX];
                if (pick_platform(m, &want, pick, err) < 0)
                        goto out;
                json_decref(m);
                free(body);
                free(mt);
                body = mt = NULL;
                if (get_manifest(&r, pick, &body, &len, &mt, digest, err) < 0)
                        goto out;
                m = json_loadb(body, len, 0, NULL);
        }
        json_t *cfg = json_object_get(m, "config");
        json_t *layers = json_object_get(m, "layers");
        if (!json_is_object(cfg) || !json_is_array(layers)) {
                berth_fail(err, EPROTO, "manifest %s is not an image manifest (schema 1?)", digest);
                goto out;
        }
        size_t n_layers = json_array_size(layers);
        d.layers = layers;
        d.fresh = berth_xcalloc(n_layers + 1, sizeof(*d.fresh));
        d.job = berth_xcalloc(n_layers + 1, sizeof(*d.job));
        d.layer = berth_xcalloc(n_layers + 1, sizeof(*d.layer));
        p.done = berth_xcalloc(n_layers + 1, sizeof(*p.done));
        ssize_t n_fetch = plan_layers(s, &r, digest, &d, err);
        /* the workers' blob writers share this store's gc lock, taken here once */
        if (n_fetch < 0 || img_store_writer_begin(s, err) < 0)
                goto out;
        p.n = (size_t) n_fetch;
        p.run = download_layer;
        p.ctx = &d;
        n_workers = pool_start(&p, &r, w, PULL_DOWNLOADS);
        /* the config (no layer: it says nothing) comes meanwhile, on this thread's handle */
        const char *cd = json_string_value(json_object_get(cfg, "digest"));
        json_int_t csize = json_integer_value(json_object_get(cfg, "size"));
        if (!img_digest_valid(cd) || fetch_blob(s, &r, cd, (int64_t) csize, false, err) < 0) {
                if (!img_digest_valid(cd))
                        berth_fail(err, EPROTO, "manifest %s has an invalid config digest", digest);
                goto out;
        }
        /* every blob matches its digest; the layers' diffIDs are checked as they are
         * unpacked, as Docker and containerd do */
        if (img_blob_put(s, body, len, digest, NULL, err) < 0 ||
            img_image_load(s, digest, &img, err) < 0 || extract(s, &r, &img, &d, &p, err) < 0)
                goto out;
        pool_stop(&p, w, n_workers);
        n_workers = 0;
        const char *mtype = json_string_value(json_object_get(m, "mediaType"));
        if (mtype == NULL)
                mtype = mt ? mt : IMG_MT_OCI_MANIFEST;
        /* pulled by tag: that name; by digest: no name (as Docker shows <none>) */
        /* the name as the user wrote it, normalized (docker.io/library/x is x) */
        const char *local = img_digest_valid(ref) ? NULL : shown;
        const char *names[] = {local};
        if (img_table_add(s, digest, mtype, (int64_t) len, names, local ? 1 : 0, err) < 0)
                goto out;
        img_event(s, digest, "pull", local ? local : ref);
        progress(&r, "Digest: %s", digest);
        if (changed)
                *changed = strcmp(old, digest) != 0;
        if (tell_status)
                progress(&r, "Status: %s for %s",
                         strcmp(old, digest) == 0 ? "Image is up to date"
                                                  : "Downloaded newer image",
                         shown ? shown : name);
        if (out)
                memcpy(out, digest, IMG_DIGEST_MAX);
        ret = 0;
out:
        pool_stop(&p, w, n_workers);
        /* a download's failure is the cause; this thread's own transfer was only cut short */
        pool_free(&p, ret, err);
        free(p.done);
        free(d.fresh);
        free(d.job);
        free(d.layer);
        json_decref(m);
        img_image_free(&img);
        reg_close(&r);
        reg_board_free(&board);
        pthread_mutex_destroy(&tell);
        return ret < 0 ? berth_wrap(err, "pull `%s`", name) : 0;
}

/* The registry's tags for r's repository, in its order (one page: the distribution API lists
 * every tag unless asked for fewer). */
static int list_tags(struct reg *r, json_t **tags, berth_error_t *err)
{
        cleanup_free char *path = berth_xasprintf("/v2/%s/tags/list", r->repo);
        struct reg_req q = {
                .method = "GET", .path = path, .accept = "application/json", .body_fd = -1};
        struct reg_resp resp = {0};
        int ret = reg_do(r, &q, &resp, err);
        if (ret == 0 && resp.status == 404) {
                /* dockerd's words */
                json_t *j = resp.body ? json_loads(resp.body, 0, NULL) : NULL;
                json_t *e0 = json_array_get(json_object_get(j, "errors"), 0);
                const char *code = json_string_value(json_object_get(e0, "code"));
                const char *msg = json_string_value(json_object_get(e0, "message"));
                cleanup_free char *lc = code ? berth_xstrdup(code) : NULL;
                for (char *c = lc; c && *c; c++)
                        *c = *c == '_' ? ' ' : (char) tolower((unsigned char) *c);
                ret = berth_fail_status(err, 1, 0, "repository %s/%s not found%s%s%s%s", r->host,
                                        r->repo, lc ? ": " : "", lc ? lc : "", msg ? ": " : "",
                                        msg ? msg : "");
                json_decref(j);
        } else if (ret == 0 && resp.status != 200) {
                ret = reg_fail(r, &resp, "list tags", err);
        } else if (ret == 0) {
                json_t *j = resp.body ? json_loads(resp.body, 0, NULL) : NULL;
                *tags = json_incref(json_object_get(j, "tags"));
                json_decref(j);
                if (!json_is_array(*tags)) {
                        json_decref(*tags);
                        *tags = NULL;
                        ret = berth_fail(err, EPROTO, "%s: tags list without tags", r->host);
                }
        }
        reg_resp_free(&resp);
        return ret;
}

/* docker pull --all-tags: each tag in the registry's order, as dockerd pulls them, then one
 * Status line for the repository. */
static int pull_all_tags(struct img_store *s, const char *name, const struct img_registry_opts *o,
                         char out[IMG_DIGEST_MAX], berth_error_t *err)
{
        cleanup_free char *norm = NULL;
        if (img_ref_normalize(name, &norm, err) < 0)
                return -1;
        cleanup_free char *repo = NULL, *tag = NULL;
        img_ref_split(norm, &repo, &tag);
        /* a name with a tag (other than the :latest normalising added) or a digest: the docker
         * CLI's refusal */
        bool tagged = strchr(name, '@') || strcmp(tag, "latest") != 0 ||
                      (strrchr(name, ':') && strrchr(name, ':') > strrchr(name, '/'));
        if (tagged)
                return berth_fail_status(err, 1, 0, "tag can't be used with --all-tags/-a");
        struct reg r;
        cleanup_free char *ref = NULL;
        json_t *tags = NULL;
        int ret = -1;
        if (reg_open(&r, name, o, &ref, err) == 0 && reg_ping(&r, err) == 0 &&
            list_tags(&r, &tags, err) == 0) {
                bool any = false;
                ret = 0;
                size_t i;
                json_t *t;
                json_array_foreach(tags, i, t)
                {
                        const char *tv = json_string_value(t);
                        cleanup_free char *one = tv ? berth_xasprintf("%s:%s", repo, tv) : NULL;
                        bool changed = false;
                        if (one == NULL || pull_one(s, one, o, false, &changed, out, err) < 0) {
                                if (one == NULL)
                                        berth_fail(err, EPROTO, "%s: a tag that is no string",
                                                   r.host);
                                ret = -1;
                                break;
                        }
                        any = any || changed;
                }
                if (ret == 0)
                        progress(&r, "Status: %s for %s",
                                 any ? "Downloaded newer image" : "Image is up to date", repo);
        }
        json_decref(tags);
        reg_close(&r);
        return ret < 0 ? berth_wrap(err, "pull `%s`", name) : 0;
}

int img_pull(struct img_store *s, const char *name, const struct img_registry_opts *o,
             char out[IMG_DIGEST_MAX], berth_error_t *err)
{
        if (o->all_tags)
                return pull_all_tags(s, name, o, out, err);
        return pull_one(s, name, o, true, NULL, out, err);
}

/* HEAD: does the registry have this blob already? */
static int blob_exists(struct reg *r, const char *digest, bool *exists, berth_error_t *err)
{
        cleanup_free char *path = berth_xasprintf("/v2/%s/blobs/%s", r->repo, digest);
        struct reg_req q = {.method = "HEAD", .path = path, .body_fd = -1};
        struct reg_resp resp = {0};
        int ret = reg_do(r, &q, &resp, err);
        *exists = ret == 0 && resp.status == 200;
        if (ret == 0 && resp.status != 200 && resp.status != 404)
                ret = reg_fail(r, &resp, "check blob", err);
        reg_resp_free(&resp);
        return ret;
}

/* Send the blob in PATCH chunks to the upload session at *loc (which each answer moves). */
static int upload_chunks(struct reg *r, int fd, uint64_t size, char **loc, long *status,
                         berth_error_t *err)
{
        for (uint64_t off = 0; off < size;) {
                uint64_t n = size - off < r->o->chunk_size ? size - off : r->o->chunk_size;
                if (lseek(fd, (off_t) off, SEEK_SET) < 0)
                        return berth_fail(err, errno, "seek in blob");
                cleanup_free char *range =
                        berth_xasprintf("Content-Range: %llu-%llu", (unsigned long long) off,
                                        (unsigned long long) (off + n - 1));
                struct reg_req q = {.method = "PATCH",
                                    .path = *loc,
                                    .content_type = "application/octet-stream",
                                    .header = range,
                                    .body_fd = fd,
                                    .body_size = n};
                struct reg_resp resp = {0};
                *status = 0;
                r->xfer_base = (int64_t) off; /* the progress counts the whole blob */
                int sent = reg_do(r, &q, &resp, err);
                r->xfer_base = 0;
                if (sent < 0)
                        return -1;
                *status = resp.status;
                if (resp.status != 202 || resp.location == NULL) {
                        int ret = transient(resp.status)
                                          ? berth_fail(err, EIO, "upload chunk: HTTP %ld",
                                                       resp.status)
                                          : reg_fail(r, &resp, "upload chunk", err);
                        reg_resp_free(&resp);
                        return ret;
                }
                free(*loc);
                *loc = berth_steal_ptr(&resp.location);
                reg_resp_free(&resp);
                off += n;
        }
        return 0;
}

/* POST an upload session — asking the registry to mount the blob from another
 * repository of ours when there is one (201: nothing to send) — then PUT the whole
 * blob to it (monolithic upload).  *mounted tells which happened. */
static int upload_once(struct img_store *s, struct reg *r, const char *digest, const char *from,
                       bool *mounted, berth_error_t *err, long *status)
{
        cleanup_free char *path = from ? berth_xasprintf("/v2/%s/blobs/uploads/?mount=%s&from=%s",
                                                         r->repo, digest, from)
                                       : berth_xasprintf("/v2/%s/blobs/uploads/", r->repo);
        struct reg_req q = {.method = "POST", .path = path, .body_fd = -1};
        struct reg_resp resp = {0};
        *status = 0;
        *mounted = false;
        if (reg_do(r, &q, &resp, err) < 0)
                return -1;
        *status = resp.status;
        if (from && resp.status == 201) {
                *mounted = true;
                reg_resp_free(&resp);
                return 0;
        }
        if (resp.status != 202 || resp.location == NULL) {
                int ret = transient(resp.status) ? -1 : reg_fail(r, &resp, "start upload", err);
                if (transient(resp.status))
                        berth_fail(err, EIO, "start upload: HTTP %ld", resp.status);
                reg_resp_free(&resp);
                return ret;
        }
        cleanup_free char *loc = berth_steal_ptr(&resp.location);
        reg_resp_free(&resp);
        uint64_t size = 0;
        cleanup_close int fd = img_blob_open(s, digest, err);
        if (fd < 0 || img_blob_size(s, digest, &size, err) < 0)
                return -1;
        bool chunked = r->o->chunk_size && size > r->o->chunk_size;
        if (chunked && upload_chunks(r, fd, size, &loc, status, err) < 0)
                return -1;
        cleanup_free char *put =
                berth_xasprintf("%s%sdigest=%s", loc, strchr(loc, '?') ? "&" : "?", digest);
        *status = 0;
        struct reg_req pq = {.method = "PUT",
                             .path = put,
                             .content_type = "application/octet-stream",
                             .body = chunked ? "" : NULL,
                             .body_fd = chunked ? -1 : fd,
                             .body_size = size};
        if (reg_do(r, &pq, &resp, err) < 0)
                return -1;
        *status = resp.status;
        int ret = 0;
        if (resp.status != 201) {
                if (transient(resp.status))
                        ret = berth_fail(err, EIO, "upload: HTTP %ld", resp.status);
                else
                        ret = reg_fail(r, &resp, "upload blob", err);
        }
        reg_resp_free(&resp);
        return ret;
}

/* Push one blob unless the registry has it.  A layer tells its progress as dockerd's do (its
 * "Preparing" was told when the push listed it); the config blob says nothing, as with
 * dockerd. */
static int push_blob(struct img_store *s, struct reg *r, const char *digest, const char *from,
                     bool layer, berth_error_t *err)
{
        bool exists = false;
        if (blob_exists(r, digest, &exists, err) < 0)
                return -1;
        if (exists) {
                if (layer)
                        progress(r, "%s: Layer already exists", short_hex(digest));
                return 0;
        }
        /* the Engine API's byte counts, as for a pull's downloads */
        char id[13];
        snprintf(id, sizeof(id), "%s", short_hex(digest));
        uint64_t size = 0;
        bool bytes = layer && !r->o->quiet && r->o->bytes_fn &&
                     img_blob_size(s, digest, &size, NULL) == 0 && size > 0;
        for (int attempt = 0;; attempt++) {
                berth_error_t sub = NULL;
                long status = 0;
                bool mounted = false;
                char label[64];
                xfer_begin(r, digest, layer ? "Pushing" : NULL, label, sizeof(label));
                if (bytes) {
                        r->xfer_id = id;
                        r->xfer_verb = "Pushing";
                        r->xfer_total = (int64_t) size;
                        r->xfer_sent = 0;
                        r->xfer_last = 0;
                }
                int up = upload_once(s, r, digest, from, &mounted, &sub, &status);
                r->xfer_id = NULL;
                xfer_end(r);
                if (up == 0) {
                        if (bytes && !mounted) { /* the last count is always told */
                                reg_lock(r);
                                r->o->bytes_fn(r->o->progress_ctx, id, "Pushing", (int64_t) size,
                                               (int64_t) size);
                                reg_unlock(r);
                        }
                        if (layer && mounted)
                                progress(r, "%s: Mounted from %s", short_hex(digest), from);
                        else if (layer)
                                progress(r, "%s: Pushed", short_hex(digest));
                        return 0;
                }
                bool cancelled = r->cancel && atomic_load(r->cancel);
                bool again = (status == 0 ? transport_error(sub) : transient(status)) &&
                             attempt < r->o->retries && !cancelled;
                if (!again) {
                        berth_error_release(err);
                        *err = sub;
                        return berth_wrap(err, "push blob %s", digest);
                }
                log_warn("push %s: %s; retrying", short_hex(digest), berth_error_msg(sub));
                berth_error_release(&sub);
                backoff(attempt);
        }
}

/* dockerd's max-concurrent-uploads: five layers upload at once, the rest wait. */
#define PUSH_UPLOADS 5

/* A push's layers, each once, top layer first as dockerd lists them: the pool's jobs. */
struct uploads {
        struct img_store *s;
        const char *from;
        const char **digests;
};

static int upload_layer(void *ctx, struct reg *r, size_t job, berth_error_t *err)
{
        struct uploads *u = ctx;
        return push_blob(u->s, r, u->digests[job], u->from, true, err);
}

/* Every layer of img not there yet, up to PUSH_UPLOADS at once. */
static int push_layers(struct img_store *s, struct reg *r, const struct img_image *img,
                       const char *from, berth_error_t *err)
{
        cleanup_free const char **digests = berth_xcalloc(img->n_layers + 1, sizeof(*digests));
        struct uploads u = {.s = s, .from = from, .digests = digests};
        struct pool p = POOL_INIT;
        for (size_t i = img->n_layers; i-- > 0;) {
                const char *d = img->layers[i].digest;
                bool seen = false;
                for (size_t j = 0; j < p.n && !seen; j++)
                        seen = strcmp(digests[j], d) == 0;
                if (seen)
                        continue; /* a layer listed twice is pushed once */
                progress(r, "%s: Preparing", short_hex(d));
                if (p.n >= PUSH_UPLOADS)
                        progress(r, "%s: Waiting", short_hex(d));
                digests[p.n++] = d;
        }
        p.run = upload_layer;
        p.ctx = &u;
        struct pool_worker w[PUSH_UPLOADS];
        size_t n = pool_start(&p, r, w, PUSH_UPLOADS);
        pool_join(w, n); /* once the jobs have run out, or one failed */
        int ret = p.err ? -1 : 0;
        pool_free(&p, ret, err);
        return ret;
}

/* Another repository on the same registry that this image is named after: the
 * registry can mount its blobs into the target repository instead of an upload. */
static char *mount_source(const struct img_entry *e, const struct reg *r)
{
        size_t hl = strlen(r->host);
        for (size_t i = 0; i < e->n_names; i++) {
                char *repo, *tag;
                img_ref_split(e->names[i], &repo, &tag);
                free(tag);
                if (strncmp(repo, r->host, hl) == 0 && repo[hl] == '/' &&
                    strcmp(repo + hl + 1, r->repo) != 0) {
                        char *from = berth_xstrdup(repo + hl + 1);
                        free(repo);
                        return from;
                }
                free(repo);
        }
        return NULL;
}

/* dockerd's push event: Actor.ID the reference pushed ("reg:5000/a:tag"), the image's labels
 * and name its repository. */
static void push_event(const struct img_image *img, const char *dest)
{
        cleanup_free char *norm = NULL, *repo = NULL, *tag = NULL;
        berth_error_t sub = NULL;
        if (img_ref_normalize(dest, &norm, &sub) < 0) {
                berth_error_release(&sub);
                return;
        }
        img_ref_split(norm, &repo, &tag);
        json_t *attrs = json_object();
        json_object_update(attrs, json_object_get(json_object_get(img->cfg, "config"), "Labels"));
        json_object_set_new(attrs, "name", json_string(repo));
        berth_event_emit(NULL, "image", "push", norm, attrs);
}

int img_push(struct img_store *s, const char *image, const char *dest,
             const struct img_registry_opts *o, char out[IMG_DIGEST_MAX], berth_error_t *err)
{
        struct img_table t = {0};
        struct img_image img = {0};
        struct reg r = {0};
        struct reg_board board = {0};
        pthread_mutex_t tell = PTHREAD_MUTEX_INITIALIZER;
        cleanup_free char *ref = NULL;
        cleanup_free char *body = NULL;
        cleanup_free char *path = NULL;
        cleanup_free char *from = NULL;
        int ret = -1;
        struct img_entry *e;
        if (img_table_load(s, &t, err) < 0 || img_lookup(s, &t, image, &e, err) < 0 ||
            img_image_load(s, e->manifest, &img, err) < 0)
                goto out;
        if (reg_open(&r, dest ? dest : image, o, &ref, err) < 0 || reg_ping(&r, err) < 0)
                goto out;
        reg_board_start(&r, &board);
        if (img_digest_valid(ref)) {
                berth_fail(err, EINVAL, "push needs a tag, not a digest");
                goto out;
        }
        progress(&r, "The push refers to repository [%s/%s]", r.host, r.repo);
        from = mount_source(e, &r);
        r.mu = &tell;
        if (push_layers(s, &r, &img, from, err) < 0 ||
            push_blob(s, &r, img.config.digest, from, false, err) < 0)
                goto out;
        size_t len = 0;
        if (img_blob_read(s, img.manifest_digest, &body, &len, err) < 0)
                goto out;
        const char *mt = json_string_value(json_object_get(img.manifest, "mediaType"));
        path = berth_xasprintf("/v2/%s/manifests/%s", r.repo, ref);
        struct reg_req q = {.method = "PUT",
                            .path = path,
                            .content_type = mt ? mt : IMG_MT_OCI_MANIFEST,
                            .body = body,
                            .body_len = len,
                            .body_fd = -1};
        struct reg_resp resp = {0};
        if (reg_do(&r, &q, &resp, err) < 0)
                goto out;
        if (resp.status != 201) {
                reg_fail(&r, &resp, "push manifest", err);
                reg_resp_free(&resp);
                goto out;
        }
        if (resp.docker_digest && strcmp(resp.docker_digest, img.manifest_digest) != 0)
                log_warn("registry stored the manifest as %s, expected %s", resp.docker_digest,
                         img.manifest_digest);
        reg_resp_free(&resp);
        progress(&r, "%s: digest: %s size: %zu", ref, img.manifest_digest, len);
        if (out)
                memcpy(out, img.manifest_digest, IMG_DIGEST_MAX);
        push_event(&img, dest ? dest : image);
        ret = 0;
out:
        img_image_free(&img);
        img_table_free(&t);
        reg_close(&r);
        reg_board_free(&board);
        pthread_mutex_destroy(&tell);
        return ret < 0 ? berth_wrap(err, "push `%s`", dest ? dest : image) : 0;
}

int img_login(const char *registry, const char *user, const char *password,
              const struct img_registry_opts *o, berth_error_t *err)
{
        if (img_login_check(registry, user, password, o, err) < 0)
                return -1;
        return img_auth_put(o->auth_file, registry, user, password, err);
}

int img_login_check(const char *registry, const char *user, const char *password,
                    const struct img_registry_opts *o, berth_error_t *err)
{
        /* a throwaway repository name: only /v2/ is asked */
        cleanup_free char *name = berth_xasprintf("%s/login-check", registry);
        struct img_registry_opts with = *o;
        with.auth_file = NULL;
        struct reg r;
        cleanup_free char *ref = NULL;
        int ret = reg_open(&r, name, &with, &ref, err);
        if (ret == 0) {
                r.user = berth_xstrdup(user);
                r.password = berth_xstrdup(password);
                ret = reg_ping(&r, err);
        }
        if (ret == 0) {
                /* ping authenticated if challenged; check the credentials work */
                struct reg_req q = {.method = "GET", .path = "/v2/", .body_fd = -1};
                struct reg_resp resp = {0};
                ret = reg_do(&r, &q, &resp, err);
                if (ret == 0 && resp.status != 200)
                        ret = berth_fail_status(err, 1, EACCES,
                                                "login to %s failed: HTTP %ld (wrong user name "
                                                "or password?)",
                                                registry, resp.status);
                reg_resp_free(&resp);
        }
        reg_close(&r);
        return ret;
}
