/* exec.c — the Engine API's exec endpoints: create, start, inspect and resize exec instances.
 *
 * An instance is the command a client means to run in a container, kept by the service in
 * memory until a while after it finished (dockerd keeps them until the container goes; we
 * forget finished ones after EXEC_KEEP_NS, and keep at most EXEC_MAX).  Running one is
 * exec_io.c's part, through engine/exec.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "api/api_internal.h"
#include "api/containers.h"
#include "api/exec.h"
#include "common/log.h"
#include "common/units.h"
#include "common/util.h"
#include "engine/detach.h"
#include "engine/events.h"
#include "engine/exec.h"
#include "engine/lifecycle.h"

#define EXEC_MAX     4096
#define EXEC_KEEP_NS (10 * 60 * 1000000000LL)

pthread_mutex_t exec_lock = PTHREAD_MUTEX_INITIALIZER;
static struct exec_inst *execs; /* newest first */
static size_t n_execs;

static void strv_free(char **v)
{
        for (size_t i = 0; v && v[i]; i++)
                free(v[i]);
        free(v);
}

static void inst_free(struct exec_inst *x)
{
        strv_free(x->cmd);
        strv_free(x->env);
        free(x->user);
        free(x->workdir);
        free(x->detach_keys);
        json_decref(x->event_attrs);
        free(x->events_dir);
        free(x);
}

void exec_event(struct exec_inst *x, const char *verb)
{
        json_t *extra = json_pack("{s:s}", "execID", x->id);
        bool die = strcmp(verb, "exec_die") == 0;
        if (die)
                json_object_set_new(extra, "exitCode", json_integer(x->exit_code));
        /* dockerd: "exec_create: CMD…", "exec_start: CMD…", but plain "exec_die" */
        cleanup_free char *action = die ? berth_xstrdup(verb) : eng_event_exec_action(verb, x->cmd);
        eng_event_container_attrs(x->events_dir, x->container_id, action, x->event_attrs, extra);
}

/* Forget finished instances past their time, then the oldest finished ones while over the
 * cap (caller holds exec_lock). */
static void prune_locked(int64_t now)
{
        for (struct exec_inst **pp = &execs; *pp;) {
                struct exec_inst *x = *pp;
                if (x->state == EXEC_EXITED && now - x->finished_ns > EXEC_KEEP_NS) {
                        *pp = x->next;
                        inst_free(x);
                        n_execs--;
                } else {
                        pp = &x->next;
                }
        }
        while (n_execs >= EXEC_MAX) {
                struct exec_inst **victim = NULL;
                for (struct exec_inst **pp = &execs; *pp; pp = &(*pp)->next)
                        if ((*pp)->state != EXEC_RUNNING)
                                victim = pp; /* the last one seen is the oldest */
                if (!victim)
                        return;
                struct exec_inst *x = *victim;
                *victim = x->next;
                inst_free(x);
                n_execs--;
        }
}

static struct exec_inst *find_locked(const char *id)
{
        for (struct exec_inst *x = execs; x; x = x->next)
                if (strcmp(x->id, id) == 0)
                        return x;
        return NULL;
}

void exec_finish(struct exec_inst *x, int status)
{
        pthread_mutex_lock(&exec_lock);
        x->exit_code = status;
        pthread_mutex_unlock(&exec_lock);
        /* while still running, so that no prune frees it meanwhile */
        exec_event(x, "exec_die");
        pthread_mutex_lock(&exec_lock);
        x->state = EXEC_EXITED;
        x->finished_ns = berth_now_ns();
        pthread_mutex_unlock(&exec_lock);
}

void exec_apply_size_locked(struct exec_inst *x)
{
        if (x->master < 0 || (x->rows == 0 && x->cols == 0))
                return;
        struct winsize ws = {.ws_row = x->rows, .ws_col = x->cols};
        ioctl(x->master, TIOCSWINSZ, &ws);
}

/* A JSON array of strings (or one string, as Docker's strslice takes) → NULL-terminated
 * vector; NULL and *n 0 for anything else. */
static char **strv_of(json_t *j, size_t *n)
{
        *n = 0;
        if (json_is_string(j)) {
                char **v = berth_xcalloc(2, sizeof(char *));
                v[0] = berth_xstrdup(json_string_value(j));
                *n = 1;
                return v;
        }
        if (!json_is_array(j))
                return NULL;
        char **v = berth_xcalloc(json_array_size(j) + 1, sizeof(char *));
        size_t i;
        json_t *s;
        json_array_foreach(j, i, s)
        {
                if (json_is_string(s))
                        v[(*n)++] = berth_xstrdup(json_string_value(s));
        }
        return v;
}

static char *str_field(json_t *b, const char *k)
{
        const char *s = json_string_value(json_object_get(b, k));
        return s && *s ? berth_xstrdup(s) : NULL;
}

/* ConsoleSize: [height, width]. */
static void console_size(json_t *b, unsigned short *rows, unsigned short *cols)
{
        json_t *cs = json_object_get(b, "ConsoleSize");
        json_int_t h = json_integer_value(json_array_get(cs, 0));
        json_int_t w = json_integer_value(json_array_get(cs, 1));
        if (h > 0 && w > 0 && h <= 0xffff && w <= 0xffff) {
                *rows = (unsigned short) h;
                *cols = (unsigned short) w;
        }
}

/* dockerd's answer when c cannot take an exec; 0 when it can. */
static unsigned not_running(struct api_req *r, struct eng_container *c)
{
        const char *st = eng_container_status(c);
        if (strcmp(st, "running") == 0)
                return 0;
        if (strcmp(st, "paused") == 0)
                api_reply_error(r, 409, "Container %s is paused, unpause the container before exec",
                                c->id);
        else if (strcmp(st, "restarting") == 0)
                api_reply_error(r, 409,
                                "Container %s is restarting, wait until the container is running",
                                c->id);
        else
                api_reply_error(r, 409, "Container %s is not running", c->id);
        return 409;
}

static void exec_create(struct api_req *r)
{
        json_t *b = api_body_json(r, true);
        if (!b)
                return;
        struct eng_ctx e;
        struct eng_container *c = NULL;
        size_t n_cmd = 0;
        char **cmd = strv_of(json_object_get(b, "Cmd"), &n_cmd);
        const char *wd = json_string_value(json_object_get(b, "WorkingDir"));
        if (n_cmd == 0) {
                api_reply_error(r, 400, "No exec command specified");
                goto out;
        }
        if (wd && *wd && *wd != '/') {
                api_reply_error(r, 400,
                                "the working directory '%s' is invalid, it needs to be an "
                                "absolute path",
                                wd);
                goto out;
        }
        const char *dk = json_string_value(json_object_get(b, "DetachKeys"));
        struct eng_detach keys;
        berth_error_t kerr = NULL;
        if (dk && *dk && eng_detach_init(&keys, dk, &kerr) < 0) {
                api_reply_error(r, 400, "%s", berth_error_msg(kerr));
                berth_error_release(&kerr);
                goto out;
        }
        c = api_container(r, &e);
        if (c == NULL)
                goto out;
        if (!not_running(r, c)) {
                struct exec_inst *x = berth_xcalloc(1, sizeof(*x));
                eng_exec_new_id(x->id);
                snprintf(x->container_id, sizeof(x->container_id), "%s", c->id);
                x->cmd = berth_steal_ptr(&cmd);
                x->env = strv_of(json_object_get(b, "Env"), &x->n_env);
                if (!x->env)
                        x->env = berth_xcalloc(1, sizeof(char *));
                x->user = str_field(b, "User");
                x->workdir = str_field(b, "WorkingDir");
                x->detach_keys = str_field(b, "DetachKeys");
                x->tty = json_is_true(json_object_get(b, "Tty"));
                x->open_stdin = json_is_true(json_object_get(b, "AttachStdin"));
                x->open_stdout = json_is_true(json_object_get(b, "AttachStdout"));
                x->open_stderr = json_is_true(json_object_get(b, "AttachStderr"));
                x->privileged = json_is_true(json_object_get(b, "Privileged"));
                console_size(b, &x->rows, &x->cols);
                x->master = -1;
                x->created_ns = berth_now_ns();
                x->event_attrs = eng_event_attrs(c);
                x->events_dir = eng_events_dir(&e);
                pthread_mutex_lock(&exec_lock);
                prune_locked(x->created_ns);
                bool full = n_execs >= EXEC_MAX;
                if (!full) {
                        x->next = execs;
                        execs = x;
                        n_execs++;
                }
                pthread_mutex_unlock(&exec_lock);
                if (full) {
                        api_reply_error(r, 503, "too many exec instances running");
                        inst_free(x);
                } else {
                        exec_event(x, "exec_create");
                        api_reply_json(r, 201, json_pack("{s:s}", "Id", x->id));
                }
        }
        api_container_done(c, &e);
out:
        strv_free(cmd);
        json_decref(b);
}

static void launch_free(struct exec_launch *l)
{
        if (!l)
                return;
        free(l->oci_root);
        free(l->uid_gid);
        free(l->gids);
        for (size_t i = 0; i < l->n_env; i++)
                free(l->env[i]);
        free(l->env);
        free(l->fail);
        free(l);
}

static void hijacked(void *ctx, int fd, const char *extra, size_t extra_len)
{
        struct exec_launch *l = ctx;
        l->hijacked = true;
        exec_io_run(l, fd, extra, extra_len);
}

/* The stream is over, or never began: then the instance may be started again. */
static void hijack_done(void *ctx)
{
        struct exec_launch *l = ctx;
        if (!l->hijacked) {
                pthread_mutex_lock(&exec_lock);
                l->x->state = EXEC_CREATED;
                pthread_mutex_unlock(&exec_lock);
        }
        launch_free(l);
}

static void *detached(void *arg)
{
        struct exec_launch *l = arg;
        exec_io_run(l, -1, NULL, 0);
        launch_free(l);
        return NULL;
}

/* The start's view of the container: its state, the user and TERM the exec gets. */
static int resolve(struct api_req *r, struct exec_launch *l)
{
        struct exec_inst *x = l->x;
        struct eng_ctx e;
        struct eng_container *c = api_container_find(r, &e, x->container_id, true);
        if (c == NULL)
                return -1;
        berth_error_t err = NULL;
        int ret = -1;
        if (!not_running(r, c)) {
                const char *term = NULL;
                l->oci_root = berth_xstrdup(e.oci_root);
                l->env = berth_xcalloc(x->n_env + 2, sizeof(char *));
                for (size_t i = 0; i < x->n_env; i++)
                        l->env[l->n_env++] = berth_xstrdup(x->env[i]);
                if (eng_exec_defaults(c, e.rootless, x->user, x->tty, x->env, x->n_env, &l->uid_gid,
                                      &l->gids, &term, &err) < 0) {
                        /* as dockerd: the start goes on and reports it as the exec's failure */
                        l->fail = berth_xstrdup(api_error_text(err));
                        l->fail_status = err && err->status ? err->status : 126;
                        berth_error_release(&err);
                }
                if (term)
                        l->env[l->n_env++] = berth_xstrdup(term);
                ret = 0;
        }
        api_container_done(c, &e);
        return ret;
}

static void exec_start(struct api_req *r)
{
        json_t *b = api_body_json(r, true);
        if (!b)
                return;
        const char *id = r->params[0];
        bool detach = json_is_true(json_object_get(b, "Detach"));
        unsigned short rows = 0, cols = 0;
        console_size(b, &rows, &cols);
        json_decref(b);
        pthread_mutex_lock(&exec_lock);
        struct exec_inst *x = find_locked(id);
        enum exec_state st = x ? x->state : EXEC_CREATED;
        if (x && st == EXEC_CREATED) {
                x->state = EXEC_RUNNING; /* ours: a second start is refused from now on */
                if (rows)
                        x->rows = rows, x->cols = cols;
        }
        pthread_mutex_unlock(&exec_lock);
        if (!x) {
                api_reply_error(r, 404, "No such exec instance: %s", id);
                return;
        }
        if (st == EXEC_RUNNING) {
                api_reply_error(r, 409, "Error: Exec command %s is already running", id);
                return;
        }
        if (st == EXEC_EXITED) {
                api_reply_error(r, 409, "Error: Exec command %s has already run", id);
                return;
        }
        struct exec_launch *l = berth_xcalloc(1, sizeof(*l));
        l->x = x;
        if (resolve(r, l) < 0) {
                pthread_mutex_lock(&exec_lock);
                x->state = EXEC_CREATED;
                pthread_mutex_unlock(&exec_lock);
                launch_free(l);
                return;
        }
        if (!detach) {
                api_hijack(r, hijacked, l, hijack_done);
                return;
        }
        pthread_t t;
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &a, detached, l) != 0) {
                pthread_mutex_lock(&exec_lock);
                x->state = EXEC_CREATED;
                pthread_mutex_unlock(&exec_lock);
                launch_free(l);
                api_reply_error(r, 500, "no thread to run the exec");
        } else {
                api_reply_empty(r, 200);
        }
        pthread_attr_destroy(&a);
}

static void exec_inspect(struct api_req *r)
{
        pthread_mutex_lock(&exec_lock);
        struct exec_inst *x = find_locked(r->params[0]);
        if (!x) {
                pthread_mutex_unlock(&exec_lock);
                api_reply_error(r, 404, "No such exec instance: %s", r->params[0]);
                return;
        }
        json_t *args = json_array();
        for (size_t i = 1; x->cmd[i]; i++)
                json_array_append_new(args, json_string(x->cmd[i]));
        json_t *pc = json_pack("{s:b,s:s,s:o,s:b}", "tty", x->tty, "entrypoint", x->cmd[0],
                               "arguments", args, "privileged", x->privileged);
        if (x->user)
                json_object_set_new(pc, "user", json_string(x->user));
        json_t *j = json_pack("{s:s,s:b,s:o,s:o,s:b,s:b,s:b,s:b,s:s,s:s,s:i}", "ID", x->id,
                              "Running", x->state == EXEC_RUNNING, "ExitCode",
                              x->state == EXEC_EXITED ? json_integer(x->exit_code) : json_null(),
                              "ProcessConfig", pc, "OpenStdin", x->open_stdin, "OpenStderr",
                              x->open_stderr, "OpenStdout", x->open_stdout, "CanRemove", false,
                              "ContainerID", x->container_id, "DetachKeys",
                              x->detach_keys ? x->detach_keys : "", "Pid", (int) x->pid);
        pthread_mutex_unlock(&exec_lock);
        api_reply_json(r, 200, j);
}

static bool parse_dim(const char *s, unsigned short *out)
{
        char *end;
        if (!s || !*s)
                return false;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (*end || errno || v > 0xffff)
                return false;
        *out = (unsigned short) v;
        return true;
}

static void exec_resize(struct api_req *r)
{
        unsigned short h, w;
        const char *hs = api_query(r, "h"), *ws = api_query(r, "w");
        if (!parse_dim(hs, &h) || !parse_dim(ws, &w)) {
                api_reply_error(r, 400, "invalid resize height %s or width %s", hs ? hs : "\"\"",
                                ws ? ws : "\"\"");
                return;
        }
        pthread_mutex_lock(&exec_lock);
        struct exec_inst *x = find_locked(r->params[0]);
        enum exec_state st = x ? x->state : EXEC_CREATED;
        if (x && st != EXEC_EXITED) {
                /* before the pty exists the size waits for it (exec_io.c applies it) */
                x->rows = h;
                x->cols = w;
                exec_apply_size_locked(x);
        }
        pthread_mutex_unlock(&exec_lock);
        if (!x)
                api_reply_error(r, 404, "No such exec instance: %s", r->params[0]);
        else if (st == EXEC_EXITED)
                api_reply_error(r, 409, "Exec %s is not running", r->params[0]);
        else
                api_reply_empty(r, 200);
}

const struct api_route api_routes_exec[] = {
        {"POST", "/containers/{}/exec", exec_create, 0},
        {"POST", "/exec/{}/start", exec_start, 0},
        {"GET", "/exec/{}/json", exec_inspect, 0},
        {"POST", "/exec/{}/resize", exec_resize, 0},
        {0},
};
