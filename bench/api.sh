#!/usr/bin/env bash
# bench/api.sh — the Docker Engine API, driven by the same docker CLI 28.2, against berth's
# `system service`, dockerd 20.10 and `podman system service` in one hyperfine run each:
# `run --rm IMG true`, `exec`, `ps -a` with 100 containers (and the docker CLI's own floor for
# it, against a server that answers from memory), `logs` of 10,000 lines, curl of
# GET /_ping and /containers/json, and the idle RSS of each service (dockerd with its
# containerd).
#
#   bench/api.sh [RUNS]     (default 20; root; hyperfine, jq, curl; dockerd and podman are
#                            used when installed, skipped loudly otherwise)
#   BERTH=path/to/berth bench/api.sh   (default build/src/cmd/berth)
#
# Every service runs on private sockets and directories; all containers use --network none
# (networking is measured by bench/net.sh).  Podman runs with cgroupfs, runc and low ulimits
# for the same reasons as in bench/engine.sh.
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
RUNS=${1:-20}
B="${BERTH:-$top/build/src/cmd/berth}"
[ "$(id -u)" = 0 ] || { echo "bench/api.sh: needs root" >&2; exit 2; }
for c in hyperfine jq curl docker busybox; do
        command -v $c >/dev/null || { echo "bench/api.sh: needs $c" >&2; exit 2; }
done
work=$(mktemp -d /tmp/berth-api-bench.XXXXXX)
export BERTH_RUN_DIR=$work/run BERTH_DATA_DIR=$work/data DOCKER_CONFIG=$work/docker-config
mkdir -p "$DOCKER_CONFIG"
pids=()
cleanup() {
        for s in berth docker podman; do
                [ -S "$work/$s.sock" ] || continue
                docker -H "unix://$work/$s.sock" rm -f $(docker -H "unix://$work/$s.sock" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
        done
        podman --root "$work/podman" --runroot "$work/podman-run" rm -af -t 0 >/dev/null 2>&1 || true
        for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
        for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
        umount -R "$work"/* 2>/dev/null || true
        rm -rf "$work" 2>/dev/null || true
}
trap cleanup EXIT
wait_sock() { for _ in $(seq 150); do curl -sf --unix-socket "$1" http://d/_ping >/dev/null 2>&1 && return 0; sleep 0.2; done; echo "bench/api.sh: $1 never answered" >&2; exit 1; }

tar="$work/busybox.tar"
"$top/scripts/mkimage-busybox" --tar "$tar"

"$B" system service -H "unix://$work/berth.sock" >"$work/berth.log" 2>&1 &
pids+=($!)
berth_pid=$!
wait_sock "$work/berth.sock"
names=(berth)
if command -v dockerd >/dev/null; then
        dockerd --data-root "$work/docker" --exec-root "$work/docker-exec" -H "unix://$work/docker.sock" \
                --pidfile "$work/docker.pid" --iptables=false --ip6tables=false --bridge=none \
                --ip-masq=false --log-level=error >"$work/dockerd.log" 2>&1 &
        pids+=($!)
        dockerd_pid=$!
        wait_sock "$work/docker.sock"
        names+=(docker)
else
        echo "# dockerd not installed: skipped (apt-get install docker.io)"
fi
if command -v podman >/dev/null; then
        podman --root "$work/podman" --runroot "$work/podman-run" --cgroup-manager cgroupfs \
                --runtime runc --events-backend none system service --time 0 \
                "unix://$work/podman.sock" >"$work/podman.log" 2>&1 &
        pids+=($!)
        podman_pid=$!
        wait_sock "$work/podman.sock"
        names+=(podman)
else
        echo "# podman not installed: skipped (apt-get install podman)"
fi
dk() { local s=$1; shift; docker -H "unix://$work/$s.sock" "$@"; }
ulim() { [ "$1" = podman ] && echo "--ulimit nofile=1024:1024 --ulimit nproc=1024:1024"; true; }
for s in "${names[@]}"; do dk "$s" import "$tar" bench/busybox >/dev/null; done

json() { jq -r "$1" "$work/hf.json"; }
table() {
        echo "### $1"
        echo
        echo "| service | median (ms) | mean ± σ (ms) | ratio to berth |"
        echo "|---|---|---|---|"
        jq -r '.results as $r | ($r[0].median) as $b | $r[] |
                "| \(.command) | \(.median*1000*100|round/100) | \(.mean*1000*100|round/100) ± \(.stddev*1000*100|round/100) | \((.median/$b)*100|round/100) |"' "$work/hf.json"
        echo
}
hf() { # builds one command per service from a template with @S@ (docker -H …) and @U@ (ulimits)
        local tmpl="$1" a=() s c
        for s in "${names[@]}"; do
                c=${tmpl//@S@/docker -H unix://$work/$s.sock}
                c=${c//@U@/$(ulim "$s")}
                c=${c//@SOCK@/$work/$s.sock}
                a+=(--command-name "$s" "$c")
        done
        hyperfine -N -w 3 -r "$RUNS" --export-json "$work/hf.json" "${a[@]}" >/dev/null 2>&1
}

hf "@S@ run --rm --network none @U@ bench/busybox true"
table "docker run --rm --network none IMG true"

for s in "${names[@]}"; do dk "$s" run -d --name ex --network none $(ulim "$s") bench/busybox sleep 1000 >/dev/null; done
hf "@S@ exec ex true"
table "docker exec CONTAINER true"

# detached, then waited for: an attached run through podman's service hung here
for s in "${names[@]}"; do
        dk "$s" run -d --name lg --network none $(ulim "$s") bench/busybox sh -c 'seq 10000' >/dev/null
        timeout 60 docker -H "unix://$work/$s.sock" wait lg >/dev/null || true
done
hf "@S@ logs lg"
table "docker logs of 10,000 lines"

for s in "${names[@]}"; do
        for i in $(seq 98); do dk "$s" create --network none bench/busybox true >/dev/null; done
done
# "floor": the same docker CLI against a server that answers from memory what berth answered
# (bench/canned_api.py): the client's own cost, below which no service can bring this row
python3 "$top/bench/canned_api.py" "$work/floor.sock" "$work/berth.sock" \
        "/v1.41/containers/json?all=1" >"$work/floor.log" 2>&1 &
pids+=($!)
wait_sock "$work/floor.sock"
names+=(floor)
hf "@S@ ps -a"
unset 'names[-1]'
table "docker ps -a with 100 containers (floor: a server answering from memory)"

hf "curl -s --unix-socket @SOCK@ http://d/_ping"
table "curl GET /_ping"
hf "curl -s --unix-socket @SOCK@ http://d/v1.41/containers/json?all=1"
table "curl GET /containers/json?all=1 (100 containers)"

rss() { local t=0 p; for p in "$@"; do t=$((t + $(awk '/^Rss/{print $2}' /proc/$p/smaps_rollup))); done; echo $t; }
sleep 2
echo "### idle RSS of the service (KiB, after the runs above)"
echo
echo "| service | RSS (KiB) |"
echo "|---|---|"
echo "| berth system service | $(rss $berth_pid) |"
if [ -n "${dockerd_pid:-}" ]; then
        ctrd=$(pgrep -P "$dockerd_pid" containerd || true)
        echo "| dockerd + containerd | $(rss $dockerd_pid $ctrd) |"
fi
[ -n "${podman_pid:-}" ] && echo "| podman system service | $(rss $podman_pid) |"
echo
echo "($(date -u +%Y-%m-%d), $(nproc) cores, hyperfine -N -w 3 -r $RUNS, docker CLI $(docker version -f '{{.Client.Version}}' 2>/dev/null || true))"
