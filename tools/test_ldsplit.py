"""tools/ldsplit on real links: a small C program whose functions go to
.text.hot, .text and .text.cold, each reading a table of its own, linked
through tools/linker/cc (GNU ld) and tools/linker/rust-lld (the
toolchain's lld), as rustc links pinit. The output's section and program
headers (readelf) must show each table and each string literal (split out
of .rodata.str1.1, tools/strsplit.py) in its part, each part in a load
segment of its own, a gap between them, and no part of the file
stretched by the gap."""

import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

TOOLS = Path(__file__).resolve().parent

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
void say_hot(void) { said = "a hot line"; }
void say_warm(void) { said = "a warm line"; }
void say_cold(void) { said = "a cold line"; }
"""

# tools/hot.ld and tools/cold.ld in small: the same output sections.
HOT = ("SECTIONS { .text.hot : { *(.text.loop) *(.text._start) *(.text.say_hot) } }"
       " INSERT BEFORE .text;\n")
COLD = "SECTIONS { .text.cold : { *(.text.boot) *(.text.say_cold) } } INSERT AFTER .text;\n"


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
