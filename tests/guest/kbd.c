/* kbd.c — the test guest's i8042 mode (guest.kbd=1, or guest.kbd=2 for
 * scan code set 2 with translation off): probe the controller as Linux
 * does, check that a flood of bytes stays bounded, then poll for keys and
 * reboot through the controller on Ctrl+Alt+Del. */
#include "guest.h"

#define DATA   0x60
#define STATUS 0x64
#define OBF    0x01

static void put_byte(uint8_t b)
{
        putc_serial("0123456789abcdef"[b >> 4]);
        putc_serial("0123456789abcdef"[b & 15]);
}

/* The next byte, or -1 if none came within a generous spin. */
static int read_byte(void)
{
        for (unsigned i = 0; i < 100000; i++)
                if (inb(STATUS) & OBF)
                        return inb(DATA);
        return -1;
}

static void drain(void)
{
        while (inb(STATUS) & OBF)
                (void) inb(DATA);
}

static void report(const char *what, int a, int b, int c)
{
        puts_serial("BERTH-GUEST kbd: ");
        puts_serial(what);
        int v[3] = {a, b, c};
        for (int i = 0; i < 3; i++) {
                if (v[i] == -2)
                        break;
                putc_serial(' ');
                if (v[i] < 0)
                        puts_serial("none");
                else
                        put_byte((uint8_t) v[i]);
        }
        putc_serial('\n');
}

static void probe(bool set2)
{
        drain();
        outb(STATUS, 0xaa); /* controller self test */
        int st = read_byte();
        outb(STATUS, 0x20); /* read the command byte */
        int ctr = read_byte();
        report("self test, command byte", st, ctr, -2);
        if (set2 && ctr >= 0) {
                outb(STATUS, 0x60); /* write the command byte: translation off */
                outb(DATA, (uint8_t) (ctr & ~0x40));
                outb(STATUS, 0x20);
                report("command byte now", read_byte(), -2, -2);
        }
        outb(DATA, 0xff); /* keyboard reset: ACK, self test passed */
        int a = read_byte(), b = read_byte();
        report("reset", a, b, -2);
        outb(DATA, 0xf2); /* identify */
        a = read_byte();
        b = read_byte();
        report("id", a, b, read_byte());
        /* Junk the VMM must survive: unknown commands, a data byte with no
         * command, a mouse write, a 16-bit read across the two ports. */
        outb(STATUS, 0x01);
        outb(STATUS, 0xd4);
        outb(DATA, 0x55);
        outb(STATUS, 0xc0);
        __asm__ volatile("inw %%dx, %%ax" : : "d"(0x60) : "rax");
        drain();
        /* A flood: 40 echo commands, nothing read; the buffer keeps what
         * fits and drops the rest. */
        for (int i = 0; i < 40; i++)
                outb(DATA, 0xee);
        unsigned kept = 0;
        while (inb(STATUS) & OBF) {
                (void) inb(DATA);
                kept++;
        }
        puts_serial("BERTH-GUEST kbd: flood kept ");
        put_dec(kept);
        puts_serial(" bytes\n");
}

/* Wait for Ctrl+Alt+Del; print every scan code that came. */
void kbd_test(bool set2)
{
        probe(set2);
        puts_serial("BERTH-GUEST kbd: waiting for keys\n");
        uint8_t seen[64];
        unsigned n = 0;
        bool ctrl = false, alt = false, cad = false, e0 = false, brk = false;
        while (!cad || (inb(STATUS) & OBF)) {
                if (!(inb(STATUS) & OBF)) {
                        for (int i = 0; i < 1000; i++)
                                __asm__ volatile("pause");
                        continue;
                }
                uint8_t b = inb(DATA);
                if (n < sizeof(seen))
                        seen[n++] = b;
                if (b == 0xe0) {
                        e0 = true;
                        continue;
                }
                if (set2 && b == 0xf0) {
                        brk = true;
                        continue;
                }
                bool up = set2 ? brk : (b & 0x80);
                uint8_t code = set2 ? b : (b & 0x7f);
                if (code == (set2 ? 0x14 : 0x1d))
                        ctrl = !up;
                else if (code == (set2 ? 0x11 : 0x38))
                        alt = !up;
                else if (e0 && code == (set2 ? 0x71 : 0x53) && !up && ctrl && alt)
                        cad = true;
                e0 = brk = false;
        }
        puts_serial("BERTH-GUEST kbd: scancodes");
        for (unsigned i = 0; i < n; i++) {
                putc_serial(' ');
                put_byte(seen[i]);
        }
        puts_serial("\nBERTH-GUEST kbd: ctrl-alt-del\n");
}
