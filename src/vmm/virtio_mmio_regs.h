/* virtio_mmio_regs.h — virtio-mmio register offsets (virtio 1.x, section
 * 4.2.2), shared by the VMM's transport and the freestanding test guest's
 * driver, so the two cannot disagree. */
#ifndef BERTH_VMM_VIRTIO_MMIO_REGS_H
#define BERTH_VMM_VIRTIO_MMIO_REGS_H

enum virtio_mmio_reg {
        REG_MAGIC = 0x000,
        REG_VERSION = 0x004,
        REG_DEVICE_ID = 0x008,
        REG_VENDOR_ID = 0x00c,
        REG_DEVICE_FEATURES = 0x010,
        REG_DEVICE_FEATURES_SEL = 0x014,
        REG_DRIVER_FEATURES = 0x020,
        REG_DRIVER_FEATURES_SEL = 0x024,
        REG_QUEUE_SEL = 0x030,
        REG_QUEUE_NUM_MAX = 0x034,
        REG_QUEUE_NUM = 0x038,
        REG_QUEUE_READY = 0x044,
        REG_QUEUE_NOTIFY = 0x050,
        REG_INTERRUPT_STATUS = 0x060,
        REG_INTERRUPT_ACK = 0x064,
        REG_STATUS = 0x070,
        REG_QUEUE_DESC_LOW = 0x080,
        REG_QUEUE_DESC_HIGH = 0x084,
        REG_QUEUE_DRIVER_LOW = 0x090,
        REG_QUEUE_DRIVER_HIGH = 0x094,
        REG_QUEUE_DEVICE_LOW = 0x0a0,
        REG_QUEUE_DEVICE_HIGH = 0x0a4,
        REG_CONFIG_GENERATION = 0x0fc,
        REG_CONFIG = 0x100,
};

#define VIRTIO_MMIO_MAGIC 0x74726976u /* "virt" */

/* Device status bits. */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER      2
#define VIRTIO_STATUS_DRIVER_OK   4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 0x40

#endif
