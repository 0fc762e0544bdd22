/* virtio_devices.c — creates the virtio devices a VM's config asks for, in
 * a fixed order (disks, network interfaces, then rng) so that their MMIO slots and IRQs are
 * stable from boot to boot. */
#include "vmm/virtio_devices.h"

int vmm_virtio_devices_init(struct vmm_vm *vm, berth_error_t *err)
{
        for (unsigned i = 0; i < vm->cfg->n_disks; i++)
                if (virtio_blk_add(vm, &vm->cfg->disks[i], err) < 0)
                        return -1;
        for (unsigned i = 0; i < vm->cfg->n_nets; i++)
                if (virtio_net_add(vm, &vm->cfg->nets[i], err) < 0)
                        return berth_wrap(err, "attach network interface %u", i);
        if (vm->cfg->rng && virtio_rng_add(vm, err) < 0)
                return -1;
        return 0;
}
