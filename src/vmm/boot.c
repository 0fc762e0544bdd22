/* boot.c — guest memory set-up shared by every kernel format: e820 map,
 * GDT, identity page tables, command line, initrd placement, and the two
 * hand-over structures (Linux zero page, PVH start info). */
#include "vmm/boot.h"

#include <asm/bootparam.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

#define PAGE_SIZE 4096ull
#define PTE_P     0x1ull
#define PTE_RW    0x2ull
#define PTE_PS    0x80ull
#define PTE_ADDR  0x000ffffffffff000ull

static unsigned e820_add(struct vmm_e820 *out, unsigned n, unsigned max, uint64_t addr,
                         uint64_t size, uint32_t type)
{
        if (n < max && size > 0)
                out[n++] = (struct vmm_e820){addr, size, type};
        return n;
}

unsigned vmm_e820_build(const struct vmm_mem *m, struct vmm_e820 *out, unsigned max)
{
        unsigned n = 0;
        uint64_t low_end = vmm_mem_low_end(m);
        n = e820_add(out, n, max, 0, BOOT_EBDA_ADDR, VMM_E820_RAM);
        n = e820_add(out, n, max, BOOT_EBDA_ADDR, 0xa0000 - BOOT_EBDA_ADDR, VMM_E820_RESERVED);
        n = e820_add(out, n, max, BOOT_BIOS_ADDR, BOOT_HIGH_ADDR - BOOT_BIOS_ADDR,
                     VMM_E820_RESERVED);
        if (low_end > BOOT_HIGH_ADDR)
                n = e820_add(out, n, max, BOOT_HIGH_ADDR, low_end - BOOT_HIGH_ADDR, VMM_E820_RAM);
        for (unsigned i = 1; i < m->n; i++)
                n = e820_add(out, n, max, m->regions[i].gpa, m->regions[i].size, VMM_E820_RAM);
        return n;
}

static uint64_t gdt_entry(uint16_t flags, uint32_t base, uint32_t limit)
{
        /* flags: bits 0-7 access byte, bits 12-15 G/DB/L/AVL */
        return ((uint64_t) (base & 0xff000000u) << 32) | ((uint64_t) (flags & 0xf0ffu) << 40) |
               ((uint64_t) (limit & 0x000f0000u) << 32) | ((uint64_t) (base & 0x00ffffffu) << 16) |
               (uint64_t) (limit & 0x0000ffffu);
}

void vmm_boot_gdt(uint64_t gdt[BOOT_GDT_ENTRIES])
{
        memset(gdt, 0, sizeof(uint64_t) * BOOT_GDT_ENTRIES);
        gdt[BOOT_SEL_CODE64 / 8] = gdt_entry(0xa09b, 0, 0xfffff);
        gdt[BOOT_SEL_CODE32 / 8] = gdt_entry(0xc09b, 0, 0xfffff);
        gdt[BOOT_SEL_DATA / 8] = gdt_entry(0xc093, 0, 0xfffff);
        gdt[BOOT_SEL_TSS / 8] = gdt_entry(0x008b, 0, 0x67);
}

int vmm_boot_write_tables(struct vmm_mem *m, berth_error_t *err)
{
        uint64_t *gdt = vmm_mem_ptr(m, BOOT_GDT_ADDR, sizeof(uint64_t) * BOOT_GDT_ENTRIES);
        uint64_t *idt = vmm_mem_ptr(m, BOOT_IDT_ADDR, 8);
        uint64_t *pml4 = vmm_mem_ptr(m, BOOT_PML4_ADDR, PAGE_SIZE);
        uint64_t *pdpt = vmm_mem_ptr(m, BOOT_PDPT_ADDR, PAGE_SIZE);
        uint64_t *pd = vmm_mem_ptr(m, BOOT_PD_ADDR, 4 * PAGE_SIZE);
        if (!gdt || !idt || !pml4 || !pdpt || !pd)
                return berth_fail(err, EINVAL, "guest memory too small for the boot tables");
        vmm_boot_gdt(gdt);
        *idt = 0;
        memset(pml4, 0, PAGE_SIZE);
        memset(pdpt, 0, PAGE_SIZE);
        pml4[0] = BOOT_PDPT_ADDR | PTE_P | PTE_RW;
        /* 2 MiB pages rather than 1 GiB ones: every x86-64 CPU has them, and
         * 4 GiB covers the kernel, its zero page and the MMIO devices. */
        for (uint64_t i = 0; i < 4; i++) {
                pdpt[i] = (BOOT_PD_ADDR + i * PAGE_SIZE) | PTE_P | PTE_RW;
                for (uint64_t j = 0; j < 512; j++)
                        pd[i * 512 + j] = ((i * 512 + j) << 21) | PTE_P | PTE_RW | PTE_PS;
        }
        return 0;
}

int vmm_boot_translate(const struct vmm_mem *m, uint64_t cr3, uint64_t va, uint64_t *pa)
{
        uint64_t table = cr3 & PTE_ADDR;
        static const unsigned shifts[] = {39, 30, 21, 12};
        for (unsigned level = 0; level < 4; level++) {
                unsigned idx = (va >> shifts[level]) & 511;
                const uint64_t *e = vmm_mem_ptr(m, table + idx * 8, 8);
                if (!e || !(*e & PTE_P))
                        return -1;
                uint64_t mask = (1ull << shifts[level]) - 1;
                if (level == 3 || ((level == 1 || level == 2) && (*e & PTE_PS))) {
                        *pa = ((*e & PTE_ADDR) & ~mask) | (va & mask);
                        return 0;
                }
                table = *e & PTE_ADDR;
        }
        return -1;
}

int vmm_boot_write_cmdline(struct vmm_mem *m, const char *cmdline, uint32_t max, berth_error_t *err)
{
        size_t len = strlen(cmdline);
        if (max == 0 || max > BOOT_CMDLINE_MAX)
                max = BOOT_CMDLINE_MAX;
        if (len + 1 > max)
                return berth_fail(err, E2BIG,
                                  "kernel command line is %zu bytes; the kernel accepts at most %u",
                                  len, max - 1);
        char *dst = vmm_mem_ptr(m, BOOT_CMDLINE_ADDR, len + 1);
        if (!dst)
                return berth_fail(err, EINVAL, "guest memory too small for the command line");
        memcpy(dst, cmdline, len + 1);
        return 0;
}

int vmm_boot_place_initrd(const struct vmm_mem *m, struct vmm_boot *b, uint64_t size,
                          berth_error_t *err)
{
        /* As high as possible below the kernel's limit, so that the kernel's
         * own early allocations below it have room. */
        uint64_t top = vmm_mem_low_end(m);
        if (b->initrd_max && b->initrd_max < top)
                top = b->initrd_max;
        uint64_t bottom = (b->kernel_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
        if (size == 0) {
                b->initrd_addr = b->initrd_size = 0;
                return 0;
        }
        if (size > top || ((top - size) & ~(PAGE_SIZE - 1)) < bottom)
                return berth_fail_status(err, 3, EFBIG,
                                         "initrd of %llu bytes does not fit in guest memory "
                                         "(%llu bytes free between the kernel and %#llx)",
                                         (unsigned long long) size,
                                         (unsigned long long) (top > bottom ? top - bottom : 0),
                                         (unsigned long long) top);
        b->initrd_addr = (top - size) & ~(PAGE_SIZE - 1);
        b->initrd_size = size;
        return 0;
}

int vmm_boot_write_params(struct vmm_mem *m, const struct vmm_boot *b, const char *cmdline,
                          uint64_t rsdp, berth_error_t *err)
{
        struct boot_params *bp = vmm_mem_ptr(m, BOOT_PARAMS_ADDR, sizeof(*bp));
        if (!bp)
                return berth_fail(err, EINVAL, "guest memory too small for the zero page");
        memset(bp, 0, sizeof(*bp));
        if (b->setup_header_len) {
                memcpy(&bp->hdr, b->setup_header, b->setup_header_len);
        } else {
                /* An ELF vmlinux has no header: make the minimal one the
                 * 64-bit entry reads. */
                bp->hdr.boot_flag = 0xaa55;
                bp->hdr.header = 0x53726448; /* "HdrS" */
                bp->hdr.version = 0x020f;
                bp->hdr.kernel_alignment = 0x1000000;
        }
        bp->hdr.type_of_loader = 0xff; /* undefined loader */
        bp->hdr.loadflags |= 0x01;     /* LOADED_HIGH */
        bp->hdr.cmd_line_ptr = (uint32_t) BOOT_CMDLINE_ADDR;
        bp->hdr.cmdline_size = (uint32_t) strlen(cmdline);
        bp->hdr.ramdisk_image = (uint32_t) b->initrd_addr;
        bp->hdr.ramdisk_size = (uint32_t) b->initrd_size;
        bp->hdr.vid_mode = 0xffff; /* "normal" */
        bp->acpi_rsdp_addr = rsdp; /* protocol 2.14+; older kernels scan 0xe0000 */

        struct vmm_e820 e820[VMM_E820_MAX];
        unsigned n = vmm_e820_build(m, e820, VMM_E820_MAX);
        for (unsigned i = 0; i < n; i++) {
                bp->e820_table[i].addr = e820[i].addr;
                bp->e820_table[i].size = e820[i].size;
                bp->e820_table[i].type = e820[i].type;
        }
        bp->e820_entries = (uint8_t) n;
        return 0;
}

int vmm_boot_write_pvh(struct vmm_mem *m, const struct vmm_boot *b, uint64_t rsdp,
                       berth_error_t *err)
{
        struct vmm_e820 e820[VMM_E820_MAX];
        unsigned n = vmm_e820_build(m, e820, VMM_E820_MAX);
        struct pvh_start_info *si = vmm_mem_ptr(m, BOOT_PVH_INFO_ADDR, sizeof(*si));
        struct pvh_memmap_entry *mm =
                vmm_mem_ptr(m, BOOT_PVH_MEMMAP_ADDR, sizeof(*mm) * VMM_E820_MAX);
        struct pvh_modlist_entry *mod = vmm_mem_ptr(m, BOOT_PVH_MODLIST_ADDR, sizeof(*mod));
        if (!si || !mm || !mod)
                return berth_fail(err, EINVAL, "guest memory too small for the PVH start info");
        memset(si, 0, sizeof(*si));
        si->magic = PVH_START_MAGIC;
        si->version = 1; /* has the memory map */
        si->cmdline_paddr = BOOT_CMDLINE_ADDR;
        si->rsdp_paddr = rsdp;
        si->memmap_paddr = BOOT_PVH_MEMMAP_ADDR;
        si->memmap_entries = n;
        for (unsigned i = 0; i < n; i++)
                mm[i] = (struct pvh_memmap_entry){e820[i].addr, e820[i].size, e820[i].type, 0};
        if (b->initrd_size) {
                *mod = (struct pvh_modlist_entry){b->initrd_addr, b->initrd_size, 0, 0};
                si->nr_modules = 1;
                si->modlist_paddr = BOOT_PVH_MODLIST_ADDR;
        }
        return 0;
}

/* Read a whole file into a fresh buffer (kernels and initrds can be far
 * larger than berth_read_file's 64 MiB text limit). */
static int read_whole(const char *path, const char *what, uint8_t **out, size_t *len,
                      berth_error_t *err)
{
        cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return berth_fail_status(err, 3, errno, "open %s `%s`", what, path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return berth_fail_status(err, 3, errno, "stat %s `%s`", what, path);
        if (!S_ISREG(st.st_mode))
                return berth_fail_status(err, 3, EINVAL, "%s `%s` is not a regular file", what,
                                         path);
        cleanup_free uint8_t *buf = berth_xmalloc(st.st_size ? (size_t) st.st_size : 1);
        size_t got = 0;
        while (got < (size_t) st.st_size) {
                ssize_t r = read(fd, buf + got, (size_t) st.st_size - got);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return berth_fail_status(err, 3, errno, "read %s `%s`", what, path);
                if (r == 0)
                        break;
                got += (size_t) r;
        }
        *out = berth_steal_ptr(&buf);
        *len = got;
        return 0;
}

static int load_bzimage(struct vmm_mem *m, const uint8_t *img, size_t len, struct vmm_boot *b,
                        berth_error_t *err)
{
        size_t pm_off, pm_len;
        if (vmm_bzimage_parse(img, len, vmm_mem_low_end(m), b, &pm_off, &pm_len, err) < 0)
                return -1;
        uint8_t *dst = vmm_mem_ptr(m, BOOT_HIGH_ADDR, pm_len);
        if (!dst)
                return berth_fail_status(
                        err, 3, EFBIG, "kernel of %zu bytes does not fit in guest memory", pm_len);
        memcpy(dst, img + pm_off, pm_len);
        return 0;
}

int vmm_boot_load(struct vmm_mem *m, const char *kernel_path, const char *initrd_path,
                  const char *cmdline, uint64_t rsdp, struct vmm_boot *b, berth_error_t *err)
{
        cleanup_free uint8_t *img = NULL;
        size_t len = 0;
        memset(b, 0, sizeof(*b));
        if (read_whole(kernel_path, "kernel", &img, &len, err) < 0 || !img)
                return -1;
        int r;
        if (len >= 4 && memcmp(img, "\177ELF", 4) == 0)
                r = vmm_elf_load(m, img, len, b, err);
        else
                r = load_bzimage(m, img, len, b, err);
        if (r < 0)
                return berth_fail_status(err, 3, 0, "load kernel `%s`", kernel_path);
        if (b->cmdline_max == 0)
                b->cmdline_max = BOOT_CMDLINE_MAX;
        if (vmm_boot_write_cmdline(m, cmdline, b->cmdline_max, err) < 0)
                return -1;
        if (initrd_path) {
                cleanup_free uint8_t *rd = NULL;
                size_t rd_len = 0;
                if (read_whole(initrd_path, "initrd", &rd, &rd_len, err) < 0 || !rd)
                        return -1;
                if (vmm_boot_place_initrd(m, b, rd_len, err) < 0)
                        return berth_wrap(err, "load initrd `%s`", initrd_path);
                uint8_t *dst = vmm_mem_ptr(m, b->initrd_addr, rd_len);
                if (!dst)
                        return berth_fail(err, EFAULT, "initrd placement outside RAM");
                memcpy(dst, rd, rd_len);
        }
        if (vmm_boot_write_tables(m, err) < 0)
                return -1;
        if (b->mode == VMM_ENTRY_PVH32)
                return vmm_boot_write_pvh(m, b, rsdp, err);
        return vmm_boot_write_params(m, b, cmdline, rsdp, err);
}
