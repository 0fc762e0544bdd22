/* cmd_image_inspect.c — `berth image inspect`: images as Docker's JSON. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/image_common.h"
#include "common/util.h"

int cmd_image_inspect(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                {"format", required_argument, NULL, 'f'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        const char *format = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        format = optarg;
                        break;
                case 'h':
                        printf("Usage: berth image inspect [OPTIONS] IMAGE [IMAGE...]\n"
                               "\n"
                               "Show images as JSON (Docker's shape).\n"
                               "\n"
                               "Options:\n"
                               "  -f, --format FORMAT   Go-template subset, e.g. {{.Id}},\n"
                               "                        {{json .Config}}, {{.Config.Cmd}}\n");
                        return 0;
                default:
                        return cli_usage_error(err, "image inspect", "invalid option");
                }
        }
        if (optind >= argc)
                return cli_args_error(err, "image inspect", "at least 1 argument");
        struct img_store s;
        struct img_table t;
        if (cli_store_table_open(g, &s, &t, err) < 0)
                return -1;
        json_t *all = json_array();
        int status = 0;
        for (int i = optind; i < argc; i++) {
                berth_error_t one = NULL;
                struct img_entry *e;
                struct img_image img;
                if (img_lookup(&s, &t, argv[i], &e, &one) < 0) {
                        /* as the docker CLI: its own words before the daemon's */
                        berth_wrap(&one, "no such image: %s", argv[i]);
                        status = berth_error_report(&one, 1);
                        continue;
                }
                if (img_image_load(&s, e->manifest, &img, &one) < 0) {
                        status = berth_error_report(&one, 1);
                        continue;
                }
                json_array_append_new(all, cli_image_inspect_json(e, &img));
                img_image_free(&img);
        }
        img_table_free(&t);
        img_store_close(&s);
        int ret = 0;
        if (format && json_array_size(all) == 0) {
                putchar('\n'); /* docker's template inspector: an empty line when nothing was */
        } else if (format) {
                /* one line per image, as docker's inspect -f */
                ret = berth_tmpl_print_rows(format, all, NULL, stdout, err);
        } else {
                cleanup_free char *text = json_dumps(all, JSON_INDENT(4));
                printf("%s\n", text);
        }
        json_decref(all);
        return ret < 0 ? ret : status;
}
