/* virtio_mmio_state.c — a virtio-mmio transport's snapshot state: the
 * register file (struct virtio_mmio_state) and each queue's
 * struct virtq_state.  On load every ready queue is re-activated, which
 * checks its rings against guest RAM as a guest's set-up would be. */
#include <errno.h>
#include <unistd.h>

#include "vmm/snapshot.h"
#include "vmm/virtio_mmio.h"
#include "vmm/virtio_mmio_regs.h"

#define VIRTIO_STATE_VERSION 1

/* Take the transport lock with no request of the device's in flight: a
 * request taken off the ring and not yet given back would be lost to the
 * restored guest.  The vCPUs are paused, so the device only finishes what
 * it has; the bound keeps a wedged disk from hanging the API. */
static int lock_idle(struct virtio_mmio_dev *t, unsigned index, berth_error_t *err)
{
        for (unsigned i = 0;; i++) {
                pthread_mutex_lock(&t->lock);
                if (!t->ops->busy || !t->ops->busy(t->dev))
                        return 0;
                pthread_mutex_unlock(&t->lock);
                if (i == 50000)
                        return berth_fail(err, EBUSY,
                                          "virtio-%s (device %u) still has requests in flight "
                                          "after 5 s",
                                          t->ops->name, index);
                usleep(100);
        }
}

int virtio_mmio_save(struct virtio_mmio_dev *t, unsigned index, struct vmm_snap_buf *b,
                     berth_error_t *err)
{
        if (lock_idle(t, index, err) < 0)
                return -1;
        vmm_snap_section(b, "virtio", index, VIRTIO_STATE_VERSION);
        vmm_snap_put_u32(b, t->ops->device_id);
        const struct virtio_mmio_state *s = &t->s;
        vmm_snap_put_u32(b, s->status);
        vmm_snap_put_u32(b, s->dev_features_sel);
        vmm_snap_put_u32(b, s->drv_features_sel);
        vmm_snap_put_u32(b, s->queue_sel);
        vmm_snap_put_u32(b, __atomic_load_n(&s->isr, __ATOMIC_SEQ_CST));
        vmm_snap_put_u32(b, s->config_generation);
        vmm_snap_put_u64(b, s->driver_features);
        vmm_snap_put_u32(b, t->ops->n_queues);
        for (unsigned q = 0; q < t->ops->n_queues; q++) {
                const struct virtq *vq = &t->vq[q];
                vmm_snap_put_u16(b, vq->s.size);
                vmm_snap_put_u8(b, vq->s.ready);
                vmm_snap_put_u64(b, vq->s.desc_gpa);
                vmm_snap_put_u64(b, vq->s.avail_gpa);
                vmm_snap_put_u64(b, vq->s.used_gpa);
                vmm_snap_put_u16(b, vq->s.last_avail);
                vmm_snap_put_u16(b, vq->s.used_idx);
                vmm_snap_put_u16(b, vq->s.signalled_used);
                vmm_snap_put_u8(b, vq->s.event_idx);
                vmm_snap_put_u8(b, vq->s.indirect);
                vmm_snap_put_u8(b, vq->broken);
        }
        if (t->ops->save) {
                vmm_snap_section(b, "virtio.dev", index, t->ops->state_version);
                t->ops->save(t->dev, b);
        }
        pthread_mutex_unlock(&t->lock);
        return 0;
}

static int load_device(struct virtio_mmio_dev *t, unsigned index, const struct vmm_snap *snap,
                       berth_error_t *err)
{
        if (!t->ops->load)
                return 0;
        const struct vmm_snap_section *sec = vmm_snap_need(snap, "virtio.dev", index, err);
        if (!sec || vmm_snap_check_version(sec, t->ops->state_version, err) < 0)
                return -1;
        struct vmm_snap_rd r;
        vmm_snap_rd_init(&r, sec);
        if (t->ops->load(t->dev, &r, sec->version, err) < 0)
                return berth_wrap(err, "virtio-%s (device %u)", t->ops->name, index);
        return vmm_snap_rd_end(&r, err);
}

static int load_queues(struct virtio_mmio_dev *t, struct vmm_snap_rd *r, unsigned index,
                       berth_error_t *err)
{
        for (unsigned q = 0; q < t->ops->n_queues; q++) {
                struct virtq_state s = {0};
                s.size = vmm_snap_get_u16(r);
                s.ready = vmm_snap_get_bool(r);
                s.desc_gpa = vmm_snap_get_u64(r);
                s.avail_gpa = vmm_snap_get_u64(r);
                s.used_gpa = vmm_snap_get_u64(r);
                s.last_avail = vmm_snap_get_u16(r);
                s.used_idx = vmm_snap_get_u16(r);
                s.signalled_used = vmm_snap_get_u16(r);
                s.event_idx = vmm_snap_get_bool(r);
                s.indirect = vmm_snap_get_bool(r);
                bool broken = vmm_snap_get_bool(r);
                if (r->short_read)
                        return 0; /* vmm_snap_rd_end() reports it */
                if (s.size > VIRTQ_MAX_SIZE || (s.size & (s.size - 1)) || (s.ready && !s.size))
                        return berth_fail(err, EINVAL,
                                          "snapshot's virtio-%s (device %u) queue %u has size %u",
                                          t->ops->name, index, q, s.size);
                struct virtq *vq = &t->vq[q];
                vq->s = s;
                vq->s.ready = false;
                if (s.ready && !broken) {
                        if (virtq_activate(vq, &t->vm->mem) < 0)
                                return berth_fail(err, EINVAL,
                                                  "snapshot's virtio-%s (device %u) queue %u: %s",
                                                  t->ops->name, index, q, vq->why_broken);
                        /* activate re-derives nothing the guest set: keep the indexes */
                        vq->s = s;
                }
                vq->broken = broken;
        }
        return 0;
}

int virtio_mmio_load(struct virtio_mmio_dev *t, unsigned index, const struct vmm_snap *snap,
                     berth_error_t *err)
{
        const struct vmm_snap_section *sec = vmm_snap_need(snap, "virtio", index, err);
        if (!sec || vmm_snap_check_version(sec, VIRTIO_STATE_VERSION, err) < 0)
                return -1;
        struct vmm_snap_rd r;
        vmm_snap_rd_init(&r, sec);
        uint32_t id = vmm_snap_get_u32(&r);
        struct virtio_mmio_state s = {0};
        s.status = vmm_snap_get_u32(&r);
        s.dev_features_sel = vmm_snap_get_u32(&r);
        s.drv_features_sel = vmm_snap_get_u32(&r);
        s.queue_sel = vmm_snap_get_u32(&r);
        s.isr = vmm_snap_get_u32(&r);
        s.config_generation = vmm_snap_get_u32(&r);
        s.driver_features = vmm_snap_get_u64(&r);
        uint32_t nq = vmm_snap_get_u32(&r);
        if (!r.short_read && (id != t->ops->device_id || nq != t->ops->n_queues))
                return berth_fail(err, EINVAL,
                                  "snapshot's virtio device %u is type %u with %u queues, this "
                                  "VM's is virtio-%s (type %u): made for another configuration",
                                  index, id, nq, t->ops->name, t->ops->device_id);
        uint64_t offered = t->ops->features | (1ull << VIRTIO_F_VERSION_1) |
                           (1ull << VIRTIO_F_EVENT_IDX) | (1ull << VIRTIO_F_INDIRECT_DESC);
        if (s.driver_features & ~offered)
                return berth_fail(err, EINVAL,
                                  "snapshot's virtio-%s (device %u) has features %#llx this "
                                  "device does not offer",
                                  t->ops->name, index,
                                  (unsigned long long) (s.driver_features & ~offered));
        pthread_mutex_lock(&t->lock);
        t->s = s;
        int ret = load_queues(t, &r, index, err);
        if (ret == 0 && !r.short_read)
                ret = load_device(t, index, snap, err);
        t->epoch++;
        pthread_mutex_unlock(&t->lock);
        if (ret < 0 || vmm_snap_rd_end(&r, err) < 0)
                return -1;
        return 0;
}

void virtio_mmio_kick_restored(struct virtio_mmio_dev *t)
{
        if (!(t->s.status & VIRTIO_STATUS_DRIVER_OK))
                return;
        for (unsigned q = 0; q < t->ops->n_queues; q++) {
                uint64_t one = 1;
                if (t->vq[q].s.ready && t->notify_fd[q] >= 0)
                        (void) !write(t->notify_fd[q], &one, sizeof(one));
        }
}
