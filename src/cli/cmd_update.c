/* cmd_update.c — `berth update`: docker update's flags read into a HostConfig-shaped object of
 * changes, which the engine applies to each container named (record, bundle, live cgroup). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/containers.h"
#include "common/units.h"
#include "common/util.h"
#include "engine/update.h"

static int bad_value(const char *flag, const char *val, const char *why, berth_error_t *err)
{
        return cli_usage_error(err, "update", "invalid argument \"%s\" for \"%s\" flag: %s", val,
                               flag, why);
}

static int int_flag(const char *flag, const char *val, long long lo, json_t *ch, const char *key,
                    berth_error_t *err)
{
        char *end;
        long long v = strtoll(val, &end, 10);
        if (*val == '\0' || *end != '\0' || v < lo)
                return bad_value(flag, val, "invalid syntax", err);
        json_object_set_new(ch, key, json_integer(v));
        return 0;
}

/* -m, --memory-reservation, --memory-swap: sizes as Docker's; swap also takes -1 (unlimited) */
static int bytes_flag(const char *flag, const char *val, bool minus_one, json_t *ch,
                      const char *key, berth_error_t *err)
{
        int64_t n = 0;
        if (minus_one && strcmp(val, "-1") == 0)
                n = -1;
        else if (berth_parse_bytes(val, flag, &n, err) < 0) {
                berth_error_release(err);
                return bad_value(flag, val, "invalid size", err);
        }
        json_object_set_new(ch, key, json_integer(n));
        return 0;
}

/* no | always | unless-stopped | on-failure[:N]; the engine judges the name as dockerd does */
static int restart_flag(const char *val, json_t *ch, berth_error_t *err)
{
        const char *colon = strchr(val, ':');
        long long n = 0;
        if (colon) {
                char *end;
                n = strtoll(colon + 1, &end, 10);
                if (colon[1] == '\0' || *end != '\0' || n < 0)
                        return bad_value("--restart", val, "invalid maximum retry count", err);
        }
        size_t len = colon ? (size_t) (colon - val) : strlen(val);
        json_object_set_new(ch, "RestartPolicy",
                            json_pack("{s:s%,s:I}", "Name", val, len, "MaximumRetryCount", n));
        return 0;
}

static int do_update(struct eng_ctx *e, struct eng_container *c, void *arg, berth_error_t *err)
{
        return eng_container_update(e, c, arg, err);
}

static void usage(void)
{
        printf("Usage: berth update [OPTIONS] CONTAINER [CONTAINER...]\n\n"
               "Update configuration of one or more containers\n\n"
               "Options:\n"
               "      --cpu-period int          Limit CPU CFS (Completely Fair Scheduler) period\n"
               "      --cpu-quota int           Limit CPU CFS (Completely Fair Scheduler) quota\n"
               "  -c, --cpu-shares int          CPU shares (relative weight)\n"
               "      --cpus decimal            Number of CPUs\n"
               "      --cpuset-cpus string      CPUs in which to allow execution (0-3, 0,1)\n"
               "      --cpuset-mems string      MEMs in which to allow execution (0-3, 0,1)\n"
               "  -m, --memory bytes            Memory limit\n"
               "      --memory-reservation bytes Memory soft limit\n"
               "      --memory-swap bytes       Swap limit equal to memory plus swap: -1 to "
               "enable unlimited swap\n"
               "      --pids-limit int          Tune container pids limit (set -1 for unlimited)\n"
               "      --restart string          Restart policy to apply when a container exits\n");
}

static int update_main(struct cli_global *g, int argc, char **argv, json_t *ch, berth_error_t *err)
{
        enum {
                O_PERIOD = 256,
                O_QUOTA,
                O_CPUS,
                O_CPUSET_CPUS,
                O_CPUSET_MEMS,
                O_RES,
                O_SWAP,
                O_PIDS,
                O_RESTART
        };
        static const struct option opts[] = {
                {"cpu-period", required_argument, NULL, O_PERIOD},
                {"cpu-quota", required_argument, NULL, O_QUOTA},
                {"cpu-shares", required_argument, NULL, 'c'},
                {"cpus", required_argument, NULL, O_CPUS},
                {"cpuset-cpus", required_argument, NULL, O_CPUSET_CPUS},
                {"cpuset-mems", required_argument, NULL, O_CPUSET_MEMS},
                {"memory", required_argument, NULL, 'm'},
                {"memory-reservation", required_argument, NULL, O_RES},
                {"memory-swap", required_argument, NULL, O_SWAP},
                {"pids-limit", required_argument, NULL, O_PIDS},
                {"restart", required_argument, NULL, O_RESTART},
                {"help", no_argument, NULL, 'h'},
                {0}};
        int c, r = 0;
        int64_t nano;
        while (r == 0 && (c = getopt_long(argc, argv, "c:m:h", opts, NULL)) != -1) {
                switch (c) {
                case O_PERIOD:
                        r = int_flag("--cpu-period", optarg, 0, ch, "CpuPeriod", err);
                        break;
                case O_QUOTA:
                        r = int_flag("--cpu-quota", optarg, -1, ch, "CpuQuota", err);
                        break;
                case 'c':
                        r = int_flag("--cpu-shares", optarg, 0, ch, "CpuShares", err);
                        break;
                case O_CPUS:
                        if (berth_parse_cpus(optarg, "--cpus", &nano, err) < 0) {
                                berth_error_release(err);
                                return bad_value("--cpus", optarg, "not a number of CPUs", err);
                        }
                        json_object_set_new(ch, "NanoCpus", json_integer(nano));
                        break;
                case O_CPUSET_CPUS:
                case O_CPUSET_MEMS:
                        json_object_set_new(ch, c == O_CPUSET_CPUS ? "CpusetCpus" : "CpusetMems",
                                            json_string(optarg));
                        break;
                case 'm':
                        r = bytes_flag("--memory", optarg, false, ch, "Memory", err);
                        break;
                case O_RES:
                        r = bytes_flag("--memory-reservation", optarg, false, ch,
                                       "MemoryReservation", err);
                        break;
                case O_SWAP:
                        r = bytes_flag("--memory-swap", optarg, true, ch, "MemorySwap", err);
                        break;
                case O_PIDS:
                        r = int_flag("--pids-limit", optarg, -1, ch, "PidsLimit", err);
                        break;
                case O_RESTART:
                        r = restart_flag(optarg, ch, err);
                        break;
                case 'h':
                        usage();
                        return 0;
                default:
                        return cli_usage_error(err, "update", "invalid option");
                }
        }
        if (r < 0)
                return -1;
        if (optind >= argc)
                return cli_usage_error(err, "update",
                                       "\"berth update\" requires at least 1 argument");
        if (json_object_size(ch) == 0)
                /* the docker CLI's own refusal: status 1 */
                return berth_fail_status(err, 1, 0,
                                         "you must provide one or more flags when using this "
                                         "command");
        return cli_for_each_container(g, argv + optind, argc - optind, do_update, ch, true, err);
}

int cmd_update(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        json_t *ch = json_object();
        int r = update_main(g, argc, argv, ch, err);
        json_decref(ch);
        return r;
}
