/* cp.h — `berth cp`: files between a container and the host as tar streams.
 *
 * Paths inside the container are resolved against its root with
 * openat2(RESOLVE_IN_ROOT): a symlink in the container (even an absolute one,
 * even one swapped in while we copy) can never lead outside it.  The walk and
 * the extraction go through directory fds, never through host path strings. */
#ifndef BERTH_ENGINE_CP_H
#define BERTH_ENGINE_CP_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "common/error.h"
#include "engine/container.h"

struct archive;
struct archive_entry;

/* root_fd AT_FDCWD means the host: ordinary path resolution. */

/* Write path (resolved inside root_fd) to out_fd as a tar whose top entry is
 * named top_name (NULL: the path's last component), as `docker cp SRC -`. */
int eng_cp_tar_from(int root_fd, const char *path, const char *top_name, int out_fd,
                    berth_error_t *err);

/* Extract the tar read from in_fd into the directory dir (resolved inside
 * root_fd).  keep_owner: keep the archive's uid/gid (`cp -a`), else the
 * files belong to root.  Onto the host (root_fd AT_FDCWD) without keep_owner,
 * device nodes, FIFOs and sockets are skipped with a warning and files lose
 * their setuid and setgid bits: a container doesn't get to plant them there. */
int eng_cp_tar_into(int root_fd, const char *dir, int in_fd, bool keep_owner, berth_error_t *err);

/* The kind of what path names inside root_fd (S_IFDIR, S_IFREG, …), or -1
 * with errno when it doesn't exist or can't be reached. */
int eng_cp_stat(int root_fd, const char *path, mode_t *mode);

/* An O_PATH fd of the container's root as the container sees it (with its volumes) while it
 * runs, else of its root filesystem on the host (its overlay mounted again if need be). */
int eng_cp_container_root(struct eng_ctx *e, struct eng_container *c, berth_error_t *err);

/* lstat of path inside root_fd (its parents resolved in the root, the last component not
 * followed); a symlink's target in *link_target (malloc'ed, made absolute in the container),
 * else NULL. */
int eng_cp_lstat(int root_fd, const char *path, struct stat *st, char **link_target,
                 berth_error_t *err);

/* Reading a tar for the above (shared with cp_check.c).  A reader of the tar (any format and
 * compression) on in_fd, or NULL with err set; archive_read_free it. */
struct archive *eng_cp_tar_reader(int in_fd, berth_error_t *err);

/* The next entry of a, with its name stripped of leading "./" ("." and empty names skipped):
 * 1, 0 at the end, -1 with err set when the tar can't be read. */
int eng_cp_tar_next(struct archive *a, struct archive_entry **e, const char **name,
                    berth_error_t *err);

/* noOverwriteDirNonDir (cp_check.c): fails when an entry of the tar read from in_fd would
 * replace a directory under dir (in root_fd) with a non-directory or the reverse. */
int eng_cp_check_overwrite(int root_fd, const char *dir, int in_fd, berth_error_t *err);

#endif
