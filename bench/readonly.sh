#!/usr/bin/env bash
# bench/readonly.sh — the read-only commands (images, image inspect, inspect, ps -a, volume ls,
# network ls, logs --tail 10) with 100 containers and 50 images present: berth against the
# docker CLI talking to dockerd (which keeps its state in memory) and Podman, each command in
# ONE hyperfine run.  Prints one table of medians with berth's ratio to each peer.
#
#   bench/readonly.sh [RUNS]     (default 30; root; hyperfine, jq, busybox-static; docker.io
#                                 and podman are used when installed, skipped loudly otherwise)
#   BERTH=path/to/berth bench/readonly.sh   (default build/src/cmd/berth)
#   BERTH_BEFORE=path/to/old/berth ...      (adds that binary's column, same state, same run)
#
# dockerd is started on private paths (data-root, exec-root, pidfile, socket under the work
# directory; no iptables, no bridge) and stopped at the end.  Podman runs with cgroupfs, runc,
# no events backend and NOFILE/NPROC within this sandbox's hard limit (as bench/engine.sh).
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
RUNS=${1:-30}
B="${BERTH:-$top/build/src/cmd/berth}"
BASE="${BERTH_BEFORE:-}" # another berth binary on the same state: an A/B column
[ "$(id -u)" = 0 ] || { echo "bench/readonly.sh: needs root" >&2; exit 2; }
for c in hyperfine jq busybox; do
        command -v $c >/dev/null || { echo "bench/readonly.sh: needs $c" >&2; exit 2; }
done
work=$(mktemp -d /tmp/berth-readonly-bench.XXXXXX)
export BERTH_RUN_DIR=$work/run BERTH_DATA_DIR=$work/data
dockerd_pid=""
DOCKER=""
PODMAN=""
cleanup() {
        ids=$("$B" ps -aq 2>/dev/null) || true
        [ -n "$ids" ] && "$B" rm -f $ids >/dev/null 2>&1
        if [ -n "$dockerd_pid" ]; then
                ids=$($DOCKER ps -aq 2>/dev/null) || true
                [ -n "$ids" ] && $DOCKER rm -f $ids >/dev/null 2>&1
                kill "$dockerd_pid" 2>/dev/null
                wait "$dockerd_pid" 2>/dev/null || true
        fi
        [ -n "$PODMAN" ] && $PODMAN rm -af >/dev/null 2>&1
        awk '{print $5}' /proc/self/mountinfo | grep "^$work/" | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
        rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

tar="$work/busybox.tar"
"$top/scripts/mkimage-busybox" --tar "$tar" >/dev/null

if command -v podman >/dev/null; then
        PODMAN="podman --root $work/podman --runroot $work/podman-run --cgroup-manager cgroupfs --runtime runc --events-backend none"
else
        echo "# podman not installed: skipped (apt-get install podman)"
fi
if command -v dockerd >/dev/null && command -v docker >/dev/null; then
        dockerd --data-root "$work/docker" --exec-root "$work/docker-exec" -H "unix://$work/docker.sock" \
                --pidfile "$work/docker.pid" --iptables=false --ip6tables=false --bridge=none \
                --ip-masq=false --log-level=error >"$work/dockerd.log" 2>&1 &
        dockerd_pid=$!
        DOCKER="docker -H unix://$work/docker.sock"
        for _ in $(seq 100); do $DOCKER info >/dev/null 2>&1 && break; sleep 0.2; done
else
        echo "# dockerd or docker not installed: skipped (apt-get install docker.io)"
fi

# The same state in each: busybox + 49 more images (each its own config, one shared layer),
# 100 created containers, one exited container with 1,000 log lines, 10 volumes.
populate() { # CLI [run flags]
        local cli="$1" rf="${2:-}"
        $cli import "$tar" bench/busybox >/dev/null 2>&1
        for i in $(seq 49); do $cli import -c "LABEL n=$i" "$tar" "bench/img:$i" >/dev/null 2>&1; done
        for _ in $(seq 100); do $cli create --network none $rf bench/busybox true >/dev/null; done
        $cli run --name lg --network none $rf bench/busybox sh -c 'seq 1000' >/dev/null
        for i in $(seq 10); do $cli volume create "vol$i" >/dev/null; done
}
populate "$B"
[ -n "$DOCKER" ] && populate "$DOCKER"
[ -n "$PODMAN" ] && populate "$PODMAN" "--ulimit nofile=1024:1024 --ulimit nproc=1024:1024"

rows=(
        "images" "images"
        "image inspect" "image inspect bench/busybox"
        "inspect CONTAINER" "inspect lg"
        "ps -a" "ps -a"
        "volume ls" "volume ls"
        "network ls" "network ls"
        "logs --tail 10" "logs --tail 10 lg"
)
ms() { jq -r ".results[] | select(.command == \"$2\") | .median*1000*10 | round/10" "$1"; }
ratio() { jq -r ".results as \$r | ([\$r[] | select(.command == \"berth\")][0].median / [\$r[] | select(.command == \"$2\")][0].median * 100 | round / 100)" "$1"; }
peers=()
[ -n "$BASE" ] && peers+=(before)
[ -n "$DOCKER" ] && peers+=(docker)
[ -n "$PODMAN" ] && peers+=(podman)
head="| command | berth (ms)"
rule="|---|---"
for p in "${peers[@]}"; do head+=" | $p (ms)"; rule+="|---"; done
for p in "${peers[@]}"; do head+=" | berth / $p"; rule+="|---"; done
echo "$head |"
echo "$rule|"
for ((i = 0; i < ${#rows[@]}; i += 2)); do
        args=(--command-name berth "$B ${rows[i + 1]}")
        [ -n "$BASE" ] && args+=(--command-name before "$BASE ${rows[i + 1]}")
        [ -n "$DOCKER" ] && args+=(--command-name docker "$DOCKER ${rows[i + 1]}")
        [ -n "$PODMAN" ] && args+=(--command-name podman "$PODMAN ${rows[i + 1]}")
        hyperfine -N -w 3 -r "$RUNS" --export-json "$work/hf.json" "${args[@]}" >/dev/null 2>&1
        line="| \`${rows[i]}\` | $(ms "$work/hf.json" berth)"
        for p in "${peers[@]}"; do line+=" | $(ms "$work/hf.json" "$p")"; done
        for p in "${peers[@]}"; do line+=" | $(ratio "$work/hf.json" "$p")"; done
        echo "$line |"
done
echo
echo "($(date -u '+%Y-%m-%d %H:%M') UTC, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg), hyperfine -N -w 3 -r $RUNS; commands:"
echo "    $B ARGS"
[ -n "$BASE" ] && echo "    $BASE ARGS"
[ -n "$DOCKER" ] && echo "    $DOCKER ARGS"
[ -n "$PODMAN" ] && echo "    $PODMAN ARGS"
echo ")"
