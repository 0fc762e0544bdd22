/* virtio_balloon.c — memory balloon (device id 5): the host sets a target
 * (API), the guest gives pages back through the inflate queue and the VMM
 * returns them to the host with MADV_DONTNEED; deflated pages simply fault
 * back in when the guest touches them.  With VIRTIO_BALLOON_F_STATS_VQ the
 * guest's memory statistics are kept for the API; with free page reporting
 * the ranges the guest reports free are dropped the same way. */
#include <errno.h>
#include <linux/virtio_balloon.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "common/log.h"
#include "common/util.h"
#include "vmm/snapshot_format.h"
#include "vmm/virtio_devices.h"

#define BAL_INFLATE     0
#define BAL_DEFLATE     1
#define BAL_STATS       2
#define BAL_PAGE        4096ull
#define BAL_F_REPORTING 5 /* VIRTIO_BALLOON_F_REPORTING */

struct virtio_balloon {
        struct virtio_mmio_dev *t;
        struct vmm_vm *vm;
        struct virtio_balloon_config config;
        uint64_t inflated_pages, deflated_pages, reported_pages; /* metrics */
        struct vmm_balloon_stats stats;
        bool stats_held; /* the guest's stats buffer, kept until we want fresh ones */
        uint16_t stats_head;
};

static int inflate_request(void *opaque, struct virtq_elem *e)
{
        struct virtio_balloon *b = opaque;
        /* The buffer is an array of 32-bit page frame numbers.  Guests hand them over
         * mostly in runs of neighbours: one madvise per run, not per page. */
        uint8_t *run = NULL;
        size_t run_len = 0;
        for (unsigned i = 0; i < e->n_out; i++) {
                const uint8_t *p = e->iov[i].iov_base;
                for (size_t off = 0; off + 4 <= e->iov[i].iov_len; off += 4) {
                        uint32_t pfn;
                        memcpy(&pfn, p + off, 4);
                        uint8_t *page =
                                vmm_mem_ptr(&b->vm->mem, (uint64_t) pfn * BAL_PAGE, BAL_PAGE);
                        if (!page)
                                continue; /* not guest RAM: ignore, never touch */
                        b->inflated_pages++;
                        if (run && page == run + run_len) {
                                run_len += BAL_PAGE;
                                continue;
                        }
                        if (run)
                                (void) madvise(run, run_len, MADV_DONTNEED);
                        run = page;
                        run_len = BAL_PAGE;
                }
        }
        if (run)
                (void) madvise(run, run_len, MADV_DONTNEED);
        return 0;
}

static int deflate_request(void *opaque, struct virtq_elem *e)
{
        struct virtio_balloon *b = opaque;
        /* Nothing to do: the pages fault back in on first touch. */
        b->deflated_pages += e->out_len / 4;
        return 0;
}

/* Free page reporting: each writable segment is a free range of guest
 * RAM the driver will not touch until the request comes back. */
static int report_request(void *opaque, struct virtq_elem *e)
{
        struct virtio_balloon *b = opaque;
        for (unsigned i = e->n_out; i < e->n_out + e->n_in; i++) {
                uint8_t *p = e->iov[i].iov_base;
                size_t len = e->iov[i].iov_len;
                /* The segment was bounds-checked by the queue; only whole
                 * host pages inside it are dropped. */
                size_t head = (BAL_PAGE - ((uintptr_t) p & (BAL_PAGE - 1))) & (BAL_PAGE - 1);
                if (len <= head)
                        continue;
                size_t whole = (len - head) & ~(size_t) (BAL_PAGE - 1);
                if (whole) {
                        (void) madvise(p + head, whole, MADV_DONTNEED);
                        b->reported_pages += whole / BAL_PAGE;
                }
        }
        return 0;
}

static void stats_arrived(struct virtio_balloon *b)
{
        struct virtio_mmio_dev *t = b->t;
        static __thread struct virtq_elem e;
        if (b->stats_held || virtq_pop(&t->vq[BAL_STATS], &e) != 1)
                return;
        struct __attribute__((packed)) {
                uint16_t tag;
                uint64_t val;
        } s;
        for (size_t off = 0; off + sizeof(s) <= e.out_len; off += sizeof(s)) {
                if (virtq_iov_to_buf(e.iov, e.n_out, off, &s, sizeof(s)) != sizeof(s))
                        break;
                if (s.tag < VMM_BALLOON_NSTATS) {
                        b->stats.value[s.tag] = s.val;
                        b->stats.valid |= 1u << s.tag;
                }
        }
        b->stats_held = true;
        b->stats_head = e.head;
}

static void balloon_notify(void *dev, struct virtio_mmio_dev *t, unsigned q)
{
        struct virtio_balloon *b = dev;
        /* Queues are numbered over the features the driver took: the
         * reporting queue follows the stats queue only if there is one. */
        bool stats = t->s.driver_features & (1ull << VIRTIO_BALLOON_F_STATS_VQ);
        unsigned reporting = stats ? 3 : 2;
        if ((t->s.driver_features & (1ull << BAL_F_REPORTING)) && q == reporting)
                virtio_mmio_serve(t, q, report_request);
        else if (q == BAL_INFLATE)
                virtio_mmio_serve(t, q, inflate_request);
        else if (q == BAL_DEFLATE)
                virtio_mmio_serve(t, q, deflate_request);
        else if (q == BAL_STATS && stats)
                stats_arrived(b);
}

static void balloon_config_read(void *dev, uint32_t off, uint8_t *data, unsigned len)
{
        struct virtio_balloon *b = dev;
        memcpy(data, (const uint8_t *) &b->config + off, len);
}

static void balloon_config_write(void *dev, uint32_t off, const uint8_t *data, unsigned len)
{
        struct virtio_balloon *b = dev;
        /* Only `actual` is the driver's to write. */
        if (off >= 4 && off + len <= 8)
                memcpy((uint8_t *) &b->config + off, data, len);
}

static void balloon_reset(void *dev)
{
        struct virtio_balloon *b = dev;
        b->config.actual = 0;
        b->stats_held = false;
}

static void balloon_destroy(void *dev)
{
        free(dev);
}

static void balloon_metrics(void *dev, virtio_metric_fn put, void *ctx)
{
        const struct virtio_balloon *b = dev;
        put(ctx, "inflated_pages", b->inflated_pages);
        put(ctx, "deflated_pages", b->deflated_pages);
        put(ctx, "reported_pages", b->reported_pages);
        put(ctx, "target_pages", b->config.num_pages);
        put(ctx, "actual_pages", b->config.actual);
}

/* Snapshot state: the target and what the guest gave, its last statistics,
 * and the statistics buffer it posted, which the device holds until it
 * wants fresh numbers (its head is an index into the restored queue). */
#define BALLOON_STATE_VERSION 1

static void balloon_save(void *dev, struct vmm_snap_buf *sb)
{
        const struct virtio_balloon *b = dev;
        vmm_snap_put_u32(sb, b->config.num_pages);
        vmm_snap_put_u32(sb, b->config.actual);
        vmm_snap_put_u8(sb, b->stats_held);
        vmm_snap_put_u16(sb, b->stats_head);
        vmm_snap_put_u32(sb, b->stats.valid);
        for (unsigned i = 0; i < VMM_BALLOON_NSTATS; i++)
                vmm_snap_put_u64(sb, b->stats.value[i]);
}

static int balloon_load(void *dev, struct vmm_snap_rd *r, uint32_t version, berth_error_t *err)
{
        struct virtio_balloon *b = dev;
        uint32_t num_pages = vmm_snap_get_u32(r), actual = vmm_snap_get_u32(r);
        bool held = vmm_snap_get_bool(r);
        uint16_t head = vmm_snap_get_u16(r);
        struct vmm_balloon_stats stats = {.valid = vmm_snap_get_u32(r)};
        for (unsigned i = 0; i < VMM_BALLOON_NSTATS; i++)
                stats.value[i] = vmm_snap_get_u64(r);
        if (r->short_read)
                return 0; /* the caller reports it */
        if (held && head >= b->t->vq[BAL_STATS].s.size)
                return berth_fail(err, EINVAL, "the held statistics buffer %u is outside its queue",
                                  head);
        b->config.num_pages = num_pages;
        b->config.actual = actual;
        b->stats_held = held;
        b->stats_head = head;
        b->stats = stats;
        return 0;
}

static const struct virtio_dev_ops balloon_ops = {
        .name = "balloon",
        .device_id = 5,
        .n_queues = 4, /* inflate, deflate, stats, reporting */
        .features = (1ull << VIRTIO_BALLOON_F_STATS_VQ) | (1ull << BAL_F_REPORTING),
        .config_size = 8, /* num_pages, actual */
        .config_read = balloon_config_read,
        .config_write = balloon_config_write,
        .queue_notify = balloon_notify,
        .reset = balloon_reset,
        .destroy = balloon_destroy,
        .metrics = balloon_metrics,
        .state_version = BALLOON_STATE_VERSION,
        .save = balloon_save,
        .load = balloon_load,
};

int virtio_balloon_add(struct vmm_vm *vm, uint64_t target_mib, berth_error_t *err)
{
        struct virtio_balloon *b = berth_xcalloc(1, sizeof(*b));
        b->vm = vm;
        b->config.num_pages = (uint32_t) ((target_mib << 20) / BAL_PAGE);
        if (virtio_mmio_add(vm, &balloon_ops, b, &b->t, err) < 0)
                return -1;
        vm->balloon = b;
        return 0;
}

int vmm_balloon_set_target(struct vmm_vm *vm, uint64_t mib, berth_error_t *err)
{
        struct virtio_balloon *b = vm->balloon;
        if (!b)
                return berth_fail(err, ENODEV, "this VM has no balloon device");
        if ((mib << 20) >= vm->mem.ram_size)
                return berth_fail(err, EINVAL, "balloon target %llu MiB is not below guest memory",
                                  (unsigned long long) mib);
        pthread_mutex_lock(&b->t->lock);
        b->config.num_pages = (uint32_t) ((mib << 20) / BAL_PAGE);
        virtio_mmio_config_changed(b->t);
        pthread_mutex_unlock(&b->t->lock);
        return 0;
}

int vmm_balloon_get(struct vmm_vm *vm, uint64_t *target_mib, uint64_t *actual_mib,
                    struct vmm_balloon_stats *stats, berth_error_t *err)
{
        struct virtio_balloon *b = vm->balloon;
        if (!b)
                return berth_fail(err, ENODEV, "this VM has no balloon device");
        pthread_mutex_lock(&b->t->lock);
        *target_mib = ((uint64_t) b->config.num_pages * BAL_PAGE) >> 20;
        *actual_mib = ((uint64_t) b->config.actual * BAL_PAGE) >> 20;
        if (stats)
                *stats = b->stats;
        /* Hand the stats buffer back: the driver refills it with fresh
         * numbers for the next request. */
        if (b->stats_held) {
                b->stats_held = false;
                virtq_push(&b->t->vq[BAL_STATS], b->stats_head, 0);
                virtio_mmio_used(b->t, BAL_STATS);
        }
        pthread_mutex_unlock(&b->t->lock);
        return 0;
}
