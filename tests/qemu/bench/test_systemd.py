"""Host tests of systemd's side of the bench: the unit files it generates
(ExecStart= quoting above all: systemd expands % and $ in it), the
root's cpio list, and the library closure for the bytes on disk."""

import os
import struct
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
import inits as I  # noqa: E402  (before init_systemd: inits registers it)
import debroot  # noqa: E402
import elfdeps  # noqa: E402
import image  # noqa: E402
import init_systemd as S  # noqa: E402
import workloads as W  # noqa: E402


def workload():
    svc = [W.Service("a", ["/usr/bin/stamp", "two words", 'say "hi"', "100%", "$HOME"]),
           W.Service("b", ["/usr/bin/crashloop", "back\\slash"], fast_restart=True)]
    return W.Workload("w", "start", svc, oneshot="/bench/start.sh")


class ExecStart(unittest.TestCase):
    def test_words_are_quoted_and_escaped(self):
        self.assertEqual(S.exec_word("/usr/bin/stamp"), '"/usr/bin/stamp"')
        self.assertEqual(S.exec_word("two words"), '"two words"')
        self.assertEqual(S.exec_word('say "hi"'), '"say \\"hi\\""')
        self.assertEqual(S.exec_word("back\\slash"), '"back\\\\slash"')
        self.assertEqual(S.exec_word("it's"), '"it\'s"')

    def test_specifiers_and_variables_are_literal(self):
        self.assertEqual(S.exec_word("100%"), '"100%%"')
        self.assertEqual(S.exec_word("%n"), '"%%n"')
        self.assertEqual(S.exec_word("$HOME ${X}"), '"$$HOME $${X}"')

    def test_control_characters_and_semicolons(self):
        self.assertEqual(S.exec_word("a\tb\nc"), '"a\\x09b\\x0ac"')
        # A quoted ; is an argument, not systemd's command separator.
        self.assertEqual(S.exec_line(["/bin/echo", ";"]), '"/bin/echo" ";"')


class Units(unittest.TestCase):
    def setUp(self):
        self.u = S.units(workload())

    def test_one_service_per_service_and_the_script(self):
        d = S.UNIT_DIR
        self.assertEqual(sorted(self.u), [d + "/a.service", d + "/b.service",
                                          d + "/bench.service", d + "/bench.target"])

    def test_service(self):
        a = self.u[S.UNIT_DIR + "/a.service"].splitlines()
        self.assertIn("Type=exec", a)
        self.assertIn("Restart=always", a)
        self.assertIn("StartLimitIntervalSec=0", a)
        self.assertIn('ExecStart="/usr/bin/stamp" "two words" "say \\"hi\\"" "100%%" "$$HOME"', a)
        # Without fast_restart: systemd's default RestartSec (100 ms).
        self.assertFalse(any(l.startswith("RestartSec") for l in a))
        self.assertIn("RestartSec=0", self.u[S.UNIT_DIR + "/b.service"].splitlines())

    def test_script_after_the_services_and_one_target(self):
        b = self.u[S.UNIT_DIR + "/bench.service"].splitlines()
        self.assertIn("Wants=a.service b.service", b)
        self.assertIn("After=a.service b.service", b)
        self.assertIn('ExecStart="/bin/sh" "/bench/start.sh"', b)
        self.assertIn("StandardOutput=journal+console", b)
        t = self.u[S.UNIT_DIR + "/bench.target"].splitlines()
        self.assertIn("Wants=a.service b.service bench.service", t)

    def test_no_script_no_bench_service(self):
        u = S.units(W.restart("true", runs=3))
        self.assertNotIn(S.UNIT_DIR + "/bench.service", u)
        self.assertIn("Wants=crash.service", u[S.UNIT_DIR + "/bench.target"].splitlines())

    def test_links(self):
        links = S.links()
        self.assertEqual(links["/init"], "/lib/systemd/systemd")
        self.assertEqual(links[S.UNIT_DIR + "/multi-user.target.wants/bench.target"],
                         S.UNIT_DIR + "/bench.target")
        self.assertEqual(links[S.UNIT_DIR + "/getty.target"], "/dev/null")

    def test_not_in_a_plain_run(self):
        self.assertTrue(I.INITS["pinit"].default)
        self.assertFalse(I.INITS["systemd"].default)
        self.assertEqual(I.INITS["systemd"].arches, ("x86_64",))


class RootList(unittest.TestCase):
    def test_modes_owners_links(self):
        with tempfile.TemporaryDirectory() as root:
            os.makedirs(root + "/usr/bin")
            os.symlink("usr/bin", root + "/bin")
            Path(root + "/usr/bin/su").write_text("x")
            os.chmod(root + "/usr/bin/su", 0o4755)
            Path(root + "/usr/bin/perl").write_text("p")
            os.link(root + "/usr/bin/perl", root + "/usr/bin/perl5")
            os.chmod(root + "/usr/bin", 0o755)
            text = S.root_list(root)
            img = image.Image()
            img.add_list(image.parse_list(text, {}))
            e = img.entries
            self.assertEqual((e["/bin"].kind, e["/bin"].source), ("slink", "usr/bin"))
            self.assertEqual(e["/usr/bin/su"].mode, 0o4755)
            self.assertEqual(e["/usr/bin/su"].gid, os.getgid())
            perl = [n for n in ("/usr/bin/perl", "/usr/bin/perl5") if n in e]
            self.assertEqual(len(perl), 1)
            self.assertEqual(len(e[perl[0]].links), 1)

    def test_blank_in_a_name_fails(self):
        with tempfile.TemporaryDirectory() as root:
            Path(root + "/a b").write_text("")
            with self.assertRaises(ValueError):
                S.root_list(root)


def elf(interp=None, needed=(), runpath=None):
    """A minimal little-endian ELF64: one PT_LOAD over the whole file,
    PT_INTERP, PT_DYNAMIC with DT_NEEDED, DT_RUNPATH and DT_STRTAB."""
    vaddr = 0x400000
    strtab, at = b"\0", {}
    for s in list(needed) + ([runpath] if runpath else []):
        at[s] = len(strtab)
        strtab += s.encode() + b"\0"
    interp_b = interp.encode() + b"\0" if interp else b""
    interp_off = 64 + 3 * 56
    str_off = interp_off + len(interp_b)
    dyn_off = (str_off + len(strtab) + 7) & ~7
    tags = [(elfdeps.DT_NEEDED, at[n]) for n in needed]
    if runpath:
        tags.append((elfdeps.DT_RUNPATH, at[runpath]))
    tags += [(elfdeps.DT_STRTAB, vaddr + str_off), (elfdeps.DT_NULL, 0)]
    dyn = b"".join(struct.pack("<qQ", t, v) for t, v in tags)
    size = dyn_off + len(dyn)
    head = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + struct.pack(
        "<HHIQQQIHHHHHH", 3, 62, 1, 0, 64, 0, 0, 64, 56, 3, 64, 0, 0)
    ph = struct.pack("<IIQQQQQQ", elfdeps.PT_LOAD, 5, 0, vaddr, vaddr, size, size, 4096)
    ph += struct.pack("<IIQQQQQQ", elfdeps.PT_INTERP if interp else 0, 4, interp_off,
                      vaddr + interp_off, 0, len(interp_b), len(interp_b), 1)
    ph += struct.pack("<IIQQQQQQ", elfdeps.PT_DYNAMIC, 6, dyn_off, vaddr + dyn_off, 0,
                      len(dyn), len(dyn), 8)
    body = head + ph + interp_b + strtab
    return body + b"\0" * (dyn_off - len(body)) + dyn


class Libraries(unittest.TestCase):
    def test_read_elf(self):
        data = elf("/lib64/ld.so", ["liba.so", "libc.so"], "$ORIGIN/x")
        self.assertEqual(elfdeps.read_elf(data), ("/lib64/ld.so", ["liba.so", "libc.so"],
                                                  ["$ORIGIN/x"]))

    def test_resolve_stays_in_the_root(self):
        with tempfile.TemporaryDirectory() as root:
            os.makedirs(root + "/usr/lib")
            os.symlink("usr/lib", root + "/lib")
            os.symlink("/lib/real", root + "/usr/lib/abs")
            os.symlink("../../../../../lib/real", root + "/usr/lib/up")
            self.assertEqual(elfdeps.resolve(root, "/lib/abs"), "/usr/lib/real")
            self.assertEqual(elfdeps.resolve(root, "/lib/up"), "/usr/lib/real")

    def test_closure(self):
        with tempfile.TemporaryDirectory() as root:
            for d in ("usr/lib/sd", "usr/lib/x86", "usr/lib64", "etc/ld.so.conf.d"):
                os.makedirs(root + "/" + d)
            os.symlink("usr/lib", root + "/lib")
            os.symlink("usr/lib64", root + "/lib64")
            Path(root + "/etc/ld.so.conf.d/x86.conf").write_text("# arch\n/lib/x86\n")
            files = {
                "usr/lib/sd/init": elf("/lib64/ld.so", ["libcore.so", "libshared.so", "libc.so"],
                                       "/usr/lib/sd"),
                # No RUNPATH: finds libshared.so because init loaded it.
                "usr/lib/sd/libcore.so": elf(needed=["libshared.so", "libc.so"]),
                "usr/lib/sd/libshared.so": elf(needed=["libc.so"]),
                "usr/lib/x86/libc.so": elf(needed=["ld.so"]),
                "usr/lib/x86/ld.so": elf(),
            }
            for p, data in files.items():
                Path(root + "/" + p).write_bytes(data)
            os.symlink("../lib/x86/ld.so", root + "/usr/lib64/ld.so")
            self.assertEqual(elfdeps.closure(root, ["/lib/sd/init"]), [
                "/usr/lib/sd/init", "/usr/lib/x86/ld.so", "/usr/lib/sd/libcore.so",
                "/usr/lib/sd/libshared.so", "/usr/lib/x86/libc.so"])
            Path(root + "/usr/lib/sd/libshared.so").write_bytes(elf(needed=["libmissing.so"]))
            with self.assertRaises(FileNotFoundError):
                elfdeps.closure(root, ["/lib/sd/init"])


class Mirror(unittest.TestCase):
    def test_first_deb_stanza(self):
        with tempfile.NamedTemporaryFile("w", suffix=".sources") as f:
            f.write("Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\n\n"
                    "Types: deb\n# a comment\nURIs: http://one.example/debian "
                    "http://two.example/debian\nSuites: bookworm\n")
            f.flush()
            self.assertEqual(debroot.mirror(Path(f.name)), "http://one.example/debian")


if __name__ == "__main__":
    unittest.main()
