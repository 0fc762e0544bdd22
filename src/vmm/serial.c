/* serial.c — 16550A UART emulation, enough for Linux's 8250 driver (with
 * its loopback probe) and for polled early consoles. */
#include "vmm/serial.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"

enum {
        UART_RX_TX = 0, /* RBR / THR, or DLL with DLAB */
        UART_IER = 1,   /* or DLM with DLAB */
        UART_IIR_FCR = 2,
        UART_LCR = 3,
        UART_MCR = 4,
        UART_LSR = 5,
        UART_MSR = 6,
        UART_SCR = 7,
};

#define IER_RDI  0x01
#define IER_THRI 0x02
#define IIR_NONE 0x01
#define IIR_THRI 0x02
#define IIR_RDI  0x04
#define IIR_FIFO 0xc0
#define LCR_DLAB 0x80
#define LSR_DR   0x01
#define LSR_THRE 0x20
#define LSR_TEMT 0x40
#define MCR_LOOP 0x10
#define MSR_DCD  0x80
#define MSR_DSR  0x20
#define MSR_CTS  0x10

void vmm_serial_init(struct vmm_serial *u, int out_fd, vmm_irq_fn irq, void *irq_ctx)
{
        memset(u, 0, sizeof(*u));
        pthread_mutex_init(&u->lock, NULL);
        u->out_fd = out_fd;
        u->irq = irq;
        u->irq_ctx = irq_ctx;
        u->s.iir = IIR_NONE;
        u->s.lsr = LSR_THRE | LSR_TEMT;
        u->s.msr = MSR_DCD | MSR_DSR | MSR_CTS;
        u->s.mcr = 0x08; /* OUT2: the PC wiring that gates the IRQ */
}

static void update_irq(struct vmm_serial *u)
{
        struct vmm_serial_state *s = &u->s;
        uint8_t iir = IIR_NONE;
        if ((s->ier & IER_RDI) && s->rx_count)
                iir = IIR_RDI;
        else if ((s->ier & IER_THRI) && s->thri_pending)
                iir = IIR_THRI;
        s->iir = iir | (s->fcr & 0x01 ? IIR_FIFO : 0);
        int level = iir != IIR_NONE;
        if (level != u->irq_level && u->irq) {
                u->irq_level = level;
                u->irq(u->irq_ctx, VMM_SERIAL_IRQ, level);
        }
}

static void rx_push(struct vmm_serial_state *s, uint8_t c)
{
        if (s->rx_count == VMM_SERIAL_FIFO)
                return; /* overrun: drop, as the hardware does */
        s->rx[(s->rx_head + s->rx_count) % VMM_SERIAL_FIFO] = c;
        s->rx_count++;
        s->lsr |= LSR_DR;
}

static void transmit(struct vmm_serial *u, uint8_t c)
{
        if (u->s.mcr & MCR_LOOP) {
                rx_push(&u->s, c);
        } else if (u->out_fd >= 0) {
                /* Written at once: a console must show the last line a
                 * crashing guest printed. */
                (void) berth_write_all(u->out_fd, &c, 1);
        } else if (u->backlog) {
                if (u->backlog_len == u->backlog_cap) { /* keep the newest half */
                        memmove(u->backlog, u->backlog + u->backlog_cap / 2, u->backlog_cap / 2);
                        u->backlog_len = u->backlog_cap / 2;
                }
                u->backlog[u->backlog_len++] = c;
        }
        u->s.thri_pending = true;
}

static uint8_t loop_msr(uint8_t mcr)
{
        /* Loopback wiring: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. */
        return (uint8_t) (((mcr & 0x01) << 5) | ((mcr & 0x02) << 3) | ((mcr & 0x04) << 4) |
                          ((mcr & 0x08) << 4));
}

static uint8_t serial_read(struct vmm_serial *u, unsigned off)
{
        struct vmm_serial_state *s = &u->s;
        uint8_t v = 0;
        switch (off) {
        case UART_RX_TX:
                if (s->lcr & LCR_DLAB)
                        return s->dll;
                if (s->rx_count) {
                        v = s->rx[s->rx_head];
                        s->rx_head = (s->rx_head + 1) % VMM_SERIAL_FIFO;
                        if (--s->rx_count == 0)
                                s->lsr &= (uint8_t) ~LSR_DR;
                }
                return v;
        case UART_IER:
                return (s->lcr & LCR_DLAB) ? s->dlm : s->ier;
        case UART_IIR_FCR:
                v = s->iir;
                if ((v & 0x0f) == IIR_THRI)
                        s->thri_pending = false; /* reading IIR acknowledges THRE */
                return v;
        case UART_LCR:
                return s->lcr;
        case UART_MCR:
                return s->mcr;
        case UART_LSR:
                return s->lsr;
        case UART_MSR:
                return (s->mcr & MCR_LOOP) ? loop_msr(s->mcr) : s->msr;
        case UART_SCR:
                return s->scr;
        }
        return 0;
}

static void serial_write(struct vmm_serial *u, unsigned off, uint8_t v)
{
        struct vmm_serial_state *s = &u->s;
        switch (off) {
        case UART_RX_TX:
                if (s->lcr & LCR_DLAB)
                        s->dll = v;
                else
                        transmit(u, v);
                break;
        case UART_IER:
                if (s->lcr & LCR_DLAB) {
                        s->dlm = v;
                } else {
                        /* Enabling THRI with an empty transmitter raises it. */
                        if ((v & IER_THRI) && !(s->ier & IER_THRI))
                                s->thri_pending = true;
                        s->ier = v & 0x0f;
                }
                break;
        case UART_IIR_FCR:
                s->fcr = v;
                if (v & 0x02) { /* clear receive FIFO */
                        s->rx_count = 0;
                        s->lsr &= (uint8_t) ~LSR_DR;
                }
                break;
        case UART_LCR:
                s->lcr = v;
                break;
        case UART_MCR:
                s->mcr = v & 0x1f;
                break;
        case UART_SCR:
                s->scr = v;
                break;
        default:
                break; /* LSR and MSR are read-only */
        }
}

void vmm_serial_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool write)
{
        struct vmm_serial *u = opaque;
        pthread_mutex_lock(&u->lock);
        for (unsigned i = 0; i < len && off + i < 8; i++) {
                if (write)
                        serial_write(u, (unsigned) (off + i), data[i]);
                else
                        data[i] = serial_read(u, (unsigned) (off + i));
        }
        update_irq(u);
        pthread_mutex_unlock(&u->lock);
}

unsigned vmm_serial_input(struct vmm_serial *u, const uint8_t *buf, unsigned len)
{
        pthread_mutex_lock(&u->lock);
        unsigned n = 0;
        while (n < len && u->s.rx_count < VMM_SERIAL_FIFO)
                rx_push(&u->s, buf[n++]);
        update_irq(u);
        pthread_mutex_unlock(&u->lock);
        return n;
}
