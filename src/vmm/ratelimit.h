/* ratelimit.h — token buckets for device rate limits (bytes and operations),
 * in the shape of Firecracker's rate limiters: a bucket holds at most `size`
 * tokens, refills from empty to full in `refill_ns`, and may start with a
 * `one_time_burst` of extra tokens that are spent first and never refilled.
 * A request larger than the bucket is let through when the bucket is full
 * and leaves it in debt, so no request size can stall a device forever. */
#ifndef BERTH_VMM_RATELIMIT_H
#define BERTH_VMM_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/vmm.h"

struct vmm_bucket {
        uint64_t size; /* capacity; 0 = unlimited */
        uint64_t refill_ns;
        double tokens;   /* may go negative (debt) */
        double one_time; /* what is left of the one-time burst */
        uint64_t last_ns;
};

struct vmm_limiter {
        struct vmm_bucket bytes, ops;
};

void vmm_bucket_init(struct vmm_bucket *b, const struct vmm_bucket_config *c, uint64_t now_ns);

/* Take n tokens at time now_ns: true, or false with *wait_ns until enough
 * will have accumulated (nothing taken). */
bool vmm_bucket_take(struct vmm_bucket *b, uint64_t n, uint64_t now_ns, uint64_t *wait_ns);

void vmm_limiter_init(struct vmm_limiter *l, const struct vmm_limit_config *c, uint64_t now_ns);

/* Both buckets of a limiter for one request of `bytes`; all or nothing. */
bool vmm_limiter_take(struct vmm_limiter *l, uint64_t bytes, uint64_t *wait_ns);

/* For requests whose size is only known once they are done (a frame read
 * from a tap): admit() says whether one more may start — an operation token
 * is there and the byte bucket is not in debt — or how long to wait; then
 * charge() takes one operation and the bytes it turned out to move, going
 * into debt if need be.  Over any period, no more than the buckets' sizes
 * plus one request beyond the rate gets through. */
bool vmm_limiter_admit(struct vmm_limiter *l, uint64_t now_ns, uint64_t *wait_ns);
void vmm_limiter_charge(struct vmm_limiter *l, uint64_t bytes, uint64_t now_ns);

static inline bool vmm_limiter_active(const struct vmm_limiter *l)
{
        return l->bytes.size || l->ops.size;
}

uint64_t vmm_now_ns(void);

#endif
