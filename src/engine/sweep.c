/* sweep.c — reclaiming what crashed makers and removers left (see sweep.h).  The order
 * matters as in create and rm: a record is made before its snapshot and removed after it, so
 * a container snapshot whose record is gone has no owner. */
#include "engine/sweep.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "image/image.h"

static int half_records(struct eng_ctx *e, struct img_store *s, size_t *removed, berth_error_t *err)
{
        cleanup_dir DIR *d = opendir(e->containers_dir);
        if (d == NULL)
                return errno == ENOENT ? 0 : berth_fail(err, errno, "open `%s`", e->containers_dir);
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
                if (!eng_id_valid(de->d_name))
                        continue;
                cleanup_close int lock = -1;
                if (eng_record_stale(e, de->d_name, &lock) != 1)
                        continue;
                log_debug("removing the half-made container %s", de->d_name);
                /* holding its lock: no second sweeper works on it at the same time */
                if (img_rootfs_remove(s, de->d_name, err) < 0 ||
                    eng_record_remove_half(e, de->d_name, err) < 0)
                        return berth_wrap(err, "remove the half-made container %.12s", de->d_name);
                (*removed)++;
        }
        return 0;
}

static int lone_snapshots(struct eng_ctx *e, struct img_store *s, size_t *removed,
                          berth_error_t *err)
{
        cleanup_dir DIR *d = NULL;
        int r = img_snapshots_open(s, &d, err);
        if (r <= 0)
                return r;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
                /* containers' snapshots are named by their ids; builds' and `image mount`'s
                 * have names of their own and their own owners */
                if (!eng_id_valid(de->d_name))
                        continue;
                cleanup_free char *rec = berth_path_join(e->containers_dir, de->d_name);
                if (access(rec, F_OK) == 0 || errno != ENOENT)
                        continue;
                log_debug("removing the snapshot of the gone container %s", de->d_name);
                if (img_rootfs_remove(s, de->d_name, err) < 0)
                        return -1;
                (*removed)++;
        }
        return 0;
}

int eng_sweep(struct eng_ctx *e, size_t *removed, berth_error_t *err)
{
        size_t n = 0;
        struct img_store s;
        if (img_store_open(&s, e->data_dir, err) < 0)
                return -1;
        int r = half_records(e, &s, &n, err);
        if (r == 0)
                r = eng_new_dirs_sweep(e, err);
        if (r == 0)
                r = eng_names_sweep(e, err);
        if (r == 0)
                r = lone_snapshots(e, &s, &n, err);
        img_store_close(&s);
        if (removed)
                *removed = n;
        return r;
}
