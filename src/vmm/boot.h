/* boot.h — the x86 boot protocols berth-vmm speaks: where things go in guest
 * memory, the e820 map, identity page tables and GDT for the 64-bit entry,
 * the Linux zero page (boot_params) and Xen's PVH start info.
 *
 * These functions only write guest memory; they never touch KVM, so the
 * unit tests run them on a plain buffer.
 */
#ifndef BERTH_VMM_BOOT_H
#define BERTH_VMM_BOOT_H

#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "vmm/mem.h"

/* Low-memory layout (guest-physical), the same as Firecracker's in spirit. */
#define BOOT_GDT_ADDR         0x500ull
#define BOOT_IDT_ADDR         0x540ull  /* after the 6-entry GDT */
#define BOOT_PVH_INFO_ADDR    0x6000ull /* hvm_start_info */
#define BOOT_PVH_MEMMAP_ADDR  0x6040ull /* hvm_memmap_table_entry[] */
#define BOOT_PVH_MODLIST_ADDR 0x6800ull
#define BOOT_PARAMS_ADDR      0x7000ull /* Linux zero page */
#define BOOT_STACK_ADDR       0x8ff0ull
#define BOOT_PML4_ADDR        0x9000ull
#define BOOT_PDPT_ADDR        0xa000ull
#define BOOT_PD_ADDR          0xb000ull /* 4 pages: 0xb000-0xefff map 0-4 GiB */
#define BOOT_CMDLINE_ADDR     0x20000ull
#define BOOT_CMDLINE_MAX      0x10000ull  /* bytes reserved, NUL included */
#define BOOT_EBDA_ADDR        0x9fc00ull  /* MP table */
#define BOOT_BIOS_ADDR        0xe0000ull  /* ACPI tables, reserved in e820 */
#define BOOT_HIGH_ADDR        0x100000ull /* kernel load address */

/* The smallest guest the layout above fits in. */
#define BOOT_MIN_MEMORY (4ull << 20)

/* GDT selectors (Linux's boot protocol wants __BOOT_CS 0x10 / __BOOT_DS 0x18
 * for the 32-bit entry; the 64-bit entry takes any flat 64-bit code). */
#define BOOT_SEL_CODE64  0x08
#define BOOT_SEL_CODE32  0x10
#define BOOT_SEL_DATA    0x18
#define BOOT_SEL_TSS     0x20
#define BOOT_GDT_ENTRIES 6

enum vmm_e820_type {
        VMM_E820_RAM = 1,
        VMM_E820_RESERVED = 2,
        VMM_E820_ACPI = 3,
};

struct vmm_e820 {
        uint64_t addr;
        uint64_t size;
        uint32_t type;
};

#define VMM_E820_MAX 8

/* The e820 map for this memory: returns the number of entries. */
unsigned vmm_e820_build(const struct vmm_mem *m, struct vmm_e820 *out, unsigned max);

/* The GDT as 8-byte descriptors (index = selector / 8). */
void vmm_boot_gdt(uint64_t gdt[BOOT_GDT_ENTRIES]);

/* Write GDT, empty IDT and identity page tables (0-4 GiB, 2 MiB pages). */
int vmm_boot_write_tables(struct vmm_mem *m, berth_error_t *err);

/* Walk the 4-level page tables at cr3 like the MMU would; 0 and *pa set if
 * va is mapped, -1 if not.  For tests and for debugging guest crashes. */
int vmm_boot_translate(const struct vmm_mem *m, uint64_t cr3, uint64_t va, uint64_t *pa);

/* How the vCPU enters the kernel. */
enum vmm_entry_mode {
        VMM_ENTRY_PVH32 = 1, /* 32-bit protected mode, paging off, ebx = start info */
        VMM_ENTRY_LINUX64,   /* long mode, identity paging, rsi = boot_params */
};

struct vmm_boot {
        enum vmm_entry_mode mode;
        uint64_t entry;      /* guest-physical entry point */
        uint64_t kernel_end; /* first byte after the loaded kernel image */
        uint64_t initrd_addr, initrd_size;
        uint64_t initrd_max;        /* highest byte an initrd may occupy, plus one */
        uint32_t cmdline_max;       /* the kernel's limit, NUL included */
        uint8_t setup_header[0x80]; /* bzImage: the header to copy into boot_params */
        size_t setup_header_len;    /* 0 for ELF kernels */
        const char *kind;           /* "bzImage", "ELF (PVH)", "ELF (64-bit)" */
};

/* Parse a bzImage's setup header (boot protocol >= 2.12, 64-bit capable).
 * On success fills b (mode, entry, initrd_max, cmdline_max, setup_header)
 * and *pm_off, *pm_len (the protected-mode kernel inside the image). */
int vmm_bzimage_parse(const uint8_t *img, size_t len, uint64_t mem_low_end, struct vmm_boot *b,
                      size_t *pm_off, size_t *pm_len, berth_error_t *err);

/* Load an ELF vmlinux (PT_LOAD at p_paddr); PVH entry when the Xen
 * PHYS32_ENTRY note is there, else the 64-bit entry at e_entry. */
int vmm_elf_load(struct vmm_mem *m, const uint8_t *img, size_t len, struct vmm_boot *b,
                 berth_error_t *err);

/* Whole load: kernel (ELF or bzImage), initrd, command line, e820, tables,
 * zero page or PVH start info (rsdp: the ACPI RSDP's address, 0 if none). */
int vmm_boot_load(struct vmm_mem *m, const char *kernel_path, const char *initrd_path,
                  const char *cmdline, uint64_t rsdp, struct vmm_boot *b, berth_error_t *err);

/* Parts of vmm_boot_load, exported for the unit tests. */
int vmm_boot_write_cmdline(struct vmm_mem *m, const char *cmdline, uint32_t max,
                           berth_error_t *err);
int vmm_boot_place_initrd(const struct vmm_mem *m, struct vmm_boot *b, uint64_t size,
                          berth_error_t *err);
int vmm_boot_write_params(struct vmm_mem *m, const struct vmm_boot *b, const char *cmdline,
                          uint64_t rsdp, berth_error_t *err);
int vmm_boot_write_pvh(struct vmm_mem *m, const struct vmm_boot *b, uint64_t rsdp,
                       berth_error_t *err);

/* Xen's PVH ABI (xen/include/public/arch-x86/hvm/start_info.h). */
#define PVH_START_MAGIC 0x336ec578u
struct pvh_start_info {
        uint32_t magic;
        uint32_t version;
        uint32_t flags;
        uint32_t nr_modules;
        uint64_t modlist_paddr;
        uint64_t cmdline_paddr;
        uint64_t rsdp_paddr;
        uint64_t memmap_paddr;
        uint32_t memmap_entries;
        uint32_t reserved;
};
struct pvh_modlist_entry {
        uint64_t paddr;
        uint64_t size;
        uint64_t cmdline_paddr;
        uint64_t reserved;
};
struct pvh_memmap_entry {
        uint64_t addr;
        uint64_t size;
        uint32_t type;
        uint32_t reserved;
};

#endif
