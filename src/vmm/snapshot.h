/* snapshot.h — full snapshots of a running VM (Firecracker's model): a
 * state file (snapshot_format.h) with the configuration, every device's
 * and every vCPU's state, beside a memory file holding guest RAM as is.
 * Restore maps the memory file privately, so pages load as the guest
 * touches them and the file is never written.  Internal to src/vmm/. */
#ifndef BERTH_VMM_SNAPSHOT_H
#define BERTH_VMM_SNAPSHOT_H

#include "vmm/snapshot_format.h"
#include "vmm/vm.h"

struct virtio_mmio_dev;

/* What a restore works from, kept on the VM while it is built. */
struct vmm_restore {
        uint8_t *state; /* the state file's bytes; sections point into them */
        size_t state_len;
        struct vmm_snap snap;
        int mem_fd;
        /* Diff snapshots' memory files, laid over mem_fd's in this order */
        int diff_fds[VMM_MAX_MEM_DIFFS];
        unsigned n_diffs;
};

/* Write the state and memory files of a paused VM: all of its RAM, or
 * (diff) only the pages written since the last snapshot taken or loaded. */
int vmm_snapshot_create(struct vmm_vm *vm, const char *state_path, const char *mem_path, bool diff,
                        berth_error_t *err);
/* Read and check the state file, check the memory file (and the diffs'
 * memory files laid over it, oldest first) against it, and take the
 * snapshot's configuration into vm->api_cfg.  Nothing is built: a refusal
 * leaves the VMM as it was. */
int vmm_snapshot_open(struct vmm_vm *vm, const char *state_path, const char *mem_path,
                      const char *const *diffs, unsigned n_diffs, berth_error_t *err);
/* vm_build's restore leg (vm->restore set): the devices exist; make the
 * vCPUs and load every state.  The vCPUs start in vmm_vm_boot. */
int vmm_snapshot_restore(struct vmm_vm *vm, berth_error_t *err);
/* Guest RAM from the memory file, mapped privately (vm.c's mem_init). */
int vmm_snapshot_map_memory(struct vmm_vm *vm, berth_error_t *err);
void vmm_snapshot_close(struct vmm_vm *vm);

/* The API's PUT /snapshot/create and /snapshot/load (Firecracker's bodies). */
int vmm_snapshot_api_create(struct vmm_vm *vm, struct json_t *body, berth_error_t *err);
int vmm_snapshot_api_load(struct vmm_vm *vm, struct json_t *body, berth_error_t *err);

/* Each device's state, saved and loaded beside its code. */
void vmm_serial_save(struct vmm_serial *u, struct vmm_snap_buf *b);
int vmm_serial_load(struct vmm_serial *u, const struct vmm_snap *s, berth_error_t *err);
void vmm_i8042_save(struct vmm_i8042 *k, struct vmm_snap_buf *b);
int vmm_i8042_load(struct vmm_i8042 *k, const struct vmm_snap *s, berth_error_t *err);
int virtio_mmio_save(struct virtio_mmio_dev *t, unsigned index, struct vmm_snap_buf *b,
                     berth_error_t *err);
int virtio_mmio_load(struct virtio_mmio_dev *t, unsigned index, const struct vmm_snap *s,
                     berth_error_t *err);
/* After every load: serve what the guest queued before the snapshot. */
void virtio_mmio_kick_restored(struct virtio_mmio_dev *t);
int vmm_irqchip_save(struct vmm_vm *vm, struct vmm_snap_buf *b, berth_error_t *err);
int vmm_irqchip_load(struct vmm_vm *vm, const struct vmm_snap *s, berth_error_t *err);
int vmm_vcpu_save(struct vmm_vcpu *v, struct vmm_snap_buf *b, berth_error_t *err);
int vmm_vcpu_load(struct vmm_vcpu *v, const struct vmm_snap *s, berth_error_t *err);

#endif
