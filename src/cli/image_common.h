/* image_common.h — what the image subcommands share: opening the store,
 * printing rows through --format, Docker-shaped image JSON. */
#ifndef BERTH_CLI_IMAGE_COMMON_H
#define BERTH_CLI_IMAGE_COMMON_H

#include <jansson.h>

#include "cli/cli.h"
#include "cli/format.h"
#include "image/image.h"

int cli_store_open(struct cli_global *g, struct img_store *s, berth_error_t *err);

/* Open the store and load its image table (both released by the caller). */
int cli_store_table_open(struct cli_global *g, struct img_store *s, struct img_table *t,
                         berth_error_t *err);

/* Print rows (a JSON array of objects) with a format ("table ..." or a plain template). */
int cli_print_rows(const char *fmt, const struct cli_header *hdr, json_t *rows, berth_error_t *err);

/* `docker image inspect`'s object for an image. */
json_t *cli_image_inspect_json(const struct img_entry *e, const struct img_image *img);

/* "abcdef012345" from "sha256:abcdef012345…" (no_trunc: the digest as is). */
char *cli_short_id(const char *digest, bool no_trunc);

#endif
