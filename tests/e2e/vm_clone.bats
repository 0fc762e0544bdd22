#!/usr/bin/env bats
# vm_clone.bats — `berth vm clone NAME SNAP NEWNAME`: new VMs started from a full snapshot of
# another while it runs on, with the test guest counting across its RAM (guest.count=MiB):
# two clones side by side each count on from the snapshot's value, each has its own disk, a
# clone's reboot boots its definition, `vm rm` takes its files, the snapshot still reverts;
# refusals leave nothing behind.
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

last_count() {
        { counts "$1"; echo 0; } | sort -n | tail -1
}

first_count() {
        counts "$1" | sort -n | head -1
}

status_of() {
        jq -r .State.Status < <("$BERTH" vm inspect "$1")
}

# vm1 counting on a 4 MiB raw disk, with a snapshot s1 taken while it ran; $before and $after
# bracket the snapshot's count.
source_with_snapshot() {
        truncate -s 4M "$BATS_TEST_TMPDIR/disk.raw"
        vm create vm1 --kernel "$GUEST" --memory 64 --cmdline "console=ttyS0 guest.count=8" \
                --disk "$BATS_TEST_TMPDIR/disk.raw"
        assert_success
        vm start vm1
        assert_success
        wait_count_above vm1 5
        before=$(last_count vm1)
        vm snapshot create vm1 s1
        assert_success
        after=$(last_count vm1)
}

@test "vm clone: two clones of one snapshot beside the source, each counting on from it with its own disk" {
        source_with_snapshot
        # the source runs on past the snapshot
        wait_count_above vm1 $((after + 40))
        high=$(last_count vm1)
        snap_disk=$(md5sum <"$BERTH_DATA_DIR/vms/vm1/snapshots/s1/disk0")

        vm clone vm1 s1 c1
        assert_success
        vm clone vm1 s1 c2
        assert_success
        [ "$(status_of vm1)" = running ]
        [ "$(status_of c1)" = running ]
        [ "$(status_of c2)" = running ]
        [ "$(id -u)" != 0 ] || [ "$(jq -r .State.Jailed < <("$BERTH" vm inspect c1))" = true ]
        wait_count_above c1 0
        wait_count_above c2 0
        f1=$(first_count c1)
        f2=$(first_count c2)
        echo "snapshot between $before and $after, source at $high; clones from $f1 and $f2" >&3
        # each resumes the snapshot's guest, not a boot, and not the source's later count
        for f in "$f1" "$f2"; do
                [ "$f" -ge "$before" ]
                [ "$f" -lt "$high" ]
        done
        run grep -aq 'BERTH-GUEST boot:' "$BERTH_DATA_DIR/vms/c1/console.log"
        assert_failure 1
        # both count on, side by side
        wait_count_above c1 $((f1 + 30))
        wait_count_above c2 $((f2 + 30))
        [ "$(status_of c1)" = running ]
        [ "$(status_of c2)" = running ]

        # the definition is the source's, its disk its own copy; the first start's files are gone
        run jq -r '.Config.drives[0].path_on_host' < <("$BERTH" vm inspect c1)
        [ "$output" = "$BERTH_DATA_DIR/vms/c1/disk0" ]
        run jq -r '.Config["machine-config"].mem_size_mib' < <("$BERTH" vm inspect c1)
        [ "$output" = 64 ]
        [ ! -e "$BERTH_DATA_DIR/vms/c1/clone.state" ]
        [ ! -e "$BERTH_DATA_DIR/vms/c1/clone.mem" ]
        # berth-vmm of c1 holds c1's copy open, not the source's disk
        pid=$(jq -r .State.Pid < <("$BERTH" vm inspect c1))
        run ls -l /proc/"$pid"/fd
        assert_output_contains "vms/c1/disk0"
        refute_output_contains "disk.raw"
        src_disk=$(md5sum <"$BATS_TEST_TMPDIR/disk.raw")
        printf 'WRITTEN IN CLONE c1' | dd of="$BERTH_DATA_DIR/vms/c1/disk0" bs=1 seek=4096 conv=notrunc 2>/dev/null
        [ "$(md5sum <"$BATS_TEST_TMPDIR/disk.raw")" = "$src_disk" ]
        [ "$(md5sum <"$BERTH_DATA_DIR/vms/vm1/snapshots/s1/disk0")" = "$snap_disk" ]
        [ "$(md5sum <"$BERTH_DATA_DIR/vms/c2/disk0")" = "$snap_disk" ]

        # a reboot boots the clone's definition
        vm reboot c2 --force
        assert_success
        wait_console c2 'BERTH-GUEST boot:'
        [ "$(status_of c2)" = running ]

        # vm rm of a clone takes its files; the source's disk stays
        vm destroy c1
        assert_success
        vm rm c1
        assert_success
        [ ! -e "$BERTH_DATA_DIR/vms/c1" ]
        [ -f "$BATS_TEST_TMPDIR/disk.raw" ]

        # the snapshot is still whole: the source reverts to it
        : >"$BERTH_DATA_DIR/vms/vm1/console.log"
        vm snapshot revert vm1 s1
        assert_success
        [ "$(status_of vm1)" = running ]
        wait_count_above vm1 0
        [ "$(first_count vm1)" -ge "$before" ]
}

@test "vm clone --no-start: defined shut off; its first start resumes the snapshot, the next boots" {
        source_with_snapshot
        vm clone vm1 s1 c3 --no-start
        assert_success
        [ "$(status_of c3)" = "shut off" ]
        [ -e "$BERTH_DATA_DIR/vms/c3/clone.state" ]
        [ -e "$BERTH_DATA_DIR/vms/c3/clone.mem" ]
        # the source runs on; the clone's first start is the snapshot, not a boot
        wait_count_above vm1 $((after + 20))
        high=$(last_count vm1)
        vm start c3
        assert_success
        [ "$(status_of c3)" = running ]
        wait_count_above c3 0
        f=$(first_count c3)
        echo "snapshot between $before and $after, source at $high; clone from $f" >&3
        [ "$f" -ge "$before" ]
        [ "$f" -lt "$high" ]
        run grep -aq 'BERTH-GUEST boot:' "$BERTH_DATA_DIR/vms/c3/console.log"
        assert_failure 1
        # the snapshot's files were for that one start
        [ ! -e "$BERTH_DATA_DIR/vms/c3/clone.state" ]
        [ ! -e "$BERTH_DATA_DIR/vms/c3/clone.mem" ]
        # a start after a shutdown boots the definition
        vm destroy c3
        assert_success
        : >"$BERTH_DATA_DIR/vms/c3/console.log"
        vm start c3
        assert_success
        wait_console c3 'BERTH-GUEST boot:'
        vm destroy c3
        assert_success
        # a clone never started goes whole with vm rm
        vm clone vm1 s1 c4 --no-start
        assert_success
        vm rm c4
        assert_success
        [ ! -e "$BERTH_DATA_DIR/vms/c4" ]
        [ "$(status_of vm1)" = running ]
}

@test "vm clone: an overlay disk is copied as the clone's own overlay on the same base" {
        truncate -s 4M "$BATS_TEST_TMPDIR/base.raw"
        base=$(realpath "$BATS_TEST_TMPDIR/base.raw")
        base_sum=$(md5sum <"$base")
        vm create vm3 --kernel "$GUEST" --memory 32 --cmdline "console=ttyS0 guest.count=8" \
                --disk "$base,overlay"
        assert_success
        vm start vm3
        assert_success
        wait_count_above vm3 2
        vm snapshot create vm3 s1
        assert_success
        vm clone vm3 s1 c3
        assert_success
        wait_count_above c3 0
        run jq -r '.Metadata.Overlays[0] | "\(.Path) \(.Base)"' < <("$BERTH" vm inspect c3)
        [ "$output" = "$BERTH_DATA_DIR/vms/c3/disk0 $base" ]
        run jq -r '.Config.drives[0] | "\(.path_on_host) \(.format) \(.backing)"' < <("$BERTH" vm inspect c3)
        [ "$output" = "$BERTH_DATA_DIR/vms/c3/disk0 qcow2 $base" ]
        vm destroy c3
        assert_success
        vm rm c3
        assert_success
        [ ! -e "$BERTH_DATA_DIR/vms/c3" ]
        [ "$(md5sum <"$base")" = "$base_sum" ]
        [ -f "$BERTH_DATA_DIR/vms/vm3/disk0.qcow2" ]
}

@test "vm clone: refusals name the problem and leave nothing behind" {
        source_with_snapshot
        vm clone nosuch s1 c1
        assert_failure 125
        assert_output_contains "no such VM"
        vm clone vm1 nosnap c1
        assert_failure 125
        assert_output_contains "no snapshot \`nosnap\`"
        vm clone vm1 s1 vm1
        assert_failure 125
        assert_output_contains "already in use"
        vm clone vm1 s1 'bad/name'
        assert_failure 125
        assert_output_contains "invalid VM name"
        # a snapshot without memory (a disk-only one) cannot start a clone
        cp -a "$BERTH_DATA_DIR/vms/vm1/snapshots/s1" "$BERTH_DATA_DIR/vms/vm1/snapshots/nomem"
        rm "$BERTH_DATA_DIR/vms/vm1/snapshots/nomem/mem"
        vm clone vm1 nomem c1
        assert_failure 125
        assert_output_contains "has no memory"
        vm clone vm1 s1 c1 --bogus
        assert_failure 125
        assert_output_contains "want NAME SNAP NEWNAME"
        vm clone vm1 s1
        assert_failure 125
        # a corrupt state file is refused before anything is published
        cp -a "$BERTH_DATA_DIR/vms/vm1/snapshots/s1" "$BERTH_DATA_DIR/vms/vm1/snapshots/bad"
        printf 'X' | dd of="$BERTH_DATA_DIR/vms/vm1/snapshots/bad/state" bs=1 seek=100 conv=notrunc 2>/dev/null
        vm clone vm1 bad c1
        assert_failure 125
        assert_output_contains "checksum"

        run ls -A "$BERTH_DATA_DIR/vms"
        [ "$output" = "vm1" ]
        [ "$(status_of vm1)" = running ]
        vm ls --all -q
        [ "$output" = "vm1" ]
}

@test "vm clone: a VM with a NIC is refused (its guest keeps the snapshot's MAC and tap)" {
        [ "$(id -u)" = 0 ] || skip "a tap needs root"
        # berth-vmm makes the (non-persistent) tap itself, and it goes with the VMM
        vm create vm2 --kernel "$GUEST" --memory 32 --cmdline "console=ttyS0 guest.count=8" \
                --net "tap:bcl$$"
        assert_success
        vm start vm2
        assert_success
        # the test guest with a NIC probes it (ARP) before anything else: its MAC is known then
        wait_console vm2 'BERTH-GUEST net: mac'
        vm snapshot create vm2 s1
        assert_success
        vm clone vm2 s1 c1
        assert_failure 125
        assert_output_contains "network interfaces"
        run ls -A "$BERTH_DATA_DIR/vms"
        [ "$output" = "vm2" ]
}
