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
        rm -f /dev/shm/berth-test-$$-*
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
        # a diff needs KVM's dirty log, which a VM has only when created for it
        vm snapshot create vm1 sx --diff
        assert_failure
        assert_output_contains "does not track dirty pages"
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

@test "vm snapshot: --diff snapshots chain over a full one kept at --memory FILE; revert, clone and rm follow the chain" {
        t=$BATS_TEST_TMPDIR
        vm create vm1 --kernel "$GUEST" --memory 64 --cmdline "console=ttyS0 guest.count=8" \
                --track-dirty-pages
        assert_success
        [ "$(jq -r '.["machine-config"].track_dirty_pages' "$BERTH_DATA_DIR/vms/vm1/config.json")" = true ]
        vm start vm1
        assert_success
        wait_count_above vm1 3
        vm snapshot create vm1 d0 --diff
        assert_failure
        assert_output_contains "no snapshot since it started"
        vm snapshot create vm1 s1 --memory relative.mem
        assert_failure
        assert_output_contains "want an absolute path"
        : >"$t/taken.mem"
        vm snapshot create vm1 s1 --memory "$t/taken.mem"
        assert_failure
        assert_output_contains "File exists"
        [ ! -e "$BERTH_DATA_DIR/vms/vm1/snapshots/s1" ]

        vm snapshot create vm1 s1 --memory "$t/s1.mem"
        assert_success
        [ -f "$t/s1.mem" ] && [ ! -e "$BERTH_DATA_DIR/vms/vm1/snapshots/s1/mem" ]
        wait_count_above vm1 $(($(last_count vm1) + 5))
        c1=$(last_count vm1)
        vm snapshot create vm1 d1 --diff
        assert_success
        c1b=$(last_count vm1)
        wait_count_above vm1 $((c1b + 5))
        # on another filesystem (tmpfs): copied, its holes kept
        shm=/dev/shm/berth-test-$$-d2.mem
        vm snapshot create vm1 d2 --diff --memory "$shm"
        assert_success
        [ "$(stat -c %s "$shm")" = $((64 << 20)) ]
        [ "$(du -k "$shm" | cut -f1)" -lt $((20 * 1024)) ]
        vm snapshot ls vm1
        assert_success
        assert_output_contains "over s1"
        assert_output_contains "over d1"
        [ "$(jq -r .Kind "$BERTH_DATA_DIR/vms/vm1/snapshots/d2/snapshot.json")" = diff ]
        [ "$(jq -r .Parent "$BERTH_DATA_DIR/vms/vm1/snapshots/d2/snapshot.json")" = d1 ]
        echo "full $(du -k "$t/s1.mem" | cut -f1) KiB, diff $(du -k "$BERTH_DATA_DIR/vms/vm1/snapshots/d1/mem" | cut -f1) KiB" >&3
        wait_count_above vm1 $(($(last_count vm1) + 20))
        high=$(last_count vm1)

        # revert to the middle of the chain: s1's memory, d1's pages over it
        : >"$BERTH_DATA_DIR/vms/vm1/console.log"
        vm snapshot revert vm1 d1
        assert_success
        wait_count_above vm1 0
        first=$(counts vm1 | sort -n | head -1)
        echo "d1 taken at count $c1..$c1b, $high before the revert, $first after it" >&3
        [ "$first" -ge "$c1" ]
        [ "$first" -lt "$high" ]
        run grep -aq 'memory mismatch\|BERTH-GUEST boot:' "$BERTH_DATA_DIR/vms/vm1/console.log"
        assert_failure
        # the reverted VMM's next diff lies over d1
        wait_count_above vm1 $((first + 5))
        vm snapshot create vm1 d3 --diff
        assert_success
        [ "$(jq -r .Parent "$BERTH_DATA_DIR/vms/vm1/snapshots/d3/snapshot.json")" = d1 ]

        # a clone of a diff gets the chain
        vm clone vm1 d2 c2
        assert_success
        wait_count_above c2 0
        run grep -aq 'memory mismatch' "$BERTH_DATA_DIR/vms/c2/console.log"
        assert_failure
        [ "$(counts c2 | head -1)" -ge "$c1b" ]
        vm destroy c2

        # a base goes last; --memory's file goes with its snapshot
        vm snapshot rm vm1 s1
        assert_failure
        assert_output_contains "is the base of diff snapshot"
        vm snapshot rm vm1 d1
        assert_failure
        vm snapshot rm vm1 d2
        assert_success
        [ ! -e "$shm" ]
        vm snapshot rm vm1 d3
        assert_success
        vm snapshot rm vm1 d1
        assert_success
        vm snapshot rm vm1 s1
        assert_success
        [ ! -e "$t/s1.mem" ]
        # its base gone, the running VMM's next diff is refused by name
        vm snapshot create vm1 d4 --diff
        assert_failure
        assert_output_contains "gone"
}
