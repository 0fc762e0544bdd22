/* test_check.c — the host probes against fake /proc, /sys and cgroupfs trees:
 * v1, v2, hybrid and missing cgroup layouts, delegation failures, Intel, AMD
 * and PVM KVM hosts, a /dev/kvm that is not KVM, and the report renderers. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check/check.h"
#include "common/util.h"
#include "tap.h"

static char root[] = "/tmp/berth-test-check-XXXXXX";

static void __attribute__((format(printf, 2, 3))) put(const char *text, const char *fmt, ...)
{
        char rel[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(rel, sizeof(rel), fmt, ap);
        va_end(ap);
        cleanup_free char *path = berth_xasprintf("%s/%s", root, rel);
        cleanup_free char *dir = berth_xstrdup(path);
        *strrchr(dir, '/') = '\0';
        berth_mkdir_p(dir, 0755, NULL);
        berth_write_file_atomic(path, text, strlen(text), 0644, NULL);
}

static void mkd(const char *rel)
{
        cleanup_free char *path = berth_xasprintf("%s/%s", root, rel);
        berth_mkdir_p(path, 0755, NULL);
}

static const struct check_item *item(const struct check_report *r, const char *section,
                                     const char *name)
{
        for (size_t i = 0; i < r->n_items; i++)
                if (strcmp(r->items[i].section, section) == 0 &&
                    strcmp(r->items[i].name, name) == 0)
                        return &r->items[i];
        return NULL;
}

static struct check_paths fake_paths(const char *proc)
{
        static char procpath[600], syspath[600];
        snprintf(procpath, sizeof(procpath), "%s/%s", root, proc);
        snprintf(syspath, sizeof(syspath), "%s/sys", root);
        return (struct check_paths){.proc = procpath,
                                    .sys = syspath,
                                    .dev_kvm = "/dev/null",
                                    .dev_tun = "/nonexistent/tun",
                                    .tmp = root,
                                    .act = false};
}

static const char *cgroups_table =
        "#subsys_name\thierarchy\tnum_cgroups\tenabled\n"
        "cpuset\t3\t1\t1\ncpu\t2\t1\t1\ncpuacct\t4\t1\t1\nblkio\t7\t1\t1\nmemory\t5\t1\t1\n"
        "devices\t6\t1\t1\nfreezer\t8\t1\t1\nnet_cls\t0\t1\t1\nperf_event\t0\t1\t1\n"
        "hugetlb\t0\t1\t1\npids\t9\t1\t1\n";

static void test_hybrid(void)
{
        cleanup_free char *mi = berth_xasprintf(
                "24 1 0:22 / /sys rw - sysfs sysfs rw\n"
                "25 24 0:23 / %1$s/cg ro - tmpfs tmpfs ro,mode=755\n"
                "26 25 0:24 / %1$s/cg/unified rw shared:4 - cgroup2 cgroup2 rw,nsdelegate\n"
                "27 25 0:25 / %1$s/cg/systemd rw - cgroup cgroup rw,xattr,name=systemd\n"
                "28 25 0:26 / %1$s/cg/cpu rw shared:6 - cgroup cgroup rw,cpu\n"
                "29 25 0:27 / %1$s/cg/cpuacct rw - cgroup cgroup rw,cpuacct\n"
                "30 25 0:28 / %1$s/cg/cpuset rw - cgroup cgroup rw,cpuset\n"
                "31 25 0:29 / %1$s/cg/mem\\040ory rw - cgroup cgroup rw,memory\n"
                "32 25 0:30 / %1$s/cg/devices rw - cgroup cgroup rw,devices\n"
                "33 25 0:31 / %1$s/cg/freezer rw - cgroup cgroup rw,freezer\n"
                "34 25 0:32 / %1$s/cg/blkio rw - cgroup cgroup rw,blkio\n"
                "35 25 0:33 / %1$s/cg/pids rw - cgroup cgroup rw,pids\n",
                root);
        put(mi, "hy/self/mountinfo");
        put(cgroups_table, "hy/cgroups");
        put("9:pids:/box\n5:memory:/box\n2:cpu:/\n1:name=systemd:/init.scope\n0::/box\n",
            "hy/self/cgroup");
        put("hugetlb\n", "cg/unified/cgroup.controllers");
        static const char *const dirs[] = {"cg/unified/box", "cg/systemd/init.scope",
                                           "cg/cpu",         "cg/cpuacct",
                                           "cg/cpuset",      "cg/mem ory/box",
                                           "cg/devices",     "cg/freezer",
                                           "cg/blkio",       "cg/pids/box"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(dirs); i++)
                mkd(dirs[i]);

        struct check_paths p = fake_paths("hy");
        struct check_report r = {0};
        check_probe_cgroups(&r, &p);
        json_t *f = json_object_get(r.facts, "cgroups");
        is_str(json_string_value(json_object_get(f, "layout")), "hybrid",
               "hybrid: v1 controllers plus a v2 mount is the hybrid layout");
        is_str(json_string_value(json_object_get(json_object_get(f, "v2"), "controllers")),
               "hugetlb", "hybrid: the v2 hierarchy's controllers come from cgroup.controllers");
        json_t *v1c = json_object_get(json_object_get(f, "v1"), "controllers");
        is_int(json_array_size(v1c), 8, "hybrid: eight v1 controllers (name=systemd is not one)");
        json_t *mounts = json_object_get(json_object_get(f, "v1"), "mounts");
        cleanup_free char *memmnt = berth_xasprintf("%s/cg/mem ory", root);
        is_str(json_string_value(json_object_get(mounts, memmnt)), "memory",
               "hybrid: an escaped mount point (\\040) is unescaped");
        is_int(check_report_missing(&r), 0, "hybrid: nothing missing");
        const struct check_item *d = item(&r, "cgroups", "delegation");
        ok(d && d->state == CHECK_OK, "hybrid: delegation works in a writable tree");
        ok(d && strstr(d->detail, "10 hierarchies"),
           "hybrid: every hierarchy with controllers (or named) tried");
        cleanup_free char *leftover =
                berth_xasprintf("%s/cg/pids/box/berth-check-%d", root, (int) getpid());
        ok(access(leftover, F_OK) < 0,
           "hybrid: the probe's child cgroup was made in our own cgroup and removed");
        check_report_free(&r);

        /* delegation refused: our own cgroup in pids is a file, not a directory */
        cleanup_free char *pids_box = berth_xasprintf("%s/cg/pids/box", root);
        rmdir(pids_box);
        put("", "cg/pids/box");
        check_probe_cgroups(&r, &p);
        d = item(&r, "cgroups", "delegation");
        ok(d && d->state == CHECK_MISSING,
           "hybrid: a hierarchy that refuses a child cgroup is reported");
        ok(d && strstr(d->detail, "1 of 10") && strstr(d->detail, "Not a directory"),
           "hybrid: the failure names the count and carries errno text");
        check_report_free(&r);
}

static void test_v2(void)
{
        cleanup_free char *mi = berth_xasprintf(
                "26 1 0:24 / %s/cg2 rw shared:4 - cgroup2 cgroup2 rw,nsdelegate\n", root);
        put(mi, "v2/self/mountinfo");
        put(cgroups_table, "v2/cgroups");
        put("0::/user.slice/session.scope\n", "v2/self/cgroup");
        put("cpuset cpu io memory hugetlb pids rdma misc\n", "cg2/cgroup.controllers");
        mkd("cg2/user.slice/session.scope");
        struct check_paths p = fake_paths("v2");
        struct check_report r = {0};
        check_probe_cgroups(&r, &p);
        json_t *f = json_object_get(r.facts, "cgroups");
        is_str(json_string_value(json_object_get(f, "layout")), "v2",
               "v2: a lone cgroup2 mount is unified");
        is_int(check_report_missing(&r), 0,
               "v2: freezer and devices are built in, io maps to blkio");
        const struct check_item *l = item(&r, "cgroups", "layout");
        ok(l && strstr(l->detail, "cpuset cpu io memory"),
           "v2: the layout line lists the controllers");
        cleanup_free char *child = berth_xasprintf("%s/cg2/user.slice/session.scope/berth-check-%d",
                                                   root, (int) getpid());
        ok(access(child, F_OK) < 0, "v2: delegation probe cleaned up after itself");
        check_report_free(&r);

        /* a v2 host whose root lacks the memory controller */
        put("cpu io pids\n", "cg2/cgroup.controllers");
        check_probe_cgroups(&r, &p);
        const struct check_item *m = item(&r, "cgroups", "memory");
        ok(m && m->state == CHECK_MISSING && strstr(m->disables, "--memory"),
           "v2: a missing memory controller disables --memory");
        ok(item(&r, "cgroups", "cpuset") != NULL,
           "v2: a missing cpuset controller is reported too");
        check_report_free(&r);
}

static void test_v1_and_none(void)
{
        cleanup_free char *mi = berth_xasprintf(
                "28 25 0:26 / %1$s/v1/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
                "29 25 0:27 / %1$s/v1/memory rw - cgroup cgroup rw,memory\n"
                "30 25 0:28 / %1$s/v1/cpuset rw - cgroup cgroup rw,cpuset\n"
                "31 25 0:29 / %1$s/v1/blkio rw - cgroup cgroup rw,blkio\n"
                "32 25 0:30 / %1$s/v1/devices rw - cgroup cgroup rw,devices\n"
                "33 25 0:31 / %1$s/v1/freezer rw - cgroup cgroup rw,freezer\n",
                root);
        put(mi, "v1/self/mountinfo");
        put(cgroups_table, "v1/cgroups");
        put("2:cpu,cpuacct:/\n5:memory:/\n", "v1/self/cgroup");
        static const char *const dirs[] = {"v1/cpu,cpuacct", "v1/memory",  "v1/cpuset",
                                           "v1/blkio",       "v1/devices", "v1/freezer"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(dirs); i++)
                mkd(dirs[i]);
        struct check_paths p = fake_paths("v1");
        struct check_report r = {0};
        check_probe_cgroups(&r, &p);
        is_str(json_string_value(json_object_get(json_object_get(r.facts, "cgroups"), "layout")),
               "v1", "v1: controllers with no cgroup2 mount is the legacy layout");
        const struct check_item *pids = item(&r, "cgroups", "pids");
        ok(pids && pids->state == CHECK_MISSING && strstr(pids->disables, "--pids-limit"),
           "v1: no pids hierarchy disables --pids-limit");
        is_int(check_report_missing(&r), 1, "v1: only pids is missing");
        check_report_free(&r);

        put("22 1 0:20 / /proc rw - proc proc rw\n", "none/self/mountinfo");
        p = fake_paths("none");
        check_probe_cgroups(&r, &p);
        const struct check_item *l = item(&r, "cgroups", "layout");
        ok(l && l->state == CHECK_MISSING && strstr(l->detail, "no cgroup"),
           "none: no cgroup mount at all is reported missing");
        check_report_free(&r);

        p = fake_paths("nonexistent");
        check_probe_cgroups(&r, &p);
        l = item(&r, "cgroups", "layout");
        ok(l && l->state == CHECK_MISSING && strstr(l->detail, "mountinfo") &&
                   strstr(l->detail, "No such file"),
           "an unreadable mountinfo is reported with path and errno");
        check_report_free(&r);
}

static void test_cpu_and_kvm(void)
{
        put("processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Gold\nflags\t\t: fpu vme vmx sse\n"
            "processor\t: 1\nflags\t\t: fpu\n",
            "intel/cpuinfo");
        put("processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu svm hypervisor\n",
            "amd/cpuinfo");
        put("processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\nflags\t\t: fpu hypervisor "
            "sse\n",
            "pvm/cpuinfo");
        struct check_report r = {0};
        struct check_paths p = fake_paths("intel");
        check_probe_cpu(&r, &p);
        json_t *c = json_object_get(r.facts, "cpu");
        ok(json_is_true(json_object_get(c, "vmx")) && json_is_false(json_object_get(c, "svm")),
           "cpuinfo: vmx found on an Intel host");
        is_str(json_string_value(json_object_get(c, "model")), "Intel(R) Xeon(R) Gold",
               "cpuinfo: model name");
        check_report_free(&r);
        p = fake_paths("amd");
        check_probe_cpu(&r, &p);
        c = json_object_get(r.facts, "cpu");
        ok(json_is_true(json_object_get(c, "svm")) &&
                   json_is_true(json_object_get(c, "hypervisor")),
           "cpuinfo: svm and hypervisor found on an AMD guest");
        check_report_free(&r);
        p = fake_paths("pvm");
        check_probe_cpu(&r, &p);
        const struct check_item *fl = item(&r, "cpu", "flags");
        ok(fl && fl->state == CHECK_NOTE && strstr(fl->detail, "no vmx or svm"),
           "cpuinfo: no vmx/svm is noted, not fatal");
        check_report_free(&r);

        /* KVM kinds from /sys/module; /dev/kvm replaced by /dev/null */
        mkd("sys/module/kvm_pvm");
        p = fake_paths("pvm");
        check_probe_kvm(&r, &p);
        json_t *k = json_object_get(r.facts, "kvm");
        is_str(json_string_value(json_object_get(k, "kind")), "pvm",
               "kvm: kvm_pvm module means PVM");
        ok(json_is_true(json_object_get(k, "software")), "kvm: PVM is flagged as software");
        const struct check_item *dev = item(&r, "kvm", "/dev/kvm");
        ok(dev && dev->state == CHECK_MISSING && strstr(dev->detail, "is not KVM") &&
                   strstr(dev->detail, "Inappropriate ioctl"),
           "kvm: /dev/null in place of /dev/kvm is unusable, with the ioctl's errno");
        ok(dev && strstr(dev->disables, "berth-vmm"),
           "kvm: missing KVM says it disables berth-vmm");
        const struct check_item *kind = item(&r, "kvm", "kind");
        ok(kind && strstr(kind->detail, "PVM-enabled guest kernels"), "kvm: PVM's limit is stated");
        check_report_free(&r);

        cleanup_free char *pvm = berth_xasprintf("%s/sys/module/kvm_pvm", root);
        rmdir(pvm);
        mkd("sys/module/kvm_intel");
        p.dev_kvm = "/nonexistent/kvm";
        check_probe_kvm(&r, &p);
        k = json_object_get(r.facts, "kvm");
        is_str(json_string_value(json_object_get(k, "kind")), "intel-vmx",
               "kvm: kvm_intel means VT-x");
        dev = item(&r, "kvm", "/dev/kvm");
        ok(dev && strstr(dev->detail, "open `/nonexistent/kvm`: No such file"),
           "kvm: a missing device node is reported with path and errno");
        check_report_free(&r);

        if (access("/dev/kvm", R_OK | W_OK) == 0) {
                struct check_paths host;
                check_paths_host(&host);
                check_probe_kvm(&r, &host);
                k = json_object_get(r.facts, "kvm");
                ok(json_is_true(json_object_get(k, "usable")),
                   "kvm: the real /dev/kvm makes a VM and vCPU");
                is_int(json_integer_value(json_object_get(k, "api_version")), 12,
                       "kvm: API version 12");
                check_report_free(&r);
        } else {
                tap_skip("kvm: the real /dev/kvm makes a VM and vCPU", "no accessible /dev/kvm");
                tap_skip("kvm: API version 12", "no accessible /dev/kvm");
        }
}

static void test_namespaces_and_report(void)
{
        static const char *const ns[] = {"mnt", "uts", "ipc", "pid", "net", "user", "cgroup"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(ns); i++)
                put("", "nstest/self/ns/%s", ns[i]);
        struct check_paths p = fake_paths("nstest");
        struct check_report r = {0};
        check_probe_namespaces(&r, &p);
        const struct check_item *t = item(&r, "namespaces", "time");
        ok(t && t->state == CHECK_MISSING && strstr(t->disables, "timeOffsets"),
           "namespaces: a kernel without time namespaces is reported, saying what it disables");
        is_int(check_report_missing(&r), 1, "namespaces: the other seven are present");
        check_probe_net(&r, &p);

        cleanup_free char *text = check_report_text(&r);
        ok(strstr(text, "2 missing:") && strstr(text, "this disables microVM networking"),
           "text report: a summary line per missing thing with what it disables");
        cleanup_free char *js = check_report_json(&r);
        json_error_t jerr;
        json_t *doc = json_loads(js, 0, &jerr);
        ok(doc != NULL, "json report parses");
        ok(json_is_false(json_object_get(doc, "ok")), "json report: ok is false");
        is_int(json_array_size(json_object_get(doc, "missing")), 2,
               "json report: two missing entries");
        ok(json_is_false(json_object_get(json_object_get(doc, "namespaces"), "time")),
           "json report: namespace facts present");
        json_decref(doc);
        check_report_free(&r);
}

static int fail_in_child(void *arg, berth_error_t *err)
{
        errno = EACCES;
        berth_fail(err, EACCES, "mount `%s`", (const char *) arg);
        return berth_wrap(err, "prepare rootfs");
}

static int succeed_in_child(void *arg, berth_error_t *err)
{
        return 0;
}

static void test_in_child(void)
{
        berth_error_t err = NULL;
        char target[] = "/x/proc";
        is_int(check_in_child(succeed_in_child, NULL, &err), 0, "in_child: success passes through");
        is_int(check_in_child(fail_in_child, target, &err), -1, "in_child: failure passes through");
        ok(err && err->errnum == EACCES, "in_child: errno crosses the process boundary");
        is_str(berth_error_msg(err), "prepare rootfs: mount `/x/proc`: Permission denied",
               "in_child: the context chain crosses it too");
        berth_error_release(&err);
}

int main(void)
{
        if (mkdtemp(root) == NULL) {
                printf("Bail out! mkdtemp: %s\n", strerror(errno));
                return 1;
        }
        test_hybrid();
        test_v2();
        test_v1_and_none();
        test_cpu_and_kvm();
        test_namespaces_and_report();
        test_in_child();
        cleanup_free char *cmd = berth_xasprintf("rm -rf '%s'", root);
        ok(system(cmd) == 0, "cleanup");
        return tap_done();
}
