/* spec.h — the C model of an OCI runtime config.json (runtime-spec 1.1, Linux).
 *
 * oci_spec_parse() turns the JSON into this model and validates it, so that
 * everything after parsing works on checked, typed values.  Optional numbers
 * that the spec leaves unset are OCI_UNSET; optional strings are NULL.
 */
#ifndef BERTH_OCI_SPEC_H
#define BERTH_OCI_SPEC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

#define OCI_UNSET INT64_MIN

enum oci_cap_set {
        OCI_CAP_BOUNDING,
        OCI_CAP_EFFECTIVE,
        OCI_CAP_INHERITABLE,
        OCI_CAP_PERMITTED,
        OCI_CAP_AMBIENT,
        OCI_CAP_NSETS
};

struct oci_id_map {
        uint32_t container_id, host_id, size;
};

struct oci_rlimit {
        int resource;
        uint64_t soft, hard;
};

struct oci_process {
        bool terminal;
        unsigned console_height, console_width;
        uid_t uid;
        gid_t gid;
        int64_t umask; /* OCI_UNSET: leave the runtime's */
        size_t n_gids;
        gid_t *gids;
        char **args; /* NULL-terminated */
        char **env;  /* NULL-terminated */
        char *cwd;
        bool has_caps;
        uint64_t caps[OCI_CAP_NSETS]; /* bit n = capability n */
        size_t n_rlimits;
        struct oci_rlimit *rlimits;
        bool no_new_privileges;
        int64_t oom_score_adj;
        char *apparmor_profile;
        char *selinux_label;
        int64_t ioprio_class, ioprio_level; /* OCI_UNSET when no ioPriority */
        int64_t sched_policy, sched_nice, sched_priority;
        uint64_t sched_flags;
};

struct oci_mount {
        char *destination, *type, *source;
        unsigned long flags;       /* MS_* to set */
        unsigned long propagation; /* MS_SHARED/SLAVE/PRIVATE/UNBINDABLE (| MS_REC) */
        uint64_t rec_attr_set;     /* MOUNT_ATTR_* for recursive (rro, ...) */
        uint64_t rec_attr_clr;
        bool bind;      /* bind or rbind */
        bool tmpcopyup; /* tmpfs filled with what it covers (crun's and Podman's extension) */
        char *data;     /* the options the kernel parses itself */
};

struct oci_namespace {
        int type; /* CLONE_NEW* */
        char *path;
};

struct oci_device {
        char *path;
        char type; /* c, b, u, p */
        int64_t major, minor;
        int64_t mode; /* OCI_UNSET → 0666 */
        int64_t uid, gid;
};

struct oci_dev_rule {
        int64_t major, minor; /* -1 = any */
        bool allow;
        char type;      /* a, c, b */
        char access[4]; /* subset of rwm */
};

struct oci_blkio_dev {
        int64_t major, minor;
        int64_t weight, leaf_weight; /* weightDevice */
        uint64_t rate;               /* throttle */
};

struct oci_kv {
        char *key, *value;
};

struct oci_hugepage {
        char *page_size;
        uint64_t limit;
};

struct oci_resources {
        int64_t mem_limit, mem_reservation, mem_swap, mem_kernel, mem_kernel_tcp, mem_swappiness;
        bool mem_disable_oom_killer, mem_use_hierarchy;
        int64_t cpu_shares, cpu_quota, cpu_period, cpu_rt_runtime, cpu_rt_period, cpu_idle;
        char *cpu_cpus, *cpu_mems;
        int64_t pids_limit;
        int64_t blkio_weight, blkio_leaf_weight;
        size_t n_weight_dev, n_throttle[4]; /* read bps, write bps, read iops, write iops */
        struct oci_blkio_dev *weight_dev, *throttle[4];
        size_t n_hugepages;
        struct oci_hugepage *hugepages;
        size_t n_dev_rules;
        struct oci_dev_rule *dev_rules;
        size_t n_unified;
        struct oci_kv *unified;
        int64_t net_class_id;
        size_t n_net_prio;
        struct oci_kv *net_prio;
};

struct oci_seccomp_arg {
        unsigned index;
        uint64_t value, value_two;
        int op; /* enum scmp_compare */
};

struct oci_seccomp_rule {
        char **names;
        size_t n_names;
        uint32_t action;
        int64_t errno_ret;
        size_t n_args;
        struct oci_seccomp_arg *args;
};

struct oci_seccomp {
        uint32_t default_action;
        int64_t default_errno_ret;
        size_t n_archs;
        uint32_t *archs;
        size_t n_flags;
        char **flags;
        char *listener_path, *listener_metadata;
        size_t n_rules;
        struct oci_seccomp_rule *rules;
};

struct oci_hook {
        char *path;
        char **args; /* NULL-terminated, may be NULL */
        char **env;
        int64_t timeout;
};

enum oci_hook_kind {
        OCI_HOOK_PRESTART,
        OCI_HOOK_CREATE_RUNTIME,
        OCI_HOOK_CREATE_CONTAINER,
        OCI_HOOK_START_CONTAINER,
        OCI_HOOK_POSTSTART,
        OCI_HOOK_POSTSTOP,
        OCI_HOOK_NKINDS
};

struct oci_spec {
        json_t *json; /* the document, kept for annotations and hooks' state */
        char *oci_version;
        char *root_path;
        bool root_readonly;
        char *hostname, *domainname;
        struct oci_process *process;
        size_t n_mounts;
        struct oci_mount *mounts;
        size_t n_hooks[OCI_HOOK_NKINDS];
        struct oci_hook *hooks[OCI_HOOK_NKINDS];
        size_t n_namespaces;
        struct oci_namespace *namespaces;
        size_t n_uid_maps, n_gid_maps;
        struct oci_id_map *uid_maps, *gid_maps;
        int64_t time_offsets[2][2]; /* [monotonic, boottime][secs, nanosecs] */
        bool has_time_offsets;
        size_t n_devices;
        struct oci_device *devices;
        char *cgroups_path;
        struct oci_resources resources;
        unsigned long rootfs_propagation; /* 0 = default */
        size_t n_masked, n_readonly;
        char **masked_paths, **readonly_paths;
        size_t n_sysctl;
        struct oci_kv *sysctl;
        struct oci_seccomp *seccomp;
        int64_t personality; /* OCI_UNSET or PER_LINUX / PER_LINUX32 */
        char *mount_label;
        bool has_linux;
};

/* Parse and validate a whole config.json document. */
int oci_spec_parse(const char *text, size_t len, struct oci_spec **out, berth_error_t *err);
int oci_spec_load(const char *path, struct oci_spec **out, berth_error_t *err);
void oci_spec_free(struct oci_spec *s);

/* Parse a `process` object alone (exec --process FILE). */
int oci_process_parse(json_t *obj, struct oci_process **out, berth_error_t *err);
void oci_process_free(struct oci_process *p);

/* Resources alone (update -r FILE): fills r, keeping fields absent from obj as they are. */
int oci_resources_parse(json_t *obj, struct oci_resources *r, berth_error_t *err);
void oci_resources_init(struct oci_resources *r);
void oci_resources_release(struct oci_resources *r);

/* The namespace entry of a kind, or NULL. */
const struct oci_namespace *oci_spec_namespace(const struct oci_spec *s, int type);

/* Capability name (CAP_CHOWN) ↔ number; -1 if unknown. */
int oci_cap_from_name(const char *name);
/* Name without CAP_ of capability n, NULL past the last one we know. */
const char *oci_cap_name(int n);

/* Mount option words shared by config.json and the `spec` defaults. */
int oci_mount_parse_options(struct oci_mount *m, json_t *options, berth_error_t *err);

/* The default config of `berth-oci spec` (rootless: for an unprivileged user). */
char *oci_spec_default_json(bool rootless, uid_t uid, gid_t gid);

#endif
