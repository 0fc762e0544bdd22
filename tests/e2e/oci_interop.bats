#!/usr/bin/env bats
# oci_interop.bats — berth-oci in place of runc under the real peers: Podman
# (--runtime), containerd (ctr run --runc-binary) and dockerd (--add-runtime).
# Each peer runs on private directories and sockets made here and is stopped at the end.
load helpers

setup_file() {
        [ "$(id -u)" = 0 ] || return 0
        export W=$(mktemp -d /tmp/berth-interop.XXXXXX)
        export BERTH_RUN_DIR=$W/berth-run BERTH_DATA_DIR=$W/berth-data
        "$BERTH_TOP/scripts/mkimage-busybox" --tar "$W/rootfs.tar" >/dev/null
        BERTH="$BERTH" "$BERTH_TOP/scripts/mkimage-busybox" busybox:latest >/dev/null
        "$BERTH" save -o "$W/busybox.tar" busybox:latest
}

teardown_file() {
        [ -n "${W:-}" ] || return 0
        for p in "$W"/*.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done
        sleep 1
        umount -R "$W"/* 2>/dev/null || true
        rm -rf "$W" 2>/dev/null || true
}

setup() {
        require_root
}

podman_() {
        podman --root "$W/podman" --runroot "$W/podman-run" --cgroup-manager cgroupfs \
                --runtime "$BERTH_OCI" --events-backend none --storage-driver vfs "$@"
}

# This sandbox's hard NOFILE limit is below Podman's default of 1048576: any runtime's
# setrlimit fails there, so the tests ask for limits the host allows.
U=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)

@test "rootless podman --runtime berth-oci: run, --user, exec, in Podman's user namespace" {
        require_cmd podman
        require_cmd newuidmap
        local u=berth-e2e-podman
        pkill -KILL -u "$u" 2>/dev/null || true
        userdel -r "$u" >/dev/null 2>&1 || true
        useradd -m -s /bin/bash "$u" 2>/dev/null || skip "could not create $u"
        grep -q "^$u:" /etc/subuid || skip "useradd gave $u no subordinate ids"
        local d=$W/rootless-podman
        mkdir -p -m 755 "$d" && cp "$BERTH_OCI" "$W/rootfs.tar" "$d"/ && chmod a+rx "$d"/*
        mkdir -m 700 "$d/xdg" && chown "$u" "$d/xdg"
        chmod a+x "$W"
        # the runtime runs as root of Podman's user namespace: its state must go to the
        # user's $XDG_RUNTIME_DIR as runc's does, and mknod and cgroups are not for it
        pu() { su - "$u" -c "export XDG_RUNTIME_DIR=$d/xdg; podman --cgroup-manager cgroupfs --runtime $d/berth-oci --events-backend none --storage-driver vfs $1"; }
        pu "import $d/rootfs.tar localhost/bb" >/dev/null
        run pu "run --rm --network none localhost/bb sh -c 'id -u; cat /proc/self/uid_map; exit 3'"
        [ "$status" -eq 3 ]
        [ "${lines[0]}" = 0 ]
        [ "$(echo ${lines[1]})" = "0 $(id -u "$u") 1" ]
        [ "$(echo ${lines[2]})" = "1 $(awk -F: -v u="$u" '$1 == u { print $2; exit }' /etc/subuid) 65536" ]
        run pu "run --rm --network none --user 1000:1000 localhost/bb id -u"
        [ "$output" = 1000 ]
        pu "run -d --name rp --network none localhost/bb sleep 1000" >/dev/null
        run pu "exec rp sh -c 'echo in-exec; exit 4'"
        [ "$status" -eq 4 ]
        [ "$output" = in-exec ]
        ls "$d/xdg/berth-oci" | grep -q .
        pu "rm -f -t 0 rp" >/dev/null
        pkill -KILL -u "$u" 2>/dev/null || true
        sleep 0.2
        userdel -r "$u" >/dev/null 2>&1 || true
}

@test "podman --runtime berth-oci: run, exec, -t, --memory, --pids-limit, --cap-drop, --read-only, --user" {
        require_cmd podman
        podman_ import "$W/rootfs.tar" localhost/bb >/dev/null
        run podman_ run --rm "${U[@]}" localhost/bb sh -c 'echo hi; exit 3'
        [ "$status" -eq 3 ]
        [ "$output" = hi ]
        run podman_ run --rm "${U[@]}" --memory 32m localhost/bb cat /sys/fs/cgroup/memory/memory.limit_in_bytes
        [ "$output" = 33554432 ]
        run podman_ run --rm "${U[@]}" --pids-limit 7 localhost/bb cat /sys/fs/cgroup/pids/pids.max
        [ "$output" = 7 ]
        run podman_ run --rm "${U[@]}" --cap-drop all localhost/bb grep CapEff /proc/self/status
        [[ "$output" == *0000000000000000 ]]
        run podman_ run --rm "${U[@]}" --read-only localhost/bb sh -c 'touch /x 2>/dev/null || echo ro; touch /tmp/y && echo tmp-rw'
        [ "$output" = "$(printf 'ro\ntmp-rw')" ]
        run podman_ run --rm "${U[@]}" --user 1000:1000 localhost/bb id -u
        [ "$output" = 1000 ]
        run podman_ run --rm "${U[@]}" -t localhost/bb tty
        [[ "$output" == /dev/pts/* ]]
        podman_ run -d --name pd "${U[@]}" localhost/bb sleep 1000 >/dev/null
        run podman_ exec pd sh -c 'echo in-exec; exit 4'
        [ "$status" -eq 4 ]
        [ "$output" = in-exec ]
        run podman_ exec -t pd tty
        [[ "$output" == /dev/pts/* ]]
        podman_ rm -f -t 0 pd >/dev/null
}

@test "containerd: ctr run --runc-binary berth-oci" {
        require_cmd containerd ctr
        mkdir -p "$W/ctd"
        printf 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n' >"$W/ctd/config.toml"
        containerd --config "$W/ctd/config.toml" --root "$W/ctd/root" --state "$W/ctd/state" \
                --address "$W/ctd/c.sock" >"$W/ctd/log" 2>&1 &
        echo $! >"$W/containerd.pid"
        for i in $(seq 50); do ctr -a "$W/ctd/c.sock" version >/dev/null 2>&1 && break; sleep 0.1; done
        ctr -a "$W/ctd/c.sock" images import "$W/busybox.tar" >/dev/null
        run ctr -a "$W/ctd/c.sock" run --runc-binary "$BERTH_OCI" --rm busybox:latest c1 sh -c 'echo from-ctr; id -u'
        assert_success
        [ "$output" = "$(printf 'from-ctr\n0')" ]
        run ctr -a "$W/ctd/c.sock" run --runc-binary "$BERTH_OCI" --rm busybox:latest c2 sh -c 'exit 7'
        [ "$status" -eq 7 ]
}

@test "dockerd --add-runtime berth=berth-oci: docker run --runtime berth, --memory, exec" {
        require_cmd dockerd docker
        mkdir -p "$W/dk"
        dockerd --data-root "$W/dk/data" --exec-root "$W/dk/exec" -H "unix://$W/dk/d.sock" \
                --pidfile "$W/dk/pid" --iptables=false --ip6tables=false --bridge=none \
                --ip-masq=false --add-runtime "berth=$BERTH_OCI" >"$W/dk/log" 2>&1 &
        echo $! >"$W/dockerd.pid"
        D=(docker -H "unix://$W/dk/d.sock")
        for i in $(seq 100); do "${D[@]}" info >/dev/null 2>&1 && break; sleep 0.2; done
        "${D[@]}" load -i "$W/busybox.tar" >/dev/null
        run "${D[@]}" run --runtime berth --rm --network none busybox sh -c 'echo from-docker; exit 5'
        [ "$status" -eq 5 ]
        [ "$output" = from-docker ]
        run "${D[@]}" run --runtime berth --rm --network none --memory 32m busybox cat /sys/fs/cgroup/memory/memory.limit_in_bytes
        [ "$output" = 33554432 ]
        "${D[@]}" run -d --runtime berth --name dd --network none busybox sleep 1000 >/dev/null
        run "${D[@]}" exec dd sh -c 'echo in-exec; exit 4'
        [ "$status" -eq 4 ]
        [ "$output" = in-exec ]
        run "${D[@]}" inspect -f '{{.HostConfig.Runtime}}' dd
        [ "$output" = berth ]
        "${D[@]}" rm -f dd >/dev/null
}
