/* cpulist.c — see cpulist.h. */
#include "common/cpulist.h"

#include <stdlib.h>

int berth_cpulist_parse(const char *s, cpu_set_t *set)
{
        CPU_ZERO(set);
        const char *p = s;
        if (!*p)
                return -1;
        while (*p) {
                char *end;
                if (*p < '0' || *p > '9')
                        return -1;
                unsigned long a = strtoul(p, &end, 10), b = a;
                p = end;
                if (*p == '-') {
                        if (p[1] < '0' || p[1] > '9')
                                return -1;
                        b = strtoul(p + 1, &end, 10);
                        if (b < a)
                                return -1;
                        p = end;
                }
                if (b >= CPU_SETSIZE)
                        return -1;
                for (unsigned long i = a; i <= b; i++)
                        CPU_SET(i, set);
                if (*p == ',' && p[1])
                        p++;
                else if (*p)
                        return -1;
        }
        return 0;
}
