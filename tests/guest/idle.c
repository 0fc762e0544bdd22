/* idle.c — the test guest's resident mode (guest.idle=1): what a running
 * system looks like to a VM manager.  It prints a tick counter (so a test
 * can see a pause stop it and a resume restart it) and watches the two
 * ways a host asks a guest to leave: the ACPI power button (berth-vmm's
 * GED event selector, found in the DSDT) and Ctrl+Alt+Del on the i8042.
 * A press powers off through the FADT's sleep register, as an OS's power
 * button handler would, unless guest.power=ignore; Ctrl+Alt+Del reboots.
 * Polling only: the guest takes no interrupts. */
#include "guest.h"

/* Where the DSDT's OperationRegion GEDR says the event selector is: an OS
 * would run the GED's _EVT method; the harness reads the one region the
 * AML names instead (5B 80 "GEDR" SystemMemory DWordConst base). */
static uint64_t ged_base(const uint8_t *dsdt)
{
        if (!dsdt || memcmp(dsdt, "DSDT", 4) != 0)
                return 0;
        uint32_t len = *(const uint32_t *) (dsdt + 4);
        static const uint8_t pat[] = {0x5b, 0x80, 'G', 'E', 'D', 'R', 0x00, 0x0c};
        for (uint32_t i = 36; i + sizeof(pat) + 4 <= len; i++)
                if (memcmp(dsdt + i, pat, sizeof(pat)) == 0)
                        return *(const uint32_t *) (dsdt + i + sizeof(pat));
        return 0;
}

void idle_loop(const char *cmdline, const uint8_t *dsdt)
{
        char power[8];
        bool ignore = cmdline_get(cmdline, "guest.power", power, sizeof(power)) &&
                      has_prefix(power, "ignore");
        uint64_t ged = ged_base(dsdt);
        puts_serial("BERTH-GUEST idle: power button ");
        if (ged)
                put_hex(ged);
        else
                puts_serial("none");
        puts_serial(ignore ? " (ignored)\n" : "\n");
        /* Ctrl+Alt+Del in scan code set 1: 1d (ctrl) 38 (alt) e0 53 (delete). */
        bool ctrl = false, alt = false, ext = false;
        uint64_t next = rdtsc(), tick = 0;
        for (;;) {
                uint64_t now = rdtsc();
                if ((int64_t) (now - next) >= 0) {
                        puts_serial("BERTH-GUEST tick ");
                        put_dec(tick++);
                        putc_serial('\n');
                        next = now + (1ull << 28);
                }
                if (ged && (mmio_read32(ged) & 1)) {
                        if (ignore) {
                                put_line("BERTH-GUEST power button: ", "ignored");
                        } else {
                                put_line("BERTH-GUEST power button: ", "powering off");
                                leave_guest("poweroff");
                        }
                }
                if (inb(0x64) & 1) {
                        uint8_t b = inb(0x60);
                        if (b == 0xe0) {
                                ext = true;
                                continue;
                        }
                        if (b == 0x1d || b == 0x9d)
                                ctrl = b == 0x1d;
                        else if (b == 0x38 || b == 0xb8)
                                alt = b == 0x38;
                        else if (ext && b == 0x53 && ctrl && alt) {
                                put_line("BERTH-GUEST ctrl-alt-del: ", "rebooting");
                                leave_guest("reboot");
                        }
                        ext = false;
                }
                __asm__ volatile("pause");
        }
}
