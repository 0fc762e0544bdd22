/* stats.c — a container's resource usage from its cgroup, as the `data` of runc's `events`
 * stats event (runc's types/events.go: the same keys, the same omitted zero values).
 *
 * Written by hand rather than through jansson: memory limits on cgroup v2 are 2^64-1
 * ("max"), beyond jansson's signed integers, and runc prints them exactly.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "oci/internal.h"

/* a JSON object being written: the comma before every member but the first */
struct jw {
        FILE *f;
        bool first;
};

static void key(struct jw *w, const char *k)
{
        fprintf(w->f, "%s\"%s\":", w->first ? "" : ",", k);
        w->first = false;
}
static void u64(struct jw *w, const char *k, uint64_t v)
{
        key(w, k);
        fprintf(w->f, "%" PRIu64, v);
}
static void u64_nz(struct jw *w, const char *k, uint64_t v) /* Go's omitempty */
{
        if (v)
                u64(w, k, v);
}
static void open_obj(struct jw *w, const char *k, struct jw *in)
{
        key(w, k);
        fputc('{', w->f);
        *in = (struct jw){w->f, true};
}
static void close_obj(struct jw *in)
{
        fputc('}', in->f);
}

/* The text of dir/file, or NULL when it can't be read (a controller not mounted). */
static char *slurp(const char *dir, const char *file)
{
        cleanup_free char *p = berth_xasprintf("%s/%s", dir, file);
        char *out = NULL;
        size_t len;
        berth_error_t err = NULL;
        if (berth_read_file(p, &out, &len, &err) < 0)
                berth_error_release(&err);
        return out;
}

/* A number file: "max" (no limit) reads as max_as. */
static uint64_t num(const char *dir, const char *file, uint64_t max_as)
{
        cleanup_free char *t = slurp(dir, file);
        if (t == NULL)
                return 0;
        if (strncmp(t, "max", 3) == 0)
                return max_as;
        return strtoull(t, NULL, 10);
}

/* "key value" lines (memory.stat, cpu.stat): key's value, 0 if absent. */
static uint64_t kv(const char *text, const char *k)
{
        size_t n = strlen(k);
        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, k, n) == 0 && p[n] == ' ')
                        return strtoull(p + n + 1, NULL, 10);
        return 0;
}

static int by_key(const void *a, const void *b)
{
        const char *x = *(const char *const *) a, *y = *(const char *const *) b;
        size_t nx = strcspn(x, " "), ny = strcspn(y, " ");
        int c = strncmp(x, y, nx < ny ? nx : ny);
        return c ? c : (nx > ny) - (nx < ny);
}

/* "key value" lines as an object, its keys sorted as Go's encoder sorts a map's */
static void kv_object(struct jw *w, const char *name, const char *text)
{
        struct jw o;
        if (text == NULL || *text == 0)
                return; /* omitempty */
        size_t n = 0, cap = 64;
        cleanup_free const char **lines = berth_xcalloc(cap, sizeof(char *));
        for (const char *p = text; *p;) {
                if (p[strcspn(p, " \n")] == ' ') {
                        if (n == cap)
                                lines = berth_xrealloc(lines, (cap *= 2) * sizeof(char *));
                        lines[n++] = p;
                }
                p += strcspn(p, "\n");
                p += *p == '\n';
        }
        qsort(lines, n, sizeof(char *), by_key);
        open_obj(w, name, &o);
        for (size_t i = 0; i < n; i++) {
                size_t kl = strcspn(lines[i], " ");
                fprintf(o.f, "%s\"%.*s\":%" PRIu64, i ? "," : "", (int) kl, lines[i],
                        (uint64_t) strtoull(lines[i] + kl + 1, NULL, 10));
        }
        close_obj(&o);
}

/* "0-2,5" (cpuset.cpus) as a JSON array of numbers, omitted when empty. */
static void list_array(struct jw *w, const char *name, const char *text)
{
        if (text == NULL || !isdigit((unsigned char) *text))
                return;
        key(w, name);
        fputc('[', w->f);
        bool first = true;
        for (const char *p = text; isdigit((unsigned char) *p);) {
                char *end;
                unsigned long a = strtoul(p, &end, 10), b = a;
                if (*end == '-')
                        b = strtoul(end + 1, &end, 10);
                for (unsigned long i = a; i <= b && i - a < 65536; i++, first = false)
                        fprintf(w->f, "%s%lu", first ? "" : ",", i);
                p = end + (*end == ',');
        }
        fputc(']', w->f);
}

/* space-separated numbers as a JSON array, omitted when empty */
static void num_array(struct jw *w, const char *name, const char *text)
{
        if (text == NULL || !isdigit((unsigned char) text[strspn(text, " ")]))
                return;
        key(w, name);
        fputc('[', w->f);
        char *end;
        const char *p = text;
        for (bool first = true;; first = false) {
                uint64_t v = strtoull(p, &end, 10);
                if (end == p)
                        break;
                fprintf(w->f, "%s%" PRIu64, first ? "" : ",", v);
                p = end;
        }
        fputc(']', w->f);
}

/* cpuacct.usage_all: "cpu user system" then one line per cpu */
static void usage_all(struct jw *w, const char *text)
{
        if (text == NULL || strchr(text, '\n') == NULL)
                return;
        for (int col = 2; col >= 1; col--) {
                key(w, col == 2 ? "percpu_kernel" : "percpu_user");
                fputc('[', w->f);
                bool first = true;
                for (const char *p = strchr(text, '\n') + 1; *p;) {
                        uint64_t c[3] = {0};
                        if (sscanf(p, "%" SCNu64 " %" SCNu64 " %" SCNu64, &c[0], &c[1], &c[2]) ==
                            3) {
                                fprintf(w->f, "%s%" PRIu64, first ? "" : ",", c[col]);
                                first = false;
                        }
                        p += strcspn(p, "\n");
                        p += *p == '\n';
                }
                fputc(']', w->f);
        }
}

/* memory.{,memsw.,kmem.,kmem.tcp.}* of cgroup v1 as one of runc's MemoryData */
static void mem_data_v1(struct jw *w, const char *name, const char *dir, const char *prefix)
{
        struct jw o;
        char f[64];
        open_obj(w, name, &o);
        snprintf(f, sizeof(f), "%slimit_in_bytes", prefix);
        u64(&o, "limit", num(dir, f, 0));
        snprintf(f, sizeof(f), "%susage_in_bytes", prefix);
        u64_nz(&o, "usage", num(dir, f, 0));
        snprintf(f, sizeof(f), "%smax_usage_in_bytes", prefix);
        u64_nz(&o, "max", num(dir, f, 0));
        snprintf(f, sizeof(f), "%sfailcnt", prefix);
        u64(&o, "failcnt", num(dir, f, 0));
        close_obj(&o);
}

static void cpuset(struct jw *w, const char *dir)
{
        static const char *flags[] = {"cpu_exclusive",   "mem_hardwall",       "mem_exclusive",
                                      "memory_migrate",  "memory_spread_page", "memory_spread_slab",
                                      "memory_pressure", "sched_load_balance", NULL};
        struct jw o;
        cleanup_free char *cpus = slurp(dir, "cpuset.cpus"), *mems = slurp(dir, "cpuset.mems");
        cleanup_free char *srl = slurp(dir, "cpuset.sched_relax_domain_level");
        if (cpus == NULL && mems == NULL)
                return;
        open_obj(w, "cpuset", &o);
        list_array(&o, "cpus", cpus);
        /* runc's order: cpus, cpu_exclusive, mems, then the rest */
        char f[64];
        for (size_t i = 0; flags[i]; i++) {
                if (i == 1)
                        list_array(&o, "mems", mems);
                snprintf(f, sizeof(f), "cpuset.%s", flags[i]);
                u64(&o, flags[i], num(dir, f, 0));
        }
        key(&o, "sched_relax_domain_level");
        fprintf(o.f, "%ld", srl ? strtol(srl, NULL, 10) : 0L);
        close_obj(&o);
}

/* blkio's per-device counters ("8:0 Read 4096" lines) as runc's BlkioStatEntry arrays */
static void blkio_entries(struct jw *w, const char *name, const char *text)
{
        bool any = false;
        for (const char *p = text; p && *p;) {
                unsigned maj, min;
                char op[16] = "";
                uint64_t v;
                /* "8:0 Read 4096"; the sectors and time files have no op: "8:0 4096" */
                bool ok = sscanf(p, "%u:%u %15[A-Za-z] %" SCNu64, &maj, &min, op, &v) == 4;
                if (!ok) {
                        op[0] = 0;
                        ok = sscanf(p, "%u:%u %" SCNu64, &maj, &min, &v) == 3;
                }
                if (ok) {
                        if (!any) {
                                key(w, name);
                                fputc('[', w->f);
                        }
                        fprintf(w->f,
                                "%s{\"major\":%u,\"minor\":%u,\"op\":\"%s\",\"value\":%" PRIu64 "}",
                                any ? "," : "", maj, min, op, v);
                        any = true;
                }
                p += strcspn(p, "\n");
                p += *p == '\n';
        }
        if (any)
                fputc(']', w->f);
}

static void blkio_v1(struct jw *w, const char *dir)
{
        /* runc takes the proportional (bfq/cfq) counters where the kernel has them, else the
         * throttling layer's, which every blkio hierarchy has */
        static const struct {
                const char *key, *file;
        } bfq[] = {{"ioServiceBytesRecursive", "io_service_bytes_recursive"},
                   {"ioServicedRecursive", "io_serviced_recursive"},
                   {"ioQueueRecursive", "io_queued_recursive"},
                   {"ioServiceTimeRecursive", "io_service_time_recursive"},
                   {"ioWaitTimeRecursive", "io_wait_time_recursive"},
                   {"ioMergedRecursive", "io_merged_recursive"},
                   {"ioTimeRecursive", "time_recursive"},
                   {"sectorsRecursive", "sectors_recursive"}};
        struct jw o;
        open_obj(w, "blkio", &o);
        const char *kind = NULL;
        cleanup_free char *bfq_probe = slurp(dir, "blkio.bfq.io_serviced_recursive");
        cleanup_free char *cfq_probe = bfq_probe ? NULL : slurp(dir, "blkio.io_serviced_recursive");
        if (bfq_probe)
                kind = "blkio.bfq.";
        else if (cfq_probe)
                kind = "blkio.";
        for (size_t i = 0; i < sizeof(bfq) / sizeof(bfq[0]); i++) {
                char f[96];
                if (kind)
                        snprintf(f, sizeof(f), "%s%s", kind, bfq[i].file);
                else if (i < 2)
                        snprintf(f, sizeof(f), "blkio.throttle.%s", bfq[i].file);
                else
                        break;
                cleanup_free char *t = slurp(dir, f);
                blkio_entries(&o, bfq[i].key, t);
        }
        close_obj(&o);
}

static void hugetlb_v1(struct jw *w, const char *dir)
{
        struct jw o, e;
        open_obj(w, "hugetlb", &o);
        cleanup_dir DIR *d = opendir(dir);
        struct dirent *de;
        /* cppcheck-suppress readdirCalled ; one thread, one directory stream */
        while (d && (de = readdir(d)) != NULL) {
                char size[32], f[96];
                if (sscanf(de->d_name, "hugetlb.%31[^.].usage_in_bytes", size) != 1 ||
                    strstr(de->d_name, "max_usage") || strstr(de->d_name, ".rsvd."))
                        continue;
                open_obj(&o, size, &e);
                u64_nz(&e, "usage", num(dir, de->d_name, 0));
                snprintf(f, sizeof(f), "hugetlb.%s.max_usage_in_bytes", size);
                u64_nz(&e, "max", num(dir, f, 0));
                snprintf(f, sizeof(f), "hugetlb.%s.failcnt", size);
                u64(&e, "failcnt", num(dir, f, 0));
                close_obj(&e);
        }
        close_obj(&o);
}

static void stats_v1(struct jw *w, const struct oci_cgroup *cg)
{
        cleanup_free char *cpu = berth_xasprintf("%s/cpu%s", cg->root, cg->path);
        cleanup_free char *acct = berth_xasprintf("%s/cpuacct%s", cg->root, cg->path);
        cleanup_free char *cset = berth_xasprintf("%s/cpuset%s", cg->root, cg->path);
        cleanup_free char *mem = berth_xasprintf("%s/memory%s", cg->root, cg->path);
        cleanup_free char *pids = berth_xasprintf("%s/pids%s", cg->root, cg->path);
        cleanup_free char *blk = berth_xasprintf("%s/blkio%s", cg->root, cg->path);
        cleanup_free char *huge = berth_xasprintf("%s/hugetlb%s", cg->root, cg->path);
        cleanup_free char *percpu = slurp(acct, "cpuacct.usage_percpu");
        cleanup_free char *all = slurp(acct, "cpuacct.usage_all");
        cleanup_free char *stat = slurp(acct, "cpuacct.stat");
        cleanup_free char *thr = slurp(cpu, "cpu.stat");
        cleanup_free char *mstat = slurp(mem, "memory.stat");
        long hz = sysconf(_SC_CLK_TCK);
        uint64_t tick = hz > 0 ? 1000000000ULL / (uint64_t) hz : 10000000ULL;
        struct jw o, u, t, p;

        open_obj(w, "cpu", &o);
        open_obj(&o, "usage", &u);
        u64_nz(&u, "total", num(acct, "cpuacct.usage", 0));
        num_array(&u, "percpu", percpu);
        usage_all(&u, all);
        u64(&u, "kernel", kv(stat, "system") * tick);
        u64(&u, "user", kv(stat, "user") * tick);
        close_obj(&u);
        open_obj(&o, "throttling", &t);
        u64_nz(&t, "periods", kv(thr, "nr_periods"));
        u64_nz(&t, "throttled_periods", kv(thr, "nr_throttled"));
        u64_nz(&t, "throttled_time", kv(thr, "throttled_time"));
        close_obj(&t);
        close_obj(&o);

        cpuset(w, cset);

        open_obj(w, "memory", &o);
        u64_nz(&o, "cache", kv(mstat, "cache"));
        mem_data_v1(&o, "usage", mem, "memory.");
        mem_data_v1(&o, "swap", mem, "memory.memsw.");
        mem_data_v1(&o, "kernel", mem, "memory.kmem.");
        mem_data_v1(&o, "kernelTCP", mem, "memory.kmem.tcp.");
        kv_object(&o, "raw", mstat);
        close_obj(&o);

        open_obj(w, "pids", &p);
        u64_nz(&p, "current", num(pids, "pids.current", 0));
        u64_nz(&p, "limit", num(pids, "pids.max", 0));
        close_obj(&p);

        blkio_v1(w, blk);
        hugetlb_v1(w, huge);
}

static void stats_v2(struct jw *w, const struct oci_cgroup *cg)
{
        cleanup_free char *dir = berth_xasprintf("%s%s", cg->root, cg->path);
        cleanup_free char *cstat = slurp(dir, "cpu.stat");
        cleanup_free char *mstat = slurp(dir, "memory.stat");
        cleanup_free char *cpus = slurp(dir, "cpuset.cpus.effective");
        cleanup_free char *mems = slurp(dir, "cpuset.mems.effective");
        struct jw o, u, t, p, m;

        open_obj(w, "cpu", &o);
        open_obj(&o, "usage", &u);
        u64_nz(&u, "total", kv(cstat, "usage_usec") * 1000);
        u64(&u, "kernel", kv(cstat, "system_usec") * 1000);
        u64(&u, "user", kv(cstat, "user_usec") * 1000);
        close_obj(&u);
        open_obj(&o, "throttling", &t);
        u64_nz(&t, "periods", kv(cstat, "nr_periods"));
        u64_nz(&t, "throttled_periods", kv(cstat, "nr_throttled"));
        u64_nz(&t, "throttled_time", kv(cstat, "throttled_usec") * 1000);
        close_obj(&t);
        close_obj(&o);

        if (cpus || mems) {
                open_obj(w, "cpuset", &o);
                list_array(&o, "cpus", cpus);
                list_array(&o, "mems", mems);
                close_obj(&o);
        }

        /* runc's fs2: usage is memory.current, swap adds swap.current to it */
        uint64_t cur = num(dir, "memory.current", 0), swap = num(dir, "memory.swap.current", 0);
        open_obj(w, "memory", &o);
        u64_nz(&o, "cache", kv(mstat, "file"));
        open_obj(&o, "usage", &m);
        u64(&m, "limit", num(dir, "memory.max", UINT64_MAX));
        u64_nz(&m, "usage", cur);
        u64(&m, "failcnt", 0);
        close_obj(&m);
        /* v1 counts swap with memory; runc adds the two on v2 to keep that meaning */
        uint64_t mlim = num(dir, "memory.max", UINT64_MAX);
        uint64_t slim = num(dir, "memory.swap.max", UINT64_MAX);
        open_obj(&o, "swap", &m);
        u64(&m, "limit", slim == UINT64_MAX || mlim == UINT64_MAX ? UINT64_MAX : slim + mlim);
        u64_nz(&m, "usage", cur + swap);
        u64(&m, "failcnt", 0);
        close_obj(&m);
        open_obj(&o, "kernel", &m);
        u64(&m, "limit", 0);
        u64(&m, "failcnt", 0);
        close_obj(&m);
        open_obj(&o, "kernelTCP", &m);
        u64(&m, "limit", 0);
        u64(&m, "failcnt", 0);
        close_obj(&m);
        kv_object(&o, "raw", mstat);
        close_obj(&o);

        open_obj(w, "pids", &p);
        u64_nz(&p, "current", num(dir, "pids.current", 0));
        u64_nz(&p, "limit", num(dir, "pids.max", 0));
        close_obj(&p);

        open_obj(w, "blkio", &o);
        close_obj(&o);
        open_obj(w, "hugetlb", &o);
        close_obj(&o);
}

int oci_stats_write(const struct oci_cgroup *cg, FILE *out, berth_error_t *err)
{
        struct jw w = {out, true}, o;
        fputc('{', out);
        if (strcmp(cg->ops->name, "v1") == 0) {
                stats_v1(&w, cg);
        } else if (strcmp(cg->ops->name, "v2") == 0) {
                stats_v2(&w, cg);
        } else {
                open_obj(&w, "cpu", &o);
                close_obj(&o);
        }
        open_obj(&w, "intel_rdt", &o);
        close_obj(&o);
        key(&w, "network_interfaces");
        fputs("null}", out);
        return ferror(out) ? berth_fail(err, EIO, "write the stats") : 0;
}
