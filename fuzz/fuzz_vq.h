/* fuzz_vq.h — what the virtqueue harnesses share: a guest memory image
 * taken from the fuzzer's input, a split queue on it at fixed ring
 * addresses, and a check that every popped segment stays inside it.
 *
 * Input: byte 0 = log2 queue size, byte 1 = flags (bit 0 EVENT_IDX, bit 1
 * INDIRECT, bits 2-7 first avail index), then the guest memory image. */
#ifndef BERTH_FUZZ_VQ_H
#define BERTH_FUZZ_VQ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/virtqueue.h"

#define FUZZ_MEM_SIZE (64u * 1024)

struct fuzz_vq {
        uint8_t *guest;
        struct vmm_mem mem;
        struct virtq q;
};

/* 0 and a live queue, or -1 (input too short or rings refused). */
static inline int fuzz_vq_setup(struct fuzz_vq *f, const uint8_t *data, size_t size)
{
        memset(f, 0, sizeof(*f));
        if (size < 2)
                return -1;
        f->guest = calloc(1, FUZZ_MEM_SIZE);
        memcpy(f->guest, data + 2, size - 2 < FUZZ_MEM_SIZE ? size - 2 : FUZZ_MEM_SIZE);
        f->mem.map = f->guest;
        f->mem.map_size = FUZZ_MEM_SIZE;
        vmm_mem_layout(&f->mem, FUZZ_MEM_SIZE);
        f->q.s.size = (uint16_t) (1u << (data[0] % 9)); /* 1..256 */
        f->q.s.event_idx = data[1] & 1;
        f->q.s.indirect = data[1] & 2;
        f->q.s.desc_gpa = 0x0000;
        f->q.s.avail_gpa = 0x1000;
        f->q.s.used_gpa = 0x2000;
        f->q.s.last_avail = (uint16_t) (data[1] >> 2);
        if (virtq_activate(&f->q, &f->mem) < 0)
                return -1;
        f->q.s.ready = true;
        return 0;
}

/* Every segment of e must lie inside guest memory. */
static inline void fuzz_vq_check(const struct fuzz_vq *f, const struct virtq_elem *e)
{
        for (unsigned s = 0; s < e->n_out + e->n_in; s++) {
                const uint8_t *b = e->iov[s].iov_base;
                if (b < f->guest || b + e->iov[s].iov_len > f->guest + FUZZ_MEM_SIZE)
                        abort(); /* a segment escaped guest memory */
        }
}

static inline void fuzz_vq_free(struct fuzz_vq *f)
{
        free(f->guest);
}

#endif
