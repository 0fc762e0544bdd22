#!/usr/bin/env bash
# tests/compat/dockerd.sh — a private Docker daemon for the compat suite: Debian's dockerd on
# its own data-root, exec-root, pidfile, socket and bridge, never the host's.
#
#   tests/compat/dockerd.sh start DIR   start it (state under DIR), print the socket's DOCKER_HOST
#   tests/compat/dockerd.sh stop DIR    stop it, unmount what it left under DIR, delete the bridge
#
# dockerd starts its own containerd (state under DIR/data/containerd, socket under
# DIR/exec/containerd); stopping dockerd with SIGTERM stops that containerd too, and "stop" kills
# whatever is left by pidfile, never by name.
set -uo pipefail
BRIDGE="${COMPAT_BRIDGE:-bcompat0}"
SUBNET_ADDR="${COMPAT_BRIDGE_ADDR:-172.31.250.1/24}"

cmd="${1:?start|stop}"
dir="${2:?state directory}"

umount_under() {
        local d="$1" m
        # deepest first, so nested mounts go before their parents
        awk '{print $5}' /proc/self/mountinfo | grep "^$d/" | sort -r | while read -r m; do
                umount -l "$m" 2>/dev/null || true
        done
}

case "$cmd" in
start)
        mkdir -p "$dir/data" "$dir/exec"
        if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
                ip link add "$BRIDGE" type bridge || exit 1
                ip addr add "$SUBNET_ADDR" dev "$BRIDGE" || exit 1
                ip link set "$BRIDGE" up
        fi
        sock="$dir/docker.sock"
        "${COMPAT_DOCKERD:-/usr/sbin/dockerd}" \
                --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/dockerd.pid" \
                -H "unix://$sock" --iptables=false --ip6tables=false --ip-masq=false --ip-forward=false \
                --bridge "$BRIDGE" --storage-driver overlay2 --log-level warn \
                >"$dir/dockerd.log" 2>&1 &
        echo $! >"$dir/dockerd.bgpid"
        for _ in $(seq 1 150); do
                if [ -S "$sock" ] && curl -s --unix-socket "$sock" http://d/_ping 2>/dev/null | grep -q OK; then
                        echo "unix://$sock"
                        exit 0
                fi
                kill -0 "$(cat "$dir/dockerd.bgpid")" 2>/dev/null || break
                sleep 0.2
        done
        echo "dockerd did not come up; its log:" >&2
        tail -20 "$dir/dockerd.log" >&2
        exit 1
        ;;
stop)
        sock="$dir/docker.sock"
        if [ -S "$sock" ]; then
                # what a scenario left running: removed through the API (no CLI needed)
                for id in $(curl -s --unix-socket "$sock" 'http://d/containers/json?all=1' |
                        grep -o '"Id":"[0-9a-f]*"' | cut -d'"' -f4); do
                        curl -s -X DELETE --unix-socket "$sock" "http://d/containers/$id?force=1" >/dev/null
                done
        fi
        pid=""
        [ -f "$dir/dockerd.bgpid" ] && pid=$(cat "$dir/dockerd.bgpid")
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
                kill -TERM "$pid"
                for _ in $(seq 1 100); do
                        kill -0 "$pid" 2>/dev/null || break
                        sleep 0.1
                done
                kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
        fi
        # the managed containerd normally exits with dockerd; make sure by its own pidfile
        for pf in "$dir/exec/containerd/containerd.pid"; do
                [ -f "$pf" ] || continue
                cpid=$(cat "$pf")
                [ -n "$cpid" ] && kill -0 "$cpid" 2>/dev/null && kill -TERM "$cpid"
        done
        umount_under "$dir"
        if ip link show "$BRIDGE" >/dev/null 2>&1; then
                ip link del "$BRIDGE" 2>/dev/null || true
        fi
        ;;
*)
        echo "usage: $0 start|stop DIR" >&2
        exit 2
        ;;
esac
