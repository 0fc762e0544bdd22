/* i8042.c — the PS/2 keyboard controller a PC guest expects at 0x60/0x64
 * (see i8042.h).  It answers the commands Linux's i8042 and atkbd drivers
 * issue while probing, resets the machine on 0xFE (Linux's reboot=k) or
 * an output-port write with bit 0 clear, and carries the scan codes the
 * API's SendCtrlAltDel puts in its output buffer.
 *
 * Every byte comes from the guest: a command that needs a data byte only
 * remembers which one; the output queue is bounded and a full queue drops
 * bytes; nothing blocks or grows.
 */
#include "vmm/i8042.h"

#include <string.h>

#include "common/log.h"
#include "vmm/vm.h"

/* Status register bits. */
#define ST_OBF 0x01 /* output buffer full: port 0x60 has a byte */
#define ST_SYS 0x04 /* system flag: self test passed */
#define ST_CMD 0x08 /* the last write went to the command port */

/* Command byte bits. */
#define CTR_KBDINT 0x01 /* IRQ 1 when a byte arrives */
#define CTR_SYS    0x04
#define CTR_KBDDIS 0x10
#define CTR_AUXDIS 0x20
#define CTR_XLATE  0x40 /* translate to scan code set 1 */

/* Controller commands (port 0x64). */
#define CMD_READ_CTR    0x20
#define CMD_WRITE_CTR   0x60
#define CMD_AUX_DISABLE 0xa7
#define CMD_AUX_ENABLE  0xa8
#define CMD_AUX_TEST    0xa9
#define CMD_SELF_TEST   0xaa
#define CMD_KBD_TEST    0xab
#define CMD_KBD_DISABLE 0xad
#define CMD_KBD_ENABLE  0xae
#define CMD_READ_OUTP   0xd0
#define CMD_WRITE_OUTP  0xd1
#define CMD_WRITE_KBD   0xd2 /* next data byte appears as if from the keyboard */
#define CMD_WRITE_AUX   0xd4
#define CMD_AUX_LOOP    0xd3
#define CMD_PULSE_RESET 0xfe

/* Keyboard commands (port 0x60 without a pending controller command). */
#define KBD_SET_LEDS  0xed
#define KBD_ECHO      0xee
#define KBD_SCANSET   0xf0
#define KBD_GET_ID    0xf2
#define KBD_TYPEMATIC 0xf3
#define KBD_RESET     0xff
#define KBD_ACK       0xfa
#define KBD_BAT_OK    0xaa

static void irq_pulse(struct vmm_i8042 *k)
{
        /* ISA IRQs are edge-triggered: one rising edge per byte. */
        if (k->ctr & CTR_KBDINT) {
                vmm_vm_irq_line(k->vm, VMM_I8042_IRQ, 1);
                vmm_vm_irq_line(k->vm, VMM_I8042_IRQ, 0);
        }
}

/* Append to the output buffer; false (byte dropped) when full. */
static bool push(struct vmm_i8042 *k, uint8_t b)
{
        if (k->count >= VMM_I8042_QUEUE)
                return false;
        k->queue[(k->head + k->count) % VMM_I8042_QUEUE] = b;
        if (k->count++ == 0)
                irq_pulse(k);
        return true;
}

static uint8_t pop(struct vmm_i8042 *k)
{
        if (k->count) {
                k->last = k->queue[k->head];
                k->head = (k->head + 1) % VMM_I8042_QUEUE;
                if (--k->count)
                        irq_pulse(k); /* the next byte is waiting */
        }
        return k->last;
}

static void reset_guest(struct vmm_i8042 *k, const char *how)
{
        log_info("guest reset through the i8042 (%s)", how);
        vmm_vm_stop(k->vm, VMM_EXIT_REBOOT);
}

static void command(struct vmm_i8042 *k, uint8_t c)
{
        switch (c) {
        case CMD_READ_CTR:
                push(k, k->ctr);
                break;
        case CMD_WRITE_CTR:
        case CMD_WRITE_OUTP:
        case CMD_WRITE_KBD:
        case CMD_WRITE_AUX:
        case CMD_AUX_LOOP:
                k->pending = c; /* the data byte comes on port 0x60 */
                break;
        case CMD_AUX_DISABLE:
                k->ctr |= CTR_AUXDIS;
                break;
        case CMD_AUX_ENABLE:
                k->ctr &= (uint8_t) ~CTR_AUXDIS;
                break;
        case CMD_AUX_TEST:
                push(k, 0x01); /* clock line stuck: there is no mouse port */
                break;
        case CMD_SELF_TEST:
                k->status |= ST_SYS;
                push(k, 0x55);
                break;
        case CMD_KBD_TEST:
                push(k, 0x00);
                break;
        case CMD_KBD_DISABLE:
                k->ctr |= CTR_KBDDIS;
                break;
        case CMD_KBD_ENABLE:
                k->ctr &= (uint8_t) ~CTR_KBDDIS;
                break;
        case CMD_READ_OUTP:
                push(k, 0x01); /* reset line high (not in reset) */
                break;
        default:
                /* 0xf0-0xff pulse output-port lines; bit 0 low pulses reset. */
                if (c >= 0xf0 && !(c & 1))
                        reset_guest(k, c == CMD_PULSE_RESET ? "pulse reset" : "output pulse");
                break; /* others: ignored, as an unknown command is */
        }
}

/* A byte for the keyboard itself: acknowledged as a keyboard would. */
static void keyboard(struct vmm_i8042 *k, uint8_t b)
{
        if (k->kbd_pending) {
                /* The argument of LEDs, scan code set or typematic rate. */
                uint8_t cmd = k->kbd_pending;
                k->kbd_pending = 0;
                push(k, KBD_ACK);
                if (cmd == KBD_SCANSET && b == 0)
                        push(k, (k->ctr & CTR_XLATE) ? 0x41 : 0x02); /* set 2 (translated) */
                return;
        }
        switch (b) {
        case KBD_SET_LEDS:
        case KBD_SCANSET:
        case KBD_TYPEMATIC:
                k->kbd_pending = b;
                push(k, KBD_ACK);
                break;
        case KBD_ECHO:
                push(k, KBD_ECHO);
                break;
        case KBD_GET_ID:
                push(k, KBD_ACK);
                push(k, 0xab);
                push(k, (k->ctr & CTR_XLATE) ? 0x41 : 0x83); /* MF2 keyboard */
                break;
        case KBD_RESET:
                push(k, KBD_ACK);
                push(k, KBD_BAT_OK);
                break;
        default:
                push(k, KBD_ACK); /* enable, disable, defaults, ... */
                break;
        }
}

static void data_write(struct vmm_i8042 *k, uint8_t b)
{
        uint8_t p = k->pending;
        k->pending = 0;
        switch (p) {
        case CMD_WRITE_CTR:
                k->ctr = b;
                if (b & CTR_SYS)
                        k->status |= ST_SYS;
                break;
        case CMD_WRITE_OUTP:
                if (!(b & 1))
                        reset_guest(k, "output port");
                break;
        case CMD_WRITE_KBD:
                push(k, b);
                break;
        case CMD_WRITE_AUX:
        case CMD_AUX_LOOP:
                break; /* no mouse port: the byte goes nowhere */
        default:
                keyboard(k, b);
                break;
        }
}

static void io(struct vmm_i8042 *k, bool cmd_port, uint8_t *data, unsigned len, bool write)
{
        pthread_mutex_lock(&k->lock);
        if (write) {
                k->status = (uint8_t) ((k->status & ~ST_CMD) | (cmd_port ? ST_CMD : 0));
                if (cmd_port)
                        command(k, data[0]);
                else
                        data_write(k, data[0]);
        } else {
                uint8_t v = cmd_port ? (uint8_t) (k->status | (k->count ? ST_OBF : 0)) : pop(k);
                memset(data, v, len);
        }
        pthread_mutex_unlock(&k->lock);
}

static void data_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool write)
{
        (void) off;
        io(opaque, false, data, len, write);
}

static void cmd_io(void *opaque, uint64_t off, uint8_t *data, unsigned len, bool write)
{
        (void) off;
        io(opaque, true, data, len, write);
}

int vmm_i8042_init(struct vmm_vm *vm, struct vmm_i8042 *k)
{
        *k = (struct vmm_i8042){.vm = vm,
                                /* As firmware leaves it: keyboard IRQ on, translation on,
                                 * no mouse. */
                                .ctr = CTR_KBDINT | CTR_SYS | CTR_AUXDIS | CTR_XLATE,
                                .status = ST_SYS};
        pthread_mutex_init(&k->lock, NULL);
        /* 0x61 (speaker / PIT gate) between them is KVM's in-kernel PIT's. */
        if (vmm_bus_add(&vm->pio, VMM_I8042_DATA, 1, data_io, k) < 0 ||
            vmm_bus_add(&vm->pio, VMM_I8042_CMD, 1, cmd_io, k) < 0)
                return -1;
        return 0;
}

void vmm_i8042_destroy(struct vmm_i8042 *k)
{
        pthread_mutex_destroy(&k->lock);
}

int vmm_i8042_ctrl_alt_del(struct vmm_i8042 *k)
{
        /* Left Ctrl, left Alt, Delete (an extended key) down, then up in
         * reverse order. */
        static const uint8_t set1[] = {0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d};
        static const uint8_t set2[] = {0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0,
                                       0x71, 0xf0, 0x11, 0xf0, 0x14};
        pthread_mutex_lock(&k->lock);
        bool xlate = k->ctr & CTR_XLATE;
        const uint8_t *s = xlate ? set1 : set2;
        size_t n = xlate ? sizeof(set1) : sizeof(set2);
        int r = -1;
        if (k->count + n <= VMM_I8042_QUEUE) {
                for (size_t i = 0; i < n; i++)
                        push(k, s[i]);
                r = 0;
        }
        pthread_mutex_unlock(&k->lock);
        return r;
}
