/* disk_cli.h — what the files of `berth disk` share: each verb's entry
 * point and small helpers for opening images from the command line. */
#ifndef BERTH_CLI_DISK_CLI_H
#define BERTH_CLI_DISK_CLI_H

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

#endif
