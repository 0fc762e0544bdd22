#!/usr/bin/env bats
# vm_snapshot.bats — `berth vm snapshot`: full snapshots of a managed VM (RAM, devices, vCPUs
# and its writable disks) with the test guest counting across its RAM (guest.count=MiB):
# create while it runs (it keeps running), revert (it counts on from the snapshot's value,
# back in time, and its disk is as it was), ls, rm.
load helpers
load lib/vm

setup() {
        vm_require
        [ -x "$BERTH" ] || skip "berth not built"
        vm_state
}

teardown() {
        vm_teardown
}

counts() {
        grep -a '^BERTH-GUEST count [0-9]' "$BERTH_DATA_DIR/vms/$1/console.log" | awk '{print $3}'
}

# VM $1's highest count (0 if none yet), for wait_count_above.
last_count() {
        { counts "$1"; echo 0; } | sort -n | tail -1
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

        # started jailed (as root): the snapshot is written from inside its jail
        [ "$(id -u)" != 0 ] || [ "$(jq -r .State.Jailed < <("$BERTH" vm inspect vm1))" = true ]
        before=$(last_count vm1)
        vm snapshot create vm1 s1
        assert_success
        [ "$(stat -c %u "$BERTH_DATA_DIR/vms/vm1/snapshots/s1/mem")" = "$(id -u)" ]
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
        # the old VM counts on until the revert stops it: its last lines may still land in the
        # emptied log, above high; the restored VM's are the lowest
        first=$(counts vm1 | sort -n | head -1)
        echo "counted $before before the snapshot, $high before the revert; $first after it" >&3
        [ "$first" -ge "$before" ]
        [ "$first" -lt "$high" ] # back in time
        run grep -aq 'BERTH-GUEST boot:' "$BERTH_DATA_DIR/vms/vm1/console.log"
        assert_failure
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
