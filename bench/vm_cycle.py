#!/usr/bin/env python3
"""vm_cycle.py RUNS MARKER berth NAME | qemu CMD...: start -> MARKER on the
console -> gone, over RUNS runs, for a managed VM (`berth vm start NAME`,
its console.log polled every 0.5 ms, then `berth vm destroy NAME`) or for a
QEMU command (its stdout read, then SIGKILL and wait).

Prints one line: "<median ms to marker> <median ms marker -> gone>
<median RSS KiB at the marker> <median anonymous RSS KiB>", summed over the
VM's processes (supervisor and berth-vmm; QEMU's one process)."""
import json
import os
import signal
import statistics
import subprocess
import sys
import time


def rss_kib(pid, field="VmRSS:"):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def mem(pids):
    """(RSS, anonymous RSS) summed: what the processes hold, and what only
    they hold (file pages of binaries and libraries are shared by all VMs)."""
    return (sum(rss_kib(p) for p in pids), sum(rss_kib(p, "RssAnon:") for p in pids))


def berth_once(berth, name, marker):
    log = os.path.join(os.environ["BERTH_DATA_DIR"], "vms", name, "console.log")
    if os.path.exists(log):
        os.unlink(log)
    t0 = time.monotonic()
    subprocess.run([berth, "vm", "start", name], check=True, stdout=subprocess.DEVNULL)
    while True:
        try:
            with open(log, "rb") as f:
                if marker in f.read():
                    break
        except FileNotFoundError:
            pass
        time.sleep(0.0005)
    t1 = time.monotonic()
    st = json.loads(subprocess.run([berth, "vm", "inspect", name], check=True,
                                   capture_output=True).stdout)["State"]
    rss = mem([st["Pid"], st["SupervisorPid"]])
    t2 = time.monotonic()
    subprocess.run([berth, "vm", "destroy", name], check=True, stdout=subprocess.DEVNULL)
    t3 = time.monotonic()
    return (t1 - t0) * 1e3, (t3 - t2) * 1e3, rss[0], rss[1]


def qemu_once(cmd, marker):
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL)
    buf = b""
    while marker not in buf:
        chunk = os.read(p.stdout.fileno(), 65536)
        if not chunk:
            sys.exit(f"qemu exited before {marker!r}: {buf[-300:]!r}")
        buf += chunk
    t1 = time.monotonic()
    rss = mem([p.pid])
    t2 = time.monotonic()
    p.send_signal(signal.SIGKILL)
    p.wait()
    t3 = time.monotonic()
    return (t1 - t0) * 1e3, (t3 - t2) * 1e3, rss[0], rss[1]


def main():
    runs, marker, kind = int(sys.argv[1]), sys.argv[2].encode(), sys.argv[3]
    res = [berth_once(sys.argv[4], sys.argv[5], marker) if kind == "berth"
           else qemu_once(sys.argv[4:], marker) for _ in range(runs)]
    print(" ".join(f"{statistics.median(r[i] for r in res):.2f}" for i in range(4)))


main()
