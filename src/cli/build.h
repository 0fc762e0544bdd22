/* build.h — `berth build`'s state, shared by its files: cmd_build.c (options, the step loop,
 * FROM and the config instructions), build_cache.c (commits and the layer cache), build_run.c
 * (RUN through a container) and build_copy.c (COPY and ADD from the context or a stage). */
#ifndef BERTH_CLI_BUILD_H
#define BERTH_CLI_BUILD_H

#include <jansson.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "cli/cli.h"
#include "engine/container.h"
#include "image/containerfile.h"
#include "image/image.h"

struct build_stage {
        char *name;                    /* `AS name`, lower case, or NULL */
        char manifest[IMG_DIGEST_MAX]; /* its last image */
};

struct build {
        struct cli_global *g;
        struct img_store s;
        struct eng_ctx e;
        const char *context; /* the context directory */
        int context_fd;
        char **ignore; /* .dockerignore patterns, "!" exceptions kept */
        size_t n_ignore;
        bool quiet, no_cache;
        const char *network; /* RUN containers' --network */
        const char *iidfile; /* --iidfile */
        json_t *build_args;  /* --build-arg NAME=VALUE */
        json_t *global_args; /* ARG before the first FROM: name → value or null */
        struct build_stage *stages;
        size_t n_stages;
        /* the stage being built */
        char cur[IMG_DIGEST_MAX]; /* its image so far ("" : scratch, nothing yet) */
        json_t *cfg;              /* that image's config (owned) */
        struct img_desc *layers;  /* its layers */
        size_t n_layers;
        json_t *args; /* the stage's ARGs: name → value or null */
        bool cmd_set; /* CMD given in this stage (ENTRYPOINT then keeps it) */
        int tmp_seq;  /* for unique temporary names */
        /* images this build put in the image table (new steps, cache hits listed again): the
         * intermediate ones leave it when the build ends, as Docker hides them */
        char (*listed)[IMG_DIGEST_MAX];
        size_t n_listed;
};

/* A variable for substitution: the image's ENV first, then the stage's ARGs. */
const char *build_lookup(void *ctx, const char *name);

/* The key of a step in the layer cache: parent image, instruction, extra (content digests,
 * build args).  If the cache has an image for it, *hit is true and it becomes the current
 * image (printed as "--> Using cache"). */
int build_cache_check(struct build *b, const char *instr, const char *extra,
                      char key[IMG_DIGEST_MAX], bool *hit, berth_error_t *err);

/* A new current image: the config as it is now, plus layer (may be NULL) on top, with a
 * history entry created_by; recorded in the cache under key (may be NULL). */
int build_commit(struct build *b, const char *created_by, const struct img_desc *layer,
                 const char *diffid, const char *key, berth_error_t *err);

/* The manifest of a stage (by name or index) or an image in the store. */
int build_resolve_image(struct build *b, const char *what, char out[IMG_DIGEST_MAX], bool *scratch,
                        berth_error_t *err);

/* Load manifest as the current image (config and layers). */
int build_set_current(struct build *b, const char *manifest, berth_error_t *err);
/* "--> <short id>" of the current image, after prefix (not with -q). */
void build_print_id(struct build *b, const char *prefix);
/* The build is over: the intermediate images it listed leave the image table (not final). */
void build_unlist_intermediate(struct build *b, const char *final);

/* Make sure the current image has a manifest (a scratch stage with no step yet gets one). */
int build_ensure_image(struct build *b, berth_error_t *err);

/* A unique temporary name: "build-<pid>-<n>". */
char *build_tmp_name(struct build *b);

/* Set by SIGINT/SIGTERM/SIGHUP (the signal); the handler kills a running RUN step's
 * container init, named by build_pid_file ("" when none), with build_kill_run. */
extern volatile sig_atomic_t build_interrupted;
extern char build_pid_file[4096];
void build_kill_run(void);

int build_run(struct build *b, const struct img_cf_instr *in, berth_error_t *err);
int build_copy(struct build *b, const struct img_cf_instr *in, bool add, berth_error_t *err);

/* Commit after WORKDIR: with a layer making the directory when the image lacks it. */
int build_workdir(struct build *b, const char *created_by, const char *key, berth_error_t *err);

/* Is rel (relative to the context) excluded by .dockerignore? */
bool build_ignored(const struct build *b, const char *rel);

#endif
