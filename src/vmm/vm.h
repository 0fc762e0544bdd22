/* vm.h — the running VM inside berth-vmm: KVM handles, memory, buses,
 * devices and vCPU threads.  Internal to src/vmm/. */
#ifndef BERTH_VMM_VM_H
#define BERTH_VMM_VM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "vmm/boot.h"
#include "vmm/bus.h"
#include "vmm/i8042.h"
#include "vmm/mem.h"
#include "vmm/serial.h"
#include "vmm/vmm.h"
#include "vmm/worker.h"

struct vmm_vm;
struct virtio_mmio_dev;
struct virtio_balloon;
struct virtio_net;
struct vmm_api;
struct vmm_restore;
struct vmm_dirty;
struct vmm_migration;
struct vmm_postcopy;
struct vmm_hand;

#define VMM_BALLOON_NSTATS 10 /* VIRTIO_BALLOON_S_NR */

struct vmm_balloon_stats {
        uint64_t value[VMM_BALLOON_NSTATS];
        unsigned valid; /* bit per tag the guest reported */
};

/* main loop registrations: fd readable -> fn(opaque), on the main thread. */
typedef void (*vmm_event_fn)(void *opaque);

struct vmm_vcpu {
        struct vmm_vm *vm;
        unsigned id;
        int fd;
        struct kvm_run *run;
        pthread_t thread;
        bool started;
        bool out;               /* under pause_lock: parked for a pause, or its thread is done */
        unsigned throttle_seen; /* the last vm->throttle_ticket it slept for */
};

#define VMM_MAX_VIRTIO 16

/* ACPI-style power management ports (hardware-reduced ACPI's sleep control
 * and reset registers; the FADT points at them). */
#define VMM_PM_PORT          0x600
#define VMM_PM_SLEEP_CONTROL 0 /* write (SLP_TYP << 2) | SLP_EN */
#define VMM_PM_SLEEP_STATUS  1
#define VMM_PM_RESET         2 /* write VMM_PM_RESET_VALUE */
#define VMM_PM_RESET_VALUE   0x01
#define VMM_PM_SLP_EN        0x20
#define VMM_PM_SLP_TYP_S5    5

/* The ACPI Generic Event Device (ged.c): one read-to-clear event selector
 * in the MMIO hole above the virtio devices, and its interrupt on the
 * IOAPIC's last pin, clear of the virtio IRQs (5 + n). */
#define VMM_GED_BASE           0xd0100000u
#define VMM_GED_SIZE           4
#define VMM_GED_IRQ            23
#define VMM_GED_EVT_PWR_BUTTON 1u

struct vmm_vm {
        const struct vmm_config *cfg;      /* &api_cfg */
        const struct vmm_config *base_cfg; /* the command line's */
        struct vmm_config api_cfg;         /* base_cfg + the API's PUTs (before start) */
        size_t run_size;
        struct vmm_mem mem;
        struct kvm_cpuid2 *cpuid;
        struct vmm_boot boot;
        struct vmm_bus pio, mmio;
        struct vmm_serial serial;
        struct vmm_i8042 i8042;
        struct vmm_vcpu vcpus[VMM_MAX_CPUS];
        struct virtio_mmio_dev *virtio[VMM_MAX_VIRTIO];
        struct vmm_watch {
                int fd;
                vmm_event_fn fn;
                void *opaque;
        } watches[128];
        struct virtio_balloon *balloon;
        struct virtio_net *nets[VMM_MAX_NETS]; /* in the config's order, for the API */
        struct vmm_api *api;
        /* set while a snapshot is being loaded (snapshot.h) */
        struct vmm_restore *restore;
        /* --track-dirty-pages: the dirty log since the last snapshot (dirty.c),
         * and whether there was one to be a Diff's base (taken or loaded here) */
        struct vmm_dirty *track;
        bool track_base;
        /* the last live migration from here (migrate.h), NULL before one */
        struct vmm_migration *migration;
        /* its threads, made ahead when jailed (worker.h), and the socket handed in
         * for it (migrate_hand.c) */
        struct vmm_worker mig_sender, mig_throttle;
        struct vmm_hand *hand;
        /* an incoming post-copy still fetching RAM (postcopy.h), NULL otherwise */
        struct vmm_postcopy *postcopy;
        /* auto-converge: a vCPU that sees a new ticket sleeps throttle_ns */
        atomic_uint throttle_ticket;
        atomic_ullong throttle_ns, throttle_pct;
        char *net_ip_arg; /* ip= for the guest: the first interface on a berth network */
        /* PATCH /drives on a running VM: the files the drives moved to (api_cfg points here) */
        char *drive_path[VMM_MAX_DISKS], *drive_backing[VMM_MAX_DISKS];
        atomic_ullong exits[64]; /* per KVM exit reason, for the metrics */
        pthread_mutex_t pause_lock;
        pthread_cond_t pause_cond;
        pthread_cond_t out_cond; /* a vCPU left KVM_RUN for a pause (vcpu.out) */
        pthread_t cpuid_thread;  /* fetches KVM_GET_SUPPORTED_CPUID meanwhile */
        struct timespec t_start; /* vmm_run() entry, for the start-up log line */
        int kvm_fd, vm_fd, epoll_fd;
        int stop_fd; /* eventfd: a vCPU asks the main loop to stop */
        int cpuid_errno;
        unsigned n_vcpus, n_virtio, n_watches, n_nets;
        atomic_int exit_status;
        atomic_bool started; /* vmm_vm_boot succeeded */
        atomic_bool paused, stopping;
        bool have_ioeventfd, have_irqfd, cpuid_started;
};

/* Ask every thread to stop; the first status given wins. */
void vmm_vm_stop(struct vmm_vm *vm, int status);

/* Build the VM from vm->cfg and start its vCPUs (the command line does it
 * at once; the API on InstanceStart). */
int vmm_vm_boot(struct vmm_vm *vm, berth_error_t *err);

/* Serve what the main loop's fds have ready, without waiting (an incoming
 * migration runs before the loop does); true once the VM is stopping. */
bool vmm_vm_dispatch(struct vmm_vm *vm);

/* Raise or lower a GSI on KVM's in-kernel irqchip. */
void vmm_vm_irq_line(void *vm, unsigned gsi, int level);

/* vcpu.c */
int vmm_vcpu_create(struct vmm_vm *vm, unsigned id, berth_error_t *err);
int vmm_vcpu_setup_boot(struct vmm_vcpu *v, berth_error_t *err);
int vmm_vcpu_start(struct vmm_vcpu *v, berth_error_t *err);
void vmm_vcpu_kick(struct vmm_vcpu *v);
void vmm_vcpu_destroy(struct vmm_vcpu *v);

/* Pause (true) or resume the vCPUs.  A pause returns once every started
 * vCPU is out of KVM_RUN and parked (or its thread ended). */
void vmm_vm_pause(struct vmm_vm *vm, bool pause);

/* ged.c: the ACPI power button (GED event selector + interrupt). */
int vmm_ged_init(struct vmm_vm *vm, berth_error_t *err);
int vmm_ged_power_button(struct vmm_vm *vm, berth_error_t *err);

/* api.c */
int vmm_api_start(struct vmm_vm *vm, const char *path, berth_error_t *err);
void vmm_api_stop(struct vmm_vm *vm);

/* virtio_balloon.c: the API's handle on the balloon. */
int vmm_balloon_set_target(struct vmm_vm *vm, uint64_t mib, berth_error_t *err);
int vmm_balloon_get(struct vmm_vm *vm, uint64_t *target_mib, uint64_t *actual_mib,
                    struct vmm_balloon_stats *stats, berth_error_t *err);

/* virtio_net.c: the API's handle on the interfaces.  An interface's id is
 * its config's, or "net<index>".  New rate limits (NULL: unchanged) apply at
 * once, with full buckets. */
#define VMM_NET_ID_MAX 64
void vmm_net_id(const struct vmm_net_config *nc, unsigned index, char id[VMM_NET_ID_MAX + 1]);
int vmm_net_set_limits(struct vmm_vm *vm, const char *id, const struct vmm_limit_config *rx,
                       const struct vmm_limit_config *tx, berth_error_t *err);

/* net_attach.c: an interface's tap on a berth network (vmm_net_config.network).  Attach
 * allocates the address and enslaves the tap; detach releases the address (the tap is the
 * device's to close). */
struct vmm_net_lease;
int vmm_net_attach(const struct vmm_net_config *nc, const char *tap, struct vmm_net_lease **out,
                   berth_error_t *err);
/* "ip=ADDR::GW:MASK::eth<index>:off" for the guest's command line (malloc'ed), or NULL. */
char *vmm_net_ip_arg(const struct vmm_net_lease *nl, unsigned index);
void vmm_net_detach(struct vmm_net_lease *nl);

/* console.c: COM1 to stdio, a pty, a unix socket or nowhere. */
int vmm_console_init(struct vmm_vm *vm, berth_error_t *err);
void vmm_console_fini(struct vmm_vm *vm);

/* legacy.c: PM registers, POST port, and the i8042 (i8042.c). */
int vmm_legacy_init(struct vmm_vm *vm, berth_error_t *err);

int vmm_vm_watch_fd(struct vmm_vm *vm, int fd, vmm_event_fn fn, void *opaque, berth_error_t *err);
/* Pause or resume a watched fd (a device with nowhere to put input). */
void vmm_vm_watch_enable(struct vmm_vm *vm, int fd, bool on);
/* Watch for readability and/or writability (EPOLLIN/EPOLLOUT); 0 pauses. */
void vmm_vm_watch_events(struct vmm_vm *vm, int fd, uint32_t events);
/* Stop watching fd (before closing it). */
void vmm_vm_unwatch_fd(struct vmm_vm *vm, int fd);

#endif
