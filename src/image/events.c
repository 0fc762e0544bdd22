/* events.c — the image library's events (common/eventlog.h), shaped as dockerd's
 * LogImageEvent: Actor.ID the image ID (its config digest), the image's labels and a name. */
#include "common/eventlog.h"
#include "image/image.h"

void img_event(struct img_store *s, const char *manifest, const char *action, const char *name)
{
        struct img_image img;
        berth_error_t err = NULL;
        json_t *attrs = json_object();
        const char *id = manifest;
        bool loaded = img_image_load(s, manifest, &img, &err) == 0;
        berth_error_release(&err);
        if (loaded) {
                id = img.config.digest;
                json_object_update(attrs,
                                   json_object_get(json_object_get(img.cfg, "config"), "Labels"));
        }
        json_object_set_new(attrs, "name", json_string(name ? name : id));
        berth_event_emit(NULL, "image", action, id, attrs);
        if (loaded)
                img_image_free(&img);
}
