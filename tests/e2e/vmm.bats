#!/usr/bin/env bats
# vmm.bats — berth-vmm boots the freestanding test guest (tests/guest) and
# we check what the guest printed on its serial console against what the
# VMM built, plus exit statuses and bad input.
load helpers

GUEST="$BERTH_BUILD/tests/guest/berth-test-guest.elf"
GUEST_BZ="$BERTH_BUILD/tests/guest/berth-test-guest.bzImage"

setup() {
        require_kvm
        [ -x "$BERTH_VMM" ] || skip "berth-vmm not built"
        [ -f "$GUEST" ] || skip "test guest not built"
        # BERTH_VMM_JAIL=1: every VMM of this file runs with --jail
        # (vmm_jail.bats runs the device cases so).
        if [ -n "${BERTH_VMM_JAIL:-}" ]; then
                printf '#!/bin/sh\nexec %q --jail "$@"\n' "$BERTH_VMM" >"$BATS_TEST_TMPDIR/berth-vmm"
                chmod +x "$BATS_TEST_TMPDIR/berth-vmm"
                BERTH_VMM="$BATS_TEST_TMPDIR/berth-vmm"
        fi
}

teardown() {
        # A VMM a test left running (it failed early) is stopped by its pid.
        if [ -n "${pid:-}" ] && kill -0 "$pid" 2>/dev/null; then
                # pid is often `timeout`: its berth-vmm child would outlive a
                # SIGKILL to it (a jailed one's VMM dies with its supervisor)
                pkill -KILL -P "$pid" 2>/dev/null || true
                kill -KILL "$pid" 2>/dev/null || true
        fi
        # A namespace a test made is removed even when the test failed.
        if [ -n "${ns:-}" ]; then
                ip netns del "$ns" 2>/dev/null || true
        fi
}

vmm() {
        run timeout 20 "$BERTH_VMM" "$@" </dev/null
}

@test "vmm: --help documents the options and exit statuses" {
        vmm --help
        assert_success
        for o in --kernel --initrd --cmdline --cpus --memory --disk --rng --console; do
                assert_output_contains "$o"
        done
        assert_output_contains "10  the guest rebooted"
}

@test "vmm: guest prints its command line and e820 map exactly as the VMM built them" {
        run bash -c "timeout 20 '$BERTH_VMM' --kernel '$GUEST' --memory 64 --log-level info \
                --cmdline 'one two=3 guest.exit=poweroff' </dev/null 2>'$BATS_TEST_TMPDIR/log'"
        assert_success
        assert_output_contains "BERTH-GUEST boot: pvh"
        [[ "$output" == *"BERTH-GUEST cmdline: one two=3 guest.exit=poweroff"$'\n'* ]]
        guest_e820=$(grep '^BERTH-GUEST e820:' <<<"$output" | sed 's/^BERTH-GUEST e820: //')
        vmm_e820=$(grep 'info: e820:' "$BATS_TEST_TMPDIR/log" | sed 's/.*info: e820: //')
        [ -n "$guest_e820" ]
        [ "$guest_e820" = "$vmm_e820" ]
        # 64 MiB: the layout docs/vmm.md describes.
        [ "$guest_e820" = "0x0000000000000000-0x000000000009fbff type 1
0x000000000009fc00-0x000000000009ffff type 2
0x00000000000e0000-0x00000000000fffff type 2
0x0000000000100000-0x0000000003ffffff type 1" ]
        assert_output_contains "BERTH-GUEST acpi: rsdp 0xe0000 tables FACP DSDT APIC"
        assert_output_contains "BERTH-GUEST exit: poweroff"
}

@test "vmm: --no-acpi: no ACPI tables; the MP table still lists the vCPUs for SMP" {
        vmm --kernel "$GUEST" --memory 32 --no-acpi --cpus 3
        assert_success
        assert_output_contains "BERTH-GUEST acpi: none"
        assert_output_contains "BERTH-GUEST mptable: 3 cpus, 1 ioapic, 24 irq routes"
        assert_output_contains "BERTH-GUEST smp: 3 cpus in the MP table"
        assert_output_contains "BERTH-GUEST smp: ap 1 started"
        assert_output_contains "BERTH-GUEST exit: poweroff"
}

@test "vmm: memory above the MMIO hole is mapped above 4 GiB" {
        vmm --kernel "$GUEST" --memory 3584 --cmdline x
        assert_success
        assert_output_contains "BERTH-GUEST e820: 0x0000000000100000-0x00000000bfffffff type 1"
        assert_output_contains "BERTH-GUEST e820: 0x0000000100000000-0x000000011fffffff type 1"
}

@test "vmm: initrd reaches the guest" {
        echo "initrd-marker-line" >"$BATS_TEST_TMPDIR/initrd"
        head -c 5000 /dev/zero >>"$BATS_TEST_TMPDIR/initrd"
        vmm --kernel "$GUEST" --memory 32 --initrd "$BATS_TEST_TMPDIR/initrd"
        assert_success
        assert_output_contains "BERTH-GUEST initrd: 5019 bytes: initrd-marker-line"
}

@test "vmm: virtio-rng gives the guest random bytes" {
        vmm --kernel "$GUEST" --memory 32 --rng
        assert_success
        assert_output_contains "virtio_mmio.device=4K@0xd0000000:5"
        assert_output_contains "BERTH-GUEST virtio: 0xd0000000 id 4 version 2"
        assert_output_contains "BERTH-GUEST rng: 16 bytes:"
        line=$(grep 'rng: nonzero bytes' <<<"$output")
        n=${line##* }
        [ "$n" -ge 10 ]
}

@test "vmm: a hostile guest breaks only its own device, and a reset repairs it" {
        vmm --kernel "$GUEST" --memory 32 --rng --cmdline guest.hostile=1
        assert_success
        assert_output_contains "BERTH-GUEST hostile: loop used 0 needs-reset 1"
        assert_output_contains "BERTH-GUEST hostile: wild address used 0 needs-reset 1"
        assert_output_contains "BERTH-GUEST hostile: after reset ok"
        assert_output_contains "descriptor chain loops"
        assert_output_contains "outside guest memory"
}

@test "vmm: guest reboot through the i8042 or the ACPI reset register exits with status 10" {
        vmm --kernel "$GUEST" --memory 32 --cmdline guest.exit=reboot --log-level info
        assert_failure 10
        assert_output_contains "BERTH-GUEST exit: reboot"
        assert_output_contains "guest reset through the i8042"
        vmm --kernel "$GUEST" --memory 32 --cmdline guest.exit=acpi-reset --log-level info
        assert_failure 10
        assert_output_contains "BERTH-GUEST exit: acpi-reset"
        assert_output_contains "guest reset through the ACPI reset register"
}

@test "vmm: guest triple fault exits 11 (12 where KVM cannot deliver exceptions)" {
        vmm --kernel "$GUEST" --memory 32 --cmdline guest.exit=triple
        if [ -d /sys/module/kvm_pvm ] && [ "$status" -eq 12 ]; then
                # kvm_pvm cannot deliver the #GP/#DF, so KVM stops with an
                # internal error before the triple fault: this host's limit.
                assert_output_contains "KVM internal error"
                echo "# kvm_pvm host: triple fault surfaces as a KVM internal error (status 12)" >&3
        else
                assert_failure 11
        fi
}

@test "vmm: with --cpus 2 the guest starts its second vCPU by INIT/SIPI and it prints" {
        vmm --kernel "$GUEST" --memory 32 --cpus 2
        assert_success
        assert_output_contains "BERTH-GUEST smp: 2 cpus in the MADT"
        assert_output_contains "BERTH-GUEST ap: started in real mode by INIT/SIPI"
        assert_output_contains "BERTH-GUEST smp: ap 1 started"
        assert_output_contains "BERTH-GUEST exit: poweroff"
        # With one vCPU the MADT lists one processor and nothing is started.
        vmm --kernel "$GUEST" --memory 32
        assert_success
        refute_output_contains "BERTH-GUEST smp:"
}

@test "vmm: bad input gives clear errors and documented statuses" {
        vmm --kernel /nonexistent/vmlinux
        assert_failure 3
        assert_output_contains "kernel \`/nonexistent/vmlinux\`"

        head -c 4096 /dev/urandom >"$BATS_TEST_TMPDIR/junk"
        vmm --kernel "$BATS_TEST_TMPDIR/junk"
        assert_failure 3
        assert_output_contains "not a usable bzImage"

        printf '\177ELF\002\001\001' >"$BATS_TEST_TMPDIR/short.elf"
        head -c 100 /dev/zero >>"$BATS_TEST_TMPDIR/short.elf"
        vmm --kernel "$BATS_TEST_TMPDIR/short.elf"
        assert_failure 3
        assert_output_contains "corrupt ELF image"

        head -c $((9 << 20)) /dev/zero >"$BATS_TEST_TMPDIR/big.img"
        vmm --kernel "$GUEST" --memory 8 --initrd "$BATS_TEST_TMPDIR/big.img"
        assert_failure 3
        assert_output_contains "larger than guest memory"

        head -c $((7 << 20)) /dev/zero >"$BATS_TEST_TMPDIR/big.img"
        vmm --kernel "$GUEST" --memory 8 --initrd "$BATS_TEST_TMPDIR/big.img"
        assert_failure 3
        assert_output_contains "does not fit in guest memory"

        vmm --kernel "$GUEST" --memory 1.5
        assert_failure 2
        assert_output_contains "--memory \`1.5\`"
        vmm --kernel "$GUEST" --memory 99999999
        assert_failure 2
        vmm --kernel "$GUEST" --cpus 0
        assert_failure 2
        vmm --kernel "$GUEST" --bogus
        assert_failure 2
        assert_output_contains "unknown option"
        vmm --memory 64
        assert_failure 2
        assert_output_contains "is required"
}

blk_roundtrip() { # DISK-OPTIONS [VMM-ARGS...]: the guest's virtio-blk checks on a fresh raw disk
        img="$BATS_TEST_TMPDIR/disk.raw"
        rm -f "$img"
        printf 'hello from the host\n' >"$img"
        truncate -s 1M "$img"
        # A pattern in sector 2 for the guest to discard.
        head -c 512 /dev/zero | tr '\0' '\252' | dd of="$img" bs=512 seek=2 conv=notrunc 2>/dev/null
        local opts=$1
        shift
        run timeout 20 ${VMM_PREFIX:-} "$BERTH_VMM" --kernel "$GUEST" --memory 32 \
                --disk "$img,$opts" "$@" </dev/null
        assert_success
        assert_output_contains "BERTH-GUEST blk: capacity 2048 sectors"
        assert_output_contains "BERTH-GUEST blk: sector 0: hello from the host"
        assert_output_contains "BERTH-GUEST blk: id berth0"
        assert_output_contains "BERTH-GUEST blk: read past end status 1"
        assert_output_contains "BERTH-GUEST blk: write status 0"
        assert_output_contains "BERTH-GUEST blk: flush status 0"
        assert_output_contains "BERTH-GUEST blk: indirect read status 0"
        [ "$(dd if="$img" bs=512 skip=1 count=1 2>/dev/null | head -n 1)" = "written by the guest" ]
        assert_output_contains "BERTH-GUEST blk: discard status 0, sector 2 zero bytes after: 512"
        [ "$(dd if="$img" bs=512 skip=2 count=1 2>/dev/null | tr -d '\0' | wc -c)" -eq 0 ]
}

@test "vmm: virtio-blk (O_DIRECT): the guest reads the host's file and writes one the host reads after exit" {
        blk_roundtrip format=raw,direct
}

@test "vmm: virtio-blk io=uring (buffered and O_DIRECT) passes the same checks through io_uring" {
        for opts in format=raw,io=uring format=raw,direct,io=uring; do
                # guest.blkbench=1: sixteen 64 KiB reads, page-aligned, so O_DIRECT takes the ring too
                blk_roundtrip "$opts" --log-level info --cmdline guest.blkbench=1
                assert_output_contains "io_uring, up to 32 requests in flight"
                assert_output_contains "BERTH-GUEST blkbench: read 1 MiB"
                n=$(sed -n 's/.* \([0-9]*\) requests through io_uring/\1/p' <<<"$output")
                echo "# $opts: $n requests through io_uring" >&3
                [ "${n:-0}" -ge 16 ]
        done
}

@test "vmm: io=uring where the kernel has no io_uring falls back to the worker thread" {
        deny="$BERTH_BUILD/tests/unit/deny_syscall"
        [ -x "$deny" ] || skip "tests/unit/deny_syscall not built"
        VMM_PREFIX="$deny io_uring_setup" blk_roundtrip format=raw,io=uring --log-level info
        assert_output_contains "io_uring_queue_init: Function not implemented); using the worker thread"
        refute_output_contains "requests through io_uring"
}

@test "vmm: io=uring on a qcow2 disk says why and uses the worker thread" {
        require_cmd qemu-img
        qemu-img create -q -f qcow2 "$BATS_TEST_TMPDIR/d.qcow2" 1M
        vmm --kernel "$GUEST" --memory 32 --disk "$BATS_TEST_TMPDIR/d.qcow2,io=uring"
        assert_success
        assert_output_contains "io=uring needs a raw disk; using the worker thread"
        assert_output_contains "BERTH-GUEST blk: sector 1: written by the guest"
}

@test "vmm: virtio-blk read-only disk refuses writes and stays unchanged" {
        img="$BATS_TEST_TMPDIR/ro.raw"
        printf 'read only\n' >"$img"
        truncate -s 64K "$img"
        sum=$(sha256sum <"$img")
        vmm --kernel "$GUEST" --memory 32 --disk "$img,ro"
        assert_success
        assert_output_contains "BERTH-GUEST blk: sector 0: read only"
        assert_output_contains "BERTH-GUEST blk: write status 1"
        [ "$(sha256sum <"$img")" = "$sum" ]
}

@test "vmm: a missing disk fails before the guest starts" {
        vmm --kernel "$GUEST" --memory 32 --disk "$BATS_TEST_TMPDIR/none.raw"
        [ "$status" -ne 0 ]
        assert_output_contains "none.raw"
        refute_output_contains "BERTH-GUEST"
        vmm --kernel "$GUEST" --disk "x,format=vmdk"
        assert_failure 2
}

@test "vmm: virtio-blk on a qcow2 image (the disk layer's driver)" {
        require_cmd qemu-img
        raw="$BATS_TEST_TMPDIR/src.raw"
        printf 'hello from qcow2\n' >"$raw"
        truncate -s 1M "$raw"
        qemu-img convert -f raw -O qcow2 "$raw" "$BATS_TEST_TMPDIR/d.qcow2"
        vmm --kernel "$GUEST" --memory 32 --disk "$BATS_TEST_TMPDIR/d.qcow2,format=qcow2"
        if [[ "$output" == *"qcow2 is not supported yet"* ]]; then
                skip "the block layer (src/disk) has no qcow2 driver in this tree yet"
        fi
        assert_success
        assert_output_contains "BERTH-GUEST blk: sector 0: hello from qcow2"
        assert_output_contains "BERTH-GUEST blk: sector 1: written by the guest"
        qemu-img check "$BATS_TEST_TMPDIR/d.qcow2"
        qemu-img convert -f qcow2 -O raw "$BATS_TEST_TMPDIR/d.qcow2" "$BATS_TEST_TMPDIR/back.raw"
        [ "$(dd if="$BATS_TEST_TMPDIR/back.raw" bs=512 skip=1 count=1 2>/dev/null | head -n 1)" = "written by the guest" ]
}

@test "vmm: the bzImage form boots through the 64-bit protocol with the same view" {
        [ -f "$GUEST_BZ" ] || skip "bzImage form of the test guest not built"
        img="$BATS_TEST_TMPDIR/disk.raw"
        printf 'hello bzImage\n' >"$img"
        truncate -s 64K "$img"
        echo "bz-initrd" >"$BATS_TEST_TMPDIR/initrd"
        run bash -c "timeout 20 '$BERTH_VMM' --kernel '$GUEST_BZ' --memory 64 --log-level info \
                --initrd '$BATS_TEST_TMPDIR/initrd' --disk '$img' --cmdline 'bz one' \
                </dev/null 2>'$BATS_TEST_TMPDIR/log'"
        assert_success
        assert_output_contains "BERTH-GUEST boot: linux64"
        assert_output_contains "BERTH-GUEST cmdline: bz one virtio_mmio.device=4K@0xd0000000:5"
        assert_output_contains "BERTH-GUEST initrd: 10 bytes: bz-initrd"
        assert_output_contains "BERTH-GUEST blk: sector 0: hello bzImage"
        assert_output_contains "BERTH-GUEST acpi: rsdp 0xe0000 tables FACP DSDT APIC"
        guest_e820=$(grep '^BERTH-GUEST e820:' <<<"$output" | sed 's/^BERTH-GUEST e820: //')
        vmm_e820=$(grep 'info: e820:' "$BATS_TEST_TMPDIR/log" | sed 's/.*info: e820: //')
        [ -n "$guest_e820" ] && [ "$guest_e820" = "$vmm_e820" ]
        grep -q 'kernel: bzImage, entry 0x100200' "$BATS_TEST_TMPDIR/log"
}

netns_with_tap() { # a namespace made by the test, with tap0 at 10.0.2.1
        require_root
        require_cmd ip python3
        require_netns
        ns="berth-vmm-$$-$BATS_TEST_NUMBER"
        ip netns add "$ns"
        ip -n "$ns" tuntap add dev tap0 mode tap
        ip -n "$ns" addr add 10.0.2.1/24 dev tap0
        ip -n "$ns" link set tap0 up
}

@test "vmm: virtio-net: an ARP round trip with a tap in a namespace made by the test" {
        netns_with_tap
        host_mac=$(ip -n "$ns" -o link show tap0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
        run timeout 20 ip netns exec "$ns" "$BERTH_VMM" --kernel "$GUEST" --memory 32 \
                --net tap=tap0,mac=52:54:00:12:34:56 </dev/null
        assert_success
        assert_output_contains "virtio_mmio.device=4K@0xd0000000:5"
        assert_output_contains "BERTH-GUEST net: mac 52:54:00:12:34:56 link up"
        assert_output_contains "BERTH-GUEST net: tx arp request sent"
        # The reply names the tap's own MAC: the host kernel answered our frame.
        assert_output_contains "BERTH-GUEST net: rx arp reply: 10.0.2.1 is at $host_mac"
}

@test "vmm: virtio-net transmit rate limit (pps=) spaces the guest's frames" {
        netns_with_tap
        timed() { # ms between the guest's netburst start and end lines
                ip netns exec "$ns" python3 "$BERTH_TOP/bench/vmm_marker.py" 1 \
                        "netburst: start" "netburst: sent 40 frames" -- "$BERTH_VMM" \
                        --kernel "$GUEST" --memory 32 --net "tap=tap0$1" \
                        --cmdline guest.netburst=40 | awk '{ print int($4) }'
        }
        free=$(timed "")
        limited=$(timed ",pps=20")
        echo "# 40 frames: unlimited ${free} ms, pps=20 ${limited} ms" >&3
        # 40 frames at 20/s with a 2-frame burst: about 1.9 s.
        [ "$limited" -ge 1500 ] && [ "$limited" -le 5000 ]
        [ "$free" -lt 1000 ]
}

@test "vmm: virtio-net receive rate limit (rx_pps=) paces frames to the guest, dropping none" {
        netns_with_tap
        received() { # N frames sent through the tap once the guest is ready: "ms <guest's count>"
                ip netns exec "$ns" timeout 30 python3 "$BERTH_TOP/tests/e2e/vmm_netrecv.py" tap0 \
                        40 1000 -- "$BERTH_VMM" --kernel "$GUEST" --memory 32 --net "tap=tap0$1" \
                        --cmdline guest.netrecv=40
        }
        free=$(received "")
        limited=$(received ",rx_pps=20")
        echo "# 40 frames to the guest: unlimited ${free%% *} ms, rx_pps=20 ${limited%% *} ms" >&3
        # Every frame arrives either way: the limiter delays, never drops.
        [[ "$free" == *"got 40 frames 40000 bytes" ]]
        [[ "$limited" == *"got 40 frames 40000 bytes" ]]
        # 40 frames at 20/s after a 2-frame bucket: about 1.9 s.
        [ "${limited%% *}" -ge 1500 ] && [ "${limited%% *}" -le 5000 ]
        [ "${free%% *}" -lt 1000 ]
}

@test "vmm: PATCH /network-interfaces/{id} sets a receive bandwidth limit on the running VM" {
        require_cmd curl
        netns_with_tap
        sock="$BATS_TEST_TMPDIR/api.sock"
        patch() { # PATH BODY -> body and status
                curl -s -X PATCH --unix-socket "$sock" "http://vmm$1" -d "$2" -w ' %{http_code}'
        }
        # Once the guest is ready, limit eth0's receive to 10000 bytes per 250 ms (40 kB/s);
        # 60 frames of 1000 bytes then take about (60000 - 10000) / 40000 s.
        hook="curl -sf -X PATCH --unix-socket $sock http://vmm/network-interfaces/eth0 -d \
                '{\"rx_rate_limiter\": {\"bandwidth\": {\"size\": 10000, \"refill_time\": 250}}}'"
        got=$(ip netns exec "$ns" timeout 30 python3 "$BERTH_TOP/tests/e2e/vmm_netrecv.py" tap0 \
                60 1000 --before "$hook" -- "$BERTH_VMM" --kernel "$GUEST" --memory 32 \
                --net tap=tap0,id=eth0 --api-sock "$sock" --cmdline guest.netrecv=60)
        echo "# 60 x 1000 bytes at 40 kB/s: ${got%% *} ms" >&3
        [[ "$got" == *"got 60 frames 60000 bytes" ]]
        [ "${got%% *}" -ge 900 ] && [ "${got%% *}" -le 4000 ]
}

@test "vmm: PATCH /network-interfaces/{id}: unknown interface, bad limiter, merge before start" {
        require_cmd curl
        sock="$BATS_TEST_TMPDIR/api.sock"
        timeout 30 "$BERTH_VMM" --api-sock "$sock" --log-level info </dev/null \
                >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/log" &
        pid=$!
        wait_for_line "$BATS_TEST_TMPDIR/log" "waiting for InstanceStart"
        patch() {
                curl -s -X "${3:-PATCH}" --unix-socket "$sock" "http://vmm$1" -d "$2" -w ' %{http_code}'
        }
        [[ "$(patch /network-interfaces/n0 '{}')" == *'no such interface; PUT it first'*' 400' ]]
        [ "$(patch /network-interfaces/n0 '{"host_dev_name": "t0"}' PUT)" = ' 204' ]
        [[ "$(patch /network-interfaces/n0 '{"rx_rate_limiter": {"ops": {"size": 1}}}')" == *'rx_rate_limiter: ops:'*' 400' ]]
        [[ "$(patch /network-interfaces/n0 '{"host_dev_name": "x"}')" == *' 400' ]]
        [ "$(patch /network-interfaces/n0 '{"rx_rate_limiter": {"ops": {"size": 5, "refill_time": 100}}}')" = ' 204' ]
        kill "$pid"
        wait "$pid" || true
}

@test "vmm: --net with bad values fails before the guest starts" {
        vmm --kernel "$GUEST" --net mac=52:54:00:00:00:01
        assert_failure 2
        assert_output_contains "--net needs tap=NAME"
        vmm --kernel "$GUEST" --net tap=x,mac=01:00:00:00:00:01
        assert_failure 2
        assert_output_contains "bad MAC address"
        vmm --kernel "$GUEST" --net tap=x,rx_pps=lots
        assert_failure 2
        assert_output_contains "--net: bad \`rx_pps=lots\`"
}

@test "vmm: virtio-vsock: the guest's connection to host port 1234 reaches UDS_PATH_1234 and echoes" {
        require_cmd python3
        sock="$BATS_TEST_TMPDIR/v.sock"
        chmod 755 "$BATS_TEST_TMPDIR"
        python3 - "${sock}_1234" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)  # a jailed VMM (uid 65534) connects too
s.listen(1)
s.settimeout(30)
c, _ = s.accept()
while True:
    b = c.recv(4096)
    if not b:
        break
    c.sendall(b)
PY
        server=$!
        for _ in $(seq 50); do [ -S "${sock}_1234" ] && break; sleep 0.1; done
        vmm --kernel "$GUEST" --memory 32 --vsock "3,$sock"
        wait "$server" || true
        assert_success
        assert_output_contains "BERTH-GUEST vsock: guest cid 3"
        assert_output_contains "BERTH-GUEST vsock: connect -> RESPONSE"
        assert_output_contains "BERTH-GUEST vsock: echo: ping over vsock"
        assert_output_contains "BERTH-GUEST vsock: shutdown -> RST"
}

@test "vmm: virtio-vsock: a half-close from the guest lets the host's reply through" {
        require_cmd python3
        sock="$BATS_TEST_TMPDIR/h.sock"
        chmod 755 "$BATS_TEST_TMPDIR"
        # reads the request to EOF (the guest's shutdown(SHUT_WR)), then answers
        python3 - "${sock}_1234" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o666)  # a jailed VMM (uid 65534) connects too
s.listen(1)
s.settimeout(30)
c, _ = s.accept()
got = b""
while True:
    b = c.recv(4096)
    if not b:
        break
    got += b
c.sendall(b"answer to " + got)
c.close()
PY
        server=$!
        for _ in $(seq 50); do [ -S "${sock}_1234" ] && break; sleep 0.1; done
        vmm --kernel "$GUEST" --memory 32 --vsock "3,$sock" --cmdline "guest.vsock_halfclose=1"
        wait "$server" || true
        assert_success
        assert_output_contains "BERTH-GUEST vsock: half-close reply: answer to question"
        assert_output_contains "BERTH-GUEST vsock: half-close end: SHUTDOWN"
}

@test "vmm: virtio-vsock: a connection to a host port nobody serves is reset" {
        vmm --kernel "$GUEST" --memory 32 --vsock "7,$BATS_TEST_TMPDIR/none.sock"
        assert_success
        assert_output_contains "BERTH-GUEST vsock: guest cid 7"
        assert_output_contains "BERTH-GUEST vsock: connect -> RST"
        vmm --kernel "$GUEST" --vsock "2,/tmp/x"
        assert_failure 2
}

# Wait until FILE contains TEXT (up to $3 tenths of a second).
wait_for_line() {
        local i
        for ((i = 0; i < ${3:-300}; i++)); do
                grep -q "$2" "$1" && return 0
                sleep 0.1
        done
        echo "timed out waiting for '$2' in $1:" >&2
        cat "$1" >&2
        return 1
}

api() { # METHOD PATH [JSON]
        curl -s -X "$1" --unix-socket "$BATS_TEST_TMPDIR/api.sock" "http://vmm$2" \
                ${3:+-H 'Content-Type: application/json' -d "$3"} -w ' %{http_code}'
}

@test "vmm: balloon inflates and deflates on API requests; the host really drops the pages" {
        require_cmd curl
        out="$BATS_TEST_TMPDIR/out"
        timeout 120 "$BERTH_VMM" --kernel "$GUEST" --memory 32 --balloon 0 \
                --api-sock "$BATS_TEST_TMPDIR/api.sock" </dev/null >"$out" 2>&1 &
        pid=$!
        wait_for_line "$out" "balloon: waiting for a target"
        [ "$(api GET /balloon)" = '{"amount_mib":0,"actual_mib":0} 200' ]
        [ "$(api PATCH /balloon '{"amount_mib": 1}')" = ' 204' ]
        wait_for_line "$out" "balloon: inflated 256 pages" 600
        [ "$(api GET /balloon)" = '{"amount_mib":1,"actual_mib":1} 200' ]
        stats=$(api GET /balloon/statistics)
        [[ "$stats" == *'"total_memory":'* ]] && [[ "$stats" == *' 200' ]]
        metrics=$(api GET /metrics)
        [[ "$metrics" == *'"vm_exits":{"io":'* ]]
        [[ "$metrics" == *'"device":"balloon","base":"0xd0000000","irq":5,"status":15,"inflated_pages":256'* ]]
        [ "$(api PATCH /balloon '{"amount_mib": 0}')" = ' 204' ]
        wait "$pid"
        run cat "$out"
        assert_output_contains "BERTH-GUEST balloon: deflated 256 pages; they came back zeroed"
        assert_output_contains "BERTH-GUEST balloon: reported 1 MiB free; it reads back zeroed"
        assert_output_contains "BERTH-GUEST exit: poweroff"
        [ ! -e "$BATS_TEST_TMPDIR/api.sock" ] # no leftover socket
}

@test "vmm: --api-sock alone waits; the VM is configured and started through the API" {
        require_cmd curl
        out="$BATS_TEST_TMPDIR/out"
        timeout 60 "$BERTH_VMM" --api-sock "$BATS_TEST_TMPDIR/api.sock" --log-level info \
                </dev/null >"$out" 2>"$BATS_TEST_TMPDIR/log" &
        pid=$!
        wait_for_line "$BATS_TEST_TMPDIR/log" "waiting for InstanceStart"
        [[ "$(api GET /)" == *'"state":"Not started"'*' 200' ]]
        # Wrong state, bad bodies: 400, and nothing changes.
        [[ "$(api PATCH /vm '{"state": "Paused"}')" == *'not started yet'*' 400' ]]
        [[ "$(api GET /balloon/statistics)" == *'not started yet'*' 400' ]]
        [[ "$(api PUT /actions '{"action_type": "SendCtrlAltDel"}')" == *'not started yet'*' 400' ]]
        [[ "$(api PUT /actions '{"action_type": "InstanceStart"}')" == *'PUT /boot-source first'*' 400' ]]
        [[ "$(api PUT /machine-config '{"vcpu_count": 0}')" == *'vcpu_count must be 1 to 32'*' 400' ]]
        [[ "$(api PUT /machine-config '{"vcpus": 2}')" == *'PUT /machine-config: machine-config:'*' 400' ]]
        [[ "$(api PUT /machine-config '[1]')" == *'want a JSON object'*' 400' ]]
        [[ "$(api PUT /boot-source '{"kernel_image_path": 7}')" == *' 400' ]]
        [[ "$(api PUT /drives/a%2Fb '{"path_on_host": "x"}')" == *'bad drive_id'*' 400' ]]
        [[ "$(api PUT /drives/d1 '{"drive_id": "d2", "path_on_host": "x"}')" == *'differs'*' 400' ]]
        [[ "$(api PUT /network-interfaces/n1 '{"host_dev_name": "t", "guest_mac": "zz"}')" == *'bad guest_mac'*' 400' ]]
        [[ "$(api PUT /actions '{"action_type": "Fly"}')" == *'unknown action_type'*' 400' ]]
        [ "$(api GET /machine-config)" = '{"vcpu_count":1,"mem_size_mib":128,"track_dirty_pages":false} 200' ]
        # A configuration that fails InstanceStart's checks leaves it waiting.
        [ "$(api PUT /boot-source '{"kernel_image_path": "/nonexistent"}')" = ' 204' ]
        [[ "$(api PUT /actions '{"action_type": "InstanceStart"}')" == *'/nonexistent'*' 400' ]]
        # The real configuration.
        [ "$(api PUT /machine-config '{"vcpu_count": 2, "mem_size_mib": 64}')" = ' 204' ]
        [ "$(api PUT /boot-source "{\"kernel_image_path\": \"$GUEST\", \"boot_args\": \"via api guest.exit=hang\"}")" = ' 204' ]
        truncate -s 1M "$BATS_TEST_TMPDIR/disk.img"
        [ "$(api PUT /drives/root "{\"path_on_host\": \"$BATS_TEST_TMPDIR/nothing\"}")" = ' 204' ]
        # The same id again replaces the drive.
        [ "$(api PUT /drives/root "{\"drive_id\": \"root\", \"path_on_host\": \"$BATS_TEST_TMPDIR/disk.img\", \"is_read_only\": true}")" = ' 204' ]
        [ "$(api GET /machine-config)" = '{"vcpu_count":2,"mem_size_mib":64,"track_dirty_pages":false} 200' ]
        [ "$(api PUT /actions '{"action_type": "InstanceStart"}')" = ' 204' ]
        wait_for_line "$out" "BERTH-GUEST exit: hang"
        [[ "$(api GET /)" == *'"state":"Running"'*' 200' ]]
        [[ "$(api PUT /actions '{"action_type": "InstanceStart"}')" == *'already started'*' 400' ]]
        [[ "$(api PUT /machine-config '{"vcpu_count": 1}')" == *'only be set before InstanceStart'*' 400' ]]
        [[ "$(api PUT /drives/x '{"path_on_host": "x"}')" == *'only be set before InstanceStart'*' 400' ]]
        run cat "$out"
        assert_output_contains "BERTH-GUEST cmdline: via api guest.exit=hang virtio_mmio.device=4K@0xd0000000:5"
        assert_output_contains "BERTH-GUEST smp: 2 cpus in the MADT"
        guest_e820=$(grep '^BERTH-GUEST e820:' "$out" | sed 's/^BERTH-GUEST e820: //')
        vmm_e820=$(grep 'info: e820:' "$BATS_TEST_TMPDIR/log" | sed 's/.*info: e820: //')
        [ "$guest_e820" = "$vmm_e820" ]
        [[ "$guest_e820" == *"0x0000000000100000-0x0000000003ffffff type 1" ]] # 64 MiB
        kill -TERM "$pid"
        rc=0
        wait "$pid" || rc=$?
        [ "$rc" -eq 13 ]
        [ ! -e "$BATS_TEST_TMPDIR/api.sock" ]
}

@test "vmm: an InstanceStart that fails while building the VM answers 400 and stops the VMM" {
        require_cmd curl
        out="$BATS_TEST_TMPDIR/out"
        echo "not a kernel" >"$BATS_TEST_TMPDIR/junk"
        timeout 60 "$BERTH_VMM" --api-sock "$BATS_TEST_TMPDIR/api.sock" </dev/null >"$out" 2>&1 &
        pid=$!
        for _ in $(seq 50); do [ -S "$BATS_TEST_TMPDIR/api.sock" ] && break; sleep 0.1; done
        [ "$(api PUT /boot-source "{\"kernel_image_path\": \"$BATS_TEST_TMPDIR/junk\"}")" = ' 204' ]
        [[ "$(api PUT /actions '{"action_type": "InstanceStart"}')" == *'not a usable bzImage'*' 400' ]]
        rc=0
        wait "$pid" || rc=$?
        [ "$rc" -eq 3 ] # bad kernel
        [ ! -e "$BATS_TEST_TMPDIR/api.sock" ]
}

# The guest probes the i8042 as Linux does, then waits for keys; the API's
# SendCtrlAltDel must reach it as scan codes in the set the controller's
# translation bit says, and the guest reboots through the controller.
kbd_ctrl_alt_del() { # GUEST_KBD_MODE EXPECTED_SCANCODES
        require_cmd curl
        out="$BATS_TEST_TMPDIR/out"
        timeout 60 "$BERTH_VMM" --kernel "$GUEST" --memory 32 --cmdline "guest.kbd=$1" \
                --api-sock "$BATS_TEST_TMPDIR/api.sock" </dev/null >"$out" 2>&1 &
        pid=$!
        wait_for_line "$out" "BERTH-GUEST kbd: waiting for keys"
        [ "$(api PUT /actions '{"action_type": "SendCtrlAltDel"}')" = ' 204' ]
        rc=0
        wait "$pid" || rc=$?
        run cat "$out"
        [ "$rc" -eq 10 ] # reboot
        assert_output_contains "BERTH-GUEST kbd: self test, command byte 55 65"
        assert_output_contains "BERTH-GUEST kbd: reset fa aa"
        assert_output_contains "BERTH-GUEST kbd: flood kept 32 bytes"
        assert_output_contains "BERTH-GUEST kbd: scancodes $2"$'\n'
        assert_output_contains "BERTH-GUEST kbd: ctrl-alt-del"
        assert_output_contains "BERTH-GUEST exit: reboot"
}

@test "vmm: SendCtrlAltDel types Ctrl+Alt+Del on the i8042 (set 1, translated); the guest reboots" {
        kbd_ctrl_alt_del 1 "1d 38 e0 53 e0 d3 b8 9d"
        assert_output_contains "BERTH-GUEST kbd: id fa ab 41"
}

@test "vmm: SendCtrlAltDel in scan code set 2 when the guest turns translation off" {
        kbd_ctrl_alt_del 2 "14 11 e0 71 e0 f0 71 f0 11 f0 14"
        assert_output_contains "BERTH-GUEST kbd: command byte now 25"
        assert_output_contains "BERTH-GUEST kbd: id fa ab 83"
}

@test "vmm: the API answers bad requests with 4xx and a fault message" {
        require_cmd curl
        out="$BATS_TEST_TMPDIR/out"
        "$BERTH_VMM" --kernel "$GUEST" --memory 32 --cmdline guest.exit=hang \
                --api-sock "$BATS_TEST_TMPDIR/api.sock" </dev/null >"$out" 2>&1 &
        pid=$!
        wait_for_line "$out" "BERTH-GUEST exit: hang"
        [ "$(api GET /machine-config)" = '{"vcpu_count":1,"mem_size_mib":32,"track_dirty_pages":false} 200' ]
        [[ "$(api GET /nowhere)" == *'"fault_message":"no such resource: /nowhere"} 404' ]]
        [[ "$(api DELETE /balloon)" == *' 405' ]]
        [[ "$(api PATCH /balloon '{"amount_mib": ')" == *'invalid JSON'*' 400' ]]
        [[ "$(api PATCH /balloon '{"amount_mib": 1}')" == *'no balloon device'*' 400' ]]
        [[ "$(api PATCH /vm '{"state": "Sleeping"}')" == *' 400' ]]
        [ "$(api PATCH /vm '{"state": "Paused"}')" = ' 204' ]
        [[ "$(api GET /)" == *'"state":"Paused"'* ]]
        [ "$(api PATCH /vm '{"state": "Resumed"}')" = ' 204' ]
        [[ "$(api GET /)" == *'"state":"Running"'* ]]
        kill -TERM "$pid"
        rc=0
        wait "$pid" || rc=$?
        [ "$rc" -eq 13 ] # stopped by a signal
        [ ! -e "$BATS_TEST_TMPDIR/api.sock" ]
        # An existing path is refused, not replaced.
        touch "$BATS_TEST_TMPDIR/taken"
        vmm --kernel "$GUEST" --api-sock "$BATS_TEST_TMPDIR/taken"
        assert_failure 2
        assert_output_contains "remove it, or pick another path"
}

@test "vmm: --config FILE (Firecracker's shape) boots the guest like the flags do" {
        img="$BATS_TEST_TMPDIR/disk.raw"
        printf 'hello from a config\n' >"$img"
        truncate -s 64K "$img"
        cat >"$BATS_TEST_TMPDIR/vm.json" <<JSON
{
  "boot-source": {"kernel_image_path": "$GUEST", "boot_args": "from-json"},
  "machine-config": {"vcpu_count": 2, "mem_size_mib": 48},
  "drives": [{"drive_id": "rootfs", "path_on_host": "$img", "is_read_only": true,
              "is_root_device": true}],
  "entropy": {}
}
JSON
        vmm --config "$BATS_TEST_TMPDIR/vm.json" --log-level info
        assert_success
        assert_output_contains "BERTH-GUEST cmdline: from-json virtio_mmio.device=4K@0xd0000000:5 virtio_mmio.device=4K@0xd0001000:6"
        assert_output_contains "2 vCPU(s), 48 MiB"
        assert_output_contains "BERTH-GUEST blk: sector 0: hello from a config"
        assert_output_contains "BERTH-GUEST blk: write status 1"
        assert_output_contains "BERTH-GUEST rng: 16 bytes"
        assert_output_contains "BERTH-GUEST smp: ap 1 started"
        # Flags after --config override it.
        vmm --config "$BATS_TEST_TMPDIR/vm.json" --cmdline override
        assert_success
        assert_output_contains "BERTH-GUEST cmdline: override virtio_mmio"

        echo '{"boot-source": {"kernel_image_path": "x"' >"$BATS_TEST_TMPDIR/bad.json"
        vmm --config "$BATS_TEST_TMPDIR/bad.json"
        assert_failure 2
        assert_output_contains "config \`$BATS_TEST_TMPDIR/bad.json\`: line"
        echo '{"boot-source": {"kernel_image_path": "x"}, "machine-confg": {}}' >"$BATS_TEST_TMPDIR/typo.json"
        vmm --config "$BATS_TEST_TMPDIR/typo.json"
        assert_failure 2
        assert_output_contains "machine-confg: unknown section"
        echo '{"machine-config": {"vcpu_count": "two"}}' >"$BATS_TEST_TMPDIR/type.json"
        vmm --config "$BATS_TEST_TMPDIR/type.json"
        assert_failure 2
        assert_output_contains "machine-config:"
}

@test "vmm: --console unix:PATH replays what the guest printed to the client that attaches" {
        require_cmd python3
        out="$BATS_TEST_TMPDIR/out"
        "$BERTH_VMM" --kernel "$GUEST" --memory 32 --cmdline guest.exit=hang \
                --console "unix:$BATS_TEST_TMPDIR/con" </dev/null >"$out" 2>&1 &
        pid=$!
        for _ in $(seq 50); do [ -S "$BATS_TEST_TMPDIR/con" ] && break; sleep 0.1; done
        run python3 - "$BATS_TEST_TMPDIR/con" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(0.5)
data, deadline = b"", time.time() + 20
while b"exit: hang" not in data and time.time() < deadline:
    try:
        data += s.recv(4096)
    except socket.timeout:
        pass
print(data.decode())
PY
        kill -TERM "$pid"
        rc=0
        wait "$pid" || rc=$?
        [ "$rc" -eq 13 ]
        assert_output_contains "BERTH-GUEST ready"
        assert_output_contains "BERTH-GUEST exit: hang"
        [ ! -e "$BATS_TEST_TMPDIR/con" ]
        # Nothing went to stdout.
        ! grep -q BERTH-GUEST "$out"
}

@test "vmm: --console pty prints the pseudo-terminal that carries the console" {
        require_cmd python3
        err="$BATS_TEST_TMPDIR/err"
        "$BERTH_VMM" --kernel "$GUEST" --memory 32 --cmdline guest.exit=hang --console pty \
                </dev/null >/dev/null 2>"$err" &
        pid=$!
        wait_for_line "$err" "console on /dev/pts/"
        pts=$(sed -n 's/.*console on \(\/dev\/pts\/[0-9]*\).*/\1/p' "$err")
        run python3 - "$pts" <<'PY'
import os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
data, deadline = b"", time.time() + 20
while b"exit: hang" not in data and time.time() < deadline:
    try:
        data += os.read(fd, 4096)
    except BlockingIOError:
        time.sleep(0.05)
print(data.decode(errors="replace"))
PY
        kill -TERM "$pid"
        wait "$pid" || true
        assert_output_contains "BERTH-GUEST cmdline: guest.exit=hang"
        assert_output_contains "BERTH-GUEST exit: hang"
}

@test "vmm: virtio-vsock: a host process's CONNECT on UDS_PATH reaches a port the guest listens on" {
        require_cmd python3
        out="$BATS_TEST_TMPDIR/out"
        sock="$BATS_TEST_TMPDIR/v.sock"
        timeout 60 "$BERTH_VMM" --kernel "$GUEST" --memory 32 --vsock "3,$sock" \
                --cmdline guest.vsock_listen=5000 </dev/null >"$out" 2>&1 &
        pid=$!
        wait_for_line "$out" "vsock: listening on port 5000"
        run python3 - "$sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(20)
s.sendall(b"CONNECT 5000\n")
print("reply:", s.recv(64).decode().strip())
s.sendall(b"hello guest")
print("echo:", s.recv(64).decode())
# Then 512 KiB both ways: far more than either side's credit (64 KiB guest,
# 256 KiB VMM), so the flow control has to work for this to finish.  (Slow
# here: the guest polls, so each packet waits for the host to schedule the
# VMM's main thread next to a spinning vCPU.)
import random
blob = bytes(random.choice(b"abcdefghijklmnopqrstuvwxyz") for _ in range(512 << 10))
s.setblocking(False)
sent, got = 0, bytearray()
import select, time
deadline = time.time() + 60
while len(got) < len(blob) and time.time() < deadline:
    r, w, _ = select.select([s], [s] if sent < len(blob) else [], [], 1)
    if w:
        sent += s.send(blob[sent:sent + 65536])
    if r:
        got += s.recv(65536)
print("bulk:", len(got), "bytes back,", "match" if bytes(got) == blob.upper() else "MISMATCH")
PY
        assert_success
        assert_output_contains "reply: OK 1073741824"
        assert_output_contains "echo: HELLO GUEST"
        assert_output_contains "bulk: 524288 bytes back, match"
        rc=0
        wait "$pid" || rc=$?
        [ "$rc" -eq 0 ]
        run cat "$out"
        assert_output_contains "BERTH-GUEST vsock: host connected from port 1073741824"
        assert_output_contains "BERTH-GUEST vsock: host closed the connection after 524299 bytes"
        [ ! -e "$sock" ] # no leftover socket
        # A path already taken is refused.
        touch "$sock"
        vmm --kernel "$GUEST" --vsock "3,$sock"
        assert_failure 2
        assert_output_contains "vsock socket"
}

@test "vmm: virtio-blk rate limits (bw=, iops=) slow the guest's reads to the set rate" {
        require_cmd python3
        img="$BATS_TEST_TMPDIR/rl.raw"
        truncate -s 16M "$img"
        timed() { # prints ms between the guest's blkbench start and end lines
                python3 "$BERTH_TOP/bench/vmm_marker.py" 1 "blkbench: start" "blkbench: read" -- \
                        "$BERTH_VMM" --kernel "$GUEST" --memory 64 --disk "$1" \
                        --cmdline guest.blkbench=8 | awk '{ print int($4) }'
        }
        free=$(timed "$img")
        bw=$(timed "$img,bw=8")
        iops=$(timed "$img,iops=100")
        echo "# 8 MiB in 64 KiB reads: unlimited ${free} ms, bw=8 MiB/s ${bw} ms, iops=100 ${iops} ms" >&3
        # 8 MiB at 8 MiB/s with a 100 ms burst: about 0.9 s; 128 requests at 100/s: about 1.27 s.
        [ "$bw" -ge 800 ] && [ "$bw" -le 3000 ]
        [ "$iops" -ge 1100 ] && [ "$iops" -le 4000 ]
        [ "$free" -lt 700 ]
}
