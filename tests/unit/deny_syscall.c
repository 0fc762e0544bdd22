/* deny_syscall.c — a test tool: `deny_syscall NAME CMD ARGS...` runs CMD with
 * the system call NAME failing with ENOSYS (a seccomp filter), as on a
 * kernel without it.  tests/e2e/vmm.bats uses it to check that berth-vmm's
 * io=uring falls back cleanly where io_uring is missing. */
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        if (argc < 3) {
                fprintf(stderr, "usage: deny_syscall NAME CMD [ARGS...]\n");
                return 2;
        }
        int nr = seccomp_syscall_resolve_name(argv[1]);
        if (nr == __NR_SCMP_ERROR) {
                fprintf(stderr, "deny_syscall: unknown system call `%s`\n", argv[1]);
                return 2;
        }
        scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
        if (!ctx || seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0) < 0 ||
            seccomp_load(ctx) < 0) {
                fprintf(stderr, "deny_syscall: cannot install the filter\n");
                return 1;
        }
        seccomp_release(ctx);
        execvp(argv[2], argv + 2);
        perror("deny_syscall: exec");
        return 127;
}
