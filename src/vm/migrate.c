/* migrate.c — `berth vm migrate` and `berth vm receive` (docs/vm.md,
 * "Migration"): a VM moves to another berth host.
 *
 * The receiving host runs `berth vm receive ADDR` (tcp:HOST:PORT or
 * unix:PATH), which takes one VM.  The sender connects and sends, as
 * length-prefixed JSON (u32 little-endian length, then the document):
 *
 *   hello   {"Name", "Mode": "live"|"cold", "Meta": vm.json, "Config": config.json,
 *            "CopyStorage": B,
 *            "Files": [{"Role": "kernel"|"initrd"|"disk", "Index", "Size"} |
 *                      {"Role": "disk-copy", "Index", "Size": virtual bytes, "Format"}]}
 *           then each file's bytes, in that order (a disk-copy has none: the
 *           receiver makes an empty image, which berth-vmm fills, below)
 *   reply   {"Ok": true} (cold: done), or live: {"Ok": true, "Vmm": ADDR | "Port": N}:
 *           the receiver defined the VM (its own directory, the files inside it) and
 *           started it under a supervisor with berth-vmm --migrate-incoming on ADDR
 *           (tcp: the receiver's port + 1; unix: PATH.vmm)
 *   (live)  the sender connects to that VMM, hands the connection to its own berth-vmm
 *           (on <api-sock>.fd: a jailed VMM opens no socket) and asks it to migrate over
 *           it (PUT /migrate {"destination": "fd"}: docs/vmm.md), then sends
 *           {"Done": true, "Figures": {...}} or
 *           {"Done": false, "Error": MSG}; the receiver checks its VMM runs the guest,
 *           answers {"Ok": true}, or destroys and undefines what it made.
 *
 * Cold migration (a VM shut off) copies the kernel, initrd and every disk;
 * live migration copies the kernel and initrd (a later reboot boots them)
 * and expects the disks on shared storage at the same paths, unless
 * --copy-storage-all: then read-only disks go as files and writable ones
 * with the guest's RAM (berth-vmm's copy_storage, --migrate-disk on the
 * receiver's VMM) into empty images of the same format and size.  Both ends
 * keep the figures in state.json's LastMigration (`vm inspect`).
 * Everything received is checked: sizes, names, roles, indexes. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/log.h"
#include "common/units.h"
#include "common/util.h"
#include "disk/disk.h"
#include "vm/vm_internal.h"

#define MSG_MAX         (1u << 20)
#define FILE_MAX        (1ull << 40)
#define IO_TIMEOUT_S    60
#define MIGRATE_TIMEOUT (3600u * 1000u)

static double now_ms(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double) t.tv_sec * 1e3 + (double) t.tv_nsec / 1e6;
}

static void set_timeout(int fd, unsigned seconds)
{
        struct timeval tv = {(time_t) seconds, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* "tcp:HOST:PORT" / "unix:PATH": family, address; host and port split out for tcp. */
struct addr {
        struct sockaddr_storage ss;
        socklen_t len;
        int family;
        char host[256];
        int port;
        char path[108];
};

static int parse_addr(const char *s, bool passive, struct addr *a, berth_error_t *err)
{
        memset(a, 0, sizeof(*a));
        if (berth_str_has_prefix(s, "unix:")) {
                struct sockaddr_un *un = (struct sockaddr_un *) &a->ss;
                if (!s[5] || strlen(s + 5) >= sizeof(un->sun_path) - 4)
                        return berth_fail(err, EINVAL, "address `%s`: bad unix path", s);
                un->sun_family = AF_UNIX;
                strcpy(un->sun_path, s + 5);
                strcpy(a->path, s + 5);
                a->len = sizeof(*un);
                a->family = AF_UNIX;
                return 0;
        }
        const char *hp = berth_str_has_prefix(s, "tcp:") ? s + 4 : NULL;
        const char *colon = hp ? strrchr(hp, ':') : NULL;
        if (!colon || colon == hp || (size_t) (colon - hp) >= sizeof(a->host))
                return berth_fail(err, EINVAL, "address `%s`: want tcp:HOST:PORT or unix:PATH", s);
        memcpy(a->host, hp, (size_t) (colon - hp));
        char *end;
        long port = strtol(colon + 1, &end, 10);
        if (*end || port <= 0 || port > 65534)
                return berth_fail(err, EINVAL, "address `%s`: bad port", s);
        a->port = (int) port;
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                                 .ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0)},
                        *ai;
        int r = getaddrinfo(a->host, colon + 1, &hints, &ai);
        if (r != 0)
                return berth_fail(err, EINVAL, "address `%s`: %s", s, gai_strerror(r));
        memcpy(&a->ss, ai->ai_addr, ai->ai_addrlen);
        a->len = ai->ai_addrlen;
        a->family = ai->ai_family;
        freeaddrinfo(ai);
        return 0;
}

static int msg_send(int fd, json_t *doc, berth_error_t *err)
{
        cleanup_free char *text = json_dumps(doc, JSON_COMPACT);
        size_t n = strlen(text);
        uint8_t len[4] = {(uint8_t) n, (uint8_t) (n >> 8), (uint8_t) (n >> 16),
                          (uint8_t) (n >> 24)};
        if (berth_write_all(fd, len, 4) < 0 || berth_write_all(fd, text, n) < 0)
                return berth_fail(err, errno ? errno : EPIPE, "send to the other berth");
        return 0;
}

static int read_full(int fd, void *p, size_t n, berth_error_t *err)
{
        uint8_t *d = p;
        while (n) {
                ssize_t r = read(fd, d, n);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return berth_fail(err, errno == EAGAIN ? ETIMEDOUT : errno,
                                          "read from the other berth");
                if (r == 0)
                        return berth_fail(err, EPIPE, "the other berth closed the connection");
                d += r;
                n -= (size_t) r;
        }
        return 0;
}

/* One document, an object, at most MSG_MAX bytes. */
static int msg_recv(int fd, json_t **out, berth_error_t *err)
{
        uint8_t len[4];
        if (read_full(fd, len, 4, err) < 0)
                return -1;
        uint32_t n = (uint32_t) len[0] | (uint32_t) len[1] << 8 | (uint32_t) len[2] << 16 |
                     (uint32_t) len[3] << 24;
        if (n == 0 || n > MSG_MAX)
                return berth_fail(err, EPROTO, "message of %u bytes from the other berth", n);
        cleanup_free char *buf = berth_xmalloc(n);
        if (read_full(fd, buf, n, err) < 0)
                return -1;
        json_error_t je;
        *out = json_loadb(buf, n, JSON_REJECT_DUPLICATES, &je);
        if (!*out || !json_is_object(*out)) {
                json_decref(*out);
                *out = NULL;
                return berth_fail(err, EPROTO, "malformed message from the other berth");
        }
        return 0;
}

/* A reply's {"Ok": false, "Error": M} as an error. */
static int reply_ok(json_t *r, berth_error_t *err)
{
        if (json_is_true(json_object_get(r, "Ok")))
                return 0;
        const char *m = json_string_value(json_object_get(r, "Error"));
        return berth_fail(err, EIO, "the destination refused: %s", m ? m : "no reason");
}

static void send_error(int fd, berth_error_t e)
{
        json_t *m = json_pack("{s:b,s:s}", "Ok", 0, "Error", e ? berth_error_msg(e) : "failed");
        berth_error_t ignore = NULL;
        if (msg_send(fd, m, &ignore) < 0)
                berth_error_release(&ignore);
        json_decref(m);
}

static int send_file(int fd, const char *path, uint64_t size, uint64_t *bytes, berth_error_t *err)
{
        cleanup_close int in = open(path, O_RDONLY | O_CLOEXEC);
        if (in < 0)
                return berth_fail(err, errno, "open `%s`", path);
        cleanup_free uint8_t *buf = berth_xmalloc(1 << 20);
        for (uint64_t left = size; left;) {
                ssize_t n = read(in, buf, left < (1 << 20) ? (size_t) left : (1 << 20));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return berth_fail(err, n < 0 ? errno : EIO, "read `%s`", path);
                if (berth_write_all(fd, buf, (size_t) n) < 0)
                        return berth_fail(err, errno, "send `%s`", path);
                left -= (uint64_t) n;
                *bytes += (uint64_t) n;
        }
        return 0;
}

static int recv_file(int fd, const char *path, uint64_t size, berth_error_t *err)
{
        cleanup_close int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (out < 0)
                return berth_fail(err, errno, "create `%s`", path);
        cleanup_free uint8_t *buf = berth_xmalloc(1 << 20);
        for (uint64_t left = size; left;) {
                size_t n = left < (1 << 20) ? (size_t) left : (1 << 20);
                if (read_full(fd, buf, n, err) < 0 || berth_write_all(out, buf, n) < 0)
                        return berth_fail(err, errno ? errno : EIO, "receive `%s`", path);
                left -= n;
        }
        return 0;
}

static const char *cfg_str(json_t *cfg, const char *obj, const char *key)
{
        return json_string_value(json_object_get(json_object_get(cfg, obj), key));
}

static uint64_t file_size(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0 ? (uint64_t) st.st_size : 0;
}

/* Connect to the destination's VMM (to) and hand the connection to this
 * VMM on `<api-sock>.fd` (berth-vmm's migrate_hand.c); its answer, a byte. */
static int hand_socket(const char *api_sock, const struct addr *to, berth_error_t *err)
{
        cleanup_close int c = socket(to->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c < 0 || connect(c, (const struct sockaddr *) &to->ss, to->len) < 0) {
                int e = errno;
                unsigned port = to->family == AF_INET6
                                        ? ntohs(((const struct sockaddr_in6 *) &to->ss)->sin6_port)
                                        : ntohs(((const struct sockaddr_in *) &to->ss)->sin_port);
                return to->family == AF_UNIX
                               ? berth_fail(err, e, "connect to the destination's VMM at `%s`",
                                            to->path)
                               : berth_fail(err, e,
                                            "connect to the destination's VMM at %s port %u",
                                            to->host, port);
        }
        struct sockaddr_un un = {.sun_family = AF_UNIX};
        cleanup_free char *path = berth_xasprintf("%s.fd", api_sock);
        if (strlen(path) >= sizeof(un.sun_path))
                return berth_fail(err, ENAMETOOLONG, "`%s`", path);
        strcpy(un.sun_path, path);
        cleanup_close int h = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (h < 0 || connect(h, (struct sockaddr *) &un, sizeof(un)) < 0)
                return berth_fail(err, errno, "connect to `%s`", path);
        set_timeout(h, IO_TIMEOUT_S);
        if (berth_send_fd(h, c, "x", 1, err) < 0)
                return berth_wrap(err, "hand the connection over on `%s`", path);
        char ok = 0;
        if (read(h, &ok, 1) != 1 || ok != '1')
                return berth_fail(err, EIO, "`%s` did not take the connection", path);
        return 0;
}

/* A writable drive that goes with the VM's stream: its virtual size and format. */
static json_t *disk_copy_entry(const char *path, size_t index, berth_error_t *err)
{
        struct disk *d;
        if (disk_open(path, DISK_FORMAT_AUTO, DISK_RDONLY | DISK_NO_BACKING, &d, err) < 0) {
                berth_wrap(err, "drive %zu", index);
                return NULL;
        }
        json_t *f = json_pack("{s:s,s:I,s:I,s:s}", "Role", "disk-copy", "Index", (json_int_t) index,
                              "Size", (json_int_t) d->size, "Format", disk_format_name(d->format));
        disk_close(d);
        return f;
}

/* The source of a live migration: its VMM exits (migrated) once the destination has the
 * VM, and its supervisor records that.  `vm migrate` returns after that record, so that what
 * follows (`vm ls`, a script's next step) sees the VM shut off here, not still running. */
#define SOURCE_RECORD_MS 10000

static int record_figures(struct vm_ctx *c, const char *name, json_t *figures, bool wait_source,
                          berth_error_t *err)
{
        struct vm_rec r;
        if (vm_rec_open(c, name, &r, err) < 0)
                return -1;
        int w = wait_source ? vm_wait_stopped(&r, SOURCE_RECORD_MS, err) : 1;
        if (w < 0) {
                vm_rec_close(&r);
                return -1;
        }
        if (w == 0)
                log_warn("VM %s: moved, but its exit here is not recorded yet", name);
        json_object_set(r.state, "LastMigration", figures);
        int ret = vm_rec_save_state(&r, err);
        vm_rec_close(&r);
        return ret;
}

int vm_migrate_record_figures(struct vm_ctx *c, const char *name, json_t *figures,
                              berth_error_t *err)
{
        return record_figures(c, name, figures, false, err);
}

static json_t *figures_doc(const char *mode, const char *peer_key, const char *peer, json_t *vmm,
                           double total_ms, uint64_t bytes)
{
        char ts[64];
        berth_rfc3339(berth_now_ns(), false, ts, sizeof(ts));
        json_t *f = json_pack("{s:s,s:s,s:s,s:f,s:f,s:I,s:I}", "Mode", mode, peer_key, peer, "Time",
                              ts, "TotalMs", total_ms, "DowntimeMs", 0.0, "Bytes",
                              (json_int_t) bytes, "Rounds", (json_int_t) 0);
        if (vmm) {
                json_object_set_new(
                        f, "DowntimeMs",
                        json_real(json_number_value(json_object_get(vmm, "downtime_ms"))));
                json_object_set_new(
                        f, "Bytes",
                        json_integer((json_int_t) bytes +
                                     json_integer_value(json_object_get(vmm, "bytes"))));
                json_object_set(f, "Rounds", json_object_get(vmm, "rounds"));
                json_object_set_new(f, "MemoryTotalMs",
                                    json_real(json_number_value(json_object_get(vmm, "total_ms"))));
                if (json_is_integer(json_object_get(vmm, "disk_bytes")))
                        json_object_set(f, "DiskBytes", json_object_get(vmm, "disk_bytes"));
        }
        return f;
}

int vm_migrate(struct vm_ctx *c, const char *name, const struct vm_migrate_opts *o,
               json_t **figures, berth_error_t *err)
{
        *figures = NULL;
        signal(SIGPIPE, SIG_IGN); /* a destination that goes away is an error, not a death */
        struct addr dest;
        if (parse_addr(o->dest, false, &dest, err) < 0)
                return -1;
        struct vm_rec r;
        if (vm_rec_open(c, name, &r, err) < 0)
                return -1;
        enum vm_status st = vm_rec_reconcile(&r);
        bool live = vm_status_live(st);
        int ret = 0;
        cleanup_close int fd = -1;
        json_t *hello = NULL, *reply = NULL, *vmm = NULL;
        uint64_t bytes = 0;
        double t0 = now_ms();
        if (o->live && !live)
                ret = berth_fail(err, EINVAL,
                                 "VM `%s` is not running (%s): --live moves a "
                                 "running VM; without it a stopped one moves cold",
                                 name, vm_status_name(st));
        /* the files that go: kernel and initrd always, the disks when cold */
        const char *kernel = cfg_str(r.cfg, "boot-source", "kernel_image_path");
        const char *initrd = cfg_str(r.cfg, "boot-source", "initrd_path");
        json_t *files = json_array(), *paths = json_array();
        if (kernel) {
                json_array_append_new(files, json_pack("{s:s,s:I}", "Role", "kernel", "Size",
                                                       (json_int_t) file_size(kernel)));
                json_array_append_new(paths, json_string(kernel));
        }
        if (initrd) {
                json_array_append_new(files, json_pack("{s:s,s:I}", "Role", "initrd", "Size",
                                                       (json_int_t) file_size(initrd)));
                json_array_append_new(paths, json_string(initrd));
        }
        bool copy = live && o->copy_storage;
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(r.cfg, "drives"), i, d)
        {
                const char *p = json_string_value(json_object_get(d, "path_on_host"));
                if ((live && !copy) || !p || ret < 0)
                        continue;
                if (copy && !json_is_true(json_object_get(d, "is_read_only"))) {
                        json_t *f = disk_copy_entry(p, i, err);
                        if (!f)
                                ret = -1;
                        else
                                json_array_append_new(files, f);
                        json_array_append_new(paths, json_null());
                        continue;
                }
                json_array_append_new(files,
                                      json_pack("{s:s,s:I,s:I}", "Role", "disk", "Index",
                                                (json_int_t) i, "Size", (json_int_t) file_size(p)));
                json_array_append_new(paths, json_string(p));
        }
        hello = json_pack("{s:s,s:s,s:O,s:O,s:b,s:o}", "Name", name, "Mode", live ? "live" : "cold",
                          "Meta", r.meta, "Config", r.cfg, "CopyStorage", copy, "Files", files);
        if (ret == 0) {
                fd = socket(dest.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0 || connect(fd, (struct sockaddr *) &dest.ss, dest.len) < 0)
                        ret = berth_fail(err, errno, "connect to `%s`", o->dest);
        }
        if (ret == 0) {
                set_timeout(fd, IO_TIMEOUT_S);
                ret = msg_send(fd, hello, err);
        }
        json_array_foreach(files, i, d)
        {
                if (ret < 0)
                        break;
                if (!json_is_string(json_array_get(paths, i)))
                        continue; /* a disk-copy: its contents go with the VMM's stream */
                ret = send_file(fd, json_string_value(json_array_get(paths, i)),
                                (uint64_t) json_integer_value(json_object_get(d, "Size")), &bytes,
                                err);
        }
        if (ret == 0)
                ret = msg_recv(fd, &reply, err) < 0 || reply_ok(reply, err) < 0 ? -1 : 0;
        else if (fd >= 0) { /* cut off while sending: the destination may have said why */
                berth_error_t e = NULL;
                if (msg_recv(fd, &reply, &e) == 0 && reply_ok(reply, &e) < 0) {
                        berth_error_release(err);
                        *err = e;
                } else
                        berth_error_release(&e);
        }
        if (ret == 0 && live) {
                /* the destination's VMM: its unix path, or the receiver's host at the
                 * port it says */
                struct addr to = dest;
                const char *v = json_string_value(json_object_get(reply, "Vmm"));
                json_int_t port = json_integer_value(json_object_get(reply, "Port"));
                if (v)
                        ret = parse_addr(v, false, &to, err);
                else if (port <= 0 || port > 65535 || dest.family == AF_UNIX)
                        ret = berth_fail(err, EPROTO, "the destination named no VMM address");
                else if (to.family == AF_INET6)
                        ((struct sockaddr_in6 *) &to.ss)->sin6_port = htons((uint16_t) port);
                else
                        ((struct sockaddr_in *) &to.ss)->sin_port = htons((uint16_t) port);
                cleanup_free char *sock = vm_rec_run_path(&r, "api.sock");
                /* without --live a running guest stops first: its memory goes in one round */
                if (!o->live && st == VM_RUNNING)
                        ret = vm_api_pause(sock, true, err);
                /* berth connects, its VMM sends: a jailed one may open no socket */
                if (ret == 0)
                        ret = hand_socket(sock, &to, err);
                json_t *body = json_pack(
                        "{s:s,s:I,s:I,s:b,s:b,s:b}", "destination", "fd", "max_downtime_ms",
                        (json_int_t) (o->max_downtime_ms ? o->max_downtime_ms : 300),
                        "bandwidth_mib", (json_int_t) o->bandwidth_mib, "auto_converge",
                        o->auto_converge, "postcopy", o->postcopy, "copy_storage", copy);
                /* the supervisor records the VMM's exit meanwhile: not under our lock */
                vm_rec_unlock(&r);
                int code = ret < 0 ? -1
                                   : vm_api_call_timeout(sock, "PUT", "/migrate", body, &vmm,
                                                         MIGRATE_TIMEOUT, err);
                json_decref(body);
                json_t *done;
                if (code == 200) {
                        done = json_pack("{s:b,s:O}", "Done", 1, "Figures", vmm);
                } else {
                        const char *m = json_string_value(json_object_get(vmm, "fault_message"));
                        if (code > 0)
                                berth_fail(err, EIO, "berth-vmm: PUT /migrate: %d %s", code,
                                           m ? m : "");
                        done = json_pack("{s:b,s:s}", "Done", 0, "Error", berth_error_msg(*err));
                        ret = -1;
                }
                berth_error_t e2 = NULL;
                if (msg_send(fd, done, ret < 0 ? &e2 : err) < 0 && ret == 0)
                        ret = -1;
                berth_error_release(&e2);
                json_decref(done);
                json_decref(reply);
                reply = NULL;
                if (ret == 0)
                        ret = msg_recv(fd, &reply, err) < 0 || reply_ok(reply, err) < 0 ? -1 : 0;
                if (!o->live && st == VM_RUNNING && ret < 0) {
                        berth_error_t e3 = NULL;
                        if (vm_api_pause(sock, false, &e3) < 0)
                                berth_error_release(&e3);
                }
        }
        vm_rec_close(&r);
        if (ret == 0) {
                *figures = figures_doc(!live         ? "cold"
                                       : o->postcopy ? "postcopy"
                                                     : "live",
                                       "Destination", o->dest, vmm, now_ms() - t0, bytes);
                if (copy) /* the disks went too: this host's stay this VM's own */
                        json_object_set_new(*figures, "CopyStorage", json_true());
                berth_error_t e = NULL;
                if (record_figures(c, name, *figures, live, &e) < 0) {
                        log_warn("VM %s: %s", name, berth_error_msg(e));
                        berth_error_release(&e);
                }
        }
        json_decref(hello);
        json_decref(paths);
        json_decref(reply);
        json_decref(vmm);
        return ret < 0 ? berth_wrap(err, "migrate VM `%s` to %s", name, o->dest) : 0;
}

int vm_migrate_postcopy(struct vm_ctx *c, const char *name, berth_error_t *err)
{
        struct vm_rec r;
        if (vm_rec_open(c, name, &r, err) < 0)
                return -1;
        enum vm_status st = vm_rec_reconcile(&r);
        int ret = 0;
        if (!vm_status_live(st))
                ret = berth_fail(err, EINVAL, "VM `%s` is not running (%s)", name,
                                 vm_status_name(st));
        cleanup_free char *sock = vm_rec_run_path(&r, "api.sock");
        vm_rec_close(&r);
        if (ret == 0) {
                json_t *b = json_pack("{s:b}", "start_postcopy", 1);
                ret = vm_api_ok(sock, "PATCH", "/migrate", b, NULL, err) < 0 ? -1 : 0;
                json_decref(b);
        }
        return ret < 0 ? berth_wrap(err, "switch VM `%s`'s migration to post-copy", name) : 0;
}

/* The hello's checks; the files' target names in the new directory. */
static int check_hello(json_t *h, berth_error_t *err)
{
        const char *name = json_string_value(json_object_get(h, "Name"));
        const char *mode = json_string_value(json_object_get(h, "Mode"));
        json_t *files = json_object_get(h, "Files");
        json_t *drives = json_object_get(json_object_get(h, "Config"), "drives");
        json_t *copy = json_object_get(h, "CopyStorage");
        bool live = mode && strcmp(mode, "live") == 0, copying = json_is_true(copy);
        if (!name || !vm_name_valid(name))
                return berth_fail(err, EPROTO, "the VM's name is missing or invalid");
        if (!mode || (strcmp(mode, "live") != 0 && strcmp(mode, "cold") != 0))
                return berth_fail(err, EPROTO, "unknown migration mode");
        if (!json_is_object(json_object_get(h, "Meta")) ||
            !json_is_object(json_object_get(h, "Config")) || !json_is_array(files) ||
            json_array_size(files) > 2 + VM_MAX_DISKS || (drives && !json_is_array(drives)) ||
            (copy && !json_is_boolean(copy)) || (copying && !live))
                return berth_fail(err, EPROTO, "malformed migration request");
        size_t i;
        json_t *f;
        bool seen_kernel = false, seen_initrd = false;
        uint64_t seen_disks = 0;
        json_array_foreach(files, i, f)
        {
                const char *role = json_string_value(json_object_get(f, "Role"));
                json_t *size = json_object_get(f, "Size");
                if (!role || !json_is_integer(size) || json_integer_value(size) < 0 ||
                    (uint64_t) json_integer_value(size) > FILE_MAX)
                        return berth_fail(err, EPROTO, "file %zu of the request is malformed", i);
                if (strcmp(role, "kernel") == 0 && !seen_kernel)
                        seen_kernel = true;
                else if (strcmp(role, "initrd") == 0 && !seen_initrd)
                        seen_initrd = true;
                else if ((strcmp(role, "disk") == 0 && (!live || copying)) ||
                         (strcmp(role, "disk-copy") == 0 && copying)) {
                        json_t *idx = json_object_get(f, "Index");
                        if (!json_is_integer(idx) || json_integer_value(idx) < 0 ||
                            (size_t) json_integer_value(idx) >= json_array_size(drives) ||
                            json_integer_value(idx) >= VM_MAX_DISKS ||
                            (seen_disks >> json_integer_value(idx) & 1))
                                return berth_fail(err, EPROTO, "disk file %zu names no drive", i);
                        seen_disks |= 1ull << json_integer_value(idx);
                        const char *fmt = json_string_value(json_object_get(f, "Format"));
                        if (strcmp(role, "disk-copy") == 0 &&
                            (json_integer_value(size) == 0 || json_integer_value(size) % 512 ||
                             !fmt || (strcmp(fmt, "raw") != 0 && strcmp(fmt, "qcow2") != 0)))
                                return berth_fail(err, EPROTO,
                                                  "disk file %zu: a copied disk wants a size in "
                                                  "sectors and a format, raw or qcow2",
                                                  i);
                } else
                        return berth_fail(err, EPROTO, "file %zu: unexpected role `%s`", i, role);
        }
        return 0;
}

/* A disk-copy's empty image, of the source's format and size: its VMM fills it. */
static int make_target(const char *at, json_t *f, berth_error_t *err)
{
        struct disk_create_opts o = {
                .size = (uint64_t) json_integer_value(json_object_get(f, "Size"))};
        if (disk_parse_format(json_string_value(json_object_get(f, "Format")), &o.format, err) < 0)
                return -1;
        return disk_create(at, &o, err);
}

/* Receive the files into tmp and point the definition at their final place
 * (fin); targets gets "INDEX:PATH" for each disk the VMM's stream fills. */
static int take_files(int fd, json_t *h, const char *tmp, const char *fin, json_t *targets,
                      berth_error_t *err)
{
        json_t *cfg = json_object_get(h, "Config"), *meta = json_object_get(h, "Meta");
        json_t *files = json_object_get(h, "Files"), *f;
        json_t *disks = json_array();
        size_t i;
        int ret = 0;
        json_array_foreach(files, i, f)
        {
                const char *role = json_string_value(json_object_get(f, "Role"));
                uint64_t size = (uint64_t) json_integer_value(json_object_get(f, "Size"));
                cleanup_free char *file = NULL;
                bool copied = strcmp(role, "disk-copy") == 0;
                if (copied)
                        role = "disk";
                if (strcmp(role, "disk") == 0)
                        file = berth_xasprintf(
                                "disk%lld.img",
                                (long long) json_integer_value(json_object_get(f, "Index")));
                else
                        file = berth_xstrdup(role);
                cleanup_free char *at = berth_xasprintf("%s/%s", tmp, file);
                cleanup_free char *final = berth_xasprintf("%s/%s", fin, file);
                if ((ret = copied ? make_target(at, f, err) : recv_file(fd, at, size, err)) < 0)
                        break;
                if (copied)
                        json_array_append_new(targets,
                                              json_sprintf("%lld:%s",
                                                           (long long) json_integer_value(
                                                                   json_object_get(f, "Index")),
                                                           final));
                json_t *bs = json_object_get(cfg, "boot-source");
                if (strcmp(role, "kernel") == 0 && json_is_object(bs))
                        json_object_set_new(bs, "kernel_image_path", json_string(final));
                else if (strcmp(role, "initrd") == 0 && json_is_object(bs))
                        json_object_set_new(bs, "initrd_path", json_string(final));
                else if (strcmp(role, "disk") == 0) {
                        json_t *drv = json_array_get(
                                json_object_get(cfg, "drives"),
                                (size_t) json_integer_value(json_object_get(f, "Index")));
                        if (json_is_object(drv))
                                json_object_set_new(drv, "path_on_host", json_string(final));
                        json_array_append_new(disks, json_string(final));
                }
        }
        /* cold: the copies are this VM's own disks now (rm --disks removes them) */
        if (json_array_size(disks))
                json_object_set(meta, "Disks", disks);
        json_decref(disks);
        if (ret < 0)
                return -1;
        /* the record's files, as define.c makes them: its lock and two documents */
        cleanup_free char *lp = berth_xasprintf("%s/lock", tmp);
        int lfd = open(lp, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (lfd < 0)
                return berth_fail(err, errno, "create `%s`", lp);
        close(lfd);
        char *c = json_dumps(cfg, JSON_INDENT(2)), *m = json_dumps(meta, JSON_INDENT(2));
        cleanup_free char *cp = berth_xasprintf("%s/config.json", tmp);
        cleanup_free char *mp = berth_xasprintf("%s/vm.json", tmp);
        ret = berth_write_file_atomic(cp, c, strlen(c), 0600, err);
        if (ret == 0)
                ret = berth_write_file_atomic(mp, m, strlen(m), 0600, err);
        free(c);
        free(m);
        return ret;
}

/* Live: is the received VM's VMM running the guest?  A few tries: the ack
 * reaches the source just before the VMM resumes. */
static bool vmm_running(struct vm_rec *r)
{
        cleanup_free char *sock = vm_rec_run_path(r, "api.sock");
        for (int i = 0; i < 40; i++) {
                json_t *rep = NULL;
                berth_error_t e = NULL;
                int code = vm_api_call(sock, "GET", "/", NULL, &rep, &e);
                const char *s = json_string_value(json_object_get(rep, "state"));
                bool ok = code == 200 && s && strcmp(s, "Running") == 0;
                json_decref(rep);
                berth_error_release(&e);
                if (ok)
                        return true;
                usleep(50000);
        }
        return false;
}

static int receive_live(struct vm_ctx *c, int fd, const char *name, const struct addr *a,
                        json_t *targets, json_t **figures, berth_error_t *err)
{
        cleanup_free char *vmm_addr = NULL;
        if (a->family == AF_UNIX) {
                vmm_addr = berth_xasprintf("unix:%s.vmm", a->path);
                (void) unlink(vmm_addr + 5);
        } else
                vmm_addr = berth_xasprintf(strchr(a->host, ':') ? "tcp:[%s]:%d" : "tcp:%s:%d",
                                           a->host, a->port + 1);
        struct vm_rec r;
        if (vm_rec_open(c, name, &r, err) < 0)
                return -1;
        (void) vm_rec_reconcile(&r);
        r.migrate_incoming = vmm_addr;
        r.migrate_disks = targets;
        int ret = vm_supervisor_start(&r, err);
        r.migrate_incoming = NULL;
        r.migrate_disks = NULL;
        vm_rec_unlock(&r);
        json_t *reply = NULL, *done = NULL;
        if (ret == 0) {
                reply = a->family == AF_UNIX ? json_pack("{s:b,s:s}", "Ok", 1, "Vmm", vmm_addr)
                                             : json_pack("{s:b,s:i}", "Ok", 1, "Port", a->port + 1);
                ret = msg_send(fd, reply, err);
                json_decref(reply);
        }
        /* the source's VMM sends the guest to ours now; then its berth says how it went */
        if (ret == 0) {
                set_timeout(fd, MIGRATE_TIMEOUT / 1000);
                ret = msg_recv(fd, &done, err);
        }
        if (ret == 0 && !json_is_true(json_object_get(done, "Done"))) {
                const char *m = json_string_value(json_object_get(done, "Error"));
                ret = berth_fail(err, EIO, "the source's migration failed: %s", m ? m : "");
        }
        if (ret == 0 && !vmm_running(&r))
                ret = berth_fail(err, EIO, "the received VM does not run here (see %s/vmm.log)",
                                 r.dir);
        if (ret == 0) {
                json_t *ok = json_pack("{s:b}", "Ok", 1);
                ret = msg_send(fd, ok, err);
                json_decref(ok);
        }
        if (ret == 0) {
                json_t *vf = json_object_get(done, "Figures");
                *figures = figures_doc("live", "Source", "", vf,
                                       json_number_value(json_object_get(vf, "total_ms")), 0);
                if (json_array_size(targets))
                        json_object_set_new(*figures, "CopyStorage", json_true());
        }
        json_decref(done);
        vm_rec_close(&r);
        return ret;
}

int vm_receive(struct vm_ctx *c, const char *addr, char **name_out, json_t **figures,
               berth_error_t *err)
{
        *name_out = NULL;
        *figures = NULL;
        signal(SIGPIPE, SIG_IGN);
        struct addr a;
        if (parse_addr(addr, true, &a, err) < 0)
                return -1;
        if (a.family == AF_UNIX)
                (void) unlink(a.path);
        cleanup_close int lfd = socket(a.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int one = 1;
        if (lfd >= 0 && a.family != AF_UNIX)
                (void) setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (lfd < 0 || bind(lfd, (struct sockaddr *) &a.ss, a.len) < 0 || listen(lfd, 1) < 0)
                return berth_fail(err, errno, "listen on `%s`", addr);
        log_info("waiting for a VM on %s", addr);
        cleanup_close int fd = -1;
        while ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) < 0)
                if (errno != EINTR && errno != ECONNABORTED)
                        return berth_fail(err, errno, "accept on `%s`", addr);
        if (a.family == AF_UNIX)
                (void) unlink(a.path);
        set_timeout(fd, IO_TIMEOUT_S);
        double t0 = now_ms();
        json_t *h = NULL;
        if (msg_recv(fd, &h, err) < 0)
                return berth_wrap(err, "receive a VM on %s", addr);
        int ret = check_hello(h, err);
        const char *name = json_string_value(json_object_get(h, "Name"));
        if (ret == 0 && !name) {
                berth_fail(err, EPROTO, "the VM's name is missing");
                ret = -1;
        }
        bool live = ret == 0 && strcmp(json_string_value(json_object_get(h, "Mode")), "live") == 0;
        cleanup_free char *fin = ret == 0 ? berth_path_join(c->data_dir, name) : NULL;
        cleanup_free char *tmp =
                ret == 0 ? berth_xasprintf("%s/.mig-%s-%d", c->data_dir, name, (int) getpid())
                         : NULL;
        if (ret == 0 && (!fin || !tmp)) {
                berth_fail(err, ENOMEM, "VM paths");
                ret = -1;
        } else if (ret == 0 && access(fin, F_OK) == 0) {
                berth_fail(err, EEXIST, "a VM named `%s` exists on this host", name);
                ret = -1;
        } else if (ret == 0 && mkdir(tmp, 0700) < 0) {
                berth_fail(err, errno, "create `%s`", tmp);
                ret = -1;
        }
        json_t *targets = json_array();
        if (ret == 0 && (ret = take_files(fd, h, tmp, fin, targets, err)) < 0)
                (void) vm_rm_flat_dir(tmp);
        if (ret == 0 && rename(tmp, fin) < 0) {
                ret = berth_fail(err, errno, "publish VM `%s`", name);
                (void) vm_rm_flat_dir(tmp);
        }
        uint64_t bytes = 0;
        json_t *files = json_object_get(h, "Files"), *f;
        size_t i;
        json_array_foreach(files, i, f)
        {
                if (strcmp(json_string_value(json_object_get(f, "Role")), "disk-copy") != 0)
                        bytes += (uint64_t) json_integer_value(json_object_get(f, "Size"));
        }
        bool defined = ret == 0;
        if (ret == 0 && live)
                ret = receive_live(c, fd, name, &a, targets, figures, err);
        else if (ret == 0) {
                json_t *ok = json_pack("{s:b}", "Ok", 1);
                ret = msg_send(fd, ok, err);
                json_decref(ok);
                *figures = figures_doc("cold", "Source", "", NULL, now_ms() - t0, bytes);
        }
        if (ret < 0) {
                send_error(fd, *err);
                if (defined) { /* nothing of a failed migration stays */
                        berth_error_t e = NULL;
                        if (live && vm_destroy(c, name, &e) < 0)
                                berth_error_release(&e);
                        if (vm_remove(c, name, false, &e) < 0) {
                                log_warn("VM %s: %s", name, berth_error_msg(e));
                                berth_error_release(&e);
                        }
                }
        } else {
                json_object_set_new(*figures, "Source", json_string(addr));
                berth_error_t e = NULL;
                if (vm_migrate_record_figures(c, name, *figures, &e) < 0) {
                        log_warn("VM %s: %s", name, berth_error_msg(e));
                        berth_error_release(&e);
                }
                *name_out = berth_xstrdup(name);
        }
        json_decref(targets);
        json_decref(h);
        return ret < 0 ? berth_wrap(err, "receive a VM on %s", addr) : 0;
}
