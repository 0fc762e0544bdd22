/* diskusage.c — what containers, images and volumes hold (see sysinfo.h): the totals of
 * `berth system df` and `berth info`, and dockerd's GET /system/df document. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/units.h"
#include "common/util.h"
#include "engine/lifecycle.h"
#include "engine/rootfs.h"
#include "engine/sysinfo.h"
#include "engine/view.h"
#include "engine/volume.h"
#include "image/image.h"

static const char *sfield(json_t *o, const char *k)
{
        const char *s = json_string_value(json_object_get(o, k));
        return s ? s : "";
}

static json_int_t unix_sec(const char *rfc3339)
{
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        int64_t ns = 0;
        if (*rfc3339 == '\0' || berth_parse_timestamp(rfc3339, "time", &now, &ns, NULL) < 0)
                return 0;
        return (json_int_t) (ns / 1000000000LL);
}

static size_t users_of(struct eng_container **v, size_t n, const char *config_digest)
{
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                k += strcmp(sfield(v[i]->doc, "Image"), config_digest) == 0;
        return k;
}

/* A GET /containers/json row with the two sizes, as df's Containers[] has them. */
static json_t *df_container(struct eng_container *c, uint64_t size_rw, uint64_t image_size)
{
        json_t *doc = c->doc, *cfg = json_object_get(doc, "Config");
        const char *image = sfield(cfg, "Image");
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        cleanup_free char *status = eng_status_text(c, &now);
        cleanup_free char *name = berth_xasprintf("/%s", eng_container_name(c));
        cleanup_free char *cmd = eng_command_line(doc);
        json_t *labels = json_object_get(cfg, "Labels");
        json_t *hc = json_object_get(doc, "HostConfig");
        json_t *nets = json_object_get(json_object_get(doc, "NetworkSettings"), "Networks");
        json_t *mounts = json_object_get(doc, "Mounts");
        const char *mode = sfield(hc, "NetworkMode");
        return json_pack("{s:s, s:[s], s:s, s:s, s:s, s:I, s:[], s:I, s:I, s:o, s:s, s:s, "
                         "s:{s:s}, s:{s:o}, s:o}",
                         "Id", c->id, "Names", name, "Image", *image ? image : sfield(doc, "Image"),
                         "ImageID", sfield(doc, "Image"), "Command", cmd, "Created",
                         unix_sec(sfield(doc, "Created")), "Ports", "SizeRw", (json_int_t) size_rw,
                         "SizeRootFs", (json_int_t) size_rw + (json_int_t) image_size, "Labels",
                         labels ? json_incref(labels) : json_object(), "State",
                         eng_container_status(c), "Status", status, "HostConfig", "NetworkMode",
                         *mode ? mode : "default", "NetworkSettings", "Networks",
                         nets ? json_incref(nets) : json_object(), "Mounts",
                         mounts ? json_incref(mounts) : json_array());
}

/* The images' rows and LayersSize: a layer shared by several images counts once, and is
 * each one's SharedSize. */
static int gather_images(const struct berth_paths *p, struct eng_container **v, size_t n,
                         struct eng_usage *u, json_t *rows, json_t *sizes, json_int_t *layers_size,
                         berth_error_t *err)
{
        struct img_store s;
        if (img_store_open(&s, p->data_dir, err) < 0)
                return -1;
        struct img_table t;
        if (img_table_load(&s, &t, err) < 0) {
                img_store_close(&s);
                return -1;
        }
        struct img_image *imgs = berth_xcalloc(t.n ? t.n : 1, sizeof(*imgs));
        bool *loaded = berth_xcalloc(t.n ? t.n : 1, sizeof(*loaded));
        json_t *layer_users = json_object(); /* layer digest → number of images */
        for (size_t i = 0; i < t.n; i++) {
                berth_error_t ierr = NULL;
                if (img_image_load(&s, t.v[i].manifest, &imgs[i], &ierr) < 0) {
                        berth_error_release(&ierr);
                        continue;
                }
                loaded[i] = true;
                for (size_t l = 0; l < imgs[i].n_layers; l++) {
                        const char *d = imgs[i].layers[l].digest;
                        json_int_t k = json_integer_value(json_object_get(layer_users, d));
                        if (k == 0)
                                *layers_size += imgs[i].layers[l].size;
                        json_object_set_new(layer_users, d, json_integer(k + 1));
                }
        }
        for (size_t i = 0; i < t.n; i++) {
                if (!loaded[i])
                        continue;
                struct img_image *img = &imgs[i];
                size_t users = users_of(v, n, img->config.digest);
                uint64_t sz = (uint64_t) img_image_size(img), sz_layers = 0;
                /* what the image holds besides its layers (config, manifest) is its own */
                for (size_t l = 0; l < img->n_layers; l++)
                        sz_layers += (uint64_t) img->layers[l].size;
                *layers_size += (json_int_t) (sz - sz_layers);
                u->images++;
                u->images_active += users > 0;
                u->images_size += sz;
                if (users == 0)
                        u->images_reclaimable += sz;
                json_object_set_new(sizes, img->config.digest, json_integer((json_int_t) sz));
                if (rows == NULL)
                        continue;
                json_int_t shared = 0;
                for (size_t l = 0; l < img->n_layers; l++)
                        if (json_integer_value(
                                    json_object_get(layer_users, img->layers[l].digest)) > 1)
                                shared += img->layers[l].size;
                json_t *tags = json_array();
                for (size_t k = 0; k < t.v[i].n_names; k++)
                        json_array_append_new(tags, json_string(t.v[i].names[k]));
                json_t *labels = json_object_get(json_object_get(img->cfg, "config"), "Labels");
                json_array_append_new(
                        rows,
                        json_pack("{s:I, s:I, s:s, s:o, s:s, s:[], s:o, s:I, s:I, s:I}",
                                  "Containers", (json_int_t) users, "Created",
                                  unix_sec(sfield(img->cfg, "created")), "Id", img->config.digest,
                                  "Labels", labels ? json_incref(labels) : json_null(), "ParentId",
                                  "", "RepoDigests", "RepoTags", tags, "SharedSize", shared, "Size",
                                  (json_int_t) sz, "VirtualSize", (json_int_t) sz));
        }
        for (size_t i = 0; i < t.n; i++)
                if (loaded[i])
                        img_image_free(&imgs[i]);
        free(imgs);
        free(loaded);
        json_decref(layer_users);
        img_table_free(&t);
        img_store_close(&s);
        return 0;
}

static int gather_volumes(struct eng_ctx *e, bool sizes, struct eng_usage *u, json_t *rows,
                          berth_error_t *err)
{
        json_t *vols = NULL;
        if (eng_volume_list(e, &vols, err) < 0)
                return -1;
        size_t i;
        json_t *vol;
        json_array_foreach(vols, i, vol)
        {
                json_t *users = eng_volume_users(e, sfield(vol, "Name"));
                size_t refs = json_array_size(users);
                json_decref(users);
                uint64_t sz = sizes ? berth_du(sfield(vol, "Mountpoint")) : 0;
                u->volumes++;
                u->volumes_active += refs > 0;
                u->volumes_size += sz;
                if (refs == 0)
                        u->volumes_reclaimable += sz;
                if (rows == NULL)
                        continue;
                json_t *row = json_deep_copy(vol);
                json_object_set_new(row, "Scope", json_string("local"));
                /* dockerd's -1: not computed */
                json_object_set_new(row, "UsageData",
                                    json_pack("{s:I, s:I}", "Size",
                                              sizes ? (json_int_t) sz : (json_int_t) -1, "RefCount",
                                              (json_int_t) refs));
                json_array_append_new(rows, row);
        }
        json_decref(vols);
        return 0;
}

int eng_usage_gather(const struct berth_paths *p, bool sizes, struct eng_usage *u, json_t **df,
                     berth_error_t *err)
{
        memset(u, 0, sizeof(*u));
        if (df)
                *df = NULL;
        struct eng_ctx e;
        if (eng_ctx_init(&e, p, err) < 0)
                return -1;
        struct eng_container **v = NULL;
        size_t n = 0;
        json_t *images = df ? json_array() : NULL, *containers = df ? json_array() : NULL;
        json_t *volumes = df ? json_array() : NULL;
        json_t *image_sizes = json_object();
        json_int_t layers_size = 0;
        int r = eng_list_reconciled(&e, &v, &n, err);
        if (r == 0)
                r = gather_images(p, v, n, u, images, image_sizes, &layers_size, err);
        for (size_t i = 0; r == 0 && i < n; i++) {
                const char *st = eng_container_status(v[i]);
                bool live = eng_status_live(st);
                u->containers++;
                u->running += strcmp(st, "running") == 0 || strcmp(st, "restarting") == 0;
                u->paused += strcmp(st, "paused") == 0;
                u->stopped += !live;
                u->containers_active += live;
                uint64_t sz = sizes ? eng_rootfs_size(&e, v[i]) : 0;
                u->containers_size += sz;
                if (!live)
                        u->containers_reclaimable += sz;
                if (containers) {
                        json_int_t isz = json_integer_value(
                                json_object_get(image_sizes, sfield(v[i]->doc, "Image")));
                        json_array_append_new(containers, df_container(v[i], sz, (uint64_t) isz));
                }
        }
        if (r == 0)
                r = gather_volumes(&e, sizes, u, volumes, err);
        if (r == 0 && df)
                *df = json_pack("{s:I, s:O, s:O, s:O, s:[], s:i}", "LayersSize", layers_size,
                                "Images", images, "Containers", containers, "Volumes", volumes,
                                "BuildCache", "BuilderSize", 0);
        json_decref(images);
        json_decref(containers);
        json_decref(volumes);
        json_decref(image_sizes);
        eng_container_list_free(v, n);
        eng_ctx_free(&e);
        return r;
}
