/* legacy.c — the few PC ports a guest uses to leave: the power-management
 * registers that hardware-reduced ACPI's FADT points at (sleep control for
 * poweroff, reset register), and the POST port 0x80 that Linux writes as an
 * I/O delay.  It also wires the i8042 (i8042.c), whose reset line is the
 * other way out (Linux's reboot=k). */
#include <errno.h>

#include "common/log.h"
#include "vmm/vm.h"

static void pm_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool write)
{
        struct vmm_vm *vm = opaque;
        if (!write) {
                /* Sleep status: WAK_STS set, nothing pending. */
                data[0] = off == VMM_PM_SLEEP_STATUS ? 0x80 : 0;
                for (unsigned i = 1; i < len; i++)
                        data[i] = 0;
                return;
        }
        if (off == VMM_PM_SLEEP_CONTROL && (data[0] & VMM_PM_SLP_EN)) {
                unsigned typ = (data[0] >> 2) & 7;
                if (typ == VMM_PM_SLP_TYP_S5) {
                        log_info("guest powered off (ACPI S5)");
                        vmm_vm_stop(vm, VMM_EXIT_POWEROFF);
                } else {
                        log_warn("guest asked for sleep state %u, which berth-vmm lacks", typ);
                }
        } else if (off == VMM_PM_RESET && data[0] == VMM_PM_RESET_VALUE) {
                log_info("guest reset through the ACPI reset register");
                vmm_vm_stop(vm, VMM_EXIT_REBOOT);
        }
}

static void ignore_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool write)
{
        (void) opaque;
        (void) off;
        if (!write)
                for (unsigned i = 0; i < len; i++)
                        data[i] = 0xff;
}

int vmm_legacy_init(struct vmm_vm *vm, berth_error_t *err)
{
        if (vmm_i8042_init(vm, &vm->i8042) < 0 ||
            vmm_bus_add(&vm->pio, VMM_PM_PORT, 4, pm_io, vm) < 0 ||
            vmm_bus_add(&vm->pio, 0x80, 1, ignore_io, vm) < 0)
                return berth_fail(err, EINVAL, "wire the legacy ports");
        return 0;
}
