#!/usr/bin/env bats
# rootless.bats — berth as an unprivileged user: run, run -d, logs, exec, stop, rm, volumes.
# Containers get a user namespace mapping root to the user, no cgroups on cgroup v1 (the
# kernel gives an unprivileged user none to manage), and the vfs storage driver.
load helpers

USER_NAME=berth-e2e

setup_file() {
        [ "$(id -u)" = 0 ] || return 0
        id "$USER_NAME" >/dev/null 2>&1 || useradd -m -s /bin/bash "$USER_NAME" 2>/dev/null || true
        # the binaries where the user can reach them (the build dir may be under /root)
        export RL_DIR=$(mktemp -d /tmp/berth-rootless.XXXXXX)
        chmod 755 "$RL_DIR"
        cp "$BERTH_BUILD"/src/cmd/berth "$BERTH_BUILD"/src/cmd/berth-monitor \
                "$BERTH_BUILD"/src/cmd/berth-init "$BERTH_TOP"/scripts/mkimage-busybox "$RL_DIR"/
        chmod 755 "$RL_DIR"/*
}

teardown_file() {
        [ "$(id -u)" = 0 ] || return 0
        as_user 'b=$RL/berth; ids=$($b ps -aq); [ -z "$ids" ] || $b rm -f $ids' >/dev/null 2>&1 || true
        rm -rf "$RL_DIR" "/tmp/berth-e2e-xdg"
        userdel -r "$USER_NAME" >/dev/null 2>&1 || true
}

as_user() {
        su - "$USER_NAME" -c "export RL=$RL_DIR XDG_RUNTIME_DIR=/tmp/berth-e2e-xdg; mkdir -p -m 700 \$XDG_RUNTIME_DIR; $1"
}

setup() {
        require_root
        id "$USER_NAME" >/dev/null 2>&1 || skip "could not create the test user $USER_NAME"
        [ "$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 0)" -gt 0 ] || skip "user namespaces are disabled"
        as_user '$RL/berth images -q | grep -q . || BERTH=$RL/berth $RL/mkimage-busybox >/dev/null'
}

@test "rootless: run, exit status, and the container's root is the user outside" {
        run as_user '$RL/berth run --rm busybox sh -c "id -u; sleep 2 & cat /proc/\$!/status | grep ^Uid; exit 4"'
        [ "$status" -eq 4 ]
        [ "${lines[0]}" = 0 ]
        run as_user '$RL/berth run -d --name rl busybox sleep 1000'
        assert_success
        pid=$(as_user '$RL/berth inspect -f "{{.State.Pid}}" rl')
        [ "$(stat -c %U /proc/$pid)" = "$USER_NAME" ]
}

@test "rootless: -d, logs, exec, stop, ps -a, rm" {
        as_user '$RL/berth rm -f rl2 >/dev/null 2>&1; $RL/berth run -d --name rl2 busybox sh -c "echo started; exec sleep 1000"' >/dev/null
        sleep 0.3
        run as_user '$RL/berth logs rl2'
        [ "$output" = started ]
        run as_user '$RL/berth exec rl2 sh -c "id -u; exit 5"'
        [ "$status" -eq 5 ]
        [ "$output" = 0 ]
        run as_user '$RL/berth stop -t 1 rl2 && $RL/berth ps -a --format "{{.Names}} {{.Status}}"'
        assert_output_contains "rl2 Exited (137)"
        run as_user '$RL/berth rm rl2'
        [ "$output" = rl2 ]
        run as_user '$RL/berth ps -aq --filter name=rl2'
        [ -z "$output" ]
        # its state lives in the user's own directories
        [ -d "/home/$USER_NAME/.local/share/berth/containers" ]
}

@test "rootless: named volumes" {
        run as_user '$RL/berth run --rm -v rlvol:/data busybox sh -c "echo kept > /data/f" && $RL/berth run --rm -v rlvol:/data busybox cat /data/f'
        [ "$output" = kept ]
        run as_user '$RL/berth volume rm rlvol'
        assert_success
}
