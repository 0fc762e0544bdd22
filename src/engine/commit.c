/* commit.c — a container's changes as a new image (see commit.h). */
#include "engine/commit.h"

#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "engine/events.h"
#include "engine/lifecycle.h"

int eng_commit(struct eng_ctx *e, struct eng_container *c, const struct eng_commit_opts *o,
               char image_id[IMG_DIGEST_MAX], berth_error_t *err)
{
        cleanup_free char *name = NULL;
        if (o->name && *o->name && img_ref_normalize(o->name, &name, err) < 0)
                return -1;
        bool paused = false;
        if (o->pause) {
                eng_reconcile(e, c, NULL);
                if (strcmp(eng_container_status(c), "running") == 0) {
                        /* a consistent snapshot of its files, as Docker takes */
                        if (eng_pause(e, c, true, err) < 0)
                                return -1;
                        paused = true;
                }
        }
        struct img_store s;
        char manifest[IMG_DIGEST_MAX];
        int r = img_store_open(&s, e->data_dir, err);
        if (r == 0) {
                r = img_commit(&s, c->id, name, o->change, manifest, err);
                struct img_image img = {0};
                if (r == 0 && (r = img_image_load(&s, manifest, &img, err)) == 0)
                        snprintf(image_id, IMG_DIGEST_MAX, "%s", img.config.digest);
                img_image_free(&img);
                img_store_close(&s);
        }
        if (paused) {
                /* the image is made; a container left paused is still worth a word */
                berth_error_t uerr = NULL;
                if (eng_pause(e, c, false, &uerr) < 0)
                        log_warn("commit: unpause %.12s: %s", c->id, berth_error_msg(uerr));
                berth_error_release(&uerr);
        }
        if (r == 0) {
                const char *msg = o->change && o->change->message ? o->change->message : "";
                eng_event_container(e, c, "commit",
                                    json_pack("{s:s, s:s, s:s}", "comment", msg, "imageID",
                                              image_id, "imageRef", name ? name : ""));
        }
        return r;
}
