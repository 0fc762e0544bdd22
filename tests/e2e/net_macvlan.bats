#!/usr/bin/env bats
# net_macvlan.bats — Docker's macvlan and ipvlan drivers (docs/network.md): containers on a
# slave link of a parent the test makes (a veth pair whose other end sits in a namespace of the
# test's, the "outside host" at 10.77.0.254), by IP and by name, connect/disconnect, Docker's
# refusals, and nothing left behind after rm, prune and kill -9.  Traffic goes only to that
# namespace and between containers; names never leave the host (dns.upstream is 127.0.0.9,
# where nothing listens).
load helpers
load lib/api
bats_require_minimum_version 1.5.0

UP=127.0.0.9
SUB=10.77.0.0/24
OUT=10.77.0.254

setup_file() {
        berth_busybox_setup_file
}

setup() {
        berth_busybox_setup
        require_cmd ip jq
        # the kernel's drivers: built in, or a module loaded now
        command -v modprobe >/dev/null && modprobe -q macvlan 2>/dev/null
        PARENT="bmvp$$"
        OUTNS="berth-mvout-$$"
        ip netns add "$OUTNS" || skip "needs network namespaces (ip netns add failed)"
        ip link add "$PARENT" type veth peer name "bmvo$$" netns "$OUTNS"
        ip link set "$PARENT" up
        ip -n "$OUTNS" addr add "$OUT/24" dev "bmvo$$"
        ip -n "$OUTNS" link set "bmvo$$" up
        ip -n "$OUTNS" link set lo up
        if ! ip link add link "$PARENT" name "bmvq$$" type macvlan 2>/dev/null; then
                [ -d /sys/module/macvlan ] || skip "SKIPPED LOUDLY: this kernel has no macvlan driver (CONFIG_MACVLAN; modprobe macvlan failed)"
                skip "SKIPPED LOUDLY: ip link add type macvlan failed"
        fi
        ip link del "bmvq$$"
}

teardown() {
        [ "$(id -u)" = 0 ] || return 0
        api_service_stop
        berth_rm_all_containers
        "$BERTH" network prune -f >/dev/null 2>&1
        ip netns del "$OUTNS" 2>/dev/null
        ip link del "$PARENT" 2>/dev/null
        return 0
}

# The kernel has the driver for `ip link add … type KIND` (probed on the test's parent).
have_kind() { # KIND [args...]
        local kind=$1
        shift
        command -v modprobe >/dev/null && modprobe -q "$kind" 2>/dev/null
        ip link add link "$PARENT" name "bmvk$$" type "$kind" "$@" 2>/dev/null || return 1
        ip link del "bmvk$$"
}

ip_of() { # CONTAINER NETWORK
        "$BERTH" inspect -f "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}" "$1"
}

# No slave link of berth's anywhere on the host: its only macvlan/ipvlan links are in
# containers' namespaces, so the host shows none once the test's own are gone.
no_host_slaves() {
        run sh -c "ip -d -o link show | grep -E ' (macvlan|ipvlan) '"
        [ "$status" -ne 0 ] || {
                echo "leftover slave links: $output" >&2
                return 1
        }
}

# Nothing of a container's network state is left: namespaces, leases, resolvers.
no_leftovers() {
        [ -z "$(ls "$BERTH_RUN_DIR/net/ns" 2>/dev/null)" ]
        [ -z "$(find "$BERTH_RUN_DIR/net" -path '*endpoints/*' 2>/dev/null)" ]
        [ -z "$(ls "$BERTH_RUN_DIR/net/resolvers" 2>/dev/null)" ]
        run pgrep -f "dnsmasq.*$BERTH_RUN_DIR"
        [ "$status" -ne 0 ]
        no_host_slaves
}

# Two containers and the outside host reach each other by IP, the containers each other by name.
two_and_outside() { # NETWORK
        local net=$1 a b
        "$BERTH" run -d --name mv-a --network "$net" busybox sleep 1000
        "$BERTH" run -d --name mv-b --network "$net" --ip 10.77.0.50 busybox \
                sh -c 'mkdir -p /www && echo hello from mv-b >/www/index.html && exec httpd -f -p 80 -h /www'
        a=$(ip_of mv-a "$net")
        b=$(ip_of mv-b "$net")
        [[ "$a" == 10.77.0.* ]] && [ "$b" = 10.77.0.50 ] && [ "$a" != "$OUT" ]
        run "$BERTH" exec mv-a ping -c1 -W2 "$b"
        assert_success
        run "$BERTH" exec mv-b ping -c1 -W2 "$a"
        assert_success
        run "$BERTH" exec mv-a ping -c1 -W2 "$OUT"
        assert_success
        run ip netns exec "$OUTNS" busybox ping -c1 -W2 "$a"
        assert_success
        # names: the container's own resolver at 127.0.0.11
        run "$BERTH" exec mv-a cat /etc/resolv.conf
        assert_output_contains "nameserver 127.0.0.11"
        run "$BERTH" exec mv-a nslookup mv-b 127.0.0.11
        assert_success
        assert_output_contains "10.77.0.50"
        run "$BERTH" exec mv-a wget -qO- http://mv-b/
        assert_success
        [ "$output" = "hello from mv-b" ]
        run "$BERTH" exec mv-b ping -c1 -W2 mv-a
        assert_success
        # the outside host reaches the web server
        run ip netns exec "$OUTNS" busybox wget -qO- "http://$b/"
        assert_success
        [ "$output" = "hello from mv-b" ]
        # the default route goes to the network's gateway
        run "$BERTH" exec mv-a ip route
        assert_output_contains "default via 10.77.0.1 dev eth0"
}

@test "macvlan: create, ls, inspect show Docker's driver and options; create makes no link" {
        run "$BERTH" network create -d macvlan --subnet $SUB --gateway 10.77.0.1 \
                --ip-range 10.77.0.128/25 -o parent="$PARENT" -o macvlan_mode=bridge mv1
        assert_success
        [[ "$output" =~ ^[0-9a-f]{64}$ ]]
        id=$output
        run "$BERTH" network ls --filter driver=macvlan
        assert_success
        [[ "$(echo "$output" | sed -n 2p)" =~ ^${id:0:12}\ +mv1\ +macvlan\ +local$ ]]
        run "$BERTH" network inspect mv1
        assert_success
        echo "$output" | jq -e '.[0].Driver == "macvlan"'
        echo "$output" | jq -e --arg p "$PARENT" '.[0].Options == {"parent": $p, "macvlan_mode": "bridge"}'
        echo "$output" | jq -e '.[0].Internal == false'
        echo "$output" | jq -e '.[0].IPAM.Config[0] == {"Subnet": "10.77.0.0/24", "IPRange": "10.77.0.128/25", "Gateway": "10.77.0.1"}'
        no_host_slaves
        # --ip-range: addresses come from it
        "$BERTH" run -d --name mv-r --network mv1 busybox sleep 100
        [ "$(ip_of mv-r mv1)" = 10.77.0.128 ] || [ "$(ip_of mv-r mv1)" = 10.77.0.129 ]
        "$BERTH" rm -f mv-r
        run "$BERTH" network rm mv1
        assert_success
        [ ! -e "$BERTH_DATA_DIR/networks/$id.json" ]
        [ -e "/sys/class/net/$PARENT" ]
        no_leftovers
}

@test "macvlan: two containers and the outside host by IP, containers by name; -p is ignored" {
        "$BERTH" network create -d macvlan --subnet $SUB --gateway 10.77.0.1 -o parent="$PARENT" \
                -o dns.upstream=$UP mv2
        two_and_outside mv2
        # the slave link is eth0 in the container, a macvlan of the parent, with Docker's MAC
        run "$BERTH" exec mv-b cat /sys/class/net/eth0/address
        [ "$output" = "02:42:0a:4d:00:32" ]
        no_host_slaves
        run "$BERTH" network inspect mv2
        echo "$output" | jq -e '.[0].Containers | length == 2'
        echo "$output" | jq -e --arg a "$(ip_of mv-a mv2)/24" '[.[0].Containers[] | .IPv4Address] | sort == ([$a, "10.77.0.50/24"] | sort)'
        echo "$output" | jq -e '[.[0].Containers[] | .Name] | sort == ["mv-a", "mv-b"]'
        # -p: Docker's macvlan driver publishes nothing; no host port is reserved
        "$BERTH" run -d --name mv-p --network mv2 -p 18197:80 busybox sleep 100
        run "$BERTH" inspect -f '{{json .NetworkSettings.Ports}}' mv-p
        [ "$output" = "{}" ]
        [ -z "$(ls "$BERTH_RUN_DIR/net/ports" 2>/dev/null)" ]
        "$BERTH" rm -f mv-a mv-b mv-p
        run "$BERTH" network rm mv2
        assert_success
        no_leftovers
}

@test "macvlan: network connect and disconnect a running container" {
        "$BERTH" network create -d macvlan --subnet $SUB -o parent="$PARENT" -o dns.upstream=$UP mv3
        "$BERTH" run -d --name mv-c busybox sleep 1000
        run "$BERTH" network connect --ip 10.77.0.77 mv3 mv-c
        assert_success
        run "$BERTH" exec mv-c ip -o addr show eth1
        assert_output_contains "10.77.0.77/24"
        run "$BERTH" exec mv-c ping -c1 -W2 "$OUT"
        assert_success
        run "$BERTH" network inspect mv3
        echo "$output" | jq -e '.[0].Containers[].IPv4Address == "10.77.0.77/24"'
        run "$BERTH" network connect mv3 mv-c
        assert_failure 1
        assert_output_contains "already exists"
        run "$BERTH" network disconnect mv3 mv-c
        assert_success
        run "$BERTH" exec mv-c ip link show eth1
        assert_failure
        run "$BERTH" network inspect mv3
        echo "$output" | jq -e '.[0].Containers == {}'
        run "$BERTH" network rm mv3
        assert_success
        no_host_slaves
}

@test "macvlan: a user bridge's container that joins one resolves both networks' names" {
        "$BERTH" network create -o dns.upstream=$UP ub5
        "$BERTH" network create -d macvlan --subnet $SUB -o parent="$PARENT" -o dns.upstream=$UP mv5
        "$BERTH" run -d --name mv-peer --network mv5 --ip 10.77.0.55 busybox sleep 1000
        "$BERTH" run -d --name ub-peer --network ub5 busybox sleep 1000
        "$BERTH" run -d --name both --network ub5 busybox sleep 1000
        ubip=$(ip_of ub-peer ub5)
        # running: the bridge's resolver knew ub5 only; connect gives it one of its own
        run "$BERTH" network connect mv5 both
        assert_success
        run "$BERTH" exec both cat /etc/resolv.conf
        assert_output_contains "nameserver 127.0.0.11"
        run "$BERTH" exec both nslookup mv-peer
        assert_success
        assert_output_contains "10.77.0.55"
        run "$BERTH" exec both nslookup ub-peer
        assert_success
        assert_output_contains "$ubip"
        run "$BERTH" exec both ping -c1 -W2 mv-peer
        assert_success
        # stopped when it joins: its next start makes the resolver
        "$BERTH" create --name both2 --network ub5 busybox sleep 1000
        run "$BERTH" network connect mv5 both2
        assert_success
        "$BERTH" start both2
        run "$BERTH" exec both2 nslookup mv-peer
        assert_success
        assert_output_contains "10.77.0.55"
        run "$BERTH" exec both2 nslookup ub-peer
        assert_success
        assert_output_contains "$ubip"
        "$BERTH" rm -f mv-peer ub-peer both both2
        "$BERTH" network rm mv5 ub5
        no_leftovers
}

@test "macvlan/ipvlan refusals: Docker's messages, status 1 (create) or 125 (run), nothing left" {
        bad() { # EXPECTED-TEXT create-args...
                local want=$1
                shift
                run "$BERTH" network create --subnet 10.78.0.0/24 "$@" badnet
                assert_failure 1
                assert_output_contains "$want"
        }
        bad 'unknown macvlan driver option "foo"' -d macvlan -o parent="$PARENT" -o foo=bar
        bad "requested macvlan mode 'nope' is not valid, 'bridge' mode is the macvlan driver default" \
                -d macvlan -o parent="$PARENT" -o macvlan_mode=nope
        bad "requested ipvlan mode 'l4' is not valid, 'l2' mode is the ipvlan driver default" \
                -d ipvlan -o parent="$PARENT" -o ipvlan_mode=l4
        bad "requested ipvlan flag 'x' is not valid, 'bridge' is the ipvlan driver default" \
                -d ipvlan -o parent="$PARENT" -o ipvlan_flag=x
        bad 'unknown ipvlan driver option "macvlan_mode"' -d ipvlan -o parent="$PARENT" -o macvlan_mode=bridge
        bad "invalid subinterface vlan name bmvnone$$, example formatting is eth0.10" -d macvlan -o parent=bmvnone$$
        bad "failed to find master interface bmvnone$$ on the host" -d macvlan -o parent=bmvnone$$.50
        bad "vlan id must be between 1-4094, received: 5000" -d macvlan -o parent="$PARENT.5000"
        bad "loopback interface is not a valid macvlan parent link" -d macvlan -o parent=lo
        bad 'plugin "nosuchdriver" not found' -d nosuchdriver
        # same parent, overlapping subnets: refused; passthru wants its parent alone
        "$BERTH" network create -d macvlan --subnet $SUB -o parent="$PARENT" mvok
        run "$BERTH" network create -d macvlan --subnet 10.77.0.0/25 -o parent="$PARENT" mvover
        assert_failure 1
        assert_output_contains "Pool overlaps with other one on this address space"
        run "$BERTH" network create -d macvlan --subnet 10.79.0.0/24 -o parent="$PARENT" \
                -o macvlan_mode=passthru mvpass
        assert_failure 1
        assert_output_contains "cannot use mode passthru, macvlan network"
        # run: an address outside the subnet, an address in use (125), nothing kept
        run "$BERTH" run --rm --network mvok --ip 10.99.0.5 busybox true
        assert_failure 125
        "$BERTH" run -d --name mv-x --network mvok --ip 10.77.0.9 busybox sleep 100
        run "$BERTH" run --rm --network mvok --ip 10.77.0.9 busybox true
        assert_failure 125
        assert_output_contains "Address already in use"
        "$BERTH" rm -f mv-x
        # a parent that vanished after create: run fails with 125, no lease or namespace kept
        ip link del "$PARENT"
        run "$BERTH" run --rm --network mvok busybox true
        assert_failure 125
        assert_output_contains "parent interface $PARENT is gone"
        run "$BERTH" network ls --format '{{.Name}}'
        [ "$(echo "$output" | grep -c -E '^(badnet|mvover|mvpass)$')" = 0 ]
        run "$BERTH" network rm mvok
        assert_success
        [ -z "$(ls "$BERTH_DATA_DIR/networks" | grep -v -E '\.json$|^lock$')" ]
        no_leftovers
}

@test "macvlan without -o parent: a dummy dm-<id>, the network internal; rm removes it" {
        ip link add "bmvd$$" type dummy 2>/dev/null || skip "SKIPPED LOUDLY: this kernel has no dummy driver (CONFIG_DUMMY)"
        ip link del "bmvd$$"
        run "$BERTH" network create -d macvlan --subnet 10.78.0.0/24 -o dns.upstream=$UP mvd
        assert_success
        id=$output
        [ -e "/sys/class/net/dm-${id:0:12}" ]
        run "$BERTH" network inspect mvd
        echo "$output" | jq -e '.[0].Internal == true'
        "$BERTH" run -d --name mv-d1 --network mvd busybox sleep 1000
        "$BERTH" run -d --name mv-d2 --network mvd busybox sleep 1000
        run "$BERTH" exec mv-d1 ping -c1 -W2 mv-d2
        assert_success
        run "$BERTH" exec mv-d1 ip route
        refute_output_contains "default"
        "$BERTH" rm -f mv-d1 mv-d2
        run "$BERTH" network rm mvd
        assert_success
        [ ! -e "/sys/class/net/dm-${id:0:12}" ]
        no_leftovers
}

@test "macvlan on PARENT.VID: the VLAN link is made at create and removed at rm" {
        have_kind vlan id 4093 || skip "SKIPPED LOUDLY: this kernel has no 802.1Q driver (CONFIG_VLAN_8021Q)"
        run "$BERTH" network create -d macvlan --subnet 10.78.0.0/24 -o parent="$PARENT.42" mvv
        assert_success
        [ -e "/sys/class/net/$PARENT.42" ]
        "$BERTH" run -d --name mv-v --network mvv busybox sleep 100
        run "$BERTH" exec mv-v ip -o addr show eth0
        assert_output_contains "10.78.0.2/24"
        "$BERTH" rm -f mv-v
        run "$BERTH" network rm mvv
        assert_success
        [ ! -e "/sys/class/net/$PARENT.42" ]
        # an existing sub-interface is the user's: rm leaves it
        ip link add link "$PARENT" name "$PARENT.43" type vlan id 43
        "$BERTH" network create -d macvlan --subnet 10.78.0.0/24 -o parent="$PARENT.43" mvv2
        "$BERTH" network rm mvv2
        [ -e "/sys/class/net/$PARENT.43" ]
        ip link del "$PARENT.43"
}

@test "ipvlan l2: two containers and the outside host by IP, containers by name" {
        have_kind ipvlan mode l2 || skip "SKIPPED LOUDLY: this kernel has no ipvlan driver (CONFIG_IPVLAN; modprobe ipvlan failed)"
        run "$BERTH" network create -d ipvlan --subnet $SUB --gateway 10.77.0.1 \
                -o parent="$PARENT" -o ipvlan_mode=l2 -o dns.upstream=$UP iv1
        assert_success
        run "$BERTH" network inspect iv1
        echo "$output" | jq -e '.[0].Driver == "ipvlan"'
        two_and_outside iv1
        # an ipvlan link has its parent's MAC: Docker shows none
        run "$BERTH" inspect -f '{{.NetworkSettings.Networks.iv1.MacAddress}}' mv-a
        [ "$output" = "" ]
        run "$BERTH" run --rm --network iv1 --mac-address 02:42:00:00:00:01 busybox true
        assert_failure 125
        assert_output_contains "ipvlan interfaces do not support custom mac address assignment"
        "$BERTH" rm -f mv-a mv-b
        run "$BERTH" network rm iv1
        assert_success
        no_leftovers
}

@test "kill -9 of berth run, monitors and containers: rm -f and prune leave no link, lease or resolver" {
        "$BERTH" network create -d macvlan --subnet $SUB -o parent="$PARENT" -o dns.upstream=$UP mvk
        "$BERTH" run -d --name mv-k1 --network mvk busybox sleep 1000
        "$BERTH" run -d --name mv-k2 --network mvk busybox sleep 1000
        # berth run killed in the middle of making the sandbox
        local i
        for i in 1 2 3; do
                ("$BERTH" run -d --name mv-kr$i --network mvk busybox sleep 1000 >/dev/null 2>&1 &
                        p=$!
                        sleep 0.0$((i * 3))
                        kill -9 $p) || true
        done
        # the monitors and containers killed: their parent (the monitor) by pid
        local c pid mon
        for c in mv-k1 mv-k2; do
                pid=$("$BERTH" inspect -f '{{.State.Pid}}' $c)
                mon=$(ps -o ppid= -p "$pid" | tr -d ' ')
                kill -9 "$mon" "$pid" 2>/dev/null || true
        done
        sleep 0.3
        # the next network call collects what they left
        run "$BERTH" network inspect mvk
        assert_success
        # only the runs whose monitor was started before the kill are left: running ones
        echo "$output" | jq -e '[.[0].Containers[] | .Name] | (index("mv-k1") == null and index("mv-k2") == null)'
        for c in $(echo "$output" | jq -r '.[0].Containers[] | .Name'); do
                [ "$("$BERTH" inspect -f '{{.State.Running}}' "$c")" = true ]
        done
        "$BERTH" rm -f $("$BERTH" ps -aq) >/dev/null 2>&1 || true
        run "$BERTH" network prune -f
        assert_success
        run "$BERTH" network ls --format '{{.Name}}'
        refute_output_contains "mvk"
        no_leftovers
        # a network create killed after making its parent: the next network call removes it
        ip link add "bmvz$$" type veth peer name "bmvy$$"
        fake=$(printf '%064d' 7)
        printf 'bmvz%s' $$ >"$BERTH_DATA_DIR/networks/$fake.link"
        run "$BERTH" network prune -f
        assert_success
        [ ! -e "/sys/class/net/bmvz$$" ]
        [ ! -e "$BERTH_DATA_DIR/networks/$fake.link" ]
}

@test "Engine API: POST /networks/create with Driver macvlan and Options; the docker CLI" {
        require_cmd curl
        api_service_start
        run api_curl -X POST -H 'Content-Type: application/json' \
                -d "{\"Name\": \"mvapi\", \"Driver\": \"macvlan\", \"Options\": {\"parent\": \"$PARENT\", \"dns.upstream\": \"$UP\"}, \"IPAM\": {\"Config\": [{\"Subnet\": \"$SUB\", \"Gateway\": \"10.77.0.1\"}]}}" \
                /v1.41/networks/create
        assert_success
        echo "$output" | jq -e '.Id | test("^[0-9a-f]{64}$")'
        run api_curl /v1.41/networks/mvapi
        echo "$output" | jq -e --arg p "$PARENT" '.Driver == "macvlan" and .Options.parent == $p'
        run api_curl -X POST -H 'Content-Type: application/json' \
                -d "{\"Name\": \"mvapi2\", \"Driver\": \"macvlan\", \"Options\": {\"parent\": \"$PARENT\", \"macvlan_mode\": \"bogus\"}}" \
                /v1.41/networks/create
        assert_output_contains "requested macvlan mode 'bogus' is not valid"
        if command -v docker >/dev/null; then
                run docker network ls --filter driver=macvlan --format '{{.Name}} {{.Driver}}'
                assert_success
                [ "$output" = "mvapi macvlan" ]
                run docker run --rm --network mvapi busybox ping -c1 -W2 "$OUT"
                assert_success
        fi
        run "$BERTH" network rm mvapi
        assert_success
        no_leftovers
}
