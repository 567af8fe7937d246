"""Host tests of the peers' generated configuration (inittab, run
scripts, stages) and of the shared-library closure (debs.py)."""

import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))
import debs  # noqa: E402
import init_busybox  # noqa: E402
import inits as I  # noqa: E402
import workloads as W  # noqa: E402

# Words that need quoting: a blank, both quotes, a shell character.
AWKWARD = ["/usr/bin/stamp", "/bench/out/a b", "it's", 'say "hi"', "$HOME", ""]


def workload(oneshot="/bench/start.sh"):
    return W.Workload("w", "start", [W.Service("plain", ["/usr/bin/stamp", "/x", "plain"]),
                                     W.Service("odd", AWKWARD)], oneshot=oneshot)


def sh_words(line):
    """What a POSIX shell makes of `line` as a command's arguments."""
    out = subprocess.run(["sh", "-c", "printf '%s\\0' " + line], capture_output=True,
                         text=True, check=True).stdout
    return out.split("\0")[:-1]


class Quoting(unittest.TestCase):
    def test_the_shell_gets_the_words_back(self):
        self.assertEqual(sh_words(I.command(AWKWARD)), AWKWARD)

    def test_plain_words_stay_plain(self):
        # busybox init execs these itself, splitting at blanks.
        self.assertEqual(init_busybox.entry(["/usr/bin/crashloop", "/l", "7:/bench/end.sh"]),
                         "/usr/bin/crashloop /l 7:/bench/end.sh")

    def test_inittab_refuses_a_hash(self):
        with self.assertRaises(ValueError):
            init_busybox.entry(["/bin/echo", "#1"])


class Busybox(unittest.TestCase):
    def test_inittab(self):
        files = I.INITS["busybox"]().files(workload())
        tab, mode = files["/etc/inittab"]
        self.assertEqual(mode, 0o644)
        lines = tab.splitlines()
        self.assertEqual(lines[1:], [
            "::sysinit:/etc/init.d/rcS",
            "::respawn:/usr/bin/stamp /x plain",
            "::respawn:" + I.command(AWKWARD),
            "::once:/bin/sh /bench/start.sh"])
        self.assertEqual(sh_words(lines[3][len("::respawn:"):]), AWKWARD)
        rcs, mode = files["/etc/init.d/rcS"]
        self.assertEqual(mode, 0o755)
        self.assertIn("mount -t devtmpfs", rcs)

    def test_no_oneshot(self):
        tab = I.INITS["busybox"]().files(workload(None))["/etc/inittab"][0]
        self.assertNotIn("once", tab)


class Runit(unittest.TestCase):
    def test_stages_and_services(self):
        files = I.INITS["runit"]().files(workload())
        self.assertIn("mount -t proc", files["/etc/runit/1"][0])
        two = files["/etc/runit/2"][0].splitlines()
        self.assertEqual(two[-2:], ["/bin/sh /bench/start.sh &", "exec runsvdir -P /etc/service"])
        self.assertIn("killall -TERM runsv", files["/etc/runit/3"][0])
        run, mode = files["/etc/service/odd/run"]
        self.assertEqual(mode, 0o755)
        self.assertEqual(run.splitlines()[0], "#!/bin/sh")
        self.assertEqual(sh_words(run.splitlines()[1][len("exec "):]), AWKWARD)
        self.assertEqual(files["/etc/service/plain/run"][0],
                         "#!/bin/sh\nexec /usr/bin/stamp /x plain\n")
        self.assertTrue(all(m == 0o755 for _, m in files.values()))

    def test_no_oneshot(self):
        two = I.INITS["runit"]().files(workload(None))["/etc/runit/2"][0]
        self.assertNotIn("&", two)


class S6(unittest.TestCase):
    def test_stage_1_and_services(self):
        files = I.INITS["s6"]().files(workload())
        init = files["/init"][0].splitlines()
        self.assertIn("mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs /run", init)
        self.assertEqual(init[-3:], ["cp -a /etc/s6/service /run/service",
                                     "/bin/sh /bench/start.sh &",
                                     "exec s6-svscan /run/service"])
        run = files["/etc/s6/service/odd/run"][0].splitlines()
        self.assertEqual(sh_words(run[1][len("exec "):]), AWKWARD)

    def test_no_oneshot(self):
        init = I.INITS["s6"]().files(workload(None))["/init"][0]
        self.assertNotIn("&", init)


class Closure(unittest.TestCase):
    """On the host's own /bin/ls (dynamically linked on Debian)."""

    def test_needed_matches_readelf(self):
        if not shutil.which("readelf"):
            self.skipTest("no readelf")
        out = subprocess.run(["readelf", "-dlW", "/bin/ls"], capture_output=True,
                             text=True, check=True).stdout
        needed = [l.split("[", 1)[1].rstrip("]") for l in out.splitlines() if "(NEEDED)" in l]
        interp = [l.split(": ", 1)[1].rstrip("]") for l in out.splitlines()
                  if "program interpreter" in l]
        self.assertEqual(debs.elf("/bin/ls"), (interp[0], needed))

    def test_closure_matches_ldd(self):
        if not shutil.which("ldd"):
            self.skipTest("no ldd")
        files = debs.closure("x86_64", {"/bin/ls": Path("/bin/ls")}, [Path("/")])
        out = subprocess.run(["ldd", "/bin/ls"], capture_output=True, text=True,
                             check=True).stdout
        # `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)`, and the
        # loader at its own path; linux-vdso is the kernel's.
        ldd = {l.split()[2] if "=>" in l else l.split()[0]
               for l in out.splitlines() if "vdso" not in l}
        self.assertEqual(set(files) - {"/bin/ls"}, ldd)
        self.assertTrue(all(Path(h).is_file() and not Path(h).is_symlink()
                            for h in files.values()))

    def test_a_static_binary_needs_nothing(self):
        busybox = HERE.parents[2] / "target" / "qemu" / "x86_64" / "busybox"
        if not busybox.is_file():
            self.skipTest("no busybox fetched")
        self.assertEqual(debs.elf(busybox), (None, []))

    def test_symlinks_resolve_inside_the_tree(self):
        with tempfile.TemporaryDirectory() as tmp:
            t = Path(tmp)
            (t / "lib" / "x").mkdir(parents=True)
            (t / "lib" / "x" / "real.so.1.2").write_bytes(b"")
            (t / "lib" / "x" / "real.so.1").symlink_to("real.so.1.2")
            (t / "lib64").mkdir()
            (t / "lib64" / "ld.so").symlink_to("/lib/x/real.so.1")
            self.assertEqual(debs.inside(t, "/lib64/ld.so"), t / "lib" / "x" / "real.so.1.2")
            self.assertIsNone(debs.inside(t, "/lib/x/missing.so"))


if __name__ == "__main__":
    unittest.main()
