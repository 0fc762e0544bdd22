/* cmd_check.c — `berth check`: the host capability report. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "cli/cli.h"
#include "common/util.h"

static void check_usage(FILE *out)
{
        fprintf(out,
                "Usage: berth check [--format text|json]\n"
                "\n"
                "Report what this host can run, found by trying each thing: the 8 namespace\n"
                "kinds, unprivileged user namespaces, the cgroup layout and delegation,\n"
                "overlayfs, seccomp, /dev/kvm (and whether KVM is hardware or PVM), the CPU's\n"
                "virtualization flags and /dev/net/tun.\n"
                "\n"
                "Options:\n"
                "  -f, --format FORMAT  text (default) or json\n"
                "  -h, --help           show this help\n"
                "\n"
                "Exit status: 0 when everything is usable, 1 when something a feature needs is\n"
                "missing (each such line says what it disables), 125 on berth's own errors.\n");
}

int cmd_check(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                {"format", required_argument, NULL, 'f'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        bool json = false;
        int c;
        while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        if (strcmp(optarg, "json") == 0)
                                json = true;
                        else if (strcmp(optarg, "text") != 0)
                                return cli_usage_error(err, "check",
                                                       "invalid format `%s`: expected text or json",
                                                       optarg);
                        break;
                case 'h':
                        check_usage(stdout);
                        return 0;
                default:
                        return cli_usage_error(err, "check", "invalid option");
                }
        }
        if (optind < argc)
                return cli_usage_error(err, "check", "unexpected argument `%s`", argv[optind]);

        struct check_paths paths;
        check_paths_host(&paths);
        struct check_report report = {0};
        check_run_all(&report, &paths);
        cleanup_free char *out = json ? check_report_json(&report) : check_report_text(&report);
        fputs(out, stdout);
        fflush(stdout);
        size_t missing = check_report_missing(&report);
        check_report_free(&report);
        return missing ? BERTH_EXIT_CHECK_MISSING : BERTH_EXIT_OK;
}
