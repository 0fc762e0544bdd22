#!/usr/bin/env bats
# vmm_snapshot.bats — full snapshots of a running microVM (docs/vmm.md, "Snapshots"): the test
# guest's counting mode (guest.count=MiB) writes a counter across its RAM and prints it; a
# snapshot of it is restored into a new berth-vmm, through the API (PUT /snapshot/load) and the
# command line (--restore), and must count on from the snapshot's value; the source keeps
# running after it; corrupt, truncated and mismatched snapshot files are refused by name.
load helpers
load lib/vm
bats_require_minimum_version 1.5.0

setup() {
        vm_require
        require_cmd curl
        d="$BATS_TEST_TMPDIR"
        pids=()
}

teardown() {
        local p
        for p in "${pids[@]}"; do
                kill -KILL "$p" 2>/dev/null || true
                wait "$p" 2>/dev/null || true
        done
}

api() { # SOCK METHOD PATH [BODY]
        curl -s --unix-socket "$1" -X "$2" ${4:+-d "$4"} -w ' %{http_code}' "http://localhost$3"
}

# Start a berth-vmm in the background: NAME ARGS...; console in $d/NAME.out, log in $d/NAME.log.
start_vmm() {
        local name=$1
        shift
        "$BERTH_VMM" --log-level info "$@" </dev/null >"$d/$name.out" 2>"$d/$name.log" &
        pids+=($!)
        last_pid=$!
}

wait_sock() {
        local i
        for i in $(seq 100); do [ -S "$1" ] && return 0; sleep 0.05; done
        return 1
}

# The last count the guest printed in FILE (0 if none yet); wait_count_above reads it.
last_count() {
        { grep -a '^BERTH-GUEST count [0-9]' "$1" || echo 'x x 0'; } | tail -1 | awk '{print $3}'
}
first_count() {
        { grep -a '^BERTH-GUEST count [0-9]' "$1" || echo 'x x 0'; } | head -1 | awk '{print $3}'
}

# A counting guest paused and snapshotted into $d/snap + $d/mem; $count is its count then.
make_snapshot() {
        local mib=${1:-64}
        rm -f "$d/src.sock" # a killed source's socket: wait_sock must see the new one
        start_vmm src --kernel "$GUEST" --memory "$mib" --cmdline "guest.count=16" \
                --api-sock "$d/src.sock"
        src_pid=$last_pid
        wait_sock "$d/src.sock"
        wait_count_above "$d/src.out" 3
        [ "$(api "$d/src.sock" PATCH /vm '{"state": "Paused"}')" = ' 204' ]
        sleep 0.2 # what the guest printed before the pause reaches the file
        count=$(last_count "$d/src.out")
        run api "$d/src.sock" PUT /snapshot/create \
                "{\"snapshot_type\": \"Full\", \"snapshot_path\": \"$d/snap\", \"mem_file_path\": \"$d/mem\"}"
        [ "$output" = ' 204' ] || { echo "create: $output" >&2; cat "$d/src.log" >&2; return 1; }
        [ "$(last_count "$d/src.out")" = "$count" ] # paused means paused
}

@test "vmm snapshot: a counting guest's snapshot; the source runs on; a new VMM counts on from it" {
        make_snapshot
        [ -s "$d/snap" ]
        [ "$(stat -c %s "$d/mem")" = $((64 << 20)) ]
        grep -q 'snapshot: .* bytes of state' "$d/src.log"
        # the source resumes and keeps counting
        [ "$(api "$d/src.sock" PATCH /vm '{"state": "Resumed"}')" = ' 204' ]
        wait_count_above "$d/src.out" $((count + 5))
        kill -TERM "$src_pid"
        st=0
        wait "$src_pid" || st=$?
        [ "$st" -eq 13 ] # stopped by the signal, not crashed

        # a fresh berth-vmm with only an API socket loads it and resumes
        start_vmm dst --api-sock "$d/dst.sock"
        dst_pid=$last_pid
        wait_sock "$d/dst.sock"
        run api "$d/dst.sock" PUT /snapshot/load "{\"snapshot_path\": \"$d/snap\", \"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"$d/mem\"}, \"resume_vm\": true}"
        [ "$output" = ' 204' ] || { echo "load: $output" >&2; cat "$d/dst.log" >&2; false; }
        [[ "$(api "$d/dst.sock" GET /)" == *'"state":"Running"'*' 200' ]]
        [[ "$(api "$d/dst.sock" GET /machine-config)" == *'"mem_size_mib":64'*' 200' ]]
        wait_count_above "$d/dst.out" $((count + 5))
        first=$(first_count "$d/dst.out")
        echo "snapshot at count $count; the restored guest printed $first first" >&3
        # on from the snapshot's count, not from 0: no boot banner, no memory mismatch
        [ "$first" -ge "$count" ]
        [ "$first" -le $((count + 100)) ]
        run grep -aq 'BERTH-GUEST boot:\|BERTH-GUEST count:' "$d/dst.out"
        assert_failure
        grep -q 'restored 1 vCPU(s), 64 MiB' "$d/dst.log"
        # the memory file was mapped privately: the guest's writes never reach it
        before=$(md5sum <"$d/mem")
        kill -TERM "$dst_pid"
        st=0
        wait "$dst_pid" || st=$?
        [ "$st" -eq 13 ] # stopped by the signal, not crashed
        [ "$(md5sum <"$d/mem")" = "$before" ]
}

@test "vmm snapshot: --restore on the command line; a paused load resumes on PATCH /vm" {
        make_snapshot
        kill -KILL "$src_pid"
        start_vmm cli --restore "$d/snap" --restore-mem "$d/mem"
        wait_count_above "$d/cli.out" "$count"
        [ "$(first_count "$d/cli.out")" -ge "$count" ]

        start_vmm paused --api-sock "$d/p.sock"
        wait_sock "$d/p.sock"
        [ "$(api "$d/p.sock" PUT /snapshot/load "{\"snapshot_path\": \"$d/snap\", \"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"$d/mem\"}}")" = ' 204' ]
        [[ "$(api "$d/p.sock" GET /)" == *'"state":"Paused"'* ]]
        sleep 0.5
        [ "$(last_count "$d/paused.out")" = 0 ] # parked before its first instruction
        [ "$(api "$d/p.sock" PATCH /vm '{"state": "Resumed"}')" = ' 204' ]
        wait_count_above "$d/paused.out" "$count"
        [ "$(first_count "$d/paused.out")" -ge "$count" ]
        # a loaded VM takes no second snapshot load
        [[ "$(api "$d/p.sock" PUT /snapshot/load "{\"snapshot_path\": \"$d/snap\", \"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"$d/mem\"}}")" == *'already started'*' 400' ]]
}

# Pause the VMM on socket $1, take a snapshot of TYPE $2 into $d/$3 + $d/$3.mem, resume; $count
# is the guest's count at the snapshot.
snap_at() {
        [ "$(api "$1" PATCH /vm '{"state": "Paused"}')" = ' 204' ]
        sleep 0.2
        count=$(last_count "$d/src.out")
        run api "$1" PUT /snapshot/create \
                "{\"snapshot_type\": \"$2\", \"snapshot_path\": \"$d/$3\", \"mem_file_path\": \"$d/$3.mem\"}"
        [ "$output" = ' 204' ] || { echo "create $2: $output" >&2; cat "$d/src.log" >&2; return 1; }
        [ "$(api "$1" PATCH /vm '{"state": "Resumed"}')" = ' 204' ]
}

@test "vmm snapshot: Diff snapshots hold only the pages written since the last one; a chain restores" {
        start_vmm src --kernel "$GUEST" --memory 64 --cmdline "guest.count=16" \
                --api-sock "$d/src.sock" --track-dirty-pages
        wait_sock "$d/src.sock"
        wait_count_above "$d/src.out" 3
        # no base yet: the first snapshot of a run is a Full one
        [ "$(api "$d/src.sock" PATCH /vm '{"state": "Paused"}')" = ' 204' ]
        [[ "$(api "$d/src.sock" PUT /snapshot/create "{\"snapshot_type\": \"Diff\", \"snapshot_path\": \"$d/x\", \"mem_file_path\": \"$d/y\"}")" == *'needs a base'*' 400' ]]
        # still paused: the Full one, then a Diff of nothing, a file of holes
        [ "$(api "$d/src.sock" PUT /snapshot/create "{\"snapshot_type\": \"Full\", \"snapshot_path\": \"$d/full\", \"mem_file_path\": \"$d/full.mem\"}")" = ' 204' ]
        c0=$(last_count "$d/src.out")
        [ "$(api "$d/src.sock" PUT /snapshot/create "{\"snapshot_type\": \"Diff\", \"snapshot_path\": \"$d/empty\", \"mem_file_path\": \"$d/empty.mem\"}")" = ' 204' ]
        [ "$(stat -c %s "$d/empty.mem")" = $((64 << 20)) ]
        [ "$(du -k "$d/empty.mem" | cut -f1)" -eq 0 ]
        [ "$(api "$d/src.sock" PATCH /vm '{"state": "Resumed"}')" = ' 204' ]
        wait_count_above "$d/src.out" $((c0 + 3))
        snap_at "$d/src.sock" Diff d1
        c1=$count
        wait_count_above "$d/src.out" $((c1 + 3))
        snap_at "$d/src.sock" Diff d2
        c2=$count
        full_kib=$(du -k "$d/full.mem" | cut -f1)
        d2_kib=$(du -k "$d/d2.mem" | cut -f1)
        echo "full ${full_kib} KiB, diffs $(du -k "$d/d1.mem" | cut -f1) and ${d2_kib} KiB; counts $c0 $c1 $c2" >&3
        # the guest rewrites its 16 MiB; the kernel, tables and the rest were in the Full one
        [ "$d2_kib" -lt "$full_kib" ]
        [ "$d2_kib" -le $((17 * 1024)) ]
        grep -q 'KiB of memory (Diff)' "$d/src.log"
        kill -KILL "$last_pid"

        # the chain: the Full's memory, each Diff's pages over it, the last Diff's state
        start_vmm cli --restore "$d/d2" --restore-mem "$d/full.mem" \
                --restore-mem-diff "$d/d1.mem" --restore-mem-diff "$d/d2.mem"
        wait_count_above "$d/cli.out" $((c2 + 3))
        [ "$(first_count "$d/cli.out")" -ge "$c2" ]
        [ "$(first_count "$d/cli.out")" -le $((c2 + 100)) ]
        run grep -aq 'memory mismatch' "$d/cli.out"
        assert_failure
        # through the API, one Diff deep
        start_vmm api --api-sock "$d/api.sock"
        wait_sock "$d/api.sock"
        [ "$(api "$d/api.sock" PUT /snapshot/load "{\"snapshot_path\": \"$d/d1\", \"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"$d/full.mem\"}, \"mem_diff_paths\": [\"$d/d1.mem\"], \"resume_vm\": true}")" = ' 204' ]
        wait_count_above "$d/api.out" $((c1 + 3))
        [ "$(first_count "$d/api.out")" -ge "$c1" ]
        [ "$(first_count "$d/api.out")" -le $((c1 + 100)) ]
        # without its Diff the newer state meets older memory: the guest sees it
        start_vmm bad --restore "$d/d2" --restore-mem "$d/full.mem" --restore-mem-diff "$d/d1.mem"
        for _ in $(seq 100); do grep -aq 'memory mismatch' "$d/bad.out" && break; sleep 0.1; done
        grep -aq 'memory mismatch' "$d/bad.out"
        # a Diff of another memory size is refused by name
        truncate -s 32M "$d/small.mem"
        run -1 timeout 20 "$BERTH_VMM" --restore "$d/d1" --restore-mem "$d/full.mem" \
                --restore-mem-diff "$d/small.mem" </dev/null
        assert_output_contains "made for another memory size"
        run -2 "$BERTH_VMM" --restore-mem-diff "$d/d1.mem"
        assert_output_contains "--restore-mem-diff needs --restore"
}

@test "vmm snapshot: a restored VMM tracks on, and its first Diff is relative to the snapshot it came from" {
        start_vmm src --kernel "$GUEST" --memory 64 --cmdline "guest.count=16" \
                --api-sock "$d/src.sock" --track-dirty-pages
        wait_sock "$d/src.sock"
        wait_count_above "$d/src.out" 3
        snap_at "$d/src.sock" Full full
        kill -KILL "$last_pid"
        # the restored VMM is the source now: its state file said track_dirty_pages
        mv "$d/src.out" "$d/first.out"
        rm -f "$d/src.sock"
        start_vmm src --restore "$d/full" --restore-mem "$d/full.mem" --api-sock "$d/src.sock"
        wait_sock "$d/src.sock"
        wait_count_above "$d/src.out" $((count + 3))
        snap_at "$d/src.sock" Diff d1
        c1=$count
        kill -KILL "$last_pid"
        start_vmm cli --restore "$d/d1" --restore-mem "$d/full.mem" --restore-mem-diff "$d/d1.mem"
        wait_count_above "$d/cli.out" $((c1 + 3))
        [ "$(first_count "$d/cli.out")" -ge "$c1" ]
        run grep -aq 'memory mismatch' "$d/cli.out"
        assert_failure
}

# Restore SNAP MEM on the command line: it must exit 1 with MSG on stderr, no crash.
refused_cli() {
        run -1 timeout 20 "$BERTH_VMM" --restore "$1" --restore-mem "$2" </dev/null
        [[ "$output" == *"$3"* ]] || { echo "want '$3' in: $output" >&2; return 1; }
}

@test "vmm snapshot: corrupt, truncated and mismatched snapshots are refused cleanly" {
        make_snapshot
        # a running VM is not snapshotted, and a second VMM's memory size differs
        [ "$(api "$d/src.sock" PATCH /vm '{"state": "Resumed"}')" = ' 204' ]
        [[ "$(api "$d/src.sock" PUT /snapshot/create "{\"snapshot_path\": \"$d/x\", \"mem_file_path\": \"$d/y\"}")" == *'pause it first'*' 400' ]]
        [ "$(api "$d/src.sock" PATCH /vm '{"state": "Paused"}')" = ' 204' ]
        [[ "$(api "$d/src.sock" PUT /snapshot/create "{\"snapshot_type\": \"Diff\", \"snapshot_path\": \"$d/x\", \"mem_file_path\": \"$d/y\"}")" == *'needs dirty page tracking'*' 400' ]]
        [[ "$(api "$d/src.sock" PUT /snapshot/create "{\"snapshot_type\": \"Half\", \"snapshot_path\": \"$d/x\", \"mem_file_path\": \"$d/y\"}")" == *'want Full or Diff'*' 400' ]]
        [ ! -e "$d/x" ] && [ ! -e "$d/y" ]
        kill -KILL "$src_pid"

        cp "$d/snap" "$d/flipped"
        printf '\xff' | dd of="$d/flipped" bs=1 seek=$(($(stat -c %s "$d/snap") / 2)) conv=notrunc 2>/dev/null
        refused_cli "$d/flipped" "$d/mem" 'snapshot corrupt: checksum mismatch'
        head -c 3000 "$d/snap" >"$d/short"
        refused_cli "$d/short" "$d/mem" 'snapshot truncated: 3000 of'
        refused_cli /dev/null "$d/mem" 'not a berth-vmm snapshot'
        printf 'hello' >"$d/text"
        refused_cli "$d/text" "$d/mem" 'not a berth-vmm snapshot'
        # memory from a 96 MiB guest beside the 64 MiB guest's state
        mv "$d/snap" "$d/snap64"
        mv "$d/mem" "$d/mem64"
        make_snapshot 96
        kill -KILL "$src_pid"
        refused_cli "$d/snap64" "$d/mem" 'holds 96 MiB, the snapshot'"'"'s VM has 64 MiB: made for another memory size'
        refused_cli "$d/snap" "$d/mem64" 'holds 64 MiB, the snapshot'"'"'s VM has 96 MiB'

        # a CPU feature this host's vCPUs lack, checksum made right again: the CPUID check
        python3 - "$d/snap64" "$d/cpu" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
off = 32
for _ in range(struct.unpack_from("<I", d, 12)[0]):
    name = d[off:off + 16].rstrip(b"\0")
    n = struct.unpack_from("<Q", d, off + 24)[0]
    if name == b"cpu.cpuid":
        for j in range(struct.unpack_from("<I", d, off + 32)[0]):
            e = off + 36 + 28 * j
            if struct.unpack_from("<I", d, e)[0] == 1:  # leaf 1: every ecx bit
                struct.pack_into("<I", d, e + 20, 0x7fffffff)
    off += 32 + n
h = 0xcbf29ce484222325
for b in bytes(d[:24]) + bytes(8) + bytes(d[32:]):
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
struct.pack_into("<Q", d, 24, h)
open(sys.argv[2], "wb").write(d)
PY
        refused_cli "$d/cpu" "$d/mem64" "this host's CPU lacks features the snapshot's guest uses: CPUID leaf 0x1"

        # through the API: 400 with the reason, and the VMM stays usable and exits cleanly
        start_vmm api --api-sock "$d/api.sock"
        api_pid=$last_pid
        wait_sock "$d/api.sock"
        load() { api "$d/api.sock" PUT /snapshot/load "{\"snapshot_path\": \"$1\", \"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"$2\"}, \"resume_vm\": true}"; }
        [[ "$(load "$d/flipped" "$d/mem64")" == *'checksum mismatch'*' 400' ]]
        [[ "$(load "$d/short" "$d/mem64")" == *'truncated'*' 400' ]]
        [[ "$(load "$d/snap64" "$d/mem")" == *'made for another memory size'*' 400' ]]
        [[ "$(load "$d/snap64" "$d/nonexistent")" == *'nonexistent'*' 400' ]]
        [[ "$(api "$d/api.sock" PUT /snapshot/load '{"snapshot_path": "x", "mem_backend": {"backend_type": "Uffd", "backend_path": "y"}}')" == *'only File'*' 400' ]]
        [[ "$(api "$d/api.sock" PUT /snapshot/load '{"snapshot_path": 1}')" == *'want {'*' 400' ]]
        [[ "$(api "$d/api.sock" GET /)" == *'"state":"Not started"'*' 200' ]]
        # and after all that, the good pair still loads in the same VMM
        [ "$(load "$d/snap64" "$d/mem64")" = ' 204' ]
        wait_count_above "$d/api.out" 3
        kill -TERM "$api_pid"
        st=0
        wait "$api_pid" || st=$?
        [ "$st" -eq 13 ] # stopped by the signal, not crashed
        run grep -qi 'sanitizer\|segfault\|core dumped' "$d"/*.log
        assert_failure
        # (--restore under --jail: vmm_jail.bats)
}

@test "vmm snapshot: virtio devices come along; the balloon answers the restored VMM; a resized disk is refused" {
        truncate -s 8M "$d/disk.img"
        rm -f "$d/src.sock"
        start_vmm src --kernel "$GUEST" --memory 64 --cmdline "guest.count=16" --disk "$d/disk.img" \
                --rng --vsock "5,$d/vsock" --balloon 0 --api-sock "$d/src.sock"
        src_pid=$last_pid
        wait_sock "$d/src.sock"
        local i
        for i in $(seq 200); do grep -q 'balloon: waiting for a target' "$d/src.out" && break; sleep 0.05; done
        grep -q 'blk: sector 1: written by the guest' "$d/src.out"
        [ "$(api "$d/src.sock" PATCH /vm '{"state": "Paused"}')" = ' 204' ]
        [ "$(api "$d/src.sock" PUT /snapshot/create "{\"snapshot_path\": \"$d/snap\", \"mem_file_path\": \"$d/mem\"}")" = ' 204' ]
        kill -KILL "$src_pid"
        wait "$src_pid" 2>/dev/null || true
        rm -f "$d/vsock" # a killed VMM leaves its vsock socket; the restored one makes it anew

        start_vmm dst --api-sock "$d/dst.sock"
        dst_pid=$last_pid
        wait_sock "$d/dst.sock"
        [ "$(api "$d/dst.sock" PUT /snapshot/load "{\"snapshot_path\": \"$d/snap\", \"mem_backend\": {\"backend_type\": \"File\", \"backend_path\": \"$d/mem\"}, \"resume_vm\": true}")" = ' 204' ]
        grep -q 'restored 1 vCPU(s), 64 MiB, 4 virtio device(s)' "$d/dst.log"
        # the guest, still waiting on the balloon it set up before the snapshot, sees the
        # restored device's target and inflates; then it goes on to count
        [ "$(api "$d/dst.sock" PATCH /balloon '{"amount_mib": 1}')" = ' 204' ]
        for i in $(seq 200); do grep -q 'balloon: inflated 256 pages' "$d/dst.out" && break; sleep 0.05; done
        grep -q 'balloon: inflated 256 pages' "$d/dst.out"
        [ "$(api "$d/dst.sock" GET /balloon)" = '{"amount_mib":1,"actual_mib":1} 200' ]
        [ "$(api "$d/dst.sock" PATCH /balloon '{"amount_mib": 0}')" = ' 204' ]
        wait_count_above "$d/dst.out" 3
        run grep -aq 'BERTH-GUEST boot:' "$d/dst.out"
        assert_failure
        kill -TERM "$dst_pid"
        wait "$dst_pid" || true

        # the disk grew since the snapshot: another configuration
        truncate -s 16M "$d/disk.img"
        rm -f "$d/vsock"
        refused_cli "$d/snap" "$d/mem" 'has 32768 sectors, the snapshot'"'"'s had 16384: made for another configuration'
}

@test "vmm snapshot: two vCPUs, the second started by INIT/SIPI, come along" {
        rm -f "$d/src.sock"
        start_vmm src --kernel "$GUEST" --memory 64 --cpus 2 --cmdline "guest.count=16" \
                --api-sock "$d/src.sock"
        src_pid=$last_pid
        wait_sock "$d/src.sock"
        wait_count_above "$d/src.out" 0
        grep -q 'smp: ap 1 started' "$d/src.out"
        [ "$(api "$d/src.sock" PATCH /vm '{"state": "Paused"}')" = ' 204' ]
        sleep 0.2
        count=$(last_count "$d/src.out")
        [ "$(api "$d/src.sock" PUT /snapshot/create "{\"snapshot_path\": \"$d/snap\", \"mem_file_path\": \"$d/mem\"}")" = ' 204' ]
        kill -KILL "$src_pid"
        start_vmm cli --restore "$d/snap" --restore-mem "$d/mem"
        wait_count_above "$d/cli.out" "$count"
        [ "$(first_count "$d/cli.out")" -ge "$count" ]
        grep -q 'restored 2 vCPU(s)' "$d/cli.log"
}
