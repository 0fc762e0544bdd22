#!/usr/bin/env bats
# api_cli2010.bats — Debian's docker CLI 20.10 (/usr/bin/docker, API 1.41 without
# negotiating down) against berth's Engine API: the everyday commands give the output and
# exit codes they give against dockerd; and `system prune` / `builder prune` (both CLIs) reach
# /build/prune.
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
        [ -x /usr/bin/docker ] || skip "needs Debian's docker.io CLI (/usr/bin/docker)"
        /usr/bin/docker --version | grep -q ' 20\.10\.' || skip "/usr/bin/docker is not the 20.10 CLI"
}

teardown() {
        api_teardown
}

d20() {
        /usr/bin/docker "$@"
}

@test "cli 20.10: version, run --rm with exit codes, stderr apart" {
        run d20 version --format '{{.Client.Version}} {{.Server.APIVersion}}'
        assert_success
        [[ "$output" == 20.10.*" 1.41" ]]
        run d20 run --rm --network none busybox echo hi
        assert_success
        [ "$output" = hi ]
        run d20 run --rm --network none busybox sh -c 'echo err >&2; exit 3'
        [ "$status" -eq 3 ]
        run --separate-stderr d20 run --rm --network none busybox sh -c 'echo out; echo err >&2'
        [ "$output" = out ]
        [ "$stderr" = err ]
}

@test "cli 20.10: run -d, logs, exec, ps, inspect -f, stop, rm" {
        id=$(d20 run -d --network none --name c20 busybox sh -c 'echo started; sleep 1000')
        [ ${#id} -eq 64 ]
        local i
        for i in $(seq 50); do d20 logs c20 | grep -q started && break; sleep 0.1; done
        run d20 logs c20
        [ "$output" = started ]
        run d20 exec c20 sh -c 'echo $((6*7))'
        [ "$output" = 42 ]
        run d20 exec c20 sh -c 'exit 5'
        [ "$status" -eq 5 ]
        run d20 ps --format '{{.Names}} {{.Image}}'
        assert_output_contains "c20 busybox"
        run d20 inspect -f '{{.State.Running}} {{.Name}}' c20
        [ "$output" = "true /c20" ]
        run d20 stop -t 1 c20
        [ "$output" = c20 ]
        run d20 rm c20
        [ "$output" = c20 ]
        run d20 rm c20
        [ "$status" -eq 1 ]
        assert_output_contains "No such container: c20"
}

@test "cli 20.10: images, network and volume listings, info" {
        run d20 images --format '{{.Repository}}:{{.Tag}}'
        assert_output_contains "busybox:latest"
        run d20 network create net20
        assert_success
        run d20 network ls --format '{{.Name}}'
        assert_output_contains net20
        run d20 network rm net20
        assert_success
        run d20 volume create vol20
        [ "$output" = vol20 ]
        run d20 volume ls -q
        assert_output_contains vol20
        run d20 volume rm vol20
        assert_success
        run d20 info --format '{{.OSType}} {{.ServerVersion}}'
        assert_success
        [[ "$output" == "linux "* ]]
}

@test "system prune and builder prune (20.10 and 28.2): stopped containers and the build cache go" {
        d20 create --network none --name pr20 busybox true >/dev/null
        run d20 system prune -f
        assert_success
        assert_output_contains "Total reclaimed space"
        run "$BERTH" ps -a --format '{{.Names}}'
        refute_output_contains pr20
        run dk system prune -f
        assert_success
        run dk builder prune -f
        assert_success
        run api_curl -X POST -w ' %{http_code}' /v1.41/build/prune
        [[ "$output" == '{"CachesDeleted":null,"SpaceReclaimed":'*' 200' ]]
        # a build's cached steps are what the next prune deletes
        mkdir -p "$BATS_TEST_TMPDIR/ctx"
        printf 'FROM busybox\nRUN echo cached > /c\n' >"$BATS_TEST_TMPDIR/ctx/Dockerfile"
        DOCKER_BUILDKIT=0 dk build -q --network none -t pr-cache "$BATS_TEST_TMPDIR/ctx" >/dev/null 2>&1
        dk rmi pr-cache >/dev/null
        run api_curl -X POST /v1.41/build/prune
        [[ "$output" == '{"CachesDeleted":["'* ]]
}
