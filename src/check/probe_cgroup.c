/* probe_cgroup.c — cgroup layout (v1, v2 or hybrid), which controllers live
 * where, and whether this process can make child cgroups (delegation).
 *
 * The layout comes from the mount table (/proc/self/mountinfo), the v1
 * controller names from /proc/cgroups, the v2 ones from cgroup.controllers,
 * and our own cgroup from /proc/self/cgroup: all read under p->proc, so
 * the unit tests feed fake tables that point into a fake cgroupfs tree. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check/check.h"
#include "common/paths.h"
#include "common/util.h"

#define MAX_HIER 32

struct hier {
        int version;       /* 1 or 2 */
        char *mount;       /* where it is mounted */
        char *controllers; /* space-separated; v1 may include "name=systemd" */
        char *own;         /* this process's cgroup path in it */
};

struct layout {
        struct hier h[MAX_HIER];
        size_t n;
};

/* mountinfo escapes spaces and friends as \ooo. */
static void unescape(char *s)
{
        char *w = s;
        for (char *r = s; *r; r++) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
                    r[3] >= '0' && r[3] <= '7') {
                        *w++ = (char) ((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
                        r += 3;
                } else {
                        *w++ = *r;
                }
        }
        *w = '\0';
}

static bool word_in(const char *list, const char *word, char sep)
{
        size_t wl = strlen(word);
        for (const char *s = list; s && *s;) {
                const char *e = strchr(s, sep);
                size_t l = e ? (size_t) (e - s) : strlen(s);
                if (l == wl && strncmp(s, word, wl) == 0)
                        return true;
                s = e ? e + 1 : NULL;
        }
        return false;
}

/* Names of the v1 controllers this kernel knows (first column of /proc/cgroups). */
static char *known_controllers(const char *proc)
{
        cleanup_free char *path = berth_xasprintf("%s/cgroups", proc);
        cleanup_free char *text = NULL;
        if (berth_read_file(path, &text, NULL, NULL) < 0)
                return berth_xstrdup("");
        cleanup_free char *out = berth_xstrdup("");
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (line[0] == '#')
                        continue;
                char name[64];
                if (sscanf(line, "%63s", name) == 1) {
                        char *n = berth_xasprintf("%s%s%s", out, *out ? " " : "", name);
                        free(out);
                        out = n;
                }
        }
        return berth_steal_ptr(&out);
}

static int parse_mountinfo(const char *proc, struct layout *L, berth_error_t *err)
{
        cleanup_free char *path = berth_xasprintf("%s/self/mountinfo", proc);
        cleanup_free char *text = NULL;
        if (berth_read_file(path, &text, NULL, err) < 0)
                return -1;
        cleanup_free char *known = known_controllers(proc);
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                /* id parent maj:min root mountpoint opts [optional...] - fstype source superopts */
                char *sep = strstr(line, " - ");
                if (sep == NULL)
                        continue;
                *sep = '\0';
                char fstype[32], source[256], super[1024] = "";
                if (sscanf(sep + 3, "%31s %255s %1023s", fstype, source, super) < 2)
                        continue;
                int version = strcmp(fstype, "cgroup2") == 0  ? 2
                              : strcmp(fstype, "cgroup") == 0 ? 1
                                                              : 0;
                if (version == 0 || L->n == MAX_HIER)
                        continue;
                char mnt[4096];
                if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1)
                        continue;
                unescape(mnt);
                struct hier *h = &L->h[L->n++];
                h->version = version;
                h->mount = berth_xstrdup(mnt);
                h->controllers = berth_xstrdup("");
                if (version == 2) {
                        cleanup_free char *cpath = berth_path_join(mnt, "cgroup.controllers");
                        cleanup_free char *c = NULL;
                        if (berth_read_file(cpath, &c, NULL, NULL) == 0) {
                                c[strcspn(c, "\n")] = '\0';
                                free(h->controllers);
                                h->controllers = berth_xstrdup(c);
                        }
                        continue;
                }
                char *ssave = NULL;
                for (char *o = strtok_r(super, ",", &ssave); o; o = strtok_r(NULL, ",", &ssave)) {
                        if (!word_in(known, o, ' ') && !berth_str_has_prefix(o, "name="))
                                continue;
                        char *n = berth_xasprintf("%s%s%s", h->controllers,
                                                  *h->controllers ? " " : "", o);
                        free(h->controllers);
                        h->controllers = n;
                }
        }
        return 0;
}

/* /proc/self/cgroup: "ID:controllers:/path" (v1) and "0::/path" (v2). */
static void find_own(const char *proc, struct layout *L)
{
        cleanup_free char *path = berth_xasprintf("%s/self/cgroup", proc);
        cleanup_free char *text = NULL;
        if (berth_read_file(path, &text, NULL, NULL) < 0)
                return;
        char *save = NULL;
        for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *c1 = strchr(line, ':');
                char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (c2 == NULL)
                        continue;
                *c2 = '\0';
                const char *ctrls = c1 + 1, *cg = c2 + 1;
                char first[64];
                snprintf(first, sizeof(first), "%.*s", (int) strcspn(ctrls, ","), ctrls);
                for (size_t i = 0; i < L->n; i++) {
                        struct hier *h = &L->h[i];
                        bool match;
                        if (*ctrls == '\0')
                                match = h->version == 2;
                        else if (h->version == 1)
                                /* the first controller names the hierarchy */
                                match = word_in(h->controllers, first, ' ');
                        else
                                match = false;
                        if (match && h->own == NULL)
                                h->own = berth_xstrdup(cg);
                }
        }
}

static void layout_free(struct layout *L)
{
        for (size_t i = 0; i < L->n; i++) {
                free(L->h[i].mount);
                free(L->h[i].controllers);
                free(L->h[i].own);
        }
}

/* Delegation, by doing: make and remove a child of our own cgroup. */
static int try_child_cgroup(const struct hier *h, berth_error_t *err)
{
        cleanup_free char *base = berth_path_join(h->mount, h->own ? h->own : "/");
        cleanup_free char *child = berth_xasprintf("%s/berth-check-%d", base, (int) getpid());
        if (mkdir(child, 0755) < 0)
                return berth_fail(err, errno, "mkdir `%s`", child);
        if (rmdir(child) < 0)
                return berth_fail(err, errno, "rmdir `%s`", child);
        return 0;
}

/* What a missing controller takes away. */
static const struct {
        const char *v1, *v2, *disables;
} wanted[] = {
        {"memory", "memory", "memory limits (--memory, --memory-swap)"},
        {"pids", "pids", "process limits (--pids-limit)"},
        {"cpu", "cpu", "CPU limits (--cpus, --cpu-shares)"},
        {"cpuset", "cpuset", "CPU pinning (--cpuset-cpus)"},
        {"blkio", "io", "block I/O limits (--blkio-weight, --device-read-bps)"},
        {"freezer", NULL, "pause/unpause (v1 needs the freezer controller)"},
        {"devices", NULL, "device access rules (v1 needs the devices controller)"},
};

void check_probe_cgroups(struct check_report *r, const struct check_paths *p)
{
        json_t *facts = check_report_section(r, "cgroups");
        struct layout L = {0};
        berth_error_t err = NULL;
        if (parse_mountinfo(p->proc, &L, &err) < 0) {
                json_object_set_new(facts, "layout", json_string("unknown"));
                check_report_add(r, "cgroups", "layout", CHECK_MISSING, "all resource limits", "%s",
                                 berth_error_msg(err));
                berth_error_release(&err);
                return;
        }
        find_own(p->proc, &L);

        const struct hier *v2 = NULL;
        cleanup_free char *v1c = berth_xstrdup("");
        for (size_t i = 0; i < L.n; i++) {
                if (L.h[i].version == 2) {
                        if (v2 == NULL)
                                v2 = &L.h[i];
                } else if (*L.h[i].controllers) {
                        char *n =
                                berth_xasprintf("%s%s%s", v1c, *v1c ? " " : "", L.h[i].controllers);
                        free(v1c);
                        v1c = n;
                }
        }
        /* Named hierarchies (name=systemd) hold no controllers; they do not make a v1 layout. */
        bool has_v1 = false;
        for (const char *s = v1c; *s;) {
                size_t l = strcspn(s, " ");
                if (strncmp(s, "name=", 5) != 0)
                        has_v1 = true;
                s += l + (s[l] == ' ');
        }
        const char *layout = has_v1 && v2 ? "hybrid" : has_v1 ? "v1" : v2 ? "v2" : "none";
        json_object_set_new(facts, "layout", json_string(layout));

        json_t *jv1 = json_object(), *jv2 = json_null();
        json_t *jv1c = json_array();
        for (size_t i = 0; i < L.n; i++) {
                if (L.h[i].version != 1)
                        continue;
                json_object_set_new(jv1, L.h[i].mount, json_string(L.h[i].controllers));
                for (const char *s = L.h[i].controllers; *s;) {
                        size_t l = strcspn(s, " ");
                        if (strncmp(s, "name=", 5) != 0)
                                json_array_append_new(jv1c, json_stringn(s, l));
                        s += l + (s[l] == ' ');
                }
        }
        if (v2) {
                jv2 = json_pack("{s:s, s:s}", "mount", v2->mount, "controllers", v2->controllers);
        }
        json_object_set_new(facts, "v1",
                            json_pack("{s:o, s:o}", "controllers", jv1c, "mounts", jv1));
        json_object_set_new(facts, "v2", jv2);

        if (strcmp(layout, "none") == 0) {
                check_report_add(r, "cgroups", "layout", CHECK_MISSING,
                                 "all resource limits (--memory, --cpus, --pids-limit) and pause",
                                 "no cgroup or cgroup2 filesystem is mounted");
                layout_free(&L);
                return;
        }
        char detail[2048];
        if (strcmp(layout, "hybrid") == 0)
                snprintf(detail, sizeof(detail), "v1 hybrid: v1 controllers %s; v2 at %s with %s",
                         v1c, v2->mount, *v2->controllers ? v2->controllers : "no controllers");
        else if (strcmp(layout, "v1") == 0)
                snprintf(detail, sizeof(detail), "v1 (legacy): controllers %s", v1c);
        else
                snprintf(detail, sizeof(detail), "v2 (unified) at %s: controllers %s", v2->mount,
                         *v2->controllers ? v2->controllers : "none");
        check_report_add(r, "cgroups", "layout", CHECK_OK, NULL, "%s", detail);

        /* Each wanted controller must be somewhere we can use it: a v1
         * hierarchy, or the v2 one when it is the unified layout. */
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(wanted); i++) {
                bool in_v1 = word_in(v1c, wanted[i].v1, ' ');
                bool in_v2 = v2 && wanted[i].v2 && word_in(v2->controllers, wanted[i].v2, ' ');
                bool v2_builtin = wanted[i].v2 == NULL && !has_v1 && v2; /* freeze, eBPF devices */
                if (in_v1 || in_v2 || v2_builtin)
                        continue;
                check_report_add(r, "cgroups", wanted[i].v2 ? wanted[i].v2 : wanted[i].v1,
                                 CHECK_MISSING, wanted[i].disables,
                                 "controller not available in any mounted hierarchy");
        }

        /* Delegation: can we make child cgroups where we are? */
        json_t *jdel = json_object();
        size_t tried = 0, failed = 0;
        cleanup_free char *first_failure = NULL;
        for (size_t i = 0; i < L.n; i++) {
                const struct hier *h = &L.h[i];
                if (h->version == 1 && *h->controllers == '\0')
                        continue;
                tried++;
                if (try_child_cgroup(h, &err) == 0) {
                        json_object_set_new(jdel, h->mount, json_true());
                        continue;
                }
                failed++;
                json_object_set_new(jdel, h->mount, json_string(berth_error_msg(err)));
                if (first_failure == NULL)
                        first_failure = berth_xstrdup(berth_error_msg(err));
                berth_error_release(&err);
        }
        json_object_set_new(facts, "delegation", jdel);
        if (failed == 0)
                check_report_add(r, "cgroups", "delegation", CHECK_OK, NULL,
                                 "made and removed a child cgroup in %zu hierarch%s", tried,
                                 tried == 1 ? "y" : "ies");
        else
                check_report_add(r, "cgroups", "delegation", CHECK_MISSING,
                                 "resource limits for containers this user starts",
                                 "%zu of %zu hierarchies refuse a child cgroup: %s", failed, tried,
                                 first_failure);
        layout_free(&L);
}
