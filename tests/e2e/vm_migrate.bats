#!/usr/bin/env bats
# vm_migrate.bats — `berth vm migrate` / `berth vm receive` (docs/vm.md, "Migration") between two
# "hosts", each its own berth state (BERTH_RUN_DIR, BERTH_DATA_DIR): cold migration of a VM
# shut off (definition, kernel and disk copied, registered on the destination), refusals by
# name, and live migration of the counting test guest between two network namespaces joined by
# a veth pair: the counter goes on on the destination, the source is recorded as migrated, and
# both ends keep the figures in `vm inspect`.
load helpers
load lib/vm
bats_require_minimum_version 1.5.0

setup() {
        [ -x "$BERTH" ] || skip "berth not built"
        [ -f "$GUEST" ] || skip "test guest not built"
        require_cmd python3
        d="$BATS_TEST_TMPDIR"
        mkdir -p "$d/a/run" "$d/a/data" "$d/b/run" "$d/b/data"
        pids=()
        nss=()
}

# Each host's VMs go, then the namespaces.
teardown() {
        local h p n
        for h in a b; do
                BERTH_RUN_DIR="$d/$h/run" BERTH_DATA_DIR="$d/$h/data" vm_teardown
        done
        for p in "${pids[@]}"; do
                kill -KILL "$p" 2>/dev/null || true
                wait "$p" 2>/dev/null || true
        done
        for n in "${nss[@]}"; do
                ip netns del "$n" 2>/dev/null || true
        done
}

on() { # HOST CMD...: berth with HOST's state
        local h=$1
        shift
        BERTH_RUN_DIR="$d/$h/run" BERTH_DATA_DIR="$d/$h/data" "$@"
}

field() { # JSON-PATH (python expression on d) < inspect document
        python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"
}

@test "vm migrate: a VM shut off moves cold: definition, kernel and disk, registered there" {
        truncate -s 4M "$d/disk.raw"
        printf 'berth-migrate-marker' | dd of="$d/disk.raw" bs=1 seek=65536 conv=notrunc 2>/dev/null
        on a "$BERTH" vm create cold1 --kernel "$GUEST" --memory 64 --disk "$d/disk.raw" --no-jail
        on b "$BERTH" vm receive "unix:$d/recv.sock" >"$d/recv.out" 2>&1 &
        local rp=$!
        pids+=("$rp")
        for _ in $(seq 100); do [ -S "$d/recv.sock" ] && break; sleep 0.05; done
        run on a "$BERTH" vm migrate cold1 "unix:$d/recv.sock"
        echo "$output" >&2
        [ "$status" -eq 0 ]
        [[ "$output" == "cold migration: "*" MiB sent"* ]]
        wait "$rp"
        cat "$d/recv.out" >&2
        grep -q 'received VM cold1' "$d/recv.out"
        run on b "$BERTH" vm ls --all
        [[ "$output" == *cold1*"shut off"* ]]
        on b "$BERTH" vm inspect cold1 >"$d/b.json"
        disk=$(field 'd["Config"]["drives"][0]["path_on_host"]' <"$d/b.json")
        [[ "$disk" == "$d/b/data/"* ]]
        cmp "$disk" "$d/disk.raw"
        [[ "$(field 'd["Config"]["boot-source"]["kernel_image_path"]' <"$d/b.json")" == "$d/b/data/"* ]]
        [ "$(field 'd["State"]["LastMigration"]["Mode"]' <"$d/b.json")" = cold ]
        on a "$BERTH" vm inspect cold1 >"$d/a.json"
        [ "$(field 'd["State"]["LastMigration"]["Destination"]' <"$d/a.json")" = "unix:$d/recv.sock" ]
        [ "$(field 'd["State"]["LastMigration"]["Bytes"] > 4 << 20' <"$d/a.json")" = True ]
}

@test "vm migrate: refusals: a name taken on the destination, --live of a stopped VM" {
        on a "$BERTH" vm create dup --kernel "$GUEST" --memory 64 --no-jail
        on b "$BERTH" vm create dup --kernel "$GUEST" --memory 64 --no-jail
        on b "$BERTH" vm receive "unix:$d/recv.sock" >"$d/recv.out" 2>&1 &
        pids+=($!)
        for _ in $(seq 100); do [ -S "$d/recv.sock" ] && break; sleep 0.05; done
        run on a "$BERTH" vm migrate dup "unix:$d/recv.sock"
        [ "$status" -ne 0 ]
        [[ "$output" == *"the destination refused: a VM named \`dup\` exists on this host"* ]]
        run on a "$BERTH" vm migrate --live dup "unix:$d/recv.sock"
        [ "$status" -ne 0 ]
        [[ "$output" == *"is not running"*"--live"* ]]
        run on a "$BERTH" vm migrate --postcopy dup "unix:$d/recv.sock"
        [ "$status" -ne 0 ]
        [[ "$output" == *"is not running"* ]]
        run on a "$BERTH" vm migrate-postcopy dup
        [ "$status" -ne 0 ]
        [[ "$output" == *"is not running"* ]]
        run on a "$BERTH" vm migrate dup "udp:1.2.3.4:5"
        [ "$status" -ne 0 ]
        [[ "$output" == *"want tcp:HOST:PORT or unix:PATH"* ]]
}

# Two "hosts": namespaces $a (10.252.0.1) and $b (10.252.0.2) joined by a veth pair.
veth_hosts() {
        require_kvm
        require_root
        require_cmd ip
        a=berth-vma-$$
        b=berth-vmb-$$
        ip netns add "$a" || skip "needs network namespaces (ip netns add failed)"
        nss+=("$a")
        ip netns add "$b"
        nss+=("$b")
        ip link add vmig0 netns "$a" type veth peer name vmig1 netns "$b"
        ip -n "$a" addr add 10.252.0.1/30 dev vmig0
        ip -n "$b" addr add 10.252.0.2/30 dev vmig1
        ip -n "$a" link set vmig0 up
        ip -n "$b" link set vmig1 up
}

# A counting VM moves --live from namespace a to b; $@: vm create flags (--no-jail or none).
live_between_namespaces() {
        local a b
        veth_hosts
        on a "$BERTH" vm create live1 --kernel "$GUEST" --memory 256 --cmdline guest.count=64 "$@"
        on a ip netns exec "$a" "$BERTH" vm start live1
        local log_a="$d/a/data/vms/live1/console.log" log_b="$d/b/data/vms/live1/console.log"
        wait_count_above "$log_a" 3
        # the source runs jailed when it was asked to
        on a "$BERTH" vm inspect live1 >"$d/a0.json"
        [ "$(field 'd["State"].get("Jailed", False)' <"$d/a0.json")" = "$jailed" ]
        on b ip netns exec "$b" "$BERTH" vm receive tcp:10.252.0.2:7600 >"$d/recv.out" 2>&1 &
        local rp=$!
        pids+=("$rp")
        sleep 0.5
        run on a ip netns exec "$a" "$BERTH" vm migrate --live live1 tcp:10.252.0.2:7600 \
                --max-downtime 300
        echo "$output" >&2
        cat "$d/recv.out" >&2
        [ "$status" -eq 0 ]
        [[ "$output" == "live migration: "*" ms in all, "*" ms of downtime, "*" round(s)" ]]
        wait "$rp"
        # the source is recorded as migrated, the destination runs it
        on a "$BERTH" vm inspect live1 >"$d/a.json"
        [ "$(field 'd["State"]["Status"]' <"$d/a.json")" = "shut off" ]
        [ "$(field 'd["State"]["Reason"]' <"$d/a.json")" = "migrated to another host" ]
        [ "$(field 'd["State"]["LastMigration"]["Rounds"] >= 1' <"$d/a.json")" = True ]
        run on b "$BERTH" vm ls
        [[ "$output" == *live1*running* ]]
        wait_count_above "$log_b" 3
        local s t
        s=$(last_count "$log_a")
        t=$(first_count "$log_b")
        echo "source ended at $s, destination started at $t" >&2
        [ "$t" -ge "$s" ]
        run grep -a mismatch "$log_b"
        assert_failure 1
        on b "$BERTH" vm inspect live1 >"$d/b.json"
        [ "$(field 'd["State"]["LastMigration"]["Mode"]' <"$d/b.json")" = live ]
        # the destination's VMM is jailed as the source's was
        [ "$(field 'd["State"].get("Jailed", False)' <"$d/b.json")" = "$jailed" ]
}

@test "vm migrate: --live between two network namespaces: the guest counts on over there" {
        jailed=False live_between_namespaces --no-jail
}

@test "vm migrate: a jailed VM (the default) moves --live over tcp; its seccomp lists allow it" {
        jailed=True live_between_namespaces
}

last_count() {
        { grep -a '^BERTH-GUEST count [0-9]' "$1" || echo 'x x 0'; } | tail -1 | awk '{print $3}'
}
first_count() {
        { grep -a '^BERTH-GUEST count [0-9]' "$1" || echo 'x x 0'; } | head -1 | awk '{print $3}'
}

@test "vm migrate: --copy-storage-all: a jailed VM moves with its qcow2 disk, written all along" {
        require_cmd qemu-img
        local a b
        veth_hosts
        qemu-img create -q -f qcow2 "$d/os.qcow2" 64M
        truncate -s 1M "$d/ro.raw"
        printf 'berth-ro-marker' | dd of="$d/ro.raw" bs=1 seek=4096 conv=notrunc 2>/dev/null
        on a "$BERTH" vm create cs1 --kernel "$GUEST" --memory 128 --cmdline guest.blkcount=8 \
                --disk "$d/os.qcow2" --disk "$d/ro.raw,ro"
        on a ip netns exec "$a" "$BERTH" vm start cs1
        local log_a="$d/a/data/vms/cs1/console.log" log_b="$d/b/data/vms/cs1/console.log"
        wait_blkcount_above "$log_a" 3
        on b ip netns exec "$b" "$BERTH" vm receive tcp:10.252.0.2:7600 >"$d/recv.out" 2>&1 &
        local rp=$!
        pids+=("$rp")
        sleep 0.5
        run on a ip netns exec "$a" "$BERTH" vm migrate --live --copy-storage-all cs1 \
                tcp:10.252.0.2:7600
        echo "$output" >&2
        cat "$d/recv.out" >&2
        [ "$status" -eq 0 ]
        [[ "$output" == "live migration: "*" ms of downtime, "*", disks copied ("*" MiB of data)" ]]
        wait "$rp"
        run on b "$BERTH" vm ls
        [[ "$output" == *cs1*running* ]]
        local s
        s=$(last_blkcount "$log_a")
        wait_blkcount_above "$log_b" $((s + 3))
        echo "source's disk count ended at $s, destination's first: $(blkcounts "$log_b" | head -1)" >&2
        [ "$(blkcounts "$log_b" | head -1)" -ge "$s" ]
        run grep -a mismatch "$log_b"
        assert_failure 1
        # the destination runs on its own copies, in its own directory
        on b "$BERTH" vm inspect cs1 >"$d/b.json"
        local os ro
        os=$(field 'd["Config"]["drives"][0]["path_on_host"]' <"$d/b.json")
        ro=$(field 'd["Config"]["drives"][1]["path_on_host"]' <"$d/b.json")
        [[ "$os" == "$d/b/data/"* && "$ro" == "$d/b/data/"* ]]
        [ "$(field 'd["State"]["LastMigration"]["CopyStorage"]' <"$d/b.json")" = True ]
        [ "$(field 'd["State"]["Jailed"]' <"$d/b.json")" = True ]
        cmp "$ro" "$d/ro.raw"
        on b "$BERTH" vm destroy cs1
        check_disk_region "$os" 8
        # the source's disks are its own again: rm --disks is allowed
        on a "$BERTH" vm inspect cs1 >"$d/a.json"
        [ "$(field 'd["State"]["LastMigration"]["CopyStorage"]' <"$d/a.json")" = True ]
        run on a "$BERTH" vm rm --disks cs1
        [ "$status" -eq 0 ]
}

@test "vm migrate: a jailed VM moves --live to a unix: address too (berth hands its VMM the socket)" {
        require_kvm
        require_root
        on a "$BERTH" vm create ux1 --kernel "$GUEST" --memory 128 --cmdline guest.count=16
        on a "$BERTH" vm start ux1
        local log_a="$d/a/data/vms/ux1/console.log" log_b="$d/b/data/vms/ux1/console.log"
        wait_count_above "$log_a" 3
        on b "$BERTH" vm receive "unix:$d/recv.sock" >"$d/recv.out" 2>&1 &
        local rp=$!
        pids+=("$rp")
        for _ in $(seq 100); do [ -S "$d/recv.sock" ] && break; sleep 0.05; done
        run on a "$BERTH" vm migrate --live ux1 "unix:$d/recv.sock"
        echo "$output" >&2
        cat "$d/recv.out" >&2
        [ "$status" -eq 0 ]
        wait "$rp"
        wait_count_above "$log_b" 3
        [ "$(first_count "$log_b")" -ge "$(last_count "$log_a")" ]
        on b "$BERTH" vm inspect ux1 >"$d/b.json"
        [ "$(field 'd["State"]["Jailed"]' <"$d/b.json")" = True ]
        # the source's VMM opened no socket of its own: the handed one went
        grep -q 'a socket was handed over' "$d/a/data/vms/ux1/vmm.log"
}
