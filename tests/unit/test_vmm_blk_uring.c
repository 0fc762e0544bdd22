/* test_vmm_blk_uring.c — virtio-blk's io_uring engine on a temporary file:
 * a batch of writes, a flush that follows them, reads of what they wrote,
 * a read past the end (short), completions reported by tag. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "vmm/blk_uring.h"

static int results[8];
static unsigned completions;

static void done(void *ctx, unsigned tag, int res)
{
        (void) ctx;
        results[tag] = res;
        completions++;
}

int main(void)
{
        char path[] = "/tmp/berth-uring-XXXXXX";
        int fd = mkstemp(path);
        if (fd < 0)
                return 1;
        unlink(path);
        berth_error_t err = NULL;
        struct blk_uring *u = blk_uring_new(fd, 8, &err);
        if (!u) {
                tap_skip("io_uring engine", berth_error_msg(err));
                berth_error_release(&err);
                close(fd);
                return tap_done();
        }
        static char a[4096], b[4096], c[4096], d[4096];
        memset(a, 'a', sizeof(a));
        memset(b, 'b', sizeof(b));
        struct iovec wa = {a, sizeof(a)}, wb[2] = {{b, 1000}, {b + 1000, 3096}};
        blk_uring_queue(u, BLK_URING_WRITE, 3, &wa, 1, 0);
        blk_uring_queue(u, BLK_URING_WRITE, 5, wb, 2, 4096);
        blk_uring_queue(u, BLK_URING_FLUSH, 7, NULL, 0, 0);
        is_int(blk_uring_run(u, done, NULL), 3, "three operations ran");
        ok(completions == 3 && results[3] == 4096 && results[5] == 4096 && results[7] == 0,
           "writes report their bytes (tag by tag), the flush 0");

        struct iovec rc = {c, sizeof(c)}, rd = {d, sizeof(d)};
        blk_uring_queue(u, BLK_URING_READ, 0, &rc, 1, 4096);
        blk_uring_queue(u, BLK_URING_READ, 1, &rd, 1, 6000);
        completions = 0;
        is_int(blk_uring_run(u, done, NULL), 2, "two reads ran");
        ok(results[0] == 4096 && memcmp(c, b, sizeof(c)) == 0, "read back what was written");
        is_int(results[1], 8192 - 6000, "a read running past the end is short");
        is_int(blk_uring_run(u, done, NULL), 0, "nothing queued: nothing to wait for");

        blk_uring_free(u);
        /* A bad descriptor fails per operation, not the ring. */
        u = blk_uring_new(-1, 8, &err);
        ok(u != NULL, "a ring on a bad fd");
        if (u) {
                blk_uring_queue(u, BLK_URING_READ, 2, &rc, 1, 0);
                ok(blk_uring_run(u, done, NULL) == 1 && results[2] < 0,
                   "its read completes with -errno");
                blk_uring_free(u);
        }
        close(fd);
        return tap_done();
}
