/* test_idmap.c — /etc/subuid parsing and id-map coverage (common/idmap.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/idmap.h"
#include "common/util.h"
#include "tap.h"

static char *write_tmp(const char *text)
{
        char *path = berth_xstrdup("/tmp/berth-test-subid-XXXXXX");
        int fd = mkstemp(path);
        if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t) strlen(text))
                abort();
        close(fd);
        return path;
}

int main(void)
{
        berth_error_t err = NULL;
        struct berth_subid_range r[BERTH_SUBID_MAX_RANGES];
        size_t n = 99;

        char *f = write_tmp("alice:100000:65536\n"
                            "# a comment\n"
                            "bob:165536:65536\n"
                            "1001:300000:1000\n"
                            "bob:bad:10\n"
                            "bob:400000:0\n"
                            "bob:4294967000:1000\n"
                            "bob:500000:10:extra\n"
                            "bob:231072:5\n");
        is_int(berth_subid_ranges(f, "alice", 1000, r, &n, &err), 0, "parse succeeds");
        is_int((int) n, 1, "alice has one range");
        ok(r[0].start == 100000 && r[0].count == 65536, "alice's range");
        berth_subid_ranges(f, "bob", 1001, r, &n, &err);
        is_int((int) n, 3, "bob: by name and by uid, malformed and empty lines skipped");
        ok(r[0].start == 165536 && r[1].start == 300000 && r[1].count == 1000 &&
                   r[2].start == 231072 && r[2].count == 5,
           "in file order");
        berth_subid_ranges(f, "carol", 1002, r, &n, &err);
        is_int((int) n, 0, "a user without an entry has no ranges");
        berth_subid_ranges(f, NULL, 1001, r, &n, &err);
        is_int((int) n, 1, "no name: the uid alone matches");
        unlink(f);
        free(f);
        is_int(berth_subid_ranges("/nonexistent/subuid", "alice", 1000, r, &n, &err), 0,
               "a missing file is no ranges");
        is_int((int) n, 0, "and none");

        const char *map = "         0       1000          1\n         1     100000      65536\n";
        ok(berth_idmap_text_covers(map, 0), "0 is covered");
        ok(berth_idmap_text_covers(map, 5), "5 is covered by the second line");
        ok(berth_idmap_text_covers(map, 65536), "the last id is covered");
        ok(!berth_idmap_text_covers(map, 65537), "one past is not");
        ok(!berth_idmap_text_covers("0 1000 1\n", 5), "a single mapping covers only 0");
        ok(!berth_idmap_text_covers("", 0), "an empty map covers nothing");
        ok(berth_self_maps_id(false, 0), "this process maps uid 0");
        return tap_done();
}
