#!/usr/bin/env bats
# crash.bats — `berth` killed (kill -9) half-way through making a container: the name it
# reserved is taken back, and prune finds and removes the half-made record and snapshot.
#
# BERTH_TEST_CRASH_AT=<point> makes berth raise(SIGKILL) at that point (for these tests
# only; engine/container.h): record-made (its record directory exists, locked, no name
# yet), name-reserved (the name points at it), snapshot-made (its root filesystem is there,
# mounted, before container.json is written), container-json-written (before state.json).
load helpers
bats_require_minimum_version 1.5.0

setup_file() {
        berth_busybox_setup_file
}

setup() {
        berth_busybox_setup
}

teardown() {
        berth_rm_all_containers
        # whatever a failed test left half-made
        "$BERTH" container prune -f >/dev/null 2>&1 || true
}

names_dir() { echo "$BERTH_DATA_DIR/containers/.names"; }

# Record directories without container.json or state.json: half-made.
half_records() {
        local d
        for d in "$BERTH_DATA_DIR"/containers/*; do
                [ -d "$d" ] || continue
                [ -e "$d/container.json" ] && [ -e "$d/state.json" ] || echo "$d"
        done
}

# Snapshots of containers (named by a 64-hex id) whose record is gone or half-made.
lone_snapshots() {
        local d id
        for d in "$BERTH_DATA_DIR"/images/snapshots/*; do
                [ -d "$d" ] || continue
                id=$(basename "$d")
                [[ "$id" =~ ^[0-9a-f]{64}$ ]] || continue
                [ -e "$BERTH_DATA_DIR/containers/$id/container.json" ] || echo "$d"
        done
}

assert_nothing_half_made() {
        local left
        left=$(half_records)
        [ -z "$left" ] || { echo "half-made records left: $left"; ls -la $left; return 1; }
        left=$(lone_snapshots)
        [ -z "$left" ] || { echo "lone snapshots left: $left"; return 1; }
        left=$(ls -A "$(names_dir)")
        [ -z "$left" ] || { echo "names left: $left"; return 1; }
        ! ls -A "$BERTH_DATA_DIR/containers" | grep -q '^\.new-' || { echo ".new- directories left"; return 1; }
        ! findmnt -rn -o TARGET | grep -q "^$BERTH_DATA_DIR" || { echo "mounts left"; findmnt -rn -o TARGET | grep "^$BERTH_DATA_DIR"; return 1; }
}

# Kill `berth run --name NAME` at POINT; it must die of SIGKILL.
crash_at() { # POINT NAME
        run env BERTH_TEST_CRASH_AT="$1" "$BERTH" run --name "$2" busybox true
        [ "$status" -eq 137 ] || { echo "berth was not killed at $1 (status $status): $output"; return 1; }
}

@test "a name reserved by a berth that died (the state kill -9 leaves) is taken back; prune clears it" {
        # exactly what the issue found after a kill -9: a name pointing at a record directory
        # holding only its lock, and a snapshot directory with a temporary info.json
        id=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
        mkdir -p "$BERTH_DATA_DIR/containers/$id" "$BERTH_DATA_DIR/images/snapshots/$id" "$(names_dir)"
        : >"$BERTH_DATA_DIR/containers/$id/lock"
        echo '{"image":' >"$BERTH_DATA_DIR/images/snapshots/$id/.info.json.tmp"
        ln -s "$id" "$(names_dir)/stuck"
        [ -z "$("$BERTH" ps -aq)" ]
        run "$BERTH" run --name stuck busybox true
        assert_success
        run "$BERTH" rm stuck
        assert_success
        [ ! -e "$(names_dir)/stuck" ]
        # the half-made record and its snapshot, no longer named, are prune's to find
        [ -d "$BERTH_DATA_DIR/containers/$id" ]
        run "$BERTH" system prune -f
        assert_success
        [ ! -e "$BERTH_DATA_DIR/containers/$id" ]
        [ ! -e "$BERTH_DATA_DIR/images/snapshots/$id" ]
        assert_nothing_half_made
}

@test "killed right after reserving the name: run --name works again, rm -f and system prune clear it" {
        crash_at name-reserved stuck
        [ -L "$(names_dir)/stuck" ]
        [ -n "$(half_records)" ]
        [ -z "$("$BERTH" ps -aq)" ]
        # the name is free for the next run
        run "$BERTH" run --name stuck busybox echo again
        assert_success
        [ "$output" = "again" ]
        "$BERTH" rm stuck >/dev/null
        # rm -f of the name of a dead reservation frees the name (there is no container)
        crash_at name-reserved stuck
        run "$BERTH" rm -f stuck
        [ ! -e "$(names_dir)/stuck" ]
        # and prune takes the rest
        crash_at name-reserved stuck
        run "$BERTH" system prune -f
        assert_success
        assert_nothing_half_made
}

@test "killed right after making the record, before the name: prune removes the record" {
        crash_at record-made early
        [ ! -e "$(names_dir)/early" ]
        [ -n "$(half_records)" ]
        run "$BERTH" container prune -f
        assert_success
        assert_nothing_half_made
        run "$BERTH" run --rm --name early busybox true
        assert_success
}

@test "killed after the snapshot is made (mounted): the name is taken back, prune unmounts and removes it" {
        crash_at snapshot-made snap
        [ -n "$(lone_snapshots)" ]
        run "$BERTH" run --rm --name snap busybox echo ok
        assert_success
        [ "$output" = "ok" ]
        crash_at snapshot-made snap
        run "$BERTH" system prune -f
        assert_success
        assert_nothing_half_made
}

@test "killed between container.json and state.json: neither listed nor stuck; prune removes it" {
        crash_at container-json-written late
        [ -z "$("$BERTH" ps -aq)" ]
        run "$BERTH" run --rm --name late busybox echo ok
        assert_success
        [ "$output" = "ok" ]
        crash_at container-json-written late
        run "$BERTH" container prune -f
        assert_success
        assert_nothing_half_made
}

@test "a record at work (its maker alive, its lock held) is neither reclaimed nor pruned" {
        require_cmd flock
        crash_at record-made busy
        rec=$(half_records)
        [ -n "$rec" ]
        id=$(basename "$rec")
        ln -s "$id" "$(names_dir)/busy"
        # a live maker: a process holding the record's lock (one process: sleep holds the
        # locked descriptor itself, so killing it lets the lock go)
        (exec 9>"$rec/lock" && flock 9 && exec sleep 30) &
        holder=$!
        sleep 0.3
        run "$BERTH" run --name busy busybox true
        assert_failure
        assert_output_contains "Conflict"
        run "$BERTH" container prune -f
        assert_success
        [ -d "$rec" ]
        [ -L "$(names_dir)/busy" ]
        kill "$holder"
        wait "$holder" || true
        # its maker gone, both are reclaimed
        run "$BERTH" container prune -f
        assert_success
        assert_nothing_half_made
}
