#!/usr/bin/env bash
# bench/build.sh — `berth build` cache hit: rebuilding a Containerfile (FROM, ENV, RUN,
# WORKDIR, COPY, USER, CMD) in which nothing changed, next to `podman build` of the same
# context (buildah chroot isolation: crun cannot make containers in this sandbox's hybrid
# cgroups, and a cache hit runs no container anyway).  Needs root, busybox-static, podman.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_require podman
berth="$BENCH_TOP/build/src/cmd/berth"
work="$(mktemp -d /tmp/berth-bench-build.XXXXXX)"
trap 'podman rmi -f bench-build busybox:latest >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
export BERTH_DATA_DIR="$work/data" BERTH_RUN_DIR="$work/run"
BERTH="$berth" "$BENCH_TOP/scripts/mkimage-busybox" busybox:latest >/dev/null
"$berth" save -o "$work/bb.tar" busybox:latest
podman load -q -i "$work/bb.tar" >/dev/null
mkdir -p "$work/ctx"
echo hello > "$work/ctx/a.txt"
cat > "$work/ctx/Containerfile" <<'CF'
FROM busybox
ENV GREETING="hello world"
RUN echo "$GREETING" > /file
WORKDIR /app
COPY a.txt .
USER nobody
CMD ["cat", "/file"]
CF
# the first builds fill the caches
"$berth" build -q -t bench-build "$work/ctx" >/dev/null
podman build -q --isolation=chroot -t bench-build "$work/ctx" >/dev/null
bench_compare "build, cache hit (7 steps, nothing changed)" \
        "berth build" "$berth build -q -t bench-build $work/ctx" \
        "podman build" "podman build -q --isolation=chroot -t bench-build $work/ctx"
