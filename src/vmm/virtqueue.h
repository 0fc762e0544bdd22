/* virtqueue.h — split virtqueues (virtio 1.x, section 2.7), device side.
 *
 * The rings live in guest memory and the guest is hostile: every index is
 * reduced modulo or checked against the queue size, every descriptor chain
 * is bounded (no loops), every buffer address and length is checked to lie
 * inside guest RAM before a host pointer is made for it.  A queue the guest
 * corrupts is marked broken and stops being served; the VMM carries on.
 */
#ifndef BERTH_VMM_VIRTQUEUE_H
#define BERTH_VMM_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "vmm/mem.h"

#define VIRTQ_MAX_SIZE 256
#define VIRTQ_MAX_SEG  260 /* segments of one request, indirect tables included */

#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4

struct virtq_desc {
        uint64_t addr;
        uint32_t len;
        uint16_t flags;
        uint16_t next;
};

/* Saved state of one queue (what a snapshot needs). */
struct virtq_state {
        uint16_t size; /* negotiated number of entries, a power of 2 */
        bool ready;
        uint64_t desc_gpa, avail_gpa, used_gpa;
        uint16_t last_avail; /* next avail entry to take */
        uint16_t used_idx;   /* next used entry to fill */
        uint16_t signalled_used;
        bool event_idx, indirect;
};

struct virtq {
        struct virtq_state s;
        const struct vmm_mem *mem;
        struct virtq_desc *desc; /* host views, set by virtq_activate */
        uint16_t *avail;         /* flags, idx, ring[size], used_event */
        uint16_t *used;          /* flags, idx, then ring of {u32 id, u32 len}, avail_event */
        bool broken;
        const char *why_broken;
};

/* One request: readable segments first (out), then writable ones (in). */
struct virtq_elem {
        uint16_t head;
        unsigned n_out, n_in;
        uint64_t out_len, in_len;
        struct iovec iov[VIRTQ_MAX_SEG];
};

/* Check the ring addresses and make host views.  0, or -1 (queue broken). */
int virtq_activate(struct virtq *q, const struct vmm_mem *mem);

/* Take the next request: 1 got one, 0 ring empty, -1 the guest broke the
 * queue (q->why_broken says how). */
int virtq_pop(struct virtq *q, struct virtq_elem *e);

/* Give back the request just popped, untouched (the device found it had
 * nothing to put in it, e.g. no frame waiting on a tap). */
void virtq_unpop(struct virtq *q);

/* Return a request with `written` bytes written into its in segments. */
void virtq_push(struct virtq *q, uint16_t head, uint32_t written);

/* After pushes: should the guest be interrupted (EVENT_IDX or
 * NO_INTERRUPT rules)?  Updates the "last signalled" mark. */
bool virtq_should_notify(struct virtq *q);

/* Before sleeping: tell the guest to notify again (EVENT_IDX avail_event).
 * Returns true if requests arrived meanwhile, so the device polls again. */
bool virtq_arm_notify(struct virtq *q);

/* Copy between a request's segments and a flat buffer (for headers and
 * trailers split across descriptors).  Return bytes copied. */
size_t virtq_iov_to_buf(const struct iovec *iov, unsigned n, size_t skip, void *buf, size_t len);
size_t virtq_buf_to_iov(const struct iovec *iov, unsigned n, size_t skip, const void *buf,
                        size_t len);

#endif
