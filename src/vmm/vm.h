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
#include "vmm/mem.h"
#include "vmm/serial.h"
#include "vmm/vmm.h"

struct vmm_vm;
struct virtio_mmio_dev;

/* main loop registrations: fd readable -> fn(opaque), on the main thread. */
typedef void (*vmm_event_fn)(void *opaque);

struct vmm_vcpu {
        struct vmm_vm *vm;
        unsigned id;
        int fd;
        struct kvm_run *run;
        pthread_t thread;
        bool started;
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

struct vmm_vm {
        const struct vmm_config *cfg;
        int kvm_fd, vm_fd;
        size_t run_size;
        struct vmm_mem mem;
        struct kvm_cpuid2 *cpuid;
        struct vmm_boot boot;
        struct vmm_bus pio, mmio;
        struct vmm_serial serial;
        struct vmm_vcpu vcpus[VMM_MAX_CPUS];
        unsigned n_vcpus;
        struct virtio_mmio_dev *virtio[VMM_MAX_VIRTIO];
        unsigned n_virtio;
        struct vmm_watch {
                int fd;
                vmm_event_fn fn;
                void *opaque;
        } watches[64];
        unsigned n_watches;
        int epoll_fd;
        int stop_fd; /* eventfd: a vCPU asks the main loop to stop */
        atomic_bool stopping;
        atomic_int exit_status;
        bool have_ioeventfd, have_irqfd;
        struct timespec t_start; /* vmm_run() entry, for the start-up log line */
};

/* Ask every thread to stop; the first status given wins. */
void vmm_vm_stop(struct vmm_vm *vm, int status);

/* Raise or lower a GSI on KVM's in-kernel irqchip. */
void vmm_vm_irq_line(void *vm, unsigned gsi, int level);

/* vcpu.c */
int vmm_vcpu_create(struct vmm_vm *vm, unsigned id, berth_error_t *err);
int vmm_vcpu_setup_boot(struct vmm_vcpu *v, berth_error_t *err);
int vmm_vcpu_start(struct vmm_vcpu *v, berth_error_t *err);
void vmm_vcpu_kick(struct vmm_vcpu *v);
void vmm_vcpu_destroy(struct vmm_vcpu *v);

/* legacy.c: i8042 reset, PM registers, POST port. */
int vmm_legacy_init(struct vmm_vm *vm, berth_error_t *err);

int vmm_vm_watch_fd(struct vmm_vm *vm, int fd, vmm_event_fn fn, void *opaque, berth_error_t *err);
/* Pause or resume a watched fd (a device with nowhere to put input). */
void vmm_vm_watch_enable(struct vmm_vm *vm, int fd, bool on);

#endif
