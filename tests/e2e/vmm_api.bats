#!/usr/bin/env bats
# vmm_api.bats — berth-vmm's REST API transport (libmicrohttpd on the VM's loop) before
# InstanceStart, which needs no /dev/kvm: answers, refusals, limits, keep-alive, and a stalled
# client that must not stall the VMM.  The running-VM half is in vmm.bats (needs KVM).
load helpers
bats_require_minimum_version 1.5.0

setup() {
        require_cmd curl
        sock="$BATS_TEST_TMPDIR/api.sock"
        timeout 60 "$BERTH_VMM" --api-sock "$sock" --log-level info </dev/null \
                >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/log" &
        pid=$!
        local i
        for i in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
}

teardown() {
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
}

api() {
        curl -s --unix-socket "$sock" -X "$1" ${3:+-d "$3"} -w ' %{http_code}' "http://localhost$2"
}

@test "vmm api: configuration before InstanceStart, with Firecracker's faults" {
        [[ "$(api GET /)" == *'"state":"Not started"'*' 200' ]]
        [[ "$(api PATCH /vm '{"state": "Paused"}')" == *'not started yet'*' 400' ]]
        [[ "$(api PUT /actions '{"action_type": "InstanceStart"}')" == *'PUT /boot-source first'*' 400' ]]
        [[ "$(api PUT /machine-config '{"vcpu_count": 0}')" == *'vcpu_count must be 1 to 32'*' 400' ]]
        [[ "$(api PUT /machine-config '[1]')" == *'want a JSON object'*' 400' ]]
        [[ "$(api PUT /machine-config '{"vcpu')" == *'invalid JSON'*' 400' ]]
        [[ "$(api PUT /drives/a%2Fb '{"path_on_host": "x"}')" == *'bad drive_id'*' 400' ]]
        [ "$(api PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 64}')" = ' 204' ]
        [ "$(api GET /machine-config)" = '{"vcpu_count":2,"mem_size_mib":64,"track_dirty_pages":false} 200' ]
        [[ "$(api DELETE /machine-config)" == *'not allowed'*' 405' ]]
        [[ "$(api GET /nope)" == *'no such resource'*' 404' ]]
        [ "$(api PUT /boot-source '{"kernel_image_path": "/nonexistent"}')" = ' 204' ]
        [[ "$(api PUT /actions '{"action_type": "InstanceStart"}')" == *'/nonexistent'*' 400' ]]
}

@test "vmm api: an oversized body gets 413; two requests on one connection; the VMM survives" {
        run bash -c "head -c 40000 /dev/zero | curl -s --unix-socket '$sock' -X PUT --data-binary @- -w ' %{http_code}' http://localhost/boot-source"
        [[ "$output" == *'request too large'*' 413' ]]
        # keep-alive: curl reuses the connection for both URLs
        run curl -sv --unix-socket "$sock" http://localhost/ http://localhost/machine-config
        assert_output_contains "Re-using existing connection"
        assert_output_contains '"vcpu_count":1'
        [[ "$(api GET /)" == *' 200' ]]
}

@test "vmm api: a stalled or garbage client does not stall the others" {
        require_cmd socat
        (printf 'PUT /machine-config HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\n{"vc'; sleep 3) |
                timeout 4 socat - "UNIX-CONNECT:$sock" >/dev/null 2>&1 &
        printf 'GARBAGE\r\n\r\n' | timeout 2 socat - "UNIX-CONNECT:$sock" >/dev/null 2>&1 || true
        sleep 0.2
        [[ "$(api GET /)" == *'"state":"Not started"'*' 200' ]]
        kill -0 "$pid"
}

@test "vmm api: idle clients are dropped after --api-timeout; full slots cannot lock the operator out" {
        require_cmd python3
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        sock="$BATS_TEST_TMPDIR/api-idle.sock" # the first VMM may still be unlinking its own
        timeout 60 "$BERTH_VMM" --api-sock "$sock" --api-timeout 1 --log-level info </dev/null \
                >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/log" &
        pid=$!
        for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
        # One silent client: the server closes it after about a second, with
        # nothing else happening on the loop.
        run python3 - "$sock" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(10)
t = time.monotonic()
b = s.recv(1)
print("closed after %.1f s, got %r" % (time.monotonic() - t, b))
sys.exit(0 if b == b"" and time.monotonic() - t < 5 else 1)
PY
        echo "$output"
        assert_success
        # Every slot taken by silent clients (and a long timeout): the operator still gets in,
        # the least recently active client going instead.
        kill -TERM "$pid"
        wait "$pid" || true
        sock="$BATS_TEST_TMPDIR/api-full.sock"
        timeout 60 "$BERTH_VMM" --api-sock "$sock" --log-level info </dev/null \
                >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/log" &
        pid=$!
        for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
        cat "$BATS_TEST_TMPDIR/log"
        [ -S "$sock" ]
        python3 - "$sock" "$BATS_TEST_TMPDIR/hogs" <<'PY' &
import socket, sys, time
hogs = []
for i in range(20):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    hogs.append(s)
    time.sleep(0.02)
open(sys.argv[2], "w").write("ready\n")
time.sleep(20)
PY
        hogs=$!
        for _ in $(seq 100); do [ -s "$BATS_TEST_TMPDIR/hogs" ] && break; sleep 0.05; done
        for i in 1 2 3; do
                [[ "$(curl -s -m 5 --unix-socket "$sock" -w ' %{http_code}' http://localhost/)" == *' 200' ]]
        done
        kill "$hogs" 2>/dev/null || true
        wait "$hogs" 2>/dev/null || true
        grep -q "dropping the least recently active one" "$BATS_TEST_TMPDIR/log"
}
