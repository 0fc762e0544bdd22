/* disk_copy.c — the `berth disk` verbs that move or compare data: convert,
 * commit, rebase, compare, map.
 *
 * They walk the source with block status, so holes and zero clusters are
 * skipped rather than read, and all-zero data is not written (the target
 * stays sparse, as with qemu-img). */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/disk_cli.h"
#include "common/util.h"
#include "disk/qcow2.h"

#define CHUNK (2u << 20) /* a multiple of every qcow2 cluster size */

/* Write buf to d at off, skipping all-zero blocks of `grain` bytes. */
static int write_sparse(struct disk *d, const uint8_t *buf, uint64_t len, uint64_t off,
                        uint64_t grain, bool compress, berth_error_t *err)
{
        uint64_t p = 0;
        while (p < len) {
                uint64_t n = grain - ((off + p) % grain);
                if (n > len - p)
                        n = len - p;
                if (disk_is_zero(buf + p, n)) {
                        p += n;
                        continue;
                }
                /* Gather the run of non-zero grains into one write. */
                uint64_t q = p + n;
                while (q < len) {
                        uint64_t m = grain < len - q ? grain : len - q;
                        if (disk_is_zero(buf + q, m))
                                break;
                        q += m;
                }
                int r = compress ? qcow2_write_compressed(d, buf + p, q - p, off + p, err)
                                 : disk_pwrite(d, buf + p, q - p, off + p, err);
                if (r < 0)
                        return -1;
                p = q;
        }
        return 0;
}

/* Copy [0, size) of src into dst; with `top_only`, only what src's own layer
 * holds (commit).  dst is assumed to read as zeroes where we skip, unless
 * `write_zeroes` (commit into a base with old data). */
static int copy_data(struct disk *src, struct disk *dst, bool top_only, bool write_zeroes,
                     bool compress, berth_error_t *err)
{
        uint64_t grain = dst->format == DISK_FORMAT_QCOW2 ? qcow2_cluster_size(dst) : 4096;
        cleanup_free uint8_t *buf = berth_xmalloc(CHUNK);
        uint64_t off = 0, size = src->size < dst->size ? src->size : dst->size;
        while (off < size) {
                struct disk_extent e;
                uint64_t want = size - off < CHUNK ? size - off : CHUNK;
                if (disk_block_status(src, off, want, &e, err) < 0)
                        return -1;
                /* Compressed clusters are written whole: keep chunks aligned. */
                uint64_t n = compress ? want : e.len;
                bool zero = (e.flags & DISK_BS_ZERO) && e.len >= n;
                bool skip = top_only && (e.depth > 0 || !(e.flags & DISK_BS_ALLOCATED));
                if (skip || (zero && !write_zeroes)) {
                        /* nothing to do: dst already reads zeroes there */
                } else if (zero) {
                        if (disk_write_zeroes(dst, off, n, err) < 0)
                                return -1;
                } else {
                        if (disk_pread(src, buf, n, off, err) < 0)
                                return -1;
                        if (write_zeroes) {
                                if (disk_pwrite(dst, buf, n, off, err) < 0)
                                        return -1;
                        } else if (write_sparse(dst, buf, n, off, grain, compress, err) < 0) {
                                return -1;
                        }
                }
                off += n;
        }
        return 0;
}

int disk_cmd_convert(int argc, char **argv, berth_error_t *err)
{
        const char *sfmt = NULL, *ofmt = "raw";
        bool compress = false, sync = false;
        struct disk_create_opts o = {0};
        int c;
        while ((c = getopt(argc, argv, "+f:O:co:t:pqhU")) != -1) {
                switch (c) {
                case 't':
                        /* qemu-img's cache modes; like qemu-img, the default for convert
                         * is "unsafe" (no flush at the end) */
                        sync = strcmp(optarg, "unsafe") != 0;
                        break;
                case 'f':
                        sfmt = optarg;
                        break;
                case 'O':
                        ofmt = optarg;
                        break;
                case 'c':
                        compress = true;
                        break;
                case 'o':
                        if (disk_cli_create_opts(optarg, &o, "disk convert", err) < 0)
                                return -1;
                        break;
                case 'p':
                case 'q':
                case 'U':
                        break;
                case 'h':
                        printf("Usage: berth disk convert [-f FMT] [-O raw|qcow2] [-c] "
                               "[-o cluster_size=N,compat=1.1] [-t CACHE] SRC DST\n\n"
                               "-t writeback (or none, writethrough, directsync) syncs the "
                               "target at the end;\nthe default, unsafe, leaves that to the "
                               "kernel, as qemu-img convert does.\n");
                        return 0;
                default:
                        return cli_usage_error(err, "disk convert", "invalid option");
                }
        }
        if (optind + 2 != argc)
                return cli_usage_error(err, "disk convert", "give the source and the target");
        enum disk_format sf;
        if (disk_cli_format(sfmt, &sf, err) < 0 || disk_parse_format(ofmt, &o.format, err) < 0)
                return -1;
        if (o.format == DISK_FORMAT_AUTO)
                o.format = DISK_FORMAT_RAW;
        if (compress && o.format != DISK_FORMAT_QCOW2)
                return cli_usage_error(err, "disk convert", "-c needs -O qcow2");
        struct disk *src = NULL, *dst = NULL;
        if (disk_open(argv[optind], sf, DISK_RDONLY, &src, err) < 0)
                return -1;
        o.size = src->size;
        int ret = disk_create(argv[optind + 1], &o, err);
        if (ret == 0)
                ret = disk_open(argv[optind + 1], o.format, 0, &dst, err);
        if (ret == 0)
                ret = copy_data(src, dst, false, false, compress, err);
        if (ret == 0 && sync)
                ret = disk_flush(dst, err);
        disk_close(dst);
        disk_close(src);
        if (ret < 0)
                return berth_wrap(err, "convert `%s` to `%s`", argv[optind], argv[optind + 1]);
        return 0;
}

int disk_cmd_commit(int argc, char **argv, berth_error_t *err)
{
        const char *fmt = NULL;
        bool keep = false;
        int c;
        while ((c = getopt(argc, argv, "+f:dpqh")) != -1) {
                switch (c) {
                case 'f':
                        fmt = optarg;
                        break;
                case 'd':
                        keep = true;
                        break;
                case 'p':
                case 'q':
                        break;
                case 'h':
                        printf("Usage: berth disk commit [-f FMT] [-d] FILE\n\n"
                               "Write the overlay's data into its backing file; then empty the "
                               "overlay\n(unless -d).\n");
                        return 0;
                default:
                        return cli_usage_error(err, "disk commit", "invalid option");
                }
        }
        if (optind + 1 != argc)
                return cli_usage_error(err, "disk commit", "give one image file");
        enum disk_format f;
        if (disk_cli_format(fmt, &f, err) < 0)
                return -1;
        struct disk *top = NULL, *base = NULL;
        if (disk_open(argv[optind], f, keep ? DISK_RDONLY : 0, &top, err) < 0)
                return -1;
        if (top->backing == NULL) {
                berth_fail(err, EINVAL, "`%s` has no backing file to commit into", top->path);
                disk_close(top);
                return -1;
        }
        int ret = disk_open(top->backing->path, top->backing->format, 0, &base, err);
        if (ret == 0 && base->size < top->size)
                ret = disk_truncate(base, top->size, err);
        if (ret == 0)
                ret = copy_data(top, base, true, true, false, err);
        if (ret == 0)
                ret = disk_flush(base, err);
        disk_close(base);
        if (ret == 0 && !keep && top->format == DISK_FORMAT_QCOW2)
                ret = qcow2_make_empty(top, err);
        disk_close(top);
        if (ret < 0)
                return berth_wrap(err, "commit `%s`", argv[optind]);
        printf("Image committed.\n");
        return 0;
}

int disk_cmd_rebase(int argc, char **argv, berth_error_t *err)
{
        const char *fmt = NULL, *nb = NULL, *nbfmt = NULL;
        bool unsafe = false;
        int c;
        while ((c = getopt(argc, argv, "+f:b:F:upqhU")) != -1) {
                switch (c) {
                case 'f':
                        fmt = optarg;
                        break;
                case 'b':
                        nb = optarg;
                        break;
                case 'F':
                        nbfmt = optarg;
                        break;
                case 'u':
                        unsafe = true;
                        break;
                case 'p':
                case 'q':
                case 'U':
                        break;
                case 'h':
                        printf("Usage: berth disk rebase [-f FMT] [-u] -b BACKING [-F FMT] FILE\n\n"
                               "Without -u, data that differs between the old and the new "
                               "backing file is\ncopied into FILE first, so its content does "
                               "not change. -b \"\" removes the backing file.\n");
                        return 0;
                default:
                        return cli_usage_error(err, "disk rebase", "invalid option");
                }
        }
        if (optind + 1 != argc || nb == NULL)
                return cli_usage_error(err, "disk rebase", "give -b BACKING and one image file");
        enum disk_format f, bf;
        if (disk_cli_format(fmt, &f, err) < 0 || disk_cli_format(nbfmt, &bf, err) < 0)
                return -1;
        struct disk *d = NULL, *nbd = NULL;
        if (disk_open(argv[optind], f, unsafe ? DISK_NO_BACKING : 0, &d, err) < 0)
                return -1;
        int ret = 0;
        if (d->format != DISK_FORMAT_QCOW2)
                ret = berth_fail(err, EINVAL, "`%s` is not a qcow2 image", d->path);
        if (ret == 0 && *nb) {
                cleanup_free char *p = disk_backing_path(d->path, nb);
                ret = disk_open(p, bf, DISK_RDONLY, &nbd, err);
                if (ret == 0)
                        bf = nbd->format;
        }
        if (ret == 0 && !unsafe) {
                /* Where the top layer does not decide, keep what the old chain showed. */
                uint64_t cs = qcow2_cluster_size(d);
                cleanup_free uint8_t *a = berth_xmalloc(cs), *b = berth_xmalloc(cs);
                for (uint64_t off = 0; off < d->size && ret == 0; off += cs) {
                        uint64_t n = d->size - off < cs ? d->size - off : cs;
                        struct disk_extent e;
                        ret = disk_block_status(d, off, n, &e, err);
                        if (ret < 0 || (e.depth == 0 && (e.flags & DISK_BS_ALLOCATED)))
                                continue;
                        ret = disk_pread(d, a, n, off, err);
                        memset(b, 0, n);
                        if (ret == 0 && nbd && off < nbd->size)
                                ret = disk_pread(nbd, b, nbd->size - off < n ? nbd->size - off : n,
                                                 off, err);
                        if (ret == 0 && memcmp(a, b, n) != 0)
                                ret = disk_pwrite(d, a, n, off, err);
                }
                if (ret == 0)
                        ret = disk_flush(d, err);
        }
        if (ret == 0)
                ret = qcow2_set_backing(d, nb, *nb ? disk_format_name(bf) : NULL, err);
        disk_close(nbd);
        disk_close(d);
        if (ret < 0)
                return berth_wrap(err, "rebase `%s`", argv[optind]);
        return 0;
}

int disk_cmd_compare(int argc, char **argv, berth_error_t *err)
{
        const char *fa = NULL, *fb = NULL;
        bool strict = false, quiet = false;
        int c;
        while ((c = getopt(argc, argv, "+f:F:sqphU")) != -1) {
                switch (c) {
                case 'f':
                        fa = optarg;
                        break;
                case 'F':
                        fb = optarg;
                        break;
                case 's':
                        strict = true;
                        break;
                case 'q':
                        quiet = true;
                        break;
                case 'p':
                case 'U':
                        break;
                case 'h':
                        printf("Usage: berth disk compare [-f FMT] [-F FMT] [-s] A B\n\n"
                               "Exit status: 0 identical, 1 different, 2 error.\n");
                        return 0;
                default:
                        return cli_usage_error(err, "disk compare", "invalid option");
                }
        }
        if (optind + 2 != argc)
                return cli_usage_error(err, "disk compare", "give two image files");
        enum disk_format f1, f2;
        struct disk *a = NULL, *b = NULL;
        if (disk_cli_format(fa, &f1, err) < 0 || disk_cli_format(fb, &f2, err) < 0 ||
            disk_open(argv[optind], f1, DISK_RDONLY, &a, err) < 0 ||
            disk_open(argv[optind + 1], f2, DISK_RDONLY, &b, err) < 0) {
                disk_close(a);
                berth_error_report(err, 2);
                return 2;
        }
        int ret = 0;
        if (a->size != b->size) {
                if (strict) {
                        if (!quiet)
                                printf("Strict mode: Image size mismatch!\n");
                        ret = 1;
                } else if (!quiet) {
                        printf("Warning: Image size mismatch!\n");
                }
        }
        cleanup_free uint8_t *x = berth_xmalloc(CHUNK), *y = berth_xmalloc(CHUNK);
        uint64_t big = a->size > b->size ? a->size : b->size;
        for (uint64_t off = 0; off < big && ret == 0;) {
                uint64_t n = big - off < CHUNK ? big - off : CHUNK;
                struct disk_extent ea = {.len = n, .flags = DISK_BS_ZERO};
                struct disk_extent eb = ea;
                if (off < a->size &&
                    disk_block_status(a, off, a->size - off < n ? a->size - off : n, &ea, err) < 0)
                        ret = -1;
                if (ret == 0 && off < b->size &&
                    disk_block_status(b, off, b->size - off < n ? b->size - off : n, &eb, err) < 0)
                        ret = -1;
                if (ret < 0)
                        break;
                if (off < a->size && ea.len < n)
                        n = ea.len;
                if (off < b->size && eb.len < n)
                        n = eb.len;
                if (!((ea.flags & DISK_BS_ZERO) && (eb.flags & DISK_BS_ZERO))) {
                        memset(x, 0, n);
                        memset(y, 0, n);
                        if (off < a->size && disk_pread(a, x, n, off, err) < 0)
                                ret = -1;
                        if (ret == 0 && off < b->size && disk_pread(b, y, n, off, err) < 0)
                                ret = -1;
                        if (ret == 0 && memcmp(x, y, n) != 0) {
                                uint64_t i = 0;
                                while (x[i] == y[i])
                                        i++;
                                if (!quiet)
                                        printf("Content mismatch at offset %llu!\n",
                                               (unsigned long long) (off + (i & ~511ull)));
                                ret = 1;
                        }
                }
                off += n;
        }
        disk_close(a);
        disk_close(b);
        if (ret < 0) {
                berth_error_report(err, 2);
                return 2;
        }
        if (ret == 0 && !quiet)
                printf("Images are identical.\n");
        return ret;
}

static const char *layer_path(struct disk *d, unsigned depth)
{
        while (depth-- && d->backing)
                d = d->backing;
        return d->path;
}

int disk_cmd_map(int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                {"output", required_argument, NULL, 'O'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        const char *fmt = NULL;
        bool json = false;
        int c;
        while ((c = getopt_long(argc, argv, "+f:hU", opts, NULL)) != -1) {
                switch (c) {
                case 'f':
                        fmt = optarg;
                        break;
                case 'O':
                        json = strcmp(optarg, "json") == 0;
                        break;
                case 'U':
                        break;
                case 'h':
                        printf("Usage: berth disk map [-f FMT] [--output human|json] FILE\n");
                        return 0;
                default:
                        return cli_usage_error(err, "disk map", "invalid option");
                }
        }
        if (optind + 1 != argc)
                return cli_usage_error(err, "disk map", "give one image file");
        enum disk_format f;
        struct disk *d = NULL;
        if (disk_cli_format(fmt, &f, err) < 0 ||
            disk_open(argv[optind], f, DISK_RDONLY, &d, err) < 0)
                return -1;
        json_t *arr = json_array();
        if (!json)
                printf("%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
        struct disk_extent cur = {0};
        bool have = false;
        int ret = 0;
        for (uint64_t off = 0; off <= d->size && ret == 0;) {
                struct disk_extent e = {0};
                bool end = off == d->size;
                if (!end && disk_block_status(d, off, d->size - off, &e, err) < 0) {
                        ret = -1;
                        break;
                }
                e.flags &= ~DISK_BS_COMPRESSED;
                bool merge = have && !end && e.flags == cur.flags && e.depth == cur.depth &&
                             (cur.host_off == UINT64_MAX ? e.host_off == UINT64_MAX
                                                         : e.host_off == cur.host_off + cur.len);
                if (merge) {
                        cur.len += e.len;
                } else {
                        if (have && json) {
                                json_t *o = json_object();
                                json_object_set_new(o, "start", json_integer((json_int_t) cur.off));
                                json_object_set_new(o, "length",
                                                    json_integer((json_int_t) cur.len));
                                json_object_set_new(o, "depth", json_integer(cur.depth));
                                json_object_set_new(o, "present",
                                                    json_boolean(cur.flags & DISK_BS_ALLOCATED));
                                json_object_set_new(o, "zero",
                                                    json_boolean(cur.flags & DISK_BS_ZERO));
                                json_object_set_new(o, "data",
                                                    json_boolean(cur.flags & DISK_BS_DATA));
                                if (cur.host_off != UINT64_MAX)
                                        json_object_set_new(
                                                o, "offset",
                                                json_integer((json_int_t) cur.host_off));
                                json_array_append_new(arr, o);
                        } else if (have && (cur.flags & DISK_BS_DATA) &&
                                   cur.host_off != UINT64_MAX) {
                                printf("%#-16llx%#-16llx%#-16llx%s\n", (unsigned long long) cur.off,
                                       (unsigned long long) cur.len,
                                       (unsigned long long) cur.host_off, layer_path(d, cur.depth));
                        }
                        cur = e;
                        have = true;
                }
                if (end)
                        break;
                off += e.len;
        }
        if (ret == 0 && json) {
                char *s = json_dumps(arr, JSON_INDENT(0) | JSON_PRESERVE_ORDER);
                printf("%s\n", s);
                free(s);
        }
        json_decref(arr);
        disk_close(d);
        return ret;
}
