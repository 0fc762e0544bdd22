/* container.h — containers as the user sees them: a docker-shaped record per
 * container, kept on disk so that every `berth` call (and the monitor) sees
 * the same truth.
 *
 *   <data_dir>/containers/<id>/container.json   Id, Name, Created, Image, Config, HostConfig, …
 *   <data_dir>/containers/<id>/state.json       State (Status, Pid, ExitCode, …), RestartCount
 *   <data_dir>/containers/<id>/summary.json     what ps reads of both (summary.h), rewritten
 *                                               after each write of either
 *   <data_dir>/containers/<id>/<id>-json.log    the json-file log
 *   <data_dir>/containers/<id>/lock             flock: one writer at a time
 *   <data_dir>/containers/.names/<name>         symlink → <id>: names are unique, atomically;
 *                                               made after the record's directory, so a name
 *                                               whose record is stale can be taken back
 *   <run_dir>/containers/<id>/                  the OCI bundle, the monitor's socket and pid
 *
 * container.json changes rarely (create, rename); state.json is rewritten at
 * every transition, always atomically and under the lock. */
#ifndef BERTH_ENGINE_CONTAINER_H
#define BERTH_ENGINE_CONTAINER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "common/paths.h"

#define ENG_ID_LEN 64

struct eng_ctx {
        char *data_dir;       /* <data_dir> (the image store lives under it too) */
        char *containers_dir; /* <data_dir>/containers */
        char *names_dir;      /* <data_dir>/containers/.names */
        char *run_dir;        /* <run_dir>/containers */
        char *oci_root;       /* <run_dir>/oci: berth-oci state of our containers */
        bool rootless;
        uid_t uid; /* the user's uid outside any user namespace (berth_paths.uid) */
};

int eng_ctx_init(struct eng_ctx *e, const struct berth_paths *p, berth_error_t *err);
void eng_ctx_free(struct eng_ctx *e);

/* Which version of a record file was read or written: a summary names the two it was made of. */
struct eng_stamp {
        uint64_t ino;
        int64_t size;
        int64_t mtime_ns;
};

struct eng_container {
        char id[ENG_ID_LEN + 1];
        char *dir;     /* <containers_dir>/<id> */
        char *run_dir; /* <run_dir>/<id> */
        json_t *doc;   /* container.json */
        json_t *state; /* state.json: {"State": {...}, "RestartCount": n, "Monitor": {...}} */
        int lock_fd;   /* held flock, or -1 */
        /* doc and state hold the summary's fields only (eng_container_list_brief): saving is
         * refused until eng_container_full (or the lock) has read the records */
        bool partial;
        struct eng_stamp doc_stamp, state_stamp; /* of the files doc and state came from */
};

/* Docker's rule for names: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
bool eng_name_valid(const char *name);

/* A fresh record: new id, the name reserved (generated when name is NULL),
 * directories made, the lock held, State "created".  On failure nothing is
 * left behind.  A taken name fails with Docker's "Conflict" message (125). */
int eng_container_new(struct eng_ctx *e, const char *name, struct eng_container **out,
                      berth_error_t *err);

/* Find by full id, name ("/name" too) or unique id prefix; loads both files.
 * Unknown: "No such container: X" (exit 125... Docker uses 1 for some verbs;
 * the error's status is 125 and callers may override). */
int eng_container_find(struct eng_ctx *e, const char *what, struct eng_container **out,
                       berth_error_t *err);

/* Take the lock and reload state.json (another process may have changed it); a partial
 * record is read whole. */
int eng_container_lock(struct eng_container *c, berth_error_t *err);
void eng_container_unlock(struct eng_container *c);

int eng_container_save(struct eng_container *c, berth_error_t *err);       /* both files */
int eng_container_save_state(struct eng_container *c, berth_error_t *err); /* state.json */
/* container.json alone, without waiting for the disk: for what each start rewrites anyway
 * (NetworkSettings), where a power loss may only bring back the previous start's values. */
int eng_container_save_runtime(struct eng_container *c, berth_error_t *err);

/* Every container, sorted newest first (as `docker ps`). */
int eng_container_list(struct eng_ctx *e, struct eng_container ***out, size_t *n,
                       berth_error_t *err);
/* The same from the summaries (partial records: what ps and the API's list show); a missing or
 * stale summary is rebuilt from the records. */
int eng_container_list_brief(struct eng_ctx *e, struct eng_container ***out, size_t *n,
                             berth_error_t *err);
/* Read the whole record of a partial one (a no-op for a full one). */
int eng_container_full(struct eng_container *c, berth_error_t *err);
void eng_container_list_free(struct eng_container **v, size_t n);

/* Move the name; the old one is released only once the new one is held. */
int eng_container_rename(struct eng_ctx *e, struct eng_container *c, const char *new_name,
                         berth_error_t *err);

/* Delete the record: its directories and its name.  Caller holds the lock. */
int eng_container_remove_record(struct eng_ctx *e, struct eng_container *c, berth_error_t *err);

void eng_container_free(struct eng_container *c);

/* Crashed makers and removers.  A record directory without container.json or state.json
 * whose lock no one holds (or that lost its lock file a while ago) is half-made: its maker
 * or remover died.  1: stale (*lock_fd then holds its lock, or is -1 where there is none to
 * hold; the directory may be missing altogether), 0: a live record or one at work. */
bool eng_id_valid(const char *s);
int eng_record_stale(struct eng_ctx *e, const char *id, int *lock_fd);
/* Remove a stale record: its run directory, the names pointing at it, its directory. */
int eng_record_remove_half(struct eng_ctx *e, const char *id, berth_error_t *err);
/* Drop every name whose holder is stale. */
int eng_names_sweep(struct eng_ctx *e, berth_error_t *err);
/* Remove the .new-<id> directories a crash left between mkdir and rename. */
int eng_new_dirs_sweep(struct eng_ctx *e, berth_error_t *err);

/* Tests only: raise SIGKILL when BERTH_TEST_CRASH_AT names WHERE (tests/e2e/crash.bats). */
void eng_test_crash_point(const char *where);

/* Accessors for the common fields. */
const char *eng_container_name(const struct eng_container *c); /* without the leading '/' */
json_t *eng_container_state(struct eng_container *c);          /* the State object */
const char *eng_container_status(struct eng_container *c);     /* State.Status */
/* A status whose container has processes: running, paused or restarting. */
bool eng_status_live(const char *status);

/* "2026-11-25T08:00:00.123456789Z" for now; Docker's zero time is
 * "0001-01-01T00:00:00Z". */
char *eng_now_rfc3339(void);
#define ENG_ZERO_TIME "0001-01-01T00:00:00Z"

#endif
