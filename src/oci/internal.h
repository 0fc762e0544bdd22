/* internal.h — what the files of src/oci share but nothing outside uses. */
#ifndef BERTH_OCI_INTERNAL_H
#define BERTH_OCI_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "common/error.h"
#include "oci/cgroup.h"
#include "oci/oci.h"
#include "oci/spec.h"

/* ----------------------------------------------------------------- state.c */

enum oci_status { OCI_CREATING, OCI_CREATED, OCI_RUNNING, OCI_PAUSED, OCI_STOPPED };

struct oci_state {
        char *id;
        char *dir; /* <root>/<id> */
        pid_t pid;
        uint64_t pid_start; /* /proc/PID/stat starttime: guards against pid reuse */
        char *bundle;
        char *rootfs;
        char *created; /* RFC 3339 */
        uid_t owner;
        char *cgroup_root, *cgroup_path, *cgroup_kind;
        json_t *annotations;
        char *oci_version;
};

bool oci_id_valid(const char *id);
char *oci_state_dir(struct oci_ctx *c, const char *id);
int oci_state_save(const struct oci_state *st, berth_error_t *err);
/* <root>/<id> is there (a container of that id exists, maybe half-created) */
bool oci_state_exists(struct oci_ctx *c, const char *id);
/* Load <root>/<id>/state.json; a clear "container does not exist" error otherwise. */
int oci_state_load(struct oci_ctx *c, const char *id, struct oci_state *st, berth_error_t *err);
void oci_state_release(struct oci_state *st);
enum oci_status oci_state_status(const struct oci_state *st);
const char *oci_status_name(enum oci_status s);
/* The runtime-spec state document (what `state` prints and hooks read on stdin). */
json_t *oci_state_json(const struct oci_state *st, enum oci_status s);
int oci_state_cgroup(const struct oci_state *st, struct oci_cgroup *cg);
/* /proc/PID/stat start time; 0 if gone or a zombie. */
uint64_t oci_proc_starttime(pid_t pid);

/* ----------------------------------------------------------------- stats.c */

/* The `data` of runc's stats event for the cgroup, as one JSON object. */
int oci_stats_write(const struct oci_cgroup *cg, FILE *out, berth_error_t *err);

/* ----------------------------------------------------------------- hooks.c */

int oci_hooks_run(const struct oci_spec *s, enum oci_hook_kind k, const char *state_json,
                  berth_error_t *err);
/* poststart and poststop: a failing hook is a warning, and the others still run. */
void oci_hooks_run_warn(const struct oci_spec *s, enum oci_hook_kind k, const char *state_json);

/* --------------------------------------------------------------- process.c */

/* Everything between "the init is set up" and execve, shared by the container's
 * init and `exec`: rlimits, user, capabilities, seccomp, then signals and execve. */
struct oci_exec_plan {
        const struct oci_process *proc;
        const struct oci_seccomp *seccomp;
        const struct sock_fprog *seccomp_bpf; /* when set: seccomp, compiled (exec) */
        const char *path;                     /* resolved program path */
        int preserve_fds;
        bool in_userns;
        /* the runtime's sync socket: a notifying filter's listener goes to it the moment the
         * filter is loaded (oci_seccomp_hand_over), as runc's, before the runtime's own calls
         * that follow could be ones the filter notifies with no agent yet to answer them */
        int sync_fd;
};
int oci_process_resolve(const struct oci_process *p, char **path, berth_error_t *err);
int oci_process_prepare(const struct oci_process *p, berth_error_t *err);
/* First all but the execve (*notify_fd: -1, a notifying seccomp filter's listener having
 * gone to the runtime by plan->sync_fd as soon as it was loaded); then, maybe after waiting
 * for `start`, the execve (returns only on failure). */
int oci_process_finalize(const struct oci_exec_plan *plan, int *notify_fd, berth_error_t *err);
int oci_process_execve(const struct oci_exec_plan *plan, berth_error_t *err);
int oci_caps_apply(const struct oci_process *p, berth_error_t *err);

/* --------------------------------------------------------------- seccomp.c */

/* Load the filter into the calling thread; *notify_fd: its listener, for a filter with
 * SCMP_ACT_NOTIFY rules (else -1), for the runtime to send to listenerPath. */
int oci_seccomp_load(const struct oci_seccomp *sc, int *notify_fd, berth_error_t *err);
bool oci_seccomp_notifies(const struct oci_seccomp *sc);
/* Send the listener fd that process PID holds as its fd NOTIFY_FD to the seccomp agent at
 * listenerPath (resolved here, on the host), with runc's containerProcessState: the
 * container ST seen as STATUS.  Called by the runtime, while PID waits for it. */
int oci_seccomp_send_listener(const struct oci_seccomp *sc, const struct oci_state *st,
                              enum oci_status status, pid_t pid, int notify_fd, berth_error_t *err);
/* exec's filter, compiled once per container into <dir>/seccomp.bpf (the container's spec does
 * not change while it lives) and read from there after: libseccomp's compile is most of an
 * exec's cost.  prog->filter stays NULL (and 0 is returned) for a filter with flags or a
 * notify listener, which only oci_seccomp_load can install. */
struct sock_fprog;
int oci_seccomp_bpf(const struct oci_seccomp *sc, const char *dir, struct sock_fprog *prog,
                    berth_error_t *err);
int oci_seccomp_load_bpf(const struct sock_fprog *prog, berth_error_t *err);

/* -------------------------------------------------------------- terminal.c */

int oci_console_connect(const char *path, berth_error_t *err);
/* Make a pty in the current mount namespace (its /dev/ptmx), send the master
 * over sock, and make the slave our stdio and controlling terminal. */
int oci_terminal_setup(int sock, const struct oci_process *p, berth_error_t *err);
/* Copy stdin ↔ master ↔ stdout until the master closes or pid exits (run / exec -t). */
void oci_terminal_proxy(int master);

/* ----------------------------------------------------------------- linux.c */

/* The parent ↔ init sync protocol over a SOCK_SEQPACKET pair. */
/* GO: id maps written, cgroup made; CGROUP: the init has joined its cgroup
 * (sent while the init already builds its rootfs). */
enum oci_sync_type {
        OCI_SYNC_GO = 1,
        OCI_SYNC_READY,
        OCI_SYNC_ERROR,
        OCI_SYNC_HOOKS,
        OCI_SYNC_HOOKS_DONE,
        OCI_SYNC_CGROUP,
        OCI_SYNC_SECCOMP, /* errnum: the seccomp listener's fd number in the sender */
        OCI_SYNC_SECCOMP_DONE,
        OCI_SYNC_MOUNTS /* errnum: a mount's index; the answer: its bind source's fd, or an
                           errno in errnum */
};
struct oci_sync_msg {
        int type;
        int errnum;
        char text[1024];
};
int oci_sync_send(int fd, int type, const berth_error_t *err);
int oci_sync_recv(int fd, struct oci_sync_msg *m, berth_error_t *err);
/* The init's OCI_SYNC_ERROR M as an error (status 1), keeping its errno (callers map ENOENT
 * and EACCES to 127 and 126) without its message said twice; returns -1. */
int oci_sync_error(struct oci_sync_msg *m, berth_error_t *err);
/* The process's side of handing NOTIFY_FD to the runtime (OCI_SYNC_SECCOMP), which sends it
 * to the seccomp agent; closes it.  Only write, read and close: runc refuses NOTIFY for
 * write, and the agent has the fd before read or close could wait on it. */
int oci_seccomp_hand_over(int sync_fd, int notify_fd, berth_error_t *err);
/* The runtime's side: M is OCI_SYNC_SECCOMP from PID; answers it on SYNC_FD. */
int oci_seccomp_take_over(const struct oci_spec *spec, const struct oci_state *st,
                          enum oci_status status, pid_t pid, int sync_fd,
                          const struct oci_sync_msg *m, berth_error_t *err);

struct oci_init_args {
        const struct oci_spec *spec;
        const char *rootfs;
        const char *id;
        const char *cgroup_path;
        int sync_fd;
        int state_dirfd; /* exec.fifo lives here */
        int console_fd;  /* -1 without a terminal */
        int ns_fds[8];   /* joined namespaces by kind index, -1 = none */
        bool no_pivot;
        bool no_new_keyring;
        int preserve_fds;
        bool hooks_runtime; /* ask the parent to run createRuntime/prestart */
        bool in_cgroup;     /* the parent said OCI_SYNC_CGROUP */
        bool in_userns;     /* oci_in_userns(), asked once while /proc is the host's */
        bool cgroup_said;   /* OCI_SYNC_CGROUP came while waiting for another answer */
};
/* Body of the container's init (runs in the cloned child); never returns. */
__attribute__((noreturn)) void oci_init_main(struct oci_init_args *a);

/* Namespace kind table for /proc/PID/ns names. */
struct oci_ns_kind {
        int flag;
        const char *proc_name;
};
extern const struct oci_ns_kind oci_ns_kinds[8];

/* --------------------------------------------------------------- mounts.c */

/* before_cgroup runs once, before the first cgroup mount.  bind_source(arg, I) is asked for
 * mounts[I]'s bind source when the init may not look it up itself (EACCES: a user namespace
 * that can't search the path); it returns an O_PATH fd of it, -1 with errno set when the
 * runtime can't open it either, or -2 with ERR set. */
int oci_mounts_setup(const struct oci_spec *s, const char *rootfs, int rootfd, bool in_userns,
                     bool new_cgroupns, const char *cgroup_path,
                     int (*bind_source)(void *arg, size_t i, berth_error_t *err),
                     int (*before_cgroup)(void *arg, berth_error_t *err), void *arg,
                     berth_error_t *err);
int oci_devices_setup(const struct oci_spec *s, int rootfd, bool in_userns, berth_error_t *err);
int oci_rootfs_finish(const struct oci_spec *s, bool in_userns, berth_error_t *err);

/* Is the container in a user namespace: its own (the spec has one), or the one we run in
 * (rootless berth's)?  There mknod, some remounts and cgroupfs writes are refused. */
bool oci_in_userns(const struct oci_spec *s);
/* Open (creating as needed) path inside root without leaving it. O_PATH fd. */
int oci_open_in_root(int rootfd, const char *path, bool create, bool dir, berth_error_t *err);
/* The runtime's answer to the init's OCI_SYNC_MOUNTS M (errnum: a mount's index): that bind
 * source opened O_PATH as the runtime, inside the init's mount namespace (/proc/PID/root),
 * sent back on SYNC_FD as OCI_SYNC_MOUNTS with the fd, or without one and errnum the errno. */
int oci_bind_source_send(const struct oci_spec *s, pid_t pid, int sync_fd,
                         const struct oci_sync_msg *m, berth_error_t *err);

#endif
