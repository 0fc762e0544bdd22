/* spec.c — eng_spec_build(): Docker's container description → OCI config.json (see spec.h).
 * The process (args, env, user, caps, rlimits), namespaces, resources, sysctls, masked paths
 * and seccomp are here; mounts and devices are in spec_mounts.c, the Config rules in
 * spec_config.c, the seccomp profiles in seccomp.c. */
#include <ctype.h>
#include <errno.h>
#include <linux/magic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/vfs.h>

#include "common/log.h"
#include "common/util.h"
#include "engine/caps.h"
#include "engine/spec_internal.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* containerd's default for a container's open files; clamped to what berth itself may raise */
#define DEFAULT_NOFILE 1048576

/* Paths of /proc and /sys a container must not see, or not change (Docker's lists). */
static const char *const masked_paths[] = {
        "/proc/asound",     "/proc/acpi",        "/proc/interrupts",
        "/proc/kcore",      "/proc/keys",        "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
        "/proc/scsi",       "/sys/firmware",     "/sys/devices/virtual/powercap",
};
static const char *const readonly_paths[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static const char *hc_str(json_t *hc, const char *key)
{
        const char *s = json_string_value(json_object_get(hc, key));
        return s ? s : "";
}

static json_int_t hc_int(json_t *hc, const char *key)
{
        return json_integer_value(json_object_get(hc, key));
}

static bool has_secopt(json_t *hc, const char *opt)
{
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(hc, "SecurityOpt"), i,
                           v) if (strcmp(json_string_value(v), opt) == 0) return true;
        return false;
}

static const char *secopt_value(json_t *hc, const char *prefix)
{
        size_t i, l = strlen(prefix);
        json_t *v;
        const char *found = NULL;
        json_array_foreach(json_object_get(hc, "SecurityOpt"), i,
                           v) if (strncmp(json_string_value(v), prefix, l) == 0) found =
                json_string_value(v) + l; /* the last one wins */
        return found;
}

/* Replace or append KEY=VALUE in env; a bare KEY removes it (Docker's -e KEY with KEY unset). */
static void env_set(json_t *env, const char *kv)
{
        const char *eq = strchr(kv, '=');
        size_t l = eq ? (size_t) (eq - kv) : strlen(kv);
        size_t i;
        json_t *v;
        json_array_foreach(env, i, v)
        {
                const char *e = json_string_value(v);
                if (strncmp(e, kv, l) == 0 && (e[l] == '=' || e[l] == '\0')) {
                        if (eq)
                                json_array_set_new(env, i, json_string(kv));
                        else
                                json_array_remove(env, i);
                        return;
                }
        }
        if (eq)
                json_array_append_new(env, json_string(kv));
}

static bool env_has(json_t *env, const char *key)
{
        size_t i, l = strlen(key);
        json_t *v;
        json_array_foreach(env, i, v) if (strncmp(json_string_value(v), key, l) == 0 &&
                                          json_string_value(v)[l] == '=') return true;
        return false;
}

static json_t *build_env(struct spec_ctx *c, const char *home)
{
        json_t *env = json_array();
        json_array_append_new(env, json_string("PATH=" DEFAULT_PATH));
        if (c->in->hostname)
                json_array_append_new(env, json_sprintf("HOSTNAME=%s", c->in->hostname));
        if (json_is_true(json_object_get(c->cfg, "Tty")))
                json_array_append_new(env, json_string("TERM=xterm"));
        size_t i;
        json_t *v;
        json_array_foreach(json_object_get(c->cfg, "Env"), i, v) if (json_is_string(v))
                env_set(env, json_string_value(v));
        if (!env_has(env, "HOME"))
                json_array_append_new(env, json_sprintf("HOME=%s", home));
        return env;
}

static json_t *rlimit(const char *name, json_int_t soft, json_int_t hard)
{
        char type[32] = "RLIMIT_";
        size_t n = strlen(type);
        for (const char *p = name; *p && n < sizeof(type) - 1; p++)
                type[n++] = (char) toupper((unsigned char) *p);
        type[n] = '\0';
        return json_pack("{s:s, s:I, s:I}", "type", type, "hard", hard, "soft", soft);
}

static json_int_t own_hard_limit(int resource)
{
        struct rlimit rl;
        if (getrlimit(resource, &rl) < 0 || rl.rlim_max == RLIM_INFINITY ||
            rl.rlim_max > (rlim_t) INT64_MAX)
                return INT64_MAX;
        return (json_int_t) rl.rlim_max;
}

static const struct {
        const char *name;
        int resource;
} rlimit_names[] = {
        {"core", RLIMIT_CORE},         {"cpu", RLIMIT_CPU},
        {"data", RLIMIT_DATA},         {"fsize", RLIMIT_FSIZE},
        {"locks", RLIMIT_LOCKS},       {"memlock", RLIMIT_MEMLOCK},
        {"msgqueue", RLIMIT_MSGQUEUE}, {"nice", RLIMIT_NICE},
        {"nofile", RLIMIT_NOFILE},     {"nproc", RLIMIT_NPROC},
        {"rss", RLIMIT_RSS},           {"rtprio", RLIMIT_RTPRIO},
        {"rttime", RLIMIT_RTTIME},     {"sigpending", RLIMIT_SIGPENDING},
        {"stack", RLIMIT_STACK},
};

/* Rootless: no limit above what berth itself has (raising one needs CAP_SYS_RESOURCE in the
 * initial user namespace). */
static void clamp_to_own(const char *name, json_int_t *soft, json_int_t *hard)
{
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(rlimit_names); i++) {
                if (strcmp(rlimit_names[i].name, name) != 0)
                        continue;
                json_int_t own = own_hard_limit(rlimit_names[i].resource);
                if (*hard > own)
                        *hard = own;
                if (*soft > *hard)
                        *soft = *hard;
        }
}

static json_t *build_rlimits(json_t *hc, bool rootless)
{
        json_t *out = json_array();
        bool nofile = false;
        size_t i;
        json_t *u;
        json_array_foreach(json_object_get(hc, "Ulimits"), i, u)
        {
                const char *name = json_string_value(json_object_get(u, "Name"));
                json_int_t soft = hc_int(u, "Soft"), hard = hc_int(u, "Hard");
                /* -1 is unlimited; JSON (and jansson) can't carry 2^64-1, so ask for the most
                 * berth itself has, which is what it could grant anyway */
                if (strcmp(name, "nofile") == 0) {
                        nofile = true;
                        if (hard < 0)
                                hard = own_hard_limit(RLIMIT_NOFILE);
                        if (soft < 0)
                                soft = hard;
                } else {
                        if (hard < 0)
                                hard = INT64_MAX;
                        if (soft < 0)
                                soft = INT64_MAX;
                }
                if (rootless)
                        clamp_to_own(name, &soft, &hard);
                json_array_append_new(out, rlimit(name, soft, hard));
        }
        if (!nofile) {
                /* Docker's default of 1048576 fails where berth's own hard limit is lower and it
                 * can't raise it (no CAP_SYS_RESOURCE): take the lower one instead */
                json_int_t lim = own_hard_limit(RLIMIT_NOFILE);
                if (lim > DEFAULT_NOFILE)
                        lim = DEFAULT_NOFILE;
                json_array_append_new(out, rlimit("nofile", lim, lim));
        }
        return out;
}

static json_int_t own_oom_score_adj(void)
{
        cleanup_free char *text = NULL;
        size_t len;
        berth_error_t err = NULL;
        if (berth_read_file("/proc/self/oom_score_adj", &text, &len, &err) < 0) {
                berth_error_release(&err);
                return 0;
        }
        return strtoll(text, NULL, 10);
}

static int build_process(struct spec_ctx *c, json_t *caps, json_t **out, berth_error_t *err)
{
        const struct eng_spec_input *in = c->in;
        json_t *args = NULL;
        if (eng_config_args(c->cfg, &args, err) < 0)
                return -1;
        if (json_is_true(json_object_get(c->hc, "Init"))) {
                json_array_insert_new(args, 0, json_string("--"));
                json_array_insert_new(args, 0, json_string("/sbin/berth-init"));
        }
        struct eng_user u;
        if (eng_user_resolve(in->rootfs, hc_str(c->cfg, "User"), json_object_get(c->hc, "GroupAdd"),
                             &u, err) < 0) {
                json_decref(args);
                return -1;
        }
        json_t *gids = json_array();
        for (size_t i = 0; i < u.ngids; i++)
                /* rootless: the primary group is the process's already, and a runtime in a
                 * user namespace that maps one gid (setgroups "deny") refuses any groups */
                if (!in->rootless || u.gids[i] != u.gid)
                        json_array_append_new(gids, json_integer(u.gids[i]));
        const char *cwd = hc_str(c->cfg, "WorkingDir");
        json_t *p = json_pack(
                "{s:b, s:{s:I, s:I, s:o}, s:o, s:o, s:s, s:{s:O, s:O, s:O}, s:o, s:b, s:I}",
                "terminal", json_is_true(json_object_get(c->cfg, "Tty")), "user", "uid",
                (json_int_t) u.uid, "gid", (json_int_t) u.gid, "additionalGids", gids, "args", args,
                "env", build_env(c, u.home), "cwd", *cwd ? cwd : "/", "capabilities", "bounding",
                caps, "effective", caps, "permitted", caps, "rlimits",
                build_rlimits(c->hc, in->rootless), "noNewPrivileges",
                has_secopt(c->hc, "no-new-privileges=true"), "oomScoreAdj",
                hc_int(c->hc, "OomScoreAdj"));
        eng_user_release(&u);
        if (in->rootless && hc_int(c->hc, "OomScoreAdj") < own_oom_score_adj())
                json_object_del(p, "oomScoreAdj"); /* lowering it needs CAP_SYS_RESOURCE */
        *out = p;
        return 0;
}

static int container_ns(struct spec_ctx *c, json_t *nss, const char *type, const char *file,
                        const char *target, pid_t *pid_out, berth_error_t *err)
{
        pid_t pid;
        if (c->in->container_pid == NULL)
                return berth_fail_status(err, 125, 0,
                                         "%s mode container:%s: containers can't be "
                                         "joined here",
                                         type, target);
        if (c->in->container_pid(c->in->container_ctx, target, &pid, err) < 0) {
                if ((*err)->status == 0)
                        (*err)->status = 125;
                /* dockerd says just that, for --ipc, --pid and --network container:X */
                if (strncmp(berth_error_msg(*err), "No such container: ", 19) == 0)
                        return -1;
                return berth_wrap(err, "join %s namespace of container %s", type, target);
        }
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, file);
        json_array_append_new(nss, json_pack("{s:s, s:s}", "type", type, "path", path));
        if (pid_out)
                *pid_out = pid;
        return 0;
}

bool spec_cgroup2_unified(void)
{
        struct statfs sf;
        return statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC;
}

static int build_namespaces(struct spec_ctx *c, json_t **out, berth_error_t *err)
{
        json_t *nss = json_array();
        json_t *hc = c->hc;
        const char *net = hc_str(hc, "NetworkMode"), *ipc = hc_str(hc, "IpcMode");
        const char *pid = hc_str(hc, "PidMode"), *uts = hc_str(hc, "UTSMode");
        json_array_append_new(nss, json_pack("{s:s}", "type", "mount"));

        if (berth_str_has_prefix(net, "container:")) {
                if (container_ns(c, nss, "network", "ns/net", net + 10, NULL, err) < 0)
                        goto fail;
        } else if (strcmp(net, "host") == 0) {
                /* the host's network: no namespace */
        } else if (strcmp(net, "none") != 0 && c->in->netns_path) {
                json_array_append_new(
                        nss, json_pack("{s:s, s:s}", "type", "network", "path", c->in->netns_path));
        } else if (strcmp(net, "none") == 0 || strcmp(net, "default") == 0 || *net == '\0') {
                json_array_append_new(nss, json_pack("{s:s}", "type", "network"));
        } else {
                /* the engine prepares the namespace of a bridged container (eng_net_up) */
                berth_fail_status(err, 125, 0,
                                  "network %s: no network namespace was prepared for the "
                                  "container",
                                  net);
                goto fail;
        }
        if (berth_str_has_prefix(ipc, "container:")) {
                if (container_ns(c, nss, "ipc", "ns/ipc", ipc + 10, &c->ipc_pid, err) < 0)
                        goto fail;
        } else if (strcmp(ipc, "host") != 0) {
                json_array_append_new(nss, json_pack("{s:s}", "type", "ipc"));
        }
        if (berth_str_has_prefix(pid, "container:")) {
                if (container_ns(c, nss, "pid", "ns/pid", pid + 10, NULL, err) < 0)
                        goto fail;
        } else if (strcmp(pid, "host") != 0) {
                json_array_append_new(nss, json_pack("{s:s}", "type", "pid"));
        }
        if (strcmp(uts, "host") != 0)
                json_array_append_new(nss, json_pack("{s:s}", "type", "uts"));
        /* Docker's default: a private cgroup namespace on cgroup v2, the host's on v1; its
         * daemon writes the mode it chose into HostConfig, which inspect shows */
        const char *cgns = hc_str(hc, "CgroupnsMode");
        if (*cgns == '\0')
                json_object_set_new(hc, "CgroupnsMode",
                                    json_string(spec_cgroup2_unified() ? "private" : "host"));
        if (strcmp(hc_str(hc, "CgroupnsMode"), "private") == 0)
                json_array_append_new(nss, json_pack("{s:s}", "type", "cgroup"));
        if (c->in->uid_mappings && strcmp(hc_str(hc, "UsernsMode"), "host") != 0)
                json_array_append_new(nss, json_pack("{s:s}", "type", "user"));
        *out = nss;
        return 0;
fail:
        json_decref(nss);
        return -1;
}

static json_t *build_resources(json_t *hc)
{
        json_t *r = json_object(), *mem = json_object(), *cpu = json_object();
        json_int_t v;
        if ((v = hc_int(hc, "Memory")) > 0)
                json_object_set_new(mem, "limit", json_integer(v));
        if ((v = hc_int(hc, "MemoryReservation")) > 0)
                json_object_set_new(mem, "reservation", json_integer(v));
        if ((v = hc_int(hc, "MemorySwap")) != 0 && hc_int(hc, "Memory") > 0)
                json_object_set_new(mem, "swap", json_integer(v));
        if (json_is_true(json_object_get(hc, "OomKillDisable")))
                json_object_set_new(mem, "disableOOMKiller", json_true());
        if ((v = hc_int(hc, "CpuShares")) > 0)
                json_object_set_new(cpu, "shares", json_integer(v));
        if ((v = hc_int(hc, "NanoCpus")) > 0) {
                /* --cpus N: N periods' worth of quota per 100ms period, as Docker does */
                json_object_set_new(cpu, "period", json_integer(100000));
                json_object_set_new(cpu, "quota", json_integer(v * 100000 / 1000000000));
        } else {
                if ((v = hc_int(hc, "CpuPeriod")) > 0)
                        json_object_set_new(cpu, "period", json_integer(v));
                if ((v = hc_int(hc, "CpuQuota")) > 0)
                        json_object_set_new(cpu, "quota", json_integer(v));
        }
        if (*hc_str(hc, "CpusetCpus"))
                json_object_set_new(cpu, "cpus", json_string(hc_str(hc, "CpusetCpus")));
        if (*hc_str(hc, "CpusetMems"))
                json_object_set_new(cpu, "mems", json_string(hc_str(hc, "CpusetMems")));
        if (json_object_size(mem))
                json_object_set(r, "memory", mem);
        if (json_object_size(cpu))
                json_object_set(r, "cpu", cpu);
        json_decref(mem);
        json_decref(cpu);
        if ((v = hc_int(hc, "PidsLimit")) > 0)
                json_object_set_new(r, "pids", json_pack("{s:I}", "limit", v));
        return r;
}

static json_t *string_array(const char *const *list, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(a, json_string(list[i]));
        return a;
}

static int build_seccomp(struct spec_ctx *c, json_t *caps, json_t *linux_obj, berth_error_t *err)
{
        const char *opt = secopt_value(c->hc, "seccomp=");
        json_t *sc = NULL;
        if (c->privileged || (opt && strcmp(opt, "unconfined") == 0))
                return 0;
        if (opt) {
                json_error_t jerr;
                json_t *prof = json_loads(opt, 0, &jerr);
                if (!json_is_object(prof)) {
                        json_decref(prof);
                        return berth_fail_status(err, 125, 0,
                                                 "decoding seccomp profile failed: "
                                                 "%s",
                                                 jerr.text);
                }
                int r = eng_seccomp_from_docker(prof, caps, &sc, err);
                json_decref(prof);
                if (r < 0)
                        return -1;
        } else if (eng_seccomp_default(caps, &sc, err) < 0) {
                return -1;
        }
        json_object_set_new(linux_obj, "seccomp", sc);
        return 0;
}

static int build_linux(struct spec_ctx *c, json_t *caps, json_t *nss, json_t **out,
                       berth_error_t *err)
{
        json_t *hc = c->hc;
        json_t *linux_obj = json_object();
        json_t *res = build_resources(hc);
        json_object_set_new(linux_obj, "namespaces", json_incref(nss));
        if (spec_build_devices(c, linux_obj, res, err) < 0)
                goto fail;
        /* the host's block IO controllers are looked at only for a container that asks */
        struct spec_blkio_support sup;
        if (spec_blkio_wanted(hc)) {
                spec_blkio_probe("/sys/fs/cgroup", spec_cgroup2_unified(), &sup);
                if (spec_build_blockio(hc, &sup, res, c->in->warnings, err) < 0)
                        goto fail;
        }
        /* device rules would be an eBPF program (v2) or a devices cgroup (v1): neither is an
         * unprivileged user's to set, and its containers' device nodes are bind mounts of
         * the host's, which the host's permissions already guard */
        if (c->in->rootless)
                json_object_del(res, "devices");
        if (c->in->rootless && (!spec_cgroup2_unified() || c->in->cgroups_path == NULL)) {
                /* an unprivileged user gets no cgroup of its own outside cgroup v2 delegation
                 * (engine/cgparent.h) */
                if (json_object_size(res))
                        log_warn("resource limits are ignored: a rootless container can't have "
                                 "them without a cgroup v2 hierarchy delegated to the user");
                json_decref(res);
                res = NULL;
        } else {
                json_object_set_new(linux_obj, "resources", res);
                res = NULL;
                if (c->in->cgroups_path)
                        json_object_set_new(linux_obj, "cgroupsPath",
                                            json_string(c->in->cgroups_path));
        }
        json_t *sysctls = json_object_get(hc, "Sysctls");
        if (json_object_size(sysctls))
                json_object_set(linux_obj, "sysctl", sysctls);
        if (!c->privileged && !has_secopt(hc, "systempaths=unconfined")) {
                json_object_set_new(linux_obj, "maskedPaths",
                                    string_array(masked_paths, BERTH_ARRAY_SIZE(masked_paths)));
                json_object_set_new(linux_obj, "readonlyPaths",
                                    string_array(readonly_paths, BERTH_ARRAY_SIZE(readonly_paths)));
        }
        if (c->in->uid_mappings && strcmp(hc_str(hc, "UsernsMode"), "host") != 0) {
                json_object_set(linux_obj, "uidMappings", c->in->uid_mappings);
                json_object_set(linux_obj, "gidMappings",
                                c->in->gid_mappings ? c->in->gid_mappings : c->in->uid_mappings);
        }
        if (build_seccomp(c, caps, linux_obj, err) < 0)
                goto fail;
        *out = linux_obj;
        return 0;
fail:
        json_decref(res);
        json_decref(linux_obj);
        return -1;
}

int eng_spec_build(const struct eng_spec_input *in, json_t **out, berth_error_t *err)
{
        if (!json_is_object(in->config) || !json_is_object(in->host_config) || !in->rootfs ||
            !in->id)
                return berth_fail(err, EINVAL,
                                  "eng_spec_build: config, host_config, rootfs and "
                                  "id are required");
        struct spec_ctx c = {.in = in, .hc = in->host_config};
        c.cfg = json_deep_copy(in->config);
        eng_config_merge_image(c.cfg, in->image_config);
        c.privileged = json_is_true(json_object_get(c.hc, "Privileged"));

        json_t *caps = NULL, *nss = NULL, *process = NULL, *mounts = NULL, *linux_obj = NULL;
        int ret = -1;
        if (eng_caps_resolve(json_object_get(c.hc, "CapAdd"), json_object_get(c.hc, "CapDrop"),
                             c.privileged, &caps, err) < 0 ||
            build_namespaces(&c, &nss, err) < 0 || build_process(&c, caps, &process, err) < 0 ||
            spec_build_mounts(&c, &mounts, err) < 0 ||
            build_linux(&c, caps, nss, &linux_obj, err) < 0)
                goto out;

        json_t *spec = json_pack("{s:s, s:O, s:{s:s, s:b}, s:O, s:O}", "ociVersion", "1.1.0",
                                 "process", process, "root", "path", in->rootfs, "readonly",
                                 json_is_true(json_object_get(c.hc, "ReadonlyRootfs")), "mounts",
                                 mounts, "linux", linux_obj);
        if (strcmp(hc_str(c.hc, "UTSMode"), "host") != 0 && in->hostname)
                json_object_set_new(spec, "hostname", json_string(in->hostname));
        /* --domainname: the UTS namespace's NIS domain name, which only a namespace of the
         * container's own may carry */
        if (strcmp(hc_str(c.hc, "UTSMode"), "host") != 0 && *hc_str(c.cfg, "Domainname"))
                json_object_set_new(spec, "domainname", json_string(hc_str(c.cfg, "Domainname")));
        /* --annotation: for the runtime and its hooks, as Docker passes them */
        json_t *ann = json_object_get(c.hc, "Annotations");
        if (json_is_object(ann) && json_object_size(ann) > 0)
                json_object_set(spec, "annotations", ann);
        *out = spec;
        ret = 0;
out:
        json_decref(c.cfg);
        json_decref(caps);
        json_decref(nss);
        json_decref(process);
        json_decref(mounts);
        json_decref(linux_obj);
        return ret;
}

json_t *eng_spec_resources(json_t *host_config)
{
        return build_resources(host_config);
}
