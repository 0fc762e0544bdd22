/* ratelimit.h — token buckets for device rate limits (bytes and operations
 * per second), as Firecracker's rate limiters.  A bucket holds at most
 * `burst` tokens and refills at `rate` per second; a request larger than
 * the burst is let through when the bucket is full and leaves it in debt,
 * so no request size can stall a device forever. */
#ifndef BERTH_VMM_RATELIMIT_H
#define BERTH_VMM_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct vmm_bucket {
        uint64_t rate;  /* tokens per second; 0 = unlimited */
        uint64_t burst; /* capacity */
        double tokens;
        uint64_t last_ns;
};

struct vmm_limiter {
        struct vmm_bucket bytes, ops;
};

/* A bucket with `rate` per second and a burst of `burst_ms` worth. */
void vmm_bucket_init(struct vmm_bucket *b, uint64_t rate, unsigned burst_ms, uint64_t now_ns);

/* Take n tokens at time now_ns: true, or false with *wait_ns until enough
 * will have accumulated (nothing taken). */
bool vmm_bucket_take(struct vmm_bucket *b, uint64_t n, uint64_t now_ns, uint64_t *wait_ns);

/* Both buckets of a limiter for one request of `bytes`; all or nothing. */
bool vmm_limiter_take(struct vmm_limiter *l, uint64_t bytes, uint64_t *wait_ns);

static inline bool vmm_limiter_active(const struct vmm_limiter *l)
{
        return l->bytes.rate || l->ops.rate;
}

uint64_t vmm_now_ns(void);

#endif
