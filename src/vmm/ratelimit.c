/* ratelimit.c — token buckets (see ratelimit.h). */
#include "vmm/ratelimit.h"

#include <time.h>

uint64_t vmm_now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

void vmm_bucket_init(struct vmm_bucket *b, uint64_t rate, unsigned burst_ms, uint64_t now_ns)
{
        b->rate = rate;
        b->burst = rate * burst_ms / 1000;
        if (rate && b->burst == 0)
                b->burst = 1;
        b->tokens = (double) b->burst;
        b->last_ns = now_ns;
}

static void refill(struct vmm_bucket *b, uint64_t now_ns)
{
        if (now_ns > b->last_ns) {
                b->tokens += (double) (now_ns - b->last_ns) * (double) b->rate / 1e9;
                if (b->tokens > (double) b->burst)
                        b->tokens = (double) b->burst;
        }
        b->last_ns = now_ns;
}

/* Tokens needed before n may go: n, or the whole burst for a bigger n. */
static double needed(const struct vmm_bucket *b, uint64_t n)
{
        return (double) (n < b->burst ? n : b->burst);
}

static uint64_t wait_for(const struct vmm_bucket *b, uint64_t n)
{
        double missing = needed(b, n) - b->tokens;
        return missing <= 0 ? 0 : (uint64_t) (missing * 1e9 / (double) b->rate) + 1;
}

bool vmm_bucket_take(struct vmm_bucket *b, uint64_t n, uint64_t now_ns, uint64_t *wait_ns)
{
        if (!b->rate)
                return true;
        refill(b, now_ns);
        if (b->tokens >= needed(b, n)) {
                b->tokens -= (double) n; /* may go into debt for n > burst */
                return true;
        }
        *wait_ns = wait_for(b, n);
        return false;
}

bool vmm_limiter_take(struct vmm_limiter *l, uint64_t bytes, uint64_t *wait_ns)
{
        if (!vmm_limiter_active(l))
                return true;
        uint64_t now = vmm_now_ns();
        if (l->bytes.rate)
                refill(&l->bytes, now);
        if (l->ops.rate)
                refill(&l->ops, now);
        /* Check both before taking from either: all or nothing. */
        uint64_t wb = l->bytes.rate && l->bytes.tokens < needed(&l->bytes, bytes)
                              ? wait_for(&l->bytes, bytes)
                              : 0;
        uint64_t wo = l->ops.rate && l->ops.tokens < needed(&l->ops, 1) ? wait_for(&l->ops, 1) : 0;
        if (wb || wo) {
                *wait_ns = wb > wo ? wb : wo;
                return false;
        }
        if (l->bytes.rate)
                l->bytes.tokens -= (double) bytes;
        if (l->ops.rate)
                l->ops.tokens -= 1;
        return true;
}
