/* netns.c — network namespaces kept in files, as `ip netns add` keeps them: a thread unshares a
 * new namespace, brings its lo up and bind-mounts its /proc/thread-self/ns/net on the file,
 * then ends; the mount keeps the namespace alive with no process in it. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/magic.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "common/util.h"
#include "net/nl.h"

static bool is_nsfs(const char *path)
{
        struct statfs st;
        return statfs(path, &st) == 0 && st.f_type == NSFS_MAGIC;
}

/* The namespace mounts must reach every mount namespace that has a copy of dir (a rootless
 * engine's, one made by `ip netns exec`, ...), and so must their unmounts, or a stale copy would
 * keep a removed namespace alive: dir becomes a shared mount point, bound on itself first when
 * it is none (what ip(8) does for /run/netns). */
static int make_dir_shared(const char *dir, berth_error_t *err)
{
        if (mount("", dir, "none", MS_SHARED | MS_REC, NULL) == 0)
                return 0;
        if (errno != EINVAL)
                return berth_fail(err, errno, "make `%s` a shared mount", dir);
        if (mount(dir, dir, "none", MS_BIND | MS_REC, NULL) < 0)
                return berth_fail(err, errno, "bind-mount `%s` on itself", dir);
        if (mount("", dir, "none", MS_SHARED | MS_REC, NULL) < 0)
                return berth_fail(err, errno, "make `%s` a shared mount", dir);
        return 0;
}

struct create_args {
        const char *path;
        berth_error_t *err; /* the caller's: it waits in pthread_join meanwhile */
        int ret;
};

/* Only this thread enters the new namespace; it ends with it. */
static void *create_thread(void *arg)
{
        struct create_args *c = arg;
        struct net_nl *nl = NULL;
        c->ret = -1;
        if (unshare(CLONE_NEWNET) < 0) {
                berth_fail(c->err, errno, "create a network namespace");
                return NULL;
        }
        if (net_nl_open(&nl, -1, c->err) < 0)
                return NULL;
        int r = net_nl_loopback_up(nl, c->err);
        net_nl_close(nl);
        if (r < 0)
                return NULL;
        if (mount("/proc/thread-self/ns/net", c->path, "none", MS_BIND, NULL) < 0) {
                berth_fail(c->err, errno, "bind-mount the new network namespace on `%s`", c->path);
                return NULL;
        }
        c->ret = 0;
        return NULL;
}

int net_netns_create(const char *path, berth_error_t *err)
{
        cleanup_free char *dir = berth_xstrdup(path);
        struct stat st;
        dirname(dir);
        if (berth_mkdir_p(dir, 0755, err) < 0 || make_dir_shared(dir, err) < 0)
                return berth_wrap(err, "create network namespace `%s`", path);
        if (is_nsfs(path))
                return 1;
        /* A plain file left by a failed create is reused. */
        bool made = stat(path, &st) < 0;
        int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0444);
        if (fd < 0)
                return berth_fail(err, errno, "create network namespace file `%s`", path);
        close(fd);

        struct create_args c = {.path = path, .err = err, .ret = -1};
        pthread_t th;
        int e = pthread_create(&th, NULL, create_thread, &c);
        if (e != 0) {
                berth_fail(err, e, "start a thread to create network namespace `%s`", path);
        } else {
                pthread_join(th, NULL);
                if (c.ret == 0)
                        return 0;
                berth_wrap(err, "create network namespace `%s`", path);
        }
        if (made)
                unlink(path);
        return -1;
}

int net_netns_remove(const char *path, berth_error_t *err)
{
        /* stacked mounts (two racing creates) come off one by one */
        int i = 0;
        while (i < 16 && umount2(path, MNT_DETACH) == 0)
                i++;
        if (i < 16 && errno != EINVAL && errno != ENOENT)
                return berth_fail(err, errno, "unmount network namespace `%s`", path);
        if (unlink(path) < 0 && errno != ENOENT)
                return berth_fail(err, errno, "remove network namespace file `%s`", path);
        return 0;
}
