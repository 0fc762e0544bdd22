/* test_vmm_acpi.c — berth-vmm's ACPI tables: checksums and links, and the
 * DSDT, FADT and MADT disassembled by iasl (acpica-tools) when installed. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "vmm/acpi.h"
#include "vmm/boot.h"

static const uint8_t *table_at(const struct vmm_mem *m, uint64_t gpa)
{
        return vmm_mem_ptr(m, gpa, 36);
}

static uint32_t len_of(const uint8_t *t)
{
        uint32_t l;
        memcpy(&l, t + 4, 4);
        return l;
}

static void write_file(const char *path, const uint8_t *p, size_t n)
{
        FILE *f = fopen(path, "wb");
        if (f) {
                fwrite(p, 1, n, f);
                fclose(f);
        }
}

/* n bytes of iasl's output without comments or white space, so that
 * checks do not depend on its layout (caller frees). */
static char *squeeze(const char *p, size_t n)
{
        char *out = malloc(n + 1), *o = out;
        for (const char *e = p + n; p < e; p++) {
                if (p + 1 < e && p[0] == '/' && p[1] == '/') {
                        while (p < e && *p != '\n')
                                p++;
                } else if (p + 1 < e && p[0] == '/' && p[1] == '*') {
                        const char *c = strstr(p + 2, "*/");
                        p = c && c + 1 < e ? c + 1 : e;
                } else if (!isspace((unsigned char) *p)) {
                        *o++ = *p;
                }
        }
        *o = 0;
        return out;
}

/* Disassemble a table with iasl; returns the .dsl text (caller frees). */
static char *iasl(const char *dir, const char *name, const uint8_t *t)
{
        char path[512], cmd[1200], *text = NULL;
        snprintf(path, sizeof(path), "%s/%s.aml", dir, name);
        write_file(path, t, len_of(t));
        snprintf(cmd, sizeof(cmd), "cd %s && iasl -d %s.aml >/dev/null 2>&1", dir, name);
        if (system(cmd) != 0)
                return NULL;
        snprintf(path, sizeof(path), "%s/%s.dsl", dir, name);
        FILE *f = fopen(path, "r");
        if (!f)
                return NULL;
        text = calloc(1, 1 << 20);
        size_t n = fread(text, 1, (1 << 20) - 1, f);
        text[n] = 0;
        fclose(f);
        return text;
}

int main(void)
{
        struct vmm_mem m = {0};
        m.map = calloc(1, 16 << 20);
        vmm_mem_layout(&m, 16 << 20);
        struct vmm_acpi_config c = {.cpus = 2, .n_mmio = 2, .ged = true};
        c.mmio[0] = (struct vmm_acpi_mmio_dev){0xd0000000, 0x1000, 5};
        c.mmio[1] = (struct vmm_acpi_mmio_dev){0xd0001000, 0x1000, 6};
        uint64_t rsdp = 0;
        ok(vmm_acpi_build(&m, &c, &rsdp, NULL) == 0, "tables built");
        is_int(rsdp, BOOT_BIOS_ADDR, "RSDP in the BIOS area (found by a legacy scan)");
        const uint8_t *r = vmm_mem_ptr(&m, rsdp, 36);
        ok(memcmp(r, "RSD PTR ", 8) == 0, "RSDP signature");
        is_int(vmm_acpi_checksum(r, 20), 0, "RSDP checksum (first 20 bytes)");
        is_int(vmm_acpi_checksum(r, 36), 0, "RSDP extended checksum");
        uint64_t xsdt_addr;
        memcpy(&xsdt_addr, r + 24, 8);
        const uint8_t *x = table_at(&m, xsdt_addr);
        ok(x && memcmp(x, "XSDT", 4) == 0, "RSDP points at the XSDT");
        is_int(vmm_acpi_checksum(x, len_of(x)), 0, "XSDT checksum");
        is_int(len_of(x), 36 + 2 * 8, "XSDT lists two tables");
        uint64_t fadt_addr, madt_addr, dsdt_addr;
        memcpy(&fadt_addr, x + 36, 8);
        memcpy(&madt_addr, x + 44, 8);
        const uint8_t *fadt = table_at(&m, fadt_addr), *madt = table_at(&m, madt_addr);
        ok(memcmp(fadt, "FACP", 4) == 0 && memcmp(madt, "APIC", 4) == 0, "FADT and MADT");
        is_int(vmm_acpi_checksum(fadt, len_of(fadt)), 0, "FADT checksum");
        is_int(vmm_acpi_checksum(madt, len_of(madt)), 0, "MADT checksum");
        memcpy(&dsdt_addr, fadt + 140, 8);
        const uint8_t *dsdt = table_at(&m, dsdt_addr);
        ok(memcmp(dsdt, "DSDT", 4) == 0, "FADT X_DSDT points at the DSDT");
        is_int(vmm_acpi_checksum(dsdt, len_of(dsdt)), 0, "DSDT checksum");
        uint32_t flags;
        memcpy(&flags, fadt + 112, 4);
        ok(flags & (1u << 20), "FADT: HW_REDUCED_ACPI");
        is_int(len_of(madt), 44 + 2 * 8 + 12 + 10, "MADT: 2 LAPICs, IOAPIC, one override");

        if (system("command -v iasl >/dev/null 2>&1") != 0) {
                tap_skip("DSDT disassembles", "iasl not installed (acpica-tools)");
                tap_skip("FADT disassembles", "iasl not installed (acpica-tools)");
                tap_skip("MADT disassembles", "iasl not installed (acpica-tools)");
                free(m.map);
                return tap_done();
        }
        char dir[] = "/tmp/berth-acpi-XXXXXX";
        if (!mkdtemp(dir))
                return 1;
        char *d = iasl(dir, "dsdt", dsdt);
        ok(d != NULL, "DSDT disassembles");
        ok(d && strstr(d, "\"LNRO0005\""), "DSDT: virtio-mmio _HID");
        ok(d && strstr(d, "0xD0001000"), "DSDT: second device's base");
        ok(d && strstr(d, "Memory32Fixed (ReadWrite,"), "DSDT: Memory32Fixed resource");
        ok(d && strstr(d, "Interrupt (ResourceConsumer, Edge, ActiveHigh, Exclusive, ,, )"),
           "DSDT: edge interrupt resource");
        ok(d && strstr(d, "EisaId (\"PNP0501\")"), "DSDT: COM1 as PNP0501");
        /* The i8042, as QEMU describes it: PNP0303 with both ports and IRQ 1. */
        const char *kbd = d ? strstr(d, "Device (KBD)") : NULL;
        const char *kbd_end = kbd ? strstr(kbd, "Device (") : NULL;
        if (kbd_end)
                kbd_end = strstr(kbd + 1, "Device (");
        size_t kbd_len = kbd ? (kbd_end ? (size_t) (kbd_end - kbd) : strlen(kbd)) : 0;
        char *k = kbd ? squeeze(kbd, kbd_len) : NULL;
        ok(k && strstr(k, "Name(_HID,EisaId(\"PNP0303\"))"), "DSDT: KBD as PNP0303");
        ok(k && strstr(k, "IO(Decode16,0x0060,0x0060,0x01,0x01,)") &&
                   strstr(k, "IO(Decode16,0x0064,0x0064,0x01,0x01,)"),
           "DSDT: KBD decodes ports 0x60 and 0x64, one byte each");
        ok(k && strstr(k, "IRQNoFlags(){1}"), "DSDT: KBD on IRQ 1");
        ok(!strstr(d ? d : "", "PNP0F13"), "DSDT: no PS/2 mouse (the i8042 has no AUX port)");
        free(k);
        ok(d && strstr(d, "Name (\\_S5, Package (0x02)"), "DSDT: \\_S5 for poweroff");
        /* The power button: a GED whose _EVT reads the selector and notifies PWRB. */
        const char *ged = d ? strstr(d, "Device (GED)") : NULL;
        char *g = ged ? squeeze(ged, strlen(ged)) : NULL;
        ok(g && strstr(g, "Name(_HID,\"ACPI0013\"") &&
                   strstr(g,
                          "Interrupt(ResourceConsumer,Edge,ActiveHigh,Exclusive,,,){0x00000017,}"),
           "DSDT: GED (ACPI0013) on GSI 23, edge");
        ok(g && strstr(g, "OperationRegion(GEDR,SystemMemory,0xD0100000,0x04)") &&
                   strstr(g, "Field(GEDR,DWordAcc,NoLock,WriteAsZeros){ESEL,32}"),
           "DSDT: GED event selector at 0xd0100000");
        ok(g && strstr(g, "Method(_EVT,1,Serialized)") && strstr(g, "Notify(\\_SB.PWRB,0x80)"),
           "DSDT: _EVT notifies the power button");
        ok(g && strstr(g, "Device(PWRB){Name(_HID,\"PNP0C0C\""), "DSDT: PWRB as PNP0C0C");
        free(g);
        char *f = iasl(dir, "facp", fadt);
        ok(f != NULL, "FADT disassembles");
        ok(f && strstr(f, "Hardware Reduced (V5) : 1"), "FADT: hardware reduced");
        ok(f && strstr(f, "8042 Present on ports 60/64 (V2) : 1"), "FADT: IAPC 8042 flag");
        ok(f && strstr(f, "Address : 0000000000000600"), "FADT: sleep control at port 0x600");
        char *a = iasl(dir, "apic", madt);
        ok(a != NULL, "MADT disassembles");
        ok(a && strstr(a, "Local Apic Address : FEE00000"), "MADT: LAPIC address");
        ok(a && strstr(a, "Address : FEC00000"), "MADT: IOAPIC address");
        ok(a && strstr(a, "Interrupt : 00000002"), "MADT: IRQ0 -> GSI 2 override");
        if (!d || !f || !a || getenv("KEEP"))
                printf("# iasl output kept in %s\n", dir);
        else {
                char cmd[300];
                snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
                (void) !system(cmd);
        }
        free(d);
        free(f);
        free(a);
        free(m.map);
        return tap_done();
}
