/* test_net_proxy.c — the [::1] port relay (src/net/proxy.h): it relays, and a relay stopped the
 * moment its start returns is gone (it is named and leads its group before its pid is known).
 * Loopback only (ports the kernel picks); skips loudly without IPv6 loopback. */
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
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "net/proxy.h"
#include "tap.h"

/* A listening socket on ip (v4 or v6) at a port the kernel picks; *port gets it. */
static int listen_any(const char *ip, unsigned *port)
{
        struct sockaddr_storage ss = {0};
        socklen_t len;
        struct sockaddr_in *s4 = (struct sockaddr_in *) &ss;
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *) &ss;
        if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
                s4->sin_family = AF_INET;
                len = sizeof(*s4);
        } else if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
                s6->sin6_family = AF_INET6;
                len = sizeof(*s6);
        } else {
                return -1;
        }
        int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *) &ss, len) < 0 || listen(fd, 8) < 0 ||
            getsockname(fd, (struct sockaddr *) &ss, &len) < 0) {
                if (fd >= 0)
                        close(fd);
                return -1;
        }
        *port = ntohs(ss.ss_family == AF_INET ? s4->sin_port : s6->sin6_port);
        return fd;
}

/* A free port on [::1] (taken and let go). */
static unsigned free_v6_port(void)
{
        unsigned port = 0;
        int fd = listen_any("::1", &port);
        if (fd < 0)
                return 0;
        close(fd);
        return port;
}

static bool port_listens(unsigned port)
{
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t) port)};
        inet_pton(AF_INET6, "::1", &a.sin6_addr);
        int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool yes = fd >= 0 && connect(fd, (struct sockaddr *) &a, sizeof(a)) == 0;
        if (fd >= 0)
                close(fd);
        return yes;
}

static void comm_of(pid_t pid, char *out, size_t size)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/comm", (int) pid);
        out[0] = '\0';
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        ssize_t n = read(fd, out, size - 1);
        close(fd);
        out[n > 0 ? n : 0] = '\0';
        out[strcspn(out, "\n")] = '\0';
}

/* Reap what we adopted (we are the relays' subreaper) until the port stops listening. */
static bool gone_within(unsigned port, int ms)
{
        for (int i = 0; i < ms / 10; i++) {
                while (waitpid(-1, NULL, WNOHANG) > 0)
                        ;
                if (!port_listens(port))
                        return true;
                usleep(10000);
        }
        return false;
}

static void test_relays(void)
{
        unsigned back_port = 0, port = free_v6_port();
        int back = listen_any("127.0.0.1", &back_port);
        pid_t pid = 0;
        bool busy = true;
        berth_error_t err = NULL;
        int r = net_proxy_start("::1", port, "127.0.0.1", back_port, &pid, &busy, &err);
        ok(r == 0 && !busy && pid > 0, "start: a relay on [::1]");
        berth_error_release(&err);
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t) port)};
        inet_pton(AF_INET6, "::1", &a.sin6_addr);
        int c = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        bool conn = c >= 0 && connect(c, (struct sockaddr *) &a, sizeof(a)) == 0;
        int s = conn ? accept4(back, NULL, NULL, SOCK_CLOEXEC) : -1;
        char buf[8] = "";
        bool through = s >= 0 && write(c, "ping", 4) == 4 && read(s, buf, sizeof(buf)) == 4 &&
                       memcmp(buf, "ping", 4) == 0 && write(s, "pong", 4) == 4 &&
                       read(c, buf, sizeof(buf)) == 4 && memcmp(buf, "pong", 4) == 0;
        ok(through, "bytes go through both ways");
        if (c >= 0)
                close(c);
        if (s >= 0)
                close(s);
        close(back);
        net_proxy_stop(pid);
        ok(gone_within(port, 3000), "stop: the port is let go");
}

/* Stopped right after the start: before the fix the relay could still carry berth's name and
 * its caller's group, so net_proxy_stop passed it by and it held the port for good. */
static void test_stop_at_once(void)
{
        int kept = 0, named = 0, leads = 0;
        const int rounds = 40;
        for (int i = 0; i < rounds; i++) {
                unsigned port = free_v6_port();
                pid_t pid = 0;
                bool busy = false;
                berth_error_t err = NULL;
                if (port == 0 ||
                    net_proxy_start("::1", port, "127.0.0.1", 9, &pid, &busy, &err) < 0 || busy) {
                        berth_error_release(&err);
                        continue;
                }
                char comm[32];
                comm_of(pid, comm, sizeof(comm));
                named += strcmp(comm, NET_PROXY_COMM) == 0;
                leads += getpgid(pid) == pid;
                net_proxy_stop(pid);
                if (!gone_within(port, 2000)) {
                        kept++;
                        kill(pid, SIGKILL); /* not to leave one behind */
                        gone_within(port, 1000);
                }
        }
        is_int(named, rounds, "a relay is named berth-proxy when its start returns");
        is_int(leads, rounds, "and leads its process group");
        is_int(kept, 0, "none outlives a stop right after its start");
}

int main(void)
{
        int probe = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        unsigned p = 0;
        int l = probe >= 0 ? listen_any("::1", &p) : -1;
        if (probe >= 0)
                close(probe);
        if (l < 0) {
                tap_skip("net proxy", "no IPv6 loopback here");
                return tap_done();
        }
        close(l);
        /* the relays are double-forked: adopt them, so that they are reaped here */
        prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        test_relays();
        test_stop_at_once();
        return tap_done();
}
