/* cgparent.c — the container's cgroupsPath, delegated cgroups for rootless users (see
 * cgparent.h). */
#include "engine/cgparent.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/paths.h"
#include "common/util.h"

static bool owned_by(const char *cgroot, const char *path, uid_t uid)
{
        cleanup_free char *full = berth_xasprintf("%s%s", cgroot, path);
        struct stat st;
        return stat(full, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == uid;
}

char *eng_cgroup_delegated(const char *cgroot, uid_t uid, uid_t owner, const char *self)
{
        /* "0::/a/b/c" is the unified hierarchy's line */
        const char *line = self ? strstr(self, "0::/") : NULL;
        if (line == NULL || (line != self && line[-1] != '\n'))
                return NULL;
        cleanup_free char *path = berth_xasprintf("%.*s", (int) strcspn(line + 3, "\n"), line + 3);
        /* Our own cgroup must be inside it: moving a process between cgroups takes write
         * access to their common ancestor, so from outside (an ssh session's scope, under
         * root's user-UID.slice) the container's init could not be moved in. */
        char conv[128];
        int cl = snprintf(conv, sizeof(conv), "/user.slice/user-%u.slice/user@%u.service",
                          (unsigned) uid, (unsigned) uid);
        if (strncmp(path, conv, (size_t) cl) == 0 && (path[cl] == '/' || path[cl] == '\0') &&
            owned_by(cgroot, conv, owner))
                return berth_xstrdup(conv);
        char *best = NULL;
        for (;;) {
                char *slash = strrchr(path, '/');
                if (slash == NULL || slash == path)
                        break; /* never the root */
                if (!owned_by(cgroot, path, owner))
                        break;
                free(best);
                best = berth_xstrdup(path);
                *slash = '\0';
        }
        return best;
}

char *eng_cgroup_path(const char *cgroot, bool rootless, uid_t uid, uid_t owner, const char *id)
{
        if (!rootless)
                return berth_xasprintf("/berth/%s", id);
        cleanup_free char *controllers = berth_path_join(cgroot, "cgroup.controllers");
        if (access(controllers, F_OK) < 0)
                return NULL; /* v1 or hybrid: nothing is the user's */
        cleanup_free char *self = NULL;
        berth_error_t ignored = NULL;
        if (berth_read_file("/proc/self/cgroup", &self, NULL, &ignored) < 0)
                berth_error_release(&ignored);
        cleanup_free char *parent = eng_cgroup_delegated(cgroot, uid, owner, self);
        return parent ? berth_xasprintf("%s/berth/%s", parent, id) : NULL;
}

char *eng_cgroup_v2_dir(const char *cgroot, const char *bundle_dir)
{
        cleanup_free char *cfg = berth_path_join(bundle_dir, "config.json");
        json_t *j = berth_json_load_file(cfg, NULL);
        const char *p =
                json_string_value(json_object_get(json_object_get(j, "linux"), "cgroupsPath"));
        char *dir = p && *p == '/' ? berth_xasprintf("%s%s", cgroot, p) : NULL;
        json_decref(j);
        return dir;
}
