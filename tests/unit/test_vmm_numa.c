/* test_vmm_numa.c — berth-vmm's --numa NODES:MODE (options.c) and the
 * policy it puts on guest RAM (mem.c, mbind): the parse and its refusals,
 * then a guest RAM mapping bound to node 0 as /proc/self/numa_maps shows it. */
#include <linux/mempolicy.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "vmm/mem.h"
#include "vmm/vmm.h"

static void parse_ok(const char *s, uint64_t nodes, int mode)
{
        uint64_t n = 0;
        int m = 0;
        berth_error_t err = NULL;
        char name[96];
        snprintf(name, sizeof(name), "--numa %s", s);
        ok(vmm_numa_parse(s, &n, &m, &err) == 0 && n == nodes && m == mode, name);
        berth_error_release(&err);
}

static void parse_bad(const char *s)
{
        uint64_t n = 0;
        int m = 0;
        berth_error_t err = NULL;
        char name[96];
        snprintf(name, sizeof(name), "--numa %s is refused, named", s);
        ok(vmm_numa_parse(s, &n, &m, &err) < 0 && err && strstr(berth_error_msg(err), "--numa"),
           name);
        berth_error_release(&err);
}

/* The numa_maps line of the mapping at addr. */
static int policy_of(void *addr, char *out, size_t n)
{
        FILE *f = fopen("/proc/self/numa_maps", "re");
        char line[512], want[32];
        snprintf(want, sizeof(want), "%lx ", (unsigned long) addr);
        int found = -1;
        while (f && fgets(line, sizeof(line), f))
                if (strncmp(line, want, strlen(want)) == 0) {
                        snprintf(out, n, "%s", line + strlen(want));
                        found = 0;
                        break;
                }
        if (f)
                fclose(f);
        return found;
}

int main(void)
{
        parse_ok("0:strict", 1, MPOL_BIND);
        parse_ok("1:preferred", 2, MPOL_PREFERRED);
        parse_ok("0-2,5:interleave", 0x27, MPOL_INTERLEAVE);
        parse_bad("0");
        parse_bad(":strict");
        parse_bad("0:sometimes");
        parse_bad("0-64:strict");
        parse_bad("2-1:strict");
        parse_bad("0,1:preferred");
        parse_bad("x:strict");

        if (access("/sys/devices/system/node/node0", F_OK) < 0 ||
            access("/proc/self/numa_maps", R_OK) < 0) {
                printf("ok %d - # SKIP no NUMA node 0 or numa_maps on this host\n", ++tap_n);
                return tap_done();
        }
        struct vmm_mem m;
        berth_error_t err = NULL;
        ok(vmm_mem_alloc(&m, 4 << 20, &err) == 0, "4 MiB of guest RAM");
        ok(vmm_mem_bind(&m, 1, MPOL_BIND, &err) == 0, "bound to node 0");
        memset(m.map, 1, 1 << 20);
        char line[512] = "";
        ok(policy_of(m.map, line, sizeof(line)) == 0 && strncmp(line, "bind:0", 6) == 0,
           "numa_maps: bind:0");
        printf("# %s", line);
        ok(vmm_mem_bind(&m, 1, MPOL_INTERLEAVE, &err) == 0 &&
                   policy_of(m.map, line, sizeof(line)) == 0 &&
                   strncmp(line, "interleave:0", 12) == 0,
           "numa_maps: interleave:0");
        ok(vmm_mem_bind(&m, 1ull << 63, MPOL_BIND, &err) < 0 && err &&
                   strstr(berth_error_msg(err), "NUMA nodes"),
           "a node the host lacks is refused, named");
        berth_error_release(&err);
        vmm_mem_free(&m);
        return tap_done();
}
