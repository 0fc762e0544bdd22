/* postcopy.h — post-copy live migration's RAM phase (docs/vmm.md, "Post-copy"):
 * the VM already runs on the destination; its RAM arrives behind it.
 *
 * Destination: guest RAM is registered with userfaultfd (missing pages); a
 * fault thread turns each fault (a vCPU in KVM, or a device) into a REQ
 * record to the source, a receiver thread puts every page that arrives in
 * place with UFFDIO_COPY / UFFDIO_ZEROPAGE (waking whoever waits on it),
 * and answers the source's DONE with its own once all of RAM is there.
 * Source: serves REQ first, pushes the rest in the background, then DONE.
 *
 * Apart from KVM and the VM: both ends work on a RAM buffer and a socket,
 * so a unit test runs one against the other.  What the risk is: once the
 * destination runs the guest, neither end has the whole VM until DONE; a
 * lost connection then loses the VM (the destination stops, the source
 * stays paused). */
#ifndef BERTH_VMM_POSTCOPY_H
#define BERTH_VMM_POSTCOPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "vmm/migrate_stream.h"

struct vmm_postcopy;

/* Destination: register ram[0, size) (page aligned, nothing mapped yet
 * that is not already final) and start serving faults over fd (a
 * connected stream socket, taken).  on_end(opaque, ok) is called once,
 * from a helper thread, when every page is in place (ok) or the source
 * is gone (!ok). */
int vmm_postcopy_start(uint8_t *ram, size_t size, int fd, void (*on_end)(void *opaque, bool ok),
                       void *opaque, struct vmm_postcopy **out, berth_error_t *err);
/* The ack after the state is loaded (writes are serialized with the REQs). */
int vmm_postcopy_ack(struct vmm_postcopy *pc, int status, const char *msg, berth_error_t *err);
/* Figures: faults served on demand, pages received. */
void vmm_postcopy_counts(struct vmm_postcopy *pc, uint64_t *faults, uint64_t *pages);
/* End it and free: an unfinished one is cut (its pending faults then see
 * zero pages: only for a VMM that stops); closes the socket. */
void vmm_postcopy_stop(struct vmm_postcopy *pc);

/* Source, after END: answer REQs before anything else, push every page not
 * yet sent (only: a bit per page to push, the rest being there already from
 * a pre-copy's rounds; NULL: all) (no faster than bandwidth_mib MiB/s, 0: no cap; answers to
 * requests are neither held back nor counted against the cap), then DONE; returns 0 when the
 * destination's DONE came.  The destination's ack arrives meanwhile: *acked (and *t_ack_ms,
 * monotonic) say when; a refusal in it is returned as an error with *acked false (the guest never
 * ran there: the source may resume it).  stop(opaque) true gives up. */
int vmm_postcopy_serve(struct vmm_mig_io *io, const uint8_t *ram, size_t size, const uint64_t *only,
                       uint64_t bandwidth_mib, bool (*stop)(void *opaque), void *opaque,
                       bool *acked, double *t_ack_ms, uint64_t *requests, berth_error_t *err);

#endif
