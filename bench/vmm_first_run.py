#!/usr/bin/env python3
"""vmm_first_run.py RUNS -- BERTH-VMM ARGS...: process start to berth-vmm's
first KVM_RUN, over RUNS runs.

The clock (CLOCK_MONOTONIC) is read just before posix_spawn; berth-vmm, run
with --log-level info, logs the same clock when vCPU 0 enters KVM_RUN for
the first time.  The difference covers exec, the dynamic loader, option
parsing and all of the VM's set-up.  Prints one line:
"<median ms> <min ms> <max ms> <median ms after vmm_run() entry>".
"""
import os
import re
import statistics
import sys
import time

LINE = re.compile(rb"first KVM_RUN ([0-9.]+) ms after the VMM started "
                  rb"\(CLOCK_MONOTONIC ([0-9]+)\.([0-9]{9})\)")


def one(cmd):
    r, w = os.pipe()
    actions = [(os.POSIX_SPAWN_CLOSE, r), (os.POSIX_SPAWN_DUP2, w, 2),
               (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)]
    t0 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    pid = os.posix_spawnp(cmd[0], cmd, os.environ, file_actions=actions)
    os.close(w)
    err = b""
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        err += chunk
    os.close(r)
    os.waitpid(pid, 0)
    m = LINE.search(err)
    if not m:
        sys.exit(f"no first-KVM_RUN line from {cmd[0]}: {err[-500:]!r}")
    t1 = int(m.group(2)) * 1_000_000_000 + int(m.group(3))
    return (t1 - t0) / 1e6, float(m.group(1))


def main():
    sep = sys.argv.index("--")
    runs = int(sys.argv[1])
    cmd = sys.argv[sep + 1:] + ["--log-level", "info"]
    one(cmd)  # warm-up
    res = [one(cmd) for _ in range(runs)]
    start = [a for a, _ in res]
    inner = [b for _, b in res]
    print(f"{statistics.median(start):.2f} {min(start):.2f} {max(start):.2f} "
          f"{statistics.median(inner):.2f}")


main()
