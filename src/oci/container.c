/* container.c — the container lifecycle: create, start, run, state, kill,
 * delete, list.
 *
 * create: parse and check config.json, make <root>/<id> (the mkdir is the
 * duplicate-id lock), clone the init into its new pid/user namespaces,
 * write its id maps, put it in its cgroup, let it build the container, and
 * record state.json once it reports READY.  Every failure undoes all of it:
 * the init is killed and reaped, the cgroup and the state dir removed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/log.h"
#include "common/units.h"
#include "common/idmap.h"
#include "common/util.h"
#include "oci/internal.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

struct created {
        struct oci_state st;
        struct oci_spec *spec;
        struct oci_cgroup cg;
        int console_master; /* run in the foreground with a terminal */
};

static void now_rfc3339(char *buf, size_t n)
{
        berth_rfc3339(berth_now_ns(), false, buf, n);
}

static void remove_state_dir(const char *dir)
{
        static const char *files[] = {"exec.fifo", "state.json", "seccomp.bpf", NULL};
        for (size_t i = 0; files[i]; i++) {
                cleanup_free char *p = berth_xasprintf("%s/%s", dir, files[i]);
                unlink(p);
        }
        rmdir(dir);
}

static int write_idmap(pid_t pid, const char *file, const struct oci_id_map *m, size_t n,
                       berth_error_t *err)
{
        char buf[4096];
        size_t len = 0;
        for (size_t i = 0; i < n && len < sizeof(buf) - 64; i++)
                len += (size_t) snprintf(buf + len, sizeof(buf) - len, "%u %u %u\n",
                                         m[i].container_id, m[i].host_id, m[i].size);
        cleanup_free char *path = berth_xasprintf("/proc/%d/%s", (int) pid, file);
        if (berth_write_file(path, buf, len, err) < 0)
                return berth_wrap(err, "write the user namespace's %s", file);
        return 0;
}

/* Only our own id, once: what an unprivileged process may write itself. */
static bool own_id_only(const struct oci_id_map *m, size_t n, unsigned own)
{
        return n == 1 && m[0].host_id == own && m[0].size == 1;
}

/* Unprivileged, with more than our own id: the setuid newuidmap/newgidmap write the map if
 * /etc/subuid and /etc/subgid delegate those ids to us (runc and crun do the same). */
static int write_idmap_with_tool(pid_t pid, const char *tool, const struct oci_id_map *m, size_t n,
                                 berth_error_t *err)
{
        cleanup_free struct berth_idmap *lines = berth_xcalloc(n ? n : 1, sizeof(*lines));
        for (size_t i = 0; i < n; i++)
                lines[i] = (struct berth_idmap){m[i].container_id, m[i].host_id, m[i].size};
        if (berth_newidmap(tool, (int) pid, lines, n, err) < 0)
                return berth_wrap(err, "map the user namespace's ids (needs newuidmap and "
                                       "newgidmap, and the ids delegated in /etc/subuid and "
                                       "/etc/subgid)");
        return 0;
}

static int write_time_offsets(const struct oci_spec *s, berth_error_t *err)
{
        char buf[128];
        int n = snprintf(buf, sizeof(buf), "monotonic %lld %lld\nboottime %lld %lld\n",
                         (long long) s->time_offsets[0][0], (long long) s->time_offsets[0][1],
                         (long long) s->time_offsets[1][0], (long long) s->time_offsets[1][1]);
        return berth_write_file("/proc/self/timens_offsets", buf, (size_t) n, err);
}

static uid_t host_root_uid(const struct oci_spec *s)
{
        for (size_t i = 0; i < s->n_uid_maps; i++)
                if (s->uid_maps[i].container_id == 0)
                        return s->uid_maps[i].host_id;
        return 0;
}

static gid_t host_root_gid(const struct oci_spec *s)
{
        for (size_t i = 0; i < s->n_gid_maps; i++)
                if (s->gid_maps[i].container_id == 0)
                        return s->gid_maps[i].host_id;
        return 0;
}

static char *state_text(const struct oci_state *st, enum oci_status status)
{
        json_t *j = oci_state_json(st, status);
        char *t = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        return t;
}

/* Open namespace paths, and enter the pid and time namespaces ourselves:
 * those apply to children only, so the init is born in them. */
static int prepare_namespaces(const struct oci_spec *s, int ns_fds[8], berth_error_t *err)
{
        for (int i = 0; i < 8; i++) {
                const struct oci_namespace *n = oci_spec_namespace(s, oci_ns_kinds[i].flag);
                ns_fds[i] = -1;
                if (n == NULL || n->path == NULL)
                        continue;
                ns_fds[i] = open(n->path, O_RDONLY | O_CLOEXEC);
                if (ns_fds[i] < 0)
                        return berth_fail(err, errno, "open %s namespace `%s`",
                                          oci_ns_kinds[i].proc_name, n->path);
        }
        const struct oci_namespace *t = oci_spec_namespace(s, CLONE_NEWTIME);
        if (t && t->path && setns(ns_fds[7], CLONE_NEWTIME) < 0)
                return berth_fail(err, errno, "join time namespace `%s`", t->path);
        if (t && !t->path) {
                if (unshare(CLONE_NEWTIME) < 0)
                        return berth_fail(err, errno, "create a time namespace");
                if (s->has_time_offsets && write_time_offsets(s, err) < 0)
                        return -1;
        }
        const struct oci_namespace *p = oci_spec_namespace(s, CLONE_NEWPID);
        if (p && p->path && setns(ns_fds[6], CLONE_NEWPID) < 0)
                return berth_fail(err, errno, "join pid namespace `%s`", p->path);
        return 0;
}

static void kill_and_reap(pid_t pid)
{
        if (pid <= 0)
                return;
        kill(pid, SIGKILL);
        while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
}

static int talk_to_init(struct created *cr, int sync, pid_t pid, berth_error_t *err)
{
        struct oci_sync_msg m;
        const struct oci_namespace *user = oci_spec_namespace(cr->spec, CLONE_NEWUSER);
        if (user && !user->path) {
                const struct oci_spec *sp = cr->spec;
                bool unpriv = geteuid() != 0;
                bool own_uid = own_id_only(sp->uid_maps, sp->n_uid_maps, geteuid());
                bool own_gid = own_id_only(sp->gid_maps, sp->n_gid_maps, getegid());
                cleanup_free char *sg = berth_xasprintf("/proc/%d/setgroups", (int) pid);
                /* writing our own gid ourselves needs setgroups denied first */
                if (unpriv && own_gid && berth_write_file(sg, "deny", 4, err) < 0)
                        return -1;
                if ((unpriv && !own_uid ? write_idmap_with_tool(pid, "newuidmap", sp->uid_maps,
                                                                sp->n_uid_maps, err)
                                        : write_idmap(pid, "uid_map", sp->uid_maps, sp->n_uid_maps,
                                                      err)) < 0 ||
                    (unpriv && !own_gid
                             ? write_idmap_with_tool(pid, "newgidmap", sp->gid_maps, sp->n_gid_maps,
                                                     err)
                             : write_idmap(pid, "gid_map", sp->gid_maps, sp->n_gid_maps, err)) < 0)
                        return -1;
        }
        berth_error_t cgerr = NULL;
        pid_t *found = NULL;
        size_t nfound = 0;
        /* as runc 1.1: a cgroup that already holds processes is used, with a warning */
        if (cr->cg.ops->pids(&cr->cg, &found, &nfound, &cgerr) == 0 && nfound) {
                log_warn("container's cgroup is not empty: %zu process(es) found", nfound);
                log_warn("DEPRECATED: running container in a non-empty cgroup won't be supported "
                         "in runc 1.2; https://github.com/opencontainers/runc/issues/3132");
        }
        free(found);
        berth_error_release(&cgerr);
        log_debug("create: cgroup %s (%s)", cr->cg.path, cr->cg.ops->name);
        if (cr->cg.ops->create(&cr->cg, 0, &cr->spec->resources, cr->spec, &cgerr) < 0) {
                int e = cgerr->errnum;
                if ((geteuid() == 0 && !berth_in_userns()) ||
                    (e != EACCES && e != EPERM && e != EROFS) ||
                    !oci_resources_empty(&cr->spec->resources)) {
                        *err = cgerr;
                        return berth_wrap(err, "set up the container's cgroup");
                }
                /* rootless, no limits asked for, and no cgroup we may write */
                log_debug("no cgroup for the container: %s", berth_error_msg(cgerr));
                berth_error_release(&cgerr);
                cr->cg.ops = &oci_cgroup_none_ops;
                free(cr->st.cgroup_kind);
                cr->st.cgroup_kind = berth_xstrdup("none");
        }
        if (oci_sync_send(sync, OCI_SYNC_GO, NULL) < 0)
                return berth_fail(err, errno, "wake the container's init");
        /* The first cgroup migration after idle waits for an RCU grace period
         * (milliseconds): do it while the init builds its rootfs. */
        if (cr->cg.ops->enter(&cr->cg, pid, err) < 0)
                return berth_wrap(err, "move the container's init into its cgroup");
        oci_sync_send(sync, OCI_SYNC_CGROUP, NULL); /* a dead init reports below */
        for (;;) {
                if (oci_sync_recv(sync, &m, err) < 0)
                        return -1;
                if (m.type == OCI_SYNC_READY)
                        return 0;
                if (m.type == OCI_SYNC_ERROR)
                        return oci_sync_error(&m, err);
                if (m.type == OCI_SYNC_SECCOMP &&
                    oci_seccomp_take_over(cr->spec, &cr->st, OCI_CREATING, pid, sync, &m, err) < 0)
                        return -1;
                if (m.type == OCI_SYNC_MOUNTS &&
                    oci_bind_source_send(cr->spec, pid, sync, &m, err) < 0)
                        return -1;
                if (m.type == OCI_SYNC_HOOKS) {
                        /* runtime-spec: these hooks see the container as created */
                        cleanup_free char *text = state_text(&cr->st, OCI_CREATED);
                        berth_error_t herr = NULL;
                        int r = oci_hooks_run(cr->spec, OCI_HOOK_PRESTART, text, &herr);
                        if (r == 0)
                                r = oci_hooks_run(cr->spec, OCI_HOOK_CREATE_RUNTIME, text, &herr);
                        /* then the state, whole: annotations can make it any size */
                        struct oci_sync_msg reply = {.type = r < 0 ? OCI_SYNC_ERROR
                                                                   : OCI_SYNC_HOOKS_DONE};
                        send(sync, &reply, offsetof(struct oci_sync_msg, text) + 1, MSG_NOSIGNAL);
                        if (r == 0)
                                send(sync, text, strlen(text) + 1, MSG_NOSIGNAL);
                        if (r < 0) {
                                *err = herr;
                                return -1;
                        }
                }
        }
}

static int resolve_rootfs(const char *bundle, const struct oci_spec *s, char **out,
                          berth_error_t *err)
{
        cleanup_free char *p = s->root_path[0] == '/'
                                       ? berth_xstrdup(s->root_path)
                                       : berth_xasprintf("%s/%s", bundle, s->root_path);
        struct stat st;
        *out = realpath(p, NULL);
        if (*out == NULL || stat(*out, &st) < 0)
                return berth_fail_status(err, 1, 0, "rootfs `%s` does not exist", p);
        if (!S_ISDIR(st.st_mode))
                return berth_fail_status(err, 1, 0, "rootfs `%s` is not a directory", p);
        return 0;
}

static int do_create(struct oci_ctx *c, const char *id, const struct oci_create_opts *o,
                     bool foreground, struct created *cr, berth_error_t *err)
{
        cleanup_free char *bundle = NULL, *cfg = NULL, *cgpath = NULL;
        cleanup_close int state_dirfd = -1, console = -1, console_peer = -1;
        int sync[2] = {-1, -1}, ns_fds[8];
        pid_t pid = -1;
        bool made_dir = false;
        char created[64];
        struct oci_state *st = &cr->st;
        memset(cr, 0, sizeof(*cr));
        cr->console_master = -1;
        for (int i = 0; i < 8; i++)
                ns_fds[i] = -1;

        if (!oci_id_valid(id))
                return berth_fail_status(err, 1, 0, "invalid container ID format");
        bundle = realpath(o->bundle ? o->bundle : ".", NULL);
        if (bundle == NULL)
                return berth_fail_status(err, 1, errno, "bundle `%s`", o->bundle ? o->bundle : ".");
        cfg = berth_xasprintf("%s/config.json", bundle);
        if (oci_spec_load(cfg, &cr->spec, err) < 0)
                return -1;
        struct oci_resources *res = &cr->spec->resources;
        if (res->mem_kernel != OCI_UNSET || res->mem_kernel_tcp != OCI_UNSET) {
                /* runc 1.1's answer to limits that kernels since 5.4 deprecate (6.x lack) */
                log_warn("Kernel memory settings are ignored and will be removed");
                res->mem_kernel = res->mem_kernel_tcp = OCI_UNSET;
        }
        /* runc 1.1 mounts a relative destination under the container's root, with this
         * warning (mounts.c resolves it inside the rootfs as it does an absolute one) */
        for (size_t i = 0; i < cr->spec->n_mounts; i++)
                if (cr->spec->mounts[i].destination[0] != '/')
                        log_warn("mount destination %s is not absolute. Support for non-absolute "
                                 "mount destinations will be removed in a future release.",
                                 cr->spec->mounts[i].destination);
        /* Without `process` the container can be created, and stops at start
         * (runtime-spec: process is required only by start). */
        bool terminal = cr->spec->process && cr->spec->process->terminal;
        if (terminal && !o->console_socket && !foreground)
                return berth_fail_status(err, 1, 0,
                                         "process.terminal is true: --console-socket is needed "
                                         "(or run in the foreground)");
        if (!terminal && o->console_socket)
                return berth_fail_status(err, 1, 0,
                                         "--console-socket given, but process.terminal is false");
        st->id = berth_xstrdup(id);
        st->bundle = berth_xstrdup(bundle);
        if (resolve_rootfs(bundle, cr->spec, &st->rootfs, err) < 0 ||
            oci_cgroup_path_for(cr->spec, id, c->systemd_cgroup, &cgpath, err) < 0 ||
            oci_cgroup_open(&cr->cg, NULL, cgpath, err) < 0)
                return -1;
        if (berth_mkdir_p(c->root, 0700, err) < 0)
                return berth_wrap(err, "create the state root");
        st->dir = oci_state_dir(c, id);
        if (mkdir(st->dir, 0711) < 0)
                return errno == EEXIST ? berth_fail_status(err, 1, 0,
                                                           "container with given ID already exists")
                                       : berth_fail(err, errno, "mkdir `%s`", st->dir);
        made_dir = true;
        log_debug("create: container %s, bundle %s, rootfs %s", id, bundle, st->rootfs);
        cleanup_free char *fifo = berth_xasprintf("%s/exec.fifo", st->dir);
        /* 0622 whatever the umask: the init opens it as process.user (runc's mode) */
        if (mkfifo(fifo, 0622) < 0 || chmod(fifo, 0622) < 0) {
                berth_fail(err, errno, "mkfifo `%s`", fifo);
                goto fail;
        }
        if (oci_spec_namespace(cr->spec, CLONE_NEWUSER) &&
            chown(fifo, host_root_uid(cr->spec), host_root_gid(cr->spec)) < 0) {
                berth_fail(err, errno, "chown `%s`", fifo);
                goto fail;
        }
        state_dirfd = open(st->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (state_dirfd < 0) {
                berth_fail(err, errno, "open `%s`", st->dir);
                goto fail;
        }
        if (o->console_socket) {
                console = oci_console_connect(o->console_socket, err);
                if (console < 0)
                        goto fail;
        } else if (terminal) {
                int sp[2];
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0) {
                        berth_fail(err, errno, "socketpair");
                        goto fail;
                }
                console = sp[1];
                console_peer = sp[0];
        }
        if (prepare_namespaces(cr->spec, ns_fds, err) < 0)
                goto fail;
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) < 0) {
                berth_fail(err, errno, "socketpair");
                goto fail;
        }
        const struct oci_namespace *u = oci_spec_namespace(cr->spec, CLONE_NEWUSER);
        const struct oci_namespace *pn = oci_spec_namespace(cr->spec, CLONE_NEWPID);
        unsigned long flags = SIGCHLD;
        if (u && !u->path)
                flags |= CLONE_NEWUSER;
        if (pn && !pn->path)
                flags |= CLONE_NEWPID;
        if (u && u->path && (flags & CLONE_NEWPID)) {
                /* a new pid ns must belong to the joined user ns: enter it now */
                if (setns(ns_fds[0], CLONE_NEWUSER) < 0) {
                        berth_fail(err, errno, "join user namespace `%s`", u->path);
                        goto fail;
                }
        }
        now_rfc3339(created, sizeof(created));
        st->created = berth_xstrdup(created);
        st->owner = geteuid();
        st->cgroup_root = berth_xstrdup(cr->cg.root);
        st->cgroup_path = berth_xstrdup(cr->cg.path);
        st->cgroup_kind = berth_xstrdup(cr->cg.ops->name);
        st->oci_version = berth_xstrdup(cr->spec->oci_version);
        st->annotations = json_incref(json_object_get(cr->spec->json, "annotations"));

        pid = (pid_t) syscall(SYS_clone, flags, NULL, NULL, NULL, NULL);
        if (pid < 0) {
                berth_fail(err, errno, "clone the container's init");
                goto fail;
        }
        if (pid > 0)
                log_debug("create: init cloned, pid %d (clone flags %#x)", (int) pid,
                          (unsigned) flags);
        if (pid == 0) {
                close(sync[0]);
                if (console_peer >= 0)
                        close(console_peer);
                struct oci_init_args a = {
                        .spec = cr->spec,
                        .rootfs = st->rootfs,
                        .id = id,
                        .cgroup_path = cr->cg.path,
                        .sync_fd = sync[1],
                        .state_dirfd = state_dirfd,
                        .console_fd = console,
                        .no_pivot = o->no_pivot,
                        .no_new_keyring = o->no_new_keyring,
                        .preserve_fds = o->preserve_fds,
                        .hooks_runtime = cr->spec->n_hooks[OCI_HOOK_PRESTART] ||
                                         cr->spec->n_hooks[OCI_HOOK_CREATE_RUNTIME] ||
                                         cr->spec->n_hooks[OCI_HOOK_CREATE_CONTAINER] ||
                                         cr->spec->n_hooks[OCI_HOOK_START_CONTAINER],
                };
                memcpy(a.ns_fds, ns_fds, sizeof(ns_fds));
                oci_init_main(&a);
        }
        close(sync[1]);
        sync[1] = -1;
        st->pid = pid;
        if (talk_to_init(cr, sync[0], pid, err) < 0)
                goto fail;
        st->pid_start = oci_proc_starttime(pid);
        if (console_peer >= 0) {
                cr->console_master = berth_recv_fd(console_peer, err);
                if (cr->console_master < 0)
                        goto fail;
        }
        if (oci_state_save(st, err) < 0)
                goto fail;
        log_debug("create: init ready, waiting on exec.fifo; state saved in %s", st->dir);
        if (o->pid_file) {
                char buf[16];
                snprintf(buf, sizeof(buf), "%d", (int) pid);
                if (berth_write_file_replace(o->pid_file, buf, strlen(buf), 0644, err) < 0)
                        goto fail;
        }
        close(sync[0]);
        for (int i = 0; i < 8; i++)
                if (ns_fds[i] >= 0)
                        close(ns_fds[i]);
        return 0;
fail:
        for (int i = 0; i < 8; i++)
                if (ns_fds[i] >= 0)
                        close(ns_fds[i]);
        if (sync[0] >= 0)
                close(sync[0]);
        if (sync[1] >= 0)
                close(sync[1]);
        if (pid > 0) {
                berth_error_t ignored = NULL;
                kill_and_reap(pid);
                cr->cg.ops->destroy(&cr->cg, &ignored);
                berth_error_release(&ignored);
        }
        if (made_dir)
                remove_state_dir(st->dir);
        return -1;
}

static void created_release(struct created *cr)
{
        oci_state_release(&cr->st);
        oci_spec_free(cr->spec);
        oci_cgroup_release(&cr->cg);
        if (cr->console_master >= 0)
                close(cr->console_master);
}

int oci_create(struct oci_ctx *c, const char *id, const struct oci_create_opts *o,
               berth_error_t *err)
{
        struct created cr;
        int r = do_create(c, id, o, false, &cr, err);
        created_release(&cr);
        return r;
}

/* Release the init blocked on exec.fifo, and wait until it has exec'd the
 * user's process: its write end is close-on-exec, so EOF means execve. */
static int release_init(const struct oci_state *st, berth_error_t *err)
{
        cleanup_free char *fifo = berth_xasprintf("%s/exec.fifo", st->dir);
        cleanup_close int fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        cleanup_close int pfd = (int) syscall(SYS_pidfd_open, st->pid, 0);
        bool got = false;
        char b;
        if (fd < 0)
                return berth_fail(err, errno, "open `%s`", fifo);
        log_debug("start: releasing init %d through exec.fifo", (int) st->pid);
        for (;;) {
                struct pollfd p[2] = {{fd, POLLIN, 0}, {pfd, POLLIN, 0}};
                if (poll(p, 2, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return berth_fail(err, errno, "wait for the container's init");
                }
                if (p[0].revents & (POLLIN | POLLHUP)) {
                        ssize_t n = read(fd, &b, 1);
                        if (n == 1) {
                                got = true;
                                unlink(fifo); /* from now on the status is running */
                                continue;
                        }
                        if (n == 0 && got)
                                return 0;
                }
                if (p[1].revents & POLLIN)
                        return got ? 0 /* it ran and already exited */
                                   : berth_fail_status(err, 1, 0,
                                                       "the container's init exited before start");
                if ((p[0].revents & POLLHUP) && !got)
                        return berth_fail_status(err, 1, 0,
                                                 "the container's init went away before start");
        }
}

/* The bundle's config, for hooks after create; NULL if it is gone or broken. */
static struct oci_spec *load_spec_for(const struct oci_state *st)
{
        cleanup_free char *cfg = berth_xasprintf("%s/config.json", st->bundle);
        cleanup_error berth_error_t err = NULL;
        struct oci_spec *s = NULL;
        if (oci_spec_load(cfg, &s, &err) < 0)
                log_debug("hooks: %s", berth_error_msg(err));
        return s;
}

static void poststart(const struct oci_state *st, struct oci_spec *spec)
{
        struct oci_spec *own = NULL;
        if (spec == NULL)
                spec = own = load_spec_for(st);
        if (spec && spec->n_hooks[OCI_HOOK_POSTSTART]) {
                cleanup_free char *text = state_text(st, OCI_RUNNING);
                oci_hooks_run_warn(spec, OCI_HOOK_POSTSTART, text);
        }
        oci_spec_free(own);
}

int oci_start(struct oci_ctx *c, const char *id, berth_error_t *err)
{
        struct oci_state st;
        if (oci_state_load(c, id, &st, err) < 0)
                return -1;
        enum oci_status s = oci_state_status(&st);
        int r = -1;
        if (s != OCI_CREATED) {
                berth_fail_status(err, 1, 0,
                                  s == OCI_STOPPED ? "cannot start a container that has stopped"
                                  : s == OCI_RUNNING
                                          ? "cannot start an already running container"
                                          : "cannot start a container in the paused state");
                goto out;
        }
        if (release_init(&st, err) < 0)
                goto out;
        poststart(&st, NULL);
        r = 0;
out:
        oci_state_release(&st);
        return r;
}

/* Kill everything in the container and wait for the init to be gone. */
static int stop_all(const struct oci_state *st, struct oci_cgroup *cg)
{
        pid_t *pids = NULL;
        size_t n = 0;
        int pfd = st->pid > 0 && oci_proc_starttime(st->pid) == st->pid_start
                          ? (int) syscall(SYS_pidfd_open, st->pid, 0)
                          : -1;
        if (cg->ops->frozen(cg, NULL) == 1)
                cg->ops->freeze(cg, false, NULL);
        if (pfd >= 0)
                syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
        if (cg->ops->pids(cg, &pids, &n, NULL) == 0)
                for (size_t i = 0; i < n; i++)
                        kill(pids[i], SIGKILL);
        free(pids);
        if (pfd >= 0) {
                struct pollfd p = {pfd, POLLIN, 0};
                poll(&p, 1, 5000);
                close(pfd);
        }
        return 0;
}

static int destroy(struct oci_ctx *c, struct oci_state *st, struct oci_spec *known,
                   berth_error_t *err)
{
        struct oci_cgroup cg;
        oci_state_cgroup(st, &cg);
        log_debug("delete: killing what is left in cgroup %s, then removing it", cg.path);
        stop_all(st, &cg);
        int r = cg.ops->destroy(&cg, err);
        oci_cgroup_release(&cg);
        if (r < 0)
                return -1;
        struct oci_spec *spec = NULL, *use = known;
        if (use == NULL)
                use = spec = load_spec_for(st);
        if (use && use->n_hooks[OCI_HOOK_POSTSTOP]) {
                cleanup_free char *text = state_text(st, OCI_STOPPED);
                oci_hooks_run_warn(use, OCI_HOOK_POSTSTOP, text);
        }
        oci_spec_free(spec);
        remove_state_dir(st->dir);
        return 0;
}

int oci_delete(struct oci_ctx *c, const char *id, bool force, berth_error_t *err)
{
        struct oci_state st;
        /* runc: `delete -f` of a container that does not exist succeeds quietly */
        if (force && oci_id_valid(id) && !oci_state_exists(c, id))
                return 0;
        if (oci_state_load(c, id, &st, err) < 0)
                return -1;
        enum oci_status s = oci_state_status(&st);
        int r = -1;
        /* The spec allows deleting only stopped containers; runc and crun also
         * delete created ones, which the spec (and its test suite) forbids. */
        if (!force && s != OCI_STOPPED) {
                berth_fail_status(err, 1, 0, "cannot delete container %s that is not stopped: %s",
                                  id, oci_status_name(s));
                goto out;
        }
        r = destroy(c, &st, NULL, err);
out:
        oci_state_release(&st);
        return r;
}

static volatile pid_t forward_to;
static void forward_signal(int sig)
{
        if (forward_to > 0)
                kill(forward_to, sig);
}

int oci_run(struct oci_ctx *c, const char *id, const struct oci_create_opts *o, int *status,
            berth_error_t *err)
{
        struct created cr;
        int r = do_create(c, id, o, !o->detach, &cr, err);
        *status = 0;
        if (r < 0)
                goto out;
        if (!o->detach) {
                static const int sigs[] = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT,
                                           SIGUSR1, SIGUSR2, SIGWINCH};
                struct sigaction sa = {.sa_handler = forward_signal, .sa_flags = SA_RESTART};
                forward_to = cr.st.pid;
                for (size_t i = 0; i < BERTH_ARRAY_SIZE(sigs); i++)
                        sigaction(sigs[i], &sa, NULL);
        }
        if (release_init(&cr.st, err) < 0) {
                berth_error_t ignored = NULL;
                destroy(c, &cr.st, cr.spec, &ignored);
                berth_error_release(&ignored);
                r = -1;
                goto out;
        }
        poststart(&cr.st, cr.spec);
        if (o->detach)
                goto out;
        if (cr.console_master >= 0)
                oci_terminal_proxy(cr.console_master);
        int ws = 0;
        while (waitpid(cr.st.pid, &ws, 0) < 0 && errno == EINTR)
                ;
        *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
        /* --keep, as runc: the stopped container stays until `delete` */
        r = o->keep ? 0 : destroy(c, &cr.st, cr.spec, err);
out:
        created_release(&cr);
        return r;
}

int oci_state(struct oci_ctx *c, const char *id, FILE *out, berth_error_t *err)
{
        struct oci_state st;
        if (oci_state_load(c, id, &st, err) < 0)
                return -1;
        json_t *j = oci_state_json(&st, oci_state_status(&st));
        /* as runc's: no newline after the closing brace */
        json_dumpf(j, out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(j);
        oci_state_release(&st);
        return 0;
}

int oci_kill(struct oci_ctx *c, const char *id, int sig, bool all, berth_error_t *err)
{
        struct oci_state st;
        int r = -1;
        if (oci_state_load(c, id, &st, err) < 0)
                return -1;
        enum oci_status s = oci_state_status(&st);
        if (s == OCI_STOPPED && !all) {
                berth_fail_status(err, 1, 0, "container not running");
                goto out;
        }
        if (all) {
                /* runc: --all signals whatever the cgroup holds, a stopped container too */
                struct oci_cgroup cg;
                pid_t *pids = NULL;
                size_t n = 0;
                oci_state_cgroup(&st, &cg);
                r = cg.ops->pids(&cg, &pids, &n, s == OCI_STOPPED ? NULL : err);
                for (size_t i = 0; r == 0 && i < n; i++)
                        kill(pids[i], sig);
                free(pids);
                oci_cgroup_release(&cg);
                if (s == OCI_STOPPED)
                        r = 0;
                if (r < 0 || n > 0 || s == OCI_STOPPED)
                        goto out;
                /* no cgroup to list (rootless without one): the init at least, whose
                 * death ends a container with a pid namespace of its own */
                r = -1;
        }
        int pfd = (int) syscall(SYS_pidfd_open, st.pid, 0);
        if (pfd < 0 || syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0) < 0)
                berth_fail_status(err, 1, errno, "unable to signal init");
        else
                r = 0;
        if (pfd >= 0)
                close(pfd);
out:
        /* as runc: a frozen task can't die, so SIGKILL to a paused container thaws it */
        if (r == 0 && sig == SIGKILL && s == OCI_PAUSED) {
                struct oci_cgroup cg;
                berth_error_t ignored = NULL;
                oci_state_cgroup(&st, &cg);
                if (cg.ops->freeze(&cg, false, &ignored) < 0)
                        log_debug("kill: thaw: %s", berth_error_msg(ignored));
                berth_error_release(&ignored);
                oci_cgroup_release(&cg);
        }
        oci_state_release(&st);
        return r;
}
