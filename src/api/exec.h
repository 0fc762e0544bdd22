/* exec.h — what the exec handlers (exec.c) and the exec's stream (exec_io.c) share: the exec
 * instances, which the service keeps in memory as dockerd does (they are not container state:
 * a restart of the service forgets them). */
#ifndef BERTH_API_EXEC_H
#define BERTH_API_EXEC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "engine/container.h"

enum exec_state { EXEC_CREATED, EXEC_RUNNING, EXEC_EXITED };

/* Set at create and then read-only, but for the fields under "exec_lock". */
struct exec_inst {
        char id[65];
        char container_id[ENG_ID_LEN + 1];
        char **cmd; /* NULL-terminated, at least one */
        char **env; /* NULL-terminated */
        size_t n_env;
        char *user, *workdir, *detach_keys;
        bool tty, open_stdin, open_stdout, open_stderr, privileged;
        int64_t created_ns;
        /* under exec_lock; an instance is freed only while not EXEC_RUNNING */
        enum exec_state state;
        int exit_code;
        pid_t pid;
        int master;                /* the pty's master while it runs (resize), else -1 */
        unsigned short rows, cols; /* the size asked for, 0 0: none */
        int64_t finished_ns;
        json_t *event_attrs; /* the container's, for exec_start and exec_die */
        char *events_dir;
        struct exec_inst *next;
};

/* An exec event of the instance's container: "VERB: CMD…" (exec_create, exec_start) with
 * execID, or exec_die with its exitCode too. */
void exec_event(struct exec_inst *x, const char *verb);

extern pthread_mutex_t exec_lock;

/* What one start runs: the instance (EXEC_RUNNING, so not freed meanwhile) and what the
 * start resolved in the container. */
struct exec_launch {
        struct exec_inst *x;
        char *oci_root;
        char *uid_gid; /* "UID:GID" or NULL */
        char *gids;    /* with uid_gid: the supplementary groups, "G1,G2" */
        char **env;    /* the instance's Env plus TERM where the tty wants it */
        size_t n_env;
        char *fail; /* a failure to report in the stream instead of running */
        int fail_status;
        bool hijacked; /* the stream began */
};

/* Run l's exec and relay its stdio over client_fd (-1: detached, output discarded), with
 * Docker's framing without a tty; mark it exited when it is over.  Frees nothing. */
void exec_io_run(struct exec_launch *l, int client_fd, const char *extra, size_t extra_len);

/* Mark x exited with status (under the lock), as the last touch of a runner. */
void exec_finish(struct exec_inst *x, int status);

/* Apply x's asked size to its pty, if it has one (caller holds exec_lock). */
void exec_apply_size_locked(struct exec_inst *x);

#endif
