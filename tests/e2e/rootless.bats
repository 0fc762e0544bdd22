#!/usr/bin/env bats
# rootless.bats — berth as an unprivileged user: run, run -d, logs, exec, stop, rm, volumes,
# the default network (one slirp4netns per container: published ports, outbound traffic).
# berth joins the user's own user + mount namespace (held by a berth-pause process), which maps
# root to the user and 1..65536 to the user's subordinate ids from /etc/subuid (newuidmap);
# overlay is mounted inside it; no cgroups on cgroup v1 (the kernel gives an unprivileged user
# none to manage).
load helpers
bats_require_minimum_version 1.5.0

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
        # slirp4netns opens /dev/net/tun as the user: Debian's udev makes it 0666, some
        # container hosts leave it 0600 (restored in teardown_file)
        if [ -c /dev/net/tun ] && [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
                stat -c %a /dev/net/tun >"$RL_DIR/tun-mode"
                chmod 666 /dev/net/tun
        fi
}

teardown_file() {
        [ "$(id -u)" = 0 ] || return 0
        as_user 'b=$RL/berth; ids=$($b ps -aq); [ -z "$ids" ] || $b rm -f $ids' >/dev/null 2>&1 || true
        pkill -KILL -u "$USER_NAME" 2>/dev/null || true # the berth-pause process
        sleep 0.2
        [ -f "$RL_DIR/tun-mode" ] && chmod "$(cat "$RL_DIR/tun-mode")" /dev/net/tun
        ip link del brl-out 2>/dev/null || true
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

# the first subordinate id of the test user (useradd allocates them from login.defs)
subid_start() {
        awk -F: -v u="$USER_NAME" '$1 == u { print $2; exit }' "/etc/$1"
}

require_subids() {
        [ -n "$(subid_start subuid)" ] && [ -n "$(subid_start subgid)" ] || skip "useradd gave $USER_NAME no subordinate ids"
        require_cmd newuidmap
}

data_dir() {
        echo "/home/$USER_NAME/.local/share/berth"
}

@test "rootless: subordinate ids: --user, chown, and their owners outside" {
        require_subids
        su=$(subid_start subuid)
        sg=$(subid_start subgid)
        run as_user '$RL/berth run -d --name rlu --user 1000:1000 busybox sleep 1000'
        assert_success
        pid=$(as_user '$RL/berth inspect -f "{{.State.Pid}}" rlu')
        # uid 1000 inside is the user's subordinate id 999 outside
        [ "$(stat -c '%u %g' /proc/$pid)" = "$((su + 999)) $((sg + 999))" ]
        run as_user '$RL/berth exec -u 33:44 rlu id'
        [ "$output" = "uid=33 gid=44" ]
        run as_user '$RL/berth run --name rlc busybox sh -c "touch /f && chown 1234:5678 /f && ls -ln /f"'
        assert_success
        assert_output_contains "1234     5678"
        id=$(as_user '$RL/berth inspect -f "{{.Id}}" rlc')
        [ "$(stat -c '%u %g' "$(data_dir)/images/snapshots/$id/upper/f")" = "$((su + 1233)) $((sg + 5677))" ]
        # the image's files stay root's (the user) inside
        run as_user '$RL/berth run --rm busybox stat -c %u:%g /bin/busybox /etc'
        [ "$output" = "0:0
0:0" ]
        as_user '$RL/berth rm -f rlu' >/dev/null
        # info says so, as Docker's SecurityOptions and Podman's idMappings do
        run as_user '$RL/berth info --format "{{.Driver}} {{json .SecurityOptions}} {{json .IDMappings.UIDMap}}"'
        assert_output_contains 'overlay ["name=seccomp,profile=builtin","name=rootless"]'
        assert_output_contains "{\"ContainerID\":1,\"HostID\":$su,\"Size\":65536}"
}

@test "rootless: overlay mounted inside berth's namespace, not on the host" {
        require_subids
        as_user '$RL/berth rm -f rlo >/dev/null 2>&1; $RL/berth run -d --name rlo busybox sleep 1000' >/dev/null
        run as_user '$RL/berth inspect -f "{{.Driver}}" rlo'
        [ "$output" = overlay ]
        pid=$(as_user '$RL/berth inspect -f "{{.State.Pid}}" rlo')
        id=$(as_user '$RL/berth inspect -f "{{.Id}}" rlo')
        # the container's root is an overlay with user.* xattrs...
        awk '$5 == "/" { for (i = 1; i <= NF; i++) if ($i == "-") { print $(i+1); exit } }' /proc/$pid/mountinfo | grep -qx overlay
        grep -q userxattr /proc/$pid/mountinfo
        # ...that the host's mount table never sees
        ! grep -q "snapshots/$id" /proc/self/mountinfo
        # writes go to the upper layer, lower layers stay intact
        as_user '$RL/berth exec rlo sh -c "echo changed > /etc/hostname.new && rm /bin/true"'
        [ -f "$(data_dir)/images/snapshots/$id/upper/etc/hostname.new" ]
        run as_user '$RL/berth run --rm busybox ls /bin/true'
        assert_success
        # rm -f leaves nothing behind, subordinate-owned files included
        as_user '$RL/berth exec rlo sh -c "mkdir -p /x && chown -R 2000:2000 /x /etc/hostname.new"'
        run as_user '$RL/berth rm -f rlo'
        assert_success
        [ ! -e "$(data_dir)/images/snapshots/$id" ]
}

@test "rootless: commit keeps owners; layers unpack with them" {
        require_subids
        as_user '$RL/berth rm -f rlk >/dev/null 2>&1; $RL/berth run --name rlk busybox sh -c "mkdir /owned && touch /owned/f && chown -R 4321:8765 /owned"' >/dev/null
        run as_user '$RL/berth commit rlk rl-owned:1 && $RL/berth rm rlk'
        assert_success
        run as_user '$RL/berth run --rm rl-owned:1 stat -c %u:%g /owned /owned/f'
        [ "$output" = "4321:8765
4321:8765" ]
        # and through save/load (a fresh unpack of the layer, chowns done inside)
        run as_user '$RL/berth save -o /tmp/berth-e2e-xdg/owned.tar rl-owned:1 && $RL/berth rmi rl-owned:1 >/dev/null && $RL/berth load -i /tmp/berth-e2e-xdg/owned.tar >/dev/null && $RL/berth run --rm rl-owned:1 stat -c %u /owned/f'
        [ "$output" = 4321 ]
        as_user '$RL/berth rmi rl-owned:1' >/dev/null
}

@test "rootless: a killed berth-pause: running containers stay manageable, stopped ones start" {
        require_subids
        as_user '$RL/berth rm -f rlp1 rlp2 >/dev/null 2>&1; $RL/berth run -d --name rlp1 --user 1000 busybox sleep 1000 && $RL/berth create --name rlp2 busybox sleep 1000' >/dev/null
        pause=$(cat /tmp/berth-e2e-xdg/berth/pause.pid)
        [ "$(cat /proc/$pause/comm)" = berth-pause ]
        kill -9 "$pause"
        # a running container's namespace is found again through its monitor
        run as_user '$RL/berth exec rlp1 id -u'
        assert_success
        [ "$output" = 1000 ]
        [ "$(cat /tmp/berth-e2e-xdg/berth/pause.pid)" != "$pause" ]
        # its non-root process can still be stopped
        run as_user '$RL/berth stop -t 1 rlp1'
        assert_success
        run as_user '$RL/berth inspect -f "{{.State.Status}}" rlp1'
        [ "$output" = exited ]
        # with no container left running, a fresh namespace; the overlay is mounted again
        pkill -KILL -x berth-pause -u "$USER_NAME"
        run as_user '$RL/berth start rlp2 && $RL/berth exec rlp2 cat /etc/passwd'
        assert_success
        assert_output_contains "root:"
        as_user '$RL/berth rm -f rlp1 rlp2' >/dev/null
}

@test "rootless without subordinate ids: only the user's own id, a warning, clear failures" {
        local u=berth-e2e-nosub
        if id "$u" >/dev/null 2>&1; then # left by an interrupted run
                pkill -KILL -u "$u" 2>/dev/null || true
                sleep 0.2
                userdel -r "$u" >/dev/null 2>&1 || true
        fi
        useradd -m -s /bin/bash "$u" 2>/dev/null || skip "could not create $u"
        xdg=/tmp/berth-e2e-nosub-xdg
        rm -rf "$xdg"
        sed -i "/^$u:/d" /etc/subuid /etc/subgid
        nosub() { su - "$u" -c "export RL=$RL_DIR XDG_RUNTIME_DIR=$xdg; mkdir -p -m 700 $xdg; $1"; }
        # the warning comes when berth makes the user's namespace: the first call
        run nosub '$RL/berth images -q'
        assert_success
        assert_output_contains "no subordinate ids for \`$u\`"
        assert_output_contains "usermod --add-subuids"
        nosub 'BERTH=$RL/berth $RL/mkimage-busybox >/dev/null 2>&1'
        run nosub '$RL/berth run --rm busybox sh -c "id -u; cat /proc/self/uid_map"'
        assert_success
        [ "${lines[0]}" = 0 ]
        [ "$(echo ${lines[1]})" = "0 $(id -u "$u") 1" ]
        # the user change fails during create (as runc's does): Docker's 125 for that
        run -125 nosub '$RL/berth run --rm --user 1000 busybox id'
        assert_output_contains "set uid 1000 (is it mapped in the user namespace?)"
        pkill -KILL -u "$u" 2>/dev/null || true
        sleep 0.2
        userdel -r "$u" >/dev/null 2>&1 || true
        rm -rf "$xdg"
}

# This host's cgroup v2 hierarchy (mounted at /sys/fs/cgroup/unified beside v1) is mounted at
# /sys/fs/cgroup in a private mount namespace, with a user@UID.service delegated the way
# systemd delegates it, and rootless berth runs from inside it.
@test "rootless on cgroup v2: containers go into the user's delegated cgroup, and leave it" {
        require_subids
        grep -qw cgroup2 /proc/filesystems || skip "no cgroup2 filesystem"
        uid=$(id -u "$USER_NAME")
        svc="user.slice/user-$uid.slice/user@$uid.service"
        # no container left running: the next call makes a fresh namespace (else it would
        # join a running container's, whose mount table has no cgroup2 at /sys/fs/cgroup)
        as_user 'ids=$($RL/berth ps -aq); [ -z "$ids" ] || $RL/berth rm -f $ids' >/dev/null
        run unshare -m bash -c "
                set -e
                mount --make-rprivate /
                mount -t cgroup2 none /sys/fs/cgroup
                C=/sys/fs/cgroup/$svc
                mkdir -p \$C/app.slice
                chown $USER_NAME \$C \$C/cgroup.procs \$C/cgroup.subtree_control \$C/cgroup.threads \$C/app.slice \$C/app.slice/cgroup.procs
                echo \$\$ > \$C/app.slice/cgroup.procs
                pkill -KILL -x berth-pause -u $USER_NAME || true
                su - $USER_NAME -c 'export XDG_RUNTIME_DIR=/tmp/berth-e2e-xdg; B=$RL_DIR/berth
                        \$B rm -f rlcg >/dev/null 2>&1
                        \$B run -d --name rlcg busybox sleep 1000 >/dev/null
                        pid=\$(\$B inspect -f {{.State.Pid}} rlcg)
                        id=\$(\$B inspect -f {{.Id}} rlcg)
                        grep ^0:: /proc/\$pid/cgroup
                        cat /sys/fs/cgroup/$svc/berth/\$id/cgroup.procs
                        echo pid=\$pid
                        \$B rm -f rlcg >/dev/null
                        [ -e /sys/fs/cgroup/$svc/berth/\$id ] && echo left-behind || echo removed'
                pkill -KILL -x berth-pause -u $USER_NAME || true
        "
        sleep 0.3
        find "/sys/fs/cgroup/unified/user.slice" -depth -type d -exec rmdir {} \; 2>/dev/null || true
        echo "$output"
        [[ "${lines[0]}" == "0::/$svc/berth/"* ]]
        [ "${lines[1]}" = "${lines[2]#pid=}" ]
        [ "${lines[3]}" = removed ]
}

# --- the default network: one slirp4netns per container (docs/network.md, "Rootless") ---

XDG=/tmp/berth-e2e-xdg

require_slirp() {
        require_cmd slirp4netns
        su "$USER_NAME" -c 'exec 3<>/dev/net/tun' 2>/dev/null || skip "$USER_NAME cannot open /dev/net/tun"
}

# A host port nothing listens on.
free_port() {
        local p
        for _ in $(seq 50); do
                p=$((20000 + RANDOM % 20000))
                ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return; }
        done
        return 1
}

# Nothing of container $1 left: no slirp4netns (a zombie waiting for its reaper is gone), no
# files of its, no namespace file nor mount in berth's mount namespace.
assert_net_gone() {
        local id=$1 pid p
        for p in $(pgrep -u "$USER_NAME" -x slirp4netns); do
                grep -q '^State:.*Z' /proc/$p/status 2>/dev/null && continue
                tr '\0' ' ' </proc/$p/cmdline 2>/dev/null | grep -q "$id" && { echo "slirp4netns $p left"; return 1; }
        done
        if ls "$XDG/berth/net/slirp/$id".* 2>/dev/null; then echo "slirp files left"; return 1; fi
        [ ! -e "$XDG/berth/net/ns/$id" ] || { echo "namespace file left"; return 1; }
        pid=$(cat "$XDG/berth/pause.pid")
        if grep "net/ns/$id" /proc/$pid/mountinfo; then echo "namespace mount left"; return 1; fi
}

@test "rootless network: -p publishes on the host, berth port, NetworkSettings, rm -f leaves nothing" {
        require_subids
        require_slirp
        port=$(free_port)
        as_user '$RL/berth rm -f rlweb rlweb2 >/dev/null 2>&1' || true
        run as_user "\$RL/berth run -d --name rlweb -p $port:80 busybox sh -c 'mkdir /www && echo rootless-hello > /www/index.html && exec httpd -f -p 80 -h /www'"
        assert_success
        id=$output
        body=
        for _ in $(seq 50); do
                body=$(curl -s -m 2 "http://127.0.0.1:$port/index.html") && [ -n "$body" ] && break
                sleep 0.1
        done
        [ "$body" = rootless-hello ]
        run as_user '$RL/berth port rlweb'
        [ "$output" = "80/tcp -> 0.0.0.0:$port" ]
        run as_user '$RL/berth inspect -f "{{.NetworkSettings.Networks.bridge.IPAddress}} {{.NetworkSettings.Networks.bridge.Gateway}} {{.NetworkSettings.Networks.bridge.IPPrefixLen}} {{.NetworkSettings.IPAddress}} {{.NetworkSettings.SandboxKey}}" rlweb'
        [ "$output" = "10.0.2.100 10.0.2.2 24 10.0.2.100 $XDG/berth/net/ns/$id" ]
        # slirp4netns configured the container's side; its DNS forwarder is the resolver
        run as_user '$RL/berth exec rlweb sh -c "ip -4 -o addr show tap0; ip route show default; cat /etc/resolv.conf"'
        assert_output_contains "inet 10.0.2.100/24"
        assert_output_contains "default via 10.0.2.2 dev tap0"
        assert_output_contains "nameserver 10.0.2.3"
        [ "$(cat /proc/$(cat "$XDG/berth/net/slirp/$id.pid")/comm)" = slirp4netns ]
        # an empty host port: a free one, reported as Docker does, and answering
        run as_user "\$RL/berth run -d --name rlweb2 -p 127.0.0.1::80 busybox sh -c 'mkdir /www && echo two > /www/index.html && exec httpd -f -p 80 -h /www'"
        assert_success
        run as_user '$RL/berth port rlweb2 80'
        [[ "$output" == 127.0.0.1:* ]]
        p2=${output#127.0.0.1:}
        [ "$p2" -gt 0 ] && [ "$p2" != "$port" ]
        body=
        for _ in $(seq 50); do
                body=$(curl -s -m 2 "http://127.0.0.1:$p2/index.html") && [ -n "$body" ] && break
                sleep 0.1
        done
        [ "$body" = two ]
        id2=$(as_user '$RL/berth inspect -f "{{.Id}}" rlweb2')
        run as_user '$RL/berth rm -f rlweb rlweb2'
        assert_success
        assert_net_gone "$id"
        assert_net_gone "$id2"
        # the port is free again at once
        ! ss -Htln "sport = :$port" | grep -q .
}

@test "rootless network: a busy host port fails with Docker's message and status 125" {
        require_subids
        require_slirp
        port=$(free_port)
        python3 -c "import socket, time; s = socket.socket(); s.bind(('0.0.0.0', $port)); s.listen(); time.sleep(30)" &
        lpid=$!
        for _ in $(seq 50); do ss -Htln "sport = :$port" | grep -q . && break; sleep 0.1; done
        run -125 as_user "\$RL/berth run --rm --name rlbusy -p $port:80 busybox true"
        kill $lpid
        assert_output_contains "Error starting userland proxy: listen tcp4 0.0.0.0:$port: bind: address already in use"
        # one container's port is busy for the next
        run as_user "\$RL/berth run -d --name rlb1 -p $port:80 busybox sleep 1000"
        assert_success
        run -125 as_user "\$RL/berth run -d --name rlb2 -p $port:80 busybox sleep 1000"
        assert_output_contains "bind: address already in use"
        id2=$(as_user '$RL/berth inspect -f "{{.Id}}" rlb2')
        assert_net_gone "$id2"
        # an IPv6 host address on the default network (its slirp4netns forwards IPv4): refused
        # by name, as user networks relay it (rootless_network.bats)
        run -125 as_user "\$RL/berth run -d --name rlb6 -p [::1]:$port:80 busybox sleep 1000"
        assert_output_contains "relays IPv6 host addresses on user networks only"
        id6=$(as_user '$RL/berth inspect -f "{{.Id}}" rlb6')
        assert_net_gone "$id6"
        as_user '$RL/berth rm -f rlb1 rlb2 rlb6' >/dev/null
}

@test "rootless network: the container reaches the outside (a listener on a host address)" {
        require_subids
        require_slirp
        # slirp4netns's connections leave from the host's own stack: a listener on an address
        # of a veth made here keeps every packet on this host (no name lookups either)
        ip link del brl-out 2>/dev/null || true
        ip link add brl-out type veth peer name brl-outp
        ip addr add 198.51.100.1/24 dev brl-out
        ip link set brl-out up
        ip link set brl-outp up
        port=$(free_port)
        python3 -c "
import socket
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('198.51.100.1', $port))
s.listen()
s.settimeout(20)
c, _ = s.accept()
c.sendall(b'hello-from-the-host\n')
c.close()" &
        lpid=$!
        for _ in $(seq 50); do ss -Htln "sport = :$port" | grep -q . && break; sleep 0.1; done
        run as_user "\$RL/berth run --rm busybox nc -w 5 198.51.100.1 $port"
        wait $lpid || true
        ip link del brl-out
        assert_success
        [ "$output" = hello-from-the-host ]
}

@test "rootless network: kill -9 of the monitor and of slirp4netns: the next call cleans up" {
        require_subids
        require_slirp
        port=$(free_port)
        as_user '$RL/berth rm -f rlk9 >/dev/null 2>&1' || true
        id=$(as_user "\$RL/berth run -d --name rlk9 -p $port:80 busybox sleep 1000")
        slirp=$(cat "$XDG/berth/net/slirp/$id.pid")
        [ "$(cat /proc/$slirp/comm)" = slirp4netns ]
        mon=$(pgrep -u "$USER_NAME" -x berth-monitor -n)
        kill -9 "$mon" "$slirp"
        # network inspect runs the network garbage collection (net_gc) first
        run as_user '$RL/berth network inspect -f "{{.Name}}" bridge'
        assert_success
        assert_net_gone "$id"
        # the same port at the next run
        run as_user "\$RL/berth run -d --name rlk9b -p $port:80 busybox sleep 1000"
        assert_success
        id2=$output
        # only the monitor killed: the slirp4netns still running goes with the reconcile
        kill -9 "$(pgrep -u "$USER_NAME" -x berth-monitor -n)"
        run as_user '$RL/berth ps -a --format "{{.Names}} {{.Status}}"'
        assert_output_contains "rlk9b Exited"
        assert_net_gone "$id2"
        as_user '$RL/berth rm -f rlk9 rlk9b' >/dev/null
}

@test "rootless network: an unknown network is refused; --network none has no tap0" {
        # user-defined networks: rootless_network.bats
        run -125 as_user '$RL/berth run --rm --network rlnet busybox true'
        assert_output_contains "network rlnet not found"
        run as_user '$RL/berth run --rm --network none busybox ip -o link'
        assert_success
        ! grep -q tap0 <<<"$output"
}
