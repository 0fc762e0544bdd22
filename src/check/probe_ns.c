/* probe_ns.c — kernel identity, the 8 namespace kinds and user namespaces,
 * each tried with unshare(2) in a child. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check/check.h"
#include "common/util.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

void check_probe_kernel(struct check_report *r, const struct check_paths *p)
{
        struct utsname u;
        json_t *facts = check_report_section(r, "kernel");
        if (uname(&u) < 0) {
                check_report_add(r, "kernel", "release", CHECK_NOTE, NULL, "uname: %s",
                                 strerror(errno));
                return;
        }
        json_object_set_new(facts, "release", json_string(u.release));
        json_object_set_new(facts, "machine", json_string(u.machine));
        check_report_add(r, "kernel", "release", CHECK_OK, NULL, "%s %s %s", u.sysname, u.release,
                         u.machine);
}

struct ns_kind {
        const char *name; /* as in config.json and `berth check` */
        const char *proc; /* /proc/self/ns entry that changes after unshare */
        int flag;
        const char *disables; /* what is lost without it */
};

static const struct ns_kind ns_kinds[] = {
        {"mount", "mnt", CLONE_NEWNS,
         "containers (berth run, berth-oci): no private root filesystem"},
        {"uts", "uts", CLONE_NEWUTS, "container hostnames (--hostname)"},
        {"ipc", "ipc", CLONE_NEWIPC, "container IPC isolation (--ipc private)"},
        {"pid", "pid", CLONE_NEWPID, "containers (berth run, berth-oci): no private pid 1"},
        {"network", "net", CLONE_NEWNET, "container network isolation (--network none/bridge)"},
        {"user", "user", CLONE_NEWUSER, "rootless containers and --userns"},
        {"cgroup", "cgroup", CLONE_NEWCGROUP,
         "cgroup namespaces (containers see the host's cgroup tree)"},
        {"time", "time_for_children", CLONE_NEWTIME,
         "time namespaces (timeOffsets in config.json)"},
};

struct ns_arg {
        const struct ns_kind *kind;
        const char *proc;
        ino_t before;
};

static int ns_inode(const char *proc, const char *entry, ino_t *ino, berth_error_t *err)
{
        cleanup_free char *path = berth_xasprintf("%s/self/ns/%s", proc, entry);
        struct stat st;
        if (stat(path, &st) < 0) {
                berth_fail(err, errno, "stat `%s`", path);
                return -1;
        }
        *ino = st.st_ino;
        return 0;
}

/* In the child: unshare, then see that the namespace really is a new one. */
static int ns_try(void *varg, berth_error_t *err)
{
        struct ns_arg *a = varg;
        if (unshare(a->kind->flag) < 0)
                return berth_fail(err, errno, "unshare %s namespace", a->kind->name);
        if (a->kind->flag == CLONE_NEWPID) {
                /* The new pid namespace exists only once it has a first process:
                 * that process must see itself as pid 1. */
                pid_t pid = fork();
                if (pid < 0)
                        return berth_fail(err, errno, "fork into the new pid namespace");
                if (pid == 0)
                        _exit(getpid() == 1 ? 0 : 1);
                int status;
                if (waitpid(pid, &status, 0) < 0)
                        return berth_fail(err, errno, "wait for pid 1 of the new pid namespace");
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                        return berth_fail(err, 0,
                                          "the first process of a new pid namespace is not pid 1");
                return 0;
        }
        ino_t after;
        if (ns_inode(a->proc, a->kind->proc, &after, err) < 0)
                return -1;
        if (after == a->before)
                return berth_fail(err, 0,
                                  "unshare %s namespace succeeded but the namespace did not change",
                                  a->kind->name);
        return 0;
}

void check_probe_namespaces(struct check_report *r, const struct check_paths *p)
{
        json_t *facts = check_report_section(r, "namespaces");
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(ns_kinds); i++) {
                const struct ns_kind *k = &ns_kinds[i];
                berth_error_t err = NULL;
                struct ns_arg a = {.kind = k, .proc = p->proc};
                int ret = ns_inode(p->proc, k->proc, &a.before, &err);
                if (ret == 0 && p->act)
                        ret = check_in_child(ns_try, &a, &err);
                json_object_set_new(facts, k->name, json_boolean(ret == 0));
                if (ret == 0)
                        check_report_add(r, "namespaces", k->name, CHECK_OK, NULL, "%s",
                                         p->act ? "unshared in a child" : "present (not tried)");
                else
                        check_report_add(r, "namespaces", k->name, CHECK_MISSING, k->disables, "%s",
                                         berth_error_msg(err));
                berth_error_release(&err);
        }
}

static long read_long(const char *path, long dflt)
{
        cleanup_free char *s = NULL;
        if (berth_read_file(path, &s, NULL, NULL) < 0)
                return dflt;
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        return errno || end == s ? dflt : v;
}

/* In the child: become an ordinary user, then make a user namespace and map
 * ourselves in it, as a rootless container runtime does. */
static int userns_unprivileged(void *varg, berth_error_t *err)
{
        const uid_t nobody = 65534;
        if (geteuid() == 0) {
                if (setgroups(0, NULL) < 0)
                        return berth_fail(err, errno, "setgroups");
                if (setresgid(nobody, nobody, nobody) < 0)
                        return berth_fail(err, errno, "setresgid %u", nobody);
                if (setresuid(nobody, nobody, nobody) < 0)
                        return berth_fail(err, errno, "setresuid %u", nobody);
                /* a uid change makes us non-dumpable, which hands /proc/self to root */
                if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) < 0)
                        return berth_fail(err, errno, "prctl PR_SET_DUMPABLE");
        }
        uid_t uid = geteuid();
        if (unshare(CLONE_NEWUSER) < 0)
                return berth_fail(err, errno, "unshare user namespace as uid %u", uid);
        char map[64];
        int n = snprintf(map, sizeof(map), "0 %u 1\n", uid);
        if (berth_write_file("/proc/self/uid_map", map, (size_t) n, err) < 0)
                return berth_wrap(err, "map uid %u in the new user namespace", uid);
        return 0;
}

void check_probe_userns(struct check_report *r, const struct check_paths *p)
{
        json_t *facts = check_report_section(r, "user_namespaces");
        cleanup_free char *max_path = berth_xasprintf("%s/sys/user/max_user_namespaces", p->proc);
        cleanup_free char *clone_path =
                berth_xasprintf("%s/sys/kernel/unprivileged_userns_clone", p->proc);
        long max = read_long(max_path, -1);
        long sysctl = read_long(clone_path, -1); /* Debian's knob; absent upstream */
        json_object_set_new(facts, "max_user_namespaces", json_integer(max));
        if (sysctl >= 0)
                json_object_set_new(facts, "unprivileged_userns_clone", json_integer(sysctl));

        const char *uidmap =
                access("/usr/bin/newuidmap", X_OK) == 0
                        ? "newuidmap present"
                        : "newuidmap missing (install uidmap for multi-uid rootless maps)";
        json_object_set_new(facts, "newuidmap",
                            json_boolean(access("/usr/bin/newuidmap", X_OK) == 0));

        if (max == 0) {
                json_object_set_new(facts, "unprivileged", json_false());
                check_report_add(r, "namespaces", "userns-unpriv", CHECK_MISSING,
                                 "rootless containers and --userns",
                                 "user.max_user_namespaces is 0");
                return;
        }
        if (!p->act) {
                check_report_add(r, "namespaces", "userns-unpriv", CHECK_NOTE, NULL,
                                 "not tried (max %ld%s)", max,
                                 sysctl == 0 ? ", kernel.unprivileged_userns_clone=0" : "");
                return;
        }
        berth_error_t err = NULL;
        int ret = check_in_child(userns_unprivileged, NULL, &err);
        json_object_set_new(facts, "unprivileged", json_boolean(ret == 0));
        if (ret == 0)
                check_report_add(r, "namespaces", "userns-unpriv", CHECK_OK, NULL,
                                 "an unprivileged user can create and map one (max %ld; %s)", max,
                                 uidmap);
        else
                check_report_add(r, "namespaces", "userns-unpriv", CHECK_MISSING,
                                 "rootless containers (berth as a non-root user)", "%s%s",
                                 berth_error_msg(err),
                                 sysctl == 0 ? " (kernel.unprivileged_userns_clone=0)" : "");
        berth_error_release(&err);
}
