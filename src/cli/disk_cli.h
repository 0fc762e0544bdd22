/* disk_cli.h — what the files of `berth disk` share: each verb's entry
 * point and small helpers for opening images from the command line. */
#ifndef BERTH_CLI_DISK_CLI_H
#define BERTH_CLI_DISK_CLI_H

#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli/cli.h"
#include "disk/disk.h"

typedef int (*disk_verb_fn)(int argc, char **argv, berth_error_t *err);

int disk_cmd_create(int argc, char **argv, berth_error_t *err);
int disk_cmd_info(int argc, char **argv, berth_error_t *err);
int disk_cmd_check(int argc, char **argv, berth_error_t *err);
int disk_cmd_resize(int argc, char **argv, berth_error_t *err);
int disk_cmd_snapshot(int argc, char **argv, berth_error_t *err);
int disk_cmd_convert(int argc, char **argv, berth_error_t *err);
int disk_cmd_commit(int argc, char **argv, berth_error_t *err);
int disk_cmd_rebase(int argc, char **argv, berth_error_t *err);
int disk_cmd_compare(int argc, char **argv, berth_error_t *err);
int disk_cmd_map(int argc, char **argv, berth_error_t *err);
int disk_cmd_bench(int argc, char **argv, berth_error_t *err);

/* -f/-F/-O values; NULL or "auto" probes. */
int disk_cli_format(const char *s, enum disk_format *out, berth_error_t *err);
/* A size like qemu-img takes: bytes, or with k/M/G/T (binary) suffixes. */
int disk_cli_size(const char *s, uint64_t *out, berth_error_t *err);
/* -o cluster_size=N,compat=0.10|1.1,... into o; cmd names the verb in errors. */
int disk_cli_create_opts(char *s, struct disk_create_opts *o, const char *cmd, berth_error_t *err);

/* What the verbs' option loops share. */
struct disk_cli_verb {
        const char *cmd;               /* "disk map", for errors */
        const char *optstring;         /* getopt's, "+" first */
        const struct option *longopts; /* NULL: short options only */
        const char *usage;             /* what -h prints */
        int operands;                  /* how many after the options; 0: the verb checks */
        const char *operands_error;    /* the usage error when there are not that many (NULL:
                                        * "give one image file") */
};

/* The long options of check and map: --output (as -O) and --help. */
extern const struct option disk_cli_output_opts[];

/* disk_cli_opt's answer when it printed the usage: the verb is done, with status 0. */
#define DISK_CLI_HELP (-2)

/* The verb's next option (getopt_long over argv): > 0 the option for the caller, which passes over
 * those it takes and ignores (qemu-img's -p, -q, -U); 0 at the end of the options, operands
 * counted; DISK_CLI_HELP when -h printed the usage; -1 with err set.  -f FMT goes to *fmt, unless
 * fmt is NULL (then it is the caller's). */
int disk_cli_opt(const struct disk_cli_verb *v, int argc, char **argv, const char **fmt,
                 berth_error_t *err);

/* j as JSON (json_dumps flags), a newline after; takes j. */
void disk_cli_print_json(json_t *j, size_t flags);

#endif
