/* virtio_vsock.c — virtio socket device (device id 19), host side on unix
 * sockets the way Firecracker does it: a guest connecting to host port P
 * is connected to the unix socket "UDS_PATH_P".
 *
 * A host process connecting to UDS_PATH itself and writing "CONNECT P\n"
 * is connected to guest port P and answered "OK <host port>\n".
 *
 * Flow control is virtio-vsock's credit scheme.  We advertise VSOCK_BUF
 * bytes per connection and count as forwarded (fwd_cnt) only what the
 * unix socket has accepted; what it has not yet accepted waits in a
 * per-connection buffer that the guest's credit keeps from overflowing.
 * Toward the guest we never send more than its advertised credit.
 */
#include <errno.h>
#include <linux/virtio_vsock.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "vmm/snapshot_format.h"
#include "vmm/virtio_devices.h"
#include "vmm/virtio_mmio_regs.h"

#define VSOCK_RX        0
#define VSOCK_TX        1
#define VSOCK_HOST_CID  2
#define VSOCK_BUF       (256u * 1024)
#define VSOCK_MAX_CONNS 64
#define VSOCK_MAX_RST   32
#define HDR             sizeof(struct virtio_vsock_hdr)

enum { PEND_RESPONSE = 1, PEND_CREDIT = 2, PEND_SHUTDOWN = 4, PEND_REQUEST = 8 };

/* A host-initiated connection goes through two states before data flows. */
enum conn_state {
        CONN_OPEN = 0,     /* established (or guest-initiated, awaiting nothing) */
        CONN_WANT_CONNECT, /* host client attached; waiting for "CONNECT <port>\n" */
        CONN_CONNECTING,   /* REQUEST sent to the guest; waiting for its RESPONSE */
};
#define VSOCK_HOST_PORT_BASE 0x40000000u /* local ports for host-initiated connections */

struct vsock_conn {
        bool used;
        int fd;
        uint32_t host_port, guest_port;
        uint32_t peer_buf_alloc, peer_fwd_cnt; /* the guest's receive credit */
        uint32_t tx_cnt;                       /* bytes sent to the guest */
        uint32_t fwd_cnt;                      /* guest bytes the socket accepted */
        unsigned pending;                      /* control packets owed to the guest */
        bool readable;                         /* socket has data; its watch is paused */
        uint8_t *out;                          /* guest bytes the socket has not taken yet */
        uint32_t out_len;
        bool guest_done; /* the guest shut its sending side: SHUT_WR once out is drained */
        enum conn_state state;
        char line[32]; /* the CONNECT line being read */
        unsigned line_len;
};

struct virtio_vsock {
        struct virtio_mmio_dev *t;
        struct vmm_vm *vm;
        uint64_t guest_cid;
        char *uds_path;
        struct vsock_conn conns[VSOCK_MAX_CONNS];
        struct {
                uint32_t host_port, guest_port;
        } rst[VSOCK_MAX_RST];
        unsigned n_rst;
        int listen_fd; /* UDS_PATH: host-initiated connections */
        uint32_t next_host_port;
        uint64_t config_cid;
};

static struct vsock_conn *find(struct virtio_vsock *v, uint32_t host_port, uint32_t guest_port)
{
        for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
                struct vsock_conn *c = &v->conns[i];
                /* a host client still writing its CONNECT line has no ports yet */
                if (c->used && c->state != CONN_WANT_CONNECT && c->host_port == host_port &&
                    c->guest_port == guest_port)
                        return c;
        }
        return NULL;
}

static void conn_close(struct virtio_vsock *v, struct vsock_conn *c)
{
        if (c->fd >= 0) {
                vmm_vm_unwatch_fd(v->vm, c->fd);
                close(c->fd);
        }
        free(c->out);
        memset(c, 0, sizeof(*c));
        c->fd = -1;
}

static void queue_rst(struct virtio_vsock *v, uint32_t host_port, uint32_t guest_port)
{
        if (v->n_rst < VSOCK_MAX_RST) {
                v->rst[v->n_rst].host_port = host_port;
                v->rst[v->n_rst].guest_port = guest_port;
                v->n_rst++;
        }
}

static void conn_watch(struct virtio_vsock *v, struct vsock_conn *c)
{
        uint32_t ev = (c->readable ? 0 : EPOLLIN) | (c->out_len ? EPOLLOUT : 0);
        vmm_vm_watch_events(v->vm, c->fd, ev);
}

/* Push buffered guest bytes into the socket; credit the guest for them. */
static void conn_flush(struct virtio_vsock *v, struct vsock_conn *c)
{
        ssize_t w =
                c->out_len == 0 ? 0 : send(c->fd, c->out, c->out_len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (w > 0) {
                memmove(c->out, c->out + w, c->out_len - (size_t) w);
                c->out_len -= (uint32_t) w;
                c->fwd_cnt += (uint32_t) w;
                c->pending |= PEND_CREDIT;
        } else if (w < 0 && errno != EAGAIN) {
                c->pending |= PEND_SHUTDOWN;
                c->out_len = 0;
        }
        if (c->guest_done && !c->out_len)
                shutdown(c->fd, SHUT_WR);
}

static void rx_fill(struct virtio_vsock *v);

static void on_conn(void *opaque);

static void guest_connect(struct virtio_vsock *v, const struct virtio_vsock_hdr *h)
{
        struct vsock_conn *c = NULL;
        for (unsigned i = 0; i < VSOCK_MAX_CONNS && !c; i++)
                if (!v->conns[i].used)
                        c = &v->conns[i];
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s_%u", v->uds_path, h->dst_port);
        int fd = -1;
        if (c && n > 0 && (size_t) n < sizeof(sa.sun_path))
                fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                log_info("virtio-vsock: guest port %u -> %s: %s", h->src_port, sa.sun_path,
                         strerror(errno));
                close(fd);
                fd = -1;
        }
        if (fd < 0 || vmm_vm_watch_fd(v->vm, fd, on_conn, v, NULL) < 0) {
                if (fd >= 0)
                        close(fd);
                queue_rst(v, h->dst_port, h->src_port);
                return;
        }
        *c = (struct vsock_conn){.used = true,
                                 .fd = fd,
                                 .host_port = h->dst_port,
                                 .guest_port = h->src_port,
                                 .peer_buf_alloc = h->buf_alloc,
                                 .peer_fwd_cnt = h->fwd_cnt,
                                 .pending = PEND_RESPONSE};
        c->out = berth_xmalloc(VSOCK_BUF);
}

static int tx_request(void *opaque, struct virtq_elem *e)
{
        struct virtio_vsock *v = opaque;
        struct virtio_vsock_hdr h;
        if (virtq_iov_to_buf(e->iov, e->n_out, 0, &h, HDR) != HDR)
                return 0;
        /* Packets not from our guest, not to the host, or not streams: drop. */
        if (h.src_cid != v->guest_cid || h.dst_cid != VSOCK_HOST_CID ||
            h.type != VIRTIO_VSOCK_TYPE_STREAM)
                return 0;
        struct vsock_conn *c = find(v, h.dst_port, h.src_port);
        if (c) {
                c->peer_buf_alloc = h.buf_alloc;
                c->peer_fwd_cnt = h.fwd_cnt;
        }
        switch (h.op) {
        case VIRTIO_VSOCK_OP_REQUEST:
                if (c)
                        queue_rst(v, h.dst_port, h.src_port);
                else
                        guest_connect(v, &h);
                break;
        case VIRTIO_VSOCK_OP_RW: {
                uint64_t len = e->out_len - HDR;
                if (!c) {
                        queue_rst(v, h.dst_port, h.src_port);
                        break;
                }
                /* Data before the connection is open, after the guest said it was done
                 * sending, or beyond the credit we gave it: a broken peer. */
                if (c->state != CONN_OPEN || c->guest_done || h.len != len ||
                    len > VSOCK_BUF - c->out_len) {
                        c->pending |= PEND_SHUTDOWN;
                        break;
                }
                virtq_iov_to_buf(e->iov, e->n_out, HDR, c->out + c->out_len, len);
                c->out_len += (uint32_t) len;
                conn_flush(v, c);
                break;
        }
        case VIRTIO_VSOCK_OP_RESPONSE:
                if (c && c->state == CONN_CONNECTING) {
                        char ok[32];
                        int n = snprintf(ok, sizeof(ok), "OK %u\n", c->host_port);
                        c->state = CONN_OPEN;
                        if (send(c->fd, ok, (size_t) n, MSG_DONTWAIT | MSG_NOSIGNAL) != n)
                                c->pending |= PEND_SHUTDOWN;
                } else if (c) {
                        c->pending |= PEND_SHUTDOWN; /* a RESPONSE nobody asked for */
                } else {
                        queue_rst(v, h.dst_port, h.src_port);
                }
                break;
        case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
                if (c)
                        c->pending |= PEND_CREDIT;
                break;
        case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
                break; /* counters updated above */
        case VIRTIO_VSOCK_OP_SHUTDOWN:
                if (c && h.flags == VIRTIO_VSOCK_SHUTDOWN_SEND && c->state == CONN_OPEN) {
                        /* a half-close (shutdown(SHUT_WR) in the guest): it still reads, so
                         * pass its EOF on once its last bytes are through */
                        c->guest_done = true;
                        conn_flush(v, c);
                } else if (c) {
                        conn_close(v, c);
                        queue_rst(v, h.dst_port, h.src_port);
                }
                break;
        case VIRTIO_VSOCK_OP_RST:
                if (c)
                        conn_close(v, c);
                break;
        default:
                if (c)
                        c->pending |= PEND_SHUTDOWN;
                break;
        }
        if (c && c->used && c->state == CONN_OPEN)
                conn_watch(v, c);
        return 0;
}

static void make_hdr(struct virtio_vsock *v, struct virtio_vsock_hdr *h, uint32_t host_port,
                     uint32_t guest_port, uint16_t op, const struct vsock_conn *c)
{
        memset(h, 0, HDR);
        h->src_cid = VSOCK_HOST_CID;
        h->dst_cid = v->guest_cid;
        h->src_port = host_port;
        h->dst_port = guest_port;
        h->type = VIRTIO_VSOCK_TYPE_STREAM;
        h->op = op;
        h->buf_alloc = VSOCK_BUF;
        h->fwd_cnt = c ? c->fwd_cnt : 0;
}

/* Fill one guest receive buffer for connection c (or an RST); returns the
 * bytes written, 0 if c has nothing to say now. */
static uint32_t conn_packet(struct virtio_vsock *v, struct vsock_conn *c, struct virtq_elem *e)
{
        struct virtio_vsock_hdr h;
        const struct iovec *in = e->iov + e->n_out;
        /* Before the guest accepted a host-initiated connection only the
         * REQUEST (or a reset) may go out. */
        if (c->state != CONN_OPEN && !(c->pending & (PEND_SHUTDOWN | PEND_REQUEST)))
                return 0;
        if (c->pending & PEND_SHUTDOWN) {
                make_hdr(v, &h, c->host_port, c->guest_port, VIRTIO_VSOCK_OP_RST, c);
                conn_close(v, c);
        } else if (c->pending & PEND_REQUEST) {
                make_hdr(v, &h, c->host_port, c->guest_port, VIRTIO_VSOCK_OP_REQUEST, c);
                c->pending &= ~(unsigned) PEND_REQUEST;
        } else if (c->pending & PEND_RESPONSE) {
                make_hdr(v, &h, c->host_port, c->guest_port, VIRTIO_VSOCK_OP_RESPONSE, c);
                c->pending &= ~(unsigned) (PEND_RESPONSE | PEND_CREDIT);
        } else if (c->readable) {
                uint32_t credit = c->peer_buf_alloc - (c->tx_cnt - c->peer_fwd_cnt);
                uint64_t room = e->in_len - HDR;
                if (credit == 0)
                        return 0; /* wait for the guest's CREDIT_UPDATE */
                size_t want = room < credit ? (size_t) room : credit;
                static uint8_t buf[64 * 1024];
                if (want > sizeof(buf))
                        want = sizeof(buf);
                ssize_t r = recv(c->fd, buf, want, MSG_DONTWAIT);
                if (r < 0 && errno == EAGAIN) {
                        c->readable = false;
                        conn_watch(v, c);
                        return 0;
                }
                if (r <= 0) { /* EOF or error: tell the guest we are done */
                        make_hdr(v, &h, c->host_port, c->guest_port, VIRTIO_VSOCK_OP_SHUTDOWN, c);
                        h.flags = VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND;
                        c->readable = false;
                        /* Nothing more to read; a paused watch would still
                         * report the hang-up forever. */
                        vmm_vm_unwatch_fd(v->vm, c->fd);
                } else {
                        make_hdr(v, &h, c->host_port, c->guest_port, VIRTIO_VSOCK_OP_RW, c);
                        h.len = (uint32_t) r;
                        c->tx_cnt += (uint32_t) r;
                        c->pending &= ~(unsigned) PEND_CREDIT; /* fwd_cnt rides along */
                        virtq_buf_to_iov(in, e->n_in, HDR, buf, (size_t) r);
                }
        } else if (c->pending & PEND_CREDIT) {
                make_hdr(v, &h, c->host_port, c->guest_port, VIRTIO_VSOCK_OP_CREDIT_UPDATE, c);
                c->pending &= ~(unsigned) PEND_CREDIT;
        } else {
                return 0;
        }
        virtq_buf_to_iov(in, e->n_in, 0, &h, HDR);
        return (uint32_t) HDR + h.len;
}

static void rx_fill(struct virtio_vsock *v)
{
        struct virtio_mmio_dev *t = v->t;
        struct virtq *vq = &t->vq[VSOCK_RX];
        static __thread struct virtq_elem e;
        bool used = false;
        for (unsigned budget = 0; budget < 2 * VIRTQ_MAX_SIZE; budget++) {
                int r = virtio_mmio_pop_host(t, VSOCK_RX, &e);
                if (r <= 0)
                        break; /* the guest's next rx notification brings us back */
                uint32_t len = 0;
                if (e.in_len >= HDR) {
                        if (v->n_rst) {
                                struct virtio_vsock_hdr h;
                                v->n_rst--;
                                make_hdr(v, &h, v->rst[v->n_rst].host_port,
                                         v->rst[v->n_rst].guest_port, VIRTIO_VSOCK_OP_RST, NULL);
                                len = virtq_buf_to_iov(e.iov + e.n_out, e.n_in, 0, &h, HDR);
                        }
                        for (unsigned i = 0; i < VSOCK_MAX_CONNS && !len; i++)
                                if (v->conns[i].used)
                                        len = conn_packet(v, &v->conns[i], &e);
                        if (!len) {
                                virtq_unpop(vq); /* nothing to send right now */
                                break;
                        }
                }
                virtq_push(vq, e.head, len);
                used = true;
        }
        if (used)
                virtio_mmio_used(t, VSOCK_RX);
}

/* "CONNECT <port>\n" from a host client: ask the guest for that port. */
static void read_connect_line(struct virtio_vsock *v, struct vsock_conn *c)
{
        ssize_t r =
                recv(c->fd, c->line + c->line_len, sizeof(c->line) - 1 - c->line_len, MSG_DONTWAIT);
        if (r < 0 && errno == EAGAIN)
                return;
        if (r <= 0) {
                conn_close(v, c);
                return;
        }
        c->line_len += (unsigned) r;
        c->line[c->line_len] = 0;
        char *nl = strchr(c->line, '\n');
        if (!nl) {
                if (c->line_len == sizeof(c->line) - 1)
                        conn_close(v, c); /* no newline in 31 bytes: not our protocol */
                return;
        }
        unsigned port;
        char extra;
        *nl = 0;
        if (sscanf(c->line, "CONNECT %u%c", &port, &extra) != 1) {
                conn_close(v, c);
                return;
        }
        c->guest_port = port;
        c->host_port = v->next_host_port++;
        c->state = CONN_CONNECTING;
        c->pending = PEND_REQUEST;
        c->peer_buf_alloc = 0;                /* no credit until the guest's RESPONSE says */
        vmm_vm_watch_events(v->vm, c->fd, 0); /* data waits for the RESPONSE */
}

static void on_listen(void *opaque)
{
        struct virtio_vsock *v = opaque;
        int fd = accept4(v->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0)
                return;
        pthread_mutex_lock(&v->t->lock);
        struct vsock_conn *c = NULL;
        for (unsigned i = 0; i < VSOCK_MAX_CONNS && !c; i++)
                if (!v->conns[i].used)
                        c = &v->conns[i];
        if (!c || vmm_vm_watch_fd(v->vm, fd, on_conn, v, NULL) < 0) {
                close(fd);
        } else {
                *c = (struct vsock_conn){.used = true, .fd = fd, .state = CONN_WANT_CONNECT};
                c->out = berth_xmalloc(VSOCK_BUF);
        }
        pthread_mutex_unlock(&v->t->lock);
}

static void on_conn(void *opaque)
{
        struct virtio_vsock *v = opaque;
        pthread_mutex_lock(&v->t->lock);
        /* Which connection woke us is not passed; check them all (few). */
        for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++) {
                struct vsock_conn *c = &v->conns[i];
                if (!c->used)
                        continue;
                if (c->state == CONN_WANT_CONNECT) {
                        read_connect_line(v, c);
                        continue;
                }
                if (c->state == CONN_CONNECTING) {
                        /* Only a hang-up wakes us here: the client gave up. */
                        char probe;
                        ssize_t r = recv(c->fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
                        if (r == 0 || (r < 0 && errno != EAGAIN)) {
                                queue_rst(v, c->host_port, c->guest_port);
                                conn_close(v, c);
                        }
                        continue;
                }
                conn_flush(v, c);
                if (!c->readable) {
                        char probe;
                        ssize_t r = recv(c->fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
                        if (r >= 0 || errno != EAGAIN)
                                c->readable = true; /* data, EOF or error: rx_fill reads it */
                }
                if (c->used)
                        conn_watch(v, c);
        }
        rx_fill(v);
        pthread_mutex_unlock(&v->t->lock);
}

static void vsock_notify(void *dev, struct virtio_mmio_dev *t, unsigned q)
{
        struct virtio_vsock *v = dev;
        if (q == VSOCK_TX)
                virtio_mmio_serve(t, q, tx_request);
        /* New rx buffers, or tx produced replies: try to deliver. */
        rx_fill(v);
}

static void vsock_config_read(void *dev, uint32_t off, uint8_t *data, unsigned len)
{
        struct virtio_vsock *v = dev;
        memcpy(data, (const uint8_t *) &v->config_cid + off, len);
}

static void vsock_reset(void *dev)
{
        struct virtio_vsock *v = dev;
        for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
                if (v->conns[i].used)
                        conn_close(v, &v->conns[i]);
        v->n_rst = 0;
}

static void vsock_destroy(void *dev)
{
        struct virtio_vsock *v = dev;
        vsock_reset(v);
        if (v->listen_fd >= 0) {
                close(v->listen_fd);
                unlink(v->uds_path); /* no leftover socket */
        }
        free(v->uds_path);
        free(v);
}

static void vsock_metrics(void *dev, virtio_metric_fn put, void *ctx)
{
        const struct virtio_vsock *v = dev;
        uint64_t open = 0;
        for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
                open += v->conns[i].used;
        put(ctx, "connections", open);
}

/* Snapshot state: the guest's CID.  Connections are host sockets of the
 * snapshotted process and cannot come along: as Firecracker does, the
 * restored device tells the guest with a transport reset event, and the
 * guest drops its connections and listens again. */
#define VSOCK_STATE_VERSION 1
#define VSOCK_EVENT_Q       2

static void vsock_save(void *dev, struct vmm_snap_buf *sb)
{
        vmm_snap_put_u64(sb, ((const struct virtio_vsock *) dev)->guest_cid);
}

static int vsock_load(void *dev, struct vmm_snap_rd *r, uint32_t version, berth_error_t *err)
{
        struct virtio_vsock *v = dev;
        uint64_t cid = vmm_snap_get_u64(r);
        if (r->short_read)
                return 0; /* the caller reports it */
        if (cid != v->guest_cid)
                return berth_fail(err, EINVAL,
                                  "guest CID %llu, the snapshot's was %llu: made for another "
                                  "configuration",
                                  (unsigned long long) v->guest_cid, (unsigned long long) cid);
        struct virtio_mmio_dev *t = v->t;
        static __thread struct virtq_elem e;
        if (!(t->s.status & VIRTIO_STATUS_DRIVER_OK) ||
            virtio_mmio_pop_host(t, VSOCK_EVENT_Q, &e) != 1)
                return 0; /* no driver, or no event buffer posted: nothing to tell */
        const uint32_t reset = VIRTIO_VSOCK_EVENT_TRANSPORT_RESET;
        size_t n = virtq_buf_to_iov(e.iov + e.n_out, e.n_in, 0, &reset, sizeof(reset));
        virtq_push(&t->vq[VSOCK_EVENT_Q], e.head, (uint32_t) n);
        virtio_mmio_used(t, VSOCK_EVENT_Q);
        log_info("vsock: transport reset sent to the restored guest");
        return 0;
}

static const struct virtio_dev_ops vsock_ops = {
        .name = "vsock",
        .device_id = 19,
        .n_queues = 3, /* rx, tx, event */
        .features = 0,
        .config_size = sizeof(uint64_t),
        .config_read = vsock_config_read,
        .queue_notify = vsock_notify,
        .reset = vsock_reset,
        .destroy = vsock_destroy,
        .metrics = vsock_metrics,
        .state_version = VSOCK_STATE_VERSION,
        .save = vsock_save,
        .load = vsock_load,
};

int virtio_vsock_add(struct vmm_vm *vm, const struct vmm_vsock_config *vc, berth_error_t *err)
{
        struct virtio_vsock *v = berth_xcalloc(1, sizeof(*v));
        v->vm = vm;
        v->guest_cid = v->config_cid = vc->cid;
        v->uds_path = berth_xstrdup(vc->uds_path);
        v->listen_fd = -1;
        v->next_host_port = VSOCK_HOST_PORT_BASE;
        for (unsigned i = 0; i < VSOCK_MAX_CONNS; i++)
                v->conns[i].fd = -1;
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        struct stat st;
        if (strlen(vc->uds_path) + 12 >= sizeof(sa.sun_path)) {
                vsock_destroy(v);
                return berth_fail_status(err, VMM_EXIT_USAGE, ENAMETOOLONG,
                                         "vsock path `%s` (with _PORT appended) is too long",
                                         vc->uds_path);
        }
        if (lstat(vc->uds_path, &st) == 0) {
                vsock_destroy(v);
                return berth_fail_status(err, VMM_EXIT_USAGE, EEXIST,
                                         "vsock socket `%s` (remove it, or pick another path)",
                                         vc->uds_path);
        }
        if (virtio_mmio_add(vm, &vsock_ops, v, &v->t, err) < 0)
                return -1;
        strcpy(sa.sun_path, vc->uds_path);
        v->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (v->listen_fd < 0 || bind(v->listen_fd, (struct sockaddr *) &sa, sizeof(sa)) < 0) {
                int e = errno;
                if (v->listen_fd >= 0)
                        close(v->listen_fd);
                v->listen_fd = -1; /* not ours to unlink */
                return berth_fail(err, e, "bind vsock socket `%s`", vc->uds_path);
        }
        if (listen(v->listen_fd, 16) < 0 ||
            vmm_vm_watch_fd(vm, v->listen_fd, on_listen, v, err) < 0)
                return berth_fail(err, errno, "listen on `%s`", vc->uds_path);
        log_info("virtio-vsock: guest cid %llu, CONNECT on %s, host ports on %s_PORT",
                 (unsigned long long) vc->cid, vc->uds_path, vc->uds_path);
        return 0;
}
