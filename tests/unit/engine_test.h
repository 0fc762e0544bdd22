/* engine_test.h — shared by the engine's unit tests: a flag line split into argv, an error kept
 * as "STATUS message", and fails_with(): a call fails with exit status 125 and a message holding
 * `want`. */
#ifndef BERTH_TESTS_ENGINE_TEST_H
#define BERTH_TESTS_ENGINE_TEST_H

#include <stdlib.h>
#include <string.h>

#include "common/error.h"
#include "common/util.h"
#include "tap.h"

/* "run" + the space-separated words of copy (modified; \x01 stands for a space in a word). */
static inline int split_args(char *copy, char **argv, int max)
{
        static char run[] = "run";
        int argc = 0;
        argv[argc++] = run;
        for (char *s = NULL, *t = strtok_r(copy, " ", &s); t && argc < max - 1;
             t = strtok_r(NULL, " ", &s)) {
                for (char *p = t; *p; p++)
                        if (*p == '\x01')
                                *p = ' ';
                argv[argc++] = t;
        }
        argv[argc] = NULL;
        return argc;
}

/* Replace *last with the error's "STATUS message" and release the error. */
static inline void keep_error(char **last, berth_error_t *err)
{
        free(*last);
        *last = berth_xasprintf("%d %s", (*err)->status, berth_error_msg(*err));
        berth_error_release(err);
}

#define fails_with(call, label, last_error, want)                                          \
        do {                                                                               \
                int r_ = (call);                                                           \
                if (!ok(r_ < 0 && (last_error) && strncmp((last_error), "125 ", 4) == 0 && \
                                strstr((last_error), (want)),                              \
                        label))                                                            \
                        printf("#   error: %s\n#   want: %s\n",                            \
                               (last_error) ? (last_error) : "(succeeded)", (want));       \
        } while (0)

#endif
