/* cmd_pull.c — `berth pull` (`berth image pull`): an image from a registry. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/image_common.h"
#include "common/util.h"

int cmd_pull(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        struct img_registry_opts o;
        cleanup_free char *auth = cli_registry_defaults(g, &o); /* owns o.auth_file */
        (void) auth;
        int r = cli_registry_getopt(
                argc, argv, "pull",
                "Usage: berth pull [OPTIONS] HOST[:PORT]/NAME[:TAG|@DIGEST]\n"
                "\n"
                "Download an image from a registry, verifying every digest.\n"
                "\n"
                "Options:\n"
                "  -a, --all-tags           every tag the registry has for the repository\n"
                "  -q, --quiet              no progress lines\n"
                "      --platform P         from an image index, the entry for "
                "P (os/arch[/variant])\n"
                "" CLI_REGISTRY_HELP,
                &o, err);
        if (r != 0)
                return r < 0 ? -1 : 0;
        if (argc - optind != 1)
                return cli_args_error(err, "pull", "1 argument");
        struct img_store s;
        if (cli_store_open(g, &s, err) < 0)
                return -1;
        char digest[IMG_DIGEST_MAX];
        int ret = img_pull(&s, argv[optind], &o, digest, err);
        img_store_close(&s);
        if (ret == 0)
                printf("%s\n", argv[optind]);
        return ret;
}
