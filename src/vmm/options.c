/* options.c — berth-vmm's command line, parsed into a struct vmm_config
 * (kept out of main so the unit tests can drive it). */
#include <errno.h>
#include <getopt.h>
#include <linux/mempolicy.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "disk/disk.h"
#include "vmm/boot.h"
#include "vmm/jail.h"
#include "vmm/vmm.h"

#define DEFAULT_CMDLINE "console=ttyS0 reboot=k panic=1"

void vmm_config_init(struct vmm_config *c)
{
        memset(c, 0, sizeof(*c));
        c->cpus = 1;
        c->memory_mib = 128;
        c->cmdline = DEFAULT_CMDLINE;
        c->console = VMM_CONSOLE_STDIO;
        c->jail_uid = c->jail_gid = -1;
        c->jail_selftest = -1;
        c->wait_fd = -1;
}

void vmm_usage(FILE *out)
{
        fprintf(out,
                "Usage: berth-vmm --kernel PATH [OPTION]...\n"
                "       berth-vmm --api-sock PATH [OPTION]...\n"
                "\n"
                "Without --kernel, wait for the VM's configuration and InstanceStart on the\n"
                "API socket.\n"
                "Run one KVM microVM until its guest powers off.\n"
                "\n"
                "  --kernel PATH        ELF vmlinux (PVH entry if it has the note, else the\n"
                "                       64-bit entry) or bzImage (64-bit boot protocol)\n"
                "  --initrd PATH        initial ramdisk, placed at the top of low memory\n"
                "  --cmdline STR        kernel command line (default \"" DEFAULT_CMDLINE "\");\n"
                "                       virtio_mmio.device= entries for each device are appended\n"
                "  --cpus N             number of vCPUs, 1-%u (default 1)\n"
                "  --memory MIB         guest memory in MiB, at least %llu (default 128)\n"
                "  --disk PATH[,ro][,direct][,format=raw|qcow2][,io=thread|uring]\n"
                "         [,bw=MIB][,iops=N][,backing=PATH[:PATH]...]\n"
                "                       a virtio-blk disk (direct: O_DIRECT, no host page\n"
                "                       cache; io=uring: batches through io_uring on a raw\n"
                "                       disk instead of one call at a time on its I/O thread;\n"
                "                       bw/iops: token-bucket limits per second);\n"
                "                       backing=: backing files (or directories holding them)\n"
                "                       a qcow2's chain may open besides those in its own\n"
                "                       directory; repeat for more (at most %u)\n"
                "  --net tap=NAME[,mac=MAC][,id=ID][,bw=MIB][,pps=N][,rx_bw=MIB][,rx_pps=N]\n"
                "  --net network=NET[,tap=NAME][,name=VMNAME][,mac=MAC][,id=ID][,...]\n"
                "                       a virtio-net device on tap NAME (created if missing);\n"
                "                       with network=, the tap (default btapXXXXXXXX) joins the\n"
                "                       berth network NET (`berth network ls`), gets an address\n"
                "                       from it (ip= on the kernel command line) and, on a user\n"
                "                       network, a DNS name VMNAME (default vm-<pid>);\n"
                "                       bw/pps (or tx_bw/tx_pps) limit what the guest sends,\n"
                "                       rx_bw/rx_pps what it receives, per second; ID names it\n"
                "                       in the API (default netN); repeat for more (at most %u)\n"
                "  --tap-fd ID=FD       interface ID (its iface_id, or netN) uses the tap open\n"
                "                       on descriptor FD (IFF_TAP|IFF_NO_PI|IFF_VNET_HDR):\n"
                "                       berth-vmm neither makes a tap nor joins a network for\n"
                "                       it, so a jailed VMM needs neither /dev/net/tun nor\n"
                "                       berth's state (berth vm's supervisor does both)\n"
                "  --boot-arg WORD      appended to the guest's kernel command line unless it\n"
                "                       sets WORD's key already (berth vm: the ip= of the\n"
                "                       address a --tap-fd interface was lent)\n"
                "  --vsock CID,UDS_PATH a virtio-vsock device: guest context id CID (>= 3); a\n"
                "                       guest connection to host port P reaches the unix socket\n"
                "                       UDS_PATH_P\n"
                "  --huge-pages 2M|None guest RAM in 2 MiB huge pages from the host's pool\n"
                "                       (reserved at start; no balloon with them)\n"
                "  --balloon MIB        a virtio-balloon device with an initial target of MIB\n"
                "                       (change it with PATCH /balloon on the API socket)\n"
                "  --api-sock PATH      serve the REST API (docs/vmm-api.yaml) on unix socket "
                "PATH\n"
                "  --api-timeout SECS   drop an API client silent this long (default %u);\n"
                "                       with all %u client slots taken, a new client drops\n"
                "                       the least recently active one\n"
                "  --rng                a virtio-rng device fed from the host's getrandom()\n"
                "  --no-acpi            no ACPI tables (devices only on the command line)\n"
                "  --restore SNAP --restore-mem FILE\n"
                "                       resume a full snapshot (PUT /snapshot/create): its\n"
                "                       configuration, devices and vCPUs; RAM mapped from FILE\n"
                "  --restore-mem-diff DIFF\n"
                "                       (repeatable, oldest first) resume a Diff snapshot: SNAP\n"
                "                       is the newest diff's state, FILE the full snapshot's\n"
                "                       memory, each DIFF a diff's memory laid over it\n"
                "  --track-dirty-pages  keep KVM's dirty log on from the start, so that\n"
                "                       PUT /snapshot/create can write Diff snapshots\n"
                "  --migrate-incoming tcp:HOST:PORT|unix:PATH\n"
                "                       receive a live migration (PUT /migrate on the source's\n"
                "                       API) there: the VM's configuration, RAM and state come\n"
                "                       from the stream; it runs once loaded\n"
                "                       (with --jail, --config FILE names the VM's files for the\n"
                "                       jail: its definition on this host)\n"
                "  --migrate-disk INDEX:PATH\n"
                "                       with --migrate-incoming, from a source that copies its\n"
                "                       disks (copy_storage): drive INDEX's contents go into\n"
                "                       PATH (an image of the same size), which it then runs on\n"
                "  --console stdio|pty|unix:PATH|none\n"
                "                       the guest's serial console: stdin/stdout (default), a\n"
                "                       pseudo-terminal (its name is printed), a unix socket one\n"
                "                       client at a time can attach to, or off\n"
                "  --config FILE        a JSON configuration (Firecracker's --config-file shape:\n"
                "                       boot-source, machine-config, drives, network-interfaces,\n"
                "                       vsock, balloon, entropy); flags after it override it\n"
                "  --jail               run confined (docs/vmm.md): a pid and a mount namespace\n"
                "                       whose root holds only the VM's files, devices and\n"
                "                       socket directories; uid/gid 65534 (root) or the user's;\n"
                "                       no capabilities, no_new_privs, a seccomp allow-list\n"
                "                       per thread (a forbidden call kills the VMM, status 159)\n"
                "  --jail-rw DIR        a directory bound writable into the jail, where the\n"
                "                       API's snapshots may be written (berth vm: snapshots/)\n"
                "  --jail-migrate       the jail lets the VM migrate away (PUT /migrate) over\n"
                "                       tcp: the main thread's list gains inet sockets, KVM's\n"
                "                       dirty log and thread creation (berth vm: always)\n"
                "  --numa NODES:MODE    guest RAM's NUMA policy (mbind): NODES a list as 0-1,3;\n"
                "                       MODE strict, preferred (one node) or interleave\n"
                "  --wait-fd N          read descriptor N to its end before the VM is built\n"
                "                       (berth vm: its supervisor puts the VMM in the VM's\n"
                "                       cgroup meanwhile)\n"
                "  --jail-uid UID, --jail-gid GID\n"
                "                       the jailed VMM's ids (root only; not 0)\n"
                "  --jail-selftest main|vcpu|blk\n"
                "                       test hook: that thread makes a forbidden system call\n"
                "                       once its allow-list is in place (the VMM must die)\n"
                "  --log-level LEVEL    error, warning (default), info or debug\n"
                "  -h, --help           show this help\n"
                "\n"
                "Exit status:\n"
                "  0   the guest powered off          10  the guest rebooted\n"
                "  1   the VMM failed                 11  the guest triple-faulted\n"
                "  2   bad command line               12  KVM could not run the guest\n"
                "  3   bad kernel or initrd           13  stopped by a signal\n"
                "                                     14  migrated (PUT /migrate)\n",
                (unsigned) VMM_MAX_CPUS, (unsigned long long) (BOOT_MIN_MEMORY >> 20),
                (unsigned) VMM_MAX_DISKS, (unsigned) VMM_MAX_NETS, (unsigned) VMM_API_TIMEOUT_S,
                (unsigned) VMM_API_MAX_CLIENTS);
}

static int usage_error(berth_error_t *err, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static int usage_error(berth_error_t *err, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        berth_failv(err, EINVAL, fmt, ap);
        va_end(ap);
        if (*err && !(*err)->status)
                (*err)->status = VMM_EXIT_USAGE;
        return -1;
}

static int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
        char *end;
        errno = 0;
        if (!*s || *s == '-')
                return -1;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || *end || v > max)
                return -1;
        *out = v;
        return 0;
}

/* KEY=N (N << shift per second) into a bucket: 0 if o is not KEY=, 1 when
 * parsed, -1 when N is bad. */
static int rate_opt(const char *o, const char *key, unsigned shift, struct vmm_bucket_config *b)
{
        uint64_t v;
        if (!berth_str_has_prefix(o, key))
                return 0;
        if (parse_uint(o + strlen(key), 1ull << (40 - shift), &v) < 0)
                return -1;
        vmm_bucket_per_second(b, v << shift);
        return 1;
}

static int parse_disk(struct vmm_config *c, char *arg, berth_error_t *err)
{
        int r;
        if (c->n_disks >= VMM_MAX_DISKS)
                return usage_error(err, "too many disks (at `%s`)", arg);
        struct vmm_disk_config *d = &c->disks[c->n_disks];
        /* The path is the first field even when empty (strtok would skip it). */
        char *rest = arg;
        char *path = strsep(&rest, ",");
        if (!path || !*path)
                return usage_error(err, "--disk: no path before the options");
        char *save = NULL;
        d->path = path;
        d->format = DISK_FORMAT_AUTO;
        for (char *o = rest ? strtok_r(rest, ",", &save) : NULL; o;
             o = strtok_r(NULL, ",", &save)) {
                if (strcmp(o, "ro") == 0) {
                        d->readonly = true;
                } else if (strcmp(o, "direct") == 0) {
                        d->direct = true;
                } else if (strcmp(o, "io=uring") == 0 || strcmp(o, "io=thread") == 0) {
                        d->io_uring = strcmp(o, "io=uring") == 0;
                } else if ((r = rate_opt(o, "bw=", 20, &d->limit.bandwidth)) ||
                           (r = rate_opt(o, "iops=", 0, &d->limit.ops))) {
                        if (r < 0)
                                return usage_error(err, "--disk: bad `%s`", o);
                } else if (berth_str_has_prefix(o, "backing=") && o[8]) {
                        d->backing = o + 8;
                } else if (berth_str_has_prefix(o, "format=")) {
                        const char *f = o + 7;
                        if (strcmp(f, "raw") == 0)
                                d->format = DISK_FORMAT_RAW;
                        else if (strcmp(f, "qcow2") == 0)
                                d->format = DISK_FORMAT_QCOW2;
                        else
                                return usage_error(err, "--disk: unknown format `%s`", f);
                } else {
                        return usage_error(err, "--disk: unknown option `%s`", o);
                }
        }
        c->n_disks++;
        return 0;
}

static int parse_net(struct vmm_config *c, char *arg, berth_error_t *err)
{
        if (c->n_nets >= VMM_MAX_NETS)
                return usage_error(err, "too many network interfaces (at `%s`)", arg);
        struct vmm_net_config *n = &c->nets[c->n_nets];
        bool have_mac = false;
        int r;
        char *save = NULL;
        for (char *o = strtok_r(arg, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
                if (berth_str_has_prefix(o, "tap=") && o[4]) {
                        n->tap = o + 4;
                } else if (berth_str_has_prefix(o, "network=") && o[8]) {
                        n->network = o + 8;
                } else if (berth_str_has_prefix(o, "name=") && o[5]) {
                        n->name = o + 5;
                } else if (berth_str_has_prefix(o, "mac=")) {
                        if (vmm_net_parse_mac(o + 4, n->mac) < 0)
                                return usage_error(err, "--net: bad MAC address `%s`", o + 4);
                        have_mac = true;
                } else if (berth_str_has_prefix(o, "id=") && o[3]) {
                        n->id = o + 3;
                } else if ((r = rate_opt(o, "bw=", 20, &n->tx.bandwidth)) ||
                           (r = rate_opt(o, "tx_bw=", 20, &n->tx.bandwidth)) ||
                           (r = rate_opt(o, "pps=", 0, &n->tx.ops)) ||
                           (r = rate_opt(o, "tx_pps=", 0, &n->tx.ops)) ||
                           (r = rate_opt(o, "rx_bw=", 20, &n->rx.bandwidth)) ||
                           (r = rate_opt(o, "rx_pps=", 0, &n->rx.ops))) {
                        if (r < 0)
                                return usage_error(err, "--net: bad `%s`", o);
                } else {
                        return usage_error(err, "--net: unknown option `%s`", o);
                }
        }
        if (!n->tap && !n->network)
                return usage_error(err, "--net needs tap=NAME or network=NAME");
        if (n->name && !n->network)
                return usage_error(err, "--net: name= needs network=");
        if (!have_mac)
                vmm_net_random_mac(n->mac);
        c->n_nets++;
        return 0;
}

int vmm_numa_parse(const char *s, uint64_t *nodes, int *mode, berth_error_t *err)
{
        const char *colon = strrchr(s, ':');
        uint64_t set = 0;
        const char *p = s;
        while (colon && p < colon) {
                char *end;
                unsigned long a = strtoul(p, &end, 10), b = a;
                if (end == p)
                        break;
                if (*end == '-')
                        b = strtoul(end + 1, &end, 10);
                if (b < a || b > 63 || (end != colon && *end != ','))
                        break;
                for (unsigned long i = a; i <= b; i++)
                        set |= 1ull << i;
                p = end == colon ? end : end + 1;
        }
        const char *m = colon ? colon + 1 : "";
        int mo = strcmp(m, "strict") == 0       ? MPOL_BIND
                 : strcmp(m, "preferred") == 0  ? MPOL_PREFERRED
                 : strcmp(m, "interleave") == 0 ? MPOL_INTERLEAVE
                                                : 0;
        if (!colon || p != colon || !set || !mo)
                return usage_error(err,
                                   "--numa `%s`: want NODES:MODE, NODES as 0-1,3 (0-63), MODE "
                                   "strict, preferred or interleave",
                                   s);
        if (mo == MPOL_PREFERRED && (set & (set - 1)))
                return usage_error(err, "--numa `%s`: preferred takes one node", s);
        *nodes = set;
        *mode = mo;
        return 0;
}

int vmm_config_parse_args(struct vmm_config *c, int argc, char **argv, berth_error_t *err)
{
        enum {
                O_KERNEL = 256,
                O_INITRD,
                O_CMDLINE,
                O_CPUS,
                O_MEMORY,
                O_DISK,
                O_NET,
                O_VSOCK,
                O_BALLOON,
                O_HUGE_PAGES,
                O_API_SOCK,
                O_RNG,
                O_NO_ACPI,
                O_CONSOLE,
                O_LOG_LEVEL,
                O_CONFIG,
                O_JAIL,
                O_JAIL_UID,
                O_JAIL_GID,
                O_JAIL_SELFTEST,
                O_JAIL_RW,
                O_JAIL_MIGRATE,
                O_WAIT_FD,
                O_NUMA,
                O_API_TIMEOUT,
                O_RESTORE,
                O_RESTORE_MEM,
                O_RESTORE_MEM_DIFF,
                O_TRACK_DIRTY,
                O_MIGRATE_INCOMING,
                O_MIGRATE_DISK,
                O_TAP_FD,
                O_BOOT_ARG,
        };
        static const struct option opts[] = {
                {"kernel", required_argument, NULL, O_KERNEL},
                {"initrd", required_argument, NULL, O_INITRD},
                {"cmdline", required_argument, NULL, O_CMDLINE},
                {"cpus", required_argument, NULL, O_CPUS},
                {"memory", required_argument, NULL, O_MEMORY},
                {"disk", required_argument, NULL, O_DISK},
                {"net", required_argument, NULL, O_NET},
                {"vsock", required_argument, NULL, O_VSOCK},
                {"balloon", required_argument, NULL, O_BALLOON},
                {"api-sock", required_argument, NULL, O_API_SOCK},
                {"rng", no_argument, NULL, O_RNG},
                {"no-acpi", no_argument, NULL, O_NO_ACPI},
                {"huge-pages", required_argument, NULL, O_HUGE_PAGES},
                {"restore", required_argument, NULL, O_RESTORE},
                {"restore-mem", required_argument, NULL, O_RESTORE_MEM},
                {"restore-mem-diff", required_argument, NULL, O_RESTORE_MEM_DIFF},
                {"track-dirty-pages", no_argument, NULL, O_TRACK_DIRTY},
                {"migrate-incoming", required_argument, NULL, O_MIGRATE_INCOMING},
                {"migrate-disk", required_argument, NULL, O_MIGRATE_DISK},
                {"tap-fd", required_argument, NULL, O_TAP_FD},
                {"boot-arg", required_argument, NULL, O_BOOT_ARG},
                {"console", required_argument, NULL, O_CONSOLE},
                {"log-level", required_argument, NULL, O_LOG_LEVEL},
                {"config", required_argument, NULL, O_CONFIG},
                {"jail", no_argument, NULL, O_JAIL},
                {"jail-uid", required_argument, NULL, O_JAIL_UID},
                {"jail-gid", required_argument, NULL, O_JAIL_GID},
                {"jail-selftest", required_argument, NULL, O_JAIL_SELFTEST},
                {"jail-rw", required_argument, NULL, O_JAIL_RW},
                {"jail-migrate", no_argument, NULL, O_JAIL_MIGRATE},
                {"wait-fd", required_argument, NULL, O_WAIT_FD},
                {"numa", required_argument, NULL, O_NUMA},
                {"api-timeout", required_argument, NULL, O_API_TIMEOUT},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        optind = 1;
        opterr = 0;
        int o;
        uint64_t v;
        bool kernel_flag = false, config_given = false;
        while ((o = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
                switch (o) {
                case O_KERNEL:
                        c->kernel = optarg;
                        kernel_flag = true;
                        break;
                case O_INITRD:
                        c->initrd = optarg;
                        break;
                case O_CMDLINE:
                        c->cmdline = optarg;
                        break;
                case O_CPUS:
                        if (parse_uint(optarg, VMM_MAX_CPUS, &v) < 0 || v == 0)
                                return usage_error(err,
                                                   "--cpus `%s`: want a number from 1 to "
                                                   "32",
                                                   optarg);
                        c->cpus = (unsigned) v;
                        break;
                case O_MEMORY:
                        if (parse_uint(optarg, 1ull << 30, &v) < 0 || (v << 20) < BOOT_MIN_MEMORY)
                                return usage_error(err,
                                                   "--memory `%s`: want a whole number of MiB, "
                                                   "at least 4",
                                                   optarg);
                        c->memory_mib = v;
                        break;
                case O_DISK:
                        if (parse_disk(c, optarg, err) < 0)
                                return -1;
                        break;
                case O_NET:
                        if (parse_net(c, optarg, err) < 0)
                                return -1;
                        break;
                case O_VSOCK: {
                        char *comma = strchr(optarg, ',');
                        if (!comma || !comma[1])
                                return usage_error(err, "--vsock `%s`: want CID,UDS_PATH", optarg);
                        *comma = 0;
                        if (parse_uint(optarg, UINT32_MAX - 1, &v) < 0 || v < 3)
                                return usage_error(err, "--vsock: CID `%s` must be 3 or more",
                                                   optarg);
                        c->vsock.cid = v;
                        c->vsock.uds_path = comma + 1;
                        break;
                }
                case O_BALLOON:
                        if (parse_uint(optarg, 1ull << 30, &v) < 0)
                                return usage_error(err, "--balloon `%s`: want a size in MiB",
                                                   optarg);
                        c->balloon = true;
                        c->balloon_mib = v;
                        break;
                case O_API_SOCK:
                        c->api_sock = optarg;
                        break;
                case O_RNG:
                        c->rng = true;
                        break;
                case O_NO_ACPI:
                        c->no_acpi = true;
                        break;
                case O_HUGE_PAGES:
                        if (strcmp(optarg, "2M") != 0 && strcmp(optarg, "None") != 0)
                                return usage_error(err, "--huge-pages `%s`: want 2M or None",
                                                   optarg);
                        c->huge_pages = strcmp(optarg, "2M") == 0;
                        break;
                case O_RESTORE:
                        c->restore = optarg;
                        break;
                case O_RESTORE_MEM:
                        c->restore_mem = optarg;
                        break;
                case O_RESTORE_MEM_DIFF:
                        if (c->n_restore_diffs == VMM_MAX_MEM_DIFFS)
                                return usage_error(err, "more than %u --restore-mem-diff",
                                                   VMM_MAX_MEM_DIFFS);
                        c->restore_diffs[c->n_restore_diffs++] = optarg;
                        break;
                case O_TRACK_DIRTY:
                        c->track_dirty = true;
                        break;
                case O_MIGRATE_INCOMING:
                        if (!berth_str_has_prefix(optarg, "tcp:") &&
                            !berth_str_has_prefix(optarg, "unix:"))
                                return usage_error(err,
                                                   "--migrate-incoming `%s`: want "
                                                   "tcp:HOST:PORT or unix:PATH",
                                                   optarg);
                        c->migrate_incoming = optarg;
                        break;
                case O_MIGRATE_DISK: {
                        char *end;
                        unsigned long i = strtoul(optarg, &end, 10);
                        if (end == optarg || *end != ':' || !end[1] || i >= VMM_MAX_DISKS ||
                            c->migrate_disk[i])
                                return usage_error(err,
                                                   "--migrate-disk `%s`: want INDEX:PATH, INDEX "
                                                   "below %u and each once",
                                                   optarg, VMM_MAX_DISKS);
                        c->migrate_disk[i] = end + 1;
                        break;
                }
                case O_TAP_FD:
                        if (vmm_tap_fd_parse(c, optarg, err) < 0)
                                return -1;
                        break;
                case O_BOOT_ARG:
                        c->boot_arg = optarg;
                        break;
                case O_CONSOLE:
                        if (strcmp(optarg, "stdio") == 0)
                                c->console = VMM_CONSOLE_STDIO;
                        else if (strcmp(optarg, "none") == 0)
                                c->console = VMM_CONSOLE_NONE;
                        else if (strcmp(optarg, "pty") == 0)
                                c->console = VMM_CONSOLE_PTY;
                        else if (berth_str_has_prefix(optarg, "unix:") && optarg[5]) {
                                c->console = VMM_CONSOLE_UNIX;
                                c->console_path = optarg + 5;
                        } else
                                return usage_error(err,
                                                   "--console `%s`: want stdio, pty, unix:PATH "
                                                   "or none",
                                                   optarg);
                        break;
                case O_CONFIG:
                        if (vmm_config_load_json(c, optarg, err) < 0)
                                return -1;
                        config_given = true;
                        break;
                case O_LOG_LEVEL:
                        c->log_level = optarg;
                        break;
                case O_JAIL:
                        c->jail = true;
                        break;
                case O_API_TIMEOUT:
                        if (parse_uint(optarg, 24 * 3600, &v) < 0 || v == 0)
                                return usage_error(
                                        err, "--api-timeout `%s`: want seconds, 1 or more", optarg);
                        c->api_timeout_s = (unsigned) v;
                        break;
                case O_JAIL_UID:
                case O_JAIL_GID:
                        if (parse_uint(optarg, UINT32_MAX - 1, &v) < 0 || v == 0)
                                return usage_error(err, "%s `%s`: want a uid or gid other than 0",
                                                   o == O_JAIL_UID ? "--jail-uid" : "--jail-gid",
                                                   optarg);
                        *(o == O_JAIL_UID ? &c->jail_uid : &c->jail_gid) = (long) v;
                        break;
                case O_JAIL_RW:
                        c->jail_rw = optarg;
                        break;
                case O_JAIL_MIGRATE:
                        c->jail_migrate = true;
                        break;
                case O_NUMA:
                        if (vmm_numa_parse(optarg, &c->numa_nodes, &c->numa_mode, err) < 0)
                                return -1;
                        break;
                case O_WAIT_FD: {
                        char *end;
                        errno = 0;
                        long fd = strtol(optarg, &end, 10);
                        if (*end || end == optarg || errno || fd < 3 || fd > 1024)
                                return usage_error(err,
                                                   "--wait-fd `%s`: want a descriptor, 3 or more",
                                                   optarg);
                        c->wait_fd = (int) fd;
                        break;
                }
                case O_JAIL_SELFTEST:
                        if ((c->jail_selftest = vmm_thread_kind_parse(optarg)) < 0)
                                return usage_error(err,
                                                   "--jail-selftest `%s`: want main, vcpu, blk, "
                                                   "postcopy or migrate",
                                                   optarg);
                        break;
                case 'h':
                        vmm_usage(stdout);
                        return 1;
                case ':':
                        return usage_error(err, "option `%s` needs a value", argv[optind - 1]);
                default:
                        return usage_error(err, "unknown option `%s`", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return usage_error(err, "unexpected argument `%s`", argv[optind]);
        /* Without a kernel, the API configures the VM and starts it
         * (PUT /boot-source, then PUT /actions InstanceStart). */
        if ((c->jail_uid >= 0 || c->jail_gid >= 0 || c->jail_selftest >= 0) && !c->jail)
                return usage_error(err, "--jail-uid, --jail-gid and --jail-selftest need --jail");
        if (!!c->restore != !!c->restore_mem)
                return usage_error(err, "--restore and --restore-mem go together");
        if (c->n_restore_diffs && !c->restore)
                return usage_error(err, "--restore-mem-diff needs --restore");
        if (c->jail_rw && !c->jail)
                return usage_error(err, "--jail-rw needs --jail");
        if (c->jail_migrate && !c->jail)
                return usage_error(err, "--jail-migrate needs --jail");
        if (c->restore && c->kernel)
                return usage_error(err, "--restore takes the VM from the snapshot: no --kernel");
        if (c->migrate_incoming && (kernel_flag || c->restore))
                return usage_error(err, "--migrate-incoming takes the VM from the stream: no "
                                        "--kernel nor --restore");
        /* a balloon returns guest pages in 4 KiB runs, which a huge page cannot give */
        if (c->huge_pages && c->balloon)
                return usage_error(err, "--huge-pages 2M with a balloon: a huge page cannot "
                                        "give back 4 KiB of it");
        for (unsigned i = 0; i < VMM_MAX_DISKS && !c->migrate_incoming; i++)
                if (c->migrate_disk[i])
                        return usage_error(err, "--migrate-disk needs --migrate-incoming");
        /* jailed, the files the stream's VM will open are known beforehand: its
         * definition (the receiver's paths) names them, and the jail holds those */
        if (c->migrate_incoming && c->jail && !config_given)
                return usage_error(err, "--migrate-incoming under --jail needs --config FILE: "
                                        "the VM the stream brings, whose files the jail holds");
        if (!c->kernel && !c->api_sock && !c->restore && !c->migrate_incoming)
                return usage_error(err, "--kernel (or a config's boot-source, or --api-sock to "
                                        "configure the VM through the API) is required");
        return 0;
}

static uint64_t host_memory(void)
{
        long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
        return pages > 0 && size > 0 ? (uint64_t) pages * (uint64_t) size : UINT64_MAX;
}

int vmm_config_validate(const struct vmm_config *c, berth_error_t *err)
{
        if ((c->memory_mib << 20) > host_memory())
                return berth_fail_status(err, VMM_EXIT_USAGE, ENOMEM,
                                         "--memory %" PRIu64 " MiB is more than the host has "
                                         "(%" PRIu64 " MiB)",
                                         c->memory_mib, host_memory() >> 20);
        /* One endpoint per VM and network: the network knows a VM by its VMM's pid. */
        for (unsigned i = 0; i < c->n_nets; i++)
                for (unsigned j = 0; j < i; j++)
                        if (c->nets[i].network && c->nets[j].network &&
                            strcmp(c->nets[i].network, c->nets[j].network) == 0)
                                return berth_fail_status(err, VMM_EXIT_USAGE, EINVAL,
                                                         "two network interfaces on network "
                                                         "`%s`: a VM joins a network once",
                                                         c->nets[i].network);
        struct stat st;
        if (!c->kernel) /* configured through the API later */
                return 0;
        if (stat(c->kernel, &st) < 0)
                return berth_fail_status(err, VMM_EXIT_BAD_KERNEL, errno, "kernel `%s`", c->kernel);
        if (c->initrd && stat(c->initrd, &st) < 0)
                return berth_fail_status(err, VMM_EXIT_BAD_KERNEL, errno, "initrd `%s`", c->initrd);
        if (c->initrd && (uint64_t) st.st_size >= (c->memory_mib << 20))
                return berth_fail_status(err, VMM_EXIT_BAD_KERNEL, EFBIG,
                                         "initrd `%s` (%lld bytes) is larger than guest memory "
                                         "(%" PRIu64 " MiB)",
                                         c->initrd, (long long) st.st_size, c->memory_mib);
        return 0;
}
