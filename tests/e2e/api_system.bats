#!/usr/bin/env bats
# api_system.bats — the Engine API's info, system/df, auth, stats, export and archive (cp)
# endpoints, driven by the docker CLI (`dk`), docker-py and curl against `berth system
# service` on a private socket and private state.
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
        api_teardown
}

@test "api info: docker info prints berth's counts; -f reads ServerVersion" {
        "$BERTH" create --name si-created --network none busybox true >/dev/null
        "$BERTH" run -d --name si-run --network none busybox sleep 1000 >/dev/null
        run dk info
        assert_success
        [[ "$output" != *"rror"* ]]
        assert_output_contains " Containers: 2"
        assert_output_contains "  Running: 1"
        assert_output_contains "  Stopped: 1"
        assert_output_contains " Images: 1"
        assert_output_contains "Logging Driver: json-file"
        version=$(api_curl /v1.41/version | jq -r .Version)
        [ -n "$version" ]
        run dk info -f '{{.ServerVersion}} {{.ContainersRunning}} {{.Swarm.LocalNodeState}}'
        assert_success
        [ "$output" = "$version 1 inactive" ]
        run api_curl /v1.41/info
        echo "$output" | jq -e '.OSType == "linux" and .LoggingDriver == "json-file" and
                (.SecurityOptions | index("name=seccomp,profile=default")) != null and
                .NCPU > 0 and .MemTotal > 0 and (.ID | test("^[A-Z2-7]{4}(:[A-Z2-7]{4}){11}$"))'
}

@test "api system df: the docker CLI's table and -v; docker-py info() and df()" {
        "$BERTH" run --name sd-done --network none busybox sh -c 'head -c 100000 /dev/zero > /f'
        "$BERTH" volume create sd-vol >/dev/null
        run dk system df
        assert_success
        [[ "${lines[0]}" == TYPE*TOTAL*ACTIVE*SIZE*RECLAIMABLE ]]
        [[ "$output" =~ Images\ +1\ +1 ]]
        # an image in use reclaims nothing (never a negative size)
        [[ "$output" =~ Images\ +1\ +1\ +[0-9.]+[kM]?B\ +0B\ \(0%\) ]]
        [[ "$output" =~ Containers\ +1\ +0 ]]
        [[ "$output" =~ Local\ Volumes\ +1\ +0 ]]
        run dk system df -v
        assert_success
        assert_output_contains "sd-done"
        assert_output_contains "sd-vol"
        assert_output_contains "busybox"
        run api_curl /v1.41/system/df
        echo "$output" | jq -e '.LayersSize > 0 and .Containers[0].SizeRw >= 100000 and
                .Images[0].Containers == 1 and .BuildCache == []'
        run /usr/bin/python3 -c "
import docker
c = docker.DockerClient(base_url='unix://$API_SOCK')
i = c.info()
d = c.df()
print(i['Containers'], i['Images'], len(d['Images']), len(d['Containers']), len(d['Volumes']))
"
        assert_success
        [ "$output" = "1 1 1 1 1" ]
        "$BERTH" volume rm sd-vol >/dev/null
}

@test "api stats: docker stats --no-stream shows sane CPU and memory; stream=1 and one-shot" {
        "$BERTH" run -d --name st-busy --network none --memory 64m busybox \
                sh -c 'while :; do :; done' >/dev/null
        run dk stats --no-stream --format '{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.PIDs}}' st-busy
        assert_success
        echo "$output"
        [[ "$output" == "st-busy|"*"|"*" / 64MiB|1" ]]
        cpu=$(echo "$output" | cut -d'|' -f2)
        cpu=${cpu%%.*}
        [ "$cpu" -ge 20 ]
        # the raw object: dockerd's fields, a previous reading a second before
        run api_curl "/v1.41/containers/st-busy/stats?stream=0"
        echo "$output" | jq -e '.name == "/st-busy" and .cpu_stats.online_cpus > 0 and
                .cpu_stats.cpu_usage.total_usage > .precpu_stats.cpu_usage.total_usage and
                .memory_stats.limit == 67108864 and .pids_stats.current == 1 and
                (.networks == null) and (.memory_stats.stats | length) > 0'
        run api_curl "/v1.41/containers/st-busy/stats?stream=0&one-shot=1"
        echo "$output" | jq -e '.preread == "0001-01-01T00:00:00Z"'
        run timeout 3.5 curl -s -N --unix-socket "$API_SOCK" \
                "http://d/v1.41/containers/st-busy/stats?stream=1"
        [ "$(echo "$output" | jq -s 'length')" -ge 2 ]
        run api_curl -o /dev/null -w '%{http_code}' /v1.41/containers/st-nosuch/stats?stream=0
        [ "$output" = 404 ]
}

@test "api export: docker export streams the container's filesystem" {
        "$BERTH" run --name ex-c --network none busybox sh -c 'echo x > /marker'
        run bash -c "docker export ex-c | tar t"
        assert_success
        assert_output_contains "bin/busybox"
        assert_output_contains "marker"
        run bash -c "docker export -o '$BATS_TEST_TMPDIR/ex.tar' ex-c && tar tf '$BATS_TEST_TMPDIR/ex.tar' | grep -c marker"
        [ "$output" = 1 ]
        run dk export nosuch-ex
        assert_failure
        assert_output_contains "No such container"
}

@test "api archive: docker cp in and out, files and directories; a missing path fails as dockerd" {
        "$BERTH" run -d --name cp-c --network none busybox sh -c \
                'mkdir -p /d/sub; echo a > /d/a; echo b > /d/sub/b; ln -s /d/a /d/link; exec sleep 1000' >/dev/null
        sleep 0.3
        cd "$BATS_TEST_TMPDIR"
        # out: a file, a directory
        dk cp cp-c:/d/a ./a.out
        [ "$(cat a.out)" = a ]
        dk cp cp-c:/d ./dcopy
        [ "$(cat dcopy/a)" = a ] && [ "$(cat dcopy/sub/b)" = b ]
        [ "$(readlink dcopy/link)" = /d/a ]
        # in: a file to a new name, a file into a directory, a directory
        echo host > h
        dk cp h cp-c:/tmp/h2
        [ "$("$BERTH" exec cp-c cat /tmp/h2)" = host ]
        dk cp h cp-c:/d/
        [ "$("$BERTH" exec cp-c cat /d/h)" = host ]
        mkdir -p hd/in && echo deep > hd/in/f
        dk cp hd cp-c:/tmp/
        [ "$("$BERTH" exec cp-c cat /tmp/hd/in/f)" = deep ]
        # the stat header (HEAD), and dockerd's 404 for a missing path
        run api_curl -I "/v1.41/containers/cp-c/archive?path=/d/a"
        assert_output_contains "X-Docker-Container-Path-Stat"
        hdr=$(echo "$output" | tr -d '\r' | sed -n 's/^X-Docker-Container-Path-Stat: //Ip')
        echo "$hdr" | base64 -d | jq -e '.name == "a" and .size == 2 and .mode == 420'
        run dk cp cp-c:/nope ./x
        assert_failure 1
        assert_output_contains "Could not find the file /nope in container cp-c"
        # a directory may not replace a file (noOverwriteDirNonDir)
        mkdir -p clash/a
        run dk cp clash/a cp-c:/d/
        assert_failure
        [ "$("$BERTH" exec cp-c cat /d/a)" = a ]
        # entries leaving the destination are refused
        python3 -c "
import tarfile, io
t = tarfile.open('evil.tar', 'w')
i = tarfile.TarInfo('../../evil'); i.size = 1
t.addfile(i, io.BytesIO(b'x')); t.close()"
        run api_curl -o /dev/null -w '%{http_code}' -X PUT --data-binary @evil.tar \
                "/v1.41/containers/cp-c/archive?path=/tmp"
        [ "$output" != 200 ]
        run "$BERTH" exec cp-c ls /evil
        assert_failure
}

@test "api archive: docker cp into a created container lands in its filesystem" {
        "$BERTH" create --name cp-new --network none busybox cat /tmp/in >/dev/null
        echo created > "$BATS_TEST_TMPDIR/in"
        dk cp "$BATS_TEST_TMPDIR/in" cp-new:/tmp/in
        run "$BERTH" start -a cp-new
        assert_success
        [ "$output" = created ]
}

@test "api auth: docker login against a local registry with htpasswd basic auth" {
        require_cmd docker-registry htpasswd
        d="$BATS_TEST_TMPDIR/reg"
        mkdir -p "$d/data"
        htpasswd -Bbn alice s3cret >"$d/htpasswd"
        port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
        cat >"$d/config.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $d/data
http:
  addr: 127.0.0.1:$port
auth:
  htpasswd:
    realm: berth-test
    path: $d/htpasswd
YAML
        docker-registry serve "$d/config.yml" >"$d/log" 2>&1 &
        regpid=$!
        for i in $(seq 50); do
                curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break
                sleep 0.1
        done
        run dk login -u alice -p wrong "127.0.0.1:$port"
        assert_failure
        assert_output_contains "401 Unauthorized"
        run dk login -u alice -p s3cret "127.0.0.1:$port"
        assert_success
        assert_output_contains "Login Succeeded"
        # nothing stored by the service: the CLI keeps the credentials
        [ ! -e "$BERTH_DATA_DIR/auth.json" ] || ! grep -q "127.0.0.1:$port" "$BERTH_DATA_DIR/auth.json"
        kill "$regpid"
}
