/* bus.c — port I/O and MMIO dispatch (see bus.h). */
#include "vmm/bus.h"

#include <string.h>

int vmm_bus_add(struct vmm_bus *bus, uint64_t base, uint64_t len, vmm_bus_fn fn, void *opaque)
{
        if (bus->n >= VMM_BUS_MAX || len == 0)
                return -1;
        for (unsigned i = 0; i < bus->n; i++) {
                const struct vmm_bus_window *o = &bus->w[i];
                if (base < o->base + o->len && o->base < base + len)
                        return -1; /* overlap: a wiring bug, refuse it */
        }
        bus->w[bus->n++] = (struct vmm_bus_window){base, len, fn, opaque};
        return 0;
}

bool vmm_bus_access(struct vmm_bus *bus, uint64_t addr, uint8_t *data, unsigned len, bool write)
{
        for (unsigned i = 0; i < bus->n; i++) {
                const struct vmm_bus_window *w = &bus->w[i];
                if (addr >= w->base && addr - w->base < w->len) {
                        if (len > w->len - (addr - w->base))
                                break; /* straddles the window's end */
                        w->fn(w->opaque, addr - w->base, data, len, write);
                        return true;
                }
        }
        __atomic_add_fetch(&bus->unclaimed, 1, __ATOMIC_RELAXED);
        if (!write)
                memset(data, bus->unclaimed_fill, len);
        return false;
}
