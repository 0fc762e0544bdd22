/* test_oci_spec.c — config.json parsing: the default spec round-trips, each
 * kind of bad input is refused with the JSON path named, and the values that
 * need translating (mount options, capabilities, seccomp) come out right. */
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "common/util.h"
#include "oci/spec.h"
#include "tap.h"

static struct oci_spec *parse(const char *text, char **msg)
{
        berth_error_t err = NULL;
        struct oci_spec *s = NULL;
        *msg = NULL;
        if (oci_spec_parse(text, strlen(text), &s, &err) < 0) {
                *msg = berth_xstrdup(berth_error_msg(err));
                berth_error_release(&err);
        }
        return s;
}

/* The default spec with one jq-like edit: replace `from` by `to`. */
static char *edited(const char *from, const char *to)
{
        char *pretty = oci_spec_default_json(false, 0, 0);
        json_t *j = json_loads(pretty, 0, NULL);
        char *d = json_dumps(j, JSON_COMPACT);
        json_decref(j);
        free(pretty);
        char *p = strstr(d, from);
        if (p == NULL)
                return d;
        char *r = berth_xasprintf("%.*s%s%s", (int) (p - d), d, to, p + strlen(from));
        free(d);
        return r;
}

static void refused(const char *from, const char *to, const char *want, const char *name)
{
        char *text = edited(from, to), *msg;
        struct oci_spec *s = parse(text, &msg);
        ok(s == NULL && msg && strstr(msg, want), name);
        if (msg && !strstr(msg, want))
                printf("#   message: %s\n", msg);
        oci_spec_free(s);
        free(msg);
        free(text);
}

int main(void)
{
        char *msg, *text = oci_spec_default_json(false, 0, 0);
        struct oci_spec *s = parse(text, &msg);
        ok(s != NULL, "the default spec parses");
        if (s == NULL)
                printf("# %s\n", msg);
        is_str(s->process->args[0], "sh", "process.args");
        is_int(s->process->caps[OCI_CAP_BOUNDING], (1 << 5) | (1 << 10) | (1 << 29),
               "capability names become bits");
        ok(s->process->no_new_privileges, "noNewPrivileges");
        /* runc's default: pid, network, ipc, uts, mount; no cgroup namespace */
        is_int(s->n_namespaces, 5, "five namespaces, as runc spec writes");
        ok(oci_spec_namespace(s, CLONE_NEWCGROUP) == NULL, "no cgroup namespace");
        ok(oci_spec_namespace(s, CLONE_NEWNET) != NULL, "network namespace present");
        const struct oci_mount *sysfs = NULL;
        for (size_t i = 0; i < s->n_mounts; i++)
                if (strcmp(s->mounts[i].destination, "/sys") == 0)
                        sysfs = &s->mounts[i];
        ok(sysfs && (sysfs->flags & (MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_NODEV)) ==
                            (MS_RDONLY | MS_NOSUID | MS_NOEXEC | MS_NODEV),
           "mount options become MS_ flags");
        const struct oci_mount *dev = &s->mounts[1];
        is_str(dev->data, "mode=755,size=65536k", "unknown options go to the filesystem");
        ok(dev->flags & MS_STRICTATIME, "strictatime");
        oci_spec_free(s);
        free(text);

        char *rl = oci_spec_default_json(true, 1000, 1000);
        s = parse(rl, &msg);
        ok(s && oci_spec_namespace(s, CLONE_NEWUSER) && !oci_spec_namespace(s, CLONE_NEWNET),
           "rootless spec: user namespace, no network namespace");
        ok(s && s->n_uid_maps == 1 && s->uid_maps[0].host_id == 1000, "rootless spec maps uid");
        oci_spec_free(s);
        free(rl);

        s = parse("{\"ociVersion\":\"1.1.0\",\"root\":{\"path\":\"r\"},\"process\":{\"args\":"
                  "[\"x\"],\"cwd\":\"/\"},\"linux\":{\"namespaces\":[{\"type\":\"mount\"}],"
                  "\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ERRNO\",\"defaultErrnoRet\":38,"
                  "\"architectures\":[\"SCMP_ARCH_X86_64\"],\"syscalls\":[{\"names\":[\"read\"],"
                  "\"action\":\"SCMP_ACT_ALLOW\",\"args\":[{\"index\":0,\"value\":3,\"op\":"
                  "\"SCMP_CMP_EQ\"}]}]}}}",
                  &msg);
        ok(s && s->seccomp, "seccomp parses");
        ok(s && s->seccomp->default_action == SCMP_ACT_ERRNO(0) &&
                   s->seccomp->default_errno_ret == 38,
           "seccomp default action and errno");
        ok(s && s->seccomp->archs[0] == SCMP_ARCH_X86_64, "seccomp architecture");
        ok(s && s->seccomp->rules[0].args[0].op == SCMP_CMP_EQ, "seccomp operator");
        oci_spec_free(s);

        s = parse("[1,2]", &msg);
        ok(s == NULL && strstr(msg, "must be an object"), "a non-object document is refused");
        free(msg);
        s = parse("{\"ociVersion\": ", &msg);
        ok(s == NULL && strstr(msg, "config.json: line"), "malformed JSON names the line");
        free(msg);
        refused("\"uid\":0", "\"uid\":\"root\"", "process.user.uid", "wrong type names its path");
        refused("\"CAP_KILL\",\"CAP_NET", "\"CAP_KILLER\",\"CAP_NET", "CAP_KILLER",
                "unknown capability refused");
        refused("\"cwd\":\"/\"", "\"cwd\":\"rel\"", "process.cwd", "relative cwd refused");
        refused("{\"type\":\"uts\"},", "", "uts namespace", "hostname without a uts namespace");
        refused("{\"type\":\"pid\"}", "{\"type\":\"pidx\"}", "pidx", "unknown namespace type");
        refused("{\"type\":\"pid\"}", "{\"type\":\"ipc\"}", "given twice", "duplicate namespace");
        refused("\"RLIMIT_NOFILE\"", "\"RLIMIT_NOPE\"", "RLIMIT_NOPE", "unknown rlimit");
        refused("\"destination\":\"/proc\"", "\"destination\":\"\"", "empty",
                "empty mount destination");
        /* as runc 1.1: a relative destination is kept, and mounted under the container's root */
        text = edited("\"destination\":\"/proc\"", "\"destination\":\"proc\"");
        s = parse(text, &msg);
        ok(s && s->n_mounts && strcmp(s->mounts[0].destination, "proc") == 0,
           "relative mount destination accepted");
        oci_spec_free(s);
        free(msg);
        free(text);
        refused("\"ociVersion\":\"1.1.0\"", "\"ociVersion\":\"2.0\"", "ociVersion",
                "unsupported ociVersion");
        refused("\"root\":{\"path\":\"rootfs\",\"readonly\":true},", "", "`root` is required",
                "missing root");
        refused("\"allow\":false", "\"allow\":false,\"type\":\"q\"", "type",
                "bad device rule type");
        return tap_done();
}
