/* container_data.c — the Engine API's container data endpoints: stats (container_stats.c),
 * export (the filesystem as a tar) and archive (GET/HEAD/PUT: `docker cp` both ways).  Tars
 * are written by a thread of the request into a pipe the reply streams from. */
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/container_data.h"
#include "api/containers.h"
#include "common/log.h"
#include "common/units.h"
#include "common/util.h"
#include "engine/cp.h"
#include "engine/events.h"
#include "engine/lifecycle.h"
#include "engine/rootfs.h"

/* --- a tar written by a thread, streamed from the pipe's other end --- */

enum tar_kind { TAR_EXPORT, TAR_PATH };

struct tar_job {
        enum tar_kind kind;
        struct eng_ctx e;
        struct eng_container *c;
        int root_fd; /* TAR_PATH */
        char *path;  /* TAR_PATH */
        int rfd, wfd;
        pthread_t thread;
};

static void *tar_thread(void *arg)
{
        struct tar_job *j = arg;
        berth_error_t err = NULL;
        int r = j->kind == TAR_EXPORT ? eng_rootfs_export(&j->e, j->c, j->wfd, &err)
                                      : eng_cp_tar_from(j->root_fd, j->path, NULL, j->wfd, &err);
        /* the status line is out already: a failure can only cut the stream short */
        if (r < 0 && err && err->errnum != EPIPE)
                log_warn("api: %s", berth_error_msg(err));
        berth_error_release(&err);
        close(j->wfd);
        j->wfd = -1;
        return NULL;
}

/* What a job holds but its pipe and thread. */
static void job_free(struct tar_job *j)
{
        if (j->root_fd >= 0)
                close(j->root_fd);
        free(j->path);
        eng_container_free(j->c);
        eng_ctx_free(&j->e);
        free(j);
}

static ssize_t tar_gen(void *ctx, char *buf, size_t max)
{
        struct tar_job *j = ctx;
        return api_stream_read(j->rfd, buf, max);
}

static void tar_done(void *ctx)
{
        struct tar_job *j = ctx;
        close(j->rfd); /* a writer still busy gets EPIPE and stops */
        pthread_join(j->thread, NULL);
        job_free(j);
}

/* Takes j (its ctx and container); replies. */
static void tar_reply(struct api_req *r, struct tar_job *j, const char *stat_header)
{
        if (!api_pipe_thread(r, &j->thread, tar_thread, j, &j->rfd, &j->wfd, "tar stream"))
                goto fail;
        api_stream(r, 200, "application/x-tar", tar_gen, j, tar_done);
        if (stat_header && r->resp)
                MHD_add_response_header(r->resp, "X-Docker-Container-Path-Stat", stat_header);
        return;
fail:
        job_free(j);
}

/* The job with its container found, or NULL with the reply queued. */
static struct tar_job *job_for(struct api_req *r, enum tar_kind kind)
{
        struct tar_job *j = berth_xcalloc(1, sizeof(*j));
        j->kind = kind;
        j->root_fd = -1;
        j->c = api_container_find(r, &j->e, r->params[0], false);
        if (j->c == NULL) {
                free(j);
                return NULL;
        }
        return j;
}

static void container_export(struct api_req *r)
{
        struct tar_job *j = job_for(r, TAR_EXPORT);
        if (j)
                tar_reply(r, j, NULL);
}

/* --- archive --- */

/* Go's os.FileMode: the permission bits, the type as high bits (what the docker CLI
 * decodes the stat header's mode with). */
static json_int_t go_file_mode(mode_t m)
{
        json_int_t v = m & 0777;
        switch (m & S_IFMT) {
        case S_IFDIR:
                v |= 1LL << 31;
                break;
        case S_IFLNK:
                v |= 1LL << 27;
                break;
        case S_IFBLK:
                v |= 1LL << 26;
                break;
        case S_IFCHR:
                v |= (1LL << 26) | (1LL << 21);
                break;
        case S_IFIFO:
                v |= 1LL << 25;
                break;
        case S_IFSOCK:
                v |= 1LL << 24;
                break;
        default:
                break;
        }
        if (m & S_ISUID)
                v |= 1LL << 23;
        if (m & S_ISGID)
                v |= 1LL << 22;
        if (m & S_ISVTX)
                v |= 1LL << 20;
        return v;
}

/* base64 of {name, size, mode, mtime, linkTarget}, as X-Docker-Container-Path-Stat. */
static char *path_stat_header(const char *path, const struct stat *st, const char *link)
{
        cleanup_free char *copy = berth_xstrdup(path);
        size_t l = strlen(copy);
        while (l > 1 && copy[l - 1] == '/')
                copy[--l] = '\0';
        const char *slash = strrchr(copy, '/');
        const char *name = slash && slash[1] ? slash + 1 : copy;
        char mtime[64];
        berth_rfc3339((int64_t) st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec, true,
                      mtime, sizeof(mtime));
        json_t *j = json_pack("{s:s, s:I, s:I, s:s, s:s}", "name", name, "size",
                              (json_int_t) st->st_size, "mode", go_file_mode(st->st_mode), "mtime",
                              mtime, "linkTarget", link ? link : "");
        char *text = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        char *b64 = img_base64_encode(text, strlen(text));
        free(text);
        return b64;
}

/* The job with the container's root open and path stat'ed into the header; NULL with the
 * reply queued (dockerd's 404 for a path that is not there). */
static struct tar_job *archive_job(struct api_req *r, struct stat *st, char **header)
{
        const char *path = api_query(r, "path");
        if (path == NULL || *path == '\0') {
                api_reply_error(r, 400, "path is required"); /* not a path a client sends */
                return NULL;
        }
        struct tar_job *j = job_for(r, TAR_PATH);
        if (j == NULL)
                return NULL;
        berth_error_t err = NULL;
        j->path = berth_xstrdup(path);
        j->root_fd = eng_cp_container_root(&j->e, j->c, &err);
        cleanup_free char *link = NULL;
        if (j->root_fd < 0) {
                api_reply_berth_error(r, &err);
        } else if (eng_cp_lstat(j->root_fd, path, st, &link, &err) < 0) {
                if (err->errnum == ENOENT || err->errnum == ENOTDIR)
                        api_reply_error(r, 404, "Could not find the file %s in container %s", path,
                                        r->params[0]);
                else
                        api_reply_error(r, 500, "%s", api_error_text(err));
                berth_error_release(&err);
        } else {
                *header = path_stat_header(path, st, link);
                return j;
        }
        job_free(j);
        return NULL;
}

static void archive_get(struct api_req *r)
{
        struct stat st;
        char *header = NULL;
        struct tar_job *j = archive_job(r, &st, &header);
        if (j == NULL)
                return;
        if (strcmp(r->method, "HEAD") == 0) {
                api_reply_empty(r, 200);
                MHD_add_response_header(r->resp, "X-Docker-Container-Path-Stat", header);
                job_free(j);
        } else {
                /* dockerd logs it once the archive is set up, before it streams */
                eng_event_container(&j->e, j->c, "archive-path", NULL);
                tar_reply(r, j, header);
        }
        free(header);
}

static void archive_put(struct api_req *r)
{
        struct stat st;
        char *header = NULL;
        struct tar_job *j = archive_job(r, &st, &header);
        if (j == NULL)
                return;
        free(header);
        berth_error_t err = NULL;
        if (!S_ISDIR(st.st_mode)) {
                api_reply_error(r, 400, "extraction point is not a directory");
        } else if (api_query_bool(r, "noOverwriteDirNonDir", false) &&
                   eng_cp_check_overwrite(j->root_fd, j->path, r->body_fd, &err) < 0) {
                api_reply_error(r, 400, "%s", api_error_text(err));
                berth_error_release(&err);
        } else if (lseek(r->body_fd, 0, SEEK_SET) < 0 ||
                   eng_cp_tar_into(j->root_fd, j->path, r->body_fd,
                                   api_query_bool(r, "copyUIDGID", false), &err) < 0) {
                api_reply_error(r, err && err->errnum == EPERM ? 400 : 500, "%s",
                                err ? api_error_text(err) : strerror(errno));
                berth_error_release(&err);
        } else {
                eng_event_container(&j->e, j->c, "extract-to-dir", NULL);
                api_reply_empty(r, 200);
        }
        job_free(j);
}

const struct api_route api_routes_container_data[] = {
        {"GET", "/containers/{}/stats", api_container_stats, 0},
        {"GET", "/containers/{}/export", container_export, 0},
        {"GET", "/containers/{}/archive", archive_get, 0},
        {"PUT", "/containers/{}/archive", archive_put, API_BODY_FILE},
        {0},
};
