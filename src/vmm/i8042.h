/* i8042.h — a minimal PS/2 keyboard controller (ports 0x60/0x64, IRQ 1):
 * enough for Linux's i8042 probe, the reset line, and Ctrl-Alt-Del from
 * the API.  No mouse (AUX) port. */
#ifndef BERTH_VMM_I8042_H
#define BERTH_VMM_I8042_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define VMM_I8042_DATA  0x60
#define VMM_I8042_CMD   0x64
#define VMM_I8042_IRQ   1
#define VMM_I8042_QUEUE 32

struct vmm_vm;

struct vmm_i8042 {
        struct vmm_vm *vm;
        pthread_mutex_t lock;           /* vCPU threads and the API's main thread */
        uint8_t ctr;                    /* the controller's command byte */
        uint8_t status;                 /* SYS and CMD/DATA bits; OBF comes from the queue */
        uint8_t pending;                /* command waiting for its data byte, or 0 */
        uint8_t kbd_pending;            /* keyboard command waiting for its argument, or 0 */
        uint8_t queue[VMM_I8042_QUEUE]; /* output buffer: bytes for the guest to read */
        unsigned head, count;
        uint8_t last; /* what port 0x60 reads when the queue is empty */
};

/* Reset state and claim the two ports. */
int vmm_i8042_init(struct vmm_vm *vm, struct vmm_i8042 *k);
void vmm_i8042_destroy(struct vmm_i8042 *k);

/* Queue Ctrl+Alt+Del press and release (scan code set 1 when the command
 * byte asks for translation, set 2 if not) and raise IRQ 1.  -1 when the
 * output buffer has no room. */
int vmm_i8042_ctrl_alt_del(struct vmm_i8042 *k);

#endif
