#!/usr/bin/env bats
# berth-oci against runc: the same bundle and the same command under both, comparing exit
# status, stdout and the error message (runc's logrus `msg="…"`, berth-oci's `berth-oci: …`).

load helpers

setup_file() {
        [ "$(id -u)" = 0 ] || return 0
        command -v busybox >/dev/null || return 0
        local r="$BATS_FILE_TMPDIR/rootfs"
        mkdir -p "$r/bin" "$r/proc" "$r/sys" "$r/dev" "$r/etc" "$r/tmp" "$r/root"
        cp "$(command -v busybox)" "$r/bin/busybox"
        for a in $("$r/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"; done
}

setup() {
        require_root
        require_cmd busybox jq runc
        W="$BATS_TEST_TMPDIR"
        B="$W/bundle"
        mkdir -p "$B"
        # runc wants an absolute, symlink-free root.path
        (cd "$B" && runc spec)
        jq --arg r "$BATS_FILE_TMPDIR/rootfs" '.root = {path: $r, readonly: false}
                | .process.terminal = false | .process.args = ["sleep", "1000"]' \
                "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
}

teardown() {
        [ -n "${W:-}" ] || return 0
        local id pid
        for pid in ${reapers:-}; do kill "$pid" 2>/dev/null || true; done
        for id in $(runc --root "$W/runc" list -q 2>/dev/null); do
                runc --root "$W/runc" delete -f "$id" || true
        done
        for id in $("$BERTH_OCI" --root "$W/berth" list -q 2>/dev/null); do
                "$BERTH_OCI" --root "$W/berth" delete -f "$id" || true
        done
}

# both CMD...: run CMD in the bundle under runc and berth-oci; sets r_status/b_status,
# r_out/b_out (stdout) and r_msg/b_msg (the error message).
both() {
        r_status=0 b_status=0
        (cd "$B" && runc --root "$W/runc" "$@") </dev/null >"$W/r.out" 2>"$W/r.err" || r_status=$?
        (cd "$B" && "$BERTH_OCI" --root "$W/berth" "$@") </dev/null >"$W/b.out" 2>"$W/b.err" ||
                b_status=$?
        r_out=$(cat "$W/r.out") b_out=$(cat "$W/b.out")
        r_msg=$(sed -n 's/.*level=error msg="\(.*\)"$/\1/p' "$W/r.err" | sed 's/\\"/"/g')
        b_msg=$(sed -n 's/^berth-oci: //p' "$W/b.err")
        echo "runc  ($r_status): $r_out | $(cat "$W/r.err")"
        echo "berth ($b_status): $b_out | $(cat "$W/b.err")"
}
same_status() { [ "$r_status" = "$b_status" ]; }
# same status, stdout and error message
same() { same_status && [ "$r_out" = "$b_out" ] && [ "$r_msg" = "$b_msg" ]; }
# same status and stdout, no output on stderr from either
same_quiet() { same && [ ! -s "$W/r.err" ] && [ ! -s "$W/b.err" ]; }

# start ID...: a running `sleep 1000` container of each id under both runtimes
start() {
        local id
        for id in "$@"; do
                both run -d "$id"
                [ "$r_status" = 0 ] || return 1
                [ "$b_status" = 0 ] || return 1
        done
}
status_of() { # RUNTIME_CMD... ID
        "$@" 2>/dev/null | jq -r .status
}
# stopped ID: kill both inits and wait until both runtimes see the container stopped
stopped() {
        both kill "$1" KILL
        local i
        for i in $(seq 100); do
                [ "$(status_of runc --root "$W/runc" state "$1")" = stopped ] &&
                        [ "$(status_of "$BERTH_OCI" --root "$W/berth" state "$1")" = stopped ] &&
                        return 0
                sleep 0.1
        done
        echo "not stopped: $1"
        return 1
}
# under_reaper RUNTIME ARGS...: RUNTIME ARGS in the bundle (runtime `runc` or `berth-oci`), the
# child of a subreaper that waits for nothing else, so a container init that it inherits and
# that exits stays a zombie; its pid is added to $reapers
under_reaper() {
        local nr rt=runc root="$W/runc"
        case "$(uname -m)" in x86_64) nr=157 ;; aarch64) nr=167 ;; *) skip "prctl number" ;; esac
        [ "$1" = runc ] || rt=$BERTH_OCI root="$W/berth"
        shift
        (cd "$B" && exec perl -e 'syscall('$nr', 36, 1, 0, 0, 0) == 0 or die "prctl: $!";
                system(@ARGV); sleep 60' "$rt" --root "$root" "$@") </dev/null >/dev/null 2>&1 &
        reapers="${reapers:-} $!"
}
# zombie_of PID: PID's child that is a zombie
zombie_of() {
        local c
        for c in $(pgrep -P "$1"); do
                [ "$(awk '{print $3}' "/proc/$c/stat" 2>/dev/null)" = Z ] && echo "$c" && return 0
        done
        return 1
}
# both_stopped ID: wait until runc and berth-oci both see ID stopped
both_stopped() {
        local i
        for i in $(seq 100); do
                [ "$(status_of runc --root "$W/runc" state "$1")" = stopped ] &&
                        [ "$(status_of "$BERTH_OCI" --root "$W/berth" state "$1")" = stopped ] &&
                        return 0
                sleep 0.1
        done
        echo "not stopped: $1"
        return 1
}
pids_max() { # ROOT_CMD... ID: the container's pids.max, from its init's cgroup
        local pid
        pid=$("$@" 2>/dev/null | jq -r .pid)
        cat "/sys/fs/cgroup/pids$(sed -n 's/^[0-9]*:pids://p' "/proc/$pid/cgroup")/pids.max"
}

@test "diff: delete -f of a missing container succeeds quietly" {
        both delete -f nosuch
        [ "$r_status" = 0 ]
        same_quiet
        both delete --force nosuch
        same_quiet
}

@test "diff: commands on a missing container: status and message" {
        local c
        for c in state start delete kill pause resume ps update; do
                both "$c" nosuch
                same
                [ "$b_msg" = "container does not exist" ]
        done
        both kill nosuch 0
        same
}

@test "diff: exec into a missing container exits 255 with runc's message" {
        both exec nosuch true
        [ "$r_status" = 255 ]
        same
}

@test "diff: an invalid id is refused alike" {
        local c
        for c in state delete kill; do
                both "$c" ../x
                same
        done
        both delete -f ../x
        same
}

@test "diff: list with no containers (table, -q, json)" {
        both list
        same_quiet
        both list -q
        same_quiet
        both list --format json
        same_quiet
        [ "$b_out" = null ]
}

@test "diff: list is sorted by id, table and json" {
        start zz aa mm
        both list -q
        same_quiet
        [ "$b_out" = "$(printf 'aa\nmm\nzz')" ]
        both list --format json
        same_status
        [ "$(echo "$r_out" | jq -c '[.[] | [.id, .status, .bundle, .owner]]')" = \
                "$(echo "$b_out" | jq -c '[.[] | [.id, .status, .bundle, .owner]]')" ]
        both list
        same_status
        # pid and created differ; the header, ids, status, bundle and owner do not
        [ "$(head -1 <<<"$r_out")" = "$(head -1 <<<"$b_out")" ]
        [ "$(awk '{print $1, $3, $4, $6}' <<<"$r_out")" = "$(awk '{print $1, $3, $4, $6}' <<<"$b_out")" ]
}

@test "diff: kill ID 0 and kill -a/--all ID 0 on a running container" {
        start k
        both kill k 0
        same_quiet
        both kill -a k 0
        same_quiet
        both kill --all k 0
        same_quiet
        [ "$(status_of "$BERTH_OCI" --root "$W/berth" state k)" = running ]
}

@test "diff: kill signal names and numbers" {
        start k
        both kill k sigcont
        same_quiet
        both kill k CONT
        same_quiet
        both kill k 18
        same_quiet
        both kill k SIGZERO
        same
        both kill k BOGUS
        same
        both kill k 99 # any number: the kernel refuses it
        same_status
        [ "$r_status" = 1 ]
        both kill k 0 extra
        same_status
}

@test "diff: kill on a stopped container; kill --all on it succeeds" {
        start k
        stopped k
        both kill k KILL
        same
        [ "$b_msg" = "container not running" ]
        both kill k 0
        same
        both kill -a k KILL
        same_quiet
}

@test "diff: start of a running and of a stopped container" {
        start s
        both start s
        same
        stopped s
        both start s
        same
}

@test "diff: delete of a running container needs -f, which may follow the id" {
        start d
        both delete d
        same
        both delete d -f
        same_quiet
        both state d
        same
}

@test "diff: pause of a stopped and resume of a running container" {
        start p
        both resume p
        same
        stopped p
        both pause p
        same
}

@test "diff: create with an id that exists" {
        start x
        both create x
        same_status
        [ "$r_msg" = "runc create failed: $b_msg" ]
}

@test "diff: update ID --pids-limit N: the option after the id is applied" {
        start u
        both update u --pids-limit 10
        same_quiet
        [ "$(pids_max runc --root "$W/runc" state u)" = 10 ]
        [ "$(pids_max "$BERTH_OCI" --root "$W/berth" state u)" = 10 ]
        both update --pids-limit 11 u
        same_quiet
        [ "$(pids_max "$BERTH_OCI" --root "$W/berth" state u)" = 11 ]
}

@test "diff: --version has runc's layout" {
        both --version
        same_status
        # "NAME version V", then "commit: …" and "spec: …"
        [ "$(sed -n 1p "$W/r.out" | cut -d' ' -f2)" = "$(sed -n 1p "$W/b.out" | cut -d' ' -f2)" ]
        [ "$(sed -n '2,3p' "$W/r.out" | cut -d' ' -f1)" = "$(sed -n '2,3p' "$W/b.out" | cut -d' ' -f1)" ]
        grep -qx 'spec: 1.1.0' "$W/b.out"
        grep -q '^libseccomp: ' "$W/b.out"
}

@test "diff: spec writes runc's default config (but hostname and ociVersion)" {
        mkdir "$W/r" "$W/b"
        (cd "$W/r" && runc spec) && (cd "$W/b" && "$BERTH_OCI" spec)
        diff <(jq -S 'del(.hostname, .ociVersion)' "$W/r/config.json") \
                <(jq -S 'del(.hostname, .ociVersion)' "$W/b/config.json")
}

@test "diff: exec into a paused container fails with 255 and runc's message" {
        start e
        both pause e
        same_quiet
        both exec e true
        same
        [ "$b_status" = 255 ]
        [ "$b_msg" = "exec failed: cannot exec in a paused container (use --ignore-paused to override)" ]
        both resume e
        same_quiet
}

@test "diff: an exited init nobody has reaped (a zombie) is stopped, and delete works" {
        local r
        jq '.process.args = ["sh", "-c", "exit 3"]' "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
        under_reaper runc run -d z
        under_reaper berth-oci run -d z
        both_stopped z
        for r in $reapers; do zombie_of "$r"; done
        both state z
        same_status
        [ "$(jq -c '[.status, .pid]' <<<"$r_out")" = '["stopped",0]' ]
        [ "$(jq -c '[.status, .pid]' <<<"$b_out")" = '["stopped",0]' ]
        both list -q
        same_quiet
        both kill z KILL
        same
        [ "$b_msg" = "container not running" ]
        both delete z
        same_quiet
        both state z
        same
}

@test "diff: create under a parent that does not reap, start, exit: stopped, delete works" {
        local r
        jq '.process.args = ["sh", "-c", "exit 0"]' "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
        under_reaper runc create c
        under_reaper berth-oci create c
        for r in $(seq 50); do
                [ "$(status_of runc --root "$W/runc" state c)" = created ] &&
                        [ "$(status_of "$BERTH_OCI" --root "$W/berth" state c)" = created ] && break
                sleep 0.1
        done
        both start c
        same_quiet
        both_stopped c
        for r in $reapers; do zombie_of "$r"; done
        both delete c
        same_quiet
}

@test "diff: exec --ignore-paused into a paused container runs once it is resumed" {
        start e
        both pause e
        same_quiet
        (cd "$B" && exec timeout -s KILL 30 runc --root "$W/runc" exec --ignore-paused e echo hi) \
                </dev/null >"$W/r.ip" 2>&1 &
        local rp=$!
        (cd "$B" && exec timeout -s KILL 30 "$BERTH_OCI" --root "$W/berth" exec --ignore-paused e echo hi) \
                </dev/null >"$W/b.ip" 2>&1 &
        local bp=$!
        sleep 1
        # frozen with the container until it is resumed
        [ ! -s "$W/r.ip" ] && [ ! -s "$W/b.ip" ]
        both resume e
        same_quiet
        local rs=0 bs=0
        wait "$rp" || rs=$?
        wait "$bp" || bs=$?
        cat "$W/r.ip" "$W/b.ip"
        [ "$rs" = 0 ] && [ "$bs" = 0 ]
        [ "$(cat "$W/r.ip")" = hi ] && [ "$(cat "$W/b.ip")" = hi ]
}

@test "diff: exec --additional-gids / -g (repeatable) adds supplementary groups" {
        start g
        both exec --additional-gids 10 --additional-gids 20 g id -G
        same_quiet
        [ "$b_out" = "0 10 20" ]
        both exec -g 30 g id -G
        same_quiet
        [ "$b_out" = "0 30" ]
        both exec --additional-gids x g id -G
        same_status
        [ "$r_status" = 1 ]
        [[ "$r_msg" = "$b_msg"* ]]
}

@test "diff: run --keep: the container stays, stopped, until delete" {
        jq '.process.args = ["sh", "-c", "echo out; exit 3"]' "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
        both run --keep k
        same_quiet
        [ "$b_status" = 3 ] && [ "$b_out" = out ]
        both state k
        same_status
        [ "$(jq -c '[.status, .pid]' <<<"$r_out")" = '["stopped",0]' ]
        [ "$(jq -c '[.status, .pid]' <<<"$b_out")" = '["stopped",0]' ]
        both list -q
        same_quiet
        [ "$b_out" = k ]
        both delete k
        same_quiet
        both state k
        same
        both run k # without --keep: gone
        same_quiet
        both state k
        same
        [ "$b_msg" = "container does not exist" ]
}
