/* fuzz/vmm_migrate_stream.c — libFuzzer harness for berth-vmm's live
 * migration stream (migrate_stream.h), the destination's parser: the input
 * as a whole stream (header checks: magic, version, RAM size, CPUID count,
 * checksum), then the input as the records after a valid header for 2 MiB
 * of RAM (page runs against RAM's bounds, rounds, the state record's caps,
 * the end's checksum, copy_storage's drive list and disk runs). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/migrate_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM_CAP (16u << 20)

static uint8_t *ram;
static size_t ram_len;

static uint8_t *alloc_ram(void *opaque, uint64_t size, berth_error_t *err)
{
        (void) opaque;
        if (size > RAM_CAP) {
                berth_fail(err, ENOMEM, "over the harness's cap");
                return NULL;
        }
        if (size > ram_len) {
                free(ram);
                ram = malloc(size);
                ram_len = size;
        }
        return ram;
}

/* copy_storage: announced drives are taken, their runs checked and dropped */
static int disks(void *opaque, const struct vmm_mig_disk *d, unsigned n, berth_error_t *err)
{
        (void) opaque;
        (void) d;
        (void) n;
        (void) err;
        return 0;
}

static volatile uint8_t last_byte;

static int disk_write(void *opaque, uint32_t index, uint64_t off, const uint8_t *data, uint64_t len,
                      berth_error_t *err)
{
        (void) opaque;
        (void) index;
        (void) off;
        (void) err;
        if (data && len) /* the payload is readable as far as the parser said */
                last_byte = data[len - 1];
        return 0;
}

static void receive(const uint8_t *d, size_t n)
{
        struct vmm_mig_io io;
        vmm_mig_io_buffer(&io, d, n);
        struct vmm_mig_sink sink = {
                .alloc_ram = alloc_ram, .disks = disks, .disk_write = disk_write};
        struct vmm_mig_result res;
        berth_error_t err = NULL;
        if (vmm_mig_receive(&io, &sink, &res, &err) < 0)
                berth_error_release(&err);
        else
                free(res.state);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        receive(data, size);
        static uint8_t *hdr;
        static size_t hl;
        if (!hdr) {
                static struct vmm_mig_header h;
                h.version = VMM_MIG_VERSION;
                h.ram_size = 2u << 20;
                h.vcpus = 1;
                hl = vmm_mig_header_encode(&h, &hdr);
        }
        uint8_t *s = malloc(hl + size);
        memcpy(s, hdr, hl);
        memcpy(s + hl, data, size);
        receive(s, hl + size);
        free(s);
        return 0;
}
