/* copy.c — COPY and ADD of a build: the sources (globs, relative to the context
 * minus .dockerignore, or to another stage's or image's root filesystem with --from) are
 * copied into a temporary directory laid out as the image's root, which becomes one layer.
 * Sources are opened with RESOLVE_IN_ROOT, so no path or symlink in the context reaches
 * outside it.  ADD also unpacks local tar archives; the content's digest (paths, modes,
 * bytes) is part of the cache key. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "build/build_internal.h"
#include "common/util.h"

struct copy {
        struct build *b;
        int root;     /* where sources are looked up */
        bool context; /* root is the context: .dockerignore applies */
        bool chown;   /* --chown given */
        uid_t uid;
        gid_t gid;
        int mode; /* --chmod, or -1 */
        struct img_sha256 *hash;
        bool layers_ready;
};

static bool pat_match(const char *pat, const char *path)
{
        int flags = strstr(pat, "**") ? 0 : FNM_PATHNAME;
        if (fnmatch(pat, path, flags) == 0)
                return true;
        /* a pattern naming a directory excludes what is in it */
        cleanup_free char *p = berth_xstrdup(path);
        for (char *s = strrchr(p, '/'); s; s = strrchr(p, '/')) {
                *s = '\0';
                if (fnmatch(pat, p, flags) == 0)
                        return true;
        }
        return false;
}

bool bld_ignored(const struct build *b, const char *rel)
{
        bool ignored = false;
        for (size_t i = 0; i < b->n_ignore; i++) {
                const char *p = b->ignore[i];
                bool neg = p[0] == '!';
                if (pat_match(p + neg, rel))
                        ignored = !neg;
        }
        return ignored;
}

/* Does an exception ("!dir/file") re-include something inside the ignored directory rel? */
static bool excepted_under(const struct build *b, const char *rel)
{
        size_t n = strlen(rel);
        for (size_t i = 0; i < b->n_ignore; i++) {
                const char *p = b->ignore[i];
                if (p[0] == '!' && strncmp(p + 1, rel, n) == 0 && p[1 + n] == '/')
                        return true;
        }
        return false;
}

/* Skip rel (ignored, and not a directory holding an exception)? */
static bool skip_path(struct copy *cp, int dirfd, const char *name, const char *rel)
{
        if (!cp->context || !bld_ignored(cp->b, rel))
                return false;
        struct stat st;
        return !(excepted_under(cp->b, rel) &&
                 fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode));
}

static int open_in_root(int root, const char *rel, int flags)
{
        struct open_how how = {.flags = (uint64_t) flags | O_CLOEXEC,
                               .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
        return (int) syscall(SYS_openat2, root, rel[0] ? rel : ".", &how, sizeof(how));
}

/* "a/./b/../c/" → "a/c"; NULL if it climbs above the root (and !clamp). */
static char *clean_path(const char *in, bool clamp)
{
        char *out = berth_xcalloc(1, strlen(in) + 1);
        size_t n = 0;
        const char *p = in;
        while (*p) {
                while (*p == '/')
                        p++;
                size_t len = strcspn(p, "/");
                if (len == 0)
                        break;
                if (len == 1 && p[0] == '.') {
                        /* nothing */
                } else if (len == 2 && p[0] == '.' && p[1] == '.') {
                        if (n == 0 && !clamp) {
                                free(out);
                                return NULL;
                        }
                        while (n > 0 && out[n - 1] != '/')
                                n--;
                        if (n > 0)
                                n--;
                } else {
                        if (n)
                                out[n++] = '/';
                        memcpy(out + n, p, len);
                        n += len;
                }
                out[n] = '\0';
                p += len;
        }
        out[n] = '\0';
        return out;
}

static void add_match(char ***v, size_t *n, const char *s)
{
        *v = berth_xrealloc(*v, (*n + 1) * sizeof(char *));
        (*v)[(*n)++] = berth_xstrdup(s);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Match pattern (clean, relative) component by component under root. */
static void glob_in(struct copy *cp, const char *prefix, const char *pat, char ***v, size_t *n)
{
        size_t len = strcspn(pat, "/");
        cleanup_free char *comp = berth_xasprintf("%.*s", (int) len, pat);
        const char *rest = pat[len] ? pat + len + 1 : NULL;
        if (strpbrk(comp, "*?[") == NULL) {
                cleanup_free char *path =
                        prefix[0] ? berth_xasprintf("%s/%s", prefix, comp) : berth_xstrdup(comp);
                if (rest)
                        glob_in(cp, path, rest, v, n);
                else
                        add_match(v, n, path);
                return;
        }
        int dfd = open_in_root(cp->root, prefix, O_RDONLY | O_DIRECTORY);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        if (d == NULL) {
                if (dfd >= 0)
                        close(dfd);
                return;
        }
        struct dirent *de;
        /* cppcheck-suppress readdirCalled */
        while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
                    fnmatch(comp, de->d_name, FNM_PERIOD) != 0)
                        continue;
                cleanup_free char *path = prefix[0] ? berth_xasprintf("%s/%s", prefix, de->d_name)
                                                    : berth_xstrdup(de->d_name);
                if (skip_path(cp, dirfd(d), de->d_name, path))
                        continue;
                if (rest)
                        glob_in(cp, path, rest, v, n);
                else
                        add_match(v, n, path);
        }
        closedir(d);
}

/* The stat of rel in the current image (topmost layer that has it), for parents we create
 * and --chown names.  *path (if not NULL) gets the file's path in that layer. */
static int image_stat(struct copy *cp, const char *rel, struct stat *st, char **path)
{
        struct build *b = cp->b;
        if (!b->cur[0])
                return -1;
        if (!cp->layers_ready) {
                struct img_image img = {0};
                berth_error_t e = NULL;
                int r = img_image_load(&b->s, b->cur, &img, &e);
                if (r == 0)
                        r = img_layers_ensure(&b->s, &img, &e);
                img_image_free(&img);
                berth_error_release(&e);
                if (r < 0)
                        return -1;
                cp->layers_ready = true;
        }
        json_t *ids = json_object_get(json_object_get(b->cfg, "rootfs"), "diff_ids");
        for (size_t i = json_array_size(ids); i-- > 0;) {
                const char *id = json_string_value(json_array_get(ids, i));
                if (!img_digest_valid(id))
                        continue;
                char *p = berth_xasprintf("layers/%s/diff/%s", img_digest_hex(id), rel);
                if (fstatat(b->s.root_fd, p, st, AT_SYMLINK_NOFOLLOW) == 0) {
                        bool whiteout = S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
                        if (path && !whiteout)
                                *path = berth_xasprintf("%s/%s", b->s.root, p);
                        free(p);
                        return whiteout ? -1 : 0;
                }
                free(p);
        }
        return -1;
}

/* The id of name in the image's /etc/passwd or /etc/group (numeric ids as they are). */
static int lookup_id(struct copy *cp, const char *name, bool group, unsigned *out,
                     berth_error_t *err)
{
        char *end;
        unsigned long v = strtoul(name, &end, 10);
        if (*name && *end == '\0') {
                *out = (unsigned) v;
                return 0;
        }
        struct stat st;
        cleanup_free char *path = NULL;
        cleanup_free char *text = NULL;
        if (image_stat(cp, group ? "etc/group" : "etc/passwd", &st, &path) == 0 && path &&
            berth_read_file(path, &text, NULL, NULL) == 0) {
                size_t n = strlen(name);
                for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                        if (strncmp(l, name, n) == 0 && l[n] == ':') {
                                const char *f = strchr(l + n + 1, ':');
                                if (f) {
                                        *out = (unsigned) strtoul(f + 1, NULL, 10);
                                        return 0;
                                }
                        }
                }
        }
        return berth_fail_status(err, 125, 0, "--chown: no %s `%s` in the image",
                                 group ? "group" : "user", name);
}

static int parse_chown(struct copy *cp, const char *spec, berth_error_t *err)
{
        cleanup_free char *u = berth_xstrdup(spec);
        char *g = strchr(u, ':');
        if (g)
                *g++ = '\0';
        unsigned uid = 0, gid = 0;
        if (lookup_id(cp, u, false, &uid, err) < 0)
                return -1;
        if (g == NULL) {
                gid = uid;
                /* a user name alone: its primary group, as Docker does */
                if (!isdigit((unsigned char) u[0]))
                        lookup_id(cp, u, true, &gid, NULL);
        } else if (lookup_id(cp, g, true, &gid, err) < 0) {
                return -1;
        }
        cp->chown = true;
        cp->uid = uid;
        cp->gid = gid;
        return 0;
}

static void hash_meta(struct copy *cp, const char *rel, const struct stat *st, const char *extra)
{
        char *m = berth_xasprintf("%s\n%o\n%s\n", rel, (unsigned) st->st_mode, extra ? extra : "");
        img_sha256_update(cp->hash, m, strlen(m) + 1);
        free(m);
}

static void owner_of(struct copy *cp, const struct stat *st, uid_t *u, gid_t *g)
{
        if (cp->chown) {
                *u = cp->uid;
                *g = cp->gid;
        } else if (cp->context) {
                *u = 0; /* files from the context belong to root, as Docker makes them */
                *g = 0;
        } else {
                *u = st->st_uid;
                *g = st->st_gid;
        }
}

static int copy_node(struct copy *cp, int sdir, const char *sname, int ddir, const char *dname,
                     const char *rel, bool top, berth_error_t *err);

static int copy_dir_contents(struct copy *cp, int sfd, int dfd, const char *rel, berth_error_t *err)
{
        int dup_fd = dup(sfd);
        DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
        if (d == NULL) {
                if (dup_fd >= 0)
                        close(dup_fd);
                return berth_fail(err, errno, "open `%s`", rel);
        }
        char **names = NULL;
        size_t n = 0;
        struct dirent *de;
        /* cppcheck-suppress readdirCalled */
        while ((de = readdir(d)) != NULL)
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        add_match(&names, &n, de->d_name);
        closedir(d);
        if (n)
                qsort(names, n, sizeof(char *), cmp_str);
        int r = 0;
        for (size_t i = 0; i < n; i++) {
                cleanup_free char *crel =
                        rel[0] ? berth_xasprintf("%s/%s", rel, names[i]) : berth_xstrdup(names[i]);
                if (r == 0 && !skip_path(cp, sfd, names[i], crel))
                        r = copy_node(cp, sfd, names[i], dfd, names[i], crel, false, err);
                free(names[i]);
        }
        free(names);
        return r;
}

static int copy_file(struct copy *cp, int sfd, int ddir, const char *dname, const char *rel,
                     berth_error_t *err)
{
        cleanup_close int dfd =
                openat(ddir, dname, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (dfd < 0)
                return berth_fail(err, errno, "create `%s`", dname);
        char buf[1 << 16];
        ssize_t k;
        while ((k = read(sfd, buf, sizeof(buf))) > 0) {
                img_sha256_update(cp->hash, buf, (size_t) k);
                if (berth_write_all(dfd, buf, (size_t) k) < 0)
                        return berth_fail(err, errno, "write `%s`", dname);
        }
        if (k < 0)
                return berth_fail(err, errno, "read `%s`", rel);
        return 0;
}

/* Copy sdir/sname (top: the source as named, symlinks followed inside the root) to
 * ddir/dname. */
static int copy_node(struct copy *cp, int sdir, const char *sname, int ddir, const char *dname,
                     const char *rel, bool top, berth_error_t *err)
{
        struct stat st;
        cleanup_close int sfd = -1;
        if (top) {
                sfd = open_in_root(cp->root, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY);
                if (sfd < 0 || fstat(sfd, &st) < 0)
                        return berth_fail_status(err, 125, 0,
                                                 "`%s`: no such file or directory"
                                                 " in the %s",
                                                 rel,
                                                 cp->context ? "build context" : "source image");
        } else if (fstatat(sdir, sname, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                return berth_fail(err, errno, "stat `%s`", rel);
        }
        uid_t uid;
        gid_t gid;
        owner_of(cp, &st, &uid, &gid);
        if (S_ISLNK(st.st_mode) && sname) { /* (a top source was opened through its links) */
                char target[4096];
                ssize_t k = readlinkat(sdir, sname, target, sizeof(target) - 1);
                if (k < 0)
                        return berth_fail(err, errno, "readlink `%s`", rel);
                target[k] = '\0';
                hash_meta(cp, rel, &st, target);
                unlinkat(ddir, dname, 0);
                if (symlinkat(target, ddir, dname) < 0)
                        return berth_fail(err, errno, "symlink `%s`", dname);
                if (fchownat(ddir, dname, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                        return berth_fail(err, errno, "set owner of `%s`", dname);
                struct timespec ts[2] = {st.st_atim, st.st_mtim};
                utimensat(ddir, dname, ts, AT_SYMLINK_NOFOLLOW);
                return 0;
        }
        if (sfd < 0 && (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) {
                sfd = openat(sdir, sname, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
                if (sfd < 0)
                        return berth_fail(err, errno, "open `%s`", rel);
        }
        hash_meta(cp, rel, &st, NULL);
        if (S_ISDIR(st.st_mode)) {
                if (mkdirat(ddir, dname, 0700) < 0 && errno != EEXIST)
                        return berth_fail(err, errno, "mkdir `%s`", dname);
                cleanup_close int dfd =
                        openat(ddir, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dfd < 0)
                        return berth_fail(err, errno, "open `%s`", dname);
                if (copy_dir_contents(cp, sfd, dfd, rel, err) < 0)
                        return -1;
                if (fchown(dfd, uid, gid) < 0 ||
                    fchmod(dfd, cp->mode >= 0 ? (mode_t) cp->mode : st.st_mode & 07777) < 0)
                        return berth_fail(err, errno, "set owner and mode of `%s`", dname);
                struct timespec ts[2] = {st.st_atim, st.st_mtim};
                futimens(dfd, ts);
                return 0;
        }
        if (S_ISREG(st.st_mode)) {
                if (copy_file(cp, sfd, ddir, dname, rel, err) < 0)
                        return -1;
        } else {
                unlinkat(ddir, dname, 0);
                if (mknodat(ddir, dname, st.st_mode, st.st_rdev) < 0)
                        return berth_fail(err, errno, "mknod `%s`", dname);
        }
        mode_t mode = cp->mode >= 0 && S_ISREG(st.st_mode) ? (mode_t) cp->mode : st.st_mode & 07777;
        if (fchownat(ddir, dname, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ||
            fchmodat(ddir, dname, mode, 0) < 0)
                return berth_fail(err, errno, "set owner and mode of `%s`", dname);
        struct timespec ts[2] = {st.st_atim, st.st_mtim};
        utimensat(ddir, dname, ts, AT_SYMLINK_NOFOLLOW);
        return 0;
}

/* mkdir -p rel under tmp; directories the image has keep its owner and mode, new ones are
 * root's 0755 (the last one, the destination, the --chown owner's). */
static int make_dirs(struct copy *cp, int tmp, const char *rel, berth_error_t *err)
{
        cleanup_free char *path = berth_xstrdup("");
        const char *p = rel;
        while (*p) {
                size_t len = strcspn(p, "/");
                char *n = berth_xasprintf("%s%s%.*s", path, path[0] ? "/" : "", (int) len, p);
                free(path);
                path = n;
                p += len;
                while (*p == '/')
                        p++;
                struct stat st;
                bool have = image_stat(cp, path, &st, NULL) == 0;
                if (have && !S_ISDIR(st.st_mode))
                        return berth_fail_status(err, 125, 0, "`/%s` is not a directory", path);
                if (mkdirat(tmp, path, 0755) < 0 && errno != EEXIST)
                        return berth_fail(err, errno, "mkdir `%s`", path);
                int r = 0;
                if (have)
                        r = fchownat(tmp, path, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
                                            fchmodat(tmp, path, st.st_mode & 07777, 0) < 0
                                    ? -1
                                    : 0;
                else if (*p == '\0' && cp->chown)
                        r = fchownat(tmp, path, cp->uid, cp->gid, AT_SYMLINK_NOFOLLOW);
                if (r < 0)
                        return berth_fail(err, errno, "set owner and mode of `%s`", path);
        }
        return 0;
}

static bool is_archive(int fd, const char *name)
{
        unsigned char m[512];
        ssize_t n = pread(fd, m, sizeof(m), 0);
        if (n >= 262 && memcmp(m + 257, "ustar", 5) == 0)
                return true;
        bool compressed = n >= 4 && ((m[0] == 0x1f && m[1] == 0x8b) ||
                                     (m[0] == 'B' && m[1] == 'Z' && m[2] == 'h') ||
                                     (m[0] == 0xfd && m[1] == '7' && m[2] == 'z') ||
                                     (m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f));
        return compressed && (strstr(name, ".tar") || strstr(name, ".tgz") ||
                              strstr(name, ".tbz") || strstr(name, ".txz"));
}

/* One source into the layer directory. */
static int copy_source(struct copy *cp, bool add, const char *src, int tmp, const char *dest,
                       bool dest_dir, berth_error_t *err)
{
        cleanup_close int sfd = open_in_root(cp->root, src, O_RDONLY | O_NONBLOCK | O_NOCTTY);
        struct stat st;
        if (sfd < 0 || fstat(sfd, &st) < 0)
                return berth_fail_status(err, 125, 0, "`%s`: no such file or directory in the %s",
                                         src, cp->context ? "build context" : "source image");
        const char *base = strrchr(src, '/') ? strrchr(src, '/') + 1 : src;
        if (S_ISDIR(st.st_mode) || (add && S_ISREG(st.st_mode) && is_archive(sfd, base))) {
                if (dest[0] && make_dirs(cp, tmp, dest, err) < 0)
                        return -1;
                cleanup_close int dfd = openat(tmp, dest[0] ? dest : ".",
                                               O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (dfd < 0)
                        return berth_fail(err, errno, "open `%s`", dest);
                if (S_ISDIR(st.st_mode))
                        return copy_dir_contents(cp, sfd, dfd, src, err);
                /* the archive's bytes are the content */
                char buf[1 << 16];
                ssize_t k;
                while ((k = read(sfd, buf, sizeof(buf))) > 0)
                        img_sha256_update(cp->hash, buf, (size_t) k);
                struct img_unpack_stats us = {0};
                if (lseek(sfd, 0, SEEK_SET) < 0 || img_layer_unpack(sfd, dfd, NULL, &us, err) < 0)
                        return berth_wrap(err, "ADD `%s`", src);
                return 0;
        }
        /* a file: into the destination directory, or as the destination */
        cleanup_free char *dir = NULL;
        cleanup_free char *name = NULL;
        if (dest_dir) {
                dir = berth_xstrdup(dest);
                name = berth_xstrdup(base);
        } else {
                const char *slash = strrchr(dest, '/');
                dir = slash ? berth_xasprintf("%.*s", (int) (slash - dest), dest)
                            : berth_xstrdup("");
                name = berth_xstrdup(slash ? slash + 1 : dest);
        }
        if (dir[0] && make_dirs(cp, tmp, dir, err) < 0)
                return -1;
        cleanup_close int dfd =
                openat(tmp, dir[0] ? dir : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dfd < 0)
                return berth_fail(err, errno, "open `%s`", dir);
        return copy_node(cp, -1, NULL, dfd, name, src, true, err);
}

int bld_step_copy(struct build *b, const struct img_cf_instr *in, bool add, berth_error_t *err)
{
        struct copy cp = {.b = b, .root = b->context_fd, .context = true, .mode = -1};
        char **w = NULL;
        size_t n = 0;
        if (in->json) {
                for (size_t i = 0; i < in->argc; i++) {
                        char **one = NULL;
                        size_t k = 0;
                        if (img_cf_words(in->argv[i], bld_lookup, b, false, &one, &k, err) < 0) {
                                img_cf_words_free(w, n);
                                return -1;
                        }
                        add_match(&w, &n, one[0]);
                        img_cf_words_free(one, k);
                }
        } else if (img_cf_words(in->rest, bld_lookup, b, true, &w, &n, err) < 0) {
                return -1;
        }
        int r = 0;
        const char *from = img_cf_flag(in, "from");
        const char *chown = img_cf_flag(in, "chown");
        const char *chmod = img_cf_flag(in, "chmod");
        char from_manifest[IMG_DIGEST_MAX] = "";
        cleanup_free char *snap = NULL;
        cleanup_free char *tmp_path = NULL;
        cleanup_free char *dest = NULL;
        cleanup_free char *extra = NULL;
        cleanup_free char *abs = NULL;
        cleanup_free char *by = NULL;
        char **srcs = NULL;
        size_t n_srcs = 0;
        int tmp = -1;
        struct img_desc layer = {0};
        cp.hash = img_sha256_new();
        if (n < 2) {
                r = berth_fail_status(err, 125, 0, "%s requires at least two arguments", in->cmd);
                goto out;
        }
        if (from && add) {
                r = berth_fail_status(err, 125, 0, "ADD does not take --from");
                goto out;
        }
        if ((r = bld_ensure_image(b, err)) < 0)
                goto out;
        if (chown && (r = parse_chown(&cp, chown, err)) < 0)
                goto out;
        if (chmod) {
                char *end;
                long m = strtol(chmod, &end, 8);
                if (*chmod == '\0' || *end != '\0' || m < 0 || m > 07777) {
                        r = berth_fail_status(err, 125, 0, "--chmod: `%s` is not an octal mode",
                                              chmod);
                        goto out;
                }
                cp.mode = (int) m;
        }
        if (from) {
                bool scratch;
                cleanup_free char *rootfs = NULL;
                if ((r = bld_resolve_image(b, from, from_manifest, &scratch, err)) < 0)
                        goto out;
                if (scratch) {
                        r = berth_fail_status(err, 125, 0, "--from=scratch has no files");
                        goto out;
                }
                snap = bld_tmp_name();
                r = img_rootfs_prepare(&b->s, from_manifest, snap, img_driver_default(), &rootfs,
                                       err);
                if (r < 0) {
                        free(snap);
                        snap = NULL;
                        goto out;
                }
                cp.root = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                cp.context = false;
                if (cp.root < 0) {
                        r = berth_fail(err, errno, "open `%s`", rootfs);
                        goto out;
                }
        }
        /* the destination: relative to WORKDIR */
        const char *d = w[n - 1];
        const char *cwd =
                json_string_value(json_object_get(json_object_get(b->cfg, "config"), "WorkingDir"));
        abs = d[0] == '/' ? berth_xstrdup(d) : berth_xasprintf("%s/%s", cwd ? cwd : "", d);
        dest = clean_path(abs, true);
        size_t dl = strlen(d);
        bool dest_dir = (dl && d[dl - 1] == '/') || dest[0] == '\0' ||
                        (dl >= 2 && strcmp(d + dl - 2, "/.") == 0) || strcmp(d, ".") == 0;
        for (size_t i = 0; i + 1 < n; i++) {
                if (add && (strstr(w[i], "://") != NULL)) {
                        r = berth_fail_status(err, 125, 0, "ADD from a URL is not supported");
                        goto out;
                }
                cleanup_free char *s = clean_path(w[i], false);
                if (s == NULL) {
                        r = berth_fail_status(err, 125, 0,
                                              "`%s`: forbidden path outside the build context",
                                              w[i]);
                        goto out;
                }
                size_t before = n_srcs;
                if (strpbrk(s, "*?[")) {
                        glob_in(&cp, "", s, &srcs, &n_srcs);
                        if (n_srcs > before)
                                qsort(srcs + before, n_srcs - before, sizeof(char *), cmp_str);
                } else {
                        add_match(&srcs, &n_srcs, s);
                }
                if (n_srcs == before) {
                        r = berth_fail_status(err, 125, 0, "no source files match `%s`", w[i]);
                        goto out;
                }
        }
        if (n_srcs > 1)
                dest_dir = true;
        if (!dest_dir) {
                struct stat st;
                dest_dir = image_stat(&cp, dest, &st, NULL) == 0 && S_ISDIR(st.st_mode);
        }
        tmp_path = berth_xasprintf("%s/tmp/build-XXXXXX", b->s.root);
        if (mkdtemp(tmp_path) == NULL) {
                r = berth_fail(err, errno, "mkdtemp `%s`", tmp_path);
                free(tmp_path);
                tmp_path = NULL;
                goto out;
        }
        tmp = open(tmp_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (tmp < 0) {
                r = berth_fail(err, errno, "open `%s`", tmp_path);
                goto out;
        }
        if (dest_dir && dest[0] && (r = make_dirs(&cp, tmp, dest, err)) < 0)
                goto out;
        for (size_t i = 0; i < n_srcs && r == 0; i++)
                r = copy_source(&cp, add, srcs[i], tmp, dest, dest_dir, err);
        if (r < 0)
                goto out;
        char content[IMG_DIGEST_MAX];
        img_sha256_final(cp.hash, content);
        cp.hash = NULL;
        extra = berth_xasprintf("%s uid=%d:%d mode=%o dest=%s from=%s", content,
                                cp.chown ? (int) cp.uid : -1, cp.chown ? (int) cp.gid : -1,
                                (unsigned) cp.mode, dest, from_manifest);
        char key[IMG_DIGEST_MAX];
        bool hit;
        if ((r = bld_cache_check(b, in->text, extra, key, &hit, err)) < 0 || hit)
                goto out;
        char diffid[IMG_DIGEST_MAX];
        if ((r = img_layer_from_dir(&b->s, tmp, &layer, diffid, err)) < 0)
                goto out;
        by = berth_xasprintf("/bin/sh -c #(nop) %s %s in /%s", in->cmd, content, dest);
        r = bld_commit(b, by, &layer, diffid, key, err);
out:
        if (cp.hash)
                img_sha256_free(cp.hash);
        free(layer.media_type);
        if (tmp >= 0)
                close(tmp);
        if (tmp_path) {
                berth_error_t e = NULL;
                img_rm_rf_at(AT_FDCWD, tmp_path, &e);
                berth_error_release(&e);
        }
        if (cp.root != b->context_fd && cp.root >= 0)
                close(cp.root);
        if (snap) {
                berth_error_t e = NULL;
                img_rootfs_remove(&b->s, snap, &e);
                berth_error_release(&e);
        }
        img_cf_words_free(srcs, n_srcs);
        img_cf_words_free(w, n);
        return r;
}

int bld_workdir(struct build *b, const char *created_by, const char *key, berth_error_t *err)
{
        const char *dir =
                json_string_value(json_object_get(json_object_get(b->cfg, "config"), "WorkingDir"));
        cleanup_free char *rel = clean_path(dir ? dir : "/", true);
        struct copy cp = {.b = b};
        struct stat st;
        if (rel[0] == '\0' || image_stat(&cp, rel, &st, NULL) == 0)
                return bld_commit(b, created_by, NULL, NULL, key, err);
        /* Docker makes the directory: a layer with it (and its missing parents) */
        cleanup_free char *tmp_path = berth_xasprintf("%s/tmp/build-XXXXXX", b->s.root);
        if (mkdtemp(tmp_path) == NULL)
                return berth_fail(err, errno, "mkdtemp `%s`", tmp_path);
        struct img_desc layer = {0};
        char diffid[IMG_DIGEST_MAX];
        int tmp = open(tmp_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = tmp < 0 ? berth_fail(err, errno, "open `%s`", tmp_path) : 0;
        if (r == 0)
                r = make_dirs(&cp, tmp, rel, err);
        if (r == 0)
                r = img_layer_from_dir(&b->s, tmp, &layer, diffid, err);
        if (tmp >= 0)
                close(tmp);
        berth_error_t e = NULL;
        img_rm_rf_at(AT_FDCWD, tmp_path, &e);
        berth_error_release(&e);
        if (r == 0)
                r = bld_commit(b, created_by, &layer, diffid, key, err);
        free(layer.media_type);
        return r;
}
