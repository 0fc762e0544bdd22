/* irqchip_state.c — the in-kernel interrupt controllers' and timers'
 * snapshot state: both 8259 PICs and the IOAPIC (KVM_GET_IRQCHIP), the
 * 8254 PIT (KVM_GET_PIT2) and the kvmclock (KVM_GET_CLOCK).  Each is KVM's
 * own x86-64 structure, whose layout is kernel ABI; the length is checked
 * against it on load and KVM checks the contents. */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/snapshot.h"

#define IRQCHIP_STATE_VERSION 1

/* A KVM ioctl failed: say which, and what kvm_pvm-style hosts lack. */
static int kvm_fail(berth_error_t *err, const char *what)
{
        int e = errno;
        if (e == ENOTTY || e == EINVAL)
                return berth_fail(err, e, "%s: not supported by this KVM", what);
        return berth_fail(err, e, "%s", what);
}

static const struct vmm_snap_section *raw_section(const struct vmm_snap *snap, const char *name,
                                                  uint32_t inst, size_t size, berth_error_t *err)
{
        const struct vmm_snap_section *sec = vmm_snap_need(snap, name, inst, err);
        if (!sec || vmm_snap_check_version(sec, IRQCHIP_STATE_VERSION, err) < 0)
                return NULL;
        if (sec->len != size) {
                berth_fail(err, EINVAL, "snapshot's `%s` state has %llu bytes, not %zu", name,
                           (unsigned long long) sec->len, size);
                return NULL;
        }
        return sec;
}

int vmm_irqchip_save(struct vmm_vm *vm, struct vmm_snap_buf *b, berth_error_t *err)
{
        for (uint32_t chip = 0; chip < 3; chip++) {
                struct kvm_irqchip c = {.chip_id = chip};
                if (ioctl(vm->vm_fd, KVM_GET_IRQCHIP, &c) < 0)
                        return kvm_fail(err, "KVM_GET_IRQCHIP");
                vmm_snap_section(b, "irqchip", chip, IRQCHIP_STATE_VERSION);
                vmm_snap_put_bytes(b, &c, sizeof(c));
        }
        struct kvm_pit_state2 pit;
        if (ioctl(vm->vm_fd, KVM_GET_PIT2, &pit) < 0)
                return kvm_fail(err, "KVM_GET_PIT2");
        vmm_snap_section(b, "pit", 0, IRQCHIP_STATE_VERSION);
        vmm_snap_put_bytes(b, &pit, sizeof(pit));
        struct kvm_clock_data clock = {0};
        if (ioctl(vm->vm_fd, KVM_GET_CLOCK, &clock) < 0)
                return kvm_fail(err, "KVM_GET_CLOCK");
        vmm_snap_section(b, "clock", 0, IRQCHIP_STATE_VERSION);
        vmm_snap_put_u64(b, clock.clock);
        return 0;
}

int vmm_irqchip_load(struct vmm_vm *vm, const struct vmm_snap *snap, berth_error_t *err)
{
        for (uint32_t chip = 0; chip < 3; chip++) {
                const struct vmm_snap_section *sec =
                        raw_section(snap, "irqchip", chip, sizeof(struct kvm_irqchip), err);
                if (!sec)
                        return -1;
                struct kvm_irqchip c;
                memcpy(&c, sec->data, sizeof(c));
                if (c.chip_id != chip)
                        return berth_fail(err, EINVAL, "snapshot's irqchip %u says it is chip %u",
                                          chip, c.chip_id);
                if (ioctl(vm->vm_fd, KVM_SET_IRQCHIP, &c) < 0)
                        return kvm_fail(err, "KVM_SET_IRQCHIP");
        }
        const struct vmm_snap_section *sec =
                raw_section(snap, "pit", 0, sizeof(struct kvm_pit_state2), err);
        if (!sec)
                return -1;
        struct kvm_pit_state2 pit;
        memcpy(&pit, sec->data, sizeof(pit));
        if (ioctl(vm->vm_fd, KVM_SET_PIT2, &pit) < 0)
                return kvm_fail(err, "KVM_SET_PIT2");
        if (!(sec = raw_section(snap, "clock", 0, 8, err)))
                return -1;
        struct vmm_snap_rd r;
        vmm_snap_rd_init(&r, sec);
        /* Only the clock's value: the guest's time resumes where it stopped,
         * whatever the host's own clocks did meanwhile. */
        struct kvm_clock_data clock = {.clock = vmm_snap_get_u64(&r)};
        if (ioctl(vm->vm_fd, KVM_SET_CLOCK, &clock) < 0)
                return kvm_fail(err, "KVM_SET_CLOCK");
        return 0;
}
