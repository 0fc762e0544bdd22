#!/usr/bin/env bats
# config.json from `berth run` flags (eng_runflags_parse + eng_spec_build, through the
# spec_driver test tool), run with Debian's runc as a peer runtime in a busybox rootfs: each
# flag's effect is observed from inside the container.

load helpers

SPEC_DRIVER="$BERTH_BUILD/tests/unit/spec_driver"

setup_file() {
        ROOTFS="$BATS_FILE_TMPDIR/rootfs"
        mkdir -p "$ROOTFS"/{bin,etc,proc,sys,dev,tmp,root,home/app,data}
        if command -v busybox >/dev/null; then
                cp "$(command -v busybox)" "$ROOTFS/bin/busybox"
                for a in $("$ROOTFS/bin/busybox" --list); do
                        [ -e "$ROOTFS/bin/$a" ] || ln -s busybox "$ROOTFS/bin/$a"
                done
        fi
        printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n' >"$ROOTFS/etc/passwd"
        printf 'root:x:0:\napp:x:1000:\nstaff:x:50:app\naudio:x:29:\n' >"$ROOTFS/etc/group"
        echo from-image >"$ROOTFS/data/marker"
        export ROOTFS
}

# spec FLAGS... IMAGE CMD...: write config.json for the flags into a fresh bundle.
spec() {
        BUNDLE="$BATS_TEST_TMPDIR/bundle"
        mkdir -p "$BUNDLE" "$BATS_TEST_TMPDIR/vols"
        "$SPEC_DRIVER" --rootfs "$ROOTFS" --cgroup "/berth-e2e/spec-$BATS_TEST_NUMBER-$$" \
                --volumes "$BATS_TEST_TMPDIR/vols" ${IMAGE_CONFIG:+--image-config "$IMAGE_CONFIG"} \
                ${INIT:+--init "$INIT"} -- "$@" >"$BUNDLE/config.json"
}

# in_container FLAGS... busybox CMD...: run it with runc; $output/$status as bats' run.
in_container() {
        require_root
        require_cmd runc busybox
        spec "$@"
        run timeout 30 runc --root "$BATS_FILE_TMPDIR/runc" run --bundle "$BUNDLE" \
                "spec-$BATS_TEST_NUMBER-$$"
        echo "$output"
}

@test "spec: default container: Docker's 14 capabilities, seccomp on, no new namespaces allowed" {
        in_container busybox sh -c 'grep -E "^(CapBnd|CapEff|Seccomp):" /proc/self/status; unshare -U true; echo unshare=$?'
        assert_success
        # CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP NET_BIND_SERVICE NET_RAW
        # SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP
        assert_output_contains "CapBnd:	00000000a80425fb"
        assert_output_contains "CapEff:	00000000a80425fb"
        assert_output_contains "Seccomp:	2"
        assert_output_contains "unshare=1"
}

@test "spec: --cap-drop ALL --cap-add net_admin leaves exactly CAP_NET_ADMIN" {
        in_container --cap-drop ALL --cap-add net_admin busybox grep CapBnd /proc/self/status
        assert_success
        assert_output_contains "CapBnd:	0000000000001000"
}

@test "spec: --cap-add SYS_ADMIN re-allows unshare in the seccomp policy" {
        in_container --cap-add SYS_ADMIN busybox sh -c 'unshare -U true; echo unshare=$?'
        assert_success
        assert_output_contains "unshare=0"
}

@test "spec: --security-opt seccomp=unconfined turns the filter off" {
        in_container --security-opt seccomp=unconfined busybox sh -c 'grep Seccomp: /proc/self/status; unshare -U true; echo unshare=$?'
        assert_success
        assert_output_contains "Seccomp:	0"
        assert_output_contains "unshare=0"
}

@test "spec: --security-opt seccomp=FILE loads a Docker-format profile" {
        echo '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1},{"names":["rmdir"],"action":"SCMP_ACT_ERRNO","includes":{"caps":["CAP_SYS_ADMIN"]}}]}' >"$BATS_TEST_TMPDIR/prof.json"
        in_container --security-opt "seccomp=$BATS_TEST_TMPDIR/prof.json" busybox sh -c 'mkdir /tmp/d; echo mkdir=$?; touch /tmp/f && echo touch=$?'
        assert_success
        assert_output_contains "mkdir=1"
        assert_output_contains "touch=0"
}

@test "spec: --privileged: every capability we hold, host devices, no seccomp, rw /sys" {
        in_container --privileged busybox sh -c 'grep -E "^(CapBnd|Seccomp):" /proc/self/status; grep " /sys " /proc/mounts; ls /dev | wc -l'
        assert_success
        want=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
        assert_output_contains "CapBnd:	$want"
        assert_output_contains "Seccomp:	0"
        assert_output_contains "sysfs /sys sysfs rw"
}

@test "spec: -u name:group, --group-add, -e, -w, --hostname, HOME from /etc/passwd" {
        in_container -u app --group-add audio -e FOO=bar -e BAR -w /tmp --hostname web busybox sh -c 'id; hostname; echo "FOO=$FOO HOME=$HOME BAR=${BAR-unset}"; pwd'
        assert_success
        assert_output_contains "uid=1000(app) gid=1000(app) groups="
        assert_output_contains "50(staff)"
        assert_output_contains "29(audio)"
        assert_output_contains "web"
        assert_output_contains "FOO=bar HOME=/home/app BAR=unset"
        assert_output_contains "/tmp"
}

@test "spec: a numeric user missing from /etc/passwd runs with gid 0" {
        in_container -u 4242 busybox id
        assert_success
        assert_output_contains "uid=4242 gid=0"
}

@test "spec: an unknown user name is a Docker-like error, exit 125" {
        require_cmd busybox
        run spec -u nosuch busybox id
        assert_failure 125
        assert_output_contains "unable to find user nosuch"
}

@test "spec: --read-only root, writable --tmpfs, read-only and read-write binds" {
        mkdir -p "$BATS_TEST_TMPDIR/ro" "$BATS_TEST_TMPDIR/rw"
        in_container --read-only --tmpfs /run:size=1m -v "$BATS_TEST_TMPDIR/ro:/ro:ro" \
                --mount "type=bind,src=$BATS_TEST_TMPDIR/rw,dst=/rw" busybox sh -c \
                'touch /x 2>&1; touch /run/x && echo run-ok; touch /ro/x 2>&1; touch /rw/x && echo rw-ok; grep " /run " /proc/mounts'
        assert_success
        assert_output_contains "/x: Read-only file system"
        assert_output_contains "run-ok"
        assert_output_contains "/ro/x: Read-only file system"
        assert_output_contains "rw-ok"
        assert_output_contains "size=1024k"
        [ -e "$BATS_TEST_TMPDIR/rw/x" ]
}

@test "spec: -v creates a missing host directory, --mount type=bind refuses one" {
        in_container -v "$BATS_TEST_TMPDIR/made:/m" busybox true
        assert_success
        [ -d "$BATS_TEST_TMPDIR/made" ]
        run spec --mount "type=bind,src=$BATS_TEST_TMPDIR/missing,dst=/m" busybox true
        assert_failure 125
        assert_output_contains "bind source path does not exist"
}

@test "spec: named and anonymous volumes come from the volume callback" {
        in_container -v data1:/v1 -v /v2 busybox sh -c 'echo a >/v1/f; echo b >/v2/f'
        assert_success
        [ "$(cat "$BATS_TEST_TMPDIR/vols/data1/f")" = a ]
        [ "$(cat "$BATS_TEST_TMPDIR"/vols/anon-*/f)" = b ]
}

@test "spec: --memory, --cpus, --pids-limit, --shm-size reach the cgroup and mounts" {
        in_container --memory 32m --cpus 0.5 --pids-limit 50 --shm-size 8m busybox sh -c '
                for f in memory/memory.limit_in_bytes cpu/cpu.cfs_quota_us cpu/cpu.cfs_period_us pids/pids.max memory.max cpu.max pids.max; do
                        [ -f /sys/fs/cgroup/$f ] && echo "$f=$(cat /sys/fs/cgroup/$f)"
                done; grep " /dev/shm " /proc/mounts'
        assert_success
        if [[ "$output" == *memory.limit_in_bytes* ]]; then
                assert_output_contains "memory/memory.limit_in_bytes=33554432"
                assert_output_contains "cpu/cpu.cfs_quota_us=50000"
                assert_output_contains "cpu/cpu.cfs_period_us=100000"
                assert_output_contains "pids/pids.max=50"
        else
                assert_output_contains "memory.max=33554432"
                assert_output_contains "cpu.max=50000 100000"
                assert_output_contains "pids.max=50"
        fi
        assert_output_contains "size=8192k"
}

@test "spec: --ulimit and the default NOFILE clamped to our own hard limit" {
        in_container --ulimit nproc=100:200 busybox sh -c 'ulimit -n; ulimit -Hu; ulimit -u'
        assert_success
        want=$(ulimit -Hn)
        [ "$want" = unlimited ] || [ "$want" -gt 1048576 ] && want=1048576
        [ "$(echo "$output" | tr '\n' ' ')" = "$want 200 100 " ]
}

@test "spec: --network none gives only loopback; --network host the host's interfaces" {
        in_container --network none busybox sh -c 'ls /sys/class/net'
        assert_success
        [ "$(echo "$output" | tr -d '[:space:]')" = lo ]
        # a host interface other than lo (the count may change: other tests make taps)
        host_if=$(ls /sys/class/net | grep -vx lo | grep -v '^tap\|^veth' | head -1)
        [ -n "$host_if" ] || skip "the host has no interface but lo"
        in_container --network host busybox ls /sys/class/net
        assert_success
        assert_output_contains "$host_if"
}

@test "spec: --pid host sees the host's processes, the default only its own" {
        # its own: sh, ls, wc (and, for a moment, whatever the runtime left to exit)
        in_container busybox sh -c 'ls -d /proc/[0-9]* | wc -l'
        assert_success
        [ "$output" -le 5 ]
        # the host's: far more than any container of this test has
        host=$(ls -d /proc/[0-9]* | wc -l)
        # (a host process may exit between the glob and ls: its error is not a line to count)
        in_container --pid host busybox sh -c 'ls -d /proc/[0-9]* 2>/dev/null | wc -l'
        assert_success
        [ "$output" -gt 5 ] && [ "$output" -ge $((host / 2)) ]
}

@test "spec: masked and read-only paths of /proc" {
        [ "$(wc -c </proc/timer_list 2>/dev/null || echo 0)" -gt 0 ] || skip "this kernel has no /proc/timer_list to mask"
        in_container busybox sh -c 'echo "masked=$(wc -c </proc/timer_list)"; (echo 1 >/proc/sys/kernel/domainname) 2>&1 | grep -q "Read-only" && echo sys-ro'
        assert_success
        assert_output_contains "masked=0"
        assert_output_contains "sys-ro"
}

@test "spec: --security-opt no-new-privileges, --oom-score-adj, --sysctl" {
        in_container --security-opt no-new-privileges --oom-score-adj 300 --sysctl net.ipv4.ip_forward=1 busybox sh -c 'grep NoNewPrivs /proc/self/status; cat /proc/self/oom_score_adj; cat /proc/sys/net/ipv4/ip_forward'
        assert_success
        assert_output_contains "NoNewPrivs:	1"
        assert_output_contains "300"
        [ "$(echo "$output" | tail -1)" = 1 ]
}

@test "spec: image config: env merge, entrypoint + cmd, workdir, user, volumes" {
        cat >"$BATS_TEST_TMPDIR/img.json" <<'EOF'
{"Env": ["PATH=/bin", "A=image", "B=image"], "Entrypoint": ["/bin/sh", "-c"],
 "Cmd": ["echo image-cmd"], "WorkingDir": "/home/app", "User": "app",
 "Volumes": {"/data": {}}}
EOF
        IMAGE_CONFIG="$BATS_TEST_TMPDIR/img.json" in_container -e B=flag busybox 'echo "A=$A B=$B PATH=$PATH"; pwd; id -u; ls /data'
        assert_success
        assert_output_contains "A=image B=flag PATH=/bin"
        assert_output_contains "/home/app"
        assert_output_contains "1000"
        ls "$BATS_TEST_TMPDIR"/vols/anon-* >/dev/null # the image VOLUME got an anonymous volume
        IMAGE_CONFIG="$BATS_TEST_TMPDIR/img.json" in_container busybox
        assert_success
        assert_output_contains "image-cmd"
        # --entrypoint drops the image's Cmd too, as Docker does
        IMAGE_CONFIG="$BATS_TEST_TMPDIR/img.json" run spec --entrypoint /bin/true busybox
        assert_success
        [ "$(jq -c .process.args "$BUNDLE/config.json")" = '["/bin/true"]' ]
}

@test "spec: --init runs the init binary first, with the command after --" {
        printf '#!/bin/sh\necho "init got: $*"\n[ "$1" = -- ] && shift\nexec "$@"\n' >"$BATS_TEST_TMPDIR/init"
        chmod +x "$BATS_TEST_TMPDIR/init"
        INIT="$BATS_TEST_TMPDIR/init" in_container --init busybox echo hello
        assert_success
        assert_output_contains "init got: -- echo hello"
        assert_output_contains "hello"
}

@test "spec: --device adds the node and its cgroup rule" {
        in_container --device /dev/null:/dev/mynull:rw busybox sh -c 'ls -l /dev/mynull; echo x >/dev/mynull && echo write-ok'
        assert_success
        assert_output_contains "1,   3"
        assert_output_contains "write-ok"
}

@test "spec: bad flag values fail with Docker's messages and status 125" {
        run spec --memory 10x busybox true
        assert_failure 125
        assert_output_contains "invalid argument \"10x\" for \"-m, --memory\" flag: invalid suffix: 'x'"
        run spec --cpus -1 busybox true
        assert_failure 125
        run spec --restart sometimes busybox true
        assert_failure 125
        assert_output_contains "invalid restart policy"
        run spec --bogus busybox true
        assert_failure 125
        assert_output_contains "unknown flag: --bogus"
        run spec --platform linux/arm64 busybox true
        assert_failure 125
        run spec --network bridge busybox true
        assert_failure 125
        assert_output_contains "network bridge: no network namespace was prepared"
}

@test "spec: rootless (runc --rootless as nobody): root in the container is the host's nobody" {
        require_root
        require_cmd runc busybox setpriv
        # nobody must be able to reach the rootfs and bundle: a world-readable dir of our own
        local rl
        rl=$(mktemp -d /tmp/berth-spec-rootless.XXXXXX)
        chmod 755 "$rl"
        cp -a "$ROOTFS" "$rl/rootfs"
        mkdir -p "$rl/bundle" "$rl/runc"
        chown 65534:65534 "$rl/runc"
        "$SPEC_DRIVER" --rootfs "$rl/rootfs" --rootless 65534:65534 -- --network host \
                --oom-score-adj -100 --ulimit nofile=100000000 busybox sh -c \
                'id -u; cat /proc/self/uid_map; echo x >/dev/null && echo devnull-ok; ls /sys/class/net | grep -c .; ulimit -n' \
                >"$rl/bundle/config.json"
        chmod 644 "$rl/bundle/config.json"
        run setpriv --reuid=65534 --regid=65534 --clear-groups env XDG_RUNTIME_DIR="$rl/runc" \
                HOME="$rl/runc" timeout 30 runc --root "$rl/runc" --rootless true run \
                --bundle "$rl/bundle" "rootless-$$"
        rm -rf "$rl"
        echo "$output"
        assert_success
        [ "$(echo "$output" | sed -n 1p)" = 0 ]
        [ "$(echo "$output" | sed -n 2p | awk '{print $1, $2, $3}')" = "0 65534 1" ]
        assert_output_contains devnull-ok
        # /sys bound from the host (--network host: sysfs can't be mounted), nofile clamped
        [ "$(echo "$output" | sed -n 4p)" -ge 1 ]
        want=$(ulimit -Hn)
        [ "$(echo "$output" | sed -n 5p)" = "$want" ]
}
