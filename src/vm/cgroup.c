/* cgroup.c — a running VM's cgroup, `/berth/vms/<name>` under every
 * hierarchy (cgroup v1) or in the unified tree (v2): berth-vmm and its
 * threads accounted there and limited by the definition's CpuShares,
 * CpuQuota and MemoryLimitMiB.  The cgroup library is the runtime's own
 * (src/oci/cgroup*.c), as containers' cgroups are made; the supervisor puts
 * each VMM it starts in before the VMM execs, and removes the cgroup when
 * the VM stops.  Rootless, a VM has no cgroup (and limits are refused). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/idmap.h"
#include "common/util.h"
#include "oci/cgroup.h"
#include "vm/vm_internal.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

static bool privileged(void)
{
        return geteuid() == 0 && !berth_in_userns();
}

char *vm_cgroup_path(const struct vm_rec *r)
{
        return berth_xasprintf("/berth/vms/%s", r->name);
}

static int64_t meta_int(const struct vm_rec *r, const char *key)
{
        json_t *v = json_object_get(r->meta, key);
        return json_is_integer(v) ? (int64_t) json_integer_value(v) : OCI_UNSET;
}

bool vm_cgroup_limited(const struct vm_rec *r)
{
        return meta_int(r, "CpuShares") != OCI_UNSET || meta_int(r, "CpuQuota") != OCI_UNSET ||
               meta_int(r, "MemoryLimitMiB") != OCI_UNSET;
}

int vm_cgroup_enter(struct vm_rec *r, pid_t pid, berth_error_t *err)
{
        if (!privileged()) {
                if (vm_cgroup_limited(r))
                        return berth_fail(err, EPERM,
                                          "VM `%s`: CPU and memory limits need a cgroup, which "
                                          "a rootless VM does not get",
                                          r->name);
                return 0;
        }
        struct oci_resources res;
        oci_resources_init(&res);
        res.cpu_shares = meta_int(r, "CpuShares");
        res.cpu_quota = meta_int(r, "CpuQuota");
        if (res.cpu_quota != OCI_UNSET)
                res.cpu_period = 100000; /* the quota is in µs per 100 ms */
        int64_t mib = meta_int(r, "MemoryLimitMiB");
        if (mib != OCI_UNSET)
                res.mem_limit = mib << 20;
        /* No device rules of its own: the jail decides which devices the
         * VMM sees (/dev/kvm, /dev/net/tun, its disks). */
        struct oci_dev_rule all = {.major = -1, .minor = -1, .allow = true, .type = 'a'};
        memcpy(all.access, "rwm", 4);
        res.dev_rules = &all;
        res.n_dev_rules = 1;
        cleanup_free char *path = vm_cgroup_path(r);
        struct oci_cgroup cg;
        if (oci_cgroup_open(&cg, CGROUP_ROOT, path, err) < 0)
                return berth_wrap(err, "VM `%s`'s cgroup", r->name);
        int ret = cg.ops->create(&cg, pid, &res, NULL, err);
        oci_cgroup_release(&cg);
        return ret < 0 ? berth_wrap(err, "VM `%s`'s cgroup `%s`", r->name, path) : 0;
}

void vm_cgroup_remove(const struct vm_rec *r)
{
        if (!privileged())
                return;
        cleanup_free char *path = vm_cgroup_path(r);
        struct oci_cgroup cg;
        berth_error_t err = NULL;
        if (oci_cgroup_open(&cg, CGROUP_ROOT, path, &err) == 0) {
                (void) cg.ops->destroy(&cg, &err);
                oci_cgroup_release(&cg);
        }
        berth_error_release(&err);
}

static bool read_u64(const char *dir, const char *file, const char *key, uint64_t *out)
{
        cleanup_free char *p = berth_xasprintf("%s/%s", dir, file);
        cleanup_free char *text = NULL;
        size_t len = 0;
        if (berth_read_file(p, &text, &len, NULL) < 0)
                return false;
        const char *s = text;
        if (key) {
                size_t kl = strlen(key);
                for (s = text; s; s = strchr(s, '\n'), s = s ? s + 1 : NULL)
                        if (strncmp(s, key, kl) == 0 && s[kl] == ' ')
                                break;
                if (!s)
                        return false;
                s += strlen(key) + 1;
        }
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s)
                return false;
        *out = v;
        return true;
}

json_t *vm_cgroup_stats(const struct vm_rec *r)
{
        if (!privileged())
                return json_null();
        cleanup_free char *path = vm_cgroup_path(r);
        struct statfs st;
        uint64_t mem = 0, cpu_ns = 0, usec = 0;
        bool have_mem, have_cpu;
        if (statfs(CGROUP_ROOT, &st) == 0 && st.f_type == 0x63677270 /* CGROUP2_SUPER_MAGIC */) {
                cleanup_free char *dir = berth_xasprintf("%s%s", CGROUP_ROOT, path);
                have_mem = read_u64(dir, "memory.current", NULL, &mem);
                have_cpu = read_u64(dir, "cpu.stat", "usage_usec", &usec);
                cpu_ns = usec * 1000;
        } else {
                cleanup_free char *m = berth_xasprintf("%s/memory%s", CGROUP_ROOT, path);
                cleanup_free char *c = berth_xasprintf("%s/cpuacct%s", CGROUP_ROOT, path);
                cleanup_free char *cc = berth_xasprintf("%s/cpu,cpuacct%s", CGROUP_ROOT, path);
                have_mem = read_u64(m, "memory.usage_in_bytes", NULL, &mem);
                have_cpu = read_u64(c, "cpuacct.usage", NULL, &cpu_ns) ||
                           read_u64(cc, "cpuacct.usage", NULL, &cpu_ns);
        }
        json_t *o = json_pack("{s:s}", "Path", path);
        if (have_mem)
                json_object_set_new(o, "MemoryBytes", json_integer((json_int_t) mem));
        if (have_cpu)
                json_object_set_new(o, "CpuNs", json_integer((json_int_t) cpu_ns));
        return o;
}
