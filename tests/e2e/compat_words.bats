#!/usr/bin/env bats
# compat_words.bats — Docker's users, groups and words that tests/compat checks against dockerd
# (issue #16), kept here with what the scenarios leave out (exec -u with --group-add, other
# commands' flag errors, the archive's repositories file), so they stay checked on hosts
# without dockerd. Each test names the compat scenarios it backs.
load helpers
bats_require_minimum_version 1.5.0

setup_file() {
        berth_busybox_setup_file
}

setup() {
        berth_busybox_setup
}

teardown() {
        berth_rm_all_containers
}

@test "users: the primary group leads the supplementary ones, for run -u and exec -u" {
        # compat: run-user-uid, run-user-name, run-user-uid-gid, exec-user-name,
        # exec-user-name-group
        run "$BERTH" run --rm -u 1234 busybox id
        assert_success
        [ "$output" = "uid=1234 gid=0(root) groups=0(root)" ]
        run "$BERTH" run --rm -u 1:2 busybox id
        [ "$output" = "uid=1 gid=2 groups=2" ]
        run "$BERTH" run --rm -u nobody --group-add 7 busybox id -G
        [ "$output" = "65534 7" ]
        # exec -u replaces the groups: its own primary one, then the container's --group-add
        "$BERTH" run -d --name cw-g --group-add 7 busybox sleep 100 >/dev/null
        run "$BERTH" exec cw-g id -G
        [ "$output" = "0 7" ]
        run "$BERTH" exec -u nobody cw-g id
        [ "$output" = "uid=65534(nobody) gid=65534(nogroup) groups=7,65534(nogroup)" ] # sorted
        run "$BERTH" exec -u nobody:root cw-g id -G
        [ "$output" = "0 7" ]
        run "$BERTH" exec -u 4321:4321 cw-g id -G
        [ "$output" = "4321 7" ]
}

@test "flags: an unknown one is Docker's 'unknown flag' (125) for every command" {
        # compat: ps-bad-flag, run-bad-flag
        for cmd in ps "image ls" "volume ls" "network ls" "container ls" images; do
                run $BERTH $cmd --bogus
                [ "$status" -eq 125 ]
                [[ "${lines[0]}" == "berth: unknown flag: --bogus (see \`berth "*" --help\`)" ]]
        done
        run "$BERTH" ps -az -q
        [ "$status" -eq 125 ]
        assert_output_contains "unknown shorthand flag: 'z' in -az"
        # last of all, getopt can't tell an unknown letter from one missing its value
        run "$BERTH" ps -z
        [ "$status" -eq 125 ]
        assert_output_contains "unknown shorthand flag, or one that needs an argument: 'z' in -z"
        run "$BERTH" ps --filter
        [ "$status" -eq 125 ]
        assert_output_contains "flag needs an argument: --filter"
        run "$BERTH" ps --bogus=1
        assert_output_contains "unknown flag: --bogus"
        refute_output_contains "unrecognized option"
}

@test "run flags: Docker's words for bad values" {
        # compat: run-env-file-missing, run-restart-bad, run-rm-and-restart, run-cpus-bad,
        # run-memory-bad, run-cap-bad, run-missing-image-pullnever, create-missing-image
        run "$BERTH" run --rm --env-file nope.env busybox true
        [ "$status" -eq 125 ]
        [ "$output" = "berth: open nope.env: no such file or directory" ]
        run "$BERTH" run --restart bogus busybox true
        [ "$output" = "berth: invalid restart policy 'bogus'" ]
        run "$BERTH" run --rm --restart always busybox true
        [ "$output" = "berth: conflicting options: cannot specify both --restart and --rm" ]
        run "$BERTH" run --rm --cpus abc busybox true
        [ "$output" = "berth: invalid argument \"abc\" for \"--cpus\" flag: failed to parse abc as a rational number" ]
        run "$BERTH" run --rm -m 1zz busybox true
        [ "$output" = "berth: invalid argument \"1zz\" for \"-m, --memory\" flag: invalid suffix: 'zz'" ]
        run "$BERTH" run --rm --cap-add NOPE busybox true
        [ "$status" -eq 125 ]
        [ "$output" = "berth: invalid CapAdd: unknown capability: \"CAP_NOPE\"" ]
        run "$BERTH" create --pull never 127.0.0.1:1/nope
        [ "$status" -eq 1 ]
        [ "$output" = "berth: No such image: 127.0.0.1:1/nope:latest" ]
        run "$BERTH" run --pull never 127.0.0.1:1/nope
        [ "$status" -eq 125 ]
        run "$BERTH" run --rm 'UPPER:case' true
        [ "$status" -eq 125 ]
        [ "$output" = "berth: invalid reference format: repository name (library/UPPER) must be lowercase" ]
        [ -z "$("$BERTH" ps -aq)" ]
}

@test "images: Docker's words for bad names, missing and used images" {
        # compat: tag-bad-name, inspect-image-missing, inspect-type-container, rmi-in-use,
        # commit-bad-change, save-missing
        run "$BERTH" tag busybox 'Bad:Name'
        [ "$status" -eq 1 ]
        [ "$output" = 'berth: Error parsing reference: "Bad:Name" is not a valid repository/tag: invalid reference format: repository name (library/Bad) must be lowercase' ]
        run --separate-stderr "$BERTH" image inspect -f '{{.Id}}' nope-i
        [ "$status" -eq 1 ]
        [ "$output" = "" ] # docker's empty line (bats drops its newline)
        [ "$stderr" = "berth: no such image: nope-i: No such image: nope-i:latest" ]
        id=$("$BERTH" create --name cw-r busybox)
        run "$BERTH" rmi busybox
        [ "$status" -eq 1 ]
        assert_output_contains "conflict: unable to remove repository reference \"busybox\" (must force) - container ${id:0:12} is using its referenced image "
        run "$BERTH" commit --change 'BOGUS x' cw-r cwimg
        [ "$status" -eq 1 ]
        [ "${lines[0]%%: Invalid argument}" = "berth: bogus is not a valid change command" ]
        run "$BERTH" save nosuchimage -o x.tar
        [ "$status" -eq 1 ]
        [ "$output" = "berth: No such image: nosuchimage" ]
}

@test "save: the docker-archive has Docker's legacy repositories file; load takes it back" {
        # compat: save-stdout-contents, save-load
        top=$("$BERTH" image inspect -f '{{json .RootFS.Layers}}' busybox | jq -r '.[-1]')
        [ -n "$top" ]
        "$BERTH" save -o "$BATS_TEST_TMPDIR/b.tar" busybox
        run tar -xOf "$BATS_TEST_TMPDIR/b.tar" repositories
        assert_success
        # the top layer's blob; for busybox's one uncompressed layer, its diff id
        [ "$(jq -r '.busybox.latest' <<<"$output")" = "${top#sha256:}" ]
        "$BERTH" tag busybox cw-save:1
        "$BERTH" save -o "$BATS_TEST_TMPDIR/c.tar" cw-save:1
        "$BERTH" rmi cw-save:1 >/dev/null
        run "$BERTH" load -i "$BATS_TEST_TMPDIR/c.tar"
        assert_success
        [ "$output" = "Loaded image: cw-save:1" ]
        "$BERTH" rmi cw-save:1 >/dev/null
}

@test "inspect -s: SizeRw and SizeRootFs, after GraphDriver" {
        # compat: inspect-size-flag
        "$BERTH" create --name cw-s busybox >/dev/null
        run "$BERTH" inspect -s -f '{{.SizeRw}} {{.SizeRootFs}}' cw-s
        assert_success
        read -r rw rootfs <<<"$output"
        [ "$rw" -ge 0 ] && [ "$rootfs" -gt "$rw" ]
        run "$BERTH" inspect -f '{{json .SizeRw}}' cw-s
        [ "$output" = "null" ] || [ "$output" = "<no value>" ] || assert_failure
        keys=$("$BERTH" inspect -s cw-s | jq -r '.[0] | keys_unsorted | join(" ")')
        [[ "$keys" == *"GraphDriver SizeRw SizeRootFs"* ]]
}

@test "network create: a bad subnet in dockerd's words" {
        # compat: network-create-bad-subnet
        run "$BERTH" network create --subnet 10.0.0.0/99 cw-n
        [ "$status" -eq 1 ]
        [ "${lines[0]%%: Invalid argument}" = "berth: Invalid subnet 10.0.0.0/99 : invalid CIDR address: 10.0.0.0/99" ]
}
