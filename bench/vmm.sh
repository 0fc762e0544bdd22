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
first_run=$("${ours[@]}" --log-level info </dev/null 2>&1 >/dev/null |
        sed -n 's/.*first KVM_RUN \([0-9.]*\) ms.*/\1/p')

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
        echo "Guest RAM touched: $touched KiB (berth-vmm, mincore). berth-vmm: first KVM_RUN ${first_run} ms after main()."
        echo
        echo "    berth-vmm: ${ours[*]}"
        echo "    qemu: ${qemu[*]}"
        echo
} | tee -a "$BENCH_OUT/latest.md"

bench_compare "berth-vmm vs QEMU microvm: start -> guest poweroff (test guest, $MEM MiB)" \
        berth-vmm "${ours[*]}" \
        qemu-microvm "sh -c '${qemu[*]} </dev/null >/dev/null; [ \$? = 105 ]'"
