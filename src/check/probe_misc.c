/* probe_misc.c — overlayfs (a real mount in a private mount namespace, as
 * root and inside a user namespace), seccomp (a filter that must bite) and
 * /dev/net/tun. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "check/check.h"
#include "common/paths.h"
#include "common/util.h"

/* In the child: private mount namespace, a tmpfs on the scratch dir, then an
 * overlay of lower+upper that must show a write landing in upper. */
static int overlay_mount(const char *dir, berth_error_t *err)
{
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return berth_fail(err, errno, "make / private");
        if (mount("tmpfs", dir, "tmpfs", 0, "size=1m") < 0)
                return berth_fail(err, errno, "mount tmpfs on `%s`", dir);
        static const char *const sub[] = {"lower", "upper", "work", "merged"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(sub); i++) {
                cleanup_free char *d = berth_path_join(dir, sub[i]);
                if (mkdir(d, 0755) < 0)
                        return berth_fail(err, errno, "mkdir `%s`", d);
        }
        cleanup_free char *merged = berth_path_join(dir, "merged");
        cleanup_free char *opts = berth_xasprintf(
                "lowerdir=%s/lower,upperdir=%s/upper,workdir=%s/work", dir, dir, dir);
        if (mount("overlay", merged, "overlay", 0, opts) < 0)
                return berth_fail(err, errno, "mount overlay on `%s`", merged);
        cleanup_free char *f = berth_path_join(merged, "probe");
        cleanup_close int fd = open(f, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
                return berth_fail(err, errno, "create `%s` in the overlay", f);
        cleanup_free char *up = berth_path_join(dir, "upper/probe");
        if (access(up, F_OK) < 0)
                return berth_fail(err, errno, "a write into the overlay did not reach `%s`", up);
        return 0;
}

static int overlay_root(void *dir, berth_error_t *err)
{
        if (unshare(CLONE_NEWNS) < 0)
                return berth_fail(err, errno, "unshare mount namespace");
        return overlay_mount(dir, err);
}

static int overlay_userns(void *dir, berth_error_t *err)
{
        uid_t uid = geteuid();
        gid_t gid = getegid();
        if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
                return berth_fail(err, errno, "unshare user and mount namespaces");
        char map[64];
        int n = snprintf(map, sizeof(map), "0 %u 1\n", uid);
        if (berth_write_file("/proc/self/uid_map", map, (size_t) n, err) < 0)
                return -1;
        if (berth_write_file("/proc/self/setgroups", "deny", 4, err) < 0)
                return -1;
        n = snprintf(map, sizeof(map), "0 %u 1\n", gid);
        if (berth_write_file("/proc/self/gid_map", map, (size_t) n, err) < 0)
                return -1;
        return overlay_mount(dir, err);
}

static int overlay_in_child(const struct check_paths *p, int (*fn)(void *, berth_error_t *),
                            berth_error_t *err)
{
        cleanup_free char *dir = berth_xasprintf("%s/berth-check-XXXXXX", p->tmp);
        if (mkdtemp(dir) == NULL)
                return berth_fail(err, errno, "make a scratch dir under `%s`", p->tmp);
        int ret = check_in_child(fn, dir, err);
        rmdir(dir); /* the tmpfs and overlay died with the child's mount namespace */
        return ret;
}

void check_probe_overlay(struct check_report *r, const struct check_paths *p)
{
        json_t *facts = check_report_section(r, "overlayfs");
        if (!p->act) {
                check_report_add(r, "storage", "overlayfs", CHECK_NOTE, NULL, "not tried");
                return;
        }
        berth_error_t err = NULL;
        int ret = overlay_in_child(p, overlay_root, &err);
        json_object_set_new(facts, "usable", json_boolean(ret == 0));
        if (ret == 0)
                check_report_add(
                        r, "storage", "overlayfs", CHECK_OK, NULL,
                        "mounted an overlay in a private mount namespace and wrote through it");
        else
                check_report_add(
                        r, "storage", "overlayfs", CHECK_MISSING,
                        "the overlay storage driver (berth falls back to vfs: full copies)", "%s",
                        berth_error_msg(err));
        berth_error_release(&err);

        ret = overlay_in_child(p, overlay_userns, &err);
        json_object_set_new(facts, "in_user_namespace", json_boolean(ret == 0));
        if (ret == 0)
                check_report_add(r, "storage", "overlay-userns", CHECK_OK, NULL,
                                 "mounted an overlay inside a user namespace (rootless storage)");
        else
                check_report_add(r, "storage", "overlay-userns", CHECK_NOTE, NULL,
                                 "no overlay inside a user namespace (%s): rootless containers "
                                 "use the vfs driver",
                                 berth_error_msg(err));
        berth_error_release(&err);
}

#define SECCOMP_PROBE_ERRNO 1234 /* no real errno has this value, so a hit is unmistakable */

static int seccomp_bite(void *unused, berth_error_t *err)
{
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (ctx == NULL)
                return berth_fail(err, ENOMEM, "seccomp_init");
        int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(SECCOMP_PROBE_ERRNO), SCMP_SYS(getppid), 0);
        if (rc == 0)
                rc = seccomp_load(ctx);
        seccomp_release(ctx);
        if (rc < 0)
                return berth_fail(err, -rc, "load a seccomp filter");
        long ret = syscall(SYS_getppid);
        if (ret != -1 || errno != SECCOMP_PROBE_ERRNO)
                return berth_fail(
                        err, 0, "a loaded seccomp filter did not deny getppid (returned %ld)", ret);
        return 0;
}

void check_probe_seccomp(struct check_report *r, const struct check_paths *p)
{
        json_t *facts = check_report_section(r, "seccomp");
        const struct scmp_version *v = seccomp_version();
        char ver[32];
        snprintf(ver, sizeof(ver), "%u.%u.%u", v->major, v->minor, v->micro);
        unsigned api = seccomp_api_get();
        cleanup_free char *apath = berth_xasprintf("%s/sys/kernel/seccomp/actions_avail", p->proc);
        cleanup_free char *actions = NULL;
        if (berth_read_file(apath, &actions, NULL, NULL) == 0)
                actions[strcspn(actions, "\n")] = '\0';
        json_object_set_new(facts, "libseccomp", json_string(ver));
        json_object_set_new(facts, "api_level", json_integer(api));
        json_object_set_new(facts, "actions", json_string(actions ? actions : ""));
        if (!p->act) {
                check_report_add(r, "security", "seccomp", CHECK_NOTE, NULL, "not tried");
                return;
        }
        berth_error_t err = NULL;
        int ret = check_in_child(seccomp_bite, NULL, &err);
        json_object_set_new(facts, "usable", json_boolean(ret == 0));
        if (ret == 0)
                check_report_add(r, "security", "seccomp", CHECK_OK, NULL,
                                 "a loaded filter denied a syscall with its errno (libseccomp %s, "
                                 "API level %u%s)",
                                 ver, api, api >= 6 ? ", user notification available" : "");
        else
                check_report_add(r, "security", "seccomp", CHECK_MISSING,
                                 "seccomp profiles (--security-opt seccomp=..., linux.seccomp)",
                                 "%s", berth_error_msg(err));
        berth_error_release(&err);
}

void check_probe_net(struct check_report *r, const struct check_paths *p)
{
        json_t *facts = check_report_section(r, "network");
        int fd = open(p->dev_tun, O_RDWR | O_CLOEXEC);
        json_object_set_new(facts, "tun", json_boolean(fd >= 0));
        if (fd >= 0) {
                close(fd);
                check_report_add(r, "network", "tun", CHECK_OK, NULL, "`%s` opens", p->dev_tun);
        } else {
                check_report_add(r, "network", "tun", CHECK_MISSING,
                                 "microVM networking (berth-vmm --net tap=...)", "open `%s`: %s",
                                 p->dev_tun, strerror(errno));
        }
}
