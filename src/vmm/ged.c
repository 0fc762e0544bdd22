/* ged.c — the ACPI Generic Event Device behind berth-vmm's power button.
 *
 * Hardware-reduced ACPI has no fixed power button: a press is an event
 * the firmware's AML turns into Notify (\_SB.PWRB, 0x80).  The DSDT
 * (acpi.c) describes a GED (ACPI0013) with one interrupt and an _EVT
 * method that reads the event selector here; this file keeps that
 * selector and raises the interrupt.  Reading the selector returns the
 * pending events and clears them, so one press is seen once whoever reads
 * it (Linux's evged from its interrupt, the test guest by polling).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "common/log.h"
#include "vmm/vm.h"

static struct {
        pthread_mutex_t lock;
        uint32_t pending;
        bool wired;
} ged = {.lock = PTHREAD_MUTEX_INITIALIZER};

static void ged_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool write)
{
        (void) opaque;
        if (write)
                return; /* the selector is read-only; writes are dropped */
        uint32_t v = 0;
        if (off == 0) {
                pthread_mutex_lock(&ged.lock);
                v = ged.pending;
                ged.pending = 0;
                pthread_mutex_unlock(&ged.lock);
        }
        for (unsigned i = 0; i < len; i++)
                data[i] = i < 4 ? (uint8_t) (v >> (8 * i)) : 0;
}

int vmm_ged_init(struct vmm_vm *vm, berth_error_t *err)
{
        if (vmm_bus_add(&vm->mmio, VMM_GED_BASE, VMM_GED_SIZE, ged_io, vm) < 0)
                return berth_fail(err, EINVAL, "wire the ACPI event device at %#x", VMM_GED_BASE);
        pthread_mutex_lock(&ged.lock);
        ged.pending = 0;
        ged.wired = true;
        pthread_mutex_unlock(&ged.lock);
        return 0;
}

int vmm_ged_power_button(struct vmm_vm *vm, berth_error_t *err)
{
        pthread_mutex_lock(&ged.lock);
        bool wired = ged.wired;
        if (wired)
                ged.pending |= VMM_GED_EVT_PWR_BUTTON;
        pthread_mutex_unlock(&ged.lock);
        if (!wired)
                return berth_fail(err, ENODEV,
                                  "the VM has no ACPI power button (--no-acpi): use "
                                  "SendCtrlAltDel");
        /* An edge: evged's handler runs _EVT once per pulse. */
        vmm_vm_irq_line(vm, VMM_GED_IRQ, 1);
        vmm_vm_irq_line(vm, VMM_GED_IRQ, 0);
        log_info("power button pressed");
        return 0;
}
