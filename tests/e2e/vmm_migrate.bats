#!/usr/bin/env bats
# vmm_migrate.bats — pre-copy live migration between two berth-vmm processes (docs/vmm.md,
# "Live migration"): PUT /migrate on the source's API, `--migrate-incoming` on the destination.
# The test guest's counting mode (guest.count=MiB) rewrites a counter across its RAM and prints
# it: on the destination it must go on from the source's count (no step back, no jump larger
# than the guest counts between two of its prints) and never report a memory mismatch.  Two
# "hosts" are two network namespaces joined by a veth pair.  A destination killed mid-way leaves
# the source running; corrupt streams are refused by the destination by name (these need no
# KVM: the destination reads the header before it touches /dev/kvm).
load helpers
bats_require_minimum_version 1.5.0

GUEST="$BERTH_BUILD/tests/guest/berth-test-guest.elf"

setup() {
        [ -x "$BERTH_VMM" ] || skip "berth-vmm not built"
        require_cmd curl python3
        d="$BATS_TEST_TMPDIR"
        pids=()
        nss=()
}

teardown() {
        local p n
        for p in "${pids[@]}"; do
                kill -KILL "$p" 2>/dev/null || true
                wait "$p" 2>/dev/null || true
        done
        for n in "${nss[@]}"; do
                ip netns del "$n" 2>/dev/null || true
        done
}

kvm_guest() {
        require_kvm
        [ -f "$GUEST" ] || skip "test guest not built"
}

api() { # SOCK METHOD PATH [BODY]
        curl -s --unix-socket "$1" -X "$2" ${4:+-d "$4"} -w ' %{http_code}' "http://localhost$3"
}

# NAME [PREFIX...] -- ARGS: a berth-vmm in the background (PREFIX: e.g. ip netns exec NS);
# console in $d/NAME.out, log in $d/NAME.log; its pid in $last_pid.
start_vmm() {
        local name=$1
        shift
        local pre=()
        while [ "$1" != -- ]; do pre+=("$1"); shift; done
        shift
        "${pre[@]}" "$BERTH_VMM" --log-level info "$@" </dev/null >"$d/$name.out" 2>"$d/$name.log" &
        pids+=($!)
        last_pid=$!
}

# STATUS PID: PID (a child of this shell) exits with STATUS.  Not `run wait`:
# run's subshell cannot wait for a child of this shell that is still running.
wait_status() {
        local rc=0
        wait "$2" || rc=$?
        [ "$rc" -eq "$1" ] || { echo "pid $2 exited $rc, want $1" >&2; return 1; }
}

wait_sock() {
        local i
        for i in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.05; done
        return 1
}

wait_log() { # FILE PATTERN
        local i
        for i in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
        echo "no \`$2\` in $1" >&2
        cat "$1" >&2
        return 1
}

counts() { grep -a '^BERTH-GUEST count [0-9]' "$1" | awk '{print $3}'; }
last_count() { { counts "$1" || true; echo 0; } | sort -n | tail -1; }
first_count() { { counts "$1" || echo 0; } | head -1; }
wait_count_above() { wait_above last_count "$1" "$2"; }
# The largest step between two consecutive prints in FILE.
max_step() { counts "$1" | awk 'NR > 1 && $1 - p > m { m = $1 - p } { p = $1 } END { print m + 0 }'; }

# The destination's first count continues the source's last: no step back, no jump beyond two
# of the source's print intervals; and no memory came back wrong.
check_continues() { # SRC.out DST.out
        local s t step
        s=$(last_count "$1")
        t=$(first_count "$2")
        step=$(max_step "$1")
        echo "source ended at $s, destination started at $t (source's largest step $step)" >&2
        [ "$t" -ge "$s" ]
        [ $((t - s)) -le $((2 * step + 2)) ]
        ! grep -a 'mismatch' "$2"
}

# Send python3's bytes expression EXPR to the destination listening on unix:SOCK.
send_stream() { # SOCK EXPR
        python3 - "$1" "$2" <<'EOF'
import socket, struct, sys
SEED = 0xcbf29ce484222325
def fnv(b, h=SEED):
    for x in b:
        h ^= x
        h = (h * 0x100000001b3) & 0xffffffffffffffff
    return h
def header(ram=64 << 20, version=1, ncpuid=0):
    h = b"BERTHMIG" + struct.pack("<IIQII", version, 0, ram, 1, ncpuid)
    return h + struct.pack("<Q", fnv(h))
def rec(t, n, a):
    return struct.pack("<IIQ", t, n, a)
data = eval(sys.argv[2])
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(data)
s.shutdown(socket.SHUT_WR)
try:
    print(s.recv(4096)[16:].decode(errors="replace"))
except OSError:
    pass
EOF
}

# Start a destination on unix:$d/mig.sock, feed it EXPR, and expect it to refuse with PATTERN.
refused_by_destination() { # EXPR PATTERN
        rm -f "$d/mig.sock"
        start_vmm dst -- --migrate-incoming "unix:$d/mig.sock"
        local dst=$last_pid
        wait_sock "$d/mig.sock"
        run send_stream "$d/mig.sock" "$1"
        echo "ack: $output" >&2
        wait_status 1 "$dst"
        cat "$d/dst.log" >&2
        grep -q "$2" "$d/dst.log"
        # the source hears why
        [[ "$(cat "$d/dst.log")" == *"incoming migration"* ]]
}

@test "vmm migrate: a stream with a bad magic is refused by the destination" {
        refused_by_destination 'b"NOTBERTH" + b"\0" * 64' 'bad magic'
}

@test "vmm migrate: another stream version is refused by number" {
        refused_by_destination 'header(version=7)' 'version 7'
}

@test "vmm migrate: a corrupt header (checksum) is refused" {
        refused_by_destination 'bytearray(header())[:-1] + b"\x01"' 'checksum mismatch'
}

@test "vmm migrate: a truncated stream is refused, and a RAM size out of range" {
        refused_by_destination 'header()[:20]' 'ended early'
        refused_by_destination 'header(ram=(64 << 20) + 1)' 'RAM size'
}

@test "vmm migrate: the API refuses a migration of a VM not started, and bad bodies" {
        start_vmm idle -- --api-sock "$d/idle.sock"
        wait_sock "$d/idle.sock"
        run api "$d/idle.sock" GET /migrate
        [ "$output" = '{"state":"none"} 200' ]
        run api "$d/idle.sock" PUT /migrate '{"destination": "tcp:127.0.0.1:1"}'
        [[ "$output" == *"not started"*" 400" ]]
        run api "$d/idle.sock" PUT /migrate '{"dest": "x"}'
        [[ "$output" == *"destination"*" 400" ]]
        run api "$d/idle.sock" PUT /migrate '{"destination": "tcp:127.0.0.1:1", "max_downtime_ms": 0}'
        [[ "$output" == *"max_downtime_ms"*" 400" ]]
        # an incoming VMM takes no configuration through its API
        start_vmm in -- --migrate-incoming "unix:$d/in.mig" --api-sock "$d/in.sock"
        wait_sock "$d/in.sock"
        run api "$d/in.sock" PUT /actions '{"action_type": "InstanceStart"}'
        [[ "$output" == *"incoming migration"*" 400" ]]
        run "$BERTH_VMM" --migrate-incoming tcp:127.0.0.1:1 --kernel "$GUEST"
        [ "$status" -eq 2 ]
        [[ "$output" == *"--migrate-incoming takes the VM from the stream"* ]]
        run "$BERTH_VMM" --migrate-incoming udp:1
        [ "$status" -eq 2 ]
}

# A counting guest on the source; $src_pid.
start_source() { # MIB COUNT_MIB [PREFIX...]
        local mib=$1 cnt=$2
        shift 2
        start_vmm src "$@" -- --kernel "$GUEST" --memory "$mib" --cmdline "guest.count=$cnt" \
                --api-sock "$d/src.sock"
        src_pid=$last_pid
        wait_sock "$d/src.sock"
        wait_count_above "$d/src.out" 3
}

@test "vmm migrate: a counting guest moves live over a unix socket and counts on" {
        kvm_guest
        start_vmm dst -- --migrate-incoming "unix:$d/mig.sock" --api-sock "$d/dst.sock"
        dst_pid=$last_pid
        wait_sock "$d/mig.sock"
        start_source 256 64
        run api "$d/src.sock" PUT /migrate "{\"destination\": \"unix:$d/mig.sock\"}"
        echo "$output" >&2
        [[ "$output" == *'"state":"completed"'*" 200" ]]
        total=$(echo "${output% *}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["total_ms"])')
        down=$(echo "${output% *}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["downtime_ms"])')
        bytes=$(echo "${output% *}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes"])')
        echo "total $total ms, downtime $down ms, $bytes bytes" >&2
        python3 -c "import sys; sys.exit(not (0 < $down <= $total and $bytes > 0))"
        # the source is released: it exits 14 (migrated) and prints no more
        wait_status 14 "$src_pid"
        wait_count_above "$d/dst.out" 3
        check_continues "$d/src.out" "$d/dst.out"
        wait_count_above "$d/dst.out" $(($(last_count "$d/dst.out") + 5))
        run api "$d/dst.sock" GET /
        [[ "$output" == *'"state":"Running"'* ]]
        kill -TERM "$dst_pid"
}

@test "vmm migrate: between two network namespaces over tcp (veth), with a bandwidth cap" {
        kvm_guest
        require_root
        require_cmd ip
        local a=berth-miga-$$ b=berth-migb-$$
        ip netns add "$a" || skip "needs network namespaces (ip netns add failed)"
        nss+=("$a")
        ip netns add "$b"
        nss+=("$b")
        ip link add mig0 netns "$a" type veth peer name mig1 netns "$b"
        ip -n "$a" addr add 10.251.0.1/30 dev mig0
        ip -n "$b" addr add 10.251.0.2/30 dev mig1
        ip -n "$a" link set mig0 up
        ip -n "$b" link set mig1 up
        ip -n "$a" link set lo up
        ip -n "$b" link set lo up
        start_vmm dst ip netns exec "$b" -- --migrate-incoming tcp:10.251.0.2:7411 \
                --api-sock "$d/dst.sock"
        dst_pid=$last_pid
        wait_log "$d/dst.log" 'waiting for an incoming migration'
        start_source 256 64 ip netns exec "$a"
        run api "$d/src.sock" PUT /migrate \
                '{"destination": "tcp:10.251.0.2:7411", "bandwidth_mib": 400, "max_downtime_ms": 300}'
        echo "$output" >&2
        [[ "$output" == *'"state":"completed"'*" 200" ]]
        wait_status 14 "$src_pid"
        wait_count_above "$d/dst.out" 3
        check_continues "$d/src.out" "$d/dst.out"
        grep -q 'incoming migration: .* bytes' "$d/dst.log"
        kill -TERM "$dst_pid"
}

@test "vmm migrate: killing the destination mid-way leaves the source running and counting" {
        kvm_guest
        start_vmm dst -- --migrate-incoming "unix:$d/mig.sock"
        dst_pid=$last_pid
        wait_sock "$d/mig.sock"
        start_source 256 64
        # 20 MiB/s: the first round alone takes seconds
        api "$d/src.sock" PUT /migrate \
                "{\"destination\": \"unix:$d/mig.sock\", \"bandwidth_mib\": 20}" >"$d/put.out" &
        local put=$!
        wait_log "$d/src.log" 'migration to .* started'
        sleep 1
        kill -KILL "$dst_pid"
        wait "$put" || true
        cat "$d/put.out" >&2
        [[ "$(cat "$d/put.out")" == *'"state":"failed"'*" 400" ]]
        local c
        c=$(last_count "$d/src.out")
        wait_count_above "$d/src.out" $((c + 5))
        kill -0 "$src_pid"
        run api "$d/src.sock" GET /migrate
        [[ "$output" == *'"state":"failed"'* ]]
        run api "$d/src.sock" GET /
        [[ "$output" == *'"state":"Running"'* ]]
        ! grep -a 'mismatch' "$d/src.out"
}

@test "vmm migrate: auto-converge throttles a guest that outruns a capped link" {
        kvm_guest
        start_vmm dst -- --migrate-incoming "unix:$d/mig.sock"
        wait_sock "$d/mig.sock"
        start_source 256 128
        run timeout 120 curl -s --unix-socket "$d/src.sock" -X PUT -w ' %{http_code}' \
                -d "{\"destination\": \"unix:$d/mig.sock\", \"bandwidth_mib\": 100, \"auto_converge\": true}" \
                http://localhost/migrate
        echo "$output" >&2
        [[ "$output" == *'"state":"completed"'*" 200" ]]
        grep -q 'auto-converge throttles the vCPUs' "$d/src.log"
        wait_count_above "$d/dst.out" 3
        check_continues "$d/src.out" "$d/dst.out"
}

@test "vmm migrate: post-copy: the guest runs on the destination at once, RAM follows on demand" {
        kvm_guest
        start_vmm dst -- --migrate-incoming "unix:$d/mig.sock" --api-sock "$d/dst.sock"
        dst_pid=$last_pid
        wait_sock "$d/mig.sock"
        start_source 256 64
        run api "$d/src.sock" PUT /migrate "{\"destination\": \"unix:$d/mig.sock\", \"postcopy\": true}"
        echo "$output" >&2
        [[ "$output" == *'"state":"completed"'*" 200" ]]
        [[ "$output" == *'"postcopy":true'* ]]
        wait_status 14 "$src_pid"
        wait_log "$d/dst.log" 'post-copy: all of RAM is here'
        wait_count_above "$d/dst.out" 3
        check_continues "$d/src.out" "$d/dst.out"
        wait_count_above "$d/dst.out" $(($(last_count "$d/dst.out") + 5))
        kill -TERM "$dst_pid"
}

@test "vmm migrate: a post-copy destination refusing the state leaves the source running" {
        kvm_guest
        start_source 64 16
        # a destination that refuses in its ack (as one whose userfaultfd is denied would)
        python3 - "$d/fake.sock" <<'PY' &
import socket, struct, sys
l = socket.socket(socket.AF_UNIX)
l.bind(sys.argv[1])
l.listen(1)
c, _ = l.accept()
c.recv(65536)
msg = b"no room here"
c.sendall(b"BERTHACK" + struct.pack("<iI", 12, len(msg)) + msg)
c.close()
PY
        pids+=($!)
        for _ in $(seq 100); do [ -S "$d/fake.sock" ] && break; sleep 0.05; done
        run api "$d/src.sock" PUT /migrate "{\"destination\": \"unix:$d/fake.sock\", \"postcopy\": true}"
        echo "$output" >&2
        [[ "$output" == *"no room here"*" 400" ]]
        local c
        c=$(last_count "$d/src.out")
        wait_count_above "$d/src.out" $((c + 5))
}

@test "vmm migrate: a pre-copy that cannot converge switches to post-copy on request" {
        kvm_guest
        start_vmm dst -- --migrate-incoming "unix:$d/mig.sock" --api-sock "$d/dst.sock"
        dst_pid=$last_pid
        wait_sock "$d/mig.sock"
        start_source 256 128
        run api "$d/src.sock" PATCH /migrate '{"start_postcopy": true}'
        [[ "$output" == *"no migration is running"*" 400" ]]
        # 50 MiB/s: the guest rewrites 128 MiB faster than that, pre-copy alone never ends
        api "$d/src.sock" PUT /migrate \
                "{\"destination\": \"unix:$d/mig.sock\", \"bandwidth_mib\": 50}" >"$d/put.out" &
        local put=$!
        wait_log "$d/src.log" 'migration: round 2 '
        run api "$d/src.sock" PATCH /migrate '{"start_postcopy": true}'
        [ "$output" = ' 204' ]
        wait "$put"
        cat "$d/put.out" >&2
        [[ "$(cat "$d/put.out")" == *'"state":"completed"'*'"postcopy":true'*" 200" ]]
        grep -q 'switching to post-copy' "$d/src.log"
        wait_status 14 "$src_pid"
        wait_log "$d/dst.log" 'post-copy: all of RAM is here'
        wait_count_above "$d/dst.out" 3
        check_continues "$d/src.out" "$d/dst.out"
        kill -TERM "$dst_pid"
}

# SOCK ADDR: connect to ADDR (tcp:HOST:PORT, unix:PATH) and hand the connection to the VMM
# whose API is SOCK, on SOCK.fd (as berth vm migrate does); wait for its answer.
hand_fd() {
        python3 - "$1" "$2" <<'PY'
import socket, sys
api, addr = sys.argv[1], sys.argv[2]
if addr.startswith("unix:"):
    c = socket.socket(socket.AF_UNIX)
    c.connect(addr[5:])
else:
    host, port = addr[4:].rsplit(":", 1)
    c = socket.create_connection((host.strip("[]"), int(port)))
s = socket.socket(socket.AF_UNIX)
s.connect(api + ".fd")
socket.send_fds(s, [b"x"], [c.fileno()])
sys.exit(0 if s.recv(1) == b"1" else 1)
PY
}

@test "vmm migrate: a jailed source migrates over a socket handed in, with --jail-migrate only" {
        kvm_guest
        require_root
        local port=$((20000 + RANDOM % 20000))
        # without --jail-migrate: refused by name, the guest runs on
        start_vmm nomig -- --jail --kernel "$GUEST" --memory 64 --cmdline "guest.count=16" \
                --api-sock "$d/nomig.sock"
        local nomig=$last_pid
        wait_sock "$d/nomig.sock"
        run api "$d/nomig.sock" PUT /migrate "{\"destination\": \"tcp:127.0.0.1:$port\"}"
        [[ "$output" == *"without --jail-migrate"*" 400" ]]
        kill -0 "$nomig"
        kill -TERM "$nomig"
        # with it: a unix destination is refused (the jail's root has none), tcp moves the guest
        start_vmm dst -- --migrate-incoming "tcp:127.0.0.1:$port" --api-sock "$d/dst.sock"
        wait_log "$d/dst.log" 'waiting for an incoming migration'
        start_vmm src -- --jail --jail-migrate --kernel "$GUEST" --memory 256 \
                --cmdline "guest.count=64" --api-sock "$d/src.sock"
        src_pid=$last_pid
        wait_sock "$d/src.sock"
        wait_count_above "$d/src.out" 3
        # it opens no socket itself: a destination address is refused, a handed one is used
        run api "$d/src.sock" PUT /migrate "{\"destination\": \"tcp:127.0.0.1:$port\"}"
        [[ "$output" == *"a jailed VMM opens no socket: hand it one on"*" 400" ]]
        run api "$d/src.sock" PUT /migrate '{"destination": "fd"}'
        [[ "$output" == *"no socket was handed over"*" 400" ]]
        hand_fd "$d/src.sock" "tcp:127.0.0.1:$port"
        run api "$d/src.sock" PUT /migrate '{"destination": "fd"}'
        echo "$output" >&2
        [[ "$output" == *'"state":"completed"'*" 200" ]]
        wait_status 14 "$src_pid"
        wait_count_above "$d/dst.out" 3
        check_continues "$d/src.out" "$d/dst.out"
        run grep -a 'seccomp\|signal 31\|SIGSYS' "$d/src.log"
        assert_failure 1
}

# copy_storage: the guest's disk counting mode (guest.blkcount=MiB) rewrites a counter across
# MiB of its disk, checking each sector before it writes it again: on the destination it goes
# on from the source's count and never reports a mismatch, and the target image holds, sector
# by sector, one pass's count or the next (no write of the guest's lost).


# FORMAT DISK_OPTS API_BODY_EXTRA: a disk-counting guest moves with its disk over a unix socket.
copy_storage_migration() {
        local fmt=$1 opts=$2 extra=$3
        require_cmd qemu-img
        qemu-img create -q -f "$fmt" "$d/src.$fmt" 64M
        qemu-img create -q -f "$fmt" "$d/dst.$fmt" 64M
        start_vmm dst -- --migrate-incoming "unix:$d/mig.sock" --migrate-disk "0:$d/dst.$fmt" \
                --api-sock "$d/dst.sock"
        dst_pid=$last_pid
        wait_sock "$d/mig.sock"
        start_vmm src -- --kernel "$GUEST" --memory 128 --cmdline guest.blkcount=8 \
                --disk "$d/src.$fmt$opts" --api-sock "$d/src.sock"
        src_pid=$last_pid
        wait_sock "$d/src.sock"
        wait_blkcount_above "$d/src.out" 3
        run api "$d/src.sock" PUT /migrate \
                "{\"destination\": \"unix:$d/mig.sock\", \"copy_storage\": true$extra}"
        echo "$output" >&2
        [[ "$output" == *'"state":"completed"'*'"copy_storage":true'*" 200" ]]
        python3 -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(not (d["disk_bytes"] >= 8 << 20 and d["disk_zero_bytes"] > 0))' "${output% *}"
        wait_status 14 "$src_pid"
        local s
        s=$(last_blkcount "$d/src.out")
        wait_blkcount_above "$d/dst.out" $((s + 3))
        first=$(blkcounts "$d/dst.out" | head -1)
        echo "source's disk count ended at $s, destination's started at $first" >&2
        [ "$first" -ge "$s" ]
        run grep -a mismatch "$d/dst.out"
        assert_failure 1
        grep -q 'incoming migration: .* MiB of disk data' "$d/dst.log"
        # the guest's view is the target's: stopped, it reads back whole
        kill -TERM "$dst_pid"
        wait "$dst_pid" || true
        check_disk_region "$d/dst.$fmt" 8
}

@test "vmm migrate: copy_storage: a qcow2 disk the guest writes moves with it (pre-copy)" {
        kvm_guest
        copy_storage_migration qcow2 "" ""
}

@test "vmm migrate: copy_storage: a raw disk through io_uring, post-copy" {
        kvm_guest
        copy_storage_migration raw ",io=uring" ', "postcopy": true'
}

@test "vmm migrate: copy_storage refusals: no target, a target of another size, targets unused" {
        kvm_guest
        require_cmd qemu-img
        qemu-img create -q -f qcow2 "$d/src.qcow2" 64M
        qemu-img create -q -f qcow2 "$d/small.qcow2" 32M
        start_vmm src -- --kernel "$GUEST" --memory 128 --cmdline guest.blkcount=8 \
                --disk "$d/src.qcow2" --api-sock "$d/src.sock"
        src_pid=$last_pid
        wait_sock "$d/src.sock"
        wait_blkcount_above "$d/src.out" 3
        # a copying source, a destination with nowhere to put the disk
        start_vmm d1 -- --migrate-incoming "unix:$d/m1.sock"
        wait_sock "$d/m1.sock"
        run api "$d/src.sock" PUT /migrate "{\"destination\": \"unix:$d/m1.sock\", \"copy_storage\": true}"
        echo "$output" >&2
        [[ "$output" == *'"state":"failed"'*"this VMM has no target for them (--migrate-disk)"*" 400" ]]
        # a target of another size
        start_vmm d2 -- --migrate-incoming "unix:$d/m2.sock" --migrate-disk "0:$d/small.qcow2"
        wait_sock "$d/m2.sock"
        run api "$d/src.sock" PUT /migrate "{\"destination\": \"unix:$d/m2.sock\", \"copy_storage\": true}"
        [[ "$output" == *'"state":"failed"'*"has 33554432 bytes, the source's drive 0 67108864"*" 400" ]]
        # targets named, but the source does not copy: the guest would run on an empty disk
        start_vmm d3 -- --migrate-incoming "unix:$d/m3.sock" --migrate-disk "0:$d/small.qcow2"
        wait_sock "$d/m3.sock"
        run api "$d/src.sock" PUT /migrate "{\"destination\": \"unix:$d/m3.sock\"}"
        [[ "$output" == *'"state":"failed"'*"the source copied 0 drive(s)"*" 400" ]]
        # the source ran on through all three, its disk whole
        local c
        c=$(last_blkcount "$d/src.out")
        wait_blkcount_above "$d/src.out" $((c + 3))
        run grep -a mismatch "$d/src.out"
        assert_failure 1
        run "$BERTH_VMM" --migrate-disk "0:$d/small.qcow2" --kernel "$GUEST"
        [ "$status" -eq 2 ]
        [[ "$output" == *"--migrate-disk needs --migrate-incoming"* ]]
        run "$BERTH_VMM" --migrate-incoming "unix:$d/x.sock" --migrate-disk "9:$d/small.qcow2"
        [ "$status" -eq 2 ]
        [[ "$output" == *"INDEX below 8"* ]]
}

# The destination jailed: --config names the VM the stream brings (the jail holds its files).
jailed_destination() { # MODE_JSON
        require_root
        cat >"$d/vm.json" <<JSON
{"boot-source": {"kernel_image_path": "$GUEST"}, "machine-config": {"vcpu_count": 1, "mem_size_mib": 256}}
JSON
        mkdir -p "$d/in"
        start_vmm dst -- --jail --migrate-incoming "unix:$d/in/mig.sock" --config "$d/vm.json" \
                --api-sock "$d/in/dst.sock"
        dst_pid=$last_pid
        wait_sock "$d/in/mig.sock"
        start_source 256 64
        run api "$d/src.sock" PUT /migrate "{\"destination\": \"unix:$d/in/mig.sock\"$1}"
        echo "$output" >&2
        [[ "$output" == *'"state":"completed"'*" 200" ]]
        wait_status 14 "$src_pid"
        wait_count_above "$d/dst.out" 3
        check_continues "$d/src.out" "$d/dst.out"
        wait_count_above "$d/dst.out" $(($(last_count "$d/dst.out") + 5))
        # the jail: every thread filtered, no capability, not root, only the VM's files
        local pid
        pid=$(pgrep -f -- "--migrate-incoming unix:$d/in/mig.sock" | tail -1)
        grep -q '^Seccomp:[[:space:]]*2' "/proc/$pid/status"
        grep -q '^CapEff:[[:space:]]*0000000000000000' "/proc/$pid/status"
        grep -q '^Uid:[[:space:]]*65534' "/proc/$pid/status"
        local t
        for t in /proc/"$pid"/task/*; do
                grep -q '^Seccomp:[[:space:]]*2' "$t/status"
        done
        run ls "/proc/$pid/root/etc"
        assert_failure
        run grep -a 'signal 31' "$d/dst.log"
        assert_failure 1
        kill -TERM "$dst_pid"
}

@test "vmm migrate: a jailed destination (--jail --migrate-incoming --config) takes a pre-copy" {
        kvm_guest
        jailed_destination ""
}

@test "vmm migrate: a jailed destination serves post-copy's faults from filtered threads" {
        kvm_guest
        jailed_destination ', "postcopy": true'
        grep -q 'post-copy: all of RAM is here' "$d/dst.log"
}

@test "vmm migrate: --migrate-incoming under --jail wants --config; --kernel is still refused" {
        run "$BERTH_VMM" --jail --migrate-incoming "unix:$d/x.sock"
        [ "$status" -eq 2 ]
        [[ "$output" == *"--migrate-incoming under --jail needs --config FILE"* ]]
        run "$BERTH_VMM" --migrate-incoming "unix:$d/x.sock" --kernel "$GUEST"
        [ "$status" -eq 2 ]
        [[ "$output" == *"no --kernel nor --restore"* ]]
}

@test "vmm migrate: a forbidden call on a jailed destination's post-copy thread kills it; the source runs on" {
        kvm_guest
        require_root
        cat >"$d/vm.json" <<JSON
{"boot-source": {"kernel_image_path": "$GUEST"}, "machine-config": {"vcpu_count": 1, "mem_size_mib": 256}}
JSON
        mkdir -p "$d/in"
        start_vmm dst -- --jail --jail-selftest postcopy --migrate-incoming "unix:$d/in/mig.sock" \
                --config "$d/vm.json"
        dst_pid=$last_pid
        wait_sock "$d/in/mig.sock"
        start_source 256 64
        run api "$d/src.sock" PUT /migrate "{\"destination\": \"unix:$d/in/mig.sock\", \"postcopy\": true}"
        echo "$output" >&2
        [[ "$output" == *'"state":"failed"'*" 400" ]]
        wait_status 159 "$dst_pid"
        local c
        c=$(last_count "$d/src.out")
        wait_count_above "$d/src.out" $((c + 5))
}

# The migration shares the snapshot tracker's log (dirty.c): its end must leave KVM's log and the
# devices' map running, or the Diff below misses the pages written after it.
@test "vmm migrate: a failed migration of a tracking source leaves the dirty log on; its next Diff snapshot is whole" {
        kvm_guest
        start_vmm dst -- --migrate-incoming "unix:$d/mig.sock"
        dst_pid=$last_pid
        wait_sock "$d/mig.sock"
        start_vmm src -- --kernel "$GUEST" --memory 128 --cmdline "guest.count=32" \
                --api-sock "$d/src.sock" --track-dirty-pages
        src_pid=$last_pid
        wait_sock "$d/src.sock"
        wait_count_above "$d/src.out" 3
        [ "$(api "$d/src.sock" PATCH /vm '{"state": "Paused"}')" = ' 204' ]
        [ "$(api "$d/src.sock" PUT /snapshot/create "{\"snapshot_path\": \"$d/full\", \"mem_file_path\": \"$d/full.mem\"}")" = ' 204' ]
        [ "$(api "$d/src.sock" PATCH /vm '{"state": "Resumed"}')" = ' 204' ]
        # the migration's rounds read (and clear) KVM's log while the guest rewrites its pages
        api "$d/src.sock" PUT /migrate \
                "{\"destination\": \"unix:$d/mig.sock\", \"bandwidth_mib\": 20}" >"$d/put.out" &
        local put=$!
        wait_log "$d/src.log" 'migration to .* started'
        sleep 1.5
        kill -KILL "$dst_pid"
        wait "$put" || true
        [[ "$(cat "$d/put.out")" == *'"state":"failed"'*" 400" ]]
        wait_count_above "$d/src.out" $(($(last_count "$d/src.out") + 3))
        [ "$(api "$d/src.sock" PATCH /vm '{"state": "Paused"}')" = ' 204' ]
        sleep 0.2
        local c
        c=$(last_count "$d/src.out")
        [ "$(api "$d/src.sock" PUT /snapshot/create "{\"snapshot_type\": \"Diff\", \"snapshot_path\": \"$d/diff\", \"mem_file_path\": \"$d/diff.mem\"}")" = ' 204' ]
        kill -KILL "$src_pid"
        # every page the guest wrote since the Full one is in the Diff
        start_vmm back -- --restore "$d/diff" --restore-mem "$d/full.mem" --restore-mem-diff "$d/diff.mem"
        wait_count_above "$d/back.out" $((c + 3))
        [ "$(first_count "$d/back.out")" -ge "$c" ]
        run grep -a 'mismatch' "$d/back.out"
        assert_failure
}
