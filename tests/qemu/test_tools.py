"""Unit tests of the QEMU test tools (no QEMU, no network):

    python3 -m unittest discover -s tests/qemu -p 'test_*.py'
"""

import contextlib
import io
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fetch  # noqa: E402
import harness  # noqa: E402
import image  # noqa: E402
import qemu  # noqa: E402


def read_newc(data):
    """A minimal newc reader: [(name, mode, nlink, rdev, body)]."""
    out = []
    pos = 0
    while True:
        hdr = data[pos:pos + 110]
        assert hdr[:6] == b"070701", hdr[:6]
        f = [int(hdr[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
        ino, mode, nlink, size, rmaj, rmin, namesize = f[0], f[1], f[4], f[6], f[9], f[10], f[11]
        name = data[pos + 110:pos + 110 + namesize - 1].decode()
        pos += 110 + namesize
        pos += -pos % 4
        body = data[pos:pos + size]
        pos += size
        pos += -pos % 4
        if name == "TRAILER!!!":
            return out
        out.append((name, mode, nlink, (rmaj, rmin), body, ino))


class ListParsing(unittest.TestCase):
    def test_every_kind(self):
        text = """
# a comment
dir /dev 0755 0 0
  # indented comment
file /sbin/init ${PINIT} 0755 0 0
file /bin/a /src/a 0644 1 2 /bin/b /bin/c
slink /init /sbin/init 0777 0 0
nod /dev/null 0666 0 0 c 1 3
nod /dev/sda 0660 0 6 b 8 0
pipe /run/fifo 0600 0 0
sock /run/sock 0600 0 0
"""
        es = image.parse_list(text, {"PINIT": "/x/pinit"})
        self.assertEqual([e.kind for e in es],
                         ["dir", "file", "file", "slink", "nod", "nod", "pipe", "sock"])
        self.assertEqual(es[1].source, "/x/pinit")
        self.assertEqual(es[1].mode, 0o755)
        self.assertEqual((es[2].uid, es[2].gid, es[2].links), (1, 2, ["/bin/b", "/bin/c"]))
        self.assertEqual(es[3].source, "/sbin/init")
        self.assertEqual((es[4].devtype, es[4].dev), ("c", (1, 3)))
        self.assertEqual(es[5].type_bits(), stat.S_IFBLK)

    def test_errors_name_file_and_line(self):
        cases = [
            ("dir /a 0755 0", "'dir' takes 4 fields, got 3"),
            ("dir /a 0755 0 0 extra", "'dir' takes 4 fields, got 5"),
            ("dri /a 0755 0 0", "unknown entry type 'dri'"),
            ("dir /a 0958 0 0", "mode '0958' is not octal"),
            ("dir /a 0755 x 0", "uid 'x' is not a number"),
            ("file /a ${NOPE} 0644 0 0", "${NOPE} is not set"),
            ("nod /a 0644 0 0 x 1 2", "device type 'x' is not b or c"),
            ("dir /a/../b 0755 0 0", "'..' in"),
        ]
        for line, msg in cases:
            with self.assertRaises(image.ListError) as cm:
                image.parse_list("# first\n" + line, {}, "r.list")
            self.assertIn("r.list:2: error: ", str(cm.exception))
            self.assertIn(msg, str(cm.exception))

    def test_env_expansion_is_gen_init_cpio_style(self):
        es = image.parse_list("file /a ${D}/x-${N} 0644 0 0", {"D": "/d", "N": "1"})
        self.assertEqual(es[0].source, "/d/x-1")
        # $VAR without braces is left alone, as gen_init_cpio does.
        es = image.parse_list("file /a $D/x 0644 0 0", {"D": "/d"})
        self.assertEqual(es[0].source, "$D/x")

    def test_normalize(self):
        self.assertEqual(image.normalize("a//b/"), "/a/b")
        self.assertEqual(image.normalize("/"), "/")
        self.assertEqual(image.normalize("./a/./b"), "/a/b")

    def test_default_list_parses_and_has_no_console(self):
        root = Path(__file__).resolve().parents[2]
        es = image.parse_list((root / "initramfs" / "default.list").read_text(),
                              {"PINIT": "p", "BUSYBOX": "b"})
        names = {e.name: e for e in es}
        # pinit comes from make install (qemu.install_pinit), not the list.
        self.assertNotIn("/sbin/init", names)
        self.assertEqual(names["/bin/busybox"].source, "b")
        self.assertNotIn("/dev/console", names)
        self.assertFalse(any(e.kind == "nod" for e in es))


class Images(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = Path(self.tmp.name)
        (self.dir / "pinit").write_bytes(b"PINIT")
        (self.dir / "busybox").write_bytes(b"BUSYBOX")
        os.chmod(self.dir / "pinit", 0o755)

    def tearDown(self):
        self.tmp.cleanup()

    def build(self, list_text, applets=(), config=None, overlays=(), compress=False, root=None):
        lst = self.dir / "x.list"
        lst.write_text(list_text)
        out = self.dir / "out.cpio"
        env = {"PINIT": str(self.dir / "pinit"), "BUSYBOX": str(self.dir / "busybox")}
        image.build(out, lst, env, applets, config, overlays, compress, root)
        data = out.read_bytes()
        if compress:
            import gzip
            data = gzip.decompress(data)
        self.assertEqual(len(out.read_bytes()) % 512 if not compress else 0, 0)
        return {e[0]: e for e in read_newc(data)}, read_newc(data)

    def test_applets_never_over_sbin_init_nor_list_entries(self):
        lst = ("file /sbin/init ${PINIT} 0755 0 0\n"
               "file /bin/busybox ${BUSYBOX} 0755 0 0\n"
               "slink /sbin/poweroff /sbin/init 0777 0 0\n")
        m, _ = self.build(lst, applets=["sbin/init", "bin/ls", "sbin/poweroff", "linuxrc",
                                        "bin/busybox"])
        self.assertEqual(m["sbin/init"][4], b"PINIT")
        self.assertEqual(m["sbin/poweroff"][4], b"/sbin/init")
        self.assertEqual(m["bin/ls"][4], b"/bin/busybox")
        self.assertEqual(stat.S_IFMT(m["bin/ls"][1]), stat.S_IFLNK)
        self.assertEqual(m["linuxrc"][4], b"/bin/busybox")
        self.assertEqual(m["bin/busybox"][4], b"BUSYBOX")

    def test_parents_come_first_and_modes_are_kept(self):
        m, entries = self.build("dir /tmp 1777 0 0\nfile /usr/lib/x/y ${PINIT} 0700 0 0\n"
                                "nod /dev/null 0666 0 0 c 1 3\n")
        names = [e[0] for e in entries]
        self.assertLess(names.index("usr"), names.index("usr/lib"))
        self.assertLess(names.index("usr/lib/x"), names.index("usr/lib/x/y"))
        self.assertEqual(m["tmp"][1], stat.S_IFDIR | 0o1777)
        self.assertEqual(m["usr/lib/x/y"][1], stat.S_IFREG | 0o700)
        self.assertEqual(m["usr/lib"][1], stat.S_IFDIR | 0o755)
        self.assertEqual(m["dev/null"][1], stat.S_IFCHR | 0o666)
        self.assertEqual(m["dev/null"][3], (1, 3))

    def test_config_and_overlays_override_in_order(self):
        conf = self.dir / "board.conf"
        conf.write_text("hostname demo\n")
        o1 = self.dir / "o1"
        o2 = self.dir / "o2"
        (o1 / "etc").mkdir(parents=True)
        (o2 / "etc").mkdir(parents=True)
        (o1 / "etc" / "profile").write_text("one")
        (o1 / "etc" / "pinit.conf").write_text("from overlay")
        (o2 / "etc" / "profile").write_text("two")
        (o2 / "run.sh").write_text("#!/bin/sh\n")
        os.chmod(o2 / "run.sh", 0o750)
        os.symlink("/bin/busybox", o2 / "sh")
        os.mkdir(o2 / "secret", 0o700)
        os.chmod(o2 / "secret", 0o700)
        m, _ = self.build("file /etc/profile ${PINIT} 0644 0 0\n", config=conf,
                          overlays=[o1, o2])
        self.assertEqual(m["etc/profile"][4], b"two")
        self.assertEqual(m["etc/pinit.conf"][4], b"from overlay")
        self.assertEqual(m["run.sh"][1], stat.S_IFREG | 0o750)
        self.assertEqual(m["sh"][4], b"/bin/busybox")
        self.assertEqual(m["secret"][1], stat.S_IFDIR | 0o700)

    def test_config_lands_in_etc(self):
        conf = self.dir / "board.conf"
        conf.write_text("hostname demo\n")
        os.chmod(conf, 0o600)
        m, _ = self.build("", config=conf)
        self.assertEqual(m["etc/pinit.conf"][4], b"hostname demo\n")
        self.assertEqual(m["etc/pinit.conf"][1], stat.S_IFREG | 0o644)

    def test_hard_links_carry_data_on_the_last(self):
        _, entries = self.build("file /a ${PINIT} 0755 0 0 /b /c\n")
        files = [e for e in entries if e[0] in ("a", "b", "c")]
        self.assertEqual([e[2] for e in files], [3, 3, 3])
        self.assertEqual(len({e[5] for e in files}), 1)
        self.assertEqual([e[4] for e in files], [b"", b"", b"PINIT"])

    def test_gzip(self):
        m, _ = self.build("file /sbin/init ${PINIT} 0755 0 0\n", compress=True)
        self.assertEqual(m["sbin/init"][4], b"PINIT")

    def test_staged_make_install_in_the_image(self):
        """The boot tool's image: pinit from `make install DESTDIR=`, then
        busybox's applets where pinit put no link."""
        root = qemu.install_pinit(self.dir / "pinit", self.dir / "root")
        lst = "file /bin/busybox ${BUSYBOX} 0755 0 0\n"
        m, _ = self.build(lst, applets=["sbin/init", "sbin/poweroff", "sbin/reboot", "bin/ls"],
                          root=root)
        self.assertEqual(m["sbin/pinit"][4], b"PINIT")
        self.assertEqual(m["sbin/pinit"][1], stat.S_IFREG | 0o755)
        for name, target in [("sbin/init", b"pinit"), ("init", b"sbin/init"),
                             ("bin/pinit", b"../sbin/pinit"), ("sbin/telinit", b"pinit"),
                             ("sbin/poweroff", b"/bin/busybox"),
                             ("sbin/reboot", b"/bin/busybox")]:
            self.assertEqual(stat.S_IFMT(m[name][1]), stat.S_IFLNK, name)
            self.assertEqual(m[name][4], target, name)
        self.assertNotIn("etc/pinit.conf", m)
        self.assertFalse(any(n.startswith("usr/share/man") for n in m))

    def test_missing_source_is_an_error(self):
        with self.assertRaises(OSError):
            self.build("file /x /nonexistent/file 0644 0 0\n")


class Boot(unittest.TestCase):
    def test_numa_split(self):
        a = qemu.numa_args(2, 4, 256)
        self.assertEqual(a, ["-object", "memory-backend-ram,id=m0,size=128M",
                             "-numa", "node,nodeid=0,memdev=m0,cpus=0-1",
                             "-object", "memory-backend-ram,id=m1,size=128M",
                             "-numa", "node,nodeid=1,memdev=m1,cpus=2-3"])
        a = qemu.numa_args(3, 4, 301)
        sizes = [int(x.split("size=")[1][:-1]) for x in a if "size=" in x]
        self.assertEqual(sum(sizes), 301)
        self.assertIn("node,nodeid=0,memdev=m0,cpus=0-1", a)
        self.assertIn("node,nodeid=2,memdev=m2,cpus=3-3", a)
        # More nodes than CPUs: memory-only nodes.
        self.assertIn("node,nodeid=1,memdev=m1", qemu.numa_args(2, 1, 256))

    def test_command_line(self):
        cmd = qemu.qemu_command("aarch64", "/k", "/i", "pinit.rescue", smp=2, mem=512)
        self.assertEqual(cmd[0], "qemu-system-aarch64")
        self.assertIn("tcg", cmd)
        self.assertIn("-no-reboot", cmd)
        self.assertEqual(cmd[cmd.index("-append") + 1], "console=ttyAMA0 panic=-1 pinit.rescue")
        self.assertEqual(cmd[cmd.index("-smp") + 1], "2")
        self.assertEqual(cmd[cmd.index("-m") + 1], "512M")
        cmd = qemu.qemu_command("x86_64", "/k", "/i")
        self.assertEqual(cmd[cmd.index("-append") + 1], "console=ttyS0 panic=-1 no_timer_check")
        self.assertNotIn("-icount", cmd)
        cmd = qemu.qemu_command("x86_64", "/k", "/i", icount=0)
        self.assertEqual(cmd[cmd.index("-icount") + 1], "shift=0,sleep=off")

    def test_command_line_32bit_and_riscv(self):
        cmd = qemu.qemu_command("armv7", "/k", "/i")
        self.assertEqual(cmd[0], "qemu-system-arm")
        self.assertEqual(cmd[cmd.index("-cpu") + 1], "cortex-a15")
        self.assertEqual(cmd[cmd.index("-append") + 1], "console=ttyAMA0 panic=-1")
        cmd = qemu.qemu_command("riscv64", "/k", "/i")
        self.assertEqual(cmd[0], "qemu-system-riscv64")
        self.assertEqual(cmd[cmd.index("-bios") + 1], "default")
        self.assertEqual(cmd[cmd.index("-append") + 1], "console=ttyS0 panic=-1")

    def test_no_rng_seed(self):
        for arch, machine in (("aarch64", "virt"), ("armv7", "virt,highmem=off")):
            cmd = qemu.qemu_command(arch, "/k", "/i", rng_seed=False)
            self.assertEqual(cmd[cmd.index("-machine") + 1], machine + ",dtb-randomness=off")
            cmd = qemu.qemu_command(arch, "/k", "/i")
            self.assertEqual(cmd[cmd.index("-machine") + 1], machine)
        # riscv64's virt has no such property: QEMU would refuse to start.
        cmd = qemu.qemu_command("riscv64", "/k", "/i", rng_seed=False)
        self.assertEqual(cmd[cmd.index("-machine") + 1], "virt")
        cmd = qemu.qemu_command("x86_64", "/k", "/i", rng_seed=False)
        self.assertEqual(cmd[cmd.index("-machine") + 1], "pc")

    def test_disks(self):
        cmd = qemu.qemu_command("x86_64", "/k", "/i", disks=["/d/a.img", "/d/b,c.img"])
        self.assertEqual(cmd[-8:], ["-drive", "file=/d/a.img,format=raw,if=none,id=disk0",
                                    "-device", "nvme,serial=pinit0,drive=disk0",
                                    "-drive", "file=/d/b,,c.img,format=raw,if=none,id=disk1",
                                    "-device", "nvme,serial=pinit1,drive=disk1"])
        self.assertIn("nvme,serial=pinit0,drive=disk0",
                      qemu.qemu_command("aarch64", "/k", "/i", disks=["/a"]))
        self.assertIn("virtio-blk-device,drive=disk0",
                      qemu.qemu_command("armv7", "/k", "/i", disks=["/a"]))
        self.assertIn("virtio-blk-pci,drive=disk0",
                      qemu.qemu_command("riscv64", "/k", "/i", disks=["/a"]))
        self.assertNotIn("-drive", qemu.qemu_command("x86_64", "/k", "/i"))
        self.assertEqual([qemu.ARCHES[a].disk_dev() for a in ("x86_64", "aarch64", "armv7", "riscv64")],
                         ["/dev/nvme0n1", "/dev/nvme0n1", "/dev/vda", "/dev/vda"])
        self.assertEqual(qemu.ARCHES["riscv64"].disk_dev(1), "/dev/vdb")

    def test_disk_overlay_loads_modules_in_order_then_pinit(self):
        with tempfile.TemporaryDirectory() as d:
            mods = Path(d) / "modules"
            mods.mkdir()
            for n in ("crc16", "ext4"):
                (mods / (n + ".ko")).write_bytes(b"\x7fELF" + n.encode())
            (mods / "order").write_text("crc16\next4\n")
            out = qemu.disk_overlay("riscv64", 2, mods, Path(d) / "o")
            load = (out / qemu.DISK_LOAD.lstrip("/")).read_text()
            self.assertLess(load.index("/lib/modules/pinit-disk/crc16.ko"),
                            load.index("/lib/modules/pinit-disk/ext4.ko"))
            self.assertEqual((out / "lib/modules/pinit-disk/ext4.ko").read_bytes(), b"\x7fELFext4")
            self.assertLess(load.index("ext4.ko"), load.index("[ ! -b /dev/vda ]"))
            self.assertLess(load.index("[ ! -b /dev/vda ]"), load.index("[ ! -b /dev/vdb ]"))
            init = (out / "init").read_text()
            self.assertTrue(init.startswith("#!/bin/sh\n"))
            self.assertIn("mount -t devtmpfs", init)
            self.assertIn(qemu.DISK_LOAD + "\nexec /sbin/init", init)
            self.assertTrue(os.stat(out / "init").st_mode & 0o111)
            # Built-in drivers: no modules, only the wait.
            out = qemu.disk_overlay("x86_64", 1, None, Path(d) / "p")
            load = (out / qemu.DISK_LOAD.lstrip("/")).read_text()
            self.assertNotIn("insmod", load)
            self.assertIn("[ ! -b /dev/nvme0n1 ]", load)

    def test_module_load_order(self):
        deps = {"ext4": ["mbcache", "jbd2", "crc16"], "jbd2": ["crc32c_generic"],
                "virtio_blk": [], "mbcache": [], "crc16": [], "crc32c_generic": []}
        self.assertEqual(fetch.load_order(["virtio_blk", "ext4"], deps.__getitem__),
                         ["virtio_blk", "mbcache", "crc32c_generic", "jbd2", "crc16", "ext4"])
        with self.assertRaises(fetch.FetchError):
            fetch.load_order(["a"], {"a": ["b"], "b": ["a"]}.__getitem__)
        elf = b"\x7fELF\0\0license=GPL\0depends=jbd2,mbcache,crc16\0vermagic=6.1\0"
        self.assertEqual(fetch.modinfo_depends(elf), ["jbd2", "mbcache", "crc16"])
        self.assertEqual(fetch.modinfo_depends(b"\0depends=\0name=x\0"), [])
        self.assertEqual(fetch.modinfo_depends(b"\0name=virtio-blk\0"), [])

    def test_apt_commands_are_tried_again_after_a_failure(self):
        # Fails twice (a mirror being synced), then works: two waits.
        with tempfile.TemporaryDirectory() as d:
            n = Path(d) / "n"
            cmd = ["sh", "-c", 'echo x >> %s; [ $(wc -l < %s) -ge 3 ] || '
                   '{ echo "File has unexpected size"; exit 100; }; echo ok' % (n, n)]
            slept, updates = [], []
            with contextlib.redirect_stderr(io.StringIO()):
                out = fetch.run_apt(cmd, waits=(5, 7, 9), sleep=slept.append,
                                    again=lambda: updates.append(len(slept)))
            # The index is updated after each wait, before the next try.
            self.assertEqual((out, slept, updates), ("ok\n", [5, 7], [1, 2]))
            # Never works: every wait, then the last failure.
            slept = []
            with contextlib.redirect_stderr(io.StringIO()):
                with self.assertRaises(fetch.FetchError) as e:
                    fetch.run_apt(["sh", "-c", "echo gone; exit 100"], waits=(1, 2),
                                  sleep=slept.append)
            self.assertEqual(slept, [1, 2])
            self.assertIn("gone", str(e.exception))

    def test_a_failed_apt_update_is_reported_and_not_fatal(self):
        # A mirror mid-sync fails one index file for hours; the downloads
        # that follow decide, so update reports the failure and goes on.
        with tempfile.TemporaryDirectory() as d:
            apt = Path(d) / "apt-get"
            apt.write_text("#!/bin/sh\necho 'Err:4 http://m/ armhf Packages'\n"
                           "echo 'E: Some index files failed to download.'\nexit 100\n")
            apt.chmod(0o755)
            path = os.environ["PATH"]
            os.environ["PATH"] = "%s:%s" % (d, path)
            err = io.StringIO()
            try:
                with contextlib.redirect_stderr(err):
                    self.assertFalse(fetch.update())
            finally:
                os.environ["PATH"] = path
            self.assertIn("E: Some index files failed to download.", err.getvalue())
            self.assertIn("Err:4 http://m/ armhf Packages", err.getvalue())

    @unittest.skipUnless(shutil.which("mkfs.ext4") and shutil.which("debugfs"),
                         "needs e2fsprogs")
    def test_make_disk(self):
        with tempfile.TemporaryDirectory() as d:
            img = qemu.make_disk(Path(d) / "x.img", 8, {"/etc/fstab": "# empty\n",
                                                        "/data/s": (b"\x01\x02", 0o600)},
                                 uuid="0f0e0d0c-0b0a-4908-8706-050403020100", label="pinit")
            self.assertEqual(img.stat().st_size, 8 << 20)
            p = subprocess.run(["debugfs", "-R", "stat /data/s", str(img)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            self.assertIn("Mode:  0600", p.stdout)
            self.assertIn("User:     0", p.stdout)
            p = subprocess.run(["dumpe2fs", "-h", str(img)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
            self.assertIn("0f0e0d0c-0b0a-4908-8706-050403020100", p.stdout)
            self.assertIn("Filesystem volume name:   pinit", p.stdout)

    def test_private_apt_sources(self):
        host = ("Types: deb\nURIs: http://mirror.example/debian\n"
                "Suites: bookworm bookworm-updates\nComponents: main\n"
                "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
                "Types: deb\nURIs: http://mirror.example/debian-security\n"
                "Suites: bookworm-security\nComponents: main\n\n"
                "Types: deb\nURIs: http://mirror.example/debian\n"
                "Suites: bookworm-backports\nComponents: main\n")
        out = fetch.private_sources(host, "bookworm", "trixie")
        self.assertEqual(out.count("Types: deb"), 2)
        self.assertIn("Suites: trixie trixie-updates\n", out)
        self.assertIn("Suites: trixie-security\n", out)
        self.assertNotIn("backports", out)
        self.assertNotIn("bookworm", out)
        self.assertIn("URIs: http://mirror.example/debian\n", out)
        self.assertIn("Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg", out)
        # The same suite: the host's stanzas as they are, backports aside.
        self.assertIn("Suites: bookworm bookworm-updates\n",
                      fetch.private_sources(host, "bookworm", "bookworm"))
        self.assertEqual(fetch.private_sources("Suites: sid\n", "bookworm", "trixie"), "")

    def test_foreign_package_names(self):
        self.assertEqual(fetch.qualify("busybox-static", "amd64"), "busybox-static")
        self.assertEqual(fetch.qualify("busybox-static", "arm64"), "busybox-static:arm64")
        # The private apt has its one architecture: no qualifier.
        self.assertEqual(fetch.qualify("busybox-static", "armhf"), "busybox-static")
        self.assertEqual(fetch.qualify("busybox-static", "riscv64"), "busybox-static")

    def test_exit_codes_from_the_console(self):
        def code(*chunks):
            s = qemu.Scanner()
            for c in chunks:
                s.feed(c)
            return qemu.classify(s, 0), s.halted
        self.assertEqual(code(b"[ 7.0] reboot: Power down\r\n"), (0, False))
        self.assertEqual(code(b"[ 7.0] reboot: Resta", b"rting system\r\n"), (3, False))
        self.assertEqual(code(b"Kernel panic - not syncing: Attempted to kill init!\r\n"
                              b"reboot: Restarting system\r\n"), (4, False))
        self.assertEqual(code(b"reboot: System halted\r\n"), (1, True))
        self.assertEqual(code(b"nothing\r\n"), (1, False))

    def test_parse_depends(self):
        self.assertEqual(fetch.parse_depends("linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)"),
                         ("linux-image-6.1.0-56-cloud-amd64", "6.1.192-2"))
        self.assertEqual(fetch.parse_depends("linux-image-6.12.9+bpo-cloud-arm64-unsigned "
                                             "(= 6.12.9-1~bpo12+1), other"),
                         ("linux-image-6.12.9+bpo-cloud-arm64-unsigned", "6.12.9-1~bpo12+1"))
        self.assertEqual(fetch.parse_depends("foo"), ("foo", None))

    def test_match_groups_are_text(self):
        g = qemu.Guest.__new__(qemu.Guest)
        g.log = b"x\r\nRSS 64\r\n"
        m = qemu.Guest.search(g, r"RSS (\d+)\r?\n")
        self.assertEqual(m.group(1), "64")


class Outcomes(unittest.TestCase):
    """XFAIL marks: a marked case that fails is expected, one that passes
    fails the run (XPASS), so the mark goes with the fix."""

    def outcome(self, body):
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "0999-mark.py"
            path.write_text(body)
            r = harness.run_case(path, "x86_64", None)
            return r.outcome, r.ok, r.error

    def test_plain_pass_and_fail(self):
        self.assertEqual(self.outcome("def run(t):\n    pass\n")[:2], ("PASS", True))
        out, ok, err = self.outcome("def run(t):\n    t.check(False, 'broken')\n")
        self.assertEqual((out, ok, err), ("FAIL", False, "broken"))

    def test_marked_failure_is_expected(self):
        out, ok, err = self.outcome("XFAIL = 'issue 13 point 2'\n"
                                    "def run(t):\n    t.check(False, 'no cgroup2')\n")
        self.assertEqual((out, ok, err), ("XFAIL", True, "no cgroup2"))
        # A crash of the case itself is a failure too, and still expected.
        out, ok, _ = self.outcome("XFAIL = 'x'\ndef run(t):\n    1 / 0\n")
        self.assertEqual((out, ok), ("XFAIL", True))

    def test_marked_pass_fails_the_run(self):
        out, ok, err = self.outcome("XFAIL = 'issue 13 point 2'\ndef run(t):\n    pass\n")
        self.assertEqual((out, ok), ("XPASS", False))
        self.assertIn("remove the mark", err)


if __name__ == "__main__":
    unittest.main()
