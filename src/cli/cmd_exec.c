/* cmd_exec.c — `berth exec`: run a command in a running container, through
 * liboci's exec (it joins the container's namespaces and cgroup). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/containers.h"
#include "engine/events.h"
#include "engine/exec.h"
#include "common/util.h"
#include "engine/lifecycle.h"
#include "oci/oci.h"

static void exec_usage(FILE *out)
{
        fprintf(out, "Usage: berth exec [OPTIONS] CONTAINER COMMAND [ARG...]\n\n"
                     "Execute a command in a running container\n\n"
                     "Options:\n"
                     "  -d, --detach               Detached mode: run command in the background\n"
                     "  -e, --env list             Set environment variables\n"
                     "      --env-file list        Read in a file of environment variables\n"
                     "  -i, --interactive          Keep STDIN open even if not attached\n"
                     "      --privileged           Give extended privileges to the command\n"
                     "  -t, --tty                  Allocate a pseudo-TTY\n"
                     "  -u, --user string          Username or UID (format: "
                     "\"<name|uid>[:<group|gid>]\")\n"
                     "  -w, --workdir string       Working directory inside the container\n");
}

static void add(char ***v, size_t *n, const char *s)
{
        *v = berth_xrealloc(*v, (*n + 2) * sizeof(char *));
        (*v)[(*n)++] = berth_xstrdup(s);
        (*v)[*n] = NULL;
}

static int read_env_file(const char *path, char ***env, size_t *n, berth_error_t *err)
{
        cleanup_free char *text = NULL;
        if (berth_read_file(path, &text, NULL, err) < 0)
                return berth_wrap(err, "read env file");
        char *save = NULL;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                while (*l == ' ' || *l == '\t')
                        l++;
                if (*l == '\0' || *l == '#')
                        continue;
                if (strchr(l, '=') == NULL) {
                        const char *v = getenv(l); /* Docker: a bare name takes our value */
                        if (v == NULL)
                                continue;
                        char *kv = berth_xasprintf("%s=%s", l, v);
                        add(env, n, kv);
                        free(kv);
                } else {
                        add(env, n, l);
                }
        }
        return 0;
}

/* Docker's exec events (exec_create, exec_start, exec_die) for one `berth exec`. */
struct exec_events {
        char id[65];
        char *dir;
        const char *container_id;
        json_t *attrs;
};

static void exec_events_begin(struct exec_events *ev, struct eng_ctx *e, struct eng_container *c,
                              char *const *cmd)
{
        eng_exec_new_id(ev->id);
        ev->dir = eng_events_dir(e);
        ev->container_id = c->id;
        ev->attrs = eng_event_attrs(c);
        for (int i = 0; i < 2; i++) {
                cleanup_free char *action =
                        eng_event_exec_action(i == 0 ? "exec_create" : "exec_start", cmd);
                eng_event_container_attrs(ev->dir, c->id, action, ev->attrs,
                                          json_pack("{s:s}", "execID", ev->id));
        }
}

/* status < 0: not known (detached) */
static void exec_events_end(struct exec_events *ev, int status)
{
        if (status >= 0)
                eng_event_container_attrs(
                        ev->dir, ev->container_id, "exec_die", ev->attrs,
                        json_pack("{s:s, s:i}", "execID", ev->id, "exitCode", status));
        json_decref(ev->attrs);
        free(ev->dir);
}

int cmd_exec(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                {"detach", no_argument, NULL, 'd'},
                {"env", required_argument, NULL, 'e'},
                {"env-file", required_argument, NULL, 'E'},
                {"interactive", no_argument, NULL, 'i'},
                {"privileged", no_argument, NULL, 'P'},
                {"tty", no_argument, NULL, 't'},
                {"user", required_argument, NULL, 'u'},
                {"workdir", required_argument, NULL, 'w'},
                {"detach-keys", required_argument, NULL, 'k'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        struct oci_exec_opts o = {0};
        bool interactive = false, privileged = false;
        int c, ret = -1;
        char **caps = NULL;
        size_t n_caps = 0;
        /* "+": stop at the container name; the command's own flags are its own */
        while ((c = getopt_long(argc, argv, "+de:itu:w:h", opts, NULL)) != -1) {
                switch (c) {
                case 'd':
                        o.detach = true;
                        break;
                case 'e':
                        if (strchr(optarg, '=') == NULL) {
                                const char *v = getenv(optarg);
                                if (v) {
                                        char *kv = berth_xasprintf("%s=%s", optarg, v);
                                        add(&o.env, &o.n_env, kv);
                                        free(kv);
                                }
                        } else {
                                add(&o.env, &o.n_env, optarg);
                        }
                        break;
                case 'E':
                        if (read_env_file(optarg, &o.env, &o.n_env, err) < 0)
                                goto out;
                        break;
                case 'i':
                        interactive = true;
                        break;
                case 'P':
                        privileged = true;
                        break;
                case 't':
                        o.tty = true;
                        break;
                case 'u':
                        o.user = optarg;
                        break;
                case 'w':
                        o.cwd = optarg;
                        break;
                case 'k':
                        break; /* detach keys need an attached stream; exec runs in the foreground
                                */
                case 'h':
                        exec_usage(stdout);
                        ret = 0;
                        goto out;
                default:
                        ret = cli_usage_error(err, "exec", "invalid option");
                        goto out;
                }
        }
        if (argc - optind < 2) {
                ret = cli_args_error(err, "exec", "at least 2 arguments");
                goto out;
        }
        if (privileged) {
                static const char *const all[] = {
                        "CAP_SYS_ADMIN",  "CAP_NET_ADMIN", "CAP_SYS_PTRACE",
                        "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_TIME",
                        "CAP_MKNOD",      "CAP_NET_RAW",   "CAP_IPC_LOCK"};
                for (size_t i = 0; i < BERTH_ARRAY_SIZE(all); i++)
                        add(&caps, &n_caps, all[i]);
                o.caps = caps;
                o.n_caps = n_caps;
        }
        o.args = argv + optind + 1;

        struct eng_ctx e;
        if (eng_ctx_init(&e, &g->paths, err) < 0)
                goto out;
        struct eng_container *ct = NULL;
        int status = 0;
        if (eng_container_find(&e, argv[optind], &ct, err) == 0) {
                eng_reconcile(&e, ct, NULL);
                const char *st = eng_container_status(ct);
                if (strcmp(st, "paused") == 0) {
                        berth_fail_status(
                                err, 1, 0,
                                "Container %s is paused, unpause the container before exec",
                                argv[optind]); /* as named, in Docker's message */
                } else if (strcmp(st, "running") != 0) {
                        berth_fail_status(err, 1, 0, "Container %s is not running", ct->id);
                } else {
                        if (!interactive && !o.detach) {
                                /* without -i the command gets no stdin, as with docker */
                                int null = open("/dev/null", O_RDONLY);
                                if (null >= 0) {
                                        dup2(null, 0);
                                        close(null);
                                }
                        }
                        /* the process joining the container runs from a sealed copy of
                         * berth, not the host's binary (CVE-2019-5736) */
                        if (oci_ensure_sealed_self(g->argv, err) < 0)
                                goto done;
                        cleanup_free char *uid_gid = NULL;
                        cleanup_free char *gids = NULL;
                        const char *term = NULL;
                        if (eng_exec_defaults(ct, e.rootless, o.user, o.tty, o.env, o.n_env,
                                              &uid_gid, &gids, &term, err) < 0)
                                goto done;
                        if (term)
                                add(&o.env, &o.n_env, term);
                        if (uid_gid) {
                                o.user = uid_gid;
                                o.user_gids = gids;
                        }
                        struct oci_ctx oci = {.root = e.oci_root};
                        struct exec_events ev;
                        exec_events_begin(&ev, &e, ct, o.args);
                        if (oci_exec(&oci, ct->id, &o, &status, err) == 0)
                                ret = o.detach ? 0 : status;
                        else if (*err && ((*err)->errnum == ENOENT || (*err)->errnum == EACCES))
                                (*err)->status = (*err)->errnum == ENOENT ? 127 : 126;
                        /* detached, its end is not ours to see */
                        exec_events_end(&ev, o.detach ? -1 : (*err ? (*err)->status : ret));
                }
        }
done:
        eng_container_free(ct);
        eng_ctx_free(&e);
out:
        for (size_t i = 0; i < o.n_env; i++)
                free(o.env[i]);
        free(o.env);
        for (size_t i = 0; i < n_caps; i++)
                free(caps[i]);
        free(caps);
        return ret;
}
