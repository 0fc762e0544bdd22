/* test_disk_qcow2.c — the qcow2 driver without qemu: create, write and read
 * back across cluster sizes, copy-on-write over a backing file, zeroes and
 * discard, snapshots (create, apply, delete) leaving a clean check, and the
 * refusals: loops in backing chains, hostile headers. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "disk/disk.h"
#include "disk/qcow2.h"
#include "tap.h"

static char dir[] = "/var/tmp/berth-test-qcow2-XXXXXX";

static char *tmp(const char *name)
{
        return berth_xasprintf("%s/%s", dir, name);
}

static void fill(uint8_t *b, size_t n, unsigned seed)
{
        for (size_t i = 0; i < n; i++)
                b[i] = (uint8_t) (seed * 131 + i * 7 + (i >> 9));
}

static bool is_clean(struct disk *d)
{
        berth_error_t err = NULL;
        struct qcow2_check_result r;
        if (qcow2_check(d, QCOW2_REPAIR_NONE, &r, NULL, &err) < 0) {
                printf("# check: %s\n", berth_error_msg(err));
                berth_error_release(&err);
                return false;
        }
        if (r.leaks || r.corruptions)
                printf("# %llu leaks, %llu corruptions\n", (unsigned long long) r.leaks,
                       (unsigned long long) r.corruptions);
        return r.leaks == 0 && r.corruptions == 0;
}

static void round_trip(unsigned cs)
{
        berth_error_t err = NULL;
        cleanup_free char *p = tmp("rt.qcow2");
        struct disk_create_opts o = {
                .format = DISK_FORMAT_QCOW2, .size = 8 << 20, .cluster_size = cs};
        char name[96];
        snprintf(name, sizeof(name), "create with %u-byte clusters", cs);
        is_int(disk_create(p, &o, &err), 0, name);
        struct disk *d = NULL;
        is_int(disk_open(p, DISK_FORMAT_AUTO, 0, &d, &err), 0, "open it (probed as qcow2)");
        if (d == NULL)
                return;
        static uint8_t w[300000], r[300000];
        fill(w, sizeof(w), cs);
        /* Unaligned, crossing clusters and L2 tables. */
        ok(disk_pwrite(d, w, sizeof(w), 12345, &err) == 0 &&
                   disk_pwrite(d, w, 1000, (8 << 20) - 1000, &err) == 0,
           "unaligned writes, one at the very end");
        ok(disk_pread(d, r, sizeof(r), 12345, &err) == 0 && memcmp(w, r, sizeof(r)) == 0,
           "read back the same bytes");
        ok(disk_pread(d, r, 12345, 0, &err) == 0 && r[0] == 0 && r[12344] == 0,
           "untouched bytes around the write are zero");
        /* Vectored: one run we own (fast path) and one that allocates (slow path). */
        static uint8_t v[8000], rb[8000];
        fill(v, sizeof(v), cs + 1);
        struct iovec wv[3] = {{v, 100}, {v + 100, 5000}, {v + 5100, 2900}};
        struct iovec rv[2] = {{rb, 4000}, {rb + 4000, 4000}};
        ok(disk_pwritev(d, wv, 3, 20000, &err) == 0 && disk_preadv(d, rv, 2, 20000, &err) == 0 &&
                   memcmp(rb, v, 8000) == 0,
           "vectored write and read over allocated clusters");
        memcpy(w + 20000 - 12345, v, 8000); /* now part of what the reopen must see */
        ok(disk_pwritev(d, wv, 3, 5 << 20, &err) == 0 &&
                   disk_preadv(d, rv, 2, 5 << 20, &err) == 0 && memcmp(rb, v, 8000) == 0,
           "vectored write that allocates, read back");
        ok(disk_flush(d, &err) == 0 && is_clean(d), "check is clean after writes");
        disk_close(d);
        ok(disk_open(p, DISK_FORMAT_QCOW2, DISK_RDONLY, &d, &err) == 0 &&
                   disk_pread(d, r, sizeof(r), 12345, &err) == 0 && memcmp(w, r, sizeof(r)) == 0,
           "data survives close and reopen");
        disk_close(d);
        unlink(p);
}

int main(void)
{
        berth_error_t err = NULL;
        ok(mkdtemp(dir) != NULL, "temp dir");
        round_trip(512);
        round_trip(4096);
        round_trip(65536);
        round_trip(2 << 20);

        /* DISK_DIRECT with a probed qcow2: metadata writes must still work. */
        cleanup_free char *dp = tmp("direct.qcow2");
        struct disk_create_opts dopt = {.format = DISK_FORMAT_QCOW2, .size = 1 << 20};
        struct disk *dd = NULL;
        uint8_t dbuf[4096], dback[4096];
        memset(dbuf, 0x42, sizeof(dbuf));
        ok(disk_create(dp, &dopt, &err) == 0 &&
                   disk_open(dp, DISK_FORMAT_AUTO, DISK_DIRECT, &dd, &err) == 0 &&
                   disk_pwrite(dd, dbuf, sizeof(dbuf), 8192, &err) == 0 &&
                   disk_pread(dd, dback, sizeof(dback), 8192, &err) == 0 &&
                   memcmp(dbuf, dback, sizeof(dbuf)) == 0,
           "qcow2 opened with DISK_DIRECT (probed) reads and writes");
        if (err)
                printf("# %s\n", berth_error_msg(err));
        berth_error_release(&err);
        disk_close(dd);
        unlink(dp);

        /* Copy on write over a raw backing file. */
        cleanup_free char *base = tmp("base.raw"), *top = tmp("top.qcow2");
        struct disk_create_opts ro = {.format = DISK_FORMAT_RAW, .size = 1 << 20};
        struct disk *b = NULL, *t = NULL;
        static uint8_t buf[1 << 20], got[1 << 20];
        fill(buf, sizeof(buf), 9);
        ok(disk_create(base, &ro, &err) == 0 &&
                   disk_open(base, DISK_FORMAT_RAW, 0, &b, &err) == 0 &&
                   disk_pwrite(b, buf, sizeof(buf), 0, &err) == 0,
           "raw base with data");
        disk_close(b);
        struct disk_create_opts qo = {
                .format = DISK_FORMAT_QCOW2, .backing = "base.raw", .backing_fmt = DISK_FORMAT_RAW};
        is_int(disk_create(top, &qo, &err), 0, "overlay, size taken from the backing file");
        is_int(disk_open(top, DISK_FORMAT_AUTO, 0, &t, &err), 0, "open overlay");
        if (t) {
                is_int(t->size, 1 << 20, "overlay size is the base's");
                ok(disk_backing(t) != NULL, "backing file opened");
                uint8_t x[100];
                memset(x, 0xee, sizeof(x));
                ok(disk_pwrite(t, x, sizeof(x), 70000, &err) == 0, "small write into the overlay");
                memcpy(buf + 70000, x, sizeof(x));
                ok(disk_pread(t, got, sizeof(got), 0, &err) == 0 &&
                           memcmp(got, buf, sizeof(got)) == 0,
                   "overlay reads base data around the write (copy on write)");
                ok(disk_discard(t, 0, 65536, &err) == 0 &&
                           disk_pread(t, got, 65536, 0, &err) == 0 && got[0] == 0 &&
                           got[65535] == 0,
                   "discard over a backing file reads zeroes, not the base");
                struct disk_extent e;
                ok(disk_block_status(t, 200000, 1000, &e, &err) == 0 && e.depth == 1,
                   "block status reports the backing layer for unwritten ranges");
                ok(is_clean(t), "overlay check clean");

                ok(qcow2_snapshot_create(t, "one", &err) == 0, "snapshot create");
                ok(is_clean(t), "check clean after snapshot");
                memset(x, 0x11, sizeof(x));
                ok(disk_pwrite(t, x, sizeof(x), 70000, &err) == 0, "write after snapshot");
                ok(is_clean(t), "check clean after copy on write of a shared cluster");
                ok(qcow2_snapshot_create(t, "one", &err) < 0, "duplicate snapshot name refused");
                berth_error_release(&err);
                ok(qcow2_snapshot_apply(t, "one", &err) == 0 &&
                           disk_pread(t, got, sizeof(got), 0, &err) == 0 &&
                           memcmp(got + 65536, buf + 65536, sizeof(got) - 65536) == 0,
                   "apply brings the old content back");
                ok(is_clean(t), "check clean after apply");
                ok(qcow2_snapshot_delete(t, "one", &err) == 0 && is_clean(t),
                   "delete leaves a clean image");
                ok(qcow2_snapshot_delete(t, "nope", &err) < 0 && err->errnum == ENOENT,
                   "deleting a missing snapshot says so");
                berth_error_release(&err);
                disk_close(t);
        }

        /* A backing chain that loops. */
        cleanup_free char *la = tmp("loop-a.qcow2"), *lb = tmp("loop-b.qcow2");
        struct disk_create_opts plain = {.format = DISK_FORMAT_QCOW2, .size = 1 << 20};
        ok(disk_create(la, &plain, &err) == 0 && disk_create(lb, &plain, &err) == 0, "two images");
        struct disk *x = NULL;
        ok(disk_open(la, DISK_FORMAT_QCOW2, DISK_NO_BACKING, &x, &err) == 0 &&
                   qcow2_set_backing(x, "loop-b.qcow2", "qcow2", &err) == 0,
           "a -> b");
        disk_close(x);
        ok(disk_open(lb, DISK_FORMAT_QCOW2, DISK_NO_BACKING, &x, &err) == 0 &&
                   qcow2_set_backing(x, "loop-a.qcow2", "qcow2", &err) == 0,
           "b -> a");
        disk_close(x);
        x = NULL;
        is_int(disk_open(la, DISK_FORMAT_AUTO, DISK_RDONLY, &x, &err), -1, "loop refused");
        ok(err && err->errnum == ELOOP && strstr(berth_error_msg(err), "loops"),
           "with a message naming the loop");
        berth_error_release(&err);

        /* Hostile headers: each is refused with a clear error, never a crash. */
        cleanup_free char *h = tmp("hostile.qcow2");
        struct {
                unsigned off, len;
                uint64_t val;
                const char *what, *msg;
        } cases[] = {
                {20, 4, 30, "cluster_bits 30", "cluster size"},
                {36, 4, 0x10000000, "L1 of 2^28 entries", "L1 table"},
                {72, 8, 1ull << 40, "unknown incompatible feature", "unsupported incompatible"},
                {4, 4, 4, "version 4", "version 4"},
                {48, 8, 12345, "unaligned refcount table", "refcount table"},
                {32, 4, 1, "encryption", "encrypted"},
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                ok(disk_create(h, &plain, &err) == 0, "fresh image");
                int fd = open(h, O_WRONLY);
                uint8_t v[8];
                for (unsigned k = 0; k < cases[i].len; k++)
                        v[k] = (uint8_t) (cases[i].val >> (8 * (cases[i].len - 1 - k)));
                ok(fd >= 0 && pwrite(fd, v, cases[i].len, cases[i].off) == (ssize_t) cases[i].len,
                   cases[i].what);
                close(fd);
                x = NULL;
                is_int(disk_open(h, DISK_FORMAT_QCOW2, 0, &x, &err), -1, "refused");
                ok(err && strstr(berth_error_msg(err), cases[i].msg), cases[i].msg);
                if (err && !strstr(berth_error_msg(err), cases[i].msg))
                        printf("#   message: %s\n", berth_error_msg(err));
                berth_error_release(&err);
        }
        const char *names[] = {"rt.qcow2",     "base.raw",     "top.qcow2",
                               "loop-a.qcow2", "loop-b.qcow2", "hostile.qcow2"};
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                cleanup_free char *p = tmp(names[i]);
                unlink(p);
        }
        rmdir(dir);
        return tap_done();
}
