/* test_vmm_ratelimit.c — token buckets on a simulated clock. */
#include "tap.h"
#include "vmm/ratelimit.h"

#define MS 1000000ull

int main(void)
{
        struct vmm_bucket b;
        uint64_t wait = 0;
        vmm_bucket_init(&b, 1000, 100, 0); /* 1000/s, burst 100 */
        is_int(b.burst, 100, "burst is 100 ms worth");
        ok(vmm_bucket_take(&b, 60, 0, &wait), "60 of a full bucket");
        ok(!vmm_bucket_take(&b, 60, 0, &wait), "60 more refused at once");
        is_int(wait, 20 * MS + 1, "...and the wait is 20 ms for the 20 missing");
        ok(vmm_bucket_take(&b, 60, 20 * MS + 1, &wait), "granted after the wait");
        ok(!vmm_bucket_take(&b, 1, 20 * MS + 1, &wait), "empty now");
        /* Refill never exceeds the burst. */
        ok(vmm_bucket_take(&b, 100, 10000 * MS, &wait), "full again after a long idle");
        ok(!vmm_bucket_take(&b, 1, 10000 * MS, &wait), "but only the burst's worth");
        /* A request bigger than the burst passes on a full bucket, into debt. */
        vmm_bucket_init(&b, 1000, 100, 0);
        ok(vmm_bucket_take(&b, 500, 0, &wait), "500 > burst passes on a full bucket");
        ok(!vmm_bucket_take(&b, 1, 0, &wait), "then the debt must be paid");
        is_int(wait, 401 * MS + 1, "401 ms to get back to 1 token");
        /* Unlimited. */
        vmm_bucket_init(&b, 0, 100, 0);
        ok(vmm_bucket_take(&b, 1u << 30, 0, &wait), "rate 0 is unlimited");

        struct vmm_limiter l;
        vmm_bucket_init(&l.bytes, 0, 100, 0);
        vmm_bucket_init(&l.ops, 0, 100, 0);
        ok(!vmm_limiter_active(&l), "no limits: inactive");
        vmm_bucket_init(&l.bytes, 1 << 20, 100, vmm_now_ns());
        vmm_bucket_init(&l.ops, 10, 100, vmm_now_ns());
        ok(vmm_limiter_active(&l), "limits: active");
        ok(vmm_limiter_take(&l, 4096, &wait), "one small request");
        ok(!vmm_limiter_take(&l, 4096, &wait), "the ops bucket (burst 1) stops the second");
        ok(wait > 50 * MS && wait <= 101 * MS, "wait is about 100 ms (10 ops/s)");
        ok(l.bytes.tokens > (double) (100000 - 4096 - 1000),
           "nothing taken from bytes when ops refused");
        return tap_done();
}
