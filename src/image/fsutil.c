/* fsutil.c — directory-tree helpers the image code shares: remove a tree
 * without following symlinks, relative to a directory fd. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/idmap.h"
#include "common/util.h"
#include "image/image.h"

static int rm_children(int dfd, berth_error_t *err)
{
        int dup_fd = dup(dfd);
        if (dup_fd < 0)
                return berth_fail(err, errno, "dup");
        cleanup_dir DIR *d = fdopendir(dup_fd);
        if (d == NULL) {
                close(dup_fd);
                return berth_fail(err, errno, "opendir");
        }
        rewinddir(d); /* the dup shares its offset with dfd, which may have been read */
        struct dirent *de;
        /* readdir is thread-safe per DIR in glibc; readdir_r is deprecated */
        /* cppcheck-suppress readdirCalled */
        while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (img_rm_rf_at(dfd, de->d_name, err) < 0)
                        return -1;
        }
        return 0;
}

int img_rm_rf_at(int dirfd, const char *name, berth_error_t *err)
{
        if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
                return 0;
        if (errno != EISDIR && errno != EPERM)
                return berth_fail(err, errno, "remove `%s`", name);
        cleanup_close int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return berth_fail(err, errno, "open `%s`", name);
        if (rm_children(fd, err) < 0)
                return berth_wrap(err, "remove `%s`", name);
        if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return berth_fail(err, errno, "remove directory `%s`", name);
        return 0;
}

int img_empty_dir(int dirfd, berth_error_t *err)
{
        return rm_children(dirfd, err);
}

const char *img_opaque_xattr(void)
{
        return berth_in_userns() ? "user.overlay.opaque" : "trusted.overlay.opaque";
}

bool img_is_overlay_xattr(const char *name)
{
        return berth_str_has_prefix(name, "trusted.overlay.") ||
               berth_str_has_prefix(name, "user.overlay.");
}

bool img_dir_is_opaque(int fd)
{
        char v = 0;
        return (fgetxattr(fd, "trusted.overlay.opaque", &v, 1) == 1 && v == 'y') ||
               (fgetxattr(fd, "user.overlay.opaque", &v, 1) == 1 && v == 'y');
}

static int cmp_names(const void *x, const void *y)
{
        return strcmp(*(char *const *) x, *(char *const *) y);
}

int img_dir_sorted_names(int dirfd, const char *rel, char ***names, size_t *n, berth_error_t *err)
{
        *names = NULL;
        *n = 0;
        int dup_fd = dup(dirfd);
        DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
        if (d == NULL) {
                if (dup_fd >= 0)
                        close(dup_fd);
                return berth_fail(err, errno, "open `%s`", rel[0] ? rel : "/");
        }
        rewinddir(d); /* the dup shares its offset with dirfd, which may have been read */
        struct dirent *de;
        /* cppcheck-suppress readdirCalled */
        while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                *names = berth_xrealloc(*names, (*n + 1) * sizeof(char *));
                (*names)[(*n)++] = berth_xstrdup(de->d_name);
        }
        closedir(d);
        if (*n)
                qsort(*names, *n, sizeof(char *), cmp_names);
        return 0;
}

void img_names_free(char **names, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
}
