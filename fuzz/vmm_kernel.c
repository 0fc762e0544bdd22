/* fuzz/vmm_kernel.c — libFuzzer harness for berth-vmm's kernel image
 * parsers: the ELF loader (program headers, PVH note) and the bzImage
 * setup header, fed arbitrary bytes against a small guest memory. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/boot.h"

#define MEM_SIZE (8u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static uint8_t *guest;
        if (!guest)
                guest = calloc(1, MEM_SIZE);
        struct vmm_mem mem = {.map = guest, .map_size = MEM_SIZE};
        vmm_mem_layout(&mem, MEM_SIZE);
        struct vmm_boot b;
        berth_error_t err = NULL;
        memset(&b, 0, sizeof(b));
        if (size >= 4 && memcmp(data, "\177ELF", 4) == 0) {
                (void) vmm_elf_load(&mem, data, size, &b, &err);
        } else {
                size_t off, len;
                if (vmm_bzimage_parse(data, size, MEM_SIZE, &b, &off, &len, &err) == 0 &&
                    (off > size || len > size - off))
                        abort(); /* the payload must lie inside the image */
        }
        berth_error_release(&err);
        return 0;
}
