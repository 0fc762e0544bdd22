#!/usr/bin/env bats
# build.bats — `berth build` end to end: a Containerfile's steps run as real containers
# on the busybox base image, COPY/ADD from a context with .dockerignore, multi-stage,
# the layer cache, and failures that leave nothing behind.
load helpers
bats_require_minimum_version 1.5.0

setup_file() {
        berth_busybox_setup_file
        registry_setup_file
}

teardown_file() {
        registry_teardown_file
}

setup() {
        berth_busybox_setup
        CTX="$BATS_TEST_TMPDIR/ctx"
        mkdir -p "$CTX"
}

teardown() {
        berth_rm_all_containers
}

inspect_config() { # IMAGE KEY → the value of .Config.KEY as JSON
        "$BERTH" image inspect "$1" | python3 -c "import json,sys; print(json.dumps(json.load(sys.stdin)[0]['Config'].get('$2')))"
}

@test "build: a multi-step Containerfile makes an image that runs, config included" {
        cat > "$CTX/Containerfile" <<'CF'
# comments and continuations
ARG BASE=busybox
FROM ${BASE}
ENV GREETING="hello world" \
    OTHER=x
RUN echo "$GREETING" > /file && \
    echo ran-in-build
WORKDIR /app
RUN pwd > where
USER nobody
CMD ["cat", "/file"]
CF
        run "$BERTH" build -t built:v1 -t built:v2 "$CTX"
        assert_success
        assert_output_contains "STEP 1/8: ARG BASE=busybox"
        assert_output_contains "STEP 4/8: RUN echo \"\$GREETING\" > /file &&"
        assert_output_contains "ran-in-build"
        assert_output_contains "Successfully tagged built:v1"
        id="${lines[-1]}"
        [ ${#id} -eq 64 ]
        run "$BERTH" images -q --no-trunc built:v2
        assert_output_contains "$id"
        # the intermediate images are not listed (as Docker hides them)
        run "$BERTH" images
        refute_output_contains "<none>"
        [ "${#lines[@]}" -eq 4 ] # header, busybox, built:v1, built:v2
        run "$BERTH" run --rm built:v1
        assert_success
        [ "$output" = "hello world" ]
        run "$BERTH" run --rm built:v1 sh -c 'cat /app/where; id -u; pwd; echo $OTHER'
        [ "$output" = "$(printf '/app\n65534\n/app\nx')" ]
        [ "$(inspect_config built:v1 WorkingDir)" = '"/app"' ]
        [ "$(inspect_config built:v1 User)" = '"nobody"' ]
        [ "$(inspect_config built:v1 Cmd)" = '["cat", "/file"]' ]
        inspect_config built:v1 Env | grep -q 'GREETING=hello world'
        [ -z "$("$BERTH" ps -aq)" ]
}

@test "build: COPY honours .dockerignore, --chown, globs and directories; ADD unpacks tars" {
        mkdir -p "$CTX/sub" "$CTX/skipped" "$CTX/t/d"
        echo keep > "$CTX/sub/k"
        echo no > "$CTX/skipped/x"
        echo back > "$CTX/skipped/back"
        echo secret > "$CTX/secret.txt"
        echo wanted > "$CTX/wanted.txt"
        echo intar > "$CTX/t/d/f"
        tar czf "$CTX/arch.tar.gz" -C "$CTX/t" .
        rm -rf "$CTX/t"
        printf 'skipped\n*.txt\n!wanted.txt\n!skipped/back\n' > "$CTX/.dockerignore"
        cat > "$CTX/Containerfile" <<'CF'
FROM busybox
COPY --chown=nobody:nogroup . /ctx/
COPY *.txt sub/k /multi/
COPY --chmod=0750 sub/k /renamed
ADD arch.tar.gz /x/
CF
        run "$BERTH" build -q -t copied "$CTX"
        assert_success
        [ ${#lines[@]} -eq 1 ]
        run "$BERTH" run --rm copied sh -c 'cd /ctx && find . | sort; stat -c "%u:%g %n" sub/k; stat -c "%a %n" /renamed; cat /renamed; ls /multi; cat /x/d/f'
        assert_success
        refute_output_contains "secret.txt"
        refute_output_contains "skipped/x"
        assert_output_contains "./skipped/back"
        assert_output_contains "./wanted.txt"
        assert_output_contains "./sub/k"
        assert_output_contains "65534:65534 sub/k"
        assert_output_contains "750 /renamed"
        assert_output_contains "keep"
        assert_output_contains "$(printf 'k\nwanted.txt')"
        assert_output_contains "intar"
}

@test "build: multi-stage with COPY --from keeps only what is copied" {
        cat > "$CTX/Containerfile" <<'CF'
FROM busybox AS builder
RUN mkdir /out && echo artifact > /out/a && echo junk > /junk
FROM busybox
COPY --from=builder /out/a /a
CMD ["cat", "/a"]
CF
        run "$BERTH" build -t staged "$CTX"
        assert_success
        run "$BERTH" run --rm staged
        [ "$output" = "artifact" ]
        run "$BERTH" run --rm staged ls /junk
        assert_failure
        # nothing of the first stage's container or its mount stays
        [ -z "$("$BERTH" ps -aq)" ]
        [ -z "$(ls "$BERTH_DATA_DIR/images/snapshots")" ]
}

@test "build: global ARG, --build-arg, stage by index, --target stops after the stage" {
        printf 'ARG V=def\nFROM busybox AS one\nARG V\nRUN echo "one $V" > /o\nFROM busybox AS two\nCOPY --from=0 /o /o\nRUN echo two >> /o\nFROM busybox\nRUN echo three-ran\n' > "$CTX/Containerfile"
        run "$BERTH" build --target two --build-arg V=given -t target "$CTX"
        assert_success
        refute_output_contains "three-ran"
        run "$BERTH" run --rm target cat /o
        [ "$output" = "$(printf 'one given\ntwo')" ]
        run "$BERTH" build -q -t target "$CTX"
        assert_success
        run "$BERTH" run --rm target cat /o
        assert_failure
        # -f - reads the Containerfile from stdin; --iidfile gets the ID
        run bash -c "printf 'FROM busybox\nENV FROM_STDIN=1\n' | '$BERTH' build -q -f - --iidfile '$BATS_TEST_TMPDIR/iid' '$CTX'"
        assert_success
        [ "$(cat "$BATS_TEST_TMPDIR/iid")" = "sha256:${lines[-1]}" ]
}

@test "build: a rebuild with nothing changed hits the cache: same ID, no new blob, fast" {
        echo data > "$CTX/f"
        cat > "$CTX/Containerfile" <<'CF'
FROM busybox
RUN echo one > /one
COPY f /f
ENV A=1
CF
        run "$BERTH" build -q -t cached "$CTX"
        assert_success
        first="$output"
        blobs=$(ls "$BERTH_DATA_DIR/images/blobs/sha256" | wc -l)
        images=$("$BERTH" images -q | wc -l)
        start=$(date +%s%N)
        run "$BERTH" build -t cached "$CTX"
        end=$(date +%s%N)
        assert_success
        assert_output_contains "Using cache"
        [ "${lines[-1]}" = "$first" ]
        [ "$(ls "$BERTH_DATA_DIR/images/blobs/sha256" | wc -l)" -eq "$blobs" ]
        [ "$("$BERTH" images -q | wc -l)" -eq "$images" ]
        echo "rebuild took $(( (end - start) / 1000000 )) ms"
        [ $(( (end - start) / 1000000 )) -lt 1000 ]
        # removing another image keeps the cache; `image prune` empties it
        "$BERTH" tag busybox doomed
        "$BERTH" rmi doomed >/dev/null
        run "$BERTH" build -q -t cached "$CTX"
        [ "$output" = "$first" ]
        # a changed file misses from the COPY on, and the RUN before it still hits
        echo changed > "$CTX/f"
        run "$BERTH" build -t cached "$CTX"
        assert_success
        [ "${lines[-1]}" != "$first" ]
        run "$BERTH" run --rm cached cat /f
        [ "$output" = "changed" ]
        second="$("$BERTH" build -q -t cached "$CTX")"
        "$BERTH" image prune -f >/dev/null
        [ -z "$(ls "$BERTH_DATA_DIR/images/build-cache")" ]
        run "$BERTH" build -t cached "$CTX"
        assert_success
        refute_output_contains "Using cache"
        [ "${lines[-1]}" != "$second" ]
        # `builder prune` empties it too, asking first as docker's does
        [ -n "$(ls "$BERTH_DATA_DIR/images/build-cache")" ]
        run "$BERTH" builder prune <<<"n"
        assert_success
        assert_output_contains "WARNING! This will remove all dangling build cache. Are you sure you want to continue? [y/N]"
        [ -n "$(ls "$BERTH_DATA_DIR/images/build-cache")" ]
        run "$BERTH" builder prune -f
        assert_success
        assert_output_contains "Deleted build cache objects:"
        [[ "${lines[-1]}" =~ ^Total\ reclaimed\ space:\ [0-9.]+[kMG]?B$ ]]
        [ -z "$(ls "$BERTH_DATA_DIR/images/build-cache")" ]
        run "$BERTH" builder prune -f
        [ "$output" = "Total reclaimed space: 0B" ]
        run "$BERTH" build -t cached "$CTX"
        refute_output_contains "Using cache"
}

@test "build: a failing RUN names the command and its code and leaves nothing behind" {
        printf 'FROM busybox\nRUN echo before\nRUN exit 3\nRUN echo never\n' > "$CTX/Containerfile"
        run "$BERTH" build -t failed "$CTX"
        [ "$status" -eq 1 ]
        assert_output_contains "before"
        assert_output_contains "STEP 3/4: RUN exit 3"
        # Docker's classic builder's words, alone on the line, after the step that failed
        [ "${lines[-1]}" = "The command '/bin/sh -c exit 3' returned a non-zero code: 3" ]
        run --separate-stderr "$BERTH" build -t failed "$CTX"
        [ "$status" -eq 1 ]
        [ "$stderr" = "The command '/bin/sh -c exit 3' returned a non-zero code: 3" ]
        refute_output_contains "never"
        [ -z "$("$BERTH" ps -aq)" ]
        run "$BERTH" images -q failed
        [ -z "$output" ]
        [ -z "$(ls "$BERTH_DATA_DIR/images/tmp")" ]
        [ -z "$(ls "$BERTH_DATA_DIR/images/snapshots")" ]
}

@test "build: a build stopped by a signal during RUN kills the command and cleans up" {
        printf 'FROM busybox\nRUN echo started; sleep 60\n' > "$CTX/Containerfile"
        "$BERTH" build -t stopped "$CTX" > "$BATS_TEST_TMPDIR/out" 2>&1 &
        pid=$!
        for _ in $(seq 50); do grep -q started "$BATS_TEST_TMPDIR/out" && break; sleep 0.2; done
        start=$(date +%s)
        kill -TERM "$pid"
        rc=0
        wait "$pid" || rc=$?
        [ "$rc" -eq 143 ]
        [ $(( $(date +%s) - start )) -lt 10 ]
        grep -q interrupted "$BATS_TEST_TMPDIR/out"
        [ -z "$("$BERTH" ps -aq)" ]
        [ -z "$(ls "$BERTH_DATA_DIR/images/snapshots")" ]
        run "$BERTH" images -q stopped
        [ -z "$output" ]
}

@test "build: bad Containerfiles fail with 125 and the line" {
        printf 'FROM busybox\n\nFOO bar\n' > "$CTX/Containerfile"
        run "$BERTH" build "$CTX"
        [ "$status" -eq 125 ]
        assert_output_contains "line 3: unknown instruction: FOO"
        printf 'RUN true\n' > "$CTX/Containerfile"
        run "$BERTH" build "$CTX"
        [ "$status" -eq 125 ]
        assert_output_contains "line 1: RUN before the first FROM"
        printf 'FROM busybox\nCOPY ../../etc/passwd /\n' > "$CTX/Containerfile"
        run "$BERTH" build "$CTX"
        [ "$status" -eq 125 ]
        assert_output_contains "forbidden path outside the build context"
        ln -s /etc "$CTX/hostetc"
        printf 'FROM busybox\nCOPY hostetc/shadow /\n' > "$CTX/Containerfile"
        run "$BERTH" build "$CTX"
        [ "$status" -eq 125 ]
        [ -z "$(ls "$BERTH_DATA_DIR/images/tmp")" ]
        # a name that is no reference cannot be pulled (a missing one is, as by Docker; tests
        # name only registries on loopback: here, one that does not answer)
        printf 'FROM No_Such_Image\n' > "$CTX/Containerfile"
        run "$BERTH" build "$CTX"
        [ "$status" -eq 125 ]
        assert_output_contains "Containerfile:1: FROM: No_Such_Image: image not known"
        printf 'FROM 127.0.0.1:1/no-such-image\n' > "$CTX/Containerfile"
        run "$BERTH" build "$CTX"
        [ "$status" -eq 1 ]
        assert_output_contains "Containerfile:1: FROM: "
        assert_output_contains "127.0.0.1:1"
        [ -z "$("$BERTH" ps -aq)" ]
}

@test "build -: a Containerfile on stdin builds with a context holding only it" {
        printf 'FROM busybox\nCOPY Dockerfile /df\nRUN echo from-stdin > /x\nCMD ["cat", "/x"]\n' |
                "$BERTH" build -t stdin:one - > "$BATS_TEST_TMPDIR/out"
        grep -q "STEP 3/4: RUN echo from-stdin" "$BATS_TEST_TMPDIR/out"
        run "$BERTH" run --rm stdin:one
        assert_success
        [ "$output" = "from-stdin" ]
        # the context is the Containerfile alone, as `docker build - < Dockerfile` sends it
        run "$BERTH" run --rm stdin:one cat /df
        assert_output_contains "COPY Dockerfile /df"
        run bash -c "printf 'FROM busybox\nCOPY f /f\n' | '$BERTH' build -"
        assert_failure
        assert_output_contains "Dockerfile:2: COPY: \`f\`: no such file or directory in the build context"
        # a Containerfile on stdin and -f: which one? (the docker CLI refuses too)
        run bash -c "printf 'FROM busybox\n' | '$BERTH' build -f Other -"
        [ "$status" -eq 1 ]
        assert_output_contains "ambiguous Dockerfile source: both stdin and flag correspond to Dockerfiles"
        # -f - with a context directory still reads only the Containerfile from stdin
        echo in-dir > "$CTX/f"
        run bash -c "printf 'FROM busybox\nCOPY f /f\n' | '$BERTH' build -q -t stdin:two -f - '$CTX'"
        assert_success
        run "$BERTH" run --rm stdin:two cat /f
        [ "$output" = "in-dir" ]
        # nothing of the contexts made from stdin stays
        [ -z "$(ls -A "$BERTH_RUN_DIR/build" 2>/dev/null)" ]
        [ -z "$("$BERTH" ps -aq)" ]
}

@test "build -: a tar context on stdin (plain, gzip, bzip2, xz, zstd), piped or redirected" {
        mkdir -p "$CTX/sub"
        echo payload > "$CTX/f"
        printf 'FROM busybox\nCOPY f /f\nCMD ["cat", "/f"]\n' > "$CTX/Dockerfile"
        printf 'FROM busybox\nCOPY f /g\n' > "$CTX/sub/Other"
        tar cf "$BATS_TEST_TMPDIR/c.tar" -C "$CTX" .
        gzip -c "$BATS_TEST_TMPDIR/c.tar" > "$BATS_TEST_TMPDIR/c.tar.gz"
        bzip2 -c "$BATS_TEST_TMPDIR/c.tar" > "$BATS_TEST_TMPDIR/c.tar.bz2"
        xz -c "$BATS_TEST_TMPDIR/c.tar" > "$BATS_TEST_TMPDIR/c.tar.xz"
        local kinds=(tar tar.gz tar.bz2 tar.xz)
        if command -v zstd >/dev/null; then
                zstd -q -c "$BATS_TEST_TMPDIR/c.tar" > "$BATS_TEST_TMPDIR/c.tar.zst"
                kinds+=(tar.zst)
        else
                echo "# zstd not installed: the zstd context is not tried" >&3
        fi
        local first=""
        for k in "${kinds[@]}"; do
                run "$BERTH" build -q -t "tarctx:${k//./-}" - < "$BATS_TEST_TMPDIR/c.$k"
                assert_success
                [ -n "$first" ] || first="$output"
                # the same context makes the same image, however it was compressed
                [ "$output" = "$first" ]
                run bash -c "cat '$BATS_TEST_TMPDIR/c.$k' | '$BERTH' build -q -"
                assert_success
                [ "$output" = "$first" ]
        done
        run "$BERTH" run --rm tarctx:tar-gz
        [ "$output" = "payload" ]
        # -f names the Containerfile inside the tar
        run "$BERTH" build -q -t tarctx:other -f sub/Other - < "$BATS_TEST_TMPDIR/c.tar.gz"
        assert_success
        run "$BERTH" run --rm tarctx:other cat /g
        [ "$output" = "payload" ]
        run "$BERTH" build -f nope - < "$BATS_TEST_TMPDIR/c.tar"
        assert_failure
        assert_output_contains "Cannot locate specified Dockerfile: nope"
        # stdin can't be both, as docker says
        run bash -c "'$BERTH' build -f - - < '$BATS_TEST_TMPDIR/c.tar'"
        [ "$status" -eq 1 ]
        assert_output_contains "invalid argument: can't use stdin for both build context and dockerfile"
        [ -z "$(ls -A "$BERTH_RUN_DIR/build" 2>/dev/null)" ]
        [ -z "$(ls "$BERTH_DATA_DIR/images/tmp")" ]
}

@test "build: FROM an image the store lacks pulls it (a local registry); --pull pulls again; a missing one is dockerd's words, exit 1" {
        command -v docker-registry >/dev/null || skip "needs docker-registry"
        registry_with_busybox b/base
        id=$("$BERTH" image inspect -f '{{.Id}}' busybox)
        printf 'FROM %s/b/base:1\nRUN echo pulled > /f\n' "$r" >"$CTX/Containerfile"
        run "$BERTH" build -t frompull "$CTX"
        assert_success
        assert_output_contains "1: Pulling from b/base"
        assert_output_contains "Status: Downloaded newer image for $r/b/base:1"
        # the base is now in the store, named, and the build ran on it
        [ "$("$BERTH" image inspect -f '{{.Id}}' "$r/b/base:1")" = "$id" ]
        run "$BERTH" run --rm frompull cat /f
        [ "$output" = pulled ]
        # with the base there, no pull; with --pull, one
        run "$BERTH" build -t frompull "$CTX"
        refute_output_contains "Pulling from"
        run "$BERTH" build --pull -t frompull "$CTX"
        assert_success
        assert_output_contains "1: Pulling from b/base"
        assert_output_contains "Status: Image is up to date for $r/b/base:1"
        # a base the registry lacks
        printf 'FROM %s/b/nope\n' "$r" >"$CTX/Containerfile"
        run "$BERTH" build -t nope "$CTX"
        assert_failure 1
        assert_output_contains "manifest for $r/b/nope:latest not found: manifest unknown: manifest unknown"
        run "$BERTH" images -q nope
        [ -z "$output" ]
}
