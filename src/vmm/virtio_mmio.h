/* virtio_mmio.h — the virtio-mmio transport (virtio 1.x, "version 2"
 * register layout) and the interface a virtio device implements.
 *
 * A device is a table of operations, as in kvmtool: the transport owns the
 * register file, feature negotiation, the queues and the interrupt; the
 * device only serves requests and its config space.  Queue notifications
 * arrive through ioeventfds on the main thread (or, without
 * KVM_CAP_IOEVENTFD, from the vCPU's MMIO exit); interrupts leave through
 * an irqfd.
 */
#ifndef BERTH_VMM_VIRTIO_MMIO_H
#define BERTH_VMM_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdint.h>

#include "vmm/virtqueue.h"

struct vmm_vm;
struct virtio_mmio_dev;
struct vmm_snap_buf;
struct vmm_snap_rd;

#define VIRTIO_MAX_QUEUES 4

#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX     29
#define VIRTIO_F_VERSION_1     32

/* A device reports its counters through this (metrics in the API). */
typedef void (*virtio_metric_fn)(void *ctx, const char *name, uint64_t value);

struct virtio_dev_ops {
        const char *name;
        uint32_t device_id;
        unsigned n_queues;
        uint64_t features; /* device-specific feature bits */
        uint32_t config_size;
        /* Read/write config space; off + len <= config_size is checked. */
        void (*config_read)(void *dev, uint32_t off, uint8_t *data, unsigned len);
        void (*config_write)(void *dev, uint32_t off, const uint8_t *data, unsigned len);
        /* Serve queue q (requests available).  Called with the transport
         * lock held, on the main thread. */
        void (*queue_notify)(void *dev, struct virtio_mmio_dev *t, unsigned q);
        /* The driver reset the device (status 0). */
        void (*reset)(void *dev);
        void (*destroy)(void *dev);
        /* Optional: report counters (called with the transport lock held). */
        void (*metrics)(void *dev, virtio_metric_fn put, void *ctx);
        /* Optional, for snapshots: the device's own state, saved and loaded beside its
         * code (the transport keeps the register file and the queues).  Called with the
         * transport lock held; load after the queues are back.  A device with requests
         * off the ring and not yet given back says so through busy (under the lock): a
         * snapshot waits for it to come back to false. */
        uint32_t state_version;
        void (*save)(void *dev, struct vmm_snap_buf *b);
        int (*load)(void *dev, struct vmm_snap_rd *r, uint32_t version, berth_error_t *err);
        bool (*busy)(void *dev);
};

/* Saved transport state (with the queues' virtq_state, a snapshot). */
struct virtio_mmio_state {
        uint32_t status;
        uint32_t dev_features_sel, drv_features_sel;
        uint32_t queue_sel;
        uint32_t isr;
        uint32_t config_generation;
        uint64_t driver_features;
};

struct virtio_mmio_dev {
        struct vmm_vm *vm;
        const struct virtio_dev_ops *ops;
        void *dev;
        uint64_t base;
        unsigned irq;
        pthread_mutex_t lock;
        struct virtio_mmio_state s;
        struct virtq vq[VIRTIO_MAX_QUEUES];
        int notify_fd[VIRTIO_MAX_QUEUES];
        struct virtio_mmio_qref { /* what a queue's notify fd wakes: that queue only */
                struct virtio_mmio_dev *t;
                unsigned q;
        } notify_ref[VIRTIO_MAX_QUEUES];
        int irq_fd;
        int retry_fd;          /* timerfd for throttled queues, -1 until needed */
        uint32_t epoch;        /* bumped on reset and queue re-set-up: a device that
                                  served requests outside the lock checks it before
                                  pushing them back */
        unsigned retry_queues; /* bit per queue to serve when it fires */
};

/* Create the transport for dev at the next free slot and wire it.  dev
 * belongs to the VM from then on, even on failure (ops->destroy frees it). */
int virtio_mmio_add(struct vmm_vm *vm, const struct virtio_dev_ops *ops, void *dev,
                    struct virtio_mmio_dev **out, berth_error_t *err);
void virtio_mmio_destroy(struct virtio_mmio_dev *t);
uint64_t virtio_mmio_base(const struct virtio_mmio_dev *t);
unsigned virtio_mmio_irq(const struct virtio_mmio_dev *t);

/* Interrupt the guest for used buffers on queue q (if the queue's
 * notification rules ask for it). */
void virtio_mmio_used(struct virtio_mmio_dev *t, unsigned q);

/* The common device loop: pop every request of q, hand each to fn (which
 * returns the bytes written into the request, or < 0 to stop), push,
 * interrupt, re-arm.  Marks the device broken if the guest corrupted q. */
typedef int (*virtio_req_fn)(void *dev, struct virtq_elem *e);
/* fn's answer for "not now" (a rate limit): the request goes back to the
 * ring untouched and fn has called virtio_mmio_retry_after(). */
#define VIRTIO_REQ_RETRY (-2)

/* Serve queue q again after ns nanoseconds (a rate limiter's wait).  The
 * timer is made by virtio_mmio_retry_init() when the device is added (on
 * the main thread: the event loop's tables are not for other threads). */
int virtio_mmio_retry_init(struct virtio_mmio_dev *t, berth_error_t *err);
void virtio_mmio_retry_after(struct virtio_mmio_dev *t, unsigned q, uint64_t ns);
void virtio_mmio_serve(struct virtio_mmio_dev *t, unsigned q, virtio_req_fn fn);

/* The device changed its config space: bump the generation, interrupt. */
void virtio_mmio_config_changed(struct virtio_mmio_dev *t);

/* For devices fed from the host (net receive, vsock receive): take the
 * next buffer the guest posted on q.  1 got one, 0 none (notification
 * re-armed, so the guest's next post wakes the device), -1 the queue is
 * not live or the guest broke it (reported as NEEDS_RESET). */
int virtio_mmio_pop_host(struct virtio_mmio_dev *t, unsigned q, struct virtq_elem *e);

/* All devices the config asks for (virtio_devices.c). */
int vmm_virtio_devices_init(struct vmm_vm *vm, berth_error_t *err);

#endif
