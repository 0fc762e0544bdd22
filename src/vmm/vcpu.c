/* vcpu.c — one thread per vCPU: CPUID, MSRs, FPU and LAPIC set-up, the
 * boot register state for the PVH and 64-bit entries, and the KVM_RUN loop
 * that hands port I/O and MMIO exits to the buses. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/jail.h"
#include "common/util.h"
#include "vmm/vm.h"

#define KICK_SIGNAL SIGUSR1

#define MSR_IA32_SYSENTER_CS  0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE  0x1a0
#define MSR_STAR              0xc0000081
#define MSR_LSTAR             0xc0000082
#define MSR_CSTAR             0xc0000083
#define MSR_SYSCALL_MASK      0xc0000084
#define MSR_KERNEL_GS_BASE    0xc0000102
#define MSR_IA32_TSC          0x10

#define APIC_LVT0        0x350
#define APIC_LVT1        0x360
#define APIC_MODE_EXTINT 0x7
#define APIC_MODE_NMI    0x4

static void kick_handler(int sig)
{
        (void) sig; /* only there to interrupt KVM_RUN */
}

static void setup_cpuid(struct vmm_vcpu *v, struct kvm_cpuid2 *c)
{
        for (unsigned i = 0; i < c->nent; i++) {
                struct kvm_cpuid_entry2 *e = &c->entries[i];
                switch (e->function) {
                case 1:
                        /* Initial APIC ID and logical processor count. */
                        e->ebx = (e->ebx & 0x0000ffffu) | (v->id << 24) |
                                 ((v->vm->n_vcpus & 0xff) << 16);
                        e->ecx |= 1u << 31; /* running under a hypervisor */
                        if (v->vm->n_vcpus > 1)
                                e->edx |= 1u << 28; /* HTT: the count above is valid */
                        break;
                case 0xb:
                case 0x1f:
                        e->edx = v->id; /* x2APIC ID */
                        break;
                default:
                        break;
                }
        }
}

static int set_lapic(struct vmm_vcpu *v, berth_error_t *err)
{
        struct kvm_lapic_state l;
        if (ioctl(v->fd, KVM_GET_LAPIC, &l) < 0)
                return berth_fail(err, errno, "KVM_GET_LAPIC");
        /* The PC wiring: LINT0 takes the 8259's ExtINT, LINT1 is NMI. */
        uint32_t *lvt0 = (uint32_t *) (void *) &l.regs[APIC_LVT0];
        uint32_t *lvt1 = (uint32_t *) (void *) &l.regs[APIC_LVT1];
        *lvt0 = (*lvt0 & ~0x700u) | (APIC_MODE_EXTINT << 8);
        *lvt1 = (*lvt1 & ~0x700u) | (APIC_MODE_NMI << 8);
        if (ioctl(v->fd, KVM_SET_LAPIC, &l) < 0)
                return berth_fail(err, errno, "KVM_SET_LAPIC");
        return 0;
}

static void set_msrs(struct vmm_vcpu *v)
{
        static const struct {
                uint32_t index;
                uint64_t value;
        } boot_msrs[] = {
                {MSR_IA32_SYSENTER_CS, 0},
                {MSR_IA32_SYSENTER_ESP, 0},
                {MSR_IA32_SYSENTER_EIP, 0},
                {MSR_STAR, 0},
                {MSR_CSTAR, 0},
                {MSR_KERNEL_GS_BASE, 0},
                {MSR_SYSCALL_MASK, 0},
                {MSR_LSTAR, 0},
                {MSR_IA32_TSC, 0},
                {MSR_IA32_MISC_ENABLE, 1 /* fast strings */},
        };
        size_t n = BERTH_ARRAY_SIZE(boot_msrs);
        struct kvm_msrs *m = berth_xcalloc(1, sizeof(*m) + n * sizeof(struct kvm_msr_entry));
        m->nmsrs = (uint32_t) n;
        for (size_t i = 0; i < n; i++) {
                m->entries[i].index = boot_msrs[i].index;
                m->entries[i].data = boot_msrs[i].value;
        }
        int r = ioctl(v->fd, KVM_SET_MSRS, m);
        free(m);
        /* A KVM that refuses an MSR stops at it; the rest keep reset values,
         * which a kernel copes with. */
        if (r != (int) n)
                log_debug("vCPU %u: KVM_SET_MSRS set %d of %zu", v->id, r, n);
}

int vmm_vcpu_create(struct vmm_vm *vm, unsigned id, berth_error_t *err)
{
        struct vmm_vcpu *v = &vm->vcpus[id];
        v->vm = vm;
        v->id = id;
        v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long) id);
        if (v->fd < 0)
                return berth_fail(err, errno, "KVM_CREATE_VCPU");
        v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
        if (v->run == MAP_FAILED) {
                v->run = NULL;
                return berth_fail(err, errno, "map kvm_run");
        }
        setup_cpuid(v, vm->cpuid);
        if (ioctl(v->fd, KVM_SET_CPUID2, vm->cpuid) < 0)
                return berth_fail(err, errno, "KVM_SET_CPUID2");
        set_msrs(v);
        struct kvm_fpu fpu = {.fcw = 0x37f, .mxcsr = 0x1f80};
        if (ioctl(v->fd, KVM_SET_FPU, &fpu) < 0)
                return berth_fail(err, errno, "KVM_SET_FPU");
        return set_lapic(v, err);
}

static struct kvm_segment seg_from_gdt(uint64_t d, uint16_t sel)
{
        return (struct kvm_segment){
                .base = (uint32_t) (((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000)),
                .limit = (uint32_t) ((d & 0xffff) | ((d >> 32) & 0xf0000)),
                .selector = sel,
                .type = (uint8_t) ((d >> 40) & 0xf),
                .s = (uint8_t) ((d >> 44) & 1),
                .dpl = (uint8_t) ((d >> 45) & 3),
                .present = (uint8_t) ((d >> 47) & 1),
                .avl = (uint8_t) ((d >> 52) & 1),
                .l = (uint8_t) ((d >> 53) & 1),
                .db = (uint8_t) ((d >> 54) & 1),
                .g = (uint8_t) ((d >> 55) & 1),
        };
}

static void fix_limit(struct kvm_segment *s)
{
        if (s->g)
                s->limit = (s->limit << 12) | 0xfff;
}

int vmm_vcpu_setup_boot(struct vmm_vcpu *v, berth_error_t *err)
{
        struct vmm_vm *vm = v->vm;
        struct kvm_sregs sr;
        if (ioctl(v->fd, KVM_GET_SREGS, &sr) < 0)
                return berth_fail(err, errno, "KVM_GET_SREGS");
        uint64_t gdt[BOOT_GDT_ENTRIES];
        vmm_boot_gdt(gdt);
        bool pvh = vm->boot.mode == VMM_ENTRY_PVH32;
        uint16_t cs_sel = pvh ? BOOT_SEL_CODE32 : BOOT_SEL_CODE64;
        struct kvm_segment cs = seg_from_gdt(gdt[cs_sel / 8], cs_sel);
        struct kvm_segment ds = seg_from_gdt(gdt[BOOT_SEL_DATA / 8], BOOT_SEL_DATA);
        struct kvm_segment tr = seg_from_gdt(gdt[BOOT_SEL_TSS / 8], BOOT_SEL_TSS);
        fix_limit(&cs);
        fix_limit(&ds);
        sr.cs = cs;
        sr.ds = sr.es = sr.fs = sr.gs = sr.ss = ds;
        sr.tr = tr;
        sr.gdt.base = BOOT_GDT_ADDR;
        sr.gdt.limit = sizeof(gdt) - 1;
        sr.idt.base = BOOT_IDT_ADDR;
        sr.idt.limit = 7;
        if (pvh) {
                /* PVH: flat 32-bit protected mode, paging off. */
                sr.cr0 = 0x11; /* PE | ET */
                sr.cr4 = 0;
                sr.efer = 0;
        } else {
                sr.cr3 = BOOT_PML4_ADDR;
                sr.cr4 = 0x20;                /* PAE */
                sr.cr0 = 0x80000011u | 0x20u; /* PG | ET | PE | NE */
                sr.efer = 0x500;              /* LME | LMA */
        }
        if (ioctl(v->fd, KVM_SET_SREGS, &sr) < 0)
                return berth_fail(err, errno, "KVM_SET_SREGS");

        /* A stack for both entries: the PVH ABI does not promise one, but
         * QEMU and kvmtool give one, and boot stubs that push before they
         * set their own rely on it. */
        struct kvm_regs r = {
                .rflags = 2, .rip = vm->boot.entry, .rsp = BOOT_STACK_ADDR, .rbp = BOOT_STACK_ADDR};
        if (pvh)
                r.rbx = BOOT_PVH_INFO_ADDR;
        else
                r.rsi = BOOT_PARAMS_ADDR;
        if (ioctl(v->fd, KVM_SET_REGS, &r) < 0)
                return berth_fail(err, errno, "KVM_SET_REGS");
        return 0;
}

static void handle_io(struct vmm_vcpu *v)
{
        struct kvm_run *run = v->run;
        uint8_t *data = (uint8_t *) run + run->io.data_offset;
        bool write = run->io.direction == KVM_EXIT_IO_OUT;
        unsigned size = run->io.size;
        /* data_offset and count come from KVM, but stay inside the page. */
        if (run->io.data_offset + (uint64_t) size * run->io.count > v->vm->run_size)
                return;
        for (uint32_t i = 0; i < run->io.count; i++, data += size)
                vmm_bus_access(&v->vm->pio, run->io.port, data, size, write);
}

static void handle_system_event(struct vmm_vcpu *v)
{
        switch (v->run->system_event.type) {
        case KVM_SYSTEM_EVENT_SHUTDOWN:
                vmm_vm_stop(v->vm, VMM_EXIT_POWEROFF);
                break;
        case KVM_SYSTEM_EVENT_RESET:
                vmm_vm_stop(v->vm, VMM_EXIT_REBOOT);
                break;
        default:
                log_error("vCPU %u: guest crashed (system event %u)", v->id,
                          v->run->system_event.type);
                vmm_vm_stop(v->vm, VMM_EXIT_GUEST_CRASH);
        }
}

static void dump_state(struct vmm_vcpu *v)
{
        struct kvm_regs r;
        struct kvm_sregs s;
        if (ioctl(v->fd, KVM_GET_REGS, &r) == 0 && ioctl(v->fd, KVM_GET_SREGS, &s) == 0)
                log_error("vCPU %u: rip=%#llx rsp=%#llx cr0=%#llx cr3=%#llx cr4=%#llx efer=%#llx",
                          v->id, r.rip, r.rsp, s.cr0, s.cr3, s.cr4, s.efer);
}

static void *vcpu_thread(void *arg)
{
        struct vmm_vcpu *v = arg;
        struct vmm_vm *vm = v->vm;
        sigset_t kick;
        sigemptyset(&kick);
        sigaddset(&kick, KICK_SIGNAL);
        pthread_sigmask(SIG_UNBLOCK, &kick, NULL);
        /* "vcpuN" in /proc/PID/task/TID/comm: how `berth vm vcpupin` finds it. */
        char name[16];
        snprintf(name, sizeof(name), "vcpu%u", v->id);
        pthread_setname_np(pthread_self(), name);
        berth_error_t err = NULL;
        if (vmm_jail_thread(VMM_THREAD_VCPU, &err) < 0) {
                log_error("vCPU %u: %s", v->id, berth_error_msg(err));
                berth_error_release(&err);
                vmm_vm_stop(vm, VMM_EXIT_ERROR);
                return NULL;
        }

        if (v->id == 0 && berth_log_get_level() >= BERTH_LOG_INFO) {
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                /* The absolute time lets a parent that noted the clock
                 * before exec measure from process start (bench/vmm.sh). */
                log_info("vCPU 0: first KVM_RUN %.2f ms after the VMM started (CLOCK_MONOTONIC "
                         "%lld.%09ld)",
                         (double) (now.tv_sec - vm->t_start.tv_sec) * 1e3 +
                                 (double) (now.tv_nsec - vm->t_start.tv_nsec) / 1e6,
                         (long long) now.tv_sec, now.tv_nsec);
        }
        while (!atomic_load(&vm->stopping)) {
                /* auto-converge (migrate_send.c): sleep a share of each period */
                unsigned ticket = atomic_load_explicit(&vm->throttle_ticket, memory_order_relaxed);
                if (ticket != v->throttle_seen) {
                        v->throttle_seen = ticket;
                        uint64_t ns = atomic_load(&vm->throttle_ns);
                        struct timespec ts = {(time_t) (ns / 1000000000u),
                                              (long) (ns % 1000000000u)};
                        if (ns)
                                nanosleep(&ts, NULL);
                }
                if (atomic_load(&vm->paused)) {
                        /* Out of KVM_RUN: say so, so that the pause can answer. */
                        pthread_mutex_lock(&vm->pause_lock);
                        v->out = true;
                        pthread_cond_broadcast(&vm->out_cond);
                        while (atomic_load(&vm->paused) && !atomic_load(&vm->stopping))
                                pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
                        v->out = false;
                        pthread_mutex_unlock(&vm->pause_lock);
                        continue;
                }
                if (ioctl(v->fd, KVM_RUN, 0) < 0) {
                        if (errno == EINTR || errno == EAGAIN) {
                                __atomic_store_n(&v->run->immediate_exit, 0, __ATOMIC_RELAXED);
                                continue;
                        }
                        log_error("vCPU %u: KVM_RUN: %s", v->id, strerror(errno));
                        dump_state(v);
                        vmm_vm_stop(vm, VMM_EXIT_GUEST_CRASH);
                        break;
                }
                struct kvm_run *run = v->run;
                if (run->exit_reason < 64)
                        atomic_fetch_add_explicit(&vm->exits[run->exit_reason], 1,
                                                  memory_order_relaxed);
                switch (run->exit_reason) {
                case KVM_EXIT_IO:
                        handle_io(v);
                        break;
                case KVM_EXIT_MMIO:
                        vmm_bus_access(&vm->mmio, run->mmio.phys_addr, run->mmio.data,
                                       run->mmio.len > 8 ? 8 : run->mmio.len, run->mmio.is_write);
                        break;
                case KVM_EXIT_SHUTDOWN:
                        log_info("vCPU %u: triple fault", v->id);
                        vmm_vm_stop(vm, VMM_EXIT_TRIPLE_FAULT);
                        break;
                case KVM_EXIT_SYSTEM_EVENT:
                        handle_system_event(v);
                        break;
                case KVM_EXIT_HLT:
                        /* Only without an in-kernel LAPIC; treat like poweroff. */
                        vmm_vm_stop(vm, VMM_EXIT_POWEROFF);
                        break;
                case KVM_EXIT_INTR:
                        break;
                case KVM_EXIT_INTERNAL_ERROR:
                        log_error("vCPU %u: KVM internal error, suberror %u", v->id,
                                  run->internal.suberror);
                        dump_state(v);
                        vmm_vm_stop(vm, VMM_EXIT_GUEST_CRASH);
                        break;
                case KVM_EXIT_FAIL_ENTRY:
                        log_error(
                                "vCPU %u: VM entry failed, reason %#llx", v->id,
                                (unsigned long long) run->fail_entry.hardware_entry_failure_reason);
                        dump_state(v);
                        vmm_vm_stop(vm, VMM_EXIT_GUEST_CRASH);
                        break;
                default:
                        log_error("vCPU %u: unhandled KVM exit %u", v->id, run->exit_reason);
                        dump_state(v);
                        vmm_vm_stop(vm, VMM_EXIT_GUEST_CRASH);
                }
        }
        pthread_mutex_lock(&vm->pause_lock);
        v->out = true;
        pthread_cond_broadcast(&vm->out_cond);
        pthread_mutex_unlock(&vm->pause_lock);
        return NULL;
}

int vmm_vcpu_start(struct vmm_vcpu *v, berth_error_t *err)
{
        static bool handler_set;
        if (!handler_set) {
                struct sigaction sa = {.sa_handler = kick_handler};
                sigemptyset(&sa.sa_mask);
                sigaction(KICK_SIGNAL, &sa, NULL); /* no SA_RESTART: KVM_RUN returns EINTR */
                handler_set = true;
        }
        /* Kept blocked here and unblocked in the thread: a kick can only
         * land where it interrupts KVM_RUN or the stop check. */
        sigset_t kick, old;
        sigemptyset(&kick);
        sigaddset(&kick, KICK_SIGNAL);
        pthread_sigmask(SIG_BLOCK, &kick, &old);
        int r = pthread_create(&v->thread, NULL, vcpu_thread, v);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r != 0)
                return berth_fail(err, r, "start vCPU %u thread", v->id);
        v->started = true;
        return 0;
}

void vmm_vcpu_kick(struct vmm_vcpu *v)
{
        if (!v->started)
                return;
        if (v->run)
                __atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_RELAXED);
        pthread_kill(v->thread, KICK_SIGNAL);
}

void vmm_vcpu_destroy(struct vmm_vcpu *v)
{
        if (v->started)
                pthread_join(v->thread, NULL);
        v->started = false;
        if (v->run)
                munmap(v->run, v->vm->run_size);
        if (v->fd > 0)
                close(v->fd);
        v->run = NULL;
        v->fd = -1;
}
