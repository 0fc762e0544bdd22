/* lifecycle.h — what `berth start/stop/kill/rm/wait/ps` do to a container:
 * spawning its monitor, signalling it, waiting for it, and telling the truth
 * when a monitor died (kill -9) without recording the exit. */
#ifndef BERTH_ENGINE_LIFECYCLE_H
#define BERTH_ENGINE_LIFECYCLE_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"
#include "engine/container.h"
#include "engine/logfile.h"

/* Every container, each reconciled (see eng_reconcile). */
int eng_list_reconciled(struct eng_ctx *e, struct eng_container ***v, size_t *n,
                        berth_error_t *err);
/* The same from the summaries (eng_container_list_brief): for ps and the API's list.  A
 * container that needs reconciling is read whole first. */
int eng_list_reconciled_brief(struct eng_ctx *e, struct eng_container ***v, size_t *n,
                              berth_error_t *err);

/* If the record says the container is live but its monitor is gone, find
 * what really happened and write it down: the orphaned container is killed
 * (nobody holds its stdio any more) and recorded as exited 137 with an
 * Error; a restart policy of always/unless-stopped then starts it again. */
int eng_reconcile(struct eng_ctx *e, struct eng_container *c, berth_error_t *err);

/* Is the monitor recorded in state.json alive? */
bool eng_monitor_alive(struct eng_container *c);
/* The pid of the container's live monitor, or 0. */
pid_t eng_monitor_pid(struct eng_container *c);

struct eng_start_opts {
        bool wait_attach;    /* the monitor starts the container when an attach asks */
        bool remove_on_exit; /* the monitor removes the container when it is done */
};

/* Spawn the monitor and wait for its word.  With wait_attach, returns when
 * the container is created and the attach socket is ready; the caller then
 * attaches and sends ENG_FRAME_START, and reads the rest from *sync_fd.
 * Otherwise returns once the container runs (*sync_fd is -1). */
int eng_start(struct eng_ctx *e, struct eng_container *c, const struct eng_start_opts *o,
              int *sync_fd, berth_error_t *err);

/* Read the monitor's last word: "started PID" → 0, "error S MSG" → -1. */
int eng_start_result(int sync_fd, pid_t *pid, berth_error_t *err);

/* StopSignal, then SIGKILL after timeout seconds (< 0: the container's
 * StopTimeout, else 10).  Marks it manually stopped: no restart. */
int eng_stop(struct eng_ctx *e, struct eng_container *c, int timeout, berth_error_t *err);

int eng_kill(struct eng_ctx *e, struct eng_container *c, int sig, berth_error_t *err);

/* Block until the container is not running; its exit code. */
int eng_wait(struct eng_ctx *e, struct eng_container *c, int *code, berth_error_t *err);

/* Remove a container: refused while it runs unless force (then killed). */
int eng_remove(struct eng_ctx *e, struct eng_container *c, bool force, berth_error_t *err);

/* eng_remove, and with volumes (`rm -v`, DELETE ?v=1) its anonymous volumes too, as --rm
 * always does; named volumes stay, and a volume another container uses stays. */
int eng_remove_volumes(struct eng_ctx *e, struct eng_container *c, bool force, bool volumes,
                       berth_error_t *err);

int eng_pause(struct eng_ctx *e, struct eng_container *c, bool pause, berth_error_t *err);

/* What Docker's exec adds to a command run in the running container c.  user (-u, NULL when
 * not given): a name or uid, with an optional group name or gid, resolved in the container's
 * /etc/passwd and /etc/group as `run -u` is; *uid_gid gets "UID:GID" and *gids the
 * supplementary groups that replace the container's, comma-separated ("G1,G2", the container's
 * --group-add included, as Docker's exec; rootless without the primary gid, as the spec has
 * it); both malloc'ed, NULL without user.  *term_env:
 * "TERM=xterm" with tty unless the container's Config.Env or env (the exec's own -e list) sets
 * TERM, else NULL.  An unknown user fails with status 126, as Docker's exec. */
int eng_exec_defaults(struct eng_container *c, bool rootless, const char *user, bool tty,
                      char *const *env, size_t n_env, char **uid_gid, char **gids,
                      const char **term_env, berth_error_t *err);

/* What reading container c's log takes: *path (its LogPath, owned by c) and o->max_file from
 * its log options; with o->follow, *monitor_fd is a pidfd of its live monitor (readable once
 * the monitor is gone), or -1 with o->follow cleared: nothing more will come.  The "none" log
 * driver keeps nothing: that fails (status 1) with Docker's message. */
int eng_container_log_source(struct eng_container *c, struct eng_log_read_opts *o,
                             const char **path, int *monitor_fd, berth_error_t *err);

#endif
