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
        if (c->track_dirty) /* a restore tracks on, for the next Diff */
                json_object_set_new(json_object_get(doc, "machine-config"), "track_dirty_pages",
                                    json_true());
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
                if (berth_pwrite_all(fd, p + off, end - off, (off_t) off) < 0)
                        return berth_fail(err, errno, "write the memory file `%s`", path);
                off = end;
        }
        if (ftruncate(fd, (off_t) size) < 0)
                return berth_fail(err, errno, "size the memory file `%s`", path);
        return 0;
}

/* Bytes of data (not holes) in fd's first size bytes. */
static long long data_bytes(int fd, off_t size)
{
        long long n = 0;
        off_t start, end = 0;
        int r;
        while ((r = berth_next_data(fd, end, size, &start, &end)) > 0)
                n += end - start;
        return r < 0 ? -1 : n;
}

/* A Diff snapshot's memory, Firecracker's shape: a file of guest RAM's size
 * holding the dirty pages at their offsets and holes elsewhere, zero pages
 * included (they were written).  A restore lays its data over the base's
 * memory, so a filesystem that loses holes, or makes them of written zeros,
 * or allocates blocks larger than a page, would corrupt it: checked here,
 * where the snapshot can still be refused. */
static int write_diff(struct vmm_vm *vm, const char *path, const uint64_t *bits, size_t *pages,
                      berth_error_t *err)
{
        cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return berth_fail(err, errno, "create the memory file `%s`", path);
        const uint8_t *p = vm->mem.map;
        size_t n = vm->mem.map_size / PAGE;
        *pages = 0;
        for (size_t i = 0; i < n;) {
                if (!(bits[i / 64] >> (i % 64) & 1)) {
                        i++;
                        continue;
                }
                size_t end = i + 1;
                while (end < n && end - i < 16384 && bits[end / 64] >> (end % 64) & 1)
                        end++;
                if (berth_pwrite_all(fd, p + i * PAGE, (end - i) * PAGE, (off_t) (i * PAGE)) < 0)
                        return berth_fail(err, errno, "write the memory file `%s`", path);
                *pages += end - i;
                i = end;
        }
        if (ftruncate(fd, (off_t) vm->mem.map_size) < 0)
                return berth_fail(err, errno, "size the memory file `%s`", path);
        if (fsync(fd) < 0) /* extents settle: what SEEK_DATA reports is final */
                return berth_fail(err, errno, "sync the memory file `%s`", path);
        long long data = data_bytes(fd, (off_t) vm->mem.map_size);
        if (data != (long long) *pages * PAGE)
                return berth_fail(err, ENOTSUP,
                                  "the filesystem of `%s` does not keep a sparse file as "
                                  "written (%lld bytes of data for %zu dirty pages): a Diff "
                                  "snapshot needs one that does (ext4, xfs, btrfs, tmpfs)",
                                  path, data, *pages);
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

int vmm_snapshot_create(struct vmm_vm *vm, const char *state_path, const char *mem_path, bool diff,
                        berth_error_t *err)
{
        if (!atomic_load(&vm->started))
                return berth_fail(err, EINVAL, "the VM is not started");
        if (!atomic_load(&vm->paused))
                return berth_fail(err, EINVAL,
                                  "the VM is running: pause it first (PATCH /vm {\"state\": "
                                  "\"Paused\"})");
        if (diff && !vm->track)
                return berth_fail(err, EINVAL,
                                  "a Diff snapshot needs dirty page tracking: start the VM with "
                                  "\"track_dirty_pages\": true (--track-dirty-pages)");
        if (diff && !vm->track_base)
                return berth_fail(err, EINVAL,
                                  "a Diff snapshot needs a base: take a Full snapshot first (or "
                                  "restore one)");
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        /* Paused: no page changes between the dirty log's reading and the
         * memory's writing.  A Diff that fails gives its pages back. */
        cleanup_free uint64_t *bits =
                vm->track ? berth_xcalloc(vm->track->words + 1, sizeof(uint64_t)) : NULL;
        int ret = bits ? vmm_track_take(vm, bits, err) : 0;
        bool taken = ret == 0 && bits;
        struct vmm_snap_buf b = {0};
        if (ret == 0)
                ret = vmm_snapshot_state(vm, &b, err);
        if (ret == 0)
                ret = berth_write_file_replace(state_path, b.data, b.len, 0600, err);
        double state_ms = ms_since(&t0);
        size_t pages = vm->mem.map_size / PAGE;
        if (ret == 0)
                ret = diff ? write_diff(vm, mem_path, bits, &pages, err)
                           : write_memory(vm, mem_path, err);
        if (ret == 0)
                log_info("snapshot: %zu bytes of state in %.2f ms, %zu KiB of memory (%s) in "
                         "%.2f ms",
                         b.len, state_ms, pages * (PAGE >> 10), diff ? "Diff" : "Full",
                         ms_since(&t0) - state_ms);
        if (ret == 0)
                vm->track_base = true;
        else if (taken) /* the next snapshot still owes them */
                vmm_track_return(vm, bits);
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
        for (unsigned i = 0; i < r->n_diffs; i++)
                close(r->diff_fds[i]);
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

/* A memory file, open and checked: a regular file of the snapshot's RAM size. */
static int open_mem(const char *path, uint64_t ram_size, berth_error_t *err)
{
        cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0)
                return berth_fail(err, errno, "open the memory file `%s`", path);
        if (fstat(fd, &st) < 0)
                return berth_fail(err, errno, "stat the memory file `%s`", path);
        if (!S_ISREG(st.st_mode))
                return berth_fail(err, EINVAL, "memory file `%s` is not a regular file", path);
        if ((uint64_t) st.st_size != ram_size)
                return berth_fail(err, EINVAL,
                                  "memory file `%s` holds %llu MiB, the snapshot's VM has %llu "
                                  "MiB: made for another memory size",
                                  path, (unsigned long long) (st.st_size >> 20),
                                  (unsigned long long) (ram_size >> 20));
        return berth_steal_fd(&fd);
}

int vmm_snapshot_open(struct vmm_vm *vm, const char *state_path, const char *mem_path,
                      const char *const *diffs, unsigned n_diffs, berth_error_t *err)
{
        struct vmm_restore *r = berth_xcalloc(1, sizeof(*r));
        r->mem_fd = -1;
        char *data = NULL;
        struct machine m;
        if (berth_read_file_at(AT_FDCWD, state_path, VMM_SNAP_MAX_FILE, &data, &r->state_len, err) <
            0)
                goto fail;
        r->state = (uint8_t *) data;
        if (open_state(r, &m, err) < 0)
                goto fail;
        if ((r->mem_fd = open_mem(mem_path, m.ram_size, err)) < 0)
                goto fail;
        if (n_diffs > VMM_MAX_MEM_DIFFS) {
                berth_fail(err, E2BIG, "more than %u diff snapshots", VMM_MAX_MEM_DIFFS);
                goto fail;
        }
        for (; r->n_diffs < n_diffs; r->n_diffs++)
                if ((r->diff_fds[r->n_diffs] = open_mem(diffs[r->n_diffs], m.ram_size, err)) < 0)
                        goto fail;
        if (take_config(vm, &r->snap, &m, err) < 0)
                goto fail;
        vm->restore = r;
        return 0;
fail:
        vm->restore = r;
        vmm_snapshot_close(vm);
        return berth_wrap(err, "load snapshot `%s`", state_path);
}

/* A Diff's pages (its file's data; write_diff) into the private map:
 * those pages are read now, the rest stay the base file's, lazily. */
static int lay_diff(uint8_t *map, size_t size, int fd, unsigned index, berth_error_t *err)
{
        off_t start, end = 0;
        int r;
        /* cut at size: the file may have grown since open_mem */
        while ((r = berth_next_data(fd, end, (off_t) size, &start, &end)) > 0)
                for (off_t o = start; o < end;) {
                        ssize_t n = pread(fd, map + o, (size_t) (end - o), o);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0)
                                return berth_fail(err, n < 0 ? errno : EIO,
                                                  "read the pages of diff %u", index + 1);
                        o += n;
                }
        return r < 0 ? berth_fail(err, errno, "find the pages of diff %u", index + 1) : 0;
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
        for (unsigned i = 0; i < vm->restore->n_diffs; i++)
                if (lay_diff(p, size, vm->restore->diff_fds[i], i, err) < 0)
                        return -1; /* vm_destroy unmaps */
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
