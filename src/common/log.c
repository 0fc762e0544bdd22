/* log.c — leveled text/JSON logging (see log.h). */
#include "common/log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/units.h"
#include "common/util.h"

static struct {
        const char *prog;
        enum berth_log_level level;
        enum berth_log_format format;
        int fd;
} logger = {"berth", BERTH_LOG_WARN, BERTH_LOG_TEXT, STDERR_FILENO};

static const char *const level_names[] = {"error", "warning", "info", "debug"};

int berth_log_init(const char *prog, enum berth_log_level level, enum berth_log_format format,
                   const char *path, berth_error_t *err)
{
        int fd = STDERR_FILENO;
        if (path != NULL && *path != '\0') {
                fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                if (fd < 0)
                        return berth_fail(err, errno, "open log file `%s`", path);
        }
        if (logger.fd != STDERR_FILENO)
                close(logger.fd);
        logger.prog = prog;
        logger.level = level;
        logger.format = format;
        logger.fd = fd;
        return 0;
}

int berth_log_parse_format(const char *s, enum berth_log_format *out, berth_error_t *err)
{
        if (strcmp(s, "text") == 0)
                *out = BERTH_LOG_TEXT;
        else if (strcmp(s, "json") == 0)
                *out = BERTH_LOG_JSON;
        else
                return berth_fail_status(err, 2, 0,
                                         "invalid log format `%s`: expected `text` or `json`", s);
        return 0;
}

int berth_log_parse_level(const char *s, enum berth_log_level *out, berth_error_t *err)
{
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(level_names); i++) {
                if (strcmp(s, level_names[i]) == 0) {
                        *out = (enum berth_log_level) i;
                        return 0;
                }
        }
        if (strcmp(s, "warn") == 0) {
                *out = BERTH_LOG_WARN;
                return 0;
        }
        return berth_fail_status(
                err, 2, 0, "invalid log level `%s`: expected error, warning, info or debug", s);
}

void berth_log_use_stderr(void)
{
        logger.fd = STDERR_FILENO; /* the old one is closed, or closes at exec */
}

void berth_log_set_level(enum berth_log_level level)
{
        logger.level = level;
}

enum berth_log_level berth_log_get_level(void)
{
        return logger.level;
}

static void write_json(enum berth_log_level level, const char *msg)
{
        char stamp[64];
        berth_rfc3339(berth_now_ns(), false, stamp, sizeof(stamp));

        json_t *o = json_pack("{s:s, s:s, s:s}", "level", level_names[level], "msg", msg, "time",
                              stamp);
        if (o == NULL)
                return;
        char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (line == NULL)
                return;
        cleanup_free char *full = berth_xasprintf("%s\n", line);
        free(line);
        (void) berth_write_all(logger.fd, full, strlen(full));
}

static void write_logrus(enum berth_log_level level, const char *msg)
{
        char stamp[64];
        /* whole seconds, as logrus's default */
        berth_rfc3339(berth_now_ns() / 1000000000 * 1000000000, true, stamp, sizeof(stamp));
        /* msg quoted with \" \\ \n escaped, as logrus's text formatter does */
        size_t n = strlen(msg);
        cleanup_free char *q = berth_xmalloc(2 * n + 1);
        char *o = q;
        for (const char *p = msg; *p; p++) {
                if (*p == '"' || *p == '\\')
                        *o++ = '\\', *o++ = *p;
                else if (*p == '\n')
                        *o++ = '\\', *o++ = 'n';
                else
                        *o++ = *p;
        }
        *o = 0;
        cleanup_free char *line =
                berth_xasprintf("time=\"%s\" level=%s msg=\"%s\"\n", stamp, level_names[level], q);
        (void) berth_write_all(logger.fd, line, strlen(line));
}

void berth_log(enum berth_log_level level, const char *fmt, ...)
{
        if (level > logger.level)
                return;
        int saved = errno;
        char buf[4096];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (logger.format == BERTH_LOG_JSON) {
                write_json(level, buf);
        } else if (logger.format == BERTH_LOG_LOGRUS) {
                write_logrus(level, buf);
        } else {
                cleanup_free char *line = level == BERTH_LOG_ERROR
                                                  ? berth_xasprintf("%s: %s\n", logger.prog, buf)
                                                  : berth_xasprintf("%s: %s: %s\n", logger.prog,
                                                                    level_names[level], buf);
                (void) berth_write_all(logger.fd, line, strlen(line));
        }
        errno = saved;
}
