/* net.c — a VM's interfaces on berth networks (docs/network.md, "microVMs"), made on the
 * privileged side so that berth-vmm runs jailed on them: `berth vm start`'s grandchild, whose
 * pid becomes the supervisor's when it execs berth-vm-monitor, opens each tap and joins it to
 * its network (bridge, IPAM lease, DNS name: src/net's net_tap_attach) as owner
 * "vm-<that pid>".  The descriptors stay open in the supervisor for the VM's life and go to
 * every berth-vmm it starts (`--tap-fd ID=FD`; the first lease's address as `--boot-arg
 * ip=…`), so a guest reboot keeps its taps and addresses.  The kernel removes a tap with its
 * last descriptor; the supervisor's last act releases the leases (`berth network _teardown
 * vm-PID`), and after a kill -9 the next `berth network` call's garbage collection does, the
 * owner's comm being no longer berth-vm-monitor's.
 *
 * Only `berth` links this file: the static supervisor must not carry src/net (supervise.c
 * reaches vm_net_up through a weak reference, lifecycle.c's vm_net_check makes the link). */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/log.h"
#include "common/paths.h"
#include "common/util.h"
#include "net/network.h"
#include "net/sandbox.h"
#include "vm/vm_internal.h"

#define VM_NET_HDR_LEN 12 /* berth-vmm's virtio-net header (struct virtio_net_hdr_v1) */

/* The interfaces joined so far, released in reverse when a later one fails; the addresses
 * the VM had before (leases.json: {"ID": "IPv4"}), asked for again and kept up to date. */
struct vm_net {
        struct net_ctx ctx;
        json_t *had;
        unsigned n;
        const char *network[VM_MAX_NETS];
        struct net_tap_lease lease[VM_MAX_NETS];
        int fd[VM_MAX_NETS];
};

/* A new tap "btap" + 8 random hex digits, as berth-vmm names its own, open without
 * O_CLOEXEC: the descriptor is inherited by the supervisor and each of its VMMs. */
static int open_tap(char ifname[IFNAMSIZ], berth_error_t *err)
{
        uint32_t x = 0;
        if (getrandom(&x, sizeof(x), 0) != sizeof(x))
                x = (uint32_t) getpid();
        snprintf(ifname, IFNAMSIZ, "btap%08x", x);
        cleanup_close int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK);
        if (fd < 0)
                return berth_fail(err, errno, "open /dev/net/tun");
        struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR};
        memcpy(ifr.ifr_name, ifname, IFNAMSIZ);
        if (ioctl(fd, TUNSETIFF, &ifr) < 0)
                return berth_fail(err, errno, "make tap %s", ifname);
        int sz = VM_NET_HDR_LEN;
        if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0)
                return berth_fail(err, errno, "set the vnet header size of tap %s", ifname);
        return berth_steal_fd(&fd);
}

/* The guest's MAC as the definition gives it (vm create writes one); without one the
 * VMM picks its own, and the endpoint records a random one of the same block. */
static void iface_mac(json_t *iface, unsigned char mac[6])
{
        const char *s = json_string_value(json_object_get(iface, "guest_mac"));
        unsigned m[6];
        if (s && sscanf(s, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) == 6) {
                for (int i = 0; i < 6; i++)
                        mac[i] = (unsigned char) m[i];
                return;
        }
        mac[0] = 0x52;
        mac[1] = 0x54;
        mac[2] = 0x00;
        if (getrandom(mac + 3, 3, 0) != 3)
                mac[3] = mac[4] = mac[5] = 0x42;
}

static void release(struct vm_net *v)
{
        while (v->n) {
                unsigned i = --v->n;
                berth_error_t e = NULL;
                close(v->fd[i]); /* the tap goes with it */
                if (net_tap_detach(&v->ctx, v->network[i], &v->lease[i], &e) < 0) {
                        log_warn("network %s: release the VM's endpoint: %s", v->network[i],
                                 berth_error_msg(e));
                        berth_error_release(&e);
                }
        }
}

/* Interface index (its place in network-interfaces, the guest's ethN) on network: a tap
 * joined to it, its "ID=FD" for berth-vmm's --tap-fd in r->tap_fds, and the first ip=. */
static int join(struct vm_net *v, struct vm_rec *r, json_t *iface, unsigned index,
                const char *network, berth_error_t *err)
{
        char ifname[IFNAMSIZ];
        unsigned char mac[6];
        iface_mac(iface, mac);
        int fd = open_tap(ifname, err);
        if (fd < 0)
                return berth_wrap(err, "VM %s: network %s", r->name, network);
        const char *id = json_string_value(json_object_get(iface, "iface_id"));
        cleanup_free char *dflt = berth_xasprintf("net%u", index);
        id = id ? id : dflt;
        /* the address it had: a restored guest still has it configured */
        const char *want = json_string_value(json_object_get(v->had, id));
        struct net_tap_lease *l = &v->lease[v->n];
        if (net_tap_attach(&v->ctx, network, r->name, ifname, mac, want, l, err) < 0) {
                close(fd);
                return berth_wrap(err, "VM %s", r->name);
        }
        v->network[v->n] = network;
        v->fd[v->n++] = fd;
        if (want && strcmp(want, l->ip4) != 0)
                log_warn("VM %s: network %s: %s is taken, the VM gets %s (a restored guest "
                         "keeps the address it had)",
                         r->name, network, want, l->ip4);
        json_object_set_new(v->had, id, json_string(l->ip4));
        json_array_append_new(r->tap_fds, json_sprintf("%s=%d", id, fd));
        if (!r->boot_arg) /* Linux configures one interface from ip= */
                r->boot_arg = net_tap_ip_arg(l, index);
        log_info("VM %s: network %s: tap %s, address %s/%u, endpoint %s", r->name, network, ifname,
                 l->ip4, l->prefix4, l->owner);
        return 0;
}

/* The addresses for the next start; without them it takes any, so a failure only warns. */
static void save_leases(const char *path, json_t *had)
{
        cleanup_free char *text = json_dumps(had, JSON_COMPACT | JSON_SORT_KEYS);
        berth_error_t e = NULL;
        if (text && berth_write_file_replace(path, text, strlen(text), 0600, &e) < 0) {
                log_warn("%s", berth_error_msg(e));
                berth_error_release(&e);
        }
}

int vm_net_up(struct vm_rec *r, berth_error_t *err)
{
        json_t *ifaces = json_object_get(r->cfg, "network-interfaces");
        r->tap_fds = json_array();
        r->boot_arg = NULL;
        if (!vm_net_joins(r))
                return 0;
        /* The endpoint's owner is this pid: a concurrent garbage collection must already
         * see the comm berth-vm-monitor will have (net_gc keeps a VM's endpoint by it). */
        (void) prctl(PR_SET_NAME, "berth-vm-monitor", 0, 0, 0);
        struct berth_paths paths = {0};
        static struct vm_net v; /* lives until the exec, which keeps only the taps */
        int rc = berth_paths_default(&paths, err);
        if (rc == 0)
                rc = net_ctx_init(&v.ctx, &paths, err);
        berth_paths_free(&paths);
        if (rc < 0)
                return -1;
        size_t i;
        json_t *iface;
        cleanup_free char *leases = vm_rec_path(r, "leases.json");
        v.had = json_load_file(leases, 0, NULL);
        if (!json_is_object(v.had)) {
                json_decref(v.had);
                v.had = json_object();
        }
        json_array_foreach(ifaces, i, iface)
        {
                const char *network = json_string_value(json_object_get(iface, "network"));
                if (network && join(&v, r, iface, (unsigned) i, network, err) < 0) {
                        release(&v);
                        rc = -1;
                        break;
                }
        }
        if (rc == 0)
                save_leases(leases, v.had);
        json_decref(v.had);
        net_ctx_free(&v.ctx);
        return rc;
}

bool vm_net_joins(const struct vm_rec *r)
{
        size_t i;
        json_t *iface;
        json_array_foreach(json_object_get(r->cfg, "network-interfaces"), i, iface)
        {
                if (json_object_get(iface, "network"))
                        return true;
        }
        return false;
}

int vm_net_check(const struct vm_rec *r, berth_error_t *err)
{
        if (!vm_net_joins(r))
                return 0;
        struct berth_paths paths = {0};
        struct net_ctx ctx = {0};
        int rc = berth_paths_default(&paths, err);
        if (rc == 0)
                rc = net_ctx_init(&ctx, &paths, err);
        berth_paths_free(&paths);
        size_t i;
        json_t *iface;
        json_auto_t *seen = json_object();
        json_array_foreach(json_object_get(r->cfg, "network-interfaces"), i, iface)
        {
                const char *network = json_string_value(json_object_get(iface, "network"));
                json_t *doc = NULL;
                if (rc == 0 && network && net_network_get(&ctx, network, &doc, err) < 0) {
                        (*err)->status = 0; /* Docker's 1 for `network`; a VM's failure is 125 */
                        rc = berth_wrap(err, "VM %s", r->name);
                }
                /* one endpoint per VM and network: the network knows it by one owner */
                const char *id = json_string_value(json_object_get(doc, "Id"));
                if (rc == 0 && network && json_object_get(seen, id))
                        rc = berth_fail(err, EINVAL, "VM %s: two interfaces on network %s", r->name,
                                        network);
                else if (rc == 0 && network && id)
                        json_object_set_new(seen, id, json_true());
                json_decref(doc);
        }
        net_ctx_free(&ctx);
        return rc;
}
