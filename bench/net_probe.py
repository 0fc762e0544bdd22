#!/usr/bin/env python3
"""bench/net_probe.py — the in-process timers of bench/net.sh (a process per probe would be
slower than what is measured).

  net_probe.py firstcurl REPS PORT 'RUN CMD' 'RM CMD'
      REPS times: run RUN CMD (it starts a detached web server published on PORT), then poll
      http://127.0.0.1:PORT/ (connect, GET, a 200 status line; 1 ms between tries) until it
      answers; the time from starting RUN CMD to that answer is one sample.  RM CMD runs after
      each sample, untimed.  Prints a JSON list of samples in ms.
  net_probe.py dns SERVER NAME COUNT
      COUNT A queries for NAME to SERVER:53 over UDP, one at a time, each timed from send to
      the matching answer (rcode 0, at least one answer record).  Prints JSON statistics in ms
      and the first A record's address ("answer").
Commands are split with shlex (no shell).  Run it inside the network namespace that is to be
measured (nsenter --net=...): everything it starts inherits that namespace.
"""
import json
import random
import shlex
import socket
import statistics
import struct
import subprocess
import sys
import time


def http_ok(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    return False
                data += chunk
            return data.split(b"\r\n", 1)[0].split()[1:2] == [b"200"]
    except OSError:
        return False


def firstcurl(reps, port, run_cmd, rm_cmd):
    run_argv, rm_argv = shlex.split(run_cmd), shlex.split(rm_cmd)
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        r = subprocess.run(run_argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if r.returncode != 0:
            sys.stderr.write("net_probe: %s: exit %d: %s\n" % (run_cmd, r.returncode,
                                                               r.stderr.decode(errors="replace")))
            sys.exit(1)
        deadline = t0 + 30
        while not http_ok(port):
            if time.perf_counter() > deadline:
                sys.stderr.write("net_probe: no HTTP 200 on 127.0.0.1:%d after 30 s\n" % port)
                subprocess.run(rm_argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                sys.exit(1)
            time.sleep(0.001)
        out.append((time.perf_counter() - t0) * 1000)
        subprocess.run(rm_argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print(json.dumps(out))


def first_a(msg):
    """The address in the first A record of a DNS answer (or "")."""
    i = 12
    for _ in range(struct.unpack("!H", msg[4:6])[0]):  # skip the questions
        while msg[i] and msg[i] < 0xC0:
            i += msg[i] + 1
        i += 2 + 4 if msg[i] >= 0xC0 else 1 + 4
    for _ in range(struct.unpack("!H", msg[6:8])[0]):
        while msg[i] and msg[i] < 0xC0:
            i += msg[i] + 1
        i += 2 if msg[i] >= 0xC0 else 1
        rtype, _, _, rdlen = struct.unpack("!HHIH", msg[i:i + 10])
        i += 10
        if rtype == 1 and rdlen == 4:
            return socket.inet_ntoa(msg[i:i + 4])
        i += rdlen
    return ""


def dns(server, name, count):
    qname = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".") if p) + b"\0"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect((server, 53))
    s.settimeout(1.0)
    samples, fails, answer, warm_ok = [], 0, "", False
    for i in range(count + 20):  # the first 20 warm caches and are not counted
        qid = random.getrandbits(16)
        q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + struct.pack("!HH", 1, 1)
        t0 = time.perf_counter()
        s.send(q)
        ok = False
        try:
            while True:
                a = s.recv(4096)
                if len(a) >= 12 and struct.unpack("!H", a[:2])[0] == qid:
                    flags, _, an = struct.unpack("!HHH", a[2:8])
                    ok = (flags & 0xF) == 0 and an >= 1
                    if ok and not answer:
                        answer = first_a(a)
                    break
        except socket.timeout:
            pass
        dt = (time.perf_counter() - t0) * 1000
        if i < 20:
            warm_ok = warm_ok or ok
            if i == 19 and not warm_ok:
                break  # no answer to any of the first 20: no resolver there
            continue
        if ok:
            samples.append(dt)
        else:
            fails += 1
    if not samples:
        print(json.dumps({"ok": 0, "failed": max(fails, 20), "answer": answer}))
        sys.exit(1)
    samples.sort()
    print(json.dumps({
        "ok": len(samples), "failed": fails, "answer": answer,
        "median": statistics.median(samples), "mean": statistics.fmean(samples),
        "p90": samples[int(len(samples) * 0.9) - 1], "p99": samples[int(len(samples) * 0.99) - 1],
    }))


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "firstcurl":
        firstcurl(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5])
    elif len(sys.argv) == 5 and sys.argv[1] == "dns":
        dns(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        sys.stderr.write(__doc__)
        sys.exit(2)


if __name__ == "__main__":
    main()
