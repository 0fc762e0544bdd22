/* runflags.h — the flags of `berth run` and `berth create`, read the way Docker reads them, into
 * the docker-shaped Config and HostConfig objects that `docker inspect` shows.
 *
 *   struct eng_run_flags f;
 *   if (eng_runflags_parse(argc, argv, ENG_RUN_RUN, &f, err) < 0)
 *           return -1;                      // message is Docker's, exit status 125
 *   image = argv[f.cli.image_index];        // the command is Config.Cmd
 *   ...
 *   eng_runflags_release(&f);
 *
 * argv[0] is the subcommand's name ("run"); flags are read from argv[1] up to the first argument
 * that is not a flag (the IMAGE) or up to "--".  Everything after the IMAGE is the command.
 * Both `--flag value` and `--flag=value`, combined short flags (`-dit`, `-eFOO=1`) and repeated
 * flags work as in Docker's CLI.  Values are checked here as far as they can be without the
 * image (units, modes, formats, conflicts); what needs the rootfs or host paths is checked by
 * eng_spec_build().  Every error carries exit status 125. */
#ifndef BERTH_ENGINE_RUNFLAGS_H
#define BERTH_ENGINE_RUNFLAGS_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"

enum eng_run_mode {
        ENG_RUN_RUN,    /* `berth run`: also -d, --sig-proxy, --detach-keys */
        ENG_RUN_CREATE, /* `berth create` */
};

/* The options only the CLI acts on (not part of Config/HostConfig). */
struct eng_run_cli {
        char *name;        /* --name, NULL when not given (validated as Docker's names) */
        bool detach;       /* -d */
        bool interactive;  /* -i */
        bool tty;          /* -t */
        bool rm;           /* --rm (also HostConfig.AutoRemove) */
        bool sig_proxy;    /* --sig-proxy, default true */
        bool quiet;        /* -q: no pull progress */
        char *detach_keys; /* --detach-keys, NULL = Docker's default ctrl-p,ctrl-q */
        char *pull;        /* --pull: "missing" (default), "always" or "never" */
        char *platform;    /* --platform as given when it names linux/amd64, else NULL */
        int image_index;   /* argv index of the IMAGE argument */
};

struct eng_run_flags {
        json_t *config;      /* Docker's Config (Image, Cmd, Env, Labels, …) */
        json_t *host_config; /* Docker's HostConfig (Memory, Binds, RestartPolicy, …) */
        json_t *networking;  /* Docker's NetworkingConfig ({"EndpointsConfig": {NET: {Aliases,
                                IPAMConfig, MacAddress}}}) when --network-alias, --ip, --ip6 or
                                --mac-address were given, else NULL */
        struct eng_run_cli cli;
        /* Set by eng_create: what Docker's daemon returns as the create's "Warnings" (a limit
         * the host can't apply, discarded); the docker CLI prints each as "WARNING: …" */
        json_t *warnings;
};

/* Exit statuses as Docker's (issue #16, tests/compat create-*): a flag or value the docker CLI
 * refuses itself is 125 for run and create; one its daemon refuses is 125 for run, but create
 * returns the daemon's error plainly, 1. An argument count (and run's -a with -d) is 1 for both. */
int eng_runflags_parse(int argc, char *const argv[], enum eng_run_mode mode,
                       struct eng_run_flags *out, berth_error_t *err);

void eng_runflags_release(struct eng_run_flags *f);

/* A signal as --stop-signal and Config.StopSignal spell it ("SIGTERM", "TERM", "15") → its
 * number, or -1. */
int eng_signal_number(const char *name);

#endif
