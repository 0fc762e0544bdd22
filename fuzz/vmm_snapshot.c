/* fuzz/vmm_snapshot.c — libFuzzer harness for berth-vmm's snapshot state
 * file: the container's checks (magic, format, length, checksum, the
 * section walk) on the input as it is, then, resealed so that the checksum
 * passes, the section walk, the bounded readers and the plain-data device
 * loaders (serial, i8042) on whatever sections it holds. */
#include <stdlib.h>
#include <string.h>

#include "vmm/snapshot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load_all(const uint8_t *data, size_t size)
{
        struct vmm_snap s;
        berth_error_t err = NULL;
        if (vmm_snap_parse(&s, data, size, &err) < 0) {
                berth_error_release(&err);
                return;
        }
        for (unsigned i = 0; i < s.n; i++) {
                struct vmm_snap_rd r;
                vmm_snap_rd_init(&r, &s.sec[i]);
                while (!r.short_read)
                        (void) vmm_snap_get_u32(&r);
        }
        static struct vmm_serial u;
        vmm_serial_init(&u, -1, NULL, NULL);
        if (vmm_serial_load(&u, &s, &err) < 0)
                berth_error_release(&err);
        static struct vmm_vm vm;
        vm.vm_fd = vm.stop_fd = -1;
        if (!vm.i8042.vm)
                vmm_i8042_init(&vm, &vm.i8042);
        if (vmm_i8042_load(&vm.i8042, &s, &err) < 0)
                berth_error_release(&err);
        vmm_snap_release(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        load_all(data, size);
        if (size < VMM_SNAP_HEADER_SIZE || size > (1u << 20))
                return 0;
        uint8_t *copy = malloc(size);
        memcpy(copy, data, size);
        memcpy(copy, VMM_SNAP_MAGIC, 8);
        vmm_snap_reseal(copy, size);
        load_all(copy, size);
        free(copy);
        return 0;
}
