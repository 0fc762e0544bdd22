#!/usr/bin/env python3
"""snapshot_diff.py RUNS MEM_MIB FILL_MIB COUNT_MIB VMM GUEST OUTDIR: berth-vmm's Diff snapshots
against its Full ones, and against QEMU's save of the same guest (QEMU has no diff snapshot:
its `migrate "exec:cat > FILE"` writes every page each time).

The guest (--track-dirty-pages) writes FILL_MIB once (guest.fill) and then rewrites COUNT_MIB
continuously (guest.count): what a diff snapshot is for.  Each round lets it run 0.2 s, pauses
it and times PUT /snapshot/create, Full and Diff alternately (so each covers 0.2 s of writes).
Prints "<name> <median ms> <min> <max>" lines and "bytes FULL DIFF" (the files' allocated
sizes), then the restore of the chain (Full's memory + one Diff) against the Full one alone:
process start to the first KVM_RUN.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from snapshot import api, console_has, med, qemu, restore_ms, wait_for  # noqa: E402


def main():
    runs, mem, fill, count, vmm, guest, out = sys.argv[1:8]
    runs, mem = int(runs), int(mem)
    cmdline = f"guest.count={int(count)} guest.fill={int(fill)}"
    sock, con = f"{out}/d.sock", f"{out}/d.out"
    for p in (sock, con):
        if os.path.exists(p):
            os.unlink(p)
    src = subprocess.Popen([vmm, "--kernel", guest, "--memory", str(mem), "--cmdline", cmdline,
                            "--api-sock", sock, "--track-dirty-pages"], stdin=subprocess.DEVNULL,
                           stdout=open(con, "wb"), stderr=subprocess.DEVNULL)
    full, diff = [], []
    try:
        wait_for(lambda: console_has(con, b"BERTH-GUEST count "), "the berth-vmm guest")
        for i in range(runs + 1):
            for kind, times in (("Full", full), ("Diff", diff)):
                time.sleep(0.2)
                api(sock, "PATCH", "/vm", {"state": "Paused"})
                t0 = time.monotonic()
                api(sock, "PUT", "/snapshot/create",
                    {"snapshot_type": kind, "snapshot_path": f"{out}/{kind}.snap",
                     "mem_file_path": f"{out}/{kind}.mem"})
                if i:
                    times.append((time.monotonic() - t0) * 1e3)
                api(sock, "PATCH", "/vm", {"state": "Resumed"})
    finally:
        src.kill()
        src.wait()
    print(f"save-full {med(full)}")
    print(f"save-diff {med(diff)}")
    print(f"bytes {os.stat(f'{out}/Full.mem').st_blocks * 512} "
          f"{os.stat(f'{out}/Diff.mem').st_blocks * 512}")
    rf = [restore_ms([vmm, "--restore", f"{out}/Full.snap", "--restore-mem", f"{out}/Full.mem",
                      "--log-level", "info"]) for _ in range(runs + 1)][1:]
    rd = [restore_ms([vmm, "--restore", f"{out}/Diff.snap", "--restore-mem", f"{out}/Full.mem",
                      "--restore-mem-diff", f"{out}/Diff.mem", "--log-level", "info"])
          for _ in range(runs + 1)][1:]
    print(f"restore-full {med(rf)}")
    print(f"restore-chain {med(rd)}")
    qs, _, qbytes = qemu(runs, mem, cmdline, guest, out, b"BERTH-GUEST count ")
    print(f"save-qemu {med(qs)}")
    print(f"bytes-qemu {qbytes}")


if __name__ == "__main__":
    main()
