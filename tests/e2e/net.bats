#!/usr/bin/env bats
# net.bats — containers on networks, end to end on the real kernel: published ports from the
# host and from containers, names on user networks, isolation, outbound NAT, many containers,
# nothing left after kill -9, bad input.  Traffic goes only to loopback and to namespaces and
# bridges this file makes; name lookups never leave the host (networks forward to 127.0.0.9,
# where nothing listens, and default-bridge containers get --dns 127.0.0.9).
load helpers
bats_require_minimum_version 1.5.0

UP=127.0.0.9 # "upstream" resolver: nothing listens there, so nothing is forwarded anywhere

setup_file() {
        berth_busybox_setup_file
}

setup() {
        berth_busybox_setup
        require_cmd nft curl python3
}

teardown() {
        [ "$(id -u)" = 0 ] || return 0
        local ids
        ids=$("$BERTH" ps -aq 2>/dev/null) || true
        [ -n "$ids" ] && "$BERTH" rm -f $ids >/dev/null 2>&1
        "$BERTH" network prune -f >/dev/null 2>&1
        ip netns del "berth-out-$$" 2>/dev/null
        [ -n "${PYPID:-}" ] && kill "$PYPID" 2>/dev/null
        return 0
}

# A web server container: busybox httpd serving "hello from NAME" on port 80.
web() { # NAME [run flags...]
        local name=$1
        shift
        "$BERTH" run -d --name "$name" "$@" busybox sh -c \
                "mkdir -p /www && echo hello from $name >/www/index.html && exec httpd -f -p 80 -h /www"
}

# Retry a command for up to 3 s (a server needs a moment to listen).
eventually() {
        local i
        for i in $(seq 30); do
                "$@" && return 0
                sleep 0.1
        done
        "$@"
}

ip_of() { # CONTAINER [NETWORK]
        if [ -n "${2:-}" ]; then
                "$BERTH" inspect -f "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}" "$1"
        else
                "$BERTH" inspect -f '{{.NetworkSettings.IPAddress}}' "$1"
        fi
}

@test "loopback is up in a container, and the default network is the bridge" {
        run "$BERTH" run --rm busybox sh -c 'cat /sys/class/net/lo/operstate; ip -4 addr show eth0'
        assert_success
        assert_output_contains "inet "
        run "$BERTH" run --rm --network none busybox sh -c 'ip link show lo'
        assert_success
        assert_output_contains "UP"
}

@test "/etc/resolv.conf: --dns, --dns-search and --dns-option; a user network's resolver" {
        run "$BERTH" run --rm --dns $UP --dns-search a.test --dns-search b.test --dns-option ndots:2 busybox cat /etc/resolv.conf
        assert_success
        [ "$output" = "nameserver $UP
search a.test b.test
options ndots:2" ]
        "$BERTH" network create --subnet 10.77.0.0/24 -o dns.upstream=$UP rs
        run "$BERTH" run --rm --network rs --dns-search c.test busybox cat /etc/resolv.conf
        assert_output_contains "nameserver 10.77.0.1"
        assert_output_contains "search c.test"
}

@test "-p 8080:80: the host reaches the container on 127.0.0.1 and on the bridge address" {
        web w1 -p 18080:80
        eventually curl -sf http://127.0.0.1:18080/
        run curl -sf http://127.0.0.1:18080/
        [ "$output" = "hello from w1" ]
        gw=$("$BERTH" network inspect -f '{{(index .IPAM.Config 0).Gateway}}' bridge)
        run curl -sf "http://$gw:18080/"
        [ "$output" = "hello from w1" ]
        run "$BERTH" port w1
        [ "$output" = "80/tcp -> 0.0.0.0:18080" ]
        # the published port is an nftables map element, no proxy process holds it
        nft list table inet berth | grep -q 18080
}

@test "-p 127.0.0.1::80 picks a free port that berth port prints; -P publishes exposed ports" {
        web w2 -p 127.0.0.1::80
        run "$BERTH" port w2 80
        assert_success
        [[ "$output" =~ ^127\.0\.0\.1:([0-9]+)$ ]]
        port=${BASH_REMATCH[1]}
        eventually curl -sf "http://127.0.0.1:$port/"
        web w3 --expose 80 -P
        hp=$("$BERTH" inspect -f '{{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}}' w3)
        [ -n "$hp" ] && [ "$hp" -gt 0 ]
        eventually curl -sf "http://127.0.0.1:$hp/"
}

@test "hairpin: a container reaches another through the host's published port" {
        web w4 -p 18084:80
        gw=$("$BERTH" network inspect -f '{{(index .IPAM.Config 0).Gateway}}' bridge)
        eventually curl -sf http://127.0.0.1:18084/
        run "$BERTH" run --rm busybox timeout 3 wget -qO- "http://$gw:18084/"
        assert_success
        [ "$output" = "hello from w4" ]
        # and to itself through the host
        run "$BERTH" exec w4 timeout 3 wget -qO- "http://$gw:18084/"
        assert_success
        [ "$output" = "hello from w4" ]
}

@test "user network: names and aliases resolve; the default bridge has IPs only" {
        "$BERTH" network create -o dns.upstream=$UP appnet
        web db --network appnet --network-alias database
        run "$BERTH" run --rm --network appnet busybox sh -c 'timeout 3 wget -qO- http://db/ && timeout 3 wget -qO- http://database/'
        assert_success
        [ "$output" = "hello from db
hello from db" ]
        run "$BERTH" run --rm --network appnet busybox nslookup database
        assert_success
        assert_output_contains "$(ip_of db appnet)"
        # the default bridge: by IP yes, by name no (no resolver: lookups go to --dns, unanswered)
        web plain
        pip=$(ip_of plain)
        run "$BERTH" run --rm --dns $UP busybox timeout 3 wget -qO- "http://$pip/"
        [ "$output" = "hello from plain" ]
        run "$BERTH" run --rm --dns $UP busybox timeout 2 wget -qO- http://plain/
        assert_failure
}

@test "networks are isolated; connect and disconnect change that while running" {
        "$BERTH" network create -o dns.upstream=$UP neta
        "$BERTH" network create -o dns.upstream=$UP netb
        web srv --network neta
        sip=$(ip_of srv neta)
        "$BERTH" run -d --name cli --network netb busybox sleep 1000
        run "$BERTH" exec cli timeout 2 wget -qO- "http://$sip/"
        assert_failure
        "$BERTH" network connect netb srv
        bip=$(ip_of srv netb)
        [ -n "$bip" ]
        run "$BERTH" exec cli timeout 3 wget -qO- "http://srv/"
        assert_success
        [ "$output" = "hello from srv" ]
        run "$BERTH" network inspect -f '{{len .Containers}}' netb
        [ "$output" = 2 ]
        "$BERTH" network disconnect netb srv
        run "$BERTH" exec cli timeout 2 wget -qO- "http://$bip/"
        assert_failure
}

@test "--ipv6 networks: dual stack addresses, AAAA names, ports published on 0.0.0.0 and ::" {
        "$BERTH" network create --ipv6 --subnet fd00:db8:77::/64 -o dns.upstream=$UP six
        web s6 --network six -p 18201:80
        v6=$("$BERTH" inspect -f '{{(index .NetworkSettings.Networks "six").GlobalIPv6Address}}' s6)
        [[ "$v6" == fd00:db8:77::* ]]
        run "$BERTH" run --rm --network six busybox sh -c "nslookup -type=AAAA s6 && timeout 3 wget -qO- http://[$v6]/"
        assert_success
        assert_output_contains "$v6"
        assert_output_contains "hello from s6"
        run "$BERTH" port s6 80
        assert_output_contains "0.0.0.0:18201"
        assert_output_contains "[::]:18201"
        eventually curl -sf -g "http://[fd00:db8:77::1]:18201/"
        run curl -sf http://127.0.0.1:18201/
        [ "$output" = "hello from s6" ]
        # an IPv6 host address for a container without one is refused ([::1] is served by a
        # relay to its IPv4 address: net_links_dns.bats)
        run "$BERTH" run --rm -p "[fd00:db8:78::1]:18202:80" busybox true
        assert_failure 125
        assert_output_contains "no IPv6 address"
}

@test "a restarted container keeps its address and name; a stopped one shows none, and gets one again" {
        "$BERTH" network create -o dns.upstream=$UP rnet
        "$BERTH" run -d --name rp --network rnet --restart always busybox sh -c 'sleep 1; exit 1'
        ip1=$(ip_of rp rnet)
        [ -n "$ip1" ]
        eventually sh -c "[ \"\$('$BERTH' inspect -f '{{.RestartCount}}' rp)\" -ge 1 ]"
        [ "$(ip_of rp rnet)" = "$ip1" ]
        run "$BERTH" run --rm --network rnet busybox nslookup rp
        assert_output_contains "$ip1"
        "$BERTH" stop -t 0 rp
        [ -z "$(ip_of rp rnet)" ]
        [ -z "$("$BERTH" inspect -f '{{.NetworkSettings.SandboxKey}}' rp)" ]
        "$BERTH" start rp
        [ -n "$(ip_of rp rnet)" ]
}

# An "outside" host: a network namespace with a veth to the host (198.51.100.0/24, a
# documentation range used only inside this test), recording each client's address.
outside_host() {
        ip netns add "berth-out-$$"
        ip link add "bo$$" type veth peer name eth0 netns "berth-out-$$"
        ip addr add 198.51.100.1/24 dev "bo$$"
        ip link set "bo$$" up
        ip -n "berth-out-$$" addr add 198.51.100.2/24 dev eth0
        ip -n "berth-out-$$" link set eth0 up
        ip -n "berth-out-$$" link set lo up
        ip netns exec "berth-out-$$" python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.51.100.2", 7000)); s.listen(8)
while True:
    c, a = s.accept(); c.sendall((a[0] + "\n").encode()); c.close()
' &
        PYPID=$!
        sleep 0.3
}

@test "outbound NAT: the outside sees the host's address; --internal has no way out" {
        outside_host
        eventually ip netns exec "berth-out-$$" sh -c 'ss -ltn | grep -q 198.51.100.2:7000'
        run "$BERTH" run --rm busybox sh -c 'nc 198.51.100.2 7000 </dev/null'
        assert_success
        [ "$output" = "198.51.100.1" ]
        "$BERTH" network create --internal -o dns.upstream=$UP inner
        run "$BERTH" run --rm --network inner busybox sh -c 'timeout 2 nc 198.51.100.2 7000 </dev/null'
        assert_failure
}

@test "50 containers on one network get 50 distinct addresses; 20 concurrent runs don't collide" {
        "$BERTH" network create -o dns.upstream=$UP many
        for i in $(seq 50); do
                "$BERTH" create --network many --name m$i busybox sleep 1000 >/dev/null
        done
        for i in $(seq 50); do echo "$BERTH start m$i"; done | xargs -P 4 -I{} sh -c '{} >/dev/null'
        run sh -c "'$BERTH' network inspect -f '{{range .Containers}}{{.IPv4Address}} {{end}}' many | tr ' ' '\n' | grep -c ."
        [ "$output" = 50 ]
        run sh -c "'$BERTH' network inspect -f '{{range .Containers}}{{.IPv4Address}} {{end}}' many | tr ' ' '\n' | grep . | sort -u | wc -l"
        [ "$output" = 50 ]
        "$BERTH" rm -f $("$BERTH" ps -aq) >/dev/null
        seq 20 | xargs -P 20 -I{} "$BERTH" run -d --network many --name c{} busybox sleep 1000 >/dev/null
        n=$(for i in $(seq 20); do ip_of c$i many; done | sort -u | grep -c .)
        [ "$n" = 20 ]
}

@test "kill -9 of monitors and berth calls, then rm -f and prune: nothing of berth's left" {
        "$BERTH" network create -o dns.upstream=$UP doomed
        web k1 --network doomed -p 18091:80
        web k2 -p 18092:80
        "$BERTH" run -d --name k3 --network doomed busybox sleep 1000
        # a berth call killed in the middle of making a sandbox
        ( "$BERTH" run -d --name k4 --network doomed -p 18094:80 busybox sleep 1000 >/dev/null 2>&1 & p=$!; sleep 0.02; kill -9 $p ) || true
        for c in k1 k2 k3; do
                kill -9 "$("$BERTH" inspect -f '{{.State.Pid}}' $c)" 2>/dev/null || true
        done
        for id in $("$BERTH" ps -aq --no-trunc); do pkill -9 -f "berth-monitor.*$id" || true; done
        sleep 0.3
        "$BERTH" rm -f $("$BERTH" ps -aq) >/dev/null 2>&1 || true
        run "$BERTH" network prune -f
        assert_success
        [ -z "$(ls "$BERTH_RUN_DIR/net/ns" 2>/dev/null)" ]
        [ -z "$(ls "$BERTH_RUN_DIR/net/ports" 2>/dev/null)" ]
        [ -z "$(find "$BERTH_RUN_DIR/net" -path '*endpoints/*' 2>/dev/null)" ]
        ! ip -o link show | grep -E 'master (berth0|br-[0-9a-f]{12})'
        ! ip -o link show | grep -E ': br-[0-9a-f]{12}[:@]'
        ! nft list ruleset | grep -E '1809[1-4]'
        ! pgrep -f "dnsmasq.*$BERTH_RUN_DIR"
}

@test "bad input: Docker's messages, exit 125, nothing left behind" {
        "$BERTH" network create --subnet 10.123.0.0/16 -o dns.upstream=$UP n1
        run "$BERTH" network create --subnet 10.123.4.0/24 n2
        assert_failure
        assert_output_contains "overlaps"
        "$BERTH" run -d --name u1 --network n1 busybox sleep 1000
        run "$BERTH" network rm n1
        assert_failure
        assert_output_contains "active endpoints"
        run "$BERTH" run --rm --network nosuch busybox true
        assert_failure 125
        assert_output_contains "network nosuch not found"
        run "$BERTH" run --rm --network n1 --ip 10.99.0.5 busybox true
        assert_failure 125
        run "$BERTH" run --rm -p 80 --network none busybox true
        assert_failure 125
        run "$BERTH" run --rm -p 80 --network host busybox true
        assert_failure 125
        # a host port already bound by a host process
        python3 -c 'import socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", 18099)); s.listen(1); time.sleep(30)' &
        PYPID=$!
        eventually sh -c 'ss -ltn | grep -q ":18099 "'
        run "$BERTH" run -d --name busyport -p 18099:80 busybox sleep 1000
        assert_failure 125
        assert_output_contains "address already in use"
        run "$BERTH" ps -a --filter name=busyport --format '{{.Status}}'
        [[ "$output" != Up* ]]
        ! nft list ruleset | grep -q 18099
        # a port berth already gave to another container
        web p1 -p 18098:80
        run "$BERTH" run -d -p 18098:80 busybox sleep 1000
        assert_failure 125
        assert_output_contains "port is already allocated"
}
