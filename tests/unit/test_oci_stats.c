/* test_oci_stats.c — runc's stats event data from fake cgroup v1 and v2 trees, and Go
 * durations (events --interval). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/util.h"
#include "oci/internal.h"
#include "tap.h"

static char *root;

static void put(const char *rel, const char *text)
{
        char *p = berth_xasprintf("%s/%s", root, rel);
        char *dir = berth_xstrdup(p);
        berth_error_t err = NULL;
        *strrchr(dir, '/') = 0;
        berth_mkdir_p(dir, 0755, &err);
        FILE *f = fopen(p, "w");
        fputs(text, f);
        fclose(f);
        free(dir);
        free(p);
}

static char *stats_text(const struct oci_cgroup_ops *ops)
{
        struct oci_cgroup cg;
        char *text = NULL;
        size_t len = 0;
        berth_error_t err = NULL;
        FILE *f = open_memstream(&text, &len);
        oci_cgroup_init(&cg, ops, root, "/c");
        int r = oci_stats_write(&cg, f, &err);
        fclose(f);
        oci_cgroup_release(&cg);
        if (r < 0) {
                free(text);
                return NULL;
        }
        return text;
}

static json_t *stats(const struct oci_cgroup_ops *ops)
{
        json_error_t je;
        char *text = stats_text(ops);
        json_t *j = text ? json_loads(text, 0, &je) : NULL;
        if (j == NULL)
                printf("# not JSON: %s\n", text);
        free(text);
        return j;
}

/* v2's 2^64-1 is beyond jansson's integers: look at the text */
static void has(const char *text, const char *want, const char *name)
{
        ok(text && strstr(text, want), name);
        if (!text || !strstr(text, want))
                printf("# want %s in %s\n", want, text ? text : "(null)");
}

static void is_json(json_t *j, const char *path_fmt, const char *want, const char *name)
{
        /* path: keys separated by '.' */
        char *path = berth_xstrdup(path_fmt), *save = NULL;
        json_t *v = j;
        for (char *k = strtok_r(path, ".", &save); k && v; k = strtok_r(NULL, ".", &save))
                v = json_object_get(v, k);
        char *got = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        is_str(got, want, name);
        free(got);
        free(path);
}

static void durations(void)
{
        int64_t ns = 0;
        ok(oci_duration_parse("5s", &ns) == 0 && ns == 5000000000LL, "5s");
        ok(oci_duration_parse("250ms", &ns) == 0 && ns == 250000000LL, "250ms: ms before m");
        ok(oci_duration_parse("1m30s", &ns) == 0 && ns == 90000000000LL, "1m30s");
        ok(oci_duration_parse("1.5h", &ns) == 0 && ns == 5400000000000LL, "1.5h");
        ok(oci_duration_parse("10us", &ns) == 0 && ns == 10000, "10us");
        ok(oci_duration_parse("0", &ns) == 0 && ns == 0, "a bare 0");
        ok(oci_duration_parse("-1s", &ns) == 0 && ns == -1000000000LL, "negative");
        ok(oci_duration_parse("1", &ns) < 0, "a number needs a unit");
        ok(oci_duration_parse("x", &ns) < 0, "no number");
        ok(oci_duration_parse("", &ns) < 0, "empty");
        ok(oci_duration_parse("5sx", &ns) < 0, "a bad unit");
}

int main(void)
{
        char tmpl[] = "/tmp/berth-stats-XXXXXX";
        root = mkdtemp(tmpl);
        durations();

        /* cgroup v1: one directory per controller */
        put("cpuacct/c/cpuacct.usage", "3000\n");
        put("cpuacct/c/cpuacct.usage_percpu", "1000 2000 \n");
        put("cpuacct/c/cpuacct.usage_all", "cpu user system\n0 600 400\n1 1500 500\n");
        put("cpuacct/c/cpuacct.stat", "user 2\nsystem 1\n");
        put("cpu/c/cpu.stat", "nr_periods 7\nnr_throttled 0\nthrottled_time 0\n");
        put("cpuset/c/cpuset.cpus", "0-2,5\n");
        put("cpuset/c/cpuset.mems", "0\n");
        put("cpuset/c/cpuset.cpu_exclusive", "0\n");
        put("cpuset/c/cpuset.sched_load_balance", "1\n");
        put("cpuset/c/cpuset.sched_relax_domain_level", "-1\n");
        put("memory/c/memory.limit_in_bytes", "104857600\n");
        put("memory/c/memory.usage_in_bytes", "4096\n");
        put("memory/c/memory.max_usage_in_bytes", "8192\n");
        put("memory/c/memory.failcnt", "0\n");
        put("memory/c/memory.memsw.limit_in_bytes", "209715200\n");
        put("memory/c/memory.kmem.tcp.limit_in_bytes", "9223372036854771712\n");
        put("memory/c/memory.stat", "cache 12\nrss 5\nactive_anon 3\n");
        put("pids/c/pids.current", "2\n");
        put("pids/c/pids.max", "max\n");
        put("blkio/c/blkio.throttle.io_service_bytes_recursive",
            "8:0 Read 4096\n8:0 Write 0\nTotal 4096\n");
        put("blkio/c/blkio.throttle.io_serviced_recursive", "Total 0\n");
        json_t *j = stats(&oci_cgroup_v1_ops);
        ok(j != NULL, "v1: valid JSON");
        is_json(j, "cpu.usage",
                "{\"total\":3000,\"percpu\":[1000,2000],\"percpu_kernel\":[400,500],"
                "\"percpu_user\":[600,1500],\"kernel\":10000000,\"user\":20000000}",
                "v1: cpu usage, kernel/user in ns from ticks");
        is_json(j, "cpu.throttling", "{\"periods\":7}", "v1: throttling omits zeros");
        is_json(j, "cpuset.cpus", "[0,1,2,5]", "v1: cpuset ranges expanded");
        is_json(j, "cpuset.sched_relax_domain_level", "-1", "v1: a signed cpuset value");
        is_json(j, "memory.cache", "12", "v1: memory.cache from memory.stat");
        is_json(j, "memory.usage",
                "{\"limit\":104857600,\"usage\":4096,\"max\":8192,\"failcnt\":0}",
                "v1: memory usage");
        is_json(j, "memory.swap.limit", "209715200", "v1: swap is memsw");
        is_json(j, "memory.kernelTCP", "{\"limit\":9223372036854771712,\"failcnt\":0}",
                "v1: a near-2^63 limit exact");
        is_json(j, "memory.raw", "{\"active_anon\":3,\"cache\":12,\"rss\":5}",
                "v1: raw keys sorted as Go sorts a map");
        is_json(j, "pids", "{\"current\":2}", "v1: pids.max max omitted");
        is_json(j, "blkio.ioServiceBytesRecursive",
                "[{\"major\":8,\"minor\":0,\"op\":\"Read\",\"value\":4096},"
                "{\"major\":8,\"minor\":0,\"op\":\"Write\",\"value\":0}]",
                "v1: throttle counters, Total skipped");
        ok(json_object_get(json_object_get(j, "blkio"), "ioServicedRecursive") == NULL,
           "v1: an empty list omitted");
        is_json(j, "hugetlb", "{}", "v1: no hugetlb hierarchy, an empty object");
        is_json(j, "network_interfaces", "null", "v1: network_interfaces null");
        json_decref(j);

        /* cgroup v2: one directory */
        put("c/cpu.stat", "usage_usec 5\nuser_usec 3\nsystem_usec 2\nnr_periods 1\n"
                          "nr_throttled 1\nthrottled_usec 4\n");
        put("c/memory.current", "100\n");
        put("c/memory.max", "max\n");
        put("c/memory.swap.current", "10\n");
        put("c/memory.swap.max", "max\n");
        put("c/memory.stat", "file 7\nanon 9\n");
        put("c/pids.current", "1\n");
        put("c/pids.max", "10\n");
        put("c/cpuset.cpus.effective", "0-1\n");
        put("c/cpuset.mems.effective", "0\n");
        char *t = stats_text(&oci_cgroup_v2_ops);
        has(t, "\"cpu\":{\"usage\":{\"total\":5000,\"kernel\":2000,\"user\":3000}",
            "v2: cpu in ns");
        has(t, "\"throttling\":{\"periods\":1,\"throttled_periods\":1,\"throttled_time\":4000}",
            "v2: throttling");
        has(t, "\"usage\":{\"limit\":18446744073709551615,\"usage\":100,\"failcnt\":0}",
            "v2: max is 2^64-1, printed exactly");
        has(t, "\"swap\":{\"limit\":18446744073709551615,\"usage\":110,",
            "v2: swap counts memory too, as v1's memsw");
        has(t, "\"memory\":{\"cache\":7,", "v2: cache is file");
        has(t, "\"raw\":{\"anon\":9,\"file\":7}", "v2: raw from memory.stat");
        has(t, "\"pids\":{\"current\":1,\"limit\":10}", "v2: pids");
        has(t, "\"cpuset\":{\"cpus\":[0,1],\"mems\":[0]}", "v2: effective cpus and mems");
        free(t);

        char *cmd = berth_xasprintf("rm -rf '%s'", root);
        if (system(cmd) != 0)
                printf("# could not remove %s\n", root);
        free(cmd);
        return tap_done();
}
