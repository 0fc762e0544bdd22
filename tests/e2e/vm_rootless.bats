#!/usr/bin/env bats
# vm_rootless.bats — `berth vm` as an unprivileged user (issue #17: the jail "or the user's own
# ids when rootless").  berth runs in the user's own user namespace (berth-pause holds it),
# which maps root to the user and 1..65536 to the user's subordinate ids: the jail's uid 65534
# is then a subordinate id, a uid of the VMM's own that owns none of the user's files.  A user
# without subordinate ids has only their own uid mapped: the VM runs unjailed, and says why.
#
# /dev/kvm is root's (0600) on this host: the test opens it to everyone while it runs and puts
# the mode back afterwards, as rootless.bats does with /dev/net/tun.
load helpers
load lib/vm
bats_require_minimum_version 1.5.0

USER_NAME=berth-e2e-vm
BARE_USER=berth-e2e-vm0 # no subordinate ids

setup_file() {
        [ "$(id -u)" = 0 ] || return 0
        for u in "$USER_NAME" "$BARE_USER"; do
                id "$u" >/dev/null 2>&1 || useradd -m -s /bin/bash "$u" 2>/dev/null || true
        done
        sed -i "/^$BARE_USER:/d" /etc/subuid /etc/subgid
        export RL_DIR=$(mktemp -d /tmp/berth-vm-rootless.XXXXXX)
        chmod 755 "$RL_DIR"
        cp "$BERTH_BUILD"/src/cmd/berth "$BERTH_BUILD"/src/cmd/berth-vmm \
                "$BERTH_BUILD"/src/cmd/berth-vm-monitor "$BERTH_BUILD"/tests/guest/berth-test-guest.elf \
                "$RL_DIR"/
        chmod 755 "$RL_DIR"/*
        if [ -c /dev/kvm ]; then
                stat -c %a /dev/kvm >"$RL_DIR/kvm-mode"
                chmod 666 /dev/kvm
        fi
}

teardown_file() {
        [ "$(id -u)" = 0 ] || return 0
        local u
        for u in "$USER_NAME" "$BARE_USER"; do
                as "$u" 'for v in $($RL/berth vm ls -q --all); do $RL/berth vm destroy $v; $RL/berth vm rm $v; done' \
                        >/dev/null 2>&1 || true
                pkill -KILL -u "$u" 2>/dev/null || true
        done
        sleep 0.2
        [ -f "$RL_DIR/kvm-mode" ] && chmod "$(cat "$RL_DIR/kvm-mode")" /dev/kvm
        rm -rf "$RL_DIR" /tmp/berth-e2e-vm-xdg /tmp/berth-e2e-vm0-xdg
        for u in "$USER_NAME" "$BARE_USER"; do
                userdel -r "$u" >/dev/null 2>&1 || true
        done
}

as() { # USER COMMAND
        su - "$1" -c "export RL=$RL_DIR XDG_RUNTIME_DIR=/tmp/$1-xdg; mkdir -p -m 700 \$XDG_RUNTIME_DIR; $2"
}

setup() {
        require_root
        require_kvm
        require_cmd jq
        id "$USER_NAME" >/dev/null 2>&1 || skip "could not create the test user $USER_NAME"
        [ "$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo 0)" -gt 0 ] || skip "user namespaces are disabled"
        grep -q "^$USER_NAME:" /etc/subuid || skip "useradd gave $USER_NAME no subordinate ids"
}

# The user's VM's console: its last count (0 if none yet).
user_count() { # USER VM
        { grep -a '^BERTH-GUEST count [0-9]' "/home/$1/.local/share/berth/vms/$2/console.log" 2>/dev/null ||
                echo 'x x 0'; } | tail -1 | awk '{print $3}'
}

wait_user_count() { # USER VM ABOVE
        local i
        for i in $(seq 100); do
                [ "$(user_count "$1" "$2")" -gt "$3" ] && return 0
                sleep 0.1
        done
        echo "VM $2 of $1 did not count past $3" >&2
        return 1
}

@test "vm rootless: jailed under a subordinate uid: seccomp, no privileges, its own pid namespace, only its files" {
        run as "$USER_NAME" '$RL/berth vm create v1 --kernel $RL/berth-test-guest.elf --memory 32 --cmdline "console=ttyS0 guest.count=4" && $RL/berth vm start v1'
        assert_success
        wait_user_count "$USER_NAME" v1 3
        st=$(as "$USER_NAME" '$RL/berth vm inspect v1')
        [ "$(jq -r .State.Jailed <<<"$st")" = true ]
        pid=$(jq -r .State.Pid <<<"$st")
        grep -q '^Seccomp:[[:space:]]*2' "/proc/$pid/status"
        grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$pid/status"
        grep -q '^CapEff:[[:space:]]*0000000000000000' "/proc/$pid/status"
        grep -q '^CapBnd:[[:space:]]*0000000000000000' "/proc/$pid/status"
        # uid 65534 of berth's namespace: the subordinate id 65533 past the range's start (inside
        # uid 1 is the range's first), neither the user nor root
        local start want
        start=$(awk -F: -v u="$USER_NAME" '$1 == u {print $2}' /etc/subuid)
        want=$((start + 65533))
        [ "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" = "$want" ]
        [ "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" != "$(id -u "$USER_NAME")" ]
        [ "$(awk '/^NSpid:/ {print $NF}' "/proc/$pid/status")" = 1 ]
        # the jail's root: its own tmpfs with the VM's files (no /etc, no /usr)
        run ls "/proc/$pid/root/"
        refute_output_contains "etc"
        refute_output_contains "usr"

        # snapshots are written from inside the jail, in the namespace
        run as "$USER_NAME" '$RL/berth vm snapshot create v1 s1 && $RL/berth vm snapshot revert v1 s1'
        assert_success
        st=$(as "$USER_NAME" '$RL/berth vm inspect v1')
        [ "$(jq -r .State.Jailed <<<"$st")" = true ]
        [ "$(jq -r .State.Status <<<"$st")" = running ]
        pid=$(jq -r .State.Pid <<<"$st")
        sup=$(jq -r .State.SupervisorPid <<<"$st")
        run as "$USER_NAME" '$RL/berth vm destroy v1 && $RL/berth vm rm v1'
        assert_success
        gone "$pid"
        gone "$sup"
}

# PID has exited: no such process, or a zombie its parent (here, pid 1 of this host, which
# reaps when it gets round to it) has not collected yet.
gone() {
        [ ! -d "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status"
}

@test "vm rootless: a user without subordinate ids gets an unjailed VM that runs" {
        id "$BARE_USER" >/dev/null 2>&1 || skip "could not create the test user $BARE_USER"
        run as "$BARE_USER" '$RL/berth vm create v0 --kernel $RL/berth-test-guest.elf --memory 32 --cmdline "console=ttyS0 guest.count=4" && $RL/berth vm start v0'
        assert_success
        wait_user_count "$BARE_USER" v0 3
        # the supervisor says why, in the VM's log
        grep -q "maps no uid and gid 65534" "/home/$BARE_USER/.local/share/berth/vms/v0/vmm.log"
        st=$(as "$BARE_USER" '$RL/berth vm inspect v0')
        [ "$(jq -r .State.Jailed <<<"$st")" = false ]
        run as "$BARE_USER" '$RL/berth vm destroy v0 && $RL/berth vm rm v0'
        assert_success
}
