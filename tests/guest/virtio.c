/* virtio.c — a polling virtio-mmio driver and the device tests.
 *
 * One queue of 8 entries per device, used one request at a time: post a
 * chain, notify, spin on used->idx.  EVENT_IDX is negotiated so that the
 * VMM's event-index path is exercised; the driver still notifies every
 * time (allowed, and it never misses a wake-up).
 */
#include "guest.h"
#include "vmm/virtio_mmio_regs.h"

#define QSZ 8

#define F_INDIRECT  (1ull << 28)
#define F_EVENT_IDX (1ull << 29)
#define F_VERSION_1 (1ull << 32)
#define D_NEXT      1
#define D_WRITE     2
#define D_INDIRECT  4

struct desc {
        uint64_t addr;
        uint32_t len;
        uint16_t flags, next;
};

struct vring {
        struct desc desc[QSZ];
        struct {
                uint16_t flags, idx, ring[QSZ], used_event;
        } avail __attribute__((aligned(2)));
        struct {
                uint16_t flags, idx;
                struct {
                        uint32_t id, len;
                } ring[QSZ];
                uint16_t avail_event;
        } used __attribute__((aligned(4096)));
};

static struct vring rings[24] __attribute__((aligned(4096)));
static uint8_t bufs[16][8192] __attribute__((aligned(4096)));
static struct desc indirect_table[4] __attribute__((aligned(16)));

struct vq {
        uint64_t base;
        unsigned index;
        struct vring *r;
        uint16_t used_seen;
        bool ok;
};

static void status_or(uint64_t base, uint32_t bits)
{
        mmio_write32(base + REG_STATUS, mmio_read32(base + REG_STATUS) | bits);
}

/* Features the last device negotiated (what both sides accepted). */
static uint64_t negotiated;

/* Reset and negotiate VERSION_1, EVENT_IDX, INDIRECT plus dev_features. */
static bool dev_negotiate(uint64_t base, uint64_t dev_features)
{
        mmio_write32(base + REG_STATUS, 0);
        status_or(base, 1 | 2); /* ACKNOWLEDGE | DRIVER */
        mmio_write32(base + REG_DEVICE_FEATURES_SEL, 0);
        uint64_t f = mmio_read32(base + REG_DEVICE_FEATURES);
        mmio_write32(base + REG_DEVICE_FEATURES_SEL, 1);
        f |= (uint64_t) mmio_read32(base + REG_DEVICE_FEATURES) << 32;
        uint64_t want = f & (F_VERSION_1 | F_EVENT_IDX | F_INDIRECT | dev_features);
        negotiated = want;
        mmio_write32(base + REG_DRIVER_FEATURES_SEL, 0);
        mmio_write32(base + REG_DRIVER_FEATURES, (uint32_t) want);
        mmio_write32(base + REG_DRIVER_FEATURES_SEL, 1);
        mmio_write32(base + REG_DRIVER_FEATURES, (uint32_t) (want >> 32));
        status_or(base, 8); /* FEATURES_OK */
        return mmio_read32(base + REG_STATUS) & 8;
}

/* Give queue `index` the rings in slot `slot`. */
static bool queue_setup(struct vq *q, uint64_t base, unsigned index, unsigned slot)
{
        q->base = base;
        q->index = index;
        q->r = &rings[slot];
        q->used_seen = 0;
        memset(q->r, 0, sizeof(*q->r));
        mmio_write32(base + REG_QUEUE_SEL, index);
        if (mmio_read32(base + REG_QUEUE_NUM_MAX) < QSZ)
                return q->ok = false;
        mmio_write32(base + REG_QUEUE_NUM, QSZ);
        uint64_t d = (uintptr_t) &q->r->desc, a = (uintptr_t) &q->r->avail,
                 u = (uintptr_t) &q->r->used;
        mmio_write32(base + REG_QUEUE_DESC_LOW, (uint32_t) d);
        mmio_write32(base + REG_QUEUE_DESC_HIGH, (uint32_t) (d >> 32));
        mmio_write32(base + REG_QUEUE_DRIVER_LOW, (uint32_t) a);
        mmio_write32(base + REG_QUEUE_DRIVER_HIGH, (uint32_t) (a >> 32));
        mmio_write32(base + REG_QUEUE_DEVICE_LOW, (uint32_t) u);
        mmio_write32(base + REG_QUEUE_DEVICE_HIGH, (uint32_t) (u >> 32));
        mmio_write32(base + REG_QUEUE_READY, 1);
        return q->ok = true;
}

static bool dev_ready(uint64_t base)
{
        status_or(base, 4); /* DRIVER_OK */
        return (mmio_read32(base + REG_STATUS) & 0x4f) == 0x0f;
}

/* A one-queue device: negotiate, queue 0 in ring slot `slot`, DRIVER_OK. */
static bool vq_init(struct vq *q, uint64_t base, unsigned slot, uint64_t dev_features)
{
        if (!dev_negotiate(base, dev_features) || !queue_setup(q, base, 0, slot))
                return q->ok = false;
        return q->ok = dev_ready(base);
}

/* Make the chain starting at desc `head` (already filled) available. */
static void vq_post(struct vq *q, uint16_t head)
{
        struct vring *r = q->r;
        r->avail.ring[r->avail.idx % QSZ] = head;
        r->avail.used_event = q->used_seen; /* interrupt-free, but keep it sane */
        mb();
        r->avail.idx++;
        mb();
        mmio_write32(q->base + REG_QUEUE_NOTIFY, q->index);
}

/* Wait for the next used entry: its length (and *id), or -1 on timeout or
 * a device that gave up on the queue. */
static int64_t vq_wait(struct vq *q, uint64_t max_spins, uint32_t *id)
{
        struct vring *r = q->r;
        for (uint64_t spin = 0; spin < max_spins; spin++) {
                mb();
                if (*(volatile uint16_t *) &r->used.idx != q->used_seen) {
                        uint32_t len = r->used.ring[q->used_seen % QSZ].len;
                        if (id)
                                *id = r->used.ring[q->used_seen % QSZ].id;
                        q->used_seen++;
                        return len;
                }
                if ((spin & 0xffff) == 0xffff && (mmio_read32(q->base + REG_STATUS) & 0x40))
                        return -1;
                __asm__ volatile("pause");
        }
        return -1;
}

/* Post the chain at desc 0 and wait for it. */
static int64_t vq_run(struct vq *q)
{
        vq_post(q, 0);
        return vq_wait(q, 2000000000ull, 0);
}

static void set_desc(struct desc *d, void *addr, uint32_t len, uint16_t flags, uint16_t next)
{
        d->addr = (uintptr_t) addr;
        d->len = len;
        d->flags = flags;
        d->next = next;
}

struct blk_hdr {
        uint32_t type, reserved;
        uint64_t sector;
};

static int blk_rw(struct vq *q, uint32_t type, uint64_t sector, void *data, uint32_t len)
{
        static struct blk_hdr hdr;
        static volatile uint8_t status;
        hdr.type = type;
        hdr.reserved = 0;
        hdr.sector = sector;
        status = 0xff;
        struct desc *d = q->r->desc;
        set_desc(&d[0], &hdr, sizeof(hdr), D_NEXT, 1);
        if (len) {
                set_desc(&d[1], data, len, (uint16_t) (D_NEXT | (type == 1 ? 0 : D_WRITE)), 2);
                set_desc(&d[2], (void *) &status, 1, D_WRITE, 0);
        } else {
                set_desc(&d[1], (void *) &status, 1, D_WRITE, 0);
        }
        if (vq_run(q) < 0)
                return -1;
        return status;
}

static void print_text(const char *what, const uint8_t *p, unsigned max)
{
        puts_serial(what);
        for (unsigned i = 0; i < max && p[i] && p[i] != '\n'; i++)
                putc_serial((char) p[i]);
        putc_serial('\n');
}

/* guest.blkcount=MIB: the disk's counting mode, for migrations that copy the
 * disk.  A counter written across MIB mebibytes of the disk from 1 MiB on,
 * pass after pass, 64 KiB a request: every sector holds the pass that wrote
 * it and its own number.  Each chunk is read and checked before it is
 * written again (the previous pass's count, or the one before where this
 * pass has not been yet), so a disk that came back without a write the
 * guest made is reported, not silently rewritten.  Never returns. */
static void blk_count(struct vq *q, uint64_t cap, uint64_t mib)
{
        static uint8_t chunk[65536] __attribute__((aligned(4096)));
        const uint64_t first = 2048, per = sizeof(chunk) / 512, sectors = mib * 2048;
        if (mib == 0 || first + sectors > cap) {
                put_line("BERTH-GUEST blkcount: ", "region does not fit on the disk");
                leave_guest("poweroff");
        }
        puts_serial("BERTH-GUEST blkcount: ");
        put_dec(mib);
        puts_serial(" MiB from sector 2048\n");
        uint64_t pass = 0, next = rdtsc();
        for (;;) {
                for (uint64_t sec = first; sec < first + sectors; sec += per) {
                        if (pass && blk_rw(q, 0, sec, chunk, sizeof(chunk)) != 0) {
                                put_line("BERTH-GUEST blkcount: ", "read failed");
                                leave_guest("hang");
                        }
                        for (uint64_t i = 0; i < per; i++) {
                                uint64_t *s = (uint64_t *) (chunk + i * 512);
                                if (pass && (s[0] != pass || s[1] != sec + i)) {
                                        puts_serial("BERTH-GUEST blkcount: mismatch at sector ");
                                        put_dec(sec + i);
                                        puts_serial(": ");
                                        put_dec(s[0]);
                                        puts_serial(" != ");
                                        put_dec(pass);
                                        putc_serial('\n');
                                        leave_guest("hang");
                                }
                                s[0] = pass + 1;
                                s[1] = sec + i;
                        }
                        if (blk_rw(q, 1, sec, chunk, sizeof(chunk)) != 0) {
                                put_line("BERTH-GUEST blkcount: ", "write failed");
                                leave_guest("hang");
                        }
                }
                pass++;
                uint64_t now = rdtsc();
                if ((int64_t) (now - next) >= 0) {
                        puts_serial("BERTH-GUEST blkcount ");
                        put_dec(pass);
                        putc_serial('\n');
                        next = now + (1ull << 28);
                }
        }
}

static void test_blk(uint64_t base, unsigned idx, const char *cmdline)
{
        struct vq q;
        uint8_t *buf = bufs[idx];
        if (!vq_init(&q, base, idx,
                     1ull << 9 /* FLUSH */ | 1ull << 5 /* RO */ | 1ull << 13 /* DISCARD */)) {
                put_line("BERTH-GUEST blk: ", "device set-up failed");
                return;
        }
        uint64_t cap = (uint64_t) mmio_read32(base + REG_CONFIG) |
                       (uint64_t) mmio_read32(base + REG_CONFIG + 4) << 32;
        puts_serial("BERTH-GUEST blk: capacity ");
        put_dec(cap);
        puts_serial(" sectors\n");
        memset(buf, 0, 512);
        int s = blk_rw(&q, 0, 0, buf, 512);
        puts_serial("BERTH-GUEST blk: read status ");
        put_dec((uint64_t) s);
        putc_serial('\n');
        print_text("BERTH-GUEST blk: sector 0: ", buf, 200);

        /* GET_ID (type 8). */
        memset(buf, 0, 32);
        s = blk_rw(&q, 8, 0, buf, 20);
        print_text("BERTH-GUEST blk: id ", buf, 20);

        /* A read past the end must fail with IOERR (1), not crash. */
        s = blk_rw(&q, 0, cap, buf, 512);
        puts_serial("BERTH-GUEST blk: read past end status ");
        put_dec((uint64_t) s);
        putc_serial('\n');

        /* Write sector 1 with a line naming this boot, then flush. */
        const char *msg = "written by the guest";
        memset(buf, 0, 512);
        memcpy(buf, msg, strlen(msg));
        buf[strlen(msg)] = '\n';
        s = blk_rw(&q, 1, 1, buf, 512);
        puts_serial("BERTH-GUEST blk: write status ");
        put_dec((uint64_t) s);
        putc_serial('\n');
        s = blk_rw(&q, 4, 0, 0, 0);
        puts_serial("BERTH-GUEST blk: flush status ");
        put_dec((uint64_t) s);
        putc_serial('\n');

        /* Read it back through an indirect table. */
        static struct blk_hdr hdr;
        static volatile uint8_t status;
        hdr = (struct blk_hdr){0, 0, 1};
        status = 0xff;
        memset(buf, 0, 512);
        set_desc(&indirect_table[0], &hdr, sizeof(hdr), D_NEXT, 1);
        set_desc(&indirect_table[1], buf, 512, D_NEXT | D_WRITE, 2);
        set_desc(&indirect_table[2], (void *) &status, 1, D_WRITE, 0);
        set_desc(&q.r->desc[0], indirect_table, 3 * sizeof(struct desc), D_INDIRECT, 0);
        vq_run(&q);
        puts_serial("BERTH-GUEST blk: indirect read status ");
        put_dec(status);
        putc_serial('\n');
        print_text("BERTH-GUEST blk: sector 1: ", buf, 200);

        /* DISCARD (type 11) sector 2, then read it: zeroes where the host
         * wrote a pattern.  Read-only disks do not offer DISCARD. */
        if (negotiated & (1ull << 13)) {
                static struct {
                        uint64_t sector;
                        uint32_t num, flags;
                } seg = {2, 1, 0};
                static struct blk_hdr dh = {11, 0, 0};
                struct desc *d = q.r->desc;
                status = 0xff;
                set_desc(&d[0], &dh, sizeof(dh), D_NEXT, 1);
                set_desc(&d[1], &seg, sizeof(seg), D_NEXT, 2);
                set_desc(&d[2], (void *) &status, 1, D_WRITE, 0);
                vq_run(&q);
                puts_serial("BERTH-GUEST blk: discard status ");
                put_dec(status);
                memset(buf, 0x5a, 512);
                blk_rw(&q, 0, 2, buf, 512);
                unsigned zeroes = 0;
                for (int i = 0; i < 512; i++)
                        zeroes += buf[i] == 0;
                puts_serial(", sector 2 zero bytes after: ");
                put_dec(zeroes);
                putc_serial('\n');
        }

        char v[16];
        if (cmdline_get(cmdline, "guest.blkcount", v, sizeof(v))) {
                const char *pv = v;
                blk_count(&q, cap, parse_num(&pv));
        }
        /* guest.blkbench=MIB: read that much sequentially, 64 KiB a request. */
        if (!cmdline_get(cmdline, "guest.blkbench", v, sizeof(v)))
                return;
        const char *pv = v;
        uint64_t mib = parse_num(&pv), sectors = mib * 2048, done = 0;
        static uint8_t chunk[65536] __attribute__((aligned(4096)));
        memset(chunk, 0, sizeof(chunk)); /* fault the buffer in before timing */
        puts_serial("BERTH-GUEST blkbench: start\n");
        for (uint64_t sec = 0; sec + 128 <= sectors && sec + 128 <= cap; sec += 128) {
                if (blk_rw(&q, 0, sec, chunk, sizeof(chunk)) != 0)
                        break;
                done += sizeof(chunk);
        }
        puts_serial("BERTH-GUEST blkbench: read ");
        put_dec(done >> 20);
        puts_serial(" MiB\n");
}

static void test_rng(uint64_t base, unsigned idx)
{
        struct vq q;
        uint8_t *buf = bufs[idx];
        if (!vq_init(&q, base, idx, 0)) {
                put_line("BERTH-GUEST rng: ", "device set-up failed");
                return;
        }
        memset(buf, 0, 64);
        set_desc(&q.r->desc[0], buf, 16, D_WRITE, 0);
        int64_t n = vq_run(&q);
        puts_serial("BERTH-GUEST rng: ");
        put_dec((uint64_t) n);
        puts_serial(" bytes:");
        unsigned nonzero = 0;
        for (int i = 0; i < 16; i++) {
                putc_serial(' ');
                putc_serial("0123456789abcdef"[buf[i] >> 4]);
                putc_serial("0123456789abcdef"[buf[i] & 15]);
                nonzero += buf[i] != 0;
        }
        putc_serial('\n');
        puts_serial("BERTH-GUEST rng: nonzero bytes ");
        put_dec(nonzero);
        putc_serial('\n');
}

static void put_mac(const uint8_t *m)
{
        for (int i = 0; i < 6; i++) {
                if (i)
                        putc_serial(':');
                putc_serial("0123456789abcdef"[m[i] >> 4]);
                putc_serial("0123456789abcdef"[m[i] & 15]);
        }
}

static void put_ip(const uint8_t *ip)
{
        for (int i = 0; i < 4; i++) {
                if (i)
                        putc_serial('.');
                put_dec(ip[i]);
        }
}

#define NET_HDR 12
#define RX_BUF  2048

/* guest.netburst=N: send the ARP request N more times, one frame at a
 * time, between two marker lines (the rate-limit test times them). */
static void net_burst(struct vq *tx, uint8_t *frame, const char *cmdline)
{
        char v[16];
        if (!cmdline_get(cmdline, "guest.netburst", v, sizeof(v)))
                return;
        const char *pv = v;
        uint64_t n = parse_num(&pv), sent = 0;
        puts_serial("BERTH-GUEST netburst: start\n");
        for (uint64_t i = 0; i < n; i++) {
                set_desc(&tx->r->desc[0], frame, NET_HDR + 42, 0, 0);
                vq_post(tx, 0);
                if (vq_wait(tx, 2000000000ull, 0) < 0)
                        break;
                sent++;
        }
        puts_serial("BERTH-GUEST netburst: sent ");
        put_dec(sent);
        puts_serial(" frames\n");
}

/* guest.netrecv=N: count the host's test frames (EtherType 0x88b5, local
 * experimental) until N have arrived, recycling each buffer at once, between
 * a ready line (the host starts sending then) and a count line; the
 * receive rate-limit test times the two. */
static void net_recv(struct vq *rx, uint8_t *rxb, const char *cmdline)
{
        char v[16];
        if (!cmdline_get(cmdline, "guest.netrecv", v, sizeof(v)))
                return;
        const char *pv = v;
        uint64_t n = parse_num(&pv), frames = 0, bytes = 0;
        puts_serial("BERTH-GUEST netrecv: ready\n");
        while (frames < n) {
                uint32_t id = 0;
                int64_t len = vq_wait(rx, 400000000ull, &id);
                if (len < 0 || id >= 4)
                        break;
                const uint8_t *p = rxb + id * RX_BUF + NET_HDR;
                if (len >= NET_HDR + 14 && p[12] == 0x88 && p[13] == 0xb5) {
                        frames++;
                        bytes += (uint64_t) len - NET_HDR;
                }
                vq_post(rx, (uint16_t) id);
        }
        puts_serial("BERTH-GUEST netrecv: got ");
        put_dec(frames);
        puts_serial(" frames ");
        put_dec(bytes);
        puts_serial(" bytes\n");
}

/* KEY=A.B.C.D[:...] from the command line into ip; false (ip untouched) when
 * absent or malformed. */
static bool cmdline_ip(const char *cmdline, const char *key, uint8_t ip[4])
{
        char v[64];
        if (!cmdline_get(cmdline, key, v, sizeof(v)))
                return false;
        const char *p = v;
        uint8_t got[4];
        for (int i = 0; i < 4; i++) {
                if (i && *p++ != '.')
                        return false;
                if (*p < '0' || *p > '9')
                        return false;
                uint64_t n = parse_num(&p);
                if (n > 255)
                        return false;
                got[i] = (uint8_t) n;
        }
        if (*p && *p != ':')
                return false;
        memcpy(ip, got, 4);
        return true;
}

/* ARP round trip with the host: ask who has 10.0.2.1 (the tap's address in
 * the test's namespace), wait for the reply.  The host's kernel learns our
 * MAC from the request, which the test checks from its side.  On a berth
 * network the VMM's ip= gives our address and guest.netpeer= whom to ask
 * (a container on the same bridge, whose kernel answers). */
static void test_net(uint64_t base, unsigned idx, const char *cmdline)
{
        uint8_t my_ip[4] = {10, 0, 2, 15}, peer_ip[4] = {10, 0, 2, 1};
        cmdline_ip(cmdline, "ip", my_ip);
        cmdline_ip(cmdline, "guest.netpeer", peer_ip);
        struct vq rx, tx;
        if (!dev_negotiate(base, 1ull << 5 /* MAC */ | 1ull << 16 /* STATUS */) ||
            !queue_setup(&rx, base, 0, idx) || !queue_setup(&tx, base, 1, 8 + idx) ||
            !dev_ready(base)) {
                put_line("BERTH-GUEST net: ", "device set-up failed");
                return;
        }
        uint8_t mac[6];
        for (int i = 0; i < 6; i++)
                mac[i] = mmio_read8(base + REG_CONFIG + i);
        puts_serial("BERTH-GUEST net: mac ");
        put_mac(mac);
        puts_serial(" link ");
        puts_serial((mmio_read8(base + REG_CONFIG + 6) & 1) ? "up\n" : "down\n");

        uint8_t *rxb = bufs[idx], *f = bufs[8 + idx];
        for (uint16_t i = 0; i < 4; i++) {
                set_desc(&rx.r->desc[i], rxb + i * RX_BUF, RX_BUF, D_WRITE, 0);
                vq_post(&rx, i);
        }
        memset(f, 0, NET_HDR + 42);
        uint8_t *e = f + NET_HDR;
        memset(e, 0xff, 6);
        memcpy(e + 6, mac, 6);
        e[12] = 0x08, e[13] = 0x06;                 /* ARP */
        e[14] = 0, e[15] = 1, e[16] = 8, e[17] = 0; /* Ethernet, IPv4 */
        e[18] = 6, e[19] = 4, e[20] = 0, e[21] = 1; /* request */
        memcpy(e + 22, mac, 6);
        memcpy(e + 28, my_ip, 4);
        memcpy(e + 38, peer_ip, 4);
        puts_serial("BERTH-GUEST net: who has ");
        put_ip(peer_ip);
        puts_serial(" tell ");
        put_ip(my_ip);
        putc_serial('\n');
        set_desc(&tx.r->desc[0], f, NET_HDR + 42, 0, 0);
        vq_post(&tx, 0);
        int64_t r = vq_wait(&tx, 2000000000ull, 0);
        puts_serial("BERTH-GUEST net: tx arp request ");
        puts_serial(r < 0 ? "lost\n" : "sent\n");
        for (int n = 0; n < 32; n++) {
                uint32_t id = 0;
                int64_t len = vq_wait(&rx, 400000000ull, &id);
                if (len < 0 || id >= 4) {
                        put_line("BERTH-GUEST net: ", "no arp reply");
                        return;
                }
                const uint8_t *p = rxb + id * RX_BUF + NET_HDR;
                if (len >= NET_HDR + 42 && p[12] == 0x08 && p[13] == 0x06 && p[21] == 2 &&
                    memcmp(p + 28, peer_ip, 4) == 0 && memcmp(p + 38, my_ip, 4) == 0) {
                        puts_serial("BERTH-GUEST net: rx arp reply: ");
                        put_ip(p + 28);
                        puts_serial(" is at ");
                        put_mac(p + 22);
                        putc_serial('\n');
                        net_burst(&tx, f, cmdline);
                        vq_post(&rx, (uint16_t) id);
                        net_recv(&rx, rxb, cmdline);
                        return;
                }
                vq_post(&rx, (uint16_t) id); /* something else (IPv6 chatter): recycle */
        }
        put_line("BERTH-GUEST net: ", "no arp reply among 32 frames");
}

struct __attribute__((packed)) vsock_hdr {
        uint64_t src_cid, dst_cid;
        uint32_t src_port, dst_port, len;
        uint16_t type, op;
        uint32_t flags, buf_alloc, fwd_cnt;
};

#define VS_BUF     2048
#define VS_PORT    1234
#define VS_MY_PORT 49152

static const char *vs_op_name(uint16_t op)
{
        static const char *names[] = {"?",        "REQUEST", "RESPONSE",      "RST",
                                      "SHUTDOWN", "RW",      "CREDIT_UPDATE", "CREDIT_REQUEST"};
        return op < 8 ? names[op] : "?";
}

/* Ports of the connection vs_send talks on (guest side, host side). */
static uint32_t vs_src = VS_MY_PORT, vs_dst = VS_PORT;

static void vs_send_len(struct vq *tx, uint8_t *buf, uint64_t cid, uint16_t op, uint32_t flags,
                        const char *data, uint32_t len, uint32_t fwd)
{
        struct vsock_hdr *h = (struct vsock_hdr *) buf;
        *h = (struct vsock_hdr){cid, 2, vs_src, vs_dst, len, 1, op, flags, 65536, fwd};
        if (len)
                memcpy(buf + sizeof(*h), data, len);
        set_desc(&tx->r->desc[0], buf, (uint32_t) sizeof(*h) + len, 0, 0);
        vq_post(tx, 0);
        vq_wait(tx, 2000000000ull, 0);
}

static void vs_send(struct vq *tx, uint8_t *buf, uint64_t cid, uint16_t op, uint32_t flags,
                    const char *data, uint32_t fwd)
{
        vs_send_len(tx, buf, cid, op, flags, data, data ? (uint32_t) strlen(data) : 0, fwd);
}

/* Wait for the next packet from the host: its header (copied), payload in
 * *data; re-posts the buffer.  Returns false on timeout. */
static bool vs_recv(struct vq *rx, uint8_t *bufs_, struct vsock_hdr *h, char *data, size_t max)
{
        uint32_t id = 0;
        if (vq_wait(rx, 600000000ull, &id) < 0 || id >= 4)
                return false;
        uint8_t *b = bufs_ + id * VS_BUF;
        memcpy(h, b, sizeof(*h));
        size_t n = h->len < max - 1 ? h->len : max - 1;
        memcpy(data, b + sizeof(*h), n);
        data[n] = 0;
        vq_post(rx, (uint16_t) id);
        return true;
}

/* guest.vsock_listen=PORT: accept the host's connection to PORT (made by
 * CONNECT on the UDS), echo what it sends in upper case, until it closes. */
static void vsock_listen(struct vq *rx, struct vq *tx, uint8_t *rxb, uint8_t *txb, uint64_t cid,
                         uint32_t port)
{
        struct vsock_hdr h;
        static char data[VS_BUF];
        puts_serial("BERTH-GUEST vsock: listening on port ");
        put_dec(port);
        putc_serial('\n');
        for (int tries = 0;; tries++) {
                if (tries > 20) {
                        put_line("BERTH-GUEST vsock: ", "nobody connected");
                        return;
                }
                if (vs_recv(rx, rxb, &h, data, sizeof(data)) && h.op == 1 && h.dst_port == port)
                        break;
        }
        puts_serial("BERTH-GUEST vsock: host connected from port ");
        put_dec(h.src_port);
        putc_serial('\n');
        vs_src = port;
        vs_dst = h.src_port;
        vs_send(tx, txb, cid, 2 /* RESPONSE */, 0, 0, 0);
        /* Echo every RW packet back at once; our fwd_cnt rides on each
         * reply, which is what keeps the host's credit flowing. */
        uint32_t fwd = 0;
        for (int idle = 0; idle < 8;) {
                if (!vs_recv(rx, rxb, &h, data, sizeof(data))) {
                        idle++;
                        continue;
                }
                if (h.op == 5) {
                        uint32_t len = h.len < sizeof(data) - 1 ? h.len : sizeof(data) - 1;
                        fwd += h.len;
                        for (uint32_t i = 0; i < len; i++)
                                if (data[i] >= 'a' && data[i] <= 'z')
                                        data[i] = (char) (data[i] - 32);
                        if (fwd == h.len && len < 64)
                                put_line("BERTH-GUEST vsock: echoed ", data);
                        vs_send_len(tx, txb, cid, 5 /* RW */, 0, data, len, fwd);
                } else if (h.op == 4 || h.op == 3) {
                        if (h.op == 4)
                                vs_send(tx, txb, cid, 3 /* RST */, 0, 0, fwd);
                        puts_serial("BERTH-GUEST vsock: host closed the connection after ");
                        put_dec(fwd);
                        puts_serial(" bytes\n");
                        return;
                }
        }
        put_line("BERTH-GUEST vsock: ", "connection went quiet");
}

/* Connect to host port 1234 (a unix socket the test serves), send a line,
 * read the echo, shut down. */
static void test_vsock(uint64_t base, unsigned idx, const char *cmdline)
{
        struct vq rx, tx;
        if (!dev_negotiate(base, 0) || !queue_setup(&rx, base, 0, idx) ||
            !queue_setup(&tx, base, 1, 8 + idx) || !dev_ready(base)) {
                put_line("BERTH-GUEST vsock: ", "device set-up failed");
                return;
        }
        uint64_t cid = mmio_read32(base + REG_CONFIG) |
                       (uint64_t) mmio_read32(base + REG_CONFIG + 4) << 32;
        puts_serial("BERTH-GUEST vsock: guest cid ");
        put_dec(cid);
        putc_serial('\n');
        uint8_t *rxb = bufs[idx], *txb = bufs[8 + idx];
        for (uint16_t i = 0; i < 4; i++) {
                set_desc(&rx.r->desc[i], rxb + i * VS_BUF, VS_BUF, D_WRITE, 0);
                vq_post(&rx, i);
        }
        struct vsock_hdr h;
        char data[256];
        char lp[16];
        if (cmdline_get(cmdline, "guest.vsock_listen", lp, sizeof(lp))) {
                const char *p = lp;
                vsock_listen(&rx, &tx, rxb, txb, cid, (uint32_t) parse_num(&p));
                return;
        }
        vs_send(&tx, txb, cid, 1 /* REQUEST */, 0, 0, 0);
        if (!vs_recv(&rx, rxb, &h, data, sizeof(data))) {
                put_line("BERTH-GUEST vsock: ", "no answer to REQUEST");
                return;
        }
        put_line("BERTH-GUEST vsock: connect -> ", vs_op_name(h.op));
        if (h.op != 2)
                return;
        if (cmdline_get(cmdline, "guest.vsock_halfclose", lp, sizeof(lp))) {
                /* a request, then shutdown(SHUT_WR): the reply must still arrive */
                vs_send(&tx, txb, cid, 5 /* RW */, 0, "question", 0);
                vs_send(&tx, txb, cid, 4 /* SHUTDOWN */, 2 /* SEND only */, 0, 0);
                char reply[256];
                size_t n = 0;
                const char *end = "nothing";
                for (int i = 0; i < 16; i++) {
                        if (!vs_recv(&rx, rxb, &h, data, sizeof(data)))
                                break;
                        if (h.op == 5 && n + h.len < sizeof(reply)) {
                                memcpy(reply + n, data, h.len);
                                n += h.len;
                        } else if (h.op == 4 || h.op == 3) {
                                end = h.op == 4 ? "SHUTDOWN" : "RST";
                                break;
                        }
                }
                reply[n] = 0;
                put_line("BERTH-GUEST vsock: half-close reply: ", reply);
                put_line("BERTH-GUEST vsock: half-close end: ", end);
                return;
        }
        const char *msg = "ping over vsock";
        vs_send(&tx, txb, cid, 5 /* RW */, 0, msg, 0);
        char echo[256];
        size_t got = 0;
        uint32_t fwd = 0;
        while (got < strlen(msg)) {
                if (!vs_recv(&rx, rxb, &h, data, sizeof(data)))
                        break;
                if (h.op == 5) {
                        memcpy(echo + got, data, h.len);
                        got += h.len;
                        fwd += h.len;
                } else if (h.op != 6) {
                        break;
                }
        }
        echo[got] = 0;
        put_line("BERTH-GUEST vsock: echo: ", echo);
        vs_send(&tx, txb, cid, 4 /* SHUTDOWN */, 3, 0, fwd);
        bool closed = false;
        for (int n = 0; n < 8 && !closed; n++) {
                if (!vs_recv(&rx, rxb, &h, data, sizeof(data)))
                        break;
                closed = h.op == 3;
        }
        put_line("BERTH-GUEST vsock: shutdown -> ", closed ? "RST" : "no RST");
}

#define BAL_FIRST_PFN 0x800 /* 8 MiB: far above the guest's own image */
#define BAL_MAX       2048

static uint32_t bal_target(uint64_t base)
{
        return mmio_read32(base + REG_CONFIG);
}

/* Wait (polling the config space) until the target satisfies want_nonzero. */
static bool bal_wait_target(uint64_t base, bool want_nonzero)
{
        for (int i = 0; i < 6000; i++) {
                uint32_t t = bal_target(base);
                if ((t != 0) == want_nonzero)
                        return true;
                for (volatile int k = 0; k < 200000; k++)
                        __asm__ volatile("pause");
        }
        return false;
}

/* Inflate to the target the host sets through the API, then deflate when
 * it goes back to 0, checking that inflated pages come back zeroed (the
 * host really dropped them). */
static void test_balloon(uint64_t base, unsigned idx)
{
        struct vq inflate, deflate, stats, report;
        if (!dev_negotiate(base, 1ull << 1 /* STATS_VQ */ | 1ull << 5 /* REPORTING */) ||
            !queue_setup(&inflate, base, 0, idx) || !queue_setup(&deflate, base, 1, 8 + idx) ||
            !queue_setup(&stats, base, 2, 16 + idx) || !queue_setup(&report, base, 3, 20) ||
            !dev_ready(base)) {
                put_line("BERTH-GUEST balloon: ", "device set-up failed");
                return;
        }
        /* Statistics: total = the RAM the e820 map gave us, free = above 8 MiB. */
        static struct __attribute__((packed)) {
                uint16_t tag;
                uint64_t val;
        } st[2];
        st[0].tag = 5; /* MEMTOT */
        st[0].val = guest_ram_bytes;
        st[1].tag = 4; /* MEMFREE */
        st[1].val = guest_ram_bytes > (8u << 20) ? guest_ram_bytes - (8u << 20) : 0;
        set_desc(&stats.r->desc[0], st, sizeof(st), 0, 0);
        vq_post(&stats, 0);

        put_line("BERTH-GUEST balloon: ", "waiting for a target");
        if (!bal_wait_target(base, true)) {
                put_line("BERTH-GUEST balloon: ", "no target set");
                return;
        }
        uint32_t n = bal_target(base);
        if (n > BAL_MAX)
                n = BAL_MAX;
        uint32_t *pfns = (uint32_t *) bufs[idx];
        for (uint32_t i = 0; i < n; i++) {
                pfns[i] = BAL_FIRST_PFN + i;
                memset((void *) (uintptr_t) ((uint64_t) pfns[i] << 12), 0xa5, 4096);
        }
        set_desc(&inflate.r->desc[0], pfns, n * 4, 0, 0);
        vq_run(&inflate);
        mmio_write32(base + REG_CONFIG + 4, n); /* actual */
        puts_serial("BERTH-GUEST balloon: inflated ");
        put_dec(n);
        puts_serial(" pages\n");

        if (!bal_wait_target(base, false)) {
                put_line("BERTH-GUEST balloon: ", "target never went back to 0");
                return;
        }
        set_desc(&deflate.r->desc[0], pfns, n * 4, 0, 0);
        vq_run(&deflate);
        mmio_write32(base + REG_CONFIG + 4, 0);
        bool zero = true;
        for (uint32_t i = 0; i < n && zero; i++) {
                const uint64_t *p = (const uint64_t *) (uintptr_t) ((uint64_t) pfns[i] << 12);
                for (int k = 0; k < 512; k++)
                        zero = zero && p[k] == 0;
        }
        puts_serial("BERTH-GUEST balloon: deflated ");
        put_dec(n);
        puts_serial(" pages; they came back ");
        puts_serial(zero ? "zeroed\n" : "with old contents\n");

        /* Free page reporting: 1 MiB at 12 MiB, filled, reported, then it
         * must read as zeroes (the host dropped it). */
        if (!(negotiated & (1ull << 5)))
                return;
        uint8_t *range = (uint8_t *) (uintptr_t) (12u << 20);
        memset(range, 0x77, 1u << 20);
        set_desc(&report.r->desc[0], range, 1u << 20, D_WRITE, 0);
        vq_run(&report);
        bool cleared = true;
        for (uint32_t i = 0; i < (1u << 20) && cleared; i += 4096)
                cleared = range[i] == 0 && range[i + 4095] == 0;
        put_line("BERTH-GUEST balloon: reported 1 MiB free; it reads back ",
                 cleared ? "zeroed" : "unchanged");
}

/* guest.hostile=1: post garbage and check that the VMM survives and flags
 * the device as needing a reset instead of touching memory it must not. */
static void test_hostile(uint64_t base, unsigned idx)
{
        struct vq q;
        if (!vq_init(&q, base, idx, 0))
                return;
        /* A descriptor loop: 0 -> 1 -> 0. */
        set_desc(&q.r->desc[0], bufs[idx], 16, D_NEXT | D_WRITE, 1);
        set_desc(&q.r->desc[1], bufs[idx], 16, D_NEXT | D_WRITE, 0);
        int64_t r = vq_run(&q);
        uint32_t st = mmio_read32(base + REG_STATUS);
        puts_serial("BERTH-GUEST hostile: loop used ");
        put_dec(r < 0 ? 0 : 1);
        puts_serial(" needs-reset ");
        put_dec((st & 0x40) ? 1 : 0);
        putc_serial('\n');
        /* Reset, then a buffer far outside guest RAM. */
        vq_init(&q, base, idx, 0);
        set_desc(&q.r->desc[0], (void *) 0x7ffffff00000ull, 4096, D_WRITE, 0);
        r = vq_run(&q);
        st = mmio_read32(base + REG_STATUS);
        puts_serial("BERTH-GUEST hostile: wild address used ");
        put_dec(r < 0 ? 0 : 1);
        puts_serial(" needs-reset ");
        put_dec((st & 0x40) ? 1 : 0);
        putc_serial('\n');
        /* A reset brings the device back. */
        bool ok = vq_init(&q, base, idx, 0);
        put_line("BERTH-GUEST hostile: after reset ", ok ? "ok" : "broken");
}

void virtio_tests(struct vdev *devs, unsigned n, const char *cmdline)
{
        char *hostile = 0;
        for (const char *p = cmdline; *p; p++)
                if (has_prefix(p, "guest.hostile=1"))
                        hostile = (char *) 1;
        for (unsigned i = 0; i < n && i < 8; i++) {
                if (hostile) {
                        if (devs[i].id == 4)
                                test_hostile(devs[i].base, i);
                        continue;
                }
                switch (devs[i].id) {
                case 1:
                        test_net(devs[i].base, i, cmdline);
                        break;
                case 2:
                        test_blk(devs[i].base, i, cmdline);
                        break;
                case 4:
                        test_rng(devs[i].base, i);
                        break;
                case 19:
                        test_vsock(devs[i].base, i, cmdline);
                        break;
                case 5:
                        test_balloon(devs[i].base, i);
                        break;
                default:
                        break;
                }
        }
}
