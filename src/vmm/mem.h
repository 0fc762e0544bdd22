/* mem.h — guest physical memory: the regions KVM maps and bounds-checked
 * access to them.
 *
 * Every guest-physical address the VMM dereferences goes through
 * vmm_mem_ptr(), which returns NULL unless the whole range [gpa, gpa+len)
 * lies inside one RAM region.  Devices must never compute host pointers by
 * other means: this is the one place where a hostile guest address is
 * turned into host memory.
 */
#ifndef BERTH_VMM_MEM_H
#define BERTH_VMM_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

#define VMM_MEM_MAX_REGIONS 2

/* Guest-physical layout.  RAM runs from 0 up to the MMIO hole; RAM beyond
 * the hole's start is placed above 4 GiB.  Devices live in the hole. */
#define VMM_MMIO_HOLE_START  0xc0000000ull
#define VMM_MMIO_HOLE_END    0x100000000ull
#define VMM_VIRTIO_MMIO_BASE 0xd0000000ull
#define VMM_VIRTIO_MMIO_SIZE 0x1000ull
#define VMM_IOAPIC_BASE      0xfec00000ull
#define VMM_LAPIC_BASE       0xfee00000ull

struct vmm_mem_region {
        uint64_t gpa;
        uint64_t size;
        uint8_t *hva;
};

struct vmm_mem {
        struct vmm_mem_region regions[VMM_MEM_MAX_REGIONS];
        unsigned n;
        uint64_t ram_size; /* total bytes of RAM */
        void *map;         /* the one host mapping backing every region */
        size_t map_size;
        bool anon; /* map is private anonymous memory: a page never written reads as zeros */
        /* While a migration runs (dirty.c): a bit per page of map that the
         * VMM itself wrote, which KVM's dirty log does not see.  Set and
         * cleared atomically; NULL otherwise. */
        uint64_t *dirty;
};

/* Set in bitmap (a bit per 4 KiB page of map) the pages that hold data:
 * present or swapped out.  A page of an anonymous map that is neither was
 * never written, or was dropped by the balloon, and reads as zeros.  -1
 * where that cannot be known (a snapshot file's map, no /proc/self/pagemap):
 * then any page may hold data. */
int vmm_mem_populated(const struct vmm_mem *m, uint64_t *bitmap);

/* Mark [off, off+len) of the map dirty (vmm_mem_ptr's slow path). */
void vmm_mem_mark_dirty(const struct vmm_mem *m, uint64_t *bitmap, uint64_t off, uint64_t len);

/* Lay out ram_size bytes of guest RAM (no mapping): fills regions. */
void vmm_mem_layout(struct vmm_mem *m, uint64_t ram_size);

/* Lay out and mmap the guest RAM (anonymous, MAP_NORESERVE). */
int vmm_mem_alloc(struct vmm_mem *m, uint64_t ram_size, berth_error_t *err);
/* The same in 2 MiB huge pages (ram_size a multiple of 2 MiB), reserved now: a host
 * whose pool is short refuses here, not with a SIGBUS when the guest touches RAM. */
int vmm_mem_alloc_huge(struct vmm_mem *m, uint64_t ram_size, berth_error_t *err);
/* --numa: guest RAM's policy (mbind), nodes a mask, mode an MPOL_* (0: none). */
int vmm_mem_bind(const struct vmm_mem *m, uint64_t nodes, int mode, berth_error_t *err);
void vmm_mem_free(struct vmm_mem *m);

/* Host pointer for [gpa, gpa+len) if it lies entirely inside RAM, else NULL.
 * len == 0 is treated as 1 (the address itself must be valid). */
static inline void *vmm_mem_ptr(const struct vmm_mem *m, uint64_t gpa, uint64_t len)
{
        if (len == 0)
                len = 1;
        for (unsigned i = 0; i < m->n; i++) {
                const struct vmm_mem_region *r = &m->regions[i];
                if (gpa >= r->gpa && gpa - r->gpa < r->size && len <= r->size - (gpa - r->gpa)) {
                        /* A device may write what it gets: counted as dirty while migrating. */
                        uint64_t *dirty = __atomic_load_n(&m->dirty, __ATOMIC_ACQUIRE);
                        if (__builtin_expect(dirty != NULL, 0))
                                vmm_mem_mark_dirty(m, dirty,
                                                   (uint64_t) (r->hva - (uint8_t *) m->map) +
                                                           (gpa - r->gpa),
                                                   len);
                        return r->hva + (gpa - r->gpa);
                }
        }
        return NULL;
}

/* Bytes of guest RAM resident in host memory (pages the guest touched). */
uint64_t vmm_mem_resident(const struct vmm_mem *m);

/* Highest guest-physical address of RAM below 4 GiB, plus one. */
uint64_t vmm_mem_low_end(const struct vmm_mem *m);

#endif
