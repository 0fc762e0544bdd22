/* cgroup.c — choosing a cgroup backend and the file helpers both backends use. */
#include "oci/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

void oci_cgroup_init(struct oci_cgroup *cg, const struct oci_cgroup_ops *ops, const char *root,
                     const char *path)
{
        cg->ops = ops;
        cg->root = berth_xstrdup(root);
        cg->path = berth_xstrdup(path);
}

int oci_cgroup_open(struct oci_cgroup *cg, const char *root, const char *path, berth_error_t *err)
{
        struct statfs st;
        if (root == NULL)
                root = "/sys/fs/cgroup";
        if (statfs(root, &st) < 0)
                return berth_fail(err, errno, "statfs `%s`", root);
        oci_cgroup_init(cg,
                        st.f_type == CGROUP2_SUPER_MAGIC ? &oci_cgroup_v2_ops : &oci_cgroup_v1_ops,
                        root, path);
        return 0;
}

/* Rootless containers without resource limits, when the user owns no cgroup:
 * no limits, no freezer; processes are found through the init alone. */
static int none_create(struct oci_cgroup *cg, pid_t pid, const struct oci_resources *res,
                       const struct oci_spec *spec, berth_error_t *err)
{
        return 0;
}
static int none_enter(struct oci_cgroup *cg, pid_t pid, berth_error_t *err)
{
        return 0;
}
static int none_enter_sub(struct oci_cgroup *cg, pid_t pid, const struct oci_cg_subs *subs,
                          berth_error_t *err)
{
        return berth_fail(err, ENOTSUP, "this container has no cgroup (rootless): no --cgroup");
}
static int none_update(struct oci_cgroup *cg, const struct oci_resources *r, berth_error_t *err)
{
        return berth_fail(err, ENOTSUP, "this container has no cgroup (rootless)");
}
static int none_freeze(struct oci_cgroup *cg, bool frozen, berth_error_t *err)
{
        return berth_fail(err, ENOTSUP, "this container has no cgroup to freeze (rootless)");
}
static int none_frozen(struct oci_cgroup *cg, berth_error_t *err)
{
        return 0;
}
static int none_pids(struct oci_cgroup *cg, pid_t **out, size_t *n, berth_error_t *err)
{
        *out = NULL;
        *n = 0;
        return 0;
}
static int none_destroy(struct oci_cgroup *cg, berth_error_t *err)
{
        return 0;
}

const struct oci_cgroup_ops oci_cgroup_none_ops = {
        .name = "none",
        .create = none_create,
        .enter = none_enter,
        .enter_sub = none_enter_sub,
        .update = none_update,
        .freeze = none_freeze,
        .frozen = none_frozen,
        .pids = none_pids,
        .destroy = none_destroy,
};

bool oci_resources_empty(const struct oci_resources *r)
{
        struct oci_resources e;
        oci_resources_init(&e);
        return r->mem_limit == e.mem_limit && r->mem_swap == e.mem_swap &&
               r->mem_reservation == e.mem_reservation && r->cpu_shares == e.cpu_shares &&
               r->cpu_quota == e.cpu_quota && r->cpu_period == e.cpu_period && !r->cpu_cpus &&
               !r->cpu_mems && r->pids_limit == e.pids_limit && r->blkio_weight == e.blkio_weight &&
               !r->n_hugepages && !r->n_unified && !r->n_throttle[0] && !r->n_throttle[1] &&
               !r->n_weight_dev;
}

void oci_cgroup_release(struct oci_cgroup *cg)
{
        free(cg->root);
        free(cg->path);
        cg->root = cg->path = NULL;
}

int oci_cgroup_path_for(const struct oci_spec *spec, const char *id, bool systemd, char **out,
                        berth_error_t *err)
{
        const char *p = spec ? spec->cgroups_path : NULL;
        if (systemd)
                return berth_fail_status(err, 1, 0,
                                         "--systemd-cgroup is not supported by berth-oci (it "
                                         "manages cgroupfs directly)");
        if (p == NULL || *p == 0) {
                *out = berth_xasprintf("/berth-oci/%s", id);
                return 0;
        }
        if (strchr(p, ':') && p[0] != '/')
                return berth_fail_status(err, 1, 0,
                                         "cgroupsPath `%s` is in systemd's slice:prefix:name form; "
                                         "berth-oci only manages cgroupfs paths",
                                         p);
        if (strstr(p, "..") != NULL)
                return berth_fail_status(err, 1, 0, "cgroupsPath `%s` must not contain `..`", p);
        *out = p[0] == '/' ? berth_xstrdup(p) : berth_xasprintf("/%s", p);
        return 0;
}

int oci_cg_write(const char *dir, const char *file, const char *value, berth_error_t *err)
{
        cleanup_free char *path = berth_xasprintf("%s/%s", dir, file);
        cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return berth_fail(err, errno, "open `%s`", path);
        if (write(fd, value, strlen(value)) < 0)
                return berth_fail(err, errno, "write `%s` to `%s`", value, path);
        return 0;
}

int oci_cg_writef(const char *dir, const char *file, berth_error_t *err, const char *fmt, ...)
{
        char buf[256];
        va_list ap;
        va_start(ap, fmt);
        /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is just above */
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        return oci_cg_write(dir, file, buf, err);
}

int oci_cg_read_pids(const char *dir, pid_t **out, size_t *n, berth_error_t *err)
{
        cleanup_free char *path = berth_xasprintf("%s/cgroup.procs", dir);
        cleanup_file FILE *f = fopen(path, "re");
        size_t cap = 16;
        long v;
        if (f == NULL)
                return berth_fail(err, errno, "open `%s`", path);
        *n = 0;
        *out = berth_xmalloc(cap * sizeof(pid_t));
        while (fscanf(f, "%ld", &v) == 1) {
                if (*n == cap)
                        *out = berth_xrealloc(*out, (cap *= 2) * sizeof(pid_t));
                (*out)[(*n)++] = (pid_t) v;
        }
        return 0;
}

/* Sub-cgroups the container's processes made (a nested runtime, systemd) go first: a cgroup
 * with children can't be removed.  Depth-first, as runc's RemovePaths. */
static int rmdir_children(const char *dir, berth_error_t *err)
{
        cleanup_dir DIR *d = opendir(dir);
        struct dirent *e;
        int r = 0;
        if (d == NULL)
                return errno == ENOENT ? 0 : berth_fail(err, errno, "open cgroup `%s`", dir);
        /* cppcheck-suppress readdirCalled ; one thread, one directory stream */
        while ((e = readdir(d)) != NULL) {
                if (e->d_type != DT_DIR || strcmp(e->d_name, ".") == 0 ||
                    strcmp(e->d_name, "..") == 0)
                        continue;
                cleanup_free char *sub = berth_xasprintf("%s/%s", dir, e->d_name);
                if (oci_cg_rmdir(sub, err) < 0)
                        r = -1;
        }
        return r;
}

int oci_cg_rmdir(const char *dir, berth_error_t *err)
{
        if (rmdir(dir) == 0 || errno == ENOENT)
                return 0;
        if (errno == EBUSY && rmdir_children(dir, err) < 0)
                return -1;
        for (int i = 0; i < 200; i++) {
                if (rmdir(dir) == 0 || errno == ENOENT)
                        return 0;
                if (errno != EBUSY)
                        break;
                nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
        }
        return berth_fail(err, errno, "remove cgroup `%s`", dir);
}
