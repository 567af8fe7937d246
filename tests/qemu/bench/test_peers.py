"""Host tests of the shared-library closure (debs.py)."""

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
