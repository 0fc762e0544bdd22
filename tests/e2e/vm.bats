#!/usr/bin/env bats
# vm.bats — `berth vm`: libvirt's everyday verbs over berth-vmm, with the
# freestanding test guest (tests/guest) in its resident mode (guest.idle=1:
# a tick counter, a power-button handler that powers off, Ctrl+Alt+Del
# reboots).  Linux cannot boot on this kvm_pvm host; the test guest can.
load helpers
load lib/vm

IDLE="console=ttyS0 guest.idle=1"

setup() {
        vm_require
        vm_state
}

teardown() {
        # a test that changed the host's 2 MiB page pool gives it back
        [ -z "${hugepages_before:-}" ] || echo "$hugepages_before" >/proc/sys/vm/nr_hugepages
        if [ -n "${svc:-}" ]; then
                kill -TERM "$svc" 2>/dev/null || true
                wait "$svc" 2>/dev/null || true
        fi
        vm_teardown
}

console_log() {
        echo "$BERTH_DATA_DIR/vms/$1/console.log"
}

# wait_console NAME PATTERN [TENTHS]: until the guest printed PATTERN.
wait_console() {
        local i
        for ((i = 0; i < ${3:-100}; i++)); do
                grep -q "$2" "$(console_log "$1")" 2>/dev/null && return 0
                sleep 0.1
        done
        echo "timed out waiting for '$2' on $1's console:" >&2
        cat "$(console_log "$1")" >&2
        return 1
}

ticks() {
        grep -c '^BERTH-GUEST tick' "$(console_log "$1")"
}

# state_of NAME: the STATE column of `vm ls --all`.
state_of() {
        "$BERTH" vm ls --all | awk -v n="$1" '$2 == n { print ($3 == "shut" ? "shut off" : $3) }'
}

@test "vm: the virsh flow: create, ls, start, console, suspend/resume, shutdown, start, destroy, rm" {
        vm create vm1 --kernel "$GUEST" --memory 64 --cmdline "$IDLE"
        assert_success
        [ -f "$BERTH_DATA_DIR/vms/vm1/config.json" ]
        run jq -r '."boot-source".kernel_image_path, ."machine-config".mem_size_mib' \
                "$BERTH_DATA_DIR/vms/vm1/config.json"
        [ "$output" = "$(realpath "$GUEST")
64" ]
        vm ls
        assert_success
        refute_output_contains vm1
        [ "$(state_of vm1)" = "shut off" ]

        vm start vm1
        assert_success
        [ "$(state_of vm1)" = "running" ]
        vm ls
        [[ "$output" == *"vm1"*"running"* ]]
        wait_console vm1 "BERTH-GUEST tick 2"
        # The console replays recent output and streams what follows.
        run timeout 2 "$BERTH" vm console vm1 </dev/null
        [[ "$output" == *"BERTH-GUEST idle: power button 0xd0100000"* ]]
        [[ "$output" == *"BERTH-GUEST tick"* ]]

        # Suspended: the counter stops; resumed: it goes on.  The pause has
        # answered only once the vCPU left KVM_RUN: its thread already
        # sleeps on the pause's condition variable (a futex).
        vmm=$(jq -r .State.Pid < <("$BERTH" vm inspect vm1))
        vm suspend vm1
        assert_success
        tid=$(grep -l '^vcpu0$' /proc/$vmm/task/*/comm | cut -d/ -f5)
        [ "$(awk '{print $3}' /proc/$vmm/task/$tid/stat)" = S ]
        grep -q futex /proc/$vmm/task/$tid/wchan
        [ "$(state_of vm1)" = "paused" ]
        a=$(ticks vm1)
        sleep 1
        [ "$(ticks vm1)" = "$a" ]
        vm resume vm1
        assert_success
        [ "$(state_of vm1)" = "running" ]
        wait_console vm1 "BERTH-GUEST tick $((a + 2))"

        # Shutdown: the guest sees the power button and powers off by itself.
        vm shutdown vm1 --timeout 20
        assert_success
        grep -q "BERTH-GUEST power button: powering off" "$(console_log vm1)"
        grep -q "BERTH-GUEST exit: poweroff" "$(console_log vm1)"
        [ "$(state_of vm1)" = "shut off" ]
        run jq -r '.State.Reason, .State.ExitCode' < <("$BERTH" vm inspect vm1)
        [ "$output" = "shutdown: the guest powered off
0" ]

        vm start vm1
        assert_success
        [ "$(state_of vm1)" = "running" ]
        vm destroy vm1
        assert_success
        [ "$(state_of vm1)" = "shut off" ]
        run jq -r '.State.Reason' < <("$BERTH" vm inspect vm1)
        [ "$output" = "destroyed" ]
        [ ! -e "$BERTH_RUN_DIR/vms/vm1/api.sock" ]

        vm rm vm1
        assert_success
        [ ! -e "$BERTH_DATA_DIR/vms/vm1" ]
        vm ls --all
        refute_output_contains vm1
}

@test "vm: shutdown --timeout 1 --force on a guest that ignores the button ends in destroy" {
        "$BERTH" vm create deaf --kernel "$GUEST" --memory 32 --cmdline "$IDLE guest.power=ignore"
        "$BERTH" vm start deaf
        wait_console deaf "BERTH-GUEST tick 1"
        # Without --force: the VM stays, and the command says why.
        vm shutdown deaf --timeout 1
        [ "$status" -eq 125 ]
        assert_output_contains "did not shut down within 1 s"
        [ "$(state_of deaf)" = "running" ]
        vm shutdown deaf --timeout 1 --force
        assert_success
        grep -q "BERTH-GUEST power button: ignored" "$(console_log deaf)"
        [ "$(state_of deaf)" = "shut off" ]
        run jq -r '.State.Reason' < <("$BERTH" vm inspect deaf)
        [ "$output" = "destroyed" ]
}

@test "vm: kill -9 of a VM's berth-vmm: vm ls says crashed, and it starts again" {
        "$BERTH" vm create crashy --kernel "$GUEST" --memory 32 --cmdline "$IDLE"
        "$BERTH" vm start crashy
        wait_console crashy "BERTH-GUEST tick 0"
        pid=$(jq -r .State.Pid < <("$BERTH" vm inspect crashy))
        [ "$pid" -gt 0 ]
        [ "$(cat /proc/$pid/comm)" = "berth-vmm" ]
        kill -KILL "$pid"
        for ((i = 0; i < 50; i++)); do
                [ "$(state_of crashy)" = "crashed" ] && break
                sleep 0.1
        done
        [ "$(state_of crashy)" = "crashed" ]
        run jq -r '.State.Reason' < <("$BERTH" vm inspect crashy)
        [ "$output" = "berth-vmm was killed by signal 9" ]
        vm start crashy
        assert_success
        [ "$(state_of crashy)" = "running" ]
}

@test "vm: kill -9 of the VMM and its supervisor: the next reader reconciles to crashed" {
        "$BERTH" vm create orphan --kernel "$GUEST" --memory 32 --cmdline "$IDLE"
        "$BERTH" vm start orphan
        read -r pid sup < <(jq -r '"\(.State.Pid) \(.State.SupervisorPid)"' < <("$BERTH" vm inspect orphan))
        kill -KILL "$sup"
        kill -KILL "$pid"
        sleep 0.2
        [ "$(state_of orphan)" = "crashed" ]
        run jq -r '.State.Reason' < <("$BERTH" vm inspect orphan)
        assert_output_contains "died without its exit being recorded"
}

@test "vm: reboot: the guest takes Ctrl+Alt+Del, and the VM comes back by itself" {
        "$BERTH" vm create rb --kernel "$GUEST" --memory 32 --cmdline "$IDLE"
        "$BERTH" vm start rb
        wait_console rb "BERTH-GUEST tick 0"
        pid=$(jq -r .State.Pid < <("$BERTH" vm inspect rb))
        vm reboot rb
        assert_success
        wait_console rb "BERTH-GUEST ctrl-alt-del: rebooting"
        for ((i = 0; i < 50; i++)); do
                [ "$(grep -c 'BERTH-GUEST boot: pvh' "$(console_log rb)")" -ge 2 ] && break
                sleep 0.1
        done
        [ "$(grep -c 'BERTH-GUEST boot: pvh' "$(console_log rb)")" -ge 2 ]
        [ "$(state_of rb)" = "running" ]
        new=$(jq -r .State.Pid < <("$BERTH" vm inspect rb))
        [ "$new" != "$pid" ]
        # --force resets without asking the guest.
        vm reboot rb --force
        assert_success
        for ((i = 0; i < 50; i++)); do
                [ "$(grep -c 'BERTH-GUEST boot: pvh' "$(console_log rb)")" -ge 3 ] && break
                sleep 0.1
        done
        [ "$(grep -c 'BERTH-GUEST boot: pvh' "$(console_log rb)")" -ge 3 ]
        [ "$(state_of rb)" = "running" ]
}

@test "vm: a VMM that dies before its API answers after a reset: crashed, and the supervisor ends" {
        cp "$GUEST" "$BATS_TEST_TMPDIR/kernel.elf"
        "$BERTH" vm create gone --kernel "$BATS_TEST_TMPDIR/kernel.elf" --memory 32 --cmdline "$IDLE"
        "$BERTH" vm start gone
        wait_console gone "BERTH-GUEST tick 0"
        sup=$(jq -r .State.SupervisorPid < <("$BERTH" vm inspect gone))
        [ "$sup" -gt 0 ]
        # The restarted VMM finds no kernel and exits at once.
        rm "$BATS_TEST_TMPDIR/kernel.elf"
        vm reboot gone --force
        assert_success
        for ((i = 0; i < 100; i++)); do
                kill -0 "$sup" 2>/dev/null || break
                sleep 0.1
        done
        run kill -0 "$sup"
        assert_failure
        [ "$(state_of gone)" = "crashed" ]
        run jq -r '.State.Reason' < <("$BERTH" vm inspect gone)
        assert_output_contains "berth-vmm exited with status"
}

@test "vm: without ACPI, shutdown asks through Ctrl+Alt+Del" {
        "$BERTH" vm create legacy --kernel "$GUEST" --memory 32 --cmdline "$IDLE" --no-acpi
        "$BERTH" vm start legacy
        wait_console legacy "BERTH-GUEST idle: power button none"
        vm shutdown legacy --timeout 20
        assert_success
        grep -q "BERTH-GUEST ctrl-alt-del: rebooting" "$(console_log legacy)"
        [ "$(state_of legacy)" = "shut off" ]
        run jq -r '.State.Reason' < <("$BERTH" vm inspect legacy)
        [ "$output" = "shutdown: the guest rebooted" ]
}

@test "vm: bad input: a clear message, exit 125, nothing left behind" {
        vm create nok --kernel /nonexistent/vmlinux
        [ "$status" -eq 125 ]
        assert_output_contains "kernel \`/nonexistent/vmlinux\`"
        [ -z "$(ls -A "$BERTH_DATA_DIR/vms")" ]

        vm create huge --kernel "$GUEST" --memory 100000000
        [ "$status" -eq 125 ]
        assert_output_contains "more than the host has"
        [ -z "$(ls -A "$BERTH_DATA_DIR/vms")" ]

        vm create "bad/name" --kernel "$GUEST"
        [ "$status" -eq 125 ]
        assert_output_contains "invalid VM name"

        vm create one --kernel "$GUEST" --memory 32 --cmdline "$IDLE"
        assert_success
        vm create one --kernel "$GUEST" --memory 32
        [ "$status" -eq 125 ]
        assert_output_contains "already in use"

        vm start ghost
        [ "$status" -eq 125 ]
        assert_output_contains "no such VM: ghost"
        vm destroy ghost
        [ "$status" -eq 125 ]
        vm destroy one
        [ "$status" -eq 125 ]
        assert_output_contains "is not running"

        vm start one
        assert_success
        vm start one
        [ "$status" -eq 125 ]
        assert_output_contains "already running"
        [ "$(state_of one)" = "running" ]
        vm rm one
        [ "$status" -eq 125 ]
        assert_output_contains "already running"
}

@test "vm: a disk used read-write by a running VM is refused to another; overlays share a read-only base" {
        truncate -s 16M "$BATS_TEST_TMPDIR/shared.raw"
        truncate -s 16M "$BATS_TEST_TMPDIR/base.raw"
        printf 'base image\n' | dd of="$BATS_TEST_TMPDIR/base.raw" conv=notrunc status=none
        sum=$(sha256sum <"$BATS_TEST_TMPDIR/base.raw")
        "$BERTH" vm create a --kernel "$GUEST" --memory 32 --cmdline "$IDLE" \
                --disk "$BATS_TEST_TMPDIR/shared.raw"
        "$BERTH" vm create b --kernel "$GUEST" --memory 32 --cmdline "$IDLE" \
                --disk "$BATS_TEST_TMPDIR/shared.raw"
        "$BERTH" vm start a
        vm start b
        [ "$status" -eq 125 ]
        assert_output_contains "is in use by running VM \`a\`"
        [ "$(state_of b)" = "shut off" ]
        [ ! -e "$BERTH_RUN_DIR/vms/b/api.sock" ]

        # Overlays: each VM writes its own qcow2; the base is only read.
        for n in o1 o2 o3; do
                "$BERTH" vm create "$n" --kernel "$GUEST" --memory 32 --cmdline "$IDLE" \
                        --disk "$BATS_TEST_TMPDIR/base.raw,overlay"
                [ -f "$BERTH_DATA_DIR/vms/$n/disk0.qcow2" ]
                vm start "$n"
                assert_success
        done
        for n in o1 o2 o3; do
                wait_console "$n" "BERTH-GUEST blk: write"
        done
        vm ls
        [ "$(grep -c running <<<"$output")" -eq 4 ]
        # Using the base read-write while overlays read it is refused too.
        "$BERTH" vm create rwbase --kernel "$GUEST" --memory 32 --disk "$BATS_TEST_TMPDIR/base.raw"
        vm start rwbase
        [ "$status" -eq 125 ]
        assert_output_contains "is in use by running VM"
        for n in o1 o2 o3; do
                "$BERTH" vm destroy "$n"
        done
        [ "$(sha256sum <"$BATS_TEST_TMPDIR/base.raw")" = "$sum" ]
        vm rm o1
        assert_success
        [ ! -e "$BERTH_DATA_DIR/vms/o1" ]
        [ -f "$BATS_TEST_TMPDIR/base.raw" ]
}

@test "vm: vcpupin and emulatorpin move the VMM's threads (Cpus_allowed_list), now and at the next start; stats count VM exits" {
        [ "$(nproc)" -ge 2 ] || skip "needs 2 host CPUs"
        "$BERTH" vm create pin --kernel "$GUEST" --memory 32 --cpus 2 --cmdline "$IDLE"
        "$BERTH" vm start pin
        wait_console pin "BERTH-GUEST tick 0"
        pid=$(jq -r .State.Pid < <("$BERTH" vm inspect pin))
        vm vcpupin pin 1 1
        assert_success
        tid=$(grep -l '^vcpu1$' /proc/$pid/task/*/comm | cut -d/ -f5)
        [ -n "$tid" ]
        grep -q '^Cpus_allowed_list:[[:space:]]*1$' /proc/$pid/task/$tid/status
        vm vcpupin pin 0 0
        assert_success
        tid0=$(grep -l '^vcpu0$' /proc/$pid/task/*/comm | cut -d/ -f5)
        grep -q '^Cpus_allowed_list:[[:space:]]*0$' /proc/$pid/task/$tid0/status
        vm vcpupin pin 7 0
        [ "$status" -eq 125 ]
        assert_output_contains "has no vCPU 7"
        vm vcpupin pin 0 0-x
        [ "$status" -eq 125 ]
        assert_output_contains "CPU list \`0-x\`"
        vm emulatorpin pin 1
        assert_success
        grep -q '^Cpus_allowed_list:[[:space:]]*1$' /proc/$pid/status
        grep -q '^Cpus_allowed_list:[[:space:]]*0$' /proc/$pid/task/$tid0/status
        # Kept in the definition: a new VMM gets them at start.
        "$BERTH" vm destroy pin
        "$BERTH" vm start pin
        pid=$(jq -r .State.Pid < <("$BERTH" vm inspect pin))
        tid=$(grep -l '^vcpu1$' /proc/$pid/task/*/comm | cut -d/ -f5)
        grep -q '^Cpus_allowed_list:[[:space:]]*1$' /proc/$pid/task/$tid/status
        grep -q '^Cpus_allowed_list:[[:space:]]*1$' /proc/$pid/status
        vm stats pin
        assert_success
        run jq -r '.VmExits.io > 0, (.Vcpus | length), .RssKiB > 0' <<<"$output"
        [ "$output" = "true
2
true" ]
}

@test "vm: setmem inflates the guest's balloon" {
        "$BERTH" vm create bal --kernel "$GUEST" --memory 32 --balloon --cmdline "$IDLE"
        "$BERTH" vm start bal
        wait_console bal "balloon: waiting for a target"
        vm setmem bal 64
        [ "$status" -eq 125 ]
        assert_output_contains "not between 1 and its 32 MiB"
        vm setmem bal 31
        assert_success
        # The test guest polls its config space slowly on this host.
        wait_console bal "BERTH-GUEST balloon: inflated 256 pages" 600
        run jq -r '.Balloon.target_mib' < <("$BERTH" vm stats bal)
        [ "$output" = 1 ]
        vm setmem bal 32
        assert_success
        wait_console bal "BERTH-GUEST balloon: deflated 256 pages; they came back zeroed" 600
}

@test "vm: --max-memory: the guest gets the ceiling, its balloon holds back the rest from the start, setmem moves within it" {
        "$BERTH" vm create maxm --kernel "$GUEST" --memory 32 --max-memory 40 --cmdline "$IDLE"
        [ "$(state_of maxm)" = "shut off" ]
        "$BERTH" vm ls --all | grep -q 'maxm .* 32MiB'
        "$BERTH" vm start maxm
        # 8 MiB held back at boot: the guest inflates by itself
        wait_console maxm "BERTH-GUEST balloon: inflated 2048 pages" 600
        run jq -r '.Balloon.target_mib, .MemoryMiB' < <("$BERTH" vm stats maxm)
        [ "$output" = "8
40" ]
        vm setmem maxm 48
        [ "$status" -eq 125 ]
        assert_output_contains "not between 1 and its 40 MiB"
        vm setmem maxm 40
        assert_success
        wait_console maxm "BERTH-GUEST balloon: deflated 2048 pages; they came back zeroed" 600
        vm create maxbad --kernel "$GUEST" --memory 32 --max-memory 16
        [ "$status" -eq 125 ]
        assert_output_contains "--max-memory 16 MiB: want at least --memory"
}

@test "vm: autostart VMs are started by berth system service, and come back after a kill -9" {
        "$BERTH" vm create auto --kernel "$GUEST" --memory 32 --cmdline "$IDLE"
        "$BERTH" vm create manual --kernel "$GUEST" --memory 32 --cmdline "$IDLE"
        vm autostart auto
        assert_success
        vm ls --all
        [[ "$output" == *"auto "*"shut off"*"yes"* ]]
        "$BERTH" system service --no-api --interval 200ms \
                >"$BATS_TEST_TMPDIR/service.log" 2>&1 &
        svc=$!
        for ((i = 0; i < 100; i++)); do
                [ "$(state_of auto)" = "running" ] && break
                sleep 0.1
        done
        [ "$(state_of auto)" = "running" ]
        [ "$(state_of manual)" = "shut off" ]
        pid=$(jq -r .State.Pid < <("$BERTH" vm inspect auto))
        kill -KILL "$pid"
        for ((i = 0; i < 100; i++)); do
                new=$(jq -r .State.Pid < <("$BERTH" vm inspect auto))
                [ "$(state_of auto)" = "running" ] && [ "$new" != "$pid" ] && break
                sleep 0.1
        done
        kill -TERM "$svc"
        wait "$svc" || true
        [ "$(state_of auto)" = "running" ]
        [ "$new" != "$pid" ]
        # --disable: a crash is left alone.
        vm autostart auto --disable
        assert_success
        run jq -r .Metadata.Autostart < <("$BERTH" vm inspect auto)
        [ "$output" = false ]
}

@test "vm: 20 VMs defined, 10 running on overlays of one base: vm ls is right and fast, the base untouched" {
        truncate -s 16M "$BATS_TEST_TMPDIR/base.raw"
        printf 'base image\n' | dd of="$BATS_TEST_TMPDIR/base.raw" conv=notrunc status=none
        sum=$(sha256sum <"$BATS_TEST_TMPDIR/base.raw")
        for i in $(seq -w 1 20); do
                "$BERTH" vm create "v$i" --kernel "$GUEST" --memory 16 --cmdline "$IDLE" \
                        --disk "$BATS_TEST_TMPDIR/base.raw,overlay" >/dev/null
        done
        for i in $(seq -w 1 10); do
                "$BERTH" vm start "v$i" >/dev/null
        done
        start=$(date +%s%N)
        vm ls --all
        took=$((($(date +%s%N) - start) / 1000000))
        assert_success
        [ "$(grep -c ' running ' <<<"$output")" -eq 10 ]
        [ "$(grep -c ' shut off ' <<<"$output")" -eq 10 ]
        echo "# vm ls --all with 20 VMs (10 running): $took ms" >&3
        [ "$took" -lt 1000 ]
        vm ls -q
        [ "$output" = "$(seq -w 1 10 | sed 's/^/v/')" ]
        for i in $(seq -w 1 10); do
                wait_console "v$i" "BERTH-GUEST blk: write"
        done
        for i in $(seq -w 1 10); do
                "$BERTH" vm destroy "v$i" >/dev/null
        done
        [ "$(sha256sum <"$BATS_TEST_TMPDIR/base.raw")" = "$sum" ]
        # Each wrote its own overlay.
        [ "$(du -k "$BERTH_DATA_DIR/vms/v01/disk0.qcow2" | cut -f1)" -gt 0 ]
}

@test "vm: console on a terminal: guest output live, Ctrl+] detaches, the VM runs on" {
        require_cmd python3
        "$BERTH" vm create tty --kernel "$GUEST" --memory 32 --cmdline "$IDLE"
        "$BERTH" vm start tty
        wait_console tty "BERTH-GUEST tick 0"
        run python3 - "$BERTH" <<'PY'
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "vm", "console", "tty"])
def read_for(secs):
    out, end = b"", time.time() + secs
    while time.time() < end:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
    return out
out = read_for(1.5)
os.write(fd, b"\x1d")
out += read_for(2)
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
print("\nexit", os.waitstatus_to_exitcode(status))
PY
        assert_output_contains "Connected to VM tty (detach: Ctrl+])"
        assert_output_contains "BERTH-GUEST tick"
        assert_output_contains "Detached from VM tty"
        assert_output_contains "exit 0"
        [ "$(state_of tty)" = "running" ]
}

@test "vm: define --config takes a whole Firecracker-shaped config as the definition" {
        cat >"$BATS_TEST_TMPDIR/fc.json" <<JSON
{"boot-source": {"kernel_image_path": "$GUEST", "boot_args": "$IDLE"},
 "machine-config": {"vcpu_count": 1, "mem_size_mib": 32}}
JSON
        vm define fc --config "$BATS_TEST_TMPDIR/fc.json"
        assert_success
        vm start fc
        assert_success
        wait_console fc "BERTH-GUEST tick 0"
        run jq -r '.Config."machine-config".mem_size_mib' < <("$BERTH" vm inspect fc)
        [ "$output" = 32 ]
        "$BERTH" vm destroy fc
        # A config naming a missing kernel, or mixed with flags: refused, nothing made.
        sed "s|$GUEST|/nonexistent/kernel|" "$BATS_TEST_TMPDIR/fc.json" >"$BATS_TEST_TMPDIR/bad.json"
        vm define bad --config "$BATS_TEST_TMPDIR/bad.json"
        [ "$status" -eq 125 ]
        assert_output_contains "kernel \`/nonexistent/kernel\`"
        vm define bad2 --config "$BATS_TEST_TMPDIR/fc.json" --memory 64
        [ "$status" -eq 125 ]
        assert_output_contains "--config is the whole definition"
        [ "$(ls "$BERTH_DATA_DIR/vms")" = fc ]
}

@test "vm: a started VM is jailed (its own pid namespace, uid 65534, no capabilities, seccomp, only its files) and in a cgroup of its own; --no-jail opts out" {
        [ "$(id -u)" = 0 ] || skip "the jail's dedicated uid and the VM's cgroup need root"
        truncate -s 64K "$BATS_TEST_TMPDIR/disk.raw"
        vm create jl --kernel "$GUEST" --memory 32 --cpus 2 --cmdline "$IDLE" \
                --disk "$BATS_TEST_TMPDIR/disk.raw" --cpu-shares 512 --cpu-quota 50000 --memory-limit 96
        assert_success
        vm start jl
        assert_success
        wait_console jl "BERTH-GUEST tick 0"
        run jq -r '.State.Jailed, .State.Cgroup' < <("$BERTH" vm inspect jl)
        [ "$output" = "true
/berth/vms/jl" ]
        pid=$(jq -r .State.Pid < <("$BERTH" vm inspect jl))
        st=$(cat "/proc/$pid/status")
        echo "$st" | grep -E '^(NSpid|Uid|Gid|Seccomp|NoNewPrivs|CapEff|CapBnd)'
        # pid 1 of its own namespace, seen by its host pid (the one vm pins and signals)
        grep -q $'^NSpid:\t'"$pid"$'\t1$' <<<"$st"
        grep -qx $'Seccomp:\t2' <<<"$st"
        grep -qx $'NoNewPrivs:\t1' <<<"$st"
        grep -qx $'CapEff:\t0000000000000000' <<<"$st"
        grep -qx $'CapBnd:\t0000000000000000' <<<"$st"
        [ "$(awk '/^Uid:/ {print $2}' <<<"$st")" = 65534 ]
        for t in /proc/$pid/task/*; do
                grep -qx $'Seccomp:\t2' "$t/status"
                grep -qx $'CapEff:\t0000000000000000' "$t/status"
        done
        # Its root: the kernel, the disk, /dev/kvm and its run directory's sockets; nothing else.
        found=$(cd "/proc/$pid/root" && find . \( -type f -o -type c -o -type s \) | sort)
        rundir="$BERTH_RUN_DIR/vms/jl" # as berth names it to the VMM
        expected=$(printf '%s\n' ./dev/kvm ".$(realpath "$GUEST")" ".$(realpath "$BATS_TEST_TMPDIR/disk.raw")" \
                ".$rundir/api.sock" ".$rundir/api.sock.fd" ".$rundir/console.sock" | sort)
        echo "found: $found"
        [ "$found" = "$expected" ]
        [ ! -e "/proc/$pid/root/etc/passwd" ]
        # vcpupin and stats reach its threads through the host pid.
        vm vcpupin jl 1 0
        assert_success
        tid=$(grep -l '^vcpu1$' /proc/$pid/task/*/comm | cut -d/ -f5)
        grep -q '^Cpus_allowed_list:[[:space:]]*0$' "/proc/$pid/task/$tid/status"
        # The cgroup: every thread of the VMM, with the definition's limits.
        grep -q ':/berth/vms/jl$' "/proc/$pid/cgroup"
        if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
                cg=/sys/fs/cgroup/berth/vms/jl
                [ "$(cat $cg/cpu.max)" = "50000 100000" ]
                [ "$(cat $cg/memory.max)" = $((96 << 20)) ]
                [ "$(wc -l <$cg/cgroup.threads)" = "$(ls /proc/$pid/task | wc -l)" ]
        else
                [ "$(cat /sys/fs/cgroup/cpu/berth/vms/jl/cpu.shares)" = 512 ]
                [ "$(cat /sys/fs/cgroup/cpu/berth/vms/jl/cpu.cfs_quota_us)" = 50000 ]
                [ "$(cat /sys/fs/cgroup/memory/berth/vms/jl/memory.limit_in_bytes)" = $((96 << 20)) ]
                [ "$(wc -l </sys/fs/cgroup/cpu/berth/vms/jl/tasks)" = "$(ls /proc/$pid/task | wc -l)" ]
        fi
        vm stats jl
        assert_success
        run jq -r '.Cgroup.Path, .Cgroup.MemoryBytes > 0' <<<"$output"
        [ "$output" = "/berth/vms/jl
true" ]
        vm destroy jl
        assert_success
        [ ! -e "$BERTH_RUN_DIR/vms/jl/api.sock" ] && [ ! -e "$BERTH_RUN_DIR/vms/jl/api.sock.fd" ]
        [ -z "$(ls -A "$BERTH_RUN_DIR/vmm")" ]
        [ ! -e /sys/fs/cgroup/cpu/berth/vms/jl ] && [ ! -e /sys/fs/cgroup/berth/vms/jl ]
        # Limits it could not honour are refused at create.
        vm create bad --kernel "$GUEST" --memory 64 --memory-limit 70
        [ "$status" -eq 125 ]
        assert_output_contains "--memory-limit 70 MiB"

        vm create nj --kernel "$GUEST" --memory 32 --cmdline "$IDLE" --no-jail
        assert_success
        vm start nj
        assert_success
        wait_console nj "BERTH-GUEST tick 0"
        [ "$(jq -r .State.Jailed < <("$BERTH" vm inspect nj))" = false ]
        pid=$(jq -r .State.Pid < <("$BERTH" vm inspect nj))
        grep -qx $'Seccomp:\t0' "/proc/$pid/status"
        grep -q $'^NSpid:\t'"$pid"'$' "/proc/$pid/status"
        grep -q "berth-vmm runs without --jail: its definition says --no-jail" \
                "$BERTH_DATA_DIR/vms/nj/vmm.log"
}

@test "vm: numatune binds guest RAM to the node (numa_maps) and places the vCPUs on its CPUs, from the next start" {
        [ -r /sys/devices/system/node/node0/cpulist ] || skip "no NUMA node 0 in sysfs"
        "$BERTH" vm create nt --kernel "$GUEST" --memory 32 --cpus 2 --cmdline "$IDLE"
        vm numatune nt --nodeset 0 --mode strict
        assert_success
        run jq -r '.Nodeset, .Mode, .AppliesAtNextStart' <<<"$output"
        [ "$output" = "0
strict
false" ]
        "$BERTH" vm start nt
        wait_console nt "BERTH-GUEST tick 0"
        pid=$(jq -r .State.Pid < <("$BERTH" vm inspect nt))
        grep 'bind:0' "/proc/$pid/numa_maps"
        cpus=$(cat /sys/devices/system/node/node0/cpulist)
        for n in 0 1; do
                tid=$(grep -l "^vcpu$n\$" /proc/$pid/task/*/comm | cut -d/ -f5)
                grep -q "^Cpus_allowed_list:[[:space:]]*$cpus\$" "/proc/$pid/task/$tid/status"
        done
        # Changed while it runs: at the next start.
        vm numatune nt --nodeset 0 --mode interleave
        assert_success
        [ "$(jq -r .AppliesAtNextStart <<<"$output")" = true ]
        "$BERTH" vm destroy nt
        "$BERTH" vm start nt
        pid=$(jq -r .State.Pid < <("$BERTH" vm inspect nt))
        grep 'interleave:0' "/proc/$pid/numa_maps"
        vm numatune nt --nodeset 99
        [ "$status" -eq 125 ]
        assert_output_contains "no NUMA node 99"
        vm numatune nt --nodeset 0 --mode sometimes
        [ "$status" -eq 125 ]
        assert_output_contains "--mode \`sometimes\`"
}

@test "vm: --memory-backing hugepages: guest RAM in 2 MiB pages from the host's pool; a short pool refuses the start" {
        require_root
        [ -w /proc/sys/vm/nr_hugepages ] || skip "no hugetlb pool here (/proc/sys/vm/nr_hugepages)"
        hugepages_before=$(cat /proc/sys/vm/nr_hugepages)
        echo $((hugepages_before + 40)) >/proc/sys/vm/nr_hugepages
        [ "$(cat /proc/sys/vm/nr_hugepages)" -ge $((hugepages_before + 32)) ] ||
                skip "the host could not make 32 more 2 MiB pages"
        vm create hp --kernel "$GUEST" --memory 64 --cmdline "$IDLE" --memory-backing hugepages
        assert_success
        vm inspect hp
        [[ "$output" == *'"huge_pages": "2M"'* ]]
        vm start hp
        assert_success
        wait_console hp "BERTH-GUEST tick 2"
        pid=$("$BERTH" vm inspect hp | jq .State.Pid)
        # the guest's RAM is one mapping of 2 MiB pages, all of it reserved from the pool
        grep -q 'KernelPageSize: *2048 kB' "/proc/$pid/smaps"
        local free rsvd
        free=$(awk '/^HugePages_Free/ {print $2}' /proc/meminfo)
        rsvd=$(awk '/^HugePages_Rsvd/ {print $2}' /proc/meminfo)
        [ $((free - rsvd)) -le $((hugepages_before + 40 - 32)) ]
        vm destroy hp
        assert_success
        # the pool back as it was once the VMM's pages are (a process going away frees them
        # last): too short for the VM, whose start says so
        local i
        for i in $(seq 100); do
                [ "$(awk '/^HugePages_(Total|Free):/ {print $2}' /proc/meminfo | uniq | wc -l)" = 1 ] &&
                        break
                sleep 0.1
        done
        echo "$hugepages_before" >/proc/sys/vm/nr_hugepages
        [ "$(cat /proc/sys/vm/nr_hugepages)" = "$hugepages_before" ]
        if [ "$hugepages_before" -lt 32 ]; then
                vm start hp
                [ "$status" -eq 125 ]
                assert_output_contains "2 MiB huge pages"
                assert_output_contains "nr_hugepages"
                vm ls --all
                [[ "$output" == *hp*"shut off"* ]]
        fi
        # whole 2 MiB pages only, and no balloon to give 4 KiB back
        vm create hp2 --kernel "$GUEST" --memory 63 --memory-backing hugepages
        [ "$status" -eq 125 ]
        assert_output_contains "even number of MiB"
        vm create hp3 --kernel "$GUEST" --memory 64 --memory-backing hugepages --balloon
        [ "$status" -eq 125 ]
        assert_output_contains "no balloon"
        vm ls --all
        [[ "$output" != *hp2* && "$output" != *hp3* ]]
}
