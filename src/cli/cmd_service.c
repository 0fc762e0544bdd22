/* cmd_service.c — `berth system service`: the Docker Engine API (src/api) on its sockets, and
 * the restart supervisor, in one long-running process. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "api/api.h"
#include "cli/cli.h"
#include "common/log.h"
#include "common/units.h"
#include "common/util.h"
#include "engine/container.h"
#include "engine/lifecycle.h"
#include "engine/network.h"
#include "vm/vm.h"

/* VMs marked autostart: all of them when the service comes up, later those
 * that crashed.  Started by `berth vm start` in a child: this process has
 * the API's threads, and a VM's supervisor is a fork of its starter. */
static void vm_autostart(struct vm_ctx *vc, bool boot)
{
        berth_error_t e = NULL;
        char **names = vm_autostart_due(vc, boot, &e);
        if (!names) {
                log_warn("autostart: %s", berth_error_msg(e));
                berth_error_release(&e);
                return;
        }
        for (char **p = names; *p; p++) {
                char exe[] = "/proc/self/exe", vm[] = "vm", start[] = "start";
                char *args[] = {exe, vm, start, *p, NULL};
                pid_t pid;
                int st = 0;
                if (posix_spawn(&pid, args[0], NULL, NULL, args, environ) == 0 &&
                    waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0)
                        log_info("autostart: VM %s started", *p);
                else
                        log_warn("autostart: VM %s did not start", *p);
                free(*p);
        }
        free(names);
}

/* The supervisor: each container is reconciled when its monitor dies (a
 * pidfd per live monitor wakes it) and every interval (for containers made
 * meanwhile), so one whose monitor died (a kill, an OOM of the monitor, a
 * reboot) is recorded as exited and, with restart policy always or
 * unless-stopped, started again.  Meant to run under systemd (docs/engine.md
 * has a unit). */
int cmd_system_service(struct cli_global *g, int argc, char **argv, berth_error_t *err)
{
        static const struct option opts[] = {{"interval", required_argument, NULL, 'i'},
                                             {"once", no_argument, NULL, 'o'},
                                             {"host", required_argument, NULL, 'H'},
                                             {"no-api", no_argument, NULL, 'n'},
                                             {"tlscacert", required_argument, NULL, 'C'},
                                             {"tlscert", required_argument, NULL, 'c'},
                                             {"tlskey", required_argument, NULL, 'k'},
                                             {"tlsverify", no_argument, NULL, 'v'},
                                             {0}};
        int64_t interval = 2000000000LL;
        bool once = false, api = true;
        struct api_listen_opts lo = {0};
        cleanup_free const char **hosts = berth_xcalloc((size_t) argc + 1, sizeof(*hosts));
        int c;
        optind = 0;
        while ((c = getopt_long(argc, argv, "H:", opts, NULL)) != -1) {
                if (c == 'i') {
                        if (berth_parse_duration(optarg, "--interval", &interval, err) < 0)
                                return -1;
                } else if (c == 'o') {
                        once = true;
                } else if (c == 'H') {
                        hosts[lo.n++] = optarg;
                } else if (c == 'n') {
                        api = false;
                } else if (c == 'C') {
                        lo.tls_ca = optarg;
                } else if (c == 'c') {
                        lo.tls_cert = optarg;
                } else if (c == 'k') {
                        lo.tls_key = optarg;
                } else if (c != 'v') { /* --tlsverify: implied by --tlscacert */
                        return cli_usage_error(err, "system service", "invalid option");
                }
        }
        /* Podman's form: `system service unix:///path` */
        for (int i = optind; i < argc; i++)
                hosts[lo.n++] = argv[i];
        lo.hosts = hosts;
        /* SIGTERM and SIGINT end the service cleanly (its sockets removed): blocked in every
         * thread, the API's included, and read here through a signalfd */
        sigset_t stop;
        sigemptyset(&stop);
        sigaddset(&stop, SIGTERM);
        sigaddset(&stop, SIGINT);
        sigaddset(&stop, SIGHUP);
        sigprocmask(SIG_BLOCK, &stop, NULL);
        cleanup_close int sfd = signalfd(-1, &stop, SFD_CLOEXEC);
        if (sfd < 0)
                return berth_fail(err, errno, "signalfd");
        /* one malloc arena for all the connection threads, handed back to the system between
         * requests (malloc_trim below): the service idles small beside the containers */
        mallopt(M_ARENA_MAX, 1);
        struct api_server *srv = NULL;
        if (api && !once && api_server_start(&g->paths, &lo, &srv, err) < 0)
                return -1;
        struct eng_ctx e;
        if (eng_ctx_init(&e, &g->paths, err) < 0) {
                api_server_stop(srv);
                return -1;
        }
        struct vm_ctx vc = {0};
        berth_error_t verr = NULL;
        bool vms = vm_ctx_init(&vc, &g->paths, &verr) == 0, boot = true;
        if (!vms) {
                log_warn("VMs: %s", berth_error_msg(verr));
                berth_error_release(&verr);
        }
        bool stopping = false;
        while (!stopping) {
                if (vms)
                        vm_autostart(&vc, boot);
                boot = false;
                struct eng_container **v = NULL;
                size_t n = 0;
                berth_error_t lerr = NULL;
                /* from the summaries: a container whose monitor died is read whole to be
                 * reconciled (and restarted by its policy) */
                if (eng_list_reconciled_brief(&e, &v, &n, &lerr) < 0) {
                        log_warn("%s", berth_error_msg(lerr));
                        berth_error_release(&lerr);
                }
                /* and what containers killed with -9 left of their networks */
                if (eng_net_gc(&e, &lerr) < 0) {
                        log_warn("%s", berth_error_msg(lerr));
                        berth_error_release(&lerr);
                }
                /* watch every live monitor: one that dies wakes us at once, the interval
                 * only catches containers made meanwhile */
                struct pollfd *fds = berth_xcalloc(n + 1, sizeof(*fds));
                fds[0] = (struct pollfd){.fd = sfd, .events = POLLIN};
                size_t nfd = 1;
                for (size_t i = 0; i < n; i++) {
                        pid_t pid = eng_monitor_pid(v[i]);
                        int fd = pid > 0 ? (int) syscall(SYS_pidfd_open, pid, 0) : -1;
                        if (fd >= 0)
                                fds[nfd++] = (struct pollfd){.fd = fd, .events = POLLIN};
                }
                eng_container_list_free(v, n);
                malloc_trim(0);
                if (!once)
                        poll(fds, nfd,
                             interval / 1000000LL > INT_MAX ? INT_MAX
                                                            : (int) (interval / 1000000LL));
                stopping = once || (fds[0].revents & POLLIN);
                for (size_t i = 1; i < nfd; i++)
                        close(fds[i].fd);
                free(fds);
        }
        eng_ctx_free(&e);
        vm_ctx_free(&vc);
        api_server_stop(srv);
        return 0;
}
