#!/usr/bin/env bats
# vmm_linux.bats — Debian's own kernel (vmlinux, PVH entry) under berth-vmm.
# On real KVM it boots until it finds no root file system and panics (panic=-1
# reboots: status 10).  On kvm_pvm hosts it stops part-way (a KVM internal
# error, status 12), exactly where QEMU's microvm stops too; the test checks
# that the banner and berth-vmm's e820 map were printed and reports the limit.
load helpers

setup_file() {
        if ! VMLINUX=$("$BERTH_TOP/scripts/vmm-debian-vmlinux" 2>"$BATS_FILE_TMPDIR/get.log"); then
                VMLINUX=""
        fi
        export VMLINUX
}

@test "vmm: Debian's kernel boots through the PVH entry and prints its banner and our e820 map" {
        require_kvm
        [ -x "$BERTH_VMM" ] || skip "berth-vmm not built"
        [ -n "$VMLINUX" ] || skip "could not fetch Debian's kernel: $(tail -1 "$BATS_FILE_TMPDIR/get.log")"
        run timeout 180 "$BERTH_VMM" --kernel "$VMLINUX" --memory 256 \
                --cmdline "console=ttyS0 earlyprintk=serial reboot=k panic=-1" </dev/null
        assert_output_contains "Linux version"
        assert_output_contains "Command line: console=ttyS0 earlyprintk=serial reboot=k panic=-1"
        assert_output_contains "BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable"
        assert_output_contains "BIOS-e820: [mem 0x0000000000100000-0x000000000fffffff] usable"
        # Our hardware-reduced ACPI tables, parsed by the kernel.
        assert_output_contains "ACPI: RSDP 0x00000000000E0000"
        assert_output_contains "ACPI: DSDT 0x"
        assert_output_contains "ACPI: Using ACPI (MADT) for SMP configuration information"
        last=$(grep -E '^\[ *[0-9]+\.[0-9]+\]' <<<"$output" | tail -1)
        if [ "$status" -eq 12 ] && [ -d /sys/module/kvm_pvm ]; then
                assert_output_contains "KVM internal error"
                echo "# kvm_pvm: Debian's kernel stops with a KVM internal error after: $last" >&3
        else
                assert_failure 10
        fi
}
