/* error.h — berth's one error type: an errno plus a chain of context messages.
 *
 * Every fallible function returns int (< 0 on failure) and fills a
 * `berth_error_t *err`.  The innermost failure creates the error with
 * berth_fail(); each caller on the way up may add context with berth_wrap();
 * the top (a CLI main) prints it exactly once with berth_error_report().
 *
 *   if (open(path, O_RDONLY) < 0)
 *           return berth_fail(err, errno, "open `%s`", path);
 *   ...
 *   if (ret < 0)
 *           return berth_wrap(err, "load config of container `%s`", id);
 *
 * prints "berth: load config of container `x`: open `/a/b`: No such file or directory".
 */
#ifndef BERTH_COMMON_ERROR_H
#define BERTH_COMMON_ERROR_H

#include <stdarg.h>

struct berth_error_frame;

struct berth_error {
        int errnum;                       /* errno of the innermost failure, 0 if none */
        int status;                       /* exit status the CLI should use; 0 = caller's default */
        struct berth_error_frame *frames; /* outermost context first */
        char *text;                       /* composed message, built lazily */
};
typedef struct berth_error *berth_error_t;

/* Start an error (or, if *err is already set, keep the first one and log
 * this one at debug level).  Always returns -1. */
int berth_fail(berth_error_t *err, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
int berth_failv(berth_error_t *err, int errnum, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));

/* Like berth_fail, but also sets the exit status the CLI should return. */
int berth_fail_status(berth_error_t *err, int status, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* Add outer context to an existing error.  Returns -1.  With no error set
 * it creates one (errnum 0), so a missing berth_fail never loses the message. */
int berth_wrap(berth_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The full message: "ctx: ctx: innermost: strerror". Owned by the error. */
const char *berth_error_msg(berth_error_t e);

/* The context chain without the errno text, newly allocated (for passing an
 * error across a process boundary together with errnum). */
char *berth_error_chain_text(berth_error_t e);

/* Number of frames (tests use it to check the chain). */
unsigned berth_error_depth(berth_error_t e);

void berth_error_release(berth_error_t *err);

/* Print the error once through the logger, release it, and return the exit
 * status to use (the error's own, or default_status). */
int berth_error_report(berth_error_t *err, int default_status);

static inline void berth_error_cleanup(berth_error_t *err)
{
        berth_error_release(err);
}
#define cleanup_error __attribute__((cleanup(berth_error_cleanup)))

#endif
