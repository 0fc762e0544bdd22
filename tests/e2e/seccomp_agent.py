#!/usr/bin/env python3
"""seccomp_agent.py SOCKET OUT COUNT FAIL ERRNO [SECONDS]: a seccomp notify agent for tests.

Listens on the unix socket SOCKET for COUNT connections of runtimes.  From the Nth it
receives the message (runc's containerProcessState JSON) and its fds (SCM_RIGHTS), writes
the JSON to OUT.N and, in OUT.N.fds, how many fds came and what the first is.  A child
then answers the notified syscalls of that fd: those whose numbers are in FAIL (a comma
list) with -ERRNO, every other one "continue", until no process is left under the filter
or SECONDS pass.  Exits 0 once COUNT came and their children are done, 1 on a timeout.
"""
import array
import fcntl
import os
import select
import socket
import struct
import sys
import time

# _IOWR('!', 0, struct seccomp_notif) and _IOWR('!', 1, struct seccomp_notif_resp)
NOTIF_SIZE, RESP_SIZE = 80, 24
IOCTL_RECV = (3 << 30) | (NOTIF_SIZE << 16) | (ord("!") << 8) | 0
IOCTL_SEND = (3 << 30) | (RESP_SIZE << 16) | (ord("!") << 8) | 1


def serve(nfd, fail, err, deadline):
    poll = select.poll()
    poll.register(nfd, select.POLLIN)
    while time.monotonic() < deadline:
        ev = poll.poll(200)
        if not ev:
            continue
        if ev[0][1] & (select.POLLHUP | select.POLLERR):
            return  # no process left under the filter
        req = bytearray(NOTIF_SIZE)
        try:
            fcntl.ioctl(nfd, IOCTL_RECV, req)
        except OSError:
            continue  # the caller went away meanwhile
        nid, _, _, nr = struct.unpack_from("<QIIi", req, 0)
        if nr in fail:
            resp = struct.pack("<QqiI", nid, 0, -err, 0)
        else:
            resp = struct.pack("<QqiI", nid, 0, 0, 1)  # SECCOMP_USER_NOTIF_FLAG_CONTINUE
        try:
            fcntl.ioctl(nfd, IOCTL_SEND, bytearray(resp))
        except OSError:
            pass


def main():
    path, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    fail = {int(n) for n in sys.argv[4].split(",") if n}
    err = int(sys.argv[5])
    limit = float(sys.argv[6]) if len(sys.argv) > 6 else 30.0
    deadline = time.monotonic() + limit
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(8)
    children = []
    for n in range(1, count + 1):
        srv.settimeout(max(deadline - time.monotonic(), 0.1))
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            return 1
        fds = array.array("i")
        msg, anc, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(16 * fds.itemsize))
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
        conn.close()
        kind = os.readlink("/proc/self/fd/%d" % fds[0]) if fds else "none"
        name = "%s.%d" % (out, n)
        with open(name + ".fds", "w") as f:
            f.write("%d %s\n" % (len(fds), kind))
        with open(name + ".tmp", "wb") as f:
            f.write(msg)
        os.rename(name + ".tmp", name)
        if not fds:
            continue
        pid = os.fork()
        if pid == 0:
            serve(fds[0], fail, err, deadline)
            os._exit(0)
        children.append(pid)
        for fd in fds:
            os.close(fd)
    for pid in children:
        os.waitpid(pid, 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
