/* stats_docker.c — a container's reading in the shape of dockerd's stats object (see
 * stats.h): cgroup v1 and v2 files turned into the fields the docker CLI and docker-py read
 * (cpu_stats, memory_stats.stats, blkio_stats, pids_stats, networks). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/units.h"
#include "common/util.h"
#include "engine/stats.h"

static char *read_cg(struct eng_container *c, const char *ctrl, const char *v1, const char *v2)
{
        cleanup_free char *path = eng_stats_cgroup_file(c, ctrl, v1, v2);
        char *text = NULL;
        if (path == NULL || berth_read_file(path, &text, NULL, NULL) < 0)
                return NULL;
        return text;
}

/* "key value" lines as {key: value} */
static json_t *keyed_json(const char *text)
{
        json_t *o = json_object();
        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                char key[128];
                unsigned long long v;
                if (sscanf(l, "%127s %llu", key, &v) == 2)
                        json_object_set_new(o, key, json_integer((json_int_t) v));
        }
        return o;
}

static json_int_t key_of(json_t *o, const char *k)
{
        return json_integer_value(json_object_get(o, k));
}

static json_int_t file_int(struct eng_container *c, const char *ctrl, const char *v1,
                           const char *v2)
{
        cleanup_free char *s = read_cg(c, ctrl, v1, v2);
        return s ? (json_int_t) strtoull(s, NULL, 10) : 0;
}

/* The host's CPU time in nanoseconds, /proc/stat's first line, as dockerd's
 * system_cpu_usage. */
static json_int_t system_cpu(void)
{
        cleanup_free char *s = NULL;
        if (berth_read_file("/proc/stat", &s, NULL, NULL) < 0)
                return 0;
        unsigned long long v[7] = {0};
        if (sscanf(s, "cpu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
                   &v[5], &v[6]) != 7)
                return 0;
        unsigned long long ticks = 0;
        for (size_t i = 0; i < 7; i++)
                ticks += v[i];
        long hz = sysconf(_SC_CLK_TCK);
        return (json_int_t) (ticks * (1000000000ULL / (unsigned long long) (hz > 0 ? hz : 100)));
}

static json_t *cpu_stats(struct eng_container *c)
{
        json_int_t total, user, kernel;
        json_t *percpu = NULL, *thr;
        long hz = sysconf(_SC_CLK_TCK);
        json_int_t tick_ns = 1000000000LL / (hz > 0 ? hz : 100);
        cleanup_free char *v1 = read_cg(c, "cpuacct", "cpuacct.usage", NULL);
        if (v1) {
                total = (json_int_t) strtoull(v1, NULL, 10);
                cleanup_free char *pc = read_cg(c, "cpuacct", "cpuacct.usage_percpu", NULL);
                percpu = json_array();
                for (char *p = pc, *end; p && *p; p = end) {
                        unsigned long long n = strtoull(p, &end, 10);
                        if (end == p)
                                break;
                        json_array_append_new(percpu, json_integer((json_int_t) n));
                }
                cleanup_free char *st = read_cg(c, "cpuacct", "cpuacct.stat", NULL);
                json_t *k = keyed_json(st);
                user = key_of(k, "user") * tick_ns;
                kernel = key_of(k, "system") * tick_ns;
                json_decref(k);
                cleanup_free char *cs = read_cg(c, "cpu", "cpu.stat", NULL);
                k = keyed_json(cs);
                thr = json_pack("{s:I, s:I, s:I}", "periods", key_of(k, "nr_periods"),
                                "throttled_periods", key_of(k, "nr_throttled"), "throttled_time",
                                key_of(k, "throttled_time"));
                json_decref(k);
        } else {
                cleanup_free char *cs = read_cg(c, "", NULL, "cpu.stat");
                json_t *k = keyed_json(cs);
                total = key_of(k, "usage_usec") * 1000;
                user = key_of(k, "user_usec") * 1000;
                kernel = key_of(k, "system_usec") * 1000;
                thr = json_pack("{s:I, s:I, s:I}", "periods", key_of(k, "nr_periods"),
                                "throttled_periods", key_of(k, "nr_throttled"), "throttled_time",
                                key_of(k, "throttled_usec") * 1000);
                json_decref(k);
        }
        json_t *usage = json_pack("{s:I, s:I, s:I}", "total_usage", total, "usage_in_kernelmode",
                                  kernel, "usage_in_usermode", user);
        if (percpu) /* v1 only, as dockerd */
                json_object_set_new(usage, "percpu_usage", percpu);
        return json_pack("{s:o, s:I, s:I, s:o}", "cpu_usage", usage, "system_cpu_usage",
                         system_cpu(), "online_cpus", (json_int_t) sysconf(_SC_NPROCESSORS_ONLN),
                         "throttling_data", thr);
}

static json_t *memory_stats(struct eng_container *c)
{
        /* the limit as eng_stats_read caps it (the host's memory when unlimited), as the
         * docker CLI shows it */
        struct eng_stats s;
        if (eng_stats_read(c, &s, NULL) < 0)
                memset(&s, 0, sizeof(s));
        cleanup_free char *ms = read_cg(c, "memory", "memory.stat", "memory.stat");
        json_t *m = json_pack("{s:I, s:o, s:I}", "usage",
                              file_int(c, "memory", "memory.usage_in_bytes", "memory.current"),
                              "stats", keyed_json(ms), "limit", (json_int_t) s.mem_limit);
        cleanup_free char *max =
                eng_stats_cgroup_file(c, "memory", "memory.max_usage_in_bytes", NULL);
        if (max) /* v1 only */
                json_object_set_new(
                        m, "max_usage",
                        json_integer(file_int(c, "memory", "memory.max_usage_in_bytes", NULL)));
        return m;
}

/* blkio.throttle.io_service_bytes-style lines ("8:0 Read 4096") as dockerd's entries. */
static json_t *blkio_v1(const char *text)
{
        json_t *a = json_array();
        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                unsigned maj, min;
                char op[16];
                unsigned long long v;
                if (sscanf(l, "%u:%u %15s %llu", &maj, &min, op, &v) == 4)
                        json_array_append_new(a,
                                              json_pack("{s:I, s:I, s:s, s:I}", "major",
                                                        (json_int_t) maj, "minor", (json_int_t) min,
                                                        "op", op, "value", (json_int_t) v));
        }
        return a;
}

/* io.stat ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 …") as v1's two lists, as dockerd maps it. */
static void blkio_v2(const char *text, json_t *bytes, json_t *ios)
{
        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                unsigned maj, min;
                unsigned long long rb = 0, wb = 0, ri = 0, wi = 0;
                if (sscanf(l, "%u:%u", &maj, &min) != 2)
                        continue;
                const char *nl = strchr(l, '\n');
                size_t len = nl ? (size_t) (nl - l) : strlen(l);
                cleanup_free char *line = berth_xasprintf("%.*s", (int) len, l);
                char *p;
                if ((p = strstr(line, "rbytes=")))
                        rb = strtoull(p + 7, NULL, 10);
                if ((p = strstr(line, "wbytes=")))
                        wb = strtoull(p + 7, NULL, 10);
                if ((p = strstr(line, "rios=")))
                        ri = strtoull(p + 5, NULL, 10);
                if ((p = strstr(line, "wios=")))
                        wi = strtoull(p + 5, NULL, 10);
                const struct {
                        json_t *to;
                        const char *op;
                        unsigned long long v;
                } e[] = {{bytes, "read", rb},
                         {bytes, "write", wb},
                         {ios, "read", ri},
                         {ios, "write", wi}};
                for (size_t i = 0; i < BERTH_ARRAY_SIZE(e); i++)
                        json_array_append_new(e[i].to, json_pack("{s:I, s:I, s:s, s:I}", "major",
                                                                 (json_int_t) maj, "minor",
                                                                 (json_int_t) min, "op", e[i].op,
                                                                 "value", (json_int_t) e[i].v));
        }
}

static json_t *blkio_stats(struct eng_container *c)
{
        json_t *bytes, *ios;
        cleanup_free char *b1 = read_cg(c, "blkio", "blkio.throttle.io_service_bytes", NULL);
        if (b1) {
                cleanup_free char *i1 = read_cg(c, "blkio", "blkio.throttle.io_serviced", NULL);
                bytes = blkio_v1(b1);
                ios = blkio_v1(i1);
        } else {
                bytes = json_array();
                ios = json_array();
                cleanup_free char *st = read_cg(c, "", NULL, "io.stat");
                blkio_v2(st, bytes, ios);
        }
        return json_pack("{s:o, s:o, s:[], s:[], s:[], s:[], s:[], s:[]}",
                         "io_service_bytes_recursive", bytes, "io_serviced_recursive", ios,
                         "io_queue_recursive", "io_service_time_recursive",
                         "io_wait_time_recursive", "io_merged_recursive", "io_time_recursive",
                         "sectors_recursive");
}

/* Every interface of the container's network namespace but lo; NULL when none (dockerd
 * then leaves "networks" out, as for --network none). */
static json_t *networks(struct eng_container *c)
{
        pid_t pid = (pid_t) json_integer_value(json_object_get(eng_container_state(c), "Pid"));
        if (pid <= 0)
                return NULL;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/net/dev", (int) pid);
        cleanup_free char *text = NULL;
        if (berth_read_file(path, &text, NULL, NULL) < 0)
                return NULL;
        json_t *nets = json_object();
        for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                char name[64];
                unsigned long long v[16];
                int n = sscanf(l,
                               " %63[^:]: %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu "
                               "%llu %llu",
                               name, &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8],
                               &v[9], &v[10], &v[11]);
                if (n != 13 || strcmp(name, "lo") == 0)
                        continue;
                /* /proc/net/dev: rx bytes packets errs drop fifo frame compressed multicast,
                 * then tx bytes packets errs drop */
                json_object_set_new(
                        nets, name,
                        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "rx_bytes",
                                  (json_int_t) v[0], "rx_packets", (json_int_t) v[1], "rx_errors",
                                  (json_int_t) v[2], "rx_dropped", (json_int_t) v[3], "tx_bytes",
                                  (json_int_t) v[8], "tx_packets", (json_int_t) v[9], "tx_errors",
                                  (json_int_t) v[10], "tx_dropped", (json_int_t) v[11]));
        }
        if (json_object_size(nets) == 0) {
                json_decref(nets);
                return NULL;
        }
        return nets;
}

static json_t *zero_cpu(void)
{
        return json_pack("{s:{s:i, s:i, s:i}, s:{s:i, s:i, s:i}}", "cpu_usage", "total_usage", 0,
                         "usage_in_kernelmode", 0, "usage_in_usermode", 0, "throttling_data",
                         "periods", 0, "throttled_periods", 0, "throttled_time", 0);
}

json_t *eng_stats_docker(struct eng_container *c)
{
        cleanup_free char *name = berth_xasprintf("/%s", eng_container_name(c));
        const char *st = eng_container_status(c);
        bool live = strcmp(st, "running") == 0 || strcmp(st, "paused") == 0;
        cleanup_free char *probe =
                live ? eng_stats_cgroup_file(c, "memory", "memory.stat", "memory.stat") : NULL;
        if (!live || probe == NULL) /* dockerd's answer for a stopped container: zeros */
                return json_pack(
                        "{s:s, s:s, s:{}, s:{s:[], s:[], s:[], s:[], s:[], s:[], "
                        "s:[], s:[]}, s:i, s:{}, s:o, s:o, s:{}, s:s, s:s}",
                        "read", ENG_ZERO_TIME, "preread", ENG_ZERO_TIME, "pids_stats",
                        "blkio_stats", "io_service_bytes_recursive", "io_serviced_recursive",
                        "io_queue_recursive", "io_service_time_recursive", "io_wait_time_recursive",
                        "io_merged_recursive", "io_time_recursive", "sectors_recursive",
                        "num_procs", 0, "storage_stats", "cpu_stats", zero_cpu(), "precpu_stats",
                        zero_cpu(), "memory_stats", "name", name, "id", c->id);
        char now[64];
        berth_rfc3339(berth_now_ns(), true, now, sizeof(now));
        json_t *pids =
                json_pack("{s:I}", "current", file_int(c, "pids", "pids.current", "pids.current"));
        cleanup_free char *pmax = read_cg(c, "pids", "pids.max", "pids.max");
        if (pmax && strncmp(pmax, "max", 3) != 0)
                json_object_set_new(pids, "limit",
                                    json_integer((json_int_t) strtoull(pmax, NULL, 10)));
        json_t *doc = json_pack("{s:s, s:s, s:o, s:o, s:i, s:{}, s:o, s:o, s:o, s:s, s:s}", "read",
                                now, "preread", ENG_ZERO_TIME, "pids_stats", pids, "blkio_stats",
                                blkio_stats(c), "num_procs", 0, "storage_stats", "cpu_stats",
                                cpu_stats(c), "precpu_stats", zero_cpu(), "memory_stats",
                                memory_stats(c), "name", name, "id", c->id);
        json_t *nets = networks(c);
        if (nets)
                json_object_set_new(doc, "networks", nets);
        return doc;
}

void eng_stats_docker_link(json_t *cur, json_t *prev)
{
        json_object_set(cur, "preread", json_object_get(prev, "read"));
        json_object_set(cur, "precpu_stats", json_object_get(prev, "cpu_stats"));
}
