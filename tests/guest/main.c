/* main.c — berth's test guest: what a kernel would see, printed.
 *
 * Booted by berth-vmm through PVH (ELF) or the 64-bit Linux protocol
 * (bzImage form), it prints its command line and e820 map exactly as the
 * VMM gave them, drives each virtio-mmio device named on its command line
 * by polling, and leaves the way `guest.exit=` says.  Lines start with
 * "BERTH-GUEST " so tests can grep them out of the console.
 */
#include "guest.h"

#define BOOT_PVH 1
#define BOOT_LINUX 2

struct pvh_start_info {
        uint32_t magic, version, flags, nr_modules;
        uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
        uint32_t memmap_entries, reserved;
};
struct pvh_memmap_entry {
        uint64_t addr, size;
        uint32_t type, reserved;
};
struct pvh_modlist_entry {
        uint64_t paddr, size, cmdline_paddr, reserved;
};
struct __attribute__((packed)) e820_entry {
        uint64_t addr, size;
        uint32_t type;
};

static void put_hex16(uint64_t v)
{
        char buf[19] = "0x";
        for (int i = 0; i < 16; i++)
                buf[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 15];
        buf[18] = 0;
        puts_serial(buf);
}

uint64_t guest_ram_bytes;

static void print_e820(uint64_t addr, uint64_t size, uint32_t type)
{
        if (type == 1)
                guest_ram_bytes += size;
        puts_serial("BERTH-GUEST e820: ");
        put_hex16(addr);
        putc_serial('-');
        put_hex16(addr + size - 1);
        puts_serial(" type ");
        put_dec(type);
        putc_serial('\n');
}

/* The value of `key` on the command line (up to the next space), or NULL. */
const char *cmdline_get(const char *cmdline, const char *key, char *buf, size_t len)
{
        for (const char *p = cmdline; *p;) {
                while (*p == ' ')
                        p++;
                if (has_prefix(p, key) && p[strlen(key)] == '=') {
                        p += strlen(key) + 1;
                        size_t n = 0;
                        while (p[n] && p[n] != ' ' && n + 1 < len) {
                                buf[n] = p[n];
                                n++;
                        }
                        buf[n] = 0;
                        return buf;
                }
                while (*p && *p != ' ')
                        p++;
        }
        return NULL;
}

static unsigned find_virtio(const char *cmdline, struct vdev *devs, unsigned max)
{
        unsigned n = 0;
        const char *key = "virtio_mmio.device=";
        for (const char *p = cmdline; *p && n < max; p++) {
                if (!has_prefix(p, key) || (p != cmdline && p[-1] != ' '))
                        continue;
                /* SIZE[KMG]@BASE:IRQ */
                const char *q = p + strlen(key);
                parse_num(&q);
                if (*q == 'K' || *q == 'k' || *q == 'M' || *q == 'G')
                        q++;
                if (*q != '@')
                        continue;
                q++;
                uint64_t base = parse_num(&q);
                if (mmio_read32(base) != 0x74726976)
                        continue;
                devs[n].base = base;
                devs[n].id = mmio_read32(base + 8);
                uint32_t version = mmio_read32(base + 4);
                puts_serial("BERTH-GUEST virtio: ");
                put_hex(base);
                puts_serial(" id ");
                put_dec(devs[n].id);
                puts_serial(" version ");
                put_dec(version);
                /* Our driver speaks virtio 1.x only (MMIO version 2). */
                puts_serial(version == 2 ? "\n" : " (legacy: skipped)\n");
                if (version == 2)
                        n++;
        }
        return n;
}

/* Ports of the FADT's sleep-control and reset registers, 0 without ACPI. */
static uint16_t acpi_sleep_port, acpi_reset_port;
static uint8_t acpi_reset_value;
/* Enabled processors listed in the MADT. */
static unsigned acpi_cpus;

/* Enabled processors in the MP table (Intel MP spec), for --no-acpi. */
static unsigned mp_cpus;

static void mptable_walk(void)
{
        const uint8_t *fp = (const void *) (uintptr_t) 0x9fc00;
        if (memcmp(fp, "_MP_", 4) != 0) {
                put_line("BERTH-GUEST mptable: ", "none");
                return;
        }
        const uint8_t *t = (const void *) (uintptr_t) * (const uint32_t *) (fp + 4);
        uint16_t n = *(const uint16_t *) (t + 34);
        const uint8_t *e = t + 44;
        unsigned ioapics = 0, irqs = 0;
        for (uint16_t i = 0; i < n; i++) {
                if (e[0] == 0) {
                        mp_cpus += e[3] & 1;
                        e += 20;
                        continue;
                }
                ioapics += e[0] == 2;
                irqs += e[0] == 3;
                e += 8;
        }
        puts_serial("BERTH-GUEST mptable: ");
        put_dec(mp_cpus);
        puts_serial(" cpus, ");
        put_dec(ioapics);
        puts_serial(" ioapic, ");
        put_dec(irqs);
        puts_serial(" irq routes\n");
}

extern const uint8_t ap_tramp_start[], ap_tramp_end[], ap_flag[];

#define LAPIC 0xfee00000ull
#define AP_TRAMPOLINE 0x8000

/* Start vCPU 1 the way a kernel does: INIT, then two start-up IPIs through
 * the local APIC, and wait for its flag. */
static void smp_test(void)
{
        memcpy((void *) AP_TRAMPOLINE, ap_tramp_start, (size_t) (ap_tramp_end - ap_tramp_start));
        volatile uint8_t *flag = (volatile uint8_t *) (uintptr_t) (AP_TRAMPOLINE +
                                                                   (ap_flag - ap_tramp_start));
        *flag = 0;
        mmio_write32(LAPIC + 0xf0, mmio_read32(LAPIC + 0xf0) | 0x100); /* APIC enable */
        mmio_write32(LAPIC + 0x310, 1u << 24);                          /* destination: APIC 1 */
        mmio_write32(LAPIC + 0x300, 0x00004500);                        /* INIT, assert */
        for (volatile int i = 0; i < 100000; i++)
                ;
        for (int sipi = 0; sipi < 2 && !*flag; sipi++) {
                mmio_write32(LAPIC + 0x310, 1u << 24);
                mmio_write32(LAPIC + 0x300, 0x00004600 | (AP_TRAMPOLINE >> 12)); /* SIPI */
                for (volatile int i = 0; i < 100000 && !*flag; i++)
                        ;
        }
        for (uint64_t spin = 0; spin < 500000000ull && !*flag; spin++)
                __asm__ volatile("pause");
        put_line("BERTH-GUEST smp: ap 1 ", *flag ? "started" : "did not start");
}

static const uint8_t *acpi_dsdt; /* for idle.c's power button */

/* Walk RSDP -> XSDT and print each table's signature; remember the FADT's
 * sleep-control register, which is how a kernel powers off. */
static void acpi_walk(uint64_t rsdp)
{
        const uint8_t *r = (const void *) (uintptr_t) rsdp;
        if (!rsdp || memcmp(r, "RSD PTR ", 8) != 0) {
                put_line("BERTH-GUEST acpi: ", "none");
                return;
        }
        puts_serial("BERTH-GUEST acpi: rsdp ");
        put_hex(rsdp);
        puts_serial(" tables");
        const uint8_t *x = (const void *) (uintptr_t) * (const uint64_t *) (r + 24);
        uint32_t n = (*(const uint32_t *) (x + 4) - 36) / 8;
        for (uint32_t i = 0; i < n; i++) {
                const uint8_t *t = (const void *) (uintptr_t) * (const uint64_t *) (x + 36 + 8 * i);
                putc_serial(' ');
                for (int k = 0; k < 4; k++)
                        putc_serial((char) t[k]);
                if (memcmp(t, "APIC", 4) == 0) {
                        uint32_t len = *(const uint32_t *) (t + 4);
                        for (uint32_t o = 44; o + 2 <= len && t[o + 1]; o += t[o + 1])
                                if (t[o] == 0 && (t[o + 4] & 1)) /* enabled local APIC */
                                        acpi_cpus++;
                }
                if (memcmp(t, "FACP", 4) == 0) {
                        /* The FADT's X_DSDT (offset 140) names the DSDT. */
                        const char *d = (const void *) (uintptr_t) * (const uint64_t *) (t + 140);
                        acpi_dsdt = (const uint8_t *) d;
                        putc_serial(' ');
                        for (int k = 0; k < 4; k++)
                                putc_serial(d[k]);
                        if (t[244] == 1) /* SystemIO */
                                acpi_sleep_port = (uint16_t) * (const uint64_t *) (t + 248);
                        if (t[116] == 1) { /* RESET_REG, SystemIO */
                                acpi_reset_port = (uint16_t) * (const uint64_t *) (t + 120);
                                acpi_reset_value = t[128];
                        }
                }
        }
        putc_serial('\n');
}

static __attribute__((noreturn)) void leave(const char *how)
{
        put_line("BERTH-GUEST exit: ", how);
        if (has_prefix(how, "acpi-reset") && acpi_reset_port) {
                outb(acpi_reset_port, acpi_reset_value); /* the FADT's reset register */
        } else if (has_prefix(how, "reboot")) {
                outb(0x64, 0xfe);
        } else if (has_prefix(how, "triple")) {
                /* An empty IDT and an exception: #GP -> #DF -> shutdown. */
                static const struct __attribute__((packed)) {
                        uint16_t limit;
                        uint64_t base;
                } idt = { 0, 0 };
                __asm__ volatile("lidt %0; int3" : : "m"(idt));
        } else if (has_prefix(how, "hang")) {
                for (;;)
                        __asm__ volatile("pause");
        } else {
                /* ACPI sleep control: SLP_TYP 5 (the DSDT's \\_S5) + SLP_EN, on the
                 * FADT's port when there is one, berth-vmm's fixed port otherwise. */
                outb(acpi_sleep_port ? acpi_sleep_port : 0x600, (5 << 2) | 0x20);
        }
        for (;;)
                __asm__ volatile("cli; hlt");
}

void leave_guest(const char *how)
{
        leave(how);
}

void guest_main(uint64_t info, int mode);
void guest_main(uint64_t info, int mode)
{
        const char *cmdline = "";
        uint64_t rsdp = 0;
        put_line("BERTH-GUEST boot: ", mode == BOOT_PVH ? "pvh" : "linux64");
        if (mode == BOOT_PVH) {
                const struct pvh_start_info *si = (const void *) (uintptr_t) info;
                if (si->magic != 0x336ec578) {
                        put_line("BERTH-GUEST error: ", "bad PVH start info magic");
                        leave("poweroff");
                }
                cmdline = (const char *) (uintptr_t) si->cmdline_paddr;
                put_line("BERTH-GUEST cmdline: ", cmdline);
                rsdp = si->rsdp_paddr;
                const struct pvh_memmap_entry *mm = (const void *) (uintptr_t) si->memmap_paddr;
                for (uint32_t i = 0; i < si->memmap_entries; i++)
                        print_e820(mm[i].addr, mm[i].size, mm[i].type);
                extern uint32_t pvh_entry_esp; /* start.S */
                puts_serial("BERTH-GUEST pvh: entry esp ");
                put_hex(pvh_entry_esp);
                putc_serial('\n');
                if (si->nr_modules) {
                        const struct pvh_modlist_entry *m =
                                (const void *) (uintptr_t) si->modlist_paddr;
                        puts_serial("BERTH-GUEST initrd: ");
                        put_dec(m->size);
                        puts_serial(" bytes: ");
                        const char *d = (const char *) (uintptr_t) m->paddr;
                        for (uint64_t i = 0; i < m->size && i < 32 && d[i] != '\n'; i++)
                                putc_serial(d[i]);
                        putc_serial('\n');
                }
        } else {
                const uint8_t *bp = (const void *) (uintptr_t) info;
                cmdline = (const char *) (uintptr_t) * (const uint32_t *) (bp + 0x228);
                put_line("BERTH-GUEST cmdline: ", cmdline);
                rsdp = *(const uint64_t *) (bp + 0x070);
                uint8_t n = bp[0x1e8];
                const struct e820_entry *e = (const void *) (bp + 0x2d0);
                for (uint8_t i = 0; i < n; i++)
                        print_e820(e[i].addr, e[i].size, e[i].type);
                uint32_t rd = *(const uint32_t *) (bp + 0x218);
                uint32_t rd_size = *(const uint32_t *) (bp + 0x21c);
                if (rd_size) {
                        puts_serial("BERTH-GUEST initrd: ");
                        put_dec(rd_size);
                        puts_serial(" bytes: ");
                        const char *d = (const char *) (uintptr_t) rd;
                        for (uint32_t i = 0; i < rd_size && i < 32 && d[i] != '\n'; i++)
                                putc_serial(d[i]);
                        putc_serial('\n');
                }
        }
        acpi_walk(rsdp);
        mptable_walk();
        if (acpi_cpus > 1 || (!acpi_cpus && mp_cpus > 1)) {
                puts_serial("BERTH-GUEST smp: ");
                put_dec(acpi_cpus ? acpi_cpus : mp_cpus);
                puts_serial(acpi_cpus ? " cpus in the MADT\n" : " cpus in the MP table\n");
                smp_test();
        }
        char kbd[4];
        if (cmdline_get(cmdline, "guest.kbd", kbd, sizeof(kbd))) {
                kbd_test(kbd[0] == '2');
                leave("reboot"); /* through the i8042, as Linux's reboot=k */
        }
        struct vdev devs[16];
        unsigned n = find_virtio(cmdline, devs, 16);
        virtio_tests(devs, n, cmdline);
        char count[12];
        if (cmdline_get(cmdline, "guest.count", count, sizeof(count))) {
                const char *p = count;
                uint64_t mib = parse_num(&p);
                char fill[12] = "0";
                (void) cmdline_get(cmdline, "guest.fill", fill, sizeof(fill));
                p = fill;
                count_loop(mib, parse_num(&p), guest_ram_bytes);
        }
        char idle[4];
        if (cmdline_get(cmdline, "guest.idle", idle, sizeof(idle)) && idle[0] == '1')
                idle_loop(cmdline, acpi_dsdt);
        char how[16];
        if (!cmdline_get(cmdline, "guest.exit", how, sizeof(how)))
                memcpy(how, "poweroff", 9);
        leave(how);
}
