#!/usr/bin/env python3
"""vmm_marker.py RUNS MARKER [MARKER2] -- CMD...: time from process start to
the first console line containing MARKER, and the process's peak RSS, over
RUNS runs; with MARKER2, also the time from MARKER to MARKER2.

Prints one line: "<median ms to marker> <median ms to exit> <median peak RSS KiB>"
and, with MARKER2, a fourth field: "<median ms from MARKER to MARKER2>".
The clock starts just before spawning.  Peak RSS is GNU time's %M for the
command: Linux carries the parent's high-water RSS across exec, so the
command runs under the small `time` process rather than directly under
Python (whose ~10 MiB would otherwise be counted).
"""
import os
import tempfile
import statistics
import sys
import time


def one(cmd, marker, marker2=None):
    fd, rss_file = tempfile.mkstemp(prefix="vmm-rss.")
    os.close(fd)
    cmd = ["/usr/bin/time", "-f", "%M", "-o", rss_file] + cmd
    r, w = os.pipe()
    actions = [(os.POSIX_SPAWN_CLOSE, r), (os.POSIX_SPAWN_DUP2, w, 1),
               (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0)]
    t0 = time.monotonic()
    pid = os.posix_spawnp(cmd[0], cmd, os.environ, file_actions=actions)
    os.close(w)
    buf, t_marker, t_marker2 = b"", None, None
    while True:
        chunk = os.read(r, 65536)
        if not chunk:
            break
        buf += chunk
        if t_marker is None and marker in buf:
            t_marker = time.monotonic()
        if marker2 and t_marker2 is None and marker2 in buf:
            t_marker2 = time.monotonic()
    os.close(r)
    os.waitpid(pid, 0)
    t_exit = time.monotonic()
    with open(rss_file) as f:
        rss = int(f.read().split()[-1])
    os.unlink(rss_file)
    if t_marker is None:
        sys.exit(f"marker {marker!r} never printed by {cmd[0]}; output: {buf[-500:]!r}")
    if marker2 and t_marker2 is None:
        sys.exit(f"marker {marker2!r} never printed by {cmd[0]}; output: {buf[-500:]!r}")
    between = (t_marker2 - t_marker) * 1e3 if marker2 else 0.0
    return (t_marker - t0) * 1e3, (t_exit - t0) * 1e3, rss, between


def main():
    sep = sys.argv.index("--")
    runs, marker = int(sys.argv[1]), sys.argv[2].encode()
    marker2 = sys.argv[3].encode() if sep > 3 else None
    cmd = sys.argv[sep + 1:]
    one(cmd, marker, marker2)  # warm-up: page cache, KVM module state
    res = [one(cmd, marker, marker2) for _ in range(runs)]
    med = [statistics.median(x[i] for x in res) for i in range(4)]
    line = f"{med[0]:.2f} {med[1]:.2f} {med[2]:.0f}"
    print(line + (f" {med[3]:.2f}" if marker2 else ""))


if __name__ == "__main__":
    main()
