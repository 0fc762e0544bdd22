/* cmd_cp.c — `berth cp`: copy files between a container and the host, or
 * stream them as tar with `-`. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/containers.h"
#include "common/util.h"
#include "engine/cp.h"
#include "engine/events.h"
#include "engine/lifecycle.h"

/* "name:path" is a container's path unless it looks like a local one. */
static bool split_container(const char *arg, char **name, const char **path)
{
        if (arg[0] == '/' || arg[0] == '.')
                return false;
        const char *colon = strchr(arg, ':');
        const char *slash = strchr(arg, '/');
        if (colon == NULL || (slash && slash < colon))
                return false;
        *name = strndup(arg, (size_t) (colon - arg));
        *path = colon + 1;
        return true;
}

static char *last_component(const char *path)
{
        cleanup_free char *copy = berth_xstrdup(path);
        size_t l = strlen(copy);
        while (l > 1 && copy[l - 1] == '/')
                copy[--l] = '\0';
        return berth_xstrdup(basename(copy));
}

static char *parent_of(const char *path)
{
        cleanup_free char *copy = berth_xstrdup(path);
        size_t l = strlen(copy);
        while (l > 1 && copy[l - 1] == '/')
                copy[--l] = '\0';
        return berth_xstrdup(dirname(copy));
}

/* Pipe a tar of src (in src_root) into dst_dir (in dst_root), its top entry renamed. */
static int copy_tree(int src_root, const char *src, const char *top, int dst_root,
                     const char *dst_dir, bool keep_owner, berth_error_t *err)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return berth_fail(err, errno, "pipe");
        pid_t child = fork();
        if (child < 0) {
                int e = errno;
                close(p[0]);
                close(p[1]);
                return berth_fail(err, e, "fork");
        }
        if (child == 0) {
                close(p[0]);
                berth_error_t cerr = NULL;
                int r = eng_cp_tar_from(src_root, src, top, p[1], &cerr);
                if (r < 0)
                        fprintf(stderr, "berth: %s\n", berth_error_msg(cerr));
                _exit(r < 0 ? 1 : 0);
        }
        close(p[1]);
        int r = eng_cp_tar_into(dst_root, dst_dir, p[0], keep_owner, err);
        close(p[0]);
        int ws;
        while (waitpid(child, &ws, 0) < 0 && errno == EINTR)
                ;
        if (r == 0 && (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0))
                r = berth_fail_status(err, 1, 0, "could not read `%s`", src);
        return r;
}

/* Docker's rules: into an existing directory the source keeps its name;
 * otherwise it becomes dst.  "src/." copies the contents. */
static int copy_to(int src_root, const char *src, const char *src_ct, int dst_root, const char *dst,
                   bool keep_owner, berth_error_t *err)
{
        mode_t sm, dm;
        if (eng_cp_stat(src_root, src, &sm) < 0) {
                if (src_ct) /* Docker's words, which name the container */
                        return berth_fail_status(err, 1, 0,
                                                 "Could not find the file %s in container %s", src,
                                                 src_ct);
                return berth_fail_status(err, 1, errno, "Could not find the file %s", src);
        }
        size_t sl = strlen(src);
        bool contents = sl >= 2 && strcmp(src + sl - 2, "/.") == 0;
        if (eng_cp_stat(dst_root, dst, &dm) == 0 && dm == S_IFDIR) {
                cleanup_free char *top = contents ? NULL : last_component(src);
                return copy_tree(src_root, src, top, dst_root, dst, keep_owner, err);
        }
        if (dst[strlen(dst) - 1] == '/')
                return berth_fail_status(err, 1, ENOENT, "destination directory %s does not exist",
                                         dst);
        if (contents || sm == S_IFDIR) {
                /* a new directory named dst */
                cleanup_free char *parent = parent_of(dst);
                cleanup_free char *top = last_component(dst);
                if (eng_cp_stat(dst_root, parent, &dm) < 0 || dm != S_IFDIR)
                        return berth_fail_status(err, 1, ENOENT,
                                                 "destination directory %s does not exist", parent);
                if (contents) {
                        cleanup_free char *srcdir = parent_of(src);
                        return copy_tree(src_root, srcdir, top, dst_root, parent, keep_owner, err);
                }
                return copy_tree(src_root, src, top, dst_root, parent, keep_owner, err);
        }
        cleanup_free char *parent = parent_of(dst);
        cleanup_free char *top = last_component(dst);
        return copy_tree(src_root, src, top, dst_root, parent, keep_owner, err);
}

int cmd_cp(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {{"archive", no_argument, NULL, 'a'},
                                             {"follow-link", no_argument, NULL, 'L'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
        bool keep_owner = false;
        int c;
        while ((c = getopt_long(argc, argv, "aLqh", opts, NULL)) != -1) {
                if (c == 'a') {
                        keep_owner = true;
                } else if (c == 'L' || c == 'q') {
                        /* -L: symlinks are copied as links; -q: there is no progress output */
                } else if (c == 'h') {
                        printf("Usage: berth cp [-a] CONTAINER:SRC_PATH DEST_PATH|-\n"
                               "       berth cp [-a] SRC_PATH|- CONTAINER:DEST_PATH\n\n"
                               "Copy files/folders between a container and the local filesystem.\n"
                               "With -, a tar archive is written to stdout or read from stdin.\n");
                        return 0;
                } else {
                        return cli_usage_error(err, "cp", "invalid option");
                }
        }
        if (argc - optind != 2)
                return cli_args_error(err, "cp", "2 arguments");
        const char *a = argv[optind], *b = argv[optind + 1];
        cleanup_free char *ca = NULL, *cb = NULL;
        const char *pa = a, *pb = b;
        bool from = split_container(a, &ca, &pa), to = split_container(b, &cb, &pb);
        if (from == to)
                /* docker's words and status: an argument error, not a flag error */
                return berth_fail_status(err, 1, 0, "%s",
                                         from ? "copying between containers is not supported"
                                              : "must specify at least one container source");
        struct eng_ctx e;
        if (eng_ctx_init(&e, &g->paths, err) < 0)
                return -1; // NOLINT(clang-analyzer-unix.Malloc): ca, cb are cleanup_free
        struct eng_container *ct = NULL;
        int r = eng_container_find(&e, from ? ca : cb, &ct, err);
        int root = r == 0 ? eng_cp_container_root(&e, ct, err) : -1;
        if (root < 0)
                r = -1;
        if (r == 0 && from && strcmp(pb, "-") == 0) {
                r = eng_cp_tar_from(root, *pa ? pa : "/", NULL, STDOUT_FILENO, err);
        } else if (r == 0 && !from && strcmp(pa, "-") == 0) {
                r = eng_cp_tar_into(root, *pb ? pb : "/", STDIN_FILENO, keep_owner, err);
        } else if (r == 0 && from) {
                r = copy_to(root, *pa ? pa : "/", ca, AT_FDCWD, pb, keep_owner, err);
        } else if (r == 0) {
                r = copy_to(AT_FDCWD, pa, NULL, root, *pb ? pb : "/", keep_owner, err);
        }
        if (r == 0) /* as dockerd's archive endpoints */
                eng_event_container(&e, ct, from ? "archive-path" : "extract-to-dir", NULL);
        if (root >= 0)
                close(root);
        eng_container_free(ct);
        eng_ctx_free(&e);
        return r;
}
