#!/usr/bin/env bats
# api_netvol.bats — the Engine API's networks and volumes, driven by the docker CLI, docker-py
# and curl: dockerd's documents, status codes and messages, and one state with `berth network` /
# `berth volume`.  Networks are host-global (bridges, table inet berth): every name here is
# apinet-*, every subnet 10.250.x.0/24, and prune runs only while a container of this file keeps
# the host's network state busy (an idle prune also clears what other berth states use).
load helpers
load lib/api
bats_require_minimum_version 1.5.0

UP=127.0.0.9 # the networks' resolvers forward there, where nothing listens

setup_file() {
        api_setup_file
}

teardown_file() {
        api_teardown_file
}

setup() {
        api_setup docker curl jq
}

teardown() {
        [ "$(id -u)" = 0 ] || return 0
        api_teardown
        local n v
        for n in $("$BERTH" network ls -q --filter name=apinet- 2>/dev/null); do
                "$BERTH" network rm "$n" >/dev/null 2>&1
        done
        for v in $("$BERTH" volume ls -q 2>/dev/null); do
                "$BERTH" volume rm -f "$v" >/dev/null 2>&1
        done
        return 0
}

# The HTTP status of a request: status [curl args] PATH
status() {
        api_curl -o "$BATS_TEST_TMPDIR/body" -w '%{http_code}' "$@"
}
body() {
        cat "$BATS_TEST_TMPDIR/body"
}

# ---------------------------------------------------------------------------------------------
# networks
# ---------------------------------------------------------------------------------------------

@test "api network create/ls/inspect/rm: the docker CLI, one state with berth network" {
        run dk network create apinet-a1
        assert_success
        [[ "$output" =~ ^[0-9a-f]{64}$ ]]
        id=$output
        run dk network ls
        assert_success
        [ "$(echo "$output" | head -1 | tr -s ' ')" = "NETWORK ID NAME DRIVER SCOPE" ]
        assert_output_contains "${id:0:12}   apinet-a1   bridge    local"
        for n in bridge host none; do
                echo "$output" | grep -q " $n "
        done
        run dk network inspect -f '{{.Name}} {{.Driver}} {{.Scope}} {{.Id}}' apinet-a1
        assert_success
        [ "$output" = "apinet-a1 bridge local $id" ]
        # the CLI's own view of the same state
        [ "$("$BERTH" network inspect -f '{{.Id}}' apinet-a1)" = "$id" ]
        # dockerd's document, Containers included
        [ "$(status "/v1.41/networks/${id:0:10}")" = 200 ]
        body | jq -e 'keys_unsorted == ["Name", "Id", "Created", "Scope", "Driver", "EnableIPv6", "IPAM", "Internal", "Attachable", "Ingress", "ConfigFrom", "ConfigOnly", "Containers", "Options", "Labels"]'
        body | jq -e '.Name == "apinet-a1" and .Containers == {} and .IPAM.Driver == "default" and (.IPAM.Config | length) == 1'
        run dk network create apinet-a1
        assert_failure 1
        assert_output_contains "Error response from daemon: network with name apinet-a1 already exists"
        [ "$(status -X POST -H 'Content-Type: application/json' -d '{"Name":"apinet-a1"}' /networks/create)" = 409 ]
        run dk network rm apinet-a1
        assert_success
        [ "$output" = "apinet-a1" ]
        run "$BERTH" network inspect apinet-a1
        assert_failure
        [ "$(status /v1.41/networks/apinet-a1)" = 404 ]
        body | jq -e '.message == "network apinet-a1 not found"'
        [ "$(status -X DELETE /v1.41/networks/apinet-a1)" = 404 ]
}

@test "api network create: subnet, gateway, range, labels, options; filters; refusals" {
        run dk network create --subnet 10.250.7.0/24 --gateway 10.250.7.254 --ip-range 10.250.7.128/25 \
                --label team=x --label tier -o com.docker.network.driver.mtu=1400 --internal apinet-sub
        assert_success
        run dk network inspect -f '{{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}} {{(index .IPAM.Config 0).IPRange}} {{.Internal}} {{index .Labels "team"}}' apinet-sub
        assert_success
        [ "$output" = "10.250.7.0/24 10.250.7.254 10.250.7.128/25 true x" ]
        [ "$("$BERTH" network inspect -f '{{index .Options "com.docker.network.driver.mtu"}}' apinet-sub)" = 1400 ]
        dk network create --label team=y apinet-sub2 >/dev/null
        run dk network ls --filter label=team=x --format '{{.Name}}'
        [ "$output" = "apinet-sub" ]
        run dk network ls --filter name=apinet-sub --filter driver=bridge --format '{{.Name}}'
        [ "$(echo "$output" | sort | tr '\n' ' ')" = "apinet-sub apinet-sub2 " ]
        run dk network ls --filter type=builtin --format '{{.Name}}'
        [ "$(echo "$output" | sort | tr '\n' ' ')" = "bridge host none " ]
        # docker-py's list form of the filters, '+' for the space
        [ "$(status '/v1.41/networks?filters=%7B%22label%22%3A+%5B%22team%3Dy%22%5D%7D')" = 200 ]
        body | jq -e 'length == 1 and .[0].Name == "apinet-sub2" and .[0].Containers == {}'
        [ "$(status '/networks?filters=%7B%22bogus%22%3A%5B%221%22%5D%7D')" = 400 ]
        body | jq -e '.message | test("invalid filter .bogus.")'
        [ "$(status '/networks?filters=%7B%22dangling%22%3A%5B%22maybe%22%5D%7D')" = 400 ]
        # libnetwork's refusals: an overlapping pool is forbidden, an unknown driver not found
        run dk network create --subnet 10.250.7.0/25 apinet-ovl
        assert_failure 1
        assert_output_contains "Pool overlaps with other one on this address space"
        [ "$(status -X POST -H 'Content-Type: application/json' -d '{"Name":"apinet-ovl","IPAM":{"Config":[{"Subnet":"10.250.7.0/25"}]}}' /networks/create)" = 403 ]
        [ "$(status -X POST -d '{"Name":"apinet-drv","Driver":"nosuch"}' /networks/create)" = 404 ]
        body | jq -e '.message == "plugin \"nosuch\" not found"'
        [ "$(status -X POST -d '{"Name":"apinet bad"}' /networks/create)" = 400 ]
        [ "$(status -X POST -d '{"Name":"apinet-t","Labels":{"a":1}}' /networks/create)" = 400 ]
        [ "$(status -X POST -d '{"Name":"apinet-t","IPAM":{"Config":[{"Subnet":"10.250.8.0/24"},{"Subnet":"10.250.9.0/24"}]}}' /networks/create)" = 400 ]
        [ "$(status -X POST -d 'not json' /networks/create)" = 400 ]
        [ "$(status -X POST -d '{"Name":"host"}' /networks/create)" = 403 ]
        [ "$(status -X DELETE /networks/bridge)" = 403 ]
        body | jq -e '.message == "bridge is a pre-defined network and cannot be removed"'
        run dk network ls --filter name=apinet- --format '{{.Name}}'
        [ "$(echo "$output" | sort | tr '\n' ' ')" = "apinet-sub apinet-sub2 " ]
}

@test "api network connect/disconnect: a container made by berth create, compose's sequence" {
        dk network create --subnet 10.250.11.0/24 apinet-home >/dev/null
        dk network create --subnet 10.250.12.0/24 apinet-side >/dev/null
        cid=$("$BERTH" create --name apinet-c1 --network apinet-home busybox sleep 100)
        run dk network connect --alias web --ip 10.250.12.77 apinet-side apinet-c1
        assert_success
        run "$BERTH" inspect -f '{{json .NetworkSettings.Networks}}' apinet-c1
        echo "$output" | jq -e '.["apinet-side"].Aliases == ["web"] and .["apinet-side"].IPAMConfig.IPv4Address == "10.250.12.77" and has("apinet-home")'
        run dk network connect apinet-side apinet-c1
        assert_failure 1
        assert_output_contains "endpoint with name apinet-c1 already exists in network apinet-side"
        [ "$(status -X POST -d "{\"Container\":\"$cid\"}" /v1.41/networks/apinet-side/connect)" = 403 ]
        run dk network disconnect apinet-side apinet-c1
        assert_success
        run "$BERTH" inspect -f '{{json .NetworkSettings.Networks}}' apinet-c1
        echo "$output" | jq -e 'has("apinet-side") | not'
        run dk network disconnect apinet-side apinet-c1
        assert_failure 1
        assert_output_contains "is not connected to network apinet-side"
        # docker-compose 1.29: disconnect the created container, connect it with its aliases
        [ "$(status -X POST -H 'Content-Type: application/json' -d "{\"Container\":\"$cid\"}" /v1.41/networks/apinet-home/disconnect)" = 200 ]
        [ -z "$(body)" ]
        [ "$(status -X POST -H 'Content-Type: application/json' -d "{\"Container\":\"$cid\",\"EndpointConfig\":{\"Aliases\":[\"web\",\"${cid:0:12}\",7]}}" /v1.41/networks/apinet-home/connect)" = 200 ]
        run "$BERTH" inspect -f '{{json .NetworkSettings.Networks}}' apinet-c1
        echo "$output" | jq -e --arg s "${cid:0:12}" '.["apinet-home"].Aliases == ["web", $s]'
        [ "$(status -X POST -d '{"Container":"apinet-nosuch"}' /networks/apinet-home/connect)" = 404 ]
        [ "$(status -X POST -d "{\"Container\":\"$cid\"}" /networks/apinet-nosuch/connect)" = 404 ]
        [ "$(status -X POST -d '{}' /networks/apinet-home/connect)" = 400 ]
        "$BERTH" create --name apinet-c2 --network none busybox true >/dev/null
        [ "$(status -X POST -d '{"Container":"apinet-c2"}' /networks/apinet-home/connect)" = 400 ]
}

@test "api network rm and prune: active endpoints refuse, unused networks go, Containers shown" {
        require_cmd nft
        dk network create --subnet 10.250.13.0/24 -o dns.upstream=$UP apinet-busy >/dev/null
        "$BERTH" run -d --name apinet-r1 --network apinet-busy busybox sleep 300 >/dev/null
        cid=$("$BERTH" inspect -f '{{.Id}}' apinet-r1)
        run dk network rm apinet-busy
        assert_failure 1
        assert_output_contains "error while removing network: network apinet-busy id"
        assert_output_contains "has active endpoints"
        [ "$(status -X DELETE /networks/apinet-busy)" = 403 ]
        [ "$(status /networks/apinet-busy)" = 200 ]
        body | jq -e --arg c "$cid" '.Containers[$c].Name == "apinet-r1" and (.Containers[$c].IPv4Address | startswith("10.250.13."))'
        [ "$(status '/networks?filters=%7B%22name%22%3A%5B%22apinet-busy%22%5D%7D')" = 200 ]
        body | jq -e '.[0].Containers == {}'
        run dk network ls --filter dangling=true --format '{{.Name}}'
        refute_output_contains apinet-busy
        dk network create --label apinet-prune=1 apinet-p1 >/dev/null
        dk network create apinet-p2 >/dev/null
        # a container of this state runs: the host's bridges and table stay
        run dk network prune -f --filter label=apinet-prune=1
        assert_success
        [ "$output" = "$(printf 'Deleted Networks:\napinet-p1')" ]
        [ "$(status -X POST /v1.41/networks/prune)" = 200 ]
        body | jq -e '.NetworksDeleted == ["apinet-p2"]'
        [ "$(status -X POST /v1.41/networks/prune)" = 200 ]
        body | jq -e '.NetworksDeleted == null'
        [ "$("$BERTH" network ls -q --filter name=apinet-busy | wc -l)" = 1 ]
        [ "$(status -X POST '/networks/prune?filters=%7B%22bogus%22%3A%5B%221%22%5D%7D')" = 400 ]
        "$BERTH" rm -f apinet-r1 >/dev/null
        run dk network rm apinet-busy
        assert_success
}

# ---------------------------------------------------------------------------------------------
# volumes
# ---------------------------------------------------------------------------------------------

@test "api volume create/ls/inspect/rm: the docker CLI, dockerd's documents" {
        run dk volume create apivol-1
        assert_success
        [ "$output" = "apivol-1" ]
        run dk volume ls
        assert_success
        [ "$(echo "$output" | tr -s ' ')" = "$(printf 'DRIVER VOLUME NAME\nlocal apivol-1')" ]
        run dk volume inspect -f '{{.Name}} {{.Driver}} {{.Scope}} {{.Mountpoint}}' apivol-1
        assert_success
        [ "$output" = "apivol-1 local local $BERTH_DATA_DIR/volumes/apivol-1/_data" ]
        [ "$("$BERTH" volume ls -q)" = "apivol-1" ]
        [ "$(status /v1.41/volumes)" = 200 ]
        body | jq -e '.Warnings == null and (.Volumes | length) == 1'
        body | jq -e '.Volumes[0] | keys_unsorted == ["CreatedAt", "Driver", "Labels", "Mountpoint", "Name", "Options", "Scope"]'
        body | jq -e '.Volumes[0] | .Labels == null and .Options == null and .Driver == "local"'
        # docker-py's body; an empty name gets a generated one
        [ "$(status -X POST -H 'Content-Type: application/json' -d '{"Name":"apivol-2","Labels":{"k":"v"}}' /v1.41/volumes/create)" = 201 ]
        body | jq -e '.Name == "apivol-2" and .Labels == {"k": "v"}'
        [ "$(status -X POST -d '{"Driver":"local"}' /volumes/create)" = 201 ]
        body | jq -e '.Name | test("^[0-9a-f]{64}$")'
        anon=$(body | jq -r .Name)
        [ "$(status -X POST -d '{"Name":"apivol-2"}' /volumes/create)" = 201 ]
        body | jq -e '.Labels == {"k": "v"}'
        run dk volume ls -q --filter label=k=v
        [ "$output" = "apivol-2" ]
        run dk volume ls -q --filter name=apivol
        [ "$(echo "$output" | tr '\n' ' ')" = "apivol-1 apivol-2 " ]
        [ "$(status '/volumes?filters=%7B%22bogus%22%3A%5B%221%22%5D%7D')" = 400 ]
        [ "$(status -X POST -d '{"Name":"apivol-3","Driver":"nosuch"}' /volumes/create)" = 404 ]
        [ "$(status -X POST -d '{"Name":"bad/name"}' /volumes/create)" = 400 ]
        [ "$(status -X POST -d '{"Name":7}' /volumes/create)" = 400 ]
        [ "$(status /volumes/apivol-nosuch)" = 404 ]
        body | jq -e '.message == "get apivol-nosuch: no such volume"'
        run dk volume inspect apivol-nosuch
        assert_failure 1
        [ "$(status -X DELETE /volumes/apivol-nosuch)" = 404 ]
        [ "$(status -X DELETE '/volumes/apivol-nosuch?force=1')" = 204 ]
        run dk volume rm apivol-1 "$anon"
        assert_success
        [ "$("$BERTH" volume ls -q)" = "apivol-2" ]
}

@test "api volume rm and prune: in use refuses (409), prune takes the unused ones" {
        dk volume create apivol-used >/dev/null
        dk volume create apivol-free >/dev/null
        cid=$("$BERTH" create --name apivol-c --network none -v apivol-used:/data busybox true)
        run dk volume rm apivol-used
        assert_failure 1
        assert_output_contains "remove apivol-used: volume is in use - [$cid]"
        [ "$(status -X DELETE /v1.41/volumes/apivol-used)" = 409 ]
        run dk volume ls -q --filter dangling=true
        [ "$output" = "apivol-free" ]
        echo data >"$BERTH_DATA_DIR/volumes/apivol-free/_data/f"
        # API 1.41: prune takes named volumes too (dockerd 20.10)
        run dk volume prune -f
        assert_success
        assert_output_contains "apivol-free"
        refute_output_contains "apivol-used"
        [ "$("$BERTH" volume ls -q)" = "apivol-used" ]
        dk volume create apivol-free2 >/dev/null
        [ "$(status -X POST /v1.41/volumes/prune)" = 200 ]
        body | jq -e '.VolumesDeleted == ["apivol-free2"] and (.SpaceReclaimed | type) == "number"'
        [ "$(status -X POST /v1.41/volumes/prune)" = 200 ]
        body | jq -e '.VolumesDeleted == null and .SpaceReclaimed == 0'
        "$BERTH" rm apivol-c >/dev/null
        run dk volume rm apivol-used
        assert_success
}

@test "api networks and volumes through docker-py 5.0.3" {
        [ -x /usr/bin/python3 ] || skip "needs /usr/bin/python3"
        /usr/bin/python3 -c 'import docker' 2>/dev/null || skip "needs docker-py for /usr/bin/python3"
        run /usr/bin/python3 -c '
import docker
c = docker.from_env()
n = c.networks.create("apinet-py", labels={"py": "1"})
print(n.name, len(n.id))
print([x.name for x in c.networks.list(names=["apinet-py"])])
print(c.networks.get("apinet-py").attrs["Labels"])
n.remove()
print([x.name for x in c.networks.list(names=["apinet-py"])])
v = c.volumes.create("apivol-py")
print(v.name, v.attrs["Driver"])
print([x.name for x in c.volumes.list()])
v.remove()
print([x.name for x in c.volumes.list()])
try:
    c.networks.get("apinet-py")
except docker.errors.NotFound as e:
    print("gone")
'
        assert_success
        [ "$output" = "$(printf "apinet-py 64\n['apinet-py']\n{'py': '1'}\n[]\napivol-py local\n['apivol-py']\n[]\ngone")" ]
}
