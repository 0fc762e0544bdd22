/* snapshot.c — `berth vm snapshot`: full snapshots of a managed VM (docs/vm.md).
 *
 *   <data>/vms/<name>/snapshots/<snap>/state       berth-vmm's state file
 *   <data>/vms/<name>/snapshots/<snap>/mem         guest RAM (restored MAP_PRIVATE)
 *   <data>/vms/<name>/snapshots/<snap>/disk<N>     each writable disk as it was
 *   <data>/vms/<name>/snapshots/<snap>/snapshot.json
 *
 * The VM is paused while berth-vmm writes its state (PUT /snapshot/create,
 * which also flushes the disks) and the writable disks are copied, so RAM
 * and disks agree; it runs on afterwards unless it was paused already.  A
 * snapshot is built under a temporary name and published by one rename.
 * Revert stops the VM if it runs, puts the disks back, and starts
 * berth-vmm with --restore under the usual supervisor. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "vm/vm_internal.h"

static char *snap_dir(const struct vm_rec *r, const char *snap)
{
        return berth_xasprintf("%s/snapshots/%s", r->dir, snap);
}

/* Open the record of VM name for work on its snapshot snap (a name that is checked first). */
static int snap_open(struct vm_ctx *c, const char *name, const char *snap, struct vm_rec *r,
                     berth_error_t *err)
{
        if (!vm_name_valid(snap))
                return berth_fail(err, EINVAL, "bad snapshot name `%s`", snap);
        return vm_rec_open(c, name, r, err);
}

/* Is meta (a snapshot.json) a --disk-only snapshot's? */
static bool is_disk_only(const json_t *meta)
{
        const char *k = json_string_value(json_object_get(meta, "Kind"));
        return k && strcmp(k, "disk-only") == 0;
}

/* Copy src to dst (created, or truncated) with copy_file_range: a reflink
 * or an in-kernel copy where the filesystem can. */
int vm_copy_file(const char *src, const char *dst, berth_error_t *err)
{
        cleanup_close int in = open(src, O_RDONLY | O_CLOEXEC);
        if (in < 0)
                return berth_fail(err, errno, "open `%s`", src);
        struct stat st;
        if (fstat(in, &st) < 0)
                return berth_fail(err, errno, "stat `%s`", src);
        cleanup_close int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (out < 0)
                return berth_fail(err, errno, "create `%s`", dst);
        for (off_t left = st.st_size; left > 0;) {
                ssize_t n = copy_file_range(in, NULL, out, NULL, (size_t) left, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return berth_fail(err, n < 0 ? errno : EIO, "copy `%s` to `%s`", src, dst);
                left -= n;
        }
        return 0;
}

/* The writable disks of the VM's config: what a snapshot must keep. */
static json_t *writable_disks(const struct vm_rec *r)
{
        json_t *out = json_array(), *d;
        size_t i;
        json_array_foreach(json_object_get(r->cfg, "drives"), i, d)
        {
                const char *path = json_string_value(json_object_get(d, "path_on_host"));
                if (!path || json_is_true(json_object_get(d, "is_read_only")))
                        continue;
                char copy[24];
                snprintf(copy, sizeof(copy), "disk%zu", json_array_size(out));
                json_array_append_new(out, json_pack("{s:s,s:s}", "Path", path, "Copy", copy));
        }
        return out;
}

/* A jailed VMM writes as the jail's uid, into snapshots/ bound in its
 * jail: the temporary directory is its own while it writes, root's after. */
static int hand_over(const char *tmp, bool to_jail, berth_error_t *err)
{
        uid_t id = to_jail ? VM_JAIL_ID : 0;
        if (chown(tmp, id, id) < 0)
                return berth_fail(err, errno, "chown `%s`", tmp);
        if (to_jail)
                return 0;
        static const char *const files[] = {"state", "mem"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(files); i++) {
                cleanup_free char *p = berth_xasprintf("%s/%s", tmp, files[i]);
                if (lchown(p, 0, 0) < 0 && errno != ENOENT)
                        return berth_fail(err, errno, "chown `%s`", p);
        }
        return 0;
}

static int take(struct vm_rec *r, const char *tmp, json_t *disks, berth_error_t *err)
{
        cleanup_free char *sock = vm_rec_run_path(r, "api.sock");
        cleanup_free char *state = berth_xasprintf("%s/state", tmp);
        cleanup_free char *mem = berth_xasprintf("%s/mem", tmp);
        bool jailed = json_is_true(json_object_get(r->state, "Jailed")) && geteuid() == 0;
        json_t *body = json_pack("{s:s,s:s,s:s}", "snapshot_type", "Full", "snapshot_path", state,
                                 "mem_file_path", mem);
        int ret = jailed ? hand_over(tmp, true, err) : 0;
        if (ret == 0)
                ret = vm_api_ok(sock, "PUT", "/snapshot/create", body, NULL, err);
        if (jailed && hand_over(tmp, false, ret < 0 ? NULL : err) < 0 && ret >= 0)
                ret = -1;
        json_decref(body);
        size_t i;
        json_t *d;
        json_array_foreach(disks, i, d)
        {
                if (ret < 0)
                        break;
                cleanup_free char *to = berth_xasprintf(
                        "%s/%s", tmp, json_string_value(json_object_get(d, "Copy")));
                ret = vm_copy_file(json_string_value(json_object_get(d, "Path")), to, err);
        }
        return ret < 0 ? -1 : 0;
}

int vm_snapshot_create(struct vm_ctx *c, const char *name, const char *snap, berth_error_t *err)
{
        struct vm_rec r = {0};
        if (snap_open(c, name, snap, &r, err) < 0)
                return -1;
        enum vm_status st = vm_rec_reconcile(&r);
        cleanup_free char *base = vm_rec_path(&r, "snapshots");
        cleanup_free char *dir = snap_dir(&r, snap);
        cleanup_free char *tmp = berth_xasprintf("%s/.%s.tmp", base, snap);
        cleanup_free char *sock = vm_rec_run_path(&r, "api.sock");
        json_t *disks = writable_disks(&r);
        int ret = 0;
        bool paused_here = false;
        if (!vm_status_live(st))
                ret = berth_fail(err, 0,
                                 "VM `%s` is not running (%s): a full snapshot needs its "
                                 "memory",
                                 name, vm_status_name(st));
        else if (access(dir, F_OK) == 0)
                ret = berth_fail(err, EEXIST, "VM `%s` already has a snapshot `%s`", name, snap);
        if (ret == 0 && (mkdir(base, 0700) < 0 && errno != EEXIST))
                ret = berth_fail(err, errno, "mkdir `%s`", base);
        if (ret == 0) {
                (void) vm_rm_flat_dir(tmp); /* a half-made one from a crash */
                if (mkdir(tmp, 0700) < 0)
                        ret = berth_fail(err, errno, "mkdir `%s`", tmp);
        }
        if (ret == 0 && st == VM_RUNNING) {
                ret = vm_api_pause(sock, true, err);
                paused_here = ret == 0;
        }
        if (ret == 0)
                ret = take(&r, tmp, disks, err);
        if (paused_here) { /* running again, whatever happened meanwhile */
                berth_error_t e = NULL;
                if (vm_api_pause(sock, false, &e) < 0) {
                        log_warn("VM %s stays paused: %s", name, berth_error_msg(e));
                        berth_error_release(&e);
                }
        }
        if (ret == 0) {
                json_t *meta = json_pack(
                        "{s:s,s:I,s:O,s:I}", "Name", snap, "Created", (json_int_t) time(NULL),
                        "Disks", disks, "MemoryMiB",
                        json_integer_value(json_object_get(json_object_get(r.cfg, "machine-config"),
                                                           "mem_size_mib")));
                char *text = json_dumps(meta, JSON_INDENT(2));
                cleanup_free char *mp = berth_xasprintf("%s/snapshot.json", tmp);
                ret = berth_write_file_atomic(mp, text, strlen(text), 0600, err);
                free(text);
                json_decref(meta);
        }
        if (ret == 0 && rename(tmp, dir) < 0)
                ret = berth_fail(err, errno, "publish `%s`", dir);
        if (ret < 0)
                (void) vm_rm_flat_dir(tmp);
        json_decref(disks);
        vm_rec_close(&r);
        return ret < 0 ? berth_wrap(err, "snapshot VM `%s`", name) : 0;
}

int vm_snapshot_list(struct vm_ctx *c, const char *name, json_t **out, berth_error_t *err)
{
        struct vm_rec r = {0};
        if (vm_rec_open(c, name, &r, err) < 0)
                return -1;
        cleanup_free char *base = vm_rec_path(&r, "snapshots");
        *out = json_array();
        DIR *d = opendir(base);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
                if (e->d_name[0] == '.')
                        continue;
                cleanup_free char *p = berth_xasprintf("%s/%s/snapshot.json", base, e->d_name);
                json_t *m = json_load_file(p, 0, NULL);
                if (json_is_object(m))
                        json_array_append(*out, m);
                json_decref(m);
        }
        if (d)
                closedir(d);
        vm_rec_close(&r);
        return 0;
}

int vm_snapshot_remove(struct vm_ctx *c, const char *name, const char *snap, berth_error_t *err)
{
        struct vm_rec r = {0};
        if (snap_open(c, name, snap, &r, err) < 0)
                return -1;
        cleanup_free char *dir = snap_dir(&r, snap);
        cleanup_free char *mp = berth_xasprintf("%s/snapshot.json", dir);
        json_t *meta = json_load_file(mp, 0, NULL);
        if (is_disk_only(meta)) { /* its chain is merged (snapshot_disk.c) */
                vm_rec_close(&r);
                int dr = vm_snapshot_remove_disk(c, name, snap, meta, err);
                json_decref(meta);
                return dr;
        }
        json_decref(meta);
        int ret = 0;
        if (access(dir, F_OK) < 0)
                ret = berth_fail(err, ENOENT, "VM `%s` has no snapshot `%s`", name, snap);
        else if (vm_rm_flat_dir(dir) < 0)
                ret = berth_fail(err, errno, "remove `%s`", dir);
        vm_rec_close(&r);
        return ret;
}

int vm_snapshot_revert(struct vm_ctx *c, const char *name, const char *snap, berth_error_t *err)
{
        struct vm_rec r = {0};
        if (snap_open(c, name, snap, &r, err) < 0)
                return -1;
        cleanup_free char *dir = snap_dir(&r, snap);
        cleanup_free char *mp = berth_xasprintf("%s/snapshot.json", dir);
        json_t *meta = json_load_file(mp, 0, NULL);
        bool running = vm_status_live(vm_rec_reconcile(&r));
        vm_rec_close(&r);
        if (!json_is_object(meta)) {
                json_decref(meta);
                return berth_fail(err, ENOENT, "VM `%s` has no snapshot `%s`", name, snap);
        }
        if (is_disk_only(meta)) { /* no memory: a fresh overlay on its files (snapshot_disk.c) */
                int dr = vm_snapshot_revert_disk(c, name, snap, meta, err);
                json_decref(meta);
                return dr;
        }
        /* A running VM is stopped first: its memory is about to be replaced. */
        if (running && vm_destroy(c, name, err) < 0) {
                json_decref(meta);
                return berth_wrap(err, "revert VM `%s`", name);
        }
        if (vm_rec_open(c, name, &r, err) < 0) {
                json_decref(meta);
                return -1;
        }
        int ret = 0;
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(meta, "Disks"), i, d)
        {
                const char *path = json_string_value(json_object_get(d, "Path"));
                const char *copy = json_string_value(json_object_get(d, "Copy"));
                if (!path || !copy || !vm_name_valid(copy)) {
                        ret = berth_fail(err, EINVAL, "snapshot `%s`: bad disk entry", snap);
                        break;
                }
                cleanup_free char *from = berth_xasprintf("%s/%s", dir, copy);
                if ((ret = vm_copy_file(from, path, err)) < 0)
                        break;
        }
        json_decref(meta);
        cleanup_free char *state = berth_xasprintf("%s/state", dir);
        cleanup_free char *mem = berth_xasprintf("%s/mem", dir);
        r.restore_state = state;
        r.restore_mem = mem;
        if (ret == 0)
                ret = vm_check_disks(c, name, r.cfg, err);
        if (ret == 0)
                ret = vm_supervisor_start(&r, err);
        if (ret == 0 &&
            vm_apply_pins(&r, (int) json_integer_value(json_object_get(r.state, "Pid")), err) < 0)
                ret = -1;
        r.restore_state = r.restore_mem = NULL;
        vm_rec_close(&r);
        return ret < 0 ? berth_wrap(err, "revert VM `%s` to `%s`", name, snap) : 0;
}
