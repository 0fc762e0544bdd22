/* commit.h — `docker commit`: a container's changes as a new image, the container paused
 * meanwhile (unless asked not to) so that its files are a consistent snapshot; the CLI's
 * commit and the Engine API's POST /commit are front-ends of this. */
#ifndef BERTH_ENGINE_COMMIT_H
#define BERTH_ENGINE_COMMIT_H

#include <stdbool.h>

#include "common/error.h"
#include "engine/container.h"
#include "image/image.h"

struct eng_commit_opts {
        const char *name;                /* REPOSITORY[:TAG] as given, or NULL: untagged */
        const struct img_change *change; /* --change lines, message, author */
        bool pause;                      /* Docker's default: true */
};

/* Writes the new image's id (its config digest, "sha256:…") and logs the container's commit
 * event (comment, imageID, imageRef, as dockerd's). */
int eng_commit(struct eng_ctx *e, struct eng_container *c, const struct eng_commit_opts *o,
               char image_id[IMG_DIGEST_MAX], berth_error_t *err);

#endif
