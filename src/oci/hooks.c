/* hooks.c — running OCI hooks: the state document on stdin, a timeout, and
 * a failure when the hook exits non-zero. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "oci/internal.h"

static const char *const hook_names[] = {"prestart",       "createRuntime", "createContainer",
                                         "startContainer", "poststart",     "poststop"};

static int run_one(const struct oci_hook *h, const char *state, berth_error_t *err)
{
        int in[2];
        if (pipe2(in, O_CLOEXEC) < 0)
                return berth_fail(err, errno, "pipe for hook `%s`", h->path);
        pid_t pid = fork();
        if (pid < 0) {
                close(in[0]);
                close(in[1]);
                return berth_fail(err, errno, "fork hook `%s`", h->path);
        }
        if (pid == 0) {
                char *argv0[] = {h->path, NULL}, *envp0[] = {NULL};
                dup2(in[0], 0);
                execve(h->path, h->args ? h->args : argv0, h->env ? h->env : envp0);
                _exit(127);
        }
        close(in[0]);
        /* A hook that doesn't read stdin must not block us: ignore EPIPE. */
        signal(SIGPIPE, SIG_IGN);
        berth_write_all(in[1], state, strlen(state));
        close(in[1]);
        int pfd = (int) syscall(SYS_pidfd_open, pid, 0);
        int timeout_ms = h->timeout == OCI_UNSET ? -1 : (int) h->timeout * 1000;
        if (pfd >= 0) {
                struct pollfd p = {pfd, POLLIN, 0};
                int r;
                do
                        r = poll(&p, 1, timeout_ms);
                while (r < 0 && errno == EINTR);
                close(pfd);
                if (r == 0) {
                        kill(pid, SIGKILL);
                        waitpid(pid, NULL, 0);
                        return berth_fail(err, ETIMEDOUT, "%s hook `%s` timed out after %llds",
                                          "the", h->path, (long long) h->timeout);
                }
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return berth_fail(err, errno, "wait for hook `%s`", h->path);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return berth_fail(err, 0, "hook `%s` failed (%s %d)", h->path,
                                  WIFEXITED(status) ? "exit status" : "signal",
                                  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return 0;
}

int oci_hooks_run(const struct oci_spec *s, enum oci_hook_kind k, const char *state,
                  berth_error_t *err)
{
        for (size_t i = 0; i < s->n_hooks[k]; i++)
                if (run_one(&s->hooks[k][i], state, err) < 0)
                        return berth_wrap(err, "run %s hooks", hook_names[k]);
        return 0;
}

void oci_hooks_run_warn(const struct oci_spec *s, enum oci_hook_kind k, const char *state)
{
        for (size_t i = 0; i < s->n_hooks[k]; i++) {
                berth_error_t err = NULL;
                if (run_one(&s->hooks[k][i], state, &err) < 0) {
                        log_warn("%s hook: %s", hook_names[k], berth_error_msg(err));
                        berth_error_release(&err);
                }
        }
}
