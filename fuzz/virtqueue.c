/* fuzz/virtqueue.c — libFuzzer harness for berth-vmm's split virtqueue
 * parser, the code that turns hostile guest rings into host iovecs.
 *
 * Input: 2 bytes of queue set-up (log2 size, feature flags), then the guest
 * memory image (rings at fixed addresses, descriptors and buffers anywhere).
 * Every iovec popped must lie inside the guest memory buffer; ASan catches
 * any host access outside it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/virtqueue.h"

#define MEM_SIZE (64u * 1024)
#define DESC 0x0000
#define AVAIL 0x1000
#define USED 0x2000

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct virtq_elem e;
        if (size < 2)
                return 0;
        uint8_t *guest = calloc(1, MEM_SIZE);
        memcpy(guest, data + 2, size - 2 < MEM_SIZE ? size - 2 : MEM_SIZE);
        struct vmm_mem mem = { .map = guest, .map_size = MEM_SIZE };
        vmm_mem_layout(&mem, MEM_SIZE);

        struct virtq q = { 0 };
        q.s.size = (uint16_t) (1u << (data[0] % 9)); /* 1..256 */
        q.s.event_idx = data[1] & 1;
        q.s.indirect = data[1] & 2;
        q.s.desc_gpa = DESC;
        q.s.avail_gpa = AVAIL;
        q.s.used_gpa = USED;
        q.s.last_avail = (uint16_t) (data[1] >> 2);
        if (virtq_activate(&q, &mem) == 0) {
                q.s.ready = true;
                for (unsigned i = 0; i < 2u * q.s.size + 2; i++) {
                        int r = virtq_pop(&q, &e);
                        if (r <= 0)
                                break;
                        for (unsigned s = 0; s < e.n_out + e.n_in; s++) {
                                const uint8_t *b = e.iov[s].iov_base;
                                if (b < guest || b + e.iov[s].iov_len > guest + MEM_SIZE)
                                        abort(); /* a segment escaped guest memory */
                        }
                        uint8_t hdr[16];
                        virtq_iov_to_buf(e.iov, e.n_out, 0, hdr, sizeof(hdr));
                        uint8_t status = 0;
                        if (e.n_in)
                                virtq_buf_to_iov(e.iov + e.n_out, e.n_in, e.in_len - 1, &status,
                                                 1);
                        virtq_push(&q, e.head, (uint32_t) e.in_len);
                        (void) virtq_should_notify(&q);
                }
                (void) virtq_arm_notify(&q);
        }
        free(guest);
        return 0;
}
