/* seccomp.c — the jailed VMM's allow-lists, one per thread type, as
 * Firecracker keeps one per thread (docs/vmm.md, "The jail" has the lists
 * and why each call is there).  Anything else kills the whole process
 * (SECCOMP_RET_KILL_PROCESS): a VMM thread making a call it never makes is
 * a thread no longer running berth's code.
 *
 * Each thread installs its own list before it handles guest input; lists
 * are built with libseccomp, which emits the architecture check and the
 * x32 guard.  Arguments are checked where a call is dangerous in general
 * but needed in one form: ioctl only with the request numbers the VMM
 * issues, mmap/mprotect never executable, socket only AF_UNIX. */
#include <errno.h>
#include <linux/kvm.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <seccomp.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/ioctl.h>
#include <linux/userfaultfd.h>

#include "common/util.h"
#include "vmm/jail.h"

/* Every thread: memory, locks, time, signals of its own, its exit. */
static const int base_calls[] = {
        SCMP_SYS(read),
        SCMP_SYS(write),
        SCMP_SYS(readv),
        SCMP_SYS(writev),
        SCMP_SYS(close),
        SCMP_SYS(futex),
        SCMP_SYS(munmap),
        SCMP_SYS(madvise),
        SCMP_SYS(brk),
        SCMP_SYS(mremap),
        SCMP_SYS(rt_sigprocmask),
        SCMP_SYS(rt_sigreturn),
        SCMP_SYS(clock_gettime),
        SCMP_SYS(clock_nanosleep),
        SCMP_SYS(nanosleep),
        SCMP_SYS(gettid),
        SCMP_SYS(getpid),
        SCMP_SYS(sched_yield),
        SCMP_SYS(restart_syscall),
        SCMP_SYS(exit),
        SCMP_SYS(exit_group),
        SCMP_SYS(fstat),
        SCMP_SYS(newfstatat),
        SCMP_SYS(getrandom),
        SCMP_SYS(tgkill),
        SCMP_SYS(rseq),
};

/* The disk path: a disk's worker, and the main thread that serves a disk
 * without one. */
static const int disk_calls[] = {
        SCMP_SYS(pread64),
        SCMP_SYS(pwrite64),
        SCMP_SYS(preadv),
        SCMP_SYS(pwritev),
        SCMP_SYS(preadv2),
        SCMP_SYS(pwritev2),
        SCMP_SYS(fsync),
        SCMP_SYS(fdatasync),
        SCMP_SYS(fallocate),
        SCMP_SYS(ftruncate),
        SCMP_SYS(lseek),
        SCMP_SYS(io_uring_enter),
        /* a throttled disk (bw=, iops=) re-arms its retry timer from the worker */
        SCMP_SYS(timerfd_settime),
        SCMP_SYS(timerfd_gettime),
};

/* The worker completes requests: the used-buffer interrupt through an
 * irqfd (write), or KVM_IRQ_LINE where KVM has no irqfds. */
static const unsigned long blk_ioctls[] = {KVM_IRQ_LINE};

/* Device emulation, on whichever thread the guest's access lands: the
 * vCPU thread (register writes, queue notifications without ioeventfd) or
 * the main loop (ioeventfds, taps, sockets, timers). */
static const int device_calls[] = {
        SCMP_SYS(epoll_ctl),       SCMP_SYS(timerfd_create), SCMP_SYS(timerfd_settime),
        SCMP_SYS(timerfd_gettime), SCMP_SYS(eventfd2),       SCMP_SYS(recvfrom),
        SCMP_SYS(recvmsg),         SCMP_SYS(sendto),         SCMP_SYS(sendmsg),
        SCMP_SYS(shutdown),        SCMP_SYS(connect),        SCMP_SYS(fcntl),
        SCMP_SYS(getsockopt),      SCMP_SYS(setsockopt),     SCMP_SYS(getsockname),
        SCMP_SYS(getpeername),     SCMP_SYS(mincore),        SCMP_SYS(poll),
        SCMP_SYS(ppoll),
};

/* An incoming post-copy (postcopy.c): faults read from the userfaultfd
 * become requests on the stream, arriving pages are put in place; both
 * threads wait in poll on the stream, the userfaultfd and a stop eventfd. */
static const int postcopy_calls[] = {SCMP_SYS(poll), SCMP_SYS(ppoll), SCMP_SYS(recvfrom),
                                     SCMP_SYS(sendto)};
static const unsigned long postcopy_ioctls[] = {UFFDIO_COPY, UFFDIO_ZEROPAGE, UFFDIO_WAKE,
                                                UFFDIO_UNREGISTER};

/* The main loop alone: waiting, the API's and console's listeners, the
 * leftover sockets unlinked at exit, joining the other threads. */
static const int main_calls[] = {
        SCMP_SYS(epoll_wait), SCMP_SYS(epoll_pwait),     SCMP_SYS(accept4),     SCMP_SYS(accept),
        SCMP_SYS(unlink),     SCMP_SYS(set_robust_list), SCMP_SYS(sigaltstack),
};

/* The ioctls the VMM makes once the VM runs: vCPUs enter the guest and
 * dump state on a crash; devices raise interrupts and wire eventfds when
 * the guest sets a queue ready; tty queries from stdio. */
static const unsigned long vcpu_ioctls[] = {KVM_RUN, KVM_GET_REGS, KVM_GET_SREGS};
static const unsigned long device_ioctls[] = {KVM_IRQ_LINE,    KVM_IRQFD, KVM_IOEVENTFD, TCGETS,
                                              TUNSETVNETHDRSZ, FIONBIO,   FIONREAD};

/* A snapshot on the main thread (PUT /snapshot/create), only where the
 * jail has a writable directory for it (--jail-rw): the state is read
 * from KVM, and the state and memory files are created there (a temporary
 * file renamed into place).  The jail's root is what openat can reach. */
static const int snapshot_calls[] = {
        SCMP_SYS(openat),
        SCMP_SYS(fchmod),
        SCMP_SYS(rename),
        SCMP_SYS(renameat),
        SCMP_SYS(renameat2),
        SCMP_SYS(unlinkat),
        /* a drive switched to a new overlay there (PATCH /drives): its chain is opened as
         * at the start, the backing policy resolving names (realpath), each layer below the
         * top checked not to be on a pseudo-fs */
        SCMP_SYS(fstatfs),
        SCMP_SYS(readlink),
};
static const unsigned long snapshot_ioctls[] = {
        KVM_GET_MP_STATE,    KVM_GET_REGS,    KVM_GET_SREGS,          KVM_GET_XSAVE,
        KVM_GET_FPU,         KVM_GET_XCRS,    KVM_GET_DEBUGREGS,      KVM_GET_LAPIC,
        KVM_GET_VCPU_EVENTS, KVM_GET_TSC_KHZ, KVM_GET_MSR_INDEX_LIST, KVM_GET_MSRS,
        KVM_GET_CPUID2,      KVM_GET_IRQCHIP, KVM_GET_PIT2,           KVM_GET_CLOCK,
};

/* --jail-migrate.  The main thread reads the VM's state at the switch-over
 * (snapshot_ioctls) and the last round's dirty pages; the migration's own
 * threads (VMM_THREAD_MIGRATE: the sender and auto-converge's throttle, made
 * with the VM, worker.h) turn KVM's dirty log on and off and read it, read
 * guest RAM and the disks, and write the stream to a socket handed in by the
 * caller (migrate_hand.c): no list opens a network socket or makes a thread
 * once the VM runs. */
static const unsigned long main_migrate_ioctls[] = {KVM_GET_DIRTY_LOG};
static const unsigned long migrate_ioctls[] = {KVM_SET_USER_MEMORY_REGION, KVM_GET_DIRTY_LOG};

static int allow(scmp_filter_ctx ctx, const int *calls, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int allow_ioctls(scmp_filter_ctx ctx, const unsigned long *reqs, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                /* The request is an int to the kernel: compare its low 32 bits. */
                int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
                                         SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, reqs[i]));
                if (r < 0)
                        return r;
        }
        return 0;
}

/* mmap and mprotect, never PROT_EXEC: no new code in a jailed VMM. */
static int allow_memory(scmp_filter_ctx ctx)
{
        int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1,
                                 SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1,
                                     SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
        return r;
}

/* glibc makes every thread repeat setgroups/setresgid/setresuid (its
 * setxid broadcast), so a thread that installed its list before the main
 * thread changed ids must be able to make exactly those calls. */
static int allow_setxid(scmp_filter_ctx ctx, uid_t uid, gid_t gid)
{
        int r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setgroups), 1,
                                 SCMP_A0(SCMP_CMP_EQ, 0));
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setresgid), 3,
                                     SCMP_A0(SCMP_CMP_EQ, gid), SCMP_A1(SCMP_CMP_EQ, gid),
                                     SCMP_A2(SCMP_CMP_EQ, gid));
        if (r == 0)
                r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(setresuid), 3,
                                     SCMP_A0(SCMP_CMP_EQ, uid), SCMP_A1(SCMP_CMP_EQ, uid),
                                     SCMP_A2(SCMP_CMP_EQ, uid));
        return r;
}

static int build(scmp_filter_ctx ctx, enum vmm_thread_kind kind, const struct vmm_jail_ids *ids)
{
        int r = allow(ctx, base_calls, BERTH_ARRAY_SIZE(base_calls));
        if (r == 0 && ids->change)
                r = allow_setxid(ctx, ids->uid, ids->gid);
        if (r == 0)
                r = allow_memory(ctx);
        switch (kind) {
        case VMM_THREAD_BLK:
                if (r == 0)
                        r = allow(ctx, disk_calls, BERTH_ARRAY_SIZE(disk_calls));
                if (r == 0)
                        r = allow_ioctls(ctx, blk_ioctls, BERTH_ARRAY_SIZE(blk_ioctls));
                break;
        case VMM_THREAD_MIGRATE:
                if (r == 0)
                        r = allow(ctx, disk_calls, BERTH_ARRAY_SIZE(disk_calls));
                if (r == 0)
                        r = allow(ctx, device_calls, BERTH_ARRAY_SIZE(device_calls));
                if (r == 0)
                        r = allow_ioctls(ctx, migrate_ioctls, BERTH_ARRAY_SIZE(migrate_ioctls));
                /* /proc/self/pagemap (which pages to skip) is not in the jail: refused,
                 * round 1 reads all of RAM instead */
                if (r == 0)
                        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOENT), SCMP_SYS(openat), 0);
                break;
        case VMM_THREAD_POSTCOPY:
                if (r == 0)
                        r = allow(ctx, postcopy_calls, BERTH_ARRAY_SIZE(postcopy_calls));
                if (r == 0)
                        r = allow_ioctls(ctx, postcopy_ioctls, BERTH_ARRAY_SIZE(postcopy_ioctls));
                break;
        case VMM_THREAD_VCPU:
        case VMM_THREAD_MAIN:
                if (r == 0)
                        r = allow(ctx, disk_calls, BERTH_ARRAY_SIZE(disk_calls));
                if (r == 0)
                        r = allow(ctx, device_calls, BERTH_ARRAY_SIZE(device_calls));
                if (r == 0)
                        r = allow_ioctls(ctx, device_ioctls, BERTH_ARRAY_SIZE(device_ioctls));
                /* vsock's host side: a guest's connection to a host port */
                if (r == 0)
                        r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                                             SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
                if (r == 0 && kind == VMM_THREAD_VCPU)
                        r = allow_ioctls(ctx, vcpu_ioctls, BERTH_ARRAY_SIZE(vcpu_ioctls));
                if (r == 0 && kind == VMM_THREAD_MAIN)
                        r = allow(ctx, main_calls, BERTH_ARRAY_SIZE(main_calls));
                /* Refused, not fatal: glibc's localtime() (libmicrohttpd's
                 * Date header) looks for /etc/localtime on every call; the
                 * jail has none, and nothing is opened after the start. */
                if (r == 0 && kind == VMM_THREAD_MAIN && !ids->snapshots)
                        r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOENT), SCMP_SYS(openat), 0);
                if (r == 0 && kind == VMM_THREAD_MAIN && ids->snapshots)
                        r = allow(ctx, snapshot_calls, BERTH_ARRAY_SIZE(snapshot_calls));
                if (r == 0 && kind == VMM_THREAD_MAIN && (ids->snapshots || ids->migrate))
                        r = allow_ioctls(ctx, snapshot_ioctls, BERTH_ARRAY_SIZE(snapshot_ioctls));
                /* a migration's last round; a Diff snapshot's pages */
                if (r == 0 && kind == VMM_THREAD_MAIN && (ids->snapshots || ids->migrate))
                        r = allow_ioctls(ctx, main_migrate_ioctls,
                                         BERTH_ARRAY_SIZE(main_migrate_ioctls));
                break;
        case VMM_THREAD_KINDS:
                break;
        }
        return r;
}

int vmm_seccomp_install(enum vmm_thread_kind kind, const struct vmm_jail_ids *ids,
                        berth_error_t *err)
{
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
        if (!ctx)
                return berth_fail(err, ENOMEM, "seccomp_init");
        int r = build(ctx, kind, ids);
        if (r == 0)
                r = seccomp_load(ctx);
        seccomp_release(ctx);
        if (r < 0)
                return berth_fail(err, -r, "install the %s thread's seccomp filter",
                                  vmm_thread_kind_name(kind));
        return 0;
}

static const char *const kind_names[VMM_THREAD_KINDS] = {"main", "vcpu", "blk", "postcopy",
                                                         "migrate"};

int vmm_thread_kind_parse(const char *s)
{
        for (int i = 0; i < VMM_THREAD_KINDS; i++)
                if (strcmp(s, kind_names[i]) == 0)
                        return i;
        return -1;
}

const char *vmm_thread_kind_name(enum vmm_thread_kind k)
{
        return k < VMM_THREAD_KINDS ? kind_names[k] : "?";
}
