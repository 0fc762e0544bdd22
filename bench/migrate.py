#!/usr/bin/env python3
"""migrate.py RUNS MEM_MIB MODE BW KIND VMM GUEST OUTDIR: live migration between two
processes on this host (KIND: pre for pre-copy, post for post-copy), berth-vmm against QEMU (microvm) on the same test guest, memory size,
command line and bandwidth cap.

MODE is "idle" (guest.idle=1), a number of MiB the guest rewrites continuously
(guest.count=N), or "disk:N": the guest rewrites N MiB of a 64 MiB qcow2 disk (guest.blkcount=N)
and the disk moves with it (berth-vmm: "copy_storage" and --migrate-disk; QEMU: block
migration, `migrate` with "blk": true, into an empty image on the destination).  BW is the cap in MiB/s, 0 for none.  Prints one line per measure:
"<name> <median> <min> <max>" for total-berth, down-berth, mib-berth, rounds-berth and the
same for qemu.

  berth-vmm  source --kernel ... --api-sock S; destination --migrate-incoming tcp:127.0.0.1:P;
             PUT /migrate {"destination", "max_downtime_ms": 300, "bandwidth_mib"} answers when
             the destination has acked: its total_ms, downtime_ms, bytes, rounds
  QEMU       source as bench/snapshot.py boots it; destination the same with
             -incoming tcp:127.0.0.1:P; migrate_set_parameters downtime-limit 300
             max-bandwidth BW (1 TiB/s for none: its 32 MiB/s default lifted), `migrate
             tcp:...`, query-migrate until completed (300 s at most): its
             total-time, downtime, ram.total transferred, dirty-sync-count
  post-copy  berth-vmm: "postcopy": true in the PUT; QEMU: the postcopy-ram capability on both
             ends and migrate-start-postcopy right after `migrate`
"""
import json
import os
import socket
import subprocess
import sys
import time

# the HTTP client, waits, QMP and the QEMU line are bench/snapshot.py's
from snapshot import QMP, UnixHTTP, console_has, med, qemu_cmd, wait_for


def api(sock, method, path, body=None, timeout=600):
    c = UnixHTTP(sock)
    c.timeout = timeout
    c.request(method, path, json.dumps(body) if body is not None else None)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, json.loads(data) if data else None


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


DISK_MIB = 64


def disks(out, who):
    """A fresh source and destination qcow2 of DISK_MIB for one run."""
    pair = (f"{out}/{who}-src.qcow2", f"{out}/{who}-dst.qcow2")
    for p in pair:
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", p, f"{DISK_MIB}M"], check=True)
    return pair


def berth(runs, mem, cmdline, bw, post, vmm, guest, out, marker, storage=False):
    res = {"total": [], "down": [], "sent": [], "mib": [], "rounds": []}
    for i in range(runs):
        sock, con, dcon = f"{out}/b.sock", f"{out}/b.out", f"{out}/bd.out"
        for p in (sock, con, dcon):
            if os.path.exists(p):
                os.unlink(p)
        port = free_port()
        sd, dd = disks(out, "b") if storage else (None, None)
        dst = subprocess.Popen([vmm, "--migrate-incoming", f"tcp:127.0.0.1:{port}"] +
                               (["--migrate-disk", f"0:{dd}"] if storage else []),
                               stdin=subprocess.DEVNULL, stdout=open(dcon, "wb"),
                               stderr=subprocess.DEVNULL)
        src = subprocess.Popen([vmm, "--kernel", guest, "--memory", str(mem), "--cmdline",
                                cmdline, "--api-sock", sock] + (["--disk", sd] if storage else []),
                               stdin=subprocess.DEVNULL, stdout=open(con, "wb"),
                               stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: console_has(con, marker), "the berth-vmm guest")
            time.sleep(1)  # the guest dirties at its steady rate
            st, r = api(sock, "PUT", "/migrate", {"destination": f"tcp:127.0.0.1:{port}",
                                                  "max_downtime_ms": 300, "bandwidth_mib": bw,
                                                  "postcopy": post, "copy_storage": storage})
            if st != 200:
                sys.exit(f"berth-vmm PUT /migrate: {st} {r}")
            res["total"].append(r["total_ms"])
            res["down"].append(r["downtime_ms"])
            res["sent"].append(r["downtime_sent_ms"])
            res["mib"].append(r["bytes"] / 1048576)
            res["rounds"].append(r["rounds"])
            src.wait(timeout=10)
        finally:
            for p in (src, dst):
                p.kill()
                p.wait()
    return res


def qemu_disk_cmd(mem, cmdline, guest, qmp, disk):
    """qemu_cmd with a virtio-blk disk the test guest finds on its command line."""
    cmd = qemu_cmd(mem, cmdline, guest, qmp)
    cmd[cmd.index("-M") + 1] += ",acpi=off"
    return cmd + ["-global", "virtio-mmio.force-legacy=false", "-drive",
                  f"id=d0,file={disk},format=qcow2,if=none", "-device",
                  "virtio-blk-device,drive=d0"]


def qemu(runs, mem, cmdline, bw, post, guest, out, marker, storage=False):
    res = {"total": [], "down": [], "sent": [], "mib": [], "rounds": []}
    for i in range(runs):
        sq, dq, con = f"{out}/qs.qmp", f"{out}/qd.qmp", f"{out}/q.out"
        for p in (sq, dq, con):
            if os.path.exists(p):
                os.unlink(p)
        port = free_port()
        if storage:
            sd, dd = disks(out, "q")
            dcmd, scmd = (qemu_disk_cmd(mem, cmdline, guest, dq, dd),
                          qemu_disk_cmd(mem, cmdline, guest, sq, sd))
        else:
            dcmd, scmd = qemu_cmd(mem, cmdline, guest, dq), qemu_cmd(mem, cmdline, guest, sq)
        dst = subprocess.Popen(dcmd + ["-incoming", f"tcp:127.0.0.1:{port}"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
        src = subprocess.Popen(scmd, stdin=subprocess.DEVNULL, stdout=open(con, "wb"),
                               stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: console_has(con, marker), "the QEMU guest")
            wait_for(lambda: os.path.exists(dq), "the destination's QMP socket")
            time.sleep(1)
            q = QMP(sq)
            # No cap: lift QEMU 7.2's default of 32 MiB/s (berth-vmm has none),
            # which a guest rewriting 128 MiB would outrun for ever.
            params = {"downtime-limit": 300, "max-bandwidth": (bw << 20) if bw else 1 << 40}
            if post and bw:  # post-copy has its own cap, unlimited by default
                params["max-postcopy-bandwidth"] = bw << 20
            q.cmd("migrate-set-parameters", **params)
            if post:
                caps = [{"capability": "postcopy-ram", "state": True}]
                d = QMP(dq)
                d.cmd("migrate-set-capabilities", capabilities=caps)
                d.close()
                q.cmd("migrate-set-capabilities", capabilities=caps)
            if storage:
                q.cmd("migrate", uri=f"tcp:127.0.0.1:{port}", blk=True)
            else:
                q.cmd("migrate", uri=f"tcp:127.0.0.1:{port}")
            if post:
                q.cmd("migrate-start-postcopy")
            give_up = time.monotonic() + 300
            while True:
                m = q.cmd("query-migrate")
                if m.get("status") in ("completed", "failed") or time.monotonic() > give_up:
                    break
                time.sleep(0.01)
            if m["status"] != "completed":
                sys.exit(f"qemu migrate: {m}")
            res["total"].append(m["total-time"])
            res["down"].append(m["downtime"])
            res["sent"].append(m["downtime"])  # QEMU's downtime ends when its state is sent
            res["mib"].append((m["ram"]["transferred"] +
                               m.get("disk", {}).get("transferred", 0)) / 1048576)
            res["rounds"].append(m["ram"].get("dirty-sync-count", 0))
            q.close()
        finally:
            for p in (src, dst):
                p.kill()
                p.wait()
    return res


def main():
    runs, mem, mode, bw = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
    post = sys.argv[5] == "post"
    vmm, guest, out = sys.argv[6], sys.argv[7], sys.argv[8]
    storage = mode.startswith("disk:")
    if mode == "idle":
        cmdline, marker = "guest.idle=1", b"BERTH-GUEST tick 1\n"
    elif storage:
        cmdline, marker = f"guest.blkcount={int(mode[5:])}", b"BERTH-GUEST blkcount "
    else:
        cmdline, marker = f"guest.count={int(mode)}", b"BERTH-GUEST count "
    # one of each in turn: a change of load meets both alike
    b, q = None, None
    for _ in range(runs):
        b1 = berth(1, mem, cmdline, bw, post, vmm, guest, out, marker, storage)
        q1 = qemu(1, mem, cmdline, bw, post, guest, out, marker, storage)
        b = b1 if b is None else {k: b[k] + b1[k] for k in b}
        q = q1 if q is None else {k: q[k] + q1[k] for k in q}
    for k in ("total", "down", "sent", "mib", "rounds"):
        print(f"{k}-berth {med(b[k])}")
        print(f"{k}-qemu {med(q[k])}")


if __name__ == "__main__":
    main()
