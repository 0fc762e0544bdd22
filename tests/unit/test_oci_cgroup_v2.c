/* test_oci_cgroup_v2.c — the cgroup v2 backend against a fake cgroupfs tree
 * (plain files in a temp directory), checking what it writes where. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "oci/cgroup.h"
#include "tap.h"

static char *root;

static void put(const char *rel, const char *text)
{
        char *p = berth_xasprintf("%s/%s", root, rel);
        FILE *f = fopen(p, "w");
        fputs(text, f);
        fclose(f);
        free(p);
}

static char *get(const char *rel)
{
        char *p = berth_xasprintf("%s/%s", root, rel), *out = NULL;
        size_t len;
        berth_error_t err = NULL;
        if (berth_read_file(p, &out, &len, &err) < 0)
                berth_error_release(&err);
        free(p);
        return out;
}

static void expect(const char *rel, const char *want, const char *name)
{
        char *v = get(rel);
        is_str(v, want, name);
        free(v);
}

/* A kernel would create the control files with the directory; the fake needs them up front. */
static void fake_dir(const char *rel, const char *controllers)
{
        static const char *files[] = {"cgroup.subtree_control",
                                      "cgroup.procs",
                                      "memory.max",
                                      "memory.swap.max",
                                      "memory.low",
                                      "cpu.weight",
                                      "cpu.max",
                                      "cpuset.cpus",
                                      "pids.max",
                                      "io.weight",
                                      "cgroup.freeze",
                                      "hugetlb.2MB.max",
                                      "memory.high",
                                      NULL};
        char *d = berth_xasprintf("%s/%s", root, rel);
        mkdir(d, 0755);
        for (size_t i = 0; files[i]; i++) {
                char *f = berth_xasprintf("%s/%s", rel, files[i]);
                put(f, "");
                free(f);
        }
        char *c = berth_xasprintf("%s/cgroup.controllers", rel);
        put(c, controllers);
        free(c);
        free(d);
}

int main(void)
{
        char tmpl[] = "/tmp/berth-cg2-XXXXXX";
        berth_error_t err = NULL;
        root = mkdtemp(tmpl);
        fake_dir(".", "cpuset cpu io memory hugetlb pids rdma misc\n");
        fake_dir("a", "cpuset cpu io memory hugetlb pids misc\n");
        fake_dir("a/b", "cpu memory pids\n");
        put("a/cgroup.subtree_control", "cpu memory\n"); /* enabled already, as systemd does */

        struct oci_cgroup cg;
        struct oci_resources r;
        oci_cgroup_init(&cg, &oci_cgroup_v2_ops, root, "/a/b");
        oci_resources_init(&r);
        r.mem_limit = 64 << 20;
        r.mem_swap = 96 << 20;
        r.mem_reservation = 32 << 20;
        r.cpu_shares = 1024;
        r.cpu_quota = 50000;
        r.cpu_period = 100000;
        r.pids_limit = 42;
        r.cpu_cpus = berth_xstrdup("0-1");
        r.n_unified = 1;
        r.unified = berth_xcalloc(1, sizeof(struct oci_kv));
        r.unified[0].key = berth_xstrdup("memory.high");
        r.unified[0].value = berth_xstrdup("50000000");
        int rc = cg.ops->create(&cg, 1234, &r, NULL, &err);
        ok(rc == 0, "create succeeds on the fake tree");
        if (rc < 0)
                printf("# %s\n", berth_error_msg(err));
        expect("cgroup.subtree_control", "+cpu +cpuset +io +memory +pids +hugetlb +misc",
               "root enables the controllers it offers");
        expect("a/cgroup.subtree_control", "+cpuset +io +pids +hugetlb +misc",
               "an ancestor is asked only for what it hasn't enabled");
        expect("a/b/memory.max", "67108864", "memory.max from memory.limit");
        expect("a/b/memory.swap.max", "33554432", "swap.max is memsw minus limit");
        expect("a/b/memory.low", "33554432", "memory.low from reservation");
        expect("a/b/cpu.weight", "39", "cpu.weight converted from shares");
        expect("a/b/cpu.max", "50000 100000", "cpu.max quota and period");
        expect("a/b/pids.max", "42", "pids.max");
        expect("a/b/cpuset.cpus", "0-1", "cpuset.cpus");
        expect("a/b/memory.high", "50000000", "unified key written as a file");
        expect("a/b/cgroup.procs", "1234", "the pid joins the leaf");

        ok(cg.ops->freeze(&cg, true, &err) == 0, "freeze");
        is_int(cg.ops->frozen(&cg, &err), 1, "frozen reads back cgroup.freeze");
        ok(cg.ops->freeze(&cg, false, &err) == 0 && cg.ops->frozen(&cg, &err) == 0, "thaw");

        put("a/b/cgroup.procs", "1234\n5678\n");
        pid_t *pids = NULL;
        size_t n = 0;
        ok(cg.ops->pids(&cg, &pids, &n, &err) == 0 && n == 2 && pids[1] == 5678,
           "pids lists cgroup.procs");
        free(pids);

        struct oci_resources u;
        oci_resources_init(&u);
        u.pids_limit = -1;
        u.mem_limit = -1;
        put("a/b/pids.max", ""); /* a real cgroupfs file has no old contents to overwrite */
        put("a/b/memory.max", "");
        ok(cg.ops->update(&cg, &u, &err) == 0, "update");
        expect("a/b/pids.max", "max", "pids limit -1 is max");
        expect("a/b/memory.max", "max", "memory limit -1 is max");

        oci_resources_init(&u);
        u.n_unified = 1;
        u.unified = berth_xcalloc(1, sizeof(struct oci_kv));
        u.unified[0].key = berth_xstrdup("../escape");
        u.unified[0].value = berth_xstrdup("1");
        ok(cg.ops->update(&cg, &u, &err) < 0, "a unified key with a slash is refused");
        berth_error_release(&err);
        oci_resources_release(&u);

        /* block IO as `berth run --blkio-weight/--device-*-bps` sends it: the weight converted
         * to io.weight's 1-10000, throttles as io.max lines */
        oci_resources_init(&u);
        u.blkio_weight = 500;
        u.n_throttle[0] = 1;
        u.throttle[0] = berth_xcalloc(1, sizeof(struct oci_blkio_dev));
        u.throttle[0][0] = (struct oci_blkio_dev){.major = 254, .minor = 0, .rate = 1048576};
        put("a/b/io.weight", "");
        put("a/b/io.max", "");
        ok(cg.ops->update(&cg, &u, &err) == 0, "update with block IO");
        expect("a/b/io.weight", "4950", "blkio weight 500 is io.weight 4950");
        expect("a/b/io.max", "254:0 rbps=1048576", "read bps throttle is an io.max line");
        oci_resources_release(&u);
        oci_resources_init(&u);
        u.n_weight_dev = 1;
        u.weight_dev = berth_xcalloc(1, sizeof(struct oci_blkio_dev));
        u.weight_dev[0] = (struct oci_blkio_dev){
                .major = 8, .minor = 16, .weight = 10, .leaf_weight = OCI_UNSET};
        u.n_throttle[3] = 1;
        u.throttle[3] = berth_xcalloc(1, sizeof(struct oci_blkio_dev));
        u.throttle[3][0] = (struct oci_blkio_dev){.major = 8, .minor = 16, .rate = 50};
        put("a/b/io.weight", "");
        put("a/b/io.max", "");
        ok(cg.ops->update(&cg, &u, &err) == 0, "update with a device weight and write iops");
        expect("a/b/io.weight", "8:16 1", "device weight 10 is io.weight 1 for that device");
        expect("a/b/io.max", "8:16 wiops=50", "write iops throttle");
        oci_resources_release(&u);

        struct oci_cgroup bad;
        oci_cgroup_init(&bad, &oci_cgroup_v2_ops, root, "/x/y");
        oci_resources_init(&u);
        u.pids_limit = 5;
        ok(bad.ops->create(&bad, 1, &u, NULL, &err) < 0, "a write failure fails create");
        berth_error_release(&err);
        char *leaf = berth_xasprintf("%s/x/y", root);
        ok(access(leaf, F_OK) != 0, "and leaves no cgroup directory behind");
        free(leaf);
        oci_cgroup_release(&bad);

        oci_resources_release(&r);
        oci_cgroup_release(&cg);
        char *cmd = berth_xasprintf("rm -rf %s", root);
        if (system(cmd) != 0)
                printf("# cleanup failed\n");
        free(cmd);
        return tap_done();
}
