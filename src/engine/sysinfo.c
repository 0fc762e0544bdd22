/* sysinfo.c — the host as `berth info` and GET /info describe it (see sysinfo.h). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/units.h"
#include "common/util.h"
#include "engine/container.h"
#include "engine/rootfs.h"
#include "engine/sysinfo.h"
#include "image/image.h"

/* "inside outside count" lines as [{ContainerID, HostID, Size}] */
static json_t *idmap_json(const char *text)
{
        json_t *a = json_array();
        for (const char *p = text; p && *p;) {
                unsigned long in, out, n;
                if (sscanf(p, " %lu %lu %lu", &in, &out, &n) == 3)
                        json_array_append_new(
                                a, json_pack("{s:I, s:I, s:I}", "ContainerID", (json_int_t) in,
                                             "HostID", (json_int_t) out, "Size", (json_int_t) n));
                p = strchr(p, '\n');
                p = p ? p + 1 : NULL;
        }
        return a;
}

/* A field of /etc/os-release (quotes removed), or def. */
static void os_release(const char *key, const char *def, char *buf, size_t len)
{
        snprintf(buf, len, "%s", def);
        cleanup_free char *text = NULL;
        if (berth_read_file("/etc/os-release", &text, NULL, NULL) < 0)
                return;
        size_t kl = strlen(key);
        for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                if (strncmp(l, key, kl) != 0 || l[kl] != '=')
                        continue;
                char *p = l + kl + 1;
                if (*p == '"')
                        p++;
                size_t n = strcspn(p, "\"\n");
                snprintf(buf, len, "%.*s", (int) n, p);
                return;
        }
}

json_t *eng_info_doc(const struct berth_paths *p, const struct eng_usage *u)
{
        struct utsname un;
        uname(&un);
        char os[128], host[256] = "";
        os_release("PRETTY_NAME", "Linux", os, sizeof(os));
        gethostname(host, sizeof(host) - 1);
        bool v2_only = access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0;
        bool hybrid = !v2_only && access("/sys/fs/cgroup/unified/cgroup.controllers", F_OK) == 0;
        long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
        struct eng_ctx ectx = {.rootless = p->rootless};
        const char *driver = img_driver_name((enum img_driver) eng_storage_driver(&ectx));
        json_t *info = json_pack(
                "{s:i, s:i, s:i, s:i, s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, "
                "s:i, s:I, s:s, s:s, s:s, s:s}",
                "Containers", (json_int_t) u->containers, "ContainersRunning",
                (json_int_t) u->running, "ContainersPaused", (json_int_t) u->paused,
                "ContainersStopped", (json_int_t) u->stopped, "Images", (json_int_t) u->images,
                "Driver", driver, "LoggingDriver", "json-file", "CgroupDriver", "cgroupfs",
                "CgroupVersion", v2_only ? "2" : "1", "DefaultRuntime", "berth-oci",
                "KernelVersion", un.release, "OperatingSystem", os, "OSType", "linux",
                "Architecture", un.machine, "ServerVersion", BERTH_VERSION, "NCPU",
                (json_int_t) sysconf(_SC_NPROCESSORS_ONLN), "MemTotal", (json_int_t) pages * psize,
                "Name", host, "DockerRootDir", p->data_dir, "BerthRunDir", p->run_dir,
                "CgroupLayout",
                v2_only  ? "unified"
                : hybrid ? "hybrid"
                         : "legacy");
        /* Docker's SecurityOptions; rootless, Podman's idMappings of berth's namespace */
        json_t *secopts = json_pack("[s]", "name=seccomp,profile=builtin");
        if (p->rootless) {
                cleanup_free char *uidmap = NULL, *gidmap = NULL;
                json_array_append_new(secopts, json_string("name=rootless"));
                berth_error_t ignored = NULL;
                if (berth_read_file("/proc/self/uid_map", &uidmap, NULL, &ignored) < 0 ||
                    berth_read_file("/proc/self/gid_map", &gidmap, NULL, &ignored) < 0)
                        berth_error_release(&ignored);
                json_object_set_new(info, "IDMappings",
                                    json_pack("{s:o, s:o}", "UIDMap", idmap_json(uidmap), "GIDMap",
                                              idmap_json(gidmap)));
        }
        json_object_set_new(info, "SecurityOptions", secopts);
        return info;
}

static bool exists(const char *path)
{
        return access(path, F_OK) == 0;
}

static bool sysctl_on(const char *path)
{
        cleanup_free char *s = NULL;
        return berth_read_file(path, &s, NULL, NULL) == 0 && s[0] == '1';
}

/* dockerd's names for the filesystem under its root (DriverStatus "Backing Filesystem"). */
static const char *backing_fs(const char *dir)
{
        struct statfs sf;
        if (statfs(dir, &sf) < 0)
                return "<unknown>";
        switch ((unsigned long) sf.f_type) {
        case 0xEF53:
                return "extfs";
        case 0x58465342:
                return "xfs";
        case 0x9123683E:
                return "btrfs";
        case 0x01021994:
                return "tmpfs";
        case 0x794c7630:
                return "overlayfs";
        case 0x2FC12FC1:
                return "zfs";
        default:
                return "<unknown>";
        }
}

/* dockerd's engine ID is a key fingerprint, "ABCD:EFGH:…" (12 groups); berth's is derived
 * from the machine and the data directory, so it is stable across restarts. */
static void engine_id(const char *data_dir, char *buf, size_t len)
{
        cleanup_free char *mid = NULL;
        if (berth_read_file("/etc/machine-id", &mid, NULL, NULL) < 0)
                mid = berth_xstrdup("");
        cleanup_free char *seed = berth_xasprintf("%s\n%s", mid, data_dir);
        char digest[IMG_DIGEST_MAX];
        img_sha256_digest(seed, strlen(seed), digest);
        static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        const char *hex = img_digest_hex(digest);
        size_t o = 0;
        for (size_t i = 0; i < 48 && o + 2 < len; i++) {
                if (i && i % 4 == 0)
                        buf[o++] = ':';
                /* 5 bits from each pair of hex digits */
                unsigned v = (unsigned) strtoul((char[]){hex[i], hex[i + 1], 0}, NULL, 16);
                buf[o++] = b32[v & 31];
        }
        buf[o] = '\0';
}

static json_int_t count_dir(const char *path)
{
        cleanup_dir DIR *d = opendir(path);
        json_int_t n = 0;
        if (d == NULL)
                return 0;
        struct dirent *de;
        while ((de = readdir(d)) != NULL)
                n += de->d_name[0] != '.';
        return n;
}

static json_int_t threads(void)
{
        cleanup_free char *s = NULL;
        if (berth_read_file("/proc/self/status", &s, NULL, NULL) < 0)
                return 0;
        char *t = strstr(s, "\nThreads:");
        return t ? (json_int_t) strtoll(t + 9, NULL, 10) : 0;
}

static const char *env_or_empty(const char *a, const char *b)
{
        const char *v = getenv(a);
        if (v == NULL || *v == '\0')
                v = getenv(b);
        return v ? v : "";
}

json_t *eng_info_docker(const struct berth_paths *p, const struct eng_usage *u)
{
        json_t *info = eng_info_doc(p, u);
        bool v2 = exists("/sys/fs/cgroup/cgroup.controllers");
        bool overlay = strcmp(json_string_value(json_object_get(info, "Driver")), "overlay") == 0;
        if (overlay) /* dockerd's name for the same driver */
                json_object_set_new(info, "Driver", json_string("overlay2"));
        char id[64], osver[64];
        engine_id(p->data_dir, id, sizeof(id));
        os_release("VERSION_ID", "", osver, sizeof(osver));
        json_t *status = overlay ? json_pack("[[s,s],[s,s],[s,s],[s,s]]", "Backing Filesystem",
                                             backing_fs(p->data_dir), "Supports d_type", "true",
                                             "Native Overlay Diff", "true", "userxattr",
                                             p->rootless ? "true" : "false")
                                 : json_array();
        /* what the kernel's cgroups can limit, as dockerd probes it */
        bool mem = v2 || exists("/sys/fs/cgroup/memory/memory.limit_in_bytes");
        bool swap = v2 || exists("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes");
        bool cfs = v2 || exists("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
        char now[64];
        berth_rfc3339(berth_now_ns(), true, now, sizeof(now));
        json_t *extra = json_pack(
                "{s:s, s:o, s:{s:[s], s:[s,s,s], s:n, s:[s]}, s:b, s:b, s:b, s:b, s:b, s:b, s:b, "
                "s:b, s:b, s:b, s:b, s:b, s:b, s:b}",
                "ID", id, "DriverStatus", status, "Plugins", "Volume", "local", "Network", "bridge",
                "host", "null", "Authorization", "Log", "json-file", "MemoryLimit", mem,
                "SwapLimit", swap, "KernelMemory", !v2, "KernelMemoryTCP", !v2, "CpuCfsPeriod", cfs,
                "CpuCfsQuota", cfs, "CPUShares", true, "CPUSet", true, "PidsLimit", true,
                "IPv4Forwarding", sysctl_on("/proc/sys/net/ipv4/ip_forward"), "BridgeNfIptables",
                sysctl_on("/proc/sys/net/bridge/bridge-nf-call-iptables"), "BridgeNfIp6tables",
                sysctl_on("/proc/sys/net/bridge/bridge-nf-call-ip6tables"), "Debug", false,
                "OomKillDisable", !v2);
        json_object_update(info, extra);
        json_decref(extra);
        extra = json_pack("{s:I, s:I, s:s, s:i, s:s, s:s, s:s, s:n, s:s, s:s, s:s, s:[], s:b, "
                          "s:b, s:s, s:s}",
                          "NFd", count_dir("/proc/self/fd"), "NGoroutines", threads(), "SystemTime",
                          now, "NEventsListener", 0, "OSVersion", osver, "IndexServerAddress",
                          "https://index.docker.io/v1/", "InitBinary", "berth-init",
                          "GenericResources", "HttpProxy", env_or_empty("HTTP_PROXY", "http_proxy"),
                          "HttpsProxy", env_or_empty("HTTPS_PROXY", "https_proxy"), "NoProxy",
                          env_or_empty("NO_PROXY", "no_proxy"), "Labels", "ExperimentalBuild",
                          false, "LiveRestoreEnabled", false, "Isolation", "", "ProductLicense",
                          "");
        json_object_update(info, extra);
        json_decref(extra);
        json_object_set_new(info, "RegistryConfig",
                            json_pack("{s:[], s:[], s:[s], s:{s:{s:s, s:[], s:b, s:b}}, s:[]}",
                                      "AllowNondistributableArtifactsCIDRs",
                                      "AllowNondistributableArtifactsHostnames",
                                      "InsecureRegistryCIDRs", "127.0.0.0/8", "IndexConfigs",
                                      "docker.io", "Name", "docker.io", "Mirrors", "Secure", true,
                                      "Official", true, "Mirrors"));
        json_object_set_new(info, "Runtimes",
                            json_pack("{s:{s:s}}", "berth-oci", "path", "berth-oci"));
        json_object_set_new(info, "Swarm",
                            json_pack("{s:s, s:s, s:s, s:b, s:s, s:n}", "NodeID", "", "NodeAddr",
                                      "", "LocalNodeState", "inactive", "ControlAvailable", false,
                                      "Error", "", "RemoteManagers"));
        static const char *const commits[] = {"ContainerdCommit", "RuncCommit", "InitCommit"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(commits); i++)
                json_object_set_new(info, commits[i],
                                    json_pack("{s:s, s:s}", "ID", "", "Expected", ""));
        json_object_set_new(info, "Warnings", json_array());
        /* dockerd's name for berth's built-in profile, which is Docker's default */
        json_t *sec = json_pack("[s]", "name=seccomp,profile=default");
        if (p->rootless)
                json_array_append_new(sec, json_string("name=rootless"));
        if (v2)
                json_array_append_new(sec, json_string("name=cgroupns"));
        json_object_set_new(info, "SecurityOptions", sec);
        return info;
}
