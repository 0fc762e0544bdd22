/* cmd_run.c — `berth run` and `berth create`. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/containers.h"
#include "common/util.h"
#include "engine/client.h"
#include "engine/create.h"
#include "engine/lifecycle.h"
#include "engine/runflags.h"

/* --cidfile: made before the container (Docker's CLI refuses a file that is there, so that two
 * runs can't claim it), filled with the full id once it exists, removed when the create fails.
 * Docker's exit status is 125 for run and 1 for create. */
static int cidfile_open(const char *path, enum eng_run_mode mode, int *fd, berth_error_t *err)
{
        int status = mode == ENG_RUN_RUN ? 125 : 1;
        *fd = -1;
        if (path == NULL || *path == '\0')
                return 0;
        /* O_EXCL is the check: it fails with EEXIST for anything there, a dangling link too */
        *fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (*fd < 0 && errno == EEXIST)
                return berth_fail_status(err, status, 0,
                                         "container ID file found, make sure the other container "
                                         "isn't running or delete %s",
                                         path);
        if (*fd < 0)
                return berth_fail_status(err, status, errno,
                                         "failed to create the container ID file: open %s", path);
        return 0;
}

static int cidfile_write(int fd, const char *path, const char *id, berth_error_t *err)
{
        size_t len = strlen(id);
        if (fd >= 0 && write(fd, id, len) != (ssize_t) len)
                return berth_fail_status(err, 125, errno, "write the container ID file %s", path);
        return 0;
}

static int create_common(struct cli_global *g, int argc, char **argv, enum eng_run_mode mode,
                         struct eng_ctx *e, struct eng_run_flags *f, struct eng_container **c,
                         berth_error_t *err)
{
        /* only --help: Docker's -h is --hostname (`create -h box IMAGE`) */
        if (argc > 1 && strcmp(argv[1], "--help") == 0) {
                printf("Usage: berth %s [OPTIONS] IMAGE [COMMAND] [ARG...]\n\n"
                       "%s a new container from an image, with Docker's options (see `docker "
                       "%s --help`;\ndocs/engine.md lists what berth supports).\n",
                       argv[0], mode == ENG_RUN_RUN ? "Run a command in" : "Create", argv[0]);
                return 1;
        }
        if (eng_runflags_parse(argc, argv, mode, f, err) < 0)
                return -1;
        const char *cidfile = json_string_value(json_object_get(f->host_config, "ContainerIDFile"));
        cleanup_close int cid_fd = -1;
        if (cidfile_open(cidfile, mode, &cid_fd, err) < 0) {
                eng_runflags_release(f);
                return -1;
        }
        if (eng_ctx_init(e, &g->paths, err) < 0)
                goto fail;
        if (eng_create(e, f, c, err) < 0) {
                /* all eng_create refuses, Docker's daemon (or its CLI's pull) refuses: `docker
                 * run` wraps it in 125, `docker create` returns it plainly, 1 (runflags.h) —
                 * "No such container", 1 for most verbs, included */
                if (*err && ((*err)->status == 0 || (*err)->status == 125 || (*err)->status == 1))
                        (*err)->status = mode == ENG_RUN_RUN ? 125 : 1;
                eng_ctx_free(e);
                goto fail;
        }
        /* the daemon's warnings, as the docker CLI prints them */
        size_t i;
        json_t *w;
        json_array_foreach(f->warnings, i, w)
        {
                fprintf(stderr, "WARNING: %s\n", json_string_value(w));
        }
        if (cidfile_write(cid_fd, cidfile, (*c)->id, err) < 0) {
                berth_error_t rerr = NULL;
                eng_remove(e, *c, true, &rerr);
                berth_error_release(&rerr);
                eng_container_free(*c);
                *c = NULL;
                eng_ctx_free(e);
                goto fail;
        }
        return 0;
fail:
        if (cid_fd >= 0)
                unlink(cidfile);
        eng_runflags_release(f);
        return -1;
}

int cmd_create(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        struct eng_ctx e;
        struct eng_run_flags f;
        struct eng_container *c = NULL;
        int r = create_common(g, argc, argv, ENG_RUN_CREATE, &e, &f, &c, err);
        if (r != 0)
                return r < 0 ? -1 : 0;
        printf("%s\n", c->id);
        eng_container_free(c);
        eng_ctx_free(&e);
        eng_runflags_release(&f);
        return 0;
}

int cmd_run(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        struct eng_ctx e;
        struct eng_run_flags f;
        struct eng_container *c = NULL;
        int r = create_common(g, argc, argv, ENG_RUN_RUN, &e, &f, &c, err);
        if (r != 0)
                return r < 0 ? -1 : 0;
        int code = 0;
        if (f.cli.detach) {
                struct eng_start_opts o = {.remove_on_exit = f.cli.rm};
                int sync = -1;
                r = eng_start(&e, c, &o, &sync, err);
                if (r == 0)
                        printf("%s\n", c->id);
        } else {
                struct eng_start_opts o = {.wait_attach = true};
                int sync = -1;
                r = eng_start(&e, c, &o, &sync, err);
                if (r == 0) {
                        /* the streams -a chose (Config.Attach*, set by the flag parser) */
                        json_t *cfg = f.config;
                        struct eng_attach_opts a = {
                                .in = f.cli.interactive &&
                                      json_is_true(json_object_get(cfg, "AttachStdin")),
                                .out = json_is_true(json_object_get(cfg, "AttachStdout")),
                                .err = json_is_true(json_object_get(cfg, "AttachStderr")),
                                .tty = f.cli.tty,
                                .detach_keys = f.cli.detach_keys,
                                .sig_proxy = f.cli.sig_proxy,
                                .sync_fd = sync};
                        r = eng_attach(&e, c, &a, &code, err);
                        close(sync);
                        if (r == 1) { /* detached with the keys: it keeps running */
                                fprintf(stderr, "\n");
                                r = 0;
                                code = 0;
                                f.cli.rm = false;
                        }
                }
                if (f.cli.rm) {
                        /* --rm in the foreground: we remove it once it is done, even when
                         * it failed to start */
                        berth_error_t rerr = NULL;
                        eng_remove(&e, c, true, &rerr);
                        berth_error_release(&rerr);
                }
        }
        if (r < 0 && f.cli.detach && f.cli.rm) {
                berth_error_t rerr = NULL;
                eng_remove(&e, c, true, &rerr);
                berth_error_release(&rerr);
        }
        eng_container_free(c);
        eng_ctx_free(&e);
        eng_runflags_release(&f);
        return r < 0 ? -1 : code;
}
