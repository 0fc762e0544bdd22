/* units.c — flag units as Docker reads them (see units.h). */
#include "common/units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A plain decimal: digits with at most one dot, no sign, no exponent, no
 * hex; strtod alone would take "inf", "0x10" and "1e3". */
static int parse_decimal(const char *s, const char **end, double *out)
{
        const char *p = s;
        int digits = 0, dots = 0;
        while (isdigit((unsigned char) *p) || (*p == '.' && dots == 0)) {
                if (*p == '.')
                        dots++;
                else
                        digits++;
                p++;
        }
        if (digits == 0)
                return -1;
        char buf[64];
        size_t n = (size_t) (p - s);
        if (n >= sizeof(buf))
                return -1;
        memcpy(buf, s, n);
        buf[n] = '\0';
        *out = strtod(buf, NULL);
        *end = p;
        return 0;
}

int berth_parse_bytes(const char *s, const char *what, int64_t *out, berth_error_t *err)
{
        const char *end;
        double v;
        if (s == NULL || parse_decimal(s, &end, &v) < 0)
                goto invalid;
        static const struct {
                const char *suffix;
                int shift;
        } units[] = {
                {"", 0},    {"b", 0},    {"k", 10}, {"kb", 10}, {"kib", 10}, {"m", 20},
                {"mb", 20}, {"mib", 20}, {"g", 30}, {"gb", 30}, {"gib", 30}, {"t", 40},
                {"tb", 40}, {"tib", 40}, {"p", 50}, {"pb", 50}, {"pib", 50},
        };
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                if (strcasecmp(end, units[i].suffix) != 0)
                        continue;
                double bytes = ldexp(v, units[i].shift);
                if (bytes >= 9.2e18)
                        return berth_fail(err, ERANGE, "invalid size `%s` for %s: too large", s,
                                          what);
                *out = (int64_t) bytes;
                return 0;
        }
invalid:
        return berth_fail_status(err, 125, EINVAL,
                                 "invalid size `%s` for %s: expected a number with an optional "
                                 "unit b, k, m, g or t",
                                 s ? s : "", what);
}

int berth_parse_cpus(const char *s, const char *what, int64_t *out, berth_error_t *err)
{
        const char *end;
        double v;
        if (s == NULL || parse_decimal(s, &end, &v) < 0 || *end != '\0')
                return berth_fail_status(err, 125, EINVAL,
                                         "invalid value `%s` for %s: expected a positive number "
                                         "of CPUs such as 0.5 or 2",
                                         s ? s : "", what);
        double nano = v * 1e9;
        if (nano < 1 || nano > 1e15)
                return berth_fail_status(err, 125, ERANGE,
                                         "invalid value `%s` for %s: out of range", s, what);
        *out = (int64_t) llround(nano);
        return 0;
}

int berth_parse_duration(const char *s, const char *what, int64_t *ns, berth_error_t *err)
{
        static const struct {
                const char *unit;
                double ns;
        } units[] = {{"ns", 1},  {"us", 1e3}, {"µs", 1e3},  {"ms", 1e6},
                     {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
        if (s == NULL || *s == '\0')
                goto invalid;
        const char *p = s;
        double total = 0;
        /* bare integer: seconds */
        char *iend;
        errno = 0;
        long long secs = strtoll(s, &iend, 10);
        if (*iend == '\0' && isdigit((unsigned char) *s)) {
                if (errno || secs > 9000000000LL)
                        goto invalid;
                *ns = (int64_t) secs * 1000000000LL;
                return 0;
        }
        while (*p) {
                double v;
                const char *end;
                if (parse_decimal(p, &end, &v) < 0)
                        goto invalid;
                size_t best = 0;
                double mult = 0;
                for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                        size_t l = strlen(units[i].unit);
                        if (l > best && strncmp(end, units[i].unit, l) == 0) {
                                best = l;
                                mult = units[i].ns;
                        }
                }
                if (best == 0)
                        goto invalid;
                total += v * mult;
                p = end + best;
        }
        if (total > 9.2e18)
                goto invalid;
        *ns = (int64_t) total;
        return 0;
invalid:
        berth_fail_status(err, 125, EINVAL,
                          "invalid duration `%s` for %s: expected e.g. 10s, 1m30s, 2h or "
                          "a number of seconds",
                          s ? s : "", what);
        return -1;
}

static int parse_rfc3339(const char *s, int64_t *ns)
{
        struct tm tm = {0};
        const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (p == NULL) {
                memset(&tm, 0, sizeof(tm));
                p = strptime(s, "%Y-%m-%d", &tm);
                if (p == NULL || *p != '\0')
                        return -1;
        }
        int64_t frac = 0;
        if (*p == '.') {
                int64_t scale = 100000000;
                for (p++; isdigit((unsigned char) *p); p++) {
                        frac += (*p - '0') * scale;
                        scale /= 10;
                }
        }
        long offset = 0;
        if (*p == 'Z' || *p == 'z') {
                p++;
        } else if (*p == '+' || *p == '-') {
                int hh, mm;
                if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2)
                        return -1;
                offset = (hh * 3600L + mm * 60L) * (*p == '-' ? -1 : 1);
                p += 6;
        } else if (*p != '\0') {
                return -1;
        }
        if (*p != '\0')
                return -1;
        time_t t = timegm(&tm);
        *ns = ((int64_t) t - offset) * 1000000000LL + frac;
        return 0;
}

int berth_parse_timestamp(const char *s, const char *what, const struct timespec *now, int64_t *ns,
                          berth_error_t *err)
{
        if (s == NULL || *s == '\0')
                goto invalid;
        if (parse_rfc3339(s, ns) == 0)
                return 0;
        /* Unix seconds with an optional fraction, kept exact (a double would
         * lose the nanoseconds) */
        char *end;
        errno = 0;
        long long secs = strtoll(s, &end, 10);
        if (isdigit((unsigned char) *s) && errno == 0 && (*end == '\0' || *end == '.')) {
                int64_t frac = 0, scale = 100000000;
                const char *f = *end == '.' ? end + 1 : end;
                while (isdigit((unsigned char) *f) && scale > 0) {
                        frac += (*f++ - '0') * scale;
                        scale /= 10;
                }
                while (isdigit((unsigned char) *f))
                        f++;
                if (*f == '\0' && secs < 9000000000LL) {
                        *ns = (int64_t) secs * 1000000000LL + frac;
                        return 0;
                }
        }
        int64_t d;
        berth_error_t derr = NULL;
        if (berth_parse_duration(s, what, &d, &derr) == 0) {
                *ns = (int64_t) now->tv_sec * 1000000000LL + now->tv_nsec - d;
                return 0;
        }
        berth_error_release(&derr);
invalid:
        return berth_fail_status(err, 125, EINVAL,
                                 "invalid time `%s` for %s: expected RFC 3339 "
                                 "(2006-01-02T15:04:05Z), a Unix timestamp or a duration such "
                                 "as 10m",
                                 s ? s : "", what);
}

void berth_format_size(int64_t bytes, char *buf, size_t len)
{
        static const char *const units[] = {"B", "kB", "MB", "GB", "TB", "PB"};
        double v = (double) bytes;
        size_t u = 0;
        while (v >= 1000 && u + 1 < sizeof(units) / sizeof(units[0])) {
                v /= 1000;
                u++;
        }
        /* three significant digits, trailing zeros dropped: 1.23GB, 12.3MB, 123kB, 5B */
        snprintf(buf, len, "%.*g%s", 3, v, units[u]);
}

void berth_format_duration(int64_t s, char *buf, size_t len)
{
        /* Go's units.HumanDuration, which docker's ps and images print */
        int64_t minutes = s / 60, hours = (s + 1800) / 3600;
        if (s < 1)
                snprintf(buf, len, "Less than a second");
        else if (s == 1)
                snprintf(buf, len, "1 second");
        else if (s < 60)
                snprintf(buf, len, "%lld seconds", (long long) s);
        else if (minutes == 1)
                snprintf(buf, len, "About a minute");
        else if (minutes < 60)
                snprintf(buf, len, "%lld minutes", (long long) minutes);
        else if (hours == 1)
                snprintf(buf, len, "About an hour");
        else if (hours < 48)
                snprintf(buf, len, "%lld hours", (long long) hours);
        else if (hours < 24 * 7 * 2)
                snprintf(buf, len, "%lld days", (long long) (hours / 24));
        else if (hours < 24 * 30 * 2)
                snprintf(buf, len, "%lld weeks", (long long) (hours / 24 / 7));
        else if (hours < 24 * 365 * 2)
                snprintf(buf, len, "%lld months", (long long) (hours / 24 / 30));
        else
                snprintf(buf, len, "%lld years", (long long) (hours / 24 / 365));
}

int64_t berth_now_ns(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void berth_rfc3339(int64_t ns, bool trim, char *buf, size_t len)
{
        time_t s = (time_t) (ns / 1000000000LL);
        long frac = (long) (ns % 1000000000LL);
        struct tm tm;
        gmtime_r(&s, &tm);
        size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
        char f[16];
        snprintf(f, sizeof(f), ".%09ld", frac);
        if (trim) {
                size_t l = strlen(f);
                while (l > 1 && f[l - 1] == '0')
                        f[--l] = '\0';
                if (l == 1)
                        f[0] = '\0';
        }
        snprintf(buf + n, len - n, "%sZ", f);
}
