/* test_error.c — the error chain: creation, context, first-failure-wins,
 * exit status, and the one-line report. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "tap.h"

static int open_missing(const char *path, berth_error_t *err)
{
        cleanup_close int fd = open(path, 0);
        if (fd < 0)
                return berth_fail(err, errno, "open `%s`", path);
        return 0;
}

static int load_config(const char *id, berth_error_t *err)
{
        if (open_missing("/nonexistent/berth/config.json", err) < 0)
                return berth_wrap(err, "load config of container `%s`", id);
        return 0;
}

int main(void)
{
        berth_error_t err = NULL;

        is_int(load_config("web", &err), -1, "a failing call returns -1");
        ok(err != NULL, "and fills the error");
        is_int(err->errnum, ENOENT, "the innermost errno is kept");
        is_int(berth_error_depth(err), 2, "two frames: the failure and its context");
        is_str(berth_error_msg(err),
               "load config of container `web`: open `/nonexistent/berth/config.json`: "
               "No such file or directory",
               "the message reads outer context first, errno text last");

        /* a second failure while cleaning up must not replace the cause */
        berth_fail(&err, EBUSY, "rmdir cgroup");
        is_int(err->errnum, ENOENT, "first failure wins over a later one");
        berth_wrap(&err, "create container");
        ok(strncmp(berth_error_msg(err), "create container: load config", 29) == 0,
           "wrapping after a dropped failure still adds context");
        berth_error_release(&err);
        ok(err == NULL, "release clears the pointer");

        berth_fail(&err, 0, "invalid memory limit `%s`", "10x");
        is_str(berth_error_msg(err), "invalid memory limit `10x`",
               "errnum 0 adds no strerror text");
        berth_error_release(&err);

        berth_fail_status(&err, 125, EINVAL, "bad flag");
        is_int(err->status, 125, "fail_status records the exit status");

        /* the report goes through the logger: capture it in a file */
        char path[] = "/tmp/berth-test-log-XXXXXX";
        int fd = mkstemp(path);
        close(fd);
        berth_log_init("berth", BERTH_LOG_WARN, BERTH_LOG_TEXT, path, NULL);
        is_int(berth_error_report(&err, 1), 125, "report returns the error's own status");
        ok(err == NULL, "report releases the error");
        is_int(berth_error_report(&err, 7), 7, "report with no error returns the default");

        berth_fail(&err, EACCES, "mount /proc on `%s`", "/var/lib/berth/x/rootfs/proc");
        berth_log_init("berth", BERTH_LOG_WARN, BERTH_LOG_JSON, path, NULL);
        berth_error_report(&err, 1);
        berth_log_init("berth", BERTH_LOG_WARN, BERTH_LOG_TEXT, NULL, NULL);

        char *text = NULL;
        berth_read_file(path, &text, NULL, NULL);
        unlink(path);
        ok(text && strstr(text, "berth: bad flag: Invalid argument\n") == text,
           "text report is one line: prog, message, errno text");
        ok(text && strstr(text, "{\"level\":\"error\",\"msg\":\"mount /proc on "
                                "`/var/lib/berth/x/rootfs/proc`: Permission denied\"") != NULL,
           "json report carries level and the full message");
        ok(text && strstr(text, "\"time\":\"") != NULL, "json report carries a timestamp");
        free(text);

        berth_wrap(&err, "context with no cause");
        ok(err != NULL && err->errnum == 0, "wrap without a failure still records the message");
        berth_error_release(&err);
        return tap_done();
}
