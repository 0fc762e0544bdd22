/* virtqueue.c — split virtqueue parsing with every guest value checked
 * (see virtqueue.h). */
#include "vmm/virtqueue.h"

#include <string.h>

#define AVAIL_F_NO_INTERRUPT 1
#define INDIRECT_MAX         1024 /* entries in one indirect table */

static int broken(struct virtq *q, const char *why)
{
        q->broken = true;
        q->why_broken = why;
        return -1;
}

int virtq_activate(struct virtq *q, const struct vmm_mem *mem)
{
        uint16_t n = q->s.size;
        q->mem = mem;
        q->broken = false;
        if (n == 0 || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
                return broken(q, "queue size is not a power of 2 within the maximum");
        if ((q->s.desc_gpa & 15) || (q->s.avail_gpa & 1) || (q->s.used_gpa & 3))
                return broken(q, "ring addresses are misaligned");
        q->desc = vmm_mem_ptr(mem, q->s.desc_gpa, (uint64_t) n * sizeof(struct virtq_desc));
        q->avail = vmm_mem_ptr(mem, q->s.avail_gpa, 6 + 2ull * n);
        q->used = vmm_mem_ptr(mem, q->s.used_gpa, 6 + 8ull * n);
        if (!q->desc || !q->avail || !q->used)
                return broken(q, "rings lie outside guest memory");
        return 0;
}

static uint16_t avail_idx(const struct virtq *q)
{
        return __atomic_load_n(&q->avail[1], __ATOMIC_ACQUIRE);
}

static int add_seg(struct virtq *q, struct virtq_elem *e, const struct virtq_desc *d)
{
        bool write = d->flags & VIRTQ_DESC_F_WRITE;
        if (!write && e->n_in)
                return broken(q, "readable descriptor after a writable one");
        if (d->len == 0)
                return 0; /* nothing to map; legal */
        if (e->n_out + e->n_in >= VIRTQ_MAX_SEG)
                return broken(q, "descriptor chain has too many segments");
        void *p = vmm_mem_ptr(q->mem, d->addr, d->len);
        if (!p)
                return broken(q, "descriptor buffer lies outside guest memory");
        e->iov[e->n_out + e->n_in] = (struct iovec){p, d->len};
        if (write) {
                e->n_in++;
                e->in_len += d->len;
        } else {
                e->n_out++;
                e->out_len += d->len;
        }
        return 0;
}

static int walk_indirect(struct virtq *q, struct virtq_elem *e, const struct virtq_desc *id)
{
        if (!q->s.indirect)
                return broken(q, "indirect descriptor without VIRTIO_F_INDIRECT_DESC");
        if (id->flags & VIRTQ_DESC_F_NEXT)
                return broken(q, "indirect descriptor with NEXT set");
        if (id->len == 0 || id->len % sizeof(struct virtq_desc) ||
            id->len / sizeof(struct virtq_desc) > INDIRECT_MAX)
                return broken(q, "indirect table length is invalid");
        unsigned n = id->len / sizeof(struct virtq_desc);
        const struct virtq_desc *t = vmm_mem_ptr(q->mem, id->addr, id->len);
        if (!t)
                return broken(q, "indirect table lies outside guest memory");
        unsigned i = 0;
        for (unsigned count = 0;; count++) {
                struct virtq_desc d;
                if (count >= n)
                        return broken(q, "indirect chain loops");
                memcpy(&d, &t[i], sizeof(d)); /* one read: the guest may change it */
                if (d.flags & VIRTQ_DESC_F_INDIRECT)
                        return broken(q, "nested indirect descriptor");
                if (add_seg(q, e, &d) < 0)
                        return -1;
                if (!(d.flags & VIRTQ_DESC_F_NEXT))
                        return 0;
                if (d.next >= n)
                        return broken(q, "indirect next index out of range");
                i = d.next;
        }
}

int virtq_pop(struct virtq *q, struct virtq_elem *e)
{
        if (q->broken || !q->s.ready)
                return q->broken ? -1 : 0;
        uint16_t n = q->s.size;
        uint16_t idx = avail_idx(q);
        if (idx == q->s.last_avail)
                return 0;
        if ((uint16_t) (idx - q->s.last_avail) > n)
                return broken(q, "avail index ran more than a ring ahead");
        uint16_t head =
                __atomic_load_n(&q->avail[2 + (q->s.last_avail & (n - 1))], __ATOMIC_RELAXED);
        if (head >= n)
                return broken(q, "avail ring entry out of range");
        e->head = head;
        e->n_out = e->n_in = 0;
        e->out_len = e->in_len = 0;
        uint16_t i = head;
        for (unsigned count = 0;; count++) {
                struct virtq_desc d;
                if (count >= n)
                        return broken(q, "descriptor chain loops");
                memcpy(&d, &q->desc[i], sizeof(d));
                if (d.flags & VIRTQ_DESC_F_INDIRECT) {
                        if (walk_indirect(q, e, &d) < 0)
                                return -1;
                        break;
                }
                if (add_seg(q, e, &d) < 0)
                        return -1;
                if (!(d.flags & VIRTQ_DESC_F_NEXT))
                        break;
                if (d.next >= n)
                        return broken(q, "next index out of range");
                i = d.next;
        }
        q->s.last_avail++;
        return 1;
}

void virtq_unpop(struct virtq *q)
{
        q->s.last_avail--;
}

/* While a migration runs (mem.h's dirty): the used ring is written through
 * the pointer taken when the queue was activated, which KVM's dirty log
 * does not see and vmm_mem_ptr marked only then. */
static void used_written(struct virtq *q, const void *p, uint64_t len)
{
        uint64_t *dirty = __atomic_load_n(&q->mem->dirty, __ATOMIC_ACQUIRE);
        if (__builtin_expect(dirty != NULL, 0))
                vmm_mem_mark_dirty(q->mem, dirty,
                                   (uint64_t) ((const uint8_t *) p - (const uint8_t *) q->mem->map),
                                   len);
}

void virtq_push(struct virtq *q, uint16_t head, uint32_t written)
{
        if (q->broken)
                return;
        uint16_t n = q->s.size;
        uint32_t *ring = (uint32_t *) (void *) (q->used + 2);
        uint16_t slot = q->s.used_idx & (n - 1);
        ring[2 * slot] = head;
        ring[2 * slot + 1] = written;
        q->s.used_idx++;
        __atomic_store_n(&q->used[1], q->s.used_idx, __ATOMIC_RELEASE);
        /* the ring's pointer was taken (and marked) at activation: mark what was written */
        used_written(q, &ring[2 * slot], 8);
        used_written(q, &q->used[1], sizeof(q->used[1]));
}

bool virtq_should_notify(struct virtq *q)
{
        if (q->broken)
                return false;
        /* The used idx store must be visible before we read the guest's
         * event index, or both sides may wait for each other. */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        uint16_t old = q->s.signalled_used, new = q->s.used_idx;
        if (old == new)
                return false;
        q->s.signalled_used = new;
        if (!q->s.event_idx)
                return !(__atomic_load_n(&q->avail[0], __ATOMIC_RELAXED) & AVAIL_F_NO_INTERRUPT);
        uint16_t used_event = __atomic_load_n(&q->avail[2 + q->s.size], __ATOMIC_RELAXED);
        return (uint16_t) (new - used_event - 1) < (uint16_t) (new - old);
}

bool virtq_arm_notify(struct virtq *q)
{
        if (q->broken || !q->s.ready)
                return false;
        if (q->s.event_idx) {
                uint16_t *avail_event =
                        (uint16_t *) (void *) ((uint8_t *) (q->used + 2) + 8u * q->s.size);
                __atomic_store_n(avail_event, q->s.last_avail, __ATOMIC_RELAXED);
                used_written(q, avail_event, sizeof(*avail_event));
        }
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        return avail_idx(q) != q->s.last_avail;
}

/* Copy between iov (skipping `skip` bytes) and buf; to_iov picks the way. */
static size_t iov_copy(const struct iovec *iov, unsigned n, size_t skip, uint8_t *buf, size_t len,
                       bool to_iov)
{
        size_t done = 0;
        for (unsigned i = 0; i < n && done < len; i++) {
                if (skip >= iov[i].iov_len) {
                        skip -= iov[i].iov_len;
                        continue;
                }
                size_t c = iov[i].iov_len - skip;
                if (c > len - done)
                        c = len - done;
                uint8_t *seg = (uint8_t *) iov[i].iov_base + skip;
                if (to_iov)
                        memcpy(seg, buf + done, c);
                else
                        memcpy(buf + done, seg, c);
                done += c;
                skip = 0;
        }
        return done;
}

size_t virtq_iov_to_buf(const struct iovec *iov, unsigned n, size_t skip, void *buf, size_t len)
{
        return iov_copy(iov, n, skip, buf, len, false);
}

size_t virtq_buf_to_iov(const struct iovec *iov, unsigned n, size_t skip, const void *buf,
                        size_t len)
{
        /* iov_copy only reads buf in this direction. */
        union {
                const void *c;
                uint8_t *m;
        } u = {.c = buf};
        return iov_copy(iov, n, skip, u.m, len, true);
}
