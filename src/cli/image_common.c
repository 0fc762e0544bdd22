/* image_common.c — helpers shared by the image subcommands (image_common.h). */
#include <stdlib.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/image_common.h"
#include "common/paths.h"
#include "common/util.h"

int cli_store_open(struct cli_global *g, struct img_store *s, berth_error_t *err)
{
        return img_store_open(s, g->paths.data_dir, err);
}

int cli_store_table_open(struct cli_global *g, struct img_store *s, struct img_table *t,
                         berth_error_t *err)
{
        if (cli_store_open(g, s, err) < 0)
                return -1;
        if (img_table_load(s, t, err) < 0) {
                img_store_close(s);
                return -1;
        }
        return 0;
}

int64_t cli_time_sec(const char *rfc3339)
{
        return img_time_sec(rfc3339);
}

char *cli_short_id(const char *digest, bool no_trunc)
{
        if (no_trunc)
                return berth_xstrdup(digest);
        const char *hex = strchr(digest, ':');
        return berth_xasprintf("%.12s", hex ? hex + 1 : digest);
}

json_t *cli_image_inspect_json(const struct img_entry *e, const struct img_image *img)
{
        return img_inspect_json(e, img);
}

char *cli_registry_defaults(struct cli_global *g, struct img_registry_opts *o)
{
        memset(o, 0, sizeof(*o));
        o->tls_verify = -1;
        o->retries = 3;
        /* chunked (PATCH) uploads above this many bytes; unset: one PUT per blob */
        const char *chunk = getenv("BERTH_PUSH_CHUNK_SIZE");
        if (chunk && *chunk)
                o->chunk_size = strtoull(chunk, NULL, 10);
        const char *env = getenv("BERTH_AUTH_FILE");
        char *path =
                env && *env ? berth_xstrdup(env) : berth_path_join(g->paths.data_dir, "auth.json");
        o->auth_file = path;
        return path;
}

int cli_registry_option(int c, const char *arg, struct img_registry_opts *o, const char *cmd,
                        berth_error_t *err)
{
        switch (c) {
        case CLI_OPT_TLS_VERIFY:
                if (arg == NULL || strcmp(arg, "true") == 0 || strcmp(arg, "1") == 0)
                        o->tls_verify = 1;
                else if (strcmp(arg, "false") == 0 || strcmp(arg, "0") == 0)
                        o->tls_verify = 0;
                else
                        return cli_usage_error(err, cmd, "--tls-verify takes true or false");
                return 1;
        case CLI_OPT_CERT_DIR:
                o->cert_dir = arg;
                return 1;
        case CLI_OPT_AUTHFILE:
                o->auth_file = arg;
                return 1;
        default:
                return 0;
        }
}

int cli_registry_getopt(int argc, char **argv, const char *cmd, const char *usage,
                        struct img_registry_opts *o, berth_error_t *err)
{
        static const struct option opts[] = {
                CLI_REGISTRY_OPTIONS,
                {"quiet", no_argument, NULL, 'q'},
                {"platform", required_argument, NULL, 'p'},
                {"all-tags", no_argument, NULL, 'a'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        int c;
        while ((c = getopt_long(argc, argv, "aqh", opts, NULL)) != -1) {
                int r = cli_registry_option(c, optarg, o, cmd, err);
                if (r < 0)
                        return -1;
                if (r > 0)
                        continue;
                switch (c) {
                case 'q':
                        o->quiet = true;
                        break;
                case 'a':
                        if (strcmp(cmd, "pull") != 0)
                                return cli_usage_error(err, cmd, "invalid option");
                        o->all_tags = true;
                        break;
                case 'p':
                        o->platform = optarg; /* pull: the index entry to pick */
                        break;
                case 'h':
                        fputs(usage, stdout);
                        return 1;
                default:
                        return cli_usage_error(err, cmd, "invalid option");
                }
        }
        return 0;
}

int cli_prune_getopt(int argc, char **argv, const char *cmd, const char *usage,
                     const char *warning_all, const char *warning, bool *all, berth_error_t *err)
{
        static const struct option opts[] = {
                {"all", no_argument, NULL, 'a'},
                {"force", no_argument, NULL, 'f'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        bool force = false;
        *all = false;
        int c;
        while ((c = getopt_long(argc, argv, "afh", opts, NULL)) != -1) {
                if (c == 'a')
                        *all = true;
                else if (c == 'f')
                        force = true;
                else if (c == 'h') {
                        fputs(usage, stdout);
                        return 1;
                } else
                        return cli_usage_error(err, cmd, "invalid option");
        }
        if (optind < argc)
                return cli_usage_error(err, cmd, "unexpected argument `%s`", argv[optind]);
        if (force)
                return 0;
        printf("%s [y/N] ", *all ? warning_all : warning);
        fflush(stdout);
        char line[16];
        if (fgets(line, sizeof(line), stdin) == NULL || (line[0] != 'y' && line[0] != 'Y'))
                return 2;
        return 0;
}
