/* oci.h — berth's OCI runtime as a library: the operations of runc's CLI.
 *
 * Used by berth-oci (src/cmd/berth-oci.c) and, in-process, by berth's engine.
 * There is no long-lived runtime process: `create` leaves the container's
 * init blocked on <root>/<id>/exec.fifo until `start` opens it, as runc and
 * crun do.  All state lives in <root>/<id>/state.json.
 */
#ifndef BERTH_OCI_OCI_H
#define BERTH_OCI_OCI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/error.h"

/* runc's exit statuses: 1 for every runtime failure, 255 for a failed exec. */
#define OCI_EXIT_ERROR 1
#define OCI_EXIT_EXEC  255
/* The runtime-spec version berth-oci implements. */
#define OCI_SPEC_VERSION "1.1.0"

struct oci_ctx {
        const char *root; /* state root (--root) */
        bool systemd_cgroup;
        const char *criu; /* --criu: the criu binary (default: criu, from PATH) */
};

struct oci_create_opts {
        const char *bundle; /* default: cwd */
        const char *pid_file;
        const char *console_socket;
        bool no_pivot;
        bool no_new_keyring;
        int preserve_fds;
        bool detach; /* run only */
        bool keep;   /* run only: the stopped container stays until `delete` */
};

struct oci_exec_opts {
        const char *process_file; /* --process: a process JSON; else the fields below */
        char **args;
        bool tty;
        const char *console_socket;
        const char *cwd;
        char **env; /* added to the container's process.env */
        size_t n_env;
        const char *user; /* "uid[:gid]" */
        char **gids;      /* --additional-gids, appended to process.user.additionalGids */
        size_t n_gids;
        /* set (the engine's exec -u): process.user.additionalGids becomes these comma-separated
         * GIDs ("": none) before gids are appended, as Docker's exec replaces the user */
        const char *user_gids;
        char **caps; /* added to every capability set */
        size_t n_caps;
        bool no_new_privs;
        bool detach;
        const char *pid_file;
        int preserve_fds;
        bool ignore_paused; /* exec into a paused container (it runs once resumed) */
        char **cgroups;     /* --cgroup: sub-cgroups to join (see cgroup.h oci_cg_subs) */
        const char *process_label, *apparmor; /* refused: this runtime has no LSM support */
        size_t n_cgroups;
        /* > 0: a connected unix socket the pty master is sent over, as over console_socket
         * (for a caller that made a socketpair rather than a listening path) */
        int console_fd;
        pid_t *pid_out; /* when set: the process's pid, once it runs */
};

/* Default root: /run/berth-oci, or $XDG_RUNTIME_DIR/berth-oci when not root. */
char *oci_default_root(void);

int oci_create(struct oci_ctx *c, const char *id, const struct oci_create_opts *o,
               berth_error_t *err);
int oci_start(struct oci_ctx *c, const char *id, berth_error_t *err);
/* Foreground run returns the container's exit status in *status. */
int oci_run(struct oci_ctx *c, const char *id, const struct oci_create_opts *o, int *status,
            berth_error_t *err);
int oci_state(struct oci_ctx *c, const char *id, FILE *out, berth_error_t *err);
int oci_kill(struct oci_ctx *c, const char *id, int sig, bool all, berth_error_t *err);
int oci_delete(struct oci_ctx *c, const char *id, bool force, berth_error_t *err);
int oci_list(struct oci_ctx *c, bool json, bool quiet, FILE *out, berth_error_t *err);
int oci_exec(struct oci_ctx *c, const char *id, const struct oci_exec_opts *o, int *status,
             berth_error_t *err);
int oci_pause(struct oci_ctx *c, const char *id, bool pause, berth_error_t *err);
/* ps_args: ps(1)'s options for the table (NULL-terminated; none = -ef), as runc's. */
int oci_ps(struct oci_ctx *c, const char *id, bool json, char *const *ps_args, FILE *out,
           berth_error_t *err);
/* resources_json: a linux.resources object (update -r), may be NULL; then flags. */
int oci_update(struct oci_ctx *c, const char *id, const char *resources_json,
               const char *const *flag_kv, berth_error_t *err);
/* events: one stats event (stats_once), or stats every interval and oom events as they come,
 * until the container stops. */
int oci_events(struct oci_ctx *c, const char *id, bool stats_once, int64_t interval_ns, FILE *out,
               berth_error_t *err);
/* A Go duration ("5s", "1m30s", "250ms") in nanoseconds; -1 if it is none. */
int oci_duration_parse(const char *s, int64_t *ns);
int oci_features(FILE *out, berth_error_t *err);
int oci_spec_write(const char *bundle, bool rootless, berth_error_t *err);

/* checkpoint and restore (through CRIU): runc's options. */
struct oci_criu_opts {
        const char *image_path; /* default: ./checkpoint */
        const char *work_path;  /* default: the image path */
        const char *parent_path;
        const char *page_server; /* ADDRESS:PORT */
        const char *status_fd;
        const char *manage_cgroups_mode;
        const char *lsm_profile, *lsm_mount_context;
        char **empty_ns;
        size_t n_empty_ns;
        bool leave_running, tcp_established, ext_unix_sk, shell_job, file_locks, pre_dump,
                auto_dedup, lazy_pages;
};
int oci_checkpoint(struct oci_ctx *c, const char *id, const struct oci_criu_opts *o,
                   berth_error_t *err);
/* co: --bundle, --pid-file, --detach of restore */
int oci_restore(struct oci_ctx *c, const char *id, const struct oci_create_opts *co,
                const struct oci_criu_opts *o, berth_error_t *err);

/* Signal name ("KILL", "SIGKILL") or number → number; -1 if unknown. */
int oci_signal_parse(const char *s);
/* kill's signal as runc parses it: any integer (0 included; the kernel judges it) or a
 * name.  0, or -1 if neither. */
int oci_kill_signal(const char *s, int *sig);
/* --version in runc's layout: version, commit, spec, libseccomp. */
void oci_version(FILE *out);

/* CVE-2019-5736: make sure this process runs from a sealed memfd copy of its
 * binary, re-executing itself if not.  Returns only on failure or when
 * already sealed. */
int oci_ensure_sealed_self(char **argv, berth_error_t *err);

#endif
