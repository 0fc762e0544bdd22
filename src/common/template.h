/* template.h — the subset of Go's text/template that Docker's `--format`
 * users rely on, evaluated over JSON values (jansson), so `berth ps
 * --format '{{.ID}}\t{{.Names}}'`, `berth inspect --format '{{.State.Pid}}'`
 * and `{{json .}}` work as they do with docker.
 *
 * Supported: text; {{.Field.Sub}}, {{.}}, {{$}}, {{$.Field}}; string and
 * number literals; pipelines with |; parentheses; {{if}}/{{else}}/{{end}},
 * {{range}} (arrays and objects), {{with}}; {{- and -}} trimming; functions
 * json, upper, lower, title, join, split, index, len, print, println, printf
 * (%s %d %v %q), truncate, pad, eq, ne, not, and, or.  A literal `\t` or
 * `\n` in the format is a tab or newline, as in Docker's CLI. */
#ifndef BERTH_COMMON_TEMPLATE_H
#define BERTH_COMMON_TEMPLATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "common/error.h"

struct berth_tmpl;

int berth_tmpl_parse(const char *src, struct berth_tmpl **out, berth_error_t *err);

/* Evaluate against data; *out is a newly allocated string. */
int berth_tmpl_exec(const struct berth_tmpl *t, json_t *data, char **out, berth_error_t *err);

void berth_tmpl_free(struct berth_tmpl *t);

/* Column headers for `table` formats: each field as Docker shows it
 * ({"ID", "CONTAINER ID"}), ending with {NULL, NULL}.  A field not listed
 * is shown upper-cased. */
struct berth_tmpl_header {
        const char *field, *title;
};

/* Print rows the way Docker's list commands do with --format FORMAT:
 *   "table TEMPLATE"  a header row, then one row each, columns tab-aligned
 *   "json"            each row as one line of JSON
 *   TEMPLATE          one line per row, no header
 * Returns 0, or -1 with err set (bad template, bad field). */
int berth_tmpl_print_rows(const char *format, json_t *rows, const struct berth_tmpl_header *headers,
                          FILE *out, berth_error_t *err);

/* Align tab-separated cells into columns as Docker's tabwriter does
 * (padding 3, minimum cell width 10). */
char *berth_tab_align(const char *text);

#endif
