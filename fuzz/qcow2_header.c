/* qcow2_header.c — libFuzzer harness for the qcow2 driver: the input is an
 * image file.  It is opened read-write (on a private memfd copy), read,
 * mapped, written, snapshotted and checked; any crash, sanitizer report or
 * hang is a bug, since images are hostile input (a guest or a download).
 *
 *   CC=clang meson setup build-fuzz -Dfuzz=true
 *   ninja -C build-fuzz fuzz/fuzz_qcow2_header
 *   build-fuzz/fuzz/fuzz_qcow2_header fuzz/corpus/qcow2_header -max_total_time=60
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"
#include "disk/disk.h"
#include "disk/qcow2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static int quiet;
        if (!quiet) {
                berth_log_set_level(BERTH_LOG_ERROR);
                quiet = 1;
        }
        int fd = memfd_create("fuzz.qcow2", MFD_CLOEXEC);
        if (fd < 0)
                return 0;
        if (write(fd, data, size) != (ssize_t) size) {
                close(fd);
                return 0;
        }
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        berth_error_t err = NULL;
        struct disk *d = NULL;
        if (disk_open(path, DISK_FORMAT_QCOW2, DISK_NO_BACKING, &d, &err) < 0) {
                berth_error_release(&err);
                close(fd);
                return 0;
        }
        static uint8_t buf[1 << 16];
        /* A few reads and block-status walks spread over the disk. */
        for (uint64_t i = 0; i < 8 && d->size; i++) {
                uint64_t off = d->size / 8 * i;
                size_t n = d->size - off < sizeof(buf) ? (size_t) (d->size - off) : sizeof(buf);
                if (disk_pread(d, buf, n, off, &err) < 0)
                        berth_error_release(&err);
                struct disk_extent e;
                if (n && disk_block_status(d, off, n, &e, &err) < 0)
                        berth_error_release(&err);
        }
        /* Writes, a snapshot and a check exercise allocation on hostile metadata. */
        if (d->size >= 4096) {
                memset(buf, 0x5a, 4096);
                if (disk_pwrite(d, buf, 4096, d->size / 3 & ~4095ull, &err) < 0)
                        berth_error_release(&err);
                if (disk_discard(d, 0, 4096, &err) < 0)
                        berth_error_release(&err);
        }
        if (qcow2_snapshot_create(d, "fuzz", &err) < 0)
                berth_error_release(&err);
        struct qcow2_check_result r;
        if (qcow2_check(d, QCOW2_REPAIR_NONE, &r, NULL, &err) < 0)
                berth_error_release(&err);
        disk_close(d);
        close(fd);
        return 0;
}
