/* fuzz/virtio_blk.c — libFuzzer harness for virtio-blk's request parsing:
 * requests popped from a fuzzed queue (fuzz_vq.h) are served against a
 * 64 KiB in-memory disk whose driver aborts on any access outside it, so a
 * range check missing in the device (and in the block layer) is a crash. */
#include "common/log.h"
#include "fuzz_vq.h"
#include "vmm/virtio_blk.h"

#define DISK_SIZE (64u * 1024)

static uint8_t disk_data[DISK_SIZE];
static char disk_name[] = "mem";

static void in_range(uint64_t off, uint64_t len)
{
        if (off > DISK_SIZE || len > DISK_SIZE - off)
                abort();
}

static int mem_pread(struct disk *d, void *buf, size_t len, uint64_t off, berth_error_t *err)
{
        in_range(off, len);
        memcpy(buf, disk_data + off, len);
        return 0;
}

static int mem_pwrite(struct disk *d, const void *buf, size_t len, uint64_t off, berth_error_t *err)
{
        in_range(off, len);
        memcpy(disk_data + off, buf, len);
        return 0;
}

static int mem_flush(struct disk *d, berth_error_t *err)
{
        return 0;
}

static int mem_discard(struct disk *d, uint64_t off, uint64_t len, berth_error_t *err)
{
        in_range(off, len);
        memset(disk_data + off, 0, len);
        return 0;
}

static void mem_close(struct disk *d)
{
}

static const struct disk_ops mem_ops = {
        .name = "fuzz-mem",
        .pread = mem_pread,
        .pwrite = mem_pwrite,
        .flush = mem_flush,
        .discard = mem_discard,
        .close = mem_close,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static struct virtq_elem e;
        static struct disk d = {.ops = &mem_ops, .size = DISK_SIZE, .path = disk_name};
        static struct virtio_blk *blk;
        if (!blk) {
                berth_log_set_level(BERTH_LOG_ERROR); /* IOERR warnings are expected */
                blk = virtio_blk_new(&d, false, "fuzz");
        }
        struct fuzz_vq f;
        if (fuzz_vq_setup(&f, data, size) == 0) {
                for (unsigned i = 0; i < 2u * f.q.s.size + 2; i++) {
                        if (virtq_pop(&f.q, &e) <= 0)
                                break;
                        fuzz_vq_check(&f, &e);
                        int w = virtio_blk_request(blk, &e);
                        if (w < 0 || (uint64_t) w > e.in_len)
                                abort(); /* claims to have written more than the guest gave */
                        virtq_push(&f.q, e.head, (uint32_t) w);
                }
        }
        fuzz_vq_free(&f);
        return 0;
}
