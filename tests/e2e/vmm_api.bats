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
        [ "$(api GET /machine-config)" = '{"vcpu_count":2,"mem_size_mib":64} 200' ]
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
