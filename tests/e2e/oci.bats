#!/usr/bin/env bats
# berth-oci: the OCI runtime, observed from inside and outside a busybox container.
#
# Every test builds on one busybox bundle made here (busybox-static copied into a
# rootfs), uses a private --root, and checks what the container itself sees.

load helpers

setup_file() {
        [ "$(id -u)" = 0 ] || return 0
        command -v busybox >/dev/null || return 0
        local r="$BATS_FILE_TMPDIR/rootfs"
        mkdir -p "$r/bin" "$r/proc" "$r/sys" "$r/dev" "$r/etc" "$r/tmp" "$r/root"
        cp "$(command -v busybox)" "$r/bin/busybox"
        for a in $("$r/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"; done
        echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"
}

setup() {
        require_root
        require_cmd busybox jq
        ROOT="$BATS_FILE_TMPDIR/state"
        B="$BATS_TEST_TMPDIR/bundle"
        ID="t$BATS_TEST_NUMBER-$$"
        mkdir -p "$B"
        ln -s "$BATS_FILE_TMPDIR/rootfs" "$B/rootfs"
        (cd "$B" && "$BERTH_OCI" spec)
        cfg '.process.terminal = false | .root.readonly = false'
}

teardown() {
        [ -n "${ROOT:-}" ] || return 0
        for id in $("$BERTH_OCI" --root "$ROOT" list -q 2>/dev/null); do
                "$BERTH_OCI" --root "$ROOT" delete -f "$id" || true
        done
}

# cfg JQ_FILTER: edit the bundle's config.json
cfg() {
        jq "$1" "$B/config.json" >"$B/config.tmp" && mv "$B/config.tmp" "$B/config.json"
}
args() {
        local a
        a=$(printf '%s\n' "$@" | jq -R . | jq -s .)
        cfg ".process.args = $a"
}
oci() {
        (cd "$B" && "$BERTH_OCI" --root "$ROOT" "$@")
}
# Detached containers keep the caller's stdio: give them a file, not bats' pipes.
oci_detached() {
        status=0
        oci "$@" >"$BATS_TEST_TMPDIR/detached.out" 2>&1 </dev/null || status=$?
        output=$(cat "$BATS_TEST_TMPDIR/detached.out")
}
# A user-namespaced root (a high host uid) must be able to reach the rootfs.
traversable() {
        local d="$BATS_FILE_TMPDIR"
        while [ "$d" != / ] && [ "$d" != /tmp ]; do chmod a+x "$d"; d=$(dirname "$d"); done
}
no_leftovers() {
        local id="$1"
        [ ! -e "$ROOT/$id" ] || { echo "state dir left: $ROOT/$id"; return 1; }
        local d
        for d in /sys/fs/cgroup/*/berth-oci/"$id" /sys/fs/cgroup/berth-oci/"$id"; do
                [ ! -e "$d" ] || { echo "cgroup left: $d"; return 1; }
        done
        ! grep -q "$B/rootfs" /proc/self/mountinfo || { echo "mount left"; return 1; }
        ! pgrep -f "berth-oci.*$id" >/dev/null || { echo "process left"; return 1; }
}

@test "oci: run prints the container's output and passes its exit status through" {
        args sh -c 'echo hello from $(hostname); exit 7'
        run oci run "$ID"
        [ "$status" -eq 7 ]
        assert_output_contains "hello from berth"
        no_leftovers "$ID"
}

@test "oci: isolation seen from inside: hostname, pid 1, only lo, own mounts" {
        cfg '.hostname = "inside"'
        args sh -c 'hostname; echo pid=$$; ls /sys/class/net; cat /proc/self/mountinfo'
        run oci run "$ID"
        assert_success
        [ "${lines[0]}" = inside ]
        [ "${lines[1]}" = pid=1 ]
        [ "${lines[2]}" = lo ]
        # its own mount table: the rootfs is /, and no host mount point shows
        [ "$(echo "${lines[3]}" | cut -d' ' -f5)" = / ]
        host_only=$(awk '$5 ~ /^\/(work|home|boot|var)/ {print $5; exit}' /proc/self/mountinfo)
        [ -z "$host_only" ] || refute_output_contains " $host_only "
}

@test "oci: ipc and cgroup namespaces: own IPC keys, cgroup root" {
        ipcmk -M 4096 >/dev/null
        cfg '.linux.namespaces += [{"type": "cgroup"}]'   # not in the default spec (as runc's)
        args sh -c 'cat /proc/sysvipc/shm | wc -l; cat /proc/self/cgroup | grep memory'
        run oci run "$ID"
        assert_success
        [ "${lines[0]}" -eq 1 ]           # header only: the host's segment is invisible
        [ "${lines[1]}" = "$(grep -m1 memory /proc/self/cgroup | cut -d: -f1):memory:/" ]
        ipcrm --all=shm 2>/dev/null || true
}

@test "oci: user namespace maps uids; time namespace shifts the boot clock" {
        cfg '.linux.namespaces += [{"type":"user"},{"type":"time"}]
             | .linux.uidMappings = [{"containerID":0,"hostID":100000,"size":65536}]
             | .linux.gidMappings = [{"containerID":0,"hostID":100000,"size":65536}]
             | .linux.timeOffsets = {"boottime":{"secs":864000,"nanosecs":0}}'
        args sh -c 'id -u; cat /proc/self/uid_map; cut -d. -f1 /proc/uptime'
        traversable
        run oci run "$ID"
        assert_success
        [ "${lines[0]}" = 0 ]
        [ "$(echo ${lines[1]})" = "0 100000 65536" ]
        [ "${lines[2]}" -gt 864000 ]
}

@test "oci: masked and read-only paths" {
        [ -e /proc/keys ] || skip "no /proc/keys on this kernel"
        args sh -c 'wc -c </proc/keys; ls /sys/firmware | wc -l; echo 1 >/proc/sys/kernel/ns_last_pid && echo writable'
        run oci run "$ID"
        [ "${lines[0]}" -eq 0 ]
        [ "${lines[1]}" -eq 0 ]
        refute_output_contains writable
        assert_output_contains "Read-only file system"
}

@test "oci: capabilities and no_new_privs are applied" {
        args sh -c 'grep -E "^Cap(Eff|Bnd)|NoNewPrivs" /proc/self/status'
        run oci run "$ID"
        assert_success
        assert_output_contains "CapEff:	0000000020000420"
        assert_output_contains "CapBnd:	0000000020000420"
        assert_output_contains "NoNewPrivs:	1"
}

@test "oci: no file descriptor of the runtime leaks into the container" {
        args sh -c 'ls /proc/self/fd'
        run oci run "$ID" 7>/dev/null 8</etc/hostname
        assert_success
        [ "$(echo $output)" = "0 1 2 3" ]
}

@test "oci: create, state, start, kill, delete" {
        args sleep 100
        oci_detached create --bundle "$B" --pid-file "$BATS_TEST_TMPDIR/pid" "$ID"
        assert_success
        run oci state "$ID"
        [ "$(echo "$output" | jq -r .status)" = created ]
        pid=$(echo "$output" | jq -r .pid)
        [ "$(cat "$BATS_TEST_TMPDIR/pid")" = "$pid" ]
        [ "$(echo "$output" | jq -r .bundle)" = "$(realpath "$B")" ]
        run oci start "$ID"
        assert_success
        [ "$(oci state "$ID" | jq -r .status)" = running ]
        [ "$(tr '\0' ' ' </proc/$pid/cmdline)" = "sleep 100 " ]
        run oci delete "$ID"
        assert_failure 1
        assert_output_contains "not stopped"
        run oci kill "$ID" KILL
        assert_success
        for i in $(seq 50); do [ "$(oci state "$ID" | jq -r .status)" = stopped ] && break; sleep 0.1; done
        [ "$(oci state "$ID" | jq -r .status)" = stopped ]
        run oci kill "$ID" 9
        assert_failure 1
        run oci delete "$ID"
        assert_success
        no_leftovers "$ID"
}

@test "oci: list as table and JSON; run --detach; kill --all; delete -f" {
        args sleep 100
        oci_detached run -d --bundle "$B" "$ID"
        assert_success
        run oci list
        assert_output_contains "$ID"
        assert_output_contains running
        run oci list --format json
        [ "$(echo "$output" | jq -r ".[] | select(.id == \"$ID\") | .status")" = running ]
        run oci kill --all "$ID" SIGKILL
        assert_success
        run oci delete -f "$ID"
        assert_success
        no_leftovers "$ID"
}

@test "oci: exec with --env, --cwd, --user; ps; pause blocks exec; resume" {
        args sleep 100
        oci_detached run -d --bundle "$B" "$ID"
        run oci exec --env FOO=bar --cwd /tmp --user 1000:1000 "$ID" sh -c 'echo $FOO $(pwd) $(id -u) $(id -g)'
        assert_success
        [ "$output" = "bar /tmp 1000 1000" ]
        run oci exec "$ID" sh -c 'exit 3'
        [ "$status" -eq 3 ]
        run oci ps --format json "$ID"
        [ "$(echo "$output" | jq length)" -eq 1 ]
        run oci pause "$ID"
        assert_success
        [ "$(oci state "$ID" | jq -r .status)" = paused ]
        run oci exec "$ID" true
        assert_failure 255   # a failed exec exits 255, as runc's
        assert_output_contains paused
        run oci resume "$ID"
        assert_success
        [ "$(oci state "$ID" | jq -r .status)" = running ]
        run oci exec --process /dev/stdin "$ID" <<<'{"args":["sh","-c","echo via-process"],"cwd":"/","env":["PATH=/bin"]}'
        assert_success
        [ "$output" = via-process ]
}

@test "oci: a memory hog is OOM-killed at memory.limit" {
        cfg '.linux.resources.memory = {"limit": 33554432, "swap": 33554432}'
        args sh -c 'tail /dev/zero'
        run oci run "$ID"
        [ "$status" -eq 137 ]
        no_leftovers "$ID"
}

@test "oci: a fork bomb stops at pids.max" {
        cfg '.linux.resources.pids = {"limit": 10}'
        args sleep 100
        oci_detached run -d --bundle "$B" "$ID"
        assert_success
        # the bomb's shell dies at the first failed fork; its children stay
        run oci exec "$ID" sh -c 'while :; do sleep 30 & done'
        assert_failure
        cg=/sys/fs/cgroup/pids/berth-oci/$ID
        n=$(cat $cg/pids.current)
        [ "$n" -le 10 ] && [ "$n" -ge 8 ]   # the bomb itself has exited
        [ "$(awk '/max/ {print $2}' $cg/pids.events)" -gt 0 ]
}

@test "oci: cpu quota caps a busy loop" {
        cfg '.linux.resources.cpu = {"quota": 20000, "period": 100000}'
        cfg '.linux.namespaces += [{"type": "cgroup"}]'
        args sh -c 'timeout 1 sh -c "while :; do :; done"; cat /sys/fs/cgroup/cpuacct/cpuacct.usage'
        run oci run "$ID"
        usage_ns=$(echo "$output" | tail -1)
        echo "cpu used: $usage_ns ns in 1 s"
        [ "$usage_ns" -lt 400000000 ]
}

@test "oci: a denied syscall fails with the configured errno" {
        cfg '.linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":122}]}'
        args sh -c 'mkdir /tmp/x'
        run oci run "$ID"
        assert_failure
        assert_output_contains "Disk quota exceeded"
}

@test "oci: hooks get the state on stdin" {
        cfg ".hooks = {\"prestart\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"cat >$BATS_TEST_TMPDIR/prestart\"]}],
                       \"poststop\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"cat >$BATS_TEST_TMPDIR/poststop\"]}]}"
        args true
        run oci run "$ID"
        assert_success
        [ "$(jq -r .id "$BATS_TEST_TMPDIR/prestart")" = "$ID" ]
        [ "$(jq -r .status "$BATS_TEST_TMPDIR/poststop")" = stopped ]
}

@test "oci: createContainer hooks get the whole state, however large the annotations" {
        big=$(head -c 6000 /dev/zero | tr '\0' x)
        cfg ".annotations = {\"big\": \"$big\"}
             | .hooks = {\"createContainer\":[{\"path\":\"/bin/sh\",\"args\":[\"sh\",\"-c\",\"cat >$BATS_TEST_TMPDIR/cc\"]}]}"
        args true
        run oci run "$ID"
        assert_success
        [ "$(jq -r .id "$BATS_TEST_TMPDIR/cc")" = "$ID" ]
        [ "$(jq -r '.annotations.big | length' "$BATS_TEST_TMPDIR/cc")" -eq 6000 ]
}

@test "oci: --console-socket receives the pty master (SCM_RIGHTS)" {
        require_cmd python3
        cfg '.process.terminal = true'
        args sh -c 'tty; echo on-the-pty'
        sock="$BATS_TEST_TMPDIR/console.sock"
        python3 - "$sock" >"$BATS_TEST_TMPDIR/console.out" <<'EOF' &
import array, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
fds = array.array("i")
msg, anc, _, _ = c.recvmsg(64, socket.CMSG_SPACE(4))
fds.frombytes(anc[0][2][:4])
out = b""
while True:
    try:
        d = os.read(fds[0], 4096)
    except OSError:
        break
    if not d:
        break
    out += d
sys.stdout.write(out.decode(errors="replace"))
EOF
        for i in $(seq 50); do [ -S "$sock" ] && break; sleep 0.05; done
        oci_detached create --bundle "$B" --console-socket "$sock" "$ID"
        assert_success
        run oci start "$ID"
        assert_success
        wait
        cat "$BATS_TEST_TMPDIR/console.out"
        grep -q '^/dev/pts/0' "$BATS_TEST_TMPDIR/console.out"
        grep -q on-the-pty "$BATS_TEST_TMPDIR/console.out"
}

@test "oci: bad input fails cleanly and leaves nothing behind" {
        # malformed JSON
        echo '{"ociVersion": ' >"$B/config.json"
        run oci run "$ID"
        assert_failure 1
        assert_output_contains "config.json"
        no_leftovers "$ID"
        # wrong type, named by its path
        (cd "$B" && rm config.json && "$BERTH_OCI" spec)
        cfg '.process.terminal = false | .process.user.uid = "root"'
        run oci run "$ID"
        assert_failure 1
        assert_output_contains "process.user.uid"
        no_leftovers "$ID"
        # unknown capability
        cfg '.process.user.uid = 0 | .process.capabilities.bounding += ["CAP_NOPE"]'
        run oci run "$ID"
        assert_failure 1
        assert_output_contains CAP_NOPE
        no_leftovers "$ID"
        # missing rootfs
        cfg '.process.capabilities.bounding = [] | .root.path = "nowhere"'
        run oci run "$ID"
        assert_failure 1
        assert_output_contains "does not exist"
        no_leftovers "$ID"
        # failure inside the init (missing program) after namespaces and cgroups exist
        cfg '.root.path = "rootfs" | .process.args = ["/no/such/program"]'
        run oci run "$ID"
        assert_failure 1
        assert_output_contains "/no/such/program"
        no_leftovers "$ID"
        # unknown container
        run oci state nosuch
        assert_failure 1
        assert_output_contains "does not exist"
        run oci kill nosuch
        assert_failure 1
}

@test "oci: duplicate id is refused and the first container is untouched" {
        args sleep 100
        oci_detached run -d --bundle "$B" "$ID"
        oci_detached run -d --bundle "$B" "$ID"
        assert_failure 1
        assert_output_contains "already exists"
        [ "$(oci state "$ID" | jq -r .status)" = running ]
}

# Let nobody reach the bundle; $rr is a state root nobody owns.
nobody_can_run() {
        d="$BATS_TEST_TMPDIR"
        while [ "$d" != / ] && [ "$d" != /tmp ]; do chmod a+x "$d"; d=$(dirname "$d"); done
        chmod a+r "$B/config.json"
        rr="$BATS_TEST_TMPDIR/rootless-root"
        mkdir "$rr" && chown nobody "$rr"
}

@test "oci: spec --rootless bundle runs as an unprivileged user" {
        id nobody >/dev/null 2>&1 || skip "no user nobody"
        uid=$(id -u nobody) gid=$(id -g nobody)
        rm "$B/config.json"
        (cd "$B" && "$BERTH_OCI" spec --rootless)
        # the user namespace is there, and no network namespace (nobody could not set it up)
        jq -e '[.linux.namespaces[].type] | index("user") and (index("network") | not)' "$B/config.json"
        cfg ".process.terminal = false | .root.readonly = false
             | .process.args = [\"sh\", \"-c\", \"id -u; cat /proc/self/uid_map\"]
             | .linux.uidMappings[0].hostID = $uid | .linux.gidMappings[0].hostID = $gid"
        traversable
        nobody_can_run
        run su nobody -s /bin/sh -c "cd $B && $BERTH_OCI --root $rr run $ID"
        assert_success
        [ "${lines[0]}" = 0 ]
        [ "$(echo ${lines[1]})" = "0 $uid 1" ]
        [ -z "$(ls "$rr")" ]
}

@test "oci: rootless without a cgroup: kill --all still reaches the container" {
        id nobody >/dev/null 2>&1 || skip "no user nobody"
        uid=$(id -u nobody) gid=$(id -g nobody)
        rm "$B/config.json"
        (cd "$B" && "$BERTH_OCI" spec --rootless)
        cfg ".process.terminal = false | .root.readonly = false | .process.args = [\"sleep\", \"100\"]
             | .linux.uidMappings[0].hostID = $uid | .linux.gidMappings[0].hostID = $gid"
        traversable
        nobody_can_run
        su nobody -s /bin/sh -c "cd $B && $BERTH_OCI --root $rr run -d $ID" >/dev/null 2>&1 </dev/null
        run su nobody -s /bin/sh -c "$BERTH_OCI --root $rr state $ID"
        [ "$(echo "$output" | jq -r .status)" = running ]
        pid=$(echo "$output" | jq -r .pid)
        run su nobody -s /bin/sh -c "$BERTH_OCI --root $rr kill --all $ID KILL"
        assert_success
        # dead: gone, or a zombie its reaper hasn't collected yet
        alive() { [ -e /proc/$1 ] && [ "$(awk '{print $3}' /proc/$1/stat 2>/dev/null)" != Z ]; }
        for i in $(seq 50); do alive "$pid" || break; sleep 0.1; done
        ! alive "$pid"
        su nobody -s /bin/sh -c "$BERTH_OCI --root $rr delete -f $ID" >/dev/null 2>&1
        [ -z "$(ls "$rr")" ]
}

@test "oci: rootless with subordinate ids: newuidmap and newgidmap write the ranges" {
        id nobody >/dev/null 2>&1 || skip "no user nobody"
        require_cmd newuidmap
        require_cmd newgidmap
        uid=$(id -u nobody) gid=$(id -g nobody)
        rm "$B/config.json"
        (cd "$B" && "$BERTH_OCI" spec --rootless)
        cfg ".process.terminal = false | .root.readonly = false
             | .process.user = {uid: 1000, gid: 2000}
             | .process.args = [\"sh\", \"-c\", \"id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map\"]
             | .linux.uidMappings = [{containerID: 0, hostID: $uid, size: 1}, {containerID: 1, hostID: 420000, size: 65536}]
             | .linux.gidMappings = [{containerID: 0, hostID: $gid, size: 1}, {containerID: 1, hostID: 420000, size: 65536}]"
        nobody_can_run
        # without a delegation newuidmap refuses, and we say what is needed
        run su nobody -s /bin/sh -c "cd $B && $BERTH_OCI --root $rr run $ID"
        assert_failure
        assert_output_contains "/etc/subuid"
        [ -z "$(ls "$rr")" ]
        cp /etc/subuid "$BATS_TEST_TMPDIR/subuid.orig"
        cp /etc/subgid "$BATS_TEST_TMPDIR/subgid.orig"
        echo "nobody:420000:65536" >>/etc/subuid
        echo "nobody:420000:65536" >>/etc/subgid
        run su nobody -s /bin/sh -c "cd $B && $BERTH_OCI --root $rr run $ID"
        cp "$BATS_TEST_TMPDIR/subuid.orig" /etc/subuid
        cp "$BATS_TEST_TMPDIR/subgid.orig" /etc/subgid
        assert_success
        [ "${lines[0]}" = 1000 ]
        [ "${lines[1]}" = 2000 ]
        [ "$(echo ${lines[2]})" = "0 $uid 1" ]
        [ "$(echo ${lines[3]})" = "1 420000 65536" ]
        [ "$(echo ${lines[5]})" = "1 420000 65536" ]
        [ -z "$(ls "$rr")" ]
}

@test "oci: the init runs from a sealed memfd, not the host binary (CVE-2019-5736)" {
        args true
        oci_detached create --bundle "$B" "$ID"
        assert_success
        pid=$(oci state "$ID" | jq -r .pid)
        exe=$(readlink /proc/$pid/exe)
        echo "init exe: $exe"
        [[ "$exe" == /memfd:berth-oci* ]]
        # and it cannot be opened for writing through /proc
        ! (echo x >>/proc/$pid/exe) 2>/dev/null
}

@test "oci: update changes limits of a running container; features; --systemd-cgroup" {
        args sleep 100
        cfg '.linux.resources.memory = {"limit": 67108864}'
        oci_detached run -d --bundle "$B" "$ID"
        assert_success
        run oci update --memory 100M --pids-limit 50 "$ID"
        assert_success
        [ "$(cat /sys/fs/cgroup/memory/berth-oci/$ID/memory.limit_in_bytes)" -eq 104857600 ]
        [ "$(cat /sys/fs/cgroup/pids/berth-oci/$ID/pids.max)" -eq 50 ]
        run oci update -r - "$ID" <<<'{"pids": {"limit": 60}}'
        assert_success
        [ "$(cat /sys/fs/cgroup/pids/berth-oci/$ID/pids.max)" -eq 60 ]
        # a flag given again and again: the last one wins (and nothing overflows)
        run oci update $(for i in $(seq 20); do echo --pids-limit $((70 + i)); done) "$ID"
        assert_success
        [ "$(cat /sys/fs/cgroup/pids/berth-oci/$ID/pids.max)" -eq 90 ]
        run oci features
        assert_success
        echo "$output" | jq -e '.linux.namespaces | index("time")' >/dev/null
        echo "$output" | jq -e '.linux.seccomp.enabled' >/dev/null
        run "$BERTH_OCI" --root "$ROOT" --systemd-cgroup run --bundle "$B" "$ID-sd"
        assert_failure 1
        assert_output_contains "systemd-cgroup"
        no_leftovers "$ID-sd"
}

@test "oci: a namespace joined by path (network): the container is in that namespace" {
        require_cmd ip
        ns=berth-oci-$$-$BATS_TEST_NUMBER
        ip netns add "$ns" || skip "ip netns add failed"
        want="net:[$(stat -L -c %i /var/run/netns/$ns)]"
        cfg ".linux.namespaces |= map(if .type == \"network\" then .path = \"/var/run/netns/$ns\" else . end)"
        args sh -c 'readlink /proc/self/ns/net'
        run oci run "$ID"
        ip netns del "$ns"
        assert_success
        [ "$output" = "$want" ]
        run oci run "$ID-bad"   # the namespace is gone now: a clear error, nothing left
        assert_failure 1
        assert_output_contains "/var/run/netns/$ns"
        no_leftovers "$ID-bad"
}

@test "oci: a new network namespace has lo up (as runc and crun), a joined one is left alone" {
        args sh -c 'ip -o link show lo; cat /sys/class/net/lo/flags; cat /sys/class/net/lo/operstate'
        run oci run "$ID"
        assert_success
        assert_output_contains "<LOOPBACK,UP,LOWER_UP>"
        [ "${lines[1]}" = 0x9 ]           # IFF_UP | IFF_LOOPBACK
        # a namespace joined by path is not ours to change: its lo stays down
        require_cmd ip
        ns=berth-oci-$$-$BATS_TEST_NUMBER
        ip netns add "$ns" || skip "ip netns add failed"
        cfg ".linux.namespaces |= map(if .type == \"network\" then .path = \"/var/run/netns/$ns\" else . end)"
        args cat /sys/class/net/lo/flags
        run oci run "$ID-joined"
        inside=$output
        flags=$(ip netns exec "$ns" cat /sys/class/net/lo/flags)
        ip netns del "$ns"
        assert_success
        [ "$inside" = 0x8 ]
        [ "$flags" = 0x8 ]
}

@test "oci: --preserve-fds passes fd 3 through; --no-pivot runs with MS_MOVE + chroot" {
        args sh -c 'ls /proc/self/fd; cat <&3'
        echo from-the-host >"$BATS_TEST_TMPDIR/fd3"
        run oci run --preserve-fds 1 "$ID" 3<"$BATS_TEST_TMPDIR/fd3"
        assert_success
        assert_output_contains from-the-host
        args sh -c 'cat /proc/self/mountinfo | head -1'
        run oci run --no-pivot "$ID"
        assert_success
        [ "$(echo "$output" | cut -d' ' -f5)" = / ]
}
