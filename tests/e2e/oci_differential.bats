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
        rm -f "$BATS_FILE_TMPDIR/rootfs/etc/passwd"
        if [ -e "${thaw:-/nonexistent}" ]; then
                echo THAWED >"$thaw" 2>/dev/null || echo 0 >"$thaw" 2>/dev/null || true
        fi
        local id pid
        for pid in ${reapers:-}; do kill "$pid" 2>/dev/null || true; done
        for id in $(runc --root "$W/runc" list -q 2>/dev/null); do
                runc --root "$W/runc" delete -f "$id" || true
        done
        for id in $("$BERTH_OCI" --root "$W/berth" list -q 2>/dev/null); do
                "$BERTH_OCI" --root "$W/berth" delete -f "$id" || true
        done
        # sub-cgroups a test made, deepest first, in case a runtime left them
        local d
        for d in $(tr ' ' '\n' <<<"${cg_made:-}" | sort -r); do
                rmdir "$d" 2>/dev/null || true
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
# same status and error message (stdout may differ: help texts)
same_msg() { same_status && [ "$r_msg" = "$b_msg" ]; }
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

# cg_dirs PID: the cgroupfs directories of PID's cgroups (every v1 hierarchy, or the v2 one)
cg_dirs() {
        local v2=no
        [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && v2=yes
        awk -F: -v v2=$v2 '{
                c = $2; sub(/^name=/, "", c)
                if (v2 == "yes") print "/sys/fs/cgroup" $3
                else if (c == "") print "/sys/fs/cgroup/unified" $3
                else print "/sys/fs/cgroup/" c $3 }' "/proc/$1/cgroup"
}
pid_of() { # ROOT_CMD... ID
        "$@" 2>/dev/null | jq -r .pid
}
# mksub ID SUB: SUB under the container's cgroup in every hierarchy, under both runtimes
mksub() {
        local d p
        for p in "$(pid_of runc --root "$W/runc" state "$1")" \
                "$(pid_of "$BERTH_OCI" --root "$W/berth" state "$1")"; do
                for d in $(cg_dirs "$p"); do
                        [ -d "$d" ] || continue
                        local up="$d" part
                        for part in ${2//\// }; do
                                mkdir -p "$up/$part"
                                case "$d" in */cpuset/*) cat "$up/cpuset.cpus" >"$up/$part/cpuset.cpus" &&
                                        cat "$up/cpuset.mems" >"$up/$part/cpuset.mems" ;; esac
                                up="$up/$part"
                                cg_made="${cg_made:-} $up"
                        done
                done
        done
}
# the lines of /proc/self/cgroup output $1 reduced to "hierarchy:" plus what follows the
# container's own cgroup (its id), so runc's and berth-oci's compare
cg_rel() {
        sed -E "s|^[0-9]+:([^:]*):.*/$2(/.*)?$|\1:\2|" <<<"$1" | sort
}
is_v1() { [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ]; }

@test "diff: exec --cgroup PATH joins the sub-cgroup in every hierarchy" {
        start cg
        mksub cg sub
        both exec --cgroup sub cg cat /proc/self/cgroup
        same_status
        [ "$b_status" = 0 ]
        [ "$(cg_rel "$r_out" cg)" = "$(cg_rel "$b_out" cg)" ]
        ! grep -v ':/sub$' <<<"$(cg_rel "$b_out" cg)"
        both exec --cgroup / cg cat /proc/self/cgroup
        same_status
        [ "$(cg_rel "$r_out" cg)" = "$(cg_rel "$b_out" cg)" ]
        ! grep ':/sub$' <<<"$(cg_rel "$b_out" cg)"
}

@test "diff: exec --cgroup CTRL:PATH (v1) joins only those controllers' sub-cgroups" {
        is_v1 || skip "cgroup v2 host: no controller:path form"
        start cg
        mksub cg sub
        both exec --cgroup memory,pids:sub --cgroup cpu:/ cg cat /proc/self/cgroup
        same_status
        [ "$b_status" = 0 ]
        [ "$(cg_rel "$r_out" cg)" = "$(cg_rel "$b_out" cg)" ]
        [ "$(grep -c ':/sub$' <<<"$(cg_rel "$b_out" cg)")" = 2 ]
        both exec --cgroup memory:nosuch --cgroup memory:sub cg true # the later one wins
        same_quiet
        both exec --cgroup name=systemd:sub cg true
        same_quiet
}

@test "diff: exec --cgroup errors: a missing sub-cgroup, bad forms, unknown controller" {
        start cg
        both exec --cgroup nosuch cg true
        same_status
        [ "$b_status" = 255 ]
        both exec --cgroup a:b:c cg true
        same
        [ "$b_status" = 255 ]
        both exec --cgroup x --cgroup memory:y cg true
        same
        if is_v1; then
                both exec --cgroup bogus:x cg true
                same_status
                [[ "$r_msg" = *"unknown controller bogus"* ]] && [[ "$b_msg" = *"unknown controller bogus"* ]]
                both exec --cgroup unified:x cg true
                same_status
        fi
}

@test "diff: delete -f removes a container whose processes made sub-cgroups" {
        start cg
        mksub cg sub/deeper
        local rp bp
        rp=$(pid_of runc --root "$W/runc" state cg)
        bp=$(pid_of "$BERTH_OCI" --root "$W/berth" state cg)
        local rd bd
        rd=$(cg_dirs "$rp" | grep -m1 /pids) bd=$(cg_dirs "$bp" | grep -m1 /pids)
        is_v1 || { rd=$(cg_dirs "$rp"); bd=$(cg_dirs "$bp"); }
        both exec --cgroup sub/deeper -d cg sleep 1000
        same_quiet
        both delete -f cg
        same_quiet
        [ ! -d "$rd" ] && [ ! -d "$bd" ]
        both state cg
        same
}

# the table's rows without the PID column (pids differ) nor times
ps_rows() { awk 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "PID") c = i; print; next }
        { $c = "P"; print }' <<<"$1"; }

@test "diff: ps ID OPTIONS: what follows the id goes to ps(1)" {
        start p
        both ps p -o pid,comm
        same_status
        [ "$(ps_rows "$r_out")" = "$(ps_rows "$b_out")" ]
        [ "$(ps_rows "$b_out")" = "$(printf '  PID COMMAND\nP sleep')" ]
        both ps p -o comm,pid,args
        same_status
        [ "$(ps_rows "$r_out")" = "$(ps_rows "$b_out")" ]
        both ps p -e -x
        same_status
        [ "$(head -1 <<<"$r_out")" = "$(head -1 <<<"$b_out")" ]
        [ "$(wc -l <<<"$r_out")" = "$(wc -l <<<"$b_out")" ]
}

@test "diff: ps with no options is ps -ef; --format json lists the pids" {
        start p
        both ps p
        same_status
        [ "$(head -1 <<<"$r_out")" = "$(head -1 <<<"$b_out")" ]
        [ "$(wc -l <<<"$r_out")" = 2 ] && [ "$(wc -l <<<"$b_out")" = 2 ]
        both ps --format json p
        same_status
        [ "$(jq length <<<"$r_out")" = 1 ] && [ "$(jq length <<<"$b_out")" = 1 ]
        [ "$(jq '.[0]' <<<"$b_out")" = "$(pid_of "$BERTH_OCI" --root "$W/berth" state p)" ]
        both ps -f json p
        same_status
}

@test "diff: ps errors: no PID column, a failing ps(1), a missing id" {
        start p
        both ps p -o comm
        same
        [ "$b_msg" = "couldn't find PID field in ps output" ]
        both ps p --no-such-option
        same_status
        [ "$b_status" = 1 ]
        [[ "$r_msg" = "exit status 1: "* ]]
        grep -q '^berth-oci: exit status 1: ' "$W/b.err"
        both ps
        same_status
}

@test "diff: the container's init and an exec'd process each lead a session" {
        start s
        both ps s -o pid,sid,comm
        same_status
        awk 'NR > 1 && $1 != $2 { exit 1 }' <<<"$r_out"
        awk 'NR > 1 && $1 != $2 { exit 1 }' <<<"$b_out"
        both exec s sh -c '[ "$(cut -d" " -f6 /proc/self/stat)" = $$ ] && echo leader'
        same_quiet
        [ "$b_out" = leader ]
}

# cgv RT ID FILE: the container's cgroup v1 file FILE (memory.limit_in_bytes, cpu.shares, …)
cgv() {
        local pid ctrl=${3%%.*}
        if [ "$1" = runc ]; then pid=$(pid_of runc --root "$W/runc" state "$2")
        else pid=$(pid_of "$BERTH_OCI" --root "$W/berth" state "$2"); fi
        cat "/sys/fs/cgroup/$ctrl$(awk -F: -v c="$ctrl" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$pid/cgroup")/$3"
}
# both_cgv ID FILE VALUE: FILE holds VALUE under both runtimes
both_cgv() {
        local r b
        r=$(cgv runc "$1" "$2") b=$(cgv berth "$1" "$2")
        echo "$2: runc $r, berth $b, want $3"
        [ "$r" = "$3" ] && [ "$b" = "$3" ]
}
# both_stats ID JQ: JQ of `events --stats` under both runtimes, which must agree; prints it
both_stats() {
        both events --stats "$1" >&2
        same_status || return 1
        local r b
        r=$(jq -c "$2" <<<"$r_out") b=$(jq -c "$2" <<<"$b_out")
        echo "stats $2: runc $r, berth $b" >&2
        [ "$r" = "$b" ] && echo "$b"
}

@test "diff: update --memory/--memory-swap/--memory-reservation, in the cgroup and in events --stats" {
        is_v1 || skip "cgroup v1 file names"
        start u
        both update u --memory 64M --memory-swap 128M --memory-reservation 32m
        same_quiet
        both_cgv u memory.limit_in_bytes 67108864
        both_cgv u memory.soft_limit_in_bytes 33554432
        [ "$(both_stats u '[.data.memory.usage.limit, .data.memory.swap.limit]')" = "[67108864,134217728]" ]
        both update u --memory 32M # lowered below the swap limit: memory first
        same_quiet
        both_cgv u memory.limit_in_bytes 33554432
        both update u --memory 256M --memory-swap 512M # raised: swap first
        same_quiet
        both_cgv u memory.limit_in_bytes 268435456
}

@test "diff: update --memory -1 makes memory and swap unlimited" {
        start u
        both update u --memory 64M --memory-swap 128M
        same_quiet
        both update u --memory -1
        same_quiet
        [ "$(both_stats u '[.data.memory.usage.limit, .data.memory.swap.limit]')" != "[67108864,134217728]" ]
}

@test "diff: update memory sizes: units, and bad ones refused alike" {
        start u
        both update u --memory 1.5g
        same_quiet
        [ "$(both_stats u .data.memory.usage.limit)" = 1610612736 ]
        both update u --memory '100 MiB'
        same_quiet
        [ "$(both_stats u .data.memory.usage.limit)" = 104857600 ]
        both update u --memory 64kb
        same_status
        both update u --memory bogus
        same
        [ "$b_msg" = "invalid value for memory: invalid size: 'bogus'" ]
        both update u --memory-reservation 10x
        same
        both update u --memory-swap ''
        same_status
}

@test "diff: update --cpu-share/--cpu-quota/--cpu-period change the cpu cgroup" {
        is_v1 || skip "cgroup v1 file names"
        start u
        both update u --cpu-share 512 --cpu-quota 50000 --cpu-period 100000
        same_quiet
        both_cgv u cpu.shares 512
        both_cgv u cpu.cfs_quota_us 50000
        both_cgv u cpu.cfs_period_us 100000
        both update u --cpu-quota -1
        same_quiet
        both_cgv u cpu.cfs_quota_us -1
}

@test "diff: update --cpu-rt-period/--cpu-rt-runtime" {
        is_v1 || skip "cgroup v1 file names"
        start u
        [ -f "/sys/fs/cgroup/cpu/cpu.rt_runtime_us" ] || skip "no CONFIG_RT_GROUP_SCHED"
        both update u --cpu-rt-period 900000 --cpu-rt-runtime 0
        same_quiet
        both_cgv u cpu.rt_period_us 900000
}

@test "diff: update --cpuset-cpus/--cpuset-mems, in the cgroup and in events --stats" {
        start u
        both update u --cpuset-cpus 0 --cpuset-mems 0
        same_quiet
        [ "$(both_stats u '[.data.cpuset.cpus, .data.cpuset.mems]')" = "[[0],[0]]" ]
        if [ "$(nproc)" -gt 1 ]; then
                both update u --cpuset-cpus 0-1
                same_quiet
                [ "$(both_stats u .data.cpuset.cpus)" = "[0,1]" ]
        fi
        both update u --cpuset-cpus 4096
        same_status
        [ "$b_status" = 1 ]
}

@test "diff: update --pids-limit, in events --stats" {
        start u
        both update u --pids-limit 20
        same_quiet
        [ "$(both_stats u .data.pids)" = '{"current":1,"limit":20}' ]
        both update u --pids-limit -1 # unlimited
        same_quiet
        [ "$(both_stats u .data.pids.limit)" = null ]
}

@test "diff: update bad numbers are refused with runc's messages" {
        start u
        both update u --cpu-period x
        same
        [ "$b_msg" = 'invalid value for cpu-period: strconv.ParseUint: parsing "x": invalid syntax' ]
        both update u --cpu-share -5
        same
        both update u --cpu-quota 1.5
        same
        [ "$b_msg" = 'invalid value for cpu-quota: strconv.ParseInt: parsing "1.5": invalid syntax' ]
        both update u --cpu-rt-runtime x
        same
        both update u --pids-limit x
        same_status
}

@test "diff: update --l3-cache-schema/--mem-bw-schema without Intel RDT" {
        [ -d /sys/fs/resctrl/info ] && skip "this host has Intel RDT"
        start u
        both update u --l3-cache-schema L3:0=f
        same
        both update u --mem-bw-schema MB:0=50
        same
}

@test "diff: update -r FILE and -r - (stdin); the other flags are then ignored" {
        start u
        echo '{"pids": {"limit": 33}, "memory": {"limit": 50331648}}' >"$W/res.json"
        both update -r "$W/res.json" u --pids-limit 5
        same_quiet
        [ "$(both_stats u '[.data.pids.limit, .data.memory.usage.limit]')" = "[33,50331648]" ]
        echo '{"pids": {"limit": 44}}' >"$W/res2.json"
        r_status=0 b_status=0
        (cd "$B" && runc --root "$W/runc" update -r - u <"$W/res2.json") || r_status=$?
        (cd "$B" && "$BERTH_OCI" --root "$W/berth" update -r - u <"$W/res2.json") || b_status=$?
        same_status
        [ "$(both_stats u .data.pids.limit)" = 44 ]
        both update --resources "$W/nosuch.json" u
        same_status
        [ "$b_status" = 1 ]
        echo '{' >"$W/bad.json"
        both update -r "$W/bad.json" u
        same_status
}

@test "diff: update with no flags, on a stopped and on a missing container" {
        start u
        both update u
        same_quiet
        stopped u
        both update u --pids-limit 3
        same_status
        both update nosuch --pids-limit 3
        same
        both update
        same_status
}

@test "diff: update --kernel-memory is accepted (and ignored on kernels without kmem limits)" {
        start u
        both update u --kernel-memory 100M
        same_status
        [ "$b_status" = 0 ]
}

@test "diff: events --stats: runc's keys in runc's order, and the current values" {
        start e
        both events --stats e
        same_status
        local f='[paths | map(tostring) | join(".")] | map(select(test("\\.[0-9]+$") | not))'
        [ "$(jq -c "$f" <<<"$r_out")" = "$(jq -c "$f" <<<"$b_out")" ]
        [ "$(jq -c '[.type, .id]' <<<"$b_out")" = '["stats","e"]' ]
        [ "$(jq .data.pids.current <<<"$b_out")" = 1 ]
        [ "$(jq '.data.cpu.usage.total > 0' <<<"$b_out")" = true ]
        [ "$(jq '.data.memory.usage.usage > 0' <<<"$b_out")" = true ]
        [ "$(wc -l <"$W/b.out")" = 1 ] && [ "$(wc -l <"$W/r.out")" = 1 ]
}

@test "diff: events --stats counts an exec'd process and a paused container's" {
        start e
        both exec -d e sleep 1000
        same_quiet
        [ "$(both_stats e .data.pids.current)" = 2 ]
        both pause e
        same_quiet
        [ "$(both_stats e .data.pids.current)" = 2 ]
        both resume e
        same_quiet
}

@test "diff: events --interval streams a stats event per interval" {
        start e
        timeout 2.6 runc --root "$W/runc" events --interval 500ms e >"$W/r.ev" || true
        timeout 2.6 "$BERTH_OCI" --root "$W/berth" events --interval 500ms e >"$W/b.ev" || true
        cat "$W/r.ev" "$W/b.ev" | cut -c1-80
        [ "$(jq -r .type "$W/r.ev" | sort -u)" = stats ]
        [ "$(jq -r .type "$W/b.ev" | sort -u)" = stats ]
        local rn bn
        rn=$(wc -l <"$W/r.ev") bn=$(wc -l <"$W/b.ev")
        [ "$bn" -ge 4 ] && [ "$bn" -le 6 ] && [ $((rn - bn)) -le 1 ] && [ $((bn - rn)) -le 1 ]
}

@test "diff: events --interval: 0, negative and malformed durations refused alike" {
        start e
        both events --interval 0 e
        same
        [ "$b_msg" = "duration interval must be greater than 0" ]
        both events --interval -1s e
        same
        both events --interval x e
        same_status
        [ "$b_status" = 1 ]
        both events --interval 1 e # a Go duration needs a unit
        same_status
}

@test "diff: events on a stopped and on a missing container" {
        start e
        stopped e
        both events --stats e
        same
        [ "$b_msg" = "container with id e is not running" ]
        both events e
        same
        both events --stats nosuch
        same
}

@test "diff: events reports an oom kill as {\"type\":\"oom\"}" {
        jq '.linux.resources.memory = {limit: 33554432, swap: 33554432}' "$B/config.json" >"$B/c" &&
                mv "$B/c" "$B/config.json"
        start o
        (exec timeout 8 runc --root "$W/runc" events --interval 60s o >"$W/r.ev") &
        local rp=$!
        (exec timeout 8 "$BERTH_OCI" --root "$W/berth" events --interval 60s o >"$W/b.ev") &
        local bp=$!
        sleep 1
        both exec o tail /dev/zero
        same_status
        [ "$b_status" = 137 ]
        local i
        for i in $(seq 50); do [ -s "$W/r.ev" ] && [ -s "$W/b.ev" ] && break; sleep 0.1; done
        kill "$rp" "$bp" 2>/dev/null || true
        cat "$W/r.ev" "$W/b.ev"
        [ "$(head -1 "$W/r.ev")" = '{"type":"oom","id":"o"}' ]
        [ "$(head -1 "$W/b.ev")" = '{"type":"oom","id":"o"}' ]
}

@test "diff: resources.unified on a cgroup v1 host is an error" {
        is_v1 || skip "cgroup v2 host"
        jq '.linux.resources.unified = {"memory.high": "100000000"}' "$B/config.json" >"$B/c" &&
                mv "$B/c" "$B/config.json"
        both run -d u
        same_status
        [ "$b_status" = 1 ]
        [[ "$r_msg" = *"invalid configuration: cannot use unified on cgroup v1" ]]
        [[ "$b_msg" = *"invalid configuration: cannot use unified on cgroup v1" ]]
        both state u
        same
}

@test "diff: a pre-frozen cgroupsPath is refused, not waited on" {
        local cg="/oci-diff-frozen-$$" d
        if is_v1; then
                for d in /sys/fs/cgroup/*/; do
                        [ -L "${d%/}" ] && continue
                        mkdir -p "$d${cg#/}" && cg_made="${cg_made:-} $d${cg#/}"
                done
                cat /sys/fs/cgroup/cpuset/cpuset.cpus >"/sys/fs/cgroup/cpuset$cg/cpuset.cpus"
                cat /sys/fs/cgroup/cpuset/cpuset.mems >"/sys/fs/cgroup/cpuset$cg/cpuset.mems"
                echo FROZEN >"/sys/fs/cgroup/freezer$cg/freezer.state"
                thaw="/sys/fs/cgroup/freezer$cg/freezer.state"
        else
                mkdir "/sys/fs/cgroup$cg" && cg_made="/sys/fs/cgroup$cg"
                echo 1 >"/sys/fs/cgroup$cg/cgroup.freeze"
                thaw="/sys/fs/cgroup$cg/cgroup.freeze"
        fi
        jq --arg p "$cg" '.linux.cgroupsPath = $p' "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
        r_status=0 b_status=0
        (cd "$B" && timeout 20 runc --root "$W/runc" run -d f) </dev/null >"$W/r.out" 2>"$W/r.err" || r_status=$?
        (cd "$B" && timeout 20 "$BERTH_OCI" --root "$W/berth" run -d f) </dev/null >"$W/b.out" 2>"$W/b.err" || b_status=$?
        cat "$W/r.err" "$W/b.err"
        # (a runtime may have removed the empty cgroup on its way out)
        if [ -e "$thaw" ]; then if is_v1; then echo THAWED >"$thaw"; else echo 0 >"$thaw"; fi; fi
        same_status
        [ "$b_status" = 1 ]
        grep -q "container's cgroup unexpectedly frozen" "$W/r.err"
        grep -q "container's cgroup unexpectedly frozen" "$W/b.err"
}

# the long flag names a help text lists under OPTIONS, sorted
help_flags() { sed -n '/^OPTIONS:/,$p' <<<"$1" | grep -o '^   --[a-z0-9-]*' | sort | tr -d ' '; }

@test "diff: CMD --help / -h: runc's layout and the same flags, for every command" {
        local c
        for c in create run start state kill delete list ps exec pause resume update events spec features checkpoint restore; do
                both "$c" --help
                same_status
                [ "$b_status" = 0 ]
                [ "$(sed -n 1p <<<"$b_out")" = NAME: ]
                [[ "$(sed -n 2p <<<"$b_out")" = "   berth-oci $c - "* ]]
                [ "$(sed -n '/^USAGE:/{n;p}' <<<"$r_out" | sed 's/runc/X/')" = \
                        "$(sed -n '/^USAGE:/{n;p}' <<<"$b_out" | sed 's/berth-oci/X/')" ]
                [ "$(help_flags "$r_out")" = "$(help_flags "$b_out")" ] || {
                        diff <(help_flags "$r_out") <(help_flags "$b_out")
                        return 1
                }
                both "$c" -h
                same_status
                [ "$(help_flags "$r_out")" = "$(help_flags "$b_out")" ]
        done
}

@test "diff: help CMD and --help: the command's and the main help" {
        both help kill
        same_status
        [[ "$(sed -n 2p <<<"$b_out")" = "   berth-oci kill - "* ]]
        both --help
        same_status
        [ "$(grep -c '^[A-Z ]*:$' <<<"$r_out")" -ge 4 ]
        [ "$(grep '^[A-Z ]*:$' <<<"$r_out" | grep -v '^AUTHOR')" = "$(grep '^[A-Z ]*:$' <<<"$b_out")" ]
        both
        same_status
        [ "$b_status" = 0 ]
}

@test "diff: argument counts: exactly one id, a minimum, a maximum, none; Incorrect Usage" {
        local c
        for c in create run start state delete pause resume update events; do
                both "$c"
                same_status
                [ "$r_msg" = "runc: $b_msg" ]
                [ "$(head -1 <<<"$b_out")" = "Incorrect Usage." ]
                both "$c" a b
                same_status
                [ "$r_msg" = "runc: $b_msg" ]
        done
        for c in ps exec kill; do
                both "$c"
                same_status
                [ "$r_msg" = "runc: $b_msg" ]
        done
        both kill a b c
        same_status
        [ "$r_msg" = "runc: $b_msg" ]
        for c in list spec features; do
                both "$c" extra
                same_status
                [ "$r_msg" = "runc: $b_msg" ]
        done
}

@test "diff: an unknown flag and a flag missing its value, as runc words them" {
        both state --bogus x
        same_msg
        [ "$b_msg" = "flag provided but not defined: -bogus" ]
        [ "$(head -1 <<<"$b_out")" = "Incorrect Usage: flag provided but not defined: -bogus" ]
        both kill -x k
        same_msg
        both exec --cwd
        same_msg
        [ "$b_msg" = "flag needs an argument: -cwd" ]
        both --bogus list
        same_msg
}

@test "diff: an unknown command exits 3 with runc's message" {
        both bogus
        same_status
        [ "$r_msg" = "$b_msg\\n" ] # urfave/cli's own trailing newline, escaped
        [ "$b_status" = 3 ]
        [ "$b_msg" = "No help topic for 'bogus'" ]
}

@test "diff: state prints runc's document: key order, indentation, no final newline" {
        start s
        both state s
        same_status
        diff <(sed -E 's/"pid": [0-9]+/"pid": P/; s/"created": "[^"]*"/"created": C/' "$W/r.out") \
                <(sed -E 's/"pid": [0-9]+/"pid": P/; s/"created": "[^"]*"/"created": C/' "$W/b.out")
        [ "$(tail -c1 "$W/b.out" | od -An -c | tr -d ' ')" = "}" ]
}

@test "diff: --debug writes logrus-shaped debug lines, with the internal steps" {
        both --debug run -d d
        same_status
        cat "$W/r.err" "$W/b.err"
        grep -qE '^time="[0-9T:Z-]+" level=debug msg=".*"$' "$W/r.err"
        grep -qE '^time="[0-9T:Z-]+" level=debug msg=".*"$' "$W/b.err"
        ! grep -vE '^time="[0-9T:Z-]+" level=[a-z]+ msg=".*"$' "$W/b.err"
        grep -q 'msg="init: pivot_root into' "$W/b.err"
        grep -q 'msg="create: init cloned, pid' "$W/b.err"
}

@test "diff: --debug --log-format json: one JSON object a line, runc's keys" {
        start d
        both --debug --log-format json exec d true
        same_status
        jq -e -s 'length > 0 and all(.[]; has("level") and has("msg") and has("time"))' "$W/r.err"
        jq -e -s 'length > 0 and all(.[]; keys == ["level", "msg", "time"])' "$W/b.err"
        jq -e -s 'any(.[]; .level == "debug")' "$W/b.err"
}

@test "diff: --log FILE: the error in the file, its message on stderr too" {
        both --log "$W/LOG" state nosuch
        same_status
        [ "$(cat "$W/r.err")" = "container does not exist" ]
        [ "$(cat "$W/b.err")" = "container does not exist" ]
        [ "$(grep -c 'container does not exist' "$W/LOG")" = 2 ]
        both --log "$W/LOGJ" --log-format json state nosuch
        same_status
        [ "$(jq -s -c 'map(.msg)' "$W/LOGJ")" = '["container does not exist","container does not exist"]' ]
}

@test "diff: --log-format json errors; an unknown --log-format is refused" {
        both --log-format json state nosuch
        same_status
        [ "$(jq -r .msg "$W/r.err")" = "$(jq -r .msg "$W/b.err")" ]
        [ "$(jq -c 'keys' "$W/b.err")" = '["level","msg","time"]' ]
        both --log-format bogus list
        same
        [ "$b_msg" = "invalid log-format: bogus" ]
}

@test "diff: list --format of an unknown kind" {
        both list --format bogus
        same
        [ "$b_msg" = "invalid format option" ]
        both list -f json
        same_quiet
}

# criu_works: CRIU can dump on this kernel (else checkpoint fails with CRIU's reason)
criu_works() { criu check >/dev/null 2>&1; }

@test "diff: checkpoint of a stopped, a created and a missing container" {
        require_cmd criu
        start s
        stopped s
        both checkpoint s
        same
        [ "$b_msg" = "Container cannot be checkpointed in stopped state" ]
        both checkpoint nosuch
        same
        both create c
        same_quiet
        both checkpoint c
        same
        [ "$b_msg" = "Container cannot be checkpointed in created state" ]
}

@test "diff: checkpoint with no criu to run: runc's version check message" {
        start k
        # runc logs "container still running" first, from its clean-up after the failure
        both --criu "$W/no-criu" checkpoint k
        same_status
        [ "$(tail -1 <<<"$r_msg")" = "$b_msg" ]
        [ "$b_msg" = "CRIU version check failed: fork/exec $W/no-criu: no such file or directory" ]
        both --criu no-such-criu-binary checkpoint k
        same_status
        [ "$(tail -1 <<<"$r_msg")" = "$b_msg" ]
        [[ "$b_msg" = 'CRIU version check failed: exec: "no-such-criu-binary": executable file not found in $PATH' ]]
}

@test "diff: checkpoint --image-path: descriptors.json and CRIU's log; CRIU's own reason when it fails" {
        require_cmd criu
        start k
        both checkpoint --image-path "$W/img" k
        same_status
        # each runtime wrote to the same directory in turn: the last one's files are there
        [ "$(jq length "$W/img/descriptors.json")" = 3 ]
        [ -s "$W/img/dump.log" ]
        if criu_works; then
                [ "$b_status" = 0 ]
                both state k
                same
        else
                [ "$b_status" = 1 ]
                [[ "$(tail -1 <<<"$r_msg")" = "criu failed: type DUMP"* ]]
                local why
                why=$(grep -m1 -o 'Error ([^)]*): .*' "$W/img/dump.log" | sed 's/^Error ([^)]*): //')
                [ -n "$why" ]
                grep -qF "criu failed: type DUMP: $why" "$W/b.err"
                grep -qF "log file: $W/img/dump.log" "$W/b.err"
                both state k # a failed dump leaves it running
                same_status
                [ "$(jq -r .status <<<"$b_out")" = running ]
        fi
}

@test "diff: checkpoint --leave-running --work-path: the log goes to the work path" {
        require_cmd criu
        start k
        both checkpoint --leave-running --image-path "$W/img" --work-path "$W/work" k
        same_status
        [ -s "$W/work/dump.log" ]
        [ -s "$W/img/descriptors.json" ]
        [ "$(status_of "$BERTH_OCI" --root "$W/berth" state k)" = running ]
        [ "$(status_of runc --root "$W/runc" state k)" = running ]
}

@test "diff: checkpoint --pre-dump --parent-path, --tcp-established, --file-locks, --manage-cgroups-mode" {
        require_cmd criu
        start k
        both checkpoint --pre-dump --image-path "$W/pre" k
        same_status
        both checkpoint --parent-path ../pre --image-path "$W/img" --leave-running k
        same_status
        both checkpoint --tcp-established --ext-unix-sk --file-locks --shell-job \
                --manage-cgroups-mode soft --image-path "$W/img2" --leave-running k
        same_status
        [ "$(status_of "$BERTH_OCI" --root "$W/berth" state k)" = running ]
}

@test "diff: restore from a directory without images fails; the id stays free" {
        require_cmd criu
        mkdir "$W/empty"
        both restore --image-path "$W/empty" -d r
        same_status
        [ "$b_status" = 1 ]
        [ -s "$W/empty/restore.log" ]
        both state r
        same
        start x
        both restore --image-path "$W/empty" -d x
        same_status
}

@test "diff: exec -t: the terminal belongs to the process's user" {
        require_cmd script
        start t
        local q='stat -c "%u %a" $(readlink /proc/self/fd/0)'
        r_out=$(cd "$B" && script -qec "runc --root $W/runc exec -t -u 1000:1000 t sh -c '$q'" /dev/null </dev/null | grep -oE '[0-9]+ [0-9]+')
        b_out=$(cd "$B" && script -qec "$BERTH_OCI --root $W/berth exec -t -u 1000:1000 t sh -c '$q'" /dev/null </dev/null | grep -oE '[0-9]+ [0-9]+')
        echo "runc: $r_out / berth: $b_out"
        [ "$r_out" = "1000 620" ] && [ "$b_out" = "1000 620" ]
        r_out=$(cd "$B" && script -qec "runc --root $W/runc exec -t t sh -c '$q'" /dev/null </dev/null | grep -oE '[0-9]+ [0-9]+')
        b_out=$(cd "$B" && script -qec "$BERTH_OCI --root $W/berth exec -t t sh -c '$q'" /dev/null </dev/null | grep -oE '[0-9]+ [0-9]+')
        [ "$r_out" = "0 620" ] && [ "$b_out" = "0 620" ]
}

@test "diff: exec --cap adds to bounding, effective and permitted only (not inheritable/ambient)" {
        start c
        both exec --cap CAP_SYS_ADMIN c grep ^Cap /proc/self/status
        same_quiet
        both exec --cap CAP_SYS_ADMIN -u 1000 c grep CapEff /proc/self/status
        same_quiet
        [ "$b_out" = "CapEff:	0000000000000000" ]
}

@test "diff: exec --user UID[:GID]; a bad one refused with runc's message" {
        start u
        both exec -u 5:6 u id
        same_quiet
        both exec --user 5 u id
        same_quiet
        both exec -u bob u id
        same
        [ "$b_status" = 255 ]
        both exec -u 1:x u id
        same
}

@test "diff: exec exit status, -e, --cwd, --no-new-privs" {
        start e
        both exec e sh -c 'exit 7'
        same_quiet
        [ "$b_status" = 7 ]
        both exec -e FOO=bar -e BAZ=1 --cwd /tmp e sh -c 'echo $FOO $BAZ $(pwd)'
        same_quiet
        [ "$b_out" = "bar 1 /tmp" ]
        both exec --no-new-privs e grep NoNewPrivs /proc/self/status
        same_quiet
        both exec e sh -c 'kill -9 $$'
        same_status
        [ "$b_status" = 137 ]
}

@test "diff: exec of a missing or a non-executable program exits 255" {
        start e
        both exec e /nonexistent
        same_status
        [ "$b_status" = 255 ]
        both exec e /etc
        same_status
        both exec e
        same
        [ "$b_msg" = "exec failed: process args cannot be empty" ]
}

@test "diff: exec -d --pid-file: detached, pid written" {
        start e
        both exec -d --pid-file "$W/PIDFILE" e sleep 1000
        same_quiet
        local p
        p=$(cat "$W/PIDFILE")
        [ -d "/proc/$p" ]
        [ "$(cat "/proc/$p/comm")" = sleep ]
        both ps --format json e
        same_status
        [ "$(jq length <<<"$b_out")" = 2 ]
}

@test "diff: exec --preserve-fds N passes fds 3..3+N-1" {
        start e
        r_status=0 b_status=0
        r_out=$(cd "$B" && runc --root "$W/runc" exec --preserve-fds 2 e sh -c 'ls /proc/self/fd/3 /proc/self/fd/4 && ! ls /proc/self/fd/6 2>/dev/null' 3</etc/hostname 4</etc/hostname 6</etc/hostname) || r_status=$?
        b_out=$(cd "$B" && "$BERTH_OCI" --root "$W/berth" exec --preserve-fds 2 e sh -c 'ls /proc/self/fd/3 /proc/self/fd/4 && ! ls /proc/self/fd/6 2>/dev/null' 3</etc/hostname 4</etc/hostname 6</etc/hostname) || b_status=$?
        echo "runc $r_status $r_out / berth $b_status $b_out"
        same_status
        [ "$b_status" = 0 ]
        [ "$r_out" = "$b_out" ]
}

@test "diff: exec --process FILE" {
        start e
        jq '.process | .args = ["sh", "-c", "echo from-process-file $(id -u)"] | .user = {uid: 3, gid: 3}' \
                "$B/config.json" >"$W/proc.json"
        both exec --process "$W/proc.json" e
        same_quiet
        [ "$b_out" = "from-process-file 3" ]
        both exec -p "$W/nosuch.json" e
        same_status
}

@test "diff: create, state created, start, state running, kill, state stopped, delete" {
        both create l
        same_quiet
        both state l
        same_status
        [ "$(jq -r .status <<<"$r_out")" = created ] && [ "$(jq -r .status <<<"$b_out")" = created ]
        both list -q
        same_quiet
        both start l
        same_quiet
        [ "$(status_of "$BERTH_OCI" --root "$W/berth" state l)" = running ]
        both kill l KILL # (sleep, the pid 1 of its namespace, has no TERM handler)
        same_quiet
        both_stopped l
        both delete l
        same_quiet
        both list -q
        same_quiet
}

@test "diff: create --pid-file and run -d --pid-file write the init's pid" {
        both create --pid-file "$W/cp" c
        same_quiet
        [ "$(cat "$W/cp")" = "$(pid_of "$BERTH_OCI" --root "$W/berth" state c)" ]
        both run -d --pid-file "$W/rp" r
        same_quiet
        [ "$(cat "$W/rp")" = "$(pid_of "$BERTH_OCI" --root "$W/berth" state r)" ]
}

@test "diff: pause and resume: state paused, then running; double pause" {
        start p
        both pause p
        same_quiet
        both state p
        same_status
        [ "$(jq -r .status <<<"$r_out")" = paused ] && [ "$(jq -r .status <<<"$b_out")" = paused ]
        both pause p
        same_status
        both resume p
        same_quiet
        [ "$(status_of "$BERTH_OCI" --root "$W/berth" state p)" = running ]
}

@test "diff: run in the foreground: the process's output and exit status" {
        jq '.process.args = ["sh", "-c", "echo hello; echo err >&2; exit 5"]' "$B/config.json" >"$B/c" &&
                mv "$B/c" "$B/config.json"
        both run f
        same_status
        [ "$b_status" = 5 ] && [ "$r_out" = hello ] && [ "$b_out" = hello ]
        grep -qx err "$W/r.err" && grep -qx err "$W/b.err"
        both state f
        same
}

@test "diff: run of a missing program: status and no container left" {
        jq '.process.args = ["/nonexistent"]' "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
        both run m
        same_status
        both state m
        same
}

@test "diff: kill without a signal sends SIGTERM" {
        jq '.process.args = ["sh", "-c", "trap \"exit 0\" TERM; while :; do sleep 0.1; done"]' \
                "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
        start t
        both kill t
        same_quiet
        both_stopped t
}

@test "diff: kill -a signals every process of the container" {
        start k
        both exec -d k sleep 1000
        same_quiet
        both kill -a k KILL
        same_quiet
        both_stopped k
        sleep 0.3
        both ps --format json k
        same_status
}

@test "diff: kill KILL of a paused container thaws it, so it dies" {
        start p
        both pause p
        same_quiet
        both kill p KILL
        same_quiet
        both_stopped p
        both delete p
        same_quiet
}

@test "diff: exec into, pause of and kill of a created container" {
        both create c
        same_quiet
        both exec c true
        same_quiet
        both pause c
        same_quiet
        both resume c
        same_quiet
        both ps --format json c
        same_status
        [ "$(jq length <<<"$b_out")" = 1 ]
        both kill c KILL
        same_quiet
        both_stopped c
}

@test "diff: delete -f of a created container" {
        both create c
        same_quiet
        both delete -f c
        same_quiet
        both state c
        same
}

@test "diff: exec --process-label / --apparmor on a host without those LSMs exit 255" {
        start e
        both exec --process-label foo e true
        same
        [ "$b_status" = 255 ]
        both exec --apparmor foo e true
        same_status
        stopped e
        both exec --apparmor foo e true # the container's state is judged first
        same
}

@test "diff: run --no-pivot and --no-new-keyring" {
        jq '.process.args = ["sh", "-c", "cat /proc/self/mountinfo | wc -l >/dev/null; echo ok"]' \
                "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
        both run --no-pivot np
        same_quiet
        [ "$b_out" = ok ]
        both run --no-new-keyring nk
        same_quiet
        [ "$b_out" = ok ]
        both run --no-subreaper ns
        same_quiet
}

@test "diff: spec refuses to overwrite config.json; spec -b DIR; spec -b of a missing dir" {
        both spec
        same
        [ "$b_msg" = "File config.json exists. Remove it first" ]
        mkdir "$W/r" "$W/b"
        runc spec -b "$W/r" && "$BERTH_OCI" spec -b "$W/b"
        diff <(jq -S 'del(.hostname, .ociVersion)' "$W/r/config.json") \
                <(jq -S 'del(.hostname, .ociVersion)' "$W/b/config.json")
        both spec -b "$W/nodir"
        same
}

@test "diff: spec --rootless: runc's rootless config but the cgroup mount" {
        mkdir "$W/r" "$W/b"
        (cd "$W/r" && runc spec --rootless) && (cd "$W/b" && "$BERTH_OCI" spec --rootless)
        diff <(jq -S 'del(.hostname, .ociVersion) | .mounts |= map(select(.destination != "/sys/fs/cgroup"))' "$W/r/config.json") \
                <(jq -S 'del(.hostname, .ociVersion)' "$W/b/config.json")
}

@test "diff: a bundle without config.json" {
        mkdir "$W/empty"
        both run -d -b "$W/empty" x
        same_status
        [ "$r_msg" = "runc run failed: $b_msg" ]
        [ "$b_msg" = "JSON specification file config.json not found" ]
        both create --bundle "$W/empty" x
        same_status
        [ "$r_msg" = "runc create failed: $b_msg" ]
        both state x
        same
}

@test "diff: a broken config.json is refused and leaves no container" {
        echo '{' >"$B/config.json"
        both run -d x
        same_status
        [ "$b_status" = 1 ]
        both state x
        same
        echo '{"ociVersion": "1.0.2"}' >"$B/config.json"
        both run -d y
        same_status
        both list -q
        same_quiet
        [ -z "$b_out" ]
}

@test "diff: process.terminal without a console socket when detached; a socket without a terminal" {
        jq '.process.terminal = true' "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
        both run -d t
        same_status
        [ "$b_status" = 1 ]
        both create t
        same_status
        jq '.process.terminal = false' "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
        both create --console-socket "$W/nosock" t
        same_status
        both list -q
        same_quiet
}

@test "diff: list of created, running, paused and stopped containers" {
        both create a
        same_quiet
        start b
        start c
        both pause c
        same_quiet
        start d
        stopped d
        both list --format json
        same_status
        [ "$(jq -c 'map([.id, .status])' <<<"$r_out")" = "$(jq -c 'map([.id, .status])' <<<"$b_out")" ]
        [ "$(jq -c 'map(.status)' <<<"$b_out")" = '["created","running","paused","stopped"]' ]
        both list
        same_status
        [ "$(awk '{print $1, $3}' <<<"$r_out")" = "$(awk '{print $1, $3}' <<<"$b_out")" ]
        both resume c
        same_quiet
}

@test "diff: list with --root of a directory that does not exist" {
        r_status=0 b_status=0
        r_out=$(runc --root "$W/none-r" list 2>&1) || r_status=$?
        b_out=$("$BERTH_OCI" --root "$W/none-b" list 2>&1) || b_status=$?
        same_status
        [ "$r_out" = "$b_out" ]
}

@test "diff: update and events of a paused container" {
        start p
        both pause p
        same_quiet
        both update p --pids-limit 15
        same_quiet
        [ "$(both_stats p .data.pids.limit)" = 15 ]
        both resume p
        same_quiet
}

@test "diff: ps of a stopped container" {
        start s
        stopped s
        both ps --format json s
        same_status
        both ps s
        same_status
}

@test "diff: start of a created container whose init was killed" {
        both create c
        same_quiet
        both kill c KILL
        same_quiet
        both_stopped c
        both start c
        same
        both delete c
        same_quiet
}

@test "diff: exec -e of a variable the process has replaces it (PATH steers the lookup)" {
        start e
        both exec -e PATH=/nowhere e sh -c 'echo $PATH'
        same_status
        [ "$b_status" = 255 ]
        both exec -e PATH=/bin:/x -e TERM=dumb e env
        same_quiet
        [ "$(grep -c '^PATH=' <<<"$b_out")" = 1 ]
}

@test "diff: HOME is set from the container's /etc/passwd, else /; a given HOME is kept" {
        printf 'root:x:0:0::/root:/bin/sh\nbob:x:1000:1000:Bob:/home/bob:/bin/sh\n' \
                >"$BATS_FILE_TMPDIR/rootfs/etc/passwd"
        start e
        both exec e sh -c 'echo $HOME'
        same_quiet
        [ "$b_out" = /root ]
        both exec -u 1000 e sh -c 'echo $HOME'
        same_quiet
        [ "$b_out" = /home/bob ]
        both exec -u 1001 e sh -c 'echo $HOME'
        same_quiet
        [ "$b_out" = / ]
        both exec -e HOME=/x e sh -c 'echo $HOME'
        same_quiet
        rm "$BATS_FILE_TMPDIR/rootfs/etc/passwd"
        both exec e sh -c 'echo $HOME'
        same_quiet
        [ "$b_out" = / ]
}

@test "diff: the container's init gets HOME too" {
        jq '.process.args = ["sh", "-c", "echo $HOME"] | .process.env = ["PATH=/bin"]' \
                "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
        both run h
        same_quiet
        [ "$b_out" = / ]
}

@test "diff: exec -t -d without --console-socket is refused" {
        start e
        both exec -t -d e true
        same_status
        [ "$b_status" = 255 ]
}

@test "diff: exec --cwd of a missing directory, exec of a program not in PATH" {
        start e
        both exec --cwd /nonexist e pwd
        same_status
        [ "$b_status" = 255 ]
        both exec e nosuchprog
        same_status
        [ "$b_status" = 255 ]
        [[ "$r_msg" = *'exec: "nosuchprog": executable file not found in $PATH' ]]
        [[ "$b_msg" = *'executable file not found in $PATH'* ]]
}

@test "diff: -v is --version" {
        both -v
        same_status
        [ "$(head -1 <<<"$b_out" | cut -d' ' -f2)" = version ]
        [ "$b_out" = "$("$BERTH_OCI" --version)" ]
}

@test "diff: process.cwd that does not exist is made" {
        jq '.process.cwd = "/newdir/sub" | .process.args = ["pwd"]' "$B/config.json" >"$B/c" &&
                mv "$B/c" "$B/config.json"
        both run w
        same_quiet
        [ "$b_out" = /newdir/sub ]
}

@test "diff: empty process.args is refused" {
        jq '.process.args = []' "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
        both run a
        same_status
        [ "$b_status" = 1 ]
        both state a
        same
}

@test "diff: hostname, and the process's env and cwd from config" {
        jq '.hostname = "hx" | .process.cwd = "/tmp" | .process.env += ["FOO=bar"]
                | .process.args = ["sh", "-c", "hostname; pwd; echo $FOO"]' "$B/config.json" >"$B/c" &&
                mv "$B/c" "$B/config.json"
        both run h
        same_quiet
        [ "$b_out" = "$(printf 'hx\n/tmp\nbar')" ]
}

@test "diff: a process killed by a signal exits 128+N; the init ignores what it has no handler for" {
        start s
        both exec s sh -c 'kill -TERM $$'
        same_status
        [ "$b_status" = 143 ]
        jq '.process.args = ["sh", "-c", "kill -TERM $$; echo survived"]' "$B/config.json" >"$B/c" &&
                mv "$B/c" "$B/config.json"
        both run i # pid 1 of its namespace: the kernel drops the signal
        same_quiet
        [ "$b_out" = survived ]
}

# cfg JQ: apply JQ to the bundle's config.json
cfg() { jq "$1" "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"; }

@test "diff: annotations appear in state, before owner" {
        cfg '.annotations = {"org.example.a": "1", "b": "two"}'
        start a
        both state a
        same_status
        [ "$(jq -c .annotations <<<"$r_out")" = "$(jq -c .annotations <<<"$b_out")" ]
        [ "$(jq -c 'keys_unsorted' <<<"$r_out")" = "$(jq -c 'keys_unsorted' <<<"$b_out")" ]
}

@test "diff: a read-only rootfs" {
        cfg '.root.readonly = true | .process.args = ["sh", "-c", "touch /x 2>/dev/null && echo wrote || echo refused; touch /tmp/y 2>/dev/null && echo tmp || echo tmp-refused"]'
        both run r
        same_quiet
        [ "$(head -1 <<<"$b_out")" = refused ]
}

@test "diff: masked and read-only paths of the default config" {
        cfg '.process.args = ["sh", "-c", "cat /proc/kcore 2>&1 | wc -c; ls /proc/acpi 2>&1 | wc -l; echo 1 >/proc/sys/kernel/domainname 2>/dev/null && echo w || echo ro"]'
        both run m
        same # (the shell's complaint on stderr, alike)
        [ "$(tail -1 <<<"$b_out")" = ro ]
}

@test "diff: the init's capabilities, no_new_privs and rlimits from the default config" {
        cfg '.process.args = ["sh", "-c", "grep -E \"^(Cap|NoNewPrivs)\" /proc/self/status; ulimit -n; ulimit -Hn"]'
        both run c
        same_quiet
        grep -q 'NoNewPrivs:	1' <<<"$b_out"
}

@test "diff: /dev holds the same nodes and links" {
        cfg '.process.args = ["sh", "-c", "ls -l /dev | awk \"{print \\$1, \\$NF}\" | sort"]'
        both run d
        same_quiet
}

@test "diff: the mount table inside the container" {
        # (in runc's order the cgroup hierarchies follow their ids, in berth-oci's the
        # directory's; berth-oci also mounts a hybrid host's cgroup2 `unified`)
        cfg '.process.args = ["sh", "-c", "awk \"{print \\$2, \\$3}\" /proc/self/mounts"]'
        both run m
        same_status
        [ "$(sort <<<"$r_out")" = "$(grep -v '^/sys/fs/cgroup/unified ' <<<"$b_out" | sort)" ]
}

@test "diff: linux.sysctl and oomScoreAdj" {
        cfg '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shmmax": "123456789"}
                | .process.oomScoreAdj = 123
                | .process.args = ["sh", "-c", "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax /proc/self/oom_score_adj"]'
        both run s
        same_quiet
        [ "$b_out" = "$(printf '1\n123456789\n123')" ]
}

@test "diff: loopback is up in a new network namespace" {
        cfg '.process.args = ["sh", "-c", "cat /sys/class/net/lo/operstate; ls /sys/class/net"]'
        both run n
        same_quiet
}

@test "diff: a cgroup namespace shows the container's cgroup as the root" {
        cfg '.linux.namespaces += [{"type": "cgroup"}] | .process.args = ["sh", "-c", "grep -c \":/$\" /proc/self/cgroup"]'
        both run c
        same_quiet
}

@test "diff: linux.resources.pids.limit in config" {
        cfg '.linux.resources.pids = {"limit": 25}'
        start p
        [ "$(both_stats p .data.pids.limit)" = 25 ]
}

@test "diff: linux.resources memory and cpu in config, read back by events --stats" {
        cfg '.linux.resources.memory = {"limit": 67108864, "reservation": 33554432}
                | .linux.resources.cpu = {"cpus": "0", "mems": "0"}'
        start r
        [ "$(both_stats r '[.data.memory.usage.limit, .data.cpuset.cpus]')" = "[67108864,[0]]" ]
}

@test "diff: a user namespace with uid and gid maps" {
        [ -e /proc/self/ns/user ] || skip "no user namespaces"
        cfg '.linux.namespaces += [{"type": "user"}]
                | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
                | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
                | .process.args = ["sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u"]'
        # the mapped root must reach the rootfs
        chmod 755 "$BATS_RUN_TMPDIR" "$(dirname "$BATS_FILE_TMPDIR")" "$BATS_FILE_TMPDIR" \
                "$BATS_FILE_TMPDIR/rootfs"
        both run u
        same_quiet
        [ "$(tail -1 <<<"$b_out")" = 0 ]
}

@test "diff: a relative mount destination is under the container's root, with runc's warning" {
        mkdir -p "$W/src" && echo hello >"$W/src/f"
        # a bind, a read-only tmpfs (made read-only after pivot_root, by its relative path) and
        # a `..` that stays in the rootfs
        cfg '.mounts += [{destination: "data/in", type: "bind", source: "'"$W/src"'", options: ["rbind"]},
                        {destination: "scratch", type: "tmpfs", source: "tmpfs", options: ["ro"]},
                        {destination: "../up", type: "tmpfs", source: "tmpfs"}]
                | .process.args = ["sh", "-c", "cat /data/in/f; grep -E \" /(data/in|scratch|up) \" /proc/self/mounts | cut -d\" \" -f2,3; touch /scratch/x 2>/dev/null && echo rw || echo ro"]'
        both run r
        same_status
        [ "$b_status" = 0 ]
        [ "$r_out" = "$b_out" ]
        # (the bind's filesystem type is the host's)
        [ "$(sed -n 2p <<<"$b_out" | cut -d' ' -f1)" = /data/in ]
        [ "$(sed -n '1p;3,5p' <<<"$b_out")" = "$(printf 'hello\n/scratch tmpfs\n/up tmpfs\nro')" ]
        [ ! -e "$BATS_FILE_TMPDIR/up" ]
        # runc also logs its validator's `invalid configuration` line (a dump of its own mount
        # struct): only the per-mount warnings are compared
        diff <(warnings "$W/r.err" | grep 'is not absolute\.') <(warnings "$W/b.err")
        warnings "$W/b.err" | grep -qx 'mount destination data/in is not absolute. Support for non-absolute mount destinations will be removed in a future release.'
        [ "$(warnings "$W/b.err" | wc -l)" = 3 ]
}

@test "diff: with a user namespace, bind sources under a root-only directory are opened as the host's root" {
        [ -e /proc/self/ns/user ] || skip "no user namespaces"
        local r="$BATS_FILE_TMPDIR/rootfs"
        mkdir -p "$W/priv/sub" "$r/mnt/a" "$r/mnt/b" "$r/mnt/c"
        echo secret >"$W/priv/sub/f"
        echo top >"$W/priv/f"
        echo file >"$W/priv/file"
        touch "$r/mnt/file"
        chmod 700 "$W/priv"
        chown root:root "$W/priv"
        # the mapped root (host uid 100000) may not search $W/priv: runc's parent opens the
        # sources as the host's root; the mode of what is mounted still applies inside
        cfg '.linux.namespaces += [{"type": "user"}]
                | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
                | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
                | .mounts += [{destination: "/mnt/a", type: "bind", source: "'"$W/priv/sub"'", options: ["rbind"]},
                        {destination: "/mnt/b", type: "bind", source: "'"$W/priv"'", options: ["rbind"]},
                        {destination: "/mnt/c", type: "bind", source: "'"$W/priv/sub"'", options: ["bind", "ro", "nosuid"]},
                        {destination: "/mnt/file", type: "bind", source: "'"$W/priv/file"'", options: ["bind"]}]
                | .process.args = ["sh", "-c", "cat /mnt/a/f /mnt/c/f /mnt/file; ls -ld /mnt/b | awk \"{print \\$1, \\$3}\"; cat /mnt/b/f 2>/dev/null || echo denied; touch /mnt/c/x 2>/dev/null && echo rw || echo ro"]'
        chmod 755 "$BATS_RUN_TMPDIR" "$(dirname "$BATS_FILE_TMPDIR")" "$BATS_FILE_TMPDIR" "$r"
        both run u
        same_quiet
        [ "$b_out" = "$(printf 'secret\nsecret\nfile\ndrwx------ 65534\ndenied\nro')" ]
        # a source that is missing fails both (runc: `failed to open mount source`)
        cfg '.mounts[-1].source = "'"$W/priv/nope"'" | .process.args = ["true"]'
        both run v
        same_status
        [ "$b_status" = 1 ]
        grep -q "bind mount source \`$W/priv/nope\`: No such file or directory" "$W/b.err"
}

@test "diff: hooks: prestart, createRuntime, createContainer (cwd: the rootfs), poststart, poststop" {
        local h="$W/hooks"
        mkdir -p "$h"
        cat >"$h/hook" <<'HOOK'
#!/bin/sh
# KIND OUTFILE: the hook's kind, its working directory, the state's status
s=$(cat)
echo "$1 $(pwd) $(echo "$s" | jq -r .status)" >>"$2"
HOOK
        chmod +x "$h/hook"
        local k
        for k in prestart createRuntime createContainer poststart poststop; do
                cfg ".hooks.$k = [{\"path\": \"$h/hook\", \"args\": [\"hook\", \"$k\", \"\\(\"$W\")/OUT\"]}]"
        done
        cfg '.process.args = ["true"]'
        (cd "$B" && runc --root "$W/runc" run k) </dev/null
        mv "$W/OUT" "$W/r.hooks"
        (cd "$B" && "$BERTH_OCI" --root "$W/berth" run k) </dev/null
        mv "$W/OUT" "$W/b.hooks"
        cat "$W/r.hooks" "$W/b.hooks"
        # the kinds in order and their working directories (the state's status differs:
        # runc says creating/created where berth-oci says created/running, see docs/oci.md)
        diff <(cut -d' ' -f1,2 "$W/r.hooks") <(cut -d' ' -f1,2 "$W/b.hooks")
        grep -qx "createContainer $BATS_FILE_TMPDIR/rootfs created" "$W/b.hooks"
        [ "$(cut -d' ' -f3 "$W/b.hooks" | tail -1)" = stopped ]
}

# host_tools: the host's /usr (and /lib, /lib64) read-only in the container, for python3
host_tools() {
        local d
        for d in /usr /lib /lib64; do
                [ -e "$d" ] || continue
                cfg ".mounts += [{\"destination\": \"$d\", \"type\": \"bind\", \"source\": \"$d\",
                        \"options\": [\"rbind\", \"ro\"]}]"
        done
}
# agent COUNT FAIL ERRNO: the seccomp agent at $W/agent.sock for COUNT runtimes' fds, failing
# the syscall numbers FAIL with -ERRNO; what it received goes to $W/agent.N
agent() {
        require_cmd python3
        python3 "$BERTH_TOP/tests/e2e/seccomp_agent.py" "$W/agent.sock" "$W/agent" "$@" 30 \
                </dev/null >"$W/agent.log" 2>&1 3>&- &
        agent_pid=$!
        reapers="${reapers:-} $agent_pid"
        local i
        for i in $(seq 50); do [ -S "$W/agent.sock" ] && return 0; sleep 0.1; done
        echo "no agent socket"
        return 1
}
# agent_msg N: the Nth message, pids and the spec version made comparable
agent_msg() {
        jq -S '.pidsame = (.pid == .state.pid) | del(.ociVersion, .state.ociVersion, .pid, .state.pid)' \
                "$W/agent.$1"
}

@test "diff: seccomp notify: the agent gets the fd and runc's state; its answers reach the process" {
        local nr_mkdir nr_mkdirat
        nr_mkdir=$(python3 -c 'import ctypes; l=ctypes.CDLL("libseccomp.so.2"); print(l.seccomp_syscall_resolve_name(b"mkdir"))')
        nr_mkdirat=$(python3 -c 'import ctypes; l=ctypes.CDLL("libseccomp.so.2"); print(l.seccomp_syscall_resolve_name(b"mkdirat"))')
        jq --arg l "$W/agent.sock" '.process.args = ["sh", "-c", "mkdir /tmp/nd; echo $?; touch /tmp/f; rm /tmp/f; [ -e /tmp/f ] || echo removed"]
                | .annotations = {"org.b": "2", "org.a": "1"}
                | .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $l,
                        listenerMetadata: "meta=1",
                        syscalls: [{names: ["mkdir", "mkdirat", "unlink", "unlinkat"],
                                action: "SCMP_ACT_NOTIFY"}]}' \
                "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
        # mkdir fails with EREMOTE; rm's unlink goes on to the kernel
        agent 2 "$nr_mkdir,$nr_mkdirat" 66
        both run n
        wait "$agent_pid"
        same
        [ "$(head -1 <<<"$b_out")" = 1 ]
        grep -q "Object is remote" "$W/r.err"
        grep -q "Object is remote" "$W/b.err"
        [ "$(tail -1 <<<"$b_out")" = removed ]
        cat "$W/agent.1" "$W/agent.2" "$W/agent.1.fds" "$W/agent.2.fds"
        diff <(agent_msg 1) <(agent_msg 2)
        diff "$W/agent.1.fds" "$W/agent.2.fds"
        grep -qx "1 anon_inode:seccomp notify" "$W/agent.2.fds"
        [ "$(jq -r '.fds[0] + " " + .metadata + " " + .state.status + " " + .state.id' "$W/agent.2")" = \
                "seccompFd meta=1 creating n" ]
        [ "$(jq -r .state.bundle "$W/agent.2")" = "$B" ]
        [ "$(jq -c .state.annotations "$W/agent.2")" = '{"org.a":"1","org.b":"2"}' ]
}

@test "diff: seccomp notify for exec: the exec'd process's fd reaches the agent too" {
        local nr
        nr=$(python3 -c 'import ctypes; l=ctypes.CDLL("libseccomp.so.2"); print(l.seccomp_syscall_resolve_name(b"mkdir"))')
        jq --arg l "$W/agent.sock" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $l,
                        syscalls: [{names: ["mkdir"], action: "SCMP_ACT_NOTIFY"}]}' \
                "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
        agent 4 "$nr" 66
        start e
        both exec e sh -c 'mkdir /tmp/e 2>/dev/null; echo $?'
        same
        [ "$b_out" = 1 ]
        # run's message, then exec's, from each runtime: the same keys, no metadata
        diff <(agent_msg 1 | jq -S 'del(.state.status, .pidsame)') <(agent_msg 2 | jq -S 'del(.state.status, .pidsame)')
        diff <(agent_msg 3 | jq -S 'del(.pidsame)') <(agent_msg 4 | jq -S 'del(.pidsame)')
        [ "$(jq -r .state.status "$W/agent.4")" = running ]
        [ "$(jq -r 'has("metadata")' "$W/agent.4")" = false ]
}

@test "diff: seccomp notify while read, close, connect and sendmsg are notified too: no deadlock" {
        local nr
        nr=$(python3 -c 'import ctypes; l=ctypes.CDLL("libseccomp.so.2"); print(l.seccomp_syscall_resolve_name(b"mkdir"))')
        jq --arg l "$W/agent.sock" '.process.args = ["sh", "-c", "mkdir /tmp/d 2>/dev/null; echo $?"]
                | .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $l,
                        syscalls: [{names: ["mkdir", "read", "close", "connect", "sendmsg", "sendto",
                                "recvmsg", "recvfrom"], action: "SCMP_ACT_NOTIFY"}]}' \
                "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
        agent 2 "$nr" 66
        both run d
        wait "$agent_pid"
        same_quiet
        [ "$b_out" = 1 ]
}

@test "diff: seccomp notify of the user and capability switch itself: no hang" {
        # without noNewPrivileges the filter is loaded before setgroups/setresuid/capset, so
        # the agent must have the listener before they run (berth once handed it over later
        # and hung here until the agent gave up)
        local nr
        nr=$(python3 -c 'import ctypes; l=ctypes.CDLL("libseccomp.so.2"); print(l.seccomp_syscall_resolve_name(b"mkdir"))')
        jq --arg l "$W/agent.sock" '.process.args = ["sh", "-c", "mkdir /tmp/d 2>/dev/null; echo $?"]
                | .process.noNewPrivileges = false
                | .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $l,
                        syscalls: [{names: ["mkdir", "setgroups", "setresuid", "setresgid", "capset",
                                "prctl"], action: "SCMP_ACT_NOTIFY"}]}' \
                "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
        agent 2 "$nr" 66
        local t0=$SECONDS
        both run h
        wait "$agent_pid"
        same_quiet
        [ "$b_out" = 1 ]
        [ $((SECONDS - t0)) -lt 15 ]
}

@test "diff: seccomp NOTIFY for write or as the default action is refused; no container left" {
        jq --arg l "$W/agent.sock" '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", listenerPath: $l,
                        syscalls: [{names: ["write"], action: "SCMP_ACT_NOTIFY"}]}' \
                "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
        both run w
        same_status
        [ "$b_status" = 1 ]
        grep -q "SCMP_ACT_NOTIFY cannot be used for the write syscall" "$W/r.err"
        grep -q "SCMP_ACT_NOTIFY cannot be used for the write syscall" "$W/b.err"
        both state w
        same
        cfg '.linux.seccomp = {defaultAction: "SCMP_ACT_NOTIFY", listenerPath: "/nonexistent.sock"}'
        both run v
        same_status
        grep -q "SCMP_ACT_NOTIFY cannot be used as default action" "$W/r.err"
        grep -q "SCMP_ACT_NOTIFY cannot be used as default action" "$W/b.err"
}

@test "diff: seccomp listenerPath: no agent there fails create; no NOTIFY rule needs no agent" {
        cfg '.process.args = ["echo", "hi"] | .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
                listenerPath: "/nonexistent/agent.sock",
                syscalls: [{names: ["mkdir"], action: "SCMP_ACT_NOTIFY"}]}'
        both run a
        same_status
        [ "$b_status" = 1 ]
        both state a
        same
        cfg 'del(.linux.seccomp.syscalls)'
        both run b
        same_quiet
        [ "$b_out" = hi ]
}

# allow_below NR: every syscall of this architecture numbered below NR, by name
allow_below() {
        python3 -c 'import ctypes, json, sys
l = ctypes.CDLL("libseccomp.so.2")
l.seccomp_syscall_resolve_num_arch.restype = ctypes.c_void_p
names = []
for nr in range(int(sys.argv[1])):
    p = l.seccomp_syscall_resolve_num_arch(0, nr)
    if p:
        names.append(ctypes.string_at(p).decode())
        ctypes.CDLL(None).free(ctypes.c_void_p(p))
print(json.dumps(names))' "$1"
}

@test "diff: seccomp -ENOSYS stub: a syscall newer than the profile's is ENOSYS, not the default" {
        require_cmd python3
        [ "$(uname -m)" = x86_64 ] || skip "syscall numbers of x86_64"
        host_tools
        # clone3 is 435: the profile names everything below 434 but getcpu (309)
        local allow
        allow=$(allow_below 434 | jq -c 'map(select(. != "getcpu"))')
        jq --argjson a "$allow" '.process.args = ["/usr/bin/python3", "-c",
                "import ctypes; c = ctypes.CDLL(None, use_errno=True)\nfor nr in (435, 309, 434, 1000):\n    r = c.syscall(nr, 0, 0, 0)\n    print(nr, r, ctypes.get_errno() if r < 0 else 0)"]
                | .linux.seccomp = {defaultAction: "SCMP_ACT_ERRNO", architectures: ["SCMP_ARCH_X86_64"],
                        syscalls: [{names: $a, action: "SCMP_ACT_ALLOW"}]}' \
                "$B/config.json" >"$B/c" && mv "$B/c" "$B/config.json"
        both run s
        same_quiet
        # newer: ENOSYS (38); older but not allowed: the default's EPERM
        grep -qx "435 -1 38" <<<"$b_out"
        grep -qx "1000 -1 38" <<<"$b_out"
        grep -qx "309 -1 1" <<<"$b_out"
        # no architectures listed: no stub (runc's rule), the default action for all
        cfg 'del(.linux.seccomp.architectures)'
        both run t
        same_quiet
        grep -qx "435 -1 1" <<<"$b_out"
        # an allowing default leaves ENOSYS to the kernel
        cfg '.linux.seccomp.defaultAction = "SCMP_ACT_ALLOW" | .linux.seccomp.architectures = ["SCMP_ARCH_X86_64"]
                | .linux.seccomp.syscalls = [{names: ["getcpu"], action: "SCMP_ACT_ERRNO", errnoRet: 13}]'
        both run u
        same_quiet
        grep -qx "309 -1 13" <<<"$b_out"
        grep -qx "1000 -1 38" <<<"$b_out"
}

# warnings FILE: the warnings in a runtime's stderr, runc's logrus lines or berth-oci's
warnings() {
        sed -n -e 's/.*level=warning msg="\(.*\)"$/\1/p' -e 's/^berth-oci: warning: //p' "$1" |
                sed 's/\\"/"/g'
}

@test "diff: a read-only /dev gets its nodes, /dev/pts and /dev/shm first, then turns read-only" {
        cfg '(.mounts[] | select(.destination == "/dev") | .options) += ["ro"]
                | .process.args = ["sh", "-c", "ls /dev/pts/ptmx /dev/null /dev/shm; touch /dev/x 2>/dev/null && echo rw || echo ro; touch /dev/shm/x && echo shm-rw; grep \" /dev \" /proc/self/mounts | cut -d\" \" -f4 | cut -d, -f1"]'
        both run d
        same_quiet
        [ "$(tail -3 <<<"$b_out" | tr '\n' ' ')" = "ro shm-rw ro " ]
        # a read-only tmpfs elsewhere is filled (tmpcopyup) before it turns read-only
        cfg '.mounts += [{destination: "/etc", type: "tmpfs", source: "tmpfs", options: ["ro", "tmpcopyup"]}]
                | .process.args = ["sh", "-c", "ls /etc >/dev/null && echo listed; touch /etc/x 2>/dev/null && echo rw || echo ro"]'
        both run e
        same_quiet
        [ "$b_out" = "$(printf 'listed\nro')" ]
}

@test "diff: --no-pivot hides the host's /proc: a nested user namespace can't mount procfs" {
        cfg '.process.capabilities.bounding += ["CAP_SETFCAP"] | .process.capabilities.permitted += ["CAP_SETFCAP"]
                | .process.capabilities.effective += ["CAP_SETFCAP"]
                | .process.args = ["unshare", "-mrpf", "sh", "-c", "mount -t proc proc /tmp 2>/dev/null && echo mounted || echo refused"]'
        both run --no-pivot p
        same_quiet
        [ "$b_out" = refused ]
        # with pivot_root the host's procfs is gone anyway
        both run q
        same_quiet
        [ "$b_out" = refused ]
}

@test "diff: linux.devices makes nodes; only linux.resources.devices opens them" {
        # the default config's resources.devices is a deny-all
        cfg '.linux.devices = [{path: "/dev/kmsg", type: "c", major: 1, minor: 11, fileMode: 438, uid: 0, gid: 0}]
                | .process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"]
                | .process.capabilities.permitted += ["CAP_MKNOD"]
                | .process.args = ["sh", "-c", "ls -l /dev/kmsg | cut -c1; echo x 2>/dev/null >/dev/kmsg && echo written || echo refused; dd if=/dev/kmsg bs=1 count=0 2>/dev/null && echo read || echo unread; rm -f /tmp/n; mknod /tmp/n c 1 3 && echo mknod; rm -f /tmp/n"]'
        both run k
        same_quiet
        [ "$b_out" = "$(printf 'c\nrefused\nunread\nmknod')" ]
        # a rule that allows writing it (reading /dev/kmsg needs CAP_SYSLOG as well)
        cfg '.linux.resources.devices += [{allow: true, type: "c", major: 1, minor: 11, access: "w"}]'
        both run l
        same_quiet
        [ "$(sed -n 2,3p <<<"$b_out" | tr '\n' ' ')" = "written unread " ]
}

@test "diff: v1 cpuset: an empty cpuset.cpus/mems in an existing parent is filled from above" {
        is_v1 || skip "cgroup v1 only"
        local p="/sys/fs/cgroup/cpuset/oci-diff-cpuset-$$" rt
        cfg '.process.args = ["sh", "-c", "grep cpuset /proc/self/cgroup"]'
        for rt in runc berth; do
                mkdir "$p" && cg_made="${cg_made:-} $p"
                [ -z "$(tr -d '\n' <"$p/cpuset.cpus")" ]
                cfg ".linux.cgroupsPath = \"/oci-diff-cpuset-$$/$rt\""
                if [ $rt = runc ]; then
                        (cd "$B" && runc --root "$W/runc" run c) </dev/null >"$W/r.out" 2>"$W/r.err" || true
                else
                        (cd "$B" && "$BERTH_OCI" --root "$W/berth" run c) </dev/null >"$W/b.out" 2>"$W/b.err" || true
                fi
                cat "$W/${rt:0:1}.out" "$W/${rt:0:1}.err"
                diff "$p/cpuset.cpus" /sys/fs/cgroup/cpuset/cpuset.cpus
                diff "$p/cpuset.mems" /sys/fs/cgroup/cpuset/cpuset.mems
                rmdir "$p"/* 2>/dev/null || true
                rmdir "$p"
        done
        [ "$(cat "$W/r.out")" = "$(sed 's/berth$/runc/' "$W/b.out")" ]
        grep -q "/oci-diff-cpuset-$$/berth" "$W/b.out"
}

@test "diff: warnings: kernel memory settings, and a cgroup that already has processes" {
        cfg '.linux.resources.memory = {kernel: 8388608, kernelTCP: 8388608}'
        both run -d m
        same_status
        [ "$b_status" = 0 ]
        diff <(warnings "$W/r.err") <(warnings "$W/b.err")
        [ "$(warnings "$W/b.err")" = "Kernel memory settings are ignored and will be removed" ]
        # a process in the cgroup before the container: each runtime a cgroup of its own
        is_v1 || skip "the rest: cgroup v1"
        local rt d cg
        for rt in runc berth; do
                cg="/oci-diff-busy-$$-$rt"
                sleep 1000 </dev/null >/dev/null 2>&1 3>&- &
                reapers="${reapers:-} $!"
                for d in /sys/fs/cgroup/*/; do
                        [ -L "${d%/}" ] && continue
                        mkdir "$d${cg#/}" && cg_made="${cg_made:-} $d${cg#/}"
                done
                cat /sys/fs/cgroup/cpuset/cpuset.cpus >"/sys/fs/cgroup/cpuset$cg/cpuset.cpus"
                cat /sys/fs/cgroup/cpuset/cpuset.mems >"/sys/fs/cgroup/cpuset$cg/cpuset.mems"
                for d in /sys/fs/cgroup/*/; do
                        [ -L "${d%/}" ] || echo $! >"$d${cg#/}/cgroup.procs"
                done
                cfg "del(.linux.resources.memory) | .linux.cgroupsPath = \"$cg\""
                if [ $rt = runc ]; then
                        (cd "$B" && runc --root "$W/runc" run -d b) </dev/null >"$W/r.out" 2>"$W/r.err"
                else
                        (cd "$B" && "$BERTH_OCI" --root "$W/berth" run -d b) </dev/null >"$W/b.out" 2>"$W/b.err"
                fi
        done
        cat "$W/r.err" "$W/b.err"
        diff <(warnings "$W/r.err") <(warnings "$W/b.err")
        warnings "$W/b.err" | grep -qx "container's cgroup is not empty: 1 process(es) found"
        # delete -f kills what the cgroup holds: the sleeps too, and the cgroups go
        both delete -f b
        same_status
}

@test "diff: the seccomp filter is in force when the startContainer hook runs" {
        cfg '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
                        syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 66}]}
                | .hooks.startContainer = [{path: "/bin/sh", args: ["sh", "-c", "rmdir /tmp/hk 2>/dev/null; mkdir /tmp/hk 2>/dev/null; echo $? >/tmp/hk.out"]}]
                | .process.args = ["cat", "/tmp/hk.out"]'
        both run h
        same_quiet
        [ "$b_out" = 1 ]
}
