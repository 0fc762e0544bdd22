# helpers.bash — shared setup for the bats end-to-end tests.
# Load with `load helpers` at the top of each tests/e2e/*.bats file.
#
# Binaries come from the meson build dir: $BERTH_BUILD (default: build/ at the repo top).

BERTH_TOP="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BERTH_BUILD="${BERTH_BUILD:-$BERTH_TOP/build}"
BERTH="$BERTH_BUILD/src/cmd/berth"
BERTH_OCI="$BERTH_BUILD/src/cmd/berth-oci"
BERTH_VMM="$BERTH_BUILD/src/cmd/berth-vmm"
export BERTH_TOP BERTH_BUILD BERTH BERTH_OCI BERTH_VMM

# A private state root per test file, so tests never see each other's state.
berth_private_state() {
        export BERTH_RUN_DIR="$BATS_FILE_TMPDIR/run"
        export BERTH_DATA_DIR="$BATS_FILE_TMPDIR/data"
        mkdir -p "$BERTH_RUN_DIR" "$BERTH_DATA_DIR"
}

# Skip loudly (the reason is shown in the summary) when a facility is missing.
require_root() {
        [ "$(id -u)" = 0 ] || skip "needs root (running as uid $(id -u))"
}
require_cmd() {
        local c
        for c in "$@"; do
                command -v "$c" >/dev/null 2>&1 || skip "needs \`$c\` (not installed; scripts/setup installs it)"
        done
}
require_kvm() {
        [ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] || skip "needs /dev/kvm (not present or not accessible)"
}
require_netns() {
        ip netns add berth-probe-$$ 2>/dev/null || skip "needs network namespaces (ip netns add failed)"
        ip netns del berth-probe-$$
}

# Assertions in the style of bats-assert (not packaged in Debian 12).
assert_success() {
        if [ "$status" -ne 0 ]; then
                echo "expected success, got status $status; output:" >&2
                echo "$output" >&2
                return 1
        fi
}
assert_failure() {
        local want="${1:-}"
        if [ "$status" -eq 0 ]; then
                echo "expected failure, got success; output:" >&2
                echo "$output" >&2
                return 1
        fi
        if [ -n "$want" ] && [ "$status" -ne "$want" ]; then
                echo "expected status $want, got $status; output:" >&2
                echo "$output" >&2
                return 1
        fi
}
assert_output_contains() {
        if [[ "$output" != *"$1"* ]]; then
                echo "expected output to contain: $1" >&2
                echo "actual output:" >&2
                echo "$output" >&2
                return 1
        fi
}
refute_output_contains() {
        if [[ "$output" == *"$1"* ]]; then
                echo "expected output NOT to contain: $1" >&2
                echo "actual output:" >&2
                echo "$output" >&2
                return 1
        fi
}

# For files whose tests run containers: a private state root with a busybox image made
# from the host's busybox-static (setup_file), and each test on that state (setup).
berth_busybox_setup_file() {
        [ "$(id -u)" = 0 ] || return 0
        berth_private_state
        BERTH="$BERTH" "$BERTH_TOP/scripts/mkimage-busybox" busybox:latest >/dev/null
}
berth_busybox_setup() {
        require_root
        berth_private_state
        "$BERTH" images -q | grep -q . && return 0
        command -v busybox >/dev/null || skip "no busybox image (needs busybox-static)"
        # busybox is there, so the image should be: a failure, not a reason to skip
        echo "no busybox image, though busybox-static is installed (did scripts/mkimage-busybox fail in setup_file?)" >&2
        return 1
}

# A teardown for files whose tests leave containers: remove every container of this state
# (or those `ps -a` selects with the filters given: berth_rm_all_containers --filter name=x-).
berth_rm_all_containers() {
        [ "$(id -u)" = 0 ] || return 0
        local ids
        ids=$("$BERTH" ps -aq "$@" 2>/dev/null) || true
        [ -n "$ids" ] && "$BERTH" rm -f $ids >/dev/null 2>&1
        return 0
}

# A free TCP port on 127.0.0.1.
free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Local docker-registry instances for the registry tests: registry_setup_file in setup_file,
# registry_teardown_file in teardown_file (it stops every pid appended to $REG_PIDS), and
# start_registry DIR PORT [EXTRA-YAML] in a test: a registry on 127.0.0.1:PORT (https where
# EXTRA-YAML names a certificate), waits until it answers.
registry_setup_file() {
        export REG_PIDS="$BATS_FILE_TMPDIR/reg-pids"
        : >"$REG_PIDS"
}
registry_teardown_file() {
        local p
        while read -r p; do
                [ -n "$p" ] && kill "$p" 2>/dev/null
        done <"${REG_PIDS:-/dev/null}"
        return 0
}
# A registry started here with busybox pushed to it as $r/$1:1, a name the store then forgets
# (for tests of what pulls it); sets r to the registry's host:port.
registry_with_busybox() {
        local port
        port=$(free_port)
        start_registry "$BATS_TEST_TMPDIR/reg" "$port"
        r="127.0.0.1:$port"
        "$BERTH" tag busybox "$r/$1:1"
        "$BERTH" push -q "$r/$1:1"
        "$BERTH" rmi "$r/$1:1" >/dev/null
}

start_registry() {
        local dir="$1" port="$2" extra="${3:-}" scheme=http
        mkdir -p "$dir/data"
        cat >"$dir/config.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
$extra
YAML
        [[ "$extra" == *certificate* ]] && scheme=https
        docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
        echo $! >>"$REG_PIDS"
        local i
        for i in $(seq 1 50); do
                curl -ks -o /dev/null "$scheme://127.0.0.1:$port/v2/" && return 0
                sleep 0.1
        done
        cat "$dir/log" >&2
        return 1
}
# start_auth_registry DIR PORT: start_registry with htpasswd basic auth, user alice, password
# s3cret.
start_auth_registry() {
        local dir="$1" port="$2"
        mkdir -p "$dir"
        htpasswd -Bbn alice s3cret >"$dir/htpasswd"
        start_registry "$dir" "$port" "auth:
  htpasswd:
    realm: berth-test
    path: $dir/htpasswd"
}

# Wait (10 s at most, or SECONDS) until `READER FILE` prints a number above N: a test guest's
# counter in its console output (guest.count, guest.blkcount), read by the caller's READER.
wait_above() { # READER FILE N [SECONDS]
        local i
        for i in $(seq $((${4:-10} * 20))); do
                [ "$("$1" "$2")" -gt "$3" ] && return 0
                sleep 0.05
        done
        echo "$1 of $2 stayed at $("$1" "$2"), want above $3" >&2
        return 1
}

# The test guest's disk counter (guest.blkcount=MiB) in a console file.
blkcounts() { grep -a '^BERTH-GUEST blkcount [0-9]' "$1" | awk '{print $3}'; }
last_blkcount() { { blkcounts "$1" || true; echo 0; } | sort -n | tail -1; }
# a pass over the disk is slower than one over RAM, and slower still on a loaded host
wait_blkcount_above() { wait_above last_blkcount "$1" "$2" 30; }

# IMAGE MIB: the guest.blkcount region of a stopped guest's disk is whole: every sector names
# itself and holds one pass's count or the next, in order (no write of the guest's lost).
check_disk_region() {
        qemu-img check "$1" >&2 2>&1 || [[ "$1" == *.raw ]]
        qemu-img convert -O raw "$1" "$BATS_TEST_TMPDIR/region.raw"
        python3 - "$BATS_TEST_TMPDIR/region.raw" "$2" <<'PY'
import struct, sys
raw = open(sys.argv[1], "rb").read()
first, n = 2048, int(sys.argv[2]) * 2048
passes = []
for i in range(n):
    p, s = struct.unpack_from("<QQ", raw, (first + i) * 512)
    assert s == first + i, f"sector {first + i} names {s}"
    passes.append(p)
hi, lo = max(passes), min(passes)
assert hi - lo <= 1 and hi > 0, f"passes {lo}..{hi}"
assert all(passes[i] >= passes[i + 1] for i in range(n - 1)), "a lost write inside the region"
print(f"disk region: passes {lo}..{hi}", file=sys.stderr)
PY
}
