/* clone.c — `berth vm clone NAME SNAP NEWNAME`: a new VM started from a full snapshot of
 * another (docs/vm.md), as virt-clone users and Firecracker's restore-into-a-new-VM expect.
 *
 * The new definition is the source's under the new name, its writable disks being the
 * clone's own copies of the snapshot's (copy_file_range, as snapshot create makes them).
 * berth-vmm restores the devices its state file's `config` section names, so the clone gets
 * a state file of its own with that section's paths (disks, vsock socket) pointed at the
 * clone's; the memory file is hard-linked, not copied (restored MAP_PRIVATE, it is never
 * written).  Everything is built in a hidden directory and published by one rename, so a
 * refusal or a failed start leaves nothing behind. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/units.h"
#include "common/util.h"
#include "vm/vm_internal.h"
#include "vmm/snapshot_format.h"

/* The clone's files for its first start, removed once berth-vmm has read and mapped them. */
#define CLONE_STATE "clone.state"
#define CLONE_MEM   "clone.mem"
#define CLONE_DIFF  "clone.diff%zu.mem" /* a diff snapshot's chain, oldest first */

/* Point cfg's drives named in map (old path -> new path) and its vsock socket at the
 * clone's; the same for the definition and for the state file's config section. */
static void repoint(json_t *cfg, json_t *map, const char *vsock_uds)
{
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(cfg, "drives"), i, d)
        {
                const char *from = json_string_value(json_object_get(d, "path_on_host"));
                json_t *to = from ? json_object_get(map, from) : NULL;
                if (to)
                        json_object_set(d, "path_on_host", to);
        }
        json_t *vs = json_object_get(cfg, "vsock");
        if (json_is_object(vs))
                json_object_set_new(vs, "uds_path", json_string(vsock_uds));
}

/* The snapshot's state file with its config section repointed, written to out.  The
 * container is checked whole (vmm_snap_parse) before a byte is kept; every other section
 * is copied as it is, and the checksum made again by vmm_snap_finish. */
static int rewrite_state(const char *in, const char *out, json_t *map, const char *vsock_uds,
                         berth_error_t *err)
{
        cleanup_free char *data = NULL;
        size_t len = 0;
        if (berth_read_file(in, &data, &len, err) < 0)
                return -1;
        struct vmm_snap s = {0};
        if (vmm_snap_parse(&s, (const uint8_t *) data, len, err) < 0)
                return berth_wrap(err, "state file `%s`", in);
        const struct vmm_snap_section *cs = vmm_snap_need(&s, "config", 0, err);
        json_t *cfg = cs ? json_loadb((const char *) cs->data, cs->len, 0, NULL) : NULL;
        int ret = 0;
        if (!cs)
                ret = -1;
        else if (!json_is_object(cfg))
                ret = berth_fail(err, EINVAL, "state file `%s`: its configuration is malformed",
                                 in);
        else if (json_array_size(json_object_get(cfg, "network-interfaces")) > 0)
                /* The restored guest's driver holds the snapshot's MAC (berth-vmm refuses
                 * another on load), and its tap is the source's: not done (docs/vm.md). */
                ret = berth_fail(err, ENOTSUP,
                                 "the snapshot's VM has network interfaces: a clone would share "
                                 "their MAC and tap with its source (not done)");
        if (ret < 0) {
                json_decref(cfg);
                vmm_snap_release(&s);
                return -1;
        }
        repoint(cfg, map, vsock_uds);
        char *text = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
        json_decref(cfg);
        struct vmm_snap_buf b;
        vmm_snap_buf_init(&b);
        for (unsigned i = 0; i < s.n; i++) {
                const struct vmm_snap_section *sec = &s.sec[i];
                vmm_snap_section(&b, sec->name, sec->instance, sec->version);
                if (sec == cs)
                        vmm_snap_put_bytes(&b, text, strlen(text));
                else
                        vmm_snap_put_bytes(&b, sec->data, (size_t) sec->len);
        }
        vmm_snap_finish(&b);
        free(text);
        vmm_snap_release(&s);
        ret = berth_write_file_atomic(out, b.data, b.len, 0600, err);
        vmm_snap_buf_release(&b);
        return ret;
}

/* The clone's vm.json: the source's settings (pins, NUMA, limits, NoJail, NoAcpi) under
 * its own name.  Its disk copies live in its directory and go with `vm rm`, so it names no
 * user disk for `vm rm --disks` to delete (the read-only ones it shares are the source's). */
static json_t *clone_meta(const json_t *src, json_t *map, const char *name, const char *snap,
                          const char *newname)
{
        json_t *m = json_deep_copy(src), *ov = json_array(), *o;
        size_t i;
        json_array_foreach(json_object_get(src, "Overlays"), i, o)
        { /* the source's overlays, copied: the clone's own on the same base */
                const char *path = json_string_value(json_object_get(o, "Path"));
                json_t *to = path ? json_object_get(map, path) : NULL;
                json_t *base = json_object_get(o, "Base");
                if (to && json_is_string(base))
                        json_array_append_new(ov, json_pack("{s:O,s:O}", "Path", to, "Base", base));
        }
        char now[64];
        berth_rfc3339(berth_now_ns(), false, now, sizeof(now));
        json_object_set_new(m, "Name", json_string(newname));
        json_object_set_new(m, "Created", json_string(now));
        json_object_set_new(m, "Autostart", json_false()); /* one autostart per machine image */
        json_object_set_new(m, "Overlays", ov);
        json_object_set_new(m, "Disks", json_array());
        json_object_set_new(m, "ClonedFrom", json_pack("{s:s,s:s}", "VM", name, "Snapshot", snap));
        return m;
}

/* Everything the clone needs, into tmp (to be published as fin), while the source's
 * record is locked: no `snapshot rm` can take the snapshot away meanwhile. */
static int build(struct vm_ctx *c, struct vm_rec *src, const char *snap, const char *newname,
                 const char *tmp, const char *fin, berth_error_t *err)
{
        cleanup_free char *dir = berth_xasprintf("%s/snapshots/%s", src->dir, snap);
        cleanup_free char *mp = berth_xasprintf("%s/snapshot.json", dir);
        cleanup_free char *state = berth_xasprintf("%s/state", dir);
        json_auto_t *meta = json_load_file(mp, 0, NULL);
        if (!json_is_object(meta))
                return berth_fail(err, ENOENT, "VM `%s` has no snapshot `%s`", src->name, snap);
        cleanup_free char *mem = NULL;
        json_auto_t *diffs = NULL;
        if (access(state, F_OK) < 0 || vm_snapshot_memory(src, snap, &mem, &diffs, err) < 0)
                return berth_wrap(err,
                                  "snapshot `%s` of VM `%s` has no memory: a clone starts from a "
                                  "full or diff snapshot",
                                  snap, src->name);
        json_auto_t *map = json_object(); /* the source's disk path -> the clone's copy */
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(meta, "Disks"), i, d)
        {
                const char *path = json_string_value(json_object_get(d, "Path"));
                const char *copy = json_string_value(json_object_get(d, "Copy"));
                if (!path || !copy || !vm_name_valid(copy))
                        return berth_fail(err, EINVAL, "snapshot `%s`: bad disk entry", snap);
                cleanup_free char *from = berth_xasprintf("%s/%s", dir, copy);
                cleanup_free char *to = berth_xasprintf("%s/%s", tmp, copy);
                if (vm_copy_file(from, to, err) < 0)
                        return -1;
                json_object_set_new(map, path, json_sprintf("%s/%s", fin, copy));
        }
        cleanup_free char *run = berth_path_join(c->run_dir, newname);
        cleanup_free char *uds = berth_path_join(run, "vsock.sock");
        cleanup_free char *new_state = berth_path_join(tmp, CLONE_STATE);
        if (rewrite_state(state, new_state, map, uds, err) < 0)
                return -1;
        /* Mapped privately by the restoring VMM: a link is enough, and it outlives a
         * `snapshot rm` between this and the clone's start. */
        cleanup_free char *new_mem = berth_path_join(tmp, CLONE_MEM);
        if (vm_link_sparse(mem, new_mem, err) < 0)
                return -1;
        json_array_foreach(diffs, i, d) /* a diff snapshot's chain, each layer likewise */
        {
                cleanup_free char *to = berth_xasprintf("%s/" CLONE_DIFF, tmp, i);
                if (vm_link_sparse(json_string_value(d), to, err) < 0)
                        return -1;
        }
        json_auto_t *cfg = json_deep_copy(src->cfg);
        repoint(cfg, map, uds);
        json_auto_t *vm_meta = clone_meta(src->meta, map, src->name, snap, newname);
        return vm_write_record(tmp, cfg, vm_meta, err);
}

bool vm_clone_pending(struct vm_rec *r)
{
        cleanup_free char *state = vm_rec_path(r, CLONE_STATE);
        return access(state, F_OK) == 0;
}

/* Start the clone from its state and memory, as a revert does; then drop the files that only
 * its first start needs. */
int vm_clone_first_start(struct vm_rec *r, berth_error_t *err)
{
        cleanup_free char *state = vm_rec_path(r, CLONE_STATE);
        cleanup_free char *mem = vm_rec_path(r, CLONE_MEM);
        json_auto_t *diffs = json_array();
        for (size_t i = 0; i < VM_MAX_MEM_DIFFS; i++) {
                cleanup_free char *name = berth_xasprintf(CLONE_DIFF, i);
                cleanup_free char *p = vm_rec_path(r, name);
                if (access(p, F_OK) < 0)
                        break;
                json_array_append_new(diffs, json_string(p));
        }
        r->restore_state = state;
        r->restore_mem = mem;
        r->restore_diffs = diffs;
        /* No vm_check_disks: the clone's writable disks are its fresh copies, and what it
         * shares with the source is read-only. */
        int ret = vm_supervisor_start(r, err);
        if (ret == 0 &&
            vm_apply_pins(r, (int) json_integer_value(json_object_get(r->state, "Pid")), err) < 0)
                ret = -1;
        r->restore_state = r->restore_mem = NULL;
        r->restore_diffs = NULL;
        if (ret < 0)
                return -1; /* the files stay for the next try */
        /* berth-vmm has read the state and mapped the memory before its API answers. */
        (void) unlink(state);
        (void) unlink(mem);
        size_t i;
        json_t *d;
        json_array_foreach(diffs, i, d)
        {
                (void) unlink(json_string_value(d));
        }
        return ret;
}

static int start(struct vm_ctx *c, const char *newname, berth_error_t *err)
{
        struct vm_rec r = {0};
        if (vm_rec_open(c, newname, &r, err) < 0)
                return -1;
        int ret = vm_clone_first_start(&r, err);
        vm_rec_close(&r);
        return ret;
}

int vm_clone(struct vm_ctx *c, const char *name, const char *snap, const char *newname,
             bool start_now, berth_error_t *err)
{
        if (!vm_name_valid(newname))
                return berth_fail(err, EINVAL,
                                  "invalid VM name `%s`: 1-63 letters, digits, `_`, `.` or `-`, "
                                  "starting with a letter or digit",
                                  newname);
        if (!vm_name_valid(snap))
                return berth_fail(err, EINVAL, "bad snapshot name `%s`", snap);
        cleanup_free char *fin = berth_path_join(c->data_dir, newname);
        if (access(fin, F_OK) == 0)
                return berth_fail(err, EEXIST, "the VM name `%s` is already in use", newname);
        struct vm_rec src = {0};
        if (vm_rec_open(c, name, &src, err) < 0)
                return -1;
        cleanup_free char *base = berth_xasprintf(".clone-%s-%d", newname, (int) getpid());
        cleanup_free char *tmp = berth_path_join(c->data_dir, base);
        int ret = 0;
        if (mkdir(tmp, 0700) < 0)
                ret = berth_fail(err, errno, "create `%s`", tmp);
        else if ((ret = build(c, &src, snap, newname, tmp, fin, err)) < 0)
                (void) vm_rm_flat_dir(tmp);
        vm_rec_close(&src);
        if (ret < 0)
                return berth_wrap(err, "clone VM `%s` from `%s`", name, snap);
        /* rename(2) onto an existing non-empty directory fails: the name is taken by
         * whoever published first. */
        if (rename(tmp, fin) < 0) {
                int e = errno;
                (void) vm_rm_flat_dir(tmp);
                if (e == EEXIST || e == ENOTEMPTY)
                        return berth_fail(err, EEXIST, "the VM name `%s` is already in use",
                                          newname);
                return berth_fail(err, e, "publish VM `%s`", newname);
        }
        /* --no-start: defined and shut off; its first `vm start` is the snapshot */
        if (start_now && start(c, newname, err) < 0) {
                berth_error_t e = NULL;
                if (vm_remove(c, newname, false, &e) < 0) {
                        log_warn("VM %s: remove the clone that did not start: %s", newname,
                                 berth_error_msg(e));
                        berth_error_release(&e);
                }
                return berth_wrap(err, "start clone `%s` of VM `%s` from `%s`", newname, name,
                                  snap);
        }
        return 0;
}
