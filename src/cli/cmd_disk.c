/* cmd_disk.c — `berth disk`: raw and qcow2 images in the spirit of
 * qemu-img.  This file dispatches the verbs and holds the ones about a
 * single image's metadata: create, info, check, resize, snapshot.  The
 * verbs that copy data (convert, commit, rebase, compare, map) are in
 * cmd_disk_copy.c, bench in cmd_disk_bench.c; their work is the disk
 * library's (disk/convert.h, disk/bench.h). */
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/disk_cli.h"
#include "common/units.h"
#include "common/util.h"
#include "disk/qcow2.h"

int disk_cli_format(const char *s, enum disk_format *out, berth_error_t *err)
{
        if (s == NULL) {
                *out = DISK_FORMAT_AUTO;
                return 0;
        }
        return disk_parse_format(s, out, err);
}

int disk_cli_size(const char *s, uint64_t *out, berth_error_t *err)
{
        int64_t v;
        if (berth_parse_bytes(s, "the size", &v, err) < 0)
                return -1;
        *out = (uint64_t) v;
        return 0;
}

const struct option disk_cli_output_opts[] = {
        {"output", required_argument, NULL, 'O'},
        {"help", no_argument, NULL, 'h'},
        {0},
};

int disk_cli_opt(const struct disk_cli_verb *v, int argc, char **argv, const char **fmt,
                 berth_error_t *err)
{
        int c;
        while ((c = getopt_long(argc, argv, v->optstring, v->longopts, NULL)) != -1) {
                if (c == 'f' && fmt != NULL) {
                        *fmt = optarg;
                } else if (c == 'h') {
                        fputs(v->usage, stdout);
                        return DISK_CLI_HELP;
                } else if (c == '?') {
                        return cli_usage_error(err, v->cmd, "invalid option");
                } else {
                        return c;
                }
        }
        if (v->operands && optind + v->operands != argc)
                return cli_usage_error(err, v->cmd, "%s",
                                       v->operands_error ? v->operands_error
                                                         : "give one image file");
        return 0;
}

void disk_cli_print_json(json_t *j, size_t flags)
{
        char *s = json_dumps(j, flags);
        printf("%s\n", s);
        free(s);
        json_decref(j);
}

/* "1 GiB", "196 KiB", "1.5 GiB": qemu-img's human sizes. */
static void human_size(uint64_t v, char *buf, size_t len)
{
        static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        unsigned u = 0;
        double d = (double) v;
        while (d >= 1024 && u + 1 < BERTH_ARRAY_SIZE(units)) {
                d /= 1024;
                u++;
        }
        snprintf(buf, len, "%0.3g %s", d, units[u]);
}

int disk_cli_create_opts(char *s, struct disk_create_opts *o, const char *cmd, berth_error_t *err)
{
        for (char *save = NULL, *kv = strtok_r(s, ",", &save); kv;
             kv = strtok_r(NULL, ",", &save)) {
                char *v = strchr(kv, '=');
                if (v == NULL)
                        return cli_usage_error(err, cmd, "option `%s` needs a value", kv);
                *v++ = 0;
                uint64_t n;
                if (strcmp(kv, "cluster_size") == 0) {
                        if (disk_cli_size(v, &n, err) < 0)
                                return -1;
                        o->cluster_size = (unsigned) n;
                } else if (strcmp(kv, "compat") == 0) {
                        if (strcmp(v, "0.10") == 0 || strcmp(v, "v2") == 0)
                                o->version = 2;
                        else if (strcmp(v, "1.1") == 0 || strcmp(v, "v3") == 0)
                                o->version = 3;
                        else
                                return cli_usage_error(err, cmd, "unknown compat `%s`", v);
                } else if (strcmp(kv, "compression_type") == 0) {
                        if (strcmp(v, "zstd") != 0 && strcmp(v, "zlib") != 0)
                                return cli_usage_error(err, cmd,
                                                       "compression_type is zlib or zstd");
                        o->zstd = strcmp(v, "zstd") == 0;
                } else if (strcmp(kv, "refcount_bits") == 0) {
                        o->refcount_bits = (unsigned) strtoul(v, NULL, 10);
                } else if (strcmp(kv, "preallocation") == 0) {
                        o->preallocate = strcmp(v, "off") != 0;
                } else if (strcmp(kv, "backing_file") == 0) {
                        o->backing = v;
                } else {
                        return cli_usage_error(err, cmd, "unknown option `%s`", kv);
                }
        }
        return 0;
}

int disk_cmd_create(int argc, char **argv, berth_error_t *err)
{
        static const struct disk_cli_verb verb = {
                .cmd = "disk create",
                .optstring = "+f:b:F:o:hq",
                .usage = "Usage: berth disk create [-f raw|qcow2] [-b BACKING [-F FMT]] "
                         "[-o OPTIONS] FILE [SIZE]\n\n"
                         "Options (-o, comma separated): cluster_size=N, compat=0.10|1.1, "
                         "refcount_bits=16, preallocation=off|falloc|full (raw)\n",
        };
        struct disk_create_opts o = {.format = DISK_FORMAT_RAW};
        const char *bfmt = NULL;
        int c;
        while ((c = disk_cli_opt(&verb, argc, argv, NULL, err)) > 0) {
                switch (c) {
                case 'f':
                        if (disk_parse_format(optarg, &o.format, err) < 0)
                                return -1;
                        break;
                case 'b':
                        o.backing = optarg;
                        break;
                case 'F':
                        bfmt = optarg;
                        break;
                case 'o':
                        if (disk_cli_create_opts(optarg, &o, verb.cmd, err) < 0)
                                return -1;
                        break;
                }
        }
        if (c < 0)
                return c == DISK_CLI_HELP ? 0 : -1;
        if (optind >= argc)
                return cli_usage_error(err, "disk create", "give the image file");
        const char *path = argv[optind];
        if (optind + 1 < argc && disk_cli_size(argv[optind + 1], &o.size, err) < 0)
                return -1;
        if (optind + 1 >= argc && o.backing == NULL)
                return cli_usage_error(err, "disk create", "give the size");
        if (disk_cli_format(bfmt, &o.backing_fmt, err) < 0)
                return -1;
        if (o.format == DISK_FORMAT_AUTO)
                o.format = DISK_FORMAT_RAW;
        if (disk_create(path, &o, err) < 0)
                return -1;
        char hs[32];
        human_size(o.size, hs, sizeof(hs));
        printf("Formatting '%s', fmt=%s size=%llu\n", path, disk_format_name(o.format),
               (unsigned long long) o.size);
        return 0;
}

static json_t *image_json(struct disk *d, berth_error_t *err)
{
        struct stat st;
        json_t *j = json_object();
        json_object_set_new(j, "virtual-size", json_integer((json_int_t) d->size));
        json_object_set_new(j, "filename", json_string(d->path));
        json_object_set_new(j, "format", json_string(disk_format_name(d->format)));
        if (stat(d->path, &st) == 0)
                json_object_set_new(j, "actual-size",
                                    json_integer((json_int_t) st.st_blocks * 512));
        if (d->format != DISK_FORMAT_QCOW2) {
                json_object_set_new(j, "dirty-flag", json_false());
                return j;
        }
        struct qcow2_info qi;
        if (qcow2_get_info(d, &qi, err) < 0) {
                json_decref(j);
                return NULL;
        }
        json_object_set_new(j, "cluster-size", json_integer((json_int_t) qi.cluster_size));
        json_object_set_new(j, "dirty-flag", json_boolean(qi.dirty));
        if (qi.backing_name) {
                json_object_set_new(j, "backing-filename", json_string(qi.backing_name));
                if (d->backing)
                        json_object_set_new(j, "full-backing-filename",
                                            json_string(d->backing->path));
                if (qi.backing_fmt)
                        json_object_set_new(j, "backing-filename-format",
                                            json_string(qi.backing_fmt));
        }
        json_t *data = json_object();
        json_object_set_new(data, "compat", json_string(qi.version == 3 ? "1.1" : "0.10"));
        if (qi.version == 3) {
                json_object_set_new(data, "compression-type", json_string(qi.compression));
                json_object_set_new(data, "lazy-refcounts", json_boolean(qi.lazy_refcounts));
                json_object_set_new(data, "corrupt", json_boolean(qi.corrupt));
                json_object_set_new(data, "extended-l2", json_boolean(qi.extended_l2));
        }
        json_object_set_new(data, "refcount-bits", json_integer(qi.refcount_bits));
        json_t *fs = json_object();
        json_object_set_new(fs, "type", json_string("qcow2"));
        json_object_set_new(fs, "data", data);
        json_object_set_new(j, "format-specific", fs);
        if (qi.nb_snapshots) {
                json_t *a = json_array();
                for (uint32_t i = 0; i < qi.nb_snapshots; i++) {
                        const struct qcow2_snapshot *s = &qi.snapshots[i];
                        json_t *o = json_object();
                        json_object_set_new(o, "id", json_string(s->id));
                        json_object_set_new(o, "name", json_string(s->name));
                        json_object_set_new(o, "vm-state-size",
                                            json_integer((json_int_t) s->vm_state_size));
                        json_object_set_new(o, "date-sec", json_integer(s->date_sec));
                        json_object_set_new(o, "date-nsec", json_integer(s->date_nsec));
                        json_object_set_new(
                                o, "vm-clock-sec",
                                json_integer((json_int_t) (s->vm_clock_nsec / 1000000000)));
                        json_object_set_new(
                                o, "vm-clock-nsec",
                                json_integer((json_int_t) (s->vm_clock_nsec % 1000000000)));
                        json_array_append_new(a, o);
                }
                json_object_set_new(j, "snapshots", a);
        }
        return j;
}

static void print_snapshots(const struct qcow2_info *qi)
{
        printf("%-10s%-17s%8s%20s%13s%11s\n", "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK", "ICOUNT");
        for (uint32_t i = 0; i < qi->nb_snapshots; i++) {
                const struct qcow2_snapshot *s = &qi->snapshots[i];
                char date[32], vs[32];
                time_t t = s->date_sec;
                struct tm tm;
                localtime_r(&t, &tm);
                strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
                human_size(s->vm_state_size, vs, sizeof(vs));
                uint64_t secs = s->vm_clock_nsec / 1000000000;
                char icount[24] = "";
                uint64_t ic;
                if (s->extra_size >= 24) { /* extra data: state size, disk size, icount */
                        memcpy(&ic, s->extra + 16, 8);
                        ic = be64toh(ic);
                        if (ic != UINT64_MAX)
                                snprintf(icount, sizeof(icount), "%llu", (unsigned long long) ic);
                }
                printf("%-9s %-17s%8s%20s %02llu:%02llu:%02llu.%03llu%11s\n", s->id, s->name, vs,
                       date, (unsigned long long) (secs / 3600),
                       (unsigned long long) (secs / 60 % 60), (unsigned long long) (secs % 60),
                       (unsigned long long) (s->vm_clock_nsec / 1000000 % 1000), icount);
        }
}

static int print_info(struct disk *d, berth_error_t *err)
{
        struct stat st;
        char vs[32], ds[32];
        human_size(d->size, vs, sizeof(vs));
        printf("image: %s\nfile format: %s\nvirtual size: %s (%llu bytes)\n", d->path,
               disk_format_name(d->format), vs, (unsigned long long) d->size);
        if (stat(d->path, &st) == 0) {
                human_size((uint64_t) st.st_blocks * 512, ds, sizeof(ds));
                printf("disk size: %s\n", ds);
        }
        if (d->format != DISK_FORMAT_QCOW2)
                return 0;
        struct qcow2_info qi;
        if (qcow2_get_info(d, &qi, err) < 0)
                return -1;
        printf("cluster_size: %llu\n", (unsigned long long) qi.cluster_size);
        if (qi.backing_name) {
                printf("backing file: %s", qi.backing_name);
                if (d->backing && strcmp(d->backing->path, qi.backing_name) != 0)
                        printf(" (actual path: %s)", d->backing->path);
                printf("\n");
                if (qi.backing_fmt)
                        printf("backing file format: %s\n", qi.backing_fmt);
        }
        if (qi.nb_snapshots) {
                printf("Snapshot list:\n");
                print_snapshots(&qi);
        }
        printf("Format specific information:\n    compat: %s\n", qi.version == 3 ? "1.1" : "0.10");
        if (qi.version == 3)
                printf("    compression type: %s\n    lazy refcounts: %s\n", qi.compression,
                       qi.lazy_refcounts ? "true" : "false");
        printf("    refcount bits: %u\n", qi.refcount_bits);
        if (qi.version == 3)
                printf("    corrupt: %s\n    extended l2: %s\n", qi.corrupt ? "true" : "false",
                       qi.extended_l2 ? "true" : "false");
        return 0;
}

int disk_cmd_info(int argc, char **argv, berth_error_t *err)
{
        enum { OPT_OUTPUT = 256, OPT_CHAIN };
        static const struct option opts[] = {
                {"output", required_argument, NULL, OPT_OUTPUT},
                {"backing-chain", no_argument, NULL, OPT_CHAIN},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        static const struct disk_cli_verb verb = {
                .cmd = "disk info",
                .optstring = "+f:hU",
                .longopts = opts,
                .usage = "Usage: berth disk info [-f FMT] [--output human|json] [--backing-chain] "
                         "FILE\n",
                .operands = 1,
        };
        const char *fmt = NULL;
        bool json = false, chain = false;
        int c;
        while ((c = disk_cli_opt(&verb, argc, argv, &fmt, err)) > 0) {
                switch (c) {
                case OPT_OUTPUT:
                        if (strcmp(optarg, "json") == 0)
                                json = true;
                        else if (strcmp(optarg, "human") != 0)
                                return cli_usage_error(err, verb.cmd, "--output is human or json");
                        break;
                case OPT_CHAIN:
                        chain = true;
                        break;
                }
        }
        if (c < 0)
                return c == DISK_CLI_HELP ? 0 : -1;
        enum disk_format f;
        if (disk_cli_format(fmt, &f, err) < 0)
                return -1;
        struct disk *d = NULL;
        if (disk_open(argv[optind], f, DISK_RDONLY | (chain ? 0 : DISK_NO_BACKING), &d, err) < 0)
                return -1;
        int ret = 0;
        json_t *arr = json_array();
        for (struct disk *l = d; l && ret == 0; l = chain ? l->backing : NULL) {
                if (json) {
                        json_t *j = image_json(l, err);
                        if (j == NULL)
                                ret = -1;
                        else
                                json_array_append_new(arr, j);
                } else {
                        if (l != d)
                                printf("\n");
                        ret = print_info(l, err);
                }
        }
        if (ret == 0 && json) {
                json_t *out = chain ? json_incref(arr) : json_incref(json_array_get(arr, 0));
                disk_cli_print_json(out, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
        }
        json_decref(arr);
        disk_close(d);
        return ret;
}

int disk_cmd_check(int argc, char **argv, berth_error_t *err)
{
        static const struct disk_cli_verb verb = {
                .cmd = "disk check",
                .optstring = "+f:r:qhU",
                .longopts = disk_cli_output_opts,
                .usage = "Usage: berth disk check [-f FMT] [-r leaks|all] [--output human|json] "
                         "FILE\n\n"
                         "Exit status: 0 clean, 2 corruptions, 3 leaked clusters only, 1 the check "
                         "could not run.\n",
                .operands = 1,
        };
        const char *fmt = NULL;
        enum qcow2_repair repair = QCOW2_REPAIR_NONE;
        bool json = false, quiet = false;
        int c;
        while ((c = disk_cli_opt(&verb, argc, argv, &fmt, err)) > 0) {
                switch (c) {
                case 'r':
                        if (strcmp(optarg, "leaks") == 0)
                                repair = QCOW2_REPAIR_LEAKS;
                        else if (strcmp(optarg, "all") == 0)
                                repair = QCOW2_REPAIR_ALL;
                        else
                                return cli_usage_error(err, verb.cmd, "-r is leaks or all");
                        break;
                case 'O':
                        json = strcmp(optarg, "json") == 0;
                        break;
                case 'q':
                        quiet = true;
                        break;
                }
        }
        if (c < 0)
                return c == DISK_CLI_HELP ? 0 : -1;
        enum disk_format f;
        if (disk_cli_format(fmt, &f, err) < 0)
                return -1;
        unsigned flags = (repair ? DISK_FORCE : DISK_RDONLY) | DISK_NO_BACKING | DISK_CHECK;
        struct disk *d = NULL;
        if (disk_open(argv[optind], f, flags, &d, err) < 0) {
                berth_error_report(err, 1);
                return 1;
        }
        if (d->format != DISK_FORMAT_QCOW2) {
                disk_close(d);
                if (!quiet)
                        printf("This image format does not support checks\n");
                return 0;
        }
        struct qcow2_check_result r;
        int ret = qcow2_check(d, repair, &r, quiet || json ? NULL : stdout, err);
        disk_close(d);
        if (ret < 0) {
                berth_error_report(err, 1);
                return 1;
        }
        uint64_t leaks = r.leaks - r.leaks_fixed, bad = r.corruptions - r.corruptions_fixed;
        if (json) {
                json_t *j = json_object();
                json_object_set_new(j, "image-end-offset",
                                    json_integer((json_int_t) r.image_end_offset));
                json_object_set_new(j, "total-clusters",
                                    json_integer((json_int_t) r.total_clusters));
                json_object_set_new(j, "allocated-clusters",
                                    json_integer((json_int_t) r.allocated_clusters));
                json_object_set_new(j, "filename", json_string(argv[optind]));
                json_object_set_new(j, "format", json_string("qcow2"));
                /* qemu-img's keys: corruptions found; check-errors are
                 * failures of the check itself (it then fails outright here) */
                json_object_set_new(j, "corruptions", json_integer((json_int_t) bad));
                json_object_set_new(j, "check-errors", json_integer(0));
                json_object_set_new(j, "leaks", json_integer((json_int_t) leaks));
                json_object_set_new(j, "corruptions-fixed",
                                    json_integer((json_int_t) r.corruptions_fixed));
                json_object_set_new(j, "leaks-fixed", json_integer((json_int_t) r.leaks_fixed));
                disk_cli_print_json(j, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
        } else if (!quiet) {
                if (r.leaks_fixed || r.corruptions_fixed)
                        printf("The following inconsistencies were found and repaired:\n\n"
                               "    %llu leaked clusters\n    %llu corruptions\n\n",
                               (unsigned long long) r.leaks_fixed,
                               (unsigned long long) r.corruptions_fixed);
                if (bad)
                        printf("\n%llu errors were found on the image.\nData may be corrupted, "
                               "or further writes to the image may corrupt it.\n",
                               (unsigned long long) bad);
                if (leaks)
                        printf("\n%llu leaked clusters were found on the image.\nThis means "
                               "waste of disk space, but no harm to data.\n",
                               (unsigned long long) leaks);
                if (!bad && !leaks)
                        printf("No errors were found on the image.\n");
                double pct = r.total_clusters ? 100.0 * (double) r.allocated_clusters /
                                                        (double) r.total_clusters
                                              : 0;
                printf("%llu/%llu = %.2f%% allocated\nImage end offset: %llu\n",
                       (unsigned long long) r.allocated_clusters,
                       (unsigned long long) r.total_clusters, pct,
                       (unsigned long long) r.image_end_offset);
        }
        return bad ? 2 : leaks ? 3 : 0;
}

int disk_cmd_resize(int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {
                {"shrink", no_argument, NULL, 's'},
                {"help", no_argument, NULL, 'h'},
                {0},
        };
        static const struct disk_cli_verb verb = {
                .cmd = "disk resize",
                .optstring = "+f:hq", /* no permutation: "-1G" is a size, not options */
                .longopts = opts,
                .usage = "Usage: berth disk resize [-f FMT] [--shrink] FILE [+|-]SIZE\n",
                .operands = 2,
                .operands_error = "give the image file and the size",
        };
        const char *fmt = NULL;
        bool shrink = false;
        int c;
        while ((c = disk_cli_opt(&verb, argc, argv, &fmt, err)) > 0) {
                if (c == 's')
                        shrink = true;
        }
        if (c < 0)
                return c == DISK_CLI_HELP ? 0 : -1;
        const char *s = argv[optind + 1];
        int sign = *s == '+' ? 1 : *s == '-' ? -1 : 0;
        uint64_t n;
        if (disk_cli_size(sign ? s + 1 : s, &n, err) < 0)
                return -1;
        enum disk_format f;
        if (disk_cli_format(fmt, &f, err) < 0)
                return -1;
        struct disk *d = NULL;
        if (disk_open(argv[optind], f, 0, &d, err) < 0)
                return -1;
        uint64_t size = sign > 0 ? d->size + n : sign < 0 ? (n > d->size ? 0 : d->size - n) : n;
        int ret = 0;
        if (size < d->size && !shrink)
                ret = berth_fail(err, EINVAL,
                                 "shrinking `%s` loses data beyond %llu: pass --shrink to do it",
                                 d->path, (unsigned long long) size);
        if (ret == 0)
                ret = disk_truncate(d, size, err);
        disk_close(d);
        if (ret == 0)
                printf("Image resized.\n");
        return ret;
}

int disk_cmd_snapshot(int argc, char **argv, berth_error_t *err)
{
        static const struct disk_cli_verb verb = {
                .cmd = "disk snapshot",
                .optstring = "+f:c:a:d:lqhU",
                .usage = "Usage: berth disk snapshot [-f FMT] -c NAME|-a NAME|-d NAME|-l FILE\n",
                .operands = 1,
        };
        const char *fmt = NULL, *name = NULL;
        int op = 0;
        int c;
        while ((c = disk_cli_opt(&verb, argc, argv, &fmt, err)) > 0) {
                switch (c) {
                case 'c':
                case 'a':
                case 'd':
                case 'l':
                        if (op)
                                return cli_usage_error(err, verb.cmd, "give one of -c, -a, -d, -l");
                        op = c;
                        name = optarg;
                        break;
                }
        }
        if (c < 0)
                return c == DISK_CLI_HELP ? 0 : -1;
        if (op == 0)
                op = 'l';
        enum disk_format f;
        if (disk_cli_format(fmt, &f, err) < 0)
                return -1;
        struct disk *d = NULL;
        if (disk_open(argv[optind], f, (op == 'l' ? DISK_RDONLY : 0) | DISK_NO_BACKING, &d, err) <
            0)
                return -1;
        int ret;
        struct qcow2_info qi;
        switch (op) {
        case 'c':
                ret = qcow2_snapshot_create(d, name, err);
                break;
        case 'a':
                ret = qcow2_snapshot_apply(d, name, err);
                break;
        case 'd':
                ret = qcow2_snapshot_delete(d, name, err);
                break;
        default:
                ret = qcow2_get_info(d, &qi, err);
                if (ret == 0) {
                        printf("Snapshot list:\n");
                        print_snapshots(&qi);
                }
                break;
        }
        disk_close(d);
        return ret;
}

static const struct {
        const char *name;
        disk_verb_fn fn;
        const char *summary;
} verbs[] = {
        {"create", disk_cmd_create, "create a raw or qcow2 image"},
        {"info", disk_cmd_info, "show an image's format, sizes, backing chain, snapshots"},
        {"check", disk_cmd_check, "check (and repair) a qcow2 image's metadata"},
        {"convert", disk_cmd_convert, "copy an image to another file and format"},
        {"commit", disk_cmd_commit, "write an overlay's changes into its backing file"},
        {"rebase", disk_cmd_rebase, "change an image's backing file"},
        {"resize", disk_cmd_resize, "grow or shrink an image"},
        {"snapshot", disk_cmd_snapshot, "create, list, apply, delete internal snapshots"},
        {"compare", disk_cmd_compare, "compare the contents of two images"},
        {"map", disk_cmd_map, "show where an image's data is"},
        {"bench", disk_cmd_bench,
         "time reads or writes through the block layer (as qemu-img bench)"},
};

static void disk_usage(FILE *out)
{
        fprintf(out, "Usage: berth disk COMMAND [OPTIONS] ...\n\nDisk images (raw, qcow2), "
                     "compatible with qemu-img.\n\nCommands:\n");
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(verbs); i++)
                fprintf(out, "  %-9s %s\n", verbs[i].name, verbs[i].summary);
        fprintf(out, "\nEvery command takes --allow-backing (any backing file: an image from\n"
                     "elsewhere, opened on purpose) or --allow-backing=PATH[:PATH]... (those\n"
                     "files or directories); otherwise an image's backing files must lie in\n"
                     "its own directory.\n");
}

int cmd_disk(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        (void) g;
        if (argc < 2) {
                disk_usage(stderr);
                return BERTH_EXIT_ERROR;
        }
        if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                disk_usage(stdout);
                return 0;
        }
        /* --allow-backing[=PATH[:PATH]...] anywhere among a verb's options:
         * the backing files images may name (docs/disk.md, "Backing files");
         * taken out here so every verb's own options stay as they are. */
        static struct disk_open_opts backing;
        int n = 2;
        for (int i = 2; i < argc; i++) {
                if (strcmp(argv[i], "--") == 0) {
                        while (i < argc)
                                argv[n++] = argv[i++];
                        break;
                }
                if (strcmp(argv[i], "--allow-backing") == 0) {
                        backing.backing_any = true;
                } else if (berth_str_has_prefix(argv[i], "--allow-backing=") && argv[i][16]) {
                        backing.backing_allow = argv[i] + 16;
                } else {
                        argv[n++] = argv[i];
                }
        }
        argc = n;
        disk_set_default_opts(&backing);
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(verbs); i++) {
                if (strcmp(verbs[i].name, argv[1]) != 0)
                        continue;
                optind = 0;
                return verbs[i].fn(argc - 1, argv + 1, err);
        }
        return cli_usage_error(err, "disk", "unknown command `%s`", argv[1]);
}
