/* cmd_commit.c — `berth commit`: a container's changes as a new image. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/containers.h"
#include "cli/image_common.h"
#include "common/util.h"
#include "engine/lifecycle.h"
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
                return cli_usage_error(err, "commit", "\"berth commit\" requires 1 or 2 arguments");
        struct eng_ctx e;
        if (eng_ctx_init(&e, &g->paths, err) < 0)
                return -1;
        struct eng_container *ct = NULL;
        cleanup_free char *name = NULL;
        int r = eng_container_find(&e, argv[optind], &ct, err);
        if (r == 0 && optind + 1 < argc)
                r = img_ref_normalize(argv[optind + 1], &name, err);
        bool paused = false;
        if (r == 0 && pause) {
                eng_reconcile(&e, ct, NULL);
                if (strcmp(eng_container_status(ct), "running") == 0) {
                        /* a consistent snapshot of its files, as Docker takes */
                        r = eng_pause(&e, ct, true, err);
                        paused = r == 0;
                }
        }
        struct img_store s;
        char manifest[IMG_DIGEST_MAX];
        if (r == 0 && (r = cli_store_open(g, &s, err)) == 0) {
                r = img_commit(&s, ct->id, name, &change, manifest, err);
                struct img_image img = {0};
                if (r == 0 && (r = img_image_load(&s, manifest, &img, err)) == 0)
                        printf("%s\n", img.config.digest);
                img_image_free(&img);
                img_store_close(&s);
        }
        if (paused) {
                berth_error_t uerr = NULL;
                eng_pause(&e, ct, false, &uerr);
                berth_error_release(&uerr);
        }
        eng_container_free(ct);
        eng_ctx_free(&e);
        return r;
}
