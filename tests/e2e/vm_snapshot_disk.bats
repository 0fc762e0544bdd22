#!/usr/bin/env bats
# vm_snapshot_disk.bats — `berth vm snapshot create NAME SNAP --disk-only`: external qcow2
# overlays on a shut-off VM (issue #15), and on a running one (its drive switched live).  Two snapshots with writes between them, a revert to
# the first (the disk reads as it did), rm in either order (the chain merges, qemu-img check
# clean, no data lost), and refusals that leave nothing behind.  The host writes the disks
# with qemu-io; the test guest reads sector 0 and writes sector 1 through the overlay.
load helpers
load lib/vm

setup() {
        vm_require
        [ -x "$BERTH" ] || skip "berth not built"
        command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || skip "no qemu-img/qemu-io"
        vm_state
}

teardown() {
        vm_teardown
}

active() {
        jq -r '.drives[0].path_on_host' "$BERTH_DATA_DIR/vms/$1/config.json"
}

chain_files() {
        ls "$BERTH_DATA_DIR/vms/$1/snapshots/.chain" 2>/dev/null | wc -l
}

# qemu-io's read -P: image $1 holds the byte $2 all over the range $3 ("OFF LEN").
reads() {
        local out
        out=$(qemu-io $QFMT -r -c "read -P $2 $3" "$1" 2>&1) &&
                ! echo "$out" | grep -q 'verification failed' ||
                { echo "$1 at $3: not all $2: $out" >&2; return 1; }
}

qwrite() {
        qemu-io $QFMT -c "write -P $2 $3" "$1" >/dev/null
}

check_clean() {
        local f
        for f in "$@"; do
                run qemu-img check "$f"
                assert_success
                assert_output_contains "No errors were found"
        done
}

@test "vm snapshot --disk-only: two, writes between, revert to the first, rm merges the chain" {
        d="$BATS_TEST_TMPDIR/disk.raw"
        truncate -s 4M "$d"
        printf 'PATTERN-A-SECTOR-ZERO' | dd of="$d" conv=notrunc 2>/dev/null
        QFMT="-f raw" qwrite "$d" 0xaa "64k 64k"
        vm create vm1 --kernel "$GUEST" --memory 64 --cmdline "console=ttyS0" --disk "$d"
        assert_success
        base_sum=$(md5sum <"$d")

        vm snapshot create vm1 s1 --disk-only
        assert_success
        a1=$(active vm1)
        [[ "$a1" == "$BERTH_DATA_DIR/vms/vm1/snapshots/.chain/"* ]]
        run qemu-img info --backing-chain "$a1"
        assert_success
        assert_output_contains "backing file: $d"
        [ "$(md5sum <"$d")" = "$base_sum" ]

        # the guest runs on the overlay (jailed as root): it reads the base through it, and
        # its write of sector 1 lands in the overlay, not in the snapshot's file
        vm start vm1
        assert_success
        for _ in $(seq 100); do
                grep -aq 'blk: flush status' "$BERTH_DATA_DIR/vms/vm1/console.log" && break
                sleep 0.1
        done
        grep -aq 'blk: sector 0: PATTERN-A-SECTOR-ZERO' "$BERTH_DATA_DIR/vms/vm1/console.log"
        vm destroy vm1 # the guest may have powered off by itself already
        [ "$(jq -r .State.Status < <("$BERTH" vm inspect vm1))" = "shut off" ]
        QFMT="-f raw" reads "$d" 0 "512 512"
        run qemu-io -r -c "read -v 512 32" "$a1"
        assert_output_contains "written.by.the.g" # qemu-io -v: 16 bytes a line
        [ "$(md5sum <"$d")" = "$base_sum" ]

        qwrite "$a1" 0xbb "64k 64k"
        vm snapshot create vm1 s2 --disk-only
        assert_success
        a2=$(active vm1)
        [ "$a2" != "$a1" ]
        qwrite "$a2" 0xcc "64k 64k"
        reads "$a2" 0xcc "64k 64k"

        vm snapshot ls vm1
        assert_success
        assert_output_contains "KIND"
        [ "$(echo "$output" | grep -c 'disk-only')" = 2 ]

        vm snapshot revert vm1 s1
        assert_success
        a3=$(active vm1)
        reads "$a3" 0xaa "64k 64k"
        reads "$a3" 0 "512 512" # the guest's write came after s1
        [ "$(chain_files vm1)" = 2 ] # s2's file stays; the overlay that held C is gone
        [ ! -e "$a2" ]
        [ -e "$a1" ]
        check_clean "$a1" "$a3"

        qwrite "$a3" 0xdd "128k 64k"
        vm snapshot rm vm1 s2
        assert_success
        [ "$(chain_files vm1)" = 1 ]
        [ ! -e "$a1" ]
        vm snapshot rm vm1 s1
        assert_success
        # merged down: the definition names the base again, and it holds what was active
        [ "$(active vm1)" = "$d" ]
        [ ! -e "$BERTH_DATA_DIR/vms/vm1/snapshots/.chain" ]
        QFMT="-f raw" reads "$d" 0xaa "64k 64k"
        QFMT="-f raw" reads "$d" 0xdd "128k 64k"
        vm snapshot ls vm1
        refute_output_contains "disk-only"
        vm start vm1
        assert_success
}

@test "vm snapshot --disk-only: rm the older first, the later one still reverts; qcow2 base" {
        b="$BATS_TEST_TMPDIR/base.qcow2"
        qemu-img create -q -f qcow2 "$b" 4M
        qwrite "$b" 0xaa "0 64k"
        vm create vm1 --kernel "$GUEST" --memory 64 --disk "$b"
        assert_success
        vm snapshot create vm1 s1 --disk-only
        assert_success
        qwrite "$(active vm1)" 0xbb "0 64k"
        vm snapshot create vm1 s2 --disk-only
        assert_success
        qwrite "$(active vm1)" 0xcc "0 64k"

        vm snapshot rm vm1 s1
        assert_success
        [ "$(chain_files vm1)" = 1 ] # s1's overlay committed into the base and gone
        a=$(active vm1)
        reads "$a" 0xcc "0 64k"
        reads "$b" 0xbb "0 64k"
        run qemu-img info --backing-chain "$a"
        assert_success
        assert_output_contains "backing file: $b"
        check_clean "$b" "$a"

        vm snapshot revert vm1 s2
        assert_success
        reads "$(active vm1)" 0xbb "0 64k"
        vm snapshot rm vm1 s2
        assert_success
        [ "$(active vm1)" = "$b" ]
        [ "$(chain_files vm1)" = 0 ]
        reads "$b" 0xbb "0 64k"
        check_clean "$b"
}

@test "vm snapshot --disk-only: refusals leave nothing behind" {
        d="$BATS_TEST_TMPDIR/disk.raw"
        truncate -s 4M "$d"
        vm create vm1 --kernel "$GUEST" --memory 64 --disk "$d"
        assert_success
        cfg="$BERTH_DATA_DIR/vms/vm1/config.json"
        sum=$(md5sum <"$cfg")

        vm snapshot create vm1 bad/name --disk-only
        assert_failure
        assert_output_contains "bad snapshot name"
        vm snapshot create vm1 --disk-only
        assert_failure
        assert_output_contains "want create NAME SNAP"

        vm snapshot create vm1 s1 --disk-only
        assert_success
        sum=$(md5sum <"$cfg")
        vm snapshot create vm1 s1 --disk-only
        assert_failure
        assert_output_contains "already has a snapshot \`s1\`"
        [ "$(md5sum <"$cfg")" = "$sum" ]
        [ "$(chain_files vm1)" = 1 ]

        vm start vm1
        assert_success
        vm snapshot revert vm1 s1
        assert_failure
        assert_output_contains "is running"
        vm snapshot rm vm1 s1
        assert_failure
        assert_output_contains "is running"
        [ "$(md5sum <"$cfg")" = "$sum" ]
        [ -e "$BERTH_DATA_DIR/vms/vm1/snapshots/s1/snapshot.json" ]
        [ "$(chain_files vm1)" = 1 ]
        vm destroy vm1

        # a VM with no writable disk has nothing to snapshot
        vm create vm2 --kernel "$GUEST" --memory 64 --disk "$d,ro"
        assert_success
        vm snapshot create vm2 s1 --disk-only
        assert_failure
        assert_output_contains "no writable disk"
        [ ! -e "$BERTH_DATA_DIR/vms/vm2/snapshots/s1" ]
        [ "$(chain_files vm2)" = 0 ]
        # a disk-only snapshot has no memory to clone from
        vm clone vm1 s1 vm3
        assert_failure
        assert_output_contains "has no memory"
        run "$BERTH" vm ls -q
        refute_output_contains "vm3"
        # vm rm takes the chain with the VM's directory; the user's disk stays
        vm rm vm1
        assert_success
        [ ! -e "$BERTH_DATA_DIR/vms/vm1" ]
        [ -f "$d" ]
}

@test "vm snapshot --disk-only of a running jailed VM: the guest writes on in the overlay, the snapshot's file stays" {
        require_root
        d="$BATS_TEST_TMPDIR/disk.raw"
        truncate -s 64M "$d"
        vm create vm1 --kernel "$GUEST" --memory 128 --cmdline guest.blkcount=4 --disk "$d"
        assert_success
        vm start vm1
        assert_success
        local log="$BERTH_DATA_DIR/vms/vm1/console.log"
        wait_blkcount_above "$log" 3
        vm snapshot create vm1 s1 --disk-only
        assert_success
        local sum c
        sum=$(md5sum <"$d")
        [[ "$(active vm1)" == "$BERTH_DATA_DIR/vms/vm1/snapshots/.chain/"* ]]
        c=$(last_blkcount "$log")
        wait_blkcount_above "$log" $((c + 5))
        run grep -a mismatch "$log"
        assert_failure 1
        # the guest's writes go to the overlay; the snapshot's file is as it was taken
        [ "$(md5sum <"$d")" = "$sum" ]
        vm inspect vm1
        [[ "$output" == *'"Jailed": true'* ]]
        vm destroy vm1
        assert_success
        check_disk_region "$(active vm1)" 4
        check_disk_region "$d" 4
        # revert (shut off): a fresh overlay on the snapshot's file
        vm snapshot revert vm1 s1
        assert_success
        [ "$(md5sum <"$d")" = "$sum" ]
        QFMT="-f qcow2" run qemu-img compare -f qcow2 -F raw "$(active vm1)" "$d"
        assert_success
}
