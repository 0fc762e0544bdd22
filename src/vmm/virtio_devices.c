/* virtio_devices.c — creates the virtio devices a VM's config asks for, in
 * a fixed order (disks, network interfaces, vsock, balloon, then rng) so that their MMIO slots and
 * IRQs are stable from boot to boot. */
#include "vmm/virtio_devices.h"

int vmm_virtio_devices_init(struct vmm_vm *vm, berth_error_t *err)
{
        for (unsigned i = 0; i < vm->cfg->n_disks; i++)
                if (virtio_blk_add(vm, &vm->cfg->disks[i], err) < 0)
                        return -1;
        if (vmm_tap_fds_check(vm->cfg, err) < 0)
                return -1;
        for (unsigned i = 0; i < vm->cfg->n_nets; i++)
                if (virtio_net_add(vm, &vm->cfg->nets[i], err) < 0)
                        return berth_wrap(err, "attach network interface %u", i);
        if (vm->cfg->vsock.cid && virtio_vsock_add(vm, &vm->cfg->vsock, err) < 0)
                return -1;
        if (vm->cfg->balloon && virtio_balloon_add(vm, vm->cfg->balloon_mib, err) < 0)
                return -1;
        if (vm->cfg->rng && virtio_rng_add(vm, err) < 0)
                return -1;
        return 0;
}
