/* test_spec.c — config.json from flags + image config, field by field; the default seccomp
 * policy; Docker-format profiles; --user resolution; the Config merge rules. */
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/util.h"
#include "engine/caps.h"
#include "engine/runflags.h"
#include "engine/spec.h"
#include "engine/spec_internal.h"
#include "engine_test.h"
#include "tap.h"

static char rootfs[] = "/tmp/berth-spec-rootfs-XXXXXX";
static char *voldir;
static json_t *S; /* the last spec */
static char *last_error;
static bool rootless; /* build as an unprivileged user with a one-id mapping */

static void write_file(const char *rel, const char *text)
{
        char *p = berth_xasprintf("%s/%s", rootfs, rel);
        berth_error_t err = NULL;
        if (berth_write_file_atomic(p, text, strlen(text), 0644, &err) < 0)
                berth_error_release(&err);
        free(p);
}

static int volume(void *ctx, const char *name, const char *dest, bool nocopy, char **path,
                  berth_error_t *err)
{
        *path = berth_xasprintf("%s/%s%s", voldir, name ? name : "anon", nocopy ? "-nocopy" : "");
        return 0;
}

static int container_pid(void *ctx, const char *name, pid_t *pid, berth_error_t *err)
{
        if (strcmp(name, "db") != 0)
                return berth_fail(err, 0, "no such container: %s", name);
        *pid = 4242;
        return 0;
}

/* --volumes-from: container "data" has a bind, a volume (read-only there) and a tmpfs. */
static int container_mounts(void *ctx, const char *name, bool ro, json_t **mounts,
                            berth_error_t *err)
{
        if (strcmp(name, "data") != 0)
                return berth_fail(err, 0, "No such container: %s", name);
        *mounts = json_pack("[{s:s, s:s, s:s, s:b, s:s}, {s:s, s:s, s:s, s:b}, {s:s, s:s, s:s}]",
                            "Type", "bind", "Source", "/srv/a", "Destination", "/a", "RW", !ro,
                            "Propagation", "rslave", "Type", "volume", "Source", "/vols/v1",
                            "Destination", "/v", "RW", 0, "Type", "tmpfs", "Source", "",
                            "Destination", "/t");
        return 0;
}

/* Flags (space-separated) + optional image config JSON → S. */
static int build_with(const char *line, const char *image_json, bool callbacks)
{
        char *copy = berth_xstrdup(line);
        char *argv[64];
        int argc = split_args(copy, argv, 64);
        json_decref(S);
        S = NULL;
        free(last_error);
        last_error = NULL;
        berth_error_t err = NULL;
        struct eng_run_flags f;
        int r = eng_runflags_parse(argc, argv, ENG_RUN_RUN, &f, &err);
        if (r == 0) {
                struct eng_spec_input in = {
                        .config = f.config,
                        .host_config = f.host_config,
                        .image_config = image_json ? json_loads(image_json, 0, NULL) : NULL,
                        .rootfs = rootfs,
                        .id = "abc123",
                        .hostname = "abc123",
                        .hosts_path = "/run/x/hosts",
                        .resolv_path = "/run/x/resolv.conf",
                        .hostname_path = "/run/x/hostname",
                        .cgroups_path = "/berth/abc123",
                        .init_path = callbacks ? "/usr/libexec/berth/init" : NULL,
                        .volume = callbacks ? volume : NULL,
                        .container_pid = callbacks ? container_pid : NULL,
                        .container_mounts = callbacks ? container_mounts : NULL,
                        .rootless = rootless,
                };
                if (rootless) {
                        in.uid_mappings = json_pack("[{s:i,s:i,s:i}]", "containerID", 0, "hostID",
                                                    1000, "size", 1);
                        in.gid_mappings = json_incref(in.uid_mappings);
                }
                r = eng_spec_build(&in, &S, &err);
                json_decref(in.uid_mappings);
                json_decref(in.gid_mappings);
                json_decref(in.image_config);
                eng_runflags_release(&f);
        }
        if (r < 0)
                keep_error(&last_error, &err);
        free(copy);
        return r;
}

static int build(const char *line)
{
        return build_with(line, NULL, true);
}

static json_t *at(const char *path)
{
        json_t *v = S;
        char *copy = berth_xstrdup(path);
        for (char *s = NULL, *k = strtok_r(copy, ".", &s); k && v; k = strtok_r(NULL, ".", &s))
                v = json_is_array(v) ? json_array_get(v, (size_t) atoi(k)) : json_object_get(v, k);
        free(copy);
        return v;
}

static char *dump(json_t *v)
{
        static char *last;
        free(last);
        last = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        return last;
}

static json_t *mount_at(const char *dest)
{
        size_t i;
        json_t *m;
        json_array_foreach(at("mounts"), i,
                           m) if (strcmp(json_string_value(json_object_get(m, "destination")),
                                         dest) == 0) return m;
        return NULL;
}

static bool has_ns(const char *type, const char *path)
{
        size_t i;
        json_t *n;
        json_array_foreach(at("linux.namespaces"), i, n)
        {
                if (strcmp(json_string_value(json_object_get(n, "type")), type) != 0)
                        continue;
                const char *p = json_string_value(json_object_get(n, "path"));
                return path ? (p && strcmp(p, path) == 0) : p == NULL;
        }
        return false;
}

static bool in_array(json_t *a, const char *s)
{
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v) if (json_is_string(v) &&
                                        strcmp(json_string_value(v), s) == 0) return true;
        return false;
}

#define fails(line, want) fails_with(build(line), "spec fails: " line, last_error, want)

static void test_process(void)
{
        ok(build("img sh -c true") == 0, "build a default spec");
        is_str(json_string_value(at("ociVersion")), "1.1.0", "ociVersion");
        is_str(dump(at("process.args")), "[\"sh\",\"-c\",\"true\"]", "args");
        is_str(dump(at("process.env")),
               "[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
               "\"HOSTNAME=abc123\",\"HOME=/root\"]",
               "env: PATH, HOSTNAME, HOME");
        is_str(json_string_value(at("process.cwd")), "/", "cwd /");
        is_str(dump(at("process.user")), "{\"uid\":0,\"gid\":0,\"additionalGids\":[0]}",
               "root user");
        ok(json_is_false(at("process.terminal")), "no terminal");
        ok(json_is_false(at("process.noNewPrivileges")), "noNewPrivileges off by default");
        is_int(json_integer_value(at("process.oomScoreAdj")), 0, "oomScoreAdj 0");
        is_int(json_array_size(at("process.capabilities.bounding")), 14, "14 default caps");
        ok(in_array(at("process.capabilities.effective"), "CAP_NET_BIND_SERVICE") &&
                   !in_array(at("process.capabilities.effective"), "CAP_SYS_ADMIN"),
           "default caps: NET_BIND_SERVICE, not SYS_ADMIN");
        ok(!json_object_get(at("process.capabilities"), "inheritable"), "no inheritable caps");
        is_str(json_string_value(at("hostname")), "abc123", "hostname");
        is_str(json_string_value(at("root.path")), rootfs, "root.path");
        ok(json_is_false(at("root.readonly")), "root writable");
        is_str(json_string_value(at("linux.cgroupsPath")), "/berth/abc123", "cgroupsPath");

        struct rlimit rl;
        getrlimit(RLIMIT_NOFILE, &rl);
        long long want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 1048576
                                 ? 1048576
                                 : (long long) rl.rlim_max;
        is_str(json_string_value(at("process.rlimits.0.type")), "RLIMIT_NOFILE", "NOFILE");
        is_int(json_integer_value(at("process.rlimits.0.hard")), want,
               "NOFILE hard: Docker's 1048576 clamped to our own hard limit");
        is_int(json_integer_value(at("process.rlimits.0.soft")), want, "NOFILE soft too");

        ok(build("-t -e A=1 -e HOME=/h -e PATH=/p -w /w -u 1000 --oom-score-adj 5 "
                 "--security-opt no-new-privileges --ulimit nproc=10:20 --ulimit nofile=5:6 "
                 "img x") == 0,
           "process flags");
        ok(json_is_true(at("process.terminal")), "-t: terminal");
        is_str(dump(at("process.env")),
               "[\"PATH=/p\",\"HOSTNAME=abc123\",\"TERM=xterm\",\"A=1\",\"HOME=/h\"]",
               "env: -e replaces PATH in place, TERM with -t, HOME given");
        is_str(json_string_value(at("process.cwd")), "/w", "cwd");
        is_str(dump(at("process.user")), "{\"uid\":1000,\"gid\":1000,\"additionalGids\":[1000,50]}",
               "user from /etc/passwd and its groups");
        is_int(json_integer_value(at("process.oomScoreAdj")), 5, "oomScoreAdj");
        ok(json_is_true(at("process.noNewPrivileges")), "noNewPrivileges");
        is_str(dump(at("process.rlimits")),
               "[{\"type\":\"RLIMIT_NPROC\",\"hard\":20,\"soft\":10},"
               "{\"type\":\"RLIMIT_NOFILE\",\"hard\":6,\"soft\":5}]",
               "ulimits → rlimits, no default NOFILE when one is given");

        fails("img", "No command specified");
        fails("-u nosuch img x", "unable to find user nosuch");
        fails("-u app:nogroup img x", "unable to find group nogroup");
        fails("--group-add nogroup img x", "Unable to find group nogroup");
}

static void test_user(void)
{
        struct eng_user u;
        berth_error_t err = NULL;
        ok(eng_user_resolve(rootfs, "app:staff", NULL, &u, &err) == 0, "app:staff");
        ok(u.uid == 1000 && u.gid == 50 && u.ngids == 1 && u.gids[0] == 50,
           "explicit group: it alone, no member groups");
        is_str(u.home, "/home/app", "home");
        eng_user_release(&u);
        json_t *add = json_pack("[s,s]", "audio", "7");
        ok(eng_user_resolve(rootfs, "1000", add, &u, &err) == 0, "uid 1000 + group-add");
        ok(u.uid == 1000 && u.gid == 1000 && u.ngids == 4 && u.gids[0] == 1000 && u.gids[1] == 50 &&
                   u.gids[2] == 29 && u.gids[3] == 7,
           "numeric uid found in passwd: its gid, member groups, then --group-add");
        eng_user_release(&u);
        json_decref(add);
        ok(eng_user_resolve(rootfs, "5000:6000", NULL, &u, &err) == 0, "5000:6000");
        ok(u.uid == 5000 && u.gid == 6000 && strcmp(u.home, "/") == 0 && u.ngids == 1 &&
                   u.gids[0] == 6000,
           "unknown numeric ids: the gid is the only group");
        eng_user_release(&u);
        ok(eng_user_resolve(rootfs, "", NULL, &u, &err) == 0 && u.uid == 0, "empty = root");
        eng_user_release(&u);
        /* a symlinked /etc/passwd must resolve inside the rootfs, not on the host */
        char *link = berth_xasprintf("%s/etc/passwd", rootfs);
        char *saved = berth_xasprintf("%s/etc/passwd.real", rootfs);
        ok(rename(link, saved) == 0 && symlink("/etc/passwd.real", link) == 0,
           "passwd as an absolute symlink");
        ok(eng_user_resolve(rootfs, "app", NULL, &u, &err) == 0 && u.uid == 1000,
           "…resolved inside the rootfs");
        eng_user_release(&u);
        unlink(link);
        ok(rename(saved, link) == 0, "restore passwd");
        free(link);
        free(saved);
        berth_error_release(&err);
}

static void test_image_merge(void)
{
        const char *img = "{\"Env\":[\"PATH=/img\",\"A=img\",\"B=img\"],"
                          "\"Entrypoint\":[\"/ep\"],\"Cmd\":[\"c1\",\"c2\"],"
                          "\"WorkingDir\":\"/wd\",\"User\":\"app\","
                          "\"Volumes\":{\"/data\":{}},\"Labels\":{\"l\":\"img\"}}";
        ok(build_with("-e B=flag -e A img", img, true) == 0, "image config merged");
        is_str(dump(at("process.args")), "[\"/ep\",\"c1\",\"c2\"]", "entrypoint + image cmd");
        is_str(dump(at("process.env")),
               "[\"PATH=/img\",\"HOSTNAME=abc123\",\"B=flag\",\"HOME=/home/app\"]",
               "image env, -e overrides, bare -e A unsets");
        is_str(json_string_value(at("process.cwd")), "/wd", "image WorkingDir");
        is_int(json_integer_value(at("process.user.uid")), 1000, "image User");
        json_t *m = mount_at("/data");
        ok(m != NULL, "image VOLUME gets a mount");
        is_str(json_string_value(json_object_get(m, "source")), "/vols/anon",
               "…from the anonymous volume callback");
        ok(build_with("img x y", img, true) == 0, "user cmd");
        is_str(dump(at("process.args")), "[\"/ep\",\"x\",\"y\"]", "entrypoint + user cmd");
        ok(build_with("--entrypoint /bin/echo img", img, true) == 0, "user entrypoint");
        is_str(dump(at("process.args")), "[\"/bin/echo\"]", "user entrypoint drops image cmd");
        ok(build_with("--entrypoint= img ls", img, true) == 0, "--entrypoint \"\"");
        is_str(dump(at("process.args")), "[\"ls\"]", "reset entrypoint: only the command");
        ok(build_with("-v /tmp:/data img", img, true) == 0, "bind over an image volume");
        is_str(json_string_value(json_object_get(mount_at("/data"), "source")), "/tmp",
               "…the bind wins");

        json_t *cfg = json_pack("{s:[s], s:n, s:{s:s}, s:{s:[s,s], s:I}}", "Env", "X=1", "Cmd",
                                "Labels", "l", "user", "Healthcheck", "Test", "CMD", "true",
                                "Interval", (json_int_t) 0);
        json_t *ic = json_loads("{\"Cmd\":[\"sh\"],\"Labels\":{\"l\":\"img\",\"m\":\"img\"},"
                                "\"Healthcheck\":{\"Test\":[\"NONE\"],\"Interval\":5},"
                                "\"ExposedPorts\":{\"80/tcp\":{}},\"StopSignal\":\"SIGQUIT\"}",
                                0, NULL);
        eng_config_merge_image(cfg, ic);
        is_str(dump(json_object_get(cfg, "Cmd")), "[\"sh\"]", "merge: image Cmd");
        is_str(dump(json_object_get(cfg, "Labels")), "{\"l\":\"user\",\"m\":\"img\"}",
               "merge: labels, the container's win");
        is_str(dump(json_object_get(cfg, "Healthcheck")),
               "{\"Test\":[\"CMD\",\"true\"],"
               "\"Interval\":5}",
               "merge: healthcheck fields left unset come from the image");
        is_str(json_string_value(json_object_get(cfg, "StopSignal")), "SIGQUIT",
               "merge: StopSignal");
        ok(json_object_get(json_object_get(cfg, "ExposedPorts"), "80/tcp") != NULL,
           "merge: ExposedPorts");
        json_decref(cfg);
        json_decref(ic);
}

static void test_mounts(void)
{
        ok(build("img x") == 0, "default mounts");
        static const char *const defaults[] = {"/proc",        "/dev",           "/dev/pts",
                                               "/sys",         "/sys/fs/cgroup", "/dev/mqueue",
                                               "/dev/shm",     "/etc/hosts",     "/etc/resolv.conf",
                                               "/etc/hostname"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(defaults); i++)
                ok(mount_at(defaults[i]) != NULL, defaults[i]);
        ok(in_array(json_object_get(mount_at("/sys"), "options"), "ro"), "/sys read-only");
        ok(in_array(json_object_get(mount_at("/sys/fs/cgroup"), "options"), "ro"),
           "cgroup read-only");
        ok(in_array(json_object_get(mount_at("/dev/shm"), "options"), "size=65536k"),
           "/dev/shm 64m");
        is_str(json_string_value(json_object_get(mount_at("/etc/hosts"), "source")), "/run/x/hosts",
               "/etc/hosts from the caller");
        /* parents before children */
        size_t i, dev = 0, shm = 0;
        json_t *m;
        json_array_foreach(at("mounts"), i, m)
        {
                const char *d = json_string_value(json_object_get(m, "destination"));
                if (strcmp(d, "/dev") == 0)
                        dev = i;
                if (strcmp(d, "/dev/shm") == 0)
                        shm = i;
        }
        ok(dev < shm, "/dev before /dev/shm");
        is_int(json_array_size(at("linux.maskedPaths")), 12, "maskedPaths");
        ok(in_array(at("linux.maskedPaths"), "/proc/kcore"), "…/proc/kcore masked");
        ok(in_array(at("linux.readonlyPaths"), "/proc/sys"), "/proc/sys read-only");

        char *src = berth_xasprintf("%s/newdir", rootfs);
        char *line = berth_xasprintf("-v %s:/a:ro,rshared -v named:/n:nocopy --mount "
                                     "type=bind,src=/tmp,dst=/b,bind-nonrecursive "
                                     "--mount type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=700 "
                                     "--tmpfs /run:exec,size=2m --shm-size 8m --read-only "
                                     "--init img x",
                                     src);
        ok(build(line) == 0, "user mounts");
        struct stat st;
        ok(stat(src, &st) == 0 && S_ISDIR(st.st_mode), "-v created the missing host dir");
        char *want = berth_xasprintf("{\"destination\":\"/a\",\"type\":\"bind\",\"source\":"
                                     "\"%s\",\"options\":[\"rbind\",\"rshared\",\"ro\"]}",
                                     src);
        is_str(dump(mount_at("/a")), want, "-v bind: rbind, propagation, ro");
        free(want);
        is_str(json_string_value(json_object_get(mount_at("/n"), "source")), "/vols/named-nocopy",
               "named volume with nocopy through the callback");
        is_str(dump(json_object_get(mount_at("/b"), "options")), "[\"bind\",\"rprivate\"]",
               "--mount bind-nonrecursive");
        is_str(dump(json_object_get(mount_at("/t"), "options")),
               "[\"nosuid\",\"nodev\",\"noexec\",\"size=1048576\",\"mode=700\"]",
               "--mount tmpfs size and mode");
        is_str(dump(json_object_get(mount_at("/run"), "options")),
               "[\"nosuid\",\"nodev\",\"noexec\",\"exec\",\"size=2m\"]",
               "--tmpfs options after the defaults (later wins)");
        ok(in_array(json_object_get(mount_at("/dev/shm"), "options"), "size=8192k"), "--shm-size");
        ok(json_is_true(at("root.readonly")), "--read-only");
        is_str(dump(mount_at("/sbin/berth-init")),
               "{\"destination\":\"/sbin/berth-init\",\"type\":\"bind\",\"source\":"
               "\"/usr/libexec/berth/init\",\"options\":[\"bind\",\"ro\"]}",
               "--init binary bind-mounted read-only");
        is_str(dump(at("process.args")), "[\"/sbin/berth-init\",\"--\",\"x\"]",
               "--init prepended to args");
        free(line);
        free(src);

        ok(build("--ipc host img x") == 0, "--ipc host");
        is_str(json_string_value(json_object_get(mount_at("/dev/shm"), "source")), "/dev/shm",
               "host /dev/shm bound");
        ok(build("--ipc container:db img x") == 0, "--ipc container:db");
        is_str(json_string_value(json_object_get(mount_at("/dev/shm"), "source")),
               "/proc/4242/root/dev/shm", "the other container's /dev/shm");
        ok(build("--ipc none img x") == 0 && mount_at("/dev/shm") == NULL, "--ipc none: no shm");
        ok(build("--privileged img x") == 0, "privileged");
        ok(!in_array(json_object_get(mount_at("/sys"), "options"), "ro"), "privileged: /sys rw");
        ok(at("linux.maskedPaths") == NULL && at("linux.seccomp") == NULL,
           "privileged: no masks, no seccomp");
        ok(build("--security-opt systempaths=unconfined img x") == 0 &&
                   at("linux.maskedPaths") == NULL,
           "systempaths=unconfined: no masks");

        fails("--mount type=bind,src=/nonexistent/x,dst=/x img x",
              "bind source path does not exist: /nonexistent/x");
        ok(build_with("-v vol:/x img x", NULL, false) < 0 &&
                   strstr(last_error, "volumes are not available"),
           "no volume callback: named volume is an error");
        ok(build_with("--init img x", NULL, false) < 0 && strstr(last_error, "--init"),
           "no init binary: --init is an error");
}

static void test_devices(void)
{
        ok(build("img x") == 0, "devices");
        is_int(json_array_size(at("linux.devices")), 6, "the six standard nodes");
        is_str(dump(at("linux.resources.devices.0")), "{\"allow\":false,\"access\":\"rwm\"}",
               "deny all first");
        is_str(dump(at("linux.resources.devices.3")),
               "{\"allow\":true,\"access\":\"rwm\",\"type\":\"c\",\"major\":1,\"minor\":3}",
               "then /dev/null allowed");
        ok(build("--device /dev/null:/dev/mynull:r img x") == 0, "--device");
        json_t *devs = at("linux.devices");
        json_t *last = json_array_get(devs, json_array_size(devs) - 1);
        is_str(json_string_value(json_object_get(last, "path")), "/dev/mynull", "device path");
        is_int(json_integer_value(json_object_get(last, "major")), 1, "device major");
        json_t *rules = at("linux.resources.devices");
        is_str(dump(json_array_get(rules, json_array_size(rules) - 1)),
               "{\"allow\":true,\"access\":\"r\",\"type\":\"c\",\"major\":1,\"minor\":3}",
               "device rule with its permissions");
        fails("--device /nonexistent/dev img x", "error gathering device information");
        fails("--device /etc/passwd img x", "not a device node");
        ok(build("--privileged img x") == 0, "privileged devices");
        is_str(dump(at("linux.resources.devices")), "[{\"allow\":true,\"access\":\"rwm\"}]",
               "privileged: allow all");
}

static void test_namespaces_resources(void)
{
        ok(build("img x") == 0, "default namespaces");
        ok(has_ns("mount", NULL) && has_ns("network", NULL) && has_ns("ipc", NULL) &&
                   has_ns("pid", NULL) && has_ns("uts", NULL) && !has_ns("user", NULL),
           "mount, network, ipc, pid, uts; no user");
        ok(at("linux.resources.memory") == NULL && at("linux.resources.pids") == NULL,
           "no limits by default");
        ok(build("--network host --pid host --ipc host --uts host img x") == 0, "host modes");
        ok(!has_ns("network", NULL) && !has_ns("pid", NULL) && !has_ns("ipc", NULL) &&
                   !has_ns("uts", NULL) && at("hostname") == NULL,
           "host: no namespaces, no hostname");
        ok(build("--network container:db --pid container:db img x") == 0, "container modes");
        ok(has_ns("network", "/proc/4242/ns/net") && has_ns("pid", "/proc/4242/ns/pid"),
           "join the other container's namespaces");
        fails("--network container:nope img x", "no such container: nope");
        ok(build_with("--network container:db img x", NULL, false) < 0 &&
                   strstr(last_error, "can't be joined"),
           "no pid callback: error");

        ok(build("-m 64m --memory-reservation 32m --memory-swap 128m --oom-kill-disable "
                 "--cpus 1.5 -c 512 --cpuset-cpus 0 --cpuset-mems 0 --pids-limit 99 "
                 "--sysctl net.core.somaxconn=1024 img x") == 0,
           "resources");
        is_str(dump(at("linux.resources.memory")),
               "{\"limit\":67108864,\"reservation\":33554432,\"swap\":134217728,"
               "\"disableOOMKiller\":true}",
               "memory");
        is_str(dump(at("linux.resources.cpu")),
               "{\"shares\":512,\"period\":100000,\"quota\":150000,\"cpus\":\"0\",\"mems\":"
               "\"0\"}",
               "cpu: --cpus as quota/period");
        is_int(json_integer_value(at("linux.resources.pids.limit")), 99, "pids");
        is_str(dump(at("linux.sysctl")), "{\"net.core.somaxconn\":\"1024\"}", "sysctl");
        ok(build("--cpu-period 50000 --cpu-quota 20000 img x") == 0, "period/quota");
        is_str(dump(at("linux.resources.cpu")), "{\"period\":50000,\"quota\":20000}",
               "explicit period/quota");
        ok(build("-m 64m --memory-swap -1 img x") == 0, "unlimited swap");
        is_int(json_integer_value(at("linux.resources.memory.swap")), -1, "swap -1");
}

static void test_rootless(void)
{
        rootless = true;
        ok(build("--network host --oom-score-adj -1000 -m 64m --ulimit nproc=-1 img x") == 0,
           "rootless spec");
        rootless = false;
        ok(has_ns("user", NULL), "a user namespace");
        is_str(dump(at("linux.uidMappings")), "[{\"containerID\":0,\"hostID\":1000,\"size\":1}]",
               "uid mappings");
        is_str(dump(mount_at("/sys")),
               "{\"destination\":\"/sys\",\"type\":\"bind\",\"source\":\"/sys\",\"options\":"
               "[\"rbind\",\"nosuid\",\"noexec\",\"nodev\",\"ro\"]}",
               "no netns of its own: /sys bound from the host");
        ok(!in_array(json_object_get(mount_at("/dev/pts"), "options"), "gid=5"),
           "gid 5 unmapped: devpts without gid=5");
        ok(at("process.oomScoreAdj") == NULL, "no oomScoreAdj below our own");
        is_str(dump(at("process.user.additionalGids")), "[]",
               "rootless: not the primary group as a supplementary one (runc refuses any)");
        struct rlimit rl;
        getrlimit(RLIMIT_NPROC, &rl);
        if (rl.rlim_max != RLIM_INFINITY)
                is_int(json_integer_value(at("process.rlimits.0.hard")), (long long) rl.rlim_max,
                       "rlimits clamped to our own hard limit");
        else
                tap_skip("rlimits clamped to our own hard limit", "our NPROC is unlimited");
        struct statfs sf;
        if (statfs("/sys/fs/cgroup", &sf) == 0 && sf.f_type != CGROUP2_SUPER_MAGIC) {
                ok(at("linux.resources") == NULL && at("linux.cgroupsPath") == NULL,
                   "cgroup v1: no resources, no cgroupsPath");
                is_str(json_string_value(json_object_get(mount_at("/sys/fs/cgroup"), "type")),
                       "bind", "cgroup v1: the host's hierarchy bound read-only");
        } else {
                ok(at("linux.resources.memory.limit") != NULL, "cgroup v2: limits kept");
        }
}

static json_t *rule_for(json_t *sc, const char *name, const char *action)
{
        size_t i;
        json_t *r;
        json_array_foreach(json_object_get(sc, "syscalls"), i,
                           r) if (in_array(json_object_get(r, "names"), name) &&
                                  strcmp(json_string_value(json_object_get(r, "action")), action) ==
                                          0) return r;
        return NULL;
}

static void test_seccomp(void)
{
        berth_error_t err = NULL;
        json_t *caps = NULL, *sc = NULL;
        ok(eng_caps_resolve(NULL, NULL, false, &caps, &err) == 0, "default caps");
        ok(eng_seccomp_default(caps, &sc, &err) == 0, "default seccomp");
        is_str(json_string_value(json_object_get(sc, "defaultAction")), "SCMP_ACT_ERRNO",
               "default action ERRNO");
        is_int(json_integer_value(json_object_get(sc, "defaultErrnoRet")), 1, "…EPERM");
        ok(in_array(json_object_get(sc, "architectures"), "SCMP_ARCH_X86_64") &&
                   in_array(json_object_get(sc, "architectures"), "SCMP_ARCH_X86"),
           "x86_64 and x86");
        static const char *const allowed[] = {"read",  "write",      "openat",     "execve",
                                              "futex", "socketcall", "epoll_wait", "rt_sigreturn"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(allowed); i++)
                ok(rule_for(sc, allowed[i], "SCMP_ACT_ALLOW") != NULL, allowed[i]);
        static const char *const denied[] = {"mount",      "umount2",       "keyctl",     "add_key",
                                             "bpf",        "unshare",       "setns",      "ptrace",
                                             "reboot",     "kexec_load",    "acct",       "swapon",
                                             "pivot_root", "clock_settime", "init_module"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(denied); i++) {
                char name[64];
                snprintf(name, sizeof(name), "%s denied", denied[i]);
                ok(rule_for(sc, denied[i], "SCMP_ACT_ALLOW") == NULL, name);
        }
        json_t *clone = rule_for(sc, "clone", "SCMP_ACT_ALLOW");
        is_str(dump(json_object_get(clone, "args")),
               "[{\"index\":0,\"value\":2114060288,\"valueTwo\":0,\"op\":"
               "\"SCMP_CMP_MASKED_EQ\"}]",
               "clone only without namespace flags");
        is_int(json_integer_value(
                       json_object_get(rule_for(sc, "clone3", "SCMP_ACT_ERRNO"), "errnoRet")),
               38, "clone3 → ENOSYS");
        ok(json_object_get(rule_for(sc, "personality", "SCMP_ACT_ALLOW"), "args") != NULL,
           "personality only with arguments");
        json_decref(sc);
        json_decref(caps);

        json_t *add = json_pack("[s,s,s]", "CAP_SYS_ADMIN", "SYS_PTRACE", "sys_time");
        ok(eng_caps_resolve(add, NULL, false, &caps, &err) == 0, "caps + SYS_ADMIN …");
        ok(eng_seccomp_default(caps, &sc, &err) == 0, "seccomp with added caps");
        ok(rule_for(sc, "mount", "SCMP_ACT_ALLOW") && rule_for(sc, "unshare", "SCMP_ACT_ALLOW") &&
                   rule_for(sc, "ptrace", "SCMP_ACT_ALLOW") &&
                   rule_for(sc, "clock_settime", "SCMP_ACT_ALLOW"),
           "CAP_SYS_ADMIN/PTRACE/TIME re-allow their calls");
        ok(rule_for(sc, "keyctl", "SCMP_ACT_ALLOW") == NULL, "keyctl stays denied");
        ok(rule_for(sc, "clone3", "SCMP_ACT_ERRNO") == NULL &&
                   json_object_get(rule_for(sc, "clone3", "SCMP_ACT_ALLOW"), "args") == NULL,
           "SYS_ADMIN: clone3 allowed outright");
        json_decref(sc);
        json_decref(caps);
        json_decref(add);

        json_t *prof = json_loads(
                "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"archMap\":[{\"architecture\":"
                "\"SCMP_ARCH_X86_64\",\"subArchitectures\":[\"SCMP_ARCH_X86\"]},"
                "{\"architecture\":\"SCMP_ARCH_AARCH64\",\"subArchitectures\":[]}],"
                "\"syscalls\":[{\"names\":[\"read\"],\"action\":\"SCMP_ACT_ALLOW\"},"
                "{\"names\":[\"mount\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":{\"caps\":"
                "[\"CAP_SYS_ADMIN\"]}},"
                "{\"names\":[\"arm_only\"],\"action\":\"SCMP_ACT_ALLOW\",\"includes\":"
                "{\"arches\":[\"arm64\"]}},"
                "{\"names\":[\"x\"],\"action\":\"SCMP_ACT_ALLOW\",\"excludes\":{\"caps\":"
                "[\"CAP_CHOWN\"]}},"
                "{\"name\":\"old\",\"action\":\"SCMP_ACT_ALLOW\"}]}",
                0, NULL);
        ok(eng_caps_resolve(NULL, NULL, false, &caps, &err) == 0, "default caps again");
        ok(eng_seccomp_from_docker(prof, caps, &sc, &err) == 0, "Docker-format profile");
        is_str(dump(sc),
               "{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"architectures\":[\"SCMP_ARCH_X86_64\","
               "\"SCMP_ARCH_X86\"],\"syscalls\":[{\"action\":\"SCMP_ACT_ALLOW\",\"names\":"
               "[\"read\"]},{\"action\":\"SCMP_ACT_ALLOW\",\"names\":[\"old\"]}]}",
               "archMap, includes/excludes caps and arches, the old name field");
        json_decref(sc);
        json_decref(prof);
        prof = json_pack("{s:[]}", "syscalls");
        ok(eng_seccomp_from_docker(prof, caps, &sc, &err) < 0 && err->status == 125,
           "a profile without defaultAction is an error");
        berth_error_release(&err);
        json_decref(prof);
        json_decref(caps);
}

static void test_caps(void)
{
        berth_error_t err = NULL;
        json_t *caps = NULL;
        json_t *add = json_pack("[s]", "NET_ADMIN"), *drop = json_pack("[s]", "ALL");
        ok(eng_caps_resolve(add, drop, false, &caps, &err) == 0, "drop ALL + add NET_ADMIN");
        is_str(dump(caps), "[\"CAP_NET_ADMIN\"]", "only NET_ADMIN");
        json_decref(caps);
        json_decref(add);
        json_decref(drop);
        add = json_pack("[s]", "ALL");
        drop = json_pack("[s]", "cap_chown");
        ok(eng_caps_resolve(add, drop, false, &caps, &err) == 0, "add ALL, drop CHOWN");
        ok(json_array_size(caps) > 20 && !eng_caps_has(caps, "CAP_CHOWN") &&
                   eng_caps_has(caps, "CAP_SYS_ADMIN"),
           "everything but CHOWN");
        json_decref(caps);
        json_decref(add);
        json_decref(drop);
        drop = json_pack("[s]", "BOGUS");
        ok(eng_caps_resolve(NULL, drop, false, &caps, &err) < 0 && err->status == 125,
           "unknown capability");
        berth_error_release(&err);
        json_decref(drop);
        is_str(eng_cap_normalize("sys_admin"), "CAP_SYS_ADMIN", "normalize lower case");
        is_str(eng_cap_normalize("Cap_Bpf"), "CAP_BPF", "normalize mixed");
        ok(eng_cap_normalize("CAP_NOPE") == NULL, "normalize unknown");
}

static bool has_opt(json_t *m, const char *opt)
{
        return m && in_array(json_object_get(m, "options"), opt);
}

static void test_parity_flags(void)
{
        ok(build("--volumes-from data img x") == 0, "--volumes-from");
        json_t *a = mount_at("/a"), *v = mount_at("/v");
        ok(a && strcmp(json_string_value(json_object_get(a, "source")), "/srv/a") == 0 &&
                   !has_opt(a, "ro") && has_opt(a, "rslave"),
           "its bind, read-write, its propagation");
        ok(v && has_opt(v, "ro"), "its read-only volume stays read-only");
        ok(mount_at("/t") == NULL, "its tmpfs is not shared");
        ok(build("--volumes-from data:ro img x") == 0 && has_opt(mount_at("/a"), "ro"),
           "--volumes-from data:ro: read-only");
        ok(build("--volumes-from data -v /h:/a img x") == 0 &&
                   strcmp(json_string_value(json_object_get(mount_at("/a"), "source")), "/h") == 0,
           "a bind of the container's own wins at the same destination");
        fails("--volumes-from data:bogus img x", "invalid mode: bogus");
        fails("--volumes-from data:ro,rw img x", "invalid mode: ro,rw");
        fails("--volumes-from nope img x", "No such container: nope");
        fails("--volumes-from= img x", "volumes-from specification cannot be an empty string");
        ok(build_with("--volumes-from data img x", NULL, false) < 0 &&
                   strstr(last_error, "can't be looked up"),
           "no mounts callback: error");

        ok(build("--domainname example.org --annotation a=1 --annotation b img x") == 0,
           "domainname, annotations");
        is_str(json_string_value(at("domainname")), "example.org", "spec domainname");
        is_str(dump(at("annotations")), "{\"a\":\"1\",\"b\":\"\"}", "spec annotations");
        ok(build("--uts host --domainname example.org img x") == 0 && at("domainname") == NULL,
           "--uts host: no domainname (it would be the host's)");

        ok(build("--cgroupns private img x") == 0 && has_ns("cgroup", NULL), "cgroupns private");
        ok(build("--cgroupns host img x") == 0 && !has_ns("cgroup", NULL), "cgroupns host");
        ok(build("img x") == 0 && has_ns("cgroup", NULL) == spec_cgroup2_unified(),
           "default: private on cgroup v2, host on v1");
}

/* Block IO: the host probe on fake cgroup trees, Docker's discards, and the OCI shape. */
static void test_blockio(void)
{
        char tmpl[] = "/tmp/berth-spec-blkio-XXXXXX";
        char *root = mkdtemp(tmpl);
        berth_error_t err = NULL;
        struct spec_blkio_support sup;
        char *p = berth_xasprintf("%s/blkio", root);
        mkdir(p, 0755);
        free(p);
        p = berth_xasprintf("%s/blkio/blkio.throttle.read_bps_device", root);
        berth_write_file_atomic(p, "", 0, 0644, &err);
        free(p);
        spec_blkio_probe(root, false, &sup);
        ok(!sup.weight && !sup.weight_device && sup.throttle[0] && !sup.throttle[1],
           "v1: only what blkio/ has (read bps here)");
        p = berth_xasprintf("%s/blkio/blkio.bfq.weight", root);
        berth_write_file_atomic(p, "", 0, 0644, &err);
        free(p);
        spec_blkio_probe(root, false, &sup);
        ok(sup.weight, "v1: BFQ's blkio.bfq.weight counts as weight");
        p = berth_xasprintf("%s/cgroup.controllers", root);
        berth_write_file_atomic(p, "cpuset cpu memory pids\n", 22, 0644, &err);
        spec_blkio_probe(root, true, &sup);
        ok(!sup.weight && !sup.throttle[3], "v2 without io: nothing");
        berth_write_file_atomic(p, "cpuset cpu io memory pids\n", 25, 0644, &err);
        free(p);
        spec_blkio_probe(root, true, &sup);
        ok(sup.weight && sup.weight_device && sup.throttle[0] && sup.throttle[3],
           "v2 with io: everything");
        char *cmd = berth_xasprintf("rm -rf '%s'", root);
        if (system(cmd) != 0)
                printf("# could not remove %s\n", root);
        free(cmd);

        struct spec_blkio_support all = {true, true, {true, true, true, true}};
        json_t *hc = json_pack("{s:i, s:[{s:s, s:i}], s:[{s:s, s:I}], s:[], s:[], s:[{s:s, s:i}]}",
                               "BlkioWeight", 500, "BlkioWeightDevice", "Path", "/dev/null",
                               "Weight", 200, "BlkioDeviceReadBps", "Path", "/dev/null", "Rate",
                               (json_int_t) 1048576, "BlkioDeviceWriteBps", "BlkioDeviceReadIOps",
                               "BlkioDeviceWriteIOps", "Path", "/dev/null", "Rate", 50);
        json_t *res = json_object();
        ok(spec_build_blockio(hc, &all, res, NULL, &err) == 0, "blockIO built");
        is_str(dump(json_object_get(res, "blockIO")),
               "{\"weight\":500,\"weightDevice\":[{\"major\":1,\"minor\":3,\"weight\":200}],"
               "\"throttleReadBpsDevice\":[{\"major\":1,\"minor\":3,\"rate\":1048576}],"
               "\"throttleWriteIOPSDevice\":[{\"major\":1,\"minor\":3,\"rate\":50}]}",
               "weight, devices by major:minor of the path");

        struct spec_blkio_support none = {0};
        json_object_clear(res);
        json_t *warnings = json_array();
        ok(spec_build_blockio(hc, &none, res, warnings, &err) == 0 &&
                   json_object_get(res, "blockIO") == NULL,
           "unsupported: nothing in the spec");
        ok(json_array_size(warnings) == 4 &&
                   strstr(json_string_value(json_array_get(warnings, 0)), "Weight discarded"),
           "…a warning for the client per limit discarded, in dockerd's words");
        json_decref(warnings);
        ok(json_integer_value(json_object_get(hc, "BlkioWeight")) == 0 &&
                   json_array_size(json_object_get(hc, "BlkioWeightDevice")) == 0 &&
                   json_array_size(json_object_get(hc, "BlkioDeviceReadBps")) == 0 &&
                   json_array_size(json_object_get(hc, "BlkioDeviceWriteIOps")) == 0,
           "…and dropped from HostConfig, as Docker's daemon does");

        json_object_set_new(hc, "BlkioWeight", json_integer(5));
        ok(spec_build_blockio(hc, &all, res, NULL, &err) < 0 &&
                   strstr(berth_error_msg(err), "Range of blkio weight is from 10 to 1000") &&
                   err->status == 125,
           "weight out of range where supported: Docker's error");
        berth_error_release(&err);
        json_object_set_new(hc, "BlkioWeight", json_integer(0));
        json_object_set_new(hc, "BlkioDeviceReadBps",
                            json_pack("[{s:s, s:i}]", "Path", "/dev/berth-nosuch", "Rate", 1));
        ok(spec_build_blockio(hc, &all, res, NULL, &err) < 0 &&
                   strstr(berth_error_msg(err), "stat /dev/berth-nosuch"),
           "a missing device: stat error");
        berth_error_release(&err);
        json_decref(res);
        json_decref(hc);
}

int main(void)
{
        if (mkdtemp(rootfs) == NULL)
                return 1;
        char *etc = berth_xasprintf("%s/etc", rootfs);
        berth_error_t err = NULL;
        if (berth_mkdir_p(etc, 0755, &err) < 0)
                return 1;
        free(etc);
        write_file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"
                                 "app:x:1000:1000::/home/app:/bin/sh\n");
        write_file("etc/group", "root:x:0:\napp:x:1000:\nstaff:x:50:app\naudio:x:29:\n");
        voldir = berth_xstrdup("/vols"); /* the callback only names paths, never creates them */

        test_process();
        test_user();
        test_image_merge();
        test_mounts();
        test_devices();
        test_namespaces_resources();
        test_seccomp();
        test_caps();
        test_rootless();
        test_parity_flags();
        test_blockio();

        json_decref(S);
        free(last_error);
        free(voldir);
        char *cmd = berth_xasprintf("rm -rf '%s'", rootfs);
        if (system(cmd) != 0)
                printf("# could not remove %s\n", rootfs);
        free(cmd);
        return tap_done();
}
