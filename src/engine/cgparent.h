/* cgparent.h — where a container's cgroup goes (its OCI cgroupsPath).
 *
 * Root: /berth/<id> under every hierarchy.  A rootless user on a unified cgroup v2 host gets
 * a cgroup only where systemd delegated one: user@UID.service (owned by the user, with the
 * controllers systemd delegates, usually memory and pids, often cpu and io too), so its
 * containers go to <that>/berth/<id> and keep their limits, as rootless Docker's and
 * Podman's do.  Rootless on cgroup v1, or v2 without delegation, gets no cgroup at all. */
#ifndef BERTH_ENGINE_CGPARENT_H
#define BERTH_ENGINE_CGPARENT_H

#include <stdbool.h>
#include <sys/types.h>

/* The delegated cgroup of UID in the v2 tree mounted at CGROOT, as a path from the root
 * ("/user.slice/user-1000.slice/user@1000.service"), or NULL if there is none.  SELF is this
 * process's /proc/self/cgroup text: the delegated cgroup must contain our own (else the
 * container's init could not be moved into it), and without systemd's the highest ancestor
 * of our own cgroup that the user owns is taken.  UID is the user's id outside any
 * user namespace (it names systemd's cgroup); OWNER is how that user's files look to us
 * (0 inside rootless berth's namespace). */
char *eng_cgroup_delegated(const char *cgroot, uid_t uid, uid_t owner, const char *self);

/* The cgroupsPath for container ID (malloc'ed), or NULL for none. */
char *eng_cgroup_path(const char *cgroot, bool rootless, uid_t uid, uid_t owner, const char *id);

/* The v2 directory of the container (cgroot + cgroupsPath from its bundle's config.json), or
 * NULL when its bundle names none.  Readers (stats, top) use it on v2 hosts. */
char *eng_cgroup_v2_dir(const char *cgroot, const char *bundle_dir);

#endif
