/* cp_check.c — the check `docker cp` asks for with noOverwriteDirNonDir (see cp.h): read
 * before anything is written, so that a refused copy changes nothing. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "common/util.h"
#include "engine/cp.h"

int eng_cp_check_overwrite(int root_fd, const char *dir, int in_fd, berth_error_t *err)
{
        struct archive *a = eng_cp_tar_reader(in_fd, err);
        if (a == NULL)
                return -1;
        int ret = 0;
        struct archive_entry *e;
        const char *name = NULL;
        int r;
        while ((r = eng_cp_tar_next(a, &e, &name, err)) > 0) {
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
        if (r < 0)
                ret = -1;
        archive_read_free(a);
        return ret;
}
