/* slirp_proc.c — slirp4netns processes (slirp.h): found in PATH, started on a namespace file
 * in a session and mount namespace of their own, checked, killed, asked through their API
 * socket.  Shared by the per-container slirp4netns of rootless berth's default network
 * (slirp.c) and the one of the rootless network namespace (rootless.c). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "net/slirp.h"

#define SLIRP_COMM    "slirp4netns"
#define SLIRP_TAP     "tap0"
#define READY_TIMEOUT 10000 /* ms */
#define API_TIMEOUT_S 5

/* The slirp4netns executable in PATH (malloc'ed), or NULL. */
static char *slirp_find(void)
{
        const char *path = getenv("PATH");
        cleanup_free char *copy =
                berth_xstrdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
        char *save = NULL;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                char *p = berth_xasprintf("%s/%s", *d ? d : ".", SLIRP_COMM);
                if (access(p, X_OK) == 0)
                        return p;
                free(p);
        }
        return NULL;
}

bool net_slirp_available(void)
{
        cleanup_free char *p = slirp_find();
        return p != NULL;
}

/* The pid in the container's pid file when that process is a slirp4netns still running (not a
 * zombie), else 0: a pid file alone could name a recycled pid. */
pid_t net_slirp_pid(const char *dir, const char *name)
{
        cleanup_free char *pidfile = berth_xasprintf("%s/%s.pid", dir, name);
        cleanup_free char *text = NULL;
        if (berth_read_file(pidfile, &text, NULL, NULL) < 0)
                return 0;
        long v = strtol(text, NULL, 10);
        if (v <= 0 || v >= (1L << 22))
                return 0;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%ld/stat", v);
        cleanup_free char *stat_text = NULL;
        if (berth_read_file(path, &stat_text, NULL, NULL) < 0)
                return 0;
        /* "PID (COMM) STATE ..." */
        const char *open_paren = strchr(stat_text, '('), *close_paren = strrchr(stat_text, ')');
        if (open_paren == NULL || close_paren == NULL || close_paren[1] != ' ')
                return 0;
        size_t len = (size_t) (close_paren - open_paren - 1);
        if (len != strlen(SLIRP_COMM) || strncmp(open_paren + 1, SLIRP_COMM, len) != 0 ||
            close_paren[2] == 'Z' || close_paren[2] == 'X')
                return 0;
        return (pid_t) v;
}

/* The last line of slirp4netns's log, for an error message (malloc'ed). */
static char *log_tail(const char *path)
{
        cleanup_free char *text = NULL;
        size_t len = 0;
        if (berth_read_file(path, &text, &len, NULL) < 0 || len == 0)
                return berth_xstrdup("no message");
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
                text[--len] = '\0';
        const char *line = strrchr(text, '\n');
        return berth_xstrdup(line ? line + 1 : text);
}

/* In the grandchild, before exec: only async-signal-safe calls. */
static void write_own_pid(const char *pidfile)
{
        char buf[24];
        size_t k = sizeof(buf);
        buf[--k] = '\n';
        for (unsigned long v = (unsigned long) getpid(); v > 0 || k == sizeof(buf) - 1; v /= 10)
                buf[--k] = (char) ('0' + v % 10);
        int fd = open(pidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0 || write(fd, buf + k, sizeof(buf) - k) < 0)
                _exit(127);
        close(fd);
}

static _Noreturn void exec_slirp(const char **argv, const char *dir, const char *pidfile,
                                 const char *logfile, int ready_fd)
{
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        write_own_pid(pidfile);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        int log = open(logfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (null < 0 || log < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0 ||
            dup2(ready_fd, 3) < 0)
                _exit(127);
        /* a mount namespace of its own that gets berth's unmounts but sends none back:
         * --enable-sandbox detaches every mount it leaves behind, and the namespace files sit in
         * a shared directory (netns.c), so their unmounts would reach berth's namespace */
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0 ||
            chdir(dir) < 0) {
                static const char msg[] = "berth: cannot make a mount namespace for slirp4netns\n";
                (void) !write(2, msg, sizeof(msg) - 1);
                _exit(127);
        }
        /* nothing else of berth's: above all no container lock (flock) held for its life */
        close_range(4, ~0U, 0);
        char *const *av; /* execv's type; the strings are not written */
        memcpy(&av, &argv, sizeof(av));
        execv(argv[0], av);
        _exit(127);
}

/* Start slirp4netns on the namespace file and wait until it has configured tap0. */
static int slirp_start(const char *dir, const char *cid, const char *exe, const char *nspath,
                       bool ipv6, berth_error_t *err)
{
        cleanup_free char *pidfile = berth_xasprintf("%s/%s.pid", dir, cid);
        cleanup_free char *sock = berth_xasprintf("%s/%s.sock", dir, cid);
        cleanup_free char *logfile = berth_xasprintf("%s/%s.log", dir, cid);
        if (berth_mkdir_p(dir, 0700, err) < 0)
                return -1;
        unlink(sock);
        /* relative to its working directory, the slirp directory: a unix socket's path has at
         * most 107 bytes, and an id is 64 of them */
        cleanup_free char *a_sock = berth_xasprintf("--api-socket=%s.sock", cid);
        const char *argv[] = {exe,
                              "--configure",
                              "--mtu=65520", /* slirp4netns's fastest; at most 65521 */
                              "--disable-host-loopback",
                              "--enable-sandbox",
                              "--enable-seccomp",
                              "--ready-fd=3",
                              "--macaddress=02:42:0a:00:02:64",
                              a_sock,
                              "--netns-type=path",
                              nspath,
                              SLIRP_TAP,
                              NULL,
                              NULL};
        if (ipv6) {
                /* before the positional arguments: the namespace and the tap's name */
                size_t n = sizeof(argv) / sizeof(argv[0]);
                memmove(&argv[2], &argv[1], (n - 2) * sizeof(argv[0]));
                argv[1] = "--enable-ipv6";
        }
        int rp[2];
        if (pipe2(rp, O_CLOEXEC) < 0)
                return berth_fail(err, errno, "pipe");
        pid_t mid = fork();
        if (mid < 0) {
                int e = errno;
                close(rp[0]);
                close(rp[1]);
                return berth_fail(err, e, "fork");
        }
        if (mid == 0) {
                /* double fork: slirp4netns outlives this berth call, in a session of its own */
                setsid();
                pid_t g = fork();
                if (g == 0)
                        exec_slirp(argv, dir, pidfile, logfile, rp[1]);
                _exit(g < 0 ? 1 : 0);
        }
        close(rp[1]);
        cleanup_close int ready = rp[0];
        int st = 0;
        while (waitpid(mid, &st, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
                return berth_fail(err, ECHILD, "start slirp4netns");
        /* it writes "1" once tap0 is up with its address and route; EOF: it died */
        struct pollfd p = {.fd = ready, .events = POLLIN};
        char c = 0;
        int pr;
        while ((pr = poll(&p, 1, READY_TIMEOUT)) < 0 && errno == EINTR)
                ;
        if (pr > 0 && read(ready, &c, 1) == 1 && c == '1') {
                /* the API socket is bound before the tap is configured; be sure anyway */
                for (int i = 0; i < 100 && access(sock, F_OK) < 0; i++)
                        usleep(10000);
                return 0;
        }
        cleanup_free char *msg = pr == 0 ? berth_xstrdup("not ready in 10 s") : log_tail(logfile);
        net_slirp_kill(dir, cid);
        return berth_fail(err, EIO, "slirp4netns for %.12s: %s", cid, msg);
}

int net_slirp_spawn(const char *dir, const char *name, const char *nspath, bool ipv6,
                    berth_error_t *err)
{
        cleanup_free char *exe = slirp_find();
        if (exe == NULL)
                return berth_fail_status(err, 125, ENOENT,
                                         "rootless berth needs slirp4netns (Debian's slirp4netns "
                                         "package), not found in PATH");
        return slirp_start(dir, name, exe, nspath, ipv6, err);
}

/* One request on the API socket; *reply: the parsed answer. */
int net_slirp_request(const char *dir, const char *cid, json_t *req, json_t **reply,
                      berth_error_t *err)
{
        cleanup_free char *sock = berth_xasprintf("%s/%s.sock", dir, cid);
        /* through a descriptor of the directory: the full path may be too long for sun_path */
        cleanup_close int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return berth_fail(err, errno, "open %s", dir);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/%s.sock", dfd, cid);
        cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return berth_fail(err, errno, "socket");
        struct timeval tv = {.tv_sec = API_TIMEOUT_S};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return berth_fail(err, errno, "connect to slirp4netns at `%s`", sock);
        cleanup_free char *text = json_dumps(req, JSON_COMPACT);
        /* slirp4netns reads a request with one read(2): one write, then our end is done */
        if (berth_write_all(fd, text, strlen(text)) < 0)
                return berth_fail(err, errno, "write to slirp4netns at `%s`", sock);
        shutdown(fd, SHUT_WR);
        char buf[4096];
        size_t len = 0;
        ssize_t k;
        while (len < sizeof(buf) - 1 && (k = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return berth_fail(err, errno, "read from slirp4netns at `%s`", sock);
                len += (size_t) k;
        }
        buf[len] = '\0';
        *reply = json_loads(buf, 0, NULL);
        if (*reply == NULL)
                return berth_fail(err, EPROTO, "slirp4netns at `%s`: unreadable answer `%s`", sock,
                                  buf);
        return 0;
}

void net_slirp_kill(const char *dir, const char *name)
{
        pid_t pid = net_slirp_pid(dir, name);
        if (pid > 0 && kill(pid, SIGKILL) == 0) {
                /* not our child: wait for it to go (or to be a zombie of its reaper), so that
                 * its host ports are free when `stop`/`rm` returns */
                for (int i = 0; i < 200 && net_slirp_pid(dir, name) == pid; i++) {
                        struct timespec ts = {.tv_nsec = 5 * 1000 * 1000};
                        nanosleep(&ts, NULL);
                }
        }
        static const char *const ext[] = {"pid", "sock", "log"};
        for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
                cleanup_free char *path = berth_xasprintf("%s/%s.%s", dir, name, ext[i]);
                unlink(path);
        }
}
