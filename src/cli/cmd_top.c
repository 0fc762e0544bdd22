/* cmd_top.c — `berth top`, `berth stats`, `berth port`: looking at running containers. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/containers.h"
#include "common/template.h"
#include "common/units.h"
#include "common/util.h"
#include "engine/lifecycle.h"
#include "engine/stats.h"
#include "engine/top.h"

static int find_running(struct eng_ctx *e, const char *name, struct eng_container **c,
                        berth_error_t *err)
{
        if (eng_container_find(e, name, c, err) < 0)
                return -1;
        eng_reconcile(e, *c, NULL);
        const char *st = eng_container_status(*c);
        if (strcmp(st, "running") != 0 && strcmp(st, "paused") != 0) {
                berth_fail_status(err, 1, 0, "Container %s is not running", (*c)->id);
                eng_container_free(*c);
                *c = NULL;
                return -1;
        }
        return 0;
}

/* Docker's top: the host's ps, rows kept for the container's processes. */
int cmd_top(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        if (argc < 2 || strcmp(argv[1], "--help") == 0) {
                printf("Usage: berth top CONTAINER [ps OPTIONS]\n\nDisplay the running processes "
                       "of a container (ps OPTIONS default to -ef)\n");
                return argc < 2 ? 125 : 0;
        }
        struct eng_ctx e;
        if (eng_ctx_init(&e, &g->paths, err) < 0)
                return -1;
        struct eng_container *c = NULL;
        int r = find_running(&e, argv[1], &c, err);
        if (r == 0) {
                /* ps options are the user's words: each its own argv entry */
                cleanup_free char *text = NULL;
                r = eng_top(c, argv + 2, argc > 2 ? (size_t) (argc - 2) : 0, &text, err);
                if (r == 0)
                        fputs(text, stdout);
        }
        eng_container_free(c);
        eng_ctx_free(&e);
        return r;
}

static const struct berth_tmpl_header stats_headers[] = {
        {"Container", "CONTAINER"},
        {"ID", "CONTAINER ID"},
        {"Name", "NAME"},
        {"CPUPerc", "CPU %"},
        {"MemUsage", "MEM USAGE / LIMIT"},
        {"MemPerc", "MEM %"},
        {"NetIO", "NET I/O"},
        {"BlockIO", "BLOCK I/O"},
        {"PIDs", "PIDS"},
        {NULL, NULL},
};

/* Docker's binary units for memory: "12.5MiB / 64MiB" */
static void bin_size(uint64_t b, char *buf, size_t len)
{
        static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = (double) b;
        size_t i = 0;
        while (v >= 1024 && i + 1 < BERTH_ARRAY_SIZE(u)) {
                v /= 1024;
                i++;
        }
        snprintf(buf, len, "%.4g%s", v, u[i]);
}

int cmd_stats(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                {"no-stream", no_argument, NULL, 'n'},    {"all", no_argument, NULL, 'a'},
                {"format", required_argument, NULL, 'f'}, {"no-trunc", no_argument, NULL, 'T'},
                {"help", no_argument, NULL, 'h'},         {0}};
        bool stream = true, no_trunc = false;
        const char *format = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "ah", opts, NULL)) != -1) {
                switch (c) {
                case 'n':
                        stream = false;
                        break;
                case 'a':
                        break;
                case 'f':
                        format = optarg;
                        break;
                case 'T':
                        no_trunc = true;
                        break;
                case 'h':
                        printf("Usage: berth stats [--no-stream] [--format F] [CONTAINER...]\n\n"
                               "Display a live stream of container(s) resource usage statistics\n");
                        return 0;
                default:
                        return cli_usage_error(err, "stats", "invalid option");
                }
        }
        struct eng_ctx e;
        if (eng_ctx_init(&e, &g->paths, err) < 0)
                return -1;
        struct eng_container **v = NULL;
        size_t n = 0;
        int r = 0;
        if (optind < argc) {
                for (int i = optind; i < argc && r == 0; i++) {
                        struct eng_container *ct;
                        if (find_running(&e, argv[i], &ct, err) < 0) {
                                r = -1;
                                break;
                        }
                        v = berth_xrealloc(v, (n + 1) * sizeof(struct eng_container *));
                        v[n++] = ct;
                }
        } else {
                struct eng_container **all;
                size_t na;
                r = eng_list_reconciled(&e, &all, &na, err);
                for (size_t i = 0; r == 0 && i < na; i++) {
                        if (strcmp(eng_container_status(all[i]), "running") == 0) {
                                v = berth_xrealloc(v, (n + 1) * sizeof(struct eng_container *));
                                v[n++] = all[i];
                                all[i] = NULL;
                        }
                }
                if (r == 0)
                        eng_container_list_free(all, na);
        }
        /* CPU % needs two readings: Docker's delta of container time over host time */
        struct eng_stats *a = berth_xcalloc(n ? n : 1, sizeof(*a));
        struct eng_stats *b = berth_xcalloc(n ? n : 1, sizeof(*b));
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        do {
                struct timespec t0, t1;
                clock_gettime(CLOCK_MONOTONIC, &t0);
                for (size_t i = 0; r == 0 && i < n; i++)
                        eng_stats_read(v[i], &a[i], NULL);
                usleep(500000);
                clock_gettime(CLOCK_MONOTONIC, &t1);
                double wall =
                        (double) (t1.tv_sec - t0.tv_sec) * 1e9 + (double) (t1.tv_nsec - t0.tv_nsec);
                json_t *rows = json_array();
                for (size_t i = 0; r == 0 && i < n; i++) {
                        eng_stats_read(v[i], &b[i], NULL);
                        double cpu =
                                wall > 0 ? (double) (b[i].cpu_ns - a[i].cpu_ns) / wall * 100.0 : 0;
                        char use[32], lim[32], rx[32], tx[32], br[32], bw[32], cpus[16], memp[16],
                                mem[80], net[80], blk[80], id[65], pids[24];
                        bin_size(b[i].mem_usage, use, sizeof(use));
                        bin_size(b[i].mem_limit, lim, sizeof(lim));
                        berth_format_size((int64_t) b[i].net_rx, rx, sizeof(rx));
                        berth_format_size((int64_t) b[i].net_tx, tx, sizeof(tx));
                        berth_format_size((int64_t) b[i].blk_read, br, sizeof(br));
                        berth_format_size((int64_t) b[i].blk_write, bw, sizeof(bw));
                        snprintf(cpus, sizeof(cpus), "%.2f%%",
                                 cpu > 100.0 * (double) ncpu ? 100.0 * (double) ncpu : cpu);
                        snprintf(memp, sizeof(memp), "%.2f%%",
                                 b[i].mem_limit
                                         ? (double) b[i].mem_usage * 100.0 / (double) b[i].mem_limit
                                         : 0);
                        snprintf(mem, sizeof(mem), "%s / %s", use, lim);
                        snprintf(net, sizeof(net), "%s / %s", rx, tx);
                        snprintf(blk, sizeof(blk), "%s / %s", br, bw);
                        snprintf(id, sizeof(id), "%.*s", no_trunc ? 64 : 12, v[i]->id);
                        snprintf(pids, sizeof(pids), "%llu", (unsigned long long) b[i].pids);
                        json_array_append_new(
                                rows,
                                json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "ID", id,
                                          "Container", id, "Name", eng_container_name(v[i]),
                                          "CPUPerc", cpus, "MemUsage", mem, "MemPerc", memp,
                                          "NetIO", net, "BlockIO", blk, "PIDs", pids));
                }
                if (r == 0 && stream)
                        printf("\033[2J\033[H");
                if (r == 0)
                        r = berth_tmpl_print_rows(
                                format ? format
                                       : "table "
                                         "{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{."
                                         "MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}",
                                rows, stats_headers, stdout, err);
                fflush(stdout);
                json_decref(rows);
        } while (stream && r == 0);
        free(a);
        free(b);
        eng_container_list_free(v, n);
        eng_ctx_free(&e);
        return r;
}

/* One private port's bindings: "0.0.0.0:8080" lines (with "80/tcp -> " when listing all). */
static int print_bindings(const char *key, json_t *list, bool with_key)
{
        size_t i;
        json_t *b;
        int n = 0;
        json_array_foreach(list, i, b)
        {
                const char *ip = json_string_value(json_object_get(b, "HostIp"));
                const char *port = json_string_value(json_object_get(b, "HostPort"));
                bool v6 = ip && strchr(ip, ':');
                printf("%s%s%s%s%s:%s\n", with_key ? key : "", with_key ? " -> " : "",
                       v6 ? "[" : "", ip ? ip : "", v6 ? "]" : "", port ? port : "");
                n++;
        }
        return n;
}

static int port_cmp(const void *a, const void *b)
{
        const char *x = *(const char *const *) a, *y = *(const char *const *) b;
        long px = strtol(x, NULL, 10), py = strtol(y, NULL, 10);
        return px != py ? (px < py ? -1 : 1) : strcmp(x, y);
}

int cmd_port(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        if (argc < 2 || argc > 3)
                return cli_args_error(err, "port", "at least 1 and at most 2 arguments");
        struct eng_ctx e;
        if (eng_ctx_init(&e, &g->paths, err) < 0)
                return -1;
        struct eng_container *c = NULL;
        int r = eng_container_find(&e, argv[1], &c, err);
        if (r < 0 && *err)
                (*err)->status = 1;
        json_t *ports =
                r == 0 ? json_object_get(json_object_get(c->doc, "NetworkSettings"), "Ports")
                       : NULL;
        if (r == 0 && argc == 3) {
                /* "80" means 80/tcp, as Docker reads it */
                cleanup_free char *key = strchr(argv[2], '/') ? berth_xstrdup(argv[2])
                                                              : berth_xasprintf("%s/tcp", argv[2]);
                if (print_bindings(key, json_object_get(ports, key), false) == 0)
                        r = berth_fail_status(err, 1, 0, "No public port '%s' published for %s",
                                              argv[2], argv[1]);
        } else if (r == 0) {
                size_t n = json_object_size(ports), k = 0;
                const char **keys = berth_xcalloc(n ? n : 1, sizeof(*keys));
                const char *key;
                json_t *v;
                json_object_foreach(ports, key, v)
                {
                        keys[k++] = key;
                }
                qsort(keys, k, sizeof(*keys), port_cmp);
                for (size_t i = 0; i < k; i++)
                        print_bindings(keys[i], json_object_get(ports, keys[i]), true);
                free(keys);
        }
        eng_container_free(c);
        eng_ctx_free(&e);
        return r;
}
