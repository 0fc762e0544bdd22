#!/usr/bin/env bats
# api_build.bats — the Engine API's POST /build (dockerd's classic builder) driven by the docker
# CLI (the legacy builder, by default and with DOCKER_BUILDKIT=0), docker-py and curl: the tar
# context, tags, build args, labels, -f, --target, -q, failures in the stream, and a client
# that goes away mid-build.
load helpers
load lib/api
bats_require_minimum_version 1.5.0

setup_file() {
        api_setup_file
        registry_setup_file
}

teardown_file() {
        registry_teardown_file
        api_teardown_file
}

setup() {
        api_setup
        CTX="$BATS_TEST_TMPDIR/ctx"
        mkdir -p "$CTX"
}

teardown() {
        api_teardown
}

@test "build: docker build (legacy builder) of a multi-stage Dockerfile, in dockerd's words" {
        cat > "$CTX/Dockerfile" <<'CF'
FROM busybox AS a
RUN echo x > /x
FROM busybox
COPY --from=a /x /x
CMD cat /x
CF
        run --separate-stderr env DOCKER_BUILDKIT=0 docker build --network none -t api-ms "$CTX"
        assert_success
        assert_output_contains "Step 1/5 : FROM busybox AS a"
        assert_output_contains " ---> Running in "
        assert_output_contains "Removing intermediate container "
        assert_output_contains "Step 4/5 : COPY --from=a /x /x"
        assert_output_contains "Successfully tagged api-ms:latest"
        [[ "${lines[-2]}" =~ ^Successfully\ built\ [0-9a-f]{12}$ ]]
        id="${lines[-2]#Successfully built }"
        run "$BERTH" run --rm --network none api-ms
        assert_success
        [ "$output" = "x" ]
        run "$BERTH" image inspect -f '{{.Id}}' api-ms
        [[ "$output" == "sha256:$id"* ]]
        # no RUN container and no unpacked context stays behind
        [ -z "$("$BERTH" ps -aq)" ]
        [ -z "$(ls "$BERTH_RUN_DIR/build" 2>/dev/null)" ]
        # the CLI's default without buildx is the same legacy call; a rebuild hits the cache
        run --separate-stderr docker build --network none -t api-ms "$CTX"
        assert_success
        assert_output_contains " ---> Using cache"
        assert_output_contains "Successfully built $id"
}

@test "build: --build-arg, --label, -f other.Dockerfile, --target and several -t" {
        printf 'FROM busybox\nARG V=def\nRUN echo "v=$V" > /v\nCMD ["cat", "/v"]\nFROM busybox AS never\nRUN exit 9\n' \
                > "$CTX/other.Dockerfile"
        echo 'FROM 127.0.0.1:1/no-such-image' > "$CTX/Dockerfile" # never built
        run --separate-stderr env DOCKER_BUILDKIT=0 docker build --network none -f "$CTX/other.Dockerfile" \
                --build-arg V=given --label api.l1=one --label 'api.l2=two $x' --target 0 \
                -t api-args:a -t api-args:b "$CTX"
        [ "$status" -ne 0 ] # --target 0 is not a stage name (dockerd: target stage could not be found)
        printf 'FROM busybox AS first\nARG V=def\nRUN echo "v=$V" > /v\nCMD ["cat", "/v"]\nFROM busybox AS never\nRUN exit 9\n' \
                > "$CTX/other.Dockerfile"
        run --separate-stderr env DOCKER_BUILDKIT=0 docker build --network none -f "$CTX/other.Dockerfile" \
                --build-arg V=given --label api.l1=one --label 'api.l2=two $x' --target first \
                -t api-args:a -t api-args:b "$CTX"
        assert_success
        assert_output_contains "Successfully tagged api-args:a"
        assert_output_contains "Successfully tagged api-args:b"
        refute_output_contains "exit 9"
        run "$BERTH" run --rm --network none api-args:b
        [ "$output" = "v=given" ]
        run "$BERTH" image inspect -f '{{index .Config.Labels "api.l1"}}/{{index .Config.Labels "api.l2"}}' api-args:a
        [ "$output" = 'one/two $x' ]
}

@test "build: a failing RUN ends the stream with errorDetail; the CLI shows it and fails" {
        printf 'FROM busybox\nRUN echo before-fail\nRUN false\nRUN echo never\n' > "$CTX/Dockerfile"
        run --separate-stderr env DOCKER_BUILDKIT=0 docker build --network none -t api-fail "$CTX"
        [ "$status" -eq 1 ]
        assert_output_contains "before-fail"
        refute_output_contains "never"
        [[ "$stderr" == *"The command '/bin/sh -c false' returned a non-zero code: 1"* ]]
        run "$BERTH" images -q api-fail
        [ -z "$output" ]
        [ -z "$("$BERTH" ps -aq)" ]
        # the raw stream: the error as dockerd writes it, with the command's code
        printf 'FROM busybox\nRUN exit 3\n' > "$CTX/Dockerfile"
        tar -C "$CTX" -cf "$BATS_TEST_TMPDIR/ctx.tar" Dockerfile
        run api_curl -X POST -H 'Content-Type: application/x-tar' --data-binary "@$BATS_TEST_TMPDIR/ctx.tar" \
                '/v1.41/build?networkmode=none'
        assert_success
        echo "${lines[-1]}" | /usr/bin/python3 -c '
import json, sys
m = json.loads(sys.stdin.read())
assert m["errorDetail"] == {"message": "The command '"'"'/bin/sh -c exit 3'"'"' returned a non-zero code: 3", "code": 3}, m
assert m["error"] == m["errorDetail"]["message"], m'
}

@test "build: -q prints only the image ID" {
        printf 'FROM busybox\nRUN echo quiet-run\nENV Q=1\n' > "$CTX/Dockerfile"
        run --separate-stderr env DOCKER_BUILDKIT=0 docker build -q --network none -t api-q "$CTX"
        assert_success
        [ "${#lines[@]}" -eq 1 ]
        [[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
        [ "$("$BERTH" image inspect -f '{{.Id}}' api-q)" = "$output" ]
}

@test "build: docker-py APIClient.build streams decoded JSON lines" {
        printf 'FROM busybox\nRUN echo from-py-api > /p\nCMD ["cat", "/p"]\n' > "$CTX/Dockerfile"
        run /usr/bin/python3 -c '
import sys, docker
c = docker.APIClient(base_url="unix://" + sys.argv[2])
msgs = list(c.build(path=sys.argv[1], tag="api-pyapi:v1", network_mode="none", rm=True, decode=True))
print([m["aux"]["ID"] for m in msgs if "aux" in m][0])
print("".join(m.get("stream", "") for m in msgs))' "$CTX" "$API_SOCK"
        assert_success
        assert_output_contains "from-py-api"
        assert_output_contains "Successfully tagged api-pyapi:v1"
        [ "$("$BERTH" image inspect -f '{{.Id}}' api-pyapi:v1)" = "${lines[0]}" ]
}

@test "build: docker-py images.build(path=, tag=) returns the image and the log" {
        # images.build ends with GET /images/{id}/json (the images endpoints' part)
        [ "$(api_curl -o /dev/null -w '%{http_code}' /v1.41/images/busybox/json)" = 200 ] ||
                skip "GET /images/{id}/json is not served yet"
        printf 'FROM busybox\nRUN echo from-py > /p\nCMD ["cat", "/p"]\n' > "$CTX/Dockerfile"
        run /usr/bin/python3 -c '
import sys, docker
c = docker.from_env()
img, logs = c.images.build(path=sys.argv[1], tag="api-py:v1", network_mode="none", rm=True)
print(img.tags)
print(img.id)
print("".join(l.get("stream", "") for l in logs))' "$CTX"
        assert_success
        assert_output_contains "['api-py:v1']"
        assert_output_contains "from-py"
        run "$BERTH" run --rm --network none api-py:v1
        [ "$output" = "from-py" ]
}

@test "build: raw POST /build: gzip context, every t, JSON lines, 4xx/5xx before the stream" {
        printf 'FROM busybox\nCOPY f /f\n' > "$CTX/Dockerfile"
        echo content > "$CTX/f"
        tar -C "$CTX" -czf "$BATS_TEST_TMPDIR/ctx.tgz" .
        run api_curl -X POST -H 'Content-Type: application/x-tar' --data-binary "@$BATS_TEST_TMPDIR/ctx.tgz" \
                '/v1.41/build?t=api-raw:1&t=api-raw:2&version=1'
        assert_success
        echo "$output" | /usr/bin/python3 -c '
import json, sys
msgs = [json.loads(l) for l in sys.stdin.read().splitlines() if l.strip()]
assert msgs[0] == {"stream": "Step 1/2 : FROM busybox"}, msgs[0]
assert msgs[1] == {"stream": "\n"}, msgs[1]
aux = [m["aux"]["ID"] for m in msgs if "aux" in m]
assert len(aux) == 1 and aux[0].startswith("sha256:"), msgs
streams = [m.get("stream") for m in msgs]
assert "Successfully built %s\n" % aux[0][7:19] in streams, streams
assert "Successfully tagged api-raw:1\n" in streams and "Successfully tagged api-raw:2\n" in streams, streams'
        run "$BERTH" run --rm --network none api-raw:2 cat /f
        [ "$output" = "content" ]
        # no Dockerfile of that name: 500 with dockerd'"'"'s message
        run api_curl -o /dev/null -w '%{http_code}' -X POST --data-binary "@$BATS_TEST_TMPDIR/ctx.tgz" \
                '/v1.41/build?dockerfile=nope'
        [ "$output" = 500 ]
        run api_curl -X POST --data-binary "@$BATS_TEST_TMPDIR/ctx.tgz" '/v1.41/build?dockerfile=nope'
        assert_output_contains "Cannot locate specified Dockerfile: nope"
        # a Dockerfile that does not parse, a bad tag, bad buildargs: 400
        printf 'FROM busybox\nBOGUS x\n' > "$CTX/Dockerfile"
        tar -C "$CTX" -cf "$BATS_TEST_TMPDIR/bad.tar" Dockerfile
        run api_curl -w '\n%{http_code}' -X POST --data-binary "@$BATS_TEST_TMPDIR/bad.tar" '/v1.41/build'
        [ "${lines[-1]}" = 400 ]
        assert_output_contains "unknown instruction"
        run api_curl -o /dev/null -w '%{http_code}' -X POST --data-binary "@$BATS_TEST_TMPDIR/ctx.tgz" \
                '/v1.41/build?t=Bad:Upper'
        [ "$output" = 400 ]
        run api_curl -o /dev/null -w '%{http_code}' -X POST --data-binary "@$BATS_TEST_TMPDIR/ctx.tgz" \
                '/v1.41/build?buildargs=notjson'
        [ "$output" = 400 ]
        [ -z "$(ls "$BERTH_RUN_DIR/build" 2>/dev/null)" ]
}

@test "build: a context entry escaping the directory is refused; a symlinked Dockerfile stays inside" {
        /usr/bin/python3 - "$BATS_TEST_TMPDIR/evil.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    for name, data in (("Dockerfile", b"FROM busybox\n"), ("../../escaped-api-build", b"x")):
        i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
PY
        run api_curl -w '\n%{http_code}' -X POST --data-binary "@$BATS_TEST_TMPDIR/evil.tar" '/v1.41/build'
        [ "${lines[-1]}" = 400 ]
        [ ! -e "$BERTH_RUN_DIR/escaped-api-build" ]
        [ ! -e "$BERTH_RUN_DIR/build/escaped-api-build" ]
        ln -s /etc/hostname "$CTX/Dockerfile"
        tar -C "$CTX" -cf "$BATS_TEST_TMPDIR/link.tar" Dockerfile
        run api_curl -w '\n%{http_code}' -X POST --data-binary "@$BATS_TEST_TMPDIR/link.tar" '/v1.41/build'
        [ "${lines[-1]}" = 500 ]
        assert_output_contains "Cannot locate specified Dockerfile"
}

@test "build: a client that goes away mid-RUN cancels the build: container killed, context removed" {
        printf 'FROM busybox\nRUN echo started; sleep 60\n' > "$CTX/Dockerfile"
        tar -C "$CTX" -cf "$BATS_TEST_TMPDIR/ctx.tar" Dockerfile
        start=$(date +%s)
        run api_curl --max-time 4 -X POST --data-binary "@$BATS_TEST_TMPDIR/ctx.tar" \
                '/v1.41/build?networkmode=none&t=api-gone'
        assert_output_contains "started"
        for _ in $(seq 50); do
                [ -z "$("$BERTH" ps -aq)" ] && [ -z "$(ls "$BERTH_RUN_DIR/build" 2>/dev/null)" ] && break
                sleep 0.2
        done
        [ -z "$("$BERTH" ps -aq)" ]
        [ -z "$(ls "$BERTH_RUN_DIR/build" 2>/dev/null)" ]
        [ $(( $(date +%s) - start )) -lt 20 ]
        run "$BERTH" images -q api-gone
        [ -z "$output" ]
        # the service still serves
        run api_curl /_ping
        [ "$output" = OK ]
}

@test "build: FROM an image the service lacks pulls it into the stream (dockerd's lines); pull=1; a missing one" {
        command -v docker-registry >/dev/null || skip "needs docker-registry"
        registry_with_busybox ab/base
        printf 'FROM %s/ab/base:1\nCMD ["true"]\n' "$r" >"$CTX/Dockerfile"
        run --separate-stderr env DOCKER_BUILDKIT=0 docker build -t api-frompull "$CTX"
        assert_success
        assert_output_contains "Step 1/2 : FROM $r/ab/base:1"
        assert_output_contains "1: Pulling from ab/base"
        assert_output_contains "Status: Downloaded newer image for $r/ab/base:1"
        assert_output_contains "Successfully tagged api-frompull:latest"
        [ -n "$("$BERTH" images -q "$r/ab/base:1")" ]
        # pull=1 (docker build --pull) pulls the base it has
        run --separate-stderr env DOCKER_BUILDKIT=0 docker build --pull -t api-frompull "$CTX"
        assert_success
        assert_output_contains "1: Pulling from ab/base"
        # a base the registry lacks: the stream ends as dockerd's does, word for word
        printf 'FROM %s/ab/nope:1\n' "$r" >"$CTX/Dockerfile"
        run api_curl -X POST -H 'Content-Type: application/x-tar' \
                --data-binary @<(tar c -C "$CTX" .) "/v1.41/build?t=api-nope"
        mapfile -t lns < <(tr -d '\r' <<<"$output") # the lines end in CRLF, as dockerd's
        [ "${lns[0]}" = "{\"stream\":\"Step 1/1 : FROM $r/ab/nope:1\"}" ]
        [ "${lns[2]}" = "{\"errorDetail\":{\"message\":\"manifest for $r/ab/nope:1 not found: manifest unknown: manifest unknown\"},\"error\":\"manifest for $r/ab/nope:1 not found: manifest unknown: manifest unknown\"}" ]
        run env DOCKER_BUILDKIT=0 docker build -t api-nope "$CTX"
        assert_failure 1
        assert_output_contains "manifest for $r/ab/nope:1 not found: manifest unknown: manifest unknown"
}

@test "build: a base image in a registry that needs a login is pulled with the client's X-Registry-Config" {
        command -v docker-registry >/dev/null || skip "needs docker-registry"
        require_cmd htpasswd
        port=$(free_port)
        start_auth_registry "$BATS_TEST_TMPDIR/reg" "$port"
        r="127.0.0.1:$port"
        # pushed with a login berth then forgets: the service's own file has none
        "$BERTH" tag busybox "$r/priv/base:1"
        BERTH_AUTH_FILE="$BATS_TEST_TMPDIR/pusher.json" "$BERTH" login -u alice -p s3cret "$r" >/dev/null
        BERTH_AUTH_FILE="$BATS_TEST_TMPDIR/pusher.json" "$BERTH" push -q "$r/priv/base:1"
        "$BERTH" rmi "$r/priv/base:1" >/dev/null
        printf 'FROM %s/priv/base:1\nCMD ["true"]\n' "$r" >"$CTX/Dockerfile"
        # without the client's login: the registry's refusal ends the build
        run env DOCKER_BUILDKIT=0 DOCKER_CONFIG="$BATS_TEST_TMPDIR/nologin" docker build -t api-priv "$CTX"
        assert_failure
        # `docker login` through berth's API keeps the credentials on the client, which sends
        # them with the build (X-Registry-Config); the service stores nothing
        export DOCKER_CONFIG="$BATS_TEST_TMPDIR/client"
        mkdir -p "$DOCKER_CONFIG"
        run docker login -u alice -p s3cret "$r"
        assert_success
        run --separate-stderr env DOCKER_BUILDKIT=0 docker build -t api-priv "$CTX"
        assert_success
        assert_output_contains "1: Pulling from priv/base"
        assert_output_contains "Successfully tagged api-priv:latest"
}
