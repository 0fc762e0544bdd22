/* mptable.c — the Intel MultiProcessor Specification 1.4 tables in the
 * EBDA: how a kernel without ACPI (or booted with --no-acpi) finds the
 * vCPUs, the IOAPIC and the interrupt wiring.  ISA IRQ 0 is routed to
 * IOAPIC pin 2, as KVM's default routing does; every other IRQ to its own
 * pin. */
#include "vmm/mptable.h"

#include <errno.h>
#include <string.h>

#include "vmm/acpi.h"
#include "vmm/boot.h"

#define MP_IRQS        24
#define APIC_VERSION   0x14
#define IOAPIC_VERSION 0x11

static void put(uint8_t *p, size_t off, const void *v, size_t n)
{
        memcpy(p + off, v, n);
}

/* An I/O interrupt assignment: ISA `irq` to `pin` of the IOAPIC `apic`
 * (interrupt type INT, bus-default polarity and trigger). */
static size_t io_irq(uint8_t *p, uint8_t irq, uint8_t apic, uint8_t pin)
{
        uint8_t e[8] = {3, 0, 0, 0, 0, irq, apic, pin};
        memcpy(p, e, 8);
        return 8;
}

int vmm_mptable_build(struct vmm_mem *m, unsigned cpus, uint64_t *addr, berth_error_t *err)
{
        size_t room = 0xa0000 - BOOT_EBDA_ADDR;
        uint8_t *base = vmm_mem_ptr(m, BOOT_EBDA_ADDR, room);
        if (!base || cpus == 0 || cpus > VMM_MPTABLE_MAX_CPUS)
                return berth_fail(err, EINVAL, "no room for the MP table");
        memset(base, 0, room);
        uint8_t *fp = base, *t = base + 16;
        uint32_t table = (uint32_t) (BOOT_EBDA_ADDR + 16);
        size_t len = 44;
        uint16_t count = 0;
        for (unsigned i = 0; i < cpus; i++, count++) {
                uint8_t e[20] = {0, (uint8_t) i, APIC_VERSION, (uint8_t) (1 | (i == 0 ? 2 : 0))};
                uint32_t sig = 0x600, features = 0x201; /* family 6; FPU, APIC */
                memcpy(e + 4, &sig, 4);
                memcpy(e + 8, &features, 4);
                put(t, len, e, 20);
                len += 20;
        }
        uint8_t bus[8] = {1, 0, 'I', 'S', 'A', ' ', ' ', ' '};
        put(t, len, bus, 8);
        len += 8;
        count++;
        uint8_t ioapic_id = (uint8_t) cpus;
        uint32_t ioapic_addr = (uint32_t) VMM_IOAPIC_BASE;
        uint8_t io[8] = {2, ioapic_id, IOAPIC_VERSION, 1};
        memcpy(io + 4, &ioapic_addr, 4);
        put(t, len, io, 8);
        len += 8;
        count++;
        for (uint8_t irq = 0; irq < MP_IRQS; irq++, count++)
                len += io_irq(t + len, irq, ioapic_id, irq == 0 ? 2 : irq);
        /* LINT0: ExtINT from the 8259s; LINT1: NMI; to every local APIC. */
        uint8_t l0[8] = {4, 3, 0, 0, 0, 0, 0xff, 0}, l1[8] = {4, 1, 0, 0, 0, 0, 0xff, 1};
        put(t, len, l0, 8);
        put(t, len + 8, l1, 8);
        len += 16;
        count += 2;
        if (16 + len > room)
                return berth_fail(err, E2BIG, "MP table too large");

        put(t, 0, "PCMP", 4);
        uint16_t blen = (uint16_t) len;
        put(t, 4, &blen, 2);
        t[6] = 4; /* spec 1.4 */
        put(t, 8, "BERTH   ", 8);
        put(t, 16, "BERTH-VMM   ", 12);
        put(t, 34, &count, 2);
        uint32_t lapic = (uint32_t) VMM_LAPIC_BASE;
        put(t, 36, &lapic, 4);
        t[7] = (uint8_t) (0 - vmm_acpi_checksum(t, len));

        put(fp, 0, "_MP_", 4);
        put(fp, 4, &table, 4);
        fp[8] = 1; /* length in 16-byte units */
        fp[9] = 4;
        fp[10] = (uint8_t) (0 - vmm_acpi_checksum(fp, 16));
        *addr = BOOT_EBDA_ADDR;
        return 0;
}
