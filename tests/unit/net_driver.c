/* net_driver.c — a test tool (not installed): the firewall (net_fw_*) and resolver (net_dns_*)
 * calls one at a time from the shell, so tests/e2e/net_lowlevel.bats can drive them inside its
 * own network namespaces.
 *
 *   net_driver fw-init [ipv6]
 *   net_driver fw-net-add|fw-net-del BRIDGE SUBNET4|- [internal] [SUBNET6]
 *   net_driver fw-port-add|fw-port-del PROTO HOSTIP HOSTPORT CTRIP CTRPORT   (HOSTIP "" = any)
 *   net_driver fw-flush
 *   net_driver fw-bench N            N × net_fw_init (table present), port add + del: µs each
 *   net_driver dns-start DIR BRIDGE LISTEN4 [UPSTREAM [DOMAIN]]   prints the µs it took
 *   net_driver dns-set DIR CID IP NAME...
 *   net_driver dns-del DIR CID
 *   net_driver dns-stop DIR
 * Exit status 0, or 1 with the error on stderr; 2 for bad usage. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/error.h"
#include "net/dns.h"
#include "net/firewall.h"

static double now_us(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e6 + (double) ts.tv_nsec / 1e3;
}

static int usage(void)
{
        fprintf(stderr, "usage: see the comment at the top of tests/unit/net_driver.c\n");
        return 2;
}

static int port(char **argv, bool add, berth_error_t *err)
{
        struct net_fw_port p = {.proto = argv[0],
                                .host_ip = argv[1],
                                .host_port = (unsigned) atoi(argv[2]),
                                .ctr_ip = argv[3],
                                .ctr_port = (unsigned) atoi(argv[4])};
        return add ? net_fw_port_add(&p, err) : net_fw_port_del(&p, err);
}

static int bench(int n, berth_error_t *err)
{
        double t0 = now_us();
        for (int i = 0; i < n; i++)
                if (net_fw_init(false, err) < 0)
                        return -1;
        double t1 = now_us();
        for (int i = 0; i < n; i++) {
                struct net_fw_port p = {.proto = "tcp",
                                        .host_ip = "",
                                        .host_port = 40000 + (unsigned) i,
                                        .ctr_ip = "10.250.0.2",
                                        .ctr_port = 80};
                if (net_fw_port_add(&p, err) < 0)
                        return -1;
        }
        double t2 = now_us();
        for (int i = 0; i < n; i++) {
                struct net_fw_port p = {.proto = "tcp",
                                        .host_ip = "",
                                        .host_port = 40000 + (unsigned) i,
                                        .ctr_ip = "10.250.0.2",
                                        .ctr_port = 80};
                if (net_fw_port_del(&p, err) < 0)
                        return -1;
        }
        double t3 = now_us();
        printf("fw_init_present_us %.1f\nport_add_us %.1f\nport_del_us %.1f\n", (t1 - t0) / n,
               (t2 - t1) / n, (t3 - t2) / n);
        return 0;
}

int main(int argc, char **argv)
{
        if (argc < 2)
                return usage();
        const char *c = argv[1];
        int n = argc - 2;
        char **a = argv + 2;
        berth_error_t err = NULL;
        int r;
        if (strcmp(c, "fw-init") == 0) {
                r = net_fw_init(n > 0 && strcmp(a[0], "ipv6") == 0, &err);
        } else if ((strcmp(c, "fw-net-add") == 0 || strcmp(c, "fw-net-del") == 0) && n >= 2) {
                struct net_fw_network nw = {.bridge = a[0],
                                            .subnet4 = strcmp(a[1], "-") ? a[1] : NULL,
                                            .internal = n > 2 && strcmp(a[2], "internal") == 0};
                if (n > 2 && strchr(a[n - 1], ':'))
                        nw.subnet6 = a[n - 1];
                r = c[7] == 'a' ? net_fw_network_add(&nw, &err) : net_fw_network_del(&nw, &err);
        } else if (strcmp(c, "fw-port-add") == 0 && n == 5) {
                r = port(a, true, &err);
        } else if (strcmp(c, "fw-port-del") == 0 && n == 5) {
                r = port(a, false, &err);
        } else if (strcmp(c, "fw-flush") == 0) {
                r = net_fw_flush_all(&err);
        } else if (strcmp(c, "fw-bench") == 0 && n == 1) {
                r = bench(atoi(a[0]), &err);
        } else if (strcmp(c, "dns-start") == 0 && n >= 3) {
                struct net_dns d = {.dir = a[0],
                                    .bridge = a[1],
                                    .listen4 = a[2],
                                    .upstream = n > 3 && a[3][0] ? a[3] : NULL,
                                    .domain = n > 4 ? a[4] : NULL};
                double t0 = now_us();
                r = net_dns_start(&d, &err);
                printf("dns_start_us %.0f\n", now_us() - t0);
        } else if (strcmp(c, "dns-set") == 0 && n >= 4) {
                json_t *addrs = json_pack("[s]", a[2]);
                json_t *names = json_array();
                for (int i = 3; i < n; i++)
                        json_array_append_new(names, json_string(a[i]));
                r = net_dns_record_set(a[0], a[1], addrs, names, &err);
                json_decref(addrs);
                json_decref(names);
        } else if (strcmp(c, "dns-del") == 0 && n == 2) {
                r = net_dns_record_del(a[0], a[1], &err);
        } else if (strcmp(c, "dns-stop") == 0 && n == 1) {
                r = net_dns_stop(a[0], &err);
        } else {
                return usage();
        }
        if (r < 0) {
                fprintf(stderr, "net_driver %s: %s\n", c, berth_error_msg(err));
                berth_error_release(&err);
                return 1;
        }
        return 0;
}
