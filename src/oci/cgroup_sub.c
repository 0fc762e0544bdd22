/* cgroup_sub.c — `exec --cgroup`: which sub-cgroup of the container's an exec'd process joins.
 *
 * runc's forms: one plain PATH (every controller, and the only form cgroup v2 has), or any
 * number of CONTROLLER[,CONTROLLER...]:PATH (cgroup v1), a later one for the same controller
 * replacing an earlier.  The sub path is relative to the container's own cgroup, so an exec
 * can only go below it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "oci/cgroup.h"

void oci_cg_subs_free(struct oci_cg_subs *s)
{
        for (size_t i = 0; i < s->n; i++) {
                free(s->v[i].ctrl);
                free(s->v[i].path);
        }
        free(s->v);
        s->v = NULL;
        s->n = 0;
}

static void put(struct oci_cg_subs *s, const char *ctrl, size_t ctrl_len, const char *path)
{
        for (size_t i = 0; i < s->n; i++)
                if (strlen(s->v[i].ctrl) == ctrl_len &&
                    strncmp(s->v[i].ctrl, ctrl, ctrl_len) == 0) {
                        free(s->v[i].path);
                        s->v[i].path = berth_xstrdup(path);
                        return;
                }
        s->v = berth_xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
        s->v[s->n].ctrl = berth_xasprintf("%.*s", (int) ctrl_len, ctrl);
        s->v[s->n].path = berth_xstrdup(path);
        s->n++;
}

int oci_cg_subs_parse(char *const *args, size_t n, struct oci_cg_subs *out, berth_error_t *err)
{
        *out = (struct oci_cg_subs){0};
        for (size_t i = 0; i < n; i++) {
                const char *a = args[i], *colon = strchr(a, ':');
                if (colon && strchr(colon + 1, ':')) {
                        oci_cg_subs_free(out);
                        return berth_fail_status(err, 1, 0, "invalid --cgroup argument: %s", a);
                }
                /* runc joins PATH below the container's cgroup unchecked; a `..` there would
                 * leave it, so berth refuses one */
                const char *path = colon ? colon + 1 : a;
                if (strcmp(path, "..") == 0 || strncmp(path, "../", 3) == 0 ||
                    strstr(path, "/../") ||
                    (strlen(path) >= 3 && strcmp(path + strlen(path) - 3, "/..") == 0)) {
                        oci_cg_subs_free(out);
                        return berth_fail_status(err, 1, 0,
                                                 "invalid --cgroup argument: %s (`..` would leave "
                                                 "the container's cgroup)",
                                                 a);
                }
                if (colon == NULL) {
                        if (n != 1) {
                                oci_cg_subs_free(out);
                                return berth_fail_status(
                                        err, 1, 0,
                                        "invalid --cgroup argument: %s (missing <controller>: "
                                        "prefix)",
                                        a);
                        }
                        put(out, "", 0, a);
                        continue;
                }
                /* an empty controller list (":PATH") stands for every controller, as in runc */
                const char *c = a;
                do {
                        size_t len = strcspn(c, ",:");
                        put(out, c, len, colon + 1);
                        c += len + (c[len] == ',');
                } while (c < colon);
        }
        return 0;
}

/* Does the v1 hierarchy directory name h (a comma-separated controller list, or a named
 * hierarchy such as "systemd") hold controller ctrl ("memory", "name=systemd")? */
static bool hierarchy_has(const char *h, const char *ctrl)
{
        if (strncmp(ctrl, "name=", 5) == 0)
                return strcmp(h, ctrl + 5) == 0;
        size_t len = strlen(ctrl);
        for (const char *p = h; *p;) {
                size_t n = strcspn(p, ",");
                if (n == len && strncmp(p, ctrl, len) == 0)
                        return true;
                p += n + (p[n] == ',');
        }
        return false;
}

const char *oci_cg_subs_for(const struct oci_cg_subs *s, const char *hierarchy)
{
        const char *all = NULL;
        for (size_t i = 0; i < s->n; i++) {
                if (*s->v[i].ctrl == 0)
                        all = s->v[i].path;
                else if (hierarchy_has(hierarchy, s->v[i].ctrl))
                        return s->v[i].path;
        }
        return all;
}

int oci_cg_subs_check(const struct oci_cg_subs *s, char *const *hierarchies, berth_error_t *err)
{
        for (size_t i = 0; i < s->n; i++) {
                bool found = *s->v[i].ctrl == 0;
                for (size_t k = 0; !found && hierarchies[k]; k++)
                        found = strcmp(hierarchies[k], "unified") != 0 &&
                                hierarchy_has(hierarchies[k], s->v[i].ctrl);
                if (!found)
                        return berth_fail_status(err, 1, 0, "unknown controller %s in --cgroup",
                                                 s->v[i].ctrl);
        }
        return 0;
}

char *oci_cg_subs_join(const char *dir, const char *sub)
{
        while (*sub == '/')
                sub++;
        return *sub ? berth_xasprintf("%s/%s", dir, sub) : berth_xstrdup(dir);
}
