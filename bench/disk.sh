#!/usr/bin/env bash
# bench/disk.sh — berth's block layer against QEMU's on the same files:
#   `berth disk bench` vs `qemu-img bench` (same options, same offset sequence; qemu-img at queue
#   depth 1 like ours, and at its default depth 64), sequential and strided ("random") 4k reads
#   and writes, raw and qcow2 (cached L2 hits, in-place writes, and allocating writes);
#   `berth disk convert` vs `qemu-img convert`, raw -> qcow2 and qcow2 -> raw.
# Files live in $BENCH_DISK_DIR (default /var/tmp: a real file system, not tmpfs).
set -euo pipefail
: "${BENCH_RUNS:=10}" "${BENCH_WARMUP:=2}"
. "$(dirname "$0")/lib.sh"
bench_require qemu-img
berth="$BENCH_TOP/build/src/cmd/berth"
dir=$(mktemp -d "${BENCH_DISK_DIR:-/var/tmp}/berth-bench-disk.XXXXXX")
trap 'rm -rf "$dir"' EXIT
# 256 MiB with data everywhere: half random, half compressible text.
head -c 128M /dev/urandom >"$dir/data.raw"
head -c 128M < <(yes "berth disk bench") >>"$dir/data.raw"
qemu-img convert -O qcow2 "$dir/data.raw" "$dir/data.qcow2"
n=50000
rnd=$((4096 * 1021)) # a stride that visits every 4k slot once before repeating

for f in raw qcow2; do
        img="$dir/data.$f"
        bench_compare "sequential 4k reads, $f ($n requests)" \
                "berth" "$berth disk bench -f $f -q -c $n -s 4k $img" \
                "qemu-img -d 1" "qemu-img bench -f $f -q -c $n -s 4k -d 1 $img" \
                "qemu-img -d 64" "qemu-img bench -f $f -q -c $n -s 4k $img"
        bench_compare "strided (random) 4k reads, $f ($n requests)" \
                "berth" "$berth disk bench -f $f -q -c $n -s 4k -S $rnd $img" \
                "qemu-img -d 1" "qemu-img bench -f $f -q -c $n -s 4k -S $rnd -d 1 $img" \
                "qemu-img -d 64" "qemu-img bench -f $f -q -c $n -s 4k -S $rnd $img"
        bench_compare "sequential 4k writes in place, $f ($n requests)" \
                "berth" "$berth disk bench -f $f -q -w -c $n -s 4k $img" \
                "qemu-img -d 1" "qemu-img bench -f $f -q -w -c $n -s 4k -d 1 $img" \
                "qemu-img -d 64" "qemu-img bench -f $f -q -w -c $n -s 4k $img"
        bench_compare "strided (random) 4k writes in place, $f ($n requests)" \
                "berth" "$berth disk bench -f $f -q -w -c $n -s 4k -S $rnd $img" \
                "qemu-img -d 1" "qemu-img bench -f $f -q -w -c $n -s 4k -S $rnd -d 1 $img" \
                "qemu-img -d 64" "qemu-img bench -f $f -q -w -c $n -s 4k -S $rnd $img"
done

new="$dir/new.qcow2"
bench_compare "allocating 64k writes into a new qcow2 (create + 4096 writes)" \
        "berth" "sh -c 'rm -f $new; $berth disk create -f qcow2 $new 256M >/dev/null && $berth disk bench -q -w -c 4096 -s 64k $new'" \
        "qemu-img -d 1" "sh -c 'rm -f $new; qemu-img create -q -f qcow2 $new 256M && qemu-img bench -q -w -c 4096 -s 64k -d 1 $new'" \
        "qemu-img -d 64" "sh -c 'rm -f $new; qemu-img create -q -f qcow2 $new 256M && qemu-img bench -q -w -c 4096 -s 64k $new'"

bench_compare "convert raw -> qcow2 (256 MiB)" \
        "berth disk convert" "$berth disk convert -O qcow2 $dir/data.raw $dir/out.qcow2" \
        "qemu-img convert" "qemu-img convert -O qcow2 $dir/data.raw $dir/out.qcow2"
bench_compare "convert qcow2 -> raw (256 MiB)" \
        "berth disk convert" "$berth disk convert -O raw $dir/data.qcow2 $dir/out.raw" \
        "qemu-img convert" "qemu-img convert -O raw $dir/data.qcow2 $dir/out.raw"
