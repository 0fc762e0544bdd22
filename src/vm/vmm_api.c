/* vmm_api.c — a client for berth-vmm's REST API (docs/vmm-api.yaml) on its
 * unix socket: one HTTP/1.1 request per connection, bounded in time and
 * size, so a wedged VMM makes a command fail instead of hang. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "vm/vm_internal.h"

#define API_TIMEOUT_MS 10000
#define API_MAX_REPLY  (1 << 20)

static int connect_unix(const char *path, unsigned timeout_ms, berth_error_t *err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return berth_fail(err, ENAMETOOLONG, "API socket `%s`", path);
        strcpy(sa.sun_path, path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return berth_fail(err, errno, "socket");
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                int e = errno;
                close(fd);
                return berth_fail(err, e, "connect to berth-vmm's API `%s`", path);
        }
        struct timeval tv = {(time_t) (timeout_ms / 1000), 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        return fd;
}

int vm_api_call(const char *sock, const char *method, const char *path, json_t *body,
                json_t **reply, berth_error_t *err)
{
        return vm_api_call_timeout(sock, method, path, body, reply, API_TIMEOUT_MS, err);
}

int vm_api_call_timeout(const char *sock, const char *method, const char *path, json_t *body,
                        json_t **reply, unsigned timeout_ms, berth_error_t *err)
{
        if (reply)
                *reply = NULL;
        cleanup_close int fd = connect_unix(sock, timeout_ms, err);
        if (fd < 0)
                return -1;
        cleanup_free char *b = body ? json_dumps(body, JSON_COMPACT) : NULL;
        cleanup_free char *req = berth_xasprintf("%s %s HTTP/1.1\r\nHost: localhost\r\n"
                                                 "Accept: application/json\r\n"
                                                 "Content-Type: application/json\r\n"
                                                 "Content-Length: %zu\r\nConnection: close\r\n\r\n"
                                                 "%s",
                                                 method, path, b ? strlen(b) : 0, b ? b : "");
        if (berth_write_all(fd, req, strlen(req)) < 0)
                return berth_fail(err, errno, "%s %s on `%s`", method, path, sock);
        size_t len = 0, cap = 4096;
        cleanup_free char *buf = berth_xmalloc(cap);
        for (;;) {
                if (len + 1 >= cap) {
                        if (cap >= API_MAX_REPLY)
                                return berth_fail(err, E2BIG, "%s %s: reply too large", method,
                                                  path);
                        cap *= 2;
                        buf = berth_xrealloc(buf, cap);
                }
                ssize_t n = read(fd, buf + len, cap - len - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return berth_fail(err, errno, "%s %s on `%s`: read the reply", method, path,
                                          sock);
                if (n == 0)
                        break;
                len += (size_t) n;
        }
        buf[len] = 0;
        int status;
        if (sscanf(buf, "HTTP/1.%*d %d", &status) != 1)
                return berth_fail(err, EPROTO, "%s %s: not an HTTP reply", method, path);
        char *hdr_end = strstr(buf, "\r\n\r\n");
        const char *payload = hdr_end ? hdr_end + 4 : "";
        if (reply && *payload) {
                json_error_t je;
                *reply = json_loads(payload, JSON_DECODE_ANY, &je);
        }
        return status;
}

int vm_api_pause(const char *sock, bool pause, berth_error_t *err)
{
        json_t *b = json_pack("{s:s}", "state", pause ? "Paused" : "Resumed");
        int r = vm_api_ok(sock, "PATCH", "/vm", b, NULL, err) < 0 ? -1 : 0;
        json_decref(b);
        return r;
}

int vm_api_ok(const char *sock, const char *method, const char *path, json_t *body, json_t **reply,
              berth_error_t *err)
{
        json_t *r = NULL;
        int status = vm_api_call(sock, method, path, body, &r, err);
        if (status < 0)
                return -1;
        if (status / 100 != 2) {
                const char *m = json_string_value(json_object_get(r, "fault_message"));
                berth_fail(err, EIO, "berth-vmm: %s %s: %d %s", method, path, status, m ? m : "");
                json_decref(r);
                return -1;
        }
        if (reply)
                *reply = r;
        else
                json_decref(r);
        return status;
}
