/* test_net_network.c — network records (src/net/network.c) on a temporary state root: create,
 * get, list, remove, prune, and what the sandbox reads of a record.  Nothing touches the
 * kernel: net_bridge_down is this file's own, counting its calls. */
#include <errno.h>
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "net/network.h"
#include "net/sandbox.h"
#include "tap.h"

static int bridge_down_calls;
static char bridge_down_last[65];

/* The sandbox's, replaced: removal must call it, and tests must not touch the kernel. */
int net_bridge_down(struct net_ctx *n, json_t *doc, berth_error_t *err)
{
        bridge_down_calls++;
        snprintf(bridge_down_last, sizeof(bridge_down_last), "%s",
                 json_string_value(json_object_get(doc, "Id")));
        return 0;
}

static char errbuf[512];

/* "" on success, else "STATUS: message". */
static const char *create(struct net_ctx *n, const struct net_create_opts *o, json_t **doc)
{
        berth_error_t err = NULL;
        if (net_network_create(n, o, doc, &err) == 0)
                return "";
        snprintf(errbuf, sizeof(errbuf), "%d: %s", err->status, berth_error_msg(err));
        berth_error_release(&err);
        return errbuf;
}

static const char *remove_(struct net_ctx *n, const char *name)
{
        berth_error_t err = NULL;
        if (net_network_remove(n, name, &err) == 0)
                return "";
        snprintf(errbuf, sizeof(errbuf), "%d: %s", err->status, berth_error_msg(err));
        berth_error_release(&err);
        return errbuf;
}

static const char *path_of(json_t *doc, const char *a, const char *b, size_t i, const char *c)
{
        json_t *v = json_object_get(doc, a);
        if (b)
                v = json_object_get(v, b);
        if (c)
                v = json_object_get(json_array_get(v, i), c);
        return json_string_value(v);
}

static bool file_exists(const char *dir, const char *id, const char *suffix)
{
        char *p = berth_xasprintf("%s/%s%s", dir, id, suffix);
        bool r = access(p, F_OK) == 0;
        free(p);
        return r;
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
        return remove(p);
}

static void test_list_and_default(struct net_ctx *n)
{
        json_t *arr = NULL;
        berth_error_t err = NULL;
        ok(net_network_list(n, &arr, &err) == 0, "list on an empty state root");
        is_int(json_array_size(arr), 3, "bridge, host and none");
        is_str(path_of(json_array_get(arr, 0), "Name", NULL, 0, NULL), "bridge", "sorted: bridge");
        is_str(path_of(json_array_get(arr, 1), "Name", NULL, 0, NULL), "host", "sorted: host");
        is_str(path_of(json_array_get(arr, 2), "Name", NULL, 0, NULL), "none", "sorted: none");
        json_t *br = json_array_get(arr, 0);
        is_str(path_of(br, "Driver", NULL, 0, NULL), "bridge", "bridge's driver");
        is_str(path_of(br, "Options", "com.docker.network.bridge.name", 0, NULL), "berth0",
               "bridge's device");
        is_str(path_of(br, "Options", "com.docker.network.bridge.default_bridge", 0, NULL), "true",
               "bridge is the default");
        is_str(path_of(br, "Options", "com.docker.network.driver.mtu", 0, NULL), "1500",
               "bridge's mtu");
        const char *sn = path_of(br, "IPAM", "Config", 0, "Subnet");
        ok(sn && (strncmp(sn, "172.", 4) == 0 || strncmp(sn, "192.168.", 8) == 0),
           "bridge's subnet is from Docker's pools");
        ok(json_is_object(json_object_get(br, "Containers")), "Containers is an object");
        const char *created = path_of(br, "Created", NULL, 0, NULL);
        ok(created && strlen(created) >= 20 && created[4] == '-' && created[10] == 'T',
           "Created is RFC 3339");
        json_t *host = json_array_get(arr, 1), *none = json_array_get(arr, 2);
        is_str(path_of(host, "Driver", NULL, 0, NULL), "host", "host's driver");
        is_str(path_of(none, "Driver", NULL, 0, NULL), "null", "none's driver");
        is_str(path_of(host, "Id", NULL, 0, NULL),
               "4740ae6347b0172c01254ff55bae5aff5199f4446e7f6d643d40185b3f475145",
               "host's id is stable");
        is_int(json_array_size(json_object_get(json_object_get(none, "IPAM"), "Config")), 0,
               "none has no IPAM config");
        /* a second look sees the same bridge */
        json_t *again = NULL;
        ok(net_network_get(n, "bridge", &again, &err) == 0, "get bridge");
        is_str(path_of(again, "Id", NULL, 0, NULL), path_of(br, "Id", NULL, 0, NULL),
               "bridge is made once");
        json_decref(again);
        json_decref(arr);
}

static void test_create(struct net_ctx *n)
{
        json_t *d = NULL, *br = NULL;
        berth_error_t err = NULL;
        net_network_get(n, "bridge", &br, &err);
        struct net_create_opts o = {.name = "n1"};
        is_str(create(n, &o, &d), "", "create n1");
        const char *id = path_of(d, "Id", NULL, 0, NULL);
        ok(id && strlen(id) == 64 && strspn(id, "0123456789abcdef") == 64, "a 64-hex id");
        char want[32];
        snprintf(want, sizeof(want), "br-%.12s", id);
        is_str(path_of(d, "Options", "com.docker.network.bridge.name", 0, NULL), want,
               "device br-<12 hex>");
        ok(file_exists(n->data_dir, id, ".json"), "the record is on disk");
        const char *sn = path_of(d, "IPAM", "Config", 0, "Subnet");
        ok(sn && net_cidr_overlap(sn, path_of(br, "IPAM", "Config", 0, "Subnet")) == 0,
           "n1's pool is not bridge's");
        is_str(path_of(d, "Scope", NULL, 0, NULL), "local", "scope local");
        is_str(path_of(d, "IPAM", "Driver", 0, NULL), "default", "IPAM driver");
        ok(json_is_object(json_object_get(json_object_get(d, "IPAM"), "Options")),
           "IPAM options {} as the CLI sends them");
        ok(json_is_false(json_object_get(d, "Internal")) &&
                   json_is_false(json_object_get(d, "EnableIPv6")),
           "not internal, no IPv6");
        json_decref(d);
        json_decref(br);

        is_str(create(n, &o, NULL), "1: network with name n1 already exists", "duplicate name");

        json_t *labels = json_pack("{s:s}", "a", "b");
        struct net_create_opts o2 = {.name = "n2",
                                     .subnet = "10.99.0.0/16",
                                     .gateway = "10.99.0.254",
                                     .ip_range = "10.99.1.0/24",
                                     .internal = true,
                                     .labels = labels};
        is_str(create(n, &o2, &d), "", "create n2 with subnet, gateway, range");
        json_decref(labels);
        is_str(path_of(d, "IPAM", "Config", 0, "Subnet"), "10.99.0.0/16", "n2's subnet");
        is_str(path_of(d, "IPAM", "Config", 0, "Gateway"), "10.99.0.254", "n2's gateway");
        is_str(path_of(d, "IPAM", "Config", 0, "IPRange"), "10.99.1.0/24", "n2's range");
        is_str(path_of(d, "Labels", "a", 0, NULL), "b", "n2's label");
        struct net_info info;
        net_network_info(d, &info);
        is_str(info.subnet4, "10.99.0.0/16", "info: subnet");
        is_str(info.gateway4, "10.99.0.254", "info: gateway");
        is_str(info.range4, "10.99.1.0/24", "info: range");
        ok(info.internal && info.dns && !info.ipv6 && info.subnet6 == NULL, "info: flags");
        ok(info.bridge && strncmp(info.bridge, "br-", 3) == 0, "info: bridge");
        json_decref(d);

        struct net_create_opts o3 = {.name = "n3", .subnet = "10.99.5.0/24"};
        is_str(create(n, &o3, NULL), "1: Pool overlaps with other one on this address space",
               "a subnet inside another network's");
        o3.subnet = "10.0.0.0/8";
        is_str(create(n, &o3, NULL), "1: Pool overlaps with other one on this address space",
               "a subnet around another network's");
        o3.subnet = "10.98.0.0/16";
        o3.gateway = "10.97.0.1";
        is_str(create(n, &o3, NULL), "1: no matching subnet for gateway 10.97.0.1",
               "a gateway outside the subnet");
        o3.gateway = NULL;
        o3.ip_range = "10.97.0.0/24";
        is_str(create(n, &o3, NULL), "1: no matching subnet for range 10.97.0.0/24",
               "a range outside the subnet");
        o3.ip_range = "10.98.0.0/15";
        is_str(create(n, &o3, NULL), "1: no matching subnet for range 10.98.0.0/15",
               "a range wider than the subnet");
        o3.ip_range = NULL;
        o3.subnet = "10.98.1.0/16";
        is_str(create(n, &o3, NULL), "1: invalid subnet 10.98.1.0/16: it should be 10.98.0.0/16",
               "host bits in the subnet");
        o3.subnet = "10.98.0.0";
        is_str(create(n, &o3, NULL),
               "1: Invalid subnet 10.98.0.0 : invalid CIDR address: 10.98.0.0", "no prefix length");
        o3.subnet = NULL;
        o3.gateway = "10.98.0.1";
        is_str(create(n, &o3, NULL),
               "1: every ip-range or gateway must have a corresponding subnet",
               "a gateway without a subnet");
        struct net_create_opts bad = {.name = "bad name"};
        ok(strstr(create(n, &bad, NULL), "1: invalid name \"bad name\"") != NULL, "a bad name");
        bad.name = "-x";
        ok(strstr(create(n, &bad, NULL), "invalid name") != NULL, "a name starting with -");
        bad.name = "bridge";
        is_str(create(n, &bad, NULL), "1: operation is not permitted on predefined bridge network",
               "bridge is taken");
        bad.name = "none";
        ok(strstr(create(n, &bad, NULL), "predefined none network") != NULL, "none is taken");
        bad.name = "ok";
        bad.driver = "overlay";
        is_str(create(n, &bad, NULL), "1: plugin \"overlay\" not found", "unknown driver");
        bad.driver = "host";
        is_str(create(n, &bad, NULL), "1: only one instance of \"host\" network is allowed",
               "a second host network");

        json_t *opts = json_pack("{s:s, s:s}", "com.docker.network.bridge.name", "mybr0",
                                 "com.docker.network.driver.mtu", "1400");
        struct net_create_opts o4 = {.name = "n4", .options = opts, .ipv6 = true};
        is_str(create(n, &o4, &d), "", "create n4 with a bridge name, an mtu and IPv6");
        net_network_info(d, &info);
        is_str(info.bridge, "mybr0", "the bridge name given");
        is_int(info.mtu, 1400, "the mtu given");
        ok(info.ipv6 && info.subnet6 && strncmp(info.subnet6, "fd", 2) == 0 &&
                   strstr(info.subnet6, "/64") != NULL,
           "IPv6 without a subnet: a ULA /64");
        ok(info.gateway6 && strstr(info.gateway6, "::1") != NULL, "IPv6 gateway ::1");
        json_decref(d);
        o4.name = "n5";
        o4.ipv6 = false;
        ok(strstr(create(n, &o4, NULL), "networks have same bridge name") != NULL,
           "a bridge name in use");
        json_object_set_new(opts, "com.docker.network.bridge.name",
                            json_string("much-too-long-name"));
        ok(strstr(create(n, &o4, NULL), "invalid bridge name") != NULL, "a bridge name too long");
        json_object_set_new(opts, "com.docker.network.bridge.name", json_string("okbr"));
        json_object_set_new(opts, "com.docker.network.driver.mtu", json_string("big"));
        is_str(create(n, &o4, NULL), "1: invalid MTU number: big", "a bad mtu");
        json_decref(opts);

        struct net_create_opts o6 = {.name = "n6", .ipv6 = true, .subnet6 = "fd00:beef::/64"};
        is_str(create(n, &o6, &d), "", "create n6 with an IPv6 subnet");
        is_str(path_of(d, "IPAM", "Config", 1, "Subnet"), "fd00:beef::/64", "n6's IPv6 subnet");
        is_str(path_of(d, "IPAM", "Config", 1, "Gateway"), "fd00:beef::1", "n6's IPv6 gateway");
        json_decref(d);
        o6.name = "n7";
        o6.subnet6 = "fd00:beef::/48";
        is_str(create(n, &o6, NULL), "1: Pool overlaps with other one on this address space",
               "IPv6 overlap");
}

static void test_get(struct net_ctx *n)
{
        json_t *d = NULL, *d2 = NULL;
        berth_error_t err = NULL;
        ok(net_network_get(n, "n1", &d, &err) == 0, "get by name");
        const char *id = path_of(d, "Id", NULL, 0, NULL);
        ok(net_network_get(n, id, &d2, &err) == 0, "get by full id");
        is_str(path_of(d2, "Name", NULL, 0, NULL), "n1", "… is n1");
        json_decref(d2);
        char prefix[13];
        snprintf(prefix, sizeof(prefix), "%.12s", id);
        ok(net_network_get(n, prefix, &d2, &err) == 0, "get by id prefix");
        is_str(path_of(d2, "Name", NULL, 0, NULL), "n1", "… is n1");
        json_decref(d2);
        json_decref(d);
        ok(net_network_get(n, "host", &d, &err) == 0, "get host");
        is_str(path_of(d, "Driver", NULL, 0, NULL), "host", "host's driver");
        json_decref(d);
        ok(net_network_get(n, "nosuch", &d, &err) < 0 && err && err->status == 1,
           "get nosuch: status 1");
        is_str(berth_error_msg(err), "network nosuch not found", "get nosuch: Docker's message");
        berth_error_release(&err);
        ok(net_network_get(n, "", &d, &err) < 0, "get \"\" fails");
        berth_error_release(&err);
        json_t *arr = NULL;
        net_network_list(n, &arr, &err);
        is_int(json_array_size(arr), 3 + 4, "list: the three and n1 n2 n4 n6");
        json_decref(arr);
}

static void test_remove(struct net_ctx *n)
{
        is_str(remove_(n, "bridge"), "1: bridge is a pre-defined network and cannot be removed",
               "bridge can't go");
        is_str(remove_(n, "host"), "1: host is a pre-defined network and cannot be removed",
               "host can't go");
        is_str(remove_(n, "nosuch"), "1: network nosuch not found", "remove nosuch");
        json_t *d = NULL;
        berth_error_t err = NULL;
        net_network_get(n, "n2", &d, &err);
        const char *id = path_of(d, "Id", NULL, 0, NULL);
        /* an attached container: an endpoint file in the live directory */
        char *rdir = net_network_run_dir(n, id);
        char *eps = berth_path_join(rdir, "endpoints");
        char *ep = berth_path_join(eps, "c0ffee");
        berth_mkdir_p(eps, 0700, NULL);
        FILE *f = fopen(ep, "w");
        fclose(f);
        ok(net_network_in_use(n, id), "in use with an endpoint");
        char want[256];
        snprintf(want, sizeof(want),
                 "1: error while removing network: network n2 id %s has active endpoints", id);
        is_str(remove_(n, "n2"), want, "in use: refused");
        is_int(bridge_down_calls, 0, "… before its bridge is touched");
        unlink(ep);
        ok(!net_network_in_use(n, id), "not in use without endpoints");
        is_str(remove_(n, "n2"), "", "remove n2");
        is_int(bridge_down_calls, 1, "the bridge went down");
        is_str(bridge_down_last, id, "… n2's");
        ok(!file_exists(n->data_dir, id, ".json"), "the record is gone");
        ok(access(rdir, F_OK) < 0 && errno == ENOENT, "the live directory is gone");
        is_str(remove_(n, "n2"), "1: network n2 not found", "removed twice");
        free(ep);
        free(eps);
        free(rdir);
        json_decref(d);
}

static void test_prune(struct net_ctx *n)
{
        json_t *la = json_pack("{s:s}", "keep", "no");
        struct net_create_opts p1 = {.name = "p1", .labels = la};
        is_str(create(n, &p1, NULL), "", "create p1 (labelled)");
        json_decref(la);
        json_t *d = NULL;
        berth_error_t err = NULL;
        net_network_get(n, "n1", &d, &err);
        char *rdir = net_network_run_dir(n, path_of(d, "Id", NULL, 0, NULL));
        char *eps = berth_path_join(rdir, "endpoints");
        char *ep = berth_path_join(eps, "c0ffee");
        berth_mkdir_p(eps, 0700, NULL);
        fclose(fopen(ep, "w"));
        json_decref(d);

        json_t *filters = json_pack("[s]", "label=keep=no"), *removed = NULL;
        ok(net_network_prune(n, filters, &removed, &err) == 0, "prune label=keep=no");
        is_int(json_array_size(removed), 1, "one removed");
        is_str(json_string_value(json_array_get(removed, 0)), "p1", "… p1");
        json_decref(removed);
        json_decref(filters);

        filters = json_pack("[s]", "until=2000-01-01T00:00:00Z");
        ok(net_network_prune(n, filters, &removed, &err) == 0, "prune until=2000");
        is_int(json_array_size(removed), 0, "nothing that old");
        json_decref(removed);
        json_decref(filters);

        filters = json_pack("[s]", "dangling=true");
        ok(net_network_prune(n, filters, &removed, &err) < 0 && err && err->status == 1,
           "prune: an unknown filter is refused");
        berth_error_release(&err);
        json_decref(filters);

        int calls = bridge_down_calls;
        ok(net_network_prune(n, NULL, &removed, &err) == 0, "prune everything");
        is_int(json_array_size(removed), 2, "two removed");
        is_str(json_string_value(json_array_get(removed, 0)), "n4", "… n4");
        is_str(json_string_value(json_array_get(removed, 1)), "n6", "… n6 (n1 is in use)");
        is_int(bridge_down_calls, calls + 2, "their bridges went down");
        json_decref(removed);
        json_t *arr = NULL;
        net_network_list(n, &arr, &err);
        is_int(json_array_size(arr), 4, "left: bridge host n1 none");
        is_str(path_of(json_array_get(arr, 2), "Name", NULL, 0, NULL), "n1", "n1 is left");
        json_decref(arr);
        free(ep);
        free(eps);
        free(rdir);
}

int main(void)
{
        char tmpl[] = "/tmp/berth-test-net.XXXXXX";
        char *top = mkdtemp(tmpl);
        if (top == NULL) {
                perror("mkdtemp");
                return 1;
        }
        struct berth_paths p = {.run_dir = berth_path_join(top, "run"),
                                .data_dir = berth_path_join(top, "data")};
        struct net_ctx n;
        berth_error_t err = NULL;
        ok(net_ctx_init(&n, &p, &err) == 0, "context");
        test_list_and_default(&n);
        test_create(&n);
        test_get(&n);
        test_remove(&n);
        test_prune(&n);
        net_ctx_free(&n);
        free(p.run_dir);
        free(p.data_dir);
        nftw(top, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
        return tap_done();
}
