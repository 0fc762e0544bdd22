/* test_cgparent.c — where containers' cgroups go, rootless users' delegated cgroup v2 among
 * them (engine/cgparent.h), on fake cgroupfs trees. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "engine/cgparent.h"
#include "tap.h"

static char *root;

static void dir_owned(const char *rel, uid_t owner)
{
        char *p = berth_xasprintf("%s%s", root, rel);
        berth_error_t err = NULL;
        if (berth_mkdir_p(p, 0755, &err) < 0 || chown(p, owner, owner) < 0)
                abort();
        free(p);
}

static void put(const char *rel, const char *text)
{
        char *p = berth_xasprintf("%s%s", root, rel);
        FILE *f = fopen(p, "w");
        if (f == NULL)
                abort();
        fputs(text, f);
        fclose(f);
        free(p);
}

int main(void)
{
        if (geteuid() != 0) {
                tap_skip("delegated cgroups", "needs root to give the fake cgroups owners");
                return tap_done();
        }
        char tmpl[] = "/tmp/berth-cgparent-XXXXXX";
        root = mkdtemp(tmpl);
        char *p;

        p = eng_cgroup_path(root, false, 0, 0, "abc");
        is_str(p, "/berth/abc", "root's containers: /berth/<id>");
        free(p);
        p = eng_cgroup_path(root, true, 1000, 1000, "abc");
        ok(p == NULL, "rootless on a tree that is not cgroup v2: no cgroup");
        free(p);
        /* eng_cgroup_path reads this process's own /proc/self/cgroup: a test runner is not
         * inside a user@.service on this host, so the path is checked through
         * eng_cgroup_delegated with given texts below */

        put("/cgroup.controllers", "cpu io memory pids\n");
        dir_owned("/user.slice/user-1000.slice", 0);
        dir_owned("/user.slice/user-1000.slice/user@1000.service", 1000);
        dir_owned("/user.slice/user-1000.slice/user@1000.service/app.slice", 1000);
        const char *in_app = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/x.scope\n";
        p = eng_cgroup_delegated(root, 1000, 1000, in_app);
        is_str(p, "/user.slice/user-1000.slice/user@1000.service",
               "systemd's user@UID.service when we run inside it");
        free(p);
        p = eng_cgroup_delegated(root, 1000, 1000,
                                 "0::/user.slice/user-1000.slice/session-3.scope\n");
        ok(p == NULL,
           "from an ssh session's scope (root's slice above us): nothing we could move into");
        free(p);
        p = eng_cgroup_delegated(root, 1000, 0, in_app);
        ok(p == NULL, "owned by someone else (as seen from a user namespace): not delegated");
        free(p);
        p = eng_cgroup_delegated(root, 1000, 1000,
                                 "0::/user.slice/user-1000.slice/user@1000.servicex\n");
        ok(p == NULL, "a name that only starts like it is not inside it");
        free(p);

        /* no systemd: the highest ancestor of our own cgroup that the user owns */
        dir_owned("/a", 0);
        dir_owned("/a/b", 2000);
        dir_owned("/a/b/c", 2000);
        p = eng_cgroup_delegated(root, 2000, 2000, "12:pids:/x\n1:name=systemd:/y\n0::/a/b/c\n");
        is_str(p, "/a/b", "the highest owned ancestor of our cgroup, v1 lines skipped");
        free(p);
        p = eng_cgroup_delegated(root, 2000, 2000, "0::/a\n");
        ok(p == NULL, "not owned at all: none");
        free(p);
        p = eng_cgroup_delegated(root, 2000, 2000, "0::/\n");
        ok(p == NULL, "never the root");
        free(p);
        p = eng_cgroup_delegated(root, 2000, 2000, "12:pids:/a/b/c\n");
        ok(p == NULL, "no unified line: none");
        free(p);

        /* readers find it through the bundle */
        dir_owned("/bundle", 0);
        put("/bundle/config.json", "{\"linux\": {\"cgroupsPath\": \"/u/berth/abc\"}}");
        char *bundle = berth_xasprintf("%s/bundle", root);
        p = eng_cgroup_v2_dir("/sys/fs/cgroup", bundle);
        is_str(p, "/sys/fs/cgroup/u/berth/abc", "the v2 directory from the bundle's cgroupsPath");
        free(p);
        put("/bundle/config.json", "{\"linux\": {}}");
        p = eng_cgroup_v2_dir("/sys/fs/cgroup", bundle);
        ok(p == NULL, "a bundle without one: none");
        free(p);
        free(bundle);

        char *cmd = berth_xasprintf("rm -rf %s", root);
        if (system(cmd) != 0)
                printf("# could not remove %s\n", root);
        free(cmd);
        return tap_done();
}
