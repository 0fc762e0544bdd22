/* vm.c — VM lifecycle: KVM set-up, guest memory, devices, vCPU threads and
 * the main event loop that serves device I/O until the guest stops. */
#include "vmm/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "vmm/acpi.h"
#include "vmm/jail.h"
#include "vmm/migrate.h"
#include "vmm/mptable.h"
#include "vmm/snapshot.h"
#include "vmm/virtio_mmio.h"

#define KVM_TSS_ADDR          0xfffbd000ul
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ull

void vmm_vm_stop(struct vmm_vm *vm, int status)
{
        bool was = atomic_exchange(&vm->stopping, true);
        if (!was) {
                atomic_store(&vm->exit_status, status);
                uint64_t one = 1;
                (void) !write(vm->stop_fd, &one, sizeof(one));
        }
}

/* Every started vCPU parked or gone?  Under pause_lock. */
static bool vcpus_out(struct vmm_vm *vm)
{
        for (unsigned i = 0; i < vm->n_vcpus; i++)
                if (vm->vcpus[i].started && !vm->vcpus[i].out)
                        return false;
        return true;
}

void vmm_vm_pause(struct vmm_vm *vm, bool pause)
{
        pthread_mutex_lock(&vm->pause_lock);
        bool was = atomic_exchange(&vm->paused, pause);
        pthread_cond_broadcast(&vm->pause_cond);
        pthread_mutex_unlock(&vm->pause_lock);
        if (pause)
                for (unsigned i = 0; i < vm->n_vcpus; i++)
                        vmm_vcpu_kick(&vm->vcpus[i]);
        /* Paused means paused (Firecracker's contract): answer only once no
         * vCPU runs guest code.  A vCPU kicked out of KVM_RUN parks within
         * microseconds; the bound only keeps a wedged one from hanging the
         * API, and a stop ends the wait too. */
        if (pause) {
                struct timespec until;
                clock_gettime(CLOCK_REALTIME, &until);
                until.tv_sec += 2;
                pthread_mutex_lock(&vm->pause_lock);
                while (!vcpus_out(vm) && atomic_load(&vm->paused) && !atomic_load(&vm->stopping))
                        if (pthread_cond_timedwait(&vm->out_cond, &vm->pause_lock, &until) ==
                            ETIMEDOUT) {
                                log_warn("pause: a vCPU did not leave KVM_RUN within 2 s");
                                break;
                        }
                pthread_mutex_unlock(&vm->pause_lock);
        }
        if (was != pause)
                log_info("VM %s", pause ? "paused" : "resumed");
}

void vmm_vm_irq_line(void *opaque, unsigned gsi, int level)
{
        struct vmm_vm *vm = opaque;
        struct kvm_irq_level irq = {.irq = gsi, .level = level};
        if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
                log_debug("KVM_IRQ_LINE %u: %s", gsi, strerror(errno));
}

int vmm_vm_watch_fd(struct vmm_vm *vm, int fd, vmm_event_fn fn, void *opaque, berth_error_t *err)
{
        struct vmm_watch *w = NULL;
        for (unsigned i = 0; i < vm->n_watches && !w; i++)
                if (!vm->watches[i].fn)
                        w = &vm->watches[i]; /* a slot freed by vmm_vm_unwatch_fd */
        if (!w && vm->n_watches >= BERTH_ARRAY_SIZE(vm->watches))
                return berth_fail(err, ENOSPC, "too many event sources");
        if (!w)
                w = &vm->watches[vm->n_watches++];
        *w = (struct vmm_watch){fd, fn, opaque};
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = w};
        if (epoll_ctl(vm->epoll_fd, EPOLL_CTL_ADD, fd, &ev) < 0) {
                int e = errno;
                /* free the slot again: the caller closes fd, whose number comes back */
                *w = (struct vmm_watch){-1, NULL, NULL};
                return berth_fail(err, e, "watch fd %d", fd);
        }
        return 0;
}

void vmm_vm_watch_enable(struct vmm_vm *vm, int fd, bool on)
{
        vmm_vm_watch_events(vm, fd, on ? EPOLLIN : 0);
}

void vmm_vm_unwatch_fd(struct vmm_vm *vm, int fd)
{
        for (unsigned i = 0; i < vm->n_watches; i++) {
                if (vm->watches[i].fd != fd || !vm->watches[i].fn)
                        continue;
                (void) epoll_ctl(vm->epoll_fd, EPOLL_CTL_DEL, fd, NULL);
                vm->watches[i].fn = NULL;
                vm->watches[i].fd = -1;
                return;
        }
}

void vmm_vm_watch_events(struct vmm_vm *vm, int fd, uint32_t events)
{
        for (unsigned i = 0; i < vm->n_watches; i++) {
                if (vm->watches[i].fd != fd || !vm->watches[i].fn)
                        continue;
                struct epoll_event ev = {.events = events, .data.ptr = &vm->watches[i]};
                if (epoll_ctl(vm->epoll_fd, EPOLL_CTL_MOD, fd, &ev) < 0)
                        log_debug("epoll_ctl MOD fd %d: %s", fd, strerror(errno));
                return;
        }
}

/* Guest RAM is registered with KVM right after KVM_CREATE_VM, before the
 * irqchip and the PIT: measured on this host (kvm_pvm, HZ=250), a memory
 * slot installed on a fresh VM takes ~0.1 ms, but one installed after
 * KVM_CREATE_IRQCHIP waits 4-11 ms (whole jiffies) in KVM's SRCU grace
 * period; docs/performance.md has the numbers. */
static int mem_init(struct vmm_vm *vm, berth_error_t *err)
{
        /* An incoming migration received guest RAM before the VM was built. */
        if (vm->mem.map)
                ;
        else if (vm->restore ? vmm_snapshot_map_memory(vm, err) < 0
                 : vm->cfg->huge_pages
                         ? vmm_mem_alloc_huge(&vm->mem, vm->cfg->memory_mib << 20, err) < 0
                         : vmm_mem_alloc(&vm->mem, vm->cfg->memory_mib << 20, err) < 0)
                return -1;
        if (vmm_mem_bind(&vm->mem, vm->cfg->numa_nodes, vm->cfg->numa_mode, err) < 0)
                return -1;
        for (unsigned i = 0; i < vm->mem.n; i++) {
                struct kvm_userspace_memory_region r = {
                        .slot = i,
                        .guest_phys_addr = vm->mem.regions[i].gpa,
                        .memory_size = vm->mem.regions[i].size,
                        .userspace_addr = (uintptr_t) vm->mem.regions[i].hva,
                };
                if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
                        return berth_fail(err, errno, "KVM_SET_USER_MEMORY_REGION");
        }
        return 0;
}

static void *cpuid_thread(void *arg);

static int kvm_init(struct vmm_vm *vm, berth_error_t *err)
{
        vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (vm->kvm_fd < 0)
                return berth_fail(err, errno, "open /dev/kvm");
        vm->cpuid_started = pthread_create(&vm->cpuid_thread, NULL, cpuid_thread, vm) == 0;
        int v = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
        if (v != KVM_API_VERSION)
                return berth_fail(err, EINVAL, "KVM API version %d, want %d", v, KVM_API_VERSION);
        static const struct {
                int cap;
                const char *name;
        } need[] = {
                {KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY"},
                {KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP"},
                {KVM_CAP_PIT2, "KVM_CAP_PIT2"},
                {KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID"},
                {KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT"},
        };
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(need); i++)
                if (ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, need[i].cap) <= 0)
                        return berth_fail(err, ENOTSUP, "KVM lacks %s", need[i].name);
        vm->have_ioeventfd = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IOEVENTFD) > 0;
        vm->have_irqfd = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_IRQFD) > 0;
        int rs = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
        if (rs <= 0)
                return berth_fail(err, errno, "KVM_GET_VCPU_MMAP_SIZE");
        vm->run_size = (size_t) rs;

        vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
        if (vm->vm_fd < 0)
                return berth_fail(err, errno, "KVM_CREATE_VM");
        /* Guest RAM first, while the VM has no irqchip (mem_init). */
        if (mem_init(vm, err) < 0)
                return -1;
        /* Intel VT-x needs these two pages out of the guest's way; other
         * implementations may not know the ioctls, which is harmless. */
        if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_ADDR) < 0)
                log_debug("KVM_SET_TSS_ADDR: %s", strerror(errno));
        uint64_t idmap = KVM_IDENTITY_MAP_ADDR;
        if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
                log_debug("KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
        if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
                return berth_fail(err, errno, "KVM_CREATE_IRQCHIP");
        struct kvm_pit_config pit = {.flags = 0};
        if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
                return berth_fail(err, errno, "KVM_CREATE_PIT2");
        return 0;
}

/* KVM_GET_SUPPORTED_CPUID takes about a millisecond and needs no VM: it runs
 * on its own thread from the moment /dev/kvm is open, beside KVM_CREATE_VM,
 * the irqchip and the memory slots; cpuid_init() collects it. */
static void *cpuid_thread(void *arg)
{
        struct vmm_vm *vm = arg;
        for (unsigned n = 128; n <= 4096; n *= 2) {
                struct kvm_cpuid2 *c =
                        berth_xcalloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));
                c->nent = n;
                if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
                        vm->cpuid = c;
                        return NULL;
                }
                int e = errno;
                free(c);
                if (e != E2BIG) {
                        vm->cpuid_errno = e;
                        return NULL;
                }
        }
        vm->cpuid_errno = E2BIG;
        return NULL;
}

static int cpuid_init(struct vmm_vm *vm, berth_error_t *err)
{
        if (!vm->cpuid_started)
                cpuid_thread(vm);
        else
                pthread_join(vm->cpuid_thread, NULL);
        vm->cpuid_started = false;
        if (vm->cpuid == NULL)
                return berth_fail(err, vm->cpuid_errno ? vm->cpuid_errno : E2BIG,
                                  "KVM_GET_SUPPORTED_CPUID");
        return 0;
}

static void on_signal(void *opaque)
{
        struct vmm_vm *vm = opaque;
        struct signalfd_siginfo si;
        int fd = -1;
        for (unsigned i = 0; i < vm->n_watches; i++)
                if (vm->watches[i].fn == on_signal)
                        fd = vm->watches[i].fd;
        if (fd >= 0 && read(fd, &si, sizeof(si)) == sizeof(si))
                log_info("signal %u: stopping the VM", si.ssi_signo);
        vmm_vm_stop(vm, VMM_EXIT_SIGNAL);
}

static void on_stop(void *opaque)
{
        (void) opaque; /* the loop checks vm->stopping */
}

/* Does the command line have a word starting with key? */
static bool cmdline_has(const char *s, const char *key)
{
        size_t k = strlen(key);
        for (const char *p = s; (p = strstr(p, key)) != NULL; p += k)
                if (p == s || p[-1] == ' ')
                        return true;
        return false;
}

/* word after *s, space-separated (word is taken) */
static void append_word(char **s, char *word)
{
        char *n = berth_xasprintf("%s%s%s", *s, **s ? " " : "", word);
        free(*s);
        free(word);
        *s = n;
}

/* word (KEY=VALUE, or a bare KEY) after *s unless *s sets KEY already */
static void append_unless_set(char **s, const char *word)
{
        if (!word || !*word)
                return;
        const char *eq = strchr(word, '=');
        cleanup_free char *key =
                berth_xasprintf("%.*s", (int) (eq ? eq - word + 1 : (long) strlen(word)), word);
        if (!cmdline_has(*s, key))
                append_word(s, berth_xstrdup(word));
}

/* The command line the guest sees: the user's, then the address of the
 * first interface on a berth network unless the user set ip= (Linux
 * configures one interface from it), then one virtio_mmio.device= entry
 * per device (Firecracker's way). */
static char *compose_cmdline(struct vmm_vm *vm)
{
        char *s = berth_xstrdup(vm->cfg->cmdline ? vm->cfg->cmdline : "");
        /* the user's ip= wins over a berth network's lease (net_ip_arg), or the one
         * --boot-arg brings (berth vm: the lease of a --tap-fd interface) */
        append_unless_set(&s, vm->net_ip_arg);
        append_unless_set(&s, vm->cfg->boot_arg);
        for (unsigned i = 0; i < vm->n_virtio; i++)
                append_word(&s,
                            berth_xasprintf("virtio_mmio.device=4K@%#llx:%u",
                                            (unsigned long long) virtio_mmio_base(vm->virtio[i]),
                                            virtio_mmio_irq(vm->virtio[i])));
        return s;
}

static int acpi_init(struct vmm_vm *vm, uint64_t *rsdp, berth_error_t *err)
{
        struct vmm_acpi_config ac = {.cpus = vm->n_vcpus, .ged = true};
        if (vmm_ged_init(vm, err) < 0)
                return -1;
        for (unsigned i = 0; i < vm->n_virtio && i < VMM_ACPI_MAX_MMIO; i++)
                ac.mmio[ac.n_mmio++] = (struct vmm_acpi_mmio_dev){virtio_mmio_base(vm->virtio[i]),
                                                                  VMM_VIRTIO_MMIO_SIZE,
                                                                  virtio_mmio_irq(vm->virtio[i])};
        return vmm_acpi_build(&vm->mem, &ac, rsdp, err);
}

static void log_layout(struct vmm_vm *vm, const char *cmdline)
{
        struct vmm_e820 e[VMM_E820_MAX];
        unsigned n = vmm_e820_build(&vm->mem, e, VMM_E820_MAX);
        log_info("kernel: %s, entry %#llx, %u vCPU(s), %llu MiB", vm->boot.kind,
                 (unsigned long long) vm->boot.entry, vm->n_vcpus,
                 (unsigned long long) vm->cfg->memory_mib);
        for (unsigned i = 0; i < n; i++)
                log_info("e820: 0x%016llx-0x%016llx type %u", (unsigned long long) e[i].addr,
                         (unsigned long long) (e[i].addr + e[i].size - 1), e[i].type);
        log_info("cmdline: %s", cmdline);
}

static void vm_destroy(struct vmm_vm *vm)
{
        vmm_api_stop(vm);
        vmm_migrate_hand_stop(vm);
        vmm_migrate_cancel(vm);
        vmm_migrate_incoming_fini(vm);
        vmm_vm_pause(vm, false); /* let paused vCPU threads see the stop */
        if (berth_log_get_level() >= BERTH_LOG_INFO && vm->mem.map)
                log_info("guest memory touched: %llu KiB",
                         (unsigned long long) (vmm_mem_resident(&vm->mem) >> 10));
        for (unsigned i = 0; i < vm->n_vcpus; i++)
                vmm_vcpu_kick(&vm->vcpus[i]);
        for (unsigned i = 0; i < vm->n_vcpus; i++)
                vmm_vcpu_destroy(&vm->vcpus[i]);
        for (unsigned i = 0; i < vm->n_virtio; i++)
                virtio_mmio_destroy(vm->virtio[i]);
        for (unsigned i = 0; i < vm->n_watches; i++)
                if (vm->watches[i].fn == on_signal || vm->watches[i].fn == on_stop)
                        close(vm->watches[i].fd);
        if (vm->epoll_fd >= 0)
                close(vm->epoll_fd);
        if (vm->vm_fd >= 0)
                close(vm->vm_fd);
        if (vm->kvm_fd >= 0)
                close(vm->kvm_fd);
        vmm_mem_free(&vm->mem);
        if (vm->i8042.vm)
                vmm_i8042_destroy(&vm->i8042);
        free(vm->cpuid);
        free(vm->net_ip_arg);
        for (unsigned i = 0; i < VMM_MAX_DISKS; i++) {
                free(vm->drive_path[i]);
                free(vm->drive_backing[i]);
        }
        vmm_console_fini(vm);
        vmm_snapshot_close(vm);
        vmm_migrate_fini(vm);
        vmm_track_free(vm);
        vmm_worker_stop(&vm->mig_sender);
        vmm_worker_stop(&vm->mig_throttle);
}

/* The event loop, signals and the API: what runs before the VM exists. */
static int loop_setup(struct vmm_vm *vm, berth_error_t *err)
{
        vm->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        vm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (vm->epoll_fd < 0 || vm->stop_fd < 0)
                return berth_fail(err, errno, "create the event loop");
        if (vmm_vm_watch_fd(vm, vm->stop_fd, on_stop, vm, err) < 0)
                return -1;
        sigset_t sigs;
        sigemptyset(&sigs);
        sigaddset(&sigs, SIGINT);
        sigaddset(&sigs, SIGTERM);
        sigaddset(&sigs, SIGHUP);
        /* Blocked before any thread starts, so only the signalfd sees them. */
        pthread_sigmask(SIG_BLOCK, &sigs, NULL);
        /* A console reader that goes away (`berth-vmm ... | head`) must not
         * kill the VMM: the UART's writes just fail. */
        signal(SIGPIPE, SIG_IGN);
        int sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0 || vmm_vm_watch_fd(vm, sfd, on_signal, vm, err) < 0)
                return berth_fail(err, errno, "signalfd");
        if (vm->cfg->api_sock && (vmm_api_start(vm, vm->cfg->api_sock, err) < 0 ||
                                  vmm_migrate_hand_start(vm, vm->cfg->api_sock, err) < 0))
                return -1;
        return 0;
}

/* KVM, memory, devices, kernel and vCPUs from vm->cfg. */
static int vm_build(struct vmm_vm *vm, berth_error_t *err)
{
        int r = kvm_init(vm, err);
        /* always collected, even when kvm_init failed: the thread must not outlive vm */
        if (vm->kvm_fd >= 0 && (vm->cpuid_started || r == 0) &&
            cpuid_init(vm, r < 0 ? NULL : err) < 0)
                r = -1;
        if (r < 0)
                return berth_wrap(err, "set up KVM");

        vmm_serial_init(&vm->serial, -1, vmm_vm_irq_line, vm);
        if (vmm_bus_add(&vm->pio, VMM_SERIAL_PORT, 8, vmm_serial_io, &vm->serial) < 0 ||
            vmm_legacy_init(vm, err) < 0)
                return berth_fail(err, EINVAL, "wire the legacy devices");
        if (vmm_console_init(vm, err) < 0)
                return berth_wrap(err, "set up the console");
        if (vmm_virtio_devices_init(vm, err) < 0)
                return -1;

        vm->n_vcpus = vm->cfg->cpus;
        /* A snapshot brings its own memory, tables and vCPU state. */
        if (vm->restore)
                return vmm_snapshot_restore(vm, err);
        uint64_t rsdp = 0, mp;
        if (!vm->cfg->no_acpi && acpi_init(vm, &rsdp, err) < 0)
                return -1;
        /* Both tables: ACPI for distribution kernels, the MP table for
         * kernels without ACPI or booted with --no-acpi. */
        if (vmm_mptable_build(&vm->mem, vm->n_vcpus, &mp, err) < 0)
                return -1;
        cleanup_free char *cmdline = compose_cmdline(vm);
        if (vmm_boot_load(&vm->mem, vm->cfg->kernel, vm->cfg->initrd, cmdline, rsdp, &vm->boot,
                          err) < 0)
                return -1;
        log_layout(vm, cmdline);
        for (unsigned i = 0; i < vm->n_vcpus; i++)
                if (vmm_vcpu_create(vm, i, err) < 0)
                        return berth_wrap(err, "create vCPU %u", i);
        return vmm_vcpu_setup_boot(&vm->vcpus[0], err);
}

int vmm_vm_boot(struct vmm_vm *vm, berth_error_t *err)
{
        int ret = vm_build(vm, err);
        /* Before any vCPU runs, so that no guest write is missed; a restored
         * snapshot is the base of the first Diff (not a migration's state). */
        if (ret == 0 && vm->cfg->track_dirty && !vm->track) {
                ret = vmm_track_start(vm, err);
                vm->track_base = vm->restore && !vm->base_cfg->migrate_incoming;
        }
        /* Jailed: every file is open now; the ids change before any vCPU
         * runs, and each vCPU thread installs its own list as it starts. */
        if (ret == 0)
                ret = vmm_jail_drop_ids(err);
        for (unsigned i = 0; ret == 0 && i < vm->n_vcpus; i++)
                if (vmm_vcpu_start(&vm->vcpus[i], err) < 0) {
                        vmm_vm_stop(vm, VMM_EXIT_ERROR);
                        ret = -1;
                }
        /* Jailed with --jail-migrate: a migration's threads now, while clone is
         * allowed (the main thread's list has none). */
        if (ret == 0 && vm->cfg->jail && vm->cfg->jail_migrate &&
            (vmm_worker_start(&vm->mig_sender, err) < 0 ||
             vmm_worker_start(&vm->mig_throttle, err) < 0)) {
                vmm_vm_stop(vm, VMM_EXIT_ERROR);
                ret = -1;
        }
        /* The main thread's list last: threads it creates would inherit it
         * on top of their own. */
        if (ret == 0 && vmm_jail_thread(VMM_THREAD_MAIN, err) < 0) {
                vmm_vm_stop(vm, VMM_EXIT_ERROR);
                ret = -1;
        }
        if (ret == 0)
                atomic_store(&vm->started, true);
        return ret;
}

bool vmm_vm_dispatch(struct vmm_vm *vm)
{
        struct epoll_event evs[16];
        int n = epoll_wait(vm->epoll_fd, evs, 16, 0);
        for (int i = 0; i < n; i++) {
                struct vmm_watch *w = evs[i].data.ptr;
                if (w->fn)
                        w->fn(w->opaque);
        }
        return atomic_load(&vm->stopping);
}

static void main_loop(struct vmm_vm *vm)
{
        while (!atomic_load(&vm->stopping)) {
                struct epoll_event evs[16];
                int n = epoll_wait(vm->epoll_fd, evs, 16, -1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        log_error("epoll_wait: %s", strerror(errno));
                        vmm_vm_stop(vm, VMM_EXIT_ERROR);
                        break;
                }
                for (int i = 0; i < n; i++) {
                        struct vmm_watch *w = evs[i].data.ptr;
                        if (w->fn) /* unwatched by an earlier handler of this batch */
                                w->fn(w->opaque);
                }
        }
}

int vmm_run(const struct vmm_config *cfg, berth_error_t *err)
{
        struct vmm_vm *vm = berth_xcalloc(1, sizeof(*vm));
        clock_gettime(CLOCK_MONOTONIC, &vm->t_start);
        /* The API may change the configuration before the VM starts: it
         * works on a copy, rebuilt from base_cfg and its own document. */
        vm->base_cfg = cfg;
        vm->api_cfg = *cfg;
        vm->api_cfg.json = NULL;
        vm->cfg = &vm->api_cfg;
        vm->kvm_fd = vm->vm_fd = vm->epoll_fd = vm->stop_fd = -1;
        vmm_worker_init(&vm->mig_sender, "migrate", VMM_THREAD_MIGRATE);
        vmm_worker_init(&vm->mig_throttle, "mig-throttle", VMM_THREAD_MIGRATE);
        vm->pio.unclaimed_fill = 0xff;
        pthread_mutex_init(&vm->pause_lock, NULL);
        pthread_cond_init(&vm->pause_cond, NULL);
        pthread_cond_init(&vm->out_cond, NULL);
        vm->mmio.unclaimed_fill = 0x00;
        int ret = loop_setup(vm, err);
        /* Without a kernel (or a snapshot to restore), the API's InstanceStart calls
         * vmm_vm_boot. */
        if (ret == 0 && cfg->migrate_incoming)
                ret = vmm_migrate_incoming(vm, cfg->migrate_incoming, err);
        else if (ret == 0 && !cfg->kernel && cfg->restore)
                ret = vmm_snapshot_open(vm, cfg->restore, cfg->restore_mem, cfg->restore_diffs,
                                        cfg->n_restore_diffs, err);
        if (ret == 0 && !cfg->migrate_incoming && (cfg->kernel || cfg->restore))
                ret = vmm_vm_boot(vm, err);
        if (ret == 0) {
                if (!cfg->kernel && !cfg->restore && !cfg->migrate_incoming)
                        log_info("waiting for InstanceStart on `%s`", cfg->api_sock);
                main_loop(vm);
                ret = atomic_load(&vm->exit_status);
        }
        vm_destroy(vm);
        vmm_config_release(&vm->api_cfg);
        free(vm);
        return ret;
}
