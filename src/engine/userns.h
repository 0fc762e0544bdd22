/* userns.h — rootless berth's user namespace.
 *
 * As Podman does, an unprivileged user's berth runs every container and image operation as
 * root in one long-lived user + mount namespace per user: uid 0 inside is the user, uids
 * 1..N are the user's subordinate ids from /etc/subuid (mapped by the setuid newuidmap and
 * newgidmap of Debian's uidmap package).  Inside, image layers keep their owners, containers
 * can switch users, and overlay mounts work (Linux 5.11+, with `userxattr`); the mounts live
 * in the namespace's mount table, so they outlast the CLI call that made them and vanish with
 * the namespace, never on the host.
 *
 * A tiny "berth-pause" process holds the namespaces; its pid is in RUN_DIR/pause.pid, and
 * every later call joins it (two setns).  If it is gone (killed, or after a reboot) the next
 * call makes a new one; the overlay mounts of stopped containers are then made again when
 * they start (eng_rootfs_mount).  Without subordinate ids (or without newuidmap) only the
 * user's own uid and gid are mapped, with a warning: containers still run, as root only. */
#ifndef BERTH_ENGINE_USERNS_H
#define BERTH_ENGINE_USERNS_H

#include "common/error.h"

/* Join (making it first if need be) the user's namespace.  Root does nothing; neither does a
 * process already inside (euid 0 there).  Must be called while single-threaded, before any
 * thread exists.  Keeps the working directory.  Sets BERTH_ROOTLESS_UID for children. */
int eng_userns_enter(const char *run_dir, berth_error_t *err);

#endif
