#!/usr/bin/env bats
# vm_snapshot.bats — `berth vm snapshot`: full snapshots of a managed VM (RAM, devices, vCPUs
# and its writable disks) with the test guest counting across its RAM (guest.count=MiB):
# create while it runs (it keeps running), revert (it counts on from the snapshot's value,
# back in time, and its disk is as it was), ls, rm.
load helpers

GUEST="$BERTH_BUILD/tests/guest/berth-test-guest.elf"

setup() {
        require_kvm
        [ -x "$BERTH_VMM" ] || skip "berth-vmm not built"
        [ -x "$BERTH" ] || skip "berth not built"
        [ -f "$GUEST" ] || skip "test guest not built"
        export BERTH_RUN_DIR="$BATS_TEST_TMPDIR/run" BERTH_DATA_DIR="$BATS_TEST_TMPDIR/data"
        mkdir -p "$BERTH_RUN_DIR" "$BERTH_DATA_DIR"
}

teardown() {
        local n f pid
        for n in $("$BERTH" vm ls -q 2>/dev/null); do
                timeout 20 "$BERTH" vm destroy "$n" >/dev/null 2>&1 || true
        done
        for f in "$BERTH_DATA_DIR"/vms/*/state.json; do
                [ -f "$f" ] || continue
                for pid in $(sed -n 's/.*"\(Pid\|SupervisorPid\)": \([0-9]*\).*/\2/p' "$f"); do
                        [ "$pid" -gt 0 ] && kill -KILL "$pid" 2>/dev/null || true
                done
        done
}

vm() {
        run timeout 60 "$BERTH" vm "$@"
}

counts() {
        grep -a '^BERTH-GUEST count [0-9]' "$BERTH_DATA_DIR/vms/$1/console.log" | awk '{print $3}'
}

last_count() {
        { counts "$1"; echo 0; } | sort -n | tail -1
}

wait_count_above() {
        local i
        for i in $(seq 200); do
                [ "$(last_count "$1")" -gt "$2" ] && return 0
                sleep 0.05
        done
        echo "count of $1 stayed at $(last_count "$1"), want above $2" >&2
        return 1
}

@test "vm snapshot: create while running, it runs on; revert goes back to the snapshot's count and disk" {
        truncate -s 4M "$BATS_TEST_TMPDIR/disk.raw"
        vm create vm1 --kernel "$GUEST" --memory 64 --cmdline "console=ttyS0 guest.count=8" \
                --disk "$BATS_TEST_TMPDIR/disk.raw"
        assert_success
        vm start vm1
        assert_success
        wait_count_above vm1 5
        grep -q 'blk: sector 1: written by the guest' "$BERTH_DATA_DIR/vms/vm1/console.log"

        before=$(last_count vm1)
        vm snapshot create vm1 s1
        assert_success
        after=$(last_count vm1)
        disk_then=$(md5sum <"$BATS_TEST_TMPDIR/disk.raw")
        [ -f "$BERTH_DATA_DIR/vms/vm1/snapshots/s1/state" ]
        [ -f "$BERTH_DATA_DIR/vms/vm1/snapshots/s1/disk0" ]
        vm snapshot create vm1 s1
        assert_failure
        assert_output_contains "already has a snapshot \`s1\`"
        # it runs on, and its disk changes behind the snapshot's back
        [ "$(jq -r .State.Status < <("$BERTH" vm inspect vm1))" = running ]
        wait_count_above vm1 $((after + 40))
        printf 'CHANGED AFTER THE SNAPSHOT' | dd of="$BATS_TEST_TMPDIR/disk.raw" bs=1 seek=2048 conv=notrunc 2>/dev/null
        [ "$(md5sum <"$BATS_TEST_TMPDIR/disk.raw")" != "$disk_then" ]
        high=$(last_count vm1)

        vm snapshot ls vm1
        assert_success
        assert_output_contains "s1"
        assert_output_contains "64 MiB"

        : >"$BERTH_DATA_DIR/vms/vm1/console.log"
        vm snapshot revert vm1 s1
        assert_success
        [ "$(jq -r .State.Status < <("$BERTH" vm inspect vm1))" = running ]
        wait_count_above vm1 0
        first=$(counts vm1 | head -1)
        echo "counted $before before the snapshot, $high before the revert; $first after it" >&3
        [ "$first" -ge "$before" ]
        [ "$first" -lt "$high" ] # back in time
        ! grep -aq 'BERTH-GUEST boot:' "$BERTH_DATA_DIR/vms/vm1/console.log"
        [ "$(md5sum <"$BATS_TEST_TMPDIR/disk.raw")" = "$disk_then" ]

        vm snapshot rm vm1 s1
        assert_success
        vm snapshot ls vm1
        refute_output_contains "s1"
        vm snapshot revert vm1 s1
        assert_failure
        assert_output_contains "no snapshot \`s1\`"
        vm destroy vm1
        vm snapshot create vm1 s2
        assert_failure
        assert_output_contains "is not running"
}
