/* lifecycle.c — start, destroy, shutdown, reboot, suspend/resume, undefine
 * and autostart: each under the VM's lock, each checking the reconciled
 * state first, so a command on the wrong state fails cleanly and leaves
 * nothing changed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "vm/vm_internal.h"

/* Files a VM's disks touch, each with whether it writes it. */
struct vm_file {
        char *path;
        bool writes;
};

static size_t vm_files(json_t *cfg, struct vm_file *f, size_t max)
{
        size_t n = 0, i;
        json_t *d;
        json_array_foreach(json_object_get(cfg, "drives"), i, d)
        {
                const char *p = json_string_value(json_object_get(d, "path_on_host"));
                const char *b = json_string_value(json_object_get(d, "backing"));
                char *rp = p ? realpath(p, NULL) : NULL;
                if (rp && n < max)
                        f[n++] = (struct vm_file){
                                rp, !json_is_true(json_object_get(d, "is_read_only"))};
                else
                        free(rp);
                char *rb = b ? realpath(b, NULL) : NULL;
                if (rb && n < max)
                        f[n++] = (struct vm_file){rb, false};
                else
                        free(rb);
        }
        return n;
}

int vm_check_disks(struct vm_ctx *c, const char *name, json_t *cfg, berth_error_t *err)
{
        struct vm_file mine[2 * VM_MAX_DISKS];
        size_t nm = vm_files(cfg, mine, BERTH_ARRAY_SIZE(mine));
        struct vm_info *v = NULL;
        size_t n = 0;
        int ret = 0;
        if (nm && vm_list_skip(c, name, &v, &n, err) < 0)
                ret = -1;
        for (size_t i = 0; i < n && ret == 0; i++) {
                if (strcmp(v[i].name, name) == 0 ||
                    (v[i].status != VM_RUNNING && v[i].status != VM_PAUSED))
                        continue;
                struct vm_rec r;
                if (vm_rec_open(c, v[i].name, &r, NULL) < 0)
                        continue;
                struct vm_file theirs[2 * VM_MAX_DISKS];
                size_t nt = vm_files(r.cfg, theirs, BERTH_ARRAY_SIZE(theirs));
                for (size_t a = 0; a < nm && ret == 0; a++)
                        for (size_t b = 0; b < nt && ret == 0; b++)
                                if (strcmp(mine[a].path, theirs[b].path) == 0 &&
                                    (mine[a].writes || theirs[b].writes))
                                        ret = berth_fail(err, 0,
                                                         "disk `%s` is in use by running VM `%s`%s",
                                                         mine[a].path, v[i].name,
                                                         theirs[b].writes ? " (read-write)" : "");
                for (size_t b = 0; b < nt; b++)
                        free(theirs[b].path);
                vm_rec_close(&r);
        }
        for (size_t a = 0; a < nm; a++)
                free(mine[a].path);
        for (size_t i = 0; i < n; i++)
                vm_info_free(&v[i]);
        free(v);
        return ret;
}

/* Open r and require it to be running (or not). */
static int open_in(struct vm_ctx *c, const char *name, bool want_live, struct vm_rec *r,
                   enum vm_status *st, berth_error_t *err)
{
        if (vm_rec_open(c, name, r, err) < 0)
                return -1;
        *st = vm_rec_reconcile(r);
        if (vm_status_live(*st) != want_live) {
                berth_fail(err, 0,
                           want_live ? "VM `%s` is not running (%s)"
                                     : "VM `%s` is already running%s",
                           name, want_live ? vm_status_name(*st) : "");
                vm_rec_close(r);
                return -1;
        }
        return 0;
}

int vm_start(struct vm_ctx *c, const char *name, berth_error_t *err)
{
        struct vm_rec r;
        enum vm_status st;
        if (open_in(c, name, false, &r, &st, err) < 0)
                return -1;
        if (vm_clone_pending(&r)) { /* a clone made with --no-start: the snapshot, once */
                int ret = vm_clone_first_start(&r, err);
                vm_rec_close(&r);
                return ret < 0 ? berth_wrap(err, "start VM `%s`", name) : 0;
        }
        int ret = vm_check_disks(c, name, r.cfg, err);
        if (ret == 0) /* an unknown network is refused here, before any fork */
                ret = vm_net_check(&r, err);
        if (ret == 0)
                ret = vm_supervisor_start(&r, err);
        /* A pin that cannot be applied is reported; the VM runs on unpinned. */
        if (ret == 0 &&
            vm_apply_pins(&r, (int) json_integer_value(json_object_get(r.state, "Pid")), err) < 0)
                ret = -1;
        vm_rec_close(&r);
        return ret < 0 ? berth_wrap(err, "start VM `%s`", name) : 0;
}

static void set_intent(struct vm_rec *r, const char *intent)
{
        json_object_set_new(r->state, "Intent", json_string(intent));
        berth_error_t e = NULL;
        if (vm_rec_save_state(r, &e) < 0) {
                log_warn("VM %s: %s", r->name, berth_error_msg(e));
                berth_error_release(&e);
        }
}

static int vmm_pid(struct vm_rec *r)
{
        return (int) json_integer_value(json_object_get(r->state, "Pid"));
}

/* SIGTERM (berth-vmm stops the VM and cleans up, status 13), then SIGKILL
 * for a VMM that does not go; the supervisor records it. */
static int stop_vmm(struct vm_rec *r, berth_error_t *err)
{
        int pid = vmm_pid(r);
        if (pid > 0)
                kill(pid, SIGTERM);
        int done = vm_wait_stopped(r, 5000, err);
        if (done == 0) {
                pid = vmm_pid(r);
                if (pid > 0)
                        kill(pid, SIGKILL);
                done = vm_wait_stopped(r, 5000, err);
        }
        if (done < 0)
                return -1;
        return done ? 0 : berth_fail(err, ETIMEDOUT, "VM `%s` did not stop", r->name);
}

int vm_destroy(struct vm_ctx *c, const char *name, berth_error_t *err)
{
        struct vm_rec r;
        enum vm_status st;
        if (open_in(c, name, true, &r, &st, err) < 0)
                return -1;
        set_intent(&r, "destroy");
        int ret = stop_vmm(&r, err);
        vm_rec_close(&r);
        return ret;
}

int vm_shutdown(struct vm_ctx *c, const char *name, unsigned timeout_s, bool force,
                berth_error_t *err)
{
        struct vm_rec r;
        enum vm_status st;
        if (open_in(c, name, true, &r, &st, err) < 0)
                return -1;
        cleanup_free char *sock = vm_rec_run_path(&r, "api.sock");
        bool acpi = !json_is_true(json_object_get(r.meta, "NoAcpi"));
        int ret = 0;
        /* A paused guest cannot hear the button. */
        if (st == VM_PAUSED)
                ret = vm_api_pause(sock, false, err);
        if (ret == 0) {
                json_object_set_new(r.state, "Paused", json_false());
                set_intent(&r, "shutdown");
                json_t *body = json_pack("{s:s}", "action_type",
                                         acpi ? "SendPowerButton" : "SendCtrlAltDel");
                ret = vm_api_ok(sock, "PUT", "/actions", body, NULL, err) < 0 ? -1 : 0;
                json_decref(body);
        }
        int done = ret < 0 ? 0 : vm_wait_stopped(&r, timeout_s * 1000, err);
        if (done < 0) {
                ret = -1;
        } else if (done == 0 && force) {
                if (ret < 0) {
                        log_warn("VM %s: %s", name, berth_error_msg(*err));
                        berth_error_release(err);
                }
                log_info("VM %s: no shutdown within %u s: destroying it", name, timeout_s);
                set_intent(&r, "destroy");
                ret = stop_vmm(&r, err);
        } else if (done == 0 && ret == 0) {
                json_object_del(r.state, "Intent");
                berth_error_t e = NULL;
                if (vm_rec_save_state(&r, &e) < 0)
                        berth_error_release(&e);
                ret = berth_fail(err, 0,
                                 "VM `%s` did not shut down within %u s (the guest ignored "
                                 "the %s; --force destroys it then)",
                                 name, timeout_s, acpi ? "power button" : "Ctrl+Alt+Del");
        }
        vm_rec_close(&r);
        return ret;
}

int vm_reboot(struct vm_ctx *c, const char *name, bool force, berth_error_t *err)
{
        struct vm_rec r;
        enum vm_status st;
        if (open_in(c, name, true, &r, &st, err) < 0)
                return -1;
        int ret;
        if (force) {
                set_intent(&r, "reset");
                int pid = vmm_pid(&r);
                ret = pid > 0 && kill(pid, SIGTERM) == 0
                              ? 0
                              : berth_fail(err, errno, "signal berth-vmm of VM `%s`", name);
        } else {
                cleanup_free char *sock = vm_rec_run_path(&r, "api.sock");
                json_t *body = json_pack("{s:s}", "action_type", "SendCtrlAltDel");
                ret = vm_api_ok(sock, "PUT", "/actions", body, NULL, err) < 0 ? -1 : 0;
                json_decref(body);
        }
        vm_rec_close(&r);
        return ret;
}

int vm_pause(struct vm_ctx *c, const char *name, bool pause, berth_error_t *err)
{
        struct vm_rec r;
        enum vm_status st;
        if (open_in(c, name, true, &r, &st, err) < 0)
                return -1;
        int ret = 0;
        if ((st == VM_PAUSED) == pause) {
                ret = berth_fail(err, 0, "VM `%s` is %s", name,
                                 pause ? "already paused" : "not paused");
        } else {
                cleanup_free char *sock = vm_rec_run_path(&r, "api.sock");
                ret = vm_api_pause(sock, pause, err);
                if (ret >= 0) {
                        json_object_set_new(r.state, "Paused", json_boolean(pause));
                        ret = vm_rec_save_state(&r, err);
                }
        }
        vm_rec_close(&r);
        return ret < 0 ? -1 : 0;
}

/* Remove what dir holds, directories depth levels down. */
static void empty_dir(const char *dir, int depth)
{
        cleanup_dir DIR *d = opendir(dir);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                if (unlinkat(dirfd(d), e->d_name, 0) == 0 || errno != EISDIR || depth <= 0)
                        continue;
                cleanup_free char *sub = berth_xasprintf("%s/%s", dir, e->d_name);
                empty_dir(sub, depth - 1);
                (void) unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR);
        }
}

int vm_remove(struct vm_ctx *c, const char *name, bool disks, berth_error_t *err)
{
        struct vm_rec r;
        enum vm_status st;
        if (open_in(c, name, false, &r, &st, err) < 0)
                return -1;
        json_t *mig = json_object_get(r.state, "LastMigration");
        const char *mode = json_string_value(json_object_get(mig, "Mode"));
        const char *dest = json_string_value(json_object_get(mig, "Destination"));
        if (disks && dest && mode && strcmp(mode, "cold") != 0 &&
            !json_is_true(json_object_get(mig, "CopyStorage"))) {
                /* a live migration leaves the disks where they were, shared with the
                 * destination that runs on them now (unless it copied them) */
                vm_rec_close(&r);
                return berth_fail_status(err, 1, 0,
                                         "VM %s moved live to %s and its disks went with it "
                                         "(shared storage): remove it without --disks",
                                         name, dest);
        }
        if (disks) {
                size_t i;
                json_t *d;
                json_array_foreach(json_object_get(r.meta, "Disks"), i, d)
                {
                        const char *p = json_string_value(d);
                        if (p && unlink(p) < 0 && errno != ENOENT)
                                log_warn("VM %s: remove disk `%s`: %s", name, p, strerror(errno));
                }
        }
        vm_cgroup_remove(&r); /* left by a supervisor that was killed */
        /* Out of sight first (one rename), then emptied: a reader never
         * finds half a VM. */
        cleanup_free char *gone =
                berth_xasprintf("%s/.rm-%s-%d", c->data_dir, name, (int) getpid());
        int ret = 0;
        if (rename(r.dir, gone) < 0) {
                ret = berth_fail(err, errno, "remove VM `%s`", name);
        } else {
                empty_dir(gone, 2); /* its files, and snapshots/<snap>/ */
                if (rmdir(gone) < 0)
                        log_warn("VM %s: remove `%s`: %s", name, gone, strerror(errno));
                (void) rmdir(r.run);
        }
        vm_rec_close(&r);
        return ret;
}

int vm_set_autostart(struct vm_ctx *c, const char *name, bool on, berth_error_t *err)
{
        struct vm_rec r;
        if (vm_rec_open(c, name, &r, err) < 0)
                return -1;
        json_object_set_new(r.meta, "Autostart", json_boolean(on));
        int ret = vm_rec_save_meta(&r, err);
        vm_rec_close(&r);
        return ret;
}

char **vm_autostart_due(struct vm_ctx *c, bool boot, berth_error_t *err)
{
        struct vm_info *v;
        size_t n, k = 0;
        if (vm_list(c, &v, &n, err) < 0)
                return NULL;
        char **names = berth_xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++) {
                if (v[i].autostart &&
                    (v[i].status == VM_CRASHED || (boot && v[i].status == VM_SHUT_OFF)))
                        names[k++] = berth_steal_ptr(&v[i].name);
                vm_info_free(&v[i]);
        }
        free(v);
        return names;
}
