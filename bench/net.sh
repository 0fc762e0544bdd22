#!/usr/bin/env bash
# bench/net.sh — berth's container networking against Docker 20.10 (dockerd from docker.io, its
# bridge and iptables, docker-proxy on: "docker"; and a second dockerd with
# --userland-proxy=false: "docker-nat") and Podman 4.3.1 (netavark + aardvark-dns), on the same
# busybox image, all in one run:
#
#   1. run --rm IMG true on the default bridge and with --network none (one hyperfine run);
#      the network part = the difference of the medians
#   2. run -d -p PORT:80 IMG httpd → the first HTTP 200 from 127.0.0.1:PORT (wall time, median)
#   3. ab -n 5000 -c 1 and -c 8 through the published port and straight to the container's IP
#   4. iperf3 (3 s) container → container on a user network, host → published port; the
#      namespace's own loopback as the ceiling
#   5. DNS: A queries for another container's name, from a container on a user network, to the
#      resolver in its resolv.conf (berth: dnsmasq on the gateway; Podman: aardvark-dns on the
#      gateway; Docker: 127.0.0.11), timed one by one in-process (bench/net_probe.py)
#   6. network create + network rm (hyperfine)
#
#   bench/net.sh [RUNS]     (default 20: hyperfine runs, and samples of part 2 (at most 20);
#                            root; hyperfine jq curl ab iperf3 python3, docker.io, podman,
#                            netavark, aardvark-dns; a missing peer is skipped loudly)
#   AB_N=5000 (requests per ab run), DNS_N=2000 (queries), IPERF_T=3 (seconds)
#   NET_PARTS="1 2 3 4 5 6" (which parts), BERTH_OWN_SYSFS=0 (berth under a bare nsenter --net)
#
# Isolation: each engine runs in a network namespace of its own made here (bench-berth-PID,
# bench-docker-PID, bench-dockernat-PID, bench-podman-PID, lo up): the daemons, the CLIs (via
# nsenter --net, which leaves the mount namespace alone; berth's also join one mount namespace,
# held for the run, whose /sys is its netns's: see BERTH_OWN_SYSFS below), curl, ab and iperf3.
# Their bridges, iptables/nftables rules and FORWARD policies live and die with those
# namespaces; the host's ruleset is never touched.  Private state everywhere (BERTH_RUN_DIR/BERTH_DATA_DIR, dockerd
# --data-root/--exec-root/-H, podman --root/--runroot and a CONTAINERS_CONF with private
# network_config_dir and tmp_dir), under one mktemp dir; all removed by the EXIT trap.  No
# registry: the image is scripts/mkimage-busybox --tar, imported into each.  Name lookups are
# only of container names; berth's networks forward upstream to 127.0.0.9 (nothing listens).
#
# Podman runs with cgroupfs and runc, ulimits inside this sandbox's hard NOFILE limit (see
# bench/engine.sh), and `rm -f -t 0` (httpd as PID 1 ignores SIGTERM: the default would wait 10 s).
set -euo pipefail
top="$(cd "$(dirname "$0")/.." && pwd)"
RUNS=${1:-20}
: "${AB_N:=5000}" "${DNS_N:=2000}" "${IPERF_T:=3}"
FC_REPS=$((RUNS < 20 ? RUNS : 20))
B="$top/build/src/cmd/berth"
PROBE="python3 $top/bench/net_probe.py"
[ "$(id -u)" = 0 ] || { echo "bench/net.sh: needs root" >&2; exit 2; }
for c in hyperfine jq curl ab iperf3 python3 nsenter ip; do
        command -v $c >/dev/null || { echo "bench/net.sh: needs $c (apt-get install -y --no-install-recommends hyperfine jq curl apache2-utils iperf3 python3)" >&2; exit 2; }
done

work=$(mktemp -d /tmp/berth-net-bench.XXXXXX)
chmod 755 "$work"
report=$work/report.md
export BERTH_RUN_DIR=$work/berth-run BERTH_DATA_DIR=$work/berth-data
declare -A NS NSPFX BIN CLI RMF DPID  # per engine: netns, "nsenter ...", CLI, the two, "rm -f", dockerd pid
declare -A RB RN NETPART FC LAT RPS8 RPS1 SRVNS CLINS SRVIP DNSSRV USERNET C2C PUBT DNSJ NC  # results
LOOP="" best_c2c="" best_pub=""
PEERS=()     # the engines that are set up, berth first
FAILS=()     # what failed, with command and output
note() { echo "# $*" >&2; }
out() { tee -a "$report"; }
fail() { # WHAT OUTPUT
        FAILS+=("$1"$'\n'"$(printf '%s\n' "$2" | tail -n 15 | sed 's/^/        /')")
        note "FAILED: $1"
        [ -z "$2" ] || printf '%s\n' "$2" | tail -n 15 | sed 's/^/#   /' >&2
}
mkns() { ip netns add "$1" && ip -n "$1" link set lo up; }
in_ns() { local p=$1; shift; ${NSPFX[$p]} "$@"; }
cli() { local p=$1; shift; ${CLI[$p]} "$@"; }
has() { local p; for p in "${PEERS[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }

cleanup() {
        set +e
        local p pid
        for f in "$work"/iperf-*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
        if has berth; then
                ids=$(cli berth ps -aq 2>/dev/null)
                [ -n "$ids" ] && cli berth rm -f $ids >/dev/null 2>&1
                cli berth network rm benchnet hfnet >/dev/null 2>&1
                cli berth network prune -f >/dev/null 2>&1
        fi
        if has podman; then
                cli podman rm -af -t 0 >/dev/null 2>&1
                cli podman network rm -f benchnet hfnet >/dev/null 2>&1
        fi
        for p in docker dockernat; do
                [ -n "${DPID[$p]:-}" ] || continue
                ids=$(cli $p ps -aq 2>/dev/null)
                [ -n "$ids" ] && cli $p rm -f $ids >/dev/null 2>&1
                kill "${DPID[$p]}" 2>/dev/null
                for i in $(seq 100); do kill -0 "${DPID[$p]}" 2>/dev/null || break; sleep 0.1; done
        done
        # anything still running in our namespaces was started by this script (dnsmasq,
        # aardvark-dns, a stray iperf3): end it by its id
        for ns in "${NS[@]}"; do
                for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
        done
        sleep 0.2
        for ns in "${NS[@]}"; do ip netns del "$ns" 2>/dev/null; done
        grep -o " $work/[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
        rm -rf "$work" 2>/dev/null
}
trap cleanup EXIT

# ---------------------------------------------------------------------------- the engines
tar="$work/busybox.tar"
"$top/scripts/mkimage-busybox" --tar "$tar" >/dev/null
IMG=bench/busybox
WEBA=(sh -c 'mkdir -p /www && echo hello >/www/index.html && exec httpd -f -p 80 -h /www')
WEB="sh -c '${WEBA[2]}'" # the same, as one string for net_probe.py (shlex)

NS[berth]=bench-berth-$$
mkns "${NS[berth]}"
NSPFX[berth]="nsenter --net=/run/netns/${NS[berth]}"
if [ "${BERTH_OWN_SYSFS:-1}" = 1 ]; then
        # berth writes /sys/class/net/VETH/brport/hairpin_mode, and /sys shows the devices of the
        # netns that mounted it: under a bare nsenter --net it fails (see the report).  So berth
        # runs in one mount namespace held for the whole run whose /sys is its netns's (made by
        # ip netns exec; all berth calls share it, so its mounts stay visible to each other).
        ip netns exec "${NS[berth]}" sleep infinity &
        BHOLD=$!
        for i in $(seq 100); do
                [ "$(readlink /proc/$BHOLD/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ] &&
                        [ "$(readlink /proc/$BHOLD/exe)" != "$(command -v ip)" ] && break
                sleep 0.02
        done
        NSPFX[berth]="nsenter --mount=/proc/$BHOLD/ns/mnt --net=/run/netns/${NS[berth]}"
fi
BIN[berth]=$B
CLI[berth]="${NSPFX[berth]} ${BIN[berth]}"
RMF[berth]="rm -f"
if ! o=$(cli berth network ls 2>&1); then
        fail "berth: \`berth network ls\` (berth's networking is not built)" "$o"
elif ! o=$(cli berth import "$tar" $IMG 2>&1); then
        fail "berth: \`berth import $tar $IMG\`" "$o"
else
        PEERS+=(berth)
fi

start_dockerd() { # PEER EXTRA-FLAGS...
        local p=$1; shift
        NS[$p]=bench-$p-$$
        mkns "${NS[$p]}"
        NSPFX[$p]="nsenter --net=/run/netns/${NS[$p]}"
        local d=$work/$p
        mkdir -p "$d"
        nsenter --net="/run/netns/${NS[$p]}" dockerd --data-root "$d/data" --exec-root "$d/exec" \
                -H "unix://$d/docker.sock" --pidfile "$d/docker.pid" --log-level=error "$@" \
                >"$d/dockerd.log" 2>&1 &
        DPID[$p]=$!
        BIN[$p]="docker -H unix://$d/docker.sock"
        CLI[$p]="${NSPFX[$p]} ${BIN[$p]}"
        RMF[$p]="rm -f"
        local i
        for i in $(seq 150); do cli $p info >/dev/null 2>&1 && break; sleep 0.2; done
        if ! o=$(cli $p import "$tar" $IMG 2>&1); then
                fail "$p: dockerd $* / docker import" "$o"$'\n'"$(cat "$d/dockerd.log")"
                return 0
        fi
        PEERS+=("$p")
}
if command -v dockerd >/dev/null && command -v docker >/dev/null; then
        start_dockerd docker
        start_dockerd dockernat --userland-proxy=false
else
        note "dockerd not installed: Docker skipped (apt-get install docker.io)"
fi

if command -v podman >/dev/null; then
        NS[podman]=bench-podman-$$
        mkns "${NS[podman]}"
        NSPFX[podman]="nsenter --net=/run/netns/${NS[podman]}"
        mkdir -p "$work/podman-net" "$work/podman-tmp"
        cat >"$work/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[network]
network_backend = "netavark"
network_config_dir = "$work/podman-net"
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "none"
tmp_dir = "$work/podman-tmp"
EOF
        export CONTAINERS_CONF=$work/containers.conf
        BIN[podman]="podman --root $work/podman --runroot $work/podman-run"
        CLI[podman]="${NSPFX[podman]} ${BIN[podman]}"
        RMF[podman]="rm -f -t 0"
        backend=$(cli podman info -f '{{.Host.NetworkBackend}}' 2>&1) || true
        if [ "$backend" != netavark ]; then
                fail "podman: network backend is '$backend', not netavark (apt-get install -y --no-install-recommends netavark aardvark-dns)" ""
        elif ! o=$(cli podman import -q "$tar" $IMG 2>&1); then
                fail "podman: podman import" "$o"
        else
                PEERS+=(podman)
        fi
else
        note "podman not installed: Podman skipped (apt-get install podman netavark aardvark-dns)"
fi
note "peers: ${PEERS[*]}"

# --------------------------------------------------------------------------- formatting
part() { [[ " ${NET_PARTS:-1 2 3 4 5 6} " == *" $1 "* ]]; }
f2() { awk -v x="$1" 'BEGIN { if (x == "") print "—"; else printf "%.2f", x }'; }
f3() { awk -v x="$1" 'BEGIN { if (x == "") print "—"; else printf "%.3f", x }'; }
ratio() { # A B → A/B
        awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b + 0 == 0) print "—"; else printf "%.2f", a / b }'
}
median() { # JSON list on stdin
        jq -r 'sort | if length % 2 == 1 then .[length/2|floor] else (.[length/2-1] + .[length/2]) / 2 end'
}
hf() { # JSON NAME CMD ...
        local json=$1; shift
        local a=()
        while [ $# -ge 2 ]; do a+=(--command-name "$1" "$2"); shift 2; done
        hyperfine -N -w 3 -r "$RUNS" --export-json "$json" "${a[@]}" >/dev/null 2>"$json.err" ||
                { cat "$json.err" >&2; return 1; }
}
dj() { [ -n "${DNSJ[$1]:-}" ] && echo "${DNSJ[$1]}" | jq -r ".$2" || echo ""; }  # DNS result FIELD
hf_median() { jq -r --arg n "$2" '.results[] | select(.command == $n) | .median * 1000' "$1"; }
bar() { # TEXT OK(0/1/"")
        case "$2" in 1) echo "- PASS: $1" ;; 0) echo "- FAIL: $1" ;; *) echo "- n/a: $1" ;; esac
}
le() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print ""; else print (a + 0 <= b + 0) ? 1 : 0 }'; }

{
        echo "## bench/net.sh $RUNS — $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores"
        echo
        echo "berth $(git -C "$top" rev-parse --short HEAD 2>/dev/null)$(git -C "$top" diff --quiet HEAD -- src 2>/dev/null || echo +wip);" \
                "Docker $(dockerd --version 2>/dev/null | awk '{print $3}' | tr -d ,) (CLI $(docker --version 2>/dev/null | awk '{print $3}' | tr -d ,));" \
                "Podman $(podman --version 2>/dev/null | awk '{print $3}') (netavark $(/usr/lib/podman/netavark --version 2>/dev/null | awk '{print $2}'), aardvark-dns $(/usr/lib/podman/aardvark-dns --version 2>/dev/null | awk '{print $2}')); peers: ${PEERS[*]}"
        echo
} | out

# ------------------------------------------------------------ 1. run --rm: bridge vs none
if part 1; then
        note "1. run --rm IMG true, default bridge and --network none"
        cmds=()
        for p in berth podman docker; do
                has $p || continue
                cmds+=("$p bridge" "${CLI[$p]} run --rm $IMG true" "$p none" "${CLI[$p]} run --rm --network none $IMG true")
        done
        if [ ${#cmds[@]} -gt 0 ]; then
                ok=()
                for ((i = 1; i < ${#cmds[@]}; i += 2)); do # one try each first: hyperfine would only say "failed"
                        if o=$(${cmds[i]} 2>&1); then
                                ok+=("${cmds[i - 1]}" "${cmds[i]}")
                        else
                                fail "${cmds[i - 1]}: \`${cmds[i]}\`" "$o"
                        fi
                done
                if [ ${#ok[@]} -gt 0 ] && hf "$work/hf1.json" "${ok[@]}"; then
                        for p in berth podman docker; do
                                has $p || continue
                                RB[$p]=$(hf_median "$work/hf1.json" "$p bridge")
                                RN[$p]=$(hf_median "$work/hf1.json" "$p none")
                                NETPART[$p]=$(awk -v a="${RB[$p]}" -v b="${RN[$p]}" 'BEGIN { print a - b }')
                        done
                else
                        fail "1. hyperfine of run --rm" "see the command lines above"
                fi
        fi
        {
                echo "### 1. run --rm IMG true: the default bridge against --network none (hyperfine -N -w 3 -r $RUNS, medians)"
                echo
                echo "| engine | bridge (ms) | none (ms) | network part (ms) | bridge run / berth's | network part / berth's |"
                echo "|---|---|---|---|---|---|"
                for p in berth podman docker; do
                        has $p || continue
                        echo "| $p | $(f2 "${RB[$p]:-}") | $(f2 "${RN[$p]:-}") | $(f2 "${NETPART[$p]:-}") | $(ratio "${RB[$p]:-}" "${RB[berth]:-}") | $(ratio "${NETPART[$p]:-}" "${NETPART[berth]:-}") |"
                done
                echo
        } | out
fi

# ------------------------------------------------------ 2. run -d -p → first HTTP answer
if part 2; then
        note "2. run -d -p 18081:80 → first HTTP 200 ($FC_REPS samples each)"
        for p in "${PEERS[@]}"; do
                if o=$(in_ns $p $PROBE firstcurl "$FC_REPS" 18081 \
                        "${CLI[$p]} run -d --name fc -p 18081:80 $IMG $WEB" "${CLI[$p]} ${RMF[$p]} fc" 2>&1); then
                        FC[$p]=$(echo "$o" | tail -1 | median)
                else
                        fail "$p: run -d -p 18081:80 → first HTTP 200: \`${CLI[$p]} run -d --name fc -p 18081:80 $IMG $WEB\`" "$o"
                        cli $p ${RMF[$p]} fc >/dev/null 2>&1 || true
                fi
        done
        {
                echo "### 2. \`run -d -p 18081:80 IMG httpd\` → first HTTP 200 from 127.0.0.1:18081 (median of $FC_REPS, container removed between samples)"
                echo
                echo "| engine | median (ms) | ratio to berth |"
                echo "|---|---|---|"
                for p in "${PEERS[@]}"; do echo "| $p | $(f2 "${FC[$p]:-}") | $(ratio "${FC[$p]:-}" "${FC[berth]:-}") |"; done
                echo
        } | out
fi

# ------------------------------------------------------------------------ 3. ab latency
if part 3; then
        note "3. ab -n $AB_N -c 1 / -c 8: published port and container IP"
        ab_run() { # PEER KEY URL C
                local o
                if ! o=$(in_ns "$1" ab -q -n "$AB_N" -c "$4" "$3" 2>&1) || \
                        [ "$(echo "$o" | awk '/^Failed requests/ {print $3}')" != 0 ] || echo "$o" | grep -q '^Non-2xx'; then
                        fail "$1: \`ab -n $AB_N -c $4 $3\` (in ${NS[$1]})" "$o"
                        return 0
                fi
                local tpr rps
                tpr=$(echo "$o" | awk '/^Time per request/ {print $4; exit}')
                rps=$(echo "$o" | awk '/^Requests per second/ {print $4}')
                if [ "$4" = 1 ]; then LAT[$2]=$tpr; RPS1[$2]=$rps; else RPS8[$2]=$rps; fi
        }
        wait_http() { # PEER URL
                local i
                for i in $(seq 100); do in_ns "$1" curl -sf -m 1 -o /dev/null "$2" && return 0; sleep 0.05; done
                return 1
        }
        for p in "${PEERS[@]}"; do
                if ! o=$(cli $p run -d --name web -p 18080:80 $IMG "${WEBA[@]}" 2>&1); then
                        fail "$p: \`${CLI[$p]} run -d --name web -p 18080:80 $IMG $WEB\`" "$o"
                        continue
                fi
                ip=$(cli $p inspect -f '{{.NetworkSettings.IPAddress}}' web 2>&1) || ip=""
                if ! wait_http $p http://127.0.0.1:18080/index.html; then
                        fail "$p: curl http://127.0.0.1:18080/ (web published with -p 18080:80) never answered" "$(in_ns $p curl -sS -m 2 http://127.0.0.1:18080/index.html 2>&1)"
                else
                        ab_run $p "$p pub" http://127.0.0.1:18080/index.html 1
                        ab_run $p "$p pub" http://127.0.0.1:18080/index.html 8
                fi
                if [ -z "$ip" ] || ! wait_http $p "http://$ip/index.html"; then
                        fail "$p: the container's IP ('$ip', inspect .NetworkSettings.IPAddress) does not answer HTTP" "$(in_ns $p curl -sS -m 2 "http://$ip/index.html" 2>&1)"
                else
                        ab_run $p "$p ip" "http://$ip/index.html" 1
                        ab_run $p "$p ip" "http://$ip/index.html" 8
                fi
                cli $p ${RMF[$p]} web >/dev/null 2>&1 || true
        done
        {
                echo "### 3. HTTP through the published port (127.0.0.1:18080 → :80) and to the container's IP (ab -n $AB_N, busybox httpd, 6-byte file)"
                echo
                echo "| engine | path | c=1 latency (ms, mean) | c=1 req/s | c=8 req/s | c=1 latency / berth's (same path) |"
                echo "|---|---|---|---|---|---|"
                for k in pub ip; do
                        for p in "${PEERS[@]}"; do
                                case $k in pub) path="published 127.0.0.1:18080" ;; ip) path="container IP:80" ;; esac
                                echo "| $p | $path | $(f3 "${LAT[$p $k]:-}") | $(f2 "${RPS1[$p $k]:-}") | $(f2 "${RPS8[$p $k]:-}") | $(ratio "${LAT[$p $k]:-}" "${LAT[berth $k]:-}") |"
                        done
                done
                echo
                echo "docker = docker-proxy on 127.0.0.1 (the default); dockernat = --userland-proxy=false, DNAT in iptables."
                echo
        } | out
fi

# ------------------------------------------------- user networks: iperf3 and DNS setup
if part 4 || part 5; then
        netcreate() { # PEER NAME
                case $1 in
                berth) cli berth network create -o dns.upstream=127.0.0.9 "$2" ;;
                *) cli "$1" network create "$2" ;;
                esac
        }
        ctr_netns() { # PEER CONTAINER → a path of its netns that works from here
                local k pid
                if [ "$1" = berth ]; then # the SandboxKey must be there (in berth's mount namespace)
                        k=$(cli berth inspect -f '{{.NetworkSettings.SandboxKey}}' "$2") &&
                                in_ns berth test -e "$k" || { echo "SandboxKey '$k' of $2: not there"; return 1; }
                fi
                pid=$(cli "$1" inspect -f '{{.State.Pid}}' "$2") && [ "$pid" -gt 0 ] && echo "/proc/$pid/ns/net"
        }
        setup_usernet() { # PEER
                local p=$1 o
                if ! o=$(netcreate $p benchnet 2>&1); then fail "$p: network create benchnet" "$o"; return 1; fi
                if ! o=$(cli $p run -d --name srv --network benchnet -p 15201:5201 $IMG sleep 3600 2>&1); then
                        fail "$p: \`${CLI[$p]} run -d --name srv --network benchnet -p 15201:5201 $IMG sleep 3600\`" "$o"; return 1
                fi
                if ! o=$(cli $p run -d --name cli --network benchnet $IMG sleep 3600 2>&1); then
                        fail "$p: \`${CLI[$p]} run -d --name cli --network benchnet $IMG sleep 3600\`" "$o"; return 1
                fi
                SRVNS[$p]=$(ctr_netns $p srv 2>&1) && [ -e "${SRVNS[$p]}" ] || { fail "$p: the netns of srv" "${SRVNS[$p]}"; return 1; }
                CLINS[$p]=$(ctr_netns $p cli 2>&1) && [ -e "${CLINS[$p]}" ] || { fail "$p: the netns of cli" "${CLINS[$p]}"; return 1; }
                SRVIP[$p]=$(cli $p inspect -f '{{(index .NetworkSettings.Networks "benchnet").IPAddress}}' srv 2>&1) ||
                        { fail "$p: srv's IP on benchnet" "${SRVIP[$p]}"; return 1; }
                DNSSRV[$p]=$(cli $p exec cli cat /etc/resolv.conf 2>&1 | awk '/^nameserver/ {print $2; exit}')
                nsenter --net="${SRVNS[$p]}" iperf3 -s -p 5201 -D --pidfile "$work/iperf-$p.pid" >/dev/null 2>&1 ||
                        { fail "$p: iperf3 -s in srv's netns (${SRVNS[$p]})" ""; return 1; }
                sleep 0.3
        }
        for p in "${PEERS[@]}"; do setup_usernet $p && USERNET[$p]=1 || true; done
fi

# -------------------------------------------------------------------------- 4. iperf3
if part 4; then
        note "4. iperf3 -t $IPERF_T"
        gbps() { jq -r '.end.sum_received.bits_per_second / 1e9'; }
        iperf() { # VAR-NAME-KEY WHAT NETNS-PATH ARGS...
                local var=$1 what=$2 ns=$3 o; shift 3
                if o=$(nsenter --net="$ns" iperf3 -J -t "$IPERF_T" "$@" 2>&1) && v=$(echo "$o" | gbps 2>/dev/null) && [ "$v" != null ]; then
                        eval "$var=\$v"
                else
                        fail "$what: \`nsenter --net=$ns iperf3 -t $IPERF_T $*\`" "$(echo "$o" | jq -r '.error // empty' 2>/dev/null || echo "$o")"
                fi
        }
        nsenter --net="/run/netns/${NS[berth]}" iperf3 -s -p 5202 -D --pidfile "$work/iperf-lo.pid" >/dev/null 2>&1 || true
        sleep 0.3
        iperf LOOP "loopback ceiling" "/run/netns/${NS[berth]}" -c 127.0.0.1 -p 5202
        for p in "${PEERS[@]}"; do
                [ -n "${USERNET[$p]:-}" ] || continue
                [ $p = dockernat ] || iperf "C2C[$p]" "$p: container → container" "${CLINS[$p]}" -c "${SRVIP[$p]}" -p 5201
                iperf "PUBT[$p]" "$p: host → published port" "/run/netns/${NS[$p]}" -c 127.0.0.1 -p 15201
        done
        best_c2c=$(for p in docker podman; do echo "${C2C[$p]:-}"; done | sort -g | tail -1)
        best_pub=$(for p in docker dockernat podman; do echo "${PUBT[$p]:-}"; done | sort -g | tail -1)
        {
                echo "### 4. TCP throughput, iperf3 -t $IPERF_T (Gbit/s; the host's iperf3 in the containers' network namespaces)"
                echo
                echo "| engine | container → container (user network) | host → published 127.0.0.1:15201 | c→c / berth's | host→pub / berth's |"
                echo "|---|---|---|---|---|"
                echo "| loopback (ceiling) | $(f2 "$LOOP") | $(f2 "$LOOP") | | |"
                for p in "${PEERS[@]}"; do
                        echo "| $p | $(f2 "${C2C[$p]:-}") | $(f2 "${PUBT[$p]:-}") | $(ratio "${C2C[$p]:-}" "${C2C[berth]:-}") | $(ratio "${PUBT[$p]:-}" "${PUBT[berth]:-}") |"
                done
                echo
        } | out
fi

# ----------------------------------------------------------------------------- 5. DNS
if part 5; then
        note "5. DNS: $DNS_N A queries for srv from cli"
        for p in berth podman docker; do
                has $p && [ -n "${USERNET[$p]:-}" ] || continue
                if [ -z "${DNSSRV[$p]:-}" ]; then
                        fail "$p: no nameserver in cli's /etc/resolv.conf" "$(cli $p exec cli cat /etc/resolv.conf 2>&1)"
                        continue
                fi
                if o=$(nsenter --net="${CLINS[$p]}" $PROBE dns "${DNSSRV[$p]}" srv "$DNS_N" 2>&1); then
                        DNSJ[$p]=$(echo "$o" | tail -1)
                        a=$(echo "${DNSJ[$p]}" | jq -r .answer)
                        [ "$a" = "${SRVIP[$p]}" ] || fail "$p: srv resolved to '$a' at ${DNSSRV[$p]}, srv is ${SRVIP[$p]}" ""
                else
                        fail "$p: $DNS_N lookups of srv at ${DNSSRV[$p]} from cli" "$o"
                fi
        done
        {
                echo "### 5. DNS: A queries for another container's name (srv) from a container on the same user network, one at a time ($DNS_N, ms)"
                echo
                echo "| engine | resolver | median | p90 | p99 | failed | median / berth's |"
                echo "|---|---|---|---|---|---|---|"
                for p in berth podman docker; do
                        has $p || continue
                        echo "| $p | ${DNSSRV[$p]:-—} | $(f3 "$(dj $p median)") | $(f3 "$(dj $p p90)") | $(f3 "$(dj $p p99)") | $(dj $p failed) | $(ratio "$(dj $p median)" "$(dj berth median)") |"
                done
                echo
        } | out
fi

# user networks down before part 6 (fewer iptables rules, no resolver in the way)
for f in "$work"/iperf-*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
for p in "${PEERS[@]}"; do
        [ -n "${USERNET[$p]:-}" ] || continue
        cli $p ${RMF[$p]} srv cli >/dev/null 2>&1 || true
        cli $p network rm benchnet >/dev/null 2>&1 || true
done

# ------------------------------------------------------------ 6. network create + rm
if part 6; then
        note "6. network create + rm"
        cmds=()
        for p in berth podman docker; do
                has $p || continue
                case $p in berth) opt="-o dns.upstream=127.0.0.9" ;; *) opt="" ;; esac
                c="${NSPFX[$p]} sh -c '${BIN[$p]} network create $opt hfnet >/dev/null && ${BIN[$p]} network rm hfnet >/dev/null'"
                if o=$(eval "$c" 2>&1); then cmds+=("$p" "$c"); else fail "$p: \`$c\`" "$o"; fi
        done
        if [ ${#cmds[@]} -gt 0 ] && hf "$work/hf6.json" "${cmds[@]}"; then
                for p in berth podman docker; do has $p && NC[$p]=$(hf_median "$work/hf6.json" $p); done
        fi
        {
                echo "### 6. network create NAME + network rm NAME (hyperfine -N -w 3 -r $RUNS, medians)"
                echo
                echo "| engine | median (ms) | ratio to berth |"
                echo "|---|---|---|"
                for p in berth podman docker; do has $p && echo "| $p | $(f2 "${NC[$p]:-}") | $(ratio "${NC[$p]:-}" "${NC[berth]:-}") |"; done
                echo
        } | out
fi

# ------------------------------------------------------------------------------ bars
x09() { awk -v x="$1" 'BEGIN { if (x == "") print ""; else print 0.9 * x }'; }
x025() { awk -v x="$1" 'BEGIN { if (x == "") print ""; else print 0.25 * x }'; }
ge() { le "$2" "$1"; }
dnsmed=$(dj berth median)
{
        echo "### Bars"
        echo
        bar "network part of run --rm ≤ 10 ms: $(f2 "${NETPART[berth]:-}") ms" "$(le "${NETPART[berth]:-}" 10)"
        bar "run -d -p → first HTTP answer ≤ 0.25× Docker's: $(f2 "${FC[berth]:-}") ms vs $(f2 "${FC[docker]:-}") ms (×$(ratio "${FC[berth]:-}" "${FC[docker]:-}"))" \
                "$(le "${FC[berth]:-}" "$(x025 "${FC[docker]:-}")")"
        bar "published-port latency (c=1) ≤ Docker's NAT path (--userland-proxy=false): $(f3 "${LAT[berth pub]:-}") ms vs $(f3 "${LAT[dockernat pub]:-}") ms" \
                "$(le "${LAT[berth pub]:-}" "${LAT[dockernat pub]:-}")"
        bar "container → container throughput ≥ 0.9× the better peer: $(f2 "${C2C[berth]:-}") vs $(f2 "$best_c2c") Gbit/s" \
                "$(ge "${C2C[berth]:-}" "$(x09 "$best_c2c")")"
        bar "host → published port throughput ≥ 0.9× the better peer: $(f2 "${PUBT[berth]:-}") vs $(f2 "$best_pub") Gbit/s" \
                "$(ge "${PUBT[berth]:-}" "$(x09 "$best_pub")")"
        bar "DNS lookup ≤ 0.30 ms (median): $(f3 "$dnsmed") ms" "$(le "$dnsmed" 0.30)"
        bar "network create + rm ≤ Podman's: $(f2 "${NC[berth]:-}") ms vs $(f2 "${NC[podman]:-}") ms" "$(le "${NC[berth]:-}" "${NC[podman]:-}")"
        echo
        echo "Commands (W = the work dir; each CLI runs in its engine's namespaces via nsenter):"
        echo
        for p in "${PEERS[@]}"; do c=${CLI[$p]//$work/\$W}; echo "    $p: ${c//$top\//}"; done
        echo "    web server: run -d --name web -p 18080:80 $IMG $WEB"
        echo
        if [ ${#FAILS[@]} -gt 0 ]; then
                echo "### Failures"
                echo
                for f in "${FAILS[@]}"; do echo "- $f"; done
                echo
        fi
} | out
mkdir -p "$top/bench/results"
cat "$report" >>"$top/bench/results/latest.md"
