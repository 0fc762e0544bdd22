/* load_elf.c — loads an uncompressed ELF vmlinux (or the test guest).
 *
 * Segments go to their physical addresses (p_paddr).  When the image has
 * Xen's PHYS32_ENTRY note the kernel is entered through PVH (32-bit, paging
 * off, start info in ebx); otherwise through the Linux 64-bit boot protocol
 * at e_entry.  The image is untrusted input: every offset and size is
 * checked against the file and against guest memory.
 */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "vmm/boot.h"
#include "vmm/vmm.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define LINUX_COMMAND_LINE_SIZE  2048

static int bad(berth_error_t *err, const char *what)
{
        return berth_fail_status(err, VMM_EXIT_BAD_KERNEL, ENOEXEC, "corrupt ELF image: %s", what);
}

static bool range_ok(size_t len, uint64_t off, uint64_t size)
{
        return off <= len && size <= len - off;
}

/* Look for the PVH entry in one PT_NOTE segment; 1 if found. */
static int find_pvh_note(const uint8_t *p, uint64_t size, uint64_t *entry)
{
        uint64_t off = 0;
        while (size - off >= sizeof(Elf64_Nhdr)) {
                Elf64_Nhdr nh;
                memcpy(&nh, p + off, sizeof(nh));
                uint64_t name_off = off + sizeof(nh);
                uint64_t desc_off = name_off + (((uint64_t) nh.n_namesz + 3) & ~3ull);
                uint64_t next = desc_off + (((uint64_t) nh.n_descsz + 3) & ~3ull);
                if (next > size)
                        return 0;
                if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 &&
                    memcmp(p + name_off, "Xen", 4) == 0) {
                        if (nh.n_descsz == 4) {
                                uint32_t e;
                                memcpy(&e, p + desc_off, 4);
                                *entry = e;
                                return 1;
                        }
                        if (nh.n_descsz == 8) {
                                memcpy(entry, p + desc_off, 8);
                                return 1;
                        }
                }
                off = next;
        }
        return 0;
}

int vmm_elf_load(struct vmm_mem *m, const uint8_t *img, size_t len, struct vmm_boot *b,
                 berth_error_t *err)
{
        Elf64_Ehdr eh;
        if (len < sizeof(eh))
                return bad(err, "shorter than an ELF header");
        memcpy(&eh, img, sizeof(eh));
        if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB)
                return bad(err, "not a little-endian 64-bit ELF");
        if (eh.e_machine != EM_X86_64)
                return bad(err, "not an x86-64 ELF");
        if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
            !range_ok(len, eh.e_phoff, (uint64_t) eh.e_phnum * sizeof(Elf64_Phdr)))
                return bad(err, "program headers out of the file");

        uint64_t pvh_entry = 0;
        bool pvh = false, loaded = false;
        b->kernel_end = 0;
        for (unsigned i = 0; i < eh.e_phnum; i++) {
                Elf64_Phdr ph;
                memcpy(&ph, img + eh.e_phoff + (uint64_t) i * sizeof(ph), sizeof(ph));
                if (ph.p_type == PT_NOTE) {
                        if (!range_ok(len, ph.p_offset, ph.p_filesz))
                                return bad(err, "note segment out of the file");
                        if (!pvh && find_pvh_note(img + ph.p_offset, ph.p_filesz, &pvh_entry))
                                pvh = true;
                        continue;
                }
                if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
                        continue;
                if (!range_ok(len, ph.p_offset, ph.p_filesz) || ph.p_filesz > ph.p_memsz)
                        return bad(err, "load segment out of the file");
                uint8_t *dst = vmm_mem_ptr(m, ph.p_paddr, ph.p_memsz);
                if (!dst || ph.p_paddr < BOOT_HIGH_ADDR)
                        return berth_fail_status(err, VMM_EXIT_BAD_KERNEL, EFBIG,
                                                 "ELF segment at %#llx (%llu bytes) is outside "
                                                 "guest RAM above 1 MiB",
                                                 (unsigned long long) ph.p_paddr,
                                                 (unsigned long long) ph.p_memsz);
                memcpy(dst, img + ph.p_offset, ph.p_filesz);
                memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
                if (ph.p_paddr + ph.p_memsz > b->kernel_end)
                        b->kernel_end = ph.p_paddr + ph.p_memsz;
                loaded = true;
        }
        if (!loaded)
                return bad(err, "no loadable segment");
        b->cmdline_max = LINUX_COMMAND_LINE_SIZE;
        b->initrd_max = 0;
        if (pvh) {
                b->mode = VMM_ENTRY_PVH32;
                b->entry = pvh_entry;
                b->kind = "ELF (PVH entry)";
        } else {
                b->mode = VMM_ENTRY_LINUX64;
                b->entry = eh.e_entry;
                b->kind = "ELF (64-bit entry)";
        }
        if (!vmm_mem_ptr(m, b->entry, 1))
                return bad(err, "entry point outside guest RAM");
        return 0;
}
