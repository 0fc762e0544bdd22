/* image_common.h — what the image subcommands share: opening the store,
 * printing rows through --format, Docker-shaped image JSON. */
#ifndef BERTH_CLI_IMAGE_COMMON_H
#define BERTH_CLI_IMAGE_COMMON_H

#include <jansson.h>

#include "cli/cli.h"
#include "common/template.h"
#include "common/units.h"
#include "image/image.h"

int cli_store_open(struct cli_global *g, struct img_store *s, berth_error_t *err);

/* Open the store and load its image table (both released by the caller). */
int cli_store_table_open(struct cli_global *g, struct img_store *s, struct img_table *t,
                         berth_error_t *err);

/* Seconds since the epoch of an RFC 3339 time (0 if it isn't one). */
int64_t cli_time_sec(const char *rfc3339);

/* `docker image inspect`'s object for an image. */
json_t *cli_image_inspect_json(const struct img_entry *e, const struct img_image *img);

/* "abcdef012345" from "sha256:abcdef012345…" (no_trunc: the digest as is). */
char *cli_short_id(const char *digest, bool no_trunc);

/* Registry flags shared by pull, push and login:
 *   --tls-verify[=BOOL], --cert-dir DIR, --authfile FILE.
 * cli_registry_defaults fills *o (auth file: $BERTH_AUTH_FILE, else <data_dir>/auth.json;
 * returned for the caller to free). */
enum { CLI_OPT_TLS_VERIFY = 1000, CLI_OPT_CERT_DIR, CLI_OPT_AUTHFILE };
#define CLI_REGISTRY_OPTIONS                                             \
        {"tls-verify", optional_argument, NULL, CLI_OPT_TLS_VERIFY},     \
                {"cert-dir", required_argument, NULL, CLI_OPT_CERT_DIR}, \
        {                                                                \
                "authfile", required_argument, NULL, CLI_OPT_AUTHFILE    \
        }
char *cli_registry_defaults(struct cli_global *g, struct img_registry_opts *o);
/* 1 if c was a registry option (applied), 0 if not, <0 on a bad value. */
int cli_registry_option(int c, const char *arg, struct img_registry_opts *o, const char *cmd,
                        berth_error_t *err);
/* getopt for pull and push: the registry options, -q, --platform, pull's -a/--all-tags, -h
 * (usage printed, 1). */
int cli_registry_getopt(int argc, char **argv, const char *cmd, const char *usage,
                        struct img_registry_opts *o, berth_error_t *err);
#define CLI_REGISTRY_HELP                                                                   \
        "      --tls-verify[=BOOL]  verify the registry's TLS certificate (default: yes,\n" \
        "                           except for localhost, which may also be plain http)\n"  \
        "      --cert-dir DIR       ca.crt (and client.cert/client.key) for the registry\n" \
        "      --authfile FILE      credentials file (default $BERTH_AUTH_FILE or\n"        \
        "                           <data dir>/auth.json)\n"

/* getopt for the prune commands (image prune, builder prune): -a, -f, -h (usage printed,
 * 1); then, without -f, the docker CLI's "WARNING! ... [y/N]" question: 2 when the answer is
 * not yes (nothing to do). */
int cli_prune_getopt(int argc, char **argv, const char *cmd, const char *usage,
                     const char *warning_all, const char *warning, bool *all, berth_error_t *err);

#endif
