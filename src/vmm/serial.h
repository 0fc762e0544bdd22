/* serial.h — a 16550A UART (COM1, port 0x3f8, IRQ 4): the guest console.
 *
 * The register file and receive FIFO are in struct vmm_serial_state, plain
 * data that a snapshot can save; the host side (output fd, IRQ line) is
 * set up again on restore.
 */
#ifndef BERTH_VMM_SERIAL_H
#define BERTH_VMM_SERIAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define VMM_SERIAL_PORT 0x3f8
#define VMM_SERIAL_IRQ  4
#define VMM_SERIAL_FIFO 64

struct vmm_serial_state {
        uint8_t ier, iir, lcr, mcr, lsr, msr, scr, fcr;
        uint8_t dll, dlm;
        bool thri_pending; /* "transmitter empty" interrupt not yet acknowledged */
        uint8_t rx[VMM_SERIAL_FIFO];
        unsigned rx_head, rx_count;
};

typedef void (*vmm_irq_fn)(void *ctx, unsigned gsi, int level);

struct vmm_serial {
        struct vmm_serial_state s;
        pthread_mutex_t lock;
        int out_fd;       /* -1: output discarded, or kept in the backlog */
        uint8_t *backlog; /* output while nobody is attached (unix console), if set */
        size_t backlog_len, backlog_cap;
        vmm_irq_fn irq;
        void *irq_ctx;
        int irq_level;
};

void vmm_serial_init(struct vmm_serial *u, int out_fd, vmm_irq_fn irq, void *irq_ctx);
void vmm_serial_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool write);

/* Host input: queue up to len bytes; returns how many fitted. */
unsigned vmm_serial_input(struct vmm_serial *u, const uint8_t *buf, unsigned len);

#endif
