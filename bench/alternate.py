#!/usr/bin/env python3
"""alternate.py RUNS WARMUP NAME=CMD...: the commands interleaved, one run of each per round in
an order that rotates every round, so that a drift in the machine's speed (other work, caches,
CPU frequency) falls on every command alike; hyperfine runs one command's series after the
other's.  Prints a markdown table: median, min and max wall time (ms) and each median's ratio
to the first command's.  CMD is split on spaces (no shell)."""
import os
import statistics
import subprocess
import sys
import time


def main():
    runs, warmup = int(sys.argv[1]), int(sys.argv[2])
    cmds = [a.split("=", 1) for a in sys.argv[3:]]
    times = {name: [] for name, _ in cmds}
    with open(os.devnull, "wb") as null:
        for i in range(warmup + runs):
            order = cmds[i % len(cmds):] + cmds[:i % len(cmds)]
            for name, cmd in order:
                t0 = time.perf_counter()
                subprocess.run(cmd.split(), stdin=subprocess.DEVNULL, stdout=null, stderr=null,
                               check=True)
                if i >= warmup:
                    times[name].append((time.perf_counter() - t0) * 1e3)
    base = statistics.median(times[cmds[0][0]])
    print(f"| command | median (ms) | min-max (ms) | ratio to {cmds[0][0]} |")
    print("|---|---|---|---|")
    for name, _ in cmds:
        t = times[name]
        m = statistics.median(t)
        print(f"| {name} | {m:.2f} | {min(t):.2f}-{max(t):.2f} | {m / base:.2f} |")


if __name__ == "__main__":
    main()
