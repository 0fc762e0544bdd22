/* build.h — building an image from a Containerfile (Dockerfile syntax), as Docker's classic
 * builder does: each step an image on top of the last, RUN through a container, COPY/ADD from
 * a context directory or another stage, a layer cache keyed by parent, instruction and
 * content.  The front-ends (`berth build`, the Engine API's POST /build) only gather options
 * and show the events:
 *
 *   struct bld_opts o = {.context = dir, .on_event = show, .ctx = me};
 *   struct bld_result res;
 *   if (bld_run(&paths, &o, &res, err) < 0)      // res.failed_line / res.run_code say where
 *           ...
 *   res.id is the image ID (sha256:…), res.manifest its manifest. */
#ifndef BERTH_BUILD_BUILD_H
#define BERTH_BUILD_BUILD_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/error.h"
#include "common/paths.h"
#include "image/image.h"

enum bld_event_kind {
        BLD_EV_STEP,    /* step of total: text is the instruction as written */
        BLD_EV_IMAGE,   /* id: the current image after a step (cached: found in the cache) */
        BLD_EV_RUNNING, /* id: the container of a RUN step, created */
        BLD_EV_REMOVED, /* id: that container, removed */
        BLD_EV_OUTPUT,  /* data/len: what a RUN command wrote on fd (1 or 2) */
        BLD_EV_BUILT,   /* id: the final image, before it is tagged */
        BLD_EV_TAGGED,  /* text: a name the final image now has */
};

struct bld_event {
        enum bld_event_kind kind;
        size_t step, total; /* 1-based */
        const char *text;
        const char *id; /* "sha256:…" (an image's config digest, a container's id) */
        bool cached;
        int fd;
        const char *data;
        size_t len;
};

typedef void (*bld_event_fn)(void *ctx, const struct bld_event *ev);

struct bld_opts {
        const char *context; /* the context directory */
        /* The Containerfile: its text when set (read from stdin, or from an unpacked context),
         * else the file dockerfile, else CONTEXT/Containerfile or CONTEXT/Dockerfile.
         * dockerfile names it in messages either way. */
        const char *dockerfile;
        const char *dockerfile_text;
        const char *const *tags; /* normalized names for the final image */
        size_t n_tags;
        json_t *build_args;  /* NAME → string (borrowed; NULL: none) */
        json_t *labels;      /* NAME → string, set on the final image as a last LABEL step */
        const char *target;  /* build up to the end of this stage */
        const char *network; /* RUN containers' --network (NULL: host) */
        bool no_cache;
        /* FROM (and COPY --from) of an image the store lacks pulls it with these options, their
         * progress_fn telling the pull as `berth pull` does (NULL: "image not known", as
         * before); pull_always pulls even an image the store has (docker build --pull). */
        const struct img_registry_opts *pull;
        bool pull_always;
        bld_event_fn on_event; /* may be NULL */
        void *ctx;
        /* Polled between steps and while a RUN command runs (which it then kills): non-zero
         * stops the build with an "interrupted" error carrying that exit status.  May be NULL. */
        int (*cancelled)(void *ctx);
};

struct bld_result {
        char id[IMG_DIGEST_MAX];       /* the image ID (its config digest) */
        char manifest[IMG_DIGEST_MAX]; /* its manifest digest */
        /* On failure: the failing instruction's line and name (0 and "" when the failure was
         * not a step's), and for a RUN that exited non-zero, its exit code (else 0).  The
         * error itself names no line: front-ends add it as they show errors. */
        int failed_line;
        char failed_cmd[16];
        int run_code;
};

/* ---- contexts that arrive as a stream (context.c) ---- */

/* A context made from a stream: dir to build in (removed by bld_context_remove); dockerfile,
 * when the stream was a lone Containerfile, its text (else NULL). */
struct bld_stream_context {
        char *dir;
        char *dockerfile;
};

/* `docker build -`: fd holds a tar (plain, gzip, bzip2, xz or zstd), unpacked into a new
 * directory under base, or else the Containerfile itself, written as the only file of a new
 * context directory (named Dockerfile, as the docker CLI sends it).  Pipes are spooled to an
 * unnamed file under base first. */
int bld_context_from_stream(int fd, const char *base, struct bld_stream_context *out,
                            berth_error_t *err);
/* A tar (maybe compressed; fd < 0 or an empty file: an empty context) unpacked into a new
 * directory under base, named in *dir even on failure (for the caller to remove). */
int bld_context_unpack(int fd, const char *base, char **dir, berth_error_t *err);
void bld_context_remove(struct bld_stream_context *c);
/* The Containerfile NAME inside dir, no symlink leading out of it; name NULL: Containerfile,
 * else Dockerfile (*used, when given, says which: a static string or name).  Missing: "Cannot
 * locate specified Dockerfile: NAME", as dockerd says it. */
int bld_context_dockerfile(const char *dir, const char *name, char **out, const char **used,
                           berth_error_t *err);

/* CONTEXT/Containerfile if it exists, else CONTEXT/Dockerfile (newly allocated). */
char *bld_default_dockerfile(const char *context);

int bld_run(const struct berth_paths *paths, const struct bld_opts *o, struct bld_result *out,
            berth_error_t *err);

#endif
