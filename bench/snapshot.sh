#!/usr/bin/env bash
# bench/snapshot.sh — full snapshot save and restore, berth-vmm against QEMU 7.2's microvm on the
# same test guest (tests/guest, PVH ELF), memory size and command line (bench/snapshot.py says
# exactly what is timed): save = PUT /snapshot/create vs `migrate "exec:cat > FILE"` on the
# paused VM; restore = process start to the guest running again, `berth-vmm --restore` vs
# `-incoming "exec:cat FILE"` + cont.  An idle guest (guest.idle=1) and one rewriting half its
# RAM (guest.count=MIB), at 256 MiB and 1 GiB; medians of BENCH_RUNS (default 10).  Then diff
# snapshots against full ones (bench/snapshot_diff.py).
set -euo pipefail
RUNS=${BENCH_RUNS:-10} # before lib.sh, whose default (30) suits short commands
. "$(dirname "$0")/lib.sh"
cd "$BENCH_TOP"
bench_require qemu-system-x86_64 python3
VMM=${BERTH_BUILD:-build}/src/cmd/berth-vmm
GUEST=${BERTH_BUILD:-build}/tests/guest/berth-test-guest.elf
[ -x "$VMM" ] && [ -f "$GUEST" ] || { echo "bench: build berth first (scripts/setup)" >&2; exit 2; }
[ -c /dev/kvm ] || { echo "bench: needs /dev/kvm" >&2; exit 2; }
work=$(mktemp -d /tmp/berth-bench-snapshot.XXXXXX)
trap 'rm -rf "$work"' EXIT

{
        echo "### Full snapshot: berth-vmm vs QEMU microvm, median of $RUNS (ms; min-max)"
        echo
        echo "| guest | save berth-vmm | save QEMU | ratio | restore berth-vmm | restore QEMU | ratio | memory file / QEMU stream |"
        echo "|---|---|---|---|---|---|---|---|"
} | tee -a "$BENCH_OUT/latest.md"
for spec in "256 idle" "256 128" "1024 idle" "1024 512"; do
        read -r mem mode <<<"$spec"
        declare -A r=()
        while read -r name a b c; do r[$name]="$a $b $c"; done \
                < <(python3 bench/snapshot.py "$RUNS" "$mem" "$mode" "$VMM" "$GUEST" "$work")
        read -r bs bs0 bs1 <<<"${r[save-berth]}"
        read -r qs qs0 qs1 <<<"${r[save-qemu]}"
        read -r br br0 br1 <<<"${r[restore-berth]}"
        read -r qr qr0 qr1 <<<"${r[restore-qemu]}"
        read -r bb qb <<<"${r[bytes]}"
        label="$mem MiB, $([ "$mode" = idle ] && echo idle || echo "rewriting $mode MiB")"
        awk -v l="$label" -v bs="$bs" -v qs="$qs" -v br="$br" -v qr="$qr" -v bb="$bb" -v qb="$qb" \
                -v bsr="$bs0-$bs1" -v qsr="$qs0-$qs1" -v brr="$br0-$br1" -v qrr="$qr0-$qr1" 'BEGIN {
                printf "| %s | %s (%s) | %s (%s) | %.2f | %s (%s) | %s (%s) | %.3f | %.1f / %.1f MiB |\n",
                        l, bs, bsr, qs, qsr, bs / qs, br, brr, qr, qrr, br / qr, bb / 1048576, qb / 1048576 }' |
                tee -a "$BENCH_OUT/latest.md"
        unset r
done
# Diff snapshots (berth-vmm --track-dirty-pages; bench/snapshot_diff.py): a guest that wrote
# FILL MiB once and rewrites COUNT MiB, 0.2 s of it between snapshots.
{
        echo
        echo "### Diff snapshots: a guest that wrote FILL MiB once and rewrites COUNT MiB; median of $RUNS (ms; min-max)"
        echo
        echo "| guest | save Full | save Diff | Diff / Full | QEMU save | memory Full / Diff / QEMU stream | restore Full | restore Full + Diff |"
        echo "|---|---|---|---|---|---|---|---|"
} | tee -a "$BENCH_OUT/latest.md"
for spec in "1024 512 16" "1024 896 64"; do
        read -r mem fill cnt <<<"$spec"
        declare -A r=()
        while read -r name a b c; do r[$name]="$a $b $c"; done \
                < <(python3 bench/snapshot_diff.py "$RUNS" "$mem" "$fill" "$cnt" "$VMM" "$GUEST" "$work")
        read -r fs fs0 fs1 <<<"${r[save-full]}"
        read -r ds ds0 ds1 <<<"${r[save-diff]}"
        read -r qs _ _ <<<"${r[save-qemu]}"
        read -r fb db <<<"${r[bytes]}"
        read -r qb _ <<<"${r[bytes-qemu]}"
        read -r rf rf0 rf1 <<<"${r[restore-full]}"
        read -r rd rd0 rd1 <<<"${r[restore-chain]}"
        awk -v l="$mem MiB, wrote $fill once, rewriting $cnt" -v fs="$fs ($fs0-$fs1)" \
                -v ds="$ds ($ds0-$ds1)" -v r="$(awk -v a="$ds" -v b="$fs" 'BEGIN{printf "%.3f", a / b}')" \
                -v qs="$qs" -v fb="$fb" -v db="$db" -v qb="$qb" -v rf="$rf ($rf0-$rf1)" -v rd="$rd ($rd0-$rd1)" 'BEGIN {
                printf "| %s | %s | %s | %s | %s | %.1f / %.1f / %.1f MiB | %s | %s |\n", l, fs, ds, r, qs,
                        fb / 1048576, db / 1048576, qb / 1048576, rf, rd }' | tee -a "$BENCH_OUT/latest.md"
        unset r
done
{
        echo
        echo "    berth-vmm: $VMM --kernel $GUEST --memory MEM --cmdline guest.count=N|guest.idle=1 --api-sock S; --restore SNAP --restore-mem MEMFILE"
        echo "    diff: $VMM ... --cmdline 'guest.count=COUNT guest.fill=FILL' --track-dirty-pages; PUT /snapshot/create {\"snapshot_type\": \"Diff\"}; --restore DIFF --restore-mem FULL --restore-mem-diff DIFFMEM"
        echo "    qemu: qemu-system-x86_64 -M microvm,x-option-roms=off,rtc=off -enable-kvm -cpu host,-arch-capabilities -m MEM -kernel $GUEST -append ... -qmp ...; -incoming \"exec:cat FILE\""
        echo
} | tee -a "$BENCH_OUT/latest.md"
