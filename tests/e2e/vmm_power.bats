#!/usr/bin/env bats
# vmm_power.bats — what `berth vm` needs of berth-vmm: the ACPI power button
# (ged.c: a GED in the DSDT, PUT /actions SendPowerButton), pause semantics
# (PATCH /vm answers once every vCPU is out of KVM_RUN) and a stack at the
# PVH entry, with the test guest in its resident mode (guest.idle=1: ticks,
# powers off on the button).
load helpers
load lib/vm

setup() {
        vm_require
        require_cmd curl
        sock="$BATS_TEST_TMPDIR/api.sock"
        out="$BATS_TEST_TMPDIR/out"
}

teardown() {
        if [ -n "${pid:-}" ] && kill -0 "$pid" 2>/dev/null; then
                kill -KILL "$pid" 2>/dev/null || true
        fi
}

api() { # METHOD PATH [JSON]
        curl -s -X "$1" --unix-socket "$sock" "http://vmm$2" ${3:+-d "$3"} -w ' %{http_code}'
}

wait_for() {
        local i
        for ((i = 0; i < ${2:-100}; i++)); do
                grep -q "$1" "$out" && return 0
                sleep 0.1
        done
        echo "timed out waiting for '$1':" >&2
        cat "$out" >&2
        return 1
}

boot() { # extra args...
        # Not under timeout: $pid is berth-vmm's own (its threads are read
        # from /proc); teardown kills one a test left behind.
        "$BERTH_VMM" --kernel "$GUEST" --memory 32 --api-sock "$sock" "$@" \
                </dev/null >"$out" 2>&1 &
        pid=$!
}

@test "vmm: SendPowerButton: the guest finds the GED in the DSDT, sees the press and powers off" {
        boot --cmdline "guest.idle=1"
        wait_for "BERTH-GUEST idle: power button 0xd0100000"
        wait_for "BERTH-GUEST tick 1"
        [ "$(api PUT /actions '{"action_type": "SendPowerButton"}')" = ' 204' ]
        st=0
        wait "$pid" || st=$?
        [ "$st" -eq 0 ] # ACPI S5
        grep -q "BERTH-GUEST power button: powering off" "$out"
        grep -q "BERTH-GUEST exit: poweroff" "$out"
}

@test "vmm: SendPowerButton is refused without ACPI and before the start" {
        boot --cmdline "guest.idle=1" --no-acpi
        wait_for "BERTH-GUEST idle: power button none"
        run api PUT /actions '{"action_type": "SendPowerButton"}'
        [[ "$output" == *"no ACPI power button"*" 400" ]]
        kill -TERM "$pid"
        st=0
        wait "$pid" || st=$?
        [ "$st" -eq 13 ]
        "$BERTH_VMM" --api-sock "$sock" </dev/null >"$out" 2>&1 &
        pid=$!
        for ((i = 0; i < 100; i++)); do [ -S "$sock" ] && break; sleep 0.05; done
        run api PUT /actions '{"action_type": "SendPowerButton"}'
        [[ "$output" == *"not started yet"*" 400" ]]
}

@test "vmm: PATCH /vm Paused answers once both vCPUs are parked; the guest's counter stops" {
        [ "$(nproc)" -ge 2 ] || skip "needs 2 host CPUs"
        boot --cmdline "guest.idle=1" --cpus 2
        wait_for "BERTH-GUEST tick 1"
        [ "$(api PATCH /vm '{"state": "Paused"}')" = ' 204' ]
        # Right after the answer: every vCPU thread sleeps on the pause's
        # condition variable, none is in KVM_RUN.
        for t in /proc/$pid/task/*; do
                grep -q '^vcpu' "$t/comm" || continue
                [ "$(awk '{print $3}' "$t/stat")" = S ]
                grep -q futex "$t/wchan"
        done
        [[ "$(api GET /)" == *'"state":"Paused"'*' 200' ]]
        a=$(grep -c 'BERTH-GUEST tick' "$out")
        sleep 1
        [ "$(grep -c 'BERTH-GUEST tick' "$out")" = "$a" ]
        [ "$(api PATCH /vm '{"state": "Resumed"}')" = ' 204' ]
        wait_for "BERTH-GUEST tick $((a + 1))"
        kill -TERM "$pid"
        st=0
        wait "$pid" || st=$?
        [ "$st" -eq 13 ]
}

@test "vmm: the PVH entry gets a usable stack pointer, as QEMU and kvmtool give" {
        run timeout 20 "$BERTH_VMM" --kernel "$GUEST" --memory 32 </dev/null
        assert_success
        esp=$(sed -n 's/^BERTH-GUEST pvh: entry esp \(0x[0-9a-f]*\).*/\1/p' <<<"$output")
        [ -n "$esp" ]
        # In low RAM (e820 type 1 below the EBDA at 0x9fc00), 16-byte aligned.
        (( esp > 0x1000 && esp < 0x9fc00 && esp % 16 == 0 ))
}
