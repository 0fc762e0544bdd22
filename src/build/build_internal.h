/* build_internal.h — the state of one build, shared by the build library's files: build.c
 * (bld_run: the Containerfile, the step loop, tagging), instr.c (FROM, ARG and the
 * instructions that only change the image config), cache.c (commits and the layer cache),
 * run.c (RUN through a container) and copy.c (COPY and ADD from the context or a stage). */
#ifndef BERTH_BUILD_INTERNAL_H
#define BERTH_BUILD_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "build/build.h"
#include "engine/container.h"
#include "image/containerfile.h"
#include "image/image.h"

struct bld_stage {
        char *name;                    /* `AS name`, lower case, or NULL */
        char manifest[IMG_DIGEST_MAX]; /* its last image */
};

struct build {
        const struct bld_opts *o;
        struct img_store s;
        struct eng_ctx e;
        int context_fd;
        char **ignore; /* .dockerignore patterns, "!" exceptions kept */
        size_t n_ignore;
        const char *network; /* RUN containers' --network */
        json_t *global_args; /* ARG before the first FROM: name → value or null */
        struct bld_stage *stages;
        size_t n_stages;
        size_t step, total; /* for events */
        int run_code;       /* a failed RUN's exit code */
        /* the stage being built */
        char cur[IMG_DIGEST_MAX]; /* its image so far ("" : scratch, nothing yet) */
        json_t *cfg;              /* that image's config (owned) */
        struct img_desc *layers;  /* its layers */
        size_t n_layers;
        json_t *args; /* the stage's ARGs: name → value or null */
        bool cmd_set; /* CMD given in this stage (ENTRYPOINT then keeps it) */
        /* images this build put in the image table (new steps, cache hits listed again): the
         * intermediate ones leave it when the build ends, as Docker hides them */
        char (*listed)[IMG_DIGEST_MAX];
        size_t n_listed;
};

/* Tell the front-end (kind and the fields that go with it). */
void bld_emit(struct build *b, struct bld_event *ev);
/* The front-end's cancel answer: 0 to go on, else the exit status of the interruption. */
int bld_cancelled(struct build *b);

/* A variable for substitution: the image's ENV first, then the stage's ARGs. */
const char *bld_lookup(void *ctx, const char *name);

/* FROM, ARG (global before the first FROM) and the config-only instructions (instr.c). */
int bld_step_from(struct build *b, const struct img_cf_instr *in, berth_error_t *err);
int bld_step_arg(struct build *b, const struct img_cf_instr *in, bool global, berth_error_t *err);
int bld_step_config(struct build *b, const struct img_cf_instr *in, berth_error_t *err);

/* The key of a step in the layer cache: parent image, instruction, extra (content digests,
 * build args).  If the cache has an image for it, *hit is true and it becomes the current
 * image (an image event, cached). */
int bld_cache_check(struct build *b, const char *instr, const char *extra, char key[IMG_DIGEST_MAX],
                    bool *hit, berth_error_t *err);

/* A new current image: the config as it is now, plus layer (may be NULL) on top, with a
 * history entry created_by; recorded in the cache under key (may be NULL). */
int bld_commit(struct build *b, const char *created_by, const struct img_desc *layer,
               const char *diffid, const char *key, berth_error_t *err);

/* The manifest of a stage (by name or index) or an image in the store. */
int bld_resolve_image(struct build *b, const char *what, char out[IMG_DIGEST_MAX], bool *scratch,
                      berth_error_t *err);

/* Load manifest as the current image (config and layers). */
int bld_set_current(struct build *b, const char *manifest, berth_error_t *err);
/* An image event for the current image. */
void bld_emit_image(struct build *b, bool cached);
/* The build is over: the intermediate images it listed leave the image table (not final). */
void bld_unlist_intermediate(struct build *b, const char *final);

/* Make sure the current image has a manifest (a scratch stage with no step yet gets one). */
int bld_ensure_image(struct build *b, berth_error_t *err);

/* A name unique in the process, across concurrent builds: "build-<pid>-<n>". */
char *bld_tmp_name(void);

int bld_step_run(struct build *b, const struct img_cf_instr *in, berth_error_t *err);
int bld_step_copy(struct build *b, const struct img_cf_instr *in, bool add, berth_error_t *err);

/* Commit after WORKDIR: with a layer making the directory when the image lacks it. */
int bld_workdir(struct build *b, const char *created_by, const char *key, berth_error_t *err);

/* Is rel (relative to the context) excluded by .dockerignore? */
bool bld_ignored(const struct build *b, const char *rel);

#endif
