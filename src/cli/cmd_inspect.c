/* cmd_inspect.c — `berth inspect` (each name a container, else an image, as Docker looks
 * them up), `berth container inspect` and `berth rename`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/containers.h"
#include "cli/image_common.h"
#include "common/log.h"
#include "common/template.h"
#include "common/util.h"
#include "engine/lifecycle.h"
#include "engine/rootfs.h"
#include "engine/view.h"

/* The image named, as `image inspect` shows it, or NULL (none, or no image store: then *why
 * says so). The store and table are opened on first use, so inspecting containers never
 * touches the images. */
static json_t *image_doc(struct cli_global *g, struct img_store *s, struct img_table *t,
                         bool *opened, const char *name, berth_error_t *why)
{
        if (!*opened) {
                if (cli_store_table_open(g, s, t, why) < 0)
                        return NULL;
                *opened = true;
        }
        struct img_entry *e;
        struct img_image img;
        if (img_lookup(s, t, name, &e, why) < 0 || img_image_load(s, e->manifest, &img, why) < 0)
                return NULL;
        json_t *doc = cli_image_inspect_json(e, &img);
        img_image_free(&img);
        return doc;
}

/* inspect -s: Docker's SizeRw (what the container wrote) and SizeRootFs (that and its image),
 * after GraphDriver as dockerd places them. */
static json_t *with_sizes(struct cli_global *g, struct eng_ctx *e, struct eng_container *ct,
                          json_t *doc, struct img_store *s, struct img_table *t, bool *opened)
{
        berth_error_t why = NULL;
        if (eng_container_full(ct, &why) < 0)
                berth_error_release(&why);
        json_int_t rw = (json_int_t) eng_rootfs_size(e, ct), image = 0;
        const char *id = json_string_value(json_object_get(doc, "Image"));
        json_t *idoc = id ? image_doc(g, s, t, opened, id, &why) : NULL;
        berth_error_release(&why);
        image = json_integer_value(json_object_get(idoc, "Size"));
        json_decref(idoc);
        json_t *out = json_object();
        const char *k;
        json_t *v;
        json_object_foreach(doc, k, v)
        {
                json_object_set(out, k, v);
                if (strcmp(k, "GraphDriver") == 0) {
                        json_object_set_new(out, "SizeRw", json_integer(rw));
                        json_object_set_new(out, "SizeRootFs", json_integer(rw + image));
                }
        }
        if (json_object_get(out, "SizeRw") == NULL) {
                json_object_set_new(out, "SizeRw", json_integer(rw));
                json_object_set_new(out, "SizeRootFs", json_integer(rw + image));
        }
        json_decref(doc);
        return out;
}

/* type: NULL (containers, then images), "container" or "image". */
static int inspect(struct cli_global *g, int argc, char **argv, const char *type, const char *cmd,
                   berth_error_t *err)
{
        static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                             {"type", required_argument, NULL, 't'},
                                             {"size", no_argument, NULL, 's'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
        const char *format = NULL;
        bool size = false;
        int c;
        while ((c = getopt_long(argc, argv, "f:sh", opts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        format = optarg;
                        break;
                case 't':
                        type = optarg;
                        if (strcmp(type, "container") != 0 && strcmp(type, "image") != 0)
                                return cli_usage_error(
                                        err, cmd, "\"%s\" is not a valid value for --type", type);
                        break;
                case 's':
                        size = true;
                        break;
                case 'h':
                        printf("Usage: berth %s [-f FORMAT] [--type container|image] "
                               "NAME|ID...\n\n"
                               "Return low-level information on containers or images\n",
                               cmd);
                        return 0;
                default:
                        return cli_usage_error(err, cmd, "invalid option");
                }
        }
        if (optind >= argc)
                return cli_args_error(err, cmd, "at least 1 argument");
        if (format) {
                /* docker's inspect checks the template first, and exits 64 when it won't parse */
                struct berth_tmpl *tmpl = NULL;
                if (berth_tmpl_parse(format, &tmpl, err) < 0) {
                        (*err)->status = 64;
                        return -1;
                }
                berth_tmpl_free(tmpl);
        }
        bool want_ct = type == NULL || strcmp(type, "container") == 0;
        bool want_img = type == NULL || strcmp(type, "image") == 0;
        struct eng_ctx e;
        if (want_ct && eng_ctx_init(&e, &g->paths, err) < 0)
                return -1;
        struct img_store s;
        struct img_table t;
        bool opened = false;
        json_t *all = json_array();
        int status = 0;
        for (int i = optind; i < argc; i++) {
                json_t *doc = NULL;
                struct eng_container *ct = NULL;
                berth_error_t ferr = NULL;
                if (want_ct && eng_container_find(&e, argv[i], &ct, &ferr) == 0) {
                        eng_reconcile(&e, ct, NULL);
                        doc = eng_inspect_doc(ct);
                        if (doc && size)
                                doc = with_sizes(g, &e, ct, doc, &s, &t, &opened);
                        eng_container_free(ct);
                }
                berth_error_release(&ferr);
                berth_error_t why = NULL;
                if (doc == NULL && want_img)
                        doc = image_doc(g, &s, &t, &opened, argv[i], &why);
                if (doc == NULL) {
                        /* Docker's words: the kind asked for, or "object" when any would do;
                         * for an image, what the daemon said after it (as the docker CLI) */
                        if (!want_ct && why)
                                log_error("no such image: %s: %s", argv[i], berth_error_msg(why));
                        else
                                log_error("No such %s: %s", type ? type : "object", argv[i]);
                        berth_error_release(&why);
                        status = 1;
                        continue;
                }
                json_array_append_new(all, doc);
        }
        if (want_ct)
                eng_ctx_free(&e);
        if (opened) {
                img_table_free(&t);
                img_store_close(&s);
        }
        int ret = 0;
        if (format && json_array_size(all) == 0) {
                putchar('\n'); /* docker's template inspector: an empty line when nothing was */
        } else if (format) {
                /* one line per object, as docker's inspect -f */
                ret = berth_tmpl_print_rows(format, all, NULL, stdout, err);
        } else {
                cleanup_free char *text = json_dumps(all, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
                printf("%s\n", text ? text : "[]");
        }
        json_decref(all);
        return ret < 0 ? ret : status;
}

int cmd_inspect(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        return inspect(g, argc, argv, NULL, "inspect", err);
}

int cmd_container_inspect(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        return inspect(g, argc, argv, "container", "container inspect", err);
}

int cmd_rename(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        if (argc != 3)
                return cli_args_error(err, "rename", "2 arguments");
        struct eng_ctx e;
        if (eng_ctx_init(&e, &g->paths, err) < 0)
                return -1;
        struct eng_container *ct = NULL;
        int r = eng_container_find(&e, argv[1], &ct, err);
        if (r == 0 && (r = eng_container_lock(ct, err)) == 0)
                r = eng_container_rename(&e, ct, argv[2], err);
        eng_container_free(ct);
        eng_ctx_free(&e);
        if (r == 0)
                return 0;
        /* docker's two lines (the cause, then which rename failed) and its status, 1 */
        berth_error_report(err, 1);
        log_error("failed to rename container named %s", argv[1]);
        return 1;
}
