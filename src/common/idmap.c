/* idmap.c — /etc/subuid entries and the process's own id maps (see idmap.h). */
#include "common/idmap.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"

static bool parse_u32(const char *s, uint32_t *out)
{
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || end == s || *end != '\0' || v > UINT32_MAX || *s == '-')
                return false;
        *out = (uint32_t) v;
        return true;
}

int berth_subid_ranges(const char *path, const char *name, uid_t uid, struct berth_subid_range *out,
                       size_t *n, berth_error_t *err)
{
        *n = 0;
        cleanup_file FILE *f = fopen(path, "re");
        if (f == NULL) {
                if (errno == ENOENT)
                        return 0;
                return berth_fail(err, errno, "open `%s`", path);
        }
        char line[512], uidtext[16];
        snprintf(uidtext, sizeof(uidtext), "%u", (unsigned) uid);
        while (fgets(line, sizeof(line), f) && *n < BERTH_SUBID_MAX_RANGES) {
                line[strcspn(line, "\r\n")] = '\0';
                char *save = NULL;
                char *who = strtok_r(line, ":", &save);
                char *start = strtok_r(NULL, ":", &save);
                char *count = strtok_r(NULL, ":", &save);
                struct berth_subid_range r;
                if (who == NULL || start == NULL || count == NULL ||
                    strtok_r(NULL, ":", &save) != NULL || !parse_u32(start, &r.start) ||
                    !parse_u32(count, &r.count) || r.count == 0 ||
                    (uint64_t) r.start + r.count > UINT32_MAX)
                        continue;
                if ((name && strcmp(who, name) == 0) || strcmp(who, uidtext) == 0)
                        out[(*n)++] = r;
        }
        return 0;
}

bool berth_idmap_text_covers(const char *text, uint32_t id)
{
        for (const char *p = text; p && *p;) {
                unsigned long inside, outside, count;
                if (sscanf(p, " %lu %lu %lu", &inside, &outside, &count) == 3 && id >= inside &&
                    (uint64_t) id < (uint64_t) inside + count)
                        return true;
                p = strchr(p, '\n');
                if (p)
                        p++;
        }
        return false;
}

bool berth_self_maps_id(bool gid, uint32_t id)
{
        cleanup_free char *text = NULL;
        berth_error_t e = NULL;
        if (berth_read_file(gid ? "/proc/self/gid_map" : "/proc/self/uid_map", &text, NULL, &e) <
            0) {
                berth_error_release(&e);
                return false;
        }
        return berth_idmap_text_covers(text, id);
}

bool berth_in_userns(void)
{
        /* not cached: rootless berth moves into its namespace after starting */
        cleanup_free char *text = NULL;
        berth_error_t e = NULL;
        if (berth_read_file("/proc/self/uid_map", &text, NULL, &e) < 0) {
                berth_error_release(&e); /* no /proc: assume the initial namespace */
                return false;
        }
        unsigned long inside, outside, count;
        bool identity = sscanf(text, " %lu %lu %lu", &inside, &outside, &count) == 3 &&
                        inside == 0 && outside == 0 && count == 4294967295UL;
        const char *nl = strchr(text, '\n');
        return !(identity && (nl == NULL || nl[1] == '\0'));
}

int berth_newidmap(const char *tool, int pid, const struct berth_idmap *m, size_t n,
                   berth_error_t *err)
{
        if (n == 0 || n > 340)
                return berth_fail(err, EINVAL, "%s: %zu lines (1 to 340)", tool, n);
        char **argv = berth_xcalloc(3 * n + 3, sizeof(*argv));
        argv[0] = berth_xstrdup(tool);
        argv[1] = berth_xasprintf("%d", pid);
        for (size_t i = 0; i < n; i++) {
                argv[2 + 3 * i] = berth_xasprintf("%u", (unsigned) m[i].inside);
                argv[3 + 3 * i] = berth_xasprintf("%u", (unsigned) m[i].outside);
                argv[4 + 3 * i] = berth_xasprintf("%u", (unsigned) m[i].count);
        }
        int ret = 0;
        pid_t child = fork();
        if (child == 0) {
                execvp(tool, argv);
                fprintf(stderr, "exec %s: %s\n", tool, strerror(errno));
                _exit(127);
        }
        int status = 0;
        if (child < 0)
                ret = berth_fail(err, errno, "fork for %s", tool);
        else
                while (waitpid(child, &status, 0) < 0)
                        if (errno != EINTR) {
                                ret = berth_fail(err, errno, "wait for %s", tool);
                                break;
                        }
        if (ret == 0 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
                ret = berth_fail(err, EPERM, "%s failed (%s %d)", tool,
                                 WIFEXITED(status) ? "status" : "signal",
                                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        for (size_t i = 0; i < 3 * n + 2; i++)
                free(argv[i]);
        free(argv);
        return ret;
}
