/* berth-oci.c — main() of the OCI runtime: runc's command line over liboci.
 *
 * Only argv handling lives here; every command is one call into src/oci.
 * Flags are accepted with one or two dashes, as runc (urfave/cli) does.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "oci/oci.h"

struct cmd {
        const char *name;
        int (*run)(struct oci_ctx *c, int argc, char **argv, berth_error_t *err);
        const char *summary;
        bool enters; /* enters a container: run from a sealed memfd copy */
};

static int usage_err(berth_error_t *err, const char *cmd, const char *what)
{
        return berth_fail_status(err, OCI_EXIT_ERROR, 0, "%s: %s (see `berth-oci %s --help`)", cmd,
                                 what, cmd);
}

static int need_id(int argc, char **argv, const char *cmd, berth_error_t *err)
{
        if (optind >= argc)
                return usage_err(err, cmd, "a container id is required");
        return 0;
}

enum {
        O_BUNDLE = 256,
        O_CONSOLE,
        O_PIDFILE,
        O_NOPIVOT,
        O_NOKEYRING,
        O_PRESERVE,
        O_DETACH,
        O_KEEP,
        O_CWD,
        O_PROCESS,
        O_NNP,
        O_IGNORE_PAUSED,
        O_LABEL,
        O_APPARMOR
};

static const struct option create_opts[] = {
        {"bundle", required_argument, NULL, 'b'},
        {"console-socket", required_argument, NULL, O_CONSOLE},
        {"pid-file", required_argument, NULL, O_PIDFILE},
        {"no-pivot", no_argument, NULL, O_NOPIVOT},
        {"no-new-keyring", no_argument, NULL, O_NOKEYRING},
        {"preserve-fds", required_argument, NULL, O_PRESERVE},
        {"detach", no_argument, NULL, 'd'},
        {"keep", no_argument, NULL, O_KEEP},
        {"help", no_argument, NULL, 'h'},
        {0},
};

static int parse_create(const char *cmd, int argc, char **argv, struct oci_create_opts *o,
                        berth_error_t *err)
{
        int ch;
        while ((ch = getopt_long_only(argc, argv, "b:dh", create_opts, NULL)) != -1) {
                switch (ch) {
                case 'b':
                        o->bundle = optarg;
                        break;
                case O_CONSOLE:
                        o->console_socket = optarg;
                        break;
                case O_PIDFILE:
                        o->pid_file = optarg;
                        break;
                case O_NOPIVOT:
                        o->no_pivot = true;
                        break;
                case O_NOKEYRING:
                        o->no_new_keyring = true;
                        break;
                case O_PRESERVE:
                        o->preserve_fds = atoi(optarg);
                        break;
                case 'd':
                        o->detach = true;
                        break;
                case O_KEEP:
                        o->keep = true;
                        break;
                case 'h':
                        printf("Usage: berth-oci %s [--bundle DIR] [--console-socket PATH] "
                               "[--pid-file PATH] [--no-pivot] [--preserve-fds N]%s ID\n",
                               cmd, strcmp(cmd, "run") == 0 ? " [--detach]" : "");
                        exit(0);
                default:
                        return usage_err(err, cmd, "unknown option");
                }
        }
        return need_id(argc, argv, cmd, err);
}

static int cmd_create(struct oci_ctx *c, int argc, char **argv, berth_error_t *err)
{
        struct oci_create_opts o = {0};
        if (parse_create("create", argc, argv, &o, err) < 0)
                return -1;
        return oci_create(c, argv[optind], &o, err);
}

static int cmd_run(struct oci_ctx *c, int argc, char **argv, berth_error_t *err)
{
        struct oci_create_opts o = {0};
        int status = 0;
        if (parse_create("run", argc, argv, &o, err) < 0)
                return -1;
        if (oci_run(c, argv[optind], &o, &status, err) < 0)
                return -1;
        return status;
}

static const struct option plain_opts[] = {{"help", no_argument, NULL, 'h'}, {0}};

static int one_id(const char *cmd, int argc, char **argv, berth_error_t *err)
{
        int ch;
        while ((ch = getopt_long_only(argc, argv, "h", plain_opts, NULL)) != -1) {
                if (ch == 'h') {
                        printf("Usage: berth-oci %s ID\n", cmd);
                        exit(0);
                }
                return usage_err(err, cmd, "unknown option");
        }
        return need_id(argc, argv, cmd, err);
}

static int cmd_start(struct oci_ctx *c, int argc, char **argv, berth_error_t *err)
{
        return one_id("start", argc, argv, err) < 0 ? -1 : oci_start(c, argv[optind], err);
}

static int cmd_state(struct oci_ctx *c, int argc, char **argv, berth_error_t *err)
{
        return one_id("state", argc, argv, err) < 0 ? -1 : oci_state(c, argv[optind], stdout, err);
}

static int cmd_pause(struct oci_ctx *c, int argc, char **argv, berth_error_t *err)
{
        return one_id("pause", argc, argv, err) < 0 ? -1 : oci_pause(c, argv[optind], true, err);
}

static int cmd_resume(struct oci_ctx *c, int argc, char **argv, berth_error_t *err)
{
        return one_id("resume", argc, argv, err) < 0 ? -1 : oci_pause(c, argv[optind], false, err);
}

static int cmd_kill(struct oci_ctx *c, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                {"all", no_argument, NULL, 'a'}, {"help", no_argument, NULL, 'h'}, {0}};
        bool all = false;
        int ch, sig = SIGTERM;
        while ((ch = getopt_long_only(argc, argv, "ah", opts, NULL)) != -1) {
                if (ch == 'a') {
                        all = true;
                        continue;
                }
                if (ch == 'h') {
                        printf("Usage: berth-oci kill [--all] ID [SIGNAL]\n");
                        exit(0);
                }
                return usage_err(err, "kill", "unknown option");
        }
        if (need_id(argc, argv, "kill", err) < 0)
                return -1;
        if (argc - optind > 2)
                return usage_err(err, "kill", "requires a maximum of 2 argument(s)");
        if (optind + 1 < argc && oci_kill_signal(argv[optind + 1], &sig) < 0)
                return berth_fail_status(err, 1, 0, "unknown signal \"%s\"", argv[optind + 1]);
        return oci_kill(c, argv[optind], sig, all, err);
}

static int cmd_delete(struct oci_ctx *c, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                {"force", no_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {0}};
        bool force = false;
        int ch;
        while ((ch = getopt_long_only(argc, argv, "fh", opts, NULL)) != -1) {
                if (ch == 'f') {
                        force = true;
                        continue;
                }
                if (ch == 'h') {
                        printf("Usage: berth-oci delete [--force] ID\n");
                        exit(0);
                }
                return usage_err(err, "delete", "unknown option");
        }
        if (need_id(argc, argv, "delete", err) < 0)
                return -1;
        return oci_delete(c, argv[optind], force, err);
}

/* ps passes what follows the id to ps(1), as runc's (no option reordering there) */
static int parse_format(const char *cmd, int argc, char **argv, bool *json, bool *quiet,
                        berth_error_t *err)
{
        static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
        int ch;
        while ((ch = getopt_long_only(argc, argv, strcmp(cmd, "ps") == 0 ? "+f:qh" : "f:qh", opts,
                                      NULL)) != -1) {
                if (ch == 'f' && (strcmp(optarg, "json") == 0 || strcmp(optarg, "table") == 0)) {
                        *json = strcmp(optarg, "json") == 0;
                } else if (ch == 'q') {
                        *quiet = true;
                } else if (ch == 'h') {
                        printf("Usage: berth-oci %s [--format table|json]%s\n", cmd,
                               strcmp(cmd, "ps") == 0 ? " ID" : " [--quiet]");
                        exit(0);
                } else {
                        return usage_err(err, cmd, "bad option (--format is table or json)");
                }
        }
        return 0;
}

static int cmd_list(struct oci_ctx *c, int argc, char **argv, berth_error_t *err)
{
        bool json = false, quiet = false;
        if (parse_format("list", argc, argv, &json, &quiet, err) < 0)
                return -1;
        return oci_list(c, json, quiet, stdout, err);
}

static int cmd_ps(struct oci_ctx *c, int argc, char **argv, berth_error_t *err)
{
        bool json = false, quiet = false;
        if (parse_format("ps", argc, argv, &json, &quiet, err) < 0 ||
            need_id(argc, argv, "ps", err) < 0)
                return -1;
        return oci_ps(c, argv[optind], json, stdout, err);
}

static int cmd_exec(struct oci_ctx *c, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                {"console-socket", required_argument, NULL, O_CONSOLE},
                {"cwd", required_argument, NULL, O_CWD},
                {"env", required_argument, NULL, 'e'},
                {"tty", no_argument, NULL, 't'},
                {"user", required_argument, NULL, 'u'},
                {"additional-gids", required_argument, NULL, 'g'},
                {"process", required_argument, NULL, 'p'},
                {"detach", no_argument, NULL, 'd'},
                {"pid-file", required_argument, NULL, O_PIDFILE},
                {"process-label", required_argument, NULL, O_LABEL},
                {"apparmor", required_argument, NULL, O_APPARMOR},
                {"no-new-privs", no_argument, NULL, O_NNP},
                {"cap", required_argument, NULL, 'c'},
                {"preserve-fds", required_argument, NULL, O_PRESERVE},
                {"ignore-paused", no_argument, NULL, O_IGNORE_PAUSED},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        struct oci_exec_opts o = {0};
        int ch, status = 0;
        cleanup_free char **env = berth_xcalloc((size_t) argc + 1, sizeof(char *));
        cleanup_free char **caps = berth_xcalloc((size_t) argc + 1, sizeof(char *));
        cleanup_free char **gids = berth_xcalloc((size_t) argc + 1, sizeof(char *));
        o.env = env;
        o.caps = caps;
        o.gids = gids;
        while ((ch = getopt_long_only(argc, argv, "+e:tu:g:p:dc:h", opts, NULL)) != -1) {
                switch (ch) {
                case O_CONSOLE:
                        o.console_socket = optarg;
                        break;
                case O_CWD:
                        o.cwd = optarg;
                        break;
                case 'e':
                        env[o.n_env++] = optarg;
                        break;
                case 't':
                        o.tty = true;
                        break;
                case 'u':
                        o.user = optarg;
                        break;
                case 'g':
                        /* runc: a usage error, before the container is looked at */
                        if (*optarg == 0 || strspn(optarg, "0123456789") != strlen(optarg))
                                return berth_fail_status(err, OCI_EXIT_ERROR, 0,
                                                         "invalid value \"%s\" for flag "
                                                         "-additional-gids",
                                                         optarg);
                        gids[o.n_gids++] = optarg;
                        break;
                case 'p':
                        o.process_file = optarg;
                        break;
                case 'd':
                        o.detach = true;
                        break;
                case O_PIDFILE:
                        o.pid_file = optarg;
                        break;
                case O_LABEL:
                case O_APPARMOR:
                        return berth_fail_status(err, 1, 0,
                                                 "exec: --process-label/--apparmor: no LSM "
                                                 "support on this host");
                case O_NNP:
                        o.no_new_privs = true;
                        break;
                case 'c':
                        caps[o.n_caps++] = optarg;
                        break;
                case O_PRESERVE:
                        o.preserve_fds = atoi(optarg);
                        break;
                case O_IGNORE_PAUSED:
                        o.ignore_paused = true;
                        break;
                case 'h':
                        printf("Usage: berth-oci exec [OPTIONS] ID [COMMAND [ARG...]]\n");
                        exit(0);
                default:
                        return usage_err(err, "exec", "unknown option");
                }
        }
        if (need_id(argc, argv, "exec", err) < 0)
                return -1;
        o.args = argv + optind + 1;
        if (o.process_file == NULL && o.args[0] == NULL)
                return usage_err(err, "exec", "a command (or --process) is required");
        if (oci_exec(c, argv[optind], &o, &status, err) < 0) {
                berth_wrap(err, "exec failed");
                (*err)->status = OCI_EXIT_EXEC;
                return -1;
        }
        return status;
}

static int cmd_update(struct oci_ctx *c, int argc, char **argv, berth_error_t *err)
{
        enum { N_NAMES = 13 };
        static const char *names[N_NAMES + 1] = {
                "memory",        "memory-swap", "memory-reservation", "kernel-memory",
                "cpu-shares",    "cpu-quota",   "cpu-period",         "cpuset-cpus",
                "cpuset-mems",   "pids-limit",  "blkio-weight",       "cpu-rt-runtime",
                "cpu-rt-period", NULL};
        struct option opts[N_NAMES + 3];
        /* one value per flag, the last given wins: a repeated flag can't overrun kv */
        const char *vals[N_NAMES] = {0}, *kv[2 * N_NAMES + 1] = {0};
        const char *res_file = NULL;
        size_t nkv = 0;
        int ch, idx;
        for (idx = 0; names[idx]; idx++)
                opts[idx] = (struct option){names[idx], required_argument, NULL, 1000 + idx};
        opts[idx++] = (struct option){"resources", required_argument, NULL, 'r'};
        opts[idx++] = (struct option){"help", no_argument, NULL, 'h'};
        opts[idx] = (struct option){0};
        while ((ch = getopt_long_only(argc, argv, "r:h", opts, NULL)) != -1) {
                if (ch >= 1000) {
                        vals[ch - 1000] = optarg;
                } else if (ch == 'r') {
                        res_file = optarg;
                } else if (ch == 'h') {
                        printf("Usage: berth-oci update [-r FILE|-] [--memory N] [--pids-limit N]"
                               " [--cpu-quota N] ... ID\n");
                        exit(0);
                } else {
                        return usage_err(err, "update", "unknown option");
                }
        }
        if (need_id(argc, argv, "update", err) < 0)
                return -1;
        for (size_t i = 0; i < N_NAMES; i++)
                if (vals[i]) {
                        kv[nkv++] = names[i];
                        kv[nkv++] = vals[i];
                }
        cleanup_free char *text = NULL;
        if (res_file) {
                size_t len;
                if (berth_read_file(strcmp(res_file, "-") == 0 ? "/dev/stdin" : res_file, &text,
                                    &len, err) < 0)
                        return -1;
        }
        return oci_update(c, argv[optind], text, kv, err);
}

static int cmd_spec(struct oci_ctx *c, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {{"bundle", required_argument, NULL, 'b'},
                                             {"rootless", no_argument, NULL, 'r'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
        const char *bundle = NULL;
        bool rootless = false;
        int ch;
        while ((ch = getopt_long_only(argc, argv, "b:h", opts, NULL)) != -1) {
                if (ch == 'b') {
                        bundle = optarg;
                } else if (ch == 'r') {
                        rootless = true;
                } else if (ch == 'h') {
                        printf("Usage: berth-oci spec [--bundle DIR] [--rootless]\n");
                        exit(0);
                } else {
                        return usage_err(err, "spec", "unknown option");
                }
        }
        return oci_spec_write(bundle, rootless, err);
}

static int cmd_features(struct oci_ctx *c, int argc, char **argv, berth_error_t *err)
{
        return oci_features(stdout, err);
}

static const struct cmd commands[] = {
        {"create", cmd_create, "create a container (its init waits for `start`)", true},
        {"start", cmd_start, "start the user's process of a created container", false},
        {"run", cmd_run, "create and start a container", true},
        {"state", cmd_state, "print the state of a container (JSON)", false},
        {"kill", cmd_kill, "send a signal to the container's init (or all with --all)", false},
        {"delete", cmd_delete, "delete a container and its resources", false},
        {"list", cmd_list, "list containers", false},
        {"ps", cmd_ps, "list the processes of a container", false},
        {"exec", cmd_exec, "run a process in a running container", true},
        {"pause", cmd_pause, "freeze every process of a container", false},
        {"resume", cmd_resume, "thaw a paused container", false},
        {"update", cmd_update, "change a container's resource limits", false},
        {"spec", cmd_spec, "write a default config.json", false},
        {"features", cmd_features, "print what this runtime supports (JSON)", false},
        {NULL, NULL, NULL, false},
};

static void usage(FILE *out)
{
        fprintf(out, "Usage: berth-oci [GLOBAL OPTIONS] COMMAND [OPTIONS] ID\n\n"
                     "An OCI runtime with runc's command line.\n\nGlobal options:\n"
                     "  --root DIR            state directory (default /run/berth-oci)\n"
                     "  --log PATH            log to PATH instead of stderr\n"
                     "  --log-format FORMAT   text (default) or json\n"
                     "  --debug               debug logging\n"
                     "  --systemd-cgroup      (not supported: an error if used)\n"
                     "  -v, --version         print the version\n\nCommands:\n");
        for (size_t i = 0; commands[i].name; i++)
                fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
        cleanup_error berth_error_t err = NULL;
        cleanup_free char *root_default = NULL;
        struct oci_ctx c = {0};
        const char *log_path = NULL;
        enum berth_log_format fmt = BERTH_LOG_TEXT;
        enum berth_log_level level = BERTH_LOG_WARN;
        enum { G_ROOT = 256, G_LOG, G_LOGFMT, G_DEBUG, G_SYSTEMD, G_ROOTLESS, G_CRIU };
        static const struct option opts[] = {
                {"root", required_argument, NULL, G_ROOT},
                {"log", required_argument, NULL, G_LOG},
                {"log-format", required_argument, NULL, G_LOGFMT},
                {"debug", no_argument, NULL, G_DEBUG},
                {"systemd-cgroup", no_argument, NULL, G_SYSTEMD},
                {"rootless", required_argument, NULL, G_ROOTLESS},
                {"criu", required_argument, NULL, G_CRIU},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, 'v'},
                {0},
        };
        int ch;
        while ((ch = getopt_long_only(argc, argv, "+hv", opts, NULL)) != -1) {
                switch (ch) {
                case G_ROOT:
                        c.root = optarg;
                        break;
                case G_LOG:
                        log_path = optarg;
                        break;
                case G_LOGFMT:
                        if (berth_log_parse_format(optarg, &fmt, &err) < 0)
                                return berth_error_report(&err, OCI_EXIT_ERROR);
                        break;
                case G_DEBUG:
                        level = BERTH_LOG_DEBUG;
                        break;
                case G_SYSTEMD:
                        c.systemd_cgroup = true;
                        break;
                case G_ROOTLESS:
                case G_CRIU:
                        break;
                case 'h':
                        usage(stdout);
                        return 0;
                case 'v':
                        oci_version(stdout);
                        return 0;
                default:
                        usage(stderr);
                        return OCI_EXIT_ERROR;
                }
        }
        if (berth_log_init("berth-oci", level, fmt, log_path, &err) < 0)
                return berth_error_report(&err, OCI_EXIT_ERROR);
        if (optind >= argc) {
                usage(stderr);
                return OCI_EXIT_ERROR;
        }
        if (c.root == NULL) {
                root_default = oci_default_root();
                c.root = root_default;
        }
        const char *name = argv[optind];
        for (size_t i = 0; commands[i].name; i++) {
                if (strcmp(commands[i].name, name) != 0)
                        continue;
                if (commands[i].enters && oci_ensure_sealed_self(argv, &err) < 0)
                        return berth_error_report(&err, OCI_EXIT_ERROR);
                int first = optind;
                optind = 0;
                int ret = commands[i].run(&c, argc - first, argv + first, &err);
                fflush(stdout);
                if (ret < 0)
                        return berth_error_report(&err, OCI_EXIT_ERROR);
                return ret;
        }
        log_error("unknown command `%s` (see `berth-oci --help`)", name);
        return OCI_EXIT_ERROR;
}
