/* checkpoint.c — `checkpoint` and `restore` through CRIU's command line.
 *
 * runc drives CRIU over its RPC socket (criu swrk); berth-oci runs the criu binary with the
 * equivalent options, which needs no protobuf.  The image directory gets what runc leaves
 * there too (descriptors.json: where the init's stdio pointed), so images move between the
 * two.  When CRIU fails — on kernels it can't handle, its own kernel feature detection does —
 * the error carries CRIU's own reason, the last `Error` line of its log, and the log's path.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/units.h"
#include "common/util.h"
#include "oci/internal.h"

struct argv_buf {
        char *v[96];
        size_t n;
        char *owned[96];
        size_t n_owned;
};

static void add(struct argv_buf *a, const char *s)
{
        if (a->n + 1 < sizeof(a->v) / sizeof(a->v[0]))
                /* NOLINTNEXTLINE(performance-no-int-to-ptr): drops const past -Wcast-qual */
                a->v[a->n++] = (char *) (uintptr_t) s;
        a->v[a->n] = NULL;
}

/* "--flag=" and its value, as one argument */
static void addf(struct argv_buf *a, const char *flag, const char *s)
{
        char *t = berth_xasprintf("%s%s", flag, s);
        if (a->n_owned < sizeof(a->owned) / sizeof(a->owned[0]))
                a->owned[a->n_owned++] = t;
        add(a, t);
}

static void argv_release(struct argv_buf *a)
{
        for (size_t i = 0; i < a->n_owned; i++)
                free(a->owned[i]);
}

/* The first "Error (…): reason" line of CRIU's log: its own word on what went wrong (the
 * later ones tend to say what could not be done because of it). */
static char *criu_reason(const char *log)
{
        cleanup_free char *text = NULL;
        size_t len;
        berth_error_t err = NULL;
        if (berth_read_file(log, &text, &len, &err) < 0) {
                berth_error_release(&err);
                return NULL;
        }
        char *first = strstr(text, "Error (");
        if (first == NULL)
                return NULL;
        char *colon = strstr(first, "): ");
        char *from = colon ? colon + 3 : first;
        return berth_xasprintf("%.*s", (int) strcspn(from, "\n"), from);
}

/* runc's words (Go's exec errors) for a criu that can't be run */
static int no_criu(const char *criu, berth_error_t *err)
{
        if (strchr(criu, '/'))
                return berth_fail_status(err, 1, 0,
                                         "CRIU version check failed: fork/exec %s: no such file or "
                                         "directory",
                                         criu);
        return berth_fail_status(err, 1, 0,
                                 "CRIU version check failed: exec: \"%s\": executable file not "
                                 "found in $PATH",
                                 criu);
}

/* Run criu with a's arguments; its stdio stays ours (restore's process inherits it). */
static int run_criu(const char *criu, struct argv_buf *a, const char *what, const char *log,
                    berth_error_t *err)
{
        log_debug("checkpoint: running %s %s", criu, a->v[1]);
        pid_t pid = fork();
        if (pid < 0)
                return berth_fail(err, errno, "fork");
        if (pid == 0) {
                execvp(criu, a->v);
                _exit(errno == ENOENT ? 127 : 126);
        }
        int ws = 0;
        while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
                ;
        if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
                return 0;
        if (WIFEXITED(ws) && WEXITSTATUS(ws) >= 126)
                return no_criu(criu, err);
        cleanup_free char *why = criu_reason(log);
        return berth_fail_status(err, 1, 0, "criu failed: type %s: %s\nlog file: %s", what,
                                 why ? why : "no reason in its log", log);
}

/* criu is there and runs at all (runc's version check) */
static int criu_check(const char *criu, berth_error_t *err)
{
        pid_t pid = fork();
        if (pid < 0)
                return berth_fail(err, errno, "fork");
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                dup2(null, 1);
                dup2(null, 2);
                execlp(criu, criu, "--version", (char *) NULL);
                _exit(127);
        }
        int ws = 0;
        while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
                ;
        if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
                return 0;
        return no_criu(criu, err);
}

/* descriptors.json: where the init's stdio points, for restore to reconnect (as runc) */
static int save_descriptors(pid_t pid, const char *dir, berth_error_t *err)
{
        json_t *a = json_array();
        for (int fd = 0; fd < 3; fd++) {
                char link[64], target[PATH_MAX];
                snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int) pid, fd);
                ssize_t n = readlink(link, target, sizeof(target) - 1);
                target[n > 0 ? n : 0] = 0;
                json_array_append_new(a, json_string(target));
        }
        cleanup_free char *text = json_dumps(a, JSON_COMPACT);
        json_decref(a);
        cleanup_free char *path = berth_xasprintf("%s/descriptors.json", dir);
        return berth_write_file_replace(path, text, strlen(text), 0600, err);
}

/* The bundle's bind mounts are the host's: CRIU must be told they are external. */
static void external_mounts(struct argv_buf *a, const struct oci_spec *s)
{
        for (size_t i = 0; s && i < s->n_mounts; i++) {
                const struct oci_mount *m = &s->mounts[i];
                if (!m->bind)
                        continue;
                add(a, "--external");
                char *t = berth_xasprintf("mnt[%s]:%s", m->destination, m->destination);
                if (a->n_owned < sizeof(a->owned) / sizeof(a->owned[0]))
                        a->owned[a->n_owned++] = t;
                add(a, t);
        }
}

static void common_opts(struct argv_buf *a, const struct oci_criu_opts *o, const char *log)
{
        add(a, "--images-dir");
        add(a, o->image_path);
        add(a, "--work-dir");
        add(a, o->work_path);
        add(a, "--log-file");
        add(a, log);
        add(a, "-v4");
        if (o->tcp_established)
                add(a, "--tcp-established");
        if (o->ext_unix_sk)
                add(a, "--ext-unix-sk");
        if (o->shell_job)
                add(a, "--shell-job");
        if (o->file_locks)
                add(a, "--file-locks");
        if (o->auto_dedup)
                add(a, "--auto-dedup");
        if (o->lazy_pages)
                add(a, "--lazy-pages");
        if (o->manage_cgroups_mode) {
                addf(a, "--manage-cgroups=", o->manage_cgroups_mode);
        } else {
                add(a, "--manage-cgroups");
        }
}

static int prepare_paths(struct oci_criu_opts *o, char **img, char **work, berth_error_t *err)
{
        char cwd[PATH_MAX];
        if (o->image_path == NULL && getcwd(cwd, sizeof(cwd)) == NULL)
                return berth_fail(err, errno, "getcwd");
        *img = o->image_path ? berth_xstrdup(o->image_path) : berth_xasprintf("%s/checkpoint", cwd);
        *work = berth_xstrdup(o->work_path ? o->work_path : *img);
        o->image_path = *img;
        o->work_path = *work;
        if (berth_mkdir_p(*img, 0700, err) < 0 || berth_mkdir_p(*work, 0700, err) < 0)
                return -1;
        return 0;
}

int oci_checkpoint(struct oci_ctx *c, const char *id, const struct oci_criu_opts *opts,
                   berth_error_t *err)
{
        struct oci_state st;
        struct oci_spec *spec = NULL;
        struct oci_criu_opts o = *opts;
        struct argv_buf a = {0};
        cleanup_free char *img = NULL, *work = NULL, *log = NULL, *cfg = NULL, *pid = NULL;
        const char *criu = c->criu ? c->criu : "criu";
        int r = -1;
        if (oci_state_load(c, id, &st, err) < 0)
                return -1;
        enum oci_status s = oci_state_status(&st);
        if (s != OCI_RUNNING && s != OCI_PAUSED) {
                berth_fail_status(err, 1, 0, "Container cannot be checkpointed in %s state",
                                  oci_status_name(s));
                goto out;
        }
        if (criu_check(criu, err) < 0 || prepare_paths(&o, &img, &work, err) < 0)
                goto out;
        cfg = berth_xasprintf("%s/config.json", st.bundle);
        berth_error_t ignored = NULL;
        if (oci_spec_load(cfg, &spec, &ignored) < 0)
                berth_error_release(&ignored); /* then without the external mounts */
        log = berth_xasprintf("%s/%s", work, o.pre_dump ? "pre-dump.log" : "dump.log");
        pid = berth_xasprintf("%d", (int) st.pid);
        add(&a, criu);
        add(&a, o.pre_dump ? "pre-dump" : "dump");
        add(&a, "--tree");
        add(&a, pid);
        add(&a, "--root");
        add(&a, st.rootfs);
        common_opts(&a, &o, log);
        if (o.parent_path) {
                add(&a, "--prev-images-dir");
                add(&a, o.parent_path);
        }
        if (o.pre_dump || o.parent_path)
                add(&a, "--track-mem");
        if (o.leave_running && !o.pre_dump)
                add(&a, "--leave-running");
        if (o.page_server) {
                char *port = strrchr(o.page_server, ':');
                if (port == NULL) {
                        berth_fail_status(err, 1, 0, "--page-server: ADDRESS:PORT, not `%s`",
                                          o.page_server);
                        goto out;
                }
                add(&a, "--page-server");
                addf(&a, "--address=", o.page_server);
                a.v[a.n - 1][strlen(a.v[a.n - 1]) - strlen(port)] = 0;
                addf(&a, "--port=", port + 1);
        }
        if (o.status_fd)
                addf(&a, "--status-fd=", o.status_fd);
        for (size_t i = 0; i < o.n_empty_ns; i++)
                addf(&a, "--empty-ns=", o.empty_ns[i]);
        external_mounts(&a, spec);
        if (save_descriptors(st.pid, img, err) < 0 ||
            run_criu(criu, &a, o.pre_dump ? "PRE_DUMP" : "DUMP", log, err) < 0)
                goto out;
        r = 0;
        /* as runc: a dumped container is gone unless told to keep running */
        if (!o.leave_running && !o.pre_dump)
                r = oci_delete(c, id, true, err);
out:
        argv_release(&a);
        oci_spec_free(spec);
        oci_state_release(&st);
        return r;
}

/* Record CRIU's restored tree (its root's pid in pid_path) as container id, running. */
static int oci_adopt(struct oci_ctx *c, const char *id, const char *bundle,
                     const struct oci_spec *spec, const char *rootfs, const char *pid_path,
                     const char *pid_file, berth_error_t *err)
{
        struct oci_state st = {0};
        struct oci_cgroup cg = {0};
        cleanup_free char *text = NULL, *cgpath = NULL;
        char created[64], abs[PATH_MAX];
        size_t len;
        int r = -1;
        if (berth_read_file(pid_path, &text, &len, err) < 0)
                return berth_wrap(err, "read the restored process's pid");
        st.pid = (pid_t) strtol(text, NULL, 10);
        st.pid_start = oci_proc_starttime(st.pid);
        st.id = berth_xstrdup(id);
        st.bundle = berth_xstrdup(realpath(bundle, abs) ? abs : bundle);
        st.rootfs = berth_xstrdup(rootfs);
        berth_rfc3339(berth_now_ns(), false, created, sizeof(created));
        st.created = berth_xstrdup(created);
        st.owner = geteuid();
        st.oci_version = berth_xstrdup(spec->oci_version ? spec->oci_version : "");
        st.annotations = json_incref(json_object_get(spec->json, "annotations"));
        if (oci_cgroup_path_for(spec, id, c->systemd_cgroup, &cgpath, err) < 0 ||
            oci_cgroup_open(&cg, NULL, cgpath, err) < 0)
                goto out;
        st.cgroup_root = berth_xstrdup(cg.root);
        st.cgroup_path = berth_xstrdup(cg.path);
        st.cgroup_kind = berth_xstrdup(cg.ops->name);
        if (berth_mkdir_p(c->root, 0700, err) < 0)
                goto out;
        st.dir = oci_state_dir(c, id);
        if (mkdir(st.dir, 0711) < 0) {
                berth_fail(err, errno, "mkdir `%s`", st.dir);
                goto out;
        }
        if (oci_state_save(&st, err) < 0)
                goto out;
        if (pid_file) {
                char buf[16];
                snprintf(buf, sizeof(buf), "%d", (int) st.pid);
                if (berth_write_file_replace(pid_file, buf, strlen(buf), 0644, err) < 0)
                        goto out;
        }
        r = 0;
out:
        oci_cgroup_release(&cg);
        oci_state_release(&st);
        return r;
}

int oci_restore(struct oci_ctx *c, const char *id, const struct oci_create_opts *co,
                const struct oci_criu_opts *opts, berth_error_t *err)
{
        struct oci_criu_opts o = *opts;
        struct argv_buf a = {0};
        struct oci_spec *spec = NULL;
        cleanup_free char *img = NULL, *work = NULL, *log = NULL, *cfg = NULL, *pidf = NULL;
        cleanup_free char *rootfs = NULL;
        const char *criu = c->criu ? c->criu : "criu";
        const char *bundle = co->bundle ? co->bundle : ".";
        int r = -1;
        if (!oci_id_valid(id))
                return berth_fail_status(err, 1, 0, "invalid id format: %s", id);
        if (oci_state_exists(c, id))
                return berth_fail_status(err, 1, 0, "container with given ID already exists");
        cfg = berth_xasprintf("%s/config.json", bundle);
        if (oci_spec_load(cfg, &spec, err) < 0 || criu_check(criu, err) < 0 ||
            prepare_paths(&o, &img, &work, err) < 0)
                goto out;
        rootfs = spec->root_path && spec->root_path[0] != '/'
                         ? berth_xasprintf("%s/%s", bundle, spec->root_path)
                         : berth_xstrdup(spec->root_path ? spec->root_path : "rootfs");
        log = berth_xasprintf("%s/restore.log", work);
        pidf = berth_xasprintf("%s/restore.pid", work);
        add(&a, criu);
        add(&a, "restore");
        add(&a, "--root");
        add(&a, rootfs);
        add(&a, "--restore-detached");
        add(&a, "--pidfile");
        add(&a, pidf);
        common_opts(&a, &o, log);
        for (size_t i = 0; i < o.n_empty_ns; i++)
                addf(&a, "--empty-ns=", o.empty_ns[i]);
        if (o.lsm_profile)
                addf(&a, "--lsm-profile=", o.lsm_profile);
        if (o.lsm_mount_context)
                addf(&a, "--lsm-mount-context=", o.lsm_mount_context);
        external_mounts(&a, spec);
        if (run_criu(criu, &a, "RESTORE", log, err) < 0)
                goto out;
        /* CRIU made the process tree: record it as a running container of this id */
        r = oci_adopt(c, id, bundle, spec, rootfs, pidf, co->pid_file, err);
out:
        argv_release(&a);
        oci_spec_free(spec);
        return r;
}
