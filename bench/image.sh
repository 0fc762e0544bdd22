#!/usr/bin/env bash
# bench/image.sh — from an OCI image layout to a container root filesystem:
# `berth load` + `berth image mount` (blobs copied and verified into the store, the layer
# unpacked, an overlay on top) against `umoci unpack` of the same layout.  The image: a
# Debian bookworm minbase made by scripts/mkimage-debian (cached in ~/.cache/berth), or, without
# debootstrap, one ~100 MB, ~6000-file gzip layer from the host's python3 and perl libraries.
# Each run starts from nothing (the previous run's state is removed inside the timed
# command, for both).
set -euo pipefail
: "${BENCH_RUNS:=10}" # each run unpacks ~100 MB twice: keep the whole bench to a few minutes
export BENCH_RUNS
. "$(dirname "$0")/lib.sh"
bench_require umoci
berth="$BENCH_TOP/build/src/cmd/berth"
work="$(mktemp -d /tmp/berth-bench-image.XXXXXX)"
trap 'umount "$work"/data/images/snapshots/*/rootfs 2>/dev/null || true; rm -rf "$work"' EXIT

export BERTH_DATA_DIR="$work/setup"
cache="${XDG_CACHE_HOME:-$HOME/.cache}/berth/bookworm-minbase.tar.gz"
if [ -s "$cache" ] || { command -v debootstrap >/dev/null && [ "$(id -u)" = 0 ]; }; then
        mkdir -p "$(dirname "$cache")"
        [ -s "$cache" ] || "$BENCH_TOP/scripts/mkimage-debian" --tar "$cache" 2>/dev/null
        echo "bench/image: image = debootstrap bookworm minbase ($cache)"
        "$berth" import "$cache" libs:1 >/dev/null
else
        echo "bench/image: image = host python3 + perl libraries (no debootstrap)"
        tar -C / -czf "$work/libs.tar.gz" usr/lib/python3 usr/share/perl usr/lib/x86_64-linux-gnu/perl
        "$berth" import "$work/libs.tar.gz" libs:1 >/dev/null
fi
"$berth" save --format oci-dir -o "$work/oci" libs:1
unset BERTH_DATA_DIR

bench_compare "OCI layout → rootfs: berth load + image mount vs umoci unpack" \
        "berth load+mount" "sh -c 'umount $work/data/images/snapshots/*/rootfs 2>/dev/null; rm -rf $work/data; BERTH_DATA_DIR=$work/data $berth load -q -i $work/oci && BERTH_DATA_DIR=$work/data $berth image mount libs:1 >/dev/null'" \
        "umoci unpack" "sh -c 'rm -rf $work/bundle; umoci unpack --image $work/oci:1 $work/bundle >/dev/null'"
