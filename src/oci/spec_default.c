/* spec_default.c — the config.json `berth-oci spec` writes: the same shape
 * as runc's default (busybox-ready `sh`, a private pid/net/ipc/uts/mount
 * namespace set, the usual masked paths), and the rootless variant with a
 * user namespace mapping the caller to root. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "oci/oci.h"
#include "oci/spec.h"

static const char default_spec[] =
        "{\"ociVersion\":\"1.1.0\","
        "\"process\":{\"terminal\":true,\"user\":{\"uid\":0,\"gid\":0},\"args\":[\"sh\"],"
        "\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\","
        "\"TERM=xterm\"],\"cwd\":\"/\","
        "\"capabilities\":{"
        "\"bounding\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
        "\"effective\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
        "\"permitted\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"],"
        "\"ambient\":[\"CAP_AUDIT_WRITE\",\"CAP_KILL\",\"CAP_NET_BIND_SERVICE\"]},"
        "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"hard\":1024,\"soft\":1024}],"
        "\"noNewPrivileges\":true},"
        "\"root\":{\"path\":\"rootfs\",\"readonly\":true},"
        "\"hostname\":\"berth\","
        "\"mounts\":["
        "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
        "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
        "\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
        "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\","
        "\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\","
        "\"gid=5\"]},"
        "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
        "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
        "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\","
        "\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
        "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\","
        "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
        "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\","
        "\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}],"
        "\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
        "\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
        "{\"type\":\"uts\"},{\"type\":\"mount\"}],"
        "\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\","
        "\"/proc/latency_stats\",\"/proc/timer_list\",\"/proc/timer_stats\","
        "\"/proc/sched_debug\",\"/sys/firmware\",\"/proc/scsi\"],"
        "\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\","
        "\"/proc/sysrq-trigger\"]}}";

char *oci_spec_default_json(bool rootless, uid_t uid, gid_t gid)
{
        json_t *j = json_loads(default_spec, 0, NULL);
        if (rootless) {
                json_t *lx = json_object_get(j, "linux"), *ns = json_object_get(lx, "namespaces");
                json_t *mounts = json_object_get(j, "mounts"), *m;
                size_t i;
                /* no network ns: an unprivileged user could not configure it */
                json_array_remove(ns, 1);
                json_array_append_new(ns, json_pack("{s:s}", "type", "user"));
                json_object_set_new(lx, "uidMappings",
                                    json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID",
                                              (json_int_t) uid, "size", 1));
                json_object_set_new(lx, "gidMappings",
                                    json_pack("[{s:i, s:I, s:i}]", "containerID", 0, "hostID",
                                              (json_int_t) gid, "size", 1));
                json_object_del(lx, "resources");
                json_array_foreach(mounts, i, m)
                {
                        const char *d = json_string_value(json_object_get(m, "destination"));
                        if (strcmp(d, "/dev/pts") == 0) {
                                json_array_remove(json_object_get(m, "options"), 5); /* gid=5 */
                        } else if (strcmp(d, "/sys") == 0) {
                                json_object_set_new(m, "type", json_string("none"));
                                json_object_set_new(m, "source", json_string("/sys"));
                                json_object_set_new(m, "options",
                                                    json_pack("[s,s,s,s,s]", "rbind", "nosuid",
                                                              "noexec", "nodev", "ro"));
                        }
                }
                /* cgroup tree: the last mount; an unprivileged user has no cgroup of its own */
                json_array_remove(mounts, json_array_size(mounts) - 1);
        }
        char *text = json_dumps(j, JSON_INDENT(8));
        json_decref(j);
        return text;
}

int oci_spec_write(const char *bundle, bool rootless, berth_error_t *err)
{
        cleanup_free char *path = berth_xasprintf("%s/config.json", bundle ? bundle : ".");
        cleanup_free char *text = oci_spec_default_json(rootless, getuid(), getgid());
        struct stat sb;
        /* runc's words: it changes into the bundle first, then names config.json alone */
        if (bundle && stat(bundle, &sb) < 0) {
                char msg[128]; /* Go's error texts are lower case */
                snprintf(msg, sizeof(msg), "%s", strerror(errno));
                msg[0] = (char) tolower((unsigned char) msg[0]);
                return berth_fail_status(err, 1, 0, "chdir %s: %s", bundle, msg);
        }
        cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0)
                return errno == EEXIST ? berth_fail_status(err, 1, 0,
                                                           "File config.json exists. Remove it "
                                                           "first")
                                       : berth_fail(err, errno, "create `%s`", path);
        if (berth_write_all(fd, text, strlen(text)) < 0 || berth_write_all(fd, "\n", 1) < 0) {
                int e = errno;
                unlink(path); /* ours (O_EXCL): half a config would block the next try */
                return berth_fail(err, e, "write `%s`", path);
        }
        return 0;
}
