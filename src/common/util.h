/* util.h — memory, ownership (cleanup attributes) and small file helpers.
 *
 * Ownership is expressed with cleanup attributes so that early returns on
 * error paths release everything:
 *
 *   cleanup_free char *buf = NULL;
 *   cleanup_close int fd = open(...);
 *   ...
 *   return berth_steal_fd(&fd);   // hand ownership to the caller
 */
#ifndef BERTH_COMMON_UTIL_H
#define BERTH_COMMON_UTIL_H

#include <dirent.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/error.h"

#define BERTH_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation failure aborts: there is no sane recovery from it in a runtime,
 * and it keeps every call site free of impossible error paths. */
void *berth_xmalloc(size_t n);
void *berth_xcalloc(size_t n, size_t size);
void *berth_xrealloc(void *p, size_t n);
char *berth_xstrdup(const char *s);
char *berth_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void berth_freep(void *p);
void berth_closep(int *fd);
void berth_fclosep(FILE **f);
void berth_closedirp(DIR **d);

#define cleanup_free  __attribute__((cleanup(berth_freep)))
#define cleanup_close __attribute__((cleanup(berth_closep)))
#define cleanup_file  __attribute__((cleanup(berth_fclosep)))
#define cleanup_dir   __attribute__((cleanup(berth_closedirp)))

static inline int berth_steal_fd(int *fd)
{
        int r = *fd;
        *fd = -1;
        return r;
}

static inline void *berth_steal_ptr(void *pp)
{
        void **p = (void **) pp;
        void *r = *p;
        *p = NULL;
        return r;
}

/* Read a whole file (NUL-terminated; *len excludes the NUL).  dirfd may be
 * AT_FDCWD.  Refuses files larger than max (0 = 64 MiB). */
int berth_read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len,
                       berth_error_t *err);
int berth_read_file(const char *path, char **out, size_t *len, berth_error_t *err);

/* jansson's json_load_file, but with one read(2) per 4 KiB instead of a getc per byte (a third
 * of listing 100 containers went to getc).  NULL with errno set when the file can't be read,
 * je describing why when given. */
json_t *berth_json_load_file(const char *path, json_error_t *je);

/* Sorts a JSON array in place; cmp gets two json_t *const * as qsort's arguments. */
void berth_json_array_sort(json_t *a, int (*cmp)(const void *, const void *));

/* Write data to path atomically: temp file in the same directory, fsync,
 * rename, fsync of the directory.  Readers see the old or the new file. */
int berth_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                            berth_error_t *err);

/* The same without the fsyncs: readers still see the old or the new file,
 * but a power loss may leave the old one.  For state that is rebuilt or
 * reconciled anyway (files under /run, a container's state.json). */
int berth_write_file_replace(const char *path, const void *data, size_t len, mode_t mode,
                             berth_error_t *err);

/* berth_write_file_atomic (sync) or _replace, and *st: the new file as written, taken before
 * the rename (so another writer's later file can't pass for it). */
struct stat;
int berth_write_file_stat(const char *path, const void *data, size_t len, mode_t mode, bool sync,
                          struct stat *st, berth_error_t *err);

/* Write data to an existing file (sysfs/procfs/cgroupfs style: one write). */
int berth_write_file(const char *path, const void *data, size_t len, berth_error_t *err);

/* mkdir -p; existing directories are fine. */
int berth_mkdir_p(const char *path, mode_t mode, berth_error_t *err);

/* Write all of buf, retrying on EINTR and short writes. */
int berth_write_all(int fd, const void *buf, size_t len);
/* The same at offset off (pwrite; the file offset stays); -1 with errno (EIO: no progress). */
int berth_pwrite_all(int fd, const void *buf, size_t len, off_t off);

/* The next run of data (not a hole) in fd at or after from, cut at size: 1 with
 * [*start, *end), 0 when only holes are left, -1 with errno.  A filesystem without
 * SEEK_DATA reports its whole file as data (the kernel's generic answer). */
int berth_next_data(int fd, off_t from, off_t size, off_t *start, off_t *end);

bool berth_str_has_prefix(const char *s, const char *prefix);

/* Disk space used under path (st_blocks, one filesystem, symlinks not
 * followed, hardlinks counted once); 0 if it doesn't exist. */
uint64_t berth_du(const char *path);

#endif
