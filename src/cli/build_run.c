/* build_run.c — a RUN step of `berth build`: a container from the current image runs the
 * command (its output is the build's), and when it exits 0 its overlay upper directory
 * becomes the next layer.  The container is removed whatever happens. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/build.h"
#include "common/util.h"
#include "engine/client.h"
#include "engine/create.h"
#include "engine/lifecycle.h"
#include "engine/runflags.h"

volatile sig_atomic_t build_interrupted;
char build_pid_file[4096];

void build_kill_run(void)
{
        /* only async-signal-safe calls: open, read, close, kill */
        if (build_pid_file[0] == '\0')
                return;
        int fd = open(build_pid_file, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return;
        char buf[32];
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        pid_t pid = 0;
        for (ssize_t i = 0; i < n && buf[i] >= '0' && buf[i] <= '9'; i++)
                pid = pid * 10 + (buf[i] - '0');
        if (pid > 1)
                kill(pid, SIGKILL);
}

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

/* Run the container attached; its exit code in *code.  Output goes to ours (or nowhere
 * with -q). */
static int run_attached(struct build *b, struct eng_container *c, int *code, berth_error_t *err)
{
        struct eng_start_opts o = {.wait_attach = true};
        int sync = -1;
        if (eng_start(&b->e, c, &o, &sync, err) < 0)
                return -1;
        /* ctrl-C from now on kills the container's init (its pid file is read in the signal
         * handler: the init only starts once attached): the command fails, and the step
         * cleans up as after any failure */
        snprintf(build_pid_file, sizeof(build_pid_file), "%s/init.pid", c->run_dir);
        if (build_interrupted)
                build_kill_run();
        int saved_out = -1, saved_err = -1;
        if (b->quiet) {
                int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
                fflush(stdout);
                saved_out = dup(1);
                saved_err = dup(2);
                if (null >= 0) {
                        dup2(null, 1);
                        dup2(null, 2);
                        close(null);
                }
        }
        struct eng_attach_opts a = {.out = true, .err = true, .sync_fd = sync};
        int r = eng_attach(&b->e, c, &a, code, err);
        build_pid_file[0] = '\0';
        close(sync);
        if (saved_out >= 0) {
                dup2(saved_out, 1);
                dup2(saved_err, 2);
                close(saved_out);
                close(saved_err);
        }
        return r < 0 ? -1 : 0;
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

int build_run(struct build *b, const struct img_cf_instr *in, berth_error_t *err)
{
        if (build_ensure_image(b, err) < 0)
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
                if (json_is_string(v) && build_lookup(b, k) == json_string_value(v))
                        json_array_append_new(env, json_sprintf("%s=%s", k, json_string_value(v)));
        }
        cleanup_free char *text = command_text(cmd);
        cleanup_free char *env_text = json_dumps(env, JSON_COMPACT);
        char key[IMG_DIGEST_MAX];
        bool hit;
        int r = build_cache_check(b, in->text, env_text, key, &hit, err);
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
        if (r == 0)
                r = run_attached(b, c, &code, err);
        if (r == 0 && code != 0)
                r = berth_fail_status(err, 1, 0, "The command '%s' returned a non-zero code: %d",
                                      text, code);
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
                eng_container_free(c);
        }
        if (r == 0)
                r = build_commit(b, text, &layer, diffid, key, err);
        free(layer.media_type);
done:
        json_decref(cmd);
        json_decref(env);
        return r;
}
