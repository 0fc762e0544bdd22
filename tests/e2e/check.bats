#!/usr/bin/env bats
# berth check: the host report, compared with what other tools observe on the same host.

load helpers

@test "check: --format json parses and agrees with its own exit status" {
        run "$BERTH" check --format json
        echo "$output" | jq -e . >/dev/null
        ok=$(echo "$output" | jq -r .ok)
        if [ "$ok" = true ]; then [ "$status" -eq 0 ]; else [ "$status" -eq 1 ]; fi
        [ "$(echo "$output" | jq '.missing | length')" -eq "$(echo "$output" | jq '[.checks[] | select(.status=="missing")] | length')" ]
}

@test "check: each namespace kind agrees with util-linux unshare" {
        require_root
        run "$BERTH" check --format json
        for pair in mount:--mount uts:--uts ipc:--ipc pid:--pid network:--net user:--user cgroup:--cgroup time:--time; do
                kind=${pair%%:*} flag=${pair#*:}
                if unshare $flag --fork true 2>/dev/null; then want=true; else want=false; fi
                got=$(echo "$output" | jq -r ".namespaces.\"$kind\"")
                echo "$kind: berth=$got unshare=$want"
                [ "$got" = "$want" ]
        done
}

@test "check: cgroup layout agrees with the mount table" {
        run "$BERTH" check --format json
        layout=$(echo "$output" | jq -r .cgroups.layout)
        v1=$(findmnt -rn -t cgroup -o OPTIONS | grep -vc 'name=' || true)
        v2=$(findmnt -rn -t cgroup2 | wc -l)
        if [ "$v1" -gt 0 ] && [ "$v2" -gt 0 ]; then want=hybrid
        elif [ "$v1" -gt 0 ]; then want=v1
        elif [ "$v2" -gt 0 ]; then want=v2
        else want=none; fi
        echo "berth=$layout mounts say $want"
        [ "$layout" = "$want" ]
        # every v1 controller the mount table shows is listed
        for c in $(findmnt -rn -t cgroup -o OPTIONS | tr ',' '\n' | grep -E '^(cpu|cpuacct|cpuset|memory|pids|blkio|devices|freezer|hugetlb|net_cls|net_prio|perf_event|rdma|misc)$'); do
                echo "$output" | jq -e --arg c "$c" '.cgroups.v1.controllers | index($c)' >/dev/null
        done
}

@test "check: KVM kind and usability agree with /sys/module and the device" {
        run "$BERTH" check --format json
        kind=$(echo "$output" | jq -r .kvm.kind)
        if [ -d /sys/module/kvm_pvm ]; then [ "$kind" = pvm ]
        elif [ -d /sys/module/kvm_intel ]; then [ "$kind" = intel-vmx ]
        elif [ -d /sys/module/kvm_amd ]; then [ "$kind" = amd-svm ]
        fi
        if [ -c /dev/kvm ] && [ -w /dev/kvm ]; then
                [ "$(echo "$output" | jq -r .kvm.usable)" = true ]
                [ "$(echo "$output" | jq -r .kvm.api_version)" = 12 ]
        fi
        run "$BERTH" check
        if [ "$kind" = pvm ]; then assert_output_contains "PVM-enabled guest kernels"; fi
}

@test "check: with /dev/kvm hidden it reports KVM unusable, exits 1 and says what that disables" {
        require_root
        [ -e /dev/kvm ] || skip "no /dev/kvm on this host to hide"
        run unshare --mount sh -c 'mount --bind /dev/null /dev/kvm && exec "$0" check' "$BERTH"
        assert_failure 1
        assert_output_contains "MISSING  /dev/kvm"
        assert_output_contains "is not KVM"
        assert_output_contains "this disables berth-vmm"
        run unshare --mount sh -c 'mount --bind /dev/null /dev/kvm && exec "$0" check --format json' "$BERTH"
        assert_failure 1
        [ "$(echo "$output" | jq -r .kvm.usable)" = false ]
        [ "$(echo "$output" | jq -r '.missing[0].disables')" != null ]
}

@test "check: overlayfs usability agrees with a real overlay mount" {
        require_root
        d=$(mktemp -d)
        mkdir "$d"/l "$d"/u "$d"/w "$d"/m
        if unshare --mount sh -c "mount -t overlay overlay -o lowerdir=$d/l,upperdir=$d/u,workdir=$d/w $d/m" 2>/dev/null; then want=true; else want=false; fi
        rm -rf "$d"
        run "$BERTH" check --format json
        [ "$(echo "$output" | jq -r .overlayfs.usable)" = "$want" ]
        # the probe leaves no scratch dir behind
        ! ls -d /tmp/berth-check-* 2>/dev/null
}

@test "check: bad usage exits 125 with a message naming the problem" {
        run "$BERTH" check --format yaml
        assert_failure 125
        assert_output_contains "invalid format \`yaml\`"
        run "$BERTH" check extra
        assert_failure 125
        run "$BERTH" nosuchcommand
        assert_failure 1
        assert_output_contains "unknown command: berth nosuchcommand"
}

@test "check: --log-format json turns errors into runc-style JSON lines" {
        run "$BERTH" --log-format json check --format yaml
        assert_failure 125
        echo "$output" | jq -e 'select(.level == "error") | .msg | contains("invalid format")'
        echo "$output" | jq -e '.time' >/dev/null
}

@test "check: --help and --version" {
        run "$BERTH" check --help
        assert_success
        assert_output_contains "Exit status"
        run "$BERTH" --version
        assert_success
        assert_output_contains "berth version"
}
