/* cp_check.c — the check `docker cp` asks for with noOverwriteDirNonDir (see cp.h): read
 * before anything is written, so that a refused copy changes nothing. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"
#include "engine/cp.h"

int eng_cp_check_overwrite(int root_fd, const char *dir, int in_fd, berth_error_t *err)
{
        struct archive *a = archive_read_new();
        archive_read_support_format_all(a);
        archive_read_support_filter_all(a);
        int ret = 0;
        if (archive_read_open_fd(a, in_fd, 65536) != ARCHIVE_OK) {
                ret = berth_fail(err, archive_errno(a), "read tar: %s", archive_error_string(a));
                goto out;
        }
        struct archive_entry *e;
        int r;
        while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
                const char *name = archive_entry_pathname(e);
                while (name && name[0] == '.' && name[1] == '/')
                        name += 2;
                if (name == NULL || *name == '\0' || strcmp(name, ".") == 0)
                        continue;
                cleanup_free char *path = berth_xasprintf("%s/%s", dir, name);
                struct stat st;
                cleanup_free char *link = NULL;
                berth_error_t serr = NULL;
                if (eng_cp_lstat(root_fd, path, &st, &link, &serr) < 0) {
                        berth_error_release(&serr); /* not there (or unreachable): no conflict */
                        continue;
                }
                bool entry_dir = S_ISDIR(archive_entry_mode(e));
                if (S_ISDIR(st.st_mode) && !entry_dir) {
                        ret = berth_fail(err, EINVAL,
                                         "cannot overwrite directory \"%s\" with non-directory "
                                         "\"%s\"",
                                         path, name);
                        break;
                }
                if (!S_ISDIR(st.st_mode) && entry_dir) {
                        ret = berth_fail(err, EINVAL,
                                         "cannot overwrite non-directory \"%s\" with directory "
                                         "\"%s\"",
                                         path, name);
                        break;
                }
        }
        if (ret == 0 && r != ARCHIVE_EOF)
                ret = berth_fail(err, archive_errno(a), "read tar: %s", archive_error_string(a));
out:
        archive_read_free(a);
        return ret;
}
