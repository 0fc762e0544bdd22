/* signals.c — signal name ↔ number (see signals.h). */
#include "common/signals.h"

#include <ctype.h>
#include <signal.h>
#include <stdlib.h>
#include <strings.h>

#include "common/util.h"

static const struct {
        const char *name;
        int num;
} signals[] = {
        {"HUP", SIGHUP},       {"INT", SIGINT},   {"QUIT", SIGQUIT},     {"ILL", SIGILL},
        {"TRAP", SIGTRAP},     {"ABRT", SIGABRT}, {"IOT", SIGIOT},       {"BUS", SIGBUS},
        {"FPE", SIGFPE},       {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
        {"USR2", SIGUSR2},     {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},
        {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},     {"STOP", SIGSTOP},
        {"TSTP", SIGTSTP},     {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
        {"XCPU", SIGXCPU},     {"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF},
        {"WINCH", SIGWINCH},   {"IO", SIGIO},     {"POLL", SIGPOLL},     {"PWR", SIGPWR},
        {"SYS", SIGSYS},
};

int berth_signal_number(const char *s)
{
        if (s == NULL || *s == '\0')
                return -1;
        if (isdigit((unsigned char) *s)) {
                char *end;
                long n = strtol(s, &end, 10);
                return (*end == '\0' && n > 0 && n < NSIG) ? (int) n : -1;
        }
        const char *n = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(signals); i++)
                if (strcasecmp(signals[i].name, n) == 0)
                        return signals[i].num;
        if (strncasecmp(n, "RTMIN+", 6) == 0 || strncasecmp(n, "RTMAX-", 6) == 0) {
                char *end;
                long off = strtol(n + 6, &end, 10);
                int v = toupper((unsigned char) n[3]) == 'I' ? SIGRTMIN + (int) off
                                                             : SIGRTMAX - (int) off;
                if (*end == '\0' && off >= 0 && v >= SIGRTMIN && v <= SIGRTMAX)
                        return v;
        }
        return -1;
}
