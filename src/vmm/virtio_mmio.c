/* virtio_mmio.c — the virtio-mmio register file, feature negotiation,
 * queue set-up, ioeventfd notifications and irqfd interrupts. */
#include "vmm/virtio_mmio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "vmm/virtio_mmio_regs.h"
#include "vmm/vm.h"

#define VIRTIO_VENDOR   0x4854524bu /* "KRTH": berth's vendor id */
#define VIRTIO_IRQ_BASE 5

#define STATUS_FEATURES_OK VIRTIO_STATUS_FEATURES_OK
#define STATUS_DRIVER_OK   VIRTIO_STATUS_DRIVER_OK
#define STATUS_NEEDS_RESET VIRTIO_STATUS_NEEDS_RESET
#define ISR_USED           1
#define ISR_CONFIG         2

static uint64_t all_features(const struct virtio_mmio_dev *t)
{
        return t->ops->features | (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_F_EVENT_IDX) |
               (1ull << VIRTIO_F_INDIRECT_DESC);
}

uint64_t virtio_mmio_base(const struct virtio_mmio_dev *t)
{
        return t->base;
}

unsigned virtio_mmio_irq(const struct virtio_mmio_dev *t)
{
        return t->irq;
}

static void raise_irq(struct virtio_mmio_dev *t, uint32_t why)
{
        __atomic_or_fetch(&t->s.isr, why, __ATOMIC_SEQ_CST);
        if (t->irq_fd >= 0) {
                uint64_t one = 1;
                (void) !write(t->irq_fd, &one, sizeof(one));
        } else {
                vmm_vm_irq_line(t->vm, t->irq, 1);
                vmm_vm_irq_line(t->vm, t->irq, 0);
        }
}

static void needs_reset(struct virtio_mmio_dev *t, const char *why)
{
        if (t->s.status & STATUS_NEEDS_RESET)
                return;
        log_warn("virtio-%s: guest broke the device (%s); it needs a reset", t->ops->name, why);
        t->s.status |= STATUS_NEEDS_RESET;
        if (t->s.status & STATUS_DRIVER_OK)
                raise_irq(t, ISR_CONFIG);
}

void virtio_mmio_config_changed(struct virtio_mmio_dev *t)
{
        t->s.config_generation++;
        if (t->s.status & STATUS_DRIVER_OK)
                raise_irq(t, ISR_CONFIG);
}

void virtio_mmio_used(struct virtio_mmio_dev *t, unsigned q)
{
        if (virtq_should_notify(&t->vq[q]))
                raise_irq(t, ISR_USED);
}

void virtio_mmio_serve(struct virtio_mmio_dev *t, unsigned q, virtio_req_fn fn)
{
        struct virtq *vq = &t->vq[q];
        static __thread struct virtq_elem e; /* 4 KiB: keep it off the stack */
        /* Bound the work per notification so one busy queue cannot starve
         * the others; a re-armed notification brings us back. */
        for (unsigned budget = 0; budget < 4 * VIRTQ_MAX_SIZE;) {
                int r;
                while ((r = virtq_pop(vq, &e)) == 1) {
                        int w = fn(t->dev, &e);
                        if (w == VIRTIO_REQ_RETRY) {
                                virtq_unpop(vq); /* served when the retry timer fires */
                                virtio_mmio_used(t, q);
                                return;
                        }
                        if (w < 0) {
                                /* Device-level failure: the request is
                                 * returned as-is; the device set its status. */
                                w = 0;
                        }
                        virtq_push(vq, e.head, (uint32_t) w);
                        if (++budget % 64 == 0)
                                virtio_mmio_used(t, q);
                }
                if (r < 0) {
                        needs_reset(t, vq->why_broken);
                        return;
                }
                virtio_mmio_used(t, q);
                if (!virtq_arm_notify(vq))
                        return;
        }
        /* Budget spent: come back through the event loop. */
        if (t->notify_fd[q] >= 0) {
                uint64_t one = 1;
                (void) !write(t->notify_fd[q], &one, sizeof(one));
        }
}

int virtio_mmio_pop_host(struct virtio_mmio_dev *t, unsigned q, struct virtq_elem *e)
{
        struct virtq *vq = &t->vq[q];
        if (!vq->s.ready || (t->s.status & STATUS_NEEDS_RESET))
                return -1;
        int r = virtq_pop(vq, e);
        if (r == 0 && virtq_arm_notify(vq))
                r = virtq_pop(vq, e);
        if (r < 0)
                needs_reset(t, vq->why_broken);
        return r;
}

static void queue_notify(struct virtio_mmio_dev *t, unsigned q);

static void on_retry(void *opaque)
{
        struct virtio_mmio_dev *t = opaque;
        uint64_t v;
        if (read(t->retry_fd, &v, sizeof(v)) != sizeof(v))
                return;
        pthread_mutex_lock(&t->lock);
        unsigned qs = t->retry_queues;
        t->retry_queues = 0;
        for (unsigned q = 0; q < t->ops->n_queues; q++)
                if (qs & (1u << q))
                        queue_notify(t, q);
        pthread_mutex_unlock(&t->lock);
}

int virtio_mmio_retry_init(struct virtio_mmio_dev *t, berth_error_t *err)
{
        if (t->retry_fd >= 0)
                return 0;
        t->retry_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (t->retry_fd < 0)
                return berth_fail(err, errno, "timerfd for virtio-%s", t->ops->name);
        return vmm_vm_watch_fd(t->vm, t->retry_fd, on_retry, t, err);
}

void virtio_mmio_retry_after(struct virtio_mmio_dev *t, unsigned q, uint64_t ns)
{
        if (t->retry_fd < 0)
                return; /* no limiter was configured: cannot happen */
        t->retry_queues |= 1u << q;
        /* One timer serves every queue of the device: an earlier deadline
         * already set (another queue's) stands, and serves this one too. */
        struct itimerspec cur;
        if (timerfd_gettime(t->retry_fd, &cur) == 0 &&
            (cur.it_value.tv_sec || cur.it_value.tv_nsec) &&
            (uint64_t) cur.it_value.tv_sec * 1000000000ull + (uint64_t) cur.it_value.tv_nsec <= ns)
                return;
        struct itimerspec its = {.it_value = {.tv_sec = (time_t) (ns / 1000000000ull),
                                              .tv_nsec = (long) (ns % 1000000000ull)}};
        if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
                its.it_value.tv_nsec = 1;
        (void) timerfd_settime(t->retry_fd, 0, &its, NULL);
}

static void queue_notify(struct virtio_mmio_dev *t, unsigned q)
{
        if (q >= t->ops->n_queues || !(t->s.status & STATUS_DRIVER_OK) ||
            (t->s.status & STATUS_NEEDS_RESET) || !t->vq[q].s.ready)
                return;
        t->ops->queue_notify(t->dev, t, q);
}

static void on_notify_fd(void *opaque)
{
        const struct virtio_mmio_qref *r = opaque;
        struct virtio_mmio_dev *t = r->t;
        uint64_t v;
        if (read(t->notify_fd[r->q], &v, sizeof(v)) != sizeof(v))
                return;
        pthread_mutex_lock(&t->lock);
        queue_notify(t, r->q);
        pthread_mutex_unlock(&t->lock);
}

static void reset(struct virtio_mmio_dev *t)
{
        t->epoch++;
        memset(&t->s, 0, sizeof(t->s));
        for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
                memset(&t->vq[q], 0, sizeof(t->vq[q]));
        if (t->ops->reset)
                t->ops->reset(t->dev);
}

static void set_status(struct virtio_mmio_dev *t, uint32_t v)
{
        if (v == 0) {
                reset(t);
                return;
        }
        if ((v & STATUS_FEATURES_OK) && !(t->s.status & STATUS_FEATURES_OK)) {
                /* Only a subset of what we offered, and always virtio 1. */
                uint64_t f = t->s.driver_features;
                if ((f & ~all_features(t)) || !(f & (1ull << VIRTIO_F_VERSION_1)))
                        v &= ~(uint32_t) STATUS_FEATURES_OK;
        }
        t->s.status = v | (t->s.status & STATUS_NEEDS_RESET);
}

static void set_queue_ready(struct virtio_mmio_dev *t, struct virtq *vq, uint32_t v)
{
        if (!v) {
                vq->s.ready = false;
                return;
        }
        t->epoch++;
        vq->s.event_idx = t->s.driver_features & (1ull << VIRTIO_F_EVENT_IDX);
        vq->s.indirect = t->s.driver_features & (1ull << VIRTIO_F_INDIRECT_DESC);
        vq->s.last_avail = vq->s.used_idx = vq->s.signalled_used = 0;
        if (virtq_activate(vq, &t->vm->mem) < 0) {
                needs_reset(t, vq->why_broken);
                return;
        }
        vq->s.ready = true;
}

static void set_addr(uint64_t *a, uint32_t v, bool high)
{
        *a = high ? (*a & 0xffffffffull) | ((uint64_t) v << 32) : (*a & ~0xffffffffull) | v;
}

static uint32_t reg_read(struct virtio_mmio_dev *t, uint64_t off)
{
        struct virtq *vq = t->s.queue_sel < t->ops->n_queues ? &t->vq[t->s.queue_sel] : NULL;
        switch (off) {
        case REG_MAGIC:
                return VIRTIO_MMIO_MAGIC;
        case REG_VERSION:
                return 2;
        case REG_DEVICE_ID:
                return t->ops->device_id;
        case REG_VENDOR_ID:
                return VIRTIO_VENDOR;
        case REG_DEVICE_FEATURES:
                return t->s.dev_features_sel < 2
                               ? (uint32_t) (all_features(t) >> (32 * t->s.dev_features_sel))
                               : 0;
        case REG_QUEUE_NUM_MAX:
                return vq ? VIRTQ_MAX_SIZE : 0;
        case REG_QUEUE_READY:
                return vq ? vq->s.ready : 0;
        case REG_INTERRUPT_STATUS:
                return __atomic_load_n(&t->s.isr, __ATOMIC_SEQ_CST);
        case REG_STATUS:
                return t->s.status;
        case REG_CONFIG_GENERATION:
                return t->s.config_generation;
        }
        return 0;
}

static void reg_write(struct virtio_mmio_dev *t, uint64_t off, uint32_t v)
{
        struct virtq *vq = t->s.queue_sel < t->ops->n_queues ? &t->vq[t->s.queue_sel] : NULL;
        /* Queue layout may change only while the queue is not live. */
        bool q_setup = vq && !vq->s.ready && !(t->s.status & STATUS_DRIVER_OK);
        switch (off) {
        case REG_DEVICE_FEATURES_SEL:
                t->s.dev_features_sel = v;
                break;
        case REG_DRIVER_FEATURES:
                if (t->s.drv_features_sel < 2 && !(t->s.status & STATUS_FEATURES_OK)) {
                        unsigned sh = 32 * t->s.drv_features_sel;
                        t->s.driver_features = (t->s.driver_features & ~(0xffffffffull << sh)) |
                                               ((uint64_t) v << sh);
                }
                break;
        case REG_DRIVER_FEATURES_SEL:
                t->s.drv_features_sel = v;
                break;
        case REG_QUEUE_SEL:
                t->s.queue_sel = v;
                break;
        case REG_QUEUE_NUM:
                if (q_setup)
                        vq->s.size = v <= VIRTQ_MAX_SIZE ? (uint16_t) v : 0;
                break;
        case REG_QUEUE_READY:
                if (vq)
                        set_queue_ready(t, vq, v);
                break;
        case REG_QUEUE_NOTIFY:
                queue_notify(t, v);
                break;
        case REG_INTERRUPT_ACK:
                __atomic_and_fetch(&t->s.isr, ~v, __ATOMIC_SEQ_CST);
                break;
        case REG_STATUS:
                set_status(t, v);
                break;
        case REG_QUEUE_DESC_LOW:
        case REG_QUEUE_DESC_HIGH:
                if (q_setup)
                        set_addr(&vq->s.desc_gpa, v, off == REG_QUEUE_DESC_HIGH);
                break;
        case REG_QUEUE_DRIVER_LOW:
        case REG_QUEUE_DRIVER_HIGH:
                if (q_setup)
                        set_addr(&vq->s.avail_gpa, v, off == REG_QUEUE_DRIVER_HIGH);
                break;
        case REG_QUEUE_DEVICE_LOW:
        case REG_QUEUE_DEVICE_HIGH:
                if (q_setup)
                        set_addr(&vq->s.used_gpa, v, off == REG_QUEUE_DEVICE_HIGH);
                break;
        default:
                break;
        }
}

static void mmio_access(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool write)
{
        struct virtio_mmio_dev *t = opaque;
        pthread_mutex_lock(&t->lock);
        if (off >= REG_CONFIG) {
                uint64_t c = off - REG_CONFIG;
                if (c + len <= t->ops->config_size) {
                        if (write && t->ops->config_write)
                                t->ops->config_write(t->dev, (uint32_t) c, data, len);
                        else if (!write)
                                t->ops->config_read(t->dev, (uint32_t) c, data, len);
                } else if (!write) {
                        memset(data, 0, len);
                }
        } else if (len == 4 && !(off & 3)) {
                /* The spec allows only aligned 32-bit access to registers. */
                uint32_t v;
                if (write) {
                        memcpy(&v, data, 4);
                        reg_write(t, off, v);
                } else {
                        v = reg_read(t, off);
                        memcpy(data, &v, 4);
                }
        } else if (!write) {
                memset(data, 0, len);
        }
        pthread_mutex_unlock(&t->lock);
}

static int wire_eventfds(struct virtio_mmio_dev *t, berth_error_t *err)
{
        struct vmm_vm *vm = t->vm;
        if (vm->have_irqfd) {
                t->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                struct kvm_irqfd irqfd = {.fd = (uint32_t) t->irq_fd, .gsi = t->irq};
                if (t->irq_fd < 0 || ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
                        log_debug("virtio-%s: no irqfd (%s); interrupts via KVM_IRQ_LINE",
                                  t->ops->name, strerror(errno));
                        if (t->irq_fd >= 0)
                                close(t->irq_fd);
                        t->irq_fd = -1;
                }
        }
        if (!vm->have_ioeventfd)
                return 0;
        for (unsigned q = 0; q < t->ops->n_queues; q++) {
                t->notify_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
                if (t->notify_fd[q] < 0)
                        return berth_fail(err, errno, "eventfd");
                struct kvm_ioeventfd io = {
                        .datamatch = q,
                        .addr = t->base + REG_QUEUE_NOTIFY,
                        .len = 4,
                        .fd = t->notify_fd[q],
                        .flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
                };
                if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0) {
                        /* Then the vCPU's MMIO exit delivers the notify. */
                        log_debug("virtio-%s: no ioeventfd (%s)", t->ops->name, strerror(errno));
                        close(t->notify_fd[q]);
                        t->notify_fd[q] = -1;
                }
        }
        return 0;
}

int virtio_mmio_add(struct vmm_vm *vm, const struct virtio_dev_ops *ops, void *dev,
                    struct virtio_mmio_dev **out, berth_error_t *err)
{
        if (vm->n_virtio >= VMM_MAX_VIRTIO || ops->n_queues > VIRTIO_MAX_QUEUES) {
                if (ops->destroy)
                        ops->destroy(dev);
                return berth_fail(err, ENOSPC, "too many virtio devices");
        }
        struct virtio_mmio_dev *t = berth_xcalloc(1, sizeof(*t));
        t->vm = vm;
        t->ops = ops;
        t->dev = dev;
        t->base = VMM_VIRTIO_MMIO_BASE + vm->n_virtio * VMM_VIRTIO_MMIO_SIZE;
        t->irq = VIRTIO_IRQ_BASE + vm->n_virtio;
        t->irq_fd = -1;
        t->retry_fd = -1;
        for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
                t->notify_fd[q] = -1;
        pthread_mutex_init(&t->lock, NULL);
        /* From here the VM owns t (and dev): its teardown frees both. */
        vm->virtio[vm->n_virtio++] = t;
        if (out)
                *out = t;
        if (vmm_bus_add(&vm->mmio, t->base, VMM_VIRTIO_MMIO_SIZE, mmio_access, t) < 0)
                return berth_fail(err, EINVAL, "place virtio-%s at %#llx", ops->name,
                                  (unsigned long long) t->base);
        if (wire_eventfds(t, err) < 0)
                return -1;
        for (unsigned q = 0; q < ops->n_queues; q++) {
                t->notify_ref[q] = (struct virtio_mmio_qref){t, q};
                if (t->notify_fd[q] >= 0 &&
                    vmm_vm_watch_fd(vm, t->notify_fd[q], on_notify_fd, &t->notify_ref[q], err) < 0)
                        return -1;
        }
        return 0;
}

void virtio_mmio_destroy(struct virtio_mmio_dev *t)
{
        /* The device first: it may have threads (virtio-blk's worker) that
         * still raise interrupts through the fds closed below. */
        if (t->ops->destroy)
                t->ops->destroy(t->dev);
        for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
                if (t->notify_fd[q] >= 0)
                        close(t->notify_fd[q]);
        if (t->irq_fd >= 0)
                close(t->irq_fd);
        if (t->retry_fd >= 0)
                close(t->retry_fd);
        pthread_mutex_destroy(&t->lock);
        free(t);
}
