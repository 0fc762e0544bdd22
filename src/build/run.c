/* run.c — a RUN step of a build: a container from the current image runs the command (its
 * output goes to the front-end as events), and when it exits 0 its overlay upper directory
 * becomes the next layer.  The container is removed whatever happens. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build/build_internal.h"
#include "common/util.h"
#include "engine/attach.h"
#include "engine/create.h"
#include "engine/lifecycle.h"
#include "engine/runflags.h"

/* Docker's words for the command in messages and history: "/bin/sh -c echo hi". */
static char *command_text(json_t *argv)
{
        char *s = berth_xstrdup("");
        size_t i;
        json_t *v;
        json_array_foreach(argv, i, v)
        {
                char *n = berth_xasprintf("%s%s%s", s, i ? " " : "", json_string_value(v));
                free(s);
                s = n;
        }
        return s;
}

/* Send the command's output to the front-end as it comes. */
static void emit_output(struct build *b, int fd, const char *data, size_t len)
{
        struct bld_event ev = {.kind = BLD_EV_OUTPUT, .fd = fd, .data = data, .len = len};
        bld_emit(b, &ev);
}

/* Read the container's frames until its exit; a cancelled build kills it (then the exit
 * comes all the same).  The attach is ours, not eng_attach's: that one copies to our own
 * stdout, and the service has no such thing. */
static int copy_frames(struct build *b, struct eng_container *c, int sock, int *code,
                       berth_error_t *err)
{
        char *buf = NULL;
        size_t cap = 0, len;
        enum eng_frame type;
        bool killed = false;
        int r = 0;
        *code = -1;
        for (;;) {
                if (!killed && bld_cancelled(b)) {
                        berth_error_t kerr = NULL;
                        eng_kill(&b->e, c, SIGKILL, &kerr);
                        berth_error_release(&kerr);
                        killed = true;
                }
                struct pollfd p = {.fd = sock, .events = POLLIN};
                int n = poll(&p, 1, killed ? -1 : 200);
                if (n < 0 && errno != EINTR) {
                        r = berth_fail(err, errno, "poll");
                        break;
                }
                if (n <= 0)
                        continue;
                if (eng_frame_recv(sock, &type, &buf, &cap, &len) < 0)
                        break; /* the monitor went away: its record has the exit */
                if (type == ENG_FRAME_STDOUT || type == ENG_FRAME_STDERR) {
                        emit_output(b, type == ENG_FRAME_STDOUT ? 1 : 2, buf, len);
                } else if (type == ENG_FRAME_EXIT) {
                        *code = (int) strtol(buf, NULL, 10);
                        break;
                } else if (type == ENG_FRAME_ERROR) {
                        r = berth_fail_status(err, 125, 0, "%s", buf);
                        break;
                }
        }
        free(buf);
        if (r == 0 && *code < 0)
                r = eng_wait(&b->e, c, code, err);
        return r < 0 ? -1 : 0;
}

/* Start the container attached to its stdout and stderr; its exit code in *code. */
static int run_attached(struct build *b, struct eng_container *c, int *code, berth_error_t *err)
{
        struct eng_start_opts o = {.wait_attach = true};
        int sync = -1;
        if (eng_start(&b->e, c, &o, &sync, err) < 0)
                return -1;
        int r = -1;
        cleanup_close int sock = eng_unix_connect(c->run_dir, "attach.sock", err);
        static const char hello[] = "{\"stdin\":false,\"stdout\":true,\"stderr\":true}\n";
        if (sock < 0)
                berth_wrap(err, "attach to container %.12s", c->id);
        else if (berth_write_all(sock, hello, sizeof(hello) - 1) < 0 ||
                 eng_frame_send(sock, ENG_FRAME_START, NULL, 0) < 0)
                berth_fail(err, errno, "start container %.12s", c->id);
        else if (eng_start_result(sync, NULL, err) == 0)
                r = copy_frames(b, c, sock, code, err);
        close(sync);
        return r;
}

/* The runtime bind-mounts /etc/hosts, /etc/hostname and /etc/resolv.conf over files it
 * creates empty when the image has none; what the command writes there goes to the mounted
 * files, so the empty ones left in the upper dir are not the command's: not in the layer. */
static int drop_placeholders(int ufd)
{
        static const char *const names[] = {"etc/hosts", "etc/hostname", "etc/resolv.conf"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(names); i++) {
                struct stat st;
                if (fstatat(ufd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
                    st.st_size == 0)
                        unlinkat(ufd, names[i], 0);
        }
        return 0;
}

int bld_step_run(struct build *b, const struct img_cf_instr *in, berth_error_t *err)
{
        if (bld_ensure_image(b, err) < 0)
                return -1;
        json_t *cmd = json_array();
        if (in->json) {
                for (size_t i = 0; i < in->argc; i++)
                        json_array_append_new(cmd, json_string(in->argv[i]));
        } else {
                json_t *shell = json_object_get(json_object_get(b->cfg, "config"), "Shell");
                if (json_is_array(shell) && json_array_size(shell))
                        json_array_extend(cmd, shell);
                else {
                        json_array_append_new(cmd, json_string("/bin/sh"));
                        json_array_append_new(cmd, json_string("-c"));
                }
                json_array_append_new(cmd, json_string(in->rest));
        }
        /* build args are the command's environment (not the image's); ENV wins over them */
        json_t *env = json_array();
        const char *k;
        json_t *v;
        json_object_foreach(b->args, k, v)
        {
                if (json_is_string(v) && bld_lookup(b, k) == json_string_value(v))
                        json_array_append_new(env, json_sprintf("%s=%s", k, json_string_value(v)));
        }
        cleanup_free char *text = command_text(cmd);
        cleanup_free char *env_text = json_dumps(env, JSON_COMPACT);
        char key[IMG_DIGEST_MAX];
        bool hit;
        int r = bld_cache_check(b, in->text, env_text, key, &hit, err);
        if (r < 0 || hit)
                goto done;

        /* `run --network N --entrypoint "" [-e K=V]... IMAGE CMD...` */
        size_t n = 0, cap = 8 + 2 * json_array_size(env) + json_array_size(cmd);
        char **argv = berth_xcalloc(cap + 1, sizeof(char *));
        argv[n++] = berth_xstrdup("run");
        argv[n++] = berth_xstrdup("--network");
        argv[n++] = berth_xstrdup(b->network);
        argv[n++] = berth_xstrdup("--entrypoint");
        argv[n++] = berth_xstrdup("");
        size_t i;
        json_array_foreach(env, i, v)
        {
                argv[n++] = berth_xstrdup("-e");
                argv[n++] = berth_xstrdup(json_string_value(v));
        }
        argv[n++] = berth_xstrdup(b->cur);
        json_array_foreach(cmd, i, v)
        {
                argv[n++] = berth_xstrdup(json_string_value(v));
        }
        struct eng_run_flags f;
        struct eng_container *c = NULL;
        r = eng_runflags_parse((int) n, argv, ENG_RUN_RUN, &f, err);
        if (r == 0) {
                f.cli.quiet = true;
                free(f.cli.pull);
                f.cli.pull = berth_xstrdup("never");
                r = eng_create(&b->e, &f, &c, err);
                eng_runflags_release(&f);
        }
        for (i = 0; i < n; i++)
                free(argv[i]);
        free(argv);
        int code = 0;
        if (r == 0) {
                struct bld_event ev = {.kind = BLD_EV_RUNNING, .id = c->id};
                bld_emit(b, &ev);
                r = run_attached(b, c, &code, err);
        }
        if (r == 0 && code != 0) {
                b->run_code = code;
                r = berth_fail_status(err, 1, 0, "The command '%s' returned a non-zero code: %d",
                                      text, code);
        }
        struct img_desc layer = {0};
        char diffid[IMG_DIGEST_MAX];
        if (r == 0) {
                cleanup_free char *upper = berth_xasprintf("snapshots/%s/upper", c->id);
                cleanup_close int ufd =
                        openat(b->s.root_fd, upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (ufd < 0)
                        r = berth_fail(err, errno,
                                       "RUN needs the overlay storage driver (open `%s/%s`)",
                                       b->s.root, upper);
                else
                        r = drop_placeholders(ufd) < 0
                                    ? -1
                                    : img_layer_from_dir(&b->s, ufd, &layer, diffid, err);
        }
        if (c) {
                berth_error_t rerr = NULL;
                if (eng_remove(&b->e, c, true, &rerr) < 0 && r == 0) {
                        *err = rerr;
                        rerr = NULL;
                        r = berth_wrap(err, "remove the build container");
                }
                berth_error_release(&rerr);
                struct bld_event ev = {.kind = BLD_EV_REMOVED, .id = c->id};
                bld_emit(b, &ev);
                eng_container_free(c);
        }
        if (r == 0)
                r = bld_commit(b, text, &layer, diffid, key, err);
        free(layer.media_type);
done:
        json_decref(cmd);
        json_decref(env);
        return r;
}
