/* test_vmm_boot.c — berth-vmm's boot structures on a plain buffer: e820
 * map, page tables, GDT, bzImage setup header parsing, zero page, PVH
 * start info, command line and initrd placement. */
#include <asm/bootparam.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "vmm/boot.h"

static struct vmm_mem mem_of(uint64_t size)
{
        struct vmm_mem m = {0};
        m.map = calloc(1, size);
        m.map_size = size;
        vmm_mem_layout(&m, size);
        return m;
}

static void test_e820(void)
{
        struct vmm_mem m = {0};
        struct vmm_e820 e[VMM_E820_MAX];
        vmm_mem_layout(&m, 64ull << 20);
        unsigned n = vmm_e820_build(&m, e, VMM_E820_MAX);
        is_int(n, 4, "64 MiB: four e820 entries");
        is_int(e[0].addr, 0, "low RAM starts at 0");
        is_int(e[0].size, 0x9fc00, "low RAM ends below the EBDA");
        is_int(e[1].type, VMM_E820_RESERVED, "EBDA reserved");
        is_int(e[2].addr, 0xe0000, "BIOS area reserved from 0xe0000");
        is_int(e[3].addr, 0x100000, "high RAM from 1 MiB");
        is_int(e[3].addr + e[3].size, 64ull << 20, "high RAM to the end of memory");

        /* 4 GiB of RAM: 3 GiB below the hole, 1 GiB above 4 GiB. */
        vmm_mem_layout(&m, 4ull << 30);
        n = vmm_e820_build(&m, e, VMM_E820_MAX);
        is_int(n, 5, "4 GiB: five entries");
        is_int(e[3].addr + e[3].size, VMM_MMIO_HOLE_START, "low RAM stops at the MMIO hole");
        is_int(e[4].addr, 1ull << 32, "the rest above 4 GiB");
        is_int(e[4].size, 1ull << 30, "1 GiB above 4 GiB");
        ok(m.n == 2 && m.regions[1].gpa == 1ull << 32, "two memory regions around the hole");

        /* vmm_mem_ptr bounds. */
        uint8_t *base = (uint8_t *) 0x1000;
        m.map = base;
        vmm_mem_layout(&m, 64ull << 20);
        ok(vmm_mem_ptr(&m, 0, 64ull << 20) == base, "whole RAM is addressable");
        ok(vmm_mem_ptr(&m, (64ull << 20) - 1, 2) == NULL, "range straddling the end refused");
        ok(vmm_mem_ptr(&m, 64ull << 20, 1) == NULL, "address past the end refused");
        ok(vmm_mem_ptr(&m, 8, UINT64_MAX) == NULL, "huge length refused (no overflow)");
        ok(vmm_mem_ptr(&m, UINT64_MAX, 2) == NULL, "wrapping address refused");
}

static void test_tables(void)
{
        struct vmm_mem m = mem_of(16ull << 20);
        ok(vmm_boot_write_tables(&m, NULL) == 0, "tables written");
        uint64_t pa = 0;
        ok(vmm_boot_translate(&m, BOOT_PML4_ADDR, 0x1234567, &pa) == 0 && pa == 0x1234567,
           "identity mapping at 18 MiB");
        ok(vmm_boot_translate(&m, BOOT_PML4_ADDR, 0xd0000abc, &pa) == 0 && pa == 0xd0000abc,
           "MMIO hole is mapped (virtio at 0xd0000000)");
        ok(vmm_boot_translate(&m, BOOT_PML4_ADDR, 0xffffffffull, &pa) == 0 && pa == 0xffffffffull,
           "last byte below 4 GiB mapped");
        ok(vmm_boot_translate(&m, BOOT_PML4_ADDR, 1ull << 32, &pa) < 0, "4 GiB not mapped");
        ok(vmm_boot_translate(&m, BOOT_PML4_ADDR, 0xffffffff81000000ull, &pa) < 0,
           "kernel high half not mapped (identity only)");

        uint64_t gdt[BOOT_GDT_ENTRIES];
        vmm_boot_gdt(gdt);
        is_int(gdt[0], 0, "null descriptor");
        ok(gdt[BOOT_SEL_CODE64 / 8] == 0x00af9b000000ffffull, "64-bit code: L=1, G=1, DPL 0");
        ok(gdt[BOOT_SEL_CODE32 / 8] == 0x00cf9b000000ffffull, "32-bit code: D=1, G=1");
        ok(gdt[BOOT_SEL_DATA / 8] == 0x00cf93000000ffffull, "flat data");
        ok(memcmp(m.regions[0].hva + BOOT_GDT_ADDR, gdt, sizeof(gdt)) == 0, "GDT copied to guest");
        free(m.map);
}

/* A minimal bzImage: boot sector + 4 setup sectors + payload. */
static uint8_t *fake_bzimage(size_t *len, uint16_t version, uint16_t xload)
{
        size_t n = 5 * 512 + 4096;
        uint8_t *img = calloc(1, n);
        struct setup_header *h = (struct setup_header *) (void *) (img + 0x1f1);
        h->setup_sects = 4;
        h->boot_flag = 0xaa55;
        h->jump = 0x66eb; /* jmp to 0x268: header length byte 0x66 */
        h->header = 0x53726448;
        h->version = version;
        h->loadflags = LOADED_HIGH;
        h->xloadflags = xload;
        h->initrd_addr_max = 0x7fffffff;
        h->cmdline_size = 2047;
        h->init_size = 0x200000;
        memcpy(img + 5 * 512, "PAYLOAD", 8);
        *len = n;
        return img;
}

static void test_bzimage(void)
{
        size_t len, off, pm;
        struct vmm_boot b = {0};
        berth_error_t err = NULL;
        uint8_t *img = fake_bzimage(&len, 0x020f, XLF_KERNEL_64);
        ok(vmm_bzimage_parse(img, len, 64ull << 20, &b, &off, &pm, &err) == 0,
           "valid 2.15 header parses");
        is_int(off, 5 * 512, "protected-mode kernel after 4 setup sectors");
        is_int(pm, 4096, "payload length");
        is_int(b.entry, 0x100200, "64-bit entry at 1 MiB + 0x200");
        is_int(b.mode, VMM_ENTRY_LINUX64, "64-bit boot protocol");
        is_int(b.initrd_max, 0x80000000ull, "initrd limit from initrd_addr_max");
        is_int(b.cmdline_max, 2048, "command line limit from cmdline_size");
        is_int(b.kernel_end, 0x100000 + 0x200000, "kernel end covers init_size");
        is_int(b.setup_header_len, 0x268 - 0x1f1, "header length from the jump");

        ok(vmm_bzimage_parse(img, len, 2ull << 20, &b, &off, &pm, &err) < 0,
           "init_size beyond memory refused");
        is_int(err ? err->status : 0, 3, "...with the bad-kernel status");
        berth_error_release(&err);
        free(img);

        img = fake_bzimage(&len, 0x020b, XLF_KERNEL_64);
        ok(vmm_bzimage_parse(img, len, 64ull << 20, &b, &off, &pm, &err) < 0,
           "protocol 2.11 refused");
        berth_error_release(&err);
        free(img);
        img = fake_bzimage(&len, 0x020f, 0);
        ok(vmm_bzimage_parse(img, len, 64ull << 20, &b, &off, &pm, &err) < 0,
           "kernel without XLF_KERNEL_64 refused");
        berth_error_release(&err);
        img[0x1fe] = 0;
        ok(vmm_bzimage_parse(img, len, 64ull << 20, &b, &off, &pm, &err) < 0,
           "missing boot flag refused");
        berth_error_release(&err);
        ok(vmm_bzimage_parse(img, 100, 64ull << 20, &b, &off, &pm, &err) < 0,
           "truncated image refused");
        berth_error_release(&err);
        free(img);
        img = fake_bzimage(&len, 0x020f, XLF_KERNEL_64);
        img[0x1f1] = 200; /* setup_sects past the end of the file */
        ok(vmm_bzimage_parse(img, len, 64ull << 20, &b, &off, &pm, &err) < 0,
           "setup sectors past the end refused");
        berth_error_release(&err);
        free(img);
}

static void test_params(void)
{
        struct vmm_mem m = mem_of(64ull << 20);
        berth_error_t err = NULL;
        size_t len, off, pm;
        struct vmm_boot b = {0};
        uint8_t *img = fake_bzimage(&len, 0x020f, XLF_KERNEL_64);
        vmm_bzimage_parse(img, len, 64ull << 20, &b, &off, &pm, &err);
        ok(vmm_boot_place_initrd(&m, &b, 1 << 20, &err) == 0, "1 MiB initrd placed");
        is_int(b.initrd_addr, (63ull << 20), "initrd at the top of memory, page-aligned");
        ok(vmm_boot_write_cmdline(&m, "console=ttyS0", b.cmdline_max, &err) == 0,
           "command line written");
        ok(vmm_boot_write_params(&m, &b, "console=ttyS0", 0xe0000, &err) == 0, "zero page written");
        const struct boot_params *bp = (const void *) (m.regions[0].hva + BOOT_PARAMS_ADDR);
        is_int(bp->hdr.boot_flag, 0xaa55, "boot flag copied");
        is_int(bp->hdr.header, 0x53726448, "HdrS copied");
        is_int(bp->hdr.type_of_loader, 0xff, "loader type: undefined");
        is_int(bp->hdr.cmd_line_ptr, BOOT_CMDLINE_ADDR, "cmd_line_ptr");
        is_str((const char *) m.regions[0].hva + BOOT_CMDLINE_ADDR, "console=ttyS0",
               "command line in guest memory");
        is_int(bp->hdr.ramdisk_image, 63ull << 20, "ramdisk_image");
        is_int(bp->hdr.ramdisk_size, 1 << 20, "ramdisk_size");
        is_int(bp->e820_entries, 4, "e820 entries in the zero page");
        is_int(bp->e820_table[3].addr, 0x100000, "e820[3] is high RAM");
        ok(bp->hdr.loadflags & LOADED_HIGH, "LOADED_HIGH set");
        is_int(bp->acpi_rsdp_addr, 0xe0000, "acpi_rsdp_addr");

        char big[3000];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = 0;
        ok(vmm_boot_write_cmdline(&m, big, b.cmdline_max, &err) < 0,
           "command line longer than the kernel's limit refused");
        berth_error_release(&err);

        ok(vmm_boot_place_initrd(&m, &b, 63ull << 20, &err) < 0,
           "initrd larger than the free memory refused");
        is_int(err ? err->status : 0, 3, "...with the bad-kernel status");
        berth_error_release(&err);

        /* PVH start info. */
        b.initrd_addr = 0x3000000;
        b.initrd_size = 4096;
        ok(vmm_boot_write_pvh(&m, &b, 0, &err) == 0, "PVH start info written");
        const struct pvh_start_info *si = (const void *) (m.regions[0].hva + BOOT_PVH_INFO_ADDR);
        is_int(si->magic, PVH_START_MAGIC, "PVH magic");
        is_int(si->version, 1, "version 1 (memory map)");
        is_int(si->cmdline_paddr, BOOT_CMDLINE_ADDR, "PVH cmdline");
        is_int(si->memmap_entries, 4, "PVH memory map entries");
        is_int(si->nr_modules, 1, "one module (the initrd)");
        const struct pvh_modlist_entry *mod = (const void *) (m.regions[0].hva + si->modlist_paddr);
        is_int(mod->paddr, 0x3000000, "module address");
        is_int(mod->size, 4096, "module size");
        free(img);
        free(m.map);
}

int main(void)
{
        test_e820();
        test_tables();
        test_bzimage();
        test_params();
        return tap_done();
}
