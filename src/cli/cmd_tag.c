/* cmd_tag.c — `berth tag SOURCE TARGET`: give an image another name. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/image_common.h"
#include "common/util.h"

int cmd_tag(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        int c;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                if (c == 'h') {
                        printf("Usage: berth tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]\n"
                               "\n"
                               "Create a name TARGET_IMAGE that refers to SOURCE_IMAGE.\n");
                        return 0;
                }
                return cli_usage_error(err, "tag", "invalid option");
        }
        if (argc - optind != 2)
                return cli_args_error(err, "tag", "2 arguments");
        cleanup_free char *target = NULL;
        if (img_ref_normalize(argv[optind + 1], &target, err) < 0) {
                /* the words of Docker's client library */
                berth_wrap(err, "Error parsing reference: \"%s\" is not a valid repository/tag",
                           argv[optind + 1]);
                return cli_status_1(-1, err);
        }
        if (strchr(target, '@'))
                return cli_usage_error(err, "tag", "refusing to create a tag with a digest");
        struct img_store s;
        if (cli_store_open(g, &s, err) < 0)
                return -1;
        int ret = img_tag(&s, argv[optind], target, err);
        img_store_close(&s);
        return cli_status_1(ret, err);
}
