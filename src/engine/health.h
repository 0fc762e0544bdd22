/* health.h — Docker's health checks, run by the container's monitor: every
 * Interval, the Healthcheck's Test runs inside the container (through
 * liboci's exec, in a child of the monitor so its loop never blocks); its
 * exit status and output make State.Health (starting → healthy/unhealthy
 * after Retries failures in a row, failures in the StartPeriod not counted),
 * with Docker's last-5 log. */
#ifndef BERTH_ENGINE_HEALTH_H
#define BERTH_ENGINE_HEALTH_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

struct eng_health {
        json_t *test; /* ["CMD", …] or ["CMD-SHELL", "…"]; NULL: no health check */
        int64_t interval, timeout, start_period; /* ns */
        int retries;
        int timer_fd; /* fires every interval; -1 without a check */
        pid_t pid;    /* the check running now, or 0 */
        int out_fd;   /* its output, or -1 */
        char out[4096];
        size_t out_len;
        int64_t started; /* when the running check began (ns, realtime) */
        int64_t container_started;
        char *pid_file; /* where liboci writes the pid of the check's process */
};

/* From the container's Config.Healthcheck.  Nothing to do when there is
 * none (test stays NULL, timer_fd -1). */
int eng_health_init(struct eng_health *h, json_t *config, const char *run_dir, berth_error_t *err);

/* The container (re)started: start counting the start period, arm the timer. */
void eng_health_container_started(struct eng_health *h, int64_t now_ns);

/* The timer fired: start a check unless one runs; kill one past its timeout. */
void eng_health_tick(struct eng_health *h, const char *oci_root, const char *id, int64_t now_ns);

/* Output is readable on out_fd. */
void eng_health_read(struct eng_health *h);

/* A child was reaped: if it was the check, record the result in state (the
 * State object) and return true. */
bool eng_health_reaped(struct eng_health *h, pid_t pid, int status, json_t *state, int64_t now_ns);

void eng_health_stop(struct eng_health *h);

#endif
