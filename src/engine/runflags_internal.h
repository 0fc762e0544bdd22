/* runflags_internal.h — the value parsers behind eng_runflags_parse(), shared between
 * runflags.c (argv and the flag table) and runflags_values.c (the structured values). */
#ifndef BERTH_ENGINE_RUNFLAGS_INTERNAL_H
#define BERTH_ENGINE_RUNFLAGS_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"

/* The status of a refusal that dockerd makes, not its CLI: a marker that eng_runflags_parse
 * turns into 1 for create and 125 for run before it returns (runflags.h). */
#define RF_EXIT_DAEMON 1125

/* -v SRC:DST[:MODE] / -v DST: binds go to HostConfig.Binds, bare destinations (anonymous
 * volumes) to Config.Volumes, as Docker's CLI sorts them. */
int rf_parse_volume(const char *spec, json_t *binds, json_t *volumes, berth_error_t *err);

/* --mount type=bind,source=…,target=…,readonly,… → one HostConfig.Mounts entry. */
int rf_parse_mount(const char *csv, json_t *mounts, berth_error_t *err);

/* --tmpfs /run[:OPTS] → HostConfig.Tmpfs["/run"] = OPTS. */
int rf_parse_tmpfs(const char *spec, json_t *tmpfs, berth_error_t *err);

/* -p [IP:][HOSTPORT:]PORT[/PROTO] → ExposedPorts and PortBindings; --expose PORT[/PROTO]. */
int rf_parse_publish(const char *spec, json_t *exposed, json_t *bindings, berth_error_t *err);
int rf_parse_expose(const char *spec, json_t *exposed, berth_error_t *err);

/* --ulimit NAME=SOFT[:HARD] → {Name, Soft, Hard}, replacing an earlier one of the same name. */
int rf_parse_ulimit(const char *spec, json_t *ulimits, berth_error_t *err);

/* --device HOST[:CONTAINER][:PERMS] → {PathOnHost, PathInContainer, CgroupPermissions}. */
int rf_parse_device(const char *spec, json_t *devices, berth_error_t *err);

/* --blkio-weight-device /dev/X:WEIGHT → {Path, Weight} (weight 10-1000, or 0). */
int rf_parse_weight_device(const char *spec, const char *flag, json_t *list, berth_error_t *err);

/* --device-{read,write}-{bps,iops} /dev/X:RATE → {Path, Rate}; bps rates take Docker's size
 * units (1mb), iops rates are plain numbers. */
int rf_parse_throttle_device(const char *spec, const char *flag, bool iops, json_t *list,
                             berth_error_t *err);

/* A decimal uint16 as Go's strconv.ParseUint(s, 10, 16); *why is its complaint. */
int rf_parse_uint16(const char *s, long long *out, const char **why);

/* --restart no|always|unless-stopped|on-failure[:N] → {Name, MaximumRetryCount}. */
int rf_parse_restart(const char *spec, json_t **policy, berth_error_t *err);

/* --security-opt KEY=VALUE; seccomp=FILE is read now and stored as its JSON, as Docker does. */
int rf_parse_security_opt(const char *spec, json_t *secopts, berth_error_t *err);

/* --env-file / --label-file: KEY=VALUE lines; '#' comments.  For env files a bare KEY takes its
 * value from berth's environment (and is dropped when unset). */
int rf_read_kv_file(const char *path, bool env, json_t *out, berth_error_t *err);

/* --sysctl KEY=VALUE: only the namespaced sysctls Docker allows. */
int rf_check_sysctl(const char *key, berth_error_t *err);
/* Whether name is one of dockerd's own logging drivers (json-file, syslog, journald, …). */
bool rf_docker_log_driver(const char *name);

/* --cpuset-cpus / --cpuset-mems: "0-3,5". */
bool rf_valid_cpuset(const char *s);

/* Docker's names for containers and volumes: [a-zA-Z0-9][a-zA-Z0-9_.-]+ */
bool rf_valid_name(const char *s);

/* The first n bytes of s, newly allocated (aborts on OOM like berth_xstrdup). */
char *rf_strndup(const char *s, size_t n);

/* An IPv4 or IPv6 address. */
bool rf_valid_ip(const char *s);

/* Signal name or number ("SIGTERM", "TERM", "15") → number, or -1. */
int rf_signal_number(const char *s);

#endif
