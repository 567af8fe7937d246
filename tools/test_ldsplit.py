"""tools/ldsplit on real links: a small C program whose functions go to
.text.hot, .text and .text.cold, each reading a table of its own, linked
through tools/linker/cc (GNU ld) and tools/linker/rust-lld (the
toolchain's lld), as rustc links pinit. The output's section and program
headers (readelf) must show each table and each string literal (split out
of .rodata.str1.1, tools/strsplit.py) in its part, each part in a load
segment of its own, a gap between them, and no part of the file
stretched by the gap. And tools/strsplit.py on a small armv7 object made
here (REL relocations, whose addend is the word they patch)."""

import os
import struct
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
sys.path.insert(0, str(TOOLS))
import strsplit  # noqa: E402

PROGRAM = r"""
static const char hot_table[3000] = {1};
static const char warm_table[5000] = {2};
static const char cold_table[9000] = {3};
static const char *const cold_pointers[2] = {cold_table, 0};
volatile int sink;

void say_hot(void), say_warm(void), say_cold(void);

__attribute__((noinline)) void loop(int i) { sink = hot_table[i]; say_hot(); }
__attribute__((noinline)) void now_and_then(int i) { sink = warm_table[i]; say_warm(); }
__attribute__((noinline)) void boot(int i) { sink = cold_pointers[i & 1][i]; say_cold(); }
void _start(void) { boot(1); loop(2); now_and_then(3); for (;;) ; }
"""

# Built without -fdata-sections: its string literals share one
# .rodata.str1.1, as rustc's format strings do (tools/strsplit.py).
LINES = r"""
volatile const char *said;
extern volatile int sink;
__attribute__((noinline)) void fail_cold(void) { said = "a failure's line"; }
void say_hot(void) { said = "a hot line"; if (sink) fail_cold(); }
void say_warm(void) { said = "a warm line"; }
void say_cold(void) { said = "a cold line"; }
"""

# tools/hot.ld and tools/cold.ld in small: the same output sections.
HOT = ("SECTIONS { .text.hot : { *(.text.loop) *(.text._start) *(.text.say_hot) } }"
       " INSERT BEFORE .text;\n")
COLD = ("SECTIONS { .text.cold : { *(.text.boot) *(.text.say_cold) *(.text.fail_cold) } }"
        " INSERT AFTER .text;\n")


def rust_lld():
    """The toolchain's rust-lld, or None."""
    try:
        sysroot = subprocess.run(["rustc", "--print", "sysroot"], stdout=subprocess.PIPE,
                                 text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    found = list(Path(sysroot).glob("lib/rustlib/*/bin/rust-lld"))
    return found[0] if found else None


def headers(binary):
    """{section: address}, [(vaddr, file size, file offset, flags)] of
    the LOAD segments, and {section: (file offset, size)}."""
    out = subprocess.run(["readelf", "-SlW", str(binary)], stdout=subprocess.PIPE,
                         text=True, check=True).stdout
    sections, loads, spans = {}, [], {}
    for line in out.splitlines():
        parts = line.replace("[ ", "[").split()
        if len(parts) > 5 and parts[0].startswith("[") and parts[1].startswith("."):
            sections[parts[1]] = int(parts[3], 16)
            spans[parts[1]] = (int(parts[4], 16), int(parts[5], 16))
        if parts[:1] == ["LOAD"]:
            loads.append((int(parts[2], 16), int(parts[4], 16), int(parts[1], 16), parts[6]))
    return sections, loads, spans


def symbols(binary):
    """{name: address} of the binary's symbols."""
    out = subprocess.run(["nm", str(binary)], stdout=subprocess.PIPE, text=True,
                         check=True).stdout
    return {p[2]: int(p[0], 16) for p in (l.split() for l in out.splitlines()) if len(p) == 3}


class Split(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="test_ldsplit."))
        self.addCleanup(shutil.rmtree, self.dir)
        (self.dir / "tools").mkdir()
        (self.dir / "tools" / "hot.ld").write_text(HOT)
        (self.dir / "cold.ld").write_text(COLD)
        (self.dir / "p.c").write_text(PROGRAM)
        (self.dir / "q.c").write_text(LINES)
        subprocess.run(["cc", "-c", "-O1", "-fno-pic", "-ffunction-sections", "-fdata-sections",
                        "-o", str(self.dir / "p.o"), str(self.dir / "p.c")], check=True)
        subprocess.run(["cc", "-c", "-O1", "-fno-pic", "-ffunction-sections",
                        "-o", str(self.dir / "q.o"), str(self.dir / "q.c")], check=True)
        self.objects = [str(self.dir / "p.o"), str(self.dir / "q.o")]

    def check(self, binary):
        sections, loads, spans = headers(binary)
        syms = symbols(binary)
        image = Path(binary).read_bytes()

        def holds(text):
            at = image.index(text + b"\0")
            return [s for s, (o, n) in spans.items() if o <= at < o + n][0]

        self.assertEqual(holds(b"a hot line"), ".rodata")
        self.assertEqual(holds(b"a warm line"), ".rodata.warm")
        self.assertEqual(holds(b"a cold line"), ".rodata.cold")
        # A hot function calls fail_cold(), but only fail_cold() reads it:
        # not in the steady state's data, and not in the data that is
        # never read again either.
        self.assertEqual(holds(b"a failure's line"), ".rodata.warm")

        def part(symbol):
            start = max(a for s, a in sections.items()
                        if s.startswith(".rodata") and a <= syms[symbol])
            return [s for s, a in sections.items() if a == start][0]

        self.assertEqual(part("hot_table"), ".rodata")
        self.assertEqual(part("warm_table"), ".rodata.warm")
        self.assertEqual(part("cold_table"), ".rodata.cold")
        # cold_table is read only through cold_pointers, which boot() reads.
        self.assertEqual(part("cold_pointers"), ".rodata.cold")
        # One load segment each, apart: a gap of at least a page between
        # the end of one and the start of the next, and file offsets that
        # follow on without the gap.
        parts = [sections[s] for s in (".rodata", ".rodata.warm", ".rodata.cold")]
        segs = []
        for address in parts:
            seg = [l for l in loads if l[0] <= address < l[0] + l[1]]
            self.assertEqual(len(seg), 1, "%#x in %s" % (address, loads))
            segs.append(seg[0])
        for before, after in zip(segs, segs[1:]):
            self.assertGreaterEqual(after[0] - (before[0] + before[1]), 0x1000)
            self.assertLess(after[2] - (before[2] + before[1]), 0x1000)

    def test_gnu_ld(self):
        out = self.dir / "p"
        subprocess.run([str(TOOLS / "linker" / "cc"), "-static", "-nostdlib", "-no-pie",
                        "-Wl,--gc-sections", "-o", str(out)] + self.objects + [
                        "-Wl,-T,%s" % (self.dir / "cold.ld"),
                        "-Wl,-T,%s" % (self.dir / "tools" / "hot.ld")], check=True)
        self.check(out)

    def test_lld(self):
        lld = rust_lld()
        if lld is None:
            self.skipTest("no rust-lld in the toolchain")
        out = self.dir / "p"
        env = dict(os.environ, PATH="%s%s%s" % (lld.parent, os.pathsep, os.environ["PATH"]))
        subprocess.run([str(TOOLS / "linker" / "rust-lld"), "-flavor", "gnu", "-static",
                        "--gc-sections", "-z", "max-page-size=65536", "-o", str(out)]
                       + self.objects + ["--script=%s" % (self.dir / "cold.ld"),
                        "--script=%s" % (self.dir / "tools" / "hot.ld")], check=True, env=env)
        self.check(out)

    def test_other_links_untouched(self):
        # No tools/hot.ld: one plain link, nothing moved.
        out = self.dir / "p"
        subprocess.run([str(TOOLS / "linker" / "cc"), "-static", "-nostdlib", "-no-pie",
                        "-o", str(out)] + self.objects, check=True)
        sections, _, _ = headers(out)
        self.assertNotIn(".rodata.cold", sections)
        self.assertNotIn(".rodata.warm", sections)


if __name__ == "__main__":
    unittest.main()


def arm_object():
    """A 32-bit ARM relocatable object as rustc's Thumb code makes them:
    three functions, each with a literal-pool word (R_ARM_ABS32, REL: the
    addend in the word) that points into one shared .rodata.str1.1, and
    one word that points at a global symbol."""
    strings = b"a hot line\0a cold line\0a warm line\0"
    texts = [(".text.loop", 0), (".text.boot", 11), (".text.then", 23)]
    shnames = b"\0"

    def shname(n):
        nonlocal shnames
        at = len(shnames)
        shnames += n.encode() + b"\0"
        return at

    sections = [None]  # (name, type, flags, data, link, info, align, entsize)
    for name, offset in texts:
        sections.append((name, 1, 0x6, b"\0\xbf\0\xbf" + struct.pack("<I", offset), 0, 0, 4, 0))
    sections.append((".rodata.str1.1", 1, 0x32, strings, 0, 0, 1, 1))
    symtab_index = len(sections) + len(texts)
    for k, (name, _) in enumerate(texts):
        entries = struct.pack("<II", 4, (1 << 8) | 2)  # the string, via the section symbol
        if name == ".text.boot":
            entries += struct.pack("<II", 0, (2 << 8) | 2)  # the global `loop`
        sections.append((".rel" + name, 9, 0x40, entries, symtab_index, k + 1, 4, 8))
    syms = struct.pack("<IIIBBH", 0, 0, 0, 0, 0, 0)
    syms += struct.pack("<IIIBBH", 0, 0, 0, 3, 0, 4)  # section symbol of .rodata.str1.1
    syms += struct.pack("<IIIBBH", 1, 0, 8, 0x12, 0, 1)  # global function `loop`
    sections.append((".symtab", 2, 0, syms, symtab_index + 1, 2, 4, 16))
    sections.append((".strtab", 3, 0, b"\0loop\0", 0, 0, 1, 0))
    sections.append((".shstrtab", 3, 0, None, 0, 0, 1, 0))
    named = [None] + [(shname(s[0]),) + s[1:] for s in sections[1:]]
    body, heads = bytearray(b"\0" * 52), [struct.pack("<IIIIIIIIII", *[0] * 10)]
    for n, kind, flags, data, link, info, align, entsize in named[1:]:
        data = shnames if data is None else data
        while len(body) % 4:
            body.append(0)
        heads.append(struct.pack("<IIIIIIIIII", n, kind, flags, 0, len(body), len(data),
                                 link, info, align, entsize))
        body += data
    while len(body) % 4:
        body.append(0)
    shoff = len(body)
    body += b"".join(heads)
    struct.pack_into("<16sHHIIIIIHHHHHH", body, 0, b"\x7fELF\x01\x01\x01" + b"\0" * 9, 1, 40,
                     1, 0, 0, shoff, 0x05000000, 52, 0, 0, 40, len(heads), len(heads) - 1)
    return bytes(body)


class StringsRel(unittest.TestCase):
    """tools/strsplit.py on armv7's REL relocations: the addend is the
    word the relocation patches."""

    def test_split(self):
        d = Path(tempfile.mkdtemp(prefix="test_strsplit."))
        self.addCleanup(shutil.rmtree, d)
        (d / "a.o").write_bytes(arm_object())
        # .text.loop hot, .text.boot cold, .text.then warm.
        moved = strsplit.split(d / "a.o", d / "b.o", {1: 0, 2: 2, 3: 1}.get)
        self.assertEqual(moved, (len(b"a warm line\0"), len(b"a cold line\0")))
        out = (d / "b.o").read_bytes()
        shoff, = struct.unpack_from("<I", out, 0x20)
        shnum, shstrndx = struct.unpack_from("<HH", out, 0x30)
        heads = [struct.unpack_from("<IIIIIIIIII", out, shoff + 40 * i) for i in range(shnum)]

        def name(h):
            at = heads[shstrndx][4] + h[0]
            return out[at:out.index(b"\0", at)].decode()

        def data(h):
            return out[h[4]:h[4] + h[5]]

        by = {name(h): (i, h) for i, h in enumerate(heads)}
        self.assertEqual(data(by[".rodata.str1.1"][1]), b"a hot line\0")
        self.assertEqual(data(by[".rodata.str.warm"][1]), b"a warm line\0")
        self.assertEqual(data(by[".rodata.str.cold"][1]), b"a cold line\0")
        symtab = by[".symtab"][1]
        syms = [struct.unpack_from("<IIIBBH", out, symtab[4] + 16 * i)
                for i in range(symtab[5] // 16)]
        self.assertEqual(symtab[7], 4, "two more local symbols")
        self.assertEqual([(s[3], s[5]) for s in syms[2:4]],
                         [(3, by[".rodata.str.warm"][0]), (3, by[".rodata.str.cold"][0])])
        self.assertEqual(syms[4][1:3], (0, 8), "the global symbol moved up by two")

        def patched(text):
            rel = by[".rel" + text][1]
            entries = [struct.unpack_from("<II", out, rel[4] + 8 * i) for i in range(rel[5] // 8)]
            word, = struct.unpack_from("<I", out, by[text][1][4] + 4)
            return [e[1] >> 8 for e in entries], word

        self.assertEqual(patched(".text.loop"), ([1], 0))
        self.assertEqual(patched(".text.then"), ([2], 0))
        self.assertEqual(patched(".text.boot"), ([3, 4], 0))
