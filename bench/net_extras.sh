#!/usr/bin/env bash
# bench/net_extras.sh — the costs of the network features beside bench/net.sh's hot paths
# (docs/network.md): each pair measured in the same run, berth only (Docker's equivalents are
# its embedded resolver and docker-proxy, which bench/net.sh measures).
#
#   1. DNS: A queries for a container's name from a container on a user network, to the
#      network's resolver (dnsmasq on the gateway) and to a container's own resolver (--dns:
#      dnsmasq on 127.0.0.11 in its namespace).
#   2. A request through a published port: 127.0.0.1 (kernel DNAT) and [::1] (the relay,
#      berth-proxy), `ab -n AB_N -c 1` on a keep-alive-less busybox httpd.
#   3. `run --rm IMG true` with and without --link (default bridge), with and without --dns on
#      a user network (the cost of the container's own resolver), hyperfine medians.
#
# Usage: sudo bench/net_extras.sh [RUNS]   (BERTH_BUILD=build dir; state in a temp dir)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
RUNS=${1:-15}
: "${AB_N:=3000}" "${DNS_N:=2000}"
B=${BERTH_BUILD:-$top/build}/src/cmd/berth
[ "$(id -u)" = 0 ] || { echo "bench/net_extras.sh: needs root" >&2; exit 2; }
for c in hyperfine ab jq python3 nsenter dnsmasq; do
        command -v $c >/dev/null || { echo "bench/net_extras.sh: needs $c" >&2; exit 2; }
done
W=$(mktemp -d /tmp/berth-net-extras.XXXXXX)
export BERTH_RUN_DIR=$W/run BERTH_DATA_DIR=$W/data
cleanup() {
        local ids
        ids=$("$B" ps -aq 2>/dev/null) || true
        [ -n "$ids" ] && "$B" rm -f $ids >/dev/null 2>&1
        "$B" network prune -f >/dev/null 2>&1 || true
        # no overlay is left mounted once every container is removed
        grep -q " $W/" /proc/self/mountinfo || rm -rf "$W"
}
trap cleanup EXIT
BERTH="$B" "$top/scripts/mkimage-busybox" busybox:latest >/dev/null
PORT4=18491 PORT6=18492

"$B" network create --subnet 10.248.0.0/24 -o dns.upstream=127.0.0.9 xb >/dev/null
"$B" run -d --name srv --network xb busybox sleep 100000 >/dev/null
"$B" run -d --name plain --network xb busybox sleep 100000 >/dev/null
# --dns points at 127.0.0.9 inside the namespace: nothing is ever forwarded anywhere
"$B" run -d --name own --network xb --dns 127.0.0.9 busybox sleep 100000 >/dev/null
ns_of() { "$B" inspect -f '{{.NetworkSettings.SandboxKey}}' "$1"; }
echo "1. DNS, $DNS_N A queries for srv (ms):"
printf '   network resolver 10.248.0.1:  '
nsenter --net="$(ns_of plain)" python3 "$top/bench/net_probe.py" dns 10.248.0.1 srv "$DNS_N" |
        jq -c '{median, p90, failed}'
printf '   own resolver 127.0.0.11:      '
nsenter --net="$(ns_of own)" python3 "$top/bench/net_probe.py" dns 127.0.0.11 srv "$DNS_N" |
        jq -c '{median, p90, failed}'

# on the user network: the default bridge is shared by every state directory on the host
"$B" run -d --name web --network xb -p 127.0.0.1:$PORT4:80 -p "[::1]:$PORT6:80" busybox sh -c \
        'mkdir -p /www && echo hi >/www/index.html && exec httpd -f -p 80 -h /www' >/dev/null
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT4/" >/dev/null && break; sleep 0.1; done
echo "2. a request through a published port, ab -n $AB_N -c 1 (mean ms per request):"
for u in "http://127.0.0.1:$PORT4/" "http://[::1]:$PORT6/"; do
        printf '   %-26s ' "$u"
        ab -q -n "$AB_N" -c 1 "$u" 2>&1 | awk '/Time per request:.*\(mean\)$/ {print $4} /^apr_/ {print}' || true
done

"$B" run -d --name ldb busybox sleep 100000 >/dev/null
echo "3. run --rm (hyperfine, $RUNS runs, medians in ms):"
hyperfine -N -w 3 -r "$RUNS" --export-json "$W/h.json" \
        "$B run --rm busybox true" \
        "$B run --rm --link ldb:db busybox true" \
        "$B run --rm --network xb busybox true" \
        "$B run --rm --network xb --dns 127.0.0.9 busybox true" >/dev/null
jq -r '.results[] | "   \(.median * 1000 | . * 10 | round / 10)  \(.command | sub(".*/berth "; "berth "))"' "$W/h.json"
