/* cgroup_v1.c — the cgroup v1 backend, including hybrid hosts.
 *
 * Each controller is its own hierarchy under the root (cpu, memory, ...).
 * The container joins every mounted v1 hierarchy, as runc does, so that
 * devices are always confined and freezer/pids work for pause, ps and
 * kill --all.  On a hybrid host a cgroup2 mount at <root>/unified holds the
 * controllers bound to v2 (here: hugetlb); the container joins it as well and
 * gets its hugetlb limits there.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/util.h"
#include "oci/cgroup.h"

static int fstatfs_at(int dir, const char *name, struct statfs *sf)
{
        int fd = openat(dir, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        int r = fstatfs(fd, sf);
        close(fd);
        return r;
}

/* Hierarchies found under the root: real directories, not the cpu,cpuacct links. */
static int list_hierarchies(const char *root, char ***out, size_t *n, berth_error_t *err)
{
        cleanup_dir DIR *d = opendir(root);
        struct dirent *e;
        size_t cap = 16;
        if (d == NULL)
                return berth_fail(err, errno, "open cgroup root `%s`", root);
        *n = 0;
        *out = berth_xcalloc(cap, sizeof(char *));
        /* cppcheck-suppress readdirCalled ; one thread, one directory stream */
        while ((e = readdir(d)) != NULL) {
                struct statfs sf;
                if (e->d_type != DT_DIR || e->d_name[0] == '.' ||
                    fstatfs_at(dirfd(d), e->d_name, &sf) < 0 ||
                    (sf.f_type != CGROUP_SUPER_MAGIC && sf.f_type != CGROUP2_SUPER_MAGIC))
                        continue;
                if (*n + 1 >= cap)
                        *out = berth_xrealloc(*out, (cap *= 2) * sizeof(char *));
                (*out)[(*n)++] = berth_xstrdup(e->d_name);
        }
        (*out)[*n] = NULL;
        return 0;
}

static void free_list(char **l)
{
        for (size_t i = 0; l && l[i]; i++)
                free(l[i]);
        free(l);
}

static char *dir_of(struct oci_cgroup *cg, const char *ctrl)
{
        return berth_xasprintf("%s/%s%s", cg->root, ctrl, cg->path);
}

static bool has_file(const char *dir, const char *file)
{
        cleanup_free char *p = berth_xasprintf("%s/%s", dir, file);
        return access(p, F_OK) == 0;
}

/* mkdir -p in the cpuset hierarchy, copying cpus/mems into each level that has none: a new
 * cpuset cgroup starts empty and refuses tasks until both are set, and so does one that
 * someone else made and left empty (runc fills those too). */
static int mkdir_cpuset(const char *base, const char *path, berth_error_t *err)
{
        cleanup_free char *cur = berth_xstrdup(base);
        cleanup_free char *rest = berth_xstrdup(path);
        char *save = NULL;
        for (char *tok = strtok_r(rest, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
                char *next = berth_xasprintf("%s/%s", cur, tok);
                if (mkdir(next, 0755) < 0 && errno != EEXIST) {
                        berth_fail(err, errno, "mkdir `%s`", next);
                        free(next);
                        return -1;
                }
                static const char *files[] = {"cpuset.cpus", "cpuset.mems"};
                for (int i = 0; i < 2; i++) {
                        cleanup_free char *val = NULL, *src = NULL, *have = NULL, *dst = NULL;
                        size_t len;
                        src = berth_xasprintf("%s/%s", cur, files[i]);
                        dst = berth_xasprintf("%s/%s", next, files[i]);
                        int r = berth_read_file(dst, &have, &len, err);
                        if (r == 0 && strspn(have, " \n") == len) /* empty: fill it */
                                r = berth_read_file(src, &val, &len, err) < 0
                                            ? -1
                                            : oci_cg_write(next, files[i], val, err);
                        if (r < 0) {
                                free(next);
                                return -1;
                        }
                }
                free(cur);
                cur = next;
        }
        return 0;
}

static int apply_devices(const char *dir, const struct oci_resources *r, const struct oci_spec *s,
                         berth_error_t *err)
{
        /* Devices every container needs (runtime-spec "default devices") and runc's mknod
         * of any node, after the config's own rules so that a leading deny-all cannot take
         * them away.  As runc's, linux.devices only makes nodes: the rules decide. */
        static const char *defaults[] = {"c *:* m",   "b *:* m",     "c 1:3 rwm",    "c 1:5 rwm",
                                         "c 1:7 rwm", "c 1:8 rwm",   "c 1:9 rwm",    "c 5:0 rwm",
                                         "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm", NULL};
        (void) s;
        if (oci_cg_write(dir, "devices.deny", "a", err) < 0)
                return -1;
        for (size_t i = 0; i < r->n_dev_rules; i++) {
                const struct oci_dev_rule *d = &r->dev_rules[i];
                char maj[24] = "*", min[24] = "*", line[80];
                if (d->major >= 0)
                        snprintf(maj, sizeof(maj), "%" PRId64, d->major);
                if (d->minor >= 0)
                        snprintf(min, sizeof(min), "%" PRId64, d->minor);
                if (d->type == 'a')
                        snprintf(line, sizeof(line), "a");
                else
                        snprintf(line, sizeof(line), "%c %s:%s %s", d->type, maj, min, d->access);
                if (oci_cg_write(dir, d->allow ? "devices.allow" : "devices.deny", line, err) < 0)
                        return -1;
        }
        for (size_t i = 0; defaults[i]; i++)
                if (oci_cg_write(dir, "devices.allow", defaults[i], err) < 0)
                        return -1;
        return 0;
}

#define SET(d, f, v)                                                                             \
        do {                                                                                     \
                if ((v) != OCI_UNSET && oci_cg_writef(d, f, err, "%" PRId64, (int64_t) (v)) < 0) \
                        return -1;                                                               \
        } while (0)

static int apply_memory(const char *dir, const struct oci_resources *r, berth_error_t *err)
{
        /* memsw must stay >= limit: when raising, swap first; when lowering, limit first. */
        bool swap = r->mem_swap != OCI_UNSET && has_file(dir, "memory.memsw.limit_in_bytes");
        if (r->mem_swap != OCI_UNSET && r->mem_swap != r->mem_limit && r->mem_swap != -1 && !swap)
                return berth_fail(err, ENOTSUP,
                                  "memory.swap is set, but this host has no swap accounting "
                                  "(memory.memsw.limit_in_bytes)");
        if (swap && r->mem_swap == -1)
                SET(dir, "memory.memsw.limit_in_bytes", -1);
        if (r->mem_limit != OCI_UNSET) {
                berth_error_t first = NULL;
                int rc = oci_cg_writef(dir, "memory.limit_in_bytes", &first, "%" PRId64,
                                       r->mem_limit);
                berth_error_release(&first);
                if (swap && r->mem_swap != -1)
                        SET(dir, "memory.memsw.limit_in_bytes", r->mem_swap);
                if (rc < 0)
                        SET(dir, "memory.limit_in_bytes", r->mem_limit);
        } else if (swap && r->mem_swap != -1) {
                SET(dir, "memory.memsw.limit_in_bytes", r->mem_swap);
        }
        SET(dir, "memory.soft_limit_in_bytes", r->mem_reservation);
        if (r->mem_kernel != OCI_UNSET && has_file(dir, "memory.kmem.limit_in_bytes"))
                SET(dir, "memory.kmem.limit_in_bytes", r->mem_kernel);
        if (r->mem_kernel_tcp != OCI_UNSET && has_file(dir, "memory.kmem.tcp.limit_in_bytes"))
                SET(dir, "memory.kmem.tcp.limit_in_bytes", r->mem_kernel_tcp);
        SET(dir, "memory.swappiness", r->mem_swappiness);
        if (r->mem_disable_oom_killer && oci_cg_write(dir, "memory.oom_control", "1", err) < 0)
                return -1;
        return 0;
}

static int apply_blkio(const char *dir, const struct oci_resources *r, berth_error_t *err)
{
        static const char *tf[] = {
                "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
                "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device"};
        bool bfq = has_file(dir, "blkio.bfq.weight");
        /* a weight of 0 means "not set" (dockerd sends it for every container), as
         * runc and crun read it; the kernel would refuse it */
        if (r->blkio_weight != 0)
                SET(dir, bfq ? "blkio.bfq.weight" : "blkio.weight", r->blkio_weight);
        if (r->blkio_leaf_weight != 0)
                SET(dir, "blkio.leaf_weight", r->blkio_leaf_weight);
        for (size_t i = 0; i < r->n_weight_dev; i++) {
                const struct oci_blkio_dev *d = &r->weight_dev[i];
                if (d->weight != OCI_UNSET &&
                    oci_cg_writef(dir, bfq ? "blkio.bfq.weight_device" : "blkio.weight_device", err,
                                  "%" PRId64 ":%" PRId64 " %" PRId64, d->major, d->minor,
                                  d->weight) < 0)
                        return -1;
                if (d->leaf_weight != OCI_UNSET &&
                    oci_cg_writef(dir, "blkio.leaf_weight_device", err,
                                  "%" PRId64 ":%" PRId64 " %" PRId64, d->major, d->minor,
                                  d->leaf_weight) < 0)
                        return -1;
        }
        for (int k = 0; k < 4; k++)
                for (size_t i = 0; i < r->n_throttle[k]; i++)
                        if (oci_cg_writef(dir, tf[k], err, "%" PRId64 ":%" PRId64 " %" PRIu64,
                                          r->throttle[k][i].major, r->throttle[k][i].minor,
                                          r->throttle[k][i].rate) < 0)
                                return -1;
        return 0;
}

/* Resource limits of one hierarchy. */
static int apply(struct oci_cgroup *cg, const char *ctrl, const struct oci_resources *r,
                 const struct oci_spec *s, bool with_devices, berth_error_t *err)
{
        cleanup_free char *dir = dir_of(cg, ctrl);
        if (strcmp(ctrl, "memory") == 0)
                return apply_memory(dir, r, err);
        if (strcmp(ctrl, "pids") == 0) {
                if (r->pids_limit == OCI_UNSET)
                        return 0;
                if (r->pids_limit <= 0)
                        return oci_cg_write(dir, "pids.max", "max", err);
                SET(dir, "pids.max", r->pids_limit);
                return 0;
        }
        if (strcmp(ctrl, "cpu") == 0) {
                SET(dir, "cpu.shares", r->cpu_shares);
                SET(dir, "cpu.cfs_period_us", r->cpu_period);
                SET(dir, "cpu.cfs_quota_us", r->cpu_quota);
                SET(dir, "cpu.rt_period_us", r->cpu_rt_period);
                SET(dir, "cpu.rt_runtime_us", r->cpu_rt_runtime);
                if (r->cpu_idle != OCI_UNSET && has_file(dir, "cpu.idle"))
                        SET(dir, "cpu.idle", r->cpu_idle);
                return 0;
        }
        if (strcmp(ctrl, "cpuset") == 0) {
                if (r->cpu_cpus && *r->cpu_cpus &&
                    oci_cg_write(dir, "cpuset.cpus", r->cpu_cpus, err) < 0)
                        return -1;
                if (r->cpu_mems && *r->cpu_mems &&
                    oci_cg_write(dir, "cpuset.mems", r->cpu_mems, err) < 0)
                        return -1;
                return 0;
        }
        if (strcmp(ctrl, "blkio") == 0)
                return apply_blkio(dir, r, err);
        if (strcmp(ctrl, "devices") == 0 && with_devices)
                return apply_devices(dir, r, s, err);
        if (strcmp(ctrl, "net_cls") == 0 || strcmp(ctrl, "net_cls,net_prio") == 0)
                SET(dir, "net_cls.classid", r->net_class_id);
        if (strcmp(ctrl, "net_prio") == 0 || strcmp(ctrl, "net_cls,net_prio") == 0)
                for (size_t i = 0; i < r->n_net_prio; i++)
                        if (oci_cg_writef(dir, "net_prio.ifpriomap", err, "%s %s",
                                          r->net_prio[i].key, r->net_prio[i].value) < 0)
                                return -1;
        if (strcmp(ctrl, "hugetlb") == 0 || strcmp(ctrl, "unified") == 0)
                for (size_t i = 0; i < r->n_hugepages; i++) {
                        cleanup_free char *f = berth_xasprintf(
                                strcmp(ctrl, "unified") == 0 ? "hugetlb.%s.max"
                                                             : "hugetlb.%s.limit_in_bytes",
                                r->hugepages[i].page_size);
                        if (oci_cg_writef(dir, f, err, "%" PRIu64, r->hugepages[i].limit) < 0)
                                return -1;
                }
        return 0;
}

/* Controllers whose limits can't be set because their hierarchy is absent. */
static int check_supported(char **h, const struct oci_resources *r, berth_error_t *err)
{
        bool hugetlb = false, blkio = false, netcls = false, netprio = false;
        for (size_t i = 0; h[i]; i++) {
                hugetlb |= strcmp(h[i], "hugetlb") == 0 || strcmp(h[i], "unified") == 0;
                blkio |= strcmp(h[i], "blkio") == 0;
                netcls |= strstr(h[i], "net_cls") != NULL;
                netprio |= strstr(h[i], "net_prio") != NULL;
        }
        /* as runc (even on a hybrid host): unified's keys are v2 file names, and half a
         * container's limits in the unified mount would be a surprise */
        if (r->n_unified)
                return berth_fail_status(err, 1, 0,
                                         "invalid configuration: cannot use unified on cgroup v1");
        if (r->n_hugepages && !hugetlb)
                return berth_fail(err, ENOTSUP, "hugepageLimits set, but no hugetlb cgroup");
        if (r->net_class_id != OCI_UNSET && !netcls)
                return berth_fail(err, ENOTSUP, "network.classID set, but no net_cls cgroup");
        if (r->n_net_prio && !netprio)
                return berth_fail(err, ENOTSUP, "network.priorities set, but no net_prio cgroup");
        if (!blkio && (r->blkio_weight != OCI_UNSET || r->n_weight_dev || r->n_throttle[0] ||
                       r->n_throttle[1] || r->n_throttle[2] || r->n_throttle[3]))
                return berth_fail(err, ENOTSUP, "blockIO set, but no blkio cgroup");
        return 0;
}

static int v1_frozen(struct oci_cgroup *cg, berth_error_t *err);

static int v1_destroy(struct oci_cgroup *cg, berth_error_t *err)
{
        char **h = NULL;
        size_t n = 0;
        int ret = 0;
        if (list_hierarchies(cg->root, &h, &n, err) < 0)
                return -1;
        for (size_t i = 0; i < n; i++) {
                cleanup_free char *dir = dir_of(cg, h[i]);
                /* /berth-oci itself stays: the next container needs it again */
                if (oci_cg_rmdir(dir, err) < 0)
                        ret = -1;
        }
        free_list(h);
        return ret;
}

static int v1_join(struct oci_cgroup *cg, char **h, pid_t pid, bool create, berth_error_t *err)
{
        for (size_t i = 0; h[i]; i++) {
                cleanup_free char *dir = dir_of(cg, h[i]);
                cleanup_free char *base = berth_xasprintf("%s/%s", cg->root, h[i]);
                if (create) {
                        int r = 0;
                        if (strcmp(h[i], "cpuset") == 0)
                                r = mkdir_cpuset(base, cg->path, err);
                        else if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                                r = berth_mkdir_p(dir, 0755, err); /* parents missing */
                        if (r < 0)
                                return -1;
                }
                if (pid > 0 && oci_cg_writef(dir, "cgroup.procs", err, "%d", (int) pid) < 0)
                        return berth_wrap(err, "join cgroup");
        }
        return 0;
}

static int v1_create(struct oci_cgroup *cg, pid_t pid, const struct oci_resources *r,
                     const struct oci_spec *s, berth_error_t *err)
{
        char **h = NULL;
        size_t n = 0;
        int ret = -1;
        if (list_hierarchies(cg->root, &h, &n, err) < 0)
                return -1;
        if (check_supported(h, r, err) < 0)
                goto out;
        /* Limits go in before the task does, so it never runs unconfined. */
        if (v1_join(cg, h, 0, true, err) < 0)
                goto fail;
        /* a task joining a frozen cgroup (cgroupsPath naming one) would wait there forever */
        if (v1_frozen(cg, NULL) == 1) {
                berth_fail_status(err, 1, 0, "container's cgroup unexpectedly frozen");
                goto out;
        }
        for (size_t i = 0; i < n; i++)
                if (apply(cg, h[i], r, s, true, err) < 0) {
                        berth_wrap(err, "set %s limits", h[i]);
                        goto fail;
                }
        if (v1_join(cg, h, pid, false, err) < 0)
                goto fail;
        ret = 0;
        goto out;
fail : {
        berth_error_t ignored = NULL;
        v1_destroy(cg, &ignored);
        berth_error_release(&ignored);
}
out:
        free_list(h);
        return ret;
}

static int v1_enter(struct oci_cgroup *cg, pid_t pid, berth_error_t *err)
{
        char **h = NULL;
        size_t n = 0;
        if (list_hierarchies(cg->root, &h, &n, err) < 0)
                return -1;
        int r = v1_join(cg, h, pid, false, err);
        free_list(h);
        return r;
}

static int v1_enter_sub(struct oci_cgroup *cg, pid_t pid, const struct oci_cg_subs *subs,
                        berth_error_t *err)
{
        char **h = NULL;
        size_t n = 0;
        int r = 0;
        if (list_hierarchies(cg->root, &h, &n, err) < 0)
                return -1;
        if (oci_cg_subs_check(subs, h, err) < 0)
                r = -1;
        for (size_t i = 0; i < n && r == 0; i++) {
                cleanup_free char *base = dir_of(cg, h[i]);
                const char *sub = oci_cg_subs_for(subs, h[i]);
                cleanup_free char *dir = sub ? oci_cg_subs_join(base, sub) : NULL;
                if (oci_cg_writef(dir ? dir : base, "cgroup.procs", err, "%d", (int) pid) < 0)
                        r = berth_wrap(err, "join cgroup");
        }
        free_list(h);
        return r;
}

static int v1_update(struct oci_cgroup *cg, const struct oci_resources *r, berth_error_t *err)
{
        char **h = NULL;
        size_t n = 0;
        int ret = 0;
        if (list_hierarchies(cg->root, &h, &n, err) < 0)
                return -1;
        for (size_t i = 0; i < n && ret == 0; i++)
                if (strcmp(h[i], "devices") != 0 || r->n_dev_rules)
                        ret = apply(cg, h[i], r, NULL, r->n_dev_rules > 0, err);
        free_list(h);
        return ret;
}

static int v1_freeze(struct oci_cgroup *cg, bool frozen, berth_error_t *err)
{
        cleanup_free char *dir = dir_of(cg, "freezer");
        if (oci_cg_write(dir, "freezer.state", frozen ? "FROZEN" : "THAWED", err) < 0)
                return -1;
        /* FREEZING is transient: wait until the kernel says every task stopped. */
        for (int i = 0; frozen && i < 1000; i++) {
                cleanup_free char *path = berth_xasprintf("%s/freezer.state", dir), *v = NULL;
                size_t len;
                if (berth_read_file(path, &v, &len, err) < 0)
                        return -1;
                if (strncmp(v, "FROZEN", 6) == 0)
                        return 0;
                usleep(1000);
        }
        return 0;
}

static int v1_frozen(struct oci_cgroup *cg, berth_error_t *err)
{
        cleanup_free char *path = berth_xasprintf("%s/freezer%s/freezer.state", cg->root, cg->path);
        cleanup_free char *v = NULL;
        size_t len;
        if (berth_read_file(path, &v, &len, err) < 0)
                return -1;
        /* FREEZING (on its way, or a parent frozen) holds tasks as FROZEN does */
        return strncmp(v, "THAWED", 6) != 0;
}

static int v1_pids(struct oci_cgroup *cg, pid_t **out, size_t *n, berth_error_t *err)
{
        /* pids is always mounted where containers run; fall back to freezer. */
        cleanup_free char *dir = dir_of(cg, "pids");
        if (access(dir, F_OK) != 0) {
                free(dir);
                dir = dir_of(cg, "freezer");
        }
        return oci_cg_read_pids(dir, out, n, err);
}

const struct oci_cgroup_ops oci_cgroup_v1_ops = {
        .name = "v1",
        .create = v1_create,
        .enter = v1_enter,
        .enter_sub = v1_enter_sub,
        .update = v1_update,
        .freeze = v1_freeze,
        .frozen = v1_frozen,
        .pids = v1_pids,
        .destroy = v1_destroy,
};
