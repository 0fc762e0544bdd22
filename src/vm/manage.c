/* manage.c — a running VM's resources: inspect, stats, memory through the
 * balloon (setmem) and vCPU placement (vcpupin).  The VMM's view comes from
 * its API; threads and times from /proc. */
#include <dirent.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cpulist.h"
#include "common/util.h"
#include "vm/vm_internal.h"

int vm_inspect(struct vm_ctx *c, const char *name, json_t **out, berth_error_t *err)
{
        struct vm_rec r;
        if (vm_rec_open(c, name, &r, err) < 0)
                return -1;
        enum vm_status st = vm_rec_reconcile(&r);
        json_t *state = json_deep_copy(r.state);
        json_object_set_new(state, "Status", json_string(vm_status_name(st)));
        json_t *doc =
                json_pack("{s:s,s:O,s:O,s:o,s:{s:s,s:s,s:s,s:s,s:s}}", "Name", r.name, "Metadata",
                          r.meta, "Config", r.cfg, "State", state, "Paths", "Directory", r.dir,
                          "ApiSocket", "", "ConsoleSocket", "", "ConsoleLog", "", "VmmLog", "");
        json_t *paths = json_object_get(doc, "Paths");
        static const struct {
                const char *key, *file;
                bool run;
        } files[] = {{"ApiSocket", "api.sock", true},
                     {"ConsoleSocket", "console.sock", true},
                     {"ConsoleLog", "console.log", false},
                     {"VmmLog", "vmm.log", false}};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(files); i++) {
                cleanup_free char *p = files[i].run ? vm_rec_run_path(&r, files[i].file)
                                                    : vm_rec_path(&r, files[i].file);
                json_object_set_new(paths, files[i].key, json_string(p));
        }
        vm_rec_close(&r);
        *out = doc;
        return 0;
}

/* A thread's utime + stime in clock ticks (/proc/PID/task/TID/stat). */
static unsigned long long thread_ticks(const char *stat_path)
{
        cleanup_free char *s = NULL;
        if (berth_read_file(stat_path, &s, NULL, NULL) < 0)
                return 0;
        char *q = strrchr(s, ')');
        unsigned long long ut = 0, stt = 0;
        int field = 2;
        for (char *t = q ? q + 1 : s; *t && field < 15; t++)
                if (*t == ' ') {
                        field++;
                        if (field == 14)
                                ut = strtoull(t + 1, NULL, 10);
                        else if (field == 15)
                                stt = strtoull(t + 1, NULL, 10);
                }
        return ut + stt;
}

/* The thread of vCPU n of pid (named "vcpuN" by berth-vmm), or 0. */
static int vcpu_tid(int pid, unsigned n)
{
        char dir[64], want[16];
        snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
        snprintf(want, sizeof(want), "vcpu%u", n);
        cleanup_dir DIR *d = opendir(dir);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
                if (e->d_name[0] == '.')
                        continue;
                char p[sizeof(dir) + sizeof(e->d_name) + 8];
                snprintf(p, sizeof(p), "%s/%s/comm", dir, e->d_name);
                cleanup_free char *comm = NULL;
                if (berth_read_file(p, &comm, NULL, NULL) < 0)
                        continue;
                comm[strcspn(comm, "\n")] = 0;
                if (strcmp(comm, want) == 0)
                        return atoi(e->d_name);
        }
        return 0;
}

static uint64_t rss_kib(int pid)
{
        char p[64];
        snprintf(p, sizeof(p), "/proc/%d/status", pid);
        cleanup_free char *s = NULL;
        if (berth_read_file(p, &s, NULL, NULL) < 0)
                return 0;
        char *l = strstr(s, "\nVmRSS:");
        return l ? strtoull(l + 7, NULL, 10) : 0;
}

static int open_live(struct vm_ctx *c, const char *name, struct vm_rec *r, int *pid,
                     berth_error_t *err)
{
        if (vm_rec_open(c, name, r, err) < 0)
                return -1;
        enum vm_status st = vm_rec_reconcile(r);
        if (!vm_status_live(st)) {
                berth_fail(err, 0, "VM `%s` is not running (%s)", name, vm_status_name(st));
                vm_rec_close(r);
                return -1;
        }
        *pid = (int) json_integer_value(json_object_get(r->state, "Pid"));
        return 0;
}

int vm_stats(struct vm_ctx *c, const char *name, json_t **out, berth_error_t *err)
{
        struct vm_rec r;
        int pid;
        if (open_live(c, name, &r, &pid, err) < 0)
                return -1;
        cleanup_free char *sock = vm_rec_run_path(&r, "api.sock");
        json_t *metrics = NULL;
        if (vm_api_ok(sock, "GET", "/metrics", NULL, &metrics, err) < 0) {
                vm_rec_close(&r);
                return -1;
        }
        long hz = sysconf(_SC_CLK_TCK);
        unsigned cpus = (unsigned) json_integer_value(
                json_object_get(json_object_get(r.cfg, "machine-config"), "vcpu_count"));
        json_t *vcpus = json_array();
        for (unsigned i = 0; i < cpus; i++) {
                int tid = vcpu_tid(pid, i);
                char p[96];
                snprintf(p, sizeof(p), "/proc/%d/task/%d/stat", pid, tid);
                double secs = tid ? (double) thread_ticks(p) / (double) (hz > 0 ? hz : 100) : 0;
                json_array_append_new(vcpus, json_pack("{s:i,s:i,s:f}", "vcpu", (int) i, "tid", tid,
                                                       "cpu_time_s", secs));
        }
        uint64_t mem = (uint64_t) json_integer_value(
                json_object_get(json_object_get(r.cfg, "machine-config"), "mem_size_mib"));
        json_t *doc =
                json_pack("{s:s,s:i,s:o,s:I,s:I,s:O,s:O}", "Name", r.name, "Pid", pid, "Vcpus",
                          vcpus, "MemoryMiB", (json_int_t) mem, "RssKiB", (json_int_t) rss_kib(pid),
                          "VmExits", json_object_get(metrics, "vm_exits"), "Devices",
                          json_object_get(metrics, "devices"));
        json_decref(metrics);
        /* The VM's processes as its cgroup accounts them (cgroup.c). */
        if (json_object_get(r.state, "Cgroup"))
                json_object_set_new(doc, "Cgroup", vm_cgroup_stats(&r));
        if (json_object_get(r.cfg, "balloon")) {
                json_t *b = NULL;
                berth_error_t e = NULL;
                if (vm_api_ok(sock, "GET", "/balloon/statistics", NULL, &b, &e) < 0)
                        berth_error_release(&e);
                else
                        json_object_set_new(doc, "Balloon", b);
        }
        vm_rec_close(&r);
        *out = doc;
        return 0;
}

int vm_setmem(struct vm_ctx *c, const char *name, uint64_t mib, berth_error_t *err)
{
        struct vm_rec r;
        int pid;
        if (open_live(c, name, &r, &pid, err) < 0)
                return -1;
        int ret = 0;
        uint64_t mem = (uint64_t) json_integer_value(
                json_object_get(json_object_get(r.cfg, "machine-config"), "mem_size_mib"));
        if (!json_object_get(r.cfg, "balloon"))
                ret = berth_fail(err, 0, "VM `%s` has no balloon (create it with --balloon)", name);
        else if (mib > mem || mib == 0)
                ret = berth_fail(err, 0, "VM `%s`: %llu MiB is not between 1 and its %llu MiB",
                                 name, (unsigned long long) mib, (unsigned long long) mem);
        if (ret == 0) {
                cleanup_free char *sock = vm_rec_run_path(&r, "api.sock");
                json_t *body = json_pack("{s:I}", "amount_mib", (json_int_t) (mem - mib));
                ret = vm_api_ok(sock, "PATCH", "/balloon", body, NULL, err) < 0 ? -1 : 0;
                json_decref(body);
        }
        vm_rec_close(&r);
        return ret;
}

/* Pin thread tid of pid to cpulist. */
static int pin(int tid, const char *cpulist, berth_error_t *err)
{
        cpu_set_t set;
        if (berth_cpulist_parse(cpulist, &set) < 0)
                return berth_fail(err, 0, "CPU list `%s`: want e.g. 0-2,5", cpulist);
        if (sched_setaffinity(tid, sizeof(set), &set) < 0)
                return berth_fail(err, errno, "pin thread %d to %s", tid, cpulist);
        return 0;
}

/* Every thread of pid that is not a vCPU (the main loop, disk workers, ...). */
static int pin_emulator(int pid, const char *cpulist, berth_error_t *err)
{
        char dir[64];
        snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
        cleanup_dir DIR *d = opendir(dir);
        if (!d)
                return berth_fail(err, errno, "read `%s`", dir);
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
                if (e->d_name[0] == '.')
                        continue;
                char p[sizeof(dir) + sizeof(e->d_name) + 8];
                snprintf(p, sizeof(p), "%s/%s/comm", dir, e->d_name);
                cleanup_free char *comm = NULL;
                if (berth_read_file(p, &comm, NULL, NULL) < 0 || berth_str_has_prefix(comm, "vcpu"))
                        continue;
                if (pin(atoi(e->d_name), cpulist, err) < 0)
                        return -1;
        }
        return 0;
}

/* The CPUs of the nodes in nodeset ("0-1"), as a CPU list ("0-3,8-11"). */
static char *node_cpus(const char *nodeset, berth_error_t *err)
{
        cpu_set_t nodes;
        if (berth_cpulist_parse(nodeset, &nodes) < 0)
                return berth_fail(err, 0, "NUMA node set `%s`: want e.g. 0-1,3", nodeset), NULL;
        char *out = NULL;
        for (int n = 0; n < CPU_SETSIZE; n++) {
                if (!CPU_ISSET(n, &nodes))
                        continue;
                char p[96];
                snprintf(p, sizeof(p), "/sys/devices/system/node/node%d/cpulist", n);
                cleanup_free char *list = NULL;
                if (berth_read_file(p, &list, NULL, NULL) < 0) {
                        free(out);
                        return berth_fail(err, ENOENT, "this host has no NUMA node %d", n), NULL;
                }
                list[strcspn(list, "\n")] = 0;
                if (!*list) /* a node with memory and no CPU */
                        continue;
                char *joined = out ? berth_xasprintf("%s,%s", out, list) : berth_xstrdup(list);
                free(out);
                out = joined;
        }
        if (!out)
                berth_fail(err, EINVAL, "NUMA nodes `%s` have no CPU", nodeset);
        return out;
}

int vm_apply_pins(struct vm_rec *r, int pid, berth_error_t *err)
{
        json_t *pins = json_object_get(r->meta, "VcpuPin");
        const char *k;
        json_t *v;
        /* numatune: the vCPUs no vcpupin places run on the nodes their RAM is on */
        const char *nodeset =
                json_string_value(json_object_get(json_object_get(r->meta, "Numa"), "Nodeset"));
        if (nodeset) {
                cleanup_free char *cpus = node_cpus(nodeset, err);
                if (!cpus)
                        return berth_wrap(err, "numatune of VM `%s`", r->name);
                unsigned n_vcpus = (unsigned) json_integer_value(
                        json_object_get(json_object_get(r->cfg, "machine-config"), "vcpu_count"));
                for (unsigned n = 0; n < n_vcpus; n++) {
                        char key[16];
                        snprintf(key, sizeof(key), "%u", n);
                        if (json_object_get(pins, key))
                                continue;
                        int tid = 0;
                        for (int i = 0; i < 200 && !(tid = vcpu_tid(pid, n)); i++)
                                usleep(5000);
                        if (!tid || pin(tid, cpus, err) < 0)
                                return tid ? berth_wrap(err, "place vCPU %u of VM `%s`", n, r->name)
                                           : berth_fail(err, 0, "VM `%s` has no vCPU %u", r->name,
                                                        n);
                }
        }
        json_object_foreach(pins, k, v)
        {
                unsigned n = (unsigned) strtoul(k, NULL, 10);
                int tid = 0;
                /* The VMM names its vCPU threads as they start, just after its
                 * API socket is bound: give them a moment. */
                for (int i = 0; i < 200 && !(tid = vcpu_tid(pid, n)); i++)
                        usleep(5000);
                if (!tid)
                        return berth_fail(err, 0, "VM `%s` has no vCPU %u", r->name, n);
                if (pin(tid, json_string_value(v), err) < 0)
                        return berth_wrap(err, "pin vCPU %u of VM `%s`", n, r->name);
        }
        const char *emu = json_string_value(json_object_get(r->meta, "EmulatorPin"));
        if (emu && pin_emulator(pid, emu, err) < 0)
                return berth_wrap(err, "pin the emulator threads of VM `%s`", r->name);
        return 0;
}

/* Keep a pin in vm.json (applied at every start) and apply it now if the
 * VM runs.  vcpu < 0: the emulator threads. */
static int set_pin(struct vm_ctx *c, const char *name, int vcpu, const char *cpulist,
                   berth_error_t *err)
{
        cpu_set_t set;
        if (berth_cpulist_parse(cpulist, &set) < 0)
                return berth_fail(err, 0, "CPU list `%s`: want e.g. 0-2,5", cpulist);
        struct vm_rec r;
        if (vm_rec_open(c, name, &r, err) < 0)
                return -1;
        int ret = 0;
        unsigned cpus = (unsigned) json_integer_value(
                json_object_get(json_object_get(r.cfg, "machine-config"), "vcpu_count"));
        if (vcpu >= 0 && (unsigned) vcpu >= cpus) {
                ret = berth_fail(err, 0, "VM `%s` has no vCPU %d (it has %u)", name, vcpu, cpus);
        } else if (vm_status_live(vm_rec_reconcile(&r))) {
                int pid = (int) json_integer_value(json_object_get(r.state, "Pid"));
                if (vcpu >= 0) {
                        int tid = vcpu_tid(pid, (unsigned) vcpu);
                        ret = tid ? pin(tid, cpulist, err)
                                  : berth_fail(err, 0, "VM `%s` has no vCPU %d", name, vcpu);
                } else {
                        ret = pin_emulator(pid, cpulist, err);
                }
        }
        if (ret == 0) {
                if (vcpu >= 0) {
                        json_t *pins = json_object_get(r.meta, "VcpuPin");
                        if (!json_is_object(pins)) {
                                pins = json_object();
                                json_object_set_new(r.meta, "VcpuPin", pins);
                        }
                        char k[16];
                        snprintf(k, sizeof(k), "%d", vcpu);
                        json_object_set_new(pins, k, json_string(cpulist));
                } else {
                        json_object_set_new(r.meta, "EmulatorPin", json_string(cpulist));
                }
                ret = vm_rec_save_meta(&r, err);
        }
        vm_rec_close(&r);
        return ret;
}

int vm_vcpupin(struct vm_ctx *c, const char *name, unsigned vcpu, const char *cpulist,
               berth_error_t *err)
{
        if (vcpu > 1024)
                return berth_fail(err, 0, "VM `%s` has no vCPU %u", name, vcpu);
        return set_pin(c, name, (int) vcpu, cpulist, err);
}

int vm_emulatorpin(struct vm_ctx *c, const char *name, const char *cpulist, berth_error_t *err)
{
        return set_pin(c, name, -1, cpulist, err);
}

int vm_numatune(struct vm_ctx *c, const char *name, const char *nodeset, const char *mode,
                json_t **out, berth_error_t *err)
{
        struct vm_rec r;
        if (vm_rec_open(c, name, &r, err) < 0)
                return -1;
        int ret = 0;
        if (nodeset) {
                cpu_set_t nodes;
                if (strcmp(mode, "strict") != 0 && strcmp(mode, "preferred") != 0 &&
                    strcmp(mode, "interleave") != 0)
                        ret = berth_fail(err, 0,
                                         "--mode `%s`: want strict, preferred or interleave", mode);
                else if (berth_cpulist_parse(nodeset, &nodes) < 0 || CPU_COUNT(&nodes) == 0)
                        ret = berth_fail(err, 0, "--nodeset `%s`: want e.g. 0-1,3", nodeset);
                else if (strcmp(mode, "preferred") == 0 && CPU_COUNT(&nodes) != 1)
                        ret = berth_fail(err, 0, "--mode preferred takes one node, not `%s`",
                                         nodeset);
                else {
                        /* the nodes exist and have CPUs */
                        cleanup_free char *cpus = node_cpus(nodeset, err);
                        if (cpus == NULL)
                                ret = -1;
                }
                if (ret == 0) {
                        json_object_set_new(
                                r.meta, "Numa",
                                json_pack("{s:s,s:s}", "Nodeset", nodeset, "Mode", mode));
                        ret = vm_rec_save_meta(&r, err);
                }
        }
        if (ret == 0) {
                json_t *numa = json_object_get(r.meta, "Numa");
                *out = numa ? json_deep_copy(numa) : json_object();
                /* Guest RAM is placed as the VMM maps it: a running VM gets it at its next
                 * start, as virsh numatune --config. */
                json_object_set_new(*out, "AppliesAtNextStart",
                                    json_boolean(nodeset && vm_status_live(vm_rec_reconcile(&r))));
        }
        vm_rec_close(&r);
        return ret < 0 ? berth_wrap(err, "numatune VM `%s`", name) : 0;
}
