/* util.c — memory, ownership and file helpers (see util.h). */
#include "common/util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void __attribute__((noreturn)) oom(size_t n)
{
        fprintf(stderr, "berth: out of memory allocating %zu bytes\n", n);
        abort();
}

void *berth_xmalloc(size_t n)
{
        void *p = malloc(n ? n : 1);
        if (p == NULL)
                oom(n);
        return p;
}

void *berth_xcalloc(size_t n, size_t size)
{
        void *p = calloc(n ? n : 1, size ? size : 1);
        if (p == NULL)
                oom(n * size);
        return p;
}

void *berth_xrealloc(void *old, size_t n)
{
        void *p = realloc(old, n ? n : 1);
        if (p == NULL)
                oom(n);
        return p;
}

char *berth_xstrdup(const char *s)
{
        char *p = strdup(s ? s : "");
        if (p == NULL)
                oom(s ? strlen(s) : 0);
        return p;
}

char *berth_xasprintf(const char *fmt, ...)
{
        char *p = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&p, fmt, ap);
        va_end(ap);
        if (r < 0)
                oom(0);
        return p;
}

void berth_freep(void *p)
{
        free(*(void **) p);
}

void berth_closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
                *fd = -1;
        }
}

void berth_fclosep(FILE **f)
{
        if (*f) {
                int saved = errno;
                fclose(*f);
                errno = saved;
        }
}

void berth_closedirp(DIR **d)
{
        if (*d) {
                int saved = errno;
                closedir(*d);
                errno = saved;
        }
}

int berth_write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t w = write(fd, p, len);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                p += w;
                len -= (size_t) w;
        }
        return 0;
}

int berth_pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t w = pwrite(fd, p, len, off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0) {
                        if (w == 0)
                                errno = EIO;
                        return -1;
                }
                p += w;
                off += w;
                len -= (size_t) w;
        }
        return 0;
}

int berth_next_data(int fd, off_t from, off_t size, off_t *start, off_t *end)
{
        if (from >= size)
                return 0;
        off_t data = lseek(fd, from, SEEK_DATA);
        if (data < 0)
                return errno == ENXIO ? 0 : -1;
        if (data >= size)
                return 0;
        off_t hole = lseek(fd, data, SEEK_HOLE);
        if (hole < 0)
                return -1;
        *start = data;
        *end = hole < size ? hole : size;
        return 1;
}

int berth_read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len,
                       berth_error_t *err)
{
        if (max == 0)
                max = 64u << 20;
        cleanup_close int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return berth_fail(err, errno, "open `%s`", path);
        size_t cap = 4096, n = 0;
        cleanup_free char *buf = berth_xmalloc(cap);
        for (;;) {
                if (n + 1 >= cap) {
                        if (cap > max)
                                return berth_fail(err, EFBIG, "read `%s`: larger than %zu bytes",
                                                  path, max);
                        cap *= 2;
                        buf = berth_xrealloc(buf, cap);
                }
                ssize_t r = read(fd, buf + n, cap - n - 1);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return berth_fail(err, errno, "read `%s`", path);
                }
                if (r == 0)
                        break;
                n += (size_t) r;
        }
        if (n > max)
                return berth_fail(err, EFBIG, "read `%s`: larger than %zu bytes", path, max);
        buf[n] = '\0';
        if (len)
                *len = n;
        *out = berth_steal_ptr(&buf);
        return 0;
}

int berth_read_file(const char *path, char **out, size_t *len, berth_error_t *err)
{
        return berth_read_file_at(AT_FDCWD, path, 0, out, len, err);
}

void berth_json_array_sort(json_t *a, int (*cmp)(const void *, const void *))
{
        size_t n = json_array_size(a);
        json_t **v = berth_xcalloc(n + 1, sizeof(json_t *));
        for (size_t i = 0; i < n; i++)
                v[i] = json_incref(json_array_get(a, i));
        qsort(v, n, sizeof(json_t *), cmp);
        json_array_clear(a);
        for (size_t i = 0; i < n; i++)
                json_array_append_new(a, v[i]);
        free(v);
}

json_t *berth_json_load_file(const char *path, json_error_t *je)
{
        char *text = NULL;
        size_t len = 0;
        berth_error_t err = NULL;
        if (berth_read_file(path, &text, &len, &err) < 0) {
                int e = err ? err->errnum : EIO;
                if (je) {
                        memset(je, 0, sizeof(*je));
                        snprintf(je->text, sizeof(je->text), "%s", berth_error_msg(err));
                }
                berth_error_release(&err);
                errno = e;
                return NULL;
        }
        json_t *j = json_loadb(text, len, 0, je);
        free(text);
        return j;
}

int berth_write_file(const char *path, const void *data, size_t len, berth_error_t *err)
{
        cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return berth_fail(err, errno, "open `%s` for writing", path);
        if (berth_write_all(fd, data, len) < 0)
                return berth_fail(err, errno, "write `%s`", path);
        return 0;
}

static int write_replace(const char *path, const void *data, size_t len, mode_t mode, bool sync,
                         struct stat *st, berth_error_t *err)
{
        cleanup_free char *dircopy = berth_xstrdup(path);
        const char *dir = dirname(dircopy); // NOLINT(clang-analyzer-unix.Malloc): cleanup_free
        cleanup_free char *tmp = berth_xasprintf("%s.tmp.XXXXXX", path);
        cleanup_close int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return berth_fail(err, errno, "create temporary file for `%s`", path);
        if (fchmod(fd, mode) < 0 || berth_write_all(fd, data, len) < 0 || (sync && fsync(fd) < 0) ||
            (st && fstat(fd, st) < 0)) {
                int e = errno;
                unlink(tmp);
                return berth_fail(err, e, "write `%s`", tmp);
        }
        if (rename(tmp, path) < 0) {
                int e = errno;
                unlink(tmp);
                return berth_fail(err, e, "rename `%s` to `%s`", tmp, path);
        }
        if (sync) {
                cleanup_close int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (dfd >= 0)
                        (void) fsync(dfd);
        }
        return 0;
}

int berth_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                            berth_error_t *err)
{
        return write_replace(path, data, len, mode, true, NULL, err);
}

int berth_write_file_replace(const char *path, const void *data, size_t len, mode_t mode,
                             berth_error_t *err)
{
        return write_replace(path, data, len, mode, false, NULL, err);
}

int berth_write_file_stat(const char *path, const void *data, size_t len, mode_t mode, bool sync,
                          struct stat *st, berth_error_t *err)
{
        return write_replace(path, data, len, mode, sync, st, err);
}

int berth_mkdir_p(const char *path, mode_t mode, berth_error_t *err)
{
        cleanup_free char *p = berth_xstrdup(path);
        size_t l = strlen(p);
        while (l > 1 && p[l - 1] == '/')
                p[--l] = '\0';
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return berth_fail(err, errno, "mkdir `%s`", p);
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return berth_fail(err, errno, "mkdir `%s`", p);
        return 0; // NOLINT(clang-analyzer-unix.Malloc): p is cleanup_free
}

bool berth_str_has_prefix(const char *s, const char *prefix)
{
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* nftw has no user pointer: the walk's state is per-thread. */
static _Thread_local uint64_t du_total;
static _Thread_local struct du_seen {
        dev_t dev;
        ino_t ino;
} * du_seen;
static _Thread_local size_t du_n;

static int du_visit(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        if (flag == FTW_NS)
                return 0;
        if (st->st_nlink > 1 && !S_ISDIR(st->st_mode)) {
                for (size_t i = 0; i < du_n; i++)
                        if (du_seen[i].dev == st->st_dev && du_seen[i].ino == st->st_ino)
                                return 0;
                du_seen = berth_xrealloc(du_seen, (du_n + 1) * sizeof(*du_seen));
                du_seen[du_n++] = (struct du_seen){st->st_dev, st->st_ino};
        }
        du_total += (uint64_t) st->st_blocks * 512;
        return 0;
}

uint64_t berth_du(const char *path)
{
        du_total = 0;
        du_n = 0;
        nftw(path, du_visit, 32, FTW_PHYS | FTW_MOUNT);
        free(du_seen);
        du_seen = NULL;
        return du_total;
}
