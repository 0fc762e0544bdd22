/* ops.c — the small commands on a live container: pause/resume, ps, update,
 * and the runtime-wide `features` document and signal names. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <seccomp.h>
#include <signal.h>
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

int oci_ps(struct oci_ctx *c, const char *id, bool json, FILE *out, berth_error_t *err)
{
        struct oci_state st;
        struct oci_cgroup cg;
        pid_t *pids = NULL;
        size_t n = 0;
        if (oci_state_load(c, id, &st, err) < 0)
                return -1;
        oci_state_cgroup(&st, &cg);
        int r = cg.ops->pids(&cg, &pids, &n, err);
        oci_cgroup_release(&cg);
        oci_state_release(&st);
        if (r < 0)
                return -1;
        if (json) {
                fputc('[', out);
                for (size_t i = 0; i < n; i++)
                        fprintf(out, "%s%d", i ? "," : "", (int) pids[i]);
                fputs("]\n", out);
                free(pids);
                return 0;
        }
        /* As runc: `ps -ef`, keeping the header and the container's lines. */
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0) {
                free(pids);
                return berth_fail(err, errno, "pipe");
        }
        pid_t child = fork();
        if (child == 0) {
                dup2(fds[1], 1);
                execlp("ps", "ps", "-ef", (char *) NULL);
                _exit(127);
        }
        close(fds[1]);
        FILE *ps = child > 0 ? fdopen(fds[0], "r") : NULL;
        char line[4096];
        bool first = true;
        if (ps == NULL) {
                close(fds[0]);
                free(pids);
                return berth_fail(err, errno, "run ps");
        }
        while (fgets(line, sizeof(line), ps)) {
                char user[64];
                int pid;
                if (first || (sscanf(line, "%63s %d", user, &pid) == 2 && pid_in(pid, pids, n)))
                        fputs(line, out);
                first = false;
        }
        fclose(ps);
        waitpid(child, NULL, 0);
        free(pids);
        return 0;
}

static int64_t parse_size(const char *s)
{
        char *end;
        double v = strtod(s, &end);
        switch (*end) {
        case 'k':
        case 'K':
                v *= 1024;
                break;
        case 'm':
        case 'M':
                v *= 1024 * 1024;
                break;
        case 'g':
        case 'G':
                v *= 1024.0 * 1024 * 1024;
                break;
        default:
                break;
        }
        return (int64_t) v;
}

static int resources_from_flags(const char *const *kv, struct oci_resources *r, berth_error_t *err)
{
        for (size_t i = 0; kv && kv[i]; i += 2) {
                const char *k = kv[i], *v = kv[i + 1];
                int64_t n = parse_size(v);
                if (strcmp(k, "memory") == 0)
                        r->mem_limit = n;
                else if (strcmp(k, "memory-swap") == 0)
                        r->mem_swap = n;
                else if (strcmp(k, "memory-reservation") == 0)
                        r->mem_reservation = n;
                else if (strcmp(k, "kernel-memory") == 0)
                        r->mem_kernel = n;
                else if (strcmp(k, "cpu-shares") == 0)
                        r->cpu_shares = n;
                else if (strcmp(k, "cpu-quota") == 0)
                        r->cpu_quota = n;
                else if (strcmp(k, "cpu-period") == 0)
                        r->cpu_period = n;
                else if (strcmp(k, "cpu-rt-runtime") == 0)
                        r->cpu_rt_runtime = n;
                else if (strcmp(k, "cpu-rt-period") == 0)
                        r->cpu_rt_period = n;
                else if (strcmp(k, "cpuset-cpus") == 0)
                        r->cpu_cpus = berth_xstrdup(v);
                else if (strcmp(k, "cpuset-mems") == 0)
                        r->cpu_mems = berth_xstrdup(v);
                else if (strcmp(k, "pids-limit") == 0)
                        r->pids_limit = n;
                else if (strcmp(k, "blkio-weight") == 0)
                        r->blkio_weight = n;
                else
                        return berth_fail(err, EINVAL, "update: unknown flag `%s`", k);
        }
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
        if (resources_from_flags(flag_kv, &res, err) < 0)
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
