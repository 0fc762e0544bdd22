/* snapshot.c — full snapshots (snapshot.h): what goes into the state file
 * and in which order, the memory file, and the restore leg of the VM's
 * build.  Each device's own state is in its *_state.c. */
#include "vmm/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "disk/disk.h"
#include "vmm/migrate.h"
#include "vmm/virtio_mmio.h"

#define MACHINE_STATE_VERSION 1
#define CONFIG_STATE_VERSION  1
#define PAGE                  4096u

static double ms_since(const struct timespec *t0)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double) (t.tv_sec - t0->tv_sec) * 1e3 + (double) (t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* The devices in Firecracker's config-file shape (config.c reads it back):
 * the restoring VMM builds the same devices, in the same slots, from it. */
static json_t *config_doc(const struct vmm_config *c)
{
        json_t *doc = json_pack("{s:{s:I,s:I}}", "machine-config", "vcpu_count",
                                (json_int_t) c->cpus, "mem_size_mib", (json_int_t) c->memory_mib);
        json_t *drives = json_array();
        for (unsigned i = 0; i < c->n_disks; i++) {
                const struct vmm_disk_config *d = &c->disks[i];
                char id[16];
                snprintf(id, sizeof(id), "disk%u", i);
                json_t *o = json_pack("{s:s,s:s,s:b,s:b,s:s}", "drive_id", id, "path_on_host",
                                      d->path, "is_read_only", d->readonly, "direct", d->direct,
                                      "io_engine", d->io_uring ? "Async" : "Sync");
                if (d->format == DISK_FORMAT_RAW || d->format == DISK_FORMAT_QCOW2)
                        json_object_set_new(
                                o, "format",
                                json_string(d->format == DISK_FORMAT_RAW ? "raw" : "qcow2"));
                if (d->backing)
                        json_object_set_new(o, "backing", json_string(d->backing));
                json_array_append_new(drives, o);
        }
        json_object_set_new(doc, "drives", drives);
        json_t *nets = json_array();
        for (unsigned i = 0; i < c->n_nets; i++) {
                const struct vmm_net_config *n = &c->nets[i];
                char mac[18], id[VMM_NET_ID_MAX + 1];
                snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", n->mac[0], n->mac[1],
                         n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
                vmm_net_id(n, i, id);
                json_t *o = json_pack("{s:s,s:s}", "iface_id", id, "guest_mac", mac);
                if (n->tap)
                        json_object_set_new(o, "host_dev_name", json_string(n->tap));
                if (n->network)
                        json_object_set_new(o, "network", json_string(n->network));
                json_array_append_new(nets, o);
        }
        json_object_set_new(doc, "network-interfaces", nets);
        if (c->vsock.cid)
                json_object_set_new(doc, "vsock",
                                    json_pack("{s:I,s:s}", "guest_cid", (json_int_t) c->vsock.cid,
                                              "uds_path", c->vsock.uds_path));
        if (c->balloon)
                json_object_set_new(doc, "balloon",
                                    json_pack("{s:I}", "amount_mib", (json_int_t) c->balloon_mib));
        if (c->rng)
                json_object_set_new(doc, "entropy", json_object());
        return doc;
}

/* Guest RAM into path, sparse: pages the guest never wrote stay holes,
 * so an idle guest's memory file costs what it touched. */
static int write_memory(struct vmm_vm *vm, const char *path, berth_error_t *err)
{
        cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return berth_fail(err, errno, "create the memory file `%s`", path);
        const uint8_t *p = vm->mem.map;
        size_t size = vm->mem.map_size;
        static const uint8_t zero[PAGE];
        for (size_t off = 0; off < size;) {
                if (memcmp(p + off, zero, PAGE) == 0) {
                        off += PAGE;
                        continue;
                }
                size_t end = off + PAGE;
                while (end < size && end - off < (64u << 20) && memcmp(p + end, zero, PAGE) != 0)
                        end += PAGE;
                for (size_t o = off; o < end;) {
                        ssize_t w = pwrite(fd, p + o, end - o, (off_t) o);
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w <= 0)
                                return berth_fail(err, w < 0 ? errno : EIO,
                                                  "write the memory file `%s`", path);
                        o += (size_t) w;
                }
                off = end;
        }
        if (ftruncate(fd, (off_t) size) < 0)
                return berth_fail(err, errno, "size the memory file `%s`", path);
        return 0;
}

int vmm_snapshot_state(struct vmm_vm *vm, struct vmm_snap_buf *b, berth_error_t *err)
{
        vmm_snap_buf_init(b);
        json_t *doc = config_doc(vm->cfg);
        char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(doc);
        vmm_snap_section(b, "config", 0, CONFIG_STATE_VERSION);
        vmm_snap_put_bytes(b, text, strlen(text));
        free(text);
        vmm_snap_section(b, "machine", 0, MACHINE_STATE_VERSION);
        vmm_snap_put_u64(b, vm->mem.ram_size);
        vmm_snap_put_u32(b, vm->n_vcpus);
        vmm_snap_put_u32(b, vm->n_virtio);
        vmm_snap_put_u8(b, vm->cfg->no_acpi);
        vmm_serial_save(&vm->serial, b);
        vmm_i8042_save(&vm->i8042, b);
        int ret = 0;
        for (unsigned i = 0; ret == 0 && i < vm->n_virtio; i++)
                ret = virtio_mmio_save(vm->virtio[i], i, b, err);
        if (ret == 0)
                ret = vmm_irqchip_save(vm, b, err);
        for (unsigned i = 0; ret == 0 && i < vm->n_vcpus; i++)
                ret = vmm_vcpu_save(&vm->vcpus[i], b, err);
        if (ret == 0)
                vmm_snap_finish(b);
        else
                vmm_snap_buf_release(b);
        return ret;
}

int vmm_snapshot_create(struct vmm_vm *vm, const char *state_path, const char *mem_path,
                        berth_error_t *err)
{
        if (!atomic_load(&vm->started))
                return berth_fail(err, EINVAL, "the VM is not started");
        if (!atomic_load(&vm->paused))
                return berth_fail(err, EINVAL,
                                  "the VM is running: pause it first (PATCH /vm {\"state\": "
                                  "\"Paused\"})");
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        struct vmm_snap_buf b;
        int ret = vmm_snapshot_state(vm, &b, err);
        if (ret == 0)
                ret = berth_write_file_replace(state_path, b.data, b.len, 0600, err);
        double state_ms = ms_since(&t0);
        if (ret == 0)
                ret = write_memory(vm, mem_path, err);
        if (ret == 0)
                log_info("snapshot: %zu bytes of state in %.2f ms, %llu MiB of memory in %.2f ms",
                         b.len, state_ms, (unsigned long long) (vm->mem.ram_size >> 20),
                         ms_since(&t0) - state_ms);
        vmm_snap_buf_release(&b);
        return ret < 0 ? berth_wrap(err, "snapshot to `%s`", state_path) : 0;
}

void vmm_snapshot_close(struct vmm_vm *vm)
{
        struct vmm_restore *r = vm->restore;
        if (!r)
                return;
        vmm_snap_release(&r->snap);
        free(r->state);
        if (r->mem_fd >= 0)
                close(r->mem_fd);
        free(r);
        vm->restore = NULL;
}

struct machine {
        uint64_t ram_size;
        uint32_t cpus, n_virtio;
        bool no_acpi;
};

static int read_machine(const struct vmm_snap *s, struct machine *m, berth_error_t *err)
{
        const struct vmm_snap_section *sec = vmm_snap_need(s, "machine", 0, err);
        if (!sec || vmm_snap_check_version(sec, MACHINE_STATE_VERSION, err) < 0)
                return -1;
        struct vmm_snap_rd r;
        vmm_snap_rd_init(&r, sec);
        m->ram_size = vmm_snap_get_u64(&r);
        m->cpus = vmm_snap_get_u32(&r);
        m->n_virtio = vmm_snap_get_u32(&r);
        m->no_acpi = vmm_snap_get_bool(&r);
        return vmm_snap_rd_end(&r, err);
}

/* The snapshot's devices onto a copy of the command line's settings
 * (console, log level and API stay this process's). */
static int take_config(struct vmm_vm *vm, const struct vmm_snap *s, const struct machine *m,
                       berth_error_t *err)
{
        const struct vmm_snap_section *sec = vmm_snap_need(s, "config", 0, err);
        if (!sec || vmm_snap_check_version(sec, CONFIG_STATE_VERSION, err) < 0)
                return -1;
        json_error_t je;
        json_t *root = json_loadb((const char *) sec->data, sec->len, JSON_REJECT_DUPLICATES, &je);
        if (!root || !json_is_object(root)) {
                json_decref(root);
                return berth_fail(err, EINVAL, "snapshot's configuration is malformed");
        }
        struct vmm_config c = *vm->base_cfg;
        c.kernel = c.initrd = NULL;
        c.n_disks = c.n_nets = 0;
        c.vsock = (struct vmm_vsock_config){0};
        c.balloon = c.rng = false;
        c.json = root;
        c.no_acpi = m->no_acpi;
        if (vmm_config_apply_json(&c, root, "the snapshot's configuration", err) < 0) {
                json_decref(root);
                return -1;
        }
        if (c.memory_mib << 20 != m->ram_size || c.cpus != m->cpus)
                return json_decref(root),
                       berth_fail(err, EINVAL, "snapshot's configuration contradicts its state");
        vmm_config_release(&vm->api_cfg);
        vm->api_cfg = c;
        return 0;
}

/* The state file's checks and its configuration; r->state holds its bytes. */
static int open_state(struct vmm_restore *r, struct machine *m, berth_error_t *err)
{
        if (vmm_snap_parse(&r->snap, r->state, r->state_len, err) < 0 ||
            read_machine(&r->snap, m, err) < 0)
                return -1;
        if (m->cpus == 0 || m->cpus > VMM_MAX_CPUS || m->n_virtio > VMM_MAX_VIRTIO ||
            m->ram_size == 0 || m->ram_size % (1u << 20))
                return berth_fail(err, EINVAL,
                                  "snapshot's machine (%u vCPUs, %llu bytes) is malformed", m->cpus,
                                  (unsigned long long) m->ram_size);
        return 0;
}

int vmm_snapshot_open_state(struct vmm_vm *vm, uint8_t *state, size_t len, berth_error_t *err)
{
        struct vmm_restore *r = berth_xcalloc(1, sizeof(*r));
        r->mem_fd = -1;
        r->state = state;
        r->state_len = len;
        struct machine m;
        vm->restore = r;
        if (open_state(r, &m, err) < 0 || take_config(vm, &r->snap, &m, err) < 0) {
                vmm_snapshot_close(vm);
                return berth_wrap(err, "load the migrated VM's state");
        }
        if (m.ram_size != vm->mem.ram_size) {
                vmm_snapshot_close(vm);
                return berth_fail(err, EINVAL,
                                  "the migrated state is for %llu MiB of RAM, the stream "
                                  "brought %llu MiB",
                                  (unsigned long long) (m.ram_size >> 20),
                                  (unsigned long long) (vm->mem.ram_size >> 20));
        }
        return 0;
}

int vmm_snapshot_open(struct vmm_vm *vm, const char *state_path, const char *mem_path,
                      berth_error_t *err)
{
        struct vmm_restore *r = berth_xcalloc(1, sizeof(*r));
        r->mem_fd = -1;
        char *data = NULL;
        struct machine m;
        struct stat st;
        if (berth_read_file_at(AT_FDCWD, state_path, VMM_SNAP_MAX_FILE, &data, &r->state_len, err) <
            0)
                goto fail;
        r->state = (uint8_t *) data;
        if (open_state(r, &m, err) < 0)
                goto fail;
        r->mem_fd = open(mem_path, O_RDONLY | O_CLOEXEC);
        if (r->mem_fd < 0) {
                berth_fail(err, errno, "open the memory file `%s`", mem_path);
                goto fail;
        }
        if (fstat(r->mem_fd, &st) < 0) {
                berth_fail(err, errno, "stat the memory file `%s`", mem_path);
                goto fail;
        }
        if (!S_ISREG(st.st_mode)) {
                berth_fail(err, EINVAL, "memory file `%s` is not a regular file", mem_path);
                goto fail;
        }
        if ((uint64_t) st.st_size != m.ram_size) {
                berth_fail(err, EINVAL,
                           "memory file `%s` holds %llu MiB, the snapshot's VM has %llu MiB: "
                           "made for another memory size",
                           mem_path, (unsigned long long) (st.st_size >> 20),
                           (unsigned long long) (m.ram_size >> 20));
                goto fail;
        }
        if (take_config(vm, &r->snap, &m, err) < 0)
                goto fail;
        vm->restore = r;
        return 0;
fail:
        vm->restore = r;
        vmm_snapshot_close(vm);
        return berth_wrap(err, "load snapshot `%s`", state_path);
}

int vmm_snapshot_map_memory(struct vmm_vm *vm, berth_error_t *err)
{
        struct vmm_mem *mem = &vm->mem;
        size_t size = vm->cfg->memory_mib << 20;
        memset(mem, 0, sizeof(*mem));
        /* Private: the guest's writes never reach the file, and pages come
         * in as the guest touches them, so resume does not wait for RAM. */
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE,
                       vm->restore->mem_fd, 0);
        if (p == MAP_FAILED)
                return berth_fail(err, errno, "map the memory file");
        (void) madvise(p, size, MADV_DONTDUMP);
        mem->map = p;
        mem->map_size = size;
        vmm_mem_layout(mem, size);
        return 0;
}

int vmm_snapshot_restore(struct vmm_vm *vm, berth_error_t *err)
{
        const struct vmm_snap *s = &vm->restore->snap;
        struct machine m;
        if (read_machine(s, &m, err) < 0)
                return -1;
        if (m.n_virtio != vm->n_virtio)
                return berth_fail(err, EINVAL,
                                  "snapshot has %u virtio devices, its configuration made %u",
                                  m.n_virtio, vm->n_virtio);
        if (!vm->cfg->no_acpi && vmm_ged_init(vm, err) < 0)
                return -1;
        for (unsigned i = 0; i < vm->n_vcpus; i++)
                if (vmm_vcpu_create(vm, i, err) < 0)
                        return berth_wrap(err, "create vCPU %u", i);
        if (vmm_irqchip_load(vm, s, err) < 0)
                return -1;
        for (unsigned i = 0; i < vm->n_vcpus; i++)
                if (vmm_vcpu_load(&vm->vcpus[i], s, err) < 0)
                        return -1;
        if (vmm_serial_load(&vm->serial, s, err) < 0 || vmm_i8042_load(&vm->i8042, s, err) < 0)
                return -1;
        for (unsigned i = 0; i < vm->n_virtio; i++)
                if (virtio_mmio_load(vm->virtio[i], i, s, err) < 0)
                        return -1;
        for (unsigned i = 0; i < vm->n_virtio; i++)
                virtio_mmio_kick_restored(vm->virtio[i]);
        log_info("restored %u vCPU(s), %llu MiB, %u virtio device(s) from the snapshot",
                 vm->n_vcpus, (unsigned long long) vm->cfg->memory_mib, vm->n_virtio);
        return 0;
}
