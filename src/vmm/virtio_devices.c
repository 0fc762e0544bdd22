/* virtio_devices.c — creates the virtio devices a VM's config asks for, in
 * a fixed order (disks, then rng) so that their MMIO slots and IRQs are
 * stable from boot to boot. */
#include "vmm/virtio_devices.h"

#include <errno.h>

int vmm_virtio_devices_init(struct vmm_vm *vm, berth_error_t *err)
{
        for (unsigned i = 0; i < vm->cfg->n_disks; i++) {
#ifdef BERTH_VMM_HAVE_DISK
                if (virtio_blk_add(vm, &vm->cfg->disks[i], err) < 0)
                        return -1;
#else
                return berth_fail_status(err, VMM_EXIT_USAGE, ENOTSUP,
                                         "disk `%s`: this build has no block layer",
                                         vm->cfg->disks[i].path);
#endif
        }
        if (vm->cfg->rng && virtio_rng_add(vm, err) < 0)
                return -1;
        return 0;
}
