/* net_attach.c — a VM's network interface on a berth network, the one place where berth-vmm
 * uses src/net: the tap joins the network's bridge beside the containers' veths, and the
 * address the network's IPAM lends it reaches the guest as Linux's ip= boot parameter
 * (docs/network.md, "microVMs").
 *
 * The state is the network's own (BERTH_RUN_DIR/BERTH_DATA_DIR as `berth` resolves them), so
 * `berth network inspect` lists the VM and the VM's name resolves on user networks.  The
 * endpoint is released on every way out of vmm_run (the device's destroy); after a kill -9,
 * net_gc finds the endpoint's owner "vm-<pid>" gone and releases it, and the kernel has already
 * removed the tap with its last descriptor. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "common/log.h"
#include "common/paths.h"
#include "common/util.h"
#include "net/network.h"
#include "net/sandbox.h"
#include "vmm/vm.h"

struct vmm_net_lease {
        struct net_ctx ctx;
        char *network;
        struct net_tap_lease l;
};

int vmm_net_attach(const struct vmm_net_config *nc, const char *tap, struct vmm_net_lease **out,
                   berth_error_t *err)
{
        struct berth_paths paths = {0};
        struct vmm_net_lease *nl = berth_xcalloc(1, sizeof(*nl));
        int r = berth_paths_default(&paths, err);
        if (r == 0)
                r = net_ctx_init(&nl->ctx, &paths, err);
        berth_paths_free(&paths);
        char owner[32];
        snprintf(owner, sizeof(owner), "vm-%d", (int) getpid());
        if (r == 0)
                r = net_tap_attach(&nl->ctx, nc->network, nc->name ? nc->name : owner, tap, nc->mac,
                                   NULL, &nl->l, err);
        if (r < 0) {
                /* berth's refusals (no such network, not a bridge, no free address) are the
                 * configuration's fault: berth-vmm's status 2, not `berth`'s 125 */
                if (*err)
                        (*err)->status = (*err)->status == 125 ? VMM_EXIT_USAGE : 0;
                net_ctx_free(&nl->ctx);
                free(nl);
                return -1;
        }
        nl->network = berth_xstrdup(nc->network);
        log_info("network %s: tap %s, address %s/%u, gateway %s, mac %s, endpoint %s", nl->network,
                 tap, nl->l.ip4, nl->l.prefix4, *nl->l.gw4 ? nl->l.gw4 : "none", nl->l.mac,
                 nl->l.owner);
        *out = nl;
        return 0;
}

char *vmm_net_ip_arg(const struct vmm_net_lease *nl, unsigned index)
{
        return net_tap_ip_arg(&nl->l, index);
}

void vmm_net_detach(struct vmm_net_lease *nl)
{
        if (!nl)
                return;
        berth_error_t err = NULL;
        if (net_tap_detach(&nl->ctx, nl->network, &nl->l, &err) < 0) {
                log_warn("network %s: release the VM's endpoint: %s", nl->network,
                         berth_error_msg(err));
                berth_error_release(&err);
        }
        net_ctx_free(&nl->ctx);
        free(nl->network);
        free(nl);
}
