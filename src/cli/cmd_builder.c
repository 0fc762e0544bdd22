/* cmd_builder.c — `berth builder prune`: empty `berth build`'s layer cache, as `docker builder
 * prune` empties the classic builder's; the same library calls as the Engine API's POST
 * /build/prune. */
#include <stdio.h>
#include <string.h>

#include "cli/image_common.h"
#include "common/units.h"
#include "common/util.h"

static int builder_prune(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        /* -a: berth's classic cache is all one kind, all of it goes either way */
        bool all;
        int r = cli_prune_getopt(argc, argv, "builder prune",
                                 "Usage: berth builder prune [OPTIONS]\n"
                                 "\n"
                                 "Remove the build cache: its entries, and the images only it "
                                 "keeps.\n"
                                 "\n"
                                 "Options:\n"
                                 "  -a, --all     (the same: berth's cache is all one kind)\n"
                                 "  -f, --force   do not prompt for confirmation\n",
                                 "WARNING! This will remove all build cache. Are you sure you "
                                 "want to continue?",
                                 "WARNING! This will remove all dangling build cache. Are you "
                                 "sure you want to continue?",
                                 &all, err);
        if (r != 0)
                return r < 0 ? -1 : 0;
        struct img_store s;
        if (cli_store_open(g, &s, err) < 0)
                return -1;
        json_t *deleted = json_array();
        struct img_gc_stats st = {0};
        int ret = img_build_cache_clear(&s, deleted, err) < 0 || img_gc(&s, &st, err) < 0 ? -1 : 0;
        img_store_close(&s);
        if (ret == 0) {
                /* the docker CLI's report */
                if (json_array_size(deleted))
                        printf("Deleted build cache objects:\n");
                size_t i;
                json_t *id;
                json_array_foreach(deleted, i, id)
                {
                        printf("%s\n", json_string_value(id));
                }
                char freed[32];
                berth_format_size((int64_t) st.bytes, freed, sizeof(freed));
                printf("%sTotal reclaimed space: %s\n", json_array_size(deleted) ? "\n" : "",
                       freed);
        }
        json_decref(deleted);
        return ret;
}

int cmd_builder(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                fprintf(argc < 2 ? stderr : stdout,
                        "Usage: berth builder COMMAND\n\nManage builds.\n\nCommands:\n"
                        "  prune     Remove build cache\n");
                return 0;
        }
        if (strcmp(argv[1], "prune") == 0) {
                cli_command_args(argc - 1, argv + 1);
                return builder_prune(g, argc - 1, argv + 1, err);
        }
        return berth_fail_status(err, 1, 0, "unknown command: berth builder %s", argv[1]);
}
