/* virtio_net.c — virtio network device (device id 1) on a tap interface.
 *
 * Frames pass between the guest's rings and the tap unchanged apart from
 * the 12-byte virtio-net header, which the tap understands natively
 * (IFF_VNET_HDR).  No offloads are offered, so the header the guest sends
 * is replaced by a clean one before the host kernel sees it.  Receive is
 * driven by the tap becoming readable; with no guest buffer posted the tap
 * is unwatched until the guest notifies the receive queue.
 *
 * Both directions have a rate limiter (Firecracker's tx_rate_limiter and
 * rx_rate_limiter).  A throttled transmit leaves the frame on the ring; a
 * throttled receive stops reading the tap, so frames wait in the kernel's
 * queue, and the device's timerfd resumes it: the limiter never drops a
 * frame.  A received frame's size is only known once it is read, so
 * receive admits a frame while the byte bucket is not in debt and charges
 * it afterwards (ratelimit.h).
 *
 * With a berth network (--net network=NAME) the tap, made here, joins the
 * network's bridge and gets an address (net_attach.c).  A tap handed in open
 * (--tap-fd ID=FD: berth vm's supervisor made it and joined the network) is
 * used as it is: a jailed VMM then needs neither /dev/net/tun nor berth's state.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "vmm/ratelimit.h"
#include "vmm/snapshot_format.h"
#include "vmm/virtio_devices.h"

#define NET_RX        0
#define NET_TX        1
#define NET_HDR_LEN   12 /* struct virtio_net_hdr_v1 */
#define NET_MAX_FRAME (65536 + NET_HDR_LEN)

struct virtio_net_stats {
        uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes, tx_dropped, rx_throttled, tx_throttled;
};

struct virtio_net {
        struct virtio_mmio_dev *t;
        struct vmm_limiter tx_limit, rx_limit;
        struct vmm_vm *vm;
        int tap;
        bool rx_paused;    /* no guest buffer, or the device is reset */
        bool rx_throttled; /* the receive limiter said wait; the timer resumes */
        char ifname[IFNAMSIZ];
        char id[VMM_NET_ID_MAX + 1];
        struct vmm_net_lease *lease; /* on a berth network (net_attach.c) */
        struct virtio_net_config config;
        struct virtio_net_stats stats;
};

static int tx_request(void *opaque, struct virtq_elem *e)
{
        struct virtio_net *n = opaque;
        if (e->out_len < NET_HDR_LEN || e->out_len > NET_MAX_FRAME) {
                n->stats.tx_dropped++;
                return 0;
        }
        uint64_t wait;
        if (!vmm_limiter_take(&n->tx_limit, e->out_len - NET_HDR_LEN, &wait)) {
                virtio_mmio_retry_after(n->t, NET_TX, wait);
                n->stats.tx_throttled++;
                return VIRTIO_REQ_RETRY;
        }
        /* Our own header (no checksum or GSO requests), then the frame. */
        static uint8_t hdr[NET_HDR_LEN]; /* all zero, never written */
        struct iovec iov[VIRTQ_MAX_SEG + 1];
        unsigned k = 0;
        iov[k++] = (struct iovec){hdr, NET_HDR_LEN};
        size_t skip = NET_HDR_LEN;
        for (unsigned i = 0; i < e->n_out; i++) {
                if (skip >= e->iov[i].iov_len) {
                        skip -= e->iov[i].iov_len;
                        continue;
                }
                iov[k++] = (struct iovec){(uint8_t *) e->iov[i].iov_base + skip,
                                          e->iov[i].iov_len - skip};
                skip = 0;
        }
        ssize_t w = writev(n->tap, iov, (int) k);
        if (w < 0) {
                n->stats.tx_dropped++;
        } else {
                n->stats.tx_frames++;
                n->stats.tx_bytes += (uint64_t) w - NET_HDR_LEN;
        }
        return 0;
}

/* Move frames from the tap into posted receive buffers.  Lock held. */
static void rx_fill(struct virtio_net *n)
{
        struct virtio_mmio_dev *t = n->t;
        struct virtq *vq = &t->vq[NET_RX];
        static __thread struct virtq_elem e;
        bool used = false;
        bool limited = vmm_limiter_active(&n->rx_limit);
        for (unsigned budget = 0; budget < 2 * VIRTQ_MAX_SIZE; budget++) {
                uint64_t now = limited ? vmm_now_ns() : 0, wait;
                if (limited && !vmm_limiter_admit(&n->rx_limit, now, &wait)) {
                        /* Leave frames in the tap's queue until the timer. */
                        vmm_vm_watch_enable(n->vm, n->tap, false);
                        n->rx_throttled = true;
                        n->stats.rx_throttled++;
                        virtio_mmio_retry_after(t, NET_RX, wait);
                        break;
                }
                int r = virtio_mmio_pop_host(t, NET_RX, &e);
                if (r < 0)
                        break;
                if (r == 0) {
                        /* Nowhere to put a frame: stop watching the tap until
                         * the guest posts buffers. */
                        vmm_vm_watch_enable(n->vm, n->tap, false);
                        n->rx_paused = true;
                        break;
                }
                if (e.n_in == 0 || e.in_len < NET_HDR_LEN) {
                        virtq_push(vq, e.head, 0);
                        used = true;
                        continue;
                }
                ssize_t got = readv(n->tap, e.iov + e.n_out, (int) e.n_in);
                if (got < 0) {
                        virtq_unpop(vq);
                        break; /* EAGAIN: the tap is drained */
                }
                /* One buffer per frame (no MRG_RXBUF): num_buffers = 1. */
                uint16_t one = 1;
                virtq_buf_to_iov(e.iov + e.n_out, e.n_in, 10, &one, 2);
                virtq_push(vq, e.head, (uint32_t) got);
                if (limited)
                        vmm_limiter_charge(&n->rx_limit, (uint64_t) got - NET_HDR_LEN, now);
                n->stats.rx_frames++;
                n->stats.rx_bytes += (uint64_t) got - NET_HDR_LEN;
                used = true;
        }
        if (used)
                virtio_mmio_used(t, NET_RX);
}

static void on_tap(void *opaque)
{
        struct virtio_net *n = opaque;
        pthread_mutex_lock(&n->t->lock);
        if (n->rx_paused || n->rx_throttled) {
                /* A paused watch only wakes for EPOLLERR/EPOLLHUP: the tap
                 * went away.  Stop watching it rather than spin. */
                log_warn("virtio-net: tap %s failed; receive stopped", n->ifname);
                vmm_vm_unwatch_fd(n->vm, n->tap);
                pthread_mutex_unlock(&n->t->lock);
                return;
        }
        rx_fill(n);
        pthread_mutex_unlock(&n->t->lock);
}

static void net_notify(void *dev, struct virtio_mmio_dev *t, unsigned q)
{
        struct virtio_net *n = dev;
        if (q == NET_TX) {
                virtio_mmio_serve(t, q, tx_request);
        } else if (q == NET_RX && (n->rx_paused || n->rx_throttled)) {
                /* New buffers, or the receive limiter's timer. */
                n->rx_paused = n->rx_throttled = false;
                vmm_vm_watch_enable(n->vm, n->tap, true);
                rx_fill(n);
        }
}

static void net_config_read(void *dev, uint32_t off, uint8_t *data, unsigned len)
{
        struct virtio_net *n = dev;
        memcpy(data, (const uint8_t *) &n->config + off, len);
}

static void net_reset(void *dev)
{
        struct virtio_net *n = dev;
        /* Queues are gone: the tap is watched again once they are back. */
        n->rx_paused = true;
        n->rx_throttled = false;
        vmm_vm_watch_enable(n->vm, n->tap, false);
}

static void net_destroy(void *dev)
{
        struct virtio_net *n = dev;
        vmm_net_detach(n->lease);
        if (n->tap >= 0)
                close(n->tap);
        free(n);
}

static void net_metrics(void *dev, virtio_metric_fn put, void *ctx)
{
        const struct virtio_net *n = dev;
        put(ctx, "rx_frames", n->stats.rx_frames);
        put(ctx, "rx_bytes", n->stats.rx_bytes);
        put(ctx, "tx_frames", n->stats.tx_frames);
        put(ctx, "tx_bytes", n->stats.tx_bytes);
        put(ctx, "tx_dropped", n->stats.tx_dropped);
        put(ctx, "rx_throttled", n->stats.rx_throttled);
        put(ctx, "tx_throttled", n->stats.tx_throttled);
}

/* Snapshot state: the MAC the guest knows.  Frames in flight are not kept
 * (the tap is the restoring host's; a network drops frames anyway), and a
 * restored MAC that differs would be another configuration. */
#define NET_STATE_VERSION 1

static void net_save(void *dev, struct vmm_snap_buf *sb)
{
        vmm_snap_put_bytes(sb, ((const struct virtio_net *) dev)->config.mac, 6);
}

static int net_load(void *dev, struct vmm_snap_rd *r, uint32_t version, berth_error_t *err)
{
        const struct virtio_net *n = dev;
        uint8_t mac[6];
        vmm_snap_get_bytes(r, mac, sizeof(mac));
        if (!r->short_read && memcmp(mac, n->config.mac, sizeof(mac)) != 0)
                return berth_fail(err, EINVAL,
                                  "MAC %02x:%02x:%02x:%02x:%02x:%02x differs from the snapshot's: "
                                  "made for another configuration",
                                  n->config.mac[0], n->config.mac[1], n->config.mac[2],
                                  n->config.mac[3], n->config.mac[4], n->config.mac[5]);
        return 0;
}

static const struct virtio_dev_ops net_ops = {
        .name = "net",
        .device_id = 1,
        .n_queues = 2,
        .features = (1ull << VIRTIO_NET_F_MAC) | (1ull << VIRTIO_NET_F_STATUS),
        .config_size = sizeof(struct virtio_net_config),
        .config_read = net_config_read,
        .queue_notify = net_notify,
        .reset = net_reset,
        .destroy = net_destroy,
        .metrics = net_metrics,
        .state_version = NET_STATE_VERSION,
        .save = net_save,
        .load = net_load,
};

static int open_tap(const char *name, char *ifname, berth_error_t *err)
{
        cleanup_close int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                return berth_fail(err, errno, "open /dev/net/tun");
        struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR};
        if (strlen(name) >= IFNAMSIZ)
                return berth_fail(err, ENAMETOOLONG, "tap name `%s`", name);
        strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
        if (ioctl(fd, TUNSETIFF, &ifr) < 0)
                return berth_fail(err, errno, "attach to tap `%s`", name);
        int sz = NET_HDR_LEN;
        if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0)
                return berth_fail(err, errno, "set the vnet header size of tap `%s`", name);
        memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
        return berth_steal_fd(&fd);
}

/* A tap another process opened (--tap-fd): checked to be one with the flags
 * open_tap sets, and our own descriptor of it (the starter keeps its copy for
 * the next VMM after a reboot). */
static int adopt_tap(int fd, const char *id, char *ifname, berth_error_t *err)
{
        struct ifreq ifr = {0};
        if (ioctl(fd, TUNGETIFF, &ifr) < 0)
                return berth_fail(err, errno, "--tap-fd %s=%d: not a tap", id, fd);
        short want = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
        if ((ifr.ifr_flags & want) != want)
                return berth_fail(err, EINVAL,
                                  "--tap-fd %s=%d: tap %s was not opened with IFF_TAP, "
                                  "IFF_NO_PI and IFF_VNET_HDR",
                                  id, fd, ifr.ifr_name);
        cleanup_close int own = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        if (own < 0)
                return berth_fail(err, errno, "--tap-fd %s=%d: dup", id, fd);
        int sz = NET_HDR_LEN, fl = fcntl(own, F_GETFL);
        if (fl < 0 || fcntl(own, F_SETFL, fl | O_NONBLOCK) < 0)
                return berth_fail(err, errno, "--tap-fd %s=%d: make it non-blocking", id, fd);
        if (ioctl(own, TUNSETVNETHDRSZ, &sz) < 0)
                return berth_fail(err, errno, "set the vnet header size of tap `%s`", ifr.ifr_name);
        memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
        ifname[IFNAMSIZ - 1] = 0;
        return berth_steal_fd(&own);
}

/* The descriptor --tap-fd gave for the interface named by id's first len bytes, or -1. */
static int tap_fd_of(const struct vmm_config *c, const char *id, size_t len)
{
        for (unsigned i = 0; i < c->n_tap_fds; i++)
                if (c->tap_fds[i].id_len == len && strncmp(c->tap_fds[i].id, id, len) == 0)
                        return c->tap_fds[i].fd;
        return -1;
}

int vmm_tap_fd_parse(struct vmm_config *c, const char *arg, berth_error_t *err)
{
        const char *eq = strchr(arg, '=');
        char *end = NULL;
        long fd = eq ? strtol(eq + 1, &end, 10) : -1;
        if (!eq || eq == arg || (size_t) (eq - arg) > VMM_NET_ID_MAX || !eq[1] || *end || fd < 3 ||
            fd > INT_MAX)
                return berth_fail_status(err, VMM_EXIT_USAGE, EINVAL,
                                         "--tap-fd `%s`: want ID=FD, FD 3 or more", arg);
        if (fcntl((int) fd, F_GETFD) < 0)
                return berth_fail_status(err, VMM_EXIT_USAGE, errno,
                                         "--tap-fd `%s`: descriptor %ld", arg, fd);
        if (c->n_tap_fds >= VMM_MAX_NETS)
                return berth_fail_status(err, VMM_EXIT_USAGE, EINVAL, "--tap-fd `%s`: more than %u",
                                         arg, VMM_MAX_NETS);
        size_t len = (size_t) (eq - arg);
        if (tap_fd_of(c, arg, len) >= 0)
                return berth_fail_status(err, VMM_EXIT_USAGE, EINVAL,
                                         "--tap-fd `%s`: a second descriptor for that interface",
                                         arg);
        /* the id is the argument's own text: the config keeps no owned strings */
        c->tap_fds[c->n_tap_fds++] = (struct vmm_tap_fd){arg, len, (int) fd};
        return 0;
}

int vmm_tap_fd_find(const struct vmm_config *c, const char *id)
{
        return tap_fd_of(c, id, strlen(id));
}

/* The device on an open tap (taken; -1: the error is set already); join: this
 * process attaches it to nc's berth network (net_attach.c). */
static int add_device(struct vmm_vm *vm, const struct vmm_net_config *nc, int tap,
                      const char *ifname, bool join, berth_error_t *err)
{
        if (tap < 0)
                return -1;
        struct virtio_net *n = berth_xcalloc(1, sizeof(*n));
        n->vm = vm;
        n->tap = tap;
        n->rx_paused = true;
        memcpy(n->ifname, ifname, sizeof(n->ifname));
        memcpy(n->config.mac, nc->mac, 6);
        n->config.status = VIRTIO_NET_S_LINK_UP;
        uint64_t now = vmm_now_ns();
        vmm_limiter_init(&n->tx_limit, &nc->tx, now);
        vmm_limiter_init(&n->rx_limit, &nc->rx, now);
        vmm_net_id(nc, vm->n_nets, n->id);
        if (virtio_mmio_add(vm, &net_ops, n, &n->t, err) < 0)
                return -1;
        vm->nets[vm->n_nets++] = n;
        if ((vmm_limiter_active(&n->tx_limit) || vmm_limiter_active(&n->rx_limit)) &&
            virtio_mmio_retry_init(n->t, err) < 0)
                return -1;
        if (vmm_vm_watch_fd(vm, tap, on_tap, n, err) < 0)
                return -1;
        vmm_vm_watch_enable(vm, tap, false); /* until the driver posts buffers */
        if (join) {
                /* last: from here the VM's teardown releases the endpoint (net_destroy) */
                if (vmm_net_attach(nc, ifname, &n->lease, err) < 0)
                        return -1;
                if (!vm->net_ip_arg)
                        vm->net_ip_arg = vmm_net_ip_arg(n->lease, vm->n_nets - 1);
        }
        log_info("virtio-net: tap %s, mac %02x:%02x:%02x:%02x:%02x:%02x", ifname, nc->mac[0],
                 nc->mac[1], nc->mac[2], nc->mac[3], nc->mac[4], nc->mac[5]);
        return 0;
}

int vmm_tap_fds_check(const struct vmm_config *c, berth_error_t *err)
{
        for (unsigned i = 0; i < c->n_tap_fds; i++) {
                bool found = false;
                for (unsigned k = 0; k < c->n_nets && !found; k++) {
                        char id[VMM_NET_ID_MAX + 1];
                        vmm_net_id(&c->nets[k], k, id);
                        found = strlen(id) == c->tap_fds[i].id_len &&
                                strncmp(id, c->tap_fds[i].id, c->tap_fds[i].id_len) == 0;
                }
                /* the starter's mistake: a tap left out would leave the guest unplugged */
                if (!found)
                        return berth_fail_status(err, VMM_EXIT_USAGE, ENOENT,
                                                 "--tap-fd %s: the VM has no interface `%.*s`",
                                                 c->tap_fds[i].id, (int) c->tap_fds[i].id_len,
                                                 c->tap_fds[i].id);
        }
        return 0;
}

int virtio_net_add(struct vmm_vm *vm, const struct vmm_net_config *nc, berth_error_t *err)
{
        char ifname[IFNAMSIZ], made[IFNAMSIZ], id[VMM_NET_ID_MAX + 1];
        vmm_net_id(nc, vm->n_nets, id);
        int given = vmm_tap_fd_find(vm->cfg, id);
        if (given >= 0) /* made and joined to its network by the starter */
                return add_device(vm, nc, adopt_tap(given, id, ifname, err), ifname, false, err);
        if (!nc->tap) { /* a tap for a berth network, gone with the VMM */
                uint32_t x = 0;
                if (getrandom(&x, sizeof(x), 0) != sizeof(x))
                        x = (uint32_t) getpid();
                snprintf(made, sizeof(made), "btap%08x", x);
        }
        int tap = open_tap(nc->tap ? nc->tap : made, ifname, err);
        return add_device(vm, nc, tap, ifname, nc->network != NULL, err);
}

void vmm_net_id(const struct vmm_net_config *nc, unsigned index, char id[VMM_NET_ID_MAX + 1])
{
        if (nc->id)
                snprintf(id, VMM_NET_ID_MAX + 1, "%s", nc->id);
        else
                snprintf(id, VMM_NET_ID_MAX + 1, "net%u", index);
}

int vmm_net_set_limits(struct vmm_vm *vm, const char *id, const struct vmm_limit_config *rx,
                       const struct vmm_limit_config *tx, berth_error_t *err)
{
        struct virtio_net *n = NULL;
        for (unsigned i = 0; i < vm->n_nets && !n; i++)
                if (strcmp(vm->nets[i]->id, id) == 0)
                        n = vm->nets[i];
        if (!n)
                return berth_fail(err, ENOENT, "no network interface `%s`", id);
        if (virtio_mmio_retry_init(n->t, err) < 0)
                return -1;
        pthread_mutex_lock(&n->t->lock);
        uint64_t now = vmm_now_ns();
        if (tx)
                vmm_limiter_init(&n->tx_limit, tx, now);
        if (rx)
                vmm_limiter_init(&n->rx_limit, rx, now);
        /* Whatever waited on the old limits is served under the new ones. */
        virtio_mmio_retry_after(n->t, NET_RX, 0);
        virtio_mmio_retry_after(n->t, NET_TX, 0);
        pthread_mutex_unlock(&n->t->lock);
        return 0;
}

int vmm_net_parse_mac(const char *s, uint8_t mac[6])
{
        unsigned v[6];
        char extra;
        if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &extra) != 6)
                return -1;
        for (int i = 0; i < 6; i++) {
                if (v[i] > 0xff)
                        return -1;
                mac[i] = (uint8_t) v[i];
        }
        return (mac[0] & 1) ? -1 : 0; /* no multicast source address */
}

void vmm_net_random_mac(uint8_t mac[6])
{
        /* Locally administered, unicast, in QEMU's customary 52:54:00 block. */
        mac[0] = 0x52;
        mac[1] = 0x54;
        mac[2] = 0x00;
        if (getrandom(mac + 3, 3, 0) != 3)
                mac[3] = mac[4] = mac[5] = 0x42;
}
