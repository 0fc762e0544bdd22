/* exec.h — a command run in a running container from a forked helper, for callers that must
 * not have their own process changed: the Engine API's exec, in a multi-threaded service.
 *
 * liboci's oci_exec enters the container's pid (and user) namespaces in its caller and waits
 * for its child; a thread of the service cannot do either.  eng_exec_spawn forks a helper that
 * calls oci_exec and reports, over a pipe, the process's pid and then its exit status. */
#ifndef BERTH_ENGINE_EXEC_H
#define BERTH_ENGINE_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

struct eng_exec_spec {
        char **args; /* NULL-terminated */
        char **env;  /* added to the container's Env (TERM included where wanted) */
        size_t n_env;
        const char *user; /* "UID:GID" (eng_exec_defaults), NULL: the container's */
        const char *gids; /* with user: its supplementary groups, "G1,G2" (eng_exec_defaults) */
        const char *cwd;  /* NULL: the container's */
        bool tty;
        bool privileged; /* the capabilities `docker exec --privileged` adds */
        int stdio[3];    /* without tty: the process's stdin, stdout, stderr (-1: /dev/null) */
        int console;     /* with tty: a unix socket the pty's master is sent over */
};

struct eng_exec_proc {
        pid_t helper;  /* the forked helper, reaped by eng_exec_wait */
        int report_fd; /* its reports */
        pid_t pid;     /* the process, once eng_exec_started said so */
};

/* A new exec instance's id: 64 hex digits, as Docker's. */
void eng_exec_new_id(char id[65]);

/* Fork the helper; the caller then closes its copies of spec->stdio and console.  The fds the
 * caller keeps must be close-on-exec: the helper closes all others it inherited at once. */
int eng_exec_spawn(const char *oci_root, const char *id, const struct eng_exec_spec *s,
                   struct eng_exec_proc *p, berth_error_t *err);

/* Block until the process runs (p->pid set), or fail with what kept it from starting: errnum
 * ENOENT for a command that is not there, EACCES for one that cannot run.  On failure the
 * helper is reaped. */
int eng_exec_started(struct eng_exec_proc *p, berth_error_t *err);

/* Block until the process exits: its status as a shell reports it (128+N for signal N).  Reaps
 * the helper and closes report_fd. */
int eng_exec_wait(struct eng_exec_proc *p);

#endif
