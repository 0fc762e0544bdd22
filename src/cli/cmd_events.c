/* cmd_events.c — `berth events`: the event log (engine/events.h) printed as `docker events`
 * prints it, with its --since, --until, --filter and --format. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "common/template.h"
#include "common/units.h"
#include "common/util.h"
#include "engine/events.h"

static const char usage[] =
        "Usage: berth events [OPTIONS]\n\n"
        "Get real time events from the server\n\n"
        "Options:\n"
        "  -f, --filter filter   Filter output based on conditions provided\n"
        "      --format string   Format output using a custom template:\n"
        "                        'json':             Print in JSON format\n"
        "                        'TEMPLATE':         Print output using the given Go template.\n"
        "      --since string    Show all events created since timestamp\n"
        "      --until string    Stream events until this timestamp\n";

/* --filter key=value, gathered as {"key": ["value", …]} (the API's shape). */
static int add_filter(json_t *filters, const char *kv, berth_error_t *err)
{
        const char *eq = strchr(kv, '=');
        if (!eq || eq == kv)
                return cli_usage_error(err, "events", "bad format of filter (expected name=value)");
        cleanup_free char *k = berth_xasprintf("%.*s", (int) (eq - kv), kv);
        json_t *vals = json_object_get(filters, k);
        if (!vals) {
                vals = json_array();
                json_object_set_new(filters, k, vals);
        }
        json_array_append_new(vals, json_string(eq + 1));
        return 0;
}

static int print_event(json_t *ev, const struct berth_tmpl *t, bool json, berth_error_t *err)
{
        char *out = NULL;
        if (json) {
                char *j = json_dumps(ev, JSON_COMPACT);
                out = berth_xasprintf("%s\n", j ? j : "{}");
                free(j);
        } else if (t) {
                json_t *d = eng_event_template_data(ev);
                char *s = NULL;
                int r = berth_tmpl_exec(t, d, &s, err);
                json_decref(d);
                if (r < 0)
                        return -1;
                out = berth_xasprintf("%s\n", s);
                free(s);
        } else {
                out = eng_event_line(ev);
        }
        fputs(out, stdout);
        free(out);
        fflush(stdout); /* followed: each event as it comes */
        return 0;
}

/* --since/--until: berth's parser, Docker's message and status (1) when it fails */
static int parse_time(const char *s, const struct timespec *now, int64_t *ns, berth_error_t *err)
{
        berth_error_t perr = NULL;
        if (berth_parse_timestamp(s, "", now, ns, &perr) == 0)
                return 0;
        berth_error_release(&perr);
        return berth_fail_status(err, 1, 0, "failed to parse value as time or duration: \"%s\"", s);
}

static int stream(struct cli_global *g, int64_t since, int64_t until, json_t *filters,
                  const char *format, berth_error_t *err)
{
        bool json = format && (strcmp(format, "json") == 0 || strcmp(format, "{{json .}}") == 0);
        struct berth_tmpl *t = NULL;
        if (format && !json && berth_tmpl_parse(format, &t, err) < 0)
                return -1;
        struct eng_events *r = NULL;
        int ret = eng_events_open(g->paths.run_dir, since, until, filters, &r, err);
        while (ret == 0) {
                json_t *ev = NULL;
                int n = eng_events_next(r, 60000, &ev, err);
                if (n < 0)
                        ret = -1;
                if (n <= 0)
                        break;
                if (n == 1) {
                        ret = print_event(ev, t, json, err);
                        json_decref(ev);
                }
        }
        eng_events_close(r);
        berth_tmpl_free(t);
        return ret;
}

int cmd_events(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                {"filter", required_argument, NULL, 'f'}, {"format", required_argument, NULL, 'F'},
                {"since", required_argument, NULL, 'S'},  {"until", required_argument, NULL, 'U'},
                {"help", no_argument, NULL, 'h'},         {0},
        };
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int64_t since = -1, until = -1;
        const char *format = NULL, *since_s = NULL, *until_s = NULL;
        json_t *filters = json_object();
        int c, r = 0;
        while (r == 0 && (c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        r = add_filter(filters, optarg, err);
                        break;
                case 'F':
                        format = optarg;
                        break;
                case 'S':
                        since_s = optarg;
                        r = parse_time(optarg, &now, &since, err);
                        break;
                case 'U':
                        until_s = optarg;
                        r = parse_time(optarg, &now, &until, err);
                        break;
                case 'h':
                        fputs(usage, stdout);
                        json_decref(filters);
                        return 0;
                default:
                        r = cli_usage_error(err, "events", "invalid option");
                }
        }
        if (r == 0 && optind < argc)
                r = cli_usage_error(err, "events", "\"berth events\" accepts no arguments");
        if (r == 0 && since >= 0 && until >= 0 && until < since)
                r = berth_fail_status(err, 125, 0,
                                      "`since` time (%s) cannot be after `until` time (%s)",
                                      since_s, until_s);
        if (r == 0)
                r = stream(g, since, until, filters, format, err);
        json_decref(filters);
        return r;
}
