/* test_disk_backing.c — which backing files a chain may open
 * (disk_backing_allowed, docs/disk.md "Backing files"), and that a FIFO
 * named as a backing file is refused at once instead of blocking. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "disk/disk.h"
#include "tap.h"

static bool allowed(const struct disk_open_opts *o, const char *image, const char *backing)
{
        berth_error_t err = NULL;
        int r = disk_backing_allowed(o, image, backing, &err);
        berth_error_release(&err);
        return r == 0;
}

static void touch(const char *path)
{
        int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd >= 0)
                close(fd);
}

int main(void)
{
        char dir[] = "/var/tmp/berth-test-backing-XXXXXX";
        ok(mkdtemp(dir) != NULL, "temp dir");
        cleanup_free char *img = berth_xasprintf("%s/top.qcow2", dir);
        cleanup_free char *sib = berth_xasprintf("%s/base.raw", dir);
        cleanup_free char *sub = berth_xasprintf("%s/sub", dir);
        cleanup_free char *inner = berth_xasprintf("%s/sub/inner.raw", dir);
        cleanup_free char *link = berth_xasprintf("%s/link.raw", dir);
        mkdir(sub, 0700);
        touch(img);
        touch(sib);
        touch(inner);
        (void) !symlink("/etc/passwd", link);

        ok(allowed(NULL, img, sib), "a file next to the image: allowed by default");
        ok(!allowed(NULL, img, inner), "a subdirectory is not the image's directory");
        ok(!allowed(NULL, img, "/etc/shadow"), "/etc/shadow: refused by default");
        ok(!allowed(NULL, img, link), "a symlink next to the image pointing away: refused");
        struct disk_open_opts named = {.backing_allow = inner};
        ok(allowed(&named, img, inner), "a named file: allowed");
        cleanup_free char *list = berth_xasprintf("/nonexistent:%s", sub);
        struct disk_open_opts bydir = {.backing_allow = list};
        ok(allowed(&bydir, img, inner), "a file in a named directory: allowed");
        ok(!allowed(&bydir, img, "/etc/shadow"), "...and nothing else");
        struct disk_open_opts any = {.backing_any = true};
        ok(allowed(&any, img, "/etc/passwd"), "--allow-backing: any file");
        ok(!allowed(&any, img, "/proc/self/environ"), "never /proc");
        ok(!allowed(&any, img, "/sys/kernel/notes"), "never /sys");
        ok(!allowed(&any, img, "/dev/zero"), "never /dev");
        ok(!allowed(&any, img, "/nonexistent/x"), "a missing file: an error");

        /* A qcow2 whose backing file is a FIFO next to it: refused, not blocked. */
        cleanup_free char *fifo = berth_xasprintf("%s/fifo.raw", dir);
        cleanup_free char *top = berth_xasprintf("%s/f.qcow2", dir);
        ok(mkfifo(fifo, 0600) == 0, "mkfifo");
        struct disk_create_opts co = {.format = DISK_FORMAT_QCOW2,
                                      .size = 1 << 20,
                                      .backing = "fifo.raw",
                                      .backing_fmt = DISK_FORMAT_RAW};
        berth_error_t err = NULL;
        /* disk_create probes a backing file for its size: give it a size, and a
         * regular file first, then swap in the FIFO */
        cleanup_free char *tmp = berth_xasprintf("%s/fifo.tmp", dir);
        rename(fifo, tmp);
        int fd = open(fifo, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        ok(fd >= 0 && ftruncate(fd, 1 << 20) == 0, "stand-in backing file");
        if (fd >= 0)
                close(fd);
        is_int(disk_create(top, &co, &err), 0, "create the overlay");
        berth_error_release(&err);
        unlink(fifo);
        rename(tmp, fifo);
        struct disk *d = NULL;
        int r = disk_open(top, DISK_FORMAT_QCOW2, DISK_RDONLY, &d, &err);
        ok(r < 0 && err && strstr(berth_error_msg(err), "not a regular file"),
           "a FIFO as the backing file fails at once");
        if (r == 0)
                disk_close(d);
        berth_error_release(&err);
        r = disk_open(fifo, DISK_FORMAT_RAW, DISK_RDONLY, &d, &err);
        ok(r < 0, "a FIFO as the image fails at once");
        berth_error_release(&err);

        cleanup_free char *rm = berth_xasprintf("rm -rf '%s'", dir);
        (void) !system(rm);
        return tap_done();
}
