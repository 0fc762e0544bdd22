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
 * berth-vmm with --restore under the usual supervisor.
 *
 * A diff snapshot (--diff, of a VM defined with --track-dirty-pages) keeps
 * only the pages written since the snapshot its VMM took or came from last
 * (state.json's SnapshotBase, its Parent): the memory is the chain, a full
 * snapshot's file with each diff's pages over it, oldest first.  --memory
 * FILE keeps a snapshot's memory at FILE instead of in its directory. */
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

/* A full snapshot (no Kind: made before there were others) or a diff's: has memory. */
static bool is_diff(const json_t *meta)
{
        const char *k = json_string_value(json_object_get(meta, "Kind"));
        return k && strcmp(k, "diff") == 0;
}

static json_t *load_meta(const struct vm_rec *r, const char *snap)
{
        cleanup_free char *mp = berth_xasprintf("%s/snapshots/%s/snapshot.json", r->dir, snap);
        json_t *m = json_load_file(mp, 0, NULL);
        if (!json_is_object(m)) {
                json_decref(m);
                return NULL;
        }
        return m;
}

/* Where snap's memory is: --memory's FILE, or mem in its directory. */
static char *mem_path(const struct vm_rec *r, const char *snap, const json_t *meta)
{
        const char *f = json_string_value(json_object_get(meta, "MemoryFile"));
        return f ? berth_xstrdup(f) : berth_xasprintf("%s/snapshots/%s/mem", r->dir, snap);
}

int vm_snapshot_memory(const struct vm_rec *r, const char *snap, char **base, json_t **diffs,
                       berth_error_t *err)
{
        json_t *chain = json_array(); /* found newest first, kept oldest first */
        cleanup_free char *cur = berth_xstrdup(snap);
        *base = NULL;
        for (unsigned depth = 0; !*base; depth++) {
                json_t *m = vm_name_valid(cur) ? load_meta(r, cur) : NULL;
                int ret = 0;
                if (!m)
                        ret = berth_fail(err, ENOENT, "snapshot `%s`%s%s%s is gone", cur,
                                         depth ? " (the base of `" : "", depth ? snap : "",
                                         depth ? "`)" : "");
                else if (is_disk_only(m))
                        ret = berth_fail(err, EINVAL, "snapshot `%s` is disk-only: no memory", cur);
                else if (is_diff(m) && depth == VM_MAX_MEM_DIFFS)
                        ret = berth_fail(err, E2BIG,
                                         "snapshot `%s`: more than %d diffs over its full "
                                         "snapshot",
                                         snap, VM_MAX_MEM_DIFFS);
                cleanup_free char *mp = ret == 0 ? mem_path(r, cur, m) : NULL;
                if (mp && access(mp, R_OK) < 0)
                        ret = berth_fail(err, errno, "snapshot `%s` has no memory (`%s`)", cur, mp);
                if (ret == 0 && is_diff(m)) {
                        json_array_insert_new(chain, 0, json_string(mp));
                        const char *parent = json_string_value(json_object_get(m, "Parent"));
                        free(cur);
                        cur = berth_xstrdup(parent ? parent : "");
                } else if (ret == 0) {
                        *base = berth_steal_ptr(&mp);
                }
                json_decref(m);
                if (ret < 0) {
                        json_decref(chain);
                        return -1;
                }
        }
        *diffs = chain;
        return 0;
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

int vm_link_sparse(const char *src, const char *dst, berth_error_t *err)
{
        if (link(src, dst) == 0) /* not rename: an existing dst is never replaced */
                return 0;
        if (errno != EXDEV)
                return berth_fail(err, errno, "link `%s` to `%s`", src, dst);
        cleanup_close int in = open(src, O_RDONLY | O_CLOEXEC);
        cleanup_close int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        struct stat st;
        if (in < 0 || out < 0 || fstat(in, &st) < 0)
                return berth_fail(err, errno, "copy `%s` to `%s`", src, dst);
        int ret = 0, more = 0;
        static char buf[1 << 20];
        off_t start, end = 0;
        while (ret == 0 && (more = berth_next_data(in, end, st.st_size, &start, &end)) > 0)
                for (off_t off = start; ret == 0 && off < end;) {
                        size_t want = (size_t) (end - off) < sizeof(buf) ? (size_t) (end - off)
                                                                         : sizeof(buf);
                        ssize_t n = pread(in, buf, want, off);
                        if (n <= 0 || berth_pwrite_all(out, buf, (size_t) n, off) < 0)
                                ret = berth_fail(err, n < 0 ? errno : EIO, "copy `%s` to `%s`", src,
                                                 dst);
                        else
                                off += n;
                }
        if (ret == 0 && more < 0)
                ret = berth_fail(err, errno, "read `%s`", src);
        if (ret == 0 && (ftruncate(out, st.st_size) < 0 || fsync(out) < 0))
                ret = berth_fail(err, errno, "copy `%s` to `%s`", src, dst);
        if (ret < 0)
                (void) unlink(dst);
        return ret;
}

/* Move a memory file to dst (which must not exist): the snapshot's FILE. */
static int move_memory(const char *src, const char *dst, berth_error_t *err)
{
        if (vm_link_sparse(src, dst, err) < 0)
                return -1;
        (void) unlink(src);
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

/* state.json's SnapshotBase: the snapshot the running VMM took or came from last, which
 * its dirty log counts from (a lost update costs a refused diff, nothing more). */
static void set_base(struct vm_rec *r, const char *snap)
{
        json_object_set_new(r->state, "SnapshotBase", json_string(snap));
        berth_error_t e = NULL;
        if (vm_rec_save_state(r, &e) < 0) {
                log_warn("VM %s: %s", r->name, berth_error_msg(e));
                berth_error_release(&e);
        }
}

static int take(struct vm_rec *r, const char *tmp, json_t *disks, bool diff, berth_error_t *err)
{
        cleanup_free char *sock = vm_rec_run_path(r, "api.sock");
        cleanup_free char *state = berth_xasprintf("%s/state", tmp);
        cleanup_free char *mem = berth_xasprintf("%s/mem", tmp);
        bool jailed = json_is_true(json_object_get(r->state, "Jailed")) && geteuid() == 0;
        json_t *body = json_pack("{s:s,s:s,s:s}", "snapshot_type", diff ? "Diff" : "Full",
                                 "snapshot_path", state, "mem_file_path", mem);
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

/* Can the VM's running VMM take a diff snapshot, and over which snapshot?  Its base (the
 * one it took or came from last) must still be there with its memory. */
static int diff_parent(const struct vm_rec *r, const char **parent, berth_error_t *err)
{
        const json_t *mc = json_object_get(r->cfg, "machine-config");
        if (!json_is_true(json_object_get(mc, "track_dirty_pages")))
                return berth_fail(err, EINVAL,
                                  "VM `%s` does not track dirty pages: a diff snapshot needs a "
                                  "VM created with --track-dirty-pages",
                                  r->name);
        *parent = json_string_value(json_object_get(r->state, "SnapshotBase"));
        if (!*parent)
                return berth_fail(err, EINVAL,
                                  "VM `%s` has no snapshot since it started: a diff needs a full "
                                  "snapshot (or one it was reverted to) first",
                                  r->name);
        cleanup_free char *base = NULL;
        json_t *diffs = NULL;
        if (vm_snapshot_memory(r, *parent, &base, &diffs, err) < 0)
                return berth_wrap(err, "a diff snapshot's base");
        json_decref(diffs);
        return 0;
}

/* --memory FILE: an absolute path to a file that does not exist yet. */
static int check_memory_file(const char *f, berth_error_t *err)
{
        struct stat st;
        if (f[0] != '/')
                return berth_fail(err, EINVAL, "--memory `%s`: want an absolute path", f);
        if (lstat(f, &st) == 0)
                return berth_fail(err, EEXIST, "--memory `%s`", f);
        if (errno != ENOENT)
                return berth_fail(err, errno, "--memory `%s`", f);
        cleanup_free char *dir = berth_xstrdup(f);
        *strrchr(dir, '/') = 0;
        if (stat(*dir ? dir : "/", &st) < 0)
                return berth_fail(err, errno, "--memory `%s`: directory `%s`", f, dir);
        if (!S_ISDIR(st.st_mode))
                return berth_fail(err, ENOTDIR, "--memory `%s`: `%s`", f, dir);
        return 0;
}

int vm_snapshot_create(struct vm_ctx *c, const char *name, const char *snap,
                       const struct vm_snapshot_opts *o, berth_error_t *err)
{
        struct vm_rec r = {0};
        if (snap_open(c, name, snap, &r, err) < 0)
                return -1;
        enum vm_status st = vm_rec_reconcile(&r);
        const char *parent = NULL; /* r.state's, valid until set_base */
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
        else if ((o->diff && diff_parent(&r, &parent, err) < 0) ||
                 (o->memory && check_memory_file(o->memory, err) < 0))
                ret = -1;
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
                ret = take(&r, tmp, disks, o->diff, err);
        cleanup_free char *tmp_mem = berth_xasprintf("%s/mem", tmp);
        bool moved = false;
        if (ret == 0 && o->memory)
                moved = (ret = move_memory(tmp_mem, o->memory, err)) == 0;
        if (paused_here) { /* running again, whatever happened meanwhile */
                berth_error_t e = NULL;
                if (vm_api_pause(sock, false, &e) < 0) {
                        log_warn("VM %s stays paused: %s", name, berth_error_msg(e));
                        berth_error_release(&e);
                }
        }
        if (ret == 0) {
                json_t *meta = json_pack(
                        "{s:s,s:I,s:s,s:O,s:I}", "Name", snap, "Created", (json_int_t) time(NULL),
                        "Kind", o->diff ? "diff" : "full", "Disks", disks, "MemoryMiB",
                        json_integer_value(json_object_get(json_object_get(r.cfg, "machine-config"),
                                                           "mem_size_mib")));
                if (parent)
                        json_object_set_new(meta, "Parent", json_string(parent));
                if (o->memory)
                        json_object_set_new(meta, "MemoryFile", json_string(o->memory));
                char *text = json_dumps(meta, JSON_INDENT(2));
                cleanup_free char *mp = berth_xasprintf("%s/snapshot.json", tmp);
                ret = berth_write_file_atomic(mp, text, strlen(text), 0600, err);
                free(text);
                json_decref(meta);
        }
        if (ret == 0 && rename(tmp, dir) < 0)
                ret = berth_fail(err, errno, "publish `%s`", dir);
        if (ret < 0) {
                (void) vm_rm_flat_dir(tmp);
                if (moved)
                        (void) unlink(o->memory);
        }
        if (ret == 0) /* the VMM's base now: the next diff's parent */
                set_base(&r, snap);
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

/* A diff snapshot whose Parent is snap, if any (its name). */
static char *diff_child(const struct vm_rec *r, const char *snap)
{
        cleanup_free char *base = vm_rec_path(r, "snapshots");
        cleanup_dir DIR *d = opendir(base);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
                if (e->d_name[0] == '.')
                        continue;
                json_t *m = load_meta(r, e->d_name);
                const char *p = json_string_value(json_object_get(m, "Parent"));
                bool child = is_diff(m) && p && strcmp(p, snap) == 0;
                json_decref(m);
                if (child)
                        return berth_xstrdup(e->d_name);
        }
        return NULL;
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
        int ret = 0;
        cleanup_free char *child = NULL;
        cleanup_free char *mem = meta ? mem_path(&r, snap, meta) : NULL;
        if (access(dir, F_OK) < 0)
                ret = berth_fail(err, ENOENT, "VM `%s` has no snapshot `%s`", name, snap);
        else if ((child = diff_child(&r, snap)) != NULL)
                ret = berth_fail(err, EBUSY,
                                 "snapshot `%s` is the base of diff snapshot `%s`: remove that "
                                 "first",
                                 snap, child);
        else if (vm_rm_flat_dir(dir) < 0)
                ret = berth_fail(err, errno, "remove `%s`", dir);
        /* --memory's file is the snapshot's: it goes with it */
        if (ret == 0 && mem && json_object_get(meta, "MemoryFile") && unlink(mem) < 0 &&
            errno != ENOENT)
                log_warn("snapshot %s: remove its memory file `%s`: %s", snap, mem,
                         strerror(errno));
        json_decref(meta);
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
        /* the memory it needs, checked before anything is stopped or overwritten */
        cleanup_free char *mem = NULL;
        json_t *diffs = NULL;
        int mr = json_is_object(meta) && !is_disk_only(meta)
                         ? vm_snapshot_memory(&r, snap, &mem, &diffs, err)
                         : 0;
        vm_rec_close(&r);
        if (mr < 0) {
                json_decref(meta);
                return berth_wrap(err, "revert VM `%s` to `%s`", name, snap);
        }
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
                json_decref(diffs);
                return berth_wrap(err, "revert VM `%s`", name);
        }
        if (vm_rec_open(c, name, &r, err) < 0) {
                json_decref(meta);
                json_decref(diffs);
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
        r.restore_state = state;
        r.restore_mem = mem;
        r.restore_diffs = diffs;
        if (ret == 0)
                ret = vm_check_disks(c, name, r.cfg, err);
        if (ret == 0)
                ret = vm_supervisor_start(&r, err);
        if (ret == 0 &&
            vm_apply_pins(&r, (int) json_integer_value(json_object_get(r.state, "Pid")), err) < 0)
                ret = -1;
        if (ret == 0) /* the restored VMM's dirty log counts from here */
                set_base(&r, snap);
        r.restore_state = r.restore_mem = NULL;
        r.restore_diffs = NULL;
        json_decref(diffs);
        vm_rec_close(&r);
        return ret < 0 ? berth_wrap(err, "revert VM `%s` to `%s`", name, snap) : 0;
}
