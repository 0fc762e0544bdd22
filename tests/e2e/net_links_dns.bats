#!/usr/bin/env bats
# net_links_dns.bats — the parts of Docker's network model that are not one network's plumbing:
# legacy links (--link), a container's own DNS servers on a user network (--dns beside the
# network's names, Docker's 127.0.0.11) and ports published on the IPv6 loopback address.
# Traffic goes only to loopback and to the namespaces this file makes: the "upstream" resolver
# is a dnsmasq in a namespace of the test's (203.0.113.0/24, TEST-NET-3, used only here), and
# networks forward their own lookups to 127.0.0.9, where nothing listens.
load helpers
bats_require_minimum_version 1.5.0

UP=127.0.0.9

setup_file() {
        berth_busybox_setup_file
}

setup() {
        berth_busybox_setup
        require_cmd nft curl python3 dnsmasq
        NS="berth-dns-$$"
}

teardown() {
        [ "$(id -u)" = 0 ] || return 0
        berth_rm_all_containers
        "$BERTH" network prune -f >/dev/null 2>&1
        if [ -f "$BATS_TEST_TMPDIR/up.pid" ]; then
                kill "$(cat "$BATS_TEST_TMPDIR/up.pid")" 2>/dev/null
        fi
        ip netns del "$NS" 2>/dev/null
        ip link del "bd$$" 2>/dev/null
        [ -n "${PYPID:-}" ] && kill "$PYPID" 2>/dev/null
        return 0
}

eventually() {
        local i
        for i in $(seq 30); do
                "$@" && return 0
                sleep 0.1
        done
        "$@"
}

web() { # NAME [run flags...]
        local name=$1
        shift
        "$BERTH" run -d --name "$name" "$@" busybox sh -c \
                "mkdir -p /www && echo hello from $name >/www/index.html && exec httpd -f -p 80 -h /www"
}

# An upstream DNS server outside berth: a namespace with a veth to the host, running dnsmasq
# on 203.0.113.53 that answers ext.test with 192.0.2.77 (and 2001:db8::77) and logs each query with its client.
fake_upstream() {
        ip netns add "$NS"
        ip link add "bd$$" type veth peer name eth0 netns "$NS"
        ip addr add 203.0.113.1/24 dev "bd$$"
        ip link set "bd$$" up
        ip -n "$NS" addr add 203.0.113.53/24 dev eth0
        ip -n "$NS" link set eth0 up
        ip -n "$NS" link set lo up
        ip netns exec "$NS" dnsmasq --conf-file=/dev/null --pid-file="$BATS_TEST_TMPDIR/up.pid" \
                --user=root --no-hosts --no-resolv --address=/ext.test/192.0.2.77 --address=/ext.test/2001:db8::77 \
                --listen-address=203.0.113.53 --bind-interfaces --log-queries \
                --log-facility="$BATS_TEST_TMPDIR/up.log"
}

# ---------------------------------------------------------------------------------------------
# --link
# ---------------------------------------------------------------------------------------------

@test "--link on the default bridge: /etc/hosts line and Docker's variables" {
        "$BERTH" run -d --name db -e SECRET=s3 -e PATH=/bin --expose 5432 \
                --expose 7000-7002/udp busybox sleep 1000
        dbip=$("$BERTH" inspect -f '{{.NetworkSettings.IPAddress}}' db)
        dbhost=$("$BERTH" inspect -f '{{.Config.Hostname}}' db)
        run "$BERTH" run --name app --link db:my-db -e MY_DB_ENV_SECRET=mine busybox sh -c \
                'grep -v -e localhost -e ip6- /etc/hosts; env | grep ^MY_DB | sort'
        assert_success
        assert_output_contains "$(printf '%s\tmy-db %s db' "$dbip" "$dbhost")"
        env=$(echo "$output" | grep ^MY_DB)
        [ "$env" = "MY_DB_ENV_SECRET=mine
MY_DB_NAME=/app/my-db
MY_DB_PORT=tcp://$dbip:5432
MY_DB_PORT_5432_TCP=tcp://$dbip:5432
MY_DB_PORT_5432_TCP_ADDR=$dbip
MY_DB_PORT_5432_TCP_PORT=5432
MY_DB_PORT_5432_TCP_PROTO=tcp
MY_DB_PORT_7000_UDP=udp://$dbip:7000
MY_DB_PORT_7000_UDP_ADDR=$dbip
MY_DB_PORT_7000_UDP_END=udp://$dbip:7002
MY_DB_PORT_7000_UDP_PORT=7000
MY_DB_PORT_7000_UDP_PORT_END=7002
MY_DB_PORT_7000_UDP_PORT_START=7000
MY_DB_PORT_7000_UDP_PROTO=udp
MY_DB_PORT_7000_UDP_START=udp://$dbip:7000
MY_DB_PORT_7001_UDP=udp://$dbip:7001
MY_DB_PORT_7001_UDP_ADDR=$dbip
MY_DB_PORT_7001_UDP_PORT=7001
MY_DB_PORT_7001_UDP_PROTO=udp
MY_DB_PORT_7002_UDP=udp://$dbip:7002
MY_DB_PORT_7002_UDP_ADDR=$dbip
MY_DB_PORT_7002_UDP_PORT=7002
MY_DB_PORT_7002_UDP_PROTO=udp" ]
        # the link's variables are the process's, not the container's Config
        run "$BERTH" inspect -f '{{json .HostConfig.Links}} {{json .Config.Env}}' app
        assert_output_contains '["/db:/app/my-db"]'
        [[ "$output" != *MY_DB_PORT* ]]
        # the alias reaches the linked container; a link without an alias uses its name
        web lweb
        run "$BERTH" run --rm --link lweb busybox sh -c 'grep -w lweb /etc/hosts; wget -qO- http://lweb/'
        assert_success
        assert_output_contains "hello from lweb"
        [ "$(echo "$output" | grep -c -w lweb)" = 2 ] # one hosts line ("lweb HOSTNAME"), one page
}

@test "--link: a restart replaces the lines and variables of the previous start" {
        "$BERTH" run -d --name ldb --expose 80 busybox sleep 1000
        "$BERTH" run -d --name lapp --link ldb:d busybox sleep 1000
        "$BERTH" restart -t 0 ldb
        "$BERTH" restart -t 0 lapp
        newip=$("$BERTH" inspect -f '{{.NetworkSettings.IPAddress}}' ldb)
        run "$BERTH" exec lapp sh -c 'grep -c -w d /etc/hosts; echo $D_PORT_80_TCP_ADDR'
        assert_success
        [ "${lines[0]}" = 1 ]
        [ "${lines[1]}" = "$newip" ]
        run "$BERTH" exec lapp grep -w d /etc/hosts
        assert_output_contains "$newip"
        # the linked container comes back with another address: the linking one's line follows
        # at once (its variables stay what its process started with, as Docker's)
        "$BERTH" stop -t 0 ldb
        "$BERTH" run -d --name squat busybox sleep 1000
        [ "$("$BERTH" inspect -f '{{.NetworkSettings.IPAddress}}' squat)" = "$newip" ]
        "$BERTH" start ldb
        third=$("$BERTH" inspect -f '{{.NetworkSettings.IPAddress}}' ldb)
        [ "$third" != "$newip" ]
        run "$BERTH" exec lapp grep -w d /etc/hosts
        [ "$(echo "$output" | wc -l)" = 1 ]
        assert_output_contains "$third"
        # a removed linking container leaves nothing in the index
        "$BERTH" rm -f lapp
        "$BERTH" restart -t 0 ldb
        id=$("$BERTH" inspect -f '{{.Id}}' ldb)
        [ -z "$(ls "$BERTH_DATA_DIR/links/$id" 2>/dev/null)" ]
        "$BERTH" rm -f ldb
        [ ! -e "$BERTH_DATA_DIR/links/$id" ]
}

@test "--link on a user network: the alias is a name for this container, no variables" {
        "$BERTH" network create --subnet 10.241.0.0/24 -o dns.upstream=$UP lk
        web ut --network lk
        utip=$("$BERTH" inspect -f '{{(index .NetworkSettings.Networks "lk").IPAddress}}' ut)
        run "$BERTH" run --rm --network lk --link ut:backend busybox sh -c \
                'grep -w backend /etc/hosts; env | grep -c BACKEND_; wget -qO- http://backend/'
        assert_output_contains "$(printf '%s\tbackend' "$utip")"
        assert_output_contains "hello from ut"
        [ "${lines[1]}" = 0 ]
        # other members of the network don't get the alias
        run "$BERTH" run --rm --network lk busybox sh -c 'grep -c backend /etc/hosts'
        [ "$output" = 0 ]
}

@test "network connect --link: a name for that container only; disconnect takes it away" {
        "$BERTH" network create --subnet 10.241.1.0/24 -o dns.upstream=$UP lc
        web lt --network lc
        ltip=$("$BERTH" inspect -f '{{(index .NetworkSettings.Networks "lc").IPAddress}}' lt)
        "$BERTH" run -d --name lme busybox sleep 1000
        "$BERTH" network connect --link lt:back lc lme
        run "$BERTH" inspect -f '{{json (index .NetworkSettings.Networks "lc").Links}}' lme
        [ "$output" = '["lt:back"]' ]
        # the running container's /etc/hosts (bind-mounted) has the line at once
        run "$BERTH" exec lme sh -c 'grep -w back /etc/hosts; nslookup back 2>/dev/null; ping -c 1 -W 1 back; wget -qO- http://back/'
        assert_success
        assert_output_contains "$(printf '%s\tback' "$ltip")"
        assert_output_contains "hello from lt"
        # only for lme: another member of lc does not resolve it
        run "$BERTH" run --rm --network lc busybox sh -c 'grep -c -w back /etc/hosts; nslookup back 2>/dev/null; ping -c 1 -W 1 back'
        assert_failure
        [ "${lines[0]}" = 0 ]
        # it survives a restart of either
        "$BERTH" restart -t 0 lme
        "$BERTH" restart -t 0 lt
        ltip=$("$BERTH" inspect -f '{{(index .NetworkSettings.Networks "lc").IPAddress}}' lt)
        run "$BERTH" exec lme sh -c 'grep -w back /etc/hosts; ping -c 1 -W 2 back'
        assert_success
        [ "${lines[0]}" = "$(printf '%s\tback' "$ltip")" ]
        # disconnect removes the line
        "$BERTH" network disconnect lc lme
        run "$BERTH" exec lme grep -c -w back /etc/hosts
        [ "$output" = 0 ]
        # the Engine API: EndpointConfig.Links, the same engine call
        sock="$BATS_TEST_TMPDIR/d.sock"
        "$BERTH" system service -H "unix://$sock" >"$BATS_TEST_TMPDIR/svc.log" 2>&1 &
        PYPID=$!
        eventually curl -sf --unix-socket "$sock" http://d/_ping
        run curl -s -o /dev/null -w '%{http_code}' --unix-socket "$sock" \
                -H 'Content-Type: application/json' \
                -d '{"Container":"lme","EndpointConfig":{"Links":["lt:api-back"]}}' \
                http://d/v1.41/networks/lc/connect
        [ "$output" = 200 ]
        run "$BERTH" exec lme grep -w api-back /etc/hosts
        [ "$output" = "$(printf '%s\tapi-back' "$ltip")" ]
        "$BERTH" network create --subnet 10.241.5.0/24 -o dns.upstream=$UP lc2
        run curl -s -w ' %{http_code}' --unix-socket "$sock" -H 'Content-Type: application/json' \
                -d '{"Container":"lme","EndpointConfig":{"Links":["a:b:c"]}}' \
                http://d/v1.41/networks/lc2/connect
        assert_output_contains "bad format for links: a:b:c"
        assert_output_contains " 400"
}

@test "network connect --link: the default bridge stores it only, as dockerd; bad input" {
        "$BERTH" network create --subnet 10.241.2.0/24 -o dns.upstream=$UP lr
        "$BERTH" run -d --name ltarget busybox sleep 1000
        "$BERTH" run -d --name lsrc --network lr busybox sleep 1000
        # dockerd 20.10 takes it on the default bridge and makes nothing of it (tests/compat)
        "$BERTH" network connect --link ltarget:t bridge lsrc
        run "$BERTH" inspect -f '{{json .NetworkSettings.Networks.bridge.Links}}' lsrc
        [ "$output" = '["ltarget:t"]' ]
        run "$BERTH" exec lsrc grep -c -w t /etc/hosts
        [ "$output" = 0 ]
        "$BERTH" network create --subnet 10.241.3.0/24 -o dns.upstream=$UP lr2
        # the docker CLI's flag check
        run "$BERTH" network connect --link a:b:c lr2 lsrc
        assert_failure 125
        assert_output_contains 'invalid argument "a:b:c" for "--link" flag: bad format for links: a:b:c'
        run "$BERTH" inspect -f '{{len .NetworkSettings.Networks}}' lsrc
        [ "$output" = 2 ]
        # a name of no container is taken, as dockerd takes it: the alias resolves to nothing
        "$BERTH" network connect --link nosuch:t lr2 lsrc
        run "$BERTH" exec lsrc grep -c -w t /etc/hosts
        [ "$output" = 0 ]
}

@test "rename of a linked container: the link follows it" {
        "$BERTH" run -d --name rold busybox sleep 1000
        "$BERTH" run -d --name rapp --link rold:r busybox sleep 1000
        ip=$("$BERTH" inspect -f '{{.NetworkSettings.IPAddress}}' rold)
        hn=$("$BERTH" inspect -f '{{.Config.Hostname}}' rold)
        "$BERTH" rename rold rnew
        run "$BERTH" inspect -f '{{json .HostConfig.Links}}' rapp
        [ "$output" = '["/rnew:/rapp/r"]' ]
        # the running container's line stays as it is (its address is still right), as
        # dockerd 20.10 leaves it; the next start names the container anew
        run "$BERTH" exec rapp sh -c 'grep -w r /etc/hosts; ping -c 1 -W 2 r >/dev/null && echo up'
        assert_success
        [ "${lines[0]}" = "$(printf '%s\tr %s rold' "$ip" "$hn")" ]
        [ "${lines[1]}" = up ]
        "$BERTH" restart -t 0 rapp
        run "$BERTH" exec rapp sh -c 'grep -w r /etc/hosts; ping -c 1 -W 2 r >/dev/null && echo up; echo $R_NAME'
        assert_success
        [ "${lines[0]}" = "$(printf '%s\tr %s rnew' "$ip" "$hn")" ]
        [ "${lines[1]}" = up ]
        [ "${lines[2]}" = /rapp/r ]
        # the renamed container moving still rewrites the line (the index is by id)
        "$BERTH" stop -t 0 rnew
        "$BERTH" run -d --name rsquat busybox sleep 1000
        "$BERTH" start rnew
        ip2=$("$BERTH" inspect -f '{{.NetworkSettings.IPAddress}}' rnew)
        [ "$ip2" != "$ip" ]
        run "$BERTH" exec rapp grep -w r /etc/hosts
        [ "$output" = "$(printf '%s\tr %s rnew' "$ip2" "$hn")" ]
}

@test "--link bad input: Docker's messages, exit 125, nothing made" {
        before=$("$BERTH" ps -aq | wc -l)
        run "$BERTH" run --rm --link nosuch busybox true
        assert_failure 125
        assert_output_contains "could not get container for nosuch"
        [ "$("$BERTH" ps -aq | wc -l)" = "$before" ]
        run "$BERTH" run --rm --link a:b:c busybox true
        assert_failure 125
        assert_output_contains "bad format for links"
        "$BERTH" create --name idle busybox true
        run "$BERTH" run --name linker --link idle:i busybox true
        assert_failure 125
        assert_output_contains "Cannot link to a non running container: /idle AS /linker/i"
        run "$BERTH" inspect -f '{{.NetworkSettings.SandboxKey}}' linker
        [ -z "$output" ]
        [ -z "$(ls "$BERTH_RUN_DIR/net/ns" 2>/dev/null)" ]
        "$BERTH" run -d --name up1 busybox sleep 1000
        run "$BERTH" run --rm --network host --link up1 busybox true
        assert_failure 125
        assert_output_contains "host type networking can't be used with links"
        run "$BERTH" run --rm --network container:up1 --link up1 busybox true
        assert_failure 125
        assert_output_contains "container type network can't be used with links"
}

# ---------------------------------------------------------------------------------------------
# --dns on a user network: a resolver of the container's own at 127.0.0.11
# ---------------------------------------------------------------------------------------------

@test "--dns on a user network: names of the network still resolve, the rest goes to the container's servers" {
        fake_upstream
        "$BERTH" network create --subnet 10.242.0.0/24 -o dns.upstream=$UP dn
        "$BERTH" run -d --name peer --network dn --network-alias pal busybox sleep 1000
        pip=$("$BERTH" inspect -f '{{(index .NetworkSettings.Networks "dn").IPAddress}}' peer)
        "$BERTH" run -d --name asker --network dn --dns 203.0.113.53 --dns-search corp.test \
                --dns-option ndots:1 --dns-option timeout:2 busybox sleep 1000
        run "$BERTH" exec asker cat /etc/resolv.conf
        [ "$output" = "nameserver 127.0.0.11
search corp.test
options ndots:1 timeout:2" ]
        run "$BERTH" exec asker nslookup peer 127.0.0.11
        assert_success
        assert_output_contains "$pip"
        run "$BERTH" exec asker nslookup pal.
        assert_output_contains "$pip"
        run "$BERTH" exec asker nslookup ext.test.
        assert_success
        assert_output_contains "192.0.2.77"
        # the upstream got the query from the host's address (masqueraded), nothing else did
        grep -q 'query\[A\] ext.test from 203.0.113.1' "$BATS_TEST_TMPDIR/up.log"
        run grep -q 'peer' "$BATS_TEST_TMPDIR/up.log"
        assert_failure 1
        # a container without --dns on the same network keeps the network's resolver, which
        # does not know ext.test (its upstream is 127.0.0.9, where nothing answers)
        run "$BERTH" run --rm --network dn busybox sh -c 'cat /etc/resolv.conf; nslookup ext.test.'
        assert_output_contains "nameserver 10.242.0.1"
        [[ "$output" != *192.0.2.77* ]]
        # the default bridge: --dns servers as they are, as Docker writes them
        run "$BERTH" run --rm --dns 203.0.113.53 busybox sh -c 'cat /etc/resolv.conf; nslookup ext.test.'
        assert_output_contains "nameserver 203.0.113.53"
        assert_output_contains "192.0.2.77"
}

@test "--dns on a user network: connect and disconnect change the names; rm and kill -9 leave nothing" {
        fake_upstream
        "$BERTH" network create --subnet 10.243.0.0/24 -o dns.upstream=$UP da
        "$BERTH" network create --subnet 10.244.0.0/24 -o dns.upstream=$UP db2
        "$BERTH" run -d --name other --network db2 busybox sleep 1000
        "$BERTH" run -d --name qq --network da --dns 203.0.113.53 busybox sleep 1000
        id=$("$BERTH" inspect -f '{{.Id}}' qq)
        [ -n "$(pgrep -f "dnsmasq.*resolvers/$id")" ]
        run "$BERTH" exec qq nslookup other.
        assert_failure
        "$BERTH" network connect db2 qq
        run "$BERTH" exec qq nslookup other.
        assert_success
        assert_output_contains "10.244.0."
        "$BERTH" network disconnect db2 qq
        run "$BERTH" exec qq nslookup other.
        assert_failure
        "$BERTH" rm -f qq
        ! pgrep -f "dnsmasq.*resolvers/$id"
        [ ! -e "$BERTH_RUN_DIR/net/resolvers/$id" ]
        # kill -9 of the monitor and the container: the next network call removes the resolver
        "$BERTH" run -d --name qq2 --network da --dns 203.0.113.53 busybox sleep 1000
        id2=$("$BERTH" inspect -f '{{.Id}}' qq2)
        kill -9 "$("$BERTH" inspect -f '{{.State.Pid}}' qq2)"
        pkill -9 -f "berth-monitor.*$id2" || true
        # both gone (a loaded host may take a while to end them), then one network call
        local i
        for i in $(seq 50); do
                pgrep -f "berth-monitor.*$id2" >/dev/null || break
                sleep 0.1
        done
        sleep 0.3
        "$BERTH" network ls >/dev/null
        # a monitor that saw its container die before its own kill may have started the
        # teardown itself (`berth network _teardown`, not killed with it): on a loaded host it
        # may still be finishing, so gone within a few seconds, not at once
        for i in $(seq 50); do
                [ -e "$BERTH_RUN_DIR/net/resolvers/$id2" ] || [ -e "$BERTH_RUN_DIR/net/ns/$id2" ] || break
                sleep 0.1
        done
        ! pgrep -f "dnsmasq.*resolvers/$id2"
        [ ! -e "$BERTH_RUN_DIR/net/resolvers/$id2" ]
        [ ! -e "$BERTH_RUN_DIR/net/ns/$id2" ]
}

# ---------------------------------------------------------------------------------------------
# ports on the IPv6 loopback address
# ---------------------------------------------------------------------------------------------

@test "-p [::1]:PORT:80: a relay serves the IPv6 loopback address; rm stops it" {
        [ -e /proc/net/if_inet6 ] && ip -6 addr show lo | grep -q '::1/128' || skip "no IPv6 on lo"
        web v4only -p '[::1]:18401:80' -p 127.0.0.1:18402:80
        run "$BERTH" port v4only 80
        assert_output_contains "[::1]:18401"
        assert_output_contains "127.0.0.1:18402"
        run eventually curl -sfg 'http://[::1]:18401/'
        assert_success
        [ "$output" = "hello from v4only" ]
        # the relay is the only process of berth's listening there, and it is not in the
        # way of the kernel path on 127.0.0.1
        run curl -sf http://127.0.0.1:18402/
        [ "$output" = "hello from v4only" ]
        pid=$(jq -r .ProxyPid "$BERTH_RUN_DIR"/net/ports/tcp-::1-18401)
        [ "$(cat /proc/$pid/comm)" = berth-proxy ]
        # another container can't have the port
        run "$BERTH" run --rm -p '[::1]:18401:80' busybox true
        assert_failure 125
        assert_output_contains "port is already allocated"
        # an IPv6 container gets its IPv6 address as the target
        "$BERTH" network create --ipv6 --subnet 10.245.0.0/24 --subnet fd00:db8:245::/64 -o dns.upstream=$UP v6n
        web six --network v6n -p '[::1]:18403:80'
        run eventually curl -sfg 'http://[::1]:18403/'
        [ "$output" = "hello from six" ]
        jq -e '.CtrIp | startswith("fd00:db8:245::")' "$BERTH_RUN_DIR"/net/ports/tcp-::1-18403
        "$BERTH" rm -f v4only six
        ! kill -0 "$pid" 2>/dev/null || [ "$(cat /proc/$pid/stat | cut -d' ' -f3)" = Z ]
        run curl -sfg --max-time 2 'http://[::1]:18401/'
        assert_failure
        [ -z "$(ls "$BERTH_RUN_DIR/net/ports" 2>/dev/null)" ]
}

@test "-p [::1]: a port a host process holds, and udp, are refused with nothing left" {
        [ -e /proc/net/if_inet6 ] && ip -6 addr show lo | grep -q '::1/128' || skip "no IPv6 on lo"
        python3 -c 'import socket,time; s=socket.socket(socket.AF_INET6); s.bind(("::1", 18404)); s.listen(1); time.sleep(30)' &
        PYPID=$!
        eventually sh -c 'ss -ltn | grep -q "\[::1\]:18404 "'
        run "$BERTH" run -d --name held -p '[::1]:18404:80' busybox sleep 1000
        assert_failure 125
        assert_output_contains "Error starting userland proxy: listen tcp6 [::1]:18404: bind: address already in use"
        run "$BERTH" run --rm -p '[::1]:18405:53/udp' busybox true
        assert_failure 125
        assert_output_contains "tcp ports only"
        [ -z "$(ls "$BERTH_RUN_DIR/net/ports" 2>/dev/null)" ]
        ! ss -ltnp | grep -E ':1840[45] .*berth-proxy'
}

# ---------------------------------------------------------------------------------------------
# run flags of the issue's list not covered elsewhere
# ---------------------------------------------------------------------------------------------

@test "--mac-address, --ip, --ip6, --add-host host-gateway, port ranges, connect --alias --ip, disconnect -f" {
        "$BERTH" network create --ipv6 --subnet 10.247.0.0/24 --subnet fd00:db8:247::/64 -o dns.upstream=$UP fl
        gw=$("$BERTH" network inspect -f '{{(index .IPAM.Config 0).Gateway}}' bridge)
        run "$BERTH" run --rm --network fl --mac-address 02:42:ac:11:00:99 --ip 10.247.0.50 \
                --ip6 fd00:db8:247::50 --add-host gw:host-gateway --add-host x.test:192.0.2.1 \
                busybox sh -c 'cat /sys/class/net/eth0/address; ip -o addr show eth0; cat /etc/hosts'
        assert_success
        [ "${lines[0]}" = 02:42:ac:11:00:99 ]
        assert_output_contains "inet 10.247.0.50/24"
        assert_output_contains "inet6 fd00:db8:247::50/64"
        assert_output_contains "$(printf '%s\tgw' "$gw")"
        assert_output_contains "$(printf '192.0.2.1\tx.test')"
        # Docker's /etc/hosts: localhost lines, then the extra hosts, then the container's own
        assert_output_contains "$(printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback')"
        [[ "${lines[-1]}" == "10.247.0.50"$'\t'* ]]
        # host port ranges: one host port per container port, or any one of a range
        "$BERTH" run -d --name rg -p 18410-18412:80-82 -p 18420-18425:90 busybox sleep 1000
        run "$BERTH" port rg
        assert_output_contains "80/tcp -> 0.0.0.0:18410"
        assert_output_contains "81/tcp -> 0.0.0.0:18411"
        assert_output_contains "82/tcp -> 0.0.0.0:18412"
        [[ "$output" =~ 90/tcp\ -\>\ 0\.0\.0\.0:1842[0-5] ]]
        # connect with an alias and an address, then a forced disconnect
        "$BERTH" run -d --name cc busybox sleep 1000
        "$BERTH" network connect --alias ali --ip 10.247.0.77 fl cc
        run "$BERTH" inspect -f '{{(index .NetworkSettings.Networks "fl").IPAddress}} {{json (index .NetworkSettings.Networks "fl").Aliases}}' cc
        [ "$output" = '10.247.0.77 ["ali"]' ]
        run "$BERTH" run --rm --network fl busybox nslookup ali
        assert_output_contains "10.247.0.77"
        "$BERTH" network disconnect -f fl cc
        run "$BERTH" network disconnect fl cc
        assert_failure 1
        assert_output_contains "is not connected to network fl"
        [[ "$output" != *"No such file"* ]]
}
