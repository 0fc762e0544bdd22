/* cmd_volume.c — `berth volume create|ls|inspect|rm|prune`: argv and printing; volumes, their
 * filters and prune are the engine's (engine/volume.h, engine/volume_query.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/containers.h"
#include "common/log.h"
#include "common/template.h"
#include "common/util.h"
#include "engine/volume.h"
#include "engine/volume_query.h"

static int kv_into(json_t *obj, const char *kv)
{
        const char *eq = strchr(kv, '=');
        cleanup_free char *k = eq ? strndup(kv, (size_t) (eq - kv)) : berth_xstrdup(kv);
        json_object_set_new(obj, k, json_string(eq ? eq + 1 : ""));
        return 0; // NOLINT(clang-analyzer-unix.Malloc): k is cleanup_free
}

static int vol_create(struct eng_ctx *e, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
                                             {"label", required_argument, NULL, 'l'},
                                             {"opt", required_argument, NULL, 'o'},
                                             {"driver", required_argument, NULL, 'd'},
                                             {0}};
        const char *name = NULL, *bad_driver = NULL;
        json_t *labels = json_object(), *options = json_object();
        int c, r = -1;
        while ((c = getopt_long(argc, argv, "l:o:d:", opts, NULL)) != -1) {
                if (c == 'n')
                        name = optarg;
                else if (c == 'l')
                        kv_into(labels, optarg);
                else if (c == 'o')
                        kv_into(options, optarg);
                else if (c == 'd')
                        bad_driver = strcmp(optarg, "local") == 0 ? NULL : optarg;
                else {
                        cli_usage_error(err, "volume create", "invalid option");
                        goto out;
                }
        }
        if (optind < argc) {
                if (name && strcmp(name, argv[optind]) != 0) {
                        cli_usage_error(err, "volume create",
                                        "conflicting options: either specify --name or provide "
                                        "positional arg, not both");
                        goto out;
                }
                name = argv[optind];
        }
        if (bad_driver) {
                /* only the local driver exists: Docker's words for a plugin it cannot find */
                berth_fail_status(err, 1, 0,
                                  "create %s: error looking up volume plugin %s: plugin \"%s\" "
                                  "not found",
                                  name ? name : "", bad_driver, bad_driver);
                goto out;
        }
        json_t *v;
        if (eng_volume_create(e, name, labels, options, &v, err) == 0) {
                printf("%s\n", json_string_value(json_object_get(v, "Name")));
                json_decref(v);
                r = 0;
        }
out:
        json_decref(labels);
        json_decref(options);
        return r;
}

static const struct berth_tmpl_header volume_headers[] = {
        {"Name", "VOLUME NAME"},
        {NULL, NULL},
};

/* --filter KEY=VALUE into Docker's filters object (KEY: [VALUE...]); the keys are checked by
 * the engine. */
static int add_filter(json_t *filters, const char *kv, berth_error_t *err)
{
        const char *eq = strchr(kv, '=');
        if (eq == NULL)
                return berth_fail_status(err, 1, 0, "invalid filter '%s'", kv);
        cleanup_free char *k = berth_xasprintf("%.*s", (int) (eq - kv), kv);
        json_t *vals = json_object_get(filters, k);
        if (vals == NULL)
                json_object_set_new(filters, k, vals = json_array());
        /* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): k is cleanup_free */
        json_array_append_new(vals, json_string(eq + 1));
        return 0;
}

static int vol_ls(struct eng_ctx *e, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {{"quiet", no_argument, NULL, 'q'},
                                             {"format", required_argument, NULL, 'f'},
                                             {"filter", required_argument, NULL, 'F'},
                                             {0}};
        bool quiet = false;
        const char *format = NULL;
        json_t *filters = json_object();
        int c, r = -1;
        while ((c = getopt_long(argc, argv, "qf:", opts, NULL)) != -1) {
                if (c == 'q') {
                        quiet = true;
                } else if (c == 'f') {
                        format = optarg;
                } else if (c == 'F') {
                        if (add_filter(filters, optarg, err) < 0)
                                goto out;
                } else {
                        cli_usage_error(err, "volume ls", "invalid option");
                        goto out;
                }
        }
        json_t *all;
        if (eng_volume_list_filtered(e, filters, &all, err) < 0)
                goto out;
        json_t *rows = json_array();
        size_t i;
        json_t *v;
        json_array_foreach(all, i, v)
        {
                json_t *row = json_pack("{s:s, s:s, s:s, s:s}", "Driver", "local", "Name",
                                        json_string_value(json_object_get(v, "Name")), "Mountpoint",
                                        json_string_value(json_object_get(v, "Mountpoint")),
                                        "Scope", "local");
                json_array_append_new(rows, row);
        }
        r = berth_tmpl_print_rows(quiet && !format ? "{{.Name}}"
                                  : format         ? format
                                                   : "table {{.Driver}}\t{{.Name}}",
                                  rows, volume_headers, stdout, err);
        json_decref(rows);
        json_decref(all);
out:
        json_decref(filters);
        return r;
}

static int vol_inspect(struct eng_ctx *e, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {{"format", required_argument, NULL, 'f'}, {0}};
        const char *format = NULL;
        int c, missing = 0;
        while ((c = getopt_long(argc, argv, "f:", opts, NULL)) != -1) {
                if (c != 'f')
                        return cli_usage_error(err, "volume inspect", "invalid option");
                format = optarg;
        }
        if (optind >= argc)
                return cli_args_error(err, "volume inspect", "at least 1 argument");
        json_t *all = json_array();
        for (int i = optind; i < argc; i++) {
                json_t *v;
                berth_error_t gerr = NULL;
                if (eng_volume_get(e, argv[i], &v, &gerr) < 0) {
                        log_error("%s", berth_error_msg(gerr));
                        berth_error_release(&gerr);
                        missing++;
                        continue;
                }
                json_array_append_new(all, v);
        }
        int r = 0;
        if (format) {
                r = berth_tmpl_print_rows(format, all, NULL, stdout, err);
        } else {
                char *s = json_dumps(all, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
                printf("%s\n", s ? s : "[]");
                free(s);
        }
        json_decref(all);
        return r < 0 ? -1 : missing ? 1 : 0;
}

static int vol_rm(struct eng_ctx *e, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {0}};
        bool force = false;
        int c, failed = 0;
        while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
                if (c != 'f')
                        return cli_usage_error(err, "volume rm", "invalid option");
                force = true;
        }
        if (optind >= argc)
                return cli_args_error(err, "volume rm", "at least 1 argument");
        for (int i = optind; i < argc; i++) {
                berth_error_t rerr = NULL;
                if (eng_volume_remove(e, argv[i], force, &rerr) < 0) {
                        log_error("%s", berth_error_msg(rerr));
                        berth_error_release(&rerr);
                        failed++;
                } else {
                        printf("%s\n", argv[i]);
                }
        }
        return failed ? 1 : 0;
}

static int vol_prune(struct eng_ctx *e, int argc, char **argv, berth_error_t *err)
{
        enum { O_FILTER = 1000 };
        static const struct option opts[] = {{"force", no_argument, NULL, 'f'},
                                             {"all", no_argument, NULL, 'a'},
                                             {"filter", required_argument, NULL, O_FILTER},
                                             {0}};
        bool all = false;
        int c;
        json_t *filters = json_object();
        while ((c = getopt_long(argc, argv, "fa", opts, NULL)) != -1) {
                if (c == 'a') {
                        all = true;
                } else if (c == O_FILTER) {
                        if (add_filter(filters, optarg, err) < 0) {
                                json_decref(filters);
                                return -1;
                        }
                } else if (c != 'f') {
                        json_decref(filters);
                        return cli_usage_error(err, "volume prune", "invalid option");
                }
        }
        json_t *removed;
        uint64_t reclaimed;
        int r = eng_volume_prune(e, filters, all, &removed, &reclaimed, err);
        json_decref(filters);
        if (r < 0)
                return -1;
        size_t i;
        json_t *name;
        json_array_foreach(removed, i, name)
        {
                if (i == 0)
                        printf("Deleted Volumes:\n");
                printf("%s\n", json_string_value(name));
        }
        json_decref(removed);
        printf("\nTotal reclaimed space: 0B\n");
        return 0;
}

int cmd_volume(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        static const struct {
                const char *name;
                int (*fn)(struct eng_ctx *, int, char **, berth_error_t *);
        } subs[] = {{"create", vol_create},   {"ls", vol_ls}, {"list", vol_ls},
                    {"inspect", vol_inspect}, {"rm", vol_rm}, {"remove", vol_rm},
                    {"prune", vol_prune}};
        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                /* docker: the group's help, on stderr when no command was given, status 0 */
                fprintf(argc < 2 ? stderr : stdout,
                        "Usage: berth volume COMMAND\n\nManage volumes\n\nCommands:\n"
                        "  create      Create a volume\n  inspect     Display detailed "
                        "information on one or more volumes\n  ls          List volumes\n"
                        "  prune       Remove unused local volumes\n  rm          Remove one or "
                        "more volumes\n\n"
                        "Run 'berth volume COMMAND --help' for more information on a command.\n");
                return 0;
        }
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(subs); i++) {
                if (strcmp(argv[1], subs[i].name) != 0)
                        continue;
                struct eng_ctx e;
                if (eng_ctx_init(&e, &g->paths, err) < 0)
                        return -1;
                optind = 0;
                cli_command_args(argc - 1, argv + 1);
                int r = subs[i].fn(&e, argc - 1, argv + 1, err);
                eng_ctx_free(&e);
                return r;
        }
        return berth_fail_status(err, 1, 0, "unknown command: berth volume %s", argv[1]);
}
