/* berth-init.c — the tiny init that `berth run --init` puts at pid 1 (as
 * tini or docker-init do): it starts the command as its child, forwards
 * every signal it can catch to it, reaps every zombie that gets reparented
 * to it, and exits with the command's status (128+N when killed by signal N).
 *
 * It is bind-mounted into containers whose images may have no C library, so
 * it is linked statically and uses nothing but a few system calls. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        int first = 1;
        if (argc > 1 && strcmp(argv[1], "--") == 0)
                first = 2;
        if (first >= argc) {
                fprintf(stderr, "usage: berth-init [--] COMMAND [ARG...]\n");
                return 2;
        }
        sigset_t all, old;
        sigfillset(&all);
        sigprocmask(SIG_BLOCK, &all, &old);
        pid_t child = fork();
        if (child < 0) {
                perror("berth-init: fork");
                return 1;
        }
        if (child == 0) {
                sigprocmask(SIG_SETMASK, &old, NULL);
                /* its own process group, so that a forwarded SIGINT reaches what it runs */
                setpgid(0, 0);
                tcsetpgrp(STDIN_FILENO, getpid());
                execvp(argv[first], argv + first);
                fprintf(stderr, "berth-init: exec %s: %s\n", argv[first], strerror(errno));
                _exit(errno == ENOENT ? 127 : 126);
        }
        int sfd = signalfd(-1, &all, SFD_CLOEXEC);
        if (sfd < 0) {
                perror("berth-init: signalfd");
                return 1;
        }
        for (;;) {
                struct signalfd_siginfo si;
                if (read(sfd, &si, sizeof(si)) != (ssize_t) sizeof(si)) {
                        if (errno == EINTR)
                                continue;
                        perror("berth-init: read signalfd");
                        return 1;
                }
                if (si.ssi_signo != SIGCHLD) {
                        kill(child, (int) si.ssi_signo);
                        continue;
                }
                int ws;
                pid_t w;
                while ((w = waitpid(-1, &ws, WNOHANG)) > 0) {
                        if (w != child)
                                continue; /* an orphan reparented to us: reaped, done */
                        return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
                }
        }
}
