/* test_net_nl.c — rtnetlink and namespace files (src/net/nl.h) against the real kernel, in a
 * forked child that has network and mount namespaces of its own: nothing here touches the
 * host's links, routes or mount table.  Needs root; skips loudly without it. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "net/nl.h"
#include "tap.h"

/* IFF_UP of a link in the namespace netns_fd (-1: ours), from a forked child. */
static int link_is_up(int netns_fd, const char *name)
{
        pid_t pid = fork();
        if (pid == 0) {
                if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) < 0)
                        _exit(2);
                struct ifreq ifr = {0};
                int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
                if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
                        _exit(3);
                _exit(ifr.ifr_flags & IFF_UP ? 0 : 1);
        }
        int st;
        if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st))
                return -1;
        return WEXITSTATUS(st) == 0 ? 1 : WEXITSTATUS(st) == 1 ? 0 : -1;
}

static bool has(char **v, size_t n, const char *s)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(v[i], s) == 0)
                        return true;
        return false;
}

static void free_strs(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

static void diag_strs(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                printf("#   %s\n", v[i]);
}

static bool is_nsfs(const char *path)
{
        /* a bind-mounted nsfs file can be opened and setns()ed into */
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        pid_t pid = fork();
        if (pid == 0)
                _exit(setns(fd, CLONE_NEWNET) == 0 ? 0 : 1);
        close(fd);
        int st;
        return pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void test_addr_parse(void)
{
        struct net_addr a;
        char buf[INET6_ADDRSTRLEN];
        ok(net_addr_parse("10.88.0.2", &a) == 0 && a.family == AF_INET, "parse an IPv4 address");
        is_str(net_addr_str(&a, buf), "10.88.0.2", "format it back");
        ok(net_addr_parse("fd00:88::2", &a) == 0 && a.family == AF_INET6, "parse an IPv6 one");
        is_str(net_addr_str(&a, buf), "fd00:88::2", "format it back");
        ok(net_addr_parse("10.88.0.256", &a) < 0, "refuse a bad address");
        ok(net_addr_parse("10.88.0.0/16", &a) < 0, "refuse a prefix");
}

static void test_errors(struct net_nl *nl)
{
        berth_error_t err = NULL;
        struct net_addr a;
        net_addr_parse("10.88.0.2", &a);
        ok(net_nl_addr_add(nl, "nosuch0", &a, 16, &err) < 0 && err && err->errnum == ENODEV,
           "address on a missing link fails with ENODEV");
        ok(err && strstr(berth_error_msg(err), "add address 10.88.0.2/16 to nosuch0"),
           "and the error names the address and the link");
        printf("# %s\n", err ? berth_error_msg(err) : "(no error)");
        berth_error_release(&err);
        ok(net_nl_bridge_add(nl, "a-name-much-too-long-for-a-link", 0, &err) < 0 &&
                   err->errnum == EINVAL,
           "a name longer than IFNAMSIZ is refused");
        berth_error_release(&err);
        struct net_link_set s = {.up = 1};
        ok(net_nl_link_set(nl, "nosuch0", &s, &err) < 0 && err &&
                   strstr(berth_error_msg(err), "set link nosuch0 to up"),
           "link set on a missing link names it");
        berth_error_release(&err);
        ok(net_sysctl_write("../../kernel/hostname", "x", &err) < 0 && err->errnum == EINVAL,
           "a sysctl outside /proc/sys/net is refused");
        berth_error_release(&err);
        ok(net_sysctl_write("ipv4/ip_forward", "1", &err) == 0, "write a net sysctl");
        cleanup_free char *v = NULL;
        ok(berth_read_file("/proc/sys/net/ipv4/ip_forward", &v, NULL, &err) == 0 && v &&
                   v[0] == '1',
           "and it reads back (in this namespace)");
        berth_error_release(&err);
        cleanup_close int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
        struct net_nl *bad = NULL;
        ok(net_nl_open(&bad, fd, &err) < 0 && err && err->errnum == EINVAL,
           "open in a 'namespace' that is no namespace fails");
        berth_error_release(&err);
}

/* nl: this (new) namespace; nl2: the one net_netns_create made, peer end in it. */
static void test_links(struct net_nl *nl, struct net_nl *nl2, int nsfd, bool v6)
{
        berth_error_t err = NULL;
        static const unsigned char mac[6] = {0x02, 0x42, 0x0a, 0x58, 0x00, 0x02};
        char master[IFNAMSIZ];
        struct net_addr a;

        is_int(net_nl_bridge_add(nl, "tbr0", 1400, &err), 0, "bridge add");
        is_int(net_nl_bridge_add(nl, "tbr0", 1400, &err), 1, "bridge add again: exists, fine");
        ok(net_nl_link_index(nl, "tbr0", &err) > 0, "the bridge has an ifindex");
        is_int(net_nl_link_index(nl, "nosuch0", &err), 0, "a missing link has index 0");
        is_int(net_nl_veth_add(nl, "tveth0", "eth0", 1400, nsfd, mac, &err), 0,
               "veth add, peer born in the other namespace");
        if (err)
                printf("# %s\n", berth_error_msg(err));
        berth_error_release(&err);
        ok(net_nl_veth_add(nl, "tveth0", "eth1", 0, -1, NULL, &err) < 0 && err->errnum == EEXIST,
           "veth add with a taken name fails");
        berth_error_release(&err);
        ok(net_nl_link_index(nl, "tveth0", &err) > 0, "host end here");
        is_int(net_nl_link_index(nl, "eth0", &err), 0, "peer not here");
        ok(net_nl_link_index(nl2, "eth0", &err) > 0, "peer there");

        struct net_link_set up_br = {.master = "tbr0", .up = 1};
        is_int(net_nl_link_set(nl, "tveth0", &up_br, &err), 0, "enslave the host end, up");
        struct net_link_set up = {.up = 1};
        is_int(net_nl_link_set(nl, "tbr0", &up, &err), 0, "bridge up");
        is_int(net_nl_link_master(nl, "tveth0", master, &err), 0, "read the master");
        is_str(master, "tbr0", "it is the bridge");
        is_int(link_is_up(-1, "tveth0"), 1, "host end is up");
        struct net_link_set peer = {.up = 1, .mtu = 1300};
        is_int(net_nl_link_set(nl2, "eth0", &peer, &err), 0, "peer up with mtu, through nl2");
        is_int(link_is_up(nsfd, "eth0"), 1, "peer is up in its namespace");

        net_addr_parse("10.88.0.1", &a);
        is_int(net_nl_addr_add(nl, "tbr0", &a, 16, &err), 0, "bridge address v4");
        net_addr_parse("10.88.0.2", &a);
        is_int(net_nl_addr_add(nl2, "eth0", &a, 16, &err), 0, "peer address v4");
        is_int(net_nl_addr_add(nl2, "eth0", &a, 16, &err), 0, "same address again: fine");
        net_addr_parse("10.88.0.1", &a);
        is_int(net_nl_route_default(nl2, "eth0", &a, &err), 0, "default route v4");
        is_int(net_nl_route_default(nl2, "eth0", &a, &err), 0, "default route again: replaced");
        if (v6) {
                net_addr_parse("fd00:88::1", &a);
                is_int(net_nl_addr_add(nl, "tbr0", &a, 64, &err), 0, "bridge address v6");
                net_addr_parse("fd00:88::2", &a);
                is_int(net_nl_addr_add(nl2, "eth0", &a, 64, &err), 0, "peer address v6 (nodad)");
                net_addr_parse("fd00:88::1", &a);
                is_int(net_nl_route_default(nl2, "eth0", &a, &err), 0, "default route v6");
        } else {
                tap_skip("IPv6 addresses and route", "no IPv6 in this kernel");
        }
        if (err)
                printf("# %s\n", berth_error_msg(err));
        berth_error_release(&err);

        char **v = NULL;
        size_t n = 0;
        is_int(net_nl_routes(nl2, AF_INET, &v, &n, &err), 0, "route dump v4 (peer namespace)");
        ok(has(v, n, "10.88.0.0/16 eth0"), "finds the subnet on eth0");
        ok(has(v, n, "0.0.0.0/0 eth0"), "finds the default route");
        if (!has(v, n, "10.88.0.0/16 eth0") || !has(v, n, "0.0.0.0/0 eth0"))
                diag_strs(v, n);
        free_strs(v, n);
        is_int(net_nl_routes(nl, AF_UNSPEC, &v, &n, &err), 0, "route dump, both families");
        ok(has(v, n, "10.88.0.0/16 tbr0"), "finds the subnet on the bridge");
        if (v6)
                ok(has(v, n, "fd00:88::/64 tbr0"), "and the IPv6 prefix");
        if (!has(v, n, "10.88.0.0/16 tbr0"))
                diag_strs(v, n);
        free_strs(v, n);

        is_int(net_nl_links(nl, "tveth", &v, &n, &err), 0, "link dump by prefix");
        ok(n == 1 && has(v, n, "tveth0"), "finds exactly the veth");
        free_strs(v, n);
        is_int(net_nl_links(nl, "", &v, &n, &err), 0, "link dump, all");
        ok(has(v, n, "lo") && has(v, n, "tbr0") && !has(v, n, "eth0"), "lo, bridge; no peer");
        free_strs(v, n);

        struct net_link_set detach = {.master = "", .up = -1};
        is_int(net_nl_link_set(nl, "tveth0", &detach, &err), 0, "detach from the bridge");
        is_int(net_nl_link_master(nl, "tveth0", master, &err), 0, "read the master again");
        is_str(master, "", "none now");
        is_int(net_nl_link_del(nl, "tveth0", &err), 0, "veth del");
        is_int(net_nl_link_index(nl, "tveth0", &err), 0, "gone here");
        is_int(net_nl_link_index(nl2, "eth0", &err), 0, "and its peer is gone there");
        is_int(net_nl_link_del(nl, "tveth0", &err), 0, "del again: missing, fine");
        is_int(net_nl_link_del(nl, "tbr0", &err), 0, "bridge del");
        if (err)
                printf("# %s\n", berth_error_msg(err));
        berth_error_release(&err);
}

static int run(const char *tmp)
{
        berth_error_t err = NULL;
        struct net_nl *nl = NULL, *nl2 = NULL;
        bool v6 = access("/proc/sys/net/ipv6", F_OK) == 0;

        test_addr_parse();
        cleanup_free char *ns = berth_xasprintf("%s/net/ns/peer", tmp);

        ok(net_nl_open(&nl, -1, &err) == 0, "open a netlink socket here");
        is_int(link_is_up(-1, "lo"), 0, "a new namespace's lo starts down");
        is_int(net_nl_loopback_up(nl, &err), 0, "loopback up");
        is_int(link_is_up(-1, "lo"), 1, "lo is up");
        is_int(net_netns_create(ns, &err), 0, "netns create (parent dirs made)");
        if (err)
                printf("# %s\n", berth_error_msg(err));
        berth_error_release(&err);
        is_int(net_netns_create(ns, &err), 1, "netns create again: exists");
        ok(is_nsfs(ns), "the file is a network namespace, after the thread ended");
        int nsfd = open(ns, O_RDONLY | O_CLOEXEC);
        is_int(link_is_up(nsfd, "lo"), 1, "lo is up in it");
        ok(net_nl_open(&nl2, nsfd, &err) == 0, "open a netlink socket in it");
        if (nl && nl2) {
                test_links(nl, nl2, nsfd, v6);
                test_errors(nl);
        }
        net_nl_close(nl2);
        close(nsfd);
        is_int(net_netns_remove(ns, &err), 0, "netns remove");
        ok(access(ns, F_OK) < 0 && errno == ENOENT, "the file is gone");
        is_int(net_netns_remove(ns, &err), 0, "netns remove again: missing, fine");
        net_nl_close(nl);
        berth_error_release(&err);
        return tap_done();
}

int main(void)
{
        if (geteuid() != 0) {
                tap_skip("rtnetlink and network namespaces", "needs root");
                return tap_done();
        }
        char tmp[] = "/tmp/berth-test-nl-XXXXXX";
        if (mkdtemp(tmp) == NULL) {
                perror("mkdtemp");
                return 1;
        }
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
                /* Our own network namespace, and a mount namespace that sends nothing back
                 * to the host: the namespace files' mounts die with this child. */
                if (unshare(CLONE_NEWNET | CLONE_NEWNS) < 0 ||
                    mount(NULL, "/", NULL, MS_SLAVE | MS_REC, NULL) < 0) {
                        tap_skip("rtnetlink and network namespaces", "unshare failed");
                        int rc = tap_done();
                        fflush(stdout); /* _exit flushes nothing */
                        _exit(rc);
                }
                int rc = run(tmp);
                fflush(stdout);
                _exit(rc);
        }
        int st;
        if (pid < 0 || waitpid(pid, &st, 0) < 0)
                return 1;
        /* the child's mounts went with its mount namespace; its files, if it died, did not */
        cleanup_free char *ns_file = berth_xasprintf("%s/net/ns/peer", tmp);
        cleanup_free char *ns_dir = berth_xasprintf("%s/net/ns", tmp);
        cleanup_free char *net_dir = berth_xasprintf("%s/net", tmp);
        unlink(ns_file);
        rmdir(ns_dir);
        rmdir(net_dir);
        rmdir(tmp);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
