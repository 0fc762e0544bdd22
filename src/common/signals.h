/* signals.h — signal names as users and runc's CLI write them. */
#ifndef BERTH_COMMON_SIGNALS_H
#define BERTH_COMMON_SIGNALS_H

/* "KILL", "SIGKILL", "kill", "9", "RTMIN+3", "SIGRTMAX-1" → the number; -1 if unknown. */
int berth_signal_number(const char *s);

#endif
