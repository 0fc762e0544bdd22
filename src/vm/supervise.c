/* supervise.c — one supervisor per running VM, as containers have their
 * monitor: a double-forked child of `berth vm start` that execs
 * berth-vm-monitor (static, small: it idles beside every VM; see
 * vm_supervise_main) and runs berth-vmm as its child and
 *
 *   - owns the serial console: the VMM's stdio are pipes; output goes to
 *     console.log (rotated at 1 MiB), a 16 KiB replay ring and every client
 *     of console.sock; client input goes to the guest;
 *   - records how the VM stopped in state.json, under the VM's lock (a
 *     guest poweroff, a destroy, a crash, a kill -9);
 *   - restarts the VMM when the guest reboots (berth-vmm exits 10 then) or
 *     `vm reboot --force` asks for a reset;
 *   - holds the VM's taps on berth networks (made and joined by the starter
 *     before the exec, net.c) for each VMM it starts, and has their leases
 *     released when the VM stops for good.
 *
 * The starting command learns over a pipe that the API answers (or why the
 * VMM died first) and writes the running state itself, still holding the
 * lock, so the supervisor's own record always comes after it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/idmap.h"
#include "common/paths.h"
#include "common/units.h"
#include "common/util.h"
#include "vm/vm_internal.h"

#define CONSOLE_LOG_MAX  (1 << 20)
#define REPLAY_SIZE      (16 * 1024)
#define MAX_CLIENTS      8
#define API_WAIT_MS      10000
#define MAX_QUICK_REBOOT 5 /* reboots within 10 s before it counts as a crash */
#define VMM_WAIT_FD      3 /* berth-vmm's --wait-fd */

struct sup {
        struct vm_rec *r;
        char *api_sock, *console_sock, *log_path;
        int listen_fd, log_fd, sig_fd;
        int in_fd, out_fd; /* the VMM's stdin (write end), stdout (read end) */
        int clients[MAX_CLIENTS];
        char ring[REPLAY_SIZE];
        size_t ring_len, ring_pos;
        off_t log_size;
        pid_t vmm;
        bool jailed; /* berth-vmm --jail, as pid 1 of a pid namespace made here */
        bool cgroup; /* the VMM is in the VM's cgroup */
};

static bool api_ready(const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return false;
        bool ok = connect(fd, (struct sockaddr *) &sa, sizeof(sa)) == 0;
        close(fd);
        return ok;
}

static int listen_unix(const char *path)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return -1;
        strcpy(sa.sun_path, path);
        (void) unlink(path);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return -1;
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

static void open_log(struct sup *s)
{
        if (s->log_fd >= 0)
                close(s->log_fd);
        s->log_fd = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        struct stat st;
        s->log_size = s->log_fd >= 0 && fstat(s->log_fd, &st) == 0 ? st.st_size : 0;
}

/* Guest output: the log (rotated so a chatty guest cannot fill the disk),
 * the replay ring, every attached client (a slow one loses bytes, as a
 * serial line would, rather than stalling the guest). */
static void output(struct sup *s, const char *buf, size_t n)
{
        if (s->log_fd >= 0 && s->log_size + (off_t) n > CONSOLE_LOG_MAX) {
                cleanup_free char *old = berth_xasprintf("%s.1", s->log_path);
                (void) rename(s->log_path, old);
                open_log(s);
        }
        if (s->log_fd >= 0 && berth_write_all(s->log_fd, buf, n) == 0)
                s->log_size += (off_t) n;
        for (size_t i = 0; i < n; i++) {
                s->ring[s->ring_pos] = buf[i];
                s->ring_pos = (s->ring_pos + 1) % REPLAY_SIZE;
        }
        s->ring_len = s->ring_len + n > REPLAY_SIZE ? REPLAY_SIZE : s->ring_len + n;
        for (int i = 0; i < MAX_CLIENTS; i++)
                if (s->clients[i] >= 0 &&
                    send(s->clients[i], buf, n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
                    errno != EAGAIN) {
                        close(s->clients[i]);
                        s->clients[i] = -1;
                }
}

static void accept_client(struct sup *s)
{
        int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
                return;
        int slot = -1;
        for (int i = 0; i < MAX_CLIENTS && slot < 0; i++)
                if (s->clients[i] < 0)
                        slot = i;
        if (slot < 0) {
                close(fd);
                return;
        }
        /* What the guest printed lately comes first. */
        size_t start = (s->ring_pos + REPLAY_SIZE - s->ring_len) % REPLAY_SIZE;
        size_t first = s->ring_len < REPLAY_SIZE - start ? s->ring_len : REPLAY_SIZE - start;
        (void) berth_write_all(fd, s->ring + start, first);
        (void) berth_write_all(fd, s->ring, s->ring_len - first);
        s->clients[slot] = fd;
}

/* FLAG and each string of list (at most max) after a[*n], copied. */
static void add_each(char **a, int *n, const char *flag, const json_t *list, size_t max)
{
        size_t i;
        json_t *t;
        json_array_foreach(list, i, t)
        {
                if (i >= max || !json_is_string(t))
                        break;
                a[(*n)++] = berth_xstrdup(flag);
                a[(*n)++] = berth_xstrdup(json_string_value(t));
        }
}

static char **vmm_argv(struct sup *s)
{
        struct vm_rec *r = s->r;
        cleanup_free char *cfg = vm_rec_path(r, "config.json");
        char **a = berth_xcalloc(30 + 2 * VM_MAX_DISKS + 2 * VM_MAX_MEM_DIFFS + 2 * VM_MAX_NETS,
                                 sizeof(char *));
        int n = 0;
        a[n++] = berth_xstrdup(r->ctx->vmm_bin);
        if (r->migrate_incoming) { /* vm receive: the VM comes from the stream */
                a[n++] = berth_xstrdup("--migrate-incoming");
                a[n++] = berth_xstrdup(r->migrate_incoming);
                /* the received definition: this host's paths for the VM's files (a
                 * copied disk's, a jail's) */
                a[n++] = berth_xstrdup("--config");
                a[n++] = berth_xstrdup(cfg);
                add_each(a, &n, "--migrate-disk", r->migrate_disks, VM_MAX_DISKS);
        } else if (r->restore_state) { /* a snapshot revert: its devices, memory and vCPUs */
                a[n++] = berth_xstrdup("--restore");
                a[n++] = berth_xstrdup(r->restore_state);
                a[n++] = berth_xstrdup("--restore-mem");
                a[n++] = berth_xstrdup(r->restore_mem);
                add_each(a, &n, "--restore-mem-diff", r->restore_diffs, VM_MAX_MEM_DIFFS);
        } else {
                a[n++] = berth_xstrdup("--config");
                a[n++] = berth_xstrdup(cfg);
        }
        a[n++] = berth_xstrdup("--api-sock");
        a[n++] = berth_xstrdup(s->api_sock);
        a[n++] = berth_xstrdup("--console");
        a[n++] = berth_xstrdup("stdio");
        a[n++] = berth_xstrdup("--log-level");
        a[n++] = berth_xstrdup("info");
        a[n++] = berth_xstrdup("--wait-fd");
        a[n++] = berth_xasprintf("%d", VMM_WAIT_FD);
        if (json_is_true(json_object_get(r->meta, "NoAcpi")))
                a[n++] = berth_xstrdup("--no-acpi");
        add_each(a, &n, "--tap-fd", r->tap_fds, VM_MAX_NETS); /* this process's (net.c) */
        if (r->boot_arg) {
                a[n++] = berth_xstrdup("--boot-arg");
                a[n++] = berth_xstrdup(r->boot_arg);
        }
        json_t *numa = json_object_get(r->meta, "Numa"); /* vm numatune */
        const char *nodes = json_string_value(json_object_get(numa, "Nodeset"));
        const char *mode = json_string_value(json_object_get(numa, "Mode"));
        if (nodes && mode) {
                a[n++] = berth_xstrdup("--numa");
                a[n++] = berth_xasprintf("%s:%s", nodes, mode);
        }
        if (s->jailed) { /* snapshots are written in snapshots/, bound into the jail */
                a[n++] = berth_xstrdup("--jail");
                a[n++] = berth_xstrdup("--jail-rw");
                a[n++] = vm_rec_path(r, "snapshots");
                a[n++] = berth_xstrdup("--jail-migrate"); /* `vm migrate` over tcp */
        }
        return a;
}

bool vm_jail_wanted(const struct vm_rec *r, const char **why)
{
        const char *w = NULL;
        if (json_is_true(json_object_get(r->meta, "NoJail")))
                w = "its definition says --no-jail";
        else if (geteuid() != 0)
                w = "berth runs without root (and outside its rootless namespace)";
        else if (!berth_self_maps_id(false, VM_JAIL_ID) || !berth_self_maps_id(true, VM_JAIL_ID))
                /* rootless: berth's user namespace maps 65534 to one of the user's
                 * subordinate ids (newuidmap), a uid of the VMM's own; without a range in
                 * /etc/subuid and /etc/subgid it maps the user alone */
                w = "berth's user namespace maps no uid and gid 65534 (the user has no "
                    "subordinate ids in /etc/subuid and /etc/subgid)";
        if (why)
                *why = w;
        return w == NULL;
}

/* The jail's directory berth-vmm made (<run>/vmm/jail-<pid>): empty on the
 * host (the tmpfs was in the VMM's own mount namespace), removed here as
 * the VMM, by then another uid, could not. */
static void remove_jail_dir(pid_t pid)
{
        struct berth_paths p = {0};
        berth_error_t err = NULL;
        if (berth_paths_default(&p, &err) < 0) {
                berth_error_release(&err);
                return;
        }
        cleanup_free char *dir = berth_xasprintf("%s/vmm/jail-%d", p.run_dir, (int) pid);
        (void) rmdir(dir);
        berth_paths_free(&p);
}

/* What a VMM leaves once it is gone, cleared before its exit is recorded
 * (a reader then finds nothing of it): its API and vsock sockets, which a
 * jailed VMM (another uid) could not unlink, its jail's directory, its cgroup (made
 * again for the next VMM). */
static void vmm_gone(struct sup *s)
{
        (void) unlink(s->api_sock);
        cleanup_free char *hand = vm_rec_run_path(s->r, "api.sock.fd");
        (void) unlink(hand);
        cleanup_free char *vsock = vm_rec_run_path(s->r, "vsock.sock");
        (void) unlink(vsock);
        if (s->jailed)
                remove_jail_dir(s->vmm);
        if (s->cgroup)
                vm_cgroup_remove(s->r);
}

/* A child for berth-vmm: a plain fork, or jailed the first process of a new
 * pid namespace (the VMM is pid 1 there and sees no other process; its
 * host pid stays the one vcpupin, stats and destroy use). */
static pid_t fork_vmm(bool newpid)
{
        if (!newpid)
                return fork();
        /* clone with fork's semantics: the child only execs */
        return (pid_t) syscall(SYS_clone, (unsigned long) (CLONE_NEWPID | SIGCHLD), NULL, NULL,
                               NULL, 0UL);
}

/* Fork and exec berth-vmm with its stdio on pipes; stderr to vmm.log.  The
 * VMM is put in the VM's cgroup while it execs and makes its jail (a few ms
 * of cgroupfs writes, off the start's critical path), and waits for that
 * (--wait-fd) before it builds the VM: guest RAM and every thread are the
 * cgroup's. */
static int spawn_vmm(struct sup *s, char *const *argv, berth_error_t *err)
{
        int in[2], out[2], go[2];
        if (pipe2(in, O_CLOEXEC) < 0)
                return berth_fail(err, errno, "pipe");
        if (pipe2(out, O_CLOEXEC) < 0) {
                int e = errno;
                close(in[0]);
                close(in[1]);
                return berth_fail(err, e, "pipe");
        }
        if (pipe2(go, O_CLOEXEC) < 0) {
                int e = errno;
                close(in[0]);
                close(in[1]);
                close(out[0]);
                close(out[1]);
                return berth_fail(err, e, "pipe");
        }
        pid_t pid = fork_vmm(s->jailed);
        if (pid == 0) {
                /* stderr is the supervisor's own: vmm.log already (supervise);
                 * fd 3 is --wait-fd, closed by the supervisor once the VMM
                 * is in the VM's cgroup */
                if (dup2(in[0], 0) < 0 || dup2(out[1], 1) < 0 ||
                    (go[0] == VMM_WAIT_FD ? fcntl(go[0], F_SETFD, 0) : dup2(go[0], VMM_WAIT_FD)) <
                            0)
                        _exit(127);
                sigset_t all;
                sigemptyset(&all);
                if (s->jailed) {
                        /* pid 1 drops a signal it has no handler for: kept
                         * pending until berth-vmm's signalfd takes it */
                        sigaddset(&all, SIGINT);
                        sigaddset(&all, SIGTERM);
                        sigaddset(&all, SIGHUP);
                }
                sigprocmask(SIG_SETMASK, &all, NULL);
                signal(SIGPIPE, SIG_DFL);
                /* On this supervisor's taps and leases: a VMM left running by its
                 * killed supervisor would keep a tap on an address the network's
                 * gc then lends again (the jail sets it again after its change of ids). */
                if (json_array_size(s->r->tap_fds))
                        prctl(PR_SET_PDEATHSIG, SIGKILL);
                execv(argv[0], argv);
                fprintf(stderr, "berth vm: exec `%s`: %s\n", argv[0], strerror(errno));
                _exit(127);
        }
        int fork_errno = errno;
        close(in[0]);
        close(out[1]);
        close(go[0]);
        if (pid < 0) {
                close(in[1]);
                close(out[0]);
                close(go[1]);
                return berth_fail(err, fork_errno, "%s",
                                  s->jailed ? "clone a new pid namespace" : "fork");
        }
        if (vm_cgroup_enter(s->r, pid, err) < 0) {
                if (vm_cgroup_limited(s->r)) { /* limits asked for: not without them */
                        /* killed before go closes: it never runs unlimited; its
                         * jail's directory was made before it waited on go */
                        kill(pid, SIGKILL);
                        close(go[1]);
                        waitpid(pid, NULL, 0);
                        if (s->jailed)
                                remove_jail_dir(pid);
                        close(in[1]);
                        close(out[0]);
                        return -1;
                }
                log_warn("%s: the VM runs without a cgroup of its own", berth_error_msg(*err));
                berth_error_release(err);
                s->cgroup = false;
        } else {
                s->cgroup = geteuid() == 0 && !berth_in_userns();
        }
        close(go[1]);
        s->vmm = pid;
        s->in_fd = in[1];
        s->out_fd = out[0];
        fcntl(s->in_fd, F_SETFL, O_NONBLOCK);
        return 0;
}

/* The VM stops for good: its taps close (the kernel removes each with its last
 * descriptor, the VMM's gone already) and their leases are released by the
 * one program that can, `berth network _teardown vm-<this pid>` (this one
 * links no network code); after a kill -9 the next `berth network` call's
 * garbage collection does it.  Waited for, so that a `vm destroy`, which
 * waits for the exit's record, finds the endpoint gone. */
static void release_network(struct sup *s)
{
        size_t i;
        json_t *t;
        if (!json_array_size(s->r->tap_fds))
                return;
        json_array_foreach(s->r->tap_fds, i, t)
        {
                const char *eq = strchr(json_string_value(t), '=');
                if (eq)
                        close(atoi(eq + 1));
        }
        json_array_clear(s->r->tap_fds);
        cleanup_free char *berth = berth_sibling_binary("berth");
        cleanup_free char *owner = berth_xasprintf("vm-%d", (int) getpid());
        pid_t pid = fork();
        if (pid == 0) {
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                signal(SIGPIPE, SIG_DFL);
                execl(berth, "berth", "network", "_teardown", owner, (char *) NULL);
                fprintf(stderr, "berth vm: exec `%s`: %s\n", berth, strerror(errno));
                _exit(127);
        }
        int st = 0;
        while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        if (pid < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                log_warn("VM %s: `berth network _teardown %s` failed (%s): the next `berth "
                         "network` command releases its endpoints",
                         s->r->name, owner, pid < 0 ? strerror(errno) : "see above");
}

/* Does the VMM's loop answer?  Its socket listens before the VM is built,
 * but requests are served only once the build is done (or, receiving a
 * migration, while it waits): an answer means the VM was built. */
static bool vmm_answers(const char *sock, int timeout_ms)
{
        json_t *rep = NULL;
        berth_error_t e = NULL;
        int code = vm_api_call_timeout(sock, "GET", "/", NULL, &rep, (unsigned) timeout_ms, &e);
        json_decref(rep);
        berth_error_release(&e);
        return code == 200;
}

/* Until the VMM has built its VM and its API answers (1), or it exits (0,
 * *status set): a VMM that fails in its build (no huge pages left, a disk it
 * cannot open) is a failed start, not a VM that crashes after `vm start`. */
static int wait_api(struct sup *s, int *status)
{
        /* 1 ms steps: the VMM is up in a few, and `vm start` waits for this. */
        for (int ms = 0; ms < API_WAIT_MS; ms++) {
                if (waitpid(s->vmm, status, WNOHANG) == s->vmm)
                        return 0;
                if (api_ready(s->api_sock) && vmm_answers(s->api_sock, API_WAIT_MS - ms))
                        return 1;
                struct timespec t = {0, 1000000};
                nanosleep(&t, NULL);
        }
        return 1; /* slow, not dead: the pump loop sees whatever comes */
}

/* The last lines of vmm.log: why a VMM that died at once died. */
static char *vmm_log_tail(struct sup *s)
{
        cleanup_free char *p = vm_rec_path(s->r, "vmm.log");
        cleanup_free char *text = NULL;
        size_t len = 0;
        if (berth_read_file(p, &text, &len, NULL) < 0 || !len)
                return berth_xstrdup("no message (see vmm.log)");
        while (len && text[len - 1] == '\n')
                text[--len] = 0;
        char *last = strrchr(text, '\n');
        return berth_xstrdup(last ? last + 1 : text);
}

/* Serve the console until the VMM exits; its wait status.  exited: the
 * VMM was already reaped (status is its wait status), so only its last
 * output is drained. */
static int pump(struct sup *s, int status, bool exited)
{
        bool out_open = true;
        while (out_open || !exited) {
                struct pollfd p[3 + MAX_CLIENTS];
                int n = 0;
                p[n++] = (struct pollfd){s->sig_fd, POLLIN, 0};
                p[n++] = (struct pollfd){out_open ? s->out_fd : -1, POLLIN, 0};
                p[n++] = (struct pollfd){exited ? -1 : s->listen_fd, POLLIN, 0};
                for (int i = 0; i < MAX_CLIENTS; i++)
                        p[n++] = (struct pollfd){s->clients[i], POLLIN, 0};
                /* After the exit, output still in the pipe is drained, briefly. */
                if (poll(p, (nfds_t) n, exited ? 200 : -1) == 0)
                        break;
                if (p[0].revents) {
                        struct signalfd_siginfo si;
                        while (read(s->sig_fd, &si, sizeof(si)) == sizeof(si))
                                ;
                        if (!exited && waitpid(s->vmm, &status, WNOHANG) == s->vmm)
                                exited = true;
                }
                if (p[1].revents) {
                        char buf[4096];
                        ssize_t r = read(s->out_fd, buf, sizeof(buf));
                        if (r > 0)
                                output(s, buf, (size_t) r);
                        else if (r == 0 || errno != EINTR)
                                out_open = false;
                }
                if (p[2].revents)
                        accept_client(s);
                for (int i = 0; i < MAX_CLIENTS; i++) {
                        if (!p[3 + i].revents || s->clients[i] < 0)
                                continue;
                        char buf[256];
                        ssize_t r = read(s->clients[i], buf, sizeof(buf));
                        if (r <= 0) {
                                close(s->clients[i]);
                                s->clients[i] = -1;
                        } else if (s->in_fd >= 0) {
                                /* a guest not reading loses keys, as a UART would */
                                (void) !write(s->in_fd, buf, (size_t) r);
                        }
                }
        }
        if (!exited)
                waitpid(s->vmm, &status, 0);
        close(s->out_fd);
        close(s->in_fd);
        s->in_fd = s->out_fd = -1;
        return status;
}

/* How the VM stopped, as state.json says it; false: start it again. */
static bool record_exit(struct sup *s, int status, unsigned *quick_reboots, time_t *since)
{
        struct vm_rec *r = s->r;
        berth_error_t err = NULL;
        if (vm_rec_lock(r, &err) < 0) {
                log_error("VM %s: %s", r->name, berth_error_msg(err));
                berth_error_release(&err);
                return true;
        }
        json_t *st = r->state;
        const char *intent = json_string_value(json_object_get(st, "Intent"));
        intent = intent ? intent : "";
        bool exited = WIFEXITED(status);
        int code = exited ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        bool destroy = strcmp(intent, "destroy") == 0, shutdown = strcmp(intent, "shutdown") == 0;
        bool restart = strcmp(intent, "reset") == 0 ||
                       (exited && code == VMM_STATUS_REBOOT && !destroy && !shutdown);
        time_t now = time(NULL);
        if (restart) {
                if (now - *since > 10) {
                        *since = now;
                        *quick_reboots = 0;
                }
                restart = ++*quick_reboots <= MAX_QUICK_REBOOT;
        }
        const char *status_s = "shut off";
        cleanup_free char *reason = NULL;
        if (restart) {
                status_s = "running";
                reason = berth_xstrdup(code == VMM_STATUS_REBOOT ? "the guest rebooted" : "reset");
        } else if (destroy) {
                reason = berth_xstrdup("destroyed");
        } else if (exited && code == VMM_STATUS_POWEROFF) {
                reason = berth_xstrdup(shutdown ? "shutdown: the guest powered off"
                                                : "the guest powered off");
        } else if (exited && code == VMM_STATUS_REBOOT) {
                reason = berth_xstrdup(shutdown ? "shutdown: the guest rebooted"
                                                : "the guest rebooted too often");
                if (!shutdown)
                        status_s = "crashed";
        } else if (exited && code == VMM_STATUS_MIGRATED) {
                reason = berth_xstrdup("migrated to another host");
        } else if (exited && code == VMM_STATUS_SIGNAL) {
                reason = berth_xstrdup("berth-vmm was stopped by a signal");
        } else if (exited) {
                status_s = "crashed";
                reason = berth_xasprintf("berth-vmm exited with status %d (docs/exit-codes.md)",
                                         code);
        } else {
                status_s = "crashed";
                reason = berth_xasprintf("berth-vmm was killed by signal %d", WTERMSIG(status));
        }
        char ts[64];
        berth_rfc3339(berth_now_ns(), false, ts, sizeof(ts));
        json_object_set_new(st, "Status", json_string(status_s));
        json_object_set_new(st, "Reason", json_string(reason));
        json_object_set_new(st, "ExitCode", json_integer(code));
        json_object_set_new(st, "Paused", json_false());
        json_object_del(st, "Intent");
        if (!restart) {
                release_network(s);
                json_object_set_new(st, "FinishedAt", json_string(ts));
                json_object_set_new(st, "Pid", json_integer(0));
        }
        if (vm_rec_save_state(r, &err) < 0) {
                log_error("VM %s: %s", r->name, berth_error_msg(err));
                berth_error_release(&err);
        }
        log_info("VM %s: %s", r->name, reason);
        vm_rec_unlock(r);
        return !restart;
}

static void note_restart(struct sup *s)
{
        berth_error_t err = NULL;
        if (vm_rec_lock(s->r, &err) < 0) {
                berth_error_release(&err);
                return;
        }
        json_object_set_new(s->r->state, "Pid", json_integer(s->vmm));
        json_object_set_new(s->r->state, "StartTime",
                            json_integer((json_int_t) vm_pid_start_time(s->vmm)));
        if (vm_apply_pins(s->r, s->vmm, &err) < 0) {
                log_warn("%s", berth_error_msg(err));
                berth_error_release(&err);
        }
        if (vm_rec_save_state(s->r, &err) < 0)
                berth_error_release(&err);
        vm_rec_unlock(s->r);
}

/* One line to the starting command (the caller's formatted text, taken). */
static void report(int fd, char *line)
{
        (void) berth_write_all(fd, line, strlen(line));
        free(line);
}

/* note: why this process supervises in place of berth-vm-monitor (NULL: it is that). */
static __attribute__((noreturn)) void supervise(struct vm_rec *r, int sync_fd, const char *note)
{
        struct sup s = {.r = r, .listen_fd = -1, .log_fd = -1, .in_fd = -1, .out_fd = -1};
        const char *nojail = NULL;
        s.jailed = vm_jail_wanted(r, &nojail);
        for (int i = 0; i < MAX_CLIENTS; i++)
                s.clients[i] = -1;
        s.api_sock = vm_rec_run_path(r, "api.sock");
        s.console_sock = vm_rec_run_path(r, "console.sock");
        s.log_path = vm_rec_path(r, "console.log");
        cleanup_free char *vlog = vm_rec_path(r, "vmm.log");
        cleanup_close int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        cleanup_close int lfd = open(vlog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (devnull >= 0)
                dup2(devnull, 0);
        if (lfd >= 0) {
                dup2(lfd, 1);
                dup2(lfd, 2);
        }
        berth_log_set_level(BERTH_LOG_INFO);
        if (note)
                log_warn("VM %s: supervised by a fork of berth: %s", r->name, note);
        if (!s.jailed)
                log_info("VM %s: berth-vmm runs without --jail: %s", r->name, nojail);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGCHLD);
        sigprocmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        s.sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        s.listen_fd = listen_unix(s.console_sock);
        open_log(&s);
        char **argv = vmm_argv(&s);
        unsigned quick = 0;
        time_t since = time(NULL);
        bool first = true;
        for (;;) {
                (void) unlink(s.api_sock); /* left by a VMM that was killed */
                berth_error_t serr = NULL;
                if (s.sig_fd < 0 || s.listen_fd < 0 || spawn_vmm(&s, argv, &serr) < 0) {
                        if (first)
                                report(sync_fd,
                                       berth_xasprintf(
                                               "ERR cannot start berth-vmm `%s`: %s\n", argv[0],
                                               serr ? berth_error_msg(serr) : strerror(errno)));
                        else
                                log_error("VM %s: cannot start berth-vmm again: %s", r->name,
                                          serr ? berth_error_msg(serr) : strerror(errno));
                        berth_error_release(&serr);
                        break;
                }
                int status = 0;
                bool died = !wait_api(&s, &status);
                if (died) {
                        if (first) {
                                vmm_gone(&s);
                                release_network(&s);
                                cleanup_free char *why = vmm_log_tail(&s);
                                report(sync_fd, berth_xasprintf("ERR %s\n", why));
                                break;
                        }
                } else if (first) {
                        report(sync_fd, berth_xasprintf("OK %d %llu %d %d %d\n", (int) s.vmm,
                                                        vm_pid_start_time(s.vmm), (int) getpid(),
                                                        s.jailed, s.cgroup));
                        close(sync_fd);
                        sync_fd = -1;
                        first = false;
                } else {
                        note_restart(&s);
                }
                if (r->restore_state || r->migrate_incoming) {
                        /* a reboot after a revert or an incoming migration boots the definition */
                        r->restore_state = r->restore_mem = r->migrate_incoming = NULL;
                        r->migrate_disks = r->restore_diffs = NULL;
                        for (char **p = argv; *p; p++)
                                free(*p);
                        free(argv);
                        argv = vmm_argv(&s);
                }
                /* A VMM restarted after a reboot that died before its API
                 * answered is reaped already: pump must not wait for it. */
                status = pump(&s, status, died);
                vmm_gone(&s);
                if (record_exit(&s, status, &quick, &since))
                        break;
        }
        release_network(&s);
        (void) unlink(s.console_sock);
        (void) unlink(s.api_sock);
        _exit(0);
}

#define SYNC_FD 3 /* the supervisor's report to its starter */

/* Exec berth-vm-monitor beside this binary for r (the sync pipe on fd 3); returns only
 * when it could not, with why. */
/* FLAG and each string of list (at most max) after a[*n], as they are. */
static void add_each_ref(const char **a, size_t *n, const char *flag, const json_t *list,
                         size_t max)
{
        size_t i;
        json_t *t;
        json_array_foreach(list, i, t)
        {
                if (i >= max || !json_is_string(t))
                        break;
                a[(*n)++] = flag;
                a[(*n)++] = json_string_value(t);
        }
}

static char *exec_monitor(const struct vm_rec *r)
{
        cleanup_free char *bin = berth_sibling_binary("berth-vm-monitor");
        const char *a[24 + 2 * VM_MAX_DISKS + 2 * VM_MAX_MEM_DIFFS + 2 * VM_MAX_NETS];
        size_t n = 0;
        a[n++] = bin;
        a[n++] = "--data-dir";
        a[n++] = r->ctx->data_dir;
        a[n++] = "--run-dir";
        a[n++] = r->ctx->run_dir;
        a[n++] = "--vmm";
        a[n++] = r->ctx->vmm_bin;
        /* open across the exec: the supervisor's */
        add_each_ref(a, &n, "--tap-fd", r->tap_fds, VM_MAX_NETS);
        if (r->boot_arg) {
                a[n++] = "--boot-arg";
                a[n++] = r->boot_arg;
        }
        if (r->restore_state && r->restore_mem) {
                a[n++] = "--restore";
                a[n++] = r->restore_state;
                a[n++] = "--restore-mem";
                a[n++] = r->restore_mem;
                add_each_ref(a, &n, "--restore-mem-diff", r->restore_diffs, VM_MAX_MEM_DIFFS);
        }
        if (r->migrate_incoming) {
                a[n++] = "--migrate-incoming";
                a[n++] = r->migrate_incoming;
                add_each_ref(a, &n, "--migrate-disk", r->migrate_disks, VM_MAX_DISKS);
        }
        a[n++] = "--";
        a[n++] = r->name;
        a[n] = NULL;
        /* execv's argv is char *const[] for history's sake: it writes none of it */
        execv(bin, (char *const *) (void *) a);
        return berth_xasprintf("exec `%s`: %s", bin, strerror(errno));
}

/* net.c's, which only `berth` links (lifecycle.c's vm_net_check pulls it in): weak, so that
 * berth-vm-monitor, which never starts a VM, links no network code. */
#pragma weak vm_net_up

int vm_supervisor_start(struct vm_rec *r, berth_error_t *err)
{
        if (berth_mkdir_p(r->run, 0700, err) < 0)
                return -1;
        /* What a VMM killed earlier left: berth-vmm refuses to bind over them. */
        static const char *const stale[] = {"api.sock", "api.sock.fd", "console.sock",
                                            "vsock.sock"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(stale); i++) {
                cleanup_free char *p = vm_rec_run_path(r, stale[i]);
                (void) unlink(p);
        }
        if (access(r->ctx->vmm_bin, X_OK) < 0)
                return berth_fail(err, errno, "berth-vmm `%s`", r->ctx->vmm_bin);
        if (vm_jail_wanted(r, NULL)) {
                /* Bound writable into the jail: the jailed VMM (another uid)
                 * may pass through it to the snapshot being made. */
                cleanup_free char *snaps = vm_rec_path(r, "snapshots");
                if ((mkdir(snaps, 0711) < 0 && errno != EEXIST) || chmod(snaps, 0711) < 0)
                        return berth_fail(err, errno, "make `%s`", snaps);
        }
        int sync[2];
        if (pipe2(sync, O_CLOEXEC) < 0)
                return berth_fail(err, errno, "pipe");
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
                close(sync[0]);
                close(sync[1]);
                return berth_fail(err, errno, "fork");
        }
        if (pid == 0) {
                close(sync[0]);
                /* The lock's open file is shared with the parent: the
                 * supervisor takes its own when it records. */
                berth_closep(&r->lock_fd);
                setsid();
                pid_t p2 = fork();
                if (p2 != 0)
                        _exit(p2 < 0 ? 1 : 0);
                /* Nothing of the starter's but the sync pipe: a test harness's
                 * or a terminal's fds must not live as long as the VM. */
                int fd = sync[1] == SYNC_FD ? SYNC_FD : dup2(sync[1], SYNC_FD);
                if (fd < 0 || fcntl(fd, F_SETFD, 0) < 0) /* berth-vm-monitor's */
                        _exit(1);
                syscall(SYS_close_range, 4u, ~0u, 0u);
                /* The taps, made and joined to their networks here: this pid is the
                 * supervisor's, which holds them and their leases while the VM runs. */
                berth_error_t nerr = NULL;
                if (vm_net_up && vm_net_up(r, &nerr) < 0) {
                        report(fd, berth_xasprintf("ERR %s\n", berth_error_msg(nerr)));
                        _exit(1);
                }
                cleanup_free char *why = exec_monitor(r);
                if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) /* not the VMM's */
                        _exit(1);
                supervise(r, fd, why);
        }
        close(sync[1]);
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        char buf[1024];
        size_t len = 0;
        for (;;) {
                ssize_t n = read(sync[0], buf + len, sizeof(buf) - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t) n;
                if (len >= sizeof(buf) - 1)
                        break;
        }
        close(sync[0]);
        buf[len] = 0;
        buf[strcspn(buf, "\n")] = 0;
        int vmm_pid = 0, sup_pid = 0, jailed = 0, cgroup = 0;
        unsigned long long t = 0;
        if (sscanf(buf, "OK %d %llu %d %d %d", &vmm_pid, &t, &sup_pid, &jailed, &cgroup) != 5)
                return berth_fail(err, 0, "berth-vmm did not start: %s",
                                  berth_str_has_prefix(buf, "ERR ") ? buf + 4
                                                                    : "the supervisor died");
        char now[64];
        berth_rfc3339(berth_now_ns(), false, now, sizeof(now));
        json_t *st_doc = json_pack("{s:s,s:i,s:I,s:i,s:I,s:s,s:s,s:b}", "Status", "running", "Pid",
                                   vmm_pid, "StartTime", (json_int_t) t, "SupervisorPid", sup_pid,
                                   "SupervisorStartTime", (json_int_t) vm_pid_start_time(sup_pid),
                                   "BootId", vm_boot_id(), "StartedAt", now, "Paused", 0);
        json_object_set_new(st_doc, "Jailed", json_boolean(jailed));
        if (cgroup) {
                cleanup_free char *cg = vm_cgroup_path(r);
                json_object_set_new(st_doc, "Cgroup", json_string(cg));
        }
        json_decref(r->state);
        r->state = st_doc;
        return vm_rec_save_state(r, err);
}

/* berth-vm-monitor's main: the supervisor of one VM, exec'd by vm_supervisor_start's
 * grandchild with its report pipe on fd 3 (what exec_monitor passes):
 *
 *   berth-vm-monitor --data-dir DIR --run-dir DIR --vmm BIN [--restore STATE --restore-mem MEM
 *                    [--restore-mem-diff DIFF]...]
 *                    [--migrate-incoming ADDR [--migrate-disk INDEX:PATH]...]
 *                    [--tap-fd ID=FD]... [--boot-arg WORD] -- NAME
 *
 * (--tap-fd: a tap open on FD, inherited, that the starter joined to a network as
 * "vm-<this pid>"; passed on to every berth-vmm, with --boot-arg, its ip=.)
 *
 * A program of its own rather than the fork of `berth` it replaces: static, with only the
 * objects it uses, so what it keeps resident for as long as the VM runs is what it touches,
 * not the CLI's libraries and the pages the CLI touched before the fork (docs/performance.md). */
int vm_supervise_main(int argc, char **argv)
{
        if (fcntl(SYNC_FD, F_SETFD, FD_CLOEXEC) < 0) { /* not the VMM's */
                fprintf(stderr, "berth-vm-monitor: run by `berth vm start`, not by hand\n");
                return 2;
        }
        struct vm_ctx c = {0};
        const char *name = NULL, *restore = NULL, *restore_mem = NULL, *incoming = NULL;
        json_t *disks = json_array(), *diffs = json_array(), *taps = json_array();
        const char *boot_arg = NULL;
        int i = 1;
        for (; i + 1 < argc && strcmp(argv[i], "--") != 0; i += 2) {
                const char *k = argv[i], *v = argv[i + 1];
                if (strcmp(k, "--data-dir") == 0)
                        c.data_dir = berth_xstrdup(v);
                else if (strcmp(k, "--run-dir") == 0)
                        c.run_dir = berth_xstrdup(v);
                else if (strcmp(k, "--vmm") == 0)
                        c.vmm_bin = berth_xstrdup(v);
                else if (strcmp(k, "--restore") == 0)
                        restore = v;
                else if (strcmp(k, "--restore-mem") == 0)
                        restore_mem = v;
                else if (strcmp(k, "--restore-mem-diff") == 0)
                        json_array_append_new(diffs, json_string(v));
                else if (strcmp(k, "--migrate-incoming") == 0)
                        incoming = v;
                else if (strcmp(k, "--migrate-disk") == 0)
                        json_array_append_new(disks, json_string(v));
                else if (strcmp(k, "--tap-fd") == 0) /* ID=FD, inherited */
                        json_array_append_new(taps, json_string(v));
                else if (strcmp(k, "--boot-arg") == 0)
                        boot_arg = v;
                else
                        break;
        }
        if (i + 2 == argc && strcmp(argv[i], "--") == 0)
                name = argv[i + 1];
        struct vm_rec r;
        berth_error_t err = NULL;
        if (!name || !c.data_dir || !c.run_dir || !c.vmm_bin) {
                report(SYNC_FD, berth_xasprintf("ERR berth-vm-monitor: bad arguments\n"));
                return 2;
        }
        if (vm_rec_read(&c, name, &r, &err) < 0) {
                report(SYNC_FD, berth_xasprintf("ERR %s\n", berth_error_msg(err)));
                return 1;
        }
        r.restore_state = restore;
        r.restore_mem = restore_mem;
        r.restore_diffs = diffs;
        r.migrate_incoming = incoming;
        r.migrate_disks = disks;
        r.tap_fds = taps;
        r.boot_arg = boot_arg;
        supervise(&r, SYNC_FD, NULL);
}

int vm_wait_stopped(struct vm_rec *r, unsigned timeout_ms, berth_error_t *err)
{
        for (unsigned ms = 0;; ms += 5) {
                vm_rec_unlock(r);
                struct timespec t = {0, 5000000};
                nanosleep(&t, NULL);
                if (vm_rec_lock(r, err) < 0)
                        return -1;
                enum vm_status s = vm_rec_reconcile(r);
                if (s != VM_RUNNING && s != VM_PAUSED)
                        return 1;
                if (ms >= timeout_ms)
                        return 0;
        }
}
