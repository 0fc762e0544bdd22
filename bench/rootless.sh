#!/usr/bin/env bash
# bench/rootless.sh — rootless `berth run --rm IMG true` against rootless `podman run --rm` on
# the same busybox image, as an unprivileged user with subordinate ids, in one hyperfine run
# (both with --network none; no cgroups on this cgroup-v1 host for either).  berth joins its
# user namespace (engine/userns.h) and mounts an overlay there; Podman 4.3 picks vfs here.
#
#   bench/rootless.sh [RUNS]   (default 20; run as root: it makes the user berth-bench)
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
. "$top/bench/lib.sh"
BENCH_RUNS=${1:-20}
[ "$(id -u)" = 0 ] || { echo "bench/rootless.sh: needs root (to make the test user)" >&2; exit 2; }
bench_require hyperfine busybox runuser
U=berth-bench
id "$U" >/dev/null 2>&1 || useradd -m -s /bin/bash "$U"
grep -q "^$U:" /etc/subuid || usermod --add-subuids 300000-365535 --add-subgids 300000-365535 "$U"
work=$(mktemp -d /tmp/berth-rootless-bench.XXXXXX)
chmod 755 "$work"
xdg="$work/xdg"
cleanup() {
        pkill -KILL -u "$U" 2>/dev/null || true
        sleep 0.2
        userdel -r "$U" >/dev/null 2>&1 || true
        rm -rf "$work"
}
trap cleanup EXIT
cp "$top"/build/src/cmd/berth "$top"/build/src/cmd/berth-monitor "$top"/build/src/cmd/berth-init "$work"/
"$top/scripts/mkimage-busybox" --tar "$work/busybox.tar" >/dev/null
chmod -R a+rX "$work"
as_user() { runuser -u "$U" -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="/home/$U" XDG_RUNTIME_DIR="$xdg" "$@"; }
mkdir -p -m 700 "$xdg" && chown "$U" "$xdg"
as_user "$work/berth" import "$work/busybox.tar" bench/busybox >/dev/null
cmds=(berth "$work/berth run --rm --network none bench/busybox true")
if command -v podman >/dev/null; then
        as_user podman import "$work/busybox.tar" bench/busybox >/dev/null 2>&1
        cmds+=(podman "podman --cgroup-manager cgroupfs --runtime runc --events-backend none run --rm --network none bench/busybox true")
else
        echo "# podman not installed: skipped (apt-get install podman)"
fi
BENCH_AS_USER=$U BENCH_USER_ENV="XDG_RUNTIME_DIR=$xdg" bench_compare "rootless run --rm true" "${cmds[@]}"
echo "berth's storage driver here: $(as_user "$work/berth" info --format '{{.Driver}}' 2>/dev/null || as_user "$work/berth" info | grep 'Storage Driver')"
