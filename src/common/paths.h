/* paths.h — the one place that decides where berth keeps state.
 *
 *                 root                 rootless (euid != 0)
 *   run_dir       /run/berth           $XDG_RUNTIME_DIR/berth (else /run/user/UID/berth)
 *   data_dir      /var/lib/berth       $XDG_DATA_HOME/berth   (else ~/.local/share/berth)
 *
 * run_dir holds live state (gone at reboot): bundles, sockets, pids, locks.
 * data_dir holds what must survive: images, container configs and logs,
 * volumes, disks.  BERTH_RUN_DIR / BERTH_DATA_DIR override both (tests use
 * them to keep each run's state private).  BERTH_ROOTLESS_UID=UID (set by rootless berth
 * for the processes it starts inside its user namespace, where euid is 0) means rootless.
 */
#ifndef BERTH_COMMON_PATHS_H
#define BERTH_COMMON_PATHS_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"

struct berth_paths {
        bool rootless;
        uid_t uid; /* the user's uid outside any user namespace (BERTH_ROOTLESS_UID's) */
        char *run_dir;
        char *data_dir;
};

/* Environment lookups are passed in (getenv in production) so that tests
 * can exercise every branch. */
typedef const char *(*berth_getenv_fn)(const char *name);

int berth_paths_resolve(struct berth_paths *p, uid_t euid, berth_getenv_fn env, berth_error_t *err);
int berth_paths_default(struct berth_paths *p, berth_error_t *err);
void berth_paths_free(struct berth_paths *p);

/* NAME next to this process's own binary (berth-monitor beside berth), or NAME alone. */
char *berth_sibling_binary(const char *name);

/* "<base>/<sub>" newly allocated. */
char *berth_path_join(const char *base, const char *sub);

#endif
