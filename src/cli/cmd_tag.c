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
                return cli_usage_error(err, "tag", "requires exactly 2 arguments");
        cleanup_free char *target = NULL;
        if (img_ref_normalize(argv[optind + 1], &target, err) < 0)
                return -1;
        if (strchr(target, '@'))
                return cli_usage_error(err, "tag", "refusing to create a tag with a digest");
        struct img_store s;
        if (cli_store_open(g, &s, err) < 0)
                return -1;
        struct img_table t;
        struct img_entry *e;
        int ret = img_table_load(&s, &t, err);
        if (ret == 0) {
                ret = img_lookup(&s, &t, argv[optind], &e, err);
                if (ret == 0) {
                        const char *names[] = {target};
                        ret = img_table_add(&s, e->manifest, e->manifest_media_type,
                                            e->manifest_size, names, 1, err);
                }
                img_table_free(&t);
        }
        img_store_close(&s);
        return ret;
}
