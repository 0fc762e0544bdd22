/* test_image_store.c — digests, verified blob writes, names, the image table. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "image/image.h"
#include "image_tar.h"
#include "tap.h"

static void test_refs(void)
{
        berth_error_t err = NULL;
        static const struct {
                const char *in, *want;
        } good[] = {
                {"busybox", "busybox:latest"},
                {"busybox:1.36", "busybox:1.36"},
                {"docker.io/library/busybox", "busybox:latest"},
                {"docker.io/skopeo/bb:x", "skopeo/bb:x"},
                {"docker.io/library/example.com/x", "docker.io/library/example.com/x:latest"},
                {"localhost:5000/a/b", "localhost:5000/a/b:latest"},
                {"reg.example/x_y/z-w:v1.0", "reg.example/x_y/z-w:v1.0"},
                {"a@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                 "a@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
        };
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(good); i++) {
                char *out = NULL;
                is_int(img_ref_normalize(good[i].in, &out, &err), 0, good[i].in);
                is_str(out, good[i].want, "normalized");
                free(out);
        }
        static const char *const bad[] = {"Busybox", "a//b", "a:",          ":x",
                                          "a/",      "a..b", "a@sha256:12", ""};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(bad); i++) {
                char *out = NULL;
                is_int(img_ref_normalize(bad[i], &out, &err), -1, "invalid name refused");
                berth_error_release(&err);
        }
        char *repo, *tag;
        img_ref_split("localhost:5000/a:v2", &repo, &tag);
        is_str(repo, "localhost:5000/a", "repository of a name with a port");
        is_str(tag, "v2", "tag of a name with a port");
        free(repo);
        free(tag);
}

static void test_digest_base64(void)
{
        char d[IMG_DIGEST_MAX];
        img_sha256_digest("abc", 3, d);
        is_str(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
               "sha256 of abc (FIPS 180-2's vector)");
        img_sha256_digest("", 0, d);
        is_str(d, "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
               "sha256 of nothing");
        static const struct {
                const char *plain, *b64;
        } v[] = {{"", ""},
                 {"f", "Zg=="},
                 {"fo", "Zm8="},
                 {"foo", "Zm9v"},
                 {"alice:s3cret", "YWxpY2U6czNjcmV0"}};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(v); i++) {
                char *e = img_base64_encode(v[i].plain, strlen(v[i].plain));
                is_str(e, v[i].b64, "base64 encode");
                size_t n = 99;
                char *back = img_base64_decode(e, &n);
                ok(back && n == strlen(v[i].plain) && strcmp(back, v[i].plain) == 0,
                   "base64 decode gives it back, NUL-terminated");
                free(e);
                free(back);
        }
        size_t n;
        ok(img_base64_decode("Zm9v!", &n) == NULL, "not base64: NULL");
        ok(img_base64_decode("Zm9", &n) == NULL, "cut short: NULL");
}

static void test_platforms(void)
{
        berth_error_t err = NULL;
        static const struct {
                const char *in, *want;
        } good[] = {
                {"linux/arm64", "linux/arm64"},     {"linux/arm64/v8", "linux/arm64"},
                {"LINUX/AMD64", "linux/amd64"},     {"linux/x86_64", "linux/amd64"},
                {"aarch64", "linux/arm64"},         {"linux/arm/v7", "linux/arm/v7"},
                {"armhf", "linux/arm/v7"},          {"windows/amd64", "windows/amd64"},
                {"linux/riscv64", "linux/riscv64"},
        };
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(good); i++) {
                struct img_platform p;
                char name[128] = "";
                is_int(img_platform_parse(good[i].in, &p, &err), 0, good[i].in);
                img_platform_format(&p, name, sizeof(name));
                is_str(name, good[i].want, "normalised");
                berth_error_release(&err);
        }
        struct img_platform p;
        is_int(img_platform_parse("linux", &p, &err), 0, "an os alone");
        is_str(p.arch, img_host_arch(), "takes this host's architecture");
        static const char *const bad[] = {
                "",        "foo",          "/arm64",    "linux/", "linux//arm64",
                "a/b/c/d", "linux/amd 64", "linux/$(x)"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(bad); i++) {
                is_int(img_platform_parse(bad[i], &p, &err), -1, "bad platform refused");
                ok(err && strstr(berth_error_msg(err), "unknown operating system or architecture"),
                   "with containerd's words");
                berth_error_release(&err);
        }
        img_platform_parse("linux/arm64", &p, &err);
        ok(img_platform_match(&p, "linux", "arm64", "v8"), "arm64 matches arm64/v8");
        ok(img_platform_match(&p, "linux", "aarch64", NULL), "and aarch64");
        ok(!img_platform_match(&p, "linux", "amd64", NULL), "not amd64");
        ok(!img_platform_match(&p, "windows", "arm64", NULL), "not another os");
        ok(!img_platform_match(&p, NULL, "arm64", NULL), "not a missing os");
        img_platform_parse("linux/arm/v7", &p, &err);
        ok(!img_platform_match(&p, "linux", "arm", "v6"), "a named variant must match");
        ok(img_platform_match(&p, "linux", "arm", "v7"), "the same variant matches");
        img_platform_parse("linux/arm", &p, &err);
        ok(img_platform_match(&p, "linux", "arm", "v6"), "no variant named: any");
}

int main(void)
{
        berth_error_t err = NULL;
        char dir[] = "/tmp/berth-test-store-XXXXXX";
        ok(mkdtemp(dir) != NULL, "temp dir");

        char d[IMG_DIGEST_MAX];
        img_sha256_digest("abc", 3, d);
        is_str(d, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
               "sha256 of abc");
        ok(img_digest_valid(d), "a computed digest is valid");
        ok(!img_digest_valid("sha256:BA7816"), "short/upper digest is invalid");
        ok(!img_digest_valid("sha512:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f2001"
                             "5ad"),
           "other algorithm is invalid");

        struct img_store s;
        is_int(img_store_open(&s, dir, &err), 0, "store opens");
        cleanup_free char *layout = berth_xasprintf("%s/images/oci-layout", dir);
        ok(access(layout, F_OK) == 0, "oci-layout written");

        char got[IMG_DIGEST_MAX];
        is_int(img_blob_put(&s, "abc", 3, d, got, &err), 0, "blob with the right digest stored");
        ok(img_blob_exists(&s, d), "blob visible");
        char bad[IMG_DIGEST_MAX];
        img_sha256_digest("abd", 3, bad);
        is_int(img_blob_put(&s, "abc", 3, bad, got, &err), -1, "blob with a wrong digest refused");
        ok(err && err->errnum == EBADMSG && strstr(berth_error_msg(err), "mismatch"),
           "error says digest mismatch");
        berth_error_release(&err);
        ok(!img_blob_exists(&s, bad), "mismatching blob is not visible");
        cleanup_free char *tmpdir = berth_xasprintf("%s/images/tmp", dir);
        is_int(count_entries(tmpdir), 0, "no temporary file left behind");

        /* the table: names move between images; untag leaves a dangling image */
        char m1[IMG_DIGEST_MAX], m2[IMG_DIGEST_MAX];
        img_sha256_digest("m1", 2, m1);
        img_sha256_digest("m2", 2, m2);
        const char *n1[] = {"a:latest", "b:1"};
        is_int(img_table_add(&s, m1, IMG_MT_OCI_MANIFEST, 2, n1, 2, &err), 0, "add image 1");
        const char *n2[] = {"a:latest"};
        is_int(img_table_add(&s, m2, IMG_MT_OCI_MANIFEST, 2, n2, 1, &err), 0, "add image 2");
        struct img_table t;
        is_int(img_table_load(&s, &t, &err), 0, "table loads");
        is_int(t.n, 2, "two images");
        struct img_entry *e = NULL;
        is_int(img_lookup(&s, &t, "a", &e, &err), 0, "lookup by short name");
        ok(e && strcmp(e->manifest, m2) == 0, "name moved to the newer image");
        e = NULL;
        is_int(img_lookup(&s, &t, "b:1", &e, &err), 0, "lookup by name:tag");
        ok(e && strcmp(e->manifest, m1) == 0 && e->n_names == 1, "old image keeps its other name");
        is_int(img_lookup(&s, &t, "nope", &e, &err), -1, "unknown name: not found");
        ok(err && strstr(berth_error_msg(err), "No such image"), "error says No such image");
        berth_error_release(&err);
        img_table_free(&t);
        is_int(img_table_untag(&s, "b:1", &err), 1, "untag");
        is_int(img_table_untag(&s, "b:1", &err), 0, "untag again: absent");
        is_int(img_table_load(&s, &t, &err), 0, "table reloads");
        ok(t.n == 2 && img_table_find_manifest(&t, m1)->n_names == 0, "image 1 is dangling");
        img_table_free(&t);
        is_int(img_table_remove(&s, m1, &err), 0, "remove image");
        is_int(img_table_load(&s, &t, &err), 0, "table reloads");
        is_int(t.n, 1, "one image left");
        img_table_free(&t);

        test_refs();
        test_platforms();
        test_digest_base64();
        /* Go's RFC3339Nano (no trailing zeros), else skopeo's rewrite changes the ID */
        bool go_time = true;
        for (int i = 0; i < 50; i++) {
                cleanup_free char *now = img_now_rfc3339();
                size_t n = strlen(now);
                if (n < 20 || now[n - 1] != 'Z' || now[n - 2] == '0' || now[n - 2] == '.') {
                        printf("# %s\n", now);
                        go_time = false;
                }
        }
        ok(go_time, "created times written as Go writes them");
        img_store_close(&s);
        cleanup_free char *cmd = berth_xasprintf("rm -rf %s", dir);
        (void) !system(cmd);
        return tap_done();
}
