/* proxy.c — the user-space relay for ports on the IPv6 loopback address (proxy.h). */
#include "net/proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"

bool net_proxy_needed(const char *host_ip)
{
        struct in6_addr a;
        return host_ip && inet_pton(AF_INET6, host_ip, &a) == 1 && IN6_IS_ADDR_LOOPBACK(&a);
}

/* A socket address for ip:port (IPv4 or IPv6); its length, 0 when ip is not an address. */
static socklen_t sockaddr_of(const char *ip, unsigned port, struct sockaddr_storage *ss)
{
        memset(ss, 0, sizeof(*ss));
        struct sockaddr_in *s4 = (struct sockaddr_in *) ss;
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) ss;
        if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
                s4->sin_family = AF_INET;
                s4->sin_port = htons((uint16_t) port);
                return sizeof(*s4);
        }
        if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
                s6->sin6_family = AF_INET6;
                s6->sin6_port = htons((uint16_t) port);
                return sizeof(*s6);
        }
        return 0;
}

/* One connection: copy both ways until both sides are done. */
static void relay(int a, const struct sockaddr_storage *to, socklen_t tolen)
{
        int b = socket(to->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (b < 0 || connect(b, (const struct sockaddr *) to, tolen) < 0)
                _exit(1);
        int fds[2] = {a, b};
        bool open_in[2] = {true, true};
        char buf[65536];
        while (open_in[0] || open_in[1]) {
                struct pollfd p[2];
                int np = 0, which[2];
                for (int i = 0; i < 2; i++)
                        if (open_in[i]) {
                                p[np] = (struct pollfd){.fd = fds[i], .events = POLLIN};
                                which[np++] = i;
                        }
                if (poll(p, (nfds_t) np, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        _exit(1);
                }
                for (int k = 0; k < np; k++) {
                        if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        int i = which[k];
                        ssize_t n = read(fds[i], buf, sizeof(buf));
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0) {
                                /* this side is done sending: pass the half-close on */
                                open_in[i] = false;
                                shutdown(fds[1 - i], SHUT_WR);
                                if (n < 0)
                                        _exit(0);
                                continue;
                        }
                        if (berth_write_all(fds[1 - i], buf, (size_t) n) < 0)
                                _exit(0);
                }
        }
        _exit(0);
}

static void proxy_main(int lfd, const struct sockaddr_storage *to, socklen_t tolen)
{
        prctl(PR_SET_NAME, NET_PROXY_COMM, 0, 0, 0);
        /* children are reaped by the kernel; SIGTERM to the group ends them all */
        signal(SIGCHLD, SIG_IGN);
        signal(SIGPIPE, SIG_IGN);
        for (;;) {
                int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0) {
                        if (errno == EINTR || errno == ECONNABORTED)
                                continue;
                        /* out of descriptors or memory: the connection stays queued, so a
                         * retry at once would spin; try again a little later */
                        if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                            errno == ENOMEM) {
                                usleep(50000);
                                continue;
                        }
                        _exit(1);
                }
                pid_t p = fork();
                if (p == 0) {
                        close(lfd);
                        relay(c, to, tolen);
                }
                close(c);
        }
}

int net_proxy_start(const char *host_ip, unsigned host_port, const char *ctr_ip, unsigned ctr_port,
                    pid_t *pid, bool *busy, berth_error_t *err)
{
        *busy = false;
        *pid = 0;
        struct sockaddr_storage from, to;
        socklen_t flen = sockaddr_of(host_ip, host_port, &from);
        socklen_t tlen = sockaddr_of(ctr_ip, ctr_port, &to);
        if (flen == 0 || tlen == 0)
                return berth_fail(err, EINVAL, "relay [%s]:%u to %s:%u: bad address", host_ip,
                                  host_port, ctr_ip, ctr_port);
        int lfd = socket(from.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (lfd < 0)
                return berth_fail(err, errno, "socket");
        int one = 1;
        setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (from.ss_family == AF_INET6)
                setsockopt(lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        if (bind(lfd, (struct sockaddr *) &from, flen) < 0 || listen(lfd, 128) < 0) {
                int e = errno;
                close(lfd);
                if (e == EADDRINUSE) {
                        *busy = true;
                        return 0;
                }
                return berth_fail(err, e, "listen on [%s]:%u", host_ip, host_port);
        }
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0) {
                int e = errno;
                close(lfd);
                return berth_fail(err, e, "pipe");
        }
        pid_t child = fork();
        if (child < 0) {
                int e = errno;
                close(lfd);
                close(p[0]);
                close(p[1]);
                return berth_fail(err, e, "fork");
        }
        if (child == 0) {
                /* a session of its own (its process group is what net_proxy_stop kills), no
                 * descriptor of berth's but the listening socket */
                close(p[0]);
                pid_t g = fork();
                if (g != 0)
                        _exit(g < 0 ? 1 : 0);
                setsid();
                signal(SIGTERM, SIG_DFL);
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                /* named, leading its group and killable before the caller learns its pid:
                 * net_proxy_stop right after the start (a later port's failure) must find a
                 * relay to stop */
                prctl(PR_SET_NAME, NET_PROXY_COMM, 0, 0, 0);
                pid_t self = getpid();
                if (berth_write_all(p[1], &self, sizeof(self)) < 0)
                        _exit(1);
                int devnull = open("/dev/null", O_RDWR);
                if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 ||
                    dup2(devnull, 2) < 0 || dup2(lfd, 3) < 0)
                        _exit(1);
                close_range(4, ~0U, 0);
                proxy_main(3, &to, tlen);
        }
        close(p[1]);
        close(lfd);
        int st;
        while (waitpid(child, &st, 0) < 0 && errno == EINTR)
                ;
        pid_t g = 0;
        ssize_t n;
        do /* the relay writes its pid once it leads its group (or exits: 0) */
                n = read(p[0], &g, sizeof(g));
        while (n < 0 && errno == EINTR);
        close(p[0]);
        if (n != (ssize_t) sizeof(g) || g <= 0)
                return berth_fail(err, ECHILD, "start the relay for [%s]:%u", host_ip, host_port);
        *pid = g;
        return 0;
}

void net_proxy_stop(pid_t pid)
{
        if (pid <= 0)
                return;
        char path[64], comm[32] = "";
        snprintf(path, sizeof(path), "/proc/%d/comm", (int) pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        ssize_t n = read(fd, comm, sizeof(comm) - 1);
        close(fd);
        if (n <= 0)
                return;
        comm[n] = '\0';
        comm[strcspn(comm, "\n")] = '\0';
        if (strcmp(comm, NET_PROXY_COMM) != 0)
                return;
        /* the relay and its connections: its session's process group */
        kill(-pid, SIGTERM);
}
