/* i8042_state.c — the keyboard controller's snapshot state: command byte,
 * status, half-done commands and the output queue. */
#include <errno.h>
#include <string.h>

#include "vmm/snapshot.h"

#define I8042_STATE_VERSION 1

void vmm_i8042_save(struct vmm_i8042 *k, struct vmm_snap_buf *b)
{
        pthread_mutex_lock(&k->lock);
        vmm_snap_section(b, "i8042", 0, I8042_STATE_VERSION);
        const uint8_t regs[] = {k->ctr, k->status, k->pending, k->kbd_pending, k->last};
        vmm_snap_put_bytes(b, regs, sizeof(regs));
        vmm_snap_put_bytes(b, k->queue, sizeof(k->queue));
        vmm_snap_put_u32(b, k->head);
        vmm_snap_put_u32(b, k->count);
        pthread_mutex_unlock(&k->lock);
}

int vmm_i8042_load(struct vmm_i8042 *k, const struct vmm_snap *snap, berth_error_t *err)
{
        const struct vmm_snap_section *sec = vmm_snap_need(snap, "i8042", 0, err);
        if (!sec || vmm_snap_check_version(sec, I8042_STATE_VERSION, err) < 0)
                return -1;
        struct vmm_snap_rd r;
        vmm_snap_rd_init(&r, sec);
        uint8_t regs[5], queue[VMM_I8042_QUEUE];
        vmm_snap_get_bytes(&r, regs, sizeof(regs));
        vmm_snap_get_bytes(&r, queue, sizeof(queue));
        uint32_t head = vmm_snap_get_u32(&r), count = vmm_snap_get_u32(&r);
        if (vmm_snap_rd_end(&r, err) < 0)
                return -1;
        if (head >= VMM_I8042_QUEUE || count > VMM_I8042_QUEUE)
                return berth_fail(err, EINVAL, "snapshot's i8042 queue indexes are out of range");
        pthread_mutex_lock(&k->lock);
        k->ctr = regs[0], k->status = regs[1], k->pending = regs[2], k->kbd_pending = regs[3];
        k->last = regs[4];
        memcpy(k->queue, queue, sizeof(queue));
        k->head = head;
        k->count = count;
        pthread_mutex_unlock(&k->lock);
        return 0;
}
