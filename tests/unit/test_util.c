/* test_util.c — atomic writes, whole-file reads with a size cap, mkdir -p. */
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

        cleanup_free char *cmd = berth_xasprintf("rm -rf %s", dir);
        ok(system(cmd) == 0, "cleanup");
        return tap_done();
}
