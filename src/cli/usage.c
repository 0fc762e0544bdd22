/* usage.c — usage errors shared by the subcommands. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

int cli_usage_error(berth_error_t *err, const char *cmd, const char *fmt, ...)
{
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        /* NOLINTNEXTLINE(clang-analyzer-valist.Uninitialized): va_start is just above */
        vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        return berth_fail_status(err, BERTH_EXIT_ERROR, 0, "%s: %s (see `berth %s --help`)", cmd,
                                 buf, cmd);
}

int cli_args_error(berth_error_t *err, const char *cmd, const char *need)
{
        return berth_fail_status(err, 1, 0, "'berth %s' requires %s", cmd, need);
}

int cli_status_1(int r, berth_error_t *err)
{
        if (r < 0 && err && *err && (*err)->status == 0)
                (*err)->status = 1;
        return r;
}

int cli_run_group(struct cli_global *g, const char *group, const struct cli_command *table,
                  int argc, char **argv, berth_error_t *err)
{
        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                FILE *out = argc < 2 ? stderr : stdout;
                fprintf(out, "Usage: berth %s COMMAND\n\nManage %ss.\n\nCommands:\n", group, group);
                for (size_t i = 0; table[i].name; i++)
                        if (table[i].summary)
                                fprintf(out, "  %-9s %s\n", table[i].name, table[i].summary);
                return 0; /* docker's status for a group's help, asked for or not */
        }
        for (size_t i = 0; table[i].name; i++)
                if (strcmp(table[i].name, argv[1]) == 0)
                        return table[i].run(g, argc - 1, argv + 1, err);
        /* docker's words and status */
        return berth_fail_status(err, 1, 0, "unknown command: berth %s %s", group, argv[1]);
}

bool cli_confirm(const char *what)
{
        printf("WARNING! This will remove %s.\nAre you sure you want to continue? [y/N] ", what);
        fflush(stdout);
        char line[16];
        if (fgets(line, sizeof(line), stdin) == NULL)
                return false;
        return line[0] == 'y' || line[0] == 'Y';
}
