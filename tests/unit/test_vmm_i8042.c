/* test_vmm_i8042.c — the keyboard controller as a guest drives it through
 * the port bus: probe answers, the bounded output queue, Ctrl+Alt+Del in
 * both scan code sets, and the reset paths.  No KVM: the IRQ ioctl on a
 * closed VM fd just fails quietly. */
#include <stdlib.h>

#include "tap.h"
#include "vmm/vm.h"

static struct vmm_vm *vm;

static void out(uint16_t port, uint8_t v)
{
        vmm_bus_access(&vm->pio, port, &v, 1, true);
}

static int in(uint16_t port)
{
        uint8_t v;
        vmm_bus_access(&vm->pio, port, &v, 1, false);
        return v;
}

/* The next byte, or -1 with the output buffer empty. */
static int next(void)
{
        return (in(VMM_I8042_CMD) &1) ? in(VMM_I8042_DATA) : -1;
}

static struct vmm_vm *new_vm(void)
{
        struct vmm_vm *v = calloc(1, sizeof(*v));
        v->vm_fd = v->stop_fd = -1;
        vmm_i8042_init(v, &v->i8042);
        return v;
}

int main(void)
{
        vm = new_vm();
        is_int(next(), -1, "empty at reset");
        out(VMM_I8042_CMD, 0xaa);
        is_int(next(), 0x55, "self test passes");
        out(VMM_I8042_CMD, 0x20);
        is_int(next(), 0x65, "command byte: IRQ, SYS, no mouse, translation");
        out(VMM_I8042_DATA, 0xff);
        is_int(next(), 0xfa, "keyboard reset: ACK");
        is_int(next(), 0xaa, "keyboard reset: self test passed");
        out(VMM_I8042_DATA, 0xed);
        out(VMM_I8042_DATA, 0x07);
        ok(next() == 0xfa && next() == 0xfa && next() == -1, "LEDs and their argument: 2 ACKs");
        out(VMM_I8042_CMD, 0xa9);
        is_int(next(), 0x01, "no mouse port");
        out(VMM_I8042_CMD, 0xd2);
        out(VMM_I8042_DATA, 0x42);
        is_int(next(), 0x42, "write keyboard output comes back");
        uint8_t w[2] = {0, 0};
        ok(!vmm_bus_access(&vm->pio, VMM_I8042_DATA, w, 2, false), "a 16-bit read is not ours");
        for (int i = 0; i < 100; i++)
                out(VMM_I8042_DATA, 0xee);
        int n = 0;
        while (next() >= 0)
                n++;
        is_int(n, VMM_I8042_QUEUE, "a flood keeps only what the queue holds");
        is_int(vmm_i8042_ctrl_alt_del(&vm->i8042), 0, "Ctrl+Alt+Del queued");
        static const int set1[] = {0x1d, 0x38, 0xe0, 0x53, 0xe0, 0xd3, 0xb8, 0x9d, -1};
        bool same = true;
        for (size_t i = 0; i < sizeof(set1) / sizeof(set1[0]); i++)
                same &= next() == set1[i];
        ok(same, "set 1 scan codes with translation on");
        out(VMM_I8042_CMD, 0x60);
        out(VMM_I8042_DATA, 0x25);
        vmm_i8042_ctrl_alt_del(&vm->i8042);
        static const int set2[] = {0x14, 0x11, 0xe0, 0x71, 0xe0, 0xf0,
                                   0x71, 0xf0, 0x11, 0xf0, 0x14, -1};
        same = true;
        for (size_t i = 0; i < sizeof(set2) / sizeof(set2[0]); i++)
                same &= next() == set2[i];
        ok(same, "set 2 scan codes with translation off");
        for (int i = 0; i < 3; i++)
                vmm_i8042_ctrl_alt_del(&vm->i8042);
        is_int(vmm_i8042_ctrl_alt_del(&vm->i8042), -1, "a full queue refuses more keys");
        ok(!atomic_load(&vm->stopping), "nothing so far resets the guest");
        out(VMM_I8042_CMD, 0xd1);
        out(VMM_I8042_DATA, 0x03);
        ok(!atomic_load(&vm->stopping), "output port with the reset line high: no reset");
        out(VMM_I8042_CMD, 0xfe);
        ok(atomic_load(&vm->stopping) && atomic_load(&vm->exit_status) == VMM_EXIT_REBOOT,
           "0xfe resets (status 10)");
        vmm_i8042_destroy(&vm->i8042);
        free(vm);

        vm = new_vm();
        out(VMM_I8042_CMD, 0xd1);
        out(VMM_I8042_DATA, 0x00);
        ok(atomic_load(&vm->stopping) && atomic_load(&vm->exit_status) == VMM_EXIT_REBOOT,
           "output port with bit 0 clear resets");
        vmm_i8042_destroy(&vm->i8042);
        free(vm);
        return tap_done();
}
