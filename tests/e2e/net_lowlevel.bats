#!/usr/bin/env bats
# net_lowlevel.bats — the firewall (table inet berth) and the per-network dnsmasq, driven by
# tests/unit/net_driver, all inside network namespaces this file makes: "host" (where berth's
# table, bridges and dnsmasq live), "c1"/"c2"/"c3" (containers on br-a, br-b and the internal
# br-c) and "out" (the world, behind the host's ext device).  Nothing touches the real host's
# ruleset or addresses.  Namespaces are held by `unshare -n sleep` processes, killed at the end.
#
#   out 192.0.2.2 ── ext 192.0.2.1 [host] br-a 10.88.0.1 ── c1 10.88.0.2
#                                         br-b 10.89.0.1 ── c2 10.89.0.2
#                                         br-c 10.90.0.1 ── c3 10.90.0.2  (internal)

load helpers

DRV="$BERTH_BUILD/tests/unit/net_driver"

in_ns() { # in_ns PID CMD... — run CMD in the network namespace of PID
        local p="$1"
        shift
        nsenter -t "$p" -n "$@"
}
host() { in_ns "$(cat "$BATS_FILE_TMPDIR/host.pid")" "$@"; }
ns_pid() { cat "$BATS_FILE_TMPDIR/$1.pid"; }
tool() { python3 "$BATS_FILE_TMPDIR/nettool.py" "$@"; }

new_ns() { # new_ns NAME — a namespace held by a sleep; pid in $BATS_FILE_TMPDIR/NAME.pid
        unshare -n sleep infinity >/dev/null 2>&1 3>&- &
        echo $! >"$BATS_FILE_TMPDIR/$1.pid"
        sleep 0.05
        in_ns $! ip link set lo up
}

# attach NS BRIDGE HOSTSIDE ADDR/LEN GW
attach() {
        host ip link add "$3" type veth peer name eth0 netns "$(ns_pid "$1")"
        host ip link set "$3" master "$2" up
        # what sandbox.c must do (as Docker does): with br_netfilter, a container's connection
        # to its own published port is bridged back out of the port it came in by
        host bridge link set dev "$3" hairpin on
        in_ns "$(ns_pid "$1")" ip addr add "$4" dev eth0
        in_ns "$(ns_pid "$1")" ip link set eth0 up
        in_ns "$(ns_pid "$1")" ip route add default via "$5"
}

bridge() { # bridge NAME GW/LEN
        host ip link add "$1" type bridge
        host ip addr add "$2" dev "$1"
        host ip link set "$1" up
        # what bridge.c does: 127.0.0.1:PORT DNATed to a container leaves by the bridge
        host sysctl -qw "net.ipv4.conf.$1.route_localnet=1"
}

# serve NS PORT [udp]: a server in NS that answers each connection with "from PEERADDR"
serve() {
        in_ns "$(ns_pid "$1")" python3 "$BATS_FILE_TMPDIR/nettool.py" serve "$2" >/dev/null 2>&1 3>&- &
        echo $! >>"$BATS_FILE_TMPDIR/servers.pids"
}

setup_file() {
        [ "$(id -u)" = 0 ] || return 0
        command -v python3 >/dev/null && command -v nsenter >/dev/null || return 0
        cat >"$BATS_FILE_TMPDIR/nettool.py" <<'EOF'
import socket, struct, sys, time, random, threading
def serve(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(16)
    while True:
        c, peer = s.accept(); c.sendall(("from %s\n" % peer[0]).encode()); c.close()
def connect(ip, port):
    try:
        c = socket.create_connection((ip, port), timeout=2); print(c.recv(100).decode().strip())
    except OSError as e:
        print("failed: %s" % e); sys.exit(1)
T = {"A": 1, "AAAA": 28}
def name_at(m, o):
    parts = []
    while m[o]:
        if m[o] & 0xC0:
            return ".".join(parts + [name_at(m, struct.unpack(">H", m[o:o+2])[0] & 0x3FFF)[0]]).strip("."), o + 2
        parts.append(m[o+1:o+1+m[o]].decode()); o += 1 + m[o]
    return ".".join(parts), o + 1
def query(srv, name, qt, n=1):
    q = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2)
    t0 = time.perf_counter()
    for _ in range(n):
        s.sendto(struct.pack(">HHHHHH", random.randint(0, 65535), 0x0100, 1, 0, 0, 0) + q + struct.pack(">HH", T[qt], 1), (srv, 53))
        m = s.recv(4096)
    dt = (time.perf_counter() - t0) / n
    _, fl, qd, an, _, _ = struct.unpack(">HHHHHH", m[:12]); o = 12
    for _ in range(qd):
        o = name_at(m, o)[1] + 4
    out = []
    for _ in range(an):
        o = name_at(m, o)[1]; t, _, _, l = struct.unpack(">HHIH", m[o:o+10]); o += 10
        if t in (1, 28): out.append(socket.inet_ntop(socket.AF_INET if t == 1 else socket.AF_INET6, m[o:o+l]))
        o += l
    rc = fl & 0xF
    print(" ".join([{0: "NOERROR", 3: "NXDOMAIN"}.get(rc, "RCODE%d" % rc)] + out))
    if n > 1: print("latency_us %.1f" % (dt * 1e6))
def record(addr, log):  # an upstream server that logs each query and refuses it
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind((addr, 53))
    f = open(log, "a", buffering=1)
    while True:
        m, peer = s.recvfrom(4096); name, o = name_at(m, 12)
        f.write("%s %d\n" % (name, struct.unpack(">H", m[o:o+2])[0]))
        s.sendto(m[:2] + struct.pack(">H", 0x8105) + m[4:], peer)
c = sys.argv[1]
if c == "serve": serve(int(sys.argv[2]))
elif c == "connect": connect(sys.argv[2], int(sys.argv[3]))
elif c == "query": query(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]) if len(sys.argv) > 5 else 1)
elif c == "record": record(sys.argv[2], sys.argv[3])
EOF
        local n
        for n in host c1 c2 c3 out; do new_ns $n; done
        host ip link add ext type veth peer name eth0 netns "$(ns_pid out)"
        host ip addr add 192.0.2.1/24 dev ext
        host ip link set ext up
        in_ns "$(ns_pid out)" ip addr add 192.0.2.2/24 dev eth0
        in_ns "$(ns_pid out)" ip link set eth0 up
        bridge br-a 10.88.0.1/24
        bridge br-b 10.89.0.1/24
        bridge br-c 10.90.0.1/24
        attach c1 br-a va1 10.88.0.2/24 10.88.0.1
        attach c2 br-b vb1 10.89.0.2/24 10.89.0.1
        attach c3 br-c vc1 10.90.0.2/24 10.90.0.1
        : >"$BATS_FILE_TMPDIR/servers.pids"
        serve c1 80
        serve c2 80
        serve c3 80
        serve out 9000
        mkdir -p "$BATS_FILE_TMPDIR/dns"
        in_ns "$(ns_pid out)" python3 "$BATS_FILE_TMPDIR/nettool.py" record 192.0.2.2 \
                "$BATS_FILE_TMPDIR/upstream.log" >/dev/null 2>&1 3>&- &
        echo $! >>"$BATS_FILE_TMPDIR/servers.pids"
        sleep 0.3
}

teardown_file() {
        [ -f "$BATS_FILE_TMPDIR/host.pid" ] || return 0
        host "$DRV" dns-stop "$BATS_FILE_TMPDIR/dns" || true
        local p
        while read -r p; do kill "$p" 2>/dev/null || true; done <"$BATS_FILE_TMPDIR/servers.pids"
        # the pids above are the subshells that ran nsenter; the servers themselves:
        pkill -f "$BATS_FILE_TMPDIR/nettool.py" 2>/dev/null || true
        for p in host c1 c2 c3 out; do kill "$(ns_pid $p)" 2>/dev/null || true; done
}

setup() {
        require_root
        require_cmd python3 nsenter unshare nft ip
        [ -x "$DRV" ] || skip "no $DRV (build first)"
        [ -f "$BATS_FILE_TMPDIR/host.pid" ] || skip "namespaces were not made"
}

@test "net_lowlevel: fw-init makes table inet berth, idempotently, and turns on forwarding" {
        run host "$DRV" fw-init
        assert_success
        run host "$DRV" fw-init
        assert_success
        run host nft list table inet berth
        assert_success
        assert_output_contains 'comment "berth schema 1"'
        for s in 'set bridges' 'set internal' 'set masq4' 'set masq6' 'map ports4 ' 'map ports4a' \
                'map ports6 ' 'chain prerouting' 'chain output' 'chain postrouting' 'chain forward' \
                'dnat ip to meta l4proto . th dport map @ports4' \
                'dnat ip to ip daddr . meta l4proto . th dport map @ports4a' \
                'fib daddr type local jump ports' 'ip saddr @masq4 oifname != @bridges masquerade' \
                'ct status dnat ip saddr @masq4 masquerade'; do
                assert_output_contains "$s"
        done
        run host sysctl -n net.ipv4.ip_forward
        [ "$output" = 1 ]
}

@test "net_lowlevel: networks and ports are elements; adding twice and deleting twice are fine" {
        host "$DRV" fw-init
        run host "$DRV" fw-net-add br-a 10.88.0.0/24
        assert_success
        host "$DRV" fw-net-add br-a 10.88.0.0/24
        host "$DRV" fw-net-add br-b 10.89.0.0/24
        host "$DRV" fw-net-add br-c 10.90.0.0/24 internal
        host "$DRV" fw-port-add tcp "" 8080 10.88.0.2 80
        host "$DRV" fw-port-add tcp "" 8080 10.88.0.2 80
        host "$DRV" fw-port-add tcp 127.0.0.1 8081 10.88.0.2 80
        host "$DRV" fw-port-add tcp "" 8082 10.89.0.2 80
        host "$DRV" fw-port-add tcp "" 8083 10.90.0.2 80
        run host "$DRV" fw-port-add tcp "" 8080 10.88.0.9 80
        assert_failure 1
        assert_output_contains "File exists"
        assert_output_contains "command: add element inet berth ports4"
        run host nft list table inet berth
        assert_output_contains '"br-a"'
        assert_output_contains '10.88.0.0/24'
        refute_output_contains '10.90.0.0/24' # internal: not masqueraded
        assert_output_contains 'tcp . 8080 : 10.88.0.2 . 80'
        assert_output_contains '127.0.0.1 . tcp . 8081 : 10.88.0.2 . 80'
        host "$DRV" fw-port-add udp "" 9999 10.88.0.2 53
        host "$DRV" fw-port-del udp "" 9999 10.88.0.2 53
        run host "$DRV" fw-port-del udp "" 9999 10.88.0.2 53
        assert_success
        run host nft list map inet berth ports4
        refute_output_contains '9999'
}

@test "net_lowlevel: a published port reaches the container from outside, from the host and via 127.0.0.1" {
        run in_ns "$(ns_pid out)" python3 "$BATS_FILE_TMPDIR/nettool.py" connect 192.0.2.1 8080
        assert_success
        assert_output_contains "from 192.0.2.2" # DNAT only, the client's address kept
        run host python3 "$BATS_FILE_TMPDIR/nettool.py" connect 192.0.2.1 8080
        assert_success
        run host python3 "$BATS_FILE_TMPDIR/nettool.py" connect 127.0.0.1 8080
        assert_success
        assert_output_contains "from 10.88.0.1" # the loopback source masqueraded
        run host python3 "$BATS_FILE_TMPDIR/nettool.py" connect 127.0.0.1 8081
        assert_success
        # 8081 is published on 127.0.0.1 only
        run in_ns "$(ns_pid out)" python3 "$BATS_FILE_TMPDIR/nettool.py" connect 192.0.2.1 8081
        assert_failure
}

@test "net_lowlevel: containers are masqueraded going out; bridges are isolated; hairpin works" {
        run in_ns "$(ns_pid c1)" python3 "$BATS_FILE_TMPDIR/nettool.py" connect 192.0.2.2 9000
        assert_success
        assert_output_contains "from 192.0.2.1"
        run in_ns "$(ns_pid c1)" python3 "$BATS_FILE_TMPDIR/nettool.py" connect 10.89.0.2 80
        assert_failure
        run in_ns "$(ns_pid c2)" python3 "$BATS_FILE_TMPDIR/nettool.py" connect 10.88.0.2 80
        assert_failure
        # no direct routing from outside to a container's unpublished address
        in_ns "$(ns_pid out)" ip route replace 10.88.0.0/24 via 192.0.2.1
        run in_ns "$(ns_pid out)" python3 "$BATS_FILE_TMPDIR/nettool.py" connect 10.88.0.2 80
        assert_failure
        # a published port of c2 is reachable from c1 (through the host's address) ...
        run in_ns "$(ns_pid c1)" python3 "$BATS_FILE_TMPDIR/nettool.py" connect 192.0.2.1 8082
        assert_success
        assert_output_contains "from 10.89.0.1"
        # ... and c1 reaches its own published port (hairpin on one bridge)
        run in_ns "$(ns_pid c1)" python3 "$BATS_FILE_TMPDIR/nettool.py" connect 192.0.2.1 8080
        assert_success
        assert_output_contains "from 10.88.0.1"
}

@test "net_lowlevel: an internal network forwards nothing in or out" {
        run in_ns "$(ns_pid c3)" python3 "$BATS_FILE_TMPDIR/nettool.py" connect 192.0.2.2 9000
        assert_failure
        run in_ns "$(ns_pid out)" python3 "$BATS_FILE_TMPDIR/nettool.py" connect 192.0.2.1 8083
        assert_failure
        # the host itself still reaches it (not forwarded)
        run host python3 "$BATS_FILE_TMPDIR/nettool.py" connect 10.90.0.2 80
        assert_success
}

@test "net_lowlevel: a foreign ip filter FORWARD chain with policy drop (dockerd's) gets accept rules" {
        host nft add table ip filter
        host nft add chain ip filter FORWARD '{ type filter hook forward priority filter; policy drop; }'
        run in_ns "$(ns_pid c1)" python3 "$BATS_FILE_TMPDIR/nettool.py" connect 192.0.2.2 9000
        assert_failure
        host "$DRV" fw-net-add br-a 10.88.0.0/24
        host "$DRV" fw-net-add br-a 10.88.0.0/24
        run host nft list chain ip filter FORWARD
        assert_output_contains 'iifname "br-a" accept'
        assert_output_contains 'oifname "br-a" accept'
        [ "$(grep -c 'iifname "br-a" accept' <<<"$output")" = 1 ]
        run in_ns "$(ns_pid c1)" python3 "$BATS_FILE_TMPDIR/nettool.py" connect 192.0.2.2 9000
        assert_success
        # still isolated: berth's own chain filters
        run in_ns "$(ns_pid c1)" python3 "$BATS_FILE_TMPDIR/nettool.py" connect 10.89.0.2 80
        assert_failure
        if command -v iptables-nft >/dev/null; then
                run host iptables-nft -S FORWARD
                assert_success
                assert_output_contains "-i br-a -j ACCEPT"
        fi
        host "$DRV" fw-net-del br-a 10.88.0.0/24
        run host nft list chain ip filter FORWARD
        refute_output_contains 'br-a'
        host nft delete table ip filter
        host "$DRV" fw-net-add br-a 10.88.0.0/24
}

@test "net_lowlevel: dnsmasq answers container names locally and forwards only other names" {
        local dir="$BATS_FILE_TMPDIR/dns" c1
        c1="$(ns_pid c1)"
        run host "$DRV" dns-start "$dir" br-a 10.88.0.1 192.0.2.2
        assert_success
        echo "# first dns-start: $output" >&3
        run host "$DRV" dns-start "$dir" br-a 10.88.0.1 192.0.2.2
        assert_success
        echo "# dns-start when running: $output" >&3
        host "$DRV" dns-set "$dir" cid1 10.88.0.2 web web.alias.test
        sleep 0.2
        run in_ns "$c1" python3 "$BATS_FILE_TMPDIR/nettool.py" query 10.88.0.1 web A
        [ "$output" = "NOERROR 10.88.0.2" ]
        run in_ns "$c1" python3 "$BATS_FILE_TMPDIR/nettool.py" query 10.88.0.1 web.alias.test A
        [ "$output" = "NOERROR 10.88.0.2" ]
        # AAAA of an A-only name: an empty answer, not NXDOMAIN (musl would fail the name)
        run in_ns "$c1" python3 "$BATS_FILE_TMPDIR/nettool.py" query 10.88.0.1 web AAAA
        [ "$output" = "NOERROR" ]
        run in_ns "$c1" python3 "$BATS_FILE_TMPDIR/nettool.py" query 10.88.0.1 web.alias.test AAAA
        [ "$output" = "NOERROR" ]
        run in_ns "$c1" python3 "$BATS_FILE_TMPDIR/nettool.py" query 10.88.0.1 web A 300
        echo "# lookup latency from a container: ${output#*$'\n'}" >&3
        run grep -c -E '^(web|web.alias.test) ' "$BATS_FILE_TMPDIR/upstream.log"
        [ "$output" = 0 ]
        # an unknown name goes upstream, once
        run in_ns "$c1" python3 "$BATS_FILE_TMPDIR/nettool.py" query 10.88.0.1 unknown.example.org A
        run grep -c '^unknown.example.org 1$' "$BATS_FILE_TMPDIR/upstream.log"
        [ "$output" = 1 ]
        # removed records stop resolving
        host "$DRV" dns-del "$dir" cid1
        run host "$DRV" dns-del "$dir" cid1
        assert_success
        sleep 0.2
        run in_ns "$c1" python3 "$BATS_FILE_TMPDIR/nettool.py" query 10.88.0.1 web A
        [ "$output" = "NXDOMAIN" ]
        run host "$DRV" dns-stop "$dir"
        assert_success
        [ ! -f "$dir/dnsmasq.pid" ]
        run in_ns "$c1" python3 "$BATS_FILE_TMPDIR/nettool.py" query 10.88.0.1 web A
        assert_failure
}

@test "net_lowlevel: timings (net_fw_init with the table there, port add and delete)" {
        run host "$DRV" fw-bench 200
        assert_success
        echo "# $(tr '\n' ' ' <<<"$output")" >&3
        # every container start asks for the table: with it there, that must stay one cheap
        # netlink round trip (tens of µs), never a rebuild through libnftables (milliseconds)
        [[ "$output" =~ fw_init_present_us\ ([0-9]+) ]]
        [ "${BASH_REMATCH[1]}" -lt 2000 ]
}

@test "net_lowlevel: fw-flush removes the whole table, twice" {
        run host "$DRV" fw-flush
        assert_success
        run host "$DRV" fw-flush
        assert_success
        run host nft list tables
        refute_output_contains berth
}
