#!/usr/bin/env bats
# image.bats — images end to end: a busybox base image from the host, Docker's
# image commands, save/load round trips, interop with skopeo and umoci, and
# hostile input (crafted tars, corrupted archives) refused with the store intact.
load helpers

setup_file() {
        berth_private_state
        export BB_TAR="$BATS_FILE_TMPDIR/busybox-rootfs.tar"
        if command -v busybox >/dev/null 2>&1 || [ -x /bin/busybox ]; then
                "$BERTH_TOP/scripts/mkimage-busybox" --tar "$BB_TAR"
        fi
}

setup() {
        berth_private_state
}

require_busybox() {
        [ -s "$BB_TAR" ] || skip "needs busybox-static (scripts/setup installs it)"
}

# A fresh store per test: nothing one test does is seen by the next.
fresh_store() {
        export BERTH_DATA_DIR="$BATS_TEST_TMPDIR/data"
        mkdir -p "$BERTH_DATA_DIR"
}

import_busybox() {
        run "$BERTH" import -c 'CMD ["sh"]' -m "test image" "$BB_TAR" "${1:-busybox}"
        assert_success
}

blob_count() {
        find "$BERTH_DATA_DIR/images/blobs/sha256" -type f | wc -l
}

# A tar with the given entries, made with python's tarfile (crafted names GNU tar refuses).
crafted_tar() {
        local out="$1"
        shift
        python3 - "$out" "$@" <<'PY'
import io, sys, tarfile
out, specs = sys.argv[1], sys.argv[2:]
with tarfile.open(out, "w") as t:
    for spec in specs:
        kind, name, arg = (spec.split(":", 2) + [""])[:3]
        ti = tarfile.TarInfo(name)
        data = b""
        if kind == "file":
            data = arg.encode()
            ti.size = len(data)
        elif kind == "dir":
            ti.type = tarfile.DIRTYPE
            ti.mode = 0o755
        elif kind == "sym":
            ti.type = tarfile.SYMTYPE
            ti.linkname = arg
        elif kind == "hard":
            ti.type = tarfile.LNKTYPE
            ti.linkname = arg
        t.addfile(ti, io.BytesIO(data))
PY
}

@test "image: mkimage-busybox makes a base image that lists like Docker's" {
        require_busybox
        fresh_store
        run env BERTH="$BERTH" "$BERTH_TOP/scripts/mkimage-busybox" bb:1
        assert_success
        [[ "$output" == sha256:* ]]
        id="${output#sha256:}"
        run "$BERTH" images
        assert_success
        [[ "${lines[0]}" =~ ^REPOSITORY\ +TAG\ +IMAGE\ ID\ +CREATED\ +SIZE$ ]]
        [[ "${lines[1]}" =~ ^bb\ +1\ +${id:0:12}\ + ]]
        run "$BERTH" images -q
        [ "$output" = "${id:0:12}" ]
        run "$BERTH" images --format '{{.Repository}}:{{.Tag}} {{.ID}}' --no-trunc
        [ "$output" = "bb:1 sha256:$id" ]
        run "$BERTH" images --digests
        [[ "${lines[0]}" == *DIGEST* ]]
        [[ "${lines[1]}" == *sha256:* ]]
        run "$BERTH" image inspect --format '{{json .Config.Cmd}} {{.Os}}' bb:1
        [ "$output" = '["sh"] linux' ]
}

@test "image: import --change sets the config; history shows the step" {
        require_busybox
        fresh_store
        run "$BERTH" import -c 'ENTRYPOINT ["/bin/sh", "-c"]' -c 'ENV A=1 B="two"' \
                -c 'WORKDIR /srv' -c 'USER nobody' -c 'EXPOSE 8080' -c 'LABEL k=v' \
                -m 'made by a test' "$BB_TAR" conf:test
        assert_success
        run "$BERTH" image inspect conf:test
        assert_success
        echo "$output" | jq -e '.[0].Config.Entrypoint == ["/bin/sh","-c"]'
        echo "$output" | jq -e '.[0].Config.Env == ["A=1","B=two"]'
        echo "$output" | jq -e '.[0].Config.WorkingDir == "/srv" and .[0].Config.User == "nobody"'
        echo "$output" | jq -e '.[0].Config.ExposedPorts["8080/tcp"] == {} and .[0].Config.Labels.k == "v"'
        echo "$output" | jq -e '.[0].RepoTags == ["conf:test"] and (.[0].RootFS.Layers | length) == 1'
        run "$BERTH" history conf:test
        assert_success
        [[ "${lines[0]}" =~ ^IMAGE\ +CREATED\ +CREATED\ BY\ +SIZE\ +COMMENT$ ]]
        assert_output_contains "made by a test"
        # a tarball of its own (the busybox layer's blob is in the store already)
        mkdir "$BATS_TEST_TMPDIR/uniq" && date +%s%N >"$BATS_TEST_TMPDIR/uniq/f"
        tar -C "$BATS_TEST_TMPDIR/uniq" -cf "$BATS_TEST_TMPDIR/uniq.tar" f
        blobs=$(blob_count)
        run "$BERTH" import -c 'FROBNICATE x' "$BATS_TEST_TMPDIR/uniq.tar" bad:change
        assert_failure
        assert_output_contains "frobnicate is not a valid change command"
        # refused before the tarball was read: no blob of it left for gc
        [ "$(blob_count)" -eq "$blobs" ]
}

@test "image: tag, rmi by name and by ID, -f for several names, blobs collected" {
        require_busybox
        fresh_store
        import_busybox a
        run "$BERTH" tag a b:2
        assert_success
        run "$BERTH" images -q
        [ "${#lines[@]}" -eq 1 ]
        run "$BERTH" images --format '{{.Repository}}:{{.Tag}}'
        [ "${#lines[@]}" -eq 2 ]
        id=$("$BERTH" images -q)
        run "$BERTH" rmi "$id"
        assert_failure 1
        assert_output_contains "must be forced"
        run "$BERTH" rmi b:2
        assert_success
        [ "$output" = "Untagged: b:2" ]
        [ "$(blob_count)" -eq 3 ]
        run "$BERTH" rmi a
        assert_success
        assert_output_contains "Untagged: a:latest"
        assert_output_contains "Deleted: sha256:"
        [ "$(blob_count)" -eq 0 ]
        run "$BERTH" rmi nothing:here
        assert_failure 1
        assert_output_contains "No such image: nothing:here"
}

@test "image: image mount shows the layer; in-use images need rmi -f" {
        require_root
        require_busybox
        fresh_store
        import_busybox
        run "$BERTH" image mount busybox
        assert_success
        root="$output"
        run "$root/bin/busybox" echo from-the-image
        [ "$output" = from-the-image ]
        [ "$(stat -c %a "$root/tmp")" = 1777 ]
        run "$BERTH" rmi busybox
        assert_failure 1
        assert_output_contains "container is using it"
        run "$BERTH" image unmount busybox
        assert_success
        [ ! -e "$root" ]
        run "$BERTH" rmi busybox
        assert_success
}

@test "image: vfs driver gives the same tree as overlay" {
        require_root
        require_busybox
        fresh_store
        import_busybox
        run "$BERTH" image mount --storage-driver vfs busybox
        assert_success
        root="$output"
        [ -x "$root/bin/busybox" ]
        ! mountpoint -q "$root"
        [ "$(readlink "$root/bin/sh")" = /bin/busybox ]
        "$BERTH" image unmount busybox
}

@test "image: save and load round-trip keeps IDs and digests" {
        require_busybox
        fresh_store
        import_busybox rt:1
        id=$("$BERTH" images -q --no-trunc)
        digest=$("$BERTH" images --format '{{.Digest}}')
        run "$BERTH" save -o "$BATS_TEST_TMPDIR/rt.tar" rt:1
        assert_success
        tar tf "$BATS_TEST_TMPDIR/rt.tar" | grep -qx manifest.json
        tar tf "$BATS_TEST_TMPDIR/rt.tar" | grep -qx index.json
        # a save that runs out of room leaves no truncated archive behind
        small="$BATS_TEST_TMPDIR/small"
        mkdir "$small"
        if mount -t tmpfs -o size=64k tmpfs "$small" 2>/dev/null; then
                run "$BERTH" save -o "$small/rt.tar" rt:1
                left=$(ls "$small")
                umount "$small"
                [ "$status" -ne 0 ]
                assert_output_contains "$small/rt.tar"
                [ -z "$left" ]
        fi
        "$BERTH" rmi rt:1
        [ "$(blob_count)" -eq 0 ]
        run "$BERTH" load -i "$BATS_TEST_TMPDIR/rt.tar"
        assert_success
        [ "$output" = "Loaded image: rt:1" ]
        [ "$("$BERTH" images -q --no-trunc)" = "$id" ]
        [ "$("$BERTH" images --format '{{.Digest}}')" = "$digest" ]
        # stdin, gzip-compressed, as `docker save | gzip` makes it
        "$BERTH" rmi rt:1
        gzip -c "$BATS_TEST_TMPDIR/rt.tar" | "$BERTH" load
        [ "$("$BERTH" images -q --no-trunc)" = "$id" ]
        # an OCI layout directory
        run "$BERTH" save --format oci-dir -o "$BATS_TEST_TMPDIR/oci" rt:1
        assert_success
        jq -e '.manifests[0].annotations["org.opencontainers.image.ref.name"] == "1"' \
                "$BATS_TEST_TMPDIR/oci/index.json"
        "$BERTH" rmi rt:1
        run "$BERTH" load -i "$BATS_TEST_TMPDIR/oci"
        assert_success
        [ "$output" = "Loaded image: rt:1" ]
}

@test "image: skopeo reads our exports and we load what skopeo writes" {
        require_busybox
        require_cmd skopeo
        fresh_store
        import_busybox sk:1
        id=$("$BERTH" images -q --no-trunc)
        "$BERTH" save --format oci-dir -o "$BATS_TEST_TMPDIR/oci" sk:1
        "$BERTH" save -o "$BATS_TEST_TMPDIR/docker.tar" sk:1
        # our OCI layout -> docker-archive (skopeo) -> berth load
        run skopeo copy "oci:$BATS_TEST_TMPDIR/oci:1" "docker-archive:$BATS_TEST_TMPDIR/sk.tar:skopeo/copy:a"
        assert_success
        # our docker-archive -> OCI layout (skopeo, recompressing) -> berth load
        run skopeo copy --dest-compress-format gzip "docker-archive:$BATS_TEST_TMPDIR/docker.tar" \
                "oci:$BATS_TEST_TMPDIR/sk-oci:skopeo/oci:b"
        assert_success
        "$BERTH" rmi sk:1
        run "$BERTH" load -i "$BATS_TEST_TMPDIR/sk.tar"
        assert_success
        [ "$output" = "Loaded image: skopeo/copy:a" ]
        run "$BERTH" load -i "$BATS_TEST_TMPDIR/sk-oci"
        assert_success
        [ "$output" = "Loaded image: skopeo/oci:b" ]
        # the config went through both unchanged: one image ID
        run "$BERTH" images --no-trunc --format '{{.Repository}}:{{.Tag}} {{.ID}} {{.Digest}}'
        echo "$output"
        [ "$("$BERTH" images -q --no-trunc | sort -u)" = "$id" ]
        run "$BERTH" image inspect --format '{{.Id}}' skopeo/oci:b
        [ "$output" = "$id" ]
}

@test "image: umoci unpacks our OCI export" {
        require_root
        require_busybox
        require_cmd umoci
        fresh_store
        import_busybox um:1
        "$BERTH" save --format oci-dir -o "$BATS_TEST_TMPDIR/oci" um:1
        run umoci unpack --image "$BATS_TEST_TMPDIR/oci:1" "$BATS_TEST_TMPDIR/bundle"
        assert_success
        run "$BATS_TEST_TMPDIR/bundle/rootfs/bin/busybox" echo unpacked
        [ "$output" = unpacked ]
        jq -e '.process.args == ["sh"]' "$BATS_TEST_TMPDIR/bundle/config.json"
}

@test "image: prune removes dangling images and their blobs" {
        require_busybox
        fresh_store
        import_busybox keep
        run "$BERTH" import "$BB_TAR"
        assert_success
        dangling="$output"
        run "$BERTH" images --filter dangling=true -q --no-trunc
        [ "$output" = "$dangling" ]
        before=$(blob_count)
        run "$BERTH" image prune -f
        assert_success
        assert_output_contains "deleted: $dangling"
        assert_output_contains "Total reclaimed space:"
        [ "$(blob_count)" -lt "$before" ]
        run "$BERTH" images --format '{{.Repository}}'
        [ "$output" = keep ]
        run "$BERTH" image prune -a -f
        assert_success
        [ "$(blob_count)" -eq 0 ]
}

@test "image: a blob whose digest does not match its name is refused, not stored" {
        require_busybox
        fresh_store
        import_busybox good
        "$BERTH" save -o "$BATS_TEST_TMPDIR/good.tar" good
        "$BERTH" rmi good
        mkdir "$BATS_TEST_TMPDIR/x"
        tar xf "$BATS_TEST_TMPDIR/good.tar" -C "$BATS_TEST_TMPDIR/x"
        cfg=$(jq -r '.[0].Config' "$BATS_TEST_TMPDIR/x/manifest.json")
        sed -i 's/"sh"/"XX"/' "$BATS_TEST_TMPDIR/x/$cfg"
        tar cf "$BATS_TEST_TMPDIR/bad.tar" -C "$BATS_TEST_TMPDIR/x" .
        run "$BERTH" load -i "$BATS_TEST_TMPDIR/bad.tar"
        assert_failure
        assert_output_contains "digest mismatch"
        run "$BERTH" images -q
        [ -z "$output" ]
        [ ! -e "$BERTH_DATA_DIR/images/blobs/${cfg}" ]
        [ -z "$(ls "$BERTH_DATA_DIR/images/tmp")" ]
}

@test "image: a truncated gzip layer is refused" {
        require_busybox
        fresh_store
        gzip -c "$BB_TAR" | head -c 200000 >"$BATS_TEST_TMPDIR/trunc.tar.gz"
        run "$BERTH" import "$BATS_TEST_TMPDIR/trunc.tar.gz" trunc
        assert_failure
        assert_output_contains "read the tarball"
        [ "$(blob_count)" -eq 0 ]
        run "$BERTH" images -q
        [ -z "$output" ]
}

@test "image: crafted layers with ../, absolute paths and symlink tricks are refused" {
        require_root
        fresh_store
        outside="$BATS_TEST_TMPDIR/outside"
        mkdir -p "$outside"
        local -a cases=(
                "file:../../../../../../$outside/dotdot:x"
                "file:$outside/absolute:x"
                "sym:link:$outside|file:link/through:x"
                "sym:up:../../../../../../..|file:up/$outside/through-rel:x"
                "sym:l2:/etc|hard:hl:l2/passwd"
        )
        local i=0
        for c in "${cases[@]}"; do
                i=$((i + 1))
                IFS='|' read -r -a specs <<<"$c"
                crafted_tar "$BATS_TEST_TMPDIR/evil$i.tar" "${specs[@]}"
                run "$BERTH" import "$BATS_TEST_TMPDIR/evil$i.tar" "evil:$i"
                assert_success
                run "$BERTH" image mount "evil:$i"
                assert_failure
                [[ "$output" == *"escapes the layer"* || "$output" == *"absolute path"* ||
                   "$output" == *"through a symlink"* || "$output" == *"not reachable"* ]]
        done
        [ -z "$(ls -A "$outside")" ]
        # nothing half-unpacked stays behind
        [ -z "$(ls "$BERTH_DATA_DIR/images/layers")" ]
        [ -z "$(ls "$BERTH_DATA_DIR/images/tmp")" ]
        [ -z "$(ls "$BERTH_DATA_DIR/images/snapshots")" ]
}

# A two-layer docker-archive (wh:1): the second layer deletes etc/gone and makes cache/
# opaque.  Its parts stay in $BATS_TEST_TMPDIR/arch.
whiteout_archive() {
        local d="$BATS_TEST_TMPDIR/arch" s1 s2
        mkdir -p "$d"
        crafted_tar "$d/l1.tar" "dir:etc" "file:etc/keep:k" "file:etc/gone:g" \
                "dir:cache" "file:cache/old:o"
        crafted_tar "$d/l2.tar" "file:etc/.wh.gone:" "file:cache/.wh..wh..opq:" \
                "file:cache/new:n"
        s1=$(sha256sum "$d/l1.tar" | cut -d' ' -f1)
        s2=$(sha256sum "$d/l2.tar" | cut -d' ' -f1)
        printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":["sha256:%s","sha256:%s"]}}' \
                "$s1" "$s2" >"$d/config.json"
        printf '[{"Config":"config.json","RepoTags":["wh:1"],"Layers":["l1.tar","l2.tar"]}]' >"$d/manifest.json"
        tar cf "$1" -C "$d" manifest.json config.json l1.tar l2.tar
}

@test "image: whiteouts in an upper layer hide lower files (overlay)" {
        require_root
        require_busybox
        fresh_store
        whiteout_archive "$BATS_TEST_TMPDIR/wh.tar"
        d="$BATS_TEST_TMPDIR/arch"
        s1=$(sha256sum "$d/l1.tar" | cut -d' ' -f1)
        s2=$(sha256sum "$d/l2.tar" | cut -d' ' -f1)
        run "$BERTH" load -i "$BATS_TEST_TMPDIR/wh.tar"
        assert_success
        for drv in overlay vfs; do
                run "$BERTH" image mount --storage-driver $drv wh:1
                assert_success
                root="$output"
                [ -f "$root/etc/keep" ]
                [ ! -e "$root/etc/gone" ]
                [ "$(ls "$root/cache")" = new ]
                "$BERTH" image unmount wh:1
        done
        # a config whose diffIDs do not match the layers is refused
        printf '{"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s","sha256:%s"]}}' \
                "$s2" "$s1" >"$d/config.json"
        tar cf "$BATS_TEST_TMPDIR/wh-bad.tar" -C "$d" .
        "$BERTH" rmi wh:1
        run "$BERTH" load -i "$BATS_TEST_TMPDIR/wh-bad.tar"
        assert_failure
        assert_output_contains "diffID"
        run "$BERTH" images -q
        [ -z "$output" ]
}

@test "image: concurrent loads and prunes leave a consistent store" {
        require_busybox
        fresh_store
        import_busybox one
        "$BERTH" save -o "$BATS_TEST_TMPDIR/one.tar" one
        "$BERTH" rmi one >/dev/null
        local pids=() i
        for i in 1 2 3 4; do
                "$BERTH" load -q -i "$BATS_TEST_TMPDIR/one.tar" &
                pids+=($!)
                "$BERTH" image prune -f >/dev/null &
                pids+=($!)
        done
        for i in "${pids[@]}"; do
                wait "$i"
        done
        run "$BERTH" images --format '{{.Repository}}:{{.Tag}}'
        [ "$output" = "one:latest" ]
        # every blob the image needs is there and matches its name
        run "$BERTH" save -o "$BATS_TEST_TMPDIR/again.tar" one
        assert_success
        for b in "$BERTH_DATA_DIR"/images/blobs/sha256/*; do
                [ "$(sha256sum "$b" | cut -d' ' -f1)" = "$(basename "$b")" ]
        done
        [ -z "$(ls "$BERTH_DATA_DIR/images/tmp")" ]
}

@test "image: legacy docker save layout (<id>/layer.tar, duplicate layers as symlinks) loads" {
        fresh_store
        d="$BATS_TEST_TMPDIR/legacy"
        mkdir -p "$d/aaa" "$d/bbb"
        crafted_tar "$d/aaa/layer.tar" "dir:etc" "file:etc/hello:hi"
        ln -s ../aaa/layer.tar "$d/bbb/layer.tar"
        s=$(sha256sum "$d/aaa/layer.tar" | cut -d' ' -f1)
        printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s","sha256:%s"]}}' \
                "$s" "$s" >"$d/cfg.json"
        printf '[{"Config":"cfg.json","RepoTags":["legacy:1"],"Layers":["aaa/layer.tar","bbb/layer.tar"]}]' >"$d/manifest.json"
        printf '{"legacy":{"1":"bbb"}}' >"$d/repositories"
        tar cf "$BATS_TEST_TMPDIR/legacy.tar" -C "$d" manifest.json repositories cfg.json aaa bbb
        run "$BERTH" load -i "$BATS_TEST_TMPDIR/legacy.tar"
        assert_success
        [ "$output" = "Loaded image: legacy:1" ]
        run "$BERTH" image inspect -f '{{json .RootFS.Layers}}' legacy:1
        [ "$output" = "[\"sha256:$s\",\"sha256:$s\"]" ]
        [ "$(sha256sum "$d/cfg.json" | cut -d' ' -f1)" = "$("$BERTH" images -q --no-trunc | cut -d: -f2)" ]
}

@test "image: rootless (an unprivileged user): load, vfs mount, whiteouts as files" {
        require_root
        require_cmd setpriv
        whiteout_archive "$BATS_TEST_TMPDIR/wh.tar"
        # the user must reach its own dirs: outside bats' 0700 temp dir
        top=$(mktemp -d /tmp/berth-image-rootless.XXXXXX)
        chmod 755 "$top"
        cp "$BATS_TEST_TMPDIR/wh.tar" "$top/"
        chmod 644 "$top/wh.tar"
        export BERTH_DATA_DIR="$top/data"
        mkdir -p "$top/data" "$top/run"
        chown 65534:65534 "$top/data" "$top/run"
        as_nobody() {
                setpriv --reuid=65534 --regid=65534 --clear-groups \
                        env HOME=/nonexistent BERTH_DATA_DIR="$BERTH_DATA_DIR" \
                        BERTH_RUN_DIR="$top/run" "$BERTH" "$@"
        }
        run as_nobody load -i "$top/wh.tar"
        assert_success
        run as_nobody image mount --storage-driver vfs wh:1
        assert_success
        root="$output"
        [ -f "$root/etc/keep" ]
        [ ! -e "$root/etc/gone" ]
        [ "$(ls -A "$root/cache")" = new ]
        [ "$(stat -c %u "$root/etc/keep")" = 65534 ]
        run as_nobody image unmount wh:1
        assert_success
        run as_nobody rmi wh:1
        assert_success
        [ -z "$(ls "$BERTH_DATA_DIR/images/blobs/sha256")" ]
        rm -rf "$top"
}
