/* monitor.h — berth-monitor, one small process per container (Podman's
 * conmon, containerd's shim): parent and reaper of the container's init,
 * owner of its stdio or pty, writer of its json-file log, server of its
 * attach socket, recorder of its exit (status, time, OOM), and executor of
 * its restart policy.  The CLI can exit; the monitor keeps the container.
 *
 *   berth-monitor [--wait-attach] [--remove-on-exit] ID
 *
 * State directories come from the environment as for `berth`
 * (BERTH_RUN_DIR/BERTH_DATA_DIR or the defaults).  Fd 3, when open, is the
 * sync pipe to the `berth` call that spawned it: one line, "created",
 * "started PID" or "error STATUS MESSAGE", and then closed. */
#ifndef BERTH_ENGINE_MONITOR_H
#define BERTH_ENGINE_MONITOR_H

int eng_monitor_main(int argc, char **argv);

#endif
