/* test_disk_raw.c — the generic block layer and the raw driver: probe,
 * read/write round trips, bounds and read-only checks, discard, block status,
 * vectored I/O, O_DIRECT with unaligned requests, resize. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "disk/disk.h"
#include "tap.h"

static bool all_byte(const uint8_t *p, size_t n, uint8_t v)
{
        for (size_t i = 0; i < n; i++)
                if (p[i] != v)
                        return false;
        return true;
}

int main(void)
{
        berth_error_t err = NULL;
        char dir[] = "/var/tmp/berth-test-disk-XXXXXX";
        ok(mkdtemp(dir) != NULL, "temp dir");
        cleanup_free char *path = berth_xasprintf("%s/a.raw", dir);

        struct disk_create_opts co = {.format = DISK_FORMAT_RAW, .size = 4 << 20};
        is_int(disk_create(path, &co, &err), 0, "create a 4 MiB raw image");
        enum disk_format f = DISK_FORMAT_AUTO;
        is_int(disk_probe(path, &f, &err), 0, "probe");
        is_int(f, DISK_FORMAT_RAW, "an empty file probes as raw");

        struct disk *d = NULL;
        is_int(disk_open(path, DISK_FORMAT_AUTO, 0, &d, &err), 0, "open read-write");
        is_int(d->size, 4 << 20, "size is the file's");
        is_str(d->ops->name, "raw", "raw driver chosen");

        uint8_t buf[8192], back[8192];
        memset(buf, 0xab, sizeof(buf));
        is_int(disk_pwrite(d, buf, sizeof(buf), 4096, &err), 0, "write 8 KiB");
        is_int(disk_pread(d, back, sizeof(back), 4096, &err), 0, "read it back");
        ok(memcmp(buf, back, sizeof(buf)) == 0, "same bytes");
        is_int(disk_flush(d, &err), 0, "flush");

        is_int(disk_pread(d, back, 16, (4 << 20) - 8, &err), -1, "read across the end refused");
        ok(err && err->errnum == ERANGE, "with ERANGE");
        berth_error_release(&err);
        is_int(disk_pwrite(d, buf, 1, UINT64_MAX, &err), -1, "offset overflow refused");
        berth_error_release(&err);

        struct iovec iov[3] = {{buf, 100}, {buf + 100, 3000}, {buf + 3100, 996}};
        memset(buf, 0x11, 4096);
        is_int(disk_pwritev(d, iov, 3, 1 << 20, &err), 0, "vectored write");
        memset(back, 0, sizeof(back));
        struct iovec riov[2] = {{back, 1}, {back + 1, 4095}};
        is_int(disk_preadv(d, riov, 2, 1 << 20, &err), 0, "vectored read");
        ok(all_byte(back, 4096, 0x11), "vectored round trip");

        is_int(disk_discard(d, 4096, 8192, &err), 0, "discard");
        is_int(disk_pread(d, back, 8192, 4096, &err), 0, "read discarded range");
        ok(all_byte(back, 8192, 0), "discarded range reads as zeroes");

        struct disk_extent ext;
        is_int(disk_block_status(d, 0, d->size, &ext, &err), 0, "block status");
        ok(ext.flags & DISK_BS_ZERO, "the start of a sparse file is a hole");
        is_int(disk_block_status(d, 1 << 20, 4096, &ext, &err), 0, "block status of data");
        ok(ext.flags & DISK_BS_DATA, "written range is data");

        is_int(disk_truncate(d, 8 << 20, &err), 0, "grow");
        is_int(d->size, 8 << 20, "new size");
        disk_close(d);

        is_int(disk_open(path, DISK_FORMAT_RAW, DISK_RDONLY, &d, &err), 0, "open read-only");
        is_int(disk_pwrite(d, buf, 512, 0, &err), -1, "write to read-only refused");
        ok(err && err->errnum == EROFS, "with EROFS");
        berth_error_release(&err);
        disk_close(d);

        /* O_DIRECT is refused by tmpfs; /var/tmp is usually a disk file system. */
        if (disk_open(path, DISK_FORMAT_RAW, DISK_DIRECT, &d, &err) == 0) {
                uint8_t odd[777];
                memset(odd, 0x5a, sizeof(odd));
                is_int(disk_pwrite(d, odd, sizeof(odd), 12345, &err), 0,
                       "unaligned O_DIRECT write");
                memset(back, 0, sizeof(back));
                is_int(disk_pread(d, back, 1000, 12300, &err), 0, "unaligned O_DIRECT read");
                ok(all_byte(back + 45, 777, 0x5a) && all_byte(back, 45, 0) &&
                           all_byte(back + 45 + 777, 1000 - 45 - 777, 0),
                   "bounce buffers keep the neighbours intact");
                disk_close(d);
        } else {
                tap_skip("O_DIRECT", berth_error_msg(err));
                berth_error_release(&err);
        }

        cleanup_free char *missing = berth_xasprintf("%s/nope.img", dir);
        is_int(disk_open(missing, DISK_FORMAT_AUTO, 0, &d, &err), -1, "missing file");
        ok(err && strstr(berth_error_msg(err), "nope.img"), "error names the file");
        berth_error_release(&err);

        is_int(disk_parse_format("vmdk", &f, &err), -1, "unknown format name refused");
        berth_error_release(&err);

        unlink(path);
        rmdir(dir);
        return tap_done();
}
