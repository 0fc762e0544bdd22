/* vmm.h — berth-vmm's library interface: a VM described by a config, run
 * to completion.  One process runs one VM (Firecracker's model).
 *
 * Exit statuses are part of the interface (docs/vmm.md): a caller can tell
 * a guest that powered off from one that rebooted or crashed, and both from
 * a VMM that never got the guest started.
 */
#ifndef BERTH_VMM_VMM_H
#define BERTH_VMM_VMM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/error.h"

struct json_t;

enum vmm_exit_status {
        VMM_EXIT_POWEROFF = 0,      /* guest powered off (ACPI sleep S5) */
        VMM_EXIT_ERROR = 1,         /* the VMM failed (KVM, host resources) */
        VMM_EXIT_USAGE = 2,         /* bad command line or configuration */
        VMM_EXIT_BAD_KERNEL = 3,    /* kernel or initrd missing, corrupt or too big */
        VMM_EXIT_REBOOT = 10,       /* guest asked for a reset (i8042, ACPI reset) */
        VMM_EXIT_TRIPLE_FAULT = 11, /* guest triple-faulted (KVM_EXIT_SHUTDOWN) */
        VMM_EXIT_GUEST_CRASH = 12,  /* KVM could not run the guest (internal error, bad entry) */
        VMM_EXIT_SIGNAL = 13,       /* stopped by SIGINT/SIGTERM */
        VMM_EXIT_MIGRATED = 14,     /* the VM moved to another VMM (PUT /migrate) */
};

/* The jailed VMM's uid and gid when started by root without --jail-uid:
 * nobody's, owning no file (docs/vmm.md). */
#define VMM_JAIL_DEFAULT_ID 65534

/* An API client silent this long is disconnected (--api-timeout). */
#define VMM_API_TIMEOUT_S 30
/* Clients the API serves at once. */
#define VMM_API_MAX_CLIENTS 8

#define VMM_MAX_CPUS  32
#define VMM_MAX_DISKS 8
/* Diff snapshots a restore lays over its full snapshot's memory. */
#define VMM_MAX_MEM_DIFFS 16

/* A token bucket in Firecracker's terms: `size` tokens (bytes or
 * operations), refilled from empty in `refill_ns`, plus a one-time burst;
 * size 0 or refill_ns 0 means no limit. */
struct vmm_bucket_config {
        uint64_t size;
        uint64_t one_time_burst;
        uint64_t refill_ns;
};

struct vmm_limit_config {
        struct vmm_bucket_config bandwidth; /* bytes */
        struct vmm_bucket_config ops;       /* requests or frames */
};

/* The command line's `rate` per second as a bucket holding 100 ms of it. */
void vmm_bucket_per_second(struct vmm_bucket_config *b, uint64_t rate);

struct vmm_disk_config {
        const char *id; /* drive_id; NULL: "disk<index>" */
        const char *path;
        bool readonly;
        bool direct;         /* O_DIRECT: bypass the host page cache */
        bool io_uring;       /* io=uring: the worker batches I/O through io_uring (raw disks) */
        int format;          /* enum disk_format */
        const char *backing; /* backing files allowed beyond the image's directory
                                (':'-separated files or directories; disk.h) */
        struct vmm_limit_config limit;
};

#define VMM_MAX_NETS 4

struct vmm_net_config {
        const char *tap;     /* tap interface name; created if missing (needs CAP_NET_ADMIN);
                                NULL with a network: "btap" and random hex */
        const char *id;      /* iface_id for the API; NULL: "net<index>" */
        const char *network; /* a berth network the tap joins (docs/network.md); NULL: none */
        const char *name;    /* the VM's name on that network (DNS); NULL: "vm-<pid>" */
        uint8_t mac[6];
        struct vmm_limit_config tx; /* guest -> tap */
        struct vmm_limit_config rx; /* tap -> guest */
};

/* A tap handed in by descriptor (--tap-fd ID=FD, virtio_net.c): the interface whose iface_id
 * is ID uses fd; nothing is made and no network joined for it here. */
struct vmm_tap_fd {
        const char *id; /* the argument "ID=FD" itself (it outlives the config): id_len bytes */
        size_t id_len;
        int fd;
};
struct vmm_config;
/* "ID=FD" into c->tap_fds: the descriptor must be open and each ID given once. */
int vmm_tap_fd_parse(struct vmm_config *c, const char *arg, berth_error_t *err);
/* The descriptor --tap-fd gave for interface id, or -1. */
int vmm_tap_fd_find(const struct vmm_config *c, const char *id);
/* Does every --tap-fd name one of c's interfaces (their iface_id, or netN)? */
int vmm_tap_fds_check(const struct vmm_config *c, berth_error_t *err);

/* "aa:bb:cc:dd:ee:ff" -> mac; 0, or -1 if malformed or multicast. */
int vmm_net_parse_mac(const char *s, uint8_t mac[6]);
void vmm_net_random_mac(uint8_t mac[6]);

struct vmm_vsock_config {
        uint64_t cid;         /* the guest's context id, >= 3 */
        const char *uds_path; /* guest -> host port P connects to "<uds_path>_P" */
};

enum vmm_console {
        VMM_CONSOLE_STDIO = 0,
        VMM_CONSOLE_NONE,
        VMM_CONSOLE_PTY,  /* a pseudo-terminal; its name is printed on stderr */
        VMM_CONSOLE_UNIX, /* a unix socket at console_path, one client at a time */
};

struct vmm_config {
        /* (pointers and 64-bit fields first, then the arrays, then the small ones: the
         * order that leaves no padding) */
        const char *kernel;
        const char *initrd;
        const char *cmdline;
        uint64_t memory_mib;
        bool huge_pages; /* --huge-pages 2M, machine-config "huge_pages": "2M": guest RAM in 2 MiB
                            pages */
        /* --track-dirty-pages, machine-config "track_dirty_pages": KVM's dirty log on from the
         * start, so that PUT /snapshot/create can write a Diff snapshot (dirty.c) */
        bool track_dirty;
        uint64_t balloon_mib; /* initial target */
        const char *api_sock; /* REST API socket path, NULL for none */
        /* --restore: a snapshot's state and memory files */
        const char *restore, *restore_mem;
        /* --restore-mem-diff: diff snapshots' memory files, oldest first, laid over
         * restore_mem (snapshot.c) */
        const char *restore_diffs[VMM_MAX_MEM_DIFFS];
        /* --migrate-incoming: receive the VM from a migration (tcp:HOST:PORT, unix:PATH) */
        const char *migrate_incoming;
        /* --migrate-disk INDEX:PATH: where a copy_storage source's drive INDEX goes */
        const char *migrate_disk[VMM_MAX_DISKS];
        const char *console_path;
        /* --jail-rw: a directory bound writable into the jail (snapshots go there) */
        const char *jail_rw;
        /* --jail-migrate: the jail's lists let PUT /migrate run (tcp destinations) */
        bool jail_migrate;
        const char *log_level;   /* NULL: leave as is */
        uint64_t numa_nodes;     /* --numa: the NUMA nodes guest RAM goes to (bit N: node N) */
        long jail_uid, jail_gid; /* -1: VMM_JAIL_DEFAULT_ID (root) or the user's (rootless) */
        struct json_t *json;     /* a loaded --config document (strings point into it) */
        struct vmm_vsock_config vsock; /* cid 0: no vsock device */
        struct vmm_net_config nets[VMM_MAX_NETS];
        struct vmm_disk_config disks[VMM_MAX_DISKS];
        /* --tap-fd ID=FD: interface ID's tap, already open (and joined to its network) by the
         * VMM's privileged starter, berth vm's supervisor; --boot-arg: a word for the guest's
         * command line (its ip=) */
        struct vmm_tap_fd tap_fds[VMM_MAX_NETS];
        const char *boot_arg;
        unsigned n_tap_fds;
        unsigned cpus;
        unsigned n_disks;
        unsigned n_nets;
        unsigned n_restore_diffs;
        unsigned api_timeout_s; /* an idle API client is dropped after it; 0: VMM_API_TIMEOUT_S */
        enum vmm_console console;
        int jail_selftest; /* -1, or the thread kind that makes a forbidden call */
        int wait_fd;       /* --wait-fd: read to EOF before the VM is built; -1: none */
        int numa_mode;     /* --numa: MPOL_BIND, MPOL_PREFERRED or MPOL_INTERLEAVE; 0: none */
        bool balloon;
        bool rng;
        bool no_acpi; /* no ACPI tables: devices only via the command line */
        bool jail;    /* --jail: run confined (jail.h, docs/vmm.md) */
};

/* startup.c: --wait-fd, read to its end (then closed). */
void vmm_wait_fd(int fd);

/* Defaults: 1 vCPU, 128 MiB, console on stdio, "console=ttyS0" command line. */
void vmm_config_init(struct vmm_config *c);

/* Parse berth-vmm's command line into c.  Returns 1 when --help was asked
 * (usage printed), 0 on success, < 0 on a usage error (status 2). */
int vmm_config_parse_args(struct vmm_config *c, int argc, char **argv, berth_error_t *err);
void vmm_usage(FILE *out);

/* --numa NODES:MODE into a node mask and an MPOL_* mode. */
int vmm_numa_parse(const char *s, uint64_t *nodes, int *mode, berth_error_t *err);

/* Apply a JSON config file (config.c; Firecracker's --config-file shape). */
int vmm_config_load_json(struct vmm_config *c, const char *path, berth_error_t *err);
void vmm_config_release(struct vmm_config *c);
/* Apply a parsed document of that shape; strings point into root, which
 * must outlive c.  `where` names the document in error messages. */
int vmm_config_apply_json(struct vmm_config *c, struct json_t *root, const char *where,
                          berth_error_t *err);

/* A Firecracker rate limiter object ({"bandwidth": {...}, "ops": {...}};
 * NULL or null: no limit) into l. */
int vmm_config_limiter(struct json_t *o, struct vmm_limit_config *l, berth_error_t *err);

/* Check the config against the host (memory size, file presence). */
int vmm_config_validate(const struct vmm_config *c, berth_error_t *err);

/* Build and run the VM until the guest stops.  Returns the exit status
 * (enum vmm_exit_status) or < 0 with err set when the VM could not start. */
int vmm_run(const struct vmm_config *c, berth_error_t *err);

#endif
