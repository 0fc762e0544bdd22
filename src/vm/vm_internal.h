/* vm_internal.h — what the files of src/vm share: a VM's record (its
 * directory, lock and documents), state reconciliation, the VMM API
 * client, the supervisor. */
#ifndef BERTH_VM_INTERNAL_H
#define BERTH_VM_INTERNAL_H

#include <sys/types.h>

#include "vm/vm.h"

/* Exit statuses of berth-vmm that the supervisor tells apart (docs/exit-codes.md). */
#define VMM_STATUS_POWEROFF 0
#define VMM_STATUS_USAGE    2
#define VMM_STATUS_KERNEL   3
#define VMM_STATUS_REBOOT   10
#define VMM_STATUS_SIGNAL   13
#define VMM_STATUS_MIGRATED 14 /* the VM left for another host (vm migrate) */

struct vm_rec {
        struct vm_ctx *ctx;
        char *name;
        char *dir;     /* <data>/vms/<name> */
        char *run;     /* <run>/vms/<name> */
        int lock_fd;   /* held flock, or -1 */
        json_t *meta;  /* vm.json */
        json_t *cfg;   /* config.json */
        json_t *state; /* state.json (an empty object when never started) */
        /* set by a snapshot revert for the supervisor's first start: berth-vmm --restore */
        const char *restore_state, *restore_mem;
        /* and, reverting to a diff snapshot, its chain's memory files (oldest first) */
        json_t *restore_diffs;
        /* set by `vm receive` for the supervisor's first start: berth-vmm --migrate-incoming,
         * and --migrate-disk for each "INDEX:PATH" (copy-storage) */
        const char *migrate_incoming;
        json_t *migrate_disks;
        /* the supervisor's taps on the definition's berth networks, open for the VM's life
         * (net.c): berth-vmm's --tap-fd "ID=FD" each, and --boot-arg (the first lease's ip=) */
        json_t *tap_fds;
        const char *boot_arg;
};

/* Open an existing VM's record and take its lock (reloading the documents);
 * ENOENT with "no such VM" when it is not defined. */
int vm_rec_open(struct vm_ctx *c, const char *name, struct vm_rec *r, berth_error_t *err);
void vm_rec_close(struct vm_rec *r);
/* The same without the lock, which the caller's starter holds (berth-vm-monitor). */
int vm_rec_read(struct vm_ctx *c, const char *name, struct vm_rec *r, berth_error_t *err);
int vm_rec_lock(struct vm_rec *r, berth_error_t *err);
void vm_rec_unlock(struct vm_rec *r);
int vm_rec_reload_state(struct vm_rec *r, berth_error_t *err);
int vm_rec_save_state(struct vm_rec *r, berth_error_t *err);
int vm_rec_save_meta(struct vm_rec *r, berth_error_t *err);
char *vm_rec_path(const struct vm_rec *r, const char *file);     /* in dir */
char *vm_rec_run_path(const struct vm_rec *r, const char *file); /* in run */

bool vm_name_valid(const char *name);

/* vm_list without `skip` (a VM whose lock the caller holds: flock would
 * wait on it). */
int vm_list_skip(struct vm_ctx *c, const char *skip, struct vm_info **out, size_t *n,
                 berth_error_t *err);

/* The truth about a record: state.json against the processes.  Running
 * whose VMM is gone (killed, host rebooted) becomes crashed or shut off
 * and is saved.  Caller holds the lock. */
enum vm_status vm_rec_reconcile(struct vm_rec *r);
/* A VMM process exists for it (running or paused). */
static inline bool vm_status_live(enum vm_status s)
{
        return s == VM_RUNNING || s == VM_PAUSED;
}
/* Is pid alive and started at start_time (its /proc stat field 22)? */
bool vm_pid_alive(int pid, unsigned long long start_time);
unsigned long long vm_pid_start_time(int pid);
/* This boot's id (/proc/sys/kernel/random/boot_id), "" when unknown. */
const char *vm_boot_id(void);

/* Does a running VM other than `name` use one of the files of cfg (the
 * disks and their backing files) where either side writes it? */
int vm_check_disks(struct vm_ctx *c, const char *name, json_t *cfg, berth_error_t *err);

/* One request to berth-vmm's API on a unix socket (HTTP/1.1, Connection:
 * close).  *reply (may be NULL) gets the parsed JSON body, or NULL. Returns
 * the HTTP status, or -1 with err set. */
int vm_api_call(const char *sock, const char *method, const char *path, json_t *body,
                json_t **reply, berth_error_t *err);
/* The same with another time bound (a PUT /migrate lasts as long as the migration). */
int vm_api_call_timeout(const char *sock, const char *method, const char *path, json_t *body,
                        json_t **reply, unsigned timeout_ms, berth_error_t *err);
/* The same, failing with the VMM's fault_message unless the status is 2xx. */
int vm_api_ok(const char *sock, const char *method, const char *path, json_t *body, json_t **reply,
              berth_error_t *err);
/* PATCH /vm {"state": "Paused"|"Resumed"}: 0, or -1 with the VMM's fault. */
int vm_api_pause(const char *sock, bool pause, berth_error_t *err);

/* supervise.c: start the supervisor for r (locked; state saved "running" on
 * success).  Returns once berth-vmm's API answers, or with the VMM's own
 * error when it could not start. */
int vm_supervisor_start(struct vm_rec *r, berth_error_t *err);
/* berth-vm-monitor's main(): the supervisor that vm_supervisor_start execs. */
int vm_supervise_main(int argc, char **argv);

/* migrate.c: the receiving end's record (`vm receive`) and the figures both ends keep
 * in state.json as LastMigration (`vm inspect`). */
int vm_migrate_record_figures(struct vm_ctx *c, const char *name, json_t *figures,
                              berth_error_t *err);

/* The jailed VMM's uid and gid (berth-vmm's default for --jail as root). */
#define VM_JAIL_ID 65534

/* Does the definition run its VMM jailed (berth-vmm --jail)?  Not with
 * NoJail in vm.json, nor rootless.  why (may be NULL) says why not. */
bool vm_jail_wanted(const struct vm_rec *r, const char **why);

/* net.c (berth only, never the static supervisor): in vm_supervisor_start's grandchild,
 * whose pid the supervisor keeps, each interface on a berth network gets a tap, open without
 * O_CLOEXEC, joined to its network with the VM's name; r->tap_fds and r->boot_arg say so for
 * berth-vmm.  A failure releases what was made.  vm_net_check: the networks exist;
 * vm_net_joins: the definition has an interface on one. */
int vm_net_up(struct vm_rec *r, berth_error_t *err);
int vm_net_check(const struct vm_rec *r, berth_error_t *err);
bool vm_net_joins(const struct vm_rec *r);

/* cgroup.c: the VM's cgroup (/berth/vms/<name>) with vm.json's limits;
 * pid joins it (the VMM, before it execs).  Nothing rootless. */
char *vm_cgroup_path(const struct vm_rec *r);
bool vm_cgroup_limited(const struct vm_rec *r);
int vm_cgroup_enter(struct vm_rec *r, pid_t pid, berth_error_t *err);
void vm_cgroup_remove(const struct vm_rec *r);
/* {"Path", "MemoryBytes", "CpuNs"} of the running VM's cgroup, or null. */
json_t *vm_cgroup_stats(const struct vm_rec *r);

/* manage.c: the pins vm.json keeps, applied to the VMM pid (after a start). */
int vm_apply_pins(struct vm_rec *r, int pid, berth_error_t *err);

/* Wait (up to timeout_ms) until the record is no longer running; r unlocked
 * meanwhile and locked again on return.  1: stopped, 0: timed out. */
int vm_wait_stopped(struct vm_rec *r, unsigned timeout_ms, berth_error_t *err);

/* snapshot.c: copy src to dst (created, or truncated) with copy_file_range (a reflink where
 * the filesystem can); define.c: a record's lock, config.json and vm.json written into dir
 * (a directory published later by a rename).  clone.c uses both. */
int vm_copy_file(const char *src, const char *dst, berth_error_t *err);
/* snapshot.c: dst (which must not exist) as a hard link to src, or across filesystems a
 * copy of its data that keeps its holes (a diff snapshot's holes are what it does not hold). */
int vm_link_sparse(const char *src, const char *dst, berth_error_t *err);
/* snapshot.c: the memory a restore of snap maps: its full snapshot's file (*base) and, for a
 * diff snapshot, the chain's diff files oldest first (*diffs, an array of paths). */
int vm_snapshot_memory(const struct vm_rec *r, const char *snap, char **base, json_t **diffs,
                       berth_error_t *err);
int vm_write_record(const char *dir, json_t *cfg, json_t *meta, berth_error_t *err);

/* record.c: remove dir and the files in it (a snapshot's or a migration's
 * flat directory, no subdirectories); rmdir's result. */
int vm_rm_flat_dir(const char *dir);

/* snapshot_disk.c: revert to and removal of a disk-only snapshot (meta: its snapshot.json). */
int vm_snapshot_revert_disk(struct vm_ctx *c, const char *name, const char *snap, json_t *meta,
                            berth_error_t *err);
int vm_snapshot_remove_disk(struct vm_ctx *c, const char *name, const char *snap, json_t *meta,
                            berth_error_t *err);

/* clone.c: a clone defined without a start (`vm clone --no-start`), whose first start
 * restores the snapshot; that first start, on r (open, shut off), the snapshot's files gone
 * once it runs. */
bool vm_clone_pending(struct vm_rec *r);
int vm_clone_first_start(struct vm_rec *r, berth_error_t *err);

#endif
