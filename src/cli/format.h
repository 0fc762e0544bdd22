/* format.h — --format templates, aligned tables and human units for the CLI. */
#ifndef BERTH_CLI_FORMAT_H
#define BERTH_CLI_FORMAT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/error.h"

struct cli_header {
        const char *field; /* template field: "ID" */
        const char *title; /* table header: "IMAGE ID" */
};

/* Render a template over obj: {{.A.B}}, {{json .A}}, {{.}}; "\t", "\n" escapes. */
int cli_template_render(const char *tmpl, json_t *obj, char **out, berth_error_t *err);
/* A leading "table" asks for a header and aligned columns; *rest is the template. */
bool cli_format_is_table(const char *fmt, const char **rest);
/* The header line of a table template (fields replaced by their titles). */
char *cli_template_header(const char *tmpl, const struct cli_header *names);
/* Print tab-separated lines as aligned columns (Docker's tabwriter: min 10, pad 3). */
void cli_table_print(FILE *f, char **lines, size_t n);

char *cli_human_size(int64_t size);
/* "2 hours" (callers add " ago"). */
char *cli_human_duration(int64_t secs);
/* Seconds since the epoch of an RFC 3339 time, 0 if unparsable. */
int64_t cli_parse_rfc3339(const char *s);

#endif
