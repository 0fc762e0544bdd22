#!/usr/bin/env bats
# run_flags.bats — the `docker run`/`create` flags of issue #16 (--volumes-from, --cidfile, -a,
# --cgroupns, --domainname, --annotation, block IO, --storage-opt), each checked against what
# Docker does (dockerd 20.10 + docker CLI 28.2 gave the messages and inspect shapes).
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
        "$BERTH" volume rm -f rf-vol >/dev/null 2>&1 || true
        storage_xfs_teardown
}

hc() { "$BERTH" inspect --format "{{json .HostConfig.$2}}" "$1"; }

@test "--volumes-from: another container's binds and volumes, with its modes and :ro" {
        mkdir -p "$BATS_TEST_TMPDIR/h"
        echo from-host >"$BATS_TEST_TMPDIR/h/f"
        "$BERTH" create --name rf-src -v "$BATS_TEST_TMPDIR/h:/h" -v rf-vol:/v \
                -v "$BATS_TEST_TMPDIR:/ro-there:ro" busybox true >/dev/null
        run "$BERTH" run --rm --volumes-from rf-src busybox sh -c 'cat /h/f; echo w >/v/f && echo wrote'
        assert_success
        [ "$output" = "from-host
wrote" ]
        # the volume is the same volume, not a copy
        run "$BERTH" run --rm --volumes-from rf-src busybox cat /v/f
        [ "$output" = "w" ]
        # read-only where it was read-only, and everywhere with :ro
        run "$BERTH" run --rm --volumes-from rf-src busybox touch /ro-there/x
        assert_failure
        assert_output_contains "Read-only file system"
        run "$BERTH" run --rm --volumes-from rf-src:ro busybox touch /h/x
        assert_failure
        assert_output_contains "Read-only file system"
        [ ! -e "$BATS_TEST_TMPDIR/h/x" ]
        # inspect: HostConfig.VolumesFrom as given, Mounts with the modes applied
        id=$("$BERTH" create --volumes-from rf-src:ro busybox true)
        [ "$(hc "$id" VolumesFrom)" = '["rf-src:ro"]' ]
        run "$BERTH" inspect --format '{{range .Mounts}}{{.Destination}}={{.RW}} {{end}}' "$id"
        assert_output_contains "/h=false"
        assert_output_contains "/v=false"
        # a mount of the container's own wins at the same destination
        mkdir -p "$BATS_TEST_TMPDIR/own"
        echo own >"$BATS_TEST_TMPDIR/own/f"
        run "$BERTH" run --rm --volumes-from rf-src -v "$BATS_TEST_TMPDIR/own:/h" busybox cat /h/f
        [ "$output" = "own" ]
        # Docker's daemon messages: create returns them plainly (1), run wraps them in 125
        run "$BERTH" create --volumes-from rf-nosuch busybox true
        [ "$status" -eq 1 ]
        assert_output_contains "No such container: rf-nosuch"
        run "$BERTH" run --rm --volumes-from rf-nosuch busybox true
        [ "$status" -eq 125 ]
        assert_output_contains "No such container: rf-nosuch"
        run "$BERTH" create --volumes-from rf-src:bogus busybox true
        [ "$status" -eq 1 ]
        assert_output_contains "invalid mode: bogus"
        # the volume is in use by the containers that mount it through --volumes-from
        "$BERTH" rm -f rf-src >/dev/null
        run "$BERTH" volume rm rf-vol
        assert_failure
        assert_output_contains "in use"
}

@test "--cidfile: the full id, no newline; refused when the file exists (run 125, create 1); removed on failure" {
        f="$BATS_TEST_TMPDIR/cid"
        run "$BERTH" run --cidfile "$f" busybox true
        assert_success
        id=$("$BERTH" ps -aq --no-trunc | head -1)
        [ "$(cat "$f")" = "$id" ]
        [ "$(wc -c <"$f")" -eq 64 ]
        [ "$(hc "$id" ContainerIDFile)" = "\"$f\"" ]
        run "$BERTH" run --cidfile "$f" busybox true
        [ "$status" -eq 125 ]
        assert_output_contains "container ID file found, make sure the other container isn't running or delete $f"
        run "$BERTH" create --cidfile "$f" busybox true
        [ "$status" -eq 1 ]
        run "$BERTH" create --cidfile "$BATS_TEST_TMPDIR/nodir/cid" busybox true
        [ "$status" -eq 1 ]
        assert_output_contains "failed to create the container ID file: open $BATS_TEST_TMPDIR/nodir/cid"
        # a create that fails leaves no file behind
        run "$BERTH" create --cidfile "$BATS_TEST_TMPDIR/cid2" --pull never rf-no-such-image true
        assert_failure
        [ ! -e "$BATS_TEST_TMPDIR/cid2" ]
        # and run -d writes it too
        run "$BERTH" run -d --cidfile "$BATS_TEST_TMPDIR/cid3" busybox true
        assert_success
        [ "$(cat "$BATS_TEST_TMPDIR/cid3")" = "$output" ]
}

@test "exit statuses: create returns dockerd's refusals plainly (1), run wraps them (125); the CLI's own errors are 125 for both" {
        # measured against dockerd 20.10 + the docker 28 CLI (tests/compat create-*)
        "$BERTH" create --name rf-clash busybox true >/dev/null
        local daemon=(
                "--name rf-clash"
                "--name bad!name"
                "-w rel"
                "--restart bogus"
                "--restart always:3"
                "--stop-signal BOGUS"
                "--cap-add NOPE"
                "-m 1k"
                "--oom-score-adj 2000"
                "--log-opt nope=1"
                "--link rf-nosuch:x"
                "--ipc container:rf-nosuch"
                "--volumes-from rf-nosuch"
                "--mount type=bind,source=/rf/no/such,target=/x"
                "--mount type=bogus,target=/x"
                "-v /tmp:rel"
                "-v /tmp:/x:bogus"
                "--tmpfs rel"
        )
        local f
        for f in "${daemon[@]}"; do
                # shellcheck disable=SC2086 # the words of one flag
                run "$BERTH" create $f busybox true
                [ "$status" -eq 1 ] || { echo "create $f: $status: $output"; false; }
                # shellcheck disable=SC2086
                run "$BERTH" run --rm $f busybox true
                [ "$status" -eq 125 ] || { echo "run $f: $status: $output"; false; }
        done
        run "$BERTH" create --name rf-clash busybox true
        assert_output_contains 'Conflict. The container name "/rf-clash" is already in use by container'
        run "$BERTH" create --stop-signal BOGUS busybox true
        assert_output_contains "Invalid signal: BOGUS"
        run "$BERTH" create --link rf-nosuch:x busybox true
        assert_output_contains "could not get container for rf-nosuch: No such container: rf-nosuch"
        run "$BERTH" create -v /tmp:rel busybox true
        assert_output_contains "invalid volume specification: '/tmp:rel': invalid mount config for type \"bind\": invalid mount path: 'rel' mount path must be absolute"
        local cli=(
                "--cpus abc"
                "-m 1zz"
                "-p 99999:80"
                "--restart on-failure:x"
                "--ulimit nofile=abc"
                "--env-file $BATS_TEST_TMPDIR/rf-nosuch.env"
                "--dns bogus"
                "--health-interval -1s"
                "--pull bogus"
                "--bogus"
        )
        for f in "${cli[@]}"; do
                # shellcheck disable=SC2086
                run "$BERTH" create $f busybox true
                [ "$status" -eq 125 ] || { echo "create $f: $status: $output"; false; }
        done
        run "$BERTH" create --ulimit nofile=abc busybox true
        assert_output_contains 'invalid argument "nofile=abc" for "--ulimit" flag: strconv.ParseInt: parsing "abc": invalid syntax'
        # nothing was made by the refusals
        [ "$("$BERTH" ps -aq | wc -l)" -eq 1 ]
        # -h is --hostname, never help
        id=$("$BERTH" create -h rf-box busybox true)
        [ "$("$BERTH" inspect --format '{{.Config.Hostname}}' "$id")" = rf-box ]
}

@test "-a/--attach: an attached run shows only the streams asked for; -a with -d is refused" {
        cmd='echo out; echo err >&2'
        out=$("$BERTH" run --rm -a stdout busybox sh -c "$cmd" 2>"$BATS_TEST_TMPDIR/err")
        [ "$out" = "out" ]
        [ ! -s "$BATS_TEST_TMPDIR/err" ]
        out=$("$BERTH" run --rm -a stderr busybox sh -c "$cmd" 2>"$BATS_TEST_TMPDIR/err")
        [ -z "$out" ]
        [ "$(cat "$BATS_TEST_TMPDIR/err")" = "err" ]
        out=$("$BERTH" run --rm -a STDOUT --attach stderr busybox sh -c "$cmd" 2>&1)
        [ "$(echo "$out" | sort | tr '\n' ' ')" = "err out " ]
        # stdin reaches the container with -i -a stdin
        out=$(echo piped | "$BERTH" run --rm -i -a stdin -a stdout busybox cat)
        [ "$out" = "piped" ]
        id=$("$BERTH" create -a stdout busybox true)
        run "$BERTH" inspect --format '{{.Config.AttachStdin}} {{.Config.AttachStdout}} {{.Config.AttachStderr}}' "$id"
        [ "$output" = "false true false" ]
        # Docker's `create` records stdout and stderr when -a is not given
        id=$("$BERTH" create busybox true)
        run "$BERTH" inspect --format '{{.Config.AttachStdin}} {{.Config.AttachStdout}} {{.Config.AttachStderr}}' "$id"
        [ "$output" = "false true true" ]
        run "$BERTH" run -d -a stdout busybox true
        [ "$status" -eq 1 ]
        assert_output_contains "conflicting options: cannot specify both --attach and --detach"
        run "$BERTH" run -a foo busybox true
        [ "$status" -eq 125 ]
        assert_output_contains 'invalid argument "foo" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR'
}

@test "--cgroupns host|private; the default is Docker's (private on cgroup v2, host on v1) and inspect shows it" {
        [ -e /proc/self/ns/cgroup ] || skip "the kernel has no cgroup namespaces"
        if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then want=private; else want=host; fi
        id=$("$BERTH" create busybox true)
        [ "$(hc "$id" CgroupnsMode)" = "\"$want\"" ]
        host_ns=$(readlink /proc/self/ns/cgroup)
        run "$BERTH" run --rm --cgroupns host busybox readlink /proc/self/ns/cgroup
        assert_success
        [ "$output" = "$host_ns" ]
        run "$BERTH" run --rm --cgroupns private busybox readlink /proc/self/ns/cgroup
        assert_success
        [ -n "$output" ] && [ "$output" != "$host_ns" ]
        id=$("$BERTH" create --cgroupns private busybox true)
        [ "$(hc "$id" CgroupnsMode)" = '"private"' ]
        run "$BERTH" create --cgroupns bogus busybox true
        [ "$status" -eq 125 ]
        assert_output_contains "--cgroupns: invalid CGROUP mode"
}

@test "--domainname: the container's NIS domain name, Config.Domainname" {
        run "$BERTH" run --rm --domainname example.org busybox cat /proc/sys/kernel/domainname
        assert_success
        [ "$output" = "example.org" ]
        id=$("$BERTH" create --domainname example.org busybox true)
        [ "$("$BERTH" inspect --format '{{.Config.Domainname}}' "$id")" = "example.org" ]
        # the host's domain name is untouched
        [ "$(cat /proc/sys/kernel/domainname)" != "example.org" ]
}

@test "--annotation: HostConfig.Annotations and the OCI spec's annotations" {
        id=$("$BERTH" create --annotation com.example.a=1 --annotation com.example.b busybox true)
        [ "$(hc "$id" Annotations)" = '{"com.example.a":"1","com.example.b":""}' ]
        run python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["annotations"], sort_keys=True))' \
                "$BERTH_RUN_DIR/containers/$id/config.json"
        assert_success
        [ "$output" = '{"com.example.a": "1", "com.example.b": ""}' ]
        run "$BERTH" create --annotation =x busybox true
        [ "$status" -eq 125 ]
}

# A block device for the block IO tests: the first disk in /sys/block with a node in /dev.
block_device() {
        local d n
        for d in /sys/block/*; do
                n=${d##*/}
                case "$n" in loop* | ram* | zram* | nbd*) continue ;; esac
                [ -b "/dev/$n" ] && { echo "/dev/$n"; return 0; }
        done
        return 1
}

@test "block IO on cgroup v1: --device-{read,write}-{bps,iops} reach blkio.throttle.*; HostConfig as Docker's" {
        blk=/sys/fs/cgroup/blkio
        [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] || skip "cgroup v2 host: v1 blkio not here (v2 io.max: tests/unit/test_oci_cgroup_v2.c)"
        [ -f $blk/blkio.throttle.read_bps_device ] || skip "no blkio controller with throttling at $blk"
        dev=$(block_device) || skip "no block device in /sys/block with a node in /dev"
        majmin=$(printf '%d:%d' 0x$(stat -c %t "$dev") 0x$(stat -c %T "$dev"))
        id=$("$BERTH" run -d --device-read-bps "$dev:1mb" --device-write-bps "$dev:2048" \
                --device-read-iops "$dev:100" --device-write-iops "$dev:77" busybox sleep 1000)
        [ "$(hc "$id" BlkioDeviceReadBps)" = "[{\"Path\":\"$dev\",\"Rate\":1048576}]" ]
        [ "$(hc "$id" BlkioDeviceWriteIOps)" = "[{\"Path\":\"$dev\",\"Rate\":77}]" ]
        pid=$("$BERTH" inspect --format '{{.State.Pid}}' "$id")
        cg=$(awk -F: '$2 == "blkio" {print $3}' "/proc/$pid/cgroup")
        [ -n "$cg" ] && [ "$cg" != / ]
        [ "$(cat "$blk$cg/blkio.throttle.read_bps_device")" = "$majmin 1048576" ]
        [ "$(cat "$blk$cg/blkio.throttle.write_bps_device")" = "$majmin 2048" ]
        [ "$(cat "$blk$cg/blkio.throttle.read_iops_device")" = "$majmin 100" ]
        [ "$(cat "$blk$cg/blkio.throttle.write_iops_device")" = "$majmin 77" ]
}

@test "block IO: --blkio-weight where the kernel can't weigh is dropped with Docker's warning; bad values are Docker's errors" {
        [ "$(stat -fc %T /sys/fs/cgroup)" != cgroup2fs ] || skip "cgroup v2 host: the v1 weight files are not the question here"
        blk=/sys/fs/cgroup/blkio
        [ -d $blk ] || skip "no blkio controller at $blk"
        if [ -f $blk/blkio.weight ] || [ -f $blk/blkio.bfq.weight ]; then
                id=$("$BERTH" run -d --blkio-weight 300 busybox sleep 1000)
                pid=$("$BERTH" inspect --format '{{.State.Pid}}' "$id")
                cg=$(awk -F: '$2 == "blkio" {print $3}' "/proc/$pid/cgroup")
                w=$(cat "$blk$cg/blkio.weight" 2>/dev/null || cat "$blk$cg/blkio.bfq.weight")
                [[ "$w" == *300* ]]
                run "$BERTH" create --blkio-weight 5 busybox true
                [ "$status" -eq 1 ] # dockerd's check: create's plain 1
                assert_output_contains "Range of blkio weight is from 10 to 1000"
        else
                run "$BERTH" create --blkio-weight 300 busybox true
                assert_success
                assert_output_contains "Your kernel does not support Block I/O weight or the cgroup is not mounted. Weight discarded."
                id=$(echo "$output" | tail -1)
                [ "$(hc "$id" BlkioWeight)" = 0 ]
        fi
        run "$BERTH" create --device-read-bps /dev/berth-nosuch:1mb busybox true
        [ "$status" -eq 1 ]
        assert_output_contains "stat /dev/berth-nosuch"
        run "$BERTH" create --blkio-weight-device vda:10 busybox true
        [ "$status" -eq 125 ]
        assert_output_contains 'invalid argument "vda:10" for "--blkio-weight-device" flag: bad format for device path: vda:10'
        run "$BERTH" create --device-write-iops /dev/vda:1k busybox true
        [ "$status" -eq 125 ]
        assert_output_contains "invalid rate for device: /dev/vda:1k. The correct format is <device-path>:<number>. Number must be a positive integer"
}

@test "--storage-opt size: refused with Docker's message where the store is not overlay over xfs with pquota" {
        if [ "$(stat -fc %T "$BERTH_DATA_DIR")" = xfs ] && grep -q prjquota /proc/self/mounts; then
                skip "the store is on xfs with project quotas: the next test covers it"
        fi
        run "$BERTH" create --storage-opt size=1G busybox true
        [ "$status" -eq 1 ] # dockerd's refusal: create's plain 1 (run's 125)
        assert_output_contains "--storage-opt is supported only for overlay over xfs with 'pquota' mount option"
        [ -z "$("$BERTH" ps -aq)" ]
        run "$BERTH" create --storage-opt size busybox true
        [ "$status" -eq 125 ]
        assert_output_contains "invalid storage option"
        run "$BERTH" create --storage-opt foo=1 busybox true
        [ "$status" -eq 1 ]
        assert_output_contains "Unknown option foo"
}

# An xfs filesystem with project quotas on a loop device, holding a state of its own.
XFS_MNT=""
XFS_LOOP=""
storage_xfs_teardown() {
        [ -n "$XFS_MNT" ] || return 0
        BERTH_DATA_DIR="$XFS_MNT/data" BERTH_RUN_DIR="$XFS_MNT/run" berth_rm_all_containers
        local m
        for m in $(awk '{print $5}' /proc/self/mountinfo | grep "^$XFS_MNT/" | sort -r); do
                umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
        done
        umount "$XFS_MNT" 2>/dev/null || umount -l "$XFS_MNT" 2>/dev/null
        [ -n "$XFS_LOOP" ] && losetup -d "$XFS_LOOP" 2>/dev/null
        XFS_MNT=""
        XFS_LOOP=""
        return 0
}

@test "--storage-opt size=N: an XFS project quota on the container's writable layer (loop xfs, pquota)" {
        require_root
        require_cmd mkfs.xfs losetup
        grep -qw xfs /proc/filesystems || modprobe xfs 2>/dev/null || true
        grep -qw xfs /proc/filesystems || skip "the kernel has no xfs"
        img="$BATS_TEST_TMPDIR/xfs.img"
        truncate -s 300M "$img"
        mkfs.xfs -q "$img" || skip "mkfs.xfs failed"
        XFS_LOOP=$(losetup -f --show "$img") || skip "no loop device (losetup -f failed)"
        XFS_MNT="$BATS_TEST_TMPDIR/xfs"
        mkdir -p "$XFS_MNT"
        mount -t xfs -o prjquota "$XFS_LOOP" "$XFS_MNT" ||
                skip "mounting xfs with prjquota failed (a kernel without CONFIG_XFS_QUOTA? $(dmesg 2>/dev/null | grep -i 'quota support' | tail -1))"
        export BERTH_DATA_DIR="$XFS_MNT/data" BERTH_RUN_DIR="$XFS_MNT/run"
        mkdir -p "$BERTH_DATA_DIR" "$BERTH_RUN_DIR"
        BERTH="$BERTH" "$BERTH_TOP/scripts/mkimage-busybox" busybox:latest >/dev/null
        [ "$("$BERTH" info --format '{{.Driver}}' 2>/dev/null || echo overlay2)" != vfs ] || skip "the vfs driver: quotas need overlay"
        run "$BERTH" run --rm --storage-opt size=8m busybox sh -c \
                'dd if=/dev/zero of=/big bs=1M count=16 2>&1; echo rc=$?'
        assert_output_contains "Disk quota exceeded"
        assert_output_contains "rc=1"
        run "$BERTH" run --rm --storage-opt size=8m busybox sh -c \
                'dd if=/dev/zero of=/small bs=1M count=4 2>/dev/null; echo rc=$?'
        [ "$output" = "rc=0" ]
        # without the option there is no limit
        run "$BERTH" run --rm busybox sh -c 'dd if=/dev/zero of=/big bs=1M count=16 2>/dev/null; echo rc=$?'
        [ "$output" = "rc=0" ]
        id=$("$BERTH" create --storage-opt size=8m busybox true)
        [ "$(hc "$id" StorageOpt)" = '{"size":"8m"}' ]
}
