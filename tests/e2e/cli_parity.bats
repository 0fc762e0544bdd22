#!/usr/bin/env bats
# cli_parity.bats — Docker's behaviours that tests/compat found berth lacking, kept here too so
# they stay checked on hosts without dockerd (where tests/compat skips). Each test names the
# compat scenarios it backs.
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
        [ "$(id -u)" = 0 ] || return 0
        "$BERTH" volume prune -af >/dev/null 2>&1 || true
}

@test "inspect: -f applies to images too; each name a container, else an image; Docker's missing words" {
        # compat: inspect-image-fields, commit-change, inspect-missing, inspect-container-missing
        "$BERTH" create --name ip-c busybox >/dev/null
        run "$BERTH" inspect -f '{{.Os}} {{.RootFS.Type}}' busybox
        assert_success
        [ "$output" = "linux layers" ]
        id=$("$BERTH" inspect -f '{{.Id}}' ip-c)
        run "$BERTH" inspect -f '{{.Id}}' ip-c busybox
        assert_success
        [ "$(echo "$output" | sed -n 1p)" = "$id" ]
        [[ "$(echo "$output" | sed -n 2p)" == sha256:* ]]
        run --separate-stderr "$BERTH" inspect nope-x
        [ "$status" -eq 1 ]
        [ "$output" = "[]" ]
        [ "$stderr" = "berth: No such object: nope-x" ]
        run --separate-stderr "$BERTH" container inspect busybox
        [ "$status" -eq 1 ]
        [ "$stderr" = "berth: No such container: busybox" ]
        run "$BERTH" inspect -f '{{.Nope' ip-c
        [ "$status" -eq 64 ] # docker's status for a template that does not parse
}

@test "ps: a bad --format fails (status 1) even with no container; ancestor and health filters" {
        # compat: ps-format-bad, ps-filter-ancestor, ps-filter-health-bad
        run "$BERTH" ps --format '{{.Nope}}'
        [ "$status" -eq 1 ]
        run "$BERTH" ps --format 'table {{.Names}}'
        assert_success
        "$BERTH" create --name pa-1 busybox >/dev/null
        run "$BERTH" ps -a --filter ancestor=busybox:latest --format '{{.Names}}'
        [ "$output" = "pa-1" ]
        run "$BERTH" ps --filter health=bogus
        [ "$status" -eq 1 ]
        assert_output_contains "Unrecognised filter value for health: bogus"
        run "$BERTH" ps --filter name
        [ "$status" -eq 125 ]
        assert_output_contains 'invalid argument "name" for "-f, --filter" flag'
}

@test "rm -f of a missing container succeeds; kill and start say which container failed" {
        # compat: rm-force-missing, kill-missing, start-missing
        run --separate-stderr "$BERTH" rm -f nope-c
        assert_success
        [ "$stderr" = "berth: No such container: nope-c" ]
        run --separate-stderr "$BERTH" kill nope-c
        [ "$status" -eq 1 ]
        [ "$stderr" = "berth: Cannot kill container: nope-c: No such container: nope-c" ]
        run --separate-stderr "$BERTH" start nope-c nope-d
        [ "$status" -eq 1 ]
        [ "$(echo "$stderr" | tail -1)" = "berth: failed to start containers: nope-c, nope-d" ]
}

@test "argument counts and unknown subcommands: Docker's words, status 1; groups alone: help, 0" {
        # compat: rm-no-args, rename-bad-args, group-unknown-*, volume-no-args, network-no-args
        run --separate-stderr "$BERTH" rm
        [ "$status" -eq 1 ]
        [ "$stderr" = "berth: 'berth rm' requires at least 1 argument" ]
        run --separate-stderr "$BERTH" rename onlyone
        [ "$status" -eq 1 ]
        [ "$stderr" = "berth: 'berth rename' requires 2 arguments" ]
        run --separate-stderr "$BERTH" volume frob
        [ "$status" -eq 1 ]
        [ "$stderr" = "berth: unknown command: berth volume frob" ]
        run --separate-stderr "$BERTH" volume
        assert_success
        [ -z "$output" ]
        [[ "$stderr" == *"Run 'berth volume COMMAND --help'"* ]]
        run "$BERTH" cp a b
        [ "$status" -eq 1 ]
}

@test "images: a REPOSITORY argument is a reference pattern; load -q still names the image" {
        # compat: images-ref, load-stdin-q, logs-tail-bad
        "$BERTH" tag busybox ir/a:1
        run "$BERTH" images --format '{{.Repository}}:{{.Tag}}' 'ir/*'
        [ "$output" = "ir/a:1" ]
        "$BERTH" save -o "$BATS_TEST_TMPDIR/a.tar" ir/a:1
        "$BERTH" rmi ir/a:1 >/dev/null
        run "$BERTH" load -q -i "$BATS_TEST_TMPDIR/a.tar"
        assert_success
        [ "$output" = "Loaded image: ir/a:1" ]
        "$BERTH" rmi ir/a:1 >/dev/null
        run "$BERTH" images --filter bogus=1
        [ "$status" -eq 1 ]
        run "$BERTH" load -i "$BATS_TEST_TMPDIR/none.tar"
        [ "$status" -eq 1 ]
        assert_output_contains "no such file or directory"
}

@test "logs --tail that is no number shows everything; volume prune --filter" {
        # compat: logs-tail-bad, volume-prune
        "$BERTH" run --name lt busybox sh -c 'echo a; echo b' >/dev/null
        run "$BERTH" logs --tail abc lt
        assert_success
        [ "$output" = "$(printf 'a\nb')" ]
        a=$("$BERTH" volume create)
        b=$("$BERTH" volume create --label keep=1)
        run "$BERTH" volume prune -f --filter 'label!=keep'
        assert_success
        assert_output_contains "$a"
        refute_output_contains "$b"
        run "$BERTH" volume ls -q
        [ "$output" = "$b" ]
}
