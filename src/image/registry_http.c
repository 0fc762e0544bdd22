/* registry_http.c — HTTP for the registry client: libcurl (loaded on first use, curl_dl.c),
 * TLS, auth (registry_http.h). */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "image/curl_dl.h"
#include "image/registry_http.h"

static bool host_is_local(const char *host)
{
        return berth_str_has_prefix(host, "localhost") || berth_str_has_prefix(host, "127.") ||
               berth_str_has_prefix(host, "[::1]");
}

/* host's entry in a map of credentials keyed as the docker CLI keys them: "HOST[:PORT]", or
 * a URL ("https://index.docker.io/v1/"); Docker Hub answers to its three names. */
static bool auths_get(json_t *auths, const char *host, char **user, char **password)
{
        const char *key;
        json_t *v;
        bool hub = strcmp(host, "registry-1.docker.io") == 0;
        json_object_foreach(auths, key, v)
        {
                const char *k = strstr(key, "://") ? strstr(key, "://") + 3 : key;
                size_t n = strcspn(k, "/");
                bool same = (strlen(host) == n && strncmp(k, host, n) == 0) ||
                            (hub && ((n == 15 && strncmp(k, "index.docker.io", n) == 0) ||
                                     (n == 9 && strncmp(k, "docker.io", n) == 0)));
                const char *u = json_string_value(json_object_get(v, "username"));
                const char *p = json_string_value(json_object_get(v, "password"));
                if (same && u && *u && p) {
                        *user = berth_xstrdup(u);
                        *password = berth_xstrdup(p);
                        return true;
                }
        }
        return false;
}

int reg_open(struct reg *r, const char *name, const struct img_registry_opts *o, char **ref,
             berth_error_t *err)
{
        memset(r, 0, sizeof(*r));
        r->o = o;
        cleanup_free char *norm = NULL;
        if (img_ref_normalize(name, &norm, err) < 0)
                return -1;
        char *at = strchr(norm, '@');
        char *tag = NULL;
        if (at) {
                *at = '\0';
                *ref = berth_xstrdup(at + 1);
        }
        char *slash = strrchr(norm, '/');
        char *colon = strrchr(slash ? slash : norm, ':');
        if (colon) {
                *colon = '\0';
                tag = colon + 1;
        }
        if (!at)
                *ref = berth_xstrdup(tag ? tag : "latest");
        char *first = strchr(norm, '/');
        if (first &&
            (memchr(norm, '.', (size_t) (first - norm)) ||
             memchr(norm, ':', (size_t) (first - norm)) || strncmp(norm, "localhost/", 10) == 0)) {
                r->host = berth_xasprintf("%.*s", (int) (first - norm), norm);
                r->repo = berth_xstrdup(first + 1);
        } else {
                r->host = berth_xstrdup("registry-1.docker.io");
                r->repo = strchr(norm, '/') ? berth_xstrdup(norm)
                                            : berth_xasprintf("library/%s", norm);
        }
        r->verify = o->tls_verify == 1 || (o->tls_verify < 0 && !host_is_local(r->host));
        if (o->user && o->password) {
                r->user = berth_xstrdup(o->user);
                r->password = berth_xstrdup(o->password);
        } else if (!auths_get(o->auths, r->host, &r->user, &r->password) &&
                   img_auth_get(o->auth_file, r->host, &r->user, &r->password, err) < 0) {
                return -1;
        }
        if (img_curl_load(err) < 0)
                return -1;
        r->curl = curl_easy_init();
        if (r->curl == NULL)
                return berth_fail(err, ENOMEM, "initialise libcurl");
        return 0;
}

static char *dup_or_null(const char *s)
{
        return s ? berth_xstrdup(s) : NULL;
}

int reg_clone(struct reg *dst, const struct reg *src, berth_error_t *err)
{
        memset(dst, 0, sizeof(*dst));
        dst->o = src->o;
        dst->host = dup_or_null(src->host);
        dst->repo = dup_or_null(src->repo);
        dst->base = dup_or_null(src->base);
        dst->verify = src->verify;
        dst->auth = dup_or_null(src->auth);
        dst->user = dup_or_null(src->user);
        dst->password = dup_or_null(src->password);
        dst->mu = src->mu;
        dst->board = src->board;
        dst->cancel = src->cancel;
        dst->curl = curl_easy_init();
        if (dst->curl == NULL) {
                reg_close(dst);
                return berth_fail(err, ENOMEM, "initialise libcurl");
        }
        return 0;
}

void reg_close(struct reg *r)
{
        if (r->curl)
                curl_easy_cleanup(r->curl);
        free(r->host);
        free(r->repo);
        free(r->base);
        free(r->auth);
        free(r->user);
        if (r->password)
                explicit_bzero(r->password, strlen(r->password));
        free(r->password);
        memset(r, 0, sizeof(*r));
}

void reg_resp_free(struct reg_resp *resp)
{
        free(resp->body);
        free(resp->www_auth);
        free(resp->location);
        free(resp->content_type);
        free(resp->docker_digest);
        struct img_blob_writer *b = resp->blob;
        size_t max = resp->max;
        memset(resp, 0, sizeof(*resp));
        resp->blob = b;
        resp->max = max;
}

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
        struct reg_resp *resp = ctx;
        size_t len = size * n;
        if (resp->blob && resp->status < 300) {
                if (img_blob_write(resp->blob, data, len, resp->err) < 0) {
                        resp->write_failed = true;
                        return 0;
                }
                return len;
        }
        if (resp->len + len > (resp->max ? resp->max : (4u << 20))) {
                resp->too_large = true;
                return 0;
        }
        resp->body = berth_xrealloc(resp->body, resp->len + len + 1);
        memcpy(resp->body + resp->len, data, len);
        resp->len += len;
        resp->body[resp->len] = '\0';
        return len;
}

static void header_value(char **dst, const char *line, size_t len, const char *name)
{
        size_t n = strlen(name);
        if (len <= n + 1 || strncasecmp(line, name, n) != 0 || line[n] != ':')
                return;
        const char *v = line + n + 1;
        const char *end = line + len;
        while (v < end && isspace((unsigned char) *v))
                v++;
        while (end > v && isspace((unsigned char) end[-1]))
                end--;
        if (*dst == NULL) /* the first of repeated headers */
                *dst = berth_xasprintf("%.*s", (int) (end - v), v);
}

static size_t on_header(char *data, size_t size, size_t n, void *ctx)
{
        struct reg_resp *resp = ctx;
        size_t len = size * n;
        if (len > 5 && strncmp(data, "HTTP/", 5) == 0) {
                /* a new response (after a redirect or 100-continue): its headers only */
                free(resp->www_auth);
                free(resp->location);
                free(resp->content_type);
                free(resp->docker_digest);
                resp->www_auth = resp->location = resp->content_type = resp->docker_digest = NULL;
                resp->status = strtol(strchr(data, ' ') ? strchr(data, ' ') + 1 : "0", NULL, 10);
                return len;
        }
        header_value(&resp->www_auth, data, len, "WWW-Authenticate");
        header_value(&resp->location, data, len, "Location");
        header_value(&resp->content_type, data, len, "Content-Type");
        header_value(&resp->docker_digest, data, len, "Docker-Content-Digest");
        return len;
}

struct upload {
        int fd;
        uint64_t fd_left; /* a chunk is a slice of the file: never read past it */
        const char *buf;
        size_t len, off;
};

static size_t on_read(char *out, size_t size, size_t n, void *ctx)
{
        struct upload *u = ctx;
        size_t want = size * n;
        if (u->fd >= 0) {
                if (want > u->fd_left)
                        want = (size_t) u->fd_left;
                if (want == 0)
                        return 0;
                ssize_t r = read(u->fd, out, want);
                if (r < 0)
                        return CURL_READFUNC_ABORT;
                u->fd_left -= (uint64_t) r;
                return (size_t) r;
        }
        size_t left = u->len - u->off;
        size_t k = left < want ? left : want;
        memcpy(out, u->buf + u->off, k);
        u->off += k;
        return k;
}

static void human(char *buf, size_t len, double v)
{
        static const char *const units[] = {"B", "kB", "MB", "GB"};
        size_t u = 0;
        while (v >= 1000.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
                v /= 1000.0;
                u++;
        }
        snprintf(buf, len, "%.3g%s", v, units[u]);
}

/* Docker's progress line, redrawn in place at most ten times a second. */
static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
        struct reg *r = ctx;
        if (r->cancel && atomic_load(r->cancel))
                return 1; /* another download of the pull failed: this one ends too */
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        double now = (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
        if (now - r->xfer_last < 0.1)
                return 0;
        if (r->xfer_id) {
                /* dockerd's throttle (its progress reader): 512 KiB since the last report;
                 * the complete count is fetch_blob's to send, once the body is all in */
                bool sending = ultotal > 0;
                int64_t got = r->xfer_base + (int64_t) (sending ? ulnow : dlnow);
                int64_t total =
                        r->xfer_total > 0 ? r->xfer_total : (int64_t) (sending ? ultotal : dltotal);
                if (got - r->xfer_sent > 512 * 1024 && got < total) {
                        r->xfer_last = now;
                        r->xfer_sent = got;
                        reg_lock(r);
                        r->o->bytes_fn(r->o->progress_ctx, r->xfer_id,
                                       r->xfer_verb ? r->xfer_verb : "Downloading", got, total);
                        reg_unlock(r);
                }
                return 0;
        }
        if (r->xfer_label == NULL || r->board == NULL)
                return 0; /* only here for the cancel flag */
        bool up = ultotal > 0;
        double done = (double) (up ? ulnow : dlnow), total = (double) (up ? ultotal : dltotal);
        if (total <= 0)
                return 0; /* nothing known yet (or a request without a body) */
        r->xfer_last = now;
        char a[16], b[16], bar[52];
        human(a, sizeof(a), done);
        human(b, sizeof(b), total);
        size_t fill = total > 0 ? (size_t) (50.0 * done / total) : 0;
        for (size_t i = 0; i < 50; i++)
                bar[i] = i < fill ? '=' : i == fill ? '>' : ' ';
        bar[50] = '\0';
        char line[160];
        /* a narrow terminal gets the counts alone, as from the docker CLI: a wrapped line
         * would break the board's cursor arithmetic */
        if (r->board->bars)
                snprintf(line, sizeof(line), "%s [%s] %s/%s", r->xfer_label, bar, a, b);
        else
                snprintf(line, sizeof(line), "%s %s/%s", r->xfer_label, a, b);
        reg_lock(r);
        reg_board_line(r, line);
        reg_unlock(r);
        return 0;
}

void reg_board_start(struct reg *r, struct reg_board *b)
{
        memset(b, 0, sizeof(*b));
        r->board = NULL;
        if (r->o->quiet || r->o->progress_fn || !isatty(STDOUT_FILENO))
                return;
        struct winsize ws = {0};
        b->bars = ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 110;
        r->board = b;
}

void reg_board_free(struct reg_board *b)
{
        free(b->rows);
        memset(b, 0, sizeof(*b));
}

static bool layer_id(const char *line)
{
        for (size_t i = 0; i < 12; i++)
                if (!isxdigit((unsigned char) line[i]))
                        return false;
        return line[12] == ':' && line[13] == ' ';
}

void reg_board_line(const struct reg *r, const char *line)
{
        struct reg_board *b = r->board;
        bool layer = layer_id(line);
        size_t i = 0;
        while (layer && i < b->n && memcmp(b->rows[i].id, line, 12) != 0)
                i++;
        if (layer && i < b->n) {
                /* up to the layer's line, rewritten whole, and back down (the docker CLI's way) */
                size_t up = b->lines - b->rows[i].row;
                printf("\033[%zuA\r\033[2K%s\033[%zuB\r", up, line, up);
        } else {
                if (layer) {
                        if (b->n == b->cap) {
                                b->cap = b->cap ? 2 * b->cap : 16;
                                b->rows = berth_xrealloc(b->rows, b->cap * sizeof(*b->rows));
                        }
                        snprintf(b->rows[b->n].id, sizeof(b->rows[b->n].id), "%.12s", line);
                        b->rows[b->n++].row = b->lines;
                }
                printf("%s\n", line);
                b->lines++;
        }
        fflush(stdout);
}

static int perform(struct reg *r, const struct reg_req *q, const char *url, struct reg_resp *resp,
                   berth_error_t *err)
{
        CURL *c = r->curl;
        curl_easy_reset(c);
        struct curl_slist *hdrs = NULL;
        cleanup_free char *accept = q->accept ? berth_xasprintf("Accept: %s", q->accept) : NULL;
        cleanup_free char *ctype =
                q->content_type ? berth_xasprintf("Content-Type: %s", q->content_type) : NULL;
        if (accept)
                hdrs = curl_slist_append(hdrs, accept);
        if (ctype)
                hdrs = curl_slist_append(hdrs, ctype);
        if (q->header)
                hdrs = curl_slist_append(hdrs, q->header);
        if (r->auth)
                hdrs = curl_slist_append(hdrs, r->auth);
        hdrs = curl_slist_append(hdrs, "Expect:");
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "berth/" BERTH_VERSION);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
        /* a stalled transfer (under 1 KiB/s for 30 s) is a failure, not a hang */
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 30L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, r->verify ? 1L : 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, r->verify ? 2L : 0L);
        if (r->o->cert_dir) {
                cleanup_free char *ca = berth_xasprintf("%s/ca.crt", r->o->cert_dir);
                cleanup_free char *cert = berth_xasprintf("%s/client.cert", r->o->cert_dir);
                cleanup_free char *key = berth_xasprintf("%s/client.key", r->o->cert_dir);
                if (access(ca, R_OK) == 0)
                        curl_easy_setopt(c, CURLOPT_CAINFO, ca);
                if (access(cert, R_OK) == 0 && access(key, R_OK) == 0) {
                        curl_easy_setopt(c, CURLOPT_SSLCERT, cert);
                        curl_easy_setopt(c, CURLOPT_SSLKEY, key);
                }
        }
        /* redirects (blob storage elsewhere) must not carry our credentials */
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, q->body || q->body_fd >= 0 ? 0L : 1L);
        curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L);
        curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
        if (r->xfer_label || r->xfer_id || r->cancel) {
                curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
                curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
                curl_easy_setopt(c, CURLOPT_XFERINFODATA, r);
        }
        struct upload up = {
                .fd = q->body_fd, .fd_left = q->body_size, .buf = q->body, .len = q->body_len};
        if (strcmp(q->method, "HEAD") == 0) {
                curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        } else if (strcmp(q->method, "PUT") == 0 || strcmp(q->method, "PATCH") == 0) {
                curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
                curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
                curl_easy_setopt(c, CURLOPT_READDATA, &up);
                curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
                                 (curl_off_t) (q->body_fd >= 0 ? q->body_size : q->body_len));
        } else if (strcmp(q->method, "POST") == 0) {
                curl_easy_setopt(c, CURLOPT_POST, 1L);
                curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body ? q->body : "");
                curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long) q->body_len);
        }
        resp->err = err;
        CURLcode rc = curl_easy_perform(c);
        curl_slist_free_all(hdrs);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        resp->status = status;
        if (resp->write_failed)
                return -1;
        if (resp->too_large)
                return berth_fail(err, EFBIG, "%s %s: response too large", q->method, url);
        if (rc != CURLE_OK)
                return berth_fail(err, rc == CURLE_OPERATION_TIMEDOUT ? ETIMEDOUT : ECONNRESET,
                                  "%s %s: %s", q->method, url, curl_easy_strerror(rc));
        return 0;
}

/* key="value" from a WWW-Authenticate challenge. */
static char *challenge_param(const char *h, const char *key)
{
        size_t n = strlen(key);
        for (const char *p = h; (p = strstr(p, key)) != NULL; p += n) {
                if (p != h && p[-1] != ' ' && p[-1] != ',')
                        continue;
                if (p[n] != '=')
                        continue;
                const char *v = p + n + 1;
                if (*v == '"') {
                        const char *end = strchr(v + 1, '"');
                        return end ? berth_xasprintf("%.*s", (int) (end - v - 1), v + 1) : NULL;
                }
                size_t len = strcspn(v, ",");
                return berth_xasprintf("%.*s", (int) len, v);
        }
        return NULL;
}

static void set_basic(struct reg *r)
{
        cleanup_free char *plain = berth_xasprintf("%s:%s", r->user, r->password);
        size_t n = strlen(plain);
        cleanup_free char *b64 = img_base64_encode(plain, n);
        free(r->auth);
        r->auth = berth_xasprintf("Authorization: Basic %s", b64);
        explicit_bzero(plain, n);
        explicit_bzero(b64, strlen(b64));
}

/* Answer a 401's challenge: Basic with stored credentials, or a Bearer token. */
static int authenticate(struct reg *r, const char *challenge, berth_error_t *err)
{
        if (strncasecmp(challenge, "Basic", 5) == 0) {
                if (r->user == NULL)
                        return berth_fail_status(err, 1, EACCES,
                                                 "%s requires a login (berth login %s)", r->host,
                                                 r->host);
                set_basic(r);
                return 0;
        }
        if (strncasecmp(challenge, "Bearer", 6) != 0)
                return berth_fail(err, EPROTO, "%s: unsupported auth challenge `%s`", r->host,
                                  challenge);
        cleanup_free char *realm = challenge_param(challenge, "realm");
        cleanup_free char *service = challenge_param(challenge, "service");
        cleanup_free char *scope = challenge_param(challenge, "scope");
        if (realm == NULL)
                return berth_fail(err, EPROTO, "%s: bearer challenge without a realm", r->host);
        char *esc_service = service ? curl_easy_escape(r->curl, service, 0) : NULL;
        char *esc_scope = scope ? curl_easy_escape(r->curl, scope, 0) : NULL;
        cleanup_free char *url =
                berth_xasprintf("%s%sservice=%s%s%s", realm, strchr(realm, '?') ? "&" : "?",
                                esc_service ? esc_service : "", esc_scope ? "&scope=" : "",
                                esc_scope ? esc_scope : "");
        curl_free(esc_service);
        curl_free(esc_scope);
        free(r->auth);
        r->auth = NULL;
        if (r->user)
                set_basic(r);
        struct reg_req q = {.method = "GET", .path = url, .body_fd = -1};
        struct reg_resp resp = {0};
        int ret = perform(r, &q, url, &resp, err);
        if (ret == 0 && resp.status != 200)
                ret = berth_fail_status(err, 1, EACCES, "%s: token request refused (HTTP %ld)",
                                        r->host, resp.status);
        json_t *j = ret == 0 ? json_loads(resp.body ? resp.body : "", 0, NULL) : NULL;
        const char *tok = json_string_value(json_object_get(j, "token"));
        if (tok == NULL)
                tok = json_string_value(json_object_get(j, "access_token"));
        if (ret == 0 && tok == NULL)
                ret = berth_fail(err, EPROTO, "%s: token response without a token", r->host);
        free(r->auth);
        r->auth = tok ? berth_xasprintf("Authorization: Bearer %s", tok) : NULL;
        json_decref(j);
        reg_resp_free(&resp);
        return ret;
}

static char *full_url(struct reg *r, const char *path)
{
        if (strncmp(path, "http://", 7) == 0 || strncmp(path, "https://", 8) == 0)
                return berth_xstrdup(path);
        return berth_xasprintf("%s%s", r->base, path);
}

int reg_do(struct reg *r, const struct reg_req *q, struct reg_resp *resp, berth_error_t *err)
{
        cleanup_free char *url = full_url(r, q->path);
        for (int attempt = 0;; attempt++) {
                off_t start = q->body_fd >= 0 ? lseek(q->body_fd, 0, SEEK_CUR) : 0;
                if (perform(r, q, url, resp, err) < 0)
                        return -1;
                if (resp->status != 401 || attempt > 0 || resp->www_auth == NULL)
                        return 0;
                cleanup_free char *challenge = berth_xstrdup(resp->www_auth);
                reg_resp_free(resp);
                if (authenticate(r, challenge, err) < 0)
                        return -1;
                if (q->body_fd >= 0 && lseek(q->body_fd, start, SEEK_SET) < 0)
                        return berth_fail(err, errno, "rewind upload");
        }
}

int reg_ping(struct reg *r, berth_error_t *err)
{
        /* an insecure registry may speak plain http: https is tried first */
        static const char *const schemes[] = {"https", "http"};
        size_t n = r->verify ? 1 : 2;
        for (size_t i = 0; i < n; i++) {
                free(r->base);
                r->base = berth_xasprintf("%s://%s", schemes[i], r->host);
                cleanup_free char *url = full_url(r, "/v2/");
                struct reg_req q = {.method = "GET", .path = "/v2/", .body_fd = -1};
                struct reg_resp resp = {0};
                berth_error_t sub = NULL;
                if (perform(r, &q, url, &resp, &sub) < 0) {
                        reg_resp_free(&resp);
                        if (i + 1 < n) {
                                log_debug("registry %s: %s; trying plain http", r->host,
                                          berth_error_msg(sub));
                                berth_error_release(&sub);
                                continue;
                        }
                        berth_error_release(err);
                        *err = sub;
                        return berth_wrap(err, "reach registry %s", r->host);
                }
                int status = (int) resp.status;
                cleanup_free char *challenge = resp.www_auth ? berth_xstrdup(resp.www_auth) : NULL;
                reg_resp_free(&resp);
                if (status == 401 && challenge && r->user)
                        return authenticate(r, challenge, err);
                if (status == 200 || status == 401)
                        return 0;
                return berth_fail(err, EPROTO, "registry %s answered /v2/ with HTTP %d", r->host,
                                  status);
        }
        return -1;
}

int reg_fail(struct reg *r, const struct reg_resp *resp, const char *what, berth_error_t *err)
{
        /* the distribution API's {"errors":[{"code","message"}]} */
        json_t *j = resp->body ? json_loads(resp->body, 0, NULL) : NULL;
        json_t *e0 = json_array_get(json_object_get(j, "errors"), 0);
        const char *code = json_string_value(json_object_get(e0, "code"));
        const char *msg = json_string_value(json_object_get(e0, "message"));
        int status = resp->status == 401 || resp->status == 403 || resp->status == 404 ? 1 : 0;
        berth_fail_status(err, status, 0, "%s: %s answered HTTP %ld%s%s%s%s", what, r->host,
                          resp->status, code ? " " : "", code ? code : "", msg ? ": " : "",
                          msg ? msg : "");
        json_decref(j);
        return -1;
}
