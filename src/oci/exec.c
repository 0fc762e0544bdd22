/* exec.c — `exec`: a new process inside a running container.
 *
 * The process description is the container's process with the command line
 * overrides applied (or a whole --process file), parsed by the same code as
 * config.json.  The runtime enters the container's pid and time namespaces
 * itself (they apply to children), forks, puts the child in the container's
 * cgroup, and the child joins the remaining namespaces and becomes the
 * process through the same path as the container's init.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/fdpass.h"
#include "common/log.h"
#include "common/util.h"
#include "oci/internal.h"

/* The container's process object with exec's flags applied. */
/* process.user.additionalGids := list ("G1,G2", "" for none), every GID decimal. */
static int set_user_gids(json_t *p, const char *list, berth_error_t *err)
{
        json_t *a = json_array();
        for (const char *g = list; *g;) {
                char *end;
                errno = 0;
                unsigned long v = strtoul(g, &end, 10);
                if (errno || end == g || (*end != ',' && *end != 0) || v > UINT32_MAX ||
                    !(*g >= '0' && *g <= '9')) {
                        json_decref(a);
                        return berth_fail_status(err, 1, 0, "bad supplementary group list `%s`",
                                                 list);
                }
                json_array_append_new(a, json_integer((json_int_t) v));
                g = *end ? end + 1 : end;
        }
        json_t *u = json_object_get(p, "user");
        if (!json_is_object(u))
                json_object_set_new(p, "user", u = json_object());
        json_object_set_new(u, "additionalGids", a);
        return 0;
}

static int build_process(const struct oci_spec *s, const struct oci_exec_opts *o,
                         struct oci_process **out, berth_error_t *err)
{
        json_t *p;
        if (o->process_file) {
                json_error_t je;
                p = berth_json_load_file(o->process_file, &je);
                if (p == NULL)
                        return berth_fail_status(err, 1, 0, "process file `%s`: %s",
                                                 o->process_file, je.text);
        } else {
                p = json_deep_copy(json_object_get(s->json, "process"));
                if (p == NULL)
                        p = json_object();
                if (o->args == NULL || o->args[0] == NULL) {
                        json_decref(p);
                        return berth_fail_status(err, 1, 0, "process args cannot be empty");
                }
                json_t *args = json_array(), *env = json_object_get(p, "env");
                for (size_t i = 0; o->args[i]; i++)
                        json_array_append_new(args, json_string(o->args[i]));
                json_object_set_new(p, "args", args);
                json_object_set_new(p, "terminal", json_boolean(o->tty));
                if (o->cwd)
                        json_object_set_new(p, "cwd", json_string(o->cwd));
                else if (json_object_get(p, "cwd") == NULL)
                        json_object_set_new(p, "cwd", json_string("/"));
                if (env == NULL)
                        json_object_set_new(p, "env", env = json_array());
                /* as runc (it sets them one by one): an -e of a variable the process has
                 * already replaces its value where it stands, so PATH=… also steers the
                 * program lookup */
                for (size_t i = 0; i < o->n_env; i++) {
                        size_t kl = strcspn(o->env[i], "=");
                        size_t k = 0, n = json_array_size(env);
                        for (; k < n; k++) {
                                const char *e = json_string_value(json_array_get(env, k));
                                if (e && strncmp(e, o->env[i], kl) == 0 && e[kl] == '=')
                                        break;
                        }
                        if (k < n)
                                json_array_set_new(env, k, json_string(o->env[i]));
                        else
                                json_array_append_new(env, json_string(o->env[i]));
                }
                if (o->no_new_privs)
                        json_object_set_new(p, "noNewPrivileges", json_true());
                if (o->user) {
                        /* runc's rule and words: UID[:GID], both decimal */
                        unsigned long uid, gid = 0;
                        char *end;
                        cleanup_free char *us = berth_xstrdup(o->user);
                        char *g = strchr(us, ':');
                        if (g)
                                *g++ = 0;
                        errno = 0;
                        uid = strtoul(us, &end, 10);
                        bool bad_uid = *us == 0 || *end != 0 || errno;
                        if (!bad_uid && g) {
                                gid = strtoul(g, &end, 10);
                                if (*g == 0 || *end != 0 || errno) {
                                        json_decref(p);
                                        return berth_fail_status(
                                                err, 1, 0,
                                                "parsing %s as int for gid failed: strconv.Atoi: "
                                                "parsing \"%s\": invalid syntax",
                                                g, g);
                                }
                        }
                        if (bad_uid) {
                                json_decref(p);
                                return berth_fail_status(err, 1, 0,
                                                         "parsing %s as int for uid failed: "
                                                         "strconv.Atoi: parsing \"%s\": invalid "
                                                         "syntax",
                                                         us, us);
                        }
                        /* as runc: uid and gid replaced, additionalGids kept */
                        json_t *u = json_object_get(p, "user");
                        if (!json_is_object(u))
                                json_object_set_new(p, "user", u = json_object());
                        json_object_set_new(u, "uid", json_integer((json_int_t) uid));
                        json_object_set_new(u, "gid", json_integer((json_int_t) gid));
                }
                if (o->user_gids && set_user_gids(p, o->user_gids, err) < 0) {
                        json_decref(p);
                        return -1;
                }
                for (size_t i = 0; i < o->n_gids; i++) {
                        char *end;
                        errno = 0;
                        unsigned long g = strtoul(o->gids[i], &end, 10);
                        if (errno || end == o->gids[i] || *end != 0 || g > UINT32_MAX) {
                                json_decref(p);
                                return berth_fail_status(err, 1, 0,
                                                         "--additional-gids `%s` must be a GID",
                                                         o->gids[i]);
                        }
                        json_t *u = json_object_get(p, "user");
                        if (!json_is_object(u))
                                json_object_set_new(p, "user", u = json_object());
                        json_t *a = json_object_get(u, "additionalGids");
                        if (!json_is_array(a))
                                json_object_set_new(u, "additionalGids", a = json_array());
                        json_array_append_new(a, json_integer((json_int_t) g));
                }
                if (o->n_caps) {
                        /* as runc: bounding, effective and permitted; ambient only where the
                         * process has inheritable capabilities (ambient ones need them), and
                         * inheritable never: --cap must not reach the process's children
                         * through an exec of a non-root user */
                        static const char *sets[] = {"bounding", "effective", "permitted",
                                                     "ambient"};
                        json_t *caps = json_object_get(p, "capabilities");
                        if (caps == NULL)
                                json_object_set_new(p, "capabilities", caps = json_object());
                        bool inheritable = json_is_array(json_object_get(caps, "inheritable"));
                        for (int k = 0; k < (inheritable ? 4 : 3); k++) {
                                json_t *a = json_object_get(caps, sets[k]);
                                if (a == NULL)
                                        json_object_set_new(caps, sets[k], a = json_array());
                                for (size_t i = 0; i < o->n_caps; i++)
                                        json_array_append_new(a, json_string(o->caps[i]));
                        }
                }
        }
        int r = oci_process_parse(p, out, err);
        json_decref(p);
        return r;
}

static bool same_ns(pid_t pid, const char *name)
{
        char a[64], b[64];
        struct stat sa, sb;
        snprintf(a, sizeof(a), "/proc/%d/ns/%s", (int) pid, name);
        snprintf(b, sizeof(b), "/proc/self/ns/%s", name);
        return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_ino == sb.st_ino &&
               sa.st_dev == sb.st_dev;
}

struct exec_child {
        const struct oci_process *proc;
        const struct oci_spec *spec;
        const struct sock_fprog *seccomp_bpf;
        int sync, console, ns_fds[8], preserve_fds;
};

__attribute__((noreturn)) static void child_main(struct exec_child *x)
{
        berth_error_t err = NULL;
        struct oci_sync_msg m;
        cleanup_free char *exe = NULL;
        bool in_userns = x->ns_fds[0] >= 0 || oci_in_userns(x->spec);
        if (oci_sync_recv(x->sync, &m, &err) < 0)
                _exit(OCI_EXIT_ERROR);
        for (int i = 0; i < 8; i++) {
                int flag = oci_ns_kinds[i].flag;
                if (x->ns_fds[i] < 0 || flag == CLONE_NEWPID || flag == 0x80 /* time */)
                        continue;
                if (setns(x->ns_fds[i], flag) < 0) {
                        berth_fail(&err, errno, "join the container's %s namespace",
                                   oci_ns_kinds[i].proc_name);
                        goto fail;
                }
                close(x->ns_fds[i]);
        }
        if (x->console >= 0 && oci_terminal_setup(x->console, x->proc, &err) < 0)
                goto fail;
        if (chdir(x->proc->cwd) < 0) {
                berth_fail(&err, errno, "chdir to `%s`", x->proc->cwd);
                goto fail;
        }
        if (x->proc->umask != OCI_UNSET)
                umask((mode_t) x->proc->umask);
        if (oci_process_resolve(x->proc, &exe, &err) < 0 || oci_process_prepare(x->proc, &err) < 0)
                goto fail;
        struct oci_exec_plan plan = {.proc = x->proc,
                                     .seccomp = x->spec->seccomp,
                                     .seccomp_bpf = x->seccomp_bpf,
                                     .path = exe,
                                     .preserve_fds = x->preserve_fds,
                                     .in_userns = in_userns,
                                     .sync_fd = x->sync};
        int notify_fd = -1;
        /* A notifying filter is loaded while `exec` waits, which passes its fd on to the
         * seccomp agent; else the process finishes on its own after READY, as before. */
        bool notify = !x->seccomp_bpf && x->spec->seccomp && oci_seccomp_notifies(x->spec->seccomp);
        if (notify && (oci_process_finalize(&plan, &notify_fd, &err) < 0 ||
                       (notify_fd >= 0 && oci_seccomp_hand_over(x->sync, notify_fd, &err) < 0)))
                goto fail;
        if (oci_sync_send(x->sync, OCI_SYNC_READY, NULL) < 0)
                _exit(OCI_EXIT_ERROR);
        close(x->sync);
        if (!notify && oci_process_finalize(&plan, &notify_fd, &err) == 0 && notify_fd >= 0)
                close(notify_fd); /* (a notifying filter always takes the branch above) */
        if (err == NULL)
                oci_process_execve(&plan, &err);
        berth_error_report(&err, OCI_EXIT_ERROR);
        _exit(127);
fail:
        oci_sync_send(x->sync, OCI_SYNC_ERROR, &err);
        _exit(OCI_EXIT_ERROR);
}

static int exec_in(struct oci_state *st, struct oci_spec *spec, struct oci_process *proc,
                   const struct oci_exec_opts *o, const struct oci_cg_subs *subs, int *status,
                   berth_error_t *err)
{
        struct exec_child x = {
                .proc = proc, .spec = spec, .console = -1, .preserve_fds = o->preserve_fds};
        int sync[2] = {-1, -1}, r = -1;
        cleanup_close int console_peer = -1, master = -1;
        pid_t pid = -1;
        struct sock_fprog bpf = {0};
        berth_error_t cache_err = NULL;
        /* before joining any namespace: the cache is a file of the runtime's state */
        if (spec->seccomp && oci_seccomp_bpf(spec->seccomp, st->dir, &bpf, &cache_err) < 0) {
                log_debug("exec: %s; compiling the filter instead", berth_error_msg(cache_err));
                berth_error_release(&cache_err);
        }
        x.seccomp_bpf = bpf.filter ? &bpf : NULL;
        for (int i = 0; i < 8; i++) {
                char path[64];
                x.ns_fds[i] = -1;
                if (same_ns(st->pid, oci_ns_kinds[i].proc_name))
                        continue;
                snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int) st->pid,
                         oci_ns_kinds[i].proc_name);
                x.ns_fds[i] = open(path, O_RDONLY | O_CLOEXEC);
                if (x.ns_fds[i] < 0 && errno != ENOENT) {
                        berth_fail(err, errno, "open `%s`", path);
                        goto out;
                }
        }
        if (proc->terminal) {
                if (o->console_socket) {
                        x.console = oci_console_connect(o->console_socket, err);
                } else if (o->console_fd > 0) {
                        x.console = fcntl(o->console_fd, F_DUPFD_CLOEXEC, 3);
                } else {
                        int sp[2];
                        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) == 0) {
                                x.console = sp[1];
                                console_peer = sp[0];
                        }
                }
                if (x.console < 0) {
                        berth_fail(err, errno, "set up the exec's terminal");
                        goto out;
                }
        }
        /* Joining a pid or time namespace takes CAP_SYS_ADMIN in our own user
         * namespace too: an unprivileged caller (rootless) has it only once it
         * is in the container's user namespace, which it owns.  Join that
         * first, here, for good: this process only waits for the exec now. */
        if (x.ns_fds[0] >= 0 && geteuid() != 0 && (x.ns_fds[6] >= 0 || x.ns_fds[7] >= 0)) {
                if (setns(x.ns_fds[0], CLONE_NEWUSER) < 0) {
                        berth_fail(err, errno, "enter the container's user namespace");
                        goto out;
                }
                close(x.ns_fds[0]);
                x.ns_fds[0] = -1;
        }
        if ((x.ns_fds[7] >= 0 && setns(x.ns_fds[7], 0x80) < 0) ||
            (x.ns_fds[6] >= 0 && setns(x.ns_fds[6], CLONE_NEWPID) < 0)) {
                berth_fail(err, errno, "enter the container's pid/time namespace");
                goto out;
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) < 0) {
                berth_fail(err, errno, "socketpair");
                goto out;
        }
        pid = fork();
        if (pid < 0) {
                berth_fail(err, errno, "fork");
                goto out;
        }
        if (pid == 0) {
                close(sync[0]);
                x.sync = sync[1];
                child_main(&x);
        }
        close(sync[1]);
        sync[1] = -1;
        struct oci_cgroup cg;
        struct oci_sync_msg m;
        log_debug("exec: process %d forked into container %s", (int) pid, st->id);
        oci_state_cgroup(st, &cg);
        r = subs->n ? cg.ops->enter_sub(&cg, pid, subs, err) : cg.ops->enter(&cg, pid, err);
        oci_cgroup_release(&cg);
        if (r < 0)
                berth_wrap(err, "add pid %d to the container's cgroup", (int) pid);
        if (r < 0 || oci_sync_send(sync[0], OCI_SYNC_GO, NULL) < 0 ||
            oci_sync_recv(sync[0], &m, err) < 0)
                goto kill;
        if (m.type == OCI_SYNC_SECCOMP &&
            (oci_seccomp_take_over(spec, st, OCI_RUNNING, pid, sync[0], &m, err) < 0 ||
             oci_sync_recv(sync[0], &m, err) < 0))
                goto kill;
        if (m.type == OCI_SYNC_ERROR) {
                oci_sync_error(&m, err);
                goto kill;
        }
        if (console_peer >= 0 && (master = berth_recv_fd(console_peer, err)) < 0)
                goto kill;
        if (o->pid_file) {
                char buf[16];
                snprintf(buf, sizeof(buf), "%d", (int) pid);
                if (berth_write_file_replace(o->pid_file, buf, strlen(buf), 0644, err) < 0)
                        goto kill;
        }
        r = 0;
        if (o->pid_out)
                *o->pid_out = pid;
        if (o->detach)
                goto out;
        if (master >= 0)
                oci_terminal_proxy(master);
        int ws = 0;
        while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
                ;
        *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
        goto out;
kill:
        r = -1;
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
out:
        for (int i = 0; i < 8; i++)
                if (x.ns_fds[i] >= 0)
                        close(x.ns_fds[i]);
        if (x.console >= 0)
                close(x.console);
        if (sync[0] >= 0)
                close(sync[0]);
        if (sync[1] >= 0)
                close(sync[1]);
        free(bpf.filter);
        return r;
}

int oci_exec(struct oci_ctx *c, const char *id, const struct oci_exec_opts *o, int *status,
             berth_error_t *err)
{
        struct oci_state st;
        struct oci_spec *spec = NULL;
        struct oci_process *proc = NULL;
        cleanup_free char *cfg = NULL;
        struct oci_cg_subs subs = {0};
        int r = -1;
        *status = 0;
        if (oci_state_load(c, id, &st, err) < 0)
                return -1;
        if (oci_cg_subs_parse(o->cgroups, o->n_cgroups, &subs, err) < 0)
                goto out;
        enum oci_status s = oci_state_status(&st);
        /* runc: with --ignore-paused the process joins the frozen cgroup and
         * runs once the container is resumed */
        if (s == OCI_PAUSED && !o->ignore_paused) {
                berth_fail_status(err, 1, 0,
                                  "cannot exec in a paused container (use --ignore-paused to "
                                  "override)");
                goto out;
        }
        if (s != OCI_RUNNING && s != OCI_CREATED && s != OCI_PAUSED) {
                berth_fail_status(err, 1, 0, "cannot exec in a %s container", oci_status_name(s));
                goto out;
        }
        /* after the container's state, as runc judges them */
        if (o->process_label) {
                berth_fail_status(err, 1, 0,
                                  "selinux label is specified in config, but selinux is disabled "
                                  "or not supported");
                goto out;
        }
        if (o->apparmor) {
                berth_fail_status(err, 1, 0,
                                  "apparmor profile `%s` specified, but berth-oci applies no "
                                  "AppArmor profiles",
                                  o->apparmor);
                goto out;
        }
        cfg = berth_xasprintf("%s/config.json", st.bundle);
        if (oci_spec_load(cfg, &spec, err) < 0 || build_process(spec, o, &proc, err) < 0 ||
            proc == NULL)
                goto out;
        if (proc->terminal && !o->console_socket && o->console_fd <= 0 && o->detach) {
                berth_fail_status(err, 1, 0, "exec -t -d needs --console-socket");
                goto out;
        }
        r = exec_in(&st, spec, proc, o, &subs, status, err);
out:
        oci_cg_subs_free(&subs);
        oci_process_free(proc);
        oci_spec_free(spec);
        oci_state_release(&st);
        return r;
}
