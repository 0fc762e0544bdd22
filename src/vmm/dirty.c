/* dirty.c — dirty page tracking for migration and diff snapshots: every
 * memory slot is re-registered with KVM_MEM_LOG_DIRTY_PAGES,
 * KVM_GET_DIRTY_LOG reads and clears each slot's log per round, and the
 * pages the VMM's own devices wrote (vmm_mem_ptr, mem.h) come from a bitmap
 * of ours.  KVM keeps one log per slot, so the snapshot tracker and a
 * migration share it: the migration's reads are added to the tracker's. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "common/log.h"
#include "common/util.h"
#include "vmm/migrate.h"

#define PAGE 4096u

static int set_logging(struct vmm_vm *vm, bool on, berth_error_t *err)
{
        for (unsigned i = 0; i < vm->mem.n; i++) {
                struct kvm_userspace_memory_region r = {
                        .slot = i,
                        .flags = on ? KVM_MEM_LOG_DIRTY_PAGES : 0,
                        .guest_phys_addr = vm->mem.regions[i].gpa,
                        .memory_size = vm->mem.regions[i].size,
                        .userspace_addr = (uintptr_t) vm->mem.regions[i].hva,
                };
                if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
                        return berth_fail(err, errno, "%s dirty logging on memory slot %u",
                                          on ? "start" : "stop", i);
        }
        return 0;
}

int vmm_dirty_start(struct vmm_vm *vm, struct vmm_dirty *d, berth_error_t *err)
{
        memset(d, 0, sizeof(*d));
        d->pages = vm->mem.map_size / PAGE;
        d->words = (d->pages + 63) / 64;
        d->kvm = berth_xcalloc(d->words + 1, sizeof(uint64_t));
        d->touched = berth_xcalloc(d->words + 1, sizeof(uint64_t));
        if (vm->track) { /* logging already, into the tracker's user map */
                d->user = vm->track->user;
                d->shared = d->logging = true;
                vm->track->sharers++;
                return 0;
        }
        d->user = berth_xcalloc(d->words + 1, sizeof(uint64_t));
        if (set_logging(vm, true, err) < 0) {
                (void) set_logging(vm, false, NULL);
                free(d->kvm);
                free(d->user);
                free(d->touched);
                memset(d, 0, sizeof(*d));
                return -1;
        }
        d->logging = true;
        __atomic_store_n(&vm->mem.dirty, d->user, __ATOMIC_RELEASE);
        return 0;
}

/* A slot's log (n pages) into the whole map's bitmap, the slot starting at page first. */
static void or_slot(uint64_t *out, const uint64_t *log, size_t first, size_t n)
{
        if (first % 64 == 0) /* always so: slots start on 256 KiB boundaries */
                for (size_t w = 0; w < (n + 63) / 64; w++)
                        out[first / 64 + w] |= log[w];
        else
                for (size_t p = 0; p < n; p++)
                        if (log[p / 64] >> (p % 64) & 1)
                                out[(first + p) / 64] |= 1ull << ((first + p) % 64);
}

int vmm_dirty_collect(struct vmm_vm *vm, struct vmm_dirty *d, uint64_t *out, bool final,
                      berth_error_t *err)
{
        /* what a migration reads is gone from KVM's log: the tracker keeps it too */
        uint64_t *also = vm->track && vm->track != d ? vm->track->acc : NULL;
        for (unsigned i = 0; i < vm->mem.n; i++) {
                const struct vmm_mem_region *r = &vm->mem.regions[i];
                size_t first = (size_t) (r->hva - (uint8_t *) vm->mem.map) / PAGE;
                size_t n = r->size / PAGE, words = (n + 63) / 64;
                memset(d->kvm, 0, words * sizeof(uint64_t));
                struct kvm_dirty_log log = {.slot = i, .dirty_bitmap = d->kvm};
                if (ioctl(vm->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0)
                        return berth_fail(err, errno, "KVM_GET_DIRTY_LOG on memory slot %u", i);
                or_slot(out, d->kvm, first, n);
                if (also)
                        or_slot(also, d->kvm, first, n);
        }
        for (size_t w = 0; w < d->words; w++) {
                if (__atomic_load_n(&d->user[w], __ATOMIC_RELAXED)) {
                        uint64_t bits = __atomic_exchange_n(&d->user[w], 0, __ATOMIC_RELAXED);
                        out[w] |= bits;
                        d->touched[w] |= bits;
                        if (also)
                                also[w] |= bits;
                }
                if (final)
                        out[w] |= d->touched[w];
        }
        return 0;
}

void vmm_dirty_stop(struct vmm_vm *vm, struct vmm_dirty *d)
{
        if (!d->logging)
                return;
        if (d->shared) { /* the tracker's log runs on; its user map is its own */
                vm->track->sharers--;
                free(d->kvm);
                d->kvm = NULL;
                free(d->touched);
                d->touched = NULL;
                d->user = NULL;
                d->logging = d->shared = false;
                return;
        }
        __atomic_store_n(&vm->mem.dirty, NULL, __ATOMIC_RELEASE);
        berth_error_t err = NULL;
        if (set_logging(vm, false, &err) < 0) {
                log_warn("migration: %s", berth_error_msg(err));
                berth_error_release(&err);
        }
        /* a device may still hold the bitmap's pointer for one more mark: the
         * user map is freed with the VM's migration, not here */
        free(d->kvm);
        d->kvm = NULL;
        free(d->touched);
        d->touched = NULL;
        d->logging = false;
}

int vmm_track_start(struct vmm_vm *vm, berth_error_t *err)
{
        struct vmm_dirty *t = berth_xcalloc(1, sizeof(*t));
        if (vmm_dirty_start(vm, t, err) < 0) {
                free(t);
                return berth_wrap(err, "track dirty pages");
        }
        t->acc = berth_xcalloc(t->words + 1, sizeof(uint64_t));
        vm->track = t;
        return 0;
}

int vmm_track_take(struct vmm_vm *vm, uint64_t *out, berth_error_t *err)
{
        struct vmm_dirty *t = vm->track;
        /* a migration reading the log now would lose what this takes */
        if (t->sharers)
                return berth_fail(err, EBUSY, "a migration is using the dirty log");
        if (vmm_dirty_collect(vm, t, t->acc, false, err) < 0)
                return -1;
        memcpy(out, t->acc, t->words * sizeof(uint64_t));
        memset(t->acc, 0, t->words * sizeof(uint64_t));
        /* touched serves a migration's switch-over only */
        memset(t->touched, 0, t->words * sizeof(uint64_t));
        return 0;
}

void vmm_track_return(struct vmm_vm *vm, const uint64_t *bits)
{
        struct vmm_dirty *t = vm->track;
        for (size_t w = 0; w < t->words; w++)
                t->acc[w] |= bits[w];
}

void vmm_track_free(struct vmm_vm *vm)
{
        struct vmm_dirty *t = vm->track;
        if (!t)
                return;
        /* at the VM's end, its devices gone: nobody marks the map, and the
         * slots go with the VM (no KVM call to turn the log off) */
        __atomic_store_n(&vm->mem.dirty, NULL, __ATOMIC_RELEASE);
        free(t->kvm);
        free(t->touched);
        free(t->user);
        free(t->acc);
        free(t);
        vm->track = NULL;
}
