/* cmd_inspect.c — `berth inspect` (containers, falling back to images) and
 * `berth rename`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/containers.h"
#include "common/log.h"
#include "common/template.h"
#include "common/util.h"
#include "engine/lifecycle.h"
#include "engine/view.h"

int cmd_inspect(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {{"format", required_argument, NULL, 'f'},
                                             {"type", required_argument, NULL, 't'},
                                             {"size", no_argument, NULL, 's'},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
        const char *format = NULL, *type = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "f:sh", opts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        format = optarg;
                        break;
                case 't':
                        type = optarg;
                        if (strcmp(type, "container") != 0 && strcmp(type, "image") != 0)
                                return cli_usage_error(err, "inspect",
                                                       "\"%s\" is not a valid value for --type",
                                                       type);
                        break;
                case 's':
                        break;
                case 'h':
                        printf("Usage: berth inspect [-f FORMAT] [--type container|image] "
                               "NAME|ID...\n\n"
                               "Return low-level information on containers or images\n");
                        return 0;
                default:
                        return cli_usage_error(err, "inspect", "invalid option");
                }
        }
        if (optind >= argc)
                return cli_usage_error(err, "inspect",
                                       "\"berth inspect\" requires at least 1 argument");
        if (type && strcmp(type, "image") == 0)
                return cmd_image_inspect(g, argc, argv, err);
        struct eng_ctx e;
        if (eng_ctx_init(&e, &g->paths, err) < 0)
                return -1;
        json_t *all = json_array();
        int missing = 0, found = 0;
        for (int i = optind; i < argc; i++) {
                struct eng_container *ct = NULL;
                berth_error_t ferr = NULL;
                if (eng_container_find(&e, argv[i], &ct, &ferr) < 0) {
                        berth_error_release(&ferr);
                        missing++;
                        continue;
                }
                eng_reconcile(&e, ct, NULL);
                json_array_append_new(all, eng_inspect_doc(ct));
                eng_container_free(ct);
                found++;
        }
        eng_ctx_free(&e);
        int ret = 0;
        if (found == 0 && type == NULL) {
                /* none is a container: they may be images */
                json_decref(all);
                return cmd_image_inspect(g, argc, argv, err);
        }
        if (format) {
                struct berth_tmpl *t = NULL;
                if (berth_tmpl_parse(format, &t, err) < 0) {
                        json_decref(all);
                        return -1;
                }
                size_t i;
                json_t *o;
                json_array_foreach(all, i, o)
                {
                        char *s = NULL;
                        if (berth_tmpl_exec(t, o, &s, err) < 0) {
                                ret = -1;
                                break;
                        }
                        printf("%s\n", s);
                        free(s);
                }
                berth_tmpl_free(t);
        } else {
                char *s = json_dumps(all, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
                printf("%s\n", s ? s : "[]");
                free(s);
        }
        json_decref(all);
        if (ret == 0 && missing) {
                for (int i = optind; i < argc; i++) {
                        struct eng_container *ct = NULL;
                        berth_error_t ferr = NULL;
                        if (eng_ctx_init(&e, &g->paths, &ferr) == 0 &&
                            eng_container_find(&e, argv[i], &ct, &ferr) < 0)
                                log_error("Error: No such object: %s", argv[i]);
                        eng_container_free(ct);
                        eng_ctx_free(&e);
                        berth_error_release(&ferr);
                }
                return 1;
        }
        return ret;
}

int cmd_rename(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        if (argc != 3)
                return cli_usage_error(err, "rename",
                                       "\"berth rename\" requires exactly 2 arguments");
        struct eng_ctx e;
        if (eng_ctx_init(&e, &g->paths, err) < 0)
                return -1;
        struct eng_container *ct = NULL;
        int r = eng_container_find(&e, argv[1], &ct, err);
        if (r == 0 && (r = eng_container_lock(ct, err)) == 0)
                r = eng_container_rename(&e, ct, argv[2], err);
        eng_container_free(ct);
        eng_ctx_free(&e);
        return r < 0 ? -1 : 0;
}
