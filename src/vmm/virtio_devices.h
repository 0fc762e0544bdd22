/* virtio_devices.h — constructors of berth-vmm's virtio devices. */
#ifndef BERTH_VMM_VIRTIO_DEVICES_H
#define BERTH_VMM_VIRTIO_DEVICES_H

#include "vmm/virtio_mmio.h"
#include "vmm/vm.h"

int virtio_blk_add(struct vmm_vm *vm, const struct vmm_disk_config *dc, berth_error_t *err);
int virtio_net_add(struct vmm_vm *vm, const struct vmm_net_config *nc, berth_error_t *err);
int virtio_vsock_add(struct vmm_vm *vm, const struct vmm_vsock_config *vc, berth_error_t *err);
int virtio_balloon_add(struct vmm_vm *vm, uint64_t target_mib, berth_error_t *err);
int virtio_rng_add(struct vmm_vm *vm, berth_error_t *err);

#endif
