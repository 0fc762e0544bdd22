#!/usr/bin/env bats
# api_containers.bats — the Engine API's container endpoints (create, list, inspect, stop,
# restart, kill, pause, unpause, remove, rename, prune, top, changes, update) driven by the
# docker CLI 28 and docker-py 5.0.3 against `berth system service`, with dockerd 20.10's
# shapes, status codes and messages; the service keeps no state of its own, so what `berth`
# makes the API sees and the other way round.
load helpers
load lib/api
bats_require_minimum_version 1.5.0

setup_file() {
        api_setup_file
}

teardown_file() {
        api_teardown_file
}

setup() {
        api_setup docker curl
}

@test "create: 201 {Id, Warnings: []}; dk create's container is seen by berth ps -a and inspect" {
        run api_curl -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
                -d '{"Image":"busybox","Cmd":["echo","hi"],"Labels":{"a":"b"}}' \
                '/v1.41/containers/create?name=ctr-raw'
        [ "${lines[1]}" = 201 ]
        [[ "${lines[0]}" =~ ^\{\"Id\":\"[0-9a-f]{64}\",\"Warnings\":\[\]\}$ ]]
        run dk create --name ctr-cli --label k=v -e FOO=bar busybox sleep 1000
        assert_success
        [[ "$output" =~ ^[0-9a-f]{64}$ ]]
        id=$output
        run "$BERTH" ps -a --filter name=ctr-cli --format '{{.Names}} {{.Status}}'
        [ "$output" = "ctr-cli Created" ]
        run dk inspect -f '{{.Id}} {{.Name}} {{.State.Status}} {{json .Config.Cmd}} {{.Config.Labels.k}}' ctr-cli
        assert_success
        [ "$output" = "$id /ctr-cli created [\"sleep\",\"1000\"] v" ]
        # dockerd's daemon defaults for the CLI's zero values
        run dk inspect -f '{{.HostConfig.NetworkMode}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.LogConfig.Type}} {{.HostConfig.ShmSize}} {{.HostConfig.IpcMode}}' ctr-cli
        [ "$output" = "default no json-file 67108864 private" ]
        run dk inspect -f '{{range .Config.Env}}{{println .}}{{end}}' ctr-cli
        assert_output_contains "FOO=bar"
        # and berth's own CLI starts what the API made
        run "$BERTH" start ctr-cli
        assert_success
        run dk ps --filter name=ctr-cli --format '{{.Names}} {{.State}}'
        [ "$output" = "ctr-cli running" ]
}

@test "create errors: name conflict 409, invalid name 400, no such image 404, malformed JSON 400" {
        first=$(dk create --name ctr-dup busybox true)
        run dk create --name ctr-dup busybox true
        assert_failure
        assert_output_contains "Error response from daemon: Conflict. The container name \"/ctr-dup\" is already in use by container \"$first\". You have to remove (or rename) that container to be able to reuse that name."
        run api_curl -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
                -d '{"Image":"busybox"}' '/v1.41/containers/create?name=ctr-dup'
        [ "${lines[1]}" = 409 ]
        run api_curl -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
                -d '{"Image":"busybox"}' '/v1.41/containers/create?name=x'
        [ "${lines[0]}" = '{"message":"Invalid container name (x), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"}' ]
        [ "${lines[1]}" = 400 ]
        run dk create --name x busybox true
        assert_failure
        assert_output_contains "Error response from daemon: Invalid container name (x)"
        run api_curl -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
                -d '{"Image":"busybox:nope"}' '/v1.41/containers/create'
        [ "${lines[0]}" = '{"message":"No such image: busybox:nope"}' ]
        [ "${lines[1]}" = 404 ]
        run dk create --pull never busybox:nope
        assert_failure
        assert_output_contains "No such image: busybox:nope"
        run api_curl -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
                -d '{"Image": "busybox", "Cmd": [' '/v1.41/containers/create'
        [ "${lines[-1]}" = 400 ]
        assert_output_contains '"message"'
        run api_curl -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
                -d '{"Image":"busybox","HostConfig":{"Memory":"lots"}}' '/v1.41/containers/create'
        [ "${lines[-1]}" = 400 ]
        run api_curl -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
                -d '{"Image":"busybox","HostConfig":{"Memory":1024}}' '/v1.41/containers/create'
        [ "${lines[0]}" = '{"message":"Minimum memory limit allowed is 6MB"}' ]
        # platform= (API 1.41 on), as dockerd 20.10 answers it: an image here under another
        # platform is not found, so the docker CLI pulls and tries again; no platform is a 400
        host=$(uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/')
        other=$([ "$host" = amd64 ] && echo arm64 || echo amd64)
        run api_curl -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
                -d '{"Image":"busybox"}' "/v1.41/containers/create?platform=linux/$other"
        [ "${lines[0]}" = "{\"message\":\"image with reference busybox was found but does not match the specified platform: wanted linux/$other, actual: linux/$host\"}" ]
        [ "${lines[1]}" = 404 ]
        run api_curl -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
                -d '{"Image":"busybox"}' '/v1.41/containers/create?platform=nonsense'
        [ "${lines[0]}" = '{"message":"\"nonsense\": unknown operating system or architecture: invalid argument"}' ]
        [ "${lines[1]}" = 400 ]
        run dk create --platform "linux/$host" --name ctr-plat busybox true
        assert_success
        dk rm ctr-plat >/dev/null
        # before 1.41 the parameter is not read
        run api_curl -w '\n%{http_code}' -X POST -H 'Content-Type: application/json' \
                -d '{"Image":"busybox"}' "/v1.40/containers/create?platform=linux/$other&name=ctr-p140"
        [ "${lines[1]}" = 201 ]
        dk rm ctr-p140 >/dev/null
        # nothing was left behind by the refusals
        [ "$("$BERTH" ps -aq | wc -l)" = "$(dk ps -aq | wc -l)" ]
        run "$BERTH" ps -a --format '{{.Names}}'
        refute_output_contains "ctr-x"
}

@test "ps, ps -a, --filter, --format: berth run -d containers listed as dockerd lists them" {
        up=$("$BERTH" run -d --network none --name ctr-ps-up --label tier=web busybox sh -c 'sleep 1000')
        "$BERTH" create --name ctr-ps-down busybox true >/dev/null
        run dk ps --filter name=ctr-ps- --format '{{.Names}}'
        assert_success
        [ "$output" = "ctr-ps-up" ]
        run dk ps -a --filter name=ctr-ps- --format '{{.Names}}'
        [ "$(echo "$output" | sort | tr '\n' ' ')" = "ctr-ps-down ctr-ps-up " ]
        run dk ps --no-trunc --filter name=ctr-ps-up --format '{{.ID}}|{{.Image}}|{{.Command}}|{{.Status}}|{{.Labels}}|{{.Networks}}'
        [[ "$output" =~ ^$up\|busybox\|\"sh\ -c\ \'sleep\ 1000\'\"\|Up\ .*\|tier=web\|none$ ]]
        # the default table, header and all, as against dockerd
        run dk ps --filter name=ctr-ps-up
        [[ "${lines[0]}" =~ ^CONTAINER\ ID\ +IMAGE\ +COMMAND\ +CREATED\ +STATUS\ +PORTS\ +NAMES$ ]]
        [[ "${lines[1]}" =~ ^${up:0:12}\ +busybox\ +\"sh\ -c\ \'sleep\ 1000\'\"\ +.*\ ago\ +Up\ .*\ +ctr-ps-up$ ]]
        run dk ps -q --filter label=tier=web
        [ "$output" = "${up:0:12}" ]
        run dk ps -a --filter status=created --filter name=ctr-ps- --format '{{.Names}}'
        [ "$output" = "ctr-ps-down" ]
        run dk ps -a -n 1 --format '{{.Names}}'
        [ "$output" = "ctr-ps-down" ]
        run dk ps --filter bogus=1
        assert_failure
        assert_output_contains "Error response from daemon: invalid filter 'bogus'"
        # the raw row: dockerd's fields
        run api_curl '/v1.41/containers/json?filters=%7B%22name%22%3A%5B%22ctr-ps-up%22%5D%7D'
        for k in Id Names Image ImageID Command Created Ports Labels State Status HostConfig NetworkSettings Mounts; do
                assert_output_contains "\"$k\":"
        done
        assert_output_contains '"Names":["/ctr-ps-up"]'
        assert_output_contains '"HostConfig":{"NetworkMode":"none"}'
}

@test "ps PORTS and -s: published ports as dockerd's rows give them, sizes with size=1" {
        port=$((20000 + RANDOM % 20000))
        "$BERTH" run -d --name ctr-ports -p "127.0.0.1:$port:80" -p "$((port + 1)):81/udp" busybox sleep 1000 >/dev/null
        run dk ps --filter name=ctr-ports --format '{{.Ports}}'
        assert_success
        [ "$output" = "127.0.0.1:$port->80/tcp, 0.0.0.0:$((port + 1))->81/udp" ]
        run api_curl '/v1.41/containers/json?filters=%7B%22name%22%3A%5B%22ctr-ports%22%5D%7D'
        assert_output_contains "{\"IP\":\"127.0.0.1\",\"PrivatePort\":80,\"PublicPort\":$port,\"Type\":\"tcp\"}"
        run dk ps -s --filter name=ctr-ports --format '{{.Size}}'
        [[ "$output" =~ ^[0-9.]+k?B\ \(virtual\ [0-9.]+[kM]?B\)$ ]]
        "$BERTH" rm -f ctr-ports >/dev/null
}

@test "inspect -f and the unknown container: dockerd's document and message" {
        id=$("$BERTH" run -d --network none --name ctr-insp busybox sleep 1000)
        run dk inspect -f '{{.State.Status}} {{.State.Running}} {{.Path}} {{json .Args}} {{.RestartCount}}' ctr-insp
        assert_success
        [ "$output" = 'running true sleep ["1000"] 0' ]
        [ "$(dk inspect -f '{{.Id}}' "${id:0:10}")" = "$id" ]
        # the same document berth inspect prints
        [ "$(dk inspect -f '{{json .Config}}' ctr-insp)" = "$("$BERTH" inspect -f '{{json .Config}}' ctr-insp)" ]
        run api_curl '/v1.41/containers/ctr-insp/json?size=1'
        assert_output_contains '"SizeRw":'
        assert_output_contains '"SizeRootFs":'
        run dk container inspect ctr-nope
        [ "$status" -eq 1 ]
        assert_output_contains "No such container: ctr-nope"
        run api_curl -w '\n%{http_code}' /v1.41/containers/ctr-nope/json
        [ "${lines[0]}" = '{"message":"No such container: ctr-nope"}' ]
        [ "${lines[1]}" = 404 ]
}

@test "pause, unpause, kill, restart, stop: states and dockerd's refusals" {
        id=$("$BERTH" run -d --network none --name ctr-life busybox sh -c 'trap "exit 0" TERM; while :; do sleep 1; done')
        run dk pause ctr-life
        assert_success
        [ "$output" = "ctr-life" ]
        [ "$(dk inspect -f '{{.State.Status}} {{.State.Paused}}' ctr-life)" = "paused true" ]
        run dk ps --filter name=ctr-life --format '{{.Status}}'
        [[ "$output" =~ ^Up\ .*\(Paused\)$ ]]
        run dk unpause ctr-life
        assert_success
        [ "$(dk inspect -f '{{.State.Status}}' ctr-life)" = "running" ]
        run dk unpause ctr-life
        assert_failure
        [ "$output" = "Error response from daemon: Container $id is not paused" ]
        run dk restart -t 2 ctr-life
        assert_success
        [ "$(dk inspect -f '{{.State.Status}}' ctr-life)" = "running" ]
        run dk stop ctr-life
        assert_success
        [ "$output" = "ctr-life" ]
        [ "$(dk inspect -f '{{.State.Status}} {{.State.ExitCode}}' ctr-life)" = "exited 0" ]
        # stopping a stopped container: 304, which the CLI takes as done
        run api_curl -o /dev/null -w '%{http_code}' -X POST /v1.41/containers/ctr-life/stop
        [ "$output" = 304 ]
        run dk kill ctr-life
        [ "$status" -eq 1 ]
        [ "$output" = "Error response from daemon: Container $id is not running" ]
        run dk pause ctr-life
        assert_failure
        assert_output_contains "is not running"
        "$BERTH" start ctr-life >/dev/null
        run dk kill -s SIGTERM ctr-life
        assert_success
        "$BERTH" wait ctr-life >/dev/null
        [ "$(dk inspect -f '{{.State.ExitCode}}' ctr-life)" = 0 ]
        run api_curl -w '\n%{http_code}' -X POST '/v1.41/containers/ctr-life/kill?signal=NOPE'
        [ "${lines[1]}" = 400 ]
        run dk stop ctr-nope
        [ "$status" -eq 1 ]
        assert_output_contains "Error response from daemon: No such container: ctr-nope"
}

@test "rm, rm -f, rename: dockerd's messages for running containers and taken names" {
        id=$("$BERTH" run -d --network none --name ctr-rm busybox sleep 1000)
        run dk rm ctr-rm
        [ "$status" -eq 1 ]
        [ "$output" = "Error response from daemon: You cannot remove a running container $id. Stop the container before attempting removal or force remove" ]
        run dk rename ctr-rm ctr-rm2
        assert_success
        run "$BERTH" ps --format '{{.Names}}' --filter id="$id"
        [ "$output" = "ctr-rm2" ]
        "$BERTH" create --name ctr-taken busybox true >/dev/null
        run dk rename ctr-rm2 ctr-taken
        assert_failure
        assert_output_contains "Conflict. The container name \"/ctr-taken\" is already in use"
        run dk rename ctr-rm2 y
        assert_failure
        assert_output_contains "Invalid container name (y)"
        run dk rm -f ctr-rm2 ctr-taken
        assert_success
        [ "$(printf '%s\n' "${lines[@]}" | sort | tr '\n' ' ')" = "ctr-rm2 ctr-taken " ]
        run "$BERTH" ps -a --format '{{.Names}}'
        refute_output_contains "ctr-rm2"
        refute_output_contains "ctr-taken"
        run dk rm ctr-nope
        [ "$status" -eq 1 ]
        assert_output_contains "Error response from daemon: No such container: ctr-nope"
        # docker rm -v (DELETE ?v=1): the anonymous volume goes, a named one stays
        "$BERTH" volume create ctr-rmv-named >/dev/null
        "$BERTH" create --name ctr-rmv -v /anon -v ctr-rmv-named:/named busybox true >/dev/null
        anon=$("$BERTH" inspect -f '{{range .Mounts}}{{if eq .Destination "/anon"}}{{.Name}}{{end}}{{end}}' ctr-rmv)
        [ -n "$anon" ]
        run dk rm -v ctr-rmv
        assert_success
        run "$BERTH" volume ls -q
        refute_output_contains "$anon"
        assert_output_contains ctr-rmv-named
        "$BERTH" volume rm ctr-rmv-named >/dev/null
}

@test "top and diff: ps rows of the container's processes; its filesystem changes" {
        "$BERTH" run -d --network none --name ctr-top busybox sh -c 'touch /added-file; mkdir /added-dir; sleep 1000; true' >/dev/null
        sleep 0.5
        run dk top ctr-top
        assert_success
        [[ "${lines[0]}" =~ ^UID\ +PID\ +PPID\ +C\ +STIME\ +TTY\ +TIME\ +CMD$ ]]
        assert_output_contains "sleep 1000"
        run dk top ctr-top -o pid,comm
        assert_success
        [[ "${lines[0]}" =~ ^PID\ +COMMAND$ ]]
        assert_output_contains "sleep"
        run api_curl '/v1.41/containers/ctr-top/top'
        assert_output_contains '"Titles":["UID","PID","PPID","C","STIME","TTY","TIME","CMD"]'
        # the last column takes the rest of the line, as dockerd's
        assert_output_contains '"sh -c touch /added-file; mkdir /added-dir; sleep 1000; true"]'
        run dk diff ctr-top
        assert_success
        assert_output_contains "A /added-file"
        assert_output_contains "A /added-dir"
        [ "$(dk diff ctr-top | sort)" = "$("$BERTH" diff ctr-top | sort)" ]
        "$BERTH" create --name ctr-top-off busybox true >/dev/null
        run dk top ctr-top-off
        assert_failure
        assert_output_contains "is not running"
}

@test "container prune: stopped containers go (label filters), running ones stay" {
        keep=$("$BERTH" run -d --network none --name ctr-pr-up busybox sleep 1000)
        a=$("$BERTH" create --name ctr-pr-a --label prune=yes busybox true)
        b=$("$BERTH" create --name ctr-pr-b --label prune=no busybox true)
        run dk container prune -f --filter label=prune=yes
        assert_success
        assert_output_contains "Deleted Containers:"
        assert_output_contains "$a"
        refute_output_contains "$b"
        assert_output_contains "Total reclaimed space:"
        run "$BERTH" ps -a --format '{{.Names}}'
        refute_output_contains "ctr-pr-a"
        assert_output_contains "ctr-pr-b"
        run api_curl -X POST '/v1.41/containers/prune?filters=%7B%22label%21%22%3A%5B%22prune%3Dno%22%5D%7D'
        refute_output_contains "$b"
        run api_curl -X POST '/v1.41/containers/prune?filters=%7B%22label%22%3A%5B%22prune%3Dno%22%5D%7D'
        [[ "$output" =~ ^\{\"ContainersDeleted\":\[\"$b\"\],\"SpaceReclaimed\":[0-9]+\}$ ]]
        run api_curl -w '\n%{http_code}' -X POST '/v1.41/containers/prune?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D'
        [ "${lines[1]}" = 400 ]
        [ "$(dk inspect -f '{{.State.Status}}' ctr-pr-up)" = running ]
        [ -n "$keep" ]
}

@test "update: limits and restart policy saved, applied to the running container's cgroup" {
        id=$("$BERTH" run -d --network none --name ctr-upd -m 64m busybox sleep 1000)
        run dk update --memory 128m --memory-swap 256m --cpu-shares 512 --pids-limit 50 --restart on-failure:3 ctr-upd
        assert_success
        [ "$output" = "ctr-upd" ]
        run dk inspect -f '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.CpuShares}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}' ctr-upd
        [ "$output" = "134217728 268435456 512 50 on-failure:3" ]
        # the live cgroup (v1 here: memory/berth/ID; v2: the container's own directory)
        pid=$(dk inspect -f '{{.State.Pid}}' ctr-upd)
        cg=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3} $2 == "" {v2=$3} END {if (v2) print v2}' "/proc/$pid/cgroup" | head -1)
        if [ -f "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes" ]; then
                [ "$(cat "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes")" = 134217728 ]
        else
                [ "$(cat "/sys/fs/cgroup$cg/memory.max")" = 134217728 ]
        fi
        run dk update --memory 1k ctr-upd
        assert_failure
        [ "$output" = "Error response from daemon: Minimum memory limit allowed is 6MB" ]
        run dk update --cpus 0.5 ctr-upd
        assert_success
        run dk update --cpu-quota 50000 ctr-upd
        assert_failure
        [ "$output" = "Error response from daemon: Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set" ]
        # a stopped container's record changes; its next start has the limits
        "$BERTH" stop -t 0 ctr-upd >/dev/null
        run dk update --memory 96m ctr-upd
        assert_success
        "$BERTH" start ctr-upd >/dev/null
        [ "$(dk inspect -f '{{.HostConfig.Memory}}' ctr-upd)" = 100663296 ]
        pid=$(dk inspect -f '{{.State.Pid}}' ctr-upd)
        cg=$(awk -F: '$2 ~ /(^|,)memory(,|$)/ {print $3} $2 == "" {v2=$3} END {if (v2) print v2}' "/proc/$pid/cgroup" | head -1)
        if [ -f "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes" ]; then
                [ "$(cat "/sys/fs/cgroup/memory$cg/memory.limit_in_bytes")" = 100663296 ]
        fi
        [ -n "$id" ]
}

@test "docker-py: containers.create/list/get/stop/remove" {
        [ -x /usr/bin/python3 ] || skip "needs /usr/bin/python3 with docker-py"
        /usr/bin/python3 -c 'import docker' 2>/dev/null || skip "needs docker-py for /usr/bin/python3"
        "$BERTH" run -d --network none --name ctr-py busybox sleep 1000 >/dev/null
        run /usr/bin/python3 - <<'EOF'
import docker
c = docker.from_env()
print(sorted(x.name for x in c.containers.list() if x.name.startswith("ctr-py")))
made = c.containers.create("busybox", "echo hi", name="ctr-py-made", labels={"py": "1"})
print(made.status, made.labels)
print(sorted(x.name for x in c.containers.list(all=True, filters={"label": "py=1"})))
x = c.containers.get("ctr-py")
print(x.status, x.attrs["Config"]["Cmd"])
x.stop(timeout=1)
x.reload()
print(x.status)
x.remove()
made.remove(force=True)
try:
    c.containers.get("ctr-py")
except docker.errors.NotFound as e:
    print("gone", e.explanation)
EOF
        assert_success
        [ "${lines[0]}" = "['ctr-py']" ]
        [ "${lines[1]}" = "created {'py': '1'}" ]
        [ "${lines[2]}" = "['ctr-py-made']" ]
        [ "${lines[3]}" = "running ['sleep', '1000']" ]
        [ "${lines[4]}" = "exited" ]
        [ "${lines[5]}" = "gone No such container: ctr-py" ]
        run "$BERTH" ps -a --format '{{.Names}}'
        refute_output_contains "ctr-py"
}

@test "commit: docker commit -c -m -a makes an image of the container's changes; a commit event" {
        "$BERTH" run -d --network none --name ctr-commit busybox sh -c 'echo data > /made; sleep 1000' >/dev/null
        sleep 0.3
        since=$(date +%s.%N)
        run dk commit -c 'ENV COMMITTED=yes' -c 'CMD ["cat", "/made"]' -m 'a message' -a 'An Author' ctr-commit ctr-committed:v1
        assert_success
        [[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
        id=$output
        [ "$(dk image inspect -f '{{.Id}} {{.Author}} {{.Comment}} {{.Config.Cmd}}' ctr-committed:v1)" = "$id An Author a message [cat /made]" ]
        run "$BERTH" run --rm --network none ctr-committed:v1
        [ "$output" = data ]
        run "$BERTH" run --rm --network none ctr-committed:v1 sh -c 'echo $COMMITTED'
        [ "$output" = yes ]
        # paused meanwhile by default, and running again after
        [ "$(dk inspect -f '{{.State.Status}}' ctr-commit)" = running ]
        run dk events --since "$since" --until "$(date +%s.%N)" --filter event=commit --format '{{.Actor.Attributes.imageID}} {{.Actor.Attributes.comment}} {{.Actor.Attributes.name}}'
        [ "$output" = "$id a message ctr-commit" ]
        run dk commit ctr-nope
        [ "$status" -eq 1 ]
        assert_output_contains "No such container: ctr-nope"
        "$BERTH" rm -f ctr-commit >/dev/null
        "$BERTH" rmi ctr-committed:v1 >/dev/null
}

@test "docker run --restart always, attached: returns at the first exit; docker wait (not-running) waits on" {
        run timeout 20 docker run --network none --restart always --name ctr-rpa busybox sh -c 'echo once; exit 3'
        [ "$status" -eq 3 ]
        [ "${lines[0]}" = once ]
        # not-running is not reached while it restarts
        run timeout 2 docker wait ctr-rpa
        [ "$status" -eq 124 ]
        "$BERTH" rm -f ctr-rpa >/dev/null
}
