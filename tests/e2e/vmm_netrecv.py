#!/usr/bin/env python3
"""vmm_netrecv.py TAP N SIZE [--before CMD] -- VMM ARGS...: run berth-vmm with
the test guest in guest.netrecv=N mode; when the guest says it is ready,
(run CMD through the shell, then) send N Ethernet frames of SIZE bytes to it
through TAP at once, and time how long until the guest reports them all.

Prints "<ms> <the guest's count line>".  The frames are written to the tap
interface with an AF_PACKET socket, so they queue in the tap for the VMM to
read: how fast they reach the guest is the VMM's receive path (and its rate
limiter) alone.  Run inside the test's network namespace.
"""
import socket
import subprocess
import sys
import time


def main():
    sep = sys.argv.index("--")
    tap, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    before = sys.argv[5] if sys.argv[4:5] == ["--before"] else None
    cmd = sys.argv[sep + 1:]
    mac = open(f"/sys/class/net/{tap}/address").read().strip()
    src = bytes.fromhex(mac.replace(":", ""))
    vmm = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
    guest_mac, t0, line, seen = None, None, None, []
    for raw in vmm.stdout:
        text = raw.decode(errors="replace").rstrip()
        seen = (seen + [text])[-20:]
        if text.startswith("BERTH-GUEST net: mac "):
            guest_mac = bytes.fromhex(text.split()[3].replace(":", ""))
        if text.startswith("BERTH-GUEST netrecv: ready"):
            if before:
                subprocess.run(before, shell=True, check=True)
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            s.bind((tap, 0))
            frame = guest_mac + src + b"\x88\xb5" + bytes(size - 14)
            t0 = time.monotonic()
            for _ in range(n):
                s.send(frame)
            s.close()
        if text.startswith("BERTH-GUEST netrecv: got"):
            line = text
            t1 = time.monotonic()
    vmm.wait()
    if t0 is None or line is None:
        sys.exit(f"the guest never got ready or never counted (status {vmm.returncode}); "
                 "its last lines:\n" + "\n".join(seen))
    print(f"{(t1 - t0) * 1e3:.0f} {line}")


main()
