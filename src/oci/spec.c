/* spec.c — config.json → struct oci_spec, with type checks and validation.
 *
 * Every error names the JSON path of the offending value ("process.user.uid"),
 * so a user can fix the file without reading our code.  Unknown keys are
 * ignored, as the spec requires; wrong types and impossible values are errors.
 */
#include "oci/spec.h"

#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <unistd.h>

#include "common/util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

#define BAD(err, where, key, what)                                                                \
        berth_fail_status(err, 1, 0, "config.json: `%s%s%s` %s", where, *(where) ? "." : "", key, \
                          what)

static int want(json_t *v, json_type t, const char *where, const char *key, berth_error_t *err)
{
        static const char *names[] = {"an object", "an array",  "a string",  "an integer",
                                      "a number",  "a boolean", "a boolean", "null"};
        if (json_typeof(v) == t || (t == JSON_TRUE && json_is_boolean(v)))
                return 0;
        char what[32];
        snprintf(what, sizeof(what), "must be %s", names[t]);
        return BAD(err, where, key, what);
}

static int get_str(json_t *o, const char *key, bool required, char **out, const char *where,
                   berth_error_t *err)
{
        json_t *v = json_object_get(o, key);
        if (v == NULL || json_is_null(v)) {
                if (required)
                        return BAD(err, where, key, "is required");
                return 0;
        }
        if (want(v, JSON_STRING, where, key, err) < 0)
                return -1;
        free(*out);
        *out = berth_xstrdup(json_string_value(v));
        return 0;
}

static int get_int(json_t *o, const char *key, int64_t min, int64_t max, int64_t *out,
                   const char *where, berth_error_t *err)
{
        json_t *v = json_object_get(o, key);
        if (v == NULL || json_is_null(v))
                return 0;
        if (want(v, JSON_INTEGER, where, key, err) < 0)
                return -1;
        json_int_t n = json_integer_value(v);
        if (n < min || n > max)
                return berth_fail_status(err, 1, 0,
                                         "config.json: `%s%s%s` is out of range (%lld not in "
                                         "%lld..%lld)",
                                         where, *where ? "." : "", key, (long long) n,
                                         (long long) min, (long long) max);
        *out = n;
        return 0;
}

/* uint64 values beyond INT64_MAX arrive as negative or real from jansson. */
static int get_u64(json_t *o, const char *key, uint64_t *out, const char *where, berth_error_t *err)
{
        json_t *v = json_object_get(o, key);
        if (v == NULL || json_is_null(v))
                return 0;
        if (json_is_real(v) && json_real_value(v) >= 0) {
                *out = json_real_value(v) >= 1.8e19 ? UINT64_MAX : (uint64_t) json_real_value(v);
                return 0;
        }
        if (want(v, JSON_INTEGER, where, key, err) < 0)
                return -1;
        *out = (uint64_t) json_integer_value(v);
        return 0;
}

static int get_bool(json_t *o, const char *key, bool *out, const char *where, berth_error_t *err)
{
        json_t *v = json_object_get(o, key);
        if (v == NULL || json_is_null(v))
                return 0;
        if (want(v, JSON_TRUE, where, key, err) < 0)
                return -1;
        *out = json_is_true(v);
        return 0;
}

static void strv_free(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

static int get_strv(json_t *o, const char *key, char ***out, size_t *n, const char *where,
                    berth_error_t *err)
{
        json_t *v = json_object_get(o, key), *e;
        size_t i;
        if (v == NULL || json_is_null(v))
                return 0;
        if (want(v, JSON_ARRAY, where, key, err) < 0)
                return -1;
        char **r = berth_xcalloc(json_array_size(v) + 1, sizeof(char *));
        json_array_foreach(v, i, e)
        {
                if (!json_is_string(e)) {
                        strv_free(r);
                        return BAD(err, where, key, "must be an array of strings");
                }
                r[i] = berth_xstrdup(json_string_value(e));
        }
        strv_free(*out);
        *out = r;
        if (n)
                *n = json_array_size(v);
        return 0;
}

/* An optional sub-object; *sub = NULL when absent. */
static int get_obj(json_t *o, const char *key, json_t **sub, const char *where, berth_error_t *err)
{
        json_t *v = json_object_get(o, key);
        *sub = NULL;
        if (v == NULL || json_is_null(v))
                return 0;
        if (want(v, JSON_OBJECT, where, key, err) < 0)
                return -1;
        *sub = v;
        return 0;
}

static int get_arr(json_t *o, const char *key, json_t **sub, const char *where, berth_error_t *err)
{
        json_t *v = json_object_get(o, key);
        *sub = NULL;
        if (v == NULL || json_is_null(v))
                return 0;
        if (want(v, JSON_ARRAY, where, key, err) < 0)
                return -1;
        *sub = v;
        return 0;
}

/* ------------------------------------------------------------------ process */

static const char *const cap_names[] = {
        "CHOWN",
        "DAC_OVERRIDE",
        "DAC_READ_SEARCH",
        "FOWNER",
        "FSETID",
        "KILL",
        "SETGID",
        "SETUID",
        "SETPCAP",
        "LINUX_IMMUTABLE",
        "NET_BIND_SERVICE",
        "NET_BROADCAST",
        "NET_ADMIN",
        "NET_RAW",
        "IPC_LOCK",
        "IPC_OWNER",
        "SYS_MODULE",
        "SYS_RAWIO",
        "SYS_CHROOT",
        "SYS_PTRACE",
        "SYS_PACCT",
        "SYS_ADMIN",
        "SYS_BOOT",
        "SYS_NICE",
        "SYS_RESOURCE",
        "SYS_TIME",
        "SYS_TTY_CONFIG",
        "MKNOD",
        "LEASE",
        "AUDIT_WRITE",
        "AUDIT_CONTROL",
        "SETFCAP",
        "MAC_OVERRIDE",
        "MAC_ADMIN",
        "SYSLOG",
        "WAKE_ALARM",
        "BLOCK_SUSPEND",
        "AUDIT_READ",
        "PERFMON",
        "BPF",
        "CHECKPOINT_RESTORE",
};

const char *oci_cap_name(int n)
{
        return n >= 0 && (size_t) n < BERTH_ARRAY_SIZE(cap_names) ? cap_names[n] : NULL;
}

int oci_cap_from_name(const char *name)
{
        if (strncasecmp(name, "CAP_", 4) != 0)
                return -1;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(cap_names); i++)
                if (strcasecmp(name + 4, cap_names[i]) == 0)
                        return (int) i;
        return -1;
}

static const struct {
        const char *name;
        int res;
} rlimit_names[] = {
        {"RLIMIT_AS", RLIMIT_AS},
        {"RLIMIT_CORE", RLIMIT_CORE},
        {"RLIMIT_CPU", RLIMIT_CPU},
        {"RLIMIT_DATA", RLIMIT_DATA},
        {"RLIMIT_FSIZE", RLIMIT_FSIZE},
        {"RLIMIT_LOCKS", RLIMIT_LOCKS},
        {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
        {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
        {"RLIMIT_NICE", RLIMIT_NICE},
        {"RLIMIT_NOFILE", RLIMIT_NOFILE},
        {"RLIMIT_NPROC", RLIMIT_NPROC},
        {"RLIMIT_RSS", RLIMIT_RSS},
        {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
        {"RLIMIT_RTTIME", RLIMIT_RTTIME},
        {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
        {"RLIMIT_STACK", RLIMIT_STACK},
};

static int parse_caps(json_t *o, struct oci_process *p, berth_error_t *err)
{
        static const char *keys[] = {"bounding", "effective", "inheritable", "permitted",
                                     "ambient"};
        json_t *c;
        if (get_obj(o, "capabilities", &c, "process", err) < 0)
                return -1;
        if (c == NULL)
                return 0;
        p->has_caps = true;
        for (int s = 0; s < OCI_CAP_NSETS; s++) {
                json_t *a, *e;
                size_t i;
                if (get_arr(c, keys[s], &a, "process.capabilities", err) < 0)
                        return -1;
                json_array_foreach(a, i, e)
                {
                        int n = json_is_string(e) ? oci_cap_from_name(json_string_value(e)) : -1;
                        if (n < 0)
                                return berth_fail_status(
                                        err, 1, 0,
                                        "config.json: `process.capabilities.%s`: unknown "
                                        "capability `%s`",
                                        keys[s], json_is_string(e) ? json_string_value(e) : "?");
                        p->caps[s] |= 1ULL << n;
                }
        }
        return 0;
}

static int parse_rlimits(json_t *o, struct oci_process *p, berth_error_t *err)
{
        json_t *a, *e;
        size_t i;
        if (get_arr(o, "rlimits", &a, "process", err) < 0)
                return -1;
        if (a == NULL)
                return 0;
        p->rlimits = berth_xcalloc(json_array_size(a), sizeof(*p->rlimits));
        json_array_foreach(a, i, e)
        {
                cleanup_free char *type = NULL;
                struct oci_rlimit *r = &p->rlimits[i];
                if (want(e, JSON_OBJECT, "process", "rlimits[]", err) < 0 ||
                    get_str(e, "type", true, &type, "process.rlimits[]", err) < 0 ||
                    get_u64(e, "soft", &r->soft, "process.rlimits[]", err) < 0 ||
                    get_u64(e, "hard", &r->hard, "process.rlimits[]", err) < 0)
                        return -1;
                r->resource = -1;
                for (size_t k = 0; k < BERTH_ARRAY_SIZE(rlimit_names); k++)
                        if (strcmp(type, rlimit_names[k].name) == 0)
                                r->resource = rlimit_names[k].res;
                if (r->resource < 0)
                        return berth_fail_status(err, 1, 0,
                                                 "config.json: `process.rlimits`: unknown rlimit "
                                                 "type `%s`",
                                                 type);
                for (size_t k = 0; k < i; k++)
                        if (p->rlimits[k].resource == r->resource)
                                return berth_fail_status(err, 1, 0,
                                                         "config.json: `process.rlimits`: `%s` "
                                                         "given twice",
                                                         type);
                p->n_rlimits = i + 1;
        }
        return 0;
}

static int parse_ioprio_sched(json_t *o, struct oci_process *p, berth_error_t *err)
{
        static const char *classes[] = {"", "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
                                        "IOPRIO_CLASS_IDLE"};
        static const char *policies[] = {"SCHED_OTHER",   "SCHED_FIFO", "SCHED_RR",
                                         "SCHED_BATCH",   "",           "SCHED_IDLE",
                                         "SCHED_DEADLINE"};
        json_t *io, *sc;
        if (get_obj(o, "ioPriority", &io, "process", err) < 0 ||
            get_obj(o, "scheduler", &sc, "process", err) < 0)
                return -1;
        if (io) {
                cleanup_free char *cls = NULL;
                p->ioprio_level = 0;
                if (get_str(io, "class", true, &cls, "process.ioPriority", err) < 0 ||
                    get_int(io, "priority", 0, 7, &p->ioprio_level, "process.ioPriority", err) <
                            0 ||
                    cls == NULL)
                        return -1;
                for (int i = 1; i < 4; i++)
                        if (strcmp(cls, classes[i]) == 0)
                                p->ioprio_class = i;
                if (p->ioprio_class == OCI_UNSET)
                        return BAD(err, "process.ioPriority", "class", "is not a known class");
        }
        if (sc) {
                cleanup_free char *pol = NULL;
                json_t *fl, *e;
                size_t i;
                p->sched_nice = 0;
                p->sched_priority = 0;
                if (get_str(sc, "policy", true, &pol, "process.scheduler", err) < 0 ||
                    get_int(sc, "nice", -20, 19, &p->sched_nice, "process.scheduler", err) < 0 ||
                    get_int(sc, "priority", 0, 99, &p->sched_priority, "process.scheduler", err) <
                            0 ||
                    get_arr(sc, "flags", &fl, "process.scheduler", err) < 0)
                        return -1;
                for (int k = 0; k < 7; k++)
                        if (*policies[k] && strcmp(pol, policies[k]) == 0)
                                p->sched_policy = k;
                if (p->sched_policy == OCI_UNSET)
                        return BAD(err, "process.scheduler", "policy", "is not a known policy");
                json_array_foreach(fl, i, e)
                {
                        static const char *fn[] = {
                                "SCHED_FLAG_RESET_ON_FORK", "SCHED_FLAG_RECLAIM",
                                "SCHED_FLAG_DL_OVERRUN",    "SCHED_FLAG_KEEP_POLICY",
                                "SCHED_FLAG_KEEP_PARAMS",   "SCHED_FLAG_UTIL_CLAMP_MIN",
                                "SCHED_FLAG_UTIL_CLAMP_MAX"};
                        bool ok = false;
                        for (int k = 0; k < 7; k++)
                                if (json_is_string(e) && strcmp(json_string_value(e), fn[k]) == 0)
                                        p->sched_flags |= 1ULL << k, ok = true;
                        if (!ok)
                                return BAD(err, "process.scheduler", "flags",
                                           "has an unknown flag");
                }
        }
        return 0;
}

int oci_process_parse(json_t *o, struct oci_process **out, berth_error_t *err)
{
        struct oci_process *p = berth_xcalloc(1, sizeof(*p));
        json_t *user, *cs, *gids, *e;
        int64_t v;
        size_t i;
        p->umask = p->oom_score_adj = OCI_UNSET;
        p->ioprio_class = p->ioprio_level = OCI_UNSET;
        p->sched_policy = p->sched_nice = p->sched_priority = OCI_UNSET;
        if (want(o, JSON_OBJECT, "", "process", err) < 0 ||
            get_bool(o, "terminal", &p->terminal, "process", err) < 0 ||
            get_obj(o, "consoleSize", &cs, "process", err) < 0 ||
            get_obj(o, "user", &user, "process", err) < 0 ||
            get_strv(o, "args", &p->args, NULL, "process", err) < 0 ||
            get_strv(o, "env", &p->env, NULL, "process", err) < 0 ||
            get_str(o, "cwd", false, &p->cwd, "process", err) < 0 ||
            get_bool(o, "noNewPrivileges", &p->no_new_privileges, "process", err) < 0 ||
            get_int(o, "oomScoreAdj", -1000, 1000, &p->oom_score_adj, "process", err) < 0 ||
            get_str(o, "apparmorProfile", false, &p->apparmor_profile, "process", err) < 0 ||
            get_str(o, "selinuxLabel", false, &p->selinux_label, "process", err) < 0 ||
            parse_caps(o, p, err) < 0 || parse_rlimits(o, p, err) < 0 ||
            parse_ioprio_sched(o, p, err) < 0)
                goto fail;
        if (cs) {
                v = 0;
                if (get_int(cs, "height", 0, UINT16_MAX, &v, "process.consoleSize", err) < 0)
                        goto fail;
                p->console_height = (unsigned) v;
                v = 0;
                if (get_int(cs, "width", 0, UINT16_MAX, &v, "process.consoleSize", err) < 0)
                        goto fail;
                p->console_width = (unsigned) v;
        }
        if (user) {
                v = 0;
                if (get_int(user, "uid", 0, UINT32_MAX - 1, &v, "process.user", err) < 0)
                        goto fail;
                p->uid = (uid_t) v;
                v = 0;
                if (get_int(user, "gid", 0, UINT32_MAX - 1, &v, "process.user", err) < 0)
                        goto fail;
                p->gid = (gid_t) v;
                if (get_int(user, "umask", 0, 0777, &p->umask, "process.user", err) < 0 ||
                    get_arr(user, "additionalGids", &gids, "process.user", err) < 0)
                        goto fail;
                p->gids = berth_xcalloc(gids ? json_array_size(gids) : 0, sizeof(gid_t));
                json_array_foreach(gids, i, e)
                {
                        if (!json_is_integer(e) || json_integer_value(e) < 0 ||
                            json_integer_value(e) >= UINT32_MAX) {
                                BAD(err, "process.user", "additionalGids",
                                    "must be an array of gids");
                                goto fail;
                        }
                        p->gids[p->n_gids++] = (gid_t) json_integer_value(e);
                }
        }
        if (p->args == NULL || p->args[0] == NULL) {
                BAD(err, "process", "args", "must name at least the program to run");
                goto fail;
        }
        if (p->cwd == NULL) {
                BAD(err, "process", "cwd", "is required");
                goto fail;
        }
        if (p->cwd[0] != '/') {
                BAD(err, "process", "cwd", "must be an absolute path");
                goto fail;
        }
        *out = p;
        return 0;
fail:
        oci_process_free(p);
        return -1;
}

void oci_process_free(struct oci_process *p)
{
        if (p == NULL)
                return;
        free(p->gids);
        strv_free(p->args);
        strv_free(p->env);
        free(p->cwd);
        free(p->rlimits);
        free(p->apparmor_profile);
        free(p->selinux_label);
        free(p);
}

/* ------------------------------------------------------------------- mounts */

static const struct {
        const char *name;
        bool clear;
        unsigned long flag;
} mount_flags[] = {
        {"ro", false, MS_RDONLY},
        {"rw", true, MS_RDONLY},
        {"nosuid", false, MS_NOSUID},
        {"suid", true, MS_NOSUID},
        {"nodev", false, MS_NODEV},
        {"dev", true, MS_NODEV},
        {"noexec", false, MS_NOEXEC},
        {"exec", true, MS_NOEXEC},
        {"sync", false, MS_SYNCHRONOUS},
        {"async", true, MS_SYNCHRONOUS},
        {"remount", false, MS_REMOUNT},
        {"mand", false, MS_MANDLOCK},
        {"nomand", true, MS_MANDLOCK},
        {"dirsync", false, MS_DIRSYNC},
        {"atime", true, MS_NOATIME},
        {"noatime", false, MS_NOATIME},
        {"diratime", true, MS_NODIRATIME},
        {"nodiratime", false, MS_NODIRATIME},
        {"relatime", false, MS_RELATIME},
        {"norelatime", true, MS_RELATIME},
        {"strictatime", false, MS_STRICTATIME},
        {"nostrictatime", true, MS_STRICTATIME},
        {"lazytime", false, MS_LAZYTIME},
        {"nolazytime", true, MS_LAZYTIME},
        {"silent", false, MS_SILENT},
        {"loud", true, MS_SILENT},
};

static const struct {
        const char *name;
        unsigned long flag;
} propagation_flags[] = {
        {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
        {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
        {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
        {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

static unsigned long propagation_from_name(const char *s)
{
        for (size_t k = 0; k < BERTH_ARRAY_SIZE(propagation_flags); k++)
                if (strcmp(s, propagation_flags[k].name) == 0)
                        return propagation_flags[k].flag;
        return 0;
}

int oci_mount_parse_options(struct oci_mount *m, json_t *options, berth_error_t *err)
{
        json_t *e;
        size_t i;
        json_array_foreach(options, i, e)
        {
                const char *o = json_is_string(e) ? json_string_value(e) : NULL;
                bool done = false;
                if (o == NULL)
                        return BAD(err, "mounts[]", "options", "must be an array of strings");
                for (size_t k = 0; k < BERTH_ARRAY_SIZE(mount_flags) && !done; k++)
                        if (strcmp(o, mount_flags[k].name) == 0) {
                                if (mount_flags[k].clear)
                                        m->flags &= ~mount_flags[k].flag;
                                else
                                        m->flags |= mount_flags[k].flag;
                                done = true;
                        }
                if (!done && propagation_from_name(o)) {
                        m->propagation = propagation_from_name(o);
                        done = true;
                }
                if (done)
                        continue;
                if (strcmp(o, "bind") == 0) {
                        m->bind = true;
                        m->flags |= MS_BIND;
                } else if (strcmp(o, "rbind") == 0) {
                        m->bind = true;
                        m->flags |= MS_BIND | MS_REC;
                } else if (strcmp(o, "rro") == 0) {
                        m->rec_attr_set |= 0x1; /* MOUNT_ATTR_RDONLY */
                } else if (strcmp(o, "rrw") == 0) {
                        m->rec_attr_clr |= 0x1;
                } else if (strcmp(o, "rnosuid") == 0) {
                        m->rec_attr_set |= 0x2;
                } else if (strcmp(o, "rnodev") == 0) {
                        m->rec_attr_set |= 0x4;
                } else if (strcmp(o, "rnoexec") == 0) {
                        m->rec_attr_set |= 0x8;
                } else if (strcmp(o, "tmpcopyup") == 0) {
                        m->tmpcopyup = true;
                } else if (strcmp(o, "idmap") == 0 || strcmp(o, "ridmap") == 0) {
                        return berth_fail_status(
                                err, 1, 0, "config.json: mount option `%s` is not supported", o);
                } else {
                        char *d = m->data ? berth_xasprintf("%s,%s", m->data, o) : berth_xstrdup(o);
                        free(m->data);
                        m->data = d;
                }
        }
        return 0;
}

static int parse_mounts(json_t *root, struct oci_spec *s, berth_error_t *err)
{
        json_t *a, *e, *opts;
        size_t i;
        if (get_arr(root, "mounts", &a, "", err) < 0)
                return -1;
        if (a == NULL)
                return 0;
        s->mounts = berth_xcalloc(json_array_size(a), sizeof(*s->mounts));
        json_array_foreach(a, i, e)
        {
                struct oci_mount *m = &s->mounts[i];
                s->n_mounts = i + 1;
                if (want(e, JSON_OBJECT, "", "mounts[]", err) < 0 ||
                    get_str(e, "destination", true, &m->destination, "mounts[]", err) < 0 ||
                    get_str(e, "type", false, &m->type, "mounts[]", err) < 0 ||
                    get_str(e, "source", false, &m->source, "mounts[]", err) < 0 ||
                    get_arr(e, "options", &opts, "mounts[]", err) < 0 ||
                    oci_mount_parse_options(m, opts, err) < 0)
                        return -1;
                /* A relative destination is taken as relative to the container's root, as
                 * runc 1.1 does (create warns); mounts.c resolves every destination inside
                 * the rootfs.  An empty one would name the rootfs itself: refused. */
                if (m->destination[0] == '\0')
                        return berth_fail_status(err, 1, 0,
                                                 "config.json: mount destination must not be "
                                                 "empty");
                if (m->type && strcmp(m->type, "bind") == 0) {
                        m->bind = true;
                        m->flags |= MS_BIND;
                }
                if (m->type == NULL && !m->bind)
                        return berth_fail_status(err, 1, 0,
                                                 "config.json: mount `%s` has neither a type nor "
                                                 "a bind option",
                                                 m->destination);
                if (m->source == NULL && m->bind)
                        return berth_fail_status(err, 1, 0,
                                                 "config.json: bind mount `%s` needs a source",
                                                 m->destination);
        }
        return 0;
}

/* -------------------------------------------------------------------- hooks */

static int parse_hooks(json_t *root, struct oci_spec *s, berth_error_t *err)
{
        static const char *keys[] = {"prestart",       "createRuntime", "createContainer",
                                     "startContainer", "poststart",     "poststop"};
        json_t *h;
        if (get_obj(root, "hooks", &h, "", err) < 0)
                return -1;
        if (h == NULL)
                return 0;
        for (int k = 0; k < OCI_HOOK_NKINDS; k++) {
                json_t *a, *e;
                size_t i;
                cleanup_free char *where = berth_xasprintf("hooks.%s[]", keys[k]);
                if (get_arr(h, keys[k], &a, "hooks", err) < 0)
                        return -1;
                if (a == NULL)
                        continue;
                s->hooks[k] = berth_xcalloc(json_array_size(a), sizeof(struct oci_hook));
                json_array_foreach(a, i, e)
                {
                        struct oci_hook *hk = &s->hooks[k][i];
                        s->n_hooks[k] = i + 1;
                        hk->timeout = OCI_UNSET;
                        if (want(e, JSON_OBJECT, "hooks", keys[k], err) < 0 ||
                            get_str(e, "path", true, &hk->path, where, err) < 0 ||
                            get_strv(e, "args", &hk->args, NULL, where, err) < 0 ||
                            get_strv(e, "env", &hk->env, NULL, where, err) < 0 ||
                            get_int(e, "timeout", 1, INT32_MAX, &hk->timeout, where, err) < 0)
                                return -1;
                        if (hk->path[0] != '/')
                                return BAD(err, where, "path", "must be an absolute path");
                }
        }
        return 0;
}

/* -------------------------------------------------------------------- linux */

static const struct {
        const char *name;
        int flag;
} ns_names[] = {
        {"pid", CLONE_NEWPID},       {"network", CLONE_NEWNET}, {"mount", CLONE_NEWNS},
        {"ipc", CLONE_NEWIPC},       {"uts", CLONE_NEWUTS},     {"user", CLONE_NEWUSER},
        {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

const struct oci_namespace *oci_spec_namespace(const struct oci_spec *s, int type)
{
        for (size_t i = 0; i < s->n_namespaces; i++)
                if (s->namespaces[i].type == type)
                        return &s->namespaces[i];
        return NULL;
}

static int parse_namespaces(json_t *lx, struct oci_spec *s, berth_error_t *err)
{
        json_t *a, *e;
        size_t i;
        if (get_arr(lx, "namespaces", &a, "linux", err) < 0)
                return -1;
        if (a == NULL)
                return 0;
        s->namespaces = berth_xcalloc(json_array_size(a), sizeof(*s->namespaces));
        json_array_foreach(a, i, e)
        {
                cleanup_free char *type = NULL;
                struct oci_namespace *n = &s->namespaces[i];
                if (want(e, JSON_OBJECT, "linux", "namespaces[]", err) < 0 ||
                    get_str(e, "type", true, &type, "linux.namespaces[]", err) < 0 ||
                    get_str(e, "path", false, &n->path, "linux.namespaces[]", err) < 0 ||
                    type == NULL)
                        return -1;
                for (size_t k = 0; k < BERTH_ARRAY_SIZE(ns_names); k++)
                        if (strcmp(type, ns_names[k].name) == 0)
                                n->type = ns_names[k].flag;
                if (n->type == 0)
                        return berth_fail_status(err, 1, 0,
                                                 "config.json: unknown namespace type `%s`", type);
                if (oci_spec_namespace(s, n->type))
                        return berth_fail_status(err, 1, 0,
                                                 "config.json: namespace `%s` given twice", type);
                if (n->path && n->path[0] != '/')
                        return berth_fail_status(err, 1, 0,
                                                 "config.json: namespace `%s` path `%s` must be "
                                                 "absolute",
                                                 type, n->path);
                s->n_namespaces = i + 1;
        }
        return 0;
}

static int parse_idmaps(json_t *lx, const char *key, struct oci_id_map **out, size_t *n,
                        berth_error_t *err)
{
        json_t *a, *e;
        size_t i;
        if (get_arr(lx, key, &a, "linux", err) < 0)
                return -1;
        if (a == NULL)
                return 0;
        *out = berth_xcalloc(json_array_size(a), sizeof(**out));
        json_array_foreach(a, i, e)
        {
                int64_t c = -1, h = -1, sz = -1;
                if (want(e, JSON_OBJECT, "linux", key, err) < 0 ||
                    get_int(e, "containerID", 0, UINT32_MAX, &c, key, err) < 0 ||
                    get_int(e, "hostID", 0, UINT32_MAX, &h, key, err) < 0 ||
                    get_int(e, "size", 1, UINT32_MAX, &sz, key, err) < 0)
                        return -1;
                if (c < 0 || h < 0 || sz < 0)
                        return BAD(err, "linux", key, "entries need containerID, hostID and size");
                (*out)[i] = (struct oci_id_map){(uint32_t) c, (uint32_t) h, (uint32_t) sz};
                *n = i + 1;
        }
        return 0;
}

static int parse_devices(json_t *lx, struct oci_spec *s, berth_error_t *err)
{
        json_t *a, *e;
        size_t i;
        if (get_arr(lx, "devices", &a, "linux", err) < 0)
                return -1;
        if (a == NULL)
                return 0;
        s->devices = berth_xcalloc(json_array_size(a), sizeof(*s->devices));
        json_array_foreach(a, i, e)
        {
                struct oci_device *d = &s->devices[i];
                cleanup_free char *type = NULL;
                d->major = d->minor = d->mode = d->uid = d->gid = OCI_UNSET;
                s->n_devices = i + 1;
                if (want(e, JSON_OBJECT, "linux", "devices[]", err) < 0 ||
                    get_str(e, "path", true, &d->path, "linux.devices[]", err) < 0 ||
                    get_str(e, "type", true, &type, "linux.devices[]", err) < 0 ||
                    get_int(e, "major", 0, UINT32_MAX, &d->major, "linux.devices[]", err) < 0 ||
                    get_int(e, "minor", 0, UINT32_MAX, &d->minor, "linux.devices[]", err) < 0 ||
                    get_int(e, "fileMode", 0, 07777, &d->mode, "linux.devices[]", err) < 0 ||
                    get_int(e, "uid", 0, UINT32_MAX, &d->uid, "linux.devices[]", err) < 0 ||
                    get_int(e, "gid", 0, UINT32_MAX, &d->gid, "linux.devices[]", err) < 0 ||
                    type == NULL)
                        return -1;
                if (strlen(type) != 1 || !strchr("cbup", type[0]))
                        return berth_fail_status(err, 1, 0,
                                                 "config.json: device `%s` has invalid type `%s`",
                                                 d->path, type);
                d->type = type[0];
                if (d->type != 'p' && (d->major == OCI_UNSET || d->minor == OCI_UNSET))
                        return berth_fail_status(err, 1, 0,
                                                 "config.json: device `%s` needs major and minor",
                                                 d->path);
                if (d->path[0] != '/')
                        return berth_fail_status(err, 1, 0,
                                                 "config.json: device path `%s` must be absolute",
                                                 d->path);
        }
        return 0;
}

static int parse_kv(json_t *o, const char *key, const char *where, struct oci_kv **out, size_t *n,
                    berth_error_t *err)
{
        json_t *obj, *v;
        const char *k;
        if (get_obj(o, key, &obj, where, err) < 0)
                return -1;
        if (obj == NULL)
                return 0;
        *out = berth_xcalloc(json_object_size(obj), sizeof(**out));
        *n = 0;
        json_object_foreach(obj, k, v)
        {
                if (!json_is_string(v))
                        return BAD(err, where, key, "values must be strings");
                (*out)[*n].key = berth_xstrdup(k);
                (*out)[(*n)++].value = berth_xstrdup(json_string_value(v));
        }
        return 0;
}

static const struct {
        const char *name;
        uint32_t action;
} seccomp_actions[] = {
        {"SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD},
        {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
        {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
        {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
        {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0)},
        {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0)},
        {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
        {"SCMP_ACT_LOG", SCMP_ACT_LOG},
        {"SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY},
};

static int seccomp_action(json_t *o, const char *key, const char *where, uint32_t *out,
                          berth_error_t *err)
{
        cleanup_free char *name = NULL;
        if (get_str(o, key, true, &name, where, err) < 0)
                return -1;
        for (size_t k = 0; k < BERTH_ARRAY_SIZE(seccomp_actions); k++)
                if (strcmp(name, seccomp_actions[k].name) == 0) {
                        *out = seccomp_actions[k].action;
                        return 0;
                }
        return berth_fail_status(err, 1, 0, "config.json: unknown seccomp action `%s`", name);
}

static int parse_seccomp_rule(json_t *e, struct oci_seccomp_rule *r, berth_error_t *err)
{
        static const struct {
                const char *name;
                int op;
        } ops[] = {{"SCMP_CMP_NE", SCMP_CMP_NE},
                   {"SCMP_CMP_LT", SCMP_CMP_LT},
                   {"SCMP_CMP_LE", SCMP_CMP_LE},
                   {"SCMP_CMP_EQ", SCMP_CMP_EQ},
                   {"SCMP_CMP_GE", SCMP_CMP_GE},
                   {"SCMP_CMP_GT", SCMP_CMP_GT},
                   {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ}};
        const char *w = "linux.seccomp.syscalls[]";
        json_t *args, *a;
        size_t i;
        r->errno_ret = OCI_UNSET;
        if (want(e, JSON_OBJECT, "linux.seccomp", "syscalls[]", err) < 0 ||
            get_strv(e, "names", &r->names, &r->n_names, w, err) < 0 ||
            seccomp_action(e, "action", w, &r->action, err) < 0 ||
            get_int(e, "errnoRet", 0, 4095, &r->errno_ret, w, err) < 0 ||
            get_arr(e, "args", &args, w, err) < 0)
                return -1;
        if (r->n_names == 0)
                return BAD(err, w, "names", "must list at least one syscall");
        r->args = berth_xcalloc(args ? json_array_size(args) : 0, sizeof(*r->args));
        json_array_foreach(args, i, a)
        {
                struct oci_seccomp_arg *sa = &r->args[i];
                cleanup_free char *op = NULL;
                int64_t idx = -1;
                r->n_args = i + 1;
                sa->op = -1;
                if (want(a, JSON_OBJECT, w, "args[]", err) < 0 ||
                    get_int(a, "index", 0, 5, &idx, "args[]", err) < 0 ||
                    get_u64(a, "value", &sa->value, "args[]", err) < 0 ||
                    get_u64(a, "valueTwo", &sa->value_two, "args[]", err) < 0 ||
                    get_str(a, "op", true, &op, "args[]", err) < 0)
                        return -1;
                if (idx < 0)
                        return BAD(err, w, "args[].index", "is required (0..5)");
                sa->index = (unsigned) idx;
                for (size_t k = 0; k < BERTH_ARRAY_SIZE(ops); k++)
                        if (strcmp(op, ops[k].name) == 0)
                                sa->op = ops[k].op;
                if (sa->op < 0)
                        return berth_fail_status(err, 1, 0,
                                                 "config.json: unknown seccomp operator `%s`", op);
        }
        return 0;
}

static int parse_seccomp(json_t *lx, struct oci_spec *s, berth_error_t *err)
{
        json_t *sc, *archs, *rules, *e;
        size_t i;
        if (get_obj(lx, "seccomp", &sc, "linux", err) < 0)
                return -1;
        if (sc == NULL)
                return 0;
        struct oci_seccomp *c = s->seccomp = berth_xcalloc(1, sizeof(*c));
        c->default_errno_ret = OCI_UNSET;
        if (seccomp_action(sc, "defaultAction", "linux.seccomp", &c->default_action, err) < 0 ||
            get_int(sc, "defaultErrnoRet", 0, 4095, &c->default_errno_ret, "linux.seccomp", err) <
                    0 ||
            get_arr(sc, "architectures", &archs, "linux.seccomp", err) < 0 ||
            get_strv(sc, "flags", &c->flags, &c->n_flags, "linux.seccomp", err) < 0 ||
            get_str(sc, "listenerPath", false, &c->listener_path, "linux.seccomp", err) < 0 ||
            get_str(sc, "listenerMetadata", false, &c->listener_metadata, "linux.seccomp", err) <
                    0 ||
            get_arr(sc, "syscalls", &rules, "linux.seccomp", err) < 0)
                return -1;
        c->archs = berth_xcalloc(archs ? json_array_size(archs) : 0, sizeof(uint32_t));
        json_array_foreach(archs, i, e)
        {
                const char *a = json_is_string(e) ? json_string_value(e) : "";
                char low[64];
                size_t k;
                if (strncmp(a, "SCMP_ARCH_", 10) != 0 || strlen(a) - 10 >= sizeof(low))
                        return berth_fail_status(
                                err, 1, 0, "config.json: unknown seccomp architecture `%s`", a);
                for (k = 0; a[10 + k]; k++)
                        low[k] = (char) (a[10 + k] >= 'A' && a[10 + k] <= 'Z' ? a[10 + k] + 32
                                                                              : a[10 + k]);
                low[k] = 0;
                c->archs[i] = seccomp_arch_resolve_name(low);
                if (c->archs[i] == 0)
                        return berth_fail_status(
                                err, 1, 0, "config.json: unknown seccomp architecture `%s`", a);
                c->n_archs = i + 1;
        }
        for (i = 0; i < c->n_flags; i++)
                if (strcmp(c->flags[i], "SECCOMP_FILTER_FLAG_TSYNC") != 0 &&
                    strcmp(c->flags[i], "SECCOMP_FILTER_FLAG_LOG") != 0 &&
                    strcmp(c->flags[i], "SECCOMP_FILTER_FLAG_SPEC_ALLOW") != 0 &&
                    strcmp(c->flags[i], "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV") != 0)
                        return berth_fail_status(
                                err, 1, 0, "config.json: unknown seccomp flag `%s`", c->flags[i]);
        c->rules = berth_xcalloc(rules ? json_array_size(rules) : 0, sizeof(*c->rules));
        json_array_foreach(rules, i, e)
        {
                c->n_rules = i + 1;
                if (parse_seccomp_rule(e, &c->rules[i], err) < 0)
                        return -1;
        }
        /* as runc: the notify fd reaches the runtime by write(2), which must not wait on an
         * agent that has no fd yet (a default NOTIFY could do the same) */
        if (c->default_action == SCMP_ACT_NOTIFY)
                return berth_fail_status(err, 1, 0,
                                         "config.json: SCMP_ACT_NOTIFY cannot be used as default "
                                         "action");
        bool notify = false;
        for (i = 0; i < c->n_rules; i++) {
                if (c->rules[i].action != SCMP_ACT_NOTIFY)
                        continue;
                notify = true;
                for (size_t n = 0; n < c->rules[i].n_names; n++)
                        if (strcmp(c->rules[i].names[n], "write") == 0)
                                return berth_fail_status(err, 1, 0,
                                                         "config.json: SCMP_ACT_NOTIFY cannot be "
                                                         "used for the write syscall");
        }
        if (notify && c->listener_path == NULL)
                return berth_fail_status(err, 1, 0,
                                         "config.json: seccomp action SCMP_ACT_NOTIFY needs "
                                         "`linux.seccomp.listenerPath`");
        return 0;
}

static int parse_linux(json_t *root, struct oci_spec *s, berth_error_t *err)
{
        json_t *lx, *res, *to;
        cleanup_free char *prop = NULL, *pers = NULL;
        if (get_obj(root, "linux", &lx, "", err) < 0)
                return -1;
        if (lx == NULL)
                return 0;
        s->has_linux = true;
        if (parse_namespaces(lx, s, err) < 0 ||
            parse_idmaps(lx, "uidMappings", &s->uid_maps, &s->n_uid_maps, err) < 0 ||
            parse_idmaps(lx, "gidMappings", &s->gid_maps, &s->n_gid_maps, err) < 0 ||
            parse_devices(lx, s, err) < 0 ||
            get_str(lx, "cgroupsPath", false, &s->cgroups_path, "linux", err) < 0 ||
            get_obj(lx, "resources", &res, "linux", err) < 0 ||
            (res && oci_resources_parse(res, &s->resources, err) < 0) ||
            get_str(lx, "rootfsPropagation", false, &prop, "linux", err) < 0 ||
            get_strv(lx, "maskedPaths", &s->masked_paths, &s->n_masked, "linux", err) < 0 ||
            get_strv(lx, "readonlyPaths", &s->readonly_paths, &s->n_readonly, "linux", err) < 0 ||
            parse_kv(lx, "sysctl", "linux", &s->sysctl, &s->n_sysctl, err) < 0 ||
            parse_seccomp(lx, s, err) < 0 ||
            get_str(lx, "mountLabel", false, &s->mount_label, "linux", err) < 0 ||
            get_obj(lx, "timeOffsets", &to, "linux", err) < 0)
                return -1;
        if (prop) {
                s->rootfs_propagation = propagation_from_name(prop);
                if (s->rootfs_propagation == 0)
                        return BAD(err, "linux", "rootfsPropagation", "is not a propagation mode");
        }
        json_t *p;
        if (get_obj(lx, "personality", &p, "linux", err) < 0)
                return -1;
        if (p) {
                if (get_str(p, "domain", true, &pers, "linux.personality", err) < 0)
                        return -1;
                if (strcmp(pers, "LINUX") == 0)
                        s->personality = PER_LINUX;
                else if (strcmp(pers, "LINUX32") == 0)
                        s->personality = PER_LINUX32;
                else
                        return BAD(err, "linux.personality", "domain", "must be LINUX or LINUX32");
        }
        if (to) {
                static const char *clocks[] = {"monotonic", "boottime"};
                for (int c = 0; c < 2; c++) {
                        json_t *o;
                        if (get_obj(to, clocks[c], &o, "linux.timeOffsets", err) < 0)
                                return -1;
                        if (o && (get_int(o, "secs", INT64_MIN + 1, INT64_MAX,
                                          &s->time_offsets[c][0], "linux.timeOffsets", err) < 0 ||
                                  get_int(o, "nanosecs", 0, 999999999, &s->time_offsets[c][1],
                                          "linux.timeOffsets", err) < 0))
                                return -1;
                }
                s->has_time_offsets = true;
        }
        return 0;
}

/* ------------------------------------------------------------- validation */

static int validate(struct oci_spec *s, berth_error_t *err)
{
        const struct oci_namespace *user = oci_spec_namespace(s, CLONE_NEWUSER);
        const struct oci_namespace *uts = oci_spec_namespace(s, CLONE_NEWUTS);
        const struct oci_namespace *tns = oci_spec_namespace(s, CLONE_NEWTIME);
        if ((s->n_uid_maps || s->n_gid_maps) && (user == NULL || user->path))
                return berth_fail_status(err, 1, 0,
                                         "config.json: uidMappings/gidMappings need a new user "
                                         "namespace");
        if (user && !user->path && (s->n_uid_maps == 0 || s->n_gid_maps == 0))
                return berth_fail_status(err, 1, 0,
                                         "config.json: a new user namespace needs uidMappings and "
                                         "gidMappings");
        if ((s->hostname || s->domainname) && uts == NULL)
                return berth_fail_status(err, 1, 0,
                                         "config.json: setting the hostname or domainname needs "
                                         "a new uts namespace");
        if (s->has_time_offsets && (tns == NULL || tns->path))
                return berth_fail_status(err, 1, 0,
                                         "config.json: timeOffsets need a new time namespace");
        if (s->process && s->process->apparmor_profile && *s->process->apparmor_profile &&
            access("/sys/kernel/security/apparmor", F_OK) != 0)
                return berth_fail_status(err, 1, 0,
                                         "config.json: apparmorProfile `%s` is set, but AppArmor "
                                         "is not enabled on this host",
                                         s->process->apparmor_profile);
        if (s->process && s->process->selinux_label && *s->process->selinux_label &&
            access("/sys/fs/selinux/enforce", F_OK) != 0)
                return berth_fail_status(err, 1, 0,
                                         "config.json: selinuxLabel is set, but SELinux is not "
                                         "enabled on this host");
        return 0;
}

int oci_spec_parse(const char *text, size_t len, struct oci_spec **out, berth_error_t *err)
{
        json_error_t je;
        json_t *root = json_loadb(text, len, 0, &je), *o;
        if (root == NULL)
                return berth_fail_status(err, 1, 0, "config.json: line %d: %s", je.line, je.text);
        struct oci_spec *s = berth_xcalloc(1, sizeof(*s));
        s->json = root;
        s->personality = OCI_UNSET;
        oci_resources_init(&s->resources);
        if (want(root, JSON_OBJECT, "", "(document)", err) < 0 ||
            get_str(root, "ociVersion", true, &s->oci_version, "", err) < 0 ||
            get_obj(root, "root", &o, "", err) < 0)
                goto fail;
        if (o == NULL) {
                BAD(err, "", "root", "is required");
                goto fail;
        }
        if (get_str(o, "path", true, &s->root_path, "root", err) < 0 ||
            get_bool(o, "readonly", &s->root_readonly, "root", err) < 0 ||
            get_str(root, "hostname", false, &s->hostname, "", err) < 0 ||
            get_str(root, "domainname", false, &s->domainname, "", err) < 0 ||
            get_obj(root, "process", &o, "", err) < 0 ||
            (o && oci_process_parse(o, &s->process, err) < 0) || parse_mounts(root, s, err) < 0 ||
            parse_hooks(root, s, err) < 0 || parse_linux(root, s, err) < 0 || validate(s, err) < 0)
                goto fail;
        if (strncmp(s->oci_version, "1.", 2) != 0) {
                berth_fail_status(err, 1, 0, "config.json: unsupported ociVersion `%s`",
                                  s->oci_version);
                goto fail;
        }
        *out = s;
        return 0;
fail:
        oci_spec_free(s);
        return -1;
}

int oci_spec_load(const char *path, struct oci_spec **out, berth_error_t *err)
{
        cleanup_free char *text = NULL;
        size_t len;
        if (access(path, F_OK) < 0 && errno == ENOENT) /* runc's words */
                return berth_fail_status(err, 1, 0,
                                         "JSON specification file config.json not found");
        if (berth_read_file(path, &text, &len, err) < 0)
                return berth_wrap(err, "read the bundle's config");
        return oci_spec_parse(text, len, out, err);
}

static void kv_free(struct oci_kv *kv, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(kv[i].key);
                free(kv[i].value);
        }
        free(kv);
}

void oci_spec_free(struct oci_spec *s)
{
        if (s == NULL)
                return;
        json_decref(s->json);
        free(s->oci_version);
        free(s->root_path);
        free(s->hostname);
        free(s->domainname);
        oci_process_free(s->process);
        for (size_t i = 0; i < s->n_mounts; i++) {
                free(s->mounts[i].destination);
                free(s->mounts[i].type);
                free(s->mounts[i].source);
                free(s->mounts[i].data);
        }
        free(s->mounts);
        for (int k = 0; k < OCI_HOOK_NKINDS; k++) {
                for (size_t i = 0; i < s->n_hooks[k]; i++) {
                        free(s->hooks[k][i].path);
                        strv_free(s->hooks[k][i].args);
                        strv_free(s->hooks[k][i].env);
                }
                free(s->hooks[k]);
        }
        for (size_t i = 0; i < s->n_namespaces; i++)
                free(s->namespaces[i].path);
        free(s->namespaces);
        free(s->uid_maps);
        free(s->gid_maps);
        for (size_t i = 0; i < s->n_devices; i++)
                free(s->devices[i].path);
        free(s->devices);
        free(s->cgroups_path);
        oci_resources_release(&s->resources);
        strv_free(s->masked_paths);
        strv_free(s->readonly_paths);
        kv_free(s->sysctl, s->n_sysctl);
        if (s->seccomp) {
                for (size_t i = 0; i < s->seccomp->n_rules; i++) {
                        strv_free(s->seccomp->rules[i].names);
                        free(s->seccomp->rules[i].args);
                }
                free(s->seccomp->rules);
                free(s->seccomp->archs);
                strv_free(s->seccomp->flags);
                free(s->seccomp->listener_path);
                free(s->seccomp->listener_metadata);
                free(s->seccomp);
        }
        free(s->mount_label);
        free(s);
}

/* --------------------------------------------------------------- resources */

void oci_resources_init(struct oci_resources *r)
{
        memset(r, 0, sizeof(*r));
        r->mem_limit = r->mem_reservation = r->mem_swap = r->mem_kernel = r->mem_kernel_tcp =
                r->mem_swappiness = OCI_UNSET;
        r->cpu_shares = r->cpu_quota = r->cpu_period = r->cpu_rt_runtime = r->cpu_rt_period =
                r->cpu_idle = OCI_UNSET;
        r->pids_limit = r->blkio_weight = r->blkio_leaf_weight = r->net_class_id = OCI_UNSET;
}

void oci_resources_release(struct oci_resources *r)
{
        free(r->cpu_cpus);
        free(r->cpu_mems);
        free(r->weight_dev);
        for (int i = 0; i < 4; i++)
                free(r->throttle[i]);
        for (size_t i = 0; i < r->n_hugepages; i++)
                free(r->hugepages[i].page_size);
        free(r->hugepages);
        free(r->dev_rules);
        kv_free(r->unified, r->n_unified);
        kv_free(r->net_prio, r->n_net_prio);
        oci_resources_init(r);
}

static int parse_dev_rules(json_t *res, struct oci_resources *r, berth_error_t *err)
{
        json_t *a, *e;
        size_t i;
        const char *w = "linux.resources.devices[]";
        if (get_arr(res, "devices", &a, "linux.resources", err) < 0)
                return -1;
        if (a == NULL)
                return 0;
        free(r->dev_rules);
        r->n_dev_rules = 0;
        r->dev_rules = berth_xcalloc(json_array_size(a), sizeof(*r->dev_rules));
        json_array_foreach(a, i, e)
        {
                struct oci_dev_rule *d = &r->dev_rules[i];
                cleanup_free char *type = NULL, *access = NULL;
                d->major = d->minor = -1;
                if (want(e, JSON_OBJECT, "linux.resources", "devices[]", err) < 0 ||
                    get_bool(e, "allow", &d->allow, w, err) < 0 ||
                    get_str(e, "type", false, &type, w, err) < 0 ||
                    get_str(e, "access", false, &access, w, err) < 0 ||
                    get_int(e, "major", -1, UINT32_MAX, &d->major, w, err) < 0 ||
                    get_int(e, "minor", -1, UINT32_MAX, &d->minor, w, err) < 0)
                        return -1;
                d->type = type ? type[0] : 'a';
                if ((type && strlen(type) != 1) || !strchr("acb", d->type))
                        return BAD(err, w, "type", "must be a, c or b");
                if (access == NULL)
                        strcpy(d->access, "rwm");
                else if (strlen(access) > 3 || strspn(access, "rwm") != strlen(access))
                        return BAD(err, w, "access", "must be a combination of r, w and m");
                else
                        strcpy(d->access, access);
                r->n_dev_rules = i + 1;
        }
        return 0;
}

static int parse_blkio_devs(json_t *b, const char *key, bool weight, struct oci_blkio_dev **out,
                            size_t *n, berth_error_t *err)
{
        json_t *a, *e;
        size_t i;
        if (get_arr(b, key, &a, "linux.resources.blockIO", err) < 0)
                return -1;
        if (a == NULL)
                return 0;
        free(*out);
        *out = berth_xcalloc(json_array_size(a), sizeof(**out));
        json_array_foreach(a, i, e)
        {
                struct oci_blkio_dev *d = &(*out)[i];
                d->major = d->minor = d->weight = d->leaf_weight = OCI_UNSET;
                if (want(e, JSON_OBJECT, "linux.resources.blockIO", key, err) < 0 ||
                    get_int(e, "major", 0, UINT32_MAX, &d->major, key, err) < 0 ||
                    get_int(e, "minor", 0, UINT32_MAX, &d->minor, key, err) < 0 ||
                    (weight ? get_int(e, "weight", 0, 1000, &d->weight, key, err) < 0 ||
                                      get_int(e, "leafWeight", 0, 1000, &d->leaf_weight, key, err) <
                                              0
                            : get_u64(e, "rate", &d->rate, key, err) < 0))
                        return -1;
                if (d->major == OCI_UNSET || d->minor == OCI_UNSET)
                        return BAD(err, "linux.resources.blockIO", key, "needs major and minor");
        }
        *n = json_array_size(a);
        return 0;
}

int oci_resources_parse(json_t *res, struct oci_resources *r, berth_error_t *err)
{
        json_t *m, *c, *p, *b, *h, *n, *e;
        const char *w = "linux.resources";
        size_t i;
        if (want(res, JSON_OBJECT, "linux", "resources", err) < 0 ||
            get_obj(res, "memory", &m, w, err) < 0 || get_obj(res, "cpu", &c, w, err) < 0 ||
            get_obj(res, "pids", &p, w, err) < 0 || get_obj(res, "blockIO", &b, w, err) < 0 ||
            get_arr(res, "hugepageLimits", &h, w, err) < 0 ||
            get_obj(res, "network", &n, w, err) < 0 || parse_dev_rules(res, r, err) < 0 ||
            parse_kv(res, "unified", w, &r->unified, &r->n_unified, err) < 0)
                return -1;
        if (m &&
            (get_int(m, "limit", -1, INT64_MAX, &r->mem_limit, "memory", err) < 0 ||
             get_int(m, "reservation", -1, INT64_MAX, &r->mem_reservation, "memory", err) < 0 ||
             get_int(m, "swap", -1, INT64_MAX, &r->mem_swap, "memory", err) < 0 ||
             get_int(m, "kernel", -1, INT64_MAX, &r->mem_kernel, "memory", err) < 0 ||
             get_int(m, "kernelTCP", -1, INT64_MAX, &r->mem_kernel_tcp, "memory", err) < 0 ||
             get_int(m, "swappiness", 0, 100, &r->mem_swappiness, "memory", err) < 0 ||
             get_bool(m, "disableOOMKiller", &r->mem_disable_oom_killer, "memory", err) < 0 ||
             get_bool(m, "useHierarchy", &r->mem_use_hierarchy, "memory", err) < 0))
                return -1;
        if (c &&
            (get_int(c, "shares", 0, INT64_MAX, &r->cpu_shares, "cpu", err) < 0 ||
             get_int(c, "quota", -1, INT64_MAX, &r->cpu_quota, "cpu", err) < 0 ||
             get_int(c, "period", 0, INT64_MAX, &r->cpu_period, "cpu", err) < 0 ||
             get_int(c, "realtimeRuntime", -1, INT64_MAX, &r->cpu_rt_runtime, "cpu", err) < 0 ||
             get_int(c, "realtimePeriod", 0, INT64_MAX, &r->cpu_rt_period, "cpu", err) < 0 ||
             get_int(c, "idle", 0, 1, &r->cpu_idle, "cpu", err) < 0 ||
             get_str(c, "cpus", false, &r->cpu_cpus, "cpu", err) < 0 ||
             get_str(c, "mems", false, &r->cpu_mems, "cpu", err) < 0))
                return -1;
        if (p && get_int(p, "limit", INT64_MIN, INT64_MAX, &r->pids_limit, "pids", err) < 0)
                return -1;
        if (b) {
                static const char *tk[] = {"throttleReadBpsDevice", "throttleWriteBpsDevice",
                                           "throttleReadIOPSDevice", "throttleWriteIOPSDevice"};
                if (get_int(b, "weight", 0, 1000, &r->blkio_weight, "blockIO", err) < 0 ||
                    get_int(b, "leafWeight", 0, 1000, &r->blkio_leaf_weight, "blockIO", err) < 0 ||
                    parse_blkio_devs(b, "weightDevice", true, &r->weight_dev, &r->n_weight_dev,
                                     err) < 0)
                        return -1;
                for (int k = 0; k < 4; k++)
                        if (parse_blkio_devs(b, tk[k], false, &r->throttle[k], &r->n_throttle[k],
                                             err) < 0)
                                return -1;
        }
        if (h) {
                r->hugepages = berth_xcalloc(json_array_size(h), sizeof(*r->hugepages));
                json_array_foreach(h, i, e)
                {
                        struct oci_hugepage *hp = &r->hugepages[i];
                        r->n_hugepages = i + 1;
                        if (want(e, JSON_OBJECT, w, "hugepageLimits[]", err) < 0 ||
                            get_str(e, "pageSize", true, &hp->page_size, "hugepageLimits[]", err) <
                                    0 ||
                            get_u64(e, "limit", &hp->limit, "hugepageLimits[]", err) < 0)
                                return -1;
                }
        }
        if (n) {
                json_t *pr, *x;
                if (get_int(n, "classID", 0, UINT32_MAX, &r->net_class_id, "network", err) < 0 ||
                    get_arr(n, "priorities", &pr, "network", err) < 0)
                        return -1;
                r->net_prio = berth_xcalloc(pr ? json_array_size(pr) : 0, sizeof(*r->net_prio));
                json_array_foreach(pr, i, x)
                {
                        cleanup_free char *name = NULL;
                        int64_t prio = 0;
                        if (get_str(x, "name", true, &name, "network.priorities[]", err) < 0 ||
                            get_int(x, "priority", 0, UINT32_MAX, &prio, "network.priorities[]",
                                    err) < 0)
                                return -1;
                        r->net_prio[i].key = berth_steal_ptr(&name);
                        r->net_prio[i].value = berth_xasprintf("%lld", (long long) prio);
                        r->n_net_prio = i + 1;
                }
        }
        return 0;
}
