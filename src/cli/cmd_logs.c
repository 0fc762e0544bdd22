/* cmd_logs.c — `berth logs`: a container's json-file log. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/containers.h"
#include "common/units.h"
#include "common/util.h"
#include "engine/lifecycle.h"
#include "engine/logfile.h"

int cmd_logs(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                {"follow", no_argument, NULL, 'f'},      {"since", required_argument, NULL, 'S'},
                {"until", required_argument, NULL, 'U'}, {"tail", required_argument, NULL, 'n'},
                {"timestamps", no_argument, NULL, 't'},  {"details", no_argument, NULL, 'd'},
                {"help", no_argument, NULL, 'h'},        {0},
        };
        struct eng_log_read_opts o = {
                .want_stdout = true, .want_stderr = true, .tail = -1, .stop_fd = -1};
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int c;
        while ((c = getopt_long(argc, argv, "fn:th", opts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        o.follow = true;
                        break;
                case 'S':
                        if (berth_parse_timestamp(optarg, "--since", &now, &o.since_ns, err) < 0)
                                return -1;
                        break;
                case 'U':
                        if (berth_parse_timestamp(optarg, "--until", &now, &o.until_ns, err) < 0)
                                return -1;
                        break;
                case 'n':
                        if (strcmp(optarg, "all") == 0) {
                                o.tail = -1;
                        } else {
                                /* Docker's daemon reads a value that is no count as "all" */
                                char *end;
                                o.tail = strtol(optarg, &end, 10);
                                if (*end || end == optarg || o.tail < -1)
                                        o.tail = -1;
                        }
                        break;
                case 't':
                        o.timestamps = true;
                        break;
                case 'd':
                        break;
                case 'h':
                        printf("Usage: berth logs [OPTIONS] CONTAINER\n\n"
                               "Fetch the logs of a container\n\n"
                               "  -f, --follow         Follow log output\n"
                               "      --since STRING   Show logs since timestamp (e.g. "
                               "2013-01-02T13:23:37Z) or relative (e.g. 42m)\n"
                               "      --until STRING   Show logs before a timestamp or relative\n"
                               "  -n, --tail STRING    Number of lines to show from the end of "
                               "the logs (default \"all\")\n"
                               "  -t, --timestamps     Show timestamps\n");
                        return 0;
                default:
                        return cli_usage_error(err, "logs", "invalid option");
                }
        }
        if (argc - optind != 1)
                return cli_args_error(err, "logs", "1 argument");
        struct eng_ctx e;
        if (eng_ctx_init(&e, &g->paths, err) < 0)
                return -1;
        struct eng_container *ct = NULL;
        int r = eng_container_find(&e, argv[optind], &ct, err);
        if (r == 0) {
                const char *path = NULL;
                cleanup_close int pidfd = -1;
                r = eng_container_log_source(ct, &o, &path, &pidfd, err);
                o.stop_fd = pidfd;
                if (r == 0)
                        r = eng_logfile_read(path, &o, STDOUT_FILENO, STDERR_FILENO, err);
        }
        eng_container_free(ct);
        eng_ctx_free(&e);
        return r < 0 ? -1 : 0;
}
