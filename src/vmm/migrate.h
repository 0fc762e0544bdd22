/* migrate.h — pre-copy live migration of a running VM (docs/vmm.md,
 * "Live migration"): the source's sender (migrate_send.c), the
 * destination's receiver (migrate_recv.c), KVM's dirty log (dirty.c); the
 * stream itself is migrate_stream.h.  Internal to src/vmm/. */
#ifndef BERTH_VMM_MIGRATE_H
#define BERTH_VMM_MIGRATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/snapshot_format.h"
#include "vmm/vm.h"

struct json_t;
struct disk;
struct virtio_blk;
struct vmm_mig_io;
struct vmm_mig_disk;

/* KVM's dirty log over every memory slot, plus the VMM's own writes
 * (vmm_mem.dirty): one bitmap over the whole map, a bit per page. */
struct vmm_dirty {
        uint64_t *kvm;  /* KVM_GET_DIRTY_LOG's scratch, the largest slot's size */
        uint64_t *user; /* installed as vm->mem.dirty */
        /* every page user ever held: a device marks a page when it takes its
         * pointer, before it writes (vmm_mem_ptr), so a round may send the page
         * between the two; the switch-over sends all of these again */
        uint64_t *touched;
        size_t pages, words;
        /* the snapshot tracker's (vm->track): pages dirtied since the last snapshot */
        uint64_t *acc;
        /* the tracker's: how many migrations share its log now */
        unsigned sharers;
        bool logging;
        /* a migration's while the tracker runs: the log and the user map are the
         * tracker's, left on at the stop, and what it reads goes to the tracker too */
        bool shared;
};

int vmm_dirty_start(struct vmm_vm *vm, struct vmm_dirty *d, berth_error_t *err);
/* OR every page dirtied since the last call (or the start) into out
 * (d->words words) and clear the logs; final (the VM paused, no device
 * mid-write on the main loop): also every page a device touched since the start. */
int vmm_dirty_collect(struct vmm_vm *vm, struct vmm_dirty *d, uint64_t *out, bool final,
                      berth_error_t *err);
void vmm_dirty_stop(struct vmm_vm *vm, struct vmm_dirty *d);

/* The snapshot tracker (--track-dirty-pages): the dirty log from the VM's
 * start to its end, so that a Diff snapshot writes only the pages written
 * since the last snapshot.  A migration meanwhile shares its log. */
int vmm_track_start(struct vmm_vm *vm, berth_error_t *err);
/* The pages dirtied since the last call (or the start) into out (d->words
 * words, overwritten); counting starts again. */
int vmm_track_take(struct vmm_vm *vm, uint64_t *out, berth_error_t *err);
/* Give back what vmm_track_take took, for a snapshot that failed. */
void vmm_track_return(struct vmm_vm *vm, const uint64_t *bits);
void vmm_track_free(struct vmm_vm *vm);

/* copy_storage, the source (migrate_disk.c): the writable drives, tracked. */
struct vmm_mig_disks {
        unsigned n;
        struct virtio_blk *blk[VMM_MAX_DISKS];
        uint32_t index[VMM_MAX_DISKS]; /* each one's config index */
        uint8_t *buf;
        bool tracking;
        uint64_t bytes, zero_bytes; /* sent: data, and runs of zeros */
};

/* How a round paces itself (the bandwidth cap) and learns it must stop. */
struct vmm_mig_disks_pace {
        void (*wait)(void *opaque);
        bool (*stop)(void *opaque);
        void *opaque;
};

/* Announce the drives (a DISKS record) and track their writes; none
 * writable: nothing is sent. */
int vmm_mig_disks_start(struct vmm_vm *vm, struct vmm_mig_disks *md, struct vmm_mig_io *io,
                        berth_error_t *err);
/* One round: every chunk written since it was sent (the first: all of them). */
int vmm_mig_disks_send(struct vmm_mig_disks *md, struct vmm_mig_io *io,
                       const struct vmm_mig_disks_pace *pace, berth_error_t *err);
uint64_t vmm_mig_disks_dirty(struct vmm_mig_disks *md);
void vmm_mig_disks_stop(struct vmm_mig_disks *md);

/* copy_storage, the destination: the --migrate-disk targets, by config index. */
struct vmm_mig_targets {
        struct disk *disk[VMM_MAX_DISKS];
};
int vmm_mig_disks_open(struct vmm_mig_targets *t, const struct vmm_config *cfg,
                       const struct vmm_mig_disk *d, unsigned n, berth_error_t *err);
int vmm_mig_disks_write(struct vmm_mig_targets *t, uint32_t index, uint64_t off,
                        const uint8_t *data, uint64_t len, berth_error_t *err);
/* Close them (before the VM's devices open the same files). */
void vmm_mig_disks_close(struct vmm_mig_targets *t);

enum vmm_mig_state {
        VMM_MIG_NONE = 0,
        VMM_MIG_ACTIVE,
        VMM_MIG_COMPLETED,
        VMM_MIG_FAILED,
};

#define VMM_MIG_DEFAULT_DOWNTIME_MS 300
#define VMM_MIG_MAX_ROUNDS          30

struct vmm_migration {
        struct vmm_vm *vm;
        char *dest;
        uint64_t max_downtime_ms, bandwidth_mib; /* 0: no cap */
        bool auto_converge;
        bool postcopy;                        /* state first, RAM after (postcopy.h) */
        bool copy_storage;                    /* the writable disks go too (migrate_disk.c) */
        uint64_t disk_bytes, disk_zero_bytes; /* copy_storage: sent, under lock */
        bool lost; /* post-copy failed after the destination took over: no resume here */
        atomic_bool
                to_postcopy; /* PATCH /migrate {"start_postcopy": true}: switch after this round */
        uint64_t requests;   /* post-copy: pages the destination asked for */
        double t_ack;        /* post-copy: when the destination acked (ms, monotonic) */
        int hand_fd;         /* "destination": "fd": the socket handed in (migrate_hand.c), or -1 */
        bool joined;         /* the sender (vm->mig_sender) is done with it */
        bool was_paused, paused_by_us; /* at the switch-over */
        atomic_int state;
        atomic_bool cancel;
        int sock;             /* the stream, under lock: shut down to cancel */
        uint64_t *user_dirty; /* the device-write bitmap (vmm_dirty.user), freed last */
        double t_pause;       /* when the switch-over paused the VM (ms, monotonic) */
        double t_state_sent;  /* when the last byte of the VM's state was sent (ms, monotonic) */
        /* figures, under lock while active */
        pthread_mutex_t lock;
        pthread_cond_t cond;
        /* downtime_ms: paused until the destination acked (took the VM
         * over); downtime_sent_ms: until the state was sent, QEMU's
         * "downtime" (it does not wait for the destination) */
        double total_ms, downtime_ms, downtime_sent_ms, mbps;
        uint64_t bytes, rounds, remaining_pages, throttle_pct;
        char *error;
        /* the switch-over, done on the main loop: the thread asks through
         * req_fd, the loop pauses the VM and fills state */
        int req_fd, done_fd;
        bool state_ready;
        int state_ret, state_errno;
        struct vmm_snap_buf state_buf;
        char *state_err;
        void *api_conn; /* the API's suspended PUT /migrate, answered when done */
        /* pre-copy: the last round is sent by the main loop right after the state is
         * saved, before it serves a device again (a tap's frame written into guest RAM
         * in between would be in neither) */
        void *final_sender;
        uint64_t final_round;
};

/* PUT /migrate {"destination": ADDR, "max_downtime_ms": N, "bandwidth_mib": N,
 * "auto_converge": B, "postcopy": B}: checked and started; the answer comes when it ends. */
int vmm_migrate_start(struct vmm_vm *vm, struct json_t *body, void *api_conn, berth_error_t *err);
/* GET /migrate and the end of PUT: {"state": ..., figures, "error"}. */
struct json_t *vmm_migrate_status(struct vmm_vm *vm);
bool vmm_migrate_active(struct vmm_vm *vm);
/* PATCH /migrate {"start_postcopy": true}: a running pre-copy switches to post-copy. */
int vmm_migrate_start_postcopy(struct vmm_vm *vm, struct json_t *body, berth_error_t *err);
/* The socket a migration goes over, handed in on `<api-sock>.fd`
 * (migrate_hand.c): started with the API; take returns it (or -1) and forgets it. */
int vmm_migrate_hand_start(struct vmm_vm *vm, const char *api_path, berth_error_t *err);
int vmm_migrate_hand_take(struct vmm_vm *vm);
const char *vmm_migrate_hand_path(const struct vmm_vm *vm);
void vmm_migrate_hand_stop(struct vmm_vm *vm);

/* The VMM is going away: end a migration in flight (cancel, before the vCPUs
 * go), then free it (fini, last). */
void vmm_migrate_cancel(struct vmm_vm *vm);
void vmm_migrate_fini(struct vmm_vm *vm);

/* api.c: answer the suspended PUT /migrate (its connection). */
void vmm_api_migrate_done(struct vmm_vm *vm, void *api_conn);

/* berth-vmm --migrate-incoming ADDR: listen, receive the VM, boot it from
 * the state (the restore path), ack and resume.  vmm_run calls it in place
 * of a boot. */
int vmm_migrate_incoming(struct vmm_vm *vm, const char *addr, berth_error_t *err);
/* The VMM is going away: end a post-copy still fetching RAM (before the vCPUs are joined). */
void vmm_migrate_incoming_fini(struct vmm_vm *vm);

/* The state file's bytes of a paused VM (snapshot.c), and the restore
 * leg's entry from such bytes (takes state). */
int vmm_snapshot_state(struct vmm_vm *vm, struct vmm_snap_buf *b, berth_error_t *err);
int vmm_snapshot_open_state(struct vmm_vm *vm, uint8_t *state, size_t len, berth_error_t *err);

#endif
