"""strsplit: tools/ldsplit's second half. Splits a relocatable object's
merged-string section (`.rodata.str1.1`) in three by who reads each
string, as a new object for the second link.

rustc puts every format string of the crate, hot or not, into that one
section (SHF_MERGE | SHF_STRINGS: NUL-terminated templates, 17 KB of
pinit's 26 KB of read-only data the loop's code refers to). A linker
script places whole input sections, so ldsplit could not move the part
of it only cold code reads. Here each string (NUL to NUL) goes where the
hottest section that refers to it goes: the strings stay in the section
in their order, hot first, and the warm and cold ones move to two new
sections, WARM and COLD, with a section symbol each. Every relocation
against the old section's symbol is rewritten to the string's new place
(and checked to read the same bytes there); a label of a string (GNU
as's .LC0) moves with it.

For little-endian objects of the machines in EXACT, where the addend of
every relocation against the section is the offset of the byte referred
to (absolute and page-relative types, from a list per machine): RELA
(x86_64, aarch64, riscv64: the addend is in the entry) and REL (armv7:
the addend is the 32-bit word the relocation patches, R_ARM_ABS32, the
literal pools rustc's Thumb code loads addresses from). Any other type
against the section is refused with a Fail; another machine's object is
linked as it was.

The ELF layouts and constants here are also the ones tools/ldsplit reads
objects with.
"""

import struct
from bisect import bisect_right
from pathlib import Path

WARM, COLD = ".rodata.str.warm", ".rodata.str.cold"

SHF_WRITE, SHF_ALLOC, SHF_EXECINSTR, SHF_MERGE, SHF_STRINGS = 0x1, 0x2, 0x4, 0x10, 0x20
SHT_SYMTAB, SHT_RELA, SHT_NOBITS, SHT_REL, SHT_GROUP, SHT_SYMTAB_SHNDX = 2, 4, 8, 9, 17, 18
SHT_LLVM_ADDRSIG = 0x6FFF4C03
STT_SECTION = 3
SHN_LORESERVE, SHN_XINDEX = 0xFF00, 0xFFFF

# Relocation types whose addend is the offset of the byte referred to
# (S + A, or its page for aarch64's ADRP): no PC bias to undo.
EXACT = {
    62: {1, 10, 11},  # x86_64: 64, 32, 32S
    183: {257, 258, 263, 264, 265, 266, 267, 268, 269, 274, 275, 276, 277,
          278, 284, 285, 286, 299},  # aarch64: ABS*, MOVW_UABS*, ADR*, ADD/LDST lo12
    243: {1, 2, 23, 26, 27, 28},  # riscv64: 32, 64, PCREL_HI20, HI20, LO12_I/S
    40: {2},  # arm: ABS32 (REL: the addend is the word it patches)
}


class Layout:
    """The struct layouts of a 64- or 32-bit ELF file, and where a
    symbol's fields are in them."""

    def __init__(self, wide):
        if wide:
            self.eh, self.sh, self.sym = "<16sHHIQQQIHHHHHH", "<IIQQQQIIQQ", "<IBBHQQ"
            self.info, self.shndx, self.value = 1, 3, 4
            self.rel, self.rela, self.shift, self.mask = "<QQ", "<QQq", 32, 0xFFFFFFFF
        else:
            self.eh, self.sh, self.sym = "<16sHHIIIIIHHHHHH", "<IIIIIIIIII", "<IIIBBH"
            self.info, self.shndx, self.value = 3, 5, 1
            self.rel, self.rela, self.shift, self.mask = "<II", "<IIi", 8, 0xFF
        self.symsize = struct.calcsize(self.sym)


class Fail(Exception):
    """An object or a link map that tools/ldsplit and this cannot handle
    safely."""


def uleb(data, at):
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, at


def to_uleb(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def split(path, out, temperature):
    """Writes to `out` the object at `path` with its `.rodata.str1.1`
    split; `temperature(section index)` is 0 (hot), 1 (warm) or 2 (cold)
    for the sections that refer to strings. Returns the number of bytes
    moved to (WARM, COLD), or None when the object has no such section or
    is not of a machine in EXACT. Raises Fail where it cannot."""
    data = bytearray(Path(path).read_bytes())
    if data[4] not in (1, 2) or data[5] != 1:
        return None
    lay = Layout(data[4] == 2)
    eh = list(struct.unpack_from(lay.eh, data, 0))
    machine, shoff, shentsize, shnum, shstrndx = eh[2], eh[6], eh[11], eh[12], eh[13]
    exact = EXACT.get(machine)
    if exact is None:
        return None
    first = struct.unpack_from(lay.sh, data, shoff)
    if shnum == 0:
        shnum = first[5]
    if shstrndx == SHN_XINDEX:
        shstrndx = first[6]
    heads = [list(struct.unpack_from(lay.sh, data, shoff + i * shentsize))
             for i in range(shnum)]
    if shnum + 2 >= SHN_LORESERVE:
        raise Fail("%s: too many sections (%d)" % (path, shnum))
    names = heads[shstrndx]

    def name(h):
        start = names[4] + h[0]
        return data[start:data.index(b"\0", start)].decode("latin-1")

    strs = [i for i, h in enumerate(heads)
            if name(h) == ".rodata.str1.1" and h[2] & (SHF_MERGE | SHF_STRINGS)]
    if not strs:
        return None
    if len(strs) > 1:
        raise Fail("%s: %d sections .rodata.str1.1" % (path, len(strs)))
    s = strs[0]
    text = bytes(data[heads[s][4]:heads[s][4] + heads[s][5]])
    if heads[s][9] != 1 or not text.endswith(b"\0"):
        raise Fail("%s: .rodata.str1.1 is not NUL-terminated strings of bytes" % path)
    symtabs = [i for i, h in enumerate(heads) if h[1] == SHT_SYMTAB]
    if len(symtabs) != 1 or any(h[1] == SHT_SYMTAB_SHNDX for h in heads):
        raise Fail("%s: not one symbol table, or extended section indices" % path)
    st = heads[symtabs[0]]
    nsyms, locals_ = st[5] // lay.symsize, st[7]
    syms = [list(struct.unpack_from(lay.sym, data, st[4] + lay.symsize * i))
            for i in range(nsyms)]
    # The section's own symbol (relocations add the string's offset to
    # it) and labels of strings (GNU as keeps .LC0 and its like).
    ours = [i for i, y in enumerate(syms)
            if y[lay.shndx] == s and y[lay.info] & 0xF == STT_SECTION]
    labels = {i for i, y in enumerate(syms)
              if y[lay.shndx] == s and y[lay.info] & 0xF != STT_SECTION}
    if len(ours) > 1:
        raise Fail("%s: two section symbols for .rodata.str1.1" % path)
    sym = ours[0] if ours else None

    def relocations():
        """(where the entry is, the section it patches, symbol, type,
        addend, where a REL addend is) of every relocation."""
        for h in heads:
            if h[1] not in (SHT_RELA, SHT_REL) or h[6] != symtabs[0]:
                continue
            fmt = lay.rela if h[1] == SHT_RELA else lay.rel
            step = struct.calcsize(fmt)
            for at in range(h[4], h[4] + h[5], step):
                entry = struct.unpack_from(fmt, data, at)
                index, kind = entry[1] >> lay.shift, entry[1] & lay.mask
                word = None
                if h[1] == SHT_RELA:
                    addend = entry[2]
                elif index == sym and sym is not None:
                    # REL: the addend is the 32-bit word it patches.
                    word = heads[h[7]][4] + entry[0]
                    addend, = struct.unpack_from("<i", data, word)
                else:
                    addend = 0
                yield at, h, index, kind, addend, word

    # The strings, and the hottest section that refers to each.
    starts, at = [], 0
    while at < len(text):
        starts.append(at)
        at = text.index(b"\0", at) + 1
    heat = [2] * len(starts)

    def piece(offset):
        if not 0 <= offset < len(text):
            raise Fail("%s: a relocation %d bytes into .rodata.str1.1 of %d"
                       % (path, offset, len(text)))
        return bisect_right(starts, offset) - 1

    for _, h, index, kind, addend, _ in relocations():
        if index in labels:
            p = piece(syms[index][lay.value])
        elif sym is not None and index == sym:
            if kind not in exact:
                raise Fail("%s: relocation type %d against .rodata.str1.1" % (path, kind))
            p = piece(addend)
        else:
            continue
        heat[p] = min(heat[p], temperature(h[7]))

    # The new contents: the hot strings in the old section, in order.
    parts = [bytearray(), bytearray(), bytearray()]
    moved = {}
    for p, start in enumerate(starts):
        end = starts[p + 1] if p + 1 < len(starts) else len(text)
        moved[p] = (heat[p], len(parts[heat[p]]))
        parts[heat[p]] += text[start:end]

    # A label moves with its string (its relocations need no change).
    for i in labels:
        p = piece(syms[i][lay.value])
        part, base = moved[p]
        syms[i][lay.shndx] = s if part == 0 else shnum + part - 1
        syms[i][lay.value] = base + syms[i][lay.value] - starts[p]

    # Two section symbols, the last locals: later symbols move up by two.
    new_syms = [locals_, locals_ + 1]

    def renumber(index):
        return index + 2 if index >= locals_ else index

    for at, h, index, kind, addend, word in list(relocations()):
        if sym is not None and index == sym:
            p = piece(addend)
            part, base = moved[p]
            was = text[addend:text.index(b"\0", addend)]
            addend = base + addend - starts[p]
            index = sym if part == 0 else new_syms[part - 1]
            # The same bytes from the new place.
            if bytes(parts[part][addend:parts[part].index(b"\0", addend)]) != was:
                raise Fail("%s: a moved string reads differently" % path)
        else:
            index = renumber(index)
        info = (index << lay.shift) | kind
        if h[1] == SHT_RELA:
            offset = struct.unpack_from(lay.rela, data, at)[0]
            struct.pack_into(lay.rela, data, at, offset, info, addend)
        else:
            offset = struct.unpack_from(lay.rel, data, at)[0]
            struct.pack_into(lay.rel, data, at, offset, info)
            if word is not None:
                struct.pack_into("<i", data, word, addend)
    for h in heads:
        if h[1] == SHT_GROUP:
            h[7] = renumber(h[7])
    for h in heads:
        if h[1] == SHT_LLVM_ADDRSIG:
            entries, at, end = [], h[4], h[4] + h[5]
            while at < end:
                value, at = uleb(data, at)
                entries.append(renumber(value))
            blob = b"".join(to_uleb(v) for v in entries)
            h[4], h[5] = len(data), len(blob)
            data += blob

    # Appended: the three string parts, the symbol table, the section
    # names, the section headers.
    def append(blob, align=8):
        while len(data) % align:
            data.append(0)
        start = len(data)
        data.extend(blob)
        return start

    old = list(heads[s])
    heads[s][4], heads[s][5] = append(parts[0], 1), len(parts[0])
    for k in range(2):
        where = append(parts[k + 1], 1)
        label_at = names[5] + sum(len(n) + 1 for n in (WARM, COLD)[:k])
        heads.append([label_at, old[1], old[2], 0, where, len(parts[k + 1]), 0, 0, old[8], old[9]])
    for k in range(2):
        new = [0] * 6
        new[lay.info], new[lay.shndx] = STT_SECTION, shnum + k
        syms.insert(locals_ + k, new)
    st[4] = append(b"".join(struct.pack(lay.sym, *y) for y in syms))
    st[5], st[7] = len(syms) * lay.symsize, locals_ + 2
    table = bytes(data[names[4]:names[4] + names[5]]) + b"".join(
        n.encode() + b"\0" for n in (WARM, COLD))
    names[4], names[5] = append(table, 1), len(table)
    eh[6] = append(b"".join(struct.pack(lay.sh, *h) for h in heads))
    if eh[12] == 0:
        heads[0][5] = len(heads)
        struct.pack_into(lay.sh, data, eh[6], *heads[0])
    else:
        eh[12] = len(heads)
    struct.pack_into(lay.eh, data, 0, *eh)

    Path(out).write_bytes(bytes(data))
    return len(parts[1]), len(parts[2])
