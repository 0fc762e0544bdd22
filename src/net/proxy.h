/* proxy.h — the one published-port case the kernel's DNAT can't serve: a host port on the
 * IPv6 loopback address (`-p [::1]:8080:80`).  IPv4 has route_localnet, so 127.0.0.1 is DNATed
 * like any host address (ports.c); IPv6 has no equivalent and drops a packet from ::1 that
 * would leave by a bridge.  For those ports only, berth runs what Docker runs for every port: a
 * small TCP relay in user space ("berth-proxy", one process group per port, listening on the
 * host address and connecting to the container's address, its IPv6 one when it has one).
 *
 * The relay's pid is kept in the port's reservation file (ports.h), so unpublishing and the
 * garbage collection after a kill -9 stop it; /proc/PID/comm tells a recycled pid apart. */
#ifndef BERTH_NET_PROXY_H
#define BERTH_NET_PROXY_H

#include <stdbool.h>
#include <sys/types.h>

#include "common/error.h"

#define NET_PROXY_COMM "berth-proxy"

/* Does a host address need the relay?  (IPv6 loopback.) */
bool net_proxy_needed(const char *host_ip);

/* Listen on host_ip:host_port (tcp); 0 with *busy when the port is taken, -1 on error.  Then
 * start the relay to ctr_ip:ctr_port in its own session, the listening socket its only
 * descriptor; *pid: the relay's pid (its process group).  The port listens when this returns. */
int net_proxy_start(const char *host_ip, unsigned host_port, const char *ctr_ip, unsigned ctr_port,
                    pid_t *pid, bool *busy, berth_error_t *err);

/* Stop the relay of pid (its whole process group) if it is still one; gone is fine. */
void net_proxy_stop(pid_t pid);

#endif
