/* guest.h — the test guest's tiny runtime: port I/O, MMIO, serial output
 * and string helpers.  Freestanding: no libc, no interrupts. */
#ifndef BERTH_GUEST_H
#define BERTH_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static inline void outb(uint16_t port, uint8_t v)
{
        __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
        uint8_t v;
        __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
        return v;
}
static inline uint32_t mmio_read32(uint64_t a)
{
        return *(volatile uint32_t *) (uintptr_t) a;
}
static inline void mmio_write32(uint64_t a, uint32_t v)
{
        *(volatile uint32_t *) (uintptr_t) a = v;
}
static inline uint8_t mmio_read8(uint64_t a)
{
        return *(volatile uint8_t *) (uintptr_t) a;
}
static inline void mb(void)
{
        __asm__ volatile("mfence" ::: "memory");
}
static inline uint64_t rdtsc(void)
{
        uint32_t lo, hi;
        __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
        return ((uint64_t) hi << 32) | lo;
}

void putc_serial(char c);
void puts_serial(const char *s);
void put_hex(uint64_t v);
void put_dec(uint64_t v);
void put_line(const char *a, const char *b);

void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
bool has_prefix(const char *s, const char *p);
uint64_t parse_num(const char **s);

/* The value of `key` on the command line (up to the next space), or NULL. */
const char *cmdline_get(const char *cmdline, const char *key, char *buf, size_t len);

/* RAM bytes in the e820 map (main.c). */
extern uint64_t guest_ram_bytes;

/* virtio.c */
struct vdev {
        uint64_t base;
        uint32_t id;
};
void virtio_tests(struct vdev *devs, unsigned n, const char *cmdline);

/* main.c: leave the way guest.exit= names (poweroff, reboot, ...). */
__attribute__((noreturn)) void leave_guest(const char *how);

/* idle.c: guest.idle=1, ticks until the power button or Ctrl+Alt+Del. */
__attribute__((noreturn)) void idle_loop(const char *cmdline, const uint8_t *dsdt);
/* count.c: guest.count=MiB */
__attribute__((noreturn)) void count_loop(uint64_t mib, uint64_t fill_mib, uint64_t ram_bytes);

/* kbd.c: the i8042 test (guest.kbd=1, or 2 for scan code set 2). */
void kbd_test(bool set2);

#endif
