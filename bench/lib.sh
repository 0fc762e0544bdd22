# bench/lib.sh — the shared harness for berth's side-by-side benchmarks.
# Source it from bench/<name>.sh:
#
#   . "$(dirname "$0")/lib.sh"
#   bench_compare "run busybox true" \
#           berth "build/src/cmd/berth-oci run ..." \
#           crun  "crun run ..."
#
# Each call runs every command in ONE hyperfine run (interleaved warmups, same
# conditions), prints a table of medians with each peer's ratio to the first
# command, and appends the table plus the exact command lines to
# bench/results/latest.md, ready to paste into docs/performance.md.
# Environment: BENCH_RUNS (default 30), BENCH_WARMUP (default 3); BENCH_AS_USER=NAME runs
# hyperfine as that user (rootless benchmarks; root's environment is not passed, set what the
# commands need in BENCH_USER_ENV, e.g. "XDG_RUNTIME_DIR=/tmp/x").

BENCH_TOP="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH_OUT="$BENCH_TOP/bench/results"
mkdir -p "$BENCH_OUT"
: "${BENCH_RUNS:=30}" "${BENCH_WARMUP:=3}"

bench_require() {
        local c
        for c in "$@"; do
                command -v "$c" >/dev/null 2>&1 || { echo "bench: needs $c (scripts/setup installs it)" >&2; exit 2; }
        done
}

# bench_compare TITLE NAME1 CMD1 NAME2 CMD2 ...
bench_compare() {
        bench_require hyperfine jq
        local title="$1"; shift
        local args=() names=() json
        json=$(mktemp "$BENCH_OUT/hf.XXXXXX.json")
        while [ $# -ge 2 ]; do
                names+=("$1")
                args+=(--command-name "$1" "$2")
                shift 2
        done
        local as=()
        if [ -n "${BENCH_AS_USER:-}" ]; then
                chmod 666 "$json"
                as=(runuser -u "$BENCH_AS_USER" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin
                        HOME="$(getent passwd "$BENCH_AS_USER" | cut -d: -f6)" ${BENCH_USER_ENV:-})
        fi
        "${as[@]}" hyperfine -N --runs "$BENCH_RUNS" --warmup "$BENCH_WARMUP" --export-json "$json" \
                "${args[@]}" >/dev/null 2>&1 || "${as[@]}" hyperfine --runs "$BENCH_RUNS" \
                --warmup "$BENCH_WARMUP" --export-json "$json" "${args[@]}" >/dev/null
        {
                echo "### $title"
                echo
                echo "| command | median (ms) | mean ± σ (ms) | ratio to ${names[0]} |"
                echo "|---|---|---|---|"
                jq -r '.results as $r | ($r[0].median) as $base | $r[] |
                        "| \(.command) | \(.median*1000*100|round/100) | \(.mean*1000*100|round/100) ± \(.stddev*1000*100|round/100) | \((.median/$base)*100|round/100) |"' "$json"
                echo
                echo "Commands ($(date -u +%Y-%m-%d), $(nproc) cores, hyperfine --runs $BENCH_RUNS):"
                echo
                for ((i = 1; i < ${#args[@]}; i += 3)); do
                        echo "    ${args[i]}: ${args[i + 1]}"
                done
                echo
        } | tee -a "$BENCH_OUT/latest.md"
        rm -f "$json"
}

# bench_peak_rss_kib CMD... — peak RSS of one run, from GNU time's %M.
bench_peak_rss_kib() {
        /usr/bin/time -f '%M' -o /tmp/berth-rss.$$ "$@" >/dev/null 2>&1
        cat /tmp/berth-rss.$$
        rm -f /tmp/berth-rss.$$
}
