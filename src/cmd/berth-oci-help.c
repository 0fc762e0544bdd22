/* berth-oci-help.c — berth-oci's help texts, in the layout runc's users and tools know
 * (NAME, USAGE, DESCRIPTION, OPTIONS), and its "Incorrect Usage." answer.
 *
 * The option lists name exactly the flags each command accepts, so `CMD --help` doubles as the
 * check that berth-oci takes every flag runc takes (tests/e2e/oci_differential.bats).
 */
#include "berth-oci-help.h"

#include <stdio.h>
#include <string.h>

struct opt_help {
        const char *spec; /* "--bundle value, -b value" */
        const char *text;
};

struct cmd_help {
        const char *name, *summary, *usage, *description;
        struct opt_help opts[20];
};

#define CONSOLE_SOCKET                                                                \
        {                                                                             \
                "--console-socket value",                                             \
                        "a unix socket the pty master is sent over (with a terminal)" \
        }
#define PID_FILE                                                           \
        {                                                                  \
                "--pid-file value", "write the process's pid to this file" \
        }
#define BUNDLE                                                                                \
        {                                                                                     \
                "--bundle value, -b value", "the bundle directory (default: the current one)" \
        }
#define PRESERVE_FD                                                                              \
        {                                                                                        \
                "--preserve-fds value", "pass N more file descriptors (3 to 3+N-1) (default: 0)" \
        }
#define NO_PIVOT                                                                                   \
        {                                                                                          \
                "--no-pivot",                                                                      \
                        "move the rootfs with MS_MOVE and chroot instead of pivot_root (ramdisks)" \
        }
#define NO_KEYRING                                                      \
        {                                                               \
                "--no-new-keyring", "keep the caller's session keyring" \
        }
#define DETACH                                                                \
        {                                                                     \
                "--detach, -d", "return at once, leaving the process running" \
        }
#define IMAGE_PATH                                                                      \
        {                                                                               \
                "--image-path value", "where CRIU's images are (default: ./checkpoint)" \
        }
#define WORK_PATH                                                                           \
        {                                                                                   \
                "--work-path value", "where CRIU writes its logs (default: the image path)" \
        }
#define CRIU_COMMON                                                                     \
        {"--tcp-established", "allow established TCP connections"},                     \
                {"--ext-unix-sk", "allow external unix sockets"},                       \
                {"--shell-job", "allow a shell job (a terminal shared with the host)"}, \
                {"--file-locks", "handle file locks"},                                  \
        {                                                                               \
                "--manage-cgroups-mode value",                                          \
                        "cgroups mode for CRIU: soft, full, strict or ignore"           \
        }

static const struct cmd_help helps[] = {
        {"checkpoint",
         "checkpoint a running container",
         "[command options] <container-id>",
         "Dumps the container's processes with CRIU into the image path.",
         {IMAGE_PATH,
          WORK_PATH,
          {"--parent-path value", "the previous (pre-dump) images, relative to the image path"},
          {"--leave-running", "keep the container running after the dump"},
          CRIU_COMMON,
          {"--lazy-pages", "leave the memory to be fetched lazily (userfaultfd)"},
          {"--status-fd value", "write \\0 to this fd once lazy pages are ready"},
          {"--page-server value", "ADDRESS:PORT of a CRIU page server"},
          {"--pre-dump", "dump memory only, leaving the container running"},
          {"--empty-ns value", "a namespace to leave out of the dump"},
          {"--auto-dedup", "deduplicate memory pages against the parent images"}}},
        {"create",
         "create a container",
         "[command options] <container-id>",
         "Sets up the container from the bundle's config.json; its process waits for `start`.",
         {BUNDLE, CONSOLE_SOCKET, PID_FILE, NO_PIVOT, NO_KEYRING, PRESERVE_FD}},
        {"delete",
         "delete any resources held by the container",
         "[command options] <container-id>",
         "Removes a stopped container's state and cgroup (-f: a running one too, killing it).",
         {{"--force, -f", "kill the container first if it still runs"}}},
        {"events",
         "display container events such as OOM notifications and resource usage statistics",
         "[command options] <container-id>",
         "Streams JSON events: resource stats every interval, and oom events as they happen.",
         {{"--interval value", "time between two stats events (default: 5s)"},
          {"--stats", "print the stats once and exit"}}},
        {"exec",
         "execute new process inside the container",
         "[command options] <container-id> <command> [command options]  || -p process.json "
         "<container-id>",
         "Runs a process in a running container's namespaces and cgroup.",
         {CONSOLE_SOCKET,
          {"--cwd value", "working directory of the process"},
          {"--env value, -e value", "an environment variable KEY=VALUE (repeatable)"},
          {"--tty, -t", "give the process a pseudo-terminal"},
          {"--user value, -u value", "UID[:GID] of the process"},
          {"--additional-gids value, -g value", "a supplementary group (repeatable)"},
          {"--process value, -p value", "a process.json describing the whole process"},
          DETACH,
          PID_FILE,
          {"--process-label value", "an SELinux label for the process"},
          {"--apparmor value", "an AppArmor profile for the process"},
          {"--no-new-privs", "set no_new_privs for the process"},
          {"--cap value, -c value", "add a capability (repeatable)"},
          PRESERVE_FD,
          {"--cgroup value", "join an existing sub-cgroup: [<controller>:]<cgroup> (repeatable)"},
          {"--ignore-paused", "allow exec in a paused container"}}},
        {"kill",
         "send a signal (default: SIGTERM) to the container's init process",
         "[command options] <container-id> [signal]",
         "The signal is a name (KILL, SIGKILL) or a number.",
         {{"--all, -a", "signal every process of the container"}}},
        {"list",
         "lists containers started by berth-oci with the given root",
         "[command options] ",
         "Containers under --root (default: /run/berth-oci).",
         {{"--format value, -f value", "table or json (default: \"table\")"},
          {"--quiet, -q", "only the container ids"}}},
        {"pause",
         "pause suspends all processes inside the container",
         "<container-id>",
         "Freezes the container's cgroup.",
         {{0}}},
        {"ps",
         "ps displays the processes running inside a container",
         "[command options] <container-id> [ps options]",
         "Runs ps(1) with the options after the id (default: -ef), keeping the container's lines.",
         {{"--format value, -f value", "table or json (default: \"table\")"}}},
        {"restore",
         "restore a container from a previous checkpoint",
         "[command options] <container-id>",
         "Restores the container's processes with CRIU from the image path.",
         {CONSOLE_SOCKET,
          IMAGE_PATH,
          WORK_PATH,
          CRIU_COMMON,
          BUNDLE,
          DETACH,
          PID_FILE,
          {"--no-subreaper", "do not become a subreaper of the restored processes"},
          NO_PIVOT,
          {"--empty-ns value", "a namespace the dump left out, made empty"},
          {"--auto-dedup", "deduplicate memory pages while restoring"},
          {"--lazy-pages", "fetch memory lazily (userfaultfd)"},
          {"--lsm-profile value", "the LSM profile of the restored process"},
          {"--lsm-mount-context value", "the LSM mount context of the restored mounts"}}},
        {"resume",
         "resumes all processes that have been previously paused",
         "<container-id>",
         "Thaws the container's cgroup.",
         {{0}}},
        {"run",
         "create and run a container",
         "[command options] <container-id>",
         "create and start in one: waits for the process unless --detach.",
         {BUNDLE,
          CONSOLE_SOCKET,
          DETACH,
          {"--keep", "keep the stopped container until `delete`"},
          PID_FILE,
          {"--no-subreaper", "do not become a subreaper (berth-oci never does)"},
          NO_PIVOT,
          NO_KEYRING,
          PRESERVE_FD}},
        {"spec",
         "create a new specification file",
         "[command options] [arguments...]",
         "Writes a default config.json into the bundle directory.",
         {BUNDLE, {"--rootless", "a config for a container of an unprivileged user"}}},
        {"start",
         "executes the user defined process in a created container",
         "<container-id>",
         "Lets a created container's process run.",
         {{0}}},
        {"state",
         "output the state of a container",
         "<container-id>",
         "Prints the container's runtime-spec state as JSON.",
         {{0}}},
        {"update",
         "update container resource constraints",
         "[command options] <container-id>",
         "Changes the container's cgroup limits; with --resources, the other options are "
         "ignored.",
         {{"--resources value, -r value",
           "a linux.resources JSON file to apply ('-': standard input)"},
          {"--blkio-weight value", "block IO weight, 10 to 1000 (default: 0)"},
          {"--cpu-period value", "CFS period in microseconds"},
          {"--cpu-quota value", "CFS quota in microseconds per period"},
          {"--cpu-share value", "CPU shares (a relative weight)"},
          {"--cpu-rt-period value", "realtime period in microseconds"},
          {"--cpu-rt-runtime value", "realtime runtime in microseconds per period"},
          {"--cpuset-cpus value", "CPUs the container may use"},
          {"--cpuset-mems value", "memory nodes the container may use"},
          {"--memory value", "memory limit (bytes, or with a k/m/g unit; -1: none)"},
          {"--memory-reservation value", "memory soft limit"},
          {"--memory-swap value", "memory plus swap limit (-1: unlimited swap)"},
          {"--pids-limit value", "most processes at once (default: 0)"},
          {"--l3-cache-schema value", "Intel RDT L3 cache schema"},
          {"--mem-bw-schema value", "Intel RDT memory bandwidth schema"}}},
        {"features",
         "show the enabled features",
         "[arguments...]",
         "Prints what this runtime supports, as JSON.",
         {{0}}},
};

static const struct cmd_help *find(const char *cmd)
{
        for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
                if (strcmp(helps[i].name, cmd) == 0)
                        return &helps[i];
        return NULL;
}

void oci_help_command(const char *cmd, FILE *out)
{
        const struct cmd_help *h = find(cmd);
        if (h == NULL)
                return;
        fprintf(out, "NAME:\n   berth-oci %s - %s\n\nUSAGE:\n   berth-oci %s %s\n\n", h->name,
                h->summary, h->name, h->usage);
        fprintf(out, "DESCRIPTION:\n   %s\n", h->description);
        if (h->opts[0].spec == NULL)
                return;
        size_t w = 0;
        for (size_t i = 0; h->opts[i].spec; i++)
                if (strlen(h->opts[i].spec) > w)
                        w = strlen(h->opts[i].spec);
        fputs("\nOPTIONS:\n", out);
        for (size_t i = 0; h->opts[i].spec; i++)
                fprintf(out, "   %-*s  %s\n", (int) w, h->opts[i].spec, h->opts[i].text);
        fputs("   \n", out);
}

void oci_help_incorrect(const char *cmd, FILE *out)
{
        fputs("Incorrect Usage.\n\n", out);
        oci_help_command(cmd, out);
}

void oci_help_main(FILE *out, const char *version)
{
        fprintf(out,
                "NAME:\n   berth-oci - Open Container Initiative runtime\n\n"
                "berth-oci runs containers from OCI bundles (a config.json and a root "
                "filesystem),\n"
                "with runc's command line.\n\n"
                "USAGE:\n   berth-oci [global options] command [command options] [arguments...]\n\n"
                "VERSION:\n   %s\n\nCOMMANDS:\n",
                version);
        for (size_t i = 0; i < sizeof(helps) / sizeof(helps[0]); i++)
                fprintf(out, "   %-10s  %s\n", helps[i].name, helps[i].summary);
        fputs("   help, h     shows a list of commands or help for one command\n\n"
              "GLOBAL OPTIONS:\n"
              "   --debug                 enable debug logging\n"
              "   --log value             log to this file (default: standard error)\n"
              "   --log-format value      text or json (default: \"text\")\n"
              "   --root value            state directory (default: \"/run/berth-oci\")\n"
              "   --criu value            the criu binary (default: \"criu\")\n"
              "   --systemd-cgroup        (refused: berth-oci manages cgroupfs itself)\n"
              "   --rootless value        ignored: berth-oci finds out by itself\n"
              "   --help, -h              show help\n"
              "   --version, -v           print the version\n",
              out);
}
