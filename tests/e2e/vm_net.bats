#!/usr/bin/env bats
# vm_net.bats — `berth vm` VMs on berth networks, jailed: the supervisor's side makes each tap
# and joins it to its network (bridge, address, DNS name, endpoint owner vm-<supervisor pid>)
# before berth-vmm is jailed, and hands the open tap to every berth-vmm it starts
# (`--tap-fd ID=FD`, the address as `--boot-arg ip=…`).  The endpoint lives as long as the
# supervisor: a guest reboot keeps the tap and the address; a stop releases it; a kill -9 of
# either process leaves no tap, and `berth network`'s garbage collection drops the endpoint.
#
# The freestanding test guest (tests/guest) proves the link: it takes its address from ip=,
# ARPs for the container's address (guest.netpeer=) and then idles (guest.idle=1: Ctrl+Alt+Del
# reboots it).  No traffic leaves the host: the network's resolver forwards to 127.0.0.9.
load helpers
load lib/vmnet
load lib/vm
bats_require_minimum_version 1.5.0

setup_file() {
        berth_busybox_setup_file
}

setup() {
        vm_require
        require_root
}

teardown() {
        local h
        for h in a b; do # the migration's two hosts
                [ -d "$BATS_TEST_TMPDIR/$h" ] || continue
                BERTH_RUN_DIR="$BATS_TEST_TMPDIR/$h/run" BERTH_DATA_DIR="$BATS_TEST_TMPDIR/$h/data" vm_teardown
                BERTH_RUN_DIR="$BATS_TEST_TMPDIR/$h/run" BERTH_DATA_DIR="$BATS_TEST_TMPDIR/$h/data" \
                        "$BERTH" network prune -f >/dev/null 2>&1
        done
        vm_teardown
        berth_rm_all_containers
        [ "$(id -u)" = 0 ] && "$BERTH" network prune -f >/dev/null 2>&1
        return 0
}

console_log() {
        echo "$BERTH_DATA_DIR/vms/$1/console.log"
}

# wait_console NAME PATTERN [COUNT]: until the guest printed PATTERN (COUNT times), 20 s at most.
wait_console() {
        local i
        for ((i = 0; i < 200; i++)); do
                [ "$(grep -c -- "$2" "$(console_log "$1")" 2>/dev/null)" -ge "${3:-1}" ] && return 0
                sleep 0.1
        done
        echo "timed out waiting for '$2' on $1's console:" >&2
        cat "$(console_log "$1")" >&2
        return 1
}

# wait_gone PID: until the process is gone (10 s at most).
wait_gone() {
        local i
        for ((i = 0; i < 100; i++)); do
                kill -0 "$1" 2>/dev/null || return 0
                sleep 0.1
        done
        return 1
}

inspect() { # NAME JQ
        "$BERTH" vm inspect "$1" | jq -r "$2"
}

# The btap links on the host.
taps() {
        ip -o link show | awk -F': ' '$2 ~ /^btap/ { sub(/@.*/, "", $2); print $2 }'
}

# Create and start VM $1 on vmnet (more `vm create` flags after it); sets pid, sup, tap.
start_on_net() {
        local name="$1"
        shift
        vm create "$name" --kernel "$GUEST" --memory 32 --net vmnet \
                --cmdline "console=ttyS0 guest.netpeer=$peer_ip guest.idle=1" "$@"
        assert_success
        vm start "$name"
        assert_success
        pid=$(inspect "$name" .State.Pid)
        sup=$(inspect "$name" .State.SupervisorPid)
        tap=$(ip -o link show master "$bridge" | awk -F': ' '$2 ~ /^btap/ { sub(/@.*/, "", $2); print $2 }')
        [ "$(wc -w <<<"$tap")" = 1 ] || { ip -o link show >&2; false; }
}

@test "vm net: a VM on a berth network runs jailed on a tap its supervisor made, talks to a container, keeps its address through a reboot and leaves nothing when destroyed" {
        net_and_peer
        start_on_net vn1
        # jailed as any other VM
        [ "$(inspect vn1 .State.Jailed)" = true ]
        st=$(cat "/proc/$pid/status")
        grep -qx $'Seccomp:\t2' <<<"$st"
        grep -qx $'NoNewPrivs:\t1' <<<"$st"
        grep -qx $'CapEff:\t0000000000000000' <<<"$st"
        [ "$(awk '/^Uid:/ {print $2}' <<<"$st")" != 0 ]
        # no /dev/net/tun in its root: the tap came open
        [ ! -e "/proc/$pid/root/dev/net/tun" ]
        run grep -q "berth-vmm runs without --jail" "$BERTH_DATA_DIR/vms/vn1/vmm.log"
        assert_failure

        # the network lists it under its name, owned by the supervisor, with its MAC
        ep=$(vm_endpoint vn1)
        [ -n "$ep" ] || { net_json >&2; false; }
        [ "$(jq -r .key <<<"$ep")" = "vm-$sup" ]
        mac=$(jq -r '."network-interfaces"[0].guest_mac' "$BERTH_DATA_DIR/vms/vn1/config.json")
        [ "$(jq -r .value.MacAddress <<<"$ep")" = "$mac" ]
        vm_cidr=$(jq -r .value.IPv4Address <<<"$ep")
        vm_ip=${vm_cidr%/*}
        python3 -c 'import ipaddress, sys
sys.exit(ipaddress.ip_interface(sys.argv[1]).ip not in ipaddress.ip_network(sys.argv[2]))' \
                "$vm_cidr" "$subnet"

        # the guest got the address on its command line and exchanged ARP with the container
        wait_console vn1 "BERTH-GUEST cmdline: .* ip=$vm_ip::$gw:$mask::eth0:off"
        wait_console vn1 "BERTH-GUEST net: rx arp reply: $peer_ip is at $peer_mac"
        run "$BERTH" exec peer nslookup vn1
        assert_output_contains "$vm_ip"

        # a reboot: a new berth-vmm on the same tap, the same address
        run "$BERTH" vm reboot vn1
        assert_success
        wait_console vn1 "BERTH-GUEST cmdline: .* ip=$vm_ip::$gw:$mask::eth0:off" 2
        wait_console vn1 "BERTH-GUEST net: rx arp reply: $peer_ip is at $peer_mac" 2
        [ "$(inspect vn1 .State.Pid)" != "$pid" ]
        [ "$(inspect vn1 .State.SupervisorPid)" = "$sup" ]
        [ "$(vm_endpoint vn1 | jq -r .value.IPv4Address)" = "$vm_cidr" ]
        ip link show "$tap" >/dev/null

        # destroyed: the endpoint is released before destroy returns, the tap is gone
        vm destroy vn1
        assert_success
        [ -z "$(vm_endpoint vn1)" ] || { net_json >&2; false; }
        run ip link show "$tap"
        assert_failure
        [ -z "$(taps)" ] || { ip -o link show >&2; false; }
        run "$BERTH" exec peer nslookup vn1
        refute_output_contains "$vm_ip"
}

@test "vm net: the guest powering off releases its endpoint; so does a start again" {
        net_and_peer
        start_on_net vn2
        run "$BERTH" vm shutdown vn2 --timeout 20
        assert_success
        [ -z "$(vm_endpoint vn2)" ] || { net_json >&2; false; }
        [ -z "$(taps)" ] || { ip -o link show >&2; false; }
        vm start vn2
        assert_success
        [ -n "$(vm_endpoint vn2)" ]
        [ "$(vm_endpoint vn2 | jq -r .key)" = "vm-$(inspect vn2 .State.SupervisorPid)" ]
}

@test "vm net: kill -9 of the supervisor takes its VMM and tap along; berth network's gc drops the endpoint" {
        net_and_peer
        start_on_net vn3
        kill -KILL "$sup"
        wait_gone "$pid" || { echo "berth-vmm $pid outlived its supervisor" >&2; false; }
        run ip link show "$tap"
        assert_failure
        run "$BERTH" network ls
        assert_success
        [ -z "$(vm_endpoint vn3)" ] || { net_json >&2; false; }
        [ "$(inspect vn3 .State.Status)" = crashed ]
}

@test "vm net: kill -9 of berth-vmm: the supervisor records the crash, closes the tap and releases the endpoint" {
        net_and_peer
        start_on_net vn4
        kill -KILL "$pid"
        wait_gone "$sup"
        [ -z "$(vm_endpoint vn4)" ] || { net_json >&2; false; }
        run ip link show "$tap"
        assert_failure
        [ "$(inspect vn4 .State.Status)" = crashed ]
}

@test "vm net: a --no-jail VM on a network works the same way, unjailed" {
        net_and_peer
        start_on_net vn5 --no-jail
        [ "$(inspect vn5 .State.Jailed)" = false ]
        [ "$(vm_endpoint vn5 | jq -r .key)" = "vm-$sup" ]
        wait_console vn5 "BERTH-GUEST net: rx arp reply: $peer_ip is at $peer_mac"
        vm destroy vn5
        assert_success
        [ -z "$(vm_endpoint vn5)" ]
        [ -z "$(taps)" ]
}

@test "vm net: a snapshot revert of a networked VM restores it jailed on a new tap and lease" {
        net_and_peer
        # a container holds the address below the VM's while the snapshot is made, and is
        # gone when it is reverted: a plain lease would now take that lower one
        "$BERTH" run -d --name early --network vmnet busybox sleep 300 >/dev/null
        start_on_net vn6
        wait_console vn6 "BERTH-GUEST net: rx arp reply: $peer_ip is at $peer_mac"
        vm_cidr=$(vm_endpoint vn6 | jq -r .value.IPv4Address)
        vm snapshot create vn6 s1
        assert_success
        vm destroy vn6
        assert_success
        "$BERTH" rm -f early >/dev/null
        vm snapshot revert vn6 s1
        assert_success
        [ "$(inspect vn6 .State.Status)" = running ]
        [ "$(inspect vn6 .State.Jailed)" = true ]
        sup=$(inspect vn6 .State.SupervisorPid)
        [ "$(vm_endpoint vn6 | jq -r .key)" = "vm-$sup" ]
        # the restored guest still has its address configured: the network lends it again
        [ "$(vm_endpoint vn6 | jq -r .value.IPv4Address)" = "$vm_cidr" ]
        [ "$(ip -o link show master "$bridge" | grep -c btap)" = 1 ]
        vm destroy vn6
        assert_success
        [ -z "$(vm_endpoint vn6)" ]
        [ -z "$(taps)" ]
}

@test "vm net: the second interface failing to join releases the first: no tap, no endpoint" {
        net_and_peer
        # a /30: the gateway and one address, which a container takes
        run "$BERTH" network create --subnet 10.199.77.0/30 -o dns.upstream=127.0.0.9 fullnet
        assert_success
        "$BERTH" run -d --name filler --network fullnet busybox sleep 300 >/dev/null
        vm create vn8 --kernel "$GUEST" --memory 32 --net vmnet --net fullnet
        assert_success
        vm start vn8
        [ "$status" -eq 125 ]
        assert_output_contains "fullnet"
        [ -z "$(vm_endpoint vn8)" ] || { net_json >&2; false; }
        [ -z "$(taps)" ] || { ip -o link show >&2; false; }
        [ "$(inspect vn8 .State.Status)" != running ]
        # twice on one network: refused before anything is made
        vm create vn9 --kernel "$GUEST" --memory 32 --net vmnet --net vmnet
        assert_success
        vm start vn9
        [ "$status" -eq 125 ]
        assert_output_contains "two interfaces on network vmnet"
}

@test "vm net: an unknown network refuses the start and leaves no tap" {
        vm_require
        berth_busybox_setup
        vm create vn7 --kernel "$GUEST" --memory 32 --net nosuchnet
        assert_success
        vm start vn7
        [ "$status" -eq 125 ]
        assert_output_contains "nosuchnet"
        [ "$(inspect vn7 .State.Status)" != running ]
        [ -z "$(taps)" ]
}

@test "vm net: berth-vmm --tap-fd: bad input is refused, --jail with network= and no descriptor says to give one" {
        run "$BERTH_VMM" --kernel "$GUEST" --tap-fd net0
        [ "$status" -eq 2 ]
        assert_output_contains "want ID=FD"
        run "$BERTH_VMM" --kernel "$GUEST" --tap-fd net0=1
        [ "$status" -eq 2 ]
        assert_output_contains "FD 3 or more"
        run "$BERTH_VMM" --kernel "$GUEST" --tap-fd net0=987
        [ "$status" -eq 2 ]
        assert_output_contains "descriptor 987"
        run "$BERTH_VMM" --kernel "$GUEST" --memory 32 --net tap=btapx --tap-fd nope=5 5</dev/null
        [ "$status" -eq 2 ]
        assert_output_contains "the VM has no interface \`nope\`"
        run "$BERTH_VMM" --kernel "$GUEST" --memory 32 --net tap=btapx --tap-fd net0=5 5</dev/null
        assert_failure
        assert_output_contains "--tap-fd net0=5: not a tap"
        run "$BERTH_VMM" --kernel "$GUEST" --memory 32 --jail --net network=vmnet
        [ "$status" -eq 2 ]
        assert_output_contains "--tap-fd ID=FD"
        [ -z "$(taps)" ]
}

@test "vm net: a networked VM migrates --live, jailed at both ends: the destination's supervisor joins its network there, the source's endpoint and tap go" {
        require_cmd jq
        local d="$BATS_TEST_TMPDIR" h
        for h in a b; do
                mkdir -p "$d/$h/run" "$d/$h/data"
        done
        on() { # HOST CMD...: berth with HOST's state
                local h=$1
                shift
                BERTH_RUN_DIR="$d/$h/run" BERTH_DATA_DIR="$d/$h/data" "$@"
        }
        run on a "$BERTH" network create --subnet 10.198.1.0/24 -o dns.upstream=127.0.0.9 mignet
        assert_success
        run on b "$BERTH" network create --subnet 10.198.2.0/24 -o dns.upstream=127.0.0.9 mignet
        assert_success
        # the counting guest (guest.count=MiB), once it has ARPed for the bridge's address: it
        # goes on counting where it left off
        run on a "$BERTH" vm create mg --kernel "$GUEST" --memory 64 --net mignet \
                --cmdline "console=ttyS0 guest.netpeer=10.198.1.1 guest.count=16"
        assert_success
        run on a "$BERTH" vm start mg
        assert_success
        counts() { grep -ac '^BERTH-GUEST count [0-9]' "$d/$1/data/vms/mg/console.log" || true; }
        for _ in $(seq 100); do
                [ "$(counts a)" -ge 2 ] && break
                sleep 0.1
        done
        [ "$(counts a)" -ge 2 ] || { cat "$d/a/data/vms/mg/console.log" >&2; false; }
        grep -q "BERTH-GUEST net: rx arp reply: 10.198.1.1 is at" "$d/a/data/vms/mg/console.log"
        local tap_a
        tap_a=$(taps)
        [ "$(on a "$BERTH" network inspect mignet | jq -r '.[0].Containers[].Name')" = mg ]
        on b "$BERTH" vm receive "unix:$d/recv.sock" >"$d/recv.out" 2>&1 &
        local rp=$!
        for _ in $(seq 100); do [ -S "$d/recv.sock" ] && break; sleep 0.05; done
        run on a "$BERTH" vm migrate --live mg "unix:$d/recv.sock"
        cat "$d/recv.out" >&2
        wait "$rp" || true
        assert_success
        # the destination: running jailed on a tap of its own network, listed there
        [ "$(on b "$BERTH" vm inspect mg | jq -r .State.Status)" = running ]
        [ "$(on b "$BERTH" vm inspect mg | jq -r .State.Jailed)" = true ]
        local ep
        ep=$(on b "$BERTH" network inspect mignet | jq -c '.[0].Containers | to_entries[0]')
        [ "$(jq -r .value.Name <<<"$ep")" = mg ]
        [[ "$(jq -r .value.IPv4Address <<<"$ep")" == 10.198.2.* ]]
        [ "$(jq -r .key <<<"$ep")" = "vm-$(on b "$BERTH" vm inspect mg | jq -r .State.SupervisorPid)" ]
        # the guest goes on there: its count continues on the destination's console
        for _ in $(seq 100); do
                [ "$(counts b)" -ge 2 ] && break
                sleep 0.1
        done
        [ "$(counts b)" -ge 2 ] || { cat "$d/b/data/vms/mg/console.log" >&2; false; }
        # the source: shut off (migrated) once its supervisor recorded the VMM's exit, with its
        # endpoint released before that, its tap gone
        for _ in $(seq 100); do
                [ "$(on a "$BERTH" vm inspect mg | jq -r .State.Status)" = "shut off" ] && break
                sleep 0.1
        done
        [ "$(on a "$BERTH" vm inspect mg | jq -r .State.Reason)" = "migrated to another host" ]
        [ "$(on a "$BERTH" network inspect mignet | jq '.[0].Containers | length')" = 0 ]
        run ip link show "$tap_a"
        assert_failure
        run on b "$BERTH" vm destroy mg
        assert_success
        [ -z "$(taps)" ]
}
