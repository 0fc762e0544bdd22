/* test_image_layer.c — unpacking crafted layer tars: metadata kept, whiteouts
 * turned into overlay ones, and entries that would escape the layer refused. */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/util.h"
#include "image/image.h"
#include "image_tar.h"
#include "tap.h"

static char *fresh_dir(const char *top, const char *name)
{
        char *p = berth_xasprintf("%s/%s", top, name);
        mkdir(p, 0755);
        return p;
}

static int unpack(const struct ent *ents, size_t n, const char *filter, const char *dir,
                  berth_error_t *err)
{
        int fd = make_tar(ents, n, filter);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY);
        int r = img_layer_unpack(fd, dfd, NULL, NULL, err);
        close(dfd);
        close(fd);
        return r;
}

static void test_metadata(const char *top, const char *filter)
{
        berth_error_t err = NULL;
        static const struct ent ents[] = {
                {"./bin/", AE_IFDIR, NULL, 0755, 0},
                {"./bin/su", AE_IFREG, "#!setuid", 04755, 0},
                {"./bin/sh", AE_IFLNK, "/bin/busybox", 0777, 0},
                {"./bin/ln", 0, "bin/su", 0, 0},
                {"dev/null", AE_IFCHR, NULL, 0666, 0},
                {"deep/er/file", AE_IFREG, "x", 0600, 0},
                {"xattr", AE_IFREG, "x", 0600, 0},
                {"fifo", AE_IFIFO, NULL, 0600, 0},
                {"sparse", AE_IFREG, "tail", 0644, 8 << 20},
        };
        cleanup_free char *dir = fresh_dir(top, filter ? filter : "plain");
        is_int(unpack(ents, BERTH_ARRAY_SIZE(ents), filter, dir, &err), 0, "layer unpacks");
        if (err)
                printf("# %s\n", berth_error_msg(err));
        berth_error_release(&err);
        struct stat st, st2;
        cleanup_free char *su = berth_xasprintf("%s/bin/su", dir);
        ok(stat(su, &st) == 0 && (st.st_mode & 07777) == 04755, "setuid mode kept");
        if (geteuid() == 0)
                ok(st.st_uid == 1234 && st.st_gid == 5678, "ownership kept");
        ok(st.st_mtime == 1000000000, "mtime kept");
        cleanup_free char *ln = berth_xasprintf("%s/bin/ln", dir);
        ok(stat(ln, &st2) == 0 && st2.st_ino == st.st_ino && st.st_nlink == 2,
           "hard link is the same inode");
        cleanup_free char *sh = berth_xasprintf("%s/bin/sh", dir);
        char buf[64] = {0};
        ok(readlink(sh, buf, sizeof(buf) - 1) > 0 && strcmp(buf, "/bin/busybox") == 0,
           "symlink target kept");
        cleanup_free char *dn = berth_xasprintf("%s/dev/null", dir);
        if (geteuid() == 0)
                ok(lstat(dn, &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 &&
                           minor(st.st_rdev) == 3,
                   "device node made");
        cleanup_free char *deep = berth_xasprintf("%s/deep/er/file", dir);
        ok(access(deep, F_OK) == 0, "missing parent directories are created");
        cleanup_free char *xa = berth_xasprintf("%s/xattr", dir);
        ok(getxattr(xa, "user.berth", buf, sizeof(buf)) == 1 && buf[0] == 'v', "xattr kept");
        cleanup_free char *ff = berth_xasprintf("%s/fifo", dir);
        ok(lstat(ff, &st) == 0 && S_ISFIFO(st.st_mode), "fifo made");
        cleanup_free char *sp = berth_xasprintf("%s/sparse", dir);
        ok(stat(sp, &st) == 0 && st.st_size == (8 << 20), "sparse file has its full size");
        ok(st.st_blocks * 512 < (1 << 20), "sparse file keeps its hole");
        int sfd = open(sp, O_RDONLY);
        char tail[5] = {0};
        ok(pread(sfd, tail, 4, (8 << 20) - 4) == 4 && strcmp(tail, "tail") == 0,
           "sparse file data at its offset");
        close(sfd);
        cleanup_free char *bindir = berth_xasprintf("%s/bin", dir);
        ok(stat(bindir, &st) == 0 && st.st_mtime == 1000000000, "directory mtime kept");
}

static void test_whiteouts(const char *top)
{
        if (geteuid() != 0) {
                tap_skip("whiteouts", "needs root for 0/0 devices and trusted xattrs");
                return;
        }
        berth_error_t err = NULL;
        static const struct ent ents[] = {
                {"etc/.wh.passwd", AE_IFREG, NULL, 0, 0},
                {"var/cache/.wh..wh..opq", AE_IFREG, NULL, 0, 0},
                {"var/.wh..wh.plnk", AE_IFDIR, NULL, 0, 0},
        };
        cleanup_free char *dir = fresh_dir(top, "wh");
        is_int(unpack(ents, BERTH_ARRAY_SIZE(ents), NULL, dir, &err), 0, "whiteout layer unpacks");
        berth_error_release(&err);
        struct stat st;
        cleanup_free char *w = berth_xasprintf("%s/etc/passwd", dir);
        ok(lstat(w, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0),
           ".wh.passwd became a 0/0 character device");
        cleanup_free char *wf = berth_xasprintf("%s/etc/.wh.passwd", dir);
        ok(lstat(wf, &st) < 0, "no .wh. file left");
        cleanup_free char *o = berth_xasprintf("%s/var/cache", dir);
        char v = 0;
        ok(getxattr(o, "trusted.overlay.opaque", &v, 1) == 1 && v == 'y',
           ".wh..wh..opq became trusted.overlay.opaque=y");
        cleanup_free char *pl = berth_xasprintf("%s/var/.wh..wh.plnk", dir);
        ok(lstat(pl, &st) < 0, "aufs metadata ignored");
}

static void test_escapes(const char *top)
{
        berth_error_t err = NULL;
        cleanup_free char *outside = berth_xasprintf("%s/outside", top);
        mkdir(outside, 0755);
        struct {
                const char *what;
                struct ent ents[3];
                size_t n;
        } cases[] = {
                {"../ entry", {{"../outside/pwned", AE_IFREG, "x", 0, 0}}, 1},
                {"a/../../ entry", {{"a/../../outside/pwned", AE_IFREG, "x", 0, 0}}, 1},
                {"absolute entry", {{"/tmp/berth-pwned", AE_IFREG, "x", 0, 0}}, 1},
                {"write through a symlink to a dir",
                 {{"link", AE_IFLNK, "../outside", 0, 0}, {"link/pwned", AE_IFREG, "x", 0, 0}},
                 2},
                {"write through an absolute symlink",
                 {{"abs", AE_IFLNK, "/tmp", 0, 0}, {"abs/berth-pwned", AE_IFREG, "x", 0, 0}},
                 2},
                {"hard link to outside", {{"hl", 0, "../outside/secret", 0, 0}}, 1},
                {"hard link through a symlink",
                 {{"l2", AE_IFLNK, "/etc", 0, 0}, {"hl", 0, "l2/passwd", 0, 0}},
                 2},
                {"whiteout through a symlink",
                 {{"l3", AE_IFLNK, "../outside", 0, 0}, {"l3/.wh.secret", AE_IFREG, NULL, 0, 0}},
                 2},
        };
        cleanup_free char *secret = berth_xasprintf("%s/secret", outside);
        berth_write_file_atomic(secret, "s", 1, 0600, &err);
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(cases); i++) {
                cleanup_free char *name = berth_xasprintf("esc%zu", i);
                cleanup_free char *dir = fresh_dir(top, name);
                int r = unpack(cases[i].ents, cases[i].n, NULL, dir, &err);
                char msg[128];
                snprintf(msg, sizeof(msg), "refused: %s", cases[i].what);
                ok(r < 0 && err && err->errnum != 0, msg);
                if (err)
                        printf("# %s\n", berth_error_msg(err));
                berth_error_release(&err);
        }
        cleanup_free char *pwned = berth_xasprintf("%s/pwned", outside);
        ok(access(pwned, F_OK) < 0, "nothing written outside the layer");
        ok(access("/tmp/berth-pwned", F_OK) < 0, "nothing written at the absolute path");
        ok(access(secret, F_OK) == 0, "file outside not whited out");
}

static const char *bad_diffid(void)
{
        return "sha256:0000000000000000000000000000000000000000000000000000000000000000";
}

/* What an unpack told of its reading: rising counts, the last one the whole blob. */
struct reads {
        uint64_t last;
        size_t n;
        bool rising;
};

static void count_read(void *ctx, uint64_t done)
{
        struct reads *r = ctx;
        if (done < r->last)
                r->rising = false;
        r->last = done;
        r->n++;
}

static void test_diffid(void)
{
        berth_error_t err = NULL;
        static const struct ent ents[] = {{"f", AE_IFREG, "hello", 0, 0}};
        int plain = make_tar(ents, 1, NULL);
        int gz = make_tar(ents, 1, "gzip");
        int zs = make_tar(ents, 1, "zstd");
        char d1[IMG_DIGEST_MAX], d2[IMG_DIGEST_MAX], d3[IMG_DIGEST_MAX], raw[IMG_DIGEST_MAX];
        uint64_t n1 = 0;
        is_int(img_layer_diffid(plain, d1, &n1, &err), 0, "diffID of a plain tar");
        is_int(img_layer_diffid(gz, d2, NULL, &err), 0, "diffID of a gzip tar");
        is_int(img_layer_diffid(zs, d3, NULL, &err), 0, "diffID of a zstd tar");
        ok(strcmp(d1, d2) == 0 && strcmp(d1, d3) == 0, "the same diffID whatever the compression");
        lseek(plain, 0, SEEK_SET);
        char buf[1 << 14];
        ssize_t r = read(plain, buf, sizeof(buf));
        img_sha256_digest(buf, (size_t) r, raw);
        is_str(d1, raw, "diffID of a plain tar is its digest");
        is_int(n1, r, "uncompressed size");
        is_str(img_layer_media_type(gz), IMG_MT_OCI_LAYER_GZIP, "gzip detected");
        is_str(img_layer_media_type(zs), IMG_MT_OCI_LAYER_ZSTD, "zstd detected");
        is_str(img_layer_media_type(plain), IMG_MT_OCI_LAYER, "plain tar detected");
        /* a truncated gzip stream is an error, not a short layer */
        int trunc = memfd_create("t", MFD_CLOEXEC);
        lseek(gz, 0, SEEK_SET);
        r = read(gz, buf, sizeof(buf));
        (void) !write(trunc, buf, (size_t) r / 2);
        lseek(trunc, 0, SEEK_SET);
        is_int(img_layer_diffid(trunc, d2, NULL, &err), -1, "truncated gzip refused");
        berth_error_release(&err);
        /* unpacking checks the diffID in the same pass */
        char top2[] = "/tmp/berth-test-diffid-XXXXXX";
        ok(mkdtemp(top2) != NULL, "temp dir");
        int fds[] = {plain, gz, zs};
        for (size_t i = 0; i < 3; i++) {
                int dfd = open(top2, O_RDONLY | O_DIRECTORY);
                lseek(fds[i], 0, SEEK_SET);
                struct reads rd = {.rising = true};
                struct img_unpack_stats us = {.read_fn = count_read, .read_ctx = &rd};
                is_int(img_layer_unpack(fds[i], dfd, d1, &us, &err), 0,
                       "unpack with the right diffID");
                struct stat fst;
                ok(fstat(fds[i], &fst) == 0 && rd.n > 0 && rd.rising &&
                           rd.last == (uint64_t) fst.st_size,
                   "the reads told rise to the blob's size");
                lseek(fds[i], 0, SEEK_SET);
                is_int(img_layer_unpack(fds[i], dfd, raw[0] ? bad_diffid() : d1, NULL, &err), -1,
                       "unpack with a wrong diffID refused");
                ok(err && strstr(berth_error_msg(err), "diffID"), "error names the diffID");
                berth_error_release(&err);
                close(dfd);
        }
        int ztrunc = memfd_create("zt", MFD_CLOEXEC);
        lseek(zs, 0, SEEK_SET);
        r = read(zs, buf, sizeof(buf));
        (void) !write(ztrunc, buf, (size_t) r - 8);
        lseek(ztrunc, 0, SEEK_SET);
        is_int(img_layer_diffid(ztrunc, d3, NULL, &err), -1, "truncated zstd refused");
        berth_error_release(&err);
        cleanup_free char *rm = berth_xasprintf("rm -rf %s", top2);
        (void) !system(rm);
        close(ztrunc);
        close(plain);
        close(gz);
        close(zs);
        close(trunc);
}

int main(void)
{
        char top[] = "/tmp/berth-test-layer-XXXXXX";
        ok(mkdtemp(top) != NULL, "temp dir");
        test_metadata(top, NULL);
        test_metadata(top, "gzip");
        test_metadata(top, "zstd");
        test_whiteouts(top);
        test_escapes(top);
        test_diffid();
        cleanup_free char *cmd = berth_xasprintf("rm -rf %s", top);
        (void) !system(cmd);
        return tap_done();
}
