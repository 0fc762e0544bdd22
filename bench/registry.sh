#!/usr/bin/env bash
# bench/registry.sh — push and pull against Debian's docker-registry on 127.0.0.1:
# `berth push` / `berth pull` vs `skopeo copy` of the same image (one ~30 MB gzip layer
# made from the host's python3 and perl libraries).  Each push goes to a new repository
# (so every blob is uploaded); each pull goes into an empty store / empty OCI layout.
set -euo pipefail
: "${BENCH_RUNS:=10}"
export BENCH_RUNS
. "$(dirname "$0")/lib.sh"
bench_require skopeo docker-registry curl
berth="$BENCH_TOP/build/src/cmd/berth"
work="$(mktemp -d /tmp/berth-bench-registry.XXXXXX)"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$work/config.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$port
YAML
docker-registry serve "$work/config.yml" >"$work/registry.log" 2>&1 &
regpid=$!
trap 'kill $regpid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 50); do curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.1; done

r="127.0.0.1:$port"
export BERTH_DATA_DIR="$work/setup"
tar -C / -czf "$work/libs.tar.gz" usr/lib/python3 usr/share/perl usr/lib/x86_64-linux-gnu/perl
"$berth" import "$work/libs.tar.gz" "$r/bench/libs:1" >/dev/null
"$berth" save --format oci-dir -o "$work/oci" "$r/bench/libs:1"
"$berth" push -q "$r/bench/libs:1"

bench_compare "push to a local registry (new repository each run): berth vs skopeo" \
        "berth push" "bash -c 'BERTH_DATA_DIR=$work/setup $berth push -q $r/bench/libs:1 $r/b\$RANDOM\$RANDOM:1'" \
        "skopeo copy" "bash -c 'skopeo copy -q --dest-tls-verify=false oci:$work/oci:1 docker://$r/s\$RANDOM\$RANDOM:1'"

bench_compare "pull from a local registry into nothing: berth vs skopeo" \
        "berth pull" "sh -c 'rm -rf $work/pull; BERTH_DATA_DIR=$work/pull $berth pull -q $r/bench/libs:1 >/dev/null'" \
        "skopeo copy" "sh -c 'rm -rf $work/sk; skopeo copy -q --src-tls-verify=false docker://$r/bench/libs:1 oci:$work/sk:1'"
