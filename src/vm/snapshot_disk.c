/* snapshot_disk.c — `berth vm snapshot create NAME SNAP --disk-only`: external qcow2 overlays,
 * as `virsh snapshot-create-as --disk-only` (docs/vm.md).
 *
 *   <data>/vms/<name>/snapshots/.chain/<drive>-<N>.qcow2  overlays (the chain's upper layers)
 *   <data>/vms/<name>/snapshots/<snap>/snapshot.json       Kind "disk-only", per writable
 *                                                          drive the file active when taken
 *
 * A snapshot freezes each writable disk's active layer: a new overlay on it becomes the
 * active layer.  Revert puts a fresh overlay on the recorded file; rm merges (the one overlay
 * above the snapshot's file is committed into it) so the chain gets shorter.  Every change
 * ends with a sweep: chain files no active layer or snapshot reaches are removed.
 *
 * A running VM's snapshot is taken paused: the overlays are made, berth-vmm switches each
 * drive onto its own (PATCH /drives: the open disk becomes the overlay's backing file, so a
 * jailed VMM opens only the overlay, which is then the jail's uid's), and the VM resumes.
 * Revert and rm want a shut-off VM. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"
#include "disk/convert.h"
#include "disk/disk.h"
#include "disk/qcow2.h"
#include "vm/vm_internal.h"

static char *chain_dir(const struct vm_rec *r)
{
        return berth_xasprintf("%s/snapshots/.chain", r->dir);
}

static bool in_chain(const struct vm_rec *r, const char *path)
{
        cleanup_free char *d = chain_dir(r);
        size_t n = strlen(d);
        return strncmp(path, d, n) == 0 && path[n] == '/';
}

static int save_cfg(const struct vm_rec *r, berth_error_t *err)
{
        cleanup_free char *p = vm_rec_path(r, "config.json");
        char *text = json_dumps(r->cfg, JSON_INDENT(2));
        int ret = berth_write_file_atomic(p, text, strlen(text), 0600, err);
        free(text);
        return ret;
}

static json_t *drive_by_id(const struct vm_rec *r, const char *id)
{
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(r->cfg, "drives"), i, d)
        {
                const char *did = json_string_value(json_object_get(d, "drive_id"));
                if (did && id && strcmp(did, id) == 0)
                        return d;
        }
        return NULL;
}

/* The chain's lower files lie outside the overlays' directory: the drive's backing policy
 * (docs/disk.md "Backing files") must name them, for berth-vmm and for the work here. */
static void allow_backing(json_t *drive, const char *file)
{
        const char *cur = json_string_value(json_object_get(drive, "backing"));
        if (cur) {
                size_t n = strlen(file);
                for (const char *p = cur; p; p = strchr(p, ':') ? strchr(p, ':') + 1 : NULL)
                        if (strncmp(p, file, n) == 0 && (p[n] == ':' || p[n] == 0))
                                return;
        }
        char *v = cur ? berth_xasprintf("%s:%s", cur, file) : berth_xstrdup(file);
        json_object_set_new(drive, "backing", json_string(v));
        free(v);
}

/* disk_open's policy while one drive's chain is worked on (o must outlive the work). */
static void use_policy(struct disk_open_opts *o, const json_t *drive)
{
        o->backing_allow = json_string_value(json_object_get(drive, "backing"));
        o->backing_any = false;
        disk_set_default_opts(o);
}

/* The backing file `path` names (resolved), NULL for none; *fmt gets path's own format. */
static int backing_of(const char *path, enum disk_format *fmt, char **out, berth_error_t *err)
{
        struct disk *d = NULL;
        *out = NULL;
        if (disk_open(path, DISK_FORMAT_AUTO, DISK_RDONLY | DISK_NO_BACKING, &d, err) < 0)
                return -1;
        if (fmt)
                *fmt = d->format;
        struct qcow2_info qi;
        int ret = 0;
        if (d->format == DISK_FORMAT_QCOW2) {
                ret = qcow2_get_info(d, &qi, err);
                if (ret == 0 && qi.backing_name)
                        *out = disk_backing_path(path, qi.backing_name);
        }
        disk_close(d);
        return ret;
}

/* A new overlay on `base` in the chain directory, for drive id: *out its path. */
static int new_overlay(const struct vm_rec *r, const char *id, const char *base,
                       enum disk_format base_fmt, char **out, berth_error_t *err)
{
        cleanup_free char *dir = chain_dir(r);
        cleanup_free char *top = vm_rec_path(r, "snapshots");
        if ((mkdir(top, 0700) < 0 && errno != EEXIST) || (mkdir(dir, 0700) < 0 && errno != EEXIST))
                return berth_fail(err, errno, "mkdir `%s`", dir);
        char *p = NULL;
        for (unsigned n = 1;; n++) { /* the lowest free number: names never reused while in use */
                free(p);
                p = berth_xasprintf("%s/%s-%u.qcow2", dir, id, n);
                if (access(p, F_OK) < 0)
                        break;
        }
        struct disk_create_opts co = {
                .format = DISK_FORMAT_QCOW2, .backing = base, .backing_fmt = base_fmt};
        if (disk_create(p, &co, err) < 0) {
                (void) unlink(p);
                free(p);
                return berth_wrap(err, "make an overlay on `%s`", base);
        }
        *out = p;
        return 0;
}

/* Every disk-only snapshot's document (an array, the caller's), skipping `skip`. */
static json_t *disk_snapshots(const struct vm_rec *r, const char *skip)
{
        json_t *out = json_array();
        cleanup_free char *base = vm_rec_path(r, "snapshots");
        DIR *d = opendir(base);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
                if (e->d_name[0] == '.' || (skip && strcmp(e->d_name, skip) == 0))
                        continue;
                cleanup_free char *p = berth_xasprintf("%s/%s/snapshot.json", base, e->d_name);
                json_t *m = json_load_file(p, 0, NULL);
                const char *k = json_string_value(json_object_get(m, "Kind"));
                if (k && strcmp(k, "disk-only") == 0)
                        json_array_append(out, m);
                json_decref(m);
        }
        if (d)
                closedir(d);
        return out;
}

static void mark_chain(json_t *seen, const char *file)
{
        char *p = file ? berth_xstrdup(file) : NULL;
        for (unsigned depth = 0; p && depth < 64 && !json_object_get(seen, p); depth++) {
                json_object_set_new(seen, p, json_true());
                char *next = NULL;
                berth_error_t e = NULL;
                if (backing_of(p, NULL, &next, &e) < 0)
                        berth_error_release(&e);
                free(p);
                p = next;
        }
        free(p);
}

/* Remove chain files that no active layer and no snapshot reaches. */
static void sweep(const struct vm_rec *r)
{
        json_t *seen = json_object(), *d, *s, *snaps = disk_snapshots(r, NULL);
        size_t i, j;
        json_array_foreach(json_object_get(r->cfg, "drives"), i, d)
        {
                mark_chain(seen, json_string_value(json_object_get(d, "path_on_host")));
        }
        json_array_foreach(snaps, i, s)
        {
                json_array_foreach(json_object_get(s, "Disks"), j, d)
                {
                        mark_chain(seen, json_string_value(json_object_get(d, "File")));
                }
        }
        json_decref(snaps);
        cleanup_free char *dir = chain_dir(r);
        DIR *dp = opendir(dir);
        struct dirent *e;
        while (dp && (e = readdir(dp)) != NULL) {
                if (e->d_name[0] == '.')
                        continue;
                cleanup_free char *p = berth_xasprintf("%s/%s", dir, e->d_name);
                if (!json_object_get(seen, p))
                        (void) unlink(p);
        }
        if (dp)
                closedir(dp);
        (void) rmdir(dir); /* only when empty */
        json_decref(seen);
}

static int refuse_live(struct vm_rec *r, const char *what, berth_error_t *err)
{
        enum vm_status st = vm_rec_reconcile(r);
        if (!vm_status_live(st))
                return 0;
        return berth_fail(err, EBUSY,
                          "VM `%s` is %s: %s works on a shut-off VM; shut it down first", r->name,
                          vm_status_name(st), what);
}

/* A running VM's drives onto their new overlays (switch: the drive documents, "Drive" and
 * "Over"), paused meanwhile unless it was.  On a failure the drives switched stay so (their
 * documents get "Switched"), the definition must follow them. */
static int switch_live(struct vm_rec *r, enum vm_status st, json_t *sw, berth_error_t *err)
{
        cleanup_free char *sock = vm_rec_run_path(r, "api.sock");
        int ret = st == VM_PAUSED ? 0 : vm_api_pause(sock, true, err);
        size_t i;
        json_t *d;
        json_array_foreach(sw, i, d)
        {
                if (ret < 0)
                        break;
                const char *id = json_string_value(json_object_get(d, "Drive"));
                cleanup_free char *path = berth_xasprintf("/drives/%s", id);
                json_t *body = json_pack("{s:O}", "path_on_host", json_object_get(d, "Over"));
                if (json_is_string(json_object_get(d, "Backing")))
                        json_object_set(body, "backing", json_object_get(d, "Backing"));
                ret = vm_api_ok(sock, "PATCH", path, body, NULL, err) < 0 ? -1 : 0;
                json_decref(body);
                if (ret == 0)
                        json_object_set_new(d, "Switched", json_true());
        }
        if (st != VM_PAUSED) {
                berth_error_t e = NULL;
                if (vm_api_pause(sock, false, ret < 0 ? &e : err) < 0 && ret == 0)
                        ret = -1;
                berth_error_release(&e);
        }
        return ret;
}

int vm_snapshot_create_disk(struct vm_ctx *c, const char *name, const char *snap,
                            berth_error_t *err)
{
        struct vm_rec r = {0};
        if (!vm_name_valid(snap))
                return berth_fail(err, EINVAL, "bad snapshot name `%s`", snap);
        if (vm_rec_open(c, name, &r, err) < 0)
                return -1;
        cleanup_free char *dir = berth_xasprintf("%s/snapshots/%s", r.dir, snap);
        cleanup_free char *tmp = berth_xasprintf("%s/snapshots/.%s.tmp", r.dir, snap);
        json_t *disks = json_array(), *made = json_array(), *sw = json_array();
        json_t *old_cfg = json_deep_copy(r.cfg);
        struct disk_open_opts o;
        enum vm_status st = vm_rec_reconcile(&r);
        bool live = vm_status_live(st);
        bool jailed = live && json_is_true(json_object_get(r.state, "Jailed"));
        int ret = 0;
        if (ret == 0 && access(dir, F_OK) == 0)
                ret = berth_fail(err, EEXIST, "VM `%s` already has a snapshot `%s`", name, snap);
        size_t i;
        json_t *d;
        json_array_foreach(json_object_get(r.cfg, "drives"), i, d)
        {
                const char *path = json_string_value(json_object_get(d, "path_on_host"));
                const char *id = json_string_value(json_object_get(d, "drive_id"));
                if (ret < 0 || !path || !id || json_is_true(json_object_get(d, "is_read_only")))
                        continue;
                enum disk_format fmt;
                char *over = NULL, *ignored = NULL;
                if (!in_chain(&r, path)) /* an overlay's neighbours are allowed already */
                        allow_backing(d, path);
                use_policy(&o, d);
                ret = backing_of(path, &fmt, &ignored, err);
                free(ignored);
                if (ret == 0)
                        ret = new_overlay(&r, id, path, fmt, &over, err);
                disk_set_default_opts(NULL);
                if (ret < 0)
                        break;
                /* a jailed VMM opens the overlay as its uid: the jail's, in a directory
                 * it may pass (the snapshots directory is bound into its root) */
                if (jailed) {
                        cleanup_free char *cd = chain_dir(&r);
                        if (chmod(cd, 0711) < 0 || chown(over, VM_JAIL_ID, VM_JAIL_ID) < 0)
                                ret = berth_fail(err, errno, "hand `%s` to the jail", over);
                }
                json_array_append_new(made, json_string(over));
                json_array_append_new(disks, json_pack("{s:s,s:s,s:s}", "Drive", id, "File", path,
                                                       "Format", disk_format_name(fmt)));
                json_array_append_new(sw, json_pack("{s:s,s:s,s:O*}", "Drive", id, "Over", over,
                                                    "Backing", json_object_get(d, "backing")));
                json_object_set_new(d, "path_on_host", json_string(over));
                json_object_set_new(d, "format", json_string("qcow2"));
                free(over);
        }
        if (ret == 0 && json_array_size(disks) == 0)
                ret = berth_fail(err, EINVAL, "VM `%s` has no writable disk to snapshot", name);
        /* a running VM: its drives go on in the overlays now; those that did stay there
         * whatever comes next, and the definition with them */
        if (ret == 0 && live && switch_live(&r, st, sw, err) < 0) {
                json_array_foreach(sw, i, d)
                {
                        if (json_is_true(json_object_get(d, "Switched")))
                                json_array_set_new(made, i, json_null());
                        else
                                json_object_set(drive_by_id(&r, json_string_value(json_object_get(
                                                                        d, "Drive"))),
                                                "path_on_host",
                                                json_object_get(json_array_get(disks, i), "File"));
                }
                json_decref(old_cfg);
                old_cfg = json_deep_copy(r.cfg);
                (void) save_cfg(&r, NULL);
                ret = -1;
        }
        if (ret == 0) {
                (void) vm_rm_flat_dir(tmp);
                if (mkdir(tmp, 0700) < 0)
                        ret = berth_fail(err, errno, "mkdir `%s`", tmp);
        }
        if (ret == 0) {
                json_t *meta =
                        json_pack("{s:s,s:I,s:s,s:O}", "Name", snap, "Created",
                                  (json_int_t) time(NULL), "Kind", "disk-only", "Disks", disks);
                char *text = json_dumps(meta, JSON_INDENT(2));
                cleanup_free char *mp = berth_xasprintf("%s/snapshot.json", tmp);
                ret = berth_write_file_atomic(mp, text, strlen(text), 0600, err);
                free(text);
                json_decref(meta);
        }
        /* The definition first, then the snapshot's publication: undone in reverse. */
        if (ret == 0)
                ret = save_cfg(&r, err);
        if (ret == 0 && rename(tmp, dir) < 0) {
                ret = berth_fail(err, errno, "publish `%s`", dir);
                json_decref(r.cfg);
                r.cfg = json_incref(old_cfg);
                (void) save_cfg(&r, NULL);
        }
        if (ret < 0) {
                (void) vm_rm_flat_dir(tmp);
                json_array_foreach(made, i, d)
                {
                        if (json_is_string(d))
                                (void) unlink(json_string_value(d));
                }
                json_decref(r.cfg);
                r.cfg = json_incref(old_cfg);
                sweep(&r);
        }
        json_decref(old_cfg);
        json_decref(made);
        json_decref(disks);
        json_decref(sw);
        vm_rec_close(&r);
        return ret < 0 ? berth_wrap(err, "snapshot VM `%s`", name) : 0;
}

int vm_snapshot_revert_disk(struct vm_ctx *c, const char *name, const char *snap, json_t *meta,
                            berth_error_t *err)
{
        struct vm_rec r = {0};
        if (vm_rec_open(c, name, &r, err) < 0)
                return -1;
        json_t *old_cfg = json_deep_copy(r.cfg), *made = json_array();
        struct disk_open_opts o;
        int ret = refuse_live(&r, "a revert to a disk-only snapshot", err);
        size_t i;
        json_t *s;
        json_array_foreach(json_object_get(meta, "Disks"), i, s)
        {
                const char *id = json_string_value(json_object_get(s, "Drive"));
                const char *file = json_string_value(json_object_get(s, "File"));
                json_t *d = drive_by_id(&r, id);
                if (ret < 0)
                        break;
                if (!d || !file) {
                        ret = berth_fail(err, EINVAL, "snapshot `%s`: drive `%s` is not defined",
                                         snap, id ? id : "?");
                        break;
                }
                enum disk_format fmt = DISK_FORMAT_AUTO;
                const char *fs = json_string_value(json_object_get(s, "Format"));
                char *over = NULL;
                if (fs && disk_parse_format(fs, &fmt, err) < 0) {
                        ret = -1;
                        break;
                }
                use_policy(&o, d);
                ret = new_overlay(&r, id, file, fmt, &over, err);
                disk_set_default_opts(NULL);
                if (ret < 0)
                        break;
                json_array_append_new(made, json_string(over));
                json_object_set_new(d, "path_on_host", json_string(over));
                json_object_set_new(d, "format", json_string("qcow2"));
                free(over);
        }
        if (ret == 0)
                ret = save_cfg(&r, err);
        if (ret < 0) {
                json_array_foreach(made, i, s)
                {
                        (void) unlink(json_string_value(s));
                }
                json_decref(r.cfg);
                r.cfg = json_incref(old_cfg);
        }
        sweep(&r); /* the later overlays no snapshot needs */
        json_decref(made);
        json_decref(old_cfg);
        vm_rec_close(&r);
        return ret < 0 ? berth_wrap(err, "revert VM `%s` to `%s`", name, snap) : 0;
}

/* Point every user of `from` (the active layer, snapshots, overlays on it) at `to`. */
static int repoint(struct vm_rec *r, json_t *drive, const char *from, const char *to,
                   enum disk_format to_fmt, const char *skip, berth_error_t *err)
{
        const char *active = json_string_value(json_object_get(drive, "path_on_host"));
        if (active && strcmp(active, from) == 0) {
                json_object_set_new(drive, "path_on_host", json_string(to));
                json_object_set_new(drive, "format", json_string(disk_format_name(to_fmt)));
        }
        json_t *snaps = disk_snapshots(r, skip), *s, *d;
        size_t i, j;
        int ret = 0;
        json_array_foreach(snaps, i, s)
        {
                bool changed = false;
                json_array_foreach(json_object_get(s, "Disks"), j, d)
                {
                        const char *f = json_string_value(json_object_get(d, "File"));
                        if (f && strcmp(f, from) == 0) {
                                json_object_set_new(d, "File", json_string(to));
                                json_object_set_new(d, "Format",
                                                    json_string(disk_format_name(to_fmt)));
                                changed = true;
                        }
                }
                if (!changed || ret < 0)
                        continue;
                cleanup_free char *mp =
                        berth_xasprintf("%s/snapshots/%s/snapshot.json", r->dir,
                                        json_string_value(json_object_get(s, "Name")));
                char *text = json_dumps(s, JSON_INDENT(2));
                ret = berth_write_file_atomic(mp, text, strlen(text), 0600, err);
                free(text);
        }
        json_decref(snaps);
        cleanup_free char *dir = chain_dir(r);
        DIR *dp = opendir(dir);
        struct dirent *e;
        while (ret == 0 && dp && (e = readdir(dp)) != NULL) {
                if (e->d_name[0] == '.')
                        continue;
                cleanup_free char *p = berth_xasprintf("%s/%s", dir, e->d_name);
                cleanup_free char *b = NULL;
                if (backing_of(p, NULL, &b, err) < 0)
                        ret = -1;
                else if (b && strcmp(b, from) == 0) /* same content: no copy (unsafe) */
                        ret = disk_rebase(p, DISK_FORMAT_QCOW2, to, to_fmt, true, err);
        }
        if (dp)
                closedir(dp);
        return ret;
}

/* Files of the chain directory whose backing file is `file`: their count, *child the last. */
static int children(const struct vm_rec *r, const char *file, char **child, berth_error_t *err)
{
        cleanup_free char *dir = chain_dir(r);
        DIR *dp = opendir(dir);
        struct dirent *e;
        int n = 0;
        *child = NULL;
        while (dp && (e = readdir(dp)) != NULL) {
                if (e->d_name[0] == '.')
                        continue;
                char *p = berth_xasprintf("%s/%s", dir, e->d_name), *b = NULL;
                if (backing_of(p, NULL, &b, err) < 0) {
                        free(p);
                        n = -1;
                        break;
                }
                if (b && strcmp(b, file) == 0) {
                        n++;
                        free(*child);
                        *child = p;
                        p = NULL;
                }
                free(b);
                free(p);
        }
        if (dp)
                closedir(dp);
        return n;
}

/* Drop snapshot snap's hold on one drive's file: with one overlay on it (and nothing else
 * needing the file as it is), that overlay is committed into it and replaced by it. */
static int merge_one(struct vm_rec *r, const char *snap, json_t *drive, const char *file,
                     berth_error_t *err)
{
        json_t *snaps = disk_snapshots(r, snap), *s, *d;
        size_t i, j;
        bool held = false;
        json_array_foreach(snaps, i, s)
        {
                json_array_foreach(json_object_get(s, "Disks"), j, d)
                {
                        const char *f = json_string_value(json_object_get(d, "File"));
                        held = held || (f && strcmp(f, file) == 0);
                }
        }
        json_decref(snaps);
        const char *active = json_string_value(json_object_get(drive, "path_on_host"));
        if (held || (active && strcmp(active, file) == 0))
                return 0;
        char *child = NULL;
        int n = children(r, file, &child, err);
        int ret = n < 0 ? -1 : 0;
        if (n == 1) {
                enum disk_format fmt;
                char *ignored = NULL;
                ret = backing_of(file, &fmt, &ignored, err);
                free(ignored);
                if (ret == 0)
                        ret = disk_commit(child, DISK_FORMAT_QCOW2, false, err);
                if (ret == 0)
                        ret = repoint(r, drive, child, file, fmt, snap, err);
                if (ret < 0)
                        berth_wrap(err, "merge `%s` into `%s`", child, file);
        }
        /* n == 0: nothing reads the file any more (the sweep takes it); n > 1: it stays, the
         * base its overlays share. */
        free(child);
        return ret;
}

int vm_snapshot_remove_disk(struct vm_ctx *c, const char *name, const char *snap, json_t *meta,
                            berth_error_t *err)
{
        struct vm_rec r = {0};
        if (vm_rec_open(c, name, &r, err) < 0)
                return -1;
        struct disk_open_opts o;
        int ret = refuse_live(&r, "removing a disk-only snapshot", err);
        size_t i;
        json_t *s;
        json_array_foreach(json_object_get(meta, "Disks"), i, s)
        {
                const char *id = json_string_value(json_object_get(s, "Drive"));
                const char *file = json_string_value(json_object_get(s, "File"));
                json_t *d = drive_by_id(&r, id);
                if (ret < 0)
                        break;
                if (!d || !file)
                        continue; /* a drive gone from the definition: nothing to merge */
                use_policy(&o, d);
                ret = merge_one(&r, snap, d, file, err);
                disk_set_default_opts(NULL);
        }
        if (ret == 0)
                ret = save_cfg(&r, err);
        cleanup_free char *dir = berth_xasprintf("%s/snapshots/%s", r.dir, snap);
        if (ret == 0 && vm_rm_flat_dir(dir) < 0)
                ret = berth_fail(err, errno, "remove `%s`", dir);
        if (ret == 0)
                sweep(&r);
        vm_rec_close(&r);
        return ret < 0 ? berth_wrap(err, "remove snapshot `%s` of VM `%s`", snap, name) : 0;
}
