/* idmap.h — user-namespace id maps: /etc/subuid and /etc/subgid entries, and what the
 * calling process's own /proc/self/{uid,gid}_map say.
 *
 * Rootless berth lives in a user namespace of its own (see engine/userns.h): these are the
 * facts it is built from, kept apart from the processes so that they can be unit-tested on
 * plain files. */
#ifndef BERTH_COMMON_IDMAP_H
#define BERTH_COMMON_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/error.h"

#define BERTH_SUBID_MAX_RANGES 8

struct berth_subid_range {
        uint32_t start, count;
};

/* The ranges /etc/subuid-style file PATH delegates to the user NAME or numeric UID, in file
 * order (as shadow's newuidmap accepts them); at most BERTH_SUBID_MAX_RANGES.  A missing
 * file is no ranges, not an error; so is a file without the user.  Malformed lines are
 * skipped, as shadow skips them. */
int berth_subid_ranges(const char *path, const char *name, uid_t uid, struct berth_subid_range *out,
                       size_t *n, berth_error_t *err);

/* One line of a uid_map or gid_map. */
struct berth_idmap {
        uint32_t inside, outside, count;
};

/* Have TOOL ("newuidmap" or "newgidmap", setuid root, from Debian's uidmap) write the N
 * lines of M as PID's uid or gid map; they check /etc/subuid or /etc/subgid for us.  Its own
 * complaint goes to stderr; the error says it failed and how. */
int berth_newidmap(const char *tool, int pid, const struct berth_idmap *m, size_t n,
                   berth_error_t *err);

/* Is ID (a number as seen inside) covered by the map text TEXT ("inside outside count"
 * lines, the format of /proc/PID/uid_map)? */
bool berth_idmap_text_covers(const char *text, uint32_t id);

/* Is ID covered by this process's own /proc/self/uid_map (UID) or gid_map? */
bool berth_self_maps_id(bool gid, uint32_t id);

/* Does this process run in a user namespace other than the initial one (its uid_map is not
 * the identity "0 0 4294967295")?  There root is not root: no mknod, no trusted.* xattrs,
 * no cgroupfs writes, and overlay wants `userxattr`. */
bool berth_in_userns(void);

#endif
