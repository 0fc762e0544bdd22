/* virtio_blk.c — virtio block device (device id 2) on berth's block layer
 * (src/disk/disk.h): read, write, flush, discard, get-id, read-only.
 *
 * Requests are served on the main thread when the guest notifies; every
 * sector range is checked against the disk's size before the driver sees
 * it, and a bad request fails with IOERR/UNSUPP without breaking the queue.
 */
#include <errno.h>
#include <linux/virtio_blk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "disk/disk.h"
#include "vmm/virtio_blk.h"
#include "vmm/virtio_devices.h"

#define SECTOR      512ull
#define BLK_SEG_MAX (VIRTQ_MAX_SEG - 2)
#define BLK_ID_LEN  20

struct virtio_blk_stats {
        uint64_t reads, writes, flushes, discards, errors;
        uint64_t read_bytes, write_bytes;
};

struct virtio_blk {
        struct disk *disk;
        bool readonly;
        char id[BLK_ID_LEN];
        struct virtio_blk_config config;
        struct virtio_blk_stats stats;
};

/* Checks that [sector, sector + len) lies inside the disk; no overflow. */
static bool range_ok(const struct virtio_blk *b, uint64_t sector, uint64_t len)
{
        uint64_t size = b->disk->size;
        if (sector > size / SECTOR)
                return false;
        return len <= size - sector * SECTOR;
}

/* The data part of a request as its own iovec: `len` bytes of src after
 * `skip` (the header of a write, nothing for a read).  Returns the count. */
static int data_iov(const struct iovec *src, unsigned n, size_t skip, uint64_t len,
                    struct iovec *dst)
{
        int k = 0;
        for (unsigned i = 0; i < n && len; i++) {
                if (skip >= src[i].iov_len) {
                        skip -= src[i].iov_len;
                        continue;
                }
                size_t c = src[i].iov_len - skip;
                if (c > len)
                        c = (size_t) len;
                dst[k++] = (struct iovec){(uint8_t *) src[i].iov_base + skip, c};
                len -= c;
                skip = 0;
        }
        return k;
}

static uint8_t disk_status(int r, berth_error_t *err)
{
        if (r >= 0)
                return VIRTIO_BLK_S_OK;
        log_warn("virtio-blk: %s", berth_error_msg(*err));
        berth_error_release(err);
        return VIRTIO_BLK_S_IOERR;
}

static uint8_t do_read(struct virtio_blk *b, struct virtq_elem *e, uint64_t sector, size_t *done)
{
        /* The in segments minus the trailing status byte hold the data. */
        uint64_t len = e->in_len - 1;
        if (!range_ok(b, sector, len))
                return VIRTIO_BLK_S_IOERR;
        struct iovec iov[VIRTQ_MAX_SEG];
        int n = data_iov(e->iov + e->n_out, e->n_in, 0, len, iov);
        berth_error_t err = NULL;
        uint8_t st = disk_status(disk_preadv(b->disk, iov, n, sector * SECTOR, &err), &err);
        if (st == VIRTIO_BLK_S_OK) {
                *done = len;
                b->stats.reads++;
                b->stats.read_bytes += len;
        }
        return st;
}

static uint8_t do_write(struct virtio_blk *b, struct virtq_elem *e, uint64_t sector)
{
        if (b->readonly)
                return VIRTIO_BLK_S_IOERR;
        uint64_t len = e->out_len - sizeof(struct virtio_blk_outhdr);
        if (!range_ok(b, sector, len))
                return VIRTIO_BLK_S_IOERR;
        struct iovec iov[VIRTQ_MAX_SEG];
        int n = data_iov(e->iov, e->n_out, sizeof(struct virtio_blk_outhdr), len, iov);
        berth_error_t err = NULL;
        uint8_t st = disk_status(disk_pwritev(b->disk, iov, n, sector * SECTOR, &err), &err);
        if (st == VIRTIO_BLK_S_OK) {
                b->stats.writes++;
                b->stats.write_bytes += len;
        }
        return st;
}

static uint8_t do_discard(struct virtio_blk *b, struct virtq_elem *e)
{
        if (b->readonly)
                return VIRTIO_BLK_S_IOERR;
        struct virtio_blk_discard_write_zeroes seg;
        size_t hdr = sizeof(struct virtio_blk_outhdr);
        /* max_discard_seg is 1: exactly one segment. */
        if (e->out_len != hdr + sizeof(seg) ||
            virtq_iov_to_buf(e->iov, e->n_out, hdr, &seg, sizeof(seg)) != sizeof(seg))
                return VIRTIO_BLK_S_UNSUPP;
        if (seg.flags != 0 || !range_ok(b, seg.sector, (uint64_t) seg.num_sectors * SECTOR))
                return VIRTIO_BLK_S_IOERR;
        berth_error_t err = NULL;
        if (disk_discard(b->disk, seg.sector * SECTOR, (uint64_t) seg.num_sectors * SECTOR, &err) <
            0) {
                log_warn("virtio-blk: %s", berth_error_msg(err));
                berth_error_release(&err);
                return VIRTIO_BLK_S_IOERR;
        }
        b->stats.discards++;
        return VIRTIO_BLK_S_OK;
}

int virtio_blk_request(void *opaque, struct virtq_elem *e)
{
        struct virtio_blk *b = opaque;
        struct virtio_blk_outhdr h;
        if (e->in_len == 0)
                return 0; /* nowhere to put a status: drop it */
        size_t done = 0;
        uint8_t status;
        berth_error_t err = NULL;
        if (virtq_iov_to_buf(e->iov, e->n_out, 0, &h, sizeof(h)) != sizeof(h)) {
                status = VIRTIO_BLK_S_IOERR;
        } else {
                switch (h.type) {
                case VIRTIO_BLK_T_IN:
                        status = do_read(b, e, h.sector, &done);
                        break;
                case VIRTIO_BLK_T_OUT:
                        status = do_write(b, e, h.sector);
                        break;
                case VIRTIO_BLK_T_FLUSH:
                        status = VIRTIO_BLK_S_OK;
                        if (disk_flush(b->disk, &err) < 0) {
                                berth_error_release(&err);
                                status = VIRTIO_BLK_S_IOERR;
                        }
                        b->stats.flushes++;
                        break;
                case VIRTIO_BLK_T_GET_ID:
                        done = virtq_buf_to_iov(e->iov + e->n_out, e->n_in, 0, b->id,
                                                e->in_len - 1 < BLK_ID_LEN ? e->in_len - 1
                                                                           : BLK_ID_LEN);
                        status = VIRTIO_BLK_S_OK;
                        break;
                case VIRTIO_BLK_T_DISCARD:
                        status = do_discard(b, e);
                        break;
                default:
                        status = VIRTIO_BLK_S_UNSUPP;
                }
        }
        if (status != VIRTIO_BLK_S_OK)
                b->stats.errors++;
        virtq_buf_to_iov(e->iov + e->n_out, e->n_in, e->in_len - 1, &status, 1);
        return (int) (done + 1);
}

static void blk_notify(void *dev, struct virtio_mmio_dev *t, unsigned q)
{
        (void) dev;
        virtio_mmio_serve(t, q, virtio_blk_request);
}

static void blk_config_read(void *dev, uint32_t off, uint8_t *data, unsigned len)
{
        struct virtio_blk *b = dev;
        memcpy(data, (const uint8_t *) &b->config + off, len);
}

void virtio_blk_free(void *dev)
{
        struct virtio_blk *b = dev;
        berth_error_t err = NULL;
        if (!b->readonly && disk_flush(b->disk, &err) < 0)
                berth_error_report(&err, 0);
        disk_close(b->disk);
        free(b);
}

static struct virtio_dev_ops blk_ops = {
        .name = "blk",
        .device_id = 2,
        .n_queues = 1,
        .features = (1ull << VIRTIO_BLK_F_SEG_MAX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
                    (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_DISCARD),
        .config_size = sizeof(struct virtio_blk_config),
        .config_read = blk_config_read,
        .queue_notify = blk_notify,
        .destroy = virtio_blk_free,
};

static struct virtio_dev_ops blk_ro_ops;

struct virtio_blk *virtio_blk_new(struct disk *d, bool readonly, const char *id)
{
        struct virtio_blk *b = berth_xcalloc(1, sizeof(*b));
        b->disk = d;
        b->readonly = readonly || d->readonly;
        snprintf(b->id, sizeof(b->id), "%s", id);
        b->config.capacity = d->size / SECTOR;
        b->config.seg_max = BLK_SEG_MAX;
        b->config.blk_size = 512;
        b->config.max_discard_sectors = 0x3fffff;
        b->config.max_discard_seg = 1;
        b->config.discard_sector_alignment = 1;
        return b;
}

int virtio_blk_add(struct vmm_vm *vm, const struct vmm_disk_config *dc, berth_error_t *err)
{
        struct disk *d;
        unsigned flags = (dc->readonly ? DISK_RDONLY : 0) | (dc->direct ? DISK_DIRECT : 0);
        if (disk_open(dc->path, (enum disk_format) dc->format, flags, &d, err) < 0)
                return berth_wrap(err, "attach disk `%s`", dc->path);
        char id[BLK_ID_LEN];
        snprintf(id, sizeof(id), "berth%u", vm->n_virtio);
        struct virtio_blk *b = virtio_blk_new(d, dc->readonly, id);
        const struct virtio_dev_ops *ops = &blk_ops;
        if (b->readonly) {
                blk_ro_ops = blk_ops;
                blk_ro_ops.features = (blk_ops.features | (1ull << VIRTIO_BLK_F_RO)) &
                                      ~(1ull << VIRTIO_BLK_F_DISCARD);
                ops = &blk_ro_ops;
        }
        /* On failure the VM's teardown destroys the device. */
        return virtio_mmio_add(vm, ops, b, NULL, err);
}
