/* api.c — berth-vmm's REST API on a unix socket while the VM runs, in
 * Firecracker's shape (docs/vmm-api.yaml is the description):
 *
 *   GET   /                     instance info and state
 *   GET   /machine-config       vCPUs and memory
 *   PATCH /vm                   {"state": "Paused" | "Resumed"}
 *   GET   /balloon              target and actual size
 *   PATCH /balloon              {"amount_mib": N}: new target
 *   GET   /balloon/statistics   the guest's memory statistics
 *   GET   /metrics              VM exits by reason, device counters
 *   PATCH /network-interfaces/{iface_id}
 *                               {"rx_rate_limiter": L, "tx_rate_limiter": L}: new limits
 *                                 (before start too: merged into the PUT's body)
 *   PUT   /actions              {"action_type": "InstanceStart" | "SendCtrlAltDel" |
 *                                  "SendPowerButton"}
 *                                 (Ctrl+Alt+Del's scan codes on the i8042, IRQ 1; the
 *                                 ACPI power button through the GED, ged.c)
 *   PUT   /snapshot/create      {"snapshot_path": P, "mem_file_path": P} on a paused VM
 *   PUT   /snapshot/load        {"snapshot_path": P, "mem_backend": {...}, "resume_vm": B}
 *                                 in a VMM not started yet (snapshot_api.c)
 *   PATCH /drives/{drive_id}    {"path_on_host": F, "backing": B}: the running drive goes on
 *                                 in F, a file of the same size (an overlay on its old one)
 *   PUT   /migrate              {"destination": "tcp:H:P"|"unix:P"|"fd", "max_downtime_ms": N,
 *                                  "bandwidth_mib": N, "auto_converge": B}: live migration
 *                                 (migrate_send.c); answered when it ends, with its figures;
 *                                 after a success the VMM exits (status 14)
 *   GET   /migrate              the last migration's state and figures
 *   PATCH /migrate              {"start_postcopy": true}: a running pre-copy switches to post-copy
 *
 * Before InstanceStart (berth-vmm --api-sock without --kernel) these PUTs
 * configure the VM; the body is the matching section of a --config file
 * and config.c checks it:
 *
 *   PUT   /machine-config, /boot-source, /vsock, /balloon
 *   PUT   /drives/{drive_id}, /network-interfaces/{iface_id}
 *
 * HTTP/1.1 through libmicrohttpd (the same server as berth's Engine API),
 * driven from the VM's main loop without blocking it.  Requests are
 * untrusted: sizes and connections are capped, JSON is validated.
 */
#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "vmm/migrate.h"
#include "vmm/snapshot.h"
#include "vmm/virtio_blk.h"
#include "vmm/virtio_mmio.h"
#include "vmm/vm.h"

#define API_MAX_REQUEST (16 * 1024)
#define API_MAX_CLIENTS VMM_API_MAX_CLIENTS

/* A client connection, in the order of its last activity (oldest first):
 * when all slots are taken, a new client drops the oldest, so a few
 * clients that connect and stay silent cannot lock the operator out. */
struct api_conn {
        struct api_conn *prev, *next;
        struct MHD_Connection *c;
};

struct vmm_api {
        struct vmm_vm *vm;
        int listen_fd;
        char *path;
        struct MHD_Daemon *d;
        int epoll_fd; /* libmicrohttpd's, watched by the VM's loop */
        int timer_fd; /* wakes the loop for libmicrohttpd's idle timeouts */
        struct api_conn *oldest, *newest;
        unsigned n_conns;
};

static void conn_unlink(struct vmm_api *api, struct api_conn *k)
{
        *(k->prev ? &k->prev->next : &api->oldest) = k->next;
        *(k->next ? &k->next->prev : &api->newest) = k->prev;
        k->prev = k->next = NULL;
}

static void conn_append(struct vmm_api *api, struct api_conn *k)
{
        k->prev = api->newest;
        k->next = NULL;
        *(api->newest ? &api->newest->next : &api->oldest) = k;
        api->newest = k;
}

/* The client did something: it becomes the most recent. */
static void conn_touch(struct vmm_api *api, struct MHD_Connection *conn)
{
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        struct api_conn *k = ci ? ci->socket_context : NULL;
        if (k && k != api->newest) {
                conn_unlink(api, k);
                conn_append(api, k);
        }
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
        struct vmm_api *api = cls;
        if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
                struct api_conn *k = *socket_context;
                if (k) {
                        conn_unlink(api, k);
                        api->n_conns--;
                        free(k);
                }
                *socket_context = NULL;
                return;
        }
        struct api_conn *k = berth_xcalloc(1, sizeof(*k));
        k->c = conn;
        *socket_context = k;
        conn_append(api, k);
        if (++api->n_conns <= API_MAX_CLIENTS)
                return;
        /* Over the limit: the least recently active client goes (its socket
         * shut down; libmicrohttpd then closes it on its next pass). */
        struct api_conn *old = api->oldest;
        const union MHD_ConnectionInfo *ci =
                MHD_get_connection_info(old->c, MHD_CONNECTION_INFO_CONNECTION_FD);
        log_info("api: %u clients: dropping the least recently active one", api->n_conns);
        if (ci)
                shutdown(ci->connect_fd, SHUT_RDWR);
        conn_unlink(api, old);
        conn_append(api, old); /* not picked twice before it is gone */
}

struct api_reply {
        int code;
        json_t *body; /* owned; NULL for 204 */
};

/* A 4xx reply with {"fault_message": msg}; takes msg (from berth_xasprintf). */
static struct api_reply fault_msg(int code, char *msg)
{
        struct api_reply r = {code, json_pack("{s:s}", "fault_message", msg)};
        free(msg);
        return r;
}
#define fault(code, ...) fault_msg(code, berth_xasprintf(__VA_ARGS__))

static const char *exit_name(unsigned r)
{
        switch (r) {
        case KVM_EXIT_IO:
                return "io";
        case KVM_EXIT_MMIO:
                return "mmio";
        case KVM_EXIT_HLT:
                return "hlt";
        case KVM_EXIT_SHUTDOWN:
                return "shutdown";
        case KVM_EXIT_INTR:
                return "intr";
        case KVM_EXIT_SYSTEM_EVENT:
                return "system_event";
        case KVM_EXIT_INTERNAL_ERROR:
                return "internal_error";
        case KVM_EXIT_FAIL_ENTRY:
                return "fail_entry";
        default:
                return NULL;
        }
}

static void put_metric(void *ctx, const char *name, uint64_t value)
{
        json_object_set_new(ctx, name, json_integer((json_int_t) value));
}

/* One object per virtio device: its kind, where it is, its counters. */
static json_t *device_metrics(struct vmm_vm *vm)
{
        json_t *a = json_array();
        for (unsigned i = 0; i < vm->n_virtio; i++) {
                struct virtio_mmio_dev *t = vm->virtio[i];
                char base[24];
                snprintf(base, sizeof(base), "%#llx", (unsigned long long) t->base);
                json_t *o = json_pack("{s:s,s:s,s:i}", "device", t->ops->name, "base", base, "irq",
                                      (int) t->irq);
                pthread_mutex_lock(&t->lock);
                json_object_set_new(o, "status", json_integer(t->s.status));
                if (t->ops->metrics)
                        t->ops->metrics(t->dev, put_metric, o);
                pthread_mutex_unlock(&t->lock);
                json_array_append_new(a, o);
        }
        return a;
}

static struct api_reply get_metrics(struct vmm_vm *vm)
{
        json_t *exits = json_object();
        uint64_t total = 0;
        for (unsigned r = 0; r < 64; r++) {
                uint64_t n = atomic_load(&vm->exits[r]);
                total += n;
                if (!n)
                        continue;
                const char *name = exit_name(r);
                char other[32];
                if (!name) {
                        snprintf(other, sizeof(other), "reason_%u", r);
                        name = other;
                }
                json_object_set_new(exits, name, json_integer((json_int_t) n));
        }
        json_object_set_new(exits, "total", json_integer((json_int_t) total));
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        double up = (double) (now.tv_sec - vm->t_start.tv_sec) * 1e3 +
                    (double) (now.tv_nsec - vm->t_start.tv_nsec) / 1e6;
        return (struct api_reply){200, json_pack("{s:o,s:I,s:I,s:I,s:o}", "vm_exits", exits,
                                                 "uptime_ms", (json_int_t) up, "unclaimed_pio",
                                                 (json_int_t) vm->pio.unclaimed, "unclaimed_mmio",
                                                 (json_int_t) vm->mmio.unclaimed, "devices",
                                                 device_metrics(vm))};
}

static struct api_reply balloon_stats(struct vmm_vm *vm)
{
        static const char *names[VMM_BALLOON_NSTATS] = {
                "swap_in",          "swap_out",    "major_faults",
                "minor_faults",     "free_memory", "total_memory",
                "available_memory", "disk_caches", "hugetlb_allocations",
                "hugetlb_failures"};
        uint64_t target, actual;
        struct vmm_balloon_stats st;
        berth_error_t err = NULL;
        if (vmm_balloon_get(vm, &target, &actual, &st, &err) < 0) {
                struct api_reply r = fault(400, "%s", berth_error_msg(err));
                berth_error_release(&err);
                return r;
        }
        json_t *o = json_pack("{s:I,s:I}", "target_mib", (json_int_t) target, "actual_mib",
                              (json_int_t) actual);
        for (unsigned i = 0; i < VMM_BALLOON_NSTATS; i++)
                if (st.valid & (1u << i))
                        json_object_set_new(o, names[i], json_integer((json_int_t) st.value[i]));
        return (struct api_reply){200, o};
}

static struct api_reply patch_balloon(struct vmm_vm *vm, json_t *body)
{
        json_int_t mib;
        json_error_t je;
        if (!body || json_unpack_ex(body, &je, JSON_STRICT, "{s:I}", "amount_mib", &mib) < 0 ||
            mib < 0)
                return fault(400, "want {\"amount_mib\": N} with N >= 0");
        berth_error_t err = NULL;
        if (vmm_balloon_set_target(vm, (uint64_t) mib, &err) < 0) {
                struct api_reply r = fault(400, "%s", berth_error_msg(err));
                berth_error_release(&err);
                return r;
        }
        return (struct api_reply){204, NULL};
}

static struct api_reply patch_vm(struct vmm_vm *vm, json_t *body)
{
        const char *state;
        json_error_t je;
        if (!body || json_unpack_ex(body, &je, JSON_STRICT, "{s:s}", "state", &state) < 0)
                return fault(400, "want {\"state\": \"Paused\" | \"Resumed\"}");
        if (strcmp(state, "Paused") == 0)
                vmm_vm_pause(vm, true);
        else if (strcmp(state, "Resumed") == 0)
                vmm_vm_pause(vm, false);
        else
                return fault(400, "unknown state `%s`", state);
        return (struct api_reply){204, NULL};
}

static struct api_reply fault_err(berth_error_t *err)
{
        struct api_reply r = fault(400, "%s", berth_error_msg(*err));
        berth_error_release(err);
        return r;
}

/* An id from the URL: it ends up in messages and the config document. */
static bool valid_id(const char *id)
{
        if (id == NULL)
                return false;
        size_t n = strlen(id);
        if (n == 0 || n > 64)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) id[i]) && id[i] != '_' && id[i] != '-')
                        return false;
        return true;
}

/* Put body into doc[section]; with id_key, as the element of the array
 * doc[section] whose id_key is id (replaced if there, appended if not). */
static struct api_reply doc_put(json_t *doc, const char *section, const char *id_key,
                                const char *id, json_t *body)
{
        json_t *item = json_deep_copy(body);
        if (!id_key) {
                json_object_set_new(doc, section, item);
                return (struct api_reply){204, NULL};
        }
        json_t *given = json_object_get(item, id_key);
        if (given && (!json_is_string(given) || strcmp(json_string_value(given), id) != 0)) {
                json_decref(item);
                return fault(400, "%s in the body differs from the path's `%s`", id_key, id);
        }
        json_object_set_new(item, id_key, json_string(id));
        json_t *a = json_object_get(doc, section);
        if (!a) {
                a = json_array();
                json_object_set_new(doc, section, a);
        }
        size_t i;
        json_t *e;
        json_array_foreach(a, i, e)
        {
                if (json_equal(json_object_get(e, id_key), json_object_get(item, id_key))) {
                        json_array_set_new(a, i, item);
                        return (struct api_reply){204, NULL};
                }
        }
        json_array_append_new(a, item);
        return (struct api_reply){204, NULL};
}

/* A configuration PUT before InstanceStart: the document of all PUTs so
 * far plus this one is applied afresh to the command line's config, so a
 * rejected request changes nothing. */
static struct api_reply put_config(struct vmm_vm *vm, const char *path, const char *section,
                                   const char *id_key, const char *id, json_t *body)
{
        if (atomic_load(&vm->started))
                return fault(400, "%s can only be set before InstanceStart", path);
        if (!json_is_object(body))
                return fault(400, "%s: want a JSON object", path);
        if (id_key && !valid_id(id))
                return fault(400, "%s: bad %s (1-64 letters, digits, `_` or `-`)", path, id_key);
        json_t *doc = vm->api_cfg.json ? json_deep_copy(vm->api_cfg.json) : json_object();
        struct api_reply r = doc_put(doc, section, id_key, id, body);
        if (r.code != 204) {
                json_decref(doc);
                return r;
        }
        struct vmm_config c = *vm->base_cfg;
        c.json = doc;
        berth_error_t err = NULL;
        cleanup_free char *where = berth_xasprintf("PUT %s", path);
        if (vmm_config_apply_json(&c, doc, where, &err) < 0) {
                json_decref(doc);
                return fault_err(&err);
        }
        json_t *old = vm->api_cfg.json;
        vm->api_cfg = c;
        json_decref(old);
        return r;
}

/* PATCH /network-interfaces/{id}: Firecracker's way to change an
 * interface's rate limiters.  Before start the body is merged into the
 * interface's PUT body; after, the device takes the new limits at once. */
/* PATCH /drives/{id} {"path_on_host": FILE, "backing": ALLOWED}: before the
 * start, a change to the drive's configuration; on a running VM, the drive
 * goes on in FILE (same size: an overlay made on its file, berth vm's
 * --disk-only snapshots; virtio_blk_switch), which later snapshots name. */
static struct api_reply patch_drive(struct vmm_vm *vm, const char *path, const char *id,
                                    json_t *body)
{
        const char *given = NULL, *file = NULL, *backing = NULL;
        json_error_t je;
        if (!body || json_unpack_ex(body, &je, JSON_STRICT, "{s?s,s:s,s?s}", "drive_id", &given,
                                    "path_on_host", &file, "backing", &backing) < 0)
                return fault(400, "%s: want {\"path_on_host\": FILE, \"backing\": ALLOWED}", path);
        if (given && strcmp(given, id) != 0)
                return fault(400, "drive_id in the body differs from the path's `%s`", id);
        if (!atomic_load(&vm->started))
                return fault(400, "%s: before the start, PUT the drive whole", path);
        if (vmm_migrate_active(vm))
                return fault(409, "%s: a migration is in progress", path);
        unsigned i = 0;
        for (; i < vm->cfg->n_disks; i++) {
                char did[16];
                snprintf(did, sizeof(did), "disk%u", i);
                const char *d = vm->cfg->disks[i].id ? vm->cfg->disks[i].id : did;
                if (strcmp(d, id) == 0)
                        break;
        }
        struct virtio_blk *b = i < vm->cfg->n_disks ? virtio_blk_of_drive(vm, i) : NULL;
        if (!b)
                return fault(404, "%s: no such drive", path);
        berth_error_t err = NULL;
        if (virtio_blk_switch(b, file, backing, &err) < 0) {
                struct api_reply r = fault(400, "%s: %s", path, berth_error_msg(err));
                berth_error_release(&err);
                return r;
        }
        free(vm->drive_path[i]);
        free(vm->drive_backing[i]);
        vm->drive_path[i] = berth_xstrdup(file);
        vm->drive_backing[i] = backing ? berth_xstrdup(backing) : NULL;
        vm->api_cfg.disks[i].path = vm->drive_path[i];
        vm->api_cfg.disks[i].backing = vm->drive_backing[i];
        vm->api_cfg.disks[i].format = DISK_FORMAT_AUTO;
        vm->api_cfg.disks[i].io_uring = false;
        log_info("drive %s: now on `%s`", id, file);
        return (struct api_reply){204, NULL};
}

static struct api_reply patch_net(struct vmm_vm *vm, const char *path, const char *id, json_t *body)
{
        json_t *rx = NULL, *tx = NULL;
        const char *given = NULL;
        json_error_t je;
        if (!body || json_unpack_ex(body, &je, JSON_STRICT, "{s?s,s?o,s?o}", "iface_id", &given,
                                    "rx_rate_limiter", &rx, "tx_rate_limiter", &tx) < 0)
                return fault(400, "%s: want {\"rx_rate_limiter\": ..., \"tx_rate_limiter\": ...}",
                             path);
        if (given && strcmp(given, id) != 0)
                return fault(400, "iface_id in the body differs from the path's `%s`", id);
        if (!atomic_load(&vm->started)) {
                json_t *a = vm->api_cfg.json
                                    ? json_object_get(vm->api_cfg.json, "network-interfaces")
                                    : NULL;
                size_t i;
                json_t *e, *found = NULL;
                json_array_foreach(a, i, e)
                {
                        const char *eid = json_string_value(json_object_get(e, "iface_id"));
                        if (eid && strcmp(eid, id) == 0)
                                found = e;
                }
                if (!found)
                        return fault(400, "%s: no such interface; PUT it first", path);
                json_t *merged = json_deep_copy(found);
                json_object_update(merged, body);
                struct api_reply r =
                        put_config(vm, path, "network-interfaces", "iface_id", id, merged);
                json_decref(merged);
                return r;
        }
        bool known = false;
        for (unsigned i = 0; i < vm->cfg->n_nets; i++) {
                char nid[VMM_NET_ID_MAX + 1];
                vmm_net_id(&vm->cfg->nets[i], i, nid);
                known = known || strcmp(nid, id) == 0;
        }
        if (!known)
                return fault(404, "%s: no such interface", path);
        struct vmm_limit_config lrx, ltx;
        berth_error_t err = NULL;
        if (vmm_config_limiter(rx, &lrx, &err) < 0 || vmm_config_limiter(tx, &ltx, &err) < 0 ||
            vmm_net_set_limits(vm, id, rx ? &lrx : NULL, tx ? &ltx : NULL, &err) < 0) {
                struct api_reply r = fault(400, "%s: %s", path, berth_error_msg(err));
                berth_error_release(&err);
                return r;
        }
        return (struct api_reply){204, NULL};
}

static struct api_reply instance_start(struct vmm_vm *vm)
{
        const struct vmm_config *c = vm->cfg;
        if (!c->kernel)
                return fault(400, "no kernel: PUT /boot-source first");
        berth_error_t err = NULL;
        if (vmm_config_validate(c, &err) < 0)
                return fault_err(&err);
        for (unsigned i = 0; i < c->n_disks; i++)
                if (access(c->disks[i].path, c->disks[i].readonly ? R_OK : R_OK | W_OK) < 0)
                        return fault(400, "drive `%s`: %s", c->disks[i].path, strerror(errno));
        if (vmm_vm_boot(vm, &err) < 0) {
                /* Half-built: the VMM cannot go back to waiting. */
                int status = err && err->status ? err->status : VMM_EXIT_ERROR;
                log_error("InstanceStart: %s", berth_error_msg(err));
                vmm_vm_stop(vm, status);
                return fault_err(&err);
        }
        log_info("VM started through the API");
        return (struct api_reply){204, NULL};
}

static struct api_reply put_actions(struct vmm_vm *vm, json_t *body)
{
        const char *action;
        json_error_t je;
        if (!body || json_unpack_ex(body, &je, JSON_STRICT, "{s:s}", "action_type", &action) < 0)
                return fault(400, "want {\"action_type\": \"InstanceStart\" | "
                                  "\"SendCtrlAltDel\" | \"SendPowerButton\"}");
        bool started = atomic_load(&vm->started);
        if (strcmp(action, "InstanceStart") == 0)
                return started ? fault(400, "the VM is already started") : instance_start(vm);
        if ((strcmp(action, "SendCtrlAltDel") == 0 || strcmp(action, "SendPowerButton") == 0) &&
            !started)
                return fault(400, "%s: the VM is not started yet", action);
        if (strcmp(action, "SendPowerButton") == 0) {
                berth_error_t err = NULL;
                if (vmm_ged_power_button(vm, &err) < 0)
                        return fault_err(&err);
                return (struct api_reply){204, NULL};
        }
        if (strcmp(action, "SendCtrlAltDel") == 0) {
                if (vmm_i8042_ctrl_alt_del(&vm->i8042) < 0)
                        return fault(400, "SendCtrlAltDel: the keyboard's output buffer is full "
                                          "(the guest is not reading it)");
                return (struct api_reply){204, NULL};
        }
        return fault(400, "unknown action_type `%s`", action);
}

static struct api_reply route(struct vmm_api *api, const char *method, const char *path,
                              json_t *body)
{
        struct vmm_vm *vm = api->vm;
        bool get = strcmp(method, "GET") == 0, patch = strcmp(method, "PATCH") == 0,
             put = strcmp(method, "PUT") == 0, started = atomic_load(&vm->started);
        if (strcmp(path, "/") == 0 && get)
                return (struct api_reply){200,
                                          json_pack("{s:s,s:s,s:s}", "id", "berth-vmm", "state",
                                                    !started                   ? "Not started"
                                                    : atomic_load(&vm->paused) ? "Paused"
                                                                               : "Running",
                                                    "vmm_version", BERTH_VERSION)};
        if (strcmp(path, "/machine-config") == 0 && get)
                return (struct api_reply){
                        200, json_pack("{s:i,s:I,s:b}", "vcpu_count", (int) vm->cfg->cpus,
                                       "mem_size_mib", (json_int_t) vm->cfg->memory_mib,
                                       "track_dirty_pages", vm->cfg->track_dirty)};
        /* A migration owns the VM's run state until it ends; an incoming one builds it. */
        if (vmm_migrate_active(vm) &&
            ((strcmp(path, "/vm") == 0 && patch) || berth_str_has_prefix(path, "/snapshot/")))
                return fault(409, "%s %s: a migration is in progress", method, path);
        if (vm->cfg->migrate_incoming && !started && (put || patch))
                return fault(400, "%s %s: this VMM waits for an incoming migration", method, path);
        if (strcmp(path, "/actions") == 0 && put)
                return put_actions(vm, body);
        static const char *sections[] = {"/machine-config", "/boot-source", "/vsock"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(sections); i++)
                if (strcmp(path, sections[i]) == 0 && put)
                        return put_config(vm, path, path + 1, NULL, NULL, body);
        if (put && strcmp(path, "/balloon") == 0 && !started)
                return put_config(vm, path, "balloon", NULL, NULL, body);
        if (put && berth_str_has_prefix(path, "/drives/"))
                return put_config(vm, path, "drives", "drive_id", path + 8, body);
        if (put && berth_str_has_prefix(path, "/network-interfaces/"))
                return put_config(vm, path, "network-interfaces", "iface_id", path + 20, body);
        if (patch && berth_str_has_prefix(path, "/network-interfaces/"))
                return patch_net(vm, path, path + 20, body);
        if (patch && berth_str_has_prefix(path, "/drives/"))
                return patch_drive(vm, path, path + 8, body);
        if (!started && (strcmp(path, "/vm") == 0 || berth_str_has_prefix(path, "/balloon")))
                return fault(400,
                             "%s %s: the VM is not started yet (PUT /actions "
                             "{\"action_type\": \"InstanceStart\"})",
                             method, path);
        if (strcmp(path, "/vm") == 0 && patch)
                return patch_vm(vm, body);
        if (strcmp(path, "/balloon") == 0 && patch)
                return patch_balloon(vm, body);
        if (strcmp(path, "/balloon") == 0 && strcmp(method, "PUT") == 0)
                return fault(400, "the balloon is configured at start (--balloon); use PATCH "
                                  "to change its target");
        if (strcmp(path, "/balloon") == 0 && get) {
                struct api_reply r = balloon_stats(vm);
                if (r.code == 200) {
                        json_t *o = json_pack("{s:O,s:O}", "amount_mib",
                                              json_object_get(r.body, "target_mib"), "actual_mib",
                                              json_object_get(r.body, "actual_mib"));
                        json_decref(r.body);
                        r.body = o;
                }
                return r;
        }
        if (strcmp(path, "/balloon/statistics") == 0 && get)
                return balloon_stats(vm);
        if (strcmp(path, "/migrate") == 0 && get)
                return (struct api_reply){200, vmm_migrate_status(vm)};
        if (strcmp(path, "/migrate") == 0 && patch) {
                berth_error_t err = NULL;
                if (vmm_migrate_start_postcopy(vm, body, &err) < 0)
                        return fault_err(&err);
                return (struct api_reply){204, NULL};
        }
        if (put && (strcmp(path, "/snapshot/create") == 0 || strcmp(path, "/snapshot/load") == 0)) {
                berth_error_t err = NULL;
                int r = path[10] == 'c' ? vmm_snapshot_api_create(vm, body, &err)
                                        : vmm_snapshot_api_load(vm, body, &err);
                return r < 0 ? fault_err(&err) : (struct api_reply){204, NULL};
        }
        if (strcmp(path, "/metrics") == 0 && get)
                return get_metrics(vm);
        static const char *known[] = {
                "/",        "/machine-config",     "/vm",           "/actions",
                "/balloon", "/balloon/statistics", "/metrics",      "/boot-source",
                "/vsock",   "/snapshot/create",    "/snapshot/load"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(known); i++)
                if (strcmp(path, known[i]) == 0 || strcmp(path, "/migrate") == 0)
                        return fault(405, "%s is not allowed on %s", method, path);
        return fault(404, "no such resource: %s", path);
}

/* One request's state between libmicrohttpd's calls: its body, capped. */
struct api_req {
        char *buf;
        size_t len;
        bool too_large;
        bool migrating;  /* a PUT /migrate, suspended until the migration ends */
        bool stop_after; /* it succeeded: the VMM goes once the answer is out */
};

static enum MHD_Result respond(struct MHD_Connection *conn, struct api_reply r)
{
        char *body = r.body ? json_dumps(r.body, JSON_COMPACT) : NULL;
        json_decref(r.body);
        struct MHD_Response *resp = MHD_create_response_from_buffer(body ? strlen(body) : 0, body,
                                                                    body ? MHD_RESPMEM_MUST_FREE
                                                                         : MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(resp, "Content-Type", "application/json");
        enum MHD_Result ret = MHD_queue_response(conn, (unsigned) r.code, resp);
        MHD_destroy_response(resp);
        return ret;
}

static void on_ready(void *opaque);

/* The end of a PUT /migrate: its figures; a success stops the VMM once sent. */
static enum MHD_Result respond_migrated(struct vmm_api *api, struct api_req *q,
                                        struct MHD_Connection *conn)
{
        json_t *st = vmm_migrate_status(api->vm);
        const char *state = json_string_value(json_object_get(st, "state"));
        bool ok = state && strcmp(state, "completed") == 0;
        if (!ok) {
                json_t *e = json_object_get(st, "error");
                json_object_set_new(st, "fault_message",
                                    e ? json_incref(e)
                                      : json_string("the migration did not complete"));
        }
        q->migrating = false;
        q->stop_after = ok;
        return respond(conn, (struct api_reply){ok ? 200 : 400, st});
}

void vmm_api_migrate_done(struct vmm_vm *vm, void *conn)
{
        struct vmm_api *api = vm->api;
        if (!api || !conn)
                return;
        MHD_resume_connection(conn);
        on_ready(api);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
        (void) version;
        struct vmm_api *api = cls;
        struct api_req *q = *con_cls;
        conn_touch(api, conn);
        if (!q) {
                *con_cls = berth_xcalloc(1, sizeof(*q));
                return MHD_YES;
        }
        if (*upload_size) {
                if (q->len + *upload_size > API_MAX_REQUEST)
                        q->too_large = true;
                if (!q->too_large) {
                        q->buf = berth_xrealloc(q->buf, q->len + *upload_size);
                        memcpy(q->buf + q->len, upload_data, *upload_size);
                        q->len += *upload_size;
                }
                *upload_size = 0;
                return MHD_YES;
        }
        if (q->too_large)
                return respond(conn, fault(413, "request too large"));
        if (q->migrating) /* resumed by vmm_api_migrate_done */
                return respond_migrated(api, q, conn);
        json_t *body = NULL;
        if (q->len) {
                json_error_t je;
                body = json_loadb(q->buf, q->len, 0, &je);
                if (!body)
                        return respond(conn, fault(400, "invalid JSON: %s", je.text));
        }
        log_debug("api: %s %s", method, url);
        if (strcmp(url, "/migrate") == 0 && strcmp(method, "PUT") == 0) {
                berth_error_t err = NULL;
                if (vmm_migrate_start(api->vm, body, conn, &err) < 0) {
                        json_decref(body);
                        return respond(conn, fault_err(&err));
                }
                json_decref(body);
                q->migrating = true;
                MHD_suspend_connection(conn);
                return MHD_YES;
        }
        enum MHD_Result ret = respond(conn, route(api, method, url, body));
        json_decref(body);
        return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
        struct vmm_api *api = cls;
        (void) conn;
        (void) toe;
        struct api_req *q = *con_cls;
        if (q && q->stop_after) {
                log_info("migrated: the VMM exits");
                vmm_vm_stop(api->vm, VMM_EXIT_MIGRATED);
        }
        if (q) {
                free(q->buf);
                free(q);
        }
        *con_cls = NULL;
}

__attribute__((format(printf, 2, 0))) static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
        (void) cls;
        char buf[256];
        vsnprintf(buf, sizeof(buf), fmt, ap);
        buf[strcspn(buf, "\n")] = '\0';
        log_debug("api: %s", buf);
}

/* The server's epoll fd is one more fd on the VM's loop: requests are handled on the loop's
 * thread, as the device and VM state they touch expect, and never block it.  MHD_run is
 * repeated while libmicrohttpd says work is pending (a reply still to write). */
static void on_ready(void *opaque)
{
        struct vmm_api *api = opaque;
        MHD_UNSIGNED_LONG_LONG t = 0;
        bool have_t = false;
        for (int i = 0; i < 16; i++) {
                MHD_run(api->d);
                have_t = MHD_get_timeout(api->d, &t) == MHD_YES;
                if (!have_t || t != 0)
                        break;
        }
        /* An idle client makes no event: without the timer nothing would
         * run libmicrohttpd when its timeout expires, and the client would
         * keep its slot for good. */
        struct itimerspec its = {0};
        if (have_t) {
                if (t == 0)
                        t = 1;
                its.it_value.tv_sec = (time_t) (t / 1000);
                its.it_value.tv_nsec = (long) (t % 1000) * 1000000L;
        }
        if (timerfd_settime(api->timer_fd, 0, &its, NULL) < 0)
                log_debug("api: timerfd_settime: %s", strerror(errno));
}

static void on_timer(void *opaque)
{
        struct vmm_api *api = opaque;
        uint64_t n;
        (void) !read(api->timer_fd, &n, sizeof(n));
        on_ready(api);
}

int vmm_api_start(struct vmm_vm *vm, const char *path, berth_error_t *err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(sa.sun_path))
                return berth_fail_status(err, VMM_EXIT_USAGE, ENAMETOOLONG, "API socket path `%s`",
                                         path);
        strcpy(sa.sun_path, path);
        struct stat st;
        if (lstat(path, &st) == 0)
                return berth_fail_status(err, VMM_EXIT_USAGE, EEXIST,
                                         "API socket `%s` (remove it, or pick another path)", path);
        struct vmm_api *api = berth_xcalloc(1, sizeof(*api));
        api->vm = vm;
        api->listen_fd = -1;
        api->timer_fd = -1;
        vm->api = api;
        api->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (api->listen_fd < 0 || bind(api->listen_fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return berth_fail(err, errno, "bind API socket `%s`", path);
        api->path = berth_xstrdup(path);
        if (listen(api->listen_fd, 8) < 0)
                return berth_fail(err, errno, "listen on `%s`", path);
        /* suspend/resume: PUT /migrate is answered when the migration ends */
        unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
        api->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, api, MHD_OPTION_LISTEN_SOCKET,
                                  api->listen_fd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, api,
                                  MHD_OPTION_NOTIFY_CONNECTION, on_connection, api,
                                  /* on_connection keeps the clients to API_MAX_CLIENTS;
                                   * libmicrohttpd's own limit is only a backstop (at
                                   * its limit it stops accepting, which would let
                                   * silent clients lock the operator out) */
                                  MHD_OPTION_CONNECTION_LIMIT, (unsigned) API_MAX_CLIENTS * 4,
                                  MHD_OPTION_CONNECTION_TIMEOUT,
                                  vm->cfg->api_timeout_s ? vm->cfg->api_timeout_s
                                                         : VMM_API_TIMEOUT_S,
                                  MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, api, MHD_OPTION_END);
        if (!api->d)
                return berth_fail(err, EINVAL, "start the API's HTTP server on `%s`", path);
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(api->d, MHD_DAEMON_INFO_EPOLL_FD);
        if (!di)
                return berth_fail(err, EINVAL, "the API's HTTP server has no epoll fd");
        api->epoll_fd = di->epoll_fd;
        api->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
        if (api->timer_fd < 0)
                return berth_fail(err, errno, "the API's timer");
        if (vmm_vm_watch_fd(vm, api->timer_fd, on_timer, api, err) < 0)
                return -1;
        return vmm_vm_watch_fd(vm, api->epoll_fd, on_ready, api, err);
}

void vmm_api_stop(struct vmm_vm *vm)
{
        struct vmm_api *api = vm->api;
        if (!api)
                return;
        if (api->d) {
                vmm_vm_unwatch_fd(vm, api->epoll_fd);
                MHD_stop_daemon(api->d);
        }
        if (api->listen_fd >= 0)
                close(api->listen_fd);
        if (api->timer_fd >= 0) {
                vmm_vm_unwatch_fd(vm, api->timer_fd);
                close(api->timer_fd);
        }
        if (api->path)
                unlink(api->path); /* no leftover socket */
        free(api->path);
        free(api);
        vm->api = NULL;
}
