#!/usr/bin/env bash
# bench/vm.sh — `berth vm` against QEMU's microvm machine on the same test
# guest (tests/guest, PVH ELF, resident mode: guest.idle=1), same memory:
#   1. `vm start` -> the guest's first console line ("BERTH-GUEST ready") and
#      `vm destroy`, against spawning QEMU -> the same line and SIGKILL;
#   2. RSS of an idle VM's processes (supervisor + berth-vmm; QEMU's one)
#      beyond the guest RAM the guest touched;
#   3. `vm ls --all` with 50 defined VMs (hyperfine, bench/lib.sh's table).
# Bars (issue 14): start -> marker <= 0.25x QEMU microvm's; overhead <= 5 MiB per VM.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$BENCH_TOP"
bench_require qemu-system-x86_64 python3
B=${BERTH_BUILD:-build}
BERTH=$(realpath "$B/src/cmd/berth")
GUEST=$(realpath "$B/tests/guest/berth-test-guest.elf")
MEM=64
RUNS=${BENCH_RUNS:-20}
[ -x "$BERTH" ] && [ -f "$GUEST" ] || { echo "bench: build berth first (scripts/setup)" >&2; exit 2; }
state=$(mktemp -d /tmp/berth-bench-vm.XXXXXX)
export BERTH_RUN_DIR="$state/run" BERTH_DATA_DIR="$state/data"
cleanup() {
        for n in $("$BERTH" vm ls -q 2>/dev/null); do "$BERTH" vm destroy "$n" >/dev/null 2>&1 || true; done
        rm -rf "$state"
}
trap cleanup EXIT

"$BERTH" vm create bench --kernel "$GUEST" --memory "$MEM" --cmdline "guest.idle=1" >/dev/null
qemu=(qemu-system-x86_64 -M microvm,x-option-roms=off,rtc=off -enable-kvm
        -cpu host,-arch-capabilities -m "$MEM" -nodefaults -no-user-config -nographic
        -serial stdio -kernel "$GUEST" -append "guest.idle=1")
read -r o_mark o_gone o_rss o_anon <<<"$(python3 bench/vm_cycle.py "$RUNS" "BERTH-GUEST ready" berth "$BERTH" bench)"
read -r q_mark q_gone q_rss q_anon <<<"$(python3 bench/vm_cycle.py "$RUNS" "BERTH-GUEST ready" qemu "${qemu[@]}")"
# The VMM alone (no CLI, supervisor, jail or cgroup): what `vm start` adds is the difference.
read -r v_mark _ _ _ <<<"$(python3 bench/vm_cycle.py "$RUNS" "BERTH-GUEST ready" qemu \
        "$(dirname "$BERTH")/berth-vmm" --kernel "$GUEST" --memory "$MEM" --cmdline "guest.idle=1")"
# What the guest touched of its RAM (berth-vmm logs it when it stops): the same pages under QEMU.
touched=$(sed -n 's/.*guest memory touched: \([0-9]*\) KiB/\1/p' "$BERTH_DATA_DIR/vms/bench/vmm.log" | tail -1)
{
        echo "### berth vm vs QEMU microvm: the test guest (guest.idle=1), $MEM MiB, median of $RUNS runs"
        echo
        echo "| metric | berth vm | qemu microvm | ratio |"
        echo "|---|---|---|---|"
        awk -v a="$o_mark" -v b="$q_mark" 'BEGIN { printf "| vm start -> guest marker (ms) | %.2f | %.2f | %.3f |\n", a, b, a / b }'
        awk -v a="$v_mark" -v b="$q_mark" 'BEGIN { printf "| berth-vmm alone (no CLI, supervisor, jail, cgroup): start -> guest marker (ms) | %.2f | %.2f | %.3f |\n", a, b, a / b }'
        awk -v a="$o_gone" -v b="$q_gone" 'BEGIN { printf "| vm destroy / SIGKILL -> gone (ms) | %.2f | %.2f | %.3f |\n", a, b, a / b }'
        awk -v a="$o_rss" -v b="$q_rss" -v t="${touched:-0}" 'BEGIN { printf "| RSS of the VM'"'"'s processes beyond guest RAM touched (MiB) | %.1f | %.1f | %.3f |\n", (a - t) / 1024, (b - t) / 1024, (a - t) / (b - t) }'
        awk -v a="$o_anon" -v b="$q_anon" -v t="${touched:-0}" 'BEGIN { printf "| their anonymous RSS beyond guest RAM touched: the cost of one more VM (MiB) | %.1f | %.1f | %.3f |\n", (a - t) / 1024, (b - t) / 1024, (a - t) / (b - t) }'
        echo
        echo "    berth: $BERTH vm start bench (berth vm create bench --kernel $GUEST --memory $MEM --cmdline guest.idle=1)"
        echo "    qemu: ${qemu[*]}"
        echo
} | tee -a "$BENCH_OUT/latest.md"

for i in $(seq 1 49); do
        "$BERTH" vm create "idle$i" --kernel "$GUEST" --memory "$MEM" >/dev/null
done
bench_compare "berth vm ls --all with 50 defined VMs" ls "$BERTH vm ls --all"
