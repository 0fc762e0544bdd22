/* caps.c — capability names and the container's capability set (see caps.h). */
#include "engine/caps.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/util.h"

/* Index = capability number (linux/capability.h). */
static const char *const cap_names[] = {
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT",
        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG",
        "CAP_MKNOD",
        "CAP_LEASE",
        "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN",
        "CAP_SYSLOG",
        "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ",
        "CAP_PERFMON",
        "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
};
#define NCAPS ((int) BERTH_ARRAY_SIZE(cap_names))

/* What Docker grants a container that asks for nothing. */
static const char *const default_caps[] = {
        "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
        "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
        "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
        "CAP_KILL",    "CAP_AUDIT_WRITE",
};

static int cap_number(const char *name)
{
        for (int i = 0; i < NCAPS; i++)
                if (strcmp(cap_names[i], name) == 0)
                        return i;
        return -1;
}

const char *eng_cap_normalize(const char *name)
{
        if (name == NULL)
                return NULL;
        if (strcasecmp(name, "ALL") == 0)
                return "ALL";
        const char *bare = strncasecmp(name, "CAP_", 4) == 0 ? name + 4 : name;
        for (int i = 0; i < NCAPS; i++)
                if (strcasecmp(cap_names[i] + 4, bare) == 0)
                        return cap_names[i];
        return NULL;
}

/* The bounding set of this process: "all capabilities" for a privileged container are the ones
 * we can actually hand out (a sandbox without CAP_SYS_RESOURCE can't grant it, and asking for it
 * makes the runtime fail). */
static uint64_t bounding_set(void)
{
        uint64_t set = 0;
        cleanup_file FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "CapBnd: %" SCNx64, &set) == 1)
                        return set;
        return (NCAPS >= 64) ? UINT64_MAX : ((UINT64_C(1) << NCAPS) - 1);
}

static int mark_list(json_t *list, bool *set, bool value, bool *all, berth_error_t *err)
{
        size_t i;
        json_t *v;
        json_array_foreach(list, i, v)
        {
                const char *c = eng_cap_normalize(json_string_value(v));
                if (c == NULL)
                        return berth_fail_status(err, 125, 0, "unknown capability: \"%s\"",
                                                 json_string_value(v) ? json_string_value(v) : "");
                if (strcmp(c, "ALL") == 0) {
                        *all = true;
                        continue;
                }
                if (set)
                        set[cap_number(c)] = value;
        }
        return 0;
}

int eng_caps_resolve(json_t *cap_add, json_t *cap_drop, bool privileged, json_t **out,
                     berth_error_t *err)
{
        bool set[NCAPS] = {false};
        uint64_t bnd = bounding_set();
        bool add_all = false, drop_all = false;

        /* validate both lists first so that a typo is reported even when privileged */
        if (mark_list(cap_add, NULL, true, &add_all, err) < 0 ||
            mark_list(cap_drop, NULL, false, &drop_all, err) < 0)
                return -1;

        if (privileged || add_all) {
                for (int i = 0; i < NCAPS; i++)
                        set[i] = (bnd >> i) & 1;
                if (!privileged)
                        mark_list(cap_drop, set, false, &drop_all, err);
        } else {
                if (!drop_all)
                        for (size_t i = 0; i < BERTH_ARRAY_SIZE(default_caps); i++)
                                set[cap_number(default_caps[i])] = true;
                mark_list(cap_drop, set, false, &drop_all, err);
                mark_list(cap_add, set, true, &add_all, err);
        }
        json_t *arr = json_array();
        for (int i = 0; i < NCAPS; i++)
                if (set[i])
                        json_array_append_new(arr, json_string(cap_names[i]));
        *out = arr;
        return 0;
}

bool eng_caps_has(json_t *caps, const char *cap)
{
        size_t i;
        json_t *v;
        json_array_foreach(caps, i, v)
        {
                const char *s = json_string_value(v);
                if (s && strcmp(s, cap) == 0)
                        return true;
        }
        return false;
}
