/* bus.h — dispatch of port I/O and MMIO exits to emulated devices.
 *
 * A device registers a window and one access function; the vCPU thread
 * calls vmm_bus_access() on each exit.  Accesses nobody claims read as all
 * ones (port I/O, like an empty ISA bus) or zeros (MMIO) and writes are
 * dropped, so a guest probing for hardware that isn't there never stops
 * the VM.
 */
#ifndef BERTH_VMM_BUS_H
#define BERTH_VMM_BUS_H

#include <stdbool.h>
#include <stdint.h>

#define VMM_BUS_MAX 32

/* off is relative to the window's base; len is 1, 2, 4 or 8. */
typedef void (*vmm_bus_fn)(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool write);

struct vmm_bus_window {
        uint64_t base, len;
        vmm_bus_fn fn;
        void *opaque;
};

struct vmm_bus {
        struct vmm_bus_window w[VMM_BUS_MAX];
        unsigned n;
        uint8_t unclaimed_fill; /* byte value read from unclaimed addresses */
        uint64_t unclaimed;     /* count, for metrics and debugging */
};

int vmm_bus_add(struct vmm_bus *bus, uint64_t base, uint64_t len, vmm_bus_fn fn, void *opaque);

/* Returns true if a device claimed the access. */
bool vmm_bus_access(struct vmm_bus *bus, uint64_t addr, uint8_t *data, unsigned len, bool write);

#endif
