#!/usr/bin/env bats
# ps_summary.bats — `ps` and GET /containers/json read each container's summary.json (a few
# fields of its two records, engine/summary.h): it follows every change (rename, start, stop,
# a killed monitor), and a missing, damaged or stale one never shows: ps reads the records then
# and writes the summary again.
load helpers
bats_require_minimum_version 1.5.0

setup_file() {
        berth_busybox_setup_file
}

setup() {
        berth_busybox_setup
        require_cmd jq
}

teardown() {
        berth_rm_all_containers
}

# Every field but the times (which move between two calls).
ROW='{{.ID}}|{{.Names}}|{{.Image}}|{{.Command}}|{{.State}}|{{.Labels}}|{{.Ports}}|{{.Networks}}|{{.CreatedAt}}'

summary_of() { echo "$BERTH_DATA_DIR/containers/$1/summary.json"; }

@test "ps follows rename, start, stop and rm through the summary" {
        id=$("$BERTH" run -d --name sum1 --label tier=web --network none busybox sleep 1000)
        jq -e '.Version == 1 and .Doc.Name == "/sum1" and .State.State.Status == "running"' \
                "$(summary_of "$id")"
        run "$BERTH" ps --format '{{.Names}} {{.State}} {{.Labels}}'
        [ "$output" = "sum1 running tier=web" ]
        "$BERTH" rename sum1 sum2
        run "$BERTH" ps --format '{{.Names}} {{.State}}'
        [ "$output" = "sum2 running" ]
        run "$BERTH" ps -a --filter name=sum1 -q
        [ -z "$output" ]
        "$BERTH" stop -t 1 sum2 >/dev/null
        run "$BERTH" ps -q
        [ -z "$output" ]
        run "$BERTH" ps -a --format '{{.Names}} {{.State}} {{.Status}}'
        [[ "$output" == "sum2 exited Exited (137) "* || "$output" == "sum2 exited Exited (143) "* ]]
        run "$BERTH" ps -a --filter exited=0 -q
        [ -z "$output" ]
        "$BERTH" start sum2 >/dev/null
        run "$BERTH" ps --format '{{.Names}} {{.State}}'
        [ "$output" = "sum2 running" ]
        run "$BERTH" ps --filter label=tier=web --format '{{.Names}}'
        [ "$output" = sum2 ]
        "$BERTH" rm -f sum2 >/dev/null
        run "$BERTH" ps -aq
        [ -z "$output" ]
}

@test "a deleted or damaged summary: ps is the same, and the summary is made again" {
        id=$("$BERTH" create --name sum3 --label a=b --network none busybox sh -c 'echo "a b"')
        "$BERTH" run --name sum4 --network none busybox sh -c 'exit 3' || true
        want=$("$BERTH" ps -a --no-trunc --format "$ROW")
        [ "$(echo "$want" | wc -l)" -eq 2 ]
        rm "$(summary_of "$id")"
        run "$BERTH" ps -a --no-trunc --format "$ROW"
        [ "$output" = "$want" ]
        [ -f "$(summary_of "$id")" ]
        printf '{"Version":1,"Stamps":[' >"$(summary_of "$id")"
        run "$BERTH" ps -a --no-trunc --format "$ROW"
        [ "$output" = "$want" ]
        jq -e '.Doc.Name == "/sum3"' "$(summary_of "$id")"
        # every summary gone at once
        rm "$BERTH_DATA_DIR"/containers/*/summary.json
        run "$BERTH" ps -a --no-trunc --format "$ROW"
        [ "$output" = "$want" ]
        run "$BERTH" ps -a --filter exited=3 --format '{{.Names}}'
        [ "$output" = sum4 ]
}

@test "a record rewritten without its summary (a crash between the two writes): ps reads the record" {
        id=$("$BERTH" run -d --name sum5 --network none busybox sleep 1000)
        "$BERTH" stop -t 1 sum5 >/dev/null
        dir="$BERTH_DATA_DIR/containers/$id"
        cp "$(summary_of "$id")" "$BATS_TEST_TMPDIR/old-summary"
        # what an older berth, or a crash right after the record's rename, leaves: the record
        # says exit 42, the summary still 137/143
        jq -c '.State.ExitCode = 42' "$dir/state.json" >"$dir/state.json.new"
        mv "$dir/state.json.new" "$dir/state.json"
        run "$BERTH" ps -a --format '{{.Names}} {{.Status}}'
        [[ "$output" == "sum5 Exited (42) "* ]]
        jq -e '.State.State.ExitCode == 42' "$(summary_of "$id")"
        # the summary of before put back (a reader that raced a writer): still not believed
        cp "$BATS_TEST_TMPDIR/old-summary" "$(summary_of "$id")"
        run "$BERTH" ps -a --format '{{.Names}} {{.Status}}'
        [[ "$output" == "sum5 Exited (42) "* ]]
        jq -c '.Name = "/sum6"' "$dir/container.json" >"$dir/container.json.new"
        mv "$dir/container.json.new" "$dir/container.json"
        run "$BERTH" ps -a --format '{{.Names}}'
        [ "$output" = sum6 ]
}

@test "a killed monitor: ps -a from the summaries still checks the monitor and tells the truth" {
        id=$("$BERTH" run -d --name sum7 --network none busybox sleep 1000)
        mon=$(jq -r .Monitor.Pid "$BERTH_DATA_DIR/containers/$id/state.json")
        jq -e ".State.Monitor.Pid == $mon" "$(summary_of "$id")"
        kill -9 "$mon"
        for _ in $(seq 100); do
                [ ! -e "/proc/$mon" ] || grep -q '^State:[[:space:]]*Z' "/proc/$mon/status" && break
                sleep 0.01
        done
        run "$BERTH" ps -a --format '{{.Names}} {{.Status}}'
        [[ "$output" == "sum7 Exited (137) "* ]]
        jq -e '.State.State.Status == "exited"' "$(summary_of "$id")"
}

@test "GET /containers/json reads the summaries too, and follows a rename" {
        require_cmd curl
        sock="$BATS_TEST_TMPDIR/api.sock"
        "$BERTH" system service -H "unix://$sock" >"$BATS_TEST_TMPDIR/service.log" 2>&1 &
        svc=$!
        for _ in $(seq 100); do curl -sf --unix-socket "$sock" http://d/_ping >/dev/null && break; sleep 0.1; done
        id=$("$BERTH" create --name sum8 --label k=v --network none busybox true)
        run curl -sf --unix-socket "$sock" "http://d/v1.41/containers/json?all=1"
        [ "$status" -eq 0 ]
        echo "$output" | jq -e --arg id "$id" '.[] | select(.Id == $id) | .Names == ["/sum8"] and .Labels.k == "v" and .State == "created" and .HostConfig.NetworkMode == "none" and (.NetworkSettings.Networks | has("none"))'
        "$BERTH" rename sum8 sum9
        run curl -sf --unix-socket "$sock" "http://d/v1.41/containers/json?all=1"
        echo "$output" | jq -e --arg id "$id" '.[] | select(.Id == $id) | .Names == ["/sum9"]'
        rm "$(summary_of "$id")"
        run curl -sf --unix-socket "$sock" "http://d/v1.41/containers/json?all=1&size=1"
        echo "$output" | jq -e --arg id "$id" '.[] | select(.Id == $id) | .Names == ["/sum9"] and (.SizeRootFs | type) == "number"'
        kill "$svc"
        wait "$svc" || true
}
