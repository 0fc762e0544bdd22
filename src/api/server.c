/* server.c — the listeners of the Engine API (unix sockets, TCP with optional TLS, systemd's
 * sockets) and the request life cycle on libmicrohttpd: collect the body, dispatch, reply. */
#include <errno.h>
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netdb.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/api_internal.h"
#include "common/log.h"
#include "common/util.h"

/* A JSON request body larger than this is refused (a tarball goes to a file instead). */
#define API_MAX_JSON_BODY (32u << 20)

/* What a request needs to know of the listener it came in on. */
struct api_listener {
        struct api_server *s;
        bool verify_client; /* TLS with --tlscacert: only clients with a certificate it signed */
};

struct api_daemon {
        struct MHD_Daemon *d;
        struct api_listener *l;
        char *unix_path; /* removed at stop */
        int fd;
};

struct api_server {
        struct berth_paths paths;
        struct api_daemon *v;
        size_t n;
        char *tls_cert, *tls_key, *tls_ca;
};

/* Per request: the route's body mode is decided on the first call, when the headers are in. */
struct api_conn_req {
        struct api_req r;
        int flags;
        bool too_big;
        size_t cap;
};

static void req_free(struct api_conn_req *cr)
{
        for (size_t i = 0; i < API_MAX_PARAMS; i++)
                free(cr->r.params[i]);
        free(cr->r.body);
        if (cr->r.body_fd >= 0)
                close(cr->r.body_fd);
        if (cr->r.resp)
                MHD_destroy_response(cr->r.resp);
        if (cr->r.hijack)
                api_hijack_abandon(cr->r.hijack);
        free(cr);
}

static int body_file(const struct berth_paths *p)
{
        int fd = open(p->run_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (fd < 0)
                fd = open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        return fd;
}

/* dockerd's --tlsverify: the handshake asked for a certificate (MHD does, with a trust CA);
 * gnutls leaves checking it to us. */
static bool client_verified(struct MHD_Connection *conn)
{
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
        if (!ci || !ci->tls_session)
                return false;
        gnutls_session_t ses = (gnutls_session_t) ci->tls_session;
        unsigned n = 0;
        if (!gnutls_certificate_get_peers(ses, &n) || n == 0)
                return false;
        unsigned status = 0;
        return gnutls_certificate_verify_peers2(ses, &status) == 0 && status == 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
        struct api_listener *l = cls;
        struct api_server *s = l->s;
        struct api_conn_req *cr = *con_cls;
        if (!cr) {
                if (l->verify_client && !client_verified(conn)) {
                        log_warn("api: refused a TLS client without a certificate the CA signed");
                        return MHD_NO;
                }
                cr = berth_xcalloc(1, sizeof(*cr));
                cr->r.conn = conn;
                cr->r.srv = s;
                cr->r.paths = &s->paths;
                cr->r.method = method;
                cr->r.body_fd = -1;
                const union MHD_ConnectionInfo *ci =
                        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
                cr->r.client_fd = ci ? ci->connect_fd : -1;
                cr->flags = api_route_flags(method, url);
                if (cr->flags > 0 && (cr->flags & API_BODY_FILE)) {
                        cr->r.body_fd = body_file(&s->paths);
                        if (cr->r.body_fd < 0)
                                cr->too_big = true;
                }
                *con_cls = cr;
                return MHD_YES;
        }
        if (*upload_size) {
                size_t n = *upload_size;
                *upload_size = 0;
                if (cr->too_big)
                        return MHD_YES;
                if (cr->r.body_fd >= 0) {
                        if (berth_write_all(cr->r.body_fd, upload_data, n) < 0)
                                cr->too_big = true;
                        return MHD_YES;
                }
                if (cr->r.body_len + n > API_MAX_JSON_BODY) {
                        cr->too_big = true;
                        return MHD_YES;
                }
                if (cr->r.body_len + n + 1 > cr->cap) {
                        cr->cap = (cr->r.body_len + n + 1) * 2;
                        cr->r.body = berth_xrealloc(cr->r.body, cr->cap);
                }
                memcpy(cr->r.body + cr->r.body_len, upload_data, n);
                cr->r.body_len += n;
                cr->r.body[cr->r.body_len] = '\0';
                return MHD_YES;
        }
        (void) version;
        if (cr->too_big)
                api_reply_error(&cr->r, 413,
                                cr->r.body_fd >= 0 ? "could not store the request body"
                                                   : "request body too large");
        else {
                if (cr->r.body_fd >= 0)
                        lseek(cr->r.body_fd, 0, SEEK_SET);
                api_dispatch(&cr->r, url);
        }
        if (!cr->r.resp)
                api_reply_error(&cr->r, 500, "the handler of %s %s gave no answer", method, url);
        enum MHD_Result ret = MHD_queue_response(conn, cr->r.status, cr->r.resp);
        MHD_destroy_response(cr->r.resp);
        cr->r.resp = NULL;
        return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
        (void) cls;
        (void) conn;
        (void) toe;
        if (*con_cls)
                req_free(*con_cls);
        *con_cls = NULL;
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
        (void) cls;
        char buf[512];
        vsnprintf(buf, sizeof(buf), fmt, ap);
        size_t n = strlen(buf);
        while (n && buf[n - 1] == '\n')
                buf[--n] = '\0';
        log_debug("api: %s", buf);
}

/* Docker's default socket is per user: <run_dir>/docker.sock. */
static int listen_unix(const char *path, int *out, berth_error_t *err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return berth_fail(err, ENAMETOOLONG, "listen on unix socket %s", path);
        memcpy(sa.sun_path, path, strlen(path) + 1);
        cleanup_free char *dir = berth_xstrdup(path);
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                if (berth_mkdir_p(dir, 0711, err) < 0)
                        return -1;
        }
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return berth_fail(err, errno, "socket");
        /* a socket file left by a killed service: replace it, unless one answers there */
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0) {
                close(fd);
                return berth_fail(err, EADDRINUSE, "listen on %s: another service answers there",
                                  path);
        }
        unlink(path);
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 128) < 0) {
                int e = errno;
                close(fd);
                return berth_fail(err, e, "listen on unix socket %s", path);
        }
        chmod(path, 0660);
        *out = fd;
        return 0;
}

static int listen_tcp(const char *hostport, int *out, berth_error_t *err)
{
        cleanup_free char *h = berth_xstrdup(hostport);
        char *colon = strrchr(h, ':');
        if (!colon || !colon[1])
                return berth_fail_status(err, 125, EINVAL, "-H tcp://%s: a port is needed",
                                         hostport);
        *colon = '\0';
        char *host = h;
        if (*host == '[') { /* [::1]:2375 */
                host++;
                char *end = strchr(host, ']');
                if (end)
                        *end = '\0';
        }
        struct addrinfo hints = {.ai_family = AF_UNSPEC,
                                 .ai_socktype = SOCK_STREAM,
                                 .ai_flags = AI_PASSIVE | AI_NUMERICSERV},
                        *ai = NULL;
        int gr = getaddrinfo(*host ? host : NULL, colon + 1, &hints, &ai);
        if (gr != 0)
                return berth_fail_status(err, 125, EINVAL, "-H tcp://%s: %s", hostport,
                                         gai_strerror(gr));
        int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        if (fd >= 0)
                setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 128) < 0) {
                int e = errno;
                if (fd >= 0)
                        close(fd);
                freeaddrinfo(ai);
                return berth_fail(err, e, "listen on tcp://%s", hostport);
        }
        freeaddrinfo(ai);
        *out = fd;
        return 0;
}

static int add_daemon(struct api_server *s, int fd, bool tls, const char *unix_path,
                      berth_error_t *err)
{
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                         MHD_ALLOW_UPGRADE | MHD_USE_ERROR_LOG | MHD_USE_ITC;
        struct MHD_Daemon *d;
        struct api_listener *l = berth_xcalloc(1, sizeof(*l));
        *l = (struct api_listener){.s = s, .verify_client = tls && s->tls_ca};
        if (tls)
                d = MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, on_request, l,
                                     MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED,
                                     on_completed, s, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
                                     MHD_OPTION_CONNECTION_TIMEOUT, 0u, MHD_OPTION_HTTPS_MEM_KEY,
                                     s->tls_key, MHD_OPTION_HTTPS_MEM_CERT, s->tls_cert,
                                     /* without a CA the list ends here */
                                     s->tls_ca ? MHD_OPTION_HTTPS_MEM_TRUST : MHD_OPTION_END,
                                     s->tls_ca, MHD_OPTION_END);
        else
                d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, l, MHD_OPTION_LISTEN_SOCKET,
                                     fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                     MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
                                     MHD_OPTION_CONNECTION_TIMEOUT, 0u, MHD_OPTION_END);
        if (!d) {
                free(l);
                close(fd);
                return berth_fail(err, EINVAL, "start the HTTP server%s",
                                  tls ? " (TLS: check ca.pem, cert.pem and key.pem)" : "");
        }
        s->v = berth_xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
        s->v[s->n++] = (struct api_daemon){
                .d = d, .l = l, .fd = fd, .unix_path = unix_path ? berth_xstrdup(unix_path) : NULL};
        return 0;
}

static int load_tls(struct api_server *s, const struct api_listen_opts *o, berth_error_t *err)
{
        const char *paths[3] = {o->tls_ca, o->tls_cert, o->tls_key};
        char **dst[3] = {&s->tls_ca, &s->tls_cert, &s->tls_key};
        for (int i = 0; i < 3; i++) {
                size_t len;
                if (paths[i] && berth_read_file(paths[i], dst[i], &len, err) < 0)
                        return berth_wrap(err, "TLS for -H tcp://");
        }
        if (!s->tls_cert || !s->tls_key)
                return berth_fail_status(err, 125, EINVAL, "TLS needs both --tlscert and --tlskey");
        return 0;
}

/* systemd socket activation: LISTEN_PID is us, the sockets are fds 3 … 3+LISTEN_FDS-1. */
static int add_systemd(struct api_server *s, berth_error_t *err)
{
        const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
        if (!pid || !fds || atol(pid) != (long) getpid())
                return berth_fail_status(err, 125, EINVAL,
                                         "-H fd://: no sockets passed by systemd (LISTEN_FDS)");
        int n = atoi(fds);
        for (int i = 0; i < n; i++) {
                int fd = 3 + i;
                fcntl(fd, F_SETFD, FD_CLOEXEC);
                if (add_daemon(s, fd, false, NULL, err) < 0)
                        return -1;
        }
        unsetenv("LISTEN_PID");
        unsetenv("LISTEN_FDS");
        unsetenv("LISTEN_FDNAMES");
        return 0;
}

static int add_host(struct api_server *s, const char *h, bool tls, berth_error_t *err)
{
        int fd = -1;
        if (strcmp(h, "unix://") == 0 || strncmp(h, "unix://", 7) == 0 || h[0] == '/') {
                const char *path = h[0] == '/' ? h : h + 7;
                cleanup_free char *def = berth_path_join(s->paths.run_dir, "docker.sock");
                if (!*path)
                        path = def;
                if (listen_unix(path, &fd, err) < 0)
                        return -1;
                return add_daemon(s, fd, false, path, err);
        }
        if (strncmp(h, "tcp://", 6) == 0) {
                if (listen_tcp(h + 6, &fd, err) < 0)
                        return -1;
                return add_daemon(s, fd, tls, NULL, err);
        }
        if (strcmp(h, "fd://") == 0)
                return add_systemd(s, err);
        return berth_fail_status(err, 125, EINVAL,
                                 "-H %s: want unix://PATH, tcp://HOST:PORT or fd://", h);
}

int api_server_start(const struct berth_paths *paths, const struct api_listen_opts *o,
                     struct api_server **out, berth_error_t *err)
{
        /* a client that leaves mid-reply must not kill the service */
        signal(SIGPIPE, SIG_IGN);
        struct api_server *s = berth_xcalloc(1, sizeof(*s));
        s->paths = (struct berth_paths){.rootless = paths->rootless,
                                        .uid = paths->uid,
                                        .run_dir = berth_xstrdup(paths->run_dir),
                                        .data_dir = berth_xstrdup(paths->data_dir)};
        int r = 0;
        bool tls = o->tls_cert || o->tls_key || o->tls_ca;
        if (tls)
                r = load_tls(s, o, err);
        if (r == 0 && o->n == 0)
                r = add_host(s, "unix://", false, err);
        for (size_t i = 0; r == 0 && i < o->n; i++)
                r = add_host(s, o->hosts[i], tls, err);
        if (r < 0) {
                api_server_stop(s);
                return -1;
        }
        *out = s;
        return 0;
}

void api_server_stop(struct api_server *s)
{
        if (!s)
                return;
        for (size_t i = 0; i < s->n; i++) {
                MHD_stop_daemon(s->v[i].d);
                free(s->v[i].l);
                close(s->v[i].fd);
                if (s->v[i].unix_path)
                        unlink(s->v[i].unix_path);
                free(s->v[i].unix_path);
        }
        free(s->v);
        free(s->tls_ca);
        free(s->tls_cert);
        free(s->tls_key);
        berth_paths_free(&s->paths);
        free(s);
}
