#!/usr/bin/env bats
# vmm_drives.bats — PATCH /drives/{id} on a running VM (Firecracker's PATCH of path_on_host):
# the drive goes on in another file of the same size, here a qcow2 overlay made on the drive's
# own file while the VM is paused (berth vm's disk-only snapshots of a running VM).  The test
# guest's disk counting mode (guest.blkcount) checks every sector it rewrites: across the
# switch it must count on, never see a mismatch, and leave the old file as it was at the switch.
load helpers
bats_require_minimum_version 1.5.0

GUEST="$BERTH_BUILD/tests/guest/berth-test-guest.elf"

setup() {
        [ -x "$BERTH_VMM" ] || skip "berth-vmm not built"
        require_kvm
        [ -f "$GUEST" ] || skip "test guest not built"
        require_cmd curl qemu-img python3
        d="$BATS_TEST_TMPDIR"
        pid=
}

teardown() {
        [ -z "$pid" ] || { kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
}

api() { # METHOD PATH [BODY]
        curl -s --unix-socket "$d/sock/api.sock" -X "$1" ${3:+-d "$3"} -w ' %{http_code}' \
                "http://localhost$2"
}

# A guest counting on its qcow2 disk in $d/files; $@: more berth-vmm flags.
start_counting() {
        mkdir -p "$d/sock" "$d/files"
        qemu-img create -q -f qcow2 "$d/files/base.qcow2" 64M
        truncate -s 1M "$d/files/ro.raw"
        "$BERTH_VMM" --kernel "$GUEST" --memory 128 --cmdline guest.blkcount=4 \
                --disk "$d/files/base.qcow2" --disk "$d/files/ro.raw,ro" \
                --api-sock "$d/sock/api.sock" --log-level info "$@" </dev/null >"$d/out" 2>"$d/log" &
        pid=$!
        wait_blkcount_above "$d/out" 3
}

# Pause, make an overlay on the drive's file, switch to it, resume: the guest counts on.
switch_to_overlay() { # OVERLAY
        run api PATCH /vm '{"state": "Paused"}'
        [[ "$output" == *" 204" ]]
        qemu-img create -q -f qcow2 -b "$d/files/base.qcow2" -F qcow2 "$1"
        # the base is outside the overlay's directory in the jailed case: allowed by name
        run api PATCH /drives/disk0 \
                "{\"path_on_host\": \"$1\", \"backing\": \"$d/files/base.qcow2\"}"
        echo "$output" >&2
        [ "$output" = " 204" ]
        sha256sum "$d/files/base.qcow2" >"$d/base.sum"
        run api PATCH /vm '{"state": "Resumed"}'
        [[ "$output" == *" 204" ]]
        local c
        c=$(last_blkcount "$d/out")
        wait_blkcount_above "$d/out" $((c + 5))
        run grep -a mismatch "$d/out"
        assert_failure 1
        # the old file stays as it was at the switch: the writes go to the overlay
        sha256sum -c --quiet "$d/base.sum"
        grep -q "drive disk0: now on \`$1\`" "$d/log"
        # an orderly stop: a qcow2's tables are written back at its close
        kill -TERM "$pid"
        wait "$pid" || true
        pid=
        check_disk_region "$1" 4
}

@test "vmm drives: PATCH /drives moves a running drive onto an overlay of its file" {
        start_counting
        # refusals first: another size, a drive that is not, a read-only one, a bad body
        qemu-img create -q -f qcow2 "$d/files/small.qcow2" 32M
        run api PATCH /drives/disk0 "{\"path_on_host\": \"$d/files/small.qcow2\"}"
        [[ "$output" == *"cannot change under it"*" 400" ]]
        run api PATCH /drives/disk9 "{\"path_on_host\": \"$d/files/small.qcow2\"}"
        [[ "$output" == *"no such drive"*" 404" ]]
        run api PATCH /drives/disk1 "{\"path_on_host\": \"$d/files/small.qcow2\"}"
        [[ "$output" == *"read-only"*" 400" ]]
        run api PATCH /drives/disk0 '{"path": "x"}'
        [[ "$output" == *"want"*" 400" ]]
        switch_to_overlay "$d/files/over.qcow2"
}

@test "vmm drives: a jailed VMM switches to an overlay made in its --jail-rw directory" {
        require_root
        mkdir -p "$d/snap"
        start_counting --jail --jail-rw "$d/snap"
        # the jail's uid (65534) opens the overlay, which is its; the base, root's and closed
        # to others, is not opened again: the overlay takes the open drive as its backing
        chmod 755 "$d/snap"
        chmod 600 "$d/files/base.qcow2"
        touch "$d/snap/over.qcow2"
        chown 65534:65534 "$d/snap" "$d/snap/over.qcow2"
        switch_to_overlay "$d/snap/over.qcow2"
        run grep -a 'signal 31' "$d/log"
        assert_failure 1
}
