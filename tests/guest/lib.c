/* lib.c — the test guest's runtime: polled 16550 output and the few
 * string functions the compiler may also call on its own. */
#include "guest.h"

#define COM1 0x3f8

void putc_serial(char c)
{
        /* Poll LSR.THRE; a VMM's UART is always ready, but be correct. */
        for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
                ;
        outb(COM1, (uint8_t) c);
}

void puts_serial(const char *s)
{
        while (*s)
                putc_serial(*s++);
}

void put_hex(uint64_t v)
{
        char buf[19];
        int i = 18;
        buf[i] = 0;
        do {
                buf[--i] = "0123456789abcdef"[v & 15];
                v >>= 4;
        } while (v);
        buf[--i] = 'x';
        buf[--i] = '0';
        puts_serial(buf + i);
}

void put_dec(uint64_t v)
{
        char buf[21];
        int i = 20;
        buf[i] = 0;
        do {
                buf[--i] = (char) ('0' + v % 10);
                v /= 10;
        } while (v);
        puts_serial(buf + i);
}

void put_line(const char *a, const char *b)
{
        puts_serial(a);
        puts_serial(b);
        putc_serial('\n');
}

void *memset(void *d, int c, size_t n)
{
        uint8_t *p = d;
        while (n--)
                *p++ = (uint8_t) c;
        return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
        uint8_t *p = d;
        const uint8_t *q = s;
        while (n--)
                *p++ = *q++;
        return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
        const uint8_t *p = a, *q = b;
        for (; n; n--, p++, q++)
                if (*p != *q)
                        return *p - *q;
        return 0;
}

size_t strlen(const char *s)
{
        size_t n = 0;
        while (s[n])
                n++;
        return n;
}

bool has_prefix(const char *s, const char *p)
{
        while (*p)
                if (*s++ != *p++)
                        return false;
        return true;
}

uint64_t parse_num(const char **s)
{
        const char *p = *s;
        uint64_t v = 0;
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
                p += 2;
                for (;; p++) {
                        unsigned d;
                        if (*p >= '0' && *p <= '9')
                                d = (unsigned) (*p - '0');
                        else if (*p >= 'a' && *p <= 'f')
                                d = (unsigned) (*p - 'a' + 10);
                        else if (*p >= 'A' && *p <= 'F')
                                d = (unsigned) (*p - 'A' + 10);
                        else
                                break;
                        v = v * 16 + d;
                }
        } else {
                while (*p >= '0' && *p <= '9')
                        v = v * 10 + (uint64_t) (*p++ - '0');
        }
        *s = p;
        return v;
}
