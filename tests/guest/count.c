/* count.c — the test guest's counting mode (guest.count=MiB): a counter
 * written across MiB mebibytes of RAM above the guest's image, pass after
 * pass, and printed to the console about every 0.1 s.  What snapshot and
 * migration tests need: a restored guest must go on from the snapshot's
 * count (the register, the stack and the region all came back), and each
 * pass first checks that every page still holds the previous pass's value,
 * so memory that came back wrong is reported, not silently rewritten.
 * guest.fill=MIB first writes MIB more once, above the region. */
#include "guest.h"

#define COUNT_BASE 0x1000000ull /* 16 MiB: clear of the image, stack and tables */
#define PAGE       4096ull

void count_loop(uint64_t mib, uint64_t fill_mib, uint64_t ram_bytes)
{
        if (mib == 0 || COUNT_BASE + ((mib + fill_mib) << 20) > ram_bytes) {
                put_line("BERTH-GUEST count: ", "region does not fit in RAM");
                leave_guest("poweroff");
        }
        volatile uint64_t *base = (volatile uint64_t *) (uintptr_t) COUNT_BASE;
        uint64_t pages = (mib << 20) / PAGE, stride = PAGE / sizeof(uint64_t);
        puts_serial("BERTH-GUEST count: ");
        put_dec(mib);
        puts_serial(" MiB at ");
        put_hex(COUNT_BASE);
        putc_serial('\n');
        for (uint64_t i = 0; i < pages; i++)
                base[i * stride] = 0;
        /* guest.fill=MIB: memory written once and never again, above the region (what
         * a diff snapshot leaves out and a full one must keep) */
        volatile uint64_t *fill = base + pages * stride;
        for (uint64_t i = 0; i < (fill_mib << 20) / PAGE; i++)
                fill[i * stride] = 0x5a5a5a5a00000000ull | i;
        if (fill_mib) {
                puts_serial("BERTH-GUEST fill: ");
                put_dec(fill_mib);
                puts_serial(" MiB\n");
        }
        uint64_t count = 0, next = rdtsc();
        for (;;) {
                for (uint64_t i = 0; i < pages; i++) {
                        if (base[i * stride] != count) {
                                puts_serial("BERTH-GUEST count: memory mismatch at page ");
                                put_dec(i);
                                puts_serial(": ");
                                put_dec(base[i * stride]);
                                puts_serial(" != ");
                                put_dec(count);
                                putc_serial('\n');
                                leave_guest("hang");
                        }
                        base[i * stride] = count + 1;
                }
                count++;
                uint64_t now = rdtsc();
                if ((int64_t) (now - next) >= 0) {
                        puts_serial("BERTH-GUEST count ");
                        put_dec(count);
                        putc_serial('\n');
                        next = now + (1ull << 28);
                }
        }
}
