/* cmd_vm.c — `berth vm …`: argv and printing over src/vm (vm/vm.h), which
 * does the work; docs/vm.md describes the verbs. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/units.h"
#include "common/util.h"
#include "vm/vm.h"

/* A size in MiB: a bare number is MiB (as berth-vmm's --memory), else
 * Docker's units ("512m", "1g"). */
static int parse_mib(const char *s, const char *what, uint64_t *out, berth_error_t *err)
{
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (end != s && !*end && !errno) {
                *out = v;
                return 0;
        }
        int64_t b;
        if (berth_parse_bytes(s, what, &b, err) < 0)
                return -1;
        if (b <= 0 || b % (1 << 20))
                return berth_fail(err, 0, "%s `%s`: want a whole number of MiB", what, s);
        *out = (uint64_t) b >> 20;
        return 0;
}

static int with_ctx(struct cli_global *g, berth_error_t *err,
                    int (*fn)(struct vm_ctx *c, void *arg, berth_error_t *err), void *arg)
{
        struct vm_ctx c = {0};
        int r = vm_ctx_init(&c, &g->paths, err);
        if (r == 0)
                r = fn(&c, arg, err);
        vm_ctx_free(&c);
        return r < 0 ? -1 : 0;
}

struct args {
        int argc;
        char **argv;
        const char *cmd;
};

static int one_name(struct args *a, berth_error_t *err)
{
        if (optind != a->argc - 1)
                return cli_usage_error(err, a->cmd, "want exactly one VM name");
        return 0;
}

/* vm create NAME [flags] */
static int do_create(struct vm_ctx *c, void *arg, berth_error_t *err)
{
        struct args *a = arg;
        enum {
                O_KERNEL = 256,
                O_INITRD,
                O_CMDLINE,
                O_MEMORY,
                O_CPUS,
                O_DISK,
                O_NET,
                O_VSOCK,
                O_BALLOON,
                O_NO_ACPI,
                O_AUTOSTART,
                O_CONFIG,
                O_NO_JAIL,
                O_CPU_SHARES,
                O_CPU_QUOTA,
                O_MEMORY_LIMIT,
                O_MAX_MEMORY,
                O_MEMORY_BACKING,
                O_TRACK_DIRTY
        };
        static const struct option opts[] = {
                {"kernel", required_argument, NULL, O_KERNEL},
                {"initrd", required_argument, NULL, O_INITRD},
                {"cmdline", required_argument, NULL, O_CMDLINE},
                {"memory", required_argument, NULL, O_MEMORY},
                {"cpus", required_argument, NULL, O_CPUS},
                {"disk", required_argument, NULL, O_DISK},
                {"net", required_argument, NULL, O_NET},
                {"vsock", no_argument, NULL, O_VSOCK},
                {"balloon", no_argument, NULL, O_BALLOON},
                {"no-acpi", no_argument, NULL, O_NO_ACPI},
                {"autostart", no_argument, NULL, O_AUTOSTART},
                {"config", required_argument, NULL, O_CONFIG},
                {"no-jail", no_argument, NULL, O_NO_JAIL},
                {"cpu-shares", required_argument, NULL, O_CPU_SHARES},
                {"cpu-quota", required_argument, NULL, O_CPU_QUOTA},
                {"memory-limit", required_argument, NULL, O_MEMORY_LIMIT},
                {"max-memory", required_argument, NULL, O_MAX_MEMORY},
                {"memory-backing", required_argument, NULL, O_MEMORY_BACKING},
                {"track-dirty-pages", no_argument, NULL, O_TRACK_DIRTY},
                {0}};
        struct vm_create_opts o = {0};
        int ch;
        char *end;
        while ((ch = getopt_long(a->argc, a->argv, "", opts, NULL)) != -1) {
                switch (ch) {
                case O_KERNEL:
                        o.kernel = optarg;
                        break;
                case O_INITRD:
                        o.initrd = optarg;
                        break;
                case O_CMDLINE:
                        o.cmdline = optarg;
                        break;
                case O_MEMORY:
                        if (parse_mib(optarg, "--memory", &o.memory_mib, err) < 0)
                                return -1;
                        break;
                case O_CPUS:
                        o.cpus = (unsigned) strtoul(optarg, &end, 10);
                        if (*end || !o.cpus)
                                return cli_usage_error(err, "vm create", "--cpus `%s`: want 1-32",
                                                       optarg);
                        break;
                case O_DISK:
                        if (o.n_disks >= VM_MAX_DISKS)
                                return cli_usage_error(err, "vm create", "at most %d disks",
                                                       VM_MAX_DISKS);
                        o.disks[o.n_disks++] = optarg;
                        break;
                case O_NET:
                        if (o.n_nets >= VM_MAX_NETS)
                                return cli_usage_error(err, "vm create", "at most %d networks",
                                                       VM_MAX_NETS);
                        o.nets[o.n_nets++] = optarg;
                        break;
                case O_VSOCK:
                        o.vsock = true;
                        break;
                case O_BALLOON:
                        o.balloon = true;
                        break;
                case O_NO_ACPI:
                        o.no_acpi = true;
                        break;
                case O_AUTOSTART:
                        o.autostart = true;
                        break;
                case O_CONFIG:
                        o.config = optarg;
                        break;
                case O_NO_JAIL:
                        o.no_jail = true;
                        break;
                case O_CPU_SHARES:
                case O_CPU_QUOTA: {
                        uint64_t *v = ch == O_CPU_SHARES ? &o.cpu_shares : &o.cpu_quota_us;
                        errno = 0;
                        *v = strtoull(optarg, &end, 10);
                        if (*end || end == optarg || errno || !*v)
                                return cli_usage_error(err, "vm create", "%s `%s`: want a number",
                                                       ch == O_CPU_SHARES ? "--cpu-shares"
                                                                          : "--cpu-quota",
                                                       optarg);
                        break;
                }
                case O_MEMORY_LIMIT:
                        if (parse_mib(optarg, "--memory-limit", &o.memory_limit_mib, err) < 0)
                                return -1;
                        break;
                case O_MAX_MEMORY:
                        if (parse_mib(optarg, "--max-memory", &o.max_memory_mib, err) < 0)
                                return -1;
                        break;
                case O_MEMORY_BACKING: /* virsh's <memoryBacking><hugepages/> */
                        if (strcmp(optarg, "hugepages") != 0 && strcmp(optarg, "default") != 0)
                                return cli_usage_error(err, "vm create",
                                                       "--memory-backing `%s`: want hugepages "
                                                       "or default",
                                                       optarg);
                        o.huge_pages = strcmp(optarg, "hugepages") == 0;
                        break;
                case O_TRACK_DIRTY: /* Firecracker's track_dirty_pages: for --diff snapshots */
                        o.track_dirty = true;
                        break;
                default:
                        return cli_usage_error(err, "vm create", "invalid option");
                }
        }
        if (one_name(a, err) < 0)
                return -1;
        if (o.config &&
            (o.kernel || o.initrd || o.cmdline || o.memory_mib || o.cpus || o.n_disks || o.n_nets ||
             o.vsock || o.balloon || o.max_memory_mib || o.huge_pages || o.track_dirty))
                return cli_usage_error(err, "vm create",
                                       "--config is the whole definition: no --kernel, --disk, "
                                       "... with it");
        o.name = a->argv[optind];
        if (vm_create(c, &o, err) < 0)
                return -1;
        printf("%s\n", o.name);
        return 0;
}

static int do_ls(struct vm_ctx *c, void *arg, berth_error_t *err)
{
        struct args *a = arg;
        static const struct option opts[] = {
                {"all", no_argument, NULL, 'a'}, {"quiet", no_argument, NULL, 'q'}, {0}};
        bool all = false, quiet = false;
        int ch;
        while ((ch = getopt_long(a->argc, a->argv, "aq", opts, NULL)) != -1) {
                if (ch == 'a')
                        all = true;
                else if (ch == 'q')
                        quiet = true;
                else
                        return cli_usage_error(err, "vm ls", "invalid option");
        }
        struct vm_info *v;
        size_t n;
        if (vm_list(c, &v, &n, err) < 0)
                return -1;
        if (!quiet)
                printf("%-8s %-24s %-10s %-6s %-8s %s\n", "ID", "NAME", "STATE", "VCPUS", "MEMORY",
                       "AUTOSTART");
        for (size_t i = 0; i < n; i++) {
                bool up = v[i].status == VM_RUNNING || v[i].status == VM_PAUSED;
                if (all || up) {
                        if (quiet) {
                                printf("%s\n", v[i].name);
                        } else {
                                char id[16] = "-", mem[24];
                                if (up)
                                        snprintf(id, sizeof(id), "%d", v[i].pid);
                                snprintf(mem, sizeof(mem), "%lluMiB",
                                         (unsigned long long) v[i].memory_mib);
                                printf("%-8s %-24s %-10s %-6u %-8s %s\n", id, v[i].name,
                                       vm_status_name(v[i].status), v[i].cpus, mem,
                                       v[i].autostart ? "yes" : "no");
                        }
                }
                vm_info_free(&v[i]);
        }
        free(v);
        return 0;
}

static int print_json(json_t *doc)
{
        char *s = json_dumps(doc, JSON_INDENT(4) | JSON_SORT_KEYS);
        json_decref(doc);
        if (s)
                printf("%s\n", s);
        free(s);
        return 0;
}

/* The verbs that take only names (and a few flags). */
static int do_simple(struct vm_ctx *c, void *arg, berth_error_t *err)
{
        struct args *a = arg;
        const char *cmd = strcmp(a->argv[0], "undefine") == 0 ? "rm" : a->argv[0];
        static const struct option opts[] = {
                {"console", no_argument, NULL, 'c'},       {"force", no_argument, NULL, 'f'},
                {"timeout", required_argument, NULL, 't'}, {"disks", no_argument, NULL, 'd'},
                {"disable", no_argument, NULL, 'D'},       {0}};
        bool console = false, force = false, disks = false, disable = false;
        unsigned timeout = 60;
        int ch;
        char *end;
        while ((ch = getopt_long(a->argc, a->argv, "ft:", opts, NULL)) != -1) {
                switch (ch) {
                case 'c':
                        console = true;
                        break;
                case 'f':
                        force = true;
                        break;
                case 't':
                        timeout = (unsigned) strtoul(optarg, &end, 10);
                        if (*end || !*optarg)
                                return cli_usage_error(err, a->cmd, "--timeout `%s`: want seconds",
                                                       optarg);
                        break;
                case 'd':
                        disks = true;
                        break;
                case 'D':
                        disable = true;
                        break;
                default:
                        return cli_usage_error(err, a->cmd, "invalid option");
                }
        }
        if (optind >= a->argc)
                return cli_usage_error(err, a->cmd, "want a VM name");
        int ret = 0;
        for (int i = optind; i < a->argc; i++) {
                const char *name = a->argv[i];
                int r;
                if (strcmp(cmd, "start") == 0) {
                        r = vm_start(c, name, err);
                        if (r == 0 && console)
                                r = vm_console(c, name, err);
                } else if (strcmp(cmd, "destroy") == 0) {
                        r = vm_destroy(c, name, err);
                } else if (strcmp(cmd, "shutdown") == 0) {
                        r = vm_shutdown(c, name, timeout, force, err);
                } else if (strcmp(cmd, "reboot") == 0) {
                        r = vm_reboot(c, name, force, err);
                } else if (strcmp(cmd, "suspend") == 0 || strcmp(cmd, "resume") == 0) {
                        r = vm_pause(c, name, strcmp(cmd, "suspend") == 0, err);
                } else if (strcmp(cmd, "rm") == 0) {
                        r = vm_remove(c, name, disks, err);
                } else if (strcmp(cmd, "autostart") == 0) {
                        r = vm_set_autostart(c, name, !disable, err);
                } else if (strcmp(cmd, "console") == 0) {
                        r = vm_console(c, name, err);
                } else {
                        json_t *doc;
                        r = strcmp(cmd, "stats") == 0 ? vm_stats(c, name, &doc, err)
                                                      : vm_inspect(c, name, &doc, err);
                        if (r == 0)
                                print_json(doc);
                }
                if (r < 0)
                        return -1; /* the first failure is the one reported */
                if (strcmp(cmd, "console") != 0 && strcmp(cmd, "stats") != 0 &&
                    strcmp(cmd, "inspect") != 0 && !console)
                        printf("%s\n", name);
        }
        return ret;
}

static int do_setmem(struct vm_ctx *c, void *arg, berth_error_t *err)
{
        struct args *a = arg;
        if (a->argc != 3)
                return cli_usage_error(err, "vm setmem", "want NAME SIZE");
        uint64_t mib = 0;
        if (parse_mib(a->argv[2], "size", &mib, err) < 0)
                return -1;
        return vm_setmem(c, a->argv[1], mib, err);
}

static int do_emulatorpin(struct vm_ctx *c, void *arg, berth_error_t *err)
{
        struct args *a = arg;
        if (a->argc != 3)
                return cli_usage_error(err, "vm emulatorpin", "want NAME CPULIST");
        return vm_emulatorpin(c, a->argv[1], a->argv[2], err);
}

static int do_vcpupin(struct vm_ctx *c, void *arg, berth_error_t *err)
{
        struct args *a = arg;
        char *end;
        if (a->argc != 4)
                return cli_usage_error(err, "vm vcpupin", "want NAME VCPU CPULIST");
        unsigned long v = strtoul(a->argv[2], &end, 10);
        if (*end || !*a->argv[2])
                return cli_usage_error(err, "vm vcpupin", "VCPU `%s`: want a number", a->argv[2]);
        return vm_vcpupin(c, a->argv[1], (unsigned) v, a->argv[3], err);
}

/* vm numatune NAME [--nodeset NODES [--mode strict|preferred|interleave]] */
static int do_numatune(struct vm_ctx *c, void *arg, berth_error_t *err)
{
        struct args *a = arg;
        static const struct option opts[] = {{"nodeset", required_argument, NULL, 'n'},
                                             {"mode", required_argument, NULL, 'm'},
                                             {0}};
        const char *nodeset = NULL, *mode = NULL;
        int ch;
        while ((ch = getopt_long(a->argc, a->argv, "", opts, NULL)) != -1) {
                if (ch == 'n')
                        nodeset = optarg;
                else if (ch == 'm')
                        mode = optarg;
                else
                        return cli_usage_error(err, a->cmd, "invalid option");
        }
        if (one_name(a, err) < 0)
                return -1;
        if (mode && !nodeset)
                return cli_usage_error(err, a->cmd, "--mode goes with --nodeset");
        json_t *doc = NULL;
        if (vm_numatune(c, a->argv[optind], nodeset, mode ? mode : "strict", &doc, err) < 0)
                return -1;
        return print_json(doc);
}

/* vm snapshot create|ls|revert|rm NAME [SNAP] */
static int do_snapshot(struct vm_ctx *c, void *arg, berth_error_t *err)
{
        struct args *a = arg;
        const char *verb = a->argc > 1 ? a->argv[1] : "";
        bool ls = strcmp(verb, "ls") == 0 || strcmp(verb, "list") == 0;
        /* create NAME SNAP [--disk-only|--diff] [--memory FILE] (the flags anywhere after the
         * verb, as virsh takes them) */
        bool disk_only = false, create = strcmp(verb, "create") == 0;
        struct vm_snapshot_opts so = {0};
        const char *pos[3] = {NULL, NULL, NULL};
        int npos = 0;
        for (int i = 2; i < a->argc; i++) {
                const char *f = a->argv[i];
                if (create && strcmp(f, "--disk-only") == 0)
                        disk_only = true;
                else if (create && strcmp(f, "--diff") == 0)
                        so.diff = true;
                else if (create && strcmp(f, "--memory") == 0 && i + 1 < a->argc)
                        so.memory = a->argv[++i];
                else if (create && berth_str_has_prefix(f, "--memory="))
                        so.memory = f + 9;
                else if (f[0] == '-' && f[1])
                        return cli_usage_error(err, "vm snapshot", "unknown flag `%s`", f);
                else if (npos < 3)
                        pos[npos++] = f;
                else
                        npos++;
        }
        if (npos != (ls ? 1 : 2))
                return cli_usage_error(err, "vm snapshot",
                                       "want create NAME SNAP [--disk-only|--diff] [--memory "
                                       "FILE], revert|rm NAME SNAP, or ls NAME");
        if (disk_only && (so.diff || so.memory))
                return cli_usage_error(err, "vm snapshot",
                                       "--disk-only keeps no memory: no --diff or --memory");
        const char *name = pos[0], *snap = pos[1];
        if (create)
                return disk_only ? vm_snapshot_create_disk(c, name, snap, err)
                                 : vm_snapshot_create(c, name, snap, &so, err);
        if (strcmp(verb, "revert") == 0)
                return vm_snapshot_revert(c, name, snap, err);
        if (strcmp(verb, "rm") == 0 || strcmp(verb, "delete") == 0)
                return vm_snapshot_remove(c, name, snap, err);
        if (!ls)
                return cli_usage_error(err, "vm snapshot", "unknown verb `%s`", verb);
        json_t *list = NULL;
        if (vm_snapshot_list(c, name, &list, err) < 0)
                return -1;
        printf("%-24s %-20s %-10s %s\n", "NAME", "CREATED", "KIND", "MEMORY");
        size_t i;
        json_t *s;
        json_array_foreach(list, i, s)
        {
                time_t t = (time_t) json_integer_value(json_object_get(s, "Created"));
                char when[32];
                struct tm tm;
                strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
                const char *kind = json_string_value(json_object_get(s, "Kind"));
                bool disk = kind && strcmp(kind, "disk-only") == 0;
                const char *parent = json_string_value(json_object_get(s, "Parent"));
                char mem[96] = "-"; /* a disk-only snapshot keeps no memory */
                if (!disk)
                        snprintf(mem, sizeof(mem), "%lld MiB%s%.60s",
                                 (long long) json_integer_value(json_object_get(s, "MemoryMiB")),
                                 parent ? ", over " : "", parent ? parent : "");
                printf("%-24s %-20s %-10s %s\n", json_string_value(json_object_get(s, "Name")),
                       when, kind ? kind : "full", mem);
        }
        json_decref(list);
        return 0;
}

/* vm clone NAME SNAP NEWNAME [--no-start]: started at once, or at its first `vm start`. */
static int do_clone(struct vm_ctx *c, void *arg, berth_error_t *err)
{
        struct args *a = arg;
        if (a->argc == 2 && (strcmp(a->argv[1], "--help") == 0 || strcmp(a->argv[1], "-h") == 0)) {
                printf("Usage: berth vm clone NAME SNAP NEWNAME [--no-start]\n\nStart NEWNAME "
                       "from VM NAME's full snapshot SNAP: NAME's definition, its own copies of "
                       "the snapshot's disks (docs/vm.md).\n\n  --no-start   define NEWNAME "
                       "shut off; its first `vm start` resumes the snapshot\n");
                return 0;
        }
        const char *pos[3];
        int n = 0;
        bool start_now = true;
        for (int i = 1; i < a->argc; i++) {
                if (strcmp(a->argv[i], "--no-start") == 0)
                        start_now = false;
                else if (a->argv[i][0] == '-' || n == 3)
                        return cli_usage_error(err, a->cmd, "want NAME SNAP NEWNAME [--no-start]");
                else
                        pos[n++] = a->argv[i];
        }
        if (n != 3)
                return cli_usage_error(err, a->cmd, "want NAME SNAP NEWNAME [--no-start]");
        return vm_clone(c, pos[0], pos[1], pos[2], start_now, err);
}

static void print_figures(json_t *f)
{
        printf("%s migration: %.0f ms in all, %.1f ms of downtime, %.1f MiB sent, %lld round(s)",
               json_string_value(json_object_get(f, "Mode")),
               json_number_value(json_object_get(f, "TotalMs")),
               json_number_value(json_object_get(f, "DowntimeMs")),
               (double) json_integer_value(json_object_get(f, "Bytes")) / 1048576.0,
               (long long) json_integer_value(json_object_get(f, "Rounds")));
        if (json_is_true(json_object_get(f, "CopyStorage")))
                printf(", disks copied (%.1f MiB of data)",
                       (double) json_integer_value(json_object_get(f, "DiskBytes")) / 1048576.0);
        printf("\n");
}

/* vm migrate NAME DEST [--live] [--max-downtime MS] [--bandwidth MiB/s] [--auto-converge]
 * [--postcopy] [--copy-storage-all] */
static int do_migrate(struct vm_ctx *c, void *arg, berth_error_t *err)
{
        struct args *a = arg;
        enum { O_LIVE = 256, O_DOWNTIME, O_BW, O_AC, O_POSTCOPY, O_STORAGE };
        static const struct option opts[] = {{"live", no_argument, NULL, O_LIVE},
                                             {"max-downtime", required_argument, NULL, O_DOWNTIME},
                                             {"bandwidth", required_argument, NULL, O_BW},
                                             {"auto-converge", no_argument, NULL, O_AC},
                                             {"postcopy", no_argument, NULL, O_POSTCOPY},
                                             {"copy-storage-all", no_argument, NULL, O_STORAGE},
                                             {0}};
        struct vm_migrate_opts o = {0};
        int ch;
        char *end;
        while ((ch = getopt_long(a->argc, a->argv, "", opts, NULL)) != -1) {
                switch (ch) {
                case O_LIVE:
                        o.live = true;
                        break;
                case O_DOWNTIME:
                case O_BW: {
                        unsigned long long v = strtoull(optarg, &end, 10);
                        if (*end || !*optarg || v == 0 || v > 1000000)
                                return cli_usage_error(
                                        err, a->cmd, "%s `%s`: want a number",
                                        ch == O_BW ? "--bandwidth" : "--max-downtime", optarg);
                        *(ch == O_BW ? &o.bandwidth_mib : &o.max_downtime_ms) = v;
                        break;
                }
                case O_AC:
                        o.auto_converge = true;
                        break;
                case O_POSTCOPY:
                        o.postcopy = o.live = true;
                        break;
                case O_STORAGE:
                        o.copy_storage = true;
                        break;
                default:
                        return cli_usage_error(err, a->cmd, "invalid option");
                }
        }
        if (a->argc - optind != 2)
                return cli_usage_error(err, a->cmd, "want NAME DEST (tcp:HOST:PORT or unix:PATH)");
        o.dest = a->argv[optind + 1];
        json_t *f = NULL;
        if (vm_migrate(c, a->argv[optind], &o, &f, err) < 0)
                return -1;
        print_figures(f);
        json_decref(f);
        return 0;
}

/* vm migrate-postcopy NAME: the migration under way goes post-copy */
static int do_migrate_postcopy(struct vm_ctx *c, void *arg, berth_error_t *err)
{
        struct args *a = arg;
        if (a->argc != 2)
                return cli_usage_error(err, a->cmd, "want NAME");
        return vm_migrate_postcopy(c, a->argv[1], err);
}

/* vm receive ADDR: take one migrated VM */
static int do_receive(struct vm_ctx *c, void *arg, berth_error_t *err)
{
        struct args *a = arg;
        if (a->argc != 2)
                return cli_usage_error(err, a->cmd, "want ADDR (tcp:HOST:PORT or unix:PATH)");
        char *name = NULL;
        json_t *f = NULL;
        if (vm_receive(c, a->argv[1], &name, &f, err) < 0)
                return -1;
        printf("received VM %s\n", name);
        print_figures(f);
        free(name);
        json_decref(f);
        return 0;
}

#define VERB(fn_name, impl, label)                                                          \
        static int fn_name(struct cli_global *g, int argc, char **argv, berth_error_t *err) \
        {                                                                                   \
                struct args a = {argc, argv, label};                                        \
                return with_ctx(g, err, impl, &a);                                          \
        }

VERB(vm_cmd_create, do_create, "vm create")
VERB(vm_cmd_ls, do_ls, "vm ls")
VERB(vm_cmd_simple, do_simple, "vm")
VERB(vm_cmd_setmem, do_setmem, "vm setmem")
VERB(vm_cmd_vcpupin, do_vcpupin, "vm vcpupin")
VERB(vm_cmd_emulatorpin, do_emulatorpin, "vm emulatorpin")
VERB(vm_cmd_numatune, do_numatune, "vm numatune")
VERB(vm_cmd_snapshot, do_snapshot, "vm snapshot")
VERB(vm_cmd_clone, do_clone, "vm clone")
VERB(vm_cmd_migrate, do_migrate, "vm migrate")
VERB(vm_cmd_receive, do_receive, "vm receive")
VERB(vm_cmd_migrate_postcopy, do_migrate_postcopy, "vm migrate-postcopy")

static const struct cli_command vm_commands[] = {
        {"create", vm_cmd_create,
         "Define a VM (--kernel --initrd --cmdline --memory --cpus "
         "--disk --net --vsock --balloon --max-memory --no-jail --cpu-shares --cpu-quota "
         "--memory-limit --memory-backing hugepages --track-dirty-pages)"},
        {"define", vm_cmd_create, NULL},
        {"ls", vm_cmd_ls, "List running VMs (--all: defined ones too)"},
        {"list", vm_cmd_ls, NULL},
        {"start", vm_cmd_simple, "Start a VM (--console: attach)"},
        {"shutdown", vm_cmd_simple, "Ask the guest to power off (--timeout S, --force)"},
        {"destroy", vm_cmd_simple, "Stop a VM at once"},
        {"reboot", vm_cmd_simple, "Ask the guest to reboot (--force: reset)"},
        {"suspend", vm_cmd_simple, "Pause a VM's vCPUs"},
        {"resume", vm_cmd_simple, "Resume a suspended VM"},
        {"console", vm_cmd_simple, "Attach to a VM's serial console (detach: Ctrl+])"},
        {"rm", vm_cmd_simple, "Undefine a VM (--disks: its disk files too)"},
        {"undefine", vm_cmd_simple, NULL},
        {"inspect", vm_cmd_simple, "Show a VM's definition and state as JSON"},
        {"stats", vm_cmd_simple, "Show a running VM's vCPU times, VM exits and device counters"},
        {"autostart", vm_cmd_simple, "Start a VM with `berth system service` (--disable)"},
        {"setmem", vm_cmd_setmem, "Set the guest's memory through the balloon: NAME SIZE"},
        {"vcpupin", vm_cmd_vcpupin,
         "Pin a vCPU's thread: NAME VCPU CPULIST (kept for later starts)"},
        {"emulatorpin", vm_cmd_emulatorpin, "Pin the VMM's other threads: NAME CPULIST"},
        {"numatune", vm_cmd_numatune,
         "Place guest RAM and vCPUs on NUMA nodes: NAME --nodeset N [--mode strict|preferred|"
         "interleave] (at the next start)"},
        {"snapshot", vm_cmd_snapshot,
         "Snapshots: create NAME SNAP [--disk-only|--diff] [--memory FILE], revert|rm NAME "
         "SNAP, ls NAME"},
        {"clone", vm_cmd_clone,
         "Start a new VM from a full snapshot of another: NAME SNAP NEWNAME"},
        {"migrate", vm_cmd_migrate,
         "Move a VM to a `vm receive` host: NAME DEST [--live] [--postcopy] [--max-downtime MS] "
         "[--bandwidth MiB/s] [--auto-converge]"},
        {"receive", vm_cmd_receive, "Take one VM migrated here: ADDR (tcp:HOST:PORT, unix:PATH)"},
        {"migrate-postcopy", vm_cmd_migrate_postcopy,
         "Switch a VM's live migration under way to post-copy: NAME"},
        {NULL, NULL, NULL},
};

int cmd_vm(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        return cli_run_group(g, "vm", vm_commands, argc, argv, err);
}
