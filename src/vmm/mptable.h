/* mptable.h — Intel MP Specification tables for kernels without ACPI. */
#ifndef BERTH_VMM_MPTABLE_H
#define BERTH_VMM_MPTABLE_H

#include <stdint.h>

#include "common/error.h"
#include "vmm/mem.h"

#define VMM_MPTABLE_MAX_CPUS 32

/* Write the floating pointer and configuration table at the EBDA (0x9fc00,
 * reserved in the e820 map); *addr gets the floating pointer's address. */
int vmm_mptable_build(struct vmm_mem *m, unsigned cpus, uint64_t *addr, berth_error_t *err);

#endif
