/* cmd_version.c — `berth version [-f FORMAT]`: Docker's layout, client and engine. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "common/template.h"
#include "engine/version.h"

static const char *field(json_t *o, const char *k)
{
        const char *v = json_string_value(json_object_get(o, k));
        return v ? v : "";
}

/* Docker prints through a tabwriter with a minimum cell width of 20. */
static void row(const char *label, const char *value)
{
        printf("%-20s%s\n", label, value);
}

int cmd_version(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        (void) g;
        static const struct option opts[] = {
                {"format", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {0}};
        const char *format = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        format = optarg;
                        break;
                case 'h':
                        printf("Usage: berth version [-f FORMAT]\n\nShow the berth version "
                               "information\n");
                        return 0;
                default:
                        return cli_usage_error(err, "version", "invalid option");
                }
        }
        if (optind < argc)
                return cli_usage_error(err, "version", "\"berth version\" accepts no arguments");
        json_t *v = eng_version_info();
        int r = 0;
        if (format) {
                struct berth_tmpl *t = NULL;
                char *out = NULL;
                const char *f = strcmp(format, "json") == 0 ? "{{json .}}" : format;
                r = berth_tmpl_parse(f, &t, err);
                if (r == 0)
                        r = berth_tmpl_exec(t, v, &out, err);
                if (r == 0)
                        printf("%s\n", out);
                free(out);
                berth_tmpl_free(t);
                json_decref(v);
                return r;
        }
        json_t *cl = json_object_get(v, "Client");
        json_t *sv = json_object_get(v, "Server");
        json_t *d =
                json_object_get(json_array_get(json_object_get(sv, "Components"), 0), "Details");
        printf("Client:\n");
        row(" Version:", field(cl, "Version"));
        row(" API version:", field(cl, "ApiVersion"));
        row(" Go version:", field(cl, "GoVersion"));
        row(" Git commit:", field(cl, "GitCommit"));
        row(" Built:", field(cl, "BuildTime"));
        printf("%-20s%s/%s\n", " OS/Arch:", field(cl, "Os"), field(cl, "Arch"));
        row(" Context:", field(cl, "Context"));
        printf("\nServer: %s\n Engine:\n", field(json_object_get(sv, "Platform"), "Name"));
        row("  Version:", field(sv, "Version"));
        printf("%-20s%s (minimum version %s)\n", "  API version:", field(d, "ApiVersion"),
               field(d, "MinAPIVersion"));
        row("  Go version:", field(d, "GoVersion"));
        row("  Git commit:", field(d, "GitCommit"));
        row("  Built:", field(d, "BuildTime"));
        printf("%-20s%s/%s\n", "  OS/Arch:", field(d, "Os"), field(d, "Arch"));
        row("  Experimental:", field(d, "Experimental"));
        json_decref(v);
        return 0;
}
