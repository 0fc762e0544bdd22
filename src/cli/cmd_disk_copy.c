/* cmd_disk_copy.c — the `berth disk` verbs that move or compare data: convert, commit, rebase,
 * compare, map.  Options and printing; the work is the disk library's (disk/convert.h). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/disk_cli.h"
#include "common/util.h"
#include "disk/convert.h"

int disk_cmd_convert(int argc, char **argv, berth_error_t *err)
{
        static const struct disk_cli_verb verb = {
                .cmd = "disk convert",
                .optstring = "+f:O:co:t:pqhU",
                .usage =
                        "Usage: berth disk convert [-f FMT] [-O raw|qcow2] [-c] "
                        "[-o cluster_size=N,compat=1.1] [-t CACHE] SRC DST\n\n"
                        "-t writeback (or none, writethrough, directsync) syncs the target at the "
                        "end;\nthe default, unsafe, leaves that to the kernel, as qemu-img convert "
                        "does.\n",
                .operands = 2,
                .operands_error = "give the source and the target",
        };
        const char *sfmt = NULL, *ofmt = "raw";
        struct disk_convert_opts o = {0};
        int c;
        while ((c = disk_cli_opt(&verb, argc, argv, &sfmt, err)) > 0) {
                switch (c) {
                case 't':
                        /* qemu-img's cache modes; like qemu-img, the default for convert
                         * is "unsafe" (no flush at the end) */
                        o.sync = strcmp(optarg, "unsafe") != 0;
                        break;
                case 'O':
                        ofmt = optarg;
                        break;
                case 'c':
                        o.compress = true;
                        break;
                case 'o':
                        if (disk_cli_create_opts(optarg, &o.create, verb.cmd, err) < 0)
                                return -1;
                        break;
                }
        }
        if (c < 0)
                return c == DISK_CLI_HELP ? 0 : -1;
        if (disk_cli_format(sfmt, &o.src_format, err) < 0 ||
            disk_parse_format(ofmt, &o.create.format, err) < 0)
                return -1;
        if (o.create.format == DISK_FORMAT_AUTO)
                o.create.format = DISK_FORMAT_RAW;
        if (o.compress && o.create.format != DISK_FORMAT_QCOW2)
                return cli_usage_error(err, verb.cmd, "-c needs -O qcow2");
        return disk_convert(argv[optind], argv[optind + 1], &o, err);
}

int disk_cmd_commit(int argc, char **argv, berth_error_t *err)
{
        static const struct disk_cli_verb verb = {
                .cmd = "disk commit",
                .optstring = "+f:dpqh",
                .usage = "Usage: berth disk commit [-f FMT] [-d] FILE\n\n"
                         "Write the overlay's data into its backing file; then empty the "
                         "overlay\n(unless -d).\n",
                .operands = 1,
        };
        const char *fmt = NULL;
        bool keep = false;
        int c;
        while ((c = disk_cli_opt(&verb, argc, argv, &fmt, err)) > 0) {
                if (c == 'd')
                        keep = true;
        }
        if (c < 0)
                return c == DISK_CLI_HELP ? 0 : -1;
        enum disk_format f;
        if (disk_cli_format(fmt, &f, err) < 0 || disk_commit(argv[optind], f, keep, err) < 0)
                return -1;
        printf("Image committed.\n");
        return 0;
}

int disk_cmd_rebase(int argc, char **argv, berth_error_t *err)
{
        static const struct disk_cli_verb verb = {
                .cmd = "disk rebase",
                .optstring = "+f:b:F:upqhU",
                .usage = "Usage: berth disk rebase [-f FMT] [-u] -b BACKING [-F FMT] FILE\n\n"
                         "Without -u, data that differs between the old and the new backing file "
                         "is\ncopied into FILE first, so its content does not change. -b \"\" "
                         "removes the backing file.\n",
                .operands = 1,
                .operands_error = "give -b BACKING and one image file",
        };
        const char *fmt = NULL, *nb = NULL, *nbfmt = NULL;
        bool unsafe = false;
        int c;
        while ((c = disk_cli_opt(&verb, argc, argv, &fmt, err)) > 0) {
                switch (c) {
                case 'b':
                        nb = optarg;
                        break;
                case 'F':
                        nbfmt = optarg;
                        break;
                case 'u':
                        unsafe = true;
                        break;
                }
        }
        if (c < 0)
                return c == DISK_CLI_HELP ? 0 : -1;
        if (nb == NULL)
                return cli_usage_error(err, verb.cmd, "%s", verb.operands_error);
        enum disk_format f, bf;
        if (disk_cli_format(fmt, &f, err) < 0 || disk_cli_format(nbfmt, &bf, err) < 0)
                return -1;
        return disk_rebase(argv[optind], f, nb, bf, unsafe, err);
}

int disk_cmd_compare(int argc, char **argv, berth_error_t *err)
{
        static const struct disk_cli_verb verb = {
                .cmd = "disk compare",
                .optstring = "+f:F:sqphU",
                .usage = "Usage: berth disk compare [-f FMT] [-F FMT] [-s] A B\n\n"
                         "Exit status: 0 identical, 1 different, 2 error.\n",
                .operands = 2,
                .operands_error = "give two image files",
        };
        const char *fa = NULL, *fb = NULL;
        bool strict = false, quiet = false;
        int c;
        while ((c = disk_cli_opt(&verb, argc, argv, &fa, err)) > 0) {
                switch (c) {
                case 'F':
                        fb = optarg;
                        break;
                case 's':
                        strict = true;
                        break;
                case 'q':
                        quiet = true;
                        break;
                }
        }
        if (c < 0)
                return c == DISK_CLI_HELP ? 0 : -1;
        enum disk_format f1, f2;
        struct disk_compare_result res;
        if (disk_cli_format(fa, &f1, err) < 0 || disk_cli_format(fb, &f2, err) < 0 ||
            disk_compare(argv[optind], f1, argv[optind + 1], f2, strict, &res, err) < 0) {
                /* qemu-img compare: 2 is an error, 1 a difference */
                berth_error_report(err, 2);
                return 2;
        }
        if (!quiet) {
                if (res.size_mismatch)
                        printf(strict ? "Strict mode: Image size mismatch!\n"
                                      : "Warning: Image size mismatch!\n");
                if (res.at_known)
                        printf("Content mismatch at offset %llu!\n",
                               (unsigned long long) res.offset);
                if (!res.differ)
                        printf("Images are identical.\n");
        }
        return res.differ ? 1 : 0;
}

static void print_map_json(const struct disk_map_entry *v, size_t n)
{
        json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
                const struct disk_extent *e = &v[i].ext;
                json_t *o = json_object();
                json_object_set_new(o, "start", json_integer((json_int_t) e->off));
                json_object_set_new(o, "length", json_integer((json_int_t) e->len));
                json_object_set_new(o, "depth", json_integer(e->depth));
                json_object_set_new(o, "present", json_boolean(e->flags & DISK_BS_ALLOCATED));
                json_object_set_new(o, "zero", json_boolean(e->flags & DISK_BS_ZERO));
                json_object_set_new(o, "data", json_boolean(e->flags & DISK_BS_DATA));
                if (e->host_off != UINT64_MAX)
                        json_object_set_new(o, "offset", json_integer((json_int_t) e->host_off));
                json_array_append_new(arr, o);
        }
        disk_cli_print_json(arr, JSON_INDENT(0) | JSON_PRESERVE_ORDER);
}

int disk_cmd_map(int argc, char **argv, berth_error_t *err)
{
        static const struct disk_cli_verb verb = {
                .cmd = "disk map",
                .optstring = "+f:hU",
                .longopts = disk_cli_output_opts,
                .usage = "Usage: berth disk map [-f FMT] [--output human|json] FILE\n",
                .operands = 1,
        };
        const char *fmt = NULL;
        bool json = false;
        int c;
        while ((c = disk_cli_opt(&verb, argc, argv, &fmt, err)) > 0) {
                if (c == 'O')
                        json = strcmp(optarg, "json") == 0;
        }
        if (c < 0)
                return c == DISK_CLI_HELP ? 0 : -1;
        enum disk_format f;
        struct disk_map_entry *v = NULL;
        size_t n = 0;
        if (disk_cli_format(fmt, &f, err) < 0 || disk_map(argv[optind], f, &v, &n, err) < 0)
                return -1;
        if (json) {
                print_map_json(v, n);
        } else {
                printf("%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
                for (size_t i = 0; i < n; i++) {
                        const struct disk_extent *e = &v[i].ext;
                        if ((e->flags & DISK_BS_DATA) && e->host_off != UINT64_MAX)
                                printf("%#-16llx%#-16llx%#-16llx%s\n", (unsigned long long) e->off,
                                       (unsigned long long) e->len,
                                       (unsigned long long) e->host_off, v[i].file);
                }
        }
        disk_map_free(v, n);
        return 0;
}
