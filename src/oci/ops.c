/* ops.c — the small commands on a live container: pause/resume, ps, update,
 * and the runtime-wide `features` document and signal names. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/signals.h"
#include "common/util.h"
#include "oci/internal.h"
#include "oci/oci_commit.h"

int oci_signal_parse(const char *s)
{
        return berth_signal_number(s);
}

int oci_kill_signal(const char *s, int *sig)
{
        char *end;
        errno = 0;
        long n = strtol(s, &end, 10);
        if (*s != '\0' && *end == '\0' && errno == 0 && n >= INT_MIN && n <= INT_MAX) {
                *sig = (int) n;
                return 0;
        }
        *sig = berth_signal_number(s);
        return *sig < 0 ? -1 : 0;
}

void oci_version(FILE *out)
{
        const struct scmp_version *v = seccomp_version();
        fprintf(out, "berth-oci version %s\ncommit: %s\nspec: %s\nlibseccomp: %u.%u.%u\n",
                BERTH_VERSION, OCI_GIT_COMMIT, OCI_SPEC_VERSION, v->major, v->minor, v->micro);
}

int oci_pause(struct oci_ctx *c, const char *id, bool pause, berth_error_t *err)
{
        struct oci_state st;
        struct oci_cgroup cg;
        int r = -1;
        if (oci_state_load(c, id, &st, err) < 0)
                return -1;
        enum oci_status s = oci_state_status(&st);
        if (pause && s != OCI_RUNNING && s != OCI_CREATED) {
                berth_fail_status(err, 1, 0, "container not running");
                goto out;
        }
        if (!pause && s != OCI_PAUSED) {
                berth_fail_status(err, 1, 0, "container not paused");
                goto out;
        }
        oci_state_cgroup(&st, &cg);
        r = cg.ops->freeze(&cg, pause, err);
        oci_cgroup_release(&cg);
out:
        oci_state_release(&st);
        return r;
}

static bool pid_in(pid_t p, const pid_t *pids, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (pids[i] == p)
                        return true;
        return false;
}

/* The index of the PID column in ps(1)'s header line, or -1. */
static int pid_column(const char *header)
{
        cleanup_free char *h = berth_xstrdup(header);
        char *save = NULL;
        int i = 0;
        for (char *t = strtok_r(h, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save), i++)
                if (strcmp(t, "PID") == 0)
                        return i;
        return -1;
}

/* Field col of line (whitespace-separated), copied into buf; false if there is none. */
static bool field(const char *line, int col, char *buf, size_t size)
{
        const char *p = line;
        for (int i = 0;; i++) {
                p += strspn(p, " \t\n");
                size_t len = strcspn(p, " \t\n");
                if (len == 0)
                        return false;
                if (i == col) {
                        snprintf(buf, size, "%.*s", (int) len, p);
                        return true;
                }
                p += len;
        }
}

/* As runc: ps(1) with the caller's options (default -ef), keeping the header and the lines
 * whose PID column is one of the container's. */
static int ps_table(char *const *ps_args, const pid_t *pids, size_t n, FILE *out,
                    berth_error_t *err)
{
        size_t na = 0;
        while (ps_args && ps_args[na])
                na++;
        cleanup_free char **argv = berth_xcalloc(na + 3, sizeof(char *));
        char ps_name[] = "ps", ef[] = "-ef";
        argv[0] = ps_name;
        for (size_t i = 0; i < na; i++)
                argv[i + 1] = ps_args[i];
        if (na == 0)
                argv[1] = ef;
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0)
                return berth_fail(err, errno, "pipe");
        pid_t child = fork();
        if (child == 0) {
                /* runc reads ps's output and errors together */
                dup2(fds[1], 1);
                dup2(fds[1], 2);
                execvp("ps", argv);
                _exit(127);
        }
        close(fds[1]);
        cleanup_file FILE *ps = child > 0 ? fdopen(fds[0], "r") : NULL;
        if (ps == NULL) {
                close(fds[0]);
                return berth_fail(err, errno, "run ps");
        }
        /* the whole output first: a failing ps prints nothing of it, as runc */
        cleanup_free char *text = NULL;
        size_t len = 0, cap = 0;
        char buf[4096];
        size_t got;
        while ((got = fread(buf, 1, sizeof(buf), ps)) > 0) {
                if (len + got + 1 > cap)
                        text = berth_xrealloc(text, cap = (len + got + 1) * 2);
                memcpy(text + len, buf, got);
                len += got;
        }
        int ws = 0;
        while (waitpid(child, &ws, 0) < 0 && errno == EINTR)
                ;
        if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
                return berth_fail_status(err, 1, 0, "exit status %d: %.*s",
                                         WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws),
                                         (int) len, text ? text : "");
        if (text == NULL)
                return berth_fail_status(err, 1, 0, "couldn't find PID field in ps output");
        text[len] = 0;
        char *save = NULL, *line = strtok_r(text, "\n", &save);
        int col = line ? pid_column(line) : -1;
        if (col < 0)
                return berth_fail_status(err, 1, 0, "couldn't find PID field in ps output");
        fprintf(out, "%s\n", line);
        while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
                char f[32], *end;
                if (!field(line, col, f, sizeof(f)))
                        continue;
                long pid = strtol(f, &end, 10);
                if (*end != 0)
                        return berth_fail_status(err, 1, 0, "unexpected pid '%s'", f);
                if (pid_in((int) pid, pids, n))
                        fprintf(out, "%s\n", line);
        }
        return 0;
}

int oci_ps(struct oci_ctx *c, const char *id, bool json, char *const *ps_args, FILE *out,
           berth_error_t *err)
{
        struct oci_state st;
        struct oci_cgroup cg;
        cleanup_free pid_t *pids = NULL;
        size_t n = 0;
        if (oci_state_load(c, id, &st, err) < 0)
                return -1;
        oci_state_cgroup(&st, &cg);
        int r = cg.ops->pids(&cg, &pids, &n, err);
        oci_cgroup_release(&cg);
        oci_state_release(&st);
        if (r < 0)
                return -1;
        if (!json)
                return ps_table(ps_args, pids, n, out, err);
        fputc('[', out);
        for (size_t i = 0; i < n; i++)
                fprintf(out, "%s%d", i ? "," : "", (int) pids[i]);
        fputs("]\n", out);
        return 0;
}

/* docker's units.RAMInBytes, which runc's update uses: "64", "1.5g", "10 MiB", "2kb". */
static int ram_in_bytes(const char *s, int64_t *out)
{
        static const char units[] = "kmgtp";
        const char *p = s;
        char *end;
        if (*p < '0' || *p > '9')
                return -1;
        double v = strtod(p, &end);
        p = end;
        if (*p == ' ')
                p++;
        const char *u = *p ? strchr(units, *p | 0x20) : NULL;
        if (u) {
                for (const char *k = units; k <= u; k++)
                        v *= 1024;
                p++;
        }
        if (*p == 'i' || *p == 'I')
                p++;
        if (*p == 'b' || *p == 'B')
                p++;
        if (*p != 0 || v > 9.2e18)
                return -1;
        *out = (int64_t) v;
        return 0;
}

static int flag_int(const char *k, const char *v, bool is_unsigned, int64_t *out,
                    berth_error_t *err)
{
        char *end;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (*v == 0 || *end != 0 || errno || (is_unsigned && (n < 0 || *v == '-')))
                return berth_fail_status(err, 1, 0,
                                         "invalid value for %s: strconv.Parse%s: parsing \"%s\": "
                                         "invalid syntax",
                                         k, is_unsigned ? "Uint" : "Int", v);
        *out = n;
        return 0;
}

/* update's flags, checked and converted as runc's update does */
static int resources_from_flags(const char *const *kv, struct oci_resources *r, berth_error_t *err)
{
        static const struct {
                const char *name;
                char kind; /* 'm' memory size, 'u' unsigned, 'i' signed */
                size_t off;
        } flags[] = {
                {"memory", 'm', offsetof(struct oci_resources, mem_limit)},
                {"memory-swap", 'm', offsetof(struct oci_resources, mem_swap)},
                {"memory-reservation", 'm', offsetof(struct oci_resources, mem_reservation)},
                {"kernel-memory", 'm', offsetof(struct oci_resources, mem_kernel)},
                {"kernel-memory-tcp", 'm', offsetof(struct oci_resources, mem_kernel_tcp)},
                {"cpu-share", 'u', offsetof(struct oci_resources, cpu_shares)},
                {"cpu-shares", 'u', offsetof(struct oci_resources, cpu_shares)},
                {"cpu-period", 'u', offsetof(struct oci_resources, cpu_period)},
                {"cpu-rt-period", 'u', offsetof(struct oci_resources, cpu_rt_period)},
                {"cpu-quota", 'i', offsetof(struct oci_resources, cpu_quota)},
                {"cpu-rt-runtime", 'i', offsetof(struct oci_resources, cpu_rt_runtime)},
                {"pids-limit", 'i', offsetof(struct oci_resources, pids_limit)},
                {"blkio-weight", 'u', offsetof(struct oci_resources, blkio_weight)},
        };
        for (size_t i = 0; kv && kv[i]; i += 2) {
                const char *k = kv[i], *v = kv[i + 1];
                if (strcmp(k, "cpuset-cpus") == 0) {
                        free(r->cpu_cpus);
                        r->cpu_cpus = berth_xstrdup(v);
                        continue;
                }
                if (strcmp(k, "cpuset-mems") == 0) {
                        free(r->cpu_mems);
                        r->cpu_mems = berth_xstrdup(v);
                        continue;
                }
                /* Intel RDT: no resctrl support here, as runc says on a host without it */
                if (strcmp(k, "l3-cache-schema") == 0)
                        return berth_fail_status(err, 1, 0,
                                                 "Intel RDT/CAT: l3 cache schema is not enabled");
                if (strcmp(k, "mem-bw-schema") == 0)
                        return berth_fail_status(
                                err, 1, 0, "Intel RDT/MBA: memory bandwidth schema is not enabled");
                size_t f = 0;
                while (f < BERTH_ARRAY_SIZE(flags) && strcmp(flags[f].name, k) != 0)
                        f++;
                if (f == BERTH_ARRAY_SIZE(flags))
                        return berth_fail(err, EINVAL, "update: unknown flag `%s`", k);
                /* runc reads these as strings, an empty one as not given; pids-limit and
                 * blkio-weight are numbers to its flag parser, which refuses "" */
                if (*v == 0 && strcmp(k, "pids-limit") != 0 && strcmp(k, "blkio-weight") != 0)
                        continue;
                int64_t n = 0;
                if (flags[f].kind == 'm') {
                        if (strcmp(v, "-1") == 0)
                                n = -1;
                        else if (ram_in_bytes(v, &n) < 0)
                                return berth_fail_status(err, 1, 0,
                                                         "invalid value for %s: invalid size: '%s'",
                                                         k, v);
                } else if (flag_int(k, v, flags[f].kind == 'u', &n, err) < 0) {
                        return -1;
                }
                memcpy((char *) r + flags[f].off, &n, sizeof(n));
        }
        /* as runc: an unlimited memory with no word on swap makes swap unlimited too (else
         * the kernel refuses a limit above the current memsw one) */
        if (r->mem_limit == -1 && r->mem_swap == OCI_UNSET)
                r->mem_swap = -1;
        return 0;
}

int oci_update(struct oci_ctx *c, const char *id, const char *resources_json,
               const char *const *flag_kv, berth_error_t *err)
{
        struct oci_state st;
        struct oci_cgroup cg;
        struct oci_resources res;
        int r = -1;
        oci_resources_init(&res);
        if (oci_state_load(c, id, &st, err) < 0)
                return -1;
        if (oci_state_status(&st) == OCI_STOPPED) {
                berth_fail_status(err, 1, 0, "container not running");
                goto out;
        }
        if (resources_json) {
                json_error_t je;
                json_t *j = json_loads(resources_json, 0, &je);
                if (j == NULL) {
                        berth_fail(err, EINVAL, "update: resources: %s", je.text);
                        goto out;
                }
                r = oci_resources_parse(j, &res, err);
                json_decref(j);
                if (r < 0)
                        goto out;
                r = -1;
        }
        /* as runc: with -r, the other flags are ignored */
        if (resources_json == NULL && resources_from_flags(flag_kv, &res, err) < 0)
                goto out;
        oci_state_cgroup(&st, &cg);
        r = cg.ops->update(&cg, &res, err);
        oci_cgroup_release(&cg);
out:
        oci_resources_release(&res);
        oci_state_release(&st);
        return r;
}

int oci_features(FILE *out, berth_error_t *err)
{
        static const char doc[] =
                "{\"ociVersionMin\":\"1.0.0\",\"ociVersionMax\":\"1.1.0\","
                "\"hooks\":[\"prestart\",\"createRuntime\",\"createContainer\","
                "\"startContainer\",\"poststart\",\"poststop\"],"
                "\"mountOptions\":[\"async\",\"atime\",\"bind\",\"defaults\",\"dev\",\"diratime\","
                "\"dirsync\",\"exec\",\"lazytime\",\"loud\",\"mand\",\"noatime\",\"nodev\","
                "\"nodiratime\",\"noexec\",\"nolazytime\",\"nomand\",\"norelatime\","
                "\"nostrictatime\",\"nosuid\",\"private\",\"rbind\",\"relatime\",\"remount\","
                "\"ro\",\"rprivate\",\"rro\",\"rrw\",\"rshared\",\"rslave\",\"runbindable\","
                "\"rw\",\"shared\",\"silent\",\"slave\",\"strictatime\",\"suid\",\"sync\","
                "\"unbindable\",\"rnosuid\",\"rnodev\",\"rnoexec\"],"
                "\"linux\":{\"namespaces\":[\"cgroup\",\"ipc\",\"mount\",\"network\",\"pid\","
                "\"time\",\"user\",\"uts\"],"
                "\"capabilities\":[],"
                "\"cgroup\":{\"v1\":true,\"v2\":true,\"systemd\":false,\"systemdUser\":false,"
                "\"rdma\":false},"
                "\"seccomp\":{\"enabled\":true,\"actions\":[\"SCMP_ACT_ALLOW\","
                "\"SCMP_ACT_ERRNO\",\"SCMP_ACT_KILL\",\"SCMP_ACT_KILL_PROCESS\","
                "\"SCMP_ACT_KILL_THREAD\",\"SCMP_ACT_LOG\",\"SCMP_ACT_NOTIFY\","
                "\"SCMP_ACT_TRACE\",\"SCMP_ACT_TRAP\"],"
                "\"operators\":[\"SCMP_CMP_EQ\",\"SCMP_CMP_GE\",\"SCMP_CMP_GT\","
                "\"SCMP_CMP_LE\",\"SCMP_CMP_LT\",\"SCMP_CMP_MASKED_EQ\",\"SCMP_CMP_NE\"],"
                "\"archs\":[\"SCMP_ARCH_AARCH64\",\"SCMP_ARCH_ARM\",\"SCMP_ARCH_X32\","
                "\"SCMP_ARCH_X86\",\"SCMP_ARCH_X86_64\"],"
                "\"supportedFlags\":[\"SECCOMP_FILTER_FLAG_TSYNC\",\"SECCOMP_FILTER_FLAG_LOG\","
                "\"SECCOMP_FILTER_FLAG_SPEC_ALLOW\"]},"
                "\"apparmor\":{\"enabled\":false},\"selinux\":{\"enabled\":false},"
                "\"intelRdt\":{\"enabled\":false}},"
                "\"annotations\":{\"org.opencontainers.runc.checkpoint.enabled\":\"false\","
                "\"io.github.berth.oci.version\":\"" BERTH_VERSION "\"}}";
        json_t *j = json_loads(doc, 0, NULL);
        json_t *caps = json_object_get(json_object_get(j, "linux"), "capabilities");
        for (int i = 0; oci_cap_name(i); i++) {
                char buf[40];
                snprintf(buf, sizeof(buf), "CAP_%s", oci_cap_name(i));
                json_array_append_new(caps, json_string(buf));
        }
        json_dumpf(j, out, JSON_INDENT(4));
        fputc('\n', out);
        json_decref(j);
        return 0;
}
