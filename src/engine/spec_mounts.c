/* spec_mounts.c — the filesystem a container sees: Docker's default mounts, the /etc files the
 * engine prepared, -v/--mount/--tmpfs, volumes, the --init binary, and the device nodes and
 * device cgroup rules (defaults, --device, --privileged). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/idmap.h"
#include "common/log.h"
#include "common/util.h"
#include "engine/spec_internal.h"

/* Add a mount, replacing one at the same destination (so that what the user asks for wins
 * over a default).  opts: comma-separated mount options. */
static json_t *put(json_t *mounts, const char *dest, const char *type, const char *source,
                   const char *opts)
{
        size_t i;
        json_t *m;
        json_array_foreach(mounts, i, m)
        {
                if (strcmp(json_string_value(json_object_get(m, "destination")), dest) == 0) {
                        json_array_remove(mounts, i);
                        break;
                }
        }
        json_t *list = json_array();
        cleanup_free char *copy = berth_xstrdup(opts);
        char *save = NULL;
        for (char *o = strtok_r(copy, ",", &save); o; o = strtok_r(NULL, ",", &save))
                json_array_append_new(list, json_string(o));
        m = json_pack("{s:s, s:s, s:s, s:o}", "destination", dest, "type", type, "source", source,
                      "options", list);
        json_array_append_new(mounts, m);
        return m;
}

static bool has_dest(json_t *mounts, const char *dest)
{
        size_t i;
        json_t *m;
        json_array_foreach(mounts, i,
                           m) if (strcmp(json_string_value(json_object_get(m, "destination")),
                                         dest) == 0) return true;
        return false;
}

static void add_opt(json_t *m, const char *opt)
{
        json_array_append_new(json_object_get(m, "options"), json_string(opt));
}

static size_t depth(json_t *m)
{
        const char *d = json_string_value(json_object_get(m, "destination"));
        size_t n = 0;
        for (const char *p = d; *p; p++)
                n += *p == '/' && p[1] != '\0' && p[1] != '/';
        return n;
}

/* Stable sort by path depth, as Docker does: /dev before /dev/shm whatever came first. */
static void sort_by_depth(json_t *mounts)
{
        size_t n = json_array_size(mounts);
        for (size_t i = 1; i < n; i++) {
                json_t *m = json_incref(json_array_get(mounts, i));
                size_t j = i;
                while (j > 0 && depth(json_array_get(mounts, j - 1)) > depth(m))
                        j--;
                if (j != i) {
                        json_array_remove(mounts, i);
                        json_array_insert(mounts, j, m);
                }
                json_decref(m);
        }
}

static const struct {
        const char *path;
        unsigned major, minor;
} default_devices[] = {
        {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
        {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

/* Does the container's gid map cover gid?  Without maps of its own, the container shares
 * our user namespace (rootless berth's; or the host's, where all ids exist). */
static bool gid_mapped(const struct eng_spec_input *in, json_int_t gid)
{
        json_t *maps = in->gid_mappings ? in->gid_mappings : in->uid_mappings;
        if (maps == NULL)
                return berth_self_maps_id(true, (uint32_t) gid);
        size_t i;
        json_t *m;
        json_array_foreach(maps, i, m)
        {
                json_int_t first = json_integer_value(json_object_get(m, "containerID"));
                json_int_t size = json_integer_value(json_object_get(m, "size"));
                if (gid >= first && gid < first + size)
                        return true;
        }
        return false;
}

static void default_mounts(struct spec_ctx *c, json_t *mounts)
{
        const char *ipc = json_string_value(json_object_get(c->hc, "IpcMode"));
        char shm_opt[64];
        json_int_t shm = json_integer_value(json_object_get(c->hc, "ShmSize"));
        snprintf(shm_opt, sizeof(shm_opt), "nosuid,noexec,nodev,mode=1777,size=%lldk",
                 (long long) ((shm > 0 ? shm : 67108864) / 1024));
        ipc = ipc ? ipc : "";

        put(mounts, "/proc", "proc", "proc", "nosuid,noexec,nodev");
        put(mounts, "/dev", "tmpfs", "tmpfs", "nosuid,strictatime,mode=755,size=65536k");
        /* gid 5 (tty) must exist in the user namespace to be the ptys' group */
        put(mounts, "/dev/pts", "devpts", "devpts",
            c->in->rootless && !gid_mapped(c->in, 5)
                    ? "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620"
                    : "nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5");
        const char *net = json_string_value(json_object_get(c->hc, "NetworkMode"));
        bool own_netns = net == NULL ||
                         (strcmp(net, "host") != 0 && !berth_str_has_prefix(net, "container:"));
        if (c->in->rootless && !own_netns)
                /* sysfs can only be mounted by the owner of the network namespace */
                put(mounts, "/sys", "bind", "/sys", "rbind,nosuid,noexec,nodev,ro");
        else
                put(mounts, "/sys", "sysfs", "sysfs",
                    c->privileged ? "nosuid,noexec,nodev,rw" : "nosuid,noexec,nodev,ro");
        if (c->in->rootless && !spec_cgroup2_unified())
                put(mounts, "/sys/fs/cgroup", "bind", "/sys/fs/cgroup",
                    "rbind,nosuid,noexec,nodev,ro");
        else
                put(mounts, "/sys/fs/cgroup", "cgroup", "cgroup",
                    c->privileged ? "nosuid,noexec,nodev,relatime,rw"
                                  : "nosuid,noexec,nodev,relatime,ro");
        if (strcmp(ipc, "host") == 0) {
                /* the host's queues: its /dev/mqueue when mounted there; else an mqueue
                 * mount made in the host's ipc namespace shows the same (Docker keeps that
                 * mount), which a rootless container's user namespace may not make */
                struct stat st;
                if (stat("/dev/mqueue", &st) == 0)
                        put(mounts, "/dev/mqueue", "bind", "/dev/mqueue",
                            "rbind,nosuid,noexec,nodev");
                else if (!c->in->rootless)
                        put(mounts, "/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev");
                put(mounts, "/dev/shm", "bind", "/dev/shm", "rbind,nosuid,noexec,nodev");
        } else if (c->ipc_pid > 0) {
                char src[64];
                snprintf(src, sizeof(src), "/proc/%d/root/dev/shm", (int) c->ipc_pid);
                put(mounts, "/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev");
                put(mounts, "/dev/shm", "bind", src, "rbind,nosuid,noexec,nodev");
        } else {
                put(mounts, "/dev/mqueue", "mqueue", "mqueue", "nosuid,noexec,nodev");
                if (strcmp(ipc, "none") != 0)
                        put(mounts, "/dev/shm", "tmpfs", "shm", shm_opt);
        }
}

static void etc_files(struct spec_ctx *c, json_t *mounts)
{
        const struct eng_spec_input *in = c->in;
        if (in->resolv_path)
                put(mounts, "/etc/resolv.conf", "bind", in->resolv_path, "rbind,rprivate");
        if (in->hostname_path)
                put(mounts, "/etc/hostname", "bind", in->hostname_path, "rbind,rprivate");
        if (in->hosts_path)
                put(mounts, "/etc/hosts", "bind", in->hosts_path, "rbind,rprivate");
}

static int volume_path(struct spec_ctx *c, const char *name, const char *dest, bool nocopy,
                       char **path, berth_error_t *err)
{
        if (c->in->volume == NULL)
                return berth_fail_status(err, 125, 0,
                                         "volume for %s: volumes are not available "
                                         "here",
                                         dest);
        if (c->in->volume(c->in->volume_ctx, name, dest, nocopy, path, err) < 0) {
                if (*err && (*err)->status == 0)
                        (*err)->status = 125;
                return berth_wrap(err, "volume for %s", dest);
        }
        return 0;
}

/* -v SRC:DST[:MODE] (already checked by the flag parser). */
static int bind_spec(struct spec_ctx *c, json_t *mounts, const char *spec, berth_error_t *err)
{
        cleanup_free char *copy = berth_xstrdup(spec);
        char *src = copy, *dst = strchr(copy, ':');
        if (dst == NULL)
                return berth_fail_status(err, 125, 0, "invalid volume specification: '%s'", spec);
        *dst++ = '\0';
        char *mode = strchr(dst, ':');
        if (mode)
                *mode++ = '\0';
        bool ro = false, nocopy = false;
        const char *prop = "rprivate";
        char *save = NULL;
        for (char *m = mode ? strtok_r(mode, ",", &save) : NULL; m;
             m = strtok_r(NULL, ",", &save)) {
                if (strcmp(m, "ro") == 0)
                        ro = true;
                else if (strcmp(m, "nocopy") == 0)
                        nocopy = true;
                else if (strcmp(m, "z") == 0 || strcmp(m, "Z") == 0)
                        log_info("%s: SELinux relabelling (%s) is not done by berth; ignored", spec,
                                 m);
                else if (strcmp(m, "shared") == 0 || strcmp(m, "rshared") == 0 ||
                         strcmp(m, "slave") == 0 || strcmp(m, "rslave") == 0 ||
                         strcmp(m, "private") == 0 || strcmp(m, "rprivate") == 0)
                        prop = m;
                /* rw and the consistency modes (cached, delegated…) change nothing on Linux */
        }
        cleanup_free char *host = NULL;
        if (src[0] == '/') {
                struct stat st;
                /* Docker's -v creates a missing host directory (unlike --mount) */
                if (stat(src, &st) < 0 && berth_mkdir_p(src, 0755, err) < 0) {
                        (*err)->status = 125;
                        return berth_wrap(err, "create bind source for %s", spec);
                }
                host = berth_xstrdup(src);
        } else if (volume_path(c, src, dst, nocopy, &host, err) < 0) {
                return -1;
        }
        cleanup_free char *opts = berth_xasprintf("rbind,%s", prop);
        json_t *m = put(mounts, dst, "bind", host, opts);
        if (ro)
                add_opt(m, "ro");
        return 0;
}

/* --volumes-from NAME[:MODE]: MODE is ro or rw, optionally with an SELinux label (z, Z) that
 * berth ignores as it does for -v.  *ro: the mode asks for read-only. */
static int volumes_from_mode(const char *spec, char **name, bool *ro, berth_error_t *err)
{
        if (*spec == '\0')
                return berth_fail_status(err, 125, 0,
                                         "volumes-from specification cannot be an empty string");
        const char *colon = strchr(spec, ':');
        *ro = false;
        if (colon) {
                int rw_seen = 0, label_seen = 0;
                cleanup_free char *modes = berth_xstrdup(colon + 1);
                char *save = NULL;
                bool bad = colon[1] == '\0';
                for (char *m = strtok_r(modes, ",", &save); m && !bad;
                     m = strtok_r(NULL, ",", &save)) {
                        if (strcmp(m, "ro") == 0 || strcmp(m, "rw") == 0) {
                                *ro = m[1] == 'o';
                                bad = rw_seen++ > 0;
                        } else if (strcmp(m, "z") == 0 || strcmp(m, "Z") == 0) {
                                bad = label_seen++ > 0;
                        } else {
                                bad = true;
                        }
                }
                if (bad)
                        return berth_fail_status(err, 125, 0, "invalid mode: %s", colon + 1);
        }
        *name = berth_xstrdup(spec);
        (*name)[colon ? (size_t) (colon - spec) : strlen(spec)] = '\0';
        return 0;
}

/* The binds and volumes of another container, at the same destinations (Docker copies its
 * mount points: read-write only when both it and the mode say so). */
static int volumes_from(struct spec_ctx *c, json_t *mounts, const char *spec, berth_error_t *err)
{
        cleanup_free char *name = NULL;
        bool ro = false;
        if (volumes_from_mode(spec, &name, &ro, err) < 0)
                return -1;
        if (c->in->container_mounts == NULL)
                return berth_fail_status(
                        err, 125, 0, "--volumes-from %s: containers can't be looked up here", spec);
        json_t *theirs = NULL;
        if (c->in->container_mounts(c->in->mounts_ctx, name, ro, &theirs, err) < 0) {
                if (*err) /* "No such container" is 1 for most verbs, 125 for run/create */
                        (*err)->status = 125;
                return -1;
        }
        size_t i;
        json_t *v;
        json_array_foreach(theirs, i, v)
        {
                const char *type = json_string_value(json_object_get(v, "Type"));
                const char *src = json_string_value(json_object_get(v, "Source"));
                const char *dst = json_string_value(json_object_get(v, "Destination"));
                const char *prop = json_string_value(json_object_get(v, "Propagation"));
                /* a tmpfs is the other container's own memory, not something to share */
                if (type == NULL || src == NULL || dst == NULL ||
                    (strcmp(type, "bind") != 0 && strcmp(type, "volume") != 0))
                        continue;
                cleanup_free char *opts =
                        berth_xasprintf("rbind,%s", prop && *prop ? prop : "rprivate");
                json_t *m = put(mounts, dst, "bind", src, opts);
                if (ro || !json_is_true(json_object_get(v, "RW")))
                        add_opt(m, "ro");
        }
        json_decref(theirs);
        return 0;
}

/* --mount (already checked by the flag parser). */
static int mount_obj(struct spec_ctx *c, json_t *mounts, json_t *mo, berth_error_t *err)
{
        const char *type = json_string_value(json_object_get(mo, "Type"));
        const char *target = json_string_value(json_object_get(mo, "Target"));
        const char *source = json_string_value(json_object_get(mo, "Source"));
        bool ro = json_is_true(json_object_get(mo, "ReadOnly"));
        json_t *bo = json_object_get(mo, "BindOptions");
        json_t *vo = json_object_get(mo, "VolumeOptions");
        json_t *to = json_object_get(mo, "TmpfsOptions");
        json_t *m;
        if (strcmp(type, "bind") == 0) {
                struct stat st;
                if (stat(source, &st) < 0)
                        return berth_fail_status(err, 125, 0,
                                                 "invalid mount config for type \"bind\": bind "
                                                 "source path does not exist: %s",
                                                 source);
                const char *prop = json_string_value(json_object_get(bo, "Propagation"));
                cleanup_free char *opts = berth_xasprintf(
                        "%s,%s",
                        json_is_true(json_object_get(bo, "NonRecursive")) ? "bind" : "rbind",
                        prop ? prop : "rprivate");
                m = put(mounts, target, "bind", source, opts);
        } else if (strcmp(type, "tmpfs") == 0) {
                m = put(mounts, target, "tmpfs", "tmpfs", "nosuid,nodev,noexec");
                json_int_t size = json_integer_value(json_object_get(to, "SizeBytes"));
                json_t *mode = json_object_get(to, "Mode");
                if (size > 0) {
                        char o[40];
                        snprintf(o, sizeof(o), "size=%lld", (long long) size);
                        add_opt(m, o);
                }
                if (json_is_integer(mode)) {
                        char o[40];
                        snprintf(o, sizeof(o), "mode=%llo", (long long) json_integer_value(mode));
                        add_opt(m, o);
                }
        } else {
                cleanup_free char *host = NULL;
                if (volume_path(c, source && *source ? source : NULL, target,
                                json_is_true(json_object_get(vo, "NoCopy")), &host, err) < 0)
                        return -1;
                m = put(mounts, target, "bind", host, "rbind,rprivate");
        }
        if (ro)
                add_opt(m, "ro");
        return 0;
}

int spec_build_mounts(struct spec_ctx *c, json_t **out, berth_error_t *err)
{
        json_t *mounts = json_array();
        size_t i;
        json_t *v;
        const char *k;
        default_mounts(c, mounts);
        etc_files(c, mounts);

        /* before the container's own mounts, which replace them at the same destination */
        json_array_foreach(json_object_get(c->hc, "VolumesFrom"), i,
                           v) if (volumes_from(c, mounts, json_string_value(v), err) < 0) goto fail;
        json_array_foreach(json_object_get(c->hc, "Binds"), i,
                           v) if (bind_spec(c, mounts, json_string_value(v), err) < 0) goto fail;
        json_array_foreach(json_object_get(c->hc, "Mounts"), i,
                           v) if (mount_obj(c, mounts, v, err) < 0) goto fail;
        json_object_foreach(json_object_get(c->hc, "Tmpfs"), k, v)
        {
                json_t *m = put(mounts, k, "tmpfs", "tmpfs", "nosuid,nodev,noexec");
                cleanup_free char *opts = berth_xstrdup(json_string_value(v));
                char *save = NULL;
                for (char *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save))
                        add_opt(m, o);
        }
        /* image VOLUMEs and bare `-v /dst` not covered by a mount: anonymous volumes */
        json_object_foreach(json_object_get(c->cfg, "Volumes"), k, v)
        {
                if (has_dest(mounts, k))
                        continue;
                if (c->in->volume == NULL) {
                        log_debug("volume %s stays part of the root filesystem (no volume store)",
                                  k);
                        continue;
                }
                cleanup_free char *host = NULL;
                if (volume_path(c, NULL, k, false, &host, err) < 0)
                        goto fail;
                put(mounts, k, "bind", host, "rbind,rprivate");
        }
        if (json_is_true(json_object_get(c->hc, "Init"))) {
                if (c->in->init_path == NULL) {
                        berth_fail_status(err, 125, 0,
                                          "--init: berth's init binary is not "
                                          "available");
                        goto fail;
                }
                put(mounts, "/sbin/berth-init", "bind", c->in->init_path, "bind,ro");
        }
        sort_by_depth(mounts);
        *out = mounts;
        return 0;
fail:
        json_decref(mounts);
        return -1;
}

/* The device cgroup rules Docker gives every unprivileged container: mknod anything, use the
 * standard nodes, the pty multiplexer and slaves, /dev/console and /dev/net/tun. */
static const struct {
        char type;
        int major, minor; /* -1: any */
        const char *access;
} default_rules[] = {
        {'c', -1, -1, "m"}, {'b', -1, -1, "m"},    {'c', 1, 3, "rwm"}, {'c', 1, 8, "rwm"},
        {'c', 1, 7, "rwm"}, {'c', 5, 0, "rwm"},    {'c', 1, 5, "rwm"}, {'c', 1, 9, "rwm"},
        {'c', 5, 1, "rwm"}, {'c', 136, -1, "rwm"}, {'c', 5, 2, "rwm"}, {'c', 10, 200, "rwm"},
};

static json_t *rule(bool allow, char type, long long major, long long minor, const char *access)
{
        json_t *r = json_pack("{s:b, s:s}", "allow", allow, "access", access);
        if (type) {
                char t[2] = {type, '\0'};
                json_object_set_new(r, "type", json_string(t));
        }
        if (major >= 0)
                json_object_set_new(r, "major", json_integer(major));
        if (minor >= 0)
                json_object_set_new(r, "minor", json_integer(minor));
        return r;
}

static void add_device(json_t *devs, const char *path, const struct stat *st)
{
        size_t i;
        json_t *d;
        json_array_foreach(devs, i, d)
        {
                if (strcmp(json_string_value(json_object_get(d, "path")), path) == 0) {
                        json_array_remove(devs, i);
                        break;
                }
        }
        json_array_append_new(devs, json_pack("{s:s, s:s, s:I, s:I, s:i, s:i, s:i}", "path", path,
                                              "type", S_ISBLK(st->st_mode) ? "b" : "c", "major",
                                              (json_int_t) major(st->st_rdev), "minor",
                                              (json_int_t) minor(st->st_rdev), "fileMode",
                                              (int) (st->st_mode & 07777), "uid", (int) st->st_uid,
                                              "gid", (int) st->st_gid));
}

/* Every device node below host_dir, as dest_dir/... in the container. */
static void add_tree(json_t *devs, json_t *rules, const char *host_dir, const char *dest_dir,
                     const char *access, int depth_left)
{
        cleanup_dir DIR *d = opendir(host_dir);
        struct dirent *e;
        /* cppcheck-suppress readdirCalled ; one thread, one directory stream */
        while (d && depth_left > 0 && (e = readdir(d))) {
                if (e->d_name[0] == '.')
                        continue;
                cleanup_free char *hp = berth_xasprintf("%s/%s", host_dir, e->d_name);
                cleanup_free char *cp = berth_xasprintf("%s/%s", dest_dir, e->d_name);
                struct stat st;
                if (lstat(hp, &st) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        /* the container has its own of these */
                        if (strcmp(hp, "/dev/pts") == 0 || strcmp(hp, "/dev/shm") == 0 ||
                            strcmp(hp, "/dev/mqueue") == 0)
                                continue;
                        add_tree(devs, rules, hp, cp, access, depth_left - 1);
                } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
                        if (strcmp(hp, "/dev/console") == 0 || strcmp(hp, "/dev/ptmx") == 0)
                                continue;
                        add_device(devs, cp, &st);
                        if (rules)
                                json_array_append_new(
                                        rules, rule(true, S_ISBLK(st.st_mode) ? 'b' : 'c',
                                                    major(st.st_rdev), minor(st.st_rdev), access));
                }
        }
}

int spec_build_devices(struct spec_ctx *c, json_t *linux_obj, json_t *resources, berth_error_t *err)
{
        json_t *devs = json_array();
        json_t *rules = json_array();
        json_object_set_new(linux_obj, "devices", devs);
        json_object_set_new(resources, "devices", rules);

        for (size_t i = 0; i < BERTH_ARRAY_SIZE(default_devices); i++) {
                struct stat st = {
                        .st_mode = S_IFCHR | 0666,
                        .st_rdev = makedev(default_devices[i].major, default_devices[i].minor)};
                add_device(devs, default_devices[i].path, &st);
        }
        if (c->privileged) {
                json_array_append_new(rules, rule(true, 0, -1, -1, "rwm"));
                add_tree(devs, NULL, "/dev", "/dev", "rwm", 4);
        } else {
                json_array_append_new(rules, rule(false, 0, -1, -1, "rwm"));
                for (size_t i = 0; i < BERTH_ARRAY_SIZE(default_rules); i++)
                        json_array_append_new(
                                rules, rule(true, default_rules[i].type, default_rules[i].major,
                                            default_rules[i].minor, default_rules[i].access));
        }
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(c->hc, "Devices"), i, d)
        {
                const char *host = json_string_value(json_object_get(d, "PathOnHost"));
                const char *dest = json_string_value(json_object_get(d, "PathInContainer"));
                const char *perms = json_string_value(json_object_get(d, "CgroupPermissions"));
                struct stat st;
                if (stat(host, &st) < 0)
                        return berth_fail_status(err, 125, errno,
                                                 "error gathering device information while "
                                                 "adding custom device \"%s\"",
                                                 host);
                if (S_ISDIR(st.st_mode)) {
                        add_tree(devs, rules, host, dest, perms, 8);
                } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
                        add_device(devs, dest, &st);
                        json_array_append_new(rules,
                                              rule(true, S_ISBLK(st.st_mode) ? 'b' : 'c',
                                                   major(st.st_rdev), minor(st.st_rdev), perms));
                } else {
                        return berth_fail_status(err, 125, 0,
                                                 "error gathering device information while "
                                                 "adding custom device \"%s\": not a device node",
                                                 host);
                }
        }
        return 0;
}
