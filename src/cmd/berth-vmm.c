/* berth-vmm.c — main() of the microVM monitor: parse the command line,
 * run the VM, exit with the status that says how the guest stopped
 * (docs/vmm.md lists them). */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "common/log.h"
#include "vmm/jail.h"
#include "vmm/vmm.h"

int main(int argc, char **argv)
{
        cleanup_error berth_error_t err = NULL;
        struct vmm_config cfg;
        enum berth_log_level level = BERTH_LOG_WARN;
        /* Pid 1 of a pid namespace (berth vm's jailed VMM): a signal left at
         * its default action is dropped, not acted on, so a SIGTERM before
         * vmm_run's signalfd would be lost.  Blocked, it waits there. */
        if (getpid() == 1) {
                sigset_t sigs;
                sigemptyset(&sigs);
                sigaddset(&sigs, SIGINT);
                sigaddset(&sigs, SIGTERM);
                sigaddset(&sigs, SIGHUP);
                sigprocmask(SIG_BLOCK, &sigs, NULL);
        }

        berth_log_init("berth-vmm", level, BERTH_LOG_TEXT, NULL, NULL);
        vmm_config_init(&cfg);
        int r = vmm_config_parse_args(&cfg, argc, argv, &err);
        if (r == 1) {
                r = 0;
        } else if (r < 0) {
                r = berth_error_report(&err, VMM_EXIT_USAGE);
                fprintf(stderr, "Try `berth-vmm --help`.\n");
        } else if (cfg.log_level && berth_log_parse_level(cfg.log_level, &level, &err) < 0) {
                r = berth_error_report(&err, VMM_EXIT_USAGE);
        } else {
                berth_log_set_level(level);
                int status = 0, j = 0;
                if (vmm_config_validate(&cfg, &err) < 0) {
                        r = berth_error_report(&err, VMM_EXIT_USAGE);
                } else {
                        /* --jail: this process stays outside as the jailed VMM's
                         * supervisor (j == 1); the VM runs in its child (j == 0). */
                        if (cfg.jail)
                                j = vmm_jail_enter(&cfg, &status, &err);
                        if (j == 0 && cfg.wait_fd >= 0)
                                vmm_wait_fd(cfg.wait_fd);
                        if (j == 1)
                                r = status;
                        else if (j < 0 || (r = vmm_run(&cfg, &err)) < 0)
                                r = berth_error_report(&err, VMM_EXIT_ERROR);
                }
        }
        vmm_config_release(&cfg);
        return r;
}
