#!/usr/bin/env bats
# network.bats — `berth network …` end to end: Docker's network model, its records and texts,
# and (later in this file) containers on bridge networks.
load helpers
bats_require_minimum_version 1.5.0

setup_file() {
        berth_private_state
}

setup() {
        # removal takes a network's bridge down through netlink, which needs root even when
        # there is nothing to take down
        require_root
        require_cmd jq
}

teardown() {
        [ "$(id -u)" = 0 ] || return 0
        "$BERTH" network prune -f >/dev/null 2>&1 || true
}

# ---------------------------------------------------------------------------------------------
# network records
# (no container and no kernel bridge: a network's bridge is made when a container attaches)
# ---------------------------------------------------------------------------------------------

@test "network ls: bridge, host and none always exist, in Docker's columns" {
        run "$BERTH" network ls
        assert_success
        [ "$(echo "$output" | head -1 | tr -s ' ')" = "NETWORK ID NAME DRIVER SCOPE" ]
        [[ "$(echo "$output" | sed -n 2p)" =~ ^[0-9a-f]{12}\ +bridge\ +bridge\ +local$ ]]
        [[ "$(echo "$output" | sed -n 3p)" =~ ^[0-9a-f]{12}\ +host\ +host\ +local$ ]]
        [[ "$(echo "$output" | sed -n 4p)" =~ ^[0-9a-f]{12}\ +none\ +null\ +local$ ]]
        # bridge is made once: its id stays
        a=$("$BERTH" network ls -q --no-trunc --filter name=bridge)
        b=$("$BERTH" network inspect -f '{{.Id}}' bridge)
        [ "$a" = "$b" ] && [ ${#a} -eq 64 ]
        run "$BERTH" network inspect bridge
        assert_success
        echo "$output" | jq -e '.[0].Options["com.docker.network.bridge.name"] == "berth0"'
        echo "$output" | jq -e '.[0].Options["com.docker.network.bridge.default_bridge"] == "true"'
        echo "$output" | jq -e '.[0].IPAM.Config[0].Subnet | test("^(172\\.(1[7-9]|2[0-9]|3[01])\\.0\\.0/16|192\\.168\\.[0-9]+\\.0/20)$")'
}

@test "network create: an id, a subnet from the pools, a br- device; create does not make the bridge" {
        run "$BERTH" network create rec1
        assert_success
        [[ "$output" =~ ^[0-9a-f]{64}$ ]]
        id=$output
        run "$BERTH" network inspect rec1
        assert_success
        echo "$output" | jq -e --arg id "$id" '.[0].Id == $id'
        echo "$output" | jq -e --arg br "br-${id:0:12}" '.[0].Options["com.docker.network.bridge.name"] == $br'
        subnet=$(echo "$output" | jq -r '.[0].IPAM.Config[0].Subnet')
        gw=$(echo "$output" | jq -r '.[0].IPAM.Config[0].Gateway')
        bsubnet=$("$BERTH" network inspect -f '{{(index .IPAM.Config 0).Subnet}}' bridge)
        [ "$subnet" != "$bsubnet" ]
        [ "$gw" = "${subnet%.0/*}.1" ]
        [ ! -e "/sys/class/net/br-${id:0:12}" ]
}

@test "network create with --subnet, --gateway, --ip-range, labels and options" {
        run "$BERTH" network create -d bridge --subnet 10.231.0.0/16 --gateway 10.231.0.254 \
                --ip-range 10.231.8.0/24 --internal --attachable --label a=b --label c \
                -o com.docker.network.driver.mtu=1400 rec2
        assert_success
        run "$BERTH" network inspect rec2
        assert_success
        echo "$output" | jq -e '.[0].IPAM.Config == [{"Subnet": "10.231.0.0/16", "IPRange": "10.231.8.0/24", "Gateway": "10.231.0.254"}]'
        echo "$output" | jq -e '.[0].Internal == true and .[0].Attachable == true'
        echo "$output" | jq -e '.[0].Labels == {"a": "b", "c": ""}'
        echo "$output" | jq -e '.[0].Options["com.docker.network.driver.mtu"] == "1400"'
}

@test "network create --ipv6: a second IPAM config" {
        run "$BERTH" network create --ipv6 --subnet 10.232.0.0/24 --subnet fd00:232::/64 rec6
        assert_success
        run "$BERTH" network inspect rec6
        echo "$output" | jq -e '.[0].EnableIPv6 == true'
        echo "$output" | jq -e '.[0].IPAM.Config[1] == {"Subnet": "fd00:232::/64", "Gateway": "fd00:232::1"}'
        run "$BERTH" network create --ipv6 rec6b
        assert_success
        "$BERTH" network inspect rec6b | jq -e '.[0].IPAM.Config[1].Subnet | test("^fd[0-9a-f]{2}:[0-9a-f:]+/64$")'
}

@test "network create refusals: Docker's texts, exit status 1" {
        "$BERTH" network create --subnet 10.233.0.0/16 dup
        run "$BERTH" network create dup
        assert_failure 1
        assert_output_contains "network with name dup already exists"
        run "$BERTH" network create --subnet 10.233.4.0/24 other
        assert_failure 1
        assert_output_contains "Pool overlaps with other one on this address space"
        run "$BERTH" network create --subnet 10.234.0.0/16 --gateway 10.235.0.1 badgw
        assert_failure 1
        assert_output_contains "no matching subnet for gateway 10.235.0.1"
        run "$BERTH" network create --subnet 10.234.0.0/16 --ip-range 10.236.0.0/24 badrange
        assert_failure 1
        assert_output_contains "no matching subnet for range 10.236.0.0/24"
        run "$BERTH" network create --gateway 10.234.0.1 nosubnet
        assert_failure 1
        assert_output_contains "every ip-range or gateway must have a corresponding subnet"
        run "$BERTH" network create --subnet 10.234.0.0/33 badcidr
        assert_failure 1
        assert_output_contains "Invalid subnet 10.234.0.0/33 : invalid CIDR address: 10.234.0.0/33"
        run "$BERTH" network create -d overlay ov
        assert_failure 1
        assert_output_contains 'plugin "overlay" not found'
        run "$BERTH" network create bridge
        assert_failure 1
        assert_output_contains "operation is not permitted on predefined bridge network"
        run "$BERTH" network create 'bad/name'
        assert_failure 1
        assert_output_contains 'invalid name'
        # an argument count is no flag error: Docker's status 1
        run "$BERTH" network create
        assert_failure 1
        run "$BERTH" network create --bogus x
        assert_failure 125
        # nothing was left of the refused ones
        run "$BERTH" network ls --format '{{.Name}}'
        [ "$output" = "$(printf 'bridge\ndup\nhost\nnone')" ]
}

@test "network ls: -q, --filter, --format, --no-trunc" {
        "$BERTH" network create --label team=a lsa >/dev/null
        "$BERTH" network create --label team=b lsb >/dev/null
        run "$BERTH" network ls --format '{{.Name}}'
        assert_success
        [ "$output" = "$(printf 'bridge\nhost\nlsa\nlsb\nnone')" ]
        run "$BERTH" network ls -q
        [ "$(echo "$output" | wc -l)" -eq 5 ]
        [[ "$(echo "$output" | head -1)" =~ ^[0-9a-f]{12}$ ]]
        run "$BERTH" network ls -q --no-trunc --filter name=lsa
        [[ "$output" =~ ^[0-9a-f]{64}$ ]]
        [ "$output" = "$("$BERTH" network inspect -f '{{.Id}}' lsa)" ]
        run "$BERTH" network ls --filter name=ls --format '{{.Name}}'
        [ "$output" = "$(printf 'lsa\nlsb')" ]
        run "$BERTH" network ls --filter label=team=b --format '{{.Name}}'
        [ "$output" = "lsb" ]
        run "$BERTH" network ls --filter label=team --format '{{.Name}} {{.Labels}}'
        [ "$output" = "$(printf 'lsa team=a\nlsb team=b')" ]
        run "$BERTH" network ls --filter type=custom --format '{{.Name}}'
        [ "$output" = "$(printf 'lsa\nlsb')" ]
        run "$BERTH" network ls --filter type=builtin --format '{{.Name}}'
        [ "$output" = "$(printf 'bridge\nhost\nnone')" ]
        run "$BERTH" network ls --filter driver=null --format '{{.Name}}'
        [ "$output" = "none" ]
        run "$BERTH" network ls --filter dangling=true --format '{{.Name}}'
        [ "$output" = "$(printf 'lsa\nlsb')" ]
        run "$BERTH" network ls --filter name=lsa --filter name=lsb --format '{{.Name}}'
        [ "$output" = "$(printf 'lsa\nlsb')" ]
        id=$("$BERTH" network inspect -f '{{.Id}}' lsa)
        run "$BERTH" network ls --filter id="${id:0:20}" --format '{{.Name}}'
        [ "$output" = "lsa" ]
        run "$BERTH" network ls --format json --filter name=lsb
        echo "$output" | jq -e '.Name == "lsb" and .Driver == "bridge" and .Scope == "local" and .Labels == "team=b"'
        run "$BERTH" network ls --format 'table {{.Name}}\t{{.Driver}}' --filter name=lsa
        [ "$(echo "$output" | head -1 | tr -s ' ')" = "NAME DRIVER" ]
        run "$BERTH" network ls --filter bogus=1
        assert_failure 1
        assert_output_contains "invalid filter 'bogus'"
}

@test "network inspect: Docker's NetworkResource, a JSON array, -f, missing names" {
        "$BERTH" network create --subnet 10.237.0.0/24 insp >/dev/null
        run "$BERTH" network inspect insp
        assert_success
        echo "$output" | jq -e 'length == 1'
        echo "$output" | jq -e '.[0] | keys_unsorted == ["Name", "Id", "Created", "Scope", "Driver", "EnableIPv6", "IPAM", "Internal", "Attachable", "Ingress", "ConfigFrom", "ConfigOnly", "Containers", "Options", "Labels"]'
        echo "$output" | jq -e '.[0] | .Name == "insp" and .Scope == "local" and .Driver == "bridge" and .EnableIPv6 == false and .Internal == false and .Attachable == false and .Ingress == false and .ConfigOnly == false'
        echo "$output" | jq -e '.[0].IPAM == {"Driver": "default", "Options": {}, "Config": [{"Subnet": "10.237.0.0/24", "Gateway": "10.237.0.1"}]}'
        echo "$output" | jq -e '.[0].ConfigFrom == {"Network": ""} and .[0].Containers == {} and .[0].Labels == {}'
        echo "$output" | jq -e '.[0].Created | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$")'
        # by id and by id prefix
        id=$(echo "$output" | jq -r '.[0].Id')
        [ "$("$BERTH" network inspect -f '{{.Name}}' "$id")" = insp ]
        [ "$("$BERTH" network inspect -f '{{.Name}}' "${id:0:12}")" = insp ]
        # host and none
        run "$BERTH" network inspect host none
        echo "$output" | jq -e '[.[].Driver] == ["host", "null"] and ([.[].IPAM.Config | length] == [0, 0])'
        run "$BERTH" network inspect -f '{{.Name}} {{.Driver}}' insp bridge
        [ "$output" = "$(printf 'insp bridge\nbridge bridge')" ]
        run "$BERTH" network inspect insp nosuch
        assert_failure 1
        assert_output_contains "network nosuch not found"
        assert_output_contains '"Name": "insp"'
}

@test "network rm: names printed, predefined refused, in-use refused, status 1 on any failure" {
        "$BERTH" network create rma >/dev/null
        "$BERTH" network create rmb >/dev/null
        run "$BERTH" network rm bridge
        assert_failure 1
        assert_output_contains "bridge is a pre-defined network and cannot be removed"
        run "$BERTH" network rm host
        assert_failure 1
        assert_output_contains "host is a pre-defined network and cannot be removed"
        run "$BERTH" network rm rma nosuch rmb
        assert_failure 1
        assert_output_contains "network nosuch not found"
        [ "$(echo "$output" | grep -v nosuch)" = "$(printf 'rma\nrmb')" ]
        run "$BERTH" network ls --filter type=custom -q
        [ -z "$output" ]
        run "$BERTH" network rm -f nosuch
        assert_success
        # an attached container: an endpoint in the network's live directory
        id=$("$BERTH" network create rmc)
        mkdir -p "$BERTH_RUN_DIR/net/$id/endpoints"
        touch "$BERTH_RUN_DIR/net/$id/endpoints/0123456789ab"
        run "$BERTH" network rm rmc
        assert_failure 1
        assert_output_contains "error while removing network: network rmc id $id has active endpoints"
        rm "$BERTH_RUN_DIR/net/$id/endpoints/0123456789ab"
        run "$BERTH" network remove rmc
        assert_success
        [ "$output" = rmc ]
        [ ! -e "$BERTH_RUN_DIR/net/$id" ]
        [ ! -e "$BERTH_DATA_DIR/networks/$id.json" ]
}

@test "network prune: asks, removes unused custom networks, keeps used ones, filters" {
        "$BERTH" network create pa >/dev/null
        "$BERTH" network create --label keep=yes pb >/dev/null
        id=$("$BERTH" network create pc)
        mkdir -p "$BERTH_RUN_DIR/net/$id/endpoints"
        touch "$BERTH_RUN_DIR/net/$id/endpoints/0123456789ab"
        run "$BERTH" network prune <<<"n"
        assert_success
        assert_output_contains "WARNING! This will remove all custom networks not used by at least one container."
        assert_output_contains "Are you sure you want to continue? [y/N]"
        [ "$("$BERTH" network ls --filter type=custom -q | wc -l)" -eq 3 ]
        run "$BERTH" network prune -f --filter label!=keep=yes
        assert_success
        [ "$output" = "$(printf 'Deleted Networks:\npa')" ]
        run "$BERTH" network prune <<<"y"
        assert_success
        assert_output_contains "$(printf 'Deleted Networks:\npb')"
        refute_output_contains "pc"
        run "$BERTH" network ls --format '{{.Name}}'
        [ "$output" = "$(printf 'bridge\nhost\nnone\npc')" ]
        run "$BERTH" network prune -f
        [ -z "$output" ]
        rm -r "$BERTH_RUN_DIR/net/$id/endpoints"
}

@test "network --help lists Docker's commands; unknown subcommands are usage errors" {
        run "$BERTH" network --help
        assert_success
        for c in connect create disconnect inspect ls prune rm; do
                echo "$output" | grep -qE "^  $c +"
        done
        run "$BERTH" network create --help
        assert_success
        assert_output_contains "Usage: berth network create [OPTIONS] NETWORK"
        # Docker: an unknown subcommand fails with 1; the group alone prints its help, status 0
        run "$BERTH" network frob
        assert_failure 1
        run "$BERTH" network
        assert_success
        run "$BERTH" --help
        assert_output_contains "network"
}
