#!/usr/bin/env bash
# bench/oci.sh — berth-oci against crun and runc: `run` of a busybox /bin/true bundle, the
# create+start+delete split, and `exec` into a running container; medians, ratios, peak RSS.
#
#   bench/oci.sh [RUNS]        (default 40 runs per command; needs root, hyperfine, busybox)
#
# crun 1.8 refuses this host's hybrid cgroups, so the side-by-side run happens in a private
# mount namespace with an empty tmpfs over /sys/fs/cgroup/unified, for all three runtimes
# alike.  berth-oci is then measured once more on the host as it is (with the v2 hierarchy).
# Back-to-back numbers come from hyperfine's warmed-up runs; "after idle" repeats one `run` of
# each runtime after a 2 s pause (the first cgroup migration after idle waits for an RCU grace
# period).
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
OCI=${BERTH_OCI:-$top/build/src/cmd/berth-oci}
RUNS=${1:-40}
[ "$(id -u)" = 0 ] || { echo "bench/oci.sh: needs root" >&2; exit 2; }
for c in hyperfine busybox crun runc jq; do
        command -v $c >/dev/null || { echo "bench/oci.sh: needs $c" >&2; exit 2; }
done

if [ -z "${_BERTH_BENCH_NS:-}" ]; then
        work=$(mktemp -d /tmp/berth-oci-bench.XXXXXX)
        trap 'rm -rf "$work"' EXIT
        r=$work/bundle/rootfs
        mkdir -p "$r/bin" "$r/proc" "$r/sys" "$r/dev" "$r/tmp"
        cp "$(command -v busybox)" "$r/bin/busybox"
        for a in true sleep sh; do ln -s busybox "$r/bin/$a"; done
        (cd "$work/bundle" && "$OCI" spec)
        jq '.process.terminal = false | .process.args = ["/bin/true"]' "$work/bundle/config.json" \
                >"$work/c" && mv "$work/c" "$work/bundle/config.json"
        mkdir -p "$work/sleeper"
        ln -s ../bundle/rootfs "$work/sleeper/rootfs"
        jq '.process.args = ["/bin/sleep", "1000"]' "$work/bundle/config.json" >"$work/sleeper/config.json"
        echo "# host view: berth-oci alone, with the cgroup2 hierarchy it joins on this host"
        (cd "$work/bundle" && hyperfine -N -w 5 -r "$RUNS" --export-json "$work/host.json" \
                "$OCI --root $work/root-host run bh" >/dev/null)
        echo "berth-oci (host view) run median: $(jq -r '.results[0].median * 1000 | . * 100 | round / 100' "$work/host.json") ms"
        export _BERTH_BENCH_NS=1 WORK=$work OCI RUNS
        exec unshare --mount --propagation private -- "$0" "$@"
fi

mount -t tmpfs -o size=4m,mode=755 berth-bench-hide /sys/fs/cgroup/unified
cd "$WORK/bundle"
names=(berth-oci crun runc)
declare -A RT
RT[berth-oci]="$OCI --root $WORK/r-berth"
RT[crun]="crun --root $WORK/r-crun"
RT[runc]="runc --root $WORK/r-runc"

median_ms() { jq -r ".results[$2].median * 1000 | . * 100 | round / 100" "$1"; }
report() { # json title
        local j=$1 i base
        base=$(jq -r '.results[0].median' "$j")
        for i in 0 1 2; do
                printf '%-10s %-28s median %7.2f ms   ratio to berth-oci %5.2f\n' "${names[$i]}" "$2" \
                        "$(median_ms "$j" $i)" \
                        "$(jq -r ".results[$i].median / $base" "$j")"
        done
}

echo "# back to back, $RUNS runs each (private mount ns, unified hierarchy hidden)"
hyperfine -N -w 5 -r "$RUNS" --export-json "$WORK/run.json" \
        "${RT[berth-oci]} run b1" "${RT[crun]} run c1" "${RT[runc]} run r1" >/dev/null
report "$WORK/run.json" "run /bin/true"

cmds=()
for n in "${names[@]}"; do
        cmds+=("sh -c '${RT[$n]} create s-$n >/dev/null && ${RT[$n]} start s-$n && ${RT[$n]} delete -f s-$n'")
done
hyperfine -N -w 3 -r "$RUNS" --export-json "$WORK/split.json" "${cmds[@]}" >/dev/null
report "$WORK/split.json" "create+start+delete"

cd "$WORK/sleeper"
for n in "${names[@]}"; do ${RT[$n]} run -d "x-$n" </dev/null >/dev/null 2>&1; done
hyperfine -N -w 5 -r "$RUNS" --export-json "$WORK/exec.json" \
        "${RT[berth-oci]} exec x-berth-oci /bin/true" "${RT[crun]} exec x-crun /bin/true" \
        "${RT[runc]} exec x-runc /bin/true" >/dev/null
report "$WORK/exec.json" "exec /bin/true"
for n in "${names[@]}"; do ${RT[$n]} delete -f "x-$n" >/dev/null 2>&1 || true; done
cd "$WORK/bundle"

echo "# peak RSS of \`run\` (max RSS of the runtime and its children, KiB), $RUNS runs each"
for n in "${names[@]}"; do
        for i in $(seq "$RUNS"); do
                /usr/bin/time -f %M -a -o "$WORK/rss-$n" ${RT[$n]} run "m-$n" >/dev/null 2>&1
        done
        printf '%-10s peak RSS median %6d KiB   max %6d KiB\n' "$n" \
                "$(sort -n "$WORK/rss-$n" | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')" \
                "$(sort -n "$WORK/rss-$n" | tail -1)"
done

echo "# after 2 s idle, 5 runs each (ms)"
for n in "${names[@]}"; do
        t=""
        for i in 1 2 3 4 5; do
                sleep 2
                s=$(date +%s%N)
                ${RT[$n]} run "i-$n" >/dev/null 2>&1
                t="$t $(( ($(date +%s%N) - s) / 10000 ))"
        done
        printf '%-10s after idle:' "$n"
        for v in $t; do printf ' %d.%02d' $((v / 100)) $((v % 100)); done
        echo
done
