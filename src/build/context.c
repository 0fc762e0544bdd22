/* context.c — build contexts that arrive as one stream rather than a directory: `berth build -`
 * (stdin holds a tar, maybe compressed, or only a Containerfile, as `docker build -` reads it)
 * and the Engine API's POST /build body.  A tar is unpacked into a fresh directory; a lone
 * Containerfile becomes a directory holding only it, named Dockerfile, as the docker CLI sends
 * it.  Either way the build then reads a context directory like any other. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "build/build.h"
#include "common/util.h"

/* Larger than any real Containerfile; what dockerd accepts is bounded too. */
#define DOCKERFILE_MAX (16 << 20)

/* A compressed stream (gzip, bzip2, xz, zstd) or a tar header (ustar magic, or a V7 header
 * whose checksum holds): what the docker CLI takes for an archive rather than a Dockerfile. */
static bool looks_like_archive(const unsigned char *h, size_t n)
{
        static const struct {
                const char *magic;
                size_t len;
        } comp[] = {
                {"\x1f\x8b", 2},
                {"BZh", 3},
                {"\xfd"
                 "7zXZ\x00",
                 6},
                {"\x28\xb5\x2f\xfd", 4},
        };
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(comp); i++)
                if (n >= comp[i].len && memcmp(h, comp[i].magic, comp[i].len) == 0)
                        return true;
        if (n < 512)
                return false;
        if (memcmp(h + 257, "ustar", 5) == 0)
                return true;
        /* V7: the checksum field (octal, 148..155) is the sum of the header's bytes with the
         * field itself counted as spaces */
        unsigned long want = 0, sum = 0;
        size_t i = 148;
        while (i < 156 && h[i] == ' ')
                i++;
        if (i == 156 || h[i] < '0' || h[i] > '7')
                return false;
        for (; i < 156 && h[i] >= '0' && h[i] <= '7'; i++)
                want = want * 8 + (unsigned long) (h[i] - '0');
        for (i = 0; i < 512; i++)
                sum += i >= 148 && i < 156 ? ' ' : h[i];
        return sum == want && h[0] != '\0';
}

/* fd itself when it is a regular file read from its start (`< ctx.tar`), else a copy of the
 * stream in an unnamed file under base, so that it can be read twice (sniffed, unpacked). */
static int spool(int fd, const char *base, int *out, berth_error_t *err)
{
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && lseek(fd, 0, SEEK_CUR) == 0) {
                *out = fd;
                return 0;
        }
        int tmp = open(base, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (tmp < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
                /* a filesystem without O_TMPFILE: a named file, unlinked at once */
                cleanup_free char *name = berth_path_join(base, "stdin-XXXXXX");
                tmp = mkostemp(name, O_CLOEXEC);
                if (tmp >= 0)
                        unlink(name);
        }
        if (tmp < 0)
                return berth_fail(err, errno, "make a file for the build context in `%s`", base);
        char buf[65536];
        ssize_t n;
        while ((n = read(fd, buf, sizeof(buf))) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 || berth_write_all(tmp, buf, (size_t) n) < 0) {
                        int e = errno;
                        close(tmp);
                        return berth_fail(err, e, "read the build context from stdin");
                }
        }
        /* the unpack reads from the current offset */
        if (lseek(tmp, 0, SEEK_SET) < 0) {
                int e = errno;
                close(tmp);
                return berth_fail(err, e, "rewind the build context's copy");
        }
        *out = tmp;
        return 0;
}

/* All of fd from offset 0, NUL-terminated (a Containerfile's text). */
static int read_text(int fd, const char *what, char **out, berth_error_t *err)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return berth_fail(err, errno, "read %s", what);
        if (st.st_size > DOCKERFILE_MAX)
                return berth_fail(err, EFBIG, "%s is too large", what);
        size_t len = 0, size = (size_t) st.st_size;
        char *text = berth_xmalloc(size + 1);
        while (len < size) {
                ssize_t n = pread(fd, text + len, size - len, (off_t) len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        int e = n < 0 ? errno : EIO;
                        free(text);
                        return berth_fail(err, e, "read %s", what);
                }
                len += (size_t) n;
        }
        text[len] = '\0';
        *out = text;
        return 0;
}

static int make_dir(const char *base, char **dir, berth_error_t *err)
{
        if (berth_mkdir_p(base, 0700, err) < 0)
                return -1;
        char *tmpl = berth_path_join(base, "context-XXXXXX");
        if (mkdtemp(tmpl) == NULL) {
                int e = errno;
                free(tmpl);
                berth_fail(err, e, "make a directory for the build context in `%s`", base);
                return -1;
        }
        *dir = tmpl;
        return 0;
}

int bld_context_unpack(int fd, const char *base, char **dir, berth_error_t *err)
{
        *dir = NULL;
        if (make_dir(base, dir, err) < 0)
                return -1;
        cleanup_close int dfd = open(*dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return berth_fail(err, errno, "open `%s`", *dir);
        struct stat st;
        if (fd < 0 || (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0))
                return 0; /* no context: only a Containerfile lookup failure can follow */
        struct img_unpack_stats us = {0};
        if (img_layer_unpack(fd, dfd, NULL, &us, err) < 0)
                return berth_wrap(err, "read the build context");
        return 0;
}

int bld_context_from_stream(int fd, const char *base, struct bld_stream_context *out,
                            berth_error_t *err)
{
        memset(out, 0, sizeof(*out));
        if (berth_mkdir_p(base, 0700, err) < 0)
                return -1;
        int in = -1;
        if (spool(fd, base, &in, err) < 0)
                return -1;
        unsigned char head[512];
        ssize_t n = pread(in, head, sizeof(head), 0);
        int r = -1;
        if (n < 0) {
                berth_fail(err, errno, "read the build context from stdin");
        } else if (looks_like_archive(head, (size_t) n)) {
                r = bld_context_unpack(in, base, &out->dir, err);
        } else if (make_dir(base, &out->dir, err) == 0) {
                /* the stream is the Containerfile: the context holds it alone */
                cleanup_free char *path = berth_path_join(out->dir, "Dockerfile");
                if (read_text(in, "the Containerfile from stdin", &out->dockerfile, err) == 0)
                        r = berth_write_file_replace(path, out->dockerfile, strlen(out->dockerfile),
                                                     0644, err);
        }
        if (in != fd)
                close(in);
        if (r < 0)
                bld_context_remove(out);
        return r;
}

void bld_context_remove(struct bld_stream_context *c)
{
        if (c->dir) {
                berth_error_t e = NULL;
                img_rm_rf_at(AT_FDCWD, c->dir, &e);
                berth_error_release(&e);
        }
        free(c->dir);
        free(c->dockerfile);
        memset(c, 0, sizeof(*c));
}

int bld_context_dockerfile(const char *dir, const char *name, char **out, const char **used,
                           berth_error_t *err)
{
        *out = NULL;
        cleanup_close int root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return berth_fail(err, errno, "open `%s`", dir);
        /* the default: Containerfile, else Dockerfile (as for a directory) */
        const char *names[2] = {name, NULL};
        if (name == NULL) {
                names[0] = "Containerfile";
                names[1] = "Dockerfile";
        }
        for (size_t i = 0; i < 2 && names[i]; i++) {
                /* a symlink in the context may not lead out of it */
                struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
                                       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
                cleanup_close int fd =
                        (int) syscall(SYS_openat2, root, names[i], &how, sizeof(how));
                struct stat st;
                if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                        continue;
                if (used)
                        *used = names[i];
                return read_text(fd, names[i], out, err);
        }
        /* dockerd's words, without an errno's */
        return berth_fail(err, 0, "Cannot locate specified Dockerfile: %s",
                          name ? name : "Dockerfile");
}
