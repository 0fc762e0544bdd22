/* usage.c — usage errors shared by the subcommands. */
#include <stdarg.h>
#include <stdio.h>

#include "cli/cli.h"

int cli_usage_error(berth_error_t *err, const char *cmd, const char *fmt, ...)
{
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        return berth_fail_status(err, BERTH_EXIT_ERROR, 0, "%s: %s (see `berth %s --help`)", cmd,
                                 buf, cmd);
}
