/* berth-oci.c — main() of the OCI runtime: runc's command line over liboci.
 *
 * Only argv handling lives here; every command is one call into src/oci.
 * Flags are accepted with one or two dashes, as runc (urfave/cli) does.
 */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth-oci-help.h"
#include "common/log.h"
#include "common/util.h"
#include "oci/oci.h"

struct cmd {
        const char *name;
        int (*run)(struct oci_ctx *c, int argc, char **argv, berth_error_t *err);
        const char *summary;
        bool enters; /* enters a container: run from a sealed memfd copy */
};

static __attribute__((noreturn)) void help_exit(const char *cmd)
{
        oci_help_command(cmd, stdout);
        exit(0);
}

/* An option getopt refused, in runc's words (its flag parser's): unknown, or missing its
 * value.  runc prints the command's help after "Incorrect Usage: …" on stdout. */
static int bad_flag(const char *cmd, const struct option *opts, char **argv, berth_error_t *err)
{
        char name[64] = "";
        bool known = false;
        if (optopt > 0 && optopt < 256) {
                snprintf(name, sizeof(name), "%c", optopt);
                for (size_t i = 0; opts[i].name; i++)
                        known |= opts[i].val == optopt;
        } else {
                const char *a = argv[optind - 1];
                a += strspn(a, "-");
                snprintf(name, sizeof(name), "%.*s", (int) strcspn(a, "="), a);
                for (size_t i = 0; opts[i].name; i++)
                        known |= strcmp(opts[i].name, name) == 0;
        }
        const char *what = known ? "flag needs an argument" : "flag provided but not defined";
        printf("Incorrect Usage: %s: -%s\n\n", what, name);
        if (strcmp(cmd, "berth-oci") == 0)
                oci_help_main(stdout, BERTH_VERSION);
        else
                oci_help_command(cmd, stdout);
        return berth_fail_status(err, OCI_EXIT_ERROR, 0, "%s: -%s", what, name);
}

/* runc's argument count rule for cmd: between min and max arguments after the options */
static int nargs(const char *cmd, int argc, int min, int max, berth_error_t *err)
{
        int n = argc - optind;
        if (n >= min && n <= max)
                return 0;
        oci_help_incorrect(cmd, stdout);
        if (min == max)
                return berth_fail_status(err, OCI_EXIT_ERROR, 0,
                                         "\"%s\" requires exactly %d argument(s)", cmd, min);
        if (n < min)
                return berth_fail_status(err, OCI_EXIT_ERROR, 0,
                                         "\"%s\" requires a minimum of %d argument(s)", cmd, min);
        return berth_fail_status(err, OCI_EXIT_ERROR, 0,
                                 "\"%s\" requires a maximum of %d argument(s)", cmd, max);
}

static int need_id(int argc, char **argv, const char *cmd, berth_error_t *err)
{
        return nargs(cmd, argc, 1, 1, err);
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
        O_APPARMOR,
        O_CGROUP,
        O_NOSUBREAPER
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
        {"no-subreaper", no_argument, NULL, O_NOSUBREAPER},
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
                case O_NOSUBREAPER:
                        break; /* berth-oci never becomes a subreaper */
                case 'h':
                        help_exit(cmd);
                default:
                        return bad_flag(cmd, create_opts, argv, err);
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
                if (ch == 'h')
                        help_exit(cmd);
                return bad_flag(cmd, plain_opts, argv, err);
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
                if (ch == 'h')
                        help_exit("kill");
                return bad_flag("kill", opts, argv, err);
        }
        if (nargs("kill", argc, 1, 2, err) < 0)
                return -1;
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
                if (ch == 'h')
                        help_exit("delete");
                return bad_flag("delete", opts, argv, err);
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
                        help_exit(cmd);
                } else if (ch == 'f') {
                        return berth_fail_status(err, OCI_EXIT_ERROR, 0, "invalid format option");
                } else {
                        return bad_flag(cmd, opts, argv, err);
                }
        }
        return 0;
}

static int cmd_list(struct oci_ctx *c, int argc, char **argv, berth_error_t *err)
{
        bool json = false, quiet = false;
        if (parse_format("list", argc, argv, &json, &quiet, err) < 0 ||
            nargs("list", argc, 0, 0, err) < 0)
                return -1;
        return oci_list(c, json, quiet, stdout, err);
}

static int cmd_ps(struct oci_ctx *c, int argc, char **argv, berth_error_t *err)
{
        bool json = false, quiet = false;
        if (parse_format("ps", argc, argv, &json, &quiet, err) < 0 ||
            nargs("ps", argc, 1, INT_MAX, err) < 0)
                return -1;
        return oci_ps(c, argv[optind], json, argv + optind + 1, stdout, err);
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
                {"cgroup", required_argument, NULL, O_CGROUP},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        struct oci_exec_opts o = {0};
        int ch, status = 0;
        cleanup_free char **env = berth_xcalloc((size_t) argc + 1, sizeof(char *));
        cleanup_free char **caps = berth_xcalloc((size_t) argc + 1, sizeof(char *));
        cleanup_free char **gids = berth_xcalloc((size_t) argc + 1, sizeof(char *));
        cleanup_free char **cgroups = berth_xcalloc((size_t) argc + 1, sizeof(char *));
        o.cgroups = cgroups;
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
                        o.process_label = optarg;
                        break;
                case O_APPARMOR:
                        o.apparmor = optarg;
                        break;
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
                case O_CGROUP:
                        cgroups[o.n_cgroups++] = optarg;
                        break;
                case 'h':
                        help_exit("exec");
                default:
                        return bad_flag("exec", opts, argv, err);
                }
        }
        if (nargs("exec", argc, 1, INT_MAX, err) < 0)
                return -1;
        o.args = argv + optind + 1;
        if (oci_exec(c, argv[optind], &o, &status, err) < 0) {
                berth_wrap(err, "exec failed");
                (*err)->status = OCI_EXIT_EXEC;
                return -1;
        }
        return status;
}

static int cmd_update(struct oci_ctx *c, int argc, char **argv, berth_error_t *err)
{
        /* runc's flags (cpu-share; kernel-memory* hidden there), and docker's cpu-shares */
        enum { N_NAMES = 17 };
        static const char *names[N_NAMES + 1] = {
                "memory",          "memory-swap",       "memory-reservation",
                "kernel-memory",   "kernel-memory-tcp", "cpu-share",
                "cpu-shares",      "cpu-quota",         "cpu-period",
                "cpuset-cpus",     "cpuset-mems",       "pids-limit",
                "blkio-weight",    "cpu-rt-runtime",    "cpu-rt-period",
                "l3-cache-schema", "mem-bw-schema",     NULL};
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
                        help_exit("update");
                } else {
                        return bad_flag("update", opts, argv, err);
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
                        help_exit("spec");
                } else {
                        return bad_flag("spec", opts, argv, err);
                }
        }
        if (nargs("spec", argc, 0, 0, err) < 0)
                return -1;
        return oci_spec_write(bundle, rootless, err);
}

static int cmd_events(struct oci_ctx *c, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {{"stats", no_argument, NULL, 's'},
                                             {"interval", required_argument, NULL, 'i'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
        bool once = false;
        int64_t interval = 5000000000LL;
        int ch;
        while ((ch = getopt_long_only(argc, argv, "h", opts, NULL)) != -1) {
                if (ch == 's') {
                        once = true;
                } else if (ch == 'i') {
                        if (oci_duration_parse(optarg, &interval) < 0)
                                return berth_fail_status(err, OCI_EXIT_ERROR, 0,
                                                         "invalid value \"%s\" for flag "
                                                         "-interval: parse error",
                                                         optarg);
                } else if (ch == 'h') {
                        help_exit("events");
                } else {
                        return bad_flag("events", opts, argv, err);
                }
        }
        if (need_id(argc, argv, "events", err) < 0)
                return -1;
        return oci_events(c, argv[optind], once, interval, stdout, err);
}

/* checkpoint's and restore's CRIU options (one table: restore refuses checkpoint's own) */
enum {
        C_IMAGE = 300,
        C_WORK,
        C_PARENT,
        C_LEAVE,
        C_TCP,
        C_EXTUNIX,
        C_SHELL,
        C_LAZY,
        C_STATUSFD,
        C_PAGESERVER,
        C_LOCKS,
        C_PREDUMP,
        C_CGMODE,
        C_EMPTYNS,
        C_DEDUP,
        C_LSMPROFILE,
        C_LSMMOUNT
};

static int criu_opt(int ch, struct oci_criu_opts *o, char **empty)
{
        switch (ch) {
        case C_IMAGE:
                o->image_path = optarg;
                break;
        case C_WORK:
                o->work_path = optarg;
                break;
        case C_PARENT:
                o->parent_path = optarg;
                break;
        case C_LEAVE:
                o->leave_running = true;
                break;
        case C_TCP:
                o->tcp_established = true;
                break;
        case C_EXTUNIX:
                o->ext_unix_sk = true;
                break;
        case C_SHELL:
                o->shell_job = true;
                break;
        case C_LAZY:
                o->lazy_pages = true;
                break;
        case C_STATUSFD:
                o->status_fd = optarg;
                break;
        case C_PAGESERVER:
                o->page_server = optarg;
                break;
        case C_LOCKS:
                o->file_locks = true;
                break;
        case C_PREDUMP:
                o->pre_dump = true;
                break;
        case C_CGMODE:
                o->manage_cgroups_mode = optarg;
                break;
        case C_EMPTYNS:
                empty[o->n_empty_ns++] = optarg;
                break;
        case C_DEDUP:
                o->auto_dedup = true;
                break;
        case C_LSMPROFILE:
                o->lsm_profile = optarg;
                break;
        case C_LSMMOUNT:
                o->lsm_mount_context = optarg;
                break;
        default:
                return -1;
        }
        return 0;
}

static int cmd_checkpoint(struct oci_ctx *c, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                {"image-path", required_argument, NULL, C_IMAGE},
                {"work-path", required_argument, NULL, C_WORK},
                {"parent-path", required_argument, NULL, C_PARENT},
                {"leave-running", no_argument, NULL, C_LEAVE},
                {"tcp-established", no_argument, NULL, C_TCP},
                {"ext-unix-sk", no_argument, NULL, C_EXTUNIX},
                {"shell-job", no_argument, NULL, C_SHELL},
                {"lazy-pages", no_argument, NULL, C_LAZY},
                {"status-fd", required_argument, NULL, C_STATUSFD},
                {"page-server", required_argument, NULL, C_PAGESERVER},
                {"file-locks", no_argument, NULL, C_LOCKS},
                {"pre-dump", no_argument, NULL, C_PREDUMP},
                {"manage-cgroups-mode", required_argument, NULL, C_CGMODE},
                {"empty-ns", required_argument, NULL, C_EMPTYNS},
                {"auto-dedup", no_argument, NULL, C_DEDUP},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        struct oci_criu_opts o = {0};
        cleanup_free char **empty = berth_xcalloc((size_t) argc + 1, sizeof(char *));
        int ch;
        o.empty_ns = empty;
        while ((ch = getopt_long_only(argc, argv, "h", opts, NULL)) != -1) {
                if (ch == 'h')
                        help_exit("checkpoint");
                if (criu_opt(ch, &o, empty) < 0)
                        return bad_flag("checkpoint", opts, argv, err);
        }
        if (need_id(argc, argv, "checkpoint", err) < 0)
                return -1;
        return oci_checkpoint(c, argv[optind], &o, err);
}

static int cmd_restore(struct oci_ctx *c, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                {"console-socket", required_argument, NULL, O_CONSOLE},
                {"image-path", required_argument, NULL, C_IMAGE},
                {"work-path", required_argument, NULL, C_WORK},
                {"tcp-established", no_argument, NULL, C_TCP},
                {"ext-unix-sk", no_argument, NULL, C_EXTUNIX},
                {"shell-job", no_argument, NULL, C_SHELL},
                {"file-locks", no_argument, NULL, C_LOCKS},
                {"manage-cgroups-mode", required_argument, NULL, C_CGMODE},
                {"bundle", required_argument, NULL, 'b'},
                {"detach", no_argument, NULL, 'd'},
                {"pid-file", required_argument, NULL, O_PIDFILE},
                {"no-subreaper", no_argument, NULL, O_NOSUBREAPER},
                {"no-pivot", no_argument, NULL, O_NOPIVOT},
                {"empty-ns", required_argument, NULL, C_EMPTYNS},
                {"auto-dedup", no_argument, NULL, C_DEDUP},
                {"lazy-pages", no_argument, NULL, C_LAZY},
                {"lsm-profile", required_argument, NULL, C_LSMPROFILE},
                {"lsm-mount-context", required_argument, NULL, C_LSMMOUNT},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        struct oci_criu_opts o = {0};
        struct oci_create_opts co = {0};
        cleanup_free char **empty = berth_xcalloc((size_t) argc + 1, sizeof(char *));
        int ch;
        o.empty_ns = empty;
        while ((ch = getopt_long_only(argc, argv, "b:dh", opts, NULL)) != -1) {
                if (ch == 'h')
                        help_exit("restore");
                else if (ch == 'b')
                        co.bundle = optarg;
                else if (ch == 'd')
                        co.detach = true;
                else if (ch == O_PIDFILE)
                        co.pid_file = optarg;
                else if (ch == O_CONSOLE)
                        co.console_socket = optarg;
                else if (ch == O_NOSUBREAPER || ch == O_NOPIVOT)
                        continue;
                else if (criu_opt(ch, &o, empty) < 0)
                        return bad_flag("restore", opts, argv, err);
        }
        if (need_id(argc, argv, "restore", err) < 0)
                return -1;
        return oci_restore(c, argv[optind], &co, &o, err);
}

static int cmd_features(struct oci_ctx *c, int argc, char **argv, berth_error_t *err)
{
        int ch;
        while ((ch = getopt_long_only(argc, argv, "h", plain_opts, NULL)) != -1) {
                if (ch == 'h')
                        help_exit("features");
                return bad_flag("features", plain_opts, argv, err);
        }
        if (nargs("features", argc, 0, 0, err) < 0)
                return -1;
        return oci_features(stdout, err);
}

static const struct cmd commands[] = {
        {"checkpoint", cmd_checkpoint, "checkpoint a running container (CRIU)", false},
        {"restore", cmd_restore, "restore a container from a checkpoint (CRIU)", false},
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
        {"events", cmd_events, "print a container's stats and oom events (JSON)", false},
        {"spec", cmd_spec, "write a default config.json", false},
        {"features", cmd_features, "print what this runtime supports (JSON)", false},
        {NULL, NULL, NULL, false},
};

/* The error to the log; with --log, its message to stderr as well, as runc does, so a caller
 * reading only stderr still learns why. */
static int report(berth_error_t *err, const char *log_path)
{
        if (log_path && *err)
                fprintf(stderr, "%s\n", berth_error_msg(*err));
        return berth_error_report(err, OCI_EXIT_ERROR);
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
        opterr = 0; /* bad_flag says it, in runc's words */
        berth_log_init("berth-oci", level, fmt, NULL, NULL);
        while ((ch = getopt_long_only(argc, argv, "+hv", opts, NULL)) != -1) {
                switch (ch) {
                case G_ROOT:
                        c.root = optarg;
                        break;
                case G_LOG:
                        log_path = optarg;
                        break;
                case G_LOGFMT:
                        if (berth_log_parse_format(optarg, &fmt, &err) < 0) {
                                berth_error_release(&err);
                                log_error("invalid log-format: %s", optarg);
                                return OCI_EXIT_ERROR;
                        }
                        break;
                case G_DEBUG:
                        level = BERTH_LOG_DEBUG;
                        break;
                case G_SYSTEMD:
                        c.systemd_cgroup = true;
                        break;
                case G_CRIU:
                        c.criu = optarg;
                        break;
                case G_ROOTLESS:
                        break;
                case 'h':
                        oci_help_main(stdout, BERTH_VERSION);
                        return 0;
                case 'v':
                        oci_version(stdout);
                        return 0;
                default: {
                        berth_error_t e = NULL;
                        bad_flag("berth-oci", opts, argv, &e);
                        return berth_error_report(&e, OCI_EXIT_ERROR);
                }
                }
        }
        /* runc's debug output is logrus's text; berth-oci's plain lines stay for the rest */
        if (level == BERTH_LOG_DEBUG && fmt == BERTH_LOG_TEXT)
                fmt = BERTH_LOG_LOGRUS;
        if (berth_log_init("berth-oci", level, fmt, log_path, &err) < 0)
                return berth_error_report(&err, OCI_EXIT_ERROR);
        if (optind >= argc) { /* as runc: the help, and success */
                oci_help_main(stdout, BERTH_VERSION);
                return 0;
        }
        if (c.root == NULL) {
                root_default = oci_default_root();
                c.root = root_default;
        }
        const char *name = argv[optind];
        if (strcmp(name, "help") == 0 || strcmp(name, "h") == 0) {
                if (optind + 1 < argc)
                        name = argv[optind + 1];
                else
                        oci_help_main(stdout, BERTH_VERSION);
                for (size_t i = 0; optind + 1 < argc && commands[i].name; i++)
                        if (strcmp(commands[i].name, name) == 0)
                                help_exit(name);
                if (optind + 1 >= argc)
                        return 0;
        }
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
                        return report(&err, log_path);
                return ret;
        }
        /* runc's (urfave/cli's) answer and status for an unknown command */
        log_error("No help topic for '%s'", name);
        return 3;
}
