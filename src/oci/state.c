/* state.c — a container's state directory (<root>/<id>) and its status.
 *
 * state.json records what never changes after create (pid and its start
 * time, bundle, cgroup); the status is derived each time from the world: a
 * dead or reused pid means stopped, a present exec.fifo means created, a
 * frozen cgroup means paused.  `list` reads them all, as runc shows them.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/idmap.h"
#include "common/util.h"
#include "oci/internal.h"

char *oci_default_root(void)
{
        const char *xdg = getenv("XDG_RUNTIME_DIR");
        /* Root in a user namespace is a rootless caller's (rootless berth's, see
         * common/paths.h; Podman's) unless $USER says root, as runc decides */
        const char *ns_uid = getenv("BERTH_ROOTLESS_UID"), *user = getenv("USER");
        bool rootless = geteuid() != 0 || (ns_uid && *ns_uid) ||
                        (berth_in_userns() && (user == NULL || strcmp(user, "root") != 0));
        if (rootless && xdg && *xdg)
                return berth_xasprintf("%s/berth-oci", xdg);
        return berth_xstrdup("/run/berth-oci");
}

bool oci_id_valid(const char *id)
{
        if (id == NULL || *id == 0 || strlen(id) > 1024 || strcmp(id, ".") == 0 ||
            strcmp(id, "..") == 0)
                return false;
        for (const char *p = id; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr("._+-", *p))
                        return false;
        return true;
}

char *oci_state_dir(struct oci_ctx *c, const char *id)
{
        return berth_xasprintf("%s/%s", c->root, id);
}

/* The start time of a live PID, or 0: a zombie counts as gone, as runc's
 * state does (an exited init nobody has reaped yet is stopped). */
uint64_t oci_proc_starttime(pid_t pid)
{
        char path[64], buf[1024];
        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n <= 0)
                return 0;
        buf[n] = 0;
        /* comm may hold spaces and parens: fields restart after the last ')'. */
        char *p = strrchr(buf, ')');
        if (p == NULL || p[1] == 0 || p[2] == 'Z' || p[2] == 'X')
                return 0;
        for (int field = 2; field < 22 && p; field++)
                p = strchr(p + 1, ' ');
        return p ? strtoull(p + 1, NULL, 10) : 0;
}

int oci_state_save(const struct oci_state *st, berth_error_t *err)
{
        json_t *j = json_pack("{s:s, s:I, s:I, s:s, s:s, s:s, s:I, s:s, s:s, s:s, s:s}", "id",
                              st->id, "pid", (json_int_t) st->pid, "pid_start",
                              (json_int_t) st->pid_start, "bundle", st->bundle, "rootfs",
                              st->rootfs, "created", st->created, "owner", (json_int_t) st->owner,
                              "cgroup_root", st->cgroup_root, "cgroup_path", st->cgroup_path,
                              "cgroup_kind", st->cgroup_kind, "ociVersion", st->oci_version);
        if (j == NULL)
                return berth_fail(err, EINVAL, "encode state of `%s`", st->id);
        if (st->annotations)
                json_object_set(j, "annotations", st->annotations);
        cleanup_free char *text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        cleanup_free char *path = berth_xasprintf("%s/state.json", st->dir);
        return berth_write_file_replace(path, text, strlen(text), 0600, err);
}

static char *jstr(json_t *o, const char *k)
{
        const char *v = json_string_value(json_object_get(o, k));
        return berth_xstrdup(v ? v : "");
}

bool oci_state_exists(struct oci_ctx *c, const char *id)
{
        cleanup_free char *dir = oci_state_dir(c, id);
        return access(dir, F_OK) == 0;
}

int oci_state_load(struct oci_ctx *c, const char *id, struct oci_state *st, berth_error_t *err)
{
        cleanup_free char *text = NULL, *path = NULL;
        size_t len;
        json_error_t je;
        memset(st, 0, sizeof(*st));
        if (!oci_id_valid(id))
                return berth_fail_status(err, 1, 0, "invalid container ID format");
        st->dir = oci_state_dir(c, id);
        path = berth_xasprintf("%s/state.json", st->dir);
        if (!oci_state_exists(c, id)) {
                oci_state_release(st);
                return berth_fail_status(err, 1, 0, "container does not exist");
        }
        if (berth_read_file(path, &text, &len, err) < 0) {
                oci_state_release(st);
                return berth_wrap(err, "container `%s` is still being created or is broken", id);
        }
        json_t *j = json_loadb(text, len, 0, &je);
        if (j == NULL) {
                oci_state_release(st);
                return berth_fail(err, EINVAL, "state of container `%s`: %s", id, je.text);
        }
        st->id = jstr(j, "id");
        st->pid = (pid_t) json_integer_value(json_object_get(j, "pid"));
        st->pid_start = (uint64_t) json_integer_value(json_object_get(j, "pid_start"));
        st->bundle = jstr(j, "bundle");
        st->rootfs = jstr(j, "rootfs");
        st->created = jstr(j, "created");
        st->owner = (uid_t) json_integer_value(json_object_get(j, "owner"));
        st->cgroup_root = jstr(j, "cgroup_root");
        st->cgroup_path = jstr(j, "cgroup_path");
        st->cgroup_kind = jstr(j, "cgroup_kind");
        st->oci_version = jstr(j, "ociVersion");
        st->annotations = json_incref(json_object_get(j, "annotations"));
        json_decref(j);
        return 0;
}

void oci_state_release(struct oci_state *st)
{
        free(st->id);
        free(st->dir);
        free(st->bundle);
        free(st->rootfs);
        free(st->created);
        free(st->cgroup_root);
        free(st->cgroup_path);
        free(st->cgroup_kind);
        free(st->oci_version);
        json_decref(st->annotations);
        memset(st, 0, sizeof(*st));
}

int oci_state_cgroup(const struct oci_state *st, struct oci_cgroup *cg)
{
        const struct oci_cgroup_ops *ops = &oci_cgroup_v1_ops;
        if (strcmp(st->cgroup_kind, "v2") == 0)
                ops = &oci_cgroup_v2_ops;
        else if (strcmp(st->cgroup_kind, "none") == 0)
                ops = &oci_cgroup_none_ops;
        oci_cgroup_init(cg, ops, st->cgroup_root, st->cgroup_path);
        return 0;
}

enum oci_status oci_state_status(const struct oci_state *st)
{
        /* An exited init is stopped even before it is reaped, as with runc. */
        if (st->pid <= 0 || oci_proc_starttime(st->pid) != st->pid_start)
                return OCI_STOPPED;
        /* frozen before the fifo, as runc: a paused created container is paused */
        struct oci_cgroup cg;
        oci_state_cgroup(st, &cg);
        int frozen = cg.ops->frozen(&cg, NULL);
        oci_cgroup_release(&cg);
        if (frozen == 1)
                return OCI_PAUSED;
        cleanup_free char *fifo = berth_xasprintf("%s/exec.fifo", st->dir);
        return access(fifo, F_OK) == 0 ? OCI_CREATED : OCI_RUNNING;
}

const char *oci_status_name(enum oci_status s)
{
        static const char *names[] = {"creating", "created", "running", "paused", "stopped"};
        return names[s];
}

static int by_key_name(const void *a, const void *b)
{
        return strcmp(*(const char *const *) a, *(const char *const *) b);
}

json_t *oci_state_json(const struct oci_state *st, enum oci_status s)
{
        /* runc's key order (its containerState struct): state's readers see the same text */
        json_t *j = json_pack("{s:s, s:s, s:I, s:s, s:s}", "ociVersion",
                              *st->oci_version ? st->oci_version : "1.1.0", "id", st->id, "pid",
                              (json_int_t) (s == OCI_STOPPED ? 0 : st->pid), "status",
                              oci_status_name(s), "bundle", st->bundle);
        json_object_set_new(j, "rootfs", json_string(st->rootfs));
        json_object_set_new(j, "created", json_string(st->created));
        if (st->annotations && json_object_size(st->annotations)) {
                /* runc's is a Go map: its keys come out sorted */
                size_t n = json_object_size(st->annotations), k = 0;
                cleanup_free const char **keys = berth_xcalloc(n, sizeof(char *));
                const char *key;
                json_t *v;
                json_object_foreach(st->annotations, key, v) keys[k++] = key;
                qsort(keys, n, sizeof(char *), by_key_name);
                json_t *a = json_object();
                for (k = 0; k < n; k++)
                        json_object_set(a, keys[k], json_object_get(st->annotations, keys[k]));
                json_object_set_new(j, "annotations", a);
        }
        json_object_set_new(j, "owner", json_string(""));
        return j;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
        return strcmp((*a)->d_name, (*b)->d_name);
}

static int visible(const struct dirent *e)
{
        return e->d_name[0] != '.';
}

static char *owner_name(uid_t uid)
{
        struct passwd pwbuf, *pw = NULL;
        char buf[4096];
        if (getpwuid_r(uid, &pwbuf, buf, sizeof(buf), &pw) != 0)
                pw = NULL;
        return pw ? berth_xstrdup(pw->pw_name) : berth_xasprintf("#%u", (unsigned) uid);
}

enum { LIST_COLS = 6 };

/* runc's table: Go's tabwriter (minwidth 12, padding 3), the last column unpadded. */
static void print_table(FILE *out, char *(*rows)[LIST_COLS], size_t n)
{
        int w[LIST_COLS] = {12, 12, 12, 12, 12, 12};
        for (size_t r = 0; r < n; r++)
                for (int k = 0; k < LIST_COLS - 1; k++) {
                        int len = (int) strlen(rows[r][k]) + 3;
                        w[k] = len > w[k] ? len : w[k];
                }
        for (size_t r = 0; r < n; r++) {
                for (int k = 0; k < LIST_COLS - 1; k++)
                        fprintf(out, "%-*s", w[k], rows[r][k]);
                fprintf(out, "%s\n", rows[r][LIST_COLS - 1]);
        }
}

/* runc's list: sorted by id; JSON `null` when there is none (Go's nil slice). */
int oci_list(struct oci_ctx *c, bool json, bool quiet, FILE *out, berth_error_t *err)
{
        struct dirent **ents = NULL;
        int n = scandir(c->root, &ents, visible, by_name);
        if (n < 0 && errno != ENOENT)
                return berth_fail(err, errno, "open `%s`", c->root);
        n = n < 0 ? 0 : n;
        json_t *arr = json_array();
        char *(*rows)[LIST_COLS] = berth_xcalloc((size_t) n + 1, sizeof(*rows));
        size_t nrows = 1;
        static const char *const head[LIST_COLS] = {"ID",     "PID",     "STATUS",
                                                    "BUNDLE", "CREATED", "OWNER"};
        for (int k = 0; k < LIST_COLS; k++)
                rows[0][k] = berth_xstrdup(head[k]);
        for (int i = 0; i < n; i++) {
                struct oci_state st;
                if (oci_state_load(c, ents[i]->d_name, &st, NULL) < 0)
                        continue;
                enum oci_status s = oci_state_status(&st);
                char *owner = owner_name(st.owner);
                if (json) {
                        json_t *j = oci_state_json(&st, s);
                        json_object_set_new(j, "owner", json_string(owner));
                        json_array_append_new(arr, j);
                } else if (quiet) {
                        fprintf(out, "%s\n", st.id);
                } else {
                        char **row = rows[nrows++];
                        row[0] = berth_xstrdup(st.id);
                        row[1] = berth_xasprintf("%d", s == OCI_STOPPED ? 0 : (int) st.pid);
                        row[2] = berth_xstrdup(oci_status_name(s));
                        row[3] = berth_xstrdup(st.bundle);
                        row[4] = berth_xstrdup(st.created);
                        row[5] = berth_xstrdup(owner);
                }
                free(owner);
                oci_state_release(&st);
        }
        if (json && json_array_size(arr))
                json_dumpf(arr, out, JSON_COMPACT);
        if (json)
                fputs(json_array_size(arr) ? "\n" : "null\n", out);
        if (!json && !quiet)
                print_table(out, rows, nrows);
        for (size_t r = 0; r < nrows; r++)
                for (int k = 0; k < LIST_COLS; k++)
                        free(rows[r][k]);
        free(rows);
        for (int i = 0; i < n; i++)
                free(ents[i]);
        free(ents);
        json_decref(arr);
        return 0;
}
