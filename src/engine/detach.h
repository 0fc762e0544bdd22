/* detach.h — detach keys (Docker's `--detach-keys`, default ctrl-p,ctrl-q): parsed once, then
 * looked for in a terminal's input stream, which is passed on with the sequence taken out. The
 * CLI's attach and the Engine API's attach and exec streams share it. */
#ifndef BERTH_ENGINE_DETACH_H
#define BERTH_ENGINE_DETACH_H

#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"

#define ENG_DETACH_MAX 16

struct eng_detach {
        unsigned char keys[ENG_DETACH_MAX];
        size_t n;       /* 0: never detaches */
        size_t matched; /* how much of keys the input has ended with so far (held back) */
};

/* spec: "ctrl-p,ctrl-q", "ctrl-a,x"…: ctrl-<letter>, ctrl-@ … ctrl-_, or one character each;
 * NULL: Docker's default.  Docker's message and status 125 on bad input. */
int eng_detach_init(struct eng_detach *d, const char *spec, berth_error_t *err);

/* Filter n bytes of input into out (room for n + ENG_DETACH_MAX): a partial match is held back
 * until it completes or breaks (then passed on).  Returns true once the whole sequence came;
 * what followed it in the input is dropped. */
bool eng_detach_filter(struct eng_detach *d, const char *in, size_t n, char *out, size_t *n_out);

#endif
