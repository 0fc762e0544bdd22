#!/usr/bin/env bash
# bench/oci.sh — berth-oci against crun and runc (Debian's): `run` of a busybox /bin/true bundle,
# the create+start+delete split, and `exec` into a running container; medians, ratios, peak RSS.
#
#   bench/oci.sh            (BENCH_RUNS, default 30; needs root, hyperfine, busybox, crun, runc)
#
# crun 1.8 refuses this host's hybrid cgroups, so the side-by-side runs happen in a private
# mount namespace with an empty tmpfs over /sys/fs/cgroup/unified, for all three runtimes alike.
# berth-oci is measured once more on the host as it is (joining the cgroup2 hierarchy too).
# "after idle" repeats single runs after a 2 s pause: the first cgroup migration after idle
# waits for an RCU grace period, for every runtime.
set -euo pipefail
self=$(realpath "$0")
. "$(dirname "$0")/lib.sh"
OCI=${BERTH_OCI:-$BENCH_TOP/build/src/cmd/berth-oci}
[ "$(id -u)" = 0 ] || { echo "bench/oci.sh: needs root" >&2; exit 2; }
bench_require busybox crun runc jq

if [ -z "${_BERTH_BENCH_NS:-}" ]; then
        work=$(mktemp -d /var/tmp/berth-oci-bench.XXXXXX)
        trap 'rm -rf "$work"' EXIT
        r=$work/bundle/rootfs
        mkdir -p "$r/bin" "$r/proc" "$r/sys" "$r/dev" "$r/tmp"
        cp "$(command -v busybox)" "$r/bin/busybox"
        for a in true sleep sh; do ln -s busybox "$r/bin/$a"; done
        (cd "$work/bundle" && "$OCI" spec)
        jq '.process.terminal = false | .process.args = ["/bin/true"]' "$work/bundle/config.json" \
                >"$work/c" && mv "$work/c" "$work/bundle/config.json"
        mkdir -p "$work/sleeper"
        jq --arg r "$r" '.process.args = ["/bin/sleep", "1000"] | .root.path = $r' \
                "$work/bundle/config.json" >"$work/sleeper/config.json"
        cd "$work/bundle"
        bench_compare "berth-oci run /bin/true on the host as it is (v1 + the cgroup2 hierarchy)" \
                "berth-oci (host view)" "$OCI --root $work/r-host run h1"
        _BERTH_BENCH_NS=1 WORK=$work unshare --mount --propagation private -- "$self" "$@"
        exit 0
fi

mount -t tmpfs -o size=4m,mode=755 berth-bench-hide /sys/fs/cgroup/unified
names=(berth-oci crun runc)
declare -A RT
RT[berth-oci]="$OCI --root $WORK/r-berth"
RT[crun]="crun --root $WORK/r-crun"
RT[runc]="runc --root $WORK/r-runc"

cd "$WORK/bundle"
bench_compare "run of a busybox /bin/true bundle (back to back)" \
        berth-oci "${RT[berth-oci]} run b1" crun "${RT[crun]} run c1" runc "${RT[runc]} run r1"
# The same, interleaved: hyperfine runs each series after the other, so a drift in the
# machine's speed during the minute falls on one runtime; here each round runs all three.
{
        echo "### run of a busybox /bin/true bundle, interleaved (bench/alternate.py, $BENCH_RUNS rounds)"
        echo
        python3 "$BENCH_TOP/bench/alternate.py" "$BENCH_RUNS" 3 "berth-oci=${RT[berth-oci]} run a1" \
                "crun=${RT[crun]} run a2" "runc=${RT[runc]} run a3"
        echo
} | tee -a "$BENCH_OUT/latest.md"

split() { echo "sh -c '$1 create s >/dev/null && $1 start s && $1 delete -f s'"; }
bench_compare "create + start + delete of the same bundle" \
        berth-oci "$(split "${RT[berth-oci]}")" crun "$(split "${RT[crun]}")" \
        runc "$(split "${RT[runc]}")"

cd "$WORK/sleeper"
for n in "${names[@]}"; do
        ${RT[$n]} run -d "x" </dev/null >/dev/null 2>&1 || { echo "$n: run -d failed" >&2; exit 1; }
done
bench_compare "exec /bin/true into a running container" \
        berth-oci "${RT[berth-oci]} exec x /bin/true" crun "${RT[crun]} exec x /bin/true" \
        runc "${RT[runc]} exec x /bin/true"
for n in "${names[@]}"; do ${RT[$n]} delete -f x >/dev/null 2>&1 || true; done

cd "$WORK/bundle"
{
        echo "### peak RSS of \`run\` (max RSS of the runtime and its children, KiB, $BENCH_RUNS runs)"
        echo
        echo "| runtime | median | max |"
        echo "|---|---|---|"
        for n in "${names[@]}"; do
                for i in $(seq "$BENCH_RUNS"); do bench_peak_rss_kib ${RT[$n]} run m; done >"$WORK/rss"
                sort -n "$WORK/rss" | awk -v n="$n" '{v[NR] = $1} END {print "| " n " | " v[int((NR + 1) / 2)] " | " v[NR] " |"}'
        done
        echo
        echo "### \`run\` after 2 s idle (ms, 5 runs each)"
        echo
        for n in "${names[@]}"; do
                printf '| %s |' "$n"
                for i in 1 2 3 4 5; do
                        sleep 2
                        s=$(date +%s%N)
                        ${RT[$n]} run i >/dev/null 2>&1
                        printf ' %s' "$(( ($(date +%s%N) - s) / 100000 ))e-1"
                done
                echo " |"
        done | sed 's/\([0-9]*\)\([0-9]\)e-1/\1.\2/g'
        echo
} | tee -a "$BENCH_OUT/latest.md"
