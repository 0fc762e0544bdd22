# vm.bash — the microVM tests' shared pieces: the freestanding test guest (tests/guest), the
# check that what they need is there, and for `berth vm` tests their private state, the `vm`
# command and a teardown that leaves no VM behind.
#
#   load helpers
#   load lib/vm
#   setup() { vm_require; vm_state; }     # vm_state: `berth vm` tests only
#   teardown() { vm_teardown; }

GUEST="$BERTH_BUILD/tests/guest/berth-test-guest.elf"

# Skip loudly unless /dev/kvm, berth-vmm and the test guest are there.
vm_require() {
        require_kvm
        [ -x "$BERTH_VMM" ] || skip "berth-vmm not built"
        [ -f "$GUEST" ] || skip "test guest not built"
}

# `berth vm`'s records and run files under the test's own temporary directory.
vm_state() {
        export BERTH_RUN_DIR="$BATS_TEST_TMPDIR/run" BERTH_DATA_DIR="$BATS_TEST_TMPDIR/data"
        mkdir -p "$BERTH_RUN_DIR" "$BERTH_DATA_DIR"
}

# Every VM a test left running goes, even when the test failed: the VMM through destroy, then
# any process a record still names.
vm_teardown() {
        local n f pid
        for n in $("$BERTH" vm ls -q 2>/dev/null); do
                timeout 20 "$BERTH" vm destroy "$n" >/dev/null 2>&1 || true
        done
        for f in "$BERTH_DATA_DIR"/vms/*/state.json; do
                [ -f "$f" ] || continue
                for pid in $(sed -n 's/.*"\(Pid\|SupervisorPid\)": \([0-9]*\).*/\2/p' "$f"); do
                        [ "$pid" -gt 0 ] && kill -KILL "$pid" 2>/dev/null || true
                done
        done
}

vm() {
        run timeout 60 "$BERTH" vm "$@"
}

# Wait until VM $1's console log has a line matching $2 (grep's basic regex; 10 s at most);
# fails if it never comes.
wait_console() {
        local log="$BERTH_DATA_DIR/vms/$1/console.log" _
        for _ in $(seq 100); do
                grep -aq "$2" "$log" && return 0
                sleep 0.1
        done
        grep -aq "$2" "$log"
}

# Wait until the counting guest (guest.count=MiB) named by $1 has counted past $2 (10 s at
# most).  What $1 names, and so how its count is read, is the loading file's: its
# last_count ARG prints the count (0 if none yet).
wait_count_above() { wait_above last_count "$1" "$2"; }
