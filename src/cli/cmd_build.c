/* cmd_build.c — `berth build`: its options and its output.  The build itself is the build
 * library's (src/build/build.h); this file turns argv into bld_opts, prints the library's
 * events (steps, image IDs, the RUN commands' output), stops the build on SIGINT/SIGTERM/SIGHUP
 * and writes --iidfile. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build/build.h"
#include "cli/cli.h"
#include "cli/image_common.h"
#include "common/util.h"

struct cli_build {
        struct bld_opts o;
        struct img_registry_opts pull; /* for base images the store lacks */
        json_t *tags;                  /* normalized names */
        json_t *build_args;
        bool quiet;
        const char *context;
        const char *file;
        const char *iidfile;
};

static void build_usage(FILE *out)
{
        fprintf(out, "Usage: berth build [OPTIONS] CONTEXT|-\n"
                     "\n"
                     "Build an image from a Containerfile (Dockerfile syntax).  With -, the\n"
                     "context is a tar on stdin (plain, gzip, bzip2, xz or zstd), or stdin is\n"
                     "the Containerfile alone (an empty context).\n"
                     "\n"
                     "Options:\n"
                     "  -f, --file FILE        the Containerfile (default CONTEXT/Containerfile,\n"
                     "                         else CONTEXT/Dockerfile; inside the tar for -;\n"
                     "                         - reads it from stdin)\n"
                     "  -t, --tag NAME         name the image (repeatable)\n"
                     "      --build-arg K[=V]  set a build-time variable (V from the environment\n"
                     "                         when absent)\n"
                     "      --target STAGE     build up to this stage\n"
                     "      --iidfile FILE     write the image ID (sha256:...) to FILE\n"
                     "      --no-cache         do not use the layer cache\n"
                     "      --pull             pull every base image, even one the store has\n"
                     "                         (one it lacks is always pulled)\n"
                     "      --network MODE     network of RUN containers (default host)\n"
                     "  -q, --quiet            print only the image ID\n"
                     "  -h, --help             show this help\n");
}

static int parse_opts(struct cli_build *b, int argc, char **argv, berth_error_t *err)
{
        enum {
                OPT_BUILD_ARG = 256,
                OPT_NO_CACHE,
                OPT_NETWORK,
                OPT_TARGET,
                OPT_IIDFILE,
                OPT_PULL,
                OPT_IGNORED
        };
        static const struct option opts[] = {
                {"file", required_argument, NULL, 'f'},
                {"tag", required_argument, NULL, 't'},
                {"quiet", no_argument, NULL, 'q'},
                {"build-arg", required_argument, NULL, OPT_BUILD_ARG},
                {"no-cache", no_argument, NULL, OPT_NO_CACHE},
                {"network", required_argument, NULL, OPT_NETWORK},
                {"target", required_argument, NULL, OPT_TARGET},
                {"iidfile", required_argument, NULL, OPT_IIDFILE},
                {"pull", no_argument, NULL, OPT_PULL},
                {"rm", optional_argument, NULL, OPT_IGNORED},
                {"force-rm", optional_argument, NULL, OPT_IGNORED},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        int c;
        while ((c = getopt_long(argc, argv, "f:t:qh", opts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        b->file = optarg;
                        break;
                case 't': {
                        char *norm = NULL;
                        if (img_ref_normalize(optarg, &norm, NULL) < 0)
                                return cli_usage_error(err, "build", "invalid reference format: %s",
                                                       optarg);
                        json_array_append_new(b->tags, json_string(norm));
                        free(norm);
                        break;
                }
                case 'q':
                        b->quiet = true;
                        break;
                case OPT_BUILD_ARG: {
                        const char *eq = strchr(optarg, '=');
                        cleanup_free char *k =
                                eq ? berth_xasprintf("%.*s", (int) (eq - optarg), optarg)
                                   : berth_xstrdup(optarg);
                        const char *v = eq ? eq + 1 : getenv(k);
                        if (v)
                                json_object_set_new(b->build_args, k, json_string(v));
                        break;
                }
                case OPT_NO_CACHE:
                        b->o.no_cache = true;
                        break;
                case OPT_NETWORK:
                        b->o.network = optarg;
                        break;
                case OPT_TARGET:
                        b->o.target = optarg;
                        break;
                case OPT_IIDFILE:
                        b->iidfile = optarg;
                        break;
                case OPT_PULL:
                        b->o.pull_always = true;
                        break;
                case OPT_IGNORED:
                        break;
                case 'h':
                        build_usage(stdout);
                        return 1;
                default:
                        return cli_usage_error(err, "build", "invalid option");
                }
        }
        if (optind != argc - 1)
                return cli_usage_error(err, "build", "requires exactly one argument (CONTEXT)");
        b->context = argv[optind];
        return 0;
}

static int read_stdin(char **out, berth_error_t *err)
{
        size_t len = 0, cap = 4096;
        char *buf = berth_xmalloc(cap);
        ssize_t n;
        while ((n = read(STDIN_FILENO, buf + len, cap - len - 1)) > 0) {
                len += (size_t) n;
                if (cap - len < 2)
                        buf = berth_xrealloc(buf, cap *= 2);
        }
        if (n < 0) {
                free(buf);
                return berth_fail(err, errno, "read the Containerfile from stdin");
        }
        buf[len] = '\0';
        *out = buf;
        return 0;
}

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
        interrupted = sig;
}

static int cancelled(void *ctx)
{
        (void) ctx;
        return interrupted ? 128 + interrupted : 0;
}

static void on_event(void *ctx, const struct bld_event *ev)
{
        struct cli_build *b = ctx;
        if (b->quiet)
                return;
        switch (ev->kind) {
        case BLD_EV_STEP:
                printf("STEP %zu/%zu: %s\n", ev->step, ev->total, ev->text);
                break;
        case BLD_EV_IMAGE:
                printf("--> %s%.12s\n", ev->cached ? "Using cache " : "", img_digest_hex(ev->id));
                break;
        case BLD_EV_OUTPUT:
                fflush(stdout);
                (void) berth_write_all(ev->fd, ev->data, ev->len);
                return;
        case BLD_EV_BUILT:
                if (json_array_size(b->tags))
                        printf("COMMIT %s\n", json_string_value(json_array_get(b->tags, 0)));
                break;
        case BLD_EV_TAGGED:
                printf("Successfully tagged %s\n", ev->text);
                break;
        case BLD_EV_RUNNING:
        case BLD_EV_REMOVED:
                return;
        }
        fflush(stdout);
}

/* `berth build -`: the context (or the Containerfile alone) from stdin, as docker reads it. */
static int stdin_context(struct cli_global *g, struct cli_build *b, struct bld_stream_context *sc,
                         char **text, berth_error_t *err)
{
        if (b->file && strcmp(b->file, "-") == 0)
                return berth_fail_status(err, 1, 0,
                                         "invalid argument: can't use stdin for both build "
                                         "context and dockerfile");
        cleanup_free char *base = berth_path_join(g->paths.run_dir, "build");
        if (bld_context_from_stream(STDIN_FILENO, base, sc, err) < 0)
                return -1;
        b->context = sc->dir;
        if (sc->dockerfile) {
                /* a lone Containerfile: -f would name a second one (the docker CLI's words) */
                if (b->file)
                        return berth_fail_status(err, 1, 0,
                                                 "unable to prepare context: ambiguous Dockerfile "
                                                 "source: both stdin and flag correspond to "
                                                 "Dockerfiles");
                b->o.dockerfile_text = sc->dockerfile;
                b->file = "Dockerfile";
                return 0;
        }
        const char *used = NULL;
        if (bld_context_dockerfile(sc->dir, b->file, text, &used, err) < 0)
                return -1;
        b->o.dockerfile_text = *text;
        b->file = used;
        return 0;
}

/* 0; 1 when a RUN command failed (reported here, as Docker does); -1 with err set. */
static int build(struct cli_global *g, struct cli_build *b, berth_error_t *err)
{
        cleanup_free char *file_buf = NULL;
        cleanup_free char *text = NULL;
        /* (from stdin_context, context and Containerfile are known already) */
        if (b->o.dockerfile_text == NULL && b->file == NULL) {
                file_buf = bld_default_dockerfile(b->context);
                b->file = file_buf;
        }
        if (b->o.dockerfile_text == NULL && strcmp(b->file, "-") == 0) {
                if (read_stdin(&text, err) < 0) {
                        (*err)->status = 125;
                        return -1;
                }
                b->o.dockerfile_text = text;
        }
        size_t n = json_array_size(b->tags);
        const char **names = berth_xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                names[i] = json_string_value(json_array_get(b->tags, i));
        b->o.context = b->context;
        b->o.dockerfile = b->file;
        b->o.tags = names;
        b->o.n_tags = n;
        b->o.build_args = b->build_args;
        b->o.on_event = on_event;
        b->o.ctx = b;
        b->o.cancelled = cancelled;
        /* an interrupted build stops between steps (or kills its RUN) and cleans up: no
         * SA_RESTART, so that waits return at once to notice it */
        struct sigaction sa = {.sa_handler = on_signal};
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
        struct bld_result res;
        int r = bld_run(&g->paths, &b->o, &res, err);
        free(names);
        if (r < 0 && res.run_code) {
                /* Docker's classic builder's words, alone on stderr, and its exit status: the
                 * step that failed was printed just before */
                fflush(stdout);
                fprintf(stderr, "%s\n", berth_error_msg(*err));
                berth_error_release(err);
                return 1;
        }
        if (r < 0) {
                if (res.failed_line)
                        berth_wrap(err, "%s:%d: %s", b->file, res.failed_line, res.failed_cmd);
                return -1;
        }
        printf("%s\n", img_digest_hex(res.id));
        if (b->iidfile)
                return berth_write_file_atomic(b->iidfile, res.id, strlen(res.id), 0644, err);
        return 0;
}

int cmd_build(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        struct cli_build b = {.tags = json_array(), .build_args = json_object()};
        struct bld_stream_context sc = {0};
        cleanup_free char *text = NULL;
        /* a base image the store lacks is pulled, its progress printed as `berth pull`'s */
        cleanup_free char *auth = cli_registry_defaults(g, &b.pull); /* owns pull.auth_file */
        (void) auth;
        b.o.pull = &b.pull;
        int r = parse_opts(&b, argc, argv, err);
        b.pull.quiet = b.quiet;
        if (r == 0 && b.context && strcmp(b.context, "-") == 0) {
                r = stdin_context(g, &b, &sc, &text, err);
                if (r < 0 && (*err)->status == 0)
                        (*err)->status = 125;
        }
        int status = 0;
        if (r == 0 && b.context) {
                r = build(g, &b, err);
                if (r > 0) {
                        status = r;
                        r = 0;
                }
        }
        bld_context_remove(&sc);
        json_decref(b.tags);
        json_decref(b.build_args);
        return r < 0 ? -1 : status;
}
