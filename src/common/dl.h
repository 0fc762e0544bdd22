/* dl.h — shared libraries loaded on first use instead of at exec.
 *
 * Every library an executable links is loaded and relocated before main(), by every command:
 * for `berth`, libarchive (libxml2 and ICU behind it), libmicrohttpd (GnuTLS), libnftables and
 * libcurl were most of a read-only command's time (docs/performance.md, "Read-only commands").
 * A library only some commands use is instead named here with the symbols berth calls, and
 * reached through trampolines defined with the library's own prototypes from its header, so
 * that call sites and the compiler's type checks stay as they were:
 *
 *   static const char *const names[] = {"archive_read_new", ...};
 *   static void *slots[1];
 *   static struct berth_dl lib = BERTH_DL_INIT("libarchive.so.13", names, slots);
 *   BERTH_DL_FN(lib, 0, struct archive *, archive_read_new, (void), ())
 *
 * All of a library's symbols are resolved at its first use, under a lock; later calls cost an
 * acquire load and an indirect call.  A symbol berth newly calls must be added to its list. */
#ifndef BERTH_COMMON_DL_H
#define BERTH_COMMON_DL_H

#include <pthread.h>
#include <stddef.h>

#include "common/error.h"

struct berth_dl {
        const char *soname;
        const char *const *names;
        size_t n;
        void **syms; /* n slots, filled at load */
        pthread_mutex_t lock;
        int state; /* 0: not tried, 1: loaded, -1: failed (read with acquire) */
        char error[256];
};

#define BERTH_DL_INIT(so, names_, slots_)                                                     \
        {                                                                                     \
                .soname = (so), .names = (names_), .n = sizeof(names_) / sizeof((names_)[0]), \
                .syms = (slots_), .lock = PTHREAD_MUTEX_INITIALIZER                           \
        }

/* One trampoline: `ret name params`, calling symbol idx of lib with args.  params and args are
 * parenthesised lists already, so they can't be parenthesised again. */
// NOLINTBEGIN(bugprone-macro-parentheses)
#define BERTH_DL_FN(lib, idx, ret, name, params, args)                     \
        ret name params                                                    \
        {                                                                  \
                return ((ret(*) params) berth_dl_sym(&(lib), (idx))) args; \
        }
#define BERTH_DL_VOID_FN(lib, idx, name, params, args)               \
        void name params                                             \
        {                                                            \
                ((void(*) params) berth_dl_sym(&(lib), (idx))) args; \
        }
// NOLINTEND(bugprone-macro-parentheses)

/* A library's functions listed once as an X-macro, FNS(F, V): F(ret, name, params, args) for
 * each that returns a value, V(name, params, args) for each that returns none.  These make
 * the slot enum (I_<name>), the symbol names and, for a struct berth_dl named lib, the
 * trampolines from that one list. */
#define BERTH_DL_ENUM_F(ret, name, params, args) I_##name,
#define BERTH_DL_ENUM_V(name, params, args)      I_##name,
#define BERTH_DL_NAME_F(ret, name, params, args) #name,
#define BERTH_DL_NAME_V(name, params, args)      #name,
#define BERTH_DL_TRAMPOLINE_F(ret, name, params, args) \
        BERTH_DL_FN(lib, I_##name, ret, name, params, args)
#define BERTH_DL_TRAMPOLINE_V(name, params, args) \
        BERTH_DL_VOID_FN(lib, I_##name, name, params, args)

/* The whole of a library whose functions are all in FNS: its struct berth_dl lib and a
 * trampoline for each. */
#define BERTH_DL_LIBRARY(soname, FNS)                                               \
        enum { FNS(BERTH_DL_ENUM_F, BERTH_DL_ENUM_V) N_FNS };                       \
        static const char *const names[] = {FNS(BERTH_DL_NAME_F, BERTH_DL_NAME_V)}; \
        static void *slots[N_FNS];                                                  \
        static struct berth_dl lib = BERTH_DL_INIT(soname, names, slots);           \
        FNS(BERTH_DL_TRAMPOLINE_F, BERTH_DL_TRAMPOLINE_V)

/* Load the library and resolve every symbol, once per process (thread-safe); later calls
 * return the first call's result.  For callers that can report failure (libcurl: pull, push). */
int berth_dl_load(struct berth_dl *l, berth_error_t *err);

/* Symbol i of l, loading l first.  A library that can't be loaded ends the process with
 * status 127 and the loader's message, as ld.so would have at exec when it was linked. */
void *berth_dl_sym(struct berth_dl *l, size_t i);

#endif
