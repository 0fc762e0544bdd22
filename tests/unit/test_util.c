/* test_util.c — atomic writes, whole-file reads with a size cap, mkdir -p, positioned
 * writes and a sparse file's data runs. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cpulist.h"
#include "common/util.h"
#include "tap.h"

static void cpulists(void)
{
        cpu_set_t s;
        ok(berth_cpulist_parse("0-2,5,7-7", &s) == 0 && CPU_COUNT(&s) == 5 && CPU_ISSET(5, &s) &&
                   !CPU_ISSET(3, &s),
           "cpulist: ranges and single CPUs");
        ok(berth_cpulist_parse("99", &s) == 0 && CPU_ISSET(99, &s), "cpulist: above 63");
        const char *bad[] = {"", "a", "1-", "-1", "3-1", "1,", "1,,2", "4096", "1 2"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                ok(berth_cpulist_parse(bad[i], &s) < 0, "cpulist: a malformed list refused");
}

/* A sparse file: data at [64K, 72K) and [1M, 1M+4K), holes elsewhere, 2 MiB long. */
static void sparse_extents(const char *dir)
{
        cleanup_free char *f = berth_xasprintf("%s/sparse", dir);
        int fd = open(f, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        static char page[8192];
        memset(page, 0x5a, sizeof(page));
        ok(fd >= 0 && berth_pwrite_all(fd, page, 8192, 65536) == 0 &&
                   berth_pwrite_all(fd, page, 4096, 1 << 20) == 0 && ftruncate(fd, 2 << 20) == 0,
           "pwrite_all at two offsets");
        ok(lseek(fd, 0, SEEK_CUR) == 0, "pwrite_all leaves the file offset");
        char back[4];
        ok(pread(fd, back, 4, 65536 + 8188) == 4 && back[3] == 0x5a, "pwrite_all wrote it all");
        fsync(fd);
        off_t a, b;
        /* a filesystem without holes reports all data: only the shape is checked then */
        bool holes = lseek(fd, 0, SEEK_HOLE) == 0;
        is_int(berth_next_data(fd, 0, 2 << 20, &a, &b), 1, "next_data: the first run");
        ok(!holes || (a == 65536 && b == 65536 + 8192), "next_data: its bounds");
        if (holes) {
                is_int(berth_next_data(fd, b, 2 << 20, &a, &b), 1, "next_data: the second run");
                ok(a == 1 << 20 && b == (1 << 20) + 4096, "next_data: its bounds");
                is_int(berth_next_data(fd, b, 2 << 20, &a, &b), 0, "next_data: only holes left");
                is_int(berth_next_data(fd, 0, 65536 + 4096, &a, &b), 1, "next_data: cut at size");
                ok(b == 65536 + 4096, "next_data: the run ends at size");
        }
        is_int(berth_next_data(fd, 2 << 20, 2 << 20, &a, &b), 0, "next_data: from the end");
        close(fd);
}

int main(void)
{
        berth_error_t err = NULL;
        cpulists();
        char dir[] = "/tmp/berth-test-util-XXXXXX";
        ok(mkdtemp(dir) != NULL, "temp dir");

        cleanup_free char *deep = berth_xasprintf("%s/a/b/c", dir);
        is_int(berth_mkdir_p(deep, 0755, &err), 0, "mkdir -p makes every level");
        struct stat st;
        ok(stat(deep, &st) == 0 && S_ISDIR(st.st_mode), "the deepest level exists");
        is_int(berth_mkdir_p(deep, 0755, &err), 0, "mkdir -p on an existing tree is fine");

        cleanup_free char *f = berth_xasprintf("%s/a/state.json", dir);
        is_int(berth_write_file_atomic(f, "{\"a\":1}", 7, 0600, &err), 0, "atomic write");
        ok(stat(f, &st) == 0 && (st.st_mode & 07777) == 0600, "mode applied");
        is_int(berth_write_file_atomic(f, "{}", 2, 0644, &err), 0, "atomic overwrite");
        char *buf = NULL;
        size_t len = 0;
        is_int(berth_read_file(f, &buf, &len, &err), 0, "read back");
        is_int(len, 2, "length is the new content's");
        is_str(buf, "{}", "content is the new content");
        free(buf);

        buf = NULL;
        is_int(berth_read_file_at(AT_FDCWD, f, 1, &buf, &len, &err), -1, "size cap enforced");
        ok(err && err->errnum == EFBIG, "with EFBIG");
        berth_error_release(&err);

        cleanup_free char *missing_parent = berth_xasprintf("%s/nope/x.json", dir);
        is_int(berth_write_file_atomic(missing_parent, "x", 1, 0600, &err), -1,
               "atomic write into a missing dir fails");
        ok(err && strstr(berth_error_msg(err), "nope/x.json") != NULL, "naming the file");
        berth_error_release(&err);

        cleanup_free char *blocker = berth_xasprintf("%s/file", dir);
        berth_write_file_atomic(blocker, "x", 1, 0600, NULL);
        cleanup_free char *under = berth_xasprintf("%s/file/sub", dir);
        is_int(berth_mkdir_p(under, 0755, &err), -1, "mkdir -p through a file fails");
        ok(err && err->errnum == ENOTDIR, "with ENOTDIR");
        berth_error_release(&err);

        sparse_extents(dir);

        cleanup_free char *cmd = berth_xasprintf("rm -rf %s", dir);
        ok(system(cmd) == 0, "cleanup");
        return tap_done();
}
