#!/usr/bin/env python3
"""mkbzimage.py ELF OUT — wrap the test guest into a bzImage-format file.

The result follows the Linux x86 boot protocol 2.15 as far as berth-vmm's
64-bit loader reads it: a boot sector and one setup sector carrying the
setup header, then the flat protected-mode image that the ELF loads at
1 MiB, whose 64-bit entry is at +0x200 (XLF_KERNEL_64).  No 16-bit setup
code: the 64-bit protocol never runs it.
"""
import struct
import sys


def load_image(path):
    data = open(path, "rb").read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        sys.exit(f"{path}: not a 64-bit ELF")
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    loads = []
    for i in range(phnum):
        p_type, _flags, off, _vaddr, paddr, filesz, memsz, _align = struct.unpack_from(
            "<IIQQQQQQ", data, phoff + i * phentsize)
        if p_type == 1 and memsz:
            loads.append((paddr, data[off:off + filesz], memsz))
    if len(loads) != 1 or loads[0][0] != 0x100000:
        sys.exit(f"{path}: want exactly one PT_LOAD at 1 MiB")
    return loads[0]


def main():
    elf, out = sys.argv[1], sys.argv[2]
    _paddr, image, memsz = load_image(elf)
    setup_sects = 1
    setup = bytearray(512 * (1 + setup_sects))

    def put(fmt, off, *vals):
        struct.pack_into("<" + fmt, setup, off, *vals)

    put("B", 0x1f1, setup_sects)
    put("I", 0x1f4, (len(image) + 15) // 16)  # syssize, 16-byte units
    put("H", 0x1fa, 0xffff)                   # vid_mode: normal
    put("H", 0x1fe, 0xaa55)                   # boot_flag
    put("BB", 0x200, 0xeb, 0x268 - 0x202)     # jump over the header
    setup[0x202:0x206] = b"HdrS"
    put("H", 0x206, 0x020f)                   # protocol 2.15
    put("B", 0x211, 0x01)                     # loadflags: LOADED_HIGH
    put("I", 0x214, 0x100000)                 # code32_start
    put("I", 0x22c, 0x7fffffff)               # initrd_addr_max
    put("I", 0x230, 0x200000)                 # kernel_alignment
    put("B", 0x234, 0)                        # not relocatable: 1 MiB only
    put("H", 0x236, 0x0001)                   # xloadflags: XLF_KERNEL_64
    put("I", 0x238, 2047)                     # cmdline_size
    put("I", 0x260, memsz)                    # init_size: image + bss
    with open(out, "wb") as f:
        f.write(setup)
        f.write(image)


if __name__ == "__main__":
    main()
