/* acpi.h — minimal hardware-reduced ACPI tables, as QEMU's microvm builds:
 * RSDP, XSDT, FADT (sleep-control and reset registers on berth-vmm's PM
 * ports), MADT (one LAPIC per vCPU, the IOAPIC, IRQ0 -> GSI 2) and a DSDT
 * naming each virtio-mmio device (LNRO0005) and the COM1 UART, plus \_S5
 * for poweroff.  Distribution kernels without
 * VIRTIO_MMIO_CMDLINE_DEVICES find their devices this way. */
#ifndef BERTH_VMM_ACPI_H
#define BERTH_VMM_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "vmm/mem.h"

#define VMM_ACPI_MAX_MMIO 16

struct vmm_acpi_mmio_dev {
        uint64_t base, size;
        unsigned irq;
};

struct vmm_acpi_config {
        unsigned cpus;
        struct vmm_acpi_mmio_dev mmio[VMM_ACPI_MAX_MMIO];
        unsigned n_mmio;
        bool ged; /* the power button: a GED (ged.c) and a PNP0C0C device */
};

/* Write the tables into guest memory at BOOT_BIOS_ADDR; *rsdp gets the
 * RSDP's guest-physical address. */
int vmm_acpi_build(struct vmm_mem *m, const struct vmm_acpi_config *c, uint64_t *rsdp,
                   berth_error_t *err);

/* The DSDT's AML into buf (for tests); returns its length, 0 if too small. */
size_t vmm_acpi_dsdt(const struct vmm_acpi_config *c, uint8_t *buf, size_t len);

/* ACPI's checksum rule: all bytes of a table sum to 0 mod 256. */
uint8_t vmm_acpi_checksum(const uint8_t *p, size_t len);

#endif
