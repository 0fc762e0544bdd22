/* test_vmm_migrate_stream.c — the live-migration stream as untrusted input
 * (migrate_stream.h): a stream the sender's encoders write round-trips into
 * RAM and state; every truncation, bad magic, version, RAM size, CPUID
 * count, flipped header byte, record outside RAM, misaligned or oversized
 * run, unknown record, duplicate or oversized state and wrong state
 * checksum is refused with a message naming it; the ack round-trips; the
 * CPUID check refuses missing features and ignores the VMM's own bits;
 * disk records (copy_storage) land in the announced drive and nowhere else.
 * No KVM, no sockets: the stream is a buffer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tap.h"
#include "vmm/migrate_stream.h"
#include "vmm/snapshot_format.h"

#define RAM (2u << 20)

struct out {
        uint8_t *d;
        size_t n;
};

static void put(struct out *o, const void *p, size_t n)
{
        o->d = realloc(o->d, o->n + n);
        memcpy(o->d + o->n, p, n);
        o->n += n;
}

static void rec(struct out *o, uint32_t type, uint32_t pages, uint64_t arg)
{
        uint8_t r[VMM_MIG_REC_SIZE];
        vmm_mig_rec_encode(r, type, pages, arg);
        put(o, r, sizeof(r));
}

static uint32_t header_flags;

static size_t header(struct out *o, uint64_t ram, uint32_t version)
{
        struct vmm_mig_header *h = calloc(1, sizeof(*h));
        h->version = version;
        h->flags = header_flags;
        h->ram_size = ram;
        h->vcpus = 1;
        h->n_cpuid = 2;
        h->cpuid[0] = (struct vmm_mig_cpuid){1, 0, 0, 0, 0x1, 0x2};
        h->cpuid[1] = (struct vmm_mig_cpuid){7, 0, 0, 0x4, 0, 0};
        uint8_t *p;
        size_t n = vmm_mig_header_encode(h, &p);
        put(o, p, n);
        free(p);
        free(h);
        return n;
}

static uint8_t state_bytes[64];

/* header, round 1, a page of 0xaa at 4 KiB, two zero pages, round 2, state, end */
static void good(struct out *o)
{
        memset(o, 0, sizeof(*o));
        header(o, RAM, VMM_MIG_VERSION);
        rec(o, VMM_MIG_REC_ROUND, 0, 1);
        rec(o, VMM_MIG_REC_PAGES, 1, 4096);
        uint8_t page[4096];
        memset(page, 0xaa, sizeof(page));
        put(o, page, sizeof(page));
        rec(o, VMM_MIG_REC_ZERO, 2, 8192);
        rec(o, VMM_MIG_REC_ROUND, 0, 2);
        for (size_t i = 0; i < sizeof(state_bytes); i++)
                state_bytes[i] = (uint8_t) i;
        rec(o, VMM_MIG_REC_STATE, 0, sizeof(state_bytes));
        put(o, state_bytes, sizeof(state_bytes));
        rec(o, VMM_MIG_REC_END, 0,
            vmm_snap_fnv1a(VMM_MIG_FNV_SEED, state_bytes, sizeof(state_bytes)));
}

static uint8_t *ram;

static uint8_t *alloc_ram(void *opaque, uint64_t size, berth_error_t *err)
{
        (void) opaque;
        if (size > (64u << 20)) {
                berth_fail(err, ENOMEM, "test RAM cap");
                return NULL;
        }
        free(ram);
        ram = malloc(size);
        memset(ram, 0x55, size);
        return ram;
}

static int cpuid_refuses(void *opaque, const struct vmm_mig_header *h, berth_error_t *err)
{
        (void) opaque;
        (void) h;
        return berth_fail(err, ENOTSUP, "cpuid says no");
}

/* Receive d[0, n) into sink; the refusal's message into msg. */
static int receive_into(const uint8_t *d, size_t n, const struct vmm_mig_sink *sink,
                        struct vmm_mig_result *res, char *msg, size_t ml)
{
        struct vmm_mig_io io;
        vmm_mig_io_buffer(&io, d, n);
        berth_error_t err = NULL;
        int r = vmm_mig_receive(&io, sink, res, &err);
        msg[0] = 0;
        if (r < 0) {
                snprintf(msg, ml, "%s", berth_error_msg(err));
                berth_error_release(&err);
        }
        return r;
}

static int receive(const uint8_t *d, size_t n, struct vmm_mig_result *res, char *msg, size_t ml,
                   bool refuse_cpuid)
{
        struct vmm_mig_sink sink = {alloc_ram, refuse_cpuid ? cpuid_refuses : NULL, NULL, NULL};
        return receive_into(d, n, &sink, res, msg, ml);
}

static void test_roundtrip(void)
{
        struct out o;
        good(&o);
        struct vmm_mig_result res;
        char msg[512];
        ok(receive(o.d, o.n, &res, msg, sizeof(msg), false) == 0, "a written stream is received");
        ok(res.ram == ram, "into the RAM asked for");
        ok(ram[4096] == 0xaa && ram[8191] == 0xaa, "the page landed at its offset");
        ok(ram[8192] == 0 && ram[16383] == 0, "zero pages are zeroed");
        ok(ram[0] == 0x55 && ram[16384] == 0x55, "nothing else is touched");
        is_int((int) res.pages, 1, "one page counted");
        is_int((int) res.zero_pages, 2, "two zero pages counted");
        is_int((int) res.rounds, 2, "two rounds");
        ok(res.state_len == sizeof(state_bytes) &&
                   memcmp(res.state, state_bytes, sizeof(state_bytes)) == 0,
           "the state bytes come back");
        free(res.state);
        free(o.d);
}

static void test_truncated(void)
{
        struct out o;
        good(&o);
        struct vmm_mig_result res;
        char msg[512];
        int refused = 0, tried = 0;
        /* every cut in the header and the records' heads and tails, a sample inside the
         * page's payload: each try takes a fresh 2 MiB of RAM, slow under ASan */
        for (size_t n = 0; n < o.n; n++) {
                if (n >= 256 && n + 256 <= o.n && n % 61 != 0)
                        continue;
                tried++;
                refused += receive(o.d, n, &res, msg, sizeof(msg), false) < 0;
        }
        is_int(refused, tried, "every truncation is refused");
        receive(o.d, o.n - 1, &res, msg, sizeof(msg), false);
        ok(strstr(msg, "truncated") != NULL, "as truncated");
        free(o.d);
}

static void test_header(void)
{
        struct vmm_mig_result res;
        char msg[512];
        struct out o = {0};
        size_t hl = header(&o, RAM, VMM_MIG_VERSION);
        o.d[0] = 'X';
        ok(receive(o.d, o.n, &res, msg, sizeof(msg), false) < 0 && strstr(msg, "magic"),
           "bad magic refused");
        free(o.d);

        o = (struct out){0};
        header(&o, RAM, 99);
        ok(receive(o.d, o.n, &res, msg, sizeof(msg), false) < 0 && strstr(msg, "version 99"),
           "another version refused by number");
        free(o.d);

        o = (struct out){0};
        header(&o, RAM + 4096, VMM_MIG_VERSION);
        ok(receive(o.d, o.n, &res, msg, sizeof(msg), false) < 0 && strstr(msg, "RAM size"),
           "RAM that is not whole MiB refused");
        free(o.d);

        o = (struct out){0};
        header(&o, 0, VMM_MIG_VERSION);
        ok(receive(o.d, o.n, &res, msg, sizeof(msg), false) < 0, "zero RAM refused");
        free(o.d);

        o = (struct out){0};
        header(&o, 4ull << 40, VMM_MIG_VERSION);
        ok(receive(o.d, o.n, &res, msg, sizeof(msg), false) < 0 && strstr(msg, "RAM size"),
           "4 TiB refused before any allocation");
        free(o.d);

        /* every byte of the header flipped: refused (checksum or a field's check) */
        good(&o);
        int refused = 0;
        for (size_t i = 0; i < hl; i++) {
                o.d[i] ^= 0x40;
                refused += receive(o.d, o.n, &res, msg, sizeof(msg), false) < 0;
                o.d[i] ^= 0x40;
        }
        is_int(refused, (int) hl, "every flipped header byte is refused");
        /* a CPUID count beyond the cap: refused before the checksum is read */
        uint8_t *h = o.d;
        h[28] = 0xff;
        h[29] = 0xff;
        ok(receive(o.d, o.n, &res, msg, sizeof(msg), false) < 0 && strstr(msg, "CPUID"),
           "a huge CPUID count refused by name");
        free(o.d);

        good(&o);
        ok(receive(o.d, o.n, &res, msg, sizeof(msg), true) < 0 && strstr(msg, "cpuid says no"),
           "the sink's CPUID refusal stops the stream");
        free(o.d);

        header_flags = VMM_MIG_FLAG_POSTCOPY;
        good(&o);
        ok(receive(o.d, o.n, &res, msg, sizeof(msg), false) == 0 &&
                   res.flags == VMM_MIG_FLAG_POSTCOPY,
           "the post-copy flag is accepted and reported");
        free(res.state);
        free(o.d);
        header_flags = 4;
        good(&o);
        ok(receive(o.d, o.n, &res, msg, sizeof(msg), false) < 0 && strstr(msg, "unknown features"),
           "an unknown header flag is refused");
        free(o.d);
        header_flags = 0;
}

/* A stream of the good header, then the given records. */
static int records(void (*fill)(struct out *), char *msg, size_t ml)
{
        struct out o = {0};
        header(&o, RAM, VMM_MIG_VERSION);
        fill(&o);
        struct vmm_mig_result res;
        int r = receive(o.d, o.n, &res, msg, ml, false);
        if (r == 0)
                free(res.state);
        free(o.d);
        return r;
}

static void past_end(struct out *o)
{
        rec(o, VMM_MIG_REC_ZERO, 1, RAM);
}
static void straddle(struct out *o)
{
        rec(o, VMM_MIG_REC_ZERO, 2, RAM - 4096);
}
static void wrap(struct out *o)
{
        rec(o, VMM_MIG_REC_ZERO, 1, UINT64_MAX - 4095);
}
static void misaligned(struct out *o)
{
        rec(o, VMM_MIG_REC_PAGES, 1, 100);
}
static void empty_run(struct out *o)
{
        rec(o, VMM_MIG_REC_PAGES, 0, 0);
}
static void long_run(struct out *o)
{
        rec(o, VMM_MIG_REC_ZERO, VMM_MIG_MAX_RUN + 1, 0);
}
static void unknown(struct out *o)
{
        rec(o, 77, 0, 0);
}
static void round_skip(struct out *o)
{
        rec(o, VMM_MIG_REC_ROUND, 0, 3);
}
static void state_twice(struct out *o)
{
        rec(o, VMM_MIG_REC_STATE, 0, sizeof(state_bytes));
        put(o, state_bytes, sizeof(state_bytes));
        rec(o, VMM_MIG_REC_STATE, 0, sizeof(state_bytes));
        put(o, state_bytes, sizeof(state_bytes));
}
static void state_huge(struct out *o)
{
        rec(o, VMM_MIG_REC_STATE, 0, 1ull << 40);
}
static void end_no_state(struct out *o)
{
        rec(o, VMM_MIG_REC_END, 0, 0);
}
static void end_bad_sum(struct out *o)
{
        rec(o, VMM_MIG_REC_STATE, 0, sizeof(state_bytes));
        put(o, state_bytes, sizeof(state_bytes));
        rec(o, VMM_MIG_REC_END, 0, 12345);
}

static void discard_alone(struct out *o)
{
        rec(o, VMM_MIG_REC_DISCARD, 1, 0);
}
static void switch_late(struct out *o)
{
        rec(o, VMM_MIG_REC_STATE, 0, sizeof(state_bytes));
        put(o, state_bytes, sizeof(state_bytes));
        rec(o, VMM_MIG_REC_POSTCOPY, 0, 0);
}
static void discard_outside(struct out *o)
{
        rec(o, VMM_MIG_REC_POSTCOPY, 0, 0);
        rec(o, VMM_MIG_REC_DISCARD, 2, RAM - 4096);
}

/* A pre-copy switching to post-copy: a page sent, then discarded as stale. */
static void test_switch(void)
{
        struct out o = {0};
        header(&o, RAM, VMM_MIG_VERSION);
        rec(&o, VMM_MIG_REC_ROUND, 0, 1);
        rec(&o, VMM_MIG_REC_PAGES, 1, 8192);
        uint8_t page[4096];
        memset(page, 0xcc, sizeof(page));
        put(&o, page, sizeof(page));
        rec(&o, VMM_MIG_REC_POSTCOPY, 0, 0);
        rec(&o, VMM_MIG_REC_DISCARD, 1, 8192);
        rec(&o, VMM_MIG_REC_STATE, 0, sizeof(state_bytes));
        put(&o, state_bytes, sizeof(state_bytes));
        rec(&o, VMM_MIG_REC_END, 0,
            vmm_snap_fnv1a(VMM_MIG_FNV_SEED, state_bytes, sizeof(state_bytes)));
        struct vmm_mig_result res;
        char msg[512];
        ok(receive(o.d, o.n, &res, msg, sizeof(msg), false) == 0 &&
                   (res.flags & VMM_MIG_FLAG_POSTCOPY),
           "a switch to post-copy is received and reported");
        ok(ram[8192] == 0 && ram[12287] == 0, "the discarded page is dropped");
        free(res.state);
        free(o.d);
}

static void test_records(void)
{
        char msg[512];
        ok(records(past_end, msg, sizeof(msg)) < 0 && strstr(msg, "outside"),
           "a page past RAM's end refused");
        ok(records(straddle, msg, sizeof(msg)) < 0 && strstr(msg, "outside"),
           "a run across RAM's end refused");
        ok(records(wrap, msg, sizeof(msg)) < 0, "an offset that wraps refused");
        ok(records(misaligned, msg, sizeof(msg)) < 0, "a misaligned page refused");
        ok(records(empty_run, msg, sizeof(msg)) < 0, "an empty run refused");
        ok(records(long_run, msg, sizeof(msg)) < 0, "a run over the cap refused");
        ok(records(unknown, msg, sizeof(msg)) < 0 && strstr(msg, "unknown migration record"),
           "an unknown record refused by type");
        ok(records(round_skip, msg, sizeof(msg)) < 0 && strstr(msg, "out of order"),
           "rounds out of order refused");
        ok(records(state_twice, msg, sizeof(msg)) < 0 && strstr(msg, "second"),
           "a second state refused");
        ok(records(state_huge, msg, sizeof(msg)) < 0, "a state over the cap refused unallocated");
        ok(records(end_no_state, msg, sizeof(msg)) < 0 && strstr(msg, "without state"),
           "an end without state refused");
        ok(records(end_bad_sum, msg, sizeof(msg)) < 0 && strstr(msg, "checksum"),
           "a state that fails its checksum refused");
        ok(records(discard_alone, msg, sizeof(msg)) < 0 && strstr(msg, "discard outside"),
           "a discard without a post-copy switch refused");
        ok(records(switch_late, msg, sizeof(msg)) < 0 && strstr(msg, "misplaced"),
           "a switch after the state refused");
        ok(records(discard_outside, msg, sizeof(msg)) < 0 && strstr(msg, "outside"),
           "a discard outside RAM refused");
}

/* copy_storage: a fake drive 3 of 1 MiB that the sink writes into. */
static uint8_t disk3[1u << 20];
static unsigned disks_seen;

static int sink_disks(void *opaque, const struct vmm_mig_disk *d, unsigned n, berth_error_t *err)
{
        (void) opaque;
        disks_seen = n;
        if (n != 1 || d[0].index != 3 || d[0].size != sizeof(disk3))
                return berth_fail(err, EINVAL, "unexpected drive list");
        return 0;
}

static int sink_disk_write(void *opaque, uint32_t index, uint64_t off, const uint8_t *data,
                           uint64_t len, berth_error_t *err)
{
        (void) opaque;
        if (index != 3 || off + len > sizeof(disk3))
                return berth_fail(err, EINVAL, "write outside the fake drive");
        if (data)
                memcpy(disk3 + off, data, (size_t) len);
        else
                memset(disk3 + off, 0, (size_t) len);
        return 0;
}

/* header, DISKS (drive 3, 1 MiB), then `body`, then a valid state and end */
static int disk_stream(void (*body)(struct out *), bool with_sink, struct vmm_mig_result *res,
                       char *msg, size_t ml)
{
        struct out o = {0};
        header(&o, RAM, VMM_MIG_VERSION);
        uint8_t *d;
        struct vmm_mig_disk one = {3, sizeof(disk3)};
        size_t n = vmm_mig_disks_encode(&one, 1, &d);
        put(&o, d, n);
        free(d);
        body(&o);
        rec(&o, VMM_MIG_REC_STATE, 0, sizeof(state_bytes));
        put(&o, state_bytes, sizeof(state_bytes));
        rec(&o, VMM_MIG_REC_END, 0,
            vmm_snap_fnv1a(VMM_MIG_FNV_SEED, state_bytes, sizeof(state_bytes)));
        struct vmm_mig_sink sink = {.alloc_ram = alloc_ram,
                                    .disks = with_sink ? sink_disks : NULL,
                                    .disk_write = sink_disk_write};
        int r = receive_into(o.d, o.n, &sink, res, msg, ml);
        if (r == 0)
                free(res->state);
        free(o.d);
        return r;
}

static uint64_t darg(uint64_t index, uint64_t off)
{
        return index << VMM_MIG_DISK_SHIFT | off;
}

static void disk_good(struct out *o)
{
        uint8_t data[1024];
        memset(data, 0xd7, sizeof(data));
        rec(o, VMM_MIG_REC_DISK, 2, darg(3, 4096));
        put(o, data, sizeof(data));
        rec(o, VMM_MIG_REC_DISK_ZERO, 4, darg(3, 65536));
}
static void disk_unknown_drive(struct out *o)
{
        rec(o, VMM_MIG_REC_DISK_ZERO, 1, darg(2, 0));
}
static void disk_past_end(struct out *o)
{
        rec(o, VMM_MIG_REC_DISK_ZERO, 2, darg(3, sizeof(disk3) - 512));
}
static void disk_misaligned(struct out *o)
{
        rec(o, VMM_MIG_REC_DISK_ZERO, 1, darg(3, 100));
}
static void disk_long(struct out *o)
{
        rec(o, VMM_MIG_REC_DISK, VMM_MIG_MAX_DISK_RUN + 1, darg(3, 0));
}
static void disk_list_twice(struct out *o)
{
        uint8_t *d;
        struct vmm_mig_disk one = {3, sizeof(disk3)};
        size_t n = vmm_mig_disks_encode(&one, 1, &d);
        put(o, d, n);
        free(d);
}
static void disk_after_state(struct out *o)
{
        rec(o, VMM_MIG_REC_STATE, 0, sizeof(state_bytes));
        put(o, state_bytes, sizeof(state_bytes));
        rec(o, VMM_MIG_REC_DISK_ZERO, 1, darg(3, 0));
}

static void test_disks(void)
{
        struct vmm_mig_result res;
        char msg[512];
        memset(disk3, 0x11, sizeof(disk3));
        ok(disk_stream(disk_good, true, &res, msg, sizeof(msg)) == 0, "disk records are received");
        is_int((int) disks_seen, 1, "one drive announced");
        ok(disk3[4096] == 0xd7 && disk3[4096 + 1023] == 0xd7 && disk3[4096 + 1024] == 0x11,
           "a data run lands at its offset, no further");
        ok(disk3[65536] == 0 && disk3[65536 + 2047] == 0 && disk3[65536 + 2048] == 0x11,
           "a zero run zeroes its sectors only");
        ok(res.disk_bytes == 1024 && res.disk_zero_bytes == 2048 && res.n_disks == 1,
           "the disk figures are counted");
        ok(disk_stream(disk_good, false, &res, msg, sizeof(msg)) < 0 && strstr(msg, "no target"),
           "a destination without targets refuses a copying source by name");
        ok(disk_stream(disk_unknown_drive, true, &res, msg, sizeof(msg)) < 0 &&
                   strstr(msg, "outside the drive"),
           "a run for a drive never announced refused");
        ok(disk_stream(disk_past_end, true, &res, msg, sizeof(msg)) < 0 &&
                   strstr(msg, "outside the drive"),
           "a run past the drive's end refused");
        ok(disk_stream(disk_misaligned, true, &res, msg, sizeof(msg)) < 0,
           "a run not on a sector refused");
        ok(disk_stream(disk_long, true, &res, msg, sizeof(msg)) < 0, "a run over the cap refused");
        ok(disk_stream(disk_list_twice, true, &res, msg, sizeof(msg)) < 0 &&
                   strstr(msg, "misplaced"),
           "a second drive list refused");
        ok(disk_stream(disk_after_state, true, &res, msg, sizeof(msg)) < 0,
           "disk data after the state refused");
}

static void test_ack(void)
{
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) {
                tap_skip("ack over a socket pair", "socketpair failed");
                return;
        }
        struct vmm_mig_io a, b;
        vmm_mig_io_fd(&a, sv[0]);
        vmm_mig_io_fd(&b, sv[1]);
        berth_error_t err = NULL;
        ok(vmm_mig_ack_send(&a, 0, NULL, &err) == 0 && vmm_mig_ack_read(&b, &err) == 0,
           "an ok ack is read as such");
        ok(vmm_mig_ack_send(&a, EINVAL, "no room\x01", &err) == 0, "a refusal is sent");
        ok(vmm_mig_ack_read(&b, &err) < 0 && strstr(berth_error_msg(err), "no room?"),
           "and read with its (sanitized) message");
        berth_error_release(&err);
        close(sv[0]);
        ok(vmm_mig_ack_read(&b, &err) < 0 && strstr(berth_error_msg(err), "ended early"),
           "a closed stream is no ack");
        berth_error_release(&err);
        close(sv[1]);
}

static void test_cpuid(void)
{
        struct vmm_mig_cpuid src[] = {{1, 0, 0, 0, (1u << 31) | 0x3, (1u << 28) | 0x1},
                                      {7, 0, 0, 0x10, 0, 0}};
        struct vmm_mig_cpuid dst[] = {{1, 0, 0, 0, 0x3, 0x1}, {7, 0, 0, 0x30, 0, 0}};
        berth_error_t err = NULL;
        ok(vmm_mig_cpuid_check(src, 2, dst, 2, &err) == 0,
           "a superset host takes the VM; hypervisor and HTT bits are the VMM's");
        dst[1].ebx = 0x20;
        ok(vmm_mig_cpuid_check(src, 2, dst, 2, &err) < 0 &&
                   strstr(berth_error_msg(err), "0x7.0 ebx bits 0x10"),
           "a missing leaf-7 feature refused by leaf, register and bits");
        berth_error_release(&err);
        ok(vmm_mig_cpuid_check(src, 2, dst, 1, &err) < 0, "a missing leaf refuses its bits");
        berth_error_release(&err);
}

static void test_addresses(void)
{
        berth_error_t err = NULL;
        ok(vmm_mig_connect("udp:1.2.3.4:5", 100, &err) < 0, "udp: refused");
        berth_error_release(&err);
        ok(vmm_mig_connect("tcp:127.0.0.1:0", 100, &err) < 0, "port 0 refused");
        berth_error_release(&err);
        ok(vmm_mig_listen("tcp:nocolon", &err) < 0, "no port refused");
        berth_error_release(&err);
        char path[64];
        snprintf(path, sizeof(path), "/tmp/berth-mig-test-%d.sock", (int) getpid());
        char addr[80];
        snprintf(addr, sizeof(addr), "unix:%s", path);
        int l = vmm_mig_listen(addr, &err);
        ok(l >= 0, "listen on a unix path");
        int c = l >= 0 ? vmm_mig_connect(addr, 1000, &err) : -1;
        ok(c >= 0, "connect to it");
        if (c >= 0)
                close(c);
        if (l >= 0)
                close(l);
        unlink(path);
        berth_error_release(&err);
}

int main(void)
{
        test_roundtrip();
        test_truncated();
        test_header();
        test_records();
        test_switch();
        test_disks();
        test_ack();
        test_cpuid();
        test_addresses();
        free(ram);
        return tap_done();
}
