/* serial_state.c — the 16550A's snapshot state: its register file and
 * receive FIFO (struct vmm_serial_state).  The host side (output fd, IRQ
 * wiring) belongs to the restoring process and is not saved. */
#include <errno.h>

#include "vmm/snapshot.h"

#define SERIAL_STATE_VERSION 1

void vmm_serial_save(struct vmm_serial *u, struct vmm_snap_buf *b)
{
        pthread_mutex_lock(&u->lock);
        const struct vmm_serial_state *s = &u->s;
        vmm_snap_section(b, "serial", 0, SERIAL_STATE_VERSION);
        const uint8_t regs[] = {s->ier, s->iir, s->lcr, s->mcr, s->lsr,
                                s->msr, s->scr, s->fcr, s->dll, s->dlm};
        vmm_snap_put_bytes(b, regs, sizeof(regs));
        vmm_snap_put_u8(b, s->thri_pending);
        vmm_snap_put_bytes(b, s->rx, sizeof(s->rx));
        vmm_snap_put_u32(b, s->rx_head);
        vmm_snap_put_u32(b, s->rx_count);
        pthread_mutex_unlock(&u->lock);
}

int vmm_serial_load(struct vmm_serial *u, const struct vmm_snap *snap, berth_error_t *err)
{
        const struct vmm_snap_section *sec = vmm_snap_need(snap, "serial", 0, err);
        if (!sec || vmm_snap_check_version(sec, SERIAL_STATE_VERSION, err) < 0)
                return -1;
        struct vmm_snap_rd r;
        vmm_snap_rd_init(&r, sec);
        struct vmm_serial_state s;
        uint8_t regs[10];
        vmm_snap_get_bytes(&r, regs, sizeof(regs));
        s.ier = regs[0], s.iir = regs[1], s.lcr = regs[2], s.mcr = regs[3], s.lsr = regs[4];
        s.msr = regs[5], s.scr = regs[6], s.fcr = regs[7], s.dll = regs[8], s.dlm = regs[9];
        s.thri_pending = vmm_snap_get_bool(&r);
        vmm_snap_get_bytes(&r, s.rx, sizeof(s.rx));
        s.rx_head = vmm_snap_get_u32(&r);
        s.rx_count = vmm_snap_get_u32(&r);
        if (vmm_snap_rd_end(&r, err) < 0)
                return -1;
        if (s.rx_head >= VMM_SERIAL_FIFO || s.rx_count > VMM_SERIAL_FIFO)
                return berth_fail(err, EINVAL, "snapshot's serial FIFO indexes are out of range");
        pthread_mutex_lock(&u->lock);
        u->s = s;
        pthread_mutex_unlock(&u->lock);
        return 0;
}
