/* runflags.c — argv of `berth run`/`berth create` → Config/HostConfig (see runflags.h).
 *
 * The flag table mirrors Docker's names and shorthands; the argv walk follows the rules of the
 * pflag library Docker's CLI uses (so `-dit`, `-eA=1`, `-e=A=1`, `--name=x` and `--name x` all
 * work and a flag after the IMAGE belongs to the command).  Each value is applied to the JSON as
 * it is read; what depends on several flags is checked once at the end (finish()). */
#include "engine/runflags.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/units.h"
#include "common/util.h"
#include "engine/caps.h"
#include "engine/runflags_internal.h"

enum fid {
        F_DETACH,
        F_INTERACTIVE,
        F_TTY,
        F_RM,
        F_NAME,
        F_ENV,
        F_ENV_FILE,
        F_WORKDIR,
        F_USER,
        F_ENTRYPOINT,
        F_VOLUME,
        F_MOUNT,
        F_TMPFS,
        F_READ_ONLY,
        F_HOSTNAME,
        F_MEMORY,
        F_MEMORY_SWAP,
        F_MEMORY_RES,
        F_CPUS,
        F_CPU_SHARES,
        F_CPU_PERIOD,
        F_CPU_QUOTA,
        F_CPUSET_CPUS,
        F_CPUSET_MEMS,
        F_PIDS_LIMIT,
        F_DEVICE,
        F_CAP_ADD,
        F_CAP_DROP,
        F_PRIVILEGED,
        F_SECURITY_OPT,
        F_USERNS,
        F_ULIMIT,
        F_INIT,
        F_STOP_SIGNAL,
        F_STOP_TIMEOUT,
        F_RESTART,
        F_LABEL,
        F_LABEL_FILE,
        F_LOG_DRIVER,
        F_LOG_OPT,
        F_NETWORK,
        F_NETWORK_ALIAS,
        F_IP,
        F_IP6,
        F_MAC_ADDRESS,
        F_IPC,
        F_PID,
        F_UTS,
        F_SIG_PROXY,
        F_DETACH_KEYS,
        F_HEALTH_CMD,
        F_HEALTH_INTERVAL,
        F_HEALTH_TIMEOUT,
        F_HEALTH_RETRIES,
        F_HEALTH_START,
        F_NO_HEALTHCHECK,
        F_OOM_KILL_DISABLE,
        F_OOM_SCORE_ADJ,
        F_SHM_SIZE,
        F_SYSCTL,
        F_GROUP_ADD,
        F_PUBLISH,
        F_PUBLISH_ALL,
        F_EXPOSE,
        F_ADD_HOST,
        F_LINK,
        F_DNS,
        F_DNS_SEARCH,
        F_DNS_OPTION,
        F_PLATFORM,
        F_PULL,
        F_QUIET,
        F_VOLUMES_FROM,
        F_CIDFILE,
        F_ATTACH,
        F_CGROUPNS,
        F_DOMAINNAME,
        F_ANNOTATION,
        F_BLKIO_WEIGHT,
        F_BLKIO_WEIGHT_DEVICE,
        F_DEVICE_READ_BPS,
        F_DEVICE_WRITE_BPS,
        F_DEVICE_READ_IOPS,
        F_DEVICE_WRITE_IOPS,
        F_STORAGE_OPT,
        F_COUNT
};

struct flag_def {
        const char *name;
        char shorthand;
        bool is_bool;
        bool run_only; /* `docker create` has no such flag */
        enum fid id;
};

static const struct flag_def flags[] = {
        {"detach", 'd', true, true, F_DETACH},
        {"interactive", 'i', true, false, F_INTERACTIVE},
        {"tty", 't', true, false, F_TTY},
        {"rm", 0, true, false, F_RM},
        {"name", 0, false, false, F_NAME},
        {"env", 'e', false, false, F_ENV},
        {"env-file", 0, false, false, F_ENV_FILE},
        {"workdir", 'w', false, false, F_WORKDIR},
        {"user", 'u', false, false, F_USER},
        {"entrypoint", 0, false, false, F_ENTRYPOINT},
        {"volume", 'v', false, false, F_VOLUME},
        {"mount", 0, false, false, F_MOUNT},
        {"tmpfs", 0, false, false, F_TMPFS},
        {"read-only", 0, true, false, F_READ_ONLY},
        {"hostname", 'h', false, false, F_HOSTNAME},
        {"memory", 'm', false, false, F_MEMORY},
        {"memory-swap", 0, false, false, F_MEMORY_SWAP},
        {"memory-reservation", 0, false, false, F_MEMORY_RES},
        {"cpus", 0, false, false, F_CPUS},
        {"cpu-shares", 'c', false, false, F_CPU_SHARES},
        {"cpu-period", 0, false, false, F_CPU_PERIOD},
        {"cpu-quota", 0, false, false, F_CPU_QUOTA},
        {"cpuset-cpus", 0, false, false, F_CPUSET_CPUS},
        {"cpuset-mems", 0, false, false, F_CPUSET_MEMS},
        {"pids-limit", 0, false, false, F_PIDS_LIMIT},
        {"device", 0, false, false, F_DEVICE},
        {"cap-add", 0, false, false, F_CAP_ADD},
        {"cap-drop", 0, false, false, F_CAP_DROP},
        {"privileged", 0, true, false, F_PRIVILEGED},
        {"security-opt", 0, false, false, F_SECURITY_OPT},
        {"userns", 0, false, false, F_USERNS},
        {"ulimit", 0, false, false, F_ULIMIT},
        {"init", 0, true, false, F_INIT},
        {"stop-signal", 0, false, false, F_STOP_SIGNAL},
        {"stop-timeout", 0, false, false, F_STOP_TIMEOUT},
        {"restart", 0, false, false, F_RESTART},
        {"label", 'l', false, false, F_LABEL},
        {"label-file", 0, false, false, F_LABEL_FILE},
        {"log-driver", 0, false, false, F_LOG_DRIVER},
        {"log-opt", 0, false, false, F_LOG_OPT},
        {"network", 0, false, false, F_NETWORK},
        {"net", 0, false, false, F_NETWORK},
        {"network-alias", 0, false, false, F_NETWORK_ALIAS},
        {"net-alias", 0, false, false, F_NETWORK_ALIAS},
        {"ip", 0, false, false, F_IP},
        {"ip6", 0, false, false, F_IP6},
        {"mac-address", 0, false, false, F_MAC_ADDRESS},
        {"ipc", 0, false, false, F_IPC},
        {"pid", 0, false, false, F_PID},
        {"uts", 0, false, false, F_UTS},
        {"sig-proxy", 0, true, true, F_SIG_PROXY},
        {"detach-keys", 0, false, true, F_DETACH_KEYS},
        {"health-cmd", 0, false, false, F_HEALTH_CMD},
        {"health-interval", 0, false, false, F_HEALTH_INTERVAL},
        {"health-timeout", 0, false, false, F_HEALTH_TIMEOUT},
        {"health-retries", 0, false, false, F_HEALTH_RETRIES},
        {"health-start-period", 0, false, false, F_HEALTH_START},
        {"no-healthcheck", 0, true, false, F_NO_HEALTHCHECK},
        {"oom-kill-disable", 0, true, false, F_OOM_KILL_DISABLE},
        {"oom-score-adj", 0, false, false, F_OOM_SCORE_ADJ},
        {"shm-size", 0, false, false, F_SHM_SIZE},
        {"sysctl", 0, false, false, F_SYSCTL},
        {"group-add", 0, false, false, F_GROUP_ADD},
        {"publish", 'p', false, false, F_PUBLISH},
        {"publish-all", 'P', true, false, F_PUBLISH_ALL},
        {"expose", 0, false, false, F_EXPOSE},
        {"add-host", 0, false, false, F_ADD_HOST},
        {"link", 0, false, false, F_LINK},
        {"dns", 0, false, false, F_DNS},
        {"dns-search", 0, false, false, F_DNS_SEARCH},
        {"dns-option", 0, false, false, F_DNS_OPTION},
        {"platform", 0, false, false, F_PLATFORM},
        {"pull", 0, false, false, F_PULL},
        {"quiet", 'q', true, false, F_QUIET},
        {"volumes-from", 0, false, false, F_VOLUMES_FROM},
        {"cidfile", 0, false, false, F_CIDFILE},
        {"attach", 'a', false, false, F_ATTACH},
        {"cgroupns", 0, false, false, F_CGROUPNS},
        {"domainname", 0, false, false, F_DOMAINNAME},
        {"annotation", 0, false, false, F_ANNOTATION},
        {"blkio-weight", 0, false, false, F_BLKIO_WEIGHT},
        {"blkio-weight-device", 0, false, false, F_BLKIO_WEIGHT_DEVICE},
        {"device-read-bps", 0, false, false, F_DEVICE_READ_BPS},
        {"device-write-bps", 0, false, false, F_DEVICE_WRITE_BPS},
        {"device-read-iops", 0, false, false, F_DEVICE_READ_IOPS},
        {"device-write-iops", 0, false, false, F_DEVICE_WRITE_IOPS},
        {"storage-opt", 0, false, false, F_STORAGE_OPT},
};

struct rf {
        const char *cmd; /* "run" or "create", for messages */
        enum eng_run_mode mode;
        json_t *cfg, *hc;
        struct eng_run_cli *cli;
        bool set[F_COUNT];
        json_t *env, *env_files, *labels, *label_files; /* in order, merged at the end */
        json_t *health;                                 /* Healthcheck fields as they come */
        json_t *endpoint; /* EndpointSettings of the --network: Aliases, IPAMConfig, MacAddress */
        bool attach[3];   /* -a stdin, stdout, stderr */
};

static int bad_value(berth_error_t *err, const struct flag_def *d, const char *val, const char *why)
{
        char sh[8] = "";
        if (d->shorthand)
                snprintf(sh, sizeof(sh), "-%c, ", d->shorthand);
        return berth_fail_status(err, 125, 0, "invalid argument \"%s\" for \"%s--%s\" flag: %s",
                                 val, sh, d->name, why);
}

/* A unit parser's own message is good; it only needs Docker's exit status in every case. */
static int as_usage(berth_error_t *err)
{
        if (err && *err) {
                if ((*err)->status == 0)
                        (*err)->status = 125;
                (*err)->errnum = 0; /* "…: Invalid argument" adds nothing to a usage message */
        }
        return -1;
}

static int parse_bool(const char *s, bool *out)
{
        static const char *const yes[] = {"1", "t", "T", "true", "TRUE", "True"};
        static const char *const no[] = {"0", "f", "F", "false", "FALSE", "False"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(yes); i++) {
                if (strcmp(s, yes[i]) == 0)
                        return *out = true, 0;
                if (strcmp(s, no[i]) == 0)
                        return *out = false, 0;
        }
        return -1;
}

static int parse_int(const char *s, long long min, long long max, long long *out)
{
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (*s == '\0' || *end != '\0' || errno || v < min || v > max)
                return -1;
        *out = v;
        return 0;
}

static void set_bool(json_t *o, const char *k, bool v)
{
        json_object_set_new(o, k, json_boolean(v));
}

static void set_int(json_t *o, const char *k, long long v)
{
        json_object_set_new(o, k, json_integer(v));
}

static void set_str(json_t *o, const char *k, const char *v)
{
        json_object_set_new(o, k, json_string(v));
}

/* HostConfig.<key> as an array, created on first use (Docker shows null until then). */
static json_t *arr_of(json_t *o, const char *k)
{
        json_t *a = json_object_get(o, k);
        if (!json_is_array(a)) {
                a = json_array();
                json_object_set_new(o, k, a);
        }
        return a;
}

static json_t *obj_of(json_t *o, const char *k)
{
        json_t *a = json_object_get(o, k);
        if (!json_is_object(a)) {
                a = json_object();
                json_object_set_new(o, k, a);
        }
        return a;
}

/* Why Docker's size parser (go-units' RAMInBytes) refuses val, in its words: the number is
 * what ends with the last digit, dot or space, the suffix what follows. */
static char *docker_size_why(const char *val)
{
        const char *sep = NULL;
        for (const char *p = val; *p; p++)
                if (strchr("0123456789. ", *p))
                        sep = p;
        if (sep == NULL)
                return berth_xasprintf("invalid size: '%s'", val);
        size_t nlen = (size_t) (sep - val) + (*sep == ' ' ? 0 : 1);
        const char *sfx = sep + 1;
        char *num = rf_strndup(val, nlen), *end;
        errno = 0;
        double v = strtod(num, &end);
        bool bad = nlen == 0 || *end != '\0' ||
                   !(isdigit((unsigned char) *num) || *num == '.' || *num == '-' || *num == '+');
        char *why;
        if (bad)
                why = berth_xasprintf("strconv.ParseFloat: parsing \"%s\": invalid syntax", num);
        else if (v < 0)
                why = berth_xasprintf("invalid size: '%s'", val);
        else if (strlen(sfx) > 3)
                why = berth_xasprintf("invalid suffix: '%s'", sfx);
        else {
                char low[4] = "";
                for (size_t i = 0; sfx[i]; i++)
                        low[i] = (char) tolower((unsigned char) sfx[i]);
                why = berth_xasprintf("invalid suffix: '%s'", low);
        }
        free(num);
        return why;
}

static int bytes_flag(const struct flag_def *d, const char *val, int64_t *out, berth_error_t *err)
{
        char what[40];
        snprintf(what, sizeof(what), "--%s", d->name);
        if (berth_parse_bytes(val, what, out, err) < 0) {
                if (err && *err && (*err)->errnum == EINVAL) {
                        /* not a size at all: Docker's words */
                        berth_error_release(err);
                        cleanup_free char *why = docker_size_why(val);
                        return bad_value(err, d, val, why);
                }
                return as_usage(err);
        }
        return 0;
}

/* Docker's words for a capability it does not know: upper-cased, with its CAP_ prefix. */
static int unknown_cap(berth_error_t *err, bool add, const char *val)
{
        cleanup_free char *up = berth_xstrdup(val);
        for (char *p = up; *p; p++)
                *p = (char) toupper((unsigned char) *p);
        return berth_fail_status(err, RF_EXIT_DAEMON, 0, "invalid %s: unknown capability: \"%s%s\"",
                                 add ? "CapAdd" : "CapDrop",
                                 strncmp(up, "CAP_", 4) == 0 ? "" : "CAP_", up);
}

static int duration_flag(struct rf *s, const struct flag_def *d, const char *val, const char *key,
                         berth_error_t *err)
{
        char what[40];
        int64_t ns;
        snprintf(what, sizeof(what), "--%s", d->name);
        if (berth_parse_duration(val, what, &ns, err) < 0) {
                /* a negative duration: the CLI's own sentence */
                int64_t pos;
                berth_error_t perr = NULL;
                if (val[0] == '-' && berth_parse_duration(val + 1, what, &pos, &perr) == 0) {
                        berth_error_release(err);
                        return berth_fail_status(err, 125, 0, "--%s cannot be negative", d->name);
                }
                berth_error_release(&perr);
                return as_usage(err);
        }
        set_int(s->health, key, ns);
        return 0;
}

/* Docker's `--network`, `--ipc`, `--pid`, `--uts` modes. */
static int ns_mode(const struct flag_def *d, const char *val, const char *const *allowed,
                   bool container_ok, berth_error_t *err)
{
        for (size_t i = 0; allowed[i]; i++)
                if (strcmp(val, allowed[i]) == 0)
                        return 0;
        if (container_ok && berth_str_has_prefix(val, "container:") && val[10] != '\0')
                return 0;
        return bad_value(err, d, val, "invalid mode");
}

static int apply_network(struct rf *s, const struct flag_def *d, const char *val,
                         berth_error_t *err)
{
        if (*val == '\0')
                return bad_value(err, d, val, "network name must not be empty");
        if (berth_str_has_prefix(val, "container:") && val[10] == '\0')
                return bad_value(err, d, val, "container name must not be empty");
        /* a network's name is checked against the records when the container is created */
        set_str(s->hc, "NetworkMode", val);
        return 0;
}

static int apply(struct rf *s, const struct flag_def *d, const char *val, berth_error_t *err)
{
        json_t *cfg = s->cfg, *hc = s->hc;
        struct eng_run_cli *cli = s->cli;
        int64_t n64;
        long long ll;
        bool b = false;

        if (d->is_bool && parse_bool(val, &b) < 0)
                return bad_value(err, d, val, "expected true or false");
        s->set[d->id] = true;

        switch (d->id) {
        case F_DETACH:
                cli->detach = b;
                break;
        case F_INTERACTIVE:
                cli->interactive = b;
                break;
        case F_TTY:
                cli->tty = b;
                break;
        case F_RM:
                cli->rm = b;
                break;
        case F_SIG_PROXY:
                cli->sig_proxy = b;
                break;
        case F_QUIET:
                cli->quiet = b;
                break;
        case F_READ_ONLY:
                set_bool(hc, "ReadonlyRootfs", b);
                break;
        case F_PRIVILEGED:
                set_bool(hc, "Privileged", b);
                break;
        case F_INIT:
                set_bool(hc, "Init", b);
                break;
        case F_OOM_KILL_DISABLE:
                set_bool(hc, "OomKillDisable", b);
                break;
        case F_PUBLISH_ALL:
                set_bool(hc, "PublishAllPorts", b);
                break;
        case F_NO_HEALTHCHECK:
                s->set[d->id] = b;
                break;
        case F_NAME:
                if (!rf_valid_name(val))
                        return berth_fail_status(err, RF_EXIT_DAEMON, 0,
                                                 "Invalid container name (%s), only "
                                                 "[a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
                                                 val);
                free(cli->name);
                cli->name = berth_xstrdup(val);
                break;
        case F_ENV:
                if (*val == '\0' || *val == '=') {
                        cleanup_free char *why =
                                berth_xasprintf("invalid environment variable: %s", val);
                        return bad_value(err, d, val, why);
                }
                json_array_append_new(s->env, json_string(val));
                break;
        case F_ENV_FILE:
                json_array_append_new(s->env_files, json_string(val));
                break;
        case F_LABEL:
                if (*val == '\0' || *val == '=')
                        return bad_value(err, d, val, "invalid label");
                json_array_append_new(s->labels, json_string(val));
                break;
        case F_LABEL_FILE:
                json_array_append_new(s->label_files, json_string(val));
                break;
        case F_WORKDIR:
                if (*val != '/')
                        return berth_fail_status(err, RF_EXIT_DAEMON, 0,
                                                 "the working directory '%s' is invalid, it needs "
                                                 "to be an absolute path",
                                                 val);
                set_str(cfg, "WorkingDir", val);
                break;
        case F_USER:
                if (*val == '\0' || *val == ':')
                        return bad_value(err, d, val, "invalid user");
                set_str(cfg, "User", val);
                break;
        case F_ENTRYPOINT: {
                /* `--entrypoint ""` resets the image's entrypoint, as Docker's [""] does */
                json_t *ep = json_array();
                json_array_append_new(ep, json_string(val));
                json_object_set_new(cfg, "Entrypoint", ep);
                break;
        }
        case F_VOLUME:
                return rf_parse_volume(val, arr_of(hc, "Binds"), obj_of(cfg, "Volumes"), err);
        case F_MOUNT:
                return rf_parse_mount(val, arr_of(hc, "Mounts"), err);
        case F_TMPFS:
                return rf_parse_tmpfs(val, obj_of(hc, "Tmpfs"), err);
        case F_HOSTNAME:
                if (strlen(val) > 63 || *val == '-' ||
                    strspn(val, "abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                "0123456789-.") != strlen(val))
                        return bad_value(err, d, val, "invalid hostname");
                set_str(cfg, "Hostname", val);
                break;
        case F_MEMORY:
                if (bytes_flag(d, val, &n64, err) < 0)
                        return -1;
                set_int(hc, "Memory", n64);
                break;
        case F_MEMORY_SWAP:
                if (strcmp(val, "-1") == 0)
                        n64 = -1;
                else if (bytes_flag(d, val, &n64, err) < 0)
                        return -1;
                set_int(hc, "MemorySwap", n64);
                break;
        case F_MEMORY_RES:
                if (bytes_flag(d, val, &n64, err) < 0)
                        return -1;
                set_int(hc, "MemoryReservation", n64);
                break;
        case F_SHM_SIZE:
                if (bytes_flag(d, val, &n64, err) < 0)
                        return -1;
                if (n64 <= 0)
                        return bad_value(err, d, val, "must be greater than 0");
                set_int(hc, "ShmSize", n64);
                break;
        case F_CPUS:
                if (berth_parse_cpus(val, "--cpus", &n64, err) < 0) {
                        char *end;
                        (void) strtod(val, &end);
                        if (err && *err && (*err)->errnum == EINVAL && (end == val || *end)) {
                                /* not a number: Docker's words (a big.Rat's parse) */
                                berth_error_release(err);
                                cleanup_free char *why = berth_xasprintf(
                                        "failed to parse %s as a rational number", val);
                                return bad_value(err, d, val, why);
                        }
                        return as_usage(err);
                }
                set_int(hc, "NanoCpus", n64);
                break;
        case F_CPU_SHARES:
                if (parse_int(val, 0, 262144, &ll) < 0)
                        return bad_value(err, d, val, "expected an integer from 0 to 262144");
                set_int(hc, "CpuShares", ll);
                break;
        case F_CPU_PERIOD:
                if (parse_int(val, 0, 1000000, &ll) < 0 || (ll != 0 && ll < 1000))
                        return bad_value(err, d, val,
                                         "CPU cfs period can not be less than 1ms (i.e. 1000) "
                                         "or larger than 1s (i.e. 1000000)");
                set_int(hc, "CpuPeriod", ll);
                break;
        case F_CPU_QUOTA:
                if (parse_int(val, -1, INT64_MAX, &ll) < 0 || (ll > 0 && ll < 1000))
                        return bad_value(err, d, val,
                                         "CPU cfs quota can not be less than 1ms (i.e. 1000)");
                set_int(hc, "CpuQuota", ll);
                break;
        case F_CPUSET_CPUS:
        case F_CPUSET_MEMS:
                if (!rf_valid_cpuset(val))
                        return bad_value(err, d, val, "expected a list such as 0-3,5");
                set_str(hc, d->id == F_CPUSET_CPUS ? "CpusetCpus" : "CpusetMems", val);
                break;
        case F_PIDS_LIMIT:
                if (parse_int(val, INT64_MIN, INT64_MAX, &ll) < 0)
                        return bad_value(err, d, val, "expected an integer");
                /* Docker: 0 and negatives mean unlimited */
                set_int(hc, "PidsLimit", ll <= 0 ? -1 : ll);
                break;
        case F_DEVICE:
                return rf_parse_device(val, arr_of(hc, "Devices"), err);
        case F_CAP_ADD:
        case F_CAP_DROP: {
                const char *c = eng_cap_normalize(val);
                if (c == NULL)
                        return unknown_cap(err, d->id == F_CAP_ADD, val);
                json_array_append_new(arr_of(hc, d->id == F_CAP_ADD ? "CapAdd" : "CapDrop"),
                                      json_string(c));
                break;
        }
        case F_SECURITY_OPT:
                return rf_parse_security_opt(val, arr_of(hc, "SecurityOpt"), err);
        case F_USERNS:
                if (*val != '\0' && strcmp(val, "host") != 0)
                        return berth_fail_status(err, 125, 0, "--userns: invalid USER mode");
                set_str(hc, "UsernsMode", val);
                break;
        case F_ULIMIT:
                if (rf_parse_ulimit(val, arr_of(hc, "Ulimits"), err) < 0)
                        return berth_wrap(err, "invalid argument \"%s\" for \"--ulimit\" flag",
                                          val); /* "…: invalid ulimit type: x", as pflag says */
                break;
        case F_STOP_SIGNAL:
                if (rf_signal_number(val) < 0)
                        return berth_fail_status(err, RF_EXIT_DAEMON, 0, "Invalid signal: %s", val);
                set_str(cfg, "StopSignal", val);
                break;
        case F_STOP_TIMEOUT:
                if (parse_int(val, INT_MIN, INT_MAX, &ll) < 0)
                        return bad_value(err, d, val, "expected an integer number of seconds");
                set_int(cfg, "StopTimeout", ll);
                break;
        case F_RESTART: {
                json_t *p = NULL;
                if (rf_parse_restart(val, &p, err) < 0)
                        return -1;
                json_object_set_new(hc, "RestartPolicy", p);
                break;
        }
        case F_LOG_DRIVER:
                if (strcmp(val, "json-file") != 0 && strcmp(val, "none") != 0 &&
                    !rf_docker_log_driver(val)) /* dockerd's words for a name it lacks too */
                        return berth_fail_status(err, RF_EXIT_DAEMON, 0,
                                                 "error looking up logging plugin %s: plugin "
                                                 "\"%s\" not found",
                                                 val, val);
                if (strcmp(val, "json-file") != 0 && strcmp(val, "none") != 0)
                        return berth_fail_status(err, RF_EXIT_DAEMON, 0,
                                                 "logging driver \"%s\" is not supported: berth "
                                                 "has json-file and none",
                                                 val);
                set_str(json_object_get(hc, "LogConfig"), "Type", val);
                break;
        case F_LOG_OPT: {
                const char *eq = strchr(val, '=');
                if (eq == NULL || eq == val)
                        return bad_value(err, d, val, "expected KEY=VALUE");
                cleanup_free char *k = rf_strndup(val, (size_t) (eq - val));
                json_object_set_new(obj_of(json_object_get(hc, "LogConfig"), "Config"), k,
                                    json_string(eq + 1));
                break;
        }
        case F_NETWORK_ALIAS:
                json_array_append_new(arr_of(s->endpoint, "Aliases"), json_string(val));
                break;
        case F_IP:
        case F_IP6: {
                bool v6 = d->id == F_IP6;
                struct in6_addr a;
                if (inet_pton(v6 ? AF_INET6 : AF_INET, val, &a) != 1)
                        return berth_fail_status(err, 125, 0, "invalid IP%s address: %s",
                                                 v6 ? "v6" : "v4", val);
                set_str(obj_of(s->endpoint, "IPAMConfig"), v6 ? "IPv6Address" : "IPv4Address", val);
                break;
        }
        case F_MAC_ADDRESS: {
                unsigned m[6];
                char tail;
                if (sscanf(val, "%2x:%2x:%2x:%2x:%2x:%2x%c", &m[0], &m[1], &m[2], &m[3], &m[4],
                           &m[5], &tail) != 6)
                        return berth_fail_status(err, 125, 0, "%s is not a valid mac address", val);
                set_str(s->endpoint, "MacAddress", val);
                set_str(cfg, "MacAddress", val);
                break;
        }
        case F_NETWORK:
                return apply_network(s, d, val, err);
        case F_IPC: {
                static const char *const ok[] = {"", "none", "private", "shareable", "host", NULL};
                if (ns_mode(d, val, ok, true, err) < 0)
                        return -1;
                set_str(hc, "IpcMode", val);
                break;
        }
        case F_PID: {
                static const char *const ok[] = {"", "host", NULL};
                if (ns_mode(d, val, ok, true, err) < 0)
                        return -1;
                set_str(hc, "PidMode", val);
                break;
        }
        case F_UTS: {
                static const char *const ok[] = {"", "host", NULL};
                if (ns_mode(d, val, ok, false, err) < 0)
                        return -1;
                set_str(hc, "UTSMode", val);
                break;
        }
        case F_DETACH_KEYS:
                free(cli->detach_keys);
                cli->detach_keys = berth_xstrdup(val);
                break;
        case F_HEALTH_CMD: {
                json_t *t = json_array();
                json_array_append_new(t, json_string("CMD-SHELL"));
                json_array_append_new(t, json_string(val));
                json_object_set_new(s->health, "Test", t);
                break;
        }
        case F_HEALTH_INTERVAL:
                return duration_flag(s, d, val, "Interval", err);
        case F_HEALTH_TIMEOUT:
                return duration_flag(s, d, val, "Timeout", err);
        case F_HEALTH_START:
                return duration_flag(s, d, val, "StartPeriod", err);
        case F_HEALTH_RETRIES:
                if (parse_int(val, INT_MIN, INT_MAX, &ll) < 0)
                        return bad_value(err, d, val, "expected an integer");
                if (ll < 0)
                        return berth_fail_status(err, 125, 0,
                                                 "--health-retries cannot be negative");
                set_int(s->health, "Retries", ll);
                break;
        case F_OOM_SCORE_ADJ:
                if (parse_int(val, INT_MIN, INT_MAX, &ll) < 0)
                        return bad_value(err, d, val, "expected an integer");
                if (ll < -1000 || ll > 1000)
                        return berth_fail_status(err, RF_EXIT_DAEMON, 0,
                                                 "Invalid value %lld, range for oom score adj is "
                                                 "[-1000, 1000]",
                                                 ll);
                set_int(hc, "OomScoreAdj", ll);
                break;
        case F_SYSCTL: {
                const char *eq = strchr(val, '=');
                if (eq == NULL || eq == val)
                        return bad_value(err, d, val, "expected KEY=VALUE");
                cleanup_free char *k = rf_strndup(val, (size_t) (eq - val));
                if (rf_check_sysctl(k, err) < 0) {
                        /* the CLI's flag check, which quotes the whole KEY=VALUE */
                        berth_error_release(err);
                        cleanup_free char *why = berth_xasprintf("sysctl '%s' is not allowed", val);
                        return bad_value(err, d, val, why);
                }
                json_object_set_new(obj_of(hc, "Sysctls"), k, json_string(eq + 1));
                break;
        }
        case F_GROUP_ADD:
                if (*val == '\0')
                        return bad_value(err, d, val, "group must not be empty");
                json_array_append_new(arr_of(hc, "GroupAdd"), json_string(val));
                break;
        case F_PUBLISH:
                return rf_parse_publish(val, obj_of(cfg, "ExposedPorts"),
                                        obj_of(hc, "PortBindings"), err);
        case F_EXPOSE:
                return rf_parse_expose(val, obj_of(cfg, "ExposedPorts"), err);
        case F_ADD_HOST: {
                /* host:ip or host=ip; the ip may itself hold colons (IPv6) */
                const char *sep = strchr(val, '=');
                if (sep == NULL)
                        sep = strchr(val, ':');
                if (sep == NULL || sep == val || sep[1] == '\0') {
                        cleanup_free char *why =
                                berth_xasprintf("bad format for add-host: \"%s\"", val);
                        return bad_value(err, d, val, why);
                }
                cleanup_free char *host = rf_strndup(val, (size_t) (sep - val));
                const char *ip = sep + 1;
                if (strcmp(ip, "host-gateway") != 0 && !rf_valid_ip(ip)) {
                        cleanup_free char *why =
                                berth_xasprintf("invalid IP address in add-host: \"%s\"", ip);
                        return bad_value(err, d, val, why);
                }
                cleanup_free char *entry = berth_xasprintf("%s:%s", host, ip);
                json_array_append_new(arr_of(hc, "ExtraHosts"), json_string(entry));
                break;
        }
        case F_LINK: {
                /* NAME[:ALIAS]; the name is checked at create (engine/links.h) */
                const char *colon = strchr(val, ':');
                if (*val == '\0' || colon == val ||
                    (colon && (colon[1] == '\0' || strchr(colon + 1, ':'))))
                        return berth_fail_status(err, 125, 0,
                                                 "invalid argument \"%s\" for \"--link\" flag: "
                                                 "bad format for links: %s",
                                                 val, val);
                json_array_append_new(arr_of(hc, "Links"), json_string(val));
                break;
        }
        case F_DNS:
                if (!rf_valid_ip(val)) {
                        cleanup_free char *why =
                                berth_xasprintf("IP address is not correctly formatted: %s", val);
                        return bad_value(err, d, val, why);
                }
                json_array_append_new(arr_of(hc, "Dns"), json_string(val));
                break;
        case F_DNS_SEARCH:
                json_array_append_new(arr_of(hc, "DnsSearch"), json_string(val));
                break;
        case F_DNS_OPTION:
                json_array_append_new(arr_of(hc, "DnsOptions"), json_string(val));
                break;
        case F_PLATFORM:
                if (strcmp(val, "linux/amd64") != 0 && strcmp(val, "linux/x86_64") != 0 &&
                    strcmp(val, "amd64") != 0 && strcmp(val, "linux") != 0)
                        return berth_fail_status(err, 125, 0,
                                                 "platform \"%s\" is not supported: berth runs "
                                                 "linux/amd64 containers only",
                                                 val);
                free(cli->platform);
                cli->platform = berth_xstrdup(val);
                break;
        case F_PULL:
                if (strcmp(val, "missing") != 0 && strcmp(val, "always") != 0 &&
                    strcmp(val, "never") != 0)
                        return berth_fail_status(err, 125, 0,
                                                 "invalid pull option: '%s': must be one of "
                                                 "\"always\", \"missing\" or \"never\"",
                                                 val);
                free(cli->pull);
                cli->pull = berth_xstrdup(val);
                break;
        case F_VOLUMES_FROM:
                /* the container and the mode are checked when the mounts are built (create
                 * time, as Docker's daemon does), so the Engine API gets the same checks */
                json_array_append_new(arr_of(hc, "VolumesFrom"), json_string(val));
                break;
        case F_CIDFILE:
                /* written by the front-end once the container exists (cmd_run.c) */
                set_str(hc, "ContainerIDFile", val);
                break;
        case F_ATTACH: {
                static const char *const streams[] = {"stdin", "stdout", "stderr"};
                size_t k = 0;
                while (k < 3 && strcasecmp(val, streams[k]) != 0)
                        k++;
                if (k == 3)
                        return bad_value(err, d, val, "valid streams are STDIN, STDOUT and STDERR");
                s->attach[k] = true;
                break;
        }
        case F_CGROUPNS:
                if (*val != '\0' && strcmp(val, "host") != 0 && strcmp(val, "private") != 0)
                        return berth_fail_status(err, 125, 0, "--cgroupns: invalid CGROUP mode");
                set_str(hc, "CgroupnsMode", val);
                break;
        case F_DOMAINNAME:
                set_str(cfg, "Domainname", val);
                break;
        case F_ANNOTATION: {
                const char *eq = strchr(val, '=');
                if (eq == val || *val == '\0')
                        return bad_value(err, d, val, "annotation key must not be empty");
                cleanup_free char *k =
                        eq ? rf_strndup(val, (size_t) (eq - val)) : berth_xstrdup(val);
                json_object_set_new(obj_of(hc, "Annotations"), k, json_string(eq ? eq + 1 : ""));
                break;
        }
        case F_BLKIO_WEIGHT: {
                const char *why = NULL;
                if (rf_parse_uint16(val, &ll, &why) < 0) {
                        cleanup_free char *msg =
                                berth_xasprintf("strconv.ParseUint: parsing \"%s\": %s", val, why);
                        return bad_value(err, d, val, msg);
                }
                set_int(hc, "BlkioWeight", ll);
                break;
        }
        case F_BLKIO_WEIGHT_DEVICE:
                return rf_parse_weight_device(val, d->name, arr_of(hc, "BlkioWeightDevice"), err);
        case F_DEVICE_READ_BPS:
        case F_DEVICE_WRITE_BPS:
        case F_DEVICE_READ_IOPS:
        case F_DEVICE_WRITE_IOPS: {
                static const char *const keys[] = {"BlkioDeviceReadBps", "BlkioDeviceWriteBps",
                                                   "BlkioDeviceReadIOps", "BlkioDeviceWriteIOps"};
                int k = (int) (d->id - F_DEVICE_READ_BPS);
                return rf_parse_throttle_device(val, d->name, k >= 2, arr_of(hc, keys[k]), err);
        }
        case F_STORAGE_OPT: {
                const char *eq = strchr(val, '=');
                if (eq == NULL)
                        return berth_fail_status(err, 125, 0, "invalid storage option");
                cleanup_free char *k = rf_strndup(val, (size_t) (eq - val));
                json_object_set_new(obj_of(hc, "StorageOpt"), k, json_string(eq + 1));
                break;
        }
        case F_COUNT:
                break;
        }
        return 0;
}

/* Docker's Config and HostConfig as a container created with no flags has them. */
static void defaults(struct rf *s)
{
        s->cfg = json_pack("{s:s, s:s, s:s, s:b, s:b, s:b, s:b, s:b, s:b, s:n, s:n, s:s, s:n, "
                           "s:s, s:n, s:n, s:{}}",
                           "Hostname", "", "Domainname", "", "User", "", "AttachStdin", 0,
                           "AttachStdout", 0, "AttachStderr", 0, "Tty", 0, "OpenStdin", 0,
                           "StdinOnce", 0, "Env", "Cmd", "Image", "", "Volumes", "WorkingDir", "",
                           "Entrypoint", "OnBuild", "Labels");
        s->hc = json_pack(
                "{s:n, s:s, s:{s:s, s:{}}, s:s, s:{}, s:{s:s, s:i}, s:b, s:s, s:n, s:n, s:n, "
                "s:s, s:n, s:n, s:n, s:n, s:n, s:s, s:s, s:n, s:i, s:s, s:b, s:b, s:b, s:n, "
                "s:n, s:s, s:s, s:I, s:n, s:s, s:i, s:I, s:I, s:n, s:I, s:I, s:s, s:s, s:n, "
                "s:I, s:I, s:b, s:n, s:n, s:n, s:n, s:b}",
                "Binds", "ContainerIDFile", "", "LogConfig", "Type", "json-file", "Config",
                "NetworkMode", "default", "PortBindings", "RestartPolicy", "Name", "no",
                "MaximumRetryCount", 0, "AutoRemove", 0, "VolumeDriver", "", "VolumesFrom",
                "CapAdd", "CapDrop", "CgroupnsMode", "", "Dns", "DnsOptions", "DnsSearch",
                "ExtraHosts", "GroupAdd", "IpcMode", "private", "Cgroup", "", "Links",
                "OomScoreAdj", 0, "PidMode", "", "Privileged", 0, "PublishAllPorts", 0,
                "ReadonlyRootfs", 0, "SecurityOpt", "StorageOpt", "UTSMode", "", "UsernsMode", "",
                "ShmSize", (json_int_t) 67108864, "Sysctls", "Runtime", "runc", "CpuShares", 0,
                "Memory", (json_int_t) 0, "NanoCpus", (json_int_t) 0, "CgroupParent", "CpuPeriod",
                (json_int_t) 0, "CpuQuota", (json_int_t) 0, "CpusetCpus", "", "CpusetMems", "",
                "Devices", "MemoryReservation", (json_int_t) 0, "MemorySwap", (json_int_t) 0,
                "OomKillDisable", 0, "PidsLimit", "Ulimits", "Tmpfs", "Mounts", "Init", 0);
        /* the block IO lists are [] rather than null: Docker's CLI always sends them */
        set_int(s->hc, "BlkioWeight", 0);
        static const char *const blkio[] = {"BlkioWeightDevice", "BlkioDeviceReadBps",
                                            "BlkioDeviceWriteBps", "BlkioDeviceReadIOps",
                                            "BlkioDeviceWriteIOps"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(blkio); i++)
                json_object_set_new(s->hc, blkio[i], json_array());
        s->env = json_array();
        s->env_files = json_array();
        s->labels = json_array();
        s->label_files = json_array();
        s->health = json_object();
        s->endpoint = json_object();
}

/* Env or label lists: files first, then the flags, as Docker's CLI reads them. */
static int merge_kv(struct rf *s, json_t *files, json_t *flags_list, bool env, json_t **out,
                    berth_error_t *err)
{
        json_t *all = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(files, i, v)
        {
                if (rf_read_kv_file(json_string_value(v), env, all, err) < 0) {
                        json_decref(all);
                        return as_usage(err);
                }
        }
        json_array_foreach(flags_list, i, v)
        {
                const char *e = json_string_value(v);
                if (env && strchr(e, '=') == NULL) {
                        /* -e VAR passes berth's own value; unset stays a bare name (unsets) */
                        const char *hv = getenv(e);
                        if (hv) {
                                json_array_append_new(all, json_sprintf("%s=%s", e, hv));
                                continue;
                        }
                }
                json_array_append(all, v);
        }
        *out = all;
        return 0;
}

static int finish_health(struct rf *s, berth_error_t *err)
{
        bool any = s->set[F_HEALTH_CMD] || s->set[F_HEALTH_INTERVAL] || s->set[F_HEALTH_TIMEOUT] ||
                   s->set[F_HEALTH_RETRIES] || s->set[F_HEALTH_START];
        if (s->set[F_NO_HEALTHCHECK]) {
                if (any)
                        return berth_fail_status(err, 125, 0,
                                                 "--no-healthcheck conflicts with --health-* "
                                                 "options");
                json_object_set_new(s->cfg, "Healthcheck", json_pack("{s:[s]}", "Test", "NONE"));
        } else if (any) {
                json_object_set(s->cfg, "Healthcheck", s->health);
        }
        return 0;
}

static int finish_resources(struct rf *s, berth_error_t *err)
{
        json_t *hc = s->hc;
        int64_t mem = json_integer_value(json_object_get(hc, "Memory"));
        int64_t swap = json_integer_value(json_object_get(hc, "MemorySwap"));
        int64_t res = json_integer_value(json_object_get(hc, "MemoryReservation"));
        if (mem > 0 && mem < 6 * 1024 * 1024)
                return berth_fail_status(err, RF_EXIT_DAEMON, 0,
                                         "Minimum memory limit allowed is 6MB");
        if (s->set[F_MEMORY_SWAP] && swap != 0 && mem == 0)
                return berth_fail_status(err, RF_EXIT_DAEMON, 0,
                                         "You should always set the Memory limit when using "
                                         "Memoryswap limit, see usage");
        if (mem > 0 && swap > 0 && swap < mem)
                return berth_fail_status(err, RF_EXIT_DAEMON, 0,
                                         "Minimum memoryswap limit should be larger than memory "
                                         "limit, see usage");
        if (mem > 0 && res > mem)
                return berth_fail_status(err, RF_EXIT_DAEMON, 0,
                                         "Minimum memory limit can not be less than memory "
                                         "reservation limit, see usage");
        if (mem > 0 && swap == 0) /* Docker's daemon default: as much swap as memory */
                set_int(hc, "MemorySwap", mem > INT64_MAX / 2 ? -1 : mem * 2);

        int64_t nano = json_integer_value(json_object_get(hc, "NanoCpus"));
        if (nano > 0 && s->set[F_CPU_PERIOD])
                return berth_fail_status(err, RF_EXIT_DAEMON, 0,
                                         "Conflicting options: Nano CPUs and CPU Period cannot "
                                         "both be set");
        if (nano > 0 && s->set[F_CPU_QUOTA])
                return berth_fail_status(err, RF_EXIT_DAEMON, 0,
                                         "Conflicting options: Nano CPUs and CPU Quota cannot "
                                         "both be set");
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        if (nano > 0 && ncpu > 0 && nano > (int64_t) ncpu * 1000000000LL)
                return berth_fail_status(err, RF_EXIT_DAEMON, 0,
                                         "Range of CPUs is from 0.01 to %ld.00, as there are "
                                         "only %ld CPUs available",
                                         ncpu, ncpu);
        return 0;
}

static int finish_namespaces(struct rf *s, berth_error_t *err)
{
        json_t *hc = s->hc;
        const char *net = json_string_value(json_object_get(hc, "NetworkMode"));
        const char *ipc = json_string_value(json_object_get(hc, "IpcMode"));
        const char *uts = json_string_value(json_object_get(hc, "UTSMode"));
        bool net_host = strcmp(net, "host") == 0;
        bool net_container = berth_str_has_prefix(net, "container:");
        if ((net_host || net_container) && s->set[F_HOSTNAME])
                return berth_fail_status(err, RF_EXIT_DAEMON, 0,
                                         "Conflicting options: hostname and the network mode");
        if (strcmp(uts, "host") == 0 && s->set[F_HOSTNAME])
                return berth_fail_status(err, RF_EXIT_DAEMON, 0,
                                         "Conflicting options: hostname and the UTS mode");
        /* Docker only warns for host (the ports are discarded); a script that asked for a
         * published port and silently got none is worse than an error */
        if ((net_container || net_host || strcmp(net, "none") == 0) &&
            (s->set[F_PUBLISH] || s->set[F_PUBLISH_ALL]))
                return berth_fail_status(err, RF_EXIT_DAEMON, 0,
                                         "Conflicting options: port publishing and the "
                                         "container type network mode");
        bool own_net = !net_host && !net_container && strcmp(net, "none") != 0;
        if (!own_net && (s->set[F_IP] || s->set[F_IP6] || s->set[F_NETWORK_ALIAS]))
                return berth_fail_status(err, RF_EXIT_DAEMON, 0,
                                         "Conflicting options: ip, ip6 or network-alias and the "
                                         "network mode");
        if (!own_net && s->set[F_MAC_ADDRESS])
                return berth_fail_status(err, RF_EXIT_DAEMON, 0,
                                         "Conflicting options: mac-address and the network mode");
        if (net_container && (s->set[F_DNS] || s->set[F_ADD_HOST]))
                return berth_fail_status(err, RF_EXIT_DAEMON, 0,
                                         "Conflicting options: dns and the network mode");
        json_t *sysctls = json_object_get(hc, "Sysctls");
        const char *k;
        json_t *v;
        json_object_foreach(sysctls, k, v)
        {
                if (net_host && berth_str_has_prefix(k, "net."))
                        return berth_fail_status(err, RF_EXIT_DAEMON, 0,
                                                 "sysctl '%s' not allowed in host network "
                                                 "namespace",
                                                 k);
                if (strcmp(ipc, "host") == 0 && !berth_str_has_prefix(k, "net."))
                        return berth_fail_status(err, RF_EXIT_DAEMON, 0,
                                                 "sysctl '%s' is not allowed in host IPC mode", k);
        }
        return 0;
}

static int finish_log(struct rf *s, berth_error_t *err)
{
        json_t *lc = json_object_get(s->hc, "LogConfig");
        const char *type = json_string_value(json_object_get(lc, "Type"));
        json_t *opts = json_object_get(lc, "Config");
        const char *k;
        json_t *v;
        json_object_foreach(opts, k, v)
        {
                const char *val = json_string_value(v);
                long long n;
                int64_t b;
                if (strcmp(type, "none") == 0)
                        return berth_fail_status(err, RF_EXIT_DAEMON, 0,
                                                 "unknown log opt '%s' for none log driver", k);
                if (strcmp(k, "max-size") == 0) {
                        if (berth_parse_bytes(val, "--log-opt max-size", &b, err) < 0)
                                return as_usage(err);
                } else if (strcmp(k, "max-file") == 0) {
                        if (parse_int(val, 1, INT_MAX, &n) < 0)
                                return berth_fail_status(err, RF_EXIT_DAEMON, 0,
                                                         "max-file cannot be less than 1");
                } else if (strcmp(k, "compress") == 0 || strcmp(k, "labels") == 0 ||
                           strcmp(k, "env") == 0 || strcmp(k, "env-regex") == 0 ||
                           strcmp(k, "tag") == 0 || strcmp(k, "mode") == 0 ||
                           strcmp(k, "max-buffer-size") == 0 || strcmp(k, "labels-regex") == 0) {
                        continue;
                } else {
                        return berth_fail_status(err, RF_EXIT_DAEMON, 0,
                                                 "unknown log opt '%s' for json-file log driver",
                                                 k);
                }
        }
        if (json_object_get(opts, "max-file") && !json_object_get(opts, "max-size"))
                return berth_fail_status(err, RF_EXIT_DAEMON, 0,
                                         "max-file cannot be used without max-size");
        return 0;
}

static int finish(struct rf *s, int argc, char *const argv[], int image_index, berth_error_t *err)
{
        json_t *cfg = s->cfg, *hc = s->hc;
        struct eng_run_cli *cli = s->cli;
        json_t *env = NULL, *labels = NULL;

        if (image_index >= argc)
                /* the docker CLI's words and status for an argument count */
                return berth_fail_status(err, 1, 0, "'berth %s' requires at least 1 argument",
                                         s->cmd);
        cli->image_index = image_index;
        set_str(cfg, "Image", argv[image_index]);
        if (image_index + 1 < argc) {
                json_t *cmd = json_array();
                for (int i = image_index + 1; i < argc; i++)
                        json_array_append_new(cmd, json_string(argv[i]));
                json_object_set_new(cfg, "Cmd", cmd);
        }

        /* Docker shows null, not {}, for these when nothing was given */
        if (json_object_size(json_object_get(cfg, "Volumes")) == 0)
                json_object_set_new(cfg, "Volumes", json_null());

        if (merge_kv(s, s->env_files, s->env, true, &env, err) < 0)
                return -1;
        if (json_array_size(env))
                json_object_set_new(cfg, "Env", env);
        else
                json_decref(env);
        if (merge_kv(s, s->label_files, s->labels, false, &labels, err) < 0)
                return -1;
        json_t *lobj = json_object_get(cfg, "Labels");
        size_t i;
        json_t *v;
        json_array_foreach(labels, i, v)
        {
                const char *l = json_string_value(v);
                const char *eq = strchr(l, '=');
                cleanup_free char *k = eq ? rf_strndup(l, (size_t) (eq - l)) : berth_xstrdup(l);
                json_object_set_new(lobj, k, json_string(eq ? eq + 1 : ""));
        }
        json_decref(labels);

        /* the streams an attached run shows, as Docker's CLI sets them: -a picks them (-i
         * adds stdin), no -a means stdout and stderr; `create` records them too (for a later
         * `start -a`), only `run -d` attaches nothing */
        bool any_a = s->attach[0] || s->attach[1] || s->attach[2];
        if (any_a && cli->detach)
                return berth_fail_status(err, 1, 0,
                                         "conflicting options: cannot specify both --attach and "
                                         "--detach");
        bool att = !(s->mode == ENG_RUN_RUN && cli->detach);
        bool in = att && (s->attach[0] || cli->interactive);
        set_bool(cfg, "Tty", cli->tty);
        set_bool(cfg, "OpenStdin", cli->interactive);
        set_bool(cfg, "AttachStdin", in);
        set_bool(cfg, "StdinOnce", in && cli->interactive);
        set_bool(cfg, "AttachStdout", att && (!any_a || s->attach[1]));
        set_bool(cfg, "AttachStderr", att && (!any_a || s->attach[2]));
        set_bool(hc, "AutoRemove", cli->rm);
        if (!cli->pull)
                cli->pull = berth_xstrdup("missing");

        const char *restart =
                json_string_value(json_object_get(json_object_get(hc, "RestartPolicy"), "Name"));
        if (cli->rm && strcmp(restart, "no") != 0)
                return berth_fail_status(err, 125, 0,
                                         "conflicting options: cannot specify both --restart and "
                                         "--rm");
        if (finish_health(s, err) < 0 || finish_resources(s, err) < 0 ||
            finish_namespaces(s, err) < 0 || finish_log(s, err) < 0)
                return -1;
        return 0;
}

static const struct flag_def *find_long(const char *name, size_t len, enum eng_run_mode mode)
{
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(flags); i++)
                if (strlen(flags[i].name) == len && strncmp(flags[i].name, name, len) == 0 &&
                    (mode == ENG_RUN_RUN || !flags[i].run_only))
                        return &flags[i];
        return NULL;
}

static const struct flag_def *find_short(char c, enum eng_run_mode mode)
{
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(flags); i++)
                if (flags[i].shorthand == c && (mode == ENG_RUN_RUN || !flags[i].run_only))
                        return &flags[i];
        return NULL;
}

/* One `--name[=value]` argument; *i advances past a separate value. */
static int parse_long(struct rf *s, int argc, char *const argv[], int *i, berth_error_t *err)
{
        const char *a = argv[*i] + 2;
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t) (eq - a) : strlen(a);
        const struct flag_def *d = find_long(a, len, s->mode);
        if (d == NULL)
                return berth_fail_status(err, 125, 0,
                                         "unknown flag: --%.*s (see `berth %s "
                                         "--help`)",
                                         (int) len, a, s->cmd);
        if (eq)
                return apply(s, d, eq + 1, err);
        if (d->is_bool)
                return apply(s, d, "true", err);
        if (*i + 1 >= argc)
                return berth_fail_status(err, 125, 0, "flag needs an argument: --%s", d->name);
        return apply(s, d, argv[++*i], err);
}

/* A cluster of shorthands: `-dit`, `-eA=1`, `-e=A=1`, `-p 80:80`. */
static int parse_short(struct rf *s, int argc, char *const argv[], int *i, berth_error_t *err)
{
        const char *a = argv[*i];
        for (const char *p = a + 1; *p; p++) {
                const struct flag_def *d = find_short(*p, s->mode);
                if (d == NULL)
                        return berth_fail_status(err, 125, 0,
                                                 "unknown shorthand flag: '%c' in %s (see `berth "
                                                 "%s --help`)",
                                                 *p, a, s->cmd);
                if (d->is_bool) {
                        if (p[1] == '=')
                                return apply(s, d, p + 2, err);
                        if (apply(s, d, "true", err) < 0)
                                return -1;
                        continue;
                }
                if (p[1] != '\0')
                        return apply(s, d, p[1] == '=' ? p + 2 : p + 1, err);
                if (*i + 1 >= argc)
                        return berth_fail_status(err, 125, 0, "flag needs an argument: '%c' in %s",
                                                 *p, a);
                return apply(s, d, argv[++*i], err);
        }
        return 0;
}

int eng_runflags_parse(int argc, char *const argv[], enum eng_run_mode mode,
                       struct eng_run_flags *out, berth_error_t *err)
{
        struct rf s = {.cmd = mode == ENG_RUN_RUN ? "run" : "create", .mode = mode};
        memset(out, 0, sizeof(*out));
        out->cli.sig_proxy = true;
        s.cli = &out->cli;
        defaults(&s);

        int i, ret = 0;
        for (i = 1; i < argc && ret == 0; i++) {
                const char *a = argv[i];
                if (strcmp(a, "--") == 0) {
                        i++;
                        break;
                }
                if (a[0] != '-' || a[1] == '\0')
                        break;
                ret = a[1] == '-' ? parse_long(&s, argc, argv, &i, err)
                                  : parse_short(&s, argc, argv, &i, err);
        }
        if (ret == 0)
                ret = finish(&s, argc, argv, i, err);
        json_decref(s.env);
        json_decref(s.env_files);
        json_decref(s.labels);
        json_decref(s.label_files);
        json_decref(s.health);
        if (ret == 0 && json_object_size(s.endpoint) > 0) {
                const char *net = json_string_value(json_object_get(s.hc, "NetworkMode"));
                out->networking =
                        json_pack("{s:{s:O}}", "EndpointsConfig",
                                  strcmp(net, "default") == 0 ? "bridge" : net, s.endpoint);
        }
        json_decref(s.endpoint);
        out->config = s.cfg;
        out->host_config = s.hc;
        if (ret < 0) {
                /* dockerd's refusals are 1 for create, 125 for run (runflags.h) */
                if (err && *err && (*err)->status == RF_EXIT_DAEMON)
                        (*err)->status = mode == ENG_RUN_RUN ? 125 : 1;
                eng_runflags_release(out);
                return -1;
        }
        return 0;
}

void eng_runflags_release(struct eng_run_flags *f)
{
        json_decref(f->config);
        json_decref(f->host_config);
        json_decref(f->networking);
        json_decref(f->warnings);
        free(f->cli.name);
        free(f->cli.detach_keys);
        free(f->cli.pull);
        free(f->cli.platform);
        memset(f, 0, sizeof(*f));
}

int eng_signal_number(const char *name)
{
        return rf_signal_number(name);
}
