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

static json_t *history_row(const char *id, json_t *h, int64_t size, bool human, bool no_trunc)
{
        const char *created = json_string_value(json_object_get(h, "created"));
        int64_t t = cli_time_sec(created);
        char since[64];
        berth_format_duration((int64_t) time(NULL) - t, since, sizeof(since));
        cleanup_free char *ago = berth_xasprintf("%s ago", since);
        const char *by = json_string_value(json_object_get(h, "created_by"));
        by = by ? by : "";
        cleanup_free char *by_cut = NULL;
        if (!no_trunc && strlen(by) > 45)
                by_cut = berth_xasprintf("%.44s…", by);
        char sz[32];
        if (human)
                berth_format_size(size, sz, sizeof(sz));
        else
                snprintf(sz, sizeof(sz), "%lld", (long long) size);
        const char *comment = json_string_value(json_object_get(h, "comment"));
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "ID", id, "CreatedSince",
                         created ? ago : "", "CreatedAt", created ? created : "", "CreatedBy",
                         by_cut ? by_cut : by, "Size", sz, "Comment", comment ? comment : "");
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
                return cli_usage_error(err, "history", "requires exactly 1 argument");
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
        json_t *hist = json_object_get(img.cfg, "history");
        json_t *rows = json_array();
        /* each history step that is not an empty layer owns the next layer */
        size_t layer = 0;
        json_t *steps = json_array();
        size_t i;
        json_t *h;
        json_array_foreach(hist, i, h)
        {
                int64_t size = 0;
                if (!json_is_true(json_object_get(h, "empty_layer")) && layer < img.n_layers)
                        size = img.layers[layer++].size;
                json_array_append_new(steps,
                                      json_pack("{s:O, s:I}", "h", h, "size", (json_int_t) size));
        }
        for (; layer < img.n_layers; layer++)
                json_array_append_new(steps, json_pack("{s:{}, s:I}", "h", "size",
                                                       (json_int_t) img.layers[layer].size));
        for (size_t k = json_array_size(steps); k-- > 0;) {
                json_t *st = json_array_get(steps, k);
                bool top = k == json_array_size(steps) - 1;
                json_array_append_new(
                        rows, history_row(top ? top_id : "<missing>", json_object_get(st, "h"),
                                          json_integer_value(json_object_get(st, "size")), human,
                                          no_trunc));
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
