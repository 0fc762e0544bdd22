/* cmd_image_prune.c — `berth image prune`: remove dangling (or, with -a,
 * all unused) images and collect what they held. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/image_common.h"
#include "common/util.h"

static void print_pruned(void *ctx, const char *kind, const char *value)
{
        bool *header = ctx;
        if (!*header)
                printf("Deleted Images:\n");
        *header = true;
        printf("%s: %s\n", strcmp(kind, "Untagged") == 0 ? "untagged" : "deleted", value);
}

int cmd_image_prune(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        bool all;
        int r = cli_prune_getopt(
                argc, argv, "image prune",
                "Usage: berth image prune [OPTIONS]\n"
                "\n"
                "Remove unused images, then unreferenced blobs and layers.\n"
                "\n"
                "Options:\n"
                "  -a, --all     remove all images no container uses, not just\n"
                "                dangling ones\n"
                "  -f, --force   do not prompt for confirmation\n",
                "WARNING! This will remove all images without at least one container associated "
                "to them.\nAre you sure you want to continue?",
                "WARNING! This will remove all dangling images.\nAre you sure you want to "
                "continue?",
                &all, err);
        if (r != 0)
                return r < 0 ? -1 : 0;
        struct img_store s;
        if (cli_store_open(g, &s, err) < 0)
                return -1;
        int ret = -1;
        char freed[32] = "0B";
        bool header = false;
        if (img_prune(&s, all, NULL, NULL, print_pruned, &header, err) < 0)
                goto out;
        /* the build cache's images go too (Docker's `system prune` empties its build cache) */
        berth_error_t cerr = NULL;
        if (img_rm_rf_at(s.root_fd, "build-cache", &cerr) < 0)
                berth_error_release(&cerr);
        struct img_gc_stats st;
        if (img_gc(&s, &st, err) < 0)
                goto out;
        berth_format_size((int64_t) st.bytes, freed, sizeof(freed));
        printf("%sTotal reclaimed space: %s\n", header ? "\n" : "", freed);
        ret = 0;
out:
        img_store_close(&s);
        return ret;
}
