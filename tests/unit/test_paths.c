/* test_paths.c — state directory choice for root, rootless and overrides. */
#include <stdlib.h>
#include <string.h>

#include "common/paths.h"
#include "common/util.h"
#include "tap.h"

static const char *const *fake_env;

static const char *env(const char *name)
{
        for (size_t i = 0; fake_env[i]; i += 2)
                if (strcmp(fake_env[i], name) == 0)
                        return fake_env[i + 1];
        return NULL;
}

int main(void)
{
        struct berth_paths p;
        berth_error_t err = NULL;

        fake_env = (const char *const[]){NULL};
        is_int(berth_paths_resolve(&p, 0, env, &err), 0, "root resolves");
        is_str(p.run_dir, "/run/berth", "root run dir");
        is_str(p.data_dir, "/var/lib/berth", "root data dir");
        ok(!p.rootless, "root is not rootless");
        berth_paths_free(&p);

        fake_env = (const char *const[]){"XDG_RUNTIME_DIR", "/run/user/1000/", "HOME", "/home/u",
                                         NULL};
        berth_paths_resolve(&p, 1000, env, &err);
        is_str(p.run_dir, "/run/user/1000/berth", "rootless run dir under XDG_RUNTIME_DIR");
        is_str(p.data_dir, "/home/u/.local/share/berth", "rootless data dir under HOME");
        ok(p.rootless, "uid 1000 is rootless");
        berth_paths_free(&p);

        fake_env = (const char *const[]){"XDG_DATA_HOME", "/d", "HOME", "/home/u", NULL};
        berth_paths_resolve(&p, 1000, env, &err);
        is_str(p.run_dir, "/run/user/1000/berth", "rootless run dir without XDG_RUNTIME_DIR");
        is_str(p.data_dir, "/d/berth", "XDG_DATA_HOME wins over HOME");
        berth_paths_free(&p);

        /* inside rootless berth's user namespace: euid 0, but the user's directories */
        fake_env = (const char *const[]){"BERTH_ROOTLESS_UID", "1000", "HOME", "/home/u", NULL};
        berth_paths_resolve(&p, 0, env, &err);
        ok(p.rootless, "euid 0 with BERTH_ROOTLESS_UID is rootless");
        is_int((int) p.uid, 1000, "and the user is BERTH_ROOTLESS_UID's");
        is_str(p.run_dir, "/run/user/1000/berth", "its run dir is the user's");
        is_str(p.data_dir, "/home/u/.local/share/berth", "its data dir is the user's");
        berth_paths_free(&p);

        fake_env = (const char *const[]){NULL};
        is_int(berth_paths_resolve(&p, 1000, env, &err), -1, "rootless with no HOME fails");
        ok(err && strstr(berth_error_msg(err), "neither XDG_DATA_HOME nor HOME") != NULL,
           "and says why");
        berth_error_release(&err);

        fake_env =
                (const char *const[]){"BERTH_RUN_DIR", "/tmp/r", "BERTH_DATA_DIR", "/tmp/d", NULL};
        berth_paths_resolve(&p, 0, env, &err);
        is_str(p.run_dir, "/tmp/r", "BERTH_RUN_DIR overrides");
        is_str(p.data_dir, "/tmp/d", "BERTH_DATA_DIR overrides");
        berth_paths_free(&p);

        char *j = berth_path_join("/a/b//", "/c/d");
        is_str(j, "/a/b/c/d", "join folds slashes");
        free(j);
        return tap_done();
}
