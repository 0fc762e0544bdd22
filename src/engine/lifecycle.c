/* lifecycle.c — start, stop, kill, wait, remove and reconcile (see lifecycle.h). */
#include "engine/network.h"
#include "engine/lifecycle.h"
#include "engine/links.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "engine/events.h"
#include "engine/rootfs.h"
#include "engine/volume.h"
#include "engine/spec.h"
#include "oci/oci.h"

static struct oci_ctx oci_of(struct eng_ctx *e)
{
        return (struct oci_ctx){.root = e->oci_root};
}

static pid_t monitor_pid(struct eng_container *c)
{
        return (pid_t) json_integer_value(
                json_object_get(json_object_get(c->state, "Monitor"), "Pid"));
}

/* Whether PID runs for container ID: a berth-monitor of it, or (ANY_BERTH) also the berth
 * command a monitor execs at its end (`berth network _teardown ID`, `berth rm -f ID`). A live
 * pid alone proves nothing: pids get reused. */
static bool pid_serves(pid_t pid, const char *id, bool any_berth)
{
        if (pid <= 0)
                return false;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/cmdline", (int) pid);
        cleanup_free char *cmd = NULL;
        size_t len = 0;
        if (berth_read_file(path, &cmd, &len, NULL) < 0)
                return false;
        bool is_ours = false, has_id = false;
        for (size_t i = 0; i < len; i += strlen(cmd + i) + 1) {
                const char *arg = cmd + i;
                const char *base = strrchr(arg, '/');
                base = base ? base + 1 : arg;
                is_ours |= i == 0 && (strcmp(base, "berth-monitor") == 0 ||
                                      (any_berth && strcmp(base, "berth") == 0));
                has_id |= strcmp(arg, id) == 0;
        }
        return is_ours && has_id;
}

bool eng_monitor_alive(struct eng_container *c)
{
        return pid_serves(monitor_pid(c), c->id, false);
}

/* The monitor records the exit first and then still writes: the log's last lines, its
 * sockets' removal, the network's teardown. Removing the record under it would race
 * ("Directory not empty"), so removal waits (a bounded while) until it is gone. */
static void wait_monitor_gone(struct eng_container *c, int64_t timeout_ms)
{
        pid_t pid = monitor_pid(c);
        if (pid == getpid())
                return; /* we are what the monitor exec'd: `berth rm -f` for --rm */
        for (int64_t waited = 0; waited < timeout_ms && pid_serves(pid, c->id, true); waited += 5)
                usleep(5000);
}

pid_t eng_monitor_pid(struct eng_container *c)
{
        return eng_monitor_alive(c) ? monitor_pid(c) : 0;
}

static bool wants_restart_after_crash(struct eng_container *c)
{
        json_t *rp = json_object_get(json_object_get(c->doc, "HostConfig"), "RestartPolicy");
        const char *name = json_string_value(json_object_get(rp, "Name"));
        return name && (strcmp(name, "always") == 0 || strcmp(name, "unless-stopped") == 0) &&
               !json_is_true(json_object_get(c->state, "HasBeenManuallyStopped"));
}

/* The network goes with the container's run; failures are logged, not fatal to the caller. */
static void net_down_logged(struct eng_ctx *e, struct eng_container *c)
{
        berth_error_t nerr = NULL;
        if (eng_net_down(e, c, &nerr) < 0) {
                log_warn("%s", berth_error_msg(nerr));
                berth_error_release(&nerr);
        }
}

int eng_reconcile(struct eng_ctx *e, struct eng_container *c, berth_error_t *err)
{
        if (!eng_status_live(eng_container_status(c)) || eng_monitor_alive(c))
                return 0;
        if (eng_container_lock(c, err) < 0)
                return -1;
        /* re-check under the lock: the monitor may have just recorded the exit */
        if (!eng_status_live(eng_container_status(c)) || eng_monitor_alive(c)) {
                eng_container_unlock(c);
                return 0;
        }
        struct oci_ctx oci = oci_of(e);
        berth_error_t ignored = NULL;
        oci_kill(&oci, c->id, SIGKILL, true, &ignored);
        berth_error_release(&ignored);
        /* give the kernel a moment to tear the pid namespace down, then clean up */
        for (int i = 0; i < 50 && oci_delete(&oci, c->id, true, &ignored) < 0; i++) {
                berth_error_release(&ignored);
                usleep(10000);
        }
        berth_error_release(&ignored);
        json_t *st = eng_container_state(c);
        cleanup_free char *now = eng_now_rfc3339();
        json_object_set_new(st, "Status", json_string("exited"));
        json_object_set_new(st, "Running", json_false());
        json_object_set_new(st, "Paused", json_false());
        json_object_set_new(st, "Restarting", json_false());
        json_object_set_new(st, "Pid", json_integer(0));
        json_object_set_new(st, "ExitCode", json_integer(137));
        json_object_set_new(st, "Error",
                            json_string("the container's monitor died; the container "
                                        "was killed"));
        json_object_set_new(st, "FinishedAt", json_string(now));
        json_object_del(c->state, "Monitor");
        int r = eng_container_save_state(c, err);
        if (r == 0)
                net_down_logged(e, c);
        eng_container_unlock(c);
        if (r < 0)
                return -1;
        log_info("container %.12s: its monitor died; recorded as exited", c->id);
        eng_event_container(e, c, "die", json_pack("{s:i}", "exitCode", 137));
        if (wants_restart_after_crash(c)) {
                struct eng_start_opts o = {0};
                int sync = -1;
                if (eng_start(e, c, &o, &sync, err) < 0)
                        return berth_wrap(err, "restart container %.12s (restart policy)", c->id);
        }
        return 0;
}

static int list_reconciled(struct eng_ctx *e, bool brief, struct eng_container ***v, size_t *n,
                           berth_error_t *err)
{
        if ((brief ? eng_container_list_brief(e, v, n, err) : eng_container_list(e, v, n, err)) < 0)
                return -1;
        for (size_t i = 0; i < *n; i++) {
                berth_error_t rerr = NULL;
                if (eng_reconcile(e, (*v)[i], &rerr) < 0) {
                        log_warn("%s", berth_error_msg(rerr));
                        berth_error_release(&rerr);
                }
        }
        return 0;
}

int eng_list_reconciled(struct eng_ctx *e, struct eng_container ***v, size_t *n, berth_error_t *err)
{
        return list_reconciled(e, false, v, n, err);
}

int eng_list_reconciled_brief(struct eng_ctx *e, struct eng_container ***v, size_t *n,
                              berth_error_t *err)
{
        return list_reconciled(e, true, v, n, err);
}

/* Read one line from the sync pipe (the monitor writes it in one go). */
static int read_line(int fd, char *buf, size_t len)
{
        size_t n = 0;
        while (n + 1 < len) {
                ssize_t r = read(fd, buf + n, 1);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                if (buf[n] == '\n')
                        break;
                n++;
        }
        buf[n] = '\0';
        return (int) n;
}

int eng_start_result(int sync_fd, pid_t *pid, berth_error_t *err)
{
        char line[1100];
        int n = read_line(sync_fd, line, sizeof(line));
        if (n <= 0)
                return berth_fail_status(err, 125, EPIPE,
                                         "the container's monitor exited without a word (see its "
                                         "monitor.log)");
        if (strncmp(line, "started ", 8) == 0) {
                if (pid)
                        *pid = (pid_t) strtol(line + 8, NULL, 10);
                return 0;
        }
        if (strncmp(line, "error ", 6) == 0) {
                char *end;
                long status = strtol(line + 6, &end, 10);
                return berth_fail_status(err, (int) status, 0, "%s", *end ? end + 1 : "failed");
        }
        if (strcmp(line, "created") == 0)
                return 1;
        return berth_fail_status(err, 125, EPROTO, "unexpected word from the monitor: %s", line);
}

int eng_start(struct eng_ctx *e, struct eng_container *c, const struct eng_start_opts *o,
              int *sync_fd, berth_error_t *err)
{
        *sync_fd = -1;
        /* a stopped container's last monitor may still be ending (its network teardown
         * among it), which would undo what this start sets up */
        if (!eng_status_live(eng_container_status(c)))
                wait_monitor_gone(c, 5000);
        if (eng_container_lock(c, err) < 0)
                return -1;
        if (eng_monitor_alive(c) && eng_status_live(eng_container_status(c))) {
                eng_container_unlock(c);
                return 0; /* already running: Docker's start is a no-op then */
        }
        /* an overlay gone with a reboot, or with rootless berth's mount namespace */
        if (eng_rootfs_mount(e, c, err) < 0) {
                eng_container_unlock(c);
                return -1;
        }
        json_object_set_new(c->state, "HasBeenManuallyStopped", json_false());
        /* which start this is: the last monitor's network teardown, which may still come,
         * leaves alone what a later start set up (network _teardown ID GEN) */
        json_t *starts = json_object_get(c->state, "BerthStarts");
        json_object_set_new(c->state, "BerthStarts", json_integer(json_integer_value(starts) + 1));
        int r = eng_container_save_state(c, err);
        /* its network before its processes: the runtime joins the namespace by path */
        if (r == 0)
                r = eng_net_up(e, c, err);
        eng_container_unlock(c);
        if (r < 0)
                return -1;
        cleanup_free char *monitor = berth_sibling_binary("berth-monitor");
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return berth_fail(err, errno, "pipe");
        pid_t child = fork();
        if (child < 0) {
                int e2 = errno;
                close(p[0]);
                close(p[1]);
                return berth_fail(err, e2, "fork");
        }
        if (child == 0) {
                /* double fork: the monitor must not be our child, nor in our session */
                setsid();
                pid_t g = fork();
                if (g != 0)
                        _exit(g < 0 ? 1 : 0);
                if (dup2(p[1], 3) < 0)
                        _exit(1);
                char name[] = "berth-monitor", wait[] = "--wait-attach", rm[] = "--remove-on-exit";
                char *argv[5];
                int n = 0;
                argv[n++] = name;
                if (o->wait_attach)
                        argv[n++] = wait;
                if (o->remove_on_exit)
                        argv[n++] = rm;
                argv[n++] = c->id;
                argv[n] = NULL;
                execv(monitor, argv);
                _exit(127);
        }
        close(p[1]);
        int ws;
        while (waitpid(child, &ws, 0) < 0 && errno == EINTR)
                ;
        pid_t pid = 0;
        int res = eng_start_result(p[0], &pid, err);
        if (res == 1 && o->wait_attach) {
                *sync_fd = p[0];
                return 0;
        }
        close(p[0]);
        if (res < 0) {
                if (eng_container_lock(c, NULL) == 0) {
                        if (!eng_monitor_alive(c))
                                net_down_logged(e, c);
                        eng_container_unlock(c);
                }
                return berth_wrap(err, "start container %.12s", c->id);
        }
        return 0;
}

static int stop_signal(struct eng_container *c)
{
        const char *s =
                json_string_value(json_object_get(json_object_get(c->doc, "Config"), "StopSignal"));
        int sig = s ? oci_signal_parse(s) : -1;
        return sig > 0 ? sig : SIGTERM;
}

static int wait_not_live(struct eng_container *c, int64_t timeout_ms)
{
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (;;) {
                berth_error_t err = NULL;
                if (eng_container_lock(c, &err) < 0) {
                        berth_error_release(&err);
                        return -1;
                }
                eng_container_unlock(c);
                if (!eng_status_live(eng_container_status(c)) || !eng_monitor_alive(c))
                        return 0;
                clock_gettime(CLOCK_MONOTONIC, &t);
                int64_t ms = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
                if (timeout_ms >= 0 && ms >= timeout_ms)
                        return 1;
                usleep(ms < 100 ? 2000 : 20000);
        }
}

int eng_kill(struct eng_ctx *e, struct eng_container *c, int sig, berth_error_t *err)
{
        /* the record may be older than the container's last transition (an
         * attached run holds it from create on): read the state again */
        if (eng_container_lock(c, err) < 0)
                return -1;
        eng_container_unlock(c);
        if (eng_reconcile(e, c, err) < 0)
                return -1;
        if (strcmp(eng_container_status(c), "running") != 0 &&
            strcmp(eng_container_status(c), "paused") != 0)
                return berth_fail_status(err, 1, EINVAL, "Container %s is not running", c->id);
        struct oci_ctx oci = oci_of(e);
        if (oci_kill(&oci, c->id, sig, false, err) < 0)
                return berth_wrap(err, "kill container %.12s", c->id);
        eng_event_container(e, c, "kill", json_pack("{s:i}", "signal", sig));
        return 0;
}

/* After a stop: the network goes now (the monitor's own teardown may still be on its way),
 * so that what follows `berth stop` (network rm, a run on the same port) finds it gone. */
static int stopped_net_down(struct eng_ctx *e, struct eng_container *c)
{
        eng_event_container(e, c, "stop", NULL);
        if (eng_container_lock(c, NULL) == 0) {
                net_down_logged(e, c);
                eng_container_unlock(c);
        }
        return 0;
}

int eng_stop(struct eng_ctx *e, struct eng_container *c, int timeout, berth_error_t *err)
{
        if (eng_reconcile(e, c, err) < 0)
                return -1;
        if (eng_container_lock(c, err) < 0)
                return -1;
        json_object_set_new(c->state, "HasBeenManuallyStopped", json_true());
        int r = eng_container_save_state(c, err);
        eng_container_unlock(c);
        if (r < 0)
                return -1;
        const char *st = eng_container_status(c);
        if (!eng_status_live(st))
                return 0; /* Docker: stopping a stopped container succeeds */
        if (timeout < 0) {
                json_t *t = json_object_get(json_object_get(c->doc, "Config"), "StopTimeout");
                timeout = json_is_integer(t) ? (int) json_integer_value(t) : 10;
        }
        struct oci_ctx oci = oci_of(e);
        berth_error_t kerr = NULL;
        if (strcmp(st, "paused") == 0)
                oci_pause(&oci, c->id, false, &kerr);
        berth_error_release(&kerr);
        if (strcmp(st, "restarting") != 0 &&
            oci_kill(&oci, c->id, stop_signal(c), false, &kerr) < 0)
                log_debug("stop signal: %s", berth_error_msg(kerr));
        else if (strcmp(st, "restarting") != 0)
                eng_event_container(e, c, "kill", json_pack("{s:i}", "signal", stop_signal(c)));
        berth_error_release(&kerr);
        if (wait_not_live(c, (int64_t) timeout * 1000) == 0)
                return stopped_net_down(e, c);
        /* every process of its cgroup (a container in the host's pid namespace
         * has no pid 1 whose death takes the rest), then its init (without a
         * cgroup, as rootless on cgroup v1, that is the way) */
        if (oci_kill(&oci, c->id, SIGKILL, true, &kerr) < 0)
                log_debug("SIGKILL to all: %s", berth_error_msg(kerr));
        berth_error_release(&kerr);
        if (oci_kill(&oci, c->id, SIGKILL, false, &kerr) < 0)
                log_debug("SIGKILL: %s", berth_error_msg(kerr));
        berth_error_release(&kerr);
        if (wait_not_live(c, 10000) != 0)
                return berth_fail_status(err, 125, ETIMEDOUT,
                                         "container %.12s did not stop after SIGKILL", c->id);
        return stopped_net_down(e, c);
}

int eng_wait(struct eng_ctx *e, struct eng_container *c, int *code, berth_error_t *err)
{
        if (eng_reconcile(e, c, err) < 0)
                return -1;
        if (wait_not_live(c, -1) < 0)
                return berth_fail(err, EIO, "wait for container %.12s", c->id);
        if (eng_reconcile(e, c, err) < 0)
                return -1;
        *code = (int) json_integer_value(json_object_get(eng_container_state(c), "ExitCode"));
        return 0;
}

int eng_pause(struct eng_ctx *e, struct eng_container *c, bool pause, berth_error_t *err)
{
        if (eng_reconcile(e, c, err) < 0 || eng_container_lock(c, err) < 0)
                return -1;
        const char *st = eng_container_status(c);
        int r = 0;
        if (pause && strcmp(st, "paused") == 0)
                r = berth_fail_status(err, 1, EINVAL, "Container %s is already paused", c->id);
        else if (pause && strcmp(st, "running") != 0)
                r = berth_fail_status(err, 1, EINVAL, "Container %s is not running", c->id);
        else if (!pause && strcmp(st, "paused") != 0)
                r = berth_fail_status(err, 1, EINVAL, "Container %s is not paused", c->id);
        if (r == 0) {
                struct oci_ctx oci = oci_of(e);
                r = oci_pause(&oci, c->id, pause, err);
        }
        if (r == 0) {
                json_t *s = eng_container_state(c);
                json_object_set_new(s, "Status", json_string(pause ? "paused" : "running"));
                json_object_set_new(s, "Paused", json_boolean(pause));
                r = eng_container_save_state(c, err);
        }
        eng_container_unlock(c);
        if (r == 0)
                eng_event_container(e, c, pause ? "pause" : "unpause", NULL);
        return r;
}

/* The anonymous volumes of a container: volumes in its Mounts that no -v or --mount named. */
static json_t *anonymous_volumes(struct eng_container *c)
{
        json_t *hc = json_object_get(c->doc, "HostConfig"), *out = json_array(), *m, *b;
        json_t *own = json_object_get(json_object_get(c->doc, "Config"), "Volumes");
        size_t i, j;
        json_array_foreach(json_object_get(c->doc, "Mounts"), i, m)
        {
                const char *name = json_string_value(json_object_get(m, "Name"));
                if (name == NULL ||
                    strcmp(json_string_value(json_object_get(m, "Type")) ?: "", "volume") != 0)
                        continue;
                /* only a volume made for this container is anonymous to it: one at a VOLUME
                 * or `-v /dst` of its Config, or a --mount without a source; what
                 * --volumes-from brought in belongs to the other container */
                const char *dst = json_string_value(json_object_get(m, "Destination")) ?: "";
                bool named = json_object_get(own, dst) == NULL;
                json_array_foreach(json_object_get(hc, "Mounts"), j, b)
                {
                        const char *t = json_string_value(json_object_get(b, "Target"));
                        const char *s = json_string_value(json_object_get(b, "Source"));
                        if (t && strcmp(t, dst) == 0 && (s == NULL || *s == '\0'))
                                named = false;
                }
                size_t len = strlen(name);
                json_array_foreach(json_object_get(hc, "Binds"), j, b)
                {
                        const char *s = json_string_value(b);
                        named |= s && strncmp(s, name, len) == 0 && s[len] == ':';
                }
                json_array_foreach(json_object_get(hc, "Mounts"), j, b)
                {
                        const char *s = json_string_value(json_object_get(b, "Source"));
                        named |= s && strcmp(s, name) == 0;
                }
                if (!named)
                        json_array_append_new(out, json_string(name));
        }
        return out;
}

int eng_remove(struct eng_ctx *e, struct eng_container *c, bool force, berth_error_t *err)
{
        return eng_remove_volumes(e, c, force, false, err);
}

int eng_remove_volumes(struct eng_ctx *e, struct eng_container *c, bool force, bool volumes,
                       berth_error_t *err)
{
        if (eng_reconcile(e, c, err) < 0)
                return -1;
        const char *st = eng_container_status(c);
        if (eng_status_live(st)) {
                if (!force && strcmp(st, "paused") == 0)
                        return berth_fail_status(err, 1, EBUSY,
                                                 "You cannot remove a paused container %s. "
                                                 "Unpause and then stop the container before "
                                                 "attempting removal or force remove",
                                                 c->id);
                if (!force)
                        return berth_fail_status(err, 1, EBUSY,
                                                 "You cannot remove a %s container %s. Stop the "
                                                 "container before attempting removal or force "
                                                 "remove",
                                                 st, c->id);
                if (eng_stop(e, c, 0, err) < 0)
                        return -1;
        }
        wait_monitor_gone(c, 5000);
        if (eng_container_lock(c, err) < 0)
                return -1;
        json_object_set_new(eng_container_state(c), "Status", json_string("removing"));
        /* best effort, as the runtime's delete: the removal below is what counts */
        berth_error_t ignored = NULL;
        eng_container_save_state(c, &ignored);
        berth_error_release(&ignored);
        struct oci_ctx oci = oci_of(e);
        oci_delete(&oci, c->id, true, &ignored);
        berth_error_release(&ignored);
        if (eng_net_down_id(e, c->id, &ignored) < 0) {
                log_warn("%s", berth_error_msg(ignored));
                berth_error_release(&ignored);
        }
        if (eng_rootfs_remove(e, c, err) < 0) {
                eng_container_unlock(c);
                return berth_wrap(err, "remove the root filesystem of %.12s", c->id);
        }
        /* --rm takes the container's anonymous volumes with it (Docker's auto-remove is
         * `rm -v`); named volumes stay */
        json_t *anon = volumes || json_is_true(json_object_get(
                                          json_object_get(c->doc, "HostConfig"), "AutoRemove"))
                               ? anonymous_volumes(c)
                               : json_array();
        int r = eng_container_remove_record(e, c, err);
        eng_container_unlock(c);
        if (r == 0)
                eng_links_forget(e, c->id);
        size_t i;
        json_t *v;
        json_array_foreach(anon, i, v)
        {
                if (r == 0 && eng_volume_remove(e, json_string_value(v), false, &ignored) < 0) {
                        log_warn("%s", berth_error_msg(ignored));
                        berth_error_release(&ignored);
                }
        }
        json_decref(anon);
        if (r == 0)
                eng_event_container(e, c, "destroy", NULL);
        return r;
}

static bool env_has(json_t *env, char *const *more, size_t n_more, const char *name)
{
        size_t len = strlen(name);
        size_t i;
        json_t *v;
        json_array_foreach(env, i, v)
        {
                const char *s = json_string_value(v);
                if (s && strncmp(s, name, len) == 0 && s[len] == '=')
                        return true;
        }
        for (i = 0; i < n_more; i++)
                if (strncmp(more[i], name, len) == 0 && more[i][len] == '=')
                        return true;
        return false;
}

int eng_exec_defaults(struct eng_container *c, bool rootless, const char *user, bool tty,
                      char *const *env, size_t n_env, char **uid_gid, char **gids,
                      const char **term_env, berth_error_t *err)
{
        *uid_gid = NULL;
        *gids = NULL;
        *term_env = NULL;
        json_t *cfg = json_object_get(c->doc, "Config");
        if (tty && !env_has(json_object_get(cfg, "Env"), env, n_env, "TERM"))
                *term_env = "TERM=xterm";
        if (user == NULL)
                return 0;
        pid_t pid = (pid_t) json_integer_value(json_object_get(eng_container_state(c), "Pid"));
        if (pid <= 0)
                return berth_fail_status(err, 1, 0, "container %s is not running", c->id);
        char root[64];
        snprintf(root, sizeof(root), "/proc/%d/root", (int) pid);
        struct eng_user u;
        json_t *add = json_object_get(json_object_get(c->doc, "HostConfig"), "GroupAdd");
        if (eng_user_resolve(root, user, add, &u, err) < 0) {
                if (*err)
                        (*err)->status = 126;
                return -1;
        }
        *uid_gid = berth_xasprintf("%lu:%lu", (unsigned long) u.uid, (unsigned long) u.gid);
        /* at most 11 characters a group (10 digits and a comma) */
        char *list = berth_xcalloc(u.ngids * 11 + 1, 1);
        for (size_t i = 0, at = 0; i < u.ngids; i++)
                if (!rootless || u.gids[i] != u.gid) /* as the spec (spec.c) */
                        at += (size_t) snprintf(list + at, 12, "%s%lu", at ? "," : "",
                                                (unsigned long) u.gids[i]);
        *gids = list;
        eng_user_release(&u);
        return 0;
}

int eng_container_log_source(struct eng_container *c, struct eng_log_read_opts *o,
                             const char **path, int *monitor_fd, berth_error_t *err)
{
        *monitor_fd = -1;
        json_t *lc = json_object_get(json_object_get(c->doc, "HostConfig"), "LogConfig");
        const char *type = json_string_value(json_object_get(lc, "Type"));
        if (type && strcmp(type, "none") == 0)
                return berth_fail_status(err, 1, 0,
                                         "configured logging driver does not support reading");
        const char *mf =
                json_string_value(json_object_get(json_object_get(lc, "Config"), "max-file"));
        o->max_file = mf ? (unsigned) strtoul(mf, NULL, 10) : 1;
        *path = json_string_value(json_object_get(c->doc, "LogPath"));
        if (*path == NULL)
                return berth_fail(err, ENOENT, "container %.12s has no log file", c->id);
        if (o->follow) {
                /* follow until the monitor is gone: a pidfd becomes readable then */
                pid_t mp = eng_monitor_pid(c);
                if (mp > 0)
                        *monitor_fd = (int) syscall(SYS_pidfd_open, mp, 0);
                if (*monitor_fd < 0)
                        o->follow = false;
        }
        return 0;
}
