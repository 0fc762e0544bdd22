/* migrate_recv.c — the destination of a live migration (berth-vmm
 * --migrate-incoming ADDR): listen, take one source, check its header
 * (version, RAM size, CPUID against this host's KVM), receive guest RAM
 * straight into freshly mapped memory, then build the VM from the state
 * bytes through the snapshot restore path, ack, and resume.  The API and
 * signals are served while it waits.  Nothing the stream says is trusted
 * (migrate_stream.c checks every record); a refusal is sent back to the
 * source, which then resumes the guest itself. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "vmm/migrate.h"
#include "vmm/migrate_stream.h"
#include "vmm/postcopy.h"
#include "vmm/snapshot.h"

static double now_ms(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double) t.tv_sec * 1e3 + (double) t.tv_nsec / 1e6;
}

static int idle(void *opaque)
{
        return vmm_vm_dispatch(opaque);
}

static uint64_t host_memory(void)
{
        long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
        return pages > 0 && size > 0 ? (uint64_t) pages * (uint64_t) size : UINT64_MAX;
}

static uint8_t *alloc_ram(void *opaque, uint64_t ram_size, berth_error_t *err)
{
        struct vmm_vm *vm = opaque;
        if (ram_size > host_memory()) {
                berth_fail(err, ENOMEM, "the VM has %llu MiB of RAM, this host %llu MiB",
                           (unsigned long long) (ram_size >> 20),
                           (unsigned long long) (host_memory() >> 20));
                return NULL;
        }
        if (vmm_mem_alloc(&vm->mem, ram_size, err) < 0)
                return NULL;
        return vm->mem.map;
}

/* The source's CPUID against what this host's KVM supports. */
static int check_cpuid(void *opaque, const struct vmm_mig_header *hdr, berth_error_t *err)
{
        (void) opaque;
        cleanup_close int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
        if (kvm < 0)
                return berth_fail(err, errno, "open /dev/kvm");
        unsigned n = 256;
        struct kvm_cpuid2 *c = NULL;
        for (;; n *= 2) {
                c = berth_xcalloc(1, sizeof(*c) + n * sizeof(struct kvm_cpuid_entry2));
                c->nent = n;
                if (ioctl(kvm, KVM_GET_SUPPORTED_CPUID, c) == 0)
                        break;
                int e = errno;
                free(c);
                if (e != E2BIG || n >= 4096)
                        return berth_fail(err, e, "KVM_GET_SUPPORTED_CPUID");
        }
        struct vmm_mig_cpuid *mine = berth_xcalloc(c->nent + 1, sizeof(*mine));
        for (unsigned i = 0; i < c->nent; i++)
                mine[i] = (struct vmm_mig_cpuid){c->entries[i].function, c->entries[i].index,
                                                 c->entries[i].eax,      c->entries[i].ebx,
                                                 c->entries[i].ecx,      c->entries[i].edx};
        int r = vmm_mig_cpuid_check(hdr->cpuid, hdr->n_cpuid, mine, c->nent, err);
        free(mine);
        free(c);
        return r;
}

/* A pre-copy switching to post-copy: pages sent before and dirtied since go
 * missing again, so that the guest's first touch fetches them anew.  Before
 * the switch, a run of zero pages: dropped, they read as zeros (private
 * anonymous RAM), and pages never written cost nothing. */
static void discard(void *opaque, uint8_t *ram, uint64_t off, uint64_t len)
{
        (void) opaque;
        if (madvise(ram + off, len, MADV_DONTNEED) < 0)
                log_warn("incoming migration: madvise(MADV_DONTNEED): %s", strerror(errno));
}

/* copy_storage: the source's drives into the --migrate-disk targets. */
struct recv_ctx {
        struct vmm_vm *vm;
        struct vmm_mig_targets targets;
};

static uint8_t *ctx_alloc_ram(void *opaque, uint64_t ram_size, berth_error_t *err)
{
        return alloc_ram(((struct recv_ctx *) opaque)->vm, ram_size, err);
}

static int ctx_check_cpuid(void *opaque, const struct vmm_mig_header *hdr, berth_error_t *err)
{
        return check_cpuid(((struct recv_ctx *) opaque)->vm, hdr, err);
}

static int disks(void *opaque, const struct vmm_mig_disk *d, unsigned n, berth_error_t *err)
{
        struct recv_ctx *c = opaque;
        return vmm_mig_disks_open(&c->targets, c->vm->cfg, d, n, err);
}

static int disk_write(void *opaque, uint32_t index, uint64_t off, const uint8_t *data, uint64_t len,
                      berth_error_t *err)
{
        return vmm_mig_disks_write(&((struct recv_ctx *) opaque)->targets, index, off, data, len,
                                   err);
}

static bool has_disk_targets(const struct vmm_config *cfg)
{
        for (unsigned i = 0; i < VMM_MAX_DISKS; i++)
                if (cfg->migrate_disk[i])
                        return true;
        return false;
}

/* The targets received into, flushed and closed; the state's drives (the
 * source's paths) pointed at them. */
static int take_disks(struct vmm_vm *vm, struct recv_ctx *c, const struct vmm_mig_result *res,
                      berth_error_t *err)
{
        unsigned want = 0;
        for (unsigned i = 0; i < VMM_MAX_DISKS; i++)
                want += vm->cfg->migrate_disk[i] != NULL;
        vmm_mig_disks_close(&c->targets);
        if (res->n_disks != want)
                return berth_fail(
                        err, EPROTO,
                        "--migrate-disk names %u target(s), the source copied %u drive(s) "
                        "(copy_storage %s)",
                        want, res->n_disks, res->n_disks ? "on" : "off");
        log_info("incoming migration: %llu MiB of disk data, %llu MiB of zeros",
                 (unsigned long long) (res->disk_bytes >> 20),
                 (unsigned long long) (res->disk_zero_bytes >> 20));
        return 0;
}

/* The drives of the state's configuration (the source's paths) pointed at
 * this host's files: --config's drives (the VM's definition here), by index,
 * then each --migrate-disk target. */
static int repoint_disks(struct vmm_vm *vm, berth_error_t *err)
{
        const struct vmm_config *here = vm->base_cfg;
        if (here->n_disks && here->n_disks != vm->api_cfg.n_disks)
                return berth_fail(err, EINVAL,
                                  "the migrated VM has %u drive(s), --config names %u: another VM",
                                  vm->api_cfg.n_disks, here->n_disks);
        for (unsigned i = 0; i < here->n_disks; i++) {
                if (here->disks[i].readonly != vm->api_cfg.disks[i].readonly)
                        return berth_fail(err, EINVAL,
                                          "the migrated VM's drive %u is %s, --config's `%s` is "
                                          "not",
                                          i,
                                          vm->api_cfg.disks[i].readonly ? "read-only" : "writable",
                                          here->disks[i].path);
                vm->api_cfg.disks[i].path = here->disks[i].path;
        }
        for (unsigned i = 0; i < VMM_MAX_DISKS; i++) {
                const char *t = here->migrate_disk[i];
                if (!t)
                        continue;
                if (i >= vm->api_cfg.n_disks || vm->api_cfg.disks[i].readonly)
                        return berth_fail(err, EPROTO,
                                          "the migrated VM has no writable drive %u for `%s`", i,
                                          t);
                vm->api_cfg.disks[i].path = t;
        }
        return 0;
}

/* One connection, served while the loop's fds (API, signals) are. */
static int accept_one(struct vmm_vm *vm, int lfd, berth_error_t *err)
{
        for (;;) {
                struct pollfd p[2] = {{.fd = lfd, .events = POLLIN},
                                      {.fd = vm->epoll_fd, .events = POLLIN}};
                if (poll(p, 2, -1) < 0 && errno != EINTR)
                        return berth_fail(err, errno, "wait for the migration's source");
                if (p[1].revents && vmm_vm_dispatch(vm))
                        return -2;
                if (!p[0].revents)
                        continue;
                int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd >= 0)
                        return fd;
                if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                        return berth_fail(err, errno, "accept the migration's source");
        }
}

/* Post-copy's end, from its thread: a source gone before all of RAM came
 * leaves a guest that cannot go on. */
static void postcopy_end(void *opaque, bool ok)
{
        struct vmm_vm *vm = opaque;
        if (!ok) {
                log_error("incoming post-copy: the source is gone before all of RAM came: "
                          "stopping");
                vmm_vm_stop(vm, VMM_EXIT_ERROR);
        }
}

void vmm_migrate_incoming_fini(struct vmm_vm *vm)
{
        vmm_postcopy_stop(vm->postcopy);
        vm->postcopy = NULL;
}

int vmm_migrate_incoming(struct vmm_vm *vm, const char *addr, berth_error_t *err)
{
        int lfd = vmm_mig_listen(addr, err);
        if (lfd < 0)
                return -1;
        log_info("waiting for an incoming migration on %s", addr);
        int fd = accept_one(vm, lfd, err);
        close(lfd);
        if (fd == -2)
                return 0; /* stopped while waiting: the loop sees it */
        if (fd < 0)
                return -1;
        double t0 = now_ms();
        struct vmm_mig_io io;
        vmm_mig_io_fd(&io, fd);
        io.wake_fd = vm->epoll_fd;
        io.idle = idle;
        io.opaque = vm;
        struct recv_ctx ctx = {.vm = vm};
        bool copying = has_disk_targets(vm->cfg);
        struct vmm_mig_sink sink = {.alloc_ram = ctx_alloc_ram,
                                    .check_cpuid = ctx_check_cpuid,
                                    .discard = discard,
                                    .disks = copying ? disks : NULL,
                                    .disk_write = disk_write,
                                    .opaque = &ctx};
        struct vmm_mig_result res;
        berth_error_t ack_err = NULL;
        int r = vmm_mig_receive(&io, &sink, &res, err);
        if (r == 0 && copying && take_disks(vm, &ctx, &res, err) < 0) {
                free(res.state);
                r = -1;
        }
        vmm_mig_disks_close(&ctx.targets);
        if (r < 0)
                goto refuse;
        double t_state = now_ms();
        /* post-copy: RAM comes after, on demand; the socket is the post-copy threads' now */
        bool post = res.flags & VMM_MIG_FLAG_POSTCOPY;
        if (post && vmm_postcopy_start(vm->mem.map, vm->mem.map_size, fd, postcopy_end, vm,
                                       &vm->postcopy, err) < 0) {
                free(res.state);
                goto refuse;
        }
        /* the state onto the received RAM: the snapshot's restore leg, paused */
        if (vmm_snapshot_open_state(vm, res.state, res.state_len, err) < 0 ||
            repoint_disks(vm, err) < 0)
                goto refuse;
        atomic_store(&vm->paused, true);
        if (vmm_vm_boot(vm, err) < 0) {
                vmm_vm_stop(vm, VMM_EXIT_ERROR);
                goto refuse;
        }
        vmm_snapshot_close(vm);
        if ((post ? vmm_postcopy_ack(vm->postcopy, 0, NULL, err)
                  : vmm_mig_ack_send(&io, 0, NULL, err)) < 0) {
                /* the source never learns it may go: it keeps the guest */
                vmm_vm_stop(vm, VMM_EXIT_ERROR);
                if (!post)
                        close(fd);
                return berth_wrap(err, "incoming migration");
        }
        vmm_vm_pause(vm, false);
        if (post) {
                log_info("incoming post-copy: state loaded in %.2f ms; running, RAM follows",
                         now_ms() - t_state);
                return 0;
        }
        log_info("incoming migration: %llu bytes, %llu pages (%llu zero), %llu rounds in %.1f ms; "
                 "state loaded in %.2f ms; running",
                 (unsigned long long) io.bytes, (unsigned long long) res.pages,
                 (unsigned long long) res.zero_pages, (unsigned long long) res.rounds,
                 now_ms() - t0, now_ms() - t_state);
        close(fd);
        return 0;
refuse:
        /* tell the source why (it may be gone: that is no news) */
        if ((vm->postcopy ? vmm_postcopy_ack(vm->postcopy,
                                             *err && (*err)->errnum ? (*err)->errnum : EPROTO,
                                             berth_error_msg(*err), &ack_err)
                          : vmm_mig_ack_send(&io, *err && (*err)->errnum ? (*err)->errnum : EPROTO,
                                             berth_error_msg(*err), &ack_err)) < 0)
                berth_error_release(&ack_err);
        if (vm->postcopy) /* closes the socket */
                vmm_migrate_incoming_fini(vm);
        else
                close(fd);
        return berth_wrap(err, "incoming migration from %s", addr);
}
