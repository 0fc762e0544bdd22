#!/usr/bin/env bats
# api_events.bats — the event log behind `berth events` and GET /events: what the CLI, the
# monitor and the service append is what `docker events`, `berth events` and the API read back
# (traces 26-events and v1.24-run-rm).
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
        api_setup
}

teardown() {
        api_teardown --filter name=ev-
        [ -n "${FOLLOW_PID:-}" ] && kill "$FOLLOW_PID" 2>/dev/null
        return 0
}

now() { date +%s.%N; }

@test "dk events --since --until: create, attach, start, die (exitCode), destroy of a run --rm, in order" {
        since=$(now)
        "$BERTH" run --rm --network none --name ev-zero busybox true
        run "$BERTH" run --rm --network none --name ev-three busybox sh -c 'exit 3'
        [ "$status" -eq 3 ]
        until=$(now)
        run dk events --since "$since" --until "$until" --filter container=ev-zero
        assert_success
        id=$(echo "$output" | head -1 | awk '{print $4}')
        [ "${#id}" -eq 64 ]
        # the CLI's own line format: time, type, action, id, sorted attributes
        want="container create $id (image=busybox, name=ev-zero)
container attach $id (image=busybox, name=ev-zero)
container start $id (image=busybox, name=ev-zero)
container die $id (exitCode=0, image=busybox, name=ev-zero)
container destroy $id (image=busybox, name=ev-zero)"
        [ "$(echo "$output" | cut -d' ' -f2-)" = "$want" ]
        [[ "$(echo "$output" | head -1)" =~ ^20[0-9-]+T[0-9:]+\.[0-9]{9}(Z|[+-][0-9:]+)\ container ]]
        run dk events --since "$since" --until "$until" --filter container=ev-three \
                --filter event=die --format '{{.Actor.Attributes.exitCode}} {{.Status}} {{.From}}'
        assert_success
        [ "$output" = "3 die busybox" ]
}

@test "dk events --filter event=start|type|image: only the matching events" {
        since=$(now)
        "$BERTH" run --rm --network none --name ev-filt busybox true
        "$BERTH" volume create ev-filt-vol >/dev/null
        "$BERTH" volume rm ev-filt-vol >/dev/null
        until=$(now)
        run dk events --since "$since" --until "$until" --filter event=start --format '{{.Action}} {{.Actor.Attributes.name}}'
        assert_success
        [ "$output" = "start ev-filt" ]
        run dk events --since "$since" --until "$until" --filter type=volume --format '{{.Type}} {{.Action}}'
        [ "$output" = "volume create
volume destroy" ]
        run dk events --since "$since" --until "$until" --filter image=busybox --filter event=die --format '{{.Actor.Attributes.name}}'
        [ "$output" = "ev-filt" ]
        run dk events --since "$since" --until "$until" --filter container=nosuch
        assert_success
        [ -z "$output" ]
}

@test "a followed dk events sees a container started after it subscribed" {
        out="$BATS_TEST_TMPDIR/follow.out"
        timeout -s INT 30 docker events --filter container=ev-follow --format '{{.Action}}' >"$out" 2>&1 &
        FOLLOW_PID=$!
        sleep 1
        "$BERTH" run --rm --network none --name ev-follow busybox true
        for _ in $(seq 100); do
                grep -q destroy "$out" && break
                sleep 0.1
        done
        kill "$FOLLOW_PID" 2>/dev/null || true
        run cat "$out"
        [ "$output" = "create
attach
start
die
destroy" ]
}

@test "berth events --since --until --format; json; --filter; bad filter is a usage error" {
        since=$(now)
        "$BERTH" run --rm --network none --name ev-cli busybox true
        until=$(now)
        run "$BERTH" events --since "$since" --until "$until" --format '{{.Type}} {{.Action}}'
        assert_success
        [ "$output" = "container create
container attach
container start
container die
container destroy" ]
        run "$BERTH" events --since "$since" --until "$until" --filter event=die --format json
        assert_success
        echo "$output" | /usr/bin/python3 -c '
import json, sys
e = json.loads(sys.stdin.read())
assert e["status"] == "die" and e["from"] == "busybox" and e["Type"] == "container", e
assert e["Actor"]["Attributes"] == {"exitCode": "0", "image": "busybox", "name": "ev-cli"}, e
assert e["scope"] == "local" and e["time"] == e["timeNano"] // 10**9, e
'
        run "$BERTH" events --filter nonsense
        assert_failure 125
}

@test "image tag and untag, volume create and destroy are events" {
        since=$(now)
        "$BERTH" tag busybox busybox:evtag
        "$BERTH" rmi busybox:evtag >/dev/null
        dk volume create ev-vol >/dev/null || "$BERTH" volume create ev-vol >/dev/null
        dk volume rm ev-vol >/dev/null || "$BERTH" volume rm ev-vol >/dev/null
        until=$(now)
        id=$("$BERTH" image inspect busybox --format '{{.Id}}')
        run dk events --since "$since" --until "$until" --filter type=image
        assert_success
        [ "$(echo "$output" | cut -d' ' -f2-)" = "image tag $id (name=busybox:evtag)
image untag $id (name=$id)" ]
        run dk events --since "$since" --until "$until" --filter volume=ev-vol
        [ "$(echo "$output" | cut -d' ' -f2-)" = "volume create ev-vol (driver=local)
volume destroy ev-vol (driver=local)" ]
}

@test "GET /events: chunked JSON lines; malformed filters or times are 400" {
        since=$(now)
        "$BERTH" run --rm --network none --name ev-curl busybox true
        until=$(now)
        run api_curl -D "$BATS_TEST_TMPDIR/h" "/v1.41/events?since=$since&until=$until&filters=%7B%22container%22%3A%7B%22ev-curl%22%3Atrue%7D%7D"
        assert_success
        grep -qi '^transfer-encoding: chunked' "$BATS_TEST_TMPDIR/h"
        grep -qi '^content-type: application/json' "$BATS_TEST_TMPDIR/h"
        [ "$(echo "$output" | wc -l)" -eq 5 ]
        echo "$output" | /usr/bin/python3 -c '
import json, sys
evs = [json.loads(l) for l in sys.stdin]
assert [e["Action"] for e in evs] == ["create", "attach", "start", "die", "destroy"], evs
assert list(evs[0]) == ["status", "id", "from", "Type", "Action", "Actor", "scope", "time", "timeNano"]
'
        run api_curl -o /dev/null -w '%{http_code}' "/v1.41/events?filters=%7Bnot-json"
        [ "$output" = 400 ]
        run api_curl "/v1.41/events?filters=%7Bnot-json"
        assert_output_contains '"message"'
        run api_curl -o /dev/null -w '%{http_code}' "/v1.41/events?since=yesterday-ish"
        [ "$output" = 400 ]
        run api_curl "/v1.41/events?since=200&until=100"
        assert_output_contains 'cannot be after `until` time'
}

@test "GET /events: headers come at once; a client that leaves does not stop the service" {
        # headers before any event: the v1.24 CLI starts its container only once it has them
        run api_curl --max-time 2 -D "$BATS_TEST_TMPDIR/h" -o /dev/null -w '%{http_code}' /v1.41/events
        [ "$output" = 200 ]
        pid=$(cat "$BATS_FILE_TMPDIR/service.pid")
        before=$(ls /proc/"$pid"/task | wc -l)
        for _ in 1 2 3 4 5; do
                api_curl --max-time 0.3 /v1.41/events >/dev/null || true
        done
        # the streams' threads notice their clients left and end
        for _ in $(seq 30); do
                [ "$(ls /proc/"$pid"/task | wc -l)" -le "$before" ] && break
                sleep 0.1
        done
        [ "$(ls /proc/"$pid"/task | wc -l)" -le "$before" ]
        run api_curl --max-time 5 /_ping
        assert_success
        [ "$output" = OK ]
        # an until in the future ends the stream when it passes
        until=$(( $(date +%s) + 2 ))
        start=$(date +%s)
        run api_curl --max-time 10 "/v1.41/events?until=$until"
        assert_success
        [ $(( $(date +%s) - start )) -le 5 ]
}

@test "docker run at API 1.24 learns the exit from GET /events (trace v1.24-run-rm)" {
        run env DOCKER_API_VERSION=1.24 docker run --rm --network none --name ev-v124 busybox sh -c 'echo hi; exit 3'
        if [[ "$output" == *"page not found"* || "$output" == *"not allowed"* || "$output" == *"not implemented"* ]]; then
                skip "the API's create/attach/start are not in place yet: $output"
        fi
        [ "$status" -eq 3 ]
        # (the CLI's own race: it exits on the destroy event, which may come before the answer to
        # its DELETE, and then may log "context canceled" for that DELETE, as with dockerd)
        [ "${lines[0]}" = hi ]
        for _ in $(seq 50); do
                [ -z "$("$BERTH" ps -aq --filter name=ev-v124)" ] && break
                sleep 0.1
        done
        run "$BERTH" ps -a --filter name=ev-v124 -q
        [ -z "$output" ]
}

@test "docker-py: client.events(since, until, filters, decode=True)" {
        since=$(now)
        "$BERTH" run --rm --network none --name ev-py busybox true
        until=$(now)
        run /usr/bin/python3 -c '
import sys, docker
c = docker.from_env()
evs = list(c.events(since=float(sys.argv[1]), until=float(sys.argv[2]),
                    filters={"container": "ev-py", "event": ["start", "die"]}, decode=True))
print(" ".join(e["Action"] + ":" + e["Actor"]["Attributes"]["name"] for e in evs))
' "$since" "$until"
        assert_success
        [ "$output" = "start:ev-py die:ev-py" ]
}

@test "the event log is bounded: past 4 MiB it becomes events.log.1, and both are read back" {
        log="$BERTH_RUN_DIR/events.log"
        # old events filling the file to its bound (their time: 1000 s after the epoch)
        /usr/bin/python3 - "$log" <<'PY'
import json, sys
line = json.dumps({"Type": "volume", "Action": "create", "Actor": {"ID": "ev-old", "Attributes": {"driver": "local", "pad": "x" * 300}}, "scope": "local", "time": 1000, "timeNano": 1000 * 10**9}, separators=(",", ":")) + "\n"
with open(sys.argv[1], "a") as f:
    f.write(line * (4 * 1024 * 1024 // len(line) + 1))
PY
        "$BERTH" volume create ev-rot >/dev/null
        "$BERTH" volume rm ev-rot >/dev/null
        [ -f "$log.1" ]
        [ "$(stat -c %s "$log")" -lt 100000 ]
        run "$BERTH" events --since 999 --until 1001 --filter volume=ev-old --format '{{.Actor.ID}}'
        assert_success
        [ "$(echo "$output" | wc -l)" -gt 9000 ]
        run "$BERTH" events --since 1001 --until "$(now)" --filter volume=ev-rot --format '{{.Action}}'
        [ "$output" = "create
destroy" ]
}

@test "exec events: exec_create, exec_start (with the command), exec_die (exitCode) from docker exec and berth exec" {
        "$BERTH" run -d --network none --name ev-exec busybox sleep 1000 >/dev/null
        since=$(now)
        run dk exec ev-exec sh -c 'exit 4'
        [ "$status" -eq 4 ]
        run "$BERTH" exec ev-exec true
        assert_success
        sleep 0.2
        until=$(now)
        run dk events --since "$since" --until "$until" --filter container=ev-exec \
                --format '{{.Action}}|{{.Actor.Attributes.exitCode}}|{{.Actor.Attributes.name}}|{{.Actor.Attributes.execID}}'
        assert_success
        # (the docker CLI prints a missing attribute as <no value>)
        want="exec_create: sh -c exit 4|<no value>|ev-exec|64
exec_start: sh -c exit 4|<no value>|ev-exec|64
exec_die|4|ev-exec|64
exec_create: true|<no value>|ev-exec|64
exec_start: true|<no value>|ev-exec|64
exec_die|0|ev-exec|64"
        [ "$(echo "$output" | sed -E 's/[0-9a-f]{64}$/64/')" = "$want" ]
        # one exec, one id: the API's exec id is the one its events carry
        run dk events --since "$since" --until "$until" --filter container=ev-exec --format '{{.Actor.Attributes.execID}}'
        [ "$(echo "$output" | head -3 | sort -u | wc -l)" -eq 1 ]
        [ "$(echo "$output" | sort -u | wc -l)" -eq 2 ]
}

@test "image save and load: one event per image, Actor.ID and name the image ID (dk and berth)" {
        id=$("$BERTH" image inspect busybox --format '{{.Id}}')
        "$BERTH" tag busybox busybox:evsave
        since=$(now)
        # one image under two names is one save, and one load
        dk save -o "$BATS_TEST_TMPDIR/a.tar" busybox busybox:evsave
        "$BERTH" save -o "$BATS_TEST_TMPDIR/b.tar" busybox
        dk load -i "$BATS_TEST_TMPDIR/a.tar" >/dev/null
        "$BERTH" load -i "$BATS_TEST_TMPDIR/b.tar" >/dev/null
        until=$(now)
        "$BERTH" rmi busybox:evsave >/dev/null
        run dk events --since "$since" --until "$until" --filter type=image \
                --format '{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}'
        assert_success
        [ "$output" = "image save $id $id
image save $id $id
image load $id $id
image load $id $id" ]
}

@test "container top, export, cp both ways (archive-path, extract-to-dir) and a TTY resize are events" {
        "$BERTH" run -d -t --network none --name ev-data busybox sleep 1000 >/dev/null
        cid=$("$BERTH" inspect -f '{{.Id}}' ev-data)
        echo hi >"$BATS_TEST_TMPDIR/f.txt"
        since=$(now)
        dk top ev-data >/dev/null
        "$BERTH" top ev-data >/dev/null
        dk export -o "$BATS_TEST_TMPDIR/e1.tar" ev-data
        "$BERTH" export -o "$BATS_TEST_TMPDIR/e2.tar" ev-data
        dk cp "$BATS_TEST_TMPDIR/f.txt" ev-data:/tmp/f.txt
        "$BERTH" cp "$BATS_TEST_TMPDIR/f.txt" ev-data:/tmp/g.txt
        dk cp ev-data:/tmp/f.txt "$BATS_TEST_TMPDIR/o1.txt"
        "$BERTH" cp ev-data:/tmp/g.txt "$BATS_TEST_TMPDIR/o2.txt"
        run api_curl -o /dev/null -w '%{http_code}' -X POST "/v1.41/containers/ev-data/resize?h=31&w=101"
        [ "$output" = 200 ]
        until=$(now)
        [ "$(cat "$BATS_TEST_TMPDIR/o1.txt" "$BATS_TEST_TMPDIR/o2.txt")" = "hi
hi" ]
        run dk events --since "$since" --until "$until" --filter container=ev-data \
                --format '{{.Type}} {{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}} {{.Actor.Attributes.image}}'
        assert_success
        want="top
top
export
export
extract-to-dir
extract-to-dir
archive-path
archive-path
resize"
        [ "$(echo "$output" | awk '{print $2}')" = "$want" ]
        [ "$(echo "$output" | awk '{print $1, $3, $4, $5}' | sort -u)" = "container $cid ev-data busybox" ]
        run dk events --since "$since" --until "$until" --filter container=ev-data \
                --filter event=resize --format '{{.Actor.Attributes.height}} {{.Actor.Attributes.width}}'
        [ "$output" = "31 101" ]
}
