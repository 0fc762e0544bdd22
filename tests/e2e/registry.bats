#!/usr/bin/env bats
# registry.bats — the registry client against Debian's docker-registry started here on
# 127.0.0.1 (plain, htpasswd basic auth, TLS from a CA made here), with skopeo as an
# independent client, and a fault-injecting proxy for errors mid-transfer.
load helpers

setup_file() {
        berth_private_state
        export BB_TAR="$BATS_FILE_TMPDIR/busybox-rootfs.tar"
        [ -x /bin/busybox ] && "$BERTH_TOP/scripts/mkimage-busybox" --tar "$BB_TAR"
        registry_setup_file
}

teardown_file() {
        registry_teardown_file
}

setup() {
        require_cmd docker-registry
        [ -s "$BB_TAR" ] || skip "needs busybox-static"
        export BERTH_DATA_DIR="$BATS_TEST_TMPDIR/data"
        export BERTH_AUTH_FILE="$BATS_TEST_TMPDIR/auth.json"
        mkdir -p "$BERTH_DATA_DIR"
}

import_busybox() {
        "$BERTH" import -c 'CMD ["sh"]' "$BB_TAR" "$1" >/dev/null
}

@test "registry: push, rmi, pull round-trips with identical digests; skopeo both ways" {
        require_cmd skopeo
        port=$(free_port)
        start_registry "$BATS_TEST_TMPDIR/reg" "$port"
        r="127.0.0.1:$port"
        import_busybox "$r/test/bb:1"
        id=$("$BERTH" images -q --no-trunc)
        digest=$("$BERTH" images --format '{{.Digest}}')
        run "$BERTH" push "$r/test/bb:1"
        assert_success
        assert_output_contains "Pushed"
        assert_output_contains "1: digest: $digest"
        # a second push sends no blob
        run "$BERTH" push "$r/test/bb:1"
        assert_success
        assert_output_contains "Layer already exists"
        refute_output_contains "Pushed"
        # another repository on the same registry: blobs are mounted, not uploaded
        "$BERTH" tag "$r/test/bb:1" "$r/other/bb:1"
        run "$BERTH" push "$r/other/bb:1"
        assert_success
        assert_output_contains "Mounted from test/bb"
        refute_output_contains "Pushed"
        "$BERTH" rmi "$r/other/bb:1"
        "$BERTH" rmi "$r/test/bb:1"
        run "$BERTH" pull "$r/test/bb:1"
        assert_success
        assert_output_contains "Digest: $digest"
        [ "$("$BERTH" images -q --no-trunc)" = "$id" ]
        [ "$("$BERTH" images --format '{{.Digest}}')" = "$digest" ]
        # skopeo (an independent client) copies what we pushed ...
        run skopeo inspect --tls-verify=false "docker://$r/test/bb:1"
        assert_success
        [ "$(echo "$output" | jq -r .Digest)" = "$digest" ]
        # ... and pushes (gzip-recompressed) what we then pull
        run skopeo copy --src-tls-verify=false --dest-tls-verify=false --dest-compress \
                --dest-compress-format gzip "docker://$r/test/bb:1" "docker://$r/skopeo/gz:2"
        assert_success
        run "$BERTH" pull "$r/skopeo/gz:2"
        assert_success
        run "$BERTH" image inspect -f '{{.Id}}' "$r/skopeo/gz:2"
        [ "$output" = "$id" ]
        # by digest
        gzd=$(skopeo inspect --tls-verify=false "docker://$r/skopeo/gz:2" | jq -r .Digest)
        "$BERTH" rmi -f "$id" >/dev/null
        run "$BERTH" pull "$r/skopeo/gz@$gzd"
        assert_success
        run "$BERTH" images --format '{{.Digest}}'
        [ "$output" = "$gzd" ]
}

@test "registry: unknown image and unknown tag give a clear error and exit 1" {
        port=$(free_port)
        start_registry "$BATS_TEST_TMPDIR/reg" "$port"
        run "$BERTH" pull "127.0.0.1:$port/no/such:thing"
        assert_failure 1
        assert_output_contains "HTTP 404"
        assert_output_contains "MANIFEST_UNKNOWN"
        run "$BERTH" push "127.0.0.1:$port/not/local:1"
        assert_failure 1
        assert_output_contains "No such image"
        [ -z "$(ls "$BERTH_DATA_DIR/images/tmp")" ]
}

@test "registry: htpasswd basic auth: 401 without login, login/logout, push and pull" {
        require_cmd htpasswd
        port=$(free_port)
        start_auth_registry "$BATS_TEST_TMPDIR/reg" "$port"
        r="127.0.0.1:$port"
        import_busybox "$r/priv/bb:1"
        run "$BERTH" push "$r/priv/bb:1"
        assert_failure 1
        assert_output_contains "requires a login"
        run "$BERTH" login -u alice -p wrong "$r"
        assert_failure 1
        assert_output_contains "login to $r failed"
        run bash -c "echo s3cret | '$BERTH' login -u alice --password-stdin '$r'"
        assert_success
        assert_output_contains "Login Succeeded"
        [ "$(stat -c %a "$BERTH_AUTH_FILE")" = 600 ]
        run "$BERTH" push "$r/priv/bb:1"
        assert_success
        "$BERTH" rmi "$r/priv/bb:1"
        run "$BERTH" pull "$r/priv/bb:1"
        assert_success
        run "$BERTH" logout "$r"
        assert_success
        run "$BERTH" pull "$r/priv/bb:1"
        assert_failure 1
        run "$BERTH" logout "$r"
        assert_failure 1
}

@test "registry: TLS with a CA made here: refused without it, works with --cert-dir" {
        require_cmd openssl
        port=$(free_port)
        d="$BATS_TEST_TMPDIR/reg"
        c="$BATS_TEST_TMPDIR/certs"
        mkdir -p "$d" "$c"
        openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=berth test CA" \
                -keyout "$c/ca.key" -out "$c/ca.crt" 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout "$d/server.key" \
                -out "$d/server.csr" 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1\n' >"$d/ext"
        openssl x509 -req -in "$d/server.csr" -CA "$c/ca.crt" -CAkey "$c/ca.key" \
                -CAcreateserial -days 2 -extfile "$d/ext" -out "$d/server.crt" 2>/dev/null
        start_registry "$d" "$port" "  tls:
    certificate: $d/server.crt
    key: $d/server.key"
        r="127.0.0.1:$port"
        import_busybox "$r/tls/bb:1"
        run "$BERTH" push --tls-verify=true "$r/tls/bb:1"
        assert_failure
        assert_output_contains "certificate"
        run "$BERTH" push --tls-verify=true --cert-dir "$c" "$r/tls/bb:1"
        assert_success
        "$BERTH" rmi "$r/tls/bb:1"
        run "$BERTH" pull --tls-verify --cert-dir "$c" "$r/tls/bb:1"
        assert_success
}

start_proxy() {
        local port="$1" upstream="$2" mode="$3" i
        python3 "$BERTH_TOP/tests/e2e/lib/flaky-proxy.py" "$port" "$upstream" "$mode" \
                2>>"$BATS_TEST_TMPDIR/proxy.log" &
        echo $! >>"$REG_PIDS"
        for i in $(seq 1 50); do
                curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && return 0
                sleep 0.1
        done
        return 1
}

# A registry on $port and the fault-injecting proxy in front of it on $pport.
registry_behind_proxy() {
        port=$(free_port)
        start_registry "$BATS_TEST_TMPDIR/reg" "$port"
        pport=$(free_port)
        start_proxy "$pport" "$port" "$1"
}

@test "registry: 500s and a connection dropped mid-blob are retried; pull and push succeed" {
        registry_behind_proxy flaky
        p="127.0.0.1:$pport"
        import_busybox "$p/flaky/bb:1"
        digest=$("$BERTH" images --format '{{.Digest}}')
        run "$BERTH" push "$p/flaky/bb:1"
        assert_success
        assert_output_contains "retrying"
        "$BERTH" rmi "$p/flaky/bb:1"
        run "$BERTH" pull "$p/flaky/bb:1"
        assert_success
        assert_output_contains "retrying"
        [ "$("$BERTH" images --format '{{.Digest}}')" = "$digest" ]
        [ -z "$(ls "$BERTH_DATA_DIR/images/tmp")" ]
}

@test "registry: a blob that always breaks off fails cleanly; the store stays consistent" {
        registry_behind_proxy drop
        import_busybox "127.0.0.1:$port/drop/bb:1"
        "$BERTH" push -q "127.0.0.1:$port/drop/bb:1"
        "$BERTH" rmi "127.0.0.1:$port/drop/bb:1" >/dev/null
        [ -z "$(ls "$BERTH_DATA_DIR/images/blobs/sha256")" ]
        run "$BERTH" pull "127.0.0.1:$pport/drop/bb:1"
        assert_failure
        assert_output_contains "after 4 attempts"
        # nothing partial is visible, nothing is named
        [ -z "$(ls "$BERTH_DATA_DIR/images/tmp")" ]
        run "$BERTH" images -q
        [ -z "$output" ]
        for b in "$BERTH_DATA_DIR"/images/blobs/sha256/*; do
                [ -e "$b" ] || continue
                [ "$(sha256sum "$b" | cut -d' ' -f1)" = "$(basename "$b")" ]
        done
        # and a retry straight from the registry succeeds
        run "$BERTH" pull "127.0.0.1:$port/drop/bb:1"
        assert_success
}

@test "registry: chunked uploads (PATCH) when a blob is larger than the chunk size" {
        require_cmd skopeo
        registry_behind_proxy pass
        p="127.0.0.1:$pport"
        import_busybox "$p/chunked/bb:1"
        digest=$("$BERTH" images --format '{{.Digest}}')
        BERTH_PUSH_CHUNK_SIZE=500000 run "$BERTH" push "$p/chunked/bb:1"
        assert_success
        # the ~2 MB layer went in 500 kB pieces
        [ "$(grep -c '^PATCH ' "$BATS_TEST_TMPDIR/proxy.log")" -ge 4 ]
        run skopeo inspect --tls-verify=false "docker://127.0.0.1:$port/chunked/bb:1"
        assert_success
        [ "$(echo "$output" | jq -r .Digest)" = "$digest" ]
        "$BERTH" rmi "$p/chunked/bb:1"
        run "$BERTH" pull "127.0.0.1:$port/chunked/bb:1"
        assert_success
        [ "$("$BERTH" images --format '{{.Digest}}')" = "$digest" ]
}

@test "registry: bearer tokens from the realm a 401 names" {
        registry_behind_proxy bearer
        p="127.0.0.1:$pport"
        import_busybox "$p/tok/bb:1"
        run "$BERTH" push "$p/tok/bb:1"
        assert_failure 1
        assert_output_contains "token request refused (HTTP 401)"
        "$BERTH" login -u alice -p s3cret "$p"
        run "$BERTH" push "$p/tok/bb:1"
        assert_success
        "$BERTH" rmi "$p/tok/bb:1"
        run "$BERTH" pull "$p/tok/bb:1"
        assert_success
        [ "$(grep -c '^GET /token' "$BATS_TEST_TMPDIR/proxy.log")" -ge 2 ]
}

@test "registry: a blob whose content does not match its digest is refused, not stored" {
        registry_behind_proxy corrupt
        import_busybox "127.0.0.1:$port/bad/bb:1"
        "$BERTH" push -q "127.0.0.1:$port/bad/bb:1"
        "$BERTH" rmi "127.0.0.1:$port/bad/bb:1" >/dev/null
        run "$BERTH" pull "127.0.0.1:$pport/bad/bb:1"
        assert_failure
        assert_output_contains "digest mismatch"
        run "$BERTH" images -q
        [ -z "$output" ]
        [ -z "$(ls "$BERTH_DATA_DIR/images/tmp")" ]
        [ -z "$(ls "$BERTH_DATA_DIR/images/blobs/sha256")" ]
}

@test "registry: an image index (manifest list) resolves to this host's platform, or --platform's" {
        require_cmd skopeo
        port=$(free_port)
        start_registry "$BATS_TEST_TMPDIR/reg" "$port"
        r="127.0.0.1:$port"
        import_busybox idx:1
        id=$("$BERTH" images -q --no-trunc)
        "$BERTH" save --format oci-dir -o "$BATS_TEST_TMPDIR/oci" idx:1
        # wrap the image in an index: arm64 first (the same layers, a config that says arm64),
        # then amd64
        python3 "$BERTH_TOP/tests/e2e/lib/oci-index.py" "$BATS_TEST_TMPDIR/oci" multi \
                linux/arm64/v8 linux/amd64
        run skopeo copy --all --dest-tls-verify=false "oci:$BATS_TEST_TMPDIR/oci:multi" "docker://$r/idx/multi:1"
        assert_success
        "$BERTH" rmi idx:1 >/dev/null
        run "$BERTH" pull "$r/idx/multi:1"
        assert_success
        run "$BERTH" image inspect -f '{{.Id}} {{.Architecture}}' "$r/idx/multi:1"
        [ "$output" = "$id amd64" ]
        # --platform picks another entry (its variant may be left out), with dockerd's words
        # for one the index lacks and containerd's for one that is no platform
        run "$BERTH" pull --platform linux/arm64 "$r/idx/multi:1"
        assert_success
        run "$BERTH" image inspect -f '{{.Architecture}}' "$r/idx/multi:1"
        [ "$output" = arm64 ]
        run "$BERTH" pull --platform linux/s390x "$r/idx/multi:1"
        assert_failure 1
        assert_output_contains "no matching manifest for linux/s390x in the manifest list entries"
        run "$BERTH" pull --platform nonsense "$r/idx/multi:1"
        assert_failure 1
        assert_output_contains '"nonsense": unknown operating system or architecture: invalid argument'
        run "$BERTH" pull --platform linux/amd64 "$r/idx/multi:1"
        assert_success
        run "$BERTH" image inspect -f '{{.Id}} {{.Architecture}}' "$r/idx/multi:1"
        [ "$output" = "$id amd64" ]
        "$BERTH" image prune -f >/dev/null # the arm64 image, untagged by the last pull
        # and the same index in an OCI layout loads too
        "$BERTH" rmi -f "$id" >/dev/null
        run "$BERTH" load -i "$BATS_TEST_TMPDIR/oci"
        assert_success
        run "$BERTH" images -q --no-trunc
        [ "$output" = "$id" ]
}

# The most layer transfers the slow proxy held at once since its log was last emptied.
most_at_once() {
        sed -n 's/^layers at once \([0-9]*\).*/\1/p' "$BATS_TEST_TMPDIR/proxy.log" | sort -n | tail -1
}

@test "registry: layers upload five at once and download three at once (dockerd's limits), the rest wait; extraction in order" {
        registry_behind_proxy slow
        p="127.0.0.1:$pport"
        import_busybox base:1
        ctx="$BATS_TEST_TMPDIR/ctx"
        mkdir -p "$ctx"
        printf 'FROM base:1\n' >"$ctx/Containerfile"
        for i in 1 2 3 4 5; do
                # incompressible, so that each layer blob is well over the proxy's 16 KiB
                head -c 65536 /dev/urandom >"$ctx/f$i"
                printf 'COPY f%s /f%s\n' "$i" "$i" >>"$ctx/Containerfile"
        done
        "$BERTH" build -q -t "$p/par/six:1" "$ctx" >/dev/null
        digest=$("$BERTH" image inspect -f '{{.Id}}' "$p/par/six:1")
        # push: five layers at once (dockerd's max-concurrent-uploads), all listed first, top
        # layer first; the config is pushed without a word, as by dockerd
        start=$(date +%s%N)
        run "$BERTH" push "$p/par/six:1"
        took=$((($(date +%s%N) - start) / 1000000))
        assert_success
        echo "push took ${took} ms"
        [ "$took" -lt 3000 ] # six held 0.6 s each: 3.6 s one at a time
        echo "$output"
        [ "$(grep -c ': Preparing' <<<"$output")" = 6 ]
        [ "$(grep -c ': Waiting' <<<"$output")" = 1 ]
        [ "$(grep -c ': Pushed' <<<"$output")" = 6 ]
        [ "$(grep -c ': ' <<<"$output")" = 14 ] # and the digest line: nothing for the config
        [ "$(most_at_once)" = 5 ]
        "$BERTH" rmi "$p/par/six:1" base:1 >/dev/null
        "$BERTH" image prune -af >/dev/null 2>&1 || true
        [ -z "$(ls "$BERTH_DATA_DIR/images/blobs/sha256")" ]
        : >"$BATS_TEST_TMPDIR/proxy.log"
        start=$(date +%s%N)
        run "$BERTH" pull "$p/par/six:1"
        took=$((($(date +%s%N) - start) / 1000000))
        assert_success
        echo "$output"
        echo "took ${took} ms"
        # six layers: all listed first, the three past the first three wait
        [ "$(grep -c 'Pulling fs layer' <<<"$output")" = 6 ]
        [ "$(grep -c 'Waiting' <<<"$output")" = 3 ]
        [ "$(grep -c 'Pull complete' <<<"$output")" = 6 ]
        # never more than three layers at once, and three did overlap
        [ "$(most_at_once)" = 3 ]
        # six held 0.6 s each: one at a time would take 3.6 s; three at once ~1.2 s
        [ "$took" -lt 3000 ]
        # extracted bottom-up: Pull complete in the manifest's layer order
        want=$("$BERTH" image inspect -f '{{range .RootFS.Layers}}{{.}} {{end}}' "$p/par/six:1" | wc -w)
        [ "$want" = 6 ]
        order=$(grep 'Pull complete' <<<"$output" | cut -d: -f1 | tr '\n' ' ')
        mdigest=$("$BERTH" images --format '{{.Digest}}' "$p/par/six:1")
        layers=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(" ".join(l["digest"][7:19] for l in m["layers"]), end=" ")' \
                "$BERTH_DATA_DIR/images/blobs/sha256/${mdigest#sha256:}")
        [ "$order" = "$layers" ]
        [ "$("$BERTH" image inspect -f '{{.Id}}' "$p/par/six:1")" = "$digest" ]
        "$BERTH" run --rm "$p/par/six:1" sh -c 'wc -c /f1 /f5' | grep -q '65536 /f5'
        # on a terminal: Docker's display, a line per layer redrawn in place, so the screen
        # ends with each layer once, complete, in the listing's order
        command -v script >/dev/null || skip "needs script (bsdutils)"
        "$BERTH" rmi "$p/par/six:1" >/dev/null
        "$BERTH" image prune -af >/dev/null 2>&1 || true
        script -qec "stty cols 150; $BERTH pull $p/par/six:1" /dev/null >"$BATS_TEST_TMPDIR/tty.raw"
        grep -q $'\e\[[0-9]*A' "$BATS_TEST_TMPDIR/tty.raw" # drawn in place, not appended
        screen=$(tr -d '\000' <"$BATS_TEST_TMPDIR/tty.raw" | python3 "$BERTH_TOP/tests/e2e/lib/vt-render.py")
        echo "$screen"
        [ "$(grep -c ': Pull complete$' <<<"$screen")" = 6 ]
        [ "$(grep -cE '^[0-9a-f]{12}: ' <<<"$screen")" = 6 ]
        [ "$(grep -E '^[0-9a-f]{12}: ' <<<"$screen" | cut -d: -f1 | tr '\n' ' ')" = "$layers" ]
        grep -q "^Status: Downloaded newer image for $p/par/six:1" <<<"$screen"
}

@test "registry: pull -a takes every tag in the registry's order, then one Status line; refusals" {
        port=$(free_port)
        start_registry "$BATS_TEST_TMPDIR/reg" "$port"
        r="127.0.0.1:$port"
        import_busybox "$r/all/x:1"
        "$BERTH" tag "$r/all/x:1" "$r/all/x:two"
        "$BERTH" push -q "$r/all/x:1"
        "$BERTH" push -q "$r/all/x:two"
        "$BERTH" rmi "$r/all/x:1" "$r/all/x:two" >/dev/null
        order=$(curl -s "http://$r/v2/all/x/tags/list" | jq -r '.tags | join(" ")')
        run "$BERTH" pull -a "$r/all/x"
        assert_success
        echo "$output"
        [ "$(grep ': Pulling from all/x' <<<"$output" | cut -d: -f1 | tr '\n' ' ')" = "$order " ]
        [ "$(grep -c '^Digest: ' <<<"$output")" = 2 ]
        [ "$(grep -c '^Status: ' <<<"$output")" = 1 ]
        [ "${lines[-2]}" = "Status: Downloaded newer image for $r/all/x" ]
        [ "$("$BERTH" images --format '{{.Tag}}' "$r/all/x" | sort | tr '\n' ' ')" = "1 two " ]
        run "$BERTH" pull --all-tags "$r/all/x"
        assert_success
        [ "${lines[-2]}" = "Status: Image is up to date for $r/all/x" ]
        run "$BERTH" pull -a "$r/all/x:1"
        assert_failure 1
        assert_output_contains "tag can't be used with --all-tags/-a"
        run "$BERTH" pull -a "$r/all/nope"
        assert_failure 1
        assert_output_contains "repository $r/all/nope not found: name unknown: repository name not known to registry"
        run "$BERTH" push -a "$r/all/x"
        assert_failure
}
