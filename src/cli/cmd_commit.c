/* cmd_commit.c — `berth commit`: a container's changes as a new image. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/containers.h"
#include "cli/image_common.h"
#include "common/util.h"
#include "engine/commit.h"
#include "image/image.h"

int cmd_commit(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                {"change", required_argument, NULL, 'c'}, {"message", required_argument, NULL, 'm'},
                {"pause", required_argument, NULL, 'p'},  {"author", required_argument, NULL, 'a'},
                {"help", no_argument, NULL, 'h'},         {0}};
        const char *changes[64];
        struct img_change change = {.changes = changes};
        bool pause = true;
        int c;
        while ((c = getopt_long(argc, argv, "c:m:a:h", opts, NULL)) != -1) {
                switch (c) {
                case 'c':
                        if (change.n == BERTH_ARRAY_SIZE(changes))
                                return cli_usage_error(err, "commit", "too many --change");
                        changes[change.n++] = optarg;
                        break;
                case 'm':
                        change.message = optarg;
                        break;
                case 'p':
                        pause = strcmp(optarg, "false") != 0 && strcmp(optarg, "0") != 0;
                        break;
                case 'a':
                        change.author = optarg;
                        break;
                case 'h':
                        printf("Usage: berth commit [-a AUTHOR] [-c CHANGE]... [-m MSG] "
                               "[--pause=false] "
                               "CONTAINER [REPOSITORY[:TAG]]\n\n"
                               "Create a new image from a container's changes (the container is "
                               "paused meanwhile)\n");
                        return 0;
                default:
                        return cli_usage_error(err, "commit", "invalid option");
                }
        }
        if (argc - optind < 1 || argc - optind > 2)
                return cli_args_error(err, "commit", "at least 1 and at most 2 arguments");
        struct eng_ctx e;
        if (eng_ctx_init(&e, &g->paths, err) < 0)
                return -1;
        struct eng_container *ct = NULL;
        int r = eng_container_find(&e, argv[optind], &ct, err);
        if (r == 0) {
                struct eng_commit_opts o = {.name = optind + 1 < argc ? argv[optind + 1] : NULL,
                                            .change = &change,
                                            .pause = pause};
                char id[IMG_DIGEST_MAX];
                if ((r = eng_commit(&e, ct, &o, id, err)) == 0)
                        printf("%s\n", id);
        }
        eng_container_free(ct);
        eng_ctx_free(&e);
        return cli_status_1(r, err);
}
