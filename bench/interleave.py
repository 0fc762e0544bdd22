#!/usr/bin/env python3
"""bench/interleave.py — wall-clock medians of a few commands, run interleaved: each round runs
every command once, in turn, so that a machine whose load drifts (other builds on its two cores)
slows all of them alike, where hyperfine's one-command-after-another runs would favour whichever
ran in a quiet minute.  The first three rounds are warm-up.  Ratios are to the first command.

    bench/interleave.py ROUNDS NAME=COMMAND [NAME=COMMAND ...]
    bench/interleave.py 40 "berth=build/src/cmd/berth ps -a" "docker=docker -H unix://$W/docker.sock ps -a"
"""
import shlex
import statistics
import subprocess
import sys
import time

if len(sys.argv) < 3:
    sys.exit(__doc__)
rounds = int(sys.argv[1])
cmds = [a.split("=", 1) for a in sys.argv[2:]]
times = {name: [] for name, _ in cmds}
for r in range(rounds + 3):
    for name, cmd in cmds:
        start = time.perf_counter()
        subprocess.run(shlex.split(cmd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if r >= 3:
            times[name].append((time.perf_counter() - start) * 1000)
first = statistics.median(times[cmds[0][0]])
for name, _ in cmds:
    m = statistics.median(times[name])
    print(f"{name}: median {m:.1f} ms (min {min(times[name]):.1f}), {cmds[0][0]} / {name} {first / m:.2f}")
print(f"(load {open('/proc/loadavg').read().split()[0]}, {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, {rounds} rounds)")
