/* cmd_images.c — `berth images` (`berth image ls`): list images as Docker does. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/image_common.h"
#include "common/log.h"
#include "common/util.h"

static void images_usage(FILE *out)
{
        fprintf(out,
                "Usage: berth images [OPTIONS] [REPOSITORY[:TAG]]\n"
                "\n"
                "List images.\n"
                "\n"
                "Options:\n"
                "  -a, --all             show all images (berth keeps no intermediate ones)\n"
                "      --digests         show digests\n"
                "  -f, --filter FILTER   dangling=true|false, reference=PATTERN\n"
                "      --format FORMAT   Go-template subset: table, {{.Repository}} {{.Tag}}\n"
                "                        {{.ID}} {{.Digest}} {{.CreatedSince}} {{.CreatedAt}}\n"
                "                        {{.Size}}, or {{json .}}\n"
                "      --no-trunc        don't truncate output\n"
                "  -q, --quiet           only show image IDs\n"
                "  -h, --help            show this help\n");
}

static const struct berth_tmpl_header images_headers[] = {
        {"Repository", "REPOSITORY"},
        {"Tag", "TAG"},
        {"ID", "IMAGE ID"},
        {"Digest", "DIGEST"},
        {"CreatedSince", "CREATED"},
        {"CreatedAt", "CREATED AT"},
        {"Size", "SIZE"},
        {"VirtualSize", "SIZE"},
        {NULL, NULL},
};

struct images_filter {
        const char *repo_tag; /* positional REPOSITORY[:TAG] */
        int dangling;         /* -1 any, 0 tagged only, 1 dangling only */
        const char *reference;
};

static bool row_matches(const struct images_filter *f, const char *name, const char *repo,
                        const char *tag)
{
        if (f->dangling == 1 && name)
                return false;
        if (f->dangling == 0 && !name)
                return false;
        /* docker: `images REPO[:TAG]` is a reference filter, patterns included */
        if (f->repo_tag && (!name || !img_ref_matches(f->repo_tag, name)))
                return false;
        if (f->reference) {
                if (!name)
                        return false;
                if (!img_ref_matches(f->reference, name))
                        return false;
        }
        (void) tag;
        return true;
}

static json_t *image_row(const struct img_image *img, const char *name, bool no_trunc)
{
        char *repo = NULL, *tag = NULL;
        if (name)
                img_ref_split(name, &repo, &tag);
        int64_t t = img_created_sec(img);
        char since[64];
        berth_format_duration((int64_t) time(NULL) - t, since, sizeof(since));
        cleanup_free char *ago = berth_xasprintf("%s ago", since);
        char at[64] = "";
        time_t tt = (time_t) t;
        struct tm tm;
        strftime(at, sizeof(at), "%Y-%m-%d %H:%M:%S +0000 UTC", gmtime_r(&tt, &tm));
        char size[32];
        berth_format_size(img_image_size(img), size, sizeof(size));
        cleanup_free char *id = cli_short_id(img->config.digest, no_trunc);
        json_t *row =
                json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "Repository",
                          repo ? repo : "<none>", "Tag", tag ? tag : "<none>", "ID", id, "Digest",
                          img->manifest_digest, "CreatedSince", ago, "CreatedAt", at, "Size", size,
                          "VirtualSize", size, "created_unix", (json_int_t) t);
        free(repo);
        free(tag);
        return row;
}

static int by_created_desc(const void *a, const void *b)
{
        json_int_t x = json_integer_value(json_object_get(*(json_t *const *) a, "created_unix"));
        json_int_t y = json_integer_value(json_object_get(*(json_t *const *) b, "created_unix"));
        return x < y ? 1 : x > y ? -1 : 0;
}

int cmd_images(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        enum { OPT_DIGESTS = 256, OPT_FORMAT, OPT_NO_TRUNC };
        static const struct option opts[] = {
                {"all", no_argument, NULL, 'a'},
                {"digests", no_argument, NULL, OPT_DIGESTS},
                {"filter", required_argument, NULL, 'f'},
                {"format", required_argument, NULL, OPT_FORMAT},
                {"no-trunc", no_argument, NULL, OPT_NO_TRUNC},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        bool digests = false, quiet = false, no_trunc = false;
        const char *format = NULL;
        struct images_filter f = {.dangling = -1};
        int c;
        while ((c = getopt_long(argc, argv, "af:qh", opts, NULL)) != -1) {
                switch (c) {
                case 'a':
                        break;
                case OPT_DIGESTS:
                        digests = true;
                        break;
                case 'f':
                        if (strcmp(optarg, "dangling=true") == 0)
                                f.dangling = 1;
                        else if (strcmp(optarg, "dangling=false") == 0)
                                f.dangling = 0;
                        else if (berth_str_has_prefix(optarg, "reference="))
                                f.reference = optarg + 10;
                        else if (berth_str_has_prefix(optarg, "dangling="))
                                return berth_fail_status(err, 1, 0, "invalid filter '%s'", optarg);
                        else /* the daemon's refusal in Docker: status 1, the key named */
                                return berth_fail_status(err, 1, 0, "invalid filter '%.*s'",
                                                         (int) strcspn(optarg, "="), optarg);
                        break;
                case OPT_FORMAT:
                        format = optarg;
                        break;
                case OPT_NO_TRUNC:
                        no_trunc = true;
                        break;
                case 'q':
                        quiet = true;
                        break;
                case 'h':
                        images_usage(stdout);
                        return 0;
                default:
                        return cli_usage_error(err, "images", "invalid option");
                }
        }
        if (optind < argc)
                f.repo_tag = argv[optind++];
        if (optind < argc)
                return cli_usage_error(err, "images", "unexpected argument `%s`", argv[optind]);

        struct img_store s;
        struct img_table t;
        if (cli_store_table_open(g, &s, &t, err) < 0)
                return -1;
        json_t *rows = json_array();
        for (size_t i = 0; i < t.n; i++) {
                struct img_image img;
                berth_error_t sub = NULL;
                if (img_image_load(&s, t.v[i].manifest, &img, &sub) < 0) {
                        log_warn("%s", berth_error_msg(sub));
                        berth_error_release(&sub);
                        continue;
                }
                size_t n = t.v[i].n_names ? t.v[i].n_names : 1;
                for (size_t j = 0; j < n; j++) {
                        const char *name = t.v[i].n_names ? t.v[i].names[j] : NULL;
                        char *repo = NULL, *tag = NULL;
                        if (name)
                                img_ref_split(name, &repo, &tag);
                        if (row_matches(&f, name, repo, tag))
                                json_array_append_new(rows, image_row(&img, name, no_trunc));
                        free(repo);
                        free(tag);
                }
                img_image_free(&img);
        }
        img_table_free(&t);
        img_store_close(&s);

        berth_json_array_sort(rows, by_created_desc);

        int ret;
        if (quiet && format == NULL) {
                /* one line per image, not per name */
                json_t *seen = json_object();
                size_t i;
                json_t *row;
                json_array_foreach(rows, i, row)
                {
                        const char *id = json_string_value(json_object_get(row, "ID"));
                        if (json_object_get(seen, id))
                                continue;
                        json_object_set_new(seen, id, json_true());
                        printf("%s\n", id);
                }
                json_decref(seen);
                ret = 0;
        } else {
                const char *fmt =
                        format    ? format
                        : digests ? "table {{.Repository}}\\t{{.Tag}}\\t{{.Digest}}\\t{{.ID}}\\t{{."
                                    "CreatedSince}}\\t{{.Size}}"
                                  : "table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}\\t{{.CreatedSince}}"
                                    "\\t{{.Size}}";
                ret = berth_tmpl_print_rows(fmt, rows, images_headers, stdout, err);
        }
        json_decref(rows);
        return ret;
}
