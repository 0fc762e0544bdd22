/* check.h — host capability probes for `berth check`.
 *
 * Every probe finds out by doing, not by reading configuration: it unshares
 * each namespace kind in a child, mounts an overlay in a private mount
 * namespace, loads a seccomp filter and watches it bite, opens /dev/kvm and
 * creates a VM and a vCPU, makes a child cgroup.  Where a probe reads the
 * kernel's own tables (mountinfo, cpuinfo, /proc/cgroups, /sys/module), the
 * roots are passed in `struct check_paths`, so unit tests can run every probe
 * against fake trees (v1, v2 and hybrid cgroup layouts, Intel/AMD/PVM KVM).
 */
#ifndef BERTH_CHECK_CHECK_H
#define BERTH_CHECK_CHECK_H

#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"

struct check_paths {
        const char *proc;    /* "/proc": cpuinfo, self/mountinfo, self/cgroup, cgroups, sys/... */
        const char *sys;     /* "/sys": module/kvm_pvm, module/kvm_intel, ... */
        const char *dev_kvm; /* "/dev/kvm" */
        const char *dev_tun; /* "/dev/net/tun" */
        const char *tmp;     /* where the overlay probe makes its scratch dir ("/tmp") */
        bool act;            /* run the probes that act on the kernel (unshare, mount, KVM) */
};

/* The host's real paths, acting. */
void check_paths_host(struct check_paths *p);

enum check_state {
        CHECK_OK = 0,
        CHECK_NOTE,    /* usable, with something worth knowing */
        CHECK_MISSING, /* a feature that needs this is disabled; `berth check` exits non-zero */
};

/* One line of the report. */
struct check_item {
        char *section; /* "namespaces", "cgroups", "kvm", ... */
        char *name;    /* "mount", "layout", "/dev/kvm", ... */
        enum check_state state;
        char *detail;   /* what was observed */
        char *disables; /* for CHECK_MISSING: the features it disables */
};

struct check_report {
        struct check_item *items;
        size_t n_items;
        json_t *facts; /* structured data for --format json, keyed by section */
};

/* Add a line to the report (strings are copied). */
void check_report_add(struct check_report *r, const char *section, const char *name,
                      enum check_state state, const char *disables, const char *fmt, ...)
        __attribute__((format(printf, 6, 7)));

/* Structured facts of a section (created on first use). */
json_t *check_report_section(struct check_report *r, const char *section);

/* Probes: each adds its lines and facts to the report.  They never fail as a
 * whole: a failed probe is a MISSING line carrying its errno and context. */
void check_probe_kernel(struct check_report *r, const struct check_paths *p);
void check_probe_namespaces(struct check_report *r, const struct check_paths *p);
void check_probe_userns(struct check_report *r, const struct check_paths *p);
void check_probe_cgroups(struct check_report *r, const struct check_paths *p);
void check_probe_overlay(struct check_report *r, const struct check_paths *p);
void check_probe_seccomp(struct check_report *r, const struct check_paths *p);
void check_probe_kvm(struct check_report *r, const struct check_paths *p);
void check_probe_cpu(struct check_report *r, const struct check_paths *p);
void check_probe_net(struct check_report *r, const struct check_paths *p);

/* All probes in report order. */
void check_run_all(struct check_report *r, const struct check_paths *p);

/* Number of CHECK_MISSING lines. */
size_t check_report_missing(const struct check_report *r);

/* Renderers.  The text form is for people; the JSON form (one object:
 * {"ok", "checks": [...], "missing": [...], <section facts>...}) for scripts. */
char *check_report_text(const struct check_report *r);
char *check_report_json(const struct check_report *r);

void check_report_free(struct check_report *r);

/* Run fn in a forked child (so probes that unshare or mount never change the
 * caller); its failure, errno and message included, comes back through err. */
int check_in_child(int (*fn)(void *arg, berth_error_t *err), void *arg, berth_error_t *err);

#endif
