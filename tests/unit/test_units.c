/* test_units.c — Docker's flag units: sizes, CPUs, durations, timestamps. */
#include <errno.h>
#include <string.h>

#include "common/units.h"
#include "tap.h"

static void bytes_ok(const char *s, long long want)
{
        int64_t v = -1;
        berth_error_t err = NULL;
        char name[96];
        snprintf(name, sizeof(name), "bytes: `%s` = %lld", s, want);
        int r = berth_parse_bytes(s, "--memory", &v, &err);
        ok(r == 0 && v == want, name);
        if (r != 0 || v != want)
                printf("#   got %lld (%s)\n", (long long) v, err ? berth_error_msg(err) : "ok");
        berth_error_release(&err);
}

static void bytes_bad(const char *s)
{
        int64_t v;
        berth_error_t err = NULL;
        char name[96];
        snprintf(name, sizeof(name), "bytes: `%s` is refused with a message naming it", s);
        int r = berth_parse_bytes(s, "--memory", &v, &err);
        ok(r < 0 && err && strstr(berth_error_msg(err), "--memory") && err->status == 125, name);
        berth_error_release(&err);
}

int main(void)
{
        bytes_ok("1024", 1024);
        bytes_ok("512k", 512 << 10);
        bytes_ok("32m", 32 << 20);
        bytes_ok("32M", 32 << 20);
        bytes_ok("1.5g", 3LL << 29);
        bytes_ok("2GiB", 2LL << 30);
        bytes_ok("1tb", 1LL << 40);
        bytes_ok("0", 0);
        bytes_bad("10x");
        bytes_bad("-1m");
        bytes_bad("");
        bytes_bad("m");
        bytes_bad("0x10");
        bytes_bad("inf");
        bytes_bad("1e3");
        bytes_bad("1.2.3m");
        berth_error_t err = NULL;
        int64_t v;
        ok(berth_parse_bytes("99999999p", "--memory", &v, &err) < 0 && err->errnum == ERANGE,
           "bytes: overflow refused");
        berth_error_release(&err);

        ok(berth_parse_cpus("0.5", "--cpus", &v, NULL) == 0 && v == 500000000, "cpus: 0.5");
        ok(berth_parse_cpus("2", "--cpus", &v, NULL) == 0 && v == 2000000000, "cpus: 2");
        ok(berth_parse_cpus("-1", "--cpus", &v, &err) < 0 && strstr(berth_error_msg(err), "`-1`"),
           "cpus: -1 refused");
        berth_error_release(&err);
        ok(berth_parse_cpus("0", "--cpus", &v, &err) < 0, "cpus: 0 refused");
        berth_error_release(&err);
        ok(berth_parse_cpus("1x", "--cpus", &v, &err) < 0, "cpus: junk refused");
        berth_error_release(&err);

        ok(berth_parse_duration("10", "--stop-timeout", &v, NULL) == 0 && v == 10000000000LL,
           "duration: bare integer is seconds");
        ok(berth_parse_duration("1m30s", "x", &v, NULL) == 0 && v == 90000000000LL,
           "duration: 1m30s");
        ok(berth_parse_duration("300ms", "x", &v, NULL) == 0 && v == 300000000LL,
           "duration: 300ms");
        ok(berth_parse_duration("1.5h", "x", &v, NULL) == 0 && v == 5400000000000LL,
           "duration: 1.5h");
        ok(berth_parse_duration("2h45m", "x", &v, NULL) == 0 && v == 9900000000000LL,
           "duration: 2h45m");
        ok(berth_parse_duration("10q", "x", &v, &err) < 0, "duration: unknown unit refused");
        berth_error_release(&err);
        ok(berth_parse_duration("s", "x", &v, &err) < 0, "duration: no number refused");
        berth_error_release(&err);

        struct timespec now = {.tv_sec = 1800000000, .tv_nsec = 0};
        ok(berth_parse_timestamp("2026-11-25T08:00:00Z", "--since", &now, &v, NULL) == 0 &&
                   v == 1795593600LL * 1000000000LL,
           "timestamp: RFC 3339 UTC");
        ok(berth_parse_timestamp("2026-11-25T09:00:00.5+01:00", "--since", &now, &v, NULL) == 0 &&
                   v == 1795593600LL * 1000000000LL + 500000000LL,
           "timestamp: fractional seconds and an offset");
        ok(berth_parse_timestamp("1700000000.25", "--since", &now, &v, NULL) == 0 &&
                   v == 1700000000250000000LL,
           "timestamp: Unix seconds");
        ok(berth_parse_timestamp("10m", "--since", &now, &v, NULL) == 0 &&
                   v == (1800000000LL - 600) * 1000000000LL,
           "timestamp: a duration is relative to now");
        ok(berth_parse_timestamp("yesterday", "--since", &now, &v, &err) < 0 &&
                   strstr(berth_error_msg(err), "RFC 3339"),
           "timestamp: junk refused, saying what is accepted");
        berth_error_release(&err);

        char buf[32];
        berth_format_size(0, buf, sizeof(buf));
        is_str(buf, "0B", "size: 0B");
        berth_format_size(1234567, buf, sizeof(buf));
        is_str(buf, "1.23MB", "size: 1.23MB");
        berth_format_size(4400000, buf, sizeof(buf));
        is_str(buf, "4.4MB", "size: 4.4MB");
        berth_format_size(999, buf, sizeof(buf));
        is_str(buf, "999B", "size: 999B");
        berth_format_duration(3, buf, sizeof(buf));
        is_str(buf, "3 seconds", "duration text: seconds");
        berth_format_duration(90, buf, sizeof(buf));
        is_str(buf, "About a minute", "duration text: about a minute");
        berth_format_duration(7200, buf, sizeof(buf));
        is_str(buf, "2 hours", "duration text: hours");
        char t[64];
        const int64_t base = 1795593600LL * 1000000000LL; /* 2026-11-25T08:00:00Z */
        berth_rfc3339(base + 120000000, false, t, sizeof(t));
        is_str(t, "2026-11-25T08:00:00.120000000Z", "rfc3339: nine digits");
        berth_rfc3339(base + 120000000, true, t, sizeof(t));
        is_str(t, "2026-11-25T08:00:00.12Z", "rfc3339: trimmed as Go's RFC3339Nano");
        berth_rfc3339(base, true, t, sizeof(t));
        is_str(t, "2026-11-25T08:00:00Z", "rfc3339: no fraction when it is zero");
        return tap_done();
}
