/* cgroup.h — one interface over the cgroup v1 (incl. hybrid) and v2 backends.
 *
 * A container's cgroup is a path relative to the hierarchy root(s), e.g.
 * "/berth-oci/ID".  The backend is chosen by looking at what is mounted at
 * the root (cgroup2fs → v2, else v1 with an optional v2 "unified" mount for
 * the controllers bound to it).  Tests hand the v2 backend a fake tree.
 */
#ifndef BERTH_OCI_CGROUP_H
#define BERTH_OCI_CGROUP_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci/spec.h"

struct oci_cgroup;

/* `exec --cgroup` (cgroup_sub.c): sub-cgroups of the container's cgroup, per controller; an
 * empty ctrl stands for every controller. */
struct oci_cg_sub {
        char *ctrl, *path;
};
struct oci_cg_subs {
        struct oci_cg_sub *v;
        size_t n;
};
/* runc's --cgroup values: PATH alone, or CTRL[,CTRL...]:PATH any number of times. */
int oci_cg_subs_parse(char *const *args, size_t n, struct oci_cg_subs *out, berth_error_t *err);
void oci_cg_subs_free(struct oci_cg_subs *s);
/* The sub path for v1 hierarchy directory `hierarchy` ("memory", "cpu,cpuacct", "systemd"),
 * or NULL: the container's own cgroup. */
const char *oci_cg_subs_for(const struct oci_cg_subs *s, const char *hierarchy);
/* Every named controller is one of the hierarchies' (a NULL-terminated list), as runc wants. */
int oci_cg_subs_check(const struct oci_cg_subs *s, char *const *hierarchies, berth_error_t *err);
/* dir joined with sub (leading slashes dropped; "/" is dir itself). */
char *oci_cg_subs_join(const char *dir, const char *sub);

struct oci_cgroup_ops {
        const char *name; /* "v1", "v2" */
        /* Make the cgroup, apply res, move pid in.  On failure nothing is left behind. */
        int (*create)(struct oci_cgroup *cg, pid_t pid, const struct oci_resources *res,
                      const struct oci_spec *spec, berth_error_t *err);
        int (*enter)(struct oci_cgroup *cg, pid_t pid, berth_error_t *err);
        /* enter, into sub-cgroups of the container's (exec --cgroup); they must exist */
        int (*enter_sub)(struct oci_cgroup *cg, pid_t pid, const struct oci_cg_subs *subs,
                         berth_error_t *err);
        int (*update)(struct oci_cgroup *cg, const struct oci_resources *res, berth_error_t *err);
        int (*freeze)(struct oci_cgroup *cg, bool frozen, berth_error_t *err);
        /* 1 if frozen, 0 if not, <0 on error. */
        int (*frozen)(struct oci_cgroup *cg, berth_error_t *err);
        int (*pids)(struct oci_cgroup *cg, pid_t **out, size_t *n, berth_error_t *err);
        /* Remove the cgroup (it must be empty; retries briefly while tasks exit). */
        int (*destroy)(struct oci_cgroup *cg, berth_error_t *err);
};

struct oci_cgroup {
        const struct oci_cgroup_ops *ops;
        char *root; /* the mount root, /sys/fs/cgroup */
        char *path; /* relative to each hierarchy root, starts with '/' */
};

extern const struct oci_cgroup_ops oci_cgroup_v1_ops;
extern const struct oci_cgroup_ops oci_cgroup_v2_ops;
extern const struct oci_cgroup_ops oci_cgroup_none_ops;

/* True when r asks for no limit at all (device rules aside). */
bool oci_resources_empty(const struct oci_resources *r);

/* Pick the backend for the host mounted at root (NULL = /sys/fs/cgroup). */
int oci_cgroup_open(struct oci_cgroup *cg, const char *root, const char *path, berth_error_t *err);
/* Use a given backend (tests, and state files that recorded it). */
void oci_cgroup_init(struct oci_cgroup *cg, const struct oci_cgroup_ops *ops, const char *root,
                     const char *path);
void oci_cgroup_release(struct oci_cgroup *cg);

/* The cgroup path for a container: cgroupsPath, or /berth-oci/ID. */
int oci_cgroup_path_for(const struct oci_spec *spec, const char *id, bool systemd, char **out,
                        berth_error_t *err);

/* cgroup v2 device rules (devices_bpf.c): deny all, res's rules, the default
 * devices and spec's devices, as an eBPF program attached to cgroup_dir. */
struct bpf_insn;
int oci_devices_bpf_build(const struct oci_dev_rule *rules, size_t n, struct bpf_insn **out,
                          size_t *len);
int oci_devices_bpf_attach(const char *cgroup_dir, const struct oci_resources *res,
                           const struct oci_spec *spec, berth_error_t *err);

/* Helpers shared by the backends (cgroup.c). */
int oci_cg_write(const char *dir, const char *file, const char *value, berth_error_t *err);
int oci_cg_writef(const char *dir, const char *file, berth_error_t *err, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
int oci_cg_read_pids(const char *dir, pid_t **out, size_t *n, berth_error_t *err);
/* rmdir with retries (tasks just killed take a moment to leave). */
int oci_cg_rmdir(const char *dir, berth_error_t *err);

#endif
