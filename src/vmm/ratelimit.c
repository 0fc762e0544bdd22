/* ratelimit.c — token buckets (see ratelimit.h). */
#include "vmm/ratelimit.h"

#include <time.h>

uint64_t vmm_now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000ull + (uint64_t) ts.tv_nsec;
}

void vmm_bucket_init(struct vmm_bucket *b, const struct vmm_bucket_config *c, uint64_t now_ns)
{
        /* Firecracker's rule: a zero size or refill time means no limit. */
        bool on = c && c->size && c->refill_ns;
        b->size = on ? c->size : 0;
        b->refill_ns = on ? c->refill_ns : 0;
        b->tokens = (double) b->size;
        b->one_time = on ? (double) c->one_time_burst : 0;
        b->last_ns = now_ns;
}

static void refill(struct vmm_bucket *b, uint64_t now_ns)
{
        if (now_ns > b->last_ns) {
                b->tokens +=
                        (double) (now_ns - b->last_ns) * (double) b->size / (double) b->refill_ns;
                if (b->tokens > (double) b->size)
                        b->tokens = (double) b->size;
        }
        b->last_ns = now_ns;
}

/* Tokens needed before n may go: n, or the whole bucket for a bigger n. */
static double needed(const struct vmm_bucket *b, uint64_t n)
{
        return (double) (n < b->size ? n : b->size);
}

static uint64_t wait_for(const struct vmm_bucket *b, double want)
{
        double missing = want - b->tokens - b->one_time;
        return missing <= 0 ? 0
                            : (uint64_t) (missing * (double) b->refill_ns / (double) b->size) + 1;
}

/* Spend n, the one-time burst first; the rest may take tokens into debt. */
static void spend(struct vmm_bucket *b, double n)
{
        double from_burst = n < b->one_time ? n : b->one_time;
        b->one_time -= from_burst;
        b->tokens -= n - from_burst;
}

bool vmm_bucket_take(struct vmm_bucket *b, uint64_t n, uint64_t now_ns, uint64_t *wait_ns)
{
        if (!b->size)
                return true;
        refill(b, now_ns);
        uint64_t w = wait_for(b, needed(b, n));
        if (w) {
                *wait_ns = w;
                return false;
        }
        spend(b, (double) n);
        return true;
}

void vmm_limiter_init(struct vmm_limiter *l, const struct vmm_limit_config *c, uint64_t now_ns)
{
        vmm_bucket_init(&l->bytes, c ? &c->bandwidth : NULL, now_ns);
        vmm_bucket_init(&l->ops, c ? &c->ops : NULL, now_ns);
}

/* How long until the bucket holds `want` (0: it does); 0 when unlimited. */
static uint64_t wait_refilled(struct vmm_bucket *b, double want, uint64_t now_ns)
{
        if (!b->size)
                return 0;
        refill(b, now_ns);
        return wait_for(b, want);
}

static bool check(struct vmm_limiter *l, double bytes, uint64_t now, uint64_t *wait_ns)
{
        uint64_t wb = wait_refilled(&l->bytes, bytes, now);
        uint64_t wo = wait_refilled(&l->ops, needed(&l->ops, 1), now);
        if (wb || wo) {
                *wait_ns = wb > wo ? wb : wo;
                return false;
        }
        return true;
}

bool vmm_limiter_take(struct vmm_limiter *l, uint64_t bytes, uint64_t *wait_ns)
{
        if (!vmm_limiter_active(l))
                return true;
        /* Check both before taking from either: all or nothing. */
        uint64_t now = vmm_now_ns();
        if (!check(l, needed(&l->bytes, bytes), now, wait_ns))
                return false;
        vmm_limiter_charge(l, bytes, now);
        return true;
}

bool vmm_limiter_admit(struct vmm_limiter *l, uint64_t now_ns, uint64_t *wait_ns)
{
        /* "Not in debt" is asked as "at least one byte's token". */
        return !vmm_limiter_active(l) || check(l, needed(&l->bytes, 1), now_ns, wait_ns);
}

void vmm_limiter_charge(struct vmm_limiter *l, uint64_t bytes, uint64_t now_ns)
{
        if (l->bytes.size) {
                refill(&l->bytes, now_ns);
                spend(&l->bytes, (double) bytes);
        }
        if (l->ops.size) {
                refill(&l->ops, now_ns);
                spend(&l->ops, 1);
        }
}

void vmm_bucket_per_second(struct vmm_bucket_config *b, uint64_t rate)
{
        /* 100 ms worth, or one token for rates under 10/s, refilled at the rate. */
        *b = (struct vmm_bucket_config){0};
        if (!rate)
                return;
        b->size = rate / 10 ? rate / 10 : 1;
        /* In double: size * 1e9 overflows 64 bits for rates above ~2^34/s. */
        b->refill_ns = (uint64_t) ((double) b->size * 1e9 / (double) rate);
}
