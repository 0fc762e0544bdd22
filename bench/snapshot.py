#!/usr/bin/env python3
"""snapshot.py RUNS MEM_MIB MODE VMM GUEST OUTDIR: full snapshot save and restore, berth-vmm
against QEMU (microvm) on the same test guest, memory size and command line.

MODE is "idle" (guest.idle=1: ticks, touches little) or a number of MiB the guest rewrites
continuously (guest.count=N).  Prints one line per measure: "<name> <median ms> <min> <max>".

  save     berth-vmm: PUT /snapshot/create on the paused VM, until its answer;
           QEMU: `migrate "exec:cat > FILE"` on the stopped VM, until query-migrate says
           completed (both paused first; the pause is not counted)
  restore  process start (the clock read before posix_spawn) to the guest running again:
           berth-vmm --restore: vCPU 0's first KVM_RUN (the VMM logs CLOCK_MONOTONIC then);
           QEMU -incoming "exec:cat FILE": the incoming migration completed (QMP polled),
           `cont`, and query-status says "running"
"""
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time

FIRST_RUN = re.compile(rb"first KVM_RUN [0-9.]+ ms after the VMM started "
                       rb"\(CLOCK_MONOTONIC ([0-9]+)\.([0-9]{9})\)")


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost")
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(self.path)


def api(sock, method, path, body=None):
    c = UnixHTTP(sock)
    c.request(method, path, json.dumps(body) if body is not None else None)
    r = c.getresponse()
    data = r.read()
    c.close()
    if r.status >= 300:
        sys.exit(f"berth-vmm {method} {path}: {r.status} {data!r}")


def wait_for(pred, what, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.002)
    sys.exit(f"timed out waiting for {what}")


def console_has(path, text):
    try:
        with open(path, "rb") as f:
            return text in f.read()
    except FileNotFoundError:
        return False


class QMP:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX)
        self.s.connect(path)
        self.f = self.s.makefile("rwb")
        self.f.readline()  # greeting
        self.cmd("qmp_capabilities")

    def cmd(self, name, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.f.write(json.dumps(msg).encode() + b"\n")
        self.f.flush()
        while True:
            r = json.loads(self.f.readline())
            if "event" in r:
                continue
            if "error" in r:
                sys.exit(f"qmp {name}: {r['error']}")
            return r["return"]

    def close(self):
        self.s.close()


def med(xs):
    return f"{statistics.median(xs):.2f} {min(xs):.2f} {max(xs):.2f}"


def berth(runs, mem, cmdline, vmm, guest, out, marker):
    sock, snap, memf, con = (f"{out}/b.sock", f"{out}/b.snap", f"{out}/b.mem", f"{out}/b.out")
    for p in (sock, con):
        if os.path.exists(p):
            os.unlink(p)
    src = subprocess.Popen([vmm, "--kernel", guest, "--memory", str(mem), "--cmdline", cmdline,
                            "--api-sock", sock], stdin=subprocess.DEVNULL,
                           stdout=open(con, "wb"), stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: console_has(con, marker), "the berth-vmm guest")
        save = []
        for _ in range(runs + 1):
            time.sleep(0.2)  # let the guest dirty its memory again
            api(sock, "PATCH", "/vm", {"state": "Paused"})
            t0 = time.monotonic()
            api(sock, "PUT", "/snapshot/create", {"snapshot_type": "Full", "snapshot_path": snap,
                                                  "mem_file_path": memf})
            save.append((time.monotonic() - t0) * 1e3)
            api(sock, "PATCH", "/vm", {"state": "Resumed"})
    finally:
        src.kill()
        src.wait()
    cmd = [vmm, "--restore", snap, "--restore-mem", memf, "--log-level", "info"]
    restore = [restore_ms(cmd) for _ in range(runs + 1)]
    return save[1:], restore[1:], os.stat(memf).st_blocks * 512


def restore_ms(cmd):
    """berth-vmm --restore ... from process start to vCPU 0's first KVM_RUN, in ms."""
    r, w = os.pipe()
    t0 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=w)
    os.close(w)
    err = b""
    while not FIRST_RUN.search(err):
        chunk = os.read(r, 65536)
        if not chunk:
            sys.exit(f"berth-vmm --restore: no first KVM_RUN: {err[-300:]!r}")
        err += chunk
    m = FIRST_RUN.search(err)
    t1 = int(m.group(1)) * 1_000_000_000 + int(m.group(2))
    p.kill()
    p.wait()
    os.close(r)
    return (t1 - t0) / 1e6


def qemu_cmd(mem, cmdline, guest, qmp):
    return ["qemu-system-x86_64", "-M", "microvm,x-option-roms=off,rtc=off", "-enable-kvm",
            "-cpu", "host,-arch-capabilities", "-m", str(mem), "-nodefaults", "-no-user-config",
            "-display", "none", "-serial", "stdio", "-kernel", guest, "-append", cmdline,
            "-qmp", f"unix:{qmp},server=on,wait=off"]


def qemu(runs, mem, cmdline, guest, out, marker):
    qmp, state, con = f"{out}/q.qmp", f"{out}/q.state", f"{out}/q.out"
    for p in (qmp, con):
        if os.path.exists(p):
            os.unlink(p)
    src = subprocess.Popen(qemu_cmd(mem, cmdline, guest, qmp), stdin=subprocess.DEVNULL,
                           stdout=open(con, "wb"), stderr=subprocess.DEVNULL)
    save = []
    try:
        wait_for(lambda: console_has(con, marker), "the QEMU guest")
        q = QMP(qmp)
        for _ in range(runs + 1):
            time.sleep(0.2)
            q.cmd("stop")
            t0 = time.monotonic()
            q.cmd("migrate", uri=f"exec:cat > {state}")
            while q.cmd("query-migrate").get("status") not in ("completed", "failed"):
                time.sleep(0.0005)
            save.append((time.monotonic() - t0) * 1e3)
            q.cmd("cont")
        q.close()
    finally:
        src.kill()
        src.wait()
    restore = []
    for _ in range(runs + 1):
        if os.path.exists(qmp):
            os.unlink(qmp)
        t0 = time.monotonic()
        p = subprocess.Popen(qemu_cmd(mem, cmdline, guest, qmp) +
                             ["-incoming", f"exec:cat {state}"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            q = None
            end = time.monotonic() + 20
            while q is None:  # the socket exists a moment before QEMU listens on it
                try:
                    q = QMP(qmp)
                except (FileNotFoundError, ConnectionRefusedError):
                    if time.monotonic() > end:
                        raise
                    time.sleep(0.0005)
            # The state was saved stopped, so QEMU loads it paused (as berth-vmm's was
            # saved): `cont` as soon as the incoming migration is complete.
            while q.cmd("query-migrate").get("status") != "completed":
                time.sleep(0.0005)
            q.cmd("cont")
            while q.cmd("query-status").get("status") != "running":
                time.sleep(0.0005)
            restore.append((time.monotonic() - t0) * 1e3)
            q.close()
        finally:
            p.kill()
            p.wait()
    return save[1:], restore[1:], os.path.getsize(state)


def main():
    runs, mem, mode, vmm, guest, out = sys.argv[1:7]
    runs, mem = int(runs), int(mem)
    if mode == "idle":
        cmdline, marker = "guest.idle=1", b"BERTH-GUEST tick 1\n"
    else:
        cmdline, marker = f"guest.count={int(mode)}", b"BERTH-GUEST count "
    bs, br, bbytes = berth(runs, mem, cmdline, vmm, guest, out, marker)
    qs, qr, qbytes = qemu(runs, mem, cmdline, guest, out, marker)
    print(f"save-berth {med(bs)}")
    print(f"save-qemu {med(qs)}")
    print(f"restore-berth {med(br)}")
    print(f"restore-qemu {med(qr)}")
    print(f"bytes {bbytes} {qbytes}")


if __name__ == "__main__":
    main()
