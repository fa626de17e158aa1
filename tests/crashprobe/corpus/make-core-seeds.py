#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Make the seed corpus of fuzz-core-reader from real kernel cores.

Usage: make-core-seeds.py OUTDIR CORE...

For each (64-bit, little-endian) core it writes:
  <name>-head: the first 16 KiB (headers, notes, the start of the memory);
  <name>-compact: the same core with every segment's data cut to 1 KiB and
                  the offsets packed, so the whole layout fits in a few KiB;
and once, a small 32-bit big-endian core built from scratch (one thread, one
segment), so the other byte order and class are exercised too.
"""
import struct
import sys
from pathlib import Path


def compact(data):
    phoff, = struct.unpack_from("<Q", data, 32)
    phnum, = struct.unpack_from("<H", data, 56)
    phdrs = [list(struct.unpack_from("<IIQQQQQQ", data, phoff + 56 * i)) for i in range(phnum)]
    out = bytearray(data[:phoff + 56 * phnum])
    for ph in phdrs:
        keep = ph[5] if ph[0] == 4 else min(ph[5], 1024)
        chunk = data[ph[2]:ph[2] + keep]
        ph[2], ph[5] = len(out), len(chunk)
        out += chunk
    for i, ph in enumerate(phdrs):
        struct.pack_into("<IIQQQQQQ", out, phoff + 56 * i, *ph)
    return bytes(out)


def note(name, ntype, desc, endian):
    name = name.encode() + b"\0"
    pad = lambda b: b + b"\0" * (-len(b) % 4)
    return struct.pack(endian + "III", len(name), len(desc), ntype) + pad(name) + pad(desc)


def tiny_be32():
    e = ">"
    prstatus = bytearray(144)
    struct.pack_into(e + "h", prstatus, 12, 11)
    struct.pack_into(e + "i", prstatus, 24, 77)
    prpsinfo = bytearray(124)
    struct.pack_into(e + "i", prpsinfo, 12, 77)
    notes = note("CORE", 1, bytes(prstatus), e) + note("CORE", 3, bytes(prpsinfo), e)
    ehdr = bytearray(52)
    ehdr[:7] = b"\x7fELF\x01\x02\x01"
    phoff, phnum = 52, 2
    struct.pack_into(e + "HHIIIIIHHHHHH", ehdr, 16, 4, 20, 1, 0, phoff, 0, 0, 52, 32, phnum, 40, 0, 0)
    notes_off = phoff + 32 * phnum
    data_off = notes_off + len(notes)
    # Elf32_Phdr: type, offset, vaddr, paddr, filesz, memsz, flags, align
    phdrs = struct.pack(e + "IIIIIIII", 4, notes_off, 0, 0, len(notes), 0, 0, 4)
    phdrs += struct.pack(e + "IIIIIIII", 1, data_off, 0x10000, 0, 256, 4096, 6, 4096)
    return bytes(ehdr) + phdrs + notes + bytes(range(256))


def main():
    out = Path(sys.argv[1])
    for core in sys.argv[2:]:
        data = Path(core).read_bytes()
        name = Path(core).parent.name or "core"
        (out / f"{name}-head").write_bytes(data[:16384])
        (out / f"{name}-compact").write_bytes(compact(data))
    (out / "tiny-be32").write_bytes(tiny_be32())


if __name__ == "__main__":
    main()
