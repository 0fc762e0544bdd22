/* dns.c — one dnsmasq per user network (the design is in dns.h).
 *
 * Files in the network's directory:
 *   hosts.d/<cid>   one container's records, watched by dnsmasq (inotify: a write adds, an
 *                   unlink removes; dnsmasq 2.90 flushes a deleted file's names)
 *   servers.conf    `server=/NAME/` (answer locally, never forward) for every record name
 *                   with a dot in it; re-read on SIGHUP, sent only when it changes
 *   resolv.conf     the upstream servers
 *   dnsmasq.pid, dnsmasq.log
 *
 * Never forwarded upstream: names without a dot (--domain-needed; dnsmasq answers the AAAA of
 * an A-only name NODATA itself), names with a dot that a container has (servers.conf), names
 * under the network's domain (--local), reverse lookups of private addresses (--bogus-priv). */
#include "net/dns.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"

#define DNSMASQ "/usr/sbin/dnsmasq"

static char *dns_path(const char *dir, const char *name)
{
        return berth_xasprintf("%s/%s", dir, name);
}

/* The pid of dir's dnsmasq if it is alive, else 0.  The pid file alone could name a recycled
 * pid: its command line must be dnsmasq's with this pid file. */
static pid_t dns_alive(const char *dir)
{
        cleanup_free char *pidfile = dns_path(dir, "dnsmasq.pid");
        char buf[32] = "";
        int fd = open(pidfile, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        pid_t pid = n > 0 ? (pid_t) atoi(buf) : 0;
        if (pid <= 0 || kill(pid, 0) < 0)
                return 0;
        char proc[64], cmd[4096];
        snprintf(proc, sizeof(proc), "/proc/%d/cmdline", (int) pid);
        fd = open(proc, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        n = read(fd, cmd, sizeof(cmd) - 1);
        close(fd);
        if (n <= 0) /* a zombie has none */
                return 0;
        cmd[n] = '\0';
        cleanup_free char *want = berth_xasprintf("--pid-file=%s", pidfile);
        bool is_dnsmasq = strstr(cmd, "dnsmasq") != NULL;
        for (char *a = cmd; a < cmd + n; a += strlen(a) + 1)
                if (is_dnsmasq && strcmp(a, want) == 0)
                        return pid;
        return 0;
}

static int dns_write_resolv(const struct net_dns *d, berth_error_t *err)
{
        cleanup_free char *path = dns_path(d->dir, "resolv.conf");
        cleanup_free char *text = NULL;
        size_t len = 0;
        if (d->upstream && d->upstream[0]) {
                cleanup_free char *list = berth_xstrdup(d->upstream);
                size_t cap = strlen(list) * 2 + 64;
                text = berth_xmalloc(cap);
                text[0] = '\0';
                char *save = NULL;
                for (char *s = strtok_r(list, ", ", &save); s; s = strtok_r(NULL, ", ", &save)) {
                        unsigned char bin[16];
                        if (inet_pton(AF_INET, s, bin) != 1 && inet_pton(AF_INET6, s, bin) != 1)
                                return berth_fail(err, EINVAL, "bad DNS server address `%s`", s);
                        len += (size_t) snprintf(text + len, cap - len, "nameserver %s\n", s);
                }
        } else {
                /* dnsmasq runs in the host's namespace: the host's servers, 127.0.0.53 too */
                berth_error_t e = NULL;
                if (berth_read_file("/etc/resolv.conf", &text, &len, &e) < 0) {
                        berth_error_release(&e);
                        text = berth_xstrdup("");
                        len = 0;
                }
        }
        return berth_write_file_replace(path, text, len, 0644, err);
}

/* Rewrite servers.conf from hosts.d; *changed when its text differs from before. */
static int dns_write_servers(const char *dir, bool *changed, berth_error_t *err)
{
        cleanup_free char *path = dns_path(dir, "servers.conf");
        cleanup_free char *hdir = dns_path(dir, "hosts.d");
        size_t cap = 256, len = 0;
        cleanup_free char *text = berth_xmalloc(cap);
        text[0] = '\0';
        cleanup_dir DIR *dh = opendir(hdir);
        struct dirent *de;
        while (dh && (de = readdir(dh)) != NULL) {
                if (de->d_name[0] == '.')
                        continue;
                cleanup_free char *f = berth_xasprintf("%s/%s", hdir, de->d_name);
                cleanup_free char *body = NULL;
                size_t blen;
                berth_error_t e = NULL;
                if (berth_read_file(f, &body, &blen, &e) < 0) {
                        berth_error_release(&e); /* removed meanwhile */
                        continue;
                }
                char *save = NULL;
                for (char *line = strtok_r(body, "\n", &save); line;
                     line = strtok_r(NULL, "\n", &save)) {
                        char *s2 = NULL;
                        strtok_r(line, " \t", &s2); /* the address */
                        for (char *name = strtok_r(NULL, " \t", &s2); name;
                             name = strtok_r(NULL, " \t", &s2)) {
                                if (strchr(name, '.') == NULL)
                                        continue;
                                size_t need = len + strlen(name) + 16;
                                if (need > cap) {
                                        cap = need * 2;
                                        text = berth_xrealloc(text, cap);
                                }
                                len += (size_t) snprintf(text + len, cap - len, "server=/%s/\n",
                                                         name);
                        }
                }
        }
        cleanup_free char *old = NULL;
        size_t olen = 0;
        berth_error_t e = NULL;
        if (berth_read_file(path, &old, &olen, &e) < 0)
                berth_error_release(&e);
        *changed = old == NULL || olen != len || memcmp(old, text, len) != 0;
        if (old != NULL && !*changed)
                return 0;
        return berth_write_file_replace(path, text, len, 0644, err);
}

/* Wait until dnsmasq takes TCP connections on addr:53 (it opens its UDP and TCP sockets
 * together), at most timeout_ms. */
static int dns_wait_listen(const char *addr, int timeout_ms, berth_error_t *err)
{
        struct sockaddr_storage ss = {0};
        socklen_t sl;
        struct sockaddr_in *s4 = (struct sockaddr_in *) &ss;
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) &ss;
        if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
                s4->sin_family = AF_INET;
                s4->sin_port = htons(53);
                sl = sizeof(*s4);
        } else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
                s6->sin6_family = AF_INET6;
                s6->sin6_port = htons(53);
                sl = sizeof(*s6);
        } else {
                return berth_fail(err, EINVAL, "bad listen address `%s`", addr);
        }
        for (int waited = 0;; waited += 5) {
                int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (fd < 0)
                        return berth_fail(err, errno, "socket");
                int r = connect(fd, (struct sockaddr *) &ss, sl);
                int e = errno;
                close(fd);
                if (r == 0)
                        return 0;
                if (waited >= timeout_ms)
                        return berth_fail(err, e, "dnsmasq does not answer on %s port 53", addr);
                struct timespec ts = {0, 5 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
}

static bool dns_word_ok(const char *s)
{
        return s && s[0] && s[0] != '.' && strpbrk(s, " \t\r\n#/,") == NULL;
}

/* What the first dnsmasq process wrote on pfd_read (closed here) into msg,
 * then its exit status, 128+signal if it was killed.  The daemon closes its
 * own copy of the pipe, so the read ends with the first process. */
static int dns_spawn_result(int pfd_read, pid_t child, char *msg, size_t cap)
{
        size_t mlen = 0;
        ssize_t n;
        while (mlen < cap - 1 && (n = read(pfd_read, msg + mlen, cap - 1 - mlen)) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        break;
                mlen += (size_t) n;
        }
        close(pfd_read);
        msg[mlen] = '\0';
        while (mlen > 0 && msg[mlen - 1] == '\n')
                msg[--mlen] = '\0';
        int st = 0; /* a failed wait (reaped elsewhere): 0, and the callers ask dns_alive */
        while (waitpid(child, &st, 0) < 0 && errno == EINTR)
                ;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int net_dns_start(const struct net_dns *d, berth_error_t *err)
{
        if (d->dir == NULL || d->bridge == NULL || (d->listen4 == NULL && d->listen6 == NULL))
                return berth_fail(err, EINVAL,
                                  "dnsmasq needs a directory, a bridge and an address");
        if (dns_alive(d->dir) > 0)
                return 0;
        if (!dns_word_ok(d->bridge) || (d->domain && !dns_word_ok(d->domain)))
                return berth_fail(err, EINVAL, "bad bridge or domain name");
        cleanup_free char *hdir = dns_path(d->dir, "hosts.d");
        bool changed;
        if (berth_mkdir_p(hdir, 0755, err) < 0 || dns_write_resolv(d, err) < 0 ||
            dns_write_servers(d->dir, &changed, err) < 0)
                return berth_wrap(err, "start dnsmasq for %s", d->bridge);

        cleanup_free char *a_pid = berth_xasprintf("--pid-file=%s/dnsmasq.pid", d->dir);
        cleanup_free char *a_hosts = berth_xasprintf("--hostsdir=%s", hdir);
        cleanup_free char *a_srv = berth_xasprintf("--servers-file=%s/servers.conf", d->dir);
        cleanup_free char *a_resolv = berth_xasprintf("--resolv-file=%s/resolv.conf", d->dir);
        cleanup_free char *a_log = berth_xasprintf("--log-facility=%s/dnsmasq.log", d->dir);
        cleanup_free char *a_listen =
                berth_xasprintf("--listen-address=%s%s%s", d->listen4 ? d->listen4 : "",
                                d->listen4 && d->listen6 ? "," : "", d->listen6 ? d->listen6 : "");
        cleanup_free char *a_dom = d->domain ? berth_xasprintf("--domain=%s", d->domain) : NULL;
        cleanup_free char *a_local = d->domain ? berth_xasprintf("--local=/%s/", d->domain) : NULL;
        const char *argv[32] = {
                DNSMASQ, "--conf-file=/dev/null", a_pid,
                /* the network's directory may sit under root-only parents (/run/berth) */
                "--user=root", "--no-hosts", a_hosts, a_srv, a_resolv, a_log, a_listen,
                /* bind-dynamic: an IPv6 gateway is tentative (DAD) for a moment after it is
                 * added, and bind-interfaces would fail on it; this follows it appearing */
                "--bind-dynamic", "--except-interface=lo", "--no-negcache", "--domain-needed",
                "--bogus-priv", "--cache-size=1000"};
        int k = 16;
        if (a_dom) {
                argv[k++] = a_dom;
                argv[k++] = a_local;
                argv[k++] = "--expand-hosts";
        }
        argv[k] = NULL;

        /* dnsmasq daemonises itself; its first process exits once the daemon has its sockets
         * (or with the reason it could not, on stderr) */
        int pfd[2];
        if (pipe2(pfd, O_CLOEXEC) < 0)
                return berth_fail(err, errno, "pipe");
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
        posix_spawn_file_actions_adddup2(&fa, pfd[1], 2);
        posix_spawnattr_t at;
        posix_spawnattr_init(&at);
        sigset_t none;
        sigemptyset(&none);
        posix_spawnattr_setsigmask(&at, &none);
        posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSID);
        pid_t child;
        const char **cargv = argv;
        char *const *av; /* execve's type; the strings are not written */
        memcpy(&av, &cargv, sizeof(av));
        int r = posix_spawn(&child, DNSMASQ, &fa, &at, av, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
        close(pfd[1]);
        if (r != 0) {
                close(pfd[0]);
                return berth_fail(err, r, "run %s", DNSMASQ);
        }
        char msg[1024];
        int status = dns_spawn_result(pfd[0], child, msg, sizeof(msg));
        if (status != 0)
                return berth_fail(err, 0, "dnsmasq for %s failed (status %d): %s", d->bridge,
                                  status, msg);
        if (dns_alive(d->dir) == 0)
                return berth_fail(err, 0,
                                  "dnsmasq for %s exited after starting; see %s/dnsmasq.log",
                                  d->bridge, d->dir);
        return dns_wait_listen(d->listen4 ? d->listen4 : d->listen6, 3000, err);
}

/* pid has let go of its sockets: gone, or a zombie.  Its command line empties earlier (the
 * kernel drops the memory before the files), so dns_alive saying 0 is not enough before a
 * new dnsmasq binds the same address. */
static bool dns_exited(pid_t pid)
{
        char path[64], buf[512];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return true;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return true;
        buf[n] = '\0';
        const char *p = strrchr(buf, ')');
        return !p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X';
}

int net_dns_stop(const char *dir, berth_error_t *err)
{
        pid_t pid = dns_alive(dir);
        cleanup_free char *pidfile = dns_path(dir, "dnsmasq.pid");
        if (pid > 0) {
                if (kill(pid, SIGTERM) < 0 && errno != ESRCH)
                        return berth_fail(err, errno, "kill dnsmasq %d", (int) pid);
                /* not our child: watch for it to go (or become a zombie of its reaper) */
                int waited = 0;
                while (dns_alive(dir) == pid || !dns_exited(pid)) {
                        if (waited == 3000)
                                kill(pid, SIGKILL);
                        if (waited > 5000)
                                return berth_fail(err, ETIMEDOUT, "dnsmasq %d does not exit",
                                                  (int) pid);
                        struct timespec ts = {0, 2 * 1000 * 1000};
                        nanosleep(&ts, NULL);
                        waited += 2;
                }
        }
        if (unlink(pidfile) < 0 && errno != ENOENT)
                return berth_fail(err, errno, "remove `%s`", pidfile);
        return 0;
}

static int dns_reload_servers(const char *dir, berth_error_t *err)
{
        bool changed;
        if (dns_write_servers(dir, &changed, err) < 0)
                return -1;
        pid_t pid = changed ? dns_alive(dir) : 0;
        if (pid > 0 && kill(pid, SIGHUP) < 0 && errno != ESRCH)
                return berth_fail(err, errno, "reload dnsmasq %d", (int) pid);
        return 0;
}

int net_dns_record_set(const char *dir, const char *cid, json_t *addrs, json_t *names,
                       berth_error_t *err)
{
        if (!dns_word_ok(cid))
                return berth_fail(err, EINVAL, "bad container id `%s`", cid ? cid : "");
        size_t cap = 256, len = 0, i, j;
        cleanup_free char *text = berth_xmalloc(cap);
        text[0] = '\0';
        json_t *a, *nm;
        bool dotted = false;
        json_array_foreach(addrs, i, a)
        {
                const char *ip = json_string_value(a);
                unsigned char bin[16];
                if (ip == NULL ||
                    (inet_pton(AF_INET, ip, bin) != 1 && inet_pton(AF_INET6, ip, bin) != 1))
                        return berth_fail(err, EINVAL, "bad address in DNS record of %s", cid);
                size_t need = len + strlen(ip) + 2;
                json_array_foreach(names, j, nm)
                {
                        need += strlen(json_string_value(nm) ?: "") + 1;
                }
                if (need > cap) {
                        cap = need * 2;
                        text = berth_xrealloc(text, cap);
                }
                len += (size_t) snprintf(text + len, cap - len, "%s", ip);
                json_array_foreach(names, j, nm)
                {
                        const char *s = json_string_value(nm);
                        if (!dns_word_ok(s))
                                return berth_fail(err, EINVAL, "bad DNS name `%s` of %s",
                                                  s ? s : "", cid);
                        dotted |= strchr(s, '.') != NULL;
                        len += (size_t) snprintf(text + len, cap - len, " %s", s);
                }
                len += (size_t) snprintf(text + len, cap - len, "\n");
        }
        /* written beside hosts.d and renamed in: dnsmasq sees one whole file (IN_MOVED_TO),
         * never a half-written one */
        cleanup_free char *tmp = berth_xasprintf("%s/.hosts-%s", dir, cid);
        cleanup_free char *path = berth_xasprintf("%s/hosts.d/%s", dir, cid);
        cleanup_free char *hdir = dns_path(dir, "hosts.d");
        if (berth_mkdir_p(hdir, 0755, err) < 0 ||
            berth_write_file_replace(tmp, text, len, 0644, err) < 0)
                return berth_wrap(err, "write DNS records of %s", cid);
        if (rename(tmp, path) < 0) {
                int e = errno;
                unlink(tmp);
                return berth_fail(err, e, "rename `%s` to `%s`", tmp, path);
        }
        if (dotted && dns_reload_servers(dir, err) < 0)
                return berth_wrap(err, "write DNS records of %s", cid);
        return 0;
}

int net_dns_record_del(const char *dir, const char *cid, berth_error_t *err)
{
        if (!dns_word_ok(cid))
                return berth_fail(err, EINVAL, "bad container id `%s`", cid ? cid : "");
        cleanup_free char *path = berth_xasprintf("%s/hosts.d/%s", dir, cid);
        if (unlink(path) < 0) {
                if (errno == ENOENT)
                        return 0;
                return berth_fail(err, errno, "remove `%s`", path);
        }
        /* only when servers.conf loses a name: usually nothing to do */
        return dns_reload_servers(dir, err);
}

/* Write "nameserver X" lines for servers (strings) into path. */
static int dns_write_servers_file(const char *path, json_t *servers, berth_error_t *err)
{
        size_t cap = 64 + json_array_size(servers) * 64, len = 0, i;
        cleanup_free char *text = berth_xmalloc(cap);
        text[0] = '\0';
        json_t *v;
        json_array_foreach(servers, i, v)
        {
                const char *s = json_string_value(v);
                unsigned char bin[16];
                if (s == NULL || strlen(s) >= INET6_ADDRSTRLEN ||
                    (inet_pton(AF_INET, s, bin) != 1 && inet_pton(AF_INET6, s, bin) != 1))
                        return berth_fail(err, EINVAL, "bad DNS server address `%s`", s ? s : "");
                len += (size_t) snprintf(text + len, cap - len, "nameserver %s\n", s);
        }
        return berth_write_file_replace(path, text, len, 0644, err);
}

int net_dns_container_start(const struct net_dns_container *c, berth_error_t *err)
{
        if (c->dir == NULL || c->netns == NULL)
                return berth_fail(err, EINVAL, "a container's resolver needs a directory");
        cleanup_free char *resolv = dns_path(c->dir, "resolv.conf");
        if (berth_mkdir_p(c->dir, 0755, err) < 0)
                return -1;
        if (c->servers && dns_write_servers_file(resolv, c->servers, err) < 0)
                return -1;
        if (access(resolv, F_OK) < 0)
                return berth_fail(err, errno, "no servers for the resolver in %s", c->dir);
        if (net_dns_stop(c->dir, err) < 0)
                return -1;
        size_t nh = json_array_size(c->hostsdirs);
        if (nh > 64)
                return berth_fail(err, E2BIG, "a container on more than 64 networks");
        cleanup_free char *a_pid = berth_xasprintf("--pid-file=%s/dnsmasq.pid", c->dir);
        cleanup_free char *a_resolv = berth_xasprintf("--resolv-file=%s", resolv);
        cleanup_free char *a_log = berth_xasprintf("--log-facility=%s/dnsmasq.log", c->dir);
        char *a_hosts[64];
        static const char a_listen[] = "--listen-address=" NET_DNS_CONTAINER_ADDR;
        const char *argv[96] = {DNSMASQ,
                                "--conf-file=/dev/null",
                                a_pid,
                                "--user=root",
                                "--no-hosts",
                                a_resolv,
                                a_log,
                                a_listen,
                                "--bind-interfaces",
                                "--no-negcache",
                                "--domain-needed",
                                "--bogus-priv",
                                "--cache-size=1000"};
        size_t k = 13;
        for (size_t i = 0; i < nh; i++) {
                a_hosts[i] = berth_xasprintf("--hostsdir=%s",
                                             json_string_value(json_array_get(c->hostsdirs, i)));
                argv[k++] = a_hosts[i];
        }
        argv[k] = NULL;
        int nsfd = open(c->netns, O_RDONLY | O_CLOEXEC);
        int pfd[2] = {-1, -1};
        int r = 0;
        if (nsfd < 0)
                r = berth_fail(err, errno, "open `%s`", c->netns);
        else if (pipe2(pfd, O_CLOEXEC) < 0)
                r = berth_fail(err, errno, "pipe");
        pid_t child = r < 0 ? -1 : fork();
        if (r == 0 && child < 0)
                r = berth_fail(err, errno, "fork");
        if (child == 0) {
                /* into the container's namespace; dnsmasq daemonises from there */
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                setsid();
                int devnull = open("/dev/null", O_RDONLY);
                if (setns(nsfd, CLONE_NEWNET) < 0 || devnull < 0 || dup2(devnull, 0) < 0 ||
                    dup2(pfd[1], 1) < 0 || dup2(pfd[1], 2) < 0) {
                        dprintf(pfd[1], "enter the container's network namespace: %s",
                                strerror(errno));
                        _exit(1);
                }
                const char **cargv = argv;
                char *const *av;
                memcpy(&av, &cargv, sizeof(av));
                execve(DNSMASQ, av, environ);
                dprintf(2, "exec %s: %s", DNSMASQ, strerror(errno));
                _exit(127);
        }
        for (size_t i = 0; i < nh; i++)
                free(a_hosts[i]);
        if (nsfd >= 0)
                close(nsfd);
        if (pfd[1] >= 0)
                close(pfd[1]);
        if (r < 0) {
                if (pfd[0] >= 0)
                        close(pfd[0]);
                return r;
        }
        char msg[1024];
        int status = dns_spawn_result(pfd[0], child, msg, sizeof(msg));
        if (status != 0)
                return berth_fail(err, 0, "the container's resolver (dnsmasq) failed: %s", msg);
        if (dns_alive(c->dir) == 0)
                return berth_fail(err, 0, "the container's resolver exited after starting; see %s",
                                  a_log + strlen("--log-facility="));
        return 0;
}

int net_dns_container_stop(const char *dir, berth_error_t *err)
{
        if (net_dns_stop(dir, err) < 0)
                return -1;
        static const char *const files[] = {"resolv.conf", "dnsmasq.log", "dnsmasq.pid"};
        for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
                cleanup_free char *p = dns_path(dir, files[i]);
                if (unlink(p) < 0 && errno != ENOENT)
                        return berth_fail(err, errno, "remove `%s`", p);
        }
        if (rmdir(dir) < 0 && errno != ENOENT)
                return berth_fail(err, errno, "remove `%s`", dir);
        return 0;
}
