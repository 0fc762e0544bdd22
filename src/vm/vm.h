/* vm.h — microVMs as a user manages them (`berth vm`, docs/vm.md): libvirt's
 * everyday verbs over berth-vmm, daemonless like the container engine.
 *
 *   <data>/vms/<name>/vm.json       berth's metadata (created, autostart, overlays, ...)
 *   <data>/vms/<name>/config.json   berth-vmm's --config, in Firecracker's shape
 *   <data>/vms/<name>/state.json    running / shut off / crashed, pids, last exit
 *   <data>/vms/<name>/lock          flock: one writer at a time
 *   <data>/vms/<name>/console.log   what the guest printed (rotated at 1 MiB)
 *   <data>/vms/<name>/vmm.log       berth-vmm's and the supervisor's log lines
 *   <data>/vms/<name>/disk<N>.qcow2 overlays made by `--disk BASE,overlay`
 *   <run>/vms/<name>/api.sock       berth-vmm's REST API (Firecracker-style clients too)
 *   <run>/vms/<name>/console.sock   the supervisor's console server (`vm console`)
 *
 * A running VM is one supervisor process (berth-vm-monitor, exec'd by a fork
 * of the `berth vm start` that started it: it owns the console and records
 * how the VM stopped)
 * and its child berth-vmm.  Every file is written atomically and under the
 * VM's lock; every reader reconciles state.json with the processes, so a
 * VMM killed behind berth's back shows as crashed.
 */
#ifndef BERTH_VM_VM_H
#define BERTH_VM_VM_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "common/paths.h"

#define VM_MAX_DISKS 8
#define VM_MAX_NETS  4
/* A diff snapshot's chain: at most this many diffs over its full snapshot (berth-vmm's
 * VMM_MAX_MEM_DIFFS). */
#define VM_MAX_MEM_DIFFS 16

struct vm_ctx {
        char *data_dir; /* <data>/vms */
        char *run_dir;  /* <run>/vms */
        char *vmm_bin;  /* berth-vmm beside this binary, or $BERTH_VMM */
};

int vm_ctx_init(struct vm_ctx *c, const struct berth_paths *p, berth_error_t *err);
void vm_ctx_free(struct vm_ctx *c);

struct vm_create_opts {
        const char *name;
        const char *kernel, *initrd, *cmdline;
        unsigned cpus;                   /* 0: 1 */
        uint64_t memory_mib;             /* 0: 128 */
        const char *disks[VM_MAX_DISKS]; /* PATH[,ro][,overlay][,format=raw|qcow2] */
        unsigned n_disks;
        const char *nets[VM_MAX_NETS]; /* a berth network, or tap:NAME */
        unsigned n_nets;
        bool vsock, balloon, no_acpi, autostart;
        bool huge_pages;           /* --memory-backing hugepages: guest RAM in 2 MiB pages */
        bool no_jail;              /* berth-vmm runs without --jail (docs/vm.md) */
        bool track_dirty;          /* --track-dirty-pages: diff snapshots possible */
        uint64_t cpu_shares;       /* the VM's cgroup: 0 = unset */
        uint64_t cpu_quota_us;     /* CPU time per 100 ms period; 0 = unset */
        uint64_t memory_limit_mib; /* every byte of the VM's processes; 0 = unset */
        uint64_t max_memory_mib;   /* guest RAM, the balloon holding back all but memory_mib */
        const char *config;        /* define --config FILE: the whole berth-vmm config instead */
};

/* snapshot.c: full snapshots (RAM, devices, vCPUs and the writable disks) of a running VM,
 * kept beside its definition; revert stops the VM if it runs and resumes the snapshot. */
struct vm_snapshot_opts {
        bool diff;          /* --diff: only the pages written since the VMM's last snapshot */
        const char *memory; /* --memory FILE: the memory there, not in the snapshot's directory */
};
int vm_snapshot_create(struct vm_ctx *c, const char *name, const char *snap,
                       const struct vm_snapshot_opts *o, berth_error_t *err);
int vm_snapshot_list(struct vm_ctx *c, const char *name, json_t **out, berth_error_t *err);
int vm_snapshot_revert(struct vm_ctx *c, const char *name, const char *snap, berth_error_t *err);
int vm_snapshot_remove(struct vm_ctx *c, const char *name, const char *snap, berth_error_t *err);
/* snapshot_disk.c: a disk-only snapshot of a shut-off VM (--disk-only): each writable disk's
 * active layer frozen under a new qcow2 overlay; revert and rm of one go there too. */
int vm_snapshot_create_disk(struct vm_ctx *c, const char *name, const char *snap,
                            berth_error_t *err);
/* clone.c: define newname as a copy of name's definition with its own copies of snapshot
 * snap's disks, and start it from the snapshot's state and memory: at once, or (start_now
 * false, virt-clone's way) at its first `vm start`. */
int vm_clone(struct vm_ctx *c, const char *name, const char *snap, const char *newname,
             bool start_now, berth_error_t *err);

/* migrate.c: move a VM to the berth listening at dest (`vm receive`): live (pre-copy, the
 * VMM's PUT /migrate) when it runs, cold (definition, kernel and disks) when it is shut off.
 * Both ends keep the figures (*figures: Mode, TotalMs, DowntimeMs, Bytes, Rounds) in
 * state.json's LastMigration. */
struct vm_migrate_opts {
        const char *dest;         /* tcp:HOST:PORT or unix:PATH */
        uint64_t max_downtime_ms; /* 0: 300 */
        uint64_t bandwidth_mib;   /* 0: no cap */
        bool live;                /* --live: the guest runs during the copy */
        bool postcopy;            /* --postcopy: state first, RAM fetched on demand after */
        bool auto_converge;
        bool copy_storage; /* --copy-storage-all: the writable disks go with a live VM */
};
int vm_migrate(struct vm_ctx *c, const char *name, const struct vm_migrate_opts *o,
               json_t **figures, berth_error_t *err);
/* A live migration of name under way switches to post-copy (virsh migrate-postcopy). */
int vm_migrate_postcopy(struct vm_ctx *c, const char *name, berth_error_t *err);
/* Take one VM migrated to addr: defined here under its name, started for a live one. */
int vm_receive(struct vm_ctx *c, const char *addr, char **name, json_t **figures,
               berth_error_t *err);

/* Define a VM: checks everything a start would find wrong that can be
 * known now, makes overlays, and publishes the directory in one rename, so
 * a failure leaves nothing behind. */
int vm_create(struct vm_ctx *c, const struct vm_create_opts *o, berth_error_t *err);

/* What `vm ls` and `vm inspect` say. */
enum vm_status { VM_SHUT_OFF, VM_RUNNING, VM_PAUSED, VM_CRASHED };
const char *vm_status_name(enum vm_status s);

struct vm_info {
        char *name;
        enum vm_status status;
        int pid; /* berth-vmm's, when running */
        unsigned cpus;
        uint64_t memory_mib;
        bool autostart;
};
void vm_info_free(struct vm_info *i);

/* Every defined VM, sorted by name, each reconciled under its lock. */
int vm_list(struct vm_ctx *c, struct vm_info **out, size_t *n, berth_error_t *err);
int vm_get(struct vm_ctx *c, const char *name, struct vm_info *out, berth_error_t *err);

/* The inspect document: metadata, config, state, paths (and, running, the VMM's view). */
int vm_inspect(struct vm_ctx *c, const char *name, json_t **out, berth_error_t *err);

int vm_start(struct vm_ctx *c, const char *name, berth_error_t *err);
int vm_destroy(struct vm_ctx *c, const char *name, berth_error_t *err);
/* Ask the guest to power off (ACPI power button; Ctrl+Alt+Del without ACPI)
 * and wait up to timeout_s for it; then destroy if force, else fail. */
int vm_shutdown(struct vm_ctx *c, const char *name, unsigned timeout_s, bool force,
                berth_error_t *err);
/* Ctrl+Alt+Del (the guest reboots itself; the supervisor restarts the VMM
 * when it does), or with force a reset: the VMM is restarted at once. */
int vm_reboot(struct vm_ctx *c, const char *name, bool force, berth_error_t *err);
int vm_pause(struct vm_ctx *c, const char *name, bool pause, berth_error_t *err);
/* Undefine; with disks, also the disk files the user named (overlays are
 * the VM's own and always go). */
int vm_remove(struct vm_ctx *c, const char *name, bool disks, berth_error_t *err);
int vm_set_autostart(struct vm_ctx *c, const char *name, bool on, berth_error_t *err);

/* Guest memory seen by the guest through the balloon: target = memory - mib. */
int vm_setmem(struct vm_ctx *c, const char *name, uint64_t mib, berth_error_t *err);
/* Pin vCPU `vcpu`'s thread to cpulist ("0-2,5"), or every other thread of
 * the VMM (emulatorpin): now if the VM runs, and at every start (vm.json). */
int vm_vcpupin(struct vm_ctx *c, const char *name, unsigned vcpu, const char *cpulist,
               berth_error_t *err);
int vm_emulatorpin(struct vm_ctx *c, const char *name, const char *cpulist, berth_error_t *err);
/* NUMA placement of guest RAM (berth-vmm --numa: mbind, mode strict, preferred or interleave)
 * and of the vCPU threads no vcpupin places (the nodes' CPUs), kept in vm.json and applied at
 * every start.  nodeset NULL: only *out, the current setting. */
int vm_numatune(struct vm_ctx *c, const char *name, const char *nodeset, const char *mode,
                json_t **out, berth_error_t *err);
/* vCPU times, RSS, VM exits by reason, device counters, balloon. */
int vm_stats(struct vm_ctx *c, const char *name, json_t **out, berth_error_t *err);

/* Attach the terminal (or stdin/stdout) to the serial console until the
 * detach key (Ctrl+]) or the VM stops. */
int vm_console(struct vm_ctx *c, const char *name, berth_error_t *err);

/* The autostart VMs to start now (names, NULL-terminated, malloc'ed):
 * at boot every one not running, later those that crashed.  The caller
 * starts them (berth system service runs `berth vm start`: a threaded
 * process should not fork a supervisor of its own). */
char **vm_autostart_due(struct vm_ctx *c, bool boot, berth_error_t *err);

#endif
