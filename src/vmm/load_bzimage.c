/* load_bzimage.c — the Linux x86 boot protocol's setup header.
 *
 * berth-vmm takes the 64-bit entry (protocol 2.12+, XLF_KERNEL_64): the
 * protected-mode kernel is copied to 1 MiB and entered at +0x200 in long
 * mode with rsi pointing at the zero page; the 16-bit setup code is never
 * run.  The header is untrusted input and checked field by field.
 */
#include <asm/bootparam.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "vmm/boot.h"
#include "vmm/vmm.h"

#define SETUP_HDR_OFF 0x1f1

static int bad(berth_error_t *err, const char *what)
{
        return berth_fail_status(err, VMM_EXIT_BAD_KERNEL, ENOEXEC, "not a usable bzImage: %s",
                                 what);
}

int vmm_bzimage_parse(const uint8_t *img, size_t len, uint64_t mem_low_end, struct vmm_boot *b,
                      size_t *pm_off, size_t *pm_len, berth_error_t *err)
{
        struct setup_header h;
        if (len < 1024)
                return bad(err, "too short for a boot sector and setup header (and not ELF)");
        memcpy(&h, img + SETUP_HDR_OFF, sizeof(h));
        if (h.boot_flag != 0xaa55 || h.header != 0x53726448)
                return bad(err, "no boot signature or `HdrS` magic (and not ELF)");
        if (h.version < 0x020c)
                return bad(err, "boot protocol older than 2.12 has no 64-bit entry");
        if (!(h.xloadflags & XLF_KERNEL_64))
                return bad(err, "kernel has no 64-bit entry point (XLF_KERNEL_64)");
        if (!(h.loadflags & LOADED_HIGH))
                return bad(err, "kernel does not load at 1 MiB (LOADED_HIGH unset)");
        size_t setup_sects = h.setup_sects ? h.setup_sects : 4;
        size_t off = (setup_sects + 1) * 512;
        if (off >= len)
                return bad(err, "setup sectors extend past the end of the file");
        size_t pm = len - off;
        /* The kernel decompresses in place up to init_size: all of that
         * must be guest RAM, not just the compressed image. */
        uint64_t need = h.init_size > pm ? h.init_size : pm;
        if (BOOT_HIGH_ADDR + need > mem_low_end)
                return berth_fail_status(err, VMM_EXIT_BAD_KERNEL, EFBIG,
                                         "kernel needs %llu bytes at 1 MiB; guest memory below "
                                         "the MMIO hole ends at %#llx",
                                         (unsigned long long) need,
                                         (unsigned long long) mem_low_end);
        /* The header is 0x202 + the byte at 0x201 long (the jump's target). */
        size_t hdr_len = (size_t) 0x202 + img[0x201] - SETUP_HDR_OFF;
        _Static_assert(sizeof(b->setup_header) >= sizeof(h), "setup header buffer too small");
        if (hdr_len > sizeof(h))
                hdr_len = sizeof(h);
        memcpy(b->setup_header, img + SETUP_HDR_OFF, hdr_len);
        b->setup_header_len = hdr_len;
        b->mode = VMM_ENTRY_LINUX64;
        b->entry = BOOT_HIGH_ADDR + 0x200;
        b->kernel_end = BOOT_HIGH_ADDR + need;
        b->initrd_max = (uint64_t) h.initrd_addr_max + 1;
        b->cmdline_max = h.version >= 0x0206 ? h.cmdline_size + 1 : 256;
        b->kind = "bzImage";
        *pm_off = off;
        *pm_len = pm;
        return 0;
}
