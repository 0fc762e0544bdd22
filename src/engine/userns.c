/* userns.c — rootless berth's long-lived user + mount namespace (see userns.h). */
#include "engine/userns.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/idmap.h"
#include "common/log.h"
#include "common/paths.h"
#include "common/util.h"

#define PAUSE_NAME "berth-pause"

/* Is PID a live process of ours named NAME ("PID (COMM) STATE ..." in /proc/PID/stat, and
 * not a zombie waiting to be reaped)? */
static bool is_ours_named(pid_t pid, const char *name)
{
        char path[64];
        struct stat st;
        snprintf(path, sizeof(path), "/proc/%d", (int) pid);
        if (pid <= 0 || stat(path, &st) < 0 || st.st_uid != geteuid())
                return false;
        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        cleanup_free char *stat_text = NULL;
        berth_error_t e = NULL;
        if (berth_read_file(path, &stat_text, NULL, &e) < 0) {
                berth_error_release(&e);
                return false;
        }
        const char *open_paren = strchr(stat_text, '('), *close_paren = strrchr(stat_text, ')');
        if (open_paren == NULL || close_paren == NULL || close_paren[1] != ' ')
                return false;
        size_t len = (size_t) (close_paren - open_paren - 1);
        return len == strlen(name) && strncmp(open_paren + 1, name, len) == 0 &&
               close_paren[2] != 'Z' && close_paren[2] != 'X';
}

static bool is_our_pause(pid_t pid)
{
        return is_ours_named(pid, PAUSE_NAME);
}

/* A monitor of ours living in a user namespace that maps root to us: the namespace of an
 * earlier pause process that died, with containers still running in it.  Joining it (rather
 * than making a new one) keeps them manageable: a sibling namespace could not signal their
 * non-root processes nor enter them. */
static pid_t find_orphaned_namespace(void)
{
        cleanup_dir DIR *d = opendir("/proc");
        if (d == NULL)
                return 0;
        char self_ns[64] = "", ns[64], path[64];
        if (readlink("/proc/self/ns/user", self_ns, sizeof(self_ns) - 1) < 0)
                return 0;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
                char *end;
                long v = strtol(de->d_name, &end, 10);
                if (*end != '\0' || v <= 0 || !is_ours_named((pid_t) v, "berth-monitor"))
                        continue;
                snprintf(path, sizeof(path), "/proc/%ld/ns/user", v);
                ssize_t n = readlink(path, ns, sizeof(ns) - 1);
                if (n <= 0)
                        continue;
                ns[n] = '\0';
                snprintf(path, sizeof(path), "/proc/%ld/uid_map", v);
                cleanup_free char *map = NULL;
                berth_error_t e = NULL;
                if (strcmp(ns, self_ns) == 0 || berth_read_file(path, &map, NULL, &e) < 0) {
                        berth_error_release(&e);
                        continue;
                }
                unsigned long in, out, count; /* its first line: "0 <us> 1" */
                if (sscanf(map, " %lu %lu %lu", &in, &out, &count) == 3 && in == 0 &&
                    out == geteuid() && count == 1)
                        return (pid_t) v;
        }
        return 0;
}

static pid_t read_pid_file(const char *path)
{
        cleanup_free char *text = NULL;
        berth_error_t e = NULL;
        if (berth_read_file(path, &text, NULL, &e) < 0) {
                berth_error_release(&e);
                return 0;
        }
        long v = strtol(text, NULL, 10);
        return v > 0 && v < (1L << 22) ? (pid_t) v : 0;
}

/* Run newuidmap or newgidmap: PID 0 OWN 1, then each subordinate range after it. */
static int run_idmap_tool(const char *tool, pid_t pid, unsigned own,
                          const struct berth_subid_range *r, size_t n, berth_error_t *err)
{
        struct berth_idmap m[BERTH_SUBID_MAX_RANGES + 1] = {{0, own, 1}};
        uint32_t inside = 1;
        for (size_t i = 0; i < n; i++) {
                m[i + 1] = (struct berth_idmap){inside, r[i].start, r[i].count};
                inside += r[i].count;
        }
        return berth_newidmap(tool, (int) pid, m, n + 1, err);
}

static int write_own_map(pid_t pid, const char *file, unsigned own, berth_error_t *err)
{
        char path[64], line[64];
        snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, file);
        int n = snprintf(line, sizeof(line), "0 %u 1\n", own);
        return berth_write_file(path, line, (size_t) n, err);
}

/* Fill the new namespace's maps: the user's subordinate ids if it has them. */
static int map_ids(pid_t pid, berth_error_t *err)
{
        uid_t uid = geteuid();
        gid_t gid = getegid();
        struct passwd pwbuf, *pw = NULL;
        char text[4096];
        const char *name =
                getpwuid_r(uid, &pwbuf, text, sizeof(text), &pw) == 0 && pw ? pw->pw_name : NULL;
        struct berth_subid_range ur[BERTH_SUBID_MAX_RANGES], gr[BERTH_SUBID_MAX_RANGES];
        size_t nu = 0, ng = 0;
        if (berth_subid_ranges("/etc/subuid", name, uid, ur, &nu, err) < 0 ||
            berth_subid_ranges("/etc/subgid", name, uid, gr, &ng, err) < 0)
                return -1;
        bool uids = false, gids = false;
        if (nu > 0 && ng > 0) {
                berth_error_t sub = NULL;
                uids = run_idmap_tool("newuidmap", pid, uid, ur, nu, &sub) == 0;
                gids = uids && run_idmap_tool("newgidmap", pid, gid, gr, ng, &sub) == 0;
                if (sub)
                        log_warn("%s: mapping only your own %s (newuidmap and newgidmap come "
                                 "with Debian's uidmap package)",
                                 berth_error_msg(sub), uids ? "gid" : "uid and gid");
                berth_error_release(&sub);
        } else {
                log_warn("no subordinate ids for `%s` in /etc/subuid and /etc/subgid: containers "
                         "get only uid and gid 0 (add ranges, e.g. `usermod --add-subuids "
                         "100000-165535 --add-subgids 100000-165535 %s`)",
                         name ? name : "?", name ? name : "USER");
        }
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/setgroups", (int) pid);
        /* an unprivileged writer may map only its own ids, and the gid only once setgroups
         * is denied (else dropping a group could grant access) */
        if ((!gids && (berth_write_file(path, "deny", 4, err) < 0 ||
                       write_own_map(pid, "gid_map", gid, err) < 0)) ||
            (!uids && write_own_map(pid, "uid_map", uid, err) < 0))
                return berth_wrap(err, "map your own ids in berth's user namespace");
        return 0;
}

/* Whether more than one mount sits on / in our mount namespace. */
static bool root_covered(void)
{
        cleanup_file FILE *f = fopen("/proc/self/mountinfo", "re");
        if (f == NULL)
                return false;
        char line[4096];
        int on_root = 0;
        while (fgets(line, sizeof(line), f)) {
                char point[4096];
                /* id parent major:minor root MOUNT-POINT … */
                if (sscanf(line, "%*s %*s %*s %*s %4095s", point) == 1 && strcmp(point, "/") == 0)
                        on_root++;
        }
        return on_root > 1;
}

/* The pause process: unshare, wait to be mapped, make the mount namespace, then hold both. */
static _Noreturn void pause_main(int to_parent, int from_parent, bool fresh)
{
        char c = 'u';
        int e = 0;
        /* our pid first, from us: were it the middle process's write, it could come after
         * ours (a race that garbled both and looked like EPERM) */
        pid_t self = getpid();
        if (write(to_parent, &self, sizeof(self)) != (ssize_t) sizeof(self))
                _exit(1);
        if (fresh && unshare(CLONE_NEWUSER) < 0)
                e = errno;
        if (e)
                c = 'E';
        if (write(to_parent, &c, 1) != 1)
                _exit(1);
        if (e) {
                /* the parent reports the real cause */
                (void) !write(to_parent, &e, sizeof(e));
                _exit(1);
        }
        if (read(from_parent, &c, 1) != 1 || c != 'm')
                _exit(1);
        /* mounts made inside stay inside; the host's later mounts still show through */
        if (fresh &&
            (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)) {
                e = errno;
                (void) !write(to_parent, "E", 1);
                _exit(e ? e : 1);
        }
        setsid();
        if (chdir("/") < 0)
                _exit(1);
        prctl(PR_SET_NAME, PAUSE_NAME);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        for (int fd = 0; fd < 3 && null >= 0; fd++)
                dup2(null, fd);
        signal(SIGINT, SIG_IGN);
        signal(SIGHUP, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        (void) !write(to_parent, "r", 1);
        close_range(3, ~0U, 0);
        for (;;)
                pause();
}

/* Make the pause process (a grandchild: no caller of ours will ever reap it); FRESH: in new
 * namespaces, mapped here; else in the ones we are in. */
static int spawn_pause(bool fresh, pid_t *out, berth_error_t *err)
{
        int up[2], down[2];
        if (pipe2(up, O_CLOEXEC) < 0)
                return berth_fail(err, errno, "pipe");
        if (pipe2(down, O_CLOEXEC) < 0) {
                close(up[0]), close(up[1]);
                return berth_fail(err, errno, "pipe");
        }
        pid_t mid = fork();
        if (mid < 0) {
                close(up[0]), close(up[1]), close(down[0]), close(down[1]);
                return berth_fail(err, errno, "fork");
        }
        if (mid == 0) {
                close(up[0]);
                close(down[1]);
                pid_t p = fork();
                if (p < 0)
                        _exit(1);
                if (p == 0)
                        pause_main(up[1], down[0], fresh);
                _exit(0); /* the grandchild tells the caller its pid itself */
        }
        close(up[1]);
        close(down[0]);
        cleanup_close int rd = up[0], wr = down[1];
        while (waitpid(mid, NULL, 0) < 0 && errno == EINTR)
                ;
        pid_t pid = 0;
        char c = 0;
        if (read(rd, &pid, sizeof(pid)) != sizeof(pid) || pid <= 0)
                return berth_fail(err, ECHILD, "start berth's pause process");
        ssize_t got = read(rd, &c, 1);
        if (got != 1 || c != 'u') {
                int e = 0;
                if (got == 1 && c == 'E' && read(rd, &e, sizeof(e)) != (ssize_t) sizeof(e))
                        e = 0;
                kill(pid, SIGKILL);
                if (got != 1)
                        return berth_fail(err, ECHILD,
                                          "berth's pause process %d exited before it made "
                                          "berth's user namespace",
                                          (int) pid);
                if (e == EPERM && root_covered())
                        return berth_fail(err, e,
                                          "create a user namespace: the kernel refuses it in a "
                                          "chroot, and a mount on / makes every process look "
                                          "chrooted (see the mounts on / in "
                                          "/proc/self/mountinfo)");
                return berth_fail(err, e ? e : EPERM,
                                  "create a user namespace (are unprivileged user namespaces "
                                  "enabled? see /proc/sys/user/max_user_namespaces)");
        }
        if (fresh && map_ids(pid, err) < 0) {
                kill(pid, SIGKILL);
                return -1;
        }
        if (write(wr, "m", 1) != 1 || read(rd, &c, 1) != 1 || c != 'r') {
                kill(pid, SIGKILL);
                return berth_fail(err, EPERM, "create a mount namespace in berth's user namespace");
        }
        *out = pid;
        return 0;
}

static int join(pid_t pid, berth_error_t *err)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/user", (int) pid);
        cleanup_close int ufd = open(path, O_RDONLY | O_CLOEXEC);
        snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int) pid);
        cleanup_close int mfd = open(path, O_RDONLY | O_CLOEXEC);
        if (ufd < 0 || mfd < 0)
                return berth_fail(err, errno, "open the namespaces of berth's pause process %d",
                                  (int) pid);
        cleanup_free char *cwd = getcwd(NULL, 0);
        if (setns(ufd, CLONE_NEWUSER) < 0)
                return berth_fail(err, errno, "join berth's user namespace");
        if (setns(mfd, CLONE_NEWNS) < 0)
                return berth_fail(err, errno, "join berth's mount namespace");
        /* setns(CLONE_NEWNS) moved us to the namespace's root: the same tree (a slave copy) */
        if (cwd && chdir(cwd) < 0)
                log_warn("return to `%s` in berth's mount namespace: %s", cwd, strerror(errno));
        return 0;
}

int eng_userns_enter(const char *run_dir, berth_error_t *err)
{
        if (geteuid() == 0)
                return 0;
        if (berth_mkdir_p(run_dir, 0700, err) < 0)
                return berth_wrap(err, "create `%s`", run_dir);
        cleanup_free char *lockpath = berth_path_join(run_dir, "pause.lock");
        cleanup_free char *pidfile = berth_path_join(run_dir, "pause.pid");
        cleanup_close int lock = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (lock < 0)
                return berth_fail(err, errno, "open `%s`", lockpath);
        if (flock(lock, LOCK_EX) < 0)
                return berth_fail(err, errno, "lock `%s`", lockpath);
        pid_t pid = read_pid_file(pidfile);
        uid_t uid = geteuid();
        bool joined = false, dying = false;
again:
        if (dying || !is_our_pause(pid)) {
                pid_t orphan = find_orphaned_namespace();
                berth_error_t sub = NULL;
                if (orphan > 0 && join(orphan, &sub) == 0) {
                        log_debug("rootless: joined the namespaces of monitor %d", (int) orphan);
                        joined = true;
                } else if (orphan > 0) {
                        log_warn("%s", berth_error_msg(sub));
                }
                berth_error_release(&sub);
                if (spawn_pause(!joined, &pid, err) < 0)
                        return berth_wrap(err, "set up berth's rootless user namespace");
                char text[32];
                int n = snprintf(text, sizeof(text), "%d\n", (int) pid);
                if (berth_write_file_atomic(pidfile, text, (size_t) n, 0600, err) < 0) {
                        kill(pid, SIGKILL);
                        return -1;
                }
                log_debug("rootless: made the pause process %d", (int) pid);
        }
        if (!joined && join(pid, err) < 0) {
                /* a pause killed a moment ago still looks alive while its namespaces are
                 * already gone: then it is dead to us, and a new one is made */
                if (dying || (*err)->errnum != ENOENT)
                        return -1;
                berth_error_release(err);
                dying = true;
                goto again;
        }
        char uidtext[16];
        snprintf(uidtext, sizeof(uidtext), "%u", (unsigned) uid);
        setenv("BERTH_ROOTLESS_UID", uidtext, 1);
        return 0;
}
