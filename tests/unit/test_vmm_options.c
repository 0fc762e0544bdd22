/* test_vmm_options.c — berth-vmm's command line: defaults, every option,
 * and the usage errors (status 2) for bad values. */
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "disk/disk.h"
#include "tap.h"
#include "vmm/vmm.h"

static int parse(struct vmm_config *c, berth_error_t *err, const char *line)
{
        static char buf[1024], prog[] = "berth-vmm";
        static char *argv[64];
        int argc = 0;
        strncpy(buf, line, sizeof(buf) - 1);
        argv[argc++] = prog;
        for (char *t = strtok(buf, " "); t && argc < 63; t = strtok(NULL, " "))
                argv[argc++] = t;
        argv[argc] = NULL;
        vmm_config_init(c);
        return vmm_config_parse_args(c, argc, argv, err);
}

static void bad(const char *line, const char *what)
{
        struct vmm_config c;
        berth_error_t err = NULL;
        int r = parse(&c, &err, line);
        ok(r < 0 && err && err->status == VMM_EXIT_USAGE, what);
        berth_error_release(&err);
}

int main(void)
{
        struct vmm_config c;
        berth_error_t err = NULL;
        is_int(parse(&c, &err, "--kernel k"), 0, "minimal command line");
        is_int(c.cpus, 1, "default: 1 vCPU");
        is_int(c.memory_mib, 128, "default: 128 MiB");
        ok(c.console == VMM_CONSOLE_STDIO, "default console: stdio");
        ok(strstr(c.cmdline, "console=ttyS0") != NULL, "default command line has the console");

        is_int(parse(&c, &err,
                     "--kernel k --initrd i --cmdline x --cpus 4 --memory 512 --disk a.img,ro "
                     "--disk b.qcow2,format=qcow2 --net tap=t0,mac=02:00:00:00:00:01 "
                     "--disk c.img,direct,format=raw --vsock 5,/run/v.sock --balloon 16 --rng "
                     "--no-acpi --console none "
                     "--api-sock /run/api.sock"),
               0, "every option");
        is_str(c.initrd, "i", "initrd");
        is_int(c.cpus, 4, "cpus");
        is_int(c.memory_mib, 512, "memory");
        is_int(c.n_disks, 3, "three disks");
        ok(c.disks[2].direct && c.disks[2].format == DISK_FORMAT_RAW, "disk 2: O_DIRECT raw");
        ok(c.disks[0].readonly && c.disks[0].format == DISK_FORMAT_AUTO, "disk 0: ro, probed");
        ok(!c.disks[1].readonly && c.disks[1].format == DISK_FORMAT_QCOW2, "disk 1: qcow2");
        is_int(c.n_nets, 1, "one network interface");
        is_str(c.nets[0].tap, "t0", "tap name");
        ok(c.nets[0].mac[0] == 2 && c.nets[0].mac[5] == 1, "MAC parsed");
        is_int(c.vsock.cid, 5, "vsock cid");
        is_str(c.vsock.uds_path, "/run/v.sock", "vsock path");
        ok(c.balloon && c.balloon_mib == 16, "balloon target");
        ok(c.rng && c.no_acpi && c.console == VMM_CONSOLE_NONE, "flags");
        is_str(c.api_sock, "/run/api.sock", "API socket");

        is_int(parse(&c, &err, "--kernel k --net tap=t1"), 0, "net without a MAC");
        ok(c.nets[0].mac[0] == 0x52 && c.nets[0].mac[1] == 0x54, "random MAC in 52:54:00");

        is_int(parse(&c, &err,
                     "--kernel k --net tap=t1,id=eth0,bw=2,pps=100,rx_bw=1,rx_pps=7 "
                     "--disk d,bw=3,iops=50 --net tap=t2,tx_pps=20"),
               0, "rate limits");
        is_str(c.nets[0].id, "eth0", "interface id");
        ok(c.nets[0].tx.bandwidth.size == (2 << 20) / 10 && c.nets[0].tx.ops.size == 10 &&
                   c.nets[0].tx.ops.refill_ns == 100000000,
           "bw=/pps= limit transmit: 100 ms worth per bucket");
        ok(c.nets[0].rx.bandwidth.size == (1 << 20) / 10 && c.nets[0].rx.ops.size == 1 &&
                   c.nets[0].rx.ops.refill_ns == 1000000000 / 7,
           "rx_bw=/rx_pps= limit receive");
        ok(c.nets[1].tx.ops.size == 2 && c.nets[1].rx.ops.size == 0 && c.nets[1].id == NULL,
           "tx_pps= is pps=; no receive limit by default");
        ok(c.disks[0].limit.bandwidth.size == (3 << 20) / 10 && c.disks[0].limit.ops.size == 5,
           "disk bw=/iops=");
        is_int(parse(&c, &err, "--kernel k --disk a,io=uring --disk b,io=thread --disk c"), 0,
               "io= engines");
        ok(c.disks[0].io_uring && !c.disks[1].io_uring && !c.disks[2].io_uring,
           "io=uring asks for io_uring; the worker thread is the default");
        bad("--kernel k --disk a,io=aio", "unknown io engine");
        bad("--kernel k --net tap=t,rx_pps=x", "rx_pps not a number");
        bad("--kernel k --net tap=t,rx_bw=-1", "negative rx_bw");

        /* The JSON config's Firecracker-shaped limiters. */
        json_error_t je;
        json_t *doc = json_loads(
                "{\"network-interfaces\": [{\"iface_id\": \"n0\", \"host_dev_name\": \"t\","
                " \"rx_rate_limiter\": {\"bandwidth\": {\"size\": 20000, \"refill_time\": 100,"
                " \"one_time_burst\": 5000}, \"ops\": {\"size\": 4, \"refill_time\": 50}},"
                " \"tx_rate_limiter\": null}],"
                " \"drives\": [{\"path_on_host\": \"d\", \"io_engine\": \"Async\","
                " \"rate_limiter\": {\"ops\": {\"size\": 100, \"refill_time\": 1000}}}]}",
                0, &je);
        vmm_config_init(&c);
        is_int(vmm_config_apply_json(&c, doc, "test", &err), 0, "limiters in the JSON config");
        is_str(c.nets[0].id, "n0", "iface_id");
        ok(c.nets[0].rx.bandwidth.size == 20000 && c.nets[0].rx.bandwidth.refill_ns == 100000000 &&
                   c.nets[0].rx.bandwidth.one_time_burst == 5000,
           "rx bandwidth bucket");
        ok(c.nets[0].rx.ops.size == 4 && c.nets[0].rx.ops.refill_ns == 50000000, "rx ops bucket");
        ok(c.nets[0].tx.bandwidth.size == 0 && c.nets[0].tx.ops.size == 0, "null: no tx limit");
        ok(c.disks[0].limit.ops.size == 100 && c.disks[0].limit.bandwidth.size == 0,
           "drive rate_limiter");
        ok(c.disks[0].io_uring, "io_engine Async is io_uring");
        json_decref(doc);
        static const char *bad_json[] = {
                "{\"network-interfaces\": [{\"host_dev_name\": \"t\", \"rx_rate_limiter\":"
                " {\"bandwidth\": {\"size\": 1}}}]}",
                "{\"network-interfaces\": [{\"host_dev_name\": \"t\", \"tx_rate_limiter\":"
                " {\"bw\": {}}}]}",
                "{\"network-interfaces\": [{\"host_dev_name\": \"t\", \"rx_rate_limiter\":"
                " {\"ops\": {\"size\": -1, \"refill_time\": 1}}}]}",
                "{\"drives\": [{\"path_on_host\": \"d\", \"rate_limiter\": 5}]}",
        };
        for (size_t i = 0; i < sizeof(bad_json) / sizeof(bad_json[0]); i++) {
                doc = json_loads(bad_json[i], 0, &je);
                vmm_config_init(&c);
                int r = vmm_config_apply_json(&c, doc, "test", &err);
                ok(r < 0 && err && err->status == VMM_EXIT_USAGE &&
                           strstr(berth_error_msg(err), "rate_limiter"),
                   "bad limiter refused, naming it");
                berth_error_release(&err);
                json_decref(doc);
        }

        bad("--memory 64", "no --kernel");
        is_int(parse(&c, &err, "--api-sock /run/a.sock --memory 64"), 0,
               "--api-sock without --kernel: configured through the API");
        ok(c.kernel == NULL, "no kernel until PUT /boot-source");
        bad("--kernel k --memory 3", "memory below the minimum");
        bad("--kernel k --memory 1.5", "memory not a whole number");
        bad("--kernel k --memory -1", "negative memory");
        bad("--kernel k --cpus 0", "zero vCPUs");
        bad("--kernel k --cpus 33", "too many vCPUs");
        bad("--kernel k --disk ,ro", "disk without a path");
        bad("--kernel k --disk a,format=vmdk", "unknown disk format");
        bad("--kernel k --disk a,rw", "unknown disk option");
        bad("--kernel k --net mac=02:00:00:00:00:01", "net without tap");
        bad("--kernel k --net tap=t,mac=01:00:00:00:00:01", "multicast MAC");
        bad("--kernel k --net tap=t,mac=zz", "malformed MAC");
        bad("--kernel k --vsock 2,/x", "vsock CID below 3");
        bad("--kernel k --vsock 5", "vsock without a path");
        bad("--kernel k --balloon x", "balloon size not a number");
        bad("--kernel k --console tty", "unknown console");
        bad("--kernel k --bogus", "unknown option");
        bad("--kernel", "option without its value");
        bad("--kernel k extra", "stray argument");

        /* --jail and its ids; backing= on a disk; --api-timeout */
        is_int(parse(&c, &err, "--kernel k"), 0, "no --jail");
        ok(!c.jail && c.jail_uid == -1 && c.jail_gid == -1 && c.jail_selftest == -1,
           "default: not jailed, default ids, no self-test");
        is_int(parse(&c, &err,
                     "--kernel k --jail --jail-uid 4242 --jail-gid 4343 --jail-selftest vcpu"),
               0, "--jail with ids and the self-test");
        ok(c.jail && c.jail_uid == 4242 && c.jail_gid == 4343 && c.jail_selftest == 1,
           "jail ids and self-test thread parsed");
        bad("--kernel k --jail --jail-uid 0", "jail uid 0 refused");
        bad("--kernel k --jail --jail-gid x", "jail gid not a number");
        bad("--kernel k --jail --jail-selftest api", "unknown self-test thread");
        bad("--kernel k --jail-uid 5", "--jail-uid without --jail");
        bad("--kernel k --jail-selftest main", "--jail-selftest without --jail");
        is_int(parse(&c, &err, "--kernel k --disk d.qcow2,backing=/b/one:/b/dir,ro"), 0,
               "disk backing= list");
        is_str(c.disks[0].backing, "/b/one:/b/dir", "backing= kept as given");
        ok(c.disks[0].readonly, "options after backing= still parsed");
        bad("--kernel k --disk d,backing=", "empty backing=");
        is_int(parse(&c, &err, "--api-sock a --api-timeout 5"), 0, "--api-timeout");
        is_int(c.api_timeout_s, 5, "api timeout in seconds");
        bad("--api-sock a --api-timeout 0", "zero api timeout");
        is_int(parse(&c, &err, "--migrate-incoming tcp:0.0.0.0:7000"), 0,
               "--migrate-incoming alone: the VM comes from the stream");
        is_str(c.migrate_incoming, "tcp:0.0.0.0:7000", "its address kept");
        is_int(parse(&c, &err, "--migrate-incoming unix:/run/m.sock --api-sock a"), 0,
               "--migrate-incoming on a unix path, with an API");
        bad("--migrate-incoming udp:1.2.3.4:5", "--migrate-incoming: not tcp: nor unix:");
        bad("--migrate-incoming tcp:h:1 --kernel k", "--migrate-incoming with --kernel");
        bad("--migrate-incoming tcp:h:1 --restore s --restore-mem m",
            "--migrate-incoming with --restore");
        bad("--migrate-incoming tcp:h:1 --jail", "--migrate-incoming under --jail");

        /* --tap-fd ID=FD (an open descriptor, each ID once) and --boot-arg */
        int fd = open("/dev/null", O_RDONLY);
        char line[256];
        snprintf(line, sizeof(line),
                 "--kernel k --net tap=t0 --net network=n,id=up --tap-fd up=%d "
                 "--boot-arg ip=10.0.0.2::10.0.0.1:255.255.255.0::eth1:off",
                 fd);
        is_int(parse(&c, &err, line), 0, "--tap-fd and --boot-arg");
        is_int(c.n_tap_fds, 1, "one descriptor");
        is_int(vmm_tap_fd_find(&c, "up"), fd, "found by its interface id");
        is_int(vmm_tap_fd_find(&c, "net0"), -1, "none for another interface");
        is_str(c.boot_arg, "ip=10.0.0.2::10.0.0.1:255.255.255.0::eth1:off", "boot arg kept");
        is_int(vmm_tap_fds_check(&c, &err), 0, "every descriptor names an interface");
        snprintf(line, sizeof(line), "--kernel k --net tap=t0 --tap-fd net1=%d", fd);
        is_int(parse(&c, &err, line), 0, "--tap-fd for an interface the VM lacks parses");
        ok(vmm_tap_fds_check(&c, &err) < 0 && err && err->status == VMM_EXIT_USAGE,
           "...and fails the check");
        berth_error_release(&err);
        snprintf(line, sizeof(line), "--kernel k --tap-fd a=%d --tap-fd a=%d", fd, fd);
        bad(line, "--tap-fd: one interface twice");
        bad("--kernel k --tap-fd a", "--tap-fd without =FD");
        bad("--kernel k --tap-fd =5", "--tap-fd without an id");
        bad("--kernel k --tap-fd a=2", "--tap-fd below 3");
        bad("--kernel k --tap-fd a=5x", "--tap-fd not a number");
        bad("--kernel k --tap-fd a=999", "--tap-fd not open");
        close(fd);
        return tap_done();
}
