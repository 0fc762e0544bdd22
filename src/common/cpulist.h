/* cpulist.h — the kernel's CPU and node list syntax ("0-3,8,10-11"), as
 * cpuset.cpus, /sys/devices/system/cpu/online and --cpuset-cpus spell it. */
#ifndef BERTH_COMMON_CPULIST_H
#define BERTH_COMMON_CPULIST_H

#include <sched.h>

/* Parse s into set; -1 for bad syntax or a number at or above CPU_SETSIZE. */
int berth_cpulist_parse(const char *s, cpu_set_t *set);

#endif
