/* config.c — berth-vmm's JSON configuration file (--config FILE), in the
 * shape of Firecracker's --config-file so the same files mostly work:
 *
 *   {"boot-source": {"kernel_image_path": P, "boot_args": S, "initrd_path": P},
 *    "machine-config": {"vcpu_count": N, "mem_size_mib": N},
 *    "drives": [{"drive_id": S, "path_on_host": P, "is_read_only": B,
 *                "is_root_device": B, "format": "raw" | "qcow2", "direct": B,
 *                "rate_limiter": L, "io_engine": "Sync" | "Async" (io_uring),
 *                "backing": "PATH[:PATH]..." (berth's: backing files allowed)}],
 *    "network-interfaces": [{"iface_id": S, "host_dev_name": S, "guest_mac": S,
 *                            "rx_rate_limiter": L, "tx_rate_limiter": L,
 *                            "network": S (berth's: a berth network the tap joins;
 *                                         host_dev_name is then optional)}],
 *    "vsock": {"guest_cid": N, "uds_path": P},
 *    "balloon": {"amount_mib": N, "deflate_on_oom": B, "stats_polling_interval_s": N},
 *    "entropy": {}}
 *
 * where a rate limiter L is {"bandwidth": T, "ops": T}, each token bucket T
 * {"size": N, "refill_time": MS, "one_time_burst": N} (bytes or operations;
 * a size or refill_time of 0 means no limit, as in Firecracker).
 *
 * Unknown keys are errors (a typo must not be silently ignored).  The file
 * is applied where --config appears on the command line: later flags
 * override or add to it.
 */
#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "common/util.h"
#include "disk/disk.h"
#include "vmm/boot.h"
#include "vmm/vmm.h"

/* `where` says whose document it is: "config `FILE`" or the API request. */
static int bad(berth_error_t *err, const char *where, const char *section, const char *why)
{
        return berth_fail_status(err, VMM_EXIT_USAGE, EINVAL, "%s: %s: %s", where, section, why);
}

/* Strings point into the parsed document, which the config keeps. */
static int boot_source(struct vmm_config *c, json_t *o, const char *path, berth_error_t *err)
{
        const char *kernel = NULL, *args = NULL, *initrd = NULL;
        json_error_t je;
        if (json_unpack_ex(o, &je, JSON_STRICT, "{s:s,s?s,s?s}", "kernel_image_path", &kernel,
                           "boot_args", &args, "initrd_path", &initrd) < 0)
                return bad(err, path, "boot-source", je.text);
        c->kernel = kernel;
        if (args)
                c->cmdline = args;
        if (initrd)
                c->initrd = initrd;
        return 0;
}

static int machine(struct vmm_config *c, json_t *o, const char *path, berth_error_t *err)
{
        json_int_t cpus = c->cpus, mem = (json_int_t) c->memory_mib;
        int smt = 0, track = c->track_dirty;
        const char *huge = NULL;
        json_error_t je;
        if (json_unpack_ex(o, &je, JSON_STRICT, "{s?I,s?I,s?b,s?s,s?b}", "vcpu_count", &cpus,
                           "mem_size_mib", &mem, "smt", &smt, "huge_pages", &huge,
                           "track_dirty_pages", &track) < 0)
                return bad(err, path, "machine-config", je.text);
        /* Firecracker's names: "None" or "2M" */
        if (huge && strcmp(huge, "None") != 0 && strcmp(huge, "2M") != 0)
                return bad(err, path, "machine-config", "huge_pages must be None or 2M");
        if (huge)
                c->huge_pages = strcmp(huge, "2M") == 0;
        if (cpus < 1 || cpus > VMM_MAX_CPUS)
                return bad(err, path, "machine-config", "vcpu_count must be 1 to 32");
        if (mem < (json_int_t) (BOOT_MIN_MEMORY >> 20) || mem > (1 << 30))
                return bad(err, path, "machine-config", "mem_size_mib must be at least 4");
        c->cpus = (unsigned) cpus;
        c->memory_mib = (uint64_t) mem;
        c->track_dirty = track;
        return 0;
}

static int bucket(json_t *o, struct vmm_bucket_config *b, const char *why_where, berth_error_t *err)
{
        json_int_t size = 0, refill = 0, once = 0;
        json_error_t je;
        *b = (struct vmm_bucket_config){0};
        if (!o || json_is_null(o))
                return 0;
        if (json_unpack_ex(o, &je, JSON_STRICT, "{s:I,s:I,s?I}", "size", &size, "refill_time",
                           &refill, "one_time_burst", &once) < 0)
                return berth_fail(err, EINVAL, "%s: %s", why_where, je.text);
        if (size < 0 || refill < 0 || once < 0 || refill > 1000 * 1000 * 1000)
                return berth_fail(err, EINVAL, "%s: want non-negative numbers", why_where);
        b->size = (uint64_t) size;
        b->refill_ns = (uint64_t) refill * 1000000ull;
        b->one_time_burst = (uint64_t) once;
        return 0;
}

int vmm_config_limiter(json_t *o, struct vmm_limit_config *l, berth_error_t *err)
{
        json_t *bw = NULL, *ops = NULL;
        json_error_t je;
        *l = (struct vmm_limit_config){0};
        if (!o || json_is_null(o))
                return 0;
        if (json_unpack_ex(o, &je, JSON_STRICT, "{s?o,s?o}", "bandwidth", &bw, "ops", &ops) < 0)
                return berth_fail(err, EINVAL, "%s", je.text);
        if (bucket(bw, &l->bandwidth, "bandwidth", err) < 0 || bucket(ops, &l->ops, "ops", err) < 0)
                return -1;
        return 0;
}

static int limiter(json_t *o, struct vmm_limit_config *l, const char *path, const char *section,
                   const char *key, berth_error_t *err)
{
        if (vmm_config_limiter(o, l, err) < 0) {
                cleanup_free char *why = berth_xasprintf("%s: %s", key, berth_error_msg(*err));
                berth_error_release(err);
                return bad(err, path, section, why);
        }
        return 0;
}

static int drives(struct vmm_config *c, json_t *a, const char *path, berth_error_t *err)
{
        if (!json_is_array(a))
                return bad(err, path, "drives", "want an array");
        size_t i;
        json_t *d;
        json_array_foreach(a, i, d)
        {
                const char *id = NULL, *file = NULL, *fmt = NULL;
                const char *engine = NULL, *backing = NULL;
                int ro = 0, root = 0, direct = 0;
                json_t *rl = NULL;
                json_error_t je;
                /* "backing" is berth's: the --disk option's backing= (disk.h's policy). */
                if (json_unpack_ex(d, &je, JSON_STRICT, "{s?s,s:s,s?b,s?b,s?s,s?b,s?o,s?s,s?s}",
                                   "drive_id", &id, "path_on_host", &file, "is_read_only", &ro,
                                   "is_root_device", &root, "format", &fmt, "direct", &direct,
                                   "rate_limiter", &rl, "io_engine", &engine, "backing",
                                   &backing) < 0)
                        return bad(err, path, "drives", je.text);
                if (engine && strcmp(engine, "Sync") != 0 && strcmp(engine, "Async") != 0)
                        return bad(err, path, "drives", "io_engine must be Sync or Async");
                if (c->n_disks >= VMM_MAX_DISKS)
                        return bad(err, path, "drives", "too many drives");
                struct vmm_disk_config *dc = &c->disks[c->n_disks++];
                if (limiter(rl, &dc->limit, path, "drives", "rate_limiter", err) < 0)
                        return -1;
                dc->id = id;
                dc->path = file;
                dc->backing = backing;
                dc->readonly = ro;
                dc->direct = direct;
                dc->io_uring = engine && strcmp(engine, "Async") == 0;
                dc->format = DISK_FORMAT_AUTO;
                if (fmt && strcmp(fmt, "raw") == 0)
                        dc->format = DISK_FORMAT_RAW;
                else if (fmt && strcmp(fmt, "qcow2") == 0)
                        dc->format = DISK_FORMAT_QCOW2;
                else if (fmt)
                        return bad(err, path, "drives", "format must be raw or qcow2");
        }
        return 0;
}

static int nets(struct vmm_config *c, json_t *a, const char *path, berth_error_t *err)
{
        if (!json_is_array(a))
                return bad(err, path, "network-interfaces", "want an array");
        size_t i;
        json_t *n;
        json_array_foreach(a, i, n)
        {
                const char *id = NULL, *tap = NULL, *mac = NULL, *network = NULL;
                json_t *rx = NULL, *tx = NULL;
                json_error_t je;
                if (json_unpack_ex(n, &je, JSON_STRICT, "{s?s,s?s,s?s,s?o,s?o,s?s}", "iface_id",
                                   &id, "host_dev_name", &tap, "guest_mac", &mac, "rx_rate_limiter",
                                   &rx, "tx_rate_limiter", &tx, "network", &network) < 0)
                        return bad(err, path, "network-interfaces", je.text);
                if (!tap && !network)
                        return bad(err, path, "network-interfaces",
                                   "host_dev_name or network is required");
                if ((tap && !*tap) || (network && !*network))
                        return bad(err, path, "network-interfaces",
                                   "host_dev_name and network must not be empty");
                if (c->n_nets >= VMM_MAX_NETS)
                        return bad(err, path, "network-interfaces", "too many interfaces");
                struct vmm_net_config *nc = &c->nets[c->n_nets++];
                nc->tap = tap;
                nc->id = id;
                nc->network = network;
                if (limiter(rx, &nc->rx, path, "network-interfaces", "rx_rate_limiter", err) < 0 ||
                    limiter(tx, &nc->tx, path, "network-interfaces", "tx_rate_limiter", err) < 0)
                        return -1;
                if (!mac)
                        vmm_net_random_mac(nc->mac);
                else if (vmm_net_parse_mac(mac, nc->mac) < 0)
                        return bad(err, path, "network-interfaces", "bad guest_mac");
        }
        return 0;
}

static int vsock(struct vmm_config *c, json_t *o, const char *path, berth_error_t *err)
{
        json_int_t cid;
        const char *uds, *id = NULL;
        json_error_t je;
        if (json_unpack_ex(o, &je, JSON_STRICT, "{s?s,s:I,s:s}", "vsock_id", &id, "guest_cid", &cid,
                           "uds_path", &uds) < 0)
                return bad(err, path, "vsock", je.text);
        if (cid < 3 || cid >= UINT32_MAX)
                return bad(err, path, "vsock", "guest_cid must be 3 or more");
        c->vsock.cid = (uint64_t) cid;
        c->vsock.uds_path = uds;
        return 0;
}

static int balloon(struct vmm_config *c, json_t *o, const char *path, berth_error_t *err)
{
        json_int_t mib, interval = 0;
        int oom = 0;
        json_error_t je;
        if (json_unpack_ex(o, &je, JSON_STRICT, "{s:I,s?b,s?I}", "amount_mib", &mib,
                           "deflate_on_oom", &oom, "stats_polling_interval_s", &interval) < 0)
                return bad(err, path, "balloon", je.text);
        if (mib < 0)
                return bad(err, path, "balloon", "amount_mib must not be negative");
        if (oom)
                return bad(err, path, "balloon", "deflate_on_oom is not supported yet");
        c->balloon = true;
        c->balloon_mib = (uint64_t) mib;
        return 0;
}

int vmm_config_apply_json(struct vmm_config *c, json_t *root, const char *path, berth_error_t *err)
{
        if (!json_is_object(root))
                return bad(err, path, "top level", "want an object");
        const char *key;
        json_t *v;
        json_object_foreach(root, key, v)
        {
                int r;
                if (strcmp(key, "boot-source") == 0)
                        r = boot_source(c, v, path, err);
                else if (strcmp(key, "machine-config") == 0)
                        r = machine(c, v, path, err);
                else if (strcmp(key, "drives") == 0)
                        r = drives(c, v, path, err);
                else if (strcmp(key, "network-interfaces") == 0)
                        r = nets(c, v, path, err);
                else if (strcmp(key, "vsock") == 0)
                        r = vsock(c, v, path, err);
                else if (strcmp(key, "balloon") == 0)
                        r = balloon(c, v, path, err);
                else if (strcmp(key, "entropy") == 0)
                        r = json_is_object(v) ? (c->rng = true, 0)
                                              : bad(err, path, "entropy", "want an object");
                else
                        r = bad(err, path, key, "unknown section");
                if (r < 0)
                        return -1;
        }
        return 0;
}

int vmm_config_load_json(struct vmm_config *c, const char *path, berth_error_t *err)
{
        json_error_t je;
        json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
        if (!root)
                return berth_fail_status(err, VMM_EXIT_USAGE, EINVAL, "config `%s`: line %d: %s",
                                         path, je.line, je.text);
        /* The document stays alive as long as the config: strings point in. */
        json_decref(c->json);
        c->json = root;
        cleanup_free char *where = berth_xasprintf("config `%s`", path);
        return vmm_config_apply_json(c, root, where, err);
}

void vmm_config_release(struct vmm_config *c)
{
        json_decref(c->json);
        c->json = NULL;
}
