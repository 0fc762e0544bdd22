/* define.c — `berth vm create`: a definition from flags, checked now for
 * everything a start would trip over that can be known now (kernel,
 * memory, disks), written into a hidden directory and published with one
 * rename, so a failed create leaves nothing and two creates of one name
 * cannot both win. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/units.h"
#include "common/util.h"
#include "disk/disk.h"
#include "vm/vm_internal.h"

static uint64_t host_memory_mib(void)
{
        long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);
        return pages > 0 && size > 0 ? ((uint64_t) pages * (uint64_t) size) >> 20 : UINT64_MAX;
}

/* A regular file's real path, or an error naming `what`. */
static int real_file(const char *path, const char *what, char **out, berth_error_t *err)
{
        struct stat st;
        if (stat(path, &st) < 0)
                return berth_fail(err, errno, "%s `%s`", what, path);
        if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
                return berth_fail(err, EINVAL, "%s `%s` is not a regular file", what, path);
        *out = realpath(path, NULL);
        if (!*out)
                return berth_fail(err, errno, "%s `%s`", what, path);
        return 0;
}

/* One --disk PATH[,ro][,overlay][,format=raw|qcow2] into a drive object;
 * an overlay is made at overlay_tmp (published later as overlay_final). */
static int disk_drive(const char *spec, unsigned idx, const char *tmp_dir, const char *final_dir,
                      json_t *drives, json_t *meta, berth_error_t *err)
{
        cleanup_free char *copy = berth_xstrdup(spec);
        char *save = NULL, *path = strtok_r(copy, ",", &save);
        bool ro = false, overlay = false;
        const char *fmt = NULL;
        for (char *o = strtok_r(NULL, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
                if (strcmp(o, "ro") == 0)
                        ro = true;
                else if (strcmp(o, "overlay") == 0)
                        overlay = true;
                else if (berth_str_has_prefix(o, "format=") &&
                         (strcmp(o + 7, "raw") == 0 || strcmp(o + 7, "qcow2") == 0))
                        fmt = o + 7;
                else
                        return berth_fail(err, EINVAL,
                                          "--disk `%s`: unknown option `%s` (want ro, overlay, "
                                          "format=raw|qcow2)",
                                          spec, o);
        }
        if (!path || !*path)
                return berth_fail(err, EINVAL, "--disk `%s`: want PATH[,ro][,overlay]", spec);
        cleanup_free char *real = NULL;
        if (real_file(path, "disk", &real, err) < 0)
                return -1;
        enum disk_format f;
        if (fmt) {
                if (disk_parse_format(fmt, &f, err) < 0)
                        return -1;
        } else if (disk_probe(real, &f, err) < 0) {
                return berth_wrap(err, "disk `%s`", path);
        }
        char id[16];
        snprintf(id, sizeof(id), "disk%u", idx);
        json_t *d = json_pack("{s:s,s:b,s:b}", "drive_id", id, "is_read_only", ro, "is_root_device",
                              idx == 0);
        if (overlay) {
                /* Thin provisioning: the VM writes its own qcow2, the base
                 * stays read-only to every VM on it. */
                char file[32];
                snprintf(file, sizeof(file), "disk%u.qcow2", idx);
                cleanup_free char *tmp = berth_path_join(tmp_dir, file);
                struct disk_create_opts co = {
                        .format = DISK_FORMAT_QCOW2, .backing = real, .backing_fmt = f};
                if (disk_create(tmp, &co, err) < 0) {
                        json_decref(d);
                        return berth_wrap(err, "make an overlay on `%s`", path);
                }
                cleanup_free char *fin = berth_path_join(final_dir, file);
                json_object_set_new(d, "path_on_host", json_string(fin));
                json_object_set_new(d, "format", json_string("qcow2"));
                json_object_set_new(d, "backing", json_string(real));
                json_array_append_new(json_object_get(meta, "Overlays"),
                                      json_pack("{s:s,s:s}", "Path", fin, "Base", real));
        } else {
                json_object_set_new(d, "path_on_host", json_string(real));
                json_object_set_new(d, "format", json_string(disk_format_name(f)));
                json_array_append_new(json_object_get(meta, "Disks"), json_string(real));
        }
        json_array_append_new(drives, d);
        return 0;
}

/* The lowest guest CID (>= 3) no defined VM has: vsock CIDs are host-wide. */
static unsigned free_cid(struct vm_ctx *c)
{
        struct vm_info *v;
        size_t n;
        unsigned cid = 3;
        if (vm_list(c, &v, &n, NULL) < 0)
                return cid;
        bool again = true;
        while (again) {
                again = false;
                for (size_t i = 0; i < n && !again; i++) {
                        struct vm_rec r;
                        if (vm_rec_open(c, v[i].name, &r, NULL) < 0)
                                continue;
                        json_t *vs = json_object_get(r.cfg, "vsock");
                        if (vs && json_integer_value(json_object_get(vs, "guest_cid")) == cid) {
                                cid++;
                                again = true;
                        }
                        vm_rec_close(&r);
                }
        }
        for (size_t i = 0; i < n; i++)
                vm_info_free(&v[i]);
        free(v);
        return cid;
}

static int write_json(const char *dir, const char *file, json_t *doc, berth_error_t *err)
{
        cleanup_free char *p = berth_path_join(dir, file);
        cleanup_free char *s = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
        if (!s)
                return berth_fail(err, ENOMEM, "encode `%s`", p);
        size_t n = strlen(s);
        s[n] = '\n';
        return berth_write_file_atomic(p, s, n + 1, 0600, err);
}

static void remove_tree(const char *dir)
{
        cleanup_dir DIR *d = opendir(dir);
        if (d) {
                struct dirent *e;
                while ((e = readdir(d)) != NULL)
                        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                                (void) unlinkat(dirfd(d), e->d_name, 0);
        }
        (void) rmdir(dir);
}

/* The record's files in tmp: its lock, the berth-vmm config and berth's own metadata. */
int vm_write_record(const char *tmp, json_t *cfg, json_t *meta, berth_error_t *err)
{
        cleanup_free char *lock = berth_path_join(tmp, "lock");
        cleanup_close int lfd = open(lock, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
        if (lfd < 0)
                return berth_fail(err, errno, "create `%s`", lock);
        if (write_json(tmp, "config.json", cfg, err) < 0 ||
            write_json(tmp, "vm.json", meta, err) < 0)
                return -1;
        return 0;
}

/* The jail opt-out and the cgroup's limits (cgroup.c) into vm.json. */
static int set_limits(json_t *meta, const struct vm_create_opts *o, uint64_t mem,
                      berth_error_t *err)
{
        if (o->no_jail)
                json_object_set_new(meta, "NoJail", json_true());
        if (o->cpu_shares && (o->cpu_shares < 2 || o->cpu_shares > 262144))
                return berth_fail(err, EINVAL, "--cpu-shares %llu: want 2 to 262144",
                                  (unsigned long long) o->cpu_shares);
        if (o->cpu_quota_us && (o->cpu_quota_us < 1000 || o->cpu_quota_us > 100000ull * 1024))
                return berth_fail(err, EINVAL,
                                  "--cpu-quota %llu: want 1000 µs or more per 100 ms period",
                                  (unsigned long long) o->cpu_quota_us);
        /* Guest RAM and the VMM's own few MiB must fit, or the VMM is the OOM killer's. */
        if (o->memory_limit_mib && o->memory_limit_mib < mem + 16)
                return berth_fail(err, EINVAL,
                                  "--memory-limit %llu MiB: want at least the VM's memory and "
                                  "16 MiB for its VMM (%llu MiB)",
                                  (unsigned long long) o->memory_limit_mib,
                                  (unsigned long long) mem + 16);
        if (o->cpu_shares)
                json_object_set_new(meta, "CpuShares", json_integer((json_int_t) o->cpu_shares));
        if (o->cpu_quota_us)
                json_object_set_new(meta, "CpuQuota", json_integer((json_int_t) o->cpu_quota_us));
        if (o->memory_limit_mib)
                json_object_set_new(meta, "MemoryLimitMiB",
                                    json_integer((json_int_t) o->memory_limit_mib));
        return 0;
}

/* define --config FILE: a whole berth-vmm config (Firecracker's shape) as
 * the definition.  What can be checked now is (kernel, initrd, memory,
 * drives); berth-vmm checks the rest, key by key, at start. */
static int build_from_config(const struct vm_create_opts *o, const char *tmp, berth_error_t *err)
{
        json_error_t je;
        json_auto_t *cfg = berth_json_load_file(o->config, &je);
        if (!json_is_object(cfg))
                return berth_fail(err, 0, "--config `%s`: %s", o->config,
                                  cfg ? "want a JSON object" : je.text);
        json_t *boot = json_object_get(cfg, "boot-source");
        const char *kernel = json_string_value(json_object_get(boot, "kernel_image_path"));
        const char *initrd = json_string_value(json_object_get(boot, "initrd_path"));
        cleanup_free char *rk = NULL, *ri = NULL;
        if (!kernel)
                return berth_fail(err, 0, "--config `%s`: no boot-source.kernel_image_path",
                                  o->config);
        if (real_file(kernel, "kernel", &rk, err) < 0 ||
            (initrd && real_file(initrd, "initrd", &ri, err) < 0))
                return -1;
        json_object_set_new(boot, "kernel_image_path", json_string(rk));
        if (ri)
                json_object_set_new(boot, "initrd_path", json_string(ri));
        json_t *mc = json_object_get(cfg, "machine-config");
        json_int_t mem = json_integer_value(json_object_get(mc, "mem_size_mib"));
        if (!mc) {
                mc = json_object();
                json_object_set_new(cfg, "machine-config", mc);
        }
        if (!mem)
                json_object_set_new(mc, "mem_size_mib", json_integer(mem = 128));
        if (!json_object_get(mc, "vcpu_count"))
                json_object_set_new(mc, "vcpu_count", json_integer(1));
        if (mem < 4 || (uint64_t) mem > host_memory_mib())
                return berth_fail(err, 0,
                                  "mem_size_mib %lld: want at least 4, and no more than the host "
                                  "has (%llu MiB)",
                                  (long long) mem, (unsigned long long) host_memory_mib());
        char now[64];
        berth_rfc3339(berth_now_ns(), false, now, sizeof(now));
        json_auto_t *meta =
                json_pack("{s:s,s:s,s:b,s:b,s:[],s:[]}", "Name", o->name, "Created", now,
                          "Autostart", o->autostart, "NoAcpi", o->no_acpi, "Overlays", "Disks");
        if (set_limits(meta, o, (uint64_t) mem, err) < 0)
                return -1;
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(cfg, "drives"), i, d)
        {
                const char *p = json_string_value(json_object_get(d, "path_on_host"));
                cleanup_free char *rp = NULL;
                if (!p || real_file(p, "disk", &rp, err) < 0)
                        return p ? -1
                                 : berth_fail(err, 0, "--config: a drive without path_on_host");
                json_object_set_new(d, "path_on_host", json_string(rp));
                json_array_append_new(json_object_get(meta, "Disks"), json_string(rp));
        }
        return vm_write_record(tmp, cfg, meta, err);
}

static int build(struct vm_ctx *c, const struct vm_create_opts *o, const char *tmp, const char *fin,
                 berth_error_t *err)
{
        if (o->config)
                return build_from_config(o, tmp, err);
        cleanup_free char *kernel = NULL, *initrd = NULL;
        if (!o->kernel)
                return berth_fail(err, EINVAL, "--kernel is required");
        if (real_file(o->kernel, "kernel", &kernel, err) < 0)
                return -1;
        if (o->initrd && real_file(o->initrd, "initrd", &initrd, err) < 0)
                return -1;
        uint64_t mem = o->memory_mib ? o->memory_mib : 128, host = host_memory_mib();
        if (mem < 4)
                return berth_fail(err, EINVAL, "--memory %llu MiB: at least 4 MiB",
                                  (unsigned long long) mem);
        if (mem > host)
                return berth_fail(err, ENOMEM,
                                  "--memory %llu MiB is more than the host has (%llu MiB)",
                                  (unsigned long long) mem, (unsigned long long) host);
        unsigned cpus = o->cpus ? o->cpus : 1;
        if (cpus > 32)
                return berth_fail(err, EINVAL, "--cpus %u: at most 32", cpus);
        /* --max-memory: the guest gets that much RAM, the balloon holds back
         * all but --memory from the start, and setmem moves within it. */
        uint64_t max = o->max_memory_mib ? o->max_memory_mib : mem;
        /* 2 MiB pages: whole ones, and none to give back through a balloon */
        if (o->huge_pages && (max % 2 || o->balloon || o->max_memory_mib))
                return berth_fail(err, EINVAL, "--memory-backing hugepages: %s",
                                  max % 2 ? "want an even number of MiB of memory"
                                          : "no balloon (--balloon, --max-memory) with huge "
                                            "pages: a 2 MiB page cannot give back 4 KiB of it");
        if (max < mem || max > host)
                return berth_fail(err, EINVAL,
                                  "--max-memory %llu MiB: want at least --memory (%llu MiB) and "
                                  "no more than the host has (%llu MiB)",
                                  (unsigned long long) max, (unsigned long long) mem,
                                  (unsigned long long) host);

        char now[64];
        berth_rfc3339(berth_now_ns(), false, now, sizeof(now));
        json_auto_t *meta =
                json_pack("{s:s,s:s,s:b,s:b,s:[],s:[]}", "Name", o->name, "Created", now,
                          "Autostart", o->autostart, "NoAcpi", o->no_acpi, "Overlays", "Disks");
        if (set_limits(meta, o, max, err) < 0)
                return -1;
        if (o->max_memory_mib)
                json_object_set_new(meta, "MemoryMiB", json_integer((json_int_t) mem));
        json_t *boot = json_pack("{s:s,s:s}", "kernel_image_path", kernel, "boot_args",
                                 o->cmdline ? o->cmdline : "console=ttyS0");
        if (initrd)
                json_object_set_new(boot, "initrd_path", json_string(initrd));
        json_auto_t *cfg = json_pack("{s:o,s:{s:i,s:I}}", "boot-source", boot, "machine-config",
                                     "vcpu_count", (int) cpus, "mem_size_mib", (json_int_t) max);
        if (o->huge_pages)
                json_object_set_new(json_object_get(cfg, "machine-config"), "huge_pages",
                                    json_string("2M"));
        if (o->track_dirty)
                json_object_set_new(json_object_get(cfg, "machine-config"), "track_dirty_pages",
                                    json_true());
        json_t *drives = json_array();
        json_object_set_new(cfg, "drives", drives);
        for (unsigned i = 0; i < o->n_disks; i++)
                if (disk_drive(o->disks[i], i, tmp, fin, drives, meta, err) < 0)
                        return -1;
        if (o->n_nets) {
                json_t *nets = json_array();
                json_object_set_new(cfg, "network-interfaces", nets);
                for (unsigned i = 0; i < o->n_nets; i++) {
                        char id[16];
                        snprintf(id, sizeof(id), "net%u", i);
                        bool tap = berth_str_has_prefix(o->nets[i], "tap:");
                        if ((tap && !o->nets[i][4]) || !o->nets[i][0])
                                return berth_fail(err, EINVAL,
                                                  "--net `%s`: want NETWORK or "
                                                  "tap:NAME",
                                                  o->nets[i]);
                        json_array_append_new(nets, json_pack("{s:s,s:s}", "iface_id", id,
                                                              tap ? "host_dev_name" : "network",
                                                              tap ? o->nets[i] + 4 : o->nets[i]));
                        /* a MAC of its own, as libvirt gives one: the same through reboots
                         * (the network's neighbours' ARP caches) and in its endpoint */
                        unsigned char m[6] = {0x52, 0x54, 0x00, 0x42, 0x42, (unsigned char) i};
                        (void) !getrandom(m + 3, 3, 0);
                        json_object_set_new(json_array_get(nets, i), "guest_mac",
                                            json_sprintf("%02x:%02x:%02x:%02x:%02x:%02x", m[0],
                                                         m[1], m[2], m[3], m[4], m[5]));
                }
        }
        if (o->vsock) {
                cleanup_free char *run = berth_path_join(c->run_dir, o->name);
                cleanup_free char *uds = berth_path_join(run, "vsock.sock");
                json_object_set_new(cfg, "vsock",
                                    json_pack("{s:I,s:s}", "guest_cid", (json_int_t) free_cid(c),
                                              "uds_path", uds));
        }
        if (o->balloon || o->max_memory_mib)
                json_object_set_new(cfg, "balloon",
                                    json_pack("{s:I}", "amount_mib", (json_int_t) (max - mem)));
        return vm_write_record(tmp, cfg, meta, err);
}

int vm_create(struct vm_ctx *c, const struct vm_create_opts *o, berth_error_t *err)
{
        if (!o->name || !vm_name_valid(o->name))
                return berth_fail(err, EINVAL,
                                  "invalid VM name `%s`: 1-63 letters, digits, `_`, `.` or `-`, "
                                  "starting with a letter or digit",
                                  o->name ? o->name : "");
        cleanup_free char *fin = berth_path_join(c->data_dir, o->name);
        if (access(fin, F_OK) == 0)
                return berth_fail(err, EEXIST, "the VM name `%s` is already in use", o->name);
        cleanup_free char *base = berth_xasprintf(".new-%s-%d", o->name, (int) getpid());
        cleanup_free char *tmp = berth_path_join(c->data_dir, base);
        if (mkdir(tmp, 0700) < 0)
                return berth_fail(err, errno, "create `%s`", tmp);
        if (build(c, o, tmp, fin, err) < 0) {
                remove_tree(tmp);
                return berth_wrap(err, "create VM `%s`", o->name);
        }
        /* rename(2) onto an existing non-empty directory fails: the name is
         * taken by whoever published first. */
        if (rename(tmp, fin) < 0) {
                int e = errno;
                remove_tree(tmp);
                if (e == EEXIST || e == ENOTEMPTY)
                        return berth_fail(err, EEXIST, "the VM name `%s` is already in use",
                                          o->name);
                return berth_fail(err, e, "publish VM `%s`", o->name);
        }
        return 0;
}
