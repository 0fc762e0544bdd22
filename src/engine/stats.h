/* stats.h — what a running container uses, read from its cgroup (v1 or v2)
 * and its network namespace: for `berth stats` and `berth top`. */
#ifndef BERTH_ENGINE_STATS_H
#define BERTH_ENGINE_STATS_H

#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"
#include "engine/container.h"

struct eng_stats {
        uint64_t cpu_ns;    /* CPU time used, all cores */
        uint64_t mem_usage; /* bytes, without the page cache (as Docker shows it) */
        uint64_t mem_limit; /* bytes; the host's memory when unlimited */
        uint64_t pids;
        uint64_t blk_read, blk_write;
        uint64_t net_rx, net_tx; /* all interfaces but lo */
};

int eng_stats_read(struct eng_container *c, struct eng_stats *s, berth_error_t *err);

/* The pids in the container's cgroup. *pids is malloc'ed. */
int eng_container_pids(struct eng_container *c, pid_t **pids, size_t *n, berth_error_t *err);

#endif
