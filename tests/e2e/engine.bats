#!/usr/bin/env bats
# engine.bats — `berth run` and the container commands, end to end on the real kernel:
# the seeds' commands as written, each resource flag observed from inside and outside,
# restart policies, a killed monitor, bad input leaving nothing behind.
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

# Nothing of any container is left: no record, no mount, no cgroup, no oci state.
assert_nothing_left() {
        [ -z "$("$BERTH" ps -aq)" ] || { echo "containers left: $("$BERTH" ps -a)"; return 1; }
        ! findmnt -rn -o TARGET | grep -q "^$BERTH_DATA_DIR" || { echo "mounts left"; findmnt -rn -o TARGET | grep "^$BERTH_DATA_DIR"; return 1; }
        [ -z "$(ls "$BERTH_RUN_DIR/oci" 2>/dev/null)" ] || { echo "oci state left"; return 1; }
        [ -z "$(ls "$BERTH_RUN_DIR/containers" 2>/dev/null)" ] || { echo "bundles left"; return 1; }
}

# A process is gone when it no longer exists or is a zombie waiting for a reaper
# (the killed monitor was its parent; this sandbox's pid 1 may not reap).
gone() {
        [ ! -e "/proc/$1" ] || grep -q '^State:[[:space:]]*Z' "/proc/$1/status"
}

cgroup_dir() { # CONTROLLER ID
        echo "/sys/fs/cgroup/$1/berth/$2"
}

@test "run: output and exit status pass through; --rm leaves nothing" {
        run "$BERTH" run --rm busybox sh -c 'echo out; echo err >&2; exit 3'
        [ "$status" -eq 3 ]
        assert_output_contains "out"
        assert_output_contains "err"
        assert_nothing_left
}

@test "run -d, ps, logs, exec, stop, ps -a, rm: the seeds' commands as written" {
        run "$BERTH" run -d --name web busybox sh -c 'echo started; exec sleep 1000'
        assert_success
        id="$output"
        [ ${#id} -eq 64 ]
        run "$BERTH" ps
        assert_output_contains "web"
        assert_output_contains "Up "
        [ "$("$BERTH" ps -q)" = "${id:0:12}" ]
        sleep 0.2
        run "$BERTH" logs web
        [ "$output" = "started" ]
        run "$BERTH" exec web sh -c 'echo $HOSTNAME; exit 5'
        [ "$status" -eq 5 ]
        [ "$output" = "${id:0:12}" ]
        run "$BERTH" stop -t 1 web
        assert_success
        [ "$output" = "web" ]
        [ -z "$("$BERTH" ps -q)" ]
        run "$BERTH" ps -a --format '{{.Names}} {{.Status}}'
        [[ "$output" == "web Exited (137) "* ]]
        run "$BERTH" inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.Name}}' web
        [ "$output" = "exited 137 /web" ]
        run "$BERTH" rm web
        assert_success
        assert_nothing_left
}

@test "stop all and remove all: berth stop \$(berth ps -q), berth rm \$(berth ps -aq)" {
        for n in one two three; do "$BERTH" run -d --name $n --stop-timeout 1 busybox sleep 1000 >/dev/null; done
        [ "$("$BERTH" ps -q | wc -l)" -eq 3 ]
        run "$BERTH" stop $("$BERTH" ps -q)
        assert_success
        [ -z "$("$BERTH" ps -q)" ]
        [ "$("$BERTH" ps -aq | wc -l)" -eq 3 ]
        run "$BERTH" rm $("$BERTH" ps -aq)
        assert_success
        assert_nothing_left
}

@test "--memory: a hog is OOM-killed with 137 and OOMKilled true" {
        run "$BERTH" run --name hog --memory 32m busybox sh -c 'head -c 300m /dev/zero | tail'
        [ "$status" -eq 137 ]
        run "$BERTH" inspect -f '{{.State.OOMKilled}} {{.State.ExitCode}} {{.HostConfig.Memory}}' hog
        [ "$output" = "true 137 33554432" ]
}

@test "--memory: the limit is in the container's cgroup while it runs" {
        id=$("$BERTH" run -d --memory 64m busybox sleep 1000)
        f="$(cgroup_dir memory "$id")/memory.limit_in_bytes"
        [ -f "$f" ] || f="/sys/fs/cgroup/berth/$id/memory.max"
        [ "$(cat "$f")" = 67108864 ]
}

@test "--pids-limit: a fork bomb stops at the limit" {
        run "$BERTH" run --rm --pids-limit 10 busybox sh -c 'for i in $(seq 30); do sleep 3 & done; wait; echo done'
        assert_output_contains "can't fork"
        run "$BERTH" run --rm busybox sh -c 'for i in $(seq 30); do sleep 0.1 & done; wait; echo done'
        refute_output_contains "can't fork"
}

@test "--cpus 0.5 holds a busy loop near half a core" {
        [ "$(nproc)" -ge 1 ] || skip "no CPU"
        id=$("$BERTH" run -d --cpus 0.5 busybox sh -c 'while :; do :; done')
        f="$(cgroup_dir cpuacct "$id")/cpuacct.usage"
        [ -f "$f" ] || skip "no cpuacct v1 controller here"
        sleep 0.5
        a=$(cat "$f"); sleep 2; b=$(cat "$f")
        share=$(( (b - a) / 20000000 ))   # percent of one core over 2 s
        echo "busy loop used $share% of a core"
        [ "$share" -ge 30 ] && [ "$share" -le 65 ]
}

@test "--read-only: the root filesystem can't be written, tmpfs and volumes can" {
        run "$BERTH" run --rm --read-only busybox touch /x
        [ "$status" -ne 0 ]
        assert_output_contains "Read-only file system"
        run "$BERTH" run --rm --read-only --tmpfs /scratch busybox sh -c 'touch /scratch/x && echo ok'
        [ "$output" = "ok" ]
}

@test "restart on-failure:3 restarts exactly 3 times" {
        "$BERTH" run -d --name flaky --restart on-failure:3 busybox sh -c 'echo attempt; exit 1' >/dev/null
        for i in $(seq 100); do
                st=$("$BERTH" inspect -f '{{.State.Status}}' flaky)
                [ "$st" = exited ] && break
                sleep 0.1
        done
        [ "$st" = exited ]
        [ "$("$BERTH" inspect -f '{{.RestartCount}}' flaky)" = 3 ]
        [ "$("$BERTH" logs flaky | grep -c attempt)" = 4 ]
}

@test "restart always: a container whose monitor is killed -9 is running again after the next berth call" {
        "$BERTH" run -d --name keeper --restart always busybox sleep 1000 >/dev/null
        pid1=$("$BERTH" inspect -f '{{.State.Pid}}' keeper)
        mon=$(jq -r .Monitor.Pid "$BERTH_DATA_DIR/containers/$("$BERTH" inspect -f '{{.Id}}' keeper)/state.json")
        kill -9 "$mon"
        sleep 0.2
        run "$BERTH" ps
        for i in $(seq 50); do
                [ "$("$BERTH" inspect -f '{{.State.Status}}' keeper)" = running ] && break
                sleep 0.1
        done
        [ "$("$BERTH" inspect -f '{{.State.Status}}' keeper)" = running ]
        pid2=$("$BERTH" inspect -f '{{.State.Pid}}' keeper)
        [ "$pid1" != "$pid2" ]
        gone "$pid1"
}

@test "a killed monitor without a restart policy: ps -a tells the truth, rm -f cleans everything" {
        id=$("$BERTH" run -d busybox sleep 1000)
        mon=$(jq -r .Monitor.Pid "$BERTH_DATA_DIR/containers/$id/state.json")
        init=$("$BERTH" inspect -f '{{.State.Pid}}' "$id")
        kill -9 "$mon"
        # kill returns once the signal is sent; berth starts in about a millisecond, which can
        # be before the monitor has died: the truth then is still "Up"
        for _ in $(seq 100); do gone "$mon" && break; sleep 0.01; done
        run "$BERTH" ps -a --format '{{.Status}}'
        [[ "$output" == "Exited (137)"* ]]
        gone "$init"
        run "$BERTH" rm -f "$id"
        assert_success
        assert_nothing_left
}

@test "--init puts berth-init at pid 1 and the command under it" {
        run "$BERTH" run --rm --init busybox sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo; echo $$'
        assert_success
        assert_output_contains "/sbin/berth-init"
        [ "${lines[1]}" != 1 ]
}

@test "stdin with -i and a pty with -t" {
        run bash -c "echo hello-stdin | '$BERTH' run --rm -i busybox cat"
        [ "$output" = "hello-stdin" ]
        run "$BERTH" run --rm -t busybox tty </dev/null
        echo "tty said: $output"
        [[ "$output" == /dev/pts/* ]]
}

@test "named volumes persist across containers and are filled from the image" {
        run "$BERTH" run --rm -v data:/data busybox sh -c 'echo kept > /data/f'
        assert_success
        run "$BERTH" run --rm -v data:/data busybox cat /data/f
        [ "$output" = "kept" ]
        run "$BERTH" run --rm -v etcvol:/etc busybox cat /etc/passwd
        assert_output_contains "root:"
        run "$BERTH" volume ls -q
        assert_output_contains "data"
        run "$BERTH" volume rm data etcvol
        assert_success
}

@test "bad input: Docker's messages and exit codes, nothing left behind" {
        # --pull never: the daemon's answer alone, no "Unable to find image" (compat:
        # run-missing-image-pullnever)
        run "$BERTH" run --rm --pull never nosuchimage true
        [ "$status" -eq 125 ]
        [ "$output" = "berth: No such image: nosuchimage:latest" ]
        run "$BERTH" run --memory 10x busybox true
        [ "$status" -eq 125 ]
        assert_output_contains "10x"
        run "$BERTH" run --cpus -1 busybox true
        [ "$status" -eq 125 ]
        run "$BERTH" run --restart sometimes busybox true
        [ "$status" -eq 125 ]
        run "$BERTH" run --mount type=bind,source=/nonexistent/berth,target=/x busybox true
        [ "$status" -eq 125 ]
        assert_output_contains "/nonexistent/berth"
        run -127 "$BERTH" run --rm busybox /no/such/command
        run -127 "$BERTH" run --rm busybox nosuchcommand
        assert_output_contains "not found in \$PATH"
        run -126 "$BERTH" run --rm busybox /etc
        # exec: the same codes as Docker's (127 not found, 126 not runnable)
        "$BERTH" run -d --name exitcodes busybox sleep 100 >/dev/null
        run -127 "$BERTH" exec exitcodes nosuchcommand
        run -126 "$BERTH" exec exitcodes /etc/passwd
        "$BERTH" rm -f exitcodes >/dev/null
        assert_nothing_left
        "$BERTH" create --name taken busybox true >/dev/null
        run "$BERTH" run --name taken busybox true
        [ "$status" -eq 125 ]
        assert_output_contains 'Conflict. The container name "/taken" is already in use'
        run "$BERTH" stop taken
        assert_success
        run "$BERTH" stop nosuch
        [ "$status" -eq 1 ]
        assert_output_contains "No such container: nosuch"
        run "$BERTH" rm taken
        assert_success
        assert_nothing_left
}

@test "top, stats --no-stream and port look at a running container" {
        "$BERTH" run -d --name busy --memory 64m busybox sh -c 'while :; do :; done' >/dev/null
        run "$BERTH" top busy
        assert_success
        [[ "${lines[0]}" == *PID* ]]
        assert_output_contains "while :"
        run "$BERTH" top busy -o pid,comm
        [ "${#lines[@]}" -eq 2 ]
        run "$BERTH" stats --no-stream --format '{{.Name}} {{.MemUsage}} {{.PIDs}} {{.CPUPerc}}'
        assert_success
        [[ "$output" == "busy "*" / 64MiB 1 "* ]]
        cpu=${output##* }
        cpu=${cpu%%.*}
        echo "cpu $cpu%"
        [ "$cpu" -ge 20 ]
        run "$BERTH" port busy 80
        [ "$status" -eq 1 ]
        run "$BERTH" top nosuch
        [ "$status" -ne 0 ]
}

@test "container prune, system df, system prune, info and the container group" {
        "$BERTH" run --name done1 busybox sh -c 'head -c 1048576 /dev/zero > /f' >/dev/null
        "$BERTH" run -d --name live1 busybox sleep 1000 >/dev/null
        run "$BERTH" system df --format '{{.Type}} {{.TotalCount}} {{.Active}}'
        assert_output_contains "Containers 2 1"
        assert_output_contains "Images 1 1"
        run "$BERTH" container ls -a --format '{{.Names}}'
        assert_output_contains "done1"
        run "$BERTH" container prune -f
        assert_success
        assert_output_contains "Deleted Containers:"
        [[ "$output" == *"Total reclaimed space: 1."*MB* ]]
        run "$BERTH" container ls -a --format '{{.Names}}'
        [ "$output" = live1 ]
        run "$BERTH" info --format '{{.ContainersRunning}} {{.Images}} {{.Driver}}'
        [[ "$output" == "1 1 "* ]]
        run "$BERTH" system prune -f
        assert_success
        [ "$("$BERTH" ps -q | wc -l)" -eq 1 ]
}

@test "cp: both directions, tar streams, volumes, and no way out through symlinks or ../" {
        "$BERTH" run -d --name cpc -v cpvol:/vol busybox sh -c \
                'mkdir -p /d/sub; echo a > /d/a; echo b > /d/sub/b; ln -s / /d/root; echo v > /vol/v; exec sleep 1000' >/dev/null
        sleep 0.3
        cd "$BATS_TEST_TMPDIR"
        "$BERTH" cp cpc:/d ./dcopy
        [ "$(cat dcopy/a)" = a ] && [ "$(cat dcopy/sub/b)" = b ]
        [ "$(readlink dcopy/root)" = / ]
        "$BERTH" cp cpc:/vol/v ./v
        [ "$(cat v)" = v ]
        [ "$("$BERTH" cp cpc:/d - | tar t | sort | tr '\n' ' ')" = "d/ d/a d/root d/sub/ d/sub/b " ]
        echo host > h
        "$BERTH" cp h cpc:/d/
        [ "$("$BERTH" exec cpc cat /d/h)" = host ]
        tar c h | "$BERTH" cp - cpc:/tmp
        [ "$("$BERTH" exec cpc cat /tmp/h)" = host ]
        # /d/root is a symlink to the container's /: it must not reach the host's /etc
        "$BERTH" cp cpc:/d/root/etc/passwd ./pw
        grep -q '^root:' pw
        cmp -s pw <("$BERTH" exec cpc cat /etc/passwd)
        ! cmp -s pw /etc/passwd
        # a tar entry climbing out of the destination is refused, and nothing lands outside
        python3 -c 'import tarfile,io; t=tarfile.open("evil.tar","w"); i=tarfile.TarInfo("../../escaped"); d=b"x"; i.size=len(d); t.addfile(i,io.BytesIO(d)); t.close()'
        run "$BERTH" cp - cpc:/d/sub < evil.tar
        [ "$status" -ne 0 ]
        assert_output_contains "outside the destination"
        run "$BERTH" exec cpc ls /escaped
        [ "$status" -ne 0 ]
        run "$BERTH" cp cpc:/nosuch .
        [ "$status" -eq 1 ]
}

@test "cp out of a container: no device node, FIFO or setuid/setgid file lands on the host without -a" {
        "$BERTH" run --name cpdev busybox sh -c \
                'mkdir /d && mknod /d/blk b 8 0 && mknod /d/chr c 1 3 && mkfifo /d/fifo &&
                 ln /d/blk /d/blk-link && cp /bin/busybox /d/suid && chmod 6755 /d/suid &&
                 echo plain > /d/plain && chmod 2755 /d && mknod /dev-x b 8 0' >/dev/null
        cd "$BATS_TEST_TMPDIR"
        run "$BERTH" cp cpdev:/d ./out
        assert_success
        assert_output_contains "skipping"
        [ "$(cat out/plain)" = plain ]
        [ "$(stat -c %a out/suid)" = 755 ] || { stat -c '%A %n' out/suid; return 1; }
        for f in blk blk-link chr fifo; do
                [ ! -e "out/$f" ] || { ls -l "out/$f"; return 1; }
        done
        [ -z "$(find out -perm /6000 -type f)" ]
        run "$BERTH" cp cpdev:/dev-x ./devx
        assert_output_contains "skipping"
        [ ! -e devx ]
        # a tar to stdout is the user's to unpack: it carries them, as Docker's does
        "$BERTH" cp cpdev:/d - | tar tv | grep -q '^b.* d/blk$'
        # -a: what the user asked for, as root
        run "$BERTH" cp -a cpdev:/d ./keep
        assert_success
        [ -b keep/blk ] && [ -b keep/blk-link ] && [ -c keep/chr ] && [ -p keep/fifo ]
        [ "$(stat -c %a keep/suid)" = 6755 ]
}

@test "health checks: starting, unhealthy after the retries, healthy when the test passes; in ps and inspect" {
        "$BERTH" run -d --name hc --health-cmd 'test -f /ok' --health-interval 200ms \
                --health-retries 2 busybox sleep 1000 >/dev/null
        run "$BERTH" ps --format '{{.Status}}' --filter name=hc
        [[ "$output" == *"(health: starting)" ]]
        for i in $(seq 50); do
                [ "$("$BERTH" inspect -f '{{.State.Health.Status}}' hc)" = unhealthy ] && break
                sleep 0.1
        done
        [ "$("$BERTH" inspect -f '{{.State.Health.Status}}' hc)" = unhealthy ]
        [ "$("$BERTH" inspect -f '{{(index .State.Health.Log 0).ExitCode}}' hc)" = 1 ]
        "$BERTH" exec hc touch /ok
        for i in $(seq 50); do
                [ "$("$BERTH" inspect -f '{{.State.Health.Status}}' hc)" = healthy ] && break
                sleep 0.1
        done
        run "$BERTH" ps --filter health=healthy --format '{{.Names}} {{.Status}}'
        [[ "$output" == "hc Up "*"(healthy)" ]]
        [ "$("$BERTH" inspect -f '{{.State.Health.FailingStreak}}' hc)" = 0 ]
}

@test "berth system service restarts an always container whose monitor died, with no other berth call" {
        id=$("$BERTH" run -d --restart always busybox sleep 1000)
        st="$BERTH_DATA_DIR/containers/$id/state.json"
        pid1=$(jq -r .State.Pid "$st")
        kill -9 "$(jq -r .Monitor.Pid "$st")"
        "$BERTH" system service --interval 100ms &
        svc=$!
        for i in $(seq 100); do
                [ "$(jq -r .State.Status "$st")" = running ] && [ "$(jq -r .State.Pid "$st")" != "$pid1" ] && break
                sleep 0.1
        done
        kill "$svc"
        wait "$svc" || true
        [ "$(jq -r .State.Status "$st")" = running ]
        [ "$(jq -r .State.Pid "$st")" != "$pid1" ]
        [ "$(jq -r .RestartCount "$st")" -ge 0 ]
}

@test "berth system service reacts to a monitor's death at once, not at the next interval" {
        id=$("$BERTH" run -d --restart always busybox sleep 1000)
        st="$BERTH_DATA_DIR/containers/$id/state.json"
        pid1=$(jq -r .State.Pid "$st")
        "$BERTH" system service --interval 60s &
        svc=$!
        sleep 0.5 # its first pass: it now watches the monitor's pidfd
        kill -9 "$(jq -r .Monitor.Pid "$st")"
        t0=$(date +%s%N)
        for i in $(seq 50); do
                [ "$(jq -r .State.Status "$st")" = running ] && [ "$(jq -r .State.Pid "$st")" != "$pid1" ] && break
                sleep 0.1
        done
        t1=$(date +%s%N)
        kill "$svc"
        wait "$svc" || true
        echo "restarted after $(((t1 - t0) / 1000000)) ms"
        [ "$(jq -r .State.Pid "$st")" != "$pid1" ]
        [ "$(jq -r .State.Status "$st")" = running ]
        [ $(((t1 - t0) / 1000000)) -lt 5000 ]
        "$BERTH" rm -f "$id" >/dev/null
}

@test "run pulls a missing image from a registry (Debian's docker-registry on 127.0.0.1)" {
        require_cmd docker-registry curl
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        dir="$BATS_TEST_TMPDIR/registry"
        mkdir -p "$dir/data"
        printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
                "$dir/data" "$port" >"$dir/config.yml"
        docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
        reg=$!
        for i in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.1; done
        "$BERTH" tag busybox "127.0.0.1:$port/test/busybox:1"
        run "$BERTH" push -q "127.0.0.1:$port/test/busybox:1"
        assert_success
        "$BERTH" rmi "127.0.0.1:$port/test/busybox:1" >/dev/null
        run "$BERTH" run --rm "127.0.0.1:$port/test/busybox:1" echo pulled-and-ran
        kill "$reg"
        assert_success
        assert_output_contains "Unable to find image '127.0.0.1:$port/test/busybox:1' locally"
        assert_output_contains "pulled-and-ran"
        run "$BERTH" images --format '{{.Repository}}:{{.Tag}}'
        assert_output_contains "127.0.0.1:$port/test/busybox:1"
}

@test "commit: a container's changes (files added and deleted) become an image with --change" {
        "$BERTH" run -d --name cm busybox sh -c 'echo made > /made; rm /bin/vi; exec sleep 1000' >/dev/null
        sleep 0.3
        run "$BERTH" commit -c 'CMD ["cat", "/made"]' -m "a test commit" cm committed:v1
        assert_success
        [[ "$output" == sha256:* ]]
        [ "$("$BERTH" inspect -f '{{.State.Status}}' cm)" = running ] # unpaused after
        run "$BERTH" run --rm committed:v1
        [ "$output" = made ]
        run "$BERTH" run --rm committed:v1 ls /bin/vi
        [ "$status" -ne 0 ]
        run "$BERTH" history committed:v1
        assert_output_contains "a test commit"
        # a bad --change is refused before the layer is made: no blob left for gc
        "$BERTH" exec cm sh -c 'date +%s%N > /made-later'
        blobs=$(find "$BERTH_DATA_DIR/images/blobs/sha256" -type f | wc -l)
        run "$BERTH" commit -c 'FROBNICATE x' cm committed:bad
        assert_failure
        assert_output_contains "frobnicate is not a valid change command"
        refute_output_contains "commit \`" # Docker's message names no container
        [ "$(find "$BERTH_DATA_DIR/images/blobs/sha256" -type f | wc -l)" -eq "$blobs" ]
}

@test "--sig-proxy: a signal to an attached berth run reaches the container" {
        "$BERTH" run --name sigp busybox sh -c 'trap "echo got-term; exit 9" TERM; while true; do sleep 0.1; done' \
                >"$BATS_TEST_TMPDIR/out" 2>&1 &
        bp=$!
        for i in $(seq 50); do
                [ "$("$BERTH" inspect -f '{{.State.Status}}' sigp 2>/dev/null)" = running ] && break
                sleep 0.1
        done
        sleep 0.3
        kill -TERM "$bp"
        wait "$bp" && status=0 || status=$?
        [ "$status" -eq 9 ]
        grep -q got-term "$BATS_TEST_TMPDIR/out"
}

@test "logs: --tail, -t, --since, and -f until the container exits; --log-driver none" {
        "$BERTH" run -d --name lg busybox sh -c 'for i in 1 2 3 4 5; do echo line$i; done; sleep 1; echo late; echo err >&2' >/dev/null
        sleep 0.5
        run "$BERTH" logs --tail 2 lg
        [ "$output" = "$(printf 'line4\nline5')" ]
        run "$BERTH" logs -t --tail 1 lg
        [[ "$output" =~ ^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:.]+Z\ line5$ ]]
        run "$BERTH" logs --since 1h lg
        [ "${lines[0]}" = line1 ]
        run timeout 10 "$BERTH" logs -f lg
        assert_success
        [ "${lines[5]}" = late ]
        [ "${lines[6]}" = err ]
        "$BERTH" run --name nolog --log-driver none busybox echo hidden >/dev/null
        run "$BERTH" logs nolog
        [ "$status" -ne 0 ]
        assert_output_contains "does not support reading"
}

@test "logs --tail reads rotated files from their end: the whole log's last lines, in order" {
        "$BERTH" run --name rot --network none --log-opt max-size=20k --log-opt max-file=3 busybox \
                sh -c 'seq 3000; echo e1 >&2; echo e2 >&2' >/dev/null 2>&1
        ls "$BERTH_DATA_DIR"/containers/*/*-json.log.2 >/dev/null
        all=$("$BERTH" logs rot 2>&1)
        for n in 0 1 2 5 300 700 100000; do
                [ "$("$BERTH" logs --tail "$n" rot 2>&1)" = "$(printf '%s\n' "$all" | tail -n "$n")" ]
        done
        [ "$("$BERTH" logs --tail 4 rot 2>/dev/null)" = "$(printf '2999\n3000')" ]
        [ "$("$BERTH" logs --tail 1 rot 2>&1 >/dev/null)" = e2 ]
}

@test "attach sees later output and the exit status; exec -t gets a pty" {
        "$BERTH" run -d --name att busybox sh -c 'sleep 1; echo after-attach; exit 6' >/dev/null
        run timeout 10 "$BERTH" attach --no-stdin att
        [ "$status" -eq 6 ]
        assert_output_contains "after-attach"
        "$BERTH" run -d --name ptyx busybox sleep 1000 >/dev/null
        run "$BERTH" exec -t ptyx tty
        [[ "$output" == /dev/pts/* ]]
        run "$BERTH" attach att
        [ "$status" -ne 0 ]
        assert_output_contains "You cannot attach to a stopped container"
}
