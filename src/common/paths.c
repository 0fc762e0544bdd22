/* paths.c — state directory layout (see paths.h). */
#include "common/paths.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

static bool set(const char *s)
{
        return s != NULL && *s != '\0';
}

int berth_paths_resolve(struct berth_paths *p, uid_t euid, berth_getenv_fn env, berth_error_t *err)
{
        memset(p, 0, sizeof(*p));
        /* Rootless berth runs as root in a user namespace of its own (engine/userns.h) and
         * says so to its children, whose euid is then 0: they keep the user's directories. */
        const char *ns_uid = env("BERTH_ROOTLESS_UID");
        p->rootless = euid != 0 || set(ns_uid);
        if (euid == 0 && set(ns_uid))
                euid = (uid_t) strtoul(ns_uid, NULL, 10);
        p->uid = euid;
        const char *run = env("BERTH_RUN_DIR");
        const char *data = env("BERTH_DATA_DIR");

        if (set(run))
                p->run_dir = berth_xstrdup(run);
        else if (!p->rootless)
                p->run_dir = berth_xstrdup("/run/berth");
        else if (set(env("XDG_RUNTIME_DIR")))
                p->run_dir = berth_path_join(env("XDG_RUNTIME_DIR"), "berth");
        else
                p->run_dir = berth_xasprintf("/run/user/%u/berth", (unsigned) euid);

        if (set(data)) {
                p->data_dir = berth_xstrdup(data);
        } else if (!p->rootless) {
                p->data_dir = berth_xstrdup("/var/lib/berth");
        } else if (set(env("XDG_DATA_HOME"))) {
                p->data_dir = berth_path_join(env("XDG_DATA_HOME"), "berth");
        } else {
                const char *home = env("HOME");
                if (!set(home)) {
                        berth_paths_free(p);
                        return berth_fail(err, ENOENT,
                                          "find the data directory for uid %u: neither "
                                          "XDG_DATA_HOME nor HOME is set",
                                          (unsigned) euid);
                }
                p->data_dir = berth_path_join(home, ".local/share/berth");
        }
        return 0;
}

static const char *real_getenv(const char *name)
{
        return getenv(name);
}

int berth_paths_default(struct berth_paths *p, berth_error_t *err)
{
        return berth_paths_resolve(p, geteuid(), real_getenv, err);
}

void berth_paths_free(struct berth_paths *p)
{
        free(p->run_dir);
        free(p->data_dir);
        p->run_dir = p->data_dir = NULL;
}

char *berth_sibling_binary(const char *name)
{
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n <= 0)
                return berth_xstrdup(name);
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash == NULL)
                return berth_xstrdup(name);
        *slash = '\0';
        return berth_xasprintf("%s/%s", self, name);
}

char *berth_path_join(const char *base, const char *sub)
{
        size_t bl = strlen(base);
        while (bl > 1 && base[bl - 1] == '/')
                bl--;
        while (*sub == '/')
                sub++;
        return berth_xasprintf("%.*s/%s", (int) bl, base, sub);
}
