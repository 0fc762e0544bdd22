/* test_vmm_virtqueue.c — split virtqueue parsing against well-formed and
 * hostile rings: chains, indirect tables, loops, out-of-range indices and
 * addresses, EVENT_IDX notification rules. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmm/virtqueue.h"

#define MEM   (1u << 20)
#define DESC  0x1000
#define AVAIL 0x2000
#define USED  0x3000
#define N     8

static struct vmm_mem mem;
static struct virtq q;

static struct virtq_desc *desc(unsigned i)
{
        return (struct virtq_desc *) (void *) (mem.regions[0].hva + DESC) + i;
}
static uint16_t *avail(void)
{
        return (uint16_t *) (void *) (mem.regions[0].hva + AVAIL);
}
static uint16_t *used(void)
{
        return (uint16_t *) (void *) (mem.regions[0].hva + USED);
}

static void reset(bool event_idx, bool indirect)
{
        memset(mem.map, 0, MEM);
        memset(&q, 0, sizeof(q));
        q.s = (struct virtq_state){.size = N,
                                   .ready = true,
                                   .desc_gpa = DESC,
                                   .avail_gpa = AVAIL,
                                   .used_gpa = USED,
                                   .event_idx = event_idx,
                                   .indirect = indirect};
        virtq_activate(&q, &mem);
}

static void post(uint16_t head)
{
        avail()[2 + (avail()[1] % N)] = head;
        avail()[1]++;
}

static void set(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
        *desc(i) = (struct virtq_desc){addr, len, flags, next};
}

int main(void)
{
        static struct virtq_elem e;
        mem.map = calloc(1, MEM);
        vmm_mem_layout(&mem, MEM);

        reset(false, false);
        ok(!q.broken, "queue activates");
        is_int(virtq_pop(&q, &e), 0, "empty ring pops nothing");
        set(0, 0x10000, 16, VIRTQ_DESC_F_NEXT, 1);
        set(1, 0x11000, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
        set(2, 0x12000, 1, VIRTQ_DESC_F_WRITE, 0);
        post(0);
        is_int(virtq_pop(&q, &e), 1, "a three-descriptor chain pops");
        is_int(e.n_out, 1, "one readable segment");
        is_int(e.n_in, 2, "two writable segments");
        is_int(e.in_len, 513, "writable length");
        ok(e.iov[1].iov_base == mem.regions[0].hva + 0x11000, "host address of segment 2");
        virtq_push(&q, e.head, 513);
        is_int(used()[1], 1, "used idx advanced");
        is_int(((uint32_t *) (void *) (used() + 2))[1], 513, "used length recorded");
        ok(virtq_should_notify(&q), "interrupt wanted without EVENT_IDX");
        avail()[0] = 1; /* NO_INTERRUPT */
        post(2);
        virtq_pop(&q, &e);
        virtq_push(&q, e.head, 1);
        ok(!virtq_should_notify(&q), "NO_INTERRUPT honoured");

        reset(false, false);
        set(0, 0x10000, 16, VIRTQ_DESC_F_NEXT, 1);
        set(1, 0x10000, 16, VIRTQ_DESC_F_NEXT, 0);
        post(0);
        is_int(virtq_pop(&q, &e), -1, "descriptor loop detected");
        ok(q.broken, "queue marked broken");
        is_int(virtq_pop(&q, &e), -1, "broken queue stays broken");

        reset(false, false);
        post(N);
        is_int(virtq_pop(&q, &e), -1, "head index out of range refused");

        reset(false, false);
        set(0, 0x10000, 16, VIRTQ_DESC_F_NEXT, N + 3);
        post(0);
        is_int(virtq_pop(&q, &e), -1, "next index out of range refused");

        reset(false, false);
        set(0, MEM - 8, 16, 0, 0);
        post(0);
        is_int(virtq_pop(&q, &e), -1, "buffer straddling the end of RAM refused");

        reset(false, false);
        set(0, UINT64_MAX - 4, 16, 0, 0);
        post(0);
        is_int(virtq_pop(&q, &e), -1, "wrapping buffer address refused");

        reset(false, false);
        set(0, 0x10000, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
        set(1, 0x11000, 16, 0, 0);
        post(0);
        is_int(virtq_pop(&q, &e), -1, "readable after writable refused");

        reset(false, false);
        avail()[1] = N + 1;
        is_int(virtq_pop(&q, &e), -1, "avail idx more than a ring ahead refused");

        reset(false, false);
        q.s.desc_gpa = MEM - 16;
        ok(virtq_activate(&q, &mem) < 0, "ring outside RAM refused at activation");
        q.s.desc_gpa = DESC;
        q.s.size = 6;
        ok(virtq_activate(&q, &mem) < 0, "size not a power of 2 refused");

        /* Indirect. */
        reset(false, true);
        struct virtq_desc *t = (struct virtq_desc *) (void *) (mem.regions[0].hva + 0x20000);
        t[0] = (struct virtq_desc){0x10000, 16, VIRTQ_DESC_F_NEXT, 1};
        t[1] = (struct virtq_desc){0x11000, 100, VIRTQ_DESC_F_WRITE, 0};
        set(0, 0x20000, 2 * sizeof(struct virtq_desc), VIRTQ_DESC_F_INDIRECT, 0);
        post(0);
        is_int(virtq_pop(&q, &e), 1, "indirect chain pops");
        ok(e.n_out == 1 && e.n_in == 1 && e.in_len == 100, "indirect segments");
        t[1].flags = VIRTQ_DESC_F_NEXT;
        t[1].next = 0;
        post(0);
        is_int(virtq_pop(&q, &e), -1, "indirect loop detected");
        reset(false, false);
        set(0, 0x20000, 32, VIRTQ_DESC_F_INDIRECT, 0);
        post(0);
        is_int(virtq_pop(&q, &e), -1, "indirect without the feature refused");
        reset(false, true);
        set(0, 0x20000, 24, VIRTQ_DESC_F_INDIRECT, 0);
        post(0);
        is_int(virtq_pop(&q, &e), -1, "indirect length not a multiple of 16 refused");
        reset(false, true);
        t[0] = (struct virtq_desc){0x20000, 16, VIRTQ_DESC_F_INDIRECT, 0};
        set(0, 0x20000, 16, VIRTQ_DESC_F_INDIRECT, 0);
        post(0);
        is_int(virtq_pop(&q, &e), -1, "nested indirect refused");

        /* EVENT_IDX: interrupt only when used idx passes used_event. */
        reset(true, false);
        set(0, 0x10000, 16, VIRTQ_DESC_F_WRITE, 0);
        avail()[2 + N] = 1; /* used_event: interrupt after the 2nd buffer */
        post(0);
        post(0);
        virtq_pop(&q, &e);
        virtq_push(&q, e.head, 0);
        ok(!virtq_should_notify(&q), "EVENT_IDX: no interrupt before used_event");
        virtq_pop(&q, &e);
        virtq_push(&q, e.head, 0);
        ok(virtq_should_notify(&q), "EVENT_IDX: interrupt when crossing used_event");
        ok(!virtq_arm_notify(&q), "nothing pending after arming");
        uint16_t avail_event = *(uint16_t *) (void *) (mem.regions[0].hva + USED + 4 + 8 * N);
        is_int(avail_event, 2, "avail_event tells the driver where we are");
        post(0);
        ok(virtq_arm_notify(&q), "arming sees a request that raced in");

        /* While migrating (mem.dirty set after activation, as dirty.c does), the
         * used ring's writes mark its page: KVM's dirty log does not see them. */
        reset(true, false);
        static uint64_t bits[MEM / 4096 / 64 + 1];
        mem.map_size = MEM;
        mem.dirty = bits;
        set(0, 0x10000, 16, VIRTQ_DESC_F_WRITE, 0);
        post(0);
        virtq_pop(&q, &e);
        ok(bits[USED / 4096 / 64] & 1ull << (USED / 4096 % 64) ? false : true,
           "dirty: the used ring is not marked before it is written");
        virtq_push(&q, e.head, 0);
        ok(bits[USED / 4096 / 64] & 1ull << (USED / 4096 % 64),
           "dirty: a push marks the used ring");
        memset(bits, 0, sizeof(bits));
        virtq_arm_notify(&q);
        ok(bits[USED / 4096 / 64] & 1ull << (USED / 4096 % 64),
           "dirty: avail_event's write marks the used ring");
        mem.dirty = NULL;

        /* iov helpers. */
        uint8_t a[4] = "abc", b[4] = "def", out[8] = {0};
        struct iovec iov[2] = {{a, 3}, {b, 3}};
        is_int(virtq_iov_to_buf(iov, 2, 2, out, 8), 4, "copy across segments");
        is_str((char *) out, "cdef", "bytes across segments");
        is_int(virtq_buf_to_iov(iov, 2, 5, "Z", 1), 1, "write into the 2nd segment");
        ok(b[2] == 'Z', "byte landed at offset 5");
        free(mem.map);
        return tap_done();
}
