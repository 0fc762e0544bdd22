/* record.c — a VM's record on disk: its directory, lock and documents, and
 * the reconciliation that makes state.json tell the truth after a VMM died
 * behind berth's back (a kill -9, a host reboot). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "common/units.h"
#include "common/util.h"
#include "vm/vm_internal.h"

int vm_ctx_init(struct vm_ctx *c, const struct berth_paths *p, berth_error_t *err)
{
        c->data_dir = berth_path_join(p->data_dir, "vms");
        c->run_dir = berth_path_join(p->run_dir, "vms");
        const char *env = getenv("BERTH_VMM");
        c->vmm_bin = env && *env ? berth_xstrdup(env) : berth_sibling_binary("berth-vmm");
        if (berth_mkdir_p(c->data_dir, 0700, err) < 0 || berth_mkdir_p(c->run_dir, 0700, err) < 0)
                return berth_wrap(err, "make the VM directories");
        return 0;
}

void vm_ctx_free(struct vm_ctx *c)
{
        free(c->data_dir);
        free(c->run_dir);
        free(c->vmm_bin);
        c->data_dir = c->run_dir = c->vmm_bin = NULL;
}

const char *vm_status_name(enum vm_status s)
{
        switch (s) {
        case VM_RUNNING:
                return "running";
        case VM_PAUSED:
                return "paused";
        case VM_CRASHED:
                return "crashed";
        case VM_SHUT_OFF:
                break;
        }
        return "shut off";
}

int vm_rm_flat_dir(const char *dir)
{
        DIR *d = opendir(dir);
        if (d) {
                struct dirent *e;
                while ((e = readdir(d)) != NULL)
                        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                                (void) unlinkat(dirfd(d), e->d_name, 0);
                closedir(d);
        }
        return rmdir(dir);
}

bool vm_name_valid(const char *name)
{
        size_t n = strlen(name);
        if (n == 0 || n > 63 || !isalnum((unsigned char) name[0]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) name[i]) && !strchr("_.-", name[i]))
                        return false;
        return true;
}

char *vm_rec_path(const struct vm_rec *r, const char *file)
{
        return berth_path_join(r->dir, file);
}

char *vm_rec_run_path(const struct vm_rec *r, const char *file)
{
        return berth_path_join(r->run, file);
}

static int load_doc(const struct vm_rec *r, const char *file, bool required, json_t **out,
                    berth_error_t *err)
{
        cleanup_free char *p = vm_rec_path(r, file);
        json_error_t je;
        json_t *j = berth_json_load_file(p, &je);
        if (!j && errno == ENOENT && !required) {
                j = json_object();
        } else if (!j || !json_is_object(j)) {
                json_decref(j);
                return berth_fail(err, errno ? errno : EINVAL, "read `%s`: %s", p, je.text);
        }
        json_decref(*out);
        *out = j;
        return 0;
}

static int save_doc(const struct vm_rec *r, const char *file, json_t *doc, bool sync,
                    berth_error_t *err)
{
        cleanup_free char *p = vm_rec_path(r, file);
        cleanup_free char *s = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
        if (!s)
                return berth_fail(err, ENOMEM, "encode `%s`", p);
        size_t n = strlen(s);
        s[n] = '\n'; /* json_dumps's NUL becomes the last line's end */
        return sync ? berth_write_file_atomic(p, s, n + 1, 0600, err)
                    : berth_write_file_replace(p, s, n + 1, 0600, err);
}

int vm_rec_reload_state(struct vm_rec *r, berth_error_t *err)
{
        return load_doc(r, "state.json", false, &r->state, err);
}

/* state.json is reconciled by every reader, so a lost update costs nothing
 * that the next reader does not repair: no fsync. */
int vm_rec_save_state(struct vm_rec *r, berth_error_t *err)
{
        return save_doc(r, "state.json", r->state, false, err);
}

int vm_rec_save_meta(struct vm_rec *r, berth_error_t *err)
{
        return save_doc(r, "vm.json", r->meta, true, err);
}

int vm_rec_lock(struct vm_rec *r, berth_error_t *err)
{
        if (r->lock_fd >= 0)
                return 0;
        cleanup_free char *p = vm_rec_path(r, "lock");
        cleanup_close int fd = open(p, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? berth_fail(err, ENOENT, "no such VM: %s", r->name)
                                       : berth_fail(err, errno, "open `%s`", p);
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return berth_fail(err, errno, "lock VM `%s`", r->name);
        /* A remover may have taken the directory away while we waited. */
        struct stat st;
        if (fstat(fd, &st) < 0 || st.st_nlink == 0)
                return berth_fail(err, ENOENT, "no such VM: %s", r->name);
        r->lock_fd = berth_steal_fd(&fd);
        if (load_doc(r, "vm.json", true, &r->meta, err) < 0 ||
            load_doc(r, "config.json", true, &r->cfg, err) < 0 || vm_rec_reload_state(r, err) < 0) {
                vm_rec_unlock(r);
                return -1;
        }
        return 0;
}

void vm_rec_unlock(struct vm_rec *r)
{
        berth_closep(&r->lock_fd); /* closing drops the flock */
}

int vm_rec_open(struct vm_ctx *c, const char *name, struct vm_rec *r, berth_error_t *err)
{
        *r = (struct vm_rec){.ctx = c, .lock_fd = -1};
        if (!vm_name_valid(name))
                return berth_fail(err, ENOENT, "no such VM: %s", name);
        r->name = berth_xstrdup(name);
        r->dir = berth_path_join(c->data_dir, name);
        r->run = berth_path_join(c->run_dir, name);
        if (vm_rec_lock(r, err) < 0) {
                vm_rec_close(r);
                return -1;
        }
        return 0;
}

int vm_rec_read(struct vm_ctx *c, const char *name, struct vm_rec *r, berth_error_t *err)
{
        *r = (struct vm_rec){.ctx = c, .lock_fd = -1};
        if (!vm_name_valid(name))
                return berth_fail(err, ENOENT, "no such VM: %s", name);
        r->name = berth_xstrdup(name);
        r->dir = berth_path_join(c->data_dir, name);
        r->run = berth_path_join(c->run_dir, name);
        if (load_doc(r, "vm.json", true, &r->meta, err) < 0 ||
            load_doc(r, "config.json", true, &r->cfg, err) < 0 || vm_rec_reload_state(r, err) < 0) {
                vm_rec_close(r);
                return -1;
        }
        return 0;
}

void vm_rec_close(struct vm_rec *r)
{
        vm_rec_unlock(r);
        json_decref(r->meta);
        json_decref(r->cfg);
        json_decref(r->state);
        free(r->name);
        free(r->dir);
        free(r->run);
        *r = (struct vm_rec){.lock_fd = -1};
}

/* Field 22 (start time) of /proc/PID/stat, 0 if none; *state: field 3. */
static unsigned long long proc_stat(int pid, char *state)
{
        char p[64];
        snprintf(p, sizeof(p), "/proc/%d/stat", pid);
        cleanup_free char *s = NULL;
        if (pid <= 0 || berth_read_file(p, &s, NULL, NULL) < 0)
                return 0;
        /* comm may hold spaces and parentheses: fields count from the last ')'. */
        char *q = strrchr(s, ')');
        if (!q)
                return 0;
        *state = q[1] == ' ' ? q[2] : 0;
        unsigned long long v = 0;
        int field = 2;
        for (char *t = q + 1; *t && field < 22; t++)
                if (*t == ' ' && ++field == 22)
                        v = strtoull(t + 1, NULL, 10);
        return v;
}

unsigned long long vm_pid_start_time(int pid)
{
        char state;
        return proc_stat(pid, &state);
}

bool vm_pid_alive(int pid, unsigned long long start_time)
{
        if (pid <= 0 || (kill(pid, 0) < 0 && errno == ESRCH))
                return false;
        char state = 0;
        unsigned long long now = proc_stat(pid, &state);
        /* A zombie still has its stat; a reused pid has another start time. */
        if (!now || (start_time && now != start_time))
                return false;
        return state && state != 'Z' && state != 'X';
}

const char *vm_boot_id(void)
{
        static char id[64];
        if (!id[0]) {
                cleanup_free char *s = NULL;
                if (berth_read_file("/proc/sys/kernel/random/boot_id", &s, NULL, NULL) == 0) {
                        s[strcspn(s, "\n")] = 0;
                        snprintf(id, sizeof(id), "%s", s);
                }
        }
        return id;
}

static const char *sget(json_t *o, const char *k)
{
        const char *v = json_string_value(json_object_get(o, k));
        return v ? v : "";
}

enum vm_status vm_rec_reconcile(struct vm_rec *r)
{
        json_t *st = r->state;
        const char *status = sget(st, "Status");
        if (strcmp(status, "running") == 0) {
                int pid = (int) json_integer_value(json_object_get(st, "Pid"));
                unsigned long long t =
                        (unsigned long long) json_integer_value(json_object_get(st, "StartTime"));
                bool same_boot = strcmp(sget(st, "BootId"), vm_boot_id()) == 0;
                int sup = (int) json_integer_value(json_object_get(st, "SupervisorPid"));
                unsigned long long st_sup = (unsigned long long) json_integer_value(
                        json_object_get(st, "SupervisorStartTime"));
                /* A live supervisor records the exit itself (or is starting the
                 * VMM again after a reboot): until it has, the VM still runs. */
                if (same_boot && (vm_pid_alive(pid, t) || (st_sup && vm_pid_alive(sup, st_sup))))
                        return json_is_true(json_object_get(st, "Paused")) ? VM_PAUSED : VM_RUNNING;
                /* A destroy whose supervisor was gone too ends as asked. */
                bool destroyed = strcmp(sget(st, "Intent"), "destroy") == 0;
                /* Its supervisor records every exit it sees; one that is gone
                 * too (or a host that rebooted) leaves this to the reader. */
                char now[64];
                berth_rfc3339(berth_now_ns(), false, now, sizeof(now));
                json_object_set_new(st, "Status",
                                    json_string(same_boot && !destroyed ? "crashed" : "shut off"));
                json_object_set_new(st, "Reason",
                                    json_string(destroyed   ? "destroyed"
                                                : same_boot ? "berth-vmm died without its exit "
                                                              "being recorded"
                                                            : "the host rebooted"));
                json_object_set_new(st, "FinishedAt", json_string(now));
                json_object_set_new(st, "Paused", json_false());
                json_object_del(st, "Intent");
                berth_error_t err = NULL;
                if (vm_rec_save_state(r, &err) < 0) {
                        log_warn("VM %s: %s", r->name, berth_error_msg(err));
                        berth_error_release(&err);
                }
                status = sget(st, "Status");
        }
        return strcmp(status, "crashed") == 0 ? VM_CRASHED : VM_SHUT_OFF;
}

void vm_info_free(struct vm_info *i)
{
        free(i->name);
        i->name = NULL;
}

static void fill_info(struct vm_rec *r, struct vm_info *i)
{
        *i = (struct vm_info){.name = berth_xstrdup(r->name)};
        i->status = vm_rec_reconcile(r);
        if (i->status == VM_RUNNING || i->status == VM_PAUSED)
                i->pid = (int) json_integer_value(json_object_get(r->state, "Pid"));
        json_t *mc = json_object_get(r->cfg, "machine-config");
        i->cpus = (unsigned) json_integer_value(json_object_get(mc, "vcpu_count"));
        /* with --max-memory, the memory it was given (setmem moves it live) */
        json_t *cur = json_object_get(r->meta, "MemoryMiB");
        i->memory_mib =
                (uint64_t) json_integer_value(cur ? cur : json_object_get(mc, "mem_size_mib"));
        i->autostart = json_is_true(json_object_get(r->meta, "Autostart"));
}

int vm_get(struct vm_ctx *c, const char *name, struct vm_info *out, berth_error_t *err)
{
        struct vm_rec r;
        if (vm_rec_open(c, name, &r, err) < 0)
                return -1;
        fill_info(&r, out);
        vm_rec_close(&r);
        return 0;
}

static int by_name(const void *a, const void *b)
{
        return strcmp(((const struct vm_info *) a)->name, ((const struct vm_info *) b)->name);
}

int vm_list(struct vm_ctx *c, struct vm_info **out, size_t *n, berth_error_t *err)
{
        return vm_list_skip(c, NULL, out, n, err);
}

int vm_list_skip(struct vm_ctx *c, const char *skip, struct vm_info **out, size_t *n,
                 berth_error_t *err)
{
        *out = NULL;
        *n = 0;
        cleanup_dir DIR *d = opendir(c->data_dir);
        if (!d)
                return berth_fail(err, errno, "read `%s`", c->data_dir);
        struct vm_info *v = NULL;
        size_t cnt = 0, cap = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
                /* dot entries are makers' temporary directories */
                if (e->d_name[0] == '.' || !vm_name_valid(e->d_name) ||
                    (skip && strcmp(e->d_name, skip) == 0))
                        continue;
                struct vm_rec r;
                berth_error_t e2 = NULL;
                if (vm_rec_open(c, e->d_name, &r, &e2) < 0) {
                        /* removed meanwhile, or damaged: the list goes on */
                        log_debug("VM %s: %s", e->d_name, berth_error_msg(e2));
                        berth_error_release(&e2);
                        continue;
                }
                if (cnt == cap) {
                        cap = cap ? cap * 2 : 16;
                        v = berth_xrealloc(v, cap * sizeof(*v));
                }
                fill_info(&r, &v[cnt++]);
                vm_rec_close(&r);
        }
        if (cnt)
                qsort(v, cnt, sizeof(*v), by_name);
        *out = v;
        *n = cnt;
        return 0;
}
