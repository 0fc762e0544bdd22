/* log.h — leveled logging to stderr or a file, as text or JSON lines.
 *
 * Text:  "berth: msg" (errors), "berth: warning: msg", "berth: debug: msg".
 * JSON:  {"level":"error","msg":"...","time":"2026-11-25T08:00:00.123Z"}
 *        (the shape runc writes with --log-format json, so tools that parse
 *        runc's log, such as containerd, can parse ours).
 */
#ifndef BERTH_COMMON_LOG_H
#define BERTH_COMMON_LOG_H

#include "common/error.h"

enum berth_log_level {
        BERTH_LOG_ERROR = 0,
        BERTH_LOG_WARN = 1,
        BERTH_LOG_INFO = 2,
        BERTH_LOG_DEBUG = 3,
};

enum berth_log_format {
        BERTH_LOG_TEXT = 0,
        BERTH_LOG_JSON = 1,
        /* logrus's text lines, as runc writes them: time="…" level=debug msg="…" */
        BERTH_LOG_LOGRUS = 2,
};

/* prog: the name in text lines ("berth", "berth-oci").  path: NULL for
 * stderr, else a file opened for append.  Safe to call again. */
int berth_log_init(const char *prog, enum berth_log_level level, enum berth_log_format format,
                   const char *path, berth_error_t *err);

int berth_log_parse_format(const char *s, enum berth_log_format *out, berth_error_t *err);
int berth_log_parse_level(const char *s, enum berth_log_level *out, berth_error_t *err);

void berth_log_set_level(enum berth_log_level level);
/* From now on write to standard error, whatever berth_log_init opened (a container's init,
 * which has closed the runtime's other descriptors, reports there: the user sees it). */
void berth_log_use_stderr(void);
enum berth_log_level berth_log_get_level(void);

void berth_log(enum berth_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

#define log_error(...) berth_log(BERTH_LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  berth_log(BERTH_LOG_WARN, __VA_ARGS__)
#define log_info(...)  berth_log(BERTH_LOG_INFO, __VA_ARGS__)
#define log_debug(...) berth_log(BERTH_LOG_DEBUG, __VA_ARGS__)

#endif
