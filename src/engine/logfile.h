/* logfile.h — Docker's json-file log driver: what a container wrote, one
 * JSON object per line, {"log":"text\n","stream":"stdout","time":"…Z"},
 * rotated by size (--log-opt max-size, max-file), and read back for
 * `berth logs` (--since, --until, --tail, -t, -f).  The writer lives in the
 * container's monitor, so it is small and allocation-light. */
#ifndef BERTH_ENGINE_LOGFILE_H
#define BERTH_ENGINE_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"

enum eng_log_stream { ENG_LOG_STDOUT = 0, ENG_LOG_STDERR = 1 };

/* Lines longer than this are split into several entries, the first ones
 * without a trailing newline (Docker does the same at 16 KiB). */
#define ENG_LOG_MAX_LINE (16 * 1024)

struct eng_logfile;

/* max_size 0 = no rotation; max_file ≥ 1 (files kept including the live one). */
int eng_logfile_open(const char *path, int64_t max_size, unsigned max_file,
                     struct eng_logfile **out, berth_error_t *err);

/* Append output of a stream; complete lines become entries now, a trailing
 * partial line waits for its newline (or for flush). now_ns: the entry time. */
int eng_logfile_write(struct eng_logfile *lf, enum eng_log_stream s, const char *buf, size_t len,
                      int64_t now_ns, berth_error_t *err);

/* Write out any partial lines (at container exit). */
int eng_logfile_flush(struct eng_logfile *lf, int64_t now_ns, berth_error_t *err);

void eng_logfile_close(struct eng_logfile *lf);

struct eng_log_read_opts {
        bool want_stdout, want_stderr;
        bool timestamps;   /* prefix each line with its RFC 3339 time */
        int64_t since_ns;  /* 0 = from the start */
        int64_t until_ns;  /* 0 = no end */
        long tail;         /* -1 = all; else the last N entries */
        bool follow;       /* keep reading as the file grows, across rotation */
        int stop_fd;       /* with follow: stop when this fd is readable (-1: never) */
        unsigned max_file; /* rotated files to look at: path.1 … path.(max_file-1) */
        /* Set: each entry goes to emit (its timestamp prefix included, in one call) instead of
         * out_fd/err_fd, as the Engine API frames each entry; a return < 0 stops the read. */
        int (*emit)(void *ctx, enum eng_log_stream s, const char *buf, size_t len);
        void *emit_ctx;
};

/* Emit entries to out_fd (stdout entries) and err_fd (stderr entries). */
int eng_logfile_read(const char *path, const struct eng_log_read_opts *o, int out_fd, int err_fd,
                     berth_error_t *err);

/* Format nanoseconds since the epoch as Docker's RFC 3339 with 9 digits. */
void eng_log_time(int64_t ns, char buf[40]);

#endif
