#!/usr/bin/env bats
# vmm_jail.bats — berth-vmm --jail (docs/vmm.md, "The jail"): what a running
# jailed VMM looks like from /proc, what its root holds, that a forbidden
# system call kills it, and that the guest and its devices still work.
load helpers

GUEST="$BERTH_BUILD/tests/guest/berth-test-guest.elf"

setup() {
        require_kvm
        [ -x "$BERTH_VMM" ] || skip "berth-vmm not built"
        [ -f "$GUEST" ] || skip "test guest not built"
        [ "$(id -u)" = 0 ] || skip "runs the jail as root (a dedicated uid); rootless is checked by hand"
        # the jail's directory (<run>/vmm/jail-PID) goes here
        export BERTH_RUN_DIR="$BATS_TEST_TMPDIR/run"
        vm="$BATS_TEST_TMPDIR/vm"
        mkdir -p "$vm"
        cp "$GUEST" "$vm/guest.elf"
}

teardown() {
        if [ -n "${pid:-}" ] && kill -0 "$pid" 2>/dev/null; then
                kill -KILL "$pid" 2>/dev/null || true
                wait "$pid" 2>/dev/null || true
        fi
}

wait_for_line() {
        local i
        for ((i = 0; i < 300; i++)); do
                grep -q "$2" "$1" && return 0
                sleep 0.1
        done
        echo "timed out waiting for '$2' in $1:" >&2
        cat "$1" >&2
        return 1
}

# The jailed VMM: the supervisor's only child.
jailed_pid() {
        local i c
        for ((i = 0; i < 50; i++)); do
                c=$(cat "/proc/$pid/task/$pid/children" 2>/dev/null)
                [ -n "$c" ] && { echo "${c%% *}"; return 0; }
                sleep 0.1
        done
        return 1
}

@test "vmm jail: a running jailed VM has seccomp, no_new_privs, no capabilities, a uid not 0, and only its files" {
        printf 'disk\n' >"$vm/disk.raw"
        truncate -s 64K "$vm/disk.raw"
        mkdir "$vm/sock"
        "$BERTH_VMM" --jail --kernel "$vm/guest.elf" --memory 32 --disk "$vm/disk.raw" \
                --api-sock "$vm/sock/api.sock" --cmdline "guest.exit=hang" \
                </dev/null >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/log" &
        pid=$!
        wait_for_line "$BATS_TEST_TMPDIR/out" "BERTH-GUEST exit: hang"
        child=$(jailed_pid)
        status_file=$(cat "/proc/$child/status")
        echo "$status_file" | grep -E '^(Uid|Gid|Seccomp|NoNewPrivs|Cap)'
        grep -qx $'Seccomp:\t2' <<<"$status_file"
        grep -qx $'NoNewPrivs:\t1' <<<"$status_file"
        grep -qx $'CapEff:\t0000000000000000' <<<"$status_file"
        grep -qx $'CapPrm:\t0000000000000000' <<<"$status_file"
        grep -qx $'CapBnd:\t0000000000000000' <<<"$status_file"
        uid=$(awk '/^Uid:/ {print $2}' <<<"$status_file")
        [ "$uid" != 0 ]
        [ "$uid" = 65534 ]
        # Every thread, not only the main one, is filtered.
        for t in /proc/$child/task/*; do
                grep -qx $'Seccomp:\t2' "$t/status"
                grep -qx $'CapEff:\t0000000000000000' "$t/status"
        done
        # Its own pid namespace: it is pid 1 there.
        grep -q $'^NSpid:\t[0-9]*\t1$' <<<"$status_file"
        # The root: the VM's files, the socket directory, /dev/kvm; nothing else.
        found=$(cd "/proc/$child/root" && find . \( -type f -o -type c -o -type s \) | sort)
        expected=$(printf '%s\n' "./dev/kvm" ".$vm/disk.raw" ".$vm/guest.elf" ".$vm/sock/api.sock" \
                ".$vm/sock/api.sock.fd" | sort)
        echo "found: $found"
        [ "$found" = "$expected" ]
        [ ! -e "/proc/$child/root/etc/passwd" ]
        [ ! -e "/proc/$child/root/proc/self" ]
        kill -TERM "$pid"
        rc=0
        wait "$pid" || rc=$?
        [ "$rc" -eq 13 ]
        [ ! -e "$vm/sock/api.sock" ]
        [ -d "$BERTH_RUN_DIR/vmm" ]
        [ -z "$(ls -A "$BERTH_RUN_DIR/vmm")" ]
}

@test "vmm jail: a forbidden system call kills the VMM, from every thread type" {
        truncate -s 64K "$vm/disk.raw"
        for kind in main vcpu blk; do
                run timeout 20 "$BERTH_VMM" --jail --jail-selftest "$kind" --kernel "$vm/guest.elf" \
                        --memory 32 --disk "$vm/disk.raw" --cmdline "guest.exit=hang" </dev/null
                echo "$kind: $status $output"
                [ "$status" -eq 159 ] # 128 + SIGSYS
                assert_output_contains "the $kind thread calls personality()"
                assert_output_contains "killed by signal 31"
        done
        # a migration's threads, made with the VM under --jail-migrate (the post-copy
        # destination's are in vmm_migrate.bats)
        run timeout 20 "$BERTH_VMM" --jail --jail-migrate --jail-selftest migrate \
                --kernel "$vm/guest.elf" --memory 32 --cmdline "guest.exit=hang" </dev/null
        echo "migrate: $status $output"
        [ "$status" -eq 159 ]
        assert_output_contains "the migrate thread calls personality()"
        # Without the jail the hook is refused, not ignored.
        run timeout 20 "$BERTH_VMM" --jail-selftest main --kernel "$vm/guest.elf" </dev/null
        [ "$status" -eq 2 ]
}

@test "vmm jail: --jail-uid/--jail-gid choose the ids; 0 is refused" {
        "$BERTH_VMM" --jail --jail-uid 4242 --jail-gid 4343 --kernel "$vm/guest.elf" \
                --memory 32 --cmdline "guest.exit=hang" \
                </dev/null >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/log" &
        pid=$!
        wait_for_line "$BATS_TEST_TMPDIR/out" "BERTH-GUEST exit: hang"
        child=$(jailed_pid)
        grep -q $'^Uid:\t4242\t4242\t4242\t4242$' "/proc/$child/status"
        grep -q $'^Gid:\t4343\t4343\t4343\t4343$' "/proc/$child/status"
        grep -qE '^Groups:\s*$' "/proc/$child/status"
        kill -TERM "$pid"
        wait "$pid" || true
        run "$BERTH_VMM" --jail --jail-uid 0 --kernel "$vm/guest.elf"
        [ "$status" -eq 2 ]
        assert_output_contains "other than 0"
}

@test "vmm jail: a qcow2 whose backing file is /etc/shadow fails at start; the guest never sees it" {
        require_cmd qemu-img
        qemu-img create -q -f qcow2 -F raw -b /etc/shadow "$vm/evil.qcow2" 1M
        for jail in --jail ""; do
                run timeout 20 "$BERTH_VMM" $jail --kernel "$vm/guest.elf" --memory 32 \
                        --disk "$vm/evil.qcow2" --cmdline "guest.exit=poweroff" </dev/null
                echo "${jail:-no jail}: $status $output"
                [ "$status" -ne 0 ]
                assert_output_contains "backing file \`/etc/shadow\`"
                assert_output_contains "not allowed"
                [[ "$output" != *"BERTH-GUEST"* ]]
        done
        # Named by the operator, a backing file elsewhere is opened (and bound into the jail).
        mkdir "$vm/base"
        printf 'from the base\n' >"$vm/base/base.raw"
        truncate -s 1M "$vm/base/base.raw"
        qemu-img create -q -f qcow2 -F raw -b "$vm/base/base.raw" "$vm/top.qcow2" 1M
        run timeout 20 "$BERTH_VMM" --jail --kernel "$vm/guest.elf" --memory 32 \
                --disk "$vm/top.qcow2" --cmdline "guest.exit=poweroff" </dev/null
        [ "$status" -ne 0 ]
        assert_output_contains "not allowed"
        run timeout 20 "$BERTH_VMM" --jail --kernel "$vm/guest.elf" --memory 32 \
                --disk "$vm/top.qcow2,backing=$vm/base" --cmdline "guest.exit=poweroff" </dev/null
        assert_success
        assert_output_contains "BERTH-GUEST blk: sector 0: from the base"
}

@test "vmm jail: the guest and device cases of vmm.bats pass jailed" {
        require_cmd bats
        # BERTH_VMM_JAIL=1 makes vmm.bats run every VMM with --jail.  Left out:
        # the API-first cases (a jail holds only files named when it is made:
        # docs/vmm.md) and the command-line checks that start no VM.
        filter='command line and e820|no-acpi|above the MMIO hole|initrd reaches|virtio-rng|hostile guest|reboot through|triple fault|second vCPU|virtio-blk \(O_DIRECT\)|io=uring|read-only disk|missing disk|qcow2 image|bzImage|ARP round trip|rate limit|PATCH /network-interfaces/\{id\} sets|virtio-vsock|balloon|SendCtrlAltDel|console unix|console pty|--config FILE'
        run env BERTH_VMM_JAIL=1 bats --tap --filter "$filter" "$BERTH_TOP/tests/e2e/vmm.bats"
        echo "$output"
        [ "$status" -eq 0 ]
        [[ "$output" != *"not ok"* ]]
        n=$(grep -c '^ok ' <<<"$output")
        [ "$n" -ge 28 ]
}

# The API over the unix socket: METHOD PATH [BODY]; prints the body and the status.
api() {
        curl -s -X "$1" --unix-socket "$vm/sock/api.sock" "http://vmm$2" ${3:+-d "$3"} \
                -w ' %{http_code}'
}

@test "vmm jail: as pid 1 of a pid namespace its caller made, berth-vmm jails itself without a fork; --jail-rw takes snapshots, --restore resumes one jailed" {
        require_cmd unshare
        require_cmd curl
        mkdir "$vm/sock" "$vm/snap"
        chown 65534:65534 "$vm/snap"
        # As berth vm's supervisor starts it: the first process of a new pid namespace.
        unshare --pid --fork "$BERTH_VMM" --jail --jail-rw "$vm/snap" --kernel "$vm/guest.elf" \
                --memory 32 --api-sock "$vm/sock/api.sock" --cmdline "console=ttyS0 guest.idle=1" \
                </dev/null >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/log" &
        pid=$!
        wait_for_line "$BATS_TEST_TMPDIR/out" "BERTH-GUEST tick 1"
        child=$(jailed_pid) # unshare's child: berth-vmm itself
        grep -q 'berth-vmm' "/proc/$child/cmdline"
        # no process of its own under it: the VM runs in this one
        [ -z "$(cat "/proc/$child/task/$child/children")" ]
        st=$(cat "/proc/$child/status")
        grep -q $'^NSpid:\t[0-9]*\t1$' <<<"$st"
        grep -qx $'Seccomp:\t2' <<<"$st"
        grep -qx $'NoNewPrivs:\t1' <<<"$st"
        grep -qx $'CapEff:\t0000000000000000' <<<"$st"
        [ "$(awk '/^Uid:/ {print $2}' <<<"$st")" = 65534 ]
        [ ! -e "/proc/$child/root/etc/passwd" ]
        [ -d "/proc/$child/root$vm/snap" ]
        # A snapshot into the writable directory, from the jailed main thread.
        run api PATCH /vm '{"state": "Paused"}'
        assert_output_contains " 204"
        run api PUT /snapshot/create \
                "{\"snapshot_path\": \"$vm/snap/state\", \"mem_file_path\": \"$vm/snap/mem\"}"
        echo "$output"
        assert_output_contains " 204"
        [ -s "$vm/snap/state" ]
        [ "$(stat -c %s "$vm/snap/mem")" = $((32 << 20)) ]
        # Elsewhere, the jail has no such path: refused, and the VMM lives on.
        run api PUT /snapshot/create '{"snapshot_path": "/tmp/state", "mem_file_path": "/tmp/mem"}'
        [[ "$output" != *" 204" ]]
        kill -0 "$child"
        kill -TERM "$child"
        wait "$pid" || true
        # Restored jailed: the guest counts on.  A VMM that jailed itself
        # cannot unlink its socket outside the jail: its caller does, as
        # berth vm's supervisor does.
        rm "$vm/sock/api.sock"
        : >"$BATS_TEST_TMPDIR/out"
        unshare --pid --fork "$BERTH_VMM" --jail --restore "$vm/snap/state" --restore-mem "$vm/snap/mem" \
                --api-sock "$vm/sock/api.sock" </dev/null >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/log" &
        pid=$!
        wait_for_line "$BATS_TEST_TMPDIR/out" "BERTH-GUEST tick"
        child=$(jailed_pid)
        grep -qx $'Seccomp:\t2' "/proc/$child/status"
        run grep -q 'BERTH-GUEST boot:' "$BATS_TEST_TMPDIR/out"
        assert_failure
        kill -TERM "$child"
        wait "$pid" || true
}
