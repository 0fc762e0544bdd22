/* stats.h — what a running container uses, read from its cgroup (v1 or v2)
 * and its network namespace: for `berth stats` and `berth top`. */
#ifndef BERTH_ENGINE_STATS_H
#define BERTH_ENGINE_STATS_H

#include <jansson.h>
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

/* The container's cgroup file: v1_file under the v1 controller v1_ctrl when it is there,
 * else v2_file in its v2 directory (either may be NULL); NULL when neither exists.  For
 * stats_docker.c's fuller reading (stats.h's callers need only eng_stats_read). */
char *eng_stats_cgroup_file(struct eng_container *c, const char *v1_ctrl, const char *v1_file,
                            const char *v2_file);

/* --- dockerd's GET /containers/{id}/stats object (stats_docker.c) --- */

/* One reading of a container as dockerd's stats object, without its previous reading
 * (preread and precpu_stats zero, as dockerd's first object of a stream).  A container that
 * is not running reads as zeros, as dockerd answers for one. */
json_t *eng_stats_docker(struct eng_container *c);
/* Make prev (an earlier eng_stats_docker of the same container) cur's previous reading:
 * preread and precpu_stats, from which clients compute CPU %. */
void eng_stats_docker_link(json_t *cur, json_t *prev);

#endif
