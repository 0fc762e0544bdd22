/* units.h — parsing the human units in flags, the way Docker reads them, so
 * that `--memory 512m`, `--cpus 1.5`, `--stop-timeout 10`, `--since 5m` and
 * `--log-opt max-size=10m` mean the same to berth as to docker. */
#ifndef BERTH_COMMON_UNITS_H
#define BERTH_COMMON_UNITS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/error.h"

/* "1024", "512k", "10m", "1.5g", "2GiB", "3tb" → bytes; suffixes are binary
 * (k = 1024) as Docker's RAMInBytes.  Rejects negatives, junk ("10x") and
 * overflow. `what` names the flag in the error ("--memory"). */
int berth_parse_bytes(const char *s, const char *what, int64_t *out, berth_error_t *err);

/* "1.5" → 1500000000 nano-CPUs (Docker's NanoCPUs); must be > 0. */
int berth_parse_cpus(const char *s, const char *what, int64_t *out, berth_error_t *err);

/* Go duration syntax: "300ms", "1.5h", "2h45m", "10s"; a bare integer is
 * seconds (Docker accepts "--stop-timeout 10"). → nanoseconds. */
int berth_parse_duration(const char *s, const char *what, int64_t *ns, berth_error_t *err);

/* --since/--until: RFC 3339 ("2026-11-25T08:00:00Z", fractional seconds and
 * offsets allowed), a Unix timestamp ("1700000000.5"), or a duration back
 * from now ("10m").  → nanoseconds since the epoch. */
int berth_parse_timestamp(const char *s, const char *what, const struct timespec *now, int64_t *ns,
                          berth_error_t *err);

/* Nanoseconds since the epoch, now (CLOCK_REALTIME). */
int64_t berth_now_ns(void);

/* RFC 3339 in UTC with nanoseconds, "2026-11-25T08:00:00.123456789Z"; with
 * trim, trailing zeros of the fraction go as Go's RFC3339Nano does
 * ("…:00.1234Z", "…:00Z"). buf holds at least 40 bytes. */
void berth_rfc3339(int64_t ns, bool trim, char *buf, size_t len);

/* "1.2GB", "512kB", "0B": Docker's human sizes (decimal, 3 significant digits). */
void berth_format_size(int64_t bytes, char *buf, size_t len);

/* "Up 3 minutes", "2 hours": Docker's HumanDuration for `ps` status. */
void berth_format_duration(int64_t seconds, char *buf, size_t len);

#endif
