/* test_oci_devices_bpf.c — the cgroup v2 device program, loaded into the
 * kernel and attached to a real cgroup2 directory: a process in it may open
 * the default devices and what the config allows, in the access it allows,
 * and nothing else.  Skips without root or without a cgroup2 mount. */
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "oci/cgroup.h"
#include "tap.h"

static const char *cgroup2_root(void)
{
        static const char *cands[] = {"/sys/fs/cgroup/unified", "/sys/fs/cgroup", NULL};
        struct statfs sf;
        for (size_t i = 0; cands[i]; i++)
                if (statfs(cands[i], &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC)
                        return cands[i];
        return NULL;
}

/* In a child moved into dir: bit i set if open(paths[i], flags[i]) worked. */
static int probe(const char *dir)
{
        static const char *paths[] = {"/dev/null", "/dev/kmsg", "/dev/kmsg", "/dev/loop-control"};
        static const int flags[] = {O_WRONLY, O_RDONLY | O_NONBLOCK, O_WRONLY, O_RDWR};
        pid_t pid = fork();
        if (pid == 0) {
                char *procs = berth_xasprintf("%s/cgroup.procs", dir);
                FILE *f = fopen(procs, "w");
                if (f == NULL || fprintf(f, "%d", (int) getpid()) < 0 || fclose(f) != 0)
                        _exit(255);
                int bits = 0;
                for (int i = 0; i < 4; i++) {
                        int fd = open(paths[i], flags[i] | O_CLOEXEC);
                        if (fd >= 0) {
                                bits |= 1 << i;
                                close(fd);
                        }
                }
                _exit(bits);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void)
{
        const char *root = cgroup2_root();
        if (geteuid() != 0 || root == NULL || access("/dev/kmsg", F_OK) != 0) {
                tap_skip("device program", "needs root, a cgroup2 mount and /dev/kmsg");
                return tap_done();
        }
        char *dir = berth_xasprintf("%s/berth-devtest-%d", root, (int) getpid());
        ok(mkdir(dir, 0755) == 0, "make a cgroup2 directory");
        struct oci_resources r;
        oci_resources_init(&r);
        r.n_dev_rules = 1;
        r.dev_rules = berth_xcalloc(1, sizeof(struct oci_dev_rule));
        r.dev_rules[0] = (struct oci_dev_rule){
                .allow = true, .type = 'c', .major = 1, .minor = 11, .access = "r"};
        berth_error_t err = NULL;
        int rc = oci_devices_bpf_attach(dir, &r, NULL, &err);
        ok(rc == 0, "the program loads and attaches");
        if (rc < 0)
                printf("# %s\n", berth_error_msg(err));
        int bits = probe(dir);
        ok(bits >= 0 && (bits & 1), "a default device (/dev/null) opens for writing");
        ok(bits >= 0 && (bits & 2), "an allowed device (/dev/kmsg) opens for reading");
        ok(bits >= 0 && !(bits & 4), "but not for writing: the rule grants r only");
        ok(bits >= 0 && !(bits & 8), "a device no rule allows (/dev/loop-control) is refused");
        if (rmdir(dir) < 0)
                printf("# rmdir %s: %s\n", dir, strerror(errno));
        free(dir);
        oci_resources_release(&r);
        return tap_done();
}
