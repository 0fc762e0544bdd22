/* cgroup_v2.c — the unified (cgroup v2) backend.
 *
 * One tree; controllers are enabled top-down through cgroup.subtree_control
 * of every ancestor.  v1-shaped values in config.json are converted the way
 * runc and crun convert them (cpu shares → weight, blkio weight → io.weight,
 * swap = memsw - limit).  Device rules are an eBPF program (devices_bpf.c),
 * attached when the tree is a real cgroup2 mount (not a test's fake tree).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/idmap.h"
#include "common/log.h"
#include "common/util.h"
#include "oci/cgroup.h"

static char *dir_of(struct oci_cgroup *cg)
{
        return berth_xasprintf("%s%s", cg->root, cg->path);
}

/* Is word W in the space-separated list TEXT? */
static bool has_word(const char *text, const char *w)
{
        size_t wl = strlen(w);
        for (const char *p = text; p && (p = strstr(p, w)) != NULL; p += wl) {
                bool start = p == text || p[-1] == ' ';
                bool end = p[wl] == 0 || p[wl] == ' ' || p[wl] == '\n';
                if (start && end)
                        return true;
        }
        return false;
}

/* Enable in dir's subtree_control every controller dir offers that we use and that isn't
 * enabled yet.  A rootless caller can't write the ancestors of its delegated cgroup (they
 * are root's, and systemd enabled there what it delegates): that is not an error. */
static int enable_controllers(const char *dir, berth_error_t *err)
{
        static const char *want[] = {"cpu",  "cpuset",  "io",   "memory",
                                     "pids", "hugetlb", "misc", NULL};
        cleanup_free char *path = berth_xasprintf("%s/cgroup.controllers", dir), *avail = NULL;
        cleanup_free char *spath = berth_xasprintf("%s/cgroup.subtree_control", dir);
        cleanup_free char *enabled = NULL;
        char buf[128] = "";
        if (berth_read_file(path, &avail, NULL, err) < 0)
                return -1;
        berth_error_t ignored = NULL;
        if (berth_read_file(spath, &enabled, NULL, &ignored) < 0)
                berth_error_release(&ignored);
        for (size_t i = 0; want[i]; i++) {
                if (has_word(avail, want[i]) && !(enabled && has_word(enabled, want[i]))) {
                        strcat(buf, buf[0] ? " +" : "+");
                        strcat(buf, want[i]);
                }
        }
        if (buf[0] == 0)
                return 0;
        if (oci_cg_write(dir, "cgroup.subtree_control", buf, err) == 0)
                return 0;
        int e = (*err)->errnum;
        if ((e == EACCES || e == EPERM || e == EROFS) && (geteuid() != 0 || berth_in_userns())) {
                log_debug("rootless: leaving `%s` as it is: %s", spath, berth_error_msg(*err));
                berth_error_release(err);
                return 0;
        }
        return -1;
}

static int mkdir_tree(struct oci_cgroup *cg, berth_error_t *err)
{
        cleanup_free char *cur = berth_xstrdup(cg->root);
        cleanup_free char *rest = berth_xstrdup(cg->path);
        char *save = NULL;
        for (char *tok = strtok_r(rest, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
                if (enable_controllers(cur, err) < 0)
                        return berth_wrap(err, "enable cgroup controllers in `%s`", cur);
                char *next = berth_xasprintf("%s/%s", cur, tok);
                free(cur);
                cur = next;
                if (mkdir(cur, 0755) < 0 && errno != EEXIST)
                        return berth_fail(err, errno, "mkdir `%s`", cur);
        }
        return 0;
}

#define SETF(d, f, ...)                                        \
        do {                                                   \
                if (oci_cg_writef(d, f, err, __VA_ARGS__) < 0) \
                        return -1;                             \
        } while (0)

static void num_or_max(char *buf, size_t n, int64_t v)
{
        if (v < 0)
                snprintf(buf, n, "max");
        else
                snprintf(buf, n, "%" PRId64, v);
}

static int apply_io(const char *dir, const struct oci_resources *r, berth_error_t *err)
{
        static const char *keys[] = {"rbps", "wbps", "riops", "wiops"};
        if (r->blkio_weight != OCI_UNSET && r->blkio_weight > 0)
                SETF(dir, "io.weight", "%" PRId64, 1 + (r->blkio_weight - 10) * 9999 / 990);
        for (size_t i = 0; i < r->n_weight_dev; i++)
                if (r->weight_dev[i].weight != OCI_UNSET)
                        SETF(dir, "io.weight", "%" PRId64 ":%" PRId64 " %" PRId64,
                             r->weight_dev[i].major, r->weight_dev[i].minor,
                             1 + (r->weight_dev[i].weight - 10) * 9999 / 990);
        for (int k = 0; k < 4; k++)
                for (size_t i = 0; i < r->n_throttle[k]; i++)
                        SETF(dir, "io.max", "%" PRId64 ":%" PRId64 " %s=%" PRIu64,
                             r->throttle[k][i].major, r->throttle[k][i].minor, keys[k],
                             r->throttle[k][i].rate);
        return 0;
}

static int apply(const char *dir, const struct oci_resources *r, berth_error_t *err)
{
        char a[32], b[32];
        if (r->mem_limit != OCI_UNSET) {
                num_or_max(a, sizeof(a), r->mem_limit);
                SETF(dir, "memory.max", "%s", a);
        }
        if (r->mem_swap != OCI_UNSET) {
                /* v1's memsw is memory+swap; v2's swap.max is swap alone. */
                int64_t sw = r->mem_swap;
                if (sw > 0 && r->mem_limit > 0) {
                        if (sw < r->mem_limit)
                                return berth_fail(err, EINVAL,
                                                  "memory.swap (%" PRId64 ") is below "
                                                  "memory.limit (%" PRId64 ")",
                                                  sw, r->mem_limit);
                        sw -= r->mem_limit;
                }
                num_or_max(a, sizeof(a), sw);
                SETF(dir, "memory.swap.max", "%s", a);
        }
        if (r->mem_reservation != OCI_UNSET) {
                num_or_max(a, sizeof(a), r->mem_reservation);
                SETF(dir, "memory.low", "%s", a);
        }
        if (r->cpu_shares != OCI_UNSET && r->cpu_shares > 0)
                SETF(dir, "cpu.weight", "%" PRId64, 1 + ((r->cpu_shares - 2) * 9999) / 262142);
        if (r->cpu_quota != OCI_UNSET || r->cpu_period != OCI_UNSET) {
                num_or_max(a, sizeof(a), r->cpu_quota == OCI_UNSET ? -1 : r->cpu_quota);
                snprintf(b, sizeof(b), "%" PRId64,
                         r->cpu_period == OCI_UNSET ? 100000 : r->cpu_period);
                SETF(dir, "cpu.max", "%s %s", a, b);
        }
        if (r->cpu_idle != OCI_UNSET)
                SETF(dir, "cpu.idle", "%" PRId64, r->cpu_idle);
        if (r->cpu_cpus && *r->cpu_cpus)
                SETF(dir, "cpuset.cpus", "%s", r->cpu_cpus);
        if (r->cpu_mems && *r->cpu_mems)
                SETF(dir, "cpuset.mems", "%s", r->cpu_mems);
        if (r->pids_limit != OCI_UNSET) {
                num_or_max(a, sizeof(a), r->pids_limit <= 0 ? -1 : r->pids_limit);
                SETF(dir, "pids.max", "%s", a);
        }
        if (apply_io(dir, r, err) < 0)
                return -1;
        for (size_t i = 0; i < r->n_hugepages; i++) {
                cleanup_free char *f = berth_xasprintf("hugetlb.%s.max", r->hugepages[i].page_size);
                SETF(dir, f, "%" PRIu64, r->hugepages[i].limit);
        }
        for (size_t i = 0; i < r->n_unified; i++) {
                const char *k = r->unified[i].key;
                if (strchr(k, '/') || strcmp(k, "..") == 0 || strcmp(k, ".") == 0)
                        return berth_fail(err, EINVAL, "unified key `%s` is not a file name", k);
                SETF(dir, k, "%s", r->unified[i].value);
        }
        if (r->net_class_id != OCI_UNSET || r->n_net_prio)
                return berth_fail(err, ENOTSUP,
                                  "network.classID/priorities need cgroup v1 net_cls/net_prio");
        if (r->mem_kernel != OCI_UNSET || r->mem_kernel_tcp != OCI_UNSET)
                log_debug("memory.kernel and kernelTCP have no cgroup v2 equivalent; ignored");
        return 0;
}

static int v2_frozen(struct oci_cgroup *cg, berth_error_t *err);

static int v2_destroy(struct oci_cgroup *cg, berth_error_t *err)
{
        cleanup_free char *dir = dir_of(cg);
        return oci_cg_rmdir(dir, err);
}

static int v2_create(struct oci_cgroup *cg, pid_t pid, const struct oci_resources *r,
                     const struct oci_spec *s, berth_error_t *err)
{
        cleanup_free char *dir = dir_of(cg);
        struct statfs sf;
        bool real = statfs(cg->root, &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
        /* a device program needs CAP_BPF and CAP_SYS_ADMIN in the initial user namespace: a
         * rootless container has none, and only bind mounts of the host's nodes (as crun) */
        bool rootless = geteuid() != 0 || berth_in_userns();
        int made = mkdir_tree(cg, err);
        /* a task joining a frozen cgroup (cgroupsPath naming one) would wait there forever;
         * that cgroup, someone else's, is left alone */
        if (made == 0 && v2_frozen(cg, NULL) == 1)
                return berth_fail_status(err, 1, 0, "container's cgroup unexpectedly frozen");
        if (made < 0 || apply(dir, r, err) < 0 ||
            (real && !rootless && oci_devices_bpf_attach(dir, r, s, err) < 0) ||
            (pid > 0 && oci_cg_writef(dir, "cgroup.procs", err, "%d", (int) pid) < 0)) {
                berth_error_t ignored = NULL;
                v2_destroy(cg, &ignored);
                berth_error_release(&ignored);
                return berth_wrap(err, "set up cgroup `%s`", dir);
        }
        return 0;
}

static int v2_enter(struct oci_cgroup *cg, pid_t pid, berth_error_t *err)
{
        cleanup_free char *dir = dir_of(cg);
        return oci_cg_writef(dir, "cgroup.procs", err, "%d", (int) pid);
}

/* cgroup v2 has one hierarchy: only the plain PATH form means something there */
static int v2_enter_sub(struct oci_cgroup *cg, pid_t pid, const struct oci_cg_subs *subs,
                        berth_error_t *err)
{
        if (subs->n != 1 || *subs->v[0].ctrl != 0)
                return berth_fail_status(err, 1, 0,
                                         "--cgroup: cgroup v2 takes one PATH, without a "
                                         "controller: prefix");
        cleanup_free char *base = dir_of(cg);
        cleanup_free char *dir = oci_cg_subs_join(base, subs->v[0].path);
        return oci_cg_writef(dir, "cgroup.procs", err, "%d", (int) pid);
}

static int v2_update(struct oci_cgroup *cg, const struct oci_resources *r, berth_error_t *err)
{
        cleanup_free char *dir = dir_of(cg);
        return apply(dir, r, err);
}

static int v2_freeze(struct oci_cgroup *cg, bool frozen, berth_error_t *err)
{
        cleanup_free char *dir = dir_of(cg);
        return oci_cg_write(dir, "cgroup.freeze", frozen ? "1" : "0", err);
}

static int v2_frozen(struct oci_cgroup *cg, berth_error_t *err)
{
        cleanup_free char *path = berth_xasprintf("%s%s/cgroup.freeze", cg->root, cg->path);
        cleanup_free char *v = NULL;
        size_t len;
        if (berth_read_file(path, &v, &len, err) < 0)
                return -1;
        return v[0] == '1';
}

static int v2_pids(struct oci_cgroup *cg, pid_t **out, size_t *n, berth_error_t *err)
{
        cleanup_free char *dir = dir_of(cg);
        return oci_cg_read_pids(dir, out, n, err);
}

const struct oci_cgroup_ops oci_cgroup_v2_ops = {
        .name = "v2",
        .create = v2_create,
        .enter = v2_enter,
        .enter_sub = v2_enter_sub,
        .update = v2_update,
        .freeze = v2_freeze,
        .frozen = v2_frozen,
        .pids = v2_pids,
        .destroy = v2_destroy,
};
