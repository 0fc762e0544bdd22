#!/usr/bin/env bats
# api_io.bats — the Engine API's container I/O (start, attach, wait, logs, resize) driven by
# the docker CLI 28 and docker-py 5.0.3 against `berth system service`: foreground runs that
# attach before they start, --rm removed by the service, stdin and its half-close, ttys,
# logs with dockerd's framing, and clients that leave mid-stream.
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

# A raw logs reply as hex: logs_hex CONTAINER QUERY
logs_hex() {
        curl -s --unix-socket "$API_SOCK" "http://d/v1.41/containers/$1/logs?$2" |
                od -An -tx1 | tr -d ' \n'
}

# The service's thread count: what it has left running.
service_threads() {
        ls "/proc/$(cat "$BATS_FILE_TMPDIR/service.pid")/task" | wc -l
}

@test "run --rm (foreground): output, exit status, stderr apart, and the container removed" {
        run timeout 30 docker run --rm --network none busybox echo hi
        assert_success
        [ "$output" = hi ]
        # a fast exit can be removed (--rm) before the wait sees it: the status must still
        # come back (it did not, 1 time in 10, until the wait read the monitor's die event)
        local i
        for i in $(seq 15); do
                run timeout 30 docker run --rm --network none busybox sh -c 'exit 3'
                [ "$status" -eq 3 ] || { echo "run $i: status $status" >&2; false; }
        done
        run --separate-stderr timeout 30 docker run --rm --network none busybox \
                sh -c 'echo to-out; echo to-err >&2'
        assert_success
        [ "$output" = to-out ]
        [ "$stderr" = to-err ]
        run bash -c "timeout 30 docker run --rm --network none busybox \\
                sh -c 'echo o; echo e >&2' 2>/dev/null"
        [ "$output" = o ]
        # --rm: the service removed them (the CLI's wait?condition=removed came back)
        run "$BERTH" ps -aq
        [ -z "$output" ]
}

@test "run -i: piped stdin reaches the container, its EOF ends it" {
        run bash -c 'printf "piped\nsecond\n" |
                timeout 30 docker run --rm -i --network none busybox cat'
        assert_success
        [ "$output" = "$(printf 'piped\nsecond')" ]
        run bash -c 'echo 5 |
                timeout 30 docker run --rm -i --network none busybox sh -c "read n; exit \$n"'
        [ "$status" -eq 5 ]
}

@test "run -d, then logs: all, --tail 2, -t, stdout/stderr apart; logs -f ends when it exits" {
        run docker run -d --name io-lg --network none busybox \
                sh -c 'echo out1; echo err1 >&2; echo out2; echo out3'
        assert_success
        [[ "$output" =~ ^[0-9a-f]{64}$ ]]
        run timeout 10 docker wait io-lg
        [ "$output" = 0 ]
        run --separate-stderr docker logs io-lg
        assert_success
        [ "$output" = "$(printf 'out1\nout2\nout3')" ]
        [ "$stderr" = err1 ]
        docker run -d --name io-lt --network none busybox \
                sh -c 'for i in 1 2 3 4; do echo line$i; done' >/dev/null
        timeout 10 docker wait io-lt >/dev/null
        run docker logs --tail 2 io-lt
        [ "$output" = "$(printf 'line3\nline4')" ]
        run docker logs -t --tail 1 io-lt
        [[ "$output" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z\ line4$ ]]
        # -f on a running container: what comes later, and the end at its exit
        docker run -d --name io-lf --network none busybox \
                sh -c 'echo first; sleep 1; echo later; sleep 0.5; echo last' >/dev/null
        run timeout 20 docker logs -f io-lf
        assert_success
        [ "$output" = "$(printf 'first\nlater\nlast')" ]
}

@test "logs over the wire: frames without a tty, raw bytes with one, no Content-Type, 400/404" {
        docker run -d --name io-fr --network none busybox sh -c 'echo hi; echo oops >&2' >/dev/null
        timeout 10 docker wait io-fr >/dev/null
        # (stdout and stderr apart: their order in the log is the order the monitor read them)
        run logs_hex io-fr stdout=1
        [ "$output" = 010000000000000368690a ]
        run logs_hex io-fr stderr=1
        [ "$output" = 02000000000000056f6f70730a ]
        run api_curl -D - -o /dev/null '/v1.41/containers/io-fr/logs?stdout=1'
        assert_output_contains "Transfer-Encoding: chunked"
        refute_output_contains "Content-Type"
        docker run -d -t --name io-tty --network none busybox sh -c 'echo tty-line' >/dev/null
        timeout 10 docker wait io-tty >/dev/null
        run logs_hex io-tty 'stdout=1&stderr=1'
        [ "$output" = 7474792d6c696e650d0a ]
        run docker logs io-tty
        [ "$output" = "$(printf 'tty-line\r')" ]
        run api_curl -w ' %{http_code}' '/v1.41/containers/io-fr/logs'
        [ "$output" = '{"message":"Bad parameters: you must choose at least one stream"}
 400' ]
        run api_curl -w ' %{http_code}' '/v1.41/containers/io-nosuch/logs?stdout=1'
        [ "$output" = '{"message":"No such container: io-nosuch"}
 404' ]
}

@test "wait: exit status (CLI and raw), headers at once, condition=removed after --rm" {
        docker run -d --name io-w1 --network none busybox sh -c 'sleep 0.5; exit 3' >/dev/null
        run timeout 10 docker wait io-w1
        assert_success
        [ "$output" = 3 ]
        # not-running on a stopped container answers at once
        run api_curl -m 5 -X POST /v1.41/containers/io-w1/wait
        [ "$output" = '{"Error":null,"StatusCode":3}' ]
        # the headers come before the container even starts (the CLI needs them to go on)
        id=$(docker create --name io-w2 --network none busybox sh -c 'exit 4')
        curl -sN -D "$BATS_TEST_TMPDIR/h" --unix-socket "$API_SOCK" -X POST \
                "http://d/v1.41/containers/$id/wait?condition=next-exit" >"$BATS_TEST_TMPDIR/b" &
        cpid=$!
        for i in $(seq 50); do
                grep -q "200 OK" "$BATS_TEST_TMPDIR/h" 2>/dev/null && break
                sleep 0.1
        done
        grep -q "200 OK" "$BATS_TEST_TMPDIR/h"
        grep -q "Transfer-Encoding: chunked" "$BATS_TEST_TMPDIR/h"
        run api_curl -w '%{http_code}' -X POST "/v1.41/containers/$id/start"
        [ "$output" = 204 ]
        wait $cpid
        [ "$(cat "$BATS_TEST_TMPDIR/b")" = '{"Error":null,"StatusCode":4}' ]
        # removed: the service's --rm removal ends it, with the exit status
        id=$(docker run -d --rm --network none busybox sh -c 'sleep 0.5; exit 9')
        run api_curl -m 10 -X POST "/v1.41/containers/$id/wait?condition=removed"
        [ "$output" = '{"Error":null,"StatusCode":9}' ]
        run "$BERTH" inspect "$id"
        assert_failure
        run api_curl -w ' %{http_code}' -X POST '/v1.41/containers/io-w1/wait?condition=bogus'
        [ "${output: -3}" = 400 ]
}

@test "start: 204, 304 when running, 404 unknown; start -a relays and exits with the status" {
        docker create --name io-cs --network none busybox sh -c 'echo created; exit 4' >/dev/null
        run timeout 30 docker start -a io-cs
        [ "$status" -eq 4 ]
        [ "$output" = created ]
        # again: a second run of the same container
        run timeout 30 docker start -a io-cs
        [ "$status" -eq 4 ]
        [ "$output" = created ]
        docker run -d --name io-run --network none busybox sleep 1000 >/dev/null
        run api_curl -w '%{http_code}' -X POST /v1.41/containers/io-run/start
        [ "$output" = 304 ]
        run api_curl -w ' %{http_code}' -X POST /v1.41/containers/io-nosuch/start
        [ "$output" = '{"message":"No such container: io-nosuch"}
 404' ]
        # resize: 200 when running, 409 when not, 400 for a bad size
        run api_curl -w '%{http_code}' -X POST '/v1.41/containers/io-run/resize?h=40&w=100'
        [ "$output" = 200 ]
        run api_curl -w ' %{http_code}' -X POST '/v1.41/containers/io-cs/resize?h=40&w=100'
        [ "${output: -3}" = 409 ]
        assert_output_contains "is not running"
        run api_curl -w ' %{http_code}' -X POST '/v1.41/containers/io-run/resize?h=x&w=100'
        [ "${output: -3}" = 400 ]
        docker rm -f io-run >/dev/null
}

@test "attach: output of a running container, and its exit status" {
        docker run -d --name io-at --network none busybox sh -c \
                'sleep 1; echo attached-out; echo attached-err >&2; sleep 0.5; exit 6' >/dev/null
        run --separate-stderr timeout 30 docker attach io-at
        [ "$status" -eq 6 ]
        [ "$output" = attached-out ]
        [ "$stderr" = attached-err ]
}

@test "run -it in a terminal (tmux): a tty, keystrokes in, the size from resize, exit status" {
        require_cmd tmux
        local sock="io-$$-$BATS_TEST_NUMBER" out="$BATS_TEST_TMPDIR/tty.out"
        tmux -L "$sock" new-session -d -x 100 -y 40 \
                "DOCKER_HOST=$DOCKER_HOST DOCKER_CONFIG=$DOCKER_CONFIG \
                 docker run -it --rm --network none busybox sh; echo rc=\$? >$out; sleep 30"
        for i in $(seq 50); do
                tmux -L "$sock" capture-pane -p | grep -q '/ #' && break
                sleep 0.2
        done
        tmux -L "$sock" send-keys 'echo in-tty-$((6*7)); stty size; tty' Enter
        sleep 1
        tmux -L "$sock" send-keys 'exit 7' Enter
        for i in $(seq 50); do [ -s "$out" ] && break; sleep 0.2; done
        pane=$(tmux -L "$sock" capture-pane -p)
        tmux -L "$sock" kill-server 2>/dev/null || true
        echo "$pane"
        [[ "$pane" == *in-tty-42* ]]
        [[ "$pane" == *"40 100"* ]]
        [[ "$pane" == */dev/pts/* ]]
        [ "$(cat "$out")" = rc=7 ]
}

@test "docker-py 5.0.3: containers.run (foreground, remove=True), logs(stream=True, follow=True)" {
        [ -x /usr/bin/python3 ] || skip "no /usr/bin/python3"
        run timeout 60 /usr/bin/python3 -c '
import docker, itertools, time
c = docker.from_env()
print(c.containers.run("busybox", ["sh", "-c", "echo hi; echo err >&2"], remove=True,
                       network_mode="none"))
x = c.containers.run("busybox", ["sh", "-c", "echo out1; sleep 0.3; echo out2; sleep 100"],
                     detach=True, network_mode="none", name="io-pyx")
print(list(itertools.islice(x.logs(stream=True, follow=True), 2)))
print(x.logs(stderr=False))
x.remove(force=True)
try:
    c.containers.run("busybox", ["sh", "-c", "exit 3"], remove=True, network_mode="none")
except docker.errors.ContainerError as e:
    print("exit", e.exit_status)
'
        assert_success
        [ "${lines[0]}" = "b'hi\\n'" ]
        [ "${lines[1]}" = "[b'out1\\n', b'out2\\n']" ]
        [ "${lines[2]}" = "b'out1\\nout2\\n'" ]
        [ "${lines[3]}" = "exit 3" ]
}

@test "clients that leave mid-stream (logs -f, wait, attach) leave no thread behind" {
        docker run -d --name io-gone --network none busybox \
                sh -c 'while true; do echo tick; sleep 0.2; done' >/dev/null
        before=$(service_threads)
        docker logs -f io-gone >/dev/null &
        p1=$!
        docker wait io-gone >/dev/null &
        p2=$!
        docker attach io-gone >/dev/null &
        p3=$!
        sleep 1
        [ "$(service_threads)" -gt "$before" ]
        kill -9 $p1 $p2 $p3
        wait $p1 $p2 $p3 2>/dev/null || true
        for i in $(seq 30); do [ "$(service_threads)" -le "$before" ] && break; sleep 0.1; done
        [ "$(service_threads)" -le "$before" ]
        run api_curl /_ping
        [ "$output" = OK ]
        run timeout 10 docker logs --tail 1 io-gone
        [ "$output" = tick ]
        docker rm -f io-gone >/dev/null
}

@test "detach keys in hijacked streams: ctrl-p ctrl-q (or detachKeys) ends attach and exec, the container runs on" {
        [ -x /usr/bin/python3 ] || skip "no /usr/bin/python3"
        docker run -dit --name io-detach --network none busybox sh >/dev/null
        since=$(date +%s.%N)
        run timeout 30 /usr/bin/python3 - "$API_SOCK" <<'PY'
import json, socket, sys, time
path = sys.argv[1]

def hijack(method, url, body=b""):
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    head = "%s %s HTTP/1.1\r\nHost: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n" % (method, url)
    if body:
        head += "Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
    s.sendall(head.encode() + b"\r\n" + body)
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(4096)
    status = buf.split(b" ", 2)[1].decode()
    return s, status, buf.split(b"\r\n\r\n", 1)[1]

def read_until_closed(s, limit=10):
    s.settimeout(limit)
    out = b""
    while True:
        d = s.recv(4096)
        if not d:
            return out
        out += d

# attach: the keys in the middle of a write; what came before them still reaches the shell
s, st, _ = hijack("POST", "/v1.41/containers/io-detach/attach?stream=1&stdin=1&stdout=1")
print("attach", st)
s.sendall(b"echo be''fore\n")
time.sleep(0.5)
s.sendall(b"echo x\x10\x11echo never\n")
out = read_until_closed(s)
print("closed", b"before" in out, b"never" in out)

# a detachKeys of the client's own: ctrl-a,x
s, st, _ = hijack("POST", "/v1.41/containers/io-detach/attach?stream=1&stdin=1&stdout=1&detachKeys=ctrl-a,x")
print("attach2", st)
s.sendall(b"\x10\x11\x01x")
read_until_closed(s)
print("closed2")

# exec with a tty: the same, and the exec runs on
body = json.dumps({"Cmd": ["sh"], "Tty": True, "AttachStdin": True, "AttachStdout": True}).encode()
c = socket.socket(socket.AF_UNIX); c.connect(path)
c.sendall(b"POST /v1.41/containers/io-detach/exec HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
resp = c.recv(4096).split(b"\r\n\r\n", 1)[1]
eid = json.loads(resp[resp.index(b"{"):resp.rindex(b"}") + 1])["Id"]
s, st, _ = hijack("POST", "/v1.41/exec/%s/start" % eid, json.dumps({"Tty": True}).encode())
print("exec", st)
s.sendall(b"\x10\x11")
read_until_closed(s)
c = socket.socket(socket.AF_UNIX); c.connect(path)
c.sendall(b"GET /v1.41/exec/%s/json HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n" % eid.encode())
print("exec running", b'"Running":true' in read_until_closed(c))

# bad keys: 400 before any upgrade
s, st, _ = hijack("POST", "/v1.41/containers/io-detach/attach?stream=1&stdin=1&detachKeys=ctrl-")
print("bad", st)
PY
        echo "$output"
        assert_success
        [ "${lines[0]}" = "attach 101" ]
        [ "${lines[1]}" = "closed True False" ]
        [ "${lines[2]}" = "attach2 101" ]
        [ "${lines[3]}" = "closed2" ]
        [ "${lines[4]}" = "exec 101" ]
        [ "${lines[5]}" = "exec running True" ]
        [ "${lines[6]}" = "bad 400" ]
        [ "$(docker inspect -f '{{.State.Running}}' io-detach)" = true ]
        run docker events --since "$since" --until "$(date +%s.%N)" --filter container=io-detach --filter event=detach --format '{{.Action}}'
        [ "$output" = "detach
detach" ]
        docker rm -f io-detach >/dev/null
}
