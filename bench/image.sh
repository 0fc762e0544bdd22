#!/usr/bin/env bash
# bench/image.sh — from an OCI image layout to a container root filesystem:
# `berth load` + `berth image mount` (blobs copied and verified into the store, the layer
# unpacked, an overlay on top) against `umoci unpack` of the same layout.  The image: one
# ~100 MB, ~6000-file gzip layer made from the host's python3 and perl libraries.
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
tar -C / -czf "$work/libs.tar.gz" usr/lib/python3 usr/share/perl usr/lib/x86_64-linux-gnu/perl
"$berth" import "$work/libs.tar.gz" libs:1 >/dev/null
"$berth" save --format oci-dir -o "$work/oci" libs:1
unset BERTH_DATA_DIR

bench_compare "OCI layout → rootfs: berth load + image mount vs umoci unpack" \
        "berth load+mount" "sh -c 'umount $work/data/images/snapshots/*/rootfs 2>/dev/null; rm -rf $work/data; BERTH_DATA_DIR=$work/data $berth load -q -i $work/oci && BERTH_DATA_DIR=$work/data $berth image mount libs:1 >/dev/null'" \
        "umoci unpack" "sh -c 'rm -rf $work/bundle; umoci unpack --image $work/oci:1 $work/bundle >/dev/null'"
