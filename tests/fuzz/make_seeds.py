#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the fuzzers' seed corpora in tests/fuzz/corpus/<fuzzer>/.

The seeds are small valid inputs (a newc archive, static ELF64 executables,
VM descriptions) for libFuzzer to mutate from.  They are checked in; rerun
this script after changing it:  python3 tests/fuzz/make_seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(fuzzer, name, data):
    assert len(data) < 4096, name
    directory = os.path.join(HERE, "corpus", fuzzer)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def pad4(data):
    return data + b"\0" * (-len(data) % 4)


def newc_entry(ino, name, mode, data=b""):
    """One entry of cpio(5) "new ASCII" format: magic 070701, 13 hex fields."""
    name = name.encode() + b"\0"
    fields = [ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name), 0]
    header = b"070701" + b"".join(b"%08x" % v for v in fields)
    return pad4(header + name) + pad4(data)


def newc_archive(entries):
    out = b"".join(newc_entry(i + 1, *e) for i, e in enumerate(entries))
    return out + newc_entry(0, "TRAILER!!!", 0)


def elf_exec(segments, entry, extra_phdrs=()):
    """A static ELF64 x86-64 ET_EXEC.  segments: (flags, vaddr, bytes, memsz);
    each segment's bytes go at the file offset congruent to vaddr mod 4096."""
    phdrs = []
    body = bytearray()
    phnum = len(segments) + len(extra_phdrs)
    data_start = 64 + 56 * phnum
    for flags, vaddr, content, memsz in segments:
        offset = max(data_start, len(body) + data_start)
        offset += (vaddr - offset) % 4096
        body += b"\0" * (offset - data_start - len(body)) + content
        phdrs.append(struct.pack("<IIQQQQQQ", 1, flags, offset, vaddr, vaddr,
                                 len(content), memsz, 4096))
    for ptype, flags in extra_phdrs:
        phdrs.append(struct.pack("<IIQQQQQQ", ptype, flags, 0, 0, 0, 0, 0, 16))
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + b"\0" * 8
    ehdr = ident + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, entry, 64, 0, 0,
                               64, 56, phnum, 64, 0, 0)
    return ehdr + b"".join(phdrs) + bytes(body)


PF_X, PF_W, PF_R = 1, 2, 4
PT_NOTE, PT_GNU_STACK = 4, 0x6474E551

# cpio: a directory, files of awkward sizes, the trailer; and the trailer alone.
write("cpio", "tree.cpio", newc_archive([
    ("bin", 0o040755),
    ("bin/hello", 0o100755, b"\x7fELF hello"),
    ("etc", 0o040755),
    ("etc/vmm.conf", 0o100644, b"memory 64M\nvcpus 1\n"),
    ("empty", 0o100644),
]))
write("cpio", "trailer-only.cpio", newc_archive([]))

# elf: text (R+X, `mov $60,%eax; xor %edi,%edi; syscall`) plus data+bss;
# and one with a PT_NOTE and PT_GNU_STACK the validator must skip.
code = bytes.fromhex("b83c00000031ff0f05")
write("elf", "text-data.elf", elf_exec(
    [(PF_R | PF_X, 0x401000 + 0x120, code, len(code)),
     (PF_R | PF_W, 0x403000 + 0x180, b"data1234", 0x2000)],
    entry=0x401120))
write("elf", "notes.elf", elf_exec(
    [(PF_R | PF_X, 0x10000 + 0xe8, code, 0x40)],
    entry=0x100e8, extra_phdrs=[(PT_NOTE, PF_R), (PT_GNU_STACK, PF_R | PF_W)]))

# config: VM descriptions using every directive.
write("config", "basic.conf", b"memory 64M\nvcpus 1\n")
write("config", "full.conf",
      b"# every directive\r\nmemory 0x4000000\nvcpus 4\n"
      b"server child args A BB CCC\nserver irqd\n"
      b"guest guest.bin multiboot\n"
      b"device uart port=0x3f8 irq=4 name=\n")
write("config", "bad.conf", b"memory 64M\nvcpus many\n")
write("config", "guest-options.conf",
      b"memory 64M\nguest g.elf multiboot cmdline=console=ttyS0 expect=shutdown\n")


# loader: the first byte picks the format (bit 0: multiboot) and the RAM size
# (bits 1-3: 1..8 MiB, 0 = just past the boot information page); the rest is
# the image (tests/fuzz/loader_fuzz.c).
MB_MAGIC = 0x1BADB002


def mb_header(flags, fields=()):
    return struct.pack("<III", MB_MAGIC, flags, (-(MB_MAGIC + flags)) & 0xffffffff) + \
        b"".join(struct.pack("<I", f) for f in fields)


def elf32_multiboot():
    """An ELF32 i386 ET_EXEC: one PT_LOAD at paddr 1 MiB (vaddr 0xC0100000),
    the multiboot header at offset 0x80, code at 0x100."""
    ehdr = b"\x7fELF" + bytes([1, 1, 1]) + b"\0" * 9 + struct.pack(
        "<HHIIIIIHHHHHH", 2, 3, 1, 0xC0100000, 52, 0, 0, 52, 32, 1, 0, 0, 0)
    phdr = struct.pack("<IIIIIIII", 1, 0x100, 0xC0100000, 0x100000, 0x40, 0x1000, 5, 0x1000)
    image = bytearray(0x140)
    image[0:len(ehdr)] = ehdr
    image[52:52 + 32] = phdr
    image[0x80:0x8c] = mb_header(0x3)
    image[0x100:0x104] = b"\xf4\xeb\xfd\x90"   # hlt; jmp .-1
    return bytes(image)


def aout_multiboot():
    """A multiboot a.out-kludge image: header at 0x10, loaded at 1 MiB."""
    fields = (0x100010, 0x100000, 0x100040, 0x101000, 0x100030)
    image = bytearray(0x40)
    header = mb_header(0x10002, fields)
    image[0x10:0x10 + len(header)] = header
    image[0x30:0x32] = b"\xf4\xf4"
    return bytes(image)


write("loader", "flat.bin", bytes([0x02]) + b"\xf4\xeb\xfd" + b"\x90" * 29)
write("loader", "elf32.mb", bytes([0x03]) + elf32_multiboot())
write("loader", "aout.mb", bytes([0x05]) + aout_multiboot())
write("loader", "elf32-tiny-ram.mb", bytes([0x01]) + elf32_multiboot())


# decode_fuzz: byte 0 mode (2: 64-bit; 4: 32-bit with DF), bytes 1-8 the register seed,
# then one instruction of each form the MMIO decoder takes (issue 9 item 6:
# ADC/SBB, INC/DEC/NOT/NEG, BTS/BTR/BTC, XADD, CMPXCHG/CMPXCHG8B with LOCK,
# MOVNTI, MOVBE, PUSH/POP r/m, CMPS/LODS/SCAS with REPE/REPNE, the SSE/AVX
# moves).
DECODE_FORMS = {
    "mov": "8b03", "or-rmw": "f0480903", "adc-imm": "831301", "sbb": "1903", "inc": "fe03",
    "dec16": "66ff4b04", "not": "f613", "neg64": "48f71b", "bts-imm": "f00fba2b05",
    "btr-reg": "f0480fb303", "btc16": "660fbb03", "cmpxchg": "f00fb10b", "cmpxchg8": "0fb00b",
    "xadd": "f0480fc113", "cmpxchg8b": "f00fc70b", "movnti": "480fc303", "movbe-load": "0f38f003",
    "movbe-store": "660f38f10b", "push": "ff33", "pop": "8f442408", "repe-cmpsb": "f3a6",
    "repne-scasd": "f2af", "lodsq": "48ad", "rep-movsb": "f3a4", "bt": "0fa303",
    "movd": "660f6e0b", "movq-store": "660fd64b08", "movdqa": "660f6f23", "movdqu-store": "f30f7f33",
    "vmovdqu-ymm": "c57e6f03", "vmovdqu-store": "c4c17e7f11",
}
for name, hexbytes in DECODE_FORMS.items():
    write("decode", name, bytes([0x02]) + bytes(range(1, 9)) + bytes.fromhex(hexbytes))
    write("decode", name + "-32", bytes([0x04]) + bytes(range(9, 17)) + bytes.fromhex(hexbytes.replace("48", "")))


# virtio_fuzz: header {num_log2, flags, desc, driver, device (le16), nops},
# nops register accesses {offset/4 | 0x80 read, size code, value le32}, then
# guest RAM.  A 4-entry queue: descriptors at 0, available ring at 0x100,
# used ring at 0x200, buffers from 0x300, an indirect table at 0x400.
def virtio_ram(indirect):
    ram = bytearray(0x500)
    def desc(table, i, addr, length, flags, nxt):
        struct.pack_into("<QIHH", ram, table + 16 * i, addr, length, flags, nxt)
    desc(0, 0, 0x300, 16, 1, 1)                 # header, NEXT
    desc(0, 1, 0x310, 512 if not indirect else 0x20, 3, 2)   # data, NEXT | WRITE
    desc(0, 2, 0x330, 1, 2, 0)                  # status, WRITE
    if indirect:
        desc(0x400, 0, 0x300, 16, 1, 1)
        desc(0x400, 1, 0x330, 1, 2, 0)
        desc(0, 3, 0x400, 32, 4, 0)             # INDIRECT
    heads = [0, 3] if indirect else [0]
    struct.pack_into("<HH", ram, 0x100, 0, len(heads))
    for i, h in enumerate(heads):
        struct.pack_into("<H", ram, 0x104 + 2 * i, h)
    return bytes(ram)


def virtio_ops(indirect):
    ops = [(0x70, 0), (0x70, 1), (0x70, 3), (0x24, 0), (0x20, (1 << 28) if indirect else 0),
           (0x24, 1), (0x20, 1), (0x70, 11), (0x30, 0), (0x38, 4), (0x80, 0), (0x84, 0),
           (0x90, 0x100), (0x94, 0), (0xa0, 0x200), (0xa4, 0), (0x44, 1), (0x70, 15),
           (0x50, 0), (0x60 | 0x200, 0), (0x64, 1), (0x70, 0)]
    out = b""
    for offset, value in ops:
        read = offset & 0x200
        out += bytes([(offset & 0x1ff) // 4 | (0x80 if read else 0), 2]) + struct.pack("<I", value)
    return out, len(ops)


for name, indirect in (("chain", False), ("indirect", True)):
    ops, nops = virtio_ops(indirect)
    header = bytes([2, 1 if indirect else 0]) + struct.pack("<HHH", 0, 0x100, 0x200) + bytes([nops])
    write("virtio", name, header + ops + virtio_ram(indirect))
