#!/usr/bin/env bash
# bench/engine.sh — `berth run --rm IMG true` against `podman run --rm` and `docker run --rm` on
# the same busybox image in one hyperfine run (all with --network none), plus `exec`,
# `ps` with 0 and 100 containers, `logs` of 10,000 lines, and the RSS of one idle monitor
# next to a containerd shim's.
#
#   bench/engine.sh [RUNS]     (default 20; root; hyperfine, busybox-static; podman and
#                               docker.io are used when installed, skipped loudly otherwise)
#
# dockerd is started by this script on private sockets and directories (no iptables, no
# bridge) and stopped at the end.  Podman runs with cgroupfs and runc (Debian's Podman
# defaults to crun, which refuses this host's hybrid cgroups) and with ulimits inside this
# sandbox's hard limit (its default NOFILE of 1048576 exceeds it).
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
RUNS=${1:-20}
B="$top/build/src/cmd/berth"
[ "$(id -u)" = 0 ] || { echo "bench/engine.sh: needs root" >&2; exit 2; }
for c in hyperfine jq busybox; do
        command -v $c >/dev/null || { echo "bench/engine.sh: needs $c" >&2; exit 2; }
done
work=$(mktemp -d /tmp/berth-engine-bench.XXXXXX)
export BERTH_RUN_DIR=$work/run BERTH_DATA_DIR=$work/data
dockerd_pid=""
cleanup() {
        ids=$("$B" ps -aq 2>/dev/null) || true
        [ -n "$ids" ] && "$B" rm -f $ids >/dev/null 2>&1
        if [ -n "$dockerd_pid" ]; then
                docker -H "unix://$work/docker.sock" rm -f $(docker -H "unix://$work/docker.sock" ps -aq) >/dev/null 2>&1 || true
                kill "$dockerd_pid" 2>/dev/null; wait "$dockerd_pid" 2>/dev/null || true
        fi
        podman --root "$work/podman" --runroot "$work/podman-run" rm -af >/dev/null 2>&1 || true
        umount -R "$work"/* 2>/dev/null || true
        rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT

tar="$work/busybox.tar"
"$top/scripts/mkimage-busybox" --tar "$tar"
"$B" import -q "$tar" bench/busybox >/dev/null 2>&1 || "$B" import "$tar" bench/busybox >/dev/null

cmds=(berth "$B run --rm --network none bench/busybox true")
PODMAN=""
if command -v podman >/dev/null; then
        PODMAN="podman --root $work/podman --runroot $work/podman-run --cgroup-manager cgroupfs --runtime runc --events-backend none"
        $PODMAN import "$tar" bench/busybox >/dev/null
        cmds+=(podman "$PODMAN run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 bench/busybox true")
else
        echo "# podman not installed: skipped (apt-get install podman)"
fi
DOCKER=""
if command -v dockerd >/dev/null; then
        dockerd --data-root "$work/docker" --exec-root "$work/docker-exec" -H "unix://$work/docker.sock" \
                --pidfile "$work/docker.pid" --iptables=false --ip6tables=false --bridge=none \
                --ip-masq=false --log-level=error >"$work/dockerd.log" 2>&1 &
        dockerd_pid=$!
        DOCKER="docker -H unix://$work/docker.sock"
        for i in $(seq 100); do $DOCKER info >/dev/null 2>&1 && break; sleep 0.2; done
        $DOCKER import "$tar" bench/busybox >/dev/null
        cmds+=(docker "$DOCKER run --rm --network none bench/busybox true")
else
        echo "# dockerd not installed: skipped (apt-get install docker.io)"
fi

json() { jq -r "$1" "$work/hf.json"; }
table() { # title names...
        echo "### $1"
        echo
        echo "| command | median (ms) | mean ± σ (ms) | ratio to berth |"
        echo "|---|---|---|---|"
        jq -r '.results as $r | ($r[0].median) as $b | $r[] |
                "| \(.command) | \(.median*1000*100|round/100) | \(.mean*1000*100|round/100) ± \(.stddev*1000*100|round/100) | \((.median/$b)*100|round/100) |"' "$work/hf.json"
        echo
}
hf() { # name cmd name cmd ...
        local a=()
        while [ $# -ge 2 ]; do a+=(--command-name "$1" "$2"); shift 2; done
        hyperfine -N -w 3 -r "$RUNS" --export-json "$work/hf.json" "${a[@]}" >/dev/null 2>&1
}

hf "${cmds[@]}"
table "run --rm --network none IMG true (back to back)"

# exec into a running container
"$B" run -d --name ex --network none bench/busybox sleep 1000 >/dev/null
ex=(berth "$B exec ex true")
[ -n "$PODMAN" ] && $PODMAN run -d --name ex --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 bench/busybox sleep 1000 >/dev/null && ex+=(podman "$PODMAN exec ex true")
[ -n "$DOCKER" ] && $DOCKER run -d --name ex --network none bench/busybox sleep 1000 >/dev/null && ex+=(docker "$DOCKER exec ex true")
hf "${ex[@]}"
table "exec CONTAINER true"

# logs of 10,000 lines
"$B" run --name lg --network none bench/busybox sh -c 'seq 10000' >/dev/null
lg=(berth "$B logs lg")
[ -n "$DOCKER" ] && $DOCKER run --name lg --network none bench/busybox sh -c 'seq 10000' >/dev/null && lg+=(docker "$DOCKER logs lg")
hf "${lg[@]}"
table "logs of 10,000 lines"

# ps with 1 (the exec target) and 101 containers
ps1=(berth "$B ps -a")
[ -n "$DOCKER" ] && ps1+=(docker "$DOCKER ps -a")
hf "${ps1[@]}"
table "ps -a with 2 containers"
for i in $(seq 100); do "$B" create --network none bench/busybox true >/dev/null; done
[ -n "$DOCKER" ] && for i in $(seq 100); do $DOCKER create --network none bench/busybox true >/dev/null; done
hf "${ps1[@]}"
table "ps -a with 102 containers"

# RSS of one idle monitor vs a containerd shim
mon=$(jq -r .Monitor.Pid "$BERTH_DATA_DIR/containers/$("$B" inspect -f '{{.Id}}' ex)/state.json")
echo "### idle per-container process"
echo
echo "| process | RSS (KiB) | PSS (KiB) |"
echo "|---|---|---|"
echo "| berth-monitor | $(awk '/^Rss/{print $2}' /proc/$mon/smaps_rollup) | $(awk '/^Pss:/{print $2}' /proc/$mon/smaps_rollup) |"
if [ -n "$DOCKER" ]; then
        shim=$(pgrep -f containerd-shim | head -1)
        [ -n "$shim" ] && echo "| containerd-shim-runc-v2 | $(awk '/^Rss/{print $2}' /proc/$shim/smaps_rollup) | $(awk '/^Pss:/{print $2}' /proc/$shim/smaps_rollup) |"
fi
if [ -n "$PODMAN" ]; then
        conmon=$(pgrep -x conmon | head -1)
        [ -n "$conmon" ] && echo "| conmon | $(awk '/^Rss/{print $2}' /proc/$conmon/smaps_rollup) | $(awk '/^Pss:/{print $2}' /proc/$conmon/smaps_rollup) |"
fi
echo
echo "($(date -u +%Y-%m-%d), $(nproc) cores, hyperfine -N -w 3 -r $RUNS; commands:"
for ((i = 1; i < ${#cmds[@]}; i += 2)); do echo "    ${cmds[i]}"; done
echo ")"

# The read-only commands (images, image inspect, inspect, ps -a, volume ls, network ls, logs
# --tail) with 100 containers and 50 images, side by side with Docker and Podman: their own
# script and state (BENCH_READONLY=0 skips it).
if [ "${BENCH_READONLY:-1}" != 0 ]; then
        cleanup
        trap - EXIT
        BERTH="$B" "$top/bench/readonly.sh" "$RUNS"
fi
