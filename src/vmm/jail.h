/* jail.h — berth-vmm --jail: the VMM confined as Firecracker's jailer
 * confines Firecracker (docs/vmm.md, "The jail").  Internal to src/vmm/.
 *
 * Three steps, in this order:
 *   1. vmm_jail_enter (main, single-threaded, before anything of the VM
 *      exists): resolve and check every file the VM names, fork into a new
 *      pid namespace; the child makes a mount namespace whose root holds
 *      only those files and pivots into it.  The parent stays outside,
 *      waits, forwards signals and cleans up.
 *   2. vmm_jail_drop_ids (the child, once the VM is built and every file is
 *      open, before any vCPU runs): the jail's uid/gid, no capabilities.
 *   3. vmm_jail_thread (each thread, before it touches guest input): drop
 *      the thread's capabilities and install its seccomp allow-list.
 */
#ifndef BERTH_VMM_JAIL_H
#define BERTH_VMM_JAIL_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "vmm/vmm.h"

/* The thread types, each with its own seccomp allow-list (seccomp.c). */
enum vmm_thread_kind {
        VMM_THREAD_MAIN,     /* the event loop: devices on ioeventfds, the API, signals */
        VMM_THREAD_VCPU,     /* KVM_RUN and the port/MMIO exits it serves */
        VMM_THREAD_BLK,      /* a disk's I/O worker */
        VMM_THREAD_POSTCOPY, /* an incoming post-copy's fault and receive threads */
        VMM_THREAD_MIGRATE,  /* a live migration's sender and throttle (worker.h) */
        VMM_THREAD_KINDS,
};

/* Returns 0 in the jailed child (continue with vmm_run), 1 in the parent
 * once the child is gone (*status: the exit status to use), -1 on error
 * (nothing forked, or the child could not be set up).  Started as pid 1 of
 * a pid namespace (berth vm's supervisor clones it so), it forks nothing:
 * the jail is made in this process, which returns 0. */
int vmm_jail_enter(struct vmm_config *c, int *status, berth_error_t *err);

/* Is this process jailed (the child of vmm_jail_enter)? */
bool vmm_jailed(void);

/* Switch every thread to the jail's ids and drop this thread's
 * capabilities.  No-op outside the jail. */
int vmm_jail_drop_ids(berth_error_t *err);

/* Lock the calling thread down: its capabilities dropped and the seccomp
 * allow-list of its kind installed.  No-op outside the jail.  With the
 * test hook (--jail-selftest KIND) the thread then makes a forbidden call. */
int vmm_jail_thread(enum vmm_thread_kind kind, berth_error_t *err);

/* The ids the jail switches to; change: false when it keeps them (rootless). */
struct vmm_jail_ids {
        bool change;
        bool snapshots; /* --jail-rw: the main thread may write snapshots there */
        bool migrate;   /* --jail-migrate: the main thread may start a live migration */
        uid_t uid;
        gid_t gid;
};

/* seccomp.c: install the allow-list of kind on the calling thread. */
int vmm_seccomp_install(enum vmm_thread_kind kind, const struct vmm_jail_ids *ids,
                        berth_error_t *err);
/* "main", "vcpu", "blk" <-> kind; -1 when unknown. */
int vmm_thread_kind_parse(const char *s);
const char *vmm_thread_kind_name(enum vmm_thread_kind k);

#endif
