/* stats.c — a container's resource use from its cgroup (see stats.h).
 *
 * The engine puts every container at cgroupsPath /berth/<id>: under each v1
 * controller's mount, or under the v2 root when that is where the
 * controller lives (a rootless user's v2 cgroup: engine/cgparent.h).  v1 is tried first, as on
 * hybrid hosts the v2 tree holds few controllers. */
#include "engine/stats.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "engine/cgparent.h"

/* The container's cgroup files; its v2 directory comes from its bundle, read once. */
struct cg {
        struct eng_container *c;
        char *v2; /* NULL until first needed */
};

static void cg_release(struct cg *g)
{
        free(g->v2);
}

static char *cg_file(struct cg *g, const char *v1_ctrl, const char *v1_file, const char *v2_file)
{
        char *p = berth_xasprintf("/sys/fs/cgroup/%s/berth/%s/%s", v1_ctrl, g->c->id, v1_file);
        if (v1_file && access(p, R_OK) == 0)
                return p;
        free(p);
        if (v2_file == NULL)
                return NULL;
        /* v2: where the bundle put it (a rootless user's is under its delegated cgroup) */
        if (g->v2 == NULL) {
                g->v2 = eng_cgroup_v2_dir("/sys/fs/cgroup", g->c->run_dir);
                if (g->v2 == NULL)
                        g->v2 = berth_xasprintf("/sys/fs/cgroup/berth/%s", g->c->id);
        }
        p = berth_xasprintf("%s/%s", g->v2, v2_file);
        if (access(p, R_OK) == 0)
                return p;
        free(p);
        return NULL;
}

static uint64_t read_u64(const char *path)
{
        cleanup_free char *s = NULL;
        if (path == NULL || berth_read_file(path, &s, NULL, NULL) < 0)
                return 0;
        return strtoull(s, NULL, 10);
}

/* "key value" lines (memory.stat, cpu.stat, io.stat fields) */
static uint64_t keyed(const char *path, const char *key)
{
        cleanup_free char *s = NULL;
        if (path == NULL || berth_read_file(path, &s, NULL, NULL) < 0)
                return 0;
        size_t kl = strlen(key);
        for (char *l = s; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                if (strncmp(l, key, kl) == 0 && l[kl] == ' ')
                        return strtoull(l + kl + 1, NULL, 10);
        }
        return 0;
}

static uint64_t host_memory(void)
{
        long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
        return pages > 0 && size > 0 ? (uint64_t) pages * (uint64_t) size : 0;
}

static void blkio(struct cg *g, struct eng_stats *s)
{
        cleanup_free char *v1 = cg_file(g, "blkio", "blkio.throttle.io_service_bytes", NULL);
        cleanup_free char *text = NULL;
        if (v1 && berth_read_file(v1, &text, NULL, NULL) == 0) {
                char dev[32], op[16];
                unsigned long long v;
                for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                        if (sscanf(l, "%31s %15s %llu", dev, op, &v) != 3)
                                continue;
                        if (strcmp(op, "Read") == 0)
                                s->blk_read += v;
                        else if (strcmp(op, "Write") == 0)
                                s->blk_write += v;
                }
                return;
        }
        cleanup_free char *v2 = cg_file(g, "", NULL, "io.stat");
        cleanup_free char *t2 = NULL;
        if (v2 == NULL || berth_read_file(v2, &t2, NULL, NULL) < 0)
                return;
        for (char *p = t2; (p = strstr(p, "rbytes=")) != NULL; p += 7)
                s->blk_read += strtoull(p + 7, NULL, 10);
        for (char *p = t2; (p = strstr(p, "wbytes=")) != NULL; p += 7)
                s->blk_write += strtoull(p + 7, NULL, 10);
}

static void network(struct eng_container *c, struct eng_stats *s)
{
        pid_t pid = (pid_t) json_integer_value(json_object_get(eng_container_state(c), "Pid"));
        if (pid <= 0)
                return;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/net/dev", (int) pid);
        cleanup_free char *text = NULL;
        if (berth_read_file(path, &text, NULL, NULL) < 0)
                return;
        for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                char *colon = strchr(l, ':');
                char *nl = strchr(l, '\n');
                if (colon == NULL || (nl && colon > nl))
                        continue;
                const char *name = l;
                while (*name == ' ')
                        name++;
                if (strncmp(name, "lo:", 3) == 0)
                        continue;
                unsigned long long rx, tx;
                if (sscanf(colon + 1, "%llu %*u %*u %*u %*u %*u %*u %*u %llu", &rx, &tx) == 2) {
                        s->net_rx += rx;
                        s->net_tx += tx;
                }
        }
}

int eng_stats_read(struct eng_container *c, struct eng_stats *s, berth_error_t *err)
{
        memset(s, 0, sizeof(*s));
        __attribute__((cleanup(cg_release))) struct cg cg = {.c = c};
        struct cg *g = &cg;
        cleanup_free char *cpu1 = cg_file(g, "cpuacct", "cpuacct.usage", NULL);
        if (cpu1) {
                s->cpu_ns = read_u64(cpu1);
        } else {
                cleanup_free char *cpu2 = cg_file(g, "", NULL, "cpu.stat");
                if (cpu2 == NULL)
                        return berth_fail_status(
                                err, 1, 0, "no cgroup found for container %.12s (is it running?)",
                                c->id);
                s->cpu_ns = keyed(cpu2, "usage_usec") * 1000;
        }
        cleanup_free char *mu1 = cg_file(g, "memory", "memory.usage_in_bytes", "memory.current");
        cleanup_free char *ms = cg_file(g, "memory", "memory.stat", "memory.stat");
        uint64_t usage = read_u64(mu1);
        /* Docker subtracts the inactive page cache */
        uint64_t cache = keyed(ms, "total_inactive_file");
        if (cache == 0)
                cache = keyed(ms, "inactive_file");
        s->mem_usage = usage > cache ? usage - cache : usage;
        cleanup_free char *ml = cg_file(g, "memory", "memory.limit_in_bytes", "memory.max");
        cleanup_free char *limit = NULL;
        uint64_t host = host_memory();
        s->mem_limit = host;
        if (ml && berth_read_file(ml, &limit, NULL, NULL) == 0 && strncmp(limit, "max", 3) != 0) {
                uint64_t l = strtoull(limit, NULL, 10);
                if (l > 0 && l < host)
                        s->mem_limit = l;
        }
        cleanup_free char *pc = cg_file(g, "pids", "pids.current", "pids.current");
        s->pids = read_u64(pc);
        blkio(g, s);
        network(c, s);
        return 0;
}

int eng_container_pids(struct eng_container *c, pid_t **pids, size_t *n, berth_error_t *err)
{
        *pids = NULL;
        *n = 0;
        __attribute__((cleanup(cg_release))) struct cg cg = {.c = c};
        struct cg *g = &cg;
        cleanup_free char *procs = cg_file(g, "pids", "cgroup.procs", "cgroup.procs");
        if (procs == NULL)
                procs = cg_file(g, "memory", "cgroup.procs", NULL);
        cleanup_free char *text = NULL;
        if (procs == NULL || berth_read_file(procs, &text, NULL, err) < 0)
                return berth_fail_status(err, 1, 0, "container %.12s is not running", c->id);
        for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                long v = strtol(l, NULL, 10);
                if (v <= 0)
                        continue;
                *pids = berth_xrealloc(*pids, (*n + 1) * sizeof(pid_t));
                (*pids)[(*n)++] = (pid_t) v;
        }
        return 0;
}

char *eng_stats_cgroup_file(struct eng_container *c, const char *v1_ctrl, const char *v1_file,
                            const char *v2_file)
{
        __attribute__((cleanup(cg_release))) struct cg cg = {.c = c};
        return cg_file(&cg, v1_ctrl, v1_file, v2_file);
}
