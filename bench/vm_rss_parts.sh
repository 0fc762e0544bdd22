#!/usr/bin/env bash
# bench/vm_rss_parts.sh — the RSS of a VM's two processes, part by part, without /dev/kvm
# (bench/vm.sh measures the whole with a booted guest; this runs anywhere):
#   1. berth-vmm idle on its API socket (no VM: configured through the API later), after one
#      request answered: the binary, its libraries and the API;
#   2. the supervisor `berth vm start` leaves, with a stand-in VMM (it only listens on the API
#      socket), once the start returned;
#   3. where /dev/kvm is there: both processes of a VM booted for real (the test guest, idle:
#      guest.idle=1, 64 MiB), once its console said "BERTH-GUEST ready"; berth-vmm's figures
#      include the guest RAM the guest touched.
# Two builds in one run: BASE_BUILD (before) and BERTH_BUILD (after).  Prints VmRSS, RssAnon
# and RssFile in KiB, medians of BENCH_RUNS (default 5).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
cd "$BENCH_TOP"
bench_require curl python3
RUNS=${BENCH_RUNS:-5}
state=$(mktemp -d /tmp/berth-bench-rss.XXXXXX)
trap 'for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done; rm -rf "$state"' EXIT
cat >"$state/stand-in-vmm" <<'PY'
#!/usr/bin/env python3
import signal, socket, sys, time
sock = sys.argv[sys.argv.index("--api-sock") + 1]
s = socket.socket(socket.AF_UNIX)
s.bind(sock)
s.listen(4)
signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
while True:
        time.sleep(1)
PY
chmod +x "$state/stand-in-vmm"

status_kib() { # PID -> "VmRSS RssAnon RssFile"
        awk '/^VmRSS:/ {r=$2} /^RssAnon:/ {a=$2} /^RssFile:/ {f=$2} END {print r, a, f}' "/proc/$1/status"
}

vmm_once() { # BUILD
        local sock="$state/api.sock" pid
        rm -f "$sock"
        "$1/src/cmd/berth-vmm" --api-sock "$sock" 2>/dev/null &
        pid=$!
        for _ in $(seq 200); do [ -S "$sock" ] && break; sleep 0.01; done
        curl -s --unix-socket "$sock" http://vmm/ >/dev/null
        status_kib "$pid"
        kill "$pid"
        wait "$pid" 2>/dev/null || true
}

sup_once() { # BUILD
        local b="$1" s
        export BERTH_RUN_DIR="$state/run" BERTH_DATA_DIR="$state/data" BERTH_VMM="$state/stand-in-vmm"
        "$b/src/cmd/berth" vm create rss --kernel "$b/tests/guest/berth-test-guest.elf" --memory 32 >/dev/null
        "$b/src/cmd/berth" vm start rss >/dev/null
        s=$("$b/src/cmd/berth" vm inspect rss | python3 -c 'import json,sys; print(json.load(sys.stdin)["State"]["SupervisorPid"])')
        sleep 0.2
        status_kib "$s"
        "$b/src/cmd/berth" vm destroy rss >/dev/null
        "$b/src/cmd/berth" vm rm rss >/dev/null
        unset BERTH_RUN_DIR BERTH_DATA_DIR BERTH_VMM
}

booted_once() { # BUILD FIELD (Pid: berth-vmm, SupervisorPid: the supervisor)
        local b="$1" p log
        export BERTH_RUN_DIR="$state/run" BERTH_DATA_DIR="$state/data"
        "$b/src/cmd/berth" vm create rssb --kernel "$b/tests/guest/berth-test-guest.elf" --memory 64 \
                --cmdline guest.idle=1 >/dev/null
        "$b/src/cmd/berth" vm start rssb >/dev/null
        log="$BERTH_DATA_DIR/vms/rssb/console.log"
        for _ in $(seq 500); do grep -q "BERTH-GUEST ready" "$log" 2>/dev/null && break; sleep 0.01; done
        sleep 0.2
        p=$("$b/src/cmd/berth" vm inspect rssb | python3 -c 'import json,sys; print(json.load(sys.stdin)["State"]["'"$2"'"])')
        status_kib "$p"
        "$b/src/cmd/berth" vm destroy rssb >/dev/null
        "$b/src/cmd/berth" vm rm rssb >/dev/null
        unset BERTH_RUN_DIR BERTH_DATA_DIR
}
booted_vmm() { booted_once "$1" Pid; }
booted_sup() { booted_once "$1" SupervisorPid; }

median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

report() { # NAME FN BUILD
        local out
        out=$(for _ in $(seq "$RUNS"); do "$2" "$3"; done)
        printf '| %s | %s | %s | %s |\n' "$1" "$(cut -d' ' -f1 <<<"$out" | median)" \
                "$(cut -d' ' -f2 <<<"$out" | median)" "$(cut -d' ' -f3 <<<"$out" | median)"
}

BASE=$(realpath "${BASE_BUILD:?BASE_BUILD: the build to compare against}")
NEW=$(realpath "${BERTH_BUILD:-build}")
{
        echo "### RSS of a VM's processes, part by part (KiB, median of $RUNS)"
        echo
        echo "| process | VmRSS | RssAnon | RssFile |"
        echo "|---|---|---|---|"
        report "berth-vmm idle on its API, before ($BASE)" vmm_once "$BASE"
        report "berth-vmm idle on its API, after ($NEW)" vmm_once "$NEW"
        report "supervisor, before ($BASE)" sup_once "$BASE"
        report "supervisor, after ($NEW)" sup_once "$NEW"
        if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
                report "booted VM: berth-vmm, before" booted_vmm "$BASE"
                report "booted VM: berth-vmm, after" booted_vmm "$NEW"
                report "booted VM: supervisor, before" booted_sup "$BASE"
                report "booted VM: supervisor, after" booted_sup "$NEW"
        fi
        echo
        echo "    BASE_BUILD=$BASE BERTH_BUILD=$NEW bench/vm_rss_parts.sh"
        echo
} | tee -a "$BENCH_OUT/latest.md"
