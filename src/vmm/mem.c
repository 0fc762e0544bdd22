/* mem.c — guest RAM allocation and layout around the MMIO hole. */
#include "vmm/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <stdlib.h>
#include <linux/mman.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

void vmm_mem_layout(struct vmm_mem *m, uint64_t ram_size)
{
        uint8_t *base = m->map;
        m->ram_size = ram_size;
        m->regions[0].gpa = 0;
        m->regions[0].hva = base;
        if (ram_size <= VMM_MMIO_HOLE_START) {
                m->regions[0].size = ram_size;
                m->n = 1;
                return;
        }
        m->regions[0].size = VMM_MMIO_HOLE_START;
        m->regions[1].gpa = VMM_MMIO_HOLE_END;
        m->regions[1].size = ram_size - VMM_MMIO_HOLE_START;
        m->regions[1].hva = base ? base + VMM_MMIO_HOLE_START : NULL;
        m->n = 2;
}

int vmm_mem_alloc(struct vmm_mem *m, uint64_t ram_size, berth_error_t *err)
{
        memset(m, 0, sizeof(*m));
        /* MAP_NORESERVE: pages the guest never touches cost nothing, which is
         * what keeps a microVM's footprint small. */
        int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
        // cppcheck-suppress invalidFunctionArg ; fd -1 is what MAP_ANONYMOUS wants
        void *p = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, flags, -1, 0);
        if (p == MAP_FAILED)
                return berth_fail(err, errno, "map %llu MiB of guest memory",
                                  (unsigned long long) (ram_size >> 20));
        /* Never dump guest memory into a core file of the VMM. */
        (void) madvise(p, ram_size, MADV_DONTDUMP);
        m->map = p;
        m->map_size = ram_size;
        m->anon = true;
        vmm_mem_layout(m, ram_size);
        return 0;
}

int vmm_mem_alloc_huge(struct vmm_mem *m, uint64_t ram_size, berth_error_t *err)
{
        memset(m, 0, sizeof(*m));
        const uint64_t huge = 2ull << 20;
        if (ram_size % huge)
                return berth_fail(err, EINVAL,
                                  "%llu MiB of guest memory in 2 MiB pages: want an even number "
                                  "of MiB",
                                  (unsigned long long) (ram_size >> 20));
        /* No MAP_NORESERVE: the pages are reserved from the host's pool now. */
        int flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB;
        // cppcheck-suppress invalidFunctionArg ; fd -1 is what MAP_ANONYMOUS wants
        void *p = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, flags, -1, 0);
        if (p == MAP_FAILED)
                return berth_fail(err, errno,
                                  "map %llu MiB of guest memory in 2 MiB huge pages (the host "
                                  "has %s free: /proc/sys/vm/nr_hugepages sets the pool)",
                                  (unsigned long long) (ram_size >> 20),
                                  errno == ENOMEM ? "too few" : "none usable");
        (void) madvise(p, ram_size, MADV_DONTDUMP);
        m->map = p;
        m->map_size = ram_size;
        m->anon = true;
        vmm_mem_layout(m, ram_size);
        return 0;
}

int vmm_mem_populated(const struct vmm_mem *m, uint64_t *bitmap)
{
        if (!m->map || !m->anon)
                return -1;
        /* Not under --jail (no /proc there): migration is refused there. */
        int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -1;
        size_t pages = m->map_size / 4096;
        off_t base = (off_t) ((uintptr_t) m->map / 4096) * 8;
        uint64_t ent[512]; /* a page of entries a read */
        for (size_t p = 0; p < pages;) {
                size_t n = pages - p < 512 ? pages - p : 512;
                ssize_t got = pread(fd, ent, n * sizeof(ent[0]), base + (off_t) (p * 8));
                if (got != (ssize_t) (n * sizeof(ent[0]))) {
                        close(fd);
                        return -1;
                }
                for (size_t i = 0; i < n; i++)
                        if (ent[i] >> 62) /* bit 63: present, bit 62: swapped */
                                bitmap[(p + i) / 64] |= 1ull << ((p + i) % 64);
                p += n;
        }
        close(fd);
        return 0;
}

void vmm_mem_free(struct vmm_mem *m)
{
        if (m->map)
                munmap(m->map, m->map_size);
        memset(m, 0, sizeof(*m));
}

uint64_t vmm_mem_low_end(const struct vmm_mem *m)
{
        return m->regions[0].gpa + m->regions[0].size;
}

uint64_t vmm_mem_resident(const struct vmm_mem *m)
{
        size_t page = (size_t) sysconf(_SC_PAGESIZE);
        size_t pages = (m->map_size + page - 1) / page;
        unsigned char *vec = malloc(pages);
        if (!m->map || !vec || mincore(m->map, m->map_size, vec) < 0) {
                free(vec);
                return 0;
        }
        uint64_t n = 0;
        for (size_t i = 0; i < pages; i++)
                n += vec[i] & 1;
        free(vec);
        return n * page;
}

void vmm_mem_mark_dirty(const struct vmm_mem *m, uint64_t *bitmap, uint64_t off, uint64_t len)
{
        if (off >= m->map_size)
                return;
        uint64_t first = off / 4096, last = (off + len - 1) / 4096;
        for (uint64_t p = first; p <= last && p * 4096 < m->map_size; p++)
                __atomic_fetch_or(&bitmap[p / 64], 1ull << (p % 64), __ATOMIC_RELAXED);
}

int vmm_mem_bind(const struct vmm_mem *m, uint64_t nodes, int mode, berth_error_t *err)
{
        if (!mode || !m->map)
                return 0;
        /* Before the guest touches a page: each is then allocated under the
         * policy.  maxnode counts one more bit than the mask holds (mbind's
         * historical off-by-one). */
        unsigned long mask = (unsigned long) nodes;
        if (syscall(SYS_mbind, m->map, m->map_size, mode, &mask, 8 * sizeof(mask) + 1, 0) < 0)
                return berth_fail(err, errno,
                                  "bind guest memory to NUMA nodes 0x%llx (are they this host's?)",
                                  (unsigned long long) nodes);
        return 0;
}
