#!/usr/bin/env bats
# api_core.bats — the Engine API's transport as dockerd's (issue #13): version negotiation,
# wire headers, error bodies, listeners (unix, tcp+TLS, systemd socket activation), and a
# service that keeps serving many clients at once and clients that misbehave.
load helpers
load lib/api
bats_require_minimum_version 1.5.0

setup_file() {
        [ "$(id -u)" = 0 ] || return 0
        command -v curl >/dev/null || return 0
        api_service_start
}

teardown_file() {
        api_teardown_file
}

setup() {
        require_root
        require_cmd curl
        berth_private_state
        api_env
}

@test "HEAD /_ping: dockerd's headers, Api-Version 1.41; GET answers OK" {
        run api_curl -I /_ping
        assert_success
        assert_output_contains "HTTP/1.1 200"
        assert_output_contains "Api-Version: 1.41"
        assert_output_contains "Ostype: linux"
        assert_output_contains "Docker-Experimental: false"
        assert_output_contains "Cache-Control: no-cache, no-store, must-revalidate"
        run api_curl /_ping
        [ "$output" = "OK" ]
        run api_curl /v1.41/_ping
        [ "$output" = "OK" ]
}

@test "versions: unversioned and /v1.x paths served; too new and too old refused as dockerd" {
        run api_curl /version
        assert_output_contains '"ApiVersion":"1.41"'
        run api_curl /v1.24/version
        assert_output_contains '"ApiVersion":"1.41"'
        run api_curl -w '\n%{http_code}' /v1.99/version
        [ "${lines[0]}" = '{"message":"client version 1.99 is too new. Maximum supported API version is 1.41"}' ]
        [ "${lines[1]}" = 400 ]
        run api_curl -w '\n%{http_code}' /v1.11/version
        assert_output_contains "client version 1.11 is too old. Minimum supported API version is 1.12"
        [ "${lines[-1]}" = 400 ]
        run api_curl -w '\n%{http_code}' /v1.41/nope/nothing
        [ "${lines[0]}" = '{"message":"page not found"}' ]
        [ "${lines[1]}" = 404 ]
}

@test "docker version (CLI 28.2) negotiates down to 1.41 and shows berth's engine" {
        require_cmd docker
        run dk version
        assert_success
        assert_output_contains "API version:       1.41 (downgraded from"
        assert_output_contains "Server: berth"
        run dk version --format '{{.Server.APIVersion}} {{.Server.Os}}'
        [ "$output" = "1.41 linux" ]
        # a pinned newer version is refused with dockerd's message and exit 1
        DOCKER_API_VERSION=1.45 run dk version --format '{{.Server.APIVersion}}'
        [ "$status" -eq 1 ]
        assert_output_contains "client version 1.45 is too new"
}

@test "docker-py 5.0.3 negotiates through GET /version" {
        [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import docker' 2>/dev/null ||
                skip "needs Debian's python3-docker"
        run /usr/bin/python3 -c '
import docker
c = docker.from_env()
print(c.api.api_version, c.ping(), c.version()["ApiVersion"])'
        assert_success
        [ "$output" = "1.41 True 1.41" ]
}

@test "20 clients at once, and a stalled client does not hold the others" {
        require_cmd socat
        # a client that sends half a request and waits
        (printf 'GET /_ping HTTP/1.1\r\nHost: d\r\n'; sleep 5) |
                timeout 6 socat - "UNIX-CONNECT:$API_SOCK" >/dev/null 2>&1 &
        local stalled=$!
        local i pids=()
        for i in $(seq 20); do
                (api_curl -m 5 /v1.41/version >"$BATS_TEST_TMPDIR/c$i" 2>&1) &
                pids+=($!)
        done
        for i in "${pids[@]}"; do wait "$i"; done
        for i in $(seq 20); do
                grep -q '"ApiVersion":"1.41"' "$BATS_TEST_TMPDIR/c$i"
        done
        run api_curl -m 2 /_ping
        [ "$output" = "OK" ]
        kill $stalled 2>/dev/null || true
}

@test "a client that leaves mid-request or sends garbage does not stop the service" {
        require_cmd socat
        printf 'POST /v1.41/containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: 100000\r\n\r\n{"Ima' |
                timeout 2 socat - "UNIX-CONNECT:$API_SOCK" >/dev/null 2>&1 || true
        printf 'NOT HTTP AT ALL\r\n\r\n' | timeout 2 socat - "UNIX-CONNECT:$API_SOCK" >/dev/null 2>&1 || true
        head -c 100000 /dev/urandom | timeout 2 socat - "UNIX-CONNECT:$API_SOCK" >/dev/null 2>&1 || true
        run api_curl -m 2 /_ping
        [ "$output" = "OK" ]
}

@test "a second service on the same socket is refused; a stale socket file is replaced" {
        run "$BERTH" system service -H "unix://$API_SOCK"
        [ "$status" -ne 0 ]
        assert_output_contains "another service answers there"
        # a socket file nobody listens on (a killed service's)
        local stale="$BATS_TEST_TMPDIR/stale.sock"
        python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$stale"
        [ -S "$stale" ]
        "$BERTH" system service -H "unix://$stale" &
        local pid=$!
        local i
        for i in $(seq 50); do
                curl -sf --unix-socket "$stale" http://d/_ping >/dev/null 2>&1 && break
                sleep 0.05
        done
        run curl -s --unix-socket "$stale" http://d/_ping
        kill $pid
        wait $pid || true
        [ "$output" = "OK" ]
        # the socket goes with the service
        [ ! -e "$stale" ]
}

@test "tcp:// with TLS: only clients with a certificate the CA signed are served" {
        require_cmd openssl docker
        local d="$BATS_TEST_TMPDIR/tls"
        mkdir -p "$d"
        cd "$d"
        openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days 2 \
                -subj /CN=berth-test-ca 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -keyout key.pem -out s.csr -subj /CN=127.0.0.1 2>/dev/null
        echo "subjectAltName=IP:127.0.0.1" >ext
        openssl x509 -req -in s.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out cert.pem \
                -days 2 -extfile ext 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -keyout ckey.pem -out c.csr -subj /CN=client 2>/dev/null
        echo "extendedKeyUsage=clientAuth" >cext
        openssl x509 -req -in c.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out ccert.pem \
                -days 2 -extfile cext 2>/dev/null
        local port
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        "$BERTH" system service -H "tcp://127.0.0.1:$port" --tlsverify --tlscacert ca.pem \
                --tlscert cert.pem --tlskey key.pem 2>"$d/log" &
        local pid=$!
        local i
        for i in $(seq 50); do
                curl -sf --cacert ca.pem --cert ccert.pem --key ckey.pem \
                        "https://127.0.0.1:$port/_ping" >/dev/null 2>&1 && break
                sleep 0.05
        done
        run curl -s --cacert ca.pem --cert ccert.pem --key ckey.pem "https://127.0.0.1:$port/_ping"
        local with="$output"
        run curl -s --cacert ca.pem "https://127.0.0.1:$port/_ping"
        local without_status=$status
        run docker --tlsverify --tlscacert ca.pem --tlscert ccert.pem --tlskey ckey.pem \
                -H "tcp://127.0.0.1:$port" version --format '{{.Server.APIVersion}}'
        local dk_out="$output"
        kill $pid
        wait $pid || true
        [ "$with" = "OK" ]
        [ "$without_status" -ne 0 ]
        [ "$dk_out" = "1.41" ]
        grep -q "refused a TLS client" "$d/log"
}

@test "systemd socket activation: -H fd:// serves the sockets systemd passes" {
        require_cmd systemd-socket-activate
        local s="$BATS_TEST_TMPDIR/act.sock"
        systemd-socket-activate -l "$s" "$BERTH" system service -H fd:// 2>/dev/null &
        local pid=$!
        local i
        for i in $(seq 50); do [ -S "$s" ] && break; sleep 0.05; done
        run curl -s -m 5 --unix-socket "$s" http://d/_ping
        kill $pid 2>/dev/null
        wait $pid || true
        [ "$output" = "OK" ]
}

@test "system service without sockets passed: -H fd:// fails with exit 125" {
        run "$BERTH" system service -H fd://
        [ "$status" -eq 125 ]
        assert_output_contains "LISTEN_FDS"
}
