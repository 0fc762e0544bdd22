#!/usr/bin/env bash
# bench/vmm.sh — berth-vmm against QEMU's microvm machine, booting the same
# test guest (tests/guest, PVH ELF) with the same memory and command line:
#   1. process start -> the guest's first console line ("BERTH-GUEST ready"),
#      start -> exit, and peak RSS (our own timing helper, median of runs);
#   2. start -> exit again in one hyperfine run (bench/lib.sh's table).
# The guest powers off through port 0x600: berth-vmm's ACPI sleep-control
# register, and for QEMU an isa-debug-exit device at the same port (QEMU
# then exits with status 105, which the wrapper maps to 0).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$BENCH_TOP"
bench_require qemu-system-x86_64 python3
VMM=${BERTH_BUILD:-build}/src/cmd/berth-vmm
GUEST=${BERTH_BUILD:-build}/tests/guest/berth-test-guest.elf
MEM=64
RUNS=${BENCH_RUNS:-20}
[ -x "$VMM" ] && [ -f "$GUEST" ] || { echo "bench: build berth first (scripts/setup)" >&2; exit 2; }

ours=("$VMM" --kernel "$GUEST" --memory "$MEM" --cmdline bench)
qemu=(qemu-system-x86_64 -M microvm,x-option-roms=off,rtc=off -enable-kvm
        -cpu host,-arch-capabilities -m "$MEM" -nodefaults -no-user-config -nographic
        -serial stdio -kernel "$GUEST" -append bench
        -device isa-debug-exit,iobase=0x600,iosize=1)

# Guest RAM the test guest touches (its image, bss, boot tables), as berth-vmm
# measures it with mincore(); the same guest touches the same pages under QEMU.
touched=$("${ours[@]}" --log-level info </dev/null 2>&1 >/dev/null |
        sed -n 's/.*guest memory touched: \([0-9]*\) KiB/\1/p')
# Process start (the clock read before posix_spawn) -> vCPU 0's first KVM_RUN (berth-vmm logs
# the same clock then), over FIRST_RUNS starts: "median min max median-after-vmm_run()".
read -r f_med f_min f_max f_inner <<<"$(python3 bench/vmm_first_run.py "${BENCH_FIRST_RUNS:-40}" -- "${ours[@]}")"

# The jail's cost (--jail: fork into a pid namespace, mount namespace, binds,
# pivot_root, the id switch, one seccomp filter per thread): the same
# measure with and without it in one run.  The bar is 2 ms.
# BENCH_JAIL_SERIES series of each, alternating, so that a change of load hits both alike;
# reported: the median, least and greatest of the series' medians.
series=${BENCH_JAIL_SERIES:-5}
per=$((${BENCH_FIRST_RUNS:-40} / series))
[ "$per" -ge 4 ] || per=4
jm=() nm=()
for _ in $(seq "$series"); do
        read -r a _ <<<"$(python3 bench/vmm_first_run.py "$per" -- "${ours[@]}" --jail)"
        jm+=("$a")
        read -r a _ <<<"$(python3 bench/vmm_first_run.py "$per" -- "${ours[@]}")"
        nm+=("$a")
done
stats() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END {
        m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf "%.2f %.2f %.2f\n", m, v[1], v[NR] }'; }
read -r j_med j_min j_max <<<"$(stats "${jm[@]}")"
read -r n_med n_min n_max <<<"$(stats "${nm[@]}")"
{
        echo "### berth-vmm --jail: process start -> first KVM_RUN, $series alternating series of $per (same run): the series' medians"
        echo
        echo "| | median (ms) | min | max |"
        echo "|---|---|---|---|"
        echo "| without --jail | $n_med | $n_min | $n_max |"
        echo "| with --jail | $j_med | $j_min | $j_max |"
        awk -v a="$j_med" -v b="$n_med" 'BEGIN { printf "| the jail costs | %.2f | | |\n", a - b }'
        echo
} | tee -a "$BENCH_OUT/latest.md"

read -r o_mark o_exit o_rss <<<"$(python3 bench/vmm_marker.py "$RUNS" "BERTH-GUEST ready" -- "${ours[@]}")"
read -r q_mark q_exit q_rss <<<"$(python3 bench/vmm_marker.py "$RUNS" "BERTH-GUEST ready" -- "${qemu[@]}")"
{
        echo "### berth-vmm vs QEMU microvm: the test guest, $MEM MiB, median of $RUNS runs"
        echo
        echo "| metric | berth-vmm | qemu microvm | ratio |"
        echo "|---|---|---|---|"
        awk -v a="$o_mark" -v b="$q_mark" 'BEGIN { printf "| start -> guest marker (ms) | %.2f | %.2f | %.3f |\n", a, b, a / b }'
        awk -v a="$o_exit" -v b="$q_exit" 'BEGIN { printf "| start -> exit (ms) | %.2f | %.2f | %.3f |\n", a, b, a / b }'
        awk -v a="$o_rss" -v b="$q_rss" 'BEGIN { printf "| peak RSS (MiB) | %.1f | %.1f | %.3f |\n", a / 1024, b / 1024, a / b }'
        awk -v a="$o_rss" -v b="$q_rss" -v t="$touched" 'BEGIN { printf "| peak RSS - guest RAM touched (MiB) | %.1f | %.1f | %.3f |\n", (a - t) / 1024, (b - t) / 1024, (a - t) / (b - t) }'
        echo
        echo "Guest RAM touched: $touched KiB (berth-vmm, mincore)."
        echo
        echo "berth-vmm process start -> first KVM_RUN over ${BENCH_FIRST_RUNS:-40} starts: median ${f_med} ms (min ${f_min}, max ${f_max}; ${f_inner} ms of it after vmm_run() entry); the bar is 5 ms."
        echo
        echo "    berth-vmm: ${ours[*]}"
        echo "    qemu: ${qemu[*]}"
        echo
} | tee -a "$BENCH_OUT/latest.md"

# virtio-blk: the guest reads BLK_MIB sequentially in 64 KiB requests from the same raw file,
# timed between its "start" and "read" lines.  QEMU: ACPI off so that it lists the device on
# the command line (the guest's way of finding it), modern virtio-mmio (the guest is virtio 1.x).
BLK_MIB=${BENCH_BLK_MIB:-256}
disk=$(mktemp /tmp/berth-bench-disk.XXXXXX)
trap 'rm -f "$disk"' EXIT
head -c $((BLK_MIB << 20)) /dev/urandom >"$disk"
ours_blk=("$VMM" --kernel "$GUEST" --memory "$MEM" --disk "$disk" --cmdline "guest.blkbench=$BLK_MIB")
qemu_blk=(qemu-system-x86_64 -M microvm,x-option-roms=off,rtc=off,acpi=off -enable-kvm
        -cpu host,-arch-capabilities -m "$MEM" -nodefaults -no-user-config -nographic
        -serial stdio -kernel "$GUEST" -append "guest.blkbench=$BLK_MIB"
        -device isa-debug-exit,iobase=0x600,iosize=1 -global virtio-mmio.force-legacy=false
        -drive id=d0,file="$disk",format=raw,if=none -device virtio-blk-device,drive=d0)
BLK_RUNS=${BENCH_BLK_RUNS:-5}
read -r _ _ _ o_blk <<<"$(python3 bench/vmm_marker.py "$BLK_RUNS" "blkbench: start" "blkbench: read" -- "${ours_blk[@]}")"
read -r _ _ _ q_blk <<<"$(python3 bench/vmm_marker.py "$BLK_RUNS" "blkbench: start" "blkbench: read" -- "${qemu_blk[@]}")"
{
        echo "### virtio-blk sequential read from the test guest: $BLK_MIB MiB in 64 KiB requests, median of $BLK_RUNS"
        echo
        echo "| metric | berth-vmm | qemu microvm | ratio |"
        echo "|---|---|---|---|"
        awk -v a="$o_blk" -v b="$q_blk" -v m="$BLK_MIB" 'BEGIN { printf "| time (ms) | %.1f | %.1f | %.3f |\n| throughput (MiB/s) | %.0f | %.0f | %.3f |\n", a, b, a / b, m * 1000 / a, m * 1000 / b, b / a }'
        echo
        echo "    berth-vmm: ${ours_blk[*]}"
        echo "    qemu: ${qemu_blk[*]}"
        echo
} | tee -a "$BENCH_OUT/latest.md"

bench_compare "berth-vmm vs QEMU microvm: start -> guest poweroff (test guest, $MEM MiB)" \
        berth-vmm "${ours[*]}" \
        qemu-microvm "sh -c '${qemu[*]} </dev/null >/dev/null; [ \$? = 105 ]'"
