/* runflags_values.c — the structured values of `berth run` flags (volumes, mounts, ports,
 * ulimits, devices, restart policies, security options, env/label files), checked with Docker's
 * rules and messages and turned into the JSON shapes `docker inspect` shows. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/signals.h"
#include "common/units.h"
#include "common/util.h"
#include "engine/runflags.h"
#include "engine/runflags_internal.h"

#define USAGE(err, ...) berth_fail_status(err, 125, 0, __VA_ARGS__)
/* a check dockerd makes, not its CLI: 1 for create, 125 for run (runflags_internal.h) */
#define DAEMON(err, ...) berth_fail_status(err, RF_EXIT_DAEMON, 0, __VA_ARGS__)

char *rf_strndup(const char *s, size_t n)
{
        size_t len = strnlen(s, n);
        char *d = berth_xmalloc(len + 1);
        memcpy(d, s, len);
        d[len] = '\0';
        return d;
}

bool rf_valid_name(const char *s)
{
        if (s == NULL || !isalnum((unsigned char) s[0]) || s[1] == '\0')
                return false;
        for (const char *p = s + 1; *p; p++)
                if (!isalnum((unsigned char) *p) && *p != '_' && *p != '.' && *p != '-')
                        return false;
        return true;
}

bool rf_valid_ip(const char *s)
{
        unsigned char buf[16];
        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

bool rf_valid_cpuset(const char *s)
{
        const char *p = s;
        if (*p == '\0')
                return false;
        while (*p) {
                char *end;
                if (!isdigit((unsigned char) *p))
                        return false;
                unsigned long a = strtoul(p, &end, 10), b = a;
                p = end;
                if (*p == '-') {
                        if (!isdigit((unsigned char) p[1]))
                                return false;
                        b = strtoul(p + 1, &end, 10);
                        p = end;
                }
                if (b < a || b > 8192)
                        return false;
                if (*p == ',' && p[1] != '\0')
                        p++;
                else if (*p != '\0')
                        return false;
        }
        return true;
}

int rf_signal_number(const char *s)
{
        return berth_signal_number(s);
}

/* Split on ':' into at most max parts; returns the count or -1 when there are more. */
static int split_colon(char *s, char **parts, int max)
{
        int n = 0;
        for (char *p = s;;) {
                if (n == max)
                        return -1;
                parts[n++] = p;
                char *c = strchr(p, ':');
                if (c == NULL)
                        return n;
                *c = '\0';
                p = c + 1;
        }
}

static bool is_propagation(const char *m)
{
        static const char *const p[] = {"shared", "rshared", "slave",
                                        "rslave", "private", "rprivate"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(p); i++)
                if (strcmp(m, p[i]) == 0)
                        return true;
        return false;
}

/* The mode of -v: rw|ro, z|Z, a propagation, nocopy, a consistency; each at most once. */
static bool valid_mode(const char *mode, bool bind)
{
        cleanup_free char *copy = berth_xstrdup(mode);
        int rw = 0, label = 0, prop = 0, copymode = 0, cons = 0;
        char *save = NULL;
        if (*mode == '\0')
                return false;
        for (char *m = strtok_r(copy, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
                if (strcmp(m, "rw") == 0 || strcmp(m, "ro") == 0)
                        rw++;
                else if (strcmp(m, "z") == 0 || strcmp(m, "Z") == 0)
                        label++;
                else if (is_propagation(m) && bind)
                        prop++;
                else if (strcmp(m, "nocopy") == 0 && !bind)
                        copymode++;
                else if (strcmp(m, "consistent") == 0 || strcmp(m, "cached") == 0 ||
                         strcmp(m, "delegated") == 0)
                        cons++;
                else
                        return false;
        }
        return rw <= 1 && label <= 1 && prop <= 1 && copymode <= 1 && cons <= 1;
}

/* A mount's destination, checked as dockerd does (so 1 for create): -v's errors name the whole
 * spec first (spec), --tmpfs's no mount type (type NULL). */
static int check_target(const char *type, const char *dst, const char *spec, berth_error_t *err)
{
        cleanup_free char *why = NULL;
        if (dst[0] != '/')
                why = berth_xasprintf("invalid mount path: '%s' mount path must be absolute", dst);
        else if (strcmp(dst, "/") == 0)
                why = berth_xstrdup("invalid specification: destination can't be '/'");
        else
                return 0;
        if (type == NULL)
                return DAEMON(err, "%s", why);
        if (spec)
                return DAEMON(err,
                              "invalid volume specification: '%s': invalid mount config for type "
                              "\"%s\": %s",
                              spec, type, why);
        return DAEMON(err, "invalid mount config for type \"%s\": %s", type, why);
}

int rf_parse_volume(const char *spec, json_t *binds, json_t *volumes, berth_error_t *err)
{
        cleanup_free char *copy = berth_xstrdup(spec);
        char *parts[3];
        int n = split_colon(copy, parts, 3);
        if (n < 0)
                return USAGE(err, "invalid volume specification: '%s'", spec);
        for (int i = 0; i < n; i++)
                if (parts[i][0] == '\0')
                        return USAGE(err, "invalid spec: %s: empty section between colons", spec);
        if (n == 1) {
                if (check_target("volume", parts[0], spec, err) < 0)
                        return -1;
                json_object_set_new(volumes, parts[0], json_object());
                return 0;
        }
        if (n == 2 && (valid_mode(parts[1], true) || valid_mode(parts[1], false)))
                return USAGE(err, "invalid volume specification: '%s'", spec);
        const char *src = parts[0], *dst = parts[1];
        bool bind = src[0] == '/';
        if (!bind && !rf_valid_name(src))
                return DAEMON(err,
                              "create %s: \"%s\" includes invalid characters for a local volume "
                              "name, only "
                              "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass "
                              "a host directory, use absolute path",
                              src, src);
        if (check_target(bind ? "bind" : "volume", dst, spec, err) < 0)
                return -1;
        if (n == 3 && !valid_mode(parts[2], bind))
                return DAEMON(err, "invalid mode: %s", parts[2]);
        json_array_append_new(binds, json_string(spec));
        return 0;
}

static int parse_bool_word(const char *v, bool *out)
{
        if (v == NULL || strcmp(v, "1") == 0 || strcasecmp(v, "true") == 0)
                return *out = true, 0;
        if (strcmp(v, "0") == 0 || strcasecmp(v, "false") == 0)
                return *out = false, 0;
        return -1;
}

static json_t *sub(json_t *o, const char *k)
{
        json_t *v = json_object_get(o, k);
        if (v == NULL) {
                v = json_object();
                json_object_set_new(o, k, v);
        }
        return v;
}

int rf_parse_mount(const char *csv, json_t *mounts, berth_error_t *err)
{
        cleanup_free char *copy = berth_xstrdup(csv);
        json_t *m = json_pack("{s:s}", "Type", "volume");
        char *save = NULL;
        bool ro = false;
        for (char *f = strtok_r(copy, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(f, '=');
                if (eq)
                        *eq = '\0';
                const char *k = f, *v = eq ? eq + 1 : NULL;
                if (strcmp(k, "readonly") == 0 || strcmp(k, "ro") == 0) {
                        if (parse_bool_word(v, &ro) < 0)
                                goto bad_value;
                        continue;
                }
                if (v == NULL &&
                    (strcmp(k, "volume-nocopy") == 0 || strcmp(k, "bind-nonrecursive") == 0))
                        v = "true"; /* Docker's bare boolean keys */
                if (v == NULL) {
                        json_decref(m);
                        return USAGE(err, "invalid field '%s' must be a key=value pair", f);
                }
                if (strcmp(k, "type") == 0) {
                        if (strcmp(v, "bind") != 0 && strcmp(v, "volume") != 0 &&
                            strcmp(v, "tmpfs") != 0) {
                                json_decref(m);
                                /* dockerd refuses it (the CLI passes any type): in its words
                                 * where Docker has no such type either */
                                if (strcmp(v, "npipe") != 0 && strcmp(v, "cluster") != 0 &&
                                    strcmp(v, "image") != 0)
                                        return DAEMON(err,
                                                      "invalid mount config for type \"%s\": "
                                                      "mount type unknown",
                                                      v);
                                return DAEMON(err,
                                              "invalid mount type \"%s\": berth supports "
                                              "bind, volume and tmpfs",
                                              v);
                        }
                        json_object_set_new(m, "Type", json_string(v));
                } else if (strcmp(k, "source") == 0 || strcmp(k, "src") == 0) {
                        json_object_set_new(m, "Source", json_string(v));
                } else if (strcmp(k, "target") == 0 || strcmp(k, "destination") == 0 ||
                           strcmp(k, "dst") == 0) {
                        json_object_set_new(m, "Target", json_string(v));
                } else if (strcmp(k, "bind-propagation") == 0) {
                        if (!is_propagation(v))
                                goto bad_value;
                        json_object_set_new(sub(m, "BindOptions"), "Propagation", json_string(v));
                } else if (strcmp(k, "bind-nonrecursive") == 0) {
                        bool b;
                        if (parse_bool_word(v, &b) < 0)
                                goto bad_value;
                        json_object_set_new(sub(m, "BindOptions"), "NonRecursive", json_boolean(b));
                } else if (strcmp(k, "volume-nocopy") == 0) {
                        bool b;
                        if (parse_bool_word(v, &b) < 0)
                                goto bad_value;
                        json_object_set_new(sub(m, "VolumeOptions"), "NoCopy", json_boolean(b));
                } else if (strcmp(k, "volume-label") == 0 || strcmp(k, "volume-opt") == 0) {
                        const char *e2 = strchr(v, '=');
                        cleanup_free char *lk =
                                e2 ? rf_strndup(v, (size_t) (e2 - v)) : berth_xstrdup(v);
                        json_t *dst = strcmp(k, "volume-label") == 0
                                              ? sub(sub(m, "VolumeOptions"), "Labels")
                                              : sub(sub(sub(m, "VolumeOptions"), "DriverConfig"),
                                                    "Options");
                        json_object_set_new(dst, lk, json_string(e2 ? e2 + 1 : ""));
                } else if (strcmp(k, "volume-driver") == 0) {
                        if (strcmp(v, "local") != 0)
                                goto bad_value;
                        json_object_set_new(sub(sub(m, "VolumeOptions"), "DriverConfig"), "Name",
                                            json_string(v));
                } else if (strcmp(k, "tmpfs-size") == 0) {
                        int64_t b;
                        if (berth_parse_bytes(v, "--mount tmpfs-size", &b, err) < 0) {
                                json_decref(m);
                                if ((*err)->status == 0)
                                        (*err)->status = 125;
                                return -1;
                        }
                        json_object_set_new(sub(m, "TmpfsOptions"), "SizeBytes", json_integer(b));
                } else if (strcmp(k, "tmpfs-mode") == 0) {
                        char *end;
                        long mode = strtol(v, &end, 8);
                        if (*v == '\0' || *end != '\0' || mode < 0 || mode > 07777)
                                goto bad_value;
                        json_object_set_new(sub(m, "TmpfsOptions"), "Mode", json_integer(mode));
                } else if (strcmp(k, "consistency") == 0) {
                        json_object_set_new(m, "Consistency", json_string(v));
                } else {
                        json_decref(m);
                        return USAGE(err, "unexpected key '%s' in '%s=%s'", k, k, v);
                }
                continue;
        bad_value:
                json_decref(m);
                return USAGE(err, "invalid value for %s: %s", k, v ? v : "");
        }
        if (ro)
                json_object_set_new(m, "ReadOnly", json_true());
        const char *type = json_string_value(json_object_get(m, "Type"));
        const char *target = json_string_value(json_object_get(m, "Target"));
        const char *source = json_string_value(json_object_get(m, "Source"));
        const char *why = NULL;
        if (target == NULL)
                why = "target is required";
        else if (strcmp(type, "bind") == 0 && (source == NULL || *source == '\0'))
                why = "invalid mount config for type \"bind\": field Source must not be empty";
        else if (strcmp(type, "bind") == 0 && source[0] != '/')
                why = "invalid mount config for type \"bind\": invalid mount path: source must "
                      "be absolute";
        else if (strcmp(type, "tmpfs") == 0 && source != NULL)
                why = "invalid mount config for type \"tmpfs\": field Source must not be "
                      "specified";
        else if (strcmp(type, "volume") == 0 && source && *source && !rf_valid_name(source))
                why = "invalid mount config for type \"volume\": invalid volume name";
        else if (strcmp(type, "bind") != 0 && json_object_get(m, "BindOptions"))
                why = "cannot mix 'bind-*' options with mount type other than 'bind'";
        else if (strcmp(type, "volume") != 0 && json_object_get(m, "VolumeOptions"))
                why = "cannot mix 'volume-*' options with mount type other than 'volume'";
        else if (strcmp(type, "tmpfs") != 0 && json_object_get(m, "TmpfsOptions"))
                why = "cannot mix 'tmpfs-*' options with mount type other than 'tmpfs'";
        if (why) {
                json_decref(m);
                return USAGE(err, "invalid argument \"%s\" for \"--mount\" flag: %s", csv, why);
        }
        if (check_target(type, target, NULL, err) < 0) {
                json_decref(m);
                return -1;
        }
        json_array_append_new(mounts, m);
        return 0;
}

int rf_parse_tmpfs(const char *spec, json_t *tmpfs, berth_error_t *err)
{
        const char *colon = strchr(spec, ':');
        cleanup_free char *dst =
                colon ? rf_strndup(spec, (size_t) (colon - spec)) : berth_xstrdup(spec);
        if (check_target(NULL, dst, NULL, err) < 0)
                return -1;
        json_object_set_new(tmpfs, dst, json_string(colon ? colon + 1 : ""));
        return 0;
}

/* "80", "8000-8010" → first and last; 1..65535. */
static int port_range(const char *s, unsigned *lo, unsigned *hi)
{
        char *end;
        if (!isdigit((unsigned char) *s))
                return -1;
        unsigned long a = strtoul(s, &end, 10), b = a;
        if (*end == '-') {
                if (!isdigit((unsigned char) end[1]))
                        return -1;
                b = strtoul(end + 1, &end, 10);
        }
        if (*end != '\0' || a == 0 || a > 65535 || b < a || b > 65535)
                return -1;
        *lo = (unsigned) a;
        *hi = (unsigned) b;
        return 0;
}

static int split_proto(const char *spec, char **port, const char **proto)
{
        const char *slash = strrchr(spec, '/');
        *proto = "tcp";
        if (slash) {
                *proto = slash + 1;
                if (strcmp(*proto, "tcp") != 0 && strcmp(*proto, "udp") != 0 &&
                    strcmp(*proto, "sctp") != 0)
                        return -1;
        }
        *port = slash ? rf_strndup(spec, (size_t) (slash - spec)) : berth_xstrdup(spec);
        return 0;
}

/* Why Go's nat.ParsePortRange refuses port (START or START-END), in its words, which the docker
 * CLI appends to its --expose error; NULL where it would not refuse it. */
static char *go_port_range_why(const char *port)
{
        const char *dash = strchr(port, '-');
        cleanup_free char *start =
                dash ? rf_strndup(port, (size_t) (dash - port)) : berth_xstrdup(port);
        cleanup_free char *end = NULL;
        if (dash) {
                const char *next = strchr(dash + 1, '-');
                end = next ? rf_strndup(dash + 1, (size_t) (next - dash - 1))
                           : berth_xstrdup(dash + 1);
        }
        const char *parts[2] = {start, end};
        unsigned long v[2] = {0, 0};
        for (int i = 0; i < 2 && parts[i]; i++) {
                const char *p = parts[i];
                if (*p == '\0' || strspn(p, "0123456789") != strlen(p))
                        return berth_xasprintf("strconv.ParseUint: parsing \"%s\": invalid syntax",
                                               p);
                v[i] = strlen(p) > 5 ? 65536 : strtoul(p, NULL, 10);
                if (v[i] > 65535)
                        return berth_xasprintf(
                                "strconv.ParseUint: parsing \"%s\": value out of range", p);
        }
        if (end && v[1] < v[0])
                return berth_xasprintf("invalid range specified for port: %s", port);
        return NULL;
}

int rf_parse_expose(const char *spec, json_t *exposed, berth_error_t *err)
{
        cleanup_free char *port = NULL;
        const char *proto;
        unsigned lo, hi;
        if (split_proto(spec, &port, &proto) < 0 || port_range(port, &lo, &hi) < 0) {
                cleanup_free char *why = port ? go_port_range_why(port) : NULL;
                if (why)
                        return USAGE(err, "invalid range format for --expose: %s, error: %s", spec,
                                     why);
                return USAGE(err, "invalid range format for --expose: %s", spec);
        }
        for (unsigned p = lo; p <= hi; p++) {
                char key[32];
                snprintf(key, sizeof(key), "%u/%s", p, proto);
                json_object_set_new(exposed, key, json_object());
        }
        return 0;
}

int rf_parse_publish(const char *spec, json_t *exposed, json_t *bindings, berth_error_t *err)
{
        cleanup_free char *rest = NULL;
        const char *proto;
        if (split_proto(spec, &rest, &proto) < 0)
                return USAGE(err, "invalid proto: %s", proto);
        /* from the right: container port, then host port, then the IP (which may be [v6]) */
        char *cport = strrchr(rest, ':');
        char *hport = NULL, *ip = NULL;
        if (cport) {
                *cport++ = '\0';
                hport = strrchr(rest, ':');
                if (hport) {
                        *hport++ = '\0';
                        ip = rest;
                } else {
                        hport = rest;
                }
        } else {
                cport = rest;
        }
        if (ip) {
                size_t l = strlen(ip);
                if (l >= 2 && ip[0] == '[' && ip[l - 1] == ']') {
                        ip[l - 1] = '\0';
                        ip++;
                }
                if (*ip && !rf_valid_ip(ip))
                        return USAGE(err, "invalid IP address: %s", ip);
        }
        unsigned clo, chi, hlo = 0, hhi = 0;
        if (port_range(cport, &clo, &chi) < 0)
                return USAGE(err, "invalid containerPort: %s", cport);
        if (hport && *hport && port_range(hport, &hlo, &hhi) < 0)
                return USAGE(err, "invalid hostPort: %s", hport);
        bool host_range = hport && *hport && hhi != hlo;
        if (chi != clo && hport && *hport && hhi - hlo != chi - clo)
                return USAGE(err,
                             "invalid ranges specified for container and host Ports: %s "
                             "and %s",
                             cport, hport);
        for (unsigned p = clo; p <= chi; p++) {
                char key[32], hp[16] = "";
                snprintf(key, sizeof(key), "%u/%s", p, proto);
                json_object_set_new(exposed, key, json_object());
                if (host_range && chi == clo)
                        snprintf(hp, sizeof(hp), "%u-%u", hlo, hhi);
                else if (hport && *hport)
                        snprintf(hp, sizeof(hp), "%u", hlo + (p - clo));
                json_t *list = json_object_get(bindings, key);
                if (list == NULL) {
                        list = json_array();
                        json_object_set_new(bindings, key, list);
                }
                json_array_append_new(
                        list, json_pack("{s:s, s:s}", "HostIp", ip ? ip : "", "HostPort", hp));
        }
        return 0;
}

static const char *const ulimit_names[] = {
        "core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue", "nice",
        "nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack",
};

/* One limit of --ulimit; a number that isn't one fails in Go's strconv words, as Docker's
 * CLI (go-units) says it. */
static int parse_limit(const char *spec, const char *s, long long *out, berth_error_t *err)
{
        char *end;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (*s == '\0' || isspace((unsigned char) *s) || *end != '\0' || (errno && errno != ERANGE))
                return USAGE(err, "strconv.ParseInt: parsing \"%s\": invalid syntax", s);
        if (errno == ERANGE)
                return USAGE(err, "strconv.ParseInt: parsing \"%s\": value out of range", s);
        if (v < -1)
                return USAGE(err, "invalid ulimit argument: %s", spec);
        *out = v;
        return 0;
}

int rf_parse_ulimit(const char *spec, json_t *ulimits, berth_error_t *err)
{
        const char *eq = strchr(spec, '=');
        if (eq == NULL || eq == spec)
                return USAGE(err, "invalid ulimit argument: %s", spec);
        cleanup_free char *name = rf_strndup(spec, (size_t) (eq - spec));
        bool known = false;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(ulimit_names); i++)
                known |= strcmp(name, ulimit_names[i]) == 0;
        if (!known)
                return USAGE(err, "invalid ulimit type: %s", name);
        cleanup_free char *vals = berth_xstrdup(eq + 1);
        char *colon = strchr(vals, ':');
        if (colon)
                *colon = '\0';
        long long soft, hard;
        /* go-units reads the hard limit first */
        if ((colon && parse_limit(spec, colon + 1, &hard, err) < 0) ||
            parse_limit(spec, vals, &soft, err) < 0)
                return -1;
        if (!colon)
                hard = soft;
        /* -1 is unlimited, the largest of all */
        if (hard != -1 && (soft == -1 || soft > hard))
                return USAGE(err,
                             "ulimit soft limit must be less than or equal to hard limit: "
                             "%lld > %lld",
                             soft, hard);
        size_t i;
        json_t *u;
        json_array_foreach(ulimits, i, u)
        {
                if (strcmp(json_string_value(json_object_get(u, "Name")), name) == 0) {
                        json_array_remove(ulimits, i);
                        break;
                }
        }
        json_array_append_new(ulimits, json_pack("{s:s, s:I, s:I}", "Name", name, "Hard",
                                                 (json_int_t) hard, "Soft", (json_int_t) soft));
        return 0;
}

static bool valid_perms(const char *p)
{
        return *p && strlen(p) <= 3 && strspn(p, "rwm") == strlen(p);
}

int rf_parse_device(const char *spec, json_t *devices, berth_error_t *err)
{
        cleanup_free char *copy = berth_xstrdup(spec);
        char *parts[3];
        int n = split_colon(copy, parts, 3);
        if (n < 0)
                return USAGE(err, "invalid device specification: %s", spec);
        const char *src = parts[0], *dst = parts[0], *perms = "rwm";
        if (n == 2) {
                if (valid_perms(parts[1]))
                        perms = parts[1];
                else
                        dst = parts[1];
        } else if (n == 3) {
                dst = parts[1];
                perms = parts[2];
                if (!valid_perms(perms))
                        return USAGE(err, "invalid device mode: %s", perms);
        }
        if (src[0] != '/')
                return USAGE(err, "bad format for path: %s", src);
        if (dst[0] != '/')
                return USAGE(err, "bad format for path: %s", dst);
        json_array_append_new(devices,
                              json_pack("{s:s, s:s, s:s}", "PathOnHost", src, "PathInContainer",
                                        dst, "CgroupPermissions", perms));
        return 0;
}

int rf_parse_restart(const char *spec, json_t **policy, berth_error_t *err)
{
        const char *colon = strchr(spec, ':');
        cleanup_free char *name =
                colon ? rf_strndup(spec, (size_t) (colon - spec)) : berth_xstrdup(spec);
        long long max = 0;
        if (colon == spec)
                return USAGE(err, "invalid restart policy format: no policy provided before "
                                  "colon");
        if (colon) {
                char *end;
                errno = 0;
                max = strtoll(colon + 1, &end, 10);
                if (colon[1] == '\0' || *end != '\0' || errno)
                        return USAGE(err, "invalid restart policy format: maximum retry count "
                                          "must be an integer");
        }
        if (*name == '\0') {
                free(name);
                name = berth_xstrdup("no");
        }
        if (strcmp(name, "no") != 0 && strcmp(name, "always") != 0 &&
            strcmp(name, "unless-stopped") != 0 && strcmp(name, "on-failure") != 0)
                return DAEMON(err, "invalid restart policy '%s'", name);
        if (max != 0 && strcmp(name, "on-failure") != 0)
                return DAEMON(err, "maximum retry count cannot be used with restart policy '%s'",
                              name);
        if (max < 0)
                return DAEMON(err, "maximum retry count cannot be negative");
        *policy = json_pack("{s:s, s:I}", "Name", name, "MaximumRetryCount", (json_int_t) max);
        return 0;
}

int rf_parse_security_opt(const char *spec, json_t *secopts, berth_error_t *err)
{
        const char *sep = strpbrk(spec, "=:");
        size_t klen = sep ? (size_t) (sep - spec) : strlen(spec);
        const char *v = sep ? sep + 1 : NULL;
        if (klen == 7 && strncmp(spec, "seccomp", 7) == 0 && v) {
                if (strcmp(v, "unconfined") == 0) {
                        json_array_append_new(secopts, json_string("seccomp=unconfined"));
                        return 0;
                }
                /* Docker keeps the profile's text, not its path: the container keeps working
                 * after the file changes or goes */
                cleanup_free char *text = NULL;
                size_t len;
                if (berth_read_file(v, &text, &len, err) < 0) {
                        (*err)->status = 125;
                        return berth_wrap(err, "opening seccomp profile (%s) failed", v);
                }
                json_error_t jerr;
                json_t *p = json_loadb(text, len, 0, &jerr);
                if (!json_is_object(p)) {
                        json_decref(p);
                        return USAGE(err, "decoding seccomp profile (%s) failed: %s", v, jerr.text);
                }
                char *compact = json_dumps(p, JSON_COMPACT | JSON_PRESERVE_ORDER);
                json_decref(p);
                json_array_append_new(secopts, json_sprintf("seccomp=%s", compact));
                free(compact);
                return 0;
        }
        if (klen == 17 && strncmp(spec, "no-new-privileges", 17) == 0) {
                bool b;
                if (parse_bool_word(v, &b) < 0)
                        return USAGE(err, "invalid --security-opt 2: \"%s\"", spec);
                json_array_append_new(secopts, json_string(b ? "no-new-privileges=true"
                                                             : "no-new-privileges=false"));
                return 0;
        }
        if (v && ((klen == 5 && strncmp(spec, "label", 5) == 0) ||
                  (klen == 8 && strncmp(spec, "apparmor", 8) == 0) ||
                  (klen == 11 && strncmp(spec, "systempaths", 11) == 0 &&
                   strcmp(v, "unconfined") == 0))) {
                json_array_append_new(secopts, json_sprintf("%.*s=%s", (int) klen, spec, v));
                return 0;
        }
        return USAGE(err, "invalid --security-opt 2: \"%s\"", spec);
}

int rf_read_kv_file(const char *path, bool env, json_t *out, berth_error_t *err)
{
        cleanup_file FILE *f = fopen(path, "re");
        if (f == NULL) {
                /* Docker's words: Go's error text, lowercase ("open x: no such file or
                 * directory") */
                int e = errno;
                cleanup_free char *why = berth_xstrdup(strerror(e));
                why[0] = (char) tolower((unsigned char) why[0]);
                return berth_fail_status(err, 125, 0, "open %s: %s", path, why);
        }
        cleanup_free char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, f)) >= 0) {
                while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
                        line[--n] = '\0';
                char *l = line;
                while (isspace((unsigned char) *l))
                        l++;
                if (*l == '\0' || *l == '#')
                        continue;
                char *eq = strchr(l, '=');
                size_t klen = eq ? (size_t) (eq - l) : strlen(l);
                for (size_t i = 0; i < klen; i++)
                        if (isspace((unsigned char) l[i]))
                                return berth_fail_status(err, 125, 0,
                                                         "variable '%.*s' contains whitespaces",
                                                         (int) klen, l);
                if (eq || !env) {
                        json_array_append_new(out, json_string(l));
                        continue;
                }
                const char *hv = getenv(l);
                if (hv)
                        json_array_append_new(out, json_sprintf("%s=%s", l, hv));
        }
        return 0;
}

bool rf_docker_log_driver(const char *name)
{
        static const char *const drivers[] = {"json-file", "local",   "syslog",     "journald",
                                              "gelf",      "fluentd", "awslogs",    "splunk",
                                              "etwlogs",   "gcplogs", "logentries", "none"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(drivers); i++)
                if (strcmp(name, drivers[i]) == 0)
                        return true;
        return false;
}

int rf_check_sysctl(const char *key, berth_error_t *err)
{
        static const char *const exact[] = {
                "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
        };
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(exact); i++)
                if (strcmp(key, exact[i]) == 0)
                        return 0;
        if (berth_str_has_prefix(key, "fs.mqueue.") || berth_str_has_prefix(key, "net."))
                return 0;
        return USAGE(err, "sysctl '%s' is not allowed", key);
}

int rf_parse_uint16(const char *s, long long *out, const char **why)
{
        if (*s == '\0' || strspn(s, "0123456789") != strlen(s)) {
                *why = "invalid syntax";
                return -1;
        }
        errno = 0;
        unsigned long long v = strtoull(s, NULL, 10);
        if (errno == ERANGE || v > UINT16_MAX) {
                *why = "value out of range";
                return -1;
        }
        *out = (long long) v;
        return 0;
}

/* The DEVICE:VALUE split shared by the block IO flags; *path is malloc'ed. */
static int blkio_split(const char *spec, const char *flag, char **path, const char **value,
                       berth_error_t *err)
{
        const char *colon = strchr(spec, ':');
        if (colon == NULL)
                return USAGE(err, "invalid argument \"%s\" for \"--%s\" flag: bad format: %s", spec,
                             flag, spec);
        if (strncmp(spec, "/dev/", 5) != 0)
                return USAGE(err,
                             "invalid argument \"%s\" for \"--%s\" flag: bad format for device "
                             "path: %s",
                             spec, flag, spec);
        *path = rf_strndup(spec, (size_t) (colon - spec));
        *value = colon + 1;
        return 0;
}

int rf_parse_weight_device(const char *spec, const char *flag, json_t *list, berth_error_t *err)
{
        cleanup_free char *path = NULL;
        const char *value = "", *why;
        long long w = 0;
        if (blkio_split(spec, flag, &path, &value, err) < 0)
                return -1;
        if (rf_parse_uint16(value, &w, &why) < 0 || (w > 0 && (w < 10 || w > 1000)))
                return USAGE(err,
                             "invalid argument \"%s\" for \"--%s\" flag: invalid weight for "
                             "device: %s",
                             spec, flag, spec);
        json_array_append_new(list, json_pack("{s:s, s:I}", "Path", path, "Weight", w));
        return 0;
}

int rf_parse_throttle_device(const char *spec, const char *flag, bool iops, json_t *list,
                             berth_error_t *err)
{
        cleanup_free char *path = NULL;
        const char *value = "";
        int64_t rate = 0;
        bool ok;
        if (blkio_split(spec, flag, &path, &value, err) < 0)
                return -1;
        if (iops) {
                char *end;
                errno = 0;
                unsigned long long v = strtoull(value, &end, 10);
                ok = isdigit((unsigned char) *value) && *end == '\0' && errno == 0 &&
                     v <= INT64_MAX;
                rate = (int64_t) v;
        } else {
                berth_error_t ignored = NULL;
                ok = berth_parse_bytes(value, flag, &rate, &ignored) == 0;
                berth_error_release(&ignored);
        }
        if (!ok)
                return USAGE(err,
                             "invalid argument \"%s\" for \"--%s\" flag: invalid rate for device: "
                             "%s. The correct format is <device-path>:<number>%s. Number must be a "
                             "positive integer%s",
                             spec, flag, spec, iops ? "" : "[<unit>]",
                             iops ? "" : ". Unit is optional and can be kb, mb, or gb");
        json_array_append_new(list,
                              json_pack("{s:s, s:I}", "Path", path, "Rate", (json_int_t) rate));
        return 0;
}
