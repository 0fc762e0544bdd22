/* test_vmm_ratelimit.c — token buckets on a simulated clock: Firecracker's
 * bucket shape (size, refill time, one-time burst), the command line's
 * per-second rates, and the admit/charge accounting virtio-net's receive
 * path uses (frames whose size is known only after reading them). */
#include "tap.h"
#include "vmm/ratelimit.h"

#define MS 1000000ull

static struct vmm_bucket_config cfg(uint64_t size, uint64_t refill_ms, uint64_t once)
{
        return (struct vmm_bucket_config){size, once, refill_ms * MS};
}

static void test_bucket(void)
{
        struct vmm_bucket b;
        uint64_t wait = 0;
        struct vmm_bucket_config c = cfg(100, 100, 0); /* 1000/s, holds 100 */
        vmm_bucket_init(&b, &c, 0);
        ok(vmm_bucket_take(&b, 60, 0, &wait), "60 of a full bucket");
        ok(!vmm_bucket_take(&b, 60, 0, &wait), "60 more refused at once");
        is_int(wait, 20 * MS + 1, "...and the wait is 20 ms for the 20 missing");
        ok(vmm_bucket_take(&b, 60, 20 * MS + 1, &wait), "granted after the wait");
        ok(!vmm_bucket_take(&b, 1, 20 * MS + 1, &wait), "empty now");
        ok(vmm_bucket_take(&b, 100, 10000 * MS, &wait), "full again after a long idle");
        ok(!vmm_bucket_take(&b, 1, 10000 * MS, &wait), "but only the bucket's size");
        vmm_bucket_init(&b, &c, 0);
        ok(vmm_bucket_take(&b, 500, 0, &wait), "500 > size passes on a full bucket");
        ok(!vmm_bucket_take(&b, 1, 0, &wait), "then the debt must be paid");
        is_int(wait, 401 * MS + 1, "401 ms to get back to 1 token");

        /* One-time burst: spent first, never refilled. */
        c = cfg(10, 1000, 50);
        vmm_bucket_init(&b, &c, 0);
        ok(vmm_bucket_take(&b, 55, 0, &wait), "size + one-time burst at once");
        ok(!vmm_bucket_take(&b, 6, 0, &wait), "and no more");
        ok(vmm_bucket_take(&b, 5, 0, &wait), "5 left of the bucket itself");
        ok(vmm_bucket_take(&b, 10, 10000 * MS, &wait) && !vmm_bucket_take(&b, 1, 10000 * MS, &wait),
           "after a long idle only the size: the burst is gone");

        /* Unlimited: Firecracker's zero size or zero refill time. */
        c = cfg(0, 100, 0);
        vmm_bucket_init(&b, &c, 0);
        ok(vmm_bucket_take(&b, 1u << 30, 0, &wait), "size 0 is unlimited");
        c = cfg(100, 0, 0);
        vmm_bucket_init(&b, &c, 0);
        ok(vmm_bucket_take(&b, 1u << 30, 0, &wait), "refill_time 0 is unlimited");
}

static void test_per_second(void)
{
        struct vmm_bucket_config c;
        vmm_bucket_per_second(&c, 1000);
        ok(c.size == 100 && c.refill_ns == 100 * MS, "1000/s: 100 tokens per 100 ms");
        vmm_bucket_per_second(&c, 5);
        ok(c.size == 1 && c.refill_ns == 200 * MS, "5/s: 1 token per 200 ms (not 10/s)");
        vmm_bucket_per_second(&c, 1 << 20);
        double rate = (double) c.size * 1e9 / (double) c.refill_ns;
        ok(c.size == 104857 && rate > 1048575.9 && rate < 1048576.1, "1 MiB/s stays 1 MiB/s");
        vmm_bucket_per_second(&c, 1ull << 40);
        rate = (double) c.size * 1e9 / (double) c.refill_ns;
        ok(rate > 0.999 * (double) (1ull << 40) && rate < 1.001 * (double) (1ull << 40),
           "2^40/s: no overflow in the refill time");
        vmm_bucket_per_second(&c, 0);
        ok(c.size == 0, "0: no limit");
}

static void test_limiter(void)
{
        struct vmm_limiter l;
        uint64_t wait = 0;
        vmm_limiter_init(&l, NULL, 0);
        ok(!vmm_limiter_active(&l), "no limits: inactive");
        ok(vmm_limiter_admit(&l, 0, &wait), "inactive admits");
        struct vmm_limit_config lc = {0};
        vmm_bucket_per_second(&lc.bandwidth, 1 << 20);
        vmm_bucket_per_second(&lc.ops, 10);
        vmm_limiter_init(&l, &lc, vmm_now_ns());
        ok(vmm_limiter_active(&l), "limits: active");
        ok(vmm_limiter_take(&l, 4096, &wait), "one small request");
        ok(!vmm_limiter_take(&l, 4096, &wait), "the ops bucket (1 token) stops the second");
        ok(wait > 50 * MS && wait <= 101 * MS, "wait is about 100 ms (10 ops/s)");
        ok(l.bytes.tokens > (double) (104857 - 4096 - 1000),
           "nothing taken from bytes when ops refused");
}

/* Receive: a stream of 1500-byte frames admitted as fast as the limiter
 * allows over 10 simulated seconds; count what got through. */
static void test_admit_charge(void)
{
        struct vmm_limiter l;
        uint64_t wait = 0;
        struct vmm_limit_config lc = {0};
        lc.bandwidth = cfg(10000, 100, 0); /* 100 kB/s */
        vmm_limiter_init(&l, &lc, 0);
        ok(vmm_limiter_admit(&l, 0, &wait), "a full bucket admits");
        vmm_limiter_charge(&l, 64000, 0);
        ok(!vmm_limiter_admit(&l, 0, &wait), "a frame beyond the bucket leaves it in debt");
        is_int(wait, 540010001, "540.01 ms to repay 54000 bytes and get one at 100 kB/s");
        ok(vmm_limiter_admit(&l, 540010001, &wait), "admitted once repaid");

        vmm_limiter_init(&l, &lc, 0);
        uint64_t now = 0, bytes = 0, frames = 0, waits = 0, long_waits = 0;
        while (now < 10000 * MS) {
                if (vmm_limiter_admit(&l, now, &wait)) {
                        vmm_limiter_charge(&l, 1500, now);
                        bytes += 1500;
                        frames++;
                } else {
                        long_waits += wait == 0 || wait > 16 * MS;
                        now += wait ? wait : 1;
                        waits++;
                }
        }
        /* 10 s at 100 kB/s plus the bucket plus one frame at most. */
        ok(bytes <= 1000000 + 10000 + 1500, "no more than the rate allows");
        ok(bytes >= 1000000 - 1500, "and no less: the limiter does not starve");
        ok(waits >= frames - 8, "nearly every frame waited");
        is_int(long_waits, 0, "each wait 0 < w <= 16 ms (one 1500-byte frame's worth)");

        /* Frames per second alone. */
        struct vmm_limit_config pc = {0};
        vmm_bucket_per_second(&pc.ops, 50);
        vmm_limiter_init(&l, &pc, 0);
        frames = 0;
        for (now = 0; now < 2000 * MS;) {
                if (vmm_limiter_admit(&l, now, &wait)) {
                        vmm_limiter_charge(&l, 60000, now);
                        frames++;
                } else {
                        now += wait;
                }
        }
        ok(frames >= 100 && frames <= 106, "50 frames/s for 2 s: 100 (+ the 5-frame bucket)");
}

int main(void)
{
        test_bucket();
        test_per_second();
        test_limiter();
        test_admit_charge();
        return tap_done();
}
