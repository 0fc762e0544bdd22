#!/usr/bin/env bats
# vmm_net.bats — microVMs on berth networks beside containers (`berth-vmm --net network=NAME`):
# the VM's tap joins the network's bridge, the network lends it an address (ip= on the guest's
# command line) and lists it in `berth network inspect`, a container on the same network
# exchanges frames with it, and the endpoint goes when the VMM does — by itself on a normal
# exit or a signal, through `berth network`'s garbage collection after a kill -9.
#
# The freestanding test guest (tests/guest) proves the exchange: it takes its address from the
# ip= the VMM appended and ARPs for the container's address (guest.netpeer=); the container's
# own kernel answers, and learns the VM's MAC from the request.  No traffic leaves the host: the
# network's resolver forwards to 127.0.0.9, where nothing listens.
load helpers
load lib/vmnet
bats_require_minimum_version 1.5.0

GUEST="$BERTH_BUILD/tests/guest/berth-test-guest.elf"
VM_MAC=52:54:00:12:34:56

setup_file() {
        berth_busybox_setup_file
}

setup() {
        [ -x "$BERTH_VMM" ] || skip "berth-vmm not built"
        [ -f "$GUEST" ] || skip "test guest not built"
}

teardown() {
        # A VMM a test left running (it failed early) is stopped by its pid.
        if [ -n "${pid:-}" ] && kill -0 "$pid" 2>/dev/null; then
                kill -KILL "$pid" 2>/dev/null || true
        fi
        [ "$(id -u)" = 0 ] || return 0
        local ids
        ids=$("$BERTH" ps -aq 2>/dev/null) || true
        [ -n "$ids" ] && "$BERTH" rm -f $ids >/dev/null 2>&1
        "$BERTH" network prune -f >/dev/null 2>&1
        return 0
}

wait_for() { # FILE TEXT: up to 20 s for TEXT to appear in FILE
        local i
        for i in $(seq 200); do
                grep -qF -- "$2" "$1" && return 0
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
        done
        grep -qF -- "$2" "$1" && return 0
        echo "no \`$2\` in $1:" >&2
        cat "$1" >&2
        return 1
}

# Boot the guest on vmnet in the background, staying up (guest.exit=hang) after its ARP test.
boot_vm() { # NAME
        out="$BATS_TEST_TMPDIR/vm.out"
        "$BERTH_VMM" --kernel "$GUEST" --memory 32 --log-level info \
                --net "network=vmnet,name=$1,mac=$VM_MAC" \
                --cmdline "console=ttyS0 guest.netpeer=$peer_ip guest.exit=hang" \
                </dev/null >"$out" 2>&1 &
        pid=$!
        wait_for "$out" "BERTH-GUEST net: tx arp request"
        tap=$(sed -n 's/.*network vmnet: tap \([^,]*\),.*/\1/p' "$out")
        [ -n "$tap" ]
}

@test "vmm net: the VM's tap is on the network's bridge, listed by inspect, and talks to a container" {
        net_and_peer
        boot_vm vm1
        # the lease, on stderr at info level
        grep -q "network vmnet: tap $tap, address [0-9.]*/[0-9]*, gateway $gw, mac $VM_MAC" "$out" ||
                { cat "$out" >&2; false; }

        # the tap is a port of the network's bridge, beside the container's veth
        run ip -o link show master "$bridge"
        assert_success
        assert_output_contains "$tap:"

        # `berth network inspect` lists the VM's endpoint: its name, MAC, an address of the subnet
        ep=$(vm_endpoint vm1)
        [ -n "$ep" ] || { net_json >&2; false; }
        [ "$(jq -r .key <<<"$ep")" = "vm-$pid" ]
        [ "$(jq -r .value.MacAddress <<<"$ep")" = "$VM_MAC" ]
        vm_cidr=$(jq -r .value.IPv4Address <<<"$ep")
        python3 -c 'import ipaddress, sys
sys.exit(ipaddress.ip_interface(sys.argv[1]).ip not in ipaddress.ip_network(sys.argv[2]))' \
                "$vm_cidr" "$subnet"
        vm_ip=${vm_cidr%/*}
        [ "$vm_ip" != "$peer_ip" ]

        # the guest was told its address on the kernel command line
        mask=$(python3 -c 'import ipaddress, sys; print(ipaddress.ip_network(sys.argv[1]).netmask)' "$subnet")
        grep -qF "BERTH-GUEST cmdline: console=ttyS0 guest.netpeer=$peer_ip guest.exit=hang ip=$vm_ip::$gw:$mask::eth0:off" "$out" ||
                { cat "$out" >&2; false; }

        # guest -> container and back: the container's kernel answered the guest's ARP request
        # (sent from the leased address), and learned the VM's MAC from it
        wait_for "$out" "BERTH-GUEST net: rx arp reply: $peer_ip is at $peer_mac"
        run nsenter --net="$sandbox" cat /proc/net/arp
        assert_success
        [[ "$output" =~ $vm_ip\ +0x1\ +0x2\ +$VM_MAC ]] || { echo "$output" >&2; false; }

        # the VM's name resolves on the user network
        run "$BERTH" exec peer nslookup vm1
        assert_output_contains "$vm_ip"

        # a normal exit (SIGTERM here) releases the endpoint; the tap dies with the VMM
        kill -TERM "$pid"
        # not `run wait`: run's subshell cannot wait for this shell's child
        rc=0
        wait "$pid" || rc=$?
        [ "$rc" -eq 13 ]
        [ -z "$(vm_endpoint vm1)" ] || { net_json >&2; false; }
        run ip link show "$tap"
        assert_failure
        run "$BERTH" exec peer nslookup vm1
        refute_output_contains "$vm_ip"
}

@test "vmm net: after kill -9 of the VMM, berth network's garbage collection removes the endpoint" {
        net_and_peer
        boot_vm vm2
        [ -n "$(vm_endpoint vm2)" ] || { net_json >&2; false; }
        kill -KILL "$pid"
        wait "$pid" || true
        run ip link show "$tap"
        assert_failure # the kernel removed the tap with the VMM's last descriptor
        run "$BERTH" network prune -f
        assert_success
        [ -z "$(vm_endpoint vm2)" ] || { net_json >&2; false; }
        # the network itself stays: the container is still on it
        run "$BERTH" network inspect vmnet
        assert_success
        assert_output_contains "\"peer\""
}

@test "vmm net: a VM configured through the API joins the network and leaves it when the guest powers off" {
        net_and_peer
        require_cmd curl
        sock="$BATS_TEST_TMPDIR/api.sock"
        out="$BATS_TEST_TMPDIR/vm.out"
        "$BERTH_VMM" --api-sock "$sock" --log-level info </dev/null >"$out" 2>&1 &
        pid=$!
        api() {
                curl -sS -o /dev/stderr -w '%{http_code}' -X PUT --unix-socket "$sock" \
                        "http://vmm$1" -d "$2"
        }
        for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
        [ "$(api /boot-source "{\"kernel_image_path\": \"$GUEST\", \"boot_args\": \"console=ttyS0 guest.netpeer=$peer_ip\"}")" = 204 ]
        [ "$(api /machine-config '{"vcpu_count": 1, "mem_size_mib": 32}')" = 204 ]
        [ "$(api /network-interfaces/eth0 "{\"network\": \"vmnet\", \"guest_mac\": \"$VM_MAC\"}")" = 204 ]
        [ "$(api /actions '{"action_type": "InstanceStart"}')" = 204 ]
        run timeout 20 tail --pid="$pid" -f /dev/null
        wait "$pid" || true
        # the default name is the endpoint's owner, vm-<pid>; gone once the guest powered off
        grep -q "network vmnet: tap btap[0-9a-f]*, address " "$out" || { cat "$out" >&2; false; }
        grep -qF "BERTH-GUEST net: rx arp reply: $peer_ip is at $peer_mac" "$out" || { cat "$out" >&2; false; }
        grep -q "BERTH-GUEST cmdline: .* ip=[0-9.]*::$gw:" "$out" || { cat "$out" >&2; false; }
        [ -z "$(vm_endpoint "vm-$pid")" ] || { net_json >&2; false; }
}

@test "vmm net: bad --net network= and network-interfaces input fails before the guest starts" {
        run "$BERTH_VMM" --kernel "$GUEST" --net name=vm
        [ "$status" -eq 2 ]
        assert_output_contains "--net needs tap=NAME or network=NAME"
        run "$BERTH_VMM" --kernel "$GUEST" --net tap=t0,name=vm
        [ "$status" -eq 2 ]
        assert_output_contains "name= needs network="
        run "$BERTH_VMM" --kernel "$GUEST" --net network=a --net network=a,tap=t1
        [ "$status" -eq 2 ]
        assert_output_contains "two network interfaces on network \`a\`"
        cfg="$BATS_TEST_TMPDIR/vm.json"
        echo '{"network-interfaces": [{"iface_id": "eth0", "guest_mac": "52:54:00:00:00:01"}]}' >"$cfg"
        run "$BERTH_VMM" --kernel "$GUEST" --config "$cfg"
        [ "$status" -eq 2 ]
        assert_output_contains "host_dev_name or network is required"
        echo '{"network-interfaces": [{"iface_id": "eth0", "network": ""}]}' >"$cfg"
        run "$BERTH_VMM" --kernel "$GUEST" --config "$cfg"
        [ "$status" -eq 2 ]
}

@test "vmm net: an unknown network stops the VMM with the network's error, before the guest runs" {
        require_kvm
        berth_busybox_setup
        run timeout 20 "$BERTH_VMM" --kernel "$GUEST" --memory 32 --net network=nosuchnet </dev/null
        [ "$status" -eq 2 ]
        assert_output_contains "network nosuchnet not found"
        refute_output_contains "BERTH-GUEST"
}
