#!/usr/bin/env bats
# api_images.bats — the Engine API's image endpoints, driven by the docker CLI (`dk`), docker-py
# (/usr/bin/python3) and curl against a private `berth system service`: list, inspect, history,
# tag, rmi, save/load, import, prune, and pull/push with a local docker-registry on 127.0.0.1.
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
}

teardown() {
        [ "$(id -u)" = 0 ] || return 0
        "$BERTH" rm -f ai-user >/dev/null 2>&1
        return 0
}

# A tiny root filesystem tarball (for import).
tiny_rootfs() {
        mkdir -p "$BATS_TEST_TMPDIR/rootfs/etc"
        echo hello >"$BATS_TEST_TMPDIR/rootfs/etc/hello"
        tar cf "$1" -C "$BATS_TEST_TMPDIR/rootfs" .
}

@test "api images: dk images, -q and filters list what berth lists; docker-py images.list()" {
        id=$("$BERTH" images -q --no-trunc busybox)
        run dk images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
        assert_success
        assert_output_contains "busybox:latest ${id:7:12}"
        run dk images -q --no-trunc
        assert_output_contains "$id"
        tiny_rootfs "$BATS_TEST_TMPDIR/r.tar"
        # before/since compare creation seconds: ai-lab must be a second newer than busybox,
        # made by setup_file just before
        sleep 1.1
        "$BERTH" import -c 'LABEL tier=front' "$BATS_TEST_TMPDIR/r.tar" ai-lab:1 >/dev/null
        run dk images --filter label=tier=front --format '{{.Repository}}:{{.Tag}}'
        [ "$output" = "ai-lab:1" ]
        run dk images --filter label=tier=back -q
        [ -z "$output" ]
        run dk image ls --filter reference='ai-*' --format '{{.Repository}}'
        [ "$output" = "ai-lab" ]
        run dk images --filter dangling=true -q
        [ -z "$output" ]
        # before/since name an image: only the older busybox is before ai-lab
        run dk images --filter before=ai-lab:1 --format '{{.Repository}}'
        [ "$output" = "busybox" ]
        run dk images --filter since=busybox --format '{{.Repository}}'
        [ "$output" = "ai-lab" ]
        run dk images --filter before=nosuch:1
        assert_failure
        assert_output_contains "No such image: nosuch:1"
        run /usr/bin/python3 -c 'import docker; c = docker.from_env()
print(sorted(t for i in c.images.list() for t in i.tags))
print(c.images.list(filters={"label": "tier=front"})[0].labels)'
        assert_success
        assert_output_contains "['ai-lab:1', 'busybox:latest']"
        assert_output_contains "{'tier': 'front'}"
        # the raw shape: dockerd's keys, one object per image
        run api_curl /v1.41/images/json
        [ "$(echo "$output" | jq -r '[.[] | select(.RepoTags == ["busybox:latest"])] | .[0] |
                [.Id, .Containers, .SharedSize, .ParentId, (.Size == .VirtualSize)] | @tsv')" \
                = "$(printf '%s\t-1\t-1\t\ttrue' "$id")" ]
        dk rmi ai-lab:1 >/dev/null
}

@test "api images: tag (201), image inspect -f, history; a missing image is dockerd's 404" {
        id=$("$BERTH" images -q --no-trunc busybox)
        run dk tag busybox ai-tag/bb:v1
        assert_success
        [ "$("$BERTH" image inspect -f '{{.Id}}' ai-tag/bb:v1)" = "$id" ]
        run api_curl -o /dev/null -w '%{http_code}' -X POST \
                '/v1.41/images/busybox/tag?repo=docker.io%2Flibrary%2Fai-tag2&tag=t2'
        [ "$output" = 201 ]
        run dk image inspect -f '{{.Id}} {{json .RepoTags}}' ai-tag2:t2
        assert_success
        [ "${output%% *}" = "$id" ]
        assert_output_contains '"ai-tag/bb:v1"'
        assert_output_contains '"ai-tag2:t2"'
        # the document berth image inspect prints, plus dockerd's extra keys
        [ "$(api_curl /v1.41/images/busybox/json | jq -S 'del(.VirtualSize, .Container,
                .GraphDriver, .Metadata)')" = "$("$BERTH" image inspect busybox | jq -S '.[0]')" ]
        run dk history --format '{{.ID}} {{.Comment}}' busybox
        assert_success
        first=$(echo "$output" | head -1)
        [ "${first%% *}" = "${id:7:12}" ]
        run api_curl /v1.41/images/busybox/history
        [ "$(echo "$output" | jq -r '.[0].Id')" = "$id" ]
        echo "$output" | jq -e '.[0].Tags | index("busybox:latest")' >/dev/null
        run dk image inspect nosuch:1
        assert_failure 1
        assert_output_contains "No such image: nosuch:1"
        run api_curl -w '\n%{http_code}' /v1.41/images/nosuch/json
        [ "$output" = "$(printf '{"message":"No such image: nosuch:latest"}\n\n404')" ]
        run dk tag nosuch ai-x:1
        assert_failure 1
        assert_output_contains "No such image: nosuch:latest"
        dk rmi ai-tag/bb:v1 ai-tag2:t2 >/dev/null
}

@test "api images: rmi untags then deletes; 409 while a container uses the image; 404 when none" {
        dk tag busybox ai-rm:a
        dk tag busybox ai-rm:b
        run dk rmi ai-rm:a
        assert_success
        [ "$output" = "Untagged: ai-rm:a" ]
        # by ID with several names: dockerd wants -f
        id=$("$BERTH" images -q --no-trunc busybox)
        run dk rmi "${id:7:12}"
        assert_failure 1
        assert_output_contains "must be forced) - image is referenced in multiple repositories"
        # an image only a container's image: 409, with dockerd's words, by name and by ID
        tiny_rootfs "$BATS_TEST_TMPDIR/r.tar"
        uid=$("$BERTH" import "$BATS_TEST_TMPDIR/r.tar" ai-used:1)
        "$BERTH" create --network none --name ai-user ai-used:1 /x >/dev/null
        cid=$("$BERTH" inspect -f '{{.Id}}' ai-user)
        run dk rmi ai-used:1
        assert_failure 1
        assert_output_contains "conflict: unable to remove repository reference \"ai-used:1\" (must force) - container ${cid:0:12} is using its referenced image ${uid:7:12}"
        run dk rmi "${uid:7:12}"
        assert_failure 1
        assert_output_contains "conflict: unable to delete ${uid:7:12} (must be forced) - image is being used by stopped container ${cid:0:12}"
        run api_curl -o /dev/null -w '%{http_code}' -X DELETE /v1.41/images/ai-used:1
        [ "$output" = 409 ]
        "$BERTH" rm ai-user >/dev/null
        run dk rmi ai-used:1
        assert_success
        [ "$output" = "$(printf 'Untagged: ai-used:1\nDeleted: %s' "$uid")" ]
        run api_curl -w '\n%{http_code}' -X DELETE /v1.41/images/ai-rm:b
        [ "$output" = "$(printf '[{"Untagged":"ai-rm:b"}]\n\n200')" ]
        run dk rmi ai-rm:nosuch
        assert_failure 1
        assert_output_contains "No such image: ai-rm:nosuch"
        [ "$("$BERTH" images -q --no-trunc busybox)" = "$id" ]
}

@test "api images: save -o, rmi, load -i round-trip keeps the ID; names= for several images" {
        id=$("$BERTH" images -q --no-trunc busybox)
        dk tag busybox ai-save:2
        run dk save -o "$BATS_TEST_TMPDIR/bb.tar" busybox ai-save:2
        assert_success
        tar tf "$BATS_TEST_TMPDIR/bb.tar" | grep -qx manifest.json
        # a missing image is a 404 before any tar byte
        run dk save -o "$BATS_TEST_TMPDIR/no.tar" busybox nosuch:1
        assert_failure 1
        assert_output_contains "No such image: nosuch:1"
        run api_curl -o /dev/null -w '%{http_code} %{content_type}' /v1.41/images/busybox/get
        [ "$output" = "200 application/x-tar" ]
        dk rmi busybox ai-save:2 >/dev/null
        [ -z "$("$BERTH" images -q)" ]
        run dk load -i "$BATS_TEST_TMPDIR/bb.tar"
        assert_success
        assert_output_contains "Loaded image: busybox:latest"
        assert_output_contains "Loaded image: ai-save:2"
        [ "$("$BERTH" images -q --no-trunc busybox)" = "$id" ]
        [ "$("$BERTH" image inspect -f '{{.Id}}' ai-save:2)" = "$id" ]
        # not an archive: dockerd's 200 with an error line; the CLI says so and exits 1
        run api_curl -X POST -H 'Content-Type: application/x-tar' --data-binary @/etc/hostname \
                /v1.41/images/load
        echo "$output" | jq -e '.errorDetail.message' >/dev/null
        refute_output_contains "/proc/self"
        run dk load -i /etc/hostname
        assert_failure 1
        dk rmi ai-save:2 >/dev/null
}

@test "api images: import from a tarball; prune removes dangling images only" {
        tiny_rootfs "$BATS_TEST_TMPDIR/r.tar"
        run dk import --change 'CMD ["/bin/true"]' -m from-api "$BATS_TEST_TMPDIR/r.tar" ai-imp:1
        assert_success
        [[ "$output" == sha256:* ]]
        [ "$("$BERTH" image inspect -f '{{.Id}}' ai-imp:1)" = "$output" ]
        run dk image inspect -f '{{json .Config.Cmd}} {{.Comment}}' ai-imp:1
        [ "$output" = '["/bin/true"] from-api' ]
        # a second import under the same name leaves the first dangling
        echo more >"$BATS_TEST_TMPDIR/rootfs/etc/more"
        tar cf "$BATS_TEST_TMPDIR/r2.tar" -C "$BATS_TEST_TMPDIR/rootfs" .
        dk import "$BATS_TEST_TMPDIR/r2.tar" ai-imp:1 >/dev/null
        run dk images --filter dangling=true -q
        [ -n "$output" ]
        run dk image prune -f
        assert_success
        assert_output_contains "deleted: sha256:"
        assert_output_contains "Total reclaimed space:"
        [ -z "$(dk images --filter dangling=true -q)" ]
        run api_curl -X POST /v1.41/images/prune
        [ "$output" = '{"ImagesDeleted":null,"SpaceReclaimed":0}' ]
        # busybox and ai-imp:1 stay: they have names
        [ -n "$(dk images -q ai-imp:1)" ]
        [ -n "$(dk images -q busybox)" ]
        dk rmi ai-imp:1 >/dev/null
}

@test "api images: push and pull with a local registry; a missing image is 404 and exit 1" {
        require_cmd docker-registry
        port=$(free_port)
        start_registry "$BATS_TEST_TMPDIR/reg" "$port"
        r="127.0.0.1:$port"
        id=$("$BERTH" images -q --no-trunc busybox)
        digest=$("$BERTH" images --format '{{.Digest}}' busybox)
        dk tag busybox "$r/ai/bb:1"
        run dk push "$r/ai/bb:1"
        assert_success
        assert_output_contains "The push refers to repository [$r/ai/bb]"
        assert_output_contains "Pushed"
        assert_output_contains "1: digest: $digest"
        # dockerd's push event: Actor.ID the reference, name its repository
        run dk events --since 0 --until "$(date +%s.%N)" --filter event=push \
                --format '{{.Type}} {{.Actor.ID}} {{.Actor.Attributes.name}}'
        [ "$output" = "image $r/ai/bb:1 $r/ai/bb" ]
        dk rmi "$r/ai/bb:1" >/dev/null
        run dk pull "$r/ai/bb:1"
        assert_success
        assert_output_contains "Digest: $digest"
        assert_output_contains "Status: Downloaded newer image for $r/ai/bb:1"
        [ "$("$BERTH" image inspect -f '{{.Id}}' "$r/ai/bb:1")" = "$id" ]
        run dk pull "$r/ai/bb:1"
        assert_output_contains "Status: Image is up to date for $r/ai/bb:1"
        # the stream is JSON lines, as dockerd's
        run api_curl -X POST "/v1.41/images/create?fromImage=$r%2Fai%2Fbb&tag=1"
        [ "$(echo "$output" | head -1 | jq -r '.status + " " + .id')" = "Pulling from ai/bb 1" ]
        # a layer the store lacks (busybox's are all there): dockerd's byte counts per layer,
        # totals the manifest's sizes, the config blob no layer.  2 MiB of random data passes
        # the 512 KiB step, though loopback may be faster than the 100 ms one.
        mkdir -p "$BATS_TEST_TMPDIR/big"
        head -c 2097152 /dev/urandom >"$BATS_TEST_TMPDIR/big/blob"
        tar cf "$BATS_TEST_TMPDIR/big.tar" -C "$BATS_TEST_TMPDIR/big" .
        "$BERTH" import "$BATS_TEST_TMPDIR/big.tar" "$r/ai/big:1" >/dev/null
        dk push "$r/ai/big:1" >/dev/null
        # berth rmi collects the blobs too, so the pull must fetch them
        "$BERTH" rmi "$r/ai/big:1" >/dev/null
        accept='Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'
        man=$(curl -s -H "$accept" "http://$r/v2/ai/big/manifests/1")
        cfg=$(echo "$man" | jq -r '.config.digest')
        echo "$man" | jq -e '.layers | length > 0' >/dev/null
        run api_curl -X POST "/v1.41/images/create?fromImage=$r%2Fai%2Fbig&tag=1"
        assert_success
        stream=$output
        echo "$stream" | jq -e . >/dev/null
        # every Downloading line has numbers and dockerd's bar
        [ "$(echo "$stream" | jq -c 'select(.status == "Downloading") |
                select((.progressDetail.current | type) != "number" or
                       (.progressDetail.total | type) != "number" or
                       (.progress | test("^\\[=*>? *\\] +[0-9.]+[kMG]?B/[0-9.]+[kMG]?B$") | not))')" = "" ]
        while read -r digest size; do
                id=${digest:7:12}
                # in dockerd's order: listed, downloaded to its full size, complete
                run jq -r --arg id "$id" 'select(.id == $id) | .status' <<<"$stream"
                [ "${lines[0]}" = "Pulling fs layer" ]
                [ "${lines[-1]}" = "Pull complete" ]
                assert_output_contains "Download complete"
                # unpacked by the pull, as dockerd does: Extracting, right before Pull complete
                [ "${lines[-2]}" = "Extracting" ]
                # counts of the compressed bytes read, rising, ending at the whole blob
                [ "$(jq -c --arg id "$id" 'select(.id == $id and .status == "Extracting") |
                        .progressDetail' <<<"$stream" | tail -1)" = "{\"current\":$size,\"total\":$size}" ]
                jq -s -e --arg id "$id" --argjson n "$size" '[.[] | select(.id == $id and
                        .status == "Extracting") | .progressDetail] | all(.total == $n) and
                        (map(.current) | . == sort)' <<<"$stream" >/dev/null
                last=$(jq -c --arg id "$id" 'select(.id == $id and .status == "Downloading") |
                        .progressDetail' <<<"$stream" | tail -1)
                [ "$last" = "{\"current\":$size,\"total\":$size}" ]
                [ -z "$(jq -c --arg id "$id" --argjson n "$size" 'select(.id == $id and
                        .status == "Downloading" and .progressDetail.total != $n)' <<<"$stream")" ]
        done < <(echo "$man" | jq -r '.layers[] | .digest + " " + (.size | tostring)')
        [ -z "$(echo "$stream" | jq -r --arg id "${cfg:7:12}" 'select(.id == $id)')" ]
        mdigest=$(curl -s -o /dev/null -D - -H "$accept" "http://$r/v2/ai/big/manifests/1" |
                tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: //p')
        [ "$(echo "$stream" | tail -2 | head -1 | jq -r .status)" = "Digest: $mdigest" ]
        [ "$(echo "$stream" | tail -1 | jq -r .status)" = "Status: Downloaded newer image for $r/ai/big:1" ]
        "$BERTH" rmi "$r/ai/big:1" >/dev/null
        # on a terminal the docker CLI draws its bars from those counts
        if command -v script >/dev/null; then
                # (a bar needs over 110 columns; script's terminal has none set)
                run script -qec "stty cols 200; docker pull $r/ai/big:1" /dev/null
                assert_success
                assert_output_contains "Downloading [=="
                assert_output_contains "2.099MB/2.099MB"
                "$BERTH" rmi "$r/ai/big:1" >/dev/null
        fi
        # a push of a layer the registry lacks: dockerd's Pushing counts, rising to the blob's
        # whole size, then Pushed
        mkdir -p "$BATS_TEST_TMPDIR/up"
        head -c 1500000 /dev/urandom >"$BATS_TEST_TMPDIR/up/blob"
        tar cf "$BATS_TEST_TMPDIR/up.tar" -C "$BATS_TEST_TMPDIR/up" .
        "$BERTH" import "$BATS_TEST_TMPDIR/up.tar" "$r/ai/up:1" >/dev/null
        layer=$("$BERTH" image inspect -f '{{index .RootFS.Layers 0}}' "$r/ai/up:1")
        mdig=$("$BERTH" images --format '{{.Digest}}' "$r/ai/up:1")
        ldig=$(jq -r '.layers[0].digest' "$BERTH_DATA_DIR/images/blobs/sha256/${mdig#sha256:}")
        lsize=$(stat -c %s "$BERTH_DATA_DIR/images/blobs/sha256/${ldig#sha256:}")
        run api_curl -X POST -H 'X-Registry-Auth: e30=' "/v1.41/images/$r%2Fai%2Fup/push?tag=1"
        assert_success
        stream=$output
        id=${ldig:7:12}
        [ "$(jq -r --arg id "$id" 'select(.id == $id) | .status' <<<"$stream" | uniq | tr '\n' ' ')" = "Preparing Pushing Pushed " ]
        [ "$(jq -c --arg id "$id" 'select(.id == $id and .status == "Pushing") | .progressDetail' <<<"$stream" | tail -1)" = "{\"current\":$lsize,\"total\":$lsize}" ]
        jq -s -e --arg id "$id" --argjson n "$lsize" '[.[] | select(.id == $id and .status == "Pushing")] |
                all(.progressDetail.total == $n and (.progress | test("^\\[=*>? *\\] "))) and
                (map(.progressDetail.current) | . == sort)' <<<"$stream" >/dev/null
        [ -n "$layer" ]
        # missing: 404 before any stream, with dockerd's message
        run dk pull "$r/ai/nosuch:1"
        assert_failure 1
        assert_output_contains "manifest for $r/ai/nosuch:1 not found: manifest unknown"
        run api_curl -o /dev/null -w '%{http_code}' -X POST \
                "/v1.41/images/create?fromImage=$r%2Fai%2Fnosuch&tag=1"
        [ "$output" = 404 ]
        # docker pull -a: no tag at all is every tag, as dockerd 20.10 takes it; a repository
        # the registry lacks is dockerd's 404
        dk tag busybox "$r/ai/bb:second"
        dk push "$r/ai/bb:second" >/dev/null
        dk rmi "$r/ai/bb:1" "$r/ai/bb:second" >/dev/null
        run dk pull -a "$r/ai/bb"
        assert_success
        assert_output_contains "1: Pulling from ai/bb"
        assert_output_contains "second: Pulling from ai/bb"
        assert_output_contains "Status: Downloaded newer image for $r/ai/bb"
        [ -n "$("$BERTH" images -q "$r/ai/bb:second")" ]
        run api_curl -w '\n%{http_code}' -X POST "/v1.41/images/create?fromImage=$r%2Fai%2Fnosuchrepo"
        [ "${lines[0]}" = "{\"message\":\"repository $r/ai/nosuchrepo not found: name unknown: repository name not known to registry\"}" ]
        [ "${lines[1]}" = 404 ]
        # a platform that is no platform: dockerd's 400 with containerd's words
        run dk pull --platform nonsense "$r/ai/bb:1"
        assert_failure 1
        assert_output_contains 'Error response from daemon: "nonsense": unknown operating system or architecture: invalid argument'
        run api_curl -o /dev/null -w '%{http_code}' -X POST \
                "/v1.41/images/create?fromImage=$r%2Fai%2Fbb&tag=1&platform=nonsense"
        [ "$output" = 400 ]
        # a single-platform image is this one whatever --platform says, as with dockerd 20.10
        run dk pull --platform linux/arm64 "$r/ai/bb:1"
        assert_success
        # an index without the platform asked for: dockerd's stream, "Pulling from" then the
        # error, byte for byte
        if command -v skopeo >/dev/null; then
                "$BERTH" save --format oci-dir -o "$BATS_TEST_TMPDIR/oci" "$r/ai/bb:1"
                python3 "$BERTH_TOP/tests/e2e/lib/oci-index.py" "$BATS_TEST_TMPDIR/oci" multi \
                        linux/amd64
                skopeo copy -q --all --dest-tls-verify=false "oci:$BATS_TEST_TMPDIR/oci:multi" \
                        "docker://$r/ai/multi:1"
                run api_curl -X POST "/v1.41/images/create?fromImage=$r%2Fai%2Fmulti&tag=1&platform=linux%2Fs390x"
                [ "${lines[0]}" = '{"status":"Pulling from ai/multi","id":"1"}' ]
                [ "${lines[1]}" = '{"errorDetail":{"message":"no matching manifest for linux/s390x in the manifest list entries"},"error":"no matching manifest for linux/s390x in the manifest list entries"}' ]
                run dk pull --platform linux/s390x "$r/ai/multi:1"
                assert_failure 1
                assert_output_contains "no matching manifest for linux/s390x in the manifest list entries"
        fi
        run dk push "$r/ai/notlocal:1"
        assert_failure 1
        assert_output_contains "An image does not exist locally with the tag: $r/ai/notlocal"
        # what berth pull brings is in dk images at once (one store, no daemon state)
        dk rmi "$r/ai/bb:1" >/dev/null
        "$BERTH" pull -q "$r/ai/bb:1" >/dev/null
        run dk images --format '{{.Repository}}:{{.Tag}}'
        assert_output_contains "$r/ai/bb:1"
        dk rmi "$r/ai/bb:1" >/dev/null
}

@test "api images: docker-py get, pull and push (X-Registry-Auth against htpasswd auth)" {
        require_cmd docker-registry htpasswd
        port=$(free_port)
        start_auth_registry "$BATS_TEST_TMPDIR/reg" "$port"
        r="127.0.0.1:$port"
        id=$("$BERTH" images -q --no-trunc busybox)
        export R="$r"
        run /usr/bin/python3 -c '
import docker, json, os
r = os.environ["R"]
c = docker.from_env()
auth = {"username": "alice", "password": "s3cret"}
img = c.images.get("busybox")
print("get", img.id)
img.tag(r + "/py/bb", "2")
lines = [json.loads(l) for l in c.images.push(r + "/py/bb", tag="2", auth_config=auth).splitlines()]
print("errors", [l for l in lines if "error" in l])
print("aux", [l["aux"]["Digest"] for l in lines if "aux" in l])
c.images.remove(r + "/py/bb:2")
p = c.images.pull(r + "/py/bb", tag="2", auth_config=auth)
print("pulled", p.id, p.tags)
try:
    c.images.pull(r + "/py/bb", tag="2")
except docker.errors.APIError as e:
    print("noauth", e.status_code)
c.images.remove(r + "/py/bb:2")
'
        assert_success
        assert_output_contains "get $id"
        assert_output_contains "errors []"
        assert_output_contains "aux ['sha256:"
        assert_output_contains "pulled $id"
        assert_output_contains "'$r/py/bb:2'"
        assert_output_contains "noauth 500"
        # a push without credentials fails in the stream: docker-py returns it, the CLI exits 1
        dk tag busybox "$r/py/bb:3"
        run dk push "$r/py/bb:3"
        assert_failure 1
        dk rmi "$r/py/bb:3" >/dev/null
}
