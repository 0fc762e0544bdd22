/* tap.h — a tiny TAP producer for the C unit tests (meson test, protocol: tap).
 *
 *   ok(cond, "what was observed");
 *   is_int(got, want, "name");  is_str(got, want, "name");
 *   return tap_done();
 */
#ifndef BERTH_TESTS_TAP_H
#define BERTH_TESTS_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline int tap_ok(int cond, const char *file, int line, const char *name)
{
        tap_n++;
        printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, name);
        if (!cond) {
                tap_failed++;
                printf("# failed at %s:%d\n", file, line);
        }
        fflush(stdout);
        return cond;
}

#define ok(cond, name) tap_ok(!!(cond), __FILE__, __LINE__, name)

#define is_int(got, want, name)                                            \
        do {                                                               \
                long long g_ = (long long) (got), w_ = (long long) (want); \
                if (!ok(g_ == w_, name))                                   \
                        printf("#   got %lld, want %lld\n", g_, w_);       \
        } while (0)

#define is_str(got, want, name)                                                        \
        do {                                                                           \
                const char *g_ = (got), *w_ = (want);                                  \
                if (!ok(g_ && w_ && strcmp(g_, w_) == 0, name))                        \
                        printf("#   got \"%s\"\n#  want \"%s\"\n", g_ ? g_ : "(null)", \
                               w_ ? w_ : "(null)");                                    \
        } while (0)

static inline void tap_skip(const char *name, const char *why)
{
        tap_n++;
        printf("ok %d - %s # SKIP %s\n", tap_n, name, why);
}

static inline int tap_done(void)
{
        printf("1..%d\n", tap_n);
        return tap_failed ? 1 : 0;
}

#endif
