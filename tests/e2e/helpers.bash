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
        "$BERTH" images -q | grep -q . || skip "no busybox image (needs busybox-static)"
}
