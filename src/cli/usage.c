/* usage.c — usage errors shared by the subcommands. */
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/* The argument vector the running (sub)command hands to getopt (cli_command_args). */
static int cmd_argc;
static char **cmd_argv;

void cli_command_args(int argc, char **argv)
{
        cmd_argc = argc;
        cmd_argv = argv;
}

/* After getopt_long returned '?' (opterr off): what was wrong, in the words of Docker's flag
 * parser (cobra/pflag), written to buf; false when the argument vector does not tell. */
static bool docker_flag_error(char *buf, size_t size)
{
        if (cmd_argv == NULL || optind < 1 || optind > cmd_argc)
                return false;
        const char *tok = cmd_argv[optind - 1];
        if (optopt == 0 || (tok[0] == '-' && tok[1] == '-')) {
                /* a long one: unknown (optopt 0), or one that wants a value it lacks */
                if (tok[0] != '-' || tok[1] != '-')
                        return false;
                int n = (int) strcspn(tok + 2, "=");
                if (optopt == 0)
                        snprintf(buf, size, "unknown flag: --%.*s", n, tok + 2);
                else if (tok[2 + n] == '=') /* a value for a flag that takes none */
                        snprintf(buf, size, "invalid argument \"%s\" for \"--%.*s\" flag",
                                 tok + 3 + n, n, tok + 2);
                else
                        snprintf(buf, size, "flag needs an argument: --%.*s", n, tok + 2);
                return true;
        }
        /* a short one: the cluster that holds it is the token getopt is in (optind not yet
         * past it) or the one before */
        for (int k = optind < cmd_argc ? optind : optind - 1; k >= optind - 1 && k >= 1; k--) {
                const char *t = cmd_argv[k];
                if (t[0] != '-' || t[1] == '-' || strchr(t + 1, optopt) == NULL)
                        continue;
                /* the last letter of the last argument: getopt answers the same for a flag
                 * that lacks its value, and the optstring that would tell is the caller's */
                bool last = k == cmd_argc - 1 && t[strlen(t) - 1] == optopt && optind == cmd_argc;
                snprintf(buf, size, "%s: '%c' in %s",
                         last ? "unknown shorthand flag, or one that needs an argument"
                              : "unknown shorthand flag",
                         optopt, t);
                return true;
        }
        return false;
}

int cli_usage_error(berth_error_t *err, const char *cmd, const char *fmt, ...)
{
        char buf[512];
        if (strcmp(fmt, "invalid option") == 0 && docker_flag_error(buf, sizeof(buf)))
                return berth_fail_status(err, BERTH_EXIT_ERROR, 0, "%s (see `berth %s --help`)",
                                         buf, cmd);
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
                if (strcmp(table[i].name, argv[1]) == 0) {
                        cli_command_args(argc - 1, argv + 1);
                        return table[i].run(g, argc - 1, argv + 1, err);
                }
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
