#!/usr/bin/env bash
# bench/spec.sh — cost of turning `berth run` flags into config.json (flag parsing, image config
# merge, /etc/passwd lookup, default seccomp policy from libseccomp's table, mounts, devices),
# through the spec_driver test tool, next to `runc spec`, runc's own generator of a default
# config.json (no flags, no seccomp), the nearest peer doing the same kind of work.  Both write
# a file through sh (runc spec refuses to overwrite one).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
bench_require runc busybox
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/rootfs/etc" "$tmp/runc"
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n' >"$tmp/rootfs/etc/passwd"
printf 'root:x:0:\napp:x:1000:\n' >"$tmp/rootfs/etc/group"
driver="$BENCH_TOP/build/tests/unit/spec_driver"
bench_compare "run flags → config.json (spec_driver) vs runc spec" \
        "spec_driver" "sh -c '$driver --rootfs $tmp/rootfs -- -u app -e A=1 --memory 32m --cpus 0.5 --cap-add NET_ADMIN -v /tmp:/data:ro --read-only img sh -c true >$tmp/config.json'" \
        "runc spec" "sh -c 'rm -f $tmp/runc/config.json; runc spec --bundle $tmp/runc'"
