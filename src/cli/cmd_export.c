/* cmd_export.c — `berth export` and `berth diff`: a container's filesystem, and what it
 * changed in it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/containers.h"
#include "common/util.h"
#include "engine/rootfs.h"

/* Docker's CopyToFile: a temporary file next to FILE, renamed over it once complete. */
static int export_to_file(struct eng_ctx *e, struct eng_container *c, const char *path,
                          berth_error_t *err)
{
        cleanup_free char *tmp = berth_xasprintf("%s.XXXXXX", path);
        int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return berth_fail_status(err, 1, errno, "failed to export container: %s", path);
        int r = eng_rootfs_export(e, c, fd, err);
        if (r == 0 && fsync(fd) < 0)
                r = berth_fail(err, errno, "write `%s`", path);
        if (close(fd) < 0 && r == 0)
                r = berth_fail(err, errno, "write `%s`", path);
        if (r == 0 && rename(tmp, path) < 0)
                r = berth_fail(err, errno, "rename to `%s`", path);
        if (r < 0)
                unlink(tmp);
        return r;
}

int cmd_export(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                {"output", required_argument, NULL, 'o'}, {"help", no_argument, NULL, 'h'}, {0}};
        const char *output = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
                switch (c) {
                case 'o':
                        output = optarg;
                        break;
                case 'h':
                        printf("Usage: berth export [-o FILE] CONTAINER\n\nExport a container's "
                               "filesystem as a tar archive (to stdout without -o)\n");
                        return 0;
                default:
                        return cli_usage_error(err, "export", "invalid option");
                }
        }
        if (argc - optind != 1)
                return cli_args_error(err, "export", "1 argument");
        if (output == NULL && isatty(STDOUT_FILENO))
                return berth_fail_status(err, 1, 0,
                                         "cowardly refusing to save to a terminal. Use the -o "
                                         "flag or redirect");
        struct eng_ctx e;
        if (eng_ctx_init(&e, &g->paths, err) < 0)
                return -1;
        struct eng_container *ct = NULL;
        int r = eng_container_find(&e, argv[optind], &ct, err);
        if (r == 0)
                r = output ? export_to_file(&e, ct, output, err)
                           : eng_rootfs_export(&e, ct, STDOUT_FILENO, err);
        eng_container_free(ct);
        eng_ctx_free(&e);
        return r;
}

static void print_change(char kind, const char *path, void *ctx)
{
        (void) ctx;
        printf("%c %s\n", kind, path);
}

int cmd_diff(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
                printf("Usage: berth diff CONTAINER\n\nInspect changes to files or directories "
                       "on a container's filesystem (A added, C changed, D deleted)\n");
                return 0;
        }
        if (argc != 2 || argv[1][0] == '-')
                return cli_args_error(err, "diff", "1 argument");
        struct eng_ctx e;
        if (eng_ctx_init(&e, &g->paths, err) < 0)
                return -1;
        struct eng_container *ct = NULL;
        int r = eng_container_find(&e, argv[1], &ct, err);
        if (r == 0)
                r = eng_rootfs_changes(&e, ct, print_change, NULL, err);
        eng_container_free(ct);
        eng_ctx_free(&e);
        return r;
}
