/* seccomp.c — linux.seccomp for containers: berth's default policy (an allow list made at run
 * time from every system call libseccomp knows, minus the deny list in data/seccomp-default.json
 * that is compiled into the binary), and Docker-format profiles (--security-opt seccomp=FILE),
 * both filtered by the container's capabilities and architecture the way Docker filters them. */
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "common/util.h"
#include "engine/caps.h"
#include "engine/spec.h"

/* data/seccomp-default.json, embedded at build time (scripts/embed.py) */
extern const char eng_seccomp_data[];
extern const unsigned long eng_seccomp_data_len;

/* The highest syscall number worth asking libseccomp about on x86 (the table ends near 460). */
#define SYSCALL_SCAN_MAX 1024
#define SCAN_GAP         160

static bool all_caps_in(json_t *need, json_t *caps)
{
        size_t i;
        json_t *v;
        json_array_foreach(need, i, v)
        {
                const char *c = eng_cap_normalize(json_string_value(v));
                if (c == NULL || !eng_caps_has(caps, c))
                        return false;
        }
        return true;
}

static bool any_cap_in(json_t *list, json_t *caps)
{
        size_t i;
        json_t *v;
        json_array_foreach(list, i, v)
        {
                const char *c = eng_cap_normalize(json_string_value(v));
                if (c && eng_caps_has(caps, c))
                        return true;
        }
        return false;
}

/* Docker names this machine's arches amd64 (native), x86 and x32 (compat). */
static bool arch_in(json_t *list)
{
        size_t i;
        json_t *v;
        json_array_foreach(list, i, v)
        {
                const char *a = json_string_value(v);
                if (a && (strcmp(a, "amd64") == 0 || strcmp(a, "x86_64") == 0 ||
                          strcmp(a, "SCMP_ARCH_X86_64") == 0))
                        return true;
        }
        return false;
}

static bool kernel_at_least(const char *want)
{
        struct utsname u;
        unsigned a = 0, b = 0, x = 0, y = 0;
        if (uname(&u) < 0 || sscanf(u.release, "%u.%u", &a, &b) < 1 ||
            sscanf(want, "%u.%u", &x, &y) < 1)
                return true;
        return a > x || (a == x && b >= y);
}

/* Does a Docker rule apply to this container (includes/excludes: caps, arches, minKernel)? */
static bool rule_applies(json_t *rule, json_t *caps)
{
        json_t *inc = json_object_get(rule, "includes");
        json_t *exc = json_object_get(rule, "excludes");
        json_t *v;
        if ((v = json_object_get(inc, "caps")) && json_array_size(v) && !all_caps_in(v, caps))
                return false;
        if ((v = json_object_get(inc, "arches")) && json_array_size(v) && !arch_in(v))
                return false;
        if ((v = json_object_get(inc, "minKernel")) && json_is_string(v) &&
            !kernel_at_least(json_string_value(v)))
                return false;
        if ((v = json_object_get(exc, "caps")) && any_cap_in(v, caps))
                return false;
        if ((v = json_object_get(exc, "arches")) && arch_in(v))
                return false;
        return true;
}

static json_t *architectures(json_t *profile)
{
        json_t *arches = json_object_get(profile, "architectures");
        if (json_is_array(arches) && json_array_size(arches))
                return json_deep_copy(arches);
        json_t *out = json_array();
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(profile, "archMap"), i, m)
        {
                if (strcmp(json_string_value(json_object_get(m, "architecture")) ?: "",
                           "SCMP_ARCH_X86_64") != 0)
                        continue;
                json_array_append(out, json_object_get(m, "architecture"));
                json_array_extend(out, json_object_get(m, "subArchitectures"));
        }
        return out;
}

int eng_seccomp_from_docker(json_t *profile, json_t *caps, json_t **out, berth_error_t *err)
{
        const char *def = json_string_value(json_object_get(profile, "defaultAction"));
        if (def == NULL)
                return berth_fail_status(err, 125, 0, "seccomp profile: defaultAction is missing");
        json_t *sc = json_pack("{s:s, s:o}", "defaultAction", def, "architectures",
                               architectures(profile));
        json_t *v;
        if ((v = json_object_get(profile, "defaultErrnoRet")))
                json_object_set(sc, "defaultErrnoRet", v);
        if ((v = json_object_get(profile, "flags")) && json_array_size(v))
                json_object_set(sc, "flags", v);
        json_t *syscalls = json_array();
        size_t i;
        json_t *rule;
        json_array_foreach(json_object_get(profile, "syscalls"), i, rule)
        {
                if (!rule_applies(rule, caps))
                        continue;
                json_t *names = json_object_get(rule, "names");
                const char *action = json_string_value(json_object_get(rule, "action"));
                if (action == NULL) {
                        json_decref(syscalls);
                        json_decref(sc);
                        return berth_fail_status(err, 125, 0,
                                                 "seccomp profile: rule %zu has no action", i);
                }
                json_t *r = json_pack("{s:s}", "action", action);
                if (json_is_array(names))
                        json_object_set(r, "names", names);
                else if (json_is_string(json_object_get(rule, "name"))) /* Docker's old form */
                        json_object_set_new(r, "names",
                                            json_pack("[O]", json_object_get(rule, "name")));
                if ((v = json_object_get(rule, "args")) && json_array_size(v))
                        json_object_set(r, "args", v);
                if ((v = json_object_get(rule, "errnoRet")))
                        json_object_set(r, "errnoRet", v);
                json_array_append_new(syscalls, r);
        }
        json_object_set_new(sc, "syscalls", syscalls);
        *out = sc;
        return 0;
}

/* Every denied name, as a set. */
static json_t *deny_set(json_t *deny_map)
{
        json_t *set = json_object();
        const char *k;
        json_t *list;
        json_object_foreach(deny_map, k, list)
        {
                size_t i;
                json_t *v;
                json_array_foreach(list, i, v)
                {
                        if (json_is_string(v))
                                json_object_set_new(set, json_string_value(v), json_true());
                }
        }
        return set;
}

/* Every syscall name libseccomp knows for the native and the i386 ABI (x32 shares the native
 * names), minus the denied ones, sorted for a stable config.json.  The scan of an ABI's table
 * ends after SCAN_GAP numbers in a row that name nothing (x86_64 has a gap of 89). */
static json_t *allowed_names(json_t *deny_map)
{
        static const uint32_t arches[] = {SCMP_ARCH_X86_64, SCMP_ARCH_X86};
        json_t *deny = deny_set(deny_map);
        json_t *seen = json_object();
        for (size_t a = 0; a < BERTH_ARRAY_SIZE(arches); a++) {
                int misses = 0;
                for (int n = 0; n < SYSCALL_SCAN_MAX && misses < SCAN_GAP; n++) {
                        char *name = seccomp_syscall_resolve_num_arch(arches[a], n);
                        if (name == NULL) {
                                misses++;
                                continue;
                        }
                        misses = 0;
                        if (json_object_get(deny, name) == NULL)
                                json_object_set_new(seen, name, json_true());
                        free(name);
                }
        }
        json_decref(deny);
        json_t *names = json_array();
        const char *k;
        json_t *v;
        json_object_foreach(seen, k, v)
        {
                json_array_append_new(names, json_string(k));
        }
        json_decref(seen);
        return names;
}

/* berth's default profile in Docker's format: the allow list, one capability-gated rule per
 * capability of the deny list, then the data file's conditional rules. */
static int default_profile(json_t **out, berth_error_t *err)
{
        json_error_t jerr;
        json_t *data = json_loadb(eng_seccomp_data, eng_seccomp_data_len, 0, &jerr);
        if (!json_is_object(data))
                return berth_fail(err, 0, "embedded seccomp policy: %s", jerr.text);
        json_t *deny = json_object_get(data, "denied");
        json_t *syscalls = json_array();
        json_array_append_new(syscalls, json_pack("{s:o, s:s}", "names", allowed_names(deny),
                                                  "action", "SCMP_ACT_ALLOW"));
        const char *cap;
        json_t *list;
        json_object_foreach(deny, cap, list)
        {
                if (strcmp(cap, "always") == 0)
                        continue;
                json_array_append_new(syscalls,
                                      json_pack("{s:O, s:s, s:{s:[s]}}", "names", list, "action",
                                                "SCMP_ACT_ALLOW", "includes", "caps", cap));
        }
        json_array_extend(syscalls, json_object_get(data, "rules"));
        json_t *p = json_pack("{s:O, s:O, s:O, s:o}", "defaultAction",
                              json_object_get(data, "defaultAction"), "defaultErrnoRet",
                              json_object_get(data, "defaultErrnoRet"), "architectures",
                              json_object_get(data, "architectures"), "syscalls", syscalls);
        json_decref(data);
        if (p == NULL)
                return berth_fail(err, 0, "embedded seccomp policy: missing fields");
        *out = p;
        return 0;
}

int eng_seccomp_default(json_t *caps, json_t **out, berth_error_t *err)
{
        json_t *p = NULL;
        if (default_profile(&p, err) < 0)
                return -1;
        int r = eng_seccomp_from_docker(p, caps, out, err);
        json_decref(p);
        return r;
}
