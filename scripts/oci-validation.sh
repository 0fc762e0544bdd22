#!/usr/bin/env bash
# oci-validation.sh — the OCI runtime-tools validation suite against several runtimes, side by side.
#
#   scripts/oci-validation.sh [RUNTIME...]          default: build/src/cmd/berth-oci crun runc
#   TESTS="hooks start delete" scripts/oci-validation.sh ...   only these programs
#
# Builds runtime-tools' validation/ programs offline with Debian's Go: Debian's binary package
# ships only the libraries, so the source package is fetched with `apt-get source` through a
# private apt configuration (deb-src lines for bookworm, trixie and sid; /etc/apt is untouched)
# and built in GOPATH mode against Debian's golang-*-dev packages.  github.com/mndrix/tap-go is
# not in Debian: scripts/oci-validation/tap-go is berth's stand-in.  Everything is cached in
# $OCI_VALIDATION_DIR (default /var/tmp/berth-oci-validation).
#
# Each runtime runs in a private mount namespace (the suite's shared-propagation tests leave
# mounts behind).  crun 1.8 refuses hybrid cgroups, so crun alone also gets an empty tmpfs over
# /sys/fs/cgroup/unified; berth-oci and runc see the host as it is.
#
# Prints one line per test program with each runtime's result, then per-runtime pass counts.
# Per-test logs: $OCI_VALIDATION_DIR/results/<runtime>/<test>.{tap,err}.
# Needs root.  Environment: OCI_VALIDATION_DIR, TEST_TIMEOUT (default 60 s), TESTS, and
# REUSE="crun runc" to print earlier results of those runtimes instead of running them again.
set -uo pipefail
export LC_ALL=C
top="$(cd "$(dirname "$0")/.." && pwd)"
V=${OCI_VALIDATION_DIR:-/var/tmp/berth-oci-validation}
TIMEOUT=${TEST_TIMEOUT:-60}
SRCPKG=golang-github-opencontainers-runtime-tools
GOPATH_DIR=$V/gopath
RTT=$GOPATH_DIR/src/github.com/opencontainers/runtime-tools
DEPS="golang-go golang-github-opencontainers-specs-dev golang-github-opencontainers-selinux-dev
golang-github-google-uuid-dev golang-github-hashicorp-go-multierror-dev
golang-github-mrunalp-fileutils-dev golang-github-sirupsen-logrus-dev golang-github-urfave-cli-dev
golang-github-xeipuuv-gojsonschema-dev golang-github-blang-semver-dev golang-gocapability-dev
golang-golang-x-sys-dev"

say() { echo "# $*" >&2; }
die() { echo "oci-validation: $*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "must run as root"
mkdir -p "$V"

install_deps() {
        local missing=() p
        for p in $DEPS; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
        [ ${#missing[@]} -eq 0 ] && return 0
        say "apt-get install ${missing[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
                die "cannot install ${missing[*]}"
}

# The source tarball: only the source package carries validation/.  bookworm's orig tarball
# is missing on some mirrors; newer suites' tarballs build with bookworm's Go too.
source_tarball() {
        local dl=$V/src apt=$V/apt t
        mkdir -p "$dl" "$apt/lists/partial" "$apt/parts"
        for t in "$dl"/${SRCPKG}_*.orig.tar.*; do
                [ -f "$t" ] && tar -tf "$t" | grep '/validation/util/' >/dev/null && { echo "$t"; return 0; }
        done
        printf 'deb-src http://deb.debian.org/debian %s main\n' bookworm trixie sid >"$apt/sources.list"
        local opts=(-o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts="$apt/parts"
                -o Dir::State::Lists="$apt/lists")
        say "apt-get update (deb-src only, private lists in $apt)"
        apt-get "${opts[@]}" update >&2 || true
        local v
        for v in $(apt-cache "${opts[@]}" showsrc "$SRCPKG" 2>/dev/null | awk '/^Version:/ {print $2}' | sort -rV -u); do
                say "apt-get source --download-only $SRCPKG=$v"
                (cd "$dl" && apt-get "${opts[@]}" source --download-only "$SRCPKG=$v" >&2) || true
                for t in "$dl"/${SRCPKG}_*.orig.tar.*; do
                        [ -f "$t" ] && tar -tf "$t" | grep '/validation/util/' >/dev/null && { echo "$t"; return 0; }
                done
        done
        die "no $SRCPKG source tarball with validation/ could be fetched"
}

build() {
        local stamp=$V/build.stamp tb want
        install_deps
        tb=$(source_tarball) || exit 2
        want="$(sha256sum "$tb" "$top/scripts/oci-validation/tap-go/tap.go" | cut -d' ' -f1 | tr '\n' ' ')$(go version)"
        if [ -x "$RTT/runtimetest" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
        say "building the validation suite from $(basename "$tb")"
        rm -rf "$GOPATH_DIR"
        mkdir -p "$RTT" "$GOPATH_DIR/src/github.com/mndrix/tap-go"
        tar -xf "$tb" -C "$RTT" --strip-components=1
        cp "$top/scripts/oci-validation/tap-go/tap.go" "$GOPATH_DIR/src/github.com/mndrix/tap-go/"
        export GO111MODULE=off GOPATH="$GOPATH_DIR:/usr/share/gocode" GOCACHE="$V/gocache" GOFLAGS= GOPROXY=off
        (cd "$RTT" && CGO_ENABLED=0 go build -tags "netgo osusergo" -o runtimetest ./cmd/runtimetest) >&2 ||
                die "building runtimetest failed"
        local f built=0 all=0
        while read -r f; do
                all=$((all + 1))
                (cd "$RTT" && go build -o "${f%.go}.t" "$f") >&2 && built=$((built + 1))
        done < <(cd "$RTT" && find ./validation -name '*.go' -not -path './validation/util/*' | sort)
        say "built $built of $all validation programs"
        echo "$want" >"$stamp"
}

# One program against one runtime → "pass|fail|skip<TAB>reason".
classify() {
        local tap=$1 rc=$2 n ok bad skip
        n=$(grep -cE '^(not )?ok ' "$tap")
        bad=$(grep -E '^not ok ' "$tap" | grep -vc '# *TODO')
        skip=$(grep -cE '^ok .*# *SKIP' "$tap")
        if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then printf 'fail\ttimeout\n'
        elif [ "$bad" -gt 0 ]; then printf 'fail\t%s of %s points not ok\n' "$bad" "$n"
        elif [ "$n" = 0 ] && grep -q '^  ---' "$tap"; then printf 'fail\terror reported\n'
        elif [ "$rc" != 0 ]; then printf 'fail\texit status %s\n' "$rc"
        elif [ "$n" -gt 0 ] && [ "$skip" = "$n" ]; then printf 'skip\tall points skipped\n'
        else printf 'pass\t%s points\n' "$n"
        fi
}

# Runs in a private mount namespace: every program against one runtime.
run_one_runtime() {
        local rt=$1 name=$2 work t tn rc
        local out=$V/results/$name
        rm -rf "$out"
        mkdir -p "$out"
        work=$(mktemp -d "$V/work.XXXXXX")
        chmod 755 "$work"
        cp "$RTT/runtimetest" "$RTT"/rootfs-*.tar.gz "$work/"
        mkdir -p "$work/tmp"
        for t in $TEST_LIST; do
                tn=$(basename "$t" .t)
                (cd "$work" && RUNTIME="$rt" TMPDIR="$work/tmp" timeout -k 5 "$TIMEOUT" "$RTT/$t" \
                        >"$out/$tn.tap" 2>"$out/$tn.err" </dev/null)
                rc=$?
                printf '%s\t%s\n' "$tn" "$(classify "$out/$tn.tap" "$rc")" >>"$out/results.tsv"
                # containers a failed program left behind, and mounts of shared-propagation tests
                for id in $("$rt" list -q 2>/dev/null); do "$rt" delete -f "$id" >/dev/null 2>&1; done
                awk -v d="$work" 'index($5, d) == 1 {print length($5) " " $5}' /proc/self/mountinfo |
                        sort -rn | cut -d' ' -f2- | while read -r m; do umount -l "$m" 2>/dev/null; done
        done
        rm -rf --one-file-system "$work"
}

if [ "${1:-}" = --in-ns ]; then
        shift
        [ "${HIDE_UNIFIED:-0}" = 1 ] && mount -t tmpfs -o size=4m,mode=755 berth-hide-unified /sys/fs/cgroup/unified
        run_one_runtime "$@"
        exit 0
fi

build
runtimes=("$@")
[ ${#runtimes[@]} -eq 0 ] && runtimes=("$top/build/src/cmd/berth-oci" crun runc)
if [ -n "${TESTS:-}" ]; then
        TEST_LIST=$(for t in $TESTS; do echo "validation/$t/$t.t"; done)
else
        TEST_LIST=$(cd "$RTT" && find validation -name '*.t' | sort)
fi
export TEST_LIST V RTT TIMEOUT
names=()
for rt in "${runtimes[@]}"; do
        path=$(command -v "$rt") || die "runtime $rt not found"
        path=$(realpath "$path")
        name=$(basename "$path")
        names+=("$name")
        hide=0
        [ "$name" = crun ] && [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ] && hide=1
        if [ -n "${REUSE:-}" ] && [[ " $REUSE " == *" $name "* ]] && [ -s "$V/results/$name/results.tsv" ]; then
                say "reusing earlier results of $name"
                continue
        fi
        say "running $(echo "$TEST_LIST" | wc -l) programs against $path ($("$path" --version 2>/dev/null | head -1))"
        HIDE_UNIFIED=$hide unshare --mount --propagation private -- "$0" --in-ns "$path" "$name"
done

# The side-by-side table.
printf '%-36s' test
for n in "${names[@]}"; do printf ' %-10s' "$n"; done
echo
for t in $TEST_LIST; do
        tn=$(basename "$t" .t)
        printf '%-36s' "$tn"
        for n in "${names[@]}"; do
                printf ' %-10s' "$(awk -F'\t' -v t="$tn" '$1 == t {print $2}' "$V/results/$n/results.tsv")"
        done
        echo
done
for n in "${names[@]}"; do
        f=$V/results/$n/results.tsv
        printf '%s: %d passed, %d failed, %d skipped of %d\n' "$n" "$(grep -c $'\tpass\t' "$f")" \
                "$(grep -c $'\tfail\t' "$f")" "$(grep -c $'\tskip\t' "$f")" "$(wc -l <"$f")"
done
