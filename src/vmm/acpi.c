/* acpi.c — builds the hardware-reduced ACPI tables (see acpi.h).  The DSDT
 * is assembled here as AML bytecode with a tiny emitter; the unit test
 * disassembles it with iasl to check it. */
#include "vmm/acpi.h"

#include <errno.h>
#include <string.h>

#include "vmm/boot.h"
#include "vmm/i8042.h"
#include "vmm/serial.h"
#include "vmm/vm.h"

#define OEM_ID       "BERTH "
#define OEM_TABLE_ID "BERTHVM "
#define CREATOR_ID   "BRTH"

struct aml {
        uint8_t *p;
        size_t len, cap;
        bool overflow;
};

static void emit(struct aml *a, const void *data, size_t n)
{
        if (a->len + n > a->cap) {
                a->overflow = true;
                return;
        }
        memcpy(a->p + a->len, data, n);
        a->len += n;
}

static void emit8(struct aml *a, uint8_t v)
{
        emit(a, &v, 1);
}

static void emit16(struct aml *a, uint16_t v)
{
        emit(a, &v, 2);
}

static void emit32(struct aml *a, uint32_t v)
{
        emit(a, &v, 4);
}

/* A package (Scope, Device, Buffer, Package) is opened by reserving room
 * for the longest PkgLength (4 bytes) and closed by encoding the real
 * length and sliding the body down. */
static size_t pkg_open(struct aml *a)
{
        size_t at = a->len;
        emit32(a, 0);
        return at;
}

static void pkg_close(struct aml *a, size_t at)
{
        if (a->overflow)
                return;
        size_t body = a->len - at - 4;
        uint8_t enc[4];
        size_t n;
        /* PkgLength counts its own bytes. */
        if (body + 1 < 0x40) {
                enc[0] = (uint8_t) (body + 1);
                n = 1;
        } else if (body + 2 < 0x1000) {
                size_t l = body + 2;
                enc[0] = (uint8_t) (0x40 | (l & 0xf));
                enc[1] = (uint8_t) (l >> 4);
                n = 2;
        } else {
                size_t l = body + 3;
                enc[0] = (uint8_t) (0x80 | (l & 0xf));
                enc[1] = (uint8_t) (l >> 4);
                enc[2] = (uint8_t) (l >> 12);
                n = 3;
        }
        memmove(a->p + at + n, a->p + at + 4, body);
        memcpy(a->p + at, enc, n);
        a->len = at + n + body;
}

static void name_seg(struct aml *a, const char *seg)
{
        emit(a, seg, 4);
}

static void integer(struct aml *a, uint32_t v)
{
        if (v == 0) {
                emit8(a, 0x00); /* ZeroOp */
        } else if (v == 1) {
                emit8(a, 0x01); /* OneOp */
        } else if (v <= 0xff) {
                emit8(a, 0x0a);
                emit8(a, (uint8_t) v);
        } else if (v <= 0xffff) {
                emit8(a, 0x0b);
                emit16(a, (uint16_t) v);
        } else {
                emit8(a, 0x0c);
                emit32(a, v);
        }
}

static void name_string(struct aml *a, const char *seg, const char *s)
{
        emit8(a, 0x08); /* NameOp */
        name_seg(a, seg);
        emit8(a, 0x0d); /* StringPrefix */
        emit(a, s, strlen(s) + 1);
}

static void name_int(struct aml *a, const char *seg, uint32_t v)
{
        emit8(a, 0x08);
        name_seg(a, seg);
        integer(a, v);
}

/* EISA id "PNP0501" compressed into a DWORD, as the EisaId() macro does. */
static uint32_t eisa_id(const char *id)
{
        uint32_t v = ((uint32_t) (id[0] - '@') << 26) | ((uint32_t) (id[1] - '@') << 21) |
                     ((uint32_t) (id[2] - '@') << 16);
        for (int i = 3; i < 7; i++) {
                char c = id[i];
                uint32_t d = (uint32_t) (c >= 'A' ? c - 'A' + 10 : c - '0');
                v |= d << (4 * (6 - i));
        }
        /* Stored big-endian within the little-endian DWORD. */
        return __builtin_bswap32(v);
}

/* Name (_CRS, ResourceTemplate () { ... }) around the descriptors in res. */
static void crs(struct aml *a, const uint8_t *res, size_t n)
{
        emit8(a, 0x08);
        name_seg(a, "_CRS");
        emit8(a, 0x11); /* BufferOp */
        size_t at = pkg_open(a);
        integer(a, (uint32_t) n + 2);
        emit(a, res, n);
        emit8(a, 0x79); /* End tag */
        emit8(a, 0x00);
        pkg_close(a, at);
}

static void device_begin(struct aml *a, const char *seg, size_t *at)
{
        emit8(a, 0x5b); /* ExtOpPrefix */
        emit8(a, 0x82); /* DeviceOp */
        *at = pkg_open(a);
        name_seg(a, seg);
}

static void virtio_device(struct aml *a, unsigned idx, const struct vmm_acpi_mmio_dev *d)
{
        char seg[5] = {'V', 'R', (char) ('0' + idx / 10), (char) ('0' + idx % 10), 0};
        size_t at;
        device_begin(a, seg, &at);
        name_string(a, "_HID", "LNRO0005");
        name_int(a, "_UID", idx);
        uint8_t res[12 + 9];
        /* Memory32Fixed (ReadWrite, base, size) */
        res[0] = 0x86;
        res[1] = 9;
        res[2] = 0;
        res[3] = 1;
        uint32_t base = (uint32_t) d->base, size = (uint32_t) d->size, irq = d->irq;
        memcpy(res + 4, &base, 4);
        memcpy(res + 8, &size, 4);
        /* Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive) { irq }:
         * edge, because irqfd delivers a pulse. */
        res[12] = 0x89;
        res[13] = 6;
        res[14] = 0;
        res[15] = 0x03; /* consumer | edge */
        res[16] = 1;
        memcpy(res + 17, &irq, 4);
        crs(a, res, sizeof(res));
        pkg_close(a, at);
}

/* Device (seg) { Name (_HID, EisaId (id)), [Name (_UID, uid),] _CRS } */
static void legacy_device(struct aml *a, const char *seg, const char *id, int uid,
                          const uint8_t *res, size_t n)
{
        size_t at;
        device_begin(a, seg, &at);
        emit8(a, 0x08);
        name_seg(a, "_HID");
        emit8(a, 0x0c); /* DWordPrefix */
        emit32(a, eisa_id(id));
        if (uid >= 0)
                name_int(a, "_UID", (uint32_t) uid);
        crs(a, res, n);
        pkg_close(a, at);
}

/* IO (Decode16, port, port, align, len): 8 bytes at p. */
static void io_desc(uint8_t *p, uint16_t port, uint8_t align, uint8_t len)
{
        p[0] = 0x47;
        p[1] = 0x01; /* 16-bit decode */
        p[2] = p[4] = (uint8_t) port;
        p[3] = p[5] = (uint8_t) (port >> 8);
        p[6] = align;
        p[7] = len;
}

/* IRQNoFlags () { irq }: 3 bytes at p. */
static void irq_desc(uint8_t *p, unsigned irq)
{
        p[0] = 0x22;
        p[1] = (uint8_t) (1u << irq);
        p[2] = (uint8_t) ((1u << irq) >> 8);
}

/* The i8042 as QEMU describes it, so Linux's i8042 driver finds it through
 * PNP (no i8042.nopnp needed): a PS/2 keyboard port, and no PNP0F13 mouse,
 * which tells the driver there is no AUX port. */
static void kbd_device(struct aml *a)
{
        uint8_t res[8 + 8 + 3];
        io_desc(res, VMM_I8042_DATA, 1, 1);
        io_desc(res + 8, VMM_I8042_CMD, 1, 1);
        irq_desc(res + 16, VMM_I8042_IRQ);
        legacy_device(a, "KBD_", "PNP0303", -1, res, sizeof(res));
}

static void com1_device(struct aml *a)
{
        uint8_t res[8 + 3];
        io_desc(res, VMM_SERIAL_PORT, 0, 8);
        irq_desc(res + 8, VMM_SERIAL_IRQ);
        legacy_device(a, "COM1", "PNP0501", 1, res, sizeof(res));
}

/* The power button, hardware-reduced ACPI's way: a Generic Event Device
 * whose _EVT reads the event selector (ged.c) and notifies PWRB, which
 * Linux's button driver turns into KEY_POWER (systemd/acpid: poweroff).
 *
 *   Device (GED_) { Name (_HID, "ACPI0013") Name (_UID, 0)
 *     Name (_CRS, ResourceTemplate () { Interrupt (, Edge, ActiveHigh) { 23 } })
 *     OperationRegion (GEDR, SystemMemory, VMM_GED_BASE, 4)
 *     Field (GEDR, DWordAcc, NoLock, WriteAsZeros) { ESEL, 32 }
 *     Method (_EVT, 1, Serialized) {
 *       Local0 = ESEL
 *       If (Local0 & 1) { Notify (\_SB.PWRB, 0x80) } } }
 *   Device (PWRB) { Name (_HID, "PNP0C0C") Name (_UID, 0) } */
static void ged_devices(struct aml *a)
{
        size_t dev, at;
        device_begin(a, "GED_", &dev);
        name_string(a, "_HID", "ACPI0013");
        name_int(a, "_UID", 0);
        uint8_t res[9] = {0x89, 6, 0, 0x03 /* consumer | edge */, 1};
        uint32_t irq = VMM_GED_IRQ;
        memcpy(res + 5, &irq, 4);
        crs(a, res, sizeof(res));
        emit8(a, 0x5b); /* OperationRegion (GEDR, SystemMemory, base, size) */
        emit8(a, 0x80);
        name_seg(a, "GEDR");
        emit8(a, 0x00);
        integer(a, VMM_GED_BASE);
        integer(a, VMM_GED_SIZE);
        emit8(a, 0x5b); /* Field (GEDR, DWordAcc, NoLock, WriteAsZeros) */
        emit8(a, 0x81);
        at = pkg_open(a);
        name_seg(a, "GEDR");
        emit8(a, 0x03 | (2 << 5));
        name_seg(a, "ESEL");
        emit8(a, 32); /* its width in bits, as a one-byte PkgLength */
        pkg_close(a, at);
        emit8(a, 0x14); /* Method (_EVT, 1, Serialized) */
        size_t m = pkg_open(a);
        name_seg(a, "_EVT");
        emit8(a, 0x09);
        emit8(a, 0x70); /* Store (ESEL, Local0) */
        name_seg(a, "ESEL");
        emit8(a, 0x60);
        emit8(a, 0xa0); /* If (And (Local0, One)) */
        at = pkg_open(a);
        emit8(a, 0x7b);
        emit8(a, 0x60);
        integer(a, VMM_GED_EVT_PWR_BUTTON);
        emit8(a, 0x00);
        emit8(a, 0x86); /* Notify (\_SB.PWRB, 0x80) */
        emit8(a, '\\');
        emit8(a, 0x2e); /* DualNamePrefix */
        name_seg(a, "_SB_");
        name_seg(a, "PWRB");
        integer(a, 0x80);
        pkg_close(a, at);
        pkg_close(a, m);
        pkg_close(a, dev);
        device_begin(a, "PWRB", &dev);
        name_string(a, "_HID", "PNP0C0C");
        name_int(a, "_UID", 0);
        pkg_close(a, dev);
}

struct acpi_header {
        char signature[4];
        uint32_t length;
        uint8_t revision;
        uint8_t checksum;
        char oem_id[6];
        char oem_table_id[8];
        uint32_t oem_revision;
        char creator_id[4];
        uint32_t creator_revision;
} __attribute__((packed));

static void header(void *t, const char *sig, uint32_t len, uint8_t rev)
{
        struct acpi_header *h = t;
        memcpy(h->signature, sig, 4);
        h->length = len;
        h->revision = rev;
        memcpy(h->oem_id, OEM_ID, 6);
        memcpy(h->oem_table_id, OEM_TABLE_ID, 8);
        h->oem_revision = 1;
        memcpy(h->creator_id, CREATOR_ID, 4);
        h->creator_revision = 1;
        h->checksum = 0;
        h->checksum = (uint8_t) (0 - vmm_acpi_checksum(t, len));
}

uint8_t vmm_acpi_checksum(const uint8_t *p, size_t len)
{
        uint8_t s = 0;
        for (size_t i = 0; i < len; i++)
                s = (uint8_t) (s + p[i]);
        return s;
}

size_t vmm_acpi_dsdt(const struct vmm_acpi_config *c, uint8_t *buf, size_t len)
{
        struct aml a = {buf, sizeof(struct acpi_header), len, len < sizeof(struct acpi_header)};
        emit8(&a, 0x10); /* ScopeOp */
        size_t at = pkg_open(&a);
        emit8(&a, '\\');
        name_seg(&a, "_SB_");
        com1_device(&a);
        kbd_device(&a);
        for (unsigned i = 0; i < c->n_mmio; i++)
                virtio_device(&a, i, &c->mmio[i]);
        if (c->ged)
                ged_devices(&a);
        pkg_close(&a, at);
        /* Name (\_S5, Package () { 5, 0 }): SLP_TYP 5 means poweroff to
         * berth-vmm's sleep-control register. */
        emit8(&a, 0x08);
        emit8(&a, '\\');
        name_seg(&a, "_S5_");
        emit8(&a, 0x12); /* PackageOp */
        at = pkg_open(&a);
        emit8(&a, 2);
        integer(&a, VMM_PM_SLP_TYP_S5);
        integer(&a, 0);
        pkg_close(&a, at);
        if (a.overflow)
                return 0;
        header(buf, "DSDT", (uint32_t) a.len, 2);
        return a.len;
}

struct gas {
        uint8_t space_id, bit_width, bit_offset, access_size;
        uint64_t address;
} __attribute__((packed));

static struct gas pm_reg(unsigned off)
{
        return (struct gas){.space_id = 1 /* SystemIO */,
                            .bit_width = 8,
                            .access_size = 1,
                            .address = VMM_PM_PORT + off};
}

#define FADT_LEN                  276
#define FADT_F_RESET_REG_SUP      (1u << 10)
#define FADT_F_HW_REDUCED         (1u << 20)
#define FADT_F_PWR_BUTTON         (1u << 4) /* no fixed power button */
#define FADT_F_SLP_BUTTON         (1u << 5)
#define IAPC_8042                 (1u << 1)
#define IAPC_VGA_NOT_PRESENT      (1u << 2)
#define IAPC_MSI_NOT_SUPPORTED    (1u << 3)
#define IAPC_CMOS_RTC_NOT_PRESENT (1u << 5)

static void put(uint8_t *t, size_t off, const void *v, size_t n)
{
        memcpy(t + off, v, n);
}

static void build_fadt(uint8_t *t, uint64_t dsdt)
{
        memset(t, 0, FADT_LEN);
        uint32_t dsdt32 = (uint32_t) dsdt;
        put(t, 40, &dsdt32, 4);
        /* IAPC_8042: without it Linux takes the i8042 as absent (unless PNP finds it). */
        uint16_t iapc = IAPC_8042 | IAPC_VGA_NOT_PRESENT | IAPC_MSI_NOT_SUPPORTED |
                        IAPC_CMOS_RTC_NOT_PRESENT;
        put(t, 109, &iapc, 2);
        uint32_t flags =
                FADT_F_HW_REDUCED | FADT_F_RESET_REG_SUP | FADT_F_PWR_BUTTON | FADT_F_SLP_BUTTON;
        put(t, 112, &flags, 4);
        struct gas g = pm_reg(VMM_PM_RESET);
        put(t, 116, &g, sizeof(g));
        t[128] = VMM_PM_RESET_VALUE;
        t[131] = 5; /* FADT minor version: ACPI 6.5 */
        put(t, 140, &dsdt, 8);
        g = pm_reg(VMM_PM_SLEEP_CONTROL);
        put(t, 244, &g, sizeof(g));
        g = pm_reg(VMM_PM_SLEEP_STATUS);
        put(t, 256, &g, sizeof(g));
        put(t, 268, "BERTHVMM", 8); /* hypervisor vendor identity */
        header(t, "FACP", FADT_LEN, 6);
}

static size_t build_madt(uint8_t *t, unsigned cpus)
{
        size_t len = 44;
        uint32_t lapic = (uint32_t) VMM_LAPIC_BASE, flags = 1; /* PCAT_COMPAT: 8259s present */
        memset(t, 0, 44);
        put(t, 36, &lapic, 4);
        put(t, 40, &flags, 4);
        for (unsigned i = 0; i < cpus; i++) {
                uint8_t e[8] = {0, 8, (uint8_t) i, (uint8_t) i, 1, 0, 0, 0};
                put(t, len, e, 8);
                len += 8;
        }
        uint32_t ioapic = (uint32_t) VMM_IOAPIC_BASE, gsi_base = 0;
        uint8_t io[12] = {1, 12, (uint8_t) cpus /* IOAPIC id after the CPUs */, 0};
        memcpy(io + 4, &ioapic, 4);
        memcpy(io + 8, &gsi_base, 4);
        put(t, len, io, 12);
        len += 12;
        /* KVM's default routing wires the PIT (IRQ 0) to IOAPIC pin 2. */
        uint8_t iso[10] = {2, 10, 0, 0, 2, 0, 0, 0, 0, 0};
        put(t, len, iso, 10);
        len += 10;
        header(t, "APIC", (uint32_t) len, 5);
        return len;
}

int vmm_acpi_build(struct vmm_mem *m, const struct vmm_acpi_config *c, uint64_t *rsdp,
                   berth_error_t *err)
{
        const uint64_t base = BOOT_BIOS_ADDR, limit = BOOT_HIGH_ADDR;
        uint8_t *area = vmm_mem_ptr(m, base, limit - base);
        if (!area)
                return berth_fail(err, EINVAL, "guest memory too small for the ACPI tables");
        memset(area, 0, limit - base);
        /* RSDP at 0xe0000 (found by the BIOS-area scan, too), then XSDT,
         * FADT, MADT, DSDT, each 64-byte aligned. */
        uint64_t xsdt = base + 64, fadt = xsdt + 64, madt = fadt + 320, dsdt = madt + 0x400;
        size_t dsdt_len = vmm_acpi_dsdt(c, area + (dsdt - base), limit - dsdt);
        if (!dsdt_len || c->cpus > 64)
                return berth_fail(err, E2BIG, "ACPI tables do not fit");
        build_fadt(area + (fadt - base), dsdt);
        build_madt(area + (madt - base), c->cpus);

        uint8_t *x = area + (xsdt - base);
        put(x, 36, &fadt, 8);
        put(x, 44, &madt, 8);
        header(x, "XSDT", 52, 1);

        uint8_t *r = area;
        put(r, 0, "RSD PTR ", 8);
        put(r, 9, OEM_ID, 6);
        r[15] = 2; /* ACPI 2.0+ */
        uint32_t rlen = 36;
        put(r, 20, &rlen, 4);
        put(r, 24, &xsdt, 8);
        r[8] = (uint8_t) (0 - vmm_acpi_checksum(r, 20));
        r[32] = (uint8_t) (0 - vmm_acpi_checksum(r, 36));
        *rsdp = base;
        return 0;
}
