/* cmd_push.c — `berth push` (`berth image push`): an image to a registry. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/image_common.h"
#include "common/util.h"

int cmd_push(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        struct img_registry_opts o;
        cleanup_free char *auth = cli_registry_defaults(g, &o); /* owns o.auth_file */
        (void) auth;
        int r = cli_registry_getopt(argc, argv, "push",
                                    "Usage: berth push [OPTIONS] IMAGE [DESTINATION]\n"
                                    "\n"
                                    "Upload an image to a registry: to IMAGE's own name\n"
                                    "(HOST[:PORT]/NAME[:TAG]), or to DESTINATION.\n"
                                    "\n"
                                    "Options:\n"
                                    "  -q, --quiet              no progress lines\n"
                                    "" CLI_REGISTRY_HELP,
                                    &o, err);
        if (r != 0)
                return r < 0 ? -1 : 0;
        if (argc - optind < 1 || argc - optind > 2)
                return cli_usage_error(err, "push", "requires 1 or 2 arguments");
        struct img_store s;
        if (cli_store_open(g, &s, err) < 0)
                return -1;
        char digest[IMG_DIGEST_MAX];
        int ret = img_push(&s, argv[optind], argc - optind == 2 ? argv[optind + 1] : NULL, &o,
                           digest, err);
        img_store_close(&s);
        return ret;
}
