/* fuzz/virtqueue.c — libFuzzer harness for berth-vmm's split virtqueue
 * parser, the code that turns hostile guest rings into host iovecs (input
 * layout in fuzz_vq.h).  ASan catches any host access outside the fuzzed
 * guest memory; fuzz_vq_check any segment that points outside it. */
#include "fuzz_vq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct virtq_elem e;
        struct fuzz_vq f;
        if (fuzz_vq_setup(&f, data, size) == 0) {
                for (unsigned i = 0; i < 2u * f.q.s.size + 2; i++) {
                        if (virtq_pop(&f.q, &e) <= 0)
                                break;
                        fuzz_vq_check(&f, &e);
                        uint8_t hdr[16];
                        virtq_iov_to_buf(e.iov, e.n_out, 0, hdr, sizeof(hdr));
                        uint8_t status = 0;
                        if (e.n_in)
                                virtq_buf_to_iov(e.iov + e.n_out, e.n_in, e.in_len - 1, &status, 1);
                        virtq_push(&f.q, e.head, (uint32_t) e.in_len);
                        (void) virtq_should_notify(&f.q);
                }
                (void) virtq_arm_notify(&f.q);
        }
        fuzz_vq_free(&f);
        return 0;
}
