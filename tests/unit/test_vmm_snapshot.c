/* test_vmm_snapshot.c — the snapshot state file as untrusted input: the
 * container round-trips; every truncation, every flipped byte, another
 * format, a section that overruns the file, and device sections with bad
 * lengths, versions or indexes are refused with a message, never a crash.
 * No KVM: the serial and i8042 loaders are plain data. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmm/snapshot.h"

static int parse(const uint8_t *d, size_t n, char *msg, size_t msglen)
{
        berth_error_t err = NULL;
        struct vmm_snap s;
        int r = vmm_snap_parse(&s, d, n, &err);
        msg[0] = 0;
        if (r < 0) {
                snprintf(msg, msglen, "%s", berth_error_msg(err));
                berth_error_release(&err);
        } else {
                vmm_snap_release(&s);
        }
        return r;
}

static void sample(struct vmm_snap_buf *b)
{
        vmm_snap_buf_init(b);
        vmm_snap_section(b, "alpha", 0, 1);
        vmm_snap_put_u8(b, 0xab);
        vmm_snap_put_u16(b, 0x1234);
        vmm_snap_put_u32(b, 0xdeadbeef);
        vmm_snap_put_u64(b, 0x0102030405060708ull);
        vmm_snap_section(b, "beta", 7, 3);
        vmm_snap_section(b, "gamma", 1, 1);
        vmm_snap_put_bytes(b, "hello", 5);
        vmm_snap_finish(b);
}

static void test_roundtrip(void)
{
        struct vmm_snap_buf b;
        sample(&b);
        berth_error_t err = NULL;
        struct vmm_snap s;
        ok(vmm_snap_parse(&s, b.data, b.len, &err) == 0, "a written file parses");
        is_int(s.n, 3, "three sections");
        const struct vmm_snap_section *a = vmm_snap_find(&s, "alpha", 0);
        ok(a && a->len == 15 && a->version == 1, "alpha: 15 bytes, version 1");
        struct vmm_snap_rd r;
        vmm_snap_rd_init(&r, a);
        ok(vmm_snap_get_u8(&r) == 0xab && vmm_snap_get_u16(&r) == 0x1234 &&
                   vmm_snap_get_u32(&r) == 0xdeadbeef &&
                   vmm_snap_get_u64(&r) == 0x0102030405060708ull,
           "values read back little-endian");
        ok(vmm_snap_rd_end(&r, &err) == 0, "read exactly to the end");
        const struct vmm_snap_section *bt = vmm_snap_find(&s, "beta", 7);
        ok(bt && bt->len == 0 && bt->version == 3, "an empty section keeps instance and version");
        ok(!vmm_snap_find(&s, "beta", 0), "instances are told apart");
        ok(!vmm_snap_need(&s, "delta", 0, &err), "a missing section is an error");
        ok(err && strstr(berth_error_msg(err), "no `delta` state"), "... naming it");
        berth_error_release(&err);
        vmm_snap_rd_init(&r, vmm_snap_find(&s, "gamma", 1));
        (void) vmm_snap_get_u64(&r);
        ok(r.short_read && vmm_snap_rd_end(&r, &err) < 0, "reading past a section is caught");
        ok(err && strstr(berth_error_msg(err), "`gamma` state (instance 1) is malformed"),
           "... and reported by name");
        berth_error_release(&err);
        vmm_snap_release(&s);
        vmm_snap_buf_release(&b);
}

static void test_truncated_and_flipped(void)
{
        struct vmm_snap_buf b;
        sample(&b);
        char msg[256];
        bool all = true;
        for (size_t n = 0; n < b.len; n++)
                all = all && parse(b.data, n, msg, sizeof(msg)) < 0 && msg[0];
        ok(all, "every truncation is refused with a message");
        parse(b.data, b.len - 1, msg, sizeof(msg));
        ok(strstr(msg, "truncated") != NULL, "a truncated file says so");
        all = true;
        for (size_t i = 0; i < b.len; i++)
                for (unsigned bit = 0; bit < 8; bit++) {
                        b.data[i] ^= (uint8_t) (1u << bit);
                        all = all && parse(b.data, b.len, msg, sizeof(msg)) < 0;
                        b.data[i] ^= (uint8_t) (1u << bit);
                }
        ok(all, "every flipped bit is refused");
        b.data[40] ^= 1;
        parse(b.data, b.len, msg, sizeof(msg));
        ok(strstr(msg, "checksum") != NULL, "a flipped data byte fails the checksum");
        b.data[40] ^= 1;
        b.data[8] = 2;
        vmm_snap_reseal(b.data, b.len);
        parse(b.data, b.len, msg, sizeof(msg));
        ok(strstr(msg, "format 2") != NULL, "another format is named");
        b.data[8] = 1;
        memcpy(b.data, "NOTASNAP", 8);
        parse(b.data, b.len, msg, sizeof(msg));
        ok(strstr(msg, "not a berth-vmm snapshot") != NULL, "another file type is named");
        memcpy(b.data, VMM_SNAP_MAGIC, 8);
        /* alpha's length field, made to run past the end, checksum fixed */
        b.data[32 + 24] = 0xff;
        vmm_snap_reseal(b.data, b.len);
        parse(b.data, b.len, msg, sizeof(msg));
        ok(strstr(msg, "do not fit") != NULL, "a section overrunning the file is refused");
        b.data[32 + 24] = 15;
        b.data[12] = 9; /* more sections than there are */
        vmm_snap_reseal(b.data, b.len);
        ok(parse(b.data, b.len, msg, sizeof(msg)) < 0, "a wrong section count is refused");
        b.data[12] = 3;
        vmm_snap_reseal(b.data, b.len);
        ok(parse(b.data, b.len, msg, sizeof(msg)) == 0, "repaired, it parses again");
        /* trailing garbage, length in the header fixed to match */
        uint8_t *big = calloc(1, b.len + 4);
        memcpy(big, b.data, b.len);
        vmm_snap_reseal(big, b.len + 4);
        parse(big, b.len + 4, msg, sizeof(msg));
        ok(strstr(msg, "do not fit") != NULL, "bytes after the last section are refused");
        free(big);
        vmm_snap_buf_release(&b);
}

/* A file with one serial section built by hand. */
static int load_serial(uint32_t version, uint32_t head, uint32_t count, size_t extra, char *msg)
{
        struct vmm_snap_buf b;
        vmm_snap_buf_init(&b);
        vmm_snap_section(&b, "serial", 0, version);
        uint8_t regs[11] = {0};
        vmm_snap_put_bytes(&b, regs, sizeof(regs));
        uint8_t rx[VMM_SERIAL_FIFO] = {0};
        vmm_snap_put_bytes(&b, rx, sizeof(rx));
        vmm_snap_put_u32(&b, head);
        vmm_snap_put_u32(&b, count);
        for (size_t i = 0; i < extra; i++)
                vmm_snap_put_u8(&b, 0);
        vmm_snap_finish(&b);
        struct vmm_snap s;
        berth_error_t err = NULL;
        struct vmm_serial u;
        vmm_serial_init(&u, -1, NULL, NULL);
        int r = vmm_snap_parse(&s, b.data, b.len, &err);
        if (r == 0)
                r = vmm_serial_load(&u, &s, &err);
        msg[0] = 0;
        if (r < 0)
                snprintf(msg, 256, "%s", berth_error_msg(err));
        berth_error_release(&err);
        vmm_snap_release(&s);
        vmm_snap_buf_release(&b);
        return r;
}

static void test_device_sections(void)
{
        char msg[256];
        ok(load_serial(1, 3, 5, 0, msg) == 0, "a good serial section loads");
        ok(load_serial(2, 0, 0, 0, msg) < 0 && strstr(msg, "version 2"),
           "a newer serial state is refused by version");
        ok(load_serial(1, VMM_SERIAL_FIFO, 0, 0, msg) < 0 && strstr(msg, "out of range"),
           "a FIFO head past the FIFO is refused");
        ok(load_serial(1, 0, VMM_SERIAL_FIFO + 1, 0, msg) < 0, "a FIFO count past it too");
        ok(load_serial(1, 0, 0, 1, msg) < 0 && strstr(msg, "malformed"),
           "a serial section of the wrong length is refused");
}

int main(void)
{
        test_roundtrip();
        test_truncated_and_flipped();
        test_device_sections();
        return tap_done();
}
