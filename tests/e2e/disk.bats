#!/usr/bin/env bats
# disk.bats — `berth disk` against Debian's qemu-utils, both ways: images
# qemu-img makes are read byte-identically by berth; images berth makes and
# writes pass `qemu-img check` and `qemu-img compare`; snapshots made by
# either are listed and applied by the other; a writer killed at random
# points leaves an image with leaks at worst and every flushed write intact;
# hostile images give clear errors.

load helpers

setup_file() {
        export D="$BATS_FILE_TMPDIR"
        # A source with data, holes and compressible runs.
        python3 - "$D/src.raw" <<'EOF'
import random, sys
random.seed(7)
with open(sys.argv[1], "wb") as f:
    f.truncate(16 << 20)
    for i in range(60):
        f.seek(random.randrange(0, (16 << 20) - 70000))
        f.write(random.randbytes(5000) if i % 3 == 0 else (b"berth %d " % i) * 600)
EOF
}

setup() {
        require_cmd qemu-img
        cd "$D"
}

@test "disk: qemu-made images (cluster sizes, compression, v2/v3) read byte-identically" {
        for cs in 512 4k 64k 2M; do
                for c in "" "-c"; do
                        for compat in 0.10 1.1; do
                                qemu-img convert -O qcow2 $c -o cluster_size=$cs,compat=$compat src.raw q.qcow2
                                run "$BERTH" disk compare src.raw q.qcow2
                                assert_success
                                run "$BERTH" disk convert -O raw q.qcow2 back.raw
                                assert_success
                                cmp back.raw src.raw
                                run "$BERTH" disk check q.qcow2
                                assert_success
                        done
                done
        done
}

@test "disk: zstd-compressed and 1-bit/64-bit refcount images from qemu" {
        for o in compression_type=zstd refcount_bits=1 refcount_bits=64; do
                qemu-img convert -c -O qcow2 -o $o src.raw q.qcow2
                run "$BERTH" disk compare src.raw q.qcow2
                assert_success
                assert_output_contains "identical"
                run "$BERTH" disk check q.qcow2
                assert_success
        done
}

@test "disk: berth-made images pass qemu-img check and compare (plain and compressed)" {
        for cs in 512 64k 2M; do
                for c in "" "-c"; do
                        run "$BERTH" disk convert -O qcow2 $c -o cluster_size=$cs src.raw b.qcow2
                        assert_success
                        qemu-img check -q b.qcow2
                        qemu-img compare -q src.raw b.qcow2
                done
        done
        run qemu-img info --output json b.qcow2
        assert_output_contains '"compression-type": "zlib"'
        run "$BERTH" disk convert -O qcow2 -c -o compression_type=zstd,cluster_size=4k src.raw z.qcow2
        assert_success
        qemu-img check -q z.qcow2
        qemu-img compare -q src.raw z.qcow2
        run qemu-img info --output json z.qcow2
        assert_output_contains '"compression-type": "zstd"'
}

@test "disk: writes through berth's block layer are what qemu reads" {
        "$BERTH" disk create -f qcow2 -o cluster_size=4k w.qcow2 32M
        "$BERTH" disk bench -q -w -c 2000 -s 3000 -S 7777 -o 123 --pattern 7 w.qcow2
        "$BERTH" disk bench -q -w -c 500 -s 64k -S 1234567 --pattern 9 w.qcow2
        qemu-img check -q w.qcow2
        qemu-img convert -O raw w.qcow2 q.raw
        "$BERTH" disk convert -O raw w.qcow2 b.raw
        cmp q.raw b.raw
        # and qemu's writes are what berth reads
        qemu-io -c "write -P 0x33 100k 300k" -c "write -z 2M 1M" w.qcow2 >/dev/null
        qemu-img convert -O raw w.qcow2 q.raw
        run "$BERTH" disk compare q.raw w.qcow2
        assert_success
}

@test "disk: backing chains of any format and depth, create -b, info --backing-chain" {
        qemu-img create -q -f qcow2 -b src.raw -F raw l1.qcow2
        qemu-io -c "write -P 0x11 1M 64k" -c "write -z 5M 2M" l1.qcow2 >/dev/null
        run "$BERTH" disk create -f qcow2 -b l1.qcow2 -F qcow2 l2.qcow2
        assert_success
        "$BERTH" disk bench -q -w -c 300 -s 4k -S 1234567 --pattern 51 l2.qcow2
        qemu-img check -q l2.qcow2
        qemu-img convert -O raw l2.qcow2 q.raw
        "$BERTH" disk convert -O raw l2.qcow2 b.raw
        cmp q.raw b.raw
        run "$BERTH" disk info --output json --backing-chain l2.qcow2
        assert_success
        [ "$(echo "$output" | jq -r '.[2].filename')" = "src.raw" ]
        [ "$(echo "$output" | jq -r '.[0]."backing-filename-format"')" = "qcow2" ]
        run qemu-img info l2.qcow2
        assert_output_contains "backing file: l1.qcow2"
        assert_output_contains "backing file format: qcow2"
}

@test "disk: snapshots made by either tool are listed and applied by the other" {
        qemu-img convert -O qcow2 src.raw s.qcow2
        qemu-img snapshot -c qs1 s.qcow2
        qemu-io -c "write -P 0x33 0 1M" s.qcow2 >/dev/null
        run "$BERTH" disk snapshot -l s.qcow2
        assert_output_contains "qs1"
        run "$BERTH" disk snapshot -c bs2 s.qcow2
        assert_success
        qemu-img check -q s.qcow2
        "$BERTH" disk bench -q -w -c 300 -s 4k -S 777777 --pattern 99 s.qcow2
        qemu-img check -q s.qcow2
        run qemu-img snapshot -l s.qcow2
        assert_output_contains "bs2"
        run "$BERTH" disk snapshot -a qs1 s.qcow2
        assert_success
        qemu-img check -q s.qcow2
        qemu-img compare -q src.raw s.qcow2
        qemu-img snapshot -a bs2 s.qcow2
        qemu-img convert -O raw s.qcow2 bs2.raw
        cmp -n 1048576 bs2.raw <(head -c 1048576 /dev/zero | tr '\0' '\063')
        run "$BERTH" disk snapshot -d qs1 s.qcow2
        assert_success
        qemu-img check -q s.qcow2
        qemu-img snapshot -d bs2 s.qcow2
        run "$BERTH" disk check s.qcow2
        assert_success
        qemu-img compare -q bs2.raw s.qcow2
}

@test "disk: commit folds an overlay into its raw base; rebase keeps content; resize" {
        cp src.raw base.raw
        "$BERTH" disk create -f qcow2 -b base.raw -F raw ov.qcow2
        "$BERTH" disk bench -q -w -c 400 -s 4k -S 777777 --pattern 77 ov.qcow2
        qemu-img convert -O raw ov.qcow2 expect.raw
        run "$BERTH" disk commit ov.qcow2
        assert_success
        cmp base.raw expect.raw
        qemu-img check -q ov.qcow2
        qemu-img compare -q ov.qcow2 base.raw

        "$BERTH" disk create -f qcow2 -b base.raw -F raw ov2.qcow2
        "$BERTH" disk bench -q -w -c 40 -s 64k -S 3333333 --pattern 5 ov2.qcow2
        qemu-img convert -O raw ov2.qcow2 e2.raw
        run "$BERTH" disk rebase -b src.raw -F raw ov2.qcow2
        assert_success
        qemu-img compare -q e2.raw ov2.qcow2
        qemu-img check -q ov2.qcow2
        run "$BERTH" disk rebase -b "" ov2.qcow2
        assert_success
        qemu-img compare -q e2.raw ov2.qcow2

        run "$BERTH" disk resize ov2.qcow2 +1G
        assert_success
        qemu-img check -q ov2.qcow2
        run "$BERTH" disk resize ov2.qcow2 8M
        assert_failure
        assert_output_contains "--shrink"
        run "$BERTH" disk resize --shrink ov2.qcow2 8M
        assert_success
        qemu-img check -q ov2.qcow2
        [ "$(qemu-img info --output json ov2.qcow2 | jq '."virtual-size"')" = 8388608 ]
}

@test "disk: small clusters grow the L1 and refcount tables and stay consistent" {
        "$BERTH" disk create -f qcow2 -o cluster_size=512 small.qcow2 1M
        run "$BERTH" disk resize small.qcow2 4G
        assert_success
        "$BERTH" disk bench -q -w -c 6000 -s 4k -S $((4096 * 1021)) --stamp small.qcow2
        qemu-img check -q small.qcow2
        run "$BERTH" disk bench --verify 6000 -s 4k -S $((4096 * 1021)) small.qcow2
        assert_success
}

@test "disk: a writer killed at random points leaves leaks at most and loses no flushed write" {
        for i in $(seq 1 12); do
                cs=$([ $((i % 2)) = 0 ] && echo 4k || echo 64k)
                rm -f crash.qcow2
                # 4k clusters: every write allocates (data, L2, refcounts, tables grow)
                "$BERTH" disk create -f qcow2 -o cluster_size=$cs crash.qcow2 256M >/dev/null
                "$BERTH" disk bench -w --stamp --flush-interval 64 -c 60000 -s 4k \
                        -S $((4096 * 1021)) crash.qcow2 >crash.log &
                pid=$!
                sleep "0.$((RANDOM % 30 + 1))"
                kill -9 $pid 2>/dev/null || true
                wait $pid 2>/dev/null || true
                run qemu-img check crash.qcow2
                # 0: clean, 3: leaked clusters only; 2 would be corruption
                if [ "$status" -ne 0 ] && [ "$status" -ne 3 ]; then
                        echo "round $i ($cs): qemu-img check status $status" >&2
                        echo "$output" >&2
                        return 1
                fi
                last=$(grep flushed crash.log | tail -1 | awk '{print $2}')
                if [ -n "$last" ]; then
                        run "$BERTH" disk bench --verify "$last" -s 4k -S $((4096 * 1021)) crash.qcow2
                        echo "round $i ($cs): killed after $last flushed writes" >&3
                        assert_success
                fi
        done
        run "$BERTH" disk check -r leaks crash.qcow2
        [ "$status" -eq 0 ]
        qemu-img check -q crash.qcow2
}

@test "disk: hostile images give clear errors" {
        "$BERTH" disk create -f qcow2 h.qcow2 1M
        cp h.qcow2 l1.bad
        printf '\x10\x00\x00\x00' | dd of=l1.bad bs=1 seek=36 conv=notrunc 2>/dev/null
        run "$BERTH" disk info l1.bad
        assert_failure
        assert_output_contains "L1 table"
        cp h.qcow2 feat.bad
        printf '\x00\x00\x00\x00\x00\x00\x01\x00' | dd of=feat.bad bs=1 seek=72 conv=notrunc 2>/dev/null
        run "$BERTH" disk info feat.bad
        assert_failure
        assert_output_contains "unsupported incompatible qcow2 feature"
        cp h.qcow2 cs.bad
        printf '\x00\x00\x00\x1f' | dd of=cs.bad bs=1 seek=20 conv=notrunc 2>/dev/null
        run "$BERTH" disk info cs.bad
        assert_failure
        assert_output_contains "cluster size"
        # a backing chain that loops
        "$BERTH" disk create -f qcow2 loopa.qcow2 1M
        "$BERTH" disk create -f qcow2 -b loopa.qcow2 -F qcow2 loopb.qcow2
        "$BERTH" disk rebase -u -b loopb.qcow2 -F qcow2 loopa.qcow2
        run "$BERTH" disk info --backing-chain loopa.qcow2
        assert_failure
        assert_output_contains "loops"
        # an L2 entry pointing far outside the file: refused, the file does not grow
        "$BERTH" disk create -f qcow2 -o cluster_size=4k far.qcow2 1M
        "$BERTH" disk bench -q -w -c 1 -s 4k far.qcow2
        size=$(stat -c %s far.qcow2)
        l1=$(qemu-img info --output json far.qcow2 >/dev/null; od -An -t x8 -j 40 -N 8 --endian=big far.qcow2 | tr -d ' ')
        l2=$(od -An -t x8 -j $((16#$l1)) -N 8 --endian=big far.qcow2 | tr -d ' ')
        l2=$(( (16#$l2) & 0x00fffffffffffe00 ))
        printf '\x80\x00\x01\x00\x00\x00\x00\x00' | dd of=far.qcow2 bs=1 seek=$l2 conv=notrunc 2>/dev/null
        run "$BERTH" disk bench -q -w -c 1 -s 4k far.qcow2
        assert_failure
        assert_output_contains "outside the file"
        [ "$(stat -c %s far.qcow2)" = "$size" ]
        # the dirty bit (lazy refcounts not written back): refused read-write until repaired
        "$BERTH" disk create -f qcow2 dirty.qcow2 1M
        printf '\x01' | dd of=dirty.qcow2 bs=1 seek=79 conv=notrunc 2>/dev/null
        run "$BERTH" disk bench -q -w -c 1 dirty.qcow2
        assert_failure
        assert_output_contains "check -r all"
        run "$BERTH" disk check -r all dirty.qcow2
        assert_success
        run "$BERTH" disk bench -q -w -c 1 dirty.qcow2
        assert_success
        # refcount overflow on a 1-bit refcount image
        qemu-img create -q -f qcow2 -o refcount_bits=1 r1.qcow2 1M
        qemu-io -c "write 0 64k" r1.qcow2 >/dev/null
        run "$BERTH" disk snapshot -c s r1.qcow2
        assert_failure
        assert_output_contains "overflow"
        qemu-img check -q r1.qcow2 || [ $? -eq 3 ]
}

@test "disk: map, compare and info --output json agree with qemu-img" {
        qemu-img convert -O qcow2 src.raw m.qcow2
        run "$BERTH" disk map --output json m.qcow2
        assert_success
        ours=$(echo "$output" | jq -c '[.[] | select(.data) | [.start, .length]]')
        theirs=$(qemu-img map --output json m.qcow2 | jq -c '[.[] | select(.data) | [.start, .length]]')
        [ "$ours" = "$theirs" ]
        qemu-io -c "write -P 1 4096 512" m.qcow2 >/dev/null
        run "$BERTH" disk compare src.raw m.qcow2
        [ "$status" -eq 1 ]
        assert_output_contains "Content mismatch at offset 4096"
        run "$BERTH" disk info --output json m.qcow2
        [ "$(echo "$output" | jq '."virtual-size"')" = "$(qemu-img info --output json m.qcow2 | jq '."virtual-size"')" ]
        [ "$(echo "$output" | jq -r '."format-specific".data.compat')" = "1.1" ]
}

@test "disk: the test guest writes through virtio-blk into a qcow2 overlay; commit folds it into the raw base" {
        require_kvm
        guest="$BERTH_BUILD/tests/guest/berth-test-guest.elf"
        [ -x "$BERTH_VMM" ] && [ -f "$guest" ] || skip "berth-vmm or the test guest is not built"
        printf 'hello from the base\n' >vbase.raw
        truncate -s 1M vbase.raw
        head -c 512 /dev/zero | tr '\0' '\252' | dd of=vbase.raw bs=512 seek=2 conv=notrunc 2>/dev/null
        sum=$(sha256sum <vbase.raw)
        rm -f vov.qcow2
        "$BERTH" disk create -f qcow2 -b vbase.raw -F raw vov.qcow2
        run timeout 20 "$BERTH_VMM" --kernel "$guest" --memory 32 --disk "$D/vov.qcow2,format=qcow2" </dev/null
        assert_success
        assert_output_contains "BERTH-GUEST blk: sector 0: hello from the base"
        assert_output_contains "BERTH-GUEST blk: write status 0"
        assert_output_contains "BERTH-GUEST blk: discard status 0"
        [ "$(sha256sum <vbase.raw)" = "$sum" ] # the base is untouched
        qemu-img check vov.qcow2               # the overlay is clean
        run "$BERTH" disk commit vov.qcow2
        assert_success
        [ "$(dd if=vbase.raw bs=512 skip=1 count=1 2>/dev/null | head -n 1)" = "written by the guest" ]
        [ "$(dd if=vbase.raw bs=512 skip=2 count=1 2>/dev/null | tr -d '\0' | wc -c)" -eq 0 ]
        [ "$(head -n 1 vbase.raw)" = "hello from the base" ]
        qemu-img check vov.qcow2
}

@test "disk: a backing file outside the image's directory is opened only when allowed" {
        mkdir -p far near
        printf 'far data\n' >far/base.raw
        truncate -s 1M far/base.raw
        qemu-img create -q -f qcow2 -F raw -b "$D/far/base.raw" near/top.qcow2 1M
        run "$BERTH" disk convert -O raw near/top.qcow2 out.raw
        assert_failure
        assert_output_contains "backing file \`$D/far/base.raw\`"
        assert_output_contains "not allowed"
        [ ! -e out.raw ] || [ ! -s out.raw ]
        # named (the file, or a directory holding it) or any: allowed
        run "$BERTH" disk convert --allow-backing="$D/far" -O raw near/top.qcow2 out.raw
        assert_success
        [ "$(head -c 9 out.raw)" = "far data" ]
        run "$BERTH" disk convert -O raw near/top.qcow2 out2.raw --allow-backing="$D/far/base.raw"
        assert_success
        run "$BERTH" disk commit --allow-backing near/top.qcow2
        assert_success
        # /etc/shadow as a backing file: refused by default, whatever the
        # image says; /proc never, even with --allow-backing
        qemu-img create -q -f qcow2 -F raw -b /etc/shadow near/evil.qcow2 1M
        run timeout 10 "$BERTH" disk convert -O raw near/evil.qcow2 evil.raw
        assert_failure
        assert_output_contains "backing file \`/etc/shadow\`"
        qemu-img create -q -f qcow2 -F raw -u -b /proc/self/environ near/proc.qcow2 1M
        run timeout 10 "$BERTH" disk convert --allow-backing -O raw near/proc.qcow2 proc.raw
        assert_failure
        assert_output_contains "never a backing file"
        # relative names resolve next to the image, not in the working directory
        printf 'near data\n' >near/rel.raw
        truncate -s 1M near/rel.raw
        qemu-img create -q -f qcow2 -F raw -b rel.raw near/rel.qcow2 1M
        run "$BERTH" disk convert -O raw near/rel.qcow2 rel.out
        assert_success
        [ "$(head -c 10 rel.out)" = "near data" ]
}

@test "disk: a backing file on procfs or sysfs mounted elsewhere is refused, even with --allow-backing" {
        require_root
        require_cmd unshare
        # /proc and /sys are refused by path (above); the same filesystems mounted at
        # another path (a container's root, a bind mount) are refused by what the opened
        # file lies on.  Their files are regular files, so the type check alone passes them.
        mkdir -p pfs sfs
        qemu-img create -q -f qcow2 -F raw -u -b "$D/pfs/self/status" pfs.qcow2 1M
        qemu-img create -q -f qcow2 -F raw -u -b "$D/sfs/kernel/mm/transparent_hugepage/enabled" \
                sfs.qcow2 1M
        run unshare -m sh -c 'mount -t proc proc "$1/pfs" && mount -t sysfs sysfs "$1/sfs" &&
                for i in pfs sfs; do
                        timeout 10 "$2" disk convert --allow-backing -O raw "$1/$i.qcow2" "$1/$i.out"
                        echo "$i: status $?"
                done' sh "$D" "$BERTH"
        echo "$output"
        assert_output_contains "pfs: status 1"
        assert_output_contains "sfs: status 1"
        assert_output_contains "is on a kernel pseudo-filesystem: never a backing file"
        [ ! -s pfs.out ] && [ ! -s sfs.out ]
}

@test "disk: a FIFO or device as a backing file fails at once instead of blocking" {
        rm -f fifo.raw
        mkfifo fifo.raw
        qemu-img create -q -f qcow2 -F raw -u -b fifo.raw fifo.qcow2 1M
        start=$(date +%s)
        # next to the image, so the default policy would allow it: the type check refuses it
        run timeout 10 "$BERTH" disk convert -O raw fifo.qcow2 fifo.out
        [ "$status" -ne 124 ] # not killed by the timeout: it did not block
        assert_failure
        assert_output_contains "not a regular file"
        [ $(($(date +%s) - start)) -lt 5 ]
        run timeout 10 "$BERTH" disk info --backing-chain fifo.qcow2
        [ "$status" -ne 124 ]
        assert_failure
        qemu-img create -q -f qcow2 -F raw -u -b /dev/zero dev.qcow2 1M
        run timeout 10 "$BERTH" disk convert -O raw dev.qcow2 dev.out
        [ "$status" -ne 124 ]
        assert_failure
        # and a FIFO named as the image itself
        run timeout 10 "$BERTH" disk info fifo.raw
        [ "$status" -ne 124 ]
        assert_failure
        rm -f fifo.raw
}

@test "disk: check reports L1 entries with reserved bits set or unaligned offsets, as qemu-img does" {
        qemu-img create -q -f qcow2 l1.qcow2 1M
        qemu-io -c "write 0 64k" l1.qcow2 >/dev/null
        # set L1 entry 0: (old | or_bits) & and_mask
        poke_l1() {
                python3 - "$1" "$2" "$3" "$4" <<'PY'
import shutil, struct, sys
src, dst, orb, andm = sys.argv[1], sys.argv[2], int(sys.argv[3], 0), int(sys.argv[4], 0)
shutil.copy(src, dst)
with open(dst, "r+b") as f:
    f.seek(40)
    l1 = struct.unpack(">Q", f.read(8))[0]
    f.seek(l1)
    e = struct.unpack(">Q", f.read(8))[0]
    f.seek(l1)
    f.write(struct.pack(">Q", (e | orb) & andm))
PY
        }
        poke_l1 l1.qcow2 resv_low.qcow2 0x1 0xffffffffffffffff
        poke_l1 l1.qcow2 resv_high.qcow2 0x1000000000000000 0xffffffffffffffff
        poke_l1 l1.qcow2 unaligned.qcow2 0x200 0xffffffffffff0fff
        for img in resv_low resv_high unaligned; do
                run qemu-img check "$img.qcow2"
                qemu_status=$status
                [ "$qemu_status" -eq 2 ]
                run "$BERTH" disk check "$img.qcow2"
                echo "$img: qemu-img $qemu_status, berth $status: $output"
                [ "$status" -eq "$qemu_status" ]
                assert_output_contains "ERROR L1 entry 0"
                [[ "$output" != *"No errors"* ]]
                run "$BERTH" disk check --output json "$img.qcow2"
                [ "$(echo "$output" | jq .corruptions)" -ge 1 ]
        done
        run "$BERTH" disk check resv_low.qcow2
        assert_output_contains "reserved bits set: 8000000000040001"
        run "$BERTH" disk check unaligned.qcow2
        assert_output_contains "is not cluster aligned"
        # the untouched image is clean for both
        run qemu-img check l1.qcow2
        assert_success
        run "$BERTH" disk check l1.qcow2
        assert_success
}
