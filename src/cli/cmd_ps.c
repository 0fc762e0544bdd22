/* cmd_ps.c — `berth ps`: list containers as `docker ps` does. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/template.h"
#include "common/util.h"
#include "engine/lifecycle.h"
#include "engine/view.h"

#define PS_DEFAULT_FORMAT                                                                        \
        "table "                                                                                 \
        "{{.ID}}\\t{{.Image}}\\t{{.Command}}\\t{{.RunningFor}}\\t{{.Status}}\\t{{.Ports}}\\t{{." \
        "Names}}"

static void ps_usage(FILE *out)
{
        fprintf(out,
                "Usage: berth ps [OPTIONS]\n"
                "\n"
                "List containers\n"
                "\n"
                "Options:\n"
                "  -a, --all             Show all containers (default shows just running)\n"
                "  -f, --filter FILTER   Filter output based on conditions provided\n"
                "                        (id, name, label, status, exited, ancestor, before,\n"
                "                        since, health)\n"
                "      --format STRING   Format output using a Go template, `table …` or json\n"
                "  -n, --last N          Show n last created containers (includes all states)\n"
                "  -l, --latest          Show the latest created container (includes all states)\n"
                "      --no-trunc        Don't truncate output\n"
                "  -q, --quiet           Only display container IDs\n"
                "  -s, --size            Display total file sizes\n");
}

/* Docker runs --format's template even when no container is listed, so a bad template fails
 * (status 1) on an empty list too: run it on one row holding every field, output unused. */
static int check_format(const char *format, berth_error_t *err)
{
        if (strncmp(format, "table", 5) == 0)
                format += 5;
        else if (strcmp(format, "json") == 0)
                return 0;
        json_t *row = json_object();
        for (const struct berth_tmpl_header *h = eng_ps_headers; h->field; h++)
                json_object_set_new(row, h->field, json_string(""));
        struct berth_tmpl *t = NULL;
        char *out = NULL;
        int r = berth_tmpl_parse(format, &t, err);
        if (r == 0)
                r = berth_tmpl_exec(t, row, &out, err);
        free(out);
        berth_tmpl_free(t);
        json_decref(row);
        return r;
}

int cmd_ps(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                {"all", no_argument, NULL, 'a'},          {"filter", required_argument, NULL, 'f'},
                {"format", required_argument, NULL, 'F'}, {"last", required_argument, NULL, 'n'},
                {"latest", no_argument, NULL, 'l'},       {"no-trunc", no_argument, NULL, 'T'},
                {"quiet", no_argument, NULL, 'q'},        {"size", no_argument, NULL, 's'},
                {"help", no_argument, NULL, 'h'},         {0},
        };
        bool all = false, quiet = false, no_trunc = false;
        long last = -1;
        const char *format = NULL;
        struct eng_ps_filter *filter = NULL;
        int c, ret = 0;
        while ((c = getopt_long(argc, argv, "af:n:lqsh", opts, NULL)) != -1) {
                switch (c) {
                case 'a':
                        all = true;
                        break;
                case 'f':
                        if (eng_ps_filter_add(&filter, optarg, err) < 0)
                                goto out_err;
                        break;
                case 'F':
                        format = optarg;
                        break;
                case 'n': {
                        char *end;
                        last = strtol(optarg, &end, 10);
                        if (*end || last < -1) {
                                ret = cli_usage_error(err, "ps", "invalid --last `%s`", optarg);
                                goto out_err;
                        }
                        break;
                }
                case 'l':
                        last = 1;
                        break;
                case 'T':
                        no_trunc = true;
                        break;
                case 'q':
                        quiet = true;
                        break;
                case 's':
                        break; /* sizes are not tracked yet; the column stays empty */
                case 'h':
                        ps_usage(stdout);
                        eng_ps_filter_free(filter);
                        return 0;
                default:
                        ret = cli_usage_error(err, "ps", "invalid option");
                        goto out_err;
                }
        }
        if (optind < argc) {
                ret = cli_usage_error(err, "ps", "\"berth ps\" accepts no arguments");
                goto out_err;
        }

        if (eng_ps_filter_wants_all(filter))
                all = true;
        struct eng_ctx e;
        if (eng_ctx_init(&e, &g->paths, err) < 0)
                goto out_err;
        struct eng_container **v = NULL;
        size_t n = 0;
        if (eng_list_reconciled_brief(&e, &v, &n, err) < 0) {
                eng_ctx_free(&e);
                goto out_err;
        }
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        json_t *rows = json_array();
        long taken = 0;
        for (size_t i = 0; i < n; i++) {
                const char *st = eng_container_status(v[i]);
                bool live = strcmp(st, "running") == 0 || strcmp(st, "paused") == 0 ||
                            strcmp(st, "restarting") == 0;
                if (!all && last < 0 && !live)
                        continue;
                if (filter && !eng_ps_filter_match(filter, &e, v[i]))
                        continue;
                if (last >= 0 && taken >= last)
                        break;
                taken++;
                json_array_append_new(rows, eng_ps_row(v[i], no_trunc, &now));
                eng_container_free(v[i]); /* done with it: its memory serves the next one */
                v[i] = NULL;
        }
        if (quiet && format == NULL)
                format = "{{.ID}}";
        if (json_array_size(rows) == 0 && format && check_format(format, err) < 0) {
                (*err)->status = 1; /* docker's status for a template that fails */
                ret = -1;
                json_decref(rows);
                eng_container_list_free(v, n);
                eng_ctx_free(&e);
                goto out_err;
        }
        ret = berth_tmpl_print_rows(format ? format : PS_DEFAULT_FORMAT, rows, eng_ps_headers,
                                    stdout, err);
        json_decref(rows);
        eng_container_list_free(v, n);
        eng_ctx_free(&e);
out_err:
        eng_ps_filter_free(filter);
        return ret < 0 || (err && *err) ? -1 : 0;
}
