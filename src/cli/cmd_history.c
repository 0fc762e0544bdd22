/* cmd_history.c — `berth history` (`berth image history`): an image's layers
 * and the steps that made them, newest first. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/image_common.h"
#include "common/util.h"

static const struct berth_tmpl_header history_headers[] = {
        {"ID", "IMAGE"},
        {"CreatedSince", "CREATED"},
        {"CreatedAt", "CREATED AT"},
        {"CreatedBy", "CREATED BY"},
        {"Size", "SIZE"},
        {"Comment", "COMMENT"},
        {NULL, NULL},
};

/* A row of the table from a step of img_history. */
static json_t *history_row(const char *id, json_t *h, bool human, bool no_trunc)
{
        const char *created = json_string_value(json_object_get(h, "CreatedAt"));
        int64_t t = cli_time_sec(created);
        char since[64];
        berth_format_duration((int64_t) time(NULL) - t, since, sizeof(since));
        cleanup_free char *ago = berth_xasprintf("%s ago", since);
        const char *by = json_string_value(json_object_get(h, "CreatedBy"));
        cleanup_free char *by_cut = NULL;
        if (!no_trunc && strlen(by) > 45)
                by_cut = berth_xasprintf("%.44s…", by);
        int64_t size = json_integer_value(json_object_get(h, "Size"));
        char sz[32];
        if (human)
                berth_format_size(size, sz, sizeof(sz));
        else
                snprintf(sz, sizeof(sz), "%lld", (long long) size);
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}", "ID", id, "CreatedSince",
                         *created ? ago : "", "CreatedAt", created, "CreatedBy",
                         by_cut ? by_cut : by, "Size", sz, "Comment",
                         json_object_get(h, "Comment"));
}

int cmd_history(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        enum { OPT_FORMAT = 256, OPT_NO_TRUNC };
        static const struct option opts[] = {
                {"format", required_argument, NULL, OPT_FORMAT},
                {"human", required_argument, NULL, 'H'},
                {"no-trunc", no_argument, NULL, OPT_NO_TRUNC},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        const char *format = NULL;
        bool human = true, no_trunc = false, quiet = false;
        int c;
        while ((c = getopt_long(argc, argv, "H:qh", opts, NULL)) != -1) {
                switch (c) {
                case OPT_FORMAT:
                        format = optarg;
                        break;
                case 'H':
                        human = strcmp(optarg, "false") != 0;
                        break;
                case OPT_NO_TRUNC:
                        no_trunc = true;
                        break;
                case 'q':
                        quiet = true;
                        break;
                case 'h':
                        printf("Usage: berth history [OPTIONS] IMAGE\n"
                               "\n"
                               "Show the history of an image.\n"
                               "\n"
                               "Options:\n"
                               "      --format FORMAT   {{.ID}} {{.CreatedSince}} {{.CreatedAt}}\n"
                               "                        {{.CreatedBy}} {{.Size}} {{.Comment}}\n"
                               "  -H, --human BOOL      human-readable sizes and dates (true)\n"
                               "      --no-trunc        don't truncate output\n"
                               "  -q, --quiet           only show image IDs\n");
                        return 0;
                default:
                        return cli_usage_error(err, "history", "invalid option");
                }
        }
        if (argc - optind != 1)
                return cli_args_error(err, "history", "1 argument");
        struct img_store s;
        if (cli_store_open(g, &s, err) < 0)
                return -1;
        struct img_table t;
        struct img_entry *e;
        struct img_image img = {0};
        int ret = img_table_load(&s, &t, err);
        if (ret == 0) {
                ret = img_lookup(&s, &t, argv[optind], &e, err);
                if (ret == 0)
                        ret = img_image_load(&s, e->manifest, &img, err);
                img_table_free(&t);
        }
        img_store_close(&s);
        if (ret < 0)
                return -1;
        cleanup_free char *top_id = cli_short_id(img.config.digest, no_trunc);
        json_t *steps = img_history(&img);
        json_t *rows = json_array();
        size_t i;
        json_t *h;
        json_array_foreach(steps, i, h)
        {
                json_array_append_new(
                        rows, history_row(i == 0 ? top_id : "<missing>", h, human, no_trunc));
        }
        json_decref(steps);
        const char *fmt = format  ? format
                          : quiet ? "{{.ID}}"
                                  : "table {{.ID}}\\t{{.CreatedSince}}\\t{{.CreatedBy}}\\t{{.Size}}"
                                    "\\t{{.Comment}}";
        ret = berth_tmpl_print_rows(fmt, rows, history_headers, stdout, err);
        json_decref(rows);
        img_image_free(&img);
        return ret;
}
