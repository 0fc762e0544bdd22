#!/usr/bin/env bats
# parity.bats — Docker behaviours scripts rely on (issue #16, "fix what users hit first"):
# each test states the Docker behaviour it checks.
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
}

@test "ps --filter name|id|ancestor: running only without -a, all with -a; status= implies -a" {
        up=$("$BERTH" run -d --name pf-up busybox sleep 1000)
        down=$("$BERTH" create --name pf-down busybox true)
        run "$BERTH" ps --filter name=pf- --format '{{.Names}}'
        assert_success
        [ "$output" = "pf-up" ]
        run "$BERTH" ps -a --filter name=pf- --format '{{.Names}}'
        [ "$(echo "$output" | sort | tr '\n' ' ')" = "pf-down pf-up " ]
        run "$BERTH" ps -q --filter id="${down:0:12}"
        [ -z "$output" ]
        run "$BERTH" ps -aq --filter id="${down:0:12}"
        [ "$output" = "${down:0:12}" ]
        run "$BERTH" ps --filter ancestor=busybox --format '{{.Names}}'
        [ "$output" = "pf-up" ]
        run "$BERTH" ps --filter ancestor=busybox --filter exited=0 --format '{{.Names}}'
        [ -z "$output" ]
        # Docker's daemon sets All for a status filter
        run "$BERTH" ps --filter status=created --format '{{.Names}}'
        [ "$output" = "pf-down" ]
        [ -n "$up" ]
}

@test "exec -u NAME[:GROUP] resolves in the container's passwd/group; exec -t sets TERM=xterm" {
        "$BERTH" run -d --name ex busybox sleep 1000 >/dev/null
        run "$BERTH" exec -u nobody ex id -u
        assert_success
        nobody_uid=$("$BERTH" exec ex awk -F: '$1=="nobody"{print $3}' /etc/passwd)
        [ -n "$nobody_uid" ]
        [ "$output" = "$nobody_uid" ]
        grp=$("$BERTH" exec ex awk -F: 'NR==1{print $1" "$3}' /etc/group)
        run "$BERTH" exec -u "nobody:${grp% *}" ex sh -c 'echo $(id -u):$(id -g)'
        assert_success
        [ "$output" = "$nobody_uid:${grp#* }" ]
        run "$BERTH" exec -u 4242:4343 ex sh -c 'echo $(id -u):$(id -g)'
        [ "$output" = "4242:4343" ]
        run "$BERTH" exec -u nosuchuser ex true
        [ "$status" -eq 126 ]
        assert_output_contains "unable to find user nosuchuser"
        run "$BERTH" exec -t ex sh -c 'echo $TERM'
        [ "$(echo "$output" | tr -d '\r')" = "xterm" ]
        run "$BERTH" exec -t -e TERM=vt100 ex sh -c 'echo $TERM'
        [ "$(echo "$output" | tr -d '\r')" = "vt100" ]
        run "$BERTH" exec ex sh -c 'echo "[$TERM]"'
        [ "$output" = "[]" ]
}

@test "run -w DIR creates a missing working directory, root-owned 0755" {
        run "$BERTH" run --rm -w /no/such/dir busybox sh -c 'pwd; stat -c "%u:%g %a" /no/such /no/such/dir'
        assert_success
        [ "$output" = "$(printf '/no/such/dir\n0:0 755\n0:0 755')" ]
        run "$BERTH" run --rm -w /etc/passwd busybox true
        [ "$status" -eq 125 ]
        assert_output_contains "Cannot mkdir: /etc/passwd is not a directory"
        [ -z "$("$BERTH" ps -aq)" ]
}

@test "inspect -f: .Mounts (binds, named, anonymous, tmpfs), .Config.Hostname, .NetworkSettings" {
        "$BERTH" volume create pnv >/dev/null
        id=$("$BERTH" run -d --name ins -v pnv:/named -v /anon -v "$BATS_TEST_TMPDIR:/hb:ro" \
                --mount type=tmpfs,target=/t busybox sleep 1000)
        run "$BERTH" inspect -f '{{.Config.Hostname}}' ins
        [ "$output" = "${id:0:12}" ]
        run "$BERTH" inspect -f '{{range .Mounts}}{{.Type}} {{.Destination}} {{.Mode}} {{.RW}} {{.Propagation}};{{end}}' ins
        assert_success
        [ "$output" = "volume /named z true ;bind /hb ro false rprivate;tmpfs /t  true ;volume /anon  true ;" ]
        run "$BERTH" inspect -f '{{range .Mounts}}{{if eq .Destination "/named"}}{{.Name}} {{.Driver}} {{.Source}}{{end}}{{end}}' ins
        [ "$output" = "pnv local $BERTH_DATA_DIR/volumes/pnv/_data" ]
        run "$BERTH" inspect -f '{{range .Mounts}}{{if eq .Destination "/hb"}}{{.Source}}{{end}}{{end}}' ins
        [ "$output" = "$BATS_TEST_TMPDIR" ]
        run "$BERTH" inspect -f '{{json .Mounts}}' "$("$BERTH" create --network none busybox true)"
        [ "$output" = "[]" ]
        run "$BERTH" inspect -f '[{{.NetworkSettings.IPAddress}}] {{len .NetworkSettings.Networks}}' ins
        assert_success
        run "$BERTH" inspect -f '[{{.NetworkSettings.IPAddress}}] {{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}' \
                "$("$BERTH" create --network none busybox true)"
        assert_success
        [ "$output" = "[] none" ]
}

@test "run --rm removes the container's anonymous volumes, keeps named ones" {
        "$BERTH" volume create keepme >/dev/null
        before=$("$BERTH" volume ls -q | sort)
        run "$BERTH" run --rm -v keepme:/k -v /anon1 --mount type=volume,target=/anon2 busybox \
                sh -c 'ls -d /k /anon1 /anon2'
        assert_success
        [ "$("$BERTH" volume ls -q | sort)" = "$before" ]
        "$BERTH" run -d --rm -v keepme:/k -v /anon3 busybox true >/dev/null
        # the monitor's removal takes the record first, then its anonymous volumes
        for _ in $(seq 50); do
                [ -z "$("$BERTH" ps -aq)" ] && [ "$("$BERTH" volume ls -q | sort)" = "$before" ] && break
                sleep 0.1
        done
        [ "$("$BERTH" volume ls -q | sort)" = "$before" ]
        # without --rm, rm keeps them (Docker: only rm -v removes them)
        "$BERTH" run --name keep -v /anon4 busybox true
        "$BERTH" rm keep >/dev/null
        [ "$("$BERTH" volume ls -q | wc -l)" -eq $(($(echo "$before" | grep -c .) + 1)) ]
}

@test "--ipc host: the host's ipc namespace, /dev/shm and queues" {
        run "$BERTH" run --rm --ipc host busybox readlink /proc/self/ns/ipc
        assert_success
        [ "$output" = "$(readlink /proc/self/ns/ipc)" ]
        run "$BERTH" run --rm --ipc host busybox sh -c 'grep -c " /dev/mqueue \| /dev/shm " /proc/mounts'
        [ "$output" = "2" ]
}

@test "exit statuses: 1 for unknown containers, bad filters, bad templates, bad signals" {
        "$BERTH" run -d --name es busybox sleep 1000 >/dev/null
        for cmd in "logs nosuch" "rename nosuch x" "start -a nosuch" \
                "exec nosuch true" "wait nosuch" "kill nosuch"; do
                run $BERTH $cmd
                echo "$cmd: $status $output"
                [ "$status" -eq 1 ]
                assert_output_contains "No such container: nosuch"
        done
        run "$BERTH" ps --filter bogus=1
        [ "$status" -eq 1 ]
        [ "$output" = "berth: invalid filter 'bogus'" ]
        run "$BERTH" ps --filter status=bogus
        [ "$status" -eq 1 ]
        run "$BERTH" ps --filter bogus # the CLI's own flag error in Docker: 125
        [ "$status" -eq 125 ]
        run "$BERTH" inspect -f '{{.Nope}}' es
        [ "$status" -eq 1 ]
        run "$BERTH" ps --format '{{.Names'
        [ "$status" -eq 1 ]
        run "$BERTH" kill -s BOGUS es
        [ "$status" -eq 1 ]
        [ "$output" = "berth: Invalid signal: BOGUS" ]
        # run/create keep 125 for what they can't find
        run "$BERTH" run --rm --network container:nosuch busybox true
        [ "$status" -eq 125 ]
}

@test "version: Docker's Client and Server sections; --format over the same document" {
        run "$BERTH" version
        assert_success
        [ "${lines[0]}" = "Client:" ]
        assert_output_contains " API version:       1.41"
        assert_output_contains "Server: berth"
        assert_output_contains "  API version:      1.41 (minimum version 1.12)"
        assert_output_contains " OS/Arch:           linux/"
        run "$BERTH" version --format '{{.Client.Version}} {{.Server.ApiVersion}} {{(index .Server.Components 0).Name}}'
        assert_success
        [ "$output" = "$("$BERTH" --version | awk '{print $3}') 1.41 Engine" ]
        run "$BERTH" version -f '{{json .Client}}'
        assert_success
        echo "$output" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert set(d) >= {"Version","ApiVersion","DefaultAPIVersion","GitCommit","GoVersion","Os","Arch","BuildTime","Context"}, d'
        run "$BERTH" version --format '{{.Nope}}'
        [ "$status" -eq 1 ]
}

@test "export: the container's filesystem as a tar, to -o FILE or a pipe; never to a terminal" {
        "$BERTH" run --name exp busybox sh -c 'echo made > /made; rm /bin/vi' >/dev/null
        run "$BERTH" export -o "$BATS_TEST_TMPDIR/exp.tar" exp
        assert_success
        tar -tf "$BATS_TEST_TMPDIR/exp.tar" > "$BATS_TEST_TMPDIR/list"
        grep -qx 'made' "$BATS_TEST_TMPDIR/list"
        grep -qx 'bin/busybox' "$BATS_TEST_TMPDIR/list"
        ! grep -q 'bin/vi$' "$BATS_TEST_TMPDIR/list"
        ! grep -q '\.wh\.' "$BATS_TEST_TMPDIR/list"
        [ "$(tar -xOf "$BATS_TEST_TMPDIR/exp.tar" made)" = "made" ]
        # a running container, through a pipe
        "$BERTH" run -d --name exr busybox sh -c 'echo live > /live; sleep 1000' >/dev/null
        for _ in $(seq 50); do "$BERTH" exec exr test -f /live && break; sleep 0.1; done
        [ "$("$BERTH" container export exr | tar -xOf - live)" = "live" ]
        run "$BERTH" export nosuch -o "$BATS_TEST_TMPDIR/x.tar"
        [ "$status" -eq 1 ]
        [ ! -e "$BATS_TEST_TMPDIR/x.tar" ]
        if command -v script >/dev/null; then
                run script -qec "$BERTH export exp" /dev/null
                [ "$status" -eq 1 ]
                assert_output_contains "cowardly refusing to save to a terminal. Use the -o flag or redirect"
        fi
}

@test "diff: A/C/D from the overlay upper dir, in Docker's order" {
        [ "$("$BERTH" info --format '{{.Driver}}' 2>/dev/null)" != vfs ] ||
                skip "vfs storage driver"
        "$BERTH" run --name df busybox sh -c \
                'mkdir -p /new/sub && echo x > /new/sub/f && echo y >> /etc/passwd && rm /bin/vi &&
                 rm -rf /home && mkdir /home && touch /home/h' >/dev/null
        run "$BERTH" diff df
        assert_success
        expected='C /bin
D /bin/vi
C /etc
C /etc/passwd
D /home
A /home/h
A /new
A /new/sub
A /new/sub/f'
        [ "$output" = "$expected" ]
        run "$BERTH" container diff "$("$BERTH" create busybox true)"
        assert_success
        [ -z "$output" ]
        run "$BERTH" diff nosuch
        [ "$status" -eq 1 ]
}

@test "commit -a/--author and -m reach the image's Author and Comment" {
        "$BERTH" run --name cma busybox touch /x >/dev/null
        run "$BERTH" commit -a "Jane Doe <jane@example.com>" -m "with an author" cma authored:v1
        assert_success
        run "$BERTH" image inspect -f '{{.Author}}|{{.Comment}}' authored:v1
        [ "$output" = "Jane Doe <jane@example.com>|with an author" ]
        "$BERTH" commit cma authored:v2 >/dev/null
        run "$BERTH" image inspect -f '[{{.Author}}]' authored:v2
        [ "$output" = "[]" ]
        "$BERTH" rmi authored:v1 authored:v2 >/dev/null
}

@test "ps COMMAND: arguments holding a space in '…', the whole Go-quoted (moby's container/view.go)" {
        "$BERTH" create --name pq busybox sh -c 'echo "hi there"' >/dev/null
        run "$BERTH" ps -a --no-trunc --filter name=pq --format '{{.Command}}'
        assert_success
        [ "$output" = "\"sh -c 'echo \\\"hi there\\\"'\"" ]
        run "$BERTH" ps -a --filter name=pq --format '{{.Command}}'
        [ "$output" = "\"sh -c 'echo \\\"hi the…\"" ]
        # exactly 20 characters stay whole (the docker CLI's Ellipsis), 21 are cut
        "$BERTH" create --name p20 busybox sleep 12345678901234 >/dev/null
        run "$BERTH" ps -a --filter name=p20 --format '{{.Command}}'
        [ "$output" = '"sleep 12345678901234"' ]
        "$BERTH" create --name p21 busybox sleep 123456789012345 >/dev/null
        run "$BERTH" ps -a --filter name=p21 --format '{{.Command}}'
        [ "$output" = '"sleep 1234567890123…"' ]
}

@test "ps --filter label=a --filter label=b: every label must match (compose asks for two at once)" {
        "$BERTH" create --name lf-both --label proj=p --label oneoff=False busybox true >/dev/null
        "$BERTH" create --name lf-one --label proj=p --label oneoff=True busybox true >/dev/null
        run "$BERTH" ps -a --filter label=proj=p --filter label=oneoff=False --format '{{.Names}}'
        assert_success
        [ "$output" = "lf-both" ]
        # other keys stay alternatives
        run "$BERTH" ps -a --filter name=lf-both --filter name=lf-one --format '{{.Names}}'
        [ "$(echo "$output" | sort | tr '\n' ' ')" = "lf-both lf-one " ]
}

@test "update: docker update's flags change the record and the running container's cgroup" {
        "$BERTH" run -d --network none --name upd-cli -m 64m busybox sleep 1000 >/dev/null
        run "$BERTH" update -m 128m --memory-swap 256m -c 512 --pids-limit 50 --restart on-failure:3 upd-cli
        assert_success
        [ "$output" = "upd-cli" ]
        run "$BERTH" inspect -f '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.CpuShares}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}' upd-cli
        [ "$output" = "134217728 268435456 512 50 on-failure:3" ]
        pid=$("$BERTH" inspect -f '{{.State.Pid}}' upd-cli)
        cg=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3} $2 == "" {v2=$3} END {if (v2) print v2}' "/proc/$pid/cgroup" | head -1)
        if [ -f "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes" ]; then
                [ "$(cat "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes")" = 134217728 ]
        else
                [ "$(cat "/sys/fs/cgroup$cg/memory.max")" = 134217728 ]
        fi
        # Docker's refusals: the daemon's (status 1, the others still updated), the CLI's
        run "$BERTH" update -m 1k upd-cli nope
        [ "$status" -eq 1 ]
        [[ "$output" == *"Minimum memory limit allowed is 6MB"* ]]
        [[ "$output" == *"No such container: nope"* ]]
        run "$BERTH" update upd-cli
        [ "$status" -eq 1 ]
        [[ "$output" == *"you must provide one or more flags"* ]]
        run "$BERTH" update -m 1x upd-cli
        [ "$status" -eq 125 ]
        [[ "$output" == *'invalid argument "1x" for "--memory" flag'* ]]
        run "$BERTH" update --cpus 0.5 upd-cli
        assert_success
        [ "$("$BERTH" inspect -f '{{.HostConfig.NanoCpus}}' upd-cli)" = 500000000 ]
}

@test "rm -v removes the container's anonymous volumes; named volumes stay" {
        "$BERTH" volume create rmv-named >/dev/null
        "$BERTH" create --name rmv-c -v /anon -v rmv-named:/named busybox true >/dev/null
        anon=$("$BERTH" inspect -f '{{range .Mounts}}{{if eq .Destination "/anon"}}{{.Name}}{{end}}{{end}}' rmv-c)
        [ -n "$anon" ]
        "$BERTH" volume inspect "$anon" >/dev/null
        run "$BERTH" rm -v rmv-c
        assert_success
        [ "$output" = "rmv-c" ]
        run "$BERTH" volume inspect "$anon"
        assert_failure
        run "$BERTH" volume inspect rmv-named
        assert_success
        # without -v the anonymous volume stays, as Docker's
        "$BERTH" create --name rmv-d -v /anon busybox true >/dev/null
        anon=$("$BERTH" inspect -f '{{range .Mounts}}{{.Name}}{{end}}' rmv-d)
        "$BERTH" rm rmv-d >/dev/null
        "$BERTH" volume inspect "$anon" >/dev/null
        "$BERTH" volume rm "$anon" rmv-named >/dev/null
}

@test "attach: ctrl-p ctrl-q detaches (input before it still arrives), the container runs on, a detach event" {
        "$BERTH" run -dit --name dk-cli --network none busybox sh >/dev/null
        since=$(date +%s.%N)
        run timeout 20 sh -c "(printf 'echo be\"\"fore > /tmp/mark\n'; sleep 0.5; printf 'echo x\020\021echo never > /tmp/never\n'; sleep 5) | '$BERTH' attach dk-cli"
        assert_success
        [ "$("$BERTH" inspect -f '{{.State.Running}}' dk-cli)" = true ]
        run "$BERTH" exec dk-cli cat /tmp/mark
        [ "$output" = before ]
        run "$BERTH" exec dk-cli test -e /tmp/never
        assert_failure
        run "$BERTH" events --since "$since" --until "$(date +%s.%N)" --filter event=detach --format '{{.Actor.Attributes.name}}'
        [ "$output" = dk-cli ]
}

@test "restart policies: an attached run returns at the first exit, as Docker's; stop and rm -f in a back-off are prompt" {
        run timeout 20 "$BERTH" run --network none --restart always --name rp-att busybox sh -c 'echo once; exit 3'
        [ "$status" -eq 3 ]
        [ "${lines[0]}" = once ]
        # it restarts on its own meanwhile
        for _ in $(seq 50); do
                [ "$("$BERTH" inspect -f '{{.RestartCount}}' rp-att)" -ge 2 ] && break
                sleep 0.2
        done
        [ "$("$BERTH" inspect -f '{{.RestartCount}}' rp-att)" -ge 2 ]
        # by now in a back-off of seconds: stop must not wait it out (nor 10 s of SIGKILL)
        start=$(date +%s%N)
        run "$BERTH" stop rp-att
        assert_success
        [ $((($(date +%s%N) - start) / 1000000)) -lt 3000 ]
        [ "$("$BERTH" inspect -f '{{.State.Status}}' rp-att)" = exited ]
        "$BERTH" start rp-att >/dev/null
        sleep 1
        start=$(date +%s%N)
        run "$BERTH" rm -f rp-att
        assert_success
        [ $((($(date +%s%N) - start) / 1000000)) -lt 3000 ]
}
