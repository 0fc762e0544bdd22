#!/usr/bin/env bats
# api_run_flags.bats — the HostConfig fields of issue #16's run flags through the Engine API:
# the docker CLI 28 sends them to `berth system service`, which builds the container with the
# same spec code as `berth run` (block IO, --cgroupns, --domainname, --volumes-from,
# --storage-opt).
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
        api_setup docker
}

teardown() {
        api_teardown
}

@test "API create: block IO, cgroupns and domainname from the docker CLI reach HostConfig and the container" {
        dev=""
        for d in /sys/block/*; do
                n=${d##*/}
                case "$n" in loop* | ram* | zram* | nbd*) continue ;; esac
                [ -b "/dev/$n" ] && { dev="/dev/$n"; break; }
        done
        [ -n "$dev" ] || skip "no block device in /sys/block with a node in /dev"
        run dk create --name apirf --device-read-bps "$dev:1mb" --device-write-iops "$dev:77" \
                --cgroupns private --domainname example.org busybox cat /proc/sys/kernel/domainname
        assert_success
        run dk inspect -f '{{json .HostConfig.BlkioDeviceReadBps}} {{json .HostConfig.BlkioDeviceWriteIOps}} {{.HostConfig.CgroupnsMode}} {{.Config.Domainname}}' apirf
        assert_success
        [ "$output" = "[{\"Path\":\"$dev\",\"Rate\":1048576}] [{\"Path\":\"$dev\",\"Rate\":77}] private example.org" ]
        run dk start -a apirf
        assert_success
        [ "$output" = "example.org" ]
        # the throttles are in the runtime's config.json by major:minor
        majmin=$(printf '%d:%d' 0x$(stat -c %t "$dev") 0x$(stat -c %T "$dev"))
        id=$(dk inspect -f '{{.Id}}' apirf)
        run python3 -c 'import json,sys; b=json.load(open(sys.argv[1]))["linux"]["resources"].get("blockIO",{}); print(" ".join("%d:%d=%d" % (d["major"], d["minor"], d["rate"]) for k in ("throttleReadBpsDevice","throttleWriteIOPSDevice") for d in b.get(k,[])))' \
                "$BERTH_RUN_DIR/containers/$id/config.json"
        assert_success
        if [ -f /sys/fs/cgroup/blkio/blkio.throttle.read_bps_device ] || grep -qw io /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
                [ "$output" = "$majmin=1048576 $majmin=77" ]
        else
                [ -z "$output" ] # dropped with Docker's warning where the host can't throttle
        fi
}

@test "API create: --volumes-from another container, and --storage-opt refused as dockerd does" {
        mkdir -p "$BATS_TEST_TMPDIR/h"
        echo shared >"$BATS_TEST_TMPDIR/h/f"
        dk create --name apirf-src -v "$BATS_TEST_TMPDIR/h:/h:ro" busybox true >/dev/null
        run dk run --rm --volumes-from apirf-src busybox cat /h/f
        assert_success
        [ "$output" = "shared" ]
        run dk create --volumes-from apirf-nosuch busybox true
        assert_failure
        assert_output_contains "No such container: apirf-nosuch"
        if [ "$(stat -fc %T "$BERTH_DATA_DIR")" != xfs ]; then
                run dk create --storage-opt size=1G busybox true
                assert_failure
                assert_output_contains "--storage-opt is supported only for overlay over xfs with 'pquota' mount option"
        fi
}
