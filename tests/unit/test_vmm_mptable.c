/* test_vmm_mptable.c — the MP Specification tables: checksums, entries,
 * and IRQ 0 routed to IOAPIC pin 2 as KVM's default routing has it. */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmm/acpi.h"
#include "vmm/boot.h"
#include "vmm/mptable.h"

int main(void)
{
        struct vmm_mem m = {0};
        m.map = calloc(1, 4 << 20);
        vmm_mem_layout(&m, 4 << 20);
        uint64_t addr = 0;
        ok(vmm_mptable_build(&m, 4, &addr, NULL) == 0, "built for 4 vCPUs");
        is_int(addr, BOOT_EBDA_ADDR, "floating pointer in the EBDA (reserved in e820)");
        const uint8_t *fp = vmm_mem_ptr(&m, addr, 16);
        ok(memcmp(fp, "_MP_", 4) == 0, "_MP_ signature");
        is_int(vmm_acpi_checksum(fp, 16), 0, "floating pointer checksum");
        uint32_t table;
        memcpy(&table, fp + 4, 4);
        const uint8_t *t = vmm_mem_ptr(&m, table, 44);
        ok(t && memcmp(t, "PCMP", 4) == 0, "PCMP configuration table");
        uint16_t len, count;
        memcpy(&len, t + 4, 2);
        memcpy(&count, t + 34, 2);
        is_int(vmm_acpi_checksum(t, len), 0, "configuration table checksum");
        is_int(count, 4 + 1 + 1 + 24 + 2, "4 CPUs, a bus, an IOAPIC, 24 IRQs, 2 local");
        const uint8_t *e = t + 44;
        unsigned cpus = 0, bsp = 0, irq0_pin = 99, irq5_pin = 99;
        for (unsigned i = 0; i < count; i++) {
                if (e[0] == 0) {
                        cpus += e[3] & 1;
                        bsp += (e[3] & 2) != 0;
                        e += 20;
                        continue;
                }
                if (e[0] == 3 && e[5] == 0)
                        irq0_pin = e[7];
                if (e[0] == 3 && e[5] == 5)
                        irq5_pin = e[7];
                e += 8;
        }
        is_int(cpus, 4, "4 enabled processors");
        is_int(bsp, 1, "one boot processor");
        is_int(irq0_pin, 2, "IRQ 0 -> pin 2");
        is_int(irq5_pin, 5, "IRQ 5 (first virtio device) -> pin 5");
        ok(vmm_mptable_build(&m, 33, &addr, NULL) < 0, "more CPUs than the table takes refused");
        free(m.map);
        return tap_done();
}
