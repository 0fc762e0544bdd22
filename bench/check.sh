#!/usr/bin/env bash
# bench/check.sh — cost of `berth check`: the full acting report (forks, unshares, an overlay
# mount, a seccomp filter, a KVM VM) next to the cheapest single probe a shell script would do.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
berth="$BENCH_TOP/build/src/cmd/berth"
bench_compare "berth check (all probes) vs one util-linux unshare" \
        "berth check" "$berth check --format json" \
        "unshare --pid --fork true" "unshare --pid --fork true"
