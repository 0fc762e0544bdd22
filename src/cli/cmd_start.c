/* cmd_start.c — `berth start` and `berth attach`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/containers.h"
#include "engine/client.h"
#include "engine/lifecycle.h"

static int do_start(struct eng_ctx *e, struct eng_container *c, void *arg, berth_error_t *err)
{
        struct eng_start_opts o = {0};
        int sync = -1;
        return eng_start(e, c, &o, &sync, err);
}

static int attach_one(struct cli_global *g, const char *name, bool in, bool sig_proxy,
                      const char *keys, bool start, berth_error_t *err)
{
        struct eng_ctx e;
        if (eng_ctx_init(&e, &g->paths, err) < 0)
                return -1;
        struct eng_container *c = NULL;
        int code = 0, r = eng_container_find(&e, name, &c, err);
        if (r == 0 && start) {
                struct eng_start_opts o = {.wait_attach = true};
                int sync = -1;
                r = eng_start(&e, c, &o, &sync, err);
                if (r == 0) {
                        json_t *cfg = json_object_get(c->doc, "Config");
                        bool tty = json_is_true(json_object_get(cfg, "Tty"));
                        struct eng_attach_opts a = {.in = in,
                                                    .out = true,
                                                    .err = true,
                                                    .tty = tty,
                                                    .detach_keys = keys,
                                                    .sig_proxy = sig_proxy,
                                                    .sync_fd = sync};
                        r = eng_attach(&e, c, &a, &code, err);
                        if (sync >= 0)
                                close(sync);
                }
        } else if (r == 0) {
                eng_reconcile(&e, c, NULL);
                if (strcmp(eng_container_status(c), "running") != 0 &&
                    strcmp(eng_container_status(c), "paused") != 0) {
                        r = berth_fail_status(err, 1, 0,
                                              "You cannot attach to a stopped container, start it "
                                              "first");
                } else {
                        json_t *cfg = json_object_get(c->doc, "Config");
                        struct eng_attach_opts a = {
                                .in = in && json_is_true(json_object_get(cfg, "OpenStdin")),
                                .out = true,
                                .err = true,
                                .tty = json_is_true(json_object_get(cfg, "Tty")),
                                .detach_keys = keys,
                                .sig_proxy = sig_proxy,
                                .sync_fd = -1};
                        r = eng_attach(&e, c, &a, &code, err);
                }
        }
        eng_container_free(c);
        eng_ctx_free(&e);
        if (r < 0)
                return -1;
        if (r == 1) {
                fprintf(stderr, "\nread escape sequence\n");
                return 0;
        }
        return code;
}

int cmd_start(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {{"attach", no_argument, NULL, 'a'},
                                             {"interactive", no_argument, NULL, 'i'},
                                             {"detach-keys", required_argument, NULL, 'k'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
        bool attach = false, in = false;
        const char *keys = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "aih", opts, NULL)) != -1) {
                switch (c) {
                case 'a':
                        attach = true;
                        break;
                case 'i':
                        in = true;
                        break;
                case 'k':
                        keys = optarg;
                        break;
                case 'h':
                        printf("Usage: berth start [-a] [-i] CONTAINER [CONTAINER...]\n\n"
                               "Start one or more stopped containers.\n");
                        return 0;
                default:
                        return cli_usage_error(err, "start", "invalid option");
                }
        }
        if (optind >= argc)
                return cli_args_error(err, "start", "at least 1 argument");
        if (attach || in) {
                if (argc - optind > 1)
                        return cli_usage_error(
                                err, "start",
                                "you cannot start and attach multiple containers at once");
                return attach_one(g, argv[optind], in, true, keys, true, err);
        }
        static const struct cli_each_opts each = {.summary = "failed to start containers"};
        return cli_for_each_container_opts(g, argv + optind, argc - optind, do_start, NULL, true,
                                           &each, err);
}

int cmd_attach(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {{"no-stdin", no_argument, NULL, 'n'},
                                             {"sig-proxy", required_argument, NULL, 's'},
                                             {"detach-keys", required_argument, NULL, 'k'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
        bool in = true, proxy = true;
        const char *keys = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case 'n':
                        in = false;
                        break;
                case 's':
                        proxy = strcmp(optarg, "false") != 0;
                        break;
                case 'k':
                        keys = optarg;
                        break;
                case 'h':
                        printf("Usage: berth attach [--no-stdin] [--sig-proxy=false] "
                               "[--detach-keys KEYS] CONTAINER\n\n"
                               "Attach local standard input, output, and error streams to a "
                               "running container.\n");
                        return 0;
                default:
                        return cli_usage_error(err, "attach", "invalid option");
                }
        }
        if (argc - optind != 1)
                return cli_args_error(err, "attach", "1 argument");
        return attach_one(g, argv[optind], in, proxy, keys, false, err);
}
