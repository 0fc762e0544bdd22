#!/usr/bin/env bats
# api_exec.bats — the Engine API's exec endpoints (POST /containers/{id}/exec, /exec/{id}/start,
# GET /exec/{id}/json, /exec/{id}/resize) driven by the docker CLI, docker-py and curl.
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
        C="apiexec-$BATS_TEST_NUMBER-$$"
        "$BERTH" run -d --network none --name "$C" busybox sleep 1000 >/dev/null
}

teardown() {
        [ "$(id -u)" = 0 ] || return 0
        if [ -n "${TMUX_SOCK:-}" ]; then
                tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true
        fi
        "$BERTH" rm -f "$C" "$C-stopped" >/dev/null 2>&1 || true
        return 0
}

@test "exec: output, exit status and stderr pass through the CLI" {
        run dk exec "$C" echo hi
        assert_success
        [ "$output" = "hi" ]
        run dk exec "$C" sh -c 'exit 3'
        [ "$status" -eq 3 ]
        run --separate-stderr dk exec "$C" sh -c 'echo out; echo err >&2'
        assert_success
        [ "$output" = "out" ]
        [ "$stderr" = "err" ]
}

@test "exec -i relays stdin until the client's half-close; without -i no stdin" {
        run bash -c "printf 'x\ny\n' | docker exec -i '$C' cat"
        assert_success
        [ "$output" = "$(printf 'x\ny')" ]
        # without -i the process reads an empty stdin and ends at once
        run timeout 10 docker exec "$C" cat
        assert_success
        [ -z "$output" ]
        # output keeps flowing after the half-close, until the process exits
        run bash -c "echo go | docker exec -i '$C' sh -c 'read a; sleep 0.3; echo got-\$a'"
        assert_success
        [ "$output" = "got-go" ]
}

@test "exec -u, -w, -e set the process's user, directory and environment" {
        run dk exec -u 1000 "$C" id -u
        assert_success
        [ "$output" = "1000" ]
        run dk exec -w /tmp "$C" pwd
        [ "$output" = "/tmp" ]
        run dk exec -e A=b "$C" sh -c 'echo $A'
        [ "$output" = "b" ]
        run dk exec -u nosuchuser "$C" true
        [ "$status" -eq 126 ]
        assert_output_contains "unable to find user nosuchuser"
}

@test "exec of a missing command: dockerd's OCI message and exit 127" {
        run -127 dk exec "$C" /no/such/cmd
        [ "$status" -eq 127 ]
        assert_output_contains "OCI runtime exec failed"
}

@test "exec on a stopped or paused container: dockerd's 409 messages, exit 1" {
        "$BERTH" run --network none --name "$C-stopped" busybox true
        id=$("$BERTH" inspect --format '{{.Id}}' "$C-stopped")
        run dk exec "$C-stopped" true
        [ "$status" -eq 1 ]
        assert_output_contains "Container $id is not running"
        run api_curl -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
                -d '{"Cmd":["true"]}' "/v1.41/containers/$C-stopped/exec"
        [ "$output" = "409" ]
        if "$BERTH" pause "$C" >/dev/null 2>&1; then
                run dk exec "$C" true
                [ "$status" -eq 1 ]
                assert_output_contains "is paused, unpause the container before exec"
                "$BERTH" unpause "$C"
        fi
        run dk exec "$C" true
        assert_success
}

@test "exec -it in a terminal: raw pty, size from resize, stdin and exit status" {
        require_cmd tmux
        TMUX_SOCK="$BATS_TEST_TMPDIR/tmux.sock"
        local pane="$BATS_TEST_TMPDIR/pane"
        tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -x 100 -y 40 \
                "docker exec -it '$C' sh; echo rc=\$?; sleep 60"
        tmux -S "$TMUX_SOCK" set -g status off
        local i
        for i in $(seq 50); do
                tmux -S "$TMUX_SOCK" capture-pane -p >"$pane"
                grep -q '[#$] ' "$pane" && break
                sleep 0.1
        done
        tmux -S "$TMUX_SOCK" send-keys 'echo tty-$((6*7)); tty; stty size' Enter
        sleep 0.5
        tmux -S "$TMUX_SOCK" send-keys 'exit 5' Enter
        for i in $(seq 50); do
                tmux -S "$TMUX_SOCK" capture-pane -p >"$pane"
                grep -q 'rc=' "$pane" && break
                sleep 0.1
        done
        run cat "$pane"
        assert_output_contains "tty-42"
        assert_output_contains "/dev/pts/"
        assert_output_contains " 100"
        assert_output_contains "rc=5"
}

@test "docker-py exec_run: (0, b'hi\\n'), stream=True and demux" {
        run /usr/bin/python3 -c "
import docker
c = docker.from_env().containers.get('$C')
r = c.exec_run('echo hi')
print(r.exit_code, r.output)
r = c.exec_run(['sh', '-c', 'echo a; sleep 0.2; echo b'], stream=True)
print(b''.join(r.output))
r = c.exec_run(['sh', '-c', 'echo o; echo e >&2; exit 2'], demux=True)
print(r.exit_code, r.output)
"
        assert_success
        [ "${lines[0]}" = "0 b'hi\\n'" ]
        [ "${lines[1]}" = "b'a\\nb\\n'" ]
        [ "${lines[2]}" = "2 (b'o\\n', b'e\\n')" ]
}

@test "GET /exec/ID/json: Running false and ExitCode once finished; dockerd's shape" {
        id=$(/usr/bin/python3 -c "
import docker
api = docker.from_env().api
e = api.exec_create('$C', ['sh', '-c', 'exit 4'], user='0')
api.exec_start(e['Id'])
print(e['Id'])
")
        [[ "$id" =~ ^[0-9a-f]{64}$ ]]
        run api_curl "/v1.41/exec/$id/json"
        echo "$output" | /usr/bin/python3 -c "
import json, sys
j = json.load(sys.stdin)
assert j['ID'] == '$id', j
assert j['Running'] is False and j['ExitCode'] == 4, j
assert j['ProcessConfig'] == {'tty': False, 'entrypoint': 'sh', 'arguments': ['-c', 'exit 4'],
                              'privileged': False, 'user': '0'}, j
assert j['Pid'] > 0 and j['CanRemove'] is False and j['OpenStdin'] is False, j
assert len(j['ContainerID']) == 64, j
"
        # a second start is refused
        run api_curl -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
                -d '{"Detach":true}' "/v1.41/exec/$id/start"
        [ "$output" = "409" ]
}

@test "exec API errors and a detached start" {
        run api_curl -w '%{http_code}' "/v1.41/exec/nosuch/json"
        [ "$output" = $'{"message":"No such exec instance: nosuch"}\n404' ]
        run api_curl -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
                -d '{"Cmd":["true"]}' "/v1.41/containers/nosuch-$$/exec"
        [ "$output" = "{\"message\":\"No such container: nosuch-$$\"}"$'\n404' ]
        run api_curl -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
                -d '{"Cmd":[]}' "/v1.41/containers/$C/exec"
        [ "$output" = $'{"message":"No exec command specified"}\n400' ]
        run api_curl -X POST -H 'Content-Type: application/json' \
                -d '{"Cmd":["sh","-c","echo d > /tmp/detached; exit 6"]}' "/v1.41/containers/$C/exec"
        id=$(echo "$output" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["Id"])')
        run api_curl -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
                -d '{"Detach":true}' "/v1.41/exec/$id/start"
        [ "$output" = "200" ]
        local i
        for i in $(seq 50); do
                run api_curl "/v1.41/exec/$id/json"
                [[ "$output" == *'"ExitCode":6'* ]] && break
                sleep 0.1
        done
        assert_output_contains '"Running":false'
        assert_output_contains '"ExitCode":6'
        run dk exec "$C" cat /tmp/detached
        [ "$output" = "d" ]
        run api_curl -o /dev/null -w '%{http_code}' -X POST "/v1.41/exec/$id/resize?h=10&w=20"
        [ "$output" = "409" ]
        run api_curl -o /dev/null -w '%{http_code}' -X POST "/v1.41/exec/nosuch/resize?h=10&w=20"
        [ "$output" = "404" ]
}
