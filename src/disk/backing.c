/* backing.c — which backing files an image may open (disk.h,
 * disk_backing_allowed; docs/disk.md, "Backing files").
 *
 * A qcow2 names its own backing file, and the name comes from whoever made
 * the image: without a policy, an image fetched from elsewhere that names
 * /etc/shadow gives that file to a guest as its disk.  A backing file is
 * therefore opened only if its real path (symlinks resolved) lies in the
 * directory of the image naming it, or the operator named it, or a
 * directory holding it, or allowed any.  Kernel pseudo-filesystems are
 * never backing files, whatever the policy says. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "disk/disk.h"

static bool in_dir(const char *dir, const char *path)
{
        size_t n = strlen(dir);
        if (n == 1 && dir[0] == '/')
                return true;
        return strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* The real directory an image lies in (its own symlink resolved too). */
static char *real_dir(const char *image)
{
        char *r = realpath(image, NULL);
        if (!r)
                return NULL;
        char *slash = strrchr(r, '/');
        if (slash == r)
                slash[1] = 0;
        else
                *slash = 0;
        return r;
}

/* Is real path rp one of the ':'-separated entries, or inside one that is a
 * directory? */
static bool listed(const char *list, const char *rp)
{
        if (!list)
                return false;
        cleanup_free char *copy = berth_xstrdup(list);
        char *save = NULL;
        for (char *e = strtok_r(copy, ":", &save); e; e = strtok_r(NULL, ":", &save)) {
                cleanup_free char *re = realpath(e, NULL);
                if (re && (strcmp(re, rp) == 0 || in_dir(re, rp)))
                        return true;
        }
        return false;
}

int disk_backing_allowed(const struct disk_open_opts *o, const char *image, const char *backing,
                         berth_error_t *err)
{
        cleanup_free char *rp = realpath(backing, NULL);
        if (!rp)
                return berth_fail(err, errno, "backing file `%s`", backing);
        static const char *const never[] = {"/proc", "/sys", "/dev"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(never); i++)
                if (strcmp(rp, never[i]) == 0 || in_dir(never[i], rp))
                        return berth_fail(err, EACCES,
                                          "backing file `%s` is under %s: never a backing file", rp,
                                          never[i]);
        if (o && o->backing_any)
                return 0;
        cleanup_free char *dir = real_dir(image);
        if (dir && in_dir(dir, rp) && !strchr(rp + strlen(dir) + 1, '/'))
                return 0;
        if (o && listed(o->backing_allow, rp))
                return 0;
        return berth_fail(err, EACCES,
                          "backing file `%s` (named by `%s`) is outside the image's directory and "
                          "not allowed: allow it with backing=PATH (berth-vmm --disk) or "
                          "--allow-backing=PATH (berth disk)",
                          rp, image);
}
